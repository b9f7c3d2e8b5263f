//! Markdown → sanitised HTML for story bodies, and Markdown → plain text for search and
//! descriptions.
//!
//! Story bodies come from reporters, from agency copy and from imports, so every byte of
//! HTML we emit goes through one allowlist sanitiser (ammonia). Raw HTML inside Markdown is
//! not rejected — embeds pasted by editors are common — but it is held to the same
//! allowlist as the Markdown output, so nothing dangerous survives either path.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use ammonia::{Builder, UrlRelative};
use newsdesk_domain::text::html_to_text;
use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

/// Tags allowed in story bodies: what news copy needs and nothing that can run code,
/// load frames, or restyle the page.
const ALLOWED_TAGS: &[&str] = &[
    "p",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "a",
    "ul",
    "ol",
    "li",
    "blockquote",
    "code",
    "pre",
    "hr",
    "br",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "figure",
    "figcaption",
    "img",
    "del",
    "sup",
    "sub",
];

/// Per-tag attributes. No `style`, no `class`, no `on*`: the page's CSS owns presentation
/// and scripts have no place in copy. `ol start` keeps numbered lists that resume after a
/// paragraph correct; `th`/`td` spans keep hand-written tables intact.
const ALLOWED_ATTRIBUTES: &[(&str, &[&str])] = &[
    ("a", &["href", "title"]),
    ("img", &["src", "alt", "width", "height", "loading"]),
    ("ol", &["start"]),
    ("th", &["colspan", "rowspan", "scope"]),
    ("td", &["colspan", "rowspan"]),
];

/// Elements removed together with their content: their text is code or CSS, never prose,
/// so keeping it as text would only litter the page.
const CLEAN_CONTENT_TAGS: &[&str] = &["script", "style", "iframe", "object", "embed", "template"];

/// Absolute URL schemes that may appear in `href`/`src`. Relative URLs are passed through
/// separately; everything else (`javascript:`, `data:`, `vbscript:` …) is dropped.
const URL_SCHEMES: &[&str] = &["http", "https", "mailto"];

/// Every link may point off-site; `nofollow` because copy can contain reader- or
/// agency-supplied links we do not vouch for, `noopener noreferrer` so the target page cannot
/// script or track us.
const LINK_REL: &str = "noopener noreferrer nofollow";

/// Built once: the builder is immutable after construction and `Sync`, and rebuilding the
/// hash sets on every call would be wasted work on the publish path.
static SANITIZER: LazyLock<Builder<'static>> = LazyLock::new(story_body_builder);

fn story_body_builder() -> Builder<'static> {
    let mut b = Builder::empty();
    b.tags(ALLOWED_TAGS.iter().copied().collect())
        .clean_content_tags(CLEAN_CONTENT_TAGS.iter().copied().collect())
        .tag_attributes(
            ALLOWED_ATTRIBUTES
                .iter()
                .map(|(tag, attrs)| (*tag, attrs.iter().copied().collect::<HashSet<_>>()))
                .collect::<HashMap<_, _>>(),
        )
        .generic_attributes(HashSet::new())
        .url_schemes(URL_SCHEMES.iter().copied().collect())
        .url_relative(UrlRelative::PassThrough)
        .link_rel(Some(LINK_REL))
        .strip_comments(true);
    b
}

/// The story-body sanitiser without pictures: `img` is dropped and a `figure` goes with its
/// caption (for copy from outside, whose pictures are not ours to show).
static NO_PICTURES: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut b = story_body_builder();
    b.rm_tags(["img", "figure", "figcaption"])
        .add_clean_content_tags(["figure"]);
    b
});

/// The Markdown dialect for copy: CommonMark plus GFM tables and strikethrough. Other
/// extensions (task lists, footnotes, heading attributes) are off because they either emit
/// markup we strip anyway or add syntax reporters would trip over.
fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH
}

/// Renders Markdown to HTML that is safe to embed in a page as the story body.
///
/// CommonMark with tables and strikethrough; `# h1` headings are demoted to `<h2>` because
/// the page template already has the headline as its only `<h1>`. The result is sanitised by
/// the same allowlist as [`sanitize_html`], so raw HTML in the Markdown is allowed but
/// cleaned. Never panics.
pub fn markdown_to_safe_html(md: &str) -> String {
    let events = Parser::new_ext(md, options()).map(demote_h1);
    let mut html = String::with_capacity(md.len() + md.len() / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    sanitize_html(&html)
}

/// Demotes level-1 headings to level 2 in the event stream, so the start and end tags stay
/// matched (rewriting the HTML afterwards could not tell Markdown from raw HTML).
fn demote_h1(event: Event<'_>) -> Event<'_> {
    match event {
        Event::Start(Tag::Heading {
            level: HeadingLevel::H1,
            id,
            classes,
            attrs,
        }) => Event::Start(Tag::Heading {
            level: HeadingLevel::H2,
            id,
            classes,
            attrs,
        }),
        Event::End(TagEnd::Heading(HeadingLevel::H1)) => {
            Event::End(TagEnd::Heading(HeadingLevel::H2))
        }
        other => other,
    }
}

/// Sanitises an HTML fragment with the story-body allowlist.
///
/// Allowed: `p`, `h2`–`h6`, `strong`, `em`, `a[href title]`, lists, `blockquote`, `code`,
/// `pre`, `hr`, `br`, tables, `figure`/`figcaption`, `img[src alt width height loading]`,
/// `del`, `sup`, `sub`. URLs must be relative or `http`, `https` or `mailto`; links get
/// `rel="noopener noreferrer nofollow"`. Unknown tags are unwrapped (their text kept);
/// `script`, `style`, `iframe`, `object`, `embed` and `template` are removed with their
/// content. Comments are removed.
pub fn sanitize_html(html: &str) -> String {
    drop_rel_without_href(&SANITIZER.clean(html).to_string())
}

/// Like [`sanitize_html`], but without pictures: `img` elements are removed, and `figure`
/// elements with their captions. For agency copy made into a story: the agency's pictures are
/// not licensed for the site and the page's security policy would not load them anyway.
pub fn sanitize_html_without_pictures(html: &str) -> String {
    drop_rel_without_href(&NO_PICTURES.clean(html).to_string())
}

/// The sanitiser gives every `<a>` its `rel`, also one whose `href` it removed (a `javascript:`
/// link); `rel` without `href` is invalid HTML, so it is taken off such anchors. Works on the
/// sanitiser's own serialisation: attribute values are double-quoted, with `"` escaped.
fn drop_rel_without_href(html: &str) -> String {
    const REL: &str = concat!(" rel=\"", "noopener noreferrer nofollow", "\"");
    if !html.contains("<a ") {
        return html.to_owned();
    }
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find("<a ") {
        out.push_str(&rest[..at]);
        let tag_and_after = &rest[at..];
        // The end of the start tag: the first `>` outside a quoted value.
        let mut quoted = false;
        let mut end = None;
        for (i, c) in tag_and_after.char_indices() {
            match c {
                '"' => quoted = !quoted,
                '>' if !quoted => {
                    end = Some(i + 1);
                    break;
                }
                _ => {}
            }
        }
        let Some(end) = end else {
            out.push_str(tag_and_after);
            return out;
        };
        let tag = &tag_and_after[..end];
        if tag.contains(" href=\"") {
            out.push_str(tag);
        } else {
            out.push_str(&tag.replacen(REL, "", 1));
        }
        rest = &tag_and_after[end..];
    }
    out.push_str(rest);
    out
}

/// Converts Markdown to plain text with all whitespace collapsed to single spaces.
///
/// Meant for search indexing and meta descriptions: formatting is dropped, link text is
/// kept (URLs are not), image alt text is dropped (it describes a picture, not the story),
/// and text inside raw HTML blocks is kept while scripts and styles are not.
pub fn plain_text(md: &str) -> String {
    let mut raw = String::with_capacity(md.len());
    let mut html_block = String::new();
    let mut image_depth = 0usize;
    for event in Parser::new_ext(md, options()) {
        match event {
            Event::Start(Tag::Image { .. }) => image_depth += 1,
            Event::End(TagEnd::Image) => image_depth = image_depth.saturating_sub(1),
            Event::Text(t) | Event::Code(t) if image_depth == 0 => raw.push_str(&t),
            Event::Html(h) => html_block.push_str(&h),
            Event::End(TagEnd::HtmlBlock) => {
                raw.push(' ');
                raw.push_str(&html_to_text(&html_block));
                raw.push(' ');
                html_block.clear();
            }
            // Inline HTML events are single tags (`<b>`, `</b>`); the text between them
            // arrives as ordinary Text events, so the tags themselves can be dropped.
            Event::SoftBreak | Event::HardBreak | Event::Rule => raw.push(' '),
            // Block ends and table cells must separate words that would otherwise touch.
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::TableCell
                | TagEnd::BlockQuote(_)
                | TagEnd::CodeBlock,
            ) => raw.push(' '),
            _ => {}
        }
    }
    if !html_block.is_empty() {
        raw.push(' ');
        raw.push_str(&html_to_text(&html_block));
    }
    collapse_whitespace(&raw)
}

fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A minimal scanner over serialised HTML that yields `(tag, [(attr, value)])` for every
    /// start tag. The sanitiser's output is well-formed (text `<` is always escaped and
    /// attribute values are always double-quoted), which is what makes this simple scan
    /// trustworthy; quoted values may contain `>` and are skipped correctly.
    fn start_tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
        let b = html.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] != b'<' || i + 1 >= b.len() || !b[i + 1].is_ascii_alphabetic() {
                i += 1;
                continue;
            }
            i += 1;
            let start = i;
            while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' && b[i] != b'/' {
                i += 1;
            }
            let name = html[start..i].to_ascii_lowercase();
            let mut attrs = Vec::new();
            loop {
                while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
                    i += 1;
                }
                if i >= b.len() || b[i] == b'>' {
                    i += 1;
                    break;
                }
                let an = i;
                while i < b.len() && !b[i].is_ascii_whitespace() && !matches!(b[i], b'=' | b'>') {
                    i += 1;
                }
                let attr = html[an..i].to_ascii_lowercase();
                let mut value = String::new();
                if i < b.len() && b[i] == b'=' {
                    i += 1;
                    if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                        let q = b[i];
                        i += 1;
                        let vs = i;
                        while i < b.len() && b[i] != q {
                            i += 1;
                        }
                        value = html[vs..i.min(b.len())].to_string();
                        i += 1;
                    } else {
                        let vs = i;
                        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                            i += 1;
                        }
                        value = html[vs..i].to_string();
                    }
                }
                attrs.push((attr, value));
            }
            out.push((name, attrs));
        }
        out
    }

    /// Normalises a URL the way a browser would before looking at its scheme: entity-ish
    /// and whitespace/control obfuscation removed, lower-cased.
    fn normalised_url(v: &str) -> String {
        v.replace("&amp;", "&")
            .replace("&quot;", "\"")
            .chars()
            .filter(|c| !c.is_whitespace() && !c.is_control())
            .collect::<String>()
            .to_ascii_lowercase()
    }

    /// The safety properties every sanitised output must have.
    fn assert_safe(input: &str, out: &str) {
        let lower = out.to_ascii_lowercase();
        assert!(
            !lower.contains("<script"),
            "script in {out:?} from {input:?}"
        );
        for bad in [
            "<iframe", "<svg", "<math", "<object", "<embed", "<style", "<form",
        ] {
            assert!(!lower.contains(bad), "{bad} in {out:?} from {input:?}");
        }
        for (tag, attrs) in start_tags(out) {
            assert!(
                ALLOWED_TAGS.contains(&tag.as_str()),
                "tag {tag} in {out:?} from {input:?}"
            );
            for (name, value) in attrs {
                assert!(
                    !name.starts_with("on"),
                    "event handler {name} in {out:?} from {input:?}"
                );
                assert!(name != "style", "style attr in {out:?} from {input:?}");
                if matches!(name.as_str(), "href" | "src") {
                    let url = normalised_url(&value);
                    for scheme in ["javascript:", "data:", "vbscript:"] {
                        assert!(
                            !url.starts_with(scheme),
                            "{scheme} url in {out:?} from {input:?}"
                        );
                    }
                }
            }
        }
    }

    const XSS_PAYLOADS: &[&str] = &[
        "<script>alert(1)</script>",
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
        "<scr<script>ipt>alert(1)</scr</script>ipt>",
        "<img src=x onerror=alert(1)>",
        "<img src=\"x\" onerror=\"alert(1)\"/>",
        "<IMG SRC=\"javascript:alert('XSS');\">",
        "<IMG SRC=JaVaScRiPt:alert('XSS')>",
        "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>",
        "<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72&#x74&#x28&#x27&#x58&#x53&#x53&#x27&#x29>",
        "<IMG SRC=\"jav\tascript:alert('XSS');\">",
        "<IMG SRC=\"jav&#x09;ascript:alert('XSS');\">",
        "<IMG SRC=\" &#14;  javascript:alert('XSS');\">",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
        "<a href=\"&#x6a;avascript&colon;alert(1)\">x</a>",
        "<a href=\"  java\nscript:alert(1)\">x</a>",
        "<a href=\"vbscript:msgbox(1)\">x</a>",
        "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
        "<img src=\"data:image/svg+xml,<svg onload=alert(1)>\">",
        "<svg onload=alert(1)>",
        "<svg><script>alert(1)</script></svg>",
        "<iframe src=\"https://evil.example\"></iframe>",
        "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
        "<math href=\"javascript:alert(1)\">click</math>",
        "<body onload=alert(1)>",
        "<div style=\"background:url(javascript:alert(1))\">x</div>",
        "<p style=\"x:expression(alert(1))\">x</p>",
        "<object data=\"javascript:alert(1)\"></object>",
        "<embed src=\"javascript:alert(1)\">",
        "<form action=\"javascript:alert(1)\"><button>go</button></form>",
        "<input onfocus=alert(1) autofocus>",
        "<details open ontoggle=alert(1)>",
        "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
        "<base href=\"javascript:alert(1)//\">",
        "<a href=\"x\" onmouseover=\"alert(1)\">x</a>",
        "<!--<img src=\"--><img src=x onerror=alert(1)//\">",
        "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
        "<style>@import 'javascript:alert(1)';</style>",
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](javascript&#58;alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x]( javascript:alert(1) )",
        "[x](<javascript:alert(1)>)",
        "[x][ref]\n\n[ref]: javascript:alert(1)",
        "![x](javascript:alert(1))",
        "![x](data:text/html;base64,PHNjcmlwdD4=)",
        "![x\" onerror=\"alert(1)](https://example.org/x.png)",
        "[x](https://example.org/\" onclick=\"alert(1))",
        "<javascript:alert(1)>",
        "<data:text/html,<script>alert(1)</script>>",
        "<vbscript:msgbox(1)>",
        "# <script>alert(1)</script>",
        "```\n<script>alert(1)</script>\n```",
        "> <img src=x onerror=alert(1)>",
        "| a | b |\n|---|---|\n| <script>x</script> | <img src=x onerror=y> |",
    ];

    #[test]
    fn xss_payloads_are_neutralised() {
        assert!(XSS_PAYLOADS.len() >= 25);
        for p in XSS_PAYLOADS {
            let html = markdown_to_safe_html(p);
            assert_safe(p, &html);
            let clean = sanitize_html(p);
            assert_safe(p, &clean);
            // Belt and braces on the raw strings, in case the scanner missed something.
            for out in [&html, &clean] {
                let lower = out.to_ascii_lowercase();
                assert!(!lower.contains("href=\"javascript:"), "{out}");
                assert!(!lower.contains("src=\"javascript:"), "{out}");
                assert!(!lower.contains("src=\"data:"), "{out}");
                assert!(!lower.contains("href=\"data:"), "{out}");
            }
        }
    }

    /// The checker itself must catch what it is meant to catch, or the tests above prove
    /// nothing.
    #[test]
    fn safety_checker_detects_unsafe_output() {
        for bad in [
            "<p><script>x</script></p>",
            "<img src=\"x\" onerror=\"y\">",
            "<a title=\"a>b\" onclick=\"y\">",
            "<a href=\" JavaScript:x\">",
            "<img src=\"DATA:text/html,x\">",
            "<p style=\"x\">",
            "<div>",
        ] {
            let caught = std::panic::catch_unwind(|| assert_safe("", bad)).is_err();
            assert!(caught, "checker missed {bad}");
        }
        assert_safe("", "<p title=\"onclick=x\">onload=y &lt;script&gt;</p>");
    }

    #[test]
    fn basic_markdown() {
        let html = markdown_to_safe_html(
            "# Title\n\nSome **bold** and *em* and ~~gone~~.\n\n## Sub\n\n- a\n- b\n",
        );
        assert!(html.contains("<h2>Title</h2>"), "{html}");
        assert!(!html.contains("<h1"), "{html}");
        assert!(html.contains("<strong>bold</strong>"));
        assert!(html.contains("<em>em</em>"));
        assert!(html.contains("<del>gone</del>"));
        assert!(html.contains("<ul>\n<li>a</li>"));
    }

    #[test]
    fn raw_html_h1_is_unwrapped() {
        let html = markdown_to_safe_html("<h1>Raw</h1>");
        assert!(!html.contains("<h1"), "{html}");
        assert!(html.contains("Raw"));
    }

    #[test]
    fn tables_render_without_style() {
        let html = markdown_to_safe_html("| a | b |\n|:--|--:|\n| 1 | 2 |\n");
        assert!(html.contains("<table>"), "{html}");
        assert!(html.contains("<thead>"));
        assert!(html.contains("<tbody>"));
        assert!(html.contains("<td>1</td>"), "{html}");
        assert!(!html.contains("style"));
    }

    #[test]
    fn links_get_rel_and_safe_schemes_survive() {
        let html = markdown_to_safe_html(
            "[a](https://example.org/x?a=1&b=2 \"T\") [b](/relative) [c](mailto:desk@example.org)",
        );
        assert!(
            html.contains(
                "<a href=\"https://example.org/x?a=1&amp;b=2\" title=\"T\" rel=\"noopener noreferrer nofollow\">a</a>"
            ),
            "{html}"
        );
        assert!(html.contains("href=\"/relative\""));
        let bare = sanitize_html_without_pictures(
            "<p>Rain <img src=\"https://agency.example/a.jpg\" alt=\"a\"> fell.</p><figure><img src=\"b.jpg\" alt=\"b\"><figcaption>Flooded road</figcaption></figure><p>End</p>",
        );
        assert_eq!(bare, "<p>Rain  fell.</p><p>End</p>");
        let stripped =
            sanitize_html("<a href=\"javascript:x\" title=\"a>b\">x</a> <a href=\"/ok\">y</a>");
        assert!(
            !stripped.contains(" rel=\"noopener noreferrer nofollow\">x"),
            "{stripped}"
        );
        assert!(stripped.contains("<a title=\"a&gt;b\">x</a>"), "{stripped}");
        assert!(
            stripped.contains("href=\"/ok\" rel=\"noopener noreferrer nofollow\""),
            "{stripped}"
        );
        assert!(html.contains("href=\"mailto:desk@example.org\""));
    }

    #[test]
    fn harmless_raw_html_survives() {
        let html = sanitize_html(
            "<figure><img src=\"/i.jpg\" alt=\"A\" width=\"10\" height=\"5\" loading=\"lazy\" class=\"x\"><figcaption>Cap</figcaption></figure><p>H<sub>2</sub>O x<sup>2</sup></p>",
        );
        assert_eq!(
            html,
            "<figure><img src=\"/i.jpg\" alt=\"A\" width=\"10\" height=\"5\" loading=\"lazy\"><figcaption>Cap</figcaption></figure><p>H<sub>2</sub>O x<sup>2</sup></p>"
        );
    }

    #[test]
    fn script_content_is_removed_not_shown() {
        let html = sanitize_html("<p>a</p><script>alert(1)</script><style>p{}</style>");
        assert_eq!(html, "<p>a</p>");
    }

    #[test]
    fn ordered_list_start_is_kept() {
        let html = markdown_to_safe_html("3. three\n4. four\n");
        assert!(html.contains("<ol start=\"3\">"), "{html}");
    }

    #[test]
    fn plain_text_strips_formatting() {
        let text = plain_text(
            "# Head\n\nSome **bold** [link](https://x.example) and `code`.\n\n![alt text](/i.png)\n\n- one\n- two\n\n| a | b |\n|---|---|\n| c | d |\n",
        );
        assert_eq!(text, "Head Some bold link and code. one two a b c d");
    }

    #[test]
    fn plain_text_handles_raw_html() {
        let text = plain_text(
            "Intro\n\n<div><p>Inner &amp; more</p><p>Next</p><script>evil()</script></div>\n\nOutro &lt;x&gt;",
        );
        assert_eq!(text, "Intro Inner & more Next Outro <x>");
        assert_eq!(plain_text("a <b>bold</b> c"), "a bold c");
        assert_eq!(plain_text("  \n\n  "), "");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_input_is_safe(s in any::<String>()) {
            let html = markdown_to_safe_html(&s);
            assert_safe(&s, &html);
            let clean = sanitize_html(&s);
            assert_safe(&s, &clean);
            let _ = plain_text(&s);
        }

        #[test]
        fn html_shaped_input_is_safe(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("<script>".to_string()),
                    Just("</script>".to_string()),
                    Just("<img src=x onerror=alert(1)>".to_string()),
                    Just("<a href=\"javascript:x\">".to_string()),
                    Just("<svg onload=y>".to_string()),
                    Just("<math>".to_string()),
                    Just("<style>".to_string()),
                    Just("<!--".to_string()),
                    Just("-->".to_string()),
                    Just("[l](".to_string()),
                    Just(")".to_string()),
                    Just("\n\n".to_string()),
                    Just("`".to_string()),
                    Just(" onclick=\"z\" ".to_string()),
                    "[a-zA-Z<>\"'=:/ &#;]{0,12}",
                ],
                0..24,
            )
        ) {
            let s = parts.concat();
            assert_safe(&s, &markdown_to_safe_html(&s));
            assert_safe(&s, &sanitize_html(&s));
        }
    }
}
