//! Imports from WordPress and Ghost end to end: real exports from `../shared/corpora/imports`
//! into a demo-seeded store, then read through the reader site: every post and page arrives,
//! a second run changes nothing, a dry run writes nothing, old addresses answer 301.
#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use chrono::{DateTime, TimeZone, Utc};
use http_body_util::BodyExt;
use newsdesk_app::import::ImportOptions;
use newsdesk_app::{App, SiteConfig};
use newsdesk_domain::*;
use newsdesk_interchange::import::{ghost, wxr, ItemKind, ItemStatus};
use newsdesk_store::Store;
use std::path::PathBuf;
use std::sync::Arc;
use tower::ServiceExt;

fn now0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 30, 0).unwrap()
}

fn corpus(file: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpora/imports")
        .join(file);
    String::from_utf8(
        std::fs::read(&p)
            .unwrap_or_else(|e| panic!("the import corpora are missing ({}): {e}", p.display())),
    )
    .unwrap()
}

async fn get(r: &Router, path: &str) -> (StatusCode, String, String) {
    let res = r
        .clone()
        .oneshot(Request::builder().uri(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let loc = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let raw = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, loc, String::from_utf8_lossy(&raw).into_owned())
}

struct Site {
    app: Arc<App>,
    store: Arc<dyn Store>,
    router: Router,
    media: PathBuf,
}

async fn site() -> Site {
    let store = newsdesk_store_sqlite::temp_store().unwrap();
    let dir = store.path().parent().unwrap().to_owned();
    newsdesk_demo::seed(
        &*store,
        &newsdesk_demo::DemoOptions {
            stories: 6,
            now: now0(),
            seed: 3,
            media_dir: dir.join("media"),
        },
    )
    .await
    .unwrap();
    let store: Arc<dyn Store> = store;
    let clock = Arc::new(ManualClock::new(now0()));
    let app = App::load(
        store.clone(),
        clock,
        SiteConfig {
            base_url: "https://news.example".into(),
            ..SiteConfig::default()
        },
    )
    .await
    .unwrap();
    let router = newsdesk_web::router(newsdesk_web::WebState::new(app.clone(), dir.join("media")));
    Site {
        app,
        store,
        router,
        media: dir.join("media"),
    }
}

fn opts(s: &Site, source: &str, publish: bool, dry_run: bool) -> ImportOptions {
    ImportOptions {
        source: source.into(),
        publish,
        dry_run,
        sectors: [("*".to_string(), "health".to_string())]
            .into_iter()
            .collect(),
        uploads: None,
        media: std::sync::Arc::new(newsdesk_media::LocalFolder::new(s.media.clone())),
    }
}

#[tokio::test]
async fn the_wordpress_theme_test_site_is_imported_once_with_redirects() {
    let s = site().await;
    let export = wxr::parse(&corpus(
        "wordpress/theme-test-data/themeunittestdata.wordpress.xml",
    ))
    .unwrap();
    let posts = export
        .importable()
        .filter(|i| i.kind == Some(ItemKind::Post))
        .count();
    let public_pages = export
        .importable()
        .filter(|i| i.kind == Some(ItemKind::Page) && i.status == Some(ItemStatus::Published))
        .count();
    let pages = export
        .importable()
        .filter(|i| i.kind == Some(ItemKind::Page))
        .count();
    assert_eq!((posts, pages), (58, 21), "counts as in EXPECTATIONS.json");

    // A dry run writes nothing.
    let (seq, stories) = (
        s.store.last_change_seq().await.unwrap(),
        s.store.count_stories().await.unwrap(),
    );
    let dry = s
        .app
        .import(&export, &opts(&s, "wordpress", true, true), &|_, _| {})
        .await
        .unwrap();
    assert_eq!(s.store.last_change_seq().await.unwrap(), seq);
    assert_eq!(s.store.count_stories().await.unwrap(), stories);

    let calls = std::sync::atomic::AtomicU64::new(0);
    let report = s
        .app
        .import(
            &export,
            &opts(&s, "wordpress", true, false),
            &|done, total| {
                assert!(done <= total);
                calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            },
        )
        .await
        .unwrap();
    assert_eq!(
        calls.into_inner(),
        (posts + pages) as u64,
        "progress per item"
    );
    assert_eq!(report.stories + report.pages, posts + pages, "{report:#?}");
    assert_eq!(report.pages, public_pages);
    assert_eq!(
        (dry.stories, dry.pages, dry.published, dry.redirects),
        (
            report.stories,
            report.pages,
            report.published,
            report.redirects
        ),
        "the dry run reports what the run does"
    );
    // Only attachments and menu items are left out, each with its reason.
    assert_eq!(report.skipped.len(), 37 + 70, "{:#?}", report.skipped);
    assert!(report.skipped.iter().all(|k| !k.reason.is_empty()));
    assert_eq!(
        s.store.count_stories().await.unwrap(),
        stories + report.stories as i64
    );
    assert_eq!(
        s.store.count_imported("wordpress").await.unwrap(),
        (posts + pages) as i64
    );

    // A second run changes nothing.
    let seq = s.store.last_change_seq().await.unwrap();
    let again = s
        .app
        .import(&export, &opts(&s, "wordpress", true, false), &|_, _| {})
        .await
        .unwrap();
    assert_eq!(again.already_imported, posts + pages);
    assert_eq!(
        (
            again.stories,
            again.pages,
            again.tags_made,
            again.bylines_made
        ),
        (0, 0, 0, 0)
    );
    assert_eq!(s.store.last_change_seq().await.unwrap(), seq);

    // Old addresses answer 301 to the new page; content is kept.
    let item = export
        .importable()
        .find(|i| i.slug == "markup-html-tags-and-formatting")
        .unwrap();
    let old = newsdesk_interchange::import::old_path(item.link.as_deref().unwrap()).unwrap();
    let (status, loc, _) = get(&s.router, &old).await;
    assert_eq!(status, 301, "{old}");
    assert_eq!(loc, "/article/markup-html-tags-and-formatting");
    let (status, _, body) = get(&s.router, &loc).await;
    assert_eq!(status, 200);
    for needle in ["<h2", "<blockquote", "<a href="] {
        assert!(body.contains(needle), "{needle} lost");
    }
    // Embeds arrive as links.
    let embed = s
        .store
        .find_story_by_slug(&Slug::parse("post-format-video-youtube").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(
        embed
            .body_html
            .contains("<a href=\"https://www.youtube.com/"),
        "{}",
        embed.body_html
    );
    // A page's old address leads to its static page.
    let page = export
        .importable()
        .find(|i| i.kind == Some(ItemKind::Page) && i.slug == "page-image-alignment")
        .unwrap();
    let old = newsdesk_interchange::import::old_path(page.link.as_deref().unwrap()).unwrap();
    let (status, loc, _) = get(&s.router, &old).await;
    assert_eq!(
        (status, loc.as_str()),
        (StatusCode::MOVED_PERMANENTLY, "/page-image-alignment")
    );
    assert_eq!(get(&s.router, "/page-image-alignment").await.0, 200);
    // A draft's old address stays a 404 (it is not public).
    let draft = export
        .importable()
        .find(|i| i.kind == Some(ItemKind::Post) && i.status == Some(ItemStatus::NotPublic))
        .unwrap();
    if let Some(old) = draft
        .link
        .as_deref()
        .and_then(newsdesk_interchange::import::old_path)
    {
        assert_eq!(get(&s.router, &old).await.0, 404);
    }
    assert_eq!(get(&s.router, "/no/such/old/address/").await.0, 404);
}

#[tokio::test]
async fn ghost_exports_arrive_as_drafts_without_the_flag_and_accounts_are_matched() {
    let s = site().await;
    let export = ghost::parse(&corpus("ghost/v4_export.json")).unwrap();
    let report = s
        .app
        .import(&export, &opts(&s, "ghost", false, false), &|_, _| {})
        .await
        .unwrap();
    assert_eq!((report.stories, report.pages, report.published), (11, 0, 0));
    assert!(report.skipped.is_empty(), "{:#?}", report.skipped);
    assert_eq!(report.accounts_made, 1);
    let welcome = s
        .store
        .find_story_by_slug(&Slug::parse("welcome").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(welcome.status, StoryStatus::Draft);
    assert!(welcome.body_html.contains("<a href="));
    // Ghost 2 export: the same people, matched by e-mail now.
    let v2 = ghost::parse(&corpus("ghost/v2_export.json")).unwrap();
    let r2 = s
        .app
        .import(&v2, &opts(&s, "ghost2", true, false), &|_, _| {})
        .await
        .unwrap();
    assert_eq!(r2.accounts_made, 0);
    assert_eq!(r2.accounts_matched, 1);
    assert_eq!(r2.stories, 7);
    assert!(
        r2.notes.iter().any(|n| n.contains("slug")),
        "{:#?}",
        r2.notes
    );
}

#[tokio::test]
async fn a_featured_picture_comes_from_the_uploads_folder() {
    let s = site().await;
    let uploads = s.media.parent().unwrap().join("uploads");
    std::fs::create_dir_all(uploads.join("2020/01")).unwrap();
    let png = std::fs::read_dir(&s.media)
        .unwrap()
        .flatten()
        .find(|e| e.path().extension().is_some_and(|x| x == "png"))
        .unwrap()
        .path();
    std::fs::copy(&png, uploads.join("2020/01/p.png")).unwrap();
    let x = r#"<?xml version="1.0"?><rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><wp:wxr_version>1.2</wp:wxr_version>
<wp:author><wp:author_login>ann</wp:author_login><wp:author_email>ann@example.org</wp:author_email><wp:author_display_name>Ann Lee</wp:author_display_name></wp:author>
<item><title>With a picture</title><link>https://old.example/with-a-picture/</link><dc:creator>ann</dc:creator><content:encoded><![CDATA[Text.]]></content:encoded><wp:post_id>5</wp:post_id><wp:post_date_gmt>2020-01-02 03:04:05</wp:post_date_gmt><wp:post_name>with-a-picture</wp:post_name><wp:status>publish</wp:status><wp:post_type>post</wp:post_type><wp:postmeta><wp:meta_key>_thumbnail_id</wp:meta_key><wp:meta_value>6</wp:meta_value></wp:postmeta></item>
<item><title>p</title><wp:post_id>6</wp:post_id><wp:post_type>attachment</wp:post_type><wp:status>inherit</wp:status><wp:postmeta><wp:meta_key>_wp_attached_file</wp:meta_key><wp:meta_value>2020/01/p.png</wp:meta_value></wp:postmeta><wp:postmeta><wp:meta_key>_wp_attachment_image_alt</wp:meta_key><wp:meta_value>A chart</wp:meta_value></wp:postmeta></item>
<item><title>Escaping</title><dc:creator>ann</dc:creator><wp:post_id>7</wp:post_id><wp:post_name>escaping</wp:post_name><wp:status>publish</wp:status><wp:post_type>post</wp:post_type><wp:postmeta><wp:meta_key>_thumbnail_id</wp:meta_key><wp:meta_value>8</wp:meta_value></wp:postmeta></item>
<item><title>x</title><wp:post_id>8</wp:post_id><wp:post_type>attachment</wp:post_type><wp:status>inherit</wp:status><wp:postmeta><wp:meta_key>_wp_attached_file</wp:meta_key><wp:meta_value>../../etc/passwd</wp:meta_value></wp:postmeta></item>
</channel></rss>"#;
    let export = wxr::parse(x).unwrap();
    let mut o = opts(&s, "wordpress", true, false);
    o.uploads = Some(uploads);
    let report = s.app.import(&export, &o, &|_, _| {}).await.unwrap();
    assert_eq!(report.pictures, 1, "{report:#?}");
    assert!(report
        .notes
        .iter()
        .any(|n| n.contains("inside the uploads folder")));
    let story = s
        .store
        .find_story_by_slug(&Slug::parse("with-a-picture").unwrap())
        .await
        .unwrap()
        .unwrap();
    let image = s
        .store
        .get_image(story.hero_image_id.unwrap())
        .await
        .unwrap();
    assert_eq!(image.alt, "A chart");
    assert_eq!(
        story.published_at,
        Some(Utc.with_ymd_and_hms(2020, 1, 2, 3, 4, 5).unwrap())
    );
    let (status, loc, _) = get(&s.router, "/with-a-picture/").await;
    assert_eq!(
        (status.as_u16(), loc.as_str()),
        (301, "/article/with-a-picture")
    );
}

#[tokio::test]
async fn imported_authors_get_accounts_linked_to_their_bylines_and_old_query_addresses_redirect() {
    let s = site().await;
    let export = wxr::parse(&corpus(
        "wordpress/theme-test-data/themeunittestdata.wordpress.xml",
    ))
    .unwrap();
    let report = s
        .app
        .import(&export, &opts(&s, "wordpress", true, false), &|_, _| {})
        .await
        .unwrap();
    assert_eq!(report.accounts_made, 2, "{report:#?}");
    // Each author's account writes under the byline the import made for them.
    let addr = EmailAddress::parse("themeshaperwp+demos@gmail.com").unwrap();
    let (user, hash) = s.store.find_login(&addr).await.unwrap().unwrap();
    assert_eq!((user.role, user.disabled), (Role::Author, true));
    assert_ne!(hash, "", "no password set");
    let byline = user.author_id.expect("linked to a byline");
    let author = s.app.read().tax.author(byline).unwrap().clone();
    assert_eq!(author.name, "Theme Buster");
    // Their stories are theirs: byline, owner, author page, byline link.
    let item = export
        .importable()
        .find(|i| i.slug == "markup-html-tags-and-formatting")
        .unwrap();
    let key = item.authors[0].clone();
    let owner_email = export
        .authors
        .iter()
        .find(|a| a.key == key)
        .and_then(|a| a.email.clone())
        .unwrap();
    let (owner, _) = s
        .store
        .find_login(&EmailAddress::parse(&owner_email).unwrap())
        .await
        .unwrap()
        .unwrap();
    let story = s
        .store
        .find_story_by_slug(&Slug::parse("markup-html-tags-and-formatting").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(story.author_ids, vec![owner.author_id.unwrap()]);
    assert_eq!(s.store.story_owner(story.id).await.unwrap(), Some(owner.id));
    let owner_byline = s
        .app
        .read()
        .tax
        .author(owner.author_id.unwrap())
        .unwrap()
        .slug
        .to_string();
    let (status, _, page) = get(&s.router, &format!("/author/{owner_byline}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("/article/markup-html-tags-and-formatting"));
    let (_, _, article) = get(&s.router, "/article/markup-html-tags-and-formatting").await;
    assert!(article.contains(&format!("/author/{owner_byline}\"")));

    // Nobody logs in with an imported account, whatever the password.
    for pw in ["", "!", "a long enough password"] {
        assert!(s.app.login(addr.as_str(), pw, "192.0.2.1").await.is_err());
    }
    // Until an admin invites the address: the invitation takes the account over.
    let admin = s
        .app
        .add_user(
            "boss@example.org",
            "",
            Role::Admin,
            "a long enough password",
        )
        .await
        .unwrap();
    let token = s
        .app
        .invite(&admin, addr.as_str(), Role::Author)
        .await
        .unwrap();
    let taken = s
        .app
        .accept_invitation(&token, "Theme Buster", "a brand new password")
        .await
        .unwrap();
    assert_eq!(
        (taken.id, taken.disabled, taken.author_id),
        (user.id, false, Some(byline))
    );
    assert!(s
        .app
        .login(addr.as_str(), "a brand new password", "192.0.2.2")
        .await
        .is_ok());
    // An invitation to an address whose account has a password is still refused.
    let token = s
        .app
        .invite(&admin, addr.as_str(), Role::Editor)
        .await
        .unwrap();
    assert!(s
        .app
        .accept_invitation(&token, "Someone", "another long password")
        .await
        .is_err());

    // A second run changes nothing: no account, byline or story made, nothing written.
    let users = s.store.list_users().await.unwrap().len();
    let seq = s.store.last_change_seq().await.unwrap();
    let again = s
        .app
        .import(&export, &opts(&s, "wordpress", true, false), &|_, _| {})
        .await
        .unwrap();
    assert_eq!(
        (again.accounts_made, again.bylines_made, again.stories),
        (0, 0, 0)
    );
    assert_eq!(again.accounts_matched, 2);
    assert_eq!(s.store.list_users().await.unwrap().len(), users);
    assert_eq!(s.store.last_change_seq().await.unwrap(), seq);

    // WordPress's addresses by id answer 301 to the new ones.
    let (status, loc, _) = get(&s.router, &format!("/?p={}", item.source_id)).await;
    assert_eq!(
        (status, loc.as_str()),
        (
            StatusCode::MOVED_PERMANENTLY,
            "/article/markup-html-tags-and-formatting"
        )
    );
    let page = export
        .importable()
        .find(|i| i.kind == Some(ItemKind::Page) && i.slug == "page-image-alignment")
        .unwrap();
    let (status, loc, _) = get(
        &s.router,
        &format!("/index.php?page_id={}&utm_source=x", page.source_id),
    )
    .await;
    assert_eq!(
        (status, loc.as_str()),
        (StatusCode::MOVED_PERMANENTLY, "/page-image-alignment")
    );
    // A tag by its slug.
    let tag = s.app.read().tax.tags.first().unwrap().slug.to_string();
    let (status, loc, _) = get(&s.router, &format!("/?tag={tag}")).await;
    assert_eq!(
        (status, loc),
        (StatusCode::MOVED_PERMANENTLY, format!("/tag/{tag}"))
    );
    // Not imported, not public (a draft), or not an id: the home page as before.
    let draft = export
        .importable()
        .find(|i| i.kind == Some(ItemKind::Post) && i.status == Some(ItemStatus::NotPublic))
        .unwrap();
    for q in [
        "/?p=987654321".to_owned(),
        format!("/?p={}", draft.source_id),
        "/?p=-1".to_owned(),
        "/?p=1x".to_owned(),
        "/?tag=no-such-tag".to_owned(),
        "/?utm_source=x".to_owned(),
    ] {
        assert_eq!(get(&s.router, &q).await.0, StatusCode::OK, "{q}");
    }
    assert_eq!(get(&s.router, "/index.php?p=987654321").await.0, 404);
}
