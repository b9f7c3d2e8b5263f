-- newsdesk SQLite schema: background jobs (the `jobs` room). Claimed inside BEGIN IMMEDIATE, so
-- one writer at a time decides who holds a job; a lease that runs out frees a dead worker's job.
CREATE TABLE jobs (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  run_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  locked_by TEXT,
  lease_until INTEGER,
  last_error TEXT,
  finished_at INTEGER,
  dedupe TEXT
);
-- One queued or running job per de-duplication key.
CREATE UNIQUE INDEX jobs_dedupe ON jobs(dedupe) WHERE dedupe IS NOT NULL AND state IN ('queued', 'running');
CREATE INDEX jobs_due ON jobs(state, run_at);
CREATE INDEX jobs_lease ON jobs(state, lease_until);
