//! View models: everything a template prints, computed beforehand as plain strings, so templates
//! only loop and print (and askama escapes every value unless marked safe).

use crate::cache::Deflated;
use crate::paths::{edition_prefix, FeedFormat};
use newsdesk_app::purge::{Dep, Stamp};
use newsdesk_app::{App, Snapshot};
use newsdesk_domain::*;
use newsdesk_render::truncate_words;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Characters a title may take in side lists before it is cut at a word.
pub const RAIL_TITLE_CHARS: usize = 72;

/// A link in a menu or footer.
#[derive(Debug, Clone)]
pub struct NavLink {
    /// Visible text.
    pub label: String,
    /// Target.
    pub href: String,
    /// Whether it is the page being shown.
    pub current: bool,
}

/// A picture with its responsive variants.
#[derive(Debug, Clone)]
pub struct Picture {
    /// Default source (middle width).
    pub src: String,
    /// `srcset` with width descriptors.
    pub srcset: String,
    /// Intrinsic width of `src`.
    pub width: u32,
    /// Intrinsic height of `src`.
    pub height: u32,
    /// Alternative text.
    pub alt: String,
    /// Caption.
    pub caption: String,
    /// Credit.
    pub credit: String,
}

impl Picture {
    /// Builds the picture of an image; `prefer` picks the default width.
    pub fn of(img: &Image, prefer: u32) -> Picture {
        let w = img
            .widths
            .iter()
            .copied()
            .filter(|w| *w <= prefer)
            .max()
            .or_else(|| img.widths.first().copied())
            .unwrap_or(img.width);
        Picture {
            src: img.variant_path(w),
            srcset: img
                .widths
                .iter()
                .map(|w| format!("{} {}w", img.variant_path(*w), w))
                .collect::<Vec<_>>()
                .join(", "),
            width: w,
            height: img.height_for(w),
            alt: img.alt.clone(),
            caption: img.caption.clone(),
            credit: img.credit.clone(),
        }
    }
}

/// A story in a list.
#[derive(Debug, Clone)]
pub struct Item {
    /// Link to the story in the current edition.
    pub href: String,
    /// Headline, cut for side lists.
    pub title: String,
    /// Whole headline (for `title` attributes when cut).
    pub full_title: String,
    /// Kind label ("Opinion") if the kind has one.
    pub kind_label: String,
    /// Region label ("Global", "Kenya").
    pub region: String,
    /// Sector name.
    pub sector: String,
    /// Summary.
    pub summary: String,
    /// Byline text.
    pub byline: String,
    /// Publication time in the edition's zone.
    pub time: String,
    /// ISO time for `<time datetime>`.
    pub time_iso: String,
    /// Thumbnail.
    pub picture: Option<Picture>,
}

/// A side-list block.
#[derive(Debug, Clone)]
pub struct Block {
    /// Heading ("OPINION").
    pub title: String,
    /// Link to the full listing.
    pub more_href: String,
    /// HTML id for `aria-labelledby`.
    pub id: String,
    /// Stories.
    pub items: Vec<Item>,
    /// Their ids (empty where nothing depends on them).
    pub ids: Vec<StoryId>,
}

/// The right-hand rail every page shows.
#[derive(Debug, Clone)]
pub struct Rail {
    /// Trending, numbered.
    pub trending: Vec<Item>,
    /// Opinion, blog and interview blocks.
    pub columns: Vec<Block>,
    /// Short videos.
    pub shorts: Block,
    /// Latest news.
    pub latest: Block,
}

/// The links at the foot of the rail.
#[derive(Debug, Clone)]
pub struct RailLinks {
    /// Feedback link.
    pub feedback_href: String,
    /// Newsletter link.
    pub newsletter_href: String,
    /// Social links.
    pub social: Vec<NavLink>,
}

/// The rail on its own, rendered once per edition and change.
#[derive(askama::Template)]
#[template(path = "_rail.html")]
struct RailTemplate {
    r: Rail,
    l: RailLinks,
}

/// A rendered rail and the stories its excludable lists show.
pub struct RailPart {
    stamp: Stamp,
    built: chrono::DateTime<chrono::Utc>,
    trending: Arc<Vec<StoryId>>,
    html: RailHtml,
    shown: Vec<StoryId>,
    /// The rail without one of `shown`, for that story's own page (at most `shown.len()`).
    variants: Mutex<HashMap<StoryId, RailHtml>>,
}

/// A rail's HTML and the same compressed, to be joined into pages' gzip as it is.
#[derive(Clone)]
pub struct RailHtml {
    /// The HTML.
    pub html: Arc<str>,
    /// The HTML compressed on its own.
    pub gz: Arc<Deflated>,
}

impl RailHtml {
    fn new(html: String) -> Self {
        // Made once per change and joined into every article response until the next: the best
        // level (it is not on a page's miss path).
        let gz = Arc::new(Deflated::new(&html, flate2::Compression::best()));
        RailHtml {
            html: Arc::from(html),
            gz,
        }
    }
}

impl RailPart {
    fn variant(&self, id: StoryId) -> Option<RailHtml> {
        self.variants
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned()
    }

    fn keep_variant(&self, id: StoryId, html: RailHtml) {
        self.variants
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, html);
    }
}

/// Where an article page's own path goes in its edition's frame (the edition links).
const PATH_MARK: &str = "\u{1}path\u{1}";
/// Where the story's part goes in the frame.
const MAIN_MARK: &str = "<!--newsdesk:main-->";
/// Where the rail goes in the frame.
const RAIL_MARK: &str = "<!--newsdesk:rail-->";

/// The chrome that every article page of an edition shows around its own pieces, rendered once
/// per change of what it shows (the site's menus and footer, the date line) and shared: the
/// page's own head and path go in per page ([`ArticleFrame::top`], [`PageHead`]); the footer is
/// compressed once, at the best level, and joined into every response as it is.
pub struct ArticleFrame {
    stamp: Stamp,
    /// Rendered again after this time (the date line, the zone's name, the year move).
    until: chrono::DateTime<chrono::Utc>,
    /// Names the frame's text: an article page made with another is stale.
    pub id: u64,
    /// The chrome after `</head>` up to the story, cut where the page's own path goes.
    top: Vec<String>,
    /// From the end of the story's part and related stories to the rail.
    pub between: String,
    /// After the rail to the end of the page, compressed.
    pub foot: Deflated,
    /// `between` compressed once (best level).
    pub between_gz: Deflated,
    site_name: String,
    lang: String,
    css_href: String,
    feeds: Vec<FeedLink>,
}

/// The values of an article page's `<head>` (the fields the head template prints, named as
/// [`Chrome`]'s).
pub struct PageHead<'a> {
    /// Content language.
    pub lang: &'a str,
    /// `<title>`.
    pub title: String,
    /// Meta description.
    pub description: &'a str,
    /// Absolute canonical URL.
    pub canonical: String,
    /// Site name.
    pub site_name: &'a str,
    /// Open Graph.
    pub og: &'a OpenGraph,
    /// The edition's feeds.
    pub feeds: &'a [FeedLink],
    /// Never for an article.
    pub noindex: bool,
    /// Stylesheet URL.
    pub css_href: &'a str,
    /// JSON-LD documents.
    pub jsonld: &'a [String],
}

impl ArticleFrame {
    /// Cuts a page rendered with the marks; `None` if the template no longer has them in order.
    fn cut(
        text: &str,
        c: &Chrome,
        stamp: Stamp,
        until: chrono::DateTime<chrono::Utc>,
    ) -> Option<ArticleFrame> {
        let (_, rest) = text.split_once("</head>")?;
        let (top, rest) = rest.split_once(MAIN_MARK)?;
        let (between, foot) = rest.split_once(RAIL_MARK)?;
        if between.contains(PATH_MARK) || foot.contains(PATH_MARK) {
            return None;
        }
        let id = xxhash_rust::xxh3::xxh3_64(
            [
                text,
                &c.site_name,
                &c.lang,
                &c.css_href,
                &c.feeds
                    .iter()
                    .map(|f| format!("{}\u{1}{}\u{1}{}", f.title, f.href, f.mime))
                    .collect::<String>(),
            ]
            .join("\u{0}")
            .as_bytes(),
        );
        let best = flate2::Compression::best();
        Some(ArticleFrame {
            stamp,
            until,
            id,
            top: top.split(PATH_MARK).map(str::to_owned).collect(),
            between_gz: Deflated::new(between, best),
            between: between.to_owned(),
            foot: Deflated::new(foot, best),
            site_name: c.site_name.clone(),
            lang: c.lang.clone(),
            css_href: c.css_href.clone(),
            feeds: c.feeds.clone(),
        })
    }

    /// The chrome from `</head>` to the story, with the page's own path in the edition links.
    pub fn top(&self, path: &str) -> String {
        let mut out = String::new();
        self.write_top(&mut out, path);
        out
    }

    /// [`ArticleFrame::top`] written at the end of `out`.
    pub fn write_top(&self, out: &mut String, path: &str) {
        use askama::filters::Escaper;
        let mut esc = String::with_capacity(path.len() + 8);
        let _ = askama::filters::Html.write_escaped_str(&mut esc, path);
        out.reserve(self.top.iter().map(String::len).sum::<usize>() + self.top.len() * esc.len());
        for (i, seg) in self.top.iter().enumerate() {
            if i > 0 {
                out.push_str(&esc);
            }
            out.push_str(seg);
        }
    }

    /// The head values of a page titled `title` (as [`Ctx::chrome`] makes them).
    pub fn head<'a>(
        &'a self,
        title: &str,
        description: &'a str,
        canonical: String,
        og: &'a OpenGraph,
        jsonld: &'a [String],
    ) -> PageHead<'a> {
        PageHead {
            lang: &self.lang,
            title: if title.is_empty() {
                self.site_name.clone()
            } else {
                format!("{title} | {}", self.site_name)
            },
            description,
            canonical,
            site_name: &self.site_name,
            og,
            feeds: &self.feeds,
            noindex: false,
            css_href: &self.css_href,
            jsonld,
        }
    }
}

/// The current rail of each edition (one entry per edition), and its article frame.
#[derive(Default)]
pub struct Rails {
    map: Mutex<HashMap<EditionId, Arc<RailPart>>>,
    renders: AtomicU64,
    frames: Mutex<HashMap<EditionId, Arc<ArticleFrame>>>,
    frame_renders: AtomicU64,
}

impl Rails {
    fn get(&self, edition: EditionId) -> Option<Arc<RailPart>> {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&edition)
            .cloned()
    }

    fn put(&self, edition: EditionId, part: RailPart) -> Arc<RailPart> {
        self.renders.fetch_add(1, Ordering::Relaxed);
        let part = Arc::new(part);
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(edition, part.clone());
        part
    }

    /// Rails rendered so far (all editions, not counting variants).
    pub fn renders(&self) -> u64 {
        self.renders.load(Ordering::Relaxed)
    }

    /// Article frames rendered so far (all editions).
    pub fn frame_renders(&self) -> u64 {
        self.frame_renders.load(Ordering::Relaxed)
    }

    fn frame(&self, edition: EditionId) -> Option<Arc<ArticleFrame>> {
        self.frames
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&edition)
            .cloned()
    }
}

/// An alternate-format link in `<head>`.
#[derive(Debug, Clone)]
pub struct FeedLink {
    /// Title.
    pub title: String,
    /// Absolute URL.
    pub href: String,
    /// Media type.
    pub mime: &'static str,
}

/// Open Graph values.
#[derive(Debug, Clone, Default)]
pub struct OpenGraph {
    /// `og:type`.
    pub kind: String,
    /// `og:image` (absolute).
    pub image: String,
    /// `article:published_time`.
    pub published: String,
    /// `article:modified_time`.
    pub modified: String,
    /// `article:section`.
    pub section: String,
}

/// Everything around a page's main content.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// Site name.
    pub site_name: String,
    /// Content language.
    pub lang: String,
    /// `<title>`.
    pub title: String,
    /// Meta description.
    pub description: String,
    /// Absolute canonical URL.
    pub canonical: String,
    /// Open Graph.
    pub og: OpenGraph,
    /// JSON-LD documents, already escaped for `<script>`.
    pub jsonld: Vec<String>,
    /// Feeds of this page.
    pub feeds: Vec<FeedLink>,
    /// Stylesheet URL (carries a content hash).
    pub css_href: String,
    /// "Friday, 27 November 2026".
    pub date_line: String,
    /// Current edition name.
    pub edition_name: String,
    /// Current edition time-zone abbreviation.
    pub edition_zone: String,
    /// Home of the current edition.
    pub home_href: String,
    /// Edition switch: this page in every edition.
    pub editions: Vec<NavLink>,
    /// Sectors menu (in the current edition).
    pub sectors: Vec<NavLink>,
    /// Kinds menu.
    pub kinds: Vec<NavLink>,
    /// The side rail's HTML (shared by the edition's pages), or empty.
    pub rail_html: Arc<str>,
    /// Footer: sectors (Global edition).
    pub footer_sectors: Vec<NavLink>,
    /// Footer: edition homes.
    pub footer_editions: Vec<NavLink>,
    /// Footer: static pages.
    pub pages: Vec<NavLink>,
    /// Footer: feeds, sitemap and archive.
    pub other_links: Vec<NavLink>,
    /// Social links.
    pub social: Vec<NavLink>,
    /// Feedback link.
    pub feedback_href: String,
    /// Newsletter link.
    pub newsletter_href: String,
    /// Contact e-mail.
    pub contact_email: String,
    /// "© 2026 newsdesk. All rights reserved."
    pub copyright: String,
    /// Legal links (Disclaimer, Terms of use, Privacy Policy) for the bottom line.
    pub legal: Vec<NavLink>,
    /// The edition's search page (the left menu's form).
    pub search_href: String,
    /// Text shown in the menu's search box.
    pub search_q: String,
    /// `<meta name="robots" content="noindex">`.
    pub noindex: bool,
}

/// Shared inputs for building view models of one request.
pub struct Ctx<'a> {
    /// The app.
    pub app: &'a App,
    /// The read model, held for this page.
    pub snap: &'a Snapshot,
    /// The edition being shown.
    pub edition: &'a Edition,
    /// "" or "/south-asia".
    pub prefix: String,
    /// Now.
    pub now: chrono::DateTime<chrono::Utc>,
    /// Stylesheet URL.
    pub css_href: &'a str,
    /// The rendered side rails.
    pub rails: &'a Rails,
}

impl<'a> Ctx<'a> {
    /// Absolute URL of a site path.
    pub fn abs(&self, path: &str) -> String {
        format!("{}{}", self.app.site.base_url.trim_end_matches('/'), path)
    }

    /// Home of the current edition.
    pub fn home_href(&self) -> String {
        if self.prefix.is_empty() {
            "/".to_owned()
        } else {
            self.prefix.clone()
        }
    }

    /// Link to a story in the current edition.
    pub fn story_href(&self, slug: &Slug) -> String {
        format!("{}/article/{}", self.prefix, slug)
    }

    /// Byline text: people first, else the desk, else the site's desk.
    pub fn byline(&self, desk: Option<DeskId>, authors: &[AuthorId]) -> String {
        let names: Vec<&str> = authors
            .iter()
            .filter_map(|a| self.snap.tax.author(*a))
            .map(|a| a.name.as_str())
            .collect();
        if !names.is_empty() {
            return join_names(&names);
        }
        desk.and_then(|d| self.snap.tax.desk(d))
            .map(|d| d.name.clone())
            .unwrap_or_else(|| format!("{} News Desk", self.app.site.name))
    }

    /// A list item for a card.
    pub fn item(&self, c: &StoryCard, cut: usize, with_picture: bool) -> Item {
        let full = c.headline.as_str().to_owned();
        let t = c.visible_from().unwrap_or(c.updated_at);
        Item {
            href: self.story_href(&c.slug),
            title: truncate_words(&full, cut).into_owned(),
            full_title: full,
            kind_label: c.kind.headline_label().unwrap_or("").to_owned(),
            region: c.region.clone(),
            sector: self
                .snap
                .tax
                .sector(c.sector_id)
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            summary: c.summary.clone(),
            byline: self.byline(c.desk_id, &c.author_ids),
            time: time::stamp(t, self.edition.tz),
            time_iso: t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            picture: if with_picture {
                c.hero_image_id
                    .and_then(|i| self.snap.images.get(&i))
                    .map(|i| Picture::of(i, 480))
            } else {
                None
            },
        }
    }

    /// Items for many cards.
    pub fn items(&self, cards: &[Arc<StoryCard>], cut: usize, with_picture: bool) -> Vec<Item> {
        cards
            .iter()
            .map(|c| self.item(c, cut, with_picture))
            .collect()
    }

    /// The publisher's profile links that are set (an unset one is not shown), then the
    /// edition's RSS feed, which is always there.
    pub fn social(&self) -> Vec<NavLink> {
        let site = &self.app.site;
        let mut social = Vec::new();
        for (label, url) in [
            ("LinkedIn", &site.linkedin_url),
            ("Quora", &site.quora_url),
            ("YouTube", &site.youtube_url),
        ] {
            if !url.is_empty() {
                social.push(NavLink {
                    label: label.into(),
                    href: url.clone(),
                    current: false,
                });
            }
        }
        social.push(NavLink {
            label: "RSS".into(),
            href: format!("{}/feed.rss", self.prefix),
            current: false,
        });
        social
    }

    /// The right rail's HTML for this edition; `except` leaves one story out of its lists.
    /// Rendered once per edition and change, and shared by every page of the edition; a page
    /// whose own story is in the rail gets a variant without it (made once, kept with the rail).
    pub fn rail_html(&self, except: Option<StoryId>) -> Result<Arc<str>, askama::Error> {
        Ok(self.rail_part(except)?.html)
    }

    /// [`Ctx::rail_html`] with the HTML compressed beforehand.
    pub fn rail_part(&self, except: Option<StoryId>) -> Result<RailHtml, askama::Error> {
        self.rail_of(&*self.current_rail()?, except)
    }

    /// The rail `part` (a current rail of this edition) as a page shows it: without its own
    /// story `except` if the rail shows it.
    pub fn rail_of(
        &self,
        part: &RailPart,
        except: Option<StoryId>,
    ) -> Result<RailHtml, askama::Error> {
        match except {
            Some(id) if part.shown.contains(&id) => {
                if let Some(v) = part.variant(id) {
                    return Ok(v);
                }
                let v = RailHtml::new(self.render_rail(self.rail(Some(id)))?);
                part.keep_variant(id, v.clone());
                Ok(v)
            }
            _ => Ok(part.html.clone()),
        }
    }

    /// The edition's rail as it should be now: rebuilt if the edition's stories, the site or
    /// its trending list changed. When the rebuilt rail differs, `Dep::Rail` of the edition
    /// moves, so the pages that show it are rebuilt (and only then).
    pub fn current_rail(&self) -> Result<Arc<RailPart>, askama::Error> {
        let versions = &self.app.versions;
        let trending = self.app.audience.list(self.edition.id);
        let old = self.rails.get(self.edition.id);
        if let Some(p) = &old {
            // A trending change alone waits `trending_refresh_seconds` since the last render.
            let refresh = chrono::Duration::seconds(
                i64::try_from(self.app.site.trending_refresh_seconds.min(31_536_000)).unwrap_or(0),
            );
            if versions.fresh(&p.stamp)
                && (Arc::ptr_eq(&p.trending, &trending)
                    || p.trending == trending
                    || self.now < p.built + refresh)
            {
                return Ok(p.clone());
            }
        }
        let mut deps = vec![
            Dep::Site,
            newsdesk_app::purge::listing_dep(self.edition, newsdesk_app::Filter::All),
        ];
        deps.extend(trending.iter().map(|id| Dep::Story(*id)));
        let stamp = versions.stamp(deps);
        let rail = self.rail(None);
        let shown = rail
            .columns
            .iter()
            .chain([&rail.shorts, &rail.latest])
            .flat_map(|b| b.ids.iter().copied())
            .collect();
        let html = self.render_rail(rail)?;
        if old.as_ref().is_some_and(|o| *o.html.html != *html) {
            versions.bump(&[Dep::Rail(self.edition.id)]);
        }
        Ok(self.rails.put(
            self.edition.id,
            RailPart {
                stamp,
                built: self.now,
                trending,
                html: RailHtml::new(html),
                shown,
                variants: Mutex::default(),
            },
        ))
    }

    /// The edition's article frame as it should be now: rendered again when the site changed
    /// (`Dep::Site`) or the hour turned (the date line); kept, with its id, when its text is the
    /// same. `None` if the article template lost the marks it is cut at.
    pub fn current_frame(&self) -> Result<Option<Arc<ArticleFrame>>, askama::Error> {
        use askama::Template;
        let versions = &self.app.versions;
        let old = self.rails.frame(self.edition.id);
        if let Some(f) = &old {
            if self.now < f.until && versions.fresh(&f.stamp) {
                return Ok(Some(f.clone()));
            }
        }
        let stamp = versions.stamp(vec![Dep::Site]);
        let hour = self.now.timestamp().rem_euclid(3600);
        let until = self.now + chrono::Duration::seconds(3600 - hour);
        let mut c = self.chrome("", "", PATH_MARK, PATH_MARK);
        c.rail_html = Arc::from(RAIL_MARK);
        let text = crate::pages::ArticlePage {
            c: c.clone(),
            main: MAIN_MARK,
        }
        .render()?;
        self.rails.frame_renders.fetch_add(1, Ordering::Relaxed);
        let Some(frame) = ArticleFrame::cut(&text, &c, stamp, until) else {
            return Ok(None);
        };
        let frame = Arc::new(frame);
        self.rails
            .frames
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(self.edition.id, frame.clone());
        Ok(Some(frame))
    }

    fn render_rail(&self, r: Rail) -> Result<String, askama::Error> {
        use askama::Template;
        RailTemplate {
            r,
            l: RailLinks {
                newsletter_href: format!("/newsletter/subscribe?edition={}", self.edition.slug),
                feedback_href: "/feedback".into(),
                social: self.social(),
            },
        }
        .render()
    }

    /// The right rail for this edition; `except` leaves one story out of its lists.
    pub fn rail(&self, except: Option<StoryId>) -> Rail {
        let size = self.app.site.trending_size;
        let trending_ids = self.app.audience.list(self.edition.id);
        let mut trending: Vec<Arc<StoryCard>> = trending_ids
            .iter()
            .filter_map(|id| self.snap.public_card(*id, self.now))
            .collect();
        if trending.is_empty() {
            // A new site has no views yet: show the edition's top stories instead of nothing.
            trending = self.snap.top_stories(self.now, self.edition, size);
        }
        trending.truncate(size);
        let keep = |v: Vec<Arc<StoryCard>>| -> Vec<Arc<StoryCard>> {
            v.into_iter().filter(|c| Some(c.id) != except).collect()
        };
        let block = |kind: Kind, title: &str, n: usize, pic: bool| {
            let cards: Vec<Arc<StoryCard>> = keep(self.snap.latest(
                self.now,
                self.edition,
                newsdesk_app::Filter::Kind(kind),
                n + 1,
            ))
            .into_iter()
            .take(n)
            .collect();
            Block {
                title: title.to_owned(),
                more_href: format!("{}/kind/{}", self.prefix, kind.listing_slug()),
                id: format!("rail-{}", kind.listing_slug()),
                items: self.items(&cards, RAIL_TITLE_CHARS, pic),
                ids: cards.iter().map(|c| c.id).collect(),
            }
        };
        let latest_cards: Vec<Arc<StoryCard>> =
            keep(
                self.snap
                    .latest(self.now, self.edition, newsdesk_app::Filter::All, 9),
            )
            .into_iter()
            .take(8)
            .collect();
        Rail {
            trending: self.items(&trending, RAIL_TITLE_CHARS, false),
            columns: vec![
                block(Kind::Opinion, "OPINION", 3, false),
                block(Kind::Blog, "BLOG", 3, false),
                block(Kind::Interview, "INTERVIEW", 3, false),
            ],
            shorts: block(Kind::Short, "Shorts", 4, true),
            latest: Block {
                title: "Latest News".into(),
                more_href: format!("{}/kind/news", self.prefix),
                id: "rail-latest".into(),
                items: self.items(&latest_cards, RAIL_TITLE_CHARS, false),
                ids: latest_cards.iter().map(|c| c.id).collect(),
            },
        }
    }

    /// The chrome of a page. `path_in_edition` is the page's path below the edition prefix
    /// (starting with '/', or "" for home), used for the edition switch and the canonical link.
    pub fn chrome(
        &self,
        title: &str,
        description: &str,
        path_in_edition: &str,
        canonical_path: &str,
    ) -> Chrome {
        let site = &self.app.site;
        let tax = &self.snap.tax;
        let editions = tax
            .editions
            .iter()
            .map(|e| {
                let p = edition_prefix(e);
                let href = format!("{p}{path_in_edition}");
                NavLink {
                    label: e.name.clone(),
                    href: if href.is_empty() { "/".into() } else { href },
                    current: e.id == self.edition.id,
                }
            })
            .collect();
        let home_href = if self.prefix.is_empty() {
            "/".to_owned()
        } else {
            self.prefix.clone()
        };
        let sectors = tax
            .sectors
            .iter()
            .map(|s| NavLink {
                label: s.name.clone(),
                href: format!("{}/sector/{}", self.prefix, s.slug),
                current: path_in_edition == format!("/sector/{}", s.slug),
            })
            .collect();
        let kinds = Kind::ALL
            .iter()
            .map(|k| NavLink {
                label: k.plural_label().to_owned(),
                href: format!("{}/kind/{}", self.prefix, k.listing_slug()),
                current: path_in_edition == format!("/kind/{}", k.listing_slug()),
            })
            .collect();
        let footer_sectors = tax
            .sectors
            .iter()
            .map(|s| NavLink {
                label: s.name.clone(),
                href: format!("/sector/{}", s.slug),
                current: false,
            })
            .collect();
        let footer_editions = tax
            .editions
            .iter()
            .map(|e| {
                let p = edition_prefix(e);
                NavLink {
                    label: e.name.clone(),
                    href: if p.is_empty() { "/".into() } else { p },
                    current: false,
                }
            })
            .collect();
        let pages: Vec<NavLink> = self
            .snap
            .pages
            .iter()
            .map(|p| NavLink {
                label: p.title.clone(),
                href: format!("/{}", p.slug),
                current: false,
            })
            .collect();
        let legal = pages
            .iter()
            .filter(|p| {
                ["/disclaimer", "/terms-of-use", "/privacy-policy"].contains(&p.href.as_str())
            })
            .cloned()
            .collect();
        let social = self.social();
        let year = self.now.with_timezone(&self.edition.tz).format("%Y");
        Chrome {
            search_href: format!("{}/search", self.prefix),
            search_q: String::new(),
            noindex: false,
            site_name: site.name.clone(),
            lang: site.language.clone(),
            title: if title.is_empty() {
                site.name.clone()
            } else {
                format!("{title} | {}", site.name)
            },
            description: description.to_owned(),
            canonical: self.abs(if canonical_path.is_empty() {
                "/"
            } else {
                canonical_path
            }),
            og: OpenGraph {
                kind: "website".into(),
                ..Default::default()
            },
            jsonld: Vec::new(),
            feeds: vec![
                feed_link(
                    self,
                    "",
                    FeedFormat::Rss,
                    &format!("{} {}", site.name, self.edition.name),
                ),
                feed_link(
                    self,
                    "",
                    FeedFormat::Atom,
                    &format!("{} {}", site.name, self.edition.name),
                ),
                feed_link(
                    self,
                    "",
                    FeedFormat::Json,
                    &format!("{} {}", site.name, self.edition.name),
                ),
            ],
            css_href: self.css_href.to_owned(),
            date_line: time::date_line(self.now, self.edition.tz),
            edition_name: self.edition.name.clone(),
            edition_zone: self
                .now
                .with_timezone(&self.edition.tz)
                .format("%Z")
                .to_string(),
            home_href,
            editions,
            sectors,
            kinds,
            rail_html: Arc::from(""),
            footer_sectors,
            footer_editions,
            pages,
            other_links: vec![
                NavLink {
                    label: "RSS feed".into(),
                    href: "/feed.rss".into(),
                    current: false,
                },
                NavLink {
                    label: "Atom feed".into(),
                    href: "/feed.atom".into(),
                    current: false,
                },
                NavLink {
                    label: "JSON Feed".into(),
                    href: "/feed.json".into(),
                    current: false,
                },
                NavLink {
                    label: "Sitemap".into(),
                    href: "/sitemap.xml".into(),
                    current: false,
                },
                NavLink {
                    label: "Archive".into(),
                    href: format!("/archive/{}", self.now.format("%Y/%m")),
                    current: false,
                },
            ],
            social,
            newsletter_href: format!("/newsletter?edition={}", self.edition.slug),
            feedback_href: "/feedback".into(),
            contact_email: site.contact_email.clone(),
            copyright: format!("© {year} {}. All rights reserved.", site.copyright_holder),
            legal,
        }
    }
}

/// A `<link rel=alternate>` for a listing's feed.
pub fn feed_link(ctx: &Ctx<'_>, listing_path: &str, f: FeedFormat, title: &str) -> FeedLink {
    let sep = if listing_path.is_empty() { "" } else { "/" };
    FeedLink {
        title: format!("{title} ({})", f.label()),
        href: ctx.abs(&format!("{}/{listing_path}{sep}{}", ctx.prefix, f.file())),
        mime: match f {
            FeedFormat::Rss => "application/rss+xml",
            FeedFormat::Atom => "application/atom+xml",
            FeedFormat::Json => "application/feed+json",
        },
    }
}

/// "A", "A and B", "A, B and C".
pub fn join_names(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {}", init.join(", "), last),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_join() {
        assert_eq!(join_names(&["A"]), "A");
        assert_eq!(join_names(&["A", "B"]), "A and B");
        assert_eq!(join_names(&["A", "B", "C"]), "A, B and C");
    }
}
