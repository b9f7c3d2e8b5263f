//! Turning the old systems' body formats into plain HTML (sanitised later, in `app`, by the
//! same allowlist as every story): WordPress post content (paragraphs by blank lines, block
//! comments, shortcodes, bare embed URLs), Ghost mobiledoc and Lexical documents. Embeds
//! (oEmbed URLs, iframes, `[embed]`, `[video]`, `[audio]`) become plain links, since the
//! sanitiser removes embedded players.

use newsdesk_domain::text::escape_html;
use serde_json::Value;

const BLOCK_TAGS: &[&str] = &[
    "<p",
    "<h1",
    "<h2",
    "<h3",
    "<h4",
    "<h5",
    "<h6",
    "<ul",
    "<ol",
    "<li",
    "<blockquote",
    "<figure",
    "<table",
    "<div",
    "<pre",
    "<hr",
    "<dl",
    "<address",
    "<section",
    "<iframe",
    "<video",
    "<audio",
];

fn link(url: &str) -> String {
    let u = escape_html(url);
    format!("<a href=\"{u}\">{u}</a>")
}

fn is_url(s: &str) -> bool {
    (s.starts_with("http://") || s.starts_with("https://"))
        && s.len() > 8
        && !s.contains(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"')
}

/// The value of attribute `name` in a tag's text (`<iframe src="…" …>`).
fn attr(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let key = format!(" {name}=");
    let at = lower.find(&key)? + key.len();
    let rest = &tag[at..];
    let (q, body) = match rest.chars().next()? {
        '"' => ('"', &rest[1..]),
        '\'' => ('\'', &rest[1..]),
        _ => (' ', rest),
    };
    let end = body.find([q, '>']).unwrap_or(body.len());
    Some(body[..end].to_string())
}

/// Replaces each `<tag …>…</tag>` (or `<tag …/>`) with a link to its `src`.
fn media_tags_to_links(html: &str, tag: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    loop {
        let lower = rest.to_ascii_lowercase();
        let Some(i) = lower.find(&open) else {
            out.push_str(rest);
            break;
        };
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        let Some(gt) = after.find('>') else {
            break;
        };
        let head = &after[..=gt];
        let mut end = gt + 1;
        if !head.ends_with("/>") {
            if let Some(c) = after.to_ascii_lowercase().find(&close) {
                end = c + close.len();
            }
        }
        let src = attr(head, "src").or_else(|| {
            // <video><source src=…></video>
            attr(&after[..end], "src")
        });
        if let Some(s) = src.filter(|s| is_url(s)) {
            out.push_str(&link(&s));
        }
        rest = &after[end..];
    }
    out
}

/// Replaces a shortcode pair `[name …]inner[/name]` by `f(attributes, inner)`, and a lone
/// `[name …]` by `f(attributes, "")`.
fn shortcode(html: &str, name: &str, f: &dyn Fn(&str, &str) -> String) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    let open = format!("[{name}");
    let close = format!("[/{name}]");
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        // `[caption` must not match `[captions`.
        if !after.starts_with([' ', ']']) {
            out.push_str(&rest[..i + open.len()]);
            rest = after;
            continue;
        }
        out.push_str(&rest[..i]);
        let Some(rb) = after.find(']') else {
            rest = after;
            continue;
        };
        let attrs = &after[..rb];
        let body = &after[rb + 1..];
        match body.find(&close) {
            Some(c) => {
                out.push_str(&f(attrs, &body[..c]));
                rest = &body[c + close.len()..];
            }
            None => {
                out.push_str(&f(attrs, ""));
                rest = body;
            }
        }
    }
    out.push_str(rest);
    out
}

/// WordPress post content as HTML: block comments dropped, shortcodes resolved (captions keep
/// their picture and text, galleries are dropped, embeds become links), bare URLs on a line of
/// their own (oEmbed) become links, and text separated by blank lines becomes paragraphs (as
/// WordPress's `wpautop` does), with single line breaks kept as `<br>`.
pub fn wordpress(content: &str) -> String {
    let content = content.replace("\r\n", "\n");
    // Block comments (`<!-- wp:paragraph -->`) carry no content.
    let mut s = String::with_capacity(content.len());
    let mut rest = content.as_str();
    while let Some(i) = rest.find("<!--") {
        s.push_str(&rest[..i]);
        match rest[i..].find("-->") {
            Some(j) => rest = &rest[i + j + 3..],
            None => {
                rest = "";
            }
        }
    }
    s.push_str(rest);
    let s = shortcode(&s, "embed", &|_, inner| {
        let u = inner.trim();
        if is_url(u) {
            link(u)
        } else {
            String::new()
        }
    });
    let media = |attrs: &str, _: &str| {
        for key in ["src", "mp4", "m4v", "webm", "ogv", "mp3", "ogg", "wav"] {
            if let Some(u) = attr(&format!(" {}", attrs.trim()), key).filter(|u| is_url(u)) {
                return link(&u);
            }
        }
        String::new()
    };
    let s = shortcode(&s, "video", &media);
    let s = shortcode(&s, "audio", &media);
    let s = shortcode(&s, "caption", &|_, inner| {
        format!("<figure>{}</figure>", inner.trim())
    });
    let s = shortcode(&s, "gallery", &|_, _| String::new());
    let s = shortcode(&s, "playlist", &|_, _| String::new());
    let s = media_tags_to_links(&s, "iframe");
    let s = media_tags_to_links(&s, "video");
    let s = media_tags_to_links(&s, "audio");
    let s = media_tags_to_links(&s, "embed");
    // Paragraphs.
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    let mut chunk = String::new();
    let mut pre_open = 0i32;
    let flush = |chunk: &mut String, out: &mut String| {
        let c = chunk.trim();
        if !c.is_empty() {
            let lower = c.to_ascii_lowercase();
            if BLOCK_TAGS.iter().any(|t| lower.starts_with(t)) {
                out.push_str(c);
            } else {
                out.push_str("<p>");
                out.push_str(&c.replace('\n', "<br>\n"));
                out.push_str("</p>");
            }
            out.push('\n');
        }
        chunk.clear();
    };
    for line in s.split('\n') {
        let t = line.trim();
        let lower = t.to_ascii_lowercase();
        pre_open += lower.matches("<pre").count() as i32 - lower.matches("</pre").count() as i32;
        if t.is_empty() && pre_open <= 0 {
            flush(&mut chunk, &mut out);
            continue;
        }
        if pre_open <= 0 && is_url(t) {
            flush(&mut chunk, &mut out);
            out.push_str(&format!("<p>{}</p>\n", link(t)));
            continue;
        }
        if !chunk.is_empty() {
            chunk.push('\n');
        }
        chunk.push_str(line);
    }
    flush(&mut chunk, &mut out);
    out
}

/// A Ghost mobiledoc document (JSON text) as HTML: markup sections (paragraphs, headings,
/// quotes), lists, and the common cards (markdown, html, image, embed, bookmark, code,
/// divider). Unknown cards are left out.
pub fn mobiledoc(doc: &str) -> Option<String> {
    let v: Value = serde_json::from_str(doc).ok()?;
    let markups: Vec<(String, Option<String>)> = v["markups"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| {
                    let tag = m[0].as_str().unwrap_or("span").to_ascii_lowercase();
                    let href = m[1].as_array().and_then(|attrs| {
                        attrs
                            .chunks(2)
                            .find(|p| p.first().and_then(Value::as_str) == Some("href"))
                            .and_then(|p| p.get(1).and_then(Value::as_str).map(String::from))
                    });
                    (tag, href)
                })
                .collect()
        })
        .unwrap_or_default();
    let cards = v["cards"].as_array().cloned().unwrap_or_default();
    let atoms = v["atoms"].as_array().cloned().unwrap_or_default();
    let markers = |ms: &Value| -> String {
        let mut out = String::new();
        let mut open: Vec<String> = Vec::new();
        for m in ms.as_array().into_iter().flatten() {
            for idx in m[1].as_array().into_iter().flatten() {
                if let Some((tag, href)) = idx.as_u64().and_then(|i| markups.get(i as usize)) {
                    match (tag.as_str(), href) {
                        ("a", Some(h)) => out.push_str(&format!("<a href=\"{}\">", escape_html(h))),
                        _ => out.push_str(&format!("<{tag}>")),
                    }
                    open.push(tag.clone());
                }
            }
            match m[0].as_u64() {
                Some(1) => {
                    if let Some(a) = m[3].as_u64().and_then(|i| atoms.get(i as usize)) {
                        out.push_str(&escape_html(a[1].as_str().unwrap_or_default()));
                    }
                }
                _ => out.push_str(&escape_html(m[3].as_str().unwrap_or_default())),
            }
            let closes = m[2].as_u64().unwrap_or(0) as usize;
            for _ in 0..closes.min(open.len()) {
                if let Some(t) = open.pop() {
                    out.push_str(&format!("</{t}>"));
                }
            }
        }
        while let Some(t) = open.pop() {
            out.push_str(&format!("</{t}>"));
        }
        out
    };
    let mut out = String::new();
    for sec in v["sections"].as_array().into_iter().flatten() {
        match sec[0].as_u64() {
            Some(1) => {
                let tag = sec[1].as_str().unwrap_or("p").to_ascii_lowercase();
                let tag = match tag.as_str() {
                    "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "blockquote" | "p" => tag,
                    "aside" | "pull-quote" => "blockquote".into(),
                    _ => "p".into(),
                };
                out.push_str(&format!("<{tag}>{}</{tag}>\n", markers(&sec[2])));
            }
            Some(3) => {
                let tag = if sec[1].as_str() == Some("ol") {
                    "ol"
                } else {
                    "ul"
                };
                out.push_str(&format!("<{tag}>"));
                for li in sec[2].as_array().into_iter().flatten() {
                    out.push_str(&format!("<li>{}</li>", markers(li)));
                }
                out.push_str(&format!("</{tag}>\n"));
            }
            Some(10) => {
                let Some(card) = sec[1].as_u64().and_then(|i| cards.get(i as usize)) else {
                    continue;
                };
                out.push_str(&card_html(card[0].as_str().unwrap_or(""), &card[1]));
            }
            _ => {}
        }
    }
    Some(out)
}

fn card_html(name: &str, p: &Value) -> String {
    let s = |k: &str| p[k].as_str().unwrap_or_default().to_string();
    match name {
        "markdown" | "card-markdown" => {
            // Markdown stays Markdown: the importer renders bodies with the newsroom's renderer.
            format!("\n\n{}\n\n", s("markdown"))
        }
        "html" => format!("{}\n", s("html")),
        "image" => {
            let mut h = format!(
                "<figure><img src=\"{}\" alt=\"{}\">",
                escape_html(&s("src")),
                escape_html(&s("alt"))
            );
            if !s("caption").is_empty() {
                h.push_str(&format!("<figcaption>{}</figcaption>", s("caption")));
            }
            h.push_str("</figure>\n");
            h
        }
        "embed" | "bookmark" => {
            let url = s("url");
            if is_url(&url) {
                format!("<p>{}</p>\n", link(&url))
            } else {
                String::new()
            }
        }
        "code" => format!("<pre><code>{}</code></pre>\n", escape_html(&s("code"))),
        "hr" | "divider" => "<hr>\n".into(),
        _ => String::new(),
    }
}

/// A Ghost 5 Lexical editor state (JSON text) as HTML: paragraphs, headings, quotes, lists,
/// links, text formats, images, embeds and bookmarks (as links), code blocks, dividers, and
/// HTML and Markdown cards.
pub fn lexical(doc: &str) -> Option<String> {
    let v: Value = serde_json::from_str(doc).ok()?;
    let mut out = String::new();
    for n in v["root"]["children"].as_array().into_iter().flatten() {
        lexical_node(n, &mut out, 0);
    }
    Some(out)
}

fn lexical_node(n: &Value, out: &mut String, depth: usize) {
    if depth > 64 {
        return;
    }
    let children = |out: &mut String| {
        for c in n["children"].as_array().into_iter().flatten() {
            lexical_node(c, out, depth + 1);
        }
    };
    let s = |k: &str| n[k].as_str().unwrap_or_default().to_string();
    match n["type"].as_str().unwrap_or_default() {
        "text" | "extended-text" => {
            let format = n["format"].as_u64().unwrap_or(0);
            let mut t = escape_html(&s("text"));
            if format & 1 != 0 {
                t = format!("<strong>{t}</strong>");
            }
            if format & 2 != 0 {
                t = format!("<em>{t}</em>");
            }
            if format & 4 != 0 {
                t = format!("<del>{t}</del>");
            }
            if format & 16 != 0 {
                t = format!("<code>{t}</code>");
            }
            out.push_str(&t);
        }
        "linebreak" => out.push_str("<br>"),
        "link" | "autolink" => {
            out.push_str(&format!("<a href=\"{}\">", escape_html(&s("url"))));
            children(out);
            out.push_str("</a>");
        }
        "paragraph" => {
            out.push_str("<p>");
            children(out);
            out.push_str("</p>\n");
        }
        "heading" | "extended-heading" => {
            let tag = match s("tag").as_str() {
                t @ ("h1" | "h2" | "h3" | "h4" | "h5" | "h6") => t.to_string(),
                _ => "h2".into(),
            };
            out.push_str(&format!("<{tag}>"));
            children(out);
            out.push_str(&format!("</{tag}>\n"));
        }
        "quote" | "aside" | "extended-quote" => {
            out.push_str("<blockquote>");
            children(out);
            out.push_str("</blockquote>\n");
        }
        "list" => {
            let tag = if s("listType") == "number" {
                "ol"
            } else {
                "ul"
            };
            out.push_str(&format!("<{tag}>"));
            children(out);
            out.push_str(&format!("</{tag}>\n"));
        }
        "listitem" => {
            out.push_str("<li>");
            children(out);
            out.push_str("</li>");
        }
        "horizontalrule" => out.push_str("<hr>\n"),
        other => out.push_str(&card_html(other, n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wordpress_paragraphs_embeds_and_captions() {
        let html = wordpress(
            "<!-- wp:paragraph -->\nFirst line\nsecond line\n\n<h2>Head</h2>\n\nhttps://www.youtube.com/watch?v=abc\n\n[caption id=\"x\"]<img src=\"https://a/b.jpg\" alt=\"b\"> Cap[/caption]\n\n[gallery ids=\"1,2\"]\n\n<iframe src=\"https://player.example/v/1\"></iframe>\n\n<pre>a\n\nb</pre>",
        );
        assert!(
            html.contains("<p>First line<br>\nsecond line</p>"),
            "{html}"
        );
        assert!(html.contains("<h2>Head</h2>"));
        assert!(html.contains("<a href=\"https://www.youtube.com/watch?v=abc\">"));
        assert!(html.contains("<figure><img src=\"https://a/b.jpg\" alt=\"b\"> Cap</figure>"));
        assert!(!html.contains("gallery") && !html.contains("wp:paragraph"));
        assert!(html.contains("<a href=\"https://player.example/v/1\">"));
        assert!(html.contains("<pre>a\n\nb</pre>"));
    }

    #[test]
    fn mobiledoc_and_lexical() {
        let m = r#"{"version":"0.3.1","atoms":[],"cards":[["image",{"src":"https://x/i.png","alt":"i"}],["embed",{"url":"https://youtu.be/1"}]],"markups":[["a",["href","https://e.org"]],["strong"]],"sections":[[1,"h2",[[0,[],0,"Title"]]],[1,"p",[[0,[0],1,"link"],[0,[1],1," bold"]]],[10,0],[10,1],[3,"ul",[[[0,[],0,"one"]]]]]}"#;
        let h = mobiledoc(m).unwrap();
        assert!(h.contains("<h2>Title</h2>"), "{h}");
        assert!(
            h.contains("<a href=\"https://e.org\">link</a><strong> bold</strong>"),
            "{h}"
        );
        assert!(h.contains("<img src=\"https://x/i.png\""));
        assert!(h.contains("<a href=\"https://youtu.be/1\">"));
        assert!(h.contains("<ul><li>one</li></ul>"));
        let l = r#"{"root":{"children":[{"type":"heading","tag":"h3","children":[{"type":"text","text":"H","format":0}]},{"type":"paragraph","children":[{"type":"text","text":"b","format":1},{"type":"link","url":"https://e.org","children":[{"type":"text","text":"l","format":0}]}]},{"type":"embed","url":"https://youtu.be/2"}]}}"#;
        let h = lexical(l).unwrap();
        assert!(h.contains("<h3>H</h3>"), "{h}");
        assert!(
            h.contains("<p><strong>b</strong><a href=\"https://e.org\">l</a></p>"),
            "{h}"
        );
        assert!(h.contains("https://youtu.be/2"));
        assert!(mobiledoc("{").is_none());
    }
}
