-- newsdesk SQLite schema, version 8: auto-publish rules of agency sources (JSON; NULL = off).
ALTER TABLE wire_sources ADD COLUMN auto_publish TEXT;
