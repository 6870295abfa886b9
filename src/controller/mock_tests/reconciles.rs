//! Whole reconciles against the fake apiserver: which writes each main scenario makes, in which
//! order, and that a steady state makes none.

use std::sync::Arc;

use http::Method;
use k8s_openapi::api::core::v1::Secret;
use kube::runtime::reflector::{self, store::Writer};
use kube::runtime::watcher;
use serde_json::{Value, json};

use super::fake::{Call, Fake};
use crate::controller::reconcile::reconcile;
use crate::controller::watch::cache_form::to_cache_form;
use crate::controller::{Context, Error, Settings};
use crate::crd::OidcSsoConfig;

const CREDS: &str = "/api/v1/namespaces/data/secrets/om-oidc-client";
const KEYS: &str = "/api/v1/namespaces/data/secrets/om-jwt-keys";
const AUTH_ENV: &str = "/api/v1/namespaces/data/secrets/om-auth-env";
const INGESTION: &str = "/api/v1/namespaces/data/secrets/om-ingestion";
const SERVER: &str = "/apis/apps/v1/namespaces/data/deployments/openmetadata";
const RESOURCE: &str = "/apis/oidcsso.io/v1alpha1/namespaces/data/oidcssoconfigs/om";

/// The fake apiserver, the controller context over it, and the writer of its owned-Secret cache.
struct World {
    fake: Fake,
    ctx: Arc<Context>,
    owned: Writer<Secret>,
}

impl World {
    fn new() -> Self {
        let fake = Fake::default();
        let (store, owned) = reflector::store::<Secret>();
        let (resources, _) = reflector::store::<OidcSsoConfig>();
        let mut settings = Settings::default();
        // The provider-down test points at a closed port on loopback.
        settings.provider_check.addresses.allowed = vec!["127.0.0.1".parse().expect("network")];
        // These calls are about writes and rollouts; the proof (its own unit tests, the node
        // suite) would list pods and ask them at their IPs.
        settings.server_proof = false;
        let mut ctx = Context::new(
            fake.client(),
            settings,
            store,
            resources,
            Arc::new(crate::metrics::Metrics::default()),
        );
        // Time moves only when a test moves it.
        ctx.clock = crate::controller::clock::Clock::manual();
        Self {
            fake,
            ctx: Arc::new(ctx),
            owned,
        }
    }

    /// A world with credentials, the server and a new resource; the copy of the resource that
    /// the store holds before any status write of ours came back (resourceVersion 1).
    fn with_new_resource() -> (Self, OidcSsoConfig) {
        let w = Self::new();
        w.put_credentials("first-secret");
        w.put_server();
        w.fake.put(RESOURCE, resource(unverified_provider()));
        let mut stale: OidcSsoConfig =
            serde_json::from_value(w.fake.get(RESOURCE).expect("resource")).expect("resource");
        stale.metadata.resource_version = Some("1".into());
        (w, stale)
    }

    fn put_credentials(&self, secret: &str) {
        self.fake.put(
            CREDS,
            json!({"apiVersion": "v1", "kind": "Secret",
                   "metadata": {"name": "om-oidc-client", "namespace": "data"},
                   "data": {"clientId": b64("openmetadata"), "clientSecret": b64(secret)}}),
        );
    }

    fn put_server(&self) {
        self.fake.put(
            SERVER,
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                   "metadata": {"name": "openmetadata", "namespace": "data", "uid": "dep-uid",
                                "generation": 1},
                   "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "om"}},
                            "template": {"metadata": {"labels": {"app": "om"}}, "spec": {
                                "containers": [{"name": "server", "image": "om",
                                    "envFrom": [{"secretRef": {"name": "om-auth-env"}}],
                                    "volumeMounts": [{"name": "jwt",
                                        "mountPath": "/etc/openmetadata/jwtkeys"}]}],
                                "volumes": [{"name": "jwt",
                                    "secret": {"secretName": "om-jwt-keys"}}]}}},
                   "status": rolled_out(1)}),
        );
    }

    /// The Deployment controller's part: the patched template rolled out.
    fn finish_rollout(&self) {
        let mut d = self.fake.get(SERVER).expect("server");
        let generation = d["metadata"]["generation"].as_i64().unwrap_or(1) + 1;
        d["metadata"]["generation"] = json!(generation);
        d["status"] = rolled_out(generation);
        self.fake.put(SERVER, d);
    }

    /// The watch's part: the owned Secrets as stored reach the cache.
    fn sync_owned_cache(&mut self) {
        for path in [KEYS, AUTH_ENV, INGESTION] {
            if let Some(stored) = self.fake.get(path) {
                let mut secret: Secret = serde_json::from_value(stored).expect("Secret");
                to_cache_form(&mut secret);
                self.owned
                    .apply_watcher_event(&watcher::Event::Apply(secret));
            }
        }
    }

    /// Runs one reconcile of the resource as stored, and returns the calls it made.
    async fn reconcile(&self) -> Vec<Call> {
        let (result, calls) = self.try_reconcile().await;
        result.expect("reconcile");
        calls
    }

    async fn try_reconcile(&self) -> (Result<kube::runtime::controller::Action, Error>, Vec<Call>) {
        self.fake.take_calls();
        let resource: OidcSsoConfig =
            serde_json::from_value(self.fake.get(RESOURCE).expect("resource")).expect("resource");
        let result = reconcile(Arc::new(resource), self.ctx.clone()).await;
        (result, self.fake.take_calls())
    }

    fn status(&self) -> Value {
        self.fake.get(RESOURCE).expect("resource")["status"].clone()
    }
}

fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn rolled_out(generation: i64) -> Value {
    json!({"observedGeneration": generation, "replicas": 1, "updatedReplicas": 1,
           "readyReplicas": 1, "availableReplicas": 1})
}

fn resource(provider: Value) -> Value {
    crate::fixtures::Resource::public()
        .uid("cr-uid")
        .generation(1)
        .set("/spec/provider", provider)
        .rolling("openmetadata")
        .json()
}

/// A confidential client whose provider is not fetched (its JWKS URL is configured).
fn unverified_provider() -> Value {
    json!({"issuer": "https://idp.example.com/realms/data",
           "jwksUrl": "https://idp.example.com/realms/data/certs",
           "clientType": "Confidential", "credentialsSecretRef": {"name": "om-oidc-client"},
           "verify": {"discovery": false}})
}

fn writes(calls: &[Call]) -> Vec<(Method, &str)> {
    calls
        .iter()
        .filter(|c| c.is_write() && !c.path.contains("/events"))
        .map(|c| (c.method.clone(), c.path.as_str()))
        .collect()
}

fn condition<'a>(status: &'a Value, type_: &str) -> &'a Value {
    status["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == type_))
        .unwrap_or(&Value::Null)
}

fn events(calls: &[Call]) -> Vec<String> {
    calls
        .iter()
        // A repeated Event is sent as a PATCH of its series.
        .filter(|c| c.is_write() && c.path.contains("/events"))
        .map(|c| c.body["reason"].as_str().unwrap_or("(series)").to_string())
        .collect()
}

/// A world where the resource was applied, rolled out and reported Ready.
async fn reconciled_world() -> World {
    let mut w = World::new();
    w.put_credentials("first-secret");
    w.put_server();
    w.fake.put(RESOURCE, resource(unverified_provider()));
    w.reconcile().await;
    w.sync_owned_cache();
    w.finish_rollout();
    w.reconcile().await;
    w
}

#[tokio::test]
async fn the_first_apply_writes_keys_then_settings_then_rolls_then_reports() {
    let w = World::new();
    w.put_credentials("first-secret");
    w.put_server();
    w.fake.put(RESOURCE, resource(unverified_provider()));
    let calls = w.reconcile().await;
    let written = writes(&calls);
    let position = |path: &str| {
        written
            .iter()
            .position(|(_, p)| *p == path)
            .unwrap_or_else(|| panic!("{path} not written: {written:?}"))
    };
    assert!(position(KEYS) < position(AUTH_ENV), "{written:?}");
    assert!(position(AUTH_ENV) < position(SERVER), "{written:?}");
    assert!(position(INGESTION) < position(SERVER), "{written:?}");
    assert_eq!(
        written.last(),
        Some(&(Method::PATCH, format!("{RESOURCE}/status").as_str()))
    );
    assert_eq!(written.len(), 5, "{written:?}");
    // Each owned Secret is read once before it is created (none is in the cache yet): the keys
    // Secret's fresh read before generating serves the apply step too.
    for path in [KEYS, AUTH_ENV, INGESTION] {
        let reads = calls
            .iter()
            .filter(|c| c.method == Method::GET && c.path == path)
            .count();
        assert_eq!(reads, 1, "{path}: {calls:?}");
    }
    for call in calls.iter().filter(|c| c.method == Method::PATCH) {
        assert!(
            call.query.contains("fieldManager=oidc-sso-operator"),
            "{call:?}"
        );
    }
    assert_eq!(events(&calls), ["KeysGenerated", "RolloutTriggered"]);
    let status = w.status();
    assert_eq!(condition(&status, "Ready")["status"], "False");
    assert_eq!(condition(&status, "Reconciling")["status"], "True");
    assert_eq!(
        condition(&status, "WorkloadsUpdated")["reason"],
        "RollingOut"
    );
}

#[tokio::test]
async fn a_status_the_store_has_not_seen_yet_is_not_written_again() {
    let (w, mut stale) = World::with_new_resource();
    let run = |r: OidcSsoConfig| reconcile(Arc::new(r), w.ctx.clone());
    run(stale.clone()).await.expect("first reconcile");
    let first = w.fake.take_calls();
    assert!(
        first.iter().any(|c| c.path.ends_with("/status")),
        "the first reconcile reports"
    );
    // The apiserver bumped the Deployment's generation; its controller has not acted yet.
    let mut d = w.fake.get(SERVER).expect("server");
    d["metadata"]["generation"] = json!(2);
    w.fake.put(SERVER, d);
    // An owned Secret's event triggers the next run while the store still has the old copy, a
    // second later: the status built on the store's copy would take its transition times anew.
    w.ctx.clock.advance(jiff::SignedDuration::from_secs(2));
    run(stale.clone()).await.expect("second reconcile");
    let second = w.fake.take_calls();
    let status_writes: Vec<&Call> = second
        .iter()
        .filter(|c| c.is_write() && c.path.ends_with("/status"))
        .collect();
    assert!(status_writes.is_empty(), "{status_writes:?}");
    assert_eq!(w.ctx.memory.sizes().0, 1);
    // Once the store has a newer copy, it is compared with that again.
    stale.metadata.resource_version = Some("2".into());
    run(stale).await.expect("third reconcile");
    assert!(
        w.fake
            .take_calls()
            .iter()
            .any(|c| c.is_write() && c.path.ends_with("/status")),
        "a store copy without the status gets it written"
    );
}

#[tokio::test]
async fn a_steady_state_makes_no_write_at_all() {
    let w = reconciled_world().await;
    assert_eq!(condition(&w.status(), "Ready")["status"], "True");
    let calls = w.reconcile().await;
    let written: Vec<&Call> = calls.iter().filter(|c| c.is_write()).collect();
    assert!(written.is_empty(), "{written:?}");
    // Only the referenced Secret and the target are read; the owned Secrets come from the cache.
    let mut read: Vec<&str> = calls.iter().map(|c| c.path.as_str()).collect();
    read.sort_unstable();
    assert_eq!(read, [CREDS, SERVER]);
}

#[tokio::test]
async fn a_credential_change_rewrites_the_settings_and_rolls_once() {
    let w = reconciled_world().await;
    let hash_before = w.status()["configHash"].clone();
    w.put_credentials("second-secret");
    let calls = w.reconcile().await;
    assert_eq!(
        writes(&calls),
        [
            (Method::PATCH, AUTH_ENV),
            (Method::PATCH, SERVER),
            (Method::PATCH, format!("{RESOURCE}/status").as_str()),
        ]
    );
    assert_ne!(w.status()["configHash"], hash_before);
    assert_eq!(events(&calls), ["RolloutTriggered"]);
}

#[tokio::test]
async fn a_missing_credentials_secret_waits_without_writing_anything_else() {
    let w = World::new();
    w.put_server();
    w.fake.put(RESOURCE, resource(unverified_provider()));
    let calls = w.reconcile().await;
    assert_eq!(
        writes(&calls),
        [(Method::PATCH, format!("{RESOURCE}/status").as_str())]
    );
    let status = w.status();
    let ready = condition(&status, "Ready");
    assert_eq!(ready["status"], "False");
    assert_eq!(ready["reason"], "CredentialsSecretNotFound");
    // Waiting for another object: in progress for kstatus, not stalled.
    assert_eq!(condition(&status, "Reconciling")["status"], "True");
    assert_eq!(condition(&status, "Stalled")["status"], "False");
    assert_eq!(events(&calls), ["CredentialsSecretNotFound"]);
    // Asked again, it neither writes nor repeats the Event.
    let again = w.reconcile().await;
    assert!(again.iter().all(|c| !c.is_write()), "{again:?}");
}

#[tokio::test]
async fn a_provider_that_is_down_holds_everything_and_says_so() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let w = World::new();
    w.put_credentials("first-secret");
    w.put_server();
    w.fake.put(
        RESOURCE,
        resource(
            json!({"issuer": format!("http://127.0.0.1:{port}"), "allowInsecureHttp": true,
                        "clientType": "Confidential",
                        "credentialsSecretRef": {"name": "om-oidc-client"}}),
        ),
    );
    let calls = w.reconcile().await;
    assert_eq!(
        writes(&calls),
        [(Method::PATCH, format!("{RESOURCE}/status").as_str())]
    );
    let status = w.status();
    assert_eq!(
        condition(&status, "ProviderVerified")["reason"],
        "Unreachable"
    );
    assert_eq!(
        condition(&status, "WorkloadsUpdated")["reason"],
        "RolloutHeld"
    );
    assert_eq!(condition(&status, "Reconciling")["status"], "True");
    assert_eq!(events(&calls), ["Unreachable"]);
    let server = w.fake.get(SERVER).expect("server");
    assert_eq!(
        server["spec"]["template"]["metadata"]["annotations"],
        Value::Null
    );
}

#[tokio::test]
async fn a_refused_read_is_reported_in_status_and_retried() {
    let w = World::new();
    w.put_credentials("first-secret");
    w.put_server();
    w.fake.put(RESOURCE, resource(unverified_provider()));
    w.fake.forbid(CREDS);
    let (result, calls) = w.try_reconcile().await;
    assert!(matches!(result, Err(Error::Fetch(_))), "{result:?}");
    assert_eq!(
        writes(&calls),
        [(Method::PATCH, format!("{RESOURCE}/status").as_str())]
    );
    let ready = condition(&w.status(), "Ready").clone();
    assert_eq!(ready["reason"], "ReadFailed");
    assert!(
        ready["message"]
            .as_str()
            .unwrap_or_default()
            .contains("forbidden"),
        "{ready}"
    );
    assert_eq!(condition(&w.status(), "Reconciling")["status"], "True");
}

#[tokio::test]
async fn a_provider_at_a_metadata_address_is_never_contacted() {
    let w = World::new();
    w.put_credentials("first-secret");
    w.put_server();
    // The address policy refuses it before any connection: no packet leaves this machine.
    w.fake.put(
        RESOURCE,
        resource(
            json!({"issuer": "http://169.254.169.254/latest", "allowInsecureHttp": true,
                        "clientType": "Confidential", "verify": {"clientCredentials": true},
                        "credentialsSecretRef": {"name": "om-oidc-client"}}),
        ),
    );
    let calls = w.reconcile().await;
    assert_eq!(
        writes(&calls),
        [(Method::PATCH, format!("{RESOURCE}/status").as_str())]
    );
    let status = w.status();
    let verified = condition(&status, "ProviderVerified");
    assert_eq!(verified["reason"], "AddressRefused");
    assert!(
        verified["message"]
            .as_str()
            .unwrap_or_default()
            .contains("link-local"),
        "{verified}"
    );
    assert_eq!(condition(&status, "Stalled")["status"], "True");
    assert_eq!(w.ctx.checker.stats().token_requests, 0);
}

#[tokio::test]
async fn the_targets_events_of_its_own_rollout_are_no_news_even_before_the_status_write() {
    use k8s_openapi::api::apps::v1::Deployment;

    use crate::controller::steps::rollout::workloads::deployment_state;
    use crate::controller::watch::memory::WatchMemory;
    use crate::controller::watch::target_mapper;
    use crate::crd::TargetKind;

    let (w, stale) = World::with_new_resource();
    // The status write fails: only what the run expected before patching is remembered.
    w.fake.forbid(&format!("{RESOURCE}/status"));
    let result = reconcile(Arc::new(stale.clone()), w.ctx.clone()).await;
    assert!(matches!(result, Err(Error::Status(_))), "{result:?}");
    let (store, mut writer) = reflector::store::<OidcSsoConfig>();
    writer.apply_watcher_event(&watcher::Event::Apply(stale));
    let deployment = |generation: i64, observed: i64| -> Deployment {
        let mut d = w.fake.get(SERVER).expect("server");
        d["metadata"]["generation"] = json!(generation);
        d["status"] = rolled_out(observed);
        serde_json::from_value(d).expect("Deployment")
    };
    let map = |memory: Arc<WatchMemory>, d: Deployment| {
        target_mapper(
            store.clone(),
            memory,
            TargetKind::Deployment,
            deployment_state,
        )(d)
        .len()
    };
    let memo = w.ctx.memory.clone();
    // The event of the patch itself: the new hash, the new generation not yet observed.
    assert_eq!(map(memo.clone(), deployment(2, 1)), 0);
    assert_eq!(
        map(Arc::default(), deployment(2, 1)),
        1,
        "news without the memo"
    );
    // The rollout's end is news.
    assert_eq!(map(memo, deployment(2, 2)), 1);
    // And the mapper kept what it saw of the target, for the next reconcile.
    assert_eq!(
        w.ctx
            .memory
            .seen_target(TargetKind::Deployment, "data", "openmetadata"),
        deployment_state(&deployment(2, 2))
    );
}

#[tokio::test]
async fn a_target_the_watch_delivered_is_not_read_again() {
    use crate::controller::steps::rollout::workloads::deployment_state;
    use crate::crd::TargetKind;

    let w = reconciled_world().await;
    let server: k8s_openapi::api::apps::v1::Deployment =
        serde_json::from_value(w.fake.get(SERVER).expect("server")).expect("Deployment");
    let (_, calls) = w.try_reconcile().await;
    assert!(
        calls.iter().any(|c| c.path == SERVER),
        "read while not kept"
    );
    w.ctx.memory.record_target(
        TargetKind::Deployment,
        "data",
        "openmetadata",
        deployment_state(&server),
    );
    let (result, calls) = w.try_reconcile().await;
    result.expect("reconcile");
    assert!(!calls.iter().any(|c| c.path == SERVER), "{calls:?}");
    assert_eq!(condition(&w.status(), "Ready")["status"], "True");
}
