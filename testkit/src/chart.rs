//! The Helm chart on the local control plane: releases uninstalled on drop (their ClusterRoles
//! are cluster-wide and would outlive the test namespace), the chart's ServiceAccount as a
//! kubeconfig (a TokenRequest token), and `kubectl auth can-i` as that ServiceAccount. Needs
//! `mod common;` beside it in the test crate.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use k8s_openapi::api::apps::v1::Deployment;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client};

use crate::cluster;

/// `charts/oidc-sso-operator`.
pub fn chart_dir() -> PathBuf {
    cluster::repo_root().join("charts/oidc-sso-operator")
}

/// `helm args...` as `(success, stdout + stderr)`, for commands expected to fail.
pub fn helm_outcome(args: &[&str]) -> (bool, String) {
    let out = cluster::run_tool(&cluster::ClusterEnv::load().helm, args).expect("run helm");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// A Helm release of the chart, uninstalled when dropped (also when the test panics).
pub struct Release {
    pub name: String,
    pub namespace: String,
    installed: bool,
}

impl Release {
    /// `helm install <name> charts/oidc-sso-operator -n <namespace> --wait` with `--set` values.
    pub fn install(name: &str, namespace: &str, sets: &[&str]) -> anyhow::Result<Release> {
        let args: Vec<&str> = sets.iter().flat_map(|s| ["--set", s]).collect();
        Self::install_with(name, namespace, &args)
    }

    /// `helm install <name> charts/oidc-sso-operator -n <namespace> --wait` with further helm
    /// arguments (`--values FILE`, `--set-string K=V`, ...).
    pub fn install_with(name: &str, namespace: &str, extra: &[&str]) -> anyhow::Result<Release> {
        let chart = chart_dir();
        let chart = chart.to_str().context("chart path is UTF-8")?;
        Self::install_from(chart, name, namespace, extra)
    }

    /// `helm install <name> <chart> -n <namespace> --wait` with further helm arguments: `chart`
    /// as helm takes it (a folder, a packaged chart, an `oci://` reference).
    pub fn install_from(
        chart: &str,
        name: &str,
        namespace: &str,
        extra: &[&str],
    ) -> anyhow::Result<Release> {
        let mut args = vec![
            "install",
            name,
            chart,
            "--namespace",
            namespace,
            "--wait",
            "--timeout",
            "180s",
        ];
        args.extend(extra);
        let mut release = Release {
            name: name.to_string(),
            namespace: namespace.to_string(),
            installed: true,
        };
        if let Err(e) = cluster::helm(&args) {
            // A failed install may still have created objects: clean them up.
            release.uninstall().ok();
            return Err(e);
        }
        Ok(release)
    }

    /// `helm upgrade --reuse-values` with more `--set` values; waits for the rollout.
    pub fn upgrade(&self, sets: &[&str]) -> anyhow::Result<String> {
        let chart = chart_dir();
        let chart = chart.to_str().context("chart path is UTF-8")?;
        let mut args = vec![
            "upgrade",
            &self.name,
            chart,
            "--namespace",
            &self.namespace,
            "--reuse-values",
            "--wait",
            "--timeout",
            "180s",
        ];
        for s in sets {
            args.extend(["--set", s]);
        }
        cluster::helm(&args)
    }

    /// `helm uninstall --wait`.
    pub fn uninstall(&mut self) -> anyhow::Result<String> {
        self.installed = false;
        cluster::helm(&[
            "uninstall",
            &self.name,
            "--namespace",
            &self.namespace,
            "--wait",
            "--timeout",
            "120s",
        ])
    }

    /// The chart's full name for this release (the chart's `fullname` helper).
    pub fn fullname(&self) -> String {
        if self.name.contains("oidc-sso-operator") {
            self.name.clone()
        } else {
            format!("{}-oidc-sso-operator", self.name)
        }
    }

    /// `system:serviceaccount:<namespace>:<fullname>`.
    pub fn service_account_user(&self) -> String {
        format!(
            "system:serviceaccount:{}:{}",
            self.namespace,
            self.fullname()
        )
    }

    /// The operator Deployment the release created.
    pub async fn deployment(&self, client: &Client) -> Deployment {
        Api::<Deployment>::namespaced(client.clone(), &self.namespace)
            .get(&self.fullname())
            .await
            .expect("the chart's Deployment")
    }

    /// The operator container's arguments.
    pub async fn args(&self, client: &Client) -> Vec<String> {
        let d = self.deployment(client).await;
        let pod = d.spec.template.spec.expect("pod spec");
        pod.containers[0].args.clone().unwrap_or_default()
    }

    /// The value of `--<flag>=<value>` in the operator's arguments.
    pub async fn arg(&self, client: &Client, flag: &str) -> Option<String> {
        let prefix = format!("--{flag}=");
        self.args(client)
            .await
            .iter()
            .find_map(|a| a.strip_prefix(&prefix).map(str::to_string))
    }
}

impl Drop for Release {
    fn drop(&mut self) {
        if self.installed
            && let Err(e) = self.uninstall()
        {
            eprintln!("warning: could not uninstall release {}: {e:#}", self.name);
        }
    }
}

/// Writes a kubeconfig that authenticates as ServiceAccount `namespace/name` with a fresh
/// TokenRequest token (`kubectl create token`), against the test cluster's server and CA. The
/// token stays in the file (a temporary directory of the test) and is never printed.
pub fn service_account_kubeconfig(
    dir: &Path,
    namespace: &str,
    name: &str,
) -> anyhow::Result<PathBuf> {
    let token = cluster::kubectl(&["create", "token", name, "-n", namespace, "--duration=1h"])?;
    let admin = Kubeconfig::read_from(cluster::require_kubeconfig())?;
    let context = admin
        .current_context
        .as_deref()
        .and_then(|c| admin.contexts.iter().find(|n| n.name == c))
        .and_then(|c| c.context.as_ref())
        .map(|c| c.cluster.clone());
    let cluster = admin
        .clusters
        .iter()
        .find(|c| context.as_deref().is_none_or(|name| c.name == name))
        .and_then(|c| c.cluster.clone())
        .context("the admin kubeconfig has no cluster")?;
    let mut cluster_entry = serde_json::json!({"server": cluster.server});
    match (
        cluster.certificate_authority,
        cluster.certificate_authority_data,
    ) {
        (_, Some(data)) => cluster_entry["certificate-authority-data"] = data.into(),
        (Some(path), None) => cluster_entry["certificate-authority"] = path.into(),
        (None, None) => bail!("the admin kubeconfig names no cluster CA"),
    }
    let kubeconfig = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "local", "cluster": cluster_entry}],
        "users": [{"name": name, "user": {"token": token.trim()}}],
        "contexts": [{"name": name, "context": {"cluster": "local", "user": name, "namespace": namespace}}],
        "current-context": name,
    });
    let path = dir.join(format!("{namespace}-{name}.kubeconfig"));
    // JSON is YAML: kube and kubectl both read it.
    std::fs::write(&path, serde_json::to_vec_pretty(&kubeconfig)?)?;
    Ok(path)
}

/// A client from a kubeconfig file.
pub async fn client_from(path: &Path) -> Client {
    cluster::install_crypto_provider();
    let kubeconfig = Kubeconfig::read_from(path).expect("kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("config");
    Client::try_from(config).expect("client")
}

/// `kubectl auth can-i <args> --as <user>`: whether the API server would allow it.
pub fn can_i(user: &str, args: &[&str]) -> bool {
    let mut all = vec!["auth", "can-i"];
    all.extend(args);
    all.extend(["--as", user]);
    let out = cluster::run_tool(&cluster::ClusterEnv::load().kubectl, &all).expect("kubectl");
    let answer = String::from_utf8_lossy(&out.stdout).trim().to_string();
    match answer.as_str() {
        "yes" => true,
        "no" => false,
        _ => panic!(
            "kubectl auth can-i {args:?}: unexpected answer {answer:?} ({})",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}
