//! Media files in S3-compatible object storage (AWS S3, MinIO, Ceph, Garage, …) through
//! `rust-s3`, so that several nodes serve and store one set of files.

use std::path::Path;
use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use s3::creds::Credentials;
use s3::{Bucket, Region};

use crate::store::{content_type_of, ByteStream, MediaMeta, MediaStore};
use crate::MediaError;

/// Where the bucket is and how to sign requests to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Config {
    /// Bucket name (it must exist).
    pub bucket: String,
    /// Endpoint URL, e.g. `https://s3.example.org` or `http://127.0.0.1:9000`; empty for AWS
    /// itself (the endpoint follows the region).
    pub endpoint: String,
    /// Region name (`us-east-1` for most S3-compatible servers).
    pub region: String,
    /// Access key id.
    pub access_key: String,
    /// Secret access key.
    pub secret_key: String,
    /// Address the bucket as `endpoint/bucket/key` (most self-hosted servers) rather than
    /// `bucket.endpoint/key` (AWS's default).
    pub path_style: bool,
    /// Time limit of one request, including the reading of a streamed file.
    pub timeout: Duration,
}

/// Media files in one S3 bucket, under their keys.
pub struct S3Store {
    bucket: Box<Bucket>,
    describe: String,
}

fn backend(e: impl std::fmt::Display) -> MediaError {
    MediaError::Io(format!("object storage: {e}"))
}

fn check(status: u16, what: &str, key: &str) -> Result<(), MediaError> {
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(backend(format!("{what} {key} answered HTTP {status}")))
    }
}

impl S3Store {
    /// A client for the bucket; nothing is sent until the first request.
    pub fn new(cfg: &S3Config) -> Result<Self, MediaError> {
        if cfg.bucket.trim().is_empty() {
            return Err(backend("no bucket is configured ([media] bucket)"));
        }
        if cfg.access_key.is_empty() || cfg.secret_key.is_empty() {
            return Err(backend(
                "no credentials: set the access key and secret key environment variables",
            ));
        }
        let region = if cfg.endpoint.trim().is_empty() {
            cfg.region.parse::<Region>().map_err(backend)?
        } else {
            Region::Custom {
                region: cfg.region.clone(),
                endpoint: cfg.endpoint.trim_end_matches('/').to_owned(),
            }
        };
        let creds = Credentials::new(
            Some(&cfg.access_key),
            Some(&cfg.secret_key),
            None,
            None,
            None,
        )
        .map_err(backend)?;
        let mut bucket = Bucket::new(&cfg.bucket, region, creds)
            .map_err(backend)?
            .with_request_timeout(cfg.timeout)
            .map_err(backend)?;
        if cfg.path_style {
            bucket.set_path_style();
        }
        let describe = format!(
            "S3 bucket {} at {}",
            cfg.bucket,
            if cfg.endpoint.is_empty() {
                &cfg.region
            } else {
                &cfg.endpoint
            }
        );
        Ok(Self { bucket, describe })
    }
}

#[async_trait::async_trait]
impl MediaStore for S3Store {
    fn describe(&self) -> String {
        self.describe.clone()
    }

    async fn put(&self, key: &str, data: Vec<u8>) -> Result<(), MediaError> {
        let r = self
            .bucket
            .put_object_with_content_type(key, &data, content_type_of(key))
            .await
            .map_err(backend)?;
        check(r.status_code(), "storing", key)
    }

    async fn put_file(&self, key: &str, src: &Path) -> Result<(), MediaError> {
        let mut file = tokio::fs::File::open(src).await?;
        let r = self
            .bucket
            .put_object_stream_with_content_type(&mut file, key, content_type_of(key))
            .await
            .map_err(backend)?;
        check(r.status_code(), "storing", key)?;
        drop(file);
        let _ = tokio::fs::remove_file(src).await;
        Ok(())
    }

    async fn head(&self, key: &str) -> Result<Option<MediaMeta>, MediaError> {
        let (h, status) = self.bucket.head_object(key).await.map_err(backend)?;
        if status == 404 {
            return Ok(None);
        }
        check(status, "looking up", key)?;
        let len = h
            .content_length
            .and_then(|l| u64::try_from(l).ok())
            .ok_or_else(|| backend(format!("no length for {key}")))?;
        let modified = h.last_modified.as_deref().and_then(parse_http_date);
        let etag = h
            .e_tag
            .filter(|t| t.len() > 2 && t.starts_with('"') && t.ends_with('"') && t.is_ascii())
            .unwrap_or_else(|| MediaMeta::etag_of(len, modified));
        Ok(Some(MediaMeta {
            len,
            modified,
            etag,
        }))
    }

    async fn stream(
        &self,
        key: &str,
        range: Option<(u64, u64)>,
    ) -> Result<Option<ByteStream>, MediaError> {
        let r = match range {
            None => self.bucket.get_object_stream(key).await,
            Some((start, end)) => {
                let mut h = http::HeaderMap::new();
                let v = http::HeaderValue::from_str(&format!("bytes={start}-{end}"))
                    .map_err(backend)?;
                h.insert(http::header::RANGE, v);
                self.bucket
                    .with_extra_headers(h)
                    .map_err(backend)?
                    .get_object_stream(key)
                    .await
            }
        }
        .map_err(backend)?;
        if r.status_code == 404 {
            return Ok(None);
        }
        check(r.status_code, "reading", key)?;
        let s = r
            .bytes
            .map(|chunk| chunk.map_err(|e| std::io::Error::other(e.to_string())));
        Ok(Some(Box::pin(s)))
    }

    async fn delete(&self, key: &str) -> Result<(), MediaError> {
        let r = self.bucket.delete_object(key).await.map_err(backend)?;
        if r.status_code() == 404 {
            return Ok(());
        }
        check(r.status_code(), "deleting", key)
    }
}

/// Reads an HTTP date in its preferred form (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn parse_http_date(s: &str) -> Option<SystemTime> {
    let mut parts = s.split_whitespace();
    let (_, day, month, year, time, zone) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if zone != "GMT" {
        return None;
    }
    let day: i64 = day.parse().ok()?;
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == month)? as i64
        + 1;
    let year: i64 = year.parse().ok()?;
    let mut hms = time.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m, sec) = (hms.next()??, hms.next()??, hms.next()??);
    // Days from 1970-01-01 to the date (proleptic Gregorian calendar).
    let (y, mo) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * mo + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = u64::try_from(days * 86_400 + h * 3600 + m * 60 + sec).ok()?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates() {
        let t = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT")
            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map(|d| d.as_secs());
        assert_eq!(t, Some(784_111_777));
        assert_eq!(parse_http_date("yesterday"), None);
    }
}
