//! The one error type of the use cases; `web` maps it to a page or a JSON error.

use newsdesk_store::StoreError;

/// A field that failed validation, and why (shown to the user).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Form or JSON field name.
    pub field: String,
    /// Human message.
    pub message: String,
}

/// What a use case can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Nothing at that address (or not public yet).
    #[error("not found")]
    NotFound,
    /// Not allowed for this user.
    #[error("forbidden")]
    Forbidden,
    /// The input was refused; each field says why.
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// Someone else changed it, or the name is taken.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Too many attempts; try later.
    #[error("rate limited")]
    RateLimited,
    /// The store is saturated, or a lease shared by the nodes is held elsewhere: nothing was
    /// done, and the same request can be made again in a few seconds.
    #[error("busy")]
    Busy,
    /// A bug or an outage: logged with its cause chain, never shown.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl AppError {
    /// One invalid field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid(vec![FieldError {
            field: field.to_owned(),
            message: message.into(),
        }])
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Busy => AppError::Busy,
            StoreError::Conflict(c) => {
                if let newsdesk_store::Conflict::Constraint(raw) = &c {
                    // The database's own words go to the log, never to a page.
                    tracing::warn!(constraint = %raw, "a write broke a database rule");
                }
                AppError::Conflict(c.user_message().to_owned())
            }
            other => AppError::Internal(Box::new(other)),
        }
    }
}

/// Result alias for use cases.
pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod store_conflicts {
    use super::*;
    use newsdesk_store::Conflict;

    #[test]
    fn the_database_s_own_words_never_reach_a_page() {
        let raw = "UNIQUE constraint failed: users.email";
        let e = AppError::from(StoreError::Conflict(Conflict::Constraint(raw.into())));
        let AppError::Conflict(shown) = e else {
            panic!("a conflict stays a conflict");
        };
        assert!(
            !shown.contains("UNIQUE") && !shown.contains("users"),
            "{shown}"
        );
        let stale = AppError::from(StoreError::Conflict(Conflict::StaleVersion {
            expected: 1,
            actual: 2,
        }));
        assert!(matches!(stale, AppError::Conflict(m) if m.contains("Someone else saved")));
    }
}
