//! Outgoing e-mail for newsdesk: one [`Mailer`] trait, three transports and the templates.
//!
//! - [`SmtpMailer`]: a real SMTP relay through lettre (plain, STARTTLS or implicit TLS over rustls).
//! - [`FileOutbox`]: writes every message as an RFC 5322 `.eml` file into a folder (the default, so
//!   a fresh install never sends mail by surprise and an operator can read what would have gone).
//! - [`MemoryMailer`]: keeps messages in memory, for tests of the code that sends mail.
//!
//! [`from_config`] picks the transport from a [`MailConfig`]. [`templates`] renders the bodies of
//! the mails the newsroom sends (invitations, password resets).
//!
//! Every transport checks a [`Message`] the same way before doing anything: the subject and the
//! extra headers may not contain CR or LF (header injection), header names must be plain RFC 5322
//! field names, and the headers the mailer writes itself (From, To, Subject, …) may not be
//! overridden.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use newsdesk_domain::EmailAddress;
use serde::{Deserialize, Serialize};

mod memory;
mod outbox;
mod smtp;
pub mod templates;

pub use memory::MemoryMailer;
pub use outbox::FileOutbox;
pub use smtp::{SmtpConfig, SmtpMailer, SmtpTls};

/// One e-mail to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Recipient.
    pub to: EmailAddress,
    /// Subject line; no CR or LF.
    pub subject: String,
    /// Plain-text body (always sent).
    pub text: String,
    /// HTML alternative; when set the mail is `multipart/alternative` (text first, then HTML).
    pub html: Option<String>,
    /// Extra header fields, in order, e.g. `List-Unsubscribe` and `List-Unsubscribe-Post`.
    /// Names are RFC 5322 field names; values have no CR or LF (long values are folded for you);
    /// each name at most once; From, To, Subject, Date and the MIME headers are refused. A
    /// `Message-ID` given here (`<left@right>`, no spaces) replaces the random one the mailer
    /// makes, so a message sent again keeps its identity.
    pub headers: Vec<(String, String)>,
}

impl Message {
    /// A message from rendered template parts, with no extra headers.
    pub fn new(to: EmailAddress, body: templates::Rendered) -> Self {
        Self {
            to,
            subject: body.subject,
            text: body.text,
            html: Some(body.html),
            headers: Vec::new(),
        }
    }

    /// Adds a header field (checked when the message is sent).
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Checks the subject and the extra headers; every transport calls this before sending.
    pub fn validate(&self) -> Result<(), MailError> {
        if has_line_break(&self.subject) {
            return Err(MailError::HeaderInjection {
                field: "Subject".to_owned(),
            });
        }
        let mut seen: Vec<String> = Vec::with_capacity(self.headers.len());
        for (name, value) in &self.headers {
            if has_line_break(name) || has_line_break(value) {
                return Err(MailError::HeaderInjection {
                    field: printable(name),
                });
            }
            if name.is_empty() || name.len() > 76 || !name.bytes().all(is_field_name_byte) {
                return Err(MailError::InvalidHeader(format!(
                    "{:?} is not a valid header name",
                    printable(name)
                )));
            }
            let lower = name.to_ascii_lowercase();
            if RESERVED_HEADERS.contains(&lower.as_str()) {
                return Err(MailError::InvalidHeader(format!(
                    "the header {name} is set by the mailer and cannot be given"
                )));
            }
            if lower == "message-id" && !is_msg_id(value) {
                return Err(MailError::InvalidHeader(format!(
                    "{:?} is not a Message-ID of the form <left@right>",
                    printable(value)
                )));
            }
            if seen.contains(&lower) {
                return Err(MailError::InvalidHeader(format!(
                    "the header {name} is given twice"
                )));
            }
            if value.chars().any(|c| c.is_control() && c != '\t') {
                return Err(MailError::InvalidHeader(format!(
                    "the header {name} has a control character"
                )));
            }
            seen.push(lower);
        }
        Ok(())
    }
}

/// Headers the mailer writes itself (lower case).
const RESERVED_HEADERS: &[&str] = &[
    "from",
    "to",
    "cc",
    "bcc",
    "sender",
    "subject",
    "date",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
];

fn has_line_break(s: &str) -> bool {
    s.contains(['\r', '\n'])
}

/// `<left@right>` with printable ASCII and no spaces or further angle brackets.
fn is_msg_id(v: &str) -> bool {
    let Some(inner) = v.strip_prefix('<').and_then(|v| v.strip_suffix('>')) else {
        return false;
    };
    let ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| (33..=126).contains(&b) && b != b'<' && b != b'>' && b != b'@')
    };
    matches!(inner.split_once('@'), Some((l, r)) if ok(l) && ok(r)) && v.len() <= 250
}

/// RFC 5322 `ftext`: printable US-ASCII except the colon.
fn is_field_name_byte(b: u8) -> bool {
    (33..=126).contains(&b) && b != b':'
}

/// A header name safe to show in an error message.
fn printable(s: &str) -> String {
    s.escape_debug().to_string()
}

/// Why a mail could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// A subject or header value contains CR or LF: refused, it could inject headers.
    #[error("the {field} header contains a line break (CR or LF), which is refused")]
    HeaderInjection {
        /// The offending field.
        field: String,
    },
    /// A header name or value is not acceptable.
    #[error("invalid header: {0}")]
    InvalidHeader(String),
    /// The sender or recipient address was refused.
    #[error("invalid address: {0}")]
    Address(String),
    /// The mailer configuration is wrong.
    #[error("mail configuration: {0}")]
    Config(String),
    /// The message could not be assembled.
    #[error("could not build the message: {0}")]
    Build(String),
    /// The SMTP exchange failed.
    #[error("SMTP: {message}")]
    Smtp {
        /// What went wrong.
        message: String,
        /// The server refused for good (5xx): trying again will not help.
        permanent: bool,
    },
    /// Writing to the outbox failed.
    #[error("outbox: {0}")]
    Io(#[from] std::io::Error),
}

impl MailError {
    /// Whether sending again later may work (network trouble, 4xx, a full disk), as opposed to a
    /// message or configuration that will always be refused.
    pub fn is_retryable(&self) -> bool {
        match self {
            MailError::Smtp { permanent, .. } => !permanent,
            MailError::Io(_) => true,
            _ => false,
        }
    }
}

/// Something that sends [`Message`]s.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends one message (checked with [`Message::validate`] first).
    async fn send(&self, m: &Message) -> Result<(), MailError>;
    /// `"smtp"`, `"outbox"` or `"memory"`, for logs and the admin screen.
    fn kind(&self) -> &'static str;
}

/// Which transport [`from_config`] builds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// [`FileOutbox`] into `outbox_dir`.
    #[default]
    Outbox,
    /// [`SmtpMailer`] to `smtp_host`.
    Smtp,
}

/// The `[mail]` section of the configuration.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    /// `"outbox"` (default) or `"smtp"`.
    pub transport: Transport,
    /// Folder of the file outbox (default `./data/outbox`).
    pub outbox_dir: PathBuf,
    /// Sender, `Name <address>` or a bare address (default `newsdesk <desk@newsdesk.example>`).
    pub from: String,
    /// SMTP relay host name (required for `smtp`; also the name checked against its certificate).
    pub smtp_host: Option<String>,
    /// SMTP port; default by `smtp_tls`: 25 for `none`, 587 for `starttls`, 465 for `tls`.
    pub smtp_port: Option<u16>,
    /// SMTP user name; AUTH is used only when a user name is set.
    pub smtp_username: Option<String>,
    /// SMTP password (empty when missing).
    pub smtp_password: Option<String>,
    /// `"none"`, `"starttls"` (default) or `"tls"`; see [`SmtpTls`].
    pub smtp_tls: SmtpTls,
    /// Time limit for each SMTP command, in seconds (default 30).
    pub smtp_timeout_secs: u64,
    /// SMTP connections kept open between messages, for sending many in a row (0 to 256,
    /// default 16; 0 opens a new connection for every message).
    pub smtp_pool: u32,
    /// Seconds a kept SMTP connection may stay unused before it is closed (1 to 3600, default 30).
    pub smtp_pool_idle_secs: u64,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            transport: Transport::Outbox,
            outbox_dir: PathBuf::from("./data/outbox"),
            from: "newsdesk <desk@newsdesk.example>".to_owned(),
            smtp_host: None,
            smtp_port: None,
            smtp_username: None,
            smtp_password: None,
            smtp_tls: SmtpTls::default(),
            smtp_timeout_secs: 30,
            smtp_pool: 16,
            smtp_pool_idle_secs: 30,
        }
    }
}

impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConfig")
            .field("transport", &self.transport)
            .field("outbox_dir", &self.outbox_dir)
            .field("from", &self.from)
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("smtp_username", &self.smtp_username)
            .field(
                "smtp_password",
                &self.smtp_password.as_ref().map(|_| "<redacted>"),
            )
            .field("smtp_tls", &self.smtp_tls)
            .field("smtp_timeout_secs", &self.smtp_timeout_secs)
            .field("smtp_pool", &self.smtp_pool)
            .field("smtp_pool_idle_secs", &self.smtp_pool_idle_secs)
            .finish()
    }
}

/// Builds the mailer the configuration asks for. Needs no async runtime; checks the sender
/// address and, for SMTP, the host and TLS settings, but does not connect.
pub fn from_config(cfg: &MailConfig) -> Result<Arc<dyn Mailer>, MailError> {
    let from = parse_mailbox(&cfg.from)?;
    match cfg.transport {
        Transport::Outbox => Ok(Arc::new(FileOutbox::new(cfg.outbox_dir.clone(), from))),
        Transport::Smtp => {
            let host = cfg
                .smtp_host
                .as_deref()
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .ok_or_else(|| MailError::Config("smtp_host is required for SMTP".to_owned()))?;
            let smtp = SmtpConfig {
                host: host.to_owned(),
                port: cfg.smtp_port,
                username: cfg.smtp_username.clone().filter(|u| !u.is_empty()),
                password: cfg.smtp_password.clone(),
                tls: cfg.smtp_tls,
                from,
                timeout: std::time::Duration::from_secs(cfg.smtp_timeout_secs.max(1)),
                pool_size: cfg.smtp_pool.min(256),
                pool_idle: std::time::Duration::from_secs(cfg.smtp_pool_idle_secs.clamp(1, 3600)),
            };
            Ok(Arc::new(SmtpMailer::new(smtp)?))
        }
    }
}

/// Parses a sender such as `newsdesk <desk@newsdesk.example>` or `desk@newsdesk.example`.
pub fn parse_mailbox(s: &str) -> Result<Mailbox, MailError> {
    if has_line_break(s) {
        return Err(MailError::HeaderInjection {
            field: "From".to_owned(),
        });
    }
    s.trim()
        .parse::<Mailbox>()
        .map_err(|e| MailError::Address(format!("{s:?}: {e}")))
}

/// Assembles the RFC 5322 message lettre sends or writes.
pub(crate) fn build(from: &Mailbox, m: &Message) -> Result<lettre::Message, MailError> {
    m.validate()?;
    let to: lettre::Address =
        m.to.as_str()
            .parse()
            .map_err(|e| MailError::Address(format!("{}: {e}", m.to)))?;
    let mut builder = lettre::Message::builder()
        .from(from.clone())
        .to(Mailbox::new(None, to))
        .subject(m.subject.as_str());
    let given_id = m
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("message-id"))
        .map(|(_, v)| v.clone());
    builder = builder.message_id(given_id);
    for (name, value) in &m.headers {
        if name.eq_ignore_ascii_case("message-id") {
            continue;
        }
        let name = HeaderName::new_from_ascii(name.clone()).map_err(|_| {
            MailError::InvalidHeader(format!("{name:?} is not a valid header name"))
        })?;
        builder = builder.raw_header(HeaderValue::new(name, value.clone()));
    }
    let built = match &m.html {
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(
            m.text.clone(),
            html.clone(),
        )),
        None => builder.singlepart(SinglePart::plain(m.text.clone())),
    };
    built.map_err(|e| MailError::Build(e.to_string()))
}

/// The message as it would go over the wire, for previews and tests.
pub fn format_message(from: &Mailbox, m: &Message) -> Result<Vec<u8>, MailError> {
    Ok(build(from, m)?.formatted())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg() -> Message {
        Message {
            to: EmailAddress::parse("reader@example.org").unwrap(),
            subject: "Hello".to_owned(),
            text: "Body".to_owned(),
            html: None,
            headers: vec![],
        }
    }

    #[test]
    fn refuses_line_breaks_in_subject_and_headers() {
        let mut m = msg();
        m.subject = "Hi\r\nBcc: victim@example.org".to_owned();
        assert!(matches!(
            m.validate(),
            Err(MailError::HeaderInjection { ref field }) if field == "Subject"
        ));
        let m = msg().with_header("List-Unsubscribe", "<https://x.example/u>\nBcc: a@b.c");
        let err = m.validate().unwrap_err();
        assert!(err.to_string().contains("line break"), "{err}");
        let m = msg().with_header("X-Evil\r\nBcc", "a@b.c");
        assert!(matches!(
            m.validate(),
            Err(MailError::HeaderInjection { .. })
        ));
    }

    #[test]
    fn refuses_bad_and_reserved_header_names() {
        for name in [
            "",
            "Has Space",
            "Colon:",
            "Bcc",
            "FROM",
            "content-type",
            "Ünicode",
        ] {
            let m = msg().with_header(name, "x");
            assert!(
                matches!(m.validate(), Err(MailError::InvalidHeader(_))),
                "{name:?}"
            );
        }
        let m = msg().with_header("X-A", "1").with_header("x-a", "2");
        assert!(matches!(m.validate(), Err(MailError::InvalidHeader(_))));
        let m = msg().with_header("X-A", "nul\0byte");
        assert!(matches!(m.validate(), Err(MailError::InvalidHeader(_))));
    }

    #[test]
    fn a_given_message_id_is_kept() {
        let from = parse_mailbox("desk <desk@newsdesk.example>").unwrap();
        let m = msg().with_header("Message-ID", "<newsletter.3.7@news.example>");
        let raw = String::from_utf8(format_message(&from, &m).unwrap()).unwrap();
        assert_eq!(raw.matches("Message-ID:").count(), 1, "{raw}");
        assert!(
            raw.contains("Message-ID: <newsletter.3.7@news.example>\r\n"),
            "{raw}"
        );
        for bad in ["newsletter@x", "<a b@c>", "<a@b><c@d>", "<@b>", "<a@>"] {
            let m = msg().with_header("Message-ID", bad);
            assert!(
                matches!(m.validate(), Err(MailError::InvalidHeader(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn build_refuses_what_validate_refuses() {
        let from = parse_mailbox("desk <desk@newsdesk.example>").unwrap();
        let mut m = msg();
        m.subject = "a\nb".to_owned();
        assert!(build(&from, &m).is_err());
        assert!(parse_mailbox("x <a@b.example>\r\nBcc: c@d.example").is_err());
        assert!(parse_mailbox("not an address").is_err());
    }

    #[test]
    fn formats_a_message_with_extra_headers() {
        let from = parse_mailbox("newsdesk <desk@newsdesk.example>").unwrap();
        let m = msg()
            .with_header("List-Unsubscribe", "<https://news.example/u/abc>")
            .with_header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
        let raw = String::from_utf8(format_message(&from, &m).unwrap()).unwrap();
        assert!(
            raw.contains("List-Unsubscribe: <https://news.example/u/abc>\r\n"),
            "{raw}"
        );
        assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
        assert!(raw.contains("To: reader@example.org\r\n"));
        assert!(raw.contains("Message-ID: <"));
        assert!(raw.contains("Date: "));
    }

    #[test]
    fn config_defaults_and_parsing() {
        let d = MailConfig::default();
        assert_eq!(d.transport, Transport::Outbox);
        assert_eq!(d.outbox_dir, PathBuf::from("./data/outbox"));
        assert_eq!(d.from, "newsdesk <desk@newsdesk.example>");
        let cfg: MailConfig = toml::from_str(
            r#"
            transport = "smtp"
            smtp_host = "mail.example.org"
            smtp_port = 2525
            smtp_username = "desk"
            smtp_password = "secret"
            smtp_tls = "tls"
            "#,
        )
        .unwrap();
        assert_eq!(cfg.transport, Transport::Smtp);
        assert_eq!(cfg.smtp_tls, SmtpTls::Tls);
        assert!(!format!("{cfg:?}").contains("secret"));
        let back: MailConfig = toml::from_str(&toml::to_string(&cfg).unwrap()).unwrap();
        assert_eq!(back, cfg);
        assert!(toml::from_str::<MailConfig>("smtp_tls = \"ssl\"").is_err());
    }

    #[test]
    fn from_config_picks_the_transport() {
        let outbox = from_config(&MailConfig::default()).unwrap();
        assert_eq!(outbox.kind(), "outbox");
        let smtp = from_config(&MailConfig {
            transport: Transport::Smtp,
            smtp_host: Some("mail.example.org".to_owned()),
            ..MailConfig::default()
        })
        .unwrap();
        assert_eq!(smtp.kind(), "smtp");
        let missing = from_config(&MailConfig {
            transport: Transport::Smtp,
            ..MailConfig::default()
        });
        assert!(matches!(missing, Err(MailError::Config(_))));
        let bad_from = from_config(&MailConfig {
            from: "nobody".to_owned(),
            ..MailConfig::default()
        });
        assert!(matches!(bad_from, Err(MailError::Address(_))));
    }
}
