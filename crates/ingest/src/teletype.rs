//! The two teletype-era wire formats: IPTC 7901 and ANPA 1312, each one story per file.
//!
//! **IPTC 7901** (dpa, SDA/ATS …): `SOH` header line (service id and number, priority,
//! category, word count, agency), the keyword line, `STX`, a heading of marker lines
//! ("1ST LEAD", "REFILE", "EXTRA" …), the title and an optional "By …" line, ended by ` =`,
//! then the text, `ETX` and a trailer ("131137 GMT Nov 13"). Files with the control
//! characters stripped are read by the same layout. "1ST LEAD", "2ND LEAD" … are updates:
//! versions 2, 3 ….
//!
//! **ANPA 1312** (AP, Kyodo …): `SYN SYN SOH`, the selector line, a line with priority,
//! category, keyword, an optional version ("1stLd-Writethru") and the word count, `STX`,
//! the keyword line, caret-prefixed heading lines (headline, "AP Photo …", "Eds: …",
//! "By …"), tab-indented paragraphs, `ETX` and the trailer ("AP-WF-11-13-13 1509GMT").
//!
//! Both are read line by line in one pass over at most [`Limits::max_bytes`] of text; the
//! agency id is the keyword (plus the ANPA date), so write-throughs update one story.

use newsdesk_domain::{WireItem, WireStatus};

use crate::text::collapse;
use crate::wire::{lead_version, paragraphs_html, urgency};
use crate::{IngestError, Limits};

const SOH: char = '\u{1}';
const STX: char = '\u{2}';
const ETX: char = '\u{3}';

/// True when `c` is a control character other than tab and line ends.
fn is_ctl(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// An IPTC 7901 header line: `eca062 4 i 211 ccccb   dpa 061` (service id with a number,
/// priority digit, category letters, word count).
pub(crate) fn looks_like_7901_header(line: &str) -> bool {
    let mut f = line.split_whitespace();
    let (Some(id), Some(prio), Some(cat), Some(words)) = (f.next(), f.next(), f.next(), f.next())
    else {
        return false;
    };
    id.len() >= 4
        && id.chars().take_while(char::is_ascii_alphabetic).count() >= 2
        && id.chars().any(|c| c.is_ascii_digit())
        && id.chars().all(|c| c.is_ascii_alphanumeric())
        && prio.len() == 1
        && prio.chars().all(|c| c.is_ascii_digit())
        && (1..=3).contains(&cat.len())
        && cat.chars().all(|c| c.is_ascii_alphabetic())
        && words.chars().all(|c| c.is_ascii_digit())
}

/// Which of the two layouts a text is in, if either.
pub(crate) fn sniff(text: &str) -> Option<crate::Format> {
    let t = text.trim_start_matches(|c: char| c == '\u{7f}' || c == '\u{16}' || c.is_whitespace());
    let had_soh = t.starts_with(SOH);
    let t = t.trim_start_matches(SOH);
    let mut lines = t.lines();
    let first = lines.next()?;
    let second = lines.next().unwrap_or("");
    // ANPA: a unit separator after the selector, or DC1–DC4 before the keyword.
    if first.contains('\u{1f}') || second.chars().any(|c| ('\u{11}'..='\u{14}').contains(&c)) {
        return Some(crate::Format::Anpa1312);
    }
    if looks_like_7901_header(first) || (had_soh && t.contains(STX)) {
        return Some(crate::Format::Iptc7901);
    }
    None
}

fn too_large(text: &str, limits: &Limits) -> Result<(), IngestError> {
    if text.len() > limits.max_bytes {
        return Err(IngestError::TooLarge);
    }
    Ok(())
}

/// Blank-line separated paragraphs of plain lines.
fn paragraphs<'a>(lines: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut paras = Vec::new();
    let mut cur = String::new();
    for l in lines {
        let l: String = l.chars().map(|c| if is_ctl(c) { ' ' } else { c }).collect();
        if l.trim().is_empty() {
            if !cur.trim().is_empty() {
                paras.push(std::mem::take(&mut cur));
            }
            cur.clear();
        } else {
            cur.push(' ');
            cur.push_str(l.trim());
        }
    }
    if !cur.trim().is_empty() {
        paras.push(cur);
    }
    paras
}

/// A 7901 / ANPA trailer line: "131137 GMT Nov 13", "091223 dec 18", "211259 Nov 18".
fn is_trailer(line: &str) -> bool {
    let mut f = line.split_whitespace();
    let Some(first) = f.next() else { return false };
    let rest: Vec<&str> = f.collect();
    first.len() == 6
        && first.chars().all(|c| c.is_ascii_digit())
        && (2..=3).contains(&rest.len())
        && rest
            .last()
            .is_some_and(|d| d.chars().all(|c| c.is_ascii_digit()))
}

fn item(agency: &str, id: String, headline: String, body_html: String) -> WireItem {
    WireItem {
        agency: agency.to_owned(),
        agency_id: id,
        version: 1,
        headline,
        summary: String::new(),
        body_html,
        byline: String::new(),
        urgency: None,
        language: None,
        published_at: None,
        updated_at: None,
        subjects: Vec::new(),
        places: Vec::new(),
        usage_terms: None,
        links: Vec::new(),
        status: WireStatus::Usable,
        embargo: None,
    }
}

/// Reads an IPTC 7901 text.
pub(crate) fn parse_7901(
    agency: &str,
    text: &str,
    limits: &Limits,
) -> Result<WireItem, IngestError> {
    too_large(text, limits)?;
    let t = text.trim_start_matches(|c: char| c == '\u{7f}' || c.is_whitespace());
    let t = t.trim_start_matches(SOH);
    // Everything after ETX is the trailer.
    let (main, _trailer) = t.split_once(ETX).unwrap_or((t, ""));
    let mut lines = main.lines().map(|l| l.trim_end_matches('\r'));
    let header = lines.next().unwrap_or("");
    let mut fields = header.split_whitespace();
    let service = fields.next().unwrap_or("");
    let priority = fields.next();
    // The keyword line: the first non-blank line after the header (before STX).
    let mut keyword = String::new();
    let mut rest: Vec<&str> = Vec::new();
    for l in lines.by_ref() {
        let clean = l.trim_matches(|c: char| is_ctl(c) || c.is_whitespace());
        if clean.is_empty() {
            continue;
        }
        if l.trim_start().starts_with(STX) {
            // No keyword line: the heading starts here.
            rest.push(l);
        } else {
            keyword = collapse(clean);
        }
        break;
    }
    rest.extend(lines);
    // The heading: lines up to the one ending in "=" (or up to the first blank line).
    let mut heading: Vec<String> = Vec::new();
    let mut body_start = rest.len();
    for (i, l) in rest.iter().enumerate() {
        let clean: String = l.chars().filter(|c| !is_ctl(*c)).collect();
        let clean = clean.trim();
        if clean.is_empty() {
            if heading.is_empty() {
                continue;
            }
            body_start = i + 1;
            break;
        }
        if let Some(last) = clean.strip_suffix('=') {
            if !last.trim().is_empty() {
                heading.push(collapse(last));
            }
            body_start = i + 1;
            break;
        }
        heading.push(collapse(clean));
    }
    if heading.is_empty() {
        return Err(IngestError::Malformed(
            "an IPTC 7901 text without a heading".into(),
        ));
    }
    let byline_at = heading
        .iter()
        .rposition(|h| h.len() > 3 && h[..3].eq_ignore_ascii_case("by "));
    let byline = byline_at
        .map(|i| heading[i][3..].trim().to_owned())
        .unwrap_or_default();
    let title_at = (0..heading.len())
        .rev()
        .find(|i| Some(*i) != byline_at)
        .unwrap_or(0);
    let headline = heading[title_at].clone();
    let version = heading[..title_at]
        .iter()
        .filter_map(|m| lead_version(m))
        .max()
        .unwrap_or(1);
    let mut body_lines: Vec<&str> = rest.get(body_start..).unwrap_or(&[]).to_vec();
    // Without control characters the trailer is the last non-blank line.
    while body_lines.last().is_some_and(|l| l.trim().is_empty()) {
        body_lines.pop();
    }
    if body_lines.last().is_some_and(|l| is_trailer(l)) {
        body_lines.pop();
    }
    let body_html = paragraphs_html(&paragraphs(body_lines.into_iter()));
    let id_key = if keyword.is_empty() {
        headline.clone()
    } else {
        keyword.clone()
    };
    let mut it = item(
        agency,
        format!(
            "iptc7901:{}:{}",
            service.trim_end_matches(char::is_numeric),
            id_key
        ),
        headline,
        body_html,
    );
    it.version = version;
    it.byline = byline;
    // 7901 priorities run 1 (flash) to 6; the scale is close enough to urgency's.
    it.urgency = urgency(priority);
    Ok(it)
}

/// The slug of an ANPA keyword line, readable: "^BC-WEA--Global Weather-Fahrenheit,<" →
/// "Global Weather-Fahrenheit" (no caret, category prefix, word count or line end).
fn readable_slug(line: &str) -> String {
    let l: String = line.chars().filter(|c| !is_ctl(*c)).collect();
    let l = l
        .trim()
        .trim_start_matches('^')
        .trim_end_matches(['<', '=', '+', ' ']);
    // The word count after the last comma ("…Beauty,466").
    let l = match l.rsplit_once(',') {
        Some((a, b)) if b.trim().chars().all(|c| c.is_ascii_digit()) => a,
        _ => l,
    };
    // The service and category prefix ("BC-WEA--", "BC-US--").
    let l = l.split_once("--").map_or(l, |(_, b)| b);
    collapse(l)
}

/// Longest lede sentence used as a headline, in words.
const LEDE_HEADLINE_WORDS: usize = 30;

/// The first sentence of a lede without its dateline ("HONOLULU (AP) _ Hawaii files …." →
/// "Hawaii files …"), when it is at most [`LEDE_HEADLINE_WORDS`] words.
fn lede_headline(lede: &str) -> Option<String> {
    let lede = lede.trim();
    // A dateline ends with the agency in brackets and a dash ("(AP) _", "(AP) —", "(AP) -").
    let text = lede
        .find(") ")
        .filter(|&i| i < 80 && lede[..i].contains('('))
        .map(|i| lede[i + 2..].trim_start_matches(['_', '-', '\u{2014}', '\u{2013}', ' ']))
        .unwrap_or(lede);
    // The first sentence: up to a full stop followed by a space and a capital, or the end.
    let mut end = text.len();
    for (i, _) in text.match_indices(". ") {
        // Not after an abbreviation ("Gen. Augusto", "U.S. Senate").
        let word = text[..i].rsplit(' ').next().unwrap_or("");
        let abbreviation = word.len() <= 3 && word.starts_with(|c: char| c.is_uppercase());
        if !abbreviation && text[i + 2..].starts_with(|c: char| c.is_uppercase()) {
            end = i;
            break;
        }
    }
    let sentence = text[..end].trim().trim_end_matches('.').trim();
    let words = sentence.split_whitespace().count();
    (3..=LEDE_HEADLINE_WORDS)
        .contains(&words)
        .then(|| sentence.to_owned())
}

/// Reads an ANPA 1312 text.
pub(crate) fn parse_anpa(
    agency: &str,
    text: &str,
    limits: &Limits,
) -> Result<WireItem, IngestError> {
    too_large(text, limits)?;
    let t = text.trim_start_matches(|c: char| c == '\u{16}' || c == '\u{7f}' || c.is_whitespace());
    let t = t.trim_start_matches(SOH);
    let (head, body) = t.split_once(STX).ok_or_else(|| {
        IngestError::Malformed("an ANPA 1312 text without a start of text (STX)".into())
    })?;
    let (body, _trailer) = body.split_once(ETX).unwrap_or((body, ""));
    // Header: selector line, then "p c<DC> keyword [version] mm-dd wordcount".
    let mut head_lines = head.lines();
    let _selector = head_lines.next();
    let info: String = head_lines
        .next()
        .unwrap_or("")
        .chars()
        .map(|c| if is_ctl(c) { ' ' } else { c })
        .collect();
    let fields: Vec<&str> = info.split_whitespace().collect();
    let priority = fields.first().copied().unwrap_or("");
    let kw_at = fields
        .iter()
        .position(|f| f.len() > 2)
        .unwrap_or(fields.len());
    let keyword = fields.get(kw_at).copied().unwrap_or("").to_owned();
    let date = fields
        .iter()
        .skip(kw_at + 1)
        .find(|f| f.len() == 5 && f.as_bytes().get(2) == Some(&b'-'))
        .copied()
        .unwrap_or("");
    let version = fields
        .iter()
        .skip(kw_at + 1)
        .find_map(|f| lead_version(f))
        .unwrap_or(1);

    // Body lines: a caret starts a heading or agate line; `<` and `=` end lines.
    let mut lines = body.lines().map(|l| {
        l.trim_start_matches(STX)
            .trim_end_matches(['\r', ' '])
            .to_owned()
    });
    // The keyword line ("^BC-LT--Argentina-Cancer Beauty,466<"): the slug as written.
    let kw_line = lines.by_ref().find(|l| !l.trim().is_empty());
    let strip = |l: &str| -> String {
        let l = l.trim_start_matches('^');
        let l = l.trim_end_matches(['<', '=', '+', ' ']);
        l.chars()
            .map(|c| if is_ctl(c) { ' ' } else { c })
            .collect::<String>()
            .trim()
            .to_owned()
    };
    let rest: Vec<String> = lines.collect();
    let mut i = 0;
    let mut headline = String::new();
    let mut byline = String::new();
    // The headline: the first line that is neither indented (a paragraph) nor blank.
    if let Some(first) = rest.first() {
        let is_para = first.starts_with('\t') || first.starts_with("   ");
        if !is_para && !first.trim().is_empty() {
            headline = strip(first);
            i = 1;
        }
    }
    // Heading notes: "AP Photo …", "Eds: …", "By …" with the writer's title.
    while let Some(l) = rest.get(i) {
        let s = strip(l);
        if !l.starts_with('^') {
            break;
        }
        let lower = s.to_ascii_lowercase();
        if lower.starts_with("ap photo")
            || lower.starts_with("eds:")
            || lower.starts_with("with ap photo")
        {
            i += 1;
        } else if lower.starts_with("by ") && byline.is_empty() {
            byline = s[3..].trim().to_owned();
            i += 1;
            if let Some(next) = rest.get(i) {
                let n = strip(next);
                let is_title = next.starts_with('^')
                    && next.trim_end().ends_with('=')
                    && n.chars().any(char::is_lowercase)
                    && !n.contains(';');
                if is_title {
                    byline = format!("{byline}, {n}");
                    i += 1;
                }
            }
        } else {
            break;
        }
    }
    // Paragraphs: an indented line starts one, a caret line is one (agate rows), a blank
    // line ends one.
    let mut paras: Vec<String> = Vec::new();
    let mut cur = String::new();
    for l in rest.iter().skip(i) {
        let starts_para = l.starts_with('\t') || l.starts_with("   ") || l.starts_with('^');
        let s = strip(l.trim_start());
        if s.is_empty() || starts_para {
            if !cur.trim().is_empty() {
                paras.push(std::mem::take(&mut cur));
            }
            cur.clear();
        }
        if s.is_empty() || s == "END" {
            continue;
        }
        if l.starts_with('^') {
            paras.push(s);
        } else {
            cur.push(' ');
            cur.push_str(&s);
        }
    }
    if !cur.trim().is_empty() {
        paras.push(cur);
    }
    // The trailer line left before ETX ("AP-WF-11-13-13 1509GMT").
    if paras
        .last()
        .is_some_and(|p| p.trim().starts_with("AP-") && p.trim().ends_with("GMT"))
    {
        paras.pop();
    }
    let body_html = paragraphs_html(&paras);
    if headline.is_empty() && body_html.is_empty() {
        return Err(IngestError::Malformed(
            "an ANPA 1312 text with neither headline nor text".into(),
        ));
    }
    let id_key = if keyword.is_empty() {
        headline.clone()
    } else {
        keyword.clone()
    };
    let slug = kw_line.as_deref().map(readable_slug).unwrap_or_default();
    // A story without a headline line (a news alert, agate) is headed as a desk would head it:
    // by its lede's first sentence when that is headline-sized (an alert is one sentence), else
    // by the slug as written on the keyword line ("Global Weather-Fahrenheit"), else by the
    // keyword. The keyword itself is kept as a subject marked `keyword:`.
    let headline = if headline.is_empty() {
        paras
            .first()
            .and_then(|p| lede_headline(p))
            .or_else(|| Some(slug.clone()).filter(|s| !s.is_empty()))
            .unwrap_or_else(|| keyword.clone())
    } else {
        headline
    };
    let mut it = item(agency, format!("anpa:{id_key}:{date}"), headline, body_html);
    if !keyword.is_empty() {
        it.subjects.push(newsdesk_domain::WireSubject {
            code: format!("keyword:{keyword}"),
            name: Some(if slug.is_empty() {
                keyword.clone()
            } else {
                slug
            }),
        });
    }
    it.version = version;
    it.byline = byline;
    // ANPA priority letters: f flash, b bulletin, u urgent, r regular, d deferred.
    it.urgency = match priority {
        "f" => Some(1),
        "b" => Some(2),
        "u" => Some(3),
        "r" => Some(5),
        "d" => Some(7),
        _ => None,
    };
    Ok(it)
}
