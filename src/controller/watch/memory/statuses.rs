//! The last status each resource was given, until the controller's store has seen it.
//!
//! A reconcile can start before the store holds the status the previous reconcile wrote (the
//! watch event of that write is still on its way, while an owned Secret's or a target's event
//! already triggered the next run). Built on the store's older copy, the status would differ
//! (transition times taken anew) and be patched again: a request per resource, which the cold
//! start of 1000 resources paid about a thousand times. So each write is remembered by the
//! resource's uid with the resourceVersion it was made on; while a reconcile holds that same
//! resourceVersion, the remembered status is what the server holds, and the next status is built
//! on it. The resource watch says when the store has moved on ([`Statuses::observe`]), and the
//! entry goes: it holds only writes in flight. The target watch compares rollout steps with the
//! remembered target entries, which a run records before it patches the targets
//! ([`Statuses::expect_targets`]): a target's event that arrives before the store has our status
//! would otherwise look like news.

use std::collections::HashMap;

use kube::ResourceExt;

use super::Table;
use crate::crd::{OidcSsoConfig, OidcSsoConfigStatus, TargetStatus};

/// Writes in flight by resource uid.
#[derive(Debug, Default)]
pub(super) struct Statuses {
    written: HashMap<String, Written>,
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

impl Table for Statuses {
    fn len(&self) -> usize {
        self.written.len()
    }

    fn clear(&mut self) {
        self.written.clear();
    }
}

impl Statuses {
    pub(super) fn previous(&mut self, resource: &OidcSsoConfig) -> Option<OidcSsoConfigStatus> {
        self.current(resource, |w| w.status.clone()).flatten()
    }

    pub(super) fn targets(&mut self, resource: &OidcSsoConfig) -> Option<Vec<TargetStatus>> {
        self.current(resource, |w| {
            w.targets
                .clone()
                .or_else(|| w.status.as_ref().map(|s| s.targets.clone()))
        })
        .flatten()
    }

    /// If the run fails before its status write, a later step of the rollout still differs from
    /// these entries, so nothing is missed.
    pub(super) fn expect_targets(&mut self, resource: &OidcSsoConfig, targets: Vec<TargetStatus>) {
        let status = self.previous(resource);
        self.insert(resource, status, Some(targets));
    }

    pub(super) fn remember(&mut self, resource: &OidcSsoConfig, status: &OidcSsoConfigStatus) {
        self.insert(resource, Some(status.clone()), None);
    }

    /// An entry made on another version than the stored copy's is history, and goes.
    pub(super) fn observe(&mut self, resource: &OidcSsoConfig) {
        let Some(uid) = resource.uid() else { return };
        let version = resource.resource_version().unwrap_or_default();
        if self.written.get(&uid).is_some_and(|w| w.on != version) {
            self.written.remove(&uid);
        }
    }

    /// `f` of the entry for `resource` while it is current; an entry the store has moved past is
    /// dropped.
    fn current<T>(&mut self, resource: &OidcSsoConfig, f: impl FnOnce(&Written) -> T) -> Option<T> {
        let uid = resource.uid()?;
        let version = resource.resource_version().unwrap_or_default();
        match self.written.get(&uid) {
            Some(w) if w.on == version => Some(f(w)),
            Some(_) => {
                self.written.remove(&uid);
                None
            }
            None => None,
        }
    }

    fn insert(
        &mut self,
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
        self.written.insert(uid, entry);
    }
}
