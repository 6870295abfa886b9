//! Status in one place: typed conditions ([`conditions`]), the status built from what a
//! reconcile found ([`build`]), the Events its transitions announce ([`events`]), and the write.
//!
//! The status never holds a secret value (only hashes, key ids and fingerprints) and nothing in
//! it changes with time alone, so an unchanged resource gets no status write.

pub(super) mod build;
pub(super) mod conditions;
pub(super) mod events;

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use kube::api::{Patch, PatchParams};
use kube::{Api, ResourceExt};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::crd::{OidcSsoConfig, OidcSsoConfigStatus, TargetStatus};
use crate::names::field_managers;

/// The last status each resource was given, until the controller's store has seen it.
///
/// A reconcile can start before the store holds the status the previous reconcile wrote (the
/// watch event of that write is still on its way, while an owned Secret's or a target's event
/// already triggered the next run). Compared with the store's copy, the same status would look
/// changed and be patched again: a no-op on the server, but a request per resource, which the
/// cold start of 1000 resources paid about a thousand times. So each write is remembered by the
/// resource's uid with the resourceVersion it was made on; while a reconcile sees that same
/// resourceVersion, the remembered status is what the server holds. Once the store has moved on,
/// the entry is dropped: the store's copy is current again. Statuses are kept as a digest plus
/// the target entries, which the target watch compares rollout steps with (a target's event that
/// arrives before the store has our status would otherwise look like news).
#[derive(Debug, Default)]
pub(crate) struct Memo {
    written: Mutex<HashMap<String, Written>>,
}

#[derive(Debug)]
struct Written {
    /// The resourceVersion of the copy the status was computed from.
    on: String,
    digest: [u8; 32],
    targets: Vec<TargetStatus>,
}

impl Memo {
    /// Whether `status` is what this operator last wrote on the resource version in hand.
    fn holds(&self, resource: &OidcSsoConfig, digest: &[u8; 32]) -> bool {
        self.current(resource, |w| w.digest == *digest)
            .unwrap_or(false)
    }

    /// The target entries of the status last written on the resource version in hand, if the
    /// store has not seen that write yet.
    pub(crate) fn targets(&self, resource: &OidcSsoConfig) -> Option<Vec<TargetStatus>> {
        self.current(resource, |w| w.targets.clone())
    }

    /// `f` of the entry for `resource` while it is current; an entry the store has moved past is
    /// dropped.
    fn current<T>(&self, resource: &OidcSsoConfig, f: impl FnOnce(&Written) -> T) -> Option<T> {
        let uid = resource.uid()?;
        let version = resource.resource_version().unwrap_or_default();
        let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        match written.get(&uid) {
            Some(w) if w.on == version => Some(f(w)),
            Some(_) => {
                written.remove(&uid);
                None
            }
            None => None,
        }
    }

    fn remember(&self, resource: &OidcSsoConfig, status: &OidcSsoConfigStatus, digest: [u8; 32]) {
        if let Some(uid) = resource.uid() {
            let entry = Written {
                on: resource.resource_version().unwrap_or_default(),
                digest,
                targets: status.targets.clone(),
            };
            let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
            // Entries of deleted resources are never looked at again; the map is only a saving,
            // so past a bound it simply starts over.
            if written.len() >= MEMO_MAX {
                written.clear();
            }
            written.insert(uid, entry);
        }
    }

    /// Entries held (for tests and metrics).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.written
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// Entries [`Memo`] keeps at most (a few hundred bytes each).
const MEMO_MAX: usize = 16_384;

fn digest(status: &OidcSsoConfigStatus) -> [u8; 32] {
    Sha256::digest(serde_json::to_vec(status).unwrap_or_default()).into()
}

/// Writes `status` with server-side apply unless it equals the stored one, or the one this
/// operator wrote and the store has not seen yet ([`Memo`]). Returns whether it wrote.
pub(super) async fn write(
    api: &Api<OidcSsoConfig>,
    resource: &OidcSsoConfig,
    status: &OidcSsoConfigStatus,
    memo: &Memo,
) -> Result<bool, kube::Error> {
    if resource.status.as_ref() == Some(status) {
        return Ok(false);
    }
    let digest = digest(status);
    if memo.holds(resource, &digest) {
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
    memo.remember(resource, status, digest);
    Ok(true)
}
