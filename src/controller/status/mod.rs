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

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use kube::api::{Patch, PatchParams};
use kube::{Api, ResourceExt};
use serde_json::json;

use crate::crd::{OidcSsoConfig, OidcSsoConfigStatus, TargetStatus};
use crate::names::field_managers;

/// The last status each resource was given, until the controller's store has seen it.
///
/// A reconcile can start before the store holds the status the previous reconcile wrote (the
/// watch event of that write is still on its way, while an owned Secret's or a target's event
/// already triggered the next run). Built on the store's older copy, the status would differ
/// (transition times taken anew) and be patched again: a request per resource, which the cold
/// start of 1000 resources paid about a thousand times. So each write is remembered by the
/// resource's uid with the resourceVersion it was made on; while a reconcile holds that same
/// resourceVersion, the remembered status is what the server holds, and the next status is built
/// on it ([`Memo::previous`]). The resource watch tells the memo when the store has moved on
/// ([`Memo::observe`]), and the entry goes: it holds only writes in flight. The target watch
/// compares rollout steps with the remembered target entries, which a run records before it
/// patches the targets ([`Memo::expect_targets`]): a target's event that arrives before the
/// store has our status would otherwise look like news.
#[derive(Debug, Default)]
pub(crate) struct Memo {
    written: Mutex<HashMap<String, Written>>,
}

#[derive(Debug)]
struct Written {
    /// The resourceVersion of the copy the status was computed from.
    on: String,
    /// The status written on that version, if any yet.
    status: Option<OidcSsoConfigStatus>,
    /// The target entries the run on that version reports, once it has patched the targets.
    targets: Option<Vec<TargetStatus>>,
}

impl Memo {
    /// The status this operator last wrote on the resource version in hand, if the store has
    /// not seen that write yet.
    pub(crate) fn previous(&self, resource: &OidcSsoConfig) -> Option<OidcSsoConfigStatus> {
        self.current(resource, |w| w.status.clone()).flatten()
    }

    /// The target entries this operator last wrote or is about to write on the resource
    /// version in hand, if the store has not seen that write yet.
    pub(crate) fn targets(&self, resource: &OidcSsoConfig) -> Option<Vec<TargetStatus>> {
        self.current(resource, |w| {
            w.targets
                .clone()
                .or_else(|| w.status.as_ref().map(|s| s.targets.clone()))
        })
        .flatten()
    }

    /// Records the target entries the status of this run will report, before the rollout
    /// patches that make them true: the targets' watch events for those patches can arrive
    /// before this run's status write, and compared with the older entries each would look like
    /// news (a reconcile for nothing, two or three per target in a cold start). If the run fails
    /// before its status write, a later step of the rollout still differs from these entries.
    pub(crate) fn expect_targets(&self, resource: &OidcSsoConfig, targets: Vec<TargetStatus>) {
        let status = self.previous(resource);
        self.insert(resource, status, Some(targets));
    }

    /// Called with every copy of a resource the store receives: an entry made on another
    /// version is history, and goes.
    pub(crate) fn observe(&self, resource: &OidcSsoConfig) {
        let Some(uid) = resource.uid() else { return };
        let version = resource.resource_version().unwrap_or_default();
        let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        if written.get(&uid).is_some_and(|w| w.on != version) {
            written.remove(&uid);
        }
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

    fn remember(&self, resource: &OidcSsoConfig, status: &OidcSsoConfigStatus) {
        self.insert(resource, Some(status.clone()), None);
    }

    fn insert(
        &self,
        resource: &OidcSsoConfig,
        status: Option<OidcSsoConfigStatus>,
        targets: Option<Vec<TargetStatus>>,
    ) {
        let Some(uid) = resource.uid() else { return };
        let entry = Written {
            on: resource.resource_version().unwrap_or_default(),
            status,
            targets,
        };
        let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        // Entries whose resource went before the store saw the write are never looked at again;
        // the map is only a saving, so past a bound it simply starts over.
        if written.len() >= MEMO_MAX {
            written.clear();
        }
        written.insert(uid, entry);
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

/// Entries [`Memo`] keeps at most (a few kilobytes each, only while a write is in flight).
const MEMO_MAX: usize = 16_384;

/// Writes `status` with server-side apply unless it equals the stored one, or the one this
/// operator wrote and the store has not seen yet ([`Memo`]). Returns whether it wrote.
pub(super) async fn write(
    api: &Api<OidcSsoConfig>,
    resource: &OidcSsoConfig,
    status: &OidcSsoConfigStatus,
    memo: &Memo,
) -> Result<bool, kube::Error> {
    let held = memo.previous(resource).or_else(|| resource.status.clone());
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
    memo.remember(resource, status);
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::{TargetKind, TargetPhase};

    fn resource(version: &str) -> OidcSsoConfig {
        let mut r: OidcSsoConfig = serde_json::from_value(json!({
            "apiVersion": "oidcsso.io/v1alpha1", "kind": "OidcSsoConfig",
            "metadata": {"name": "c", "namespace": "n", "uid": "u1"},
            "spec": {"provider": {"issuer": "https://idp.example.com", "clientType": "Public",
                                  "clientId": "ui"},
                     "authorizer": {"adminPrincipals": ["alice"]},
                     "server": {"externalUrl": "https://om.example.com"}}
        }))
        .expect("resource");
        r.metadata.resource_version = Some(version.into());
        r
    }

    fn target(phase: TargetPhase) -> TargetStatus {
        TargetStatus {
            kind: TargetKind::Deployment,
            name: "app".into(),
            phase,
            hash: Some("h".into()),
            updated: Some("0/1".into()),
            proven: None,
            server_version: None,
        }
    }

    #[test]
    fn a_write_is_the_previous_status_until_the_store_moves_on() {
        let memo = Memo::default();
        let status = OidcSsoConfigStatus {
            config_hash: Some("h".into()),
            ..OidcSsoConfigStatus::default()
        };
        memo.remember(&resource("1"), &status);
        assert_eq!(memo.previous(&resource("1")), Some(status.clone()));
        memo.observe(&resource("1"));
        assert_eq!(memo.len(), 1, "the same version is no news");
        memo.observe(&resource("2"));
        assert_eq!(memo.len(), 0, "the store has the write");
        assert_eq!(memo.previous(&resource("1")), None);
    }

    #[test]
    fn expected_targets_keep_the_written_status_and_answer_the_target_watch() {
        let memo = Memo::default();
        let status = OidcSsoConfigStatus {
            targets: vec![target(TargetPhase::RolledOut)],
            ..OidcSsoConfigStatus::default()
        };
        memo.remember(&resource("1"), &status);
        memo.expect_targets(&resource("1"), vec![target(TargetPhase::Rolling)]);
        assert_eq!(memo.previous(&resource("1")), Some(status));
        assert_eq!(
            memo.targets(&resource("1")),
            Some(vec![target(TargetPhase::Rolling)])
        );
        assert_eq!(memo.targets(&resource("2")), None, "a newer copy wins");
    }
}
