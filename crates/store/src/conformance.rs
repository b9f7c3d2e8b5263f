//! The conformance suite: behaviour every [`Store`] backend must show.
//!
//! It is split in parts, one per section of the store ([`stories`], [`audience`], [`accounts`],
//! [`newsroom`], [`login`], [`wire`], [`sources`], [`jobs`], [`newsletter`], [`api_tokens`],
//! [`imports`], [`feedback`], [`webhooks`], [`secrets`], [`leases`]), so a backend can be brought up
//! section by section. A backend's tests run it all with
//! [`conformance_tests!`](crate::conformance_tests) (one `#[tokio::test]` per case, in a module
//! per part), given an expression that makes a fresh, empty, migrated store; or call
//! [`run_all`] or one part's `run` with a function making such stores. Each case panics with a
//! message on failure.
//!
//! Compiled only with the `conformance` feature, which backends enable in their
//! dev-dependencies, so the product does not carry it.

use crate::{ArticleRead, Conflict, ImportRecord, Store, StoreError};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use newsdesk_domain::*;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// Expands to one `#[tokio::test]` per conformance case, in a module per part (`stories::…`,
/// `jobs::…`); `$make` is an expression (it may `.await`) giving a fresh store (anything that
/// derefs to a `Store`).
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@table [tests $make]);
    };
    // The one list of parts and their cases; the modes below expand it.
    (@table $mode:tt) => {
        $crate::conformance_tests!(@each $mode
            stories [
                taxonomy_roundtrip upsert_renames_instead_of_duplicating story_roundtrip
                slug_is_unique stale_version_is_refused slug_change_keeps_redirect
                changes_are_monotonic_and_paged published_cards_exclude_drafts
                published_cards_come_in_keyset_pages
                batch_insert_is_atomic pages_roundtrip images_roundtrip
                missing_rows_are_not_found article_reads_what_the_page_needs
                article_read_follows_every_write
            ]
            audience [views_accumulate]
            accounts [accounts_and_sessions invitations_are_single_use]
            newsroom [
                every_save_keeps_a_revision corrections_move_the_story
                scheduled_stories_publish_once desk_queries_filter audit_log_pages
                presence_and_autosave
            ]
            login [
                second_factor_and_resets half_done_logins_and_the_login_throttle
                login_attempts_are_taken_atomically
            ]
            wire [
                wire_items_version_cluster_and_flag wire_embargoes_are_kept
                wire_items_after_follow_the_stored_order
            ]
            sources [sources_keep_their_health]
            jobs [jobs_are_claimed_once_retried_and_dead_lettered]
            newsletter [
                subscribers_opt_in_change_and_leave digests_are_made_once_and_sent_once
            ]
            api_tokens [api_tokens_are_found_by_hash_touched_and_revoked]
            imports [
                imports_are_remembered_with_their_old_addresses
                imported_accounts_are_linked_to_their_bylines
            ]
            feedback [feedback_queue_and_replies]
            webhooks [webhooks_deliver_each_event_once_per_hook]
            secrets [site_secrets_are_made_once]
            leases [leases_are_taken_renewed_and_taken_over_on_expiry]
        );
    };
    (@each [tests $make:expr] $($part:ident [$($case:ident)*])*) => {$(
        mod $part {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test]
                async fn $case() {
                    let store = $make;
                    $crate::conformance::$case(&*store).await;
                }
            )*
        }
    )*};
    (@each [parts] $($part:ident [$($case:ident)*])*) => {
        $(
            #[doc = concat!("The `", stringify!($part), "` part of the suite.")]
            pub mod $part {
                use super::{Case, MakeStore};

                /// This part's cases, by name.
                pub const CASES: &[(&str, Case)] = &[$(
                    (stringify!($case), |s| Box::pin(super::$case(s))),
                )*];

                /// Runs this part alone, each case on a fresh store from `make`.
                pub async fn run<F: MakeStore>(mut make: F) {
                    super::run_cases(stringify!($part), CASES, &mut make).await;
                }
            }
        )*

        /// Every part, by name, in order.
        pub const PARTS: &[(&str, &[(&str, Case)])] = &[$((stringify!($part), $part::CASES)),*];
    };
}

crate::conformance_tests!(@table [parts]);

/// One conformance case: given a fresh store, it panics if the store misbehaves.
pub type Case = for<'a> fn(&'a dyn Store) -> Pin<Box<dyn Future<Output = ()> + 'a>>;

/// Makes a fresh, empty, migrated store for each case.
pub trait MakeStore {
    /// The store's making.
    type Fut: Future<Output = Arc<dyn Store>>;
    /// A fresh store.
    fn make(&mut self) -> Self::Fut;
}

impl<F, Fut> MakeStore for F
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Arc<dyn Store>>,
{
    type Fut = Fut;
    fn make(&mut self) -> Fut {
        self()
    }
}

async fn run_cases<F: MakeStore>(part: &str, cases: &[(&str, Case)], make: &mut F) {
    for (name, case) in cases {
        let store = make.make().await;
        eprintln!("conformance: {part}::{name}");
        case(&*store).await;
    }
}

/// Runs the whole suite, part by part, each case on a fresh store from `make`.
pub async fn run_all<F: MakeStore>(mut make: F) {
    for (part, cases) in PARTS {
        run_cases(part, cases, &mut make).await;
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 3, 20, 46, 0)
        .single()
        .expect("valid date")
}

fn slug(s: &str) -> Slug {
    Slug::parse(s).expect("test slug")
}

struct Tax {
    sector: SectorId,
    editions: Vec<EditionId>,
    desk: DeskId,
    authors: Vec<AuthorId>,
    tags: Vec<TagId>,
}

async fn taxonomy(s: &dyn Store) -> Tax {
    let sector = s
        .upsert_sector(&slug("health"), "Health", 1)
        .await
        .expect("sector");
    let g = s
        .upsert_edition(&slug("global"), "Global", chrono_tz::UTC, 0)
        .await
        .expect("edition");
    let sa = s
        .upsert_edition(
            &slug("south-asia"),
            "South Asia",
            chrono_tz::Asia::Kolkata,
            2,
        )
        .await
        .expect("edition");
    let desk = s
        .upsert_desk(&slug("news-desk"), "newsdesk News Desk")
        .await
        .expect("desk");
    let a1 = s
        .upsert_author(
            &slug("asha-rao"),
            "Asha Rao",
            "Health writer.",
            Some(desk.id),
        )
        .await
        .expect("author");
    let a2 = s
        .upsert_author(&slug("li-wei"), "Li Wei", "", None)
        .await
        .expect("author");
    let t1 = s
        .upsert_tag(&slug("malaria"), "malaria")
        .await
        .expect("tag");
    let t2 = s
        .upsert_tag(&slug("vaccines"), "vaccines")
        .await
        .expect("tag");
    Tax {
        sector: sector.id,
        editions: vec![g.id, sa.id],
        desk: desk.id,
        authors: vec![a2.id, a1.id],
        tags: vec![t2.id, t1.id],
    }
}

fn story(tax: &Tax, s: &str, status: StoryStatus) -> StoryInput {
    StoryInput {
        slug: slug(s),
        kind: Kind::Opinion,
        status,
        headline: Headline::parse("Malaria vaccine reaches 12 districts — “a turning point”")
            .expect("headline"),
        summary: "Summary with ünïcode and <angle> brackets.".into(),
        body_md: "Body **bold**.".into(),
        body_html: "<p>Body <strong>bold</strong>.</p>".into(),
        sector_id: tax.sector,
        region: "India".into(),
        primary_edition_id: tax.editions[1],
        placements: vec![
            Placement {
                edition_id: tax.editions[0],
                rank: None,
            },
            Placement {
                edition_id: tax.editions[1],
                rank: Some(2),
            },
        ],
        desk_id: Some(tax.desk),
        author_ids: tax.authors.clone(),
        tag_ids: tax.tags.clone(),
        hero_image_id: None,
        video: Some("vid-0123456789abcdef.mp4".into()),
        provenance: Provenance::AgencyInputs,
        source: Some("Agency A".into()),
        created_at: t0(),
        updated_at: t0() + Duration::minutes(5),
        published_at: Some(t0()),
        embargo_until: Some(t0() + Duration::hours(1)),
    }
}

/// Sectors, editions, desks, authors and tags come back as saved, in their documented order.
pub async fn taxonomy_roundtrip(s: &dyn Store) {
    let tax = taxonomy(s).await;
    let sectors = s.list_sectors().await.expect("list");
    assert_eq!(sectors.len(), 1);
    assert_eq!(sectors[0].id, tax.sector);
    assert_eq!(sectors[0].name, "Health");
    let eds = s.list_editions().await.expect("list");
    assert_eq!(
        eds.iter().map(|e| e.slug.as_str()).collect::<Vec<_>>(),
        ["global", "south-asia"]
    );
    assert_eq!(eds[1].tz, chrono_tz::Asia::Kolkata);
    let authors = s.list_authors().await.expect("list");
    assert_eq!(
        authors.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        ["Asha Rao", "Li Wei"]
    );
    assert_eq!(authors[0].desk_id, Some(tax.desk));
    assert_eq!(authors[0].bio, "Health writer.");
    assert_eq!(s.list_desks().await.expect("list").len(), 1);
    let tags = s.list_tags().await.expect("list");
    assert_eq!(
        tags.iter().map(|t| t.slug.as_str()).collect::<Vec<_>>(),
        ["malaria", "vaccines"]
    );
}

/// Upserting an existing slug updates that row and keeps its id.
pub async fn upsert_renames_instead_of_duplicating(s: &dyn Store) {
    let a = s
        .upsert_sector(&slug("wash"), "Wash", 3)
        .await
        .expect("sector");
    let b = s
        .upsert_sector(&slug("wash"), "WASH", 4)
        .await
        .expect("sector");
    assert_eq!(a.id, b.id);
    let all = s.list_sectors().await.expect("list");
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].name, "WASH");
    assert_eq!(all[0].position, 4);
    let e1 = s
        .upsert_edition(&slug("pacific"), "Pacific", chrono_tz::UTC, 1)
        .await
        .expect("e");
    let e2 = s
        .upsert_edition(&slug("pacific"), "Pacific", chrono_tz::Australia::Sydney, 1)
        .await
        .expect("e");
    assert_eq!(e1.id, e2.id);
    assert_eq!(
        s.list_editions().await.expect("l")[0].tz,
        chrono_tz::Australia::Sydney
    );
}

/// A story comes back exactly as saved, with its lists in order, at version 1.
pub async fn story_roundtrip(s: &dyn Store) {
    let tax = taxonomy(s).await;
    let input = story(&tax, "malaria-vaccine", StoryStatus::Published);
    let saved = s.insert_story(&input).await.expect("insert");
    assert_eq!(saved.version, 1);
    assert_eq!(saved.input, input);
    let got = s.get_story(saved.id).await.expect("get");
    assert_eq!(got, saved);
    let by_slug = s
        .find_story_by_slug(&input.slug)
        .await
        .expect("find")
        .expect("some");
    assert_eq!(by_slug.id, saved.id);
    assert!(s
        .find_story_by_slug(&slug("nope"))
        .await
        .expect("find")
        .is_none());
    assert_eq!(s.count_stories().await.expect("count"), 1);
}

/// Two stories cannot share a slug.
pub async fn slug_is_unique(s: &dyn Store) {
    let tax = taxonomy(s).await;
    s.insert_story(&story(&tax, "same", StoryStatus::Draft))
        .await
        .expect("first");
    let err = s
        .insert_story(&story(&tax, "same", StoryStatus::Draft))
        .await;
    assert!(
        matches!(err, Err(StoreError::Conflict(Conflict::SlugTaken(_)))),
        "got {err:?}"
    );
    assert_eq!(s.count_stories().await.expect("count"), 1);
}

/// A save from a stale version is refused and changes nothing.
pub async fn stale_version_is_refused(s: &dyn Store) {
    let tax = taxonomy(s).await;
    let saved = s
        .insert_story(&story(&tax, "v", StoryStatus::Draft))
        .await
        .expect("insert");
    let mut edit = saved.input.clone();
    edit.summary = "second".into();
    edit.tag_ids = vec![tax.tags[1]];
    edit.placements = vec![];
    let v2 = s.update_story(saved.id, 1, &edit).await.expect("update");
    assert_eq!(v2.version, 2);
    assert_eq!(v2.input, edit);
    let mut stale = saved.input.clone();
    stale.summary = "stale".into();
    let err = s.update_story(saved.id, 1, &stale).await;
    assert!(
        matches!(
            err,
            Err(StoreError::Conflict(Conflict::StaleVersion {
                expected: 1,
                actual: 2
            }))
        ),
        "got {err:?}"
    );
    let now = s.get_story(saved.id).await.expect("get");
    assert_eq!(now.summary, "second");
    assert_eq!(now.version, 2);
    assert!(matches!(
        s.update_story(StoryId(987_654), 1, &edit).await,
        Err(StoreError::NotFound)
    ));
}

/// A renamed story keeps its old slug as a redirect, and nobody else can take it.
pub async fn slug_change_keeps_redirect(s: &dyn Store) {
    let tax = taxonomy(s).await;
    let saved = s
        .insert_story(&story(&tax, "old-name", StoryStatus::Published))
        .await
        .expect("i");
    let mut edit = saved.input.clone();
    edit.slug = slug("new-name");
    s.update_story(saved.id, saved.version, &edit)
        .await
        .expect("update");
    assert_eq!(
        s.find_slug_redirect(&slug("old-name"))
            .await
            .expect("redirect"),
        Some(slug("new-name"))
    );
    assert!(s
        .find_story_by_slug(&slug("old-name"))
        .await
        .expect("find")
        .is_none());
    assert!(s
        .find_slug_redirect(&slug("new-name"))
        .await
        .expect("r")
        .is_none());
    let err = s
        .insert_story(&story(&tax, "old-name", StoryStatus::Draft))
        .await;
    assert!(
        matches!(err, Err(StoreError::Conflict(Conflict::SlugTaken(_)))),
        "got {err:?}"
    );
    // Renaming twice: both old slugs lead to the newest.
    let cur = s.get_story(saved.id).await.expect("get");
    let mut again = cur.input.clone();
    again.slug = slug("newest-name");
    s.update_story(saved.id, cur.version, &again)
        .await
        .expect("update");
    for old in ["old-name", "new-name"] {
        assert_eq!(
            s.find_slug_redirect(&slug(old)).await.expect("r"),
            Some(slug("newest-name"))
        );
    }
}

/// Every visible write appends to the change log; positions only grow; paging works.
pub async fn changes_are_monotonic_and_paged(s: &dyn Store) {
    let tax = taxonomy(s).await;
    let start = s.last_change_seq().await.expect("seq");
    let a = s
        .insert_story(&story(&tax, "a", StoryStatus::Published))
        .await
        .expect("a");
    let b = s
        .insert_story(&story(&tax, "b", StoryStatus::Draft))
        .await
        .expect("b");
    s.update_story(a.id, 1, &a.input).await.expect("update");
    let page = StaticPage {
        slug: slug("about"),
        title: "About".into(),
        body_md: "x".into(),
        body_html: "<p>x</p>".into(),
        position: 1,
        updated_at: t0(),
    };
    s.upsert_page(&page).await.expect("page");
    let all = s.changes_since(start, 100).await.expect("changes");
    let story_ids: Vec<i64> = all
        .iter()
        .filter(|c| c.entity == ChangeEntity::Story)
        .map(|c| c.entity_id)
        .collect();
    assert_eq!(story_ids, [a.id.0, b.id.0, a.id.0]);
    assert!(all
        .iter()
        .any(|c| c.entity == ChangeEntity::Page && c.key == "about"));
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(
        s.last_change_seq().await.expect("seq"),
        all.last().expect("some").seq
    );
    let first_two = s.changes_since(start, 2).await.expect("page");
    assert_eq!(first_two.len(), 2);
    let rest = s.changes_since(first_two[1].seq, 100).await.expect("rest");
    assert_eq!(rest.len(), all.len() - 2);
    assert!(s
        .changes_since(s.last_change_seq().await.expect("s"), 10)
        .await
        .expect("c")
        .is_empty());
}

/// Cards list only published stories; `get_cards` returns any status and skips missing ids.
pub async fn published_cards_exclude_drafts(s: &dyn Store) {
    let tax = taxonomy(s).await;
    let p = s
        .insert_story(&story(&tax, "pub", StoryStatus::Published))
        .await
        .expect("p");
    let d = s
        .insert_story(&story(&tax, "draft", StoryStatus::Draft))
        .await
        .expect("d");
    let cards = s.list_published_cards().await.expect("cards");
    assert_eq!(cards.len(), 1);
    assert_eq!(cards[0], StoryCard::from(&p));
    let got = s
        .get_cards(&[d.id, StoryId(424_242), p.id])
        .await
        .expect("cards");
    assert_eq!(got.len(), 2);
    assert!(got
        .iter()
        .any(|c| c.id == d.id && c.status == StoryStatus::Draft));
}

/// Published cards page by id: each page at most `limit`, ids ascending from after the given
/// one, drafts skipped, and the pages together are exactly the whole list, lists included.
pub async fn published_cards_come_in_keyset_pages(s: &dyn Store) {
    let tax = taxonomy(s).await;
    let mut published = Vec::new();
    for i in 0..7 {
        let status = if i % 3 == 1 {
            StoryStatus::Draft
        } else {
            StoryStatus::Published
        };
        let mut input = story(&tax, &format!("paged-{i}"), status);
        // Different lists per story, so a page cannot take another story's.
        input.tag_ids = tax.tags.iter().take(i % 3).copied().collect();
        input.author_ids = tax.authors.iter().skip(i % 2).copied().collect();
        let saved = s.insert_story(&input).await.expect("insert");
        if status == StoryStatus::Published {
            published.push(saved);
        }
    }
    let whole = s.list_published_cards().await.expect("cards");
    assert_eq!(whole.len(), published.len());
    for limit in [1, 2, 3, 100] {
        let mut after = None;
        let mut paged = Vec::new();
        let mut pages = 0;
        loop {
            let page = s
                .list_published_cards_after(after, limit)
                .await
                .expect("page");
            assert!(page.len() <= limit, "a page holds at most its limit");
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            pages += 1;
            paged.extend(page);
            assert!(pages <= whole.len() + 1, "paging ends");
        }
        assert_eq!(paged, whole, "pages of {limit} are the whole list");
        assert!(paged.windows(2).all(|w| w[0].id < w[1].id));
        assert_eq!(pages, whole.len().div_ceil(limit));
    }
    for (card, story) in whole.iter().zip(&published) {
        assert_eq!(*card, StoryCard::from(story));
    }
    let last = published.last().expect("some").id;
    assert!(s
        .list_published_cards_after(Some(last), 10)
        .await
        .expect("after the last")
        .is_empty());
}

/// A batch with one bad row saves nothing; a good batch saves all.
pub async fn batch_insert_is_atomic(s: &dyn Store) {
    let tax = taxonomy(s).await;
    s.insert_story(&story(&tax, "taken", StoryStatus::Published))
        .await
        .expect("first");
    let bad = vec![
        story(&tax, "one", StoryStatus::Published),
        story(&tax, "taken", StoryStatus::Published),
    ];
    assert!(matches!(
        s.insert_stories(&bad).await,
        Err(StoreError::Conflict(Conflict::SlugTaken(_)))
    ));
    assert_eq!(s.count_stories().await.expect("count"), 1);
    let good: Vec<StoryInput> = (0..50)
        .map(|i| story(&tax, &format!("s-{i}"), StoryStatus::Published))
        .collect();
    let ids = s.insert_stories(&good).await.expect("batch");
    assert_eq!(ids.len(), 50);
    assert_eq!(s.count_stories().await.expect("count"), 51);
    assert_eq!(
        s.get_story(ids[49]).await.expect("get").slug.as_str(),
        "s-49"
    );
    assert_eq!(s.get_story(ids[7]).await.expect("get").tag_ids, tax.tags);
}

/// Static pages round-trip and list in footer order.
pub async fn pages_roundtrip(s: &dyn Store) {
    for (i, name) in ["privacy-policy", "about"].iter().enumerate() {
        s.upsert_page(&StaticPage {
            slug: slug(name),
            title: name.to_string(),
            body_md: "md".into(),
            body_html: "<p>md</p>".into(),
            position: 10 - i as i32,
            updated_at: t0(),
        })
        .await
        .expect("page");
    }
    let mut about = s
        .get_page(&slug("about"))
        .await
        .expect("get")
        .expect("some");
    assert_eq!(about.updated_at, t0());
    about.title = "About us".into();
    s.upsert_page(&about).await.expect("update");
    let pages = s.list_pages().await.expect("list");
    assert_eq!(
        pages.iter().map(|p| p.title.as_str()).collect::<Vec<_>>(),
        ["About us", "privacy-policy"]
    );
    assert!(s.get_page(&slug("nope")).await.expect("get").is_none());
}

/// View batches add up per story, edition and day.
pub async fn views_accumulate(s: &dyn Store) {
    let tax = taxonomy(s).await;
    let a = s
        .insert_story(&story(&tax, "a", StoryStatus::Published))
        .await
        .expect("a");
    let d1 = NaiveDate::from_ymd_opt(2025, 9, 1).expect("date");
    let d2 = NaiveDate::from_ymd_opt(2025, 9, 2).expect("date");
    let v = |day, views| ViewCount {
        story_id: a.id,
        edition_id: tax.editions[1],
        day,
        views,
    };
    s.add_views(&[v(d1, 3), v(d2, 4)]).await.expect("add");
    s.add_views(&[v(d2, 5)]).await.expect("add");
    let mut got = s.views_since(d2).await.expect("since");
    got.sort_by_key(|c| c.day);
    assert_eq!(got, vec![v(d2, 9)]);
    assert_eq!(s.views_since(d1).await.expect("since").len(), 2);
}

/// Image metadata round-trips.
pub async fn images_roundtrip(s: &dyn Store) {
    let input = ImageInput {
        key: "abc123".into(),
        ext: "png".into(),
        alt: "A well".into(),
        caption: "Villagers at a new well.".into(),
        credit: "Photo: newsdesk".into(),
        width: 1200,
        height: 675,
        widths: vec![480, 800, 1200],
    };
    let img = s.insert_image(&input).await.expect("insert");
    assert_eq!(img.widths, input.widths);
    assert_eq!(s.get_image(img.id).await.expect("get"), img);
    assert_eq!(s.list_images().await.expect("list"), vec![img]);
}

/// Asking for a missing row is `NotFound`, not a failure.
pub async fn missing_rows_are_not_found(s: &dyn Store) {
    assert!(matches!(
        s.get_story(StoryId(5)).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.get_image(ImageId(5)).await,
        Err(StoreError::NotFound)
    ));
}

fn audit(action: &str, user: Option<UserId>) -> AuditInput {
    AuditInput {
        at: t0(),
        user_id: user,
        action: action.into(),
        target: String::new(),
        detail: String::new(),
    }
}

fn email(s: &str) -> EmailAddress {
    EmailAddress::parse(s).expect("test e-mail")
}

/// Accounts: unique e-mail, login lookup, sessions, and disabling or a new password ends sessions.
pub async fn accounts_and_sessions(s: &dyn Store) {
    let u = s
        .create_user(
            &email("asha@example.org"),
            "Asha",
            Role::Editor,
            "hash-1",
            &audit("invite", None),
        )
        .await
        .expect("user");
    assert_eq!(u.role, Role::Editor);
    assert!(!u.disabled);
    let dup = s
        .create_user(
            &email("ASHA@example.org"),
            "Other",
            Role::Author,
            "h",
            &audit("x", None),
        )
        .await;
    assert!(
        matches!(dup, Err(StoreError::Conflict(Conflict::EmailTaken))),
        "got {dup:?}"
    );
    let (found, hash) = s
        .find_login(&email("asha@example.org"))
        .await
        .expect("find")
        .expect("some");
    assert_eq!((found.id, hash.as_str()), (u.id, "hash-1"));
    assert!(s
        .find_login(&email("nobody@example.org"))
        .await
        .expect("find")
        .is_none());
    let sess = SessionRecord {
        token_hash: "abc".into(),
        user_id: u.id,
        created_at: t0(),
        last_seen_at: t0(),
        csrf_token: "csrf".into(),
    };
    s.create_session(&sess).await.expect("session");
    let (got, who) = s.find_session("abc").await.expect("find").expect("some");
    assert_eq!((got.clone(), who.id), (sess.clone(), u.id));
    s.touch_session("abc", t0() + Duration::minutes(5))
        .await
        .expect("touch");
    assert_eq!(
        s.find_session("abc")
            .await
            .expect("f")
            .expect("s")
            .0
            .last_seen_at,
        t0() + Duration::minutes(5)
    );
    s.delete_session("abc").await.expect("delete");
    assert!(s.find_session("abc").await.expect("find").is_none());
    for t in ["s1", "s2"] {
        s.create_session(&SessionRecord {
            token_hash: t.into(),
            ..sess.clone()
        })
        .await
        .expect("s");
    }
    let disabled = s
        .update_user(u.id, Role::Author, true, &audit("disable", None))
        .await
        .expect("update");
    assert!(disabled.disabled);
    assert_eq!(disabled.role, Role::Author);
    assert!(
        s.find_session("s1").await.expect("f").is_none(),
        "disabling ends every session"
    );
    assert!(s.find_session("s2").await.expect("f").is_none());
    s.update_user(u.id, Role::Author, false, &audit("enable", None))
        .await
        .expect("update");
    s.create_session(&SessionRecord {
        token_hash: "s3".into(),
        ..sess.clone()
    })
    .await
    .expect("s");
    s.set_password(u.id, "hash-2", &audit("password", Some(u.id)))
        .await
        .expect("password");
    assert!(
        s.find_session("s3").await.expect("f").is_none(),
        "a new password ends sessions"
    );
    assert_eq!(
        s.find_login(&email("asha@example.org"))
            .await
            .expect("f")
            .expect("s")
            .1,
        "hash-2"
    );
    assert_eq!(s.list_users().await.expect("list").len(), 1);
    assert!(matches!(
        s.update_user(UserId(999), Role::Admin, false, &audit("x", None))
            .await,
        Err(StoreError::NotFound)
    ));
}

/// An invitation can be used once, and not after it expires.
pub async fn invitations_are_single_use(s: &dyn Store) {
    let inv = Invitation {
        email: email("new@example.org"),
        role: Role::Author,
        invited_by: None,
        expires_at: t0() + Duration::days(2),
    };
    s.create_invitation("tok", &inv).await.expect("create");
    assert_eq!(
        s.take_invitation("tok", t0()).await.expect("take"),
        Some(inv.clone())
    );
    assert_eq!(
        s.take_invitation("tok", t0()).await.expect("take"),
        None,
        "single use"
    );
    s.create_invitation("old", &inv).await.expect("create");
    assert_eq!(
        s.take_invitation("old", t0() + Duration::days(3))
            .await
            .expect("take"),
        None,
        "expired"
    );
    assert_eq!(s.take_invitation("nope", t0()).await.expect("take"), None);
}

/// Creating and saving keep revisions with who and what; the owner is remembered.
pub async fn every_save_keeps_a_revision(s: &dyn Store) {
    let tax = taxonomy(s).await;
    let u = s
        .create_user(
            &email("w@example.org"),
            "W",
            Role::Author,
            "h",
            &audit("x", None),
        )
        .await
        .expect("u");
    let first = story(&tax, "rev", StoryStatus::Draft);
    let created = s
        .create_story(&first, u.id, &audit("create", Some(u.id)))
        .await
        .expect("create");
    assert_eq!(s.story_owner(created.id).await.expect("owner"), Some(u.id));
    let mut second = first.clone();
    second.headline = Headline::parse("Second headline").expect("h");
    second.updated_at = t0() + Duration::hours(1);
    let saved = s
        .save_story(created.id, 1, &second, Some(u.id), None)
        .await
        .expect("save");
    assert_eq!(saved.version, 2);
    let stale = s.save_story(created.id, 1, &first, Some(u.id), None).await;
    assert!(matches!(
        stale,
        Err(StoreError::Conflict(Conflict::StaleVersion { .. }))
    ));
    let revs = s.list_revisions(created.id).await.expect("revs");
    assert_eq!(revs.iter().map(|r| r.version).collect::<Vec<_>>(), [2, 1]);
    assert_eq!(revs[0].headline, "Second headline");
    assert_eq!(revs[1].by, Some(u.id));
    let r1 = s.get_revision(revs[1].id).await.expect("rev");
    assert_eq!(r1.input, first);
    assert_eq!(r1.story_id, created.id);
    // Plain updates (imports, the system) keep revisions too.
    s.update_story(created.id, 2, &first).await.expect("update");
    assert_eq!(s.list_revisions(created.id).await.expect("revs").len(), 3);
}

/// A correction and the story's new `updated_at` are saved together.
pub async fn corrections_move_the_story(s: &dyn Store) {
    let tax = taxonomy(s).await;
    let published = s
        .insert_story(&story(&tax, "c", StoryStatus::Published))
        .await
        .expect("i");
    let mut moved = published.input.clone();
    moved.updated_at = t0() + Duration::days(1);
    let before = s.last_change_seq().await.expect("seq");
    let (saved, c) = s
        .add_correction(
            published.id,
            1,
            &moved,
            "It said 12 districts.",
            "It is 14 districts.",
            &audit("correct", None),
        )
        .await
        .expect("correct");
    assert_eq!(saved.updated_at, t0() + Duration::days(1));
    assert_eq!(c.at, t0() + Duration::days(1));
    assert!(
        s.last_change_seq().await.expect("seq") > before,
        "a correction is a visible change"
    );
    assert_eq!(
        s.list_corrections(published.id).await.expect("list"),
        vec![c.clone()]
    );
    assert_eq!(s.recent_corrections(10).await.expect("recent"), vec![c]);
    let stale = s
        .add_correction(published.id, 1, &moved, "a", "b", &audit("correct", None))
        .await;
    assert!(matches!(
        stale,
        Err(StoreError::Conflict(Conflict::StaleVersion { .. }))
    ));
    assert_eq!(
        s.list_corrections(published.id).await.expect("list").len(),
        1,
        "nothing half-saved"
    );
}

/// An article's one read gives what the separate reads give: the story, its corrections oldest
/// first, its lineage by item id with each item's first link; a missing story is not found.
pub async fn article_reads_what_the_page_needs(s: &dyn Store) {
    let tax = taxonomy(s).await;
    let u = s
        .create_user(
            &email("a@example.org"),
            "A",
            Role::Editor,
            "h",
            &audit("x", None),
        )
        .await
        .expect("u");
    let tags = WireTags::default();
    let mut linked = wire("Agency A", "a-1", 2, "Floods");
    linked.links = vec![
        "https://agency.example/a-1".into(),
        "https://agency.example/other".into(),
    ];
    let (a, _) = s
        .store_wire_item(&linked, "h1", ClusterId(7), &tags, t0())
        .await
        .expect("a");
    let (b, _) = s
        .store_wire_item(
            &wire("Agency B", "b-1", 1, "Rain"),
            "h2",
            ClusterId(7),
            &tags,
            t0(),
        )
        .await
        .expect("b");
    // Lineage given out of order: both reads list it by item id.
    let created = s
        .create_story_from_wire(
            &story(&tax, "article-read", StoryStatus::Published),
            u.id,
            &audit("create", Some(u.id)),
            &[(b, 1), (a, 2)],
        )
        .await
        .expect("story");
    let mut version = created.version;
    let mut input = created.input.clone();
    for (i, (wrong, right)) in [("12", "14"), ("Monday", "Tuesday")].iter().enumerate() {
        input.updated_at = t0() + Duration::days(i as i64 + 1);
        let (saved, _) = s
            .add_correction(
                created.id,
                version,
                &input,
                wrong,
                right,
                &audit("correct", None),
            )
            .await
            .expect("correct");
        version = saved.version;
    }
    let read = s.get_article(created.id).await.expect("article");
    assert_eq!(read.story, s.get_story(created.id).await.expect("story"));
    let corrections = s.list_corrections(created.id).await.expect("corrections");
    assert_eq!(corrections.len(), 2);
    assert_eq!(
        read.corrections, corrections,
        "the same corrections, oldest first"
    );
    let lineage = s.lineage(created.id).await.expect("lineage");
    assert_eq!(
        read.lineage
            .iter()
            .map(|l| (l.item, l.version))
            .collect::<Vec<_>>(),
        lineage,
        "the same lineage, by item id"
    );
    let mut links = Vec::new();
    for (item, _) in &lineage {
        links.push(
            s.get_wire_item(*item)
                .await
                .expect("item")
                .item
                .links
                .first()
                .cloned(),
        );
    }
    assert_eq!(
        read.lineage
            .iter()
            .map(|l| l.link.clone())
            .collect::<Vec<_>>(),
        links,
        "each item's first link"
    );
    assert_eq!(links.iter().flatten().count(), 1);
    // A story with neither corrections nor lineage.
    let plain = s
        .insert_story(&story(&tax, "plain", StoryStatus::Published))
        .await
        .expect("plain");
    let read = s.get_article(plain.id).await.expect("plain article");
    assert_eq!(read.story, plain);
    assert!(read.corrections.is_empty() && read.lineage.is_empty());
    assert!(matches!(
        s.get_article(StoryId(999_999)).await,
        Err(StoreError::NotFound)
    ));
}

/// The article read keeps up with every write that changes what it shows: each way a story is
/// saved (insert, batch insert, update, the newsroom's create and save, a correction, a story
/// made from agency items once or with lineage, an import, scheduled publication, an unpublish
/// and a kill), lists reordered, shortened, emptied and refilled: after each, its story is the
/// one the separate read gives (the lists read from their own tables), with its corrections and
/// lineage.
pub async fn article_read_follows_every_write(s: &dyn Store) {
    let tax = taxonomy(s).await;
    let u = s
        .create_user(
            &email("w@example.org"),
            "W",
            Role::Editor,
            "h",
            &audit("x", None),
        )
        .await
        .expect("u");
    async fn same(s: &dyn Store, id: StoryId, what: &str) -> ArticleRead {
        let read = s.get_article(id).await.expect(what);
        assert_eq!(read.story, s.get_story(id).await.expect(what), "{what}");
        assert_eq!(
            read.corrections,
            s.list_corrections(id).await.expect(what),
            "{what}"
        );
        assert_eq!(
            read.lineage
                .iter()
                .map(|l| (l.item, l.version))
                .collect::<Vec<_>>(),
            s.lineage(id).await.expect(what),
            "{what}"
        );
        read
    }
    let p = |e: EditionId, rank| Placement {
        edition_id: e,
        rank,
    };
    // Insert, then updates that move every list.
    let mut input = story(&tax, "follows", StoryStatus::Published);
    let st = s.insert_story(&input).await.expect("insert");
    same(s, st.id, "insert").await;
    input.tag_ids.reverse();
    input.author_ids.truncate(1);
    input.placements = vec![p(tax.editions[1], Some(-3)), p(tax.editions[0], Some(7))];
    let st = s.update_story(st.id, st.version, &input).await.expect("u");
    let read = same(s, st.id, "update").await;
    assert_eq!(read.story.input.tag_ids, [tax.tags[1], tax.tags[0]]);
    assert_eq!(read.story.input.placements[0].rank, Some(-3));
    input.tag_ids.clear();
    input.author_ids.clear();
    input.placements.clear();
    let st = s.update_story(st.id, st.version, &input).await.expect("u");
    let read = same(s, st.id, "update to empty lists").await;
    assert!(read.story.input.placements.is_empty() && read.story.input.tag_ids.is_empty());
    input.tag_ids = vec![tax.tags[1]];
    input.author_ids = tax.authors.clone();
    input.placements = vec![p(tax.editions[0], None)];
    let st = s.update_story(st.id, st.version, &input).await.expect("u");
    same(s, st.id, "update from empty lists").await;
    // A batch.
    let ids = s
        .insert_stories(&[
            story(&tax, "batch-a", StoryStatus::Published),
            StoryInput {
                tag_ids: vec![],
                ..story(&tax, "batch-b", StoryStatus::Published)
            },
        ])
        .await
        .expect("batch");
    for id in ids {
        same(s, id, "batch insert").await;
    }
    // The newsroom: create, save, correct, unpublish, kill.
    let mut input = story(&tax, "desk", StoryStatus::Draft);
    let st = s
        .create_story(&input, u.id, &audit("create", Some(u.id)))
        .await
        .expect("create");
    same(s, st.id, "create").await;
    input.status = StoryStatus::Published;
    input.author_ids.reverse();
    let st = s
        .save_story(st.id, st.version, &input, Some(u.id), None)
        .await
        .expect("save");
    same(s, st.id, "save").await;
    input.tag_ids.truncate(1);
    let (st, _) = s
        .add_correction(st.id, st.version, &input, "12", "14", &audit("c", None))
        .await
        .expect("correct");
    let read = same(s, st.id, "correction").await;
    assert_eq!(read.corrections.len(), 1);
    assert_eq!(read.story.input.tag_ids, [tax.tags[0]]);
    input.status = StoryStatus::Draft;
    let st = s
        .save_story(st.id, st.version, &input, Some(u.id), None)
        .await
        .expect("unpublish");
    let read = same(s, st.id, "unpublish").await;
    assert_eq!(read.story.input.status, StoryStatus::Draft);
    input.status = StoryStatus::Killed;
    let st = s
        .save_story(st.id, st.version, &input, Some(u.id), None)
        .await
        .expect("kill");
    let read = same(s, st.id, "kill").await;
    assert_eq!(read.story.input.status, StoryStatus::Killed);
    assert_eq!(read.corrections.len(), 1);
    // Made from agency items: with lineage, and once from one item.
    let tags = WireTags::default();
    let (a, _) = s
        .store_wire_item(
            &wire("Agency F", "f-1", 1, "One"),
            "hf1",
            ClusterId(9),
            &tags,
            t0(),
        )
        .await
        .expect("a");
    let (b, _) = s
        .store_wire_item(
            &wire("Agency F", "f-2", 1, "Two"),
            "hf2",
            ClusterId(9),
            &tags,
            t0(),
        )
        .await
        .expect("b");
    let st = s
        .create_story_from_wire(
            &story(&tax, "from-wire", StoryStatus::Published),
            u.id,
            &audit("create", Some(u.id)),
            &[(b, 1), (a, 1)],
        )
        .await
        .expect("from wire");
    let read = same(s, st.id, "from wire").await;
    assert_eq!(read.lineage.len(), 2);
    let (c, _) = s
        .store_wire_item(
            &wire("Agency F", "f-3", 1, "Three"),
            "hf3",
            ClusterId(9),
            &tags,
            t0(),
        )
        .await
        .expect("c");
    let once = s
        .create_story_from_wire_once(
            &StoryInput {
                placements: vec![p(tax.editions[1], None)],
                ..story(&tax, "from-wire-once", StoryStatus::Published)
            },
            u.id,
            &audit("create", Some(u.id)),
            (c, 1),
        )
        .await
        .expect("once")
        .expect("made");
    assert_eq!(same(s, once.id, "from wire once").await.lineage.len(), 1);
    // An import.
    let imported = s
        .create_imported_story(
            &ImportRecord {
                source: "wordpress".into(),
                source_id: "77".into(),
                old_paths: vec![],
            },
            &StoryInput {
                author_ids: vec![tax.authors[1]],
                ..story(&tax, "imported", StoryStatus::Published)
            },
            None,
            &audit("import", None),
        )
        .await
        .expect("import");
    same(s, imported.id, "import").await;
    // Scheduled publication.
    let mut due = story(&tax, "due-later", StoryStatus::Scheduled);
    due.published_at = Some(t0() + Duration::hours(1));
    due.embargo_until = None;
    let due = s.insert_story(&due).await.expect("scheduled");
    assert_eq!(
        s.publish_due(t0() + Duration::hours(2)).await.expect("due"),
        [due.id]
    );
    let read = same(s, due.id, "scheduled publication").await;
    assert_eq!(read.story.input.status, StoryStatus::Published);
}

/// A due scheduled story is published exactly once; a later one waits.
pub async fn scheduled_stories_publish_once(s: &dyn Store) {
    let tax = taxonomy(s).await;
    let mut due = story(&tax, "due", StoryStatus::Scheduled);
    due.published_at = Some(t0() + Duration::hours(1));
    due.embargo_until = None;
    let mut later = story(&tax, "later", StoryStatus::Scheduled);
    later.published_at = Some(t0() + Duration::hours(5));
    let due = s.insert_story(&due).await.expect("i");
    let later = s.insert_story(&later).await.expect("i");
    assert!(s.publish_due(t0()).await.expect("none yet").is_empty());
    let now = t0() + Duration::hours(2);
    assert_eq!(s.publish_due(now).await.expect("publish"), vec![due.id]);
    assert!(
        s.publish_due(now).await.expect("again").is_empty(),
        "exactly once"
    );
    let got = s.get_story(due.id).await.expect("get");
    assert_eq!(got.status, StoryStatus::Published);
    assert_eq!(
        got.published_at,
        Some(t0() + Duration::hours(1)),
        "published at its scheduled time"
    );
    assert_eq!(
        s.get_story(later.id).await.expect("get").status,
        StoryStatus::Scheduled
    );
    assert!(s
        .list_audit(10, None)
        .await
        .expect("audit")
        .iter()
        .any(|a| a.action == "publish" && a.target == format!("story:{}", due.id)));
}

/// Newsroom lists filter by status, owner and headline text.
pub async fn desk_queries_filter(s: &dyn Store) {
    let tax = taxonomy(s).await;
    let u = s
        .create_user(
            &email("o@example.org"),
            "O",
            Role::Author,
            "h",
            &audit("x", None),
        )
        .await
        .expect("u");
    let mut mine = story(&tax, "mine", StoryStatus::Draft);
    mine.headline = Headline::parse("Flood 100% warning").expect("h");
    s.create_story(&mine, u.id, &audit("create", Some(u.id)))
        .await
        .expect("c");
    let economy = s
        .upsert_sector(&slug("economy"), "Economy", 2)
        .await
        .expect("sector");
    let mut other = story(&tax, "other", StoryStatus::InReview);
    other.sector_id = economy.id;
    other.primary_edition_id = tax.editions[0];
    other.placements = vec![Placement {
        edition_id: tax.editions[0],
        rank: None,
    }];
    other.desk_id = None;
    other.author_ids = vec![tax.authors[1]];
    s.insert_story(&other).await.expect("i");
    let only = |q: DeskQuery| async move {
        let mut names: Vec<String> = s
            .list_desk_stories(&DeskQuery { limit: 50, ..q })
            .await
            .expect("q")
            .into_iter()
            .map(|r| r.card.slug.to_string())
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        only(DeskQuery {
            sector: Some(tax.sector),
            ..Default::default()
        })
        .await,
        ["mine"]
    );
    assert_eq!(
        only(DeskQuery {
            edition: Some(tax.editions[1]),
            ..Default::default()
        })
        .await,
        ["mine"]
    );
    assert_eq!(
        only(DeskQuery {
            edition: Some(tax.editions[0]),
            ..Default::default()
        })
        .await,
        ["mine", "other"]
    );
    assert_eq!(
        only(DeskQuery {
            desk: Some(tax.desk),
            ..Default::default()
        })
        .await,
        ["mine"]
    );
    assert_eq!(
        only(DeskQuery {
            author: Some(tax.authors[0]),
            ..Default::default()
        })
        .await,
        ["mine"]
    );
    assert_eq!(
        only(DeskQuery {
            author: Some(tax.authors[1]),
            sector: Some(economy.id),
            ..Default::default()
        })
        .await,
        ["other"]
    );
    let all = s
        .list_desk_stories(&DeskQuery {
            limit: 50,
            ..Default::default()
        })
        .await
        .expect("q");
    assert_eq!(all.len(), 2);
    let drafts = s
        .list_desk_stories(&DeskQuery {
            statuses: vec![StoryStatus::Draft],
            limit: 50,
            ..Default::default()
        })
        .await
        .expect("q");
    assert_eq!(drafts.len(), 1);
    assert_eq!(drafts[0].created_by, Some(u.id));
    let owned = s
        .list_desk_stories(&DeskQuery {
            owner: Some(u.id),
            limit: 50,
            ..Default::default()
        })
        .await
        .expect("q");
    assert_eq!(owned.len(), 1);
    let text = s
        .list_desk_stories(&DeskQuery {
            text: Some("100%".into()),
            limit: 50,
            ..Default::default()
        })
        .await
        .expect("q");
    assert_eq!(text.len(), 1, "% is matched literally");
    let none = s
        .list_desk_stories(&DeskQuery {
            text: Some("%".into()),
            statuses: vec![StoryStatus::InReview],
            limit: 50,
            ..Default::default()
        })
        .await
        .expect("q");
    assert!(none.is_empty());
}

/// Audit lines come newest first and page by id.
pub async fn audit_log_pages(s: &dyn Store) {
    for i in 0..5 {
        s.record_audit(&AuditInput {
            at: t0(),
            user_id: None,
            action: format!("a{i}"),
            target: "t".into(),
            detail: "d".into(),
        })
        .await
        .expect("audit");
    }
    let first = s.list_audit(2, None).await.expect("list");
    assert_eq!(
        first.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(),
        ["a4", "a3"]
    );
    let next = s.list_audit(10, Some(first[1].id)).await.expect("list");
    assert_eq!(
        next.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(),
        ["a2", "a1", "a0"]
    );
}

/// Presence is per user and time-windowed; autosaves are one per user and story.
pub async fn presence_and_autosave(s: &dyn Store) {
    let tax = taxonomy(s).await;
    let a = s
        .create_user(
            &email("a@example.org"),
            "A",
            Role::Editor,
            "h",
            &audit("x", None),
        )
        .await
        .expect("u");
    let b = s
        .create_user(
            &email("b@example.org"),
            "B",
            Role::Editor,
            "h",
            &audit("x", None),
        )
        .await
        .expect("u");
    let st = s
        .insert_story(&story(&tax, "p", StoryStatus::Draft))
        .await
        .expect("i");
    s.touch_presence(st.id, a.id, t0()).await.expect("touch");
    s.touch_presence(st.id, b.id, t0() + Duration::minutes(5))
        .await
        .expect("touch");
    s.touch_presence(st.id, a.id, t0() + Duration::minutes(6))
        .await
        .expect("touch again");
    let here = s
        .presence(st.id, t0() + Duration::minutes(4))
        .await
        .expect("presence");
    assert_eq!(
        here.iter().map(|(u, _)| u.id).collect::<Vec<_>>(),
        [a.id, b.id]
    );
    assert_eq!(
        s.presence(st.id, t0() + Duration::minutes(7))
            .await
            .expect("p")
            .len(),
        0
    );
    assert!(s.get_autosave(st.id, a.id).await.expect("g").is_none());
    s.put_autosave(st.id, a.id, t0(), "{\"headline\":\"one\"}")
        .await
        .expect("put");
    s.put_autosave(
        st.id,
        a.id,
        t0() + Duration::minutes(1),
        "{\"headline\":\"two\"}",
    )
    .await
    .expect("put");
    let (at, form) = s.get_autosave(st.id, a.id).await.expect("g").expect("some");
    assert_eq!(
        (at, form.as_str()),
        (t0() + Duration::minutes(1), "{\"headline\":\"two\"}")
    );
    assert!(
        s.get_autosave(st.id, b.id).await.expect("g").is_none(),
        "autosaves are per user"
    );
    s.delete_autosave(st.id, a.id).await.expect("delete");
    assert!(s.get_autosave(st.id, a.id).await.expect("g").is_none());
}

/// TOTP secrets, replay protection by step, and single-use expiring password resets.
pub async fn second_factor_and_resets(s: &dyn Store) {
    let u = s
        .create_user(
            &email("t@example.org"),
            "T",
            Role::Editor,
            "h",
            &audit("x", None),
        )
        .await
        .expect("u");
    assert!(!u.totp_enabled);
    assert_eq!(s.totp_secret(u.id).await.expect("secret"), None);
    s.set_totp(u.id, Some("JBSWY3DPEHPK3PXP"), &audit("totp", Some(u.id)))
        .await
        .expect("set");
    assert!(s.get_user(u.id).await.expect("get").totp_enabled);
    assert_eq!(
        s.totp_secret(u.id).await.expect("secret").as_deref(),
        Some("JBSWY3DPEHPK3PXP")
    );
    assert!(s.use_totp_step(u.id, 100).await.expect("use"));
    assert!(
        !s.use_totp_step(u.id, 100).await.expect("replay"),
        "a code is used once"
    );
    assert!(!s.use_totp_step(u.id, 99).await.expect("older"));
    assert!(s.use_totp_step(u.id, 101).await.expect("next"));
    s.set_totp(u.id, None, &audit("totp-off", Some(u.id)))
        .await
        .expect("unset");
    assert!(!s.get_user(u.id).await.expect("get").totp_enabled);
    s.create_password_reset("r1", u.id, t0() + Duration::hours(1))
        .await
        .expect("reset");
    assert_eq!(
        s.take_password_reset("r1", t0()).await.expect("take"),
        Some(u.id)
    );
    assert_eq!(
        s.take_password_reset("r1", t0()).await.expect("take"),
        None,
        "single use"
    );
    s.create_password_reset("r2", u.id, t0() + Duration::hours(1))
        .await
        .expect("reset");
    assert_eq!(
        s.take_password_reset("r2", t0() + Duration::hours(2))
            .await
            .expect("take"),
        None,
        "expired"
    );
}

fn wire(agency: &str, id: &str, version: i64, headline: &str) -> WireItem {
    WireItem {
        agency: agency.into(),
        agency_id: id.into(),
        version,
        headline: headline.into(),
        summary: "Summary.".into(),
        body_html: "<p>Body.</p>".into(),
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

/// A node's clusterer catches up on what other nodes stored: items after an id, in stored order,
/// paged, and only those received in the window.
pub async fn wire_items_after_follow_the_stored_order(s: &dyn Store) {
    assert_eq!(
        s.last_wire_item_id().await.expect("last"),
        WireItemId(0),
        "no items: 0"
    );
    let mut ids = Vec::new();
    for (i, name) in ["w-1", "w-2", "w-3", "w-4"].iter().enumerate() {
        let at = t0() + Duration::minutes(i as i64);
        let (id, _) = s
            .store_wire_item(
                &wire("Agency W", name, 1, name),
                name,
                ClusterId(700 + i as i64),
                &WireTags::default(),
                at,
            )
            .await
            .expect("store");
        ids.push(id);
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids grow: {ids:?}");
    assert_eq!(s.last_wire_item_id().await.expect("last"), ids[3]);
    let page = s
        .wire_items_after(WireItemId(0), t0(), 2)
        .await
        .expect("after");
    let got: Vec<_> = page.iter().map(|i| i.id).collect();
    assert_eq!(got, ids[..2].to_vec(), "first page, in stored order");
    let rest = s.wire_items_after(ids[1], t0(), 10).await.expect("after");
    let got: Vec<_> = rest.iter().map(|i| (i.id, i.cluster_id)).collect();
    assert_eq!(
        got,
        vec![(ids[2], ClusterId(702)), (ids[3], ClusterId(703))]
    );
    // The window leaves out what was received before it.
    let windowed = s
        .wire_items_after(WireItemId(0), t0() + Duration::minutes(2), 10)
        .await
        .expect("after");
    assert_eq!(windowed.len(), 2);
    assert!(s
        .wire_items_after(ids[3], t0(), 10)
        .await
        .expect("after")
        .is_empty());
}

/// One holder at a time: a lease is taken when free, renewed by its holder, refused to others
/// while it runs, taken over once it has expired, and released only by its holder.
pub async fn leases_are_taken_renewed_and_taken_over_on_expiry(s: &dyn Store) {
    let t = t0();
    let min = Duration::minutes(1);
    assert_eq!(s.lease("clusterer").await.expect("lease"), None);
    assert!(s
        .take_lease("clusterer", "a", t, t + min)
        .await
        .expect("take"));
    assert_eq!(
        s.lease("clusterer").await.expect("lease"),
        Some(("a".to_owned(), t + min))
    );
    // Another holder is refused while it runs, even a millisecond before it ends.
    assert!(!s
        .take_lease(
            "clusterer",
            "b",
            t + min - Duration::milliseconds(1),
            t + min * 2
        )
        .await
        .expect("take"));
    // Other names are other leases.
    assert!(s.take_lease("other", "b", t, t + min).await.expect("take"));
    // The holder renews.
    assert!(s
        .take_lease("clusterer", "a", t + Duration::seconds(30), t + min * 2)
        .await
        .expect("renew"));
    assert!(!s
        .take_lease(
            "clusterer",
            "b",
            t + min + Duration::seconds(1),
            t + min * 3
        )
        .await
        .expect("take"));
    // Released only by its holder.
    s.release_lease("clusterer", "b").await.expect("release");
    assert_eq!(
        s.lease("clusterer").await.expect("lease"),
        Some(("a".to_owned(), t + min * 2))
    );
    // Expired: taken over; the old holder can no longer renew it.
    assert!(s
        .take_lease("clusterer", "b", t + min * 2, t + min * 3)
        .await
        .expect("take over"));
    assert!(!s
        .take_lease("clusterer", "a", t + min * 2, t + min * 4)
        .await
        .expect("renew lost"));
    assert_eq!(
        s.lease("clusterer").await.expect("lease"),
        Some(("b".to_owned(), t + min * 3))
    );
    s.release_lease("clusterer", "b").await.expect("release");
    assert_eq!(s.lease("clusterer").await.expect("lease"), None);
    // Free again: anyone may take it at once.
    assert!(s
        .take_lease("clusterer", "a", t + min * 2, t + min * 3)
        .await
        .expect("take"));
}

/// An agency embargo is kept with its item (and a newer version replaces it); a cluster shows
/// the latest embargo of its usable items.
pub async fn wire_embargoes_are_kept(s: &dyn Store) {
    let tags = WireTags::default();
    let noon = t0() + Duration::hours(3);
    let mut a = wire("Agency A", "e-1", 1, "Embargoed report");
    a.embargo = Some(noon);
    let (id, _) = s
        .store_wire_item(&a, "h1", ClusterId(300), &tags, t0())
        .await
        .expect("store");
    assert_eq!(
        s.get_wire_item(id).await.expect("item").item.embargo,
        Some(noon)
    );
    assert_eq!(
        s.get_cluster(ClusterId(300))
            .await
            .expect("cluster")
            .0
            .embargo,
        Some(noon)
    );
    let mut b = wire("Agency B", "e-2", 1, "Later embargo");
    b.embargo = Some(noon + Duration::hours(1));
    s.store_wire_item(&b, "h2", ClusterId(300), &tags, t0())
        .await
        .expect("store b");
    let c = wire("Agency C", "e-3", 1, "No embargo");
    s.store_wire_item(&c, "h3", ClusterId(300), &tags, t0())
        .await
        .expect("store c");
    let listed = s
        .list_clusters(&WireQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("list");
    let cl = listed
        .iter()
        .find(|c| c.id == ClusterId(300))
        .expect("listed");
    assert_eq!(cl.embargo, Some(noon + Duration::hours(1)), "the latest");
    // The agency withdraws the later one: the cluster's embargo is the usable items' latest.
    b.version = 2;
    b.status = WireStatus::Withdrawn;
    s.store_wire_item(&b, "h2w", ClusterId(300), &tags, t0())
        .await
        .expect("withdraw");
    assert_eq!(
        s.get_cluster(ClusterId(300)).await.expect("c").0.embargo,
        Some(noon)
    );
    // A newer version lifts the embargo.
    a.version = 2;
    a.embargo = None;
    s.store_wire_item(&a, "h1b", ClusterId(300), &tags, t0())
        .await
        .expect("lift");
    assert_eq!(s.get_wire_item(id).await.expect("item").item.embargo, None);
    assert_eq!(
        s.get_cluster(ClusterId(300)).await.expect("c").0.embargo,
        None
    );
}

/// Agency items: new, exact re-send, newer and older versions, clusters, lineage and the flags a
/// withdrawal or a correction raises.
pub async fn wire_items_version_cluster_and_flag(s: &dyn Store) {
    let tax = taxonomy(s).await;
    let tags = WireTags {
        sector: Some("health".into()),
        editions: vec!["east-africa".into()],
        evidence: vec!["Kenyan".into()],
    };
    let a1 = wire("Agency A", "a-1", 1, "Floods hit the Kenyan coast");
    let (id, out) = s
        .store_wire_item(&a1, "h1", ClusterId(100), &tags, t0())
        .await
        .expect("store");
    assert_eq!(out, WireOutcome::New);
    assert_eq!(
        s.store_wire_item(&a1, "h1", ClusterId(100), &tags, t0())
            .await
            .expect("again")
            .1,
        WireOutcome::Duplicate,
        "an exact re-send makes no second item"
    );
    let mut b1 = wire("Agency B", "b-1", 1, "Kenya floods: coast under water");
    b1.urgency = Some(1);
    b1.language = Some("sw".into());
    s.store_wire_item(
        &b1,
        "h2",
        ClusterId(100),
        &tags,
        t0() + Duration::minutes(5),
    )
    .await
    .expect("store b");
    let other = wire("Agency A", "a-2", 1, "Budget passed");
    s.store_wire_item(
        &other,
        "h3",
        ClusterId(200),
        &WireTags::default(),
        t0() + Duration::minutes(6),
    )
    .await
    .expect("store other");
    let clusters = s
        .list_clusters(&WireQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(
        clusters.iter().map(|c| c.id).collect::<Vec<_>>(),
        [ClusterId(100), ClusterId(200)],
        "most urgent first"
    );
    assert_eq!(clusters[0].items, 2);
    assert_eq!(clusters[0].urgency, Some(1));
    assert_eq!(clusters[0].agencies, ["Agency A", "Agency B"]);
    assert_eq!(clusters[0].headline, "Floods hit the Kenyan coast");
    let by_agency = s
        .list_clusters(&WireQuery {
            agency: Some("Agency B".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("q");
    assert_eq!(by_agency.len(), 1);
    let by_lang = s
        .list_clusters(&WireQuery {
            language: Some("sw".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("q");
    assert_eq!(by_lang.len(), 1);
    let by_sector = s
        .list_clusters(&WireQuery {
            sector: Some("health".into()),
            edition: Some("east-africa".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("q");
    assert_eq!(
        by_sector.iter().map(|c| c.id).collect::<Vec<_>>(),
        [ClusterId(100)]
    );
    let recent = s
        .list_clusters(&WireQuery {
            since: Some(t0() + Duration::minutes(6)),
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("q");
    assert_eq!(
        recent.iter().map(|c| c.id).collect::<Vec<_>>(),
        [ClusterId(200)],
        "only clusters changed since the given time"
    );
    let (cl, items) = s.get_cluster(ClusterId(100)).await.expect("cluster");
    assert_eq!((cl.id, items.len()), (ClusterId(100), 2));
    assert_eq!(items[0].evidence, ["Kenyan"]);
    s.set_cluster_tags(ClusterId(200), Some("economy"), &["west-africa".to_owned()])
        .await
        .expect("retag");
    let (retagged, _) = s.get_cluster(ClusterId(200)).await.expect("cluster");
    assert_eq!(retagged.sector.as_deref(), Some("economy"));
    assert_eq!(retagged.editions, ["west-africa"]);
    assert!(matches!(
        s.set_cluster_tags(ClusterId(999_999), None, &[]).await,
        Err(StoreError::NotFound)
    ));
    s.set_cluster_summary(ClusterId(100), "Floods on the coast.", true)
        .await
        .expect("summary");
    assert!(
        s.get_cluster(ClusterId(100))
            .await
            .expect("c")
            .0
            .summary_accepted
    );
    // A story built on the item, then a correction and a withdrawal of the item.
    let u = s
        .create_user(
            &email("w@example.org"),
            "W",
            Role::Editor,
            "h",
            &audit("x", None),
        )
        .await
        .expect("u");
    let story = s
        .create_story_from_wire(
            &story(&tax, "from-wire", StoryStatus::Draft),
            u.id,
            &audit("create", Some(u.id)),
            &[(id, 1)],
        )
        .await
        .expect("story");
    assert_eq!(s.lineage(story.id).await.expect("lineage"), vec![(id, 1)]);
    let old = wire("Agency A", "a-1", 0, "Older");
    assert_eq!(
        s.store_wire_item(&old, "h0", ClusterId(100), &tags, t0())
            .await
            .expect("old")
            .1,
        WireOutcome::Duplicate,
        "an older version changes nothing"
    );
    let mut v2 = a1.clone();
    v2.version = 2;
    v2.headline = "Floods hit the Kenyan coast, 12 dead".into();
    assert_eq!(
        s.store_wire_item(&v2, "h4", ClusterId(100), &tags, t0() + Duration::hours(1))
            .await
            .expect("v2")
            .1,
        WireOutcome::Updated
    );
    assert_eq!(
        s.find_wire_item("Agency A", "a-1")
            .await
            .expect("find")
            .expect("some")
            .item
            .version,
        2
    );
    let mut gone = v2.clone();
    gone.version = 3;
    gone.status = WireStatus::Withdrawn;
    assert_eq!(
        s.store_wire_item(
            &gone,
            "h5",
            ClusterId(100),
            &tags,
            t0() + Duration::hours(2)
        )
        .await
        .expect("w")
        .1,
        WireOutcome::Withdrawn(vec![story.id])
    );
    let flags = s.lineage_flags().await.expect("flags");
    assert_eq!(flags.len(), 2, "corrected, then withdrawn: {flags:?}");
    assert!(flags[0].reason.contains("withdrawn"));
    s.resolve_lineage_flags(story.id, t0() + Duration::hours(3))
        .await
        .expect("resolve");
    assert!(s.lineage_flags().await.expect("flags").is_empty());
    assert_eq!(
        s.recent_wire_items(t0() + Duration::minutes(1))
            .await
            .expect("recent")
            .len(),
        3
    );
    // Batches: one transaction for many items, drafts that never overwrite an accepted summary.
    let batch = vec![
        (
            wire("Agency C", "c-1", 1, "One"),
            "hc1".to_owned(),
            ClusterId(300),
            WireTags::default(),
        ),
        (
            wire("Agency C", "c-2", 1, "Two"),
            "hc2".to_owned(),
            ClusterId(300),
            WireTags::default(),
        ),
        (
            wire("Agency C", "c-1", 1, "One"),
            "hc1".to_owned(),
            ClusterId(300),
            WireTags::default(),
        ),
    ];
    let outs = s.store_wire_items(&batch, t0()).await.expect("batch");
    assert_eq!(
        outs.iter().map(|o| o.1.clone()).collect::<Vec<_>>(),
        [WireOutcome::New, WireOutcome::New, WireOutcome::Duplicate]
    );
    assert_eq!(s.get_cluster(ClusterId(300)).await.expect("c").1.len(), 2);
    assert_eq!(
        s.get_cluster_head(ClusterId(300), 1)
            .await
            .expect("c")
            .1
            .len(),
        1
    );
    s.set_summary_drafts(&[
        (ClusterId(300), "Draft.".into()),
        (ClusterId(100), "Not over an accepted one.".into()),
    ])
    .await
    .expect("drafts");
    assert_eq!(
        s.get_cluster(ClusterId(300)).await.expect("c").0.summary,
        "Draft."
    );
    assert_eq!(
        s.get_cluster(ClusterId(100)).await.expect("c").0.summary,
        "Floods on the coast."
    );
    let found = s
        .find_wire_items(&[
            ("Agency C".into(), "c-2".into()),
            ("Agency C".into(), "nope".into()),
        ])
        .await
        .expect("find");
    assert_eq!(found.len(), 1);
}

/// Sources: creation, health after successes and failures, items per day.
pub async fn sources_keep_their_health(s: &dyn Store) {
    let src = s
        .create_source(
            "Agency A",
            Some("https://a.example/feed"),
            15,
            false,
            "tokhash",
            t0(),
        )
        .await
        .expect("create");
    assert_eq!(
        (src.name.as_str(), src.poll_minutes, src.failures),
        ("Agency A", 15, 0)
    );
    assert_eq!(src.next_poll_at, t0());
    assert_eq!(
        s.source_token_hash(src.id).await.expect("hash").as_deref(),
        Some("tokhash")
    );
    s.record_poll(
        src.id,
        &PollRecord {
            at: t0(),
            error: Some("timed out".into()),
            etag: None,
            last_modified: None,
            next_poll_at: t0() + Duration::minutes(2),
        },
    )
    .await
    .expect("fail");
    s.record_poll(
        src.id,
        &PollRecord {
            at: t0(),
            error: Some("timed out".into()),
            etag: None,
            last_modified: None,
            next_poll_at: t0() + Duration::minutes(4),
        },
    )
    .await
    .expect("fail");
    let got = s.get_source(src.id, t0()).await.expect("get");
    assert_eq!(
        (got.failures, got.last_error.as_deref()),
        (2, Some("timed out"))
    );
    s.record_poll(
        src.id,
        &PollRecord {
            at: t0() + Duration::minutes(5),
            error: None,
            etag: Some("\"e1\"".into()),
            last_modified: None,
            next_poll_at: t0() + Duration::minutes(20),
        },
    )
    .await
    .expect("ok");
    s.store_wire_item(
        &wire("Agency A", "x", 1, "h"),
        "h",
        ClusterId(1),
        &WireTags::default(),
        t0(),
    )
    .await
    .expect("item");
    let all = s
        .list_sources(t0() + Duration::hours(1))
        .await
        .expect("list");
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].failures, 0, "a success resets the count");
    assert_eq!(all[0].etag.as_deref(), Some("\"e1\""));
    assert_eq!(
        all[0].last_error.as_deref(),
        Some("timed out"),
        "the last error stays visible"
    );
    assert_eq!(all[0].items_last_day, 1);
    assert_eq!(
        s.list_sources(t0() + Duration::days(2))
            .await
            .expect("list")[0]
            .items_last_day,
        0
    );
    // Items per day: one item at t0, another a day and a half later.
    s.store_wire_item(
        &wire("Agency A", "y", 1, "h2"),
        "h2",
        ClusterId(2),
        &WireTags::default(),
        t0() + Duration::hours(36),
    )
    .await
    .expect("item");
    assert_eq!(
        s.source_items_per_day(src.id, t0() + Duration::hours(37), 3)
            .await
            .expect("per day"),
        [1, 1, 0]
    );
    // Settings: same address keeps the validators; a new one forgets them and is due now.
    assert_eq!(got.ca_pem, None);
    s.update_source(
        src.id,
        Some("https://a.example/feed"),
        30,
        false,
        Some("-----BEGIN CERTIFICATE-----"),
        t0(),
    )
    .await
    .expect("update");
    let got = s.get_source(src.id, t0()).await.expect("get");
    assert_eq!((got.poll_minutes, got.enabled), (30, false));
    assert_eq!(got.ca_pem.as_deref(), Some("-----BEGIN CERTIFICATE-----"));
    assert_eq!(got.etag.as_deref(), Some("\"e1\""));
    let later = t0() + Duration::hours(40);
    s.update_source(src.id, Some("https://a.example/v2"), 30, true, None, later)
        .await
        .expect("update");
    let got = s.get_source(src.id, later).await.expect("get");
    assert_eq!(got.url.as_deref(), Some("https://a.example/v2"));
    assert_eq!((got.etag, got.next_poll_at), (None, later));
    s.set_source_token(src.id, "newhash").await.expect("token");
    assert_eq!(
        s.source_token_hash(src.id).await.expect("hash").as_deref(),
        Some("newhash")
    );
    assert!(matches!(
        s.set_source_token(SourceId(987_654), "x").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.update_source(SourceId(987_654), None, 5, true, None, t0())
            .await,
        Err(StoreError::NotFound)
    ));
}

/// Half-done logins and failed-login counts live in the store, so every node sees them.
pub async fn half_done_logins_and_the_login_throttle(s: &dyn Store) {
    let u = s
        .create_user(
            &email("two@example.org"),
            "T",
            Role::Editor,
            "h",
            &audit("x", None),
        )
        .await
        .expect("u");
    let exp = t0() + Duration::minutes(5);
    s.create_pending_login("p1", u.id, exp)
        .await
        .expect("pending");
    assert_eq!(
        s.pending_login("p1").await.expect("read"),
        Some((u.id, exp))
    );
    assert_eq!(s.pending_login("nope").await.expect("read"), None);
    s.end_pending_login("p1").await.expect("end");
    assert_eq!(s.pending_login("p1").await.expect("read"), None);
    // Long-expired ones are forgotten when a new one starts.
    s.create_pending_login("old", u.id, t0() - Duration::days(3))
        .await
        .expect("pending");
    s.create_pending_login("p2", u.id, exp)
        .await
        .expect("pending");
    assert_eq!(s.pending_login("old").await.expect("read"), None);
    assert!(s.pending_login("p2").await.expect("read").is_some());

    let window = Duration::minutes(15);
    let take = |key: &'static str, limit: usize, at: DateTime<Utc>| async move {
        s.take_login_attempt(&[(key, limit)], at, at - window, at - window)
            .await
            .expect("take")
    };
    for i in 0..5 {
        assert!(take("account:two@example.org", 5, t0() + Duration::minutes(i)).await);
    }
    assert!(
        !take("account:two@example.org", 5, t0() + Duration::minutes(5)).await,
        "the sixth is refused"
    );
    assert!(take("address:10.0.0.1", 20, t0() + Duration::minutes(10)).await);
    let n = |since| s.login_failures_since("account:two@example.org", since);
    assert_eq!(
        n(t0() - window).await.expect("n"),
        5,
        "a refusal is not counted"
    );
    // A sliding window: at t0+16 min the first two (t0, t0+1) are out.
    assert_eq!(
        n(t0() + Duration::minutes(16) - window).await.expect("n"),
        3
    );
    assert!(take("account:two@example.org", 5, t0() + Duration::minutes(16)).await);
    s.clear_login_failures("account:two@example.org")
        .await
        .expect("clear");
    assert_eq!(n(t0() - window).await.expect("n"), 0);
    assert_eq!(
        s.login_failures_since("address:10.0.0.1", t0() - window)
            .await
            .expect("n"),
        1,
        "other keys are kept"
    );
    // Taking an attempt much later forgets the old ones of every key.
    let later = t0() + Duration::hours(2);
    assert!(take("address:10.0.0.2", 20, later).await);
    assert_eq!(
        s.login_failures_since("address:10.0.0.1", t0() - window)
            .await
            .expect("n"),
        0
    );
}

fn new_job(kind: &str, at: DateTime<Utc>, dedupe: Option<&str>, max_attempts: u32) -> NewJob {
    NewJob {
        kind: kind.into(),
        payload: format!("{{\"kind\":\"{kind}\"}}"),
        run_at: at,
        dedupe: dedupe.map(str::to_owned),
        max_attempts,
    }
}

/// Jobs: de-duplicated while live, claimed by one worker at a time, retried at their time, taken
/// over when a worker's lease runs out, dead-lettered after their last attempt, retried by hand.
pub async fn jobs_are_claimed_once_retried_and_dead_lettered(s: &dyn Store) {
    let now = t0();
    let lease = |t: DateTime<Utc>| t + Duration::seconds(60);
    let ids = s
        .enqueue_jobs(
            &[
                new_job("poll", now, Some("poll:1"), 3),
                new_job("poll", now, Some("poll:1"), 3),
                new_job("mail", now + Duration::seconds(10), None, 3),
                new_job("fragile", now, None, 1),
            ],
            now,
        )
        .await
        .expect("enqueue");
    assert_eq!(ids.len(), 4);
    assert!(ids[0].is_some() && ids[1].is_none(), "one live job per key");
    let (poll, mail, fragile) = (
        ids[0].expect("poll"),
        ids[2].expect("mail"),
        ids[3].expect("fragile"),
    );
    let c = s.job_counts().await.expect("counts");
    assert_eq!((c.queued, c.running, c.dead, c.done), (3, 0, 0, 0));

    // Only due jobs are claimed, once.
    let a = s.claim_jobs("a", now, lease(now), 10).await.expect("claim");
    let mut got: Vec<JobId> = a.iter().map(|j| j.id).collect();
    got.sort();
    assert_eq!(got, vec![poll, fragile]);
    assert!(a
        .iter()
        .all(|j| j.attempts == 1 && j.state == JobState::Running));
    assert_eq!(a[0].locked_by.as_deref(), Some("a"));
    assert!(s
        .claim_jobs("b", now, lease(now), 10)
        .await
        .expect("claim")
        .is_empty());
    // While running, its key still refuses a second job.
    let again = s
        .enqueue_jobs(&[new_job("poll", now, Some("poll:1"), 3)], now)
        .await
        .expect("enqueue");
    assert_eq!(again, vec![None]);

    // A retry waits for its time.
    let retry_at = now + Duration::seconds(30);
    s.finish_job(
        poll,
        "a",
        &JobOutcome::Retry {
            at: retry_at,
            error: "feed answered 503".into(),
        },
        now,
    )
    .await
    .expect("retry");
    let j = s.get_job(poll).await.expect("job");
    assert_eq!(j.state, JobState::Queued);
    assert_eq!(j.last_error.as_deref(), Some("feed answered 503"));
    let t1 = now + Duration::seconds(20);
    let b = s.claim_jobs("b", t1, lease(t1), 10).await.expect("claim");
    assert_eq!(b.iter().map(|j| j.id).collect::<Vec<_>>(), vec![mail]);
    s.finish_job(mail, "b", &JobOutcome::Done, t1)
        .await
        .expect("done");
    let t2 = now + Duration::seconds(31);
    let b = s.claim_jobs("b", t2, lease(t2), 10).await.expect("claim");
    assert_eq!(b.iter().map(|j| j.id).collect::<Vec<_>>(), vec![poll]);
    assert_eq!(b[0].attempts, 2);

    // Worker b dies: once its lease is over, c takes the job, and b's late outcome is dropped.
    let t3 = lease(t2) + Duration::seconds(1);
    let c = s.claim_jobs("c", t3, lease(t3), 10).await.expect("claim");
    let mut claimed: Vec<JobId> = c.iter().map(|j| j.id).collect();
    claimed.sort();
    // The fragile job's lease (from `a`) also ran out, after its only attempt: dead, not claimed.
    assert_eq!(claimed, vec![poll]);
    assert_eq!(c[0].attempts, 3);
    assert!(matches!(
        s.finish_job(poll, "b", &JobOutcome::Done, t3).await,
        Err(StoreError::NotFound)
    ));
    let f = s.get_job(fragile).await.expect("fragile");
    assert_eq!(f.state, JobState::Dead);
    assert!(f.finished_at.is_some());
    s.extend_job_lease(poll, "c", lease(t3) + Duration::seconds(60))
        .await
        .expect("extend");
    assert!(matches!(
        s.extend_job_lease(poll, "b", lease(t3)).await,
        Err(StoreError::NotFound)
    ));

    // A retry after the last attempt is a dead letter.
    s.finish_job(
        poll,
        "c",
        &JobOutcome::Retry {
            at: t3,
            error: "still 503".into(),
        },
        t3,
    )
    .await
    .expect("finish");
    assert_eq!(s.get_job(poll).await.expect("job").state, JobState::Dead);
    let c = s.job_counts().await.expect("counts");
    assert_eq!((c.queued, c.running, c.dead, c.done), (0, 0, 2, 1));
    let dead = s.list_jobs(Some(JobState::Dead), 10).await.expect("dead");
    assert_eq!(dead.len(), 2);

    // An admin retries a dead job: queued again with its attempts reset; its key is live again.
    s.retry_dead_job(poll, t3).await.expect("retry dead");
    let j = s.get_job(poll).await.expect("job");
    assert_eq!((j.state, j.attempts), (JobState::Queued, 0));
    assert!(matches!(
        s.retry_dead_job(poll, t3).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        s.enqueue_jobs(&[new_job("poll", t3, Some("poll:1"), 3)], t3)
            .await
            .expect("enqueue"),
        vec![None]
    );
    // An explicit dead outcome.
    let d = s.claim_jobs("d", t3, lease(t3), 10).await.expect("claim");
    assert_eq!(d.len(), 1);
    s.finish_job(
        poll,
        "d",
        &JobOutcome::Dead {
            error: "source deleted".into(),
        },
        t3,
    )
    .await
    .expect("dead");

    // Pruning forgets old done jobs and keeps the newest dead letters.
    let removed = s
        .prune_jobs(t3 + Duration::seconds(1), 1)
        .await
        .expect("prune");
    assert_eq!(removed, 2, "one done job and the older dead letter");
    let c = s.job_counts().await.expect("counts");
    assert_eq!((c.queued, c.running, c.dead, c.done), (0, 0, 1, 0));

    // Many workers claiming one due job at once: exactly one gets it.
    let one = s
        .enqueue_jobs(&[new_job("once", t3, None, 3)], t3)
        .await
        .expect("enqueue")[0]
        .expect("queued");
    let claims = futures_join(s, t3, 16).await;
    let winners: Vec<&Vec<Job>> = claims.iter().filter(|v| !v.is_empty()).collect();
    assert_eq!(winners.len(), 1, "one claim wins");
    assert_eq!(winners[0][0].id, one);
}

async fn futures_join(s: &dyn Store, at: DateTime<Utc>, n: usize) -> Vec<Vec<Job>> {
    let lease_until = at + Duration::seconds(60);
    let names: Vec<String> = (0..n).map(|i| format!("w{i}")).collect();
    let mut claims = Vec::new();
    for name in &names {
        claims.push(s.claim_jobs(name, at, lease_until, 1));
    }
    let mut out = Vec::new();
    // Polled together: each claim runs its own transaction on the backend's threads.
    let joined = join_all(claims).await;
    for r in joined {
        out.push(r.expect("claim"));
    }
    out
}

/// Polls every future to completion concurrently (a tiny `join_all`, to avoid a dependency).
async fn join_all<T, F: std::future::Future<Output = T>>(futs: Vec<F>) -> Vec<T> {
    let mut futs: Vec<std::pin::Pin<Box<F>>> = futs.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<T>> = futs.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in futs.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

/// An attempt is counted before it is checked, atomically under every key: of many parallel
/// takes at most the limit are allowed, a refusal under one key counts under none, and a
/// given-back attempt frees its place.
pub async fn login_attempts_are_taken_atomically(s: &dyn Store) {
    let window = Duration::minutes(15);
    let at = t0();
    let keys: &[(&str, usize)] = &[("account:three@example.org", 5), ("address:10.0.0.9", 20)];
    let takes = (0..60)
        .map(|_| s.take_login_attempt(keys, at, at - window, at - window))
        .collect();
    let allowed = join_all(takes)
        .await
        .into_iter()
        .map(|r| r.expect("take"))
        .filter(|ok| *ok)
        .count();
    assert_eq!(allowed, 5, "60 parallel takes, a limit of 5");
    let n = |key: &'static str| s.login_failures_since(key, at - window);
    assert_eq!(n("account:three@example.org").await.expect("n"), 5);
    assert_eq!(
        n("address:10.0.0.9").await.expect("n"),
        5,
        "refused by the account key, not counted under the address"
    );
    // Another account from the same address: the address limit holds across accounts.
    let other: &[(&str, usize)] = &[("account:four@example.org", 100), ("address:10.0.0.9", 20)];
    let takes = (0..60)
        .map(|_| s.take_login_attempt(other, at, at - window, at - window))
        .collect();
    let allowed = join_all(takes)
        .await
        .into_iter()
        .filter(|r| matches!(r, Ok(true)))
        .count();
    assert_eq!(allowed, 15, "the address had 15 places left");
    s.give_back_login_attempt("address:10.0.0.9", at)
        .await
        .expect("give back");
    assert_eq!(
        n("address:10.0.0.9").await.expect("n"),
        19,
        "exactly one is given back"
    );
    assert!(s
        .take_login_attempt(other, at, at - window, at - window)
        .await
        .expect("take"));
    s.give_back_login_attempt("address:nobody", at)
        .await
        .expect("giving back nothing is no error");
}

fn nl_request(email: &str, editions: &[i64], frequency: Frequency) -> SubscriptionRequest {
    SubscriptionRequest {
        email: EmailAddress::parse(email).expect("an address"),
        prefs: Preferences {
            editions: editions.iter().map(|e| EditionId(*e)).collect(),
            sectors: vec![SectorId(2), SectorId(1)],
            frequency,
            breaking: true,
        },
        nonce: format!("nonce-{email}"),
        consent_text: "a daily digest".into(),
        consent_source: "https://news.example/sector/health".into(),
    }
}

/// Double opt-in, new choices, unsubscribing and suppression, and the search of the list.
pub async fn subscribers_opt_in_change_and_leave(s: &dyn Store) {
    let t = Utc
        .with_ymd_and_hms(2026, 12, 1, 8, 0, 0)
        .single()
        .expect("a valid time");
    let r = nl_request("a@example.org", &[1, 3], Frequency::Daily);
    let a = s.request_subscription(&r, t).await.expect("a store call");
    assert_eq!(a.status, SubscriberStatus::Pending);
    assert_eq!(a.prefs.editions, vec![EditionId(1), EditionId(3)]);
    assert_eq!(a.prefs.sectors, vec![SectorId(1), SectorId(2)], "sorted");
    assert_eq!(a.consent_source, "https://news.example/sector/health");
    assert_eq!(a.confirmed_at, None);
    s.mark_confirmation_sent(a.id, t)
        .await
        .expect("a store call");
    // Asked again while pending: new choices and nonce.
    let mut r2 = nl_request("a@example.org", &[2], Frequency::Weekly);
    r2.nonce = "second".into();
    let a2 = s
        .request_subscription(&r2, t + Duration::minutes(1))
        .await
        .expect("a store call");
    assert_eq!(a2.id, a.id);
    assert_eq!(a2.nonce, "second");
    assert_eq!(a2.prefs.frequency, Frequency::Weekly);
    assert_eq!(a2.confirm_sent_at, Some(t));
    let on = s
        .confirm_subscriber(a.id, t + Duration::minutes(2))
        .await
        .expect("a store call");
    assert_eq!(on.status, SubscriberStatus::Active);
    assert_eq!(on.confirmed_at, Some(t + Duration::minutes(2)));
    // Active: a new request changes nothing.
    let same = s
        .request_subscription(&r, t + Duration::minutes(3))
        .await
        .expect("a store call");
    assert_eq!(same, on);
    let prefs = Preferences {
        editions: vec![EditionId(1)],
        sectors: vec![],
        frequency: Frequency::Daily,
        breaking: false,
    };
    s.set_preferences(a.id, &prefs, t)
        .await
        .expect("a store call");
    assert_eq!(
        s.get_subscriber(a.id).await.expect("a store call").prefs,
        prefs
    );
    s.unsubscribe(a.id, "one-click", t)
        .await
        .expect("a store call");
    let left = s.get_subscriber(a.id).await.expect("a store call");
    assert_eq!(
        (left.status, left.reason.as_str()),
        (SubscriberStatus::Unsubscribed, "one-click")
    );
    // Suppression: a known address and one never seen.
    let email = EmailAddress::parse("a@example.org").expect("a store call");
    assert!(s
        .suppress_address(&email, "complaint", t)
        .await
        .expect("a store call"));
    assert!(!s
        .suppress_address(&email, "complaint", t)
        .await
        .expect("a store call"));
    let other = EmailAddress::parse("b@example.org").expect("a store call");
    assert!(s
        .suppress_address(&other, "hard bounce", t)
        .await
        .expect("a store call"));
    let b = s
        .request_subscription(&nl_request("b@example.org", &[1], Frequency::Daily), t)
        .await
        .expect("a store call");
    assert_eq!(b.status, SubscriberStatus::Suppressed, "not acted on");
    assert!(matches!(
        s.get_subscriber(SubscriberId(999_999)).await,
        Err(StoreError::NotFound)
    ));
    assert!(s
        .find_subscriber(&EmailAddress::parse("c@example.org").expect("a store call"))
        .await
        .expect("a store call")
        .is_none());
    let imported = s
        .import_subscribers(
            &[
                nl_request("c@example.org", &[1], Frequency::Daily),
                nl_request("b@example.org", &[1], Frequency::Daily),
            ],
            t,
        )
        .await
        .expect("a store call");
    assert_eq!(imported, 1, "known addresses are left");
    let counts = s.subscriber_counts().await.expect("a store call");
    assert_eq!(
        (counts.active, counts.suppressed, counts.pending),
        (1, 2, 0)
    );
    let found = s
        .list_subscribers("example", None, 10)
        .await
        .expect("a store call");
    assert_eq!(found.len(), 3);
    let page = s
        .list_subscribers("", Some(found[0].id), 1)
        .await
        .expect("a store call");
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].id, found[1].id);
    assert!(s
        .list_subscribers("%", None, 10)
        .await
        .expect("a store call")
        .is_empty());
    assert!(s
        .list_subscribers("_", None, 10)
        .await
        .expect("a store call")
        .is_empty());
}

/// A digest's recipients are chosen once; each send is recorded once; a retry waits.
pub async fn digests_are_made_once_and_sent_once(s: &dyn Store) {
    let t = Utc
        .with_ymd_and_hms(2026, 12, 1, 8, 0, 0)
        .single()
        .expect("a valid time");
    let mut ids = Vec::new();
    for (email, eds, f) in [
        ("d1@example.org", vec![1], Frequency::Daily),
        ("d2@example.org", vec![1, 2], Frequency::Daily),
        ("w1@example.org", vec![1], Frequency::Weekly),
        ("e2@example.org", vec![2], Frequency::Daily),
    ] {
        let x = s
            .request_subscription(&nl_request(email, &eds, f), t)
            .await
            .expect("a store call");
        s.confirm_subscriber(x.id, t).await.expect("a store call");
        ids.push(x.id);
    }
    let pending = s
        .request_subscription(&nl_request("p@example.org", &[1], Frequency::Daily), t)
        .await
        .expect("a store call");
    let input = DigestInput {
        key: "daily:1:2026-12-01".into(),
        kind: "daily".into(),
        edition: EditionId(1),
        subject: "Digest".into(),
        stories: vec![StoryId(5), StoryId(3)],
        audience: DigestAudience::Digest(EditionId(1), Frequency::Daily),
        editions: vec![EditionId(1)],
    };
    let (d, made) = s.create_digest(&input, t).await.expect("a store call");
    assert!(made);
    assert_eq!(
        s.create_digest(&input, t).await.expect("a store call"),
        (d, false),
        "made once"
    );
    let dg = s.get_digest(d).await.expect("a store call");
    assert_eq!(dg.stories, vec![StoryId(5), StoryId(3)]);
    assert_eq!(
        (dg.total, dg.pending),
        (2, 2),
        "active daily readers of edition 1 only"
    );
    let due = s.due_sends(d, t, 10).await.expect("a store call");
    let who: Vec<SubscriberId> = due.iter().map(|p| p.subscriber.id).collect();
    assert_eq!(who, vec![ids[0], ids[1]]);
    assert!(!who.contains(&pending.id));
    let sent = SendOutcome::Sent {
        message_id: "<x@y>".into(),
    };
    s.record_send(d, ids[0], &sent, t)
        .await
        .expect("a store call");
    // Recorded twice (a resend after a crash): the first record stands.
    s.record_send(
        d,
        ids[0],
        &SendOutcome::Failed {
            error: "late".into(),
        },
        t,
    )
    .await
    .expect("a store call");
    let retry_at = t + Duration::minutes(5);
    s.record_send(
        d,
        ids[1],
        &SendOutcome::Retry {
            at: retry_at,
            error: "421".into(),
        },
        t,
    )
    .await
    .expect("a store call");
    assert!(
        s.due_sends(d, t, 10)
            .await
            .expect("a store call")
            .is_empty(),
        "the retry waits"
    );
    let later = s.due_sends(d, retry_at, 10).await.expect("a store call");
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].attempts, 1);
    assert_eq!(
        s.next_send_at(d, t).await.expect("a store call"),
        Some(retry_at)
    );
    assert_eq!(
        s.get_digest(d).await.expect("a store call").finished_at,
        None
    );
    s.record_send(
        d,
        ids[1],
        &SendOutcome::Skipped {
            why: "nothing".into(),
        },
        retry_at,
    )
    .await
    .expect("a store call");
    assert_eq!(
        s.next_send_at(d, retry_at).await.expect("a store call"),
        None
    );
    let dg = s.get_digest(d).await.expect("a store call");
    assert_eq!((dg.sent, dg.skipped, dg.pending, dg.failed), (1, 1, 0, 0));
    assert_eq!(dg.finished_at, Some(retry_at));
    // An alert goes to those who want alerts in any of its editions.
    let alert = DigestInput {
        key: "breaking:9".into(),
        kind: "breaking".into(),
        edition: EditionId(2),
        subject: "Breaking".into(),
        stories: vec![StoryId(9)],
        audience: DigestAudience::Breaking,
        editions: vec![EditionId(2)],
    };
    let (a, _) = s.create_digest(&alert, t).await.expect("a store call");
    assert_eq!(
        s.get_digest(a).await.expect("a store call").total,
        2,
        "d2 and e2"
    );
    let list = s.list_digests(10).await.expect("a store call");
    assert_eq!(
        list.iter().map(|x| x.id).collect::<Vec<_>>(),
        vec![a, d],
        "newest first"
    );
}

/// API tokens: stored with their hash only, found by it, touched, revoked once; one hash once.
pub async fn api_tokens_are_found_by_hash_touched_and_revoked(s: &dyn Store) {
    let admin = s
        .create_user(
            &email("root@example.org"),
            "Root",
            Role::Admin,
            "h",
            &audit("invite", None),
        )
        .await
        .expect("admin");
    let author = s
        .create_user(
            &email("ann@example.org"),
            "Ann",
            Role::Author,
            "h",
            &audit("invite", None),
        )
        .await
        .expect("author");
    let input = |name: &str, hash: &str, at: DateTime<Utc>| ApiTokenInput {
        name: name.into(),
        owner: author.id,
        created_by: admin.id,
        scopes: vec![ApiScope::ReadDrafts, ApiScope::Publish],
        hash: hash.into(),
        created_at: at,
        expires_at: at + Duration::days(30),
    };
    let a = s
        .create_api_token(&input("bridge", "hash-a", t0()))
        .await
        .expect("token a");
    assert_eq!(
        (a.name.as_str(), a.owner, a.created_by, a.scopes.clone()),
        (
            "bridge",
            author.id,
            admin.id,
            vec![ApiScope::ReadDrafts, ApiScope::Publish]
        )
    );
    assert_eq!((a.last_used_at, a.revoked_at), (None, None));
    assert_eq!(a.expires_at, t0() + Duration::days(30));
    let b = s
        .create_api_token(&input("second", "hash-b", t0() + Duration::minutes(1)))
        .await
        .expect("token b");
    let dup = s.create_api_token(&input("dup", "hash-a", t0())).await;
    assert!(
        matches!(dup, Err(StoreError::Conflict(Conflict::Constraint(_)))),
        "one hash once: {dup:?}"
    );
    let list = s.list_api_tokens().await.expect("list");
    assert_eq!(
        list.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![b.id, a.id],
        "newest first"
    );
    let (found, hash) = s
        .api_token_by_hash("hash-a")
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!((found.id, hash.as_str()), (a.id, "hash-a"));
    assert!(s.api_token_by_hash("nope").await.expect("lookup").is_none());
    s.touch_api_token(a.id, t0() + Duration::hours(1))
        .await
        .expect("touch");
    s.revoke_api_token(a.id, t0() + Duration::hours(2))
        .await
        .expect("revoke");
    s.revoke_api_token(a.id, t0() + Duration::hours(3))
        .await
        .expect("revoke again");
    let (found, _) = s
        .api_token_by_hash("hash-a")
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!(found.last_used_at, Some(t0() + Duration::hours(1)));
    assert_eq!(
        found.revoked_at,
        Some(t0() + Duration::hours(2)),
        "first revocation kept"
    );
    assert!(!found.is_live_at(t0() + Duration::hours(2)));
    assert!(matches!(
        s.revoke_api_token(ApiTokenId(9999), t0()).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.touch_api_token(ApiTokenId(9999), t0()).await,
        Err(StoreError::NotFound)
    ));
}

/// Imports: an item's source id is remembered with the story made of it (in the story's own
/// transaction, so one item never makes two stories), per system; old paths redirect by exact
/// match, and a path keeps its first target.
pub async fn imports_are_remembered_with_their_old_addresses(s: &dyn Store) {
    use crate::{ImportRecord, ImportTarget};
    let tax = taxonomy(s).await;
    assert_eq!(s.imported("wordpress", "12").await.expect("read"), None);
    let record = ImportRecord {
        source: "wordpress".into(),
        source_id: "12".into(),
        old_paths: vec!["/2008/09/03/a-post/".into(), "/a-post/".into()],
    };
    let audit = AuditInput {
        at: t0(),
        user_id: None,
        action: "import".into(),
        target: String::new(),
        detail: "wordpress 12".into(),
    };
    let before = s.last_change_seq().await.expect("seq");
    let made = s
        .create_imported_story(
            &record,
            &story(&tax, "a-post", StoryStatus::Published),
            None,
            &audit,
        )
        .await
        .expect("import");
    assert!(
        s.last_change_seq().await.expect("seq") > before,
        "readers follow imports"
    );
    assert_eq!(
        s.imported("wordpress", "12").await.expect("read"),
        Some(ImportTarget::Story(made.id))
    );
    // Another system's id 12 is another item.
    assert_eq!(s.imported("ghost", "12").await.expect("read"), None);
    assert_eq!(
        s.find_redirect("/a-post/").await.expect("read"),
        Some(ImportTarget::Story(made.id))
    );
    assert_eq!(
        s.find_redirect("/a-post").await.expect("read"),
        None,
        "exact paths only"
    );
    assert_eq!(s.list_revisions(made.id).await.expect("revisions").len(), 1);
    // The same item twice is refused, and leaves no second story.
    let again = s
        .create_imported_story(
            &ImportRecord {
                old_paths: vec![],
                ..record.clone()
            },
            &story(&tax, "a-post-2", StoryStatus::Published),
            None,
            &audit,
        )
        .await;
    assert!(again.is_err());
    assert!(s
        .find_story_by_slug(&slug("a-post-2"))
        .await
        .expect("read")
        .is_none());
    // A page; an old path already taken keeps its first target.
    let page = ImportTarget::Page(slug("about-us"));
    s.record_import(
        &ImportRecord {
            source: "wordpress".into(),
            source_id: "2".into(),
            old_paths: vec!["/about-us/".into(), "/a-post/".into()],
        },
        &page,
    )
    .await
    .expect("page");
    assert_eq!(
        s.find_redirect("/about-us/").await.expect("read"),
        Some(page)
    );
    assert_eq!(
        s.find_redirect("/a-post/").await.expect("read"),
        Some(ImportTarget::Story(made.id))
    );
    assert_eq!(s.count_imported("wordpress").await.expect("count"), 2);
    assert_eq!(s.count_imported("ghost").await.expect("count"), 0);
}

/// An imported author's account: made once (disabled, the hash given, writing under the
/// byline), found again by its address (nothing made twice); an existing account gets the
/// byline only when it has none.
pub async fn imported_accounts_are_linked_to_their_bylines(s: &dyn Store) {
    let ann = s
        .upsert_author(&slug("ann-lee"), "Ann Lee", "", None)
        .await
        .expect("byline");
    let other = s
        .upsert_author(&slug("bo-chan"), "Bo Chan", "", None)
        .await
        .expect("byline");
    let (u, made) = s
        .import_account(
            &email("ann@example.org"),
            "Ann Lee",
            ann.id,
            "!",
            &audit("import-account", None),
        )
        .await
        .expect("account");
    assert!(made);
    assert_eq!(
        (u.role, u.disabled, u.author_id),
        (Role::Author, true, Some(ann.id))
    );
    let (_, hash) = s
        .find_login(&email("ann@example.org"))
        .await
        .expect("read")
        .expect("there");
    assert_eq!(hash, "!");
    // Again (a second run): the same account, its byline kept.
    let (again, made) = s
        .import_account(
            &email("ann@example.org"),
            "Ann",
            other.id,
            "!",
            &audit("import-account", None),
        )
        .await
        .expect("account");
    assert!(!made);
    assert_eq!((again.id, again.author_id), (u.id, Some(ann.id)));
    assert_eq!(s.list_users().await.expect("users").len(), 1);
    // An account made in the newsroom is linked, not changed otherwise.
    let ed = s
        .create_user(
            &email("bo@example.org"),
            "Bo",
            Role::Editor,
            "h",
            &audit("invite", None),
        )
        .await
        .expect("user");
    let (linked, made) = s
        .import_account(
            &email("bo@example.org"),
            "Bo Chan",
            other.id,
            "!",
            &audit("import-account", None),
        )
        .await
        .expect("account");
    assert!(!made);
    assert_eq!(
        (linked.id, linked.role, linked.disabled, linked.author_id),
        (ed.id, Role::Editor, false, Some(other.id))
    );
    let (_, hash) = s
        .find_login(&email("bo@example.org"))
        .await
        .expect("read")
        .expect("there");
    assert_eq!(hash, "h");
}

/// The feedback desk: messages arrive as new (with the desk's notice queued in the same
/// transaction, its payload naming the message), list newest first by status, move between
/// statuses, and keep the editor's reply (its mail job queued with it).
pub async fn feedback_queue_and_replies(s: &dyn Store) {
    let editor = s
        .create_user(
            &email("desk@example.org"),
            "Desk",
            Role::Editor,
            "h",
            &audit("invite", None),
        )
        .await
        .expect("user");
    let msg = |m: &str, mail: &str| NewFeedback {
        name: "Reader <b>".into(),
        email: mail.into(),
        message: m.into(),
        page: "/article/x".into(),
    };
    let notice = NewJob {
        kind: "send_mail".into(),
        payload: r#"{"mail":"feedback_notice","feedback":0}"#.into(),
        run_at: t0(),
        dedupe: None,
        max_attempts: 3,
    };
    let a = s
        .add_feedback(
            &msg("first\nline two", "r@example.org"),
            t0(),
            Some(&notice),
        )
        .await
        .expect("add");
    let b = s
        .add_feedback(&msg("second", ""), t0() + Duration::seconds(1), None)
        .await
        .expect("add");
    let jobs = s.list_jobs(None, 10).await.expect("jobs");
    assert_eq!(jobs.len(), 1, "one notice queued, with the first message");
    let payload: String = jobs[0].payload.split_whitespace().collect();
    assert!(
        payload.contains(&format!("\"feedback\":{}", a.0)),
        "the notice names the message: {payload}"
    );
    assert!(
        payload.contains("\"mail\":\"feedback_notice\""),
        "{payload}"
    );
    let all = s.list_feedback(None, 10).await.expect("list");
    assert_eq!(
        all.iter().map(|m| m.id).collect::<Vec<_>>(),
        [b, a],
        "newest first"
    );
    let got = s.get_feedback(a).await.expect("get");
    assert_eq!(got.sent, msg("first\nline two", "r@example.org"));
    assert_eq!(got.status, FeedbackStatus::New);
    assert_eq!(got.received_at, t0());
    assert!(got.reply.is_none());
    s.set_feedback_status(b, FeedbackStatus::Spam)
        .await
        .expect("spam");
    assert_eq!(
        s.list_feedback(Some(FeedbackStatus::Spam), 10)
            .await
            .expect("spam list")
            .len(),
        1
    );
    assert!(matches!(
        s.set_feedback_status(FeedbackId(9999), FeedbackStatus::Spam)
            .await,
        Err(StoreError::NotFound)
    ));
    let reply = FeedbackReply {
        text: "Thank you".into(),
        by: editor.id,
        at: t0() + Duration::minutes(5),
    };
    let mail = NewJob {
        kind: "send_mail".into(),
        payload: format!(r#"{{"mail":"feedback_reply","feedback":{}}}"#, a.0),
        run_at: reply.at,
        dedupe: None,
        max_attempts: 3,
    };
    s.reply_feedback(a, &reply, &mail, &audit("feedback_reply", Some(editor.id)))
        .await
        .expect("reply");
    let got = s.get_feedback(a).await.expect("get");
    assert_eq!(got.status, FeedbackStatus::Answered);
    assert_eq!(got.reply, Some(reply.clone()));
    assert_eq!(s.list_jobs(None, 10).await.expect("jobs").len(), 2);
    assert!(matches!(
        s.reply_feedback(FeedbackId(9999), &reply, &mail, &audit("x", None))
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        s.list_jobs(None, 10).await.expect("jobs").len(),
        2,
        "a refused reply queues nothing"
    );
    assert_eq!(
        s.feedback_counts().await.expect("counts"),
        FeedbackCounts {
            new: 0,
            answered: 1,
            spam: 1
        }
    );
    assert_eq!(s.list_feedback(None, 1).await.expect("limit").len(), 1);
}

/// Webhooks: registered with their events and secret; an event is recorded once per hook
/// (a second record of the same event key changes nothing and queues nothing), its job
/// queued with it; attempts are recorded; old finished deliveries beyond the kept number go.
pub async fn webhooks_deliver_each_event_once_per_hook(s: &dyn Store) {
    let h1 = s
        .create_webhook(
            "https://hooks.example/a",
            &[
                WebhookEvent::StoryPublished,
                WebhookEvent::WireClusterCreated,
            ],
            "secret-1",
            t0(),
            &audit("webhook_add", None),
        )
        .await
        .expect("hook");
    let h2 = s
        .create_webhook(
            "https://hooks.example/b",
            &[WebhookEvent::StoryKilled],
            "secret-2",
            t0(),
            &audit("webhook_add", None),
        )
        .await
        .expect("hook");
    assert_eq!(
        h1.events,
        [
            WebhookEvent::StoryPublished,
            WebhookEvent::WireClusterCreated
        ]
    );
    assert!(h1.enabled);
    assert_eq!(s.webhook_secret(h2.id).await.expect("secret"), "secret-2");
    assert_eq!(s.list_webhooks().await.expect("list").len(), 2);
    let job = |n: i64| NewJob {
        kind: "deliver_webhook".into(),
        payload: format!("{{\"n\":{n}}}"),
        run_at: t0(),
        dedupe: None,
        max_attempts: 3,
    };
    let hooks = [h1.id, h2.id];
    let made = s
        .queue_webhook_event(
            "ev-1",
            "story.published",
            "{}",
            &hooks,
            &[job(1), job(2)],
            t0(),
            10,
        )
        .await
        .expect("queue");
    assert_eq!(made, 2);
    let again = s
        .queue_webhook_event(
            "ev-1",
            "story.published",
            "{}",
            &hooks,
            &[job(3), job(4)],
            t0(),
            10,
        )
        .await
        .expect("queue again");
    assert_eq!(again, 0, "an event is recorded once per hook");
    assert_eq!(s.list_jobs(None, 10).await.expect("jobs").len(), 2);
    let d = s
        .get_webhook_delivery(h1.id, "ev-1")
        .await
        .expect("delivery");
    assert_eq!(
        (d.state, d.attempts, d.event.as_str()),
        (DeliveryState::Pending, 0, "story.published")
    );
    s.record_webhook_attempt(d.id, t0(), 500, "boom", DeliveryState::Pending)
        .await
        .expect("attempt");
    s.record_webhook_attempt(
        d.id,
        t0() + Duration::seconds(10),
        204,
        "",
        DeliveryState::Delivered,
    )
    .await
    .expect("attempt");
    let d = s
        .get_webhook_delivery(h1.id, "ev-1")
        .await
        .expect("delivery");
    assert_eq!(d.attempts, 2);
    assert_eq!(d.state, DeliveryState::Delivered);
    assert_eq!(
        d.last,
        Some((t0() + Duration::seconds(10), 204, String::new()))
    );
    // Keep 2 per hook: finished ones beyond the newest two go, pending ones stay.
    for k in ["ev-2", "ev-3"] {
        s.queue_webhook_event(k, "story.published", "{}", &[h1.id], &[job(9)], t0(), 2)
            .await
            .expect("queue");
    }
    let kept = s.list_webhook_deliveries(h1.id, 10).await.expect("list");
    assert_eq!(
        kept.iter().map(|d| d.state).collect::<Vec<_>>(),
        [DeliveryState::Pending, DeliveryState::Pending],
        "the delivered one beyond the newest two is gone"
    );
    s.set_webhook_enabled(h1.id, false, &audit("webhook_off", None))
        .await
        .expect("off");
    assert!(!s.get_webhook(h1.id).await.expect("get").enabled);
    s.delete_webhook(h1.id, &audit("webhook_delete", None))
        .await
        .expect("delete");
    assert!(matches!(
        s.get_webhook(h1.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(s
        .list_webhook_deliveries(h1.id, 10)
        .await
        .expect("list")
        .is_empty());
    assert!(matches!(
        s.delete_webhook(h1.id, &audit("x", None)).await,
        Err(StoreError::NotFound)
    ));
}

/// A site secret is stored by the first caller; later and concurrent callers get that one.
pub async fn site_secrets_are_made_once(s: &dyn Store) {
    let first = s.site_secret("site", "aaaa").await.expect("secret");
    assert_eq!(first, "aaaa");
    let again = s.site_secret("site", "bbbb").await.expect("secret");
    assert_eq!(again, "aaaa", "a stored secret never changes");
    let other = s.site_secret("other", "cccc").await.expect("secret");
    assert_eq!(other, "cccc", "each name has its own");
    let offers: Vec<String> = (0..8).map(|i| format!("offer-{i}")).collect();
    let got = join_all(
        offers
            .iter()
            .map(|o| s.site_secret("raced", o.as_str()))
            .collect(),
    )
    .await;
    let got: Vec<String> = got.into_iter().map(|r| r.expect("raced secret")).collect();
    assert!(offers.contains(&got[0]), "{got:?}");
    assert!(got.iter().all(|g| *g == got[0]), "one winner: {got:?}");
}
