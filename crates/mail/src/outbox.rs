//! [`FileOutbox`]: writes messages as `.eml` files instead of sending them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use lettre::message::Mailbox;

use crate::{build, MailError, Mailer, Message};
use chrono::{DateTime, Utc};
use newsdesk_domain::{Clock, SystemClock};

/// Writes each message, exactly as it would go over SMTP (RFC 5322, CRLF line ends), into a
/// folder as `{UTC time}-{random}.eml`, e.g. `20250314T092653.123456Z-3f9a0c1d2e4b5a69.eml`:
/// names sort by time. The file is written under a hidden temporary name (`.…eml.tmp`), flushed
/// to disk and then renamed, so a reader of the folder never sees a half-written `.eml`.
/// The folder is created when missing.
pub struct FileOutbox {
    dir: PathBuf,
    from: Mailbox,
    clock: Arc<dyn Clock>,
}

impl FileOutbox {
    /// An outbox writing into `dir`, with `from` as sender.
    pub fn new(dir: impl Into<PathBuf>, from: Mailbox) -> Self {
        Self {
            dir: dir.into(),
            from,
            clock: Arc::new(SystemClock),
        }
    }

    /// This outbox with the time of its file names from `clock` (tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The folder written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes one message and returns the path of its file.
    pub async fn write(&self, m: &Message) -> Result<PathBuf, MailError> {
        let bytes = build(&self.from, m)?.formatted();
        let dir = self.dir.clone();
        let now = self.clock.now();
        tokio::task::spawn_blocking(move || write_atomically(&dir, &bytes, now))
            .await
            .map_err(|e| MailError::Io(std::io::Error::other(e.to_string())))?
    }
}

/// A new file name: UTC time (`now`) to the microsecond, then 64 random bits.
pub(crate) fn file_name(now: DateTime<Utc>) -> String {
    format!(
        "{}-{:016x}.eml",
        now.format("%Y%m%dT%H%M%S%.6fZ"),
        fastrand::u64(..)
    )
}

fn write_atomically(dir: &Path, bytes: &[u8], now: DateTime<Utc>) -> Result<PathBuf, MailError> {
    std::fs::create_dir_all(dir)?;
    let name = file_name(now);
    let tmp = dir.join(format!(".{name}.tmp"));
    let target = dir.join(&name);
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, &target)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.into());
    }
    Ok(target)
}

#[async_trait]
impl Mailer for FileOutbox {
    async fn send(&self, m: &Message) -> Result<(), MailError> {
        self.write(m).await.map(|_| ())
    }

    fn kind(&self) -> &'static str {
        "outbox"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_by_time_and_differ() {
        use chrono::TimeZone;
        let t = Utc
            .with_ymd_and_hms(2025, 3, 14, 9, 26, 53)
            .single()
            .expect("date");
        let a = file_name(t);
        let b = file_name(t + chrono::Duration::microseconds(1));
        assert!(a.starts_with("20250314T092653.000000Z-"), "{a}");
        assert!(a < b, "{a} {b}");
        assert!(a.ends_with(".eml"));
        // 20250314T092653.123456Z-3f9a0c1d2e4b5a69.eml
        assert_eq!(a.len(), "20250314T092653.123456Z".len() + 1 + 16 + 4, "{a}");
    }
}
