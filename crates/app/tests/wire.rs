//! The wire desk's use cases over a real store: ingest, clusters, lineage, computed provenance,
//! flags on withdrawal.
#![allow(clippy::unwrap_used)]

use chrono::{TimeZone, Utc};
use newsdesk_app::{App, SiteConfig};
use newsdesk_domain::*;
use newsdesk_store::Store;
use std::sync::Arc;

fn t0() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap()
}

fn item(agency: &str, id: &str, headline: &str, body: &str) -> WireItem {
    WireItem {
        agency: agency.into(),
        agency_id: id.into(),
        version: 1,
        headline: headline.into(),
        summary: String::new(),
        body_html: format!("<p>{body}</p>"),
        byline: String::new(),
        urgency: Some(3),
        language: Some("en".into()),
        published_at: Some(t0()),
        updated_at: None,
        subjects: vec![WireSubject {
            code: "medtop:07000000".into(),
            name: Some("health".into()),
        }],
        places: vec![],
        usage_terms: None,
        links: vec![format!(
            "https://{}.example/{id}",
            agency.to_lowercase().replace(' ', "-")
        )],
        status: WireStatus::Usable,
        embargo: None,
    }
}

const FLOOD_A: &str = "Heavy rain flooded the Kenyan port city of Mombasa on Thursday, killing at least 12 people and cutting the main road to Nairobi. The Kenya Red Cross said thousands of families had left their homes in the coastal county. Officials said the rain would continue until Saturday.";
const FLOOD_B: &str = "At least 12 people died when heavy rain flooded Mombasa, Kenya's port city, on Thursday. The main road to Nairobi was cut and the Kenya Red Cross said thousands of families had left their homes. Forecasters expect rain until Saturday.";
const BUDGET: &str = "Chile's senate passed the 2027 budget on Thursday after a late deal on pensions, with more money for schools and clinics in the north.";

#[tokio::test]
async fn agency_copy_becomes_a_story_with_lineage_and_computed_provenance() {
    let store = newsdesk_store_sqlite::temp_store().unwrap();
    let media = store.path().parent().unwrap().join("media");
    newsdesk_demo::seed(
        &*store,
        &newsdesk_demo::DemoOptions {
            stories: 5,
            now: t0(),
            seed: 2,
            media_dir: media,
        },
    )
    .await
    .unwrap();
    let store: Arc<dyn Store> = store;
    let clock = Arc::new(ManualClock::new(t0()));
    let app = App::load(store.clone(), clock.clone(), SiteConfig::default())
        .await
        .unwrap();
    let editor = app
        .add_user(
            "ed@example.org",
            "Ed",
            Role::Editor,
            "a long enough password",
        )
        .await
        .unwrap();
    let items = vec![
        item("Agency A", "a-1", "Floods kill 12 in Mombasa", FLOOD_A),
        item(
            "Agency B",
            "b-7",
            "Kenya: Mombasa floods leave 12 dead",
            FLOOD_B,
        ),
        item("Agency A", "a-2", "Chile passes 2027 budget", BUDGET),
    ];
    let report = app.ingest(items.clone()).await.unwrap();
    assert_eq!((report.new, report.duplicates), (3, 0));
    let again = app.ingest(items[..1].to_vec()).await.unwrap();
    assert_eq!(again.duplicates, 1, "an exact re-send makes no second item");
    let inbox = app
        .wire_inbox(
            &editor,
            &WireQuery {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(inbox.len(), 2, "two events: {inbox:?}");
    let flood = inbox
        .iter()
        .find(|c| c.items == 2)
        .expect("the two flood reports form one cluster");
    assert_eq!(flood.agencies, ["Agency A", "Agency B"]);
    assert!(
        flood.editions.contains(&"east-africa".to_owned()),
        "{:?}",
        flood.editions
    );
    assert_eq!(flood.sector.as_deref(), Some("health"));
    assert!(flood.summary.is_empty(), "the summary is a job's work");
    let round = app.run_jobs_until_idle().await.unwrap();
    assert_eq!((round.claimed, round.done), (2, 2), "one job per cluster");
    let flood = app
        .wire_inbox(
            &editor,
            &WireQuery {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.id == flood.id)
        .unwrap();
    assert!(
        !flood.summary.is_empty() && !flood.summary_accepted,
        "a draft summary"
    );
    // The tags are suggestions: the desk corrects them, and the story starts from the correction.
    let eds = vec!["east-africa".to_owned(), "southern-africa".to_owned()];
    app.retag_cluster(&editor, flood.id, Some("economy-business"), &eds)
        .await
        .unwrap();
    let bad = app
        .retag_cluster(&editor, flood.id, Some("no-such-sector"), &eds)
        .await;
    assert!(
        matches!(bad, Err(newsdesk_app::AppError::Invalid(_))),
        "{bad:?}"
    );
    let bad = app
        .retag_cluster(&editor, flood.id, None, &["atlantis".to_owned()])
        .await;
    assert!(
        matches!(bad, Err(newsdesk_app::AppError::Invalid(_))),
        "{bad:?}"
    );
    let contributor = app
        .add_user(
            "c@example.org",
            "Cee",
            Role::Contributor,
            "a long enough password",
        )
        .await
        .unwrap();
    assert!(matches!(
        app.retag_cluster(&contributor, flood.id, None, &[]).await,
        Err(newsdesk_app::AppError::Forbidden)
    ));
    let story = app.story_from_cluster(&editor, flood.id).await.unwrap();
    {
        let snap = app.read();
        let sector = snap.tax.sector_by_slug("economy-business").unwrap().id;
        assert_eq!(
            story.sector_id, sector,
            "the desk's sector, not the tagger's"
        );
        let southern = snap.tax.edition_by_slug("southern-africa").unwrap().id;
        assert!(story.placements.iter().any(|p| p.edition_id == southern));
    }
    assert_eq!(store.lineage(story.id).await.unwrap().len(), 2);
    assert_eq!(story.status, StoryStatus::Draft);
    // Published unedited: the auto-generated line.
    let s = app
        .transition(&editor, story.id, story.version, Transition::Submit, None)
        .await
        .unwrap();
    let s = app
        .transition(&editor, s.id, s.version, Transition::Publish, None)
        .await
        .unwrap();
    assert_eq!(
        s.provenance,
        Provenance::AutoGenerated,
        "copy that went out as received"
    );
    assert_eq!(app.based_on(s.id).await.unwrap().len(), 2);
    // A desk rewrite of another cluster: "with inputs from agencies".
    let chile = inbox.iter().find(|c| c.items == 1).unwrap();
    let draft = app.story_from_cluster(&editor, chile.id).await.unwrap();
    let form = newsdesk_app::StoryForm {
        headline: "Chile's budget: what the pensions deal means for the north".into(),
        summary: "Our reading of the deal.".into(),
        body_md: "The senate's vote ends months of talks. Northern regions gain the most, and teachers' unions welcomed the school money while doctors asked when clinics would see it.".into(),
        kind: "analysis".into(),
        sector: "economy-business".into(),
        editions: vec![("global".into(), String::new())],
        ..Default::default()
    };
    let draft = app
        .save_story(&editor, draft.id, draft.version, &form)
        .await
        .unwrap();
    let d = app
        .transition(&editor, draft.id, draft.version, Transition::Submit, None)
        .await
        .unwrap();
    let d = app
        .transition(&editor, d.id, d.version, Transition::Publish, None)
        .await
        .unwrap();
    assert_eq!(d.provenance, Provenance::AgencyInputs);
    // The agency withdraws one flood item: the story built on it is flagged.
    let mut withdrawn = items[1].clone();
    withdrawn.version = 2;
    withdrawn.status = WireStatus::Withdrawn;
    let r = app.ingest(vec![withdrawn]).await.unwrap();
    assert_eq!(r.withdrawn, 1);
    assert_eq!(r.flagged, vec![s.id]);
    let flags = app.lineage_flags(&editor).await.unwrap();
    assert_eq!(flags.len(), 1);
    assert!(flags[0].reason.contains("withdrawn"));
    app.resolve_flags(&editor, s.id).await.unwrap();
    assert!(app.lineage_flags(&editor).await.unwrap().is_empty());
    // A restart rebuilds the clusterer: a late report of the same event joins the cluster.
    let restarted = App::load(store.clone(), clock.clone(), SiteConfig::default())
        .await
        .unwrap();
    restarted
        .ingest(vec![item(
            "Agency C",
            "c-1",
            "Mombasa floods: 12 dead, road to Nairobi cut",
            FLOOD_A,
        )])
        .await
        .unwrap();
    let (cl, its) = restarted.wire_cluster(&editor, flood.id).await.unwrap();
    assert_eq!(its.len(), 3, "{cl:?}");
}

#[tokio::test]
async fn auto_publish_rules_publish_matching_items_unedited() {
    let store = newsdesk_store_sqlite::temp_store().unwrap();
    let media = store.path().parent().unwrap().join("media");
    newsdesk_demo::seed(
        &*store,
        &newsdesk_demo::DemoOptions {
            stories: 5,
            now: t0(),
            seed: 2,
            media_dir: media,
        },
    )
    .await
    .unwrap();
    let store: Arc<dyn Store> = store;
    let app = App::load(
        store.clone(),
        Arc::new(ManualClock::new(t0())),
        SiteConfig::default(),
    )
    .await
    .unwrap();
    let admin = app
        .add_user(
            "admin@example.org",
            "A",
            Role::Admin,
            "a long enough password",
        )
        .await
        .unwrap();
    let editor = app
        .add_user(
            "ed@example.org",
            "E",
            Role::Editor,
            "a long enough password",
        )
        .await
        .unwrap();
    let (src, token) = app
        .add_source(&admin, "Agency A", "", 15, false)
        .await
        .unwrap();
    let rule = AutoPublish {
        sectors: vec![],
        max_urgency: Some(2),
        editions: vec!["east-africa".into()],
    };
    assert!(
        app.set_auto_publish(&editor, src.id, Some(rule.clone()))
            .await
            .is_err(),
        "admins set rules"
    );
    // Off by default: nothing is published.
    let doc = |id: &str, urgency: u8, headline: &str| {
        format!(
            r#"{{"uri":"{id}","version":"1","headline":"{headline}","body_text":"{FLOOD_A}","pubstatus":"usable","urgency":{urgency}}}"#
        )
    };
    app.push(
        src.id,
        &token,
        doc("u-0", 1, "Quiet first item").as_bytes(),
        Some("application/json"),
    )
    .await
    .unwrap();
    assert!(app
        .read()
        .all_public(app.now())
        .all(|c| c.headline.as_str() != "Quiet first item"));
    app.set_auto_publish(&admin, src.id, Some(rule))
        .await
        .unwrap();
    app.push(
        src.id,
        &token,
        doc("u-1", 1, "Flash: floods in Mombasa").as_bytes(),
        Some("application/json"),
    )
    .await
    .unwrap();
    app.push(
        src.id,
        &token,
        doc("u-2", 4, "Routine: floods follow-up").as_bytes(),
        Some("application/json"),
    )
    .await
    .unwrap();
    // Auto-publishing is the job queued with each admitted item.
    let round = app.run_jobs_until_idle().await.unwrap();
    assert_eq!(round.dead, 0, "{round:?}");
    let public: Vec<_> = app.read().all_public(app.now()).collect();
    let flash = public
        .iter()
        .find(|c| c.headline.as_str() == "Flash: floods in Mombasa")
        .expect("the urgent item went out");
    assert_eq!(flash.provenance, Provenance::AutoGenerated);
    let east = app.read().tax.edition_by_slug("east-africa").unwrap().id;
    assert!(flash.in_edition(east));
    assert_eq!(store.lineage(flash.id).await.unwrap().len(), 1);
    assert!(
        public
            .iter()
            .all(|c| c.headline.as_str() != "Routine: floods follow-up"),
        "a less urgent item waits for the desk"
    );
}

/// The demo's agency copy forms one cluster per event, each with all its reports, tagged with
/// the edition of the event's country.
#[tokio::test]
async fn demo_agency_copy_clusters_by_event() {
    let store = newsdesk_store_sqlite::temp_store().unwrap();
    let media = store.path().parent().unwrap().join("media");
    newsdesk_demo::seed(
        &*store,
        &newsdesk_demo::DemoOptions {
            stories: 3,
            now: t0(),
            seed: 5,
            media_dir: media,
        },
    )
    .await
    .unwrap();
    let store: Arc<dyn Store> = store;
    let app = App::load(
        store.clone(),
        Arc::new(ManualClock::new(t0())),
        SiteConfig::default(),
    )
    .await
    .unwrap();
    let items = newsdesk_demo::wire_items(t0());
    let report = app.ingest(items.clone()).await.unwrap();
    assert_eq!(report.new, items.len());
    let clusters = store
        .list_clusters(&WireQuery {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut got: Vec<(String, usize, Vec<String>)> = clusters
        .iter()
        .map(|c| (c.headline.clone(), c.items as usize, c.editions.clone()))
        .collect();
    got.sort();
    assert_eq!(
        clusters.len(),
        newsdesk_demo::DEMO_WIRE_EVENTS,
        "one cluster per event: {got:#?}"
    );
    let reports: usize = clusters.iter().map(|c| c.items as usize).sum();
    assert_eq!(reports, items.len());
    assert!(clusters.iter().all(|c| c.items >= 2), "{got:#?}");
    let sylhet = clusters
        .iter()
        .find(|c| c.headline.contains("Sylhet"))
        .unwrap();
    assert_eq!(sylhet.editions, ["south-asia"]);
    app.run_jobs_until_idle().await.unwrap();
    let clusters = store
        .list_clusters(&WireQuery {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(clusters.iter().all(|c| !c.summary.is_empty()));
}

/// Agency embargoes reach the stories made from the copy: by hand (the latest of the cluster's,
/// and publishing before it is refused), by auto-publish (published, hidden until the time; an
/// unreadable embargo is held for the desk), and when the agency moves an embargo later.
#[tokio::test]
async fn agency_embargoes_are_carried_into_stories_and_never_broken() {
    let store = newsdesk_store_sqlite::temp_store().unwrap();
    let media = store.path().parent().unwrap().join("media");
    newsdesk_demo::seed(
        &*store,
        &newsdesk_demo::DemoOptions {
            stories: 5,
            now: t0(),
            seed: 2,
            media_dir: media,
        },
    )
    .await
    .unwrap();
    let store: Arc<dyn Store> = store;
    let clock = Arc::new(ManualClock::new(t0()));
    let app = App::load(store.clone(), clock.clone(), SiteConfig::default())
        .await
        .unwrap();
    let admin = app
        .add_user("a@example.org", "A", Role::Admin, "a long enough password")
        .await
        .unwrap();
    let editor = app
        .add_user("e@example.org", "E", Role::Editor, "a long enough password")
        .await
        .unwrap();
    let noon = t0() + chrono::Duration::hours(3);
    let later = noon + chrono::Duration::minutes(30);
    let mut a = item("Agency A", "a-1", "Floods kill 12 in Mombasa", FLOOD_A);
    a.embargo = Some(noon);
    let mut b = item(
        "Agency B",
        "b-7",
        "Kenya: Mombasa floods leave 12 dead",
        FLOOD_B,
    );
    b.embargo = Some(later);
    let mut c = item("Agency A", "a-2", "Chile passes 2027 budget", BUDGET);
    c.embargo = Some(embargo_unknown());
    app.ingest(vec![a, b, c]).await.unwrap();
    let inbox = app
        .wire_inbox(
            &editor,
            &WireQuery {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let flood = inbox.iter().find(|c| c.items == 2).unwrap();
    assert_eq!(flood.embargo, Some(later), "the latest of its items'");
    let chile = inbox.iter().find(|c| c.items == 1).unwrap();
    assert_eq!(chile.embargo, Some(embargo_unknown()));

    // By hand: the story carries the latest embargo.
    let story = app.story_from_cluster(&editor, flood.id).await.unwrap();
    assert_eq!(story.embargo_until, Some(later));
    let held = app.story_from_cluster(&editor, chile.id).await.unwrap();
    assert_eq!(
        held.embargo_until,
        Some(embargo_unknown()),
        "until further notice"
    );
    // An editor who clears or shortens the embargo cannot publish before the agency's time.
    let form = |embargo: &str| newsdesk_app::StoryForm {
        headline: story.headline.as_str().into(),
        summary: story.summary.clone(),
        body_md: story.body_md.clone(),
        kind: "news".into(),
        sector: "health".into(),
        editions: vec![("global".into(), String::new())],
        embargo_until: embargo.into(),
        ..Default::default()
    };
    let s = app
        .save_story(&editor, story.id, story.version, &form(""))
        .await
        .unwrap();
    let s = app
        .transition(&editor, s.id, s.version, Transition::Submit, None)
        .await
        .unwrap();
    let refused = app
        .transition(&editor, s.id, s.version, Transition::Publish, None)
        .await;
    match refused {
        Err(newsdesk_app::AppError::Invalid(f)) => {
            assert!(
                f[0].message.contains("embargoed until 2026-11-20 12:30"),
                "{f:?}"
            )
        }
        other => panic!("published before the agency's embargo: {other:?}"),
    }
    let refused = app
        .transition(&editor, s.id, s.version, Transition::Schedule, Some(noon))
        .await;
    assert!(
        matches!(refused, Err(newsdesk_app::AppError::Invalid(_))),
        "{refused:?}"
    );
    let s = app
        .save_story(&editor, s.id, s.version, &form("2026-11-20T12:15"))
        .await
        .unwrap();
    assert!(app
        .transition(&editor, s.id, s.version, Transition::Publish, None)
        .await
        .is_err());
    let s = app
        .save_story(&editor, s.id, s.version, &form("2026-11-20T12:30"))
        .await
        .unwrap();
    let s = app
        .transition(&editor, s.id, s.version, Transition::Publish, None)
        .await
        .unwrap();
    assert!(!s.is_public_at(later - chrono::Duration::seconds(1)) && s.is_public_at(later));
    // Published, it cannot be edited out of its embargo either.
    assert!(app
        .save_story(&editor, s.id, s.version, &form(""))
        .await
        .is_err());
    let by_hand = s;

    // Auto-publish: embargoed copy goes out hidden until its time; unreadable is held.
    let (src, token) = app
        .add_source(&admin, "Agency E", "", 15, false)
        .await
        .unwrap();
    app.set_auto_publish(
        &admin,
        src.id,
        Some(AutoPublish {
            sectors: vec![],
            max_urgency: None,
            editions: vec![],
        }),
    )
    .await
    .unwrap();
    let doc = |id: &str, v: u32, headline: &str, embargo: &str| {
        format!(
            r#"{{"uri":"{id}","version":"{v}","headline":"{headline}","body_text":"{BUDGET}","pubstatus":"usable","embargoed":"{embargo}"}}"#
        )
    };
    let pushed = app
        .push(
            src.id,
            &token,
            doc("e-1", 1, "Unreadable embargo", "Next Monday").as_bytes(),
            Some("application/json"),
        )
        .await
        .unwrap();
    assert_eq!(pushed.new, 1);
    app.run_jobs_until_idle().await.unwrap();
    let cards = store.list_published_cards().await.unwrap();
    assert!(
        cards
            .iter()
            .all(|c| c.headline.as_str() != "Unreadable embargo"),
        "held for the desk"
    );
    app.push(
        src.id,
        &token,
        doc("e-2", 1, "Embargoed budget", "2026-11-20T12:00:00Z").as_bytes(),
        Some("application/json"),
    )
    .await
    .unwrap();
    app.run_jobs_until_idle().await.unwrap();
    let auto = store
        .list_published_cards()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.headline.as_str() == "Embargoed budget")
        .unwrap();
    assert_eq!(auto.embargo_until, Some(noon));
    assert!(app.read().all_public(app.now()).all(|c| c.id != auto.id));
    // The agency moves the embargo an hour later in version 2: the story waits for it.
    app.push(
        src.id,
        &token,
        doc("e-2", 2, "Embargoed budget", "2026-11-20T13:00:00Z").as_bytes(),
        Some("application/json"),
    )
    .await
    .unwrap();
    let moved = store.get_story(auto.id).await.unwrap();
    assert_eq!(moved.embargo_until, Some(noon + chrono::Duration::hours(1)));
    clock.set(noon);
    app.sync().await.unwrap();
    assert!(app.read().all_public(app.now()).all(|c| c.id != auto.id));
    clock.set(noon + chrono::Duration::hours(1));
    app.sync().await.unwrap();
    assert!(app.read().all_public(app.now()).any(|c| c.id == auto.id));
    // Once the embargo has passed, an editor tidying the field is no harm.
    let tidied = app
        .save_story(&editor, by_hand.id, by_hand.version, &form(""))
        .await
        .unwrap();
    assert_eq!(tidied.embargo_until, None);
}

/// Stories with this headline among the published ones.
async fn published_with(store: &dyn Store, headline: &str) -> usize {
    store
        .list_published_cards()
        .await
        .unwrap()
        .iter()
        .filter(|c| c.headline.as_str() == headline)
        .count()
}

/// Auto-publishing is a job queued in the transaction that stores the item: it survives a
/// process that dies before running it (or while running it), a failing publication retries
/// with back-off, and however often the job runs the item is published once.
#[tokio::test]
async fn auto_publish_jobs_survive_a_crash_retry_and_publish_once() {
    let store = newsdesk_store_sqlite::temp_store().unwrap();
    let media = store.path().parent().unwrap().join("media");
    newsdesk_demo::seed(
        &*store,
        &newsdesk_demo::DemoOptions {
            stories: 5,
            now: t0(),
            seed: 2,
            media_dir: media,
        },
    )
    .await
    .unwrap();
    let store: Arc<dyn Store> = store;
    let clock = Arc::new(ManualClock::new(t0()));
    let app = App::load(store.clone(), clock.clone(), SiteConfig::default())
        .await
        .unwrap();
    let admin = app
        .add_user("a@example.org", "A", Role::Admin, "a long enough password")
        .await
        .unwrap();
    let (src, token) = app
        .add_source(&admin, "Agency Q", "", 15, false)
        .await
        .unwrap();
    app.set_auto_publish(
        &admin,
        src.id,
        Some(AutoPublish {
            sectors: vec![],
            max_urgency: None,
            editions: vec![],
        }),
    )
    .await
    .unwrap();
    let doc = |id: &str, headline: &str| {
        format!(
            r#"{{"uri":"{id}","version":"1","headline":"{headline}","body_text":"{BUDGET}","pubstatus":"usable"}}"#
        )
    };

    // The push stores the item and its job; the process "dies" before the job runs.
    let pushed = app
        .push(
            src.id,
            &token,
            doc("q-1", "Budget passes first vote").as_bytes(),
            Some("application/json"),
        )
        .await
        .unwrap();
    assert_eq!(pushed.new, 1);
    let queued = store.list_jobs(Some(JobState::Queued), 10).await.unwrap();
    assert_eq!(
        queued.iter().filter(|j| j.kind == "auto_publish").count(),
        1,
        "{queued:?}"
    );
    assert_eq!(published_with(&*store, "Budget passes first vote").await, 0);
    drop(app);
    let app = App::load(store.clone(), clock.clone(), SiteConfig::default())
        .await
        .unwrap();
    let round = app.run_jobs_until_idle().await.unwrap();
    assert_eq!(round.dead + round.retried, 0, "{round:?}");
    assert_eq!(published_with(&*store, "Budget passes first vote").await, 1);

    // The same job again (a retry, or a worker that died after publishing): nothing more.
    let done = store.list_jobs(Some(JobState::Done), 100).await.unwrap();
    let job = done.iter().find(|j| j.kind == "auto_publish").unwrap();
    let again = NewJob {
        kind: job.kind.clone(),
        payload: job.payload.clone(),
        run_at: app.now(),
        dedupe: job.dedupe.clone(),
        max_attempts: job.max_attempts,
    };
    store
        .enqueue_jobs(std::slice::from_ref(&again), app.now())
        .await
        .unwrap();
    let round = app.run_jobs_until_idle().await.unwrap();
    assert_eq!((round.claimed, round.done), (1, 1));
    // A worker claims it and dies; after its lease another runs it.
    store.enqueue_jobs(&[again], app.now()).await.unwrap();
    let claimed = store
        .claim_jobs(
            "a worker that dies",
            app.now(),
            app.now() + chrono::Duration::seconds(60),
            10,
        )
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    clock.advance(chrono::Duration::minutes(2));
    let round = app.run_jobs_until_idle().await.unwrap();
    assert_eq!((round.claimed, round.done), (1, 1));
    assert_eq!(published_with(&*store, "Budget passes first vote").await, 1);

    // No active admin to own the story: the job fails, backs off, and publishes once an admin
    // is back.
    let audit = AuditInput {
        at: app.now(),
        user_id: None,
        action: "test".into(),
        target: String::new(),
        detail: String::new(),
    };
    store
        .update_user(admin.id, Role::Admin, true, &audit)
        .await
        .unwrap();
    app.push(
        src.id,
        &token,
        doc("q-2", "Budget passes second vote").as_bytes(),
        Some("application/json"),
    )
    .await
    .unwrap();
    let round = app.run_jobs_until_idle().await.unwrap();
    assert_eq!((round.retried, round.dead), (1, 0), "{round:?}");
    let waiting = store.list_jobs(Some(JobState::Queued), 10).await.unwrap();
    let waiting = waiting.iter().find(|j| j.kind == "auto_publish").unwrap();
    assert!(waiting.run_at > app.now(), "backed off: {waiting:?}");
    assert!(waiting.last_error.as_deref().unwrap().contains("admin"));
    assert_eq!(app.run_jobs_until_idle().await.unwrap().claimed, 0);
    assert_eq!(
        published_with(&*store, "Budget passes second vote").await,
        0
    );
    store
        .update_user(admin.id, Role::Admin, false, &audit)
        .await
        .unwrap();
    clock.advance(chrono::Duration::minutes(1));
    let round = app.run_jobs_until_idle().await.unwrap();
    assert_eq!((round.claimed, round.done), (1, 1), "{round:?}");
    assert_eq!(
        published_with(&*store, "Budget passes second vote").await,
        1
    );
    assert_eq!(published_with(&*store, "Budget passes first vote").await, 1);
}

/// An exact re-send filed again under a new id a day later joins its original's cluster, even
/// when the common-word filter switched on in between (the original came in among the first
/// 1,000 items) and most of its words have become common: the exact-text key decides, not the
/// MinHash signature.
#[tokio::test]
async fn exact_resend_under_a_new_id_a_day_later_joins_its_original() {
    let store = newsdesk_store_sqlite::temp_store().unwrap();
    let store: Arc<dyn Store> = store;
    let clock = Arc::new(ManualClock::new(t0()));
    let app = App::load(store.clone(), clock.clone(), SiteConfig::default())
        .await
        .unwrap();
    // 40 content words: 8 only this story has, 32 that the stream below makes common.
    let rare: Vec<String> = (0..8).map(|i| format!("rarename{i}q")).collect();
    let common: Vec<String> = (0..32).map(|i| format!("streamword{i}q")).collect();
    let body = format!("{} {}.", rare.join(" "), common.join(" "));
    let mut original = item("Agency A", "a-1", "Storyheadline", &body);
    original.subjects.clear();
    app.ingest(vec![original.clone()]).await.unwrap();
    let mut stream = Vec::new();
    for n in 0..1_100usize {
        let words: Vec<String> = (0..8)
            .map(|k| common[(n * 7 + k * 5) % 32].clone())
            .chain((0..25).map(|k| format!("own{n}x{k}q")))
            .collect();
        let mut it = item("Agency C", &format!("c-{n}"), "Other", &words.join(" "));
        it.subjects.clear();
        it.published_at = Some(t0() + chrono::Duration::minutes(n as i64));
        stream.push(it);
    }
    app.ingest(stream).await.unwrap();
    let later = t0() + chrono::Duration::hours(28);
    clock.set(later);
    let mut resend = original.clone();
    resend.agency_id = "a-1-again".into();
    resend.published_at = Some(later);
    let r = app.ingest(vec![resend]).await.unwrap();
    assert_eq!(r.new, 1);
    let found = store
        .find_wire_items(&[
            ("Agency A".into(), "a-1".into()),
            ("Agency A".into(), "a-1-again".into()),
        ])
        .await
        .unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(
        found[0].cluster_id, found[1].cluster_id,
        "the re-send joins its original"
    );
}
