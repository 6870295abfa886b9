//! Rollout: put the config hash on each target's pod template, so Kubernetes rolls it, and
//! report how far each rollout got.
//!
//! The patch is a server-side apply of one annotation under its own field manager, with the
//! workload's uid as a precondition, so a workload deleted and recreated under the same name in
//! the meantime is not patched by mistake (the restarter pattern of Stackable's commons-operator).
//! Nothing else on the workload is touched. A target already carrying the hash is not written,
//! which is why an operator restart or a resync causes no rollout.

pub(in crate::controller) mod wiring;
pub(in crate::controller) mod workloads;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use kube::api::{ApiResource, DynamicObject, Patch, PatchParams};
use kube::{Api, Client};
use serde_json::json;

use crate::controller::steps::rollout::workloads::Target;
use crate::crd::{TargetKind, TargetPhase, TargetStatus};
use crate::names::{annotations, field_managers};

/// Why a target could not be patched.
#[derive(Debug, thiserror::Error)]
#[error("failed to set the config hash on {kind:?} {name}")]
pub struct Error {
    /// Kind of the target.
    pub kind: TargetKind,
    /// Its name.
    pub name: String,
    /// The API error.
    #[source]
    pub source: kube::Error,
}

/// Marks every existing target without `hash` as patched with it and none of its replicas
/// updated: its state right after [`roll`].
pub(in crate::controller) fn mark_started(targets: &mut [Target], hash: &str) {
    for s in targets.iter_mut().filter_map(|t| t.state.as_mut()) {
        if s.hash.as_deref() != Some(hash) {
            s.hash = Some(hash.to_string());
            s.rolled_out = false;
            s.updated_replicas = 0;
        }
    }
}

/// Sets `hash` on every existing target that lacks it, all targets at once. Returns the targets
/// it patched.
pub(in crate::controller) async fn roll(
    client: &Client,
    namespace: &str,
    targets: &[Target],
    hash: &str,
) -> Result<Vec<Target>, Error> {
    let stale = targets.iter().filter(|t| {
        t.state
            .as_ref()
            .is_some_and(|s| s.hash.as_deref() != Some(hash))
    });
    futures::future::try_join_all(stale.map(|t| async move {
        patch(client, namespace, t, hash).await?;
        Ok(t.clone())
    }))
    .await
}

async fn patch(client: &Client, namespace: &str, t: &Target, hash: &str) -> Result<(), Error> {
    let uid = t.state.as_ref().map(|s| s.uid.as_str());
    // One request for either kind: the same apply body at the kind's own path.
    let resource = match t.reference.kind {
        TargetKind::Deployment => ApiResource::erase::<Deployment>(&()),
        TargetKind::StatefulSet => ApiResource::erase::<StatefulSet>(&()),
    };
    let body = json!({
        "apiVersion": resource.api_version,
        "kind": resource.kind,
        "metadata": {"name": t.reference.name, "namespace": namespace, "uid": uid},
        "spec": {"template": {"metadata": {"annotations": {annotations::CONFIG_HASH: hash}}}},
    });
    let params = PatchParams::apply(field_managers::ROLLOUT).force();
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), namespace, &resource);
    api.patch(&t.reference.name, &params, &Patch::Apply(&body))
        .await
        .map(|_| ())
        .map_err(|source| Error {
            kind: t.reference.kind,
            name: t.reference.name.clone(),
            source,
        })
}

/// Progress of each target towards `hash`. `held` marks a configuration not rolled out on purpose
/// (provider verification failed).
pub(in crate::controller) fn progress(
    targets: &[Target],
    hash: &str,
    held: bool,
) -> Vec<TargetStatus> {
    targets
        .iter()
        .map(|t| {
            let phase = match &t.state {
                None => TargetPhase::Missing,
                Some(s) if s.hash.as_deref() != Some(hash) && held => TargetPhase::Pending,
                Some(s) if s.hash.as_deref() == Some(hash) && s.rolled_out => {
                    TargetPhase::RolledOut
                }
                Some(_) => TargetPhase::Rolling,
            };
            TargetStatus {
                kind: t.reference.kind,
                name: t.reference.name.clone(),
                phase,
                hash: t.state.as_ref().and_then(|s| s.hash.clone()),
                updated: t
                    .state
                    .as_ref()
                    .map(crate::controller::steps::rollout::workloads::TargetState::replicas_text),
                proven: None,
                server_version: None,
            }
        })
        .collect()
}
