//! End-to-end: the Helm chart (`charts/oidc-sso-operator`) on the local control plane.
//!
//! - `helm lint`, the values schema, and the rendered CRD copy (identical to `crds/`);
//! - `helm install` creates every object; `helm upgrade` changes the Deployment; `helm uninstall`
//!   removes the release and, with `crds.install`, leaves the CRD in place;
//! - the operator binary runs out of cluster authenticated as the chart's ServiceAccount (a
//!   TokenRequest token) and passes the main scenario, which proves the RBAC is sufficient, in
//!   cluster mode and in namespaced mode; in namespaced mode nothing outside the namespace is
//!   allowed;
//! - JSON logs carry the reconciled resource's namespace and name.
//!
//! Kwok runs the chart's pods without an image, so the in-cluster operator never runs: the
//! out-of-cluster process is the only one reconciling. Each test uses its own namespaces and
//! release names (ClusterRoles are named after both); the shared CRD is never deleted.

use crate::support::chart;
use crate::support::cluster;
use crate::support::operator;
use crate::support::scenario;
use std::collections::BTreeMap;
use std::time::Duration;

use crate::support::chart::{Release, can_i, chart_dir, helm_outcome};
use crate::support::operator::Operator;
use crate::support::scenario::{Scenario, confidential_spec};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Pod, Secret, Service, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::ListParams;
use kube::{Api, Client, ResourceExt};
use oidc_sso_operator::crd::OidcSsoConfig;
use serde_json::Value;

const CRD_NAME: &str = "oidcssoconfigs.oidcsso.io";

fn chart() -> String {
    chart_dir().display().to_string()
}

/// Every document `helm template` renders with `sets`, parsed.
fn render(sets: &[&str]) -> Vec<Value> {
    let chart = chart();
    let mut args = vec!["template", "e2e-render", chart.as_str(), "-n", "ops"];
    for s in sets {
        args.extend(["--set", s]);
    }
    let text = cluster::helm(&args).expect("helm template");
    text.split("\n---")
        .map(|doc| serde_saphyr::from_str::<Value>(doc).expect("rendered YAML"))
        .filter(|v| !v.is_null())
        .collect()
}

fn kinds(docs: &[Value]) -> Vec<String> {
    docs.iter()
        .map(|d| d["kind"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn chart_lints_validates_values_and_renders_the_crd_identical_to_crds() {
    let chart = chart();
    for sets in [
        vec![],
        vec!["rbac.scope=namespace", "watchNamespace=apps"],
        vec![
            "serviceMonitor.enabled=true",
            "leaderElection.enabled=false",
        ],
        vec!["crds.install=false", "logging.json=false", "replicaCount=2"],
    ] {
        let mut args = vec!["lint", chart.as_str(), "--strict"];
        for s in &sets {
            args.extend(["--set", s]);
        }
        cluster::helm(&args).unwrap_or_else(|e| panic!("helm lint {sets:?}: {e:#}"));
    }

    // values.schema.json rejects what the operator would reject only at run time.
    for (bad, why) in [
        ("rbac.scope=everything", "must be one of"),
        ("resync=5 minutes", "does not match pattern"),
        (
            "leaderElection.leaseDuration=500ms",
            "does not match pattern",
        ),
        ("replicaCount=-1", "minimum"),
        ("unknownKey=1", "additional properties"),
    ] {
        let (ok, out) = helm_outcome(&["lint", &chart, "--set", bad]);
        assert!(!ok, "helm lint accepted {bad}:\n{out}");
        assert!(
            out.contains(why),
            "helm lint {bad}: expected {why:?} in\n{out}"
        );
    }

    // The CRD copy: behind crds.install, kept on uninstall, otherwise exactly crds/.
    let docs = render(&[]);
    let mut crd = docs
        .iter()
        .find(|d| d["kind"] == "CustomResourceDefinition")
        .cloned()
        .expect("the CRD is rendered by default");
    assert_eq!(
        crd["metadata"]["annotations"]["helm.sh/resource-policy"], "keep",
        "the CRD must survive helm uninstall"
    );
    let annotations = crd["metadata"]
        .as_object_mut()
        .and_then(|m| m.remove("annotations"));
    assert_eq!(
        annotations.and_then(|a| a.as_object().map(serde_json::Map::len)),
        Some(1)
    );
    let committed = std::fs::read_to_string(cluster::repo_root().join("crds/oidcssoconfig.yaml"))
        .expect("crds/oidcssoconfig.yaml");
    let committed: Value = serde_saphyr::from_str(&committed).expect("CRD YAML");
    assert!(
        crd == committed,
        "the chart's CRD differs from crds/: run scripts/generate.sh"
    );
    assert!(!kinds(&render(&["crds.install=false"])).contains(&"CustomResourceDefinition".into()));

    // Opt-in ServiceMonitor scraping the metrics Service's port.
    assert!(!kinds(&docs).contains(&"ServiceMonitor".into()));
    let docs = render(&["serviceMonitor.enabled=true"]);
    let sm = docs
        .iter()
        .find(|d| d["kind"] == "ServiceMonitor")
        .expect("ServiceMonitor");
    assert_eq!(sm["spec"]["endpoints"][0]["port"], "http-metrics");
    let svc = docs.iter().find(|d| d["kind"] == "Service").unwrap();
    assert_eq!(svc["spec"]["ports"][0]["name"], "http-metrics");

    // Namespaced mode: no cluster-wide grant at all, the operator told its namespace.
    let docs = render(&["rbac.scope=namespace", "watchNamespace=apps"]);
    let k = kinds(&docs);
    assert!(!k.contains(&"ClusterRole".into()) && !k.contains(&"ClusterRoleBinding".into()));
    let role = docs
        .iter()
        .find(|d| d["kind"] == "Role" && d["metadata"]["namespace"] == "apps")
        .expect("a Role in the watched namespace");
    assert!(role["rules"].as_array().is_some_and(|r| !r.is_empty()));
    let deployment = docs.iter().find(|d| d["kind"] == "Deployment").unwrap();
    let args = &deployment["spec"]["template"]["spec"]["containers"][0]["args"];
    assert!(
        args.as_array()
            .unwrap()
            .contains(&Value::from("--namespace=apps"))
    );
}

/// Checks the pod template the chart renders on the cluster: probes, security, identity.
async fn check_operator_pod_spec(client: &Client, release: &Release) {
    let d = release.deployment(client).await;
    let pod = d.spec.template.spec.clone().expect("pod spec");
    assert_eq!(
        pod.service_account_name.as_deref(),
        Some(release.fullname().as_str())
    );
    let c = &pod.containers[0];
    let args = c.args.clone().unwrap_or_default();
    for want in [
        "run",
        "--http-addr=0.0.0.0:8080",
        "--leader-elect",
        "--log-json",
    ] {
        assert!(args.iter().any(|a| a == want), "{want} missing in {args:?}");
    }
    let probe = |p: &Option<k8s_openapi::api::core::v1::Probe>| {
        p.as_ref()
            .and_then(|p| p.http_get.as_ref())
            .and_then(|h| h.path.clone())
    };
    assert_eq!(probe(&c.liveness_probe).as_deref(), Some("/healthz"));
    assert_eq!(probe(&c.readiness_probe).as_deref(), Some("/readyz"));
    assert!(
        c.resources
            .as_ref()
            .is_some_and(|r| r.requests.is_some() && r.limits.is_some())
    );
    let sc = c
        .security_context
        .clone()
        .expect("container securityContext");
    assert_eq!(sc.run_as_non_root, Some(true));
    assert_eq!(sc.read_only_root_filesystem, Some(true));
    assert_eq!(sc.allow_privilege_escalation, Some(false));
    assert_eq!(
        sc.capabilities.and_then(|c| c.drop),
        Some(vec!["ALL".to_string()])
    );
    assert_eq!(
        sc.seccomp_profile.map(|s| s.type_),
        Some("RuntimeDefault".to_string())
    );
    let pod_sc = pod.security_context.expect("pod securityContext");
    assert_eq!(pod_sc.run_as_non_root, Some(true));
    let env: BTreeMap<String, String> = c
        .env
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|e| {
            let field = e.value_from?.field_ref?.field_path;
            Some((e.name, field))
        })
        .collect();
    assert_eq!(
        env.get("POD_NAME").map(String::as_str),
        Some("metadata.name")
    );
    assert_eq!(
        env.get("POD_NAMESPACE").map(String::as_str),
        Some("metadata.namespace")
    );
}

/// Every object a cluster-mode release creates, found by its instance label or name.
async fn check_release_objects(client: &Client, release: &Release, cluster_scope: bool) {
    let ns = &release.namespace;
    let name = release.fullname();
    let selector = format!("app.kubernetes.io/instance={}", release.name);
    let lp = ListParams::default().labels(&selector);
    Api::<ServiceAccount>::namespaced(client.clone(), ns)
        .get(&name)
        .await
        .expect("ServiceAccount");
    Api::<Service>::namespaced(client.clone(), ns)
        .get(&format!("{name}-metrics"))
        .await
        .expect("metrics Service");
    let cluster_roles = Api::<ClusterRole>::all(client.clone())
        .list(&lp)
        .await
        .unwrap()
        .items;
    let cluster_bindings = Api::<ClusterRoleBinding>::all(client.clone())
        .list(&lp)
        .await
        .unwrap()
        .items;
    let roles: Vec<String> = Api::<Role>::namespaced(client.clone(), ns)
        .list(&lp)
        .await
        .unwrap()
        .items
        .iter()
        .map(kube::ResourceExt::name_any)
        .collect();
    let bindings: Vec<String> = Api::<RoleBinding>::namespaced(client.clone(), ns)
        .list(&lp)
        .await
        .unwrap()
        .items
        .iter()
        .map(kube::ResourceExt::name_any)
        .collect();
    let leader_election = format!("{name}-leader-election");
    assert!(roles.contains(&leader_election), "{roles:?}");
    assert!(bindings.contains(&leader_election), "{bindings:?}");
    if cluster_scope {
        assert_eq!(cluster_roles.len(), 1, "one ClusterRole");
        assert_eq!(cluster_bindings.len(), 1, "one ClusterRoleBinding");
        assert_eq!(cluster_roles[0].name_any(), format!("{ns}-{name}"));
    } else {
        assert!(cluster_roles.is_empty() && cluster_bindings.is_empty());
        assert!(roles.contains(&name), "{roles:?}");
        assert!(bindings.contains(&name), "{bindings:?}");
    }
    let d = release.deployment(client).await;
    assert!(
        cluster::is_available(&d),
        "the operator Deployment is available"
    );
    let pods = Api::<Pod>::namespaced(client.clone(), ns)
        .list(&lp)
        .await
        .unwrap()
        .items;
    assert!(!pods.is_empty() && pods.iter().all(cluster::is_pod_ready));
}

/// Starts the operator out of cluster as the release's ServiceAccount, with leader election on the
/// chart's Lease (so the Lease RBAC is exercised too).
async fn operator_as_service_account(
    release: &Release,
    client: &Client,
    watch_ns: &str,
    dir: &std::path::Path,
) -> (Operator, std::path::PathBuf) {
    let kubeconfig =
        chart::service_account_kubeconfig(dir, &release.namespace, &release.fullname())
            .expect("ServiceAccount kubeconfig");
    let lease = release
        .arg(client, "lease-name")
        .await
        .expect("--lease-name");
    let op = Operator::start(
        kubeconfig.clone(),
        watch_ns,
        &[
            "--leader-elect",
            "--lease-namespace",
            &release.namespace,
            "--lease-name",
            &lease,
            "--lease-identity",
            "e2e-out-of-cluster",
        ],
    )
    .await;
    (op, kubeconfig)
}

async fn lease_holder(client: &Client, ns: &str, name: &str) -> Option<String> {
    Api::<Lease>::namespaced(client.clone(), ns)
        .get_opt(name)
        .await
        .ok()
        .flatten()
        .and_then(|l| l.spec)
        .and_then(|s| s.holder_identity)
}

#[tokio::test]
async fn cluster_mode_release_installs_upgrades_uninstalls_and_its_service_account_suffices() {
    let client = cluster::client().await;
    operator::install_crd(&client).await;
    let release_ns = cluster::TestNamespace::create(&client, "chart-cluster")
        .await
        .unwrap();
    let app_ns = cluster::TestNamespace::create(&client, "chart-cluster-app")
        .await
        .unwrap();
    let mut release = Release::install(
        &cluster::unique_name("rel-cl"),
        release_ns.name(),
        &["crds.install=false"],
    )
    .expect("helm install");
    check_release_objects(&client, &release, true).await;
    check_operator_pod_spec(&client, &release).await;

    // What the ServiceAccount may do: exactly what the controller needs.
    let sa = release.service_account_user();
    let app = app_ns.name();
    for (allowed, args) in [
        (true, vec!["list", "secrets", "--all-namespaces"]),
        (true, vec!["watch", "deployments.apps", "--all-namespaces"]),
        (true, vec!["patch", "deployments.apps", "-n", app]),
        (
            true,
            vec![
                "patch",
                "oidcssoconfigs.oidcsso.io",
                "--subresource=status",
                "-n",
                app,
            ],
        ),
        (true, vec!["create", "events.events.k8s.io", "-n", app]),
        (false, vec!["update", "deployments.apps", "-n", app]),
        (false, vec!["delete", "deployments.apps", "-n", app]),
        (false, vec!["patch", "oidcssoconfigs.oidcsso.io", "-n", app]),
        // The server proof lists the targets' pods; it never reads or watches one.
        (true, vec!["list", "pods", "-n", app]),
        (false, vec!["get", "pods", "-n", app]),
        (false, vec!["watch", "pods", "-n", app]),
        (
            false,
            vec!["create", "leases.coordination.k8s.io", "-n", app],
        ),
    ] {
        assert_eq!(can_i(&sa, &args), allowed, "can-i {args:?}");
    }

    // The operator as that ServiceAccount runs the main scenario in another namespace.
    let dir = tempfile::tempdir().unwrap();
    let (op, _) = operator_as_service_account(&release, &client, app, dir.path()).await;
    let scenario = Scenario::new(&client, app);
    scenario.run_to_ready().await;
    let lease = release.arg(&client, "lease-name").await.unwrap();
    assert_eq!(
        lease_holder(&client, release_ns.name(), &lease)
            .await
            .as_deref(),
        Some("e2e-out-of-cluster")
    );
    let logs = op.logs();
    assert!(
        !logs.contains("forbidden"),
        "the operator was denied something:\n{logs}"
    );
    drop(op);
    // Graceful shutdown released the Lease.
    assert_eq!(lease_holder(&client, release_ns.name(), &lease).await, None);

    // helm upgrade: new values reach the Deployment.
    release
        .upgrade(&["replicaCount=2", "logging.json=false"])
        .expect("helm upgrade");
    let d = release.deployment(&client).await;
    assert_eq!(d.spec.replicas, Some(2));
    let args = release.args(&client).await;
    assert!(!args.contains(&"--log-json".to_string()), "{args:?}");
    let history = cluster::helm(&[
        "history",
        &release.name,
        "-n",
        release_ns.name(),
        "-o",
        "json",
    ])
    .unwrap();
    let history: Value = serde_json::from_str(&history).unwrap();
    assert_eq!(history.as_array().map(Vec::len), Some(2));

    // helm uninstall: the release's objects go (the ClusterRole too), the CRD stays.
    let cluster_role = format!("{}-{}", release_ns.name(), release.fullname());
    release.uninstall().expect("helm uninstall");
    assert!(
        Api::<ClusterRole>::all(client.clone())
            .get_opt(&cluster_role)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        Api::<ServiceAccount>::namespaced(client.clone(), release_ns.name())
            .get_opt(&release.fullname())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        Api::<CustomResourceDefinition>::all(client.clone())
            .get_opt(CRD_NAME)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn namespaced_mode_release_suffices_in_its_namespace_and_grants_nothing_outside() {
    let client = cluster::client().await;
    operator::install_crd(&client).await;
    let ns = cluster::TestNamespace::create(&client, "chart-ns")
        .await
        .unwrap();
    let other = cluster::TestNamespace::create(&client, "chart-ns-other")
        .await
        .unwrap();
    let release = Release::install(
        &cluster::unique_name("rel-ns"),
        ns.name(),
        &["crds.install=false", "rbac.scope=namespace"],
    )
    .expect("helm install");
    check_release_objects(&client, &release, false).await;
    assert_eq!(
        release.arg(&client, "namespace").await.as_deref(),
        Some(ns.name())
    );

    let sa = release.service_account_user();
    for (allowed, args) in [
        (true, vec!["list", "secrets", "-n", ns.name()]),
        (true, vec!["patch", "deployments.apps", "-n", ns.name()]),
        (false, vec!["list", "secrets", "-n", other.name()]),
        (false, vec!["get", "secrets", "-n", other.name()]),
        (false, vec!["list", "secrets", "--all-namespaces"]),
        (false, vec!["patch", "deployments.apps", "-n", other.name()]),
        (
            false,
            vec!["list", "oidcssoconfigs.oidcsso.io", "--all-namespaces"],
        ),
    ] {
        assert_eq!(can_i(&sa, &args), allowed, "can-i {args:?}");
    }

    let dir = tempfile::tempdir().unwrap();
    let (op, kubeconfig) =
        operator_as_service_account(&release, &client, ns.name(), dir.path()).await;
    Scenario::new(&client, ns.name()).run_to_ready().await;
    assert!(!op.logs().contains("forbidden"), "{}", op.logs());

    // Real requests as the ServiceAccount outside its namespace: 403.
    let sa_client = chart::client_from(&kubeconfig).await;
    let denied = |r: Result<_, kube::Error>| matches!(r, Err(kube::Error::Api(s)) if s.code == 403);
    assert!(denied(
        Api::<Secret>::namespaced(sa_client.clone(), other.name())
            .list(&ListParams::default())
            .await
            .map(|_| ())
    ));
    assert!(denied(
        Api::<OidcSsoConfig>::all(sa_client.clone())
            .list(&ListParams::default())
            .await
            .map(|_| ())
    ));
    assert!(
        Api::<Secret>::namespaced(sa_client, ns.name())
            .list(&ListParams::default())
            .await
            .is_ok()
    );
}

/// Restores the shared CRD's metadata to what it was before a test adopted it into a release.
struct CrdMetadataGuard {
    labels_added: Vec<String>,
    annotations_added: Vec<String>,
}

impl Drop for CrdMetadataGuard {
    fn drop(&mut self) {
        let mut annotate = vec!["annotate", "crd", CRD_NAME];
        let removals: Vec<String> = self
            .annotations_added
            .iter()
            .map(|k| format!("{k}-"))
            .collect();
        annotate.extend(removals.iter().map(String::as_str));
        if !removals.is_empty()
            && let Err(e) = cluster::kubectl(&annotate)
        {
            eprintln!("warning: could not restore the CRD's annotations: {e:#}");
        }
        let removals: Vec<String> = self.labels_added.iter().map(|k| format!("{k}-")).collect();
        let mut label = vec!["label", "crd", CRD_NAME];
        label.extend(removals.iter().map(String::as_str));
        if !removals.is_empty()
            && let Err(e) = cluster::kubectl(&label)
        {
            eprintln!("warning: could not restore the CRD's labels: {e:#}");
        }
    }
}

#[tokio::test]
async fn crds_install_upgrades_the_crd_with_the_release_and_uninstall_keeps_it() {
    let client = cluster::client().await;
    operator::install_crd(&client).await;
    let ns = cluster::TestNamespace::create(&client, "chart-crd")
        .await
        .unwrap();
    let name = cluster::unique_name("rel-crd");
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let before = crds.get(CRD_NAME).await.unwrap();

    // The CRD is shared by every suite, so it already exists: let this release adopt it the way
    // Helm adopts existing objects (ownership label and annotations), and put the metadata back
    // afterwards.
    let mut guard = CrdMetadataGuard {
        labels_added: Vec::new(),
        annotations_added: Vec::new(),
    };
    for key in [
        "meta.helm.sh/release-name",
        "meta.helm.sh/release-namespace",
        "helm.sh/resource-policy",
    ] {
        if !before.annotations().contains_key(key) {
            guard.annotations_added.push(key.to_string());
        }
    }
    if !before.labels().contains_key("app.kubernetes.io/managed-by") {
        guard
            .labels_added
            .push("app.kubernetes.io/managed-by".to_string());
    }
    cluster::kubectl(&[
        "annotate",
        "crd",
        CRD_NAME,
        "--overwrite",
        &format!("meta.helm.sh/release-name={name}"),
        &format!("meta.helm.sh/release-namespace={}", ns.name()),
    ])
    .unwrap();
    cluster::kubectl(&[
        "label",
        "crd",
        CRD_NAME,
        "--overwrite",
        "app.kubernetes.io/managed-by=Helm",
    ])
    .unwrap();

    let mut release = Release::install(&name, ns.name(), &["crds.install=true"])
        .expect("helm install with crds.install=true");
    let manifest = cluster::helm(&["get", "manifest", &name, "-n", ns.name()]).unwrap();
    assert!(
        manifest.contains("kind: CustomResourceDefinition"),
        "the release manages the CRD"
    );
    let crd = crds.get(CRD_NAME).await.unwrap();
    assert_eq!(
        crd.annotations()
            .get("helm.sh/resource-policy")
            .map(String::as_str),
        Some("keep")
    );
    release.upgrade(&["replicaCount=2"]).expect("helm upgrade");

    release.uninstall().expect("helm uninstall");
    let kept = crds.get(CRD_NAME).await.expect("the CRD is kept");
    assert_eq!(kept.metadata.uid, before.metadata.uid, "never recreated");
    assert!(kept.metadata.deletion_timestamp.is_none());
    let established = kept.status.and_then(|s| s.conditions).is_some_and(|cs| {
        cs.iter()
            .any(|c| c.type_ == "Established" && c.status == "True")
    });
    assert!(established);
    drop(guard);
}

#[tokio::test]
async fn json_logs_carry_the_reconciled_resources_namespace_and_name() {
    let client = cluster::client().await;
    operator::install_crd(&client).await;
    let ns = cluster::TestNamespace::create(&client, "chart-json")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("operator.log");
    let log = std::fs::File::create(&log_path).unwrap();
    // Operator::start finds its address in text logs; with JSON logs, pick the port here.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_oidc-sso-operator"))
        // Kwok's pods have no server behind them (see support/operator.rs).
        .args([
            "run",
            "--log-json",
            "--namespace",
            ns.name(),
            "--server-proof=false",
        ])
        .args(["--http-addr", &format!("127.0.0.1:{port}")])
        .env("KUBECONFIG", cluster::require_kubeconfig())
        .env("RUST_LOG", "info")
        .stderr(log)
        .spawn()
        .expect("start the operator");
    let scenario = Scenario::new(&client, ns.name());
    scenario.put_credentials("json-secret").await;
    scenario.create_server(1).await;
    scenario
        .create_config(confidential_spec())
        .await
        .expect("create OidcSsoConfig");
    let result = tokio::time::timeout(Duration::from_secs(120), scenario.wait_ready()).await;
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log_path).unwrap();
    assert!(result.is_ok(), "not Ready; logs:\n{text}");

    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    let in_reconcile: Vec<&Value> = lines.iter().filter(|l| l["span"] == "reconcile").collect();
    assert!(
        !in_reconcile.is_empty(),
        "no line logged inside a reconcile span:\n{text}"
    );
    for l in &in_reconcile {
        assert_eq!(l["namespace"], ns.name(), "{l}");
        assert_eq!(l["name"], scenario::NAME, "{l}");
    }
    assert!(
        in_reconcile
            .iter()
            .any(|l| l["message"] == "rollout triggered"),
        "{text}"
    );
    assert!(
        !text.contains("json-secret"),
        "a secret value reached the logs"
    );
}

/// What a platform team asks of the chart: a PodDisruptionBudget when there is a standby, an
/// image pinned by digest, a NetworkPolicy on request, and a values schema that refuses typos in
/// them; the rendered objects are admitted by the real apiserver (server-side dry run).
#[tokio::test]
async fn production_additions_render_as_documented_and_the_apiserver_admits_them() {
    let of_kind = |docs: &[Value], kind: &str| -> Vec<Value> {
        docs.iter().filter(|d| d["kind"] == kind).cloned().collect()
    };
    assert!(
        of_kind(&render(&[]), "PodDisruptionBudget").is_empty(),
        "one replica: a budget would block every drain"
    );
    let digest = format!("sha256:{}", "ab".repeat(32));
    let docs = render(&[
        "replicaCount=2",
        &format!("image.digest={digest}"),
        "image.tag=ignored",
        "networkPolicy.enabled=true",
        "networkPolicy.apiserverCIDRs={10.96.0.1/32}",
    ]);
    let deployment = &of_kind(&docs, "Deployment")[0];
    let pdb = &of_kind(&docs, "PodDisruptionBudget")[0];
    assert_eq!(pdb["spec"]["minAvailable"], 1);
    assert_eq!(
        pdb["spec"]["selector"]["matchLabels"],
        deployment["spec"]["selector"]["matchLabels"]
    );
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["image"],
        format!("oidc-sso-operator@{digest}").as_str()
    );
    let policy = &of_kind(&docs, "NetworkPolicy")[0];
    assert_eq!(
        policy["spec"]["podSelector"]["matchLabels"],
        deployment["spec"]["selector"]["matchLabels"]
    );
    assert_eq!(policy["spec"]["ingress"][0]["ports"][0]["port"], "http");
    let egress = policy["spec"]["egress"].as_array().expect("egress rules");
    assert_eq!(
        egress.len(),
        3,
        "DNS, the apiserver, the providers: {egress:?}"
    );
    assert_eq!(egress[1]["to"][0]["ipBlock"]["cidr"], "10.96.0.1/32");
    assert_eq!(egress[2]["ports"][0]["port"], 443);

    let chart = chart();
    for (bad, why) in [
        ("image.digest=sha256:short", "does not match pattern"),
        (
            "podDisruptionBudget.minAvaliable=1",
            "additional properties",
        ),
        (
            "networkPolicy.providerCIDRs={everywhere}",
            "does not match pattern",
        ),
    ] {
        let (ok, out) = helm_outcome(&["lint", &chart, "--set", bad]);
        assert!(!ok, "helm lint accepted {bad}:\n{out}");
        assert!(
            out.contains(why),
            "helm lint {bad}: expected {why:?} in\n{out}"
        );
    }

    let client = cluster::client().await;
    let ns = cluster::TestNamespace::create(&client, "chart-prod")
        .await
        .expect("namespace");
    for object in [pdb, policy] {
        let mut object = object.clone();
        object["metadata"]["namespace"] = Value::from(ns.name());
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("object.json");
        std::fs::write(&file, object.to_string()).expect("write");
        cluster::kubectl(&[
            "apply",
            "--dry-run=server",
            "-f",
            file.to_str().expect("path"),
        ])
        .unwrap_or_else(|e| panic!("the apiserver refused the {}: {e:#}", object["kind"]));
    }
}
