//! Limits on what one document may cost, and the errors parsing can give.

/// Caps that bound the time and memory one document may cost.
///
/// The defaults suit agency feeds: 10 MiB of input, 200,000 XML nodes (elements and text
/// runs) and 64 levels of element nesting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest input accepted, in bytes (default 10 MiB).
    pub max_bytes: usize,
    /// Most XML nodes (elements, text runs, references) or JSON values accepted (default 200,000).
    pub max_nodes: usize,
    /// Deepest element or JSON nesting accepted (default 64).
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 10 * 1024 * 1024,
            max_nodes: 200_000,
            max_depth: 64,
        }
    }
}

/// Why a document could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    /// The input is larger than [`Limits::max_bytes`].
    #[error("document too large (over Limits::max_bytes)")]
    TooLarge,
    /// Elements (or JSON values) are nested deeper than [`Limits::max_depth`].
    #[error("document nested too deeply (over Limits::max_depth)")]
    TooDeep,
    /// The document has more nodes than [`Limits::max_nodes`].
    #[error("document has too many nodes (over Limits::max_nodes)")]
    TooManyNodes,
    /// A DOCTYPE with an internal subset or ENTITY declarations was refused (billion laughs,
    /// external entities). A plain `<!DOCTYPE rss PUBLIC "…" "…">` is accepted and ignored.
    #[error("document type declarations with an internal subset or entities are refused")]
    Dtd,
    /// The input is well-formed but not one of the supported formats.
    #[error("not a news feed or wire item: {0}")]
    NotAFeed(String),
    /// The input is not well-formed XML or JSON (or is truncated).
    #[error("malformed document: {0}")]
    Malformed(String),
    /// The bytes are not valid in the declared (or default UTF-8) character encoding, or the
    /// encoding is unknown.
    #[error("character encoding error: {0}")]
    Encoding(String),
}
