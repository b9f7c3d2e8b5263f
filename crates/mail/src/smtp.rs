//! [`SmtpMailer`]: sends through an SMTP relay with lettre.

use std::time::Duration;

use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::{AsyncSmtpTransportBuilder, PoolConfig};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::{Deserialize, Serialize};

use crate::{build, MailError, Mailer, Message};

/// How the SMTP connection is protected.
///
/// TLS uses rustls with the Mozilla root certificates compiled in (`webpki-roots`), and checks
/// the server's certificate against the configured host name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text, never encrypted: only for a relay on the same machine or a trusted network
    /// (and for tests). Default port 25.
    None,
    /// Connect in plain text, then `STARTTLS`; the send fails if the server does not offer it
    /// (no silent fallback to plain text). Default port 587 (submission). The default mode.
    #[default]
    Starttls,
    /// TLS from the first byte ("implicit TLS", SMTPS). Default port 465.
    Tls,
}

impl SmtpTls {
    /// The usual port for this mode.
    pub fn default_port(self) -> u16 {
        match self {
            SmtpTls::None => 25,
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
        }
    }
}

/// Settings of an [`SmtpMailer`].
#[derive(Clone)]
pub struct SmtpConfig {
    /// Relay host name or address; also the name the TLS certificate must carry.
    pub host: String,
    /// Port; `None` for [`SmtpTls::default_port`].
    pub port: Option<u16>,
    /// User name for AUTH (PLAIN or LOGIN); no AUTH when `None`.
    pub username: Option<String>,
    /// Password for AUTH.
    pub password: Option<String>,
    /// Connection protection.
    pub tls: SmtpTls,
    /// Sender of every message (From header and envelope sender).
    pub from: Mailbox,
    /// Time limit for connecting and for each SMTP command.
    pub timeout: Duration,
    /// Connections kept open between messages (0: a new connection for every message).
    pub pool_size: u32,
    /// A kept connection unused this long is closed.
    pub pool_idle: Duration,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("tls", &self.tls)
            .field("from", &self.from.to_string())
            .field("timeout", &self.timeout)
            .field("pool_size", &self.pool_size)
            .field("pool_idle", &self.pool_idle)
            .finish()
    }
}

/// Sends mail through an SMTP relay, keeping up to `pool_size` connections open between
/// messages (lettre's pool): a message takes an idle connection (checked with NOOP first, as a
/// relay may have closed it) or opens one, and gives it back after the server's answer; a
/// connection that broke is dropped, never reused, so the next message reconnects. Connections
/// idle for `pool_idle` are closed. The pool is made at the first message, so the mailer can be
/// built outside an async runtime and holds no sockets until it sends.
pub struct SmtpMailer {
    builder: AsyncSmtpTransportBuilder,
    transport: std::sync::OnceLock<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
}

impl SmtpMailer {
    /// Builds the transport. Does not connect; errors only on bad TLS settings.
    pub fn new(cfg: SmtpConfig) -> Result<Self, MailError> {
        let tls = match cfg.tls {
            SmtpTls::None => Tls::None,
            SmtpTls::Starttls => Tls::Required(tls_parameters(&cfg.host)?),
            SmtpTls::Tls => Tls::Wrapper(tls_parameters(&cfg.host)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(cfg.host.clone())
            .port(cfg.port.unwrap_or(cfg.tls.default_port()))
            .tls(tls)
            .timeout(Some(cfg.timeout))
            .pool_config(
                PoolConfig::new()
                    .max_size(cfg.pool_size)
                    .idle_timeout(cfg.pool_idle.max(Duration::from_secs(1))),
            );
        if let Some(user) = cfg.username {
            builder = builder.credentials(Credentials::new(user, cfg.password.unwrap_or_default()));
        }
        Ok(Self {
            builder,
            transport: std::sync::OnceLock::new(),
            from: cfg.from,
        })
    }

    /// The transport and its pool (made on first use, inside the runtime that sends).
    fn transport(&self) -> &AsyncSmtpTransport<Tokio1Executor> {
        self.transport
            .get_or_init(|| self.builder.clone().build::<Tokio1Executor>())
    }
}

fn tls_parameters(host: &str) -> Result<TlsParameters, MailError> {
    TlsParameters::new(host.to_owned())
        .map_err(|e| MailError::Config(format!("TLS for {host}: {e}")))
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, m: &Message) -> Result<(), MailError> {
        let email = build(&self.from, m)?;
        self.transport()
            .send(email)
            .await
            .map(|_| ())
            .map_err(|e| MailError::Smtp {
                permanent: e.is_permanent(),
                message: e.to_string(),
            })
    }

    fn kind(&self) -> &'static str {
        "smtp"
    }
}
