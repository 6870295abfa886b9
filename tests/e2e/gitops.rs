//! End-to-end: the kubectl/GitOps path. `kubectl apply --server-side -f crds/ -f examples/` twice
//! changes nothing the second time, and `kubectl diff --server-side -f examples/` stays empty
//! while the operator runs (it never writes a field the user's manifests set); the Argo CD health
//! check reads the live resource as Healthy.
//!
//! `examples/` is applied as a copy with the demo's namespace replaced by the test's own and the
//! demo provider's issuer by a test provider started here, so the test neither collides with
//! `make demo` nor needs its provider.

use crate::support::argocd;
use crate::support::cluster;
use crate::support::operator;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::support::argocd::HealthStatus;
use crate::support::cluster::{DEFAULT_TIMEOUT, TestNamespace};
use crate::support::oidc::{ProviderOptions, TestClient, TestProvider};
use crate::support::operator::Operator;
use anyhow::ensure;
use kube::Api;
use oidc_sso_operator::crd::OidcSsoConfig;
use serde_json::Value;

/// The namespace and issuer `examples/openmetadata.yaml` uses for `make demo`.
const EXAMPLE_NAMESPACE: &str = "openmetadata-demo";
const EXAMPLE_ISSUER: &str = "http://127.0.0.1:18282";

/// Copies `examples/*.yaml` into `dir/examples`, pointed at `namespace` and `issuer`.
fn examples_copy(dir: &Path, namespace: &str, issuer: &str) -> PathBuf {
    let src = cluster::repo_root().join("examples");
    let dst = dir.join("examples");
    std::fs::create_dir_all(&dst).unwrap();
    let mut copied = 0;
    for entry in std::fs::read_dir(&src).expect("examples/ exists") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                text.contains(EXAMPLE_NAMESPACE),
                "{} no longer uses namespace {EXAMPLE_NAMESPACE}; update this test",
                path.display()
            );
            let text = text
                .replace(EXAMPLE_NAMESPACE, namespace)
                .replace(EXAMPLE_ISSUER, issuer);
            std::fs::write(dst.join(path.file_name().unwrap()), text).unwrap();
            copied += 1;
        }
    }
    assert!(copied > 0, "no YAML in examples/");
    dst
}

/// `kind/name -> resourceVersion` of everything the manifests name (via `kubectl get -f`); the
/// CRD by its generation.
fn resource_versions(files: &[&str]) -> BTreeMap<String, String> {
    let mut args = vec!["get", "-o", "json"];
    for f in files {
        args.extend(["-f", f]);
    }
    let out = cluster::kubectl(&args).expect("kubectl get -f");
    let v: Value = serde_json::from_str(&out).unwrap();
    let items = match v.get("items") {
        Some(Value::Array(items)) => items.clone(),
        _ => vec![v],
    };
    items
        .iter()
        .map(|o| {
            (
                format!(
                    "{}/{}/{}",
                    o["kind"].as_str().unwrap_or_default(),
                    o["metadata"]["namespace"].as_str().unwrap_or_default(),
                    o["metadata"]["name"].as_str().unwrap_or_default()
                ),
                if o["kind"] == "CustomResourceDefinition" {
                    // Shared with the chart suite, which labels and annotates it meanwhile: only
                    // its spec is this apply's to keep.
                    format!("generation {}", o["metadata"]["generation"])
                } else {
                    o["metadata"]["resourceVersion"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string()
                },
            )
        })
        .collect()
}

#[tokio::test]
async fn applying_crds_and_examples_twice_changes_nothing_and_diff_is_empty_while_reconciled() {
    let client = cluster::client().await;
    operator::install_crd(&client).await;
    let ns = TestNamespace::create(&client, "gitops").await.unwrap();
    // The example's client, registered with the example server's callback URL.
    let example_client = TestClient::new("openmetadata", "demo-secret-1")
        .with_redirect_uris(["https://openmetadata.example.com/callback"]);
    let options = ProviderOptions::http().with_clients([example_client]);
    let idp = tokio::task::spawn_blocking(move || TestProvider::start_with(options))
        .await
        .unwrap()
        .expect("test OIDC provider");
    let dir = tempfile::tempdir().unwrap();
    let examples = examples_copy(dir.path(), ns.name(), &idp.issuer());
    let examples = examples.to_str().unwrap();
    let crds = cluster::repo_root().join("crds");
    let crds = crds.to_str().unwrap();

    let first = cluster::kubectl(&["apply", "--server-side", "-f", crds, "-f", examples])
        .expect("first apply");
    assert!(first.contains("oidcssoconfig"), "{first}");

    let op = Operator::start(cluster::require_kubeconfig(), ns.name(), &[]).await;
    let configs: Api<OidcSsoConfig> = Api::namespaced(client.clone(), ns.name());
    let name = "openmetadata";
    operator::wait_condition(&configs, name, "Ready", "True", None).await;
    cluster::wait_rolled_out(&client, ns.name(), name, DEFAULT_TIMEOUT).await;

    // Settled: the second apply must not change a single object.
    let before = resource_versions(&[crds, examples]);
    assert!(before.len() >= 5, "{before:?}");
    let second = cluster::kubectl(&["apply", "--server-side", "-f", crds, "-f", examples])
        .expect("second apply");
    let after = resource_versions(&[crds, examples]);
    assert_eq!(
        before, after,
        "the second apply changed something:\n{second}"
    );

    // What Argo CD's and Flux's diffs compute: nothing, while the operator keeps reconciling
    // (its status, owned Secrets and the pod-template annotation are not in the manifests).
    let reconciles = op.idle_reconciles().await;
    let out = cluster::run_tool(
        &cluster::ClusterEnv::load().kubectl,
        &["diff", "--server-side", "-f", examples],
    )
    .unwrap();
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && diff.trim().is_empty(),
        "kubectl diff is not empty ({}):\n{diff}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    // A resync in between must not change that either.
    configs
        .patch(
            name,
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(
                serde_json::json!({"metadata": {"annotations": {"e2e/poke": "1"}}}),
            ),
        )
        .await
        .unwrap();
    op.wait_reconciles_after(reconciles, 1.0).await;
    let out = cluster::run_tool(
        &cluster::ClusterEnv::load().kubectl,
        &["diff", "--server-side", "-f", examples],
    )
    .unwrap();
    assert!(
        out.status.success(),
        "kubectl diff after a reconcile:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Argo CD's health check on the live object.
    let live =
        cluster::kubectl(&["get", "oidcssoconfig", name, "-n", ns.name(), "-o", "json"]).unwrap();
    let live: Value = serde_json::from_str(&live).unwrap();
    let health = argocd::health(&live);
    assert_eq!(health.status, HealthStatus::Healthy, "{health:?}");

    // And after a spec change the operator has not processed yet, it is Progressing.
    let mut stale = live.clone();
    let generation = stale["metadata"]["generation"].as_i64().unwrap();
    stale["metadata"]["generation"] = (generation + 1).into();
    let progressing = argocd::health(&stale);
    assert_eq!(progressing.status, HealthStatus::Progressing);
    assert!(
        progressing
            .message
            .contains(&format!("generation {}", generation + 1)),
        "{progressing:?}"
    );
    let check = || -> anyhow::Result<()> {
        ensure!(
            !op.logs().contains("demo-secret-1"),
            "a secret value reached the logs"
        );
        Ok(())
    };
    check().unwrap();
}
