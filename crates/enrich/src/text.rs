//! Small text helpers shared by the other modules: accent folding, word splitting, HTML to text.

/// Folds one lower-case character to ASCII when it is a Latin letter with a diacritic
/// (`é` → `e`, `ş` → `s`); other characters are returned unchanged.
///
/// Covers Latin-1 Supplement and Latin Extended-A, which is what agency copy in European
/// languages and country names in the gazetteer use. Not a full Unicode decomposition.
pub fn fold_char(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => 'a',
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => 'c',
        'ď' | 'đ' | 'ð' => 'd',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => 'e',
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => 'g',
        'ĥ' | 'ħ' => 'h',
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => 'i',
        'ĵ' => 'j',
        'ķ' => 'k',
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => 'l',
        'ñ' | 'ń' | 'ņ' | 'ň' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => 'o',
        'ŕ' | 'ŗ' | 'ř' => 'r',
        'ś' | 'ŝ' | 'ş' | 'š' | 'ș' | 'ß' => 's',
        'ţ' | 'ť' | 'ŧ' | 'ț' => 't',
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => 'u',
        'ŵ' => 'w',
        'ý' | 'ÿ' | 'ŷ' => 'y',
        'ź' | 'ż' | 'ž' => 'z',
        _ => c,
    }
}

/// A word of a text: its byte range in the original and its folded lower-case form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset just past the last character.
    pub end: usize,
    /// Lower-case, accent-folded form.
    pub norm: String,
}

/// Splits `text` into words: maximal runs of alphanumeric characters (Unicode-aware, so `Zürich`
/// and `Кыргызстан` are single words). Punctuation, apostrophes and hyphens separate words.
pub fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::with_capacity(text.len() / 6);
    let mut start: Option<usize> = None;
    let mut norm = String::new();
    for (i, c) in text.char_indices() {
        // ASCII fast path (most agency copy): no Unicode case tables, no folding.
        if c.is_ascii() {
            if c.is_ascii_alphanumeric() {
                if start.is_none() {
                    start = Some(i);
                }
                norm.push(c.to_ascii_lowercase());
            } else if let Some(s) = start.take() {
                out.push(Word {
                    start: s,
                    end: i,
                    norm: std::mem::take(&mut norm),
                });
            }
        } else if c.is_alphanumeric() {
            if start.is_none() {
                start = Some(i);
            }
            for l in c.to_lowercase() {
                norm.push(fold_char(l));
            }
        } else if let Some(s) = start.take() {
            out.push(Word {
                start: s,
                end: i,
                norm: std::mem::take(&mut norm),
            });
        }
    }
    if let Some(s) = start {
        out.push(Word {
            start: s,
            end: text.len(),
            norm,
        });
    }
    out
}

/// A word as [`word_spans`] gives it: byte range in the text, byte range of its normalised form
/// in the shared buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Byte offset of the first character in the text.
    pub start: usize,
    /// Byte offset just past the last character in the text.
    pub end: usize,
    /// Range of the lower-case, accent-folded form in the buffer.
    pub norm: (usize, usize),
}

/// [`words`] without a `String` per word: the normalised forms are appended to `buf` (cleared
/// first) and each word gives its ranges; `&buf[s.norm.0..s.norm.1]` is the form.
pub fn word_spans(text: &str, buf: &mut String) -> Vec<Span> {
    buf.clear();
    let mut out = Vec::with_capacity(text.len() / 6);
    let mut start: Option<(usize, usize)> = None;
    for (i, c) in text.char_indices() {
        let alnum = if c.is_ascii() {
            c.is_ascii_alphanumeric()
        } else {
            c.is_alphanumeric()
        };
        if alnum {
            if start.is_none() {
                start = Some((i, buf.len()));
            }
            if c.is_ascii() {
                buf.push(c.to_ascii_lowercase());
            } else {
                for l in c.to_lowercase() {
                    buf.push(fold_char(l));
                }
            }
        } else if let Some((s, n)) = start.take() {
            out.push(Span {
                start: s,
                end: i,
                norm: (n, buf.len()),
            });
        }
    }
    if let Some((s, n)) = start {
        out.push(Span {
            start: s,
            end: text.len(),
            norm: (n, buf.len()),
        });
    }
    out
}

/// A text's words, split once and read by every step of the wire desk (exact-text hash, shingles,
/// both taggers), instead of each splitting the text again.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    buf: String,
    spans: Vec<Span>,
}

impl Tokens {
    /// The words of `text` ([`word_spans`]).
    pub fn new(text: &str) -> Tokens {
        let mut buf = String::with_capacity(text.len());
        let spans = word_spans(text, &mut buf);
        Tokens { buf, spans }
    }

    /// The words with their ranges in the text.
    pub fn spans(&self) -> &[Span] {
        &self.spans
    }

    /// The normalised form of a word of this text.
    pub fn norm(&self, s: &Span) -> &str {
        &self.buf[s.norm.0..s.norm.1]
    }

    /// The normalised words, in order (as [`each_word`] gives them).
    pub fn words(&self) -> impl Iterator<Item = &str> + '_ {
        self.spans.iter().map(|s| self.norm(s))
    }

    /// The normalised words starting at or after byte `from` of the text.
    pub fn words_from(&self, from: usize) -> impl Iterator<Item = &str> + '_ {
        let first = self.spans.partition_point(|s| s.start < from);
        self.spans[first..].iter().map(|s| self.norm(s))
    }
}

/// Calls `f` with the normalised form of each word of `text`, as [`words`] finds them, without
/// allocating per word (one buffer is reused): for hashing and counting, where positions are
/// not needed.
pub fn each_word(text: &str, mut f: impl FnMut(&str)) {
    let mut norm = String::with_capacity(32);
    for c in text.chars() {
        if c.is_ascii() {
            if c.is_ascii_alphanumeric() {
                norm.push(c.to_ascii_lowercase());
                continue;
            }
        } else if c.is_alphanumeric() {
            for l in c.to_lowercase() {
                norm.push(fold_char(l));
            }
            continue;
        }
        if !norm.is_empty() {
            f(&norm);
            norm.clear();
        }
    }
    if !norm.is_empty() {
        f(&norm);
    }
}

/// A fast, fixed (not randomised) hasher for the tables of short words built from the embedded
/// data (lexicon, gazetteer): FNV-1a. Their keys come from newsdesk's own data, not from
/// outside, so hash flooding is not a concern, and SipHash was a tenth of the per-item time.
#[derive(Debug, Clone, Copy)]
pub struct FnvHasher(u64);

impl Default for FnvHasher {
    fn default() -> FnvHasher {
        FnvHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for FnvHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// A `HashMap` with [`FnvHasher`].
pub type FnvMap<K, V> = std::collections::HashMap<K, V, std::hash::BuildHasherDefault<FnvHasher>>;

/// Normalises text for comparison: lower case, accents folded, punctuation removed, words
/// separated by single spaces.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for w in words(text) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&w.norm);
    }
    out
}

/// Crude plural stripping used by the lexicons: `elections` → `election`, `crops` → `crop`;
/// words of 3 letters or fewer and words ending in `ss`, `us` or `is` are kept.
pub fn light_stem(word: &str) -> &str {
    if word.len() > 3
        && word.ends_with('s')
        && !word.ends_with("ss")
        && !word.ends_with("us")
        && !word.ends_with("is")
    {
        &word[..word.len() - 1]
    } else {
        word
    }
}

/// English function words ignored by the similarity and the lexicons.
pub fn is_stopword(w: &str) -> bool {
    matches!(
        w,
        "a" | "about"
            | "after"
            | "against"
            | "all"
            | "also"
            | "an"
            | "and"
            | "any"
            | "are"
            | "as"
            | "at"
            | "be"
            | "been"
            | "before"
            | "being"
            | "between"
            | "both"
            | "but"
            | "by"
            | "can"
            | "could"
            | "did"
            | "do"
            | "does"
            | "during"
            | "each"
            | "for"
            | "from"
            | "had"
            | "has"
            | "have"
            | "he"
            | "her"
            | "here"
            | "hers"
            | "him"
            | "his"
            | "how"
            | "i"
            | "if"
            | "in"
            | "into"
            | "is"
            | "it"
            | "its"
            | "just"
            | "more"
            | "most"
            | "no"
            | "nor"
            | "not"
            | "of"
            | "on"
            | "once"
            | "only"
            | "or"
            | "other"
            | "our"
            | "out"
            | "over"
            | "own"
            | "s"
            | "said"
            | "same"
            | "says"
            | "say"
            | "she"
            | "should"
            | "so"
            | "some"
            | "such"
            | "than"
            | "that"
            | "the"
            | "their"
            | "them"
            | "then"
            | "there"
            | "these"
            | "they"
            | "this"
            | "those"
            | "through"
            | "to"
            | "told"
            | "too"
            | "under"
            | "until"
            | "up"
            | "very"
            | "was"
            | "we"
            | "were"
            | "what"
            | "when"
            | "where"
            | "which"
            | "while"
            | "who"
            | "whom"
            | "why"
            | "will"
            | "with"
            | "would"
            | "you"
            | "your"
            | "yet"
            | "may"
            | "might"
            | "must"
            | "new"
            | "one"
            | "two"
            | "per"
            | "via"
            | "according"
            | "added"
            | "monday"
            | "tuesday"
            | "wednesday"
            | "thursday"
            | "friday"
            | "saturday"
            | "sunday"
            | "week"
            | "year"
            | "years"
            | "day"
            | "days"
            | "last"
            | "first"
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_word_agrees_with_words() {
        for t in [
            "",
            "Zürich: 12 dead, U.S. says",
            "a--b  c\u{2019}d ÉTÉ Кыргызстан 5G",
            "end",
        ] {
            let mut got = Vec::new();
            each_word(t, |w| got.push(w.to_string()));
            let want: Vec<String> = words(t).into_iter().map(|w| w.norm).collect();
            assert_eq!(got, want, "{t}");
        }
        for t in [
            "",
            "Zürich: 12 dead, U.S. says",
            "a--b  c\u{2019}d ÉTÉ Кыргызстан 5G",
        ] {
            let mut buf = String::new();
            let got: Vec<(usize, usize, String)> = word_spans(t, &mut buf)
                .into_iter()
                .map(|s| (s.start, s.end, buf[s.norm.0..s.norm.1].to_string()))
                .collect();
            let want: Vec<(usize, usize, String)> = words(t)
                .into_iter()
                .map(|w| (w.start, w.end, w.norm))
                .collect();
            assert_eq!(got, want, "{t}");
        }
        let w = words("Zürich, US");
        assert_eq!((w[0].start, w[0].end, w[1].start), (0, 7, 9));
    }

    use super::*;

    #[test]
    fn words_are_unicode_aware_and_folded() {
        let w = words("Côte d'Ivoire, São Tomé: 3.5% — Zürich!");
        let n: Vec<&str> = w.iter().map(|w| w.norm.as_str()).collect();
        assert_eq!(
            n,
            ["cote", "d", "ivoire", "sao", "tome", "3", "5", "zurich"]
        );
        assert_eq!(&"Côte d'Ivoire"[w[0].start..w[0].end], "Côte");
        assert_eq!(normalize("  Hello,   WORLD! "), "hello world");
    }

    #[test]
    fn stems() {
        assert_eq!(light_stem("elections"), "election");
        assert_eq!(light_stem("business"), "business");
        assert_eq!(light_stem("gas"), "gas");
        assert_eq!(light_stem("virus"), "virus");
    }
}
