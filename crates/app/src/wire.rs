//! The wire desk's use cases: taking agency copy in (dedupe, cluster, tag, summarise), the inbox,
//! making a story from a cluster with its lineage, and provenance computed from the text.

use crate::newsroom::require;
use crate::{App, AppError, AppResult};
use chrono::{DateTime, Duration, Utc};
use newsdesk_domain::*;
use newsdesk_enrich::cluster::{ClusterConfig, Clusterer};
use newsdesk_enrich::fingerprint::{CommonShingles, MinHasher};
use newsdesk_enrich::text::Tokens;
use std::collections::HashSet;
use std::sync::Mutex;

/// How far back the clusterer looks for the same event.
pub const CLUSTER_WINDOW: Duration = Duration::hours(48);
/// Words of a cluster summary draft.
pub const SUMMARY_WORDS: usize = 50;

/// Share of a story's word 5-grams found in its agency copy at or above which the story went
/// out "essentially unedited" and gets the auto-generated provenance line.
pub const UNEDITED_SHARE: f64 = 0.8;

/// The store lease under which one node at a time clusters agency copy for all nodes.
pub const CLUSTER_LEASE: &str = "wire-clusterer";
/// How long the lease runs without renewal: a node that stops while holding it holds up
/// clustering (every node's ingest) for at most this long.
pub const CLUSTER_LEASE_TERM: Duration = Duration::seconds(30);
/// Pauses between attempts to take a lease another node holds.
const LEASE_RETRY: std::time::Duration = std::time::Duration::from_millis(25);
/// Attempts before an ingest gives up waiting for the lease (about 35 s: longer than a term, so
/// a stopped holder's lease expires while we wait).
const LEASE_ATTEMPTS: u32 = 1_400;
/// Items read per round trip when a node catches up on what other nodes stored.
const CATCH_UP_PAGE: usize = 1_000;

/// In-memory state of the wire desk: the clusterer over the last [`CLUSTER_WINDOW`] and the
/// shingle frequencies of the recent stream (common words are left out of signatures).
///
/// Several nodes give one answer: clustering happens only under the store lease
/// [`CLUSTER_LEASE`], and before clustering anything the holder feeds its clusterer every item
/// stored after the last one it has seen (by stored id, with the cluster stored for it), so every
/// node's clusterer has seen the same stream in the same order when it decides.
pub struct WireState {
    clusterer: Mutex<Clustering>,
    hasher: MinHasher,
    /// One ingest at a time on this node (the lease orders the nodes; this, a node's batches).
    gate: tokio::sync::Mutex<()>,
    /// This node's name as the lease's holder.
    holder: String,
}

struct Clustering {
    clusterer: Clusterer,
    common: CommonShingles,
    /// The last stored item this clusterer has seen; `None` until it is rebuilt from the store.
    applied: Option<WireItemId>,
}

impl Clustering {
    fn fresh() -> Self {
        Clustering {
            clusterer: Clusterer::new(ClusterConfig {
                window: CLUSTER_WINDOW,
                ..ClusterConfig::default()
            }),
            common: CommonShingles::new(),
            applied: None,
        }
    }

    /// Holds stored items (in stored order) in the clusters the store has for them, as the node
    /// that clustered them held them.
    fn replay(&mut self, hasher: &MinHasher, items: &[StoredWireItem]) {
        for it in items {
            let published = it.item.published_at.unwrap_or(it.received_at);
            let hash = newsdesk_enrich::fingerprint::content_hash(
                &it.item.headline,
                &wire_plain(&it.item.body_html),
            );
            let shingles = hasher.shingles(&text_of(&it.item));
            let sig = hasher.signature_of(&self.common.informative(&shingles));
            self.common.observe(&shingles);
            self.clusterer.add_known(
                item_key(&it.item.agency, &it.item.agency_id) as u64,
                published,
                hash,
                &sig,
                it.cluster_id.0 as u64,
            );
            if self.applied.is_none_or(|a| it.id > a) {
                self.applied = Some(it.id);
            }
        }
    }

    /// The cluster of a new item, from its text's shingles (its signature is taken over its
    /// informative words). An exact re-send (same content hash) joins its original's cluster
    /// whatever its signature.
    fn assign_shingles(
        &mut self,
        hasher: &MinHasher,
        key: u64,
        published: chrono::DateTime<chrono::Utc>,
        hash: u64,
        shingles: &[u64],
    ) -> u64 {
        let sig = hasher.signature_of(&self.common.informative(shingles));
        self.common.observe(shingles);
        self.clusterer
            .add_exact(key, published, hash, &sig)
            .cluster_id
    }
}

/// An item ready to store: the item, its content hash, its cluster and its tags.
type Enriched = (WireItem, String, ClusterId, WireTags);

/// What can be worked out for an item on its own, in parallel with the others.
struct Prepared {
    item: WireItem,
    hash: u64,
    shingles: Vec<u64>,
    tags: WireTags,
}

impl WireState {
    /// Tags, hashes and clusters a batch. The per-item work (text, tags, shingles) runs on every
    /// core; clustering then goes through the items in order under the clusterer's lock.
    fn enrich(
        &self,
        items: Vec<WireItem>,
        known: &std::collections::HashMap<(String, String), ClusterId>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> AppResult<Vec<Enriched>> {
        let prepare = |item: WireItem| -> Prepared {
            // The body's plain text is made once and split into words once; the words serve
            // the hash, the shingles and both taggers (the same values as from the texts).
            let body = wire_plain(&item.body_html);
            let tagged = format!("{}\n{}", item.summary, body);
            let head_words = Tokens::new(&item.headline);
            let words = Tokens::new(&tagged);
            let body_words = words.words_from(item.summary.len() + 1);
            let hash =
                newsdesk_enrich::fingerprint::content_hash_words(head_words.words(), body_words);
            let shingles = self
                .hasher
                .shingles_words(head_words.words().chain(words.words()));
            let region = newsdesk_enrich::region::Gazetteer::global().tag_region_tokens(
                &item.headline,
                &head_words,
                &tagged,
                &words,
                &item.places,
            );
            let sector =
                newsdesk_enrich::sector::tag_sector_tokens(&item, &head_words, &tagged, &words);
            // The sector's evidence travels with the editions' under one prefix, so the cluster
            // page can show what every tag rests on.
            let sector_evidence = sector
                .sectors
                .first()
                .map(|s| format!("{SECTOR_EVIDENCE_PREFIX}{}", s.evidence.join(", ")));
            let tags = WireTags {
                sector: sector.primary().map(str::to_owned),
                editions: region
                    .editions
                    .iter()
                    .map(|e| e.edition.to_owned())
                    .collect(),
                evidence: region
                    .editions
                    .iter()
                    .flat_map(|e| e.evidence.clone())
                    .chain(sector_evidence)
                    .collect(),
            };
            Prepared {
                item,
                hash,
                shingles,
                tags,
            }
        };
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 8);
        let prepared: Vec<Prepared> = if threads < 2 || items.len() < 64 {
            items.into_iter().map(prepare).collect()
        } else {
            let per = items.len().div_ceil(threads);
            let mut chunks: Vec<Vec<WireItem>> = Vec::new();
            let mut rest = items;
            while rest.len() > per {
                let tail = rest.split_off(per);
                chunks.push(rest);
                rest = tail;
            }
            chunks.push(rest);
            std::thread::scope(|scope| {
                let handles: Vec<_> = chunks
                    .into_iter()
                    .map(|chunk| {
                        scope.spawn(move || chunk.into_iter().map(prepare).collect::<Vec<_>>())
                    })
                    .collect();
                let mut all = Vec::new();
                for h in handles {
                    // A panic in the enrichment code is a bug: the batch fails as a whole (the
                    // source keeps its items for the next poll) rather than losing some.
                    all.extend(h.join().map_err(|_| {
                        AppError::Internal("enriching agency items failed (a bug)".into())
                    })?);
                }
                Ok::<_, AppError>(all)
            })?
        };
        let mut c = self.clusterer.lock().unwrap_or_else(|e| e.into_inner());
        Ok(prepared
            .into_iter()
            .map(|p| {
                let key = item_key(&p.item.agency, &p.item.agency_id);
                let cluster_id = match known.get(&(p.item.agency.clone(), p.item.agency_id.clone()))
                {
                    Some(id) => *id,
                    // Seen earlier in this batch (a re-send): same cluster.
                    None => match c.clusterer.cluster_of(key as u64) {
                        Some(cl) => ClusterId(cl as i64),
                        None => ClusterId(c.assign_shingles(
                            &self.hasher,
                            key as u64,
                            p.item.published_at.unwrap_or(now),
                            p.hash,
                            &p.shingles,
                        ) as i64),
                    },
                };
                (p.item, format!("{:016x}", p.hash), cluster_id, p.tags)
            })
            .collect())
    }
}

impl WireState {
    fn lock(&self) -> std::sync::MutexGuard<'_, Clustering> {
        self.clusterer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Drops the clusterer's state (it is rebuilt from the store under the next lease): after
    /// a failed batch it may hold items that were never stored.
    fn forget(&self) {
        *self.lock() = Clustering::fresh();
    }
}

impl Default for WireState {
    fn default() -> Self {
        let mut nonce = [0u8; 8];
        // A clock-free fallback keeps names distinct within the process if randomness fails.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let n = if getrandom::fill(&mut nonce).is_ok() {
            u64::from_le_bytes(nonce)
        } else {
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        };
        Self {
            clusterer: Mutex::new(Clustering::fresh()),
            hasher: MinHasher::default(),
            gate: tokio::sync::Mutex::new(()),
            holder: format!("{}-{n:016x}", newsdesk_jobs::worker_name()),
        }
    }
}

/// What one ingest call did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct IngestReport {
    /// New items.
    pub new: usize,
    /// Newer versions of known items.
    pub updated: usize,
    /// Exact re-sends and older versions.
    pub duplicates: usize,
    /// Withdrawn or cancelled items.
    pub withdrawn: usize,
    /// Stories flagged because of corrections or withdrawals.
    pub flagged: Vec<StoryId>,
    /// Database ids of the new items.
    pub new_items: Vec<WireItemId>,
}

/// Whether an auto-publish rule lets an item out unedited: usable, in one of the rule's sectors
/// (any when none), at least as urgent as its limit, and with no embargo that could not be read
/// (that is held for the desk, never guessed at).
pub(crate) fn rule_admits(rule: &AutoPublish, item: &WireItem, sector: Option<&str>) -> bool {
    let sector_ok =
        rule.sectors.is_empty() || sector.is_some_and(|s| rule.sectors.iter().any(|r| r == s));
    let urgency_ok = rule
        .max_urgency
        .is_none_or(|max| item.urgency.is_some_and(|u| u <= max));
    let held = item.embargo.is_some_and(is_embargo_unknown);
    item.status == WireStatus::Usable && sector_ok && urgency_ok && !held
}

/// Stable key of an item for the clusterer (and the id of a cluster it founds).
pub fn item_key(agency: &str, agency_id: &str) -> i64 {
    let mut bytes = agency.as_bytes().to_vec();
    bytes.push(0);
    bytes.extend_from_slice(agency_id.as_bytes());
    (newsdesk_enrich::fingerprint::fnv1a(&bytes) & (i64::MAX as u64)) as i64
}

fn plain(html: &str) -> String {
    newsdesk_render::plain_text(html)
}

/// The plain text of an agency body (HTML from the parsers, never Markdown): hashed, shingled
/// and tagged. Read as HTML only: the Markdown pass of [`plain`] was extra work per item that
/// gives the same words.
fn wire_plain(html: &str) -> String {
    newsdesk_domain::text::html_to_text(html)
}

fn text_of(item: &WireItem) -> String {
    format!(
        "{}\n{}\n{}",
        item.headline,
        item.summary,
        wire_plain(&item.body_html)
    )
}

/// Word 5-grams of a text, lower-cased.
fn grams(text: &str) -> HashSet<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    words.windows(5).map(|w| w.join(" ")).collect()
}

/// The share of the story's word 5-grams that also appear in the agency texts (0 to 1).
pub fn agency_share(story_text: &str, agency_texts: &[String]) -> f64 {
    let story = grams(story_text);
    if story.is_empty() {
        return 0.0;
    }
    let agency: HashSet<String> = agency_texts.iter().flat_map(|t| grams(t)).collect();
    story.iter().filter(|g| agency.contains(*g)).count() as f64 / story.len() as f64
}

/// Provenance of a story built on agency copy: [`UNEDITED_SHARE`] or more of its text taken as is
/// means the copy went out essentially unedited; less is a desk story with agency inputs.
pub fn provenance_for(share: f64) -> Provenance {
    if share >= UNEDITED_SHARE {
        Provenance::AutoGenerated
    } else {
        Provenance::AgencyInputs
    }
}

impl App {
    /// Rebuilds the clusterer from the items of the last [`CLUSTER_WINDOW`] (at start), under
    /// the clustering lease.
    pub async fn restore_wire(&self) -> AppResult<()> {
        let _gate = self.wire.gate.lock().await;
        self.take_cluster_lease().await?;
        let out = self.catch_up_wire().await;
        if out.is_err() {
            self.wire.forget();
        }
        self.release_cluster_lease().await;
        out
    }

    /// Takes the clustering lease for this node, waiting (a bounded number of attempts) while
    /// another node holds it.
    async fn take_cluster_lease(&self) -> AppResult<()> {
        for _ in 0..LEASE_ATTEMPTS {
            let now = self.now();
            if self
                .store
                .take_lease(
                    CLUSTER_LEASE,
                    &self.wire.holder,
                    now,
                    now + CLUSTER_LEASE_TERM,
                )
                .await?
            {
                return Ok(());
            }
            tokio::time::sleep(LEASE_RETRY).await;
        }
        Err(newsdesk_store::StoreError::Busy.into())
    }

    /// Gives the clustering lease up (an error is logged: the lease then simply expires).
    async fn release_cluster_lease(&self) {
        if let Err(e) = self
            .store
            .release_lease(CLUSTER_LEASE, &self.wire.holder)
            .await
        {
            tracing::warn!(error = %e, "the clustering lease was not released; it will expire");
        }
    }

    /// Who holds the clustering lease now, if anyone (expired leases count as no one).
    pub async fn cluster_lease_holder(&self) -> AppResult<Option<String>> {
        let now = self.now();
        Ok(self
            .store
            .lease(CLUSTER_LEASE)
            .await?
            .filter(|(_, until)| *until > now)
            .map(|(h, _)| h))
    }

    /// This node's name as the clustering lease's holder.
    pub fn cluster_lease_name(&self) -> &str {
        &self.wire.holder
    }

    /// Feeds the clusterer what was stored since it last looked (under the lease): on its first
    /// call the items of the last [`CLUSTER_WINDOW`], afterwards those other nodes stored, in
    /// stored order and in the clusters they were given.
    async fn catch_up_wire(&self) -> AppResult<()> {
        let since = self.now() - CLUSTER_WINDOW;
        let applied = self.wire.lock().applied;
        let mut after = match applied {
            Some(a) => a,
            None => {
                // Everything up to the last id read under the lease: the window's items.
                let last = self.store.last_wire_item_id().await?;
                let items = self.store.recent_wire_items(since).await?;
                let wire = self.wire.clone();
                tokio::task::spawn_blocking(move || {
                    let mut c = wire.lock();
                    *c = Clustering::fresh();
                    c.replay(&wire.hasher, &items);
                    c.applied = Some(c.applied.map_or(last, |a| a.max(last)));
                })
                .await
                .map_err(|e| AppError::Internal(Box::new(e)))?;
                return Ok(());
            }
        };
        loop {
            let items = self
                .store
                .wire_items_after(after, since, CATCH_UP_PAGE)
                .await?;
            let Some(last) = items.last().map(|i| i.id) else {
                return Ok(());
            };
            let full = items.len() == CATCH_UP_PAGE;
            let wire = self.wire.clone();
            tokio::task::spawn_blocking(move || wire.lock().replay(&wire.hasher, &items))
                .await
                .map_err(|e| AppError::Internal(Box::new(e)))?;
            after = last;
            if !full {
                return Ok(());
            }
        }
    }

    /// Takes agency items in: each is stored once per version, clustered with reports of the same
    /// event, tagged with editions and a sector, and its cluster's summary draft refreshed.
    pub async fn ingest(&self, items: Vec<WireItem>) -> AppResult<IngestReport> {
        self.ingest_from(None, items).await
    }

    /// [`App::ingest`] of items from `source`: a new item its auto-publish rule admits gets an
    /// auto-publish job, queued in the transaction that stores the item.
    pub(crate) async fn ingest_from(
        &self,
        source: Option<&Source>,
        items: Vec<WireItem>,
    ) -> AppResult<IngestReport> {
        let mut report = IngestReport::default();
        if items.is_empty() {
            return Ok(report);
        }
        if items
            .iter()
            .any(|i| i.agency.trim().is_empty() || i.agency_id.trim().is_empty())
        {
            return Err(AppError::invalid(
                "item",
                "An agency item needs an agency and an id.",
            ));
        }
        // One node at a time clusters, having seen everything stored before (see `WireState`).
        let gate = self.wire.gate.lock().await;
        self.take_cluster_lease().await?;
        let stored = self.cluster_and_store(source, items).await;
        if stored.is_err() {
            self.wire.forget();
        }
        self.release_cluster_lease().await;
        drop(gate);
        let (rows, outcomes, now) = stored?;
        let mut touched: Vec<ClusterId> = Vec::new();
        let mut fresh: Vec<ClusterId> = Vec::new();
        let mut moved: Vec<(WireItemId, chrono::DateTime<chrono::Utc>)> = Vec::new();
        for ((item, _, cluster_id, _), (item_id, outcome)) in rows.iter().zip(outcomes) {
            match outcome {
                WireOutcome::New => {
                    report.new += 1;
                    report.new_items.push(item_id);
                    if !fresh.contains(cluster_id) {
                        fresh.push(*cluster_id);
                    }
                }
                WireOutcome::Updated => {
                    report.updated += 1;
                    if let Some(e) = item.embargo.filter(|e| *e > now) {
                        moved.push((item_id, embargo_for_story(e)));
                    }
                }
                WireOutcome::Duplicate => {
                    report.duplicates += 1;
                    continue;
                }
                WireOutcome::Withdrawn(flagged) => {
                    report.withdrawn += 1;
                    report.flagged.extend(flagged);
                }
            }
            if !touched.contains(cluster_id) {
                touched.push(*cluster_id);
            }
        }
        // Each touched cluster's summary draft is refreshed by a job, once per cluster however
        // many batches touch it before the job runs: ingest does not wait for summaries.
        let jobs = touched
            .into_iter()
            .map(|cluster| newsdesk_jobs::new_job(&crate::jobs::SummaryDraft { cluster }, now))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| AppError::Internal(e.to_string().into()))?;
        if !jobs.is_empty() {
            self.store.enqueue_jobs(&jobs, now).await?;
        }
        self.follow_moved_embargoes(&moved).await?;
        self.emit_new_clusters(&fresh, now).await;
        let c = &self.counters;
        crate::Counters::add(&c.ingest_new, report.new);
        crate::Counters::add(&c.ingest_updated, report.updated);
        crate::Counters::add(&c.ingest_duplicates, report.duplicates);
        crate::Counters::add(&c.ingest_withdrawn, report.withdrawn);
        Ok(report)
    }

    /// Clusters a batch (after catching up on what other nodes stored) and stores it, under the
    /// clustering lease.
    async fn cluster_and_store(
        &self,
        source: Option<&Source>,
        items: Vec<WireItem>,
    ) -> AppResult<(
        Vec<Enriched>,
        Vec<(WireItemId, WireOutcome)>,
        chrono::DateTime<chrono::Utc>,
    )> {
        let now = self.now();
        let keys: Vec<(String, String)> = items
            .iter()
            .map(|i| (i.agency.clone(), i.agency_id.clone()))
            .collect();
        let known: std::collections::HashMap<(String, String), ClusterId> = self
            .store
            .find_wire_items(&keys)
            .await?
            .into_iter()
            .map(|s| ((s.item.agency, s.item.agency_id), s.cluster_id))
            .collect();
        self.catch_up_wire().await?;
        // Enrichment is CPU work on the whole batch, done off the async workers (a big batch
        // must not stall the reader site); storing is one transaction for the batch.
        let wire = self.wire.clone();
        let rows = tokio::task::spawn_blocking(move || wire.enrich(items, &known, now))
            .await
            .map_err(|e| AppError::Internal(Box::new(e)))??;
        let rule = source.and_then(|s| s.auto_publish.as_ref().map(|r| (s.id, r)));
        let auto = rows
            .iter()
            .map(|(item, _, _, tags)| match rule {
                Some((source, rule)) if rule_admits(rule, item, tags.sector.as_deref()) => {
                    let job = crate::jobs::AutoPublishItem {
                        source,
                        agency: item.agency.clone(),
                        agency_id: item.agency_id.clone(),
                    };
                    newsdesk_jobs::new_job(&job, now).map(Some)
                }
                _ => Ok(None),
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| AppError::Internal(e.to_string().into()))?;
        // The lease must still be ours when the batch is stored (a stall longer than its term
        // lets another node cluster meanwhile; then this batch is refused, not stored out of
        // order, and the source's items come again).
        let renew = self.now();
        if !self
            .store
            .take_lease(
                CLUSTER_LEASE,
                &self.wire.holder,
                renew,
                renew + CLUSTER_LEASE_TERM,
            )
            .await?
        {
            return Err(newsdesk_store::StoreError::Busy.into());
        }
        let outcomes = self
            .store
            .store_wire_items_queueing(&rows, &auto, now)
            .await?;
        let last = outcomes.iter().map(|(id, _)| *id).max();
        {
            let mut c = self.wire.lock();
            if let Some(last) = last {
                if c.applied.is_none_or(|a| last > a) {
                    c.applied = Some(last);
                }
            }
        }
        Ok((rows, outcomes, now))
    }

    /// Tells webhooks of the clusters among `touched` that this batch made (created now).
    async fn emit_new_clusters(&self, touched: &[ClusterId], now: DateTime<Utc>) {
        if touched.is_empty() {
            return;
        }
        // No hook takes the event: no reads of clusters.
        match self.store.list_webhooks().await {
            Ok(h)
                if h.iter()
                    .any(|h| h.enabled && h.events.contains(&WebhookEvent::WireClusterCreated)) => {
            }
            _ => return,
        }
        for id in touched {
            match self.store.get_cluster_head(*id, 1).await {
                Ok((c, _)) if c.created_at >= now => {
                    let data = serde_json::json!({
                        "cluster": {
                            "id": c.id.0,
                            "headline": c.headline,
                            "agencies": c.agencies,
                            "sector": c.sector,
                            "editions": c.editions,
                            "embargo": c.embargo.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                        }
                    });
                    self.emit_webhook(
                        WebhookEvent::WireClusterCreated,
                        &format!("cluster-{}-created", c.id.0),
                        data,
                    )
                    .await;
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(cluster = id.0, error = %e, "no webhook event for a cluster")
                }
            }
        }
    }

    /// Refreshes a cluster's summary draft (unless an editor accepted its summary).
    pub(crate) async fn refresh_summary_draft(&self, cluster_id: ClusterId) -> AppResult<()> {
        if let Some(text) = self.summary_draft(cluster_id).await? {
            self.store.set_summary_drafts(&[(cluster_id, text)]).await?;
        }
        Ok(())
    }

    /// A fresh summary draft of a cluster, or `None` if an editor accepted its summary.
    async fn summary_draft(&self, cluster_id: ClusterId) -> AppResult<Option<String>> {
        let (cluster, items) = self.store.get_cluster_head(cluster_id, 12).await?;
        if cluster.summary_accepted {
            return Ok(None);
        }
        // The first reports carry the event; a dozen is plenty for a 50-word summary and keeps
        // the work per item bounded however large a cluster grows.
        let texts: Vec<String> = items
            .iter()
            .filter(|i| i.item.status == WireStatus::Usable)
            .map(|i| format!("{} {}", i.item.summary, plain(&i.item.body_html)))
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        Ok(Some(
            newsdesk_enrich::summary::summarise(&refs, SUMMARY_WORDS).text,
        ))
    }

    /// Candidate comparisons the clusterer has made so far (benchmarks show the work per item).
    pub fn cluster_comparisons(&self) -> u64 {
        self.wire
            .clusterer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clusterer
            .candidates_compared()
    }

    /// The wire inbox.
    pub async fn wire_inbox(&self, actor: &User, query: &WireQuery) -> AppResult<Vec<WireCluster>> {
        require(actor, Capability::ViewNewsroom)?;
        Ok(self.store.list_clusters(query).await?)
    }

    /// One cluster with every agency version.
    pub async fn wire_cluster(
        &self,
        actor: &User,
        id: ClusterId,
    ) -> AppResult<(WireCluster, Vec<StoredWireItem>)> {
        require(actor, Capability::ViewNewsroom)?;
        Ok(self.store.get_cluster(id).await?)
    }

    /// The desk corrects a cluster's suggested tags: a sector (by slug, or none) and editions
    /// (by slug). Unknown slugs are refused. Stories made from the cluster afterwards start with
    /// these tags.
    pub async fn retag_cluster(
        &self,
        actor: &User,
        id: ClusterId,
        sector: Option<&str>,
        editions: &[String],
    ) -> AppResult<()> {
        require(actor, Capability::EditAnyStory)?;
        let sector = sector.map(str::trim).filter(|s| !s.is_empty());
        let mut eds: Vec<String> = Vec::new();
        {
            let snap = self.read();
            if let Some(s) = sector {
                if snap.tax.sector_by_slug(s).is_none() {
                    return Err(AppError::invalid(
                        "sector",
                        "Choose a sector from the list.",
                    ));
                }
            }
            for e in editions.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
                if snap.tax.edition_by_slug(e).is_none() {
                    return Err(AppError::invalid(
                        "editions",
                        "Choose editions from the list.",
                    ));
                }
                if !eds.iter().any(|x| x == e) {
                    eds.push(e.to_owned());
                }
            }
        }
        Ok(self.store.set_cluster_tags(id, sector, &eds).await?)
    }

    /// An editor accepts (or rewrites) a cluster's summary draft.
    pub async fn accept_summary(&self, actor: &User, id: ClusterId, text: &str) -> AppResult<()> {
        require(actor, Capability::EditAnyStory)?;
        let text = text.trim();
        if text.is_empty() || text.chars().count() > 1000 {
            return Err(AppError::invalid(
                "summary",
                "A summary is 1 to 1,000 characters.",
            ));
        }
        Ok(self.store.set_cluster_summary(id, text, true).await?)
    }

    /// Makes a draft from a cluster, pre-filled from its items and carrying their lineage.
    pub async fn story_from_cluster(&self, actor: &User, id: ClusterId) -> AppResult<Story> {
        require(actor, Capability::CreateStory)?;
        let (cluster, items) = self.store.get_cluster(id).await?;
        let usable: Vec<&StoredWireItem> = items
            .iter()
            .filter(|i| i.item.status == WireStatus::Usable)
            .collect();
        let Some(first) = usable.first() else {
            return Err(AppError::Conflict(
                "Every item of this cluster was withdrawn.".into(),
            ));
        };
        let now = self.now();
        let (sector_id, editions, global) = {
            let snap = self.read();
            let tax = &snap.tax;
            let sector = cluster
                .sector
                .as_deref()
                .and_then(|s| tax.sector_by_slug(s))
                .or_else(|| tax.sectors.first())
                .map(|s| s.id)
                .ok_or_else(|| AppError::Conflict("There are no sectors yet.".into()))?;
            let global = tax
                .global()
                .map(|g| g.id)
                .ok_or_else(|| AppError::Conflict("There is no edition yet.".into()))?;
            let eds: Vec<EditionId> = cluster
                .editions
                .iter()
                .filter_map(|e| tax.edition_by_slug(e))
                .map(|e| e.id)
                .collect();
            (sector, eds, global)
        };
        let mut placements: Vec<Placement> = editions
            .iter()
            .map(|e| Placement {
                edition_id: *e,
                rank: None,
            })
            .collect();
        if !placements.iter().any(|p| p.edition_id == global) {
            placements.push(Placement {
                edition_id: global,
                rank: None,
            });
        }
        let headline = Headline::parse(&first.item.headline)
            .or_else(|_| {
                Headline::parse(&newsdesk_render::truncate_words(&first.item.headline, 200))
            })
            .map_err(|e| AppError::invalid("headline", e.to_string()))?;
        // The agency's pictures are not ours to show (nor loadable under the site's CSP).
        let body_md = newsdesk_render::sanitize_html_without_pictures(&first.item.body_html);
        let agencies: Vec<String> = cluster.agencies.clone();
        // The agencies' embargoes come along: the story may not go out before the latest.
        let embargo = latest_embargo(usable.iter().map(|i| i.item.embargo))
            .filter(|e| *e > now)
            .map(embargo_for_story);
        let input = StoryInput {
            slug: Slug::from_title(headline.as_str(), &format!("wire-{}", now.timestamp())),
            kind: Kind::News,
            status: StoryStatus::Draft,
            headline,
            summary: cluster.summary.clone(),
            body_html: newsdesk_render::markdown_to_safe_html(&body_md),
            body_md,
            sector_id,
            region: "Global".into(),
            primary_edition_id: placements.first().map(|p| p.edition_id).unwrap_or(global),
            placements,
            desk_id: None,
            author_ids: Vec::new(),
            tag_ids: Vec::new(),
            hero_image_id: None,
            video: None,
            provenance: Provenance::AgencyInputs,
            source: Some(agencies.join(", ")),
            created_at: now,
            updated_at: now,
            published_at: None,
            embargo_until: embargo,
        };
        let lineage: Vec<(WireItemId, i64)> =
            usable.iter().map(|i| (i.id, i.item.version)).collect();
        let audit = AuditInput {
            at: now,
            user_id: Some(actor.id),
            action: "create".into(),
            target: String::new(),
            detail: format!("from wire cluster {id} ({} items)", lineage.len()),
        };
        let slug_taken = |e: newsdesk_store::StoreError| match e {
            newsdesk_store::StoreError::Conflict(_) => {
                AppError::Conflict("A story with this headline exists; open it instead.".into())
            }
            other => other.into(),
        };
        let story = self
            .store
            .create_story_from_wire(&input, actor.id, &audit, &lineage)
            .await
            .map_err(slug_taken)?;
        self.sync().await?;
        Ok(story)
    }

    /// The provenance a story built on agency copy should carry now, from how much of the agency
    /// text it still contains; `None` for a story with no lineage.
    pub async fn computed_provenance(&self, story: &Story) -> AppResult<Option<(Provenance, f64)>> {
        let lineage = self.store.lineage(story.id).await?;
        if lineage.is_empty() {
            return Ok(None);
        }
        let mut texts = Vec::new();
        for (item_id, _) in &lineage {
            texts.push(text_of(&self.store.get_wire_item(*item_id).await?.item));
        }
        let story_text = format!(
            "{}\n{}\n{}",
            story.headline,
            story.summary,
            plain(&story.body_html)
        );
        let share = agency_share(&story_text, &texts);
        Ok(Some((provenance_for(share), share)))
    }

    /// The latest readable embargo among the current versions of the usable agency items a
    /// story is built on, if any.
    ///
    /// An embargo that could not be read ([`embargo_unknown`]) is left out: a story made from
    /// such copy starts embargoed until further notice, and the time an editor then sets (after
    /// checking with the agency) is the only one there is.
    pub async fn lineage_embargo(&self, story: StoryId) -> AppResult<Option<DateTime<Utc>>> {
        let mut latest = None;
        for (item_id, _) in self.store.lineage(story).await? {
            let it = self.store.get_wire_item(item_id).await?.item;
            if it.status == WireStatus::Usable {
                latest = latest_embargo([latest, it.embargo.filter(|e| !is_embargo_unknown(*e))]);
            }
        }
        Ok(latest)
    }

    /// Refuses a story built on embargoed agency copy that would be public before the embargo
    /// ends: `input` is what the story becomes (published or scheduled at `published_at`).
    pub(crate) async fn check_agency_embargo(
        &self,
        story: StoryId,
        input: &StoryInput,
    ) -> AppResult<()> {
        let Some(published) = input.published_at else {
            return Ok(());
        };
        let visible = input.embargo_until.map_or(published, |e| e.max(published));
        match self.lineage_embargo(story).await? {
            // Once the embargo has passed nothing can break it (an editor tidying the embargo
            // of a story that went out at its time is not refused).
            Some(e) if visible < e && e > self.now() => Err(AppError::invalid(
                "embargo_until",
                format!(
                    "The agency copy this story is built on is embargoed until {} UTC: set the \
                     story's embargo to that time or later.",
                    e.format("%Y-%m-%d %H:%M")
                ),
            )),
            _ => Ok(()),
        }
    }

    /// An agency moved an embargo later in a new version of an item: stories built on it that
    /// are published but not yet visible wait for the new time too. (One already public cannot
    /// be called back; the correction flag tells the desk.)
    async fn follow_moved_embargoes(&self, moved: &[(WireItemId, DateTime<Utc>)]) -> AppResult<()> {
        if moved.is_empty() {
            return Ok(());
        }
        let now = self.now();
        let flags = self.store.lineage_flags().await?;
        let mut done: Vec<StoryId> = Vec::new();
        for (item_id, embargo) in moved {
            for f in flags.iter().filter(|f| f.item_id == *item_id) {
                if done.contains(&f.story_id) {
                    continue;
                }
                let story = self.store.get_story(f.story_id).await?;
                if story.status != StoryStatus::Published
                    || story.is_public_at(now)
                    || story.embargo_until.is_some_and(|e| e >= *embargo)
                {
                    continue;
                }
                done.push(story.id);
                let mut input = story.input.clone();
                input.embargo_until = Some(*embargo);
                let audit = AuditInput {
                    at: now,
                    user_id: None,
                    action: "embargo".into(),
                    target: format!("story:{}", story.id.0),
                    detail: format!(
                        "the agency moved the embargo of item {item_id} to {}",
                        embargo.format("%Y-%m-%d %H:%M UTC")
                    ),
                };
                match self
                    .store
                    .save_story(story.id, story.version, &input, None, Some(&audit))
                    .await
                {
                    Ok(_) => {}
                    // An editor saved it at the same moment; their save is checked against the
                    // embargo on the next publish step.
                    Err(newsdesk_store::StoreError::Conflict(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        if !done.is_empty() {
            self.sync().await?;
        }
        Ok(())
    }

    /// Links of the agency items a story is built on (for JSON-LD `isBasedOn`).
    pub async fn based_on(&self, story: StoryId) -> AppResult<Vec<String>> {
        let mut out = Vec::new();
        for (item_id, _) in self.store.lineage(story).await? {
            out.extend(
                self.store
                    .get_wire_item(item_id)
                    .await?
                    .item
                    .links
                    .into_iter()
                    .take(1),
            );
        }
        Ok(out)
    }

    /// Publishes one agency item of a source by the source's auto-publish rule, unedited and
    /// labelled as auto-generated, with its lineage (the auto-publish job's work). `None` when
    /// the item does not match the rule (any more), or a story built on it exists already: a
    /// retried job publishes nothing twice. No active admin to own the story is an error, so
    /// the job retries (and shows on the Jobs page) until one exists.
    pub(crate) async fn auto_publish_item(
        &self,
        source: &Source,
        stored: &StoredWireItem,
    ) -> AppResult<Option<StoryId>> {
        let Some(rule) = &source.auto_publish else {
            return Ok(None);
        };
        let id = stored.id;
        let item = &stored.item;
        if !rule_admits(rule, item, stored.sector.as_deref()) {
            return Ok(None);
        }
        let now = self.now();
        // Published now, visible only when the agency's embargo ends.
        let embargo = item.embargo.filter(|e| *e > now).map(embargo_for_story);
        let (sector_id, placements) = {
            let snap = self.read();
            let tax = &snap.tax;
            let Some(sector) = stored
                .sector
                .as_deref()
                .and_then(|s| tax.sector_by_slug(s))
                .or_else(|| tax.sectors.first())
            else {
                return Ok(None);
            };
            let mut placements: Vec<Placement> = rule
                .editions
                .iter()
                .filter_map(|e| tax.edition_by_slug(e))
                .map(|e| Placement {
                    edition_id: e.id,
                    rank: None,
                })
                .collect();
            if let Some(g) = tax.global() {
                if !placements.iter().any(|p| p.edition_id == g.id) {
                    placements.push(Placement {
                        edition_id: g.id,
                        rank: None,
                    });
                }
            }
            (sector.id, placements)
        };
        let Ok(headline) = Headline::parse(&newsdesk_render::truncate_words(&item.headline, 200))
        else {
            return Ok(None);
        };
        let body_md = newsdesk_render::sanitize_html(&item.body_html);
        let input = StoryInput {
            slug: Slug::from_title(&format!("{headline} {id}"), &format!("wire-{id}")),
            kind: Kind::News,
            status: StoryStatus::Published,
            headline,
            summary: if item.summary.is_empty() {
                newsdesk_render::truncate_words(&plain(&item.body_html), 300).into_owned()
            } else {
                item.summary.clone()
            },
            body_html: newsdesk_render::markdown_to_safe_html(&body_md),
            body_md,
            sector_id,
            region: "Global".into(),
            primary_edition_id: placements
                .first()
                .map(|p| p.edition_id)
                .unwrap_or(EditionId(0)),
            placements,
            desk_id: None,
            author_ids: Vec::new(),
            tag_ids: Vec::new(),
            hero_image_id: None,
            video: None,
            provenance: Provenance::AutoGenerated,
            source: Some(item.agency.clone()),
            created_at: now,
            updated_at: now,
            published_at: Some(now),
            embargo_until: embargo,
        };
        let audit = AuditInput {
            at: now,
            user_id: None,
            action: "auto-publish".into(),
            target: String::new(),
            detail: format!(
                "{} item {} by the rule of source {}{}",
                item.agency,
                item.agency_id,
                source.id,
                embargo
                    .map(|e| format!(", embargoed until {}", e.format("%Y-%m-%d %H:%M UTC")))
                    .unwrap_or_default()
            ),
        };
        // Made by the system: the first active admin stands as the story's owner.
        let Some(owner) = self
            .store
            .list_users()
            .await?
            .into_iter()
            .find(|u| u.role == Role::Admin && !u.disabled)
        else {
            return Err(AppError::Internal(
                "auto-publish needs an active admin account to own the stories; none exists".into(),
            ));
        };
        let made = match self
            .store
            .create_story_from_wire_once(&input, owner.id, &audit, (id, item.version))
            .await
        {
            Ok(made) => made.map(|s| s.id),
            // Its address is taken by another story: the desk deals with the item.
            Err(newsdesk_store::StoreError::Conflict(_)) => None,
            Err(e) => return Err(e.into()),
        };
        if let Some(id) = made {
            self.sync().await?;
            match self.store.get_story(id).await {
                Ok(s) => {
                    self.emit_story_event(WebhookEvent::StoryPublished, &s)
                        .await
                }
                Err(e) => {
                    tracing::error!(story = id.0, error = %e, "no webhook event for an auto-publication")
                }
            }
        }
        Ok(made)
    }

    /// Sets or clears a source's auto-publish rule (admins).
    pub async fn set_auto_publish(
        &self,
        actor: &User,
        source: SourceId,
        rule: Option<AutoPublish>,
    ) -> AppResult<()> {
        require(actor, Capability::ManageUsers)?;
        if let Some(r) = &rule {
            let snap = self.read();
            if r.sectors
                .iter()
                .any(|s| snap.tax.sector_by_slug(s).is_none())
            {
                return Err(AppError::invalid(
                    "sectors",
                    "Choose sectors from the list.",
                ));
            }
            if r.editions
                .iter()
                .any(|e| snap.tax.edition_by_slug(e).is_none())
            {
                return Err(AppError::invalid(
                    "editions",
                    "Choose editions from the list.",
                ));
            }
            if r.max_urgency.is_some_and(|u| !(1..=9).contains(&u)) {
                return Err(AppError::invalid(
                    "max_urgency",
                    "Urgency runs from 1 (most urgent) to 9.",
                ));
            }
        }
        self.store.set_auto_publish(source, rule.as_ref()).await?;
        let detail = match &rule {
            Some(r) => format!(
                "sectors {:?}, urgency at most {:?}, editions {:?}",
                r.sectors, r.max_urgency, r.editions
            ),
            None => "off".into(),
        };
        self.store
            .record_audit(&AuditInput {
                at: self.now(),
                user_id: Some(actor.id),
                action: "auto-publish-rule".into(),
                target: format!("source:{source}"),
                detail,
            })
            .await?;
        Ok(())
    }

    /// Stories flagged because their agency copy was withdrawn or corrected.
    pub async fn lineage_flags(&self, actor: &User) -> AppResult<Vec<LineageFlag>> {
        require(actor, Capability::ViewNewsroom)?;
        Ok(self.store.lineage_flags().await?)
    }

    /// An editor has dealt with a story's flags.
    pub async fn resolve_flags(&self, actor: &User, story: StoryId) -> AppResult<()> {
        require(actor, Capability::EditAnyStory)?;
        Ok(self.store.resolve_lineage_flags(story, self.now()).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provenance_thresholds() {
        let agency = vec!["Heavy rain flooded the port city of Mombasa on Thursday, officials said, and roads were closed.".to_owned()];
        let copy = "Heavy rain flooded the port city of Mombasa on Thursday, officials said, and roads were closed.";
        let rewrite = "Mombasa's roads closed after a day of storms; the county is counting the damage and asking for help.";
        assert!(agency_share(copy, &agency) > 0.95);
        assert_eq!(
            provenance_for(agency_share(copy, &agency)),
            Provenance::AutoGenerated
        );
        assert!(agency_share(rewrite, &agency) < 0.2);
        assert_eq!(
            provenance_for(agency_share(rewrite, &agency)),
            Provenance::AgencyInputs
        );
        assert_eq!(item_key("A", "1"), item_key("A", "1"));
        assert_ne!(item_key("A", "1"), item_key("A1", ""));
        assert!(item_key("x", "y") >= 0);
    }
}
