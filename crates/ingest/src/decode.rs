//! Bytes to text: BOM, XML declaration and Content-Type charset, via `encoding_rs`.
//!
//! Precedence: a byte-order mark wins; then the `encoding` of the XML declaration; then the
//! `charset` parameter of the Content-Type; then UTF-8 (or UTF-16 when the first bytes show
//! it). Bytes that are malformed in the chosen encoding give [`IngestError::Encoding`]
//! rather than a lossy decode: agency copy with replacement characters in it would be
//! silently corrupted, and a clear error lets the desk ask the source to fix its feed.

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8};

use crate::IngestError;

/// The `charset` parameter of a Content-Type value, if any.
pub(crate) fn content_type_charset(content_type: Option<&str>) -> Option<String> {
    let ct = content_type?;
    ct.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches(['"', '\'']).to_owned())
    })
}

/// The `encoding` pseudo-attribute of an XML declaration at the start of ASCII-compatible
/// bytes.
fn xml_decl_encoding(bytes: &[u8]) -> Option<String> {
    let head = bytes.get(..bytes.len().min(512))?;
    let head = std::str::from_utf8(head)
        .ok()
        .map(str::to_owned)
        .unwrap_or_else(|| String::from_utf8_lossy(head).into_owned());
    let trimmed = head.trim_start();
    if !trimmed.starts_with("<?xml") {
        return None;
    }
    let decl = &trimmed[..trimmed.find("?>")?];
    let pos = decl.find("encoding")?;
    let rest = decl[pos + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?;
    let rest = rest.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &rest[1..];
    let end = value.find(quote)?;
    Some(value[..end].trim().to_owned())
}

fn label(name: &str) -> Result<&'static Encoding, IngestError> {
    // encoding_rs follows the WHATWG labels; a few XML-world aliases need a nudge.
    let lowered = name.trim().to_ascii_lowercase();
    let name = match lowered.as_str() {
        "utf8" => "utf-8",
        "utf-16" | "utf16" | "utf-32" | "utf32" | "utf-32le" | "utf-32be" | "ucs-4"
        | "iso-10646-ucs-4" => "utf-16le",
        "latin1" | "latin-1" => "iso-8859-1",
        other => other,
    };
    Encoding::for_label(name.as_bytes())
        .or_else(|| Encoding::for_label(format!("x-{name}").as_bytes()))
        .ok_or_else(|| IngestError::Encoding(format!("unknown encoding {name:?}")))
}

/// UTF-32 (which `encoding_rs` does not carry), strictly: every unit a valid scalar value.
fn utf32(bytes: &[u8], big_endian: bool) -> Result<String, IngestError> {
    let bad = || IngestError::Encoding("bytes not valid in UTF-32".into());
    if !bytes.len().is_multiple_of(4) {
        return Err(bad());
    }
    bytes
        .chunks_exact(4)
        .map(|c| {
            let unit = [c[0], c[1], c[2], c[3]];
            let n = if big_endian {
                u32::from_be_bytes(unit)
            } else {
                u32::from_le_bytes(unit)
            };
            char::from_u32(n).ok_or_else(bad)
        })
        .collect()
}

/// Decodes a document's bytes to text.
pub(crate) fn decode(bytes: &[u8], content_type: Option<&str>) -> Result<String, IngestError> {
    // UTF-32, by its byte-order mark or by the zero bytes around the first `<`; checked
    // before UTF-16, whose little-endian mark is a prefix of UTF-32's.
    match bytes {
        [0, 0, 0xFE, 0xFF, rest @ ..] => return utf32(rest, true),
        [0xFF, 0xFE, 0, 0, rest @ ..] => return utf32(rest, false),
        [0, 0, 0, b'<', ..] => return utf32(bytes, true),
        [b'<', 0, 0, 0, ..] => return utf32(bytes, false),
        _ => {}
    }
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        return strict(enc, &bytes[bom_len..]);
    }
    // UTF-16 without a BOM: `<` followed or preceded by a zero byte.
    match bytes {
        [b'<', 0, ..] => return strict(UTF_16LE, bytes),
        [0, b'<', ..] => return strict(UTF_16BE, bytes),
        _ => {}
    }
    let declared = xml_decl_encoding(bytes).or_else(|| content_type_charset(content_type));
    let enc = match declared {
        Some(name) => label(&name)?,
        None => UTF_8,
    };
    // A declaration saying UTF-16 (or UTF-32, see `label`) on bytes that are plainly
    // ASCII-compatible (we read the declaration as ASCII) is a lie; treat it as UTF-8.
    let enc = if enc == UTF_16LE || enc == UTF_16BE {
        UTF_8
    } else {
        enc
    };
    strict(enc, bytes)
}

/// Decodes an agency file (NITF, NewsML 1.x, IPTC 7901, ANPA 1312). Agencies often declare
/// a legacy single-byte encoding on files that are really UTF-8 (the declaration is a
/// template nobody updates); bytes that are valid UTF-8 are taken as UTF-8 whatever the
/// declaration says, since Latin-1 text that happens to be valid UTF-8 is vanishingly rare.
/// Anything else follows [`decode`]; a text format without a declaration and not UTF-8 is
/// read as Windows-1252 (Latin-1's superset), the encoding of the old wire services.
pub(crate) fn decode_agency(
    bytes: &[u8],
    content_type: Option<&str>,
    xml: bool,
) -> Result<String, IngestError> {
    let body = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(body) {
        return Ok(s.to_owned());
    }
    if xml {
        return decode(bytes, content_type);
    }
    let enc = match content_type_charset(content_type) {
        Some(name) => label(&name)?,
        None => encoding_rs::WINDOWS_1252,
    };
    strict(enc, bytes)
}

fn strict(enc: &'static Encoding, bytes: &[u8]) -> Result<String, IngestError> {
    let (text, had_errors) = enc.decode_without_bom_handling(bytes);
    if had_errors {
        let what = if enc == UTF_8 {
            "invalid UTF-8".to_owned()
        } else {
            format!("bytes not valid in {}", enc.name())
        };
        return Err(IngestError::Encoding(what));
    }
    Ok(text.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_encodings() {
        assert_eq!(
            decode(
                b"<?xml version='1.0' encoding='iso-8859-1'?><a>\xe9</a>",
                None
            )
            .ok()
            .as_deref(),
            Some("<?xml version='1.0' encoding='iso-8859-1'?><a>é</a>")
        );
        assert_eq!(
            decode(b"<a>\xe9</a>", Some("text/xml; charset=windows-1252"))
                .ok()
                .as_deref(),
            Some("<a>é</a>")
        );
        assert!(matches!(
            decode(b"<a>\xff\xfe\xfd</a>", None),
            Err(IngestError::Encoding(_))
        ));
        assert_eq!(
            decode(b"\xef\xbb\xbf<a/>", None).ok().as_deref(),
            Some("<a/>")
        );
        assert!(matches!(
            decode(b"<?xml version='1.0' encoding='x-nonsense'?><a/>", None),
            Err(IngestError::Encoding(_))
        ));
        let utf32be: Vec<u8> = "<a>é</a>"
            .chars()
            .flat_map(|c| u32::from(c).to_be_bytes())
            .collect();
        assert_eq!(decode(&utf32be, None).ok().as_deref(), Some("<a>é</a>"));
        let mut utf32le = vec![0xFF, 0xFE, 0, 0];
        utf32le.extend("<a/>".chars().flat_map(|c| u32::from(c).to_le_bytes()));
        assert_eq!(decode(&utf32le, None).ok().as_deref(), Some("<a/>"));
        assert!(matches!(
            decode(&[0, 0, 0, b'<', 0, 0x11, 0, 0], None),
            Err(IngestError::Encoding(_))
        ));
    }
}
