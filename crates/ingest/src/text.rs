//! Small text helpers: HTML to plain text, relative URL resolution (also inside HTML),
//! base64 and a stable hash.

use crate::entities;
pub(crate) use newsdesk_domain::text::{escape_html, html_to_text};

/// True when `s` starts with a URL scheme (`http:`, `tag:`, `urn:`, `mailto:` …).
pub(crate) fn has_scheme(s: &str) -> bool {
    let Some(colon) = s.find(':') else {
        return false;
    };
    let scheme = &s[..colon];
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// URL schemes a resolved URL attribute may keep.
const SAFE_SCHEMES: &[&str] = &[
    "file", "ftp", "gopher", "h323", "hdl", "http", "https", "imap", "magnet", "mailto", "mms",
    "news", "nntp", "prospero", "rsync", "rtsp", "rtspu", "sftp", "shttp", "sip", "sips", "snews",
    "svn", "svn+ssh", "telnet", "wais", "aim", "callto", "cvs", "facetime", "feed", "git", "gtalk",
    "irc", "ircs", "irc6", "itms", "msnim", "skype", "ssh", "smb", "ymsg",
];

/// True when `url` has no scheme or one from the safe list (`http`, `https`, `ftp`,
/// `mailto` …), as opposed to `javascript:`, `data:` or `vbscript:`.
pub(crate) fn has_safe_scheme(url: &str) -> bool {
    match url.trim().split_once(':') {
        Some((scheme, _))
            if !scheme.is_empty()
                && scheme
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.')) =>
        {
            SAFE_SCHEMES.contains(&scheme.to_ascii_lowercase().as_str())
        }
        _ => true,
    }
}

/// Resolves `rel` against `base`. Absolute references are returned unchanged (not
/// normalised), and so is everything when there is no usable base.
pub(crate) fn resolve_url(base: Option<&str>, rel: &str) -> String {
    let rel = rel.trim();
    if has_scheme(rel) {
        return rel.to_owned();
    }
    let Some(base) = base.map(str::trim).filter(|b| !b.is_empty()) else {
        return rel.to_owned();
    };
    match url::Url::parse(base).and_then(|b| b.join(rel)) {
        Ok(u) if rel.is_ascii() || rel.contains('%') => u.to_string(),
        // Keep non-ASCII characters the feed wrote as they were (IRIs), instead of the
        // percent-encoded form the URL parser produces.
        Ok(u) => unescape_non_ascii(u.as_str()),
        Err(_) => rel.to_owned(),
    }
}

/// Decodes percent-escapes that spell non-ASCII UTF-8; ASCII escapes stay as they are.
fn unescape_non_ascii(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(b) = hex.filter(|b| *b >= 0x80) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

/// Combines an element's `xml:base` with the inherited base. A base with a scheme that
/// could run code (`javascript:` …) is ignored.
pub(crate) fn child_base(parent: Option<&str>, xml_base: Option<&str>) -> Option<String> {
    match xml_base {
        Some(b) => {
            let resolved = resolve_url(parent, b);
            if has_safe_scheme(&resolved) {
                Some(resolved)
            } else {
                parent.map(str::to_owned)
            }
        }
        None => parent.map(str::to_owned),
    }
}

const URL_ATTRS: &[&str] = &[
    "href",
    "src",
    "action",
    "background",
    "cite",
    "longdesc",
    "poster",
    "usemap",
    "codebase",
    "data",
    "profile",
];

/// Rewrites relative URLs in the URL-valued attributes of an HTML fragment (`href`, `src`,
/// …) against `base`. Everything else is copied byte for byte.
pub(crate) fn resolve_html(html: &str, base: Option<&str>) -> String {
    let Some(base) = base else {
        return html.to_owned();
    };
    if !html.contains('<') {
        return html.to_owned();
    }
    let mut out = String::with_capacity(html.len() + 32);
    let bytes = html.as_bytes();
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        if bytes[i] != b'<' || !bytes.get(i + 1).is_some_and(u8::is_ascii_alphabetic) {
            i += 1;
            continue;
        }
        // Inside a start tag: walk attributes.
        let mut j = i + 1;
        while j < bytes.len()
            && !bytes[j].is_ascii_whitespace()
            && bytes[j] != b'>'
            && bytes[j] != b'/'
        {
            j += 1;
        }
        loop {
            while j < bytes.len() && (bytes[j].is_ascii_whitespace() || bytes[j] == b'/') {
                j += 1;
            }
            if j >= bytes.len() || bytes[j] == b'>' {
                break;
            }
            let name_start = j;
            while j < bytes.len()
                && !bytes[j].is_ascii_whitespace()
                && !matches!(bytes[j], b'=' | b'>' | b'/')
            {
                j += 1;
            }
            let name = html[name_start..j].to_ascii_lowercase();
            while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                j += 1;
            }
            if j >= bytes.len() || bytes[j] != b'=' {
                continue;
            }
            j += 1;
            while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                j += 1;
            }
            let (vstart, vend, next) = match bytes.get(j) {
                Some(q @ (b'"' | b'\'')) => {
                    let start = j + 1;
                    let end = html[start..]
                        .find(*q as char)
                        .map_or(bytes.len(), |p| start + p);
                    (start, end, (end + 1).min(bytes.len()))
                }
                Some(_) => {
                    let start = j;
                    let mut end = j;
                    while end < bytes.len()
                        && !bytes[end].is_ascii_whitespace()
                        && bytes[end] != b'>'
                    {
                        end += 1;
                    }
                    (start, end, end)
                }
                None => break,
            };
            if URL_ATTRS.contains(&name.as_str()) && vend <= bytes.len() {
                let raw = &html[vstart..vend];
                let decoded = entities::decode(raw);
                let resolved = resolve_url(Some(base), &decoded);
                if resolved != decoded {
                    out.push_str(&html[copied..vstart]);
                    out.push_str(&resolved.replace('&', "&amp;").replace('"', "&quot;"));
                    copied = vend;
                }
            }
            j = next;
        }
        i = j.max(i + 1);
    }
    out.push_str(&html[copied.min(html.len())..]);
    out
}

/// Collapses runs of whitespace (including no-break spaces) to one space and trims.
pub(crate) fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s
        .split(|c: char| c.is_whitespace())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

/// Decodes standard or URL-safe base64, ignoring whitespace. `None` when invalid.
pub(crate) fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let mut buf = 0u32;
    let mut bits = 0u32;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            c if c.is_ascii_whitespace() => continue,
            _ => return None,
        };
        buf = (buf << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buf >> bits) & 0xFF).ok()?);
        }
    }
    Some(out)
}

/// A stable 64-bit FNV-1a hash, printed as 16 hex digits (stable across releases and
/// platforms, unlike `std`'s hasher).
pub(crate) fn stable_hash(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0xFF)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// Plain text to HTML paragraphs (blank lines separate paragraphs).
pub(crate) fn text_to_html(s: &str) -> String {
    let mut out = String::new();
    let normalised = s.replace("\r\n", "\n");
    for para in normalised
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        out.push_str("<p>");
        out.push_str(&escape_html(para).replace('\n', "<br>"));
        out.push_str("</p>");
    }
    out
}

/// Maps an IPTC Media Topic URI (`http://cv.iptc.org/newscodes/mediatopic/20000763`) to its
/// qualified code (`medtop:20000763`).
pub(crate) fn medtop_from_uri(uri: &str) -> Option<String> {
    let rest = uri
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .strip_prefix("cv.iptc.org/newscodes/mediatopic/")?;
    let code = rest.trim_end_matches('/');
    (!code.is_empty() && code.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| format!("medtop:{code}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves() {
        assert_eq!(
            resolve_url(Some("http://example.com/a/b"), "c"),
            "http://example.com/a/c"
        );
        assert_eq!(
            resolve_url(Some("http://example.com/"), "http://www.EXAMPLE.org/thing"),
            "http://www.EXAMPLE.org/thing"
        );
        assert_eq!(
            resolve_html(
                r#"<a href="/x?a=1&amp;b=2">t</a> <img alt=1 src=y.png>"#,
                Some("http://e.com/d/")
            ),
            r#"<a href="http://e.com/x?a=1&amp;b=2">t</a> <img alt=1 src=http://e.com/d/y.png>"#
        );
    }

    #[test]
    fn base64() {
        assert_eq!(
            base64_decode("RXhhbXBsZSA8Yj5BdG9tPC9iPg==").as_deref(),
            Some(&b"Example <b>Atom</b>"[..])
        );
    }
}
