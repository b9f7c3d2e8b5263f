//! The article read of a page miss: a story's lists kept in its row (`stories.lists`): every
//! write keeps them equal to what the migration computes from the list tables, and a row
//! without them is still read right (from the tables); and the read runs on the calling thread
//! when a pooled connection is idle (no hand-off to the blocking pool).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use newsdesk_store::prelude::*;
use newsdesk_store_sqlite::temp_store;

/// The statements of the migration that fill `lists` from the list tables.
fn backfill() -> String {
    include_str!("../src/story_lists.sql")
        .split(';')
        .filter(|st| st.trim_start().lines().any(|l| l.starts_with("UPDATE")))
        .collect::<Vec<_>>()
        .join(";")
}

#[tokio::test]
async fn every_write_keeps_the_lists_in_the_row_as_the_migration_makes_them() {
    let s = temp_store().unwrap();
    newsdesk_store::conformance::article_read_follows_every_write(&*s).await;
    newsdesk_store::conformance::article_reads_what_the_page_needs(&*s).await;
    let c = rusqlite::Connection::open(s.path()).unwrap();
    c.execute_batch("CREATE TEMP TABLE kept AS SELECT id, lists FROM stories")
        .unwrap();
    let n: i64 = c
        .query_row(
            "SELECT count(*) FROM kept WHERE lists IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(n >= 10, "{n} stories with their lists");
    let missing: i64 = c
        .query_row("SELECT count(*) FROM kept WHERE lists IS NULL", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(missing, 0, "a write left a story's lists out of its row");
    c.execute_batch(&backfill()).unwrap();
    let differ: Vec<(i64, Option<String>, Option<String>)> = c
        .prepare(
            "SELECT k.id, k.lists, s.lists FROM kept k JOIN stories s ON s.id = k.id \
             WHERE k.lists IS NOT s.lists",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(differ, [], "(story, written, from the tables)");
}

#[tokio::test]
async fn a_row_without_its_lists_is_read_from_the_tables() {
    let s = temp_store().unwrap();
    newsdesk_store::conformance::article_reads_what_the_page_needs(&*s).await;
    let c = rusqlite::Connection::open(s.path()).unwrap();
    for value in [None, Some("not lists")] {
        c.execute("UPDATE stories SET lists = ?1", [value]).unwrap();
        for id in 1..=2 {
            let id = newsdesk_domain::StoryId(id);
            let read = s.get_article(id).await.unwrap();
            assert_eq!(read.story, s.get_story(id).await.unwrap(), "{value:?}");
            assert!(!read.story.input.tag_ids.is_empty());
        }
    }
    // The lists in the row are what the article read takes (not the tables).
    c.execute("UPDATE stories SET lists = '|1|'", []).unwrap();
    let read = s.get_article(newsdesk_domain::StoryId(1)).await.unwrap();
    assert_eq!(read.story.input.author_ids, [newsdesk_domain::AuthorId(1)]);
    assert!(read.story.input.tag_ids.is_empty() && read.story.input.placements.is_empty());
}

/// With an idle pooled connection, the article read does not go to the blocking pool: here the
/// pool's only thread is held busy, and reads still complete (with a hand-off they would wait
/// for it; the timeout only turns that wait into a failure).
#[test]
fn an_article_read_with_an_idle_connection_needs_no_blocking_thread() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .max_blocking_threads(1)
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        let s = temp_store().unwrap();
        newsdesk_store::conformance::article_reads_what_the_page_needs(&*s).await;
        // One read leaves an idle connection in the pool.
        s.get_article(newsdesk_domain::StoryId(1)).await.unwrap();
        let (release, held) = std::sync::mpsc::channel::<()>();
        let (started, running) = tokio::sync::oneshot::channel();
        let busy = tokio::task::spawn_blocking(move || {
            let _ = started.send(());
            let _ = held.recv();
        });
        running.await.unwrap();
        let reads = async {
            for id in [1, 2, 1] {
                s.get_article(newsdesk_domain::StoryId(id)).await.unwrap();
            }
        };
        let done = tokio::time::timeout(std::time::Duration::from_secs(20), reads).await;
        release.send(()).unwrap();
        busy.await.unwrap();
        assert!(
            done.is_ok(),
            "the article reads waited for a blocking thread"
        );
    });
}
