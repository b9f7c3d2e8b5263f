//! What a reader typed, read into clauses: words and quoted phrases that must match, words
//! after `-` that must not. Nothing typed is an error: operators and field syntax are read as
//! words or dropped, an unclosed quote runs to the end, control characters are spaces, and the
//! text and the number of words are capped (with a note saying so).

use crate::words::terms;

/// One clause of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// The analysed terms: one is a word, more are a phrase.
    pub terms: Vec<String>,
    /// Whether matching stories are left out (`-word`).
    pub exclude: bool,
}

/// Something the reader should know about how the query was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    /// The text was longer than the limit and was cut.
    Shortened,
    /// More words than the limit: the rest were left out.
    TooManyWords,
}

/// A query read from text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Clauses, in the order typed.
    pub clauses: Vec<Clause>,
    /// Notes for the reader.
    pub notes: Vec<Note>,
}

impl Parsed {
    /// Whether nothing is left to look for (no clause that must match).
    pub fn is_empty(&self) -> bool {
        !self.clauses.iter().any(|c| !c.exclude)
    }
    /// Terms counted against the limit.
    pub fn term_count(&self) -> usize {
        self.clauses.iter().map(|c| c.terms.len()).sum()
    }
}

/// Limits on a query.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Characters of text read; the rest is cut.
    pub max_chars: usize,
    /// Terms (words, counting each word of a phrase) kept; the rest are left out.
    pub max_terms: usize,
}

/// Reads `text` into clauses under `limits`.
pub fn parse(text: &str, limits: Limits) -> Parsed {
    let mut out = Parsed::default();
    let mut cut = String::with_capacity(text.len().min(limits.max_chars * 4));
    for (n, c) in text.chars().enumerate() {
        if n >= limits.max_chars {
            out.notes.push(Note::Shortened);
            break;
        }
        cut.push(if c.is_control() { ' ' } else { c });
    }
    let mut budget = limits.max_terms;
    let mut push = |out: &mut Parsed, chunk: &str, exclude: bool| {
        let t = terms(chunk);
        if t.is_empty() {
            return;
        }
        if budget == 0 {
            if !out.notes.contains(&Note::TooManyWords) {
                out.notes.push(Note::TooManyWords);
            }
            return;
        }
        let mut t = t;
        if t.len() > budget {
            t.truncate(budget);
            out.notes.push(Note::TooManyWords);
        }
        budget -= t.len();
        // A phrase, or a word like `well-known` that is several: its terms in a row.
        out.clauses.push(Clause { terms: t, exclude });
    };
    let is_quote = |c: char| matches!(c, '"' | '\u{201C}' | '\u{201D}' | '\u{201E}');
    let mut rest = cut.as_str();
    while !rest.is_empty() {
        let Some(start) = rest.find(|c: char| !c.is_whitespace()) else {
            break;
        };
        rest = &rest[start..];
        let mut chars = rest.chars();
        let first = chars.next().unwrap_or(' ');
        let (exclude, body) = if first == '-' {
            (true, &rest[1..])
        } else {
            (false, rest)
        };
        if body.starts_with(is_quote) {
            let q = body.chars().next().map_or(1, char::len_utf8);
            let inner = &body[q..];
            let end = inner.find(is_quote).unwrap_or(inner.len());
            push(&mut out, &inner[..end], exclude);
            let after =
                (end + inner[end..].chars().next().map_or(0, char::len_utf8)).min(inner.len());
            rest = &inner[after..];
            continue;
        }
        let end = body
            .find(|c: char| c.is_whitespace() || is_quote(c))
            .unwrap_or(body.len());
        let word = &body[..end];
        rest = &body[end..];
        if matches!(word, "AND" | "OR" | "NOT" | "&&" | "||") {
            continue;
        }
        // `field:words` (query syntax elsewhere) looks for the words in every field.
        let word = match word.split_once(':') {
            Some((f, w))
                if !f.is_empty() && f.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_') =>
            {
                w
            }
            _ => word,
        };
        push(&mut out, word, exclude);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: Limits = Limits {
        max_chars: 200,
        max_terms: 8,
    };

    fn words(p: &Parsed) -> Vec<(Vec<&str>, bool)> {
        p.clauses
            .iter()
            .map(|c| (c.terms.iter().map(String::as_str).collect(), c.exclude))
            .collect()
    }

    #[test]
    fn words_phrases_and_exclusions() {
        let p = parse(r#"cricket "world cup" -football"#, L);
        assert_eq!(
            words(&p),
            [
                (vec!["cricket"], false),
                (vec!["world", "cup"], false),
                (vec!["footbal"], true)
            ]
        );
        assert!(p.notes.is_empty());
    }

    #[test]
    fn unbalanced_quotes_run_to_the_end() {
        let p = parse(r#"rain "monsoon floods"#, L);
        assert_eq!(
            words(&p),
            [(vec!["rain"], false), (vec!["monsoon", "flood"], false)]
        );
        assert_eq!(words(&parse("\"", L)), Vec::<(Vec<&str>, bool)>::new());
        assert!(parse("\"\"\"", L).is_empty());
    }

    #[test]
    fn operators_alone_leave_nothing() {
        assert!(parse("AND OR", L).is_empty());
        assert!(parse("AND OR NOT && ||", L).is_empty());
        assert!(parse("-only -exclusions", L).is_empty());
        assert_eq!(words(&parse("tea AND biscuits", L)).len(), 2);
    }

    #[test]
    fn field_syntax_is_words() {
        let p = parse("headline:budget id:5 visible:[0 TO 9]", L);
        assert_eq!(
            words(&p).into_iter().flat_map(|w| w.0).collect::<Vec<_>>(),
            ["budget", "5", "0", "to", "9"]
        );
    }

    #[test]
    fn long_text_and_many_words_are_capped() {
        let big = "word ".repeat(2048); // 10 KB
        let p = parse(&big, L);
        assert!(p.notes.contains(&Note::Shortened));
        assert!(p.notes.contains(&Note::TooManyWords));
        assert_eq!(p.term_count(), 8);
        let phrase = format!("\"{}\"", "a b c d e f g h i j k l");
        assert_eq!(parse(&phrase, L).term_count(), 8);
    }

    #[test]
    fn control_characters_are_spaces() {
        let p = parse("tax\u{0}rise\u{1b}[0m\u{7}", L);
        assert_eq!(words(&p)[0].0, ["tax"]);
        assert_eq!(words(&p)[1].0, ["rise"]);
    }
}
