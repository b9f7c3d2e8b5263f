//! `SmtpMailer` against a real SMTP server (aiosmtpd, `tests/smtp_sink.py`) on loopback.
//! Needs `python3` and `pip install aiosmtpd==1.4.6`; fails (does not skip) without them.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use chrono::{TimeZone, Utc};
use common::{connections_used, free_port, leaves, parse, SmtpSink};
use newsdesk_domain::{EmailAddress, Role};
use newsdesk_mail::{
    parse_mailbox, templates, MailError, Mailer, Message, SmtpConfig, SmtpMailer, SmtpTls,
};

const FROM: &str = "The Daily Planet <desk@planet.example>";

fn mailer(port: u16, auth: Option<(&str, &str)>) -> SmtpMailer {
    SmtpMailer::new(SmtpConfig {
        host: "127.0.0.1".to_owned(),
        port: Some(port),
        username: auth.map(|(u, _)| u.to_owned()),
        password: auth.map(|(_, p)| p.to_owned()),
        tls: SmtpTls::None,
        from: parse_mailbox(FROM).unwrap(),
        timeout: Duration::from_secs(10),
        pool_size: 4,
        pool_idle: Duration::from_secs(30),
    })
    .unwrap()
}

/// Sends with an overall bound, so a stuck exchange fails the test instead of hanging it.
async fn send(m: &SmtpMailer, msg: &Message) -> Result<(), MailError> {
    tokio::time::timeout(Duration::from_secs(30), m.send(msg))
        .await
        .expect("the SMTP exchange took more than 30 s")
}

#[tokio::test]
async fn an_invitation_reaches_a_real_smtp_server() {
    let sink = SmtpSink::start(None);
    let m = mailer(sink.port, None);
    assert_eq!(m.kind(), "smtp");
    let link = "https://planet.example/newsroom/invite/Zm9vYmFyYmF6cXV4cXV1eA?from=mail&x=1";
    let expires = Utc.with_ymd_and_hms(2031, 5, 6, 7, 8, 0).unwrap();
    let body = templates::invitation("The Daily Planet", link, Role::Author, expires);
    let msg = Message::new(
        EmailAddress::parse("Lois.Lane@Planet.example").unwrap(),
        body,
    )
    .with_header(
        "List-Unsubscribe",
        "<https://planet.example/u/abc>, <mailto:u@planet.example>",
    )
    .with_header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
    send(&m, &msg).await.unwrap();

    let got = sink.received(1);
    assert_eq!(got.len(), 1, "one message received");
    let raw = &got[0];
    let head = parse(raw);
    assert_eq!(head.header("To"), Some("lois.lane@planet.example"));
    assert_eq!(
        head.header("From"),
        Some("\"The Daily Planet\" <desk@planet.example>")
    );
    assert_eq!(
        head.header("Subject"),
        Some("Your invitation to The Daily Planet")
    );
    assert_eq!(
        head.header("List-Unsubscribe"),
        Some("<https://planet.example/u/abc>, <mailto:u@planet.example>")
    );
    assert_eq!(
        head.header("List-Unsubscribe-Post"),
        Some("List-Unsubscribe=One-Click")
    );
    assert!(head.header("Date").is_some());
    assert!(head
        .header("Message-ID")
        .is_some_and(|v| v.starts_with('<')));
    assert!(head
        .header("Content-Type")
        .unwrap()
        .starts_with("multipart/alternative"));

    let parts = leaves(raw);
    assert_eq!(parts.len(), 2, "text and HTML");
    assert_eq!(parts[0].content_type(), "text/plain");
    let text = parts[0].text();
    assert!(text.contains(link), "{text}");
    assert!(text.contains("as an author"), "{text}");
    assert!(text.contains("6 May 2031 at 07:08 UTC"), "{text}");
    assert_eq!(parts[1].content_type(), "text/html");
    let html = parts[1].text();
    assert!(
        html.contains(&format!("href=\"{}\"", link.replace('&', "&amp;"))),
        "{html}"
    );
}

#[tokio::test]
async fn text_only_mail_with_auth_and_a_unicode_subject() {
    let sink = SmtpSink::start(Some("desk:s3cret"));
    let msg = Message {
        to: EmailAddress::parse("reader@example.org").unwrap(),
        subject: "Café — naïve résumé".to_owned(),
        text: "Line one\nA line starting with a dot follows\n.\n..two dots\nÜnïcödé body"
            .to_owned(),
        html: None,
        headers: vec![],
    };

    let wrong = mailer(sink.port, Some(("desk", "nope")));
    let err = send(&wrong, &msg).await.unwrap_err();
    assert!(
        matches!(
            err,
            MailError::Smtp {
                permanent: true,
                ..
            }
        ),
        "{err:?}"
    );

    let right = mailer(sink.port, Some(("desk", "s3cret")));
    send(&right, &msg).await.unwrap();
    let got = sink.received(1);
    assert_eq!(got.len(), 1);
    let head = parse(&got[0]);
    let subject = head.header("Subject").unwrap();
    assert!(
        subject.to_ascii_lowercase().starts_with("=?utf-8?"),
        "{subject}"
    );
    assert!(head.header("List-Unsubscribe").is_none());
    let parts = leaves(&got[0]);
    assert_eq!(parts.len(), 1, "no HTML part");
    assert_eq!(parts[0].content_type(), "text/plain");
    assert_eq!(
        parts[0].text().trim_end_matches("\r\n"),
        "Line one\r\nA line starting with a dot follows\r\n.\r\n..two dots\r\nÜnïcödé body"
    );
}

#[tokio::test]
async fn a_refused_recipient_is_a_permanent_error() {
    let sink = SmtpSink::start(None);
    let m = mailer(sink.port, None);
    let msg = Message {
        to: EmailAddress::parse("reject-me@example.org").unwrap(),
        subject: "Hello".to_owned(),
        text: "Hi".to_owned(),
        html: None,
        headers: vec![],
    };
    let err = send(&m, &msg).await.unwrap_err();
    assert!(
        matches!(
            err,
            MailError::Smtp {
                permanent: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert!(sink.received(0).is_empty());
}

#[tokio::test]
async fn no_server_is_a_retryable_error() {
    let m = mailer(free_port(), None);
    let msg = Message {
        to: EmailAddress::parse("reader@example.org").unwrap(),
        subject: "Hello".to_owned(),
        text: "Hi".to_owned(),
        html: None,
        headers: vec![],
    };
    let err = send(&m, &msg).await.unwrap_err();
    assert!(
        matches!(
            err,
            MailError::Smtp {
                permanent: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_retryable());
}

fn numbered(i: usize) -> Message {
    Message {
        to: EmailAddress::parse(&format!("reader{i}@example.org")).unwrap(),
        subject: format!("Digest {i}"),
        text: "Today's stories.".to_owned(),
        html: None,
        headers: vec![],
    }
}

#[tokio::test]
async fn many_messages_share_one_connection() {
    let sink = SmtpSink::start(None);
    let m = mailer(sink.port, None);
    for i in 0..20 {
        send(&m, &numbered(i)).await.unwrap();
    }
    assert_eq!(sink.received(20).len(), 20);
    // A connection goes back to the pool in a task of its own after its message, so the next
    // message may find it not yet back and open a second one; never more.
    let used = connections_used(sink.inbox.path());
    assert!(
        (1..=2).contains(&used),
        "20 messages in a row took {used} connections"
    );
}

#[tokio::test]
async fn a_connection_the_server_closed_is_replaced() {
    // The relay closes each connection after its third message: the mailer notices (the kept
    // connection fails its NOOP) and opens a new one, and no message is lost or refused.
    let sink = SmtpSink::start_with(None, &["--close-after", "3"]);
    let m = mailer(sink.port, None);
    for i in 0..10 {
        send(&m, &numbered(i)).await.unwrap();
        // Let the sink's close reach the client before the next message takes the connection.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(sink.received(10).len(), 10);
    let used = connections_used(sink.inbox.path());
    assert!((4..=10).contains(&used), "at most 3 a connection: {used}");
}

#[tokio::test]
async fn a_pool_of_none_opens_a_connection_per_message() {
    let sink = SmtpSink::start(None);
    let m = SmtpMailer::new(SmtpConfig {
        host: "127.0.0.1".to_owned(),
        port: Some(sink.port),
        username: None,
        password: None,
        tls: SmtpTls::None,
        from: parse_mailbox(FROM).unwrap(),
        timeout: Duration::from_secs(10),
        pool_size: 0,
        pool_idle: Duration::from_secs(30),
    })
    .unwrap();
    for i in 0..3 {
        send(&m, &numbered(i)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(sink.received(3).len(), 3);
    assert_eq!(connections_used(sink.inbox.path()), 3);
}
