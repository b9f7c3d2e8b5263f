//! Wall time of an article's read on PostgreSQL (`StoryStore::get_article`, the page cache's
//! miss path), one at a time on one pooled connection, in a fresh schema of the test server:
//!
//! ```sh
//! NEWSDESK_TEST_DATABASE_URL=$(bash scripts/pg-throwaway.sh start /tmp/pg) \
//!   cargo run --release -p newsdesk-store-postgres --example article_reads
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use newsdesk_domain::StoryId;
use newsdesk_store::StoryStore;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let Some(config) = newsdesk_store_postgres::temp_config().await.unwrap() else {
        eprintln!(
            "set NEWSDESK_TEST_DATABASE_URL to a PostgreSQL server (scripts/pg-throwaway.sh)"
        );
        std::process::exit(2);
    };
    let store = newsdesk_store_postgres::PgStore::from_config(config, 1)
        .await
        .unwrap();
    // Stories with corrections and lineage, as the conformance suite makes them.
    newsdesk_store::conformance::article_reads_what_the_page_needs(&store).await;
    let mut ids = vec![];
    for id in 1..=50 {
        if store.get_article(StoryId(id)).await.is_ok() {
            ids.push(id);
        }
    }
    let n = 3000;
    let t = std::time::Instant::now();
    for i in 0..n {
        store
            .get_article(StoryId(ids[i % ids.len()]))
            .await
            .unwrap();
    }
    println!(
        "{n} article reads of {} stories: {:.0} us each",
        ids.len(),
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
}
