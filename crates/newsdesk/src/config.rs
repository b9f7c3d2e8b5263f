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
            malloc_arenas: 2,
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
            log: "info".into(),
            cache: CacheConfig::default(),
            jobs: JobsConfig::default(),
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
                set_path(&mut value, &path, &v);
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

fn set_path(value: &mut toml::Value, path: &[String], raw: &str) {
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
    // Keep the type of the default: numbers and booleans parse, everything else is a string.
    let parsed = match t.get(last) {
        Some(toml::Value::Integer(_)) => raw.parse().map(toml::Value::Integer).ok(),
        Some(toml::Value::Float(_)) => raw.parse().map(toml::Value::Float).ok(),
        Some(toml::Value::Boolean(_)) => raw.parse().map(toml::Value::Boolean).ok(),
        _ => None,
    };
    t.insert(
        last.clone(),
        parsed.unwrap_or_else(|| toml::Value::String(raw.to_owned())),
    );
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
# Contact e-mail shown in the footer, and the address of the feedback and newsletter links.
contact_email = {contact}
# Holder named in the copyright line.
copyright_holder = {holder}
# Social profile links on every page (empty hides one).
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
# glibc reads it only at start, so serve starts itself again once with MALLOC_ARENA_MAX set,
# unless that variable is set already (e.g. in the service unit). 0 = leave glibc's default.
malloc_arenas = {malloc_arenas}

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
"#,
        listen = q(&d.listen),
        data_dir = q(&d.data_dir.display().to_string()),
        database_url = q(&d.database_url),
        database_pool = d.database_pool,
        log = q(&d.log),
        cache_bytes = d.cache.max_bytes,
        jobs_batch = d.jobs.batch,
        jobs_lease = d.jobs.lease_seconds,
        jobs_keep_done = d.jobs.keep_done_hours,
        jobs_keep_dead = d.jobs.keep_dead,
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
        extra_ca = q(&d.fetch.extra_ca_file),
        header_timeout = d.server.header_read_timeout_secs,
        body_timeout = d.server.body_read_timeout_secs,
        idle_timeout = d.server.idle_timeout_secs,
        max_connections = d.server.max_connections,
        shutdown_grace = d.server.shutdown_grace_secs,
        malloc_arenas = d.server.malloc_arenas,
        hsts = toml::Value::try_from(d.server.hsts)
            .map(|v| v.to_string())
            .unwrap_or_else(|_| "\"auto\"".into()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn malloc_arenas_parse_and_decide_the_restart_of_serve() {
        assert_eq!(Config::default().server.malloc_arenas, 2);
        let c: Config = toml::from_str("[server]\nmalloc_arenas = 4\n").unwrap();
        assert_eq!(c.server.malloc_arenas, 4);
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
