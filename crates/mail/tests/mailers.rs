//! `FileOutbox`, `MemoryMailer`, `from_config` and header-injection refusal, through the public API.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use common::{leaves, parse, TempDir};
use newsdesk_domain::{EmailAddress, Role};
use newsdesk_mail::{
    from_config, parse_mailbox, templates, FileOutbox, MailConfig, MailError, Mailer, MemoryMailer,
    Message, SmtpConfig, SmtpMailer, SmtpTls, Transport,
};

fn invitation(to: &str) -> Message {
    let expires = Utc.with_ymd_and_hms(2030, 1, 2, 3, 4, 0).unwrap();
    let body = templates::invitation(
        "Planet <News>",
        "https://planet.example/invite/abc?x=1&y=2",
        Role::Editor,
        expires,
    );
    Message::new(EmailAddress::parse(to).unwrap(), body)
        .with_header("List-Unsubscribe", "<https://planet.example/u/1>")
}

/// `20250314T092653.123456Z-3f9a0c1d2e4b5a69.eml`
fn is_outbox_name(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".eml") else {
        return false;
    };
    let Some((time, random)) = stem.split_once('-') else {
        return false;
    };
    chrono::NaiveDateTime::parse_from_str(time, "%Y%m%dT%H%M%S%.6fZ").is_ok()
        && time.len() == 23
        && random.len() == 16
        && random.bytes().all(|b| b.is_ascii_hexdigit())
}

fn files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn the_outbox_writes_parseable_eml_files_atomically() {
    let tmp = TempDir::new("outbox");
    let dir = tmp.path().join("not/yet/there");
    let outbox = FileOutbox::new(&dir, parse_mailbox("desk <desk@planet.example>").unwrap());
    assert_eq!(outbox.kind(), "outbox");

    let first = outbox.write(&invitation("one@example.org")).await.unwrap();
    assert_eq!(first.parent().unwrap(), dir);
    let mailer: Arc<dyn Mailer> = Arc::new(outbox);
    mailer.send(&invitation("two@example.org")).await.unwrap();
    mailer.send(&invitation("three@example.org")).await.unwrap();

    let names = files(&dir);
    assert_eq!(names.len(), 3, "{names:?}: no temporary file left behind");
    for n in &names {
        assert!(is_outbox_name(n), "{n}");
    }
    assert_eq!(names[0], first.file_name().unwrap().to_str().unwrap());

    let raw = std::fs::read(&first).unwrap();
    assert!(
        !raw.windows(2).any(|w| w[1] == b'\n' && w[0] != b'\r'),
        "CRLF only"
    );
    let head = parse(&raw);
    assert_eq!(head.header("To"), Some("one@example.org"));
    assert_eq!(head.header("From"), Some("desk <desk@planet.example>"));
    assert_eq!(
        head.header("Subject"),
        Some("Your invitation to Planet <News>")
    );
    assert_eq!(
        head.header("List-Unsubscribe"),
        Some("<https://planet.example/u/1>")
    );
    assert_eq!(head.header("MIME-Version"), Some("1.0"));
    assert!(head.header("Date").is_some());
    assert!(head.header("Message-ID").is_some());
    let parts = leaves(&raw);
    assert_eq!(parts.len(), 2);
    assert!(parts[0]
        .text()
        .contains("https://planet.example/invite/abc?x=1&y=2"));
    let html = parts[1].text();
    assert!(html.contains("Planet &lt;News&gt;"), "{html}");
    assert!(html.contains("href=\"https://planet.example/invite/abc?x=1&amp;y=2\""));
}

#[tokio::test]
async fn from_config_builds_an_outbox_by_default() {
    let tmp = TempDir::new("config");
    let cfg = MailConfig {
        outbox_dir: tmp.path().to_path_buf(),
        ..MailConfig::default()
    };
    assert_eq!(cfg.transport, Transport::Outbox);
    let mailer = from_config(&cfg).unwrap();
    assert_eq!(mailer.kind(), "outbox");
    mailer
        .send(&invitation("reader@example.org"))
        .await
        .unwrap();
    let names = files(tmp.path());
    assert_eq!(names.len(), 1);
    let raw = std::fs::read(tmp.path().join(&names[0])).unwrap();
    assert_eq!(
        parse(&raw).header("From"),
        Some("newsdesk <desk@newsdesk.example>")
    );
}

#[tokio::test]
async fn the_memory_mailer_keeps_what_was_sent() {
    let memory = Arc::new(MemoryMailer::new());
    let mailer: Arc<dyn Mailer> = memory.clone();
    assert_eq!(mailer.kind(), "memory");
    assert!(memory.is_empty());
    let a = invitation("a@example.org");
    let b = Message {
        html: None,
        ..invitation("b@example.org")
    };
    mailer.send(&a).await.unwrap();
    mailer.send(&b).await.unwrap();
    assert_eq!(memory.len(), 2);
    assert_eq!(memory.messages(), vec![a.clone(), b.clone()]);
    assert_eq!(memory.take(), vec![a, b]);
    assert!(memory.is_empty());
}

#[tokio::test]
async fn every_mailer_refuses_header_injection() {
    let tmp = TempDir::new("inject");
    let memory = Arc::new(MemoryMailer::new());
    // Nothing listens on port 1: if the check did not come first, this would be a network error.
    let smtp = SmtpMailer::new(SmtpConfig {
        host: "127.0.0.1".to_owned(),
        port: Some(1),
        username: None,
        password: None,
        tls: SmtpTls::None,
        from: parse_mailbox("desk@planet.example").unwrap(),
        timeout: Duration::from_secs(2),
        pool_size: 4,
        pool_idle: Duration::from_secs(30),
    })
    .unwrap();
    let mailers: Vec<Arc<dyn Mailer>> = vec![
        Arc::new(FileOutbox::new(
            tmp.path(),
            parse_mailbox("desk@planet.example").unwrap(),
        )),
        memory.clone(),
        Arc::new(smtp),
    ];
    let mut bad_subject = invitation("reader@example.org");
    bad_subject.subject = "Hello\r\nBcc: everyone@example.org".to_owned();
    let bad_lf_subject = Message {
        subject: "Hello\nX-Spam: yes".to_owned(),
        ..invitation("reader@example.org")
    };
    let bad_value = invitation("reader@example.org").with_header(
        "List-Unsubscribe-Post",
        "List-Unsubscribe=One-Click\r\nBcc: x@y.example",
    );
    let bad_name = invitation("reader@example.org").with_header("X-A\nBcc", "x@y.example");
    for m in &mailers {
        for msg in [&bad_subject, &bad_lf_subject, &bad_value, &bad_name] {
            let err = m.send(msg).await.unwrap_err();
            assert!(
                matches!(err, MailError::HeaderInjection { .. }),
                "{}: {err:?}",
                m.kind()
            );
            assert!(err.to_string().contains("line break (CR or LF)"), "{err}");
            assert!(!err.is_retryable());
        }
        let err = m
            .send(&invitation("reader@example.org").with_header("Bcc", "x@y.example"))
            .await
            .unwrap_err();
        assert!(matches!(err, MailError::InvalidHeader(_)), "{err:?}");
    }
    assert!(files(tmp.path()).is_empty());
    assert!(memory.is_empty());
}
