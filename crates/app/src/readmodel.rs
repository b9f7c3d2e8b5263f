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
///
/// Cards are held compactly (see [`Held`]): about 400 bytes a story with its index entries, so a
/// million stories take some 400 MB. The methods hand out whole [`StoryCard`]s, rebuilt from the
/// compact form for the few cards a page shows; filters and orderings read the compact form.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Taxonomy.
    pub tax: Arc<Taxonomy>,
    /// Images by id.
    pub images: HashMap<ImageId, Arc<Image>>,
    /// Static pages in footer order.
    pub pages: Vec<Arc<StaticPage>>,
    /// Held cards by slot; a freed slot is `None` until a new card takes it.
    slots: Vec<Option<Held>>,
    free: Vec<u32>,
    /// Held stories' ids in order, and the slot of each (two lists: 12 bytes a story, where a
    /// hash map takes some 25).
    ids: Vec<StoryId>,
    id_slots: Vec<u32>,
    /// (32-bit hash of the slug, slot), sorted: a lookup checks the slug of each slot with the
    /// hash, so clashing hashes are simply several entries. The slug itself is not held twice.
    slugs: Vec<(u32, u32)>,
    slug_hash: SlugHash,
    /// Interned sectors, editions, desks, authors, tags and regions of the held cards.
    names: Names,
    /// The held stories using each picture (hero) and each video file.
    image_users: HashMap<ImageId, Vec<StoryId>>,
    video_users: HashMap<String, Vec<StoryId>>,
    /// Pictures by file key.
    image_keys: HashMap<String, ImageId>,
    /// The held stories by listing (slots), each list in timeline order (newest visible first,
    /// future and embargoed ones at the front), so a listing or side list reads its own few
    /// entries instead of filtering the whole timeline. The timeline itself is the Global
    /// list of all stories.
    index: HashMap<(Scope, IndexKey), Vec<u32>>,
    /// The newest public entries of the index lists related stories are picked from, with what
    /// their scores need, made when first asked for and dropped at every change of a card
    /// (see [`Snapshot::related`]): at most one per index list, so bounded by the index.
    heads: std::sync::Mutex<HashMap<(Scope, IndexKey), Arc<Head>>>,
    /// Tests: related stories read from the cards, never from list heads.
    #[cfg(test)]
    no_heads: bool,
}

/// The newest public entries of an index list, compact and side by side: what
/// [`Snapshot::related`] reads of its candidates, so that picking an article's related stories
/// reads a few hundred contiguous bytes per list instead of some twenty cards spread over the
/// whole model (a memory read each: a third of a page miss's work on related stories).
#[derive(Debug)]
struct Head {
    /// The list's first public entry when made: stale once a scheduled story has come out.
    start: usize,
    /// Whether the head holds the rest of the list (it is shorter than asked for).
    whole: bool,
    cands: Vec<HeadCand>,
    /// The candidates' tags, one after the other (`HeadCand::tags`).
    tags: Vec<u32>,
}

#[derive(Debug)]
struct HeadCand {
    slot: u32,
    key: OrderKey,
    sector: u32,
    /// Its tags in [`Head::tags`]: from, count.
    tags: (u32, u32),
    /// The whole card, made the first time the story is picked (shared by every page that
    /// picks it until the head is dropped).
    card: std::sync::OnceLock<Option<Arc<StoryCard>>>,
}

impl Head {
    fn tags_of(&self, c: &HeadCand) -> &[u32] {
        let (from, n) = (c.tags.0 as usize, c.tags.1 as usize);
        self.tags.get(from..from + n).unwrap_or(&[])
    }
}

/// The hash `Snapshot::slugs` is keyed by.
#[derive(Debug, Default)]
struct SlugHash {
    state: RandomState,
    /// Tests: every slug hashes alike, so every lookup checks every held slug.
    #[cfg(test)]
    all_clash: bool,
}

impl SlugHash {
    fn of(&self, slug: &str) -> u32 {
        #[cfg(test)]
        if self.all_clash {
            return 0;
        }
        // The low half of the hash; a clash costs one more slug comparison.
        (self.state.hash_one(slug) & u64::from(u32::MAX)) as u32
    }
}

/// Small dense numbers for values that many cards share (a sector, an edition, a tag, a region
/// label): a held card stores 4 bytes where the id takes 8 and the text 24 and more. Bounded by
/// the taxonomy (and the distinct region labels) of the published stories; never shrinks.
#[derive(Debug)]
struct Interner<T> {
    of: HashMap<T, u32>,
    all: Vec<T>,
}

impl<T> Default for Interner<T> {
    fn default() -> Self {
        Interner {
            of: HashMap::new(),
            all: Vec::new(),
        }
    }
}

impl<T: Eq + std::hash::Hash> Interner<T> {
    fn put<Q>(&mut self, v: &Q) -> u32
    where
        T: std::borrow::Borrow<Q>,
        Q: Eq + std::hash::Hash + ToOwned<Owned = T> + ?Sized,
    {
        if let Some(i) = self.of.get(v) {
            return *i;
        }
        let i = u32::try_from(self.all.len()).unwrap_or(u32::MAX);
        self.all.push(v.to_owned());
        self.of.insert(v.to_owned(), i);
        i
    }
    fn get<Q>(&self, v: &Q) -> Option<u32>
    where
        T: std::borrow::Borrow<Q>,
        Q: Eq + std::hash::Hash + ?Sized,
    {
        self.of.get(v).copied()
    }
    fn at(&self, i: u32) -> Option<&T> {
        self.all.get(i as usize)
    }
    fn bytes(&self) -> usize {
        self.of.capacity() * (std::mem::size_of::<(T, u32)>() + 1)
            + self.all.capacity() * std::mem::size_of::<T>()
    }
}

#[derive(Debug, Default)]
struct Names {
    sectors: Interner<SectorId>,
    editions: Interner<EditionId>,
    desks: Interner<DeskId>,
    authors: Interner<AuthorId>,
    tags: Interner<TagId>,
    regions: Interner<String>,
}

impl Names {
    fn bytes(&self) -> usize {
        self.sectors.bytes()
            + self.editions.bytes()
            + self.desks.bytes()
            + self.authors.bytes()
            + self.tags.bytes()
            + self.regions.bytes()
            + self.regions.all.iter().map(String::capacity).sum::<usize>() * 2
    }
}

/// No time (an `Option` of a time in milliseconds).
const NO_TIME: i64 = i64::MIN;
/// No desk (interned desk number).
const NO_DESK: u32 = u32::MAX;
/// Set on a placement's edition word when a rank word follows with a value.
const RANKED: u32 = 1 << 31;

/// A story card as the read model holds it: 104 bytes inline plus one heap block with its
/// placements, authors and tags (interned, 4 bytes each) and its text (the slug, unless it is
/// the headline's own slug, which is then derived again when asked for; the headline; the
/// summary). Times in milliseconds (what the store keeps). The embargo end and the video file,
/// which few stories have, are boxed.
#[derive(Debug)]
struct Held {
    id: StoryId,
    version: i64,
    /// First publication (ms), or [`NO_TIME`].
    published: i64,
    updated: i64,
    /// Hero image id, or [`NO_TIME`] for none.
    hero: i64,
    data: Box<[u8]>,
    rare: Option<Box<Rare>>,
    /// Bytes of slug text at the start of the text; 0: the slug is derived from the headline.
    slug_len: u32,
    /// A derived slug's numeric suffix (`-2`), 0 for none.
    suffix: u32,
    headline_len: u32,
    sector: u32,
    primary: u32,
    /// Interned desk or [`NO_DESK`].
    desk: u32,
    region: u32,
    placements: u16,
    /// Placements with a rank (whose rank word follows their edition word).
    ranked: u16,
    authors: u16,
    tags: u16,
    kind: Kind,
    status: StoryStatus,
    provenance: Provenance,
}

/// What few stories have.
#[derive(Debug)]
struct Rare {
    embargo_until: Option<DateTime<Utc>>,
    video: Option<String>,
}

fn millis(t: Option<DateTime<Utc>>) -> i64 {
    t.map_or(NO_TIME, |t| t.timestamp_millis())
}

fn time(ms: i64) -> Option<DateTime<Utc>> {
    if ms == NO_TIME {
        None
    } else {
        DateTime::from_timestamp_millis(ms)
    }
}

impl Held {
    fn word(&self, i: usize) -> u32 {
        self.data
            .get(i * 4..i * 4 + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map_or(0, u32::from_le_bytes)
    }
    fn placement_words(&self) -> usize {
        usize::from(self.placements) + usize::from(self.ranked)
    }
    fn words(&self) -> usize {
        self.placement_words() + usize::from(self.authors) + usize::from(self.tags)
    }
    fn text(&self) -> &str {
        self.data
            .get(self.words() * 4..)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("")
    }
    /// (stored slug text, headline, summary).
    fn parts(&self) -> (&str, &str, &str) {
        let text = self.text();
        let (slug, rest) = text
            .split_at_checked(self.slug_len as usize)
            .unwrap_or(("", text));
        let (headline, summary) = rest
            .split_at_checked(self.headline_len as usize)
            .unwrap_or((rest, ""));
        (slug, headline, summary)
    }
    /// The slug: stored, or the headline's slug with its suffix.
    fn slug(&self) -> Option<Slug> {
        let (slug, headline, _) = self.parts();
        if self.slug_len > 0 {
            return Slug::parse(slug).ok();
        }
        let base = Slug::from_title(headline, "story");
        if self.suffix == 0 {
            Some(base)
        } else {
            Slug::parse(&format!("{base}-{}", self.suffix)).ok()
        }
    }
    fn edition_words(&self) -> impl Iterator<Item = (u32, Option<i32>)> + '_ {
        let mut i = 0;
        (0..usize::from(self.placements)).map(move |_| {
            let e = self.word(i);
            i += 1;
            let rank = (e & RANKED != 0).then(|| {
                i += 1;
                self.word(i - 1) as i32
            });
            (e & !RANKED, rank)
        })
    }
    fn author_words(&self) -> impl Iterator<Item = u32> + '_ {
        let from = self.placement_words();
        (from..from + usize::from(self.authors)).map(|i| self.word(i))
    }
    fn tag_words(&self) -> impl Iterator<Item = u32> + '_ {
        let from = self.placement_words() + usize::from(self.authors);
        (from..from + usize::from(self.tags)).map(|i| self.word(i))
    }
    fn in_edition(&self, e: u32) -> bool {
        self.edition_words().any(|(x, _)| x == e)
    }
    fn has_tag(&self, t: u32) -> bool {
        self.tag_words().any(|x| x == t)
    }
    fn embargo(&self) -> Option<DateTime<Utc>> {
        self.rare.as_ref().and_then(|r| r.embargo_until)
    }
    /// [`StoryCard::visible_from`] in milliseconds.
    fn visible(&self) -> Option<i64> {
        if self.status != StoryStatus::Published || self.published == NO_TIME {
            return None;
        }
        let published = self.published;
        Some(match self.embargo().map(|e| e.timestamp_millis()) {
            Some(e) if e > published => e,
            _ => published,
        })
    }
    fn visible_after(&self, now_ms: i64) -> bool {
        self.visible().is_some_and(|t| t > now_ms)
    }
    fn public_at(&self, now_ms: i64) -> bool {
        self.visible().is_some_and(|t| t <= now_ms)
    }
    fn bytes(&self) -> usize {
        self.data.len()
            + self.rare.as_ref().map_or(0, |r| {
                std::mem::size_of::<Rare>() + r.video.as_ref().map_or(0, String::capacity)
            })
    }
}

fn hold(c: &StoryCard, names: &mut Names) -> Held {
    let headline = c.headline.as_str();
    let base = Slug::from_title(headline, "story");
    let (stored, suffix) = if c.slug == base {
        ("", 0)
    } else {
        let n = c
            .slug
            .as_str()
            .strip_prefix(base.as_str())
            .and_then(|r| r.strip_prefix('-'))
            .and_then(|r| {
                r.parse::<u32>()
                    .ok()
                    .filter(|n| *n > 0 && n.to_string() == r)
            });
        match n {
            Some(n) => ("", n),
            None => (c.slug.as_str(), 0),
        }
    };
    let mut words: Vec<u32> =
        Vec::with_capacity(2 * c.placements.len() + c.author_ids.len() + c.tag_ids.len());
    for p in &c.placements {
        let e = names.editions.put(&p.edition_id);
        match p.rank {
            Some(r) => {
                words.push(e | RANKED);
                words.push(r as u32);
            }
            None => words.push(e),
        }
    }
    for a in &c.author_ids {
        words.push(names.authors.put(a));
    }
    for t in &c.tag_ids {
        words.push(names.tags.put(t));
    }
    let mut data =
        Vec::with_capacity(words.len() * 4 + stored.len() + headline.len() + c.summary.len());
    for w in &words {
        data.extend_from_slice(&w.to_le_bytes());
    }
    data.extend_from_slice(stored.as_bytes());
    data.extend_from_slice(headline.as_bytes());
    data.extend_from_slice(c.summary.as_bytes());
    let rare = (c.embargo_until.is_some() || c.video.is_some()).then(|| {
        Box::new(Rare {
            embargo_until: c.embargo_until,
            video: c.video.clone(),
        })
    });
    let len16 = |n: usize| u16::try_from(n).unwrap_or(u16::MAX);
    Held {
        id: c.id,
        version: c.version,
        published: millis(c.published_at),
        updated: millis(Some(c.updated_at)),
        hero: c.hero_image_id.map_or(NO_TIME, |i| i.0),
        data: data.into_boxed_slice(),
        rare,
        slug_len: u32::try_from(stored.len()).unwrap_or(u32::MAX),
        suffix,
        headline_len: u32::try_from(headline.len()).unwrap_or(u32::MAX),
        sector: names.sectors.put(&c.sector_id),
        primary: names.editions.put(&c.primary_edition_id),
        desk: c.desk_id.map_or(NO_DESK, |d| names.desks.put(&d)),
        region: names.regions.put(c.region.as_str()),
        placements: len16(c.placements.len()),
        ranked: len16(c.placements.iter().filter(|p| p.rank.is_some()).count()),
        authors: len16(c.author_ids.len()),
        tags: len16(c.tag_ids.len()),
        kind: c.kind,
        status: c.status,
        provenance: c.provenance,
    }
}

/// Rebuilds the whole card (`None` only if what was held cannot be read back, which `hold`
/// never makes).
fn expand(h: &Held, names: &Names) -> Option<StoryCard> {
    let (_, headline, summary) = h.parts();
    let placements = h
        .edition_words()
        .map(|(e, rank)| {
            names.editions.at(e).map(|e| Placement {
                edition_id: *e,
                rank,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    let author_ids = h
        .author_words()
        .map(|a| names.authors.at(a).copied())
        .collect::<Option<Vec<_>>>()?;
    let tag_ids = h
        .tag_words()
        .map(|t| names.tags.at(t).copied())
        .collect::<Option<Vec<_>>>()?;
    Some(StoryCard {
        id: h.id,
        version: h.version,
        slug: h.slug()?,
        kind: h.kind,
        status: h.status,
        headline: Headline::parse(headline).ok()?,
        summary: summary.to_owned(),
        sector_id: *names.sectors.at(h.sector)?,
        region: names.regions.at(h.region)?.clone(),
        primary_edition_id: *names.editions.at(h.primary)?,
        placements,
        desk_id: if h.desk == NO_DESK {
            None
        } else {
            Some(*names.desks.at(h.desk)?)
        },
        author_ids,
        tag_ids,
        hero_image_id: (h.hero != NO_TIME).then_some(ImageId(h.hero)),
        video: h.rare.as_ref().and_then(|r| r.video.clone()),
        provenance: h.provenance,
        updated_at: time(h.updated)?,
        published_at: time(h.published),
        embargo_until: h.embargo(),
    })
}

/// Which stories an index list covers: every story (Global) or one edition's (interned).
type Scope = Option<u32>;

/// An index list of the read model (interned ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum IndexKey {
    All,
    Sector(u32),
    Kind(Kind),
    Tag(u32),
    Desk(u32),
    Author(u32),
}

/// The index lists a card is on. Per edition: all, sector and kind (what fronts and side lists
/// read); tags, desks and authors only site-wide (their pages filter by edition, lists are short).
fn index_keys(c: &Held) -> Vec<(Scope, IndexKey)> {
    let mut scopes: Vec<Scope> = vec![None];
    for (e, _) in c.edition_words() {
        if !scopes.contains(&Some(e)) {
            scopes.push(Some(e));
        }
    }
    let mut keys =
        Vec::with_capacity(scopes.len() * 3 + usize::from(c.tags) + usize::from(c.authors) + 1);
    for s in scopes {
        keys.push((s, IndexKey::All));
        keys.push((s, IndexKey::Sector(c.sector)));
        keys.push((s, IndexKey::Kind(c.kind)));
    }
    let desk = (c.desk != NO_DESK).then_some(IndexKey::Desk(c.desk));
    let others = c
        .tag_words()
        .map(IndexKey::Tag)
        .chain(c.author_words().map(IndexKey::Author))
        .chain(desk);
    for k in others {
        if !keys.contains(&(None, k)) {
            keys.push((None, k));
        }
    }
    keys
}

type OrderKey = (std::cmp::Reverse<Option<i64>>, std::cmp::Reverse<StoryId>);

fn order_key(c: &Held) -> OrderKey {
    (std::cmp::Reverse(c.visible()), std::cmp::Reverse(c.id))
}

fn slot_key(slots: &[Option<Held>], slot: u32) -> Option<OrderKey> {
    slots
        .get(slot as usize)
        .and_then(Option::as_ref)
        .map(order_key)
}

/// Removes `slot` (ordered by `key`) from a list in timeline order.
fn remove_sorted(list: &mut Vec<u32>, slots: &[Option<Held>], slot: u32, key: OrderKey) {
    match list.binary_search_by(|s| slot_key(slots, *s).cmp(&Some(key))) {
        Ok(i) if list[i] == slot => {
            list.remove(i);
        }
        _ => list.retain(|s| *s != slot),
    }
}

/// Inserts `slot` into a list in timeline order.
fn insert_sorted(list: &mut Vec<u32>, slots: &[Option<Held>], slot: u32) {
    let key = slot_key(slots, slot);
    let at = list
        .binary_search_by(|s| slot_key(slots, *s).cmp(&key))
        .unwrap_or_else(|i| i);
    list.insert(at, slot);
}

/// A listing filter with the ids interned; `None` where nothing held can match.
#[derive(Debug, Clone, Copy)]
enum Want {
    All,
    Sector(u32),
    Kind(Kind),
    Tag(u32),
    Desk(u32),
    Author(u32),
    Day(NaiveDate),
    Month(i32, u32),
}

/// A [`Snapshot`] being built card by card (see [`Snapshot::builder`]).
pub struct SnapshotBuilder {
    s: Snapshot,
    ids: Vec<(StoryId, u32)>,
    timeline: Vec<u32>,
}

impl SnapshotBuilder {
    /// Adds one story's card (the last card given for an id wins); the card is dropped once
    /// its compact form is held.
    pub fn add(&mut self, c: StoryCard) {
        if c.visible_from().is_some() {
            let s = &mut self.s;
            let held = hold(&c, &mut s.names);
            s.index_media(&held, true);
            let slot = s.alloc(held);
            self.ids.push((c.id, slot));
            self.timeline.push(slot);
        }
    }

    /// The model, its lists sorted and indexed.
    pub fn finish(self) -> Snapshot {
        let SnapshotBuilder {
            mut s,
            mut ids,
            mut timeline,
        } = self;
        ids.sort_unstable();
        // One story once: the last card given for an id wins.
        ids.dedup_by(|later, earlier| {
            if later.0 == earlier.0 {
                std::mem::swap(later, earlier);
                true
            } else {
                false
            }
        });
        (s.ids, s.id_slots) = ids.into_iter().unzip();
        if s.ids.len() < timeline.len() {
            let kept: std::collections::HashSet<u32> = s.id_slots.iter().copied().collect();
            for x in timeline.iter().filter(|x| !kept.contains(x)) {
                if let Some(h) = s.slots.get_mut(*x as usize) {
                    *h = None;
                }
                s.free.push(*x);
            }
            timeline.retain(|x| kept.contains(x));
        }
        let slots = &s.slots;
        timeline.sort_by_key(|x| slot_key(slots, *x));
        for slot in &timeline {
            if let Some(h) = s.slots.get(*slot as usize).and_then(Option::as_ref) {
                for k in index_keys(h) {
                    s.index.entry(k).or_default().push(*slot);
                }
                s.slugs.push((s.slug_hash.of(&slug_text(h)), *slot));
            }
        }
        drop(timeline);
        s.slugs.sort_unstable();
        for list in s.index.values_mut() {
            list.shrink_to_fit();
        }
        s.index.shrink_to_fit();
        s.slots.shrink_to_fit();
        s.ids.shrink_to_fit();
        s.id_slots.shrink_to_fit();
        s.slugs.shrink_to_fit();
        s
    }
}

impl Snapshot {
    /// Builds the model from loaded parts.
    pub fn new(
        tax: Taxonomy,
        images: Vec<Image>,
        pages: Vec<StaticPage>,
        cards: Vec<StoryCard>,
    ) -> Self {
        let mut b = Self::builder(tax, images, pages, cards.len());
        for c in cards {
            b.add(c);
        }
        b.finish()
    }

    /// Starts a model to which cards are added one by one ([`SnapshotBuilder::add`]), so that
    /// the whole cards need not all be held at once: only their compact form is kept.
    /// `expected` is about how many cards will come (room is made for them at once).
    pub fn builder(
        tax: Taxonomy,
        images: Vec<Image>,
        pages: Vec<StaticPage>,
        expected: usize,
    ) -> SnapshotBuilder {
        let mut s = Snapshot {
            tax: Arc::new(tax),
            pages: pages.into_iter().map(Arc::new).collect(),
            ..Default::default()
        };
        for i in images {
            s.put_image(i);
        }
        s.slots.reserve_exact(expected);
        SnapshotBuilder {
            s,
            ids: Vec::with_capacity(expected),
            timeline: Vec::with_capacity(expected),
        }
    }

    fn alloc(&mut self, held: Held) -> u32 {
        if let Some(slot) = self.free.pop() {
            if let Some(x) = self.slots.get_mut(slot as usize) {
                *x = Some(held);
                return slot;
            }
        }
        self.slots.push(Some(held));
        u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX)
    }

    fn held(&self, slot: u32) -> Option<&Held> {
        self.slots.get(slot as usize).and_then(Option::as_ref)
    }

    fn slot_of(&self, id: StoryId) -> Option<u32> {
        let i = self.ids.binary_search(&id).ok()?;
        self.id_slots.get(i).copied()
    }

    fn held_by_id(&self, id: StoryId) -> Option<&Held> {
        self.held(self.slot_of(id)?)
    }

    fn expand(&self, h: &Held) -> Option<Arc<StoryCard>> {
        expand(h, &self.names).map(Arc::new)
    }

    /// Where the stories of `list` (newest visible first) stop being visible only after
    /// `at_ms`: the first one public at `at_ms`. Most lists have nothing scheduled at their head,
    /// so their first story is looked at before searching (a search reads a card at each step,
    /// a memory read each at cards spread over the whole model).
    fn first_public(&self, list: &[u32], at_ms: i64) -> usize {
        let later = |s: &u32| self.held(*s).is_some_and(|c| c.visible_after(at_ms));
        match list.first() {
            Some(s) if later(s) => list.partition_point(later),
            _ => 0,
        }
    }

    /// The held story whose slug is `slug`.
    fn slug_lookup(&self, slug: &str) -> Option<&Held> {
        let hash = self.slug_hash.of(slug);
        let from = self.slugs.partition_point(|(h, _)| *h < hash);
        self.slugs[from..]
            .iter()
            .take_while(|(h, _)| *h == hash)
            .filter_map(|(_, slot)| self.held(*slot))
            .find(|h| slug_is(h, slug))
    }

    /// Bytes the held stories cost the read model, counted from the sizes and capacities of
    /// what it holds: each card (inline in its slot, its heap block, its rare box) and its
    /// entries in the id, slug and index lists (see also [`Snapshot::shared_bytes`]).
    /// Allocator overhead is not counted.
    pub fn story_bytes(&self) -> usize {
        let u32s = std::mem::size_of::<u32>();
        let lists: usize = self.index.values().map(|l| l.capacity() * u32s).sum();
        let held: usize = self.slots.iter().flatten().map(Held::bytes).sum();
        self.slots.capacity() * std::mem::size_of::<Option<Held>>()
            + held
            + self.free.capacity() * u32s
            + self.ids.capacity() * std::mem::size_of::<StoryId>()
            + self.id_slots.capacity() * u32s
            + self.slugs.capacity() * std::mem::size_of::<(u32, u32)>()
            + lists
    }

    /// Bytes of what the stories share rather than each holds: the index lists' table and the
    /// interned names (bounded by the taxonomy, not the number of stories).
    pub fn shared_bytes(&self) -> usize {
        self.index.capacity() * (std::mem::size_of::<((Scope, IndexKey), Vec<u32>)>() + 1)
            + self.names.bytes()
    }

    /// Published stories (including future and embargoed ones) by slot, newest visible first:
    /// the Global list of all stories.
    fn timeline(&self) -> &[u32] {
        self.index
            .get(&(None, IndexKey::All))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Number of published stories held (including not-yet-visible ones).
    pub fn len(&self) -> usize {
        self.timeline().len()
    }

    /// Whether no story is held.
    pub fn is_empty(&self) -> bool {
        self.timeline().is_empty()
    }

    /// Replaces or removes one story after a change.
    pub fn apply_card(&mut self, id: StoryId, card: Option<StoryCard>) {
        self.heads
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        if let Ok(i) = self.ids.binary_search(&id) {
            self.ids.remove(i);
            let slot = self.id_slots.remove(i);
            if let Some(old) = self.slots.get_mut(slot as usize).and_then(Option::take) {
                // Put back for the ordered removals, then free.
                let key = order_key(&old);
                let keys = index_keys(&old);
                self.index_media(&old, false);
                let hash = self.slug_hash.of(&slug_text(&old));
                if let Some(x) = self.slots.get_mut(slot as usize) {
                    *x = Some(old);
                }
                for k in keys {
                    if let Some(list) = self.index.get_mut(&k) {
                        remove_sorted(list, &self.slots, slot, key);
                        if list.is_empty() {
                            self.index.remove(&k);
                        }
                    }
                }
                if let Ok(i) = self.slugs.binary_search(&(hash, slot)) {
                    self.slugs.remove(i);
                }
                if let Some(x) = self.slots.get_mut(slot as usize) {
                    *x = None;
                }
                self.free.push(slot);
            }
        }
        if let Some(card) = card.filter(|c| c.visible_from().is_some()) {
            let held = hold(&card, &mut self.names);
            self.index_media(&held, true);
            let keys = index_keys(&held);
            let hash = self.slug_hash.of(&slug_text(&held));
            let slot = self.alloc(held);
            for k in keys {
                insert_sorted(self.index.entry(k).or_default(), &self.slots, slot);
            }
            let at = self
                .slugs
                .binary_search(&(hash, slot))
                .unwrap_or_else(|i| i);
            self.slugs.insert(at, (hash, slot));
            let at = self.ids.binary_search(&id).unwrap_or_else(|i| i);
            self.ids.insert(at, id);
            self.id_slots.insert(at, slot);
        }
    }

    fn index_media(&mut self, c: &Held, add: bool) {
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
        if c.hero != NO_TIME {
            note(&mut self.image_users, ImageId(c.hero), c.id, add);
        }
        if let Some(v) = c.rare.as_ref().and_then(|r| r.video.as_ref()) {
            note(&mut self.video_users, v.clone(), c.id, add);
        }
    }

    /// Whether the media file `name` (a picture variant `{key}-{width}.{ext}` or a video) belongs
    /// to a story public at `now`. Only those are served to anyone; the newsroom sees the others
    /// through its session.
    pub fn media_is_public(&self, name: &str, now: DateTime<Utc>) -> bool {
        let now_ms = now.timestamp_millis();
        let public = |ids: Option<&Vec<StoryId>>| {
            ids.is_some_and(|ids| {
                ids.iter()
                    .any(|id| self.held_by_id(*id).is_some_and(|h| h.public_at(now_ms)))
            })
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

    fn timeline_held(&self) -> impl Iterator<Item = &Held> {
        self.timeline().iter().filter_map(|s| self.held(*s))
    }

    /// The earliest moment after `now` at which a held story becomes visible, if any.
    pub fn next_visibility_after(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let now_ms = now.timestamp_millis();
        // Newest visible first: the future ones are at the front, the soonest last of them.
        // (Times are whole milliseconds, so comparing with `now`'s millisecond is exact.)
        self.timeline_held()
            .map_while(|c| c.visible().filter(|t| *t > now_ms))
            .last()
            .and_then(time)
    }

    /// A held story by id, public or not yet (embargoed, scheduled).
    pub fn card(&self, id: StoryId) -> Option<Arc<StoryCard>> {
        self.expand(self.held_by_id(id)?)
    }

    /// Stories that became visible after `after`, up to `upto`.
    pub fn became_visible(
        &self,
        after: DateTime<Utc>,
        upto: DateTime<Utc>,
    ) -> impl Iterator<Item = Arc<StoryCard>> + '_ {
        let (after, upto) = (after.timestamp_millis(), upto.timestamp_millis());
        let start = self.first_public(self.timeline(), upto);
        self.timeline()[start..]
            .iter()
            .filter_map(|s| self.held(*s))
            .take_while(move |c| c.visible_after(after))
            .filter_map(|c| self.expand(c))
    }

    /// Held stories whose hero is `image`.
    pub fn with_image(&self, image: ImageId) -> impl Iterator<Item = Arc<StoryCard>> + '_ {
        self.timeline_held()
            .filter(move |c| c.hero == image.0)
            .filter_map(|c| self.expand(c))
    }

    /// A public story by its current slug.
    pub fn public_by_slug(&self, slug: &str, now: DateTime<Utc>) -> Option<Arc<StoryCard>> {
        self.slug_lookup(slug)
            .filter(|c| c.public_at(now.timestamp_millis()))
            .and_then(|c| self.expand(c))
    }

    /// The id of the public story at `slug` (without rebuilding its card: every article
    /// request asks, to count the view).
    pub fn public_id_by_slug(&self, slug: &str, now: DateTime<Utc>) -> Option<StoryId> {
        self.slug_lookup(slug)
            .filter(|c| c.public_at(now.timestamp_millis()))
            .map(|c| c.id)
    }

    /// A public story by id.
    pub fn public_card(&self, id: StoryId, now: DateTime<Utc>) -> Option<Arc<StoryCard>> {
        self.held_by_id(id)
            .filter(|c| c.public_at(now.timestamp_millis()))
            .and_then(|c| self.expand(c))
    }

    /// Whether the story `id` is public at `now` (without rebuilding its card).
    pub fn is_public(&self, id: StoryId, now: DateTime<Utc>) -> bool {
        self.held_by_id(id)
            .is_some_and(|c| c.public_at(now.timestamp_millis()))
    }

    /// Whether the story `id` is public at `now` and placed in `edition`.
    pub fn is_public_in(&self, id: StoryId, now: DateTime<Utc>, edition: EditionId) -> bool {
        let Some(e) = self.names.editions.get(&edition) else {
            return false;
        };
        self.held_by_id(id)
            .is_some_and(|c| c.public_at(now.timestamp_millis()) && c.in_edition(e))
    }

    /// The filter with interned ids; `None` when no held story can pass it.
    fn want(&self, filter: Filter) -> Option<Want> {
        let n = &self.names;
        Some(match filter {
            Filter::All => Want::All,
            Filter::Sector(s) => Want::Sector(n.sectors.get(&s)?),
            Filter::Kind(k) => Want::Kind(k),
            Filter::Tag(t) => Want::Tag(n.tags.get(&t)?),
            Filter::Desk(d) => Want::Desk(n.desks.get(&d)?),
            Filter::Author(a) => Want::Author(n.authors.get(&a)?),
            Filter::Day(d) => Want::Day(d),
            Filter::Month(y, m) => Want::Month(y, m),
        })
    }

    /// Every held story (public or not yet visible) on the list of `filter`, in timeline order:
    /// the stories whose pages show a tag's, desk's or author's name, which search indexes
    /// again when the name changes.
    pub fn held_ids(&self, filter: Filter) -> Vec<StoryId> {
        let Some(want) = self.want(filter) else {
            return Vec::new();
        };
        self.list_for(true, None, want)
            .iter()
            .filter_map(|s| self.held(*s))
            .filter(|c| match want {
                Want::Tag(t) => c.has_tag(t),
                Want::Desk(d) => c.desk == d,
                Want::Author(a) => c.author_words().any(|x| x == a),
                Want::Sector(s) => c.sector == s,
                Want::Kind(k) => c.kind == k,
                Want::All | Want::Day(_) | Want::Month(..) => true,
            })
            .map(|c| c.id)
            .collect()
    }

    /// Public held stories, newest first, that are in `edition` (all for Global) and pass
    /// `filter`.
    fn public_held<'a>(
        &'a self,
        now: DateTime<Utc>,
        edition: &'a Edition,
        filter: Filter,
        after: Option<(DateTime<Utc>, StoryId)>,
    ) -> impl Iterator<Item = &'a Held> + 'a {
        self.public_slots_after(now, edition, filter, after)
            .map(|(_, c)| c)
    }

    /// [`Snapshot::public_held`] with each story's slot.
    fn public_slots<'a>(
        &'a self,
        now: DateTime<Utc>,
        edition: &'a Edition,
        filter: Filter,
    ) -> impl Iterator<Item = (u32, &'a Held)> + 'a {
        self.public_slots_after(now, edition, filter, None)
    }

    fn public_slots_after<'a>(
        &'a self,
        now: DateTime<Utc>,
        edition: &'a Edition,
        filter: Filter,
        after: Option<(DateTime<Utc>, StoryId)>,
    ) -> impl Iterator<Item = (u32, &'a Held)> + 'a {
        let global = edition.is_global();
        let ed = self.names.editions.get(&edition.id);
        let want = self.want(filter).filter(|_| global || ed.is_some());
        let list: &[u32] = match want {
            Some(w) => self.list_for(global, ed, w),
            None => &[],
        };
        let now_ms = now.timestamp_millis();
        // Lists are sorted newest-visible first, so skip the ones still in the future.
        let mut start = self.first_public(list, now_ms);
        if let Some((t, id)) = after {
            let key: OrderKey = (
                std::cmp::Reverse(Some(t.timestamp_millis())),
                std::cmp::Reverse(id),
            );
            start = start
                .max(list.partition_point(|s| self.held(*s).is_some_and(|c| order_key(c) <= key)));
        }
        let tz = edition.tz;
        let ed = ed.unwrap_or(u32::MAX);
        list[start..]
            .iter()
            .filter_map(|s| Some((*s, self.held(*s)?)))
            .filter(move |(_, c)| {
                (global || c.in_edition(ed))
                    && match want {
                        None | Some(Want::All) => true,
                        Some(Want::Sector(s)) => c.sector == s,
                        Some(Want::Kind(k)) => c.kind == k,
                        Some(Want::Tag(t)) => c.has_tag(t),
                        Some(Want::Desk(d)) => c.desk == d,
                        Some(Want::Author(a)) => c.author_words().any(|x| x == a),
                        Some(Want::Day(d)) => c
                            .visible()
                            .and_then(time)
                            .is_some_and(|t| t.with_timezone(&tz).date_naive() == d),
                        Some(Want::Month(y, m)) => c.visible().and_then(time).is_some_and(|t| {
                            let local = t.with_timezone(&tz);
                            local.year() == y && local.month() == m
                        }),
                    }
            })
    }

    /// Public stories, newest first, that are in `edition` (all for Global) and pass `filter`.
    pub fn public<'a>(
        &'a self,
        now: DateTime<Utc>,
        edition: &'a Edition,
        filter: Filter,
    ) -> impl Iterator<Item = Arc<StoryCard>> + 'a {
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
    ) -> impl Iterator<Item = Arc<StoryCard>> + 'a {
        self.public_held(now, edition, filter, after)
            .filter_map(|c| self.expand(c))
    }

    /// The index list that holds every story of a listing (maybe more, which `public` filters).
    fn list_for(&self, global: bool, ed: Option<u32>, want: Want) -> &[u32] {
        let scope = if global { None } else { ed };
        let key = match want {
            Want::All | Want::Day(_) | Want::Month(..) => (scope, IndexKey::All),
            Want::Sector(s) => (scope, IndexKey::Sector(s)),
            Want::Kind(k) => (scope, IndexKey::Kind(k)),
            Want::Tag(t) => (None, IndexKey::Tag(t)),
            Want::Desk(d) => (None, IndexKey::Desk(d)),
            Want::Author(a) => (None, IndexKey::Author(a)),
        };
        self.index.get(&key).map(Vec::as_slice).unwrap_or(&[])
    }

    /// How many public stories a listing has; without a scan when its index list is exact.
    pub fn count(&self, now: DateTime<Utc>, edition: &Edition, filter: Filter) -> usize {
        let exact = matches!(filter, Filter::All | Filter::Sector(_) | Filter::Kind(_))
            || edition.is_global() && !matches!(filter, Filter::Day(_) | Filter::Month(..));
        let global = edition.is_global();
        let ed = self.names.editions.get(&edition.id);
        match self.want(filter).filter(|_| global || ed.is_some()) {
            None => 0,
            Some(w) if exact => {
                let list = self.list_for(global, ed, w);
                let now_ms = now.timestamp_millis();
                list.len() - self.first_public(list, now_ms)
            }
            Some(_) => self.public_held(now, edition, filter, None).count(),
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
        self.public(now, edition, filter).take(n).collect()
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
            .public_held(now, edition, filter, None)
            .skip((page - 1) * per_page)
            .take(per_page)
            .filter_map(|c| self.expand(c))
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
        let since = (now - chrono::Duration::days(3)).timestamp_millis();
        let ed = self.names.editions.get(&edition.id);
        let mut ranked: Vec<(i32, &Held)> = self
            .public_held(now, edition, Filter::All, None)
            .take_while(|c| c.visible().is_some_and(|t| t >= since))
            .filter(|c| c.kind != Kind::Short)
            .filter_map(|c| {
                c.edition_words()
                    .find(|(e, _)| Some(*e) == ed)
                    .and_then(|(_, rank)| rank)
                    .map(|r| (r, c))
            })
            .collect();
        ranked.sort_by_key(|(r, _)| *r); // stable: equal ranks keep newest first
        let mut out: Vec<&Held> = ranked.into_iter().take(n).map(|(_, c)| c).collect();
        if out.len() < n {
            for c in self
                .public_held(now, edition, Filter::All, None)
                .filter(|c| c.kind != Kind::Short)
            {
                if out.len() >= n {
                    break;
                }
                if !out.iter().any(|o| o.id == c.id) {
                    out.push(c);
                }
            }
        }
        out.into_iter().filter_map(|c| self.expand(c)).collect()
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
        let tags: Vec<u32> = card
            .tag_ids
            .iter()
            .filter_map(|t| self.names.tags.get(t))
            .collect();
        let sector = self.names.sectors.get(&card.sector_id);
        // The best `n` so far, best first: most shared tags first, newest first among equals
        // (the order key ends with the id, so two stories never rank alike; a story on several
        // lists ranks alike on each and is kept once).
        type Rank = (std::cmp::Reverse<usize>, OrderKey);
        let mut best: Vec<(Rank, Source)> = Vec::with_capacity(n + 1);
        let mut offer = |score: usize, key: OrderKey, src: Source| {
            let r = (std::cmp::Reverse(score), key);
            if score == 0 || best.len() == n && best.last().is_some_and(|(w, _)| r >= *w) {
                return;
            }
            let at = best.partition_point(|(b, _)| *b < r);
            if best.get(at).is_some_and(|(b, _)| *b == r) {
                return;
            }
            best.insert(at, (r, src));
            best.truncate(n);
        };
        let mut heads: Vec<Arc<Head>> = Vec::new();
        let lists = card
            .tag_ids
            .iter()
            .map(|t| Filter::Tag(*t))
            .chain([Filter::Sector(card.sector_id)]);
        let now_ms = now.timestamp_millis();
        for f in lists {
            let take = if matches!(f, Filter::Sector(_)) {
                n
            } else {
                per_list
            };
            // The story itself may be among the newest: one more than taken.
            if let Some(head) = self.head(now_ms, edition, f, take + 1) {
                let h = heads.len();
                for (i, c) in head
                    .cands
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.key.1 .0 != card.id)
                    .take(take)
                {
                    let score =
                        related_score(head.tags_of(c).iter().copied(), c.sector, &tags, sector);
                    offer(score, c.key, Source::Head(h, i));
                }
                heads.push(head);
                continue;
            }
            for slot in self
                .public_slots(now, edition, f)
                .filter(|(_, c)| c.id != card.id)
                .take(take)
                .map(|(s, _)| s)
            {
                let Some(c) = self.held(slot) else { continue };
                let score = related_score(c.tag_words(), c.sector, &tags, sector);
                offer(score, order_key(c), Source::Slot(slot));
            }
        }
        let mut out = Vec::with_capacity(n);
        for (_, src) in best {
            let made = match src {
                Source::Slot(slot) => self.held(slot).and_then(|c| self.expand(c)),
                Source::Head(h, i) => heads.get(h).and_then(|head| {
                    let c = head.cands.get(i)?;
                    c.card
                        .get_or_init(|| self.held(c.slot).and_then(|c| self.expand(c)))
                        .clone()
                }),
            };
            out.extend(made);
        }
        out
    }

    /// The newest `len` public entries of the index list of `filter` in `edition`, kept until
    /// the next change of a card (see [`Head`]); `None` where the list must be filtered (a tag's
    /// list is site-wide, so an edition's page filters it) or is not a tag's or sector's.
    fn head(
        &self,
        now_ms: i64,
        edition: &Edition,
        filter: Filter,
        len: usize,
    ) -> Option<Arc<Head>> {
        #[cfg(test)]
        if self.no_heads {
            return None;
        }
        let global = edition.is_global();
        let ed = self.names.editions.get(&edition.id);
        let key = match self.want(filter)? {
            Want::Sector(s) if global => (None, IndexKey::Sector(s)),
            // The edition's own list of the sector: every entry is in the edition.
            Want::Sector(s) => (Some(ed?), IndexKey::Sector(s)),
            Want::Tag(t) if global => (None, IndexKey::Tag(t)),
            _ => return None,
        };
        let list = self.index.get(&key).map(Vec::as_slice).unwrap_or(&[]);
        let start = self.first_public(list, now_ms);
        let mut heads = self.heads.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(h) = heads.get(&key) {
            if h.start == start && (h.whole || h.cands.len() >= len) {
                return Some(h.clone());
            }
        }
        let mut tags = Vec::new();
        let cands: Vec<HeadCand> = list[start..]
            .iter()
            .filter_map(|s| Some((*s, self.held(*s)?)))
            .take(len)
            .map(|(slot, c)| {
                let from = tags.len();
                tags.extend(c.tag_words());
                HeadCand {
                    slot,
                    key: order_key(c),
                    sector: c.sector,
                    tags: (from as u32, (tags.len() - from) as u32),
                    card: std::sync::OnceLock::new(),
                }
            })
            .collect();
        let head = Arc::new(Head {
            start,
            whole: cands.len() < len,
            cands,
            tags,
        });
        heads.insert(key, head.clone());
        Some(head)
    }

    /// The tag at `slug` if a story public at `now` carries it: saving a draft creates its tags,
    /// and a tag no public story has would tell readers what is being written.
    pub fn public_tag_by_slug(&self, slug: &str, now: DateTime<Utc>) -> Option<&Tag> {
        let tag = self.tax.tag_by_slug(slug)?;
        let t = self.names.tags.get(&tag.id)?;
        // The tag's index list is in timeline order: stories not yet visible first.
        let list = self
            .index
            .get(&(None, IndexKey::Tag(t)))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let now_ms = now.timestamp_millis();
        let first_public = self.first_public(list, now_ms);
        (first_public < list.len()).then_some(tag)
    }

    fn all_public_held(&self, now: DateTime<Utc>) -> impl Iterator<Item = &Held> {
        let now_ms = now.timestamp_millis();
        let start = self.first_public(self.timeline(), now_ms);
        self.timeline()[start..]
            .iter()
            .filter_map(|s| self.held(*s))
    }

    /// Every public story (sitemaps), newest first.
    pub fn all_public(&self, now: DateTime<Utc>) -> impl Iterator<Item = Arc<StoryCard>> + '_ {
        self.all_public_held(now).filter_map(|c| self.expand(c))
    }

    /// The id and last change of every public story, newest first, without rebuilding cards
    /// (the sitemap index reads every story).
    pub fn public_stamps(
        &self,
        now: DateTime<Utc>,
    ) -> impl Iterator<Item = (StoryId, DateTime<Utc>)> + '_ {
        self.all_public_held(now)
            .filter_map(|c| Some((c.id, time(c.updated)?)))
    }

    /// The public stories whose ids are in `ids`, newest first (a sitemap chunk): only those
    /// cards are rebuilt.
    pub fn public_in(
        &self,
        now: DateTime<Utc>,
        ids: std::ops::RangeInclusive<i64>,
    ) -> impl Iterator<Item = Arc<StoryCard>> + '_ {
        self.all_public_held(now)
            .filter(move |c| ids.contains(&c.id.0))
            .filter_map(|c| self.expand(c))
    }
}

/// The slug text of a held card (derived ones are built).
fn slug_text(h: &Held) -> String {
    h.slug().map(|s| s.as_str().to_owned()).unwrap_or_default()
}

/// Whether `h`'s slug is `slug`, without building a derived slug unless the headline could
/// give it.
fn slug_is(h: &Held, slug: &str) -> bool {
    if h.slug_len > 0 {
        return h.parts().0 == slug;
    }
    h.slug().is_some_and(|s| s.as_str() == slug)
}

/// Where a candidate related story is: its slot, or a list head's entry (head, entry).
#[derive(Debug, Clone, Copy)]
enum Source {
    Slot(u32),
    Head(usize, usize),
}

/// How related a story with `c_tags` in `c_sector` is to one with `tags` in `sector`: two for
/// each tag shared, one for the same sector.
fn related_score(
    c_tags: impl Iterator<Item = u32>,
    c_sector: u32,
    tags: &[u32],
    sector: Option<u32>,
) -> usize {
    c_tags.filter(|t| tags.contains(t)).count() * 2 + usize::from(Some(c_sector) == sector)
}

/// Newest entries of each tag list, per related story asked for, that [`Snapshot::related`]
/// looks at.
pub const RELATED_PER_LIST: usize = 4;

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
        let mut all: Vec<Arc<StoryCard>> = s
            .ids
            .iter()
            .filter_map(|id| s.card(*id))
            .filter(|c| c.is_public_at(now))
            .collect();
        all.sort_by_key(|c| (std::cmp::Reverse(c.visible_from()), std::cmp::Reverse(c.id)));
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
        let me = s.card(StoryId(1)).unwrap();
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
    fn related_from_list_heads_is_what_reading_the_cards_gives_through_changes_and_time() {
        let cards: Vec<StoryCard> = (1..=90)
            .map(|i| {
                card(
                    i,
                    // A few come out after the first look (minute 200).
                    if i % 17 == 0 { 250 + i } else { i * 7 % 97 },
                    i % 4,
                    Kind::News,
                    &[i % 6, 6 + i % 3, 9 + i % 2][..(1 + i % 3) as usize],
                    if i % 3 == 0 { &[1, 2] } else { &[1] },
                )
            })
            .collect();
        let mut s = Snapshot::new(Taxonomy::default(), vec![], vec![], cards);
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let editions = [edition(1, "global"), edition(2, "pacific")];
        let check = |s: &mut Snapshot, minute: i64| {
            let now = t0 + chrono::Duration::minutes(minute);
            let ids: Vec<StoryId> = s.ids.clone();
            let mut found = 0;
            for ed in &editions {
                for id in &ids {
                    let Some(me) = s.card(*id) else { continue };
                    for n in [2, 5] {
                        s.no_heads = false;
                        let heads: Vec<i64> =
                            s.related(now, ed, &me, n).iter().map(|c| c.id.0).collect();
                        s.no_heads = true;
                        let cards: Vec<i64> =
                            s.related(now, ed, &me, n).iter().map(|c| c.id.0).collect();
                        s.no_heads = false;
                        assert_eq!(
                            heads, cards,
                            "story {id:?}, n {n}, {}, minute {minute}",
                            ed.slug
                        );
                        found += heads.len();
                    }
                }
            }
            assert!(found > 0);
        };
        check(&mut s, 200);
        // Time passes: the scheduled stories are out, and the heads made before are stale.
        check(&mut s, 400);
        // Changes: a new newest story on many lists, one moved, one unpublished.
        let every_tag: Vec<i64> = (0..11).collect();
        s.apply_card(
            StoryId(500),
            Some(card(500, 390, 1, Kind::News, &every_tag, &[1, 2])),
        );
        s.apply_card(StoryId(8), Some(card(8, 395, 2, Kind::News, &[3, 7], &[2])));
        s.apply_card(StoryId(12), None);
        check(&mut s, 400);
        let later = t0 + chrono::Duration::minutes(400);
        let shown = s
            .ids
            .iter()
            .filter_map(|id| s.card(*id))
            .filter(|me| {
                s.related(later, &editions[0], me, 5)
                    .iter()
                    .any(|c| c.id == StoryId(500))
            })
            .count();
        assert!(shown > 0, "the new story sharing tags is related at once");
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
            assert_eq!(s.slugs.len(), 39);
            assert_eq!(s.ids.len(), 39);
            assert_eq!(s.slots.iter().flatten().count(), 39);
        }
    }

    /// A story as the demo corpus makes them (and as news sites have them): a 63-byte headline
    /// whose slug is the headline's own (now and then with a `-2`), a 125-byte summary, a
    /// region, one or two editions, one author, three tags.
    fn typical(id: i64) -> StoryCard {
        let mut c = card(
            id,
            id,
            id % 9,
            Kind::News,
            &[id % 50, 50 + id % 7, 60 + id % 11],
            if id % 4 == 0 { &[1, 2] } else { &[1] },
        );
        let headline = format!("Parliament votes on the {id:>6} budget as ministers weigh cuts");
        c.headline = Headline::parse(&headline).unwrap();
        let base = Slug::from_title(&headline, "story");
        c.slug = if id % 10 == 0 {
            Slug::parse(&format!("{base}-2")).unwrap()
        } else {
            base
        };
        c.summary = format!("{:y>125}", id);
        c.region = ["Kenya", "Lagos", "Europe"][(id % 3) as usize].into();
        c
    }

    #[test]
    fn a_story_costs_the_read_model_at_most_400_bytes() {
        const N: i64 = 2_000;
        let s = Snapshot::new(
            Taxonomy::default(),
            vec![],
            vec![],
            (1..=N).map(typical).collect(),
        );
        let per_story = s.story_bytes() / N as usize;
        eprintln!(
            "StoryCard inline {} bytes, held card inline {} bytes; {per_story} bytes per story \
             in the read model",
            std::mem::size_of::<StoryCard>(),
            std::mem::size_of::<Option<Held>>(),
        );
        // Was ~790 with whole `StoryCard`s behind `Arc`s in hash maps and index lists.
        assert!(per_story <= 400, "{per_story} per story");
        // A slug that is not the headline's own is held as text: the slug's bytes more.
        let mut other = Snapshot::default();
        for id in 1..=N {
            let mut c = typical(id);
            c.slug = Slug::parse(&format!("{:0>62}", format!("s-{id}"))).unwrap();
            other.apply_card(c.id, Some(c));
        }
        let per_story = other.story_bytes() / N as usize;
        assert!(per_story <= 400 + 62 + 40, "{per_story} per story");
    }

    #[test]
    fn a_held_card_is_given_back_exactly() {
        let mut cards = vec![typical(10), typical(11), typical(12)];
        let t0 = DateTime::from_timestamp_millis(1_800_000_000_123).unwrap();
        // Ranks (negative and none), an embargo, a video, no desk, no author, a hero, a slug of
        // its own, a slug like the headline's but with a suffix it would not get, text outside
        // ASCII, an empty region.
        cards[0].placements = vec![
            Placement {
                edition_id: EditionId(7),
                rank: Some(-3),
            },
            Placement {
                edition_id: EditionId(1),
                rank: None,
            },
            Placement {
                edition_id: EditionId(2),
                rank: Some(i32::MAX),
            },
        ];
        cards[0].embargo_until = Some(t0 + chrono::Duration::hours(2));
        cards[0].video = Some("clip-1.mp4".into());
        cards[0].desk_id = None;
        cards[0].author_ids = vec![];
        cards[0].hero_image_id = Some(ImageId(42));
        cards[0].provenance = Provenance::AgencyInputs;
        cards[0].updated_at = t0;
        cards[1].slug = Slug::parse("an-editors-own-slug").unwrap();
        cards[1].headline = Headline::parse("Élan vital: São Paulo’s “new” plan — 北京").unwrap();
        cards[1].summary = "Ünïcødé summary…".into();
        cards[1].region = String::new();
        cards[2].slug = Slug::parse(&format!("{}-02", cards[2].slug)).unwrap();
        cards[2].kind = Kind::Short;
        cards[2].status = StoryStatus::Published;
        let s = Snapshot::new(Taxonomy::default(), vec![], vec![], cards.clone());
        for c in &cards {
            assert_eq!(*s.card(c.id).unwrap(), *c);
            let mut m = Snapshot::default();
            m.apply_card(c.id, Some(c.clone()));
            assert_eq!(*m.card(c.id).unwrap(), *c);
        }
        assert_eq!(s.slots[0].as_ref().unwrap().slug_len, 0, "derived slug");
        assert!(s.slots[1].as_ref().unwrap().slug_len > 0, "own slug");
        assert!(
            s.slots[2].as_ref().unwrap().slug_len > 0,
            "-02 is no suffix"
        );
        let now = t0 + chrono::Duration::days(400);
        for c in &cards {
            assert_eq!(
                s.public_by_slug(c.slug.as_str(), now).map(|x| x.id),
                Some(c.id)
            );
        }
    }
}
