//! The newsdesk binary: command line, configuration and wiring.

mod config;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use config::Config;
use newsdesk_app::App;
use newsdesk_domain::{Clock, SystemClock};
use newsdesk_store::Store;
use std::path::PathBuf;
use std::sync::Arc;

/// newsdesk: a newsroom and a news site in one program.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    /// Configuration file (TOML). Settings may also come from NEWSDESK_* environment variables.
    #[arg(long, global = true, env = "NEWSDESK_CONFIG")]
    config: Option<PathBuf>,
    /// Folder for the database and media (overrides the configuration).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the site.
    Serve {
        /// Address to listen on (overrides the configuration).
        #[arg(long)]
        listen: Option<String>,
        /// Fill an empty database with demo content first.
        #[arg(long)]
        demo: bool,
        /// Stories of demo content.
        #[arg(long, default_value_t = 360)]
        demo_stories: usize,
    },
    /// Fill an empty database with demo content.
    Demo {
        /// Number of public stories to generate.
        #[arg(long, default_value_t = 360)]
        stories: usize,
        /// Seed of the generator (same seed, same content).
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Run database migrations and exit.
    Migrate,
    /// Copy the SQLite database (SQLite's online backup, while the site keeps serving) and the
    /// media folder into the new folder DEST.
    Backup {
        /// Folder to create for the copy (it must not exist, or be empty).
        dest: PathBuf,
    },
    /// Read agency copy from files (RSS, Atom, JSON Feed, ninjs, NewsML-G2).
    Ingest {
        /// Parse and print what newsdesk makes of each file; store nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print one JSON object per item (times in RFC 3339 UTC).
        #[arg(long)]
        json: bool,
        /// Agency name for the items (default: the file name without extension).
        #[arg(long)]
        agency: Option<String>,
        /// Files to read.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Import posts and pages from WordPress or Ghost.
    Import {
        #[command(subcommand)]
        what: ImportCmd,
    },
    /// Manage newsroom accounts.
    User {
        #[command(subcommand)]
        what: UserCmd,
    },
    /// The newsletter: import subscribers, make a digest now.
    Newsletter {
        #[command(subcommand)]
        what: NewsletterCmd,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        what: TokenCmd,
    },
    /// Show configuration.
    Config {
        #[command(subcommand)]
        what: ConfigCmd,
    },
    /// Full-text search.
    Search {
        #[command(subcommand)]
        what: SearchCmd,
    },
    /// Work on whole databases.
    Store {
        #[command(subcommand)]
        what: StoreCmd,
    },
}

#[derive(Subcommand, Debug)]
enum StoreCmd {
    /// Copy a whole site from one database to another (moving up from SQLite to PostgreSQL):
    /// every table but sessions and other passing state, in batches, then checked by counts
    /// per table and a sample of rows. Stop the site first (writes made meanwhile are not copied).
    Copy {
        /// The site to copy: sqlite:PATH (or sqlite://PATH) or postgres://…
        #[arg(long)]
        from: String,
        /// Where to copy it: postgres://… or sqlite:PATH; it is migrated first and must be empty.
        #[arg(long)]
        to: String,
        /// Empty the target's tables first instead of refusing a target with content.
        #[arg(long)]
        replace: bool,
        /// Rows per batch (memory holds one batch).
        #[arg(long, default_value_t = 500)]
        batch: usize,
    },
}

#[derive(Subcommand, Debug)]
enum SearchCmd {
    /// Build a new index generation aside from the published stories and make it current; a
    /// running server keeps serving the old one and switches at its next sync.
    Reindex,
}

#[derive(Subcommand, Debug)]
enum UserCmd {
    /// Make an account. The password is read from standard input when it is not a terminal;
    /// otherwise a random one is made and printed once.
    Add {
        /// contributor, author, editor or admin.
        #[arg(long, default_value = "author")]
        role: String,
        /// Display name (default: the part of the address before @).
        #[arg(long, default_value = "")]
        name: String,
        /// E-mail address (the login).
        email: String,
    },
}

/// What every import takes.
#[derive(clap::Args, Debug)]
struct ImportArgs {
    /// The export file.
    file: PathBuf,
    /// Category → sector mapping (TOML: a `[sectors]` table of `category-slug = "sector-slug"`,
    /// with `"*"` for everything else; default: the first sector).
    #[arg(long)]
    mapping: Option<PathBuf>,
    /// The old site's uploads folder (WordPress `wp-content/uploads`, Ghost `content/images`):
    /// featured images are read from it. Nothing is ever fetched from the old site.
    #[arg(long)]
    uploads: Option<PathBuf>,
    /// Posts public in the old system arrive published (and public pages as static pages);
    /// without it everything arrives as a draft.
    #[arg(long)]
    publish: bool,
    /// Read the export and report what would be imported; write nothing.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Subcommand, Debug)]
enum ImportCmd {
    /// A WordPress export (WXR 1.0–1.2, Tools → Export).
    Wordpress(ImportArgs),
    /// A Ghost export (JSON, Ghost 1–5, Settings → Labs → Export).
    Ghost(ImportArgs),
}

#[derive(Subcommand, Debug)]
enum NewsletterCmd {
    /// Add subscribers who already agreed elsewhere, one address a line ("-" reads standard
    /// input): active at once, their consent recorded as imported with NOTE.
    Import {
        /// Edition slug of their digest.
        #[arg(long, default_value = "global")]
        edition: String,
        /// daily or weekly.
        #[arg(long, default_value = "daily")]
        frequency: String,
        /// Breaking-news alerts too.
        #[arg(long)]
        breaking: bool,
        /// Where and when they agreed (kept with each consent).
        #[arg(long)]
        note: String,
        /// File of addresses.
        file: PathBuf,
    },
    /// Make an edition's digest of today now (once per edition, frequency and date) and queue
    /// its sending; a running server sends it.
    Digest {
        /// Edition slug.
        #[arg(long, default_value = "global")]
        edition: String,
        /// The weekly digest instead of the daily one.
        #[arg(long)]
        weekly: bool,
    },
}

#[derive(Subcommand, Debug)]
enum TokenCmd {
    /// Make an API token acting as the account with this address; prints the token once.
    Create {
        /// What the token is for.
        #[arg(long, default_value = "command line")]
        name: String,
        /// Comma-separated: read_drafts, write_stories, publish, wire_push.
        #[arg(long)]
        scopes: String,
        /// Days it lives (default: `[api] token_days_default`).
        #[arg(long)]
        days: Option<i64>,
        /// E-mail address of the owner.
        owner: String,
    },
}

#[derive(Subcommand, Debug)]
enum ConfigCmd {
    /// Print every setting with its comment and default value.
    Defaults,
    /// Print the configuration in effect (file + environment + flags), secrets redacted.
    Show,
}

async fn newsletter_cmd(cfg: &Config, what: NewsletterCmd) -> anyhow::Result<()> {
    let store = open_store(cfg).await?;
    let app = App::load(store, Arc::new(SystemClock), cfg.site.clone())
        .await
        .map_err(|e| anyhow::anyhow!("cannot load the site: {e}"))?;
    let shown = |e: newsdesk_app::AppError| match e {
        newsdesk_app::AppError::Invalid(f) => anyhow::anyhow!(
            "{}",
            f.iter()
                .map(|x| x.message.clone())
                .collect::<Vec<_>>()
                .join(" ")
        ),
        other => anyhow::anyhow!("{other}"),
    };
    match what {
        NewsletterCmd::Import {
            edition,
            frequency,
            breaking,
            note,
            file,
        } => {
            use std::io::Read;
            let mut text = String::new();
            if file.as_os_str() == "-" {
                std::io::stdin().read_to_string(&mut text)?;
            } else {
                text = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
            }
            let lines: Vec<String> = text.lines().map(str::to_owned).collect();
            let prefs = app
                .parse_preferences(&[edition], &[], &frequency, breaking)
                .map_err(shown)?;
            let (added, bad) = app
                .import_subscribers(&lines, &prefs, &note)
                .await
                .map_err(shown)?;
            println!(
                "imported {added} subscribers ({} lines were not addresses)",
                bad.len()
            );
            for b in bad.iter().take(20) {
                println!("  not an address: {b}");
            }
            Ok(())
        }
        NewsletterCmd::Digest { edition, weekly } => {
            let (id, date) = {
                let snap = app.read();
                let e = snap
                    .tax
                    .edition_by_slug(&edition)
                    .ok_or_else(|| anyhow::anyhow!("no edition {edition:?}"))?;
                (e.id, app.now().with_timezone(&e.tz).date_naive())
            };
            let m = newsdesk_app::newsletter::MakeDigest {
                edition: id,
                frequency: if weekly {
                    newsdesk_domain::Frequency::Weekly
                } else {
                    newsdesk_domain::Frequency::Daily
                },
                date,
            };
            let digest = app.make_digest(&m).await.map_err(shown)?;
            println!("digest {digest} is made and queued");
            Ok(())
        }
    }
}

/// One end of `store copy`: a database by its URL, opened (and migrated) as a table source/target.
async fn open_copy_end(
    url: &str,
    cfg: &Config,
) -> anyhow::Result<Arc<dyn newsdesk_store::copy::TableCopy>> {
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let store = newsdesk_store_sqlite::SqliteStore::open(std::path::Path::new(path))
            .with_context(|| format!("cannot open the SQLite database at {path}"))?;
        return Ok(Arc::new(store));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = newsdesk_store_postgres::PgStore::connect(url, cfg.database_pool)
            .await
            .with_context(|| {
                format!(
                    "cannot open the PostgreSQL database at {}",
                    without_password(url)
                )
            })?;
        return Ok(Arc::new(store));
    }
    bail!(
        "unsupported database URL {:?}: use sqlite:PATH or postgres://USER@HOST/DB",
        without_password(url)
    )
}

/// The copy's progress as a bar on the terminal.
struct CopyBar(indicatif::ProgressBar);

impl newsdesk_store::copy::CopyProgress for CopyBar {
    fn total(&mut self, rows: u64) {
        self.0.set_length(rows);
    }
    fn table(&mut self, name: &str) {
        self.0.set_message(name.to_owned());
    }
    fn copied(&mut self, rows: u64) {
        self.0.inc(rows);
    }
}

/// `newsdesk store copy`: copies, checks, prints the report; fails when the check fails.
async fn store_copy(
    cfg: &Config,
    from: &str,
    to: &str,
    replace: bool,
    batch: usize,
) -> anyhow::Result<()> {
    let source = open_copy_end(from, cfg).await?;
    let target = open_copy_end(to, cfg).await?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} rows {per_sec} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut progress = CopyBar(bar);
    let options = newsdesk_store::copy::CopyOptions {
        batch: batch.max(1),
        replace,
        seed: u64::from(std::process::id()) | 1,
        ..Default::default()
    };
    let report = newsdesk_store::copy::copy_site(&*source, &*target, &options, &mut progress)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    progress.0.finish_and_clear();
    println!(
        "copied {} ({}) to {} ({})",
        without_password(from),
        source.kind(),
        without_password(to),
        target.kind()
    );
    println!("{:<34} {:>10} {:>10}", "table", "source", "target");
    for (t, n, got) in &report.tables {
        let mark = if n == got { "" } else { "  MISMATCH" };
        println!("{t:<34} {n:>10} {got:>10}{mark}");
    }
    for (t, n) in &report.skipped {
        println!("{t:<34} {n:>10} {:>10}  (not copied)", "-");
    }
    for c in &report.dropped_columns {
        println!("column {c} has no place in the target: left out");
    }
    println!(
        "checked: row counts of {} tables, {} sampled rows found in the target",
        report.tables.len(),
        report.sampled
    );
    if !report.ok() {
        for m in &report.mismatches {
            eprintln!("mismatch: {m}");
        }
        bail!(
            "the copy does not check out ({} mismatches)",
            report.mismatches.len()
        );
    }
    println!("the copy checks out");
    Ok(())
}

async fn open_store(cfg: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let url = cfg.database_url();
    if let Some(path) = url.strip_prefix("sqlite://") {
        let store = newsdesk_store_sqlite::SqliteStore::open(std::path::Path::new(path))
            .with_context(|| format!("cannot open the SQLite database at {path}"))?;
        return Ok(Arc::new(store));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = newsdesk_store_postgres::PgStore::connect(&url, cfg.database_pool)
            .await
            .with_context(|| {
                format!(
                    "cannot open the PostgreSQL database at {}",
                    without_password(&url)
                )
            })?;
        return Ok(Arc::new(store));
    }
    bail!(
        "unsupported database URL {:?}: use sqlite://PATH or postgres://USER@HOST/DB",
        without_password(&url)
    )
}

/// A database URL as it may be logged: its password left out.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (auth, host) = match rest.rsplit_once('@') {
        Some(parts) => parts,
        None => return url.to_owned(),
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

async fn seed_demo(
    store: Arc<dyn Store>,
    cfg: &Config,
    stories: usize,
    seed: u64,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let report = newsdesk_demo::seed(
        &*store,
        &newsdesk_demo::DemoOptions {
            stories,
            now: SystemClock.now(),
            seed,
            media_dir: cfg.media_dir(),
        },
    )
    .await?;
    if cfg.media.backend == config::MediaBackend::S3 {
        // The generator draws its pictures into the local folder; they go to the bucket.
        let media = cfg
            .media
            .open(&cfg.media_dir(), |k| std::env::var(k).ok())?;
        let mut sent = 0usize;
        for entry in std::fs::read_dir(cfg.media_dir())? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.file_type()?.is_file() && !name.starts_with('.') {
                let data = std::fs::read(entry.path())?;
                media
                    .put(&name, data)
                    .await
                    .map_err(|e| anyhow::anyhow!("demo picture {name}: {e}"))?;
                sent += 1;
            }
        }
        tracing::info!(files = sent, media = %media.describe(), "demo pictures stored");
    }
    // Agency copy for the wire desk goes through the real intake (dedupe, cluster, tag,
    // summarise), as a feed's would.
    let app = App::load(store, Arc::new(SystemClock), cfg.site.clone())
        .await
        .map_err(|e| anyhow::anyhow!("cannot load the site: {e}"))?;
    let wire = app
        .ingest(newsdesk_demo::wire_items(SystemClock.now()))
        .await
        .map_err(|e| anyhow::anyhow!("demo agency copy: {e}"))?;
    tracing::info!(
        stories = report.stories,
        images = report.images,
        agency_items = wire.new,
        seconds = started.elapsed().as_secs_f64(),
        "demo content created"
    );
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

/// Raises the soft limit on open files to the hard limit where allowed; returns the soft limit
/// in force (`None` where there is none to read).
fn raise_nofile_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => Some(n),
        Err(e) => {
            tracing::warn!(error = %e, "cannot raise the limit on open files");
            rlimit::Resource::NOFILE.get().ok().map(|(soft, _)| soft)
        }
    }
}

/// Turns search on at `{data_dir}/search`; without an index generation yet, the first one is
/// built in the background while the site serves (searches say "being prepared" meanwhile).
fn attach_search(app: &Arc<App>, cfg: &Config) -> anyhow::Result<()> {
    let root = cfg.data_dir.join("search");
    let exists = app
        .attach_search(root, cfg.search.settings())
        .map_err(|e| anyhow::anyhow!("search index at {}: {e}", cfg.data_dir.display()))?;
    if !exists {
        let app = app.clone();
        tokio::spawn(async move {
            tracing::info!("building the search index");
            match app.build_search_index(&|_, _| {}).await {
                Ok(r) => tracing::info!(
                    generation = %r.name,
                    stories = r.stories,
                    bytes = r.bytes,
                    "search index built"
                ),
                Err(e) => tracing::error!(error = %e, "building the search index failed"),
            }
        });
    }
    Ok(())
}

/// `newsdesk search reindex`: a whole new generation, with a progress bar.
async fn search_reindex(cfg: &Config) -> anyhow::Result<()> {
    let store = open_store(cfg).await?;
    let app = App::load(store, Arc::new(SystemClock), cfg.site.clone())
        .await
        .map_err(|e| anyhow::anyhow!("cannot load the site: {e}"))?;
    app.attach_search(cfg.data_dir.join("search"), cfg.search.settings())
        .map_err(|e| anyhow::anyhow!("search index: {e}"))?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} stories {per_sec}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let report = app
        .build_search_index(&progress)
        .await
        .map_err(|e| anyhow::anyhow!("building the search index: {e}"))?;
    bar.finish_and_clear();
    println!(
        "search index {} built: {} stories, {} bytes; a running server switches to it at its next sync",
        report.name, report.stories, report.bytes
    );
    Ok(())
}

async fn serve(mut cfg: Config) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&cfg.listen)
        .await
        .with_context(|| format!("cannot listen on {}", cfg.listen))?;
    let addr = listener.local_addr()?;
    if let Some(warning) = cfg.resolve_base_url(addr) {
        tracing::warn!("{warning}");
    }
    let nofile = raise_nofile_limit();
    let (limits, lowered) = cfg.server.limits(nofile);
    if let Some(configured) = lowered {
        tracing::warn!(
            configured,
            max_connections = limits.max_connections,
            open_files_limit = nofile,
            "server.max_connections lowered to fit the limit on open files"
        );
    }
    let store = open_store(&cfg).await?;
    let app = App::load(store, Arc::new(SystemClock), cfg.site.clone())
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot load the site: {e} ({:?})",
                std::error::Error::source(&e)
            )
        })?;
    app.set_fetch_policy(cfg.fetch.policy()?);
    app.set_job_settings(cfg.jobs.settings());
    app.set_changes_poll_ms(cfg.changes_poll_ms);
    app.set_api_settings(cfg.api.settings());
    app.set_feedback_config(cfg.feedback.clone());
    app.set_webhook_config(cfg.webhooks.clone());
    let mail = cfg.mail();
    app.set_mailer(
        newsdesk_mail::from_config(&mail).map_err(|e| anyhow::anyhow!("mail settings: {e}"))?,
    );
    // Unset, the link key is made from the site's shared secret in the store; a key an older
    // version kept in the data folder still verifies the links of mails sent before.
    app.set_newsletter(
        cfg.newsletter.clone(),
        cfg.newsletter.secret.as_bytes().to_vec(),
    );
    if let Some(old) = newsdesk_app::newsletter::old_key_file(&cfg.data_dir)
        .context("the newsletter's old link key in the data folder")?
    {
        app.accept_old_newsletter_key(old);
    }
    attach_search(&app, &cfg)?;
    let hsts = cfg.server.hsts_on(&cfg.site.base_url);
    let media = cfg
        .media
        .open(&cfg.media_dir(), |k| std::env::var(k).ok())?;
    tracing::info!(media = %media.describe(), "media files");
    let state = newsdesk_web::WebState::with_media(
        app.clone(),
        cfg.media_dir(),
        newsdesk_web::assets::MediaFiles::new(media, cfg.media.max_streams),
        hsts,
        cfg.cache.max_bytes,
        cfg.server.metrics.web(),
    );
    let trim_every = cfg.server.malloc_trim_secs;
    let trimmed = state.clone();
    let router = newsdesk_web::router(state);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    if trim_every > 0 && newsdesk_memtrim::AVAILABLE {
        tokio::spawn(trim_memory(
            trimmed,
            std::time::Duration::from_secs(trim_every),
            stop_rx.clone(),
        ));
    }
    let background = tokio::spawn(app.clone().run_background(stop_rx));
    println!(
        "newsdesk is serving http://{addr}/ (data in {}, links to {})",
        cfg.data_dir.display(),
        cfg.site.base_url
    );
    tracing::info!(
        header_read_timeout_secs = limits.header_read_timeout.as_secs(),
        body_read_timeout_secs = limits.body_read_timeout.as_secs(),
        idle_timeout_secs = limits.idle_timeout.as_secs(),
        max_connections = limits.max_connections,
        hsts,
        "limits"
    );
    // Scheduled stories whose time passed while the server was down publish now (by a job).
    if let Err(e) = app.queue_due_publications().await {
        tracing::error!(error = %e, "queueing the publication of scheduled stories at start failed");
    }
    newsdesk_web::server::Server::new(router, limits)
        .run(listener, shutdown_signal())
        .await;
    let _ = stop_tx.send(true);
    let _ = background.await;
    Ok(())
}

/// Gives memory the page caches freed back to the system (`[server] malloc_trim_secs`): every
/// `every`, when they replaced enough pages since the last time ([`config::trim_due`]).
async fn trim_memory(
    state: Arc<newsdesk_web::WebState>,
    every: std::time::Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut trimmed_at = 0u64;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let (pages, parts) = (&state.cache, &state.parts);
        let builds = pages.builds() + parts.builds();
        let held = pages.weighted_bytes() + parts.weighted_bytes();
        let entries = u64::try_from(pages.len() + parts.len()).unwrap_or(u64::MAX);
        if !config::trim_due(builds.saturating_sub(trimmed_at), held, entries) {
            continue;
        }
        trimmed_at = builds;
        let started = std::time::Instant::now();
        let released = tokio::task::spawn_blocking(|| {
            let started = std::time::Instant::now();
            (newsdesk_memtrim::trim(), started.elapsed())
        })
        .await;
        let Ok((released, took)) = released else {
            continue;
        };
        state.metrics.observe_trim(took);
        tracing::debug!(
            released,
            trim_ms = took.as_secs_f64() * 1e3,
            ms = started.elapsed().as_secs_f64() * 1e3,
            "freed memory given back to the system (malloc_trim)"
        );
    }
}

/// `newsdesk backup DEST`: the database by SQLite's online backup (one snapshot, copied a few
/// pages at a time while the site keeps writing), then the media folder, each with a progress
/// bar on a terminal.
fn backup(cfg: &Config, dest: &std::path::Path) -> anyhow::Result<()> {
    let url = cfg.database_url();
    let Some(db) = url.strip_prefix("sqlite://") else {
        bail!(
            "newsdesk backup copies a SQLite site; for PostgreSQL use pg_dump or pg_basebackup \
             (see the README, \"Backups\")"
        );
    };
    let db = std::path::Path::new(db);
    if !db.exists() {
        bail!("there is no database at {}", db.display());
    }
    if dest.exists() && std::fs::read_dir(dest)?.next().is_some() {
        bail!(
            "{} exists and is not empty; give a new folder",
            dest.display()
        );
    }
    std::fs::create_dir_all(dest)?;
    let bar = |len: u64, what: &str| {
        let b = indicatif::ProgressBar::new(len);
        b.set_style(
            indicatif::ProgressStyle::with_template("{msg:9} [{bar:40}] {pos}/{len} {per_sec}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        b.set_message(what.to_owned());
        b
    };
    let pages = bar(0, "database");
    let copy = dest.join("newsdesk.db");
    let report = newsdesk_store_sqlite::backup_online(
        db,
        &copy,
        &newsdesk_store_sqlite::BackupOptions::default(),
        |done, total| {
            pages.set_length(total);
            pages.set_position(done);
        },
    )
    .with_context(|| format!("backing up {}", db.display()))?;
    pages.finish();
    println!(
        "database: {} pages ({} bytes) in {} steps, integrity checked, at {}",
        report.pages,
        report.bytes,
        report.steps,
        copy.display()
    );
    match cfg.media.backend {
        config::MediaBackend::S3 => println!(
            "media: in the S3 bucket {:?}, not copied: keep it safe with the bucket's own \
             versioning (and replication), see the README",
            cfg.media.bucket
        ),
        config::MediaBackend::Local => {
            let from = cfg.media_dir();
            let to = dest.join("media");
            std::fs::create_dir_all(&to)?;
            let files: Vec<std::fs::DirEntry> = match std::fs::read_dir(&from) {
                Ok(rd) => rd
                    .filter_map(Result::ok)
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                    // Hidden files are uploads in progress and temporary names.
                    .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                    .collect(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(e) => return Err(e.into()),
            };
            let bar = bar(files.len() as u64, "media");
            let mut bytes = 0u64;
            for f in &files {
                bytes += std::fs::copy(f.path(), to.join(f.file_name()))
                    .with_context(|| format!("copying {}", f.path().display()))?;
                bar.inc(1);
            }
            bar.finish();
            println!(
                "media: {} files ({bytes} bytes) from {} to {}",
                files.len(),
                from.display(),
                to.display()
            );
        }
    }
    Ok(())
}

/// `newsdesk ingest`: parses each file and prints its items; a file that cannot be read gets a
/// clear error on standard error and the others go on.
/// `newsdesk import wordpress|ghost FILE`: parse, import with a progress bar, report.
async fn import(cfg: &Config, what: ImportCmd) -> anyhow::Result<()> {
    use newsdesk_interchange::import;
    let (source, args) = match what {
        ImportCmd::Wordpress(a) => ("wordpress", a),
        ImportCmd::Ghost(a) => ("ghost", a),
    };
    let text = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let text = String::from_utf8(text)
        .map_err(|e| anyhow::anyhow!("{} is not UTF-8 text: {e}", args.file.display()))?;
    let export = match source {
        "wordpress" => import::wxr::parse(&text),
        _ => import::ghost::parse(&text),
    }
    .map_err(|e| anyhow::anyhow!("{}: {e}; nothing was imported", args.file.display()))?;
    let mut sectors = std::collections::HashMap::new();
    if let Some(m) = &args.mapping {
        #[derive(serde::Deserialize)]
        struct Mapping {
            #[serde(default)]
            sectors: std::collections::HashMap<String, String>,
        }
        let t = std::fs::read_to_string(m)
            .with_context(|| format!("cannot read the mapping {}", m.display()))?;
        let parsed: Mapping = toml::from_str(&t)
            .with_context(|| format!("the mapping {} is not valid TOML", m.display()))?;
        sectors = parsed.sectors;
    }
    let store = open_store(cfg).await?;
    let app = App::load(store, Arc::new(SystemClock), cfg.site.clone())
        .await
        .map_err(|e| anyhow::anyhow!("cannot load the site: {e}"))?;
    let opts = newsdesk_app::import::ImportOptions {
        source: source.into(),
        publish: args.publish,
        dry_run: args.dry_run,
        sectors,
        uploads: args.uploads.clone(),
        media: cfg
            .media
            .open(&cfg.media_dir(), |k| std::env::var(k).ok())?,
    };
    let bar = indicatif::ProgressBar::new(export.importable().count() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} items {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let report = app
        .import(&export, &opts, &|done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .await
        .map_err(|e| match e {
            newsdesk_app::AppError::Invalid(f) => anyhow::anyhow!(
                "{}",
                f.iter()
                    .map(|x| x.message.clone())
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            other => anyhow::anyhow!("{other}"),
        })?;
    bar.finish_and_clear();
    let r = &report;
    println!(
        "{}{} ({}): {} stories ({} published), {} pages, {} already imported, {} skipped",
        if args.dry_run {
            "dry run, nothing written: "
        } else {
            ""
        },
        args.file.display(),
        r.format,
        r.stories,
        r.published,
        r.pages,
        r.already_imported,
        r.skipped.len()
    );
    println!(
        "bylines made {}, accounts made {} (no password: \"forgot password\" sets one), accounts matched by e-mail {}, tags made {}, old addresses redirected {}, featured pictures {}",
        r.bylines_made, r.accounts_made, r.accounts_matched, r.tags_made, r.redirects, r.pictures
    );
    for n in &r.notes {
        println!("note: {n}");
    }
    for k in &r.skipped {
        println!("skipped {} {:?}: {}", k.source_id, k.title, k.reason);
    }
    Ok(())
}

fn ingest_files(
    cfg: &Config,
    dry_run: bool,
    json: bool,
    agency: Option<&str>,
    files: &[PathBuf],
) -> anyhow::Result<()> {
    let limits = newsdesk_ingest::Limits::default();
    let mut failed = 0usize;
    let mut parsed: Vec<(PathBuf, Vec<newsdesk_domain::WireItem>)> = Vec::new();
    // The files are read as one set, so a NewsML-G2 package finds its items in the files
    // beside it.
    let name_of = |f: &PathBuf| {
        agency.map(str::to_owned).unwrap_or_else(|| {
            f.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "file".into())
        })
    };
    let read: Vec<Result<Vec<u8>, String>> = files
        .iter()
        .map(|f| std::fs::read(f).map_err(|e| format!("cannot read: {e}")))
        .collect();
    let names: Vec<String> = files.iter().map(name_of).collect();
    let mut results: Vec<Result<Vec<newsdesk_domain::WireItem>, String>> = read
        .iter()
        .map(|r| r.as_ref().map(|_| Vec::new()).map_err(Clone::clone))
        .collect();
    {
        let ok: Vec<usize> = (0..files.len()).filter(|&i| read[i].is_ok()).collect();
        let docs: Vec<(&str, &[u8])> = ok
            .iter()
            .filter_map(|&i| {
                read[i]
                    .as_ref()
                    .ok()
                    .map(|b| (names[i].as_str(), b.as_slice()))
            })
            .collect();
        for (&i, r) in ok
            .iter()
            .zip(newsdesk_ingest::parse_item_set(&docs, &limits))
        {
            results[i] = r.map_err(|e| e.to_string()).map(|p| {
                for s in &p.set_aside {
                    eprintln!(
                        "{}: set aside {}: {}",
                        files[i].display(),
                        s.item.agency_id,
                        s.reason
                    );
                }
                if p.packaged > 0 {
                    eprintln!(
                        "{}: {} item(s) read with their package",
                        files[i].display(),
                        p.packaged
                    );
                }
                p.items
            });
        }
    }
    for (f, result) in files.iter().zip(results) {
        match result {
            Ok(items) => parsed.push((f.clone(), items)),
            Err(e) => {
                failed += 1;
                if json {
                    eprintln!(
                        "{}",
                        serde_json::json!({ "file": f.display().to_string(), "error": e })
                    );
                } else {
                    eprintln!("{}: {e}", f.display());
                }
            }
        }
    }
    if dry_run {
        for (f, items) in &parsed {
            for item in items {
                if json {
                    println!("{}", serde_json::to_string(item)?);
                } else {
                    println!(
                        "{}: {} v{} [{:?}] {}",
                        f.display(),
                        item.agency_id,
                        item.version,
                        item.status,
                        item.headline
                    );
                }
            }
            if !json {
                println!("{}: {} item(s)", f.display(), items.len());
            }
        }
    } else if !parsed.is_empty() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        rt.block_on(async {
            let store = open_store(cfg).await?;
            let app = App::load(store, Arc::new(SystemClock), cfg.site.clone())
                .await
                .map_err(|e| anyhow::anyhow!("cannot load the site: {e}"))?;
            for (f, items) in parsed {
                let n = items.len();
                let r = app
                    .ingest(items)
                    .await
                    .map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
                let flagged = if r.flagged.is_empty() {
                    String::new()
                } else {
                    format!(", {} stories flagged", r.flagged.len())
                };
                println!(
                    "{}: {n} item(s): {} new, {} updated, {} duplicate, {} withdrawn{flagged}",
                    f.display(),
                    r.new,
                    r.updated,
                    r.duplicates,
                    r.withdrawn
                );
            }
            anyhow::Ok(())
        })?;
    }
    if failed > 0 {
        bail!("{failed} of {} file(s) could not be read", files.len());
    }
    Ok(())
}

/// Applies `[server] malloc_arenas`: glibc reads `MALLOC_ARENA_MAX` only when a process starts,
/// so when it is not set the program starts itself again (same arguments, same process id) with
/// it set; see [`config::arena_reexec`]. Returns only when nothing is to be done or the restart
/// failed (then glibc's default stays, with a warning).
fn limit_malloc_arenas(arenas: u32) {
    let glibc = cfg!(all(target_os = "linux", target_env = "gnu"));
    let already = std::env::var_os(config::ARENA_VAR);
    let Some(value) = config::arena_reexec(glibc, already.as_deref(), arenas) else {
        match already {
            Some(v) => tracing::info!(
                "glibc malloc arenas: {}={} (from the environment)",
                config::ARENA_VAR,
                v.to_string_lossy()
            ),
            None => tracing::info!("glibc malloc arenas: the C library's default"),
        }
        return;
    };
    tracing::info!(
        "glibc malloc arenas: starting again with {}={value} ([server] malloc_arenas)",
        config::ARENA_VAR
    );
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let mut args = std::env::args_os();
        let arg0 = args.next().unwrap_or_default();
        let err = match std::env::current_exe() {
            Ok(exe) => std::process::Command::new(exe)
                .arg0(arg0)
                .args(args)
                .env(config::ARENA_VAR, &value)
                .exec(),
            Err(e) => e,
        };
        tracing::warn!(error = %err, "could not start again with {}; glibc's default arenas stay (set it in the service's environment instead)", config::ARENA_VAR);
    }
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The chain of causes, without a backtrace: this is for the operator, not a debugger.
            eprintln!("newsdesk: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // NEWSDESK_CONFIG names the file (a flag), not a setting.
    let env = std::env::vars().filter(|(k, _)| k != "NEWSDESK_CONFIG");
    let (mut cfg, ignored) = Config::load(cli.config.as_deref(), env)?;
    if let Some(d) = &cli.data_dir {
        cfg.data_dir = d.clone();
    }
    if let Command::Serve {
        listen: Some(l), ..
    } = &cli.command
    {
        cfg.listen = l.clone();
    }
    if let Command::Ingest {
        dry_run,
        json,
        agency,
        files,
    } = &cli.command
    {
        return ingest_files(&cfg, *dry_run, *json, agency.as_deref(), files);
    }
    if let Command::Config { what } = &cli.command {
        match what {
            ConfigCmd::Defaults => print!("{}", config::defaults_toml()),
            ConfigCmd::Show => print!("{}", config::show_toml(&cfg)?),
        }
        return Ok(());
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&cfg.log).unwrap_or_else(|_| "info".into()),
        )
        .with_target(false)
        .init();
    if !ignored.is_empty() {
        tracing::warn!(
            ?ignored,
            "environment variables with the NEWSDESK_ prefix that name no setting were ignored"
        );
    }
    if matches!(cli.command, Command::Serve { .. }) {
        limit_malloc_arenas(cfg.server.malloc_arenas);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match cli.command {
            Command::Serve { demo, demo_stories, .. } => {
                if demo {
                    let store = open_store(&cfg).await?;
                    if store.count_stories().await? == 0 {
                        seed_demo(store, &cfg, demo_stories, 7).await?;
                    } else {
                        tracing::info!("the database already has stories; demo content not added");
                    }
                }
                serve(cfg).await
            }
            Command::Demo { stories, seed } => {
                let store = open_store(&cfg).await?;
                if store.count_stories().await? > 0 {
                    bail!("the database at {} already has stories; demo content goes into an empty one", cfg.database_url());
                }
                seed_demo(store, &cfg, stories, seed).await
            }
            Command::Backup { dest } => backup(&cfg, &dest),
            Command::Store { what: StoreCmd::Copy { from, to, replace, batch } } => {
                store_copy(&cfg, &from, &to, replace, batch).await
            }
            Command::Search { what: SearchCmd::Reindex } => search_reindex(&cfg).await,
            Command::Newsletter { what } => newsletter_cmd(&cfg, what).await,
            Command::Migrate => {
                open_store(&cfg).await?;
                println!("migrations applied to {}", cfg.database_url());
                Ok(())
            }
            Command::User { what: UserCmd::Add { role, name, email } } => {
                use std::io::{BufRead, IsTerminal};
                let role = newsdesk_domain::Role::parse(&role)
                    .ok_or_else(|| anyhow::anyhow!("unknown role {role:?}: use contributor, author, editor or admin"))?;
                let (password, generated) = if std::io::stdin().is_terminal() {
                    (newsdesk_app::auth::random_hex(12).map_err(|e| anyhow::anyhow!("{e}"))?, true)
                } else {
                    let mut line = String::new();
                    std::io::stdin().lock().read_line(&mut line)?;
                    (line.trim_end_matches(['\r', '\n']).to_owned(), false)
                };
                let store = open_store(&cfg).await?;
                let app = App::load(store, Arc::new(SystemClock), cfg.site.clone())
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot load the site: {e}"))?;
                let user = app.add_user(&email, &name, role, &password).await.map_err(|e| match e {
                    newsdesk_app::AppError::Invalid(f) => anyhow::anyhow!(
                        "{}",
                        f.iter().map(|x| x.message.clone()).collect::<Vec<_>>().join(" ")
                    ),
                    other => anyhow::anyhow!("{other}"),
                })?;
                println!("made {} account {} (id {})", user.role, user.email, user.id);
                if generated {
                    println!("password (shown once): {password}");
                }
                Ok(())
            }
            Command::Token { what: TokenCmd::Create { name, scopes, days, owner } } => {
                let list = newsdesk_domain::ApiScope::parse_list(&scopes);
                if list.len() != scopes.split(',').filter(|s| !s.trim().is_empty()).count() {
                    bail!("unknown scope in {scopes:?}: use read_drafts, write_stories, publish, wire_push");
                }
                let store = open_store(&cfg).await?;
                let app = App::load(store, Arc::new(SystemClock), cfg.site.clone())
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot load the site: {e}"))?;
                app.set_api_settings(cfg.api.settings());
                let days = days.unwrap_or(cfg.api.settings().token_days_default);
                let (token, secret) = app
                    .create_api_token_cli(&owner, &name, &list, days)
                    .await
                    .map_err(|e| match e {
                        newsdesk_app::AppError::Invalid(f) => anyhow::anyhow!(
                            "{}",
                            f.iter().map(|x| x.message.clone()).collect::<Vec<_>>().join(" ")
                        ),
                        other => anyhow::anyhow!("{other}"),
                    })?;
                eprintln!(
                    "made API token {} for {owner} ({}), expires {}; shown once:",
                    token.id,
                    newsdesk_domain::ApiScope::join(&token.scopes),
                    token.expires_at.format("%Y-%m-%d %H:%M UTC")
                );
                println!("{secret}");
                Ok(())
            }
            Command::Import { what } => import(&cfg, what).await,
            Command::Config { .. } | Command::Ingest { .. } => Ok(()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::without_password;

    #[test]
    fn a_database_url_is_shown_without_its_password() {
        assert_eq!(
            without_password("postgres://news:s3cret@db.example:5432/newsdesk"),
            "postgres://news:***@db.example:5432/newsdesk"
        );
        assert_eq!(
            without_password("postgres://news@db/newsdesk"),
            "postgres://news@db/newsdesk"
        );
        assert_eq!(without_password("sqlite://x.db"), "sqlite://x.db");
    }
}
