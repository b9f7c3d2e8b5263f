//! The store conformance suite on PostgreSQL, each case in a schema of its own on the server
//! `NEWSDESK_TEST_DATABASE_URL` names (so cases run in parallel). Without it, each case says
//! loudly that it was skipped, and why (CI always sets it: `.ci/run` starts a server).

/// A fresh store, or `None` (with a SKIPPED line) when no test server is configured.
async fn fresh() -> Option<std::sync::Arc<newsdesk_store_postgres::PgStore>> {
    let store = newsdesk_store_postgres::temp_store()
        .await
        .expect("a fresh schema on the test server");
    if store.is_none() {
        newsdesk_store_postgres::say_skipped("the store conformance suite on PostgreSQL");
    }
    store
}

newsdesk_store::conformance_tests!({
    let Some(store) = fresh().await else { return };
    store
});
