//! A story's lists kept in its row (`stories.lists`, read by the article read): every write
//! keeps them equal to what the migration computes from the list tables, and a row without
//! them is still read right (from the tables). Skipped loudly without
//! `NEWSDESK_TEST_DATABASE_URL` (CI sets it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use newsdesk_store::prelude::*;

/// The statements of the migration that fill `lists` from the list tables.
fn backfill() -> String {
    include_str!("../src/story_lists.sql")
        .split(';')
        .filter(|st| st.trim_start().lines().any(|l| l.starts_with("UPDATE")))
        .collect::<Vec<_>>()
        .join(";")
}

/// A store on a fresh schema and a plain client on the same schema.
async fn store_and_client() -> Option<(newsdesk_store_postgres::PgStore, tokio_postgres::Client)> {
    let Some(config) = newsdesk_store_postgres::temp_config().await.unwrap() else {
        newsdesk_store_postgres::say_skipped("a story's lists kept in its row");
        return None;
    };
    let store = newsdesk_store_postgres::PgStore::from_config(config.clone(), 2)
        .await
        .unwrap();
    let (client, conn) = config.connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    Some((store, client))
}

#[tokio::test]
async fn every_write_keeps_the_lists_in_the_row_as_the_migration_makes_them() {
    let Some((s, c)) = store_and_client().await else {
        return;
    };
    newsdesk_store::conformance::article_read_follows_every_write(&s).await;
    newsdesk_store::conformance::article_reads_what_the_page_needs(&s).await;
    c.batch_execute("CREATE TEMP TABLE kept AS SELECT id, lists FROM stories")
        .await
        .unwrap();
    let n: i64 = c
        .query_one("SELECT count(*) FROM kept WHERE lists IS NOT NULL", &[])
        .await
        .unwrap()
        .get(0);
    assert!(n >= 10, "{n} stories with their lists");
    let missing: i64 = c
        .query_one("SELECT count(*) FROM kept WHERE lists IS NULL", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(missing, 0, "a write left a story's lists out of its row");
    c.batch_execute(&backfill()).await.unwrap();
    let differ: Vec<(i64, Option<String>, Option<String>)> = c
        .query(
            "SELECT k.id, k.lists, s.lists FROM kept k JOIN stories s ON s.id = k.id \
             WHERE k.lists IS DISTINCT FROM s.lists",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(differ, [], "(story, written, from the tables)");
}

#[tokio::test]
async fn a_row_without_its_lists_is_read_from_the_tables() {
    let Some((s, c)) = store_and_client().await else {
        return;
    };
    newsdesk_store::conformance::article_reads_what_the_page_needs(&s).await;
    for value in [None, Some("not lists")] {
        c.execute("UPDATE stories SET lists = $1", &[&value])
            .await
            .unwrap();
        for id in 1..=2 {
            let id = newsdesk_domain::StoryId(id);
            let read = s.get_article(id).await.unwrap();
            assert_eq!(read.story, s.get_story(id).await.unwrap(), "{value:?}");
            assert!(!read.story.input.tag_ids.is_empty());
        }
    }
    // The lists in the row are what the article read takes (not the tables).
    c.execute("UPDATE stories SET lists = '|1|'", &[])
        .await
        .unwrap();
    let read = s.get_article(newsdesk_domain::StoryId(1)).await.unwrap();
    assert_eq!(read.story.input.author_ids, [newsdesk_domain::AuthorId(1)]);
    assert!(read.story.input.tag_ids.is_empty() && read.story.input.placements.is_empty());
}
