//! The newsletter section on PostgreSQL: subscribers, digests and their send rows.
//!
//! Where the SQLite store reads and then writes under its single writer, this one lets the
//! unique indexes decide (`INSERT … ON CONFLICT`), or locks the subscriber's row first, so two
//! nodes asking at once for the same address or the same digest key make one row.

use super::{
    begin, commit, exec, from_ms, get, ms, opt_ms, query, query_one, query_opt, update_one, PgStore,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use newsdesk_domain::*;
use newsdesk_store::{NewsletterStore, StoreError, StoreResult};
use tokio_postgres::{GenericClient, Row};

const COLS: &str = "id, email, status, frequency, breaking, nonce, created_at, updated_at, \
     confirm_sent_at, confirmed_at, consent_text, consent_source, reason";

fn bad(what: &str, v: &str) -> StoreError {
    StoreError::msg(format!("bad {what} {v:?} in database"))
}

async fn ids<C: GenericClient>(c: &C, sql: &str, id: i64) -> StoreResult<Vec<i64>> {
    query(c, sql, &[&id])
        .await?
        .iter()
        .map(|r| get(r, 0))
        .collect()
}

/// A subscriber from its row (the first 13 columns, [`COLS`]) and its lists.
async fn subscriber<C: GenericClient>(c: &C, r: &Row) -> StoreResult<Subscriber> {
    let id: i64 = get(r, 0)?;
    let editions = ids(
        c,
        "SELECT edition_id FROM newsletter_subscriber_editions WHERE subscriber_id = $1 \
         ORDER BY edition_id",
        id,
    )
    .await?
    .into_iter()
    .map(EditionId)
    .collect();
    let sectors = ids(
        c,
        "SELECT sector_id FROM newsletter_subscriber_sectors WHERE subscriber_id = $1 \
         ORDER BY sector_id",
        id,
    )
    .await?
    .into_iter()
    .map(SectorId)
    .collect();
    let email: String = get(r, 1)?;
    let status: String = get(r, 2)?;
    let frequency: String = get(r, 3)?;
    Ok(Subscriber {
        id: SubscriberId(id),
        email: EmailAddress::parse(&email).map_err(|_| bad("address", &email))?,
        status: SubscriberStatus::parse(&status).ok_or_else(|| bad("status", &status))?,
        prefs: Preferences {
            editions,
            sectors,
            frequency: Frequency::parse(&frequency).ok_or_else(|| bad("frequency", &frequency))?,
            breaking: get(r, 4)?,
        },
        nonce: get(r, 5)?,
        created_at: from_ms(get(r, 6)?)?,
        updated_at: from_ms(get(r, 7)?)?,
        confirm_sent_at: opt_ms(get(r, 8)?)?,
        confirmed_at: opt_ms(get(r, 9)?)?,
        consent_text: get(r, 10)?,
        consent_source: get(r, 11)?,
        reason: get(r, 12)?,
    })
}

async fn by_id<C: GenericClient>(c: &C, id: i64) -> StoreResult<Subscriber> {
    let r = query_one(
        c,
        &format!("SELECT {COLS} FROM newsletter_subscribers WHERE id = $1"),
        &[&id],
    )
    .await?;
    subscriber(c, &r).await
}

async fn write_lists<C: GenericClient>(c: &C, id: i64, p: &Preferences) -> StoreResult<()> {
    exec(
        c,
        "DELETE FROM newsletter_subscriber_editions WHERE subscriber_id = $1",
        &[&id],
    )
    .await?;
    exec(
        c,
        "DELETE FROM newsletter_subscriber_sectors WHERE subscriber_id = $1",
        &[&id],
    )
    .await?;
    let mut editions: Vec<i64> = p.editions.iter().map(|e| e.0).collect();
    editions.sort_unstable();
    editions.dedup();
    exec(
        c,
        "INSERT INTO newsletter_subscriber_editions (subscriber_id, edition_id) \
         SELECT $1, unnest($2::BIGINT[])",
        &[&id, &editions],
    )
    .await?;
    let mut sectors: Vec<i64> = p.sectors.iter().map(|e| e.0).collect();
    sectors.sort_unstable();
    sectors.dedup();
    exec(
        c,
        "INSERT INTO newsletter_subscriber_sectors (subscriber_id, sector_id) \
         SELECT $1, unnest($2::BIGINT[])",
        &[&id, &sectors],
    )
    .await?;
    Ok(())
}

const DIGEST_COLS: &str = "d.id, d.dkey, d.kind, d.edition_id, d.subject, d.stories, \
     d.created_at, d.finished_at";

async fn digest<C: GenericClient>(c: &C, r: &Row) -> StoreResult<Digest> {
    let id: i64 = get(r, 0)?;
    let list: String = get(r, 5)?;
    let stories = list
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<i64>()
                .map(StoryId)
                .map_err(|_| bad("story list", &list))
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let mut d = Digest {
        id: DigestId(id),
        key: get(r, 1)?,
        kind: get(r, 2)?,
        edition: EditionId(get(r, 3)?),
        subject: get(r, 4)?,
        stories,
        created_at: from_ms(get(r, 6)?)?,
        finished_at: opt_ms(get(r, 7)?)?,
        total: 0,
        sent: 0,
        pending: 0,
        failed: 0,
        skipped: 0,
    };
    let rows = query(
        c,
        "SELECT state, count(*) FROM newsletter_sends WHERE digest_id = $1 GROUP BY state",
        &[&id],
    )
    .await?;
    for row in &rows {
        let state: String = get(row, 0)?;
        let n: i64 = get(row, 1)?;
        d.total += n;
        match state.as_str() {
            "sent" => d.sent = n,
            "pending" => d.pending = n,
            "failed" => d.failed = n,
            _ => d.skipped = n,
        }
    }
    Ok(d)
}

#[async_trait]
impl NewsletterStore for PgStore {
    async fn find_subscriber(&self, email: &EmailAddress) -> StoreResult<Option<Subscriber>> {
        let c = self.conn().await?;
        let r = query_opt(
            &**c,
            &format!("SELECT {COLS} FROM newsletter_subscribers WHERE email = $1"),
            &[&email.as_str()],
        )
        .await?;
        match r {
            Some(r) => Ok(Some(subscriber(&**c, &r).await?)),
            None => Ok(None),
        }
    }

    async fn get_subscriber(&self, id: SubscriberId) -> StoreResult<Subscriber> {
        let c = self.conn().await?;
        by_id(&**c, id.0).await
    }

    async fn request_subscription(
        &self,
        r: &SubscriptionRequest,
        now: DateTime<Utc>,
    ) -> StoreResult<Subscriber> {
        let now = ms(now);
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        // A new address inserts; a known one (also one inserted meanwhile by another node,
        // which this waits for) is locked and handled as SQLite does.
        let inserted = query_opt(
            &tx,
            "INSERT INTO newsletter_subscribers (email, status, frequency, breaking, nonce, \
             created_at, updated_at, consent_text, consent_source) \
             VALUES ($1, 'pending', $2, $3, $4, $5, $5, $6, $7) \
             ON CONFLICT (email) DO NOTHING RETURNING id",
            &[
                &r.email.as_str(),
                &r.prefs.frequency.as_str(),
                &r.prefs.breaking,
                &r.nonce,
                &now,
                &r.consent_text,
                &r.consent_source,
            ],
        )
        .await?;
        let id = match inserted {
            Some(row) => {
                let id: i64 = get(&row, 0)?;
                write_lists(&tx, id, &r.prefs).await?;
                id
            }
            None => {
                let row = query_one(
                    &tx,
                    "SELECT id, status FROM newsletter_subscribers WHERE email = $1 \
                     FOR NO KEY UPDATE",
                    &[&r.email.as_str()],
                )
                .await?;
                let id: i64 = get(&row, 0)?;
                let status: String = get(&row, 1)?;
                if !matches!(status.as_str(), "active" | "suppressed") {
                    exec(
                        &tx,
                        "UPDATE newsletter_subscribers SET status = 'pending', frequency = $2, \
                         breaking = $3, nonce = $4, updated_at = $5, confirmed_at = NULL, \
                         consent_text = $6, consent_source = $7, reason = '' WHERE id = $1",
                        &[
                            &id,
                            &r.prefs.frequency.as_str(),
                            &r.prefs.breaking,
                            &r.nonce,
                            &now,
                            &r.consent_text,
                            &r.consent_source,
                        ],
                    )
                    .await?;
                    write_lists(&tx, id, &r.prefs).await?;
                }
                id
            }
        };
        let s = by_id(&tx, id).await?;
        commit(tx).await?;
        Ok(s)
    }

    async fn mark_confirmation_sent(
        &self,
        id: SubscriberId,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let c = self.conn().await?;
        update_one(
            &**c,
            "UPDATE newsletter_subscribers SET confirm_sent_at = $2 WHERE id = $1",
            &[&id.0, &ms(now)],
        )
        .await
    }

    async fn confirm_subscriber(
        &self,
        id: SubscriberId,
        now: DateTime<Utc>,
    ) -> StoreResult<Subscriber> {
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        exec(
            &tx,
            "UPDATE newsletter_subscribers SET status = 'active', confirmed_at = $2, \
             updated_at = $2 WHERE id = $1 AND status = 'pending'",
            &[&id.0, &ms(now)],
        )
        .await?;
        let s = by_id(&tx, id.0).await?;
        commit(tx).await?;
        Ok(s)
    }

    async fn set_preferences(
        &self,
        id: SubscriberId,
        prefs: &Preferences,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        // The UPDATE holds the row until commit: two changes at once do not mix their lists.
        update_one(
            &tx,
            "UPDATE newsletter_subscribers SET frequency = $2, breaking = $3, updated_at = $4 \
             WHERE id = $1",
            &[&id.0, &prefs.frequency.as_str(), &prefs.breaking, &ms(now)],
        )
        .await?;
        write_lists(&tx, id.0, prefs).await?;
        commit(tx).await
    }

    async fn unsubscribe(
        &self,
        id: SubscriberId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let c = self.conn().await?;
        query_one(
            &**c,
            "SELECT 1 FROM newsletter_subscribers WHERE id = $1",
            &[&id.0],
        )
        .await?;
        exec(
            &**c,
            "UPDATE newsletter_subscribers SET status = 'unsubscribed', reason = $2, \
             updated_at = $3 WHERE id = $1 AND status IN ('pending', 'active')",
            &[&id.0, &reason, &ms(now)],
        )
        .await?;
        Ok(())
    }

    async fn suppress_address(
        &self,
        email: &EmailAddress,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        // One statement: a new address inserts as suppressed, a known one not yet suppressed
        // changes, a suppressed one is left alone (no row counted).
        let n = {
            let c = self.conn().await?;
            exec(
                &**c,
                "INSERT INTO newsletter_subscribers (email, status, frequency, nonce, \
                 created_at, updated_at, reason) VALUES ($1, 'suppressed', 'daily', '', $3, $3, $2) \
                 ON CONFLICT (email) DO UPDATE SET status = 'suppressed', reason = EXCLUDED.reason, \
                 updated_at = EXCLUDED.updated_at \
                 WHERE newsletter_subscribers.status <> 'suppressed'",
                &[&email.as_str(), &reason, &ms(now)],
            )
            .await?
        };
        Ok(n > 0)
    }

    async fn import_subscribers(
        &self,
        list: &[SubscriptionRequest],
        now: DateTime<Utc>,
    ) -> StoreResult<usize> {
        let now = ms(now);
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        let mut added = 0;
        for r in list {
            let row = query_opt(
                &tx,
                "INSERT INTO newsletter_subscribers (email, status, frequency, breaking, nonce, \
                 created_at, updated_at, confirmed_at, consent_text, consent_source) \
                 VALUES ($1, 'active', $2, $3, $4, $5, $5, $5, $6, $7) \
                 ON CONFLICT (email) DO NOTHING RETURNING id",
                &[
                    &r.email.as_str(),
                    &r.prefs.frequency.as_str(),
                    &r.prefs.breaking,
                    &r.nonce,
                    &now,
                    &r.consent_text,
                    &r.consent_source,
                ],
            )
            .await?;
            if let Some(row) = row {
                write_lists(&tx, get(&row, 0)?, &r.prefs).await?;
                added += 1;
            }
        }
        commit(tx).await?;
        Ok(added)
    }

    async fn subscriber_counts(&self) -> StoreResult<SubscriberCounts> {
        let c = self.conn().await?;
        let rows = query(
            &**c,
            "SELECT status, count(*) FROM newsletter_subscribers GROUP BY status",
            &[],
        )
        .await?;
        let mut out = SubscriberCounts::default();
        for row in &rows {
            let s: String = get(row, 0)?;
            let n: i64 = get(row, 1)?;
            match s.as_str() {
                "pending" => out.pending = n,
                "active" => out.active = n,
                "unsubscribed" => out.unsubscribed = n,
                _ => out.suppressed = n,
            }
        }
        Ok(out)
    }

    async fn list_subscribers(
        &self,
        query_text: &str,
        after: Option<SubscriberId>,
        limit: usize,
    ) -> StoreResult<Vec<Subscriber>> {
        // LIKE's own characters in the query are matched as themselves; lower() on both sides,
        // as SQLite's LIKE ignores case.
        let pattern = format!(
            "%{}%",
            query_text
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let after = after.map_or(0, |a| a.0);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let c = self.conn().await?;
        let rows = query(
            &**c,
            &format!(
                "SELECT {COLS} FROM newsletter_subscribers WHERE id > $1 \
                 AND lower(email) LIKE $2 ESCAPE '\\' ORDER BY id LIMIT $3"
            ),
            &[&after, &pattern, &limit],
        )
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(subscriber(&**c, r).await?);
        }
        Ok(out)
    }

    async fn create_digest(
        &self,
        d: &DigestInput,
        now: DateTime<Utc>,
    ) -> StoreResult<(DigestId, bool)> {
        let now = ms(now);
        let stories = d
            .stories
            .iter()
            .map(|s| s.0.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        // The key's unique index decides, also against the same digest made meanwhile on
        // another node (this waits for its commit and then makes nothing).
        let made = query_opt(
            &tx,
            "INSERT INTO newsletter_digests (dkey, kind, edition_id, subject, stories, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (dkey) DO NOTHING RETURNING id",
            &[&d.key, &d.kind, &d.edition.0, &d.subject, &stories, &now],
        )
        .await?;
        let Some(made) = made else {
            let row = query_one(
                &tx,
                "SELECT id FROM newsletter_digests WHERE dkey = $1",
                &[&d.key],
            )
            .await?;
            let id: i64 = get(&row, 0)?;
            commit(tx).await?;
            return Ok((DigestId(id), false));
        };
        let id: i64 = get(&made, 0)?;
        match d.audience {
            DigestAudience::Digest(edition, frequency) => {
                exec(
                    &tx,
                    "INSERT INTO newsletter_sends (digest_id, subscriber_id, state, next_at) \
                     SELECT $1, s.id, 'pending', $2 FROM newsletter_subscribers s \
                     JOIN newsletter_subscriber_editions e ON e.subscriber_id = s.id \
                     WHERE s.status = 'active' AND s.frequency = $3 AND e.edition_id = $4",
                    &[&id, &now, &frequency.as_str(), &edition.0],
                )
                .await?;
            }
            DigestAudience::Breaking => {
                let editions: Vec<i64> = d.editions.iter().map(|e| e.0).collect();
                exec(
                    &tx,
                    "INSERT INTO newsletter_sends (digest_id, subscriber_id, state, next_at) \
                     SELECT $1, s.id, 'pending', $2 FROM newsletter_subscribers s \
                     WHERE s.status = 'active' AND s.breaking AND EXISTS (SELECT 1 \
                     FROM newsletter_subscriber_editions e WHERE e.subscriber_id = s.id \
                     AND e.edition_id = ANY($3))",
                    &[&id, &now, &editions],
                )
                .await?;
            }
        }
        commit(tx).await?;
        Ok((DigestId(id), true))
    }

    async fn get_digest(&self, id: DigestId) -> StoreResult<Digest> {
        let c = self.conn().await?;
        let r = query_one(
            &**c,
            &format!("SELECT {DIGEST_COLS} FROM newsletter_digests d WHERE d.id = $1"),
            &[&id.0],
        )
        .await?;
        digest(&**c, &r).await
    }

    async fn list_digests(&self, limit: usize) -> StoreResult<Vec<Digest>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let c = self.conn().await?;
        let rows = query(
            &**c,
            &format!("SELECT {DIGEST_COLS} FROM newsletter_digests d ORDER BY d.id DESC LIMIT $1"),
            &[&limit],
        )
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(digest(&**c, r).await?);
        }
        Ok(out)
    }

    async fn due_sends(
        &self,
        id: DigestId,
        now: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<PendingSend>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let cols = COLS
            .split(", ")
            .map(|col| format!("s.{}", col.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let c = self.conn().await?;
        let rows = query(
            &**c,
            &format!(
                "SELECT {cols}, n.attempts FROM newsletter_sends n \
                 JOIN newsletter_subscribers s ON s.id = n.subscriber_id \
                 WHERE n.digest_id = $1 AND n.state = 'pending' AND n.next_at <= $2 \
                 ORDER BY n.subscriber_id LIMIT $3"
            ),
            &[&id.0, &ms(now), &limit],
        )
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(PendingSend {
                subscriber: subscriber(&**c, r).await?,
                attempts: get(r, 13)?,
            });
        }
        Ok(out)
    }

    async fn record_send(
        &self,
        id: DigestId,
        subscriber: SubscriberId,
        outcome: &SendOutcome,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let now = ms(now);
        let (d, sub) = (id.0, subscriber.0);
        let c = self.conn().await?;
        let c = &**c;
        // Each is one UPDATE of a pending row: of two nodes recording the same send, only the
        // first changes it.
        match outcome {
            SendOutcome::Sent { message_id } => {
                exec(
                    c,
                    "UPDATE newsletter_sends SET state = 'sent', attempts = attempts + 1, \
                     done_at = $3, message_id = $4, error = NULL \
                     WHERE digest_id = $1 AND subscriber_id = $2 AND state = 'pending'",
                    &[&d, &sub, &now, message_id],
                )
                .await
            }
            SendOutcome::Retry { at, error } => {
                exec(
                    c,
                    "UPDATE newsletter_sends SET attempts = attempts + 1, next_at = $3, \
                     error = $4 WHERE digest_id = $1 AND subscriber_id = $2 AND state = 'pending'",
                    &[&d, &sub, &ms(*at), error],
                )
                .await
            }
            SendOutcome::Failed { error } => {
                exec(
                    c,
                    "UPDATE newsletter_sends SET state = 'failed', attempts = attempts + 1, \
                     done_at = $3, error = $4 \
                     WHERE digest_id = $1 AND subscriber_id = $2 AND state = 'pending'",
                    &[&d, &sub, &now, error],
                )
                .await
            }
            SendOutcome::Skipped { why } => {
                exec(
                    c,
                    "UPDATE newsletter_sends SET state = 'skipped', done_at = $3, error = $4 \
                     WHERE digest_id = $1 AND subscriber_id = $2 AND state = 'pending'",
                    &[&d, &sub, &now, why],
                )
                .await
            }
        }?;
        Ok(())
    }

    async fn next_send_at(
        &self,
        id: DigestId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        let mut c = self.conn().await?;
        let tx = begin(&mut c).await?;
        let row = query_one(
            &tx,
            "SELECT min(next_at) FROM newsletter_sends WHERE digest_id = $1 AND state = 'pending'",
            &[&id.0],
        )
        .await?;
        let next: Option<i64> = get(&row, 0)?;
        if next.is_none() {
            exec(
                &tx,
                "UPDATE newsletter_digests SET finished_at = $2 WHERE id = $1 \
                 AND finished_at IS NULL",
                &[&id.0, &ms(now)],
            )
            .await?;
        }
        commit(tx).await?;
        opt_ms(next)
    }
}
