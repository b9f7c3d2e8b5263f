//! A tiny XML writer for feeds and sitemaps.
//!
//! Element and attribute names are always compile-time constants from this crate; every
//! value and text node goes through [`escape_xml`], so the output is well-formed whatever
//! the data. That is the whole job, which is why no XML crate is pulled in.

use crate::text::{escape_xml, strip_invalid_xml};

/// Accumulates an XML document as a `String`.
pub(crate) struct XmlWriter {
    out: String,
}

impl XmlWriter {
    /// Starts a document with the XML declaration, so consumers never guess the encoding.
    pub(crate) fn new() -> Self {
        let mut out = String::with_capacity(4096);
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        Self { out }
    }

    fn push_tag(&mut self, name: &str, attrs: &[(&str, &str)]) {
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

    /// Writes a start tag.
    pub(crate) fn open(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.push_tag(name, attrs);
        self.out.push_str(">\n");
    }

    /// Writes an end tag.
    pub(crate) fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    /// Writes `<name attrs>text</name>` with `text` escaped.
    pub(crate) fn text(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        self.push_tag(name, attrs);
        self.out.push('>');
        self.out.push_str(&escape_xml(text));
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    /// Writes an empty element `<name attrs/>`.
    pub(crate) fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.push_tag(name, attrs);
        self.out.push_str("/>\n");
    }

    /// Writes `<name><![CDATA[text]]></name>`.
    ///
    /// CDATA keeps HTML content readable in the feed source. A `]]>` inside the text would
    /// end the section early, so it is split across two sections (`]]` + `>`), the standard
    /// trick that round-trips exactly.
    pub(crate) fn cdata(&mut self, name: &str, text: &str) {
        self.push_tag(name, &[]);
        self.out.push_str("><![CDATA[");
        self.out
            .push_str(&strip_invalid_xml(text).replace("]]>", "]]]]><![CDATA[>"));
        self.out.push_str("]]></");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    /// Returns the finished document.
    pub(crate) fn finish(self) -> String {
        self.out
    }
}
