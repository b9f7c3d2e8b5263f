//! [`FileOutbox`]: writes messages as `.eml` files instead of sending them.

use std::io::Write;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use lettre::message::Mailbox;

use crate::{build, MailError, Mailer, Message};

/// Writes each message, exactly as it would go over SMTP (RFC 5322, CRLF line ends), into a
/// folder as `{UTC time}-{random}.eml`, e.g. `20250314T092653.123456Z-3f9a0c1d2e4b5a69.eml`:
/// names sort by time. The file is written under a hidden temporary name (`.…eml.tmp`), flushed
/// to disk and then renamed, so a reader of the folder never sees a half-written `.eml`.
/// The folder is created when missing.
pub struct FileOutbox {
    dir: PathBuf,
    from: Mailbox,
}

impl FileOutbox {
    /// An outbox writing into `dir`, with `from` as sender.
    pub fn new(dir: impl Into<PathBuf>, from: Mailbox) -> Self {
        Self {
            dir: dir.into(),
            from,
        }
    }

    /// The folder written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes one message and returns the path of its file.
    pub async fn write(&self, m: &Message) -> Result<PathBuf, MailError> {
        let bytes = build(&self.from, m)?.formatted();
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || write_atomically(&dir, &bytes))
            .await
            .map_err(|e| MailError::Io(std::io::Error::other(e.to_string())))?
    }
}

/// A new file name: UTC time to the microsecond, then 64 random bits.
pub(crate) fn file_name() -> String {
    format!(
        "{}-{:016x}.eml",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ"),
        fastrand::u64(..)
    )
}

fn write_atomically(dir: &Path, bytes: &[u8]) -> Result<PathBuf, MailError> {
    std::fs::create_dir_all(dir)?;
    let name = file_name();
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
        let a = file_name();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = file_name();
        assert!(a < b, "{a} {b}");
        assert!(a.ends_with(".eml"));
        // 20250314T092653.123456Z-3f9a0c1d2e4b5a69.eml
        assert_eq!(a.len(), "20250314T092653.123456Z".len() + 1 + 16 + 4, "{a}");
    }
}
