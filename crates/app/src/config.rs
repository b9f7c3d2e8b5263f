//! Site settings the use cases and pages need.

use serde::{Deserialize, Serialize};

/// What the publisher configures about the site itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SiteConfig {
    /// Site name, used in titles, feeds and the footer.
    pub name: String,
    /// One line under the name, used as the feed description.
    pub tagline: String,
    /// Public address of the site, without a trailing slash; absolute links in feeds, sitemaps,
    /// canonical links and JSON-LD start with it.
    pub base_url: String,
    /// Language of the content (BCP 47).
    pub language: String,
    /// Contact e-mail shown in the footer.
    pub contact_email: String,
    /// Holder named in the copyright line.
    pub copyright_holder: String,
    /// The publisher's own LinkedIn page, shown under CONNECT on every page; empty (the
    /// default) hides the link.
    pub linkedin_url: String,
    /// The publisher's Quora profile or space (empty: hidden).
    pub quora_url: String,
    /// The publisher's YouTube channel (empty: hidden).
    pub youtube_url: String,
    /// Stories per listing page.
    pub page_size: usize,
    /// Half-life of a page view in the trending score, in hours.
    pub trending_half_life_hours: f64,
    /// Stories in a trending list.
    pub trending_size: usize,
    /// How often counted views are flushed to the database and trending is recomputed, in seconds.
    pub views_flush_seconds: u64,
    /// A reader's view of a story counts once per client (keyed hash of address and User-Agent)
    /// in a window this long, in minutes.
    pub views_window_minutes: u64,
    /// Most counted views one client adds per window, across stories.
    pub views_per_client_window: u32,
    /// Most (client, story) pairs remembered per window (up to about 50 bytes each); when full, views
    /// of pairs not seen yet are not counted until the window ends.
    pub views_seen_max: usize,
    /// At most how often an edition's side rail is re-rendered for a trending change alone, in
    /// seconds (0: at every change). Each re-render re-assembles every page of the edition.
    pub trending_refresh_seconds: u64,
    /// Whether editors and admins must log in with a one-time code (TOTP) as well.
    pub require_totp_for_editors: bool,
    /// Password checks and hashes (Argon2, 19 MiB each) run at once; 0 = one per CPU core.
    /// Logins beyond it wait up to two seconds, then are told to try again later.
    pub password_checks_at_once: usize,
}

impl SiteConfig {
    /// The per-client view limits these settings give.
    pub fn view_limits(&self) -> crate::audience::ViewLimits {
        crate::audience::ViewLimits {
            window: chrono::Duration::minutes(
                i64::try_from(self.views_window_minutes.clamp(1, 7 * 24 * 60)).unwrap_or(30),
            ),
            per_client: self.views_per_client_window.max(1),
            seen_max: self.views_seen_max,
        }
    }
}

impl Default for SiteConfig {
    fn default() -> Self {
        Self {
            name: "newsdesk".into(),
            tagline: "Development news from every region".into(),
            base_url: "http://127.0.0.1:8080".into(),
            language: "en".into(),
            contact_email: "desk@newsdesk.example".into(),
            copyright_holder: "newsdesk".into(),
            linkedin_url: String::new(),
            quora_url: String::new(),
            youtube_url: String::new(),
            page_size: 20,
            trending_half_life_hours: 6.0,
            trending_size: 10,
            views_flush_seconds: 2,
            views_window_minutes: 30,
            views_per_client_window: 20,
            views_seen_max: 200_000,
            trending_refresh_seconds: 30,
            require_totp_for_editors: false,
            password_checks_at_once: 0,
        }
    }
}
