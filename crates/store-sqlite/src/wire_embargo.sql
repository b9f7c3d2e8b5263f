-- newsdesk SQLite schema, version 12: agency embargoes (UTC milliseconds; NULL = none). An
-- item's is also in its JSON; the column lets a cluster keep the latest of its usable items'.
ALTER TABLE wire_items ADD COLUMN embargo INTEGER;
ALTER TABLE wire_clusters ADD COLUMN embargo INTEGER;
