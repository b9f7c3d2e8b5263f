//! The newsroom's extractors: the checks every request must pass, in the only order they can be
//! passed, before a handler runs. A handler that takes [`Session`] cannot run for a request
//! without a session or (where the site requires it) without a second factor; one that takes
//! [`Posted`] cannot run for a form from another site, over the size limit, or without the
//! session's CSRF token; an upload ([`UploadBody`]) gives up its fields only through
//! [`UploadBody::open`], which reads the CSRF token (the first field) before anything else.
//! Everything that can refuse a request without its body is checked before the body is read.

use super::{same_origin, SESSION_COOKIE};
use crate::error::{SessionSlot, WebError};
pub use crate::forms::{body_limit, BodyLimit};
use crate::forms::{cookie, read_body, BodyError, FormData};
use crate::WebState;
use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use newsdesk_app::Authed;
use std::sync::Arc;

/// The body limit set for this request (the form limit where no router set one).
pub fn limit_of(parts: &Parts) -> usize {
    parts
        .extensions
        .get::<BodyLimit>()
        .map_or(FORM_LIMIT, |l| l.0)
}

/// Largest form body accepted from a session.
pub const FORM_LIMIT: usize = 2 * 1024 * 1024;
/// Largest form body of the pages open without a session (login, password reset, invitation).
pub const OPEN_FORM_LIMIT: usize = 64 * 1024;
/// Largest picture upload body (the image limit plus the form's other fields).
pub const UPLOAD_LIMIT: usize = 16 * 1024 * 1024;
/// Largest video upload body.
pub const VIDEO_UPLOAD_LIMIT: usize = 101 * 1024 * 1024;
/// Largest text field of an upload form (alt text, caption, credit, version, CSRF token).
const UPLOAD_FIELD_LIMIT: usize = 64 * 1024;

/// The request's session, if its cookie names a live one (noted for error pages).
pub async fn lookup(parts: &Parts, st: &WebState) -> Result<Option<Authed>, WebError> {
    let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let authed = st.app.session(token).await?;
    if let (Some(a), Some(slot)) = (&authed, parts.extensions.get::<SessionSlot>()) {
        slot.fill(a);
    }
    Ok(authed)
}

/// A session is needed: a page is a detour to the login, a state change is refused.
fn no_session(parts: &Parts) -> WebError {
    if parts.method == Method::POST {
        WebError::new(
            StatusCode::FORBIDDEN,
            "Please log in",
            "Your session has ended. Log in and try again.",
        )
    } else {
        WebError::see_other("/newsroom/login")
    }
}

/// A logged-in newsroom user who has passed every login rule: where the site requires a second
/// factor for the role, it is set up (else the request is sent to set it up).
pub struct Session(pub Authed);

/// A logged-in user who may still have to set up a second factor: only for the pages that set
/// it up, and logging out.
pub struct SetupSession(pub Authed);

/// What [`Posted`] needs of a session extractor.
pub trait HasSession {
    /// The session.
    fn authed(&self) -> &Authed;
}

impl HasSession for Session {
    fn authed(&self) -> &Authed {
        &self.0
    }
}

impl HasSession for SetupSession {
    fn authed(&self) -> &Authed {
        &self.0
    }
}

impl FromRequestParts<Arc<WebState>> for SetupSession {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, st: &Arc<WebState>) -> Result<Self, WebError> {
        match lookup(parts, st).await? {
            Some(a) => Ok(SetupSession(a)),
            None => Err(no_session(parts)),
        }
    }
}

impl FromRequestParts<Arc<WebState>> for Session {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, st: &Arc<WebState>) -> Result<Self, WebError> {
        let SetupSession(a) = SetupSession::from_request_parts(parts, st).await?;
        // A site that requires a second factor sends editors and admins without one to set
        // it up, whatever they asked for.
        if st.app.second_factor_missing(&a.user) {
            return Err(WebError::see_other("/newsroom/account"));
        }
        Ok(Session(a))
    }
}

/// The refusal of a state change that did not come from our own pages.
fn cross_site() -> WebError {
    WebError::new(
        StatusCode::FORBIDDEN,
        "Refused",
        "This form was not sent from the newsroom.",
    )
}

/// The refusal of a form without its session's token.
fn csrf_refused() -> WebError {
    WebError::new(
        StatusCode::FORBIDDEN,
        "Refused",
        "This form was not sent from your newsroom session. Reload the page and try again.",
    )
}

/// The answer to a body that could not be read.
fn body_refused(e: BodyError, limit: usize) -> WebError {
    match e {
        BodyError::TooLarge => {
            let text = if limit >= 1024 * 1024 {
                format!("The form is larger than {} MiB.", limit / (1024 * 1024))
            } else {
                format!("The form is larger than {} KiB.", limit / 1024)
            };
            WebError::new(StatusCode::PAYLOAD_TOO_LARGE, "Too large", text)
        }
        BodyError::TimedOut => WebError::new(
            StatusCode::REQUEST_TIMEOUT,
            "Too slow",
            "The form did not arrive in time; please send it again.",
        ),
        BodyError::Broken => WebError::new(
            StatusCode::BAD_REQUEST,
            "Bad form",
            "The form could not be read.",
        ),
    }
}

/// Reads a form body of at most `limit` bytes.
async fn read_form(body: Body, limit: usize) -> Result<FormData, WebError> {
    let bytes = read_body(body, limit)
        .await
        .map_err(|e| body_refused(e, limit))?;
    FormData::parse(&bytes).ok_or_else(|| {
        WebError::new(
            StatusCode::BAD_REQUEST,
            "Bad form",
            "The form could not be read (it is not valid UTF-8).",
        )
    })
}

/// A form posted from our own pages by session `S` (a [`Session`] unless named), carrying the
/// session's CSRF token. Checked in this order, the body read only after the first three:
/// same origin, session (and its login rules), size limit, token.
pub struct Posted<S = Session> {
    /// The session.
    pub session: S,
    /// The fields.
    pub form: FormData,
}

impl<S> FromRequest<Arc<WebState>> for Posted<S>
where
    S: FromRequestParts<Arc<WebState>, Rejection = WebError> + HasSession + Send,
{
    type Rejection = WebError;

    async fn from_request(req: Request, st: &Arc<WebState>) -> Result<Self, WebError> {
        let (mut parts, body) = req.into_parts();
        // Every state change must come from our own pages.
        if !same_origin(&parts.headers, &st.app.site.base_url) {
            return Err(cross_site());
        }
        let session = S::from_request_parts(&mut parts, st).await?;
        let form = read_form(body, limit_of(&parts)).await?;
        if !session.authed().csrf_ok(form.get("csrf")) {
            return Err(csrf_refused());
        }
        Ok(Posted { session, form })
    }
}

/// A form of the pages open without a session (login, password reset, invitation): from our
/// own pages, and small.
pub struct OpenForm(pub FormData);

impl FromRequest<Arc<WebState>> for OpenForm {
    type Rejection = WebError;

    async fn from_request(req: Request, st: &Arc<WebState>) -> Result<Self, WebError> {
        let (parts, body) = req.into_parts();
        if !same_origin(&parts.headers, &st.app.site.base_url) {
            return Err(cross_site());
        }
        Ok(OpenForm(read_form(body, limit_of(&parts)).await?))
    }
}

/// A multipart upload by a [`Session`] from our own pages, its body not yet read. The handler
/// asks `app` whether the session may upload, then [`UploadBody::open`]s it.
pub struct UploadBody {
    /// The session.
    pub session: Authed,
    content_type: String,
    limit: usize,
    body: Body,
}

impl FromRequest<Arc<WebState>> for UploadBody {
    type Rejection = WebError;

    async fn from_request(req: Request, st: &Arc<WebState>) -> Result<Self, WebError> {
        let (mut parts, body) = req.into_parts();
        let Session(a) = Session::from_request_parts(&mut parts, st).await?;
        if !same_origin(&parts.headers, &st.app.site.base_url) {
            return Err(csrf_refused());
        }
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        if !content_type.starts_with("multipart/form-data") {
            return Err(WebError::not_found());
        }
        Ok(UploadBody {
            session: a,
            content_type,
            limit: limit_of(&parts),
            body,
        })
    }
}

/// A temporary upload file in the media folder, removed when dropped.
pub struct TempUpload(pub std::path::PathBuf);

impl Drop for TempUpload {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// An upload's fields, its file in a temporary file.
#[derive(Default)]
pub struct Upload {
    /// Alt text.
    pub alt: String,
    /// Caption.
    pub caption: String,
    /// Credit.
    pub credit: String,
    /// The story version (video uploads).
    pub version: String,
    /// The file, if one with bytes was sent.
    pub file: Option<TempUpload>,
}

/// Why an upload's body could not be read.
enum UploadError {
    TooLarge,
    TimedOut,
    Unreadable,
    Disk(std::io::Error),
}

impl From<multer::Error> for UploadError {
    fn from(e: multer::Error) -> Self {
        match e {
            multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => {
                UploadError::TooLarge
            }
            other => match crate::forms::body_error(&other) {
                BodyError::TooLarge => UploadError::TooLarge,
                BodyError::TimedOut => UploadError::TimedOut,
                BodyError::Broken => UploadError::Unreadable,
            },
        }
    }
}

/// The upload could not be read.
pub fn bad_upload() -> WebError {
    WebError::new(
        StatusCode::BAD_REQUEST,
        "Bad upload",
        "The upload could not be read.",
    )
}

fn upload_refused(e: UploadError, limit: usize) -> WebError {
    match e {
        UploadError::TooLarge => WebError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Too large",
            format!("The upload is larger than {} MiB.", limit / (1024 * 1024)),
        ),
        UploadError::TimedOut => WebError::new(
            StatusCode::REQUEST_TIMEOUT,
            "Too slow",
            "The upload did not arrive in time; please try again.",
        ),
        UploadError::Unreadable => bad_upload(),
        UploadError::Disk(e) => newsdesk_app::AppError::Internal(Box::new(e)).into(),
    }
}

impl UploadBody {
    /// Reads the upload within its route's body limit: first the CSRF token, which must be the first
    /// field (nothing else is read without it), then the text fields and the file, which goes
    /// to a hidden temporary file in the media folder as it arrives, never whole into memory.
    pub async fn open(self, st: &WebState) -> Result<Upload, WebError> {
        let limit = self.limit;
        let refused = |e: UploadError| upload_refused(e, limit);
        let boundary = multer::parse_boundary(&self.content_type).map_err(|_| bad_upload())?;
        let field_limit = UPLOAD_FIELD_LIMIT as u64;
        let constraints = multer::Constraints::new().size_limit(
            multer::SizeLimit::new()
                .whole_stream(limit as u64)
                .for_field("csrf", field_limit)
                .for_field("alt", field_limit)
                .for_field("caption", field_limit)
                .for_field("credit", field_limit)
                .for_field("version", field_limit),
        );
        let mut parts = multer::Multipart::with_constraints(
            self.body.into_data_stream(),
            boundary,
            constraints,
        );
        let csrf = match parts.next_field().await {
            Ok(Some(field)) if field.name() == Some("csrf") => {
                field.text().await.map_err(|e| refused(e.into()))?
            }
            Ok(_) => String::new(),
            Err(e) => return Err(refused(e.into())),
        };
        if !self.session.csrf_ok(&csrf) {
            return Err(csrf_refused());
        }
        let mut out = Upload::default();
        let mut file: Option<(TempUpload, u64)> = None;
        while let Some(mut field) = parts.next_field().await.map_err(|e| refused(e.into()))? {
            let name = field.name().unwrap_or("").to_owned();
            if name == "file" {
                if file.is_some() {
                    return Err(bad_upload());
                }
                file = Some(save_field(st, &mut field).await.map_err(refused)?);
                continue;
            }
            let text = field.text().await.map_err(|e| refused(e.into()))?;
            match name.as_str() {
                "alt" => out.alt = text,
                "caption" => out.caption = text,
                "credit" => out.credit = text,
                "version" => out.version = text,
                _ => {}
            }
        }
        out.file = file.filter(|(_, len)| *len > 0).map(|(f, _)| f);
        Ok(out)
    }
}

/// Streams a file field into a hidden temporary file in the media folder; returns it and its
/// length. The whole-stream limit of the multipart parser bounds it.
async fn save_field(
    st: &WebState,
    field: &mut multer::Field<'static>,
) -> Result<(TempUpload, u64), UploadError> {
    use tokio::io::AsyncWriteExt;
    let name = newsdesk_app::auth::random_hex(8)
        .map_err(|e| UploadError::Disk(std::io::Error::other(e.to_string())))?;
    tokio::fs::create_dir_all(&st.media_dir)
        .await
        .map_err(UploadError::Disk)?;
    let tmp = TempUpload(st.media_dir.join(format!(".upload-{name}")));
    let mut out = tokio::fs::File::create(&tmp.0)
        .await
        .map_err(UploadError::Disk)?;
    let mut len = 0u64;
    while let Some(chunk) = field.chunk().await? {
        len += chunk.len() as u64;
        out.write_all(&chunk).await.map_err(UploadError::Disk)?;
    }
    out.flush().await.map_err(UploadError::Disk)?;
    Ok((tmp, len))
}

/// A path parameter as written; anything that cannot be read is simply not found.
pub struct Param(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Param {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, st: &S) -> Result<Self, WebError> {
        axum::extract::Path::<String>::from_request_parts(parts, st)
            .await
            .map(|p| Param(p.0))
            .map_err(|_| WebError::not_found())
    }
}
