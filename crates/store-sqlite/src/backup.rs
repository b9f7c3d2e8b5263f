//! `newsdesk backup`: a consistent copy of a live SQLite database, made with SQLite's online
//! backup API while the site keeps serving.
//!
//! The copy holds one read transaction on the source for its whole length. In WAL mode a
//! reader does not block writers, so the site keeps writing; and since the reader's snapshot
//! does not move, the backup copies the database as it was when it began, page by page, without
//! ever restarting (a backup whose source changes under it starts again from the first page,
//! and under steady writes might never end). The price is that the WAL is not checkpointed past
//! the snapshot until the copy ends.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

/// What a finished backup copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    /// Pages copied.
    pub pages: u64,
    /// Steps taken (each copies at most `pages_per_step` pages).
    pub steps: u64,
    /// Bytes of the copy.
    pub bytes: u64,
}

/// How the copy goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupOptions {
    /// Pages copied per step; the source is read-locked only within a step's page reads.
    pub pages_per_step: i32,
    /// Pause between steps, leaving the disk to the serving process.
    pub pause: Duration,
}

impl Default for BackupOptions {
    fn default() -> Self {
        Self {
            pages_per_step: 256,
            pause: Duration::from_millis(2),
        }
    }
}

/// Copies the database at `src` to the new file `dest` (which must not exist) while other
/// connections and processes go on reading and writing `src`. `progress(done, total)` is called
/// after each step with pages copied and pages in all. The copy is written to `dest` plus
/// `.partial`, checked with `PRAGMA integrity_check`, set to the rollback journal (one
/// self-contained file), and only then renamed to `dest`.
pub fn backup_online(
    src: &Path,
    dest: &Path,
    opts: &BackupOptions,
    mut progress: impl FnMut(u64, u64),
) -> Result<BackupReport, BackupError> {
    if dest.exists() {
        return Err(BackupError::Exists(dest.to_owned()));
    }
    let source = Connection::open_with_flags(
        src,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    source.busy_timeout(Duration::from_secs(10))?;
    // The snapshot: begun now, held until the last page is copied.
    source.execute_batch("BEGIN")?;
    source.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
        r.get::<_, i64>(0)
    })?;
    let partial = partial_name(dest);
    let _ = std::fs::remove_file(&partial);
    let result = (|| {
        let mut copy = Connection::open(&partial)?;
        let mut steps = 0u64;
        let mut pages = 0u64;
        {
            let backup = Backup::new(&source, &mut copy)?;
            loop {
                let r = backup.step(opts.pages_per_step.max(1))?;
                steps += 1;
                let p = backup.progress();
                let total = u64::try_from(p.pagecount).unwrap_or(0);
                let left = u64::try_from(p.remaining).unwrap_or(0);
                pages = pages.max(total);
                progress(total.saturating_sub(left), total);
                match r {
                    StepResult::Done => break,
                    StepResult::More | StepResult::Busy | StepResult::Locked => {
                        std::thread::sleep(opts.pause)
                    }
                    _ => std::thread::sleep(opts.pause),
                }
            }
        }
        copy.pragma_update(None, "journal_mode", "DELETE")?;
        let check: String = copy.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        if check != "ok" {
            return Err(BackupError::Integrity(check));
        }
        drop(copy);
        Ok((steps, pages))
    })();
    let _ = source.execute_batch("COMMIT");
    match result {
        Ok((steps, pages)) => {
            std::fs::rename(&partial, dest)?;
            let bytes = std::fs::metadata(dest)?.len();
            Ok(BackupReport {
                pages,
                steps,
                bytes,
            })
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

fn partial_name(dest: &Path) -> PathBuf {
    let mut name = dest.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// Why a backup failed; nothing is left at the destination.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The destination file exists; a backup never overwrites.
    #[error("{} exists already; give a new name or folder", .0.display())]
    Exists(PathBuf),
    /// SQLite refused.
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The copy did not pass `PRAGMA integrity_check`.
    #[error("the copy failed its integrity check: {0}")]
    Integrity(String),
    /// Reading or writing a file failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}
