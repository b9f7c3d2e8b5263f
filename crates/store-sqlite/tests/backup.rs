//! `backup_online` while another connection keeps writing: the copy is one consistent moment of
//! the database, passes `integrity_check`, and the backup never starts over.
#![allow(clippy::unwrap_used)]

use newsdesk_store_sqlite::{backup_online, temp_store, BackupError, BackupOptions};
use rusqlite::Connection;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

#[test]
fn a_backup_made_while_writes_go_on_is_one_consistent_moment() {
    let store = temp_store().unwrap();
    let db = store.path().to_owned();
    let dest = db.parent().unwrap().join("copy.db");
    let w = Connection::open(&db).unwrap();
    w.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    // Rows come in pairs (one transaction each), so a copy with an odd count saw half a
    // transaction; the padding makes the database a few thousand pages.
    w.execute_batch(
        "CREATE TABLE backup_probe (id INTEGER PRIMARY KEY, pair INTEGER NOT NULL, pad BLOB);",
    )
    .unwrap();
    let pair = |w: &Connection, n: u64| {
        w.execute_batch("BEGIN IMMEDIATE").unwrap();
        for _ in 0..2 {
            w.execute(
                "INSERT INTO backup_probe (pair, pad) VALUES (?1, zeroblob(2000))",
                [n as i64],
            )
            .unwrap();
        }
        w.execute_batch("COMMIT").unwrap();
    };
    for n in 0..2000 {
        pair(&w, n);
    }
    let count = |c: &Connection| -> i64 {
        c.query_row("SELECT count(*) FROM backup_probe", [], |r| r.get(0))
            .unwrap()
    };
    let before = count(&w);

    // A writer goes on committing pairs for the whole backup.
    let stop = Arc::new(AtomicBool::new(false));
    let commits = Arc::new(AtomicU64::new(0));
    let writer = {
        let (stop, commits) = (stop.clone(), commits.clone());
        std::thread::spawn(move || {
            let mut n = 10_000;
            while !stop.load(Ordering::Relaxed) {
                pair(&w, n);
                n += 1;
                commits.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            w
        })
    };
    // Wait (bounded) for the writer to be under way.
    for _ in 0..5000 {
        if commits.load(Ordering::Relaxed) >= 3 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let mut seen: Vec<(u64, u64, u64)> = Vec::new();
    let report = backup_online(
        &db,
        &dest,
        &BackupOptions {
            pages_per_step: 16,
            pause: std::time::Duration::from_millis(1),
        },
        |done, total| seen.push((done, total, commits.load(Ordering::Relaxed))),
    )
    .unwrap();
    stop.store(true, Ordering::Relaxed);
    let w = writer.join().unwrap();
    let after = count(&w);

    assert!(report.steps > 50, "stepwise: {report:?}");
    assert!(
        seen.last().unwrap().2 > seen.first().unwrap().2,
        "the writer committed while the backup ran"
    );
    // Never started over: pages done only grow, the total never moves.
    assert!(seen
        .windows(2)
        .all(|p| p[1].0 >= p[0].0 && p[1].1 == p[0].1));
    assert_eq!(seen.last().unwrap().0, seen.last().unwrap().1);

    let copy = Connection::open(&dest).unwrap();
    let check: String = copy
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let copied = count(&copy);
    assert_eq!(copied % 2, 0, "no half transaction in the copy");
    assert!(
        before <= copied && copied < after,
        "{before} <= {copied} < {after}"
    );
    // The store's own tables came along.
    let tables: i64 = copy
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name = 'stories'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 1);
    let mode: String = copy
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete", "one self-contained file");
    assert!(!dest.with_extension("db.partial").exists());

    // A backup never overwrites.
    assert!(matches!(
        backup_online(&db, &dest, &BackupOptions::default(), |_, _| {}),
        Err(BackupError::Exists(_))
    ));
}
