//! Online near-duplicate clustering of wire items with MinHash + LSH banding.
//!
//! Each signature is cut into `bands` bands of `rows` values; each band is hashed to a bucket key.
//! Two items become *candidates* when they share at least one bucket, which happens with
//! probability `1 − (1 − J^rows)^bands` for Jaccard similarity `J` (the S-curve). Only candidates
//! are compared (estimated Jaccard from the full signature), and only those published within
//! `window` of the new item.
//!
//! **Merge policy.** A new item joins the cluster of its best-matching candidate when that
//! similarity reaches `threshold`; otherwise it founds a new cluster whose id is the item's own id.
//! Existing clusters are never merged with each other (an item similar to two clusters joins the
//! better one), so an assignment, once made, does not change — the desk can rely on it.
//!
//! **Bounded work and memory.** Entries older than `window` behind the newest publication time
//! seen are expired from the bucket tables, so memory is bounded by the items in one window, not by
//! all history. Each bucket also keeps at most `max_bucket` ids (the most recent): a band value
//! shared by very many items (boilerplate) cannot make one lookup expensive, so the comparisons
//! per item are at most `bands × max_bucket`, whatever the volume.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use chrono::{DateTime, Duration, Utc};

use crate::fingerprint::{mix64, Signature};

/// Estimated Jaccard similarity of two signatures: the fraction of positions with equal minimum
/// hashes. `0.0` when either is empty or their lengths differ.
pub fn estimate_similarity(a: &Signature, b: &Signature) -> f32 {
    if a.is_empty() || b.is_empty() || a.len() != b.len() {
        return 0.0;
    }
    let same = a
        .values()
        .iter()
        .zip(b.values())
        .filter(|(x, y)| x == y)
        .count();
    same as f32 / a.len() as f32
}

/// Parameters of a [`Clusterer`]. `bands × rows` must not exceed the signature length (extra
/// signature positions are still used for the similarity estimate).
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterConfig {
    /// Number of LSH bands.
    pub bands: usize,
    /// Signature values per band.
    pub rows: usize,
    /// Minimum estimated Jaccard similarity to join a candidate's cluster.
    pub threshold: f32,
    /// Only items published within this duration of each other are compared.
    pub window: Duration,
    /// Maximum ids kept per bucket (the most recent ones).
    pub max_bucket: usize,
    /// A later development of a running story: an item published more than this after the
    /// newest item of the cluster it matches best...
    pub development_gap: Duration,
    /// ...and whose estimated similarity to it is below this (much of its text is new) founds
    /// a cluster of its own instead of joining.
    pub development_similarity: f32,
}

impl Default for ClusterConfig {
    /// Tuned on the labelled fixtures for [`crate::MinHasher::default`] signatures (128 hashes over
    /// content words): 42 bands × 3 rows (candidate probability 0.5 at J ≈ 0.25, 0.94 at J = 0.4),
    /// threshold 0.27, 48 hours, 64 ids per bucket; a match more than 6 hours after the newest
    /// item of its cluster joins only at similarity 0.5 or more.
    fn default() -> ClusterConfig {
        ClusterConfig {
            bands: 42,
            rows: 3,
            threshold: 0.27,
            window: Duration::hours(48),
            max_bucket: 64,
            development_gap: Duration::hours(6),
            development_similarity: 0.5,
        }
    }
}

/// Where [`Clusterer::add`] put an item.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Assignment {
    /// The cluster: the id of the item that founded it.
    pub cluster_id: u64,
    /// True when the item founded a new cluster.
    pub new_cluster: bool,
    /// Estimated similarity to the best candidate compared (0 when none).
    pub best_similarity: f32,
}

/// One held item. Signatures are kept as the low 16 bits of each minimum ("b-bit MinHash"): two
/// different minima agree on them with probability 1/65,536, which changes a similarity estimate
/// by far less than its sampling error, and halves the memory of the window.
#[derive(Debug, Clone)]
struct Entry {
    id: u64,
    published: i64,
    cluster: u64,
    sig: Box<[u16]>,
    best_similarity: f32,
    new_cluster: bool,
    hash: Option<u64>,
}

/// A bucket value with this bit set is an index into `Clusterer::lists`; otherwise it is the slot
/// of the bucket's only item (most buckets hold one item, and then cost no allocation).
const LIST: u32 = 1 << 31;

/// Online clusterer; see the module documentation for the algorithm and merge policy.
///
/// Memory per held item: its entry and 16-bit signature (~330 bytes with the default 128
/// hashes), one 8-byte bucket-table slot per band (42 × 8 bytes, plus the hash table's spare
/// capacity) and a few index entries: about 1 KB in all.
#[derive(Debug, Clone)]
pub struct Clusterer {
    config: ClusterConfig,
    slots: Vec<Option<Entry>>,
    free_slots: Vec<u32>,
    index: HashMap<u64, u32>,
    buckets: HashMap<u32, u32>,
    lists: Vec<Vec<u32>>,
    free_lists: Vec<u32>,
    expiry: BinaryHeap<Reverse<(i64, u64)>>,
    newest: Option<DateTime<Utc>>,
    compared: u64,
    hashes: HashMap<u64, u64>,
    /// Cluster id → publication time (ms) of its newest held item.
    latest: HashMap<u64, i64>,
}

fn compact(sig: &Signature) -> Box<[u16]> {
    sig.values().iter().map(|&v| v as u16).collect()
}

fn similarity16(a: &[u16], b: &[u16]) -> f32 {
    if a.is_empty() || a.len() != b.len() {
        return 0.0;
    }
    let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
    same as f32 / a.len() as f32
}

impl Clusterer {
    /// An empty clusterer. `bands` and `rows` below 1 are treated as 1.
    pub fn new(mut config: ClusterConfig) -> Clusterer {
        config.bands = config.bands.max(1);
        config.rows = config.rows.max(1);
        config.max_bucket = config.max_bucket.max(1);
        Clusterer {
            config,
            slots: Vec::new(),
            free_slots: Vec::new(),
            index: HashMap::new(),
            buckets: HashMap::new(),
            lists: Vec::new(),
            free_lists: Vec::new(),
            expiry: BinaryHeap::new(),
            newest: None,
            compared: 0,
            hashes: HashMap::new(),
            latest: HashMap::new(),
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &ClusterConfig {
        &self.config
    }

    /// Adds an item and returns its cluster. Adding an id that is already present returns its
    /// existing assignment unchanged (re-sends are idempotent).
    ///
    /// An item published more than `window` before the newest item seen is still assigned (it is
    /// compared with the candidates within `window` of its own time) but expires at once.
    pub fn add(&mut self, id: u64, published: DateTime<Utc>, sig: &Signature) -> Assignment {
        self.insert(id, published, sig, None)
    }

    /// Like [`Clusterer::add`], but first checks the item's [`crate::content_hash`]: when an item
    /// with the same hash is held (an exact re-send under another id, within the window), nothing
    /// is added and `Err(id of the original)` is returned, so a re-send never makes a second item.
    pub fn add_with_hash(
        &mut self,
        id: u64,
        published: DateTime<Utc>,
        content_hash: u64,
        sig: &Signature,
    ) -> Result<Assignment, u64> {
        if let Some(&orig) = self.hashes.get(&content_hash) {
            if orig != id && self.index.contains_key(&orig) {
                return Err(orig);
            }
        }
        Ok(self.insert(id, published, sig, Some(content_hash)))
    }

    /// Like [`Clusterer::add`], with an exact-text key besides MinHash: when an item with the same
    /// [`crate::content_hash`] is held (an exact re-send under another id), the item joins that
    /// item's cluster whatever its signature (which may differ: the common-word filter may have
    /// changed between the two), with similarity 1. Otherwise it is added as by `add`, and its
    /// hash is remembered for later re-sends.
    pub fn add_exact(
        &mut self,
        id: u64,
        published: DateTime<Utc>,
        content_hash: u64,
        sig: &Signature,
    ) -> Assignment {
        if let Some(e) = self.entry_of(id) {
            return Assignment {
                cluster_id: e.cluster,
                new_cluster: e.new_cluster,
                best_similarity: e.best_similarity,
            };
        }
        let original = self
            .hashes
            .get(&content_hash)
            .and_then(|orig| self.entry_of(*orig))
            .map(|e| e.cluster);
        self.insert_as(id, published, sig, Some(content_hash), original)
    }

    /// Puts an item into a cluster decided earlier (by this clusterer or another one fed the
    /// same stream), without comparing: a node catching up on items another node clustered
    /// holds them as that node did. Its hash is remembered for later re-sends.
    pub fn add_known(
        &mut self,
        id: u64,
        published: DateTime<Utc>,
        content_hash: u64,
        sig: &Signature,
        cluster: u64,
    ) -> Assignment {
        self.insert_as(id, published, sig, Some(content_hash), Some(cluster))
    }

    /// The held item with this content hash, if any.
    pub fn find_resend(&self, content_hash: u64) -> Option<u64> {
        self.hashes.get(&content_hash).copied()
    }

    fn entry(&self, slot: u32) -> Option<&Entry> {
        self.slots.get(slot as usize).and_then(Option::as_ref)
    }

    fn entry_of(&self, id: u64) -> Option<&Entry> {
        self.index.get(&id).and_then(|&s| self.entry(s))
    }

    fn insert(
        &mut self,
        id: u64,
        published: DateTime<Utc>,
        sig: &Signature,
        hash: Option<u64>,
    ) -> Assignment {
        self.insert_as(id, published, sig, hash, None)
    }

    /// Inserts an item; `forced` puts it in that cluster without comparing (an exact re-send).
    fn insert_as(
        &mut self,
        id: u64,
        published: DateTime<Utc>,
        sig: &Signature,
        hash: Option<u64>,
        forced: Option<u64>,
    ) -> Assignment {
        if let Some(e) = self.entry_of(id) {
            return Assignment {
                cluster_id: e.cluster,
                new_cluster: e.new_cluster,
                best_similarity: e.best_similarity,
            };
        }
        if self.newest.is_none_or(|n| published > n) {
            self.newest = Some(published);
        }
        self.expire();

        let small = if sig.is_empty() {
            Box::default()
        } else {
            compact(sig)
        };
        let keys = self.band_keys(&small);
        let at = published.timestamp_millis();
        let window = self.config.window.num_milliseconds();
        let mut best: Option<(f32, i64, u64)> = None;
        if let Some(c) = forced {
            best = Some((1.0, at, c));
        } else if !small.is_empty() {
            // Distinct candidates from all bands (sorted + dedup: O(n log n) even when buckets
            // are full).
            let mut cands: Vec<u32> = Vec::new();
            for k in &keys {
                match self.buckets.get(k) {
                    Some(&v) if v & LIST != 0 => {
                        if let Some(list) = self.lists.get((v & !LIST) as usize) {
                            cands.extend_from_slice(list);
                        }
                    }
                    Some(&v) => cands.push(v),
                    None => {}
                }
            }
            cands.sort_unstable();
            cands.dedup();
            for slot in cands {
                let Some(e) = self.entry(slot) else {
                    continue;
                };
                if (e.published - at).abs() > window {
                    continue;
                }
                let s = similarity16(&small, &e.sig);
                let better = match best {
                    None => true,
                    // Ties go to the earlier-published candidate.
                    Some((bs, bp, _)) => s > bs || (s == bs && e.published < bp),
                };
                if better {
                    best = Some((s, e.published, e.cluster));
                }
                self.compared += 1;
            }
        }
        let best_similarity = best.map_or(0.0, |b| b.0);
        let gap = self.config.development_gap.num_milliseconds();
        let (cluster, new_cluster) = match best {
            Some((_, _, c)) if forced.is_some() => (c, false),
            // A later development: long after the cluster's newest item, and mostly new text.
            Some((s, _, c))
                if s >= self.config.threshold
                    && s < self.config.development_similarity
                    && self.latest.get(&c).is_some_and(|&t| at - t > gap) =>
            {
                (id, true)
            }
            Some((s, _, c)) if s >= self.config.threshold => (c, false),
            _ => (id, true),
        };
        let newest = self.latest.entry(cluster).or_insert(at);
        *newest = (*newest).max(at);

        let entry = Entry {
            id,
            published: at,
            cluster,
            sig: small,
            best_similarity,
            new_cluster,
            hash,
        };
        let slot = match self.free_slots.pop() {
            Some(s) => {
                self.slots[s as usize] = Some(entry);
                s
            }
            None => {
                self.slots.push(Some(entry));
                (self.slots.len() - 1) as u32
            }
        };
        if !sig.is_empty() {
            for key in keys {
                self.link(key, slot);
            }
        }
        self.index.insert(id, slot);
        self.expiry.push(Reverse((at, id)));
        if let Some(h) = hash {
            self.hashes.insert(h, id);
        }
        self.expire();
        Assignment {
            cluster_id: cluster,
            new_cluster,
            best_similarity,
        }
    }

    /// Puts `slot` into the bucket `key`, keeping at most `max_bucket` (the most recent).
    fn link(&mut self, key: u32, slot: u32) {
        match self.buckets.get(&key).copied() {
            None => {
                self.buckets.insert(key, slot);
            }
            Some(v) if v & LIST != 0 => {
                if let Some(list) = self.lists.get_mut((v & !LIST) as usize) {
                    list.push(slot);
                    if list.len() > self.config.max_bucket {
                        list.remove(0);
                    }
                }
            }
            Some(only) => {
                if self.config.max_bucket < 2 {
                    self.buckets.insert(key, slot);
                    return;
                }
                let list = vec![only, slot];
                let at = match self.free_lists.pop() {
                    Some(i) => {
                        self.lists[i as usize] = list;
                        i
                    }
                    None => {
                        self.lists.push(list);
                        (self.lists.len() - 1) as u32
                    }
                };
                self.buckets.insert(key, at | LIST);
            }
        }
    }

    /// Takes `slot` out of the bucket `key` (it may already have been pushed out of a full one).
    fn unlink_key(&mut self, key: u32, slot: u32) {
        let Some(v) = self.buckets.get(&key).copied() else {
            return;
        };
        if v & LIST == 0 {
            if v == slot {
                self.buckets.remove(&key);
            }
            return;
        }
        let li = v & !LIST;
        let Some(list) = self.lists.get_mut(li as usize) else {
            return;
        };
        list.retain(|&x| x != slot);
        match list.len() {
            0 | 1 => {
                let rest = list.first().copied();
                *list = Vec::new();
                self.free_lists.push(li);
                match rest {
                    Some(only) => self.buckets.insert(key, only),
                    None => self.buckets.remove(&key),
                };
            }
            _ => {}
        }
    }

    /// Removes an item (withdrawn, or moved by the desk). Its cluster keeps its id. Returns whether
    /// the item was present.
    pub fn remove(&mut self, id: u64) -> bool {
        let Some(slot) = self.index.remove(&id) else {
            return false;
        };
        self.release(slot);
        true
    }

    fn release(&mut self, slot: u32) {
        let Some(e) = self.slots.get_mut(slot as usize).and_then(Option::take) else {
            return;
        };
        if let Some(h) = e.hash {
            if self.hashes.get(&h) == Some(&e.id) {
                self.hashes.remove(&h);
            }
        }
        if !e.sig.is_empty() {
            for key in self.band_keys(&e.sig) {
                self.unlink_key(key, slot);
            }
        }
        self.free_slots.push(slot);
    }

    /// The cluster of an item still inside the window.
    pub fn cluster_of(&self, id: u64) -> Option<u64> {
        self.entry_of(id).map(|e| e.cluster)
    }

    /// Number of items currently held (inside the window).
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True when no item is held.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Total similarity computations made by [`Clusterer::add`] since creation: divide by the items
    /// added to see the per-item work (it must stay flat as the volume grows).
    pub fn candidates_compared(&self) -> u64 {
        self.compared
    }

    /// The bucket key of each band: 32 bits of a hash of the band's values. Two unrelated bands
    /// share a key with probability 2⁻³², which at worst adds a candidate to compare.
    fn band_keys(&self, sig: &[u16]) -> Vec<u32> {
        let rows = self.config.rows;
        (0..self.config.bands)
            .filter_map(|b| {
                let band = sig.get(b * rows..(b + 1) * rows)?;
                let mut h = mix64(b as u64 + 1);
                for &x in band {
                    h = mix64(h ^ u64::from(x));
                }
                Some((h >> 32) as u32)
            })
            .collect()
    }

    fn expire(&mut self) {
        let Some(newest) = self.newest else {
            return;
        };
        let horizon = (newest - self.config.window).timestamp_millis();
        while let Some(Reverse((ts, id))) = self.expiry.peek().copied() {
            if ts >= horizon {
                break;
            }
            self.expiry.pop();
            // The id may have been removed (or removed and re-added with another time).
            let Some(&slot) = self.index.get(&id) else {
                continue;
            };
            if let Some(cluster) = self
                .entry(slot)
                .filter(|e| e.published == ts)
                .map(|e| e.cluster)
            {
                self.index.remove(&id);
                self.release(slot);
                // A cluster whose newest item left the window is forgotten (bounds `latest`).
                if self.latest.get(&cluster).is_some_and(|&t| t < horizon) {
                    self.latest.remove(&cluster);
                }
            }
        }
    }
}

impl Default for Clusterer {
    fn default() -> Clusterer {
        Clusterer::new(ClusterConfig::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MinHasher;
    use chrono::TimeZone;

    fn t(h: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000, 0)
            .single()
            .unwrap_or_default()
            + Duration::hours(h)
    }

    #[test]
    fn near_duplicates_join_and_window_expires() {
        let h = MinHasher::default();
        let mut c = Clusterer::default();
        let a = h.signature(
            "Earthquake of magnitude 6.1 strikes southern Peru near Arequipa, killing three",
        );
        let b = h.signature(
            "Magnitude 6.1 earthquake strikes near Arequipa in southern Peru; three killed",
        );
        let x = h.signature(
            "Central bank of Kenya raises lending rate to 13 percent to fight inflation",
        );
        let r1 = c.add(1, t(0), &a);
        assert!(r1.new_cluster);
        assert_eq!(r1.cluster_id, 1);
        let r2 = c.add(2, t(1), &b);
        assert_eq!(r2.cluster_id, 1, "{r2:?}");
        assert!(!r2.new_cluster);
        assert!(c.add(3, t(2), &x).new_cluster);
        // Idempotent re-add.
        assert_eq!(c.add(2, t(1), &b), r2);
        // Far in the future: the old entries expire, and the same text starts a new cluster.
        let r4 = c.add(4, t(100), &a);
        assert!(r4.new_cluster);
        assert_eq!(c.len(), 1);
        assert!(c.remove(4));
        assert!(c.is_empty());
        assert!(!c.remove(4));
    }

    #[test]
    fn exact_resend_is_refused() {
        let h = MinHasher::default();
        let mut c = Clusterer::default();
        let text = "Cyclone Ilaria floods Beira in Mozambique";
        let hash = crate::content_hash(text, "");
        let sig = h.signature(text);
        assert!(c.add_with_hash(1, t(0), hash, &sig).is_ok());
        assert_eq!(c.add_with_hash(2, t(1), hash, &sig), Err(1));
        assert_eq!(c.len(), 1);
        assert_eq!(c.find_resend(hash), Some(1));
        c.remove(1);
        assert_eq!(c.find_resend(hash), None);
    }

    #[test]
    fn exact_resend_joins_its_original_whatever_its_signature() {
        let h = MinHasher::default();
        let mut c = Clusterer::default();
        let text = "Cyclone Ilaria floods Beira in Mozambique";
        let hash = crate::content_hash(text, "");
        let a = c.add_exact(1, t(0), hash, &h.signature(text));
        assert!(a.new_cluster);
        c.add_exact(5, t(1), 77, &h.signature("Unrelated budget vote in Lima"));
        // 28 hours later, under a new id, with a signature made over fewer words (the
        // common-word filter switched on in between): it still joins.
        let other = h.signature("Beira");
        let r = c.add_exact(2, t(28), hash, &other);
        assert_eq!(r.cluster_id, 1, "{r:?}");
        assert!(!r.new_cluster);
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn a_later_development_founds_its_own_cluster() {
        let h = MinHasher::default();
        let mut c = Clusterer::default();
        let first = "Magnitude 6.1 earthquake strikes Arequipa in southern Peru, three dead, \
                     dozens of adobe homes damaged near Chala";
        let resend = "Earthquake of magnitude 6.1 strikes southern Peru near Arequipa and Chala; \
                      three dead, adobe homes damaged";
        let later = "Southern Peru earthquake: Arequipa opens fund for adobe homes near Chala \
                     damaged by the quake; congress approves 40 million soles for schools";
        let a = c.add(1, t(0), &h.signature(first));
        let b = c.add(2, t(1), &h.signature(resend));
        assert_eq!(b.cluster_id, a.cluster_id, "{b:?}");
        let s = h.signature(later);
        let near = estimate_similarity(&s, &h.signature(first));
        assert!(
            near >= ClusterConfig::default().threshold && near < 0.5,
            "{near}"
        );
        // The same text an hour later would join; two days of quiet later it is a development.
        let mut same_day = c.clone();
        assert_eq!(same_day.add(3, t(2), &s).cluster_id, 1);
        let d = c.add(3, t(30), &s);
        assert!(d.new_cluster, "{d:?}");
    }

    #[test]
    fn empty_signature_is_alone() {
        let h = MinHasher::default();
        let mut c = Clusterer::default();
        let e = h.signature("");
        assert!(c.add(1, t(0), &e).new_cluster);
        assert!(c.add(2, t(0), &e).new_cluster);
        assert_eq!(c.candidates_compared(), 0);
    }
}
