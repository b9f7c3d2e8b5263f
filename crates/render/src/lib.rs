//! Rendering for newsdesk: Markdown to sanitised HTML, feeds (RSS, Atom, JSON Feed),
//! sitemaps, schema.org JSON-LD, and the text helpers they share.
//!
//! This crate deliberately knows nothing about the domain model: callers fill in the plain
//! input structs defined here. That keeps rendering pure (no I/O, no clock, no database),
//! trivially testable, and usable from the app, the web layer and jobs alike.
//!
//! Everything here is total: any input string, however hostile, produces safe output and
//! never panics.

pub mod feed;
pub mod jsonld;
pub mod markdown;
pub mod sitemap;
pub mod text;
pub mod time;

mod xml;
#[cfg(test)]
mod xmlcheck;

pub use feed::{atom, json_feed, rss, Feed, FeedEntry};
pub use jsonld::{
    article, breadcrumb_list, escape_json_for_script, ArticleLd, LdAuthor, LdCorrection,
};
pub use markdown::{
    markdown_to_safe_html, plain_text, sanitize_html, sanitize_html_without_pictures,
};
pub use sitemap::{news_sitemap, sitemap_index, urlset, NewsUrl, SitemapUrl};
pub use text::{escape_html, escape_xml, truncate_words};
pub use time::{rfc2822, rfc3339};
