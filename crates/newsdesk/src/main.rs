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
    /// Manage newsroom accounts.
    User {
        #[command(subcommand)]
        what: UserCmd,
    },
    /// Show configuration.
    Config {
        #[command(subcommand)]
        what: ConfigCmd,
    },
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

#[derive(Subcommand, Debug)]
enum ConfigCmd {
    /// Print every setting with its comment and default value.
    Defaults,
    /// Print the configuration in effect (file + environment + flags).
    Show,
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
    let mail = cfg.mail();
    app.set_mailer(
        newsdesk_mail::from_config(&mail).map_err(|e| anyhow::anyhow!("mail settings: {e}"))?,
    );
    let hsts = cfg.server.hsts_on(&cfg.site.base_url);
    let state = newsdesk_web::WebState::configured(
        app.clone(),
        cfg.media_dir(),
        hsts,
        cfg.cache.max_bytes,
        cfg.server.metrics.web(),
    );
    let router = newsdesk_web::router(state);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
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

/// `newsdesk ingest`: parses each file and prints its items; a file that cannot be read gets a
/// clear error on standard error and the others go on.
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
            ConfigCmd::Show => print!("{}", toml::to_string(&cfg)?),
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
