-- newsdesk SQLite schema: the feedback desk and outgoing webhooks. Plain SQL (no SQLite-only
-- functions), to be ported to PostgreSQL as it is.
CREATE TABLE feedback (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  message TEXT NOT NULL,
  page TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('new', 'answered', 'spam')),
  received_at INTEGER NOT NULL,
  reply TEXT,
  replied_by INTEGER REFERENCES users(id),
  replied_at INTEGER
);
CREATE INDEX feedback_by_status ON feedback(status, id);

CREATE TABLE webhooks (
  id INTEGER PRIMARY KEY,
  url TEXT NOT NULL,
  -- Event names separated by spaces.
  events TEXT NOT NULL,
  secret TEXT NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
  id INTEGER PRIMARY KEY,
  hook_id INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  event_key TEXT NOT NULL,
  event TEXT NOT NULL,
  body TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  last_at INTEGER,
  last_status INTEGER,
  last_excerpt TEXT,
  UNIQUE (hook_id, event_key)
);
CREATE INDEX webhook_deliveries_by_hook ON webhook_deliveries(hook_id, id);
