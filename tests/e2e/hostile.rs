//! The operator in a shared cluster, played as an attacker who may only create `OidcSsoConfig`s
//! in one namespace (plus `get` on one Secret and `patch` on one Deployment of their own). The
//! operator runs as its chart's ServiceAccount, with the chart's RBAC and admission policies.
//! Covers each finding of the shared-cluster review: Secret exfiltration, fights over targets,
//! colliding outputs, silent key loss, request forgery, resource exhaustion, silent failures.

use std::time::{Duration, Instant};

use anyhow::ensure;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{PodTemplateSpec, Secret, ServiceAccount};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use oidc_sso_operator::bots;
use oidc_sso_operator::crd::OidcSsoConfig;
use oidc_sso_operator::objects::config_hash_on;
use serde_json::{Value, json};

use crate::support::chart::{self, Release};
use crate::support::cluster::{self, DEFAULT_TIMEOUT, TestNamespace};
use crate::support::hostile_idp::{Behaviour, HostileIdp};
use crate::support::operator::{self, Operator};
use crate::support::scenario::Scenario;

/// Values planted in Secrets; none may ever show up in anything the operator writes or logs.
const CANARY_ID: &str = "canary-client-id-6f1c";
const CANARY_SECRET: &str = "canary-client-secret-9a2e";
const CANARY_VICTIM: &str = "canary-payroll-4d7b";
const CANARY_URL_PASSWORD: &str = "canary-url-password-3c8f";

/// A tenant namespace: the chart installed for it (namespaced RBAC, admission policies), the
/// operator running as the chart's ServiceAccount, a victim Secret and Deployment the author may
/// not touch, and the author's own Secret and Deployment.
struct Tenant {
    scenario: Scenario,
    author: Client,
    _release: Release,
    _namespace: TestNamespace,
    _dir: tempfile::TempDir,
}

impl Tenant {
    async fn start(prefix: &str, operator_args: &[&str]) -> Self {
        Self::start_with(prefix, operator_args, &[]).await
    }

    /// [`Tenant::start`] with more chart values (`--set`).
    async fn start_with(prefix: &str, operator_args: &[&str], chart_sets: &[&str]) -> Self {
        let admin = cluster::client().await;
        operator::install_crd(&admin).await;
        let namespace = TestNamespace::create(&admin, prefix)
            .await
            .expect("namespace");
        let ns = namespace.name().to_string();
        let mut sets = vec!["crds.install=false", "rbac.scope=namespace"];
        sets.extend(chart_sets);
        let release =
            Release::install(&cluster::unique_name("hostile"), &ns, &sets).expect("helm install");
        let dir = tempfile::tempdir().expect("temp dir");
        let kubeconfig = chart::service_account_kubeconfig(dir.path(), &ns, &release.fullname())
            .expect("operator kubeconfig");
        let op = Operator::start(kubeconfig, &ns, operator_args).await;
        let mut scenario = Scenario::new(&admin, &ns);
        scenario.op = Some(op);
        let author = author(&admin, &ns, dir.path()).await;
        let tenant = Self {
            scenario,
            author,
            _release: release,
            _namespace: namespace,
            _dir: dir,
        };
        tenant.plant().await;
        tenant.wait_for_admission_policies().await;
        tenant
    }

    /// The apiserver enforces a new ValidatingAdmissionPolicy once its informers have seen the
    /// policy and its binding, which `helm install` does not wait for: probe with a dry run until
    /// the author's reference to a Secret they may not read is refused.
    async fn wait_for_admission_policies(&self) {
        let mut probe = quiet_provider();
        probe["credentialsSecretRef"] = json!({"name": "payroll"});
        let cr: OidcSsoConfig = serde_json::from_value(json!({
            "apiVersion": "oidcsso.io/v1alpha1", "kind": "OidcSsoConfig",
            "metadata": {"name": "admission-probe"}, "spec": spec(probe, &[]),
        }))
        .expect("OidcSsoConfig");
        let dry_run = PostParams {
            dry_run: true,
            ..PostParams::default()
        };
        let deadline = Instant::now() + DEFAULT_TIMEOUT;
        loop {
            match self.author_configs().create(&dry_run, &cr).await {
                Err(kube::Error::Api(s)) if s.message.contains("may not get every Secret") => {
                    return;
                }
                Ok(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                other => panic!("the admission policies never took effect: {other:?}"),
            }
        }
    }

    /// The victim's Secret and Deployment, and the author's own.
    async fn plant(&self) {
        let s = &self.scenario;
        for (name, data) in [
            (
                "payroll",
                json!({"clientId": CANARY_VICTIM, "tls.key": CANARY_VICTIM}),
            ),
            (
                "own-client",
                json!({"clientId": CANARY_ID, "clientSecret": CANARY_SECRET}),
            ),
        ] {
            let secret: Secret = serde_json::from_value(json!({
                "apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
                "stringData": data,
            }))
            .expect("Secret");
            s.secrets()
                .create(&PostParams::default(), &secret)
                .await
                .expect("create Secret");
        }
        for name in ["billing", "own-app"] {
            s.deployments()
                .create(&PostParams::default(), &cluster::simple_deployment(name, 1))
                .await
                .expect("create Deployment");
            cluster::wait_rolled_out(&s.client, &s.ns, name, DEFAULT_TIMEOUT).await;
        }
    }

    fn author_configs(&self) -> Api<OidcSsoConfig> {
        Api::namespaced(self.author.clone(), &self.scenario.ns)
    }

    /// Creates a resource as the author; the apiserver's answer.
    async fn author_creates(&self, name: &str, spec: Value) -> Result<OidcSsoConfig, kube::Error> {
        let cr: OidcSsoConfig = serde_json::from_value(json!({
            "apiVersion": "oidcsso.io/v1alpha1", "kind": "OidcSsoConfig",
            "metadata": {"name": name}, "spec": spec,
        }))
        .expect("OidcSsoConfig");
        self.author_configs()
            .create(&PostParams::default(), &cr)
            .await
    }

    /// Everything anyone may read about the tenant's resources, once the operator is idle (every
    /// reconcile's Events published): their statuses, the namespace's Events, the operator's logs
    /// and metrics, one text.
    async fn everything_shown(&self) -> String {
        let op = self.scenario.op.as_ref().expect("operator");
        op.wait_idle().await;
        let mut haystacks = Vec::new();
        for cr in self
            .scenario
            .configs()
            .list(&Default::default())
            .await
            .expect("list")
        {
            haystacks.push(serde_json::to_string(&cr.status).expect("json"));
        }
        for e in Api::<Event>::namespaced(self.scenario.client.clone(), &self.scenario.ns)
            .list(&Default::default())
            .await
            .expect("events")
        {
            haystacks.push(serde_json::to_string(&e).expect("json"));
        }
        haystacks.push(op.logs());
        haystacks.push(op.metrics().await);
        haystacks.join("\n")
    }

    async fn wait(&self, name: &str, type_: &str, status: &str, reason: &str) -> OidcSsoConfig {
        operator::wait_condition(&self.scenario.configs(), name, type_, status, Some(reason)).await
    }

    async fn replica_sets(&self, deployment: &str) -> usize {
        let d = self
            .scenario
            .deployments()
            .get(deployment)
            .await
            .expect("Deployment");
        cluster::owned_replica_sets(&self.scenario.client, &d)
            .await
            .expect("ReplicaSets")
            .len()
    }
}

/// A ServiceAccount `author` that may do anything with `OidcSsoConfig`s in `ns`, `get` the Secret
/// `own-client` and `patch` the Deployment `own-app`, and nothing else; its client.
async fn author(admin: &Client, ns: &str, dir: &std::path::Path) -> Client {
    let sa: ServiceAccount =
        serde_json::from_value(json!({"metadata": {"name": "author"}})).expect("ServiceAccount");
    Api::<ServiceAccount>::namespaced(admin.clone(), ns)
        .create(&PostParams::default(), &sa)
        .await
        .expect("create ServiceAccount");
    let role: Role = serde_json::from_value(json!({
        "metadata": {"name": "author"},
        "rules": [
            {"apiGroups": ["oidcsso.io"], "resources": ["oidcssoconfigs"], "verbs": ["*"]},
            {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["own-client"], "verbs": ["get"]},
            {"apiGroups": ["apps"], "resources": ["deployments"], "resourceNames": ["own-app"],
             "verbs": ["get", "patch"]},
        ],
    }))
    .expect("Role");
    Api::<Role>::namespaced(admin.clone(), ns)
        .create(&PostParams::default(), &role)
        .await
        .expect("create Role");
    let binding: RoleBinding = serde_json::from_value(json!({
        "metadata": {"name": "author"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "author"},
        "subjects": [{"kind": "ServiceAccount", "name": "author", "namespace": ns}],
    }))
    .expect("RoleBinding");
    Api::<RoleBinding>::namespaced(admin.clone(), ns)
        .create(&PostParams::default(), &binding)
        .await
        .expect("create RoleBinding");
    let kubeconfig =
        chart::service_account_kubeconfig(dir, ns, "author").expect("author kubeconfig");
    chart::client_from(&kubeconfig).await
}

fn spec(provider: Value, targets: &[&str]) -> Value {
    let targets: Vec<Value> = targets
        .iter()
        .map(|t| json!({"kind": "Deployment", "name": t}))
        .collect();
    json!({
        "provider": provider,
        "authorizer": {"adminPrincipals": ["alice"]},
        "server": {"externalUrl": "https://om.example.com"},
        "targets": targets,
    })
}

/// A provider the operator does not fetch (its JWKS URL is given), with the author's credentials.
fn quiet_provider() -> Value {
    json!({"issuer": "https://idp.example.com", "jwksUrl": "https://idp.example.com/certs",
           "clientType": "Confidential", "credentialsSecretRef": {"name": "own-client"},
           "verify": {"discovery": false}})
}

fn refusal(result: Result<OidcSsoConfig, kube::Error>) -> String {
    match result {
        Err(kube::Error::Api(s)) => s.message,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn an_author_cannot_make_the_operator_read_or_roll_what_they_could_not() {
    let t = Tenant::start("hostile-deputy", &[]).await;
    // Someone else's Secret as credentials, as own keys, as a bot token; someone else's target.
    let mut steal = quiet_provider();
    steal["credentialsSecretRef"] = json!({"name": "payroll", "clientIdKey": "clientId"});
    let message = refusal(t.author_creates("steal", spec(steal, &[])).await);
    assert!(
        message.contains("may not get every Secret") && message.contains("payroll"),
        "{message}"
    );
    let mut keys = spec(quiet_provider(), &[]);
    keys["jwt"] = json!({"keySecretRef": {"name": "payroll", "privateKeyKey": "tls.key"}});
    assert!(refusal(t.author_creates("keys", keys).await).contains("payroll"));
    let message = refusal(
        t.author_creates("roll", spec(quiet_provider(), &["billing"]))
            .await,
    );
    assert!(
        message.contains("may not patch") && message.contains("Deployment billing"),
        "{message}"
    );
    // What the author may touch is accepted, reconciled, and rolled.
    t.author_creates("own", spec(quiet_provider(), &["own-app"]))
        .await
        .expect("own objects are fine");
    t.wait("own", "Ready", "True", "Reconciled").await;
    assert_eq!(t.replica_sets("own-app").await, 2);
    assert_eq!(t.replica_sets("billing").await, 1, "never rolled");
}

#[tokio::test]
async fn no_value_read_from_a_secret_reaches_status_events_logs_or_metrics() {
    let mut idp = crate::support::oidc::TestProvider::http().expect("provider");
    let t = Tenant::start("hostile-canary", &[]).await;
    // The author's client id and secret are unknown at the provider: invalid_client, whose
    // message names the client, and whose description a provider may echo.
    let mut checked = json!({"issuer": idp.issuer(), "allowInsecureHttp": true,
        "clientType": "Confidential", "credentialsSecretRef": {"name": "own-client"},
        "verify": {"clientCredentials": true}});
    t.author_creates("checked", spec(checked.clone(), &[]))
        .await
        .expect("create");
    t.wait("checked", "CredentialsValid", "False", "InvalidClient")
        .await;
    // A URL that carries a password.
    checked["issuer"] = json!(format!(
        "https://user:{CANARY_URL_PASSWORD}@idp.example.com"
    ));
    t.author_creates("url", spec(checked, &[]))
        .await
        .expect("create");
    t.wait("url", "Ready", "False", "InvalidSpec").await;
    idp.stop().expect("stop provider");
    let all = t.everything_shown().await;
    assert!(all.contains("InvalidClient"), "the check ran");
    assert!(
        all.contains("<credentials>"),
        "the URL was reported, redacted"
    );
    for canary in [CANARY_ID, CANARY_SECRET, CANARY_URL_PASSWORD, CANARY_VICTIM] {
        assert!(!all.contains(canary), "{canary} leaked");
    }
}

/// Promise 2 against a provider that replays every value it is sent (form fields, query, Basic
/// credentials) in every encoding into every answer: with the operator running, no form of the
/// author's client id or secret reaches the status, Events, logs or metrics; the echoes are
/// named, an encoding of an encoding is withheld.
#[tokio::test]
async fn a_provider_that_replays_what_it_is_sent_gets_none_of_it_shown() {
    use crate::support::replaying_idp::{CLIENT_ID, ReplayingProvider, SECRET, forbidden};
    let idp = ReplayingProvider::start();
    let t = Tenant::start("hostile-replay", &[]).await;
    // The author's own Secret, with values every encoding changes.
    t.scenario
        .secrets()
        .patch(
            "own-client",
            &PatchParams::default(),
            &Patch::Merge(json!({"stringData": {"clientId": CLIENT_ID, "clientSecret": SECRET}})),
        )
        .await
        .expect("patch the author's Secret");
    let cases = [
        (
            "callback-values",
            "Introspection",
            "client_secret_post",
            "LoginRefused",
        ),
        (
            "page-values",
            "ClientCredentials",
            "client_secret_basic",
            "NotRegistered",
        ),
        (
            "callback-raw",
            "Revocation",
            "client_secret_basic",
            "LoginRefused",
        ),
        (
            "page-raw",
            "AuthorizationCode",
            "client_secret_post",
            "NotRegistered",
        ),
    ];
    for (i, (mode, method, auth, login)) in cases.iter().enumerate() {
        let provider = json!({"issuer": idp.issuer(mode), "allowInsecureHttp": true,
            "clientType": "Confidential", "clientAuthenticationMethod": auth,
            "credentialsSecretRef": {"name": "own-client"},
            "verify": {"credentials": {"method": method}}});
        let name = format!("replay-{i}");
        t.author_creates(&name, spec(provider, &[]))
            .await
            .expect("create");
        t.wait(&name, "LoginAccepted", "False", login).await;
    }
    let all = t.everything_shown().await;
    // JSON (status, Events) escapes quotes and backslashes: the forms are searched as written
    // there too.
    for form in forbidden() {
        let in_json = serde_json::to_string(&form).expect("json");
        let in_json = in_json.trim_matches('"');
        assert!(
            !all.contains(&form) && !all.contains(in_json),
            "a form of a sent value ({} bytes) was shown",
            form.len()
        );
    }
    assert!(
        all.contains("<client secret>"),
        "the echoed secret is named"
    );
    assert!(
        all.contains("<the client id in Secret \\\"own-client\\\" (key \\\"clientId\\\")>"),
        "the echoed client id is named by its Secret and key"
    );
    assert!(
        all.contains("<withheld"),
        "an encoding of an encoding is withheld"
    );
    assert!(idp.requests() > 0);
}

#[tokio::test]
async fn two_resources_naming_one_target_roll_it_once_not_in_a_loop() {
    let t = Tenant::start("hostile-fight", &[]).await;
    t.author_creates("first", spec(quiet_provider(), &["own-app"]))
        .await
        .expect("create");
    t.wait("first", "Ready", "True", "Reconciled").await;
    // The same second (same creation time) would be ordered by name; `second` > `first`.
    t.author_creates("second", spec(quiet_provider(), &["own-app"]))
        .await
        .expect("create");
    let conflict = t.wait("second", "Ready", "False", "TargetConflict").await;
    let message = &conflict.status.expect("status").conditions[0].message;
    assert!(message.contains("\"first\""), "{message}");
    // A loop would keep patching: count rollouts over a window.
    cluster::assert_stays(
        "one rollout, by the owner, and no rollout loop (ReplicaSets)",
        Duration::from_secs(15),
        2,
        || t.replica_sets("own-app"),
    )
    .await;
    // The owner goes; the other takes the target over and rolls it once onto its own config.
    t.author_configs()
        .delete("first", &DeleteParams::default())
        .await
        .expect("delete");
    t.wait("second", "Ready", "True", "Reconciled").await;
    cluster::assert_stays(
        "at most one more rollout (ReplicaSets <= 3)",
        Duration::from_secs(5),
        true,
        || async { t.replica_sets("own-app").await <= 3 },
    )
    .await;
}

#[tokio::test]
async fn colliding_outputs_and_names_that_could_address_other_objects_are_refused() {
    let t = Tenant::start("hostile-names", &[]).await;
    let mut collide = spec(quiet_provider(), &[]);
    collide["output"] = json!({"authEnvSecretName": "c-jwt-keys"});
    let message = refusal(t.author_creates("c", collide).await);
    assert!(message.contains("three different names"), "{message}");
    let message = refusal(
        t.author_creates("n", spec(quiet_provider(), &["own-app/status"]))
            .await,
    );
    assert!(message.contains("spec.targets[0].name"), "{message}");
    let message = refusal(
        t.author_creates(&"a".repeat(64), spec(quiet_provider(), &[]))
            .await,
    );
    assert!(message.contains("at most 63 characters"), "{message}");
}

#[tokio::test]
async fn a_lost_key_pair_is_replaced_loudly_never_silently() {
    let t = Tenant::start("hostile-keys", &[]).await;
    t.author_creates("keys", spec(quiet_provider(), &["own-app"]))
        .await
        .expect("create");
    let before = t.wait("keys", "Ready", "True", "Reconciled").await;
    let old_id = before.status.and_then(|s| s.keys).and_then(|k| k.key_id);
    t.scenario
        .secrets()
        .delete("keys-jwt-keys", &DeleteParams::default())
        .await
        .expect("delete the keys Secret");
    let after = t
        .wait("keys", "KeysReady", "True", "RegeneratedAfterLoss")
        .await;
    assert_ne!(
        after.status.and_then(|s| s.keys).and_then(|k| k.key_id),
        old_id
    );
    t.scenario.wait_event("KeysRegenerated", "Warning").await;
}

#[tokio::test]
async fn metadata_addresses_are_never_contacted() {
    let t = Tenant::start("hostile-ssrf", &[]).await;
    for (name, issuer) in [
        ("metadata", "http://169.254.169.254/latest"),
        ("ipv6-metadata", "http://[fd00:ec2::254]/latest"),
        ("cluster", "http://10.96.0.1"),
    ] {
        let provider = json!({"issuer": issuer, "allowInsecureHttp": true,
            "clientType": "Public", "clientId": "ui"});
        t.author_creates(name, spec(provider, &[]))
            .await
            .expect("create");
        let cr = t
            .wait(name, "ProviderVerified", "False", "AddressRefused")
            .await;
        let message = cr
            .status
            .expect("status")
            .conditions
            .into_iter()
            .find(|c| c.type_ == "ProviderVerified")
            .expect("condition")
            .message;
        assert!(message.contains("address policy"), "{message}");
    }
}

/// Sixty providers serving documents just under the size limit: memory stays bounded. The peak
/// is printed (and stays within the chart's memory limit).
#[tokio::test]
async fn sixty_providers_with_documents_at_the_size_limit_keep_memory_bounded() {
    const PROVIDERS: usize = 60;
    const CHART_LIMIT_MIB: f64 = 256.0;
    let idp = HostileIdp::start(Behaviour::Big(250 * 1024)).await;
    let t = Tenant::start("hostile-memory", &[]).await;
    for n in 0..PROVIDERS {
        let provider = json!({"issuer": idp.issuer(n), "allowInsecureHttp": true,
            "clientType": "Public", "clientId": "ui"});
        t.author_creates(&format!("big-{n}"), spec(provider, &[]))
            .await
            .expect("create");
    }
    let api = t.scenario.configs();
    cluster::wait_for("every provider checked", DEFAULT_TIMEOUT, || {
        let api = api.clone();
        async move {
            let checked = api
                .list(&Default::default())
                .await?
                .items
                .iter()
                .filter(|r| {
                    r.status.as_ref().is_some_and(|s| {
                        s.conditions
                            .iter()
                            .any(|c| c.type_ == "ProviderVerified" && c.status == "True")
                    })
                })
                .count();
            ensure!(checked == PROVIDERS, "{checked}/{PROVIDERS} verified");
            Ok(())
        }
    })
    .await;
    let op = t.scenario.op.as_ref().expect("operator");
    let peak = op.peak_rss_mib().expect("peak RSS");
    println!(
        "report: {PROVIDERS} providers with 250 KiB documents: operator peak RSS {peak:.1} MiB \
         (chart limit {CHART_LIMIT_MIB} MiB)"
    );
    assert!(peak < CHART_LIMIT_MIB, "peak RSS {peak:.1} MiB");
}

/// Twenty providers that trickle their answers do not hold up a credential change elsewhere.
/// Prints the latency with and without them (the comparison is a measurement, not a check).
#[tokio::test]
async fn slow_providers_do_not_hold_up_other_resources() {
    const SLOW: usize = 20;
    let idp = HostileIdp::start(Behaviour::Trickle).await;
    let t = Tenant::start(
        "hostile-slow",
        &[
            "--provider-check-failure-ttl",
            "3s",
            "--provider-check-ttl",
            "3s",
        ],
    )
    .await;
    t.author_creates("healthy", spec(quiet_provider(), &["own-app"]))
        .await
        .expect("create");
    t.wait("healthy", "Ready", "True", "Reconciled").await;
    let without = rollout_latency(&t, "second").await;
    for n in 0..SLOW {
        let provider = json!({"issuer": idp.issuer(n), "allowInsecureHttp": true,
            "clientType": "Public", "clientId": "ui"});
        t.author_creates(&format!("slow-{n}"), spec(provider, &[]))
            .await
            .expect("create");
    }
    // Let the slow checks start and keep them going (their short TTLs expire every 3 s).
    tokio::time::sleep(Duration::from_secs(5)).await;
    let with = rollout_latency(&t, "third").await;
    println!(
        "report: credential change to rollout: {:.0} ms without slow providers, {:.0} ms with {SLOW}",
        without.as_secs_f64() * 1000.0,
        with.as_secs_f64() * 1000.0
    );
    let slow = t.scenario.configs().get("slow-0").await.expect("slow-0");
    assert!(
        slow.status.is_some_and(|s| s
            .conditions
            .iter()
            .any(|c| c.type_ == "ProviderVerified" && c.status != "True")),
        "a slow provider is never verified"
    );
}

/// Changes the author's client secret (as the admin: the author may only read it) and measures
/// until the target's template carries a new hash.
async fn rollout_latency(t: &Tenant, secret: &str) -> Duration {
    let before = template_hash(t).await;
    let s: Secret = serde_json::from_value(json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "own-client"},
        "stringData": {"clientId": CANARY_ID, "clientSecret": secret}}))
    .expect("Secret");
    let started = Instant::now();
    t.scenario
        .secrets()
        .replace("own-client", &PostParams::default(), &s)
        .await
        .expect("replace");
    loop {
        if template_hash(t).await != before {
            return started.elapsed();
        }
        assert!(started.elapsed() < DEFAULT_TIMEOUT, "never rolled");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn template_hash(t: &Tenant) -> Option<String> {
    let d: Deployment = t.scenario.deployments().get("own-app").await.ok()?;
    config_hash_on(&d.spec.template).map(str::to_owned)
}

/// A renewal Job as the operator builds it, for a pod template running `image`.
fn renewal_job(ns: &str) -> Job {
    let template: PodTemplateSpec = serde_json::from_value(json!({
        "spec": {"containers": [{
            "name": "openmetadata", "image": "openmetadata/server:1.13.1",
            "envFrom": [{"secretRef": {"name": "own-auth-env"}}],
        }]},
    }))
    .expect("template");
    bots::job::build(
        &template,
        &bots::job::JobFor {
            name: "own-bots-0123456789",
            command: bots::Command::Regenerate,
            resource: "own",
            namespace: ns,
            settings_secret: "own-auth-env",
            owner: None,
        },
    )
    .expect("a renewal Job")
}

#[tokio::test]
async fn renewing_bot_tokens_needs_the_right_to_create_jobs_and_the_operators_jobs_run_only_that() {
    let t = Tenant::start_with(
        "hostile-jobs",
        &["--bot-token-renewal=true"],
        &["botTokenRenewal=true"],
    )
    .await;
    // An author who may not create Jobs may not have the operator create one.
    let mut asks = spec(quiet_provider(), &["own-app"]);
    asks["jwt"] = json!({"rotation": {"renewBotTokens": true}});
    let message = refusal(t.author_creates("renew", asks).await);
    assert!(message.contains("may not create Jobs"), "{message}");

    // The operator's ServiceAccount may create its renewal Job (dry run), and nothing else.
    let kubeconfig =
        chart::service_account_kubeconfig(t._dir.path(), &t.scenario.ns, &t._release.fullname())
            .expect("operator kubeconfig");
    let jobs: Api<Job> = Api::namespaced(chart::client_from(&kubeconfig).await, &t.scenario.ns);
    let dry_run = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    jobs.create(&dry_run, &renewal_job(&t.scenario.ns))
        .await
        .expect("the renewal Job is admitted");
    let mut shell = renewal_job(&t.scenario.ns);
    let pod = shell.spec.as_mut().unwrap().template.spec.as_mut().unwrap();
    pod.containers[0].command = Some(vec!["/bin/sh".into(), "-c".into()]);
    let mut second = renewal_job(&t.scenario.ns);
    let pod = second
        .spec
        .as_mut()
        .unwrap()
        .template
        .spec
        .as_mut()
        .unwrap();
    let mut init = pod.containers[0].clone();
    init.name = "init".into();
    pod.init_containers = Some(vec![init]);
    let mut host = renewal_job(&t.scenario.ns);
    let pod = host.spec.as_mut().unwrap().template.spec.as_mut().unwrap();
    pod.volumes = Some(vec![
        serde_json::from_value(json!({"name": "root", "hostPath": {"path": "/"}})).unwrap(),
    ]);
    // The apiserver gives a Job without labels its pod template's: both go.
    let mut unlabelled = renewal_job(&t.scenario.ns);
    unlabelled.metadata.labels = None;
    unlabelled.spec.as_mut().unwrap().template.metadata = None;
    for (job, says) in [
        (shell, "nothing else"),
        (second, "nothing else"),
        (host, "no host namespace, host path"),
        (unlabelled, "labelled"),
    ] {
        match jobs.create(&dry_run, &job).await {
            Err(kube::Error::Api(s)) => assert!(s.message.contains(says), "{}", s.message),
            other => panic!("expected a refusal ({says}), got {other:?}"),
        }
    }
}
