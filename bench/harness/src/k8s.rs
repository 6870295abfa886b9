//! Workloads and waits on the local control plane: namespaces, credential Secrets, Deployments,
//! OidcSsoConfigs, unrelated "noise" Secrets, and the watches whose receipt times are measured.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use futures::{StreamExt, TryStreamExt, stream};
use k8s_openapi::ByteString;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::core::PartialObjectMeta;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, ResourceExt};
use oidc_sso_operator::crd::OidcSsoConfig;
use serde_json::json;
use tokio::sync::watch;

/// Label on every namespace the harness creates (leftovers of an interrupted run are removed).
pub const BENCH_LABEL: &str = "oidc-sso-bench";
/// Image of the fake pods (kwok never pulls it).
const FAKE_IMAGE: &str = "registry.invalid/app:1";
/// Parallel API calls when creating many objects.
const CREATE_PARALLELISM: usize = 32;

pub fn cred(i: usize) -> String {
    format!("cred-{i}")
}
pub fn app(i: usize) -> String {
    format!("app-{i}")
}
pub fn cfg(i: usize) -> String {
    format!("cfg-{i}")
}
pub fn key(i: usize) -> String {
    format!("key-{i}")
}

/// A small non-cryptographic generator: distinct Secret values and payloads, reproducible per seed.
pub struct Rng(u64);
impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n + 8);
        while out.len() < n {
            out.extend_from_slice(&self.next().to_le_bytes());
        }
        out.truncate(n);
        out
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

pub async fn create_namespace(client: &Client, name: &str) -> anyhow::Result<()> {
    let api: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": name, "labels": {BENCH_LABEL: "true"}},
    }))?;
    api.create(&PostParams::default(), &ns)
        .await
        .with_context(|| format!("create namespace {name}"))?;
    // The ServiceAccount controller must create `default` before pods can be admitted.
    let sas: Api<k8s_openapi::api::core::v1::ServiceAccount> =
        Api::namespaced(client.clone(), name);
    for _ in 0..300 {
        if sas.get_opt("default").await?.is_some() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    bail!("namespace {name}: no default ServiceAccount after 60 s")
}

/// Deletes a namespace and waits until it is gone (deleting thousands of objects takes a minute).
pub async fn delete_namespace(client: &Client, name: &str) -> anyhow::Result<()> {
    let api: Api<Namespace> = Api::all(client.clone());
    match api.delete(name, &DeleteParams::background()).await {
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 404 => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    let deadline = Instant::now() + Duration::from_secs(900);
    while Instant::now() < deadline {
        if api.get_opt(name).await?.is_none() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    bail!("namespace {name} still exists after 15 min")
}

/// Namespaces left by an interrupted run.
pub async fn leftover_namespaces(client: &Client) -> anyhow::Result<Vec<String>> {
    let api: Api<Namespace> = Api::all(client.clone());
    let list = api
        .list(&ListParams::default().labels(&format!("{BENCH_LABEL}=true")))
        .await?;
    Ok(list.items.iter().map(|n| n.name_any()).collect())
}

async fn for_each_parallel<F, Fut>(n: usize, f: F) -> anyhow::Result<()>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    stream::iter(0..n)
        .map(f)
        .buffer_unordered(CREATE_PARALLELISM)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

fn credentials_secret(name: &str, client_secret: &str) -> Secret {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": name},
        "stringData": {"clientId": "openmetadata", "clientSecret": client_secret},
    }))
    .expect("valid Secret")
}

/// `n` credential Secrets `cred-i` and Deployments `app-i` (1 replica each, consuming `cred-i`
/// through `envFrom`, with Reloader's auto annotation), identical for both tools.
pub async fn create_workload(client: &Client, ns: &str, n: usize, seed: u64) -> anyhow::Result<()> {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), ns);
    for_each_parallel(n, |i| {
        let secrets = secrets.clone();
        async move {
            let s = credentials_secret(&cred(i), &format!("initial-{seed}-{i}"));
            secrets.create(&PostParams::default(), &s).await?;
            Ok(())
        }
    })
    .await
    .context("create credential Secrets")?;
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), ns);
    for_each_parallel(n, |i| {
        let deployments = deployments.clone();
        async move {
            deployments
                .create(&PostParams::default(), &deployment(i))
                .await?;
            Ok(())
        }
    })
    .await
    .context("create Deployments")
}

fn deployment(i: usize) -> Deployment {
    let name = app(i);
    serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {
            "name": name,
            "labels": {"app": name},
            "annotations": {"reloader.stakater.com/auto": "true"},
        },
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                // Wired like an OpenMetadata server the operator configures: the settings Secret
                // by envFrom (last, so nothing overrides it) and the keys Secret mounted where the
                // settings point; both optional, as they exist only once an OidcSsoConfig renders
                // them. (Without this every resource reports SettingsLoaded=False with a Warning
                // Event, which no working installation does.) Reloader's runs read `cred-i`.
                "spec": {
                    "terminationGracePeriodSeconds": 0,
                    "containers": [{
                        "name": "app",
                        "image": FAKE_IMAGE,
                        "envFrom": [
                            {"secretRef": {"name": cred(i)}},
                            {"secretRef": {"name": format!("{}-auth-env", cfg(i)), "optional": true}},
                        ],
                        "volumeMounts": [{"name": "jwt-keys", "mountPath": "/etc/openmetadata/jwtkeys", "readOnly": true}],
                    }],
                    "volumes": [{"name": "jwt-keys", "secret": {"secretName": format!("{}-jwt-keys", cfg(i)), "optional": true}}],
                },
            },
        },
    }))
    .expect("valid Deployment")
}

/// `OidcSsoConfig` `cfg-i`: the minimal confidential-client spec of the e2e suite (no provider
/// calls), reading `cred-i` and rolling `app-i`; with `byo_keys`, its keys come from `key-i`.
pub fn config(i: usize, byo_keys: bool) -> OidcSsoConfig {
    let mut spec = json!({
        "provider": {
            "displayName": "Keycloak",
            "issuer": "https://idp.example.com/realms/data",
            "jwksUrl": "https://idp.example.com/realms/data/protocol/openid-connect/certs",
            "clientType": "Confidential",
            "credentialsSecretRef": {"name": cred(i)},
            "verify": {"discovery": false},
        },
        "authorizer": {"adminPrincipals": ["alice"], "principalDomain": "example.com"},
        "server": {"externalUrl": "https://om.example.com"},
        "targets": [{"kind": "Deployment", "name": app(i)}],
    });
    if byo_keys {
        spec["jwt"] = json!({"keySecretRef": {"name": key(i)}});
    }
    serde_json::from_value(json!({
        "apiVersion": "oidcsso.io/v1alpha1", "kind": "OidcSsoConfig",
        "metadata": {"name": cfg(i)},
        "spec": spec,
    }))
    .expect("valid OidcSsoConfig")
}

pub async fn create_configs(
    client: &Client,
    ns: &str,
    n: usize,
    byo_keys: bool,
) -> anyhow::Result<()> {
    let api: Api<OidcSsoConfig> = Api::namespaced(client.clone(), ns);
    for_each_parallel(n, |i| {
        let api = api.clone();
        async move {
            api.create(&PostParams::default(), &config(i, byo_keys))
                .await?;
            Ok(())
        }
    })
    .await
    .context("create OidcSsoConfigs")
}

/// Bring-your-own key Secrets `key-i` holding `private_key.pem`.
pub async fn create_key_secrets(client: &Client, ns: &str, pems: &[String]) -> anyhow::Result<()> {
    let api: Api<Secret> = Api::namespaced(client.clone(), ns);
    for_each_parallel(pems.len(), |i| {
        let api = api.clone();
        let pem = pems[i].clone();
        async move {
            let s: Secret = serde_json::from_value(json!({
                "apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": key(i)},
                "stringData": {"private_key.pem": pem},
            }))?;
            api.create(&PostParams::default(), &s).await?;
            Ok(())
        }
    })
    .await
    .context("create key Secrets")
}

/// `n` unrelated Secrets of `size` random bytes each, referenced by nothing.
pub async fn create_noise(
    client: &Client,
    ns: &str,
    n: usize,
    size: usize,
    seed: u64,
) -> anyhow::Result<()> {
    let api: Api<Secret> = Api::namespaced(client.clone(), ns);
    for_each_parallel(n, |i| {
        let api = api.clone();
        async move {
            let mut rng = Rng::new(seed.wrapping_add(i as u64 * 7919));
            let s = Secret {
                metadata: kube::api::ObjectMeta {
                    name: Some(format!("noise-{i}")),
                    ..Default::default()
                },
                data: Some(BTreeMap::from([(
                    "payload".to_string(),
                    ByteString(rng.bytes(size)),
                )])),
                ..Default::default()
            };
            api.create(&PostParams::default(), &s).await?;
            Ok(())
        }
    })
    .await
    .context("create noise Secrets")
}

/// Changes one pod-template annotation on each of the `n` Deployments, `CREATE_PARALLELISM` at a
/// time, as a tool would to roll them (a merge patch: the cheapest write that rolls).
pub async fn patch_templates(
    client: &Client,
    ns: &str,
    n: usize,
    value: &str,
) -> anyhow::Result<()> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), ns);
    for_each_parallel(n, |i| {
        let api = api.clone();
        let patch = json!({"spec": {"template": {"metadata": {"annotations": {"bench/rollout-floor": value}}}}});
        async move {
            api.patch(&app(i), &PatchParams::default(), &Patch::Merge(&patch)).await?;
            Ok(())
        }
    })
    .await
    .context("patch Deployment templates")
}

/// Every Deployment of `ns` has finished rolling out its current template.
pub async fn wait_rolled_out(
    client: &Client,
    ns: &str,
    n: usize,
    timeout: Duration,
) -> anyhow::Result<Duration> {
    let api: Api<Deployment> = Api::namespaced(client.clone(), ns);
    let start = Instant::now();
    loop {
        let list = api.list(&ListParams::default()).await?;
        let done = list.items.iter().filter(|d| rolled_out(d)).count();
        if list.items.len() == n && done == n {
            return Ok(start.elapsed());
        }
        if start.elapsed() > timeout {
            bail!("{ns}: {done}/{n} Deployments rolled out after {timeout:?}");
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

fn rolled_out(d: &Deployment) -> bool {
    let want = d.spec.replicas.unwrap_or(1);
    let Some(s) = &d.status else { return false };
    s.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0)
        && s.updated_replicas.unwrap_or(0) == want
        && s.available_replicas.unwrap_or(0) == want
        && s.replicas.unwrap_or(0) == want
}

pub fn is_ready(c: &OidcSsoConfig) -> bool {
    let generation = c.metadata.generation;
    c.status.as_ref().is_some_and(|s| {
        s.conditions.iter().any(|c| {
            c.type_ == "Ready" && c.status == "True" && c.observed_generation >= generation
        })
    })
}

/// Every `OidcSsoConfig` of `ns` is `Ready` (and so every target rolled out).
pub async fn wait_configs_ready(
    client: &Client,
    ns: &str,
    n: usize,
    timeout: Duration,
) -> anyhow::Result<Duration> {
    let api: Api<OidcSsoConfig> = Api::namespaced(client.clone(), ns);
    let start = Instant::now();
    loop {
        let list = api.list(&ListParams::default()).await?;
        let ready = list.items.iter().filter(|c| is_ready(c)).count();
        if ready == n {
            return Ok(start.elapsed());
        }
        if start.elapsed() > timeout {
            bail!("{ns}: {ready}/{n} OidcSsoConfigs Ready after {timeout:?}");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// `metadata.generation` of every Deployment of `ns`.
pub async fn generations(client: &Client, ns: &str) -> anyhow::Result<HashMap<String, i64>> {
    let api: Api<PartialObjectMeta<Deployment>> = Api::namespaced(client.clone(), ns);
    let list = api.list(&ListParams::default()).await?;
    Ok(list
        .items
        .iter()
        .map(|d| (d.name_any(), d.metadata.generation.unwrap_or(0)))
        .collect())
}

/// What the harness's own watches saw, with the time each event was received.
#[derive(Default)]
pub struct Seen {
    /// Deployment → (generation, first time seen at that generation, rolled out when last seen).
    pub deployments: HashMap<String, (i64, Instant, bool)>,
    /// Secret → (resourceVersion, time received).
    pub secrets: HashMap<String, (u64, Instant)>,
    /// OidcSsoConfig → time first seen Ready at its generation.
    pub ready: HashMap<String, Instant>,
    pub synced: u8,
}

/// Watches of one namespace, each on its own task; `changed` ticks on every event.
pub struct Watches {
    pub seen: Arc<Mutex<Seen>>,
    pub changed: watch::Receiver<u64>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    expected_syncs: u8,
}

impl Drop for Watches {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Watches {
    /// Deployments (with status, to know when a rollout finished), Secrets (metadata only: what a
    /// bare watch client sees), and with `configs` the OidcSsoConfigs.
    pub fn start(client: &Client, ns: &str, configs: bool) -> Self {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (tx, rx) = watch::channel(0u64);
        let tx = Arc::new(tx);
        let mut tasks = Vec::new();
        {
            let api: Api<Deployment> = Api::namespaced(client.clone(), ns);
            let (seen, tx) = (seen.clone(), tx.clone());
            tasks.push(tokio::spawn(async move {
                let mut s =
                    std::pin::pin!(watcher(api, watcher::Config::default()).default_backoff());
                while let Some(ev) = s.next().await {
                    let now = Instant::now();
                    let mut g = seen.lock().unwrap();
                    match ev {
                        Ok(watcher::Event::Apply(d) | watcher::Event::InitApply(d)) => {
                            let generation = d.metadata.generation.unwrap_or(0);
                            let done = rolled_out(&d);
                            let e = g
                                .deployments
                                .entry(d.name_any())
                                .or_insert((generation, now, done));
                            if generation > e.0 {
                                *e = (generation, now, done);
                            } else if generation == e.0 {
                                e.2 = done;
                            }
                        }
                        Ok(watcher::Event::InitDone) => g.synced += 1,
                        _ => continue,
                    }
                    drop(g);
                    tx.send_modify(|v| *v += 1);
                }
            }));
        }
        {
            let api: Api<PartialObjectMeta<Secret>> = Api::namespaced(client.clone(), ns);
            let (seen, tx) = (seen.clone(), tx.clone());
            tasks.push(tokio::spawn(async move {
                let mut s =
                    std::pin::pin!(watcher(api, watcher::Config::default()).default_backoff());
                while let Some(ev) = s.next().await {
                    let now = Instant::now();
                    let mut g = seen.lock().unwrap();
                    match ev {
                        Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o)) => {
                            let rv = o
                                .resource_version()
                                .and_then(|v| v.parse().ok())
                                .unwrap_or(0);
                            let e = g.secrets.entry(o.name_any()).or_insert((rv, now));
                            if rv > e.0 {
                                *e = (rv, now);
                            }
                        }
                        Ok(watcher::Event::InitDone) => g.synced += 1,
                        _ => continue,
                    }
                    drop(g);
                    tx.send_modify(|v| *v += 1);
                }
            }));
        }
        if configs {
            let api: Api<OidcSsoConfig> = Api::namespaced(client.clone(), ns);
            let (seen, tx) = (seen.clone(), tx.clone());
            tasks.push(tokio::spawn(async move {
                let mut s =
                    std::pin::pin!(watcher(api, watcher::Config::default()).default_backoff());
                while let Some(ev) = s.next().await {
                    let now = Instant::now();
                    let mut g = seen.lock().unwrap();
                    match ev {
                        Ok(watcher::Event::Apply(c) | watcher::Event::InitApply(c)) => {
                            if is_ready(&c) {
                                g.ready.entry(c.name_any()).or_insert(now);
                            }
                        }
                        Ok(watcher::Event::InitDone) => g.synced += 1,
                        _ => continue,
                    }
                    drop(g);
                    tx.send_modify(|v| *v += 1);
                }
            }));
        }
        Watches {
            seen,
            changed: rx,
            tasks,
            expected_syncs: if configs { 3 } else { 2 },
        }
    }

    /// Waits until `done` holds on what was seen, or `timeout`; true when it held.
    pub async fn wait_for(&mut self, timeout: Duration, done: impl Fn(&Seen) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if done(&self.seen.lock().unwrap()) {
                return true;
            }
            match tokio::time::timeout_at(deadline, self.changed.changed()).await {
                Ok(Ok(())) => {}
                _ => return done(&self.seen.lock().unwrap()),
            }
        }
    }

    pub async fn wait_synced(&mut self) -> anyhow::Result<()> {
        let want = self.expected_syncs;
        if !self
            .wait_for(Duration::from_secs(120), |s| s.synced >= want)
            .await
        {
            bail!("the harness's watches did not sync within 120 s");
        }
        Ok(())
    }
}

/// Changes `cred-i`'s client secret; returns the new resourceVersion.
pub async fn update_credentials(api: &Api<Secret>, i: usize, value: &str) -> anyhow::Result<u64> {
    let patch = json!({"data": {"clientSecret": ByteString(value.as_bytes().to_vec())}});
    let s = api
        .patch(&cred(i), &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .with_context(|| format!("update {}", cred(i)))?;
    Ok(s.resource_version()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}
