//! The newsletter section on SQLite: subscribers, digests and their send rows.

use super::{from_ms, ms, opt_ms, sql_err, update_one, SqliteStore};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use newsdesk_domain::*;
use newsdesk_store::{NewsletterStore, StoreError, StoreResult};
use rusqlite::{params, Connection, OptionalExtension, Row};

const COLS: &str = "id, email, status, frequency, breaking, nonce, created_at, updated_at, \
     confirm_sent_at, confirmed_at, consent_text, consent_source, reason";

type Raw = (
    i64,
    String,
    String,
    String,
    bool,
    String,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    String,
    String,
    String,
);

fn raw(r: &Row<'_>) -> rusqlite::Result<Raw> {
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
        r.get(10)?,
        r.get(11)?,
        r.get(12)?,
    ))
}

fn bad(what: &str, v: &str) -> StoreError {
    StoreError::msg(format!("bad {what} {v:?} in database"))
}

/// A subscriber from its row and its lists.
fn subscriber(c: &Connection, x: Raw) -> StoreResult<Subscriber> {
    let editions = ids(
        c,
        "SELECT edition_id FROM newsletter_subscriber_editions WHERE subscriber_id = ?1 ORDER BY edition_id",
        x.0,
    )?
    .into_iter()
    .map(EditionId)
    .collect();
    let sectors = ids(
        c,
        "SELECT sector_id FROM newsletter_subscriber_sectors WHERE subscriber_id = ?1 ORDER BY sector_id",
        x.0,
    )?
    .into_iter()
    .map(SectorId)
    .collect();
    Ok(Subscriber {
        id: SubscriberId(x.0),
        email: EmailAddress::parse(&x.1).map_err(|_| bad("address", &x.1))?,
        status: SubscriberStatus::parse(&x.2).ok_or_else(|| bad("status", &x.2))?,
        prefs: Preferences {
            editions,
            sectors,
            frequency: Frequency::parse(&x.3).ok_or_else(|| bad("frequency", &x.3))?,
            breaking: x.4,
        },
        nonce: x.5,
        created_at: from_ms(x.6)?,
        updated_at: from_ms(x.7)?,
        confirm_sent_at: opt_ms(x.8)?,
        confirmed_at: opt_ms(x.9)?,
        consent_text: x.10,
        consent_source: x.11,
        reason: x.12,
    })
}

fn ids(c: &Connection, sql: &str, id: i64) -> StoreResult<Vec<i64>> {
    let mut st = c.prepare_cached(sql).map_err(sql_err)?;
    let rows = st
        .query_map(params![id], |r| r.get(0))
        .map_err(sql_err)?
        .collect::<Result<Vec<i64>, _>>()
        .map_err(sql_err)?;
    Ok(rows)
}

fn by_email(c: &Connection, email: &str) -> StoreResult<Option<Subscriber>> {
    let x = c
        .query_row(
            &format!("SELECT {COLS} FROM newsletter_subscribers WHERE email = ?1"),
            params![email],
            raw,
        )
        .optional()
        .map_err(sql_err)?;
    x.map(|x| subscriber(c, x)).transpose()
}

fn by_id(c: &Connection, id: i64) -> StoreResult<Subscriber> {
    let x = c
        .query_row(
            &format!("SELECT {COLS} FROM newsletter_subscribers WHERE id = ?1"),
            params![id],
            raw,
        )
        .map_err(sql_err)?;
    subscriber(c, x)
}

fn write_lists(c: &Connection, id: i64, p: &Preferences) -> StoreResult<()> {
    c.execute(
        "DELETE FROM newsletter_subscriber_editions WHERE subscriber_id = ?1",
        params![id],
    )
    .map_err(sql_err)?;
    c.execute(
        "DELETE FROM newsletter_subscriber_sectors WHERE subscriber_id = ?1",
        params![id],
    )
    .map_err(sql_err)?;
    let mut editions: Vec<i64> = p.editions.iter().map(|e| e.0).collect();
    editions.sort_unstable();
    editions.dedup();
    for e in editions {
        c.execute(
            "INSERT INTO newsletter_subscriber_editions (subscriber_id, edition_id) VALUES (?1, ?2)",
            params![id, e],
        )
        .map_err(sql_err)?;
    }
    let mut sectors: Vec<i64> = p.sectors.iter().map(|e| e.0).collect();
    sectors.sort_unstable();
    sectors.dedup();
    for s in sectors {
        c.execute(
            "INSERT INTO newsletter_subscriber_sectors (subscriber_id, sector_id) VALUES (?1, ?2)",
            params![id, s],
        )
        .map_err(sql_err)?;
    }
    Ok(())
}

type DigestRaw = (i64, String, String, i64, String, String, i64, Option<i64>);

const DIGEST_COLS: &str = "d.id, d.dkey, d.kind, d.edition_id, d.subject, d.stories, \
     d.created_at, d.finished_at";

fn digest_raw(r: &Row<'_>) -> rusqlite::Result<DigestRaw> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

fn digest(c: &Connection, x: DigestRaw) -> StoreResult<Digest> {
    let stories =
        x.5.split(',')
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<i64>()
                    .map(StoryId)
                    .map_err(|_| bad("story list", &x.5))
            })
            .collect::<StoreResult<Vec<_>>>()?;
    let mut d = Digest {
        id: DigestId(x.0),
        key: x.1,
        kind: x.2,
        edition: EditionId(x.3),
        subject: x.4,
        stories,
        created_at: from_ms(x.6)?,
        finished_at: opt_ms(x.7)?,
        total: 0,
        sent: 0,
        pending: 0,
        failed: 0,
        skipped: 0,
    };
    let mut st = c
        .prepare_cached(
            "SELECT state, count(*) FROM newsletter_sends WHERE digest_id = ?1 GROUP BY state",
        )
        .map_err(sql_err)?;
    let rows = st
        .query_map(params![x.0], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })
        .map_err(sql_err)?;
    for row in rows {
        let (state, n) = row.map_err(sql_err)?;
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
impl NewsletterStore for SqliteStore {
    async fn find_subscriber(&self, email: &EmailAddress) -> StoreResult<Option<Subscriber>> {
        let email = email.as_str().to_owned();
        self.read(move |c| by_email(c, &email)).await
    }

    async fn get_subscriber(&self, id: SubscriberId) -> StoreResult<Subscriber> {
        self.read(move |c| by_id(c, id.0)).await
    }

    async fn request_subscription(
        &self,
        r: &SubscriptionRequest,
        now: DateTime<Utc>,
    ) -> StoreResult<Subscriber> {
        let r = r.clone();
        self.write(move |tx| {
            let now = ms(now);
            match by_email(tx, r.email.as_str())? {
                Some(s)
                    if matches!(
                        s.status,
                        SubscriberStatus::Active | SubscriberStatus::Suppressed
                    ) =>
                {
                    Ok(s)
                }
                Some(s) => {
                    tx.execute(
                        "UPDATE newsletter_subscribers SET status = 'pending', frequency = ?2, \
                         breaking = ?3, nonce = ?4, updated_at = ?5, confirmed_at = NULL, \
                         consent_text = ?6, consent_source = ?7, reason = '' WHERE id = ?1",
                        params![
                            s.id.0,
                            r.prefs.frequency.as_str(),
                            r.prefs.breaking,
                            r.nonce,
                            now,
                            r.consent_text,
                            r.consent_source
                        ],
                    )
                    .map_err(sql_err)?;
                    write_lists(tx, s.id.0, &r.prefs)?;
                    by_id(tx, s.id.0)
                }
                None => {
                    tx.execute(
                        "INSERT INTO newsletter_subscribers (email, status, frequency, breaking, \
                         nonce, created_at, updated_at, consent_text, consent_source) \
                         VALUES (?1, 'pending', ?2, ?3, ?4, ?5, ?5, ?6, ?7)",
                        params![
                            r.email.as_str(),
                            r.prefs.frequency.as_str(),
                            r.prefs.breaking,
                            r.nonce,
                            now,
                            r.consent_text,
                            r.consent_source
                        ],
                    )
                    .map_err(sql_err)?;
                    let id = tx.last_insert_rowid();
                    write_lists(tx, id, &r.prefs)?;
                    by_id(tx, id)
                }
            }
        })
        .await
    }

    async fn mark_confirmation_sent(
        &self,
        id: SubscriberId,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.write(move |tx| {
            update_one(
                tx,
                "UPDATE newsletter_subscribers SET confirm_sent_at = ?2 WHERE id = ?1",
                params![id.0, ms(now)],
            )
        })
        .await
    }

    async fn confirm_subscriber(
        &self,
        id: SubscriberId,
        now: DateTime<Utc>,
    ) -> StoreResult<Subscriber> {
        self.write(move |tx| {
            tx.execute(
                "UPDATE newsletter_subscribers SET status = 'active', confirmed_at = ?2, \
                 updated_at = ?2 WHERE id = ?1 AND status = 'pending'",
                params![id.0, ms(now)],
            )
            .map_err(sql_err)?;
            by_id(tx, id.0)
        })
        .await
    }

    async fn set_preferences(
        &self,
        id: SubscriberId,
        prefs: &Preferences,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let prefs = prefs.clone();
        self.write(move |tx| {
            update_one(
                tx,
                "UPDATE newsletter_subscribers SET frequency = ?2, breaking = ?3, updated_at = ?4 \
                 WHERE id = ?1",
                params![id.0, prefs.frequency.as_str(), prefs.breaking, ms(now)],
            )?;
            write_lists(tx, id.0, &prefs)
        })
        .await
    }

    async fn unsubscribe(
        &self,
        id: SubscriberId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let reason = reason.to_owned();
        self.write(move |tx| {
            by_id(tx, id.0)?;
            tx.execute(
                "UPDATE newsletter_subscribers SET status = 'unsubscribed', reason = ?2, \
                 updated_at = ?3 WHERE id = ?1 AND status IN ('pending', 'active')",
                params![id.0, reason, ms(now)],
            )
            .map_err(sql_err)?;
            Ok(())
        })
        .await
    }

    async fn suppress_address(
        &self,
        email: &EmailAddress,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (email, reason) = (email.as_str().to_owned(), reason.to_owned());
        self.write(move |tx| {
            let now = ms(now);
            let changed = tx
                .execute(
                    "UPDATE newsletter_subscribers SET status = 'suppressed', reason = ?2, \
                     updated_at = ?3 WHERE email = ?1 AND status <> 'suppressed'",
                    params![email, reason, now],
                )
                .map_err(sql_err)?;
            if changed > 0 {
                return Ok(true);
            }
            let inserted = tx
                .execute(
                    "INSERT INTO newsletter_subscribers (email, status, frequency, nonce, \
                     created_at, updated_at, reason) SELECT ?1, 'suppressed', 'daily', '', ?3, ?3, ?2 \
                     WHERE NOT EXISTS (SELECT 1 FROM newsletter_subscribers WHERE email = ?1)",
                    params![email, reason, now],
                )
                .map_err(sql_err)?;
            Ok(inserted > 0)
        })
        .await
    }

    async fn import_subscribers(
        &self,
        list: &[SubscriptionRequest],
        now: DateTime<Utc>,
    ) -> StoreResult<usize> {
        let list = list.to_vec();
        self.write(move |tx| {
            let now = ms(now);
            let mut added = 0;
            for r in &list {
                let n = tx
                    .execute(
                        "INSERT INTO newsletter_subscribers (email, status, frequency, breaking, \
                         nonce, created_at, updated_at, confirmed_at, consent_text, consent_source) \
                         SELECT ?1, 'active', ?2, ?3, ?4, ?5, ?5, ?5, ?6, ?7 \
                         WHERE NOT EXISTS (SELECT 1 FROM newsletter_subscribers WHERE email = ?1)",
                        params![
                            r.email.as_str(),
                            r.prefs.frequency.as_str(),
                            r.prefs.breaking,
                            r.nonce,
                            now,
                            r.consent_text,
                            r.consent_source
                        ],
                    )
                    .map_err(sql_err)?;
                if n > 0 {
                    write_lists(tx, tx.last_insert_rowid(), &r.prefs)?;
                    added += 1;
                }
            }
            Ok(added)
        })
        .await
    }

    async fn subscriber_counts(&self) -> StoreResult<SubscriberCounts> {
        self.read(|c| {
            let mut st = c
                .prepare_cached(
                    "SELECT status, count(*) FROM newsletter_subscribers GROUP BY status",
                )
                .map_err(sql_err)?;
            let mut out = SubscriberCounts::default();
            let rows = st
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
                .map_err(sql_err)?;
            for row in rows {
                let (s, n) = row.map_err(sql_err)?;
                match s.as_str() {
                    "pending" => out.pending = n,
                    "active" => out.active = n,
                    "unsubscribed" => out.unsubscribed = n,
                    _ => out.suppressed = n,
                }
            }
            Ok(out)
        })
        .await
    }

    async fn list_subscribers(
        &self,
        query: &str,
        after: Option<SubscriberId>,
        limit: usize,
    ) -> StoreResult<Vec<Subscriber>> {
        // LIKE's own characters in the query are matched as themselves.
        let pattern = format!(
            "%{}%",
            query
                .to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let after = after.map_or(0, |a| a.0);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {COLS} FROM newsletter_subscribers WHERE id > ?1 \
                     AND email LIKE ?2 ESCAPE '\\' ORDER BY id LIMIT ?3"
                ))
                .map_err(sql_err)?;
            let rows = st
                .query_map(params![after, pattern, limit], raw)
                .map_err(sql_err)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(sql_err)?;
            rows.into_iter().map(|x| subscriber(c, x)).collect()
        })
        .await
    }

    async fn create_digest(
        &self,
        d: &DigestInput,
        now: DateTime<Utc>,
    ) -> StoreResult<(DigestId, bool)> {
        let d = d.clone();
        self.write(move |tx| {
            let now = ms(now);
            if let Some(id) = tx
                .query_row(
                    "SELECT id FROM newsletter_digests WHERE dkey = ?1",
                    params![d.key],
                    |r| r.get::<_, i64>(0),
                )
                .optional()
                .map_err(sql_err)?
            {
                return Ok((DigestId(id), false));
            }
            let stories = d
                .stories
                .iter()
                .map(|s| s.0.to_string())
                .collect::<Vec<_>>()
                .join(",");
            tx.execute(
                "INSERT INTO newsletter_digests (dkey, kind, edition_id, subject, stories, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![d.key, d.kind, d.edition.0, d.subject, stories, now],
            )
            .map_err(sql_err)?;
            let id = tx.last_insert_rowid();
            match d.audience {
                DigestAudience::Digest(edition, frequency) => {
                    tx.execute(
                        "INSERT INTO newsletter_sends (digest_id, subscriber_id, state, next_at) \
                         SELECT ?1, s.id, 'pending', ?2 FROM newsletter_subscribers s \
                         JOIN newsletter_subscriber_editions e ON e.subscriber_id = s.id \
                         WHERE s.status = 'active' AND s.frequency = ?3 AND e.edition_id = ?4",
                        params![id, now, frequency.as_str(), edition.0],
                    )
                    .map_err(sql_err)?;
                }
                DigestAudience::Breaking => {
                    // The editions are ids, written as numbers: no text reaches the SQL.
                    let list = d
                        .editions
                        .iter()
                        .map(|e| e.0.to_string())
                        .collect::<Vec<_>>()
                        .join(", ");
                    if !list.is_empty() {
                        tx.execute(
                            &format!(
                                "INSERT INTO newsletter_sends (digest_id, subscriber_id, state, next_at) \
                                 SELECT ?1, s.id, 'pending', ?2 FROM newsletter_subscribers s \
                                 WHERE s.status = 'active' AND s.breaking = 1 AND EXISTS (SELECT 1 \
                                 FROM newsletter_subscriber_editions e WHERE e.subscriber_id = s.id \
                                 AND e.edition_id IN ({list}))"
                            ),
                            params![id, now],
                        )
                        .map_err(sql_err)?;
                    }
                }
            }
            Ok((DigestId(id), true))
        })
        .await
    }

    async fn get_digest(&self, id: DigestId) -> StoreResult<Digest> {
        self.read(move |c| {
            let x = c
                .query_row(
                    &format!("SELECT {DIGEST_COLS} FROM newsletter_digests d WHERE d.id = ?1"),
                    params![id.0],
                    digest_raw,
                )
                .map_err(sql_err)?;
            digest(c, x)
        })
        .await
    }

    async fn list_digests(&self, limit: usize) -> StoreResult<Vec<Digest>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |c| {
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {DIGEST_COLS} FROM newsletter_digests d ORDER BY d.id DESC LIMIT ?1"
                ))
                .map_err(sql_err)?;
            let rows = st
                .query_map(params![limit], digest_raw)
                .map_err(sql_err)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(sql_err)?;
            rows.into_iter().map(|x| digest(c, x)).collect()
        })
        .await
    }

    async fn due_sends(
        &self,
        id: DigestId,
        now: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<PendingSend>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |c| {
            let cols = COLS
                .split(", ")
                .map(|col| format!("s.{col}"))
                .collect::<Vec<_>>()
                .join(", ");
            let mut st = c
                .prepare_cached(&format!(
                    "SELECT {cols}, n.attempts FROM newsletter_sends n \
                     JOIN newsletter_subscribers s ON s.id = n.subscriber_id \
                     WHERE n.digest_id = ?1 AND n.state = 'pending' AND n.next_at <= ?2 \
                     ORDER BY n.subscriber_id LIMIT ?3"
                ))
                .map_err(sql_err)?;
            let rows = st
                .query_map(params![id.0, ms(now), limit], |r| {
                    Ok((raw(r)?, r.get::<_, i64>(13)?))
                })
                .map_err(sql_err)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(sql_err)?;
            rows.into_iter()
                .map(|(x, attempts)| {
                    Ok(PendingSend {
                        subscriber: subscriber(c, x)?,
                        attempts,
                    })
                })
                .collect()
        })
        .await
    }

    async fn record_send(
        &self,
        id: DigestId,
        subscriber: SubscriberId,
        outcome: &SendOutcome,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let outcome = outcome.clone();
        self.write(move |tx| {
            let now = ms(now);
            let (d, sub) = (id.0, subscriber.0);
            match outcome {
                SendOutcome::Sent { message_id } => tx.execute(
                    "UPDATE newsletter_sends SET state = 'sent', attempts = attempts + 1, \
                     done_at = ?3, message_id = ?4, error = NULL \
                     WHERE digest_id = ?1 AND subscriber_id = ?2 AND state = 'pending'",
                    params![d, sub, now, message_id],
                ),
                SendOutcome::Retry { at, error } => tx.execute(
                    "UPDATE newsletter_sends SET attempts = attempts + 1, next_at = ?3, \
                     error = ?4 WHERE digest_id = ?1 AND subscriber_id = ?2 AND state = 'pending'",
                    params![d, sub, ms(at), error],
                ),
                SendOutcome::Failed { error } => tx.execute(
                    "UPDATE newsletter_sends SET state = 'failed', attempts = attempts + 1, \
                     done_at = ?3, error = ?4 \
                     WHERE digest_id = ?1 AND subscriber_id = ?2 AND state = 'pending'",
                    params![d, sub, now, error],
                ),
                SendOutcome::Skipped { why } => tx.execute(
                    "UPDATE newsletter_sends SET state = 'skipped', done_at = ?3, error = ?4 \
                     WHERE digest_id = ?1 AND subscriber_id = ?2 AND state = 'pending'",
                    params![d, sub, now, why],
                ),
            }
            .map_err(sql_err)?;
            Ok(())
        })
        .await
    }

    async fn next_send_at(
        &self,
        id: DigestId,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        self.write(move |tx| {
            let next: Option<i64> = tx
                .query_row(
                    "SELECT min(next_at) FROM newsletter_sends WHERE digest_id = ?1 AND state = 'pending'",
                    params![id.0],
                    |r| r.get(0),
                )
                .map_err(sql_err)?;
            if next.is_none() {
                tx.execute(
                    "UPDATE newsletter_digests SET finished_at = ?2 WHERE id = ?1 AND finished_at IS NULL",
                    params![id.0, ms(now)],
                )
                .map_err(sql_err)?;
            }
            opt_ms(next)
        })
        .await
    }
}
