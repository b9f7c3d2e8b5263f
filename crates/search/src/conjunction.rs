//! Several words (or two-word phrases, one pair term each) without a filter: every clause is
//! a word in any of five fields, scored as tantivy's boolean query of dis_max clauses scores
//! it (the sum of the clauses' best field plus [`TIE`] of their others), but without tantivy's
//! plan: there each clause was a buffered union whose seek into the intersection refilled a
//! 4,096-document window (a fifth of a two-word search), and a range over every document was
//! intersected for visibility.
//!
//! Here the matches come from bitsets: each clause's fields' postings decoded in bulk into one
//! (no frequencies), the clauses' sets intersected, excluded clauses taken out. Visibility is
//! read from its column for a match only. A match is scored from its fields' postings, moved
//! forward to it (skipping blocks); once the page is full, a stretch of matches whose blocks'
//! best scores cannot reach it is not scored (block-max), only counted, and once the count is
//! past its cap it is skipped altogether.

use crate::{TopK, TIE};
use std::cell::Cell;
use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::BlockSegmentPostings;
use tantivy::query::Bm25Weight;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, SegmentReader, Term, TERMINATED};

/// Documents in a postings block (tantivy's compression block).
const BLOCK: usize = 128;

thread_local! {
    /// Documents scored by [`conjunction`] on this thread (for tests: pruning is counted, not
    /// timed).
    static SCORED: Cell<u64> = const { Cell::new(0) };
}

/// Documents scored by the conjunction pass on this thread so far.
#[doc(hidden)]
pub fn scored_on_this_thread() -> u64 {
    SCORED.with(Cell::get)
}

/// One field's postings of a term in a segment, with what scores them.
struct Postings {
    block: BlockSegmentPostings,
    cur: usize,
    norms: FieldNormReader,
    bm25: Bm25Weight,
}

impl Postings {
    fn doc(&self) -> DocId {
        self.block.doc(self.cur)
    }
    /// The first document at or after `target` (which is past the current one).
    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc() >= target {
            return self.doc();
        }
        self.cur = (self.cur + 1).min(BLOCK - 1);
        if self.doc() >= target {
            return self.doc();
        }
        self.cur = self.block.seek(target);
        self.doc()
    }
    fn score(&self) -> f32 {
        let doc = self.doc();
        self.bm25
            .score(self.norms.fieldnorm_id(doc), self.block.freq(self.cur))
    }
    /// The last document of the current block.
    fn block_end(&self) -> DocId {
        self.block.docs().last().copied().unwrap_or(TERMINATED)
    }
    /// The best score in the current block (tantivy's block-max, as WAND uses it).
    fn block_max(&mut self) -> f32 {
        self.block.block_max_score(&self.norms, &self.bm25)
    }
}

/// A clause in a segment: its fields' postings (those that hold the term).
struct Word {
    fields: Vec<Postings>,
}

impl Word {
    fn seek(&mut self, target: DocId) -> DocId {
        let mut d = TERMINATED;
        for f in &mut self.fields {
            d = d.min(f.seek(target));
        }
        d
    }
    /// dis_max of the fields at `doc`, summed in field order as tantivy's combiner does.
    fn score(&self, doc: DocId) -> f32 {
        let (mut max, mut sum) = (0.0f32, 0.0f32);
        for f in self.fields.iter().filter(|f| f.doc() == doc) {
            let s = f.score();
            max = max.max(s);
            sum += s;
        }
        max + (sum - max) * TIE
    }
    /// At least the score of any document up to `upto` (each field's block-max; every field
    /// whose next document is past `upto` adds nothing).
    fn bound(&mut self, upto: DocId) -> f32 {
        let (mut max, mut sum) = (0.0f32, 0.0f32);
        for f in self.fields.iter_mut().filter(|f| f.doc() <= upto) {
            let s = f.block_max();
            max = max.max(s);
            sum += s;
        }
        max + (sum - max) * TIE
    }
}

/// The terms of one clause: (term, BM25 weight with its field's boost) per field.
pub(crate) struct ClauseTerms {
    pub(crate) exclude: bool,
    pub(crate) fields: Vec<(Term, Bm25Weight)>,
}

fn open_word(seg: &SegmentReader, c: &ClauseTerms) -> tantivy::Result<Word> {
    let mut fields = Vec::with_capacity(c.fields.len());
    for (term, bm25) in &c.fields {
        let inv = seg.inverted_index(term.field())?;
        let Some(block) = inv.read_block_postings(term, IndexRecordOption::WithFreqs)? else {
            continue;
        };
        let norms = match seg.fieldnorms_readers().get_field(term.field())? {
            Some(n) => n,
            None => FieldNormReader::constant(seg.max_doc(), 1),
        };
        let p = Postings {
            block,
            cur: 0,
            norms,
            bm25: bm25.clone(),
        };
        if p.doc() != TERMINATED {
            fields.push(p);
        }
    }
    Ok(Word { fields })
}

/// Sets the bits of the documents where any field of `c` holds its term (decoding the
/// postings block by block, without frequencies); whether there was any.
fn union_bits(seg: &SegmentReader, c: &ClauseTerms, bits: &mut [u64]) -> tantivy::Result<bool> {
    let mut any = false;
    for (term, _) in &c.fields {
        let inv = seg.inverted_index(term.field())?;
        let Some(mut block) = inv.read_block_postings(term, IndexRecordOption::Basic)? else {
            continue;
        };
        loop {
            let docs = block.docs();
            if docs.is_empty() {
                break;
            }
            for &d in docs {
                if let Some(w) = bits.get_mut((d / 64) as usize) {
                    *w |= 1 << (d % 64);
                    any = true;
                }
            }
            if docs.len() < BLOCK {
                break;
            }
            block.advance();
        }
    }
    Ok(any)
}

/// The first set bit at or after `from`.
fn next_set(bits: &[u64], from: u32) -> Option<u32> {
    let mut w = (from / 64) as usize;
    let mut x = bits.get(w)? & (u64::MAX << (from % 64));
    loop {
        if x != 0 {
            return Some(w as u32 * 64 + x.trailing_zeros());
        }
        w += 1;
        x = *bits.get(w)?;
    }
}

/// The matches of `clauses` in one segment that `shown` lets through: counted while `counted`
/// (carried from segment to segment) is not past `cap`, and offered to `top` unless the
/// blocks they are in cannot reach it. Returns the new count (at most `cap + 1`).
///
/// The matches come from a bitset per clause (its fields' postings decoded in bulk, the
/// clauses' sets intersected, the excluded ones taken out); only a match is scored, its
/// fields' postings moved forward to it (skipping blocks).
pub(crate) fn conjunction(
    seg: &SegmentReader,
    clauses: &[ClauseTerms],
    shown: &dyn Fn(DocId) -> bool,
    top: &mut TopK,
    mut counted: usize,
    cap: usize,
) -> tantivy::Result<usize> {
    let n = (seg.max_doc() as usize).div_ceil(64);
    let mut matches: Option<Vec<u64>> = None;
    let mut words = Vec::new();
    for c in clauses.iter().filter(|c| !c.exclude) {
        let mut bits = vec![0u64; n];
        if !union_bits(seg, c, &mut bits)? {
            return Ok(counted); // a word this segment does not hold: no match here
        }
        matches = Some(match matches {
            None => bits,
            Some(mut m) => {
                m.iter_mut().zip(&bits).for_each(|(m, b)| *m &= b);
                m
            }
        });
        words.push(open_word(seg, c)?);
    }
    let Some(mut matches) = matches else {
        return Ok(counted);
    };
    for c in clauses.iter().filter(|c| c.exclude) {
        let mut bits = vec![0u64; n];
        if union_bits(seg, c, &mut bits)? {
            matches.iter_mut().zip(&bits).for_each(|(m, b)| *m &= !b);
        }
    }
    let mut scored = 0u64;
    // Matches up to here cannot reach `top` (their blocks' best scores are below its bar).
    let mut low_until: Option<DocId> = None;
    // Matches up to here were found able to reach it (not checked again: the bar rises, but
    // a stretch is a block or less).
    let mut checked_until: Option<DocId> = None;
    let mut from = 0;
    while let Some(t) = next_set(&matches, from) {
        from = t + 1;
        let mut score_it = low_until.is_none_or(|u| t > u);
        if score_it {
            for w in &mut words {
                w.seek(t);
            }
            let threshold = top.threshold();
            if threshold > f32::MIN && checked_until.is_none_or(|u| t > u) {
                // Up to the first end of a block among the fields that are in one here.
                let upto = words
                    .iter()
                    .flat_map(|w| w.fields.iter())
                    .filter(|f| f.doc() != TERMINATED)
                    .map(Postings::block_end)
                    .min()
                    .unwrap_or(TERMINATED);
                let bound: f32 = words.iter_mut().map(|w| w.bound(upto)).sum();
                // A little room for rounding: the bound is summed as the scores are.
                if bound < threshold - threshold.abs() * 1e-5 {
                    low_until = Some(upto);
                    score_it = false;
                } else {
                    checked_until = Some(upto);
                }
            }
        }
        if !score_it && counted > cap {
            // Counted enough, and nothing here can reach the page.
            match low_until {
                Some(u) if u < TERMINATED - 1 => {
                    from = u + 1;
                    continue;
                }
                _ => break,
            }
        }
        if !shown(t) {
            continue;
        }
        if counted <= cap {
            counted += 1;
        }
        if score_it {
            scored += 1;
            let score = words.iter().map(|w| w.score(t)).sum();
            top.push(score, t);
        }
    }
    SCORED.with(|c| c.set(c.get() + scored));
    Ok(counted)
}
