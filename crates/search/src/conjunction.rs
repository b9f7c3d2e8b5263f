//! Several words (or two-word phrases, one pair term each) without a filter: every clause is
//! a word in any of five fields, scored as tantivy's boolean query of dis_max clauses scores
//! it (the sum of the clauses' best field plus [`TIE`] of their others), but read straight from
//! the postings' blocks, without tantivy's buffered union (whose seek into an intersection
//! refilled a 4,096-document window: a fifth of a two-word search), and without intersecting a
//! range over every document (visibility is read from its column where a match comes up).
//!
//! Matches are counted exactly up to the cap; once the count is past it, a stretch of
//! documents whose blocks' best scores cannot reach the page is skipped (block-max pruning of
//! a conjunction), since only the ranking still needs them.

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
    fn advance(&mut self) -> DocId {
        if self.cur == BLOCK - 1 {
            self.cur = 0;
            self.block.advance();
        } else {
            self.cur += 1;
        }
        self.doc()
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
    fn doc(&self) -> DocId {
        self.fields
            .iter()
            .map(Postings::doc)
            .min()
            .unwrap_or(TERMINATED)
    }
    fn seek(&mut self, target: DocId) -> DocId {
        let mut d = TERMINATED;
        for f in &mut self.fields {
            d = d.min(f.seek(target));
        }
        d
    }
    /// Moves past `doc` (the current document).
    fn advance(&mut self, doc: DocId) -> DocId {
        let mut d = TERMINATED;
        for f in &mut self.fields {
            let at = if f.doc() == doc { f.advance() } else { f.doc() };
            d = d.min(at);
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

/// The matches of `clauses` in one segment that `shown` lets through: offered to `top`, and
/// counted while `counted` (carried from segment to segment) is not past `cap`. Returns the
/// new count (at most `cap + 1`: past the cap, documents that cannot reach `top` are skipped).
pub(crate) fn conjunction(
    seg: &SegmentReader,
    clauses: &[ClauseTerms],
    shown: &dyn Fn(DocId) -> bool,
    top: &mut TopK,
    mut counted: usize,
    cap: usize,
) -> tantivy::Result<usize> {
    let mut words = Vec::new();
    let mut excluded = Vec::new();
    for c in clauses {
        let w = open_word(seg, c)?;
        if c.exclude {
            if !w.fields.is_empty() {
                excluded.push(w);
            }
        } else if w.fields.is_empty() {
            return Ok(counted); // a word this segment does not hold: no match here
        } else {
            words.push(w);
        }
    }
    if words.is_empty() {
        return Ok(counted);
    }
    // The rarest word leads; the others are moved forward to its documents.
    words.sort_by_key(|w| {
        w.fields
            .iter()
            .map(|f| u64::from(f.block.doc_freq()))
            .sum::<u64>()
    });
    let (lead, others) = words.split_at_mut(1);
    let lead = &mut lead[0];
    let mut scored = 0u64;
    let mut t = lead.doc();
    'next: while t != TERMINATED {
        for w in others.iter_mut() {
            let d = w.seek(t);
            if d > t {
                t = if d == TERMINATED {
                    TERMINATED
                } else {
                    lead.seek(d)
                };
                continue 'next;
            }
        }
        // Every word is at `t`. Past the cap, a stretch whose blocks cannot reach the page
        // is skipped: up to the first end of a block among the fields that are in one there.
        let threshold = top.threshold();
        if counted > cap && threshold > f32::MIN {
            let upto = std::iter::once(&*lead)
                .chain(others.iter())
                .flat_map(|w| w.fields.iter())
                .filter(|f| f.doc() != TERMINATED)
                .map(Postings::block_end)
                .min()
                .unwrap_or(TERMINATED);
            let bound: f32 = std::iter::once(&mut *lead)
                .chain(others.iter_mut())
                .map(|w| w.bound(upto))
                .sum();
            // A little room for rounding: the bound is summed as the scores are.
            if bound < threshold - threshold.abs() * 1e-5 {
                t = if upto >= TERMINATED - 1 {
                    TERMINATED
                } else {
                    lead.seek(upto + 1)
                };
                continue 'next;
            }
        }
        let out = excluded.iter_mut().any(|x| x.seek(t) == t);
        if !out && shown(t) {
            if counted <= cap {
                counted += 1;
            }
            scored += 1;
            let score = std::iter::once(&*lead)
                .chain(others.iter())
                .map(|w| w.score(t))
                .sum();
            top.push(score, t);
        }
        t = lead.advance(t);
    }
    SCORED.with(|c| c.set(c.get() + scored));
    Ok(counted)
}
