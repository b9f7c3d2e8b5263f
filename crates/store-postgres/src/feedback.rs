//! The feedback desk on PostgreSQL. A message and its notification job are one transaction,
//! as on SQLite.

use super::{begin, commit, from_ms, get, jobs, ms, newsroom, opt_ms, query, query_one};
use super::{update_one, PgStore};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use newsdesk_domain::*;
use newsdesk_store::{FeedbackStore, StoreError, StoreResult};
use tokio_postgres::Row;

const FEEDBACK_COLS: &str =
    "id, name, email, message, page, status, received_at, reply, replied_by, replied_at";

fn feedback(r: &Row) -> StoreResult<FeedbackMessage> {
    let text: Option<String> = get(r, 7)?;
    let by: Option<i64> = get(r, 8)?;
    let reply = match (text, by, opt_ms(get(r, 9)?)?) {
        (Some(text), Some(by), Some(at)) => Some(FeedbackReply {
            text,
            by: UserId(by),
            at,
        }),
        _ => None,
    };
    let status: String = get(r, 5)?;
    Ok(FeedbackMessage {
        id: FeedbackId(get(r, 0)?),
        sent: NewFeedback {
            name: get(r, 1)?,
            email: get(r, 2)?,
            message: get(r, 3)?,
            page: get(r, 4)?,
        },
        status: FeedbackStatus::parse(&status)
            .ok_or_else(|| StoreError::msg(format!("bad feedback status {status:?}")))?,
        received_at: from_ms(get(r, 6)?)?,
        reply,
    })
}

/// `payload` (a JSON object) with `key: value` added; other payloads as they are.
fn with_field(payload: &str, key: &str, value: i64) -> String {
    match serde_json::from_str::<serde_json::Value>(payload) {
        Ok(serde_json::Value::Object(mut m)) => {
            m.insert(key.into(), value.into());
            serde_json::Value::Object(m).to_string()
        }
        _ => payload.to_owned(),
    }
}

#[async_trait]
impl FeedbackStore for PgStore {
    async fn add_feedback(
        &self,
        m: &NewFeedback,
        at: DateTime<Utc>,
        notify: Option<&NewJob>,
    ) -> StoreResult<FeedbackId> {
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        let row = query_one(
            &tx,
            "INSERT INTO feedback (name, email, message, page, status, received_at) \
             VALUES ($1, $2, $3, $4, 'new', $5) RETURNING id",
            &[&m.name, &m.email, &m.message, &m.page, &ms(at)],
        )
        .await?;
        let id: i64 = get(&row, 0)?;
        if let Some(job) = notify {
            let mut job = job.clone();
            job.payload = with_field(&job.payload, "feedback", id);
            jobs::enqueue(&tx, &[job], at).await?;
        }
        commit(tx).await?;
        Ok(FeedbackId(id))
    }

    async fn list_feedback(
        &self,
        status: Option<FeedbackStatus>,
        limit: usize,
    ) -> StoreResult<Vec<FeedbackMessage>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let status = status.map(|s| s.as_str());
        let c = self.conn().await?;
        query(
            &**c,
            &format!(
                "SELECT {FEEDBACK_COLS} FROM feedback WHERE ($1::TEXT IS NULL OR status = $1) \
                 ORDER BY id DESC LIMIT $2"
            ),
            &[&status, &limit],
        )
        .await?
        .iter()
        .map(feedback)
        .collect()
    }

    async fn get_feedback(&self, id: FeedbackId) -> StoreResult<FeedbackMessage> {
        let c = self.conn().await?;
        feedback(
            &query_one(
                &**c,
                &format!("SELECT {FEEDBACK_COLS} FROM feedback WHERE id = $1"),
                &[&id.0],
            )
            .await?,
        )
    }

    async fn set_feedback_status(&self, id: FeedbackId, status: FeedbackStatus) -> StoreResult<()> {
        let c = self.conn().await?;
        update_one(
            &**c,
            "UPDATE feedback SET status = $1 WHERE id = $2",
            &[&status.as_str(), &id.0],
        )
        .await
    }

    async fn reply_feedback(
        &self,
        id: FeedbackId,
        reply: &FeedbackReply,
        mail: &NewJob,
        audit: &AuditInput,
    ) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        update_one(
            &tx,
            "UPDATE feedback SET status = 'answered', reply = $1, replied_by = $2, \
             replied_at = $3 WHERE id = $4",
            &[&reply.text, &reply.by.0, &ms(reply.at), &id.0],
        )
        .await?;
        jobs::enqueue(&tx, std::slice::from_ref(mail), reply.at).await?;
        newsroom::audit(&tx, audit).await?;
        commit(tx).await
    }

    async fn feedback_counts(&self) -> StoreResult<FeedbackCounts> {
        let c = self.conn().await?;
        let rows = query(
            &**c,
            "SELECT status, count(*) FROM feedback GROUP BY status",
            &[],
        )
        .await?;
        let mut out = FeedbackCounts::default();
        for r in &rows {
            let s: String = get(r, 0)?;
            let n: i64 = get(r, 1)?;
            match FeedbackStatus::parse(&s) {
                Some(FeedbackStatus::New) => out.new = n,
                Some(FeedbackStatus::Answered) => out.answered = n,
                Some(FeedbackStatus::Spam) => out.spam = n,
                None => {}
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::with_field;

    #[test]
    fn the_feedback_id_joins_an_object_payload_only() {
        assert_eq!(
            with_field(r#"{"a":1}"#, "feedback", 7),
            r#"{"a":1,"feedback":7}"#
        );
        assert_eq!(with_field("[1]", "feedback", 7), "[1]");
    }
}
