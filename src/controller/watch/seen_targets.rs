//! The last state the watch delivered of each target some resource rolls, so that a reconcile
//! reads it without a GET (a cold start of 1000 resources made 2000 of them).
//!
//! Only referenced targets are kept (the mapper that triggers their resources records them), so
//! unrelated Deployments cost no memory, and a target not kept is read from the API as before.
//! A watch that starts over re-lists: what the new list lacks was deleted in the gap and is
//! forgotten, so a deleted target is never reported from memory.
//!
//! A kept state can lag the operator's own rollout patch by a moment; acting on it at worst
//! repeats the patch with the same value, which changes nothing on the server (no second
//! rollout), and the patch's watch event then triggers the resource again.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use kube::runtime::watcher;

use crate::controller::steps::rollout::workloads::TargetState;
use crate::crd::TargetKind;

/// The kept states of one kind of target.
#[derive(Default)]
pub(in crate::controller) struct SeenTargets {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// By namespace, then name (looked up by `&str`: no allocation per watch event).
    states: HashMap<String, HashMap<String, TargetState>>,
    /// While the watch re-lists: the (namespace, name) listed so far.
    relisted: Option<HashSet<(String, String)>>,
}

impl SeenTargets {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The kept state of `namespace`/`name`; `None`: not kept, read it.
    pub(in crate::controller) fn get(&self, namespace: &str, name: &str) -> Option<TargetState> {
        self.lock().states.get(namespace)?.get(name).cloned()
    }

    /// Keeps what the watch delivered of a referenced target; `None` (deleted) forgets it.
    pub(in crate::controller) fn record(
        &self,
        namespace: &str,
        name: &str,
        state: Option<TargetState>,
    ) {
        let mut inner = self.lock();
        if let Some(listed) = inner.relisted.as_mut() {
            listed.insert((namespace.to_string(), name.to_string()));
        }
        match state {
            Some(state) => {
                inner
                    .states
                    .entry(namespace.to_string())
                    .or_default()
                    .insert(name.to_string(), state);
            }
            None => inner.remove(namespace, name),
        }
    }

    /// Forgets a target no resource rolls any more.
    pub(in crate::controller) fn forget(&self, namespace: &str, name: &str) {
        self.lock().remove(namespace, name);
    }

    /// Follows the watch's (re-)list: at its start begins noting what is listed, at its end
    /// forgets every kept target the list did not contain.
    pub(in crate::controller) fn observe<K>(&self, event: &watcher::Event<K>) {
        let mut inner = self.lock();
        match event {
            watcher::Event::Init => inner.relisted = Some(HashSet::new()),
            watcher::Event::InitDone => {
                if let Some(listed) = inner.relisted.take() {
                    for (namespace, names) in &mut inner.states {
                        names.retain(|name, _| listed.contains(&(namespace.clone(), name.clone())));
                    }
                    inner.states.retain(|_, names| !names.is_empty());
                }
            }
            _ => {}
        }
    }
}

impl Inner {
    fn remove(&mut self, namespace: &str, name: &str) {
        if let Some(names) = self.states.get_mut(namespace) {
            names.remove(name);
            if names.is_empty() {
                self.states.remove(namespace);
            }
        }
    }
}

/// One [`SeenTargets`] per target kind.
#[derive(Default)]
pub(in crate::controller) struct SeenByKind {
    deployments: SeenTargets,
    stateful_sets: SeenTargets,
}

impl SeenByKind {
    /// What follows the (re-)lists of the watch on `kind` (see [`SeenTargets::observe`]).
    pub(in crate::controller) fn relists_of<K>(
        self: &Arc<Self>,
        kind: TargetKind,
    ) -> impl Fn(&watcher::Event<K>) + Send + 'static {
        let seen = self.clone();
        move |event| seen.of(kind).observe(event)
    }

    /// The kept targets of `kind`.
    pub(in crate::controller) fn of(&self, kind: TargetKind) -> &SeenTargets {
        match kind {
            TargetKind::Deployment => &self.deployments,
            TargetKind::StatefulSet => &self.stateful_sets,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(uid: &str) -> TargetState {
        TargetState::rolled_out_one(uid, None)
    }

    #[test]
    fn a_recorded_state_is_read_back_until_the_target_is_deleted_or_let_go() {
        let seen = SeenTargets::default();
        assert_eq!(seen.get("ns", "om"), None);
        seen.record("ns", "om", Some(state("a")));
        seen.record("ns", "other", Some(state("b")));
        assert_eq!(seen.get("ns", "om"), Some(state("a")));
        assert_eq!(seen.get("elsewhere", "om"), None);
        seen.record("ns", "om", None);
        assert_eq!(seen.get("ns", "om"), None);
        seen.forget("ns", "other");
        assert_eq!(seen.get("ns", "other"), None);
    }

    #[test]
    fn a_relist_forgets_the_targets_it_no_longer_lists() {
        let seen = SeenTargets::default();
        seen.record("ns", "kept", Some(state("a")));
        seen.record("ns", "deleted-in-the-gap", Some(state("b")));
        seen.observe::<()>(&watcher::Event::Init);
        seen.record("ns", "kept", Some(state("a2")));
        // Until the list is complete, nothing is forgotten.
        assert_eq!(seen.get("ns", "deleted-in-the-gap"), Some(state("b")));
        seen.observe::<()>(&watcher::Event::InitDone);
        assert_eq!(seen.get("ns", "kept"), Some(state("a2")));
        assert_eq!(seen.get("ns", "deleted-in-the-gap"), None);
        // After the list, recording goes on as before.
        seen.record("ns", "new", Some(state("c")));
        assert_eq!(seen.get("ns", "new"), Some(state("c")));
    }
}
