-- newsdesk SQLite schema, version 5: the video of a short.
ALTER TABLE stories ADD COLUMN video TEXT;
