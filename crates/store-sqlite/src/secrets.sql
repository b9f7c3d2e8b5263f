-- newsdesk SQLite schema: secrets every node of the site shares, made once (insert-if-absent).
CREATE TABLE site_secrets (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
