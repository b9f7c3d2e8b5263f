//! The store conformance suite on SQLite.

newsdesk_store::conformance_tests!(newsdesk_store_sqlite::temp_store().expect("temp store"));

#[tokio::test]
async fn reopening_keeps_data_and_does_not_remigrate() {
    use newsdesk_store::Store;
    let s = newsdesk_store_sqlite::temp_store().unwrap();
    let path = s.path().to_owned();
    s.upsert_tag(&newsdesk_domain::Slug::parse("x").unwrap(), "x")
        .await
        .unwrap();
    drop(s);
    let again = newsdesk_store_sqlite::SqliteStore::open(&path).unwrap();
    assert_eq!(again.list_tags().await.unwrap().len(), 1);
}
