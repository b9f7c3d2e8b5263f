//! The precise purge: a change makes stale exactly the cached pages that show what changed, a
//! trending change re-renders only the side rail, and no public surface shows an old state after
//! one sync. Counts builds instead of timing anything.
#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Duration, TimeZone, Utc};
use http_body_util::BodyExt;
use newsdesk_app::{App, SiteConfig};
use newsdesk_domain::*;
use newsdesk_store::Store;
use newsdesk_web::WebState;
use std::sync::Arc;
use tower::ServiceExt;

const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";

struct Site {
    router: Router,
    state: Arc<WebState>,
    app: Arc<App>,
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
}

fn now0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 30, 0).unwrap()
}

fn template() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        std::thread::spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let store = newsdesk_store_sqlite::temp_store().unwrap();
                let dir = store.path().parent().unwrap().to_owned();
                newsdesk_demo::seed(
                    &*store,
                    &newsdesk_demo::DemoOptions {
                        stories: 200,
                        now: now0(),
                        seed: 5,
                        media_dir: dir.join("media"),
                    },
                )
                .await
                .unwrap();
                drop(store);
                dir
            })
        })
        .join()
        .unwrap()
    })
}

async fn site() -> Site {
    site_with(SiteConfig::default()).await
}

async fn site_with(site: SiteConfig) -> Site {
    let tpl = template();
    let fresh = newsdesk_store_sqlite::temp_store().unwrap();
    let path = fresh.path().to_owned();
    drop(fresh);
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
    std::fs::copy(tpl.join("newsdesk.db"), &path).unwrap();
    let store: Arc<dyn Store> = Arc::new(newsdesk_store_sqlite::SqliteStore::open(&path).unwrap());
    let clock = Arc::new(ManualClock::new(now0()));
    let site = SiteConfig {
        base_url: "https://news.example".into(),
        ..site
    };
    let app = App::load(store.clone(), clock.clone(), site).await.unwrap();
    let state = WebState::new(app.clone(), tpl.join("media"));
    Site {
        router: newsdesk_web::router(state.clone()),
        state,
        app,
        store,
        clock,
    }
}

struct Res {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn get(r: &Router, path: &str) -> Res {
    let req = Request::builder()
        .uri(path)
        .header("user-agent", BROWSER)
        .body(Body::empty())
        .unwrap();
    let res = r.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let raw = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    Res {
        status,
        headers,
        body: String::from_utf8_lossy(&raw).into_owned(),
    }
}

/// Whether a request rendered the page (a miss) rather than serving it from the cache.
async fn rendered(s: &Site, path: &str) -> bool {
    let before = s.state.cache.builds();
    let r = get(&s.router, path).await;
    assert!(r.status == 200, "{path}: {}", r.status);
    s.state.cache.builds() > before
}

fn audit() -> AuditInput {
    AuditInput {
        at: now0(),
        user_id: None,
        action: "test".into(),
        target: String::new(),
        detail: String::new(),
    }
}

fn public(s: &Site) -> Vec<Arc<StoryCard>> {
    s.app.read().all_public(s.app.now()).collect()
}

#[tokio::test]
async fn a_story_change_makes_stale_exactly_the_pages_that_show_it() {
    let s = site().await;
    let cards = public(&s);
    // Old stories (not on the home page's lists nor in the rail).
    let old = &cards[60..];
    let a = old
        .iter()
        .find(|c| !c.tag_ids.is_empty() && c.kind == Kind::News)
        .unwrap()
        .clone();
    let b = old
        .iter()
        .find(|c| {
            c.sector_id != a.sector_id
                && c.kind == a.kind
                && !c.tag_ids.iter().any(|t| a.tag_ids.contains(t))
        })
        .unwrap()
        .clone();
    let (sa, sb, ta, tx, static_page) = {
        let snap = s.app.read();
        let tax = &snap.tax;
        let other_tag = cards
            .iter()
            .flat_map(|c| c.tag_ids.iter())
            .find(|t| !a.tag_ids.contains(t))
            .copied()
            .unwrap();
        (
            tax.sector(a.sector_id).unwrap().slug.to_string(),
            tax.sector(b.sector_id).unwrap().slug.to_string(),
            tax.tag(a.tag_ids[0]).unwrap().slug.to_string(),
            tax.tag(other_tag).unwrap().slug.to_string(),
            snap.pages[0].slug.to_string(),
        )
    };
    let stale = [
        format!("/article/{}", a.slug),
        format!("/sector/{sa}"),
        format!("/tag/{ta}"),
        "/".to_owned(),
        "/feed.rss".to_owned(),
        format!("/sector/{sa}/feed.rss"),
        "/sitemaps/stories-1.xml".to_owned(),
        "/sitemap.xml".to_owned(),
    ];
    let fresh = [
        format!("/article/{}", b.slug),
        format!("/sector/{sb}"),
        format!("/tag/{tx}"),
        format!("/sector/{sb}/feed.rss"),
        "/sitemaps/pages.xml".to_owned(),
        format!("/{static_page}"),
    ];
    for p in stale.iter().chain(fresh.iter()) {
        rendered(&s, p).await;
        assert!(!rendered(&s, p).await, "{p} is cached once built");
    }
    let a_page = get(&s.router, &format!("/article/{}", a.slug)).await;
    let keys = a_page.headers["surrogate-key"].to_str().unwrap().to_owned();
    assert!(
        keys.split(' ').any(|k| k == format!("story-{}", a.id)),
        "{keys}"
    );
    assert!(keys.split(' ').any(|k| k.starts_with("rail-")), "{keys}");
    assert_eq!(
        a_page.headers["cache-tag"].to_str().unwrap(),
        keys.replace(' ', ",")
    );
    let parts = s.state.parts.builds();

    // Change story A's summary and follow the change log once.
    let story = s.store.get_story(a.id).await.unwrap();
    let mut edit = story.input.clone();
    edit.summary = "A summary nobody has read before.".into();
    s.store
        .update_story(a.id, story.version, &edit)
        .await
        .unwrap();
    s.app.sync().await.unwrap();

    for p in &stale {
        assert!(rendered(&s, p).await, "{p} shows the story and is rebuilt");
    }
    for p in &fresh {
        assert!(
            !rendered(&s, p).await,
            "{p} does not show it and stays cached"
        );
    }
    assert_eq!(
        s.state.parts.builds(),
        parts + 1,
        "only A's part re-rendered"
    );
    assert!(get(&s.router, &format!("/article/{}", a.slug))
        .await
        .body
        .contains("A summary nobody has read before."));
}

/// The related stories section of an article page.
fn related_of(body: &str) -> &str {
    let Some(at) = body.find("class=\"related\"") else {
        return "";
    };
    let rest = &body[at..];
    &rest[..rest.find("</section>").unwrap()]
}

#[tokio::test]
async fn a_publication_in_a_story_s_tags_re_renders_no_story_part_yet_its_related_list_follows() {
    let s = site().await;
    let cards = public(&s);
    let a = cards[60..]
        .iter()
        .find(|c| !c.tag_ids.is_empty() && c.kind == Kind::News)
        .unwrap()
        .clone();
    let page = format!("/article/{}", a.slug);
    get(&s.router, &page).await;
    let n = s.store.count_stories().await.unwrap();
    let draft = s
        .store
        .get_cards(&(1..=n + 5).map(StoryId).collect::<Vec<_>>())
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.status == StoryStatus::Draft)
        .unwrap();
    let link = format!("/article/{}\"", draft.slug);
    let before = get(&s.router, &page).await;
    assert!(!related_of(&before.body).contains(&link));
    let (parts, builds) = (s.state.parts.builds(), s.state.cache.builds());

    // Publish a story in A's sector with A's tags.
    let story = s.store.get_story(draft.id).await.unwrap();
    let mut edit = story.input.clone();
    edit.status = StoryStatus::Published;
    edit.published_at = Some(s.app.now());
    edit.embargo_until = None;
    edit.sector_id = a.sector_id;
    edit.tag_ids = a.tag_ids.clone();
    s.store
        .update_story(draft.id, story.version, &edit)
        .await
        .unwrap();
    s.app.sync().await.unwrap();

    let after = get(&s.router, &page).await;
    assert!(
        related_of(&after.body).contains(&link),
        "the new story is among A's related stories: {}",
        related_of(&after.body)
    );
    assert_eq!(s.state.cache.builds(), builds + 1, "A's page re-assembled");
    assert_eq!(
        s.state.parts.builds(),
        parts,
        "A's story part is not re-rendered"
    );
    // The page still names the lists its related stories come from, for a CDN's purge.
    let keys = after.headers["surrogate-key"].to_str().unwrap().to_owned();
    for t in &a.tag_ids {
        assert!(
            keys.split(' ').any(|k| k == format!("tag-{}", t.0)),
            "{keys}"
        );
    }
    assert!(
        keys.split(' ')
            .any(|k| k == format!("sector-{}", a.sector_id.0)),
        "{keys}"
    );
    // The related list sits inside the article, as before.
    let article = &after.body[after.body.find("<article").unwrap()..];
    let end = article.find("</article>").unwrap();
    assert!(article[..end].contains("class=\"related\""));
}

#[tokio::test]
async fn a_trending_change_rerenders_the_rail_once_and_no_story_part() {
    let s = site().await;
    let cards = public(&s);
    let pages: Vec<String> = cards[20..26]
        .iter()
        .map(|c| format!("/article/{}", c.slug))
        .collect();
    for p in &pages {
        get(&s.router, p).await;
    }
    let (parts, rails, builds) = (
        s.state.parts.builds(),
        s.state.rails.renders(),
        s.state.cache.builds(),
    );
    for p in &pages {
        assert!(!rendered(&s, p).await);
    }
    // Readers make an old story trend.
    let hot = &cards[100];
    let global = s.app.read().tax.global().unwrap().id;
    // Thirty readers (each counts once per story and window).
    for i in 0..30 {
        s.app
            .count_view(hot.id, global, &format!("192.0.2.{i}"), "Mozilla/5.0");
    }
    s.app.flush_views().await.unwrap();
    assert_eq!(s.app.audience.list(global).first(), Some(&hot.id));
    // The rail follows a trending change within `trending_refresh_seconds`.
    s.clock.advance(chrono::Duration::seconds(
        i64::try_from(s.app.site.trending_refresh_seconds).unwrap() + 1,
    ));
    for p in &pages {
        let r = get(&s.router, p).await;
        let trending = r.body.split("rail-trending").nth(2).unwrap();
        let trending = &trending[..trending.find("</ol>").unwrap()];
        assert!(
            trending.contains(hot.slug.as_str()),
            "{p} shows the new trending list"
        );
    }
    assert_eq!(
        s.state.rails.renders(),
        rails + 1,
        "the rail is rendered once"
    );
    assert_eq!(
        s.state.parts.builds(),
        parts,
        "no story part is re-rendered"
    );
    assert_eq!(
        s.state.cache.builds(),
        builds,
        "no article page is rebuilt: the new rail is joined when answered"
    );
    // Feeds do not show the rail: a trending change leaves them cached.
    get(&s.router, "/feed.rss").await;
    for i in 0..30 {
        s.app.count_view(
            cards[101].id,
            global,
            &format!("192.0.2.{i}"),
            "Mozilla/5.0",
        );
    }
    s.app.flush_views().await.unwrap();
    assert!(!rendered(&s, "/feed.rss").await);
}

/// Every public surface a story shows on.
fn surfaces(s: &Site, c: &StoryCard) -> Vec<String> {
    let snap = s.app.read();
    let mut v = vec![
        "/".to_owned(),
        "/feed.rss".to_owned(),
        "/feed.json".to_owned(),
        "/sitemap-news.xml".to_owned(),
        format!(
            "/sitemaps/stories-{}.xml",
            newsdesk_app::purge::sitemap_of(c.id)
        ),
        format!("/sector/{}", snap.tax.sector(c.sector_id).unwrap().slug),
        format!("/kind/{}", c.kind.listing_slug()),
    ];
    v.extend(
        c.tag_ids
            .iter()
            .map(|t| format!("/tag/{}", snap.tax.tag(*t).unwrap().slug)),
    );
    v
}

async fn shown_on(s: &Site, c: &StoryCard, paths: &[String]) -> Vec<String> {
    let mut on = Vec::new();
    for p in paths {
        let r = get(&s.router, p).await;
        if r.body.contains(&format!("/article/{}", c.slug)) {
            on.push(p.clone());
        }
    }
    on
}

#[tokio::test]
async fn nothing_stale_after_publish_correct_unpublish_kill_and_embargo_end() {
    let s = site().await;
    let n = s.store.count_stories().await.unwrap();
    let all = s
        .store
        .get_cards(&(1..=n + 5).map(StoryId).collect::<Vec<_>>())
        .await
        .unwrap();

    // Publish the draft: on every surface, and its page, after one sync.
    let draft = all
        .iter()
        .find(|c| c.status == StoryStatus::Draft)
        .unwrap()
        .clone();
    let paths = surfaces(&s, &draft);
    assert!(shown_on(&s, &draft, &paths).await.is_empty());
    let story = s.store.get_story(draft.id).await.unwrap();
    let mut edit = story.input.clone();
    edit.status = StoryStatus::Published;
    edit.published_at = Some(s.app.now());
    edit.embargo_until = None;
    s.store
        .update_story(draft.id, story.version, &edit)
        .await
        .unwrap();
    s.app.sync().await.unwrap();
    assert_eq!(shown_on(&s, &draft, &paths).await, paths, "published");
    let page = format!("/article/{}", draft.slug);
    assert_eq!(get(&s.router, &page).await.status, 200);

    // Correct it: the page and the corrections page show the correction.
    let story = s.store.get_story(draft.id).await.unwrap();
    get(&s.router, "/corrections").await;
    s.store
        .add_correction(
            draft.id,
            story.version,
            &story.input,
            "It rained.",
            "It snowed.",
            &audit(),
        )
        .await
        .unwrap();
    s.app.sync().await.unwrap();
    assert!(get(&s.router, &page).await.body.contains("It snowed."));
    assert!(get(&s.router, "/corrections")
        .await
        .body
        .contains("It snowed."));

    // Unpublish it: gone from everywhere.
    let story = s.store.get_story(draft.id).await.unwrap();
    let mut edit = story.input.clone();
    edit.status = StoryStatus::Unpublished;
    s.store
        .update_story(draft.id, story.version, &edit)
        .await
        .unwrap();
    s.app.sync().await.unwrap();
    assert!(shown_on(&s, &draft, &paths).await.is_empty(), "unpublished");
    assert_eq!(get(&s.router, &page).await.status, 404);

    // Kill the newest public story: gone from everywhere.
    let victim = public(&s)[0].clone();
    let vpaths = surfaces(&s, &victim);
    assert_eq!(shown_on(&s, &victim, &vpaths).await.len(), vpaths.len());
    let story = s.store.get_story(victim.id).await.unwrap();
    let mut edit = story.input.clone();
    edit.status = StoryStatus::Killed;
    s.store
        .update_story(victim.id, story.version, &edit)
        .await
        .unwrap();
    s.app.sync().await.unwrap();
    assert!(shown_on(&s, &victim, &vpaths).await.is_empty(), "killed");
    assert_eq!(
        get(&s.router, &format!("/article/{}", victim.slug))
            .await
            .status,
        404
    );

    // An embargo ends: on every surface after the sync that notices the time.
    let embargoed = all
        .iter()
        .find(|c| c.embargo_until.is_some() && c.status == StoryStatus::Published)
        .unwrap()
        .clone();
    let epaths = surfaces(&s, &embargoed);
    assert!(shown_on(&s, &embargoed, &epaths).await.is_empty());
    s.clock
        .set(embargoed.embargo_until.unwrap() + Duration::seconds(1));
    s.app.sync().await.unwrap();
    assert_eq!(
        shown_on(&s, &embargoed, &epaths).await,
        epaths,
        "embargo ended"
    );
    assert_eq!(
        get(&s.router, &format!("/article/{}", embargoed.slug))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn trending_alone_re_renders_the_rail_at_most_once_per_refresh_interval() {
    let s = site_with(SiteConfig {
        trending_refresh_seconds: 60,
        ..SiteConfig::default()
    })
    .await;
    let cards = public(&s);
    let page = format!("/article/{}", cards[30].slug);
    get(&s.router, &page).await;
    let rails = s.state.rails.renders();
    let global = s.app.read().tax.global().unwrap().id;
    let hot = &cards[120];
    // Thirty readers (each counts once per story and window).
    for i in 0..30 {
        s.app
            .count_view(hot.id, global, &format!("192.0.2.{i}"), "Mozilla/5.0");
    }
    s.app.flush_views().await.unwrap();
    assert_eq!(s.app.audience.list(global).first(), Some(&hot.id));
    assert!(
        !rendered(&s, &page).await,
        "within the interval the page stays"
    );
    assert_eq!(s.state.rails.renders(), rails);
    s.clock.set(s.app.now() + Duration::seconds(61));
    let r = get(&s.router, &page).await;
    assert!(
        r.body.contains(hot.slug.as_str()),
        "after it, trending shows"
    );
    assert_eq!(s.state.rails.renders(), rails + 1);
    // A change to a story the rail shows is not held back.
    let story = s.store.get_story(hot.id).await.unwrap();
    let mut edit = story.input.clone();
    edit.status = StoryStatus::Unpublished;
    s.store
        .update_story(hot.id, story.version, &edit)
        .await
        .unwrap();
    s.app.sync().await.unwrap();
    assert!(!get(&s.router, &page).await.body.contains(hot.slug.as_str()));
}

/// An article's part is compressed at the fast level on the miss path; once read often it is
/// compressed again at the best level in the background: fewer bytes held, and the pages built
/// from it say the same thing under the same ETag.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_read_often_is_recompressed_at_the_best_level() {
    use newsdesk_web::cache::Weigh;
    let s = site().await;
    let card = public(&s)[0].clone();
    let path = format!("/article/{}", card.slug);
    let first = get(&s.router, &path).await;
    assert_eq!(first.status, 200);
    let parts = &s.state.parts;
    let key = format!("|{}", card.slug);
    let made = parts.get(&key, |_| true).expect("the part is cached");
    let fast = made.page.bytes();
    for _ in 0..newsdesk_web::cache::HOT_READS {
        let _ = parts.get(&key, |_| true);
    }
    let mut best = None;
    for _ in 0..5_000 {
        let now = parts.get(&key, |_| true).expect("still cached");
        if !Arc::ptr_eq(&now, &made) {
            best = Some(now);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let best = best.expect("recompressed in the background");
    assert!(best.page.bytes() < fast, "{} < {fast}", best.page.bytes());
    // The page made again (a site-wide change) from the recompressed part, not a rebuilt one.
    let builds = parts.builds();
    let _ = s.app.versions.bump(&[newsdesk_app::purge::Dep::Site]);
    assert!(rendered(&s, &path).await);
    assert_eq!(parts.builds(), builds, "the part was not rebuilt");
    let again = get(&s.router, &path).await;
    assert_eq!(again.body, first.body);
    assert_eq!(again.headers.get("etag"), first.headers.get("etag"));
}

/// A GET with these headers: status, headers and the raw body.
async fn get_raw(
    r: &Router,
    path: &str,
    with: &[(&str, &str)],
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut req = Request::builder().uri(path).header("user-agent", BROWSER);
    for (k, v) in with {
        req = req.header(*k, *v);
    }
    let res = r
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let raw = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, headers, raw)
}

/// One gzip member, decoded by a decoder that checks its CRC-32 and length.
fn gunzip(raw: &[u8]) -> String {
    use std::io::Read;
    let mut out = String::new();
    flate2::read::GzDecoder::new(raw)
        .read_to_string(&mut out)
        .unwrap();
    out
}

/// The trending list of a page.
fn trending_of(body: &str) -> &str {
    let t = body.split("rail-trending").nth(2).unwrap();
    &t[..t.find("</ol>").unwrap()]
}

#[tokio::test]
async fn a_rail_change_rebuilds_no_article_page_nor_part_and_the_next_answer_joins_the_new_rail() {
    let s = site().await;
    let cards = public(&s);
    // A draft to publish, and old stories in other sectors with none of its tags.
    let n = s.store.count_stories().await.unwrap();
    let draft = s
        .store
        .get_cards(&(1..=n + 5).map(StoryId).collect::<Vec<_>>())
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.status == StoryStatus::Draft)
        .unwrap();
    let pages: Vec<&Arc<StoryCard>> = cards[60..]
        .iter()
        .filter(|p| {
            p.sector_id != draft.sector_id && !p.tag_ids.iter().any(|t| draft.tag_ids.contains(t))
        })
        .take(5)
        .collect();
    assert_eq!(pages.len(), 5);
    let paths: Vec<String> = pages
        .iter()
        .map(|c| format!("/article/{}", c.slug))
        .collect();
    let gz = [("accept-encoding", "gzip")];
    let mut etags = Vec::new();
    for p in &paths {
        get(&s.router, p).await;
        let (_, h, _) = get_raw(&s.router, p, &gz).await;
        etags.push(h["etag"].to_str().unwrap().to_owned());
        // Unchanged: 304.
        let (st304, _, _) =
            get_raw(&s.router, p, &[("if-none-match", &etags[etags.len() - 1])]).await;
        assert_eq!(st304, StatusCode::NOT_MODIFIED);
    }
    let (parts, builds, weight) = (
        s.state.parts.builds(),
        s.state.cache.builds(),
        s.state.cache.weighted_bytes(),
    );

    // A publication elsewhere in the edition (on the rail's latest list) and a trending change.
    let story = s.store.get_story(draft.id).await.unwrap();
    let mut edit = story.input.clone();
    edit.status = StoryStatus::Published;
    edit.published_at = Some(s.app.now());
    edit.embargo_until = None;
    s.store
        .update_story(draft.id, story.version, &edit)
        .await
        .unwrap();
    s.app.sync().await.unwrap();
    let hot = &cards[100];
    let global = s.app.read().tax.global().unwrap().id;
    for i in 0..30 {
        s.app
            .count_view(hot.id, global, &format!("192.0.2.{i}"), "Mozilla/5.0");
    }
    s.app.flush_views().await.unwrap();
    s.clock.advance(chrono::Duration::seconds(
        i64::try_from(s.app.site.trending_refresh_seconds).unwrap() + 1,
    ));

    for (p, old_etag) in paths.iter().zip(&etags) {
        let (status, h, raw) = get_raw(&s.router, p, &gz).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(h["content-encoding"], "gzip");
        assert_eq!(h["content-length"].to_str().unwrap(), raw.len().to_string());
        let body = gunzip(&raw);
        assert!(
            trending_of(&body).contains(hot.slug.as_str()),
            "{p}: new trending list"
        );
        assert!(
            body.contains(&format!("/article/{}\"", draft.slug)),
            "{p}: new latest list"
        );
        // The ETag follows the rail; the old one no longer matches.
        let etag = h["etag"].to_str().unwrap();
        assert_ne!(etag, old_etag, "{p}");
        let (again, _, _) = get_raw(&s.router, p, &[("if-none-match", old_etag)]).await;
        assert_eq!(again, StatusCode::OK);
        let (same, _, _) = get_raw(&s.router, p, &[("if-none-match", etag)]).await;
        assert_eq!(same, StatusCode::NOT_MODIFIED);
        // The reader who takes no gzip reads the same text.
        assert_eq!(get(&s.router, p).await.body, body);
    }
    assert_eq!(s.state.parts.builds(), parts, "no story part is rebuilt");
    assert_eq!(s.state.cache.builds(), builds, "no article page is rebuilt");
    assert_eq!(s.state.cache.weighted_bytes(), weight);
}

#[tokio::test]
async fn a_joined_article_is_the_whole_page_and_its_entry_does_not_hold_the_rail() {
    let s = site().await;
    let cards = public(&s);
    let edition = s.app.read().tax.global().unwrap().clone();
    // Old stories, and the newest (in the rail: its page shows the rail without it).
    let mut chosen: Vec<&Arc<StoryCard>> = cards[60..64].iter().collect();
    chosen.push(&cards[0]);
    for c in chosen {
        let p = format!("/article/{}", c.slug);
        let before = s.state.cache.weighted_bytes();
        let (_, h, raw) = get_raw(&s.router, &p, &[("accept-encoding", "gzip")]).await;
        let entry = s.state.cache.weighted_bytes() - before;
        let whole = newsdesk_web::reader::article_page_whole(&s.state, &edition, c.slug.as_str())
            .await
            .unwrap();
        assert!(whole.contains("rail-trending") && whole.contains("</html>"));
        assert_eq!(gunzip(&raw), whole, "{p}: gzip");
        assert_eq!(get(&s.router, &p).await.body, whole, "{p}: identity");
        assert!(h.get("content-encoding").is_some());
        // The cached entry holds the page's own pieces, not the rail nor the footer that every
        // response carries.
        assert!(
            entry < raw.len() as u64,
            "{p}: the entry weighs {entry} bytes, the response is {}",
            raw.len()
        );
    }
}

/// An article's part starts with its page's head and the frame's top chrome (one piece to
/// compress on a miss): when the frame moves (the date line at midnight), the part is made
/// again with the new top, and the page shows the new date, the same text as made whole.
#[tokio::test]
async fn a_new_day_makes_the_article_part_again_with_the_new_date_line() {
    let s = site().await;
    let c = public(&s)[40].clone();
    let edition = s.app.read().tax.global().unwrap().clone();
    let p = format!("/article/{}", c.slug);
    let day = |t: DateTime<Utc>| newsdesk_domain::time::date_line(t, edition.tz);
    let first = gunzip(
        &get_raw(&s.router, &p, &[("accept-encoding", "gzip")])
            .await
            .2,
    );
    assert!(first.contains(&day(s.app.now())), "today's date line");
    let parts = s.state.parts.builds();
    // Read again the same day: the part and the page are kept.
    assert!(!rendered(&s, &p).await);
    assert_eq!(s.state.parts.builds(), parts);

    s.clock.advance(Duration::days(1));
    let (status, _, raw) = get_raw(&s.router, &p, &[("accept-encoding", "gzip")]).await;
    assert_eq!(status, StatusCode::OK);
    let next = gunzip(&raw);
    assert!(next.contains(&day(s.app.now())), "the new date line");
    assert!(!next.contains(&day(s.app.now() - Duration::days(1))));
    assert_eq!(s.state.parts.builds(), parts + 1, "the part is made again");
    let whole = newsdesk_web::reader::article_page_whole(&s.state, &edition, c.slug.as_str())
        .await
        .unwrap();
    assert_eq!(next, whole);
    assert_eq!(get(&s.router, &p).await.body, whole, "identity");
}

/// An article page read often is made whole in the background for the rail it is read with (one
/// gzip member at the best level and Brotli) and answers from that, the same text and ETag as
/// the joined answer; after a rail change it answers the new rail, never the old whole form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hot_article_is_answered_whole_until_the_rail_moves() {
    use std::io::Read;
    let s = site().await;
    let cards = public(&s);
    let c = &cards[70];
    let p = format!("/article/{}", c.slug);
    let (gz, br) = (
        [("accept-encoding", "gzip")],
        [("accept-encoding", "gzip, deflate, br")],
    );
    let text = get(&s.router, &p).await.body;
    let (_, h, joined) = get_raw(&s.router, &p, &gz).await;
    let etag = h["etag"].to_str().unwrap().to_owned();
    assert_eq!(gunzip(&joined), text);
    let mut whole = None;
    for i in 0..(newsdesk_web::cache::WHOLE_READS * 40) {
        let (_, h, raw) = get_raw(&s.router, &p, &br).await;
        if h.get("content-encoding").is_some_and(|e| e == "br") {
            whole = Some((h, raw));
            break;
        }
        if i > newsdesk_web::cache::WHOLE_READS {
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    }
    let (h, raw) = whole.expect("a Brotli form once read often");
    assert_eq!(h["etag"].to_str().unwrap(), etag);
    let mut out = String::new();
    brotli::Decompressor::new(&raw[..], 4096)
        .read_to_string(&mut out)
        .unwrap();
    assert_eq!(out, text);
    let (_, h, best) = get_raw(&s.router, &p, &gz).await;
    assert_eq!(h["etag"].to_str().unwrap(), etag);
    assert_eq!(gunzip(&best), text);
    assert!(
        best.len() < joined.len(),
        "{} < {}",
        best.len(),
        joined.len()
    );
    let (st304, _, _) = get_raw(&s.router, &p, &[("if-none-match", &etag)]).await;
    assert_eq!(st304, StatusCode::NOT_MODIFIED);

    // Trending moves, and with it the rail.
    let hot = &cards[100];
    let global = s.app.read().tax.global().unwrap().id;
    for i in 0..30 {
        s.app
            .count_view(hot.id, global, &format!("192.0.2.{i}"), "Mozilla/5.0");
    }
    s.app.flush_views().await.unwrap();
    s.clock.advance(chrono::Duration::seconds(
        i64::try_from(s.app.site.trending_refresh_seconds).unwrap() + 1,
    ));
    let now = get(&s.router, &p).await.body;
    assert!(trending_of(&now).contains(hot.slug.as_str()));
    for with in [&gz, &br] {
        let (_, h, raw) = get_raw(&s.router, &p, with).await;
        assert_ne!(h["etag"].to_str().unwrap(), etag);
        let body = match h["content-encoding"].to_str().unwrap() {
            "gzip" => gunzip(&raw),
            coding => panic!("{coding}: the old whole form"),
        };
        assert_eq!(body, now);
    }
}
