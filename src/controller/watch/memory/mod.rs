//! The watch memory: what this process wrote or what the watch delivered, kept so that a
//! reconcile neither wakes for its own writes nor reads again what the watch already showed.
//!
//! # The invariant
//!
//! **Our own writes wake nothing, and what the watch delivered is not read again; anything else
//! (someone else's change, a deletion, a copy the store has moved past) gets through.** Every
//! entry here is only a saving: an entry forgotten costs one request or one needless reconcile,
//! never a missed one. An entry kept too long is the one mistake that matters (a resource that
//! is never reconciled again), so each table says when its entries stop counting:
//!
//! | table | written by | read by | stops counting when |
//! |---|---|---|---|
//! | [`statuses`] | the status write, the roll (before its patches) | a reconcile's start, the target mapper | the resource store holds another resourceVersion |
//! | [`secrets`] | the apply step, before each Secret write | the owned-Secret mapper | the Secret shows other content, or is deleted |
//! | [`targets`] | the target mapper (watch events) | the fetch step | the target is deleted, let go, or missing from a re-list |
//!
//! Every table is remembered *before* the write it stands for: under load the watch can deliver
//! the event before the write's own answer. The cold-start orderings (event before answer,
//! store lag, a re-list gap) are replayed across all three in `replay_tests`.
//!
//! One lock guards all three (each operation is a map lookup; no await is held across it), and
//! one bound applies to each: past [`MAX_ENTRIES`] a table starts over, which the invariant makes
//! safe.

mod secrets;
mod statuses;
mod targets;

#[cfg(test)]
mod replay_tests;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use k8s_openapi::api::core::v1::Secret;
use kube::runtime::watcher;

use crate::controller::steps::rollout::workloads::TargetState;
use crate::crd::{OidcSsoConfig, OidcSsoConfigStatus, TargetKind, TargetStatus};

/// Entries a table keeps at most (a status entry is a few kilobytes, the others about 100
/// bytes); past it the table starts over.
const MAX_ENTRIES: usize = 16_384;

/// A table of the memory, for the one bound policy.
trait Table {
    fn len(&self) -> usize;
    fn clear(&mut self);

    /// Called before every insert: a full table starts over.
    fn make_room(&mut self) {
        if self.len() >= MAX_ENTRIES {
            self.clear();
        }
    }
}

/// The three tables behind one lock (see the module's header for what each holds).
#[derive(Debug, Default)]
pub(crate) struct WatchMemory {
    tables: Mutex<Tables>,
}

#[derive(Debug, Default)]
struct Tables {
    statuses: statuses::Statuses,
    secrets: secrets::Echoes,
    deployments: targets::Seen,
    stateful_sets: targets::Seen,
}

impl Tables {
    fn targets(&mut self, kind: TargetKind) -> &mut targets::Seen {
        match kind {
            TargetKind::Deployment => &mut self.deployments,
            TargetKind::StatefulSet => &mut self.stateful_sets,
        }
    }
}

impl WatchMemory {
    fn lock(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(PoisonError::into_inner)
    }

    // Statuses.

    /// The status this operator last wrote on the resource version in hand, if the store has
    /// not seen that write yet.
    pub(in crate::controller) fn previous_status(
        &self,
        resource: &OidcSsoConfig,
    ) -> Option<OidcSsoConfigStatus> {
        self.lock().statuses.previous(resource)
    }

    /// The target entries this operator last wrote or is about to write on the resource version
    /// in hand, if the store has not seen that write yet.
    pub(in crate::controller) fn written_targets(
        &self,
        resource: &OidcSsoConfig,
    ) -> Option<Vec<TargetStatus>> {
        self.lock().statuses.targets(resource)
    }

    /// Records the status just written on the resource version in hand.
    pub(in crate::controller) fn remember_status(
        &self,
        resource: &OidcSsoConfig,
        status: &OidcSsoConfigStatus,
    ) {
        let mut tables = self.lock();
        tables.statuses.make_room();
        tables.statuses.remember(resource, status);
    }

    /// Records the target entries this run's status will report, before the rollout patches
    /// that make them true.
    pub(in crate::controller) fn expect_targets(
        &self,
        resource: &OidcSsoConfig,
        targets: Vec<TargetStatus>,
    ) {
        let mut tables = self.lock();
        tables.statuses.make_room();
        tables.statuses.expect_targets(resource, targets);
    }

    /// Called with every copy of a resource the store receives.
    pub(in crate::controller) fn resource_stored(&self, resource: &OidcSsoConfig) {
        self.lock().statuses.observe(resource);
    }

    // Owned Secrets.

    /// Remembers that this process is about to write `desired` (in cache form).
    pub(in crate::controller) fn expect_secret(&self, desired: &Secret) {
        let mut tables = self.lock();
        tables.secrets.make_room();
        tables.secrets.expect(desired);
    }

    /// Whether `seen` (an event's object, in cache form) holds what this process last asked it
    /// to hold. A deletion is never an echo.
    pub(in crate::controller) fn is_echo(&self, seen: &Secret) -> bool {
        self.lock().secrets.is_echo(seen)
    }

    // Targets.

    /// The kept state of a target; `None`: not kept, read it.
    pub(in crate::controller) fn seen_target(
        &self,
        kind: TargetKind,
        namespace: &str,
        name: &str,
    ) -> Option<TargetState> {
        self.lock().targets(kind).get(namespace, name)
    }

    /// Keeps what the watch delivered of a referenced target; `None` (deleted) forgets it.
    pub(in crate::controller) fn record_target(
        &self,
        kind: TargetKind,
        namespace: &str,
        name: &str,
        state: Option<TargetState>,
    ) {
        let mut tables = self.lock();
        let seen = tables.targets(kind);
        seen.make_room();
        seen.record(namespace, name, state);
    }

    /// Forgets a target no resource rolls any more.
    pub(in crate::controller) fn forget_target(
        &self,
        kind: TargetKind,
        namespace: &str,
        name: &str,
    ) {
        self.lock().targets(kind).forget(namespace, name);
    }

    /// What follows the (re-)lists of the watch on `kind`: a target the new list lacks was
    /// deleted in the gap and is forgotten.
    pub(in crate::controller) fn relists_of<K>(
        self: &Arc<Self>,
        kind: TargetKind,
    ) -> impl Fn(&watcher::Event<K>) + Send + 'static {
        let memory = self.clone();
        move |event| memory.lock().targets(kind).observe(event)
    }

    /// Entries held per table (statuses, secrets, targets), for tests.
    #[cfg(test)]
    pub(in crate::controller) fn sizes(&self) -> (usize, usize, usize) {
        let tables = self.lock();
        (
            tables.statuses.len(),
            tables.secrets.len(),
            tables.deployments.len() + tables.stateful_sets.len(),
        )
    }
}
