-- newsdesk SQLite schema, version 11: a source's own CA certificates (PEM) for its HTTPS feed.
ALTER TABLE wire_sources ADD COLUMN ca_pem TEXT;
