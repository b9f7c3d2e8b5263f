//! The reader's `/search` page (every edition) and `/opensearch.xml`: the query string turned
//! into a [`SearchRequest`], the results into HTML. Never stored in the page cache (each
//! distinct query would be a new entry), so memory does not grow with what readers type.

use crate::cache::{accepts_gzip, CachePolicy, Deflated, Rendered};
use crate::listing::Fail;
use crate::pages::{SearchPage, SearchView};
use crate::reader::{ctx, HTML};
use crate::views::{NavLink, RailHtml};
use crate::WebState;
use askama::Template;
use axum::body::Body;
use axum::http::{HeaderMap, Response, StatusCode};
use chrono::NaiveDate;
use newsdesk_app::search::{SearchRequest, SearchSort};
use newsdesk_domain::text::escape_html;
use newsdesk_domain::*;
use percent_encoding::{percent_decode_str, utf8_percent_encode, NON_ALPHANUMERIC};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Longest query string read; the rest is ignored (the app cuts the text further).
const MAX_QUERY_BYTES: usize = 16 * 1024;

/// The fields of the search form, as typed.
#[derive(Debug, Clone, Default)]
pub struct SearchForm {
    /// Text.
    pub q: String,
    /// Sector slug.
    pub sector: String,
    /// Kind listing slug.
    pub kind: String,
    /// Edition slug.
    pub edition: String,
    /// Author slug.
    pub author: String,
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day.
    pub to: String,
    /// "newest" or relevance.
    pub sort: String,
    /// Page from 1.
    pub page: usize,
}

fn decode(v: &str) -> String {
    let plus = v.replace('+', " ");
    let s = percent_decode_str(&plus).decode_utf8_lossy();
    // Control characters become spaces: they are never part of a search.
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Reads the query string (unknown keys are ignored; a later value of a key wins).
pub fn parse_form(query: Option<&str>) -> SearchForm {
    let mut f = SearchForm {
        page: 1,
        ..SearchForm::default()
    };
    let q = query.unwrap_or("");
    let q = q.get(..MAX_QUERY_BYTES.min(q.len())).unwrap_or(q);
    for pair in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = decode(v);
        match k {
            "q" => f.q = v,
            "sector" => f.sector = v.trim().to_owned(),
            "kind" => f.kind = v.trim().to_owned(),
            "edition" => f.edition = v.trim().to_owned(),
            "author" => f.author = v.trim().to_owned(),
            "from" => f.from = v.trim().to_owned(),
            "to" => f.to = v.trim().to_owned(),
            "sort" => f.sort = v.trim().to_owned(),
            "page" => f.page = v.trim().parse().unwrap_or(1).clamp(1, 1_000_000),
            _ => {}
        }
    }
    f
}

fn opt(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

/// The query string of a form at another page.
fn href(prefix: &str, f: &SearchForm, page: usize) -> String {
    let enc = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
    let mut out = format!("{prefix}/search?q={}", enc(&f.q));
    for (k, v) in [
        ("sector", &f.sector),
        ("kind", &f.kind),
        ("edition", &f.edition),
        ("author", &f.author),
        ("from", &f.from),
        ("to", &f.to),
        ("sort", &f.sort),
    ] {
        if !v.is_empty() {
            out.push_str(&format!("&{k}={}", enc(v)));
        }
    }
    if page > 1 {
        out.push_str(&format!("&page={page}"));
    }
    out
}

/// A snippet as HTML: every text piece escaped, `<mark>` around the matched byte ranges (ranges
/// that are out of order, overlapping or not on character boundaries are left out).
pub fn marked(text: &str, marks: &[(usize, usize)]) -> String {
    let mut out = String::with_capacity(text.len() + marks.len() * 13);
    let mut at = 0;
    for &(a, b) in marks {
        if a < at
            || b <= a
            || b > text.len()
            || !text.is_char_boundary(a)
            || !text.is_char_boundary(b)
        {
            continue;
        }
        out.push_str(&escape_html(&text[at..a]));
        out.push_str("<mark>");
        out.push_str(&escape_html(&text[a..b]));
        out.push_str("</mark>");
        at = b;
    }
    out.push_str(&escape_html(&text[at..]));
    out
}

/// The search page of an edition, answered: to a client that takes gzip, joined from its own
/// part (compressed now, at the fast level) and the edition's rail and footer, compressed once
/// and shared (see [`Rendered::respond_joined`]); to another, made whole ([`page`]). The bytes
/// are the same either way.
pub async fn answer(
    st: &WebState,
    edition: &Edition,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response<Body>, Fail> {
    if !accepts_gzip(headers) {
        return Ok(page(st, edition, query, headers).await?.respond(headers));
    }
    let (mut p, rail) = results(st, edition, query).await?;
    p.c.rail_html = Arc::from(RAIL_MARK);
    let text = p.render()?;
    // The mark is the last one: what readers typed is escaped, and comes before the rail.
    let Some((own, after)) = text.rsplit_once(RAIL_MARK) else {
        return Ok(page(st, edition, query, headers).await?.respond(headers));
    };
    let foot = shared_foot(edition.id, after);
    let page = Rendered::joined(
        StatusCode::OK,
        HTML,
        CachePolicy::NoStore,
        vec![Deflated::new(own, flate2::Compression::fast())],
        None,
        0,
    );
    Ok(page.respond_joined(headers, &[&rail.gz, &foot]))
}

/// Where the rail goes in a search page cut into pieces.
const RAIL_MARK: &str = "<!--newsdesk:search-rail-->";

/// What follows the rail on each edition's search page (the footer), compressed once at the
/// best level and kept while it reads the same: one entry per edition (the map holds no more
/// than the site has editions).
static FEET: Mutex<Option<HashMap<EditionId, Foot>>> = Mutex::new(None);

/// A foot kept: the hash of its text, and the text compressed.
type Foot = (u64, Arc<Deflated>);

/// Feet compressed so far (for tests: the footer is compressed once, not per request).
static FEET_MADE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Search-page feet compressed so far (all editions).
#[doc(hidden)]
pub fn feet_made() -> u64 {
    FEET_MADE.load(std::sync::atomic::Ordering::Relaxed)
}

/// The compressed `text` that follows the rail on `edition`'s search page: the kept one if it
/// is the same text, else made now and kept.
fn shared_foot(edition: EditionId, text: &str) -> Arc<Deflated> {
    let hash = xxhash_rust::xxh3::xxh3_64(text.as_bytes());
    let kept = FEET
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(HashMap::new)
        .get(&edition)
        .filter(|(h, d)| *h == hash && d.text_len() == text.len() as u64)
        .map(|(_, d)| d.clone());
    if let Some(d) = kept {
        return d;
    }
    let d = Arc::new(Deflated::new(text, flate2::Compression::best()));
    FEET_MADE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    FEET.lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(HashMap::new)
        .insert(edition, (hash, d.clone()));
    d
}

/// The search page of an edition, made whole.
pub async fn page(
    st: &WebState,
    edition: &Edition,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<Rendered, Fail> {
    let (mut p, rail) = results(st, edition, query).await?;
    p.c.rail_html = rail.html;
    let body = p.render()?;
    Ok(Rendered::for_one(
        headers,
        StatusCode::OK,
        HTML,
        CachePolicy::NoStore,
        body,
    ))
}

/// The search page's values (without its rail), and the edition's rail.
async fn results(
    st: &WebState,
    edition: &Edition,
    query: Option<&str>,
) -> Result<(SearchPage, RailHtml), Fail> {
    let f = parse_form(query);
    let mut messages = Vec::new();
    let day = |s: &str, what: &str, messages: &mut Vec<String>| -> Option<NaiveDate> {
        if s.is_empty() {
            return None;
        }
        let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        if d.is_none() {
            messages.push(format!(
                "The {what} date is not a date like 2025-01-31; it was left out."
            ));
        }
        d
    };
    let from = day(&f.from, "first", &mut messages);
    let to = day(&f.to, "last", &mut messages);
    let edition_filter = if f.edition.is_empty() {
        (!edition.is_global()).then(|| edition.slug.to_string())
    } else {
        Some(f.edition.clone())
    };
    let req = SearchRequest {
        text: f.q.clone(),
        sector: opt(&f.sector),
        kind: opt(&f.kind),
        edition: edition_filter.clone(),
        author: opt(&f.author),
        from,
        to,
        sort: if f.sort == "newest" {
            SearchSort::Newest
        } else {
            SearchSort::Relevance
        },
        page: f.page,
    };
    let typed = !f.q.trim().is_empty();
    let res = st.app.search(&req).await?;
    for n in &res.notices {
        if !typed && *n == newsdesk_app::search::SearchNotice::NothingToSearch {
            continue; // the empty form says it itself
        }
        messages.push(n.to_string());
    }
    let snap = st.app.read();
    let cx = ctx(st, &snap, edition);
    let items = res
        .hits
        .iter()
        .map(|h| {
            let item = cx.item(&h.card, 200, false);
            let snippet = if h.snippet.text.is_empty() {
                escape_html(&item.summary)
            } else {
                marked(&h.snippet.text, &h.snippet.marks)
            };
            (item, snippet)
        })
        .collect::<Vec<_>>();
    if typed
        && items.is_empty()
        && res.total == 0
        && res.notices.iter().all(|n| {
            !matches!(
                n,
                newsdesk_app::search::SearchNotice::NotReady
                    | newsdesk_app::search::SearchNotice::Busy
            )
        })
    {
        messages.push("Nothing found. Try other words, or fewer filters.".to_owned());
    }
    let title = if typed {
        format!("Search: {}", f.q.trim())
    } else {
        "Search".to_owned()
    };
    let mut c = cx.chrome(
        &title,
        &format!("Search {}", st.app.site.name),
        "/search",
        "/search",
    );
    c.noindex = true;
    c.search_q = f.q.clone();
    let rail = cx.rail_part(None)?;
    let opts = |list: Vec<(String, String)>, chosen: &str| -> Vec<NavLink> {
        list.into_iter()
            .map(|(slug, label)| NavLink {
                current: slug == chosen,
                href: slug,
                label,
            })
            .collect()
    };
    let tax = &snap.tax;
    let chosen_edition = edition_filter.unwrap_or_default();
    let view = SearchView {
        action: format!("{}/search", cx.prefix),
        q: f.q.clone(),
        sectors: opts(
            tax.sectors
                .iter()
                .map(|s| (s.slug.to_string(), s.name.clone()))
                .collect(),
            &f.sector,
        ),
        kinds: opts(
            Kind::ALL
                .iter()
                .map(|k| (k.listing_slug().to_owned(), k.plural_label().to_owned()))
                .collect(),
            &f.kind,
        ),
        editions: opts(
            tax.editions
                .iter()
                .filter(|e| !e.is_global())
                .map(|e| (e.slug.to_string(), e.name.clone()))
                .collect(),
            &chosen_edition,
        ),
        authors: opts(
            tax.authors
                .iter()
                .map(|a| (a.slug.to_string(), a.name.clone()))
                .collect(),
            &f.author,
        ),
        from: f.from.clone(),
        to: f.to.clone(),
        newest: f.sort == "newest",
        messages,
        total: res.total,
        more: res.more,
        shown: typed && res.total > 0,
        items,
        page: res.page,
        pages: res.pages,
        prev_href: if res.page > 1 && res.total > 0 {
            href(&cx.prefix, &f, res.page - 1)
        } else {
            String::new()
        },
        next_href: if res.page < res.pages && res.total > 0 {
            href(&cx.prefix, &f, res.page + 1)
        } else {
            String::new()
        },
    };
    Ok((SearchPage { c, s: view }, rail))
}

/// `/opensearch.xml`: an OpenSearch 1.1 description pointing at the Global edition's search.
pub fn opensearch(st: &WebState) -> Rendered {
    let site = &st.app.site;
    let base = site.base_url.trim_end_matches('/');
    let short: String = site.name.chars().take(16).collect();
    let body = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<OpenSearchDescription xmlns="http://a9.com/-/spec/opensearch/1.1/">
<ShortName>{short}</ShortName>
<Description>{desc}</Description>
<InputEncoding>UTF-8</InputEncoding>
<Language>{lang}</Language>
<Url type="text/html" method="get" template="{base}/search?q={{searchTerms}}"/>
<Url type="application/opensearchdescription+xml" rel="self" template="{base}/opensearch.xml"/>
</OpenSearchDescription>
"#,
        short = escape_html(&short),
        desc = escape_html(&format!("Search {}", site.name)),
        lang = escape_html(&site.language),
        base = escape_html(base),
    );
    Rendered::new(
        StatusCode::OK,
        "application/opensearchdescription+xml; charset=utf-8",
        CachePolicy::Sitemap,
        body,
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_are_escaped_and_marked_only_on_sound_ranges() {
        assert_eq!(
            marked("a <b> & c", &[(2, 5)]),
            "a <mark>&lt;b&gt;</mark> &amp; c"
        );
        // Reversed, overlapping, out of range and mid-character ranges are ignored.
        assert_eq!(marked("héllo", &[(2, 3), (3, 1), (0, 99)]), "héllo");
        assert_eq!(marked("ab", &[(0, 1), (0, 2)]), "<mark>a</mark>b");
    }

    #[test]
    fn forms_read_plus_percent_and_control_characters() {
        let f = parse_form(Some("q=a+%22b%00c&page=x&sort=newest&zzz=1"));
        assert_eq!(f.q, "a \"b c");
        assert_eq!(f.page, 1);
        assert_eq!(f.sort, "newest");
    }
}
