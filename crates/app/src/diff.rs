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

/// Most words compared exactly; longer texts fall back to comparing paragraphs.
const MAX_TOKENS: usize = 6000;

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

/// The word-level difference from `old` to `new` (longest common subsequence).
pub fn words(old: &str, new: &str) -> Vec<Chunk> {
    let (a, b) = (tokens(old), tokens(new));
    if a.len() > MAX_TOKENS || b.len() > MAX_TOKENS {
        return lcs(&paragraphs(old), &paragraphs(new));
    }
    lcs(&a, &b)
}

fn lcs(a: &[&str], b: &[&str]) -> Vec<Chunk> {
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
    if n > 0 || m > 0 {
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
    out
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
}
