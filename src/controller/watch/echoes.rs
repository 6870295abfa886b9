//! The watch events of the operator's own Secret writes, told apart from everyone else's.
//!
//! Every owned Secret the apply step writes comes back a moment later as a watch event, and an
//! owned Secret's event triggers a reconcile (someone may have edited or deleted it). For the
//! operator's own write that reconcile finds nothing to do, but it still reads the credentials
//! and the targets: two or three requests per written Secret, most of a cold start's reads.
//!
//! So what each write asks a Secret to hold is remembered before the write is sent, as a
//! fingerprint of its content in cache form (the digest of its data, its labels, annotations and
//! owner references), and an event that shows exactly that content is no trigger. Remembered
//! before, not after: under load the watch can deliver the event before the write's own answer
//! (a resourceVersion remembered from the answer missed about a third of the echoes in a cold
//! start with key generation). An edit by anyone else changes the content, and a deletion always
//! triggers; content equal to what the operator wants needs no reconcile, whoever wrote it.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use sha2::{Digest, Sha256};

use crate::controller::watch::cache_form::DIGEST_ENTRY;

/// Entries kept at most (about 100 bytes each); past it the map starts over.
const MAX: usize = 16_384;

/// What this process last asked each owned Secret to hold: namespace and name to a fingerprint.
#[derive(Debug, Default)]
pub(crate) struct OwnWrites {
    wanted: Mutex<HashMap<(String, String), [u8; 32]>>,
}

impl OwnWrites {
    /// Remembers that this process is about to write `desired` (in cache form).
    pub(crate) fn expect(&self, desired: &Secret) {
        let Some(namespace) = desired.namespace() else {
            return;
        };
        let mut wanted = self.wanted.lock().unwrap_or_else(PoisonError::into_inner);
        if wanted.len() >= MAX {
            wanted.clear();
        }
        wanted.insert((namespace, desired.name_any()), fingerprint(desired));
    }

    /// Whether `seen` (an event's object, in cache form) holds what this process last asked it
    /// to hold. A deletion is never an echo, and forgets the entry.
    pub(crate) fn is_echo(&self, seen: &Secret) -> bool {
        let Some(namespace) = seen.namespace() else {
            return false;
        };
        let key = (namespace, seen.name_any());
        let mut wanted = self.wanted.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.metadata.deletion_timestamp.is_some() {
            wanted.remove(&key);
            return false;
        }
        wanted.get(&key) == Some(&fingerprint(seen))
    }
}

/// The data digest (see `cache_form`), labels, annotations and owner references of `secret`.
fn fingerprint(secret: &Secret) -> [u8; 32] {
    let mut h = Sha256::new();
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(bytes);
    };
    let digest = secret.data.as_ref().and_then(|d| d.get(DIGEST_ENTRY));
    field(digest.map(|d| d.0.as_slice()).unwrap_or_default());
    let meta = &secret.metadata;
    for map in [&meta.labels, &meta.annotations] {
        for (k, v) in map.iter().flatten() {
            field(k.as_bytes());
            field(v.as_bytes());
        }
        field(b"");
    }
    for o in meta.owner_references.iter().flatten() {
        field(o.uid.as_bytes());
        field(&[u8::from(o.controller.unwrap_or(false))]);
    }
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use k8s_openapi::ByteString;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};

    use super::*;
    use crate::controller::watch::cache_form::to_cache_form;

    fn secret(name: &str, value: &str) -> Secret {
        let mut s = Secret {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                labels: Some(BTreeMap::from([("role".into(), "auth-env".into())])),
                owner_references: Some(vec![OwnerReference {
                    uid: "u1".into(),
                    controller: Some(true),
                    ..OwnerReference::default()
                }]),
                ..ObjectMeta::default()
            },
            data: Some(BTreeMap::from([("V".into(), ByteString(value.into()))])),
            ..Secret::default()
        };
        to_cache_form(&mut s);
        s
    }

    #[test]
    fn the_event_of_an_own_write_is_an_echo_whichever_arrives_first() {
        let own = OwnWrites::default();
        own.expect(&secret("a", "x"));
        let mut seen = secret("a", "x");
        seen.metadata.resource_version = Some("7".into());
        assert!(own.is_echo(&seen));
        seen.metadata.resource_version = Some("8".into());
        assert!(own.is_echo(&seen), "a later event with the same content");
    }

    #[test]
    fn someone_elses_change_is_never_an_echo() {
        let own = OwnWrites::default();
        own.expect(&secret("a", "x"));
        assert!(!own.is_echo(&secret("a", "y")), "other data");
        assert!(!own.is_echo(&secret("b", "x")), "another Secret");
        let mut labelled = secret("a", "x");
        labelled
            .labels_mut()
            .insert("team".into(), "payroll".into());
        assert!(!own.is_echo(&labelled), "another label");
        let mut annotated = secret("a", "x");
        annotated
            .annotations_mut()
            .insert("note".into(), "edited".into());
        assert!(!own.is_echo(&annotated), "another annotation");
        let mut orphaned = secret("a", "x");
        orphaned.metadata.owner_references = None;
        assert!(!own.is_echo(&orphaned), "owner reference removed");
        assert!(
            !OwnWrites::default().is_echo(&secret("a", "x")),
            "never written"
        );
    }

    #[test]
    fn a_deletion_is_never_an_echo() {
        let own = OwnWrites::default();
        own.expect(&secret("a", "x"));
        let mut deleted = secret("a", "x");
        deleted.metadata.deletion_timestamp = Some(Time(jiff::Timestamp::now()));
        assert!(!own.is_echo(&deleted));
        assert!(!own.is_echo(&secret("a", "x")), "the entry went with it");
    }

    #[test]
    fn the_map_is_bounded() {
        let own = OwnWrites::default();
        for i in 0..=MAX {
            own.expect(&secret(&i.to_string(), "x"));
        }
        let held = own.wanted.lock().map(|w| w.len()).unwrap_or_default();
        assert!(held <= MAX, "{held}");
    }
}
