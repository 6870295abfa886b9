//! The `oidc-sso-operator` binary: `run` (the controller), `crd` (print the CRD), `render` (offline
//! preview of what the operator would write).

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};
use oidc_sso_operator::{crd, preview, render::ProviderEndpoints};

#[derive(Parser)]
#[command(
    version,
    about = "Renders and rolls OpenMetadata Custom OIDC SSO settings from OidcSsoConfig resources"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the OidcSsoConfig CustomResourceDefinition as YAML.
    Crd,
    /// Preview, offline, every Secret the operator would write for an OidcSsoConfig.
    Render(RenderArgs),
    /// Run the controller.
    Run(RunArgs),
}

#[derive(clap::Args)]
struct RunArgs {
    /// Watch only this namespace (namespaced mode). Default: all namespaces.
    #[arg(long, env = "WATCH_NAMESPACE")]
    namespace: Option<String>,
    /// Address of the /healthz, /readyz and /metrics endpoints.
    #[arg(long, env = "HTTP_ADDR", default_value = "127.0.0.1:8080")]
    http_addr: std::net::SocketAddr,
    /// Re-check a healthy resource this often (reads only; nothing is written unless it changed).
    #[arg(long, default_value = "30m", value_parser = parse_duration)]
    resync: std::time::Duration,
    /// Reconciles running at once.
    #[arg(long, default_value_t = 16)]
    concurrency: u16,
    /// How long a successful provider check is reused (one fetch per provider per period).
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    provider_check_ttl: std::time::Duration,
    /// How long a failed provider check is reused before trying again.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    provider_check_failure_ttl: std::time::Duration,
    /// Key pairs generated at once. Default: the number of cores.
    #[arg(long)]
    keygen_parallelism: Option<usize>,
    /// Log JSON lines instead of text.
    #[arg(long, env = "LOG_JSON")]
    log_json: bool,
    /// Reconcile only while holding a Lease, so that several replicas run with one active.
    #[arg(long, env = "LEADER_ELECT")]
    leader_elect: bool,
    /// Name of the Lease (one per operator installation).
    #[arg(long, env = "LEASE_NAME", default_value = "oidc-sso-operator")]
    lease_name: String,
    /// Namespace of the Lease. Default: the pod's namespace, else the watched namespace.
    #[arg(long, env = "POD_NAMESPACE")]
    lease_namespace: Option<String>,
    /// How long the Lease holds without renewal: a standby takes over about this long after the
    /// leader died (a leader that shuts down releases it at once). At least 3s.
    #[arg(long, default_value = "15s", value_parser = parse_duration)]
    lease_duration: std::time::Duration,
    /// This replica's name in the Lease. Default: the pod name, else `<hostname>-<pid>`.
    #[arg(long, env = "POD_NAME")]
    lease_identity: Option<String>,
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    oidc_sso_operator::validate::parse_duration(s)
}

#[derive(clap::Args)]
struct RenderArgs {
    /// YAML file with the OidcSsoConfig, and optionally the Secrets/ConfigMaps it references.
    #[arg(short = 'f', long = "filename")]
    file: PathBuf,
    /// The client credentials: a Secret manifest, or the provider's JSON credentials document.
    #[arg(long)]
    credentials: Option<PathBuf>,
    /// More YAML files with referenced Secrets or ConfigMaps (bot token, CA bundle, own keys).
    #[arg(long = "inputs")]
    inputs: Vec<PathBuf>,
    /// The provider's JWKS URL, when the spec has none (the operator takes it from discovery).
    #[arg(long)]
    jwks_uri: Option<String>,
    /// Print secret values instead of digests.
    #[arg(long)]
    show_secrets: bool,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Crd => {
            print!(
                "{}",
                crd::crd_yaml().context("failed to serialize the CRD")?
            );
            Ok(())
        }
        Command::Render(args) => render(args),
        Command::Run(args) => run(args),
    }
}

fn run(args: RunArgs) -> anyhow::Result<()> {
    oidc_sso_operator::telemetry::init(args.log_json);
    limit_malloc_arenas();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?
        .block_on(run_async(args))
}

/// glibc gives each thread that allocates an arena of its own (up to 8 per core), and memory freed
/// in one is not reused by another: with the runtime's workers, the key-generation threads and the
/// blocking pool, that fragmentation was most of the operator's resident memory at a thousand
/// resources (see docs/benchmarks.md). Two arenas are plenty for a mostly idle controller.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning, is called before any other thread exists
    // (the async runtime is built after this), and takes plain integers.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

async fn run_async(args: RunArgs) -> anyhow::Result<()> {
    use oidc_sso_operator::{controller, http, metrics::Metrics};
    // rustls needs one process-wide crypto provider; aws-lc-rs is the one the keys use too.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let mut config = kube::Config::infer()
        .await
        .context("failed to find a Kubernetes configuration")?;
    // Named so audit logs and API metrics can attribute every request to the operator.
    config.headers.push((
        ::http::header::USER_AGENT,
        ::http::HeaderValue::from_static(concat!("oidc-sso-operator/", env!("CARGO_PKG_VERSION"))),
    ));
    let client =
        kube::Client::try_from(config.clone()).context("failed to build a Kubernetes client")?;
    let lease = if args.leader_elect {
        let namespace = args
            .lease_namespace
            .or_else(|| args.namespace.clone())
            .context("--leader-elect needs --lease-namespace (or POD_NAMESPACE, or --namespace)")?;
        Some(oidc_sso_operator::leader::LeaseSettings {
            name: args.lease_name,
            namespace,
            identity: args
                .lease_identity
                .unwrap_or_else(oidc_sso_operator::leader::default_identity),
            duration: args.lease_duration,
        })
    } else {
        None
    };
    let mut settings = controller::Settings {
        namespace: args.namespace,
        resync: args.resync,
        concurrency: args.concurrency,
        provider_check: oidc_sso_operator::oidc::CheckerConfig {
            ttl: args.provider_check_ttl,
            failure_ttl: args.provider_check_failure_ttl,
            ..Default::default()
        },
        ..controller::Settings::default()
    };
    if let Some(n) = args.keygen_parallelism {
        settings.keygen_parallelism = n;
    }
    let metrics = std::sync::Arc::new(Metrics::default());
    let (ready_tx, ready_rx) = tokio::sync::watch::channel(false);
    let (bound_tx, bound_rx) = tokio::sync::oneshot::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let state = http::HttpState {
        ready: ready_rx,
        metrics: metrics.clone(),
    };
    let server = tokio::spawn(http::serve(args.http_addr, state, bound_tx, async {
        let _ = stop_rx.await;
    }));
    if let Ok(addr) = bound_rx.await {
        tracing::info!(%addr, "serving /healthz, /readyz, /metrics");
    }
    let result = match lease {
        None => {
            metrics.leader.set(1);
            controller::run(client, settings, metrics, ready_tx).await
        }
        Some(lease) => {
            let work = || controller::run(client, settings, metrics.clone(), ready_tx.clone());
            match oidc_sso_operator::leader::lead(config, lease, &ready_tx, &metrics, work).await {
                Ok(result) => result.unwrap_or(Ok(())),
                Err(e) => {
                    let _ = stop_tx.send(());
                    let _ = server.await;
                    bail!(controller::chain(&e));
                }
            }
        }
    };
    let _ = stop_tx.send(());
    let _ = server.await;
    result.map_err(|e| anyhow::anyhow!(controller::chain(&e)))
}

fn render(args: RenderArgs) -> anyhow::Result<()> {
    let mut input = None;
    let mut objects = Vec::new();
    let read = |p: &PathBuf| {
        std::fs::read_to_string(p).with_context(|| format!("failed to read {}", p.display()))
    };
    preview::parse_documents(
        &args.file.display().to_string(),
        &read(&args.file)?,
        &mut input,
        &mut objects,
    )?;
    for extra in &args.inputs {
        preview::parse_documents(
            &extra.display().to_string(),
            &read(extra)?,
            &mut None,
            &mut objects,
        )?;
    }
    let Some(mut input) = input else {
        bail!("{} holds no OidcSsoConfig", args.file.display());
    };
    input.objects = preview::index_objects(&objects);
    if let Some(path) = &args.credentials {
        preview::add_credentials(&mut input, &path.display().to_string(), &read(path)?)?;
    }
    let endpoints = ProviderEndpoints {
        jwks_uri: args.jwks_uri,
        token_endpoint: None,
    };
    let (rendered, keys, generated) = preview::render_preview(&input, &endpoints)?;
    print!(
        "{}",
        preview::format_preview(
            &input.resource,
            &rendered,
            &keys,
            generated,
            args.show_secrets
        )
    );
    Ok(())
}
