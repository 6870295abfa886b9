//! End-to-end: the operator binary against the local control plane (etcd, kube-apiserver,
//! kube-controller-manager, kube-scheduler, kwok). Each test has its own namespace and its own
//! operator process watching only that namespace. Needs `make cluster-up`.

use crate::support::cluster;
use crate::support::scenario::{NAME, Scenario, confidential_spec};
use std::collections::BTreeMap;

use crate::support::cluster::{DEFAULT_TIMEOUT, QUIET_WINDOW, wait_for};
use anyhow::ensure;
use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;

#[tokio::test]
async fn renders_owned_secrets_rolls_once_and_reports_ready() {
    let env = Scenario::start("ctrl-ready", &[]).await;
    env.put_credentials("first-secret").await;
    env.create_server(2).await;
    assert_eq!(env.replica_sets().await, 1);
    let cr = env
        .create_config(confidential_spec())
        .await
        .expect("create OidcSsoConfig");
    let cr_uid = cr.uid().unwrap();
    let cr = env.wait_ready().await;
    let status = cr.status.unwrap();

    // The owned Secrets, their keys, owner and labels.
    for (name, keys) in [
        (
            format!("{NAME}-auth-env"),
            vec![
                "AUTHENTICATION_PROVIDER",
                "OIDC_CLIENT_SECRET",
                "JWT_KEY_ID",
                "RSA_PRIVATE_KEY_FILE_PATH",
            ],
        ),
        (
            format!("{NAME}-jwt-keys"),
            vec![
                "private_key.der",
                "public_key.der",
                "private_key.pem",
                "public_key.pem",
                "jwks.json",
                "key_id",
            ],
        ),
        (format!("{NAME}-ingestion"), vec!["workflowConfig.yaml"]),
    ] {
        let s = env.secrets().get(&name).await.expect("owned Secret exists");
        let data = s.data.clone().unwrap_or_default();
        for k in keys {
            assert!(data.contains_key(k), "{name} lacks {k}");
        }
        let owner = s
            .owner_references()
            .iter()
            .find(|o| o.controller == Some(true));
        if name.ends_with("-jwt-keys") {
            // Retained by default: the only copy of the key must outlive the resource.
            assert!(owner.is_none(), "{name} has an owner reference");
        } else {
            assert_eq!(owner.expect("controller ref").uid, cr_uid);
        }
        assert_eq!(
            s.labels()
                .get("app.kubernetes.io/managed-by")
                .map(String::as_str),
            Some("oidc-sso-operator")
        );
    }
    assert_eq!(
        env.secret_text(&format!("{NAME}-auth-env"), "OIDC_CLIENT_SECRET")
            .await,
        "\"first-secret\""
    );
    let key_id = status.keys.as_ref().and_then(|k| k.key_id.clone()).unwrap();
    assert_eq!(
        env.secret_text(&format!("{NAME}-auth-env"), "JWT_KEY_ID")
            .await,
        format!("\"{key_id}\"")
    );

    // Exactly one rollout, onto the hash the status reports, with every pod Ready.
    assert_eq!(env.replica_sets().await, 2, "exactly one rollout");
    assert_eq!(env.template_hash().await, status.config_hash);
    let pods = cluster::list_pods(&env.client, &env.ns, &format!("app={NAME}"))
        .await
        .unwrap();
    assert_eq!(pods.iter().filter(|p| cluster::is_pod_ready(p)).count(), 2);
    assert_eq!(status.rolled.as_deref(), Some("1/1"));

    // Turning ingestion off removes the ingestion Secret this resource rendered, and nothing rolls
    // (the server does not consume it).
    env.configs()
        .patch(
            NAME,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"ingestion": {"enabled": false}}})),
        )
        .await
        .unwrap();
    let secrets = env.secrets();
    wait_for(
        "the ingestion Secret to be removed",
        DEFAULT_TIMEOUT,
        || {
            let secrets = secrets.clone();
            async move {
                ensure!(
                    secrets
                        .get_opt(&format!("{NAME}-ingestion"))
                        .await?
                        .is_none(),
                    "still there"
                );
                Ok(())
            }
        },
    )
    .await;
    env.wait_ready().await;
    assert_eq!(
        env.replica_sets().await,
        2,
        "the server does not consume the ingestion config"
    );

    // What a user (or a CI job) runs.
    let out = cluster::kubectl(&[
        "-n",
        &env.ns,
        "wait",
        "--for=condition=Ready",
        &format!("oidcssoconfig/{NAME}"),
        "--timeout=60s",
    ])
    .expect("kubectl wait succeeds");
    assert!(out.contains("condition met"), "{out}");
}

#[tokio::test]
async fn secret_change_rolls_exactly_once_and_label_edits_or_restarts_do_not() {
    let mut env = Scenario::start("ctrl-change", &[]).await;
    env.put_credentials("first-secret").await;
    env.create_server(2).await;
    env.create_config(confidential_spec())
        .await
        .expect("create");
    let first = env.wait_ready().await.status.unwrap().config_hash.unwrap();
    assert_eq!(env.replica_sets().await, 2);

    // A rotated client secret: exactly one new ReplicaSet.
    env.put_credentials("second-secret").await;
    let api = env.configs();
    let second = wait_for("the config hash to change", DEFAULT_TIMEOUT, || {
        let api = api.clone();
        let first = first.clone();
        async move {
            let h = api
                .get(NAME)
                .await?
                .status
                .and_then(|s| s.config_hash)
                .unwrap_or_default();
            ensure!(h != first, "hash unchanged");
            Ok(h)
        }
    })
    .await;
    env.wait_ready().await;
    assert_eq!(
        env.replica_sets().await,
        3,
        "one rollout for one secret change"
    );
    assert_eq!(env.template_hash().await.as_deref(), Some(second.as_str()));

    // A label-only edit of the resource: reconciled, nothing rolled, no owned Secret rewritten.
    let auth_rv = env
        .secrets()
        .get(&format!("{NAME}-auth-env"))
        .await
        .unwrap()
        .resource_version();
    let before = env.op().idle_reconciles().await;
    env.configs()
        .patch(
            NAME,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"team": "data"}}})),
        )
        .await
        .unwrap();
    env.op().wait_reconciles_after(before, 1.0).await;
    cluster::assert_stays(
        "a label edit must not roll (ReplicaSets)",
        QUIET_WINDOW,
        3,
        || env.replica_sets(),
    )
    .await;
    assert_eq!(
        env.secrets()
            .get(&format!("{NAME}-auth-env"))
            .await
            .unwrap()
            .resource_version(),
        auth_rv
    );
    let owned = env
        .secrets()
        .get(&format!("{NAME}-auth-env"))
        .await
        .unwrap();
    assert!(
        !owned.labels().contains_key("team"),
        "the CR's labels are never copied to children"
    );

    // An operator restart: reconciles everything again, rolls nothing, writes nothing.
    env.op().restart().await;
    env.op().wait_reconciles_after(0.0, 1.0).await;
    cluster::assert_stays(
        "a restart must not roll (ReplicaSets)",
        QUIET_WINDOW,
        3,
        || env.replica_sets(),
    )
    .await;
    assert_eq!(
        env.secrets()
            .get(&format!("{NAME}-auth-env"))
            .await
            .unwrap()
            .resource_version(),
        auth_rv
    );
    assert_eq!(
        env.op().metric("oidc_sso_rollouts_triggered_total").await,
        0.0
    );
}

#[tokio::test]
async fn rotation_annotation_replaces_the_key_pair_and_rolls_once() {
    let mut env = Scenario::start("ctrl-rotate", &[]).await;
    env.put_credentials("s").await;
    env.create_server(1).await;
    env.create_config(confidential_spec())
        .await
        .expect("create");
    let old = env.wait_ready().await.status.unwrap().keys.unwrap();
    let old_id = old.key_id.unwrap();
    let old_private = env
        .secrets()
        .get(&format!("{NAME}-jwt-keys"))
        .await
        .unwrap()
        .data
        .unwrap()["private_key.der"]
        .clone();
    let rs = env.replica_sets().await;

    env.request_key_rotation("2026-11-28").await;
    let api = env.configs();
    let new_id = wait_for("a new key id", DEFAULT_TIMEOUT, || {
        let api = api.clone();
        let old_id = old_id.clone();
        async move {
            let id = api
                .get(NAME)
                .await?
                .status
                .and_then(|s| s.keys)
                .and_then(|k| k.key_id)
                .unwrap_or_default();
            ensure!(!id.is_empty() && id != old_id, "key id still {id}");
            Ok(id)
        }
    })
    .await;
    env.wait_ready().await;
    assert_eq!(
        env.replica_sets().await,
        rs + 1,
        "exactly one rollout for one rotation"
    );
    let keys = env
        .secrets()
        .get(&format!("{NAME}-jwt-keys"))
        .await
        .unwrap()
        .data
        .unwrap();
    assert_ne!(
        keys["private_key.der"], old_private,
        "the key pair changed with the id"
    );
    assert_eq!(String::from_utf8(keys["key_id"].0.clone()).unwrap(), new_id);
    let auth = env
        .secrets()
        .get(&format!("{NAME}-auth-env"))
        .await
        .unwrap()
        .data
        .unwrap();
    for (k, v) in &auth {
        assert!(
            !String::from_utf8_lossy(&v.0).contains(&old_id),
            "{k} still names the old key id"
        );
    }
    env.wait_event("KeysRotated", "Normal").await;

    // The same annotation value again changes nothing.
    let before = env.op().idle_reconciles().await;
    env.configs()
        .patch(
            NAME,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})),
        )
        .await
        .unwrap();
    env.op().wait_reconciles_after(before, 1.0).await;
    cluster::assert_stays("one rollout (ReplicaSets)", QUIET_WINDOW, rs + 1, || {
        env.replica_sets()
    })
    .await;
}

#[tokio::test]
async fn deleting_the_resource_keeps_the_keys_and_recreating_it_takes_them_up_again() {
    let env = Scenario::start("ctrl-delete", &[]).await;
    env.put_credentials("s").await;
    env.create_server(1).await;
    env.create_config(confidential_spec())
        .await
        .expect("create");
    let first = env.wait_ready().await.status.unwrap();
    let key_id = first.keys.unwrap().key_id.unwrap();
    let rs = env.replica_sets().await;

    env.configs()
        .delete(NAME, &DeleteParams::foreground())
        .await
        .unwrap();
    let secrets = env.secrets();
    let configs = env.configs();
    wait_for(
        "the settings and ingestion Secrets to be garbage-collected, then the resource",
        DEFAULT_TIMEOUT,
        || {
            let (secrets, configs) = (secrets.clone(), configs.clone());
            async move {
                // The foreground finalizer goes after the dependents: until then a re-create
                // would be refused as AlreadyExists.
                ensure!(
                    configs.get_opt(NAME).await?.is_none(),
                    "the resource is still there"
                );
                for suffix in ["auth-env", "ingestion"] {
                    ensure!(
                        secrets
                            .get_opt(&format!("{NAME}-{suffix}"))
                            .await?
                            .is_none(),
                        "{suffix} still there"
                    );
                }
                Ok(())
            }
        },
    )
    .await;
    let keys = env
        .secrets()
        .get_opt(&format!("{NAME}-jwt-keys"))
        .await
        .unwrap()
        .expect("the keys Secret is retained (spec.jwt.deletionPolicy defaults to Retain)");
    assert!(keys.metadata.owner_references.is_none());
    assert!(
        env.secrets()
            .get_opt("om-oidc-client")
            .await
            .unwrap()
            .is_some(),
        "the user's Secret stays"
    );
    assert!(
        env.deployments().get_opt(NAME).await.unwrap().is_some(),
        "the Deployment stays"
    );
    assert_eq!(
        env.replica_sets().await,
        rs,
        "deleting the resource does not roll the workload"
    );

    // Re-created (a GitOps re-sync, a reinstalled CRD): the same key, so no token is invalidated
    // and nothing rolls.
    env.create_config(confidential_spec())
        .await
        .expect("re-create");
    let again = env.wait_ready().await.status.unwrap();
    assert_eq!(again.keys.unwrap().key_id.unwrap(), key_id);
    assert_eq!(again.config_hash, first.config_hash);
    assert_eq!(env.replica_sets().await, rs, "nothing rolls");

    // With deletionPolicy Delete the keys go with the resource.
    let mut spec = confidential_spec();
    spec["jwt"] = json!({"deletionPolicy": "Delete"});
    env.apply_config(spec).await;
    let secrets = env.secrets();
    wait_for("the keys Secret to get an owner", DEFAULT_TIMEOUT, || {
        let secrets = secrets.clone();
        async move {
            let keys = secrets.get(&format!("{NAME}-jwt-keys")).await?;
            ensure!(keys.metadata.owner_references.is_some(), "no owner yet");
            Ok(())
        }
    })
    .await;
    env.configs()
        .delete(NAME, &DeleteParams::foreground())
        .await
        .unwrap();
    wait_for("the keys Secret to be collected", DEFAULT_TIMEOUT, || {
        let secrets = secrets.clone();
        async move {
            ensure!(
                secrets
                    .get_opt(&format!("{NAME}-jwt-keys"))
                    .await?
                    .is_none(),
                "still there"
            );
            Ok(())
        }
    })
    .await;
}

#[tokio::test]
async fn invalid_input_is_reported_without_partial_writes_and_recovers() {
    let env = Scenario::start("ctrl-invalid", &[]).await;
    env.create_server(1).await;

    // The schema rejects what it can see: a Confidential client without credentials.
    let mut bad = confidential_spec();
    bad["provider"]
        .as_object_mut()
        .unwrap()
        .remove("credentialsSecretRef");
    bad["provider"]["clientId"] = json!("x");
    let err = env
        .create_config(bad)
        .await
        .expect_err("the apiserver rejects it");
    assert!(err.to_string().contains("credentialsSecretRef"), "{err}");

    // A missing credentials Secret: a condition naming the field, an Event, nothing written.
    env.create_config(confidential_spec())
        .await
        .expect("create");
    let cr = env
        .wait_condition("Ready", "False", Some("CredentialsSecretNotFound"))
        .await;
    let ready = cr
        .status
        .as_ref()
        .unwrap()
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .unwrap()
        .clone();
    assert!(
        ready
            .message
            .contains("spec.provider.credentialsSecretRef.name"),
        "{}",
        ready.message
    );
    // A Secret that does not exist yet is waited for (kstatus: in progress), not a stall.
    let kstatus = |type_: &str| {
        cr.status
            .as_ref()
            .unwrap()
            .conditions
            .iter()
            .find(|c| c.type_ == type_)
            .unwrap()
            .status
            .clone()
    };
    assert_eq!(kstatus("Stalled"), "False");
    assert_eq!(kstatus("Reconciling"), "True");
    env.wait_event("CredentialsSecretNotFound", "Warning").await;
    for suffix in ["auth-env", "jwt-keys", "ingestion"] {
        assert!(
            env.secrets()
                .get_opt(&format!("{NAME}-{suffix}"))
                .await
                .unwrap()
                .is_none(),
            "no partial write ({suffix})"
        );
    }
    assert_eq!(env.replica_sets().await, 1, "nothing rolled");

    // Created later: recovers on its own, through the watch on referenced Secrets.
    env.put_credentials("late").await;
    let good = env.wait_ready().await.status.unwrap().config_hash;
    assert_eq!(env.replica_sets().await, 2);

    // A spec the schema accepts but validation refuses: the last good rendering stays in place.
    env.configs()
        .patch(
            NAME,
            &PatchParams::default(),
            &Patch::Merge(
                json!({"spec": {"authorizer": {"jwtPrincipalClaimsMapping": {"username": "sub"}}}}),
            ),
        )
        .await
        .unwrap();
    let cr = env
        .wait_condition("Ready", "False", Some("InvalidSpec"))
        .await;
    let msg = cr
        .status
        .as_ref()
        .unwrap()
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .unwrap()
        .message
        .clone();
    assert!(
        msg.contains("spec.authorizer.jwtPrincipalClaimsMapping"),
        "{msg}"
    );
    assert_eq!(
        env.template_hash().await,
        good,
        "the workload keeps the last good configuration"
    );
    assert_eq!(env.replica_sets().await, 2);
}

#[tokio::test]
async fn a_missing_target_is_reported_and_rolled_once_it_appears() {
    let mut env = Scenario::start("ctrl-target", &[]).await;
    env.put_credentials("s").await;
    env.create_config(confidential_spec())
        .await
        .expect("create");
    let cr = env
        .wait_condition("WorkloadsUpdated", "False", Some("TargetMissing"))
        .await;
    assert_eq!(
        cr.status.unwrap().targets[0].phase,
        oidc_sso_operator::crd::TargetPhase::Missing
    );
    env.create_server(1).await;
    let cr = env.wait_ready().await;
    assert_eq!(env.template_hash().await, cr.status.unwrap().config_hash);
    // One template patch. Its ReplicaSets are 2, or 1 when the patch reached the new Deployment
    // before the Deployment controller's first sync did.
    assert_eq!(
        env.op().metric("oidc_sso_rollouts_triggered_total").await,
        1.0,
        "rolled once when it appeared"
    );
    assert!(env.replica_sets().await <= 2);
}

#[tokio::test]
async fn a_canary_secret_never_reaches_logs_events_status_or_annotations() {
    let mut env = Scenario::start("ctrl-canary", &[]).await;
    const CANARY_1: &str = "CANARY-7f3a9c-first";
    const CANARY_2: &str = "CANARY-7f3a9c-second";
    env.create_server(1).await;
    // First a credentials document that is broken around the canary: the error must not quote it.
    let broken: Secret = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "om-oidc-client"},
        "stringData": {"credentials.json": format!("{{\"web\": {{\"client_id\": \"om\", \"client_secret\": {CANARY_1} }}}}")},
    }))
    .unwrap();
    env.secrets()
        .create(&PostParams::default(), &broken)
        .await
        .unwrap();
    let mut spec = confidential_spec();
    spec["provider"]["credentialsSecretRef"] =
        json!({"name": "om-oidc-client", "jsonKey": "credentials.json"});
    env.create_config(spec).await.expect("create");
    env.wait_condition("Ready", "False", Some("InvalidCredentials"))
        .await;

    // Fixed, then rotated: both values go through reconciles, rollouts and Events.
    let fixed = |secret: &str| {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "om-oidc-client"},
        "stringData": {"credentials.json": json!({"web": {"client_id": "om", "client_secret": secret}}).to_string()}})
    };
    env.secrets()
        .patch(
            "om-oidc-client",
            &PatchParams::apply("e2e-test").force(),
            &Patch::Apply(fixed(CANARY_1)),
        )
        .await
        .unwrap();
    env.wait_ready().await;
    env.secrets()
        .patch(
            "om-oidc-client",
            &PatchParams::apply("e2e-test").force(),
            &Patch::Apply(fixed(CANARY_2)),
        )
        .await
        .unwrap();
    let api = env.configs();
    wait_for(
        "the rotated secret to be rendered",
        DEFAULT_TIMEOUT,
        || async {
            let auth = env
                .secret_text(&format!("{NAME}-auth-env"), "OIDC_CLIENT_SECRET")
                .await;
            ensure!(auth.contains(CANARY_2), "not yet");
            Ok(())
        },
    )
    .await;
    env.wait_ready().await;
    // Every reconcile's Events published before they are searched.
    env.op().wait_idle().await;

    let mut haystacks: BTreeMap<String, String> = BTreeMap::new();
    haystacks.insert("operator logs".into(), env.op().logs());
    haystacks.insert(
        "events".into(),
        serde_json::to_string(&env.events().await).unwrap(),
    );
    haystacks.insert(
        "status".into(),
        serde_json::to_string(&api.get(NAME).await.unwrap().status).unwrap(),
    );
    let d = env.deployments().get(NAME).await.unwrap();
    haystacks.insert(
        "deployment metadata".into(),
        serde_json::to_string(&(d.metadata.clone(), d.spec.template.metadata.clone())).unwrap(),
    );
    for s in env.secrets().list(&Default::default()).await.unwrap() {
        haystacks.insert(
            format!("Secret {} metadata", s.name_any()),
            serde_json::to_string(&s.metadata).unwrap(),
        );
    }
    for (what, text) in &haystacks {
        for canary in [CANARY_1, CANARY_2] {
            assert!(!text.contains(canary), "{what} contains the secret value");
        }
    }
    assert!(
        env.op().logs().contains("rollout triggered"),
        "the logs were captured"
    );
}

#[tokio::test]
async fn a_setting_the_pods_would_never_see_is_reported_by_name_and_never_by_value() {
    use k8s_openapi::api::core::v1::EnvVar;
    let env = Scenario::start("ctrl-shadow", &[]).await;
    env.put_credentials("s").await;
    let mut d = cluster::openmetadata_like_deployment(NAME, NAME, 1);
    d.spec.template.spec.as_mut().unwrap().containers[0].env = Some(vec![EnvVar {
        name: "OIDC_CLIENT_ID".into(),
        value: Some("value-never-in-status".into()),
        ..Default::default()
    }]);
    env.deployments()
        .create(&PostParams::default(), &d)
        .await
        .expect("create");
    env.create_config(confidential_spec())
        .await
        .expect("create");
    let cr = env
        .wait_condition("SettingsLoaded", "False", Some("SettingsShadowed"))
        .await;
    let message = cr
        .status
        .unwrap()
        .conditions
        .into_iter()
        .find(|c| c.type_ == "SettingsLoaded")
        .unwrap()
        .message;
    assert!(
        message.contains("OIDC_CLIENT_ID") && message.contains("container app"),
        "{message}"
    );
    assert!(!message.contains("value-never-in-status"), "{message}");
    env.wait_event("SettingsShadowed", "Warning").await;
    // Reported, not blocking: the rollout still happens.
    env.wait_ready().await;
}
