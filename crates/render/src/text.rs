//! Small text helpers: shortening headlines and escaping for HTML and XML.

use std::borrow::Cow;

/// The ellipsis appended by [`truncate_words`]; one character so length budgets stay exact.
const ELLIPSIS: char = '\u{2026}';

/// Shortens `s` to at most `max_chars` characters (Unicode scalar values), preferring to
/// cut between words.
///
/// Text that already fits is returned unchanged (borrowed, so the common case allocates
/// nothing). Otherwise the text is cut at the last whitespace at or before `max_chars - 1`
/// characters, trailing spaces and separators such as `,` or `:` are trimmed, and `…` is
/// appended, so the result never exceeds `max_chars` characters and, minus the ellipsis, is
/// always a prefix of `s`. Text with no whitespace in range (one long word, CJK) is cut
/// hard at `max_chars - 1` characters. `max_chars` of 0 or 1 yields just `…`, because an
/// empty string would hide that anything was there.
pub fn truncate_words(s: &str, max_chars: usize) -> Cow<'_, str> {
    // Counting with `nth` stops early, so a short limit on a huge string stays cheap.
    let Some((hard_cut, next_char)) = s.char_indices().nth(max_chars) else {
        return Cow::Borrowed(s);
    };
    // `s` has more than `max_chars` characters; keep room for the ellipsis.
    let keep = max_chars.saturating_sub(1);
    let (cut, first_dropped) = match s.char_indices().nth(keep) {
        Some((i, c)) => (i, c),
        // Unreachable in practice (keep < max_chars), but never worth a panic.
        None => (hard_cut, next_char),
    };
    let hard = &s[..cut];

    // If the first character we drop is whitespace, `hard` already ends on a word boundary.
    let at_boundary = if first_dropped.is_whitespace() {
        hard
    } else {
        match hard.rfind(char::is_whitespace) {
            Some(i) => &hard[..i],
            None => hard,
        }
    };

    let mut kept = at_boundary.trim_end_matches(is_trailing_junk);
    if kept.is_empty() {
        // The only boundary left nothing worth showing ("…" after nothing); fall back to the
        // hard cut so the reader still sees some text.
        kept = hard.trim_end_matches(is_trailing_junk);
    }
    let mut out = String::with_capacity(kept.len() + ELLIPSIS.len_utf8());
    out.push_str(kept);
    out.push(ELLIPSIS);
    Cow::Owned(out)
}

/// Characters that look wrong right before an ellipsis: spaces and separators. Closing
/// quotes and brackets are kept because they finish something the reader already saw.
fn is_trailing_junk(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            ',' | ';'
                | ':'
                | '.'
                | '!'
                | '?'
                | '-'
                | '\u{2013}'
                | '\u{2014}'
                | '\u{2026}'
                | '('
                | '['
                | '{'
                | '/'
                | '\\'
                | '&'
                | '\u{201C}'
                | '\u{2018}'
                | '\u{00AB}'
        )
}

/// The one HTML escaper lives in `newsdesk_domain::text`.
pub use newsdesk_domain::text::escape_html;

/// Escapes `s` for XML 1.0 text and attribute values, dropping characters XML forbids.
///
/// XML parsers reject a whole document for a single stray control character (common in
/// agency copy pasted from word processors), so C0/C1 controls other than tab, newline and
/// carriage return, and the non-characters U+FFFE/U+FFFF, are removed rather than escaped:
/// XML 1.0 has no way to escape them.
pub fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars().filter(|&c| is_xml_char(c)) {
        newsdesk_domain::text::push_escaped(&mut out, c);
    }
    out
}

/// Removes characters not allowed in XML 1.0 without escaping anything else, for CDATA.
pub(crate) fn strip_invalid_xml(s: &str) -> Cow<'_, str> {
    if s.chars().all(is_xml_char) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.chars().filter(|&c| is_xml_char(c)).collect())
    }
}

/// Whether `c` may appear in an XML 1.0 document. Surrogates cannot occur in a Rust `char`,
/// so only controls and the two non-characters need rejecting; C1 controls are allowed by
/// the spec but never meaningful in news copy and break some feed readers.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || !(c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn short_text_is_borrowed_unchanged() {
        let s = "Council approves budget";
        assert!(matches!(truncate_words(s, 100), Cow::Borrowed(x) if x == s));
        assert!(matches!(truncate_words(s, s.len()), Cow::Borrowed(_)));
        assert_eq!(truncate_words("", 0), "");
    }

    #[test]
    fn cuts_at_word_boundary_and_trims_punctuation() {
        assert_eq!(
            truncate_words("The quick brown fox, jumps over", 21),
            "The quick brown fox…"
        );
        assert_eq!(truncate_words("Hello world again", 11), "Hello…");
        assert_eq!(truncate_words("Hello world again", 12), "Hello world…");
        // The character after the cut is a space: the whole prefix is kept.
        assert_eq!(truncate_words("abc def ghi", 8), "abc def…");
    }

    #[test]
    fn hard_cut_without_whitespace() {
        assert_eq!(truncate_words("abcdefghij", 5), "abcd…");
        assert_eq!(
            truncate_words("東京都で大規模な停電が発生", 6),
            "東京都で大…"
        );
    }

    #[test]
    fn tiny_limits() {
        assert_eq!(truncate_words("hello", 0), "…");
        assert_eq!(truncate_words("hello", 1), "…");
        assert_eq!(truncate_words("hello", 2), "h…");
    }

    #[test]
    fn falls_back_when_boundary_leaves_nothing() {
        assert_eq!(truncate_words("—— abcdefgh", 8), "—— abcd…");
        assert_eq!(truncate_words(" abcdefgh", 5), " abc…");
    }

    #[test]
    fn escapes() {
        assert_eq!(
            escape_html(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape_xml("a\u{0}b\u{1b}c\td\ne\u{FFFF}<"), "abc\td\ne&lt;");
        assert_eq!(escape_xml("\u{85}é😀"), "é😀");
    }

    proptest! {
        #[test]
        fn truncate_properties(s in any::<String>(), max in 0usize..40) {
            let out = truncate_words(&s, max);
            prop_assert!(out.chars().count() <= max.max(1));
            let body = out.strip_suffix(ELLIPSIS).unwrap_or(&out);
            prop_assert!(s.starts_with(body));
            if s.chars().count() <= max {
                prop_assert_eq!(out.as_ref(), s.as_str());
            }
        }

        #[test]
        fn truncate_wordy_properties(words in proptest::collection::vec("[a-z]{1,12}[,.]?", 0..20), max in 0usize..60) {
            let s = words.join(" ");
            let out = truncate_words(&s, max);
            prop_assert!(out.chars().count() <= max.max(1));
            let body = out.strip_suffix(ELLIPSIS).unwrap_or(&out);
            prop_assert!(s.starts_with(body));
        }

        #[test]
        fn escape_xml_leaves_no_markup(s in any::<String>()) {
            let out = escape_xml(&s);
            prop_assert!(!out.contains('<') && !out.contains('>') && !out.contains('"'));
            prop_assert!(out.chars().all(is_xml_char));
        }
    }
}
