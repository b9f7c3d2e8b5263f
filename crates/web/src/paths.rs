//! Reader URLs: parsing a request path into a route, and building links.
//!
//! Every reader page exists once per edition: `/…` is the Global edition and `/{edition}/…` the
//! same page in another edition (its lists and its time zone). Parsing is done by hand rather than
//! by the router so that a bad path (invalid UTF-8, a wrong segment) is a clear 400 or 404 page.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Feed formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedFormat {
    /// RSS 2.0 (`feed.rss`).
    Rss,
    /// Atom 1.0 (`feed.atom`).
    Atom,
    /// JSON Feed 1.1 (`feed.json`).
    Json,
}

impl FeedFormat {
    /// The file name that selects this format.
    pub fn file(self) -> &'static str {
        match self {
            FeedFormat::Rss => "feed.rss",
            FeedFormat::Atom => "feed.atom",
            FeedFormat::Json => "feed.json",
        }
    }
    /// Parses [`FeedFormat::file`].
    pub fn from_file(s: &str) -> Option<Self> {
        [FeedFormat::Rss, FeedFormat::Atom, FeedFormat::Json]
            .into_iter()
            .find(|f| f.file() == s)
    }
    /// Media type of the document.
    pub fn content_type(self) -> &'static str {
        match self {
            FeedFormat::Rss => "application/rss+xml; charset=utf-8",
            FeedFormat::Atom => "application/atom+xml; charset=utf-8",
            FeedFormat::Json => "application/feed+json; charset=utf-8",
        }
    }
    /// Short name for link titles.
    pub fn label(self) -> &'static str {
        match self {
            FeedFormat::Rss => "RSS",
            FeedFormat::Atom => "Atom",
            FeedFormat::Json => "JSON Feed",
        }
    }
}

/// Which listing a path names (slugs not yet resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListingPath {
    /// The edition's whole stream (only for feeds).
    All,
    /// `sector/{slug}`.
    Sector(String),
    /// `kind/{listing-slug}`.
    Kind(String),
    /// `tag/{slug}`.
    Tag(String),
    /// `desk/{slug}`.
    Desk(String),
    /// `author/{slug}`.
    Author(String),
    /// `archive/{yyyy}/{mm}[/{dd}]`.
    Archive(i32, u32, Option<u32>),
}

impl ListingPath {
    /// The path of the listing below the edition prefix, without a leading slash.
    pub fn path(&self) -> String {
        match self {
            ListingPath::All => String::new(),
            ListingPath::Sector(s) => format!("sector/{s}"),
            ListingPath::Kind(s) => format!("kind/{s}"),
            ListingPath::Tag(s) => format!("tag/{s}"),
            ListingPath::Desk(s) => format!("desk/{s}"),
            ListingPath::Author(s) => format!("author/{s}"),
            ListingPath::Archive(y, m, None) => format!("archive/{y:04}/{m:02}"),
            ListingPath::Archive(y, m, Some(d)) => format!("archive/{y:04}/{m:02}/{d:02}"),
        }
    }
}

/// A reader route below the edition prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Home page of the edition.
    Home,
    /// `article/{slug}`.
    Article(String),
    /// A listing page.
    Listing(ListingPath),
    /// `{listing}/feed.{rss,atom,json}` or `feed.…` for the whole edition.
    Feed(ListingPath, FeedFormat),
    /// A one-segment path that may be a static page (`about`).
    Page(String),
    /// `corrections`: every public correction.
    Corrections,
    /// `corrections/feed.{rss,atom,json}`.
    CorrectionsFeed(FeedFormat),
    /// `search` (its query string read by `search.rs`; never cached).
    Search,
}

/// Why a path could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    /// Not valid percent-encoded UTF-8, or a control character: 400.
    BadRequest,
    /// Well-formed but names nothing: 404.
    NotFound,
}

/// Splits and percent-decodes a path; an empty trailing segment (trailing slash) is dropped.
pub fn segments(path: &str) -> Result<Vec<String>, PathError> {
    let mut out = Vec::new();
    for raw in path.split('/').filter(|s| !s.is_empty()) {
        let seg = percent_decode_str(raw)
            .decode_utf8()
            .map_err(|_| PathError::BadRequest)?;
        if seg.chars().any(char::is_control) || seg.contains('/') {
            return Err(PathError::BadRequest);
        }
        out.push(seg.into_owned());
    }
    Ok(out)
}

/// Bytes kept as they are in a path segment we build; everything else (`/`, `\`, `%`, `?`,
/// `#`, spaces, non-ASCII) is percent-encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// An absolute path on this site from decoded segments, each percent-encoded: a segment holding
/// `\` or `/` cannot make the result `//host` or `/\host`, which browsers follow off-site.
pub fn path_of(segs: &[String]) -> String {
    let mut out = String::new();
    for s in segs {
        out.push('/');
        out.extend(utf8_percent_encode(s, SEGMENT));
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

/// Parses the segments after the edition prefix.
pub fn route(segs: &[String]) -> Result<Route, PathError> {
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let listing = |kind: &str, slug: &str| -> Option<ListingPath> {
        Some(match kind {
            "sector" => ListingPath::Sector(slug.to_owned()),
            "kind" => ListingPath::Kind(slug.to_owned()),
            "tag" => ListingPath::Tag(slug.to_owned()),
            "desk" => ListingPath::Desk(slug.to_owned()),
            "author" => ListingPath::Author(slug.to_owned()),
            _ => return None,
        })
    };
    Ok(match s.as_slice() {
        [] => Route::Home,
        ["corrections"] => Route::Corrections,
        ["corrections", f] => {
            Route::CorrectionsFeed(FeedFormat::from_file(f).ok_or(PathError::NotFound)?)
        }
        [f] if FeedFormat::from_file(f).is_some() => Route::Feed(
            ListingPath::All,
            FeedFormat::from_file(f).ok_or(PathError::NotFound)?,
        ),
        ["search"] => Route::Search,
        [one] => Route::Page((*one).to_owned()),
        ["article", slug] => Route::Article((*slug).to_owned()),
        [kind, slug] => Route::Listing(listing(kind, slug).ok_or(PathError::NotFound)?),
        [kind, slug, f] if FeedFormat::from_file(f).is_some() => Route::Feed(
            listing(kind, slug).ok_or(PathError::NotFound)?,
            FeedFormat::from_file(f).ok_or(PathError::NotFound)?,
        ),
        ["archive", y, m] => Route::Listing(archive(y, m, None)?),
        ["archive", y, m, d] => Route::Listing(archive(y, m, Some(d))?),
        _ => return Err(PathError::NotFound),
    })
}

fn archive(y: &str, m: &str, d: Option<&str>) -> Result<ListingPath, PathError> {
    let num = |s: &str, len: usize| -> Result<u32, PathError> {
        if s.len() != len || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PathError::NotFound);
        }
        s.parse().map_err(|_| PathError::NotFound)
    };
    let y = num(y, 4)? as i32;
    let m = num(m, 2)?;
    let d = d.map(|d| num(d, 2)).transpose()?;
    let valid = match d {
        Some(d) => chrono::NaiveDate::from_ymd_opt(y, m, d).is_some(),
        None => (1..=12).contains(&m),
    };
    if !valid {
        return Err(PathError::NotFound);
    }
    Ok(ListingPath::Archive(y, m, d))
}

/// The path prefix of an edition: "" for Global, "/south-asia" otherwise.
pub fn edition_prefix(edition: &newsdesk_domain::Edition) -> String {
    if edition.is_global() {
        String::new()
    } else {
        format!("/{}", edition.slug)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(p: &str) -> Result<Route, PathError> {
        route(&segments(p)?)
    }

    #[test]
    fn routes() {
        assert_eq!(r("/"), Ok(Route::Home));
        assert_eq!(r("/article/a-b"), Ok(Route::Article("a-b".into())));
        assert_eq!(
            r("/sector/health/"),
            Ok(Route::Listing(ListingPath::Sector("health".into())))
        );
        assert_eq!(
            r("/tag/x/feed.atom"),
            Ok(Route::Feed(ListingPath::Tag("x".into()), FeedFormat::Atom))
        );
        assert_eq!(
            r("/feed.json"),
            Ok(Route::Feed(ListingPath::All, FeedFormat::Json))
        );
        assert_eq!(
            r("/archive/2025/09/04"),
            Ok(Route::Listing(ListingPath::Archive(2025, 9, Some(4))))
        );
        assert_eq!(r("/archive/2025/02/30"), Err(PathError::NotFound));
        assert_eq!(r("/archive/2025/13"), Err(PathError::NotFound));
        assert_eq!(r("/about"), Ok(Route::Page("about".into())));
        assert_eq!(r("/nope/x"), Err(PathError::NotFound));
        assert_eq!(r("/a/b/c/d/e"), Err(PathError::NotFound));
        assert_eq!(r("/article/%FF%FE"), Err(PathError::BadRequest));
        assert_eq!(r("/article/%00"), Err(PathError::BadRequest));
        assert_eq!(r("/article/a%2Fb"), Err(PathError::BadRequest));
    }

    #[test]
    fn built_paths_stay_on_the_site() {
        let p = |s: &str| path_of(&segments(s).unwrap());
        assert_eq!(p("/%5Cevil.example"), "/%5Cevil.example");
        assert_eq!(p("/%5C%5Cevil.example/x"), "/%5C%5Cevil.example/x");
        assert_eq!(p("/sector/health"), "/sector/health");
        assert_eq!(p("/article/caf%C3%A9"), "/article/caf%C3%A9");
        assert_eq!(p("/a%3Fb%23c"), "/a%3Fb%23c");
        assert_eq!(p(""), "/");
    }
}
