//! Demo agency copy: a dozen events of the last day and a half, each reported by two or three
//! made-up agencies in their own words, so the wire desk has clusters to show on a fresh demo.
//! Facts are invented; places and countries are real so the region tagger has work to do.

use chrono::{DateTime, Duration, Utc};
use newsdesk_domain::{WireItem, WireStatus, WireSubject};

/// The made-up agencies of the demo.
pub const DEMO_AGENCIES: [&str; 3] = ["Meridian Wire", "Continental Press", "Harbour News Agency"];

/// One invented event and the facts every report of it shares.
struct Event {
    /// Short name, part of the agency ids.
    key: &'static str,
    place: &'static str,
    country: &'static str,
    /// What happened, as a clause: "floods displaced 40,000 people".
    what: &'static str,
    /// Headlines, one per agency (the first agency reports first).
    headlines: [&'static str; 3],
    detail: &'static str,
    more: &'static str,
    who: &'static str,
    /// IPTC Media Topic of the event.
    topic: &'static str,
    urgency: u8,
    /// How many agencies report it (2 or 3).
    reports: usize,
    /// Hours before now of the first report.
    hours_ago: i64,
}

const EVENTS: [Event; 11] = [
    Event {
        key: "sylhet-floods",
        place: "Sylhet",
        country: "Bangladesh",
        what: "floods displaced about 40,000 people",
        headlines: [
            "Floods displace 40,000 in Sylhet as rivers burst their banks",
            "Bangladesh: monsoon floods force 40,000 from homes in Sylhet",
            "Sylhet floods leave tens of thousands homeless",
        ],
        detail: "the Surma and Kushiyara rivers burst their banks after three days of monsoon rain",
        more: "the district administration opened 200 shelters in schools and sent boats to villages cut off by the water",
        who: "the district commissioner",
        topic: "medtop:17000000",
        urgency: 2,
        reports: 3,
        hours_ago: 30,
    },
    Event {
        key: "turkana-cholera",
        place: "Lodwar",
        country: "Kenya",
        what: "health workers began vaccinating 300,000 people against cholera",
        headlines: [
            "Kenya starts cholera vaccination for 300,000 in Turkana",
            "Cholera jabs begin in Turkana county after outbreak",
            "Turkana cholera campaign targets 300,000 residents",
        ],
        detail: "an outbreak in Turkana county has sickened more than 1,200 people since July",
        more: "mobile teams will reach fishing camps on Lake Turkana by boat during the ten-day campaign",
        who: "the county health director",
        topic: "medtop:07000000",
        urgency: 3,
        reports: 3,
        hours_ago: 26,
    },
    Event {
        key: "ghana-cocoa",
        place: "Accra",
        country: "Ghana",
        what: "the cocoa board raised the farm-gate price by 45 percent",
        headlines: [
            "Ghana raises cocoa farm-gate price by 45 percent",
            "Cocoa farmers in Ghana to earn 45 percent more per bag",
            "",
        ],
        detail: "farmers will be paid 48,000 cedis a tonne for the new season's beans",
        more: "the board said the rise would discourage smuggling of beans to neighbouring countries",
        who: "the cocoa board's chief executive",
        topic: "medtop:04000000",
        urgency: 4,
        reports: 2,
        hours_ago: 20,
    },
    Event {
        key: "arequipa-quake",
        place: "Arequipa",
        country: "Peru",
        what: "a magnitude 6.1 earthquake damaged dozens of adobe homes",
        headlines: [
            "Magnitude 6.1 quake shakes southern Peru near Arequipa",
            "Peru: earthquake damages adobe homes in Arequipa region",
            "Strong earthquake hits Arequipa, no deaths reported",
        ],
        detail: "the quake was centred 40 kilometres north of the town of Chala at a depth of 35 kilometres",
        more: "rescue teams checked schools and clinics in Acari and Yauca for cracks",
        who: "the national geophysics institute",
        topic: "medtop:03000000",
        urgency: 1,
        reports: 3,
        hours_ago: 14,
    },
    Event {
        key: "nepal-school-meals",
        place: "Kathmandu",
        country: "Nepal",
        what: "the government extended free school meals to 1.2 million children",
        headlines: [
            "Nepal extends free school meals to 1.2 million children",
            "Free lunches reach 1.2 million more Nepali pupils",
            "",
        ],
        detail: "the programme now covers every public school up to grade eight in 77 districts",
        more: "the education ministry said attendance rose by a tenth where meals were served last year",
        who: "the education minister",
        topic: "medtop:05000000",
        urgency: 5,
        reports: 2,
        hours_ago: 22,
    },
    Event {
        key: "visayas-typhoon",
        place: "Tacloban",
        country: "Philippines",
        what: "a typhoon forced the evacuation of 150,000 people",
        headlines: [
            "Typhoon forces 150,000 to evacuate in the central Philippines",
            "Philippines evacuates 150,000 ahead of typhoon landfall",
            "Tacloban braces for typhoon as 150,000 leave coast",
        ],
        detail: "winds of 165 kilometres an hour were expected to reach Eastern Samar and Leyte overnight",
        more: "ferries were suspended and schools in Tacloban turned into evacuation centres",
        who: "the civil defence office",
        topic: "medtop:17000000",
        urgency: 2,
        reports: 3,
        hours_ago: 8,
    },
    Event {
        key: "midelt-solar",
        place: "Midelt",
        country: "Morocco",
        what: "a 800-megawatt solar plant began feeding the national grid",
        headlines: [
            "Morocco switches on 800 MW solar plant at Midelt",
            "Midelt solar complex starts supplying Morocco's grid",
            "",
        ],
        detail: "the plant combines photovoltaic panels with molten-salt storage for evening power",
        more: "the energy agency said it would supply about 600,000 households",
        who: "the renewable energy agency",
        topic: "medtop:04000000",
        urgency: 4,
        reports: 2,
        hours_ago: 12,
    },
    Event {
        key: "zambia-copper",
        place: "Lusaka",
        country: "Zambia",
        what: "copper output reached a record 890,000 tonnes",
        headlines: [
            "Zambia copper output hits record 890,000 tonnes",
            "Record copper year for Zambia as new mines open",
            "Zambia's copper production climbs to all-time high",
        ],
        detail: "two new mines in North-Western province added 120,000 tonnes",
        more: "the mines ministry said it expected output to pass one million tonnes within two years",
        who: "the mines minister",
        topic: "medtop:04000000",
        urgency: 3,
        reports: 3,
        hours_ago: 5,
    },
    Event {
        key: "fiji-election",
        place: "Suva",
        country: "Fiji",
        what: "the electoral commission certified the results of the general election",
        headlines: [
            "Fiji certifies election results after a week of counting",
            "Fiji election results confirmed by commission",
            "",
        ],
        detail: "turnout was 68 percent across 55 seats in parliament",
        more: "observers from the Pacific Islands Forum said the vote was orderly",
        who: "the supervisor of elections",
        topic: "medtop:11000000",
        urgency: 3,
        reports: 2,
        hours_ago: 18,
    },
    Event {
        key: "amazon-deforestation",
        place: "Brasília",
        country: "Brazil",
        what: "deforestation in the Amazon fell by 30 percent in a year",
        headlines: [
            "Amazon deforestation in Brazil falls 30 percent",
            "Brazil reports 30 percent drop in Amazon forest loss",
            "Satellite data show Amazon clearing down by nearly a third",
        ],
        detail: "satellite monitoring recorded 6,300 square kilometres cleared between August and July",
        more: "the environment ministry credited more inspections and fines for illegal logging",
        who: "the space research institute",
        topic: "medtop:06000000",
        urgency: 3,
        reports: 3,
        hours_ago: 3,
    },
    Event {
        key: "uzbek-cotton",
        place: "Tashkent",
        country: "Uzbekistan",
        what: "monitors found no forced labour in the cotton harvest for a third year",
        headlines: [
            "Uzbekistan cotton harvest free of forced labour, monitors say",
            "Monitors find no forced labour in Uzbek cotton fields",
            "",
        ],
        detail: "independent monitors visited 1,400 farms in eleven regions during the harvest",
        more: "pickers' average pay rose by a fifth, the labour ministry said",
        who: "the labour ministry",
        topic: "medtop:09000000",
        urgency: 4,
        reports: 2,
        hours_ago: 28,
    },
];

/// Number of demo events (clusters on a fresh demo's wire desk).
pub const DEMO_WIRE_EVENTS: usize = EVENTS.len();

fn capital(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// The body of agency `a`'s report: the same facts, in that agency's order and words.
fn body(e: &Event, a: usize) -> String {
    let (what, detail, more, who) = (e.what, e.detail, e.more, e.who);
    let (place, country) = (e.place, e.country);
    match a {
        0 => format!(
            "<p>{place}, {country}: {what}, {who} said on Thursday.</p><p>{}, according to officials.</p><p>{}.</p>",
            capital(detail),
            capital(more)
        ),
        1 => format!(
            "<p>In {country}, {what} in and around {place}, according to {who}.</p><p>{}.</p><p>Officials added that {detail}.</p>",
            capital(more)
        ),
        _ => format!(
            "<p>{} in {place} ({country}). {} said {detail}.</p><p>{}.</p>",
            capital(what),
            capital(who),
            capital(more)
        ),
    }
}

/// The demo's agency copy, dated relative to `now` (first reports from 30 hours ago).
pub fn wire_items(now: DateTime<Utc>) -> Vec<WireItem> {
    let mut out = Vec::new();
    for e in &EVENTS {
        for (a, agency) in DEMO_AGENCIES.iter().enumerate().take(e.reports) {
            let published = now - Duration::hours(e.hours_ago) + Duration::minutes(17 * a as i64);
            out.push(WireItem {
                agency: (*agency).into(),
                agency_id: format!("{}-{}", e.key, a + 1),
                version: 1,
                headline: e.headlines[a].into(),
                summary: String::new(),
                body_html: body(e, a),
                byline: String::new(),
                urgency: Some(e.urgency),
                language: Some("en".into()),
                published_at: Some(published),
                updated_at: None,
                // The first agency codes its copy with a Media Topic; the others do not, and
                // their sector comes from the text.
                subjects: if a == 0 {
                    vec![WireSubject {
                        code: e.topic.into(),
                        name: None,
                    }]
                } else {
                    Vec::new()
                },
                places: Vec::new(),
                usage_terms: None,
                links: vec![format!(
                    "https://{}.example/{}-{}",
                    agency.to_lowercase().replace(' ', "-"),
                    e.key,
                    a + 1
                )],
                status: WireStatus::Usable,
                embargo: None,
            });
        }
    }
    out.sort_by_key(|i| i.published_at);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_report_has_a_headline_and_the_facts() {
        let now = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let items = wire_items(now);
        let reports: usize = EVENTS.iter().map(|e| e.reports).sum();
        assert_eq!(items.len(), reports);
        for i in &items {
            assert!(!i.headline.is_empty(), "{}", i.agency_id);
            assert!(i.published_at.is_some_and(|p| p < now));
        }
    }
}
