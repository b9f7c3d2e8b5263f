//! The read model's memory per story, counted on the demo corpus (what `bench/traffic.sh`
//! serves at 100,000 and 1,000,000 stories).
#![allow(clippy::unwrap_used)]

use newsdesk_app::{App, SiteConfig};
use newsdesk_domain::*;
use newsdesk_store::{Store, StoryStore};
use std::sync::Arc;

#[tokio::test]
async fn a_demo_story_costs_the_read_model_at_most_400_bytes() {
    let store = newsdesk_store_sqlite::temp_store().unwrap();
    let media = store.path().parent().unwrap().join("media");
    let now = SystemClock.now();
    newsdesk_demo::seed(
        &*store,
        &newsdesk_demo::DemoOptions {
            stories: 1_500,
            now,
            seed: 9,
            media_dir: media,
        },
    )
    .await
    .unwrap();
    let store: Arc<dyn Store> = store;
    let app = App::load(store, Arc::new(SystemClock), SiteConfig::default())
        .await
        .unwrap();
    let snap = app.read();
    assert!(snap.len() >= 1_500, "{}", snap.len());
    let per_story = snap.story_bytes() / snap.len();
    eprintln!(
        "{per_story} bytes per demo story in the read model, {} shared (index table, names)",
        snap.shared_bytes()
    );
    // Counted from sizes and capacities (inline card, its heap block, index and lookup
    // entries); ~790 when whole `StoryCard`s were held. What the stories share (bounded by the
    // taxonomy) is counted apart.
    assert!(per_story <= 400, "{per_story} bytes per story");
}

/// The read model loaded a page of cards at a time is the one built from every card at once:
/// no story missed or doubled at the pages' edges, every list the same.
#[tokio::test]
async fn the_read_model_loaded_in_pages_is_the_whole_one() {
    let store = newsdesk_store_sqlite::temp_store().unwrap();
    let media = store.path().parent().unwrap().join("media");
    let now = SystemClock.now();
    newsdesk_demo::seed(
        &*store,
        &newsdesk_demo::DemoOptions {
            stories: 300,
            now,
            seed: 4,
            media_dir: media,
        },
    )
    .await
    .unwrap();
    let whole = newsdesk_app::Snapshot::new(
        newsdesk_app::Taxonomy {
            sectors: store.list_sectors().await.unwrap(),
            editions: store.list_editions().await.unwrap(),
            desks: store.list_desks().await.unwrap(),
            authors: store.list_authors().await.unwrap(),
            tags: store.list_tags().await.unwrap(),
        },
        store.list_images().await.unwrap(),
        store.list_pages().await.unwrap(),
        store.list_published_cards().await.unwrap(),
    );
    assert!(whole.len() >= 300, "{}", whole.len());
    for per_page in [7, 300, newsdesk_app::CARDS_PER_PAGE] {
        let paged = newsdesk_app::load_snapshot(&*store, per_page)
            .await
            .unwrap();
        assert_eq!(paged.len(), whole.len(), "pages of {per_page}");
        let ids = |s: &newsdesk_app::Snapshot| -> Vec<(StoryId, i64)> {
            s.all_public(now).map(|c| (c.id, c.version)).collect()
        };
        assert_eq!(ids(&paged), ids(&whole), "pages of {per_page}");
        for c in whole.all_public(now) {
            assert_eq!(
                paged.card(c.id).as_deref(),
                Some(&*c),
                "pages of {per_page}"
            );
        }
        assert_eq!(
            paged.story_bytes(),
            whole.story_bytes(),
            "pages of {per_page}"
        );
    }
}
