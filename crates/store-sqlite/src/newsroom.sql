-- newsdesk SQLite schema, version 2: accounts, sessions, revisions, corrections, audit log.
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  author_id INTEGER REFERENCES authors(id),
  created_at INTEGER NOT NULL
);
-- Sessions are found by the SHA-256 of the cookie token; the token itself is never stored.
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  csrf_token TEXT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions(user_id);
CREATE TABLE invitations (
  token_hash TEXT PRIMARY KEY,
  email TEXT NOT NULL,
  role TEXT NOT NULL,
  invited_by INTEGER REFERENCES users(id),
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);
ALTER TABLE stories ADD COLUMN created_by INTEGER REFERENCES users(id);
CREATE TABLE story_revisions (
  id INTEGER PRIMARY KEY,
  story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  by_user INTEGER REFERENCES users(id),
  at INTEGER NOT NULL,
  snapshot TEXT NOT NULL,
  UNIQUE (story_id, version)
);
CREATE TABLE corrections (
  id INTEGER PRIMARY KEY,
  story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
  wrong TEXT NOT NULL,
  right_text TEXT NOT NULL,
  at INTEGER NOT NULL,
  by_user INTEGER REFERENCES users(id)
);
CREATE INDEX corrections_by_story ON corrections(story_id);
CREATE INDEX corrections_by_time ON corrections(at);
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  user_id INTEGER REFERENCES users(id),
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  detail TEXT NOT NULL
);
