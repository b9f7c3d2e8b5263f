//! What the newsroom's pages show, asked of `app` like every other use case: the rights an
//! actor has over a story (the one statement of the workflow's permissions, which
//! [`App::transition`] enforces and the editor offers), a story's history with a diff of two
//! revisions, the audit log, the accounts, the actor's own account and the flagged stories.
//! The web room renders these; it never reads the store.

use crate::diff::{self, Chunk};
use crate::newsroom::require;
use crate::{App, AppError, AppResult};
use newsdesk_domain::*;

/// Entries on one page of the audit log.
pub const AUDIT_PAGE: usize = 100;

/// Whether `actor` may take `step` on a story; `own` says whether the actor created it. Whether
/// the step leads anywhere from the story's status is [`Transition::apply`]'s to say.
pub fn may_take(actor: &User, own: bool, step: Transition) -> bool {
    if actor.disabled {
        return false;
    }
    let role = actor.role;
    match step {
        Transition::Submit => {
            role.can(Capability::EditAnyStory) || (own && role.can(Capability::SubmitOwnStory))
        }
        Transition::SendBack => role.can(Capability::EditAnyStory),
        Transition::Publish => role.can(Capability::Publish),
        Transition::Schedule => role.can(Capability::Schedule),
        Transition::Unpublish => role.can(Capability::Unpublish),
        Transition::Kill => role.can(Capability::Kill),
    }
}

/// What an actor may do with a story (or, with none, with a new one) in the editor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoryRights {
    /// Change its content.
    pub can_edit: bool,
    /// Workflow steps open now (scheduling aside, which needs a time).
    pub steps: Vec<Transition>,
    /// Schedule it.
    pub can_schedule: bool,
    /// Add a correction.
    pub can_correct: bool,
    /// Restore an earlier revision.
    pub can_restore: bool,
}

/// A revision in a story's history, with the name of who saved it.
#[derive(Debug, Clone)]
pub struct RevisionRow {
    /// The revision.
    pub meta: RevisionMeta,
    /// Who saved it ("system" for imports).
    pub by: String,
}

/// The difference between two revisions.
#[derive(Debug, Clone, Default)]
pub struct RevisionDiff {
    /// Headline, word by word.
    pub headline: Vec<Chunk>,
    /// Body.
    pub body: Vec<Chunk>,
    /// Said when the body's difference is coarser than word by word.
    pub note: String,
}

/// A story's history: its revisions, newest first, and the difference between two of them.
#[derive(Debug, Clone)]
pub struct History {
    /// The story now.
    pub story: Story,
    /// Its revisions, newest first.
    pub revisions: Vec<RevisionRow>,
    /// The older revision compared (0: none).
    pub from: i64,
    /// The newer revision compared (0: none).
    pub to: i64,
    /// Their difference (empty when there is nothing to compare).
    pub diff: RevisionDiff,
    /// Whether the actor may restore a revision.
    pub can_restore: bool,
}

/// A page of the audit log.
#[derive(Debug, Clone)]
pub struct AuditPage {
    /// Entries, newest first, with the name of who acted ("system" when nobody did).
    pub entries: Vec<(AuditEntry, String)>,
    /// The entry id to read older entries before, when there are more.
    pub older: Option<i64>,
}

/// A story flagged because agency copy it is built on was withdrawn or corrected.
#[derive(Debug, Clone)]
pub struct FlaggedStory {
    /// The flag.
    pub flag: LineageFlag,
    /// The story, when it still exists.
    pub story: Option<Story>,
}

/// The name of `id` among `users`, or "system".
fn name_of(users: &[User], id: Option<UserId>) -> String {
    id.and_then(|u| users.iter().find(|x| x.id == u))
        .map(|u| u.name.clone())
        .unwrap_or_else(|| "system".into())
}

impl App {
    /// What `actor` may do with `story` (a new story when `None`).
    pub async fn story_rights(
        &self,
        actor: &User,
        story: Option<&Story>,
    ) -> AppResult<StoryRights> {
        let Some(s) = story else {
            return Ok(StoryRights {
                can_edit: !actor.disabled && actor.role.can(Capability::CreateStory),
                ..StoryRights::default()
            });
        };
        let own = self.store.story_owner(s.id).await? == Some(actor.id);
        let open = |t: Transition| t.apply(s.status).is_some() && may_take(actor, own, t);
        Ok(StoryRights {
            can_edit: self.may_edit(actor, s).await?,
            steps: Transition::ALL
                .into_iter()
                .filter(|t| *t != Transition::Schedule && open(*t))
                .collect(),
            can_schedule: open(Transition::Schedule),
            can_correct: s.status == StoryStatus::Published
                && require(actor, Capability::Correct).is_ok(),
            can_restore: editable(s.status) && require(actor, Capability::RestoreRevision).is_ok(),
        })
    }

    /// A story's history for `actor`, comparing revisions `from` and `to` (by default the two
    /// newest). A revision of another story is not found.
    pub async fn story_history(
        &self,
        actor: &User,
        id: StoryId,
        from: Option<i64>,
        to: Option<i64>,
    ) -> AppResult<History> {
        let story = self.story_for_edit(actor, id).await?;
        let revs = self.store.list_revisions(id).await?;
        let users = self.store.list_users().await?;
        let newest = revs.first().map(|r| r.id).unwrap_or(0);
        let oldest_pair = revs.get(1).map(|r| r.id).unwrap_or(newest);
        let from = from.unwrap_or(oldest_pair);
        let to = to.unwrap_or(newest);
        let mut d = RevisionDiff::default();
        if from != 0 && to != 0 {
            let (a, b) = (
                self.store.get_revision(from).await?,
                self.store.get_revision(to).await?,
            );
            if a.story_id != id || b.story_id != id {
                return Err(AppError::NotFound);
            }
            d.headline = diff::words(a.input.headline.as_str(), b.input.headline.as_str());
            let body = diff::diff(&a.input.body_md, &b.input.body_md);
            d.note = body.note().unwrap_or_default().to_owned();
            d.body = body.chunks;
        }
        let can_restore = self.story_rights(actor, Some(&story)).await?.can_restore;
        Ok(History {
            revisions: revs
                .into_iter()
                .map(|r| RevisionRow {
                    by: name_of(&users, r.by),
                    meta: r,
                })
                .collect(),
            story,
            from,
            to,
            diff: d,
            can_restore,
        })
    }

    /// A page of the audit log, older than entry `before` when given.
    pub async fn audit_log(&self, actor: &User, before: Option<i64>) -> AppResult<AuditPage> {
        require(actor, Capability::ViewAudit)?;
        let entries = self.store.list_audit(AUDIT_PAGE, before).await?;
        let users = self.store.list_users().await?;
        let older = (entries.len() == AUDIT_PAGE)
            .then(|| entries.last().map(|e| e.id))
            .flatten();
        Ok(AuditPage {
            entries: entries
                .into_iter()
                .map(|e| {
                    let by = name_of(&users, e.user_id);
                    (e, by)
                })
                .collect(),
            older,
        })
    }

    /// Every account, for those who manage them.
    pub async fn users(&self, actor: &User) -> AppResult<Vec<User>> {
        require(actor, Capability::ManageUsers)?;
        Ok(self.store.list_users().await?)
    }

    /// The actor's own account as stored now.
    pub async fn account(&self, actor: &User) -> AppResult<User> {
        Ok(self.store.get_user(actor.id).await?)
    }

    /// Stories flagged because their agency copy changed, with the stories themselves (a flag
    /// may outlive its story).
    pub async fn flagged_stories(&self, actor: &User) -> AppResult<Vec<FlaggedStory>> {
        let flags = self.lineage_flags(actor).await?;
        let mut out = Vec::with_capacity(flags.len());
        for flag in flags {
            let story = match self.store.get_story(flag.story_id).await {
                Ok(s) => Some(s),
                Err(newsdesk_store::StoreError::NotFound) => None,
                Err(e) => return Err(e.into()),
            };
            out.push(FlaggedStory { flag, story });
        }
        Ok(out)
    }

    /// Whether `user` must set up a second factor before anything else in the newsroom.
    pub fn second_factor_missing(&self, user: &User) -> bool {
        self.totp_required(user) && !user.totp_enabled
    }
}
