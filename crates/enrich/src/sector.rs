//! Sector tagging: IPTC Media Topics (and old IPTC Subject Codes) mapped to the 15 sectors, and a
//! keyword lexicon, with a naive Bayes word model for close calls, for items that carry no subject
//! codes.
//!
//! A Media Topic code is mapped by walking up its `broader` chain (embedded from the IPTC
//! vocabulary, `data/mediatopics.tsv`) to the nearest code in [`TOPIC_SECTORS`], so every
//! descendant of a mapped topic maps — including retired codes still found in old copy.
//! Subject Codes (`subj:04001000`) are first translated to the Media Topic IPTC gives for them, or
//! for their nearest parent code.

use std::collections::HashMap;
use std::sync::OnceLock;

use newsdesk_domain::{WireItem, WireSubject};

use crate::text::{each_word, is_stopword, light_stem, words, FnvMap, Tokens};
use newsdesk_domain::text::html_to_text;

const MEDIATOPICS_TSV: &str = include_str!("../data/mediatopics.tsv");

/// Media Topic → sector, newsdesk's own mapping: the 17 top-level topics and the second- and
/// third-level topics that belong elsewhere than their parent. Topics not reached (the
/// "disaster, accident and emergency incident" top level itself) give no sector from codes.
pub const TOPIC_SECTORS: &[(u32, &str)] = &[
    // Top level.
    (1_000_000, "art-culture"), // arts, culture, entertainment and media
    (2_000_000, "law-governance"), // crime, law and justice
    (4_000_000, "economy-business"), // economy, business and finance
    (5_000_000, "education"),   // education
    (6_000_000, "science-environment"), // environment
    (7_000_000, "health"),      // health
    (8_000_000, "social-gender"), // human interest
    (9_000_000, "economy-business"), // labour
    (10_000_000, "art-culture"), // lifestyle and leisure
    (11_000_000, "politics"),   // politics
    (12_000_000, "art-culture"), // religion
    (13_000_000, "science-environment"), // science and technology
    (14_000_000, "social-gender"), // society
    (15_000_000, "sports"),     // sport
    (16_000_000, "politics"),   // conflict, war and peace
    (17_000_000, "science-environment"), // weather
    // Disaster, accident and emergency incident: by kind.
    (20_000_151, "science-environment"), // natural disaster
    (20_000_143, "transport"),           // transportation accident and incident
    (20_000_149, "agro-forestry"),       // famine
    (20_000_161, "urban-development"),   // structural failure
    // Economy, business and finance.
    (20_000_210, "agro-forestry"),      // agriculture
    (20_000_213, "agro-forestry"),      // commercial fishing
    (20_000_214, "agro-forestry"),      // forestry and timber
    (20_000_225, "technology"),         // computing and information technology
    (20_000_235, "urban-development"),  // construction and property
    (20_000_256, "energy-extractives"), // energy and resource
    (20_000_316, "energy-extractives"), // metal and mineral mining and refining
    (20_000_337, "transport"),          // transport
    (20_001_244, "energy-extractives"), // utilities
    (20_000_270, "wash"),               // water supply
    (20_000_387, "energy-extractives"), // energy market
    (20_001_354, "health"),             // healthcare industry
    // Environment.
    (20_000_431, "energy-extractives"), // energy resources
    (20_000_433, "agro-forestry"),      // forests
    (20_000_429, "wash"),               // water pollution
    // Politics.
    (20_000_587, "law-governance"),      // fundamental rights
    (20_001_326, "social-gender"),       // women's rights
    (20_000_594, "law-governance"),      // civil and public service
    (20_000_597, "law-governance"),      // constitution (law)
    (20_001_173, "law-governance"),      // regulatory authority
    (20_001_262, "law-governance"),      // public inquiry
    (20_000_612, "urban-development"),   // local government and authority
    (20_001_132, "art-culture"),         // cultural policies
    (20_000_345, "economy-business"),    // economic policy
    (20_001_338, "education"),           // education policy
    (20_000_423, "science-environment"), // environmental policy
    (20_000_479, "health"),              // healthcare policy
    (20_000_626, "law-governance"),      // interior policy
    (20_000_628, "urban-development"),   // housing and urban planning policy
    (20_001_264, "urban-development"),   // infrastructure policy
    (20_001_265, "urban-development"),   // local government policy
    (20_000_634, "social-gender"),       // migration policy
    (20_000_635, "energy-extractives"),  // nuclear policy
    (20_000_636, "law-governance"),      // regulation of industry
    (20_001_147, "sports"),              // sports policies
    (20_000_620, "economy-business"),    // taxation
    // Science and technology.
    (20_000_756, "technology"),    // technology and engineering
    (20_000_759, "agro-forestry"), // agricultural technology
    (20_000_710, "health"),        // biomedical science
    // Society.
    (20_001_290, "urban-development"), // public housing
];

/// Where a sector suggestion came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TagSource {
    /// From the item's subject codes.
    Subject,
    /// From keywords in the headline and body.
    Text,
}

/// One suggested sector.
#[derive(Debug, Clone, PartialEq)]
pub struct SectorTag {
    /// Sector slug of the default taxonomy (`agro-forestry`).
    pub sector: &'static str,
    /// Relative weight; the best sector has 1.0.
    pub score: f32,
    /// What supports it ("medtop:20000210 agriculture", "harvest").
    pub evidence: Vec<String>,
    /// Subject codes or text.
    pub source: TagSource,
}

/// Sector suggestions for an item, best first; the desk may change them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SectorTags {
    /// Suggested sectors, best first.
    pub sectors: Vec<SectorTag>,
}

impl SectorTags {
    /// The best sector, if any.
    pub fn primary(&self) -> Option<&'static str> {
        self.sectors.first().map(|s| s.sector)
    }
}

struct Topics {
    /// code → (broader code or 0, English name)
    topics: HashMap<u32, (u32, &'static str)>,
    /// IPTC Subject Code → Media Topic
    from_subject: HashMap<u32, u32>,
    sectors: HashMap<u32, &'static str>,
}

fn topics() -> &'static Topics {
    static T: OnceLock<Topics> = OnceLock::new();
    T.get_or_init(|| {
        let mut t = Topics {
            topics: HashMap::new(),
            from_subject: HashMap::new(),
            sectors: TOPIC_SECTORS.iter().copied().collect(),
        };
        for line in MEDIATOPICS_TSV.lines() {
            if line.starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            let [code, parent, subj, retired, name] = cols[..] else {
                continue;
            };
            let Ok(code) = code.parse::<u32>() else {
                continue;
            };
            let parent = parent.parse::<u32>().unwrap_or(0);
            t.topics.insert(code, (parent, name));
            if let Ok(s) = subj.parse::<u32>() {
                // Prefer the active topic when several share a Subject Code.
                if retired.is_empty() || !t.from_subject.contains_key(&s) {
                    t.from_subject.insert(s, code);
                }
            }
        }
        t
    })
}

/// Parses the 8-digit code of a subject and resolves it to a Media Topic (Subject Codes are
/// translated). `None` when the code is not a known IPTC code.
fn media_topic(code: &str) -> Option<u32> {
    let t = topics();
    let digits: String = code
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_digit())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if digits.len() != 8 {
        return None;
    }
    let n: u32 = digits.parse().ok()?;
    let lower = code.to_ascii_lowercase();
    let subject_scheme = lower.contains("subj") || lower.starts_with("iptc:");
    if !subject_scheme && t.topics.contains_key(&n) {
        return Some(n);
    }
    // IPTC Subject Code: 2 + 3 + 3 digits; try the code, then its parents.
    for m in [n, n / 1000 * 1000, n / 1_000_000 * 1_000_000] {
        if let Some(&mt) = t.from_subject.get(&m) {
            return Some(mt);
        }
    }
    None
}

/// The sector of one Media Topic code (walking up `broader`), with the topic's name.
fn topic_sector(code: u32) -> Option<(&'static str, &'static str)> {
    let t = topics();
    let name = t.topics.get(&code).map_or("", |x| x.1);
    let mut c = code;
    for _ in 0..10 {
        if let Some(s) = t.sectors.get(&c) {
            return Some((s, name));
        }
        c = t.topics.get(&c)?.0;
        if c == 0 {
            return None;
        }
    }
    None
}

/// Sectors from subject codes: IPTC Media Topics (`medtop:20000210`, or the
/// `http://cv.iptc.org/newscodes/mediatopic/…` URI) and IPTC Subject Codes (`subj:04001000`).
/// Subjects without a scheme (a plain term such as "Sport") are matched with the keyword lexicon.
/// Scores are the share of subjects per sector, relative to the best.
pub fn sectors_from_subjects(subjects: &[WireSubject]) -> Vec<SectorTag> {
    let mut out: Vec<SectorTag> = Vec::new();
    let mut push =
        |sector: &'static str, ev: String| match out.iter_mut().find(|s| s.sector == sector) {
            Some(s) => {
                s.score += 1.0;
                if !s.evidence.contains(&ev) {
                    s.evidence.push(ev);
                }
            }
            None => out.push(SectorTag {
                sector,
                score: 1.0,
                evidence: vec![ev],
                source: TagSource::Subject,
            }),
        };
    for s in subjects {
        let code = s.code.trim();
        if let Some(mt) = media_topic(code) {
            if let Some((sector, name)) = topic_sector(mt) {
                push(sector, format!("{code} {name}").trim().to_string());
            }
        } else if !code.chars().any(|c| c.is_ascii_digit()) {
            let term = s.name.as_deref().unwrap_or(code);
            if let Some(best) = lexicon_scores(term, "").into_iter().next() {
                push(best.0, format!("subject \"{term}\""));
            }
        }
    }
    normalise(&mut out);
    out
}

/// Keyword lexicon, newsdesk's own: per sector, words and phrases (matched on normalised,
/// plural-stripped words). A keyword ending in `~` is weak: it counts [`WEAK`].
#[rustfmt::skip]
pub const LEXICON: &[(&str, &[&str])] = &[
    ("agro-forestry", &[
        "farmland", "drought", "poultry", "dairy", "ranch", "sugar cane",
       
        "agriculture", "agricultural", "farm", "farmer", "farming", "crop", "harvest", "maize",
        "wheat", "rice", "coffee", "cocoa", "livestock", "cattle", "fishery", "fisheries",
        "fishing", "forest", "forestry", "deforestation", "timber", "logging", "irrigation",
        "fertiliser", "fertilizer", "seed~", "locust", "food security", "grain~", "soybean",
        "planting", "agroforestry", "smallholder", "yield~", "pest~", "tree~", "cashew", "cotton",
    ]),
    ("art-culture", &[
        "movie", "hollywood", "box office", "oscar", "singer", "band~", "song~",
        "novelist", "author~", "book~", "celebrity", "television show", "tv show", "sitcom",
        "director~", "opera", "ballet", "fashion", "pop star", "rapper", "grammy", "emmy",
       
        "art~", "artist", "museum", "exhibition", "festival", "film~", "cinema", "music", "musician",
        "concert", "novel", "literature", "theatre", "heritage", "unesco", "culture~", "cultural",
        "painting", "gallery", "dance", "album", "actor", "actress", "poet", "sculpture",
        "artefact", "artifact", "manuscript", "orchestra",
    ]),
    ("technology", &[
        "computer", "pc", "laptop", "desktop", "microsoft", "windows~", "linux",
        "google", "yahoo", "apple~", "ipod", "itune", "intel", "ibm", "amd", "oracle", "sun microsystems",
        "web~", "website", "web site", "browser", "search engine", "wireless", "wi fi", "wifi",
        "network~", "networking", "server", "spam", "spammer", "spyware", "computer virus", "worm",
        "malware", "phishing", "e mail", "email", "download~", "video game", "game console",
        "gaming", "xbox", "playstation", "nintendo", "dvd", "processor", "microprocessor",
        "silicon", "robot", "robotic", "nokia", "motorola", "handset", "cell phone", "cellphone",
        "mobile phone", "phone~", "gadget", "open source", "database", "programmer", "hardware~",
        "electronics~", "electronic~", "device~", "amazon com", "ebay", "dell", "hewlett packard",
        "hp", "cisco", "aol", "napster", "file sharing", "peer to peer", "piracy", "blog",
        "blogger", "user~", "desktop", "operating system", "chipmaker", "isp", "voip",
        "telecommunication", "flat panel", "plasma", "digital music", "mp3", "wireless network",
        "firefox", "mozilla", "internet explorer", "security flaw", "vulnerability", "patch~",
        "sony", "samsung", "nvidia", "pda", "bluetooth", "gigabyte", "megabyte", "storage~",
        "supercomputer", "silicon valley", "tech firm", "upgrade~", "version~",
       
        "technology", "tech", "digital~", "software", "internet", "broadband", "app",
        "artificial intelligence", "ai", "startup", "smartphone", "cyber", "cybersecurity",
        "semiconductor", "chip", "telecom", "telecoms", "5g", "computing", "online~", "data centre",
        "data center", "fintech", "hacker", "algorithm", "mobile money", "connectivity",
    ]),
    ("economy-business", &[
        "share~", "stock market", "nasdaq", "dow", "wall street", "s p",
        "earning", "quarterly", "quarter profit", "net income", "sale~", "retailer", "retail",
        "merger", "acquisition", "acquire", "takeover", "buyout", "ceo", "chief executive",
        "analyst", "forecast", "federal reserve", "fed", "job~", "layoff", "bankruptcy",
        "stake", "dividend", "ipo", "initial public offering", "price~", "consumer", "spending",
        "wal mart", "boeing", "airbus", "automaker", "carmaker", "insurer", "insurance", "firm~",
        "corp~", "inc~", "billion~", "deal~", "shareholder", "chairman~", "executive~",
        "economist", "treasury", "trader", "trading", "commodity", "yen", "sterling", "pound",
        "earnings", "exporter", "manufacturer", "manufacturing", "factory", "output~", "industry~",
        "industrial", "bankrupt", "creditor", "pension", "subsidy", "wage", "payroll", "stock",
        "bankruptcy protection", "sec", "securities", "brokerage", "hedge fund", "mutual fund",
        "deficit", "jobless", "mortgage", "contract~", "supplier~", "customer~", "brand~",
       
        "economy", "economic", "gdp", "inflation", "interest rate", "central bank", "bank",
        "market~", "stock", "investor", "investment~", "trade~", "export", "import", "tariff",
        "business~", "company~", "profit", "revenue", "currency", "debt", "fiscal", "imf",
        "world bank", "growth~", "recession", "loan", "bond", "finance", "unemployment", "tax",
        "lending", "shilling", "rupee", "peso", "naira", "dollar", "euro", "basis point",
    ]),
    ("education", &[
        "education", "school", "student", "teacher", "university", "college", "exam",
        "examination", "curriculum", "literacy", "scholarship", "classroom", "pupil", "enrolment",
        "enrollment", "learning", "tuition", "textbook",
    ]),
    ("energy-extractives", &[
        "oil price", "crude oil", "natural gas", "opec", "exxon", "shell",
        "bp", "yukos", "gasoline", "heating oil", "power station", "utility",
       
        "energy", "nuclear power", "nuclear plant", "nuclear energy", "nuclear reactor", "steel", "steelmaker", "oil", "gas", "petroleum", "crude", "refinery", "pipeline", "mining", "mine",
        "miner", "copper", "gold", "lithium", "cobalt", "coal", "electricity", "power plant",
        "grid", "solar", "wind farm", "renewable", "hydropower", "barrel", "opec",
        "fuel", "diesel", "blackout", "power cut", "megawatt", "gigawatt", "mineral",
    ]),
    ("politics", &[
        "government~", "leader~", "war", "killed~", "kill~", "attack", "bomb", "bombing",
        "blast", "explosion", "suicide bomber", "militant", "insurgent", "insurgency", "gunmen",
        "gunman", "hostage", "kidnap", "kidnapper", "kidnapped", "soldier", "army", "fighting",
        "violence", "peace", 
        "united nations", "un", "security council", "protest", "protester",
        "demonstrator", "embassy", "ambassador", "foreign minister", "envoy", "regime", "hamas",
        "hezbollah", "al qaeda", "taliban", "terror", "terrorist", "terrorism", "nato",
        "dictator", "junta", "president bush", "bush", "kerry", "democrat", "republican",
        "white house", "congress", "congressional", "administration~", "airstrike", "air strike",
        "missile", "shelling", "militia", "guerrilla", "cleric", "shiite", "sunni", "kurd",
        "occupation", "uprising", "massacre", "genocide", "assassination", "assassinate",
        "ruling party", "premier", "chancellor", "king~", "prince~", "monarch", "pope", "vatican",
        "parliamentary", "mp", "governor", "politician", "political~", "policy~", "independence",
        "separatist", "border~", "truce", "negotiation", "negotiator", "foreign~", "defence",
        "defense", "pentagon", "marines", "marine", "iraqi", "interim government", "ministry",
        "state department", "secretary of state", "dead~", "death toll", "wounded", "injuring",
        "raid", "casualty", "civilian", "convoy", "checkpoint", "ceasefire", "cease fire",
       
        "election", "nuclear~", "nuclear weapon", "nuclear program", "nuclear programme", "atomic", "iaea", "vote", "voter", "ballot", "parliament", "president~", "prime minister",
        "minister~", "party", "opposition", "campaign", "candidate", "coalition", "senate",
        "referendum", "diplomatic", "diplomacy", "summit", "sanction", "coup", "ceasefire",
        "troops", "military", "rebel", "peace talks", "lawmaker", "cabinet", "polling",
        "electoral", "incumbent", "constituency",
    ]),
    ("law-governance", &[
        "lawyer", "attorney", "charged~", "accused~", "suspect~",
        "investigation~", "probe~", "murder", "crime", "criminal", "death penalty", "execution",
        "extradition", "jury", "sued", "sue", "lawsuit", "antitrust",
        "guilty", "plead", "plea", "testimony", "detained", "custody", "inmate", "smuggling",
       
        "court", "judge", "law~", "legal~", "lawsuit", "trial", "verdict", "prosecutor", "police",
        "arrest", "corruption", "bribery", "fraud", "constitution", "constitutional", "regulation",
        "regulator", "supreme court", "justice~", "ombudsman", "audit", "governance",
        "transparency", "anti corruption", "ruling~", "appeal~", "jail", "prison", "convicted",
        "acquitted", "embezzlement", "indictment", "sentenced", "graft",
    ]),
    ("health", &[
        "drug~", "fda", "flu", "influenza", "bird flu", "obesity", "obese", "diabetes",
        "heart~", "heart attack", "clinical trial", "pharmaceutical", "sars", "illness",
        "symptom", "diet~", "smoking", "tobacco", "physician", "therapy~", "treatment~", "stroke",
        "alzheimer", "drugmaker", "vioxx", "merck", "pfizer", "prescription", "brain~",
        "blood~", "gene therapy", "health care", "healthcare", "nutrition",
       
        "health", "hospital", "doctor", "nurse", "patient", "disease", "outbreak", "vaccine",
        "vaccination", "virus", "cholera", "malaria", "measles", "ebola", "hiv", "tuberculosis",
        "epidemic", "pandemic", "medicine", "medical", "clinic", "world health organization",
        "mpox", "cancer", "maternal", "infection", "dengue", "polio", "immunisation",
        "immunization", "mosquito", "surgeon",
    ]),
    ("science-environment", &[
        "astronaut", "spacecraft", "mars", "moon", "planet", "asteroid",
        "comet", "rocket", "space shuttle", "shuttle", "space station", "galaxy", "dinosaur",
        "evolution", "gene", "genetic", "genome", "dna", "physicist", "biologist",
        "archaeologist", "extinction", "extinct", "whale", "dolphin", "animal~", "bird~",
        "endangered", "ecosystem", "science", "scientific", "laboratory", "lab", "experiment",
        "cassini", "saturn", "jupiter", "solar system", "satellite~", "esa", "stem cell",
        "cloning", "clone", "chemist", "chemistry", "physics", "biology", "mammal", "insect",
        "fish~", "shark", "ape", "chimpanzee", "monkey", "primate", "global warming",
        "greenhouse gas", "kyoto", "ozone", "arctic", "antarctic", "antarctica", "sea level",
        "environmentalist", "greenpeace", "nature~", "university researcher", "journal~",
       
        "climate", "climate change", "environment", "environmental", "emission", "carbon",
        "pollution", "biodiversity", "wildlife", "specie", "conservation", "scientist", "research~",
        "researcher~", "study~", "space~", "nasa", "telescope", "earthquake", "quake", "flood",
        "flooding", "cyclone", "hurricane", "storm", "heatwave", "rainfall", "weather", "glacier",
        "ocean~", "coral", "reef", "volcano", "magnitude", "tsunami", "wildfire", "landslide",
        "seismic", "aftershock", "typhoon", "fossil", "astronomer", "orbit",
    ]),
    ("social-gender", &[
        "women", "woman", "gender", "girl", "equality", "gender based violence", "child marriage",
        "refugee", "migrant", "displaced", "poverty", "inequality", "welfare", "social protection",
        "disability", "lgbt", "human rights", "domestic violence", "femicide", "maternity leave",
        "feminist", "discrimination", "asylum", "orphan",
    ]),
    ("sports", &[
        "baseball", "colt", "disabled list", "lineup", "halftime", "defenseman", "first round pick", "top seeded", "seeded", "yard", "test series", "one year contract", "signed~", "pitched", "ncaa", "athletics", "long jump", "high jump", "pole vault", "medal~", "olympic games", "world record~", "ice hockey", "seahawk", "buccaneer", "redskin", "oriole", "steeler", "bronco", "laker", "knick", "piston", "packer", "raider", "dodger", "astro", "nugget", "pacer", "basketball", "hockey", "golf", "golfer", "nfl", "nba", "nhl", "mlb",
        "nascar", "pga", "inning", "pitcher", "quarterback", "touchdown", "homer", "home run",
        "playoff", "postseason", "ryder cup", "grand slam", "wimbledon", "team~", "teammate",
        "game~", "victory~", "win~", "won~", "defeat", "beat~", "score~", "scored~", "champion~",
        "racing", "lap", "formula one", "grand prix", "red sox", "yankee", "premier league",
        "champions league", "uefa", "swimmer", "swimming", "gymnast", "gymnastic",
        "boxing", "boxer", "cyclist", "cycling", "tour de france", "season~", "player~", 
        "rout", "sox", "dodger", "astro", 
        "oriole", "packer", "steeler", "raider",
        "bronco", 
        "laker", "celtic", "knick", "piston", "pacer", "nugget", 
        "injury~", "injured~", "hamstring", "ankle~", "knee~", "roster", "rookie",
        "coach~", "umpire", "referee", "fan~", "defending champion", "ncaa",
        "college football", "bowl", "super bowl", "world series", "pennant", "wild card",
        "al east", "nl east", "stanley cup", "lockout", "puck", "slam dunk", "hat trick",
        "olympian", "gold medal", "silver medal", "bronze medal", "ioc", "doping", "steroid",
        "jockey", "horse racing", "derby", "yacht", "rowing", "hurdle", "relay", "decathlon",
        "heavyweight", "linebacker", "receiver", "running back", "cornerback",
        "shortstop", "outfielder", "slugger", "rbi", "walk off", "no hitter", "innings",
        "batsman", "bowler", "test match", "one day international", "goalkeeper", "defender",
        "winger", "premiership", "serie a", "la liga", "bundesliga",
        "clinch", "clinched", "semifinal", "semi final", "quarterfinal", "final round", 
        "birdie", "bogey", "putt", "fairway", "tee", "open championship", "us open",
        "french open", "australian open", "masters", "doubles", "singles", "tiebreak",
       
        "football", "soccer", "match~", "cup~", "league", "tournament", "championship", "olympic",
        "olympics", "athlete", "marathon", "cricket", "rugby", "tennis", "goal~", "coach~",
        "striker", "medal", "fifa", "stadium", "squad", "world cup", "midfielder", "wicket",
        "runner", "sprinter", "title~", "kickoff", "semi final", "quarter final",
    ]),
    ("transport", &[
        "transport", "road~", "highway", "railway", "rail", "train", "airport", "airline", "flight~",
        "port~", "shipping", "bus", "traffic", "vehicle~", "metro", "ferry", "aviation", "freight",
        "motorway", "passenger~", "commuter", "tram", "cargo",
    ]),
    ("urban-development", &[
        "urban", "housing", "slum", "infrastructure", "construction", "municipal", "mayor",
        "city council", "smart city", "urbanisation", "urbanization", "zoning", "real estate",
        "affordable housing", "informal settlement", "public space", "skyscraper", "city planner",
        "urban planning", "eviction", "tenant", "rent", "apartment",
    ]),
    ("wash", &[
        "water", "sanitation", "hygiene", "toilet", "latrine", "clean water", "drinking water",
        "borehole", "wastewater", "sewage", "handwashing", "open defecation", "water supply",
        "wash", "tap", "sewer", "water utility", "faecal", "fecal",
    ]),
];

/// (remaining words, sector, keyword as written, weight)
type LexEntry = (Vec<String>, &'static str, &'static str, f32);

/// Weight of a keyword marked `~` in [`LEXICON`]: a word common in other fields too ("company",
/// "team", "government") counts half.
pub const WEAK: f32 = 0.5;

struct Lexicon {
    /// first stemmed word → (remaining words, sector, display form)
    entries: FnvMap<String, Vec<LexEntry>>,
}

fn lexicon() -> &'static Lexicon {
    static L: OnceLock<Lexicon> = OnceLock::new();
    L.get_or_init(|| {
        let mut entries: FnvMap<String, Vec<LexEntry>> = FnvMap::default();
        for (sector, kws) in LEXICON {
            for kw in *kws {
                let (kw, weight) = match kw.strip_suffix('~') {
                    Some(k) => (k, WEAK),
                    None => (*kw, 1.0),
                };
                let ws: Vec<String> = words(kw)
                    .iter()
                    .map(|w| light_stem(&w.norm).to_string())
                    .collect();
                if let Some((first, rest)) = ws.split_first() {
                    entries.entry(first.clone()).or_default().push((
                        rest.to_vec(),
                        sector,
                        kw,
                        weight,
                    ));
                }
            }
        }
        for list in entries.values_mut() {
            list.sort_by_key(|e| std::cmp::Reverse(e.0.len()));
        }
        Lexicon { entries }
    })
}

/// (sector, raw score, evidence) per sector, best first. Headline hits count double; each
/// keyword counts at most twice per part.
fn lexicon_scores(headline: &str, body: &str) -> Vec<(&'static str, f32, Vec<String>)> {
    lexicon_scores_tokens(&Tokens::new(headline), &Tokens::new(body))
}

/// [`lexicon_scores`] of words already split.
fn lexicon_scores_tokens(
    headline: &Tokens,
    body: &Tokens,
) -> Vec<(&'static str, f32, Vec<String>)> {
    let lex = lexicon();
    let mut acc: Vec<(&'static str, f32, Vec<String>)> = Vec::new();
    for (tokens, weight) in [(headline, 2.0_f32), (body, 1.0_f32)] {
        // The stemmed words (slices of the tokens' buffer: no allocation per word).
        let ws: Vec<&str> = tokens.words().map(light_stem).collect();
        let mut counts: FnvMap<&'static str, u32> = FnvMap::default();
        let mut i = 0;
        while i < ws.len() {
            let mut consumed = 1;
            if let Some(list) = lex.entries.get(ws[i]) {
                for (rest, sector, kw, kw_weight) in list {
                    let weight = weight * kw_weight;
                    let n = rest.len() + 1;
                    if i + n <= ws.len() && ws[i + 1..i + n].iter().zip(rest).all(|(a, b)| *a == b)
                    {
                        consumed = n;
                        let c = counts.entry(kw).or_insert(0);
                        *c += 1;
                        if *c <= 2 {
                            match acc.iter_mut().find(|a| a.0 == *sector) {
                                Some(a) => {
                                    a.1 += weight;
                                    if !a.2.iter().any(|e| e == kw) {
                                        a.2.push((*kw).to_string());
                                    }
                                }
                                None => acc.push((sector, weight, vec![(*kw).to_string()])),
                            }
                        }
                        break;
                    }
                }
            }
            i += consumed;
        }
    }
    acc.sort_by(|a, b| b.1.total_cmp(&a.1));
    acc
}

/// Minimum raw lexicon score for a text sector (e.g. one headline keyword, or two in the body).
pub const TEXT_MIN_SCORE: f32 = 2.0;
/// The best text sector needs only this raw score (one weak body keyword): a short item that names
/// one thing of its field ("the Red Sox", "shares fell") still gets a sector.
pub const PRIMARY_MIN_SCORE: f32 = 0.5;
/// A text sector is suggested when its raw score is at least this fraction of the best one's.
pub const TEXT_CUTOFF: f32 = 0.6;

const DEFINITIONS_TSV: &str = include_str!("../data/mediatopic-definitions.tsv");

/// A multinomial naive Bayes model over light-stemmed words (stop words skipped), one class per
/// sector, with add-one smoothing and equal priors. The shipped model ([`word_model`]) is trained
/// on the IPTC Media Topic names and definitions (each topic counts for the sector its code maps
/// to) and on the lexicon's own keywords; [`WordModel::train`] is public so that tests can show
/// what the method does with other training text.
#[derive(Debug, Clone)]
pub struct WordModel {
    sectors: Vec<&'static str>,
    /// stem → log P(stem | sector), one per entry of `sectors`
    weights: FnvMap<String, Vec<f32>>,
}

impl WordModel {
    /// Trains from (sector, text) pairs.
    pub fn train<'a>(docs: impl IntoIterator<Item = (&'static str, &'a str)>) -> WordModel {
        let mut sectors: Vec<&'static str> = Vec::new();
        let mut counts: FnvMap<String, Vec<f32>> = FnvMap::default();
        let mut docs_v: Vec<(usize, &'a str)> = Vec::new();
        for (sector, text) in docs {
            let i = match sectors.iter().position(|s| *s == sector) {
                Some(i) => i,
                None => {
                    sectors.push(sector);
                    sectors.len() - 1
                }
            };
            docs_v.push((i, text));
        }
        let n = sectors.len();
        let mut totals = vec![0f32; n];
        for (i, text) in docs_v {
            each_word(text, |w| {
                if is_stopword(w) {
                    return;
                }
                let c = counts
                    .entry(light_stem(w).to_string())
                    .or_insert_with(|| vec![0.0; n]);
                c[i] += 1.0;
                totals[i] += 1.0;
            });
        }
        let vocab = counts.len() as f32;
        for c in counts.values_mut() {
            for (i, x) in c.iter_mut().enumerate() {
                *x = ((*x + 1.0) / (totals[i] + vocab)).ln();
            }
        }
        WordModel {
            sectors,
            weights: counts,
        }
    }

    /// Posterior probability per sector for `text` (headline words count twice when the caller
    /// passes the headline twice), best first; empty when no word of `text` is known.
    pub fn posterior(&self, parts: &[&str]) -> Vec<(&'static str, f32)> {
        let mut acc = vec![0f32; self.sectors.len()];
        let mut known = 0;
        for text in parts {
            each_word(text, |w| {
                if let Some(ws) = self.weights.get(light_stem(w)) {
                    known += 1;
                    for (a, x) in acc.iter_mut().zip(ws) {
                        *a += x;
                    }
                }
            });
        }
        if known == 0 {
            return Vec::new();
        }
        let max = acc.iter().copied().fold(f32::MIN, f32::max);
        let sum: f32 = acc.iter().map(|a| (a - max).exp()).sum();
        let mut out: Vec<(&'static str, f32)> = self
            .sectors
            .iter()
            .zip(&acc)
            .map(|(s, a)| (*s, (a - max).exp() / sum))
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        out
    }
}

/// The shipped word model: IPTC Media Topic names and definitions (CC BY 4.0, credit IPTC) and
/// the lexicon keywords, each labelled with its sector.
pub fn word_model() -> &'static WordModel {
    static M: OnceLock<WordModel> = OnceLock::new();
    M.get_or_init(|| {
        let mut docs: Vec<(&'static str, String)> = Vec::new();
        for line in DEFINITIONS_TSV.lines() {
            if line.starts_with('#') {
                continue;
            }
            let Some((code, def)) = line.split_once('\t') else {
                continue;
            };
            let Ok(code) = code.parse::<u32>() else {
                continue;
            };
            if let Some((sector, name)) = topic_sector(code) {
                docs.push((sector, format!("{name} {def}")));
            }
        }
        for (sector, kws) in LEXICON {
            for kw in *kws {
                docs.push((sector, kw.trim_end_matches('~').to_string()));
            }
        }
        WordModel::train(docs.iter().map(|(s, d)| (*s, d.as_str())))
    })
}

/// Weight of the word model in the text score: its posterior times this is added to the
/// lexicon's raw score of each sector (a lexicon headline hit is 2).
pub const MODEL_WEIGHT: f32 = 1.0;
/// The word model is consulted only when the lexicon's best sector leads the second by less than
/// this raw score (a clear lexicon decision costs nothing more).
pub const MODEL_MARGIN: f32 = 1.0;
/// The word model reads the headline and at most this many bytes of the body (about 170 words).
pub const MODEL_TEXT_BYTES: usize = 1000;

/// Sectors from the keyword lexicon ([`LEXICON`]) for items without subject codes. Raw score:
/// 2 per headline hit, 1 per body hit, each keyword at most twice per part; when the lexicon's
/// lead is under [`MODEL_MARGIN`], the word model's posterior times [`MODEL_WEIGHT`] is added.
/// Sectors under [`TEXT_MIN_SCORE`] or under [`TEXT_CUTOFF`] of the best are dropped; scores are
/// then relative to the best. `body` is plain text.
pub fn sectors_from_text(headline: &str, body: &str) -> Vec<SectorTag> {
    sectors_from_text_with(headline, body, word_model(), MODEL_WEIGHT, MODEL_MARGIN)
}

/// [`sectors_from_text`] with the headline's and body's words already split.
pub fn sectors_from_tokens(
    headline: &str,
    headline_tokens: &Tokens,
    body: &str,
    body_tokens: &Tokens,
) -> Vec<SectorTag> {
    let scored = lexicon_scores_tokens(headline_tokens, body_tokens);
    sectors_from_scores(
        scored,
        headline,
        body,
        word_model(),
        MODEL_WEIGHT,
        MODEL_MARGIN,
    )
}

/// [`sectors_from_text`] with a given word model, weight and margin (for measuring).
pub fn sectors_from_text_with(
    headline: &str,
    body: &str,
    model: &WordModel,
    weight: f32,
    margin: f32,
) -> Vec<SectorTag> {
    sectors_from_scores(
        lexicon_scores(headline, body),
        headline,
        body,
        model,
        weight,
        margin,
    )
}

fn sectors_from_scores(
    mut scored: Vec<(&'static str, f32, Vec<String>)>,
    headline: &str,
    body: &str,
    model: &WordModel,
    weight: f32,
    margin: f32,
) -> Vec<SectorTag> {
    let lead = match scored.as_slice() {
        [] => 0.0,
        [a] => a.1,
        [a, b, ..] => a.1 - b.1,
    };
    if weight > 0.0 && lead < margin {
        // The lead of the story is enough to break a tie, and bounds the extra work per item.
        let mut end = body.len().min(MODEL_TEXT_BYTES);
        while !body.is_char_boundary(end) {
            end -= 1;
        }
        for (sector, p) in model.posterior(&[headline, headline, &body[..end]]) {
            let add = weight * p;
            if add < 0.05 * weight {
                continue;
            }
            match scored.iter_mut().find(|a| a.0 == sector) {
                Some(a) => a.1 += add,
                None => scored.push((sector, add, Vec::new())),
            }
            if p >= 0.5 {
                if let Some(a) = scored.iter_mut().find(|a| a.0 == sector) {
                    a.2.push(format!("word model {p:.2}"));
                }
            }
        }
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    }
    let best = scored.first().map_or(0.0, |s| s.1);
    let mut out: Vec<SectorTag> = scored
        .into_iter()
        .enumerate()
        .filter(|(i, s)| {
            if *i == 0 {
                s.1 >= PRIMARY_MIN_SCORE
            } else {
                s.1 >= TEXT_MIN_SCORE && s.1 >= TEXT_CUTOFF * best
            }
        })
        .map(|(_, s)| s)
        .map(|(sector, score, evidence)| SectorTag {
            sector,
            score,
            evidence,
            source: TagSource::Text,
        })
        .collect();
    normalise(&mut out);
    out
}

fn normalise(tags: &mut [SectorTag]) {
    tags.sort_by(|a, b| b.score.total_cmp(&a.score));
    if let Some(best) = tags.first().map(|t| t.score).filter(|s| *s > 0.0) {
        for t in tags.iter_mut() {
            t.score /= best;
        }
    }
}

/// Sector suggestions for an item: from its subject codes when any maps to a sector (subjects
/// win), otherwise from its headline, summary and body text.
pub fn tag_sector(item: &WireItem) -> SectorTags {
    tag_sector_plain(item, &html_to_text(&item.body_html))
}

/// [`tag_sector_plain`] with the headline and `summary + "\n" + body text` (`body`) already split
/// into words: the same tags.
pub fn tag_sector_tokens(
    item: &WireItem,
    headline_tokens: &Tokens,
    body: &str,
    body_tokens: &Tokens,
) -> SectorTags {
    let from_subjects = sectors_from_subjects(&item.subjects);
    if !from_subjects.is_empty() {
        return SectorTags {
            sectors: from_subjects,
        };
    }
    SectorTags {
        sectors: sectors_from_tokens(&item.headline, headline_tokens, body, body_tokens),
    }
}

/// [`tag_sector`] with the item's body already turned into plain text (the wire desk computes it
/// once per item for hashing, clustering and both taggers).
pub fn tag_sector_plain(item: &WireItem, body_text: &str) -> SectorTags {
    let from_subjects = sectors_from_subjects(&item.subjects);
    if !from_subjects.is_empty() {
        return SectorTags {
            sectors: from_subjects,
        };
    }
    let body = format!("{}\n{}", item.summary, body_text);
    SectorTags {
        sectors: sectors_from_text(&item.headline, &body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subj(code: &str) -> WireSubject {
        WireSubject {
            code: code.into(),
            name: None,
        }
    }

    #[test]
    fn top_levels_and_descendants_map() {
        let s = |c: &str| sectors_from_subjects(&[subj(c)]).first().map(|t| t.sector);
        assert_eq!(s("medtop:15000000"), Some("sports"));
        // athletics (level 3 under sport) → sports
        assert_eq!(s("medtop:20000827"), Some("sports"));
        // discus throw (level 4) → sports
        assert_eq!(s("medtop:20000830"), Some("sports"));
        // wind power (level 5, under renewable energy / energy and resource) → energy
        assert_eq!(s("medtop:20001211"), Some("energy-extractives"));
        // agriculture under economy → agro-forestry
        assert_eq!(
            s("http://cv.iptc.org/newscodes/mediatopic/20000210"),
            Some("agro-forestry")
        );
        // artificial intelligence → technology
        assert_eq!(s("medtop:20001298"), Some("technology"));
        // water supply (under utilities) → wash
        assert_eq!(s("medtop:20000270"), Some("wash"));
        // Subject Code for sport → sports
        assert_eq!(s("subj:15000000"), Some("sports"));
        assert_eq!(s("medtop:99999999"), None);
        // Plain term.
        assert_eq!(s("Football"), Some("sports"));
    }

    #[test]
    fn every_mapped_code_exists() {
        let t = topics();
        for (code, sector) in TOPIC_SECTORS {
            assert!(t.topics.contains_key(code), "{code}");
            assert!(newsdesk_domain::DEFAULT_SECTORS
                .iter()
                .any(|s| s.0 == *sector));
        }
        for (sector, _) in LEXICON {
            assert!(newsdesk_domain::DEFAULT_SECTORS
                .iter()
                .any(|s| s.0 == *sector));
        }
    }

    #[test]
    fn text_lexicon() {
        let t = sectors_from_text(
            "Farmers brace for poor maize harvest",
            "Smallholder farmers said the crop failed after the rains came late.",
        );
        assert_eq!(t[0].sector, "agro-forestry");
        assert!(t[0].evidence.iter().any(|e| e == "harvest"));
        assert!(sectors_from_text("Hello", "Nothing here.").is_empty());
    }

    #[test]
    fn tags_from_words_split_once_are_the_same() {
        let head = "Red Sox beat Yankees as shares of Alcoa fall";
        let body = "\nBOSTON (AP) - The Red Sox won 5-3. Alcoa shares fell 4 percent in New York.";
        let (ht, bt) = (Tokens::new(head), Tokens::new(body));
        assert_eq!(
            sectors_from_tokens(head, &ht, body, &bt),
            sectors_from_text(head, body)
        );
        let g = crate::region::Gazetteer::global();
        assert_eq!(
            g.tag_region_tokens(head, &ht, body, &bt, &[]),
            g.tag_region(head, body, &[])
        );
    }

    #[test]
    fn word_model_tags_what_the_lexicon_misses() {
        // No lexicon keyword; the IPTC definitions of archery and curling are sport.
        let t = sectors_from_text("Archers aim at curling stones", "");
        assert_eq!(t.first().map(|t| t.sector), Some("sports"));
        assert!(t[0].evidence.iter().any(|e| e.starts_with("word model")));
        assert!(sectors_from_text("Hello", "Nothing here.").is_empty());
        let m = WordModel::train([("sports", "goal match"), ("health", "virus vaccine")]);
        assert_eq!(m.posterior(&["vaccine"])[0].0, "health");
        assert!(m.posterior(&["unknown"]).is_empty());
    }
}
