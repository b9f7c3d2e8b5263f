//! The in-memory read model: taxonomy, images, static pages and the cards of every published
//! story, kept in step with the store by following the change log.
//!
//! Pages are built from here, so a reader request never waits on the database except for the body
//! of one article.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use newsdesk_domain::*;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
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
    /// Held stories by the hash of their slug: the slug itself is read from the card, so it is
    /// not held twice (a million slugs are some 100 MB). A slug whose hash an other held slug
    /// already has is kept whole in `slug_clashes`.
    by_slug: HashMap<u64, StoryId>,
    slug_clashes: HashMap<String, StoryId>,
    slug_hash: SlugHash,
    /// Published stories (including future and embargoed ones), newest visible first.
    timeline: Vec<Arc<StoryCard>>,
    /// The held stories using each picture (hero) and each video file.
    image_users: HashMap<ImageId, Vec<StoryId>>,
    video_users: HashMap<String, Vec<StoryId>>,
    /// Pictures by file key.
    image_keys: HashMap<String, ImageId>,
    /// The same stories by listing, each list in timeline order, so a listing or side list
    /// reads its own few entries instead of filtering the whole timeline.
    index: HashMap<(Scope, IndexKey), Vec<Arc<StoryCard>>>,
}

/// The hash `Snapshot::by_slug` is keyed by.
#[derive(Debug, Default)]
struct SlugHash {
    state: RandomState,
    /// Tests: every slug hashes alike, so every slug but one is a clash.
    #[cfg(test)]
    all_clash: bool,
}

impl SlugHash {
    fn of(&self, slug: &str) -> u64 {
        #[cfg(test)]
        if self.all_clash {
            return 0;
        }
        self.state.hash_one(slug)
    }
}

/// Which stories an index list covers: every story (Global) or one edition's.
type Scope = Option<EditionId>;

/// An index list of the read model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum IndexKey {
    All,
    Sector(SectorId),
    Kind(Kind),
    Tag(TagId),
    Desk(DeskId),
    Author(AuthorId),
}

/// The index lists a card is on. Per edition: all, sector and kind (what fronts and side lists
/// read); tags, desks and authors only site-wide (their pages filter by edition, lists are short).
fn index_keys(c: &StoryCard) -> Vec<(Scope, IndexKey)> {
    let mut scopes: Vec<Scope> = vec![None];
    for p in &c.placements {
        if !scopes.contains(&Some(p.edition_id)) {
            scopes.push(Some(p.edition_id));
        }
    }
    let mut keys = Vec::with_capacity(scopes.len() * 3 + c.tag_ids.len() + c.author_ids.len() + 1);
    for s in scopes {
        keys.push((s, IndexKey::All));
        keys.push((s, IndexKey::Sector(c.sector_id)));
        keys.push((s, IndexKey::Kind(c.kind)));
    }
    let others = c
        .tag_ids
        .iter()
        .map(|t| IndexKey::Tag(*t))
        .chain(c.author_ids.iter().map(|a| IndexKey::Author(*a)))
        .chain(c.desk_id.map(IndexKey::Desk));
    for k in others {
        if !keys.contains(&(None, k)) {
            keys.push((None, k));
        }
    }
    keys
}

/// Removes `card` from a list in timeline order.
fn remove_sorted(list: &mut Vec<Arc<StoryCard>>, card: &StoryCard) {
    let key = order_key(card);
    match list.binary_search_by(|c| order_key(c).cmp(&key)) {
        Ok(i) => {
            list.remove(i);
        }
        Err(_) => list.retain(|c| c.id != card.id),
    }
}

/// Inserts `card` into a list in timeline order.
fn insert_sorted(list: &mut Vec<Arc<StoryCard>>, card: &Arc<StoryCard>) {
    let key = order_key(card);
    let at = list
        .binary_search_by(|c| order_key(c).cmp(&key))
        .unwrap_or_else(|i| i);
    list.insert(at, card.clone());
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
                s.slug_insert(&c);
                s.index_media(&c, true);
                s.cards.insert(c.id, c.clone());
                s.timeline.push(c);
            }
        }
        s.timeline.sort_by_key(|c| order_key(c));
        for c in &s.timeline {
            for k in index_keys(c) {
                s.index.entry(k).or_default().push(c.clone());
            }
        }
        for list in s.index.values_mut() {
            list.shrink_to_fit();
        }
        s.timeline.shrink_to_fit();
        s
    }

    /// Notes `card`'s slug (call before `card` is in `cards`).
    fn slug_insert(&mut self, card: &StoryCard) {
        use std::collections::hash_map::Entry;
        let slug = card.slug.as_str();
        match self.by_slug.entry(self.slug_hash.of(slug)) {
            Entry::Vacant(e) => {
                e.insert(card.id);
            }
            Entry::Occupied(mut e) => {
                let same = *e.get() == card.id
                    || self
                        .cards
                        .get(e.get())
                        .is_none_or(|other| other.slug.as_str() == slug);
                if same {
                    e.insert(card.id);
                } else {
                    self.slug_clashes.insert(slug.to_owned(), card.id);
                }
            }
        }
    }

    /// Forgets `card`'s slug.
    fn slug_remove(&mut self, card: &StoryCard) {
        let slug = card.slug.as_str();
        if self.slug_clashes.get(slug) == Some(&card.id) {
            self.slug_clashes.remove(slug);
            return;
        }
        let key = self.slug_hash.of(slug);
        if self.by_slug.get(&key) == Some(&card.id) {
            self.by_slug.remove(&key);
        }
    }

    /// The held story whose slug is `slug`.
    fn slug_lookup(&self, slug: &str) -> Option<&Arc<StoryCard>> {
        if let Some(id) = self.slug_clashes.get(slug) {
            return self.cards.get(id);
        }
        let id = self.by_slug.get(&self.slug_hash.of(slug))?;
        self.cards.get(id).filter(|c| c.slug.as_str() == slug)
    }

    /// Bytes the held stories cost the read model, counted from the sizes and capacities of
    /// what it holds: each card (inline, its heap text and lists, the `Arc` around it) and its
    /// entries in the maps and index lists. Allocator overhead is not counted.
    pub fn story_bytes(&self) -> usize {
        fn map<K, V>(m: &HashMap<K, V>) -> usize {
            // hashbrown: one control byte per bucket besides the slot.
            m.capacity() * (std::mem::size_of::<(K, V)>() + 1)
        }
        let ptr = std::mem::size_of::<Arc<StoryCard>>();
        let lists: usize = self.index.values().map(|l| l.capacity() * ptr).sum();
        let clashes: usize = self.slug_clashes.keys().map(String::capacity).sum();
        let cards: usize = self.cards.values().map(|c| card_bytes(c)).sum();
        cards
            + map(&self.cards)
            + map(&self.by_slug)
            + map(&self.slug_clashes)
            + clashes
            + self.timeline.capacity() * ptr
            + map(&self.index)
            + lists
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
            self.slug_remove(&old);
            self.index_media(&old, false);
            remove_sorted(&mut self.timeline, &old);
            for k in index_keys(&old) {
                if let Some(list) = self.index.get_mut(&k) {
                    remove_sorted(list, &old);
                    if list.is_empty() {
                        self.index.remove(&k);
                    }
                }
            }
        }
        if let Some(card) = card.filter(|c| c.visible_from().is_some()) {
            let card = Arc::new(card);
            insert_sorted(&mut self.timeline, &card);
            for k in index_keys(&card) {
                insert_sorted(self.index.entry(k).or_default(), &card);
            }
            self.slug_insert(&card);
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
        // Newest visible first: the future ones are at the front, the soonest last of them.
        self.timeline
            .iter()
            .map_while(|c| c.visible_from().filter(|t| *t > now))
            .last()
    }

    /// A held story by id, public or not yet (embargoed, scheduled).
    pub fn card(&self, id: StoryId) -> Option<&Arc<StoryCard>> {
        self.cards.get(&id)
    }

    /// Stories that became visible after `after`, up to `upto`.
    pub fn became_visible(
        &self,
        after: DateTime<Utc>,
        upto: DateTime<Utc>,
    ) -> impl Iterator<Item = &Arc<StoryCard>> {
        let start = self
            .timeline
            .partition_point(|c| c.visible_from().is_some_and(|t| t > upto));
        self.timeline[start..]
            .iter()
            .take_while(move |c| c.visible_from().is_some_and(|t| t > after))
    }

    /// Held stories whose hero is `image`.
    pub fn with_image(&self, image: ImageId) -> impl Iterator<Item = &Arc<StoryCard>> {
        self.timeline
            .iter()
            .filter(move |c| c.hero_image_id == Some(image))
    }

    /// A public story by its current slug.
    pub fn public_by_slug(&self, slug: &str, now: DateTime<Utc>) -> Option<&Arc<StoryCard>> {
        self.slug_lookup(slug).filter(|c| c.is_public_at(now))
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
        self.public_after(now, edition, filter, None)
    }

    /// As [`Snapshot::public`], starting after the story visible from `after.0` with id
    /// `after.1` (a cursor: the last story of the previous page), found by binary search.
    pub fn public_after<'a>(
        &'a self,
        now: DateTime<Utc>,
        edition: &'a Edition,
        filter: Filter,
        after: Option<(DateTime<Utc>, StoryId)>,
    ) -> impl Iterator<Item = &'a Arc<StoryCard>> + 'a {
        let list = self.list_for(edition, filter);
        // Lists are sorted newest-visible first, so skip the ones still in the future.
        let mut start = list.partition_point(|c| c.visible_from().is_some_and(|t| t > now));
        if let Some((t, id)) = after {
            let key = (std::cmp::Reverse(Some(t)), std::cmp::Reverse(id));
            start = start.max(list.partition_point(|c| order_key(c) <= key));
        }
        let tz = edition.tz;
        let global = edition.is_global();
        list[start..].iter().filter(move |c| {
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

    /// The index list that holds every story of a listing (maybe more, which `public` filters).
    fn list_for(&self, edition: &Edition, filter: Filter) -> &[Arc<StoryCard>] {
        let scope = (!edition.is_global()).then_some(edition.id);
        let key = match filter {
            Filter::All | Filter::Day(_) | Filter::Month(..) => (scope, IndexKey::All),
            Filter::Sector(s) => (scope, IndexKey::Sector(s)),
            Filter::Kind(k) => (scope, IndexKey::Kind(k)),
            Filter::Tag(t) => (None, IndexKey::Tag(t)),
            Filter::Desk(d) => (None, IndexKey::Desk(d)),
            Filter::Author(a) => (None, IndexKey::Author(a)),
        };
        self.index.get(&key).map(Vec::as_slice).unwrap_or(&[])
    }

    /// How many public stories a listing has; without a scan when its index list is exact.
    pub fn count(&self, now: DateTime<Utc>, edition: &Edition, filter: Filter) -> usize {
        let exact = matches!(filter, Filter::All | Filter::Sector(_) | Filter::Kind(_))
            || edition.is_global() && !matches!(filter, Filter::Day(_) | Filter::Month(..));
        if exact {
            let list = self.list_for(edition, filter);
            list.len() - list.partition_point(|c| c.visible_from().is_some_and(|t| t > now))
        } else {
            self.public(now, edition, filter).count()
        }
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
        let total = self.count(now, edition, filter);
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
    /// Candidates are only the newest [`RELATED_PER_LIST`] × `n` entries of each of its tags'
    /// index lists and the newest `n` of its sector's, so a lookup reads a bounded handful of
    /// cards (it runs on every assembly of an article page, not once per story part).
    pub fn related(
        &self,
        now: DateTime<Utc>,
        edition: &Edition,
        card: &StoryCard,
        n: usize,
    ) -> Vec<Arc<StoryCard>> {
        let per_list = n.saturating_mul(RELATED_PER_LIST);
        let mut cand: Vec<(usize, &Arc<StoryCard>)> = Vec::new();
        let lists = card
            .tag_ids
            .iter()
            .map(|t| Filter::Tag(*t))
            .chain([Filter::Sector(card.sector_id)]);
        for f in lists {
            let take = if matches!(f, Filter::Sector(_)) {
                n
            } else {
                per_list
            };
            for c in self
                .public(now, edition, f)
                .filter(|c| c.id != card.id)
                .take(take)
            {
                if cand.iter().any(|(_, k)| k.id == c.id) {
                    continue;
                }
                let shared = c
                    .tag_ids
                    .iter()
                    .filter(|t| card.tag_ids.contains(t))
                    .count();
                let score = shared * 2 + usize::from(c.sector_id == card.sector_id);
                if score > 0 {
                    cand.push((score, c));
                }
            }
        }
        // Most shared first, newest first among equals.
        cand.sort_unstable_by_key(|(score, c)| (std::cmp::Reverse(*score), order_key(c)));
        cand.into_iter().take(n).map(|(_, c)| c.clone()).collect()
    }

    /// The tag at `slug` if a story public at `now` carries it: saving a draft creates its tags,
    /// and a tag no public story has would tell readers what is being written.
    pub fn public_tag_by_slug(&self, slug: &str, now: DateTime<Utc>) -> Option<&Tag> {
        let tag = self.tax.tag_by_slug(slug)?;
        // The tag's index list is in timeline order: stories not yet visible first.
        let list = self
            .index
            .get(&(None, IndexKey::Tag(tag.id)))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let first_public = list.partition_point(|c| c.visible_from().is_some_and(|t| t > now));
        (first_public < list.len()).then_some(tag)
    }

    /// Every public story (sitemaps), newest first.
    pub fn all_public(&self, now: DateTime<Utc>) -> impl Iterator<Item = &Arc<StoryCard>> {
        let start = self
            .timeline
            .partition_point(|c| c.visible_from().is_some_and(|t| t > now));
        self.timeline[start..].iter()
    }
}

/// Newest entries of each tag list, per related story asked for, that [`Snapshot::related`]
/// looks at.
pub const RELATED_PER_LIST: usize = 4;

/// Bytes one card costs where it is held behind an `Arc`: the `Arc`'s counters, the card
/// inline, and the capacity of its text and lists on the heap (allocator overhead not counted).
pub fn card_bytes(c: &StoryCard) -> usize {
    2 * std::mem::size_of::<usize>()
        + std::mem::size_of::<StoryCard>()
        + c.slug.as_str().len()
        + c.headline.as_str().len()
        + c.summary.capacity()
        + c.region.capacity()
        + c.placements.capacity() * std::mem::size_of::<Placement>()
        + c.author_ids.capacity() * std::mem::size_of::<AuthorId>()
        + c.tag_ids.capacity() * std::mem::size_of::<TagId>()
        + c.video.as_ref().map_or(0, String::capacity)
}

/// When a story first went public (its publication or embargo end).
pub fn first_published(c: &StoryCard) -> Option<DateTime<Utc>> {
    c.visible_from()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn card(id: i64, minute: i64, sector: i64, kind: Kind, tags: &[i64], eds: &[i64]) -> StoryCard {
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        StoryCard {
            id: StoryId(id),
            version: 1,
            slug: Slug::parse(&format!("story-{id}")).unwrap(),
            kind,
            status: StoryStatus::Published,
            headline: Headline::parse(&format!("Story {id}")).unwrap(),
            summary: String::new(),
            sector_id: SectorId(sector),
            region: String::new(),
            primary_edition_id: EditionId(eds.first().copied().unwrap_or(1)),
            placements: eds
                .iter()
                .map(|e| Placement {
                    edition_id: EditionId(*e),
                    rank: None,
                })
                .collect(),
            desk_id: Some(DeskId(id % 2)),
            author_ids: vec![AuthorId(id % 3)],
            tag_ids: tags.iter().map(|t| TagId(*t)).collect(),
            hero_image_id: None,
            video: None,
            provenance: Provenance::Staff,
            updated_at: t0,
            published_at: Some(t0 + chrono::Duration::minutes(minute)),
            embargo_until: None,
        }
    }

    fn edition(id: i64, slug: &str) -> Edition {
        Edition {
            id: EditionId(id),
            slug: Slug::parse(slug).unwrap(),
            name: slug.into(),
            tz: chrono_tz::UTC,
            position: id as i32,
        }
    }

    /// The filter `public` must agree with, applied to every card.
    fn naive(s: &Snapshot, now: DateTime<Utc>, ed: &Edition, f: Filter) -> Vec<StoryId> {
        let mut all: Vec<&Arc<StoryCard>> =
            s.cards.values().filter(|c| c.is_public_at(now)).collect();
        all.sort_by_key(|c| order_key(c));
        all.into_iter()
            .filter(|c| ed.is_global() || c.in_edition(ed.id))
            .filter(|c| match f {
                Filter::All => true,
                Filter::Sector(x) => c.sector_id == x,
                Filter::Kind(k) => c.kind == k,
                Filter::Tag(t) => c.tag_ids.contains(&t),
                Filter::Desk(d) => c.desk_id == Some(d),
                Filter::Author(a) => c.author_ids.contains(&a),
                _ => true,
            })
            .map(|c| c.id)
            .collect()
    }

    #[test]
    fn related_stories_share_the_most_tags_newest_first_from_the_newest_of_each_list() {
        // Story 1 (sector 1, tags 1 and 2); the others, newer the higher the id.
        let mut cards = vec![card(1, 0, 1, Kind::News, &[1, 2], &[1])];
        cards.push(card(2, 2, 1, Kind::News, &[1, 2], &[1])); // both tags, same sector: 5
        cards.push(card(3, 3, 2, Kind::News, &[1, 2], &[1])); // both tags: 4
        cards.push(card(4, 4, 2, Kind::News, &[2], &[1])); // one tag: 2
        cards.push(card(5, 5, 1, Kind::News, &[], &[1])); // same sector only: 1
        cards.push(card(6, 6, 3, Kind::News, &[9], &[1])); // nothing shared
                                                           // Many newer stories of tag 1 in another sector: the list's newest entries.
        for i in 0..100 {
            cards.push(card(100 + i, 100 + i, 3, Kind::News, &[1], &[1]));
        }
        let s = Snapshot::new(Taxonomy::default(), vec![], vec![], cards);
        let now = DateTime::from_timestamp(1_900_000_000, 0).unwrap();
        let ed = edition(1, "global");
        let me = s.card(StoryId(1)).unwrap().clone();
        let ids = |n| -> Vec<i64> { s.related(now, &ed, &me, n).iter().map(|c| c.id.0).collect() };
        // Tag 1's newest 4 × 2 are all one-tag stories; tag 2's list is short, so the stories
        // sharing both tags are found through it and come first.
        assert_eq!(ids(2), vec![2, 3]);
        let five = ids(5);
        assert_eq!(&five[..3], &[2, 3, 199]);
        assert!(!five.contains(&1) && !five.contains(&6));
        // Only the newest entries of tag 1's list were looked at.
        assert!(five.iter().all(|id| *id < 100 || *id >= 180), "{five:?}");
    }

    #[test]
    fn index_lists_agree_with_a_scan_through_changes() {
        let kinds = [Kind::News, Kind::Opinion, Kind::Short];
        let cards: Vec<StoryCard> = (1..=60)
            .map(|i| {
                card(
                    i,
                    i * 7 % 61,
                    i % 4,
                    kinds[(i % 3) as usize],
                    &[i % 5, 10 + i % 2],
                    if i % 3 == 0 { &[1, 2] } else { &[1] },
                )
            })
            .collect();
        let mut s = Snapshot::new(Taxonomy::default(), vec![], vec![], cards);
        // Changes: a story moves sector, kind, tags and edition; one is unpublished; one is new;
        // one is embargoed into the future.
        s.apply_card(StoryId(9), Some(card(9, 3, 3, Kind::Short, &[4], &[2])));
        s.apply_card(StoryId(10), None);
        s.apply_card(
            StoryId(99),
            Some(card(99, 100, 1, Kind::Opinion, &[1], &[1, 2])),
        );
        s.apply_card(
            StoryId(98),
            Some(card(98, 10_000, 1, Kind::News, &[1], &[1])),
        );
        let now =
            DateTime::from_timestamp(1_800_000_000, 0).unwrap() + chrono::Duration::minutes(200);
        let mut filters = vec![Filter::All];
        filters.extend((0..4).map(|x| Filter::Sector(SectorId(x))));
        filters.extend(kinds.iter().map(|k| Filter::Kind(*k)));
        filters.extend((0..12).map(|x| Filter::Tag(TagId(x))));
        filters.extend((0..2).map(|x| Filter::Desk(DeskId(x))));
        filters.extend((0..3).map(|x| Filter::Author(AuthorId(x))));
        for ed in [
            edition(1, "global"),
            edition(2, "africa"),
            edition(3, "asia"),
        ] {
            for f in &filters {
                let want = naive(&s, now, &ed, *f);
                let got: Vec<StoryId> = s.public(now, &ed, *f).map(|c| c.id).collect();
                assert_eq!(got, want, "{} {f:?}", ed.slug);
                assert_eq!(s.count(now, &ed, *f), want.len(), "{} {f:?}", ed.slug);
            }
        }
        assert!(!s
            .public(now, &edition(1, "global"), Filter::All)
            .any(|c| c.id == StoryId(98)));
        assert_eq!(
            s.next_visibility_after(now),
            DateTime::from_timestamp(1_800_000_000, 0)
                .map(|t| t + chrono::Duration::minutes(10_000))
        );
    }

    #[test]
    fn every_story_is_found_by_its_slug_when_slug_hashes_clash() {
        let now =
            DateTime::from_timestamp(1_800_000_000, 0).unwrap() + chrono::Duration::minutes(500);
        for all_clash in [false, true] {
            let mut s = Snapshot::default();
            s.slug_hash.all_clash = all_clash;
            for i in 1..=40 {
                s.apply_card(StoryId(i), Some(card(i, i, 1, Kind::News, &[1], &[1])));
            }
            // Renamed, removed, re-added.
            let mut renamed = card(7, 7, 1, Kind::News, &[1], &[1]);
            renamed.slug = Slug::parse("story-7-renamed").unwrap();
            s.apply_card(StoryId(7), Some(renamed));
            s.apply_card(StoryId(1), None);
            s.apply_card(StoryId(2), None);
            s.apply_card(StoryId(2), Some(card(2, 2, 1, Kind::News, &[1], &[1])));
            for i in 1..=40 {
                let got = s.public_by_slug(&format!("story-{i}"), now).map(|c| c.id);
                let want = (i != 1 && i != 7).then_some(StoryId(i));
                assert_eq!(got, want, "story-{i}, all_clash {all_clash}");
            }
            assert_eq!(
                s.public_by_slug("story-7-renamed", now).map(|c| c.id),
                Some(StoryId(7))
            );
            assert!(s.public_by_slug("story-41", now).is_none());
            // Nothing is left behind for the stories that went.
            assert_eq!(s.by_slug.len() + s.slug_clashes.len(), 39);
        }
    }

    /// A story as the demo corpus makes them (and as news sites have them): a 62-byte slug, a
    /// 63-byte headline, a 125-byte summary, a region, one or two editions, one author, three tags.
    fn typical(id: i64) -> StoryCard {
        let mut c = card(
            id,
            id,
            id % 9,
            Kind::News,
            &[id % 50, 50 + id % 7, 60 + id % 11],
            if id % 4 == 0 { &[1, 2] } else { &[1] },
        );
        c.slug = Slug::parse(&format!("{:0>62}", format!("s-{id}"))).unwrap();
        c.headline = Headline::parse(&format!("{:x>63}", id)).unwrap();
        c.summary = format!("{:y>125}", id);
        c.region = "Kenya".into();
        c
    }

    #[test]
    fn a_story_costs_the_read_model_a_bounded_number_of_bytes() {
        const N: i64 = 2_000;
        let s = Snapshot::new(
            Taxonomy::default(),
            vec![],
            vec![],
            (1..=N).map(typical).collect(),
        );
        let card = card_bytes(s.card(StoryId(1)).unwrap());
        let per_story = s.story_bytes() / N as usize;
        eprintln!(
            "StoryCard inline {} bytes; a typical card {card} bytes; {per_story} bytes per story \
             in the read model",
            std::mem::size_of::<StoryCard>()
        );
        // The card: ~330 inline, ~290 of text and lists.
        assert!(card <= 700, "{card}");
        // The maps and index lists add little to it: no second copy of the slug (which alone
        // was some 90 bytes more per story).
        assert!(
            per_story <= card + 200,
            "{per_story} per story, card {card}"
        );
    }
}
