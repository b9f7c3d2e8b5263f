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
    /// The agency's embargo: the copy must not be public before this instant (ninjs
    /// `embargoed`, NewsML-G2 `itemMeta/embargoed`; NITF `date.release` and NewsML 1.x
    /// `StatusWillChange` go here too when those parsers exist). An embargo the agency gave but
    /// that could not be read is [`embargo_unknown`]: held until an editor sets a time.
    #[serde(default)]
    pub embargo: Option<DateTime<Utc>>,
}

/// The embargo recorded for an item whose agency gave one that could not be read as a date and
/// time ("Next Monday", a year alone): 9999-12-31 23:59 UTC, "until further notice". Held
/// rather than guessed, because publishing early breaks the agency's terms and cannot be undone,
/// while holding costs only an editor's look.
pub fn embargo_unknown() -> DateTime<Utc> {
    DateTime::from_timestamp(253_402_300_740, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Whether an embargo is the "could not be read" mark of [`embargo_unknown`].
pub fn is_embargo_unknown(t: DateTime<Utc>) -> bool {
    t >= embargo_unknown()
}

/// The latest of some embargoes, if any: copy from several items may go out when all have ended.
pub fn latest_embargo(
    embargoes: impl IntoIterator<Item = Option<DateTime<Utc>>>,
) -> Option<DateTime<Utc>> {
    embargoes.into_iter().flatten().max()
}

/// An embargo as a story carries it: rounded up to the whole minute, because the story editor
/// shows and takes embargoes to the minute (rounding down could publish early).
pub fn embargo_for_story(t: DateTime<Utc>) -> DateTime<Utc> {
    let secs = t.timestamp();
    let r = secs.rem_euclid(60);
    if r == 0 && t.timestamp_subsec_nanos() == 0 {
        return t;
    }
    DateTime::from_timestamp(secs - r + 60, 0).unwrap_or(t)
}

/// An embargo in words for the desk while it holds: `Embargoed until 20-11-2026 12:00 UTC`, or
/// `Embargoed until further notice …` for one that could not be read; `None` once it has ended.
pub fn embargo_notice(embargo: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<String> {
    let e = embargo.filter(|e| *e > now)?;
    Some(if is_embargo_unknown(e) {
        "Embargoed until further notice (the agency's embargo could not be read)".to_owned()
    } else {
        format!("Embargoed until {}", crate::time::stamp(e, chrono_tz::UTC))
    })
}

/// A stored wire item with what the desk's tools made of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredWireItem {
    /// Database id.
    pub id: crate::ids::WireItemId,
    /// The item as last received.
    pub item: WireItem,
    /// Its cluster.
    pub cluster_id: crate::ids::ClusterId,
    /// When the current version arrived.
    pub received_at: DateTime<Utc>,
    /// Suggested sector slug.
    pub sector: Option<String>,
    /// Suggested edition slugs, best first.
    pub editions: Vec<String>,
    /// What the region suggestion rests on ("Kenyan", "place:KE").
    pub evidence: Vec<String>,
}

/// Wire items from one or more agencies about the same event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireCluster {
    /// Database id (a stable key of the item that founded it).
    pub id: crate::ids::ClusterId,
    /// Headline of the founding item.
    pub headline: String,
    /// Extractive summary of the cluster.
    pub summary: String,
    /// Whether an editor accepted (or wrote) the summary; otherwise it is a draft.
    pub summary_accepted: bool,
    /// Most urgent urgency among its items (1 is the most urgent).
    pub urgency: Option<u8>,
    /// Suggested sector slug.
    pub sector: Option<String>,
    /// Suggested edition slugs.
    pub editions: Vec<String>,
    /// Agencies with items in it.
    pub agencies: Vec<String>,
    /// Languages of its items.
    pub languages: Vec<String>,
    /// Number of items.
    pub items: i64,
    /// First item's arrival.
    pub created_at: DateTime<Utc>,
    /// Latest item's arrival.
    pub updated_at: DateTime<Utc>,
    /// The latest embargo among its usable items (see [`WireItem::embargo`]).
    #[serde(default)]
    pub embargo: Option<DateTime<Utc>>,
}

/// What storing an item did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WireOutcome {
    /// A new item.
    New,
    /// A newer version replaced the stored one.
    Updated,
    /// An exact re-send or an older version: nothing changed.
    Duplicate,
    /// The agency withdrew or cancelled it; these stories built on it are flagged.
    Withdrawn(Vec<crate::ids::StoryId>),
}

/// Which clusters the wire inbox shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WireQuery {
    /// Only clusters with an item from this agency.
    pub agency: Option<String>,
    /// Only this suggested sector.
    pub sector: Option<String>,
    /// Only clusters suggested for this edition.
    pub edition: Option<String>,
    /// Only clusters with an item in this language.
    pub language: Option<String>,
    /// Only clusters that changed (got an item) at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// At most this many.
    pub limit: usize,
}

/// A story flagged because an agency item it is built on was withdrawn or corrected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineageFlag {
    /// The story.
    pub story_id: crate::ids::StoryId,
    /// The agency item.
    pub item_id: crate::ids::WireItemId,
    /// "withdrawn", "cancelled" or "corrected (version N)".
    pub reason: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// What the desk's tools suggest for an item, stored with it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireTags {
    /// Sector slug.
    pub sector: Option<String>,
    /// Edition slugs, best first.
    pub editions: Vec<String>,
    /// Evidence for the editions, then (one entry starting with [`SECTOR_EVIDENCE_PREFIX`]) for
    /// the sector.
    pub evidence: Vec<String>,
}

/// Start of the [`WireTags::evidence`] entry that says what the sector rests on
/// ("sector: shares, earnings" or "sector: medtop:15000000 sport").
pub const SECTOR_EVIDENCE_PREFIX: &str = "sector: ";

/// Where agency copy comes from: a feed newsdesk polls, and/or an agency that pushes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// Database id (also in the push address).
    pub id: crate::ids::SourceId,
    /// The agency name its items carry.
    pub name: String,
    /// Feed address to poll; none for a push-only source.
    pub url: Option<String>,
    /// Minutes between polls when healthy.
    pub poll_minutes: i64,
    /// Whether the feed may be on this machine (tests and local agencies only).
    pub allow_loopback: bool,
    /// Whether it is polled and accepts pushes.
    pub enabled: bool,
    /// Validators for conditional requests.
    pub etag: Option<String>,
    /// See `etag`.
    pub last_modified: Option<String>,
    /// Last successful poll or push.
    pub last_success_at: Option<DateTime<Utc>>,
    /// Last error, in words.
    pub last_error: Option<String>,
    /// When it happened.
    pub last_error_at: Option<DateTime<Utc>>,
    /// Failures in a row (drives the back-off).
    pub failures: i64,
    /// When it is polled next.
    pub next_poll_at: DateTime<Utc>,
    /// Items received from it in the last 24 hours.
    pub items_last_day: i64,
    /// Publish matching new items unedited (off when `None`).
    pub auto_publish: Option<AutoPublish>,
    /// CA certificates (PEM) trusted for this feed's HTTPS besides the public roots and the
    /// site's own extra CA: for an agency serving its feed under a private CA.
    pub ca_pem: Option<String>,
}

/// An auto-publish rule of a source: new items that match go out unedited, labelled as
/// auto-generated. Off by default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoPublish {
    /// Only items suggested for one of these sector slugs (any when empty).
    pub sectors: Vec<String>,
    /// Only items at least this urgent (1 is the most urgent; any when `None`).
    pub max_urgency: Option<u8>,
    /// Edition slugs the stories are placed in (Global is always added).
    pub editions: Vec<String>,
}

/// The outcome of one poll or push, for a source's health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollRecord {
    /// When.
    pub at: DateTime<Utc>,
    /// `None` on success, else the error in words.
    pub error: Option<String>,
    /// New validators (on success).
    pub etag: Option<String>,
    /// See `etag`.
    pub last_modified: Option<String>,
    /// When to poll next.
    pub next_poll_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn embargo_notices_hold_until_their_time() {
        let now = Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap();
        let noon = Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap();
        assert_eq!(
            embargo_notice(Some(noon), now).as_deref(),
            Some("Embargoed until 20-11-2026 12:00 UTC")
        );
        assert_eq!(embargo_notice(Some(noon), noon), None, "ended");
        assert_eq!(embargo_notice(None, now), None);
        let unknown = embargo_notice(Some(embargo_unknown()), now).unwrap();
        assert!(unknown.starts_with("Embargoed until further notice"));
        assert!(is_embargo_unknown(embargo_unknown()) && !is_embargo_unknown(noon));
        assert_eq!(latest_embargo([None, Some(now), Some(noon)]), Some(noon));
        assert_eq!(latest_embargo([None, None]), None);
        assert_eq!(embargo_for_story(noon), noon);
        assert_eq!(
            embargo_for_story(noon + chrono::Duration::milliseconds(1)),
            noon + chrono::Duration::minutes(1)
        );
        assert_eq!(embargo_for_story(embargo_unknown()), embargo_unknown());
    }
}
