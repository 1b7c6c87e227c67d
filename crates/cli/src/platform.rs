//! The platform commands: serve, migrate, demo, admin and audit.

use crate::config::{Config, LogFormat};
use anyhow::{Context, bail};
use opcity_domain::{District, Role};
use opcity_packs::PackSource;
use opcity_services::Services;
use opcity_services::accounts::NewAccount;
use opcity_services::authz::Actor;
use opcity_services::crypto::DataKey;
use opcity_services::demo::DemoReport;
use opcity_services::import::export::Lang;
use opcity_services::import::{ImportFile, RecordKind};
use opcity_services::mail::Mailer;
use opcity_services::sso::{Sso, SsoConfig};
use opcity_store::{Store, redact_url};
use std::io::Read;
use std::path::Path;

pub fn init_logging(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// The personal-data key: from the configuration, else from the key file,
/// which is created (mode 0600) with a fresh key when missing.
fn data_key(config: &Config) -> anyhow::Result<DataKey> {
    if let Some(text) = &config.data_key {
        return DataKey::from_base64(text).context("data_key");
    }
    let path = &config.data_key_file;
    if !path.exists() {
        write_new_key(path)?;
        tracing::warn!(file = %path.display(), "generated a new personal-data key; back it up: without it, stored resident ids cannot be read");
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    DataKey::from_base64(&text)
        .with_context(|| format!("{} does not hold a valid key", path.display()))
}

fn write_new_key(path: &Path) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    writeln!(file, "{}", DataKey::generate_base64())?;
    Ok(())
}

pub async fn services(config: &Config) -> anyhow::Result<Services> {
    services_on(config, &pack_source(config)?).await
}

/// The services with the pack `source` holds in force.
async fn services_on(config: &Config, source: &PackSource) -> anyhow::Result<Services> {
    let pack = load_pack(source)?;
    tracing::info!(pack = %source, id = pack.id(), version = pack.version(), "policy pack in force");
    let store = Store::open(&config.database_url)
        .await
        .with_context(|| format!("opening {}", redact_url(&config.database_url)))?;
    // Consultation needs the pack's clauses; a pack without any serves
    // everything else, and consultation answers `unavailable`.
    let library = match source.library(&pack) {
        Some(library) => Some(std::sync::Arc::new(
            library.with_context(|| format!("the clauses of {source}"))?,
        )),
        None => {
            tracing::warn!(pack = %source, "the pack has no clauses/: consultation is off");
            None
        }
    };
    let documents = opcity_services::applications::DocumentStore::from_url(
        &config.documents_url,
        config.document_max_mib.saturating_mul(1024 * 1024),
    )
    .map_err(|e| anyhow::anyhow!("the document store: {e}"))?;
    let mut services = Services::new(store, data_key(config)?, pack).with_documents(documents);
    if let Some(library) = library {
        services = services.with_consultation(library);
    }
    // The search hashes of resident ids stored before the migration that
    // introduced them (it cannot reach the key); nothing to do after once.
    let hashed = services
        .backfill_resident_id_hashes()
        .await
        .context("hashing stored resident ids for search")?;
    if hashed > 0 {
        tracing::info!(hashed, "computed the search hashes of stored resident ids");
    }
    Ok(services)
}

/// The configured pack, or the built-in Shenzhen pack.
fn pack_source(config: &Config) -> anyhow::Result<PackSource> {
    match &config.pack_dir {
        Some(given) => Ok(PackSource::resolve(given)?),
        None => Ok(PackSource::default()),
    }
}

fn load_pack(source: &PackSource) -> anyhow::Result<opcity_policy::Pack> {
    source.load().map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        anyhow::anyhow!(
            "the policy pack {source} does not load:\n  {}",
            lines.join("\n  ")
        )
    })
}

/// Reloads a pack directory on SIGHUP; a pack that does not load leaves the
/// old one in force. A built-in pack cannot change while the binary runs,
/// but the signal is still caught (its default would end the server).
#[cfg(unix)]
fn reload_pack_on_hangup(services: Services, source: PackSource) {
    tokio::spawn(async move {
        let Ok(mut hangups) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            return;
        };
        while hangups.recv().await.is_some() {
            if matches!(source, PackSource::Embedded(_)) {
                tracing::warn!(pack = %source, "SIGHUP: a built-in pack cannot change; serve a pack directory (--pack DIR) to reload one");
                continue;
            }
            match services.reload_pack(&source) {
                Ok(_) => {
                    // The versions published over it apply to the new base.
                    let today = opcity_domain::today_in_shanghai(chrono::Utc::now());
                    match services.apply_pack_versions(today).await {
                        Ok(pack) => {
                            tracing::info!(pack = %pack.id, version = %pack.version, "policy pack reloaded")
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "published versions not applied after the reload")
                        }
                    }
                }
                Err(errors) => {
                    for e in errors {
                        tracing::error!(error = %e, "policy pack not reloaded; the previous pack stays in force");
                    }
                }
            }
        }
    });
}

pub fn print_demo_logins(report: &DemoReport) {
    println!(
        "Demo data loaded: {} communities, {} persons, {} enterprises.",
        report.communities, report.persons, report.enterprises
    );
    println!("Demo logins (shown once; keep them):");
    for login in &report.logins {
        println!(
            "  {:<20} {:<20} {}",
            login.username,
            login.role.id(),
            login.password
        );
    }
}

/// Loads demo data; with `if_empty`, a database that already has data is left
/// as it is.
pub async fn demo(services: &Services, seed: u64, if_empty: bool) -> anyhow::Result<()> {
    match services.load_demo(seed).await {
        Ok(report) => print_demo_logins(&report),
        Err(err) if if_empty && err.code() == opcity_services::ErrorCode::DatabaseNotEmpty => {
            println!(
                "The database already holds data; demo data not loaded (its logins were printed when it was)."
            );
        }
        Err(err) if err.code() == opcity_services::ErrorCode::DatabaseNotEmpty => {
            bail!("the database already holds data; demo data goes only into an empty database")
        }
        Err(err) => return Err(anyhow::Error::new(err).context("loading demo data")),
    }
    Ok(())
}

/// The mailer when `smtp_url` is set (e-mail on), else none. Needs the
/// runtime (the SMTP connection pool starts a task).
pub fn mailer(config: &Config) -> anyhow::Result<Option<Mailer>> {
    let Some(url) = config.smtp_url.as_deref().filter(|u| !u.trim().is_empty()) else {
        return Ok(None);
    };
    let from = config
        .mail_from
        .as_deref()
        .context("mail_from must be set when smtp_url is")?;
    let base = config
        .public_base_url
        .as_deref()
        .context("public_base_url must be set when smtp_url is (links in e-mails)")?;
    Ok(Some(Mailer::new(url, from, base)?))
}

/// The identity provider when `oidc_issuer` is set (single sign-on on),
/// its discovery document read; else none.
pub async fn sso(config: &Config) -> anyhow::Result<Option<Sso>> {
    let Some(issuer) = config.oidc_issuer.as_deref() else {
        return Ok(None);
    };
    let client_id = config
        .oidc_client_id
        .clone()
        .context("oidc_client_id must be set when oidc_issuer is")?;
    let base = config
        .public_base_url
        .as_deref()
        .context("public_base_url must be set when oidc_issuer is (the provider returns there)")?;
    let sso = Sso::discover(SsoConfig {
        issuer: issuer.to_owned(),
        client_id,
        client_secret: config.oidc_client_secret.clone(),
        redirect_url: format!("{}/login/oidc/callback", base.trim_end_matches('/')),
        resident_id_claim: config.oidc_resident_id_claim.clone(),
    })
    .await
    .map_err(anyhow::Error::msg)?;
    Ok(Some(sso))
}

pub async fn serve(config: Config, demo_data: bool) -> anyhow::Result<()> {
    let mailer = mailer(&config)?;
    // Resolved once: the pack reloaded on SIGHUP is the pack served.
    let source = pack_source(&config)?;
    let mut services = services_on(&config, &source).await?;
    if let Some(mailer) = &mailer {
        services = services.with_mailer(mailer.clone());
    }
    if let Some(sso) = sso(&config).await? {
        tracing::info!(issuer = %config.oidc_issuer.as_deref().unwrap_or_default(), "single sign-on on");
        services = services.with_sso(sso);
    }
    if demo_data {
        demo(&services, 2026, true).await?;
    }
    let today = opcity_domain::today_in_shanghai(chrono::Utc::now());
    let pack = services.apply_pack_versions(today).await?;
    tracing::info!(pack = %pack.id, version = %pack.version, "policy pack in force");
    #[cfg(unix)]
    reload_pack_on_hangup(services.clone(), source);
    refresh_daily(services.clone());
    expire_vouchers_periodically(services.clone());
    release_no_shows_every_minute(services.clone());
    seal_audit_log_every_second(services.clone());
    if let Some(mailer) = &mailer {
        tracing::info!(smtp = %redact_url(config.smtp_url.as_deref().unwrap_or_default()), "e-mail notifications on");
        send_mail_every_minute(services.clone(), mailer.clone());
    }
    let listener = tokio::net::TcpListener::bind(&config.addr)
        .await
        .with_context(|| format!("listening on {}", config.addr))?;
    let addr = listener.local_addr()?;
    println!("opcity is serving on http://{addr}/ (API documentation: http://{addr}/api/v1/docs)");
    tracing::info!(%addr, database = %redact_url(&config.database_url), "serving");
    let state = opcity_web::AppState::new(
        services,
        opcity_web::WebConfig {
            secure_cookies: config.secure_cookies,
            trust_forwarded_for: config.trust_forwarded_for,
            metrics_token: config.metrics_token.clone(),
            body_limit: config.body_limit_bytes,
        },
    );
    let sealer = state.services.clone();
    opcity_web::serve(listener, state, shutdown_signal()).await?;
    // What the last requests wrote goes into the chain before the process ends.
    sealer.seal_audit_log().await?;
    tracing::info!("stopped");
    Ok(())
}

/// Runs one command against the platform's services, then seals the audit
/// entries it wrote, so the chain is complete when the command exits.
pub async fn with_services<T>(
    config: &Config,
    command: impl AsyncFnOnce(&Services) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let services = services(config).await?;
    let outcome = command(&services).await;
    services.seal_audit_log().await?;
    outcome
}

/// Moves queued audit entries into the hash chain every second, so an entry
/// waits at most about a second before it is tamper-evident. Instances that
/// share a database seal in turn (the chain's head row orders them).
fn seal_audit_log_every_second(services: Services) {
    tokio::spawn(async move {
        loop {
            if let Err(err) = services.seal_audit_log().await {
                tracing::error!(error = %err, "sealing the audit log failed; retrying");
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    });
}

/// Completes on Ctrl-C or SIGTERM; the server then finishes requests in flight.
async fn shutdown_signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c().await.ok();
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

pub struct NewUser {
    pub username: String,
    pub display_name: Option<String>,
    pub role: Role,
    pub district: Option<District>,
    pub password_stdin: bool,
}

/// Creates an account as the system; prints a generated password unless one
/// is read from standard input.
pub async fn create_user(services: &Services, user: NewUser) -> anyhow::Result<()> {
    let password = if user.password_stdin {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        text.trim_end_matches(['\n', '\r']).to_owned()
    } else {
        opcity_services::accounts::random_token(12)
    };
    let view = services
        .create_account(
            None,
            NewAccount {
                display_name: user.display_name.unwrap_or_else(|| user.username.clone()),
                username: user.username,
                password: password.clone(),
                role: user.role,
                district: user.district,
                locale: "zh-CN".to_owned(),
            },
        )
        .await
        .map_err(|e| match e {
            opcity_services::ServiceError::Validation(fields) => {
                let text: Vec<String> = fields
                    .iter()
                    .map(|f| format!("{}: {}", f.field, f.code))
                    .collect();
                anyhow::anyhow!("invalid account: {}", text.join("; "))
            }
            other => anyhow::Error::new(other),
        })?;
    println!(
        "created account {} ({}) with id {}",
        view.username,
        view.role.id(),
        view.id
    );
    if !user.password_stdin {
        println!("password (shown once): {password}");
    }
    Ok(())
}

/// The actor a command runs as: the account `username`, or the command
/// line's own authority.
async fn acting(services: &Services, username: Option<&str>) -> anyhow::Result<Actor> {
    match username {
        Some(name) => services.actor_by_username(name).await.map_err(cli_error),
        None => Ok(Actor::console()),
    }
}

/// Imports `file` as records of `kind` on behalf of account `username`
/// (or the command line; checks only when `dry_run`); prints the report as
/// JSON. Whether the records were written.
pub async fn import(
    services: &Services,
    kind: &str,
    file: &std::path::Path,
    username: Option<&str>,
    dry_run: bool,
) -> anyhow::Result<bool> {
    let kind: RecordKind = kind.parse().map_err(cli_error)?;
    let actor = acting(services, username).await?;
    let upload = ImportFile {
        file_name: file
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        content: std::fs::read(file)
            .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?
            .into(),
    };
    let report = if dry_run {
        services.preview_import(&actor, kind, &upload).await
    } else {
        services.import_records(&actor, kind, &upload).await
    }
    .map_err(cli_error)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(report.written)
}

/// Exports the records of `kind` account `username` may list into `file`
/// (XLSX when its name ends in `.xlsx`, CSV otherwise).
pub async fn export(
    services: &Services,
    kind: &str,
    file: &std::path::Path,
    username: Option<&str>,
    lang: &str,
) -> anyhow::Result<()> {
    let kind: RecordKind = kind.parse().map_err(cli_error)?;
    let lang = match lang {
        "zh" | "zh-CN" => Lang::Zh,
        "en" => Lang::En,
        other => anyhow::bail!("--lang: `{other}` is not zh or en"),
    };
    let actor = acting(services, username).await?;
    let sheet = services
        .export_records(&actor, kind, lang)
        .await
        .map_err(cli_error)?;
    let xlsx = file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
    let bytes = if xlsx {
        sheet.to_xlsx().map_err(cli_error)?
    } else {
        sheet.to_csv().into_bytes()
    };
    std::fs::write(file, bytes).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    eprintln!(
        "{} {} rows written to {}",
        sheet.rows.len(),
        kind.id(),
        file.display()
    );
    Ok(())
}

/// A service refusal as the command line states it: the field and code of
/// each invalid field, or the refusal itself.
fn cli_error(error: opcity_services::ServiceError) -> anyhow::Error {
    match error {
        opcity_services::ServiceError::Validation(fields) => {
            let text: Vec<String> = fields
                .iter()
                .map(|f| {
                    let params: Vec<String> =
                        f.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    format!("{}: {} {}", f.field, f.code, params.join(" "))
                })
                .collect();
            anyhow::anyhow!("{}", text.join("; "))
        }
        opcity_services::ServiceError::NotFound { entity } => anyhow::anyhow!("no such {entity}"),
        opcity_services::ServiceError::Forbidden => {
            anyhow::anyhow!("that account may not do this (or is disabled)")
        }
        other => anyhow::Error::new(other),
    }
}

/// Verifies the audit log; fails, naming each problem, when it was tampered with.
pub async fn audit_verify(services: &Services) -> anyhow::Result<bool> {
    let verification = services.verify_audit_log().await?;
    if verification.problems.is_empty() {
        println!(
            "audit log intact: {} entries verified",
            verification.entries
        );
        return Ok(true);
    }
    eprintln!(
        "audit log TAMPERED: {} problem(s) in {} entries",
        verification.problems.len(),
        verification.entries
    );
    for problem in &verification.problems {
        eprintln!("  {}", serde_json::to_string(problem)?);
    }
    Ok(false)
}

/// Whenever the Shanghai date changes (and at start-up): rechecks the
/// benefits being delivered, pays the instalments due, then re-evaluates every person and enterprise (parameters take effect
/// on dates). Both are idempotent, so several instances may run them.
fn refresh_daily(services: Services) {
    tokio::spawn(async move {
        let mut last = None;
        loop {
            let today = opcity_domain::today_in_shanghai(chrono::Utc::now());
            if last != Some(today) {
                // A version published for today comes into force first.
                if let Err(err) = services.apply_pack_versions(today).await {
                    tracing::error!(error = %err, "published versions not applied; retrying later");
                }
                // Lapses are flagged before anything is paid.
                match services.recheck_entitlements(today).await {
                    Ok(run) => tracing::info!(
                        checked = run.checked,
                        flagged = run.flagged,
                        "benefits rechecked"
                    ),
                    Err(err) => tracing::error!(error = %err, "recheck failed; retrying later"),
                }
                match services.pay_due(today).await {
                    Ok(run) => tracing::info!(
                        paid = run.paid,
                        paid_fen = run.paid_fen,
                        paused = run.paused,
                        "instalments paid"
                    ),
                    Err(err) => tracing::error!(error = %err, "payment run failed; retrying later"),
                }
                match services.refresh_all_entitlements(today).await {
                    Ok(n) => {
                        tracing::info!(records = n, %today, "entitlements refreshed");
                        last = Some(today);
                    }
                    Err(err) => {
                        tracing::error!(error = %err, "entitlement refresh failed; retrying later")
                    }
                }
            }
            tokio::time::sleep(std::time::Duration::from_secs(600)).await;
        }
    });
}

/// `opcity match`: re-evaluates everyone now.
pub async fn refresh(services: &Services, as_of: chrono::NaiveDate) -> anyhow::Result<()> {
    let n = services.refresh_all_entitlements(as_of).await?;
    println!("re-evaluated {n} persons and enterprises as of {as_of}");
    Ok(())
}

/// `opcity entitlements recheck`: flags the benefits that no longer
/// qualify on `as_of`; prints the run as JSON.
pub async fn recheck(services: &Services, as_of: chrono::NaiveDate) -> anyhow::Result<()> {
    let run = services.recheck_entitlements(as_of).await?;
    println!("{}", serde_json::to_string(&run)?);
    Ok(())
}

/// `opcity disburse`: pays every instalment due on or before `as_of`.
pub async fn disburse(services: &Services, as_of: chrono::NaiveDate) -> anyhow::Result<()> {
    let run = services.pay_due(as_of).await?;
    println!(
        "paid {} instalments ({} fen); {} paused for a flag on eligibility; {} applications closed",
        run.paid, run.paid_fen, run.paused, run.closed
    );
    Ok(())
}

/// Voids expired holds and expires vouchers every few minutes, so holds
/// expire on their own and unused balances go back to the pools. Each expiry
/// has a fixed transfer id, so instances sharing a database never expire
/// anything twice.
fn expire_vouchers_periodically(services: Services) {
    tokio::spawn(async move {
        loop {
            match services.run_voucher_jobs(chrono::Utc::now()).await {
                Ok(r) if r.holds_expired + r.vouchers_expired > 0 => tracing::info!(
                    holds = r.holds_expired,
                    vouchers = r.vouchers_expired,
                    returned_fen = r.returned_fen,
                    "voucher expiry"
                ),
                Ok(_) => {}
                Err(err) => tracing::error!(error = %err, "voucher expiry failed; retrying later"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(300)).await;
        }
    });
}

/// Releases instrument no-shows every minute, so a slot not taken up is
/// bookable again soon after its grace period.
fn release_no_shows_every_minute(services: Services) {
    tokio::spawn(async move {
        loop {
            match services.release_no_shows(chrono::Utc::now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(bookings = n, "no-show bookings released"),
                Err(err) => {
                    tracing::error!(error = %err, "releasing no-shows failed; retrying later")
                }
            }
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        }
    });
}

/// Mails pending notifications every minute (accounts that opted in). Each
/// notification is claimed before it is sent, so instances sharing a
/// database never mail one twice.
fn send_mail_every_minute(services: Services, mailer: Mailer) {
    tokio::spawn(async move {
        loop {
            match services
                .send_pending_mail(&mailer, chrono::Utc::now())
                .await
            {
                Ok(run) if run.sent + run.failed > 0 => tracing::info!(
                    sent = run.sent,
                    failed = run.failed,
                    gave_up = run.gave_up,
                    "e-mail notifications"
                ),
                Ok(_) => {}
                Err(err) => {
                    tracing::error!(error = %err, "sending e-mail notifications failed; retrying later")
                }
            }
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        }
    });
}

/// `opcity mail send-pending`: mails the pending notifications once, now;
/// false when some could not be sent (they are retried later).
pub async fn mail_send_pending(config: &Config) -> anyhow::Result<bool> {
    let mailer = mailer(config)?
        .context("smtp_url is not set: e-mail is off (set it in opcity.toml or OPCITY_SMTP_URL)")?;
    let services = services(config).await?;
    let run = services
        .send_pending_mail(&mailer, chrono::Utc::now())
        .await?;
    println!(
        "sent {} e-mails; {} failed ({} given up); {} taken by another sender",
        run.sent, run.failed, run.gave_up, run.skipped
    );
    Ok(run.failed == 0)
}

/// `opcity vouchers expire`: the expiry jobs once, now.
pub async fn vouchers_expire(services: &Services) -> anyhow::Result<()> {
    let r = services.run_voucher_jobs(chrono::Utc::now()).await?;
    println!(
        "voided {} expired holds; expired {} vouchers, returning {} to their pools",
        r.holds_expired,
        r.vouchers_expired,
        opcity_domain::Fen(r.returned_fen)
    );
    Ok(())
}

/// `opcity vouchers reconcile`: whether every balance equals its transfers.
pub async fn vouchers_reconcile(services: &Services) -> anyhow::Result<bool> {
    let report = services.reconcile_vouchers_system().await?;
    if report.clean {
        println!(
            "voucher ledger reconciled: {} accounts, {} transfers; debits equal credits; pools match their budgets",
            report.accounts, report.transfers
        );
        return Ok(true);
    }
    eprintln!("voucher ledger DIFFERS:");
    for m in &report.mismatches {
        eprintln!("  {}", serde_json::to_string(m)?);
    }
    for u in &report.unbalanced {
        eprintln!("  {}", serde_json::to_string(u)?);
    }
    for p in &report.pool_mismatches {
        eprintln!("  {}", serde_json::to_string(p)?);
    }
    Ok(false)
}

/// `opcity spaces release-no-shows`: the same, once, now.
pub async fn release_no_shows(services: &Services) -> anyhow::Result<()> {
    let n = services.release_no_shows(chrono::Utc::now()).await?;
    println!("released or expired {n} instrument bookings");
    Ok(())
}
