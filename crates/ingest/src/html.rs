//! HTML fragments from feeds: telling HTML from plain text.
//!
//! [`looks_like_html`] decides whether nominally plain RSS text is really HTML. The canonical
//! spelling that conformance tests compare HTML in lives in `canonical.rs`, compiled only for
//! tests (feature `canonical`), not into the product.

use crate::entities;

/// The HTML elements plain-text fields may contain and still be taken for HTML.
const COMMON_ELEMENTS: &[&str] = &[
    "a",
    "abbr",
    "acronym",
    "address",
    "area",
    "article",
    "aside",
    "audio",
    "b",
    "big",
    "blockquote",
    "br",
    "button",
    "canvas",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "command",
    "datagrid",
    "datalist",
    "dd",
    "del",
    "details",
    "dfn",
    "dialog",
    "dir",
    "div",
    "dl",
    "dt",
    "em",
    "event-source",
    "fieldset",
    "figcaption",
    "figure",
    "font",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "i",
    "img",
    "input",
    "ins",
    "kbd",
    "keygen",
    "label",
    "legend",
    "li",
    "m",
    "map",
    "menu",
    "meter",
    "multicol",
    "nav",
    "nextid",
    "noscript",
    "ol",
    "optgroup",
    "option",
    "output",
    "p",
    "pre",
    "progress",
    "q",
    "s",
    "samp",
    "section",
    "select",
    "small",
    "sound",
    "source",
    "spacer",
    "span",
    "strike",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "textarea",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "tt",
    "u",
    "ul",
    "var",
    "video",
];

/// The Windows-1252 characters behind the C1 code points 0x80–0x9F.
pub(crate) fn cp1252(c: u32) -> Option<char> {
    Some(match c {
        0x80 => '\u{20AC}',
        0x82 => '\u{201A}',
        0x83 => '\u{0192}',
        0x84 => '\u{201E}',
        0x85 => '\u{2026}',
        0x86 => '\u{2020}',
        0x87 => '\u{2021}',
        0x88 => '\u{02C6}',
        0x89 => '\u{2030}',
        0x8A => '\u{0160}',
        0x8B => '\u{2039}',
        0x8C => '\u{0152}',
        0x8E => '\u{017D}',
        0x91 => '\u{2018}',
        0x92 => '\u{2019}',
        0x93 => '\u{201C}',
        0x94 => '\u{201D}',
        0x95 => '\u{2022}',
        0x96 => '\u{2013}',
        0x97 => '\u{2014}',
        0x98 => '\u{02DC}',
        0x99 => '\u{2122}',
        0x9A => '\u{0161}',
        0x9B => '\u{203A}',
        0x9C => '\u{0153}',
        0x9E => '\u{017E}',
        0x9F => '\u{0178}',
        _ => return None,
    })
}

pub(crate) fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// True when `s` is plain text that is really HTML: it has an end tag or a character
/// reference, every tag is a common HTML element and every named reference is an HTML one.
/// Errs on the side of plain text, since taking text for HTML loses characters.
pub(crate) fn looks_like_html(s: &str) -> bool {
    let bytes = s.as_bytes();
    let word_at = |i: usize| -> &str {
        let rest = s.get(i..).unwrap_or("");
        let end = rest.find(|c: char| !is_word(c)).unwrap_or(rest.len());
        &rest[..end]
    };
    let mut qualifies = false;
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'<' => {
                let close = bytes.get(i + 1) == Some(&b'/');
                let start = if close { i + 2 } else { i + 1 };
                let name = word_at(start);
                if name.is_empty() {
                    continue;
                }
                if !COMMON_ELEMENTS.contains(&name.to_lowercase().as_str()) {
                    return false;
                }
                if close && bytes.get(start + name.len()) == Some(&b'>') {
                    qualifies = true;
                }
            }
            b'&' => {
                let numeric = bytes.get(i + 1) == Some(&b'#');
                let start = if numeric { i + 2 } else { i + 1 };
                let name = word_at(start);
                if name.is_empty() || bytes.get(start + name.len()) != Some(&b';') {
                    continue;
                }
                if !numeric && (name == "apos" || !entities::is_named(name)) {
                    return false;
                }
                qualifies = true;
            }
            _ => {}
        }
    }
    qualifies
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_or_html() {
        assert!(looks_like_html("<b>bold</b>"));
        assert!(looks_like_html("AT&amp;T"));
        assert!(!looks_like_html("AT&T"));
        assert!(!looks_like_html("<grin>x</grin>"));
        assert!(!looks_like_html("a &apos; b"));
        assert!(!looks_like_html("1 < 2"));
    }
}
