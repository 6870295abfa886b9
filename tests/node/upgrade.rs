//! An upgrade of the operator, as a user does it: the previous release's CRD, chart and image
//! (the commit pinned in scripts/release/previous.env, built by scripts/image/build-previous.sh
//! from a `git worktree` of it) manage two resources on the real node until their servers settle;
//! then the new CRD is applied over the old one (`kubectl apply --server-side`, as
//! docs/upgrading.md says), and `helm upgrade` moves the release to the working tree's chart and
//! image. Measured: no resource lost or made invalid by the CRD, and zero rollouts once the new
//! operator has reconciled both resources and a quiet window has passed (no new ReplicaSet, no
//! template change, no owned Secret rewritten, the new leader's rollout counter at 0). A client
//! secret change after it rolls its target once: the new operator is alive and would have rolled.
//! Before the upgrade, the working tree's `preview-upgrade` predicts it against the live resources.
//!
//! The two resources cover both key modes and an ingestion config: a confidential client with
//! generated keys and an ingestion section, and a public client with provided keys. No provider is
//! contacted (every check off; the JWKS URLs are configured).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::ensure;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client, ResourceExt as _};
use oidc_sso_operator::crd::OidcSsoConfig;
use oidc_sso_operator::names::{OPERATOR, labels::MANAGED_BY};
use serde_json::{Value, json};

use crate::node::{self, NODE_NAME};
use crate::support::chart::{Release, chart_dir};
use crate::support::cluster::{self, DEFAULT_TIMEOUT, TestNamespace};
use crate::support::operator;
use crate::support::scenario::{NAME, Scenario, confidential_spec};
use crate::target::{rolled_once, settled, target_deployment, target_deployment_named};

/// The second resource and its target.
const PUBLIC: &str = "om-public";
/// The operator's HTTP port (the chart's `httpPort`).
const OPERATOR_PORT: u16 = 8080;
/// How long nothing may change after the new leader reconciled both resources. A rollout happens
/// in the first reconcile of a resource, which the new leader runs as it starts.
const QUIET: Duration = Duration::from_secs(20);

/// What scripts/image/build-previous.sh built: `OIDCSSO_PREVIOUS_DIR` (the folder with `chart/`
/// and `crds/`) and `OIDCSSO_PREVIOUS_IMAGE` (the image reference, imported into the node).
struct Previous {
    dir: PathBuf,
    tag: String,
}

impl Previous {
    fn from_env() -> Previous {
        let missing = "set by scripts/test-node.sh from scripts/image/build-previous.sh's output \
                       (run by hand: build it, import its archive with scripts/node/up.sh, export both)";
        let dir = std::env::var_os("OIDCSSO_PREVIOUS_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| panic!("OIDCSSO_PREVIOUS_DIR is not set: {missing}"));
        let image = std::env::var("OIDCSSO_PREVIOUS_IMAGE")
            .unwrap_or_else(|_| panic!("OIDCSSO_PREVIOUS_IMAGE is not set: {missing}"));
        let tag = image
            .strip_prefix("oidc-sso-operator:")
            .unwrap_or_else(|| panic!("{image} is not an oidc-sso-operator image"))
            .to_string();
        Previous { dir, tag }
    }

    fn chart(&self) -> String {
        self.dir.join("chart").display().to_string()
    }

    fn crds(&self) -> PathBuf {
        self.dir.join("crds")
    }
}

/// `kubectl apply --server-side` of a folder of CRDs, as docs/upgrading.md tells users.
fn apply_crds(dir: &Path) {
    cluster::kubectl(&[
        "apply",
        "--server-side",
        "--force-conflicts",
        "-f",
        dir.to_str().unwrap(),
    ])
    .expect("kubectl apply the CRDs");
}

/// Puts the working tree's CRD back when the test ends, also when it fails: the suites after this
/// one share it.
struct CurrentCrdOnDrop;

impl Drop for CurrentCrdOnDrop {
    fn drop(&mut self) {
        apply_crds(&cluster::repo_root().join("crds"));
    }
}

/// The chart's values, for the previous chart and the new one alike (only keys both know).
fn values(watch: &str, image_tag: Option<&str>) -> Value {
    let mut values = json!({
        "replicaCount": 2,
        "image": {"pullPolicy": "Never"},
        "crds": {"install": false},
        "rbac": {"scope": "namespace"},
        "watchNamespace": watch,
        "serverProof": false,
    });
    if let Some(tag) = image_tag {
        values["image"]["tag"] = json!(tag);
    }
    values
        .as_object_mut()
        .unwrap()
        .extend(node::placement().as_object().unwrap().clone());
    values
}

fn write_values(dir: &Path, file: &str, values: &Value) -> String {
    let path = dir.join(file);
    std::fs::write(&path, serde_json::to_vec_pretty(values).unwrap()).unwrap();
    path.display().to_string()
}

/// A confidential client with generated keys and an ingestion config.
fn confidential_with_ingestion() -> Value {
    let mut spec = node::without_provider_checks(confidential_spec());
    spec["ingestion"] = json!({"authProvider": "openmetadata", "botTokenEnvVar": "OM_BOT"});
    spec
}

/// A public client with provided keys (tests/fixtures/test-keys.yaml, as Secret `om-public-keys`).
fn public_with_provided_keys() -> Value {
    let mut spec = node::without_provider_checks(confidential_spec());
    let provider = spec["provider"].as_object_mut().unwrap();
    provider.remove("credentialsSecretRef");
    provider.insert("clientType".into(), json!("Public"));
    provider.insert("clientId".into(), json!("openmetadata-ui"));
    provider.insert(
        "callbackUrl".into(),
        json!("https://om.example.com/callback"),
    );
    spec["provider"]["verify"]
        .as_object_mut()
        .unwrap()
        .remove("credentials");
    spec["jwt"] = json!({"keySecretRef": {"name": "om-public-keys"}});
    spec["targets"] = json!([{"kind": "Deployment", "name": PUBLIC}]);
    spec
}

async fn put_provided_keys(s: &Scenario) {
    let text = std::fs::read_to_string(cluster::repo_root().join("tests/fixtures/test-keys.yaml"))
        .unwrap();
    let mut secret: Secret = serde_saphyr::from_str(&text).unwrap();
    secret.metadata.name = Some("om-public-keys".into());
    secret.metadata.namespace = None;
    s.secrets()
        .create(&PostParams::default(), &secret)
        .await
        .expect("create the provided keys");
}

/// What a rollout or a rewrite would change: per target its generation and ReplicaSets, per
/// resource its owned Secrets' resource versions.
#[derive(Debug, PartialEq, Eq)]
struct Footprint {
    targets: Vec<(String, i64, usize)>,
    owned_secrets: Vec<(String, String)>,
}

async fn footprint(s: &Scenario) -> anyhow::Result<Footprint> {
    let mut targets = Vec::new();
    for name in [NAME, PUBLIC] {
        // Read as it is, rolling or not: a rollout in the quiet window shows as a difference.
        let d = s.deployments().get(name).await?;
        let sets = cluster::owned_replica_sets(&s.client, &d).await?;
        targets.push((
            name.to_string(),
            d.metadata.generation.unwrap_or_default(),
            sets.len(),
        ));
    }
    let owned = s
        .secrets()
        .list(&ListParams::default().labels(&format!("{MANAGED_BY}={OPERATOR}")))
        .await?;
    let mut owned_secrets: Vec<(String, String)> = owned
        .items
        .iter()
        .map(|x| (x.name_any(), x.resource_version().unwrap_or_default()))
        .collect();
    owned_secrets.sort();
    ensure!(owned_secrets.len() >= 5, "owned Secrets: {owned_secrets:?}");
    Ok(Footprint {
        targets,
        owned_secrets,
    })
}

/// The footprint stays `before` for [`QUIET`]: any change fails at once.
async fn assert_quiet(s: &Scenario, before: Footprint) {
    cluster::assert_stays(
        "nothing rolled or was rewritten (footprint)",
        QUIET,
        before,
        || async { footprint(s).await.expect("footprint") },
    )
    .await;
}

/// The pod holding the release's Lease, once it runs `image` and is Ready.
async fn leader_running(client: &Client, release: &Release, image: &str) -> Pod {
    let pods: Api<Pod> = Api::namespaced(client.clone(), &release.namespace);
    cluster::wait_for("a leader of the new image", DEFAULT_TIMEOUT, || async {
        let holder = node::lease_holder(client, release).await?;
        let pod = pods.get(&holder).await?;
        let runs = pod
            .spec
            .as_ref()
            .and_then(|s| s.containers[0].image.clone());
        ensure!(runs.as_deref() == Some(image), "{holder} runs {runs:?}");
        ensure!(cluster::is_pod_ready(&pod), "{holder} is not Ready");
        Ok(pod)
    })
    .await
}

/// The spec of every resource in the namespace, by name.
async fn specs(s: &Scenario) -> Vec<(String, Value)> {
    let list = s.configs().list(&ListParams::default()).await.unwrap();
    let mut specs: Vec<(String, Value)> = list
        .items
        .iter()
        .map(|r| (r.name_any(), serde_json::to_value(&r.spec).unwrap()))
        .collect();
    specs.sort_by(|a, b| a.0.cmp(&b.0));
    specs
}

/// Each resource, written back as it is under the new CRD (a dry run): the apiserver's schema and
/// CEL rules accept it.
async fn assert_valid_under_current_crd(s: &Scenario) {
    let configs: Api<OidcSsoConfig> = s.configs();
    for (name, spec) in specs(s).await {
        let object = json!({"apiVersion": "oidcsso.io/v1alpha1", "kind": "OidcSsoConfig",
                            "metadata": {"name": name}, "spec": spec});
        configs
            .patch(
                &name,
                &PatchParams::apply("upgrade-test").dry_run().force(),
                &Patch::Apply(&object),
            )
            .await
            .unwrap_or_else(|e| panic!("{name} is invalid under the new CRD: {e}"));
    }
}

#[tokio::test]
async fn an_upgrade_from_the_previous_release_rolls_no_server() {
    let previous = Previous::from_env();
    let client = cluster::client().await;
    node::require_node(&client).await;
    let _restore = CurrentCrdOnDrop;
    apply_crds(&previous.crds());
    let ops = TestNamespace::create(&client, "upgrade-ops").await.unwrap();
    let apps = TestNamespace::create(&client, "upgrade-apps")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();

    // The previous release: its chart, its image.
    let old_values = write_values(
        dir.path(),
        "old.json",
        &values(apps.name(), Some(&previous.tag)),
    );
    let release = Release::install_from(
        &previous.chart(),
        &cluster::unique_name("upgrade"),
        ops.name(),
        &["--values", &old_values],
    )
    .expect("helm install the previous release");
    let old_image = format!("oidc-sso-operator:{}", previous.tag);
    let old_leader = leader_running(&client, &release, &old_image).await;
    eprintln!(
        "previous release {old_image} leads: {}",
        node::name(&old_leader)
    );

    // Two resources, managed by it until their servers settle.
    let s = Scenario::new(&client, apps.name());
    s.put_credentials("first-secret").await;
    put_provided_keys(&s).await;
    let deployments: Api<Deployment> = s.deployments();
    for d in [target_deployment(), target_deployment_named(PUBLIC, 1)] {
        deployments
            .create(&PostParams::default(), &d)
            .await
            .expect("create a target");
    }
    s.create_config(confidential_with_ingestion())
        .await
        .expect("create the confidential resource");
    s.create_named(PUBLIC, public_with_provided_keys())
        .await
        .expect("create the public resource");
    s.wait_ready().await;
    operator::wait_condition(&s.configs(), PUBLIC, "Ready", "True", None).await;
    let first = settled(&s).await;
    let before = cluster::wait_for("both targets to settle", DEFAULT_TIMEOUT, || async {
        for name in [NAME, PUBLIC] {
            cluster::check_rolled_out(&s.client, &s.ns, name).await?;
        }
        footprint(&s).await
    })
    .await;
    let specs_before = specs(&s).await;
    eprintln!("settled under the previous release: {before:?}");

    // The new CRD over the old one: nothing lost, nothing invalid.
    apply_crds(&cluster::repo_root().join("crds"));
    assert_eq!(
        specs(&s).await,
        specs_before,
        "a resource changed or was lost"
    );
    assert_valid_under_current_crd(&s).await;

    // What the new version's binary predicts, against the live resources: nothing rolls.
    let (code, preview) = operator::preview_upgrade(apps.name());
    eprintln!("preview-upgrade before the upgrade:\n{preview}");
    assert_eq!(code, 0, "{preview}");
    for name in [NAME, PUBLIC] {
        let prefix = format!("{}/{name}: rolls nothing (sha256:", apps.name());
        assert!(preview.lines().any(|l| l.starts_with(&prefix)), "{preview}");
    }

    // helm upgrade to the working tree's chart and image.
    let new_values = write_values(dir.path(), "new.json", &values(apps.name(), None));
    cluster::helm(&[
        "upgrade",
        &release.name,
        chart_dir().to_str().unwrap(),
        "--namespace",
        ops.name(),
        "--values",
        &new_values,
        "--wait",
        "--timeout",
        "180s",
    ])
    .expect("helm upgrade to the working tree's chart");
    let leader = leader_running(&client, &release, &node::operator_image()).await;
    let leader_ip = node::pod_ip(&leader).unwrap();
    assert_eq!(
        leader.spec.as_ref().and_then(|p| p.node_name.as_deref()),
        Some(NODE_NAME)
    );
    cluster::wait_for(
        "the new leader to reconcile both",
        DEFAULT_TIMEOUT,
        || async {
            let n = node::metric(&leader_ip, OPERATOR_PORT, operator::COMPLETED_RECONCILES).await?;
            ensure!(n >= 2.0, "{n} reconciles");
            Ok(())
        },
    )
    .await;
    assert_quiet(&s, before).await;
    let rollouts = node::metric(
        &leader_ip,
        OPERATOR_PORT,
        "oidc_sso_rollouts_triggered_total",
    )
    .await
    .unwrap();
    let failures = node::metric(
        &leader_ip,
        OPERATOR_PORT,
        "oidc_sso_reconcile_failures_total",
    )
    .await
    .unwrap();
    eprintln!(
        "after the upgrade, {QUIET:?} after the new leader {} reconciled both: {rollouts} rollouts, \
         {failures} failed reconciles, footprint unchanged",
        node::name(&leader)
    );
    assert_eq!((rollouts, failures), (0.0, 0.0));
    s.wait_ready().await;
    operator::wait_condition(&s.configs(), PUBLIC, "Ready", "True", None).await;

    // The new operator is alive: a change rolls its target once.
    s.put_credentials("second-secret").await;
    rolled_once(&s, &first).await;
}
