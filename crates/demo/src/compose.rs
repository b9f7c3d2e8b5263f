//! Composes headlines, summaries and Markdown bodies from the pieces in [`crate::words`].

use crate::rng::Rng;
use crate::words::{SectorWords, CLOSERS, CONNECTORS, SUBHEADS};
use newsdesk_domain::Kind;
use std::fmt::Write as _;

/// What a story is about and where: the choices made before any text is written.
pub(crate) struct Ctx<'a> {
    /// Sector vocabulary.
    pub w: &'a SectorWords,
    /// Sector display name.
    pub sector: &'a str,
    /// "in Kenya", "around the world".
    pub in_: &'a str,
    /// "Kenya", "the developing world".
    pub region: &'a str,
    /// Whether the story is a Global-edition story (no country).
    pub global: bool,
    /// A city of the region (for global stories, a city somewhere in the world).
    pub city: &'a str,
    /// Where news is datelined (the city, or a hub city for global stories).
    pub dateline: &'a str,
    /// Main topic and a second one.
    pub topic: &'a str,
    pub topic2: &'a str,
    /// Main group of people and a second one.
    pub actor: &'a str,
    pub actor2: &'a str,
    /// Main aim and a second one.
    pub goal: &'a str,
    pub goal2: &'a str,
    /// Organisation (press releases).
    pub org: &'a str,
    /// People who can be quoted.
    pub voices: &'a [&'a str],
    /// Weekday name of the story's creation.
    pub weekday: &'a str,
    /// Date line for press releases ("4 September 2025").
    pub date: &'a str,
    /// Current year.
    pub year: i32,
}

/// The text of a story.
pub(crate) struct Composed {
    pub headline: String,
    pub summary: String,
    pub body_md: String,
}

/// Fills `{slot}`s of `tpl` from `ctx`, drawing numbers from `rng`.
pub(crate) fn fill(tpl: &str, ctx: &Ctx<'_>, rng: &mut Rng) -> String {
    let mut out = String::with_capacity(tpl.len() + 48);
    let mut rest = tpl;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let key = &after[..close];
        match key {
            "in" => out.push_str(ctx.in_),
            "region" => out.push_str(ctx.region),
            "city" => out.push_str(ctx.city),
            "topic" => out.push_str(ctx.topic),
            "topic2" => out.push_str(ctx.topic2),
            "actor" => out.push_str(ctx.actor),
            "actor2" => out.push_str(ctx.actor2),
            "goal" => out.push_str(ctx.goal),
            "goal2" => out.push_str(ctx.goal2),
            "org" => out.push_str(ctx.org),
            "sector" => out.push_str(ctx.sector),
            "weekday" => out.push_str(ctx.weekday),
            "date" => out.push_str(ctx.date),
            "n" => {
                let _ = write!(out, "{}", rng.range(3, 12));
            }
            "pct" => {
                let _ = write!(out, "{}", rng.range(12, 78));
            }
            "big" => out.push_str(&thousands(rng.range(12, 950) * 100)),
            "money" => out.push_str(&money(rng)),
            "year" => {
                let _ = write!(out, "{}", ctx.year + rng.range(2, 8) as i32);
            }
            "secs" => {
                let _ = write!(out, "{}", rng.range(4, 18) * 5);
            }
            other => {
                // Not a slot: keep the text as written.
                out.push('{');
                out.push_str(other);
                out.push('}');
            }
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// `12345` as `12,345`.
fn thousands(v: i64) -> String {
    let digits = v.abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if v < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn money(rng: &mut Rng) -> String {
    if rng.chance(0.15) {
        format!("${}.{} billion", rng.range(1, 4), rng.range(1, 9))
    } else {
        format!("${} million", rng.range(2, 95) * 5)
    }
}

/// Upper-cases the first letter (skipping opening quotes and the like).
pub(crate) fn cap_first(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut done = false;
    for c in s.chars() {
        if !done && c.is_alphabetic() {
            out.extend(c.to_uppercase());
            done = true;
        } else {
            if !done && c.is_ascii_digit() {
                done = true;
            }
            out.push(c);
        }
    }
    out
}

fn sentence(tpl: &str, ctx: &Ctx<'_>, rng: &mut Rng) -> String {
    cap_first(&fill(tpl, ctx, rng))
}

fn pick_fill(list: &[&str], ctx: &Ctx<'_>, rng: &mut Rng) -> String {
    let t = *rng.pick(list);
    sentence(t, ctx, rng)
}

/// Indices of a list in a random order, dealt one by one (starting over when used up), so a
/// story does not repeat a fact or a quote.
struct Deck {
    order: Vec<usize>,
    at: usize,
}

impl Deck {
    fn new(len: usize, rng: &mut Rng) -> Self {
        Self {
            order: rng.distinct(len, len),
            at: 0,
        }
    }
    fn next(&mut self) -> usize {
        let i = self.order.get(self.at % self.order.len().max(1)).copied();
        self.at += 1;
        i.unwrap_or(0)
    }
}

/// The facts and quotes one story draws from.
struct Pieces {
    facts: Deck,
    quotes: Deck,
}

impl Pieces {
    fn new(w: &SectorWords, rng: &mut Rng) -> Self {
        Self {
            facts: Deck::new(w.facts.len(), rng),
            quotes: Deck::new(w.quotes.len(), rng),
        }
    }
    fn fact(&mut self, ctx: &Ctx<'_>, rng: &mut Rng) -> String {
        sentence(ctx.w.facts[self.facts.next()], ctx, rng)
    }
    fn facts2(&mut self, ctx: &Ctx<'_>, rng: &mut Rng) -> String {
        let a = self.fact(ctx, rng);
        let b = self.fact(ctx, rng);
        format!("{a} {b}")
    }
    fn quote(&mut self, ctx: &Ctx<'_>) -> &'static str {
        ctx.w.quotes[self.quotes.next()]
    }
}

/// `"Quote," said Name, role.` with a random quote and person.
fn said(p: &mut Pieces, ctx: &Ctx<'_>, rng: &mut Rng, verb: &str) -> String {
    let q = p.quote(ctx);
    let name = *rng.pick(ctx.voices);
    let role = *rng.pick(ctx.w.roles);
    let q = q
        .strip_suffix('.')
        .map_or_else(|| q.to_owned(), |s| format!("{s},"));
    format!("\"{q}\" {verb} {name}, {role}.")
}

fn blockquote(p: &mut Pieces, ctx: &Ctx<'_>, rng: &mut Rng) -> String {
    let q = p.quote(ctx);
    let name = *rng.pick(ctx.voices);
    let role = *rng.pick(ctx.w.roles);
    format!("> {q}\n>\n> — {name}, {role}")
}

fn list(
    intro: &str,
    items: &[&str],
    k: usize,
    numbered: bool,
    ctx: &Ctx<'_>,
    rng: &mut Rng,
) -> String {
    let mut out = String::from(intro);
    out.push_str("\n\n");
    for (n, i) in rng.distinct(items.len(), k).into_iter().enumerate() {
        if numbered {
            let _ = write!(out, "{}. ", n + 1);
        } else {
            out.push_str("- ");
        }
        out.push_str(&sentence(items[i], ctx, rng));
        out.push('\n');
    }
    out.pop();
    out
}

const LIST_INTROS: &[&str] = &[
    "The plan includes:",
    "Among the measures announced:",
    "What the programme offers:",
    "The first phase covers:",
];

const NEWS_LEDES: &[&str] = &[
    "{actor} {in} are pinning their hopes on {topic}, as officials promise new support to {goal}.",
    "A new push on {topic} {in} aims to {goal}, officials said this week.",
    "Plans to {goal} {in} moved forward on {weekday} as {actor} and officials agreed on the next phase of work on {topic}.",
    "Work on {topic} {in} is gathering pace, with {actor} saying the changes could help {goal}.",
    "Officials {in} have promised to {goal}, putting {topic} at the centre of a plan set out on {weekday}.",
    "{actor} {in} say recent progress on {topic} is real but fragile, and that the next year will decide whether it lasts.",
];

const NEWS_SUMMARIES: &[&str] = &[
    "{actor} and officials {in} say the effort could help {goal}, though funding beyond the first year is not yet secured.",
    "The move follows years of pressure from {actor}, who say progress on {topic} has been too slow.",
    "Supporters see a chance to {goal}; critics want clearer targets and regular public reporting.",
    "Officials say the work on {topic} will be expanded if early results hold up.",
];

const GLOBAL_NEWS_HEADLINES: &[&str] = &[
    "Report finds progress on {topic} lagging in low-income countries",
    "Donors pledge {money} to {goal}",
    "{actor} from {n}0 countries meet to compare notes on {topic}",
    "New global fund to back {topic} in poorer countries",
    "Study across {n} countries finds {topic} pays off",
    "World off track on plan to {goal}, agencies warn",
    "UN agencies call for more funding for {topic}",
    "Global survey puts {topic} near the top of public concerns",
];

const COUNTRY_NEWS_HEADLINES: &[&str] = &[
    "{region} unveils plan to {goal}",
    "{actor} {in} call for faster action on {topic}",
    "Government {in} sets aside {money} for {topic}",
    "Survey {in} shows growing support for {topic}",
    "{region} launches {n}-year drive on {topic}",
];

const OPINION_HEADLINES: &[&str] = &[
    "Why {topic} deserves a bigger share of the budget {in}",
    "The quiet case for {topic}",
    "It is time to stop treating {topic} as an afterthought",
    "What {actor} {in} are trying to tell us",
    "We know how to {goal}. So why are we not doing it?",
    "Small steps on {topic} add up. Let us not lose patience",
    "Good intentions alone will not {goal}",
    "{topic} is everybody's business",
];

const OPINION_OPENERS: &[&str] = &[
    "For years, conversations about {topic} {in} have followed a familiar script: promises at conferences, modest pilot projects and little change for the people who need it most.",
    "I have spent much of my working life alongside {actor}, and one lesson keeps coming back: nothing lasts unless the people it is meant to help have a say in it.",
    "There is a comfortable story told about {topic} {in}. The problem is understood, the money is coming, and progress is only a matter of time. I am not so sure.",
    "Every few years, {topic} is rediscovered as a priority. Then attention moves on, and the work is left to {actor} with too few resources.",
];

const OPINION_REACTIONS: &[&str] = &[
    "That should worry anyone who cares about the next decade.",
    "Those numbers are not destiny, but they are a warning.",
    "Behind each of those figures are families making hard choices.",
    "We should stop pretending this is someone else's problem.",
];

const OPINION_SUBHEADS: &[&str] = &[
    "The case for acting now",
    "What we keep getting wrong",
    "A better bargain",
    "Where the money should go",
];

const OPINION_CLOSERS: &[&str] = &[
    "None of this is beyond reach. What is missing is the will to {goal}, and to keep at it after the cameras have gone.",
    "The choice is not between ambition and caution. It is between acting now and paying more later.",
    "If we are serious about the promise to {goal}, the next budget is the place to prove it.",
];

const BLOG_HEADLINES: &[&str] = &[
    "Notes from {city}: {topic} up close",
    "A week with {actor} in {city}",
    "What I learned about {topic} in {city}",
    "Field diary: {topic} and the long wait for change",
    "Five small things that made a difference to {topic} {in}",
    "Behind the numbers: a morning with {actor}",
];

const BLOG_OPENERS: &[&str] = &[
    "I arrived in {city} early on a {weekday}, with a notebook in one pocket and a list of questions about {topic} in the other.",
    "The road into {city} was busier than I remembered, and the first people I met were {actor}.",
    "This week took me to {city}, where I spent three days with {actor} and learned more about {topic} than in a year of reading reports.",
];

const BLOG_REFLECTIONS: &[&str] = &[
    "It is easy, from a distance, to think of {topic} as a technical problem. Up close it is a question of trust, time and money.",
    "What struck me most was how much people were already doing without any outside help.",
    "Nobody I met was waiting to be rescued. They were waiting for the basics to arrive on time.",
];

const BLOG_CLOSERS: &[&str] = &[
    "I will be back in {city} in a few months and will write again then.",
    "If you work on {topic} and have seen something that works, write to us at desk@newsdesk.example.",
    "The notebook is full now. The questions, mostly, are still open.",
];

const INTERVIEW_QUESTIONS: &[&str] = &[
    "What is the biggest obstacle to progress on {topic} {in}?",
    "What has changed over the past five years?",
    "What do people outside the region most often misunderstand?",
    "If you had five minutes with the finance minister, what would you ask for?",
    "Where do you see reasons for hope?",
    "What would success look like ten years from now?",
];

const ANALYSIS_HEADLINES: &[&str] = &[
    "How {topic} is reshaping {region}",
    "What the numbers say about {topic} {in}",
    "The hidden costs of neglecting {topic}",
    "Can {region} {goal}? The evidence so far",
    "Three things to watch on {topic} this year",
    "Why progress on {topic} {in} has been so uneven",
];

const ANALYSIS_OPENERS: &[&str] = &[
    "Behind the headlines about {topic} {in} lies a quieter story about money, institutions and time.",
    "On paper, the case for {topic} {in} has never been stronger. In practice, progress has been uneven.",
    "Few issues attract as many promises, and as few follow-ups, as {topic}.",
];

const ANALYSIS_ENDINGS: &[&str] = &[
    "The direction of travel is clear; the speed is not.",
    "The next two budgets will show whether the gains can be locked in.",
    "Progress is possible, but it is neither automatic nor cheap.",
];

const SHORT_HEADLINES: &[&str] = &[
    "Watch: {actor} in {city} and the push to {goal}",
    "In 60 seconds: {topic} {in}",
    "Video: a day with {actor} in {city}",
    "How {city} is tackling {topic}, in one minute",
];

const PRESS_HEADLINES: &[&str] = &[
    "{org} launches {n}-year programme on {topic} {in}",
    "{org} and partners commit {money} to {goal}",
    "{org} welcomes new national plan on {topic}",
    "{org} publishes annual report on {topic} {in}",
    "{org} opens applications for grants on {topic}",
];

const ORG_ROLES: &[&str] = &[
    "chief executive",
    "programme director",
    "regional director",
    "head of partnerships",
];

/// Picks a headline template: for global news only templates without a country or city.
fn headline_template(kind: Kind, ctx: &Ctx<'_>, rng: &mut Rng) -> &'static str {
    let list = match kind {
        Kind::News if ctx.global => GLOBAL_NEWS_HEADLINES,
        Kind::News if rng.chance(0.7) => ctx.w.headlines,
        Kind::News => COUNTRY_NEWS_HEADLINES,
        Kind::Opinion => OPINION_HEADLINES,
        Kind::Blog => BLOG_HEADLINES,
        Kind::Interview => &[""],
        Kind::Analysis => ANALYSIS_HEADLINES,
        Kind::Short => SHORT_HEADLINES,
        Kind::PressRelease => PRESS_HEADLINES,
    };
    rng.pick_copy(list)
}

/// Writes a whole story of `kind`.
pub(crate) fn compose(kind: Kind, ctx: &Ctx<'_>, rng: &mut Rng) -> Composed {
    let mut paras: Vec<String> = Vec::with_capacity(10);
    let mut p = Pieces::new(ctx.w, rng);
    let headline;
    let summary;
    match kind {
        Kind::News => {
            headline = sentence(headline_template(kind, ctx, rng), ctx, rng);
            summary = pick_fill(NEWS_SUMMARIES, ctx, rng);
            let lede = pick_fill(NEWS_LEDES, ctx, rng);
            paras.push(format!("**{}** — {lede}", ctx.dateline));
            paras.push(p.facts2(ctx, rng));
            paras.push(said(&mut p, ctx, rng, "said"));
            if rng.chance(0.55) {
                paras.push(format!("## {}", rng.pick(SUBHEADS)));
                let f = p.fact(ctx, rng);
                let c = pick_fill(CONNECTORS, ctx, rng);
                paras.push(format!("{f} {c}"));
            }
            if rng.chance(0.4) {
                let intro = *rng.pick(LIST_INTROS);
                paras.push(list(intro, ctx.w.steps, 3, false, ctx, rng));
            }
            if rng.chance(0.35) {
                paras.push(blockquote(&mut p, ctx, rng));
            }
            paras.push(pick_fill(CONNECTORS, ctx, rng));
            paras.push(pick_fill(CLOSERS, ctx, rng));
        }
        Kind::Opinion => {
            headline = sentence(headline_template(kind, ctx, rng), ctx, rng);
            summary = sentence(
                "Progress on {topic} {in} depends less on new plans than on steady money and honest measurement.",
                ctx,
                rng,
            );
            paras.push(pick_fill(OPINION_OPENERS, ctx, rng));
            let f = p.fact(ctx, rng);
            paras.push(format!("{f} {}", rng.pick(OPINION_REACTIONS)));
            paras.push(format!("## {}", rng.pick(OPINION_SUBHEADS)));
            paras.push(p.facts2(ctx, rng));
            paras.push(list(
                "Three things would make a real difference:",
                ctx.w.steps,
                3,
                false,
                ctx,
                rng,
            ));
            if rng.chance(0.6) {
                let role = *rng.pick(ctx.w.roles);
                let q = p.quote(ctx);
                paras.push(format!("{} once put it to me like this:", cap_first(role)));
                paras.push(format!("> {q}"));
            }
            paras.push(pick_fill(OPINION_CLOSERS, ctx, rng));
        }
        Kind::Blog => {
            headline = sentence(headline_template(kind, ctx, rng), ctx, rng);
            summary = sentence(
                "Notes from a visit to {city}, where {actor} are finding their own answers to questions about {topic}.",
                ctx,
                rng,
            );
            paras.push(pick_fill(BLOG_OPENERS, ctx, rng));
            paras.push(p.fact(ctx, rng));
            paras.push(said(&mut p, ctx, rng, "said"));
            paras.push(list(
                "What people told me they need:",
                ctx.w.steps,
                3,
                false,
                ctx,
                rng,
            ));
            paras.push(pick_fill(BLOG_REFLECTIONS, ctx, rng));
            if rng.chance(0.5) {
                paras.push("## On the way back".to_owned());
                paras.push(pick_fill(CONNECTORS, ctx, rng));
            }
            paras.push(pick_fill(BLOG_CLOSERS, ctx, rng));
        }
        Kind::Interview => {
            let name = *rng.pick(ctx.voices);
            let role = *rng.pick(ctx.w.roles);
            let short_quotes: Vec<&str> = ctx
                .w
                .quotes
                .iter()
                .filter_map(|q| q.split_inclusive(". ").next())
                .map(|q| q.trim().trim_end_matches('.'))
                .filter(|q| q.chars().count() <= 64)
                .collect();
            headline = if !short_quotes.is_empty() && rng.chance(0.5) {
                format!("'{}': {name} on {}", rng.pick(&short_quotes), ctx.topic)
            } else {
                match rng.below(3) {
                    0 => format!("In conversation: {name} on {}", ctx.topic),
                    1 => format!("{name}: what it will take to {}", ctx.goal),
                    _ => format!("Five questions for {name} about {}", ctx.topic),
                }
            };
            summary = format!(
                "{name}, {role}, talks about {}, what has changed in recent years and what it will take to {}.",
                ctx.topic, ctx.goal
            );
            paras.push(format!(
                "{name} is {role}. We spoke about {}, {} and what it will take to {}.",
                ctx.topic, ctx.topic2, ctx.goal
            ));
            paras.push("*This interview has been edited for length and clarity.*".to_owned());
            let qs = rng.distinct(INTERVIEW_QUESTIONS.len(), 3);
            let quotes: Vec<usize> = (0..3).map(|_| p.quotes.next()).collect();
            for (q, a) in qs.into_iter().zip(quotes) {
                paras.push(format!(
                    "**{}**",
                    sentence(INTERVIEW_QUESTIONS[q], ctx, rng)
                ));
                let mut answer = ctx.w.quotes[a].to_owned();
                if rng.chance(0.6) {
                    answer.push(' ');
                    answer.push_str(&p.fact(ctx, rng));
                }
                paras.push(answer);
            }
        }
        Kind::Analysis => {
            headline = sentence(headline_template(kind, ctx, rng), ctx, rng);
            summary = sentence(
                "The figures suggest real progress on {topic} {in}, but the gains are uneven and could easily be reversed.",
                ctx,
                rng,
            );
            paras.push(pick_fill(ANALYSIS_OPENERS, ctx, rng));
            paras.push("## What the numbers show".to_owned());
            paras.push(p.facts2(ctx, rng));
            paras.push(said(&mut p, ctx, rng, "says"));
            paras.push("## What is on the table".to_owned());
            paras.push(list(
                "The measures most often proposed are:",
                ctx.w.steps,
                4,
                true,
                ctx,
                rng,
            ));
            paras.push("## The bottom line".to_owned());
            let c = pick_fill(CONNECTORS, ctx, rng);
            paras.push(format!("{c} {}", rng.pick(ANALYSIS_ENDINGS)));
        }
        Kind::Short => {
            headline = sentence(headline_template(kind, ctx, rng), ctx, rng);
            summary = sentence(
                "A short video from {city} on {topic} and the people working to {goal}.",
                ctx,
                rng,
            );
            paras.push(sentence(
                "This short video follows {actor} in {city} as they work to {goal}.",
                ctx,
                rng,
            ));
            paras.push(p.fact(ctx, rng));
            paras.push(said(&mut p, ctx, rng, "said"));
            if rng.chance(0.5) {
                paras.push(pick_fill(CONNECTORS, ctx, rng));
            }
            paras.push(sentence(
                "*Running time: {secs} seconds. Filmed in {city}.*",
                ctx,
                rng,
            ));
        }
        Kind::PressRelease => {
            headline = sentence(headline_template(kind, ctx, rng), ctx, rng);
            summary = sentence(
                "{org} has announced new work on {topic} {in}, aiming to {goal}.",
                ctx,
                rng,
            );
            paras.push(sentence(
                "**{city}, {date}** — {org} today announced a {n}-year programme on {topic} {in}, aiming to {goal}.",
                ctx,
                rng,
            ));
            paras.push(sentence(
                "The programme will work with {actor} and {actor2}, and will focus first on {topic2}.",
                ctx,
                rng,
            ));
            let q = p.quote(ctx);
            let q = q.strip_suffix('.').unwrap_or(q);
            paras.push(format!(
                "\"{q},\" said {}, {} of {}.",
                rng.pick(ctx.voices),
                rng.pick(ORG_ROLES),
                ctx.org
            ));
            paras.push(list(
                "Key elements of the programme include:",
                ctx.w.steps,
                3,
                false,
                ctx,
                rng,
            ));
            paras.push(p.fact(ctx, rng));
            paras.push(format!("## About {}", ctx.org));
            paras.push(sentence(
                "{org} is an independent non-profit organisation working on {topic} and {topic2} in {n} countries. It works with governments, communities and local partners to {goal2}.",
                ctx,
                rng,
            ));
            let domain: String = ctx
                .org
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_ascii_lowercase();
            paras.push(format!("Media contact: press@{domain}.example"));
        }
    }
    Composed {
        headline,
        summary,
        body_md: paras.join("\n\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::words::{PLACES, SECTORS, VOICES};

    fn ctx<'a>(w: &'a SectorWords, global: bool) -> Ctx<'a> {
        Ctx {
            w,
            sector: "Health",
            in_: if global {
                "around the world"
            } else {
                "in Kenya"
            },
            region: if global {
                "the developing world"
            } else {
                "Kenya"
            },
            global,
            city: PLACES[6][0].1,
            dateline: if global { "Geneva" } else { "Nairobi" },
            topic: w.topics[0],
            topic2: w.topics[1],
            actor: w.actors[0],
            actor2: w.actors[1],
            goal: w.goals[0],
            goal2: w.goals[1],
            org: w.orgs[0],
            voices: VOICES[6],
            weekday: "Tuesday",
            date: "4 September 2025",
            year: 2025,
        }
    }

    #[test]
    fn fills_slots_and_keeps_unknown_braces() {
        let w = &SECTORS[8];
        let c = ctx(w, false);
        let mut rng = Rng::new(1);
        let s = fill("{topic} {in} {odd} {n} {big} {unclosed", &c, &mut rng);
        assert!(s.starts_with("malaria prevention in Kenya {odd} "), "{s}");
        assert!(s.ends_with("{unclosed"));
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(100), "100");
        assert_eq!(cap_first("'abc' d"), "'Abc' d");
        assert_eq!(cap_first("5 things"), "5 things");
    }

    #[test]
    fn every_kind_and_sector_composes_without_leftover_slots() {
        let mut rng = Rng::new(3);
        for w in &SECTORS {
            for global in [false, true] {
                let c = ctx(w, global);
                for kind in Kind::ALL {
                    for _ in 0..4 {
                        let s = compose(kind, &c, &mut rng);
                        for text in [&s.headline, &s.summary, &s.body_md] {
                            assert!(!text.contains('{') && !text.contains('}'), "{text}");
                        }
                        assert!(s.headline.chars().count() <= 160, "{}", s.headline);
                        assert!(!s.headline.starts_with("Opinion"));
                        let paras = s.body_md.split("\n\n").count();
                        assert!((4..=10).contains(&paras), "{kind:?} {paras}");
                        if global && kind == Kind::News {
                            assert!(!s.headline.contains("Kenya"));
                        }
                    }
                }
            }
        }
    }
}
