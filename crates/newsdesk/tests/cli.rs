//! The command line as an operator uses it.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::process::{Command, Stdio};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_newsdesk"));
    // Settings from the environment of whoever runs the tests must not leak in.
    for (k, _) in std::env::vars() {
        if k.starts_with("NEWSDESK_") {
            c.env_remove(k);
        }
    }
    c.env("NEWSDESK_LOG", "warn");
    c
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("newsdesk-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn ingest_dry_run_prints_one_json_object_per_item_and_an_error_per_bad_file() {
    let d = temp_dir("ingest");
    let rss = d.join("wire.xml");
    std::fs::write(
        &rss,
        r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title><link>https://wire.example/</link>
<item><guid>w-1</guid><title>Floods hit Kenyan coast</title><link>https://wire.example/1</link><pubDate>Thu, 26 Nov 2026 10:00:00 +0300</pubDate><description>Heavy rain &lt;b&gt;flooded&lt;/b&gt; Mombasa.</description><category>weather</category></item>
<item><guid>w-2</guid><title>Second item</title><pubDate>Thu, 26 Nov 2026 11:00:00 GMT</pubDate></item>
</channel></rss>"#,
    )
    .unwrap();
    let bomb = d.join("bomb.xml");
    std::fs::write(&bomb, r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><rss><channel><title>&b;</title></channel></rss>"#).unwrap();
    let out = bin()
        .args(["ingest", "--dry-run", "--json", "--agency", "Wire"])
        .arg(&rss)
        .arg(&bomb)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "a bad file makes the exit status non-zero"
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let items: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["agency"], "Wire");
    assert_eq!(items[0]["agency_id"], "w-1");
    assert_eq!(items[0]["headline"], "Floods hit Kenyan coast");
    assert_eq!(
        items[0]["published_at"], "2026-11-26T07:00:00Z",
        "times in RFC 3339 UTC"
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("bomb.xml"), "{stderr}");
    assert!(!stderr.contains("panicked"));
    // Without --dry-run the items are stored; a second run finds them all as duplicates.
    let data = d.join("data");
    let first = bin()
        .arg("--data-dir")
        .arg(&data)
        .args(["ingest", "--agency", "Wire"])
        .arg(&rss)
        .output()
        .unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(String::from_utf8(first.stdout)
        .unwrap()
        .contains("2 new, 0 updated, 0 duplicate"));
    let second = bin()
        .arg("--data-dir")
        .arg(&data)
        .args(["ingest", "--agency", "Wire"])
        .arg(&rss)
        .output()
        .unwrap();
    assert!(String::from_utf8(second.stdout)
        .unwrap()
        .contains("0 new, 0 updated, 2 duplicate"));
}

#[test]
fn config_show_takes_numbers_from_the_environment_and_hides_secrets() {
    let out = bin()
        .args(["config", "show"])
        .env("NEWSDESK_MAIL__SMTP_PORT", "2525")
        .env("NEWSDESK_MAIL__SMTP_PASSWORD", "mail-pw-1")
        .env(
            "NEWSDESK_DATABASE_URL",
            "postgres://newsdesk:db-pw-2@127.0.0.1:5432/news",
        )
        .env("NEWSDESK_FEEDBACK__FORM_KEY", "form-key-3")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("smtp_port = 2525"), "{text}");
    for secret in ["mail-pw-1", "db-pw-2", "form-key-3"] {
        assert!(!text.contains(secret), "{secret} printed:\n{text}");
    }
    assert!(text.contains("postgres://newsdesk:<redacted>@127.0.0.1:5432/news"));
}

#[test]
fn config_defaults_parse_and_user_add_reads_the_password_from_stdin() {
    let out = bin().args(["config", "defaults"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("listen = \"127.0.0.1:8080\""));
    let d = temp_dir("user");
    let mut child = bin()
        .args(["--data-dir"])
        .arg(&d)
        .args([
            "user",
            "add",
            "--role",
            "admin",
            "--name",
            "Ada",
            "ada@example.org",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a long enough password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .contains("made admin account ada@example.org"));
    let again = bin()
        .args(["--data-dir"])
        .arg(&d)
        .args(["user", "add", "ada@example.org"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!again.status.success());
    let err = String::from_utf8(again.stderr).unwrap();
    assert!(err.starts_with("newsdesk: "), "{err}");
    assert!(
        !err.contains("backtrace"),
        "an operator error, not a backtrace"
    );
}

#[test]
fn backup_copies_the_database_and_the_media_folder_and_never_overwrites() {
    let d = temp_dir("backup");
    let data = d.join("data");
    let ok = |c: &mut Command| {
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    ok(bin().arg("--data-dir").arg(&data).arg("migrate"));
    std::fs::create_dir_all(data.join("media")).unwrap();
    std::fs::write(data.join("media/img-0123456789abcdef-480.jpg"), b"jpeg").unwrap();
    std::fs::write(data.join("media/.upload-0011"), b"half an upload").unwrap();
    let dest = d.join("copy");
    let said = ok(bin().arg("--data-dir").arg(&data).arg("backup").arg(&dest));
    assert!(said.contains("integrity checked"), "{said}");
    assert!(said.contains("media: 1 files"), "{said}");
    assert!(dest.join("newsdesk.db").is_file());
    assert_eq!(
        std::fs::read(dest.join("media/img-0123456789abcdef-480.jpg")).unwrap(),
        b"jpeg"
    );
    assert!(!dest.join("media/.upload-0011").exists());
    // The copy is a site newsdesk opens.
    ok(bin().arg("--data-dir").arg(&dest).arg("migrate"));
    let again = bin()
        .arg("--data-dir")
        .arg(&data)
        .arg("backup")
        .arg(&dest)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));
    let _ = std::fs::remove_dir_all(&d);
}
