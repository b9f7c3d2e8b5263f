//! Full-text search over stories: a tantivy index in a folder, plain types in and out.
//!
//! This crate only indexes and queries. What a reader may see is decided by `app`, which tells
//! the index which documents to hold (every published story, embargoed ones included, each with
//! the instant it becomes visible) and, on every query, the instant to filter at. It depends on
//! nothing of ours: ids are numbers and instants are milliseconds since the epoch.

pub mod generations;
pub mod query;
pub mod words;

pub use generations::Generations;
pub use query::{parse, Clause, Limits, Note, Parsed};

use std::ops::Bound;
use std::path::Path;
use std::sync::Mutex;
use tantivy::collector::{Count, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, Occur, PhraseQuery,
    Query as TQuery, RangeQuery, TermQuery,
};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, Value, STRING,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::{
    DocAddress, Index, IndexReader, IndexSettings, IndexWriter, Order, ReloadPolicy,
    TantivyDocument, Term,
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

/// The index format; a folder written with another is rebuilt.
const FORMAT: &str = "newsdesk-search-1";

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
    /// Documents matching in all.
    pub total: usize,
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
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |stored: bool| {
        let o = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(words::ANALYZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        if stored {
            o.set_stored()
        } else {
            o
        }
    };
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
    };
    (b.build(), f)
}

/// Field weights: a word in the headline counts most.
const WEIGHTS: [(usize, f32); 5] = [(0, 3.0), (1, 1.5), (2, 1.0), (3, 2.0), (4, 1.5)];

/// An index in a folder, with its one writer.
pub struct SearchIndex {
    index: Index,
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
        let (schema, f) = schema();
        let index = match Index::open_in_dir(dir) {
            Ok(i) if i.schema() == schema && payload_format(&i).as_deref() != Some("other") => i,
            Ok(_) => {
                tracing::warn!(dir = %dir.display(), "search index in an old format: made anew");
                for e in std::fs::read_dir(dir)? {
                    let p = e?.path();
                    if p.is_file() {
                        std::fs::remove_file(p)?;
                    }
                }
                create(dir, schema)?
            }
            Err(_) => create(dir, schema)?,
        };
        index
            .tokenizers()
            .register(words::ANALYZER, words::analyzer());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let writer = index.writer_with_num_threads(threads.max(1), writer_bytes.max(15 << 20))?;
        Ok(SearchIndex {
            index,
            reader,
            writer: Mutex::new(writer),
            f,
        })
    }

    /// The change-log position the last commit reached (0 for a new index).
    pub fn cursor(&self) -> SearchResult<i64> {
        let metas = self.index.load_metas()?;
        Ok(metas
            .payload
            .as_deref()
            .and_then(|p| p.strip_prefix(FORMAT))
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(0))
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
            c.set_payload(&format!("{FORMAT} {cursor}"));
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

    /// Runs a query. An empty clause list matches nothing.
    pub fn search(&self, q: &Query<'_>) -> SearchResult<Hits> {
        let f = self.f;
        let text = [f.headline, f.summary, f.body, f.tags, f.byline];
        let mut parts: Vec<(Occur, Box<dyn TQuery>)> = Vec::new();
        for c in q.clauses {
            let per_field: Vec<Box<dyn TQuery>> = WEIGHTS
                .iter()
                .map(|(i, w)| {
                    let field = text[*i];
                    let inner: Box<dyn TQuery> = match c.terms.as_slice() {
                        [one] => Box::new(TermQuery::new(
                            Term::from_field_text(field, one),
                            IndexRecordOption::WithFreqs,
                        )),
                        many => Box::new(PhraseQuery::new(
                            many.iter()
                                .map(|t| Term::from_field_text(field, t))
                                .collect(),
                        )),
                    };
                    Box::new(BoostQuery::new(inner, *w)) as Box<dyn TQuery>
                })
                .collect();
            if c.terms.is_empty() {
                continue;
            }
            let any = Box::new(DisjunctionMaxQuery::with_tie_breaker(per_field, 0.2));
            parts.push((
                if c.exclude {
                    Occur::MustNot
                } else {
                    Occur::Must
                },
                any,
            ));
        }
        if !parts.iter().any(|(o, _)| *o == Occur::Must) {
            return Ok(Hits::default());
        }
        let filter = |q: Box<dyn TQuery>| -> (Occur, Box<dyn TQuery>) {
            (Occur::Must, Box::new(ConstScoreQuery::new(q, 0.0)))
        };
        let term = |field: Field, v: u64| -> Box<dyn TQuery> {
            Box::new(TermQuery::new(
                Term::from_field_u64(field, v),
                IndexRecordOption::Basic,
            ))
        };
        parts.push(filter(Box::new(RangeQuery::new(
            Bound::Unbounded,
            Bound::Included(Term::from_field_i64(f.visible, q.visible_at)),
        ))));
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
        let query = BooleanQuery::new(parts);
        let searcher = self.reader.searcher();
        let limit = q.limit.max(1);
        let (total, found): (usize, Vec<(f32, DocAddress)>) = match q.sort {
            Sort::Relevance => searcher.search(
                &query,
                &(
                    Count,
                    TopDocs::with_limit(limit)
                        .and_offset(q.offset)
                        .order_by_score(),
                ),
            )?,
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
                (n, v.into_iter().map(|(_, a)| (0.0, a)).collect())
            }
        };
        let chars = q.snippet_chars.max(20);
        let mut snippets = SnippetGenerator::create(&searcher, &query, f.body)?;
        snippets.set_max_num_chars(chars);
        let wanted: Vec<&str> = q
            .clauses
            .iter()
            .filter(|c| !c.exclude)
            .flat_map(|c| c.terms.iter().map(String::as_str))
            .collect();
        let mut hits = Vec::with_capacity(found.len());
        for (score, addr) in found {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let Some(id) = doc.get_first(f.id).and_then(|v| v.as_u64()) else {
                continue;
            };
            let body = doc.get_first(f.body).and_then(|v| v.as_str()).unwrap_or("");
            let s = snippets.snippet(passage(body, &wanted, chars));
            let snippet = Snippet {
                text: s.fragment().to_owned(),
                marks: s.highlighted().iter().map(|r| (r.start, r.end)).collect(),
            };
            hits.push(Hit { id, score, snippet });
        }
        Ok(Hits { total, hits })
    }
}

/// The part of `body` a snippet is looked for in: around the first place one of the query's
/// terms (stems) appears as text, so a long body is not cut into words and stemmed whole for
/// every hit shown. A term found nowhere as text (a stem that is not a prefix of its word, or
/// a letter case ASCII does not fold) leaves the first few snippets' worth of the body.
fn passage<'a>(body: &'a str, terms: &[&str], chars: usize) -> &'a str {
    let reach = chars.saturating_mul(4);
    if body.len() <= reach * 2 {
        return body;
    }
    let lower = body.to_ascii_lowercase();
    let first = terms
        .iter()
        .filter_map(|t| {
            lower.find(t).or_else(|| {
                // "studi" (study), "polici" (policy): the stem without its last letter.
                let short = t.strip_suffix('i').filter(|s| s.len() >= 3)?;
                lower.find(short)
            })
        })
        .min();
    let (from, to) = match first {
        Some(at) => (at.saturating_sub(chars), at.saturating_add(reach)),
        None => (0, reach),
    };
    let mut from = from.min(body.len());
    while !body.is_char_boundary(from) {
        from -= 1;
    }
    let mut to = to.min(body.len());
    while !body.is_char_boundary(to) {
        to += 1;
    }
    // Whole words only: start after a space and end before one.
    if from > 0 {
        if let Some(sp) = body[from..to].find(char::is_whitespace) {
            from += sp + 1;
        }
    }
    if to < body.len() {
        if let Some(sp) = body[from..to].rfind(char::is_whitespace) {
            to = from + sp;
        }
    }
    &body[from..to]
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

/// "other" when the index's payload names another format, `None` when it has none yet.
fn payload_format(i: &Index) -> Option<String> {
    let p = i.load_metas().ok()?.payload?;
    Some(if p.starts_with(FORMAT) { "ok" } else { "other" }.to_owned())
}

#[cfg(test)]
mod tests;
