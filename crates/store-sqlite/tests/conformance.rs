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
