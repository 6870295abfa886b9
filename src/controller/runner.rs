//! Running the controller: the watches wired to the reconciler, readiness once the caches synced,
//! and what happens after a failed reconcile.

use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::runtime::controller::{self, Action, Controller};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::{Client, ResourceExt};
use tracing::{Instrument, error, info, info_span};

use super::reconcile::{Error, reconcile};
use super::{Context, Settings, watch as watches};
use crate::controller::steps::rollout::workloads::{deployment_state, stateful_set_state};
use crate::crd::{OidcSsoConfig, TargetKind};
use crate::metrics::{Metrics, Trigger};
use crate::names::annotations;
use crate::references::DataKind;

/// Why the controller could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The first list of `OidcSsoConfig`s failed.
    #[error(
        "cannot list OidcSsoConfigs; is the CRD installed? (kubectl apply --server-side -f crds/)"
    )]
    CrdMissing(#[source] kube::Error),
}

/// Runs the controller until a shutdown signal. `ready` is told once the initial watches synced.
pub async fn run(
    client: Client,
    settings: Settings,
    metrics: Arc<Metrics>,
    ready: tokio::sync::watch::Sender<bool>,
) -> Result<(), RunError> {
    let ns = settings.namespace.as_deref();
    // Fail early with a clear message when the CRD is missing, instead of a watch error loop.
    watches::api::<OidcSsoConfig>(&client, ns)
        .list(&kube::api::ListParams::default().limit(1))
        .await
        .map_err(RunError::CrdMissing)?;

    let (owned_store, owned_writer) = reflector::store::<Secret>();
    export_key_ages(&metrics, owned_store.clone());
    let owned = watches::owned_secrets(&client, ns, owned_writer);
    let (store, writer) = reflector::store::<OidcSsoConfig>();
    // The resource gauges of /metrics read this cache at scrape time (Metrics::resources_from).
    metrics.resources_from(store.clone());
    let ctx = Arc::new(Context::new(
        client.clone(),
        settings.clone(),
        owned_store.clone(),
        store.clone(),
        metrics,
    ));
    tokio::spawn(report_ready(store.clone(), owned_store, ready));
    let rechecks = ctx.take_rechecks();

    let m = &ctx.metrics;
    let memory = ctx.memory.clone();
    let resources = watches::resources(&client, ns, writer, move |r| memory.resource_stored(r))
        .inspect(counted_stream(m.clone(), Trigger::Resource));
    let checks = m.clone();
    let rechecks = futures::stream::iter(rechecks)
        .flatten()
        .inspect(move |_| checks.triggered(Trigger::ProviderCheck, 1));
    let owned_mapper = watches::owned_mapper(ctx.memory.clone());
    Controller::for_stream(resources, store.clone())
        .reconcile_on(rechecks)
        .watches_stream(owned, counted(m, Trigger::OwnedSecret, owned_mapper))
        .watches_stream(
            watches::metadata::<Secret>(&client, ns),
            counted(
                m,
                Trigger::Secret,
                watches::data_mapper(store.clone(), DataKind::Secret),
            ),
        )
        .watches_stream(
            watches::metadata::<ConfigMap>(&client, ns),
            counted(
                m,
                Trigger::ConfigMap,
                watches::data_mapper(store.clone(), DataKind::ConfigMap),
            ),
        )
        .watches_stream(
            watches::spec_changes(&client, ns),
            counted(
                m,
                Trigger::OtherResource,
                watches::conflict_mapper(store.clone()),
            ),
        )
        .watches_stream(
            watches::targets::<Deployment, _>(
                &client,
                ns,
                ctx.memory.relists_of(TargetKind::Deployment),
            ),
            counted(
                m,
                Trigger::Deployment,
                watches::target_mapper(
                    store.clone(),
                    ctx.memory.clone(),
                    TargetKind::Deployment,
                    deployment_state,
                ),
            ),
        )
        .watches_stream(
            watches::targets::<StatefulSet, _>(
                &client,
                ns,
                ctx.memory.relists_of(TargetKind::StatefulSet),
            ),
            counted(
                m,
                Trigger::StatefulSet,
                watches::target_mapper(
                    store.clone(),
                    ctx.memory.clone(),
                    TargetKind::StatefulSet,
                    stateful_set_state,
                ),
            ),
        )
        .with_config(controller::Config::default().concurrency(settings.concurrency))
        .shutdown_on_signal()
        .run(reconcile_measured, error_policy, ctx)
        .for_each(|_| futures::future::ready(()))
        .await;
    info!("controller stopped");
    Ok(())
}

/// `mapper`, counting the reconcile requests it makes under `source`.
fn counted<T, I>(
    metrics: &Arc<Metrics>,
    source: Trigger,
    mapper: impl Fn(T) -> I + Send + Sync + 'static,
) -> impl Fn(T) -> Vec<ObjectRef<OidcSsoConfig>> + Send + Sync + 'static
where
    I: IntoIterator<Item = ObjectRef<OidcSsoConfig>>,
{
    let metrics = metrics.clone();
    move |obj| {
        let requests: Vec<_> = mapper(obj).into_iter().collect();
        metrics.triggered(source, requests.len());
        requests
    }
}

/// Counts every successful item of a trigger stream under `source`.
fn counted_stream<T, E>(metrics: Arc<Metrics>, source: Trigger) -> impl FnMut(&Result<T, E>) {
    move |item| metrics.triggered(source, usize::from(item.is_ok()))
}

async fn reconcile_measured(obj: Arc<OidcSsoConfig>, ctx: Arc<Context>) -> Result<Action, Error> {
    let span = info_span!(
        "reconcile",
        namespace = obj.namespace().unwrap_or_default(),
        name = obj.name_any()
    );
    async move {
        ctx.metrics.reconciles.inc();
        let started = std::time::Instant::now();
        let object = ObjectRef::from_obj(obj.as_ref());
        let result = reconcile(obj, ctx.clone()).await;
        if result.is_ok() {
            ctx.succeeded(&object);
        }
        ctx.metrics
            .duration
            .observe(started.elapsed().as_secs_f64());
        result
    }
    .instrument(span)
    .await
}

/// Key ages for /metrics come from the owned-Secret cache at scrape time: always current, and a
/// deleted resource's key stops counting once its Secret is garbage-collected.
fn export_key_ages(metrics: &crate::metrics::Metrics, owned: Store<Secret>) {
    metrics.key_ages_from(move || {
        owned
            .state()
            .iter()
            .filter_map(|s| s.annotations().get(annotations::KEY_CREATED_AT))
            .filter_map(|t| t.parse::<jiff::Timestamp>().ok())
            .map(jiff::Timestamp::as_second)
            .collect()
    });
}

/// Tells `ready` once both stores hold their initial lists.
///
/// Polled, not awaited: a kube-runtime 5 store signals readiness through a one-waker channel, and
/// the controller's own runner waits on the same store, so a second waiter can stay asleep
/// forever (seen: /readyz at 503 for minutes after both lists were done). A poll sees an
/// initialised store at once, and the first observer records it for all.
async fn report_ready(
    resources: Store<OidcSsoConfig>,
    owned: Store<Secret>,
    ready: tokio::sync::watch::Sender<bool>,
) {
    loop {
        let owned = owned.wait_until_ready().now_or_never();
        let resources = resources.wait_until_ready().now_or_never();
        match (owned, resources) {
            (Some(Ok(())), Some(Ok(()))) => {
                info!("initial watches synced");
                let _ = ready.send(true);
                return;
            }
            (Some(Err(_)), _) | (_, Some(Err(_))) => return,
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

fn error_policy(obj: Arc<OidcSsoConfig>, error: &Error, ctx: Arc<Context>) -> Action {
    ctx.metrics.failure(error.metric_label());
    error!(
        namespace = obj.namespace().unwrap_or_default(),
        name = obj.name_any(),
        step = error.metric_label(),
        error = %crate::errors::chain(error),
        "reconcile failed; retrying"
    );
    Action::requeue(ctx.failed(ObjectRef::from_obj(obj.as_ref())))
}
