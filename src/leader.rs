//! Leader election on a `coordination.k8s.io/v1` Lease (through `kube-lease-manager`), so that
//! two replicas can run with exactly one of them reconciling.
//!
//! Takes a `kube::Config` and the Lease settings; touches only the Lease. [`lead`] runs the
//! controller while this replica holds the Lease:
//! - a standby serves `/healthz`, `/readyz` and `/metrics` but starts no watch and writes nothing.
//!   It reports ready once it has joined the election: readiness says "this replica does its job",
//!   and a standby's job is to be able to take over. A standby reported unready would also block a
//!   rolling update of the operator (the new pod never becomes ready while the old one leads);
//! - the leader reports ready once its initial watches synced (as without election);
//! - a leader that cannot prove it still holds the Lease stops at once: its reconciles are
//!   dropped and [`lead`] returns [`Error::Lost`], so the process exits and Kubernetes restarts it
//!   as a standby. Exiting is simpler and safer than tearing down and rebuilding the watches;
//! - on SIGTERM/SIGINT the leader lets the controller finish its running reconciles, then releases
//!   the Lease, so the standby takes over at once instead of after the lease duration.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::Lease;
use kube::{Api, Client};
use kube_lease_manager::{LeaseCreateMode, LeaseManager, LeaseManagerError, LeaseParams};
use tokio::sync::watch;
use tracing::{error, info, warn};

/// Timeout of every Lease request. Lease requests are tiny; a slow answer must not let the Lease
/// expire while the leader still waits for it (the client's default read timeout is minutes).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// Shortest accepted lease duration: renewal happens a third of it after the last one, and a
/// renewal that fails needs time for a retry and a read-back before the Lease can expire.
pub const MIN_LEASE_DURATION: Duration = Duration::from_secs(3);

/// Where and as whom to take part in the election.
#[derive(Clone, Debug)]
pub struct LeaseSettings {
    /// Lease name (one per operator installation).
    pub name: String,
    /// Namespace of the Lease (the operator's own namespace).
    pub namespace: String,
    /// This replica's identity (the pod name; hostname and PID outside a cluster).
    pub identity: String,
    /// How long the Lease stays valid after a renewal; a standby takes over at most this long
    /// after the leader died.
    pub duration: Duration,
}

impl LeaseSettings {
    /// `kube-lease-manager` parameters (it counts in whole seconds and panics on bad values,
    /// hence the checks here).
    fn params(&self) -> Result<LeaseParams, Error> {
        let duration = self.duration.as_secs();
        if self.duration < MIN_LEASE_DURATION {
            return Err(Error::Duration(self.duration));
        }
        // Renew when two thirds of the duration remain: a failed renewal then leaves time to
        // retry before a standby may take the Lease over.
        let grace = (duration * 2 / 3).clamp(1, duration - 1);
        Ok(LeaseParams::new(self.identity.clone(), duration, grace)
            .with_field_manager(crate::names::field_managers::lease(&self.identity)))
    }
}

/// This replica's identity: the pod name when it runs in a pod, else `<hostname>-<pid>` (unique
/// per process, so two local processes do not share the Lease).
pub fn identity(pod_name: Option<&str>) -> String {
    if let Some(pod) = pod_name.filter(|p| !p.is_empty()) {
        return pod.to_string();
    }
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".to_string());
    format!("{host}-{}", std::process::id())
}

/// A failed or ended election.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configured lease duration is too short to renew in time.
    #[error("the lease duration {0:?} is shorter than the minimum of 3s")]
    Duration(Duration),
    /// The Lease could not be read or created.
    #[error("failed to join the election on Lease {namespace}/{name}")]
    Join {
        /// Namespace of the Lease.
        namespace: String,
        /// Name of the Lease.
        name: String,
        /// Why.
        #[source]
        source: BoxError,
    },
    /// Another replica holds the Lease now, or this one cannot prove it still does.
    #[error("lost the Lease {namespace}/{name}; stopping so that only the new leader reconciles")]
    Lost {
        /// Namespace of the Lease.
        namespace: String,
        /// Name of the Lease.
        name: String,
    },
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The error to report for a `LeaseManagerError`: its Kubernetes error itself when it wraps one,
/// because the wrapper's message already repeats its source and error chains would print it twice.
fn unwrap_kube(e: LeaseManagerError) -> BoxError {
    match e {
        LeaseManagerError::KubeError(k) => Box::new(k),
        other => Box::new(other),
    }
}

/// One line for logs.
fn describe(e: LeaseManagerError) -> String {
    crate::errors::chain(unwrap_kube(e).as_ref())
}

/// This replica's part in the election.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Standby,
    Leader,
    /// Was the leader and no longer is (or cannot prove it); final.
    Lost,
}

/// Runs `work` once this replica holds the Lease and for as long as it holds it.
///
/// Returns `Ok(result of work)` when `work` ends by itself (graceful shutdown, after which the
/// Lease is released) or when a shutdown signal arrives while standing by; `Err(Error::Lost)` when
/// the Lease is lost while leading (`work` is dropped first, which cancels its reconciles).
pub async fn lead<F, Fut, T>(
    config: kube::Config,
    settings: LeaseSettings,
    ready: &watch::Sender<bool>,
    metrics: &crate::metrics::Metrics,
    work: F,
) -> Result<Option<T>, Error>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = T>,
{
    let mut elector = Elector::join(config, settings).await?;
    info!(
        identity = %elector.settings.identity,
        lease = %elector.settings.name,
        lease_namespace = %elector.settings.namespace,
        "joined the leader election; standing by"
    );
    let _ = ready.send(true);
    let role = tokio::select! {
        role = elector.until_changed_from(Role::Standby) => role,
        () = shutdown_signal() => {
            info!("shutdown requested while standing by");
            elector.stop().await;
            return Ok(None);
        }
    };
    if role != Role::Leader {
        return Err(elector.lost());
    }
    info!(identity = %elector.settings.identity, "acquired the Lease; reconciling");
    metrics.leader.set(1);
    // Readiness now means what it means without election: the watches of this leader synced.
    let _ = ready.send(false);
    let result = tokio::select! {
        result = work() => result,
        _ = elector.until_changed_from(Role::Leader) => {
            metrics.leader.set(0);
            let lost = elector.lost();
            error!(error = %lost, "stopped reconciling");
            return Err(lost);
        }
    };
    metrics.leader.set(0);
    elector.release().await;
    Ok(Some(result))
}

/// SIGTERM (what Kubernetes sends) or SIGINT.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The election: a background task keeps trying to acquire (standby) or renew (leader) the Lease
/// and publishes this replica's role.
struct Elector {
    settings: LeaseSettings,
    /// The manager that acquired the Lease, once this replica leads (to release it).
    leading: Arc<std::sync::Mutex<Option<Arc<LeaseManager>>>>,
    role: watch::Receiver<Role>,
    task: tokio::task::JoinHandle<()>,
}

impl Elector {
    async fn join(mut config: kube::Config, settings: LeaseSettings) -> Result<Self, Error> {
        let params = settings.params()?;
        config.connect_timeout = Some(REQUEST_TIMEOUT);
        config.read_timeout = Some(REQUEST_TIMEOUT);
        config.write_timeout = Some(REQUEST_TIMEOUT);
        let join_error = |source: LeaseManagerError| Error::Join {
            namespace: settings.namespace.clone(),
            name: settings.name.clone(),
            source: unwrap_kube(source),
        };
        let client =
            Client::try_from(config).map_err(|e| join_error(LeaseManagerError::KubeError(e)))?;
        // The first manager creates the Lease if needed: missing RBAC or a wrong namespace fails
        // the start with a clear error instead of a retry loop.
        let first = new_manager(&client, &settings, &params)
            .await
            .map_err(join_error)?;
        let (tx, role) = watch::channel(Role::Standby);
        let leading = Arc::new(std::sync::Mutex::new(None));
        let task = tokio::spawn(campaign(
            client,
            settings.clone(),
            params,
            first,
            leading.clone(),
            tx,
        ));
        Ok(Self {
            settings,
            leading,
            role,
            task,
        })
    }

    /// Waits until the role is no longer `from`; a finished campaign counts as lost.
    async fn until_changed_from(&mut self, from: Role) -> Role {
        match self.role.wait_for(|r| *r != from).await {
            Ok(role) => *role,
            Err(_) => Role::Lost,
        }
    }

    fn lost(&self) -> Error {
        Error::Lost {
            namespace: self.settings.namespace.clone(),
            name: self.settings.name.clone(),
        }
    }

    /// Stops campaigning without touching the Lease (a standby holds nothing to release).
    async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }

    /// Stops campaigning and frees the Lease, so a standby takes over without waiting for it to
    /// expire.
    async fn release(self) {
        self.task.abort();
        let _ = self.task.await;
        let manager = self
            .leading
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        let Some(manager) = manager else {
            return;
        };
        match manager.release().await {
            Ok(()) => info!(lease = %self.settings.name, "released the Lease"),
            Err(e) => warn!(
                lease = %self.settings.name,
                error = %describe(e),
                "failed to release the Lease; a standby takes over once it expires"
            ),
        }
    }
}

async fn new_manager(
    client: &Client,
    settings: &LeaseSettings,
    params: &LeaseParams,
) -> Result<LeaseManager, LeaseManagerError> {
    LeaseManager::new(
        client.clone(),
        &settings.name,
        &settings.namespace,
        params.clone(),
        LeaseCreateMode::AutoCreate,
    )
    .await
}

/// How often a standby reads the Lease again. `LeaseManager` alone would sleep until the
/// expiry it last read, so a Lease released by a leader shutting down would sit free for up to a
/// lease duration; a fresh manager per round reads the Lease anew.
fn standby_poll(duration: Duration) -> Duration {
    (duration / 5).clamp(Duration::from_secs(1), Duration::from_secs(5))
}

/// Acquires (standby), then renews (leader) the Lease inside `LeaseManager::changed`, and
/// publishes the role.
async fn campaign(
    client: Client,
    settings: LeaseSettings,
    params: LeaseParams,
    first: LeaseManager,
    leading: Arc<std::sync::Mutex<Option<Arc<LeaseManager>>>>,
    role: watch::Sender<Role>,
) {
    let poll = standby_poll(settings.duration);
    let mut backoff = Duration::from_secs(1);
    let mut next = Some(first);
    let manager = loop {
        let manager = match next.take() {
            Some(m) => m,
            None => match new_manager(&client, &settings, &params).await {
                Ok(m) => m,
                Err(e) => {
                    warn!(error = %describe(e), retry_in = ?backoff, "reading the Lease failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(settings.duration);
                    continue;
                }
            },
        };
        // Dropping `changed` at the poll timeout is safe: it holds no lock while it sleeps, and a
        // Lease it acquired just before is found again by the next manager (same identity).
        match tokio::time::timeout(poll, manager.changed()).await {
            Ok(Ok(true)) => break manager,
            Ok(Ok(false)) | Err(_) => backoff = Duration::from_secs(1),
            Ok(Err(e)) => {
                warn!(error = %describe(e), retry_in = ?backoff, "the leader election failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(settings.duration);
            }
        }
    };
    let manager = Arc::new(manager);
    *leading
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(manager.clone());
    let _ = role.send(Role::Leader);

    let leases: Api<Lease> = Api::namespaced(client, &settings.namespace);
    loop {
        match manager.changed().await {
            // Already the leader: `changed` only returns on a change, so this is a loss.
            Ok(true) => {}
            Ok(false) => {
                let _ = role.send(Role::Lost);
                return;
            }
            Err(e) => {
                // A failed renewal does not prove the Lease is gone, but reconciling on without
                // proof could overlap with a new leader. Keep leading only while the Lease, read
                // back, still names us with enough time left for another renewal attempt.
                let why = describe(e);
                match still_held(&leases, &settings).await {
                    Ok(true) => {
                        warn!(error = %why, "renewing the Lease failed; retrying");
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                    Ok(false) => {
                        error!(error = %why, "renewing the Lease failed and it is about to expire");
                        let _ = role.send(Role::Lost);
                        return;
                    }
                    Err(read) => {
                        error!(
                            error = %why,
                            read_error = %crate::errors::chain(&read),
                            "renewing the Lease failed and it cannot be read back"
                        );
                        let _ = role.send(Role::Lost);
                        return;
                    }
                }
            }
        }
    }
}

/// Whether the Lease still names this replica and stays valid long enough for another renewal
/// attempt (two request timeouts: the renewal and its read-back).
async fn still_held(leases: &Api<Lease>, settings: &LeaseSettings) -> Result<bool, kube::Error> {
    let lease = leases.get(&settings.name).await?;
    Ok(held_until(&lease, &settings.identity)
        .is_some_and(|until| until > Timestamp::now() + 2 * REQUEST_TIMEOUT))
}

/// When the Lease expires if it names `identity` as holder.
fn held_until(lease: &Lease, identity: &str) -> Option<Timestamp> {
    let spec = lease.spec.as_ref()?;
    if spec.holder_identity.as_deref() != Some(identity) {
        return None;
    }
    let renewed = spec.renew_time.as_ref()?.0;
    let seconds = spec.lease_duration_seconds?;
    renewed
        .checked_add(jiff::SignedDuration::from_secs(i64::from(seconds)))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::coordination::v1::LeaseSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;

    fn settings(duration: u64) -> LeaseSettings {
        LeaseSettings {
            name: "oidc-sso-operator".into(),
            namespace: "ops".into(),
            identity: "pod-a".into(),
            duration: Duration::from_secs(duration),
        }
    }

    fn lease(holder: Option<&str>, renewed: Timestamp, seconds: i32) -> Lease {
        Lease {
            spec: Some(LeaseSpec {
                holder_identity: holder.map(String::from),
                renew_time: Some(MicroTime(renewed)),
                lease_duration_seconds: Some(seconds),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn too_short_a_lease_is_rejected_instead_of_panicking_in_the_lease_manager() {
        assert!(matches!(settings(2).params(), Err(Error::Duration(_))));
        assert!(matches!(settings(0).params(), Err(Error::Duration(_))));
        assert!(settings(3).params().is_ok());
        assert!(settings(15).params().is_ok());
    }

    #[test]
    fn a_lease_held_by_us_expires_a_duration_after_its_renewal() {
        let now = Timestamp::now();
        let until = held_until(&lease(Some("pod-a"), now, 15), "pod-a");
        assert_eq!(until, Some(now + Duration::from_secs(15)));
    }

    #[test]
    fn a_lease_held_by_another_or_nobody_is_not_ours() {
        let now = Timestamp::now();
        assert_eq!(held_until(&lease(Some("pod-b"), now, 15), "pod-a"), None);
        assert_eq!(held_until(&lease(None, now, 15), "pod-a"), None);
        assert_eq!(held_until(&Lease::default(), "pod-a"), None);
    }

    #[test]
    fn a_standby_reads_the_lease_again_a_few_times_per_duration() {
        assert_eq!(
            standby_poll(Duration::from_secs(15)),
            Duration::from_secs(3)
        );
        assert_eq!(standby_poll(Duration::from_secs(3)), Duration::from_secs(1));
        assert_eq!(
            standby_poll(Duration::from_secs(300)),
            Duration::from_secs(5)
        );
    }

    #[test]
    fn identity_is_the_pod_name_or_unique_per_process() {
        assert_eq!(identity(Some("operator-7d9f")), "operator-7d9f");
        assert!(identity(None).ends_with(&format!("-{}", std::process::id())));
        assert!(identity(Some("")).ends_with(&format!("-{}", std::process::id())));
    }
}
