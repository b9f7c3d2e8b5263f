//! Syndication out: what a partner may receive about a story, as an interchange item (ninjs,
//! NewsML-G2). The public rule is the reader's: a story is carried whole only while readers may
//! see it. A story that readers could see once and that was since unpublished or killed is
//! carried as withheld or canceled, without its content, so receivers take it down; anything
//! else (drafts, scheduled or embargoed stories, unknown ids) is not found.

use crate::{App, AppError, AppResult};
use newsdesk_domain::*;
use newsdesk_interchange::{Item, MediaTopic, Named, Picture, PubStatus, Publisher};

/// At most this many agency items are read for a story's Media Topics.
const LINEAGE_READ_MAX: usize = 10;

impl App {
    /// Who publishes, for every syndicated item.
    pub fn publisher(&self) -> Publisher {
        Publisher {
            name: self.site.name.clone(),
            base_url: self.site.base_url.trim_end_matches('/').to_string(),
            language: self.site.language.clone(),
            copyright_holder: self.site.copyright_holder.clone(),
        }
    }

    /// The story `id` as a syndicated item, if a partner may know of it (see the module).
    pub async fn syndication_item(&self, id: StoryId) -> AppResult<Item> {
        let read = match self.store.get_article(id).await {
            Ok(r) => r,
            Err(newsdesk_store::StoreError::NotFound) => return Err(AppError::NotFound),
            Err(e) => return Err(e.into()),
        };
        let now = self.now();
        let story = read.story;
        let was_visible = {
            let mut once = story.input.clone();
            once.status = StoryStatus::Published;
            once.is_public_at(now)
        };
        let status = match story.status {
            _ if story.is_public_at(now) => PubStatus::Usable,
            StoryStatus::Unpublished if was_visible => PubStatus::Withheld,
            StoryStatus::Killed if was_visible => PubStatus::Canceled,
            _ => return Err(AppError::NotFound),
        };
        let base = self.site.base_url.trim_end_matches('/').to_string();
        let url = format!("{base}/article/{}", story.slug);
        let version_created = story.updated_at;
        if status != PubStatus::Usable {
            return Ok(Item {
                story,
                corrections: Vec::new(),
                status,
                version_created,
                url,
                sector: None,
                authors: Vec::new(),
                desk: None,
                tags: Vec::new(),
                places: Vec::new(),
                topics: Vec::new(),
                based_on: Vec::new(),
                picture: None,
            });
        }
        let mut topics: Vec<MediaTopic> = Vec::new();
        for link in read.lineage.iter().take(LINEAGE_READ_MAX) {
            let item = match self.store.get_wire_item(link.item).await {
                Ok(i) => i,
                Err(newsdesk_store::StoreError::NotFound) => continue,
                Err(e) => return Err(e.into()),
            };
            for s in &item.item.subjects {
                if let Some(mut t) = MediaTopic::parse(&s.code) {
                    if !topics.iter().any(|x| x.code == t.code) {
                        t.name = s.name.clone();
                        topics.push(t);
                    }
                }
            }
        }
        let based_on = read.lineage.into_iter().filter_map(|l| l.link).collect();
        let snap = self.read();
        let tax = &snap.tax;
        let named = |path: &str, slug: &Slug, name: &str| Named {
            name: name.to_string(),
            uri: format!("{base}/{path}/{slug}"),
        };
        let sector = tax
            .sectors
            .iter()
            .find(|s| s.id == story.sector_id)
            .map(|s| named("sector", &s.slug, &s.name));
        let authors = story
            .author_ids
            .iter()
            .filter_map(|a| tax.authors.iter().find(|x| x.id == *a))
            .map(|a| named("author", &a.slug, &a.name))
            .collect();
        let desk = story
            .desk_id
            .and_then(|d| tax.desks.iter().find(|x| x.id == d))
            .map(|d| named("desk", &d.slug, &d.name));
        let tags = story
            .tag_ids
            .iter()
            .filter_map(|t| tax.tags.iter().find(|x| x.id == *t))
            .map(|t| named("tag", &t.slug, &t.name))
            .collect();
        let places = if story.region.trim().is_empty() || story.region == "Global" {
            Vec::new()
        } else {
            vec![story.region.clone()]
        };
        let picture = story
            .hero_image_id
            .and_then(|i| snap.images.get(&i).cloned())
            .and_then(|img| {
                let w = *img.widths.last()?;
                Some(Picture {
                    href: format!("{base}{}", img.variant_path(w)),
                    mime: image_mime(&img.ext).to_string(),
                    width: w,
                    height: img.height_for(w),
                    alt: img.alt.clone(),
                    caption: img.caption.clone(),
                    credit: img.credit.clone(),
                })
            });
        drop(snap);
        Ok(Item {
            story,
            corrections: read.corrections,
            status,
            version_created,
            url,
            sector,
            authors,
            desk,
            tags,
            places,
            topics,
            based_on,
            picture,
        })
    }
}

fn image_mime(ext: &str) -> &'static str {
    match ext.to_ascii_lowercase().as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "avif" => "image/avif",
        _ => "image/png",
    }
}
