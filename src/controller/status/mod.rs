//! Status in one place: typed conditions ([`conditions`]), the status built from what a
//! reconcile found ([`build`]), the Events its transitions announce ([`events`]), and the write.
//!
//! The status never holds a secret value (only hashes, key ids and fingerprints) and nothing in
//! it changes with time alone, so an unchanged resource gets no status write.

pub(super) mod bot_renewal;
pub(super) mod bot_token;
pub(super) mod build;
pub(super) use crate::conditions;
pub(super) mod events;
pub(super) mod server;

use kube::api::{Patch, PatchParams};
use kube::{Api, ResourceExt};
use serde_json::json;

use crate::controller::watch::memory::WatchMemory;
use crate::crd::{OidcSsoConfig, OidcSsoConfigStatus};
use crate::names::field_managers;

/// Writes `status` with server-side apply unless it equals the stored one, or the one this
/// operator wrote and the store has not seen yet (the watch memory). Returns whether it wrote.
pub(super) async fn write(
    api: &Api<OidcSsoConfig>,
    resource: &OidcSsoConfig,
    status: &OidcSsoConfigStatus,
    memory: &WatchMemory,
) -> Result<bool, kube::Error> {
    let held = memory
        .previous_status(resource)
        .or_else(|| resource.status.clone());
    if held.as_ref() == Some(status) {
        return Ok(false);
    }
    let body = json!({
        "apiVersion": "oidcsso.io/v1alpha1",
        "kind": "OidcSsoConfig",
        "status": status,
    });
    api.patch_status(
        &resource.name_any(),
        &PatchParams::apply(field_managers::STATUS).force(),
        &Patch::Apply(&body),
    )
    .await?;
    memory.remember_status(resource, status);
    Ok(true)
}
