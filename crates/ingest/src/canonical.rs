//! One canonical spelling of HTML fragments, for tests that compare feed HTML.
//!
//! [`normalize`] (public as `normalize_html` with the `canonical` feature) tokenises a
//! fragment leniently and writes it back in one canonical form, the one Python feedparser
//! gives feed HTML, so two fragments that differ only in how the markup is written compare
//! equal. The product never calls it: feeds are parsed without it (their HTML is kept as
//! written), so it is compiled only for tests (`cfg(test)` or the `canonical` feature, which
//! the crate's own integration tests turn on):
//!
//! - tag and attribute names in lower case, attributes sorted and de-duplicated, every value
//!   double-quoted with `<`, `>`, `"` and bare `&` escaped;
//! - void elements as `<br />` and without end tags; `<x/>` without attributes as
//!   `<x></x>`; in inline XHTML, `<x … />` closes the element;
//! - numeric references with a lower-case `x`, and references to the C1 range mapped to the
//!   Windows-1252 characters they were meant as (`&#146;` → `&#x2019;`); unknown named
//!   references and `&` before a word become `&amp;`;
//! - given a base, relative URLs in URL attributes (`a/@href`, `img/@src`, …) resolved
//!   against it, and URLs with a scheme outside a safe list (`javascript:`, `data:` …)
//!   emptied;
//! - inline SVG and MathML get their namespace declaration (and `xmlns:xlink` when they
//!   use XLink), with SVG's camel-case names restored.
//!
//! Nothing is removed here (scripts and event handlers are the sanitiser's job, in the
//! `WireItem` mapping). The tokeniser is a single linear pass; it never fails.

use crate::entities;
use crate::html::{cp1252, is_word};
use crate::text::{has_safe_scheme, resolve_url};

const SVG_NS: &str = "http://www.w3.org/2000/svg";
const MATHML_NS: &str = "http://www.w3.org/1998/Math/MathML";
const XLINK_NS: &str = "http://www.w3.org/1999/xlink";

/// Elements written without an end tag.
const VOID: &[&str] = &[
    "area", "base", "basefont", "br", "col", "command", "embed", "frame", "hr", "img", "input",
    "isindex", "keygen", "link", "meta", "param", "source", "track", "wbr",
];

/// (element, attribute) pairs whose value is a URL to resolve.
const URL_ATTRS: &[(&str, &str)] = &[
    ("a", "href"),
    ("applet", "codebase"),
    ("area", "href"),
    ("audio", "src"),
    ("blockquote", "cite"),
    ("body", "background"),
    ("del", "cite"),
    ("form", "action"),
    ("frame", "longdesc"),
    ("frame", "src"),
    ("iframe", "longdesc"),
    ("iframe", "src"),
    ("head", "profile"),
    ("img", "longdesc"),
    ("img", "src"),
    ("img", "usemap"),
    ("input", "src"),
    ("input", "usemap"),
    ("ins", "cite"),
    ("link", "href"),
    ("object", "classid"),
    ("object", "codebase"),
    ("object", "data"),
    ("object", "usemap"),
    ("q", "cite"),
    ("script", "src"),
    ("source", "src"),
    ("video", "poster"),
    ("video", "src"),
];

/// SVG names that are camel case (the tokeniser lower-cases names, as HTML does).
const SVG_CAMEL: &[&str] = &[
    "animateColor",
    "animateMotion",
    "animateTransform",
    "attributeName",
    "attributeType",
    "baseProfile",
    "calcMode",
    "foreignObject",
    "gradientUnits",
    "keyPoints",
    "keySplines",
    "keyTimes",
    "linearGradient",
    "markerHeight",
    "markerUnits",
    "markerWidth",
    "pathLength",
    "preserveAspectRatio",
    "radialGradient",
    "refX",
    "refY",
    "repeatCount",
    "repeatDur",
    "requiredExtensions",
    "requiredFeatures",
    "systemLanguage",
    "viewBox",
    "zoomAndPan",
];

fn is_void(tag: &str) -> bool {
    VOID.contains(&tag)
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Normalises an HTML fragment (see the module documentation). `xhtml` says the fragment
/// came from inline XML, where `<x … />` closes the element.
pub(crate) fn normalize(html: &str, base: Option<&str>, xhtml: bool) -> String {
    let prepared = prepare(html);
    let mut n = Normalizer {
        out: String::with_capacity(prepared.len() + 16),
        base,
        xhtml,
        svg: 0,
        math: 0,
        lasttag: "???".to_owned(),
    };
    n.run(&prepared);
    n.out.trim().replace("\r\n", "\n")
}

/// The textual clean-ups done before tokenising: `<!` that opens nothing known is escaped,
/// `<x/>` is expanded, and `&#39;` / `&#34;` become the quotes they stand for.
fn prepare(html: &str) -> String {
    let b = html.as_bytes();
    let mut out = String::with_capacity(html.len() + 16);
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'&' {
            let quote = if html[i..].starts_with("&#39;") {
                Some("'")
            } else if html[i..].starts_with("&#34;") {
                Some("\"")
            } else {
                None
            };
            match quote {
                Some(q) => {
                    out.push_str(&html[copied..i]);
                    out.push_str(q);
                    i += 5;
                    copied = i;
                }
                None => i += 1,
            }
            continue;
        }
        if b[i] != b'<' {
            i += 1;
            continue;
        }
        if b.get(i + 1) == Some(&b'!') {
            let rest = &html[i + 2..];
            let known = rest
                .get(..7)
                .is_some_and(|r| r.eq_ignore_ascii_case("doctype"))
                || rest.starts_with("--")
                || rest.starts_with('[');
            if !known {
                out.push_str(&html[copied..i]);
                out.push_str("&lt;");
                i += 1;
                copied = i;
                continue;
            }
            i += 1;
            continue;
        }
        // `<name/>` or `<name />`: the name runs to the first `/>` that follows it
        // (optionally after spaces); anything else is an ordinary tag.
        let mut k = i + 1;
        let mut found = None;
        while k < b.len() && !matches!(b[k], b'<' | b'>') && !is_space(b[k]) {
            k += 1;
            if k > i + 1 && b.get(k) == Some(&b'/') && b.get(k + 1) == Some(&b'>') {
                found = Some((k, k + 2));
                break;
            }
        }
        if found.is_none() && k > i + 1 && k < b.len() && is_space(b[k]) {
            let mut s = k;
            while s < b.len() && is_space(b[s]) {
                s += 1;
            }
            if b.get(s) == Some(&b'/') && b.get(s + 1) == Some(&b'>') {
                found = Some((k, s + 2));
            }
        }
        match found {
            Some((name_end, end)) => {
                let name = &html[i + 1..name_end];
                out.push_str(&html[copied..i]);
                if is_void(name) {
                    out.push('<');
                    out.push_str(name);
                    out.push_str(" />");
                } else {
                    out.push('<');
                    out.push_str(name);
                    out.push_str("></");
                    out.push_str(name);
                    out.push('>');
                }
                i = end;
                copied = i;
            }
            None => i += 1,
        }
    }
    out.push_str(&html[copied..]);
    out
}

/// The end of a start or end tag: the first `<` or `>` after `from`, skipping quoted
/// attribute values that are followed by something that can follow a value.
fn end_bracket(s: &str, from: usize) -> Option<usize> {
    let b = s.as_bytes();
    let mut k = from;
    loop {
        match b.get(k) {
            None => break,
            Some(b'<' | b'>') => return Some(k),
            Some(&q @ (b'"' | b'\'')) => {
                let Some(close) = s[k + 1..].find(q as char).map(|p| k + 1 + p) else {
                    break;
                };
                let after = close + 1;
                let ok = match b.get(after) {
                    Some(b'>' | b'/') => true,
                    Some(&c) if is_space(c) => true,
                    Some(_) => {
                        let rest = &s[after..];
                        let w = rest.find(|c: char| !is_word(c)).unwrap_or(rest.len());
                        w > 0 && rest[w..].starts_with('=')
                    }
                    None => false,
                };
                if !ok {
                    break;
                }
                k = after;
            }
            Some(_) => k += 1,
        }
    }
    // Fallback: the first bracket on the same line.
    for (k, &c) in b.iter().enumerate().skip(from) {
        match c {
            b'\n' => return None,
            b'<' | b'>' => return Some(k),
            _ => {}
        }
    }
    None
}

/// A tag name: a letter, then letters, digits and `-_.:`.
fn tag_name_len(s: &str) -> usize {
    let b = s.as_bytes();
    if !b.first().is_some_and(u8::is_ascii_alphabetic) {
        return 0;
    }
    1 + b[1..]
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b':'))
        .count()
}

fn is_unquoted_value_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            b'[' | b']'
                | b'-'
                | b'.'
                | b'/'
                | b','
                | b':'
                | b';'
                | b'+'
                | b'*'
                | b'%'
                | b'?'
                | b'!'
                | b'&'
                | b'$'
                | b'('
                | b')'
                | b'_'
                | b'#'
                | b'='
                | b'~'
                | b'\''
                | b'"'
                | b'@'
        )
}

/// One attribute at `k`: (name, value, end). A name without `=` has itself as value.
fn attr_at(s: &str, k: usize) -> Option<(String, String, usize)> {
    let b = s.as_bytes();
    let mut i = k;
    while i < b.len() && is_space(b[i]) {
        i += 1;
    }
    let name_start = i;
    if !b
        .get(i)
        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
    {
        return None;
    }
    i += 1;
    while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'-' | b':' | b'.' | b'_'))
    {
        i += 1;
    }
    let name = s[name_start..i].to_ascii_lowercase();
    if b.get(i) == Some(&b'$') {
        i += 1;
    }
    let mut j = i;
    while j < b.len() && is_space(b[j]) {
        j += 1;
    }
    if b.get(j) != Some(&b'=') {
        return Some((name.clone(), name, i));
    }
    j += 1;
    while j < b.len() && is_space(b[j]) {
        j += 1;
    }
    let quoted = |q: u8| -> Option<usize> {
        (b.get(j) == Some(&q))
            .then(|| s[j + 1..].find(q as char).map(|p| j + 1 + p + 1))
            .flatten()
    };
    let end = quoted(b'\'').or_else(|| quoted(b'"')).unwrap_or_else(|| {
        let mut e = j;
        while e < b.len() && is_unquoted_value_byte(b[e]) {
            e += 1;
        }
        e
    });
    let raw = &s[j..end];
    let value = match raw.as_bytes() {
        [q @ (b'"' | b'\''), .., l] if q == l && raw.len() >= 2 => &raw[1..raw.len() - 1],
        [b'"' | b'\''] => "",
        _ => raw,
    };
    Some((name, value.to_owned(), end))
}

/// `&` that starts no character reference (`&#1;`, `&#x1;`, `&name;`).
fn escape_attr_value(v: &str, out: &mut String) {
    for (i, c) in v.char_indices() {
        match c {
            '>' => out.push_str("&gt;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '&' => {
                if reference_len(&v[i..]).is_some() {
                    out.push('&');
                } else {
                    out.push_str("&amp;");
                }
            }
            c => out.push(c),
        }
    }
}

/// The length of a complete reference (`&#123;`, `&#x1F;`, `&word;`) at the start of `s`.
fn reference_len(s: &str) -> Option<usize> {
    let rest = s.strip_prefix('&')?;
    let (body, ok): (usize, bool) = if let Some(num) = rest.strip_prefix('#') {
        if let Some(hex) = num.strip_prefix('x') {
            let n = hex.bytes().take_while(u8::is_ascii_hexdigit).count();
            (2 + n, n > 0)
        } else {
            let n = num.bytes().take_while(u8::is_ascii_digit).count();
            (1 + n, n > 0)
        }
    } else {
        let n = rest
            .char_indices()
            .find(|(_, c)| !is_word(*c))
            .map_or(rest.len(), |(p, _)| p);
        (n, n > 0)
    };
    (ok && rest[body..].starts_with(';')).then_some(body + 2)
}

fn safe_url(base: Option<&str>, value: &str) -> String {
    let v = value.trim();
    let resolved = match base {
        None => return v.to_owned(),
        Some(b) if v.is_empty() => b.to_owned(),
        Some(b) => resolve_url(Some(b), v),
    };
    if has_safe_scheme(&resolved) {
        resolved
    } else {
        String::new()
    }
}

fn svg_camel(name: &str) -> &str {
    SVG_CAMEL
        .iter()
        .find(|c| c.eq_ignore_ascii_case(name))
        .copied()
        .unwrap_or(name)
}

struct Normalizer<'a> {
    out: String,
    base: Option<&'a str>,
    xhtml: bool,
    /// Depth of open `svg` / `math` elements.
    svg: usize,
    math: usize,
    lasttag: String,
}

impl Normalizer<'_> {
    fn run(&mut self, s: &str) {
        let b = s.as_bytes();
        let n = b.len();
        let mut i = 0;
        while i < n {
            let Some(off) = s[i..].find(['<', '&']) else {
                self.out.push_str(&s[i..]);
                return;
            };
            let j = i + off;
            self.out.push_str(&s[i..j]);
            i = j;
            let next = match b[i] {
                b'<' => self.markup(s, i),
                _ => self.reference(s, i),
            };
            match next {
                Some(k) => i = k,
                None => {
                    // Something left open until the end: the rest is text as written.
                    self.out.push_str(&s[i..]);
                    return;
                }
            }
        }
    }

    /// Handles `<…` at `i`; returns where to continue, or `None` when it runs to the end.
    fn markup(&mut self, s: &str, i: usize) -> Option<usize> {
        let b = s.as_bytes();
        let next = b.get(i + 1).copied();
        if next.is_some_and(|c| c.is_ascii_alphabetic() || c == b'>') {
            return self.start_tag(s, i);
        }
        if next == Some(b'/') {
            let j = end_bracket(s, i + 1)?;
            let raw = s[i + 2..j].trim().to_ascii_lowercase();
            let len = tag_name_len(&raw);
            let tag = if len > 0 { raw[..len].to_owned() } else { raw };
            self.end_tag(&tag);
            return Some(if b[j] == b'>' { j + 1 } else { j });
        }
        if s[i..].starts_with("<!--") {
            let body = &s[i + 4..];
            let mut from = 0;
            while let Some(p) = body[from..].find("--") {
                let at = from + p;
                let rest = &body[at + 2..];
                let ws = rest.len() - rest.trim_start().len();
                if rest[ws..].starts_with('>') {
                    self.out.push_str("<!--");
                    self.out.push_str(&body[..at]);
                    self.out.push_str("-->");
                    return Some(i + 4 + at + 2 + ws + 1);
                }
                from = at + 1;
            }
            return None;
        }
        if s[i..].starts_with("<?") {
            let end = s[i + 2..].find('>')? + i + 2;
            self.out.push_str(&s[i..=end]);
            return Some(end + 1);
        }
        if s[i..].starts_with("<![") {
            let rest = &s[i + 3..];
            let name_len = rest
                .bytes()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
                .count();
            let name = rest[..name_len].to_ascii_lowercase();
            let close: &[&str] = match name.as_str() {
                "temp" | "cdata" | "ignore" | "include" | "rcdata" => &["]", "]", ">"],
                "if" | "else" | "endif" => &["]", ">"],
                _ => {
                    self.out.push_str("&lt;");
                    return Some(i + 1);
                }
            };
            // A marked section is dropped, as HTML processors do.
            let mut from = i + 3;
            loop {
                let p = s[from..].find(']')? + from;
                let mut at = p + 1;
                let mut ok = true;
                for part in &close[1..] {
                    let rest = &s[at..];
                    let ws = rest.len() - rest.trim_start().len();
                    if rest[ws..].starts_with(part) {
                        at += ws + 1;
                    } else {
                        ok = false;
                        break;
                    }
                }
                if ok {
                    return Some(at);
                }
                from = p + 1;
            }
        }
        if s[i..].starts_with("<!") {
            let end = s[i + 2..].find('>')? + i + 2;
            self.out.push_str(&s[i..=end]);
            return Some(end + 1);
        }
        // A `<` that opens nothing is text.
        self.out.push('<');
        Some(i + 1)
    }

    fn start_tag(&mut self, s: &str, i: usize) -> Option<usize> {
        let b = s.as_bytes();
        // `<name/data/`: SGML's null end tag.
        let name_len = tag_name_len(&s[i + 1..]);
        let simple_name = s[i + 1..i + 1 + name_len]
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.'));
        if name_len > 0 && simple_name && b.get(i + 1 + name_len) == Some(&b'/') {
            let data_start = i + 2 + name_len;
            let data_end = s[data_start..].find('/')? + data_start;
            let tag = s[i + 1..i + 1 + name_len].to_ascii_lowercase();
            self.emit_start(&tag, Vec::new());
            self.out.push_str(&s[data_start..data_end]);
            self.end_tag(&tag);
            return Some(data_end + 1);
        }
        let j = end_bracket(s, i + 1)?;
        let (tag, mut k) = if b[i + 1] == b'>' {
            (self.lasttag.clone(), j)
        } else {
            let tag = s[i + 1..i + 1 + name_len].to_ascii_lowercase();
            self.lasttag.clone_from(&tag);
            (tag, i + 1 + name_len)
        };
        let mut attrs = Vec::new();
        while k < j {
            let Some((name, value, end)) = attr_at(s, k) else {
                break;
            };
            attrs.push((name, value));
            k = end;
        }
        let end = if b[j] == b'>' { j + 1 } else { j };
        self.emit_start(&tag, attrs);
        if self.xhtml && end >= 2 && b.get(end - 2..end) == Some(b"/>".as_slice()) {
            self.end_tag(&tag);
        }
        Some(end)
    }

    fn emit_start(&mut self, tag: &str, raw: Vec<(String, String)>) {
        // Duplicates collapse (the last value wins); `rel` and `type` values are
        // case-insensitive.
        let mut attrs: Vec<(String, String)> = Vec::with_capacity(raw.len());
        for (k, v) in raw {
            let v = if k == "rel" || k == "type" {
                v.to_lowercase()
            } else {
                v
            };
            match attrs.iter_mut().find(|(n, _)| *n == k) {
                Some(slot) => slot.1 = v,
                None => attrs.push((k, v)),
            }
        }
        for (k, v) in &mut attrs {
            if URL_ATTRS.contains(&(tag, k.as_str())) {
                *v = safe_url(self.base, v);
            }
        }
        let has = |attrs: &[(String, String)], k: &str, v: &str| {
            attrs.iter().any(|(n, x)| n == k && x == v)
        };
        if !self.xhtml && (tag == "svg" || tag == "math") {
            let ns = if tag == "svg" { SVG_NS } else { MATHML_NS };
            match attrs.iter_mut().find(|(n, _)| n == "xmlns") {
                Some(slot) if slot.1.is_empty() => slot.1 = ns.to_owned(),
                Some(_) => {}
                None => attrs.push(("xmlns".to_owned(), ns.to_owned())),
            }
        }
        if tag == "math" && has(&attrs, "xmlns", MATHML_NS) {
            self.math += 1;
        }
        if tag == "svg" && has(&attrs, "xmlns", SVG_NS) {
            self.svg += 1;
        }
        if (self.svg > 0 || self.math > 0)
            && attrs.iter().any(|(n, _)| n.starts_with("xlink:"))
            && !has(&attrs, "xmlns:xlink", XLINK_NS)
        {
            match attrs.iter_mut().find(|(n, _)| n == "xmlns:xlink") {
                Some(slot) => slot.1 = XLINK_NS.to_owned(),
                None => attrs.push(("xmlns:xlink".to_owned(), XLINK_NS.to_owned())),
            }
        }
        attrs.sort();
        let in_svg = self.svg > 0;
        let name = if in_svg { svg_camel(tag) } else { tag };
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in &attrs {
            self.out.push(' ');
            self.out.push_str(if in_svg { svg_camel(k) } else { k });
            self.out.push_str("=\"");
            escape_attr_value(v, &mut self.out);
            self.out.push('"');
        }
        self.out.push_str(if is_void(tag) { " />" } else { ">" });
    }

    fn end_tag(&mut self, tag: &str) {
        let in_svg = self.svg > 0;
        if tag == "svg" && self.svg > 0 {
            self.svg -= 1;
        }
        if tag == "math" && self.math > 0 {
            self.math -= 1;
        }
        if is_void(tag) {
            return;
        }
        self.out.push_str("</");
        self.out.push_str(if in_svg { svg_camel(tag) } else { tag });
        self.out.push('>');
    }

    /// Handles `&…` at `i`.
    fn reference(&mut self, s: &str, i: usize) -> Option<usize> {
        let b = s.as_bytes();
        let rest = &s[i + 1..];
        if let Some(num) = rest.strip_prefix('#') {
            let (digits, hex) = match num.strip_prefix(['x', 'X']) {
                Some(h) => (h.bytes().take_while(u8::is_ascii_hexdigit).count(), true),
                None => (num.bytes().take_while(u8::is_ascii_digit).count(), false),
            };
            let prefix = usize::from(hex);
            let body_end = 1 + prefix + digits;
            if digits > 0 && rest[body_end..].starts_with(';') {
                let text = &num[prefix..prefix + digits];
                let value = if hex {
                    u32::from_str_radix(text, 16).ok()
                } else {
                    text.parse::<u32>().ok()
                };
                match value.and_then(cp1252) {
                    Some(c) => {
                        self.out.push_str(&format!("&#x{:x};", u32::from(c)));
                    }
                    None => {
                        self.out.push_str("&#");
                        self.out
                            .push_str(&num[..prefix + digits].to_ascii_lowercase());
                        self.out.push(';');
                    }
                }
                return Some(i + 1 + body_end + 1);
            }
            // `&#` without a complete reference is text.
            if !hex && i + 2 + digits >= b.len() {
                return None;
            }
            let len = if hex { 2 } else { 2 + digits };
            self.out.push_str(&s[i..i + len]);
            return Some(i + len);
        }
        let name_len = if rest.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) {
            rest.bytes()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.'))
                .count()
        } else {
            0
        };
        if name_len == 0 {
            if rest.is_empty() {
                return None;
            }
            self.out.push('&');
            return Some(i + 1);
        }
        let name = &rest[..name_len];
        let Some(&term) = rest.as_bytes().get(name_len) else {
            // A name running to the very end is left as written.
            return None;
        };
        let semicolon = term == b';';
        if entities::is_named(name) {
            self.out.push('&');
            self.out.push_str(name);
            self.out.push(';');
        } else {
            self.out.push_str("&amp;");
            self.out.push_str(name);
            if semicolon {
                self.out.push(';');
            }
        }
        Some(i + 1 + name_len + usize::from(semicolon))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::html::looks_like_html;

    fn norm(s: &str) -> String {
        normalize(s, Some("http://e.com/d/"), false)
    }

    #[test]
    fn canonical_form() {
        assert_eq!(norm("Q&A session"), "Q&amp;A session");
        assert_eq!(norm("a<br/>b<br>c"), "a<br />b<br />c");
        assert_eq!(
            norm(r#"<img src="x" alt="a<b">"#),
            r#"<img alt="a&lt;b" src="http://e.com/d/x" />"#
        );
        assert_eq!(
            norm("&#X61; &#146; &foo; &amp; &nbsp; &eacute"),
            "&#x61; &#x2019; &amp;foo; &amp; &nbsp; &eacute"
        );
        assert_eq!(norm("<P CLASS=x>a</P>"), r#"<p class="x">a</p>"#);
        assert_eq!(
            norm(r#"<a href=http://example.com/">example</a>"#),
            r#"<a href="http://example.com/&quot;">example</a>"#
        );
        assert_eq!(
            norm(r#"<p title="a &amp; b" TITLE="c">z</p>"#),
            r#"<p title="c">z</p>"#
        );
        assert_eq!(norm("x < y and y > z"), "x < y and y > z");
        assert_eq!(norm("<!-- c --><?pi x?>"), "<!-- c --><?pi x?>");
        assert_eq!(norm("<![CDATA[x]]>y"), "y");
        assert_eq!(
            norm(r#"<a href="javascript:alert(1)">x</a>"#),
            r#"<a href="">x</a>"#
        );
        assert_eq!(
            norm(r#"<svg viewBox="0 0 1 1"><circle r="1"/></svg>"#),
            r#"<svg viewBox="0 0 1 1" xmlns="http://www.w3.org/2000/svg"><circle r="1"></svg>"#
        );
        assert_eq!(
            normalize(r#"<circle r="1"/><br/>"#, None, true),
            r#"<circle r="1"></circle><br />"#
        );
        assert_eq!(norm("<b>unclosed"), "<b>unclosed");
        assert_eq!(norm("a & b &"), "a & b &");
    }

    #[test]
    fn random_fragments_never_panic() {
        let alphabet: Vec<char> = "<>&#;x/=\"' aé!-[]?Xb1\nsvg".chars().collect();
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let len = next() % 48;
            let s: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let _ = normalize(&s, Some("http://e.com/"), next() % 2 == 0);
            let _ = looks_like_html(&s);
        }
    }

    #[test]
    fn never_panics_on_fragments() {
        for s in [
            "<",
            "&",
            "&#",
            "&#x",
            "<a",
            "<a href='",
            "</",
            "<!",
            "<!-",
            "<!--",
            "<![",
            "<![CDATA[",
            "<?",
            "<a/",
            "<a/b",
            "é<é>&é;",
            "<a b=\"é\">",
            "&#99999999999;",
            "<>",
            "</>",
        ] {
            let _ = normalize(s, Some("http://e.com/"), false);
            let _ = normalize(s, None, true);
            let _ = looks_like_html(s);
        }
    }
}
