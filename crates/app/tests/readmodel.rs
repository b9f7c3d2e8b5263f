//! The read model's memory per story, counted on the demo corpus (what `bench/traffic.sh`
//! serves at 100,000 and 1,000,000 stories).
#![allow(clippy::unwrap_used)]

use newsdesk_app::{App, SiteConfig};
use newsdesk_domain::*;
use newsdesk_store::Store;
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
