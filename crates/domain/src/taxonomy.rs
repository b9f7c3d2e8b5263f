//! Sectors, editions, kinds, desks, authors and tags, and the default taxonomy of PRODUCT.md.

use crate::ids::*;
use crate::text::Slug;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// A topic section of the site ("Health").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sector {
    /// Database id.
    pub id: SectorId,
    /// URL segment.
    pub slug: Slug,
    /// Display name.
    pub name: String,
    /// Menu order.
    pub position: i32,
}

/// A regional view of the site with its own ranking and time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edition {
    /// Database id.
    pub id: EditionId,
    /// URL segment ("south-asia"); the Global edition has the slug "global" and no URL prefix.
    pub slug: Slug,
    /// Display name ("South Asia").
    pub name: String,
    /// IANA time zone in which this edition shows times.
    pub tz: Tz,
    /// Menu order; the Global edition comes first.
    pub position: i32,
}

impl Edition {
    /// The Global edition is the site's default and has no URL prefix.
    pub fn is_global(&self) -> bool {
        self.slug.as_str() == GLOBAL_EDITION
    }
}

/// Slug of the default edition.
pub const GLOBAL_EDITION: &str = "global";

/// A group of editors, and the byline of stories written by the group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Desk {
    /// Database id.
    pub id: DeskId,
    /// URL segment.
    pub slug: Slug,
    /// Byline text ("newsdesk News Desk").
    pub name: String,
}

/// A person who writes stories.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    /// Database id.
    pub id: AuthorId,
    /// URL segment.
    pub slug: Slug,
    /// Display name.
    pub name: String,
    /// Short biography shown on the author page.
    pub bio: String,
    /// The desk the author belongs to, if any.
    pub desk_id: Option<DeskId>,
}

/// A free keyword attached to stories.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    /// Database id.
    pub id: TagId,
    /// URL segment.
    pub slug: Slug,
    /// Display name.
    pub name: String,
}

/// What sort of piece a story is; decides its label, listing and schema.org type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Straight news.
    News,
    /// Opinion: labelled "Opinion:", schema.org `OpinionNewsArticle`.
    Opinion,
    /// Blog post.
    Blog,
    /// Interview.
    Interview,
    /// Analysis.
    Analysis,
    /// Short video news.
    Short,
    /// Press release.
    PressRelease,
}

impl Kind {
    /// Every kind, in menu order.
    pub const ALL: [Kind; 7] = [
        Kind::News,
        Kind::Opinion,
        Kind::Blog,
        Kind::Interview,
        Kind::Analysis,
        Kind::Short,
        Kind::PressRelease,
    ];

    /// Stable name used in the database and APIs.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::News => "news",
            Kind::Opinion => "opinion",
            Kind::Blog => "blog",
            Kind::Interview => "interview",
            Kind::Analysis => "analysis",
            Kind::Short => "short",
            Kind::PressRelease => "press-release",
        }
    }

    /// Parses [`Kind::as_str`].
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// URL segment of the kind's listing ("shorts", "press-releases").
    pub fn listing_slug(self) -> &'static str {
        match self {
            Kind::News => "news",
            Kind::Opinion => "opinion",
            Kind::Blog => "blog",
            Kind::Interview => "interviews",
            Kind::Analysis => "analysis",
            Kind::Short => "shorts",
            Kind::PressRelease => "press-releases",
        }
    }

    /// Parses [`Kind::listing_slug`].
    pub fn from_listing_slug(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.listing_slug() == s)
    }

    /// Heading of the kind's listing.
    pub fn plural_label(self) -> &'static str {
        match self {
            Kind::News => "News",
            Kind::Opinion => "Opinion",
            Kind::Blog => "Blog",
            Kind::Interview => "Interviews",
            Kind::Analysis => "Analysis",
            Kind::Short => "Shorts",
            Kind::PressRelease => "Press Releases",
        }
    }

    /// Label shown before a headline, if the kind has one ("Opinion:").
    pub fn headline_label(self) -> Option<&'static str> {
        match self {
            Kind::Opinion => Some("Opinion"),
            Kind::Interview => Some("Interview"),
            Kind::Analysis => Some("Analysis"),
            Kind::PressRelease => Some("Press Release"),
            _ => None,
        }
    }

    /// schema.org type for the JSON-LD of a story of this kind.
    pub fn schema_type(self) -> &'static str {
        match self {
            Kind::Opinion => "OpinionNewsArticle",
            Kind::Analysis => "AnalysisNewsArticle",
            _ => "NewsArticle",
        }
    }
}

/// A sector of the default taxonomy: (slug, name).
pub const DEFAULT_SECTORS: [(&str, &str); 15] = [
    ("agro-forestry", "Agro-Forestry"),
    ("art-culture", "Art & Culture"),
    ("technology", "Technology"),
    ("economy-business", "Economy & Business"),
    ("education", "Education"),
    ("energy-extractives", "Energy & Extractives"),
    ("politics", "Politics"),
    ("law-governance", "Law & Governance"),
    ("health", "Health"),
    ("science-environment", "Science & Environment"),
    ("social-gender", "Social & Gender"),
    ("sports", "Sports"),
    ("transport", "Transport"),
    ("urban-development", "Urban Development"),
    ("wash", "WASH"),
];

/// An edition of the default taxonomy: (slug, name, IANA time zone).
///
/// Each zone is a large city of the region whose abbreviation readers there know (IST, EAT, ...).
pub const DEFAULT_EDITIONS: [(&str, &str, &str); 12] = [
    (GLOBAL_EDITION, "Global", "UTC"),
    ("pacific", "Pacific", "Australia/Sydney"),
    ("south-asia", "South Asia", "Asia/Kolkata"),
    (
        "east-south-east-asia",
        "East and South East Asia",
        "Asia/Hong_Kong",
    ),
    (
        "europe-central-asia",
        "Europe and Central Asia",
        "Europe/Brussels",
    ),
    ("central-africa", "Central Africa", "Africa/Kinshasa"),
    ("east-africa", "East Africa", "Africa/Nairobi"),
    ("southern-africa", "Southern Africa", "Africa/Johannesburg"),
    ("west-africa", "West Africa", "Africa/Lagos"),
    (
        "middle-east-north-africa",
        "Middle East and North Africa",
        "Africa/Cairo",
    ),
    ("north-america", "North America", "America/New_York"),
    (
        "latin-america-caribbean",
        "Latin America and Caribbean",
        "America/Mexico_City",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_taxonomy_is_valid() {
        for (slug, _) in DEFAULT_SECTORS {
            Slug::parse(slug).unwrap();
        }
        for (slug, _, tz) in DEFAULT_EDITIONS {
            Slug::parse(slug).unwrap();
            tz.parse::<Tz>().unwrap();
        }
    }

    #[test]
    fn kinds_roundtrip() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
            assert_eq!(Kind::from_listing_slug(k.listing_slug()), Some(k));
        }
        assert_eq!(Kind::Opinion.schema_type(), "OpinionNewsArticle");
    }
}
