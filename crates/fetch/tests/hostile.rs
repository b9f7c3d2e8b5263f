//! The fetcher against a hostile agency on loopback: every misbehaviour ends in a clear
//! error, in bounded time and memory, and healthy sources keep working meanwhile.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use newsdesk_fetch::hostile::{self, HostileServer};
use newsdesk_fetch::{AddrClass, Backoff, Conditional, FetchError, FetchPolicy, Fetched, Fetcher};

const CAP: usize = 1 << 20;

/// Short limits so that every hostile case ends within a few seconds.
fn test_policy() -> FetchPolicy {
    FetchPolicy {
        max_redirects: 5,
        connect_timeout: Duration::from_secs(1),
        total_timeout: Duration::from_secs(4),
        idle_timeout: Duration::from_secs(1),
        low_speed_limit: 100,
        low_speed_window: Duration::from_secs(1),
        max_body: CAP,
        allow_loopback: true,
        allow_private: false,
        extra_root_certs: Vec::new(),
        user_agent: "newsdesk-test".into(),
    }
}

fn fetcher() -> Fetcher {
    Fetcher::new(test_policy()).unwrap()
}

/// Longest any one case may run before the test gives up (a runaway guard, not a speed check:
/// the machine is shared, so which limit stopped a fetch is asserted from its error kind).
const RUNAWAY: Duration = Duration::from_secs(30);

/// Fetch and expect an error; returns it with the time it took.
async fn expect_err(f: &Fetcher, url: &str, feed: bool) -> (FetchError, Duration) {
    let start = Instant::now();
    let result = tokio::time::timeout(RUNAWAY, async {
        if feed {
            f.get_feed(url, &Conditional::default()).await
        } else {
            f.get(url, &Conditional::default()).await
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{url}: still running after {RUNAWAY:?}"));
    let elapsed = start.elapsed();
    let err = match result {
        Err(e) => e,
        Ok(other) => panic!("{url}: expected an error, got {other:?}"),
    };
    eprintln!("{url}: {err} after {elapsed:?}");
    (err, elapsed)
}

async fn expect_body(f: &Fetcher, url: &str) -> (Vec<u8>, Option<String>, String) {
    match f.get(url, &Conditional::default()).await.unwrap() {
        Fetched::Ok {
            body,
            content_type,
            final_url,
            ..
        } => (body, content_type, final_url),
        Fetched::NotModified => panic!("{url}: unexpected 304"),
    }
}

#[tokio::test]
async fn ok_feed_is_delivered() {
    let server = HostileServer::start().await.unwrap();
    let f = fetcher();
    let (body, ctype, final_url) = expect_body(&f, &server.url("/ok")).await;
    assert_eq!(body, hostile::OK_FEED.as_bytes());
    assert_eq!(ctype.as_deref(), Some("application/rss+xml; charset=utf-8"));
    assert_eq!(final_url, server.url("/ok"));
    let (body, _, _) = expect_body(&f, &server.url("/ok-gzip")).await;
    assert_eq!(body, hostile::OK_FEED.as_bytes());
}

#[tokio::test]
async fn default_policy_refuses_loopback_outright() {
    let server = HostileServer::start().await.unwrap();
    let f = Fetcher::new(FetchPolicy::default()).unwrap();
    let (err, _) = expect_err(&f, &server.url("/ok"), false).await;
    assert_eq!(
        err,
        FetchError::BlockedAddress {
            host: "127.0.0.1".into(),
            addr: "127.0.0.1".parse().unwrap(),
            class: AddrClass::Loopback,
        }
    );
    assert!(err.to_string().contains("resolves to a loopback address"));
    // By name too: the resolved address is what counts.
    let url = format!("http://localhost:{}/ok", server.addr().port());
    let (err, _) = expect_err(&f, &url, false).await;
    match err {
        FetchError::BlockedAddress { host, addr, class } => {
            assert_eq!(host, "localhost");
            assert!(addr.is_loopback());
            assert_eq!(class, AddrClass::Loopback);
        }
        other => panic!("expected a refusal, got {other}"),
    }
}

#[tokio::test]
async fn blocked_ip_literals_are_refused_before_connecting() {
    let f = Fetcher::new(FetchPolicy {
        allow_private: true,
        ..test_policy()
    })
    .unwrap();
    for (url, class) in [
        (
            "http://169.254.169.254/latest/meta-data/",
            AddrClass::Metadata,
        ),
        ("http://[::ffff:169.254.169.254]/", AddrClass::Metadata),
        ("http://[fe80::1]/", AddrClass::LinkLocal),
        ("http://0.0.0.0/", AddrClass::Unspecified),
        ("http://224.0.0.1/", AddrClass::Multicast),
    ] {
        let (err, _) = expect_err(&f, url, false).await;
        assert!(
            matches!(err, FetchError::BlockedAddress { class: c, .. } if c == class),
            "{url}: {err}"
        );
    }
    let f = fetcher();
    for url in [
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://[fd00::1]/",
    ] {
        let (err, _) = expect_err(&f, url, false).await;
        assert!(
            matches!(
                err,
                FetchError::BlockedAddress {
                    class: AddrClass::Private,
                    ..
                }
            ),
            "{url}: {err}"
        );
    }
}

#[tokio::test]
async fn bad_urls_and_schemes() {
    let f = fetcher();
    let (err, _) = expect_err(&f, "not a url", false).await;
    assert!(matches!(err, FetchError::BadUrl(_)), "{err}");
    let (err, _) = expect_err(&f, "ftp://agency.test/feed", false).await;
    assert_eq!(err, FetchError::SchemeNotAllowed("ftp".into()));
    let (err, _) = expect_err(&f, "file:///etc/passwd", false).await;
    assert_eq!(err, FetchError::SchemeNotAllowed("file".into()));
}

#[tokio::test]
async fn slow_drip_stops_at_the_speed_check() {
    let server = HostileServer::start().await.unwrap();
    let (err, elapsed) = expect_err(&fetcher(), &server.url("/slow-drip"), false).await;
    assert_eq!(
        err,
        FetchError::TooSlow {
            min_bytes_per_sec: 100
        }
    );
    assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");
}

#[tokio::test]
async fn slow_drip_without_speed_check_stops_at_the_total_timeout() {
    let server = HostileServer::start().await.unwrap();
    let f = Fetcher::new(FetchPolicy {
        low_speed_limit: 0,
        total_timeout: Duration::from_secs(2),
        ..test_policy()
    })
    .unwrap();
    let (err, elapsed) = expect_err(&f, &server.url("/slow-drip"), false).await;
    assert_eq!(err, FetchError::Timeout("total"));
    assert!(elapsed >= Duration::from_secs(2), "{elapsed:?}");
}

#[tokio::test]
async fn slow_headers_and_stalls_time_out() {
    let server = HostileServer::start().await.unwrap();
    let f = fetcher();
    let (err, _) = expect_err(&f, &server.url("/slow-headers"), false).await;
    assert_eq!(err, FetchError::Timeout("response headers"));
    let (err, _) = expect_err(&f, &server.url("/stall"), false).await;
    assert_eq!(err, FetchError::Timeout("idle"));
}

#[tokio::test]
async fn endless_body_stops_at_the_cap() {
    let server = HostileServer::start().await.unwrap();
    let (err, _) = expect_err(&fetcher(), &server.url("/endless"), false).await;
    assert_eq!(err, FetchError::TooLarge { max: CAP });
    let (err, _) = expect_err(&fetcher(), &server.url("/huge-length"), false).await;
    assert_eq!(err, FetchError::TooLarge { max: CAP });
    let (err, _) = expect_err(&fetcher(), &server.url("/huge-headers"), false).await;
    assert!(matches!(err, FetchError::Network(_)), "{err}");
}

#[tokio::test]
async fn gzip_bomb_stops_at_the_cap_after_decompression() {
    let server = HostileServer::start().await.unwrap();
    assert!(hostile::gzip_bomb().len() < 2 << 20, "the bomb is small");
    let (err, _) = expect_err(&fetcher(), &server.url("/gzip-bomb"), false).await;
    assert_eq!(err, FetchError::TooLarge { max: CAP });
    // With the default 10 MiB cap as well.
    let f = Fetcher::new(FetchPolicy {
        max_body: 10 << 20,
        ..test_policy()
    })
    .unwrap();
    let (err, _) = expect_err(&f, &server.url("/gzip-bomb"), false).await;
    assert_eq!(err, FetchError::TooLarge { max: 10 << 20 });
}

#[tokio::test]
async fn redirects_are_capped_and_loops_detected() {
    let server = HostileServer::start().await.unwrap();
    let f = fetcher();
    let (err, _) = expect_err(&f, &server.url("/redirect-loop"), false).await;
    assert_eq!(err, FetchError::RedirectLoop(server.url("/redirect-loop")));
    let (err, _) = expect_err(&f, &server.url("/redirect-chain/6"), false).await;
    assert_eq!(err, FetchError::TooManyRedirects { max: 5 });
    let (body, _, final_url) = expect_body(&f, &server.url("/redirect-chain/3")).await;
    assert_eq!(body, hostile::OK_FEED.as_bytes());
    assert_eq!(final_url, server.url("/ok"));
}

#[tokio::test]
async fn redirects_to_private_or_metadata_addresses_are_refused() {
    let server = HostileServer::start().await.unwrap();
    // Loopback allowed (to reach the test server), but never 10/8 or 169.254/16.
    let f = fetcher();
    let (err, _) = expect_err(&f, &server.url("/redirect-private"), false).await;
    assert_eq!(
        err,
        FetchError::BlockedAddress {
            host: "10.0.0.1".into(),
            addr: "10.0.0.1".parse().unwrap(),
            class: AddrClass::Private,
        }
    );
    assert_eq!(
        err.to_string(),
        "refused: 10.0.0.1 resolves to a private address (10.0.0.1)"
    );
    // Metadata stays refused even when private ranges are allowed.
    let f = Fetcher::new(FetchPolicy {
        allow_private: true,
        ..test_policy()
    })
    .unwrap();
    let (err, _) = expect_err(&f, &server.url("/redirect-metadata"), false).await;
    assert!(
        matches!(
            err,
            FetchError::BlockedAddress {
                class: AddrClass::Metadata,
                ..
            }
        ),
        "{err}"
    );
    let (err, _) = expect_err(&f, &server.url("/redirect-file"), false).await;
    assert_eq!(err, FetchError::SchemeNotAllowed("file".into()));
    // A redirect to a name is resolved and checked like the first URL.
    let (body, _, final_url) = expect_body(&fetcher(), &server.url("/redirect-localhost")).await;
    assert_eq!(body, hostile::OK_FEED.as_bytes());
    assert!(final_url.starts_with("http://localhost:"), "{final_url}");
}

#[tokio::test]
async fn hostile_xml_and_bad_bytes_are_delivered_within_the_caps() {
    // Billion laughs, XXE and invalid UTF-8 are the parser's job: the fetcher delivers the
    // bytes as received, bounded.
    let server = HostileServer::start().await.unwrap();
    let f = fetcher();
    for (path, expected) in [
        (
            "/billion-laughs",
            hostile::BILLION_LAUGHS.as_bytes().to_vec(),
        ),
        ("/xxe", hostile::XXE.as_bytes().to_vec()),
        ("/bad-utf8", hostile::bad_utf8()),
    ] {
        let (body, _, _) = expect_body(&f, &server.url(path)).await;
        assert_eq!(body, expected, "{path}");
        assert!(body.len() <= CAP);
    }
    let (body, _, _) = expect_body(&f, &server.url("/bad-utf8")).await;
    assert!(std::str::from_utf8(&body).is_err());
}

#[tokio::test]
async fn wrong_content_type_is_refused_for_feeds() {
    let server = HostileServer::start().await.unwrap();
    let f = fetcher();
    let (err, _) = expect_err(&f, &server.url("/wrong-type"), true).await;
    assert_eq!(err, FetchError::WrongContentType("image/png".into()));
    assert_eq!(err.to_string(), "wrong content type for a feed: image/png");
    // A plain `get` (an image, say) delivers it with its type.
    let (_, ctype, _) = expect_body(&f, &server.url("/wrong-type")).await;
    assert_eq!(ctype.as_deref(), Some("image/png"));
}

#[tokio::test]
async fn rate_limits_and_http_errors() {
    let server = HostileServer::start().await.unwrap();
    let f = fetcher();
    let (err, _) = expect_err(&f, &server.url("/429"), false).await;
    assert_eq!(
        err,
        FetchError::RateLimited {
            status: 429,
            retry_after: Some(Duration::from_secs(120)),
        }
    );
    assert_eq!(
        err.to_string(),
        "rate limited (HTTP 429), retry after 120 s"
    );
    assert_eq!(
        Backoff::default().next_delay(1, err.retry_after()),
        Duration::from_secs(120)
    );
    let (err, _) = expect_err(&f, &server.url("/503"), false).await;
    assert_eq!(err, FetchError::Http { status: 503 });
    let (err, _) = expect_err(&f, &server.url("/nowhere"), false).await;
    assert_eq!(err.to_string(), "HTTP error 404 Not Found");
}

#[tokio::test]
async fn conditional_get_returns_not_modified() {
    let server = HostileServer::start().await.unwrap();
    let f = fetcher();
    let url = server.url("/etag");
    let (etag, last_modified) = match f.get(&url, &Conditional::default()).await.unwrap() {
        Fetched::Ok {
            body,
            etag,
            last_modified,
            ..
        } => {
            assert_eq!(body, hostile::OK_FEED.as_bytes());
            (etag, last_modified)
        }
        Fetched::NotModified => panic!("first fetch cannot be 304"),
    };
    assert_eq!(etag.as_deref(), Some(hostile::ETAG));
    assert_eq!(last_modified.as_deref(), Some(hostile::LAST_MODIFIED));
    let both = Conditional {
        etag: etag.clone(),
        last_modified: last_modified.clone(),
    };
    assert_eq!(f.get(&url, &both).await.unwrap(), Fetched::NotModified);
    let only_date = Conditional {
        etag: None,
        last_modified,
    };
    assert_eq!(f.get(&url, &only_date).await.unwrap(), Fetched::NotModified);
    let stale = Conditional {
        etag: Some("\"v0\"".into()),
        last_modified: None,
    };
    assert!(matches!(
        f.get(&url, &stale).await.unwrap(),
        Fetched::Ok { .. }
    ));
}

#[tokio::test]
async fn refused_connection_and_tls_to_a_plain_server_fail_cleanly() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let f = fetcher();
    let (err, _) = expect_err(&f, &format!("http://127.0.0.1:{port}/"), false).await;
    assert!(matches!(err, FetchError::Network(_)), "{err}");
    let server = HostileServer::start().await.unwrap();
    let url = format!("https://127.0.0.1:{}/ok", server.addr().port());
    let (err, _) = expect_err(&f, &url, false).await;
    assert!(
        matches!(
            err,
            FetchError::Timeout("tls handshake") | FetchError::Network(_) | FetchError::Tls { .. }
        ),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_source_is_not_held_up_by_hostile_ones() {
    let server = HostileServer::start().await.unwrap();
    let f = fetcher();
    let timed = |url: String| {
        let f = f.clone();
        async move {
            let start = Instant::now();
            let result = f.get(&url, &Conditional::default()).await;
            (result, start.elapsed())
        }
    };
    // The hostile fetches run on their own tasks; the healthy one must finish while the slow
    // drip (which takes at least the one-second speed window) is still being read.
    let drip = tokio::spawn(timed(server.url("/slow-drip")));
    let bomb = tokio::spawn(timed(server.url("/gzip-bomb")));
    let (ok, ok_t) = tokio::time::timeout(RUNAWAY, timed(server.url("/ok")))
        .await
        .unwrap();
    assert!(matches!(ok, Ok(Fetched::Ok { .. })), "{ok:?}");
    assert!(
        !drip.is_finished(),
        "the healthy fetch ({ok_t:?}) waited for the slow one"
    );
    let (drip, drip_t) = tokio::time::timeout(RUNAWAY, drip).await.unwrap().unwrap();
    let (bomb, bomb_t) = tokio::time::timeout(RUNAWAY, bomb).await.unwrap().unwrap();
    eprintln!("concurrent: drip {drip_t:?}, ok {ok_t:?}, bomb {bomb_t:?}");
    assert_eq!(
        drip,
        Err(FetchError::TooSlow {
            min_bytes_per_sec: 100
        })
    );
    assert_eq!(bomb, Err(FetchError::TooLarge { max: CAP }));
}
