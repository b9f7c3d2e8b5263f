//! The wire desk: the inbox of agency clusters, a cluster with its versions and their
//! differences, the desk's corrections to a cluster's tags, its summary, and making a story.

use super::extract::{Param, Posted, Session};
use super::stories::query;
use super::{
    diff_parts, frame, html_response, see_other, slug_options, utc, AppError, Check, DiffPart,
    Frame, Opt, Page, St,
};
use crate::forms::FormData;
use crate::WebState;
use askama::Template;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{Response, StatusCode};
use newsdesk_app::diff;
use newsdesk_app::Authed;
use newsdesk_domain::*;

/// `GET /newsroom/wire`.
pub(super) async fn inbox(State(st): St, Session(a): Session, q: RawQuery) -> Page {
    Ok(wire_inbox(&st, &a, &query(q)).await?)
}

/// `GET /newsroom/wire/{id}`.
pub(super) async fn cluster(
    State(st): St,
    Session(a): Session,
    Param(id): Param,
    q: RawQuery,
) -> Page {
    let id = id.parse().map_err(|_| AppError::NotFound)?;
    Ok(wire_cluster(&st, &a, id, query(q).get("saved") == "1").await?)
}

/// `POST /newsroom/wire/{id}/tags`: the desk corrects a cluster's sector and editions.
pub(super) async fn tags(State(st): St, Param(id): Param, p: Posted) -> Page {
    let (a, form) = (&p.session.0, &p.form);
    let id: ClusterId = id.parse().map_err(|_| AppError::NotFound)?;
    let sector = Some(form.get("sector")).filter(|s| !s.trim().is_empty());
    st.app
        .retag_cluster(&a.user, id, sector, &form.all("edition"))
        .await?;
    Ok(see_other(&format!("/newsroom/wire/{id}?saved=1")))
}

/// `POST /newsroom/wire/{id}/story`: a draft from the cluster.
pub(super) async fn story(State(st): St, Param(id): Param, p: Posted) -> Page {
    let story = st
        .app
        .story_from_cluster(
            &p.session.0.user,
            id.parse().map_err(|_| AppError::NotFound)?,
        )
        .await?;
    Ok(see_other(&format!(
        "/newsroom/stories/{}?saved=1",
        story.id
    )))
}

/// `POST /newsroom/wire/{id}/summary`: the desk accepts (or edits) the summary draft.
pub(super) async fn summary(State(st): St, Param(id): Param, p: Posted) -> Page {
    let id: ClusterId = id.parse().map_err(|_| AppError::NotFound)?;
    st.app
        .accept_summary(&p.session.0.user, id, p.form.get("summary"))
        .await?;
    Ok(see_other(&format!("/newsroom/wire/{id}")))
}

/// A cluster in the wire inbox.
pub struct ClusterRow {
    /// Link.
    pub href: String,
    /// Headline.
    pub headline: String,
    /// Urgency, or empty.
    pub urgency: String,
    /// Agencies.
    pub agencies: String,
    /// Items.
    pub items: i64,
    /// Sector.
    pub sector: String,
    /// Editions.
    pub editions: String,
    /// Last item, UTC.
    pub updated: String,
    /// "Embargoed until … UTC" while an agency embargo holds, else empty.
    pub embargo: String,
}

#[derive(Template)]
#[template(path = "newsroom/wire.html")]
struct WirePage {
    f: Frame,
    rows: Vec<ClusterRow>,
    agency: String,
    sectors: Vec<Opt>,
    editions: Vec<Opt>,
    periods: Vec<Opt>,
    agencies: Vec<String>,
    language: String,
    filtered: bool,
}

/// The inbox's time filter: value, label, hours (`None`: everything).
const PERIODS: [(&str, &str, Option<i64>); 5] = [
    ("24h", "last 24 hours", Some(24)),
    ("48h", "last 48 hours", Some(48)),
    ("7d", "last 7 days", Some(24 * 7)),
    ("30d", "last 30 days", Some(24 * 30)),
    ("all", "all time", None),
];

/// One agency version in a cluster page.
pub struct ItemView {
    /// Agency.
    pub agency: String,
    /// Agency id and version.
    pub ident: String,
    /// Status.
    pub status: String,
    /// Published, UTC.
    pub published: String,
    /// Headline.
    pub headline: String,
    /// Sanitised body.
    pub body_html: String,
    /// Word diff against the first item (empty for the first).
    pub diff: Vec<DiffPart>,
    /// Suggested editions with evidence.
    pub tags: String,
    /// "Embargoed until … UTC" while the item's embargo holds, else empty.
    pub embargo: String,
}

#[derive(Template)]
#[template(path = "newsroom/cluster.html")]
struct ClusterPage {
    f: Frame,
    id: i64,
    headline: String,
    summary: String,
    summary_accepted: bool,
    items: Vec<ItemView>,
    can_edit: bool,
    sectors: Vec<Opt>,
    editions: Vec<Check>,
    tags: String,
    embargo: String,
}

async fn wire_inbox(
    st: &WebState,
    a: &Authed,
    query: &FormData,
) -> Result<Response<Body>, AppError> {
    let opt = |k: &str| Some(query.get(k).trim().to_owned()).filter(|v| !v.is_empty());
    // The desk works on the last two days by default; older events are a choice away.
    let period = match query.get("period").trim() {
        "" => "48h",
        p => p,
    };
    let Some(&(_, _, hours)) = PERIODS.iter().find(|(v, _, _)| *v == period) else {
        return Err(AppError::invalid(
            "period",
            "Choose a period from the list.",
        ));
    };
    let q = WireQuery {
        agency: opt("agency"),
        sector: opt("sector"),
        edition: opt("edition"),
        language: opt("language"),
        since: hours.map(|h| st.app.now() - chrono::Duration::hours(h)),
        limit: 200,
    };
    let clusters = st.app.wire_inbox(&a.user, &q).await?;
    // Suggestions for the agency field: the sources (for those who may see them) and the
    // agencies of the events listed.
    let sources = if a.user.role.can(Capability::EditAnyStory) {
        st.app.sources(&a.user).await?
    } else {
        Vec::new()
    };
    let mut agencies: Vec<String> = sources
        .into_iter()
        .map(|s| s.name)
        .chain(clusters.iter().flat_map(|c| c.agencies.iter().cloned()))
        .collect();
    agencies.sort();
    agencies.dedup();
    let (sectors, editions) = {
        let snap = st.app.read();
        let tax = &snap.tax;
        (
            slug_options(
                "any sector",
                q.sector.as_deref().unwrap_or(""),
                tax.sectors
                    .iter()
                    .map(|x| (x.slug.as_str(), x.name.as_str())),
            ),
            slug_options(
                "any edition",
                q.edition.as_deref().unwrap_or(""),
                tax.editions
                    .iter()
                    .map(|x| (x.slug.as_str(), x.name.as_str())),
            ),
        )
    };
    let periods = PERIODS
        .iter()
        .map(|(v, label, _)| Opt {
            value: (*v).into(),
            label: (*label).into(),
            selected: *v == period,
        })
        .collect();
    let now = st.app.now();
    let rows = clusters
        .iter()
        .map(|c| ClusterRow {
            href: format!("/newsroom/wire/{}", c.id),
            headline: c.headline.clone(),
            urgency: c.urgency.map(|u| u.to_string()).unwrap_or_default(),
            agencies: c.agencies.join(", "),
            items: c.items,
            sector: c.sector.clone().unwrap_or_default(),
            editions: c.editions.join(", "),
            updated: utc(c.updated_at),
            embargo: embargo_notice(c.embargo, now).unwrap_or_default(),
        })
        .collect();
    let page = WirePage {
        f: frame(st, Some(a), "Wire"),
        rows,
        filtered: q.agency.is_some()
            || q.sector.is_some()
            || q.edition.is_some()
            || q.language.is_some(),
        agency: q.agency.unwrap_or_default(),
        sectors,
        editions,
        periods,
        agencies,
        language: q.language.unwrap_or_default(),
    };
    Ok(html_response(StatusCode::OK, page.render()))
}

async fn wire_cluster(
    st: &WebState,
    a: &Authed,
    id: ClusterId,
    query_saved: bool,
) -> Result<Response<Body>, AppError> {
    let (cluster, items) = st.app.wire_cluster(&a.user, id).await?;
    let now = st.app.now();
    let first_text = items
        .first()
        .map(|i| newsdesk_render::plain_text(&i.item.body_html))
        .unwrap_or_default();
    let views = items
        .iter()
        .enumerate()
        .map(|(n, i)| {
            let text = newsdesk_render::plain_text(&i.item.body_html);
            ItemView {
                agency: i.item.agency.clone(),
                ident: format!("{} v{}", i.item.agency_id, i.item.version),
                status: format!("{:?}", i.item.status).to_lowercase(),
                published: i.item.published_at.map(utc).unwrap_or_default(),
                headline: i.item.headline.clone(),
                body_html: agency_html(&newsdesk_render::sanitize_html(&i.item.body_html)),
                diff: if n == 0 {
                    Vec::new()
                } else {
                    diff_parts(diff::words(&first_text, &text))
                },
                embargo: embargo_notice(i.item.embargo, now).unwrap_or_default(),
                tags: item_tags(i),
            }
        })
        .collect();
    let (sectors, editions) = {
        let snap = st.app.read();
        let tax = &snap.tax;
        let sectors = slug_options(
            "(none)",
            cluster.sector.as_deref().unwrap_or(""),
            tax.sectors
                .iter()
                .map(|x| (x.slug.as_str(), x.name.as_str())),
        );
        let editions = tax
            .editions
            .iter()
            .filter(|e| e.slug.as_str() != GLOBAL_EDITION)
            .map(|x| Check {
                value: x.slug.to_string(),
                label: x.name.clone(),
                checked: cluster.editions.iter().any(|e| e == x.slug.as_str()),
            })
            .collect();
        (sectors, editions)
    };
    let tags = format!(
        "{}; {}",
        cluster.sector.as_deref().unwrap_or("no sector"),
        if cluster.editions.is_empty() {
            "no edition".to_owned()
        } else {
            cluster.editions.join(", ")
        }
    );
    let mut f = frame(st, Some(a), "Wire cluster");
    if query_saved {
        f.notice = "Saved.".into();
    }
    let page = ClusterPage {
        f,
        id: id.0,
        headline: cluster.headline,
        summary: cluster.summary,
        summary_accepted: cluster.summary_accepted,
        items: views,
        can_edit: a.user.role.can(Capability::EditAnyStory),
        sectors,
        editions,
        tags,
        embargo: embargo_notice(cluster.embargo, now).unwrap_or_default(),
    };
    Ok(html_response(StatusCode::OK, page.render()))
}

/// A start tag as the sanitiser writes it: name, attributes (values as written, always
/// double-quoted) and its length in bytes.
type StartTag<'a> = (&'a str, Vec<(&'a str, &'a str)>, usize);

/// The start tag at the beginning of `s` (which begins with `<`) as serialised by the sanitiser.
/// `None` for anything else (end tags, or text the sanitiser would never write).
fn start_tag(s: &str) -> Option<StartTag<'_>> {
    let b = s.as_bytes();
    let name_len = b[1..]
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric())
        .count();
    if name_len == 0 {
        return None;
    }
    let name = &s[1..1 + name_len];
    let mut i = 1 + name_len;
    let mut attrs = Vec::new();
    loop {
        while b.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        match b.get(i)? {
            b'>' => return Some((name, attrs, i + 1)),
            b'/' if b.get(i + 1) == Some(&b'>') => return Some((name, attrs, i + 2)),
            _ => {}
        }
        let start = i;
        while b
            .get(i)
            .is_some_and(|c| !c.is_ascii_whitespace() && !matches!(c, b'=' | b'>' | b'/'))
        {
            i += 1;
        }
        if i == start {
            return None;
        }
        let key = &s[start..i];
        if b.get(i) == Some(&b'=') {
            if b.get(i + 1) != Some(&b'"') {
                return None;
            }
            let from = i + 2;
            let len = s[from..].find('"')?;
            attrs.push((key, &s[from..from + len]));
            i = from + len + 1;
        } else {
            attrs.push((key, ""));
        }
    }
}

/// Agency copy (already sanitised) as the wire desk shows it. Two things change: a picture
/// becomes a link to the agency's file with its description (the newsroom loads images only from
/// this site, by its Content-Security-Policy, and an agency's picture is not ours to show until it
/// is bought), and a link whose address the sanitiser removed (a `javascript:` one) loses its
/// `rel` as well, which is invalid HTML without an `href`.
pub fn agency_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let Some((name, attrs, len)) = start_tag(tail) else {
            out.push('<');
            rest = &tail[1..];
            continue;
        };
        let attr = |k: &str| attrs.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
        if name.eq_ignore_ascii_case("img") {
            // Attribute values are written with `&` and `"` escaped but not `<` or `>`.
            let alt = attr("alt")
                .map(|a| a.trim().replace('<', "&lt;").replace('>', "&gt;"))
                .filter(|a| !a.is_empty())
                .unwrap_or_else(|| "no description".into());
            match attr("src").filter(|u| {
                let u = u.to_ascii_lowercase();
                u.starts_with("https://") || u.starts_with("http://")
            }) {
                Some(src) => out.push_str(&format!(
                    "<a href=\"{src}\" rel=\"noopener noreferrer nofollow\">Agency picture: {alt}</a>"
                )),
                None => out.push_str(&format!("(Agency picture: {alt})")),
            }
        } else if name.eq_ignore_ascii_case("a") && attr("href").is_none() {
            out.push_str("<a");
            for (k, v) in attrs.iter().filter(|(k, _)| *k != "rel") {
                out.push_str(&format!(" {k}=\"{v}\""));
            }
            out.push('>');
        } else {
            out.push_str(&tail[..len]);
        }
        rest = &tail[len..];
    }
    out.push_str(rest);
    out
}

/// An agency item's suggested tags with what each rests on: "east-africa (from: Kenyan, Nairobi
/// (city, Kenya)); sector health (from: cholera, outbreak)".
fn item_tags(i: &newsdesk_domain::StoredWireItem) -> String {
    let prefix = newsdesk_domain::SECTOR_EVIDENCE_PREFIX;
    let (sector_ev, region_ev): (Vec<&String>, Vec<&String>) =
        i.evidence.iter().partition(|e| e.starts_with(prefix));
    let mut out = i.editions.join(", ");
    if !region_ev.is_empty() {
        let ev: Vec<&str> = region_ev.iter().map(|e| e.as_str()).collect();
        out.push_str(&format!(" (from: {})", ev.join(", ")));
    }
    if let Some(sector) = &i.sector {
        if !out.is_empty() {
            out.push_str("; ");
        }
        out.push_str(&format!("sector {sector}"));
        if let Some(ev) = sector_ev.first().and_then(|e| e.strip_prefix(prefix)) {
            out.push_str(&format!(" (from: {ev})"));
        }
    }
    out
}
