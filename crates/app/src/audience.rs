//! Page-view counting and trending.
//!
//! Views are counted in memory (one short lock per view, no I/O) and flushed in batches: every
//! `views_flush_seconds` the pending counts are written to the database in one transaction and
//! folded into the trending scores.
//!
//! Trending score, per edition E and story s, at time `now`:
//!
//! ```text
//! score_E(s) = Σ over views v of s by readers of E  of  2^(-(now - t_v) / H)
//! ```
//!
//! with H the half-life (`trending_half_life_hours`, 6 h by default). Readers of every edition
//! count for Global. It is kept incrementally: on each flush `score ← score · 2^(-Δt/H) + n`.
//! An edition's list ranks public stories by `score_E(s) + 0.1 · score_Global(s)` for stories placed
//! in E (so a regional edition with few readers still shows its own stories that trend
//! everywhere), and `score_E(s)` for the others; a list shorter than the wanted size is filled from
//! the Global list.
//!
//! One client cannot buy a place: a view counts once per client and story in a window
//! (`views_window_minutes`, 30), and one client adds at most `views_per_client_window` (20) counted
//! views per window across stories. A client is a keyed hash (SipHash with a random key made at
//! each window's start, never written anywhere) of its address and User-Agent, so no address is
//! kept. The (client, story) pairs of a window are held in memory up to `views_seen_max`; when
//! that is full, views of pairs not seen yet are not counted until the window ends (a flood of
//! made-up clients then freezes trending rather than moving it), and a warning is logged.

use chrono::{DateTime, Utc};
use newsdesk_domain::{EditionId, StoryId, ViewCount};
use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use crate::readmodel::Snapshot;

/// Below this a score is forgotten, so the maps only hold stories read lately.
const FORGET_BELOW: f64 = 0.01;

#[derive(Debug, Clone, Copy)]
struct Score {
    value: f64,
    at: DateTime<Utc>,
}

impl Score {
    fn at(self, now: DateTime<Utc>, half_life_h: f64) -> f64 {
        let dt_h = (now - self.at).num_milliseconds().max(0) as f64 / 3_600_000.0;
        self.value * (-dt_h / half_life_h).exp2()
    }
}

/// The reason a request is not counted as a view.
pub fn is_bot_or_prefetch(user_agent: Option<&str>, purpose: Option<&str>) -> bool {
    if purpose.is_some_and(|p| p.to_ascii_lowercase().contains("prefetch")) {
        return true;
    }
    let Some(ua) = user_agent else { return true };
    let ua = ua.to_ascii_lowercase();
    if ua.len() < 8 {
        return true;
    }
    const MARKERS: [&str; 22] = [
        "bot",
        "crawl",
        "spider",
        "slurp",
        "curl/",
        "wget/",
        "python-",
        "httpclient",
        "http-client",
        "go-http",
        "java/",
        "okhttp",
        "libwww",
        "scrapy",
        "facebookexternalhit",
        "preview",
        "headless",
        "lighthouse",
        "monitor",
        "feed",
        "axios/",
        "node-fetch",
    ];
    MARKERS.iter().any(|m| ua.contains(m))
}

/// How much one client's views may weigh (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewLimits {
    /// A view of a story counts once per client in this window.
    pub window: chrono::Duration,
    /// Most counted views one client adds per window, across stories.
    pub per_client: u32,
    /// Most (client, story) pairs held per window.
    pub seen_max: usize,
}

impl Default for ViewLimits {
    fn default() -> Self {
        Self {
            window: chrono::Duration::minutes(30),
            per_client: 20,
            seen_max: 200_000,
        }
    }
}

/// The clients seen in the current window.
#[derive(Default)]
struct Window {
    started: Option<DateTime<Utc>>,
    key: RandomState,
    pairs: HashSet<(u64, StoryId)>,
    per_client: HashMap<u64, u32>,
    full_warned: bool,
}

/// Counts views and keeps trending lists.
pub struct Audience {
    limits: ViewLimits,
    window: Mutex<Window>,
    pending: Mutex<HashMap<(StoryId, EditionId), i64>>,
    scores: Mutex<HashMap<EditionId, HashMap<StoryId, Score>>>,
    lists: RwLock<HashMap<EditionId, Arc<Vec<StoryId>>>>,
    generation: AtomicU64,
    half_life_h: f64,
    size: usize,
}

impl Audience {
    /// An empty counter.
    pub fn new(half_life_h: f64, size: usize, limits: ViewLimits) -> Self {
        Self {
            limits: ViewLimits {
                window: limits.window.max(chrono::Duration::seconds(1)),
                ..limits
            },
            window: Mutex::default(),
            pending: Mutex::default(),
            scores: Mutex::default(),
            lists: RwLock::default(),
            generation: AtomicU64::new(1),
            half_life_h: if half_life_h > 0.0 { half_life_h } else { 6.0 },
            size: size.max(1),
        }
    }

    /// Counts a reader's view of `story` in `edition` at `now` unless this client (its address
    /// and User-Agent) already viewed the story in this window or used up its share of the window.
    /// Returns whether it counted.
    pub fn count_from(
        &self,
        story: StoryId,
        edition: EditionId,
        address: &str,
        user_agent: &str,
        now: DateTime<Utc>,
    ) -> bool {
        {
            let mut w = self.window.lock().unwrap_or_else(|e| e.into_inner());
            if w.started
                .is_none_or(|t| now < t || now - t >= self.limits.window)
            {
                // A new window: a new key, so a client's id does not carry over either.
                *w = Window {
                    started: Some(now),
                    ..Window::default()
                };
            }
            let client = w.key.hash_one((address, user_agent));
            if w.pairs.contains(&(client, story)) {
                return false;
            }
            let used = w.per_client.get(&client).copied().unwrap_or(0);
            if used >= self.limits.per_client {
                return false;
            }
            if w.pairs.len() >= self.limits.seen_max {
                if !w.full_warned {
                    w.full_warned = true;
                    tracing::warn!(
                        limit = self.limits.seen_max,
                        "views_seen_max reached: new readers' views are not counted until the window ends"
                    );
                }
                return false;
            }
            w.pairs.insert((client, story));
            w.per_client.insert(client, used + 1);
        }
        self.count(story, edition);
        true
    }

    /// (Client, story) pairs held for the current window.
    pub fn clients_held(&self) -> usize {
        self.window
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pairs
            .len()
    }

    /// Adds one view to the pending counts as it is, without the per-client rule (to put back
    /// views a failed flush took).
    pub fn count(&self, story: StoryId, edition: EditionId) {
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        *p.entry((story, edition)).or_insert(0) += 1;
    }

    /// Views counted but not yet flushed.
    pub fn pending(&self) -> i64 {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .sum()
    }

    /// Changes whenever any trending list changes, so cached pages know to re-render.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Takes the pending counts as database rows for `now`'s UTC day.
    pub fn take_pending(&self, now: DateTime<Utc>) -> Vec<ViewCount> {
        let taken = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        let day = now.date_naive();
        taken
            .into_iter()
            .map(|((story_id, edition_id), views)| ViewCount {
                story_id,
                edition_id,
                day,
                views,
            })
            .collect()
    }

    /// Folds counted views (at time `at`) into the scores. `global` is the Global edition.
    pub fn add_to_scores(&self, views: &[ViewCount], at: DateTime<Utc>, global: EditionId) {
        let mut scores = self.scores.lock().unwrap_or_else(|e| e.into_inner());
        for v in views {
            let mut bump = |ed: EditionId| {
                let s = scores
                    .entry(ed)
                    .or_default()
                    .entry(v.story_id)
                    .or_insert(Score { value: 0.0, at });
                let base = if at > s.at {
                    s.at(at, self.half_life_h)
                } else {
                    s.value
                };
                *s = Score {
                    value: base + v.views as f64,
                    at: at.max(s.at),
                };
            };
            bump(global);
            if v.edition_id != global {
                bump(v.edition_id);
            }
        }
    }

    /// Recomputes every edition's list from the scores and the read model at `now`.
    pub fn recompute(&self, snap: &Snapshot, now: DateTime<Utc>) {
        let Some(global) = snap.tax.global().map(|g| g.id) else {
            return;
        };
        let mut scores = self.scores.lock().unwrap_or_else(|e| e.into_inner());
        let hl = self.half_life_h;
        for m in scores.values_mut() {
            m.retain(|_, s| s.at(now, hl) >= FORGET_BELOW);
        }
        let empty = HashMap::new();
        let global_scores = scores.get(&global).unwrap_or(&empty);
        let rank = |ed: EditionId, own: &HashMap<StoryId, Score>| -> Vec<StoryId> {
            let mut cand: HashMap<StoryId, f64> = HashMap::new();
            for (id, s) in own {
                if snap.is_public(*id, now) {
                    cand.insert(*id, s.at(now, hl));
                }
            }
            if ed != global {
                for (id, s) in global_scores {
                    if snap.is_public_in(*id, now, ed) {
                        *cand.entry(*id).or_insert(0.0) += 0.1 * s.at(now, hl);
                    }
                }
            }
            let mut v: Vec<(StoryId, f64)> = cand.into_iter().collect();
            v.sort_by(|a, b| b.1.total_cmp(&a.1).then(b.0.cmp(&a.0)));
            v.into_iter().take(self.size).map(|(id, _)| id).collect()
        };
        let global_list = rank(global, global_scores);
        let mut next: HashMap<EditionId, Arc<Vec<StoryId>>> = HashMap::new();
        for ed in &snap.tax.editions {
            if ed.id == global {
                continue;
            }
            let mut list = rank(ed.id, scores.get(&ed.id).unwrap_or(&empty));
            for id in &global_list {
                if list.len() >= self.size {
                    break;
                }
                if !list.contains(id) {
                    list.push(*id);
                }
            }
            next.insert(ed.id, Arc::new(list));
        }
        next.insert(global, Arc::new(global_list));
        drop(scores);
        let mut lists = self.lists.write().unwrap_or_else(|e| e.into_inner());
        if *lists != next {
            *lists = next;
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// The trending list of an edition (ids, best first).
    pub fn list(&self, edition: EditionId) -> Arc<Vec<StoryId>> {
        self.lists
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&edition)
            .cloned()
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bots_and_prefetches_are_not_counted() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
        assert!(!is_bot_or_prefetch(Some(chrome), None));
        assert!(is_bot_or_prefetch(Some(chrome), Some("prefetch")));
        assert!(is_bot_or_prefetch(None, None));
        assert!(is_bot_or_prefetch(
            Some("Googlebot/2.1 (+http://www.google.com/bot.html)"),
            None
        ));
        assert!(is_bot_or_prefetch(Some("curl/8.5.0"), None));
        assert!(is_bot_or_prefetch(
            Some("Mozilla/5.0 (compatible; bingbot/2.0)"),
            None
        ));
    }

    #[test]
    fn one_client_counts_once_per_story_and_window_and_a_share_in_all() {
        let t = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let a = Audience::new(
            6.0,
            10,
            ViewLimits {
                window: chrono::Duration::minutes(30),
                per_client: 3,
                seen_max: 6,
            },
        );
        let (s, e) = (StoryId(1), EditionId(1));
        let counted = (0..300)
            .filter(|_| a.count_from(s, e, "203.0.113.9", "Firefox", t))
            .count();
        assert_eq!(counted, 1);
        // Another User-Agent at the same address is another client.
        assert!(a.count_from(s, e, "203.0.113.9", "Safari", t));
        // One client's share of the window across stories.
        let n = (2..10)
            .filter(|i| a.count_from(StoryId(*i), e, "203.0.113.9", "Firefox", t))
            .count();
        assert_eq!(n, 2);
        assert_eq!(a.pending(), 4);
        // Full (6 pairs held): a new client is not counted, and memory does not grow.
        assert!(a.count_from(s, e, "198.51.100.1", "Firefox", t));
        assert!(a.count_from(s, e, "198.51.100.2", "Firefox", t));
        assert!(!a.count_from(s, e, "198.51.100.3", "Firefox", t));
        assert_eq!(a.clients_held(), 6);
        // The next window starts afresh.
        let later = t + chrono::Duration::minutes(30);
        assert!(a.count_from(s, e, "203.0.113.9", "Firefox", later));
        assert!(a.count_from(s, e, "198.51.100.3", "Firefox", later));
        assert_eq!(a.clients_held(), 2);
    }

    #[test]
    fn scores_decay_by_half_life() {
        let t = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let s = Score { value: 8.0, at: t };
        let later = t + chrono::Duration::hours(6);
        assert!((s.at(later, 6.0) - 4.0).abs() < 1e-9);
        assert!((s.at(t + chrono::Duration::hours(18), 6.0) - 1.0).abs() < 1e-9);
    }
}
