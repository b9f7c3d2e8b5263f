//! Waking the nodes that follow the change log (LISTEN/NOTIFY): a write on one node wakes the
//! waiter of another; a write in another schema does not; the listening connection comes back
//! after it is killed. Needs `NEWSDESK_TEST_DATABASE_URL`; without it each
//! test says SKIPPED. Every wait is bounded; nothing is timed.

use newsdesk_domain::*;
use newsdesk_store::prelude::*;
use newsdesk_store::{ChangeWaiter, Wake};
use newsdesk_store_postgres::PgStore;
use std::time::{Duration, Instant};

/// Far longer than a notification takes on loopback.
const BOUND: Duration = Duration::from_secs(30);

struct Node {
    store: PgStore,
    config: tokio_postgres::Config,
}

async fn node_pair() -> Option<(Node, Node)> {
    let Some(config) = newsdesk_store_postgres::temp_config()
        .await
        .expect("a fresh schema")
    else {
        newsdesk_store_postgres::say_skipped("the change-log notification tests on PostgreSQL");
        return None;
    };
    let a = PgStore::from_config(config.clone(), 2)
        .await
        .expect("node a");
    let b = PgStore::from_config(config.clone(), 2)
        .await
        .expect("node b");
    Some((
        Node {
            store: a,
            config: config.clone(),
        },
        Node { store: b, config },
    ))
}

/// A plain connection to the test schema (for looking at the server's sessions).
async fn admin(config: &tokio_postgres::Config) -> tokio_postgres::Client {
    let (client, conn) = config
        .connect(tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(conn);
    client
}

/// The backend pids of the sessions listening for this schema's changes.
async fn listeners(c: &tokio_postgres::Client) -> Vec<i32> {
    let ns: i32 = c
        .query_one("SELECT hashtext(current_schema())", &[])
        .await
        .expect("schema hash")
        .get(0);
    c.query(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 \
         AND query IN ('LISTEN newsdesk_changes', 'SELECT 1') AND state = 'idle'",
        &[&format!("newsdesk-listen-{ns}")],
    )
    .await
    .expect("sessions")
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// Waits (bounded) until `n` listening sessions other than `not` are there; returns them.
async fn listening(c: &tokio_postgres::Client, n: usize, not: &[i32]) -> Vec<i32> {
    let end = Instant::now() + BOUND;
    loop {
        let pids: Vec<i32> = listeners(c)
            .await
            .into_iter()
            .filter(|p| !not.contains(p))
            .collect();
        if pids.len() >= n {
            return pids;
        }
        assert!(Instant::now() < end, "no listening session came up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Takes the wakes already due (the first wait, the connect), so the next one means news.
async fn drain(w: &mut ChangeWaiter) {
    for _ in 0..100 {
        if w.wait(Duration::from_millis(300)).await == Wake::TimedOut {
            return;
        }
    }
    panic!("the waiter never went quiet");
}

async fn tag(store: &PgStore, slug: &str) {
    store
        .upsert_tag(&Slug::parse(slug).expect("slug"), slug)
        .await
        .expect("a write that logs a change");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_on_one_node_wakes_the_follower_of_another() {
    let Some((a, b)) = node_pair().await else {
        return;
    };
    let mut w = b.store.change_waiter();
    assert!(w.is_notified(), "PostgreSQL notifies");
    let c = admin(&b.config).await;
    listening(&c, 1, &[]).await;
    drain(&mut w).await;

    let before = b.store.last_change_seq().await.expect("seq");
    tag(&a.store, "from-a").await;
    assert_eq!(w.wait(BOUND).await, Wake::Notified, "woken by A's write");
    assert!(b.store.last_change_seq().await.expect("seq") > before);

    // Nothing written: no wake; the waiter falls back to its timeout.
    assert_eq!(w.wait(Duration::from_millis(300)).await, Wake::TimedOut);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_in_another_schema_does_not_wake_this_one() {
    let Some((a, _)) = node_pair().await else {
        return;
    };
    let Some((other, _)) = node_pair().await else {
        return;
    };
    let mut w = a.store.change_waiter();
    let c = admin(&a.config).await;
    listening(&c, 1, &[]).await;
    drain(&mut w).await;
    tag(&other.store, "elsewhere").await;
    // The other schema's notification reaches this session too (one channel), and is ignored.
    assert_eq!(w.wait(Duration::from_millis(500)).await, Wake::TimedOut);
    tag(&a.store, "here").await;
    assert_eq!(w.wait(BOUND).await, Wake::Notified);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listening_connection_comes_back_after_it_is_killed() {
    let Some((a, b)) = node_pair().await else {
        return;
    };
    let mut w = b.store.change_waiter();
    let c = admin(&b.config).await;
    let first = listening(&c, 1, &[]).await;
    drain(&mut w).await;
    for pid in &first {
        c.execute("SELECT pg_terminate_backend($1)", &[pid])
            .await
            .expect("terminate");
    }
    // A new session listens (after a back-off), and the reconnect itself wakes the follower:
    // notifications sent while it was away are lost, so it must read the log.
    listening(&c, 1, &first).await;
    assert_eq!(
        w.wait(BOUND).await,
        Wake::Notified,
        "woken by the reconnect"
    );
    drain(&mut w).await;
    tag(&a.store, "after-reconnect").await;
    assert_eq!(w.wait(BOUND).await, Wake::Notified, "woken by A's write");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiters_of_one_store_share_one_listening_connection() {
    let Some((a, b)) = node_pair().await else {
        return;
    };
    let mut w1 = b.store.change_waiter();
    let mut w2 = b.store.change_waiter();
    let c = admin(&b.config).await;
    listening(&c, 1, &[]).await;
    drain(&mut w1).await;
    drain(&mut w2).await;
    tag(&a.store, "both").await;
    assert_eq!(w1.wait(BOUND).await, Wake::Notified);
    assert_eq!(w2.wait(BOUND).await, Wake::Notified);
    assert_eq!(listeners(&c).await.len(), 1, "one connection per store");
}
