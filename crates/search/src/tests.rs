use super::*;

const LIMITS: Limits = Limits {
    max_chars: 200,
    max_terms: 8,
};

fn doc(id: u64, headline: &str, body: &str) -> Doc {
    Doc {
        id,
        headline: headline.into(),
        summary: String::new(),
        body: body.into(),
        tags: vec![],
        byline: vec![],
        sector: 1,
        kind: "news".into(),
        editions: vec![1],
        authors: vec![],
        published: 1_000 * id as i64,
        visible: 1_000 * id as i64,
    }
}

fn ids(ix: &SearchIndex, text: &str, filters: &Filters, sort: Sort) -> Vec<u64> {
    let p = parse(text, LIMITS);
    ix.search(&Query {
        clauses: &p.clauses,
        filters,
        visible_at: i64::MAX,
        sort,
        offset: 0,
        limit: 10,
        snippet_chars: 150,
        count_cap: 1_000,
    })
    .unwrap()
    .hits
    .iter()
    .map(|h| h.id)
    .collect()
}

fn open() -> (tempfile::TempDir, SearchIndex) {
    let dir = tempfile::tempdir().unwrap();
    let ix = SearchIndex::open(dir.path(), 20 << 20, 1).unwrap();
    (dir, ix)
}

#[test]
fn stems_phrases_exclusions_and_the_headline_first() {
    let (_d, ix) = open();
    ix.put(&doc(
        1,
        "Farmers protest",
        "The farmers were protesting new rules on water.",
    ))
    .unwrap();
    ix.put(&doc(
        2,
        "Water rules",
        "A protest by farmers: rules for water use.",
    ))
    .unwrap();
    ix.put(&doc(3, "Cricket", "Nothing about it at all."))
        .unwrap();
    ix.commit(7).unwrap();
    assert_eq!(ix.cursor().unwrap(), 7);
    let none = Filters::default();
    // "protests" and "protesting" share the stem "protest".
    let mut got = ids(&ix, "protests", &none, Sort::Relevance);
    got.sort();
    assert_eq!(got, [1, 2]);
    // The headline weighs most.
    assert_eq!(ids(&ix, "protest", &none, Sort::Relevance)[0], 1);
    assert_eq!(ids(&ix, "\"water rules\"", &none, Sort::Relevance), [2]);
    assert_eq!(
        ids(&ix, "farmers -cricket -water", &none, Sort::Relevance),
        Vec::<u64>::new()
    );
    assert_eq!(ids(&ix, "protest", &none, Sort::Newest), [2, 1]);
}

#[test]
fn devanagari_headlines_are_found_by_their_words() {
    let (_d, ix) = open();
    ix.put(&doc(1, "भारत में चुनाव की तैयारी", "")).unwrap();
    ix.put(&doc(2, "चुनाव आयोग", "")).unwrap();
    ix.put(&doc(3, "Election in India", "")).unwrap();
    ix.commit(1).unwrap();
    let none = Filters::default();
    let mut got = ids(&ix, "चुनाव", &none, Sort::Relevance);
    got.sort();
    assert_eq!(got, [1, 2]);
    assert_eq!(ids(&ix, "तैयारी", &none, Sort::Relevance), [1]);
    // A part of a word is not a word.
    assert!(ids(&ix, "चु", &none, Sort::Relevance).is_empty());
}

#[test]
fn filters_narrow_and_visibility_is_an_instant() {
    let (_d, ix) = open();
    let mut a = doc(1, "Budget", "");
    a.sector = 2;
    a.kind = "opinion".into();
    a.editions = vec![1, 5];
    a.authors = vec![9];
    a.published = 5_000;
    a.visible = 10_000; // embargoed until 10 s
    ix.put(&a).unwrap();
    ix.put(&doc(2, "Budget", "")).unwrap();
    ix.commit(1).unwrap();
    let f = |f: Filters| ids(&ix, "budget", &f, Sort::Relevance);
    assert_eq!(
        f(Filters {
            sector: Some(2),
            ..Filters::default()
        }),
        [1]
    );
    assert_eq!(
        f(Filters {
            kind: Some("opinion".into()),
            edition: Some(5),
            author: Some(9),
            ..Filters::default()
        }),
        [1]
    );
    assert_eq!(
        f(Filters {
            from: Some(3_000),
            until: Some(5_001),
            ..Filters::default()
        }),
        [1]
    );
    let at = |t: i64| {
        let p = parse("budget", LIMITS);
        ix.search(&Query {
            clauses: &p.clauses,
            filters: &Filters::default(),
            visible_at: t,
            sort: Sort::Relevance,
            offset: 0,
            limit: 10,
            snippet_chars: 100,
            count_cap: 1_000,
        })
        .unwrap()
        .total
    };
    assert_eq!(at(9_999), 1);
    assert_eq!(at(10_000), 2);
}

#[test]
fn replace_and_remove() {
    let (_d, ix) = open();
    ix.put(&doc(1, "Old words", "")).unwrap();
    ix.commit(1).unwrap();
    ix.put(&doc(1, "New words", "")).unwrap();
    ix.commit(2).unwrap();
    let none = Filters::default();
    assert!(ids(&ix, "old", &none, Sort::Relevance).is_empty());
    assert_eq!(ids(&ix, "new", &none, Sort::Relevance), [1]);
    ix.remove(1);
    ix.commit(3).unwrap();
    assert!(ids(&ix, "words", &none, Sort::Relevance).is_empty());
    assert_eq!(ix.len(), 0);
}

#[test]
fn snippets_mark_the_matched_words() {
    let (_d, ix) = open();
    ix.put(&doc(
        1,
        "Rain",
        "Heavy rains flooded the valley on Monday. Officials said the flooding would ease.",
    ))
    .unwrap();
    ix.commit(1).unwrap();
    let p = parse("floods", LIMITS);
    let hits = ix
        .search(&Query {
            clauses: &p.clauses,
            filters: &Filters::default(),
            visible_at: i64::MAX,
            sort: Sort::Relevance,
            offset: 0,
            limit: 10,
            snippet_chars: 150,
            count_cap: 1_000,
        })
        .unwrap();
    let s = &hits.hits[0].snippet;
    let marked: Vec<&str> = s.marks.iter().map(|(a, b)| &s.text[*a..*b]).collect();
    assert_eq!(marked, ["flooded", "flooding"]);
}

#[test]
fn bad_queries_give_results_or_nothing_never_an_error() {
    let (_d, ix) = open();
    ix.put(&doc(1, "Tea and biscuits", "")).unwrap();
    ix.commit(1).unwrap();
    let none = Filters::default();
    let big = "tea ".repeat(2600);
    for q in [
        "\"tea",
        "AND OR",
        "tea AND",
        "\u{0}\u{1}tea\u{7f}",
        "headline:tea",
        "id:1",
        "visible:[0 TO 99999999999]",
        "*",
        "tea~2",
        "(((",
        big.as_str(),
    ] {
        let got = ids(&ix, q, &none, Sort::Relevance);
        assert!(got.is_empty() || got == [1], "{q:?}");
    }
    assert_eq!(ids(&ix, "headline:tea", &none, Sort::Relevance), [1]);
}

#[test]
fn pages_and_totals() {
    let (_d, ix) = open();
    for i in 1..=25 {
        ix.put(&doc(i, "Match", "")).unwrap();
    }
    ix.commit(1).unwrap();
    let p = parse("match", LIMITS);
    let page = |offset| {
        ix.search(&Query {
            clauses: &p.clauses,
            filters: &Filters::default(),
            visible_at: i64::MAX,
            sort: Sort::Newest,
            offset,
            limit: 10,
            snippet_chars: 100,
            count_cap: 1_000,
        })
        .unwrap()
    };
    let third = page(20);
    assert_eq!(third.total, 25);
    assert_eq!(
        third.hits.iter().map(|h| h.id).collect::<Vec<_>>(),
        [5, 4, 3, 2, 1]
    );
    assert!(page(1000).hits.is_empty());
}

#[test]
fn reopened_index_keeps_documents_and_cursor() {
    let dir = tempfile::tempdir().unwrap();
    {
        let ix = SearchIndex::open(dir.path(), 20 << 20, 1).unwrap();
        ix.put(&doc(1, "Kept", "")).unwrap();
        ix.commit(42).unwrap();
        ix.finish().unwrap();
    }
    let ix = SearchIndex::open(dir.path(), 20 << 20, 1).unwrap();
    assert_eq!(ix.cursor().unwrap(), 42);
    assert_eq!(ids(&ix, "kept", &Filters::default(), Sort::Relevance), [1]);
}

#[test]
fn a_long_body_is_searched_for_its_snippet_around_the_first_match() {
    let filler = "Nothing to see in this sentence at all. ".repeat(200);
    let body = format!("{filler}The turbines were studied closely. {filler}");
    let mut a = words::analyzer();
    // Around the first place a term is written, whole words only.
    let s = snippet(&body, &["turbin"], 100, &mut a);
    assert!(s.text.len() <= 110, "{}", s.text.len());
    assert!(s.text.contains("The turbines were studied"), "{}", s.text);
    assert!(!s.text.starts_with(' ') && body.contains(&s.text));
    assert_eq!(&s.text[s.marks[0].0..s.marks[0].1], "turbines");
    // "studi" is not written as such: the stem without its last letter is found.
    let s = snippet(&body, &["studi"], 100, &mut a);
    assert_eq!(&s.text[s.marks[0].0..s.marks[0].1], "studied");
    // A term not written anywhere: no snippet (the summary is shown).
    assert_eq!(snippet(&body, &["zzz"], 100, &mut a), Snippet::default());
    // Written first inside another word ("health" in "healthy", stemmed "healthi"): the next
    // place where the word itself is.
    let s = snippet(
        &format!("A healthy start. {filler} Health care."),
        &["health"],
        60,
        &mut a,
    );
    assert_eq!(&s.text[s.marks[0].0..s.marks[0].1], "Health");
    // A short body is used whole.
    assert_eq!(
        snippet("short body", &["bodi"], 100, &mut a).text,
        "short body"
    );
    // Multi-byte characters at the edges.
    let wide = format!("{}हवा {}", "ऊर्जा ".repeat(300), "ऊर्जा ".repeat(300));
    let s = snippet(&wide, &["हवा"], 50, &mut a);
    assert!(s.text.contains("हवा") && s.text.chars().count() <= 50);

    let (_d, ix) = open();
    ix.put(&doc(1, "Wind power", &body)).unwrap();
    ix.commit(1).unwrap();
    let p = parse("turbines", LIMITS);
    let hits = ix
        .search(&Query {
            clauses: &p.clauses,
            filters: &Filters::default(),
            visible_at: i64::MAX,
            sort: Sort::Relevance,
            offset: 0,
            limit: 10,
            snippet_chars: 100,
            count_cap: 1_000,
        })
        .unwrap();
    let s = &hits.hits[0].snippet;
    assert_eq!(&s.text[s.marks[0].0..s.marks[0].1], "turbines");
}

#[test]
fn counts_stop_at_the_cap_and_later_pages_are_still_reached() {
    let (_d, ix) = open();
    for i in 1..=30 {
        // The later the story, the more often the word: relevance order is newest first too.
        ix.put(&doc(i, "Match", &"match ".repeat(i as usize)))
            .unwrap();
    }
    ix.commit(1).unwrap();
    let p = parse("match", LIMITS);
    for sort in [Sort::Relevance, Sort::Newest] {
        let page = |offset, cap| {
            ix.search(&Query {
                clauses: &p.clauses,
                filters: &Filters::default(),
                visible_at: i64::MAX,
                sort,
                offset,
                limit: 10,
                snippet_chars: 100,
                count_cap: cap,
            })
            .unwrap()
        };
        let exact = page(0, 30);
        assert_eq!((exact.total, exact.more), (30, false), "{sort:?}");
        let capped = page(0, 12);
        assert_eq!((capped.total, capped.more), (12, true), "{sort:?}");
        // Beyond the count, the hits are the same as without a cap.
        let third = page(20, 12);
        assert_eq!(
            third.hits.iter().map(|h| h.id).collect::<Vec<_>>(),
            (1..=10).rev().collect::<Vec<_>>(),
            "{sort:?}"
        );
        assert_eq!(third.hits, page(20, 1_000).hits, "{sort:?}");
    }
}

#[test]
fn a_story_not_visible_yet_is_passed_over_where_the_ranking_skips() {
    let (_d, ix) = open();
    ix.put(&doc(1, "Harbour", "")).unwrap();
    ix.commit(1).unwrap();
    let mut later = doc(2, "Harbour", "");
    later.visible = 50_000; // embargoed until 50 s
    ix.put(&later).unwrap();
    ix.put(&doc(3, "Harbour", "")).unwrap();
    ix.commit(2).unwrap();
    let at = |t: i64| {
        let p = parse("harbour", LIMITS);
        let h = ix
            .search(&Query {
                clauses: &p.clauses,
                filters: &Filters::default(),
                visible_at: t,
                sort: Sort::Relevance,
                offset: 0,
                limit: 10,
                snippet_chars: 100,
                count_cap: 1_000,
            })
            .unwrap();
        let mut ids: Vec<u64> = h.hits.iter().map(|h| h.id).collect();
        ids.sort_unstable();
        (h.total, ids)
    };
    assert_eq!(at(49_999), (2, vec![1, 3]));
    assert_eq!(at(50_000), (3, vec![1, 2, 3]));
    assert_eq!(at(500), (0, vec![]));
}

/// An index of format 1 (no word pairs; phrases from word positions), as an older release
/// wrote it.
fn open_format_1(dir: &Path) -> SearchIndex {
    let ix = SearchIndex::open_format_1(dir, 20 << 20).unwrap();
    assert!(!ix.is_current_format());
    assert!(!SearchIndex::is_current_format_at(dir));
    ix
}

/// Every id matching `text` (any order), with the count.
fn all_ids(ix: &SearchIndex, text: &str) -> (usize, Vec<u64>) {
    let p = parse(text, LIMITS);
    let h = ix
        .search(&Query {
            clauses: &p.clauses,
            filters: &Filters::default(),
            visible_at: i64::MAX,
            sort: Sort::Newest,
            offset: 0,
            limit: 1_000,
            snippet_chars: 150,
            count_cap: 10_000,
        })
        .unwrap();
    let mut ids: Vec<u64> = h.hits.iter().map(|h| h.id).collect();
    ids.sort_unstable();
    (h.total, ids)
}

/// Every id matching `text` with its relevance score, by id.
fn scores(ix: &SearchIndex, text: &str) -> Vec<(u64, f32)> {
    let p = parse(text, LIMITS);
    let mut v: Vec<(u64, f32)> = ix
        .search(&Query {
            clauses: &p.clauses,
            filters: &Filters::default(),
            visible_at: i64::MAX,
            sort: Sort::Relevance,
            offset: 0,
            limit: 1_000,
            snippet_chars: 150,
            count_cap: 10_000,
        })
        .unwrap()
        .hits
        .iter()
        .map(|h| (h.id, h.score))
        .collect();
    v.sort_by_key(|x| x.0);
    v
}

#[test]
fn phrases_from_word_pairs_match_exactly_where_word_positions_do() {
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let pairs = SearchIndex::open(d1.path(), 20 << 20, 1).unwrap();
    assert!(pairs.is_current_format());
    assert!(SearchIndex::is_current_format_at(d1.path()));
    let positions = open_format_1(d2.path());
    let long = "z".repeat(80);
    let mut docs = vec![
        // Repeated words.
        doc(1, "the the the", "new new york and york new"),
        // Punctuation between words is no boundary.
        doc(
            2,
            "Public, health!",
            "The U.S. government said: on Monday...",
        ),
        // A word dropped for its length keeps its neighbours apart.
        doc(3, "short", &format!("short {long} word, then word short")),
        // Devanagari.
        doc(4, "भारत में चुनाव", "चुनाव आयोग"),
        // Stems.
        doc(5, "Running elections", "public healthy people"),
    ];
    // Field boundaries: headline then summary, two tags, two names.
    let mut d = doc(6, "Climate", "policy change");
    d.summary = "change policy".into();
    d.tags = vec!["new".into(), "york".into()];
    d.byline = vec!["Ana Lee".into(), "Ram Das".into()];
    docs.push(d);
    // Many documents of few words, so every phrase of them matches somewhere and not elsewhere.
    let vocab = [
        "the",
        "said",
        "on",
        "government",
        "water",
        "public",
        "health",
        "new",
    ];
    let mut seed: u64 = 7;
    let mut next = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    for id in 10..400u64 {
        let words = |n: usize, next: &mut dyn FnMut() -> usize| {
            (0..n)
                .map(|_| vocab[next() % vocab.len()])
                .collect::<Vec<_>>()
                .join(if next().is_multiple_of(5) { ", " } else { " " })
        };
        let mut d = doc(id, &words(4, &mut next), &words(25, &mut next));
        d.summary = words(6, &mut next);
        d.tags = vec![words(2, &mut next), words(1, &mut next)];
        d.byline = vec![words(2, &mut next)];
        docs.push(d);
    }
    for d in &docs {
        pairs.put(d).unwrap();
        positions.put(d).unwrap();
    }
    pairs.commit(1).unwrap();
    positions.commit(1).unwrap();
    let mut phrases: Vec<String> = [
        "the the",
        "the the the",
        "new york",
        "new new york",
        "york new",
        "public health",
        "u.s. government",
        "government said on monday",
        "said on",
        "short word",
        "भारत में",
        "में चुनाव",
        "भारत में चुनाव",
        "भारत चुनाव",
        "run election",
        "climate change",
        "change policy",
        "lee ram",
        "ana lee",
        "ram das",
        "well-known",
    ]
    .iter()
    .map(|p| format!("\"{p}\""))
    .collect();
    for a in vocab {
        for b in vocab {
            phrases.push(format!("\"{a} {b}\""));
            phrases.push(format!(
                "\"{a} {b} {}\"",
                vocab[(a.len() + b.len()) % vocab.len()]
            ));
            phrases.push(format!("\"{a} {b} {a} {b}\""));
        }
    }
    phrases.push("water \"public health\"".into());
    phrases.push("\"the government\" -\"said on\"".into());
    let mut matched = 0;
    for p in &phrases {
        let (n, got) = all_ids(&pairs, p);
        assert_eq!(
            (n, &got),
            (all_ids(&positions, p).0, &all_ids(&positions, p).1),
            "{p}"
        );
        matched += usize::from(!got.is_empty());
        // Scored alike (BM25 of the phrase of words: the same field lengths and idf), where
        // both rank by the best field (a lone phrase of two words ranks by the sum, as a word).
        let lone_two = matches!(parse(p, LIMITS).clauses.as_slice(),
            [c] if c.terms.len() == 2 && !c.exclude);
        if !lone_two {
            let (a, b) = (scores(&pairs, p), scores(&positions, p));
            assert_eq!(a.len(), b.len(), "{p}");
            for ((ia, sa), (ib, sb)) in a.iter().zip(&b) {
                assert_eq!(ia, ib, "{p}");
                assert!(
                    (sa - sb).abs() <= 1e-3 * sb.abs().max(1.0),
                    "{p}: {sa} vs {sb}"
                );
            }
        }
    }
    // The corpus exercises both answers: most phrases match something, some nothing.
    assert!(
        matched > phrases.len() / 2,
        "{matched} of {}",
        phrases.len()
    );
    assert!(matched < phrases.len());
    // The tricky cases, as expected.
    assert_eq!(all_ids(&pairs, "\"new york\"").1, [1]);
    assert_eq!(all_ids(&pairs, "\"the the the\"").1.first(), Some(&1));
    assert!(all_ids(&pairs, "\"short word\"").1.is_empty());
    assert_eq!(all_ids(&pairs, "\"word short\"").1, [3]);
    assert!(all_ids(&pairs, "\"lee ram\"").1.is_empty());
    assert!(all_ids(&pairs, "\"climate change\"").1.is_empty());
    assert_eq!(all_ids(&pairs, "\"भारत में चुनाव\"").1, [4]);
    assert_eq!(all_ids(&pairs, "\"public health\"").1.first(), Some(&2));
}

#[test]
fn an_index_of_format_1_is_kept_and_answers_until_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let old = open_format_1(dir.path());
    old.put(&doc(1, "Climate change", "The government said on Monday."))
        .unwrap();
    old.commit(5).unwrap();
    drop(old);
    // Opened again: still format 1, its documents and cursor kept, phrases answered.
    let ix = SearchIndex::open(dir.path(), 20 << 20, 1).unwrap();
    assert!(!ix.is_current_format());
    assert_eq!(ix.cursor().unwrap(), 5);
    assert_eq!(all_ids(&ix, "\"said on monday\"").1, [1]);
    assert_eq!(all_ids(&ix, "\"climate change\"").1, [1]);
    // Following the change log goes on in it.
    ix.put(&doc(2, "Public health", "")).unwrap();
    ix.commit(6).unwrap();
    assert_eq!(all_ids(&ix, "\"public health\"").1, [2]);
    assert_eq!(ix.cursor().unwrap(), 6);
}

/// A corpus of `n` stories drawn from a few words (so each word's postings fill many blocks),
/// in several segments, some not visible at 5,000,000 and one removed.
fn few_words_corpus(n: u64) -> (tempfile::TempDir, SearchIndex) {
    let (d, ix) = open();
    let vocab = [
        "the",
        "said",
        "on",
        "government",
        "water",
        "public",
        "health",
        "new",
    ];
    let mut seed: u64 = 11;
    let mut next = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    for id in 1..n {
        let mut words = |n: usize| {
            (0..n)
                .map(|_| vocab[next() % vocab.len()])
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut d = doc(id, &words(3), &words(12));
        d.summary = words(4);
        d.tags = vec![words(1)];
        d.visible = if id % 7 == 0 { 10_000_000 } else { 0 };
        ix.put(&d).unwrap();
        if id % (n / 3) == 0 {
            ix.commit(id as i64).unwrap(); // several segments
        }
    }
    ix.remove(5);
    ix.commit(1_000_000).unwrap();
    (d, ix)
}

fn ranked(ix: &SearchIndex, text: &str, filters: &Filters, offset: usize, cap: usize) -> Hits {
    let p = parse(text, LIMITS);
    ix.search(&Query {
        clauses: &p.clauses,
        filters,
        visible_at: 5_000_000,
        sort: Sort::Relevance,
        offset,
        limit: 10,
        snippet_chars: 150,
        count_cap: cap,
    })
    .unwrap()
}

#[test]
fn several_words_rank_and_count_alike_with_or_without_a_filter() {
    // Without a filter, several words or two-word phrases take our own pass (straight from the
    // postings, skipping blocks past the count's cap); a filter letting everything through
    // takes tantivy's plan. Both give the same count, the same hits and the same scores.
    let (_d, ix) = few_words_corpus(3_000);
    let everything = Filters {
        from: Some(0),
        ..Filters::default()
    };
    let mut compared = 0;
    for q in [
        "water health",
        "public health government",
        "the new",
        "water -health",
        "\"public health\" water",
        "\"the government said\"",
        "government \"said on\" -water",
        "health nothingsuch",
        "said -\"public health\"",
    ] {
        for offset in [0, 10, 40] {
            for cap in [50, 100_000] {
                let (a, b) = (
                    ranked(&ix, q, &Filters::default(), offset, cap),
                    ranked(&ix, q, &everything, offset, cap),
                );
                assert_eq!((a.total, a.more), (b.total, b.more), "{q}");
                assert_eq!(a.hits.len(), b.hits.len(), "{q}");
                for (x, y) in a.hits.iter().zip(&b.hits) {
                    assert!(
                        (x.score - y.score).abs() <= 1e-5 * y.score.abs().max(1.0),
                        "{q}: {} vs {}",
                        x.score,
                        y.score
                    );
                    // Equal scores may come in either order; different ones in the same.
                    assert!(x.id == y.id || (x.score - y.score).abs() <= 1e-5, "{q}");
                }
                compared += a.hits.len();
            }
        }
    }
    assert!(compared > 300, "{compared}");
}

#[test]
fn several_words_past_the_count_cap_skip_what_cannot_reach_the_page() {
    // Two words in the body of 6,000 stories (5,000 visible), and in the headline of eleven
    // early ones and of one late one: once 100 matches are counted (and the page holds headline matches), only
    // blocks that could still reach the page are scored, and the late one is found.
    let (_d, ix) = open();
    let top = |id: u64| (id < 1_000 && id.is_multiple_of(90)) || id == 4_444;
    for id in 1..6_000u64 {
        let headline = if top(id) {
            "water and health"
        } else {
            "news of the day"
        };
        let body = format!(
            "{} water and health {}",
            "word ".repeat((id % 13) as usize),
            id
        );
        let mut d = doc(id, headline, &body);
        if id == 4_444 {
            d.tags = vec!["water health".into()]; // the best of all
        }
        ix.put(&d).unwrap();
    }
    ix.commit(1).unwrap();
    let before = scored_on_this_thread();
    let h = ranked(&ix, "water health", &Filters::default(), 0, 100);
    let scored = scored_on_this_thread() - before;
    assert!(h.more && h.total == 100 && h.hits.len() == 10);
    assert!(h.hits.iter().all(|h| top(h.id)), "{:?}", h.hits);
    assert!(h.hits.iter().any(|h| h.id == 4_444), "{:?}", h.hits);
    assert!(scored < 1_500, "scored {scored} of 5,000");
}
