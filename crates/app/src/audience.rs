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

use chrono::{DateTime, Utc};
use newsdesk_domain::{EditionId, StoryId, ViewCount};
use std::collections::HashMap;
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

/// Counts views and keeps trending lists.
pub struct Audience {
    pending: Mutex<HashMap<(StoryId, EditionId), i64>>,
    scores: Mutex<HashMap<EditionId, HashMap<StoryId, Score>>>,
    lists: RwLock<HashMap<EditionId, Arc<Vec<StoryId>>>>,
    generation: AtomicU64,
    half_life_h: f64,
    size: usize,
}

impl Audience {
    /// An empty counter.
    pub fn new(half_life_h: f64, size: usize) -> Self {
        Self {
            pending: Mutex::default(),
            scores: Mutex::default(),
            lists: RwLock::default(),
            generation: AtomicU64::new(1),
            half_life_h: if half_life_h > 0.0 { half_life_h } else { 6.0 },
            size: size.max(1),
        }
    }

    /// Counts one view in memory.
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
                if snap.public_card(*id, now).is_some() {
                    cand.insert(*id, s.at(now, hl));
                }
            }
            if ed != global {
                for (id, s) in global_scores {
                    if let Some(c) = snap.public_card(*id, now) {
                        if c.in_edition(ed) {
                            *cand.entry(*id).or_insert(0.0) += 0.1 * s.at(now, hl);
                        }
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
    fn scores_decay_by_half_life() {
        let t = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let s = Score { value: 8.0, at: t };
        let later = t + chrono::Duration::hours(6);
        assert!((s.at(later, 6.0) - 4.0).abs() < 1e-9);
        assert!((s.at(t + chrono::Duration::hours(18), 6.0) - 1.0).abs() < 1e-9);
    }
}
