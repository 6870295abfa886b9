//! Shared helpers for the end-to-end suites (`cargo test --features e2e --test <suite>`).
//!
//! The suites run against the local control plane started by `make cluster-up`
//! (`scripts/cluster/up.sh`: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok,
//! whose fake node turns scheduled pods Running/Ready). Use from a suite with `mod common;`.
//!
//! * Cluster access: [`client`] (a checked `kube::Client`), [`kubeconfig_path`], [`ClusterEnv`]
//!   (paths of the cached `helm`, `kubectl`, ...), [`kubectl`] / [`helm`] to shell out.
//!   The kubeconfig is `$KUBECONFIG` when set, else `<repo>/.cluster/kubeconfig` (or
//!   `$CLUSTER_DIR/kubeconfig`). A missing or unreachable cluster FAILS the test with a hint to run
//!   `make cluster-up`; e2e tests never skip silently.
//! * Isolation: [`TestNamespace`], a uniquely named, labelled namespace deleted on drop, also when
//!   the test panics. `E2E_KEEP_NAMESPACES=1` keeps them for debugging; leftovers can be removed
//!   with `kubectl delete ns -l oidc-sso-operator.e2e/test-namespace`.
//! * Waiting: [`wait_for`] polls a check until it succeeds or panics with the last reason.
//! * Workloads: [`create_deployment`], [`wait_rolled_out`], [`owned_replica_sets`], ...
//!
//! Conventions: helpers return `anyhow::Result` (so tests can use `?`) except the ones that can
//! only end a test anyway ([`client`], [`wait_for`]), which panic with a descriptive message.
use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, anyhow, bail, ensure};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, ReplicaSet};
use k8s_openapi::api::core::v1::{Container, Namespace, Pod, PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

/// Label put on every namespace created by [`TestNamespace`].
pub const TEST_NAMESPACE_LABEL: &str = "oidc-sso-operator.e2e/test-namespace";
/// Default timeout for waits on a 2-core machine running the whole control plane.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// Image of test pods: kwok never pulls or runs anything, so it only has to be syntactically valid.
pub const FAKE_IMAGE: &str = "registry.invalid/app:1";
/// User-Agent of the clients built by [`client`] / [`config`] (shows up in the audit log).
pub const TEST_USER_AGENT: &str = "oidc-sso-operator-e2e-harness";
/// Annotation the Deployment controller puts on a Deployment and its ReplicaSets.
pub const REVISION_ANNOTATION: &str = "deployment.kubernetes.io/revision";

// ------------------------------------------------------------------------------------------------
// Cluster location and tools
// ------------------------------------------------------------------------------------------------

use crate::tools;
pub use crate::tools::*;

/// The kubeconfig the suites use: `$KUBECONFIG` when set (first entry of a path list), else
/// `<cluster dir>/kubeconfig`.
pub fn kubeconfig_path() -> PathBuf {
    if let Some(v) = std::env::var_os("KUBECONFIG")
        && let Some(first) = std::env::split_paths(&v).find(|p| !p.as_os_str().is_empty())
    {
        return first;
    }
    cluster_dir().join("kubeconfig")
}

/// The Kubernetes version the local cluster runs (`K8S_VERSION` in versions.env).
pub fn expected_k8s_version() -> String {
    pinned_version("K8S_VERSION")
}

/// The tools the suites run against the cluster.
#[derive(Debug, Clone)]
pub struct ClusterEnv {
    /// The cached helm binary (`~/.cache/oidc-sso-operator/bin/helm-<version>/helm`).
    pub helm: PathBuf,
    /// kubectl (the installed one; its version may trail the server's).
    pub kubectl: PathBuf,
}

impl ClusterEnv {
    /// Finds them; never fails (missing entries fall back to computed defaults).
    pub fn load() -> Self {
        ClusterEnv {
            helm: tools::helm(),
            kubectl: tool("KUBECTL", || PathBuf::from("kubectl")),
        }
    }
}

/// Runs `program args...` with `KUBECONFIG` pointing at the test cluster; returns the raw output.
pub fn run_tool(program: &Path, args: &[&str]) -> anyhow::Result<Output> {
    Command::new(program)
        .args(args)
        .env("KUBECONFIG", kubeconfig_path())
        .output()
        .with_context(|| format!("cannot run {}", program.display()))
}

/// Like [`run_tool`] but requires exit status 0; returns stdout (the error carries stderr).
pub fn run_tool_ok(program: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = run_tool(program, args)?;
    if !out.status.success() {
        bail!(
            "`{} {}` failed ({}):\n{}{}",
            program.display(),
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8(out.stdout).context("tool output is not UTF-8")
}

/// `kubectl args...` against the test cluster; stdout on success.
pub fn kubectl(args: &[&str]) -> anyhow::Result<String> {
    run_tool_ok(&ClusterEnv::load().kubectl, args)
}

/// `helm args...` (the cached helm) against the test cluster; stdout on success.
pub fn helm(args: &[&str]) -> anyhow::Result<String> {
    run_tool_ok(&ClusterEnv::load().helm, args)
}

// ------------------------------------------------------------------------------------------------
// Client
// ------------------------------------------------------------------------------------------------

/// Installs aws-lc-rs as the process-wide rustls provider. kube 5 builds its TLS config with
/// `ClientConfig::builder()`, which only picks a provider by itself when exactly one is compiled in;
/// installing it explicitly keeps the suites working if another dependency ever enables `ring`.
pub fn install_crypto_provider() {
    // Err only means a provider is already installed, which is fine.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// The kubeconfig path, after checking it exists. Panics (failing the test) with a hint to run
/// `make cluster-up` when it does not: e2e tests must not pass without a cluster.
pub fn require_kubeconfig() -> PathBuf {
    let path = kubeconfig_path();
    if !path.exists() {
        panic!(
            "no kubeconfig at {}: the end-to-end tests need the local cluster; start it with \
             `make cluster-up` (or point KUBECONFIG at a cluster)",
            path.display()
        );
    }
    path
}

/// The `kube::Config` of the test cluster. Panics (failing the test) when there is no kubeconfig.
pub async fn config() -> Config {
    install_crypto_provider();
    let path = require_kubeconfig();
    let kubeconfig = Kubeconfig::read_from(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap_or_else(|e| panic!("invalid kubeconfig {}: {e}", path.display()));
    // kube-rs sends no User-Agent by default; name the harness so audit-log / benchmark counts can
    // tell test-setup writes apart from the operator's own.
    config.headers.push((
        http::header::USER_AGENT,
        http::HeaderValue::from_static(TEST_USER_AGENT),
    ));
    config
}

/// A `kube::Client` for the test cluster, checked to answer (`GET /version`). Panics with a hint
/// to run `make cluster-up` when the cluster is absent or down.
pub async fn client() -> Client {
    let config = config().await;
    let url = config.cluster_url.clone();
    let client =
        Client::try_from(config).unwrap_or_else(|e| panic!("cannot build a client for {url}: {e}"));
    if let Err(e) = client.apiserver_version().await {
        panic!(
            "the test cluster at {url} (kubeconfig {}) does not answer: {e}\n\
             start it with `make cluster-up` (logs: {}/logs)",
            kubeconfig_path().display(),
            cluster_dir().display()
        );
    }
    client
}

// ------------------------------------------------------------------------------------------------
// Waiting
// ------------------------------------------------------------------------------------------------

/// Polls `check` every 250 ms until it returns `Ok(value)`; returns that value. An `Err` means
/// "not yet" and its message is kept: on timeout the test panics with `what` and the last reason.
/// Write checks with `anyhow::ensure!(cond, "what is wrong: {state}")` and `?` on API calls.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let start = Instant::now();
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        match check().await {
            Ok(v) => return v,
            Err(e) if start.elapsed() >= timeout => {
                panic!(
                    "timed out after {timeout:?} ({attempts} checks) waiting for {what}; last state: {e:#}"
                )
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

/// How long a "nothing more happens" check watches.
pub const QUIET_WINDOW: Duration = Duration::from_secs(3);

/// Asserts that `observe` gives `expected` at every look (every 250 ms) for `window`: a quiet
/// window that fails at the first change, with what changed, instead of sleeping and looking
/// once (which misses a change undone before the look, and says nothing of when it came).
pub async fn assert_stays<T, F, Fut>(what: &str, window: Duration, expected: T, mut observe: F)
where
    T: PartialEq + std::fmt::Debug,
    F: FnMut() -> Fut,
    Fut: Future<Output = T>,
{
    let start = Instant::now();
    loop {
        let now = observe().await;
        assert!(
            now == expected,
            "{what}: {now:?} after {:?} of a {window:?} quiet window, expected {expected:?} throughout",
            start.elapsed()
        );
        if start.elapsed() >= window {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

// ------------------------------------------------------------------------------------------------
// Namespaces
// ------------------------------------------------------------------------------------------------

/// A unique name `<prefix>-<time>-<random>` (DNS-1123 label, at most 63 characters).
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    // Random enough without a rand dependency: std's per-process random SipHash keys.
    let random = {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(now.as_nanos());
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        h.write_u32(std::process::id());
        h.finish() & 0xff_ffff
    };
    let mut prefix: String = prefix
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    prefix.truncate(40);
    let prefix = prefix.trim_matches('-');
    let prefix = if prefix.is_empty() { "e2e" } else { prefix };
    format!("{prefix}-{}-{random:06x}", now.as_secs() % 1_000_000)
}

/// A namespace for one test: created with a unique name and [`TEST_NAMESPACE_LABEL`], deleted
/// (without waiting) when dropped, including when the test panics. The deletion runs on its own
/// thread and runtime with a fresh client, so it works from any context (current-thread test
/// runtime, unwinding). Set `E2E_KEEP_NAMESPACES=1` to keep it for inspection.
pub struct TestNamespace {
    name: String,
    config: Config,
    deleted: bool,
}

impl TestNamespace {
    /// Creates `<prefix>-<unique suffix>`.
    pub async fn create(client: &Client, prefix: &str) -> anyhow::Result<Self> {
        let name = unique_name(prefix);
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                labels: Some(BTreeMap::from([(
                    TEST_NAMESPACE_LABEL.to_string(),
                    "true".to_string(),
                )])),
                ..Default::default()
            },
            ..Default::default()
        };
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &ns)
            .await
            .with_context(|| format!("creating namespace {name}"))?;
        Ok(TestNamespace {
            name,
            config: config().await,
            deleted: false,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestNamespace {
    fn drop(&mut self) {
        if self.deleted {
            return;
        }
        if std::env::var_os("E2E_KEEP_NAMESPACES").is_some_and(|v| v == "1") {
            eprintln!("E2E_KEEP_NAMESPACES=1: keeping namespace {}", self.name);
            return;
        }
        let name = self.name.clone();
        let config = self.config.clone();
        // A blocking call on the test's own runtime could deadlock (current-thread runtime) and a
        // client is bound to the runtime that created it: use a new thread, runtime and client.
        let result = std::thread::spawn(move || -> anyhow::Result<()> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async move {
                let client = Client::try_from(config)?;
                let api = Api::<Namespace>::all(client);
                match api.delete(&name, &DeleteParams::background()).await {
                    Ok(_) => Ok(()),
                    Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
                    Err(e) => Err(anyhow!(e)),
                }
            })
        })
        .join();
        match result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!(
                "warning: could not delete test namespace {}: {e:#}",
                self.name
            ),
            Err(_) => eprintln!("warning: deleting test namespace {} panicked", self.name),
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Deployments, ReplicaSets, Pods
// ------------------------------------------------------------------------------------------------

/// An OpenMetadata-like Deployment for the operator's scenarios: the rendered settings Secret
/// `<config>-auth-env` as environment, the keys Secret `<config>-jwt-keys` mounted where the server
/// reads its JWT keys (both optional, so the pods start before the operator wrote them).
pub fn openmetadata_like_deployment(name: &str, config: &str, replicas: i32) -> Deployment {
    use k8s_openapi::api::core::v1::{
        EnvFromSource, SecretEnvSource, SecretVolumeSource, Volume, VolumeMount,
    };
    let mut d = simple_deployment(name, replicas);
    let pod = d.spec.template.spec.as_mut().expect("pod spec");
    pod.volumes = Some(vec![Volume {
        name: "jwt-keys".into(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(format!("{config}-jwt-keys")),
            // Fail closed, as the docs say: a pod never starts on the template's defaults.
            optional: Some(false),
            ..Default::default()
        }),
        ..Default::default()
    }]);
    let c = &mut pod.containers[0];
    c.env_from = Some(vec![EnvFromSource {
        secret_ref: Some(SecretEnvSource {
            name: format!("{config}-auth-env"),
            optional: Some(false),
        }),
        ..Default::default()
    }]);
    c.volume_mounts = Some(vec![VolumeMount {
        name: "jwt-keys".into(),
        mount_path: "/etc/openmetadata/jwtkeys".into(),
        read_only: Some(true),
        ..Default::default()
    }]);
    d
}

/// A minimal Deployment: `replicas` pods labelled `app=<name>`, one container with [`FAKE_IMAGE`].
pub fn simple_deployment(name: &str, replicas: i32) -> Deployment {
    let labels = BTreeMap::from([("app".to_string(), name.to_string())]);
    Deployment {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            labels: Some(labels.clone()),
            ..Default::default()
        },
        spec: DeploymentSpec {
            replicas: Some(replicas),
            selector: LabelSelector {
                match_labels: Some(labels.clone()),
                ..Default::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![Container {
                        name: "app".to_string(),
                        image: Some(FAKE_IMAGE.to_string()),
                        ..Default::default()
                    }],
                    // Pods of a fake node never run anything; do not wait 30 s on termination.
                    termination_grace_period_seconds: Some(0),
                    ..Default::default()
                }),
            },
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Creates [`simple_deployment`] `name` in `ns`.
pub async fn create_deployment(
    client: &Client,
    ns: &str,
    name: &str,
    replicas: i32,
) -> anyhow::Result<Deployment> {
    Api::<Deployment>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &simple_deployment(name, replicas))
        .await
        .with_context(|| format!("creating deployment {ns}/{name}"))
}

/// True when the Deployment has condition `Available=True`.
pub fn is_available(d: &Deployment) -> bool {
    d.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| {
            cs.iter().any(|c| {
                c.type_.as_deref() == Some("Available") && c.status.as_deref() == Some("True")
            })
        })
}

fn revision(meta: &ObjectMeta) -> Option<i64> {
    meta.annotations
        .as_ref()?
        .get(REVISION_ANNOTATION)?
        .parse()
        .ok()
}

/// The ReplicaSets whose ownerReferences name the Deployment's uid, oldest revision first.
pub async fn owned_replica_sets(
    client: &Client,
    d: &Deployment,
) -> anyhow::Result<Vec<ReplicaSet>> {
    let ns = d
        .metadata
        .namespace
        .as_deref()
        .context("deployment has no namespace")?;
    let uid = d.metadata.uid.as_deref().context("deployment has no uid")?;
    let mut sets: Vec<ReplicaSet> = Api::<ReplicaSet>::namespaced(client.clone(), ns)
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter(|rs| {
            rs.metadata
                .owner_references
                .as_ref()
                .is_some_and(|refs| refs.iter().any(|r| r.uid == uid))
        })
        .collect();
    sets.sort_by_key(|rs| revision(&rs.metadata).unwrap_or(0));
    Ok(sets)
}

/// Checks once whether the Deployment is fully rolled out (what `kubectl rollout status` checks,
/// plus: no old ReplicaSet still has pods). `Err` explains what is missing.
pub async fn check_rolled_out(client: &Client, ns: &str, name: &str) -> anyhow::Result<Deployment> {
    let d = Api::<Deployment>::namespaced(client.clone(), ns)
        .get(name)
        .await?;
    let want = d.spec.replicas.unwrap_or(1);
    let generation = d.metadata.generation.unwrap_or(0);
    let st = d.status.clone().unwrap_or_default();
    let observed = st.observed_generation.unwrap_or(0);
    let (replicas, updated, ready, available) = (
        st.replicas.unwrap_or(0),
        st.updated_replicas.unwrap_or(0),
        st.ready_replicas.unwrap_or(0),
        st.available_replicas.unwrap_or(0),
    );
    ensure!(
        observed >= generation,
        "observedGeneration {observed} < generation {generation}"
    );
    ensure!(
        replicas == want && updated == want && ready == want && available == want,
        "want {want} replicas; status: replicas={replicas} updated={updated} ready={ready} available={available}"
    );
    let current = revision(&d.metadata);
    for rs in owned_replica_sets(client, &d).await? {
        if revision(&rs.metadata) == current {
            continue;
        }
        let spec = rs.spec.replicas.unwrap_or(0);
        let status = rs.status.as_ref().map_or(0, |s| s.replicas);
        ensure!(
            spec == 0 && status == 0,
            "old ReplicaSet {} still has spec.replicas={spec} status.replicas={status}",
            rs.metadata.name.as_deref().unwrap_or("?")
        );
    }
    Ok(d)
}

/// Waits (up to `timeout`) until [`check_rolled_out`] succeeds; returns the Deployment.
pub async fn wait_rolled_out(
    client: &Client,
    ns: &str,
    name: &str,
    timeout: Duration,
) -> Deployment {
    wait_for(
        &format!("deployment {ns}/{name} to roll out"),
        timeout,
        || check_rolled_out(client, ns, name),
    )
    .await
}

/// Pods in `ns` matching a label selector such as `app=web`.
pub async fn list_pods(client: &Client, ns: &str, selector: &str) -> anyhow::Result<Vec<Pod>> {
    Ok(Api::<Pod>::namespaced(client.clone(), ns)
        .list(&ListParams::default().labels(selector))
        .await?
        .items)
}

/// True when the pod has condition `Ready=True` and is not being deleted.
pub fn is_pod_ready(p: &Pod) -> bool {
    p.metadata.deletion_timestamp.is_none()
        && p.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}
