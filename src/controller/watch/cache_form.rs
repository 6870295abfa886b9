//! The form in which the owned Secrets are kept in memory. Pure.
//!
//! A reconcile reads back only the stored key pair (to keep signing with it) and the retired
//! keys (to keep them for their grace window); everything else in
//! an owned Secret it only compares with what it renders, to skip writes that change nothing. So
//! the cache keeps the entries that are read back, plus one digest of all entries, which is what
//! the comparisons use. At a thousand resources the settings Secrets alone (40-odd entries each)
//! were the largest part of the operator's heap.
//!
//! Both sides of a comparison are put in this form: the cached copy when it is stored, a fresh
//! read and the desired Secret just before comparing.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use sha2::{Digest, Sha256};

use crate::keys::retired::RETIRED_JWKS;
use crate::keys::{KEY_ID, PRIVATE_KEY_DER, PUBLIC_KEY_DER};
use crate::names::labels::{ROLE, ROLE_JWT_KEYS};

/// The entry holding the digest of all entries. Secret keys may not contain `/`, so no real
/// entry can have this name, and its presence marks a Secret already in cache form.
pub(in crate::controller) const DIGEST_ENTRY: &str = "oidcsso.io/sha256";

/// Entries of a keys Secret the keys step reads back: the pair (`KeyMaterial::from_secret_data`)
/// and the retired public keys still in their grace window (`RetiredKeys::from_entry`).
const KEYS_READ_BACK: [&str; 4] = [KEY_ID, PRIVATE_KEY_DER, PUBLIC_KEY_DER, RETIRED_JWKS];

/// Puts `secret` in cache form (a no-op when it already is).
pub(in crate::controller) fn to_cache_form(secret: &mut Secret) {
    let keys_secret = secret
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(ROLE))
        .is_some_and(|role| role == ROLE_JWT_KEYS);
    reduce(secret.data.get_or_insert_with(BTreeMap::new), keys_secret);
}

/// Data in cache form, for a payload about to be rendered as an owned Secret of `role`.
pub(in crate::controller) fn data_in_cache_form(
    role: &str,
    data: &BTreeMap<String, Vec<u8>>,
) -> BTreeMap<String, ByteString> {
    let mut data = data
        .iter()
        .map(|(k, v)| (k.clone(), ByteString(v.clone())))
        .collect();
    reduce(&mut data, role == ROLE_JWT_KEYS);
    data
}

/// The digest of all entries, plus the entries read back when it is a keys Secret.
fn reduce(data: &mut BTreeMap<String, ByteString>, keys_secret: bool) {
    if data.contains_key(DIGEST_ENTRY) {
        return;
    }
    let digest = digest(data.iter().map(|(k, v)| (k.as_str(), v.0.as_slice())));
    data.retain(|name, _| keys_secret && KEYS_READ_BACK.contains(&name.as_str()));
    data.insert(DIGEST_ENTRY.to_string(), ByteString(digest));
}

/// SHA-256 over the entries in name order, each name and value length-prefixed, so no two
/// different maps hash alike by moving bytes between an entry's name and value.
fn digest<'a>(entries: impl Iterator<Item = (&'a str, &'a [u8])>) -> Vec<u8> {
    let mut h = Sha256::new();
    for (name, value) in entries {
        h.update((name.len() as u64).to_be_bytes());
        h.update(name.as_bytes());
        h.update((value.len() as u64).to_be_bytes());
        h.update(value);
    }
    h.finalize().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(role: &str, entries: &[(&str, &str)]) -> Secret {
        let mut s = Secret {
            data: Some(
                entries
                    .iter()
                    .map(|(k, v)| (k.to_string(), ByteString(v.as_bytes().to_vec())))
                    .collect(),
            ),
            ..Secret::default()
        };
        s.metadata.labels = Some([(ROLE.to_string(), role.to_string())].into());
        s
    }

    fn cache_form(mut s: Secret) -> BTreeMap<String, ByteString> {
        to_cache_form(&mut s);
        s.data.unwrap_or_default()
    }

    #[test]
    fn settings_keep_only_the_digest() {
        let data = cache_form(secret("auth-env", &[("A", "1"), ("B", "2")]));
        assert_eq!(data.keys().collect::<Vec<_>>(), [DIGEST_ENTRY]);
    }

    #[test]
    fn keys_keep_what_is_read_back() {
        let data = cache_form(secret(
            "jwt-keys",
            &[
                (KEY_ID, "kid"),
                (PRIVATE_KEY_DER, "priv"),
                (PUBLIC_KEY_DER, "pub"),
                ("private_key.pem", "pem"),
                ("jwks.json", "{}"),
            ],
        ));
        assert_eq!(
            data.keys().map(String::as_str).collect::<Vec<_>>(),
            [KEY_ID, DIGEST_ENTRY, PRIVATE_KEY_DER, PUBLIC_KEY_DER]
        );
        assert_eq!(data[PRIVATE_KEY_DER].0, b"priv");
    }

    #[test]
    fn any_change_of_any_entry_changes_the_digest() {
        let base = cache_form(secret("auth-env", &[("A", "1"), ("B", "2")]));
        for other in [
            secret("auth-env", &[("A", "1"), ("B", "3")]),
            secret("auth-env", &[("A", "1")]),
            secret("auth-env", &[("A", "1"), ("B", "2"), ("C", "")]),
            // Bytes moved from a value to the next name.
            secret("auth-env", &[("A", "1B"), ("", "2")]),
        ] {
            assert_ne!(cache_form(other), base);
        }
        assert_eq!(
            cache_form(secret("auth-env", &[("B", "2"), ("A", "1")])),
            base
        );
    }

    #[test]
    fn the_form_is_stable_when_applied_twice() {
        let mut s = secret("jwt-keys", &[(KEY_ID, "kid"), ("jwks.json", "{}")]);
        to_cache_form(&mut s);
        let once = s.clone();
        to_cache_form(&mut s);
        assert_eq!(s, once);
    }

    #[test]
    fn a_payload_and_its_secret_agree() {
        let payload: BTreeMap<String, Vec<u8>> = [
            ("A".to_string(), b"1".to_vec()),
            ("B".to_string(), b"2".to_vec()),
        ]
        .into();
        assert_eq!(
            data_in_cache_form("auth-env", &payload),
            cache_form(secret("auth-env", &[("A", "1"), ("B", "2")]))
        );
    }
}
