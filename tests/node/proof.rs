//! The server proof on the real node, against the OpenMetadata stand-in (tests/node/standin.rs)
//! and a real PostgreSQL: `Ready` waits until every pod serves what was rendered; a 1.13 server
//! without the reset runs its database copy and says so, and the reset then proves it; rotations
//! with the reset end with every pod proven and one new ReplicaSet each; 2.1 needs no reset; a pod
//! that cannot read its key is named; and the proof's packets go only to the target pods.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::ensure;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{Patch, PatchParams, PostParams};
use oidc_sso_operator::crd::{OidcSsoConfig, TargetStatus};
use serde_json::{Value, json};

use crate::node;
use crate::standin::{self, EgressCount, Postgres, Server};
use crate::support::cluster::{self, DEFAULT_TIMEOUT, TestNamespace};
use crate::support::operator::{self as operator_support, Operator};
use crate::support::scenario::{NAME, Scenario, confidential_spec};
use crate::target::{Settled, check_settled};

/// The stand-in's replicas: two, so that "every pod" means more than one.
const REPLICAS: i32 = 2;
/// The user the operator runs as in the egress test (no other process on this host uses it).
const OPERATOR_UID: u32 = 65533;

/// A namespace with the operator (proof on) watching it, and the suite's database with no server
/// started on it yet.
pub(crate) struct World {
    pub(crate) s: Scenario,
    db: Postgres,
    _ns: TestNamespace,
}

impl World {
    async fn start(prefix: &str, uid: Option<u32>) -> Self {
        Self::start_with(prefix, uid, &[]).await
    }

    /// [`World::start`] with more operator arguments.
    pub(crate) async fn start_with(prefix: &str, uid: Option<u32>, args: &[&str]) -> Self {
        let client = cluster::client().await;
        node::require_node(&client).await;
        operator_support::install_crd(&client).await;
        let db = Postgres::start().expect("PostgreSQL for the stand-in");
        db.forget_server_state()
            .expect("a database no server has started on");
        let ns = TestNamespace::create(&client, prefix)
            .await
            .expect("namespace");
        let mut all = vec!["--server-proof=true"];
        all.extend(args);
        let op = Operator::start_as(cluster::require_kubeconfig(), ns.name(), &all, uid).await;
        let mut s = Scenario::new(&client, ns.name());
        s.op = Some(op);
        Self { s, db, _ns: ns }
    }

    pub(crate) async fn create_server(&self, version: &str, reset: bool, unreadable_keys: bool) {
        let d = standin::deployment(
            &Server {
                version,
                reset,
                unreadable_keys,
                db: &self.db,
            },
            REPLICAS,
        );
        self.s
            .deployments()
            .create(&PostParams::default(), &d)
            .await
            .expect("create the server Deployment");
    }

    pub(crate) async fn resource(&self) -> OidcSsoConfig {
        self.s.configs().get(NAME).await.expect("the resource")
    }

    /// Waits for `ServerConfirmed` with `status` and `reason` at the current generation.
    async fn wait_confirmed(&self, status: &str, reason: &str) -> OidcSsoConfig {
        self.s
            .wait_condition("ServerConfirmed", status, Some(reason))
            .await
    }

    pub(crate) async fn settled(&self) -> Settled {
        cluster::wait_for("the server to settle", DEFAULT_TIMEOUT, || {
            check_settled(&self.s)
        })
        .await
    }
}

/// The usual resource with every provider check off: the proof is what is tested here.
pub(crate) fn offline(spec: Value) -> Value {
    node::without_provider_checks(spec)
}

/// A public client `client_id`.
pub(crate) fn public_spec(client_id: &str) -> Value {
    let mut spec = offline(confidential_spec());
    let provider = spec["provider"].as_object_mut().unwrap();
    provider.remove("credentialsSecretRef");
    provider.insert("clientType".into(), json!("Public"));
    provider.insert("clientId".into(), json!(client_id));
    spec
}

pub(crate) fn condition<'a>(cr: &'a OidcSsoConfig, type_: &str) -> &'a Condition {
    cr.status
        .as_ref()
        .and_then(|s| s.conditions.iter().find(|c| c.type_ == type_))
        .unwrap_or_else(|| panic!("no {type_} condition"))
}

fn target(cr: &OidcSsoConfig) -> &TargetStatus {
    cr.status
        .as_ref()
        .and_then(|s| s.targets.first())
        .expect("a target in status")
}

/// Every pod proven, the release the pods run in status, and Ready.
pub(crate) fn assert_proven(cr: &OidcSsoConfig, version: &str) {
    assert_eq!(condition(cr, "ServerConfirmed").status, "True");
    assert_eq!(condition(cr, "Ready").status, "True");
    let t = target(cr);
    assert_eq!(t.proven.as_deref(), Some("2/2"), "{t:?}");
    assert_eq!(t.server_version.as_deref(), Some(version), "{t:?}");
}

/// One more ReplicaSet than `before`, and no second template change within a quiet window.
pub(crate) async fn rolled_once_more(w: &World, before: &Settled) -> Settled {
    let after = w.settled().await;
    assert_eq!(
        (after.generation, after.replica_sets.len()),
        (before.generation + 1, before.replica_sets.len() + 1),
        "exactly one template change and one new ReplicaSet: {:?} -> {:?}",
        before.replica_sets,
        after.replica_sets
    );
    crate::target::assert_no_second_rollout(&w.s, &after).await;
    after
}

#[tokio::test]
async fn a_113_server_without_the_reset_runs_its_database_copy_until_the_reset_is_added() {
    let w = World::start("node-proof-db", None).await;
    w.create_server("1.13.1", false, false).await;
    w.s.create_config(public_spec("om-first"))
        .await
        .expect("create the resource");
    // The database is empty: the first pods seed it from the rendering, and prove it.
    w.wait_confirmed("True", "Confirmed").await;
    let cr = w.s.wait_ready().await;
    assert_proven(&cr, "1.13.1");
    let before = w.settled().await;

    // A changed client id rolls the pods once; the database copy wins and the proof says so.
    w.s.apply_config(public_spec("om-second")).await;
    w.s.wait_hash_change(&before.hash).await;
    let cr = w.wait_confirmed("False", "DatabaseOverrides").await;
    let confirmed = condition(&cr, "ServerConfirmed");
    assert!(
        confirmed.message.contains("clientId")
            && confirmed.message.contains("remove-security-config"),
        "{}",
        confirmed.message
    );
    assert!(
        !confirmed.message.contains("om-first") && !confirmed.message.contains("om-second"),
        "the message names the field, never a value: {}",
        confirmed.message
    );
    let ready = condition(&cr, "Ready");
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("False", "DatabaseOverrides")
    );
    let after = rolled_once_more(&w, &before).await;
    assert_eq!(target(&cr).proven.as_deref(), Some("0/2"));

    // The reset in the pod template (a change of the user's, which rolls it): every pod proven.
    w.s.deployments()
        .patch(
            NAME,
            &PatchParams::default(),
            &Patch::<Value>::Json(serde_json::from_value(standin::add_reset_patch(&w.db)).unwrap()),
        )
        .await
        .expect("add the reset init container");
    w.wait_confirmed("True", "Confirmed").await;
    let cr = w.s.wait_ready().await;
    assert_proven(&cr, "1.13.1");
    rolled_once_more(&w, &after).await;
}

#[tokio::test]
async fn with_the_reset_every_rotation_ends_with_every_pod_proven_and_asks_only_the_pods() {
    let w = World::start("node-proof-rotate", Some(OPERATOR_UID)).await;
    w.create_server("1.13.1", true, false).await;
    w.s.put_client("om-a", "first-secret").await;
    w.s.create_config(offline(confidential_spec()))
        .await
        .expect("create the resource");
    let cr = w.s.wait_ready().await;
    assert_proven(&cr, "1.13.1");
    let message = &condition(&cr, "ServerConfirmed").message;
    assert!(message.contains("confidential client"), "{message}");
    let mut settled = w.settled().await;

    // The client secret, then the client id, then the key pair: one rollout each, every pod
    // proven after each.
    w.s.put_client("om-a", "second-secret").await;
    settled = proven_after_one_rollout(&w, &settled).await;
    w.s.put_client("om-b", "second-secret").await;
    settled = proven_after_one_rollout(&w, &settled).await;
    let old_key = key_id(&w.resource().await);
    w.s.request_key_rotation("1").await;
    settled = proven_after_one_rollout(&w, &settled).await;
    let new_key = key_id(&w.resource().await);
    assert_ne!(old_key, new_key);
    for pod in &settled.pods {
        let ip = node::pod_ip(pod).unwrap();
        let jwks: Value = serde_json::from_slice(
            &node::get(&ip, standin::PORT, "/api/v1/system/config/jwks")
                .await
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            jwks["keys"][0]["kid"],
            json!(new_key),
            "{}",
            node::name(pod)
        );
    }

    // What the proof connects to: a restarted operator proves the running pods again; its
    // packets go to loopback (the apiserver) and to these pods' IPs, nowhere else.
    let ips: Vec<String> = settled
        .pods
        .iter()
        .map(|p| node::pod_ip(p).unwrap())
        .collect();
    let count = EgressCount::start(OPERATOR_UID, &ips).expect("count the operator's packets");
    let mut w = w;
    w.s.op().restart().await;
    let per_pod = cluster::wait_for(
        "the restarted operator to ask every pod",
        DEFAULT_TIMEOUT,
        || {
            let count = &count;
            async move {
                let (_, pods, _) = count.read()?;
                ensure!(pods.iter().all(|n| *n > 0), "packets per pod: {pods:?}");
                Ok(pods)
            }
        },
    )
    .await;
    w.s.op().wait_idle().await;
    let (loopback, pods, other) = count.read().expect("the counts");
    eprintln!(
        "operator packets: loopback {loopback}, target pods {pods:?} (first {per_pod:?}), other {other}"
    );
    assert!(loopback > 0, "the apiserver is on loopback");
    assert_eq!(
        other, 0,
        "packets to an address that is neither loopback nor a target pod"
    );
    assert_proven(&w.resource().await, "1.13.1");
}

async fn proven_after_one_rollout(w: &World, before: &Settled) -> Settled {
    w.s.wait_hash_change(&before.hash).await;
    let cr = w.s.wait_ready().await;
    assert_proven(&cr, "1.13.1");
    rolled_once_more(w, before).await
}

pub(crate) fn key_id(cr: &OidcSsoConfig) -> String {
    cr.status
        .as_ref()
        .and_then(|s| s.keys.as_ref())
        .and_then(|k| k.key_id.clone())
        .expect("a key id in status")
}

#[tokio::test]
async fn a_21_server_applies_a_changed_client_without_the_reset() {
    let w = World::start("node-proof-21", None).await;
    w.create_server("2.1.0", false, false).await;
    w.s.create_config(public_spec("om-first"))
        .await
        .expect("create the resource");
    let cr = w.s.wait_ready().await;
    assert_proven(&cr, "2.1.0");
    let before = w.settled().await;
    w.s.apply_config(public_spec("om-second")).await;
    w.s.wait_hash_change(&before.hash).await;
    let cr = w.s.wait_ready().await;
    assert_proven(&cr, "2.1.0");
    rolled_once_more(&w, &before).await;
}

#[tokio::test]
async fn a_pod_that_cannot_read_its_key_is_named_and_ready_stays_false() {
    let w = World::start("node-proof-key", None).await;
    w.create_server("1.9.4", false, true).await;
    w.s.create_config(public_spec("om"))
        .await
        .expect("create the resource");
    let cr = w.wait_confirmed("False", "KeyNotLoaded").await;
    let ready = condition(&cr, "Ready");
    assert_eq!(
        (ready.status.as_str(), ready.reason.as_str()),
        ("False", "KeyNotLoaded")
    );
    assert!(
        condition(&cr, "ServerConfirmed")
            .message
            .contains("keyMountPath"),
        "the message names the fix"
    );
    let names: BTreeSet<String> = w.settled().await.pods.iter().map(node::name).collect();
    assert_eq!(names.len(), 2);
}

/// Benchmark (issue #25 item 5; prints, asserts no time): from a credential change to every pod
/// proven, next to `kubectl rollout restart` of the same Deployment to every pod Ready, in one
/// run on this node. Both replace both pods the same way (the Deployment's rolling update); the
/// difference is the operator's part: noticing the change, rendering, patching, and the proof.
#[tokio::test]
async fn bench_a_credential_change_to_every_pod_proven_next_to_a_bare_rollout() {
    let w = World::start("node-proof-bench", None).await;
    w.create_server("1.13.1", true, false).await;
    w.s.put_client("om-a", "first-secret").await;
    w.s.create_config(offline(confidential_spec()))
        .await
        .expect("create the resource");
    w.s.wait_ready().await;
    let before = w.settled().await;

    let started = std::time::Instant::now();
    w.s.put_client("om-a", "second-secret").await;
    w.s.wait_hash_change(&before.hash).await;
    let cr = w.wait_confirmed("True", "Confirmed").await;
    let proven = started.elapsed();
    assert_proven(&cr, "1.13.1");
    let after = rolled_once_more(&w, &before).await;

    let started = std::time::Instant::now();
    cluster::kubectl(&[
        "rollout",
        "restart",
        &format!("deployment/{NAME}"),
        "-n",
        &w.s.ns,
    ])
    .expect("kubectl rollout restart");
    cluster::wait_for("the bare rollout", DEFAULT_TIMEOUT, || async {
        let now = check_settled(&w.s).await?;
        ensure!(
            now.replica_sets.len() > after.replica_sets.len(),
            "not started"
        );
        Ok(())
    })
    .await;
    let bare = started.elapsed();
    let ratio = proven.as_secs_f64() / bare.as_secs_f64();
    let target = (bare.as_secs_f64() * 1.1).max(bare.as_secs_f64() + 2.0);
    eprintln!(
        "BENCH proof: credential change to every pod proven {:.2} s; kubectl rollout restart to \
         every pod Ready {:.2} s; ratio {ratio:.2}; target at most {target:.2} s ({})",
        proven.as_secs_f64(),
        bare.as_secs_f64(),
        if proven.as_secs_f64() <= target {
            "met"
        } else {
            "missed"
        }
    );
}

/// A bot token of the server's current key: read from the keys Secret the pods mount (the test
/// plays the server's `JWTTokenGenerator`), never printed.
async fn token_of_current_key(w: &World) -> (String, String) {
    let private =
        w.s.secrets()
            .get(&format!("{NAME}-jwt-keys"))
            .await
            .expect("the keys Secret")
            .data
            .and_then(|d| d.get("private_key.der").cloned())
            .expect("private_key.der");
    let keys = oidc_sso_operator::keys::KeyMaterial::from_private_key(&private.0, None)
        .expect("the stored key pair");
    let cr = w.resource().await;
    let kid = key_id(&cr);
    let b64 = |v: Value| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let input = format!(
        "{}.{}",
        b64(json!({"alg": "RS256", "kid": kid})),
        b64(json!({"sub": "ingestion-bot", "isBot": true}))
    );
    let signature = keys.sign_rs256(input.as_bytes()).expect("sign");
    let token = {
        use base64::Engine as _;
        format!(
            "{input}.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature)
        )
    };
    (token, kid)
}

/// The status of an authenticated request with `token` to the pod at `ip` (the stand-in's
/// JwtFilter: own key, then each public key URL, the retired keys' `file:` URL first).
pub(crate) async fn login_status(ip: &str, token: &str) -> u16 {
    node::http()
        .get(format!(
            "http://{ip}:{}/api/v1/users/loggedInUser",
            standin::PORT
        ))
        .bearer_auth(token)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// Issue #26: a scheduled rotation keeps the previous key's tokens working until its grace
/// window ends, and then the retired-keys file changes in the running pods without a rollout.
#[tokio::test]
async fn a_scheduled_rotation_keeps_the_previous_keys_tokens_working_until_the_window_ends() {
    let w = World::start("node-proof-grace", None).await;
    w.create_server("1.9.4", false, false).await;
    let mut spec = public_spec("om");
    spec["jwt"] = json!({"rotation": {"every": "1h", "gracePeriod": "90s"}});
    w.s.create_config(spec).await.expect("create the resource");
    w.s.wait_ready().await;
    let before = w.settled().await;
    let (token, old_kid) = token_of_current_key(&w).await;
    for pod in &before.pods {
        assert_eq!(login_status(&node::pod_ip(pod).unwrap(), &token).await, 200);
    }

    // The rotation falls due: the key was made two hours ago (as the keys Secret records it).
    let two_hours_ago = (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(2)).to_string();
    w.s.secrets()
        .patch(
            &format!("{NAME}-jwt-keys"),
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {
                oidc_sso_operator::names::annotations::KEY_CREATED_AT: two_hours_ago,
            }}})),
        )
        .await
        .expect("age the key");
    w.s.wait_hash_change(&before.hash).await;
    let cr = w.s.wait_ready().await;
    assert_proven(&cr, "1.9.4");
    assert_ne!(key_id(&cr), old_kid);
    let retired = &cr.status.as_ref().unwrap().keys.as_ref().unwrap().retired;
    assert_eq!(retired.len(), 1);
    assert_eq!(retired[0].key_id, old_kid);
    let after = rolled_once_more(&w, &before).await;
    let ips: Vec<String> = after
        .pods
        .iter()
        .map(|p| node::pod_ip(p).unwrap())
        .collect();

    // In the window: the new pods accept the old key's token (asked on the first pod only, so
    // the second has not cached the key).
    assert_eq!(login_status(&ips[0], &token).await, 200);

    // The window ends: the operator takes the key out of the file (Events before and after) and
    // the kubelet updates the mounted file in place; the second pod then rejects the token.
    w.s.wait_event("RetiredKeyExpiring", "Warning").await;
    cluster::wait_for(
        "the retired key to leave the status",
        Duration::from_secs(180),
        || async {
            let cr = w.resource().await;
            let left = cr.status.and_then(|s| s.keys).map(|k| k.retired.len());
            ensure!(left == Some(0), "retired keys: {left:?}");
            Ok(())
        },
    )
    .await;
    w.s.wait_event("RetiredKeyExpired", "Normal").await;
    // The kubelet updates the mounted file within a sync period. Asked before that, the second
    // pod would find the key in the file and keep it a day (as the first did), so it is asked
    // once the file on the node (this host) no longer holds the key: then it rejects the token.
    let file = node::secret_volume_file(&after.pods[1], "jwt-keys", "retired_jwks.json");
    cluster::wait_for(
        "the kubelet to update the second pod's retired_jwks.json",
        Duration::from_secs(180),
        || async {
            let text = std::fs::read_to_string(&file)?;
            ensure!(
                !text.contains(&old_kid),
                "the file still holds the retired key"
            );
            Ok(())
        },
    )
    .await;
    assert_eq!(login_status(&ips[1], &token).await, 401);
    // The first pod found the key in the window and keeps it (MultiUrlJwkProvider caches a key it
    // found for 24 hours): said in docs/rotating-keys.md.
    assert_eq!(login_status(&ips[0], &token).await, 200);
    // Neither pod restarted, and nothing rolled.
    let now = check_settled(&w.s).await.expect("still settled");
    assert_eq!(
        (now.generation, now.replica_sets.len()),
        (after.generation, after.replica_sets.len())
    );
    let names: Vec<String> = now.pods.iter().map(node::name).collect();
    let names_after: Vec<String> = after.pods.iter().map(node::name).collect();
    assert_eq!(names, names_after);
    for pod in &now.pods {
        assert_eq!(node::first_container_status(pod).restart_count, 0);
    }
}

/// The proof asks a StatefulSet's pods as it asks a Deployment's.
#[tokio::test]
async fn a_stateful_set_target_is_proven_pod_by_pod() {
    let w = World::start("node-proof-sts", None).await;
    let set = standin::stateful_set(
        &Server {
            version: "2.1.0",
            reset: false,
            unreadable_keys: false,
            db: &w.db,
        },
        REPLICAS,
    );
    w.s.api::<k8s_openapi::api::apps::v1::StatefulSet>()
        .create(&PostParams::default(), &set)
        .await
        .expect("create the StatefulSet");
    let mut spec = public_spec("om");
    spec["targets"] = json!([{"kind": "StatefulSet", "name": NAME}]);
    w.s.create_config(spec).await.expect("create the resource");
    let cr = w.wait_confirmed("True", "Confirmed").await;
    let t = target(&cr);
    assert_eq!(t.proven.as_deref(), Some("2/2"), "{t:?}");
    assert_eq!(t.server_version.as_deref(), Some("2.1.0"));
    w.s.wait_condition("Ready", "True", None).await;
}
