//! Waking the nodes that follow the change log: every change-log insert also does
//! `pg_notify('newsdesk_changes', <schema hash>)` in its transaction (delivered on commit, and
//! once per transaction however many rows it logged), and each store holds one dedicated
//! connection that `LISTEN`s and bumps a counter its [`ChangeWaiter`]s watch. The connection
//! is outside the pool, reconnects with back-off, and wakes the followers after each (re)connect
//! since notifications sent while it was away are lost. Waking is only a hint: followers read
//! the log from their own position and still poll, so nothing depends on a notification
//! arriving.

use newsdesk_store::ChangeWaiter;
use std::time::Duration;
use tokio::sync::watch;
use tokio_postgres::AsyncMessage;

/// The channel every node listens on. Nodes of other schemas in the same database notify it
/// too; the payload (the schema's hash) tells them apart.
pub(crate) const CHANNEL: &str = "newsdesk_changes";

/// The first wait before reconnecting; doubled after each failure up to [`BACKOFF_MAX`].
const BACKOFF_START: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(10);
/// How often the listening connection is checked (a query), so a connection that died
/// silently (no reset from a vanished host) is noticed and replaced.
const CHECK_EVERY: Duration = Duration::from_secs(30);
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// The listening task of one store and the counter it bumps.
pub(crate) struct Listener {
    wakes: watch::Receiver<u64>,
    task: tokio::task::AbortHandle,
}

impl Listener {
    /// Starts listening for the schema `ns` with `config` (on the current tokio runtime).
    pub(crate) fn start(config: tokio_postgres::Config, ns: i32) -> Self {
        let (tx, rx) = watch::channel(0u64);
        let task = tokio::spawn(listen(config, ns, tx)).abort_handle();
        Self { wakes: rx, task }
    }

    pub(crate) fn waiter(&self) -> ChangeWaiter {
        ChangeWaiter::notified_by(self.wakes.clone())
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn bump(tx: &watch::Sender<u64>) {
    tx.send_modify(|n| *n = n.wrapping_add(1));
}

async fn listen(mut config: tokio_postgres::Config, ns: i32, tx: watch::Sender<u64>) {
    // Named with the schema's hash, so an operator (or a test) can tell whose it is.
    config
        .application_name(format!("newsdesk-listen-{ns}"))
        .connect_timeout(Duration::from_secs(10));
    let payload = ns.to_string();
    let mut backoff = BACKOFF_START;
    loop {
        match listen_once(&config, &payload, &tx, &mut backoff).await {
            Ok(()) => tracing::warn!(
                "the connection listening for changes was closed; reconnecting (polling meanwhile)"
            ),
            Err(e) => tracing::warn!(
                error = %e,
                retry_in_ms = backoff.as_millis() as u64,
                "listening for changes failed; reconnecting (polling meanwhile)"
            ),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

/// One connection's life: connect, `LISTEN`, wake the followers (they may have missed
/// notifications), then pass notifications on until the connection ends.
async fn listen_once(
    config: &tokio_postgres::Config,
    payload: &str,
    tx: &watch::Sender<u64>,
    backoff: &mut Duration,
) -> Result<(), tokio_postgres::Error> {
    let (client, mut conn) = config.connect(tokio_postgres::NoTls).await?;
    let driving = drive(&mut conn, payload, tx);
    tokio::pin!(driving);
    let listen = format!("LISTEN {CHANNEL}");
    tokio::select! {
        r = client.batch_execute(&listen) => r?,
        r = &mut driving => return r,
    }
    *backoff = BACKOFF_START;
    tracing::debug!("listening for changes");
    bump(tx);
    let mut check = tokio::time::interval(CHECK_EVERY);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    check.tick().await;
    loop {
        tokio::select! {
            r = &mut driving => return r,
            _ = check.tick() => {
                tokio::select! {
                    r = &mut driving => return r,
                    r = tokio::time::timeout(CHECK_TIMEOUT, client.batch_execute("SELECT 1")) => {
                        match r {
                            Ok(r) => r?,
                            // No answer: drop this connection and make another.
                            Err(_) => return Ok(()),
                        }
                    }
                }
            }
        }
    }
}

/// Polls the connection (which also carries the client's queries) and bumps the counter on
/// each notification for this schema. Ends when the connection does.
async fn drive(
    conn: &mut tokio_postgres::Connection<tokio_postgres::Socket, tokio_postgres::tls::NoTlsStream>,
    payload: &str,
    tx: &watch::Sender<u64>,
) -> Result<(), tokio_postgres::Error> {
    loop {
        match std::future::poll_fn(|cx| conn.poll_message(cx)).await {
            Some(Ok(AsyncMessage::Notification(n))) => {
                if n.channel() == CHANNEL && n.payload() == payload {
                    bump(tx);
                }
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e),
            None => return Ok(()),
        }
    }
}
