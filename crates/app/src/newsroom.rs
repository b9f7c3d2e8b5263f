//! Newsroom use cases: writing, the workflow, revisions, corrections and the dashboard. Every
//! one checks the actor's role here, so the HTML newsroom, the JSON API and the CLI behave alike.

use crate::{App, AppError, AppResult, FieldError};
use chrono::{DateTime, NaiveDateTime, Utc};
use newsdesk_domain::*;
use newsdesk_store::StoreError;

/// Refuses unless the actor's role has the capability.
pub fn require(actor: &User, what: Capability) -> AppResult<()> {
    if actor.disabled || !actor.role.can(what) {
        return Err(AppError::Forbidden);
    }
    Ok(())
}

/// What a story form (or JSON body) sends, before it is checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct StoryForm {
    /// Headline.
    pub headline: String,
    /// Summary (dek).
    pub summary: String,
    /// Body, Markdown.
    pub body_md: String,
    /// Kind (`news`, `opinion`, ...).
    pub kind: String,
    /// Sector slug.
    pub sector: String,
    /// Region label shown in lists.
    pub region: String,
    /// Edition slugs with an optional rank each ("" = no rank); the first is the primary edition.
    pub editions: Vec<(String, String)>,
    /// Tags, comma-separated.
    pub tags: String,
    /// Author slugs, in byline order.
    pub authors: Vec<String>,
    /// Desk slug or "".
    pub desk: String,
    /// Hero image id or "".
    pub hero_image: String,
    /// Source attribution.
    pub source: String,
    /// Slug; "" makes one from the headline (new stories) or keeps the current one.
    pub slug: String,
    /// Embargo end, `YYYY-MM-DDTHH:MM` in UTC, or "".
    pub embargo_until: String,
}

/// Someone seen on a story this recently is "also editing" it.
pub const PRESENCE_WINDOW: chrono::Duration = chrono::Duration::seconds(90);

/// Longest summary, in characters.
pub const SUMMARY_MAX: usize = 600;
/// Longest body, in characters.
pub const BODY_MAX: usize = 200_000;

fn field(errors: &mut Vec<FieldError>, name: &str, message: impl Into<String>) {
    errors.push(FieldError {
        field: name.to_owned(),
        message: message.into(),
    });
}

/// Parses `YYYY-MM-DDTHH:MM[:SS]` (an HTML `datetime-local` value) as UTC.
pub fn parse_utc_input(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
        .ok()
        .map(|n| n.and_utc())
}

/// A checked form: the story content plus tag names that may need creating.
struct Checked {
    input: StoryInput,
    tag_names: Vec<String>,
}

impl App {
    fn check_form(
        &self,
        form: &StoryForm,
        current: Option<&Story>,
    ) -> Result<Checked, Vec<FieldError>> {
        let snap = self.read();
        let tax = &snap.tax;
        let mut e = Vec::new();
        let now = self.now();
        let headline = Headline::parse(&form.headline)
            .map_err(|x| field(&mut e, "headline", x.to_string()))
            .ok();
        let summary = form.summary.trim().to_owned();
        if summary.chars().count() > SUMMARY_MAX {
            field(
                &mut e,
                "summary",
                format!("The summary is at most {SUMMARY_MAX} characters."),
            );
        }
        if form.body_md.chars().count() > BODY_MAX {
            field(
                &mut e,
                "body_md",
                format!("The body is at most {BODY_MAX} characters."),
            );
        }
        let kind = Kind::parse(form.kind.trim()).or_else(|| {
            field(&mut e, "kind", "Choose a kind.");
            None
        });
        let sector = tax
            .sector_by_slug(form.sector.trim())
            .map(|s| s.id)
            .or_else(|| {
                field(&mut e, "sector", "Choose a sector.");
                None
            });
        let mut placements = Vec::new();
        for (slug, rank) in &form.editions {
            match tax.edition_by_slug(slug.trim()) {
                Some(ed) if !placements.iter().any(|p: &Placement| p.edition_id == ed.id) => {
                    let rank = match rank.trim() {
                        "" => None,
                        r => match r.parse::<i32>() {
                            Ok(n) if (1..=99).contains(&n) => Some(n),
                            _ => {
                                field(
                                    &mut e,
                                    "editions",
                                    format!("The rank in {} is a number from 1 to 99.", ed.name),
                                );
                                None
                            }
                        },
                    };
                    placements.push(Placement {
                        edition_id: ed.id,
                        rank,
                    });
                }
                Some(_) => {}
                None => field(&mut e, "editions", format!("There is no edition {slug:?}.")),
            }
        }
        if placements.is_empty() {
            if let Some(g) = tax.global() {
                placements.push(Placement {
                    edition_id: g.id,
                    rank: None,
                });
            }
        }
        let primary_edition_id = placements
            .first()
            .map(|p| p.edition_id)
            .unwrap_or(EditionId(0));
        let mut author_ids = Vec::new();
        for a in form.authors.iter().filter(|a| !a.trim().is_empty()) {
            match tax.author_by_slug(a.trim()) {
                Some(x) if !author_ids.contains(&x.id) => author_ids.push(x.id),
                Some(_) => {}
                None => field(&mut e, "authors", format!("There is no author {a:?}.")),
            }
        }
        let desk_id = match form.desk.trim() {
            "" => None,
            d => tax.desk_by_slug(d).map(|x| x.id).or_else(|| {
                field(&mut e, "desk", format!("There is no desk {d:?}."));
                None
            }),
        };
        let hero_image_id = match form.hero_image.trim() {
            "" => None,
            h => match h
                .parse::<i64>()
                .ok()
                .map(ImageId)
                .filter(|i| snap.images.contains_key(i))
            {
                Some(i) => Some(i),
                None => {
                    field(&mut e, "hero_image", "That picture does not exist.");
                    None
                }
            },
        };
        let mut tag_names: Vec<String> = Vec::new();
        for t in form
            .tags
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            if t.chars().count() > 60 || t.chars().any(char::is_control) {
                field(&mut e, "tags", "A tag is at most 60 characters.");
            } else if !tag_names.iter().any(|x| x.eq_ignore_ascii_case(t)) {
                tag_names.push(t.to_owned());
            }
        }
        if tag_names.len() > 20 {
            field(&mut e, "tags", "Use at most 20 tags.");
        }
        let slug = match (form.slug.trim(), current, &headline) {
            ("", Some(c), _) => Some(c.slug.clone()),
            ("", None, Some(h)) => Some(Slug::from_title(
                h.as_str(),
                &format!("story-{}", now.timestamp()),
            )),
            ("", None, None) => None,
            (s, _, _) => Slug::parse(s)
                .map_err(|x| field(&mut e, "slug", x.to_string()))
                .ok(),
        };
        let embargo_until = match form.embargo_until.trim() {
            "" => None,
            s => parse_utc_input(s).or_else(|| {
                field(
                    &mut e,
                    "embargo_until",
                    "Give the embargo as a date and time (UTC).",
                );
                None
            }),
        };
        let region = match form.region.trim() {
            "" => "Global".to_owned(),
            r if r.chars().count() <= 60 && !r.chars().any(char::is_control) => r.to_owned(),
            _ => {
                field(
                    &mut e,
                    "region",
                    "The region label is at most 60 characters.",
                );
                String::new()
            }
        };
        let source = form.source.trim();
        if source.chars().count() > 200 {
            field(&mut e, "source", "The source is at most 200 characters.");
        }
        let (Some(headline), Some(kind), Some(sector_id), Some(slug), true) =
            (headline, kind, sector, slug, e.is_empty())
        else {
            return Err(e);
        };
        let body_html = newsdesk_render::markdown_to_safe_html(&form.body_md);
        let input = StoryInput {
            slug,
            kind,
            status: current.map_or(StoryStatus::Draft, |c| c.status),
            headline,
            summary,
            body_md: form.body_md.clone(),
            body_html,
            sector_id,
            region,
            primary_edition_id,
            placements,
            desk_id,
            author_ids,
            tag_ids: Vec::new(),
            hero_image_id,
            video: current.and_then(|c| c.video.clone()),
            provenance: current.map_or(Provenance::Staff, |c| c.provenance),
            source: (!source.is_empty()).then(|| source.to_owned()),
            created_at: current.map_or(now, |c| c.created_at),
            updated_at: now,
            published_at: current.and_then(|c| c.published_at),
            embargo_until,
        };
        Ok(Checked { input, tag_names })
    }

    async fn resolve_tags(&self, names: &[String]) -> AppResult<Vec<TagId>> {
        let mut ids = Vec::new();
        for name in names {
            let existing = self
                .read()
                .tax
                .tags
                .iter()
                .find(|t| t.name.eq_ignore_ascii_case(name))
                .map(|t| t.id);
            let id = match existing {
                Some(id) => id,
                None => {
                    let slug = Slug::from_title(name, "tag");
                    self.store.upsert_tag(&slug, name).await?.id
                }
            };
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        Ok(ids)
    }

    fn audit(&self, actor: &User, action: &str, story: StoryId, detail: String) -> AuditInput {
        AuditInput {
            at: self.now(),
            user_id: Some(actor.id),
            action: action.into(),
            target: format!("story:{story}"),
            detail: crate::api::via_token(detail),
        }
    }

    /// Starts a draft.
    pub async fn create_story(&self, actor: &User, form: &StoryForm) -> AppResult<Story> {
        require(actor, Capability::CreateStory)?;
        let checked = self.check_form(form, None).map_err(AppError::Invalid)?;
        let mut input = checked.input;
        input.tag_ids = self.resolve_tags(&checked.tag_names).await?;
        let audit = AuditInput {
            at: self.now(),
            user_id: Some(actor.id),
            action: "create".into(),
            target: String::new(),
            detail: crate::api::via_token(input.headline.to_string()),
        };
        let story = self
            .store
            .create_story(&input, actor.id, &audit)
            .await
            .map_err(slug_conflict)?;
        self.sync().await?;
        Ok(story)
    }

    /// Whether `actor` may edit this story's content now.
    pub async fn may_edit(&self, actor: &User, story: &Story) -> AppResult<bool> {
        if !editable(story.status) {
            return Ok(false);
        }
        if actor.role.can(Capability::EditAnyStory) {
            return Ok(true);
        }
        let own = self.store.story_owner(story.id).await? == Some(actor.id);
        Ok(own && story.status == StoryStatus::Draft && actor.role.can(Capability::EditOwnDraft))
    }

    /// Whether `actor` may open a story in the newsroom (its editor, history and who has it
    /// open): those who edit any story open every one, the others only their own.
    pub async fn may_open(&self, actor: &User, id: StoryId) -> AppResult<bool> {
        if actor.disabled || !actor.role.can(Capability::ViewNewsroom) {
            return Ok(false);
        }
        Ok(actor.role.can(Capability::EditAnyStory)
            || self.store.story_owner(id).await? == Some(actor.id))
    }

    /// A story for the editor, if the actor may see it.
    pub async fn story_for_edit(&self, actor: &User, id: StoryId) -> AppResult<Story> {
        require(actor, Capability::ViewNewsroom)?;
        let story = self.store.get_story(id).await?;
        if !self.may_open(actor, id).await? {
            return Err(AppError::Forbidden);
        }
        Ok(story)
    }

    /// The dashboard's stories for `query` that `actor` may see: the stories they may open
    /// ([`App::may_open`]) and those readers can see now; so not others' drafts, reviews,
    /// scheduled or embargoed copy.
    pub async fn desk_stories(&self, actor: &User, query: &DeskQuery) -> AppResult<Vec<DeskRow>> {
        require(actor, Capability::ViewNewsroom)?;
        let mut rows = self.store.list_desk_stories(query).await?;
        if !actor.role.can(Capability::EditAnyStory) {
            let now = self.now();
            rows.retain(|r| r.created_by == Some(actor.id) || r.card.is_public_at(now));
        }
        Ok(rows)
    }

    /// Saves the editor's form if the story is still at `version`: a stale save is refused with
    /// [`AppError::Conflict`], never applied over someone else's change.
    pub async fn save_story(
        &self,
        actor: &User,
        id: StoryId,
        version: i64,
        form: &StoryForm,
    ) -> AppResult<Story> {
        let current = self.store.get_story(id).await?;
        if !self.may_edit(actor, &current).await? {
            return Err(AppError::Forbidden);
        }
        if current.version != version {
            return Err(AppError::Conflict(format!(
                "Someone changed this story since you opened it (version {} is current, you edited version {version}).",
                current.version
            )));
        }
        let checked = self
            .check_form(form, Some(&current))
            .map_err(AppError::Invalid)?;
        let mut input = checked.input;
        input.tag_ids = self.resolve_tags(&checked.tag_names).await?;
        if matches!(
            current.status,
            StoryStatus::Published | StoryStatus::Scheduled
        ) {
            self.check_agency_embargo(id, &input).await?;
        }
        let audit = (current.status == StoryStatus::Published)
            .then(|| self.audit(actor, "update", id, "edited while published".into()));
        let saved = self
            .store
            .save_story(id, version, &input, Some(actor.id), audit.as_ref())
            .await
            .map_err(slug_conflict)?;
        // The autosaved text is now saved for real.
        self.store.delete_autosave(id, actor.id).await?;
        self.sync().await?;
        if saved.status == StoryStatus::Published {
            self.emit_story_event(WebhookEvent::StoryUpdated, &saved)
                .await;
        }
        Ok(saved)
    }

    /// Moves a story along the workflow. `at` is the publication time for [`Transition::Schedule`].
    pub async fn transition(
        &self,
        actor: &User,
        id: StoryId,
        version: i64,
        step: Transition,
        at: Option<DateTime<Utc>>,
    ) -> AppResult<Story> {
        let current = self.store.get_story(id).await?;
        let own = self.store.story_owner(id).await? == Some(actor.id);
        if !crate::desk::may_take(actor, own, step) {
            return Err(AppError::Forbidden);
        }
        let Some(next) = step.apply(current.status) else {
            return Err(AppError::Conflict(format!(
                "A story that is {} cannot be {} directly.",
                current.status.as_str(),
                past(step)
            )));
        };
        if current.version != version {
            return Err(AppError::Conflict(
                "Someone changed this story since you opened it.".into(),
            ));
        }
        let now = self.now();
        let mut input = current.input.clone();
        input.status = next;
        match step {
            Transition::Publish => {
                input.published_at = Some(
                    input
                        .published_at
                        .filter(|_| current.status == StoryStatus::Unpublished)
                        .unwrap_or(now),
                );
                input.updated_at = now;
            }
            Transition::Schedule => {
                let Some(at) = at.filter(|t| *t > now) else {
                    return Err(AppError::invalid(
                        "publish_at",
                        "Give a publication time in the future (UTC).",
                    ));
                };
                input.published_at = Some(at);
            }
            Transition::Unpublish | Transition::Kill => input.updated_at = now,
            Transition::Submit | Transition::SendBack => {}
        }
        if matches!(step, Transition::Publish | Transition::Schedule) {
            self.check_agency_embargo(id, &input).await?;
        }
        // Provenance is computed, not typed: from how much agency text a story built on agency
        // copy still contains when it goes out.
        let mut measured = String::new();
        if step == Transition::Publish {
            if let Some((p, share)) = self.computed_provenance(&current).await? {
                input.provenance = p;
                measured = format!(" ({:.0}% of its text is agency copy)", share * 100.0);
            }
        }
        let detail = match (step, at) {
            (Transition::Schedule, Some(t)) => format!("for {}", t.format("%Y-%m-%d %H:%M UTC")),
            _ => format!("{} → {}{measured}", current.status.as_str(), next.as_str()),
        };
        let audit = self.audit(actor, step.as_str(), id, detail);
        let saved = self
            .store
            .save_story(id, version, &input, Some(actor.id), Some(&audit))
            .await?;
        self.sync().await?;
        let event = match step {
            Transition::Publish => Some(WebhookEvent::StoryPublished),
            Transition::Unpublish => Some(WebhookEvent::StoryUnpublished),
            Transition::Kill => Some(WebhookEvent::StoryKilled),
            _ => None,
        };
        if let Some(event) = event {
            self.emit_story_event(event, &saved).await;
        }
        Ok(saved)
    }

    /// Adds a public correction to a published story; its Updated time moves.
    pub async fn correct_story(
        &self,
        actor: &User,
        id: StoryId,
        version: i64,
        wrong: &str,
        right: &str,
    ) -> AppResult<Correction> {
        require(actor, Capability::Correct)?;
        let mut e = Vec::new();
        for (name, v) in [("wrong", wrong), ("right", right)] {
            let n = v.trim().chars().count();
            if n == 0 || n > 2000 {
                field(&mut e, name, "Say it in 1 to 2,000 characters.");
            }
        }
        if !e.is_empty() {
            return Err(AppError::Invalid(e));
        }
        let current = self.store.get_story(id).await?;
        if current.status != StoryStatus::Published {
            return Err(AppError::Conflict(
                "Only a published story is corrected; edit a draft instead.".into(),
            ));
        }
        let mut input = current.input.clone();
        input.updated_at = self.now();
        let audit = self.audit(actor, "correct", id, right.trim().to_owned());
        let (saved, c) = self
            .store
            .add_correction(id, version, &input, wrong.trim(), right.trim(), &audit)
            .await?;
        self.sync().await?;
        self.emit_story_event(WebhookEvent::StoryCorrected, &saved)
            .await;
        Ok(c)
    }

    /// Restores an earlier revision's content as a new revision (the workflow status stays).
    pub async fn restore_revision(
        &self,
        actor: &User,
        id: StoryId,
        version: i64,
        revision: i64,
    ) -> AppResult<Story> {
        require(actor, Capability::RestoreRevision)?;
        let rev = self.store.get_revision(revision).await?;
        if rev.story_id != id {
            return Err(AppError::NotFound);
        }
        let current = self.store.get_story(id).await?;
        if !editable(current.status) {
            return Err(AppError::Conflict(
                "A killed story cannot be changed.".into(),
            ));
        }
        let mut input = rev.input.clone();
        input.status = current.status;
        input.published_at = current.published_at;
        input.slug = current.slug.clone();
        input.updated_at = self.now();
        let audit = self.audit(
            actor,
            "restore",
            id,
            format!("restored version {}", rev.version),
        );
        let saved = self
            .store
            .save_story(id, version, &input, Some(actor.id), Some(&audit))
            .await?;
        self.sync().await?;
        Ok(saved)
    }

    /// Marks the actor as having the story open and returns the others who had it open in the
    /// last [`PRESENCE_WINDOW`]: the editor shows them, so two people know they are both editing.
    /// Only for a story the actor may open: who edits what is not for every newsroom login.
    pub async fn presence(&self, actor: &User, id: StoryId) -> AppResult<Vec<User>> {
        require(actor, Capability::ViewNewsroom)?;
        if !self.may_open(actor, id).await? {
            return Err(AppError::Forbidden);
        }
        let now = self.now();
        self.store.touch_presence(id, actor.id, now).await?;
        Ok(self
            .store
            .presence(id, now - PRESENCE_WINDOW)
            .await?
            .into_iter()
            .filter(|(u, _)| u.id != actor.id)
            .map(|(u, _)| u)
            .collect())
    }

    /// Keeps the actor's unsaved editor text for a story they may edit.
    pub async fn autosave(
        &self,
        actor: &User,
        id: StoryId,
        form: &StoryForm,
    ) -> AppResult<DateTime<Utc>> {
        let story = self.store.get_story(id).await?;
        if !self.may_edit(actor, &story).await? {
            return Err(AppError::Forbidden);
        }
        if form.body_md.chars().count() > BODY_MAX || form.headline.chars().count() > 1000 {
            return Err(AppError::invalid("body_md", "Too long to autosave."));
        }
        let json = serde_json::to_string(form).map_err(|e| AppError::Internal(Box::new(e)))?;
        let now = self.now();
        self.store.put_autosave(id, actor.id, now, &json).await?;
        Ok(now)
    }

    /// The actor's autosaved text for a story, if it is newer than the story's last save.
    pub async fn autosaved(
        &self,
        actor: &User,
        story: &Story,
    ) -> AppResult<Option<(DateTime<Utc>, StoryForm)>> {
        let Some((at, json)) = self.store.get_autosave(story.id, actor.id).await? else {
            return Ok(None);
        };
        if at < story.updated_at {
            return Ok(None);
        }
        Ok(serde_json::from_str(&json).ok().map(|f| (at, f)))
    }

    /// Whether `actor` may upload pictures: asked before an upload's body is read.
    pub fn may_upload(&self, actor: &User) -> AppResult<()> {
        require(actor, Capability::UploadMedia)
    }

    /// Whether `actor` may attach a video to story `id` (a short they may edit): asked before
    /// the upload's body is read, and again by [`App::attach_video`]. Returns the story.
    pub async fn may_attach_video(&self, actor: &User, id: StoryId) -> AppResult<Story> {
        require(actor, Capability::UploadMedia)?;
        let story = self.store.get_story(id).await?;
        if !self.may_edit(actor, &story).await? {
            return Err(AppError::Forbidden);
        }
        if story.kind != Kind::Short {
            return Err(AppError::invalid(
                "file",
                "Videos go with shorts: set the kind to Shorts and save first.",
            ));
        }
        Ok(story)
    }

    /// Takes an uploaded picture: checked by content and size before decoding, re-encoded without
    /// metadata, resized for `srcset`, stored under server-made names in `media` (one key per
    /// version), saved.
    pub async fn upload_image(
        &self,
        actor: &User,
        bytes: Vec<u8>,
        alt: &str,
        caption: &str,
        credit: &str,
        media: &dyn newsdesk_media::MediaStore,
    ) -> AppResult<Image> {
        require(actor, Capability::UploadMedia)?;
        let alt = newsdesk_media::clean_alt_text(alt)
            .map_err(|e| AppError::invalid("alt", e.to_string()))?;
        let (caption, credit) = (caption.trim().to_owned(), credit.trim().to_owned());
        if caption.chars().count() > 500 || credit.chars().count() > 200 {
            return Err(AppError::invalid(
                "caption",
                "The caption is at most 500 characters and the credit 200.",
            ));
        }
        let encoded = tokio::task::spawn_blocking(move || {
            newsdesk_media::encode_image(&bytes, &newsdesk_media::ImageLimits::default())
        })
        .await
        .map_err(|e| AppError::Internal(Box::new(e)))?
        .map_err(|e| AppError::invalid("file", e.to_string()))?;
        let processed = encoded.processed;
        let names: Vec<String> = processed.files.iter().map(|f| f.0.clone()).collect();
        let files: Vec<(String, Vec<u8>)> = names.into_iter().zip(encoded.data).collect();
        newsdesk_media::put_all(media, files)
            .await
            .map_err(|e| AppError::invalid("file", e.to_string()))?;
        let image = self
            .store
            .insert_image(&ImageInput {
                key: processed.key.clone(),
                ext: processed.ext.to_owned(),
                alt,
                caption,
                credit,
                width: processed.width,
                height: processed.height,
                widths: processed.widths.clone(),
            })
            .await?;
        self.store
            .record_audit(&AuditInput {
                at: self.now(),
                user_id: Some(actor.id),
                action: "upload".into(),
                target: format!("image:{}", image.id),
                detail: crate::api::via_token(format!(
                    "{} ({}×{})",
                    processed.key, processed.width, processed.height
                )),
            })
            .await?;
        self.sync().await?;
        Ok(image)
    }

    /// Attaches a short video (already saved at `upload`) to a short: sniffed by content, size
    /// capped, moved under a server-made name into `media`. The story's hero image is its poster.
    pub async fn attach_video(
        &self,
        actor: &User,
        id: StoryId,
        version: i64,
        upload: &std::path::Path,
        media: &dyn newsdesk_media::MediaStore,
    ) -> AppResult<Story> {
        let story = self.may_attach_video(actor, id).await?;
        if story.version != version {
            return Err(AppError::Conflict(
                "Someone changed this story since you opened it.".into(),
            ));
        }
        let src = upload.to_owned();
        let (_, file, _) = tokio::task::spawn_blocking(move || {
            newsdesk_media::check_video(&src, &newsdesk_media::VideoLimits::default())
        })
        .await
        .map_err(|e| AppError::Internal(Box::new(e)))?
        .map_err(|e| AppError::invalid("file", e.to_string()))?;
        media
            .put_file(&file, upload)
            .await
            .map_err(|e| AppError::invalid("file", e.to_string()))?;
        let mut input = story.input.clone();
        input.video = Some(file.clone());
        input.updated_at = self.now();
        let audit = self.audit(actor, "video", id, file);
        let saved = self
            .store
            .save_story(id, version, &input, Some(actor.id), Some(&audit))
            .await?;
        self.sync().await?;
        Ok(saved)
    }

    /// Publishes every scheduled story whose time has come (the "publish due" job's work).
    pub async fn publish_due(&self) -> AppResult<Vec<StoryId>> {
        let done = self.store.publish_due(self.now()).await?;
        if !done.is_empty() {
            tracing::info!(stories = ?done, "published scheduled stories");
            self.sync().await?;
            for id in &done {
                match self.store.get_story(*id).await {
                    Ok(s) => {
                        self.emit_story_event(WebhookEvent::StoryPublished, &s)
                            .await
                    }
                    Err(e) => {
                        tracing::error!(story = id.0, error = %e, "no webhook event for a scheduled publication")
                    }
                }
            }
        }
        Ok(done)
    }
}

fn past(t: Transition) -> &'static str {
    match t {
        Transition::Submit => "submitted",
        Transition::SendBack => "sent back",
        Transition::Publish => "published",
        Transition::Schedule => "scheduled",
        Transition::Unpublish => "unpublished",
        Transition::Kill => "killed",
    }
}

fn slug_conflict(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict(newsdesk_store::Conflict::SlugTaken(_)) => AppError::invalid(
            "slug",
            "That address is taken by another story; choose another slug.",
        ),
        other => other.into(),
    }
}
