//! Test-only XML well-formedness checker.
//!
//! Not a full XML parser: it checks exactly what our writers could get wrong — invalid
//! characters, unescaped `<`/`&`, unquoted or duplicate attributes, unbalanced tags, a
//! single root, and CDATA sections — so tests can assert well-formedness without pulling an
//! XML crate into the dependency tree.

/// Returns `Err(reason)` if `doc` is not a well-formed XML document.
pub(crate) fn check(doc: &str) -> Result<(), String> {
    let invalid = |c: char| {
        (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{FFFE}' || c == '\u{FFFF}'
    };
    if let Some(c) = doc.chars().find(|&c| invalid(c)) {
        return Err(format!("invalid XML character U+{:04X}", c as u32));
    }
    let mut rest = doc;
    if let Some(after) = rest.strip_prefix("<?xml") {
        let end = after.find("?>").ok_or("unterminated XML declaration")?;
        rest = &after[end + 2..];
    }
    let mut stack: Vec<&str> = Vec::new();
    let mut seen_root = false;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("<![CDATA[") {
            if stack.is_empty() {
                return Err("CDATA outside root".into());
            }
            let end = after.find("]]>").ok_or("unterminated CDATA")?;
            rest = &after[end + 3..];
        } else if let Some(after) = rest.strip_prefix("<!--") {
            let end = after.find("-->").ok_or("unterminated comment")?;
            rest = &after[end + 3..];
        } else if let Some(after) = rest.strip_prefix("</") {
            let end = after.find('>').ok_or("unterminated end tag")?;
            let name = after[..end].trim_end();
            match stack.pop() {
                Some(open) if open == name => {}
                other => return Err(format!("end tag {name} does not match {other:?}")),
            }
            rest = &after[end + 1..];
        } else if let Some(after) = rest.strip_prefix('<') {
            if stack.is_empty() && seen_root {
                return Err("second root element".into());
            }
            let (name, self_closing, remaining) = start_tag(after)?;
            seen_root = true;
            if !self_closing {
                stack.push(name);
            }
            rest = remaining;
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            let text = &rest[..end];
            if stack.is_empty() && !text.trim().is_empty() {
                return Err(format!("text outside root: {text:?}"));
            }
            if text.contains("]]>") {
                return Err("]]> in text".into());
            }
            check_entities(text)?;
            rest = &rest[end..];
        }
    }
    if !stack.is_empty() {
        return Err(format!("unclosed elements {stack:?}"));
    }
    if !seen_root {
        return Err("no root element".into());
    }
    Ok(())
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | ':' | '-' | '.')
}

/// Parses a start tag after its `<`; returns the name, whether it was `/>`, and the rest.
fn start_tag(s: &str) -> Result<(&str, bool, &str), String> {
    let name_end = s.find(|c: char| !is_name_char(c)).unwrap_or(s.len());
    let name = &s[..name_end];
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
        return Err(format!("bad element name near {:?}", &s[..s.len().min(20)]));
    }
    let mut rest = &s[name_end..];
    let mut attrs: Vec<&str> = Vec::new();
    loop {
        let trimmed = rest.trim_start();
        let had_space = trimmed.len() != rest.len();
        rest = trimmed;
        if let Some(r) = rest.strip_prefix("/>") {
            return Ok((name, true, r));
        }
        if let Some(r) = rest.strip_prefix('>') {
            return Ok((name, false, r));
        }
        if !had_space {
            return Err(format!("missing space before attribute in <{name}"));
        }
        let an_end = rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len());
        let attr = &rest[..an_end];
        if attr.is_empty() {
            return Err(format!("bad attribute in <{name}"));
        }
        if attrs.contains(&attr) {
            return Err(format!("duplicate attribute {attr} in <{name}"));
        }
        attrs.push(attr);
        rest = rest[an_end..]
            .trim_start()
            .strip_prefix('=')
            .ok_or_else(|| format!("attribute {attr} without value"))?
            .trim_start();
        let quote = rest
            .chars()
            .next()
            .filter(|&q| q == '"' || q == '\'')
            .ok_or_else(|| format!("unquoted attribute {attr}"))?;
        let body = &rest[1..];
        let end = body.find(quote).ok_or("unterminated attribute value")?;
        let value = &body[..end];
        if value.contains('<') {
            return Err(format!("< in attribute {attr}"));
        }
        check_entities(value)?;
        rest = &body[end + 1..];
    }
}

fn check_entities(text: &str) -> Result<(), String> {
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        let after = &rest[i + 1..];
        let end = after.find(';').ok_or("unterminated entity")?;
        let ent = &after[..end];
        let ok = matches!(ent, "amp" | "lt" | "gt" | "quot" | "apos")
            || ent
                .strip_prefix("#x")
                .is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()))
            || ent
                .strip_prefix('#')
                .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()));
        if !ok {
            return Err(format!("bad entity &{ent};"));
        }
        rest = &after[end + 1..];
    }
    Ok(())
}

#[test]
fn checker_accepts_and_rejects() {
    assert!(
        check("<?xml version=\"1.0\"?><a x=\"1\" y='2'><b/>t &amp; <![CDATA[<x>]]></a>").is_ok()
    );
    for bad in [
        "<a>",
        "<a></b>",
        "<a>x < y</a>",
        "<a>x & y</a>",
        "<a x=1/>",
        "<a x=\"1\" x=\"2\"/>",
        "<a/><b/>",
        "<a>\u{1}</a>",
        "<a>]]></a>",
        "text",
        "<a><![CDATA[x</a>",
    ] {
        assert!(check(bad).is_err(), "{bad}");
    }
}
