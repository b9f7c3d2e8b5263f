//! Media: the pictures page, picture uploads, a story's video, and the files of stories not yet
//! public (behind the session).

use super::extract::{Param, Session, TempUpload, UploadBody};
use super::stories::story_id;
use super::{frame, html_response, see_other, AppError, Frame, Page, St};
use crate::error::WebError;
use crate::WebState;
use askama::Template;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, Response, StatusCode};
use newsdesk_app::Authed;
use newsdesk_domain::*;

/// `GET /newsroom/media`.
pub(super) async fn list(State(st): St, Session(a): Session) -> Page {
    Ok(media_page(&st, &a, Vec::new(), String::new(), StatusCode::OK).await)
}

/// `GET /newsroom/media/{name}`: pictures and videos of stories not yet public, for the
/// newsroom's own pages.
pub(super) async fn file(
    State(st): St,
    Session(a): Session,
    Param(name): Param,
    headers: HeaderMap,
) -> Page {
    newsdesk_app::require(&a.user, Capability::ViewNewsroom)?;
    let Some(mut res) = crate::assets::serve_media(&st.media, &name, &headers).await else {
        return Err(WebError::not_found());
    };
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("private, no-store"),
    );
    Ok(res)
}

/// `POST /newsroom/media` (multipart): a picture with its alt text, caption and credit. The
/// right to upload is asked of `app` before a byte of the body is read.
pub(super) async fn upload(State(st): St, up: UploadBody) -> Page {
    let a = up.session.clone();
    st.app.may_upload(&a.user)?;
    let form = up.open(&st).await?;
    let Some(tmp) = form.file else {
        return Ok(media_page(
            &st,
            &a,
            vec!["Choose a picture to upload.".into()],
            String::new(),
            StatusCode::BAD_REQUEST,
        )
        .await);
    };
    // A picture is decoded in memory anyway; it is read back only now, within its limit.
    let bytes = tokio::fs::read(&tmp.0)
        .await
        .map_err(|e| AppError::Internal(Box::new(e)))?;
    drop(tmp);
    match st
        .app
        .upload_image(
            &a.user,
            bytes,
            &form.alt,
            &form.caption,
            &form.credit,
            &*st.media.store,
        )
        .await
    {
        Ok(img) => Ok(media_page(
            &st,
            &a,
            Vec::new(),
            format!(
                "Uploaded picture {} ({}×{}).",
                img.id, img.width, img.height
            ),
            StatusCode::OK,
        )
        .await),
        Err(AppError::Invalid(fields)) => Ok(media_page(
            &st,
            &a,
            fields.into_iter().map(|f| f.message).collect(),
            String::new(),
            StatusCode::BAD_REQUEST,
        )
        .await),
        Err(e) => Err(e.into()),
    }
}

/// `POST /newsroom/stories/{id}/video` (multipart): a story's video. The right to attach it
/// is asked of `app` before a byte of the body is read.
pub(super) async fn video(State(st): St, Param(id): Param, up: UploadBody) -> Page {
    let a = up.session.clone();
    let id = story_id(&id)?;
    st.app.may_attach_video(&a.user, id).await?;
    let form = up.open(&st).await?;
    attach_video(&st, &a, id, &form.version, form.file).await
}

async fn attach_video(
    st: &WebState,
    a: &Authed,
    id: StoryId,
    version: &str,
    file: Option<TempUpload>,
) -> Page {
    let Ok(version) = version.parse::<i64>() else {
        return Err(WebError::new(
            StatusCode::BAD_REQUEST,
            "Bad upload",
            "The form lost its version; reload the page.",
        ));
    };
    let Some(tmp) = file else {
        return Err(WebError::new(
            StatusCode::BAD_REQUEST,
            "No video",
            "Choose an MP4 or WebM file to upload.",
        ));
    };
    // The upload is in a hidden temporary file in the media folder; the media room moves it
    // (or refuses it), and the temporary file is removed either way.
    let result = st
        .app
        .attach_video(&a.user, id, version, &tmp.0, &*st.media.store)
        .await;
    drop(tmp);
    result?;
    Ok(see_other(&format!("/newsroom/stories/{id}?saved=1")))
}

/// An uploaded picture in the media list.
pub struct MediaRow {
    /// Id (to pick it as a hero image).
    pub id: i64,
    /// Thumbnail URL.
    pub src: String,
    /// Alt text.
    pub alt: String,
    /// Size.
    pub size: String,
}

#[derive(Template)]
#[template(path = "newsroom/media.html")]
struct MediaPage {
    f: Frame,
    rows: Vec<MediaRow>,
    can_upload: bool,
}

async fn media_page(
    st: &WebState,
    a: &Authed,
    errors: Vec<String>,
    notice: String,
    status: StatusCode,
) -> Response<Body> {
    let mut f = frame(st, Some(a), "Pictures");
    f.errors = errors;
    f.notice = notice;
    let rows = {
        let snap = st.app.read();
        let mut imgs: Vec<_> = snap.images.values().cloned().collect();
        imgs.sort_by_key(|i| std::cmp::Reverse(i.id));
        imgs.truncate(60);
        imgs.iter()
            .map(|i| MediaRow {
                id: i.id.0,
                src: format!(
                    "/newsroom{}",
                    i.variant_path(i.widths.first().copied().unwrap_or(i.width))
                ),
                alt: i.alt.clone(),
                size: format!("{}×{}", i.width, i.height),
            })
            .collect()
    };
    html_response(
        status,
        MediaPage {
            f,
            rows,
            can_upload: a.user.role.can(Capability::UploadMedia),
        }
        .render(),
    )
}
