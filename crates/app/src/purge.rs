//! What each page shows, and which of those things a change touches: the precise purge.
//!
//! Every cached thing (a page, a story part, a side rail) records the [`Dep`]s it was built from
//! and the moment it was built ([`Stamp`]). `App::sync` turns each change-log row into the deps it
//! touches (a story: its own page, each listing of each edition it is on, before and after the
//! change, its sitemap and the corrections list) and gives them a new version. A cached thing is
//! fresh while none of its deps has a version newer than its build; so a story change makes stale
//! exactly the pages that show it, and a trending change only the side rails.
//!
//! The same deps, as names (`story-12`, `e3-sector-4`…), are sent as `Surrogate-Key` and
//! `Cache-Tag` so that a CDN in front can be purged by the same keys.

use crate::readmodel::Filter;
use newsdesk_domain::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;

/// Story ids per story sitemap file.
pub const SITEMAP_CHUNK: i64 = 10_000;

/// Something a page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dep {
    /// Taxonomy and static pages: the menus and footers of every page.
    Site,
    /// One story's own page: its text, corrections and lineage.
    Story(StoryId),
    /// A listing in an edition (`None`: the Global edition, every story).
    List(Option<EditionId>, ListKey),
    /// An edition's side rail (trending, latest, columns, shorts).
    Rail(EditionId),
    /// The story sitemap file number `n`.
    Sitemap(i64),
    /// The corrections page and feed.
    Corrections,
}

/// Which listing of an edition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListKey {
    /// Every story (home, latest, archives, the main feeds).
    All,
    /// A sector.
    Sector(SectorId),
    /// A kind.
    Kind(Kind),
    /// A tag.
    Tag(TagId),
    /// A desk.
    Desk(DeskId),
    /// An author.
    Author(AuthorId),
}

impl Dep {
    /// The key a CDN knows this dep by (letters, digits and dashes).
    pub fn key(&self) -> String {
        let scope = |e: &Option<EditionId>| match e {
            None => String::new(),
            Some(e) => format!("e{}-", e.0),
        };
        match self {
            Dep::Site => "site".into(),
            Dep::Story(id) => format!("story-{}", id.0),
            Dep::List(e, k) => {
                let s = scope(e);
                match k {
                    ListKey::All => format!("{s}all"),
                    ListKey::Sector(x) => format!("{s}sector-{}", x.0),
                    ListKey::Kind(k) => format!("{s}kind-{}", k.as_str()),
                    ListKey::Tag(x) => format!("{s}tag-{}", x.0),
                    ListKey::Desk(x) => format!("{s}desk-{}", x.0),
                    ListKey::Author(x) => format!("{s}author-{}", x.0),
                }
            }
            Dep::Rail(e) => format!("rail-e{}", e.0),
            Dep::Sitemap(n) => format!("sitemap-{n}"),
            Dep::Corrections => "corrections".into(),
        }
    }
}

/// The listing dep of a filter in an edition (archives count as the edition's whole list).
pub fn listing_dep(edition: &Edition, filter: Filter) -> Dep {
    let scope = (!edition.is_global()).then_some(edition.id);
    Dep::List(
        scope,
        match filter {
            Filter::All | Filter::Day(_) | Filter::Month(..) => ListKey::All,
            Filter::Sector(s) => ListKey::Sector(s),
            Filter::Kind(k) => ListKey::Kind(k),
            Filter::Tag(t) => ListKey::Tag(t),
            Filter::Desk(d) => ListKey::Desk(d),
            Filter::Author(a) => ListKey::Author(a),
        },
    )
}

/// The story sitemap file of a story.
pub fn sitemap_of(id: StoryId) -> i64 {
    (id.0 - 1).max(0) / SITEMAP_CHUNK + 1
}

/// Everything a story's card shows up on: its page, every listing of every edition it is in
/// (and Global), its sitemap file and the corrections list.
pub fn card_deps(c: &StoryCard, out: &mut Vec<Dep>) {
    out.push(Dep::Story(c.id));
    out.push(Dep::Sitemap(sitemap_of(c.id)));
    out.push(Dep::Corrections);
    let mut scopes: Vec<Option<EditionId>> = vec![None];
    scopes.extend(c.placements.iter().map(|p| Some(p.edition_id)));
    for s in scopes {
        out.push(Dep::List(s, ListKey::All));
        out.push(Dep::List(s, ListKey::Sector(c.sector_id)));
        out.push(Dep::List(s, ListKey::Kind(c.kind)));
        out.extend(c.tag_ids.iter().map(|t| Dep::List(s, ListKey::Tag(*t))));
        out.extend(
            c.author_ids
                .iter()
                .map(|a| Dep::List(s, ListKey::Author(*a))),
        );
        out.extend(c.desk_id.map(|d| Dep::List(s, ListKey::Desk(d))));
    }
}

/// What a cached thing was built from, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// The version clock when building began.
    pub at: u64,
    /// What it shows.
    pub deps: Vec<Dep>,
}

impl Stamp {
    /// The `Surrogate-Key` value: the deps' keys, space-separated.
    pub fn keys(&self) -> String {
        let mut keys: Vec<String> = self.deps.iter().map(Dep::key).collect();
        keys.sort_unstable();
        keys.dedup();
        keys.join(" ")
    }
}

/// The version of every dep changed since start (one entry per dep ever changed: bounded by the
/// number of stories and listings).
#[derive(Debug, Default)]
pub struct Versions {
    clock: AtomicU64,
    map: RwLock<HashMap<Dep, u64>>,
}

impl Versions {
    /// The version clock now; read it before reading what a page is built from.
    pub fn now(&self) -> u64 {
        self.clock.load(Ordering::Acquire)
    }

    /// A stamp for something about to be built from `deps`.
    pub fn stamp(&self, deps: Vec<Dep>) -> Stamp {
        Stamp {
            at: self.now(),
            deps,
        }
    }

    /// Gives `deps` a new version (call after the read model shows the change). Returns it.
    pub fn bump(&self, deps: &[Dep]) -> u64 {
        if deps.is_empty() {
            return self.now();
        }
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        let v = self.clock.load(Ordering::Acquire) + 1;
        for d in deps {
            map.insert(*d, v);
        }
        self.clock.store(v, Ordering::Release);
        v
    }

    /// Whether nothing `stamp` was built from has changed since.
    pub fn fresh(&self, stamp: &Stamp) -> bool {
        let map = self.map.read().unwrap_or_else(|e| e.into_inner());
        stamp
            .deps
            .iter()
            .all(|d| map.get(d).is_none_or(|v| *v <= stamp.at))
    }

    /// Changed deps held (for tests and metrics).
    pub fn len(&self) -> usize {
        self.map.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether no dep has changed since start.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
