//! Stories: the dashboard, the editor (new, edit, preview, autosave, conflicts), the workflow
//! steps, corrections, history and restoring a revision.

use super::extract::{Param, Posted, Session};
use super::{
    app_error, diff_parts, frame, html_response, see_other, slug_options, utc, AppError,
    ConflictPage, DashboardPage, EditionChoice, EditorPage, FlagRow, HistoryPage, Opt, Page,
    RevRow, Row, Section, St, Step,
};
use crate::forms::FormData;
use crate::WebState;
use askama::Template;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{header, Response, StatusCode};
use newsdesk_app::{Authed, StoryForm};
use newsdesk_domain::*;

/// The query string's fields (unreadable ones are none).
pub(super) fn query(q: RawQuery) -> FormData {
    FormData::parse(q.0.unwrap_or_default().as_bytes()).unwrap_or_default()
}

/// `GET /newsroom`.
pub(super) async fn dashboard_get(State(st): St, Session(a): Session, q: RawQuery) -> Page {
    Ok(dashboard(&st, &a, &query(q)).await?)
}

/// `GET /newsroom/stories/new`.
pub(super) async fn new_get(State(st): St, Session(a): Session) -> Page {
    newsdesk_app::require(&a.user, Capability::CreateStory)?;
    let blank = StoryForm {
        kind: "news".into(),
        editions: vec![("global".into(), String::new())],
        ..Default::default()
    };
    Ok(editor(
        &st,
        &a,
        None,
        blank,
        String::new(),
        Vec::new(),
        StatusCode::OK,
    )
    .await)
}

/// `POST /newsroom/stories/new`: preview or create.
pub(super) async fn new_post(State(st): St, p: Posted) -> Page {
    let (a, form) = (&p.session.0, &p.form);
    let f = story_form(form);
    if form.get("action") == "preview" {
        let html = newsdesk_render::markdown_to_safe_html(&f.body_md);
        return Ok(editor(&st, a, None, f, html, Vec::new(), StatusCode::OK).await);
    }
    match st.app.create_story(&a.user, &f).await {
        Ok(s) => Ok(see_other(&format!("/newsroom/stories/{}?saved=1", s.id))),
        Err(AppError::Invalid(errs)) => Ok(editor(
            &st,
            a,
            None,
            f,
            String::new(),
            errs.into_iter().map(|e| e.message).collect(),
            StatusCode::BAD_REQUEST,
        )
        .await),
        Err(e) => Err(e.into()),
    }
}

/// `POST /newsroom/preview`: the body as the site would show it.
pub(super) async fn preview(p: Posted) -> Page {
    let html = newsdesk_render::markdown_to_safe_html(p.form.get("body_md"));
    Ok(crate::respond::or_500(
        Response::builder()
            .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
            .header(header::CACHE_CONTROL, "no-store")
            .body(Body::from(html)),
    ))
}

/// `POST /newsroom/stories/{id}/autosave`: keeps the text, says who else has it open.
pub(super) async fn autosave(State(st): St, Param(id): Param, p: Posted) -> Page {
    let (a, form) = (&p.session.0, &p.form);
    let id = story_id(&id)?;
    let saved_at = if form.get("heartbeat") == "1" {
        String::new()
    } else {
        utc(st.app.autosave(&a.user, id, &story_form(form)).await?)
    };
    let others: Vec<String> = st
        .app
        .presence(&a.user, id)
        .await?
        .into_iter()
        .map(|u| u.name)
        .collect();
    let json = serde_json::json!({ "saved_at": saved_at, "others": others }).to_string();
    Ok(crate::respond::or_500(
        Response::builder()
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CACHE_CONTROL, "no-store")
            .body(Body::from(json)),
    ))
}

/// `GET /newsroom/stories/{id}` (with `?autosave=1`: the autosaved text in the form).
pub(super) async fn story_get(
    State(st): St,
    Session(a): Session,
    Param(id): Param,
    q: RawQuery,
) -> Page {
    let query = query(q);
    let story = st.app.story_for_edit(&a.user, story_id(&id)?).await?;
    if query.get("autosave") == "1" {
        let Some((at, f)) = st.app.autosaved(&a.user, &story).await? else {
            return Ok(see_other(&format!("/newsroom/stories/{}", story.id)));
        };
        let notice = format!("Your autosaved text from {} is in the form below. It is not saved until you press Save.", utc(at));
        return Ok(editor_with(
            &st,
            &a,
            Some(&story),
            f,
            String::new(),
            Vec::new(),
            StatusCode::OK,
            &notice,
        )
        .await);
    }
    let f = form_of(&st, &story);
    let mut res = editor(
        &st,
        &a,
        Some(&story),
        f,
        String::new(),
        Vec::new(),
        StatusCode::OK,
    )
    .await;
    if query.get("saved") == "1" {
        res = with_notice(&st, &a, Some(&story), "Saved.")
            .await
            .unwrap_or(res);
    }
    Ok(res)
}

/// `POST /newsroom/stories/{id}`: preview or save (a stale save shows both versions).
pub(super) async fn story_post(State(st): St, Param(id): Param, p: Posted) -> Page {
    let (a, form) = (&p.session.0, &p.form);
    let id = story_id(&id)?;
    let current = st.app.story_for_edit(&a.user, id).await?;
    let f = story_form(form);
    if form.get("action") == "preview" {
        let html = newsdesk_render::markdown_to_safe_html(&f.body_md);
        return Ok(editor(&st, a, Some(&current), f, html, Vec::new(), StatusCode::OK).await);
    }
    match st.app.save_story(&a.user, id, version(form)?, &f).await {
        Ok(s) => Ok(see_other(&format!("/newsroom/stories/{}?saved=1", s.id))),
        Err(AppError::Conflict(_)) => {
            let page = ConflictPage {
                f: frame(&st, Some(a), "Someone changed this story"),
                story_id: id.0,
                theirs_version: current.version,
                theirs_headline: current.headline.to_string(),
                theirs_body: current.body_md.clone(),
                yours_headline: f.headline.clone(),
                yours_body: f.body_md.clone(),
            };
            Ok(html_response(StatusCode::CONFLICT, page.render()))
        }
        Err(AppError::Invalid(errs)) => Ok(editor(
            &st,
            a,
            Some(&current),
            f,
            String::new(),
            errs.into_iter().map(|e| e.message).collect(),
            StatusCode::BAD_REQUEST,
        )
        .await),
        Err(e) => Err(e.into()),
    }
}

/// `POST /newsroom/stories/{id}/step`: a workflow step.
pub(super) async fn step(State(st): St, Param(id): Param, p: Posted) -> Page {
    let (a, form) = (&p.session.0, &p.form);
    let id = story_id(&id)?;
    let step = Transition::parse(form.get("step"))
        .ok_or_else(|| AppError::invalid("step", "Unknown step."))?;
    let at = match form.get("publish_at") {
        "" => None,
        s => Some(newsdesk_app::newsroom::parse_utc_input(s).ok_or_else(|| {
            AppError::invalid("publish_at", "Give the time as a date and time (UTC).")
        })?),
    };
    st.app
        .transition(&a.user, id, version(form)?, step, at)
        .await?;
    Ok(see_other(&format!("/newsroom/stories/{id}?saved=1")))
}

/// `POST /newsroom/stories/{id}/correct`.
pub(super) async fn correct(State(st): St, Param(id): Param, p: Posted) -> Page {
    let (a, form) = (&p.session.0, &p.form);
    let id = story_id(&id)?;
    st.app
        .correct_story(
            &a.user,
            id,
            version(form)?,
            form.get("wrong"),
            form.get("right"),
        )
        .await?;
    Ok(see_other(&format!("/newsroom/stories/{id}?saved=1")))
}

/// `GET /newsroom/stories/{id}/history`.
pub(super) async fn history_get(
    State(st): St,
    Session(a): Session,
    Param(id): Param,
    q: RawQuery,
) -> Page {
    Ok(history(&st, &a, story_id(&id)?, &query(q)).await?)
}

/// `POST /newsroom/stories/{id}/restore`.
pub(super) async fn restore(State(st): St, Param(id): Param, p: Posted) -> Page {
    let (a, form) = (&p.session.0, &p.form);
    let id = story_id(&id)?;
    let rev: i64 = form
        .get("revision")
        .parse()
        .map_err(|_| AppError::NotFound)?;
    st.app
        .restore_revision(&a.user, id, version(form)?, rev)
        .await?;
    Ok(see_other(&format!("/newsroom/stories/{id}?saved=1")))
}

/// `POST /newsroom/stories/{id}/flags`: an editor has dealt with the story's flags.
pub(super) async fn flags(State(st): St, Param(id): Param, p: Posted) -> Page {
    st.app
        .resolve_flags(&p.session.0.user, story_id(&id)?)
        .await?;
    Ok(see_other("/newsroom"))
}

pub(super) fn story_id(s: &str) -> Result<StoryId, AppError> {
    s.parse::<i64>()
        .map(StoryId)
        .map_err(|_| AppError::NotFound)
}

fn version(form: &FormData) -> Result<i64, AppError> {
    form.get("version")
        .parse()
        .map_err(|_| AppError::invalid("version", "The form lost its version; reload the page."))
}

async fn with_notice(
    st: &WebState,
    a: &Authed,
    story: Option<&Story>,
    notice: &str,
) -> Option<Response<Body>> {
    let s = story?;
    let f = form_of(st, s);
    Some(
        editor_with(
            st,
            a,
            Some(s),
            f,
            String::new(),
            Vec::new(),
            StatusCode::OK,
            notice,
        )
        .await,
    )
}

/// Reads the editor's fields into a [`StoryForm`].
pub fn story_form(form: &FormData) -> StoryForm {
    let editions = form
        .all("edition")
        .into_iter()
        .map(|slug| {
            let rank = form.get(&format!("rank-{slug}")).to_owned();
            (slug, rank)
        })
        .collect();
    StoryForm {
        headline: form.get("headline").into(),
        summary: form.get("summary").into(),
        body_md: form.get("body_md").replace("\r\n", "\n"),
        kind: form.get("kind").into(),
        sector: form.get("sector").into(),
        region: form.get("region").into(),
        editions,
        tags: form.get("tags").into(),
        authors: form
            .all("author")
            .into_iter()
            .filter(|a| !a.is_empty())
            .collect(),
        desk: form.get("desk").into(),
        hero_image: form.get("hero_image").into(),
        source: form.get("source").into(),
        slug: form.get("slug").into(),
        embargo_until: form.get("embargo_until").into(),
    }
}

fn form_of(st: &WebState, s: &Story) -> StoryForm {
    let snap = st.app.read();
    let tax = &snap.tax;
    StoryForm {
        headline: s.headline.to_string(),
        summary: s.summary.clone(),
        body_md: s.body_md.clone(),
        kind: s.kind.as_str().into(),
        sector: tax
            .sector(s.sector_id)
            .map(|x| x.slug.to_string())
            .unwrap_or_default(),
        region: s.region.clone(),
        editions: s
            .placements
            .iter()
            .filter_map(|p| {
                tax.edition(p.edition_id).map(|e| {
                    (
                        e.slug.to_string(),
                        p.rank.map(|r| r.to_string()).unwrap_or_default(),
                    )
                })
            })
            .collect(),
        tags: s
            .tag_ids
            .iter()
            .filter_map(|t| tax.tag(*t))
            .map(|t| t.name.clone())
            .collect::<Vec<_>>()
            .join(", "),
        authors: s
            .author_ids
            .iter()
            .filter_map(|a| tax.author(*a))
            .map(|a| a.slug.to_string())
            .collect(),
        desk: s
            .desk_id
            .and_then(|d| tax.desk(d))
            .map(|d| d.slug.to_string())
            .unwrap_or_default(),
        hero_image: s.hero_image_id.map(|i| i.0.to_string()).unwrap_or_default(),
        source: s.source.clone().unwrap_or_default(),
        slug: s.slug.to_string(),
        embargo_until: s
            .embargo_until
            .map(|t| t.format("%Y-%m-%dT%H:%M").to_string())
            .unwrap_or_default(),
    }
}

#[allow(clippy::too_many_arguments)]
async fn editor(
    st: &WebState,
    a: &Authed,
    story: Option<&Story>,
    form: StoryForm,
    preview_html: String,
    errors: Vec<String>,
    status: StatusCode,
) -> Response<Body> {
    editor_with(st, a, story, form, preview_html, errors, status, "").await
}

#[allow(clippy::too_many_arguments)]
async fn editor_with(
    st: &WebState,
    a: &Authed,
    story: Option<&Story>,
    form: StoryForm,
    preview_html: String,
    errors: Vec<String>,
    status: StatusCode,
    notice: &str,
) -> Response<Body> {
    // What the editor shows besides the story; a store failure here is an error page with the
    // cause logged, never a page that quietly leaves corrections or presence out.
    let extras = async {
        let rights = st.app.story_rights(&a.user, story).await?;
        let corrections = match story {
            Some(s) => st.app.corrections(s.id).await?,
            None => Vec::new(),
        };
        let others = match story {
            Some(s) => st
                .app
                .presence(&a.user, s.id)
                .await?
                .iter()
                .map(|u| u.name.clone())
                .collect::<Vec<_>>()
                .join(", "),
            None => String::new(),
        };
        let autosave_at = match story {
            Some(s) if preview_html.is_empty() && errors.is_empty() => st
                .app
                .autosaved(&a.user, s)
                .await?
                .map(|(t, _)| utc(t))
                .unwrap_or_default(),
            _ => String::new(),
        };
        Ok::<_, AppError>((rights, corrections, others, autosave_at))
    };
    let (rights, corrections, others, autosave_at) = match extras.await {
        Ok(x) => x,
        Err(e) => return app_error(e),
    };
    let snap = st.app.read();
    let tax = &snap.tax;
    let opt = |value: String, label: String, selected: bool| Opt {
        value,
        label,
        selected,
    };
    let kinds = Kind::ALL
        .iter()
        .map(|k| {
            opt(
                k.as_str().into(),
                k.plural_label().into(),
                form.kind == k.as_str(),
            )
        })
        .collect();
    let sectors = tax
        .sectors
        .iter()
        .map(|s| {
            opt(
                s.slug.to_string(),
                s.name.clone(),
                form.sector == s.slug.as_str(),
            )
        })
        .collect();
    let mut desks = vec![opt(String::new(), "(none)".into(), form.desk.is_empty())];
    desks.extend(tax.desks.iter().map(|d| {
        opt(
            d.slug.to_string(),
            d.name.clone(),
            form.desk == d.slug.as_str(),
        )
    }));
    let authors = tax
        .authors
        .iter()
        .map(|x| {
            opt(
                x.slug.to_string(),
                x.name.clone(),
                form.authors.iter().any(|a| a == x.slug.as_str()),
            )
        })
        .collect();
    let mut images = vec![opt(
        String::new(),
        "(none)".into(),
        form.hero_image.is_empty(),
    )];
    let mut imgs: Vec<_> = snap.images.values().collect();
    imgs.sort_by_key(|i| i.id);
    images.extend(imgs.iter().map(|i| {
        opt(
            i.id.0.to_string(),
            format!("{} — {}", i.id, i.alt),
            form.hero_image == i.id.0.to_string(),
        )
    }));
    let editions = tax
        .editions
        .iter()
        .map(|e| {
            let chosen = form.editions.iter().find(|(s, _)| s == e.slug.as_str());
            EditionChoice {
                slug: e.slug.to_string(),
                name: e.name.clone(),
                checked: chosen.is_some(),
                rank: chosen.map(|(_, r)| r.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let steps = rights
        .steps
        .iter()
        .map(|t| Step {
            name: t.as_str().into(),
            label: match t {
                Transition::Submit => "Submit for review",
                Transition::SendBack => "Send back to draft",
                Transition::Publish => "Publish now",
                Transition::Unpublish => "Unpublish",
                Transition::Kill => "Kill",
                Transition::Schedule => "Schedule",
            }
            .into(),
        })
        .collect();
    let mut f = frame(
        st,
        Some(a),
        if story.is_some() {
            "Edit story"
        } else {
            "New story"
        },
    );
    f.errors = errors;
    f.notice = notice.to_owned();
    let page = EditorPage {
        f,
        action: story
            .map(|s| format!("/newsroom/stories/{}", s.id))
            .unwrap_or_else(|| "/newsroom/stories/new".into()),
        story_id: story.map(|s| s.id.0).unwrap_or(0),
        version: story.map(|s| s.version).unwrap_or(0),
        status: story.map(|s| s.status.as_str()).unwrap_or("new").into(),
        public_href: story
            .filter(|s| s.is_public_at(st.app.now()))
            .map(|s| format!("/article/{}", s.slug))
            .unwrap_or_default(),
        form,
        kinds,
        sectors,
        desks,
        authors,
        images,
        editions,
        preview_html,
        can_edit: rights.can_edit,
        steps,
        can_schedule: rights.can_schedule,
        can_correct: rights.can_correct,
        corrections: corrections
            .iter()
            .map(|c| (utc(c.at), c.wrong.clone(), c.right.clone()))
            .collect(),
        others,
        autosave_at,
        video: story.and_then(|s| s.video.clone()).unwrap_or_default(),
    };
    drop(snap);
    html_response(status, page.render())
}

async fn dashboard(
    st: &WebState,
    a: &Authed,
    query: &FormData,
) -> Result<Response<Body>, AppError> {
    newsdesk_app::require(&a.user, Capability::ViewNewsroom)?;
    let q = query.get("q").trim().to_owned();
    let text = (!q.is_empty()).then(|| q.clone());
    let now = st.app.now();
    let row = |r: &DeskRow| Row {
        href: format!("/newsroom/stories/{}", r.card.id),
        headline: r.card.headline.to_string(),
        status: r.card.status.as_str().into(),
        updated: utc(r.card.updated_at),
        when: match (r.card.status, r.card.published_at, r.card.embargo_until) {
            (_, _, Some(e)) if e > now => format!("embargoed until {}", utc(e)),
            (StoryStatus::Scheduled, Some(p), _) => format!("publishes {}", utc(p)),
            (StoryStatus::Published, Some(p), _) => format!("published {}", utc(p)),
            _ => String::new(),
        },
    };
    // Filters shared by every section: headline text and the story's taxonomy.
    let (base, sectors, editions, desks, authors) = {
        let snap = st.app.read();
        let tax = &snap.tax;
        let pick = |key: &str| query.get(key).trim().to_owned();
        let (sector, edition, desk, author) = (
            pick("sector"),
            pick("edition"),
            pick("desk"),
            pick("author"),
        );
        let unknown = |field: &str| AppError::invalid(field, "Choose from the list.");
        let base = DeskQuery {
            text: text.clone(),
            sector: match sector.as_str() {
                "" => None,
                x => Some(tax.sector_by_slug(x).ok_or_else(|| unknown("sector"))?.id),
            },
            edition: match edition.as_str() {
                "" => None,
                x => Some(tax.edition_by_slug(x).ok_or_else(|| unknown("edition"))?.id),
            },
            desk: match desk.as_str() {
                "" => None,
                x => Some(tax.desk_by_slug(x).ok_or_else(|| unknown("desk"))?.id),
            },
            author: match author.as_str() {
                "" => None,
                x => Some(tax.author_by_slug(x).ok_or_else(|| unknown("author"))?.id),
            },
            ..Default::default()
        };
        (
            base,
            slug_options(
                "any sector",
                &sector,
                tax.sectors
                    .iter()
                    .map(|x| (x.slug.as_str(), x.name.as_str())),
            ),
            slug_options(
                "any edition",
                &edition,
                tax.editions
                    .iter()
                    .map(|x| (x.slug.as_str(), x.name.as_str())),
            ),
            slug_options(
                "any desk",
                &desk,
                tax.desks.iter().map(|x| (x.slug.as_str(), x.name.as_str())),
            ),
            slug_options(
                "any author",
                &author,
                tax.authors
                    .iter()
                    .map(|x| (x.slug.as_str(), x.name.as_str())),
            ),
        )
    };
    let filtered = base.text.is_some()
        || base.sector.is_some()
        || base.edition.is_some()
        || base.desk.is_some()
        || base.author.is_some();
    let section = |statuses: Vec<StoryStatus>, limit: usize| DeskQuery {
        statuses,
        limit,
        ..base.clone()
    };
    let mut sections = Vec::new();
    let queries: Vec<(&str, &str, DeskQuery)> = vec![
        (
            "My drafts",
            "mine",
            DeskQuery {
                owner: Some(a.user.id),
                ..section(vec![StoryStatus::Draft], 50)
            },
        ),
        (
            "Waiting for review",
            "review",
            section(vec![StoryStatus::InReview], 50),
        ),
        (
            "Scheduled",
            "scheduled",
            section(vec![StoryStatus::Scheduled], 50),
        ),
        (
            "Embargoed",
            "embargoed",
            DeskQuery {
                embargoed_after: Some(now),
                ..section(vec![StoryStatus::Published], 50)
            },
        ),
        (
            "Recently published",
            "published",
            section(vec![StoryStatus::Published], 25),
        ),
    ];
    for (title, id, query) in queries {
        let rows = st.app.desk_stories(&a.user, &query).await?;
        sections.push(Section {
            title: title.into(),
            id: id.into(),
            rows: rows.iter().map(row).collect(),
        });
    }
    let flag_rows: Vec<FlagRow> = st
        .app
        .flagged_stories(&a.user)
        .await?
        .into_iter()
        .map(|f| FlagRow {
            href: format!("/newsroom/stories/{}", f.flag.story_id),
            headline: f
                .story
                .as_ref()
                .map(|s| s.headline.to_string())
                .unwrap_or_default(),
            what: format!("{} ({})", f.flag.reason, utc(f.flag.at)),
            id: f.flag.story_id.0,
            version: f.story.as_ref().map_or(0, |s| s.version),
            published: f
                .story
                .as_ref()
                .is_some_and(|s| s.status == StoryStatus::Published),
        })
        .collect();
    Ok(html_response(
        StatusCode::OK,
        DashboardPage {
            f: frame(st, Some(a), "Dashboard"),
            q,
            sectors,
            editions,
            desks,
            authors,
            filtered,
            sections,
            flags: flag_rows,
        }
        .render(),
    ))
}

async fn history(
    st: &WebState,
    a: &Authed,
    id: StoryId,
    query: &FormData,
) -> Result<Response<Body>, AppError> {
    let number = |k: &str| query.get(k).parse::<i64>().ok();
    let h = st
        .app
        .story_history(&a.user, id, number("from"), number("to"))
        .await?;
    let story = &h.story;
    let page = HistoryPage {
        f: frame(st, Some(a), "History"),
        story_id: id.0,
        version: story.version,
        headline: story.headline.to_string(),
        revisions: h
            .revisions
            .iter()
            .map(|r| RevRow {
                id: r.meta.id,
                version: r.meta.version,
                at: utc(r.meta.at),
                by: r.by.clone(),
                status: r.meta.status.as_str().into(),
                headline: r.meta.headline.clone(),
            })
            .collect(),
        from: h.from,
        to: h.to,
        diff_headline: diff_parts(h.diff.headline.clone()),
        diff_body: diff_parts(h.diff.body.clone()),
        diff_note: h.diff.note.clone(),
        can_restore: h.can_restore,
    };
    Ok(html_response(StatusCode::OK, page.render()))
}
