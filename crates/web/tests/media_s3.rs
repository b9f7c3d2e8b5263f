//! Media in S3-compatible object storage, against a real S3 server on loopback: moto in server
//! mode (`pip install -r tests/requirements.txt`, i.e. `moto[server]==5.2.1`). A picture is
//! uploaded through the newsroom's upload use case, read back through the reader's route
//! (whole, a range, a conditional request), and deleted; a spooled video goes in by
//! `put_file`. Without python3 and moto the test says so loudly and skips.
#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use chrono::{TimeZone, Utc};
use http_body_util::BodyExt;
use newsdesk_app::{App, SiteConfig, StoryForm};
use newsdesk_domain::*;
use newsdesk_media::{MediaStore, S3Config, S3Store};
use newsdesk_store::Store;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceExt;

const BUCKET: &str = "newsdesk-media";

/// `python3 -m moto.server` on a free loopback port; killed on drop, even when a test panics.
struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    /// `None` (after a loud message) when python3 or moto's server is not installed.
    fn start() -> Option<Self> {
        let has_moto = Command::new("python3")
            .args(["-c", "import moto.server, flask, flask_cors"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !has_moto {
            eprintln!(
                "\n!!!!!!!!!! SKIPPED: THE S3 MEDIA BACKEND WAS NOT TESTED !!!!!!!!!!\n\
                 python3 with moto's server is not installed; run\n    \
                 pip install -r tests/requirements.txt   (moto[server]==5.2.1)\n\
                 and run this test again.\n"
            );
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("python3")
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs");
        let mut moto = Self { child, port };
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = moto.child.try_wait().unwrap() {
                panic!("moto's server exited early ({status})");
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                break;
            }
            assert!(Instant::now() < deadline, "moto did not accept connections");
            std::thread::sleep(Duration::from_millis(50));
        }
        // The bucket (moto takes any credentials, and none to make a bucket).
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "PUT /{BUCKET} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        moto.port = port;
        Some(moto)
    }

    fn store(&self) -> S3Store {
        S3Store::new(&S3Config {
            bucket: BUCKET.into(),
            endpoint: format!("http://127.0.0.1:{}", self.port),
            region: "us-east-1".into(),
            access_key: "testing".into(),
            secret_key: "testing".into(),
            path_style: true,
            timeout: Duration::from_secs(30),
        })
        .unwrap()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Res {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Res {
    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }
}

async fn get(r: &Router, path: &str, headers: &[(&str, &str)]) -> Res {
    let mut req = Request::builder().uri(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = r
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    Res {
        status,
        headers,
        body,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pictures_go_to_the_bucket_are_read_through_the_reader_route_and_deleted() {
    let Some(moto) = Moto::start() else {
        return;
    };
    let s3: Arc<dyn MediaStore> = Arc::new(moto.store());

    let now = Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap();
    let store = newsdesk_store_sqlite::temp_store().unwrap();
    let local = store.path().parent().unwrap().join("media");
    newsdesk_demo::seed(
        &*store,
        &newsdesk_demo::DemoOptions {
            stories: 3,
            now,
            seed: 5,
            media_dir: local.clone(),
        },
    )
    .await
    .unwrap();
    let store: Arc<dyn Store> = store;
    let app = App::load(
        store,
        Arc::new(ManualClock::new(now)),
        SiteConfig::default(),
    )
    .await
    .unwrap();
    let editor = app
        .add_user(
            "editor@example.org",
            "",
            Role::Editor,
            "a long enough password",
        )
        .await
        .unwrap();
    let state = newsdesk_web::WebState::with_media(
        app.clone(),
        local.clone(),
        newsdesk_web::assets::MediaFiles::new(s3.clone(), 8),
        false,
        newsdesk_web::DEFAULT_CACHE_BYTES,
        newsdesk_web::metrics::Exposure::Off,
    );
    let router = newsdesk_web::router(state);

    // Upload through the newsroom's use case: every version goes to the bucket, none to disk.
    let rgb: Vec<u8> = (0..900 * 500 * 3).map(|i| (i % 251) as u8).collect();
    let png = newsdesk_demo::png::encode_rgb(900, 500, &rgb).unwrap();
    let img = app
        .upload_image(&editor, png, "A test pattern", "", "", &*s3)
        .await
        .unwrap();
    assert_eq!(img.widths, vec![480, 800]);
    let names: Vec<String> = img
        .widths
        .iter()
        .map(|w| {
            img.variant_path(*w)
                .trim_start_matches("/media/")
                .to_owned()
        })
        .collect();
    for name in &names {
        assert!(s3.exists(name).await.unwrap(), "{name} in the bucket");
        assert!(!local.join(name).exists(), "{name} not on disk");
    }

    // Not public yet: the reader route does not serve it.
    let path = img.variant_path(800);
    assert_eq!(get(&router, &path, &[]).await.status, StatusCode::NOT_FOUND);

    // A published story shows it.
    let story = app
        .create_story(
            &editor,
            &StoryForm {
                headline: "Pictures from the bucket".into(),
                summary: "A summary.".into(),
                body_md: "Some text.".into(),
                kind: "news".into(),
                sector: "health".into(),
                editions: vec![("global".into(), "".into())],
                hero_image: img.id.to_string(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let story = app
        .transition(&editor, story.id, story.version, Transition::Submit, None)
        .await
        .unwrap();
    app.transition(&editor, story.id, story.version, Transition::Publish, None)
        .await
        .unwrap();

    let whole = get(&router, &path, &[]).await;
    assert_eq!(whole.status, StatusCode::OK);
    assert_eq!(whole.header("content-type"), "image/jpeg");
    assert_eq!(whole.header("cache-control"), "public, max-age=2592000");
    assert_eq!(whole.header("accept-ranges"), "bytes");
    assert!(!whole.header("last-modified").is_empty());
    let stored = s3.get(&names[1]).await.unwrap().unwrap();
    assert_eq!(whole.body, stored);
    assert!(whole.body.starts_with(&[0xFF, 0xD8]), "a JPEG");
    assert_eq!(whole.header("content-length"), stored.len().to_string());

    let etag = whole.header("etag");
    let again = get(&router, &path, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());

    let part = get(&router, &path, &[("range", "bytes=100-1099")]).await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        part.header("content-range"),
        format!("bytes 100-1099/{}", stored.len())
    );
    assert_eq!(part.body, stored[100..1100]);
    let past = get(&router, &path, &[("range", "bytes=99999999-")]).await;
    assert_eq!(past.status, StatusCode::RANGE_NOT_SATISFIABLE);

    // A video spooled to disk is streamed into the bucket and its spool file is gone.
    let spool = local.join(".upload-video");
    let video: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(&spool, &video).unwrap();
    s3.put_file("vid-0123456789abcdef.mp4", &spool)
        .await
        .unwrap();
    assert!(!spool.exists());
    assert_eq!(
        s3.get("vid-0123456789abcdef.mp4").await.unwrap().unwrap(),
        video
    );

    // Deleted from the bucket: gone from the site too.
    for name in names
        .iter()
        .chain(["vid-0123456789abcdef.mp4".to_owned()].iter())
    {
        s3.delete(name).await.unwrap();
        assert!(!s3.exists(name).await.unwrap());
    }
    assert_eq!(get(&router, &path, &[]).await.status, StatusCode::NOT_FOUND);
    s3.delete(&names[0]).await.unwrap();
}
