//! Page templates (askama) and the view structs only they use.

use crate::views::{Block, Chrome, FeedLink, Item, NavLink, Picture};
use askama::Template;

/// The article page: chrome around the story's part, rendered beforehand.
#[derive(Template)]
#[template(path = "article.html")]
pub struct ArticlePage<'a> {
    /// Chrome.
    pub c: Chrome,
    /// The `<article>` element.
    pub main: &'a str,
}

/// An article page's `<head>`, rendered per page (the rest of its chrome is the edition's
/// [`crate::views::ArticleFrame`], shared by its article pages).
#[derive(Template)]
#[template(path = "_head.html")]
pub struct ArticleHead<'a> {
    /// The head's values.
    pub c: crate::views::PageHead<'a>,
}

/// The story's own part of its page (the `<article>` element).
#[derive(Template)]
#[template(path = "_article.html")]
pub struct ArticleBody<'a> {
    /// The story.
    pub a: ArticleView<'a>,
}

/// An article's related stories, rendered when its page is assembled (they change with the
/// tag and sector lists, the story part does not).
#[derive(Template)]
#[template(path = "_related.html")]
pub struct RelatedList<'a> {
    /// Related stories.
    pub related: Vec<RelatedItem<'a>>,
}

/// What the related list prints of a story (not a whole [`Item`]: a page miss makes five).
pub struct RelatedItem<'a> {
    /// Link to the story in the current edition.
    pub href: String,
    /// Headline, cut as in side lists.
    pub title: std::borrow::Cow<'a, str>,
    /// Region label.
    pub region: &'a str,
}

/// What the article template prints.
pub struct ArticleView<'a> {
    /// Kind name (CSS class).
    pub kind: &'static str,
    /// "Opinion" etc., or empty.
    pub kind_label: &'static str,
    /// Headline.
    pub headline: &'a str,
    /// Summary.
    pub summary: &'a str,
    /// Byline links (people or desk).
    pub bylines: Vec<NavLink>,
    /// Updated time in the edition zone.
    pub updated: String,
    /// ISO form.
    pub updated_iso: String,
    /// First publication in the edition zone.
    pub created: String,
    /// ISO form.
    pub created_iso: String,
    /// Hero image (the poster when there is a video).
    pub picture: Option<Picture>,
    /// URL of the short's video, or empty.
    pub video_src: String,
    /// Its media type.
    pub video_type: &'static str,
    /// Sanitised body (rendered when saved), borrowed from the story (not copied per miss).
    pub body_html: &'a str,
    /// Provenance line or empty.
    pub provenance: String,
    /// Source attribution or empty.
    pub source: String,
    /// Tag links.
    pub tags: Vec<NavLink>,
    /// Breadcrumb trail.
    pub crumbs: Vec<NavLink>,
    /// Public corrections, oldest first.
    pub corrections: Vec<CorrectionView>,
}

/// A correction as the story page shows it.
pub struct CorrectionView {
    /// When, edition zone.
    pub when: String,
    /// ISO form.
    pub when_iso: String,
    /// The text.
    pub text: String,
}

/// The site-wide corrections page.
#[derive(Template)]
#[template(path = "corrections.html")]
pub struct CorrectionsPage {
    /// Chrome.
    pub c: Chrome,
    /// Corrections, newest first.
    pub items: Vec<CorrectionItem>,
}

/// A correction in the site-wide list.
pub struct CorrectionItem {
    /// Story link.
    pub href: String,
    /// Story headline.
    pub headline: String,
    /// When.
    pub when: String,
    /// ISO form.
    pub when_iso: String,
    /// Text.
    pub text: String,
}

/// A home page (Global or an edition).
#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    /// Chrome.
    pub c: Chrome,
    /// Content.
    pub h: HomeView,
}

/// What the home template prints.
pub struct HomeView {
    /// Hidden page heading.
    pub heading: String,
    /// The lead story.
    pub lead: Option<Item>,
    /// The other top stories.
    pub top: Vec<Item>,
    /// Latest stories.
    pub latest: Vec<Item>,
    /// One block per sector.
    pub sectors: Vec<Block>,
}

/// A listing page.
#[derive(Template)]
#[template(path = "listing.html")]
pub struct ListingPage {
    /// Chrome.
    pub c: Chrome,
    /// Content.
    pub l: ListingView,
}

/// What the listing template prints.
pub struct ListingView {
    /// Heading.
    pub heading: String,
    /// Line under the heading.
    pub intro: String,
    /// Stories.
    pub items: Vec<Item>,
    /// This page.
    pub page: usize,
    /// Number of pages.
    pub pages: usize,
    /// Newer page link or empty.
    pub prev_href: String,
    /// Older page link or empty.
    pub next_href: String,
    /// Feeds of the listing.
    pub feeds: Vec<FeedLink>,
}

/// A static page.
#[derive(Template)]
#[template(path = "page.html")]
pub struct StaticPageView {
    /// Chrome.
    pub c: Chrome,
    /// Content.
    pub p: PageView,
}

/// What the static-page template prints.
pub struct PageView {
    /// Title.
    pub title: String,
    /// Sanitised body.
    pub body_html: String,
    /// Last update, edition zone.
    pub updated: String,
    /// ISO form.
    pub updated_iso: String,
}

/// The error page (404, 400, 500) in the site's design.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// Chrome.
    pub c: Chrome,
    /// Content.
    pub e: ErrorView,
}

/// What the error template prints.
pub struct ErrorView {
    /// Heading.
    pub heading: String,
    /// Explanation.
    pub message: String,
}

/// The search page.
#[derive(Template)]
#[template(path = "search.html")]
pub struct SearchPage {
    /// Chrome.
    pub c: Chrome,
    /// Content.
    pub s: SearchView,
}

/// What the search template prints (filter options: `href` is the value, `current` chosen).
pub struct SearchView {
    /// Where the form goes (the edition's `/search`).
    pub action: String,
    /// The text typed.
    pub q: String,
    /// Sector options.
    pub sectors: Vec<NavLink>,
    /// Kind options.
    pub kinds: Vec<NavLink>,
    /// Edition options.
    pub editions: Vec<NavLink>,
    /// Author options.
    pub authors: Vec<NavLink>,
    /// First day as typed.
    pub from: String,
    /// Last day as typed.
    pub to: String,
    /// Newest first chosen.
    pub newest: bool,
    /// What the reader is told.
    pub messages: Vec<String>,
    /// Stories matching (counted up to a cap).
    pub total: usize,
    /// More than `total` match.
    pub more: bool,
    /// Whether there are results to count.
    pub shown: bool,
    /// Hits: the card and the snippet as HTML (escaped, with `<mark>`).
    pub items: Vec<(Item, String)>,
    /// This page.
    pub page: usize,
    /// Pages.
    pub pages: usize,
    /// Previous page or empty.
    pub prev_href: String,
    /// Next page or empty.
    pub next_href: String,
}
