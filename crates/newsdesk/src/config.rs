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
    /// Database URL; empty means `sqlite://{data_dir}/newsdesk.db`.
    pub database_url: String,
    /// Log filter (tracing `EnvFilter` syntax).
    pub log: String,
    /// The site.
    pub site: SiteConfig,
    /// Outgoing e-mail.
    pub mail: newsdesk_mail::MailConfig,
    /// Fetching agency feeds.
    pub fetch: FetchConfig,
    /// The page cache.
    pub cache: CacheConfig,
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
            log: "info".into(),
            cache: CacheConfig::default(),
            site: SiteConfig::default(),
            mail: newsdesk_mail::MailConfig::default(),
            fetch: FetchConfig::default(),
        }
    }
}

impl Config {
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
# Database URL. Empty: the embedded SQLite database at {{data_dir}}/newsdesk.db.
database_url = {database_url}
# Log filter, e.g. "info" or "newsdesk_web=debug,info".
log = {log}

[site]
# Site name, used in titles, feeds and the footer.
name = {name}
# One line under the name, used as the feed description.
tagline = {tagline}
# Public address of the site without a trailing slash: absolute links start with it.
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
# At most how often a trending change alone re-renders an edition's side rail (and so re-assembles
# its pages), in seconds; 0 = at every change. A busy site may set 30 or 60.
trending_refresh_seconds = {trending_refresh}
# Whether editors and admins must also give a one-time code (TOTP app) to log in.
require_totp_for_editors = {totp}

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

[fetch]
# A PEM file of CA certificates trusted for HTTPS feeds besides the usual public roots, for an
# agency feed served under a private CA ("" = none).
extra_ca_file = {extra_ca}

[cache]
# Bytes of rendered pages kept in memory, counting each page, its compressed forms, its key
# and bookkeeping. Pages read often are kept; the rest are rebuilt when read again.
max_bytes = {cache_bytes}
"#,
        listen = q(&d.listen),
        data_dir = q(&d.data_dir.display().to_string()),
        database_url = q(&d.database_url),
        log = q(&d.log),
        cache_bytes = d.cache.max_bytes,
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
        trending_refresh = s.trending_refresh_seconds,
        totp = s.require_totp_for_editors,
        transport = mail_value(&d.mail, "transport"),
        outbox = mail_value(&d.mail, "outbox_dir"),
        from = mail_value(&d.mail, "from"),
        tls = mail_value(&d.mail, "smtp_tls"),
        smtp_timeout = mail_value(&d.mail, "smtp_timeout_secs"),
        extra_ca = q(&d.fetch.extra_ca_file),
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
}
