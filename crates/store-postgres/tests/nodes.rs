//! Several nodes on one PostgreSQL database: each test opens several stores (each with its own
//! pool, as separate `newsdesk serve` processes would) on one fresh schema and has them work at
//! the same time. Needs `NEWSDESK_TEST_DATABASE_URL`; without it each test says SKIPPED.

use chrono::{Duration, TimeZone, Utc};
use newsdesk_domain::*;
use newsdesk_store::prelude::*;
use newsdesk_store::{Conflict, StoreError};
use newsdesk_store_postgres::PgStore;
use std::collections::HashMap;
use std::sync::Arc;

/// `n` stores on one fresh schema, or `None` (with a SKIPPED line) without a test server.
async fn nodes(n: usize) -> Option<Vec<Arc<PgStore>>> {
    let Some(config) = newsdesk_store_postgres::temp_config()
        .await
        .expect("a fresh schema")
    else {
        newsdesk_store_postgres::say_skipped("the multi-node tests on PostgreSQL");
        return None;
    };
    // The nodes start together: their migrations must not race.
    let opens = (0..n).map(|_| {
        let config = config.clone();
        tokio::spawn(async move { PgStore::from_config(config, 4).await })
    });
    let mut out = Vec::with_capacity(n);
    for o in opens {
        out.push(Arc::new(o.await.expect("join").expect("open a node")));
    }
    Some(out)
}

fn t0() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
        .single()
        .expect("valid")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_starting_together_migrate_once() {
    let Some(nodes) = nodes(4).await else { return };
    // Every node works on the one schema.
    nodes[0]
        .upsert_tag(&Slug::parse("a").expect("slug"), "a")
        .await
        .expect("write on node 0");
    for n in &nodes {
        assert_eq!(n.list_tags().await.expect("read").len(), 1);
    }
}

/// Several claimers on several nodes, all at once: every job runs exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claimers_on_several_nodes_run_each_job_once() {
    let Some(nodes) = nodes(3).await else { return };
    const JOBS: usize = 120;
    let now = t0();
    let new: Vec<NewJob> = (0..JOBS)
        .map(|i| NewJob {
            kind: "work".into(),
            payload: format!("{{\"n\":{i}}}"),
            run_at: now,
            dedupe: None,
            max_attempts: 3,
        })
        .collect();
    let ids = nodes[0].enqueue_jobs(&new, now).await.expect("enqueue");
    assert!(ids.iter().all(Option::is_some));

    // Two workers per node, each claiming a few at a time until nothing is left.
    let mut workers = Vec::new();
    for (n, node) in nodes.iter().enumerate() {
        for w in 0..2 {
            let node = node.clone();
            let name = format!("node{n}-worker{w}");
            workers.push(tokio::spawn(async move {
                let mut ran = Vec::new();
                // Bounded: at most as many rounds as there are jobs.
                for _ in 0..JOBS {
                    let got = node
                        .claim_jobs(&name, now, now + Duration::seconds(60), 3)
                        .await
                        .expect("claim");
                    if got.is_empty() {
                        break;
                    }
                    for j in got {
                        assert_eq!(j.locked_by.as_deref(), Some(name.as_str()));
                        node.finish_job(j.id, &name, &JobOutcome::Done, now)
                            .await
                            .expect("the claimer still holds its job");
                        ran.push(j.id);
                    }
                }
                ran
            }));
        }
    }
    let mut runs: HashMap<JobId, usize> = HashMap::new();
    let mut claimers_that_ran = 0;
    for w in workers {
        let ran = w.await.expect("worker");
        claimers_that_ran += usize::from(!ran.is_empty());
        for id in ran {
            *runs.entry(id).or_default() += 1;
        }
    }
    assert_eq!(runs.len(), JOBS, "every job ran");
    assert!(runs.values().all(|&n| n == 1), "no job ran twice: {runs:?}");
    assert!(claimers_that_ran >= 2, "the work was shared");
    let c = nodes[1].job_counts().await.expect("counts");
    assert_eq!((c.queued, c.running, c.done), (0, 0, JOBS as i64));
}

/// A job whose node died (its lease ran out) is taken by another node, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_nodes_job_is_taken_by_another_node_once() {
    let Some(nodes) = nodes(2).await else { return };
    let now = t0();
    nodes[0]
        .enqueue_jobs(
            &[NewJob {
                kind: "poll".into(),
                payload: "{}".into(),
                run_at: now,
                dedupe: Some("poll:1".into()),
                max_attempts: 3,
            }],
            now,
        )
        .await
        .expect("enqueue");
    let a = nodes[0]
        .claim_jobs("a", now, now + Duration::seconds(30), 5)
        .await
        .expect("claim");
    assert_eq!(a.len(), 1);
    // Before the lease ends, B gets nothing; after, B takes it and A's outcome is dropped.
    let later = now + Duration::seconds(10);
    let early = nodes[1]
        .claim_jobs("b", later, later + Duration::seconds(30), 5)
        .await
        .expect("claim");
    assert!(early.is_empty());
    let after = now + Duration::seconds(31);
    let (b1, b2) = tokio::join!(
        nodes[1].claim_jobs("b", after, after + Duration::seconds(30), 5),
        nodes[0].claim_jobs("c", after, after + Duration::seconds(30), 5),
    );
    let (b1, b2) = (b1.expect("claim"), b2.expect("claim"));
    assert_eq!(b1.len() + b2.len(), 1, "one node takes it over");
    let taken = b1.into_iter().chain(b2).next().expect("taken");
    assert_eq!(taken.attempts, 2);
    assert!(matches!(
        nodes[0]
            .finish_job(a[0].id, "a", &JobOutcome::Done, after)
            .await,
        Err(StoreError::NotFound)
    ));
}

/// Two nodes saving one story from the same version: exactly one wins, the other is told the
/// version moved (the optimistic lock holds across nodes).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stale_save_on_another_node_is_refused() {
    let Some(nodes) = nodes(2).await else { return };
    let story = newsdesk_store_postgres_test_story(&nodes[0]).await;
    for round in 0..10 {
        let version = nodes[0].get_story(story.id).await.expect("read").version;
        let mut a = story.input.clone();
        a.summary = format!("A {round}");
        let mut b = story.input.clone();
        b.summary = format!("B {round}");
        let (ra, rb) = tokio::join!(
            nodes[0].update_story(story.id, version, &a),
            nodes[1].update_story(story.id, version, &b),
        );
        let wins = usize::from(ra.is_ok()) + usize::from(rb.is_ok());
        assert_eq!(wins, 1, "round {round}: one save wins");
        let lost = if ra.is_ok() { rb } else { ra };
        assert!(matches!(
            lost,
            Err(StoreError::Conflict(Conflict::StaleVersion { expected, actual }))
                if expected == version && actual == version + 1
        ));
    }
}

/// Scheduled publishing run by every node at once publishes each story once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn scheduled_stories_are_published_once_across_nodes() {
    let Some(nodes) = nodes(3).await else { return };
    let base = newsdesk_store_postgres_test_story(&nodes[0]).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let mut s = base.input.clone();
        s.slug = Slug::parse(&format!("scheduled-{i}")).expect("slug");
        s.status = StoryStatus::Scheduled;
        s.published_at = Some(t0() - Duration::minutes(1));
        ids.push(nodes[0].insert_story(&s).await.expect("insert").id);
    }
    let runs = nodes.iter().map(|n| {
        let n = n.clone();
        tokio::spawn(async move { n.publish_due(t0()).await.expect("publish_due") })
    });
    let mut published = Vec::new();
    for r in runs {
        published.extend(r.await.expect("join"));
    }
    published.sort();
    assert_eq!(published, ids, "each due story published once, by one node");
    for id in ids {
        let s = nodes[2].get_story(id).await.expect("read");
        assert_eq!(s.input.status, StoryStatus::Published);
        assert_eq!(s.version, 2, "one publishing save");
    }
}

/// Writers on several nodes at once, and a follower reading the change log by its cursor the
/// whole time: it sees every change exactly once, with no gap in the numbers (a reader that
/// skipped a number still in flight would miss that change for good).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_change_log_has_no_gaps_for_a_follower_under_concurrent_writers() {
    let Some(nodes) = nodes(3).await else { return };
    const PER_WRITER: usize = 40;
    let writers: Vec<_> = nodes
        .iter()
        .enumerate()
        .flat_map(|(n, node)| {
            (0..2).map(move |w| {
                let node = node.clone();
                tokio::spawn(async move {
                    for i in 0..PER_WRITER {
                        let slug = Slug::parse(&format!("t-{n}-{w}-{i}")).expect("slug");
                        node.upsert_tag(&slug, "x").await.expect("write");
                    }
                })
            })
        })
        .collect();
    let total = writers.len() * PER_WRITER;
    let follower = nodes[0].clone();
    let writers_done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let done = writers_done.clone();
    let follow = tokio::spawn(async move {
        let mut cursor = 0;
        let mut seen = Vec::new();
        // Bounded: stops once it has seen every change, or after many rounds.
        for _ in 0..100_000 {
            let finished_before = done.load(std::sync::atomic::Ordering::SeqCst);
            let batch = follower.changes_since(cursor, 7).await.expect("follow");
            for c in &batch {
                seen.push(c.seq);
                cursor = c.seq;
            }
            // Once every writer has committed, an empty read means the follower is at the end.
            if seen.len() >= total || (finished_before && batch.is_empty()) {
                break;
            }
            tokio::task::yield_now().await;
        }
        seen
    });
    for w in writers {
        w.await.expect("writer");
    }
    writers_done.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = follow.await.expect("follower");
    assert_eq!(seen.len(), total, "the follower saw every change");
    let expected: Vec<i64> = (1..=total as i64).collect();
    assert_eq!(seen, expected, "in order, each once, no gap");
    assert_eq!(
        nodes[1].last_change_seq().await.expect("last"),
        total as i64
    );
}

/// The same agency item pushed to two nodes at once is stored once: one node sees it new, the
/// other a duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_agency_item_pushed_to_two_nodes_is_stored_once() {
    let Some(nodes) = nodes(2).await else { return };
    let item = WireItem {
        agency: "Agency A".into(),
        agency_id: "item-1".into(),
        version: 1,
        headline: "Floods close the coast road".into(),
        summary: String::new(),
        body_html: "<p>Text.</p>".into(),
        byline: String::new(),
        urgency: Some(3),
        language: Some("en".into()),
        published_at: Some(t0()),
        updated_at: None,
        subjects: vec![],
        places: vec![],
        usage_terms: None,
        links: vec![],
        status: WireStatus::Usable,
        embargo: None,
    };
    let tags = WireTags::default();
    let (a, b) = tokio::join!(
        nodes[0].store_wire_item(&item, "h1", ClusterId(7), &tags, t0()),
        nodes[1].store_wire_item(&item, "h1", ClusterId(7), &tags, t0()),
    );
    let (a, b) = (a.expect("node A"), b.expect("node B"));
    assert_eq!(a.0, b.0, "one row");
    let mut outcomes = [a.1, b.1];
    outcomes.sort_by_key(|o| format!("{o:?}"));
    assert_eq!(outcomes, [WireOutcome::Duplicate, WireOutcome::New]);
    let (cluster, items) = nodes[0].get_cluster(ClusterId(7)).await.expect("cluster");
    assert_eq!((cluster.items, items.len()), (1, 1));
}

/// Two nodes adding different items to one cluster at the same time: every item counts, and
/// neither node is turned away (each insert's foreign-key share lock on the cluster must not
/// deadlock with the other node's lock for recounting it).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_adding_to_one_cluster_count_every_item() {
    let Some(nodes) = nodes(2).await else { return };
    const PER_NODE: usize = 25;
    let runs = nodes.iter().enumerate().map(|(n, node)| {
        let node = node.clone();
        tokio::spawn(async move {
            // In batches: each transaction adds several items to the cluster, one by one.
            for b in 0..PER_NODE / 5 {
                let batch: Vec<_> = (0..5)
                    .map(|i| {
                        let item = wire_item(&format!("n{n}-{b}-{i}"));
                        (item, "h".to_owned(), ClusterId(9), WireTags::default())
                    })
                    .collect();
                node.store_wire_items(&batch, t0())
                    .await
                    .expect("stored without a deadlock");
            }
        })
    });
    for r in runs {
        r.await.expect("node");
    }
    let (cluster, items) = nodes[0].get_cluster(ClusterId(9)).await.expect("cluster");
    assert_eq!(cluster.items, 2 * PER_NODE as i64);
    assert_eq!(items.len(), 2 * PER_NODE);
}

fn wire_item(id: &str) -> WireItem {
    WireItem {
        agency: "Agency A".into(),
        agency_id: id.into(),
        version: 1,
        headline: "Floods close the coast road".into(),
        summary: String::new(),
        body_html: "<p>Text.</p>".into(),
        byline: String::new(),
        urgency: Some(3),
        language: Some("en".into()),
        published_at: Some(t0()),
        updated_at: None,
        subjects: vec![],
        places: vec![],
        usage_terms: None,
        links: vec![],
        status: WireStatus::Usable,
        embargo: None,
    }
}

/// A story to work on, with its taxonomy.
async fn newsdesk_store_postgres_test_story(s: &PgStore) -> Story {
    let sector = s
        .upsert_sector(&Slug::parse("world").expect("slug"), "World", 1)
        .await
        .expect("sector");
    let edition = s
        .upsert_edition(
            &Slug::parse("global").expect("slug"),
            "Global",
            chrono_tz::UTC,
            0,
        )
        .await
        .expect("edition");
    s.insert_story(&StoryInput {
        slug: Slug::parse("a-story").expect("slug"),
        kind: Kind::News,
        status: StoryStatus::Draft,
        headline: Headline::parse("A story").expect("headline"),
        summary: String::new(),
        body_md: "Body.".into(),
        body_html: "<p>Body.</p>".into(),
        sector_id: sector.id,
        region: String::new(),
        primary_edition_id: edition.id,
        placements: vec![Placement {
            edition_id: edition.id,
            rank: None,
        }],
        desk_id: None,
        author_ids: vec![],
        tag_ids: vec![],
        hero_image_id: None,
        video: None,
        provenance: Provenance::Staff,
        source: None,
        created_at: t0(),
        updated_at: t0(),
        published_at: None,
        embargo_until: None,
    })
    .await
    .expect("story")
}

/// Runs `f(node, i)` on every node at once, `rounds` times each, and returns every result.
async fn all_at_once<T, F, Fut>(nodes: &[Arc<PgStore>], rounds: usize, f: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(Arc<PgStore>, usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let tasks: Vec<_> = (0..rounds)
        .flat_map(|r| nodes.iter().enumerate().map(move |(i, n)| (r, i, n)))
        .map(|(r, i, n)| tokio::spawn(f(n.clone(), r * 100 + i)))
        .collect();
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(t.await.expect("join"));
    }
    out
}

/// The newsletter and webhook writes that SQLite makes under its single writer (look, then
/// insert) are decided on PostgreSQL by unique indexes: nodes asking at once for one address,
/// one digest key or one (hook, event key) make one row, and none of them gets an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_at_once_make_one_subscriber_one_digest_and_one_delivery() {
    let Some(nodes) = nodes(4).await else { return };
    let email = EmailAddress::parse("reader@example.org").expect("address");
    let prefs = Preferences {
        editions: vec![EditionId(1)],
        sectors: vec![],
        frequency: Frequency::Daily,
        breaking: true,
    };
    let subs = all_at_once(&nodes, 3, |n, i| {
        let req = SubscriptionRequest {
            email: email.clone(),
            prefs: prefs.clone(),
            nonce: format!("nonce-{i}"),
            consent_text: "yes".into(),
            consent_source: "form".into(),
        };
        async move { n.request_subscription(&req, t0()).await }
    })
    .await;
    let ids: Vec<SubscriberId> = subs
        .into_iter()
        .map(|s| s.expect("every request succeeds").id)
        .collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "one subscriber: {ids:?}"
    );
    assert_eq!(
        nodes[0].subscriber_counts().await.expect("counts").pending,
        1
    );
    nodes[0]
        .confirm_subscriber(ids[0], t0())
        .await
        .expect("confirm");

    let digests = all_at_once(&nodes, 3, |n, _| async move {
        let d = DigestInput {
            key: "daily-1-2026-01-02".into(),
            kind: "daily".into(),
            edition: EditionId(1),
            subject: "Today".into(),
            stories: vec![StoryId(1)],
            audience: DigestAudience::Digest(EditionId(1), Frequency::Daily),
            editions: vec![],
        };
        n.create_digest(&d, t0()).await
    })
    .await;
    let digests: Vec<(DigestId, bool)> = digests
        .into_iter()
        .map(|d| d.expect("every create succeeds"))
        .collect();
    assert_eq!(digests.iter().filter(|d| d.1).count(), 1, "made once");
    assert!(digests.iter().all(|d| d.0 == digests[0].0));
    let d = nodes[1].get_digest(digests[0].0).await.expect("digest");
    assert_eq!((d.total, d.pending), (1, 1), "one send row");

    let audit = AuditInput {
        at: t0(),
        user_id: None,
        action: "webhook.create".into(),
        target: String::new(),
        detail: String::new(),
    };
    let hook = nodes[0]
        .create_webhook(
            "http://127.0.0.1:9/hook",
            &[WebhookEvent::StoryPublished],
            "secret",
            t0(),
            &audit,
        )
        .await
        .expect("hook");
    let made = all_at_once(&nodes, 3, |n, _| async move {
        let job = NewJob {
            kind: "webhook".into(),
            payload: "{}".into(),
            run_at: t0(),
            dedupe: None,
            max_attempts: 3,
        };
        n.queue_webhook_event(
            "story.published:1:1",
            "story.published",
            "{}",
            &[hook.id],
            &[job],
            t0(),
            50,
        )
        .await
    })
    .await;
    let made: usize = made
        .into_iter()
        .map(|m| m.expect("every queue succeeds"))
        .sum();
    assert_eq!(made, 1, "one delivery");
    assert_eq!(
        nodes[2].job_counts().await.expect("jobs").queued,
        1,
        "one job"
    );
    assert_eq!(
        nodes[3]
            .list_webhook_deliveries(hook.id, 10)
            .await
            .expect("deliveries")
            .len(),
        1
    );

    let suppressed = all_at_once(&nodes, 3, |n, _| async move {
        let email = EmailAddress::parse("bounced@example.org").expect("address");
        n.suppress_address(&email, "hard bounce", t0()).await
    })
    .await;
    let changed = suppressed
        .into_iter()
        .filter(|s| *s.as_ref().expect("every suppression succeeds"))
        .count();
    assert_eq!(changed, 1, "suppressed once");
}
