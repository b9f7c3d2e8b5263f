//! SQL of the feedback desk and of outgoing webhooks.

use super::{from_ms, jobs, ms, newsroom, opt_ms, sql_err, update_one, SqliteStore};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use newsdesk_domain::*;
use newsdesk_store::{FeedbackStore, StoreError, StoreResult, WebhookStore};
use rusqlite::{params, Connection, OptionalExtension, Row};

const FEEDBACK_COLS: &str =
    "id, name, email, message, page, status, received_at, reply, replied_by, replied_at";

type FeedbackRaw = (
    i64,
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<String>,
    Option<i64>,
    Option<i64>,
);

fn feedback_raw(r: &Row<'_>) -> rusqlite::Result<FeedbackRaw> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
    ))
}

fn feedback(x: FeedbackRaw) -> StoreResult<FeedbackMessage> {
    let reply = match (x.7, x.8, opt_ms(x.9)?) {
        (Some(text), Some(by), Some(at)) => Some(FeedbackReply {
            text,
            by: UserId(by),
            at,
        }),
        _ => None,
    };
    Ok(FeedbackMessage {
        id: FeedbackId(x.0),
        sent: NewFeedback {
            name: x.1,
            email: x.2,
            message: x.3,
            page: x.4,
        },
        status: FeedbackStatus::parse(&x.5)
            .ok_or_else(|| StoreError::msg(format!("bad feedback status {:?}", x.5)))?,
        received_at: from_ms(x.6)?,
        reply,
    })
}

fn list_feedback(
    c: &Connection,
    status: Option<FeedbackStatus>,
    limit: usize,
) -> StoreResult<Vec<FeedbackMessage>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let raws = match status {
        Some(s) => {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {FEEDBACK_COLS} FROM feedback WHERE status = ?1 ORDER BY id DESC LIMIT ?2"
                ))
                .map_err(sql_err)?;
            let rows = st
                .query_map(params![s.as_str(), limit], feedback_raw)
                .map_err(sql_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        }
        None => {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {FEEDBACK_COLS} FROM feedback ORDER BY id DESC LIMIT ?1"
                ))
                .map_err(sql_err)?;
            let rows = st.query_map(params![limit], feedback_raw).map_err(sql_err)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        }
    }
    .map_err(sql_err)?;
    raws.into_iter().map(feedback).collect()
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
impl FeedbackStore for SqliteStore {
    async fn add_feedback(
        &self,
        message: &NewFeedback,
        at: DateTime<Utc>,
        notify: Option<&NewJob>,
    ) -> StoreResult<FeedbackId> {
        let (m, notify) = (message.clone(), notify.cloned());
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO feedback (name, email, message, page, status, received_at) \
                 VALUES (?1, ?2, ?3, ?4, 'new', ?5)",
                params![m.name, m.email, m.message, m.page, ms(at)],
            )
            .map_err(sql_err)?;
            let id = tx.last_insert_rowid();
            if let Some(mut job) = notify {
                job.payload = with_field(&job.payload, "feedback", id);
                jobs::enqueue(tx, &[job], at)?;
            }
            Ok(FeedbackId(id))
        })
        .await
    }

    async fn list_feedback(
        &self,
        status: Option<FeedbackStatus>,
        limit: usize,
    ) -> StoreResult<Vec<FeedbackMessage>> {
        self.read(move |c| list_feedback(c, status, limit)).await
    }

    async fn get_feedback(&self, id: FeedbackId) -> StoreResult<FeedbackMessage> {
        self.read(move |c| {
            let raw = c
                .query_row(
                    &format!("SELECT {FEEDBACK_COLS} FROM feedback WHERE id = ?1"),
                    [id.0],
                    feedback_raw,
                )
                .map_err(sql_err)?;
            feedback(raw)
        })
        .await
    }

    async fn set_feedback_status(&self, id: FeedbackId, status: FeedbackStatus) -> StoreResult<()> {
        self.write(move |tx| {
            update_one(
                tx,
                "UPDATE feedback SET status = ?1 WHERE id = ?2",
                params![status.as_str(), id.0],
            )
        })
        .await
    }

    async fn reply_feedback(
        &self,
        id: FeedbackId,
        reply: &FeedbackReply,
        mail: &NewJob,
        audit: &AuditInput,
    ) -> StoreResult<()> {
        let (reply, mail, audit) = (reply.clone(), mail.clone(), audit.clone());
        self.write(move |tx| {
            update_one(
                tx,
                "UPDATE feedback SET status = 'answered', reply = ?1, replied_by = ?2, \
                 replied_at = ?3 WHERE id = ?4",
                params![reply.text, reply.by.0, ms(reply.at), id.0],
            )?;
            jobs::enqueue(tx, &[mail], reply.at)?;
            newsroom::audit(tx, &audit)
        })
        .await
    }

    async fn feedback_counts(&self) -> StoreResult<FeedbackCounts> {
        self.read(|c| {
            let mut st = c
                .prepare_cached("SELECT status, count(*) FROM feedback GROUP BY status")
                .map_err(sql_err)?;
            let rows = st
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
                .map_err(sql_err)?;
            let mut out = FeedbackCounts::default();
            for r in rows {
                let (s, n) = r.map_err(sql_err)?;
                match FeedbackStatus::parse(&s) {
                    Some(FeedbackStatus::New) => out.new = n,
                    Some(FeedbackStatus::Answered) => out.answered = n,
                    Some(FeedbackStatus::Spam) => out.spam = n,
                    None => {}
                }
            }
            Ok(out)
        })
        .await
    }
}

const HOOK_COLS: &str = "id, url, events, enabled, created_at";

fn hook(r: &Row<'_>) -> rusqlite::Result<(i64, String, String, bool, i64)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn to_hook(x: (i64, String, String, bool, i64)) -> StoreResult<Webhook> {
    Ok(Webhook {
        id: WebhookId(x.0),
        url: x.1,
        events: x.2.split(' ').filter_map(WebhookEvent::parse).collect(),
        enabled: x.3,
        created_at: from_ms(x.4)?,
    })
}

const DELIVERY_COLS: &str = "id, hook_id, event, body, state, attempts, created_at, last_at, \
                             last_status, last_excerpt";

type DeliveryRaw = (
    i64,
    i64,
    String,
    String,
    String,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

fn delivery_raw(r: &Row<'_>) -> rusqlite::Result<DeliveryRaw> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
    ))
}

fn delivery(x: DeliveryRaw) -> StoreResult<WebhookDelivery> {
    let last = match opt_ms(x.7)? {
        Some(at) => Some((at, x.8.unwrap_or(0), x.9.unwrap_or_default())),
        None => None,
    };
    Ok(WebhookDelivery {
        id: x.0,
        hook: WebhookId(x.1),
        event: x.2,
        body: x.3,
        state: DeliveryState::parse(&x.4)
            .ok_or_else(|| StoreError::msg(format!("bad delivery state {:?}", x.4)))?,
        attempts: x.5,
        created_at: from_ms(x.6)?,
        last,
    })
}

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn create_webhook(
        &self,
        url: &str,
        events: &[WebhookEvent],
        secret: &str,
        at: DateTime<Utc>,
        audit: &AuditInput,
    ) -> StoreResult<Webhook> {
        let names = events
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let (url, secret, audit) = (url.to_owned(), secret.to_owned(), audit.clone());
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO webhooks (url, events, secret, enabled, created_at) \
                 VALUES (?1, ?2, ?3, 1, ?4)",
                params![url, names, secret, ms(at)],
            )
            .map_err(sql_err)?;
            let id = tx.last_insert_rowid();
            newsroom::audit(tx, &audit)?;
            let raw = tx
                .query_row(
                    &format!("SELECT {HOOK_COLS} FROM webhooks WHERE id = ?1"),
                    [id],
                    hook,
                )
                .map_err(sql_err)?;
            to_hook(raw)
        })
        .await
    }

    async fn list_webhooks(&self) -> StoreResult<Vec<Webhook>> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(&format!("SELECT {HOOK_COLS} FROM webhooks ORDER BY id"))
                .map_err(sql_err)?;
            let raws = st
                .query_map([], hook)
                .map_err(sql_err)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(sql_err)?;
            raws.into_iter().map(to_hook).collect()
        })
        .await
    }

    async fn get_webhook(&self, id: WebhookId) -> StoreResult<Webhook> {
        self.read(move |c| {
            let raw = c
                .query_row(
                    &format!("SELECT {HOOK_COLS} FROM webhooks WHERE id = ?1"),
                    [id.0],
                    hook,
                )
                .map_err(sql_err)?;
            to_hook(raw)
        })
        .await
    }

    async fn webhook_secret(&self, id: WebhookId) -> StoreResult<String> {
        self.read(move |c| {
            c.query_row("SELECT secret FROM webhooks WHERE id = ?1", [id.0], |r| {
                r.get(0)
            })
            .map_err(sql_err)
        })
        .await
    }

    async fn set_webhook_enabled(
        &self,
        id: WebhookId,
        enabled: bool,
        audit: &AuditInput,
    ) -> StoreResult<()> {
        let audit = audit.clone();
        self.write(move |tx| {
            update_one(
                tx,
                "UPDATE webhooks SET enabled = ?1 WHERE id = ?2",
                params![enabled, id.0],
            )?;
            newsroom::audit(tx, &audit)
        })
        .await
    }

    async fn delete_webhook(&self, id: WebhookId, audit: &AuditInput) -> StoreResult<()> {
        let audit = audit.clone();
        self.write(move |tx| {
            tx.execute("DELETE FROM webhook_deliveries WHERE hook_id = ?1", [id.0])
                .map_err(sql_err)?;
            update_one(tx, "DELETE FROM webhooks WHERE id = ?1", [id.0])?;
            newsroom::audit(tx, &audit)
        })
        .await
    }

    async fn queue_webhook_event(
        &self,
        event_key: &str,
        event: &str,
        body: &str,
        hooks: &[WebhookId],
        jobs: &[NewJob],
        at: DateTime<Utc>,
        keep: usize,
    ) -> StoreResult<usize> {
        let (key, event, body) = (event_key.to_owned(), event.to_owned(), body.to_owned());
        let (hooks, new_jobs) = (hooks.to_vec(), jobs.to_vec());
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        self.write(move |tx| {
            let mut made = 0;
            for (i, h) in hooks.iter().enumerate() {
                let held: Option<i64> = tx
                    .query_row(
                        "SELECT id FROM webhook_deliveries WHERE hook_id = ?1 AND event_key = ?2",
                        params![h.0, key],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(sql_err)?;
                if held.is_some() {
                    continue;
                }
                tx.execute(
                    "INSERT INTO webhook_deliveries (hook_id, event_key, event, body, state, \
                     attempts, created_at) VALUES (?1, ?2, ?3, ?4, 'pending', 0, ?5)",
                    params![h.0, key, event, body, ms(at)],
                )
                .map_err(sql_err)?;
                made += 1;
                if let Some(job) = new_jobs.get(i) {
                    jobs::enqueue(tx, std::slice::from_ref(job), at)?;
                }
                tx.execute(
                    "DELETE FROM webhook_deliveries WHERE hook_id = ?1 AND state <> 'pending' \
                     AND id NOT IN (SELECT id FROM webhook_deliveries WHERE hook_id = ?1 \
                     ORDER BY id DESC LIMIT ?2)",
                    params![h.0, keep],
                )
                .map_err(sql_err)?;
            }
            Ok(made)
        })
        .await
    }

    async fn get_webhook_delivery(
        &self,
        hook: WebhookId,
        event_key: &str,
    ) -> StoreResult<WebhookDelivery> {
        let key = event_key.to_owned();
        self.read(move |c| {
            let raw = c
                .query_row(
                    &format!(
                        "SELECT {DELIVERY_COLS} FROM webhook_deliveries \
                         WHERE hook_id = ?1 AND event_key = ?2"
                    ),
                    params![hook.0, key],
                    delivery_raw,
                )
                .map_err(sql_err)?;
            delivery(raw)
        })
        .await
    }

    async fn record_webhook_attempt(
        &self,
        delivery: i64,
        at: DateTime<Utc>,
        status: i64,
        excerpt: &str,
        state: DeliveryState,
    ) -> StoreResult<()> {
        let excerpt = excerpt.to_owned();
        self.write(move |tx| {
            update_one(
                tx,
                "UPDATE webhook_deliveries SET attempts = attempts + 1, last_at = ?1, \
                 last_status = ?2, last_excerpt = ?3, state = ?4 WHERE id = ?5",
                params![ms(at), status, excerpt, state.as_str(), delivery],
            )
        })
        .await
    }

    async fn list_webhook_deliveries(
        &self,
        hook: WebhookId,
        limit: usize,
    ) -> StoreResult<Vec<WebhookDelivery>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE hook_id = ?1 \
                     ORDER BY id DESC LIMIT ?2"
                ))
                .map_err(sql_err)?;
            let raws = st
                .query_map(params![hook.0, limit], delivery_raw)
                .map_err(sql_err)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(sql_err)?;
            raws.into_iter().map(delivery).collect()
        })
        .await
    }
}
