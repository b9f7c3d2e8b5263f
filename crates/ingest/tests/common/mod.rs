//! Shared helpers for the corpus-driven conformance tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;

/// The shared corpora folder: `$NEWSDESK_CORPORA`, else `../shared/corpora` next to the
/// workspace. Panics with a clear message when it is missing: a conformance suite that
/// silently passes on no data would be worse than none.
pub fn corpora() -> PathBuf {
    let dir = match std::env::var_os("NEWSDESK_CORPORA") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora"),
    };
    assert!(
        dir.is_dir(),
        "conformance corpora not found at {} — set NEWSDESK_CORPORA to the shared/corpora folder",
        dir.display()
    );
    dir
}

/// A sub-folder of the corpora that must exist.
pub fn collection(name: &str) -> PathBuf {
    let d = corpora().join(name);
    assert!(d.is_dir(), "corpus collection {} is missing", d.display());
    d
}

/// Prints a suite's pass rate in a fixed format and returns it as a percentage.
pub fn report(suite: &str, passed: usize, total: usize, failures: &[String]) -> f64 {
    let rate = if total == 0 {
        0.0
    } else {
        passed as f64 * 100.0 / total as f64
    };
    println!("{suite}: {passed}/{total} passed ({rate:.1}%)");
    for f in failures {
        println!("  FAIL {f}");
    }
    rate
}

/// True when sanitised HTML still carries something executable.
pub fn has_active_content(html: &str) -> Option<&'static str> {
    let lower = html.to_ascii_lowercase();
    if lower.contains("<script") {
        return Some("script element");
    }
    // An attribute named on…= inside a tag.
    let mut in_tag = false;
    let bytes = lower.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'<' => in_tag = true,
            b'>' => in_tag = false,
            b'o' if in_tag
                && i > 0
                && (bytes[i - 1].is_ascii_whitespace()
                    || bytes[i - 1] == b'/'
                    || bytes[i - 1] == b'"'
                    || bytes[i - 1] == b'\'')
                && bytes.get(i + 1) == Some(&b'n') =>
            {
                let rest = &lower[i + 2..];
                let name_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
                if name_len > 0 && rest[name_len..].trim_start().starts_with('=') {
                    return Some("event handler attribute");
                }
            }
            _ => {}
        }
    }
    let squeezed: String = lower.chars().filter(|c| !c.is_whitespace()).collect();
    for pat in [
        "=\"javascript:",
        "='javascript:",
        "=javascript:",
        "=\"vbscript:",
        "='vbscript:",
        "=\"data:text/html",
    ] {
        if squeezed.contains(pat) {
            return Some("script URL");
        }
    }
    None
}
