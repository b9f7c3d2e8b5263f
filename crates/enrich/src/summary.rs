//! Extractive summary drafts of a cluster: whole sentences chosen from its items.
//!
//! 1. Sentences are split at `.`, `!`, `?` followed by a space and a capital, digit or quote, and
//!    at line breaks — but not after abbreviations ("Dr.", "Gen.", "Jan."), initials and dotted
//!    forms ("U.S.", "J. Smith"), and never inside decimals ("3.5").
//! 2. Each sentence becomes a TF-IDF vector over its content words (IDF over all the cluster's
//!    sentences). Centrality is the cosine to the centroid of all sentence vectors; lead sentences
//!    get a bonus (+0.15 for the first of an item, +0.05 for the second), and sentences of the
//!    first text (the lead item) +0.05.
//! 3. The opening sentence is the best-scoring *lead* (first sentence of an item, ≥ 5 words).
//!    Then maximal marginal relevance picks sentences one by one:
//!    `0.6 · score − 0.4 · max cosine to those already picked`; a sentence with cosine ≥ 0.45 to
//!    a picked one, or with fewer than half of its content words new to the summary, is a
//!    restatement and skipped. Picking stops at the target length; a sentence that would overshoot
//!    by more than 30 % is skipped, and so is any sentence scoring under 40 % of the best one
//!    (filler: the summary may then be shorter than the target).
//! 4. Output: the lead, then the other picked sentences in their original order (item order, then
//!    sentence order). A single sentence longer than twice the target is cut at a word boundary
//!    with "…".

use std::collections::{HashMap, HashSet};

use crate::text::{is_stopword, light_stem, words};

/// A summary draft. `draft` stays true until an editor accepts or edits it (that is recorded
/// elsewhere; this crate only drafts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The summary text.
    pub text: String,
    /// The sentences used, as (text index, sentence index within that text), in output order
    /// (the lead first, then original order).
    pub sentences: Vec<(usize, usize)>,
    /// Word count of `text`.
    pub words: usize,
    /// Always true when produced here.
    pub draft: bool,
}

const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "gen", "sen", "rep", "gov", "st", "jr", "sr", "inc", "ltd",
    "co", "corp", "vs", "etc", "no", "col", "lt", "capt", "sgt", "maj", "cmdr", "adm", "pres",
    "jan", "feb", "mar", "apr", "aug", "sep", "sept", "oct", "nov", "dec", "approx", "est", "dept",
    "univ", "assn", "bros", "mt", "ft", "rev", "hon", "fig", "al",
];

/// Words that start a sentence after a dotted abbreviation: "… in the U.S. The talks …".
const SENTENCE_STARTERS: &[&str] = &[
    "The",
    "A",
    "An",
    "It",
    "He",
    "She",
    "They",
    "We",
    "But",
    "In",
    "On",
    "At",
    "This",
    "That",
    "There",
    "Its",
    "His",
    "Her",
    "Their",
    "Officials",
    "However",
];

/// Splits a text into sentences (trimmed, non-empty). See the module documentation.
pub fn split_sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for para in text.split(['\n', '\r']) {
        let chars: Vec<(usize, char)> = para.char_indices().collect();
        let mut start = 0;
        for (k, &(i, c)) in chars.iter().enumerate() {
            if !matches!(c, '.' | '!' | '?') {
                continue;
            }
            // Closing quotes/brackets belong to the sentence.
            let mut j = k + 1;
            while j < chars.len()
                && matches!(chars[j].1, '"' | '\'' | '\u{201d}' | '\u{2019}' | ')')
            {
                j += 1;
            }
            if j >= chars.len() || !chars[j].1.is_whitespace() {
                continue; // decimals, "U.S.A", end of text handled below
            }
            let mut n = j;
            while n < chars.len() && chars[n].1.is_whitespace() {
                n += 1;
            }
            let Some(&(next_i, next_c)) = chars.get(n) else {
                continue;
            };
            if !(next_c.is_uppercase()
                || next_c.is_numeric()
                || matches!(next_c, '"' | '\u{201c}' | '\'' | '\u{2018}' | '('))
            {
                continue;
            }
            if c == '.' {
                let before = &para[start..i];
                let last = before
                    .rsplit(|ch: char| ch.is_whitespace() || ch == '(' || ch == '"')
                    .next()
                    .unwrap_or("");
                let last_lower = last.to_lowercase();
                let is_abbrev = ABBREVIATIONS.contains(&last_lower.as_str());
                let is_initial = last.chars().count() == 1 && last.chars().all(char::is_uppercase);
                let dotted =
                    last.contains('.') && last.chars().filter(|c| c.is_alphabetic()).count() <= 4;
                if is_abbrev || is_initial {
                    continue;
                }
                if dotted {
                    let next_word: String = para[next_i..]
                        .chars()
                        .take_while(|c| c.is_alphanumeric())
                        .collect();
                    if !SENTENCE_STARTERS.contains(&next_word.as_str()) {
                        continue;
                    }
                }
            }
            let end = chars.get(j).map_or(para.len(), |x| x.0);
            let s = para[start..end].trim();
            if !s.is_empty() {
                out.push(s.to_string());
            }
            start = next_i;
        }
        let s = para[start..].trim();
        if !s.is_empty() {
            out.push(s.to_string());
        }
    }
    out
}

fn word_count(s: &str) -> usize {
    s.split_whitespace().count()
}

type Vector = HashMap<String, f32>;

/// MMR trade-off between centrality and novelty.
const LAMBDA: f32 = 0.6;
/// Cosine at which a sentence counts as a restatement of one already picked.
const REDUNDANT: f32 = 0.45;
/// Sentences scoring under this fraction of the best sentence are never picked (filler).
const MIN_RELATIVE_SCORE: f32 = 0.4;
/// Minimum share of a sentence's content words not already in the summary.
const MIN_NOVELTY: f32 = 0.5;

fn cosine(a: &Vector, b: &Vector) -> f32 {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let dot: f32 = small
        .iter()
        .filter_map(|(k, v)| large.get(k).map(|w| v * w))
        .sum();
    let na: f32 = a.values().map(|v| v * v).sum::<f32>().sqrt();
    let nb: f32 = b.values().map(|v| v * v).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

/// Cuts `s` to at most `max_words` words and adds "…".
fn cut(s: &str, max_words: usize) -> String {
    let mut out: Vec<&str> = s.split_whitespace().take(max_words.max(1)).collect();
    if let Some(last) = out.last_mut() {
        *last = last.trim_end_matches([',', ';', ':', '-', '\u{2014}']);
    }
    format!("{}…", out.join(" "))
}

/// An extractive summary of about `target_words` words (≈ 50 for a dek) from the texts of one
/// cluster (plain text, lead item first). See the module documentation for the method.
pub fn summarise(texts: &[&str], target_words: usize) -> Summary {
    let target = target_words.max(1);
    // (text index, sentence index, sentence, content terms)
    let mut sents: Vec<(usize, usize, String, Vec<String>)> = Vec::new();
    for (ti, t) in texts.iter().enumerate() {
        for (si, s) in split_sentences(t).into_iter().enumerate() {
            let terms: Vec<String> = words(&s)
                .iter()
                .filter(|w| !is_stopword(&w.norm))
                .map(|w| light_stem(&w.norm).to_string())
                .collect();
            sents.push((ti, si, s, terms));
        }
    }
    if sents.is_empty() {
        return Summary {
            text: String::new(),
            sentences: Vec::new(),
            words: 0,
            draft: true,
        };
    }
    let n = sents.len() as f32;
    let mut df: HashMap<&str, f32> = HashMap::new();
    for s in &sents {
        let mut seen: Vec<&str> = s.3.iter().map(String::as_str).collect();
        seen.sort_unstable();
        seen.dedup();
        for t in seen {
            *df.entry(t).or_insert(0.0) += 1.0;
        }
    }
    let vectors: Vec<Vector> = sents
        .iter()
        .map(|s| {
            let mut v: Vector = HashMap::new();
            for t in &s.3 {
                *v.entry(t.clone()).or_insert(0.0) += 1.0;
            }
            for (t, w) in v.iter_mut() {
                let idf = (1.0 + n / df.get(t.as_str()).copied().unwrap_or(1.0)).ln();
                *w *= idf;
            }
            v
        })
        .collect();
    let mut centroid: Vector = HashMap::new();
    for v in &vectors {
        for (t, w) in v {
            *centroid.entry(t.clone()).or_insert(0.0) += w / n;
        }
    }
    let scores: Vec<f32> = sents
        .iter()
        .zip(&vectors)
        .map(|(s, v)| {
            let lead = match s.1 {
                0 => 0.15,
                1 => 0.05,
                _ => 0.0,
            };
            // Fragments (datelines, bylines) are poor summary sentences.
            let short = if word_count(&s.2) < 5 { -0.3 } else { 0.0 };
            // The lead item (first text) is usually the fullest account.
            let first_item = if s.0 == 0 { 0.05 } else { 0.0 };
            cosine(v, &centroid) + lead + short + first_item
        })
        .collect();

    // The opening sentence is the best lead (first sentence of an item): news leads stand alone.
    let mut picked: Vec<usize> = Vec::new();
    let mut covered: HashSet<&str> = HashSet::new();
    let lead = (0..sents.len())
        .filter(|&i| sents[i].1 == 0 && word_count(&sents[i].2) >= 5)
        .max_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut total = 0usize;
    let mut excluded = vec![false; sents.len()];
    if let Some(i) = lead {
        excluded[i] = true;
        picked.push(i);
        total += word_count(&sents[i].2);
        covered.extend(sents[i].3.iter().map(String::as_str));
    }
    let top = scores.iter().copied().fold(f32::MIN, f32::max);
    while total < target {
        let mut best: Option<(f32, usize)> = None;
        for i in 0..sents.len() {
            if excluded[i] || scores[i] < MIN_RELATIVE_SCORE * top {
                continue;
            }
            let redundancy = picked
                .iter()
                .map(|&p| cosine(&vectors[i], &vectors[p]))
                .fold(0.0_f32, f32::max);
            let terms: HashSet<&str> = sents[i].3.iter().map(String::as_str).collect();
            let new_terms = terms.iter().filter(|t| !covered.contains(*t)).count();
            let novelty = if terms.is_empty() {
                0.0
            } else {
                new_terms as f32 / terms.len() as f32
            };
            if redundancy >= REDUNDANT || (!picked.is_empty() && novelty < MIN_NOVELTY) {
                excluded[i] = true;
                continue;
            }
            let wc = word_count(&sents[i].2);
            if !picked.is_empty() && (total + wc) as f32 > target as f32 * 1.3 {
                continue;
            }
            let mmr = LAMBDA * scores[i] - (1.0 - LAMBDA) * redundancy;
            if best.is_none_or(|(b, _)| mmr > b) {
                best = Some((mmr, i));
            }
        }
        let Some((_, i)) = best else { break };
        excluded[i] = true;
        picked.push(i);
        total += word_count(&sents[i].2);
        covered.extend(sents[i].3.iter().map(String::as_str));
    }
    // The lead stays first; the rest follow in their original order.
    if picked.len() > 1 {
        picked[1..].sort_by_key(|&i| (sents[i].0, sents[i].1));
    }
    let mut text = picked
        .iter()
        .map(|&i| sents[i].2.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    if picked.len() == 1 && word_count(&text) > 2 * target {
        text = cut(&text, target);
    }
    Summary {
        words: word_count(&text),
        sentences: picked.iter().map(|&i| (sents[i].0, sents[i].1)).collect(),
        text,
        draft: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_with_abbreviations_and_decimals() {
        let s = split_sentences(
            "Dr. Amina Yusuf said growth was 3.5 percent. U.S. officials agreed. Gen. Ortiz left on Jan. 4. \"It is over,\" he said. Talks continue in the U.S. The next round is in May.",
        );
        assert_eq!(
            s,
            [
                "Dr. Amina Yusuf said growth was 3.5 percent.",
                "U.S. officials agreed.",
                "Gen. Ortiz left on Jan. 4.",
                "\"It is over,\" he said.",
                "Talks continue in the U.S.",
                "The next round is in May."
            ]
        );
    }

    #[test]
    fn long_single_sentence_is_cut() {
        let long = (0..150)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        let s = summarise(&[&long], 50);
        assert!(s.text.ends_with('…'));
        assert_eq!(s.words, 50);
        assert!(s.draft);
    }

    #[test]
    fn picks_central_sentences_in_order() {
        let a = "A magnitude 6.1 earthquake struck southern Peru on Tuesday. Three people were killed in Arequipa. The weather was mild.";
        let b = "Three people died when a 6.1 earthquake hit Arequipa in southern Peru. Rescuers searched collapsed homes in Arequipa.";
        let s = summarise(&[a, b], 25);
        assert!(s.words <= 33, "{}", s.text);
        assert!(s.text.contains("earthquake"), "{}", s.text);
        assert!(!s.text.contains("weather"), "{}", s.text);
        let mut rest = s.sentences[1..].to_vec();
        rest.sort();
        assert_eq!(rest, s.sentences[1..]);
        assert_eq!(s.sentences[0].1, 0, "opens with a lead");
        assert!(summarise(&[], 50).text.is_empty());
    }
}
