//! Agency copy: one normalised wire item, whatever format it arrived in.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Whether an agency item may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WireStatus {
    /// Usable copy.
    Usable,
    /// The agency withdrew it (ninjs `withheld`, NewsML-G2 `stat:withheld`): stories built on it
    /// must be flagged.
    Withdrawn,
    /// The agency cancelled it (ninjs `canceled`, NewsML-G2 `stat:canceled`).
    Canceled,
}

/// A subject code carried by an item, e.g. IPTC Media Topic `medtop:20000763`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WireSubject {
    /// Qualified code (`medtop:04000000`), or the plain term when the feed has no scheme.
    pub code: String,
    /// Human name, when the item gives one.
    pub name: Option<String>,
}

/// A place an item is about or filed from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WirePlace {
    /// A code when given (ISO 3166 alpha-2 like `KE`, or a qualified code like `geo:345678`).
    pub code: Option<String>,
    /// Name ("Nairobi", "Kenya").
    pub name: Option<String>,
}

/// One piece of agency copy, normalised from RSS, Atom, JSON Feed, ninjs or NewsML-G2.
///
/// Identified by `agency` + `agency_id`; a higher `version` of the same id replaces a lower one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireItem {
    /// The agency (the source's name, or the provider the item names).
    pub agency: String,
    /// The agency's own id of the item (guid, Atom id, ninjs uri, NewsML-G2 guid).
    pub agency_id: String,
    /// Version of the item at the agency (1 when the format has none).
    pub version: i64,
    /// Headline, plain text.
    pub headline: String,
    /// Summary, plain text.
    pub summary: String,
    /// Body, sanitised HTML.
    pub body_html: String,
    /// Byline text.
    pub byline: String,
    /// Urgency 1 (flash) to 9 (lowest), if the item says.
    pub urgency: Option<u8>,
    /// Language tag (BCP 47), if the item says.
    pub language: Option<String>,
    /// First publication at the agency.
    pub published_at: Option<DateTime<Utc>>,
    /// Last change at the agency.
    pub updated_at: Option<DateTime<Utc>>,
    /// Subject codes (Media Topics and others).
    pub subjects: Vec<WireSubject>,
    /// Places.
    pub places: Vec<WirePlace>,
    /// Usage terms / rights text.
    pub usage_terms: Option<String>,
    /// Links: the item's own URL first, then others.
    pub links: Vec<String>,
    /// Usable, withdrawn or cancelled.
    pub status: WireStatus,
}
