-- newsdesk SQLite schema, version 1. Times are Unix milliseconds, UTC.
CREATE TABLE sectors (
  id INTEGER PRIMARY KEY,
  slug TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  position INTEGER NOT NULL
);
CREATE TABLE editions (
  id INTEGER PRIMARY KEY,
  slug TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  tz TEXT NOT NULL,
  position INTEGER NOT NULL
);
CREATE TABLE desks (
  id INTEGER PRIMARY KEY,
  slug TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL
);
CREATE TABLE authors (
  id INTEGER PRIMARY KEY,
  slug TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  bio TEXT NOT NULL,
  desk_id INTEGER REFERENCES desks(id)
);
CREATE TABLE tags (
  id INTEGER PRIMARY KEY,
  slug TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL
);
CREATE TABLE images (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  ext TEXT NOT NULL,
  alt TEXT NOT NULL,
  caption TEXT NOT NULL,
  credit TEXT NOT NULL,
  width INTEGER NOT NULL,
  height INTEGER NOT NULL,
  widths TEXT NOT NULL
);
CREATE TABLE stories (
  id INTEGER PRIMARY KEY,
  version INTEGER NOT NULL,
  slug TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  headline TEXT NOT NULL,
  summary TEXT NOT NULL,
  body_md TEXT NOT NULL,
  body_html TEXT NOT NULL,
  sector_id INTEGER NOT NULL REFERENCES sectors(id),
  region TEXT NOT NULL,
  primary_edition_id INTEGER NOT NULL REFERENCES editions(id),
  desk_id INTEGER REFERENCES desks(id),
  hero_image_id INTEGER REFERENCES images(id),
  provenance TEXT NOT NULL,
  source TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  published_at INTEGER,
  embargo_until INTEGER
);
CREATE INDEX stories_by_status ON stories(status, published_at);
CREATE TABLE story_editions (
  story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
  edition_id INTEGER NOT NULL REFERENCES editions(id),
  rank INTEGER,
  position INTEGER NOT NULL,
  PRIMARY KEY (story_id, edition_id)
);
CREATE TABLE story_authors (
  story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
  author_id INTEGER NOT NULL REFERENCES authors(id),
  position INTEGER NOT NULL,
  PRIMARY KEY (story_id, author_id)
);
CREATE TABLE story_tags (
  story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
  tag_id INTEGER NOT NULL REFERENCES tags(id),
  position INTEGER NOT NULL,
  PRIMARY KEY (story_id, tag_id)
);
CREATE INDEX story_tags_by_tag ON story_tags(tag_id);
-- Old slugs of renamed stories, kept for 301s; a slug here can never be taken by another story.
CREATE TABLE slug_redirects (
  old_slug TEXT PRIMARY KEY,
  story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE
);
CREATE TABLE static_pages (
  slug TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  body_md TEXT NOT NULL,
  body_html TEXT NOT NULL,
  position INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
-- The outbox: one row per visible change, written in the same transaction as the change.
CREATE TABLE changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  entity TEXT NOT NULL,
  entity_id INTEGER NOT NULL,
  key TEXT NOT NULL DEFAULT ''
);
CREATE TABLE story_views (
  story_id INTEGER NOT NULL,
  edition_id INTEGER NOT NULL,
  day TEXT NOT NULL,
  views INTEGER NOT NULL,
  PRIMARY KEY (story_id, edition_id, day)
);
CREATE INDEX story_views_by_day ON story_views(day);
