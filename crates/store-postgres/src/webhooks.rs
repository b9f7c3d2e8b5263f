//! Outgoing webhooks on PostgreSQL: hooks, and one delivery row per (hook, event key), queued
//! with its job in one transaction. The (hook, event key) unique index decides which of two
//! nodes queuing the same event makes the delivery (`ON CONFLICT DO NOTHING`), where SQLite
//! looks first under its single writer.

use super::{begin, commit, exec, from_ms, get, jobs, ms, newsroom, opt_ms, query, query_one};
use super::{query_opt, update_one, PgStore};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use newsdesk_domain::*;
use newsdesk_store::{StoreError, StoreResult, WebhookStore};
use tokio_postgres::Row;

const HOOK_COLS: &str = "id, url, events, enabled, created_at";

fn hook(r: &Row) -> StoreResult<Webhook> {
    let events: String = get(r, 2)?;
    Ok(Webhook {
        id: WebhookId(get(r, 0)?),
        url: get(r, 1)?,
        events: events.split(' ').filter_map(WebhookEvent::parse).collect(),
        enabled: get(r, 3)?,
        created_at: from_ms(get(r, 4)?)?,
    })
}

const DELIVERY_COLS: &str = "id, hook_id, event, body, state, attempts, created_at, last_at, \
                             last_status, last_excerpt";

fn delivery(r: &Row) -> StoreResult<WebhookDelivery> {
    let last = match opt_ms(get(r, 7)?)? {
        Some(at) => {
            let status: Option<i64> = get(r, 8)?;
            let excerpt: Option<String> = get(r, 9)?;
            Some((at, status.unwrap_or(0), excerpt.unwrap_or_default()))
        }
        None => None,
    };
    let state: String = get(r, 4)?;
    Ok(WebhookDelivery {
        id: get(r, 0)?,
        hook: WebhookId(get(r, 1)?),
        event: get(r, 2)?,
        body: get(r, 3)?,
        state: DeliveryState::parse(&state)
            .ok_or_else(|| StoreError::msg(format!("bad delivery state {state:?}")))?,
        attempts: get(r, 5)?,
        created_at: from_ms(get(r, 6)?)?,
        last,
    })
}

#[async_trait]
impl WebhookStore for PgStore {
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
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        let r = query_one(
            &tx,
            &format!(
                "INSERT INTO webhooks (url, events, secret, enabled, created_at) \
                 VALUES ($1, $2, $3, TRUE, $4) RETURNING {HOOK_COLS}"
            ),
            &[&url, &names, &secret, &ms(at)],
        )
        .await?;
        let h = hook(&r)?;
        newsroom::audit(&tx, audit).await?;
        commit(tx).await?;
        Ok(h)
    }

    async fn list_webhooks(&self) -> StoreResult<Vec<Webhook>> {
        let c = self.conn().await?;
        query(
            &**c,
            &format!("SELECT {HOOK_COLS} FROM webhooks ORDER BY id"),
            &[],
        )
        .await?
        .iter()
        .map(hook)
        .collect()
    }

    async fn get_webhook(&self, id: WebhookId) -> StoreResult<Webhook> {
        let c = self.conn().await?;
        hook(
            &query_one(
                &**c,
                &format!("SELECT {HOOK_COLS} FROM webhooks WHERE id = $1"),
                &[&id.0],
            )
            .await?,
        )
    }

    async fn webhook_secret(&self, id: WebhookId) -> StoreResult<String> {
        let c = self.conn().await?;
        get(
            &query_one(&**c, "SELECT secret FROM webhooks WHERE id = $1", &[&id.0]).await?,
            0,
        )
    }

    async fn set_webhook_enabled(
        &self,
        id: WebhookId,
        enabled: bool,
        audit: &AuditInput,
    ) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        update_one(
            &tx,
            "UPDATE webhooks SET enabled = $1 WHERE id = $2",
            &[&enabled, &id.0],
        )
        .await?;
        newsroom::audit(&tx, audit).await?;
        commit(tx).await
    }

    async fn delete_webhook(&self, id: WebhookId, audit: &AuditInput) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        exec(
            &tx,
            "DELETE FROM webhook_deliveries WHERE hook_id = $1",
            &[&id.0],
        )
        .await?;
        update_one(&tx, "DELETE FROM webhooks WHERE id = $1", &[&id.0]).await?;
        newsroom::audit(&tx, audit).await?;
        commit(tx).await
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
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        let mut made = 0;
        for (i, h) in hooks.iter().enumerate() {
            // A delivery held for this (hook, key), also one queued meanwhile by another node
            // (this waits for its commit), makes nothing and queues no job.
            let new = query_opt(
                &tx,
                "INSERT INTO webhook_deliveries (hook_id, event_key, event, body, state, \
                 attempts, created_at) VALUES ($1, $2, $3, $4, 'pending', 0, $5) \
                 ON CONFLICT (hook_id, event_key) DO NOTHING RETURNING id",
                &[&h.0, &event_key, &event, &body, &ms(at)],
            )
            .await?;
            if new.is_none() {
                continue;
            }
            made += 1;
            if let Some(job) = jobs.get(i) {
                jobs::enqueue(&tx, std::slice::from_ref(job), at).await?;
            }
            exec(
                &tx,
                "DELETE FROM webhook_deliveries WHERE hook_id = $1 AND state <> 'pending' \
                 AND id NOT IN (SELECT id FROM webhook_deliveries WHERE hook_id = $1 \
                 ORDER BY id DESC LIMIT $2)",
                &[&h.0, &keep],
            )
            .await?;
        }
        commit(tx).await?;
        Ok(made)
    }

    async fn get_webhook_delivery(
        &self,
        hook: WebhookId,
        event_key: &str,
    ) -> StoreResult<WebhookDelivery> {
        let c = self.conn().await?;
        delivery(
            &query_one(
                &**c,
                &format!(
                    "SELECT {DELIVERY_COLS} FROM webhook_deliveries \
                     WHERE hook_id = $1 AND event_key = $2"
                ),
                &[&hook.0, &event_key],
            )
            .await?,
        )
    }

    async fn record_webhook_attempt(
        &self,
        delivery: i64,
        at: DateTime<Utc>,
        status: i64,
        excerpt: &str,
        state: DeliveryState,
    ) -> StoreResult<()> {
        let c = self.conn().await?;
        update_one(
            &**c,
            "UPDATE webhook_deliveries SET attempts = attempts + 1, last_at = $1, \
             last_status = $2, last_excerpt = $3, state = $4 WHERE id = $5",
            &[&ms(at), &status, &excerpt, &state.as_str(), &delivery],
        )
        .await
    }

    async fn list_webhook_deliveries(
        &self,
        hook: WebhookId,
        limit: usize,
    ) -> StoreResult<Vec<WebhookDelivery>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let c = self.conn().await?;
        query(
            &**c,
            &format!(
                "SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE hook_id = $1 \
                 ORDER BY id DESC LIMIT $2"
            ),
            &[&hook.0, &limit],
        )
        .await?
        .iter()
        .map(delivery)
        .collect()
    }
}
