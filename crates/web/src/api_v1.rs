//! The JSON API, `/api/v1/` (content for anyone, newsroom work for API tokens) and its OpenAPI
//! 3.1 document at `/api/openapi.json`, generated from these handlers' annotations (`utoipa`).
//!
//! Public reads call what the reader pages call (the read model's public lists, the article
//! lookup), so embargoes and drafts are hidden by the one rule in `app`, and go through the page
//! cache with the same deps, so a change purges exactly the answers showing it; every answer
//! has an ETag (304 on `If-None-Match`) and a `Cache-Control`. Token requests are checked
//! (token, then scope and role in `app`, then the rate limit) before a byte of their body is
//! read, and their bodies are read only up to `[api] body_max_bytes`. Every error is an RFC 9457
//! problem document.

use crate::cache::{CachePolicy, Cached, Rendered};
use crate::error::{faces, Face, WebError};
use crate::forms::{read_body, BodyError, FormData};
use crate::listing::{resolve_listing, Fail};
use crate::paths::ListingPath;
use crate::WebState;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, Response, StatusCode};
use axum::routing::{any, get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use newsdesk_app::purge::{listing_dep, Dep, Stamp};
use newsdesk_app::{ApiCaller, AppError, ArticleLookup, ListCursor, StoryForm};
use newsdesk_domain::*;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, OpenApi, ToSchema};

/// The `/api/v1` routes and the OpenAPI document; errors are problem documents.
pub fn router(state: Arc<WebState>) -> Router<Arc<WebState>> {
    Router::new()
        .route("/api/openapi.json", get(openapi_json))
        .route("/api/v1/stories", get(stories))
        .route("/api/v1/stories/{id}", get(story_by_id))
        .route("/api/v1/stories/by-slug/{slug}", get(story_by_slug))
        .route("/api/v1/editions", get(editions))
        .route("/api/v1/sectors", get(sectors))
        .route("/api/v1/corrections", get(corrections))
        .route("/api/v1/search", get(search))
        .route("/api/v1/newsroom/stories", post(create_story))
        .route(
            "/api/v1/newsroom/stories/{id}",
            get(newsroom_story).put(update_story),
        )
        .route(
            "/api/v1/newsroom/stories/{id}/transitions",
            post(transition),
        )
        .route(
            "/api/v1/newsroom/stories/{id}/corrections",
            post(add_correction),
        )
        .route("/api/v1/newsroom/images", post(upload_image))
        .route("/api/v1/{*rest}", any(not_found))
        .route("/api/v1", any(not_found))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            (state, Face::Json),
            faces,
        ))
}

// ---------------------------------------------------------------------------------------------
// The OpenAPI document.

/// The OpenAPI description of `/api/v1`.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "newsdesk API",
        description = "Public content (no key) and newsroom work (API tokens, `Authorization: Bearer ndt_…`). Errors are RFC 9457 problem documents.",
        version = "1"
    ),
    paths(
        stories,
        story_by_id,
        story_by_slug,
        editions,
        sectors,
        corrections,
        search,
        ninjs_doc,
        newsml_doc,
        newsroom_story,
        create_story,
        update_story,
        transition,
        add_correction,
        upload_image
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "content", description = "Public content: what the site shows, as it shows it."),
        (name = "newsroom", description = "Newsroom work through an API token: its scopes and its owner's role both apply.")
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token made by an admin in the newsroom (Admin → API tokens) or with `newsdesk token create`."))
                    .build(),
            ),
        );
    }
}

/// The document, made once.
pub fn openapi_text() -> &'static str {
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DOC.get_or_init(|| {
        ApiDoc::openapi()
            .to_json()
            .unwrap_or_else(|_| "{}".to_owned())
    })
}

async fn openapi_json(headers: HeaderMap) -> Response<Body> {
    static R: std::sync::OnceLock<Rendered> = std::sync::OnceLock::new();
    R.get_or_init(|| {
        Rendered::new(
            StatusCode::OK,
            "application/json",
            CachePolicy::Sitemap,
            openapi_text().to_owned(),
            None,
        )
    })
    .respond(&headers)
}

// ---------------------------------------------------------------------------------------------
// Schemas.

/// An RFC 9457 problem document.
#[derive(Serialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`: the status says what kind of problem it is.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What to do about it.
    pub detail: String,
}

/// A name with its slug (sector, author, tag, desk, edition).
#[derive(Serialize, ToSchema)]
pub struct Named {
    /// URL segment.
    pub slug: String,
    /// Name as shown.
    pub name: String,
}

/// An edition of the site.
#[derive(Serialize, ToSchema)]
pub struct EditionOut {
    /// URL prefix (the Global edition has none).
    pub slug: String,
    /// Name.
    pub name: String,
    /// IANA time zone its pages show times in.
    pub time_zone: String,
    /// Whether it is the Global edition (every story).
    pub global: bool,
}

/// Editions.
#[derive(Serialize, ToSchema)]
pub struct EditionList {
    /// In menu order.
    pub items: Vec<EditionOut>,
}

/// Sectors.
#[derive(Serialize, ToSchema)]
pub struct SectorList {
    /// In menu order.
    pub items: Vec<Named>,
}

/// A picture.
#[derive(Serialize, ToSchema)]
pub struct ImageOut {
    /// Id (to use as a story's `hero_image`).
    pub id: i64,
    /// Address of its largest rendition.
    pub url: String,
    /// Alternative text.
    pub alt: String,
    /// Caption.
    pub caption: String,
    /// Credit.
    pub credit: String,
    /// Width of the original, pixels.
    pub width: u32,
    /// Height of the original, pixels.
    pub height: u32,
}

/// A story in a list.
#[derive(Serialize, ToSchema)]
pub struct StoryCardOut {
    /// Id.
    pub id: i64,
    /// Current URL segment.
    pub slug: String,
    /// Canonical address of its page.
    pub url: String,
    /// Headline.
    pub headline: String,
    /// Summary.
    pub summary: String,
    /// Kind (`news`, `opinion`, `blog`, `interview`, `analysis`, `short`, `press-release`).
    pub kind: String,
    /// Sector.
    pub sector: Named,
    /// Region label.
    pub region: String,
    /// Bylines.
    pub authors: Vec<Named>,
    /// Tags.
    pub tags: Vec<Named>,
    /// When it became public (RFC 3339).
    pub published_at: Option<String>,
    /// Last change readers can see (RFC 3339).
    pub updated_at: String,
}

/// A page of a listing.
#[derive(Serialize, ToSchema)]
pub struct StoryPage {
    /// Newest first.
    pub items: Vec<StoryCardOut>,
    /// Pass as `cursor` for the next page; absent at the end.
    pub next_cursor: Option<String>,
}

/// A correction of a story.
#[derive(Serialize, ToSchema)]
pub struct CorrectionOut {
    /// When it was made (RFC 3339).
    pub at: String,
    /// What the story said.
    pub wrong: String,
    /// What is right.
    pub right: String,
}

/// A public story, whole.
#[derive(Serialize, ToSchema)]
pub struct StoryOut {
    /// Id.
    pub id: i64,
    /// Current URL segment.
    pub slug: String,
    /// Canonical address of its page.
    pub url: String,
    /// Headline.
    pub headline: String,
    /// Summary.
    pub summary: String,
    /// Kind.
    pub kind: String,
    /// Sector.
    pub sector: Named,
    /// Region label.
    pub region: String,
    /// Editions it appears in.
    pub editions: Vec<String>,
    /// Person bylines.
    pub authors: Vec<Named>,
    /// Desk byline.
    pub desk: Option<Named>,
    /// Tags.
    pub tags: Vec<Named>,
    /// Hero picture.
    pub image: Option<ImageOut>,
    /// Short video's address, for shorts.
    pub video_url: Option<String>,
    /// How much is the desk's own work (`staff`, `agency`, …).
    pub provenance: String,
    /// Source attribution.
    pub source: Option<String>,
    /// When it became public (RFC 3339).
    pub published_at: Option<String>,
    /// Last change readers can see (RFC 3339).
    pub updated_at: String,
    /// Body, sanitised HTML.
    pub body_html: String,
    /// Corrections, oldest first.
    pub corrections: Vec<CorrectionOut>,
}

/// A correction with the public story it belongs to.
#[derive(Serialize, ToSchema)]
pub struct CorrectionItem {
    /// When (RFC 3339).
    pub at: String,
    /// What the story said.
    pub wrong: String,
    /// What is right.
    pub right: String,
    /// The story's id.
    pub story_id: i64,
    /// Its headline.
    pub headline: String,
    /// Its page.
    pub url: String,
}

/// The newest corrections.
#[derive(Serialize, ToSchema)]
pub struct CorrectionList {
    /// Newest first.
    pub items: Vec<CorrectionItem>,
}

/// A story as the newsroom sees it (any status).
#[derive(Serialize, ToSchema)]
pub struct NewsroomStoryOut {
    /// Id.
    pub id: i64,
    /// Version: send it back with an update (optimistic locking).
    pub version: i64,
    /// Workflow status (`draft`, `in-review`, `scheduled`, `published`, `unpublished`, `killed`).
    pub status: String,
    /// URL segment.
    pub slug: String,
    /// Headline.
    pub headline: String,
    /// Summary.
    pub summary: String,
    /// Body, Markdown.
    pub body_md: String,
    /// Kind.
    pub kind: String,
    /// Sector slug.
    pub sector: String,
    /// Region label.
    pub region: String,
    /// Edition slugs, the primary first.
    pub editions: Vec<String>,
    /// Tag names.
    pub tags: Vec<String>,
    /// Author slugs.
    pub authors: Vec<String>,
    /// Desk slug.
    pub desk: Option<String>,
    /// Hero picture id.
    pub hero_image: Option<i64>,
    /// Source attribution.
    pub source: Option<String>,
    /// Embargo end (RFC 3339).
    pub embargo_until: Option<String>,
    /// Publication (or scheduled) time (RFC 3339).
    pub published_at: Option<String>,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

/// An edition a story appears in.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlacementIn {
    /// Edition slug.
    pub edition: String,
    /// Rank on the edition's front, 1 to 99.
    #[serde(default)]
    pub rank: Option<i32>,
}

/// A story's content as written (create, or update with `version`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StoryIn {
    /// The version being updated (required for an update, ignored on create).
    #[serde(default)]
    pub version: Option<i64>,
    /// Headline.
    pub headline: String,
    /// Summary, at most 600 characters.
    #[serde(default)]
    pub summary: String,
    /// Body, Markdown.
    #[serde(default)]
    pub body_md: String,
    /// Kind (`news`, `opinion`, `blog`, `interview`, `analysis`, `short`, `press-release`).
    pub kind: String,
    /// Sector slug.
    pub sector: String,
    /// Region label ("Global" when empty).
    #[serde(default)]
    pub region: String,
    /// Editions, the primary first (Global when empty).
    #[serde(default)]
    pub editions: Vec<PlacementIn>,
    /// Tag names (made when new).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Author slugs, in byline order.
    #[serde(default)]
    pub authors: Vec<String>,
    /// Desk slug.
    #[serde(default)]
    pub desk: Option<String>,
    /// Hero picture id.
    #[serde(default)]
    pub hero_image: Option<i64>,
    /// Source attribution.
    #[serde(default)]
    pub source: String,
    /// URL segment; empty makes one from the headline (or keeps the current one).
    #[serde(default)]
    pub slug: String,
    /// Embargo end, `YYYY-MM-DDTHH:MM` in UTC.
    #[serde(default)]
    pub embargo_until: Option<String>,
}

impl StoryIn {
    fn form(&self) -> StoryForm {
        StoryForm {
            headline: self.headline.clone(),
            summary: self.summary.clone(),
            body_md: self.body_md.clone(),
            kind: self.kind.clone(),
            sector: self.sector.clone(),
            region: self.region.clone(),
            editions: self
                .editions
                .iter()
                .map(|p| {
                    (
                        p.edition.clone(),
                        p.rank.map(|r| r.to_string()).unwrap_or_default(),
                    )
                })
                .collect(),
            // A comma inside a name would split it: the form's tag list is comma-separated.
            tags: self
                .tags
                .iter()
                .map(|t| t.replace(',', " "))
                .collect::<Vec<_>>()
                .join(","),
            authors: self.authors.clone(),
            desk: self.desk.clone().unwrap_or_default(),
            hero_image: self.hero_image.map(|i| i.to_string()).unwrap_or_default(),
            source: self.source.clone(),
            slug: self.slug.clone(),
            embargo_until: self.embargo_until.clone().unwrap_or_default(),
        }
    }
}

/// A workflow step.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionIn {
    /// `submit`, `send-back`, `publish`, `schedule`, `unpublish` or `kill`.
    pub step: String,
    /// The story's version.
    pub version: i64,
    /// Publication time for `schedule` (RFC 3339).
    #[serde(default)]
    pub at: Option<String>,
}

/// A correction to add to a published story.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionIn {
    /// The story's version.
    pub version: i64,
    /// What the story said.
    pub wrong: String,
    /// What is right.
    pub right: String,
}

/// A matched passage's place in a hit's `snippet`: characters (Unicode code points) from
/// `start` up to, not including, `end`.
#[derive(Serialize, ToSchema)]
pub struct Highlight {
    /// First character matched.
    pub start: usize,
    /// Character after the last one matched.
    pub end: usize,
}

/// A story found by a search.
#[derive(Serialize, ToSchema)]
pub struct SearchHitOut {
    /// Id.
    pub id: i64,
    /// Current URL segment.
    pub slug: String,
    /// Canonical address of its page.
    pub url: String,
    /// Headline.
    pub headline: String,
    /// Summary.
    pub summary: String,
    /// Kind.
    pub kind: String,
    /// Sector.
    pub sector: Named,
    /// Bylines.
    pub authors: Vec<Named>,
    /// When it became public (RFC 3339).
    pub published_at: Option<String>,
    /// A passage of the body around the words found, plain text (not escaped); the summary
    /// when the body did not match.
    pub snippet: String,
    /// Where the words found are in `snippet`.
    pub highlights: Vec<Highlight>,
    /// The same passage as HTML: the text escaped, each highlight in `<mark>…</mark>`; safe
    /// to insert as it is.
    pub snippet_html: String,
}

/// A page of search results.
#[derive(Serialize, ToSchema)]
pub struct SearchOut {
    /// Stories matching in all, counted up to a cap (`[search] max_pages` × `per_page`, at
    /// least 1,000): when `more` is true there are more than this.
    pub total: usize,
    /// Whether the count stopped at its cap (every page there is to ask for is still inside it).
    pub more: bool,
    /// This page, from 1.
    pub page: usize,
    /// Pages there are to ask for (at most `[search] max_pages`).
    pub pages: usize,
    /// Pass as `page` for the next page; absent on the last.
    pub next_page: Option<usize>,
    /// Best first (relevance) or newest first.
    pub hits: Vec<SearchHitOut>,
    /// What the search left out (a long text cut, words beyond the limit), as sentences.
    pub notices: Vec<String>,
}

/// Result order of a search.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SearchOrder {
    /// Best match first (the default).
    Relevance,
    /// Newest publication first.
    Newest,
}

/// What to search for, and where.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// The words (a phrase in double quotes; `-word` leaves out stories with it). Cut to
    /// `[search] max_query_chars` characters and `[search] max_terms` words, with a notice.
    pub q: String,
    /// Sector slug.
    pub sector: Option<String>,
    /// Kind (`news`, `opinion`, `blog`, `interview`, `analysis`, `short`, `press-release`, or
    /// its listing's name such as `opinion`).
    pub kind: Option<String>,
    /// Edition slug (default: every edition).
    pub edition: Option<String>,
    /// Author slug.
    pub author: Option<String>,
    /// First day of publication (UTC), inclusive.
    #[param(format = Date)]
    pub from: Option<String>,
    /// Last day of publication (UTC), inclusive.
    #[param(format = Date)]
    pub to: Option<String>,
    /// `relevance` (default) or `newest`.
    #[param(inline)]
    pub order: Option<SearchOrder>,
    /// Page, 1 to `[search] max_pages` (50); `[search] per_page` hits each.
    #[param(minimum = 1)]
    pub page: Option<u32>,
}

/// Which listing, and where in it.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Edition slug (default: Global, every story).
    pub edition: Option<String>,
    /// Sector slug.
    pub sector: Option<String>,
    /// Kind (`news`, `opinion`, `blog`, `interview`, `analysis`, `short`, `press-release`).
    pub kind: Option<String>,
    /// Tag slug.
    pub tag: Option<String>,
    /// Author slug.
    pub author: Option<String>,
    /// Opaque cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Stories on the page: 1 to `[api] page_size_max` (100); `[api] page_size` (20) when absent.
    #[param(minimum = 1)]
    pub limit: Option<u32>,
}

/// Alt text and credits of an uploaded picture.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImageQuery {
    /// Alternative text (required).
    pub alt: String,
    /// Caption.
    pub caption: Option<String>,
    /// Credit.
    pub credit: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Answers.

fn problem(status: StatusCode, title: &str, detail: impl Into<String>) -> WebError {
    WebError::new(status, title, detail)
}

fn bad_request(detail: impl Into<String>) -> WebError {
    problem(StatusCode::BAD_REQUEST, "Bad request", detail)
}

fn from_fail(f: Fail) -> WebError {
    match f {
        Fail::NotFound => WebError::not_found(),
        Fail::BadRequest(why) => bad_request(why),
        Fail::Internal(cause) => {
            tracing::error!(%cause, "API answer failed");
            WebError::from(AppError::Internal(cause.into()))
        }
    }
}

fn json_rendered<T: Serialize>(
    policy: CachePolicy,
    value: &T,
    lm: Option<DateTime<Utc>>,
) -> Result<Rendered, WebError> {
    let body =
        serde_json::to_vec(value).map_err(|e| WebError::from(AppError::Internal(Box::new(e))))?;
    Ok(Rendered::new(
        StatusCode::OK,
        "application/json",
        policy,
        body,
        lm,
    ))
}

fn json_now<T: Serialize>(status: StatusCode, value: &T) -> Result<Response<Body>, WebError> {
    let body =
        serde_json::to_vec(value).map_err(|e| WebError::from(AppError::Internal(Box::new(e))))?;
    Ok(crate::respond::or_500(
        Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CACHE_CONTROL, "no-store")
            .body(Body::from(body)),
    ))
}

/// A public answer from the page cache, built on a miss with what it shows.
async fn cached<F>(
    st: &WebState,
    key: String,
    headers: &HeaderMap,
    build: F,
) -> Result<Response<Body>, WebError>
where
    F: FnOnce() -> Result<(Rendered, Vec<Dep>), Built>,
{
    let versions = &st.app.versions;
    let c = st
        .cache
        .get_or_build(
            &key,
            |s| versions.fresh(s),
            || async {
                let at = versions.now();
                let (r, mut deps) = build()?;
                deps.push(Dep::Site);
                let stamp = Stamp { at, deps };
                let r = r.with_keys(&stamp.keys()).compact();
                Ok::<_, Built>(Cached::new(Arc::new(r), stamp))
            },
        )
        .await;
    match c {
        Ok(c) => Ok(c.page.respond(headers)),
        Err(Built::Moved(to)) => Ok(crate::respond::or_500(
            Response::builder()
                .status(StatusCode::MOVED_PERMANENTLY)
                .header(header::LOCATION, to)
                .header(header::CACHE_CONTROL, CachePolicy::Redirect.header())
                .body(Body::empty()),
        )),
        Err(Built::Error(e)) => Err(e),
    }
}

/// Why a public answer was not built.
enum Built {
    Moved(String),
    Error(WebError),
}

impl From<WebError> for Built {
    fn from(e: WebError) -> Self {
        Built::Error(e)
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn base(st: &WebState) -> &str {
    st.app.site.base_url.trim_end_matches('/')
}

fn named(slug: &Slug, name: &str) -> Named {
    Named {
        slug: slug.to_string(),
        name: name.to_owned(),
    }
}

fn card_out(st: &WebState, snap: &newsdesk_app::Snapshot, c: &StoryCard) -> StoryCardOut {
    let tax = &snap.tax;
    StoryCardOut {
        id: c.id.0,
        slug: c.slug.to_string(),
        url: format!("{}/article/{}", base(st), c.slug),
        headline: c.headline.to_string(),
        summary: c.summary.clone(),
        kind: c.kind.as_str().to_owned(),
        sector: tax
            .sector(c.sector_id)
            .map(|s| named(&s.slug, &s.name))
            .unwrap_or(Named {
                slug: String::new(),
                name: String::new(),
            }),
        region: c.region.clone(),
        authors: c
            .author_ids
            .iter()
            .filter_map(|a| tax.author(*a))
            .map(|a| named(&a.slug, &a.name))
            .collect(),
        tags: c
            .tag_ids
            .iter()
            .filter_map(|t| tax.tag(*t))
            .map(|t| named(&t.slug, &t.name))
            .collect(),
        published_at: c.visible_from().map(rfc3339),
        updated_at: rfc3339(c.updated_at),
    }
}

fn story_out(st: &WebState, a: &newsdesk_app::Article) -> StoryOut {
    let snap = st.app.read();
    let tax = &snap.tax;
    let s = &a.story;
    StoryOut {
        id: s.id.0,
        slug: s.slug.to_string(),
        url: format!("{}/article/{}", base(st), s.slug),
        headline: s.headline.to_string(),
        summary: s.summary.clone(),
        kind: s.kind.as_str().to_owned(),
        sector: tax
            .sector(s.sector_id)
            .map(|x| named(&x.slug, &x.name))
            .unwrap_or(Named {
                slug: String::new(),
                name: String::new(),
            }),
        region: s.region.clone(),
        editions: s
            .placements
            .iter()
            .filter_map(|p| tax.edition(p.edition_id))
            .map(|e| e.slug.to_string())
            .collect(),
        authors: s
            .author_ids
            .iter()
            .filter_map(|x| tax.author(*x))
            .map(|x| named(&x.slug, &x.name))
            .collect(),
        desk: s
            .desk_id
            .and_then(|d| tax.desk(d))
            .map(|d| named(&d.slug, &d.name)),
        tags: s
            .tag_ids
            .iter()
            .filter_map(|x| tax.tag(*x))
            .map(|x| named(&x.slug, &x.name))
            .collect(),
        image: s
            .hero_image_id
            .and_then(|i| snap.images.get(&i))
            .map(|i| ImageOut {
                id: i.id.0,
                url: format!(
                    "{}{}",
                    base(st),
                    i.variant_path(i.widths.last().copied().unwrap_or(i.width))
                ),
                alt: i.alt.clone(),
                caption: i.caption.clone(),
                credit: i.credit.clone(),
                width: i.width,
                height: i.height,
            }),
        video_url: s.video.as_ref().map(|v| format!("{}/media/{v}", base(st))),
        provenance: s.provenance.as_str().to_owned(),
        source: s.source.clone(),
        published_at: s.visible_from().map(rfc3339),
        updated_at: rfc3339(s.updated_at),
        body_html: s.body_html.clone(),
        corrections: a
            .corrections
            .iter()
            .map(|c| CorrectionOut {
                at: rfc3339(c.at),
                wrong: c.wrong.clone(),
                right: c.right.clone(),
            })
            .collect(),
    }
}

fn newsroom_out(st: &WebState, s: &Story) -> NewsroomStoryOut {
    let snap = st.app.read();
    let tax = &snap.tax;
    NewsroomStoryOut {
        id: s.id.0,
        version: s.version,
        status: s.status.as_str().to_owned(),
        slug: s.slug.to_string(),
        headline: s.headline.to_string(),
        summary: s.summary.clone(),
        body_md: s.body_md.clone(),
        kind: s.kind.as_str().to_owned(),
        sector: tax
            .sector(s.sector_id)
            .map(|x| x.slug.to_string())
            .unwrap_or_default(),
        region: s.region.clone(),
        editions: s
            .placements
            .iter()
            .filter_map(|p| tax.edition(p.edition_id))
            .map(|e| e.slug.to_string())
            .collect(),
        tags: s
            .tag_ids
            .iter()
            .filter_map(|x| tax.tag(*x))
            .map(|x| x.name.clone())
            .collect(),
        authors: s
            .author_ids
            .iter()
            .filter_map(|x| tax.author(*x))
            .map(|x| x.slug.to_string())
            .collect(),
        desk: s
            .desk_id
            .and_then(|d| tax.desk(d))
            .map(|d| d.slug.to_string()),
        hero_image: s.hero_image_id.map(|i| i.0),
        source: s.source.clone(),
        embargo_until: s.embargo_until.map(rfc3339),
        published_at: s.published_at.map(rfc3339),
        updated_at: rfc3339(s.updated_at),
    }
}

// ---------------------------------------------------------------------------------------------
// Public content.

/// The query of a request as key/value pairs; keys not in `known` are a 400.
fn query_pairs(req_query: Option<&str>, known: &[&str]) -> Result<FormData, WebError> {
    let q = FormData::parse(req_query.unwrap_or("").as_bytes())
        .ok_or_else(|| bad_request("The query string is not valid UTF-8."))?;
    for (k, _) in &q.0 {
        if !known.contains(&k.as_str()) {
            return Err(bad_request(format!("Unknown query parameter {k:?}.")));
        }
    }
    for k in known {
        if q.all(k).len() > 1 {
            return Err(bad_request(format!("Give {k:?} once.")));
        }
    }
    Ok(q)
}

/// A listing: the home stream (no filter), an edition's, or one sector, kind, tag or author
/// (one at a time) within an edition; newest first, a page at a time by cursor.
#[utoipa::path(
    get,
    path = "/api/v1/stories",
    tag = "content",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of stories", body = StoryPage),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 400, description = "Bad parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such edition, sector, kind, tag or author", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn stories(
    State(st): State<Arc<WebState>>,
    req: Request,
) -> Result<Response<Body>, WebError> {
    let q = query_pairs(
        req.uri().query(),
        &[
            "edition", "sector", "kind", "tag", "author", "cursor", "limit",
        ],
    )?;
    let settings = st.app.api_settings();
    let limit = match q.get("limit") {
        "" => settings.page_size,
        l => match l.parse::<usize>() {
            Ok(n) if (1..=settings.page_size_max).contains(&n) => n,
            _ => {
                return Err(bad_request(format!(
                    "limit is a number from 1 to {}.",
                    settings.page_size_max
                )))
            }
        },
    };
    let cursor = match q.get("cursor") {
        "" => None,
        c => Some(ListCursor::decode(c).ok_or_else(|| bad_request("The cursor is not valid."))?),
    };
    let filters: Vec<ListingPath> = [
        ("sector", q.get("sector")),
        ("kind", q.get("kind")),
        ("tag", q.get("tag")),
        ("author", q.get("author")),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| match k {
        "sector" => Ok(ListingPath::Sector(v.to_owned())),
        // The API names kinds as stories do; the listing path uses the plural page name.
        "kind" => Kind::parse(v)
            .map(|k| ListingPath::Kind(k.listing_slug().to_owned()))
            .ok_or_else(WebError::not_found),
        "tag" => Ok(ListingPath::Tag(v.to_owned())),
        _ => Ok(ListingPath::Author(v.to_owned())),
    })
    .collect::<Result<_, WebError>>()?;
    if filters.len() > 1 {
        return Err(bad_request(
            "Give at most one of sector, kind, tag and author.",
        ));
    }
    let listing = filters.into_iter().next().unwrap_or(ListingPath::All);
    let edition = {
        let snap = st.app.read();
        match q.get("edition") {
            "" => snap.tax.global().cloned(),
            e => snap.tax.edition_by_slug(e).cloned(),
        }
        .ok_or_else(WebError::not_found)?
    };
    let key = format!(
        "api|list|{}|{}|{}|{limit}",
        edition.slug,
        listing.path(),
        cursor.map(|c| c.encode()).unwrap_or_default()
    );
    let headers = req.headers().clone();
    cached(&st, key, &headers, || {
        let snap = st.app.read();
        let now = st.app.now();
        let (filter, _, _) = resolve_listing(&snap, &listing, now).map_err(from_fail)?;
        let after = cursor.map(|c| (c.at, c.id));
        let mut cards: Vec<_> = snap
            .public_after(now, &edition, filter, after)
            .take(limit + 1)
            .collect();
        let more = cards.len() > limit;
        cards.truncate(limit);
        let next_cursor = if more {
            cards
                .last()
                .and_then(|c| ListCursor::after(c))
                .map(|c| c.encode())
        } else {
            None
        };
        let lm = cards.iter().map(|c| c.updated_at).max();
        let page = StoryPage {
            items: cards.iter().map(|c| card_out(&st, &snap, c)).collect(),
            next_cursor,
        };
        let policy = if matches!(listing, ListingPath::All) {
            CachePolicy::Front
        } else {
            CachePolicy::Listing
        };
        Ok((
            json_rendered(policy, &page, lm)?,
            vec![listing_dep(&edition, filter)],
        ))
    })
    .await
}

/// `/api/v1/stories/{id}`: a public story by id. The syndication forms, `{id}.ninjs.json` and
/// `{id}.newsml.xml`, go to [`crate::syndication`]; anything else but plain digits is a 404 problem.
#[utoipa::path(
    get,
    path = "/api/v1/stories/{id}",
    tag = "content",
    params(("id" = i64, Path, description = "Story id", minimum = 0)),
    responses(
        (status = 200, description = "The story", body = StoryOut),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 404, description = "No public story with this id", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn story_by_id(
    State(st): State<Arc<WebState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response<Body>, WebError> {
    // `N.ninjs.json` and `N.newsml.xml` share this route (the router cannot tell a suffix).
    if !id.bytes().all(|b| b.is_ascii_digit()) {
        return crate::syndication::by_file(State(st), Path(id), headers).await;
    }
    let id: StoryId = id.parse().map_err(|_| WebError::not_found())?;
    let key = format!("api|story|{id}");
    let versions = &st.app.versions;
    let c = st
        .cache
        .get_or_build(
            &key,
            |s| versions.fresh(s),
            || async {
                let at = versions.now();
                let a = st.app.public_article_by_id(id).await?;
                let r = json_rendered(
                    CachePolicy::Article,
                    &story_out(&st, &a),
                    Some(a.story.updated_at),
                )?;
                let stamp = Stamp {
                    at,
                    deps: vec![Dep::Story(id), Dep::Site],
                };
                let r = r.with_keys(&stamp.keys()).compact();
                Ok::<_, WebError>(Cached::new(Arc::new(r), stamp))
            },
        )
        .await?;
    Ok(c.page.respond(&headers))
}

/// A public story by its slug; an old slug answers 301 to the current one.
#[utoipa::path(
    get,
    path = "/api/v1/stories/by-slug/{slug}",
    tag = "content",
    params(("slug" = String, Path, description = "Story slug")),
    responses(
        (status = 200, description = "The story", body = StoryOut),
        (status = 301, description = "The story moved to a new slug (see Location)"),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 404, description = "No public story with this slug", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn story_by_slug(
    State(st): State<Arc<WebState>>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Result<Response<Body>, WebError> {
    let slug = Slug::parse(&slug).map_err(|_| WebError::not_found())?;
    let key = format!("api|slug|{slug}");
    let versions = &st.app.versions;
    let c = st
        .cache
        .get_or_build(
            &key,
            |s| versions.fresh(s),
            || async {
                let at = versions.now();
                match st.app.article(slug.as_str()).await {
                    Ok(ArticleLookup::Found(a)) => {
                        let r = json_rendered(
                            CachePolicy::Article,
                            &story_out(&st, &a),
                            Some(a.story.updated_at),
                        )?;
                        let stamp = Stamp {
                            at,
                            deps: vec![Dep::Story(a.story.id), Dep::Site],
                        };
                        let r = r.with_keys(&stamp.keys()).compact();
                        Ok(Cached::new(Arc::new(r), stamp))
                    }
                    Ok(ArticleLookup::Moved(to)) => {
                        Err(Built::Moved(format!("/api/v1/stories/by-slug/{to}")))
                    }
                    Err(e) => Err(Built::Error(e.into())),
                }
            },
        )
        .await;
    match c {
        Ok(c) => Ok(c.page.respond(&headers)),
        Err(Built::Moved(to)) => Ok(crate::respond::or_500(
            Response::builder()
                .status(StatusCode::MOVED_PERMANENTLY)
                .header(header::LOCATION, to)
                .header(header::CACHE_CONTROL, "no-store")
                .body(Body::empty()),
        )),
        Err(Built::Error(e)) => Err(e),
    }
}

/// The site's editions.
#[utoipa::path(
    get,
    path = "/api/v1/editions",
    tag = "content",
    responses(
        (status = 200, description = "Editions", body = EditionList),
        (status = 304, description = "Not modified (If-None-Match)")
    )
)]
pub async fn editions(
    State(st): State<Arc<WebState>>,
    headers: HeaderMap,
) -> Result<Response<Body>, WebError> {
    cached(&st, "api|editions".into(), &headers, || {
        let snap = st.app.read();
        let list = EditionList {
            items: snap
                .tax
                .editions
                .iter()
                .map(|e| EditionOut {
                    slug: e.slug.to_string(),
                    name: e.name.clone(),
                    time_zone: e.tz.name().to_owned(),
                    global: e.is_global(),
                })
                .collect(),
        };
        Ok((json_rendered(CachePolicy::Listing, &list, None)?, vec![]))
    })
    .await
}

/// The site's sectors.
#[utoipa::path(
    get,
    path = "/api/v1/sectors",
    tag = "content",
    responses(
        (status = 200, description = "Sectors", body = SectorList),
        (status = 304, description = "Not modified (If-None-Match)")
    )
)]
pub async fn sectors(
    State(st): State<Arc<WebState>>,
    headers: HeaderMap,
) -> Result<Response<Body>, WebError> {
    cached(&st, "api|sectors".into(), &headers, || {
        let snap = st.app.read();
        let list = SectorList {
            items: snap
                .tax
                .sectors
                .iter()
                .map(|s| named(&s.slug, &s.name))
                .collect(),
        };
        Ok((json_rendered(CachePolicy::Listing, &list, None)?, vec![]))
    })
    .await
}

/// The newest corrections of public stories.
#[utoipa::path(
    get,
    path = "/api/v1/corrections",
    tag = "content",
    responses(
        (status = 200, description = "Corrections, newest first", body = CorrectionList),
        (status = 304, description = "Not modified (If-None-Match)")
    )
)]
pub async fn corrections(
    State(st): State<Arc<WebState>>,
    headers: HeaderMap,
) -> Result<Response<Body>, WebError> {
    let versions = &st.app.versions;
    let n = st.app.api_settings().corrections_max;
    let c = st
        .cache
        .get_or_build(
            "api|corrections",
            |s| versions.fresh(s),
            || async {
                let at = versions.now();
                let list = st.app.recent_corrections(n).await?;
                let lm = list.iter().map(|(c, _)| c.at).max();
                let out = CorrectionList {
                    items: list
                        .iter()
                        .map(|(c, card)| CorrectionItem {
                            at: rfc3339(c.at),
                            wrong: c.wrong.clone(),
                            right: c.right.clone(),
                            story_id: card.id.0,
                            headline: card.headline.to_string(),
                            url: format!("{}/article/{}", base(&st), card.slug),
                        })
                        .collect(),
                };
                let r = json_rendered(CachePolicy::Listing, &out, lm)?;
                let stamp = Stamp {
                    at,
                    deps: vec![Dep::Corrections, Dep::Site],
                };
                let r = r.with_keys(&stamp.keys()).compact();
                Ok::<_, WebError>(Cached::new(Arc::new(r), stamp))
            },
        )
        .await?;
    Ok(c.page.respond(&headers))
}

/// Full-text search of the public stories: the `/search` page's use case (visibility decided
/// at the moment of the query, so an embargoed story is found from its second), as JSON.
/// Never stored in the page cache; the ETag still answers 304.
#[utoipa::path(
    get,
    path = "/api/v1/search",
    tag = "content",
    params(SearchQuery),
    responses(
        (status = 200, description = "A page of results", body = SearchOut),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 400, description = "No words, an unknown filter or parameter, a bad date or page", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The index is being built, or too many searches at once (see Retry-After)", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn search(
    State(st): State<Arc<WebState>>,
    req: Request,
) -> Result<Response<Body>, WebError> {
    use newsdesk_app::search::{SearchNotice, SearchRequest, SearchSort};
    let q = query_pairs(
        req.uri().query(),
        &[
            "q", "sector", "kind", "edition", "author", "from", "to", "order", "page",
        ],
    )?;
    let day = |k: &str| -> Result<Option<chrono::NaiveDate>, WebError> {
        match q.get(k).trim() {
            "" => Ok(None),
            d => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| bad_request(format!("{k} is a day like 2025-01-31."))),
        }
    };
    let (from, to) = (day("from")?, day("to")?);
    if let (Some(a), Some(b)) = (from, to) {
        if a > b {
            return Err(bad_request("from is after to."));
        }
    }
    let sort = match q.get("order") {
        "" | "relevance" => SearchSort::Relevance,
        "newest" => SearchSort::Newest,
        _ => return Err(bad_request("order is relevance or newest.")),
    };
    let page = match q.get("page") {
        "" => 1,
        p => p
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1_000_000).contains(n))
            .ok_or_else(|| bad_request("page is a whole number from 1."))?,
    };
    let opt = |k: &str| Some(q.get(k).trim().to_owned()).filter(|v| !v.is_empty());
    let request = SearchRequest {
        text: q.get("q").to_owned(),
        sector: opt("sector"),
        kind: opt("kind"),
        edition: opt("edition"),
        author: opt("author"),
        from,
        to,
        sort,
        page,
    };
    let res = st.app.search(&request).await?;
    let mut notices = Vec::new();
    for n in &res.notices {
        match n {
            SearchNotice::NothingToSearch => {
                return Err(bad_request("Give q, one or more words to search for."))
            }
            SearchNotice::UnknownFilter(what) => {
                return Err(bad_request(format!(
                    "The {what} named is not known; see /api/v1/sectors and /api/v1/editions."
                )))
            }
            SearchNotice::LastPage(n) => {
                return Err(bad_request(format!(
                    "page is a whole number from 1 to {n}."
                )))
            }
            SearchNotice::DatesReversed => return Err(bad_request("from is after to.")),
            SearchNotice::NotReady | SearchNotice::Busy => {
                let e = problem(StatusCode::SERVICE_UNAVAILABLE, "Try again", n.to_string());
                let wait = if *n == SearchNotice::Busy { "2" } else { "30" };
                return Ok(crate::respond::or_500(
                    Response::builder()
                        .status(e.status)
                        .header(header::CONTENT_TYPE, "application/problem+json")
                        .header(header::CACHE_CONTROL, "no-store")
                        .header(header::RETRY_AFTER, wait)
                        .body(Body::from(e.problem().to_string())),
                ));
            }
            SearchNotice::Shortened(_) | SearchNotice::TooManyWords(_) => {
                notices.push(n.to_string())
            }
        }
    }
    let snap = st.app.read();
    let hits = res
        .hits
        .iter()
        .map(|h| {
            let c = card_out(&st, &snap, &h.card);
            let (snippet, highlights, snippet_html) = if h.snippet.text.is_empty() {
                let html = newsdesk_domain::text::escape_html(&c.summary);
                (c.summary.clone(), Vec::new(), html)
            } else {
                let t = &h.snippet.text;
                (
                    t.clone(),
                    char_ranges(t, &h.snippet.marks),
                    crate::search::marked(t, &h.snippet.marks),
                )
            };
            SearchHitOut {
                id: c.id,
                slug: c.slug,
                url: c.url,
                headline: c.headline,
                summary: c.summary,
                kind: c.kind,
                sector: c.sector,
                authors: c.authors,
                published_at: c.published_at,
                snippet,
                highlights,
                snippet_html,
            }
        })
        .collect();
    drop(snap);
    let out = SearchOut {
        total: res.total,
        more: res.more,
        page: res.page,
        pages: res.pages,
        next_page: (res.total > 0 && res.page < res.pages).then_some(res.page + 1),
        hits,
        notices,
    };
    Ok(json_rendered(CachePolicy::NoStore, &out, None)?.respond(req.headers()))
}

/// Byte ranges of `text` as character ranges, leaving out those `marked` leaves out (out of
/// order, overlapping, out of range, not on a character boundary).
fn char_ranges(text: &str, marks: &[(usize, usize)]) -> Vec<Highlight> {
    let mut out = Vec::new();
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
        let start = text[..a].chars().count();
        out.push(Highlight {
            start,
            end: start + text[a..b].chars().count(),
        });
        at = b;
    }
    out
}

/// A public story as IPTC ninjs 2.2 (served by [`crate::syndication`]; this documents it).
#[utoipa::path(
    get,
    path = "/api/v1/stories/{id}.ninjs.json",
    tag = "content",
    params(("id" = i64, Path, description = "Story id", minimum = 0)),
    responses(
        (status = 200, description = "The story as a ninjs 2.2 document; a story taken down since is a withheld or canceled item with no content", body = Object, content_type = "application/ninjs+json"),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 404, description = "No public story with this id (drafts, scheduled and embargoed stories too)", body = Problem, content_type = "application/problem+json")
    )
)]
#[allow(dead_code)]
fn ninjs_doc() {}

/// A public story as a NewsML-G2 `newsItem` (served by [`crate::syndication`]; this documents it).
#[utoipa::path(
    get,
    path = "/api/v1/stories/{id}.newsml.xml",
    tag = "content",
    params(("id" = i64, Path, description = "Story id", minimum = 0)),
    responses(
        (status = 200, description = "The story as a NewsML-G2 newsItem; a story taken down since is a withheld or canceled item with no content", body = String, content_type = "application/vnd.iptc.g2.newsitem+xml"),
        (status = 304, description = "Not modified (If-None-Match)"),
        (status = 404, description = "No public story with this id (drafts, scheduled and embargoed stories too)", body = Problem, content_type = "application/problem+json")
    )
)]
#[allow(dead_code)]
fn newsml_doc() {}

async fn not_found() -> WebError {
    WebError::not_found()
}

async fn method_not_allowed() -> WebError {
    problem(
        StatusCode::METHOD_NOT_ALLOWED,
        "Method not allowed",
        "This address does not take that method.",
    )
}

// ---------------------------------------------------------------------------------------------
// Token requests.

/// The caller of a token request, checked before its body is read. An unknown, expired or
/// revoked token (or a disabled owner) is a 401; over the rate limit, a 429.
pub async fn caller(st: &WebState, headers: &HeaderMap) -> Result<ApiCaller, WebError> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    match st.app.api_caller(bearer).await {
        Ok(c) => Ok(c),
        Err(AppError::Forbidden | AppError::NotFound) => Err(problem(
            StatusCode::UNAUTHORIZED,
            "Not authenticated",
            "Send a live API token as `Authorization: Bearer …`.",
        )),
        Err(AppError::RateLimited) => Err(problem(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests",
            "This token made too many requests this minute; wait and try again.",
        )),
        Err(e) => Err(e.into()),
    }
}

/// A use case's refusal, as a token request is told it.
fn refused(e: AppError) -> WebError {
    match e {
        AppError::Forbidden => problem(
            StatusCode::FORBIDDEN,
            "Not allowed",
            "This token's scopes or its owner's role do not allow this.",
        ),
        AppError::Invalid(fields) => problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid story",
            fields
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        other => other.into(),
    }
}

/// Reads a JSON body of at most `[api] body_max_bytes` (refusing a larger declared length at
/// once) and parses it.
async fn json_body<T: serde::de::DeserializeOwned>(
    st: &WebState,
    req: Request,
) -> Result<T, WebError> {
    let limit = st.app.api_settings().body_max_bytes;
    let bytes = body_bytes(req, limit, Some("application/json")).await?;
    serde_json::from_slice(&bytes).map_err(|e| {
        problem(
            StatusCode::BAD_REQUEST,
            "Bad JSON",
            format!("The body is not the JSON this takes: {e}"),
        )
    })
}

fn too_large(limit: usize) -> WebError {
    problem(
        StatusCode::PAYLOAD_TOO_LARGE,
        "Too large",
        format!("The body is larger than {limit} bytes."),
    )
}

async fn body_bytes(
    req: Request,
    limit: usize,
    content_type: Option<&str>,
) -> Result<Bytes, WebError> {
    if let Some(want) = content_type {
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let essence = ct.split(';').next().unwrap_or("").trim();
        if !essence.eq_ignore_ascii_case(want) {
            return Err(problem(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported media type",
                format!("Send the body as {want}."),
            ));
        }
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    read_body(req.into_body(), limit)
        .await
        .map_err(|e| match e {
            BodyError::TooLarge => too_large(limit),
            BodyError::TimedOut => problem(
                StatusCode::REQUEST_TIMEOUT,
                "Too slow",
                "The body did not arrive in time.",
            ),
            BodyError::Broken => bad_request("The body could not be read."),
        })
}

fn story_id(id: &str) -> Result<StoryId, WebError> {
    id.parse().map_err(|_| WebError::not_found())
}

/// A story as the newsroom sees it, whatever its status.
#[utoipa::path(
    get,
    path = "/api/v1/newsroom/stories/{id}",
    tag = "newsroom",
    security(("token" = [])),
    params(("id" = i64, Path, description = "Story id", minimum = 0)),
    responses(
        (status = 200, description = "The story", body = NewsroomStoryOut),
        (status = 401, description = "No live token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Scope `read_drafts` missing, or the owner may not open it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such story", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Over the token's rate limit", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn newsroom_story(
    State(st): State<Arc<WebState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response<Body>, WebError> {
    let who = caller(&st, &headers).await?;
    let id = story_id(&id)?;
    let s = st.app.api_story(&who, id).await.map_err(refused)?;
    json_now(StatusCode::OK, &newsroom_out(&st, &s))
}

/// Starts a draft.
#[utoipa::path(
    post,
    path = "/api/v1/newsroom/stories",
    tag = "newsroom",
    security(("token" = [])),
    request_body = StoryIn,
    responses(
        (status = 201, description = "The draft", body = NewsroomStoryOut),
        (status = 400, description = "Not JSON, or not this JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No live token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Scope `write_stories` missing, or the owner's role does not allow it", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The story does not validate", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Over the token's rate limit", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn create_story(
    State(st): State<Arc<WebState>>,
    req: Request,
) -> Result<Response<Body>, WebError> {
    let st = &*st;
    token_json(
        st,
        req,
        "",
        Some(ApiScope::WriteStories),
        StatusCode::CREATED,
        |who, (), body: StoryIn| async move {
            let s = st
                .app
                .api_create_story(&who, &body.form())
                .await
                .map_err(refused)?;
            Ok(newsroom_out(st, &s))
        },
    )
    .await
}

/// Saves a story at `version` (refused with 409 when someone saved it since).
#[utoipa::path(
    put,
    path = "/api/v1/newsroom/stories/{id}",
    tag = "newsroom",
    security(("token" = [])),
    params(("id" = i64, Path, description = "Story id", minimum = 0)),
    request_body = StoryIn,
    responses(
        (status = 200, description = "The story as saved", body = NewsroomStoryOut),
        (status = 400, description = "Not JSON, not this JSON, or no version", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No live token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Scope `write_stories` missing, or the owner may not edit it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such story", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since that version", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The story does not validate", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Over the token's rate limit", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn update_story(
    State(st): State<Arc<WebState>>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response<Body>, WebError> {
    let st = &*st;
    token_json(
        st,
        req,
        &id,
        Some(ApiScope::WriteStories),
        StatusCode::OK,
        |who, id: StoryId, body: StoryIn| async move {
            let version = body
                .version
                .ok_or_else(|| bad_request("Give the version you are updating."))?;
            let s = st
                .app
                .api_save_story(&who, id, version, &body.form())
                .await
                .map_err(refused)?;
            Ok(newsroom_out(st, &s))
        },
    )
    .await
}

/// Moves a story along the workflow.
#[utoipa::path(
    post,
    path = "/api/v1/newsroom/stories/{id}/transitions",
    tag = "newsroom",
    security(("token" = [])),
    params(("id" = i64, Path, description = "Story id", minimum = 0)),
    request_body = TransitionIn,
    responses(
        (status = 200, description = "The story after the step", body = NewsroomStoryOut),
        (status = 400, description = "Not JSON, not this JSON, or an unknown step", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No live token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Scope (`write_stories` to submit or send back, `publish` for the rest) or role does not allow it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such story", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since that version, or the step does not apply", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Refused (a time in the past, an agency embargo)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Over the token's rate limit", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn transition(
    State(st): State<Arc<WebState>>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response<Body>, WebError> {
    let st = &*st;
    // The scope depends on the step: the use case checks it (with the role).
    token_json(
        st,
        req,
        &id,
        None,
        StatusCode::OK,
        |who, id: StoryId, body: TransitionIn| async move {
            let step = Transition::parse(&body.step).ok_or_else(|| {
                bad_request("step is submit, send-back, publish, schedule, unpublish or kill.")
            })?;
            let at = match body.at.as_deref() {
                None | Some("") => None,
                Some(t) => Some(
                    DateTime::parse_from_rfc3339(t)
                        .map_err(|_| bad_request("at is an RFC 3339 time."))?
                        .with_timezone(&Utc),
                ),
            };
            let s = st
                .app
                .api_transition(&who, id, body.version, step, at)
                .await
                .map_err(refused)?;
            Ok(newsroom_out(st, &s))
        },
    )
    .await
}

/// Adds a correction to a published story.
#[utoipa::path(
    post,
    path = "/api/v1/newsroom/stories/{id}/corrections",
    tag = "newsroom",
    security(("token" = [])),
    params(("id" = i64, Path, description = "Story id", minimum = 0)),
    request_body = CorrectionIn,
    responses(
        (status = 201, description = "The correction", body = CorrectionOut),
        (status = 400, description = "Not JSON, or not this JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No live token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Scope `publish` missing, or the owner's role does not allow it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such story", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Changed since that version, or not published", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty or too long", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Over the token's rate limit", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn add_correction(
    State(st): State<Arc<WebState>>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response<Body>, WebError> {
    let st = &*st;
    token_json(
        st,
        req,
        &id,
        Some(ApiScope::Publish),
        StatusCode::CREATED,
        |who, id: StoryId, body: CorrectionIn| async move {
            let c = st
                .app
                .api_correct(&who, id, body.version, &body.wrong, &body.right)
                .await
                .map_err(refused)?;
            Ok(CorrectionOut {
                at: rfc3339(c.at),
                wrong: c.wrong,
                right: c.right,
            })
        },
    )
    .await
}

/// Uploads a picture (JPEG, PNG or WebP as the raw body), to use as a story's hero.
#[utoipa::path(
    post,
    path = "/api/v1/newsroom/images",
    tag = "newsroom",
    security(("token" = [])),
    params(ImageQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The picture's bytes"),
    responses(
        (status = 201, description = "The picture", body = ImageOut),
        (status = 400, description = "Bad parameters", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No live token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Scope `write_stories` missing, or the owner's role may not upload", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a picture newsdesk takes, or bad alt text", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Over the token's rate limit", body = Problem, content_type = "application/problem+json")
    )
)]
pub async fn upload_image(
    State(st): State<Arc<WebState>>,
    req: Request,
) -> Result<Response<Body>, WebError> {
    let who = caller(&st, req.headers()).await?;
    st.app.api_may_upload(&who).map_err(refused)?;
    let q = query_pairs(req.uri().query(), &["alt", "caption", "credit"])?;
    let (alt, caption, credit) = (
        q.get("alt").to_owned(),
        q.get("caption").to_owned(),
        q.get("credit").to_owned(),
    );
    let limit = st.app.api_settings().upload_max_bytes;
    let bytes = body_bytes(req, limit, None).await?;
    let i = st
        .app
        .api_upload_image(
            &who,
            bytes.to_vec(),
            &alt,
            &caption,
            &credit,
            &*st.media.store,
        )
        .await
        .map_err(refused)?;
    json_now(
        StatusCode::CREATED,
        &ImageOut {
            id: i.id.0,
            url: format!(
                "{}{}",
                base(&st),
                i.variant_path(i.widths.last().copied().unwrap_or(i.width))
            ),
            alt: i.alt.clone(),
            caption: i.caption.clone(),
            credit: i.credit.clone(),
            width: i.width,
            height: i.height,
        },
    )
}

/// What a token request's path names: nothing, or a story (plain digits, else a 404).
trait PathTarget: Sized {
    fn read(raw: &str) -> Result<Self, WebError>;
}

impl PathTarget for () {
    fn read(_: &str) -> Result<(), WebError> {
        Ok(())
    }
}

impl PathTarget for StoryId {
    fn read(raw: &str) -> Result<StoryId, WebError> {
        story_id(raw)
    }
}

/// A token request with a JSON body, checked in the one order every such request is: the
/// token (401, 429), the path's story id (404), the scope the operation needs whatever its body
/// says (403, before a byte of the body is read; the use case checks it again with the role),
/// the body within `[api] body_max_bytes` (413, 415, 400); then `run` (the use case, whose
/// refusals become problems) and its answer as JSON with `status`, never cached.
async fn token_json<'a, I, B, T, F, Fut>(
    st: &'a WebState,
    req: Request,
    path: &str,
    scope: Option<ApiScope>,
    status: StatusCode,
    run: F,
) -> Result<Response<Body>, WebError>
where
    I: PathTarget,
    B: serde::de::DeserializeOwned,
    T: Serialize,
    F: FnOnce(ApiCaller, I, B) -> Fut,
    Fut: std::future::Future<Output = Result<T, WebError>> + 'a,
{
    let who = caller(st, req.headers()).await?;
    let target = I::read(path)?;
    if let Some(scope) = scope {
        need(&who, scope)?;
    }
    let body: B = json_body(st, req).await?;
    let out = run(who, target, body).await?;
    json_now(status, &out)
}

/// A scope check that comes before the body is read (the use case checks it again, with the role).
fn need(who: &ApiCaller, scope: ApiScope) -> Result<(), WebError> {
    newsdesk_app::App::api_scope(who, scope).map_err(refused)
}
