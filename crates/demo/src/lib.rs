//! Demo content for newsdesk: the default taxonomy, people, tags, static pages, generated
//! illustrations and a month of plausible development-news stories, all from one seed.
//!
//! Everything is composed from word lists written for this crate (see `words.rs`) by a small
//! deterministic generator: the same seed and `now` always give the same site.
//!
//! Besides the `opts.stories` public stories, [`seed`] always adds three stories that must never
//! be public at `now`: one embargoed ("EMBARGOED: ..."), one scheduled for later ("SCHEDULED: ...")
//! and one draft ("DRAFT: ..."). They exist so that every surface can be checked for leaks.

mod compose;
mod pages;
pub mod png;
mod rng;
pub mod wire;
mod words;

pub use wire::{wire_items, DEMO_AGENCIES, DEMO_WIRE_EVENTS};

use anyhow::{anyhow, bail, Context as _};
use chrono::{DateTime, Datelike, Duration, Utc};
use newsdesk_domain::*;
use newsdesk_store::Store;
use rng::Rng;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// How many public stories a default demo site has.
pub const DEFAULT_STORIES: usize = 360;
/// How many distinct illustrations are generated.
pub const IMAGE_COUNT: usize = 40;
/// Widths every illustration is rendered at (16:9).
pub const IMAGE_WIDTHS: [u32; 3] = [480, 800, 1200];
/// Stories saved per transaction.
const CHUNK: usize = 1000;

/// What to generate.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Number of public stories (default [`DEFAULT_STORIES`]); three non-public ones are added.
    pub stories: usize,
    /// The instant the content is generated for: stories spread over the 30 days before it.
    pub now: DateTime<Utc>,
    /// Seed of the generator; the same seed gives the same content.
    pub seed: u64,
    /// Folder the image files are written to (created if missing).
    pub media_dir: PathBuf,
}

impl DemoOptions {
    /// Default size and seed, at `now`, with images in `media_dir`.
    pub fn new(now: DateTime<Utc>, media_dir: impl Into<PathBuf>) -> Self {
        Self {
            stories: DEFAULT_STORIES,
            now,
            seed: 1,
            media_dir: media_dir.into(),
        }
    }
}

/// What [`seed`] created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoReport {
    /// Public stories (`opts.stories`); the three non-public test stories are not counted.
    pub stories: usize,
    /// Images (each with three PNG files).
    pub images: usize,
    /// Sectors.
    pub sectors: usize,
    /// Editions.
    pub editions: usize,
}

/// Seeds an EMPTY store with the default taxonomy and generated content.
///
/// Refuses (error) if the store already has stories. See the crate docs for the three extra
/// non-public stories.
///
/// Painting the images and rendering the bodies is CPU work done on scoped threads while this
/// future is polled (a second or two for the default size, seconds for 100,000 stories in a
/// release build); call it at start-up or from a blocking-tolerant task.
pub async fn seed(store: &dyn Store, opts: &DemoOptions) -> anyhow::Result<DemoReport> {
    let existing = store.count_stories().await?;
    if existing > 0 {
        bail!(
            "the store already has {existing} stories; demo content goes only into an empty store"
        );
    }
    let now = DateTime::<Utc>::from_timestamp(opts.now.timestamp(), 0)
        .ok_or_else(|| anyhow!("`now` is out of range"))?;
    let mut rng = Rng::new(opts.seed);

    let tax = seed_taxonomy(store).await?;
    seed_pages(store, now).await?;
    let images = seed_images(store, &opts.media_dir, &mut rng.fork(1)).await?;

    let mut gen = Generator {
        tax: &tax,
        images: &images,
        now,
        rng: rng.fork(2),
        used_slugs: HashSet::with_capacity(opts.stories + 8),
        slug_counters: HashMap::new(),
    };
    gen.stories(store, opts.stories).await?;

    Ok(DemoReport {
        stories: opts.stories,
        images: images.all.len(),
        sectors: tax.sectors.len(),
        editions: tax.editions.len(),
    })
}

/// Ids of what [`seed_taxonomy`] created.
struct Taxonomy {
    sectors: Vec<SectorId>,
    editions: Vec<EditionId>,
    desks: Vec<DeskId>,
    /// (id, home edition index)
    authors: Vec<(AuthorId, usize)>,
    /// Tag ids by tag name.
    tags: HashMap<&'static str, TagId>,
}

fn slug(s: &str) -> anyhow::Result<Slug> {
    Slug::parse(s).with_context(|| format!("bad built-in slug {s:?}"))
}

async fn seed_taxonomy(store: &dyn Store) -> anyhow::Result<Taxonomy> {
    let mut sectors = Vec::with_capacity(DEFAULT_SECTORS.len());
    for (i, (s, name)) in DEFAULT_SECTORS.iter().enumerate() {
        sectors.push(store.upsert_sector(&slug(s)?, name, i as i32).await?.id);
    }
    let mut editions = Vec::with_capacity(DEFAULT_EDITIONS.len());
    for (i, (s, name, tz)) in DEFAULT_EDITIONS.iter().enumerate() {
        let tz: chrono_tz::Tz = tz.parse().map_err(|e| anyhow!("time zone {tz}: {e}"))?;
        editions.push(
            store
                .upsert_edition(&slug(s)?, name, tz, i as i32)
                .await?
                .id,
        );
    }
    let mut desks = Vec::with_capacity(words::DESKS.len());
    for (s, name) in words::DESKS {
        desks.push(store.upsert_desk(&slug(s)?, name).await?.id);
    }
    let mut authors = Vec::with_capacity(words::AUTHORS.len());
    for (name, bio, desk, home) in words::AUTHORS {
        let s = Slug::from_title(name, "author");
        let a = store
            .upsert_author(&s, name, bio, desk.map(|d| desks[d]))
            .await?;
        authors.push((a.id, home));
    }
    let mut tags = HashMap::new();
    let mut tag_slugs = HashSet::new();
    let names = words::SECTORS
        .iter()
        .flat_map(|w| w.tags.iter())
        .chain(words::GENERAL_TAGS.iter());
    for name in names {
        if tags.contains_key(name) {
            continue;
        }
        let s = Slug::from_title(name, "tag");
        if !tag_slugs.insert(s.clone()) {
            bail!("two demo tags share the slug {s}");
        }
        tags.insert(*name, store.upsert_tag(&s, name).await?.id);
    }
    Ok(Taxonomy {
        sectors,
        editions,
        desks,
        authors,
        tags,
    })
}

async fn seed_pages(store: &dyn Store, now: DateTime<Utc>) -> anyhow::Result<()> {
    for (i, (s, title, md)) in pages::PAGES.iter().enumerate() {
        store
            .upsert_page(&StaticPage {
                slug: slug(s)?,
                title: (*title).to_owned(),
                body_md: (*md).to_owned(),
                body_html: newsdesk_render::markdown_to_safe_html(md),
                position: i as i32 + 1,
                updated_at: now,
            })
            .await?;
    }
    Ok(())
}

/// Ids of the generated images.
struct Images {
    all: Vec<ImageId>,
    by_sector: Vec<Vec<ImageId>>,
}

/// One illustration to generate.
struct ImageSpec {
    key: String,
    sector: usize,
    picture: png::Picture,
}

async fn seed_images(store: &dyn Store, dir: &Path, rng: &mut Rng) -> anyhow::Result<Images> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let specs: Vec<ImageSpec> = (0..IMAGE_COUNT)
        .map(|i| {
            let sector = i % words::SECTORS.len();
            let mut params = [0f32; 16];
            for p in &mut params {
                *p = rng.unit() as f32;
            }
            ImageSpec {
                key: format!("demo-{:04}", i + 1),
                sector,
                picture: png::Picture {
                    style: png::Style::ALL[i % png::Style::ALL.len()],
                    palette: words::SECTORS[sector].palette,
                    params,
                },
            }
        })
        .collect();
    write_image_files(&specs, dir)?;

    let mut all = Vec::with_capacity(specs.len());
    let mut by_sector = vec![Vec::new(); words::SECTORS.len()];
    for spec in &specs {
        let w = &words::SECTORS[spec.sector];
        let sector_name = DEFAULT_SECTORS[spec.sector].1;
        let topic =
            w.topics[(spec.picture.params[15] * w.topics.len() as f32) as usize % w.topics.len()];
        let (largest, _) = largest_size();
        let img = store
            .insert_image(&ImageInput {
                key: spec.key.clone(),
                ext: "png".to_owned(),
                alt: format!(
                    "Abstract illustration of {} in {} tones for {sector_name}",
                    spec.picture.style.describe(),
                    w.tone
                ),
                caption: format!("Illustration for our {sector_name} coverage: {topic}."),
                credit: "Illustration: newsdesk".to_owned(),
                width: largest,
                height: largest * 9 / 16,
                widths: IMAGE_WIDTHS.to_vec(),
            })
            .await?;
        all.push(img.id);
        by_sector[spec.sector].push(img.id);
    }
    Ok(Images { all, by_sector })
}

fn largest_size() -> (u32, u32) {
    let w = IMAGE_WIDTHS[IMAGE_WIDTHS.len() - 1];
    (w, w * 9 / 16)
}

/// Paints and writes every variant of every image, on all cores.
fn write_image_files(specs: &[ImageSpec], dir: &Path) -> anyhow::Result<()> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let jobs: Vec<(&ImageSpec, u32)> = specs
        .iter()
        .flat_map(|s| IMAGE_WIDTHS.iter().rev().map(move |&w| (s, w)))
        .collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let jobs = &jobs;
                scope.spawn(move || -> anyhow::Result<()> {
                    for (spec, width) in jobs.iter().skip(t).step_by(threads) {
                        let (height, rgb) = spec.picture.paint(*width);
                        let bytes = png::encode_rgb(*width, height, &rgb)?;
                        let path = dir.join(format!("{}-{width}.png", spec.key));
                        std::fs::write(&path, bytes)
                            .with_context(|| format!("writing {}", path.display()))?;
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join()
                .map_err(|_| anyhow!("an image worker panicked"))??;
        }
        Ok(())
    })
}

/// Share of each kind among the public stories, in per cent.
const KIND_MIX: [(Kind, usize); 7] = [
    (Kind::News, 45),
    (Kind::Opinion, 10),
    (Kind::Blog, 9),
    (Kind::Interview, 8),
    (Kind::Analysis, 10),
    (Kind::Short, 10),
    (Kind::PressRelease, 8),
];

/// Headline of the newest public story: longer than most titles, to exercise title cutting.
const LONG_HEADLINE: &str = "Across the Sahel, farmers, herders, teachers and nurses describe how years of failed rains, rising food prices and shrinking aid budgets have reshaped everyday life in their villages";
/// Headline of the second newest public story: non-Latin script.
const NEPALI_HEADLINE: &str =
    "Nepal's mountain schools reopen after monsoon landslides — नेपालका विद्यालय फेरि खुले";

/// A story that is never public at `now`.
#[derive(Clone, Copy)]
enum Hidden {
    Embargoed,
    Scheduled,
    Draft,
}

struct Generator<'a> {
    tax: &'a Taxonomy,
    images: &'a Images,
    now: DateTime<Utc>,
    rng: Rng,
    used_slugs: HashSet<String>,
    slug_counters: HashMap<String, u32>,
}

/// Per-story choices that the text depends on.
struct Overrides {
    headline: Option<&'static str>,
    edition: Option<usize>,
    place: Option<(&'static str, &'static str)>,
    sector: Option<usize>,
}

const NO_OVERRIDES: Overrides = Overrides {
    headline: None,
    edition: None,
    place: None,
    sector: None,
};

impl Generator<'_> {
    async fn stories(&mut self, store: &dyn Store, n: usize) -> anyhow::Result<()> {
        let plan = self.plan(n);
        let mut chunk = Vec::with_capacity(CHUNK.min(n + 3));
        for (i, (kind, age)) in plan.into_iter().enumerate() {
            chunk.push(self.public_story(i, n, kind, age)?);
            if chunk.len() == CHUNK {
                flush(store, &mut chunk).await?;
            }
        }
        for hidden in [Hidden::Embargoed, Hidden::Scheduled, Hidden::Draft] {
            let s = self.hidden_story(hidden)?;
            chunk.push(s);
        }
        flush(store, &mut chunk).await
    }

    /// Kind and age (seconds before now) of each of `n` public stories, oldest first, so ids
    /// grow with time. Kind shares are exact, in shuffled order.
    fn plan(&mut self, n: usize) -> Vec<(Kind, i64)> {
        let mut kinds = Vec::with_capacity(n);
        for (k, pct) in KIND_MIX.iter().skip(1) {
            kinds.extend(std::iter::repeat_n(*k, n * pct / 100));
        }
        kinds.resize(n, Kind::News);
        for i in (1..kinds.len()).rev() {
            let j = self.rng.below(i + 1);
            kinds.swap(i, j);
        }
        let mut ages: Vec<i64> = (0..n)
            .map(|_| self.rng.range(90, 30 * 86_400 - 60))
            .collect();
        ages.sort_unstable_by(|a, b| b.cmp(a));
        kinds.into_iter().zip(ages).collect()
    }

    /// The `i`th of `n` public stories; the newest two have the special headlines.
    fn public_story(
        &mut self,
        i: usize,
        n: usize,
        kind: Kind,
        age: i64,
    ) -> anyhow::Result<StoryInput> {
        let over = if i + 1 == n {
            Overrides {
                headline: Some(LONG_HEADLINE),
                edition: Some(8),
                place: Some(("Mali", "Bamako")),
                sector: Some(0),
            }
        } else if i + 2 == n {
            Overrides {
                headline: Some(NEPALI_HEADLINE),
                edition: Some(2),
                place: Some(("Nepal", "Kathmandu")),
                sector: Some(4),
            }
        } else {
            NO_OVERRIDES
        };
        let kind = if over.headline.is_some() {
            Kind::News
        } else {
            kind
        };
        self.story(kind, self.now - Duration::seconds(age), &over)
    }

    fn hidden_story(&mut self, which: Hidden) -> anyhow::Result<StoryInput> {
        let now = self.now;
        let (prefix, created) = match which {
            Hidden::Embargoed => ("EMBARGOED: ", now - Duration::hours(3)),
            Hidden::Scheduled => ("SCHEDULED: ", now - Duration::days(1)),
            Hidden::Draft => ("DRAFT: ", now - Duration::hours(2)),
        };
        let mut s = self.story(Kind::News, created, &NO_OVERRIDES)?;
        let headline = format!("{prefix}{}", s.headline);
        s.headline = Headline::parse(&headline)?;
        s.slug = self.unique_slug(&headline)?;
        s.updated_at = created;
        // Keep them out of rankings: they are test fixtures, not front-page material.
        for p in &mut s.placements {
            p.rank = None;
        }
        match which {
            Hidden::Embargoed => {
                s.published_at = Some(now - Duration::hours(1));
                s.embargo_until = Some(now + Duration::hours(6));
                s.updated_at = now - Duration::hours(1);
            }
            Hidden::Scheduled => {
                s.status = StoryStatus::Scheduled;
                s.published_at = Some(now + Duration::hours(2));
            }
            Hidden::Draft => {
                s.status = StoryStatus::Draft;
                s.published_at = None;
            }
        }
        Ok(s)
    }

    fn unique_slug(&mut self, headline: &str) -> anyhow::Result<Slug> {
        let base = Slug::from_title(headline, "story");
        if self.used_slugs.insert(base.as_str().to_owned()) {
            return Ok(base);
        }
        let counter = self
            .slug_counters
            .entry(base.as_str().to_owned())
            .or_insert(1);
        loop {
            *counter += 1;
            let candidate = format!("{base}-{counter}");
            if self.used_slugs.insert(candidate.clone()) {
                return Slug::parse(&candidate).with_context(|| format!("slug {candidate}"));
            }
        }
    }

    /// One published story created at `created`.
    fn story(
        &mut self,
        kind: Kind,
        created: DateTime<Utc>,
        over: &Overrides,
    ) -> anyhow::Result<StoryInput> {
        let rng = &mut self.rng;
        let sector = over
            .sector
            .unwrap_or_else(|| rng.below(words::SECTORS.len()));
        let w = &words::SECTORS[sector];
        let edition = over.edition.unwrap_or_else(|| {
            if rng.chance(0.15) {
                0
            } else {
                1 + rng.below(words::PLACES.len() - 1)
            }
        });
        let global = edition == 0;
        let (country, city) = over.place.unwrap_or_else(|| {
            if global {
                // A global story may still be told from somewhere.
                let e = 1 + rng.below(words::PLACES.len() - 1);
                *rng.pick(words::PLACES[e])
            } else {
                *rng.pick(words::PLACES[edition])
            }
        });
        let (in_, region_word, region_label, dateline) = if global {
            let (i, r) = *rng.pick(words::GLOBAL_WHERE);
            let hub = rng.pick(words::PLACES[0]).1;
            (i.to_owned(), r.to_owned(), "Global".to_owned(), hub)
        } else {
            let named = if words::THE_COUNTRIES.contains(&country) {
                format!("the {country}")
            } else {
                country.to_owned()
            };
            (format!("in {named}"), named, country.to_owned(), city)
        };
        let t = rng.distinct(w.topics.len(), 2);
        let a = rng.distinct(w.actors.len(), 2);
        let g = rng.distinct(w.goals.len(), 2);
        let weekday = created.format("%A").to_string();
        let date = created.format("%-d %B %Y").to_string();
        let ctx = compose::Ctx {
            w,
            sector: DEFAULT_SECTORS[sector].1,
            in_: &in_,
            region: &region_word,
            global,
            city,
            dateline,
            topic: w.topics[t[0]],
            topic2: w.topics[t[1]],
            actor: w.actors[a[0]],
            actor2: w.actors[a[1]],
            goal: w.goals[g[0]],
            goal2: w.goals[g[1]],
            org: rng.pick_copy(w.orgs),
            voices: words::VOICES[edition],
            weekday: &weekday,
            date: &date,
            year: created.year(),
        };
        let mut text = compose::compose(kind, &ctx, rng);
        if let Some(h) = over.headline {
            h.clone_into(&mut text.headline);
        }

        // Editions and ranks.
        let tax = self.tax;
        let mut placements = vec![Placement {
            edition_id: tax.editions[0],
            rank: None,
        }];
        if !global {
            placements.push(Placement {
                edition_id: tax.editions[edition],
                rank: None,
            });
            if rng.chance(0.15) {
                let mut other = 1 + rng.below(tax.editions.len() - 1);
                if other == edition {
                    other = 1 + other % (tax.editions.len() - 1);
                }
                placements.push(Placement {
                    edition_id: tax.editions[other],
                    rank: None,
                });
            }
        }
        let recent = self.now - created <= Duration::days(2);
        if recent && rng.chance(1.0 / 3.0) {
            let primary = if global { 0 } else { 1 };
            placements[primary].rank = Some(rng.range(1, 8) as i32);
            if !global && rng.chance(0.4) {
                placements[0].rank = Some(rng.range(1, 8) as i32);
            }
        }

        // Bylines.
        let desk_byline = match kind {
            Kind::News => rng.chance(0.75),
            Kind::Short | Kind::PressRelease => true,
            _ => false,
        };
        let (desk_id, author_ids) = if desk_byline {
            let d = if sector == 3 && rng.chance(0.6) {
                4
            } else {
                match edition {
                    2 if rng.chance(0.7) => 1,
                    5..=8 if rng.chance(0.7) => 2,
                    11 if rng.chance(0.7) => 3,
                    _ => 0,
                }
            };
            (Some(tax.desks[d]), Vec::new())
        } else {
            let k = if rng.chance(0.25) { 2 } else { 1 };
            let locals: Vec<AuthorId> = tax
                .authors
                .iter()
                .filter(|(_, home)| *home == edition)
                .map(|(id, _)| *id)
                .collect();
            let mut ids: Vec<AuthorId> = Vec::with_capacity(k);
            while ids.len() < k {
                let id = if !locals.is_empty() && rng.chance(0.6) {
                    *rng.pick(&locals)
                } else {
                    rng.pick(&tax.authors).0
                };
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            (None, ids)
        };

        // Tags: 1-3 of the sector, 0-2 general, 2-5 in all.
        let mut tag_ids: Vec<TagId> = Vec::with_capacity(5);
        let own = 1 + rng.below(3);
        let general = rng.below(3).max(2usize.saturating_sub(own));
        let names = rng
            .distinct(w.tags.len(), own)
            .into_iter()
            .map(|i| w.tags[i])
            .chain(
                rng.distinct(words::GENERAL_TAGS.len(), general)
                    .into_iter()
                    .map(|i| words::GENERAL_TAGS[i]),
            );
        for name in names {
            if let Some(id) = tax.tags.get(name) {
                if !tag_ids.contains(id) {
                    tag_ids.push(*id);
                }
            }
        }
        // A sector tag can also be a general one; top up to two.
        let first = rng.below(words::GENERAL_TAGS.len());
        for k in 0..words::GENERAL_TAGS.len() {
            if tag_ids.len() >= 2 {
                break;
            }
            let name = words::GENERAL_TAGS[(first + k) % words::GENERAL_TAGS.len()];
            if let Some(id) = tax.tags.get(name) {
                if !tag_ids.contains(id) {
                    tag_ids.push(*id);
                }
            }
        }

        // Hero image.
        let hero_image_id = if kind == Kind::Short || rng.chance(0.85) {
            // Only pictures made for the story's own sector, so the caption fits the story.
            let own = &self.images.by_sector[sector];
            if !own.is_empty() {
                Some(*rng.pick(own))
            } else if self.images.all.is_empty() {
                None
            } else {
                Some(*rng.pick(&self.images.all))
            }
        } else {
            None
        };

        // Provenance: (agency inputs, auto-generated) probabilities per kind.
        let (p_agency, p_auto) = match kind {
            Kind::News => (0.35, 0.08),
            Kind::Short => (0.25, 0.0),
            Kind::PressRelease => (0.15, 0.2),
            _ => (0.0, 0.0),
        };
        let roll = rng.unit();
        let (provenance, source) = if roll < p_agency {
            let first = rng.below(words::AGENCIES.len());
            let mut src = words::AGENCIES[first].to_owned();
            if rng.chance(0.3) {
                let second =
                    (first + 1 + rng.below(words::AGENCIES.len() - 1)) % words::AGENCIES.len();
                src.push_str(", ");
                src.push_str(words::AGENCIES[second]);
            }
            (Provenance::AgencyInputs, Some(src))
        } else if roll < p_agency + p_auto {
            (
                Provenance::AutoGenerated,
                Some((*rng.pick(words::AGENCIES)).to_owned()),
            )
        } else {
            (Provenance::Staff, None)
        };

        // About 15% are updated after publication, never later than now.
        let mut updated = created;
        let room = (self.now - created).num_seconds();
        if room >= 120 && rng.chance(0.15) {
            let wanted = rng.range(5 * 60, 3 * 86_400);
            let secs = if wanted < room {
                wanted
            } else {
                rng.range(60, room)
            };
            updated = created + Duration::seconds(secs);
        }

        let headline = Headline::parse(&text.headline)
            .with_context(|| format!("generated headline {:?}", text.headline))?;
        let slug = self.unique_slug(&text.headline)?;
        Ok(StoryInput {
            slug,
            kind,
            status: StoryStatus::Published,
            headline,
            summary: text.summary,
            body_md: text.body_md,
            // Rendered in bulk when the chunk is saved.
            body_html: String::new(),
            sector_id: tax.sectors[sector],
            region: region_label,
            primary_edition_id: tax.editions[edition],
            placements,
            desk_id,
            author_ids,
            tag_ids,
            hero_image_id,
            video: None,
            provenance,
            source,
            created_at: created,
            updated_at: updated,
            published_at: Some(created),
            embargo_until: None,
        })
    }
}

/// Renders the bodies of `chunk` (on all cores) and saves it in one transaction.
async fn flush(store: &dyn Store, chunk: &mut Vec<StoryInput>) -> anyhow::Result<()> {
    if chunk.is_empty() {
        return Ok(());
    }
    render_bodies(chunk);
    store.insert_stories(chunk).await?;
    chunk.clear();
    Ok(())
}

fn render_bodies(stories: &mut [StoryInput]) {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    if threads == 1 || stories.len() < 64 {
        for s in stories {
            s.body_html = newsdesk_render::markdown_to_safe_html(&s.body_md);
        }
        return;
    }
    let per = stories.len().div_ceil(threads);
    std::thread::scope(|scope| {
        for part in stories.chunks_mut(per) {
            scope.spawn(move || {
                for s in part {
                    s.body_html = newsdesk_render::markdown_to_safe_html(&s.body_md);
                }
            });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn taxonomy() -> Taxonomy {
        let mut tags = HashMap::new();
        let names = words::SECTORS
            .iter()
            .flat_map(|w| w.tags.iter())
            .chain(words::GENERAL_TAGS.iter());
        for name in names {
            let next = TagId(tags.len() as i64 + 1);
            tags.entry(*name).or_insert(next);
        }
        Taxonomy {
            sectors: (1..=15).map(SectorId).collect(),
            editions: (1..=12).map(EditionId).collect(),
            desks: (1..=5).map(DeskId).collect(),
            authors: words::AUTHORS
                .iter()
                .enumerate()
                .map(|(i, a)| (AuthorId(i as i64 + 1), a.3))
                .collect(),
            tags,
        }
    }

    fn images() -> Images {
        let all: Vec<ImageId> = (1..=IMAGE_COUNT as i64).map(ImageId).collect();
        let mut by_sector = vec![Vec::new(); 15];
        for (i, id) in all.iter().enumerate() {
            by_sector[i % 15].push(*id);
        }
        Images { all, by_sector }
    }

    fn generate(seed: u64, n: usize) -> Vec<StoryInput> {
        let tax = taxonomy();
        let imgs = images();
        let now = Utc.with_ymd_and_hms(2025, 9, 4, 9, 30, 0).unwrap();
        let mut g = Generator {
            tax: &tax,
            images: &imgs,
            now,
            rng: Rng::new(seed).fork(2),
            used_slugs: HashSet::new(),
            slug_counters: HashMap::new(),
        };
        let plan = g.plan(n);
        let mut out: Vec<StoryInput> = plan
            .into_iter()
            .enumerate()
            .map(|(i, (k, age))| g.public_story(i, n, k, age).unwrap())
            .collect();
        for h in [Hidden::Embargoed, Hidden::Scheduled, Hidden::Draft] {
            out.push(g.hidden_story(h).unwrap());
        }
        out
    }

    #[test]
    fn many_stories_are_valid_varied_and_deterministic() {
        let n = 3000;
        let a = generate(9, n);
        assert_eq!(a.len(), n + 3);
        let now = Utc.with_ymd_and_hms(2025, 9, 4, 9, 30, 0).unwrap();
        let slugs: HashSet<&str> = a.iter().map(|s| s.slug.as_str()).collect();
        assert_eq!(slugs.len(), a.len(), "slugs are unique");
        let public: Vec<&StoryInput> = a.iter().filter(|s| s.is_public_at(now)).collect();
        assert_eq!(public.len(), n);
        for (kind, pct) in KIND_MIX {
            let c = public.iter().filter(|s| s.kind == kind).count();
            // The two special stories are news whatever the plan said.
            assert!((c + 2) * 100 >= n * pct, "{kind:?} {c}");
        }
        let agency = public
            .iter()
            .filter(|s| s.provenance == Provenance::AgencyInputs)
            .count();
        let auto = public
            .iter()
            .filter(|s| s.provenance == Provenance::AutoGenerated)
            .count();
        assert!(
            (n * 15..n * 25).contains(&(agency * 100)),
            "agency {agency}"
        );
        assert!((n * 3..n * 8).contains(&(auto * 100)), "auto {auto}");
        for s in &public {
            assert!(s.provenance == Provenance::Staff || s.source.is_some());
            assert!(s.updated_at <= now && s.updated_at >= s.created_at);
            assert_eq!(s.published_at, Some(s.created_at));
        }
        let updated = public
            .iter()
            .filter(|s| s.updated_at > s.created_at)
            .count();
        assert!(
            (n * 10..n * 20).contains(&(updated * 100)),
            "updated {updated}"
        );
        let distinct: HashSet<&str> = public.iter().map(|s| s.headline.as_str()).collect();
        assert!(
            distinct.len() * 10 >= n * 8,
            "{} distinct headlines",
            distinct.len()
        );
        let recent_ranked = public
            .iter()
            .filter(|s| now - s.created_at <= Duration::days(2))
            .filter(|s| s.placements.iter().any(|p| p.rank.is_some()))
            .count();
        assert!(recent_ranked > 0);
        assert!(public.iter().all(|s| s
            .placements
            .iter()
            .all(|p| p.rank.is_none_or(|r| (1..=8).contains(&r)))));

        let b = generate(9, n);
        assert_eq!(a, b);
        let c = generate(10, n);
        assert_ne!(
            a.iter().map(|s| &s.headline).collect::<Vec<_>>(),
            c.iter().map(|s| &s.headline).collect::<Vec<_>>()
        );
    }

    #[test]
    fn special_headlines_fit() {
        let long = LONG_HEADLINE.chars().count();
        assert!(long > 150 && long <= 200, "{long}");
        assert!(Headline::parse(NEPALI_HEADLINE).is_ok());
        let tiny = generate(1, 1);
        assert_eq!(tiny[0].headline.as_str(), LONG_HEADLINE);
        assert_eq!(tiny.len(), 4);
        assert!(generate(1, 0).len() == 3);
    }
}
