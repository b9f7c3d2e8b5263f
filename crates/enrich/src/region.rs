//! Region tagging: countries named in the text (names, alternative names, demonyms,
//! abbreviations) and in the item's places, mapped to the regional editions.
//!
//! Matching is word-based and greedy left to right, longest phrase first, so "Niger" never fires
//! inside "Nigeria", "South Sudan" wins over "Sudan" and "Papua New Guinea" over "Guinea".
//! Short all-capital abbreviations ("US", "UK", "UAE", "DRC") match only in exactly that case, so
//! the pronoun "us" is not the United States, and not at all when the surrounding words are in
//! capitals too ("TELL US NOW": only "US" gets this check, the others are not English words).
//! Dotted forms ("U.S.", "U.K.") always match. Blocking phrases
//! swallow look-alikes that are not countries: "Latin American", "Native American", "Indian
//! Ocean" ...; "New Mexico", "New Jersey", "British Columbia" and "New South Wales" are states
//! and provinces, placed in their own country (see `data/places_extra.tsv`).
//!
//! Known, accepted ambiguities: "Chad" (a first name), "Georgia" (also a US state), "Jordan"
//! (a name, a river), "Turkey" (a bird), "Jersey" (a garment), "Guinea" (the coin): the text
//! matcher tags the country; the desk can remove the tag.

use std::collections::HashMap;
use std::sync::OnceLock;

use newsdesk_domain::{WireItem, WirePlace, GLOBAL_EDITION};

use crate::text::{words, FnvMap, Tokens};
use newsdesk_domain::text::html_to_text;

const COUNTRIES_TSV: &str = include_str!("../data/countries.tsv");
/// Large cities and capitals with their country (GeoNames, CC BY 4.0, credit GeoNames; see
/// `tools/gen_cities.py` for what is kept and left out).
const CITIES_TSV: &str = include_str!("../data/cities.tsv");
/// States, provinces, teams, leagues, institutions, exchanges and companies with their country
/// (newsdesk's own list): a story that names only "the Red Sox" or "Calif." is placed.
const PLACES_TSV: &str = include_str!("../data/places_extra.tsv");

/// What may follow a country word without it naming the country: a tournament ("US Open",
/// "Australian Open") or a manner ("Australian-style", "Soviet-style").
/// A currency ("US $890 million", "US$5", "the Australian dollar") names no country's news either.
const MISLEADING_AFTER: &[&str] = &[
    " Open", "-style", "-Style", " style", "-type", "$", " $", " dollar",
];

/// Phrases that look like a country mention but are not; they are consumed without a match.
const BLOCKING: &[&str] = &[
    "latin america",
    "latin american",
    "latin americans",
    "south america",
    "south american",
    "south americans",
    "central america",
    "central american",
    "central americans",
    "north america",
    "north american",
    "north americans",
    "native american",
    "native americans",
    "african american",
    "african americans",
    "asian american",
    "asian americans",
    "pan american",
    "american samoan",
    "indian ocean",
    "american indian",
    "west indian",
    "west indies",
    "east indies",
    "new mexican",
    "new england",
    "guinea pig",
    "guinea pigs",
    "guinea fowl",
    "french fries",
    "french toast",
    "dutch auction",
    "turkish delight",
    "english channel",
    "chinese taipei",
    // Agencies named in credits and datelines: "Canadian Press - OTTAWA", "(Agence France-Presse)".
    "canadian press",
    "france presse",
    "agence france presse",
    "australian associated press",
];

/// How a country was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchSource {
    /// Named in the headline.
    Headline,
    /// Named in the body.
    Body,
    /// Given as a place of the item with an ISO 3166 code.
    PlaceCode,
    /// Given as a place of the item by name only.
    PlaceName,
}

/// One country found in a text or in an item's places.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountryMatch {
    /// ISO 3166-1 alpha-2 code.
    pub iso2: String,
    /// The country's display name.
    pub name: String,
    /// The matched text, as written ("U.S.", "Kenyan"), or the place code/name.
    pub evidence: String,
    /// Byte offset of the evidence in the searched text (0 for places).
    pub position: usize,
    /// Where it was found (set by [`Gazetteer::tag_region`]; [`Gazetteer::find`] says `Body`).
    pub source: MatchSource,
    /// Found through a city of the country, which counts half as much as the country named.
    pub city: bool,
}

/// One suggested edition.
#[derive(Debug, Clone, PartialEq)]
pub struct EditionTag {
    /// Edition slug of the default taxonomy (`east-africa`).
    pub edition: &'static str,
    /// Relative weight; the best edition of an item has 1.0.
    pub score: f32,
    /// What supports it ("Kenyan", "place:KE").
    pub evidence: Vec<String>,
}

/// Region suggestions for an item; the desk may change them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RegionTags {
    /// Suggested editions, best first (those scoring at least [`EDITION_CUTOFF`] of the best).
    pub editions: Vec<EditionTag>,
    /// Every country match, in order of appearance (places first).
    pub countries: Vec<CountryMatch>,
}

/// An edition is suggested when its score is at least this fraction of the best edition's.
pub const EDITION_CUTOFF: f32 = 0.3;

#[derive(Debug, Clone)]
struct Country {
    iso2: String,
    edition: &'static str,
    name: String,
}

#[derive(Debug, Clone)]
struct Phrase {
    /// Normalised words after the first one.
    rest: Vec<String>,
    /// Country index, or `None` for a blocking phrase.
    country: Option<usize>,
    /// Abbreviation: the letters of the original must equal these exactly.
    exact: Option<String>,
    /// A city: written with a capital ("Boston", "BOSTON", not "boston"); shown as evidence with
    /// its country.
    city: bool,
    /// What kind of place, for the evidence ("city", "state", "team" ...); empty for a country.
    kind: &'static str,
    /// Written with a final dot, which the text must have too ("Calif.", never "Mass" alone).
    dot: bool,
}

/// The country gazetteer; build once ([`Gazetteer::global`]) and share.
#[derive(Debug, Clone)]
pub struct Gazetteer {
    countries: Vec<Country>,
    by_iso: HashMap<String, usize>,
    /// First normalised word → phrases starting with it, longest first.
    phrases: FnvMap<String, Vec<Phrase>>,
}

fn edition_slug(s: &str) -> &'static str {
    newsdesk_domain::DEFAULT_EDITIONS
        .iter()
        .find(|(slug, _, _)| *slug == s)
        .map_or(GLOBAL_EDITION, |(slug, _, _)| *slug)
}

impl Gazetteer {
    /// Builds the gazetteer from the embedded country table (`data/countries.tsv`).
    pub fn new() -> Gazetteer {
        let mut g = Gazetteer {
            countries: Vec::new(),
            by_iso: HashMap::new(),
            phrases: FnvMap::default(),
        };
        for line in COUNTRIES_TSV.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            let [iso, edition, name, names, demonyms, abbrevs] = cols[..] else {
                continue;
            };
            let idx = g.countries.len();
            g.countries.push(Country {
                iso2: iso.to_string(),
                edition: edition_slug(edition),
                name: name.to_string(),
            });
            g.by_iso.insert(iso.to_string(), idx);
            for n in names.split('|').chain(demonyms.split('|')) {
                g.add_phrase(n, Some(idx), None);
            }
            for a in abbrevs.split('|') {
                let letters: String = a.chars().filter(|c| c.is_alphanumeric()).collect();
                g.add_phrase(a, Some(idx), Some(letters));
            }
        }
        for b in BLOCKING {
            g.add_phrase(b, None, None);
        }
        for line in CITIES_TSV.lines() {
            if line.starts_with('#') {
                continue;
            }
            let Some((name, iso)) = line.split_once('\t') else {
                continue;
            };
            if let Some(&idx) = g.by_iso.get(iso.trim()) {
                g.add_city(name, idx, "city");
            }
        }
        for line in PLACES_TSV.lines() {
            if line.starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            if let [name, iso, kind] = cols[..] {
                if let Some(&idx) = g.by_iso.get(iso.trim()) {
                    g.add_city(name, idx, kind.trim());
                }
            }
        }
        for list in g.phrases.values_mut() {
            list.sort_by_key(|p| std::cmp::Reverse(p.rest.len()));
        }
        g
    }

    /// A shared instance, built on first use.
    pub fn global() -> &'static Gazetteer {
        static G: OnceLock<Gazetteer> = OnceLock::new();
        G.get_or_init(Gazetteer::new)
    }

    /// A city phrase; a country name or other phrase with the same words keeps precedence.
    fn add_city(&mut self, text: &str, country: usize, kind: &'static str) {
        let ws: Vec<String> = words(text).into_iter().map(|w| w.norm).collect();
        let Some((first, rest)) = ws.split_first() else {
            return;
        };
        let list = self.phrases.entry(first.clone()).or_default();
        if list.iter().any(|p| p.rest == rest) {
            return;
        }
        list.push(Phrase {
            rest: rest.to_vec(),
            country: Some(country),
            exact: None,
            city: true,
            kind,
            dot: text.ends_with('.'),
        });
    }

    fn add_phrase(&mut self, text: &str, country: Option<usize>, exact: Option<String>) {
        let ws: Vec<String> = words(text).into_iter().map(|w| w.norm).collect();
        let Some((first, rest)) = ws.split_first() else {
            return;
        };
        let list = self.phrases.entry(first.clone()).or_default();
        let rest = rest.to_vec();
        if list
            .iter()
            .any(|p| p.rest == rest && p.country == country && p.exact == exact)
        {
            return;
        }
        list.push(Phrase {
            rest,
            country,
            exact,
            city: false,
            kind: "",
            dot: false,
        });
    }

    /// Number of countries known.
    pub fn len(&self) -> usize {
        self.countries.len()
    }

    /// True when no country is known (never, with the embedded data).
    pub fn is_empty(&self) -> bool {
        self.countries.is_empty()
    }

    /// The display name of a country by ISO alpha-2 code (case-insensitive).
    pub fn name_of(&self, iso2: &str) -> Option<&str> {
        self.index_of(iso2).map(|i| self.countries[i].name.as_str())
    }

    fn index_of(&self, iso2: &str) -> Option<usize> {
        self.by_iso.get(&iso2.trim().to_ascii_uppercase()).copied()
    }

    /// The edition slug of a country (ISO alpha-2, case-insensitive); `"global"` for an unknown
    /// code. Every known country maps to one of the 11 regional editions.
    pub fn edition_for(&self, iso2: &str) -> &'static str {
        self.index_of(iso2)
            .map_or(GLOBAL_EDITION, |i| self.countries[i].edition)
    }

    /// Countries named in `text`, in order of appearance; every mention is returned (with
    /// `source` = [`MatchSource::Body`]).
    pub fn find(&self, text: &str) -> Vec<CountryMatch> {
        self.find_tokens(text, &Tokens::new(text))
    }

    /// [`Gazetteer::find`] with the text's words already split (`tokens` must be of `text`).
    pub fn find_tokens(&self, text: &str, tokens: &Tokens) -> Vec<CountryMatch> {
        // The words' normalised forms share one buffer: no allocation per word.
        let ws: Vec<Wd<'_>> = tokens
            .spans()
            .iter()
            .map(|s| Wd {
                start: s.start,
                end: s.end,
                norm: tokens.norm(s),
            })
            .collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < ws.len() {
            match self.match_at(text, &ws, i) {
                Some((len, country, kind)) => {
                    let city = !kind.is_empty();
                    let after = &text[ws[i + len - 1].end..];
                    let misleading = MISLEADING_AFTER.iter().any(|m| after.starts_with(m));
                    if let Some(c) = country.filter(|_| !misleading) {
                        let start = ws[i].start;
                        let end = ws[i + len - 1].end;
                        // Keep a closing dot of a dotted abbreviation ("U.S.").
                        let end = if text[end..].starts_with('.') && text[start..end].contains('.')
                        {
                            end + 1
                        } else {
                            end
                        };
                        let evidence = if city {
                            format!("{} ({kind}, {})", &text[start..end], self.countries[c].name)
                        } else {
                            text[start..end].to_string()
                        };
                        out.push(CountryMatch {
                            iso2: self.countries[c].iso2.clone(),
                            name: self.countries[c].name.clone(),
                            evidence,
                            position: start,
                            source: MatchSource::Body,
                            city,
                        });
                    }
                    i += len;
                }
                None => i += 1,
            }
        }
        out
    }

    /// The longest phrase starting at word `i`: (words consumed, country or None if blocking,
    /// the kind of place, empty for a country).
    fn match_at(
        &self,
        text: &str,
        ws: &[Wd<'_>],
        i: usize,
    ) -> Option<(usize, Option<usize>, &'static str)> {
        let list = self.phrases.get(ws[i].norm)?;
        'phrases: for p in list {
            let n = p.rest.len() + 1;
            if i + n > ws.len() {
                continue;
            }
            for (k, w) in p.rest.iter().enumerate() {
                let prev = &ws[i + k];
                let cur = &ws[i + k + 1];
                if cur.norm != w.as_str() || !joinable(&text[prev.end..cur.start]) {
                    continue 'phrases;
                }
            }
            let span = &text[ws[i].start..ws[i + n - 1].end];
            if p.city && !span.starts_with(|c: char| c.is_uppercase()) {
                continue;
            }
            if p.dot && !text[ws[i + n - 1].end..].starts_with('.') {
                continue;
            }
            // One word of a longer name: "Jose Lima", "Alabama-Birmingham", "Nemacolin
            // Woodlands" (a capitalised word just before, not in capitals, not a function word).
            if p.city && n == 1 && i > 0 {
                let prev = &ws[i - 1];
                let gap = &text[prev.end..ws[i].start];
                let word = &text[prev.start..prev.end];
                if (gap == " " || gap == "-")
                    && word.starts_with(|c: char| c.is_uppercase())
                    && word.chars().any(|c| c.is_lowercase())
                    && !crate::text::is_stopword(prev.norm)
                {
                    continue;
                }
            }
            if let Some(exact) = &p.exact {
                let letters: String = span.chars().filter(|c| c.is_alphanumeric()).collect();
                if letters != *exact {
                    continue;
                }
                // Only "US" is also an English word; check its context.
                if exact == "US" && self.shouting_context(text, ws, i, n) {
                    continue;
                }
            }
            return Some((n, p.country, p.kind));
        }
        None
    }

    /// True when most neighbouring words (3 each side) are in capitals, i.e. "US" sits in
    /// all-caps text where it may be the pronoun.
    fn shouting_context(&self, text: &str, ws: &[Wd<'_>], i: usize, n: usize) -> bool {
        let lo = i.saturating_sub(3);
        let hi = (i + n + 3).min(ws.len());
        let mut caps = 0;
        let mut total = 0;
        for (j, w) in ws.iter().enumerate().take(hi).skip(lo) {
            if j >= i && j < i + n {
                continue;
            }
            let s = &text[w.start..w.end];
            if s.chars().count() < 2 || s.chars().all(|c| c.is_numeric()) {
                continue;
            }
            // Other known abbreviations ("US, UK and UAE") do not count as shouting.
            if self
                .phrases
                .get(w.norm)
                .is_some_and(|l| l.iter().any(|p| p.exact.as_deref() == Some(s)))
            {
                continue;
            }
            total += 1;
            if s.chars().all(|c| !c.is_lowercase()) {
                caps += 1;
            }
        }
        total > 0 && caps * 2 >= total
    }

    /// Region suggestions for an item given as headline, plain-text body and places.
    ///
    /// Scores per country: a place with an ISO code 4, a place name that is a country 3, a
    /// headline mention 2, each body mention 1 (at most 3); a mention through one of its cities
    /// counts half. An edition's score is the sum over its
    /// countries, divided by the best edition's; editions under [`EDITION_CUTOFF`] are dropped.
    /// Places with codes that are not ISO alpha-2 are looked up by their name.
    pub fn tag_region(&self, headline: &str, body: &str, places: &[WirePlace]) -> RegionTags {
        self.tag_region_tokens(
            headline,
            &Tokens::new(headline),
            body,
            &Tokens::new(body),
            places,
        )
    }

    /// [`Gazetteer::tag_region`] with the headline's and body's words already split.
    pub fn tag_region_tokens(
        &self,
        headline: &str,
        headline_tokens: &Tokens,
        body: &str,
        body_tokens: &Tokens,
        places: &[WirePlace],
    ) -> RegionTags {
        let mut countries = Vec::new();
        for p in places {
            let code = p.code.as_deref().map(str::trim).unwrap_or("");
            let code = code.strip_prefix("iso3166-1a2:").unwrap_or(code);
            if code.len() == 2 {
                if let Some(i) = self.index_of(code) {
                    countries.push(CountryMatch {
                        iso2: self.countries[i].iso2.clone(),
                        name: self.countries[i].name.clone(),
                        evidence: format!("place:{}", self.countries[i].iso2),
                        position: 0,
                        source: MatchSource::PlaceCode,
                        city: false,
                    });
                    continue;
                }
            }
            if let Some(name) = &p.name {
                // A place name counts only when the whole name is a country ("Kenya", not
                // "Nairobi, Kenya" — that is a city; the body will usually name the country).
                let found = self.find(name);
                if let [m] = &found[..] {
                    if m.evidence.len() + 2 >= name.trim().len() {
                        countries.push(CountryMatch {
                            evidence: format!("place:{}", name.trim()),
                            position: 0,
                            source: MatchSource::PlaceName,
                            ..m.clone()
                        });
                    }
                }
            }
        }
        for mut m in self.find_tokens(headline, headline_tokens) {
            m.source = MatchSource::Headline;
            countries.push(m);
        }
        countries.extend(self.find_tokens(body, body_tokens));

        let mut per_country: Vec<(String, f32, u32, Vec<String>)> = Vec::new();
        for m in &countries {
            let pos = match per_country.iter().position(|c| c.0 == m.iso2) {
                Some(p) => p,
                None => {
                    per_country.push((m.iso2.clone(), 0.0, 0, Vec::new()));
                    per_country.len() - 1
                }
            };
            let entry = &mut per_country[pos];
            let add = match m.source {
                MatchSource::PlaceCode => 4.0,
                MatchSource::PlaceName => 3.0,
                MatchSource::Headline => 2.0,
                MatchSource::Body => {
                    entry.2 += 1;
                    if entry.2 > 3 {
                        0.0
                    } else {
                        1.0
                    }
                }
            } * if m.city { 0.5 } else { 1.0 };
            entry.1 += add;
            if !entry.3.contains(&m.evidence) {
                entry.3.push(m.evidence.clone());
            }
        }
        let mut editions: Vec<EditionTag> = Vec::new();
        for (iso, score, _, ev) in per_country {
            let ed = self.edition_for(&iso);
            match editions.iter_mut().find(|e| e.edition == ed) {
                Some(e) => {
                    e.score += score;
                    for x in ev {
                        if !e.evidence.contains(&x) {
                            e.evidence.push(x);
                        }
                    }
                }
                None => editions.push(EditionTag {
                    edition: ed,
                    score,
                    evidence: ev,
                }),
            }
        }
        editions.sort_by(|a, b| b.score.total_cmp(&a.score));
        if let Some(best) = editions.first().map(|e| e.score).filter(|s| *s > 0.0) {
            for e in &mut editions {
                e.score /= best;
            }
            editions.retain(|e| e.score >= EDITION_CUTOFF);
        }
        RegionTags {
            editions,
            countries,
        }
    }

    /// [`Gazetteer::tag_region`] for a wire item (body HTML flattened; the summary counts as
    /// body text).
    pub fn tag_item(&self, item: &WireItem) -> RegionTags {
        self.tag_item_plain(item, &html_to_text(&item.body_html))
    }

    /// [`Gazetteer::tag_item`] with the item's body already turned into plain text.
    pub fn tag_item_plain(&self, item: &WireItem, body_text: &str) -> RegionTags {
        let body = format!("{}\n{}", item.summary, body_text);
        self.tag_region(&item.headline, &body, &item.places)
    }
}

impl Default for Gazetteer {
    fn default() -> Gazetteer {
        Gazetteer::new()
    }
}

/// A word of a searched text: byte range and normalised form.
struct Wd<'a> {
    start: usize,
    end: usize,
    norm: &'a str,
}

/// Characters allowed between the words of one phrase: spaces, hyphens, apostrophes, dots.
fn joinable(gap: &str) -> bool {
    gap.chars().count() <= 3
        && gap
            .chars()
            .all(|c| c.is_whitespace() || matches!(c, '-' | '\'' | '\u{2019}' | '.' | '\u{2010}'))
        && !gap.contains(". ")
}

/// The edition of a country by ISO alpha-2 code, using [`Gazetteer::global`].
pub fn edition_for(iso2: &str) -> &'static str {
    Gazetteer::global().edition_for(iso2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn isos(text: &str) -> Vec<String> {
        Gazetteer::global()
            .find(text)
            .into_iter()
            .map(|m| m.iso2)
            .collect()
    }

    #[test]
    fn us_pronoun_and_abbreviations() {
        assert_eq!(
            isos("Tell us what happened, she said."),
            Vec::<String>::new()
        );
        assert_eq!(isos("The US and the UK signed it."), ["US", "GB"]);
        assert_eq!(
            isos("U.S. troops left; U.K. officials stayed."),
            ["US", "GB"]
        );
        assert_eq!(isos("JOIN US FOR THE DEBATE TONIGHT"), Vec::<String>::new());
        assert_eq!(isos("US, UK AND UAE SIGN PACT"), ["GB", "AE"]);
        assert_eq!(isos("US, UK and UAE sign pact"), ["US", "GB", "AE"]);
        assert_eq!(isos("US-China trade talks"), ["US", "CN"]);
        assert_eq!(isos("Troops in the DRC"), ["CD"]);
        let m = Gazetteer::global().find("He flew to the U.S. yesterday.");
        assert_eq!(m[0].evidence, "U.S.");
    }

    #[test]
    fn niger_nigeria_and_longest_match() {
        assert_eq!(isos("Niger and Nigeria share a border"), ["NE", "NG"]);
        assert_eq!(
            isos("a Nigerien soldier and a Nigerian doctor"),
            ["NE", "NG"]
        );
        assert_eq!(isos("South Sudan and Sudan"), ["SS", "SD"]);
        assert_eq!(
            isos("Papua New Guinea, Guinea-Bissau, Equatorial Guinea, Guinea"),
            ["PG", "GW", "GQ", "GN"]
        );
        assert_eq!(isos("Côte d'Ivoire and Ivory Coast"), ["CI", "CI"]);
    }

    #[test]
    fn demonyms_and_blocks() {
        assert_eq!(
            isos("Mexican, Kenyan and Filipino workers"),
            ["MX", "KE", "PH"]
        );
        assert_eq!(isos("Americans and Latin Americans"), ["US"]);
        // New Mexico is a state of the United States, not Mexico.
        assert_eq!(isos("storms over the Indian Ocean hit New Mexico"), ["US"]);
        assert_eq!(isos("Jordanian and Emirati envoys"), ["JO", "AE"]);
    }

    #[test]
    fn cities_and_misleading_phrases() {
        // A story naming only cities, in a dateline or in the text.
        assert_eq!(isos("NAJAF - Fighting went on near the shrine."), ["IQ"]);
        assert_eq!(isos("Talks in Nairobi and Addis Ababa"), ["KE", "ET"]);
        let m = Gazetteer::global().find("SAN JOSE, Calif. - Shares rose.");
        assert_eq!(m[0].iso2, "US");
        assert_eq!(m[0].evidence, "SAN JOSE (city, United States)");
        // Lower case is a word, not a city; first names and English words are not cities.
        assert_eq!(isos("a nice day in the van"), Vec::<String>::new());
        assert_eq!(isos("Nice weather, said Austin."), Vec::<String>::new());
        // Tournaments and manners are not the country.
        assert_eq!(isos("Agassi wins the US Open"), Vec::<String>::new());
        assert_eq!(
            isos("Federer into Australian Open final"),
            Vec::<String>::new()
        );
        assert_eq!(
            isos("an Australian-style points system"),
            Vec::<String>::new()
        );
        assert_eq!(isos("Soviet-style planning in Cuba"), ["CU"]);
    }

    #[test]
    fn states_teams_companies_and_guards() {
        // Places that name no country: states, teams, institutions, companies.
        assert_eq!(
            isos("SAN FRANCISCO - California's attorney general"),
            ["US", "US"]
        );
        assert_eq!(isos("Erstad lifts the Angels; the Red Sox lose"), ["US"]);
        assert_eq!(isos("Farmington, Pa. Schedule: today"), ["US"]);
        assert_eq!(isos("Chelsea sack Mutu"), ["GB"]);
        assert_eq!(isos("Microsoft settles with Novell"), ["US"]);
        let m = Gazetteer::global().find("Kmart to sell 18 stores");
        assert_eq!(m[0].evidence, "Kmart (company, United States)");
        // An abbreviation with its dot only: "Mass" is a service, "Mass." the state.
        assert_eq!(
            isos("celebrated an open-air Mass on Sunday"),
            Vec::<String>::new()
        );
        // One word of a longer name is no city.
        assert_eq!(isos("Jose Lima pitched a shutout"), Vec::<String>::new());
        assert_eq!(isos("sacked Alabama-Birmingham's quarterback"), ["US"]);
        assert_eq!(isos("In Lima, protesters marched"), ["PE"]);
        // Agency names and currencies are not the country's news.
        assert_eq!(isos("Canadian Press - AL-FASHER, Sudan"), ["SD"]);
        assert_eq!(
            isos("between US $890 million and US$1 billion"),
            Vec::<String>::new()
        );
        assert_eq!(
            isos("Ministers of the Commonwealth of Independent States"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn editions_cover_every_country() {
        let g = Gazetteer::global();
        assert!(g.len() >= 249);
        for c in &g.countries {
            assert_ne!(c.edition, GLOBAL_EDITION, "{}", c.iso2);
        }
        assert_eq!(g.edition_for("mx"), "latin-america-caribbean");
        assert_eq!(g.edition_for("US"), "north-america");
        assert_eq!(g.edition_for("KE"), "east-africa");
        assert_eq!(g.edition_for("ZZ"), GLOBAL_EDITION);
    }

    #[test]
    fn places_count_more() {
        let g = Gazetteer::global();
        let places = [WirePlace {
            code: Some("KE".into()),
            name: Some("Nairobi".into()),
        }];
        let t = g.tag_region(
            "Talks resume",
            "Envoys from Uganda and the U.S. met.",
            &places,
        );
        assert_eq!(t.editions[0].edition, "east-africa");
        assert!(t.editions[0].evidence.contains(&"place:KE".to_string()));
    }
}
