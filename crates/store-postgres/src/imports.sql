-- newsdesk PostgreSQL schema: imports from other systems (as SQLite's `imports` migration).
-- Which items were imported, and what they became: a story or a static page.
CREATE TABLE imported_items (
  source TEXT NOT NULL,
  source_id TEXT NOT NULL,
  story_id BIGINT REFERENCES stories(id),
  page_slug TEXT,
  imported_at BIGINT NOT NULL,
  PRIMARY KEY (source, source_id)
);
-- Old addresses of imported items: the reader site answers them with a 301 before its 404.
CREATE TABLE old_url_redirects (
  path TEXT PRIMARY KEY,
  story_id BIGINT REFERENCES stories(id),
  page_slug TEXT
);
