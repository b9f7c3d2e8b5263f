//! One clusterer answer across nodes: two `App`s on one store (a SQLite file; PostgreSQL when
//! `NEWSDESK_TEST_DATABASE_URL` is set) fed one stream half each give exactly the clusters one
//! node gives, and when the node holding the clustering lease stops, the other takes it over
//! once it expires and goes on with the same answers.
#![allow(clippy::unwrap_used)]

use chrono::{Duration, TimeZone, Utc};
use newsdesk_app::wire::{CLUSTER_LEASE, CLUSTER_LEASE_TERM};
use newsdesk_app::{App, SiteConfig};
use newsdesk_domain::*;
use newsdesk_store::Store;
use std::collections::BTreeMap;
use std::sync::Arc;

fn t0() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap()
}

/// The stream: the demo agency copy (several agencies' reports of each event), with one event's
/// reports spread over the whole stream so that clusters span both nodes' halves.
fn stream() -> Vec<WireItem> {
    let mut items = newsdesk_demo::wire_items(t0());
    // Interleave: every other item from the back, so reports of one event reach both nodes.
    let mut out = Vec::with_capacity(items.len());
    while !items.is_empty() {
        out.push(items.remove(0));
        if let Some(last) = items.pop() {
            out.push(last);
        }
    }
    out
}

/// Batches of 1 to 3 items (the sizes cycle), as pushes and polls come.
fn batches(items: &[WireItem]) -> Vec<Vec<WireItem>> {
    let mut out = Vec::new();
    let mut rest = items;
    let mut size = 1;
    while !rest.is_empty() {
        let n = size.min(rest.len());
        out.push(rest[..n].to_vec());
        rest = &rest[n..];
        size = size % 3 + 1;
    }
    out
}

/// Each item's cluster, by (agency, agency id): the answer to compare.
async fn answer(store: &dyn Store, items: &[WireItem]) -> BTreeMap<(String, String), ClusterId> {
    let keys: Vec<(String, String)> = items
        .iter()
        .map(|i| (i.agency.clone(), i.agency_id.clone()))
        .collect();
    let found = store.find_wire_items(&keys).await.unwrap();
    assert_eq!(found.len(), items.len(), "every item stored once");
    found
        .into_iter()
        .map(|s| ((s.item.agency, s.item.agency_id), s.cluster_id))
        .collect()
}

async fn app(store: Arc<dyn Store>, clock: Arc<ManualClock>) -> Arc<App> {
    App::load(store, clock, SiteConfig::default())
        .await
        .unwrap()
}

/// What one node makes of the stream, batch by batch.
async fn one_node(store: Arc<dyn Store>) -> BTreeMap<(String, String), ClusterId> {
    let items = stream();
    let node = app(store.clone(), Arc::new(ManualClock::new(t0()))).await;
    for b in batches(&items) {
        node.ingest(b).await.unwrap();
    }
    let got = answer(&*store, &items).await;
    let clusters: std::collections::BTreeSet<_> = got.values().collect();
    assert!(
        clusters.len() >= newsdesk_demo::DEMO_WIRE_EVENTS && clusters.len() < items.len(),
        "the stream clusters: {} clusters of {} items",
        clusters.len(),
        items.len()
    );
    got
}

/// Two nodes on one store (`a` and `b` are separate handles on it), batches alternating.
async fn two_nodes(a: Arc<dyn Store>, b: Arc<dyn Store>) -> BTreeMap<(String, String), ClusterId> {
    let items = stream();
    let clock = Arc::new(ManualClock::new(t0()));
    let (na, nb) = (app(a.clone(), clock.clone()).await, app(b, clock).await);
    for (i, batch) in batches(&items).into_iter().enumerate() {
        let node = if i % 2 == 0 { &na } else { &nb };
        node.ingest(batch).await.unwrap();
    }
    assert_eq!(na.cluster_lease_holder().await.unwrap(), None, "released");
    answer(&*a, &items).await
}

/// Node A takes the first half and then stops while holding the clustering lease; node B waits
/// for the lease, takes it over once it has expired, and clusters the rest.
async fn failover(a: Arc<dyn Store>, b: Arc<dyn Store>) -> BTreeMap<(String, String), ClusterId> {
    let items = stream();
    let all = batches(&items);
    let half = all.len() / 2;
    let clock = Arc::new(ManualClock::new(t0()));
    let na = app(a.clone(), clock.clone()).await;
    let nb = app(b, clock.clone()).await;
    for batch in &all[..half] {
        na.ingest(batch.clone()).await.unwrap();
    }
    // A stops in the middle of its next batch: it holds the lease and never gives it back.
    let now = clock.now();
    assert!(a
        .take_lease(
            CLUSTER_LEASE,
            na.cluster_lease_name(),
            now,
            now + CLUSTER_LEASE_TERM
        )
        .await
        .unwrap());
    drop(na);
    let before = a.last_wire_item_id().await.unwrap();
    let rest: Vec<Vec<WireItem>> = all[half..].to_vec();
    let task = tokio::spawn({
        let nb = nb.clone();
        async move {
            for batch in rest {
                nb.ingest(batch).await.unwrap();
            }
        }
    });
    // While A's lease runs, B clusters nothing.
    for _ in 0..8 {
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        assert_eq!(a.last_wire_item_id().await.unwrap(), before, "B waited");
    }
    assert!(!task.is_finished());
    clock.advance(CLUSTER_LEASE_TERM + Duration::seconds(1));
    task.await.unwrap();
    assert_eq!(nb.cluster_lease_holder().await.unwrap(), None);
    answer(&*a, &items).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sqlite_nodes_cluster_as_one() {
    let single = newsdesk_store_sqlite::temp_store().unwrap();
    let expected = one_node(single).await;

    let shared = newsdesk_store_sqlite::temp_store().unwrap();
    let other = Arc::new(newsdesk_store_sqlite::SqliteStore::open(shared.path()).unwrap());
    assert_eq!(two_nodes(shared, other).await, expected);

    let shared = newsdesk_store_sqlite::temp_store().unwrap();
    let other = Arc::new(newsdesk_store_sqlite::SqliteStore::open(shared.path()).unwrap());
    assert_eq!(failover(shared, other).await, expected);
}

async fn pg_pair() -> Option<(Arc<dyn Store>, Arc<dyn Store>)> {
    let config = newsdesk_store_postgres::temp_config().await.unwrap()?;
    let a = newsdesk_store_postgres::PgStore::from_config(config.clone(), 4)
        .await
        .unwrap();
    let b = newsdesk_store_postgres::PgStore::from_config(config, 4)
        .await
        .unwrap();
    Some((Arc::new(a), Arc::new(b)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_postgres_nodes_cluster_as_one() {
    let Some(single) = newsdesk_store_postgres::temp_store().await.unwrap() else {
        newsdesk_store_postgres::say_skipped("clustering on two PostgreSQL nodes");
        return;
    };
    let expected = one_node(single).await;
    let (a, b) = pg_pair().await.unwrap();
    assert_eq!(two_nodes(a, b).await, expected);
    let (a, b) = pg_pair().await.unwrap();
    assert_eq!(failover(a, b).await, expected);
}
