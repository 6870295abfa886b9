//! The operator as a real process for end-to-end tests: the built binary, `run` against the local
//! cluster, watching one test namespace, its logs kept in a file so tests can read them (and
//! check that no secret ever reaches them). Stopped by its PID on drop. Needs `mod common;` beside
//! it in the test crate.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The metric counting finished reconciles (see [`Operator::completed_reconciles`]).
pub const COMPLETED_RECONCILES: &str = "oidc_sso_reconcile_duration_seconds_count";

/// A running operator process.
pub struct Operator {
    child: Option<Child>,
    namespace: String,
    log: PathBuf,
    addr: Option<String>,
    extra_args: Vec<String>,
    _dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    /// Run as this user (its own copy of the kubeconfig), so that its packets can be told apart.
    uid: Option<u32>,
}

impl Operator {
    /// Starts the operator for `namespace` and waits until its HTTP endpoints answer.
    pub async fn start(kubeconfig: PathBuf, namespace: &str, extra_args: &[&str]) -> Operator {
        Self::start_as(kubeconfig, namespace, extra_args, None).await
    }

    /// [`Operator::start`], the process running as user `uid` when given (needs root): the
    /// kubeconfig is copied for it, readable by it only.
    pub async fn start_as(
        kubeconfig: PathBuf,
        namespace: &str,
        extra_args: &[&str],
        uid: Option<u32>,
    ) -> Operator {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("temp dir");
        let kubeconfig = match uid {
            None => kubeconfig,
            Some(uid) => {
                let copy = dir.path().join("kubeconfig");
                std::fs::copy(&kubeconfig, &copy).expect("copy the kubeconfig");
                std::os::unix::fs::chown(&copy, Some(uid), None).expect("chown the kubeconfig");
                std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o600))
                    .expect("chmod the kubeconfig");
                std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711))
                    .expect("chmod the temp dir");
                copy
            }
        };
        let mut op = Operator {
            child: None,
            namespace: namespace.to_string(),
            log: dir.path().join("operator.log"),
            addr: None,
            extra_args: extra_args
                .iter()
                .map(std::string::ToString::to_string)
                .collect(),
            _dir: dir,
            kubeconfig,
            uid,
        };
        op.spawn().await;
        op
    }

    async fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let err = log.try_clone().expect("log file");
        let mut command = Command::new(crate::tools::operator_binary());
        if let Some(uid) = self.uid {
            std::os::unix::process::CommandExt::uid(&mut command, uid);
        }
        command.args([
            "run",
            "--namespace",
            &self.namespace,
            "--http-addr",
            "127.0.0.1:0",
            // The test providers listen on loopback, which the address policy refuses unless
            // listed.
            "--provider-allowed-networks",
            "127.0.0.1/32",
        ]);
        // Kwok's pods have no process behind them, and their IPs are not loopback: the server
        // proof is off unless a test turns it on (tests/node/proof.rs, on the real node, with
        // the OpenMetadata stand-in). What the kwok suites check ends at the rollout.
        if !self
            .extra_args
            .iter()
            .any(|a| a.starts_with("--server-proof"))
        {
            command.arg("--server-proof=false");
        }
        let child = command
            .args(&self.extra_args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("RUST_LOG", "info,oidc_sso_operator=debug")
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(err))
            .spawn()
            .expect("start the operator binary");
        self.child = Some(child);
        let before = self.addr.take();
        // The bound address is logged once per start; take the newest line.
        for _ in 0..200 {
            if let Some(addr) = self
                .logs()
                .lines()
                .filter_map(|l| l.split("addr=").nth(1))
                .map(|a| a.split_whitespace().next().unwrap_or("").to_string())
                .next_back()
                && Some(&addr) != before.as_ref()
            {
                self.addr = Some(addr);
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            self.addr.is_some(),
            "operator did not start; logs:\n{}",
            self.logs()
        );
    }

    /// Everything the process logged so far (all starts).
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr.as_deref().unwrap_or("127.0.0.1:0"))
    }

    /// The Prometheus text of `/metrics`.
    pub async fn metrics(&self) -> String {
        reqwest::get(format!("{}/metrics", self.url()))
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("metrics body")
    }

    /// A counter or gauge value from `/metrics` (0 when absent).
    pub async fn metric(&self, name: &str) -> f64 {
        self.metrics()
            .await
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.strip_prefix(name))
            .filter(|rest| rest.starts_with(' ') || rest.starts_with('{'))
            .filter_map(|rest| rest.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()))
            .sum()
    }

    /// Reconciles the operator has finished (status written, Events published): the duration
    /// histogram's count, observed as a reconcile returns. (`oidc_sso_reconciles_total` counts
    /// them as they start.)
    pub async fn completed_reconciles(&self) -> f64 {
        self.metric(COMPLETED_RECONCILES).await
    }

    /// Waits until every reconcile the operator started has finished (status written, Events
    /// published), seen twice 300 ms apart: for checks that read all it wrote.
    pub async fn wait_idle(&self) {
        let mut settled = 0;
        for _ in 0..300 {
            let started = self.metric("oidc_sso_reconciles_total").await;
            settled = if started == self.completed_reconciles().await {
                settled + 1
            } else {
                0
            };
            if settled == 2 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        panic!("the operator kept reconciling; logs:\n{}", self.logs());
    }

    /// Finished reconciles once the operator is idle: a baseline for
    /// [`Operator::wait_reconciles_after`] that no reconcile still running can move.
    pub async fn idle_reconciles(&self) -> f64 {
        self.wait_idle().await;
        self.completed_reconciles().await
    }

    /// Waits until the operator has completed at least `n` more reconciles than `since` (an
    /// [`Operator::idle_reconciles`] value).
    pub async fn wait_reconciles_after(&self, since: f64, n: f64) {
        for _ in 0..600 {
            if self.completed_reconciles().await >= since + n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("operator did not reconcile again; logs:\n{}", self.logs());
    }

    /// The process's peak resident memory so far (VmHWM), in MiB.
    pub fn peak_rss_mib(&self) -> Option<f64> {
        let pid = self.child.as_ref()?.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kib / 1024.0)
    }

    /// Stops the process (SIGTERM, then SIGKILL after 10 s) and starts it again.
    pub async fn restart(&mut self) {
        self.stop();
        self.spawn().await;
    }

    /// Stops the process by its PID.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let pid = child.id().to_string();
            let _ = Command::new("kill").args(["-TERM", &pid]).status();
            for _ in 0..100 {
                if matches!(child.try_wait(), Ok(Some(_))) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            eprintln!("---- operator logs ----\n{}", self.logs());
        }
    }
}

/// Installs (server-side applies) the committed CRD and waits until it is established. Every
/// suite calls it, so a fresh cluster needs no manual step.
pub async fn install_crd(client: &kube::Client) {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    use kube::api::{Api, Patch, PatchParams};
    let path = crate::tools::repo_root().join("crds/oidcssoconfig.yaml");
    let text = std::fs::read_to_string(&path).expect("crds/oidcssoconfig.yaml");
    let crd: CustomResourceDefinition = serde_saphyr::from_str(&text).expect("CRD YAML");
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let name = crd.metadata.name.clone().expect("CRD name");
    api.patch(
        &name,
        &PatchParams::apply("e2e-test").force(),
        &Patch::Apply(&crd),
    )
    .await
    .expect("apply the CRD");
    for _ in 0..300 {
        let established = api
            .get(&name)
            .await
            .ok()
            .and_then(|c| c.status)
            .and_then(|s| s.conditions)
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c.type_ == "Established" && c.status == "True")
            });
        if established {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("CRD {name} not established");
}

/// Waits until the `OidcSsoConfig` `name` reports condition `type_` = `status` (and `reason`,
/// when given) for its current generation; returns the resource as it was then.
pub async fn wait_condition(
    api: &kube::Api<oidc_sso_operator::crd::OidcSsoConfig>,
    name: &str,
    type_: &str,
    status: &str,
    reason: Option<&str>,
) -> oidc_sso_operator::crd::OidcSsoConfig {
    use anyhow::{Context as _, ensure};
    crate::cluster::wait_for(
        &format!("{name}: {type_}={status} {reason:?}"),
        crate::cluster::DEFAULT_TIMEOUT,
        || async move {
            let cr = api.get(name).await?;
            let st = cr.status.clone().unwrap_or_default();
            ensure!(
                st.observed_generation == cr.metadata.generation,
                "status is for an older generation"
            );
            let c = st
                .conditions
                .iter()
                .find(|c| c.type_ == type_)
                .with_context(|| {
                    format!("no {type_} condition; conditions: {:?}", st.conditions)
                })?;
            ensure!(
                c.status == status,
                "{type_} is {} ({}: {})",
                c.status,
                c.reason,
                c.message
            );
            if let Some(r) = reason {
                ensure!(
                    c.reason == r,
                    "{type_} reason is {} ({})",
                    c.reason,
                    c.message
                );
            }
            Ok(cr)
        },
    )
    .await
}

/// `oidc-sso-operator preview-upgrade -n <ns>` (the binary of the working tree), with the admin
/// kubeconfig: (exit status, output).
pub fn preview_upgrade(ns: &str) -> (i32, String) {
    let out = Command::new(crate::tools::operator_binary())
        .args(["preview-upgrade", "-n", ns])
        .env("KUBECONFIG", crate::cluster::require_kubeconfig())
        .output()
        .expect("run preview-upgrade");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}
