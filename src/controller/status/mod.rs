//! Status in one place: typed conditions ([`conditions`]), the status built from what a
//! reconcile found ([`build`]), the Events its transitions announce ([`events`]), and the write.
//!
//! The status never holds a secret value (only hashes, key ids and fingerprints) and nothing in
//! it changes with time alone, so an unchanged resource gets no status write.

pub(super) mod build;
pub(super) mod conditions;
pub(super) mod events;

use kube::api::{Patch, PatchParams};
use kube::{Api, ResourceExt};
use serde_json::json;

use crate::crd::{OidcSsoConfig, OidcSsoConfigStatus};
use crate::names::field_managers;

/// Writes `status` with server-side apply unless it equals the stored one. Returns whether it
/// wrote.
pub(super) async fn write(
    api: &Api<OidcSsoConfig>,
    resource: &OidcSsoConfig,
    status: &OidcSsoConfigStatus,
) -> Result<bool, kube::Error> {
    if resource.status.as_ref() == Some(status) {
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
    Ok(true)
}
