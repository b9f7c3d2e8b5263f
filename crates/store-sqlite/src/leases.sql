-- newsdesk SQLite schema: leases, work one node at a time does for all (the wire clusterer).
-- A holder renews its row; another node takes it over once `until_ms` has passed.
CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  until_ms BIGINT NOT NULL
);
