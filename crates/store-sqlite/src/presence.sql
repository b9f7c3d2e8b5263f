-- newsdesk SQLite schema, version 3: who has a story open, and autosaved editor text.
CREATE TABLE story_presence (
  story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  seen_at INTEGER NOT NULL,
  PRIMARY KEY (story_id, user_id)
);
CREATE TABLE story_autosaves (
  story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  form TEXT NOT NULL,
  PRIMARY KEY (story_id, user_id)
);
