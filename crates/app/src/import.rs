//! Imports from WordPress and Ghost: an [`Export`] (parsed by `newsdesk_interchange`) made into
//! stories, static pages, bylines, tags and newsroom accounts, through the same sanitiser and
//! the same store writes as the newsroom's own stories (a revision, a change-log row and an
//! audit line each). Each item's source id is remembered with what it became, so a second run
//! changes nothing; each old address becomes a 301 to the new page.
//!
//! Without `publish`, everything arrives as a draft story. With it, items public in the old
//! system arrive published (posts as stories at their original date, pages as static pages);
//! the others as drafts (an unpublished page becomes a draft story: static pages have no draft).

use crate::{App, AppError, AppResult};
use newsdesk_domain::text::html_to_text;
use newsdesk_domain::*;
use newsdesk_interchange::import::{old_path, Export, ItemKind, ItemStatus, SourceItem};
use newsdesk_store::{Conflict, ImportRecord, ImportTarget, StoreError};
use std::collections::HashMap;
use std::path::PathBuf;

/// How to import.
#[derive(Clone)]
pub struct ImportOptions {
    /// The system ("wordpress", "ghost"): source ids are remembered per system.
    pub source: String,
    /// Items public in the old system arrive published (else everything is a draft).
    pub publish: bool,
    /// Read and report only; write nothing.
    pub dry_run: bool,
    /// Category slug → sector slug (WordPress); the key `*` is the sector of everything else.
    pub sectors: HashMap<String, String>,
    /// Folder of the old site's uploads: featured images are read from it.
    pub uploads: Option<PathBuf>,
    /// Where pictures are written (the site's media store: its folder or its bucket).
    pub media: std::sync::Arc<dyn newsdesk_media::MediaStore>,
}

/// An item left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Its id in the old system.
    pub source_id: String,
    /// Its title.
    pub title: String,
    /// Why.
    pub reason: String,
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Format read ("WXR 1.2", "Ghost 4.1.0").
    pub format: String,
    /// Stories made.
    pub stories: usize,
    /// Of which published.
    pub published: usize,
    /// Static pages made.
    pub pages: usize,
    /// Items imported by an earlier run, left as they are.
    pub already_imported: usize,
    /// Bylines made.
    pub bylines_made: usize,
    /// Newsroom accounts made (disabled, no password: an admin invites or enables them).
    pub accounts_made: usize,
    /// Accounts found by e-mail.
    pub accounts_matched: usize,
    /// Tags made.
    pub tags_made: usize,
    /// Old addresses that now redirect.
    pub redirects: usize,
    /// Featured pictures imported.
    pub pictures: usize,
    /// Notes about items imported with a change (a new slug, a made-up headline, no picture).
    pub notes: Vec<String>,
    /// Items left out.
    pub skipped: Vec<Skipped>,
}

/// Longest summary kept from an excerpt.
const SUMMARY_MAX: usize = crate::newsroom::SUMMARY_MAX;

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    if let Some(i) = out.rfind(' ') {
        out.truncate(i);
    }
    out.push('…');
    out
}

impl App {
    /// Imports `export`; `progress(done, total)` is called after each item.
    pub async fn import(
        &self,
        export: &Export,
        opts: &ImportOptions,
        progress: &(dyn Fn(u64, u64) + Sync),
    ) -> AppResult<ImportReport> {
        let mut report = ImportReport {
            format: export.format.clone(),
            ..ImportReport::default()
        };
        for it in export.items.iter() {
            if let Some(reason) = &it.skip {
                report.skipped.push(Skipped {
                    source_id: it.source_id.clone(),
                    title: it.title.clone(),
                    reason: reason.clone(),
                });
            }
        }
        // The sector mapping must name sectors that exist, before anything is written.
        let (default_sector, global) = {
            let snap = self.read();
            let tax = &snap.tax;
            for (cat, sec) in &opts.sectors {
                if tax.sector_by_slug(sec).is_none() {
                    return Err(AppError::invalid(
                        "sectors",
                        format!("The mapping sends {cat:?} to {sec:?}, which is not a sector."),
                    ));
                }
            }
            let default = match opts.sectors.get("*") {
                Some(s) => tax.sector_by_slug(s).map(|s| s.id),
                None => tax.sectors.first().map(|s| s.id),
            };
            let Some(default) = default else {
                return Err(AppError::invalid("sectors", "The site has no sectors yet."));
            };
            let Some(global) = tax.global().map(|g| g.id) else {
                return Err(AppError::invalid(
                    "editions",
                    "The site has no Global edition.",
                ));
            };
            (default, global)
        };

        // People: a byline each, and an account when the export gives an e-mail address,
        // linked to that byline (an account found by its address that writes under a byline
        // already keeps it, and its stories go under it). A byline of the same slug that is
        // another account's is not taken: the import makes its own beside it.
        let mut bylines: HashMap<String, AuthorId> = HashMap::new();
        let mut accounts: HashMap<String, User> = HashMap::new();
        let used: Vec<&str> = export
            .importable()
            .flat_map(|i| i.authors.iter().map(String::as_str))
            .collect();
        let linked: HashMap<AuthorId, EmailAddress> = self
            .store
            .list_users()
            .await?
            .into_iter()
            .filter_map(|u| u.author_id.map(|a| (a, u.email)))
            .collect();
        for a in export
            .authors
            .iter()
            .filter(|a| used.contains(&a.key.as_str()))
        {
            let name = if a.name.trim().is_empty() {
                a.key.trim()
            } else {
                a.name.trim()
            };
            let name = name.trim_matches(|c: char| c == '<' || c == '>' || c.is_whitespace());
            let email = a.email.as_deref().and_then(|e| EmailAddress::parse(e).ok());
            let found = match &email {
                Some(e) => self.store.find_login(e).await?.map(|(u, _)| u),
                None => None,
            };
            let own = found
                .as_ref()
                .and_then(|u| u.author_id)
                .filter(|id| self.read().tax.author(*id).is_some());
            let mut slug =
                Slug::from_title(if a.slug.is_empty() { name } else { &a.slug }, "author");
            let theirs = |id: &AuthorId| linked.get(id).is_some_and(|e| Some(e) != email.as_ref());
            if self
                .read()
                .tax
                .author_by_slug(slug.as_str())
                .is_some_and(|x| theirs(&x.id))
            {
                slug = Slug::from_title(&format!("{slug}-{}", opts.source), "author");
            }
            let existing =
                own.or_else(|| self.read().tax.author_by_slug(slug.as_str()).map(|x| x.id));
            let id = match existing {
                Some(id) => Some(id),
                None if opts.dry_run => {
                    report.bylines_made += 1;
                    None
                }
                None => {
                    report.bylines_made += 1;
                    Some(self.store.upsert_author(&slug, name, "", None).await?.id)
                }
            };
            if let Some(id) = id {
                bylines.insert(a.key.clone(), id);
            }
            let Some(email) = email else {
                continue;
            };
            let (Some(id), false) = (id, opts.dry_run) else {
                // A dry run: what would be matched or made.
                match found {
                    Some(_) => report.accounts_matched += 1,
                    None => report.accounts_made += 1,
                }
                continue;
            };
            if let Some(user) = found.as_ref().filter(|u| u.author_id.is_some()) {
                report.accounts_matched += 1;
                accounts.insert(a.key.clone(), user.clone());
                continue;
            }
            let audit = AuditInput {
                at: self.now(),
                user_id: None,
                action: "import-account".into(),
                target: String::new(),
                detail: format!("{} from {}", email.as_str(), opts.source),
            };
            // A new account has no password and is disabled: nobody logs in with it, nor asks
            // for a password, until an admin invites its address or enables it.
            let (user, made) = self
                .store
                .import_account(&email, name, id, crate::auth::NO_PASSWORD, &audit)
                .await?;
            if made {
                report.accounts_made += 1;
            } else {
                report.accounts_matched += 1;
            }
            accounts.insert(a.key.clone(), user);
        }
        // Tags (and categories, which become tags too when no sector mapping names them).
        let mut tag_ids: HashMap<String, TagId> = HashMap::new();
        let terms = export.tags.iter().chain(
            export
                .categories
                .iter()
                .filter(|c| !opts.sectors.contains_key(&c.slug)),
        );
        let used_terms: Vec<&str> = export
            .importable()
            .flat_map(|i| i.tags.iter().chain(i.categories.iter()).map(String::as_str))
            .collect();
        for t in terms.filter(|t| used_terms.contains(&t.slug.as_str())) {
            if tag_ids.contains_key(&t.slug) {
                continue;
            }
            let name = if t.name.trim().is_empty() {
                &t.slug
            } else {
                &t.name
            };
            let slug = Slug::from_title(&t.slug, "tag");
            let existing = self.read().tax.tag_by_slug(slug.as_str()).map(|x| x.id);
            match existing {
                Some(id) => {
                    tag_ids.insert(t.slug.clone(), id);
                }
                None if opts.dry_run => report.tags_made += 1,
                None => {
                    report.tags_made += 1;
                    let id = self.store.upsert_tag(&slug, name.trim()).await?.id;
                    tag_ids.insert(t.slug.clone(), id);
                }
            }
        }
        if !opts.dry_run {
            self.sync().await?;
        }

        let items: Vec<&SourceItem> = export.importable().collect();
        let total = items.len() as u64;
        let mut seen: Vec<&str> = Vec::new();
        for (n, it) in items.into_iter().enumerate() {
            let outcome = self
                .import_item(
                    it,
                    opts,
                    &mut report,
                    &bylines,
                    &accounts,
                    &tag_ids,
                    default_sector,
                    global,
                    &mut seen,
                )
                .await;
            if let Err(reason) = outcome {
                report.skipped.push(Skipped {
                    source_id: it.source_id.clone(),
                    title: it.title.clone(),
                    reason,
                });
            }
            progress(n as u64 + 1, total);
        }
        if !opts.dry_run {
            self.sync().await?;
        }
        Ok(report)
    }

    #[allow(clippy::too_many_arguments)]
    async fn import_item<'a>(
        &self,
        it: &'a SourceItem,
        opts: &ImportOptions,
        report: &mut ImportReport,
        bylines: &HashMap<String, AuthorId>,
        accounts: &HashMap<String, User>,
        tag_ids: &HashMap<String, TagId>,
        default_sector: SectorId,
        global: EditionId,
        seen: &mut Vec<&'a str>,
    ) -> Result<(), String> {
        let internal = |e: StoreError| format!("the database refused it: {e}");
        if seen.contains(&it.source_id.as_str()) {
            return Err(format!(
                "a second item with id {} in the same file",
                it.source_id
            ));
        }
        seen.push(&it.source_id);
        if self
            .store
            .imported(&opts.source, &it.source_id)
            .await
            .map_err(internal)?
            .is_some()
        {
            report.already_imported += 1;
            return Ok(());
        }
        let public = it.status == Some(ItemStatus::Published);
        let as_page = opts.publish && public && it.kind == Some(ItemKind::Page);
        // The body, through the newsroom's sanitiser and renderer (as wire copy made a story).
        let body_md = newsdesk_render::sanitize_html(&it.html);
        if body_md.chars().count() > crate::newsroom::BODY_MAX {
            return Err(format!(
                "its body is longer than {} characters",
                crate::newsroom::BODY_MAX
            ));
        }
        let body_html = newsdesk_render::markdown_to_safe_html(&body_md);
        let text = html_to_text(&body_html);
        let title = it.title.trim();
        let headline = match Headline::parse(title) {
            Ok(h) => h,
            Err(_) => {
                let made = clip(
                    if text.trim().is_empty() {
                        "Untitled"
                    } else {
                        text.trim()
                    },
                    80,
                );
                report.notes.push(format!(
                    "item {}: headline {:?} made from the body ({})",
                    it.source_id,
                    made,
                    if title.is_empty() {
                        "no title"
                    } else {
                        "unusable title"
                    }
                ));
                Headline::parse(&made)
                    .or_else(|_| Headline::parse("Untitled"))
                    .map_err(|e| e.to_string())?
            }
        };
        let mut slug = Slug::parse(&it.slug).ok().unwrap_or_else(|| {
            Slug::from_title(headline.as_str(), &format!("imported-{}", it.source_id))
        });
        let old_paths: Vec<String> = it.link.as_deref().and_then(old_path).into_iter().collect();
        let record = ImportRecord {
            source: opts.source.clone(),
            source_id: it.source_id.clone(),
            old_paths: old_paths.clone(),
        };
        let now = self.now();
        if as_page {
            if self
                .store
                .get_page(&slug)
                .await
                .map_err(internal)?
                .is_some()
            {
                let alt = Slug::from_title(&format!("{slug}-{}", it.source_id), "page");
                report.notes.push(format!(
                    "page {}: /{slug} exists, imported at /{alt}",
                    it.source_id
                ));
                slug = alt;
            }
            if !opts.dry_run {
                let page = StaticPage {
                    slug: slug.clone(),
                    title: headline.to_string(),
                    body_md,
                    body_html,
                    position: 100,
                    updated_at: it.modified.or(it.date).unwrap_or(now),
                };
                self.store.upsert_page(&page).await.map_err(internal)?;
                self.store
                    .record_import(&record, &ImportTarget::Page(slug))
                    .await
                    .map_err(internal)?;
            }
            report.pages += 1;
            report.redirects += old_paths.len();
            return Ok(());
        }
        if it.kind == Some(ItemKind::Page) {
            report.notes.push(format!(
                "page {}: imported as a draft story (static pages have no draft state)",
                it.source_id
            ));
        }
        let sector_id = it
            .categories
            .iter()
            .find_map(|c| opts.sectors.get(c))
            .and_then(|s| self.read().tax.sector_by_slug(s).map(|x| x.id))
            .unwrap_or(default_sector);
        let mut tags: Vec<TagId> = Vec::new();
        for t in it.tags.iter().chain(it.categories.iter()) {
            if let Some(id) = tag_ids.get(t) {
                if !tags.contains(id) && tags.len() < 20 {
                    tags.push(*id);
                }
            }
        }
        let author_ids: Vec<AuthorId> = it
            .authors
            .iter()
            .filter_map(|a| bylines.get(a).copied())
            .collect();
        let owner = it.authors.iter().find_map(|a| accounts.get(a));
        let published = opts.publish && public && it.kind == Some(ItemKind::Post);
        let created = it.date.unwrap_or(now);
        // A published story's date is its original one; a date to come waits for its time.
        let published_at = published.then_some(created);
        let summary = clip(html_to_text(&it.excerpt).trim(), SUMMARY_MAX);
        // The featured picture, uploaded as its author would (their account's rights).
        let mut hero_image_id = None;
        if let (Some(dir), Some(file)) = (&opts.uploads, &it.featured_image) {
            match (owner, opts.dry_run) {
                (_, true) => report.pictures += 1,
                (None, false) => report.notes.push(format!(
                    "item {}: featured picture {file} left out (its author has no account)",
                    it.source_id
                )),
                (Some(user), false) => {
                    match self
                        .import_picture(user, dir, file, &it.featured_alt, &headline, opts)
                        .await
                    {
                        Ok(id) => {
                            report.pictures += 1;
                            hero_image_id = Some(id);
                        }
                        Err(why) => report.notes.push(format!(
                            "item {}: featured picture {file} left out ({why})",
                            it.source_id
                        )),
                    }
                }
            }
        }
        let mut input = StoryInput {
            slug,
            kind: Kind::News,
            status: if published {
                StoryStatus::Published
            } else {
                StoryStatus::Draft
            },
            headline,
            summary,
            body_md,
            body_html,
            sector_id,
            region: "Global".into(),
            primary_edition_id: global,
            placements: vec![Placement {
                edition_id: global,
                rank: None,
            }],
            desk_id: None,
            author_ids,
            tag_ids: tags,
            hero_image_id,
            video: None,
            provenance: Provenance::Staff,
            source: None,
            created_at: created,
            updated_at: it.modified.filter(|m| *m >= created).unwrap_or(created),
            published_at,
            embargo_until: None,
        };
        if opts.dry_run {
            report.stories += 1;
            report.published += usize::from(published);
            report.redirects += old_paths.len();
            return Ok(());
        }
        let audit = AuditInput {
            at: now,
            user_id: owner.map(|u| u.id),
            action: "import".into(),
            target: String::new(),
            detail: format!(
                "{} {} {:?}",
                opts.source,
                it.source_id,
                input.headline.as_str()
            ),
        };
        let by = owner.map(|u| u.id);
        let made = match self
            .store
            .create_imported_story(&record, &input, by, &audit)
            .await
        {
            Err(StoreError::Conflict(Conflict::SlugTaken(_))) => {
                let alt = Slug::from_title(
                    &format!("{}-{}-{}", input.slug, opts.source, it.source_id),
                    "imported",
                );
                report.notes.push(format!(
                    "item {}: slug {} is taken, imported as {alt}",
                    it.source_id, input.slug
                ));
                input.slug = alt;
                self.store
                    .create_imported_story(&record, &input, by, &audit)
                    .await
            }
            other => other,
        };
        made.map_err(internal)?;
        report.stories += 1;
        report.published += usize::from(published);
        report.redirects += old_paths.len();
        Ok(())
    }

    async fn import_picture(
        &self,
        user: &User,
        dir: &std::path::Path,
        file: &str,
        alt: &str,
        headline: &Headline,
        opts: &ImportOptions,
    ) -> Result<ImageId, String> {
        // Only a plain relative path below the uploads folder.
        let rel = std::path::Path::new(file);
        if rel.is_absolute()
            || rel
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            return Err("not a path inside the uploads folder".into());
        }
        let path = dir.join(rel);
        let bytes = tokio::fs::read(&path)
            .await
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let alt = if alt.trim().is_empty() {
            headline.as_str()
        } else {
            alt.trim()
        };
        // Imported accounts stay disabled (no login) until an admin invites them; the picture
        // is still uploaded with the rights of the account's role, on the import's behalf.
        let mut uploader = user.clone();
        uploader.disabled = false;
        self.upload_image(&uploader, bytes, alt, "", "", &*opts.media)
            .await
            .map(|i| i.id)
            .map_err(|e| e.to_string())
    }

    /// Where an old address of an imported item leads now (a path of this site), if it is one
    /// and what it leads to is public. Paths longer than 1 KiB are not looked up.
    pub async fn old_url_redirect(&self, path: &str) -> AppResult<Option<String>> {
        if path.len() > 1024 || path.len() < 2 {
            return Ok(None);
        }
        let Some(target) = self.store.find_redirect(path).await? else {
            return Ok(None);
        };
        Ok(self.public_address(&target))
    }

    /// Where an old WordPress address by query leads now: `?p=N` and `?page_id=N` name an
    /// item by its WordPress id, looked up in the imports table (one indexed read, nothing
    /// held in memory); `?tag=slug` goes to the tag's page when the site has that tag. `None`
    /// for any other query (without touching the store), for an item not imported or not
    /// public, and for queries longer than 512 bytes.
    pub async fn old_query_redirect(&self, query: &str) -> AppResult<Option<String>> {
        if query.len() > 512 {
            return Ok(None);
        }
        for pair in query.split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "p" | "page_id" => {
                    if v.is_empty() || v.len() > 19 || !v.bytes().all(|b| b.is_ascii_digit()) {
                        continue;
                    }
                    return match self.store.imported("wordpress", v).await? {
                        Some(target) => Ok(self.public_address(&target)),
                        None => Ok(None),
                    };
                }
                "tag" => {
                    let known = self.read().tax.tag_by_slug(v).is_some();
                    if known {
                        return Ok(Some(format!("/tag/{v}")));
                    }
                }
                _ => {}
            }
        }
        Ok(None)
    }

    /// The current address of what an import made, while readers may see it.
    fn public_address(&self, target: &ImportTarget) -> Option<String> {
        let now = self.now();
        match target {
            ImportTarget::Story(id) => self
                .read()
                .public_card(*id, now)
                .map(|c| format!("/article/{}", c.slug)),
            ImportTarget::Page(slug) => self
                .read()
                .pages
                .iter()
                .any(|p| p.slug == *slug)
                .then(|| format!("/{slug}")),
        }
    }
}
