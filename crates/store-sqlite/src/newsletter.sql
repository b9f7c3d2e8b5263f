-- newsdesk SQLite schema: the newsletter. Subscribers with their consent (double opt-in), their
-- editions and sectors, and digests with one send row per (digest, subscriber): the row is
-- committed as sent right after the SMTP server's 250, so a mail is sent once per recipient.
CREATE TABLE newsletter_subscribers (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'unsubscribed', 'suppressed')),
  frequency TEXT NOT NULL CHECK (frequency IN ('daily', 'weekly')),
  breaking INTEGER NOT NULL DEFAULT 0,
  nonce TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  confirm_sent_at INTEGER,
  confirmed_at INTEGER,
  consent_text TEXT NOT NULL DEFAULT '',
  consent_source TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX newsletter_subscribers_status ON newsletter_subscribers(status, frequency);
CREATE TABLE newsletter_subscriber_editions (
  subscriber_id INTEGER NOT NULL REFERENCES newsletter_subscribers(id) ON DELETE CASCADE,
  edition_id INTEGER NOT NULL,
  PRIMARY KEY (subscriber_id, edition_id)
);
CREATE INDEX newsletter_subscriber_editions_edition ON newsletter_subscriber_editions(edition_id, subscriber_id);
CREATE TABLE newsletter_subscriber_sectors (
  subscriber_id INTEGER NOT NULL REFERENCES newsletter_subscribers(id) ON DELETE CASCADE,
  sector_id INTEGER NOT NULL,
  PRIMARY KEY (subscriber_id, sector_id)
);
CREATE TABLE newsletter_digests (
  id INTEGER PRIMARY KEY,
  dkey TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  edition_id INTEGER NOT NULL,
  subject TEXT NOT NULL,
  stories TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  finished_at INTEGER
);
CREATE TABLE newsletter_sends (
  digest_id INTEGER NOT NULL REFERENCES newsletter_digests(id) ON DELETE CASCADE,
  subscriber_id INTEGER NOT NULL REFERENCES newsletter_subscribers(id) ON DELETE CASCADE,
  state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'skipped')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  done_at INTEGER,
  message_id TEXT,
  error TEXT,
  PRIMARY KEY (digest_id, subscriber_id)
);
CREATE INDEX newsletter_sends_due ON newsletter_sends(digest_id, state, next_at);
