//! Wiring: the watches, the mappers from watched objects to the resources that reference them,
//! and the controller loop.

use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::core::PartialObjectMeta;
use kube::runtime::controller::{self, Action, Controller};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Resource, ResourceExt};
use tracing::{Instrument, error, info, info_span};

use super::reconcile::{Error, reconcile};
use super::{Context, Settings, fetch, triggers};
use crate::crd::{OidcSsoConfig, TargetKind};
use crate::objects::{MANAGED_BY, MANAGED_BY_LABEL};

/// Objects per initial LIST page. Each page is held as text and as objects at once while it is
/// decoded, which sets the operator's peak memory at start-up; 100 instead of the default 500
/// costs a few more requests once, for a smaller peak.
const LIST_PAGE: u32 = 100;

fn api<K>(client: &Client, namespace: Option<&str>) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// What a reference points at, for the mappers.
fn references_secret(r: &OidcSsoConfig, name: &str) -> bool {
    let s = &r.spec;
    s.provider
        .credentials_secret_ref
        .as_ref()
        .is_some_and(|c| c.name == name)
        || s.provider
            .ca_bundle
            .as_ref()
            .and_then(|c| c.secret_ref.as_ref())
            .is_some_and(|c| c.name == name)
        || s.ingestion
            .as_ref()
            .and_then(|i| i.bot_token_secret_ref.as_ref())
            .is_some_and(|c| c.name == name)
        || s.jwt
            .as_ref()
            .and_then(|j| j.key_secret_ref.as_ref())
            .is_some_and(|c| c.name == name)
}

fn references_config_map(r: &OidcSsoConfig, name: &str) -> bool {
    r.spec
        .provider
        .ca_bundle
        .as_ref()
        .and_then(|c| c.config_map_ref.as_ref())
        .is_some_and(|c| c.name == name)
}

fn targets(r: &OidcSsoConfig, kind: TargetKind, name: &str) -> bool {
    r.spec
        .targets
        .iter()
        .any(|t| t.kind == kind && t.name == name)
}

/// Maps a watched object to the resources in its namespace that `matches`.
fn mapper<K: Resource>(
    store: Store<OidcSsoConfig>,
    matches: fn(&OidcSsoConfig, &str) -> bool,
) -> impl Fn(PartialObjectMeta<K>) -> Vec<ObjectRef<OidcSsoConfig>> + Send + Sync + 'static {
    move |obj| {
        let (Some(ns), name) = (obj.namespace(), obj.name_any()) else {
            return Vec::new();
        };
        store
            .state()
            .iter()
            .filter(|r| r.namespace().as_deref() == Some(ns.as_str()) && matches(r, &name))
            .map(|r| ObjectRef::from_obj(r.as_ref()))
            .collect()
    }
}

/// Drops what no reconcile reads from the objects the operator keeps in memory: managedFields (a
/// field tree per writer, often larger than the object itself) and the copy of the whole object
/// that client-side `kubectl apply` leaves in an annotation. Both stores hold one entry per
/// resource and per owned Secret, so this is most of their size at a thousand resources.
fn trim_for_cache<K: Resource>(obj: &mut K) {
    let meta = obj.meta_mut();
    meta.managed_fields = None;
    if let Some(a) = meta.annotations.as_mut() {
        a.remove("kubectl.kubernetes.io/last-applied-configuration");
    }
}

/// Every change of a target kind; a deletion comes through as the object marked deleted, which
/// the state readers in `fetch` treat as missing.
fn target_events<K>(api: Api<K>) -> impl futures::Stream<Item = Result<K, watcher::Error>>
where
    K: Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + 'static,
{
    watcher(api, watcher::Config::default().page_size(LIST_PAGE))
        .default_backoff()
        .filter_map(|event| {
            futures::future::ready(match event {
                Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o)) => Some(Ok(o)),
                Ok(watcher::Event::Delete(mut o)) => {
                    o.meta_mut().deletion_timestamp.get_or_insert_with(|| {
                        k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(jiff::Timestamp::now())
                    });
                    Some(Ok(o))
                }
                Ok(watcher::Event::Init | watcher::Event::InitDone) => None,
                Err(e) => Some(Err(e)),
            })
        })
}

/// Maps a target to the resources in its namespace that target it and whose status it changes.
fn target_mapper<K: Resource + 'static>(
    store: Store<OidcSsoConfig>,
    kind: TargetKind,
    state: fn(&K) -> Option<fetch::TargetState>,
) -> impl Fn(K) -> Vec<ObjectRef<OidcSsoConfig>> + Send + Sync + 'static {
    move |obj| {
        let (Some(ns), name) = (obj.meta().namespace.clone(), obj.meta().name.clone()) else {
            return Vec::new();
        };
        let name = name.unwrap_or_default();
        let now = state(&obj);
        store
            .state()
            .iter()
            .filter(|r| r.namespace().as_deref() == Some(ns.as_str()) && targets(r, kind, &name))
            .filter(|r| triggers::target_changed(r, kind, &name, now.as_ref()))
            .map(|r| ObjectRef::from_obj(r.as_ref()))
            .collect()
    }
}

/// Runs the controller until a shutdown signal. `ready` is told once the initial watches synced.
pub async fn run(
    client: Client,
    settings: Settings,
    metrics: Arc<crate::metrics::Metrics>,
    ready: tokio::sync::watch::Sender<bool>,
) -> Result<(), RunError> {
    let ns = settings.namespace.as_deref();
    let configs: Api<OidcSsoConfig> = api(&client, ns);
    // Fail early with a clear message when the CRD is missing, instead of a watch error loop.
    configs
        .list(&kube::api::ListParams::default().limit(1))
        .await
        .map_err(RunError::CrdMissing)?;

    let owned_selector = format!("{MANAGED_BY_LABEL}={MANAGED_BY}");
    let (owned_store, owned_writer) = reflector::store::<Secret>();
    // Key ages for /metrics come from this cache at scrape time: always current, and a deleted
    // resource's key stops counting once its Secret is garbage-collected.
    let keys_cache = owned_store.clone();
    metrics.key_ages_from(move || {
        keys_cache
            .state()
            .iter()
            .filter_map(|s| s.annotations().get(super::jwt_keys::CREATED_AT_ANNOTATION))
            .filter_map(|t| t.parse::<jiff::Timestamp>().ok())
            .map(|t| t.as_second())
            .collect()
    });
    let owned = reflector::reflector(
        owned_writer,
        watcher(
            api::<Secret>(&client, ns),
            watcher::Config::default()
                .labels(&owned_selector)
                .page_size(LIST_PAGE),
        )
        .modify(|secret| {
            trim_for_cache(secret);
            super::cache_form::to_cache_form(secret);
        }),
    )
    .default_backoff()
    .touched_objects();

    let (store, configs_writer) = reflector::store::<OidcSsoConfig>();
    let configs_stream = reflector::reflector(
        configs_writer,
        watcher(
            configs,
            watcher::Config::default()
                .any_semantic()
                .page_size(LIST_PAGE),
        )
        .modify(trim_for_cache),
    )
    .default_backoff()
    .applied_objects()
    // Not on our own status writes: see `triggers`.
    .predicate_filter(triggers::resource_inputs, Default::default());
    let controller = Controller::for_stream(configs_stream, store.clone());
    let secrets_meta = watcher(
        api::<PartialObjectMeta<Secret>>(&client, ns),
        watcher::Config::default(),
    )
    .default_backoff()
    .touched_objects();
    let config_maps_meta = watcher(
        api::<PartialObjectMeta<ConfigMap>>(&client, ns),
        watcher::Config::default(),
    )
    .default_backoff()
    .touched_objects();
    // Targets are watched as whole objects (their rollout state is in `status`), streamed and not
    // kept: each event is compared with what the status records, see `triggers`.
    let deployments = target_events(api::<Deployment>(&client, ns));
    let stateful_sets = target_events(api::<StatefulSet>(&client, ns));

    let ctx = Arc::new(Context::new(
        client.clone(),
        settings.clone(),
        owned_store.clone(),
        metrics,
    ));
    let ready_store = store.clone();
    let ready_owned = owned_store.clone();
    tokio::spawn(async move {
        // Polled, not awaited: a kube-runtime 5 store signals readiness through a one-waker
        // channel, and the controller's own runner waits on the same store, so a second waiter
        // can stay asleep forever (seen: /readyz at 503 for minutes after both lists were done).
        // A poll sees an initialised store at once, and the first observer records it for all.
        loop {
            let owned = ready_owned.wait_until_ready().now_or_never();
            let configs = ready_store.wait_until_ready().now_or_never();
            match (owned, configs) {
                (Some(Ok(())), Some(Ok(()))) => {
                    info!("initial watches synced");
                    let _ = ready.send(true);
                    break;
                }
                (Some(Err(_)), _) | (_, Some(Err(_))) => break,
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    });

    controller
        .owns_stream(owned)
        .watches_stream(
            secrets_meta,
            mapper::<Secret>(store.clone(), references_secret),
        )
        .watches_stream(
            config_maps_meta,
            mapper::<ConfigMap>(store.clone(), references_config_map),
        )
        .watches_stream(
            deployments,
            target_mapper(
                store.clone(),
                TargetKind::Deployment,
                fetch::deployment_state,
            ),
        )
        .watches_stream(
            stateful_sets,
            target_mapper(
                store.clone(),
                TargetKind::StatefulSet,
                fetch::stateful_set_state,
            ),
        )
        .with_config(controller::Config::default().concurrency(settings.concurrency))
        .shutdown_on_signal()
        .run(
            |obj, ctx| {
                let span = info_span!(
                    "reconcile",
                    namespace = obj.namespace().unwrap_or_default(),
                    name = obj.name_any()
                );
                async move {
                    ctx.metrics.reconciles.inc();
                    let started = std::time::Instant::now();
                    let result = reconcile(obj, ctx.clone()).await;
                    ctx.metrics
                        .duration
                        .observe(started.elapsed().as_secs_f64());
                    result
                }
                .instrument(span)
            },
            error_policy,
            ctx,
        )
        .for_each(|_| futures::future::ready(()))
        .await;
    info!("controller stopped");
    Ok(())
}

/// Why the controller could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(
        "cannot list OidcSsoConfigs; is the CRD installed? (kubectl apply --server-side -f crds/)"
    )]
    CrdMissing(#[source] kube::Error),
}

fn error_policy(obj: Arc<OidcSsoConfig>, error: &Error, ctx: Arc<Context>) -> Action {
    ctx.metrics.failure(error.metric_label());
    error!(
        namespace = obj.namespace().unwrap_or_default(),
        name = obj.name_any(),
        step = error.metric_label(),
        error = %chain(error),
        "reconcile failed; retrying"
    );
    Action::requeue(Duration::from_secs(15))
}

/// An error and its sources on one line (none of them carries a secret value).
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
