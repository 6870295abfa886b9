//! `run`: the process wiring. The Kubernetes client, the HTTP endpoints, and the controller,
//! alone or behind the leader election; settings are read here once and passed down.

use std::sync::Arc;

use anyhow::{Context as _, anyhow};
use oidc_sso_operator::errors::chain;
use oidc_sso_operator::metrics::Metrics;
use oidc_sso_operator::{controller, endpoints, leader, names, oidc};
use tokio::sync::{oneshot, watch};

use crate::cli::RunArgs;

/// Runs the operator until a shutdown signal.
pub(crate) fn run(args: RunArgs) -> anyhow::Result<()> {
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
#[allow(unsafe_code)]
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning, is called before any other thread exists
    // (the async runtime is built after this), and takes plain integers.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

async fn run_async(args: RunArgs) -> anyhow::Result<()> {
    // rustls needs one process-wide crypto provider; aws-lc-rs is the one the keys use too.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let config = kube_config().await?;
    let client =
        kube::Client::try_from(config.clone()).context("failed to build a Kubernetes client")?;
    let identity = leader::identity(args.identity.as_deref());
    let lease = lease_settings(&args, &identity)?;
    let settings = controller_settings(&args, identity);
    let metrics = Arc::new(Metrics::default());
    let (ready_tx, ready_rx) = watch::channel(false);
    let http = Http::start(args.http_addr, ready_rx, metrics.clone()).await;

    let result = match lease {
        None => {
            metrics.leader.set(1);
            controller::run(client, settings, metrics, ready_tx)
                .await
                .map_err(|e| anyhow!(chain(&e)))
        }
        Some(lease) => {
            let work = || controller::run(client, settings, metrics.clone(), ready_tx.clone());
            match leader::lead(config, lease, &ready_tx, &metrics, work).await {
                Ok(result) => result.unwrap_or(Ok(())).map_err(|e| anyhow!(chain(&e))),
                Err(e) => Err(anyhow!(chain(&e))),
            }
        }
    };
    http.stop().await;
    result
}

async fn kube_config() -> anyhow::Result<kube::Config> {
    let mut config = kube::Config::infer()
        .await
        .context("failed to find a Kubernetes configuration")?;
    // Named so audit logs and API metrics can attribute every request to the operator.
    config.headers.push((
        ::http::header::USER_AGENT,
        ::http::HeaderValue::from_static(names::USER_AGENT),
    ));
    Ok(config)
}

fn lease_settings(args: &RunArgs, identity: &str) -> anyhow::Result<Option<leader::LeaseSettings>> {
    if !args.leader_elect {
        return Ok(None);
    }
    let namespace = args
        .lease_namespace
        .clone()
        .or_else(|| args.namespace.clone())
        .context("--leader-elect needs --lease-namespace (or POD_NAMESPACE, or --namespace)")?;
    Ok(Some(leader::LeaseSettings {
        name: args.lease_name.clone(),
        namespace,
        identity: identity.to_string(),
        duration: args.lease_duration,
    }))
}

fn controller_settings(args: &RunArgs, identity: String) -> controller::Settings {
    let defaults = controller::Settings::default();
    controller::Settings {
        namespace: args.namespace.clone(),
        resync: args.resync,
        concurrency: args.concurrency,
        provider_check: oidc::CheckerConfig {
            ttl: args.provider_check_ttl,
            failure_ttl: args.provider_check_failure_ttl,
            addresses: oidc::AddressPolicy {
                allowed: args.provider_allowed_networks.clone(),
            },
            ..Default::default()
        },
        keygen_parallelism: args
            .keygen_parallelism
            .unwrap_or(defaults.keygen_parallelism),
        instance: Some(identity),
        server_proof: args.server_proof,
        bot_token_renewal: args.bot_token_renewal,
    }
}

/// The `/healthz`, `/readyz`, `/metrics` server, stopped after the controller.
struct Http {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Http {
    async fn start(
        addr: std::net::SocketAddr,
        ready: watch::Receiver<bool>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let (bound_tx, bound_rx) = oneshot::channel();
        let (stop, stop_rx) = oneshot::channel::<()>();
        let state = endpoints::HttpState { ready, metrics };
        let task = tokio::spawn(endpoints::serve(addr, state, bound_tx, async {
            let _ = stop_rx.await;
        }));
        if let Ok(addr) = bound_rx.await {
            tracing::info!(%addr, "serving /healthz, /readyz, /metrics");
        }
        Self { stop, task }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}
