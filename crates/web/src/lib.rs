//! The HTTP face of newsdesk: the reader site, feeds, sitemaps and assets (axum).
//!
//! A handler never talks to the database: it asks `app` for read models and use cases, renders a
//! template, and serves the bytes from the page cache with a cache policy.

pub mod api;
pub mod api_v1;
pub mod assets;
pub mod cache;
pub mod error;
pub mod feedback;
pub mod feeds;
pub mod forms;
pub mod listing;
pub mod metrics;
pub mod newsletter;
pub mod newsroom;
pub mod pages;
pub mod paths;
pub mod reader;
pub mod respond;
pub mod search;
pub mod server;
pub mod syndication;
pub mod views;

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use newsdesk_app::App;
use std::path::PathBuf;
use std::sync::Arc;

/// The page cache's byte budget unless configured (`[cache] max_bytes`).
pub const DEFAULT_CACHE_BYTES: u64 = 256 * 1024 * 1024;

/// What every handler shares.
pub struct WebState {
    /// Use cases and read model.
    pub app: Arc<App>,
    /// Rendered pages (three quarters of the byte budget).
    pub cache: cache::PageCache,
    /// Articles' own parts, shared by the pages that show them (a quarter of the budget).
    pub parts: cache::PageCache<reader::ArticlePart>,
    /// Folder uploads are spooled to before `app` takes them; with the default backend, also
    /// where media files are stored.
    pub media_dir: PathBuf,
    /// Where media files are stored and read from (`[media] backend`), streams bounded.
    pub media: assets::MediaFiles,
    /// Whether responses carry `Strict-Transport-Security` ([`HSTS`]).
    pub hsts: bool,
    /// The side rail of each edition, rendered once per change.
    pub rails: views::Rails,
    /// Request counts and times.
    pub metrics: metrics::Metrics,
    /// Who may read `/metrics`.
    pub metrics_exposure: metrics::Exposure,
}

/// The `Strict-Transport-Security` value: browsers keep to HTTPS for the site for a year.
/// Subdomains are left out: they may not be the site's.
pub const HSTS: &str = "max-age=31536000";

impl WebState {
    /// State for `app`, serving media from `media_dir`, with the default page-cache budget; HSTS
    /// is on when the site's `base_url` is https.
    pub fn new(app: Arc<App>, media_dir: PathBuf) -> Arc<Self> {
        let hsts = app
            .site
            .base_url
            .trim()
            .to_ascii_lowercase()
            .starts_with("https://");
        Self::with_hsts(app, media_dir, hsts)
    }

    /// As [`WebState::new`], with HSTS on or off as given.
    pub fn with_hsts(app: Arc<App>, media_dir: PathBuf, hsts: bool) -> Arc<Self> {
        Self::configured(
            app,
            media_dir,
            hsts,
            DEFAULT_CACHE_BYTES,
            metrics::Exposure::Off,
        )
    }

    /// State with every setting given: HSTS, the page-cache budget, and who may read `/metrics`;
    /// media files in `media_dir`.
    pub fn configured(
        app: Arc<App>,
        media_dir: PathBuf,
        hsts: bool,
        max_bytes: u64,
        metrics_exposure: metrics::Exposure,
    ) -> Arc<Self> {
        let media = assets::MediaFiles::new(
            Arc::new(newsdesk_media::LocalFolder::new(media_dir.clone())),
            assets::DEFAULT_MEDIA_STREAMS,
        );
        Self::with_media(app, media_dir, media, hsts, max_bytes, metrics_exposure)
    }

    /// As [`WebState::configured`], with media files in `media` (uploads still spooled to
    /// `media_dir`).
    pub fn with_media(
        app: Arc<App>,
        media_dir: PathBuf,
        media: assets::MediaFiles,
        hsts: bool,
        max_bytes: u64,
        metrics_exposure: metrics::Exposure,
    ) -> Arc<Self> {
        Arc::new(Self {
            app,
            cache: cache::PageCache::new(max_bytes / 4 * 3),
            parts: cache::PageCache::new(max_bytes / 4),
            media_dir,
            media,
            hsts,
            rails: views::Rails::default(),
            metrics: metrics::Metrics::default(),
            metrics_exposure,
        })
    }
}

/// The whole router: the newsroom's routes (`/newsroom`, [`newsroom::router`]), the machine
/// door (`/api`, [`api::router`]), and the reader site, whose hand-written path parser
/// (`paths.rs`) answers every other path, so that bad paths get the site's own error pages
/// rather than a framework's plain-text rejection.
pub fn router(state: Arc<WebState>) -> Router {
    Router::new()
        .merge(newsroom::router(state.clone()))
        .merge(api::router(state.clone()))
        .merge(newsletter::router())
        .merge(api_v1::router(state.clone()))
        .merge(feedback::router())
        .fallback(dispatch)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security_headers,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::observe,
        ))
        .with_state(state)
}

/// `/metrics` when it is served to this client; everything else (and `/metrics` when it is
/// not) goes to the site's dispatcher.
async fn dispatch(State(st): State<Arc<WebState>>, req: Request) -> Response {
    if req.uri().path() == "/metrics" {
        let peer = metrics::peer(&req);
        if let Some(r) = metrics::serve(&st, peer).await {
            return r;
        }
    }
    reader::dispatch(State(st), req).await
}

async fn security_headers(State(st): State<Arc<WebState>>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    cache::security_headers(res.headers_mut());
    if st.hsts {
        res.headers_mut()
            .entry(axum::http::header::STRICT_TRANSPORT_SECURITY)
            .or_insert(axum::http::HeaderValue::from_static(HSTS));
    }
    res
}
