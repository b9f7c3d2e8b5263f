//! Content in and out of newsdesk in other systems' formats, as pure conversions (no I/O).
//!
//! Out: a published story as an IPTC **ninjs 2.2** document ([`ninjs`]) and as a **NewsML-G2**
//! `newsItem` ([`newsml`]), for partners and apps. The caller (`app`, through `web`) decides what
//! may be shown; a story taken down is carried as a withheld or canceled item with no content.

pub mod import;
pub mod newsml;
pub mod ninjs;

use chrono::{DateTime, Utc};
use newsdesk_domain::{Correction, Story};

/// The standards' publication status of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PubStatus {
    /// Public: may be used.
    Usable,
    /// Taken down for now (unpublished): do not use until a later version says so.
    Withheld,
    /// Killed: withdrawn for good, remove it.
    Canceled,
}

impl PubStatus {
    /// The ninjs value.
    pub fn ninjs(self) -> &'static str {
        match self {
            PubStatus::Usable => "usable",
            PubStatus::Withheld => "withheld",
            PubStatus::Canceled => "canceled",
        }
    }
    /// The NewsML-G2 QCode (IPTC scheme `stat`).
    pub fn qcode(self) -> &'static str {
        match self {
            PubStatus::Usable => "stat:usable",
            PubStatus::Withheld => "stat:withheld",
            PubStatus::Canceled => "stat:canceled",
        }
    }
}

/// Who publishes: the site's settings that go into every item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publisher {
    /// Site name (provider, copyright holder unless set).
    pub name: String,
    /// Absolute site address without a trailing slash.
    pub base_url: String,
    /// BCP 47 language of the site's stories.
    pub language: String,
    /// Copyright holder named in the rights information.
    pub copyright_holder: String,
}

/// A name with the address that identifies it (a sector, tag, author or desk page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    /// Display name.
    pub name: String,
    /// Absolute URI.
    pub uri: String,
}

/// An IPTC Media Topic carried by the copy a story is built on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaTopic {
    /// The eight-digit code (`20000210`).
    pub code: String,
    /// Its name where known.
    pub name: Option<String>,
}

impl MediaTopic {
    /// Reads `medtop:20000210` or `http(s)://cv.iptc.org/newscodes/mediatopic/20000210`; `None` for
    /// any other subject.
    pub fn parse(code: &str) -> Option<Self> {
        let c = code.trim();
        let digits = c
            .strip_prefix("medtop:")
            .or_else(|| c.strip_prefix("http://cv.iptc.org/newscodes/mediatopic/"))
            .or_else(|| c.strip_prefix("https://cv.iptc.org/newscodes/mediatopic/"))?;
        (digits.len() == 8 && digits.bytes().all(|b| b.is_ascii_digit())).then(|| MediaTopic {
            code: digits.to_string(),
            name: None,
        })
    }
    /// The topic's URI in the IPTC vocabulary.
    pub fn uri(&self) -> String {
        format!("http://cv.iptc.org/newscodes/mediatopic/{}", self.code)
    }
    /// The topic's QCode.
    pub fn qcode(&self) -> String {
        format!("medtop:{}", self.code)
    }
}

/// The hero picture of a story, as a rendition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    /// Absolute URL of the largest variant.
    pub href: String,
    /// Media type (`image/png`).
    pub mime: String,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// Alternative text.
    pub alt: String,
    /// Caption.
    pub caption: String,
    /// Credit line.
    pub credit: String,
}

/// Everything an item carries: the story (with its corrections and lineage) and the names its
/// ids stand for, resolved by the caller.
#[derive(Debug, Clone)]
pub struct Item {
    /// The story, whole (its content is left out unless `status` is usable).
    pub story: Story,
    /// Its public corrections, oldest first.
    pub corrections: Vec<Correction>,
    /// Usable, withheld or canceled.
    pub status: PubStatus,
    /// When this state began (the last change readers could see).
    pub version_created: DateTime<Utc>,
    /// The canonical page of the story.
    pub url: String,
    /// Its sector.
    pub sector: Option<Named>,
    /// Person bylines, in order.
    pub authors: Vec<Named>,
    /// Desk byline.
    pub desk: Option<Named>,
    /// Keywords.
    pub tags: Vec<Named>,
    /// Where it is about (its region, unless global).
    pub places: Vec<String>,
    /// Media Topics of the agency copy it is built on.
    pub topics: Vec<MediaTopic>,
    /// Links of the agency items it is built on.
    pub based_on: Vec<String>,
    /// Hero picture.
    pub picture: Option<Picture>,
}

impl Item {
    /// The item's global identifier: the story's address in the API, stable across slug changes.
    pub fn uri(&self, publisher: &Publisher) -> String {
        format!("{}/api/v1/stories/{}", publisher.base_url, self.story.id)
    }

    /// The natural-language byline: the authors' names, else the desk's.
    pub fn byline(&self) -> Option<String> {
        if !self.authors.is_empty() {
            let names: Vec<&str> = self.authors.iter().map(|a| a.name.as_str()).collect();
            return Some(names.join(", "));
        }
        self.desk.as_ref().map(|d| d.name.clone())
    }

    /// A correction's one-line public notice.
    pub fn correction_notice(c: &Correction) -> String {
        format!(
            "An earlier version of this story said: {} Correct: {}",
            c.wrong.trim(),
            c.right.trim()
        )
    }
}

/// Words in a plain text, for counts.
pub(crate) fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

/// The name of a story's kind as a genre.
pub(crate) fn genre_name(kind: newsdesk_domain::Kind) -> &'static str {
    kind.headline_label().unwrap_or(match kind {
        newsdesk_domain::Kind::Blog => "Blog",
        newsdesk_domain::Kind::Short => "Short",
        _ => "News",
    })
}
