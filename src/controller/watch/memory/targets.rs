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

use kube::runtime::watcher;

use super::Table;
use crate::controller::steps::rollout::workloads::TargetState;

/// The kept states of one kind of target.
#[derive(Debug, Default)]
pub(super) struct Seen {
    /// By namespace, then name (looked up by `&str`: no allocation per watch event).
    states: HashMap<String, HashMap<String, TargetState>>,
    /// Entries in `states`.
    len: usize,
    /// While the watch re-lists: the (namespace, name) listed so far.
    relisted: Option<HashSet<(String, String)>>,
}

impl Table for Seen {
    fn len(&self) -> usize {
        self.len
    }

    fn clear(&mut self) {
        self.states.clear();
        self.len = 0;
    }
}

impl Seen {
    pub(super) fn get(&self, namespace: &str, name: &str) -> Option<TargetState> {
        self.states.get(namespace)?.get(name).cloned()
    }

    pub(super) fn record(&mut self, namespace: &str, name: &str, state: Option<TargetState>) {
        if let Some(listed) = self.relisted.as_mut() {
            listed.insert((namespace.to_string(), name.to_string()));
        }
        match state {
            Some(state) => {
                let names = self.states.entry(namespace.to_string()).or_default();
                if names.insert(name.to_string(), state).is_none() {
                    self.len += 1;
                }
            }
            None => self.forget(namespace, name),
        }
    }

    pub(super) fn forget(&mut self, namespace: &str, name: &str) {
        if let Some(names) = self.states.get_mut(namespace) {
            if names.remove(name).is_some() {
                self.len -= 1;
            }
            if names.is_empty() {
                self.states.remove(namespace);
            }
        }
    }

    /// At a (re-)list's start begins noting what is listed; at its end forgets every kept target
    /// the list did not contain.
    pub(super) fn observe<K>(&mut self, event: &watcher::Event<K>) {
        match event {
            watcher::Event::Init => self.relisted = Some(HashSet::new()),
            watcher::Event::InitDone => {
                if let Some(listed) = self.relisted.take() {
                    for (namespace, names) in &mut self.states {
                        names.retain(|name, _| listed.contains(&(namespace.clone(), name.clone())));
                    }
                    self.states.retain(|_, names| !names.is_empty());
                    self.len = self.states.values().map(HashMap::len).sum();
                }
            }
            _ => {}
        }
    }
}
