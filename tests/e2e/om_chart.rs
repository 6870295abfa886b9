//! End-to-end: OpenMetadata's official Helm chart (1.13.1, `../shared/fixtures/...`), installed by
//! the real `helm install` on the local control plane with exactly
//! `examples/openmetadata-chart/values.yaml`, and an `OidcSsoConfig` targeting the chart's
//! Deployment with an operator process of its own:
//!
//! - before the operator, the chart's Deployment has one ReplicaSet; the operator's first render
//!   rolls it once, each credential change (client secret, JWT key pair) once more;
//! - the live pod templates (the Deployment's server and `run-db-migrations` containers, both
//!   CronJobs) load the rendered settings last, with nothing shadowing them, and mount the keys
//!   where the rendered `RSA_*_FILE_PATH` point ([`official_chart::check_all`] on the live objects
//!   and Secrets);
//! - `helm upgrade` with the same values rolls nothing and keeps the operator's annotation.
//!
//! Kwok runs the pods without pulling or starting anything, so the chart needs no database,
//! search engine or Airflow: its hosts and its `mysql-secrets`/`airflow-secrets` references are
//! never resolved, and its defaults install as they are. The chart's only hook is its
//! `helm test` Pod, which `helm install` does not run.

use crate::support::cluster::{self, DEFAULT_TIMEOUT};
use crate::support::official_chart::{self, FULLNAME, Wiring};
use crate::support::scenario::{NAME, Scenario, confidential_spec};
use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::ListParams;
use serde_json::Value;

/// `helm <verb> openmetadata <official chart> -n <ns> -f values.yaml --wait`.
fn helm_release(verb: &str, ns: &str) -> anyhow::Result<String> {
    let chart = official_chart::chart_dir();
    let values = official_chart::values_path();
    cluster::helm(&[
        verb,
        "openmetadata",
        chart.to_str().unwrap(),
        "--namespace",
        ns,
        "-f",
        values.to_str().unwrap(),
        "--wait",
        "--timeout",
        "180s",
    ])
}

/// The check of the live objects: the chart's workloads as the API server holds them, with the
/// keys of every Secret and ConfigMap in the namespace, against the settings Secret the operator
/// wrote.
async fn live_findings(env: &Scenario) -> Vec<String> {
    let lp = ListParams::default();
    let mut objects: Vec<Value> = Vec::new();
    for d in env.deployments().list(&lp).await.unwrap().items {
        objects.push(serde_json::to_value(d).unwrap());
    }
    for c in env.api::<CronJob>().list(&lp).await.unwrap().items {
        objects.push(serde_json::to_value(c).unwrap());
    }
    for s in env.secrets().list(&lp).await.unwrap().items {
        objects.push(serde_json::to_value(s).unwrap());
    }
    for c in env.api::<ConfigMap>().list(&lp).await.unwrap().items {
        objects.push(serde_json::to_value(c).unwrap());
    }
    let settings = format!("{NAME}-auth-env");
    let data: BTreeMap<String, Vec<u8>> = env
        .secrets()
        .get(&settings)
        .await
        .expect("the settings Secret")
        .data
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect();
    let wiring = Wiring::new(
        &settings,
        &format!("{NAME}-jwt-keys"),
        &data,
        official_chart::operator_variables(),
    );
    official_chart::check_all(&objects, &official_chart::sources(&objects), &wiring)
}

#[tokio::test]
async fn official_chart_loads_the_settings_unshadowed_and_rolls_once_per_credential_change() {
    // The scenario's resource and target are both named like the chart's Deployment.
    assert_eq!(NAME, FULLNAME);
    let env = Scenario::start("om-chart", &[]).await;
    env.put_credentials("first-secret").await;
    helm_release("install", &env.ns).expect("helm install of OpenMetadata's chart");
    cluster::wait_rolled_out(&env.client, &env.ns, FULLNAME, DEFAULT_TIMEOUT).await;
    assert_eq!(
        env.replica_sets().await,
        1,
        "the chart's own first revision"
    );
    assert_eq!(env.template_hash().await, None);

    // The operator's first render: exactly one rollout, onto the hash the status reports.
    env.create_config(confidential_spec())
        .await
        .expect("create OidcSsoConfig");
    let first = env
        .wait_ready()
        .await
        .status
        .and_then(|s| s.config_hash)
        .expect("status.configHash");
    assert_eq!(
        env.replica_sets().await,
        2,
        "one rollout for the first render"
    );
    assert_eq!(env.template_hash().await.as_deref(), Some(first.as_str()));
    let findings = live_findings(&env).await;
    assert!(
        findings.is_empty(),
        "the chart's live pod templates do not load the rendered settings as documented:\n{}",
        findings.join("\n")
    );

    // A rotated client secret: one more rollout, and the new value is what the pods load.
    env.put_credentials("second-secret").await;
    let second = env.wait_new_hash(&first).await;
    assert_eq!(
        env.replica_sets().await,
        3,
        "one rollout for one secret change"
    );
    assert_eq!(env.template_hash().await.as_deref(), Some(second.as_str()));
    assert!(
        env.auth_env("OIDC_CLIENT_SECRET")
            .await
            .contains("second-secret")
    );

    // A rotated JWT key pair: one more.
    env.request_key_rotation("om-chart-1").await;
    let third = env.wait_new_hash(&second).await;
    assert_eq!(
        env.replica_sets().await,
        4,
        "one rollout for one key rotation"
    );

    // helm upgrade with unchanged values: Helm's three-way patch leaves the operator's annotation
    // alone, so nothing rolls (and the operator has nothing to put back).
    helm_release("upgrade", &env.ns).expect("helm upgrade with the same values");
    cluster::wait_rolled_out(&env.client, &env.ns, FULLNAME, DEFAULT_TIMEOUT).await;
    cluster::assert_stays(
        "helm upgrade must not roll (ReplicaSets)",
        cluster::QUIET_WINDOW,
        4,
        || env.replica_sets(),
    )
    .await;
    assert_eq!(env.template_hash().await.as_deref(), Some(third.as_str()));
    let findings = live_findings(&env).await;
    assert!(findings.is_empty(), "{}", findings.join("\n"));
}
