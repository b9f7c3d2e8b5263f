//! Word-level differences between two texts, for the revision history.

/// One piece of a difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chunk {
    /// Words in both.
    Same(String),
    /// Words only in the newer text.
    Added(String),
    /// Words only in the older text.
    Removed(String),
}

/// Most cells of the comparison table (4 bytes each) a difference may use: 16 MB. Past it, the
/// texts are compared paragraph by paragraph, and past it again the changed part is shown removed
/// and added whole, so two long revisions cannot make the server allocate without bound.
pub const MAX_CELLS: usize = 4_000_000;

/// How finely a difference was worked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Word by word.
    Words,
    /// Paragraph (line) by paragraph: the texts were too long or too different for words.
    Paragraphs,
    /// The changed part (everything between the common start and end) removed and added whole.
    Whole,
}

/// A difference and how finely it was worked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff {
    /// The pieces, in order.
    pub chunks: Vec<Chunk>,
    /// How finely.
    pub detail: Detail,
}

impl Diff {
    /// A sentence for the reader when the difference is coarser than word by word.
    pub fn note(&self) -> Option<&'static str> {
        match self.detail {
            Detail::Words => None,
            Detail::Paragraphs => Some(
                "These versions are too long or too different to compare word by word: whole changed paragraphs are marked.",
            ),
            Detail::Whole => Some(
                "These versions are too long or too different to compare in detail: the changed part is shown removed and added whole.",
            ),
        }
    }
}

/// Splits into words keeping their trailing whitespace, so joining the pieces gives the text back.
fn tokens(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_space = false;
    for (i, c) in s.char_indices() {
        let space = c.is_whitespace();
        if in_space && !space {
            out.push(&s[start..i]);
            start = i;
        }
        in_space = space;
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

fn paragraphs(s: &str) -> Vec<&str> {
    s.split_inclusive('\n').collect()
}

/// The word-level difference from `old` to `new` (longest common subsequence), coarser when the
/// work would pass [`MAX_CELLS`].
pub fn words(old: &str, new: &str) -> Vec<Chunk> {
    diff(old, new).chunks
}

/// Like [`words`], saying how finely the difference was worked out.
pub fn diff(old: &str, new: &str) -> Diff {
    if let Some(chunks) = lcs(&tokens(old), &tokens(new), MAX_CELLS) {
        return Diff {
            chunks,
            detail: Detail::Words,
        };
    }
    let (a, b) = (paragraphs(old), paragraphs(new));
    if let Some(chunks) = lcs(&a, &b, MAX_CELLS) {
        return Diff {
            chunks,
            detail: Detail::Paragraphs,
        };
    }
    Diff {
        chunks: lcs(&a, &b, usize::MAX).unwrap_or_default(),
        detail: Detail::Whole,
    }
}

/// `None` when the middle part (after the common head and tail) needs more than `max_cells`; with
/// `usize::MAX`, the middle part is removed and added whole without a table.
fn lcs(a: &[&str], b: &[&str], max_cells: usize) -> Option<Vec<Chunk>> {
    // Trim the common head and tail first: most edits touch a small part.
    let head = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (am, bm) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let (n, m) = (am.len(), bm.len());
    let whole = max_cells == usize::MAX;
    if !whole && (n + 1).saturating_mul(m + 1) > max_cells {
        return None;
    }
    let mut out: Vec<Chunk> = Vec::new();
    let mut push = |c: Chunk| match (out.last_mut(), c) {
        (Some(Chunk::Same(x)), Chunk::Same(y))
        | (Some(Chunk::Added(x)), Chunk::Added(y))
        | (Some(Chunk::Removed(x)), Chunk::Removed(y)) => x.push_str(&y),
        (_, c) => out.push(c),
    };
    if head > 0 {
        push(Chunk::Same(a[..head].concat()));
    }
    if whole {
        if n > 0 {
            push(Chunk::Removed(am.concat()));
        }
        if m > 0 {
            push(Chunk::Added(bm.concat()));
        }
    } else if n > 0 || m > 0 {
        // table[i][j] = LCS length of am[i..] and bm[j..].
        let w = m + 1;
        let mut table = vec![0u32; (n + 1) * w];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                table[i * w + j] = if am[i] == bm[j] {
                    table[(i + 1) * w + j + 1] + 1
                } else {
                    table[(i + 1) * w + j].max(table[i * w + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && am[i] == bm[j] {
                push(Chunk::Same(am[i].to_owned()));
                i += 1;
                j += 1;
            } else if i < n && (j == m || table[(i + 1) * w + j] >= table[i * w + j + 1]) {
                push(Chunk::Removed(am[i].to_owned()));
                i += 1;
            } else {
                push(Chunk::Added(bm[j].to_owned()));
                j += 1;
            }
        }
    }
    if tail > 0 {
        push(Chunk::Same(a[a.len() - tail..].concat()));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(chunks: &[Chunk]) -> String {
        chunks
            .iter()
            .map(|c| match c {
                Chunk::Same(s) => s.clone(),
                Chunk::Added(s) => format!("[+{s}]"),
                Chunk::Removed(s) => format!("[-{s}]"),
            })
            .collect()
    }

    #[test]
    fn marks_changed_words() {
        let d = words(
            "The vaccine reached 12 districts in May.",
            "The vaccine reached 14 districts in June.",
        );
        assert_eq!(
            render(&d),
            "The vaccine reached [-12 ][+14 ]districts in [-May.][+June.]"
        );
    }

    #[test]
    fn rebuilds_both_texts() {
        let old = "a b c d e f\n\nsecond paragraph here";
        let new = "a x c d f g\n\nsecond paragraph there and more";
        let d = words(old, new);
        let back_old: String = d
            .iter()
            .filter_map(|c| match c {
                Chunk::Same(s) | Chunk::Removed(s) => Some(s.as_str()),
                _ => None,
            })
            .collect();
        let back_new: String = d
            .iter()
            .filter_map(|c| match c {
                Chunk::Same(s) | Chunk::Added(s) => Some(s.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!((back_old.as_str(), back_new.as_str()), (old, new));
        assert_eq!(words("", ""), vec![]);
        assert_eq!(words("same", "same"), vec![Chunk::Same("same".into())]);
    }

    fn back(chunks: &[Chunk], new: bool) -> String {
        chunks
            .iter()
            .filter_map(|c| match c {
                Chunk::Same(s) => Some(s.as_str()),
                Chunk::Added(s) if new => Some(s.as_str()),
                Chunk::Removed(s) if !new => Some(s.as_str()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn long_revisions_of_short_lines_get_a_coarse_diff_not_a_huge_table() {
        // 100,000 short lines each, all different: a full table would be 10^10 cells.
        let old: String = (0..100_000).map(|i| format!("a{i}\n")).collect();
        let new: String = (0..100_000).map(|i| format!("b{i}\n")).collect();
        let d = diff(&old, &new);
        assert_eq!(d.detail, Detail::Whole);
        assert!(d.note().is_some());
        assert_eq!(
            (back(&d.chunks, false), back(&d.chunks, true)),
            (old.clone(), new.clone())
        );
        // Same start and end are still kept apart from the changed middle.
        let old2 = format!("head\n{old}tail\n");
        let new2 = format!("head\n{new}tail\n");
        let d = diff(&old2, &new2);
        assert_eq!(d.chunks.first(), Some(&Chunk::Same("head\n".into())));
        assert_eq!(d.chunks.last(), Some(&Chunk::Same("tail\n".into())));
    }

    #[test]
    fn too_many_words_fall_back_to_paragraphs() {
        // 3,000 changed words a side is 9 million cells: over the cap, but 30 paragraphs are not.
        let para = |w: &str| -> String {
            (0..30)
                .map(|p| {
                    let words: String = (0..100).map(|i| format!("{w}{p}x{i} ")).collect();
                    format!("{words}\n")
                })
                .collect()
        };
        let (old, new) = (para("a"), para("b"));
        let d = diff(&old, &new);
        assert_eq!(d.detail, Detail::Paragraphs);
        assert_eq!(
            (back(&d.chunks, false), back(&d.chunks, true)),
            (old.clone(), new.clone())
        );
        assert_eq!(diff("a b", "a c").detail, Detail::Words);
        assert_eq!(diff("a b", "a c").note(), None);
    }
}
