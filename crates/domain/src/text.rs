//! Validated text values (slugs and headlines) and the one text toolbox every crate shares:
//! HTML to plain text and the HTML escaper.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest slug we accept, in bytes (slugs are ASCII).
pub const SLUG_MAX: usize = 120;

/// A URL path segment: lowercase ASCII letters, digits and single dashes, 1..=120 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

/// Why a slug was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    /// Nothing left.
    #[error("a slug cannot be empty")]
    Empty,
    /// Over [`SLUG_MAX`].
    #[error("a slug is at most {SLUG_MAX} characters")]
    TooLong,
    /// A character outside a-z, 0-9 and '-', or a dash at an end or doubled.
    #[error("a slug uses only a-z, 0-9 and single dashes inside")]
    BadChar,
}

impl Slug {
    /// Parses an existing slug exactly (no fixing up).
    pub fn parse(s: &str) -> Result<Self, SlugError> {
        Self::check(s)?;
        Ok(Self(s.to_owned()))
    }

    /// Whether `s` is a slug as it is.
    fn check(s: &str) -> Result<(), SlugError> {
        if s.is_empty() {
            return Err(SlugError::Empty);
        }
        if s.len() > SLUG_MAX {
            return Err(SlugError::TooLong);
        }
        let ok_chars = s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok_chars || s.starts_with('-') || s.ends_with('-') || s.contains("--") {
            return Err(SlugError::BadChar);
        }
        Ok(())
    }

    /// Makes a slug from a title: ASCII-folds common Latin letters, drops the rest, joins words with
    /// dashes and cuts at a word boundary. Falls back to `fallback` when nothing usable is left.
    pub fn from_title(title: &str, fallback: &str) -> Self {
        let mut out = String::with_capacity(title.len().min(SLUG_MAX));
        let mut dash = false;
        let mut take = |c: char| {
            if c.is_ascii_alphanumeric() {
                if dash && !out.is_empty() {
                    out.push('-');
                }
                dash = false;
                out.push(c.to_ascii_lowercase());
            } else if c != '\'' && c != '’' {
                dash = true;
            }
        };
        for c in title.chars() {
            // Most titles are plain ASCII: only '&' and letters outside it are folded.
            if c.is_ascii() && c != '&' {
                take(c);
            } else {
                fold_char(c).for_each(&mut take);
            }
        }
        if out.len() > 80 {
            let cut = out[..80].rfind('-').unwrap_or(80);
            out.truncate(cut);
        }
        if Self::check(&out).is_ok() {
            return Self(out);
        }
        Self::parse(fallback).unwrap_or_else(|_| Self("story".to_owned()))
    }

    /// The slug text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Folds accented Latin letters to ASCII so "São Tomé" becomes "sao tome".
fn fold_char(c: char) -> impl Iterator<Item = char> {
    let s: &'static str = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => {
            "a"
        }
        'æ' | 'Æ' => "ae",
        'ç' | 'č' | 'ć' | 'Ç' | 'Č' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'È' | 'É' | 'Ê' | 'Ë' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => "i",
        'ñ' | 'Ñ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => "o",
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => "u",
        'ý' | 'ÿ' | 'Ý' => "y",
        'ß' => "ss",
        'š' | 'Š' => "s",
        'ž' | 'Ž' => "z",
        '&' => " and ",
        _ => "",
    };
    let own = if s.is_empty() { Some(c) } else { None };
    s.chars().chain(own)
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Slug {
    type Error = SlugError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Slug> for String {
    fn from(s: Slug) -> String {
        s.0
    }
}

/// Longest headline, in characters.
pub const HEADLINE_MAX: usize = 200;

/// A story headline: trimmed, 1..=200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Headline(String);

/// Why a headline was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadlineError {
    /// Blank.
    #[error("a headline cannot be empty")]
    Empty,
    /// Over [`HEADLINE_MAX`] characters.
    #[error("a headline is at most {HEADLINE_MAX} characters")]
    TooLong,
    /// Contains a control character.
    #[error("a headline cannot contain control characters")]
    Control,
}

impl Headline {
    /// Parses a headline, trimming surrounding whitespace.
    pub fn parse(s: &str) -> Result<Self, HeadlineError> {
        let t = s.trim();
        if t.is_empty() {
            return Err(HeadlineError::Empty);
        }
        if t.chars().count() > HEADLINE_MAX {
            return Err(HeadlineError::TooLong);
        }
        if t.chars().any(char::is_control) {
            return Err(HeadlineError::Control);
        }
        Ok(Self(t.to_owned()))
    }
    /// The headline text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Headline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Headline {
    type Error = HeadlineError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Headline> for String {
    fn from(h: Headline) -> String {
        h.0
    }
}

/// HTML to plain text, the one conversion every crate uses: tags dropped (with the content
/// of `script`, `style` and similar), entities decoded, whitespace collapsed; block-level
/// tags separate words, so `<p>a</p><p>b</p>` reads "a b", never "ab".
pub fn html_to_text(html: &str) -> String {
    let mut raw = String::with_capacity(html.len());
    let mut rest = html;
    let mut skip_until: Option<String> = None;
    while let Some(lt) = rest.find('<') {
        if skip_until.is_none() {
            raw.push_str(&rest[..lt]);
        }
        let after = &rest[lt + 1..];
        if let Some(body) = after.strip_prefix("!--") {
            rest = match body.find("-->") {
                Some(e) => &body[e + 3..],
                None => "",
            };
            continue;
        }
        let is_tag = after
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!' || c == '?');
        if !is_tag {
            if skip_until.is_none() {
                raw.push('<');
            }
            rest = after;
            continue;
        }
        let Some(gt) = after.find('>') else {
            rest = "";
            break;
        };
        let tag = &after[..gt];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if let Some(until) = &skip_until {
            if closing && &name == until {
                skip_until = None;
            }
        } else if !closing
            && matches!(
                name.as_str(),
                "script" | "style" | "template" | "iframe" | "object"
            )
            && !tag.ends_with('/')
        {
            skip_until = Some(name);
        } else if matches!(
            name.as_str(),
            "p" | "br"
                | "div"
                | "li"
                | "tr"
                | "td"
                | "th"
                | "h1"
                | "h2"
                | "h3"
                | "h4"
                | "h5"
                | "h6"
                | "blockquote"
                | "pre"
                | "hr"
                | "ul"
                | "ol"
                | "table"
                | "section"
                | "article"
                | "figure"
                | "figcaption"
                | "header"
                | "footer"
                | "dd"
                | "dt"
        ) {
            raw.push(' ');
        }
        rest = &after[gt + 1..];
    }
    if skip_until.is_none() {
        raw.push_str(rest);
    }
    collapse(&crate::entities::decode(&raw))
}

/// Collapses runs of whitespace (including no-break spaces) to one space and trims.
fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s.split(char::is_whitespace).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

/// Escapes text for HTML text and double- or single-quoted attribute values: the one HTML
/// escaper every crate uses. All five significant characters are escaped, so the result is
/// safe in any of those contexts; it is not safe inside `<script>` or `<style>`.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        push_escaped(&mut out, c);
    }
    out
}

/// Appends `c` to `out`, escaped as [`escape_html`] does.
pub fn push_escaped(out: &mut String, c: char) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&#39;"),
        _ => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn html_becomes_plain_text() {
        assert_eq!(
            html_to_text(
                "<p>Hello&nbsp;<b>world</b></p><p>x &amp; y</p><script>bad()</script> 1 < 2"
            ),
            "Hello world x & y 1 < 2"
        );
        assert_eq!(html_to_text("<h2>Title</h2><p>Body</p>"), "Title Body");
        assert_eq!(html_to_text("caf&eacute; &#x2019;"), "café \u{2019}");
    }

    #[test]
    fn escapes_the_five() {
        assert_eq!(
            escape_html(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn slug_rules() {
        assert!(Slug::parse("water-and-sanitation-2025").is_ok());
        assert_eq!(Slug::parse(""), Err(SlugError::Empty));
        assert_eq!(Slug::parse("-a"), Err(SlugError::BadChar));
        assert_eq!(Slug::parse("a--b"), Err(SlugError::BadChar));
        assert_eq!(Slug::parse("Abc"), Err(SlugError::BadChar));
        assert_eq!(Slug::parse("a/b"), Err(SlugError::BadChar));
        assert_eq!(Slug::parse(&"a".repeat(121)), Err(SlugError::TooLong));
    }

    #[test]
    fn slug_from_title_folds_and_joins() {
        assert_eq!(
            Slug::from_title("São Tomé's budget: 5% up & rising!", "x").as_str(),
            "sao-tomes-budget-5-up-and-rising"
        );
        assert_eq!(Slug::from_title("日本語", "story-7").as_str(), "story-7");
    }

    #[test]
    fn headline_rules() {
        assert_eq!(Headline::parse("  Hi  ").unwrap().as_str(), "Hi");
        assert_eq!(Headline::parse("   "), Err(HeadlineError::Empty));
        assert_eq!(Headline::parse("a\u{0}b"), Err(HeadlineError::Control));
        assert_eq!(
            Headline::parse(&"é".repeat(201)),
            Err(HeadlineError::TooLong)
        );
        assert!(Headline::parse(&"é".repeat(200)).is_ok());
    }

    proptest! {
        #[test]
        fn from_title_always_gives_a_valid_slug(s in "\\PC{0,300}") {
            let slug = Slug::from_title(&s, "fallback");
            prop_assert!(Slug::parse(slug.as_str()).is_ok());
        }

        #[test]
        fn parse_never_panics_and_roundtrips(s in "\\PC{0,200}") {
            if let Ok(slug) = Slug::parse(&s) {
                prop_assert_eq!(slug.as_str(), s.as_str());
            }
        }
    }
}
