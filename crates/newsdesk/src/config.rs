//! Configuration: defaults, then a TOML file, then `NEWSDESK_*` environment variables, then flags.

use newsdesk_app::SiteConfig;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Every setting of a node.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: String,
    /// Folder for the database, media and (later) the search index.
    pub data_dir: PathBuf,
    /// Database URL; empty means `sqlite://{data_dir}/newsdesk.db`; `postgres://…` selects the
    /// PostgreSQL store.
    pub database_url: String,
    /// Most connections a node keeps open to PostgreSQL (unused with SQLite).
    pub database_pool: usize,
    /// Milliseconds between reads of the change log when no notification wakes the node.
    pub changes_poll_ms: u64,
    /// Log filter (tracing `EnvFilter` syntax).
    pub log: String,
    /// The site.
    pub site: SiteConfig,
    /// Outgoing e-mail.
    pub mail: newsdesk_mail::MailConfig,
    /// Fetching agency feeds.
    pub fetch: FetchConfig,
    /// Serving HTTP: time limits, connections, HSTS.
    pub server: ServerConfig,
    /// The page cache.
    pub cache: CacheConfig,
    /// Background jobs.
    pub jobs: JobsConfig,
    /// Where media files are stored.
    pub media: MediaConfig,
    /// The newsletter.
    pub newsletter: newsdesk_app::newsletter::NewsletterSettings,
    /// The JSON API's bounds.
    pub api: ApiConfig,
    /// The readers' feedback form.
    pub feedback: newsdesk_app::feedback::FeedbackConfig,
    /// Outgoing webhooks.
    pub webhooks: newsdesk_app::webhooks::WebhookConfig,
    /// Full-text search (its index lives in `{data_dir}/search`).
    pub search: SearchConfig,
}

/// Bounds of search (see `newsdesk_app::search::SearchSettings`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SearchConfig {
    /// Characters of a query read.
    pub max_query_chars: usize,
    /// Words of a query used.
    pub max_terms: usize,
    /// Hits per page.
    pub per_page: usize,
    /// Pages a reader can go to.
    pub max_pages: usize,
    /// Searches run at once.
    pub at_once: usize,
    /// Seconds a search waits for a place.
    pub wait_seconds: u64,
    /// Characters in a snippet.
    pub snippet_chars: usize,
    /// Memory of the writer that follows the change log, MiB.
    pub writer_memory_mib: usize,
    /// Memory of the writer of a whole build, MiB.
    pub build_memory_mib: usize,
}

impl Default for SearchConfig {
    fn default() -> Self {
        let d = newsdesk_app::search::SearchSettings::default();
        Self {
            max_query_chars: d.max_query_chars,
            max_terms: d.max_terms,
            per_page: d.per_page,
            max_pages: d.max_pages,
            at_once: d.at_once,
            wait_seconds: d.wait_seconds,
            snippet_chars: d.snippet_chars,
            writer_memory_mib: d.writer_memory_mib,
            build_memory_mib: d.build_memory_mib,
        }
    }
}

impl SearchConfig {
    /// The app's settings, each bound clamped to a sane range.
    pub fn settings(&self) -> newsdesk_app::search::SearchSettings {
        newsdesk_app::search::SearchSettings {
            max_query_chars: self.max_query_chars.clamp(10, 2000),
            max_terms: self.max_terms.clamp(1, 64),
            per_page: self.per_page.clamp(1, 100),
            max_pages: self.max_pages.clamp(1, 1000),
            at_once: self.at_once.min(256),
            wait_seconds: self.wait_seconds.clamp(0, 60),
            snippet_chars: self.snippet_chars.clamp(40, 2000),
            writer_memory_mib: self.writer_memory_mib.clamp(16, 4096),
            build_memory_mib: self.build_memory_mib.clamp(16, 8192),
        }
    }
}

/// Where media files live: `backend = "local"` (the data folder's `media` folder, the default)
/// or `"s3"` (an S3-compatible bucket that several nodes share).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaBackend {
    /// `{data_dir}/media`.
    #[default]
    Local,
    /// An S3-compatible bucket.
    S3,
}

/// The media store and its limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MediaConfig {
    /// "local" or "s3".
    pub backend: MediaBackend,
    /// Media responses streamed at once; more get 503 with Retry-After.
    pub max_streams: usize,
    /// S3: the bucket.
    pub bucket: String,
    /// S3: endpoint URL; empty for AWS itself.
    pub endpoint: String,
    /// S3: region.
    pub region: String,
    /// S3: address the bucket in the path (`endpoint/bucket/key`), as self-hosted servers want.
    pub path_style: bool,
    /// S3: name of the environment variable holding the access key id.
    pub access_key_env: String,
    /// S3: name of the environment variable holding the secret access key.
    pub secret_key_env: String,
    /// S3: time limit of one request (a whole streamed file included), in seconds.
    pub timeout_secs: u64,
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self {
            backend: MediaBackend::Local,
            max_streams: newsdesk_web::assets::DEFAULT_MEDIA_STREAMS,
            bucket: String::new(),
            endpoint: String::new(),
            region: "us-east-1".into(),
            path_style: true,
            access_key_env: "AWS_ACCESS_KEY_ID".into(),
            secret_key_env: "AWS_SECRET_ACCESS_KEY".into(),
            timeout_secs: 300,
        }
    }
}

impl MediaConfig {
    /// Opens the configured store; `env` reads the credentials' environment variables.
    pub fn open(
        &self,
        media_dir: &Path,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<std::sync::Arc<dyn newsdesk_media::MediaStore>> {
        Ok(match self.backend {
            MediaBackend::Local => {
                std::sync::Arc::new(newsdesk_media::LocalFolder::new(media_dir.to_owned()))
            }
            MediaBackend::S3 => {
                let var = |name: &str| {
                    env(name).filter(|v| !v.is_empty()).ok_or_else(|| {
                        anyhow::anyhow!(
                            "[media] backend = \"s3\" needs the environment variable {name}"
                        )
                    })
                };
                std::sync::Arc::new(
                    newsdesk_media::S3Store::new(&newsdesk_media::S3Config {
                        bucket: self.bucket.clone(),
                        endpoint: self.endpoint.clone(),
                        region: self.region.clone(),
                        access_key: var(&self.access_key_env)?,
                        secret_key: var(&self.secret_key_env)?,
                        path_style: self.path_style,
                        timeout: std::time::Duration::from_secs(self.timeout_secs.max(1)),
                    })
                    .map_err(|e| anyhow::anyhow!("[media] settings: {e}"))?,
                )
            }
        })
    }
}

/// The JSON API's bounds (`[api]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiConfig {
    /// Requests one token may make per minute on a node.
    pub rate_per_minute: u32,
    /// Tokens counted at once by the rate limit.
    pub rate_tracked_tokens: usize,
    /// Stories on a listing page by default.
    pub page_size: usize,
    /// Largest `limit` of a listing page.
    pub page_size_max: usize,
    /// Largest JSON body of a token request, in bytes.
    pub body_max_bytes: usize,
    /// Largest picture uploaded through the API, in bytes.
    pub upload_max_bytes: usize,
    /// Days a new token lives unless its maker says otherwise.
    pub token_days_default: i64,
    /// Most days a token may live.
    pub token_days_max: i64,
    /// Corrections listed by `/api/v1/corrections`.
    pub corrections_max: usize,
}

impl Default for ApiConfig {
    fn default() -> Self {
        let d = newsdesk_app::ApiSettings::default();
        Self {
            rate_per_minute: d.rate_per_minute,
            rate_tracked_tokens: d.rate_tracked_tokens,
            page_size: d.page_size,
            page_size_max: d.page_size_max,
            body_max_bytes: d.body_max_bytes,
            upload_max_bytes: d.upload_max_bytes,
            token_days_default: d.token_days_default,
            token_days_max: d.token_days_max,
            corrections_max: d.corrections_max,
        }
    }
}

impl ApiConfig {
    /// The app's settings (at least one of everything).
    pub fn settings(&self) -> newsdesk_app::ApiSettings {
        newsdesk_app::ApiSettings {
            rate_per_minute: self.rate_per_minute.max(1),
            rate_tracked_tokens: self.rate_tracked_tokens.max(1),
            page_size: self.page_size.clamp(1, self.page_size_max.max(1)),
            page_size_max: self.page_size_max.max(1),
            body_max_bytes: self.body_max_bytes.max(1024),
            upload_max_bytes: self.upload_max_bytes.max(1024),
            token_days_default: self.token_days_default.clamp(1, self.token_days_max.max(1)),
            token_days_max: self.token_days_max.max(1),
            corrections_max: self.corrections_max.max(1),
        }
    }
}

/// The job worker of a node.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobsConfig {
    /// Jobs claimed and run at once.
    pub batch: usize,
    /// Seconds a claim holds before another worker may take the job (renewed while it runs).
    pub lease_seconds: i64,
    /// Hours a done job is kept before it is deleted.
    pub keep_done_hours: i64,
    /// Dead letters kept (the newest).
    pub keep_dead: usize,
}

impl Default for JobsConfig {
    fn default() -> Self {
        let d = newsdesk_app::jobs::JobSettings::default();
        Self {
            batch: d.batch,
            lease_seconds: d.lease_seconds,
            keep_done_hours: d.keep_done_hours,
            keep_dead: d.keep_dead,
        }
    }
}

impl JobsConfig {
    /// The app's settings.
    pub fn settings(&self) -> newsdesk_app::jobs::JobSettings {
        newsdesk_app::jobs::JobSettings {
            batch: self.batch,
            lease_seconds: self.lease_seconds,
            keep_done_hours: self.keep_done_hours,
            keep_dead: self.keep_dead,
        }
    }
}

/// Whether responses carry `Strict-Transport-Security`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Hsts {
    /// On when `site.base_url` is https.
    Auto,
    /// Always.
    On,
    /// Never.
    Off,
}

/// Limits of the HTTP server (see `newsdesk_web::server`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Seconds to send a request's headers (also how long a kept-alive connection may wait).
    pub header_read_timeout_secs: u64,
    /// Seconds for a whole request body, from the end of its headers.
    pub body_read_timeout_secs: u64,
    /// Seconds without a byte moving either way after which a connection is closed.
    pub idle_timeout_secs: u64,
    /// Connections served at once (lowered at start to fit the file-descriptor limit).
    pub max_connections: usize,
    /// Seconds a shutdown waits for open connections to finish.
    pub shutdown_grace_secs: u64,
    /// `Strict-Transport-Security`: "auto" (on when base_url is https), "on" or "off".
    pub hsts: Hsts,
    /// Prometheus metrics at `/metrics`: "off", "loopback" (clients on this machine) or "on".
    pub metrics: MetricsExposure,
    /// glibc malloc arenas for `newsdesk serve` (`MALLOC_ARENA_MAX`); 0 = glibc's default.
    pub malloc_arenas: u32,
    /// Seconds between looks at whether to give freed memory back to the system (glibc's
    /// `malloc_trim`, when the page caches replaced [`TRIM_AFTER_BYTES`] since the last time);
    /// 0 = never.
    pub malloc_trim_secs: u64,
}

/// Who may read `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricsExposure {
    /// Not served.
    Off,
    /// Served to clients on loopback only.
    Loopback,
    /// Served to anyone (protect it at the proxy).
    On,
}

impl MetricsExposure {
    /// The web crate's setting.
    pub fn web(self) -> newsdesk_web::metrics::Exposure {
        match self {
            MetricsExposure::Off => newsdesk_web::metrics::Exposure::Off,
            MetricsExposure::Loopback => newsdesk_web::metrics::Exposure::Loopback,
            MetricsExposure::On => newsdesk_web::metrics::Exposure::On,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        let l = newsdesk_web::server::Limits::default();
        Self {
            header_read_timeout_secs: l.header_read_timeout.as_secs(),
            body_read_timeout_secs: l.body_read_timeout.as_secs(),
            idle_timeout_secs: l.idle_timeout.as_secs(),
            max_connections: l.max_connections,
            shutdown_grace_secs: l.shutdown_grace.as_secs(),
            hsts: Hsts::Auto,
            metrics: MetricsExposure::Off,
            malloc_arenas: 4,
            malloc_trim_secs: 10,
        }
    }
}

/// The environment variable glibc's malloc reads its arena limit from (at process start only).
pub const ARENA_VAR: &str = "MALLOC_ARENA_MAX";

/// Whether `newsdesk serve` should start itself again with `MALLOC_ARENA_MAX` set, and to
/// what: only on glibc, when `[server] malloc_arenas` is not 0 and the variable is not set
/// already (set by the operator, e.g. in the service unit, or by the first start: so this
/// happens at most once). glibc reads the variable only when the process starts, and setting
/// the limit from inside (`mallopt`) would take unsafe code, which the workspace forbids.
pub fn arena_reexec(glibc: bool, already: Option<&std::ffi::OsStr>, arenas: u32) -> Option<String> {
    (glibc && arenas > 0 && already.is_none()).then(|| arenas.to_string())
}

/// Bytes of pages the page caches must have replaced since the last trim before `newsdesk
/// serve` gives freed memory back (`[server] malloc_trim_secs`).
pub const TRIM_AFTER_BYTES: u64 = 16 << 20;

/// Whether to give freed memory back to the system now: when the page caches (holding `held`
/// bytes in `entries` entries) have built `built_since` entries since the last trim, and those
/// weigh, at the entries' mean weight now, [`TRIM_AFTER_BYTES`] or more. A full cache frees
/// about what it builds (evictions), and each build leaves its working memory free, in holes
/// between the pages kept, which glibc keeps resident until trimmed.
pub fn trim_due(built_since: u64, held: u64, entries: u64) -> bool {
    held.checked_div(entries)
        .is_some_and(|mean| built_since.saturating_mul(mean) >= TRIM_AFTER_BYTES)
}

/// Descriptors kept for the database, media files, uploads and outgoing fetches.
const RESERVED_FDS: u64 = 64;

impl ServerConfig {
    /// The server's limits, with `max_connections` lowered to fit `nofile` (the soft limit on
    /// open files, when known): a connection may hold two descriptors (its socket and a media
    /// file or an upload), and [`RESERVED_FDS`] stay for the rest. Returns the limits and, when
    /// the limit was lowered, the number configured.
    pub fn limits(&self, nofile: Option<u64>) -> (newsdesk_web::server::Limits, Option<usize>) {
        let secs = |n: u64| std::time::Duration::from_secs(n.max(1));
        let mut max = self.max_connections.max(1);
        let mut lowered = None;
        if let Some(n) = nofile {
            let fit = usize::try_from(n.saturating_sub(RESERVED_FDS) / 2)
                .unwrap_or(usize::MAX)
                .max(1);
            if fit < max {
                lowered = Some(max);
                max = fit;
            }
        }
        (
            newsdesk_web::server::Limits {
                header_read_timeout: secs(self.header_read_timeout_secs),
                body_read_timeout: secs(self.body_read_timeout_secs),
                idle_timeout: secs(self.idle_timeout_secs),
                max_connections: max,
                shutdown_grace: secs(self.shutdown_grace_secs),
            },
            lowered,
        )
    }

    /// Whether to send HSTS for a site at `base_url`.
    pub fn hsts_on(&self, base_url: &str) -> bool {
        match self.hsts {
            Hsts::On => true,
            Hsts::Off => false,
            Hsts::Auto => base_url.trim().to_ascii_lowercase().starts_with("https://"),
        }
    }
}

/// The in-memory page cache.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// Bytes the cached pages may hold in all (pages, their gzip forms, keys and bookkeeping).
    pub max_bytes: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            max_bytes: newsdesk_web::DEFAULT_CACHE_BYTES,
        }
    }
}

/// Settings of the one HTTP client that fetches agency feeds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FetchConfig {
    /// A PEM file of CA certificates trusted for HTTPS in addition to Mozilla's roots (for an
    /// agency feed served under a private CA); empty = none.
    pub extra_ca_file: String,
}

impl FetchConfig {
    /// The fetch policy these settings give. A file that cannot be read, or holds no usable
    /// certificate, is an error naming it.
    pub fn policy(&self) -> anyhow::Result<newsdesk_fetch::FetchPolicy> {
        let mut policy = newsdesk_fetch::FetchPolicy::default();
        if !self.extra_ca_file.trim().is_empty() {
            let pem = std::fs::read_to_string(&self.extra_ca_file).map_err(|e| {
                anyhow::anyhow!(
                    "cannot read fetch.extra_ca_file {}: {e}",
                    self.extra_ca_file
                )
            })?;
            policy.extra_root_certs = vec![pem];
            newsdesk_fetch::Fetcher::new(policy.clone())
                .map_err(|e| anyhow::anyhow!("fetch.extra_ca_file {}: {e}", self.extra_ca_file))?;
        }
        Ok(policy)
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: String::new(),
            database_pool: 16,
            changes_poll_ms: newsdesk_app::follow::DEFAULT_POLL_MS,
            log: "info".into(),
            cache: CacheConfig::default(),
            jobs: JobsConfig::default(),
            media: MediaConfig::default(),
            newsletter: Default::default(),
            api: ApiConfig::default(),
            feedback: Default::default(),
            webhooks: Default::default(),
            search: SearchConfig::default(),
            site: SiteConfig::default(),
            mail: newsdesk_mail::MailConfig::default(),
            fetch: FetchConfig::default(),
            server: ServerConfig::default(),
        }
        .with_base_url_unset()
    }
}

impl Config {
    /// `site.base_url` empty: the address actually served (see [`Config::resolve_base_url`]).
    fn with_base_url_unset(mut self) -> Self {
        self.site.base_url = String::new();
        self
    }

    /// Fills in `site.base_url` when it is not set: `http://` and the address served (`bound`;
    /// an all-addresses listener gives the loopback address of its family). Returns a warning to
    /// log when the address served is not the one links will point to: a configured base_url
    /// naming an IP address or localhost with another host or port, or a listener on all
    /// addresses without a base_url. (A configured public name differs from the listener
    /// whenever a proxy is in front, as it should be: no warning then.)
    pub fn resolve_base_url(&mut self, bound: std::net::SocketAddr) -> Option<String> {
        let configured = self.site.base_url.trim().trim_end_matches('/').to_owned();
        if configured.is_empty() {
            let mut shown = bound;
            if bound.ip().is_unspecified() {
                shown.set_ip(match bound {
                    std::net::SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                    std::net::SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
                });
            }
            self.site.base_url = format!("http://{shown}");
            return bound.ip().is_unspecified().then(|| {
                format!(
                    "site.base_url is not set and newsdesk listens on all addresses ({bound}): \
                     feeds, sitemaps and canonical links point to {}; set site.base_url to \
                     the public address",
                    self.site.base_url
                )
            });
        }
        self.site.base_url = configured.clone();
        let authority = configured
            .split_once("://")
            .map_or(configured.as_str(), |(_, rest)| rest)
            .split(['/', '?', '#'])
            .next()
            .unwrap_or("");
        let https = configured.to_ascii_lowercase().starts_with("https://");
        let default_port = if https { 443 } else { 80 };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => match p.parse::<u16>() {
                Ok(port) => (h, port),
                Err(_) => (authority, default_port),
            },
            None => (authority, default_port),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let direct =
            host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok();
        let same_host = host.parse::<std::net::IpAddr>().ok() == Some(bound.ip())
            || bound.ip().is_unspecified()
            || (host.eq_ignore_ascii_case("localhost") && bound.ip().is_loopback());
        (direct && (port != bound.port() || !same_host)).then(|| {
            format!(
                "site.base_url is {configured} but newsdesk serves {bound}: feeds, sitemaps \
                 and canonical links point to {configured}"
            )
        })
    }

    /// Loads the file (if given) and the environment over the defaults. Returns the names of
    /// `NEWSDESK_*` variables that name no setting: they are ignored (tools around newsdesk use
    /// the prefix too) for the caller to report. A misspelt key inside a section is an error.
    pub fn load(
        file: Option<&Path>,
        env: impl Iterator<Item = (String, String)>,
    ) -> anyhow::Result<(Self, Vec<String>)> {
        let mut value = toml::Value::try_from(Config::default())?;
        if let Some(f) = file {
            let text = std::fs::read_to_string(f)
                .map_err(|e| anyhow::anyhow!("cannot read config file {}: {e}", f.display()))?;
            let file_value: toml::Value = toml::from_str(&text).map_err(|e| {
                anyhow::anyhow!("config file {} is not valid TOML: {e}", f.display())
            })?;
            merge(&mut value, file_value);
        }
        // The defaults alone, for finding the type of a setting that has no default value.
        let defaults = value.clone();
        let mut ignored = Vec::new();
        for (k, v) in env {
            let Some(rest) = k.strip_prefix("NEWSDESK_") else {
                continue;
            };
            let path: Vec<String> = rest
                .to_ascii_lowercase()
                .split("__")
                .map(str::to_owned)
                .collect();
            let known = value
                .as_table()
                .is_some_and(|t| path.first().is_some_and(|top| t.contains_key(top)));
            if known {
                let typed = env_value(&defaults, &path, &v);
                set_path(&mut value, &path, typed);
            } else {
                ignored.push(k);
            }
        }
        let cfg: Config = value
            .try_into()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        Ok((cfg, ignored))
    }

    /// The database URL to open.
    pub fn database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("newsdesk.db").display())
        } else {
            self.database_url.clone()
        }
    }

    /// The mail settings, with the outbox inside the data folder unless set elsewhere.
    pub fn mail(&self) -> newsdesk_mail::MailConfig {
        let mut m = self.mail.clone();
        if m.outbox_dir == newsdesk_mail::MailConfig::default().outbox_dir {
            m.outbox_dir = self.data_dir.join("outbox");
        }
        m
    }

    /// Folder of media files.
    pub fn media_dir(&self) -> PathBuf {
        self.data_dir.join("media")
    }
}

fn merge(base: &mut toml::Value, over: toml::Value) {
    match (base, over) {
        (toml::Value::Table(b), toml::Value::Table(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

fn set_path(value: &mut toml::Value, path: &[String], new: toml::Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = value;
    for p in parents {
        let toml::Value::Table(t) = cur else { return };
        cur = t
            .entry(p.clone())
            .or_insert_with(|| toml::Value::Table(Default::default()));
    }
    let toml::Value::Table(t) = cur else { return };
    t.insert(last.clone(), new);
}

fn get_path<'a>(value: &'a toml::Value, path: &[String]) -> Option<&'a toml::Value> {
    path.iter().try_fold(value, |v, p| v.get(p.as_str()))
}

/// The TOML value an environment variable's text stands for. A setting with a default keeps
/// the default's type (numbers and booleans parse; anything else is a string, refused later
/// with the setting's name). A setting without one (an optional setting, unset by default,
/// such as `mail.smtp_port`) has no type to copy: the text is tried as a number or boolean
/// and kept as such only if the defaults with that one value set still make a valid
/// configuration, else it is a string (`smtp_password = "12345"` stays text).
fn env_value(defaults: &toml::Value, path: &[String], raw: &str) -> toml::Value {
    let string = || toml::Value::String(raw.to_owned());
    let parsed = match get_path(defaults, path) {
        Some(toml::Value::Integer(_)) => raw.trim().parse().map(toml::Value::Integer).ok(),
        Some(toml::Value::Float(_)) => raw.trim().parse().map(toml::Value::Float).ok(),
        Some(toml::Value::Boolean(_)) => raw.trim().parse().map(toml::Value::Boolean).ok(),
        Some(_) => None,
        None => {
            let guess = raw
                .trim()
                .parse::<i64>()
                .map(toml::Value::Integer)
                .or_else(|_| raw.trim().parse::<bool>().map(toml::Value::Boolean))
                .or_else(|_| raw.trim().parse::<f64>().map(toml::Value::Float))
                .ok();
            guess.filter(|g| {
                let valid = |v: toml::Value| {
                    let mut probe = defaults.clone();
                    set_path(&mut probe, path, v);
                    probe.try_into::<Config>().is_ok()
                };
                !valid(string()) && valid(g.clone())
            })
        }
    };
    parsed.unwrap_or_else(string)
}

/// Marks a secret that `config show` does not print.
const REDACTED: &str = "<redacted>";

/// The settings that are secrets (by their dotted path); `config show` prints them redacted.
const SECRET_SETTINGS: &[&str] = &[
    "mail.smtp_password",
    "newsletter.secret",
    "newsletter.webhook_secret",
    "feedback.form_key",
];

/// The configuration as `newsdesk config show` prints it: secrets redacted (the settings in
/// [`SECRET_SETTINGS`] when set, and the password of any URL, such as `database_url`'s).
pub fn show_toml(cfg: &Config) -> anyhow::Result<String> {
    let mut value = toml::Value::try_from(cfg)?;
    for dotted in SECRET_SETTINGS {
        let path: Vec<String> = dotted.split('.').map(str::to_owned).collect();
        if let Some(toml::Value::String(s)) = get_path(&value, &path) {
            if !s.is_empty() {
                set_path(&mut value, &path, toml::Value::String(REDACTED.into()));
            }
        }
    }
    mask_url_passwords(&mut value);
    Ok(toml::to_string(&value)?)
}

fn mask_url_passwords(v: &mut toml::Value) {
    match v {
        toml::Value::String(s) => {
            if let Some(masked) = mask_url_password(s) {
                *s = masked;
            }
        }
        toml::Value::Table(t) => t.iter_mut().for_each(|(_, v)| mask_url_passwords(v)),
        toml::Value::Array(a) => a.iter_mut().for_each(mask_url_passwords),
        _ => {}
    }
}

/// `scheme://user:password@host…` with the password replaced; `None` when `s` has none.
/// Key=value connection strings (`host=… password=…`) have theirs replaced too.
fn mask_url_password(s: &str) -> Option<String> {
    if let Some((scheme, rest)) = s.split_once("://") {
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        let (userinfo, host) = authority.rsplit_once('@')?;
        let (user, _password) = userinfo.split_once(':')?;
        return Some(format!(
            "{scheme}://{user}:{REDACTED}@{host}{}",
            &rest[authority_end..]
        ));
    }
    let mut changed = false;
    let words: Vec<String> = s
        .split(' ')
        .map(|w| match w.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("password") => {
                changed = true;
                format!("{k}={REDACTED}")
            }
            _ => w.to_owned(),
        })
        .collect();
    changed.then(|| words.join(" "))
}

/// One mail setting's default, as TOML.
fn mail_value(m: &newsdesk_mail::MailConfig, key: &str) -> String {
    toml::Value::try_from(m)
        .ok()
        .and_then(|v| v.get(key).cloned())
        .map(|v| v.to_string())
        .unwrap_or_else(|| "\"\"".into())
}

/// Every setting with its comment and default value, as a TOML file to start from.
pub fn defaults_toml() -> String {
    let d = Config::default();
    let s = &d.site;
    let q = |v: &str| toml::Value::String(v.to_owned()).to_string();
    format!(
        r#"# newsdesk configuration. Every setting may also be given as an environment variable:
# NEWSDESK_LISTEN, NEWSDESK_DATA_DIR, NEWSDESK_SITE__BASE_URL (two underscores between levels).

# Address and port to listen on.
listen = {listen}
# Folder for the database, media files and the search index.
data_dir = {data_dir}
# Database URL. Empty: the embedded SQLite database at {{data_dir}}/newsdesk.db. A URL like
# "postgres://user:password@host:5432/newsdesk" selects PostgreSQL (several nodes on one
# database); also NEWSDESK_DATABASE_URL.
database_url = {database_url}
# Most connections one node keeps open to PostgreSQL (unused with SQLite). Keep the sum over
# all nodes below the server's max_connections.
database_pool = {database_pool}
# Milliseconds between reads of the change log (what other nodes and other processes wrote)
# when nothing wakes this node sooner. On PostgreSQL a write on any node wakes every node at once
# (LISTEN/NOTIFY) and this is only the fallback; on SQLite it is how a command run beside the
# server (an import) reaches the pages.
changes_poll_ms = {changes_poll_ms}
# Log filter, e.g. "info" or "newsdesk_web=debug,info".
log = {log}

[site]
# Site name, used in titles, feeds and the footer.
name = {name}
# One line under the name, used as the feed description.
tagline = {tagline}
# Public address of the site without a trailing slash: absolute links (feeds, sitemaps,
# canonical links, e-mailed links) start with it. Empty: http:// and the address actually
# served (`listen`, with the port the system gave when it is 0).
base_url = {base_url}
# Language of the content (BCP 47).
language = {language}
# Contact e-mail shown in the footer; feedback notices go here unless [feedback] desk_email is set.
contact_email = {contact}
# Holder named in the copyright line.
copyright_holder = {holder}
# The publisher's own profile links, shown under CONNECT on every page (the RSS link is always
# there). Unset by default; an empty one is not shown. E.g. "https://www.linkedin.com/company/…".
linkedin_url = {linkedin}
quora_url = {quora}
youtube_url = {youtube}
# Stories per listing page.
page_size = {page_size}
# Half-life of a page view in the trending score, in hours.
trending_half_life_hours = {half_life:?}
# Stories in a trending list.
trending_size = {trending_size}
# How often counted views are written to the database and trending is recomputed, in seconds.
views_flush_seconds = {flush}
# A reader's view of a story counts once per client (a keyed hash of address and User-Agent,
# no address kept) in a window this long, in minutes.
views_window_minutes = {views_window}
# Most counted views one client adds per window, across stories.
views_per_client_window = {views_per_client}
# Most (client, story) pairs held per window (up to about 50 bytes each). When full, views of pairs
# not seen yet are not counted until the window ends.
views_seen_max = {views_seen}
# At most how often a trending change alone re-renders an edition's side rail (and so re-assembles
# its pages), in seconds; 0 = at every change. Trending moves by the minute, so half a minute keeps pages cached under load.
trending_refresh_seconds = {trending_refresh}
# Whether editors and admins must also give a one-time code (TOTP app) to log in.
require_totp_for_editors = {totp}
# Password checks and hashes run at once (Argon2, 19 MiB of memory each); 0 = one per CPU
# core. A login beyond it waits up to two seconds, then is asked to try again later.
password_checks_at_once = {pw_checks}

[mail]
# "outbox" writes every message as an .eml file into outbox_dir; "smtp" sends it.
transport = {transport}
# Folder of the file outbox (by default inside data_dir).
outbox_dir = {outbox}
# Sender of invitations, password resets and newsletters.
from = {from}
# "none", "starttls" (required when chosen) or "tls" from the first byte.
smtp_tls = {tls}
# Time limit of each SMTP command, in seconds.
smtp_timeout_secs = {smtp_timeout}
# SMTP connections kept open between messages, so a newsletter sends many on each (0 to 256;
# 0 opens a new connection for every message). A kept connection is checked (NOOP) before reuse
# and replaced when the server closed it.
smtp_pool = {smtp_pool}
# Seconds a kept SMTP connection may stay unused before it is closed (1 to 3600).
smtp_pool_idle_secs = {smtp_pool_idle}
# SMTP server and login (unset by default):
# smtp_host = "smtp.example.org"
# smtp_port = 587
# smtp_username = "newsdesk"
# smtp_password = "…"

[server]
# Seconds a connection has to send a request's headers, from its opening or from the end of
# the previous response (so also how long a kept-alive connection may wait); then it is closed.
header_read_timeout_secs = {header_timeout}
# Seconds a request body has to arrive whole after its headers; then the request gets 408.
body_read_timeout_secs = {body_timeout}
# Seconds without a byte moving either way (a stalled body, a client that stops reading)
# after which a connection is closed.
idle_timeout_secs = {idle_timeout}
# Connections served at once; more wait in the system's listen queue until one closes. At start
# the soft limit on open files is raised to the hard limit, and this is lowered to
# (that limit - 64) / 2 if it does not fit (a connection may hold a socket and a file).
max_connections = {max_connections}
# Seconds a shutdown waits for requests in progress before it closes their connections.
shutdown_grace_secs = {shutdown_grace}
# Strict-Transport-Security: max-age=31536000 (a year; subdomains not included): "auto" sends it
# when site.base_url is https, "on" always, "off" never.
hsts = {hsts}
# Prometheus metrics at /metrics (requests by route kind and status, page-cache hits, misses and
# bytes, sync lag, job queue, ingest items and errors): "off", "loopback" (only clients on this
# machine, e.g. a local scraper or proxy) or "on" (anyone: protect it at the proxy).
metrics = "off"
# glibc malloc arenas of `newsdesk serve` (MALLOC_ARENA_MAX): with glibc's default (8 per core)
# freed memory stays spread over many arenas and a crawler leaves hundreds of MB more resident.
# Too few, and threads wait for each other's arena locks (with 2, a two-word search cost
# 10 % more CPU than with 4). glibc reads it only at start, so serve starts itself again once
# with MALLOC_ARENA_MAX set, unless that variable is set already (e.g. in the service unit).
# 0 = leave glibc's default.
malloc_arenas = {malloc_arenas}
# Seconds between looks at whether to give memory freed by the page caches back to the system
# (glibc's malloc_trim, done when the caches replaced 16 MiB of pages since the last time): glibc
# keeps what is freed in holes between live pages, resident, and a crawler reading every article
# once leaves tens of MB of them. A trim takes a few ms of one core. 0 = never.
malloc_trim_secs = {malloc_trim_secs}

[fetch]
# A PEM file of CA certificates trusted for HTTPS feeds besides the usual public roots, for an
# agency feed served under a private CA ("" = none).
extra_ca_file = {extra_ca}

[cache]
# Bytes of rendered pages kept in memory, counting each page, its compressed forms, its key
# and bookkeeping. Pages read often are kept; the rest are rebuilt when read again.
max_bytes = {cache_bytes}

[jobs]
# Background jobs (polling agency feeds, summary drafts) this node claims and runs at once.
batch = {jobs_batch}
# Seconds a claimed job is held before another worker may take it; renewed while it runs, so it
# only runs out when the worker's process died.
lease_seconds = {jobs_lease}
# Hours a finished job is kept (shown under Jobs in the newsroom) before it is deleted.
keep_done_hours = {jobs_keep_done}
# Jobs that failed for good kept for an admin to read and retry (the newest).
keep_dead = {jobs_keep_dead}

[media]
# Where pictures and videos are stored: "local" (the folder `media` in data_dir; nodes may share
# it over a network file system) or "s3" (an S3-compatible bucket that every node uses).
backend = {media_backend}
# Media files sent at once (each streamed a chunk at a time); more get 503 with Retry-After.
max_streams = {media_streams}
# S3 only: the bucket (it must exist), the endpoint URL ("" = AWS itself, by region), the region,
# and whether the bucket is named in the path (endpoint/bucket/key: MinIO, Ceph, Garage) rather
# than in the host name.
bucket = {media_bucket}
endpoint = {media_endpoint}
region = {media_region}
path_style = {media_path_style}
# S3 only: the names of the environment variables holding the access key id and the secret
# (the keys themselves are never in this file).
access_key_env = {media_access_env}
secret_key_env = {media_secret_env}
# S3 only: time limit of one request to the bucket (a whole streamed video included), in seconds.
timeout_secs = {media_timeout}
[api]
# Requests one API token may make per minute on a node; beyond, 429 (counted before the work).
rate_per_minute = {api_rate}
# Tokens whose minute is counted at once; when full, a token not yet counted gets 429.
rate_tracked_tokens = {api_tracked}
# Stories on a listing page of /api/v1 unless `limit` says otherwise.
page_size = {api_page}
# Largest `limit` a listing takes.
page_size_max = {api_page_max}
# Largest JSON body of a token request, in bytes (read only once the token is known).
body_max_bytes = {api_body}
# Largest picture uploaded through the API, in bytes.
upload_max_bytes = {api_upload}
# Days a new token lives unless its maker says otherwise, and the most it may live.
token_days_default = {api_days}
token_days_max = {api_days_max}
# Corrections listed by /api/v1/corrections (the newest).
corrections_max = {api_corr}
[feedback]
# The readers' feedback form at /feedback. Where the desk is told of new messages
# ("" = site.contact_email).
desk_email = {fb_desk}
# Key of the signed time in the form (HMAC-SHA256). "" = a key made from the site's shared
# secret, which the database keeps (made once, the same on every node).
form_key = {fb_key}
# A form sent sooner than this many seconds after it was shown is refused (0 to 600).
min_fill_seconds = {fb_min_fill}
# A form older than this many hours is refused (1 to 168).
max_form_age_hours = {fb_max_age}
# Messages one address may send per hour, counted before anything else is checked (1 to 1000).
per_address_per_hour = {fb_per_hour}
# Addresses the rate limit remembers (100 to 1000000, about 100 bytes each); when it is full of
# addresses seen in the last hour, new addresses are refused until one expires.
addresses_max = {fb_addresses}
# Most links (http://, https://, www.) in one message (0 to 50).
max_links = {fb_links}
# Longest message, in characters (100 to 100000).
max_message_chars = {fb_chars}

[webhooks]
# Outgoing webhooks (registered by admins in the newsroom). Seconds one delivery may take (1 to 60).
timeout_seconds = {wh_timeout}
# Bytes of a receiver's answer kept with each delivery (0 to 4096).
excerpt_bytes = {wh_excerpt}
# Finished deliveries kept per webhook, the newest (10 to 10000).
keep_deliveries = {wh_keep}
# Webhooks at most (1 to 100).
max_hooks = {wh_max}
# Deliver to private addresses (10/8, 172.16/12, 192.168/16, fc00::/7): only for receivers on your
# own network. Link-local and cloud metadata addresses are refused whatever this says.
allow_private = {wh_private}
# Deliver to loopback addresses (127/8, ::1): for tests only.
allow_loopback = {wh_loopback}
"#,
        listen = q(&d.listen),
        data_dir = q(&d.data_dir.display().to_string()),
        database_url = q(&d.database_url),
        database_pool = d.database_pool,
        changes_poll_ms = d.changes_poll_ms,
        log = q(&d.log),
        cache_bytes = d.cache.max_bytes,
        jobs_batch = d.jobs.batch,
        jobs_lease = d.jobs.lease_seconds,
        jobs_keep_done = d.jobs.keep_done_hours,
        jobs_keep_dead = d.jobs.keep_dead,
        media_backend = toml::Value::try_from(d.media.backend)
            .map(|v| v.to_string())
            .unwrap_or_else(|_| "\"local\"".into()),
        media_streams = d.media.max_streams,
        media_bucket = q(&d.media.bucket),
        media_endpoint = q(&d.media.endpoint),
        media_region = q(&d.media.region),
        media_path_style = d.media.path_style,
        media_access_env = q(&d.media.access_key_env),
        media_secret_env = q(&d.media.secret_key_env),
        media_timeout = d.media.timeout_secs,
        api_rate = d.api.rate_per_minute,
        api_tracked = d.api.rate_tracked_tokens,
        api_page = d.api.page_size,
        api_page_max = d.api.page_size_max,
        api_body = d.api.body_max_bytes,
        api_upload = d.api.upload_max_bytes,
        api_days = d.api.token_days_default,
        api_days_max = d.api.token_days_max,
        api_corr = d.api.corrections_max,
        fb_desk = q(&d.feedback.desk_email),
        fb_key = q(&d.feedback.form_key),
        fb_min_fill = d.feedback.min_fill_seconds,
        fb_max_age = d.feedback.max_form_age_hours,
        fb_per_hour = d.feedback.per_address_per_hour,
        fb_addresses = d.feedback.addresses_max,
        fb_links = d.feedback.max_links,
        fb_chars = d.feedback.max_message_chars,
        wh_timeout = d.webhooks.timeout_seconds,
        wh_excerpt = d.webhooks.excerpt_bytes,
        wh_keep = d.webhooks.keep_deliveries,
        wh_max = d.webhooks.max_hooks,
        wh_private = d.webhooks.allow_private,
        wh_loopback = d.webhooks.allow_loopback,
        name = q(&s.name),
        tagline = q(&s.tagline),
        base_url = q(&s.base_url),
        language = q(&s.language),
        contact = q(&s.contact_email),
        holder = q(&s.copyright_holder),
        linkedin = q(&s.linkedin_url),
        quora = q(&s.quora_url),
        youtube = q(&s.youtube_url),
        page_size = s.page_size,
        half_life = s.trending_half_life_hours,
        trending_size = s.trending_size,
        flush = s.views_flush_seconds,
        views_window = s.views_window_minutes,
        views_per_client = s.views_per_client_window,
        views_seen = s.views_seen_max,
        trending_refresh = s.trending_refresh_seconds,
        totp = s.require_totp_for_editors,
        pw_checks = s.password_checks_at_once,
        transport = mail_value(&d.mail, "transport"),
        outbox = mail_value(&d.mail, "outbox_dir"),
        from = mail_value(&d.mail, "from"),
        tls = mail_value(&d.mail, "smtp_tls"),
        smtp_timeout = mail_value(&d.mail, "smtp_timeout_secs"),
        smtp_pool = mail_value(&d.mail, "smtp_pool"),
        smtp_pool_idle = mail_value(&d.mail, "smtp_pool_idle_secs"),
        extra_ca = q(&d.fetch.extra_ca_file),
        header_timeout = d.server.header_read_timeout_secs,
        body_timeout = d.server.body_read_timeout_secs,
        idle_timeout = d.server.idle_timeout_secs,
        max_connections = d.server.max_connections,
        shutdown_grace = d.server.shutdown_grace_secs,
        malloc_arenas = d.server.malloc_arenas,
        malloc_trim_secs = d.server.malloc_trim_secs,
        hsts = toml::Value::try_from(d.server.hsts)
            .map(|v| v.to_string())
            .unwrap_or_else(|_| "\"auto\"".into()),
    ) + &newsletter_defaults(&d.newsletter)
        + &search_defaults(&d.search)
}

/// The `[search]` section of [`defaults_toml`].
fn search_defaults(s: &SearchConfig) -> String {
    format!(
        r#"
[search]
# Full-text search of the published stories; the index lives in {{data_dir}}/search and is
# built in the background at the first start (`newsdesk search reindex` rebuilds it aside).
# Characters of a query read (10-2000); the rest is cut, and the reader told.
max_query_chars = {max_query_chars}
# Words of a query used, each word of a phrase counting (1-64).
max_terms = {max_terms}
# Results per page (1-100).
per_page = {per_page}
# Result pages a reader can go to (1-1000): the deepest hit collected is per_page x max_pages.
max_pages = {max_pages}
# Searches run at once (0-256; 0 = one per CPU core); more wait for a place.
at_once = {at_once}
# Seconds a search waits for a place before the reader is asked to try again (0-60).
wait_seconds = {wait_seconds}
# Characters of the passage shown under each result (40-2000).
snippet_chars = {snippet_chars}
# Memory of the index writer that follows the change log, MiB (16-4096).
writer_memory_mib = {writer_memory_mib}
# Memory of the index writer of a whole build, MiB (16-8192).
build_memory_mib = {build_memory_mib}
"#,
        max_query_chars = s.max_query_chars,
        max_terms = s.max_terms,
        per_page = s.per_page,
        max_pages = s.max_pages,
        at_once = s.at_once,
        wait_seconds = s.wait_seconds,
        snippet_chars = s.snippet_chars,
        writer_memory_mib = s.writer_memory_mib,
        build_memory_mib = s.build_memory_mib,
    )
}

/// The `[newsletter]` section of [`defaults_toml`].
fn newsletter_defaults(n: &newsdesk_app::newsletter::NewsletterSettings) -> String {
    let q = |v: &str| toml::Value::String(v.to_owned()).to_string();
    format!(
        r#"
[newsletter]
# Key of the signed links in newsletter mails (confirm, preferences, unsubscribe). Empty: a key
# made from the site's shared secret, which the database keeps (made once, the same on every
# node). A {{data_dir}}/newsletter.key from an older version still verifies links already sent.
secret = {secret}
# Shared secret of the bounce/complaint webhook (POST /newsletter/events with
# "Authorization: Bearer <secret>"); empty turns the webhook off (404).
webhook_secret = {webhook_secret}
# Largest webhook body read, in bytes (1024 to 1048576); read only after the secret matched.
webhook_max_bytes = {webhook_max_bytes}
# Local hour (0-23, each edition's own time zone) at which the day's digests are made.
digest_hour = {digest_hour}
# Day of the weekly digest: mon, tue, wed, thu, fri, sat or sun.
weekly_day = {weekly_day}
# Stories in one reader's digest (1-50).
stories_per_digest = {stories}
# Messages per second handed to the mail transport, all digests together (1-10000).
max_per_second = {per_second}
# Send rows a sending job reads per round (1-10000).
send_batch = {batch}
# Messages of one digest in flight at once (1-64); the SMTP connections they use stay open
# between messages (mail.smtp_pool).
concurrency = {concurrency}
# Attempts of one message before it fails for good (1-20); retried with back-off.
max_attempts = {attempts}
# Seconds before a message's first retry, doubled at each further attempt (1-3600).
retry_base_seconds = {retry}
# Hours a confirmation link works (1-720).
confirm_valid_hours = {confirm_hours}
# Minutes before a pending address is sent a second confirmation (0-1440).
confirm_resend_minutes = {resend}
# Subscribe requests per client address per hour (1-1000) and per e-mail address (1-100),
# counted before any work.
per_client_hour = {per_client}
per_address_hour = {per_address}
# Clients and addresses the subscribe throttle remembers (100-1000000); when full, new ones
# are refused until the hour ends.
throttle_entries = {throttle}
# Most rows in one CSV export of subscribers (1-10000000).
export_max = {export_max}
"#,
        secret = q(&n.secret),
        webhook_secret = q(&n.webhook_secret),
        webhook_max_bytes = n.webhook_max_bytes,
        digest_hour = n.digest_hour,
        weekly_day = q(&n.weekly_day),
        stories = n.stories_per_digest,
        per_second = n.max_per_second,
        batch = n.send_batch,
        concurrency = n.concurrency,
        attempts = n.max_attempts,
        retry = n.retry_base_seconds,
        confirm_hours = n.confirm_valid_hours,
        resend = n.confirm_resend_minutes,
        per_client = n.per_client_hour,
        per_address = n.per_address_hour,
        throttle = n.throttle_entries,
        export_max = n.export_max,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_backend_is_the_local_folder_unless_s3_is_chosen_with_its_credentials() {
        let local = Config::default()
            .media
            .open(Path::new("/srv/media"), |_| None)
            .unwrap();
        assert_eq!(local.describe(), "folder /srv/media");
        let env = [
            ("NEWSDESK_MEDIA__BACKEND", "s3"),
            ("NEWSDESK_MEDIA__BUCKET", "site-media"),
            ("NEWSDESK_MEDIA__ENDPOINT", "http://127.0.0.1:9000"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let (cfg, _) = Config::load(None, env.into_iter()).unwrap();
        assert_eq!(cfg.media.backend, MediaBackend::S3);
        let missing = cfg
            .media
            .open(Path::new("/srv/media"), |_| None)
            .err()
            .unwrap()
            .to_string();
        assert!(missing.contains("AWS_ACCESS_KEY_ID"), "{missing}");
        let s3 = cfg
            .media
            .open(Path::new("/srv/media"), |k| Some(format!("{k}-value")))
            .unwrap();
        assert_eq!(
            s3.describe(),
            "S3 bucket site-media at http://127.0.0.1:9000"
        );
    }

    #[test]
    fn printed_defaults_are_the_defaults_and_name_every_setting() {
        let text = defaults_toml();
        let parsed: Config = toml::from_str(&text).unwrap();
        assert_eq!(
            toml::to_string(&parsed).unwrap(),
            toml::to_string(&Config::default()).unwrap()
        );
        // Every key of the real struct appears in the printed file.
        let keys = toml::Value::try_from(Config::default()).unwrap();
        for (k, v) in keys.as_table().unwrap() {
            assert!(
                text.contains(&format!("{k} =")) || text.contains(&format!("[{k}]")),
                "{k} missing"
            );
            if let Some(t) = v.as_table() {
                for k2 in t.keys() {
                    assert!(text.contains(&format!("{k2} =")), "{k2} missing");
                }
            }
        }
    }

    #[test]
    fn social_profile_links_are_unset_by_default_and_configurable() {
        let d = Config::default();
        assert!(d.site.linkedin_url.is_empty());
        assert!(d.site.quora_url.is_empty());
        assert!(d.site.youtube_url.is_empty());
        let text = defaults_toml();
        for k in ["linkedin_url", "quora_url", "youtube_url"] {
            assert!(text.contains(&format!("{k} = \"\"")), "{k} is shown unset");
        }
        let env = vec![(
            "NEWSDESK_SITE__YOUTUBE_URL".to_owned(),
            "https://www.youtube.com/@ourdesk".to_owned(),
        )];
        let (c, _) = Config::load(None, env.into_iter()).unwrap();
        assert_eq!(c.site.youtube_url, "https://www.youtube.com/@ourdesk");
    }

    #[test]
    fn freed_memory_is_given_back_after_the_page_caches_replaced_16_mib() {
        assert_eq!(Config::default().server.malloc_trim_secs, 10);
        let c: Config = toml::from_str("[server]\nmalloc_trim_secs = 0\n").unwrap();
        assert_eq!(c.server.malloc_trim_secs, 0);
        // 10,000 entries of 10 KiB: 1,639 builds are 16 MiB, 1,638 not quite.
        let (held, entries) = (10_000 * 10_240, 10_000);
        assert!(trim_due(1_639, held, entries));
        assert!(!trim_due(1_638, held, entries));
        // Nothing built, or nothing held: nothing to give back.
        assert!(!trim_due(0, held, entries));
        assert!(!trim_due(5_000, 0, 0));
        assert!(trim_due(u64::MAX, held, entries));
    }

    #[test]
    fn malloc_arenas_parse_and_decide_the_restart_of_serve() {
        assert_eq!(Config::default().server.malloc_arenas, 4);
        let c: Config = toml::from_str("[server]\nmalloc_arenas = 2\n").unwrap();
        assert_eq!(c.server.malloc_arenas, 2);
        let env = vec![("NEWSDESK_SERVER__MALLOC_ARENAS".to_owned(), "0".to_owned())];
        let (c, ignored) = Config::load(None, env.into_iter()).unwrap();
        assert!(ignored.is_empty());
        assert_eq!(c.server.malloc_arenas, 0);
        assert!(toml::from_str::<Config>("[server]\nmalloc_arenas = -1\n").is_err());

        let set = std::ffi::OsStr::new("8");
        // Not set yet: start again with the configured number.
        assert_eq!(arena_reexec(true, None, 2), Some("2".into()));
        assert_eq!(arena_reexec(true, None, 16), Some("16".into()));
        // Set already (by the operator, or by the first start): never again, never overridden.
        assert_eq!(arena_reexec(true, Some(set), 2), None);
        assert_eq!(arena_reexec(true, Some(std::ffi::OsStr::new("")), 2), None);
        // 0 leaves glibc's default; other C libraries do not read the variable.
        assert_eq!(arena_reexec(true, None, 0), None);
        assert_eq!(arena_reexec(false, None, 2), None);
    }

    #[test]
    fn file_then_env_override_defaults() {
        let dir = std::env::temp_dir().join(format!("nd-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("c.toml");
        std::fs::write(
            &f,
            "listen = \"0.0.0.0:9\"\n[site]\nname = \"Daily\"\npage_size = 5\n",
        )
        .unwrap();
        let env = vec![
            ("NEWSDESK_SITE__PAGE_SIZE".to_owned(), "7".to_owned()),
            (
                "NEWSDESK_SITE__BASE_URL".to_owned(),
                "https://news.example".to_owned(),
            ),
            ("OTHER".to_owned(), "x".to_owned()),
        ];
        let (c, ignored) = Config::load(Some(&f), env.into_iter()).unwrap();
        assert!(ignored.is_empty());
        assert_eq!(c.listen, "0.0.0.0:9");
        assert_eq!(c.site.name, "Daily");
        assert_eq!(c.site.page_size, 7);
        assert_eq!(c.site.base_url, "https://news.example");
        let bad = Config::load(
            None,
            vec![("NEWSDESK_SITE__PAGE_SIZE".to_owned(), "many".to_owned())].into_iter(),
        );
        assert!(bad.is_err());
        let typo = Config::load(
            None,
            vec![("NEWSDESK_SITE__NAMEE".to_owned(), "x".to_owned())].into_iter(),
        );
        assert!(typo.is_err(), "a misspelt key inside a section is refused");
        let (_, ignored) = Config::load(
            None,
            vec![("NEWSDESK_BIN".to_owned(), "/x".to_owned())].into_iter(),
        )
        .unwrap();
        assert_eq!(ignored, ["NEWSDESK_BIN"]);
        let missing = dir.join("missing.pem");
        let with_ca = Config::load(
            None,
            vec![(
                "NEWSDESK_FETCH__EXTRA_CA_FILE".to_owned(),
                missing.display().to_string(),
            )]
            .into_iter(),
        )
        .unwrap()
        .0;
        let err = with_ca.fetch.policy().unwrap_err().to_string();
        assert!(err.contains("extra_ca_file"), "{err}");
        std::fs::write(&missing, "not a certificate").unwrap();
        let err = with_ca.fetch.policy().unwrap_err().to_string();
        assert!(err.contains("extra_ca_file"), "{err}");
        assert!(Config::default()
            .fetch
            .policy()
            .unwrap()
            .extra_root_certs
            .is_empty());
        std::fs::write(&f, "nonsense_key = 1\n").unwrap();
        assert!(Config::load(Some(&f), std::iter::empty()).is_err());
    }

    #[test]
    fn optional_numbers_and_booleans_parse_from_the_environment() {
        let env = |pairs: &[(&str, &str)]| {
            Config::load(
                None,
                pairs
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect::<Vec<_>>()
                    .into_iter(),
            )
        };
        let (c, _) = env(&[
            ("NEWSDESK_MAIL__SMTP_PORT", "2525"),
            ("NEWSDESK_MAIL__SMTP_PASSWORD", "12345"),
            ("NEWSDESK_MAIL__SMTP_USERNAME", "true"),
            ("NEWSDESK_SITE__PAGE_SIZE", " 9 "),
        ])
        .unwrap();
        assert_eq!(c.mail.smtp_port, Some(2525));
        assert_eq!(c.mail.smtp_password.as_deref(), Some("12345"));
        assert_eq!(c.mail.smtp_username.as_deref(), Some("true"));
        assert_eq!(c.site.page_size, 9);
        let err = env(&[("NEWSDESK_MAIL__SMTP_PORT", "smtp")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("smtp_port"), "{err}");
        assert!(env(&[("NEWSDESK_MAIL__SMTP_PORT", "70000")]).is_err());
    }

    #[test]
    fn config_show_redacts_secrets() {
        let mut c = Config {
            database_url: "postgres://newsdesk:s3cret-pw@db.internal:5432/news?sslmode=require"
                .into(),
            ..Config::default()
        };
        c.mail.smtp_password = Some("mail-pw".into());
        c.mail.smtp_username = Some("desk".into());
        c.newsletter.secret = "link-key".into();
        c.newsletter.webhook_secret = "hook-key".into();
        c.feedback.form_key = "form-key".into();
        let shown = show_toml(&c).unwrap();
        for secret in ["s3cret-pw", "mail-pw", "link-key", "hook-key", "form-key"] {
            assert!(!shown.contains(secret), "{secret} shown:\n{shown}");
        }
        assert!(
            shown.contains("postgres://newsdesk:<redacted>@db.internal:5432/news?sslmode=require"),
            "{shown}"
        );
        assert!(shown.contains("smtp_username = \"desk\""), "{shown}");
        // What is not secret is shown as it is, and unset secrets stay empty.
        let plain = show_toml(&Config::default()).unwrap();
        assert!(!plain.contains("<redacted>"), "{plain}");
        assert!(plain.contains("secret_key_env = \"AWS_SECRET_ACCESS_KEY\""));
        assert_eq!(
            mask_url_password("host=db user=nd password=pw dbname=news").as_deref(),
            Some("host=db user=nd password=<redacted> dbname=news")
        );
        assert_eq!(mask_url_password("postgres://nd@db/news"), None);
        assert_eq!(mask_url_password("https://news.example/a@b"), None);
    }

    #[test]
    fn base_url_follows_the_address_served() {
        let addr = |s: &str| s.parse::<std::net::SocketAddr>().unwrap();
        let mut c = Config::default();
        assert_eq!(c.site.base_url, "", "unset by default");
        assert_eq!(c.resolve_base_url(addr("127.0.0.1:9000")), None);
        assert_eq!(c.site.base_url, "http://127.0.0.1:9000");
        let mut c = Config::default();
        let warning = c.resolve_base_url(addr("0.0.0.0:9000")).unwrap();
        assert_eq!(c.site.base_url, "http://127.0.0.1:9000");
        assert!(warning.contains("all addresses"), "{warning}");
        for (base, bound, warns) in [
            ("http://127.0.0.1:8080", "127.0.0.1:9000", true),
            ("http://127.0.0.2:9000", "127.0.0.1:9000", true),
            ("http://localhost", "127.0.0.1:9000", true),
            ("http://127.0.0.1:9000/", "127.0.0.1:9000", false),
            ("http://LOCALHOST:9000", "127.0.0.1:9000", false),
            ("http://[::1]:9000", "[::1]:9000", false),
            ("http://192.0.2.7", "0.0.0.0:80", false),
            // A public name differs from the listener whenever a proxy is in front.
            ("https://news.example", "127.0.0.1:8080", false),
        ] {
            let mut c = Config::default();
            c.site.base_url = base.into();
            assert_eq!(
                c.resolve_base_url(addr(bound)).is_some(),
                warns,
                "{base} served at {bound}"
            );
            assert_eq!(c.site.base_url, base.trim_end_matches('/'));
        }
    }

    #[test]
    fn server_limits_fit_the_descriptors_and_hsts_follows_the_scheme() {
        let s = ServerConfig::default();
        let (l, lowered) = s.limits(Some(1024));
        assert_eq!((l.max_connections, lowered), (480, Some(4096)));
        let (l, lowered) = s.limits(Some(1 << 20));
        assert_eq!((l.max_connections, lowered), (4096, None));
        assert_eq!(s.limits(None).0.max_connections, 4096);
        assert_eq!(s.limits(Some(10)).0.max_connections, 1);
        assert_eq!(l.header_read_timeout.as_secs(), 10);
        assert!(s.hsts_on("https://news.example") && !s.hsts_on("http://127.0.0.1:8080"));
        let on = |v: &str| {
            Config::load(
                None,
                vec![("NEWSDESK_SERVER__HSTS".to_owned(), v.to_owned())].into_iter(),
            )
            .map(|(c, _)| c.server.hsts_on("http://127.0.0.1:8080"))
        };
        assert!(on("on").unwrap());
        assert!(!on("off").unwrap());
        assert!(on("sometimes").is_err(), "a bad value is refused");
    }
}
