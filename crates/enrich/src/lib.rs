//! Wire copy enrichment: near-duplicate clustering, region and sector tagging, extractive summaries.
//!
//! Everything here is pure and in memory; the only data are compact tables embedded with
//! `include_str!` (see `data/` and the crate README for their sources and licences).
//!
//! - [`fingerprint`]: text normalisation, [`fingerprint::content_hash`] for exact re-sends and
//!   MinHash [`fingerprint::Signature`]s for near-duplicates.
//! - [`cluster`]: [`cluster::Clusterer`], LSH-banded online clustering within a time window.
//! - [`region`]: [`region::Gazetteer`], countries in text → editions, with evidence.
//! - [`sector`]: IPTC Media Topics and a keyword lexicon → the 15 sectors.
//! - [`summary`]: [`summary::summarise`], an extractive summary draft of a cluster.

pub mod cluster;
pub mod fingerprint;
pub mod region;
pub mod sector;
pub mod summary;
pub mod text;

pub use cluster::{estimate_similarity, Assignment, ClusterConfig, Clusterer};
pub use fingerprint::{content_hash, CommonShingles, MinHasher, Signature};
pub use region::{CountryMatch, EditionTag, Gazetteer, MatchSource, RegionTags};
pub use sector::{
    sectors_from_subjects, sectors_from_text, tag_sector, tag_sector_plain, SectorTag, SectorTags,
    TagSource,
};
pub use summary::{summarise, Summary};
