-- newsdesk SQLite schema, version 9: a source's items counted by time (health page, items per
-- day) without scanning all its history.
CREATE INDEX wire_items_by_agency_time ON wire_items(agency, received_at);
