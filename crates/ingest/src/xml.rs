//! A small, bounded XML tree on top of quick-xml's pull parser.
//!
//! Every element, text run and reference counts against [`Limits::max_nodes`], nesting
//! against [`Limits::max_depth`]; a DOCTYPE with an internal subset is refused before any
//! entity could be declared, so entity expansion attacks and external entities cannot
//! happen. Only the predefined XML entities, numeric references and a table of common HTML
//! named entities are decoded; unknown references are kept as literal text.

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::{entities, IngestError, Limits};

/// The XHTML namespace.
pub(crate) const XHTML: &str = "http://www.w3.org/1999/xhtml";
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
const SVG: &str = "http://www.w3.org/2000/svg";
const MATHML: &str = "http://www.w3.org/1998/Math/MathML";
const XLINK: &str = "http://www.w3.org/1999/xlink";

/// Namespaces feeds use, in their canonical spelling: a declaration that differs only in
/// case (`http://www.w3.org/2005/atom`) is read as the real one.
const KNOWN_NS: &[&str] = &[
    "http://www.w3.org/2005/Atom",
    "http://purl.org/atom/ns#",
    "http://purl.org/rss/1.0/",
    "http://my.netscape.com/rdf/simple/0.9/",
    "http://purl.org/dc/elements/1.1/",
    "http://purl.org/dc/terms/",
    "http://purl.org/rss/1.0/modules/content/",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "http://search.yahoo.com/mrss/",
    "http://www.itunes.com/dtds/podcast-1.0.dtd",
    XHTML,
    SVG,
    MATHML,
    XLINK,
];

/// Other spellings of known namespaces seen in feeds.
const NS_ALIASES: &[(&str, &str)] = &[
    (
        "http://search.yahoo.com/mrss",
        "http://search.yahoo.com/mrss/",
    ),
    (
        "http://purl.org/dc/elements/1.1",
        "http://purl.org/dc/elements/1.1/",
    ),
    ("http://purl.org/dc/terms", "http://purl.org/dc/terms/"),
    ("http://purl.org/rss/1.0", "http://purl.org/rss/1.0/"),
];

fn canonical_ns(uri: String) -> String {
    let trimmed = uri.trim();
    if let Some(k) = KNOWN_NS.iter().find(|k| k.eq_ignore_ascii_case(trimmed)) {
        return (*k).to_owned();
    }
    match NS_ALIASES
        .iter()
        .find(|(alias, _)| alias.eq_ignore_ascii_case(trimmed))
    {
        Some((_, k)) => (*k).to_owned(),
        None => uri,
    }
}

/// One attribute, with its namespace resolved.
#[derive(Debug, Clone)]
pub(crate) struct Attr {
    pub ns: String,
    pub local: String,
    /// The name as written (`xml:base`, `xmlns:dc`, `href`).
    pub qname: String,
    pub value: String,
}

/// A node: element or text.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Element(Element),
    Text(String),
}

/// An element with its namespace resolved.
#[derive(Debug, Clone, Default)]
pub(crate) struct Element {
    pub ns: String,
    pub local: String,
    pub qname: String,
    pub attrs: Vec<Attr>,
    pub children: Vec<Node>,
}

impl Element {
    /// True when this element is `local` in namespace `ns`.
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.ns == ns && self.local == local
    }

    /// Child elements.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// First child element with this namespace and local name.
    pub fn child(&self, ns: &str, local: &str) -> Option<&Element> {
        self.elements().find(|e| e.is(ns, local))
    }

    /// Child elements with this namespace and local name.
    pub fn children_named<'a>(
        &'a self,
        ns: &'a str,
        local: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.elements().filter(move |e| e.is(ns, local))
    }

    /// Attribute without namespace.
    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns.is_empty() && a.local == local)
            .map(|a| a.value.as_str())
    }

    /// Attribute in a namespace.
    pub fn attr_ns(&self, ns: &str, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns == ns && a.local == local)
            .map(|a| a.value.as_str())
    }

    /// `xml:base` on this element.
    pub fn xml_base(&self) -> Option<&str> {
        self.attr_ns(XML_NS, "base")
    }

    /// `xml:lang` on this element.
    pub fn xml_lang(&self) -> Option<&str> {
        self.attr_ns(XML_NS, "lang")
    }

    /// All text below this element, concatenated.
    pub fn text(&self) -> String {
        let mut out = String::new();
        collect_text(self, &mut out);
        out
    }

    /// The element's own text (not its descendants'), trimmed; `None` when empty.
    pub fn own_text_trim(&self) -> Option<String> {
        let mut out = String::new();
        for c in &self.children {
            if let Node::Text(t) = c {
                out.push_str(t);
            }
        }
        let t = out.trim();
        (!t.is_empty()).then(|| t.to_owned())
    }

    /// Text, trimmed; `None` when empty.
    pub fn text_trim(&self) -> Option<String> {
        let t = self.text();
        let t = t.trim();
        (!t.is_empty()).then(|| t.to_owned())
    }

    /// The children serialised back to XML (used for inline XHTML content).
    pub fn inner_xml(&self) -> String {
        let mut out = String::new();
        for c in &self.children {
            write_node(c, &mut out);
        }
        out
    }

    /// The children serialised as HTML, the way feed readers rebuild inline XHTML: element
    /// names without their prefix, namespace declarations dropped (SVG and MathML roots
    /// keep theirs, XLink declarations stay), empty void elements as `<br />` and every
    /// other element with an end tag.
    pub fn inner_html(&self) -> String {
        let mut out = String::new();
        for c in &self.children {
            write_html(c, &mut out);
        }
        out
    }
}

fn write_html(n: &Node, out: &mut String) {
    match n {
        Node::Text(t) => escape_into(t, false, out),
        Node::Element(e) => {
            let name = e.local.as_str();
            out.push('<');
            out.push_str(name);
            let own_ns = match (name, e.ns.as_str()) {
                ("svg", SVG) | ("math", MATHML) => Some(e.ns.as_str()),
                _ => None,
            };
            if let Some(ns) = own_ns {
                out.push_str(" xmlns=\"");
                escape_into(ns, true, out);
                out.push('"');
            }
            for a in &e.attrs {
                let is_decl = a.qname == "xmlns" || a.qname.starts_with("xmlns:");
                if is_decl && !(a.qname.starts_with("xmlns:") && a.value == XLINK) {
                    continue;
                }
                out.push(' ');
                out.push_str(&a.qname);
                out.push_str("=\"");
                escape_into(&a.value, true, out);
                out.push('"');
            }
            if e.children.is_empty() && is_void(&e.local.to_ascii_lowercase()) {
                out.push_str(" />");
                return;
            }
            out.push('>');
            for c in &e.children {
                write_html(c, out);
            }
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
    }
}

fn collect_text(e: &Element, out: &mut String) {
    for c in &e.children {
        match c {
            Node::Text(t) => out.push_str(t),
            Node::Element(e) => collect_text(e, out),
        }
    }
}

fn escape_into(s: &str, attr: bool, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

fn write_node(n: &Node, out: &mut String) {
    match n {
        Node::Text(t) => escape_into(t, false, out),
        Node::Element(e) => {
            // XHTML elements are written without prefix and without the XHTML namespace
            // declaration, so the result reads as plain HTML.
            let name = if e.ns == XHTML { &e.local } else { &e.qname };
            out.push('<');
            out.push_str(name);
            for a in &e.attrs {
                let is_decl = a.qname == "xmlns" || a.qname.starts_with("xmlns:");
                if is_decl && a.value == XHTML {
                    continue;
                }
                out.push(' ');
                out.push_str(&a.qname);
                out.push_str("=\"");
                escape_into(&a.value, true, out);
                out.push('"');
            }
            if e.children.is_empty() && is_void(&e.local) {
                out.push_str(" />");
                return;
            }
            out.push('>');
            for c in &e.children {
                write_node(c, out);
            }
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
    }
}

fn is_void(name: &str) -> bool {
    matches!(
        name,
        "br" | "hr"
            | "img"
            | "input"
            | "meta"
            | "link"
            | "area"
            | "base"
            | "col"
            | "embed"
            | "param"
            | "source"
            | "track"
            | "wbr"
    )
}

/// Prefixes feeds often use without declaring them; tolerated with their usual namespace.
fn well_known_prefix(prefix: &str) -> Option<&'static str> {
    Some(match prefix {
        "xml" => XML_NS,
        "dc" => "http://purl.org/dc/elements/1.1/",
        "dcterms" => "http://purl.org/dc/terms/",
        "content" => "http://purl.org/rss/1.0/modules/content/",
        "rdf" => "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        "atom" => "http://www.w3.org/2005/Atom",
        "xhtml" => XHTML,
        "media" => "http://search.yahoo.com/mrss/",
        _ => return None,
    })
}

struct Scope {
    /// Namespace declarations made on this element: (prefix, uri); "" is the default.
    decls: Vec<(String, String)>,
}

fn lookup(scopes: &[Scope], prefix: &str) -> String {
    for s in scopes.iter().rev() {
        if let Some((_, uri)) = s.decls.iter().rev().find(|(p, _)| p == prefix) {
            return uri.clone();
        }
    }
    if prefix.is_empty() {
        return String::new();
    }
    well_known_prefix(prefix).unwrap_or_default().to_owned()
}

fn split_qname(q: &str) -> (&str, &str) {
    match q.split_once(':') {
        Some((p, l)) => (p, l),
        None => ("", q),
    }
}

fn malformed(e: impl std::fmt::Display) -> IngestError {
    IngestError::Malformed(e.to_string())
}

fn build_element(start: &BytesStart<'_>, scopes: &mut Vec<Scope>) -> Result<Element, IngestError> {
    let qname = start.name().as_ref().to_owned();
    let mut raw_attrs = Vec::new();
    let mut decls = Vec::new();
    for a in start.attributes().with_checks(false) {
        let a = a.map_err(malformed)?;
        let key = a.key.as_ref().to_owned();
        let value = entities::decode(&a.value);
        if key == "xmlns" {
            decls.push((String::new(), canonical_ns(value.clone())));
        } else if let Some(p) = key.strip_prefix("xmlns:") {
            decls.push((p.to_owned(), canonical_ns(value.clone())));
        }
        raw_attrs.push((key, value));
    }
    scopes.push(Scope { decls });
    let (prefix, local) = split_qname(&qname);
    let ns = lookup(scopes, prefix);
    let local = local.to_owned();
    let attrs = raw_attrs
        .into_iter()
        .map(|(key, value)| {
            let (p, l) = split_qname(&key);
            let ns = if p.is_empty() || p == "xmlns" || key == "xmlns" {
                String::new()
            } else {
                lookup(scopes, p)
            };
            Attr {
                ns,
                local: l.to_owned(),
                qname: key.clone(),
                value,
            }
        })
        .collect();
    Ok(Element {
        ns,
        local,
        qname,
        attrs,
        children: Vec::new(),
    })
}

fn push_text(stack: &mut [Element], text: &str) {
    if let Some(top) = stack.last_mut() {
        if let Some(Node::Text(t)) = top.children.last_mut() {
            t.push_str(text);
        } else {
            top.children.push(Node::Text(text.to_owned()));
        }
    }
}

/// Refuses DOCTYPEs that could declare entities (an internal subset `[...]`, or `ENTITY`).
fn check_doctype(content: &str) -> Result<(), IngestError> {
    if content.contains('[') || content.to_ascii_uppercase().contains("ENTITY") {
        return Err(IngestError::Dtd);
    }
    Ok(())
}

/// Agency XML (NewsML 1.x, NITF) often carries a DOCTYPE whose internal subset only pulls
/// in the format's DTD through a parameter entity (`[<!ENTITY % nitf SYSTEM "nitf.dtd">
/// %nitf;]`). Parameter entities cannot reach the content and nothing is ever fetched, so
/// such a subset is dropped before parsing; a subset that declares a general entity is left
/// for [`check_doctype`] to refuse.
pub(crate) fn drop_parameter_subset(text: &str) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    let head = &text[..text.len().min(8 * 1024)];
    let Some(start) = head.find("<!DOCTYPE") else {
        return Cow::Borrowed(text);
    };
    let after = &text[start..];
    let Some(open) = after.find('[') else {
        return Cow::Borrowed(text);
    };
    if after[..open].contains('>') {
        return Cow::Borrowed(text);
    }
    let Some(close) = after[open..].find(']') else {
        return Cow::Borrowed(text);
    };
    let subset = &after[open + 1..open + close];
    let general = subset
        .match_indices("<!ENTITY")
        .any(|(i, _)| !subset[i + 8..].trim_start().starts_with('%'));
    if general {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..start + open]);
    out.push_str(&text[start + open + close + 1..]);
    Cow::Owned(out)
}

/// A parsed document: the root element and the DOCTYPE declaration, if any.
pub(crate) struct Document {
    pub root: Element,
    pub doctype: Option<String>,
}

/// Parses text into its root element, within the limits.
pub(crate) fn parse(text: &str, limits: &Limits) -> Result<Element, IngestError> {
    parse_document(text, limits).map(|d| d.root)
}

/// A document whose only defect is the root's end tag cut short at the very end
/// (`…</rss`) gets its `>` back; anything else that ends early stays an error.
fn complete_last_end_tag(text: &str) -> Option<String> {
    let trimmed = text.trim_end();
    let lt = trimmed.rfind("</")?;
    let name = &trimmed[lt + 2..];
    let is_name = !name.is_empty()
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b':' | b'.' | b'-'));
    is_name.then(|| format!("{trimmed}>"))
}

/// Parses text into a [`Document`], within the limits.
pub(crate) fn parse_document(text: &str, limits: &Limits) -> Result<Document, IngestError> {
    if text.len() > limits.max_bytes {
        return Err(IngestError::TooLarge);
    }
    let completed = complete_last_end_tag(text);
    let text = completed.as_deref().unwrap_or(text);
    let mut doctype = None;
    let mut reader = Reader::from_str(text);
    {
        let cfg = reader.config_mut();
        cfg.allow_dangling_amp = true;
        cfg.check_end_names = true;
        cfg.expand_empty_elements = false;
    }
    let mut stack: Vec<Element> = Vec::new();
    let mut scopes: Vec<Scope> = Vec::new();
    let mut root: Option<Element> = None;
    let mut nodes = 0usize;
    loop {
        let ev = reader.read_event().map_err(|e| {
            IngestError::Malformed(format!("{e} at byte {}", reader.error_position()))
        })?;
        if !matches!(ev, Event::Eof) {
            nodes += 1;
            if nodes > limits.max_nodes {
                return Err(IngestError::TooManyNodes);
            }
        }
        match ev {
            Event::Start(s) => {
                if stack.len() >= limits.max_depth {
                    return Err(IngestError::TooDeep);
                }
                let el = build_element(&s, &mut scopes)?;
                stack.push(el);
            }
            Event::Empty(s) => {
                if stack.len() >= limits.max_depth {
                    return Err(IngestError::TooDeep);
                }
                let el = build_element(&s, &mut scopes)?;
                scopes.pop();
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(el)),
                    None => {
                        if root.is_none() {
                            root = Some(el);
                        }
                    }
                }
            }
            Event::End(_) => {
                scopes.pop();
                let Some(el) = stack.pop() else {
                    return Err(IngestError::Malformed("unexpected end tag".into()));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(el)),
                    None => {
                        if root.is_none() {
                            root = Some(el);
                        }
                    }
                }
            }
            Event::Text(t) => {
                push_text(&mut stack, &t);
            }
            Event::CData(t) => {
                push_text(&mut stack, &t);
            }
            Event::GeneralRef(r) => {
                let name: &str = &r;
                match entities::resolve(name) {
                    Some(c) => push_text(&mut stack, c.encode_utf8(&mut [0u8; 4])),
                    None => push_text(&mut stack, &format!("&{name};")),
                }
            }
            Event::DocType(d) => {
                check_doctype(&d)?;
                let d: &str = &d;
                doctype = Some(d.to_owned());
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(IngestError::Malformed(format!(
            "document ends inside <{}> (truncated?)",
            stack.last().map(|e| e.qname.as_str()).unwrap_or_default()
        )));
    }
    let root = root.ok_or_else(|| IngestError::Malformed("no root element".into()))?;
    Ok(Document { root, doctype })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_tree_with_namespaces() {
        let el = parse(
            r#"<rss xmlns:dc="http://purl.org/dc/elements/1.1/"><item><dc:creator>A &amp; B&eacute;&#33;</dc:creator></item></rss>"#,
            &Limits::default(),
        );
        let el = el.ok();
        let item = el.as_ref().and_then(|e| e.child("", "item"));
        let c = item.and_then(|i| i.child("http://purl.org/dc/elements/1.1/", "creator"));
        assert_eq!(c.map(Element::text).as_deref(), Some("A & Bé!"));
    }

    #[test]
    fn refuses_entity_doctype() {
        let r = parse(
            r#"<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>"#,
            &Limits::default(),
        );
        assert_eq!(r.err(), Some(IngestError::Dtd));
        assert!(parse(
            r#"<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss/>"#,
            &Limits::default()
        )
        .is_ok());
    }
}
