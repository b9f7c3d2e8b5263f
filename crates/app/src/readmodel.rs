//! The in-memory read model: taxonomy, images, static pages and the cards of every published
//! story, kept in step with the store by following the change log.
//!
//! Pages are built from here, so a reader request never waits on the database except for the body
//! of one article.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use newsdesk_domain::*;
use std::collections::HashMap;
use std::sync::Arc;

/// Sectors, editions, desks, authors and tags with lookups by id and slug.
#[derive(Debug, Default)]
pub struct Taxonomy {
    /// Sectors in menu order.
    pub sectors: Vec<Sector>,
    /// Editions in menu order (Global first).
    pub editions: Vec<Edition>,
    /// Desks.
    pub desks: Vec<Desk>,
    /// Authors.
    pub authors: Vec<Author>,
    /// Tags.
    pub tags: Vec<Tag>,
}

impl Taxonomy {
    /// Sector by id.
    pub fn sector(&self, id: SectorId) -> Option<&Sector> {
        self.sectors.iter().find(|s| s.id == id)
    }
    /// Sector by slug.
    pub fn sector_by_slug(&self, slug: &str) -> Option<&Sector> {
        self.sectors.iter().find(|s| s.slug.as_str() == slug)
    }
    /// Edition by id.
    pub fn edition(&self, id: EditionId) -> Option<&Edition> {
        self.editions.iter().find(|s| s.id == id)
    }
    /// Edition by slug.
    pub fn edition_by_slug(&self, slug: &str) -> Option<&Edition> {
        self.editions.iter().find(|s| s.slug.as_str() == slug)
    }
    /// The Global edition (the first one if none is called "global").
    pub fn global(&self) -> Option<&Edition> {
        self.editions
            .iter()
            .find(|e| e.is_global())
            .or_else(|| self.editions.first())
    }
    /// Desk by id.
    pub fn desk(&self, id: DeskId) -> Option<&Desk> {
        self.desks.iter().find(|s| s.id == id)
    }
    /// Desk by slug.
    pub fn desk_by_slug(&self, slug: &str) -> Option<&Desk> {
        self.desks.iter().find(|s| s.slug.as_str() == slug)
    }
    /// Author by id.
    pub fn author(&self, id: AuthorId) -> Option<&Author> {
        self.authors.iter().find(|s| s.id == id)
    }
    /// Author by slug.
    pub fn author_by_slug(&self, slug: &str) -> Option<&Author> {
        self.authors.iter().find(|s| s.slug.as_str() == slug)
    }
    /// Tag by id (tags are many: binary search on the id-sorted copy would do, but lists are short).
    pub fn tag(&self, id: TagId) -> Option<&Tag> {
        self.tags.iter().find(|s| s.id == id)
    }
    /// Tag by slug.
    pub fn tag_by_slug(&self, slug: &str) -> Option<&Tag> {
        self.tags.iter().find(|s| s.slug.as_str() == slug)
    }
}

/// Which stories a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// Every story.
    All,
    /// One sector.
    Sector(SectorId),
    /// One kind.
    Kind(Kind),
    /// Stories with a tag.
    Tag(TagId),
    /// Stories bylined to a desk.
    Desk(DeskId),
    /// Stories bylined to an author.
    Author(AuthorId),
    /// Stories first published on a day (in the edition's time zone).
    Day(NaiveDate),
    /// Stories first published in a month (year, month; edition time zone).
    Month(i32, u32),
}

/// One page of a listing.
#[derive(Debug, Clone)]
pub struct Paged {
    /// Cards on this page.
    pub items: Vec<Arc<StoryCard>>,
    /// This page, from 1.
    pub page: usize,
    /// Number of pages (at least 1).
    pub pages: usize,
    /// Stories in the whole listing.
    pub total: usize,
}

/// The read model.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Taxonomy.
    pub tax: Arc<Taxonomy>,
    /// Images by id.
    pub images: HashMap<ImageId, Arc<Image>>,
    /// Static pages in footer order.
    pub pages: Vec<Arc<StaticPage>>,
    cards: HashMap<StoryId, Arc<StoryCard>>,
    by_slug: HashMap<String, StoryId>,
    /// Published stories (including future and embargoed ones), newest visible first.
    timeline: Vec<Arc<StoryCard>>,
    /// The held stories using each picture (hero) and each video file.
    image_users: HashMap<ImageId, Vec<StoryId>>,
    video_users: HashMap<String, Vec<StoryId>>,
    /// Pictures by file key.
    image_keys: HashMap<String, ImageId>,
}

fn order_key(
    c: &StoryCard,
) -> (
    std::cmp::Reverse<Option<DateTime<Utc>>>,
    std::cmp::Reverse<StoryId>,
) {
    (std::cmp::Reverse(c.visible_from()), std::cmp::Reverse(c.id))
}

impl Snapshot {
    /// Builds the model from loaded parts.
    pub fn new(
        tax: Taxonomy,
        images: Vec<Image>,
        pages: Vec<StaticPage>,
        cards: Vec<StoryCard>,
    ) -> Self {
        let mut s = Snapshot {
            tax: Arc::new(tax),
            pages: pages.into_iter().map(Arc::new).collect(),
            ..Default::default()
        };
        for i in images {
            s.put_image(i);
        }
        for c in cards {
            if c.visible_from().is_some() {
                let c = Arc::new(c);
                s.by_slug.insert(c.slug.as_str().to_owned(), c.id);
                s.index_media(&c, true);
                s.cards.insert(c.id, c.clone());
                s.timeline.push(c);
            }
        }
        s.timeline.sort_by_key(|c| order_key(c));
        s
    }

    /// Number of published stories held (including not-yet-visible ones).
    pub fn len(&self) -> usize {
        self.timeline.len()
    }

    /// Whether no story is held.
    pub fn is_empty(&self) -> bool {
        self.timeline.is_empty()
    }

    /// Replaces or removes one story after a change.
    pub fn apply_card(&mut self, id: StoryId, card: Option<StoryCard>) {
        if let Some(old) = self.cards.remove(&id) {
            self.by_slug.remove(old.slug.as_str());
            self.index_media(&old, false);
            let key = order_key(&old);
            match self.timeline.binary_search_by(|c| order_key(c).cmp(&key)) {
                Ok(i) => {
                    self.timeline.remove(i);
                }
                Err(_) => self.timeline.retain(|c| c.id != id),
            }
        }
        if let Some(card) = card.filter(|c| c.visible_from().is_some()) {
            let card = Arc::new(card);
            let key = order_key(&card);
            let at = self
                .timeline
                .binary_search_by(|c| order_key(c).cmp(&key))
                .unwrap_or_else(|i| i);
            self.timeline.insert(at, card.clone());
            self.by_slug.insert(card.slug.as_str().to_owned(), id);
            self.index_media(&card, true);
            self.cards.insert(id, card);
        }
    }

    fn index_media(&mut self, c: &StoryCard, add: bool) {
        fn note<K: std::hash::Hash + Eq>(
            map: &mut HashMap<K, Vec<StoryId>>,
            key: K,
            id: StoryId,
            add: bool,
        ) {
            if add {
                map.entry(key).or_default().push(id);
            } else if let std::collections::hash_map::Entry::Occupied(mut e) = map.entry(key) {
                e.get_mut().retain(|x| *x != id);
                if e.get().is_empty() {
                    e.remove();
                }
            }
        }
        if let Some(i) = c.hero_image_id {
            note(&mut self.image_users, i, c.id, add);
        }
        if let Some(v) = &c.video {
            note(&mut self.video_users, v.clone(), c.id, add);
        }
    }

    /// Whether the media file `name` (a picture variant `{key}-{width}.{ext}` or a video) belongs
    /// to a story public at `now`. Only those are served to anyone; the newsroom sees the others
    /// through its session.
    pub fn media_is_public(&self, name: &str, now: DateTime<Utc>) -> bool {
        let public = |ids: Option<&Vec<StoryId>>| {
            ids.is_some_and(|ids| ids.iter().any(|id| self.public_card(*id, now).is_some()))
        };
        if public(self.video_users.get(name)) {
            return true;
        }
        let Some((key, width, ext)) = name.rsplit_once('.').and_then(|(stem, ext)| {
            let (key, w) = stem.rsplit_once('-')?;
            Some((key, w.parse::<u32>().ok()?, ext))
        }) else {
            return false;
        };
        let Some(id) = self.image_keys.get(key) else {
            return false;
        };
        self.images
            .get(id)
            .is_some_and(|i| i.ext == ext && i.widths.contains(&width))
            && public(self.image_users.get(id))
    }

    /// Adds or replaces a picture.
    pub fn put_image(&mut self, image: Image) {
        self.image_keys.insert(image.key.clone(), image.id);
        self.images.insert(image.id, Arc::new(image));
    }

    /// The earliest moment after `now` at which a held story becomes visible, if any.
    pub fn next_visibility_after(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.timeline
            .iter()
            .filter_map(|c| c.visible_from())
            .filter(|t| *t > now)
            .min()
    }

    /// A public story by its current slug.
    pub fn public_by_slug(&self, slug: &str, now: DateTime<Utc>) -> Option<&Arc<StoryCard>> {
        let id = self.by_slug.get(slug)?;
        self.cards.get(id).filter(|c| c.is_public_at(now))
    }

    /// A public story by id.
    pub fn public_card(&self, id: StoryId, now: DateTime<Utc>) -> Option<&Arc<StoryCard>> {
        self.cards.get(&id).filter(|c| c.is_public_at(now))
    }

    /// Public stories, newest first, that are in `edition` (all for Global) and pass `filter`.
    pub fn public<'a>(
        &'a self,
        now: DateTime<Utc>,
        edition: &'a Edition,
        filter: Filter,
    ) -> impl Iterator<Item = &'a Arc<StoryCard>> + 'a {
        // The timeline is sorted newest-visible first, so skip the ones still in the future.
        let start = self
            .timeline
            .partition_point(|c| c.visible_from().is_some_and(|t| t > now));
        let tz = edition.tz;
        let global = edition.is_global();
        self.timeline[start..].iter().filter(move |c| {
            (global || c.in_edition(edition.id))
                && match filter {
                    Filter::All => true,
                    Filter::Sector(s) => c.sector_id == s,
                    Filter::Kind(k) => c.kind == k,
                    Filter::Tag(t) => c.tag_ids.contains(&t),
                    Filter::Desk(d) => c.desk_id == Some(d),
                    Filter::Author(a) => c.author_ids.contains(&a),
                    Filter::Day(d) => {
                        first_published(c).is_some_and(|t| t.with_timezone(&tz).date_naive() == d)
                    }
                    Filter::Month(y, m) => first_published(c).is_some_and(|t| {
                        let local = t.with_timezone(&tz);
                        local.year() == y && local.month() == m
                    }),
                }
        })
    }

    /// The latest `n` public stories of a listing.
    pub fn latest(
        &self,
        now: DateTime<Utc>,
        edition: &Edition,
        filter: Filter,
        n: usize,
    ) -> Vec<Arc<StoryCard>> {
        self.public(now, edition, filter).take(n).cloned().collect()
    }

    /// Page `page` (from 1) of a listing; `None` when the page is past the end (page 1 always exists).
    pub fn page(
        &self,
        now: DateTime<Utc>,
        edition: &Edition,
        filter: Filter,
        page: usize,
        per_page: usize,
    ) -> Option<Paged> {
        let per_page = per_page.max(1);
        let total = self.public(now, edition, filter).count();
        let pages = total.div_ceil(per_page).max(1);
        if page == 0 || page > pages {
            return None;
        }
        let items = self
            .public(now, edition, filter)
            .skip((page - 1) * per_page)
            .take(per_page)
            .cloned()
            .collect();
        Some(Paged {
            items,
            page,
            pages,
            total,
        })
    }

    /// Top stories of an edition: stories the editors ranked there within the last three days,
    /// by rank, then the latest stories of the edition to fill up to `n`.
    pub fn top_stories(
        &self,
        now: DateTime<Utc>,
        edition: &Edition,
        n: usize,
    ) -> Vec<Arc<StoryCard>> {
        let since = now - chrono::Duration::days(3);
        let mut ranked: Vec<(i32, &Arc<StoryCard>)> = self
            .public(now, edition, Filter::All)
            .take_while(|c| c.visible_from().is_some_and(|t| t >= since))
            .filter(|c| c.kind != Kind::Short)
            .filter_map(|c| {
                c.placements
                    .iter()
                    .find(|p| p.edition_id == edition.id)
                    .and_then(|p| p.rank)
                    .map(|r| (r, c))
            })
            .collect();
        ranked.sort_by_key(|(r, _)| *r); // stable: equal ranks keep newest first
        let mut out: Vec<Arc<StoryCard>> =
            ranked.into_iter().take(n).map(|(_, c)| c.clone()).collect();
        if out.len() < n {
            for c in self
                .public(now, edition, Filter::All)
                .filter(|c| c.kind != Kind::Short)
            {
                if out.len() >= n {
                    break;
                }
                if !out.iter().any(|o| o.id == c.id) {
                    out.push(c.clone());
                }
            }
        }
        out
    }

    /// Stories related to `card`: sharing the most tags, then the same sector; newest first.
    pub fn related(
        &self,
        now: DateTime<Utc>,
        edition: &Edition,
        card: &StoryCard,
        n: usize,
    ) -> Vec<Arc<StoryCard>> {
        let mut scored: Vec<(usize, &Arc<StoryCard>)> = self
            .public(now, edition, Filter::All)
            .filter(|c| c.id != card.id)
            .take(5000)
            .filter_map(|c| {
                let shared = c
                    .tag_ids
                    .iter()
                    .filter(|t| card.tag_ids.contains(t))
                    .count();
                let score = shared * 2 + usize::from(c.sector_id == card.sector_id);
                (score > 0).then_some((score, c))
            })
            .collect();
        scored.sort_by_key(|s| std::cmp::Reverse(s.0)); // stable: newest first among equals
        scored.into_iter().take(n).map(|(_, c)| c.clone()).collect()
    }

    /// The tag at `slug` if a story public at `now` carries it: saving a draft creates its tags,
    /// and a tag no public story has would tell readers what is being written.
    pub fn public_tag_by_slug(&self, slug: &str, now: DateTime<Utc>) -> Option<&Tag> {
        let tag = self.tax.tag_by_slug(slug)?;
        self.all_public(now)
            .any(|c| c.tag_ids.contains(&tag.id))
            .then_some(tag)
    }

    /// Every public story (sitemaps), newest first.
    pub fn all_public(&self, now: DateTime<Utc>) -> impl Iterator<Item = &Arc<StoryCard>> {
        let start = self
            .timeline
            .partition_point(|c| c.visible_from().is_some_and(|t| t > now));
        self.timeline[start..].iter()
    }
}

/// When a story first went public (its publication or embargo end).
pub fn first_published(c: &StoryCard) -> Option<DateTime<Utc>> {
    c.visible_from()
}
