//! The watch streams and the mappers from a watched object to the resources that reference it
//! (through [`References`], the same answer the fetch step reads by).

pub(in crate::controller) mod cache_form;
pub(in crate::controller) mod memory;
pub(in crate::controller) mod triggers;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Secret;
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Resource, ResourceExt};

use std::sync::Arc;

use crate::controller::steps::rollout::workloads::TargetState;
use crate::controller::watch::memory::WatchMemory;
use crate::crd::{OidcSsoConfig, TargetKind};
use crate::names::{OPERATOR, annotations, labels};
use crate::references::{DataKind, References};

/// Objects per initial LIST page. Each page is held as text and as objects at once while it is
/// decoded, which sets the operator's peak memory at start-up; 100 instead of the default 500
/// costs a few more requests once, for a smaller peak.
const LIST_PAGE: u32 = 100;

/// An API for every namespace, or for one.
pub(in crate::controller) fn api<K>(client: &Client, namespace: Option<&str>) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
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
        a.remove(annotations::KUBECTL_LAST_APPLIED);
    }
}

/// The owned Secrets, cached in cache form, as a reflector stream; `writer` fills `store`.
pub(in crate::controller) fn owned_secrets(
    client: &Client,
    namespace: Option<&str>,
    writer: reflector::store::Writer<Secret>,
) -> impl futures::Stream<Item = Result<Secret, watcher::Error>> + use<> {
    let selector = format!("{}={OPERATOR}", labels::MANAGED_BY);
    reflector::reflector(
        writer,
        watcher(
            api::<Secret>(client, namespace),
            watcher::Config::default()
                .labels(&selector)
                .page_size(LIST_PAGE),
        )
        .modify(|secret| {
            trim_for_cache(secret);
            cache_form::to_cache_form(secret);
        }),
    )
    .default_backoff()
    .filter_map(|event| futures::future::ready(touched_marking_deletions(event)))
}

/// The resources, stored in `writer`'s store, each copy shown to `stored` once the store has it,
/// and passed on only when something a reconcile acts on changed (not on our own status writes:
/// see `triggers`).
pub(in crate::controller) fn resources<F>(
    client: &Client,
    namespace: Option<&str>,
    writer: reflector::store::Writer<OidcSsoConfig>,
    stored: F,
) -> impl futures::Stream<Item = Result<OidcSsoConfig, watcher::Error>> + use<F>
where
    F: Fn(&OidcSsoConfig) + Send + 'static,
{
    reflector::reflector(
        writer,
        watcher(
            api::<OidcSsoConfig>(client, namespace),
            watcher::Config::default()
                .any_semantic()
                .page_size(LIST_PAGE),
        )
        .modify(trim_for_cache),
    )
    .default_backoff()
    .applied_objects()
    .inspect_ok(stored)
    .predicate_filter(triggers::resource_inputs, Default::default())
}

/// Metadata-only events of every object of kind `K` (never stored).
pub(in crate::controller) fn metadata<K>(
    client: &Client,
    namespace: Option<&str>,
) -> impl futures::Stream<Item = Result<PartialObjectMeta<K>, watcher::Error>> + use<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + 'static,
{
    watcher(
        api::<PartialObjectMeta<K>>(client, namespace),
        watcher::Config::default(),
    )
    .default_backoff()
    .touched_objects()
}

/// Every change of a target kind; a deletion comes through as the object marked deleted, which
/// the state readers in `workloads` treat as missing. `relists` sees each (re-)list begin and end.
pub(in crate::controller) fn targets<K, F>(
    client: &Client,
    namespace: Option<&str>,
    relists: F,
) -> impl futures::Stream<Item = Result<K, watcher::Error>> + use<K, F>
where
    F: Fn(&watcher::Event<K>) + Send + 'static,
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + 'static,
{
    watcher(
        api::<K>(client, namespace),
        watcher::Config::default().page_size(LIST_PAGE),
    )
    .default_backoff()
    .inspect_ok(relists)
    .filter_map(|event| futures::future::ready(touched_marking_deletions(event)))
}

/// The object an event touched; a deleted one is marked with a deletion timestamp (the
/// apiserver does not always set one), so that mappers can tell it from a change.
fn touched_marking_deletions<K: Resource>(
    event: Result<watcher::Event<K>, watcher::Error>,
) -> Option<Result<K, watcher::Error>> {
    match event {
        Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o)) => Some(Ok(o)),
        Ok(watcher::Event::Delete(mut o)) => {
            o.meta_mut().deletion_timestamp.get_or_insert_with(|| {
                k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(jiff::Timestamp::now())
            });
            Some(Ok(o))
        }
        Ok(watcher::Event::Init | watcher::Event::InitDone) => None,
        Err(e) => Some(Err(e)),
    }
}

/// Maps an owned Secret to the resource it belongs to, by its `oidcsso.io/config` label rather than
/// its owner reference: a retained keys Secret has none. The echo of the operator's own write is
/// no trigger ([`WatchMemory::is_echo`]).
pub(in crate::controller) fn owned_mapper(
    memory: Arc<WatchMemory>,
) -> impl Fn(Secret) -> Option<ObjectRef<OidcSsoConfig>> + Send + Sync + 'static {
    move |secret| {
        if memory.is_echo(&secret) {
            return None;
        }
        let namespace = secret.namespace()?;
        let name = secret.labels().get(labels::CONFIG)?.clone();
        Some(ObjectRef::new(&name).within(&namespace))
    }
}

/// Every `OidcSsoConfig` whose spec changed or that was deleted (streamed, not stored): what can
/// end another resource's target conflict.
pub(in crate::controller) fn spec_changes(
    client: &Client,
    namespace: Option<&str>,
) -> impl futures::Stream<Item = Result<OidcSsoConfig, watcher::Error>> + use<> {
    targets::<OidcSsoConfig, _>(client, namespace, |_| ()).predicate_filter(
        |r: &OidcSsoConfig| {
            let generation = u64::try_from(r.metadata.generation.unwrap_or_default()).ok()?;
            Some(generation << 1 | u64::from(r.metadata.deletion_timestamp.is_some()))
        },
        Default::default(),
    )
}

/// Maps a changed or deleted resource to the others in its namespace that report a target
/// conflict: the owner may have let the target go.
pub(in crate::controller) fn conflict_mapper(
    store: Store<OidcSsoConfig>,
) -> impl Fn(OidcSsoConfig) -> Vec<ObjectRef<OidcSsoConfig>> + Send + Sync + 'static {
    move |changed| {
        let namespace = changed.namespace();
        store
            .state()
            .iter()
            .filter(|r| r.namespace() == namespace && r.uid() != changed.uid())
            .filter(|r| {
                r.status.as_ref().is_some_and(|s| {
                    s.conditions
                        .iter()
                        .any(|c| c.type_ == "Ready" && c.reason == "TargetConflict")
                })
            })
            .map(|r| ObjectRef::from_obj(r.as_ref()))
            .collect()
    }
}

/// Maps a Secret or ConfigMap to the resources in its namespace that read it.
pub(in crate::controller) fn data_mapper<K: Resource>(
    store: Store<OidcSsoConfig>,
    kind: DataKind,
) -> impl Fn(PartialObjectMeta<K>) -> Vec<ObjectRef<OidcSsoConfig>> + Send + Sync + 'static {
    move |obj| {
        let (Some(ns), name) = (obj.namespace(), obj.name_any()) else {
            return Vec::new();
        };
        store
            .state()
            .iter()
            .filter(|r| r.namespace().as_deref() == Some(ns.as_str()))
            .filter(|r| References::spec_reads(&r.spec, kind, &name))
            .map(|r| ObjectRef::from_obj(r.as_ref()))
            .collect()
    }
}

/// Maps a target to the resources in its namespace that roll it and whose status it changes:
/// the status this operator last wrote ([`WatchMemory::written_targets`]) while the store has not
/// seen it yet, else the stored one. Keeps the state of a target some resource rolls in `memory`,
/// for the reconciles.
pub(in crate::controller) fn target_mapper<K: Resource + 'static>(
    store: Store<OidcSsoConfig>,
    memory: Arc<WatchMemory>,
    kind: TargetKind,
    state: fn(&K) -> Option<TargetState>,
) -> impl Fn(K) -> Vec<ObjectRef<OidcSsoConfig>> + Send + Sync + 'static {
    move |obj| {
        let (Some(ns), Some(name)) = (obj.meta().namespace.clone(), obj.meta().name.clone()) else {
            return Vec::new();
        };
        let now = state(&obj);
        let rollers: Vec<_> = store
            .state()
            .into_iter()
            .filter(|r| r.namespace().as_deref() == Some(ns.as_str()))
            .filter(|r| References::spec_rolls(&r.spec, kind, &name))
            .collect();
        if rollers.is_empty() {
            memory.forget_target(kind, &ns, &name);
            return Vec::new();
        }
        memory.record_target(kind, &ns, &name, now.clone());
        rollers
            .iter()
            .filter(|r| {
                let memo = memory.written_targets(r);
                let stored = r.status.as_ref().map(|s| s.targets.as_slice());
                let recorded = memo.as_deref().or(stored).unwrap_or_default();
                triggers::target_changed(recorded, kind, &name, now.as_ref())
            })
            .map(|r| ObjectRef::from_obj(r.as_ref()))
            .collect()
    }
}
