//! Alt text: every published picture needs one.

/// Longest alt text accepted, in characters.
pub const MAX_ALT_CHARS: usize = 500;

/// Why an alt text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AltTextError {
    /// Empty or only white space.
    #[error("Please describe the picture (alt text) for readers who cannot see it.")]
    Missing,
    /// Longer than [`MAX_ALT_CHARS`].
    #[error("The picture description (alt text) is too long: keep it under {max} characters and put the rest in the caption.")]
    TooLong {
        /// The limit, in characters.
        max: usize,
    },
}

/// Checks and tidies an alt text: white space runs (including line breaks) become one space,
/// control characters are dropped, the ends are trimmed. It must then be non-empty and at most
/// [`MAX_ALT_CHARS`] characters.
pub fn clean_alt_text(raw: &str) -> Result<String, AltTextError> {
    let cleaned = raw
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if cleaned.is_empty() {
        return Err(AltTextError::Missing);
    }
    if cleaned.chars().count() > MAX_ALT_CHARS {
        return Err(AltTextError::TooLong { max: MAX_ALT_CHARS });
    }
    Ok(cleaned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alt_text() {
        assert_eq!(clean_alt_text("  \n\t "), Err(AltTextError::Missing));
        assert_eq!(
            clean_alt_text(" Mayor  opens\nthe bridge\u{7} ").as_deref(),
            Ok("Mayor opens the bridge")
        );
        assert_eq!(
            clean_alt_text(&"a".repeat(MAX_ALT_CHARS + 1)),
            Err(AltTextError::TooLong { max: MAX_ALT_CHARS })
        );
    }
}
