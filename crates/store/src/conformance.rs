//! The conformance suite: behaviour every [`Store`] backend must show.
//!
//! A backend runs it with [`conformance_tests!`](crate::conformance_tests), giving an expression
//! that makes a fresh, empty, migrated store. Each case panics with a message on failure.

use crate::{Store, StoreError};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use newsdesk_domain::*;

/// Expands to one `#[tokio::test]` per conformance case; `$make` is an async expression giving a
/// fresh store (anything that derefs to `dyn Store`).
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@cases $make;
            taxonomy_roundtrip, upsert_renames_instead_of_duplicating, story_roundtrip,
            slug_is_unique, stale_version_is_refused, slug_change_keeps_redirect,
            changes_are_monotonic_and_paged, published_cards_exclude_drafts,
            batch_insert_is_atomic, pages_roundtrip, views_accumulate, images_roundtrip,
            missing_rows_are_not_found);
    };
    (@cases $make:expr; $($case:ident),*) => {$(
        #[tokio::test]
        async fn $case() {
            let store = $make;
            $crate::conformance::$case(&*store).await;
        }
    )*};
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
    assert!(matches!(err, Err(StoreError::Conflict(_))), "got {err:?}");
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
    assert!(matches!(err, Err(StoreError::Conflict(_))), "got {err:?}");
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
    assert!(matches!(err, Err(StoreError::Conflict(_))), "got {err:?}");
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
        Err(StoreError::Conflict(_))
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
