//! Words: the tokenizer every text field and every query goes through.
//!
//! Text is split at Unicode word boundaries (UAX #29), so a word in Devanagari keeps its vowel
//! signs (tantivy's simple tokenizer cuts at every character that is not alphanumeric, and a
//! vowel sign is a combining mark), then lower-cased, and English words are stemmed.

use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, Stemmer, TextAnalyzer, Token, TokenStream, Tokenizer,
};
use unicode_segmentation::UnicodeSegmentation;

/// The name the analyzer is registered under in the index.
pub const ANALYZER: &str = "newsdesk_words";

/// The name the word-pair analyzer is registered under in the index.
pub const PAIRS: &str = "newsdesk_pairs";

/// Words longer than this many bytes are not indexed (base64, run-on strings).
const MAX_WORD_BYTES: usize = 60;

/// Splits text into words at Unicode word boundaries; punctuation and spaces are dropped, and
/// a `:` or `.` inside a "word" (`field:value`, `U.S`) splits it too.
#[derive(Clone, Default)]
pub struct WordTokenizer {
    tokens: Vec<Token>,
}

/// The words of one text.
pub struct WordStream<'a> {
    tokens: &'a mut Vec<Token>,
    next: usize,
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordStream<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream<'a> {
        self.tokens.clear();
        let mut position = 0;
        for (start, word) in text.unicode_word_indices() {
            for (off, part) in split_inner(word) {
                if !part.chars().any(char::is_alphanumeric) {
                    continue;
                }
                self.tokens.push(Token {
                    offset_from: start + off,
                    offset_to: start + off + part.len(),
                    position,
                    text: part.to_owned(),
                    position_length: 1,
                });
                position += 1;
            }
        }
        WordStream {
            tokens: &mut self.tokens,
            next: 0,
        }
    }
}

/// The parts of a UAX #29 word between the `:` and `.` it may hold (they join letters there).
fn split_inner(word: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut start = 0;
    let mut parts = Vec::new();
    for (i, c) in word.char_indices() {
        if c == ':' || c == '.' {
            if i > start {
                parts.push((start, &word[start..i]));
            }
            start = i + c.len_utf8();
        }
    }
    if start < word.len() {
        parts.push((start, &word[start..]));
    }
    parts.into_iter()
}

impl TokenStream for WordStream<'_> {
    fn advance(&mut self) -> bool {
        if self.next < self.tokens.len() {
            self.next += 1;
            true
        } else {
            false
        }
    }
    fn token(&self) -> &Token {
        &self.tokens[self.next.saturating_sub(1)]
    }
    fn token_mut(&mut self) -> &mut Token {
        let i = self.next.saturating_sub(1);
        &mut self.tokens[i]
    }
}

/// The analyzer: words, long ones dropped, lower case, English stems.
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WordTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_WORD_BYTES))
        .filter(LowerCaser)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// Adjacent word pairs: the words of [`analyzer`], and for every two of them that stand next
/// to each other (positions `p` and `p + 1`: a word dropped for its length leaves a gap) one
/// term `"first second"` at position `p`. A phrase of `n` words is then `n - 1` pair terms at
/// consecutive positions (one term for two words), and matches exactly where the words do.
///
/// A word with no neighbour after it gives the term [`FILLER`] instead, so a text has as many
/// pair tokens as words: the field's length (BM25's field norm) is the words' field's, and a
/// phrase found by its pairs scores as the phrase of words did. No query asks for the filler.
#[derive(Clone)]
pub struct PairTokenizer {
    words: TextAnalyzer,
    tokens: Vec<Token>,
}

impl Default for PairTokenizer {
    fn default() -> Self {
        PairTokenizer {
            words: analyzer(),
            tokens: Vec::new(),
        }
    }
}

impl Tokenizer for PairTokenizer {
    type TokenStream<'a> = WordStream<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream<'a> {
        self.tokens.clear();
        let mut s = self.words.token_stream(text);
        let mut prev: Option<Token> = None;
        let push = |tokens: &mut Vec<Token>, p: Token, next: Option<&Token>| {
            tokens.push(match next.filter(|t| p.position + 1 == t.position) {
                Some(t) => Token {
                    offset_from: p.offset_from,
                    offset_to: t.offset_to,
                    position: p.position,
                    text: pair(&p.text, &t.text),
                    position_length: 1,
                },
                None => Token {
                    text: FILLER.to_owned(),
                    ..p
                },
            });
        };
        while s.advance() {
            let t = s.token();
            if let Some(p) = prev.take() {
                push(&mut self.tokens, p, Some(t));
            }
            prev = Some(t.clone());
        }
        if let Some(p) = prev {
            push(&mut self.tokens, p, None);
        }
        WordStream {
            tokens: &mut self.tokens,
            next: 0,
        }
    }
}

/// The pair field's term for a word with no neighbour after it (a space alone: never a pair).
pub const FILLER: &str = " ";

/// The pair term of two analysed words (a space never is inside a word).
pub fn pair(first: &str, second: &str) -> String {
    let mut s = String::with_capacity(first.len() + 1 + second.len());
    s.push_str(first);
    s.push(' ');
    s.push_str(second);
    s
}

/// The pair analyzer (see [`PairTokenizer`]).
pub fn pair_analyzer() -> TextAnalyzer {
    TextAnalyzer::from(PairTokenizer::default())
}

/// The terms `text` is indexed as, in order.
pub fn terms(text: &str) -> Vec<String> {
    let mut a = analyzer();
    let mut s = a.token_stream(text);
    let mut out = Vec::new();
    while s.advance() {
        out.push(s.token().text.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_words_are_stemmed_and_lower_cased() {
        assert_eq!(terms("Running ELECTIONS, voted!"), ["run", "elect", "vote"]);
    }

    #[test]
    fn devanagari_words_keep_their_vowel_signs() {
        // "भारत में चुनाव" (elections in India): three words, not split at the vowel signs.
        let t = terms("भारत में चुनाव");
        assert_eq!(t, ["भारत", "में", "चुनाव"]);
    }

    #[test]
    fn field_syntax_and_punctuation_are_only_separators() {
        assert_eq!(terms("headline:cricket"), ["headlin", "cricket"]);
        assert_eq!(terms("\"a\" AND (b) -- ??"), ["a", "and", "b"]);
        assert!(terms("\u{0}\u{7}\u{1b}[31m").iter().all(|t| t == "31m"));
    }

    fn pairs(text: &str) -> Vec<(String, usize)> {
        let mut a = pair_analyzer();
        let mut s = a.token_stream(text);
        let mut out = Vec::new();
        while s.advance() {
            if s.token().text != FILLER {
                out.push((s.token().text.clone(), s.token().position));
            }
        }
        out
    }

    #[test]
    fn pairs_are_adjacent_words_after_analysis() {
        assert_eq!(
            pairs("The Government, said: on"),
            [
                ("the govern".to_owned(), 0),
                ("govern said".to_owned(), 1),
                ("said on".to_owned(), 2)
            ]
        );
        // A word dropped for its length leaves its neighbours apart.
        let long = "y".repeat(100);
        assert_eq!(pairs(&format!("a {long} b c")), [("b c".to_owned(), 2)]);
        assert_eq!(pairs("भारत में चुनाव")[1].0, "में चुनाव");
        assert!(pairs("alone").is_empty());
        // As many tokens as words (the field's length for BM25).
        let mut a = pair_analyzer();
        let mut s = a.token_stream("a b, c dd");
        let mut n = 0;
        while s.advance() {
            n += 1;
        }
        assert_eq!(n, 4);
    }

    #[test]
    fn very_long_words_are_dropped() {
        let long = "x".repeat(200);
        assert_eq!(terms(&format!("short {long} word")), ["short", "word"]);
    }
}
