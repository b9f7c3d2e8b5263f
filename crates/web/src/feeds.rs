//! Machine-readable surfaces: RSS, Atom and JSON Feed for every listing, sitemaps, robots.txt.

use crate::cache::{CachePolicy, Cached, Rendered};
use crate::listing::{resolve_listing, Fail};
use crate::paths::{edition_prefix, FeedFormat, ListingPath};
use crate::WebState;
use axum::http::StatusCode;
use newsdesk_app::purge::{Dep, ListKey};
use newsdesk_domain::*;
use newsdesk_render::{Feed, FeedEntry, NewsUrl, SitemapUrl};
use std::sync::Arc;

/// The Global edition's list of every story.
const ALL: Dep = Dep::List(None, ListKey::All);

/// Stories in a feed.
const FEED_ITEMS: usize = 50;
/// URLs per story sitemap (the protocol allows 50,000; smaller files are cheaper to rebuild).
const SITEMAP_CHUNK: i64 = newsdesk_app::purge::SITEMAP_CHUNK;

fn base(st: &WebState) -> &str {
    st.app.site.base_url.trim_end_matches('/')
}

/// The authority of `tag:` ids, from the site address (stable while the address is).
fn tag_authority(st: &WebState) -> String {
    let b = base(st);
    let host = b.split("://").nth(1).unwrap_or(b);
    host.split(['/', ':'])
        .next()
        .unwrap_or("localhost")
        .to_owned()
}

/// A stable, globally unique entry id for a story.
pub fn entry_id(st: &WebState, id: StoryId) -> String {
    format!("tag:{},2026:story:{}", tag_authority(st), id)
}

/// The feed of a listing in an edition.
pub async fn feed(
    st: &WebState,
    edition: &Edition,
    l: &ListingPath,
    f: FeedFormat,
) -> Result<Rendered, Fail> {
    let (ids, title) = {
        let snap = st.app.read();
        let (filter, heading, _) = resolve_listing(&snap, l, st.app.now())?;
        let ids: Vec<StoryId> = snap
            .public(st.app.now(), edition, filter)
            .take(FEED_ITEMS)
            .map(|c| c.id)
            .collect();
        let mut title = st.app.site.name.clone();
        if !edition.is_global() {
            title.push_str(&format!(" {}", edition.name));
        }
        if *l != ListingPath::All {
            title.push_str(&format!(": {heading}"));
        }
        (ids, title)
    };
    let stories = st.app.stories(&ids).await?;
    let snap = st.app.read();
    let tax = &snap.tax;
    let prefix = edition_prefix(edition);
    let b = base(st);
    let listing_path = l.path();
    let sep = if listing_path.is_empty() { "" } else { "/" };
    let entries: Vec<FeedEntry> = stories
        .iter()
        .map(|s| {
            let mut authors: Vec<String> = s
                .author_ids
                .iter()
                .filter_map(|a| tax.author(*a))
                .map(|a| a.name.clone())
                .collect();
            if authors.is_empty() {
                authors.extend(s.desk_id.and_then(|d| tax.desk(d)).map(|d| d.name.clone()));
            }
            let mut categories: Vec<String> = tax
                .sector(s.sector_id)
                .map(|x| x.name.clone())
                .into_iter()
                .collect();
            categories.extend(
                s.tag_ids
                    .iter()
                    .filter_map(|t| tax.tag(*t))
                    .map(|t| t.name.clone()),
            );
            let published = s.visible_from().unwrap_or(s.created_at);
            let mut content = s.body_html.clone();
            if let Some(line) = s.provenance.line() {
                content.push_str(&format!("<p>{}</p>", newsdesk_render::escape_html(line)));
            }
            FeedEntry {
                id: entry_id(st, s.id),
                url: format!("{b}/article/{}", s.slug),
                title: match s.kind.headline_label() {
                    Some(l) if s.kind == Kind::Opinion => format!("{l}: {}", s.headline),
                    _ => s.headline.to_string(),
                },
                summary: s.summary.clone(),
                content_html: Some(content),
                authors,
                categories,
                published,
                updated: s.updated_at.max(published),
                image_url: s.hero_image_id.and_then(|i| snap.images.get(&i)).map(|i| {
                    format!(
                        "{b}{}",
                        i.variant_path(i.widths.last().copied().unwrap_or(i.width))
                    )
                }),
            }
        })
        .collect();
    let updated = entries
        .iter()
        .map(|e| e.updated)
        .max()
        .unwrap_or_else(|| st.app.now());
    let doc = Feed {
        title,
        description: st.app.site.tagline.clone(),
        home_url: format!("{b}{prefix}/{listing_path}"),
        feed_url: format!("{b}{prefix}/{listing_path}{sep}{}", f.file()),
        language: st.app.site.language.clone(),
        updated,
        entries,
    };
    let body = match f {
        FeedFormat::Rss => newsdesk_render::rss(&doc),
        FeedFormat::Atom => newsdesk_render::atom(&doc),
        FeedFormat::Json => newsdesk_render::json_feed(&doc),
    };
    Ok(Rendered::new(
        StatusCode::OK,
        f.content_type(),
        CachePolicy::Feed,
        body,
        Some(updated),
    ))
}

/// Serves `key` from the page cache or builds it; `deps` are what it shows.
fn cached(
    st: &WebState,
    key: &str,
    deps: Vec<Dep>,
    build: impl FnOnce() -> Result<Rendered, Fail>,
) -> Result<Arc<Rendered>, Fail> {
    let versions = &st.app.versions;
    if let Some(hit) = st.cache.get(key, |s| versions.fresh(s)) {
        return Ok(hit.page.clone());
    }
    let stamp = versions.stamp(deps);
    let r = Arc::new(build()?.with_keys(&stamp.keys()).compact());
    st.cache
        .put(key.to_owned(), Arc::new(Cached::new(r.clone(), stamp)));
    Ok(r)
}

const XML: &str = "application/xml; charset=utf-8";

/// `robots.txt`: everything may be crawled; the sitemaps are named.
pub fn robots(st: &WebState) -> Rendered {
    let b = base(st);
    let body = format!(
        "User-agent: *\nAllow: /\n\nSitemap: {b}/sitemap.xml\nSitemap: {b}/sitemap-news.xml\n"
    );
    Rendered::new(
        StatusCode::OK,
        "text/plain; charset=utf-8",
        CachePolicy::Sitemap,
        body,
        None,
    )
}

/// The sitemap index: the pages sitemap and one sitemap per block of story ids.
pub fn sitemap_index(st: &WebState) -> Arc<Rendered> {
    let built = cached(st, "sitemap|index", vec![Dep::Site, ALL], || {
        let snap = st.app.read();
        let now = st.app.now();
        let b = base(st);
        let mut chunks: std::collections::BTreeMap<i64, chrono::DateTime<chrono::Utc>> =
            Default::default();
        for (id, updated_at) in snap.public_stamps(now) {
            let n = (id.0 - 1).max(0) / SITEMAP_CHUNK + 1;
            let e = chunks.entry(n).or_insert(updated_at);
            *e = (*e).max(updated_at);
        }
        let mut list = vec![SitemapUrl {
            loc: format!("{b}/sitemaps/pages.xml"),
            lastmod: None,
        }];
        list.extend(chunks.into_iter().map(|(n, lm)| SitemapUrl {
            loc: format!("{b}/sitemaps/stories-{n}.xml"),
            lastmod: Some(lm),
        }));
        Ok(Rendered::new(
            StatusCode::OK,
            XML,
            CachePolicy::Sitemap,
            newsdesk_render::sitemap_index(&list),
            None,
        ))
    });
    built.unwrap_or_else(|_| Arc::new(robots(st)))
}

/// `sitemaps/pages.xml` or `sitemaps/stories-N.xml`.
pub fn sitemap_file(st: &WebState, name: &str) -> Result<Arc<Rendered>, Fail> {
    let b = base(st).to_owned();
    if name == "pages.xml" {
        return cached(st, "sitemap|pages", vec![Dep::Site], || {
            let snap = st.app.read();
            let mut urls = Vec::new();
            for e in &snap.tax.editions {
                let p = edition_prefix(e);
                urls.push(SitemapUrl {
                    loc: format!("{b}{}", if p.is_empty() { "/" } else { &p }),
                    lastmod: None,
                });
            }
            for s in &snap.tax.sectors {
                urls.push(SitemapUrl {
                    loc: format!("{b}/sector/{}", s.slug),
                    lastmod: None,
                });
            }
            for k in Kind::ALL {
                urls.push(SitemapUrl {
                    loc: format!("{b}/kind/{}", k.listing_slug()),
                    lastmod: None,
                });
            }
            for p in &snap.pages {
                urls.push(SitemapUrl {
                    loc: format!("{b}/{}", p.slug),
                    lastmod: Some(p.updated_at),
                });
            }
            Ok(Rendered::new(
                StatusCode::OK,
                XML,
                CachePolicy::Sitemap,
                newsdesk_render::urlset(&urls),
                None,
            ))
        });
    }
    let n: i64 = name
        .strip_prefix("stories-")
        .and_then(|r| r.strip_suffix(".xml"))
        .and_then(|n| n.parse().ok())
        .filter(|n| *n >= 1 && *n <= 1_000_000)
        .ok_or(Fail::NotFound)?;
    cached(
        st,
        &format!("sitemap|stories|{n}"),
        vec![Dep::Sitemap(n)],
        || {
            let snap = st.app.read();
            let (lo, hi) = ((n - 1) * SITEMAP_CHUNK + 1, n * SITEMAP_CHUNK);
            let mut cards: Vec<_> = snap.public_in(st.app.now(), lo..=hi).collect();
            if cards.is_empty() {
                return Err(Fail::NotFound);
            }
            cards.sort_by_key(|c| c.id);
            let urls: Vec<SitemapUrl> = cards
                .iter()
                .map(|c| SitemapUrl {
                    loc: format!("{b}/article/{}", c.slug),
                    lastmod: Some(c.updated_at),
                })
                .collect();
            Ok(Rendered::new(
                StatusCode::OK,
                XML,
                CachePolicy::Sitemap,
                newsdesk_render::urlset(&urls),
                None,
            ))
        },
    )
}

/// Google News sitemap: public stories first published in the last 48 hours.
pub fn news_sitemap(st: &WebState) -> Arc<Rendered> {
    let built = cached(st, "sitemap|news", vec![ALL], || {
        let snap = st.app.read();
        let now = st.app.now();
        let since = now - chrono::Duration::hours(48);
        let b = base(st);
        let urls: Vec<NewsUrl> = snap
            .all_public(now)
            .take_while(|c| c.visible_from().is_some_and(|t| t >= since))
            .take(1000)
            .map(|c| NewsUrl {
                loc: format!("{b}/article/{}", c.slug),
                publication_name: st.app.site.name.clone(),
                language: st.app.site.language.clone(),
                publication_date: c.visible_from().unwrap_or(c.updated_at),
                title: c.headline.to_string(),
            })
            .collect();
        Ok(Rendered::new(
            StatusCode::OK,
            XML,
            CachePolicy::Sitemap,
            newsdesk_render::news_sitemap(&urls),
            None,
        ))
    });
    built.unwrap_or_else(|_| Arc::new(robots(st)))
}

/// The corrections feed: one entry per correction, linking to the corrected story.
pub fn corrections_feed(
    st: &WebState,
    list: &[(Correction, Arc<StoryCard>)],
    f: FeedFormat,
) -> Rendered {
    let b = base(st);
    let entries: Vec<FeedEntry> = list
        .iter()
        .map(|(c, card)| FeedEntry {
            id: format!("tag:{},2026:correction:{}", tag_authority(st), c.id),
            url: format!("{b}/article/{}", card.slug),
            title: format!("Correction: {}", card.headline),
            summary: crate::listing::correction_text(c),
            content_html: None,
            authors: vec![st.app.site.name.clone()],
            categories: vec!["Corrections".into()],
            published: c.at,
            updated: c.at,
            image_url: None,
        })
        .collect();
    let updated = entries
        .iter()
        .map(|e| e.updated)
        .max()
        .unwrap_or_else(|| st.app.now());
    let doc = Feed {
        title: format!("{}: Corrections", st.app.site.name),
        description: "Corrections to our stories".into(),
        home_url: format!("{b}/corrections"),
        feed_url: format!("{b}/corrections/{}", f.file()),
        language: st.app.site.language.clone(),
        updated,
        entries,
    };
    let body = match f {
        FeedFormat::Rss => newsdesk_render::rss(&doc),
        FeedFormat::Atom => newsdesk_render::atom(&doc),
        FeedFormat::Json => newsdesk_render::json_feed(&doc),
    };
    Rendered::new(
        StatusCode::OK,
        f.content_type(),
        CachePolicy::Feed,
        body,
        Some(updated),
    )
}
