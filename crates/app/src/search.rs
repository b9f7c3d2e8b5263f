//! Search: the index follows the change log like the read model does, and a query returns only
//! what a reader may see now.
//!
//! The rule is the one the rest of the site keeps: a story is public from
//! `StoryInput::visible_from` (publication, or the end of its embargo). The index holds every
//! published story with that instant; each query filters at the Clock's now, and every hit is
//! checked once more against the read model (`Snapshot::public_card`), so a hit the index still
//! holds a moment after an unpublication is not shown either. Plain structs in and out (no
//! HTML): the reader site and the JSON API share this use case.

use crate::readmodel::Filter;
use crate::{App, AppError, AppResult};
use chrono::{DateTime, NaiveDate, Utc};
use newsdesk_domain::*;
use newsdesk_search::{Doc, Filters, Generations, SearchIndex};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

pub use newsdesk_search::{Snippet, Sort as SearchSort};

/// Limits and sizes of search (`[search]` in the configuration).
#[derive(Debug, Clone)]
pub struct SearchSettings {
    /// Characters of a query read; the rest is cut (with a note).
    pub max_query_chars: usize,
    /// Words (each word of a phrase counts) in a query; the rest are left out (with a note).
    pub max_terms: usize,
    /// Hits per page.
    pub per_page: usize,
    /// Pages a reader can go to (the deepest hit collected is `per_page × max_pages`).
    pub max_pages: usize,
    /// Searches run at once; more wait for a place. 0: one per CPU core (a search is CPU work
    /// on the blocking pool; more at once than cores only makes each one slower).
    pub at_once: usize,
    /// Seconds a search waits for a place before the reader is told to try again.
    pub wait_seconds: u64,
    /// Characters in a snippet.
    pub snippet_chars: usize,
    /// Memory of the index writer that follows the change log, MiB.
    pub writer_memory_mib: usize,
    /// Memory of the writer when the whole index is built, MiB.
    pub build_memory_mib: usize,
}

impl Default for SearchSettings {
    fn default() -> Self {
        SearchSettings {
            max_query_chars: 200,
            max_terms: 12,
            per_page: 10,
            max_pages: 50,
            at_once: 0,
            wait_seconds: 2,
            snippet_chars: 200,
            writer_memory_mib: 32,
            build_memory_mib: 256,
        }
    }
}

/// What a reader asks for (slugs as they come in a query string; unknown ones are ignored with
/// a note).
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// What was typed.
    pub text: String,
    /// Sector slug.
    pub sector: Option<String>,
    /// Kind (its listing slug, "opinion", or its name).
    pub kind: Option<String>,
    /// Edition slug ("global" or none: every edition).
    pub edition: Option<String>,
    /// Author slug.
    pub author: Option<String>,
    /// First day (UTC), inclusive.
    pub from: Option<NaiveDate>,
    /// Last day (UTC), inclusive.
    pub to: Option<NaiveDate>,
    /// Order.
    pub sort: SearchSort,
    /// Page, from 1.
    pub page: usize,
}

/// Something the reader is told about the search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchNotice {
    /// Nothing to look for was typed.
    NothingToSearch,
    /// The text was cut to this many characters.
    Shortened(usize),
    /// Only this many words were used.
    TooManyWords(usize),
    /// A filter named something unknown and was left out.
    UnknownFilter(&'static str),
    /// The dates are the wrong way round.
    DatesReversed,
    /// Pages beyond this one are not shown.
    LastPage(usize),
    /// The index is being built.
    NotReady,
    /// Too many searches at once.
    Busy,
}

impl std::fmt::Display for SearchNotice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SearchNotice::NothingToSearch => f.write_str("Type one or more words to search for."),
            SearchNotice::Shortened(n) => {
                write!(
                    f,
                    "Your search was long: only its first {n} characters were used."
                )
            }
            SearchNotice::TooManyWords(n) => {
                write!(
                    f,
                    "Your search had many words: only the first {n} were used."
                )
            }
            SearchNotice::UnknownFilter(what) => {
                write!(f, "The {what} chosen is not known; it was left out.")
            }
            SearchNotice::DatesReversed => {
                f.write_str("The first date is after the last one; no story can match.")
            }
            SearchNotice::LastPage(n) => write!(f, "Results are shown up to page {n}."),
            SearchNotice::NotReady => {
                f.write_str("Search is being prepared. Please try again in a minute.")
            }
            SearchNotice::Busy => f.write_str("Many people are searching. Please try again."),
        }
    }
}

/// One hit.
#[derive(Debug, Clone)]
pub struct SearchHit {
    /// The story's card.
    pub card: Arc<StoryCard>,
    /// A passage of the body with the matched words marked (empty: show the summary).
    pub snippet: Snippet,
}

/// A page of results.
#[derive(Debug, Clone, Default)]
pub struct SearchResults {
    /// Stories matching in all, counted up to a cap (1,000, or more when `per_page ×
    /// max_pages` is more).
    pub total: usize,
    /// Whether more stories than `total` match (counting stopped at the cap).
    pub more: bool,
    /// This page, from 1.
    pub page: usize,
    /// Pages that can be shown.
    pub pages: usize,
    /// Hits on this page.
    pub hits: Vec<SearchHit>,
    /// What the reader is told.
    pub notices: Vec<SearchNotice>,
}

/// The search room of a node: the index in use and the folder of its generations.
pub(crate) struct SearchState {
    settings: SearchSettings,
    gens: Generations,
    live: RwLock<Option<Arc<Live>>>,
    permits: Arc<tokio::sync::Semaphore>,
    follow: tokio::sync::Mutex<()>,
}

struct Live {
    name: String,
    index: SearchIndex,
    cursor: std::sync::atomic::AtomicI64,
}

/// What a whole build made.
#[derive(Debug, Clone)]
pub struct BuildReport {
    /// The generation's name.
    pub name: String,
    /// Stories indexed.
    pub stories: u64,
    /// Bytes on disk.
    pub bytes: u64,
}

/// Matching stories are counted up to this many at least ("more than 1,000 stories found").
pub const COUNT_AT_LEAST: usize = 1_000;

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn index_err(e: newsdesk_search::SearchError) -> AppError {
    AppError::Internal(format!("search: {e}").into())
}

fn io_err(e: std::io::Error) -> AppError {
    AppError::Internal(format!("search files: {e}").into())
}

fn folder_bytes(p: &std::path::Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

impl App {
    fn search_state(&self) -> Option<&SearchState> {
        self.search.get()
    }

    /// Turns search on with its folder (`{data}/search`). Returns whether an index generation
    /// of the current format is there; the first `sync` opens it (a process that only builds,
    /// like the CLI, never opens the one a server writes to). Without one, build it
    /// ([`App::build_search_index`]); a generation of an older format (before word pairs) is
    /// still opened and answers (phrases from word positions) until the build replaces it.
    pub fn attach_search(&self, root: PathBuf, settings: SearchSettings) -> AppResult<bool> {
        let at_once = match settings.at_once {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let permits = Arc::new(tokio::sync::Semaphore::new(at_once));
        let gens = Generations::new(root);
        let exists = gens
            .current()
            .map_err(io_err)?
            .is_some_and(|name| SearchIndex::is_current_format_at(&gens.path(&name)));
        let state = SearchState {
            settings,
            gens,
            live: RwLock::new(None),
            permits,
            follow: tokio::sync::Mutex::new(()),
        };
        if self.search.set(state).is_err() {
            return Err(AppError::Internal("search attached twice".into()));
        }
        Ok(exists)
    }

    /// Whether an index is in use.
    pub fn search_ready(&self) -> bool {
        self.search_state().is_some_and(|s| s.live().is_some())
    }

    /// Whether the index in use is of an older format (it answers until a rebuild replaces
    /// it).
    pub fn search_outdated(&self) -> bool {
        self.search_state()
            .and_then(SearchState::live)
            .is_some_and(|l| !l.index.is_current_format())
    }

    /// Builds a whole new index generation aside from the published stories and makes it the
    /// one in use; a running server switches to it at its next sync (and catches up from where
    /// the build began). `progress` is told (done, total) as stories are added.
    pub async fn build_search_index(
        &self,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> AppResult<BuildReport> {
        let Some(s) = self.search_state() else {
            return Err(AppError::Internal("search is not attached".into()));
        };
        let cursor = self.store.last_change_seq().await?;
        // Only the ids are kept, read a page of cards at a time (not every card at once).
        let mut ids = Vec::new();
        loop {
            let page = self
                .store
                .list_published_cards_after(ids.last().copied(), crate::CARDS_PER_PAGE)
                .await?;
            let full = page.len() >= crate::CARDS_PER_PAGE;
            ids.extend(page.iter().map(|c| c.id));
            if !full {
                break;
            }
        }
        let total = ids.len() as u64;
        let (name, path) = s.gens.start().map_err(io_err)?;
        let ix =
            SearchIndex::open(&path, s.settings.build_memory_mib << 20, 2).map_err(index_err)?;
        let mut done = 0u64;
        progress(0, total);
        for chunk in ids.chunks(256) {
            let tax = self.read().tax.clone();
            for id in chunk {
                match self.store.get_story(*id).await {
                    Ok(story) => {
                        if let Some(d) = to_doc(&story, &tax) {
                            ix.put(&d).map_err(index_err)?;
                        }
                    }
                    Err(newsdesk_store::StoreError::NotFound) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            done += chunk.len() as u64;
            progress(done, total);
        }
        let ix =
            tokio::task::spawn_blocking(move || -> Result<u64, newsdesk_search::SearchError> {
                ix.commit(cursor)?;
                let n = ix.len();
                ix.finish()?;
                Ok(n)
            })
            .await
            .map_err(|e| AppError::Internal(format!("search build: {e}").into()))?
            .map_err(index_err)?;
        let bytes = folder_bytes(&path);
        s.gens.publish(&name, &path).map_err(io_err)?;
        Ok(BuildReport {
            name,
            stories: ix,
            bytes,
        })
    }

    /// Brings the index up to date with the change log (called by `sync`), switching first to
    /// a generation built aside if one was published. Returns the changes applied.
    pub async fn follow_search(&self) -> AppResult<usize> {
        let Some(s) = self.search_state() else {
            return Ok(0);
        };
        let _one = s.follow.lock().await;
        let current = s.gens.current().map_err(io_err)?;
        let live = s.live();
        if let Some(name) = current {
            if live.as_ref().is_none_or(|l| l.name != name) {
                let new = Arc::new(open_live(s, &name)?);
                self.catch_up(&new).await?;
                *s.live.write().unwrap_or_else(|e| e.into_inner()) = Some(new);
                drop(live);
                // Older generations go (on Linux a search still reading one keeps its files
                // until it ends).
                if let Err(e) = s.gens.remove_others(&name) {
                    tracing::warn!(error = %e, "removing an old search index failed");
                }
                tracing::info!(generation = %name, "search index switched");
                if s.live().is_some_and(|l| !l.index.is_current_format()) {
                    tracing::warn!(
                        generation = %name,
                        "search index of an older format: it answers until a rebuild replaces it"
                    );
                }
                return Ok(0);
            }
        }
        match s.live() {
            Some(l) => self.catch_up(&l).await,
            None => Ok(0),
        }
    }

    async fn catch_up(&self, live: &Arc<Live>) -> AppResult<usize> {
        use std::sync::atomic::Ordering;
        let mut cursor = live.cursor.load(Ordering::Acquire);
        let mut applied = 0;
        loop {
            let changes = self.store.changes_since(cursor, 500).await?;
            let Some(last) = changes.last() else { break };
            let mut ids: Vec<StoryId> = changes
                .iter()
                .filter(|c| c.entity == ChangeEntity::Story)
                .map(|c| StoryId(c.entity_id))
                .collect();
            // A renamed author, desk or tag: the stories whose byline or tags show the name
            // are indexed again (the read model, synced first, holds the new names).
            {
                let snap = self.read();
                for c in changes
                    .iter()
                    .filter(|c| c.entity == ChangeEntity::Taxonomy)
                {
                    let shown = match c.key.as_str() {
                        "author" => Filter::Author(AuthorId(c.entity_id)),
                        "desk" => Filter::Desk(DeskId(c.entity_id)),
                        "tag" => Filter::Tag(TagId(c.entity_id)),
                        _ => continue,
                    };
                    ids.extend(snap.held_ids(shown));
                }
            }
            ids.sort_unstable();
            ids.dedup();
            let tax = self.read().tax.clone();
            for id in ids {
                match self.store.get_story(id).await {
                    Ok(story) => match to_doc(&story, &tax) {
                        Some(d) => live.index.put(&d).map_err(index_err)?,
                        None => live.index.remove(id.0 as u64),
                    },
                    Err(newsdesk_store::StoreError::NotFound) => live.index.remove(id.0 as u64),
                    Err(e) => return Err(e.into()),
                }
            }
            cursor = last.seq;
            applied += changes.len();
        }
        if applied > 0 {
            let l = live.clone();
            tokio::task::spawn_blocking(move || l.index.commit(cursor))
                .await
                .map_err(|e| AppError::Internal(format!("search commit: {e}").into()))?
                .map_err(index_err)?;
            live.cursor.store(cursor, Ordering::Release);
        }
        Ok(applied)
    }

    /// Searches the stories a reader may see now.
    pub async fn search(&self, req: &SearchRequest) -> AppResult<SearchResults> {
        let mut out = SearchResults {
            page: req.page.max(1),
            pages: 1,
            ..SearchResults::default()
        };
        let Some(s) = self.search_state() else {
            out.notices.push(SearchNotice::NotReady);
            return Ok(out);
        };
        let set = &s.settings;
        let parsed = newsdesk_search::parse(
            &req.text,
            newsdesk_search::Limits {
                max_chars: set.max_query_chars,
                max_terms: set.max_terms,
            },
        );
        for n in &parsed.notes {
            out.notices.push(match n {
                newsdesk_search::Note::Shortened => SearchNotice::Shortened(set.max_query_chars),
                newsdesk_search::Note::TooManyWords => SearchNotice::TooManyWords(set.max_terms),
            });
        }
        let filters = self.search_filters(req, &mut out.notices);
        if parsed.is_empty() {
            out.notices.push(SearchNotice::NothingToSearch);
            return Ok(out);
        }
        let Some(live) = s.live() else {
            out.notices.push(SearchNotice::NotReady);
            return Ok(out);
        };
        if out.page > set.max_pages {
            out.notices.push(SearchNotice::LastPage(set.max_pages));
            out.page = set.max_pages;
        }
        let permit = match tokio::time::timeout(
            std::time::Duration::from_secs(set.wait_seconds),
            s.permits.clone().acquire_owned(),
        )
        .await
        {
            Ok(Ok(p)) => p,
            _ => {
                out.notices.push(SearchNotice::Busy);
                return Ok(out);
            }
        };
        let now = self.now();
        let (per_page, snippet_chars) = (set.per_page.max(1), set.snippet_chars);
        // Counting stops here: every page a reader can reach is within it.
        let count_cap = per_page.saturating_mul(set.max_pages).max(COUNT_AT_LEAST);
        let offset = (out.page - 1) * per_page;
        let clauses = parsed.clauses;
        let sort = req.sort;
        let hits = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            live.index.search(&newsdesk_search::Query {
                clauses: &clauses,
                filters: &filters,
                visible_at: ms(now),
                sort,
                offset,
                limit: per_page,
                snippet_chars,
                count_cap,
            })
        })
        .await
        .map_err(|e| AppError::Internal(format!("search: {e}").into()))?
        .map_err(index_err)?;
        out.total = hits.total;
        out.more = hits.more;
        out.pages = hits.total.div_ceil(per_page).clamp(1, set.max_pages);
        let snap = self.read();
        out.hits = hits
            .hits
            .into_iter()
            .filter_map(|h| {
                let card = snap.public_card(StoryId(h.id as i64), now)?.clone();
                Some(SearchHit {
                    card,
                    snippet: h.snippet,
                })
            })
            .collect();
        Ok(out)
    }

    fn search_filters(&self, req: &SearchRequest, notices: &mut Vec<SearchNotice>) -> Filters {
        let snap = self.read();
        let tax = &snap.tax;
        let mut f = Filters::default();
        fn given(o: &Option<String>) -> Option<&str> {
            o.as_deref().map(str::trim).filter(|s| !s.is_empty())
        }
        if let Some(s) = given(&req.sector) {
            match tax.sector_by_slug(s) {
                Some(x) => f.sector = Some(x.id.0 as u64),
                None => notices.push(SearchNotice::UnknownFilter("section")),
            }
        }
        if let Some(k) = given(&req.kind) {
            match Kind::from_listing_slug(k).or_else(|| Kind::parse(k)) {
                Some(x) => f.kind = Some(x.as_str().to_owned()),
                None => notices.push(SearchNotice::UnknownFilter("kind")),
            }
        }
        if let Some(e) = given(&req.edition) {
            match tax.edition_by_slug(e) {
                Some(x) if x.is_global() => {}
                Some(x) => f.edition = Some(x.id.0 as u64),
                None => notices.push(SearchNotice::UnknownFilter("edition")),
            }
        }
        if let Some(a) = given(&req.author) {
            match tax.author_by_slug(a) {
                Some(x) => f.author = Some(x.id.0 as u64),
                None => notices.push(SearchNotice::UnknownFilter("author")),
            }
        }
        let day = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| ms(t.and_utc()));
        f.from = req.from.and_then(day);
        f.until = req.to.and_then(|d| d.succ_opt()).and_then(day);
        if let (Some(a), Some(b)) = (req.from, req.to) {
            if a > b {
                notices.push(SearchNotice::DatesReversed);
            }
        }
        f
    }
}

impl SearchState {
    fn live(&self) -> Option<Arc<Live>> {
        self.live.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

fn open_live(s: &SearchState, name: &str) -> AppResult<Live> {
    let index = SearchIndex::open(&s.gens.path(name), s.settings.writer_memory_mib << 20, 1)
        .map_err(index_err)?;
    let cursor = index.cursor().map_err(index_err)?;
    Ok(Live {
        name: name.to_owned(),
        index,
        cursor: std::sync::atomic::AtomicI64::new(cursor),
    })
}

/// What the index holds of a story: nothing unless it is published (the instant it becomes
/// visible goes with it).
fn to_doc(story: &Story, tax: &crate::Taxonomy) -> Option<Doc> {
    let visible = story.visible_from()?;
    let published = story.published_at.unwrap_or(visible);
    let mut byline: Vec<String> = story
        .author_ids
        .iter()
        .filter_map(|a| tax.author(*a).map(|a| a.name.clone()))
        .collect();
    if let Some(d) = story.desk_id.and_then(|d| tax.desk(d)) {
        byline.push(d.name.clone());
    }
    Some(Doc {
        id: story.id.0 as u64,
        headline: story.headline.as_str().to_owned(),
        summary: story.summary.clone(),
        body: newsdesk_domain::text::html_to_text(&story.body_html),
        tags: story
            .tag_ids
            .iter()
            .filter_map(|t| tax.tag(*t).map(|t| t.name.clone()))
            .collect(),
        byline,
        sector: story.sector_id.0 as u64,
        kind: story.kind.as_str().to_owned(),
        editions: story
            .placements
            .iter()
            .map(|p| p.edition_id.0 as u64)
            .collect(),
        authors: story.author_ids.iter().map(|a| a.0 as u64).collect(),
        published: ms(published),
        visible: ms(visible),
    })
}
