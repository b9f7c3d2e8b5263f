//! An article's read (the page cache's miss path) is one statement its connection keeps
//! prepared (one round trip), and that cache does not grow with the stories read. Skipped loudly without `NEWSDESK_TEST_DATABASE_URL` (CI sets it).

use newsdesk_domain::StoryId;
use newsdesk_store::StoryStore;

#[tokio::test]
async fn an_article_read_keeps_its_one_statement_prepared_and_no_more() {
    let Some(config) = newsdesk_store_postgres::temp_config()
        .await
        .expect("a fresh schema on the test server")
    else {
        newsdesk_store_postgres::say_skipped("the prepared statements of an article's read");
        return;
    };
    // One connection, so every read below runs on the cache counted.
    let store = newsdesk_store_postgres::PgStore::from_config(config, 1)
        .await
        .expect("store");
    assert_eq!(store.prepared_statements().await.expect("count"), 0);
    // Stories with corrections and lineage, each read as an article page reads it.
    newsdesk_store::conformance::article_reads_what_the_page_needs(&store).await;
    assert_eq!(store.prepared_statements().await.expect("count"), 1);
    for id in 1..=50 {
        let _ = store.get_article(StoryId(id)).await;
    }
    assert_eq!(store.prepared_statements().await.expect("count"), 1);
}
