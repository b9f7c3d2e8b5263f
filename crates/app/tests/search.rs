//! The search use case over a real SQLite store, a real index folder and a manual clock: what a
//! reader may find (published yes; draft, unpublished, killed, embargoed no — also in the second
//! before an embargo ends), following the change log, rebuilding aside, and bad queries.
#![allow(clippy::unwrap_used)]

use chrono::{Duration, TimeZone, Utc};
use newsdesk_app::search::{SearchNotice, SearchRequest, SearchSettings, SearchSort};
use newsdesk_app::{App, SiteConfig};
use newsdesk_domain::*;
use newsdesk_store::Store;
use std::sync::Arc;

fn t0() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap()
}

struct Room {
    app: Arc<App>,
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
}

/// A SQLite store seeded with the demo site's ten stories (seed 3, at `t0`).
async fn demo_store() -> Arc<dyn Store> {
    let store = newsdesk_store_sqlite::temp_store().unwrap();
    let media = store.path().parent().unwrap().join("media");
    newsdesk_demo::seed(
        &*store,
        &newsdesk_demo::DemoOptions {
            stories: 10,
            now: t0(),
            seed: 3,
            media_dir: media,
        },
    )
    .await
    .unwrap();
    store
}

async fn room_with(settings: SearchSettings) -> Room {
    let store = demo_store().await;
    let clock = Arc::new(ManualClock::new(t0()));
    let app = App::load(store.clone(), clock.clone(), SiteConfig::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    assert!(!app
        .attach_search(dir.path().join("search"), settings)
        .unwrap());
    app.build_search_index(&|_, _| {}).await.unwrap();
    app.sync().await.unwrap();
    assert!(app.search_ready());
    Room {
        app,
        store,
        clock,
        _dir: dir,
    }
}

async fn room() -> Room {
    room_with(SearchSettings::default()).await
}

async fn find(app: &App, text: &str) -> Vec<StoryId> {
    let r = app
        .search(&SearchRequest {
            text: text.into(),
            page: 1,
            ..SearchRequest::default()
        })
        .await
        .unwrap();
    r.hits.iter().map(|h| h.card.id).collect()
}

/// A published story, made from a demo story with a new headline and slug.
async fn add(r: &Room, headline: &str, f: impl FnOnce(&mut StoryInput)) -> StoryId {
    let any = r.store.list_published_cards().await.unwrap()[0].id;
    let mut input = r.store.get_story(any).await.unwrap().input;
    input.headline = Headline::parse(headline).unwrap();
    input.slug = Slug::from_title(headline, "x");
    input.body_html = format!("<p>{headline} in the body.</p>");
    input.status = StoryStatus::Published;
    input.published_at = Some(t0() - Duration::hours(1));
    input.embargo_until = None;
    f(&mut input);
    r.store.insert_story(&input).await.unwrap().id
}

async fn set_status(r: &Room, id: StoryId, status: StoryStatus) {
    let s = r.store.get_story(id).await.unwrap();
    let mut input = s.input.clone();
    input.status = status;
    r.store.update_story(id, s.version, &input).await.unwrap();
}

#[tokio::test]
async fn a_published_story_is_found_within_one_sync() {
    let r = room().await;
    let id = add(&r, "Zanzibar spice harvest", |_| {}).await;
    assert!(find(&r.app, "zanzibar").await.is_empty());
    r.app.sync().await.unwrap();
    assert_eq!(find(&r.app, "zanzibar").await, [id]);
    // Stemmed: "harvests" finds "harvest".
    assert_eq!(find(&r.app, "Zanzibar harvests").await, [id]);
}

#[tokio::test]
async fn drafts_unpublished_and_killed_stories_are_never_found() {
    let r = room().await;
    let draft = add(&r, "Quixotic draft story", |s| {
        s.status = StoryStatus::Draft;
        s.published_at = None;
    })
    .await;
    let unpub = add(&r, "Quixotic unpublished story", |_| {}).await;
    let killed = add(&r, "Quixotic killed story", |_| {}).await;
    r.app.sync().await.unwrap();
    let mut got = find(&r.app, "quixotic").await;
    got.sort();
    assert_eq!(got, [unpub, killed]);
    assert!(!got.contains(&draft));
    set_status(&r, unpub, StoryStatus::Unpublished).await;
    set_status(&r, killed, StoryStatus::Killed).await;
    r.app.sync().await.unwrap();
    assert!(find(&r.app, "quixotic").await.is_empty());
    assert!(find(&r.app, "quixotic unpublished").await.is_empty());
}

#[tokio::test]
async fn an_embargoed_story_is_found_from_the_second_its_embargo_ends() {
    let r = room().await;
    let ends = t0() + Duration::minutes(30);
    let id = add(&r, "Embargoed vaccine results", |s| {
        s.embargo_until = Some(ends);
    })
    .await;
    r.app.sync().await.unwrap();
    assert!(find(&r.app, "vaccine").await.is_empty());
    r.clock.set(ends - Duration::seconds(1));
    r.app.sync().await.unwrap();
    assert!(find(&r.app, "vaccine").await.is_empty(), "a second early");
    r.clock.set(ends);
    r.app.sync().await.unwrap();
    assert_eq!(find(&r.app, "vaccine").await, [id]);
}

#[tokio::test]
async fn devanagari_headlines_are_found_by_their_words() {
    let r = room().await;
    let id = add(&r, "भारत में मानसून की बारिश", |_| {}).await;
    r.app.sync().await.unwrap();
    assert_eq!(find(&r.app, "मानसून").await, [id]);
    assert_eq!(find(&r.app, "बारिश").await, [id]);
}

#[tokio::test]
async fn bad_queries_get_results_or_a_notice() {
    let r = room_with(SearchSettings {
        max_query_chars: 50,
        max_terms: 3,
        ..SearchSettings::default()
    })
    .await;
    add(&r, "Lighthouse keepers strike", |_| {}).await;
    r.app.sync().await.unwrap();
    let ask = |text: String| {
        let app = r.app.clone();
        async move {
            app.search(&SearchRequest {
                text,
                page: 1,
                ..SearchRequest::default()
            })
            .await
            .unwrap()
        }
    };
    let got = ask("AND OR".into()).await;
    assert!(got.hits.is_empty());
    assert_eq!(got.notices, [SearchNotice::NothingToSearch]);
    let got = ask("\"lighthouse keepers".into()).await;
    assert_eq!(got.hits.len(), 1);
    let big = "lighthouse ".repeat(1000);
    let got = ask(big).await;
    assert_eq!(got.hits.len(), 1);
    assert!(got.notices.contains(&SearchNotice::Shortened(50)));
    assert!(got.notices.contains(&SearchNotice::TooManyWords(3)));
    let got = ask("\u{0}lighthouse\u{7}\u{1b}".into()).await;
    assert_eq!(got.hits.len(), 1);
    let got = ask("headline:lighthouse".into()).await;
    assert_eq!(got.hits.len(), 1);
    // Unknown filters are left out with a note; pages beyond the cap are capped.
    let got = r
        .app
        .search(&SearchRequest {
            text: "lighthouse".into(),
            sector: Some("no-such-sector".into()),
            page: 10_000,
            ..SearchRequest::default()
        })
        .await
        .unwrap();
    assert!(got
        .notices
        .contains(&SearchNotice::UnknownFilter("section")));
    assert!(got.notices.contains(&SearchNotice::LastPage(50)));
    assert_eq!(got.page, 50);
}

#[tokio::test]
async fn filters_and_newest_first() {
    let r = room().await;
    let older = add(&r, "Glacier melt report", |s| {
        s.published_at = Some(t0() - Duration::days(3));
        s.kind = Kind::Opinion;
    })
    .await;
    let newer = add(&r, "Glacier melt update", |_| {}).await;
    r.app.sync().await.unwrap();
    let req = |f: &dyn Fn(&mut SearchRequest)| {
        let mut q = SearchRequest {
            text: "glacier".into(),
            page: 1,
            ..SearchRequest::default()
        };
        f(&mut q);
        q
    };
    let ids = |r: newsdesk_app::search::SearchResults| {
        r.hits.iter().map(|h| h.card.id).collect::<Vec<_>>()
    };
    let got = r
        .app
        .search(&req(&|q| q.sort = SearchSort::Newest))
        .await
        .unwrap();
    assert_eq!(ids(got), [newer, older]);
    let got = r
        .app
        .search(&req(&|q| q.kind = Some("opinion".into())))
        .await
        .unwrap();
    assert_eq!(ids(got), [older]);
    let day = (t0() - Duration::days(3)).date_naive();
    let got = r
        .app
        .search(&req(&|q| {
            q.from = Some(day);
            q.to = Some(day);
        }))
        .await
        .unwrap();
    assert_eq!(ids(got), [older]);
}

#[tokio::test]
async fn a_rebuild_aside_is_switched_to_at_the_next_sync() {
    let r = room().await;
    let id = add(&r, "Xylophone orchestra tour", |_| {}).await;
    // Built aside by another process (the CLI), without this node's sync in between.
    let other = App::load(r.store.clone(), r.clock.clone(), SiteConfig::default())
        .await
        .unwrap();
    assert!(other
        .attach_search(r._dir.path().join("search"), SearchSettings::default())
        .unwrap());
    let report = other.build_search_index(&|_, _| {}).await.unwrap();
    assert_eq!(report.name, "gen-2");
    // A story published after the build began is caught up from the change log.
    let later = add(&r, "Xylophone makers meet", |_| {}).await;
    r.app.sync().await.unwrap();
    let mut got = find(&r.app, "xylophone").await;
    got.sort();
    assert_eq!(got, [id, later]);
    assert!(!r._dir.path().join("search/gen-1").exists());
}

#[tokio::test]
async fn a_renamed_author_desk_or_tag_is_found_by_its_new_name() {
    let r = room().await;
    let author = r
        .store
        .upsert_author(&Slug::parse("ada-quill").unwrap(), "Ada Quill", "", None)
        .await
        .unwrap();
    let desk = r
        .store
        .upsert_desk(&Slug::parse("lantern-desk").unwrap(), "Lantern Desk")
        .await
        .unwrap();
    let tag = r
        .store
        .upsert_tag(&Slug::parse("marigold").unwrap(), "Marigold")
        .await
        .unwrap();
    // One story shows all three; an embargoed one shows the author (the index holds it too).
    let id = add(&r, "Harbour cranes return", |s| {
        s.author_ids = vec![author.id];
        s.desk_id = Some(desk.id);
        s.tag_ids = vec![tag.id];
    })
    .await;
    let ends = t0() + Duration::hours(2);
    let later = add(&r, "Harbour cranes leave", |s| {
        s.author_ids = vec![author.id];
        s.embargo_until = Some(ends);
    })
    .await;
    r.app.sync().await.unwrap();
    assert_eq!(find(&r.app, "quill").await, [id]);
    assert_eq!(find(&r.app, "lantern").await, [id]);
    assert_eq!(find(&r.app, "marigold").await, [id]);

    // Renamed (the same slug, a new name): found by the new names after one sync, not the old.
    r.store
        .upsert_author(&author.slug, "Ada Inkwell", "", None)
        .await
        .unwrap();
    r.store
        .upsert_desk(&desk.slug, "Beacon Desk")
        .await
        .unwrap();
    r.store.upsert_tag(&tag.slug, "Saffron").await.unwrap();
    r.app.sync().await.unwrap();
    assert_eq!(find(&r.app, "inkwell").await, [id]);
    assert_eq!(find(&r.app, "beacon").await, [id]);
    assert_eq!(find(&r.app, "saffron").await, [id]);
    for old in ["quill", "lantern", "marigold"] {
        assert!(find(&r.app, old).await.is_empty(), "{old} is gone");
    }
    // The embargoed story was indexed again too: found by the new name once public.
    r.clock.set(ends);
    r.app.sync().await.unwrap();
    let mut got = find(&r.app, "inkwell").await;
    got.sort();
    assert_eq!(got, [id, later]);
}

#[tokio::test]
async fn an_index_of_an_older_format_answers_until_its_rebuild_replaces_it() {
    use newsdesk_search::{Doc, Generations, SearchIndex};
    let store = demo_store().await;
    let card = store.list_published_cards().await.unwrap()[0].clone();
    // What an older release left: a generation of format 1 (no word pairs), up to date.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("search");
    let gens = Generations::new(&root);
    let (name, path) = gens.start().unwrap();
    let old = SearchIndex::open_format_1(&path, 20 << 20).unwrap();
    old.put(&Doc {
        id: card.id.0 as u64,
        headline: "Quokka census in the old index".into(),
        published: 0,
        visible: 0,
        ..Doc::default()
    })
    .unwrap();
    old.commit(store.last_change_seq().await.unwrap()).unwrap();
    old.finish().unwrap();
    gens.publish(&name, &path).unwrap();

    let clock = Arc::new(ManualClock::new(t0()));
    let app = App::load(store.clone(), clock, SiteConfig::default())
        .await
        .unwrap();
    // Not of the current format: the server builds one in the background...
    assert!(!app
        .attach_search(root.clone(), SearchSettings::default())
        .unwrap());
    // ...and meanwhile the old one answers, phrases included.
    app.sync().await.unwrap();
    assert!(app.search_ready());
    assert!(app.search_outdated());
    assert_eq!(find(&app, "\"quokka census\"").await, [card.id]);
    // The rebuild is published and switched to at the next sync; the old one is removed.
    let report = app.build_search_index(&|_, _| {}).await.unwrap();
    assert_eq!(report.name, "gen-2");
    app.sync().await.unwrap();
    assert!(!app.search_outdated());
    assert!(find(&app, "\"quokka census\"").await.is_empty());
    let phrase: Vec<&str> = card.headline.as_str().split(' ').take(2).collect();
    assert!(find(&app, &format!("\"{}\"", phrase.join(" ")))
        .await
        .contains(&card.id));
    assert!(!root.join("gen-1").exists());
    // A process started now finds the current format.
    let again = App::load(
        store,
        Arc::new(ManualClock::new(t0())),
        SiteConfig::default(),
    )
    .await
    .unwrap();
    assert!(again
        .attach_search(root, SearchSettings::default())
        .unwrap());
}
