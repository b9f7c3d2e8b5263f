//! Full-text search over stories: a tantivy index in a folder, plain types in and out.
//!
//! This crate only indexes and queries. What a reader may see is decided by `app`, which tells
//! the index which documents to hold (every published story, embargoed ones included, each with
//! the instant it becomes visible) and, on every query, the instant to filter at. It depends on
//! nothing of ours: ids are numbers and instants are milliseconds since the epoch.

mod conjunction;
pub mod generations;
pub mod query;
pub mod words;

#[doc(hidden)]
pub use conjunction::scored_on_this_thread;
pub use generations::Generations;
pub use query::{parse, Clause, Limits, Note, Parsed};

use std::ops::Bound;
use std::path::Path;
use std::sync::Mutex;
use tantivy::collector::{Count, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, EnableScoring, Occur,
    PhraseQuery, Query as TQuery, RangeQuery, TermQuery, Weight,
};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, Value, STRING,
};
use tantivy::tokenizer::{TextAnalyzer, TokenStream};
use tantivy::{
    DocAddress, DocSet, Index, IndexReader, IndexSettings, IndexWriter, Order, ReloadPolicy,
    Searcher, SegmentReader, TantivyDocument, Term, TERMINATED,
};

/// Why the index failed.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// tantivy failed (I/O, a damaged or locked index).
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// The index folder could not be opened.
    #[error("search index folder: {0}")]
    Folder(#[from] tantivy::directory::error::OpenDirectoryError),
    /// Files of the generations.
    #[error("search index files: {0}")]
    Io(#[from] std::io::Error),
}

/// Result of this crate.
pub type SearchResult<T> = Result<T, SearchError>;

/// The index format: the words of five text fields and, since format 2, their adjacent word
/// pairs (phrases). A folder written in another format is remade empty, except one of format 1,
/// which is still opened and searched as it is (phrases from word positions) while a new
/// generation is built ([`SearchIndex::is_current_format`]).
const FORMAT: &str = "newsdesk-search-2";
/// The format before word pairs.
const FORMAT_1: &str = "newsdesk-search-1";

/// One story as the index holds it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Doc {
    /// Story id.
    pub id: u64,
    /// Headline.
    pub headline: String,
    /// Summary.
    pub summary: String,
    /// Body as plain text (kept for snippets).
    pub body: String,
    /// Tag names.
    pub tags: Vec<String>,
    /// Byline names (people and desk).
    pub byline: Vec<String>,
    /// Sector id.
    pub sector: u64,
    /// Kind name.
    pub kind: String,
    /// Editions the story is placed in.
    pub editions: Vec<u64>,
    /// Author ids.
    pub authors: Vec<u64>,
    /// First publication, ms (date filters and newest-first order).
    pub published: i64,
    /// When it becomes visible, ms (publication or the end of its embargo).
    pub visible: i64,
}

/// Narrowing a query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// Only this sector.
    pub sector: Option<u64>,
    /// Only this kind.
    pub kind: Option<String>,
    /// Only stories placed in this edition.
    pub edition: Option<u64>,
    /// Only stories bylined to this author.
    pub author: Option<u64>,
    /// Published at or after (ms).
    pub from: Option<i64>,
    /// Published before (ms).
    pub until: Option<i64>,
}

/// Result order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    /// Best match first.
    #[default]
    Relevance,
    /// Newest publication first.
    Newest,
}

/// A query for [`SearchIndex::search`].
#[derive(Debug, Clone)]
pub struct Query<'a> {
    /// What to look for.
    pub clauses: &'a [Clause],
    /// Narrowing.
    pub filters: &'a Filters,
    /// Only documents visible at or before this instant (ms).
    pub visible_at: i64,
    /// Order.
    pub sort: Sort,
    /// Hits skipped.
    pub offset: usize,
    /// Hits returned at most.
    pub limit: usize,
    /// Characters in a snippet at most.
    pub snippet_chars: usize,
    /// Matching documents counted at most (see [`Hits::more`]); the ranking itself looks at
    /// every match.
    pub count_cap: usize,
}

/// A passage of a body with the matched words marked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snippet {
    /// The passage, plain text.
    pub text: String,
    /// Byte ranges of `text` that matched, in order, not overlapping.
    pub marks: Vec<(usize, usize)>,
}

/// One hit.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Story id.
    pub id: u64,
    /// Score (relevance order) or 0.
    pub score: f32,
    /// A passage of the body, empty when the body did not match.
    pub snippet: Snippet,
}

/// A page of hits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hits {
    /// Documents matching in all, counted up to [`Query::count_cap`].
    pub total: usize,
    /// Whether more than `total` documents match (counting stopped at the cap).
    pub more: bool,
    /// This page.
    pub hits: Vec<Hit>,
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    headline: Field,
    summary: Field,
    body: Field,
    tags: Field,
    byline: Field,
    sector: Field,
    kind: Field,
    edition: Field,
    author: Field,
    published: Field,
    visible: Field,
    /// The word-pair fields of the five text fields, in their order (`None` in a format-1
    /// index).
    pairs: Option<[Field; 5]>,
}

/// The schema of the current format (`pairs`) or of format 1.
fn schema(pairs: bool) -> (Schema, Fields) {
    let mut b = Schema::builder();
    let analysed = |tokenizer: &str, stored: bool| {
        let o = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        if stored {
            o.set_stored()
        } else {
            o
        }
    };
    let text = |stored: bool| analysed(words::ANALYZER, stored);
    let num = NumericOptions::default().set_indexed();
    let f = Fields {
        id: b.add_u64_field(
            "id",
            NumericOptions::default()
                .set_indexed()
                .set_stored()
                .set_fast(),
        ),
        headline: b.add_text_field("headline", text(false)),
        summary: b.add_text_field("summary", text(false)),
        body: b.add_text_field("body", text(true)),
        tags: b.add_text_field("tags", text(false)),
        byline: b.add_text_field("byline", text(false)),
        sector: b.add_u64_field("sector", num.clone()),
        kind: b.add_text_field("kind", STRING),
        edition: b.add_u64_field("edition", num.clone()),
        author: b.add_u64_field("author", num.clone()),
        published: b.add_i64_field("published", num.clone().set_fast()),
        visible: b.add_i64_field("visible", num.set_fast()),
        pairs: None,
    };
    // Word pairs, with positions (a phrase of three words or more is a phrase of pairs).
    let f = Fields {
        pairs: pairs.then(|| {
            ["headline", "summary", "body", "tags", "byline"]
                .map(|n| b.add_text_field(&format!("{n}_pairs"), analysed(words::PAIRS, false)))
        }),
        ..f
    };
    (b.build(), f)
}

/// What the other fields add to a clause's best one (dis_max's tie breaker).
const TIE: f32 = 0.2;

/// Field weights: a word in the headline counts most.
const WEIGHTS: [(usize, f32); 5] = [(0, 3.0), (1, 1.5), (2, 1.0), (3, 2.0), (4, 1.5)];

/// An index in a folder, with its one writer.
pub struct SearchIndex {
    index: Index,
    /// The format written in the payload at each commit.
    format: &'static str,
    reader: IndexReader,
    writer: Mutex<IndexWriter<TantivyDocument>>,
    f: Fields,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex").finish_non_exhaustive()
    }
}

impl SearchIndex {
    /// Opens the index in `dir` (made if missing; remade empty if it was written in another
    /// format), with a writer of `writer_bytes` of memory on `threads` threads.
    pub fn open(dir: &Path, writer_bytes: usize, threads: usize) -> SearchResult<Self> {
        std::fs::create_dir_all(dir)?;
        let (old_schema, old_f) = schema(false);
        let (schema, f) = schema(true);
        let (index, f, format) = match Index::open_in_dir(dir) {
            Ok(i) if i.schema() == schema && payload_format(&i, FORMAT) => (i, f, FORMAT),
            Ok(i) if i.schema() == old_schema && payload_format(&i, FORMAT_1) => {
                tracing::info!(dir = %dir.display(), "search index of format 1 (no word pairs)");
                (i, old_f, FORMAT_1)
            }
            Ok(_) => {
                tracing::warn!(dir = %dir.display(), "search index in an old format: made anew");
                for e in std::fs::read_dir(dir)? {
                    let p = e?.path();
                    if p.is_file() {
                        std::fs::remove_file(p)?;
                    }
                }
                (create(dir, schema)?, f, FORMAT)
            }
            Err(_) => (create(dir, schema)?, f, FORMAT),
        };
        index
            .tokenizers()
            .register(words::ANALYZER, words::analyzer());
        index
            .tokenizers()
            .register(words::PAIRS, words::pair_analyzer());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let writer = index.writer_with_num_threads(threads.max(1), writer_bytes.max(15 << 20))?;
        Ok(SearchIndex {
            index,
            format,
            reader,
            writer: Mutex::new(writer),
            f,
        })
    }

    /// Whether the index in `dir` is of the current format (`false` when there is none, or one
    /// of an older format that should be rebuilt). Takes no lock: a server may be writing it.
    pub fn is_current_format_at(dir: &Path) -> bool {
        Index::open_in_dir(dir)
            .is_ok_and(|i| i.schema() == schema(true).0 && payload_format(&i, FORMAT))
    }

    /// Opens (or makes) an index of format 1 in `dir`, the format before word pairs, as an
    /// older release wrote it: for tests of the upgrade.
    #[doc(hidden)]
    pub fn open_format_1(dir: &Path, writer_bytes: usize) -> SearchResult<Self> {
        std::fs::create_dir_all(dir)?;
        if Index::open_in_dir(dir).is_err() {
            create(dir, schema(false).0)?;
        }
        Self::open(dir, writer_bytes, 1)
    }

    /// The change-log position the last commit reached (0 for a new index).
    pub fn cursor(&self) -> SearchResult<i64> {
        let metas = self.index.load_metas()?;
        Ok(metas
            .payload
            .as_deref()
            .and_then(|p| p.strip_prefix(self.format))
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(0))
    }

    /// Whether the index is of the current format (an index of format 1 answers, phrases from
    /// word positions, until a new generation replaces it).
    pub fn is_current_format(&self) -> bool {
        self.format == FORMAT
    }

    /// Documents held (after the last commit).
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Whether no document is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, IndexWriter<TantivyDocument>> {
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds or replaces a document (seen after [`SearchIndex::commit`]).
    pub fn put(&self, d: &Doc) -> SearchResult<()> {
        let f = self.f;
        let mut doc = TantivyDocument::default();
        doc.add_u64(f.id, d.id);
        doc.add_text(f.headline, &d.headline);
        doc.add_text(f.summary, &d.summary);
        doc.add_text(f.body, &d.body);
        for t in &d.tags {
            doc.add_text(f.tags, t);
        }
        for b in &d.byline {
            doc.add_text(f.byline, b);
        }
        if let Some([hp, sp, bp, tp, yp]) = f.pairs {
            // Each value apart: a pair never spans two tags or two names.
            doc.add_text(hp, &d.headline);
            doc.add_text(sp, &d.summary);
            doc.add_text(bp, &d.body);
            for t in &d.tags {
                doc.add_text(tp, t);
            }
            for b in &d.byline {
                doc.add_text(yp, b);
            }
        }
        doc.add_u64(f.sector, d.sector);
        doc.add_text(f.kind, &d.kind);
        for e in &d.editions {
            doc.add_u64(f.edition, *e);
        }
        for a in &d.authors {
            doc.add_u64(f.author, *a);
        }
        doc.add_i64(f.published, d.published);
        doc.add_i64(f.visible, d.visible);
        let w = self.writer();
        w.delete_term(Term::from_field_u64(f.id, d.id));
        w.add_document(doc)?;
        Ok(())
    }

    /// Removes a document (seen after [`SearchIndex::commit`]).
    pub fn remove(&self, id: u64) {
        self.writer()
            .delete_term(Term::from_field_u64(self.f.id, id));
    }

    /// Makes what was put and removed durable and searchable, noting the change-log position
    /// it reaches.
    pub fn commit(&self, cursor: i64) -> SearchResult<()> {
        {
            let mut w = self.writer();
            let mut c = w.prepare_commit()?;
            c.set_payload(&format!("{} {cursor}", self.format));
            c.commit()?;
        }
        self.reader.reload()?;
        Ok(())
    }

    /// Waits for background merges to end (before a built index is handed over).
    pub fn finish(self) -> SearchResult<()> {
        let w = self.writer.into_inner().unwrap_or_else(|e| e.into_inner());
        w.wait_merging_threads()?;
        Ok(())
    }

    /// The query of one clause: its word (or phrase) in any text field, with the field's
    /// weight. The best field counts, and a fifth of the others (`sum`: all of them, added up:
    /// a plain sum of term queries is what lets tantivy skip blocks of documents that cannot
    /// reach the page, block-max WAND, so a query of one word is ranked so).
    ///
    /// A phrase is looked up in the word-pair fields: two words are one pair term, more are a
    /// phrase of pair terms (`n - 1` of them); an index of format 1 reads word positions.
    fn clause_query(&self, c: &Clause, sum: bool, searcher: &Searcher) -> Box<dyn TQuery> {
        let per_field: Vec<(Occur, Box<dyn TQuery>)> = self
            .clause_fields(c, searcher)
            .into_iter()
            .map(|q| (Occur::Should, q))
            .collect();
        if sum {
            Box::new(BooleanQuery::new(per_field))
        } else {
            Box::new(DisjunctionMaxQuery::with_tie_breaker(
                per_field.into_iter().map(|(_, q)| q).collect(),
                TIE,
            ))
        }
    }

    /// The five weighted per-field queries of a clause (see [`SearchIndex::clause_query`]).
    fn clause_fields(&self, c: &Clause, searcher: &Searcher) -> Vec<Box<dyn TQuery>> {
        let f = self.f;
        let text = [f.headline, f.summary, f.body, f.tags, f.byline];
        let pair_terms: Vec<String> = c
            .terms
            .windows(2)
            .map(|w| words::pair(&w[0], &w[1]))
            .collect();
        if let Some(terms) = self.clause_terms(c, searcher) {
            return terms
                .into_iter()
                .map(|(t, w)| {
                    let q = TermQuery::new(t, IndexRecordOption::WithFreqs);
                    Box::new(BoostQuery::new(Box::new(q), w)) as Box<dyn TQuery>
                })
                .collect();
        }
        WEIGHTS
            .iter()
            .map(|(i, w)| {
                let field = text[*i];
                let mut w = *w;
                let inner: Box<dyn TQuery> = match (c.terms.as_slice(), f.pairs) {
                    ([one], _) => Box::new(TermQuery::new(
                        Term::from_field_text(field, one),
                        IndexRecordOption::WithFreqs,
                    )),
                    (_, Some(pairs)) => {
                        // Scored as the phrase of words is (BM25 with the sum of the words'
                        // idf), not by the pairs' own rarity: ranking stays what it was.
                        w *= phrase_idf(searcher, field, &c.terms)
                            / phrase_idf(searcher, pairs[*i], &pair_terms);
                        match pair_terms.as_slice() {
                            [one] => Box::new(TermQuery::new(
                                Term::from_field_text(pairs[*i], one),
                                IndexRecordOption::WithFreqs,
                            )),
                            many => Box::new(PhraseQuery::new(
                                many.iter()
                                    .map(|t| Term::from_field_text(pairs[*i], t))
                                    .collect(),
                            )),
                        }
                    }
                    (many, None) => Box::new(PhraseQuery::new(
                        many.iter()
                            .map(|t| Term::from_field_text(field, t))
                            .collect(),
                    )),
                };
                Box::new(BoostQuery::new(inner, w)) as Box<dyn TQuery>
            })
            .collect()
    }

    /// The five (term, weight) of a clause that is one term in each field: a word, or a
    /// phrase of two words (one pair term, weighted so that it scores as the phrase of words);
    /// `None` for a longer phrase or a phrase in an index of format 1.
    fn clause_terms(&self, c: &Clause, searcher: &Searcher) -> Option<Vec<(Term, f32)>> {
        let f = self.f;
        let text = [f.headline, f.summary, f.body, f.tags, f.byline];
        match (c.terms.as_slice(), f.pairs) {
            ([one], _) => Some(
                WEIGHTS
                    .iter()
                    .map(|(i, w)| (Term::from_field_text(text[*i], one), *w))
                    .collect(),
            ),
            ([a, b], Some(pairs)) => {
                let pair = [words::pair(a, b)];
                Some(
                    WEIGHTS
                        .iter()
                        .map(|(i, w)| {
                            // Scored as the phrase of words is (BM25 with the sum of the
                            // words' idf), not by the pair's own rarity.
                            let w = *w
                                * (phrase_idf(searcher, text[*i], &c.terms)
                                    / phrase_idf(searcher, pairs[*i], &pair));
                            (Term::from_field_text(pairs[*i], &pair[0]), w)
                        })
                        .collect(),
                )
            }
            _ => None,
        }
    }

    /// Runs a query. An empty clause list matches nothing.
    pub fn search(&self, q: &Query<'_>) -> SearchResult<Hits> {
        let f = self.f;
        let clauses: Vec<&Clause> = q.clauses.iter().filter(|c| !c.terms.is_empty()).collect();
        // One word alone, or a phrase of two words that is one pair term: the sum, which can
        // skip (an intersection of words or phrases cannot, and ranks better by the best field).
        let searcher = self.reader.searcher();
        let one_word = matches!(clauses.as_slice(), [c] if !c.exclude
            && (c.terms.len() == 1 || (c.terms.len() == 2 && self.f.pairs.is_some())));
        let mut parts: Vec<(Occur, Box<dyn TQuery>)> = clauses
            .iter()
            .map(|c| {
                let occur = if c.exclude {
                    Occur::MustNot
                } else {
                    Occur::Must
                };
                (occur, self.clause_query(c, one_word, &searcher))
            })
            .collect();
        if !parts.iter().any(|(o, _)| *o == Occur::Must) {
            return Ok(Hits::default());
        }
        // The words alone: one clause is its own query (a union of term queries for a word).
        let words: Box<dyn TQuery> = if parts.len() == 1 {
            parts.remove(0).1
        } else {
            Box::new(BooleanQuery::new(parts))
        };
        let filter = |q: Box<dyn TQuery>| -> (Occur, Box<dyn TQuery>) {
            (Occur::Must, Box::new(ConstScoreQuery::new(q, 0.0)))
        };
        let term = |field: Field, v: u64| -> Box<dyn TQuery> {
            Box::new(TermQuery::new(
                Term::from_field_u64(field, v),
                IndexRecordOption::Basic,
            ))
        };
        let mut parts = vec![
            (Occur::Must, words.box_clone()),
            filter(Box::new(RangeQuery::new(
                Bound::Unbounded,
                Bound::Included(Term::from_field_i64(f.visible, q.visible_at)),
            ))),
        ];
        let fl = q.filters;
        if let Some(s) = fl.sector {
            parts.push(filter(term(f.sector, s)));
        }
        if let Some(e) = fl.edition {
            parts.push(filter(term(f.edition, e)));
        }
        if let Some(a) = fl.author {
            parts.push(filter(term(f.author, a)));
        }
        if let Some(k) = &fl.kind {
            parts.push(filter(Box::new(TermQuery::new(
                Term::from_field_text(f.kind, k),
                IndexRecordOption::Basic,
            ))));
        }
        if fl.from.is_some() || fl.until.is_some() {
            let lo = fl.from.map_or(Bound::Unbounded, |t| {
                Bound::Included(Term::from_field_i64(f.published, t))
            });
            let hi = fl.until.map_or(Bound::Unbounded, |t| {
                Bound::Excluded(Term::from_field_i64(f.published, t))
            });
            parts.push(filter(Box::new(RangeQuery::new(lo, hi))));
        }
        let unfiltered = *fl == Filters::default();
        let query = BooleanQuery::new(parts);
        let limit = q.limit.max(1);
        let cap = q.count_cap.max(1);
        let (total, more, found): (usize, bool, Vec<(f32, DocAddress)>) = match q.sort {
            Sort::Relevance => {
                // Nothing narrowing the query but visibility, one word: the word's own query
                // ranks, skipping what cannot reach the page (block-max WAND), and a story not
                // visible yet is passed over where it comes up; the matches are counted apart,
                // up to the cap. Otherwise the filtered query ranks and counts in one pass.
                // Both score a document the same (the filters add 0).
                let scoring = EnableScoring::enabled_from_searcher(&searcher);
                if unfiltered && one_word {
                    let bare = words.weight(scoring)?;
                    let k = q.offset.saturating_add(limit);
                    let mut all: Vec<(f32, DocAddress)> = Vec::new();
                    let (mut total, mut more) = (0usize, false);
                    for (ord, seg) in searcher.segment_readers().iter().enumerate() {
                        let shown = shown_at(seg, q.visible_at)?;
                        let mut top = TopK::new(k);
                        bare.for_each_pruning(f32::MIN, seg, &mut |doc, score| {
                            if shown(doc) {
                                top.push(score, doc);
                            }
                            top.threshold()
                        })?;
                        all.extend(
                            top.into_vec()
                                .into_iter()
                                .map(|(s, d)| (s, DocAddress::new(ord as u32, d))),
                        );
                        if !more {
                            let (n, over) =
                                count_upto(bare.as_ref(), seg, cap.saturating_sub(total), &shown)?;
                            total += n;
                            more = over;
                        }
                    }
                    all.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                    let page = all.into_iter().skip(q.offset).take(limit).collect();
                    (total, more, page)
                } else if let Some(terms) = unfiltered
                    .then(|| {
                        clauses
                            .iter()
                            .map(|c| self.clause_terms(c, &searcher))
                            .collect::<Option<Vec<_>>>()
                    })
                    .flatten()
                {
                    // Several words or two-word phrases, nothing narrowing but visibility:
                    // counted up to the cap and ranked in one pass of our own, straight from
                    // the postings (see `conjunction`); the same counts, hits and scores as the
                    // filtered plan below.
                    let clauses = clauses
                        .iter()
                        .zip(terms)
                        .map(|(c, terms)| {
                            let fields = terms
                                .into_iter()
                                .map(|(t, w)| {
                                    let bm25 = tantivy::query::Bm25Weight::for_terms(
                                        &searcher,
                                        std::slice::from_ref(&t),
                                    )?
                                    .boost_by(w);
                                    Ok((t, bm25))
                                })
                                .collect::<tantivy::Result<Vec<_>>>()?;
                            Ok(conjunction::ClauseTerms {
                                exclude: c.exclude,
                                fields,
                            })
                        })
                        .collect::<SearchResult<Vec<_>>>()?;
                    let k = q.offset.saturating_add(limit);
                    let mut all: Vec<(f32, DocAddress)> = Vec::new();
                    let mut n = 0usize;
                    for (ord, seg) in searcher.segment_readers().iter().enumerate() {
                        let shown = shown_at(seg, q.visible_at)?;
                        let mut top = TopK::new(k);
                        n = conjunction::conjunction(seg, &clauses, &shown, &mut top, n, cap)?;
                        all.extend(
                            top.into_vec()
                                .into_iter()
                                .map(|(s, d)| (s, DocAddress::new(ord as u32, d))),
                        );
                    }
                    all.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                    let page = all.into_iter().skip(q.offset).take(limit).collect();
                    (n.min(cap), n > cap, page)
                } else {
                    let (n, v) = searcher.search(
                        &query,
                        &(
                            Count,
                            TopDocs::with_limit(limit)
                                .and_offset(q.offset)
                                .order_by_score(),
                        ),
                    )?;
                    (n.min(cap), n > cap, v)
                }
            }
            Sort::Newest => {
                let (n, v) = searcher.search(
                    &query,
                    &(
                        Count,
                        TopDocs::with_limit(limit)
                            .and_offset(q.offset)
                            .order_by_fast_field::<i64>("published", Order::Desc),
                    ),
                )?;
                (
                    n.min(cap),
                    n > cap,
                    v.into_iter().map(|(_, a)| (0.0, a)).collect(),
                )
            }
        };
        let chars = q.snippet_chars.max(20);
        let wanted: Vec<&str> = q
            .clauses
            .iter()
            .filter(|c| !c.exclude)
            .flat_map(|c| c.terms.iter().map(String::as_str))
            .collect();
        let mut analyzer = words::analyzer();
        let mut hits = Vec::with_capacity(found.len());
        for (score, addr) in found {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let Some(id) = doc.get_first(f.id).and_then(|v| v.as_u64()) else {
                continue;
            };
            let body = doc.get_first(f.body).and_then(|v| v.as_str()).unwrap_or("");
            let snippet = snippet(body, &wanted, chars, &mut analyzer);
            hits.push(Hit { id, score, snippet });
        }
        Ok(Hits { total, more, hits })
    }
}

/// The BM25 idf of a phrase of `terms` in `field` as tantivy scores one: the sum of the terms'
/// idf (at least a little above 0, so it can divide).
fn phrase_idf(searcher: &Searcher, field: Field, terms: &[String]) -> f32 {
    let n: u64 = searcher
        .segment_readers()
        .iter()
        .map(|s| u64::from(s.max_doc()))
        .sum();
    let idf: f32 = terms
        .iter()
        .map(|t| {
            let df = searcher
                .doc_freq(&Term::from_field_text(field, t))
                .unwrap_or(0)
                .min(n);
            (1.0 + ((n - df) as f32 + 0.5) / (df as f32 + 0.5)).ln()
        })
        .sum();
    idf.max(f32::EPSILON)
}

/// The documents of `seg` a reader may be shown at `at` (milliseconds): not deleted, and visible
/// by then. The one visibility rule of the plans that read the postings themselves.
fn shown_at(seg: &SegmentReader, at: i64) -> tantivy::Result<impl Fn(u32) -> bool + '_> {
    let vis = seg.fast_fields().i64("visible")?;
    let alive = seg.alive_bitset();
    Ok(move |doc: u32| {
        alive.is_none_or(|a| a.is_alive(doc)) && vis.first(doc).is_some_and(|v| v <= at)
    })
}

/// Documents of the segment that `w` matches and `shown` lets through, counted up to `cap`:
/// (count, whether more match).
fn count_upto(
    w: &dyn Weight,
    seg: &SegmentReader,
    cap: usize,
    shown: &dyn Fn(u32) -> bool,
) -> SearchResult<(usize, bool)> {
    let mut s = w.scorer(seg, 1.0)?;
    let mut n = 0;
    let mut doc = s.doc();
    while doc != TERMINATED {
        if shown(doc) {
            if n == cap {
                return Ok((n, true));
            }
            n += 1;
        }
        doc = s.advance();
    }
    Ok((n, false))
}

/// The `k` best (score, document) of a segment, and the score to beat to enter them.
struct TopK {
    k: usize,
    heap: std::collections::BinaryHeap<std::cmp::Reverse<(Score, u32)>>,
}

/// A score ordered totally (for the heap).
#[derive(Clone, Copy, PartialEq)]
struct Score(f32);

impl Eq for Score {}
impl PartialOrd for Score {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Score {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0)
    }
}

impl TopK {
    fn new(k: usize) -> Self {
        TopK {
            k,
            heap: std::collections::BinaryHeap::with_capacity(k + 1),
        }
    }
    fn push(&mut self, score: f32, doc: u32) {
        if self.k == 0 {
            return;
        }
        // Among equal scores the earlier document stays (as tantivy's collector does).
        let item = std::cmp::Reverse((Score(score), u32::MAX - doc));
        if self.heap.len() < self.k {
            self.heap.push(item);
        } else if self.heap.peek().is_some_and(|min| item < *min) {
            self.heap.pop();
            self.heap.push(item);
        }
    }
    fn threshold(&self) -> f32 {
        if self.heap.len() < self.k {
            f32::MIN
        } else {
            self.heap.peek().map_or(f32::MIN, |m| (m.0).0 .0)
        }
    }
    fn into_vec(self) -> Vec<(f32, u32)> {
        self.heap
            .into_iter()
            .map(|std::cmp::Reverse((s, d))| (s.0, u32::MAX - d))
            .collect()
    }
}

/// A passage of about `chars` characters of `body` around the first place one of the query's
/// terms is written, with the words whose stem is one of `terms` marked; empty when no such
/// word is found (the reader is shown the summary). Only the passage is cut into words and
/// stemmed, not the body.
fn snippet(body: &str, terms: &[&str], chars: usize, analyzer: &mut TextAnalyzer) -> Snippet {
    let lower = body.to_ascii_lowercase();
    let mut from = 0;
    // A few places are tried: a term written inside another word ("health" in "healthy",
    // stemmed "healthi") marks nothing there.
    for _ in 0..8 {
        let Some(at) = terms
            .iter()
            .filter_map(|t| {
                let t = t.strip_suffix('i').filter(|s| s.len() >= 3).unwrap_or(t);
                lower.get(from..)?.find(t).map(|i| from + i)
            })
            .min()
        else {
            break;
        };
        let text = window(body, at, chars);
        let mut marks = Vec::new();
        let mut s = analyzer.token_stream(text);
        while s.advance() {
            let t = s.token();
            if terms.contains(&t.text.as_str()) {
                marks.push((t.offset_from, t.offset_to));
            }
        }
        if !marks.is_empty() {
            return Snippet {
                text: text.to_owned(),
                marks,
            };
        }
        from = at + 1;
        while !body.is_char_boundary(from) {
            from += 1;
        }
    }
    Snippet::default()
}

/// About `chars` characters of `body` from a little before byte `at`, whole words only.
fn window(body: &str, at: usize, chars: usize) -> &str {
    let mut from = at.saturating_sub(chars / 4).min(body.len());
    while !body.is_char_boundary(from) {
        from -= 1;
    }
    if from > 0 {
        // Start after a space, but never past `at`.
        if let Some(sp) = body[from..at].find(char::is_whitespace) {
            from += sp + 1;
        }
    }
    let to = body[from..]
        .char_indices()
        .nth(chars)
        .map_or(body.len(), |(i, _)| from + i);
    let mut end = to;
    if to < body.len() {
        if let Some(sp) = body[from..to].rfind(char::is_whitespace) {
            if from + sp > at {
                end = from + sp;
            }
        }
    }
    &body[from..end]
}

fn create(dir: &Path, schema: Schema) -> SearchResult<Index> {
    let settings = IndexSettings {
        docstore_compression: tantivy::store::Compressor::Lz4,
        ..IndexSettings::default()
    };
    let d = MmapDirectory::open(dir)?;
    Ok(Index::builder()
        .schema(schema)
        .settings(settings)
        .open_or_create(d)?)
}

/// Whether the index's payload names `format` (or none yet: nothing was committed).
fn payload_format(i: &Index, format: &str) -> bool {
    match i.load_metas().ok().and_then(|m| m.payload) {
        Some(p) => p.split(' ').next() == Some(format),
        None => true,
    }
}

#[cfg(test)]
mod tests;
