-- newsdesk SQLite schema, version 7: agency sources and their health.
CREATE TABLE wire_sources (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  url TEXT,
  poll_minutes INTEGER NOT NULL,
  allow_loopback INTEGER NOT NULL DEFAULT 0,
  enabled INTEGER NOT NULL DEFAULT 1,
  push_token_hash TEXT,
  etag TEXT,
  last_modified TEXT,
  last_success_at INTEGER,
  last_error TEXT,
  last_error_at INTEGER,
  failures INTEGER NOT NULL DEFAULT 0,
  next_poll_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
