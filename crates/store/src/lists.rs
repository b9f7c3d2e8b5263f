//! A story's three lists (placements, authors, tags) as one text, kept in the story's own row
//! (`stories.lists`) by every save, so an article page's read takes them from the row it reads
//! anyway instead of from three more tables (see `StoryStore::get_article`). The list tables stay
//! the truth for every other query; both stores write and read this one format:
//!
//! `edition rank,edition rank|author,author|tag,tag`: ids in the lists' order, a placement's
//! rank empty when it has none (`3 1,5 |7|` is editions 3 (rank 1) and 5, author 7, no tags).
//! A migration fills it for stories saved before it, with SQL that writes the same text.

use crate::{LineageLink, StoreError};
use chrono::{DateTime, TimeZone, Utc};
use newsdesk_domain::{
    AuthorId, Correction, EditionId, Placement, StoryId, TagId, UserId, WireItemId,
};
use std::fmt::Write;

/// The three lists, decoded.
pub type StoryLists = (Vec<Placement>, Vec<AuthorId>, Vec<TagId>);

/// The text of a story's lists.
pub fn encode(placements: &[Placement], authors: &[AuthorId], tags: &[TagId]) -> String {
    let mut out = String::with_capacity(8 * (placements.len() + authors.len() + tags.len()) + 2);
    for (i, p) in placements.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{} ", p.edition_id.0);
        if let Some(r) = p.rank {
            let _ = write!(out, "{r}");
        }
    }
    out.push('|');
    ids(&mut out, authors.iter().map(|a| a.0));
    out.push('|');
    ids(&mut out, tags.iter().map(|t| t.0));
    out
}

fn ids(out: &mut String, ids: impl Iterator<Item = i64>) {
    for (i, id) in ids.enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{id}");
    }
}

/// The lists of a text [`encode`] (or the migration) wrote; `None` if it is not one.
pub fn decode(text: &str) -> Option<StoryLists> {
    let mut parts = text.split('|');
    let (eds, aus, tgs) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let placements = split(eds)
        .map(|p| {
            let (edition, rank) = p.split_once(' ')?;
            Some(Placement {
                edition_id: EditionId(edition.parse().ok()?),
                rank: match rank {
                    "" => None,
                    r => Some(r.parse().ok()?),
                },
            })
        })
        .collect::<Option<Vec<_>>>()?;
    let authors = split(aus)
        .map(|a| a.parse().ok().map(AuthorId))
        .collect::<Option<Vec<_>>>()?;
    let tags = split(tgs)
        .map(|t| t.parse().ok().map(TagId))
        .collect::<Option<Vec<_>>>()?;
    Some((placements, authors, tags))
}

/// The corrections and lineage links of story `story` from the two JSON arrays an article read
/// takes with its row (`[]` when there are none, not parsed): corrections as
/// `[id, wrong, right, at (ms), by]`, links as `[item, version, link]`. Both stores' statements
/// return them unordered (SQLite opens an ephemeral b-tree for each ordered aggregate at every
/// step), so they are put in order here: corrections oldest first, links by item.
pub fn article_arrays(
    story: StoryId,
    corrections: &str,
    lineage: &str,
) -> Result<(Vec<Correction>, Vec<LineageLink>), StoreError> {
    let mut cor = json_rows::<(i64, String, String, i64, Option<i64>)>(corrections)?;
    cor.sort_unstable_by_key(|c| (c.3, c.0));
    let corrections = cor
        .into_iter()
        .map(|(id, wrong, right, at, by)| {
            Ok(Correction {
                id,
                story_id: story,
                wrong,
                right,
                at: from_ms(at)?,
                by: by.map(UserId),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let mut lin = json_rows::<(i64, i64, Option<String>)>(lineage)?;
    lin.sort_unstable_by_key(|l| l.0);
    let lineage = lin
        .into_iter()
        .map(|(item, version, link)| LineageLink {
            item: WireItemId(item),
            version,
            link,
        })
        .collect();
    Ok((corrections, lineage))
}

/// A JSON array, parsed only when it holds something.
fn json_rows<T: serde::de::DeserializeOwned>(text: &str) -> Result<Vec<T>, StoreError> {
    if text == "[]" {
        return Ok(Vec::new());
    }
    serde_json::from_str(text).map_err(StoreError::other)
}

fn from_ms(v: i64) -> Result<DateTime<Utc>, StoreError> {
    Utc.timestamp_millis_opt(v)
        .single()
        .ok_or_else(|| StoreError::msg(format!("bad timestamp {v}")))
}

/// The items of one list (none in an empty one).
fn split(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').filter(|_| !list.is_empty())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn lists_come_back_as_they_went_in() {
        let p = |e, rank| Placement {
            edition_id: EditionId(e),
            rank,
        };
        let cases: Vec<StoryLists> = vec![
            (vec![], vec![], vec![]),
            (vec![p(3, Some(1)), p(5, None)], vec![AuthorId(7)], vec![]),
            (
                vec![p(1, Some(-2))],
                vec![AuthorId(9), AuthorId(2)],
                vec![TagId(40), TagId(3), TagId(12)],
            ),
            (vec![], vec![], vec![TagId(1)]),
        ];
        for (placements, authors, tags) in cases {
            let text = encode(&placements, &authors, &tags);
            assert_eq!(decode(&text), Some((placements, authors, tags)), "{text:?}");
        }
        assert_eq!(
            encode(&[p(3, Some(1)), p(5, None)], &[AuthorId(7)], &[]),
            "3 1,5 |7|"
        );
        for bad in ["", "|", "1|2", "1 |2|3|4", "x |1|", "1|x|", "1|1|"] {
            assert_eq!(decode(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn article_arrays_come_in_order_and_bad_ones_are_errors() {
        let (cor, lin) = article_arrays(
            StoryId(4),
            r#"[[9,"b","B",2000,null],[3,"a","A",1000,7],[5,"c","C",2000,null]]"#,
            r#"[[12,2,"https://example.com/x"],[8,1,null]]"#,
        )
        .unwrap();
        let ids: Vec<i64> = cor.iter().map(|c| c.id).collect();
        assert_eq!(ids, vec![3, 5, 9], "oldest first, then by id");
        assert_eq!(cor[0].by, Some(UserId(7)));
        assert!(cor.iter().all(|c| c.story_id == StoryId(4)));
        let items: Vec<i64> = lin.iter().map(|l| l.item.0).collect();
        assert_eq!(items, vec![8, 12]);
        assert_eq!(article_arrays(StoryId(4), "[]", "[]").unwrap().0, vec![]);
        assert!(article_arrays(StoryId(4), "[[1]]", "[]").is_err());
        assert!(article_arrays(StoryId(4), "[]", "not json").is_err());
    }
}
