//! Sitemaps for search engines: the sitemap index, ordinary URL sets, and the Google News
//! sitemap for recent stories.

use chrono::{DateTime, Utc};

use crate::time::rfc3339;
use crate::xml::XmlWriter;

const NS_SITEMAP: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";
const NS_NEWS: &str = "http://www.google.com/schemas/sitemap-news/0.9";

/// One entry of a sitemap index or URL set.
#[derive(Debug, Clone, PartialEq)]
pub struct SitemapUrl {
    /// Absolute URL.
    pub loc: String,
    /// When the page (or child sitemap) last changed, if known.
    pub lastmod: Option<DateTime<Utc>>,
}

/// One story in a Google News sitemap.
#[derive(Debug, Clone, PartialEq)]
pub struct NewsUrl {
    /// Absolute URL of the story.
    pub loc: String,
    /// Publication name exactly as registered with Google News.
    pub publication_name: String,
    /// ISO 639 language code, e.g. "en".
    pub language: String,
    /// First publication time.
    pub publication_date: DateTime<Utc>,
    /// Headline.
    pub title: String,
}

/// Renders a `<sitemapindex>` listing child sitemaps.
///
/// The protocol caps an index at 50,000 entries; splitting is the caller's job because
/// only it knows how the child sitemaps are paged.
pub fn sitemap_index(sitemaps: &[SitemapUrl]) -> String {
    write_set("sitemapindex", "sitemap", sitemaps)
}

/// Renders a `<urlset>` of pages. The protocol caps a set at 50,000 URLs and 50 MB.
pub fn urlset(urls: &[SitemapUrl]) -> String {
    write_set("urlset", "url", urls)
}

fn write_set(root: &str, item: &str, urls: &[SitemapUrl]) -> String {
    let mut x = XmlWriter::new();
    x.open(root, &[("xmlns", NS_SITEMAP)]);
    for u in urls {
        x.open(item, &[]);
        x.text("loc", &[], &u.loc);
        if let Some(t) = u.lastmod {
            x.text("lastmod", &[], &rfc3339(t));
        }
        x.close(item);
    }
    x.close(root);
    x.finish()
}

/// Renders a Google News sitemap (namespace `http://www.google.com/schemas/sitemap-news/0.9`).
///
/// Google only reads stories from the last two days and at most 1,000 URLs per sitemap;
/// choosing which stories qualify is the caller's job, since it owns the clock.
pub fn news_sitemap(urls: &[NewsUrl]) -> String {
    let mut x = XmlWriter::new();
    x.open("urlset", &[("xmlns", NS_SITEMAP), ("xmlns:news", NS_NEWS)]);
    for u in urls {
        x.open("url", &[]);
        x.text("loc", &[], &u.loc);
        x.open("news:news", &[]);
        x.open("news:publication", &[]);
        x.text("news:name", &[], &u.publication_name);
        x.text("news:language", &[], &u.language);
        x.close("news:publication");
        x.text("news:publication_date", &[], &rfc3339(u.publication_date));
        x.text("news:title", &[], &u.title);
        x.close("news:news");
        x.close("url");
    }
    x.close("urlset");
    x.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xmlcheck::check;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn t() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap()
    }

    #[test]
    fn index_and_urlset() {
        let urls = vec![
            SitemapUrl {
                loc: "https://example.org/a?x=1&y=<2>".into(),
                lastmod: Some(t()),
            },
            SitemapUrl {
                loc: "https://example.org/b".into(),
                lastmod: None,
            },
        ];
        let idx = sitemap_index(&urls);
        check(&idx).unwrap();
        assert!(
            idx.contains("<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">")
        );
        assert!(idx.contains("<sitemap>\n<loc>https://example.org/a?x=1&amp;y=&lt;2&gt;</loc>"));
        assert!(idx.contains("<lastmod>2025-01-02T03:04:05Z</lastmod>"));
        assert_eq!(idx.matches("<lastmod>").count(), 1);

        let set = urlset(&urls);
        check(&set).unwrap();
        assert!(set.contains("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"));
        assert_eq!(set.matches("<url>").count(), 2);
        check(&urlset(&[])).unwrap();
    }

    #[test]
    fn news() {
        let xml = news_sitemap(&[NewsUrl {
            loc: "https://example.org/news/1".into(),
            publication_name: "Example & Co News".into(),
            language: "en".into(),
            publication_date: t(),
            title: "Rates \"rise\" <again>".into(),
        }]);
        check(&xml).unwrap();
        for needle in [
            "xmlns:news=\"http://www.google.com/schemas/sitemap-news/0.9\"",
            "<news:name>Example &amp; Co News</news:name>",
            "<news:language>en</news:language>",
            "<news:publication_date>2025-01-02T03:04:05Z</news:publication_date>",
            "<news:title>Rates &quot;rise&quot; &lt;again&gt;</news:title>",
        ] {
            assert!(xml.contains(needle), "missing {needle} in {xml}");
        }
    }

    proptest! {
        #[test]
        fn any_loc_is_well_formed(loc in any::<String>(), title in any::<String>()) {
            let u = SitemapUrl { loc: loc.clone(), lastmod: Some(DateTime::<Utc>::MIN_UTC) };
            prop_assert!(check(&urlset(std::slice::from_ref(&u))).is_ok());
            prop_assert!(check(&sitemap_index(&[u])).is_ok());
            let n = NewsUrl {
                loc,
                publication_name: title.clone(),
                language: "en".into(),
                publication_date: t(),
                title,
            };
            prop_assert!(check(&news_sitemap(&[n])).is_ok());
        }
    }
}
