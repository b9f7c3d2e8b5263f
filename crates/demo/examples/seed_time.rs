//! Times seeding a fresh SQLite store: `cargo run --release -p newsdesk-demo --example seed_time -- 100000`.

use newsdesk_domain::{Clock, SystemClock};
use std::time::Instant;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let stories: usize = match std::env::args().nth(1) {
        Some(n) => n.parse()?,
        None => 100_000,
    };
    let store = newsdesk_store_sqlite::temp_store()?;
    let media = store
        .path()
        .parent()
        .map(|p| p.join("media"))
        .ok_or_else(|| anyhow::anyhow!("store has no folder"))?;
    let mut opts = newsdesk_demo::DemoOptions::new(SystemClock.now(), &media);
    opts.stories = stories;
    let t = Instant::now();
    let report = newsdesk_demo::seed(store.as_ref(), &opts).await?;
    println!(
        "seeded {} stories, {} images in {:.1?} (database {})",
        report.stories,
        report.images,
        t.elapsed(),
        store.path().display()
    );
    Ok(())
}
