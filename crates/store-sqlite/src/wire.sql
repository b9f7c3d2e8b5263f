-- newsdesk SQLite schema, version 6: agency copy, clusters, lineage and flags.
CREATE TABLE wire_clusters (
  id INTEGER PRIMARY KEY,
  headline TEXT NOT NULL,
  summary TEXT NOT NULL DEFAULT '',
  summary_accepted INTEGER NOT NULL DEFAULT 0,
  urgency INTEGER,
  sector TEXT,
  editions TEXT NOT NULL DEFAULT '[]',
  agencies TEXT NOT NULL DEFAULT '[]',
  languages TEXT NOT NULL DEFAULT '[]',
  items INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX wire_clusters_by_time ON wire_clusters(updated_at);
CREATE TABLE wire_items (
  id INTEGER PRIMARY KEY,
  agency TEXT NOT NULL,
  agency_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  status TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  urgency INTEGER,
  language TEXT,
  item TEXT NOT NULL,
  cluster_id INTEGER NOT NULL REFERENCES wire_clusters(id),
  received_at INTEGER NOT NULL,
  sector TEXT,
  editions TEXT NOT NULL DEFAULT '[]',
  evidence TEXT NOT NULL DEFAULT '[]',
  UNIQUE (agency, agency_id)
);
CREATE INDEX wire_items_by_cluster ON wire_items(cluster_id);
CREATE INDEX wire_items_by_time ON wire_items(received_at);
CREATE TABLE story_lineage (
  story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
  item_id INTEGER NOT NULL REFERENCES wire_items(id),
  version INTEGER NOT NULL,
  PRIMARY KEY (story_id, item_id)
);
CREATE INDEX story_lineage_by_item ON story_lineage(item_id);
CREATE TABLE lineage_flags (
  id INTEGER PRIMARY KEY,
  story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
  item_id INTEGER NOT NULL REFERENCES wire_items(id),
  reason TEXT NOT NULL,
  at INTEGER NOT NULL,
  resolved_at INTEGER
);
