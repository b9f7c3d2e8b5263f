//! Typed ids, so a sector id cannot be passed where a story id is meant.
//!
//! Each is written (`Display`) as its number and read back (`FromStr`) from one: only ASCII
//! digits, so a path segment like `/newsroom/wire/42` parses with `segment.parse()` and `+42`,
//! `-1` or ` 42` do not.

use serde::{Deserialize, Serialize};

/// A text that is not an id (not a non-negative number in plain digits).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an id: {0:?}")]
pub struct IdError(pub String);

macro_rules! id_type {
    ($($name:ident),*) => {$(
        #[doc = concat!("Database id of a `", stringify!($name), "`.")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { self.0.fmt(f) }
        }
        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(IdError(s.to_owned()));
                }
                s.parse().map($name).map_err(|_| IdError(s.to_owned()))
            }
        }
    )*};
}

id_type!(
    StoryId, SectorId, EditionId, DeskId, AuthorId, TagId, ImageId, JobId, ClusterId, WireItemId,
    SourceId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_back_what_they_write_and_nothing_else() {
        assert_eq!("42".parse::<ClusterId>(), Ok(ClusterId(42)));
        assert_eq!(SourceId(7).to_string().parse::<SourceId>(), Ok(SourceId(7)));
        assert_eq!(
            "9223372036854775807".parse::<WireItemId>(),
            Ok(WireItemId(i64::MAX))
        );
        for bad in ["", "-1", "+1", " 1", "1 ", "1a", "9223372036854775808", "٣"] {
            assert!(bad.parse::<ClusterId>().is_err(), "{bad:?}");
        }
    }
}
