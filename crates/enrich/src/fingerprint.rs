//! Fingerprints of wire copy: a stable content hash for exact re-sends and MinHash signatures for
//! near-duplicates.
//!
//! Both work on the normalised text ([`crate::text::normalize`]: lower case, accents folded,
//! punctuation removed), so a re-send that only changes spacing, punctuation or letter case is still
//! "the same". All hashing is fixed (FNV-1a and SplitMix64 with constant seeds): values are stable
//! across runs, machines and versions of Rust, and may be stored.

use crate::text::{each_word, is_stopword, light_stem};

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// 64-bit FNV-1a of `bytes`, continuing from `state` (start with [`fnv1a`]'s offset basis by
/// calling [`fnv1a`]).
fn fnv1a_from(mut state: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        state ^= u64::from(*b);
        state = state.wrapping_mul(FNV_PRIME);
    }
    state
}

/// 64-bit FNV-1a hash of `bytes`. Stable across runs.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    fnv1a_from(FNV_OFFSET, bytes)
}

/// SplitMix64 finaliser: a fast, well-mixing bijection on `u64`.
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Hash identifying the content of an item for exact re-send detection: FNV-1a over the normalised
/// headline and body (separated, so moving words between them changes the hash), finalised with
/// [`mix64`]. Equal for copies differing only in case, spacing, punctuation or accents.
pub fn content_hash(headline: &str, body: &str) -> u64 {
    let mut h = FNV_OFFSET;
    each_word(headline, |w| {
        h = fnv1a_from(h, w.as_bytes());
        h = fnv1a_from(h, b" ");
    });
    h = fnv1a_from(h, b"\x1e");
    each_word(body, |w| {
        h = fnv1a_from(h, w.as_bytes());
        h = fnv1a_from(h, b" ");
    });
    mix64(h)
}

/// [`content_hash`] of a headline and body already split into normalised words
/// ([`crate::text::Tokens::words`]): the same value.
pub fn content_hash_words<'a>(
    headline: impl IntoIterator<Item = &'a str>,
    body: impl IntoIterator<Item = &'a str>,
) -> u64 {
    let mut h = FNV_OFFSET;
    for w in headline {
        h = fnv1a_from(h, w.as_bytes());
        h = fnv1a_from(h, b" ");
    }
    h = fnv1a_from(h, b"\x1e");
    for w in body {
        h = fnv1a_from(h, w.as_bytes());
        h = fnv1a_from(h, b" ");
    }
    mix64(h)
}

/// A MinHash signature: for each of the hasher's hash functions, the minimum hash over the text's
/// shingles. The fraction of equal positions of two signatures estimates the Jaccard similarity of
/// their shingle sets ([`crate::estimate_similarity`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Signature {
    mins: Vec<u32>,
    empty: bool,
}

impl Signature {
    /// The minimum hash per hash function.
    pub fn values(&self) -> &[u32] {
        &self.mins
    }

    /// Number of hash functions.
    pub fn len(&self) -> usize {
        self.mins.len()
    }

    /// True when the text had no shingles at all (then it is similar to nothing).
    pub fn is_empty(&self) -> bool {
        self.empty
    }
}

/// Computes MinHash signatures with fixed hash functions.
///
/// Features are shingles of `shingle_words` consecutive *content* words: normalised
/// ([`crate::text::normalize`]), stop words removed, plural `-s` stripped
/// ([`crate::text::light_stem`]). A text shorter than one shingle contributes its whole content as
/// one shingle. Hash function `i` is `h_i(x) = high32(a_i · x + b_i)` over the 64-bit shingle hash
/// `x`, with odd `a_i` and `b_i` drawn from SplitMix64 with a constant seed.
#[derive(Debug, Clone)]
pub struct MinHasher {
    shingle_words: usize,
    params: Vec<(u64, u64)>,
}

/// Seed of the hash-function parameters. Changing it changes every signature.
const SEED: u64 = 0x6e65_7773_6465_736b; // "newsdesk"

impl MinHasher {
    /// A hasher with `num_hashes` hash functions (at least 1) over shingles of `shingle_words`
    /// content words (at least 1).
    pub fn new(num_hashes: usize, shingle_words: usize) -> MinHasher {
        let mut state = SEED;
        let mut next = || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            mix64(state)
        };
        let params = (0..num_hashes.max(1))
            .map(|_| (next() | 1, next()))
            .collect();
        MinHasher {
            shingle_words: shingle_words.max(1),
            params,
        }
    }

    /// Number of hash functions (= signature length).
    pub fn num_hashes(&self) -> usize {
        self.params.len()
    }

    /// The 64-bit hashes of the distinct shingles of `text`.
    pub fn shingles(&self, text: &str) -> Vec<u64> {
        let mut toks: Vec<u64> = Vec::with_capacity(text.len() / 8);
        each_word(text, |w| {
            if !is_stopword(w) {
                toks.push(fnv1a(light_stem(w).as_bytes()));
            }
        });
        self.shingles_of(toks)
    }

    /// [`MinHasher::shingles`] of a text already split into normalised words
    /// ([`crate::text::Tokens::words`]; parts separated by a line break are the parts' words one
    /// after the other): the same shingles.
    pub fn shingles_words<'a>(&self, words: impl IntoIterator<Item = &'a str>) -> Vec<u64> {
        let toks: Vec<u64> = words
            .into_iter()
            .filter(|w| !is_stopword(w))
            .map(|w| fnv1a(light_stem(w).as_bytes()))
            .collect();
        self.shingles_of(toks)
    }

    fn shingles_of(&self, toks: Vec<u64>) -> Vec<u64> {
        let k = self.shingle_words;
        let mut out: Vec<u64> = if toks.is_empty() {
            Vec::new()
        } else if toks.len() < k {
            vec![toks.iter().fold(FNV_OFFSET, |h, t| mix64(h ^ t))]
        } else {
            toks.windows(k)
                .map(|win| win.iter().fold(FNV_OFFSET, |h, t| mix64(h ^ t)))
                .collect()
        };
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The MinHash signature of `text` (pass headline and body together, e.g. separated by a
    /// newline).
    pub fn signature(&self, text: &str) -> Signature {
        self.signature_of(&self.shingles(text))
    }

    /// The MinHash signature of `text` over its *informative* shingles: those that are not
    /// [`CommonShingles::is_common`] in the stream seen so far. The text's shingles are then
    /// counted into `common`. Use this for a stream of copy (see [`CommonShingles`] for why).
    pub fn stream_signature(&self, text: &str, common: &mut CommonShingles) -> Signature {
        let all = self.shingles(text);
        let sig = self.signature_of(&common.informative(&all));
        common.observe(&all);
        sig
    }

    /// The MinHash signature of a set of shingle hashes (as made by [`MinHasher::shingles`]).
    pub fn signature_of(&self, shingles: &[u64]) -> Signature {
        let mut mins = vec![u32::MAX; self.params.len()];
        for &x in shingles {
            for (m, &(a, b)) in mins.iter_mut().zip(&self.params) {
                let h = (a.wrapping_mul(x).wrapping_add(b) >> 32) as u32;
                if h < *m {
                    *m = h;
                }
            }
        }
        Signature {
            mins,
            empty: shingles.is_empty(),
        }
    }
}

/// Hashing for tables keyed by shingle hashes of outside text: one [`mix64`] of the key with a
/// per-table random seed. The keys are already well mixed, so SipHash (a tenth of the time spent
/// on an item's shingles) buys nothing; the random seed keeps crafted copy from aiming all its
/// shingles at one bucket, since nobody outside knows where a key lands.
#[derive(Debug, Clone, Copy)]
pub struct SeededMix(u64);

impl Default for SeededMix {
    fn default() -> SeededMix {
        use std::hash::BuildHasher;
        SeededMix(std::collections::hash_map::RandomState::new().hash_one(SEED))
    }
}

impl std::hash::BuildHasher for SeededMix {
    type Hasher = SeededMixHasher;
    fn build_hasher(&self) -> SeededMixHasher {
        SeededMixHasher(self.0)
    }
}

/// The hasher of [`SeededMix`].
#[derive(Debug, Clone, Copy)]
pub struct SeededMixHasher(u64);

impl std::hash::Hasher for SeededMixHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0 = mix64(fnv1a_from(self.0, bytes));
    }

    fn write_u64(&mut self, x: u64) {
        self.0 = mix64(self.0 ^ x);
    }
}

/// How often each shingle occurs in the recent stream of copy, to leave out the ones that say
/// nothing about *which* event an item reports.
///
/// Words such as "said", "officials", a capital's name or "government" occur in a large share of
/// all agency items. Two unrelated reports share many of them, which raises their Jaccard
/// similarity above zero for no reason: the LSH bands then make them candidates, and the work per
/// new item grows with the number of items held in the clustering window. Leaving out shingles
/// whose *document frequency* is above [`CommonShingles::MAX_SHARE`] (the idea behind inverse
/// document frequency in search) keeps the names, places, figures and rare words that distinguish
/// an event, so unrelated items stop colliding and reports of one event become more alike.
///
/// Counts decay: every [`CommonShingles::HALF_LIFE`] items all counts are halved, so the figures
/// follow the last few thousand items and the table stays small (rare shingles fall out). The
/// filter is only applied once the stream has seen [`CommonShingles::MIN_DOCS`] items (before
/// that, frequencies mean little), and never leaves an item with fewer than
/// [`CommonShingles::MIN_KEPT`] shingles (a short item keeps all its shingles).
///
/// A caveat the desk should know: a single event reported in more than one item in twenty
/// (a war, an election night) makes its own key words common; its reports then cluster on their
/// remaining names and figures, or form several clusters.
#[derive(Debug, Clone, Default)]
pub struct CommonShingles {
    counts: std::collections::HashMap<u64, f32, SeededMix>,
    docs: f32,
    since_decay: u32,
}

impl CommonShingles {
    /// A shingle found in more than this share of recent items is common.
    pub const MAX_SHARE: f32 = 0.05;
    /// Items between two halvings of the counts.
    pub const HALF_LIFE: u32 = 5_000;
    /// Effective number of items seen before any shingle counts as common.
    pub const MIN_DOCS: f32 = 1_000.0;
    /// An item keeps all its shingles when fewer than this many are informative.
    pub const MIN_KEPT: usize = 8;

    /// An empty table: nothing is common yet.
    pub fn new() -> CommonShingles {
        CommonShingles::default()
    }

    /// Counts one item's distinct shingles.
    pub fn observe(&mut self, shingles: &[u64]) {
        for &s in shingles {
            *self.counts.entry(s).or_insert(0.0) += 1.0;
        }
        self.docs += 1.0;
        self.since_decay += 1;
        if self.since_decay >= Self::HALF_LIFE {
            self.since_decay = 0;
            self.docs *= 0.5;
            // A shingle last seen once, two halvings ago, is forgotten.
            self.counts.retain(|_, c| {
                *c *= 0.5;
                *c >= 0.3
            });
        }
    }

    /// True when `shingle` occurs in more than [`CommonShingles::MAX_SHARE`] of recent items.
    pub fn is_common(&self, shingle: u64) -> bool {
        self.docs >= Self::MIN_DOCS
            && self
                .counts
                .get(&shingle)
                .is_some_and(|c| *c > Self::MAX_SHARE * self.docs)
    }

    /// The informative shingles of an item (see the type's documentation).
    pub fn informative(&self, shingles: &[u64]) -> Vec<u64> {
        if self.docs < Self::MIN_DOCS {
            return shingles.to_vec();
        }
        let kept: Vec<u64> = shingles
            .iter()
            .copied()
            .filter(|s| !self.is_common(*s))
            .collect();
        if kept.len() < Self::MIN_KEPT {
            shingles.to_vec()
        } else {
            kept
        }
    }

    /// Distinct shingles currently counted (memory grows with this, not with the stream).
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// True when nothing has been counted.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }
}

impl Default for MinHasher {
    /// 128 hash functions over single content words (see the crate README for why single words:
    /// agencies paraphrase, and 3-word shingles of two rewrites of one event rarely overlap).
    fn default() -> MinHasher {
        MinHasher::new(DEFAULT_NUM_HASHES, DEFAULT_SHINGLE_WORDS)
    }
}

/// Signature length of [`MinHasher::default`].
pub const DEFAULT_NUM_HASHES: usize = 128;
/// Shingle size (content words) of [`MinHasher::default`].
pub const DEFAULT_SHINGLE_WORDS: usize = 1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_hash_is_stable_and_normalised() {
        let a = content_hash("Quake hits Peru", "A strong quake hit southern Peru.");
        let b = content_hash("QUAKE hits  Peru!", "A strong quake hit southern Peru");
        assert_eq!(a, b);
        assert_ne!(
            a,
            content_hash("Quake hits", "Peru a strong quake hit southern Peru.")
        );
        // Fixed value: the hash must never change between runs or builds.
        assert_eq!(content_hash("", ""), mix64(fnv1a(b"\x1e")));
    }

    #[test]
    fn word_forms_agree_with_text_forms() {
        let h = MinHasher::default();
        let (head, body) = (
            "Quake hits Peru",
            "A strong quake hit southern Peru; 12 dead.",
        );
        let (th, tb) = (
            crate::text::Tokens::new(head),
            crate::text::Tokens::new(body),
        );
        assert_eq!(
            content_hash_words(th.words(), tb.words()),
            content_hash(head, body)
        );
        assert_eq!(
            h.shingles_words(th.words().chain(tb.words())),
            h.shingles(&format!("{head}\n{body}"))
        );
    }

    #[test]
    fn minhash_estimates_jaccard() {
        let h = MinHasher::new(256, 1);
        let a = h.signature("alpha beta gamma delta epsilon zeta eta theta");
        let b = h.signature("alpha beta gamma delta iota kappa lambda mu");
        // True Jaccard 4/12 = 0.33.
        let s = crate::estimate_similarity(&a, &b);
        assert!((s - 0.333).abs() < 0.12, "{s}");
        assert_eq!(crate::estimate_similarity(&a, &a), 1.0);
        assert!(h.signature("the of and").is_empty());
    }
}
