//! A story as a NewsML-G2 2.35 `newsItem` (power conformance).
//!
//! Mapping: `guid` is the story's API address, `version` the story's saved version;
//! `itemMeta` carries `pubStatus` (`stat:usable`, `stat:withheld`, `stat:canceled`), `embargoed`,
//! and for a corrected story the signal `sig:correction` with one `edNote` per correction (the
//! G2 way of telling a receiver what changed); a story saved again after its first publication
//! carries `sig:update`. `contentMeta` has the byline authors as `creator`s, the agency as
//! `infoSource`, the language, the kind as `genre`, the Media Topics of the agency copy as
//! `subject qcode="medtop:…"`, the sector and tags as subjects by URI, the region as a
//! `geoArea` subject, the slug as `slugline`, the headline, the byline as `by` and the summary
//! as a description. The hero picture is a link (`irel:associatedWith`). The body is carried as `inlineData` of type `text/html` (the sanitised HTML,
//! escaped), so no XHTML conversion is needed. A withheld or canceled item carries no content.

use crate::{Item, PubStatus, Publisher};
use newsdesk_domain::text::html_to_text;
use newsdesk_render::{escape_xml, rfc3339};

/// The NewsML-G2 version produced.
pub const VERSION: &str = "2.35";
/// The IPTC catalog the QCodes come from (`stat`, `ninat`, `sig`, `medtop`, `cpnat`).
pub const CATALOG: &str = "http://www.iptc.org/std/catalog/catalog.IPTC-G2-Standards_40.xml";
/// The G2 namespace.
pub const NS: &str = "http://iptc.org/std/nar/2006-10-01/";

struct Xml {
    out: String,
    depth: usize,
}

impl Xml {
    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }
    fn tag(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("=\"");
            self.out.push_str(&escape_xml(v));
            self.out.push('"');
        }
    }
    fn open(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.tag(name, attrs);
        self.out.push_str(">\n");
        self.depth += 1;
    }
    fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }
    fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.tag(name, attrs);
        self.out.push_str("/>\n");
    }
    fn text(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        self.tag(name, attrs);
        self.out.push('>');
        self.out.push_str(&escape_xml(text));
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }
    /// `<name attrs><name>{label}</name></name>`: a concept with its name.
    fn named(&mut self, name: &str, attrs: &[(&str, &str)], label: &str) {
        self.open(name, attrs);
        self.text("name", &[], label);
        self.close(name);
    }
}

/// The item as a NewsML-G2 document whose root is a `newsItem`.
pub fn to_string(item: &Item, publisher: &Publisher) -> String {
    let s = &item.story;
    let mut x = Xml {
        out: String::with_capacity(4096 + s.body_html.len() * 2),
        depth: 0,
    };
    x.out
        .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let guid = item.uri(publisher);
    let version = s.version.max(1).to_string();
    let lang = if publisher.language.trim().is_empty() {
        "en"
    } else {
        publisher.language.trim()
    };
    x.open(
        "newsItem",
        &[
            ("xmlns", NS),
            ("guid", &guid),
            ("version", &version),
            ("standard", "NewsML-G2"),
            ("standardversion", VERSION),
            ("conformance", "power"),
            ("xml:lang", lang),
        ],
    );
    x.empty("catalogRef", &[("href", CATALOG)]);
    let holder = if publisher.copyright_holder.is_empty() {
        &publisher.name
    } else {
        &publisher.copyright_holder
    };
    x.open("rightsInfo", &[]);
    x.named("copyrightHolder", &[("uri", &publisher.base_url)], holder);
    x.close("rightsInfo");

    x.open("itemMeta", &[]);
    x.empty("itemClass", &[("qcode", "ninat:text")]);
    x.named("provider", &[("uri", &publisher.base_url)], &publisher.name);
    x.text("versionCreated", &[], &rfc3339(item.version_created));
    if let Some(p) = s.published_at {
        x.text("firstCreated", &[], &rfc3339(p));
    }
    if let Some(e) = s.embargo_until {
        x.text("embargoed", &[], &rfc3339(e));
    }
    x.empty("pubStatus", &[("qcode", item.status.qcode())]);
    match item.status {
        PubStatus::Usable => {
            for c in &item.corrections {
                x.text("edNote", &[], &Item::correction_notice(c));
            }
        }
        PubStatus::Withheld => x.text(
            "edNote",
            &[],
            "This story has been taken down. Do not use it until a later version says so.",
        ),
        PubStatus::Canceled => x.text("edNote", &[], "This story has been withdrawn. Remove it."),
    }
    if item.status == PubStatus::Usable {
        if !item.corrections.is_empty() {
            x.empty("signal", &[("qcode", "sig:correction")]);
        } else if s.published_at.is_some_and(|p| s.updated_at > p) {
            x.empty("signal", &[("qcode", "sig:update")]);
        }
        x.empty(
            "link",
            &[
                ("rel", "irel:seeAlso"),
                ("href", &item.url),
                ("contenttype", "text/html"),
            ],
        );
        if let Some(p) = &item.picture {
            x.empty(
                "link",
                &[
                    ("rel", "irel:associatedWith"),
                    ("href", &p.href),
                    ("contenttype", &p.mime),
                ],
            );
        }
        for l in item
            .based_on
            .iter()
            .filter(|l| crate::ninjs::is_absolute(l))
        {
            x.empty("link", &[("rel", "irel:derivedFrom"), ("href", l)]);
        }
    }
    x.close("itemMeta");

    if item.status != PubStatus::Usable {
        x.close("newsItem");
        return x.out;
    }

    x.open("contentMeta", &[]);
    x.text("contentCreated", &[], &rfc3339(s.created_at));
    x.text("contentModified", &[], &rfc3339(s.updated_at));
    if let Some(src) = s.source.as_deref().filter(|v| !v.trim().is_empty()) {
        x.named("infoSource", &[("role", "isrol:originfo")], src);
    }
    for a in &item.authors {
        x.named(
            "creator",
            &[("uri", &a.uri), ("role", "crol:author")],
            &a.name,
        );
    }
    if item.authors.is_empty() {
        if let Some(d) = &item.desk {
            x.named("creator", &[("uri", &d.uri)], &d.name);
        }
    }
    x.empty("language", &[("tag", lang)]);
    x.named(
        "genre",
        &[("literal", s.kind.as_str())],
        crate::genre_name(s.kind),
    );
    for t in &item.topics {
        let q = t.qcode();
        match &t.name {
            Some(n) => x.named("subject", &[("type", "cpnat:abstract"), ("qcode", &q)], n),
            None => x.empty("subject", &[("type", "cpnat:abstract"), ("qcode", &q)]),
        }
    }
    if let Some(sec) = &item.sector {
        x.named(
            "subject",
            &[("type", "cpnat:abstract"), ("uri", &sec.uri)],
            &sec.name,
        );
    }
    for t in &item.tags {
        x.named(
            "subject",
            &[("type", "cpnat:abstract"), ("uri", &t.uri)],
            &t.name,
        );
    }
    for p in &item.places {
        x.named("subject", &[("type", "cpnat:geoArea"), ("literal", p)], p);
    }
    x.text("slugline", &[], s.slug.as_str());
    x.text("headline", &[], s.headline.as_str());
    if let Some(by) = item.byline() {
        x.text("by", &[], &by);
    }
    if !s.summary.trim().is_empty() {
        x.text("description", &[("role", "drol:summary")], &s.summary);
    }
    x.close("contentMeta");

    x.open("contentSet", &[]);
    let text = html_to_text(&s.body_html);
    let words = crate::word_count(&text).to_string();
    let chars = text.chars().count().to_string();
    x.text(
        "inlineData",
        &[
            ("contenttype", "text/html"),
            ("wordcount", &words),
            ("charcount", &chars),
        ],
        &s.body_html,
    );
    x.close("contentSet");
    x.close("newsItem");
    x.out
}
