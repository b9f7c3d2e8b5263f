//! Exports of other publishing systems read into one shape ([`Export`]): WordPress WXR 1.0–1.2
//! ([`wxr`]) and Ghost JSON exports v1–v5 ([`ghost`]). Pure parsing: what to make of it (stories,
//! accounts, redirects) is decided in `app`.

pub mod ghost;
pub mod html;
pub mod wxr;

use chrono::{DateTime, Utc};

/// Largest export read (bytes): beyond this the file is refused rather than held in memory.
pub const MAX_EXPORT_BYTES: usize = 512 * 1024 * 1024;

/// Why an export cannot be read at all. Nothing is imported from such a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportError {
    /// Not well-formed (XML or JSON), or truncated.
    Malformed(String),
    /// Well-formed, but not an export of the kind asked for.
    NotAnExport(String),
    /// A DOCTYPE declaring entities (entity expansion attacks are refused outright).
    Dtd,
    /// Too large.
    TooLarge,
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImportError::Malformed(m) => write!(f, "the file is not well-formed: {m}"),
            ImportError::NotAnExport(m) => write!(f, "not an export newsdesk can read: {m}"),
            ImportError::Dtd => write!(
                f,
                "the file declares XML entities (a DOCTYPE with an internal subset); refused"
            ),
            ImportError::TooLarge => write!(
                f,
                "the file is larger than {} MiB",
                MAX_EXPORT_BYTES / 1024 / 1024
            ),
        }
    }
}

impl std::error::Error for ImportError {}

/// A person who wrote in the old system.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceAuthor {
    /// The old system's key for them (WordPress login, Ghost user id).
    pub key: String,
    /// Display name.
    pub name: String,
    /// E-mail address, if the export has it.
    pub email: Option<String>,
    /// URL segment in the old system.
    pub slug: String,
}

/// A category or tag.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Term {
    /// URL segment (WordPress nicename, Ghost slug).
    pub slug: String,
    /// Display name.
    pub name: String,
}

/// Post or page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// A dated post: becomes a story.
    Post,
    /// A page: becomes a static page.
    Page,
}

/// Where an item was in the old system's workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemStatus {
    /// Public.
    Published,
    /// Draft, pending review, private, scheduled: not public there.
    NotPublic,
}

/// A post or page of the export.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SourceItem {
    /// The old system's id (WordPress post id, Ghost post id): the import remembers it.
    pub source_id: String,
    /// Post or page.
    pub kind: Option<ItemKind>,
    /// Public or not.
    pub status: Option<ItemStatus>,
    /// Title (may be empty).
    pub title: String,
    /// URL segment (may be empty).
    pub slug: String,
    /// Body as HTML (converted from the source format, not yet sanitised).
    pub html: String,
    /// Excerpt, plain text.
    pub excerpt: String,
    /// Keys of its authors ([`SourceAuthor::key`]), in order.
    pub authors: Vec<String>,
    /// Category slugs.
    pub categories: Vec<String>,
    /// Tag slugs.
    pub tags: Vec<String>,
    /// First publication (or creation) time.
    pub date: Option<DateTime<Utc>>,
    /// Last modification.
    pub modified: Option<DateTime<Utc>>,
    /// Its public address in the old system.
    pub link: Option<String>,
    /// Its featured image file, relative to the uploads folder (`2024/05/x.jpg`), when known.
    pub featured_image: Option<String>,
    /// Alternative text of the featured image.
    pub featured_alt: String,
    /// Why this item will not be imported, decided while reading (an attachment, a menu item).
    pub skip: Option<String>,
}

/// What an export holds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Export {
    /// The format and version ("WXR 1.2", "Ghost 4.1.0").
    pub format: String,
    /// The old site's address, if the export gives it.
    pub site_url: Option<String>,
    /// People.
    pub authors: Vec<SourceAuthor>,
    /// Categories (WordPress; Ghost has only tags).
    pub categories: Vec<Term>,
    /// Tags.
    pub tags: Vec<Term>,
    /// Posts and pages, and items that will be skipped (with the reason).
    pub items: Vec<SourceItem>,
}

impl Export {
    /// Posts and pages that are to be imported (not skipped).
    pub fn importable(&self) -> impl Iterator<Item = &SourceItem> {
        self.items.iter().filter(|i| i.skip.is_none())
    }
}

/// The path (and query, if any) of an old URL, as the reader site will be asked for it: the
/// key of its redirect. `None` for what is not an http(s) URL or a path.
pub fn old_path(link: &str) -> Option<String> {
    let l = link.trim();
    let rest = if let Some(r) = l
        .strip_prefix("https://")
        .or_else(|| l.strip_prefix("http://"))
    {
        let slash = r.find('/')?;
        &r[slash..]
    } else if l.starts_with('/') {
        l
    } else {
        return None;
    };
    let rest = rest.split('#').next().unwrap_or_default();
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == "/" || path.len() > 1024 || path.chars().any(char::is_control) {
        return None;
    }
    Some(path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_paths() {
        assert_eq!(
            old_path("https://example.com/2008/09/03/a-post/").as_deref(),
            Some("/2008/09/03/a-post/")
        );
        assert_eq!(old_path("http://x.org/?p=12"), None);
        assert_eq!(
            old_path("https://x.org/about#team").as_deref(),
            Some("/about")
        );
        assert_eq!(old_path("mailto:a@b"), None);
        assert_eq!(old_path("https://x.org"), None);
    }
}
