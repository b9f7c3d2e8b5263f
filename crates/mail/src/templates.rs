//! The mails the newsroom sends: a subject, a plain-text body and a simple HTML body.
//!
//! Everything interpolated into the HTML is escaped; names going into the subject are put on
//! one line (control characters become spaces), so a site name can never break a header.

use chrono::{DateTime, Utc};
use newsdesk_domain::Role;

/// The parts of a rendered mail; [`crate::Message::new`] turns them into a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Subject line (one line).
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
}

/// An invitation to join the newsroom of `site_name` as `role`, by following `link` before
/// `expires`.
pub fn invitation(site_name: &str, link: &str, role: Role, expires: DateTime<Utc>) -> Rendered {
    let site = one_line(site_name);
    let role_name = role.as_str();
    let article = if role_name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    let when = expiry(expires);
    let text = format!(
        "You have been invited to join the newsroom of {site} as {article} {role_name}.\n\
         \n\
         To accept, open this link and choose a password:\n\
         \n\
         {link}\n\
         \n\
         The link works once and expires on {when}.\n\
         If you were not expecting this invitation, ignore this message.\n\
         \n\
         -- \n\
         {site}\n"
    );
    let body = format!(
        "<p>You have been invited to join the newsroom of <strong>{site_h}</strong> as \
         {article} {role_h}.</p>\n\
         <p>To accept, open this link and choose a password:</p>\n\
         {button}\n\
         <p>The link works once and expires on {when_h}.<br>\n\
         If you were not expecting this invitation, ignore this message.</p>",
        site_h = escape(&site),
        role_h = escape(role_name),
        button = button(link, "Accept the invitation"),
        when_h = escape(&when),
    );
    Rendered {
        subject: format!("Your invitation to {site}"),
        text,
        html: page(&format!("Your invitation to {site}"), &body, &site),
    }
}

/// A password reset for an account on `site_name`: follow `link` before `expires`.
pub fn password_reset(site_name: &str, link: &str, expires: DateTime<Utc>) -> Rendered {
    let site = one_line(site_name);
    let when = expiry(expires);
    let text = format!(
        "Someone asked to reset the password of your account on {site}.\n\
         \n\
         To choose a new password, open this link:\n\
         \n\
         {link}\n\
         \n\
         The link works once and expires on {when}.\n\
         If you did not ask for this, ignore this message: your password stays as it is.\n\
         \n\
         -- \n\
         {site}\n"
    );
    let body = format!(
        "<p>Someone asked to reset the password of your account on <strong>{site_h}</strong>.</p>\n\
         <p>To choose a new password, open this link:</p>\n\
         {button}\n\
         <p>The link works once and expires on {when_h}.<br>\n\
         If you did not ask for this, ignore this message: your password stays as it is.</p>",
        site_h = escape(&site),
        button = button(link, "Choose a new password"),
        when_h = escape(&when),
    );
    Rendered {
        subject: format!("Reset your password on {site}"),
        text,
        html: page(&format!("Reset your password on {site}"), &body, &site),
    }
}

/// Escapes text for HTML content and quoted attribute values (the one escaper, from
/// `newsdesk_domain::text`).
pub use newsdesk_domain::text::escape_html as escape;

/// Collapses control characters and runs of white space to single spaces.
fn one_line(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn expiry(t: DateTime<Utc>) -> String {
    t.format("%-d %B %Y at %H:%M UTC").to_string()
}

fn button(link: &str, label: &str) -> String {
    let href = escape(link);
    format!(
        "<p><a href=\"{href}\" style=\"display:inline-block;padding:10px 16px;background:#1a1a1a;\
         color:#ffffff;text-decoration:none;border-radius:4px\">{label}</a></p>\n\
         <p style=\"font-size:13px;color:#555555\">Or copy this address into your browser:<br>\
         <a href=\"{href}\" style=\"color:#555555;word-break:break-all\">{href}</a></p>",
        label = escape(label),
    )
}

fn page(title: &str, body: &str, site: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n</head>\n\
         <body style=\"margin:0;padding:24px;background:#ffffff;color:#1a1a1a;\
         font-family:Georgia,'Times New Roman',serif;font-size:16px;line-height:1.5\">\n\
         <div style=\"max-width:560px;margin:0 auto\">\n{body}\n\
         <p style=\"font-size:13px;color:#555555;border-top:1px solid #dddddd;padding-top:12px\">\
         {site}</p>\n</div>\n</body>\n</html>\n",
        title = escape(title),
        site = escape(site),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn when() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 14, 9, 26, 0).unwrap()
    }

    const EVIL_SITE: &str = "<script>alert(1)</script> & \"Co\"\r\nBcc: x@y.z";
    const EVIL_LINK: &str = "https://news.example/invite?t=a&b=\"><img src=x onerror=alert(1)>";

    fn assert_escaped(html: &str) {
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("\"><"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Co&quot;"));
        assert!(html.contains(
            "href=\"https://news.example/invite?t=a&amp;b=&quot;&gt;&lt;img src=x onerror=alert(1)&gt;\""
        ));
    }

    #[test]
    fn invitation_parts() {
        let r = invitation(
            "The Daily Planet",
            "https://news.example/i/abc",
            Role::Editor,
            when(),
        );
        assert_eq!(r.subject, "Your invitation to The Daily Planet");
        assert!(r.text.contains("as an editor"));
        assert!(r.text.contains("\nhttps://news.example/i/abc\n"));
        assert!(r.text.contains("14 March 2025 at 09:26 UTC"));
        assert!(r.html.contains("href=\"https://news.example/i/abc\""));
        assert!(r.html.contains("<strong>The Daily Planet</strong>"));
        let r = invitation("X", "https://x.example", Role::Contributor, when());
        assert!(r.text.contains("as a contributor"));
    }

    #[test]
    fn invitation_escapes_everything() {
        let r = invitation(EVIL_SITE, EVIL_LINK, Role::Admin, when());
        assert_escaped(&r.html);
        assert!(!r.subject.contains(['\r', '\n']), "{:?}", r.subject);
        assert_eq!(
            r.subject,
            "Your invitation to <script>alert(1)</script> & \"Co\" Bcc: x@y.z"
        );
    }

    #[test]
    fn password_reset_parts_and_escaping() {
        let r = password_reset("The Daily Planet", "https://news.example/r/xyz", when());
        assert_eq!(r.subject, "Reset your password on The Daily Planet");
        assert!(r.text.contains("\nhttps://news.example/r/xyz\n"));
        assert!(r.text.contains("expires on 14 March 2025 at 09:26 UTC"));
        assert!(r.html.contains("href=\"https://news.example/r/xyz\""));
        let r = password_reset(EVIL_SITE, EVIL_LINK, when());
        assert_escaped(&r.html);
        assert!(!r.subject.contains(['\r', '\n']));
    }

    #[test]
    fn escape_covers_the_five() {
        assert_eq!(
            escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }
}
