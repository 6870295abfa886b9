//! The watch events of the operator's own Secret writes, told apart from everyone else's.
//!
//! Every owned Secret the apply step writes comes back a moment later as a watch event, and an
//! owned Secret's event triggers a reconcile (someone may have edited or deleted it). For the
//! operator's own write that reconcile finds nothing to do, but it still reads the credentials
//! and the targets: two or three requests per written Secret, most of a cold start's reads. So
//! each write is remembered by the resourceVersion the apiserver gave it, and the event carrying
//! exactly that version is not a trigger. An edit by anyone else carries another version, and a
//! deletion always triggers.
//!
//! Missing an echo costs one reconcile (the entry stays until the bound clears it); an entry can
//! never hide someone else's change, since no other write gets that resourceVersion.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;

/// Entries kept at most (about 100 bytes each); past it the map starts over.
const MAX: usize = 16_384;

/// Owned Secrets written by this process whose watch event has not come back yet: namespace and
/// name to the resourceVersion of the write.
#[derive(Debug, Default)]
pub(crate) struct OwnWrites {
    pending: Mutex<HashMap<(String, String), String>>,
}

impl OwnWrites {
    /// Remembers that this process wrote `written` (the apiserver's answer to the write).
    pub(crate) fn remember(&self, written: &Secret) {
        let (Some(namespace), Some(version)) = (written.namespace(), written.resource_version())
        else {
            return;
        };
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if pending.len() >= MAX {
            pending.clear();
        }
        pending.insert((namespace, written.name_any()), version);
    }

    /// Whether the watch event `seen` is the echo of this process's own last write of that
    /// Secret. A deleted Secret (marked by the watch stream) is never an echo.
    pub(crate) fn is_echo(&self, seen: &Secret) -> bool {
        let Some(namespace) = seen.namespace() else {
            return false;
        };
        let key = (namespace, seen.name_any());
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.metadata.deletion_timestamp.is_some() {
            pending.remove(&key);
            return false;
        }
        let echo = seen
            .resource_version()
            .is_some_and(|v| pending.get(&key) == Some(&v));
        if echo {
            pending.remove(&key);
        }
        echo
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

    use super::*;

    fn secret(name: &str, version: &str) -> Secret {
        Secret {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                resource_version: Some(version.into()),
                ..ObjectMeta::default()
            },
            ..Secret::default()
        }
    }

    #[test]
    fn the_event_of_an_own_write_is_an_echo_once() {
        let own = OwnWrites::default();
        own.remember(&secret("a", "7"));
        assert!(own.is_echo(&secret("a", "7")));
        // Seen again (a re-list), it is just the current state: a trigger like any other.
        assert!(!own.is_echo(&secret("a", "7")));
    }

    #[test]
    fn someone_elses_write_is_never_an_echo() {
        let own = OwnWrites::default();
        own.remember(&secret("a", "7"));
        // An older event still on its way, and a later edit: both trigger.
        assert!(!own.is_echo(&secret("a", "6")));
        assert!(!own.is_echo(&secret("a", "8")));
        assert!(!own.is_echo(&secret("b", "7")));
    }

    #[test]
    fn a_deletion_is_never_an_echo() {
        let own = OwnWrites::default();
        own.remember(&secret("a", "7"));
        let mut deleted = secret("a", "7");
        deleted.metadata.deletion_timestamp = Some(Time(jiff::Timestamp::now()));
        assert!(!own.is_echo(&deleted));
        assert!(!own.is_echo(&secret("a", "7")), "the entry went with it");
    }

    #[test]
    fn the_map_is_bounded() {
        let own = OwnWrites::default();
        for i in 0..=MAX {
            own.remember(&secret(&i.to_string(), "1"));
        }
        let held = own.pending.lock().map(|p| p.len()).unwrap_or_default();
        assert!(held <= MAX, "{held}");
    }
}
