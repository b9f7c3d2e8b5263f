//! IPTC NewsML-G2 (`newsItem`, `packageItem`, `newsMessage`) into [`WireItem`]s.

use newsdesk_domain::{WireItem, WirePlace, WireSubject};

use crate::text::{html_to_text, medtop_from_uri, resolve_url, text_to_html};
use crate::wire::{agency_id, safe_html, status, urgency};
use crate::xml::{Element, XHTML};
use crate::{parse_date, IngestError};

const G2: &str = "http://iptc.org/std/nar/2006-10-01/";

pub(crate) fn parse(
    agency: &str,
    root: &Element,
    base_url: Option<&str>,
) -> Result<Vec<WireItem>, IngestError> {
    let ns = root.ns.as_str();
    if ns != G2 && !ns.is_empty() {
        return Err(IngestError::NotAFeed(format!(
            "<{}> is not in the NewsML-G2 namespace",
            root.qname
        )));
    }
    match root.local.as_str() {
        "newsItem" | "packageItem" => Ok(vec![item(agency, root, base_url)]),
        "newsMessage" => {
            let all: Vec<&Element> = root
                .elements()
                .filter(|e| e.local == "itemSet")
                .flat_map(|s| s.elements())
                .filter(|e| e.local == "newsItem" || e.local == "packageItem")
                .collect();
            Ok(expand_packages(agency, &all, base_url))
        }
        // Concept, knowledge, planning and catalog items describe things; they are not copy.
        "knowledgeItem" | "conceptItem" | "planningItem" | "catalogItem" => Ok(Vec::new()),
        other => Err(IngestError::NotAFeed(format!(
            "<{other}> is not a NewsML-G2 item"
        ))),
    }
}

/// True when a parsed root is a NewsML-G2 document this module reads items from.
pub(crate) fn is_g2(root: &Element) -> bool {
    (root.ns == G2 || root.ns.is_empty())
        && matches!(
            root.local.as_str(),
            "newsItem" | "packageItem" | "newsMessage"
        )
}

/// The news and package items of a G2 document, in order.
pub(crate) fn members(root: &Element) -> Vec<&Element> {
    if root.local == "newsMessage" {
        root.elements()
            .filter(|e| e.local == "itemSet")
            .flat_map(|s| s.elements())
            .filter(|e| e.local == "newsItem" || e.local == "packageItem")
            .collect()
    } else {
        vec![root]
    }
}

/// The `residref`s of a package's `itemRef`s, in order (groups nested up to a few levels).
pub(crate) fn item_refs(pkg: &Element) -> Vec<String> {
    fn walk(el: &Element, depth: usize, out: &mut Vec<String>) {
        for c in el.elements() {
            if c.local == "itemRef" {
                if let Some(r) = c.attr("residref").map(str::trim).filter(|r| !r.is_empty()) {
                    out.push(r.to_owned());
                }
            } else if depth > 0 && matches!(c.local.as_str(), "groupSet" | "group") {
                walk(c, depth - 1, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(pkg, 8, &mut out);
    out
}

/// True when an item's guid is what a package's `residref` names: the same string, or the
/// guid with a producer prefix (`BD-20160112123540` for `20160112123540`).
pub(crate) fn guid_matches(guid: Option<&str>, residref: &str) -> bool {
    let Some(g) = guid.map(str::trim) else {
        return false;
    };
    g == residref
        || g.strip_suffix(residref)
            .is_some_and(|p| p.ends_with(['-', ':', '_', '/']))
}

/// A package's items carry its metadata where they have none of their own: subjects and
/// places are added, language, urgency and embargo filled in.
pub(crate) fn inherit(it: &mut WireItem, pkg: &WireItem) {
    for s in &pkg.subjects {
        if !it.subjects.contains(s) {
            it.subjects.push(s.clone());
        }
    }
    for p in &pkg.places {
        if !it.places.contains(p) {
            it.places.push(p.clone());
        }
    }
    if it.language.is_none() {
        it.language.clone_from(&pkg.language);
    }
    if it.urgency.is_none() {
        it.urgency = pkg.urgency;
    }
    if it.embargo.is_none() {
        it.embargo = pkg.embargo;
    }
}

/// The items of a message in order, each package replaced by the items it references that
/// the message carries (in the package's order, with its metadata). A package none of whose
/// items is here is kept as one item that lists its references; a package with neither
/// headline nor references is dropped (a wrapper, not copy).
pub(crate) fn expand_packages(
    agency: &str,
    all: &[&Element],
    base_url: Option<&str>,
) -> Vec<WireItem> {
    let news: Vec<&Element> = all
        .iter()
        .copied()
        .filter(|e| e.local == "newsItem")
        .collect();
    let mut used = vec![false; news.len()];
    let mut plan: Vec<(usize, Vec<usize>)> = Vec::new();
    for (pi, p) in all
        .iter()
        .enumerate()
        .filter(|(_, e)| e.local == "packageItem")
    {
        let mut members = Vec::new();
        for r in item_refs(p) {
            if let Some(ix) =
                (0..news.len()).find(|&ix| !used[ix] && guid_matches(news[ix].attr("guid"), &r))
            {
                used[ix] = true;
                members.push(ix);
            }
        }
        plan.push((pi, members));
    }
    let mut out = Vec::new();
    let mut ni = 0usize;
    for (i, el) in all.iter().enumerate() {
        if el.local == "newsItem" {
            if !used[ni] {
                out.push(item(agency, el, base_url));
            }
            ni += 1;
            continue;
        }
        let pkg = item(agency, el, base_url);
        let members = plan
            .iter()
            .find(|(pi, _)| *pi == i)
            .map(|(_, m)| m.as_slice())
            .unwrap_or(&[]);
        if members.is_empty() {
            if !pkg.headline.is_empty() || !pkg.body_html.is_empty() {
                out.push(pkg);
            }
            continue;
        }
        for &ix in members {
            let mut it = item(agency, news[ix], base_url);
            inherit(&mut it, &pkg);
            if it.headline.is_empty() {
                // A video or picture without a headline of its own is headed by its package.
                it.headline.clone_from(&pkg.headline);
            }
            out.push(it);
        }
    }
    out
}

/// A child in the G2 namespace (or no namespace, for sloppy producers).
fn g2<'a>(el: &'a Element, local: &str) -> Option<&'a Element> {
    el.elements()
        .find(|e| e.local == local && (e.ns == G2 || e.ns.is_empty()))
}

fn g2_all<'a>(el: &'a Element, local: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
    el.elements()
        .filter(move |e| e.local == local && (e.ns == G2 || e.ns.is_empty()))
}

/// The first `name` child's text (preferring one in `lang`).
fn name_of(el: &Element, lang: Option<&str>) -> Option<String> {
    let names: Vec<&Element> = g2_all(el, "name").collect();
    lang.and_then(|l| names.iter().find(|n| n.xml_lang() == Some(l)))
        .or(names.first())
        .and_then(|n| n.text_trim())
        .map(|t| crate::text::collapse(&t))
}

/// The code of a concept: its qcode, a Media Topic URI as `medtop:…`, another URI, or a
/// literal.
fn code_of(el: &Element) -> Option<String> {
    if let Some(q) = el.attr("qcode").map(str::trim).filter(|q| !q.is_empty()) {
        return Some(q.to_owned());
    }
    if let Some(u) = el.attr("uri").map(str::trim).filter(|u| !u.is_empty()) {
        return Some(medtop_from_uri(u).unwrap_or_else(|| u.to_owned()));
    }
    el.attr("literal")
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
}

fn is_geo(el: &Element) -> bool {
    let ty = el.attr("type").unwrap_or("");
    matches!(ty, "cpnat:geoArea" | "cpnat:poi")
        || code_of(el)
            .is_some_and(|c| c.starts_with("iso3166-1a2:") || c.starts_with("iso3166-1a3:"))
}

/// A place from a concept element, plus its `broader` countries as ISO codes.
fn push_place(el: &Element, lang: Option<&str>, out: &mut Vec<WirePlace>) {
    let push = |p: WirePlace, out: &mut Vec<WirePlace>| {
        if (p.code.is_some() || p.name.is_some()) && !out.contains(&p) {
            out.push(p);
        }
    };
    push(
        WirePlace {
            code: code_of(el),
            name: name_of(el, lang),
        },
        out,
    );
    for b in g2_all(el, "broader") {
        let code = code_of(b);
        let is_country = b.attr("type") == Some("cptype:country")
            || code
                .as_deref()
                .is_some_and(|c| c.starts_with("iso3166-1a2:"));
        if is_country {
            // `iso3166-1a2:DE` becomes `DE`, the form region tagging uses.
            let code = code.map(|c| match c.strip_prefix("iso3166-1a2:") {
                Some(iso) => iso.to_ascii_uppercase(),
                None => c,
            });
            push(
                WirePlace {
                    code,
                    name: name_of(b, lang),
                },
                out,
            );
        }
    }
}

fn date_of(el: Option<&Element>) -> Option<chrono::DateTime<chrono::Utc>> {
    el.and_then(|e| parse_date(&e.text()))
}

/// The body of an `inlineXML`: XHTML `body`, NITF `body.content`, or the serialised children.
fn inline_xml_body(el: &Element) -> String {
    fn find<'a>(
        el: &'a Element,
        pred: &dyn Fn(&Element) -> bool,
        depth: usize,
    ) -> Option<&'a Element> {
        if pred(el) {
            return Some(el);
        }
        if depth == 0 {
            return None;
        }
        el.elements().find_map(|c| find(c, pred, depth - 1))
    }
    let body = find(el, &|e| e.local == "body.content", 8)
        .or_else(|| find(el, &|e| e.local == "body" && e.ns == XHTML, 8));
    let html = match body {
        Some(b) => b.inner_xml(),
        None => el.inner_xml(),
    };
    safe_html(Some(&html))
}

/// A package without its own headline takes the headline of its first referenced item.
fn first_item_ref_headline(el: &Element, depth: usize) -> Option<&Element> {
    if el.local == "itemRef" {
        return g2(el, "headline");
    }
    if depth == 0 {
        return None;
    }
    el.elements()
        .filter(|e| matches!(e.local.as_str(), "groupSet" | "group" | "itemRef"))
        .find_map(|e| first_item_ref_headline(e, depth - 1))
}

/// The headline of NITF carried in `inlineXML` (`hl1`, else `head/title`), for items whose
/// `contentMeta` has none.
fn inline_nitf_headline(it: &Element) -> Option<String> {
    let cs = g2(it, "contentSet")?;
    let nitf = crate::wire::desc(cs, "nitf", 2).into_iter().next()?;
    let hl1 = crate::wire::desc(nitf, "hl1", 4).into_iter().next();
    let title = crate::wire::named(nitf, "head").and_then(|h| crate::wire::named(h, "title"));
    hl1.into_iter()
        .chain(title)
        .map(|h| html_to_text(&h.inner_xml()))
        .find(|h| !h.is_empty())
}

fn item(agency: &str, it: &Element, base_url: Option<&str>) -> WireItem {
    let item_meta = g2(it, "itemMeta");
    let content_meta = g2(it, "contentMeta");
    let lang = it.xml_lang().map(str::to_owned).or_else(|| {
        content_meta
            .and_then(|c| g2(c, "language"))
            .and_then(|l| l.attr("tag").map(str::to_owned))
    });
    let lang_ref = lang.as_deref();
    let meta_child = |local: &str| item_meta.and_then(|m| g2(m, local));
    let content_child = |local: &str| content_meta.and_then(|m| g2(m, local));

    let headline = content_child("headline")
        .or_else(|| first_item_ref_headline(it, 6))
        .map(|h| html_to_text(&h.inner_xml()))
        .filter(|h| !h.is_empty())
        .or_else(|| inline_nitf_headline(it))
        .unwrap_or_default();
    let summary = content_meta
        .map(|c| {
            let descs: Vec<&Element> = g2_all(c, "description").collect();
            let role = |d: &&&Element, what: &str| d.attr("role").is_some_and(|r| r.contains(what));
            // A picture's summary is its caption, never the credit line.
            descs
                .iter()
                .find(|d| role(d, "caption"))
                .or_else(|| {
                    descs
                        .iter()
                        .find(|d| role(d, "summary") || role(d, "abstract"))
                })
                .or_else(|| descs.iter().find(|d| !role(d, "credit")))
                .map(|d| html_to_text(&d.inner_xml()))
                .unwrap_or_default()
        })
        .unwrap_or_default();

    let mut subjects: Vec<WireSubject> = Vec::new();
    let mut places: Vec<WirePlace> = Vec::new();
    if let Some(cm) = content_meta {
        for l in g2_all(cm, "located") {
            push_place(l, lang_ref, &mut places);
        }
        for p in g2_all(cm, "place") {
            push_place(p, lang_ref, &mut places);
        }
        for s in g2_all(cm, "subject") {
            if is_geo(s) {
                push_place(s, lang_ref, &mut places);
                continue;
            }
            let Some(code) = code_of(s) else { continue };
            let sub = WireSubject {
                code,
                name: name_of(s, lang_ref),
            };
            if !subjects.contains(&sub) {
                subjects.push(sub);
            }
        }
    }

    let byline = content_child("by")
        .and_then(Element::text_trim)
        .or_else(|| {
            let creators: Vec<String> = content_meta
                .map(|c| {
                    g2_all(c, "creator")
                        .filter_map(|cr| name_of(cr, lang_ref))
                        .collect()
                })
                .unwrap_or_default();
            (!creators.is_empty()).then(|| creators.join(", "))
        })
        .or_else(|| {
            meta_child("provider").and_then(|p| {
                name_of(p, lang_ref)
                    .or_else(|| code_of(p).map(|c| c.rsplit(':').next().unwrap_or(&c).to_owned()))
            })
        })
        .unwrap_or_default();

    let mut body_html = String::new();
    let mut links: Vec<String> = Vec::new();
    if let Some(cs) = g2(it, "contentSet") {
        for c in cs.elements() {
            match c.local.as_str() {
                "inlineXML" if body_html.is_empty() => body_html = inline_xml_body(c),
                "inlineData" if body_html.is_empty() => {
                    let ct = c.attr("contenttype").unwrap_or("");
                    let text = c.text();
                    body_html = if ct.contains("html") {
                        safe_html(Some(&text))
                    } else {
                        text_to_html(&text)
                    };
                }
                "remoteContent" => {
                    if let Some(h) = c.attr("href") {
                        links.push(resolve_url(base_url, h));
                    }
                }
                _ => {}
            }
        }
    }
    if let Some(im) = item_meta {
        for l in g2_all(im, "link") {
            if let Some(h) = l.attr("href") {
                let h = resolve_url(base_url, h);
                if !links.contains(&h) {
                    links.push(h);
                }
            }
        }
    }

    if body_html.is_empty() && it.local == "packageItem" {
        // A package read on its own lists what it references.
        let mut list = String::new();
        let mut stack = vec![(it, 0usize)];
        while let Some((el, depth)) = stack.pop() {
            for c in el.elements().collect::<Vec<_>>().into_iter().rev() {
                if c.local == "itemRef" {
                    if let Some(h) = g2(c, "headline").or_else(|| g2(c, "title")) {
                        let h = html_to_text(&h.inner_xml());
                        if !h.is_empty() {
                            list.push_str("<li>");
                            list.push_str(&crate::text::escape_html(&h));
                            list.push_str("</li>");
                        }
                    }
                } else if depth < 8 && matches!(c.local.as_str(), "groupSet" | "group") {
                    stack.push((c, depth + 1));
                }
            }
        }
        if !list.is_empty() {
            body_html = format!("<ul>{list}</ul>");
        }
    }
    let published = date_of(meta_child("firstCreated"))
        .or_else(|| date_of(content_child("contentCreated")))
        .or_else(|| date_of(meta_child("versionCreated")));
    let updated = date_of(meta_child("versionCreated"))
        .or_else(|| date_of(content_child("contentModified")))
        .or(published);
    let usage_terms = g2(it, "rightsInfo").and_then(|r| {
        g2(r, "usageTerms")
            .and_then(Element::text_trim)
            .map(|t| crate::text::collapse(&t))
    });
    let version = it
        .attr("version")
        .and_then(|v| v.trim().parse::<i64>().ok())
        // An agency's version 0 is its first version and stays 0.
        .filter(|v| *v >= 0)
        .unwrap_or(1);
    WireItem {
        agency: agency.to_owned(),
        agency_id: agency_id(
            it.attr("guid"),
            links.first().map(String::as_str),
            &headline,
            published,
        ),
        version,
        headline,
        summary,
        body_html,
        byline,
        urgency: urgency(content_child("urgency").map(|u| u.text()).as_deref()),
        language: lang,
        published_at: published,
        updated_at: updated,
        subjects,
        places,
        usage_terms,
        links,
        status: status(meta_child("pubStatus").and_then(|p| p.attr("qcode"))),
        // An empty `<embargoed/>` is allowed and means none (a later version lifting it).
        embargo: meta_child("embargoed").and_then(|e| crate::parse_embargo(&e.text())),
    }
}
