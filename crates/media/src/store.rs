//! Where media files live: a small trait with the local folder as the default
//! ([`LocalFolder`]) and, with the `s3` feature, S3-compatible object storage
//! ([`crate::S3Store`]), so several nodes can share one set of files.
//!
//! A file is stored under its key, the server-made file name (`img-<hex>-<width>.jpg`, one key
//! per rendition of a picture; `vid-<hex>.mp4`), which is also the last segment of its URL.
//! Keys are checked with [`crate::is_media_file_name`] or the web layer's own check before any
//! backend sees them.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::SystemTime;

use bytes::Bytes;
use futures_util::Stream;

use crate::MediaError;

/// Bytes of a stored file (or of the part of it asked for), read a chunk at a time.
pub type ByteStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

/// Size of the chunks a file is streamed in: what a reader holds in memory per response.
pub const CHUNK_BYTES: usize = 64 * 1024;

/// What a backend knows of a stored file without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaMeta {
    /// Length in bytes.
    pub len: u64,
    /// When it was stored, if the backend says.
    pub modified: Option<SystemTime>,
    /// A validator for `ETag`, quoted: the same for the same stored file. Files are never
    /// rewritten under the same key, so the length and the time stored are enough.
    pub etag: String,
}

impl MediaMeta {
    /// A validator made of the length and the time stored.
    pub fn etag_of(len: u64, modified: Option<SystemTime>) -> String {
        let nanos = modified
            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        format!("\"{len:x}-{nanos:x}\"")
    }
}

/// A place media files are put, read, and removed.
#[async_trait::async_trait]
pub trait MediaStore: Send + Sync + 'static {
    /// Says where files go, for logs and `newsdesk backup` ("folder /srv/media", "S3 bucket …").
    fn describe(&self) -> String;

    /// The local folder files live in, when they live in one (the backup copies it).
    fn local_dir(&self) -> Option<&Path> {
        None
    }

    /// Stores `data` under `key`; a reader sees the whole file or none of it.
    async fn put(&self, key: &str, data: Vec<u8>) -> Result<(), MediaError>;

    /// Stores the local file `src` under `key` and removes `src` (an upload spooled to disk,
    /// e.g. a video): streamed, never read into memory whole.
    async fn put_file(&self, key: &str, src: &Path) -> Result<(), MediaError>;

    /// Size, time and validator of a stored file; `None` when there is none under `key`.
    async fn head(&self, key: &str) -> Result<Option<MediaMeta>, MediaError>;

    /// Whether a file is stored under `key`.
    async fn exists(&self, key: &str) -> Result<bool, MediaError> {
        Ok(self.head(key).await?.is_some())
    }

    /// The bytes `start..=end_inclusive` of the file under `key` (the whole file with
    /// `None`), streamed in chunks of at most [`CHUNK_BYTES`]; `None` when there is no file.
    async fn stream(
        &self,
        key: &str,
        range: Option<(u64, u64)>,
    ) -> Result<Option<ByteStream>, MediaError>;

    /// The whole file under `key`, in memory (for small files and tests; readers are served
    /// with [`MediaStore::stream`]).
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, MediaError> {
        use futures_util::StreamExt;
        let Some(mut s) = self.stream(key, None).await? else {
            return Ok(None);
        };
        let mut out = Vec::new();
        while let Some(chunk) = s.next().await {
            out.extend_from_slice(&chunk?);
        }
        Ok(Some(out))
    }

    /// Removes the file under `key`; removing a file that is not there is not an error.
    async fn delete(&self, key: &str) -> Result<(), MediaError>;
}

/// Stores every file of a picture's versions; if one fails, removes those already stored.
pub async fn put_all(
    store: &dyn MediaStore,
    files: impl IntoIterator<Item = (String, Vec<u8>)>,
) -> Result<(), MediaError> {
    let mut done: Vec<String> = Vec::new();
    for (key, data) in files {
        if let Err(e) = store.put(&key, data).await {
            for k in &done {
                let _ = store.delete(k).await;
            }
            return Err(e);
        }
        done.push(key);
    }
    Ok(())
}

/// Media type by extension, for the kinds of file newsdesk stores.
pub fn content_type_of(key: &str) -> &'static str {
    match key.rsplit('.').next() {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("webp") => "image/webp",
        Some("gif") => "image/gif",
        Some("mp4") => "video/mp4",
        Some("webm") => "video/webm",
        _ => "application/octet-stream",
    }
}

/// Files in a folder of the local file system (the default): what one node, or several nodes
/// sharing the folder over a network file system, use.
#[derive(Debug, Clone)]
pub struct LocalFolder {
    dir: PathBuf,
}

impl LocalFolder {
    /// Files in `dir` (created when the first file is stored).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &str) -> Result<PathBuf, MediaError> {
        // Keys are file names: no folders, no hidden or temporary files.
        if key.is_empty() || key.starts_with('.') || key.contains(['/', '\\']) || key == ".." {
            return Err(MediaError::Io(format!("not a media file name: {key:?}")));
        }
        Ok(self.dir.join(key))
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, MediaError> + Send + 'static,
) -> Result<T, MediaError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| MediaError::Io(e.to_string()))?
}

#[async_trait::async_trait]
impl MediaStore for LocalFolder {
    fn describe(&self) -> String {
        format!("folder {}", self.dir.display())
    }

    fn local_dir(&self) -> Option<&Path> {
        Some(&self.dir)
    }

    async fn put(&self, key: &str, data: Vec<u8>) -> Result<(), MediaError> {
        self.path(key)?;
        let (dir, key) = (self.dir.clone(), key.to_owned());
        blocking(move || {
            std::fs::create_dir_all(&dir)?;
            crate::files::write_atomically(&dir, &key, &data)
        })
        .await
    }

    async fn put_file(&self, key: &str, src: &Path) -> Result<(), MediaError> {
        self.path(key)?;
        let (dir, key, src) = (self.dir.clone(), key.to_owned(), src.to_owned());
        blocking(move || crate::video::move_into(&src, &dir, &key)).await
    }

    async fn head(&self, key: &str) -> Result<Option<MediaMeta>, MediaError> {
        let path = self.path(key)?;
        match tokio::fs::metadata(&path).await {
            Ok(m) if m.is_file() => {
                let modified = m.modified().ok();
                Ok(Some(MediaMeta {
                    len: m.len(),
                    modified,
                    etag: MediaMeta::etag_of(m.len(), modified),
                }))
            }
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn stream(
        &self,
        key: &str,
        range: Option<(u64, u64)>,
    ) -> Result<Option<ByteStream>, MediaError> {
        use tokio::io::{AsyncReadExt, AsyncSeekExt};
        let path = self.path(key)?;
        let mut file = match tokio::fs::File::open(&path).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let left = match range {
            Some((start, end)) => {
                file.seek(std::io::SeekFrom::Start(start)).await?;
                end.saturating_sub(start).saturating_add(1)
            }
            None => u64::MAX,
        };
        let reader = file.take(left);
        let s = futures_util::stream::unfold(Some(reader), |reader| async move {
            let mut reader = reader?;
            let mut buf = vec![0u8; CHUNK_BYTES];
            match reader.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok(Bytes::from(buf)), Some(reader)))
                }
                Err(e) => Some((Err(e), None)),
            }
        });
        Ok(Some(Box::pin(s)))
    }

    async fn delete(&self, key: &str) -> Result<(), MediaError> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn folder(tag: &str) -> LocalFolder {
        let dir =
            std::env::temp_dir().join(format!("newsdesk-media-store-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        LocalFolder::new(dir)
    }

    #[tokio::test]
    async fn local_folder_puts_streams_ranges_and_deletes() {
        let f = folder("basic");
        let key = "img-0123456789abcdef-480.jpg";
        assert!(!f.exists(key).await.unwrap());
        assert_eq!(f.get(key).await.unwrap(), None);
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        f.put(key, data.clone()).await.unwrap();
        let meta = f.head(key).await.unwrap().unwrap();
        assert_eq!(meta.len, data.len() as u64);
        assert_eq!(f.get(key).await.unwrap().unwrap(), data);
        let mut s = f
            .stream(key, Some((70_000, 140_000)))
            .await
            .unwrap()
            .unwrap();
        let mut got = Vec::new();
        let mut chunks = 0;
        while let Some(c) = futures_util::StreamExt::next(&mut s).await {
            let c = c.unwrap();
            assert!(c.len() <= CHUNK_BYTES);
            got.extend_from_slice(&c);
            chunks += 1;
        }
        assert_eq!(got, data[70_000..=140_000]);
        assert!(chunks >= 2, "streamed in chunks");
        // A spooled file moves in and is gone from where it was.
        let src = f.dir().join(".upload-x");
        std::fs::write(&src, b"video").unwrap();
        f.put_file("vid-0123456789abcdef.mp4", &src).await.unwrap();
        assert!(!src.exists());
        assert_eq!(
            f.get("vid-0123456789abcdef.mp4").await.unwrap().unwrap(),
            b"video"
        );
        f.delete(key).await.unwrap();
        f.delete(key).await.unwrap();
        assert!(!f.exists(key).await.unwrap());
        assert!(f.put("../x.jpg", vec![1]).await.is_err());
        assert!(f.put(".hidden", vec![1]).await.is_err());
        let _ = std::fs::remove_dir_all(f.dir());
    }
}
