//! The reader site: one hand-written dispatcher for every path the newsroom and `/api` routers
//! leave, pages built from the read model and served from the page cache.

use crate::assets;
use crate::cache::{CachePolicy, Cached, Deflated, Rendered, Weigh};
use crate::feeds;
pub use crate::listing::{correction_text, resolve_listing, Fail};
use crate::pages::*;
use crate::paths::{edition_prefix, route, segments, FeedFormat, ListingPath, Route};
use crate::respond::OrServerError;
use crate::views::{feed_link, ArticleFrame, Block, Ctx, NavLink, OpenGraph, Picture};
use crate::WebState;
use askama::Template;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, Response, StatusCode};
use chrono::{DateTime, SecondsFormat, Utc};
use newsdesk_app::purge::{listing_dep, Dep, Stamp};
use newsdesk_app::{is_bot_or_prefetch, AppError, ArticleLookup, Filter};
use newsdesk_domain::*;
use std::sync::Arc;

/// HTML media type.
pub const HTML: &str = "text/html; charset=utf-8";

/// The one entry point for every request.
pub async fn dispatch(
    State(st): State<Arc<WebState>>,
    req: axum::extract::Request,
) -> Response<Body> {
    // The request's parts are taken, not copied (a header map copy per request showed in the
    // profile of cached reads); the body of a GET is not read.
    let (parts, _body) = req.into_parts();
    let (method, uri, headers) = (&parts.method, &parts.uri, &parts.headers);
    let address = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    if method != Method::GET && method != Method::HEAD {
        return Response::builder()
            .status(StatusCode::METHOD_NOT_ALLOWED)
            .header(header::ALLOW, "GET, HEAD")
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .header(header::CACHE_CONTROL, "no-store")
            .body(Body::from("Method not allowed.\n"))
            .or_500();
    }
    // WordPress's own addresses by query (`/?p=123`, `/index.php?page_id=7`) of an imported site.
    if let (Some(q), "/" | "/index.php") = (uri.query(), uri.path()) {
        match st.app.old_query_redirect(q).await {
            Ok(Some(to)) => return redirect(&to),
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "looking up an old address failed"),
        }
    }
    match serve(&st, method, uri.path(), uri.query(), headers, address).await {
        Ok(res) => res,
        Err(fail) => {
            if matches!(fail, Fail::NotFound) {
                if let Some(to) = imported_redirect(&st, uri.path()).await {
                    return redirect(&to);
                }
            }
            let global = st.app.read().tax.global().cloned();
            error_response(&st, fail, global.as_ref(), headers)
        }
    }
}

async fn serve(
    st: &WebState,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    address: Option<std::net::IpAddr>,
) -> Result<Response<Body>, Fail> {
    let segs = segments(path)?;
    let first = segs.first().map(String::as_str);
    // Site-wide resources, outside the editions.
    match (first, segs.len()) {
        (Some("healthz"), 1) => {
            return Ok(Response::builder()
                .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
                .header(header::CACHE_CONTROL, "no-store")
                .body(Body::from("ok\n"))
                .or_500())
        }
        (Some("robots.txt"), 1) => return Ok(feeds::robots(st).respond(headers)),
        (Some("opensearch.xml"), 1) => return Ok(crate::search::opensearch(st).respond(headers)),
        (Some("sitemap.xml"), 1) => return Ok(feeds::sitemap_index(st).respond(headers)),
        (Some("sitemap-news.xml"), 1) => return Ok(feeds::news_sitemap(st).respond(headers)),
        (Some("sitemaps"), 2) => return Ok(feeds::sitemap_file(st, &segs[1])?.respond(headers)),
        (Some("static"), 2) => {
            if segs[1] == assets::CSS_HREF.trim_start_matches("/static/") || segs[1] == "site.css" {
                return Ok(assets::CSS.respond(headers));
            }
            if segs[1] == assets::NEWSROOM_JS_HREF.trim_start_matches("/static/") {
                return Ok(assets::NEWSROOM_JS.respond(headers));
            }
            return Err(Fail::NotFound);
        }
        (Some("media"), 2) => {
            // Only files a public story uses; the newsroom sees the others at /newsroom/media.
            if !st.app.media_is_public(&segs[1]) {
                return Err(Fail::NotFound);
            }
            return assets::serve_media(&st.media, &segs[1], headers)
                .await
                .ok_or(Fail::NotFound);
        }
        _ => {}
    }
    let (edition, rest) = {
        let snap = st.app.read();
        let tax = &snap.tax;
        match first.and_then(|f| tax.edition_by_slug(f)) {
            Some(e) if e.is_global() => {
                // "/global/…" is the unprefixed page.
                return Ok(redirect(&crate::paths::path_of(&segs[1..])));
            }
            Some(e) => (e.clone(), &segs[1..]),
            None => (tax.global().cloned().ok_or(Fail::NotFound)?, &segs[..]),
        }
    };
    let route = route(rest)?;
    if route == Route::Search {
        // Read from the index each time, never stored in the page cache: a cache keyed by
        // what readers type would grow with every distinct query.
        return crate::search::answer(st, &edition, query, headers).await;
    }
    let page = page_param(query)?;
    if page.is_some() && !matches!(route, Route::Listing(_)) {
        return Err(Fail::BadRequest("Only listings have pages."));
    }
    let page = page.unwrap_or(1);
    let prefix = edition_prefix(&edition);
    let key = format!("{prefix}|{}|{page}", rest.join("/"));
    let versions = &st.app.versions;
    let is_article = matches!(route, Route::Article(_));
    // An article page is joined at response time with its edition's current rail and frame.
    let mut shared = None;
    if !matches!(route, Route::Feed(..) | Route::CorrectionsFeed(_)) {
        // Bring the edition's rail up to date first: if trending or the edition's stories
        // changed it, its dep moves now and the pages showing it are seen stale below.
        let snap = st.app.read();
        let cx = ctx(st, &snap, &edition);
        let rail = cx.current_rail()?;
        if is_article {
            if let Some(frame) = cx.current_frame()? {
                shared = Some((rail, frame));
            }
        }
    }
    let frame = shared.as_ref().map(|(_, f)| f.clone());
    let frame_id = frame.as_ref().map(|f| f.id);

    let built = st
        .cache
        .get_or_build_where(
            &key,
            |c| c.page.frame() == frame_id && versions.fresh(&c.stamp),
            || async {
                let at = versions.now();
                let (rendered, mut deps) =
                    build(st, route, &edition, &prefix, page, frame.as_deref()).await?;
                deps.push(Dep::Site);
                let stamp = Stamp { at, deps };
                // A joined page does not depend on the rail (it is joined when answered), but
                // it shows it: a CDN purges it with the rail.
                let keys = if rendered.frame().is_some() {
                    let mut shown = stamp.clone();
                    shown.deps.push(Dep::Rail(edition.id));
                    shown.keys()
                } else {
                    stamp.keys()
                };
                let rendered = rendered.with_keys(&keys).compact();
                Ok::<_, Miss>(Cached::new(Arc::new(rendered), stamp))
            },
        )
        .await;
    match built {
        Ok(c) => {
            // A reader's view, counted for cached pages too. The story is the page's own (the
            // first story its stamp depends on): a fresh article page shows a story public now,
            // since any change of its visibility makes the page stale. This spares each read a
            // lookup of the slug in the read model.
            if is_article && method == Method::GET && countable(headers) {
                if let Some(id) = own_story(&c.stamp) {
                    let ua = headers
                        .get(header::USER_AGENT)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    let address = address.map(|a| a.to_string()).unwrap_or_default();
                    st.app.count_view(id, edition.id, &address, ua);
                }
            }
            if let (Some((rail, frame)), Some(_)) = (&shared, c.page.frame()) {
                let snap = st.app.read();
                let rail = ctx(st, &snap, &edition).rail_of(rail, own_story(&c.stamp))?;
                let res = c.page.respond_joined(headers, &[&rail.gz, &frame.foot]);
                if c.page.wants_whole() {
                    // Read often with this rail: made whole for it, in the background.
                    let (rail, foot) = (rail.gz.clone(), frame.foot.clone());
                    st.cache.recompress_with(&key, &c, move |page| {
                        page.with_whole(&[rail.as_ref(), &foot])
                    });
                }
                return Ok(res);
            }
            Ok(c.page.respond(headers))
        }
        Err(Miss::Moved(to)) => Ok(redirect(&to)),
        Err(Miss::Fail(f)) => Err(f),
    }
}

/// Where an old address of an imported post or page leads (the redirect table, consulted
/// only before a 404; the path as sent, then percent-decoded).
async fn imported_redirect(st: &WebState, path: &str) -> Option<String> {
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .ok()
        .filter(|d| d != path)
        .map(|d| d.into_owned());
    for p in std::iter::once(path.to_owned()).chain(decoded) {
        match st.app.old_url_redirect(&p).await {
            Ok(Some(to)) => return Some(to),
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, "looking up an old address failed");
                return None;
            }
        }
    }
    None
}

/// Why a page was not built.
enum Miss {
    /// The story moved: answer with a redirect there (never cached).
    Moved(String),
    /// An error page.
    Fail(Fail),
}

impl From<Fail> for Miss {
    fn from(e: Fail) -> Self {
        Miss::Fail(e)
    }
}

impl From<AppError> for Miss {
    fn from(e: AppError) -> Self {
        Miss::Fail(e.into())
    }
}

/// Renders the page of a route (a cache miss), with what it shows.
async fn build(
    st: &WebState,
    route: Route,
    edition: &Edition,
    prefix: &str,
    page: usize,
    frame: Option<&ArticleFrame>,
) -> Result<(Rendered, Vec<Dep>), Miss> {
    let rail = Dep::Rail(edition.id);
    let filter_of = |l: &ListingPath| -> Result<Filter, Fail> {
        Ok(resolve_listing(&st.app.read(), l, st.app.now())?.0)
    };
    Ok(match route {
        Route::Home => (
            home(st, edition)?,
            vec![rail, listing_dep(edition, Filter::All)],
        ),
        Route::Article(slug) => {
            let versions = &st.app.versions;
            let frame_id = frame.map(|f| f.id);
            let make = || async {
                let at = versions.now();
                match st.app.article(&slug).await? {
                    ArticleLookup::Found(a) => {
                        let (part, deps) = article_part(
                            st,
                            edition,
                            &a.story,
                            &a.corrections,
                            &a.based_on,
                            frame,
                        )?;
                        Ok(Cached::new(Arc::new(part), Stamp { at, deps }))
                    }
                    ArticleLookup::Moved(to) => Err(Miss::Moved(format!("{prefix}/article/{to}"))),
                }
            };
            // A part made with the head and top of another frame (the date line moved, the menus
            // changed) is made again: it is stale like a page made with that frame.
            let mut part = st
                .parts
                .get_or_build_where(
                    &format!("{prefix}|{slug}"),
                    |c| versions.fresh(&c.stamp) && c.page.fits(frame_id),
                    &make,
                )
                .await?;
            if !part.page.fits(frame_id) {
                // Built for another frame by a concurrent miss: made for this one, not kept.
                part = Arc::new(make().await?);
            }
            let mut deps = part.stamp.deps.clone();
            let page = match frame {
                Some(frame) => article_page(st, edition, &part.page, frame, &mut deps)?,
                // The template lost the frame's marks: the page made whole, with its rail.
                None => {
                    deps.push(rail);
                    article_whole(st, edition, &part.page, &mut deps)?
                }
            };
            (page, deps)
        }
        Route::Listing(l) => {
            let dep = listing_dep(edition, filter_of(&l)?);
            (listing(st, edition, &l, page)?, vec![rail, dep])
        }
        Route::Feed(l, f) => {
            let dep = listing_dep(edition, filter_of(&l)?);
            (feeds::feed(st, edition, &l, f).await?, vec![dep])
        }
        Route::Page(slug) => (static_page(st, edition, &slug)?, vec![rail]),
        // Answered before the cache (see `serve`).
        Route::Search => return Err(Miss::Fail(Fail::NotFound)),
        Route::Corrections => {
            let list = st.app.recent_corrections(100).await?;
            (
                corrections_page(st, edition, &list)?,
                vec![rail, Dep::Corrections],
            )
        }
        Route::CorrectionsFeed(f) => {
            let list = st.app.recent_corrections(50).await?;
            (
                feeds::corrections_feed(st, &list, f),
                vec![Dep::Corrections],
            )
        }
    })
}

/// The story an article page shows: the first story its stamp depends on (its part's own,
/// which comes first; related and rail stories are held by listing and rail deps).
fn own_story(stamp: &Stamp) -> Option<StoryId> {
    stamp.deps.iter().find_map(|d| match d {
        Dep::Story(id) => Some(*id),
        _ => None,
    })
}

/// Whether a request is a reader's view worth counting.
fn countable(headers: &HeaderMap) -> bool {
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let purpose = h("sec-purpose")
        .or_else(|| h("purpose"))
        .or_else(|| h("x-moz"));
    !is_bot_or_prefetch(h("user-agent"), purpose)
}

/// `?page=N`: `None` when absent; a clear 400 when malformed or repeated.
fn page_param(query: Option<&str>) -> Result<Option<usize>, Fail> {
    let Some(q) = query else { return Ok(None) };
    let mut page = None;
    for pair in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k != "page" {
            continue; // tracking parameters and the like are ignored
        }
        if page.is_some() {
            return Err(Fail::BadRequest("The page number is given twice."));
        }
        let n: usize = v
            .parse()
            .map_err(|_| Fail::BadRequest("The page number must be a whole number from 1."))?;
        if n == 0 || n > 1_000_000 {
            return Err(Fail::BadRequest(
                "The page number must be a whole number from 1.",
            ));
        }
        page = Some(n);
    }
    Ok(page)
}

/// A permanent redirect to a path on this site (anything that a browser could read as another
/// host, `//x` or `/\\x`, goes home instead).
pub fn redirect(to: &str) -> Response<Body> {
    let same_site = to
        .strip_prefix('/')
        .is_some_and(|rest| !rest.starts_with(['/', '\\']));
    Response::builder()
        .status(StatusCode::MOVED_PERMANENTLY)
        .header(header::LOCATION, if same_site { to } else { "/" })
        .header(header::CACHE_CONTROL, CachePolicy::Redirect.header())
        .body(Body::empty())
        .or_500()
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub(crate) fn ctx<'a>(
    st: &'a WebState,
    snap: &'a newsdesk_app::Snapshot,
    edition: &'a Edition,
) -> Ctx<'a> {
    Ctx {
        app: &st.app,
        snap,
        edition,
        prefix: edition_prefix(edition),
        now: st.app.now(),
        css_href: &assets::CSS_HREF,
        rails: &st.rails,
    }
}

fn html(policy: CachePolicy, body: String, lm: Option<DateTime<Utc>>) -> Rendered {
    Rendered::new(StatusCode::OK, HTML, policy, body, lm)
}

fn home(st: &WebState, edition: &Edition) -> Result<Rendered, Fail> {
    let snap = st.app.read();
    let cx = ctx(st, &snap, edition);
    let top = snap.top_stories(cx.now, edition, 7);
    let latest: Vec<_> = snap
        .latest(cx.now, edition, Filter::All, 20)
        .into_iter()
        .filter(|c| !top.iter().any(|t| t.id == c.id))
        .take(8)
        .collect();
    let lm = top.iter().chain(latest.iter()).map(|c| c.updated_at).max();
    let mut lead = top.first().map(|c| cx.item(c, 200, true));
    if let (Some(l), Some(c)) = (lead.as_mut(), top.first()) {
        l.picture = c
            .hero_image_id
            .and_then(|i| snap.images.get(&i))
            .map(|i| Picture::of(i, 800));
    }
    let sectors = snap
        .tax
        .sectors
        .iter()
        .map(|s| Block {
            title: s.name.clone(),
            more_href: format!("{}/sector/{}", cx.prefix, s.slug),
            id: s.slug.to_string(),
            items: cx.items(
                &snap.latest(cx.now, edition, Filter::Sector(s.id), 3),
                200,
                true,
            ),
            ids: Vec::new(),
        })
        .collect();
    let title = if edition.is_global() {
        String::new()
    } else {
        format!("{} edition", edition.name)
    };
    let mut c = cx.chrome(
        &title,
        &format!("{}: {}", st.app.site.name, st.app.site.tagline),
        "",
        &edition_prefix(edition),
    );
    c.rail_html = cx.rail_html(None)?;
    let page = HomePage {
        c,
        h: crate::pages::HomeView {
            heading: format!("{}: {} edition", st.app.site.name, edition.name),
            lead,
            top: cx.items(top.get(1..).unwrap_or(&[]), 200, true),
            latest: cx.items(&latest, 200, true),
            sectors,
        },
    };
    Ok(html(CachePolicy::Front, page.render()?, lm))
}

/// An article's own part of its page: everything but the chrome, the rail and the related
/// stories, rendered once per change of the story (its text, corrections, lineage) and edition.
/// Made for an article frame, it starts with the page's head and the frame's top chrome, so a
/// page miss compresses the story's text with them in one piece, and a page made again (its
/// related stories moved) compresses only those.
pub struct ArticlePart {
    head: PartHead,
    /// The part's HTML compressed (after the head and top chrome when framed), joined as it is
    /// into the gzip of each page that shows it (its identity text is not kept: a part costs
    /// its compressed size).
    gz: Deflated,
    /// The end of the `<article>` element, after where its related stories go.
    tail: String,
    updated: DateTime<Utc>,
    story: StoryId,
}

/// What an article part holds of its page's head.
#[derive(Clone)]
enum PartHead {
    /// `gz` starts with the page's head and the top chrome of the frame `frame`.
    Framed { frame: u64 },
    /// `gz` is the story's text alone; the head is made at assembly from these (for a page
    /// made whole, when the template has lost the frame's marks).
    Values(Box<HeadValues>),
}

#[derive(Clone)]
struct HeadValues {
    title: String,
    description: String,
    canonical_path: String,
    og: OpenGraph,
    jsonld: Vec<String>,
}

impl ArticlePart {
    /// Whether the part can make a page with the frame `frame` (`None`: a page made whole).
    fn fits(&self, frame: Option<u64>) -> bool {
        match &self.head {
            PartHead::Framed { frame: f } => Some(*f) == frame,
            PartHead::Values(_) => true,
        }
    }
}

impl Weigh for ArticlePart {
    fn bytes(&self) -> usize {
        let head = match &self.head {
            PartHead::Framed { .. } => 0,
            PartHead::Values(v) => {
                std::mem::size_of::<HeadValues>()
                    + v.title.len()
                    + v.description.len()
                    + v.canonical_path.len()
                    + v.og.kind.len()
                    + v.og.image.len()
                    + v.og.published.len()
                    + v.og.modified.len()
                    + v.og.section.len()
                    + v.jsonld.iter().map(String::len).sum::<usize>()
            }
        };
        std::mem::size_of::<Self>() + head + self.gz.bytes() + self.tail.len()
    }

    /// A part read often is compressed again at the best level, in the background (it is
    /// made at the fast level on the miss path); its text, and so the pages' ETags, are the same.
    fn recompressed(&self) -> Option<Self> {
        let text = self.gz.text();
        if text.is_empty() {
            return None;
        }
        Some(ArticlePart {
            head: self.head.clone(),
            gz: Deflated::new(&text, flate2::Compression::best()),
            tail: self.tail.clone(),
            updated: self.updated,
            story: self.story,
        })
    }
}

/// The related stories of an article page (a bounded look at the newest of its tags' and
/// sector's lists, made at assembly so that a publication does not re-render the part; their
/// lists are added to `deps`).
fn related_html(
    st: &WebState,
    edition: &Edition,
    part: &ArticlePart,
    deps: &mut Vec<Dep>,
) -> Result<String, Fail> {
    let snap = st.app.read();
    let cx = ctx(st, &snap, edition);
    Ok(match snap.card(part.story) {
        Some(card) => {
            deps.push(listing_dep(edition, Filter::Sector(card.sector_id)));
            deps.extend(
                card.tag_ids
                    .iter()
                    .map(|t| listing_dep(edition, Filter::Tag(*t))),
            );
            let list = snap.related(cx.now, edition, &card, RELATED);
            RelatedList {
                related: list
                    .iter()
                    .map(|c| RelatedItem {
                        href: cx.story_href(&c.slug),
                        title: newsdesk_render::truncate_words(c.headline.as_str(), 120),
                        region: &c.region,
                    })
                    .collect(),
            }
            .render()?
        }
        None => String::new(),
    })
}

/// The article page's own pieces, joined when answered with its edition's rail and the
/// frame's footer (see [`Rendered::respond_joined`]): the story's part (compressed beforehand,
/// with the page's head and the frame's top chrome in front), and its related stories with the
/// end of the article (compressed now, fast). Pages read often get their own pieces at the best
/// level in the background. No rail and no shared chrome is held.
fn article_page(
    st: &WebState,
    edition: &Edition,
    part: &ArticlePart,
    frame: &ArticleFrame,
    deps: &mut Vec<Dep>,
) -> Result<Rendered, Fail> {
    let related = related_html(st, edition, part, deps)?;
    let fast = flate2::Compression::fast();
    let lead = match &part.head {
        PartHead::Framed { frame: f } if *f == frame.id => None,
        PartHead::Framed { .. } => {
            return Err(Fail::Internal("an article part of another frame".into()))
        }
        // The head and top chrome compressed now, fast, in front of the story's text.
        PartHead::Values(v) => {
            let canonical = {
                let snap = st.app.read();
                ctx(st, &snap, edition).abs(&v.canonical_path)
            };
            let mut head = ArticleHead {
                c: frame.head(&v.title, &v.description, canonical, &v.og, &v.jsonld),
            }
            .render()?;
            head.push_str(&frame.top(&v.canonical_path));
            Some(Deflated::new(&head, fast))
        }
    };
    // The frame's text after the article was compressed once, with the frame: joined as it is.
    let tail = Deflated::new(&[related.as_str(), &part.tail].concat(), fast);
    Ok(Rendered::joined(
        StatusCode::OK,
        HTML,
        CachePolicy::Article,
        lead.into_iter()
            .chain([
                part.gz.clone(),
                Deflated::concat(&[&tail, &frame.between_gz]),
            ])
            .collect(),
        Some(part.updated),
        frame.id,
    ))
}

/// The article page rendered whole with the chrome template and its rail (what the joined
/// pieces must add up to; used when the template has lost the frame's marks).
fn article_whole(
    st: &WebState,
    edition: &Edition,
    part: &ArticlePart,
    deps: &mut Vec<Dep>,
) -> Result<Rendered, Fail> {
    let PartHead::Values(v) = &part.head else {
        return Err(Fail::Internal("an article part made for a frame".into()));
    };
    let related = related_html(st, edition, part, deps)?;
    let snap = st.app.read();
    let cx = ctx(st, &snap, edition);
    let mut c = cx.chrome(
        &v.title,
        &v.description,
        &v.canonical_path,
        &v.canonical_path,
    );
    c.og = v.og.clone();
    c.jsonld = v.jsonld.clone();
    c.rail_html = cx.rail_part(Some(part.story))?.html;
    let main = [&part.gz.text(), related.as_str(), &part.tail].concat();
    let whole = ArticlePage { c, main: &main }.render()?;
    Ok(html(CachePolicy::Article, whole, Some(part.updated)))
}

/// An article page rendered whole as one string, as [`article_whole`] makes it (for tests: the
/// joined pieces must add up to it).
#[doc(hidden)]
pub async fn article_page_whole(st: &WebState, edition: &Edition, slug: &str) -> Option<String> {
    let ArticleLookup::Found(a) = st.app.article(slug).await.ok()? else {
        return None;
    };
    let (part, _) = article_part(st, edition, &a.story, &a.corrections, &a.based_on, None).ok()?;
    let page = article_whole(st, edition, &part, &mut Vec::new()).ok()?;
    String::from_utf8(page.identity().to_vec()).ok()
}

fn article_part(
    st: &WebState,
    edition: &Edition,
    story: &Story,
    corrections: &[Correction],
    based_on: &[String],
    frame: Option<&ArticleFrame>,
) -> Result<(ArticlePart, Vec<Dep>), Fail> {
    let snap = st.app.read();
    let cx = ctx(st, &snap, edition);
    let tax = &snap.tax;
    let sector = tax.sector(story.sector_id);
    let mut bylines: Vec<NavLink> = story
        .author_ids
        .iter()
        .filter_map(|a| tax.author(*a))
        .map(|a| NavLink {
            label: a.name.clone(),
            href: format!("{}/author/{}", cx.prefix, a.slug),
            current: false,
        })
        .collect();
    if bylines.is_empty() {
        bylines.push(match story.desk_id.and_then(|d| tax.desk(d)) {
            Some(d) => NavLink {
                label: d.name.clone(),
                href: format!("{}/desk/{}", cx.prefix, d.slug),
                current: false,
            },
            None => NavLink {
                label: format!("{} News Desk", st.app.site.name),
                href: cx.home_href(),
                current: false,
            },
        });
    }
    let created = story.visible_from().unwrap_or(story.created_at);
    let updated = story.updated_at.max(created);
    let image = story
        .hero_image_id
        .and_then(|i| snap.images.get(&i))
        .cloned();
    let canonical_path = format!("/article/{}", story.slug);
    let canonical = cx.abs(&canonical_path);
    let tags: Vec<NavLink> = story
        .tag_ids
        .iter()
        .filter_map(|t| tax.tag(*t))
        .map(|t| NavLink {
            label: t.name.clone(),
            href: format!("{}/tag/{}", cx.prefix, t.slug),
            current: false,
        })
        .collect();
    let mut crumbs = vec![NavLink {
        label: "Home".into(),
        href: cx.home_href(),
        current: false,
    }];
    if let Some(s) = sector {
        crumbs.push(NavLink {
            label: s.name.clone(),
            href: format!("{}/sector/{}", cx.prefix, s.slug),
            current: false,
        });
    }
    crumbs.push(NavLink {
        label: story.headline.as_str().to_owned(),
        href: canonical.clone(),
        current: true,
    });

    let title = match story.kind.headline_label() {
        Some(l) if story.kind == Kind::Opinion => format!("{l}: {}", story.headline),
        _ => story.headline.as_str().to_owned(),
    };
    let mut c = OgJsonLd::default();
    let image_abs = image
        .as_ref()
        .map(|i| cx.abs(&i.variant_path(i.widths.last().copied().unwrap_or(i.width))));
    c.og = OpenGraph {
        kind: "article".into(),
        image: image_abs.clone().unwrap_or_default(),
        published: iso(created),
        modified: iso(updated),
        section: sector.map(|s| s.name.clone()).unwrap_or_default(),
    };
    let ld_authors = if story.author_ids.is_empty() {
        bylines
            .iter()
            .map(|b| newsdesk_render::LdAuthor {
                name: b.label.clone(),
                url: Some(cx.abs(&b.href)),
                is_organization: true,
            })
            .collect()
    } else {
        bylines
            .iter()
            .map(|b| newsdesk_render::LdAuthor {
                name: b.label.clone(),
                url: Some(cx.abs(&b.href)),
                is_organization: false,
            })
            .collect()
    };
    c.jsonld
        .push(newsdesk_render::article(&newsdesk_render::ArticleLd {
            opinion: story.kind == Kind::Opinion,
            headline: story.headline.as_str().to_owned(),
            description: story.summary.clone(),
            url: canonical.clone(),
            image_urls: image_abs.into_iter().collect(),
            date_published: created,
            date_modified: updated,
            authors: ld_authors,
            publisher_name: st.app.site.name.clone(),
            publisher_logo_url: None,
            section: sector.map(|s| s.name.clone()),
            keywords: tags.iter().map(|t| t.label.clone()).collect(),
            is_based_on: based_on.to_vec(),
            corrections: corrections
                .iter()
                .map(|c| newsdesk_render::LdCorrection {
                    text: correction_text(c),
                    date_published: c.at,
                })
                .collect(),
        }));
    c.jsonld.push(newsdesk_render::breadcrumb_list(
        &crumbs
            .iter()
            .map(|b| {
                (
                    // Search engines get the whole headline; the visible crumb is cut.
                    if b.current {
                        story.headline.as_str().to_owned()
                    } else {
                        b.label.clone()
                    },
                    if b.href.starts_with("http") {
                        b.href.clone()
                    } else {
                        cx.abs(&b.href)
                    },
                )
            })
            .collect::<Vec<_>>(),
    ));
    let body = ArticleBody {
        a: ArticleView {
            kind: story.kind.as_str(),
            kind_label: story.kind.headline_label().unwrap_or(""),
            headline: story.headline.as_str(),
            summary: &story.summary,
            bylines,
            updated: time::stamp(updated, edition.tz),
            updated_iso: iso(updated),
            created: time::stamp(created, edition.tz),
            created_iso: iso(created),
            picture: image.as_deref().map(|i| Picture::of(i, 800)),
            video_src: story
                .video
                .as_ref()
                .map(|v| format!("/media/{v}"))
                .unwrap_or_default(),
            video_type: match story.video.as_deref() {
                Some(v) if v.ends_with(".webm") => "video/webm",
                _ => "video/mp4",
            },
            body_html: &story.body_html,
            provenance: story.provenance.line().unwrap_or("").to_owned(),
            source: story.source.clone().unwrap_or_default(),
            tags,
            crumbs,
            corrections: corrections
                .iter()
                .map(|c| CorrectionView {
                    when: time::stamp(c.at, edition.tz),
                    when_iso: iso(c.at),
                    text: correction_text(c),
                })
                .collect(),
        },
    };
    // The related stories go in at assembly (they change with every publication in the story's
    // tags and sector; this part only with the story).
    let deps = vec![Dep::Story(story.id)];
    // One string, made once at about its size: the page's head and the frame's top chrome
    // (when there is a frame), then the story.
    let mut text = String::with_capacity(PART_GUESS + story.body_html.len());
    if let Some(f) = frame {
        ArticleHead {
            c: f.head(&title, &story.summary, canonical, &c.og, &c.jsonld),
        }
        .render_into(&mut text)?;
        f.write_top(&mut text, &canonical_path);
    }
    let story_at = text.len();
    body.render_into(&mut text)?;
    let tail = match text[story_at..].rfind(RELATED_AT) {
        Some(at) => {
            let at = story_at + at;
            let tail = text[at + RELATED_AT.len()..].to_owned();
            text.truncate(at);
            tail
        }
        None => String::new(),
    };
    // The miss path compresses fast; a part read often is recompressed at the best level in
    // the background (`Weigh::recompressed`).
    let gz = Deflated::new(&text, flate2::Compression::fast());
    let head = match frame {
        // The page's head and the frame's top chrome first: one piece, one compression.
        Some(f) => PartHead::Framed { frame: f.id },
        None => PartHead::Values(Box::new(HeadValues {
            title,
            description: story.summary.clone(),
            canonical_path,
            og: c.og,
            jsonld: c.jsonld,
        })),
    };
    let part = ArticlePart {
        head,
        gz,
        tail,
        updated,
        story: story.id,
    };
    Ok((part, deps))
}

/// Where an article's related stories go in its part (the last such comment: the sanitised body
/// before it is the only unescaped text).
const RELATED_AT: &str = "<!--newsdesk:related-->";

/// Related stories on an article page.
const RELATED: usize = 5;

/// About the bytes of an article part besides its story's body (head, top chrome, the
/// article's own markup): room made at once for its text.
const PART_GUESS: usize = 12 << 10;

/// The head values an article part keeps for its page.
#[derive(Default)]
struct OgJsonLd {
    og: OpenGraph,
    jsonld: Vec<String>,
}

fn corrections_page(
    st: &WebState,
    edition: &Edition,
    list: &[(Correction, Arc<StoryCard>)],
) -> Result<Rendered, Fail> {
    let snap = st.app.read();
    let cx = ctx(st, &snap, edition);
    let mut c = cx.chrome(
        "Corrections",
        &format!("Corrections published by {}", st.app.site.name),
        "/corrections",
        "/corrections",
    );
    c.feeds = [FeedFormat::Rss, FeedFormat::Atom, FeedFormat::Json]
        .into_iter()
        .map(|f| feed_link(&cx, "corrections", f, "Corrections"))
        .collect();
    c.rail_html = cx.rail_html(None)?;
    let items = list
        .iter()
        .map(|(corr, card)| CorrectionItem {
            href: cx.story_href(&card.slug),
            headline: card.headline.to_string(),
            when: time::stamp(corr.at, edition.tz),
            when_iso: iso(corr.at),
            text: correction_text(corr),
        })
        .collect();
    let lm = list.iter().map(|(c, _)| c.at).max();
    let page = CorrectionsPage { c, items };
    Ok(html(CachePolicy::Listing, page.render()?, lm))
}

fn listing(
    st: &WebState,
    edition: &Edition,
    l: &ListingPath,
    page: usize,
) -> Result<Rendered, Fail> {
    let snap = st.app.read();
    let cx = ctx(st, &snap, edition);
    let (filter, heading, intro) = resolve_listing(&snap, l, cx.now)?;
    let per_page = st.app.site.page_size;
    let paged = snap
        .page(cx.now, edition, filter, page, per_page)
        .ok_or(Fail::NotFound)?;
    let base = format!("{}/{}", cx.prefix, l.path());
    let href = |p: usize| {
        if p == 1 {
            base.clone()
        } else {
            format!("{base}?page={p}")
        }
    };
    let path_in_edition = format!("/{}", l.path());
    let canonical = if page == 1 {
        base.clone()
    } else {
        format!("{base}?page={page}")
    };
    let title = if page > 1 {
        format!("{heading} (page {page})")
    } else {
        heading.clone()
    };
    let description = if intro.is_empty() {
        format!("{heading}: stories from {}", st.app.site.name)
    } else {
        intro.clone()
    };
    let mut c = cx.chrome(&title, &description, &path_in_edition, &canonical);
    let feeds: Vec<_> = [FeedFormat::Rss, FeedFormat::Atom, FeedFormat::Json]
        .into_iter()
        .map(|f| feed_link(&cx, &l.path(), f, &heading))
        .collect();
    c.feeds = feeds.clone();
    c.rail_html = cx.rail_html(None)?;
    let lm = paged.items.iter().map(|c| c.updated_at).max();
    let page_view = ListingPage {
        c,
        l: ListingView {
            heading,
            intro,
            items: cx.items(&paged.items, 200, true),
            page: paged.page,
            pages: paged.pages,
            prev_href: if paged.page > 1 {
                href(paged.page - 1)
            } else {
                String::new()
            },
            next_href: if paged.page < paged.pages {
                href(paged.page + 1)
            } else {
                String::new()
            },
            feeds,
        },
    };
    Ok(html(CachePolicy::Listing, page_view.render()?, lm))
}

fn static_page(st: &WebState, edition: &Edition, slug: &str) -> Result<Rendered, Fail> {
    let snap = st.app.read();
    let cx = ctx(st, &snap, edition);
    let p = snap
        .pages
        .iter()
        .find(|p| p.slug.as_str() == slug)
        .cloned()
        .ok_or(Fail::NotFound)?;
    let path = format!("/{}", p.slug);
    let mut c = cx.chrome(
        &p.title,
        &format!("{} — {}", p.title, st.app.site.name),
        &path,
        &path,
    );
    c.rail_html = cx.rail_html(None)?;
    let view = StaticPageView {
        c,
        p: PageView {
            title: p.title.clone(),
            body_html: p.body_html.clone(),
            updated: time::stamp(p.updated_at, edition.tz),
            updated_iso: iso(p.updated_at),
        },
    };
    Ok(html(
        CachePolicy::Listing,
        view.render()?,
        Some(p.updated_at),
    ))
}

/// The error page in the site's design; falls back to plain text if even that cannot be built.
fn error_response(
    st: &WebState,
    fail: Fail,
    edition: Option<&Edition>,
    headers: &HeaderMap,
) -> Response<Body> {
    let (status, heading, message, policy) = match &fail {
        Fail::NotFound => (
            StatusCode::NOT_FOUND,
            "Page not found",
            "We could not find that page. It may have moved, or the address may be mistyped."
                .to_owned(),
            CachePolicy::NotFound,
        ),
        Fail::BadRequest(why) => (
            StatusCode::BAD_REQUEST,
            "Bad request",
            (*why).to_owned(),
            CachePolicy::NoStore,
        ),
        Fail::Internal(cause) => {
            tracing::error!(%cause, "request failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "We could not show this page just now. Please try again in a moment.".to_owned(),
                CachePolicy::NoStore,
            )
        }
    };
    let body = edition.and_then(|edition| {
        let snap = st.app.read();
        let cx = ctx(st, &snap, edition);
        let mut c = cx.chrome(heading, &message, "", "/");
        if status == StatusCode::NOT_FOUND {
            c.rail_html = cx.rail_html(None).ok()?;
        }
        ErrorPage {
            c,
            e: ErrorView {
                heading: heading.to_owned(),
                message: message.clone(),
            },
        }
        .render()
        .ok()
    });
    match body {
        Some(b) => Rendered::new(status, HTML, policy, b, None).respond(headers),
        None => Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .header(header::CACHE_CONTROL, "no-store")
            .body(Body::from(format!("{heading}\n\n{message}\n")))
            .or_500(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_param_rules() {
        assert!(matches!(page_param(None), Ok(None)));
        assert!(matches!(page_param(Some("page=3")), Ok(Some(3))));
        assert!(matches!(
            page_param(Some("utm_source=x&page=2")),
            Ok(Some(2))
        ));
        assert!(matches!(
            page_param(Some("page=0")),
            Err(Fail::BadRequest(_))
        ));
        assert!(matches!(
            page_param(Some("page=abc")),
            Err(Fail::BadRequest(_))
        ));
        assert!(matches!(
            page_param(Some("page=99999999999999999999999")),
            Err(Fail::BadRequest(_))
        ));
        assert!(matches!(
            page_param(Some("page=1&page=2")),
            Err(Fail::BadRequest(_))
        ));
        assert!(matches!(page_param(Some("%FF=%FE&&=")), Ok(None)));
    }
}
