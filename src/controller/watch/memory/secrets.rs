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

use k8s_openapi::api::core::v1::Secret;
use kube::ResourceExt;
use sha2::{Digest, Sha256};

use super::Table;
use crate::controller::watch::cache_form::DIGEST_ENTRY;

/// What this process last asked each owned Secret to hold: namespace and name to a fingerprint.
#[derive(Debug, Default)]
pub(super) struct Echoes {
    wanted: HashMap<(String, String), [u8; 32]>,
}

impl Table for Echoes {
    fn len(&self) -> usize {
        self.wanted.len()
    }

    fn clear(&mut self) {
        self.wanted.clear();
    }
}

impl Echoes {
    pub(super) fn expect(&mut self, desired: &Secret) {
        let Some(namespace) = desired.namespace() else {
            return;
        };
        self.wanted
            .insert((namespace, desired.name_any()), fingerprint(desired));
    }

    /// A deletion is never an echo, and forgets the entry.
    pub(super) fn is_echo(&mut self, seen: &Secret) -> bool {
        let Some(namespace) = seen.namespace() else {
            return false;
        };
        let key = (namespace, seen.name_any());
        if seen.metadata.deletion_timestamp.is_some() {
            self.wanted.remove(&key);
            return false;
        }
        self.wanted.get(&key) == Some(&fingerprint(seen))
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
