//! The store conformance suite on SQLite.

newsdesk_store::conformance_tests!(newsdesk_store_sqlite::temp_store().expect("temp store"));

#[tokio::test]
async fn reopening_keeps_data_and_does_not_remigrate() {
    use newsdesk_store::prelude::*;
    let s = newsdesk_store_sqlite::temp_store().unwrap();
    let path = s.path().to_owned();
    s.upsert_tag(&newsdesk_domain::Slug::parse("x").unwrap(), "x")
        .await
        .unwrap();
    drop(s);
    let again = newsdesk_store_sqlite::SqliteStore::open(&path).unwrap();
    assert_eq!(again.list_tags().await.unwrap().len(), 1);
}

/// A part of the suite runs on its own (a backend can be brought up section by section), each
/// case on a store of its own.
#[tokio::test]
async fn a_part_runs_alone_on_fresh_stores() {
    use newsdesk_store::conformance::{jobs, PARTS};
    use std::sync::Arc;
    let mut made = 0;
    jobs::run(|| {
        made += 1;
        async { newsdesk_store_sqlite::temp_store().unwrap() as Arc<dyn newsdesk_store::Store> }
    })
    .await;
    assert_eq!(made, jobs::CASES.len());
    assert!(PARTS.iter().any(|(name, _)| *name == "jobs"));
    assert!(PARTS.len() >= 8, "a part per section");
}

/// The change log's instants come from the store's clock, not the system's, so tests that set
/// the time see it there too.
#[tokio::test]
async fn the_change_log_takes_its_time_from_the_clock() {
    use chrono::TimeZone;
    use newsdesk_domain::{ManualClock, Slug};
    use newsdesk_store::prelude::*;
    use std::sync::Arc;
    let at = chrono::Utc
        .with_ymd_and_hms(2001, 2, 3, 4, 5, 6)
        .single()
        .unwrap();
    let clock = Arc::new(ManualClock::new(at));
    let path = newsdesk_store_sqlite::temp_store()
        .unwrap()
        .path()
        .to_owned();
    let s = newsdesk_store_sqlite::SqliteStore::open(&path)
        .unwrap()
        .with_clock(clock.clone());
    s.upsert_tag(&Slug::parse("x").unwrap(), "x").await.unwrap();
    clock.advance(chrono::Duration::minutes(3));
    s.upsert_tag(&Slug::parse("y").unwrap(), "y").await.unwrap();
    let at_of: Vec<_> = s
        .changes_since(0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.at)
        .collect();
    assert_eq!(at_of, vec![at, at + chrono::Duration::minutes(3)]);
}
