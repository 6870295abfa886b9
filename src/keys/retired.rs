//! The public keys of retired JWT key pairs, kept valid for a grace window after a rotation.
//! Pure.
//!
//! OpenMetadata's token check tries its own key, then each `publicKeyUrls` entry through jwks-rsa's
//! `UrlJwkProvider`, which opens any `java.net.URL`, `file:` included (openmetadata-server-
//! behaviour.md §4; proven with the library versions OpenMetadata pins in
//! `tests/offline/jwks_file_url.rs`). So the previous public keys stay valid with no network hop
//! from one file in the keys Secret the pods already mount: a JWKS document whose keys each carry,
//! besides the JOSE members, `exp` (seconds since the epoch) when its window ends. That member is
//! the operator's own record (jwks-rsa keeps members it does not know as extra attributes); the
//! same file is thus what the server reads and what the operator reads back.
//!
//! When a key's window ends it leaves the file; the kubelet updates a mounted Secret's files in
//! place, so that needs no rollout.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::KeyMaterial;
use super::jwk::{b64url, minimal};

/// The keys Secret entry and the file under the key mount path.
pub const RETIRED_JWKS: &str = "retired_jwks.json";

/// One retired public key and the end of its window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetiredKey {
    /// `RSA`.
    pub kty: String,
    /// `sig`.
    #[serde(rename = "use")]
    pub use_: String,
    /// `RS256`.
    pub alg: String,
    /// Its key id: the `kid` of the tokens it signed.
    pub kid: String,
    /// Modulus, base64url without padding.
    pub n: String,
    /// Exponent, base64url without padding.
    pub e: String,
    /// When its window ends, seconds since the epoch.
    pub exp: i64,
}

/// The retired keys, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetiredKeys {
    keys: Vec<RetiredKey>,
}

/// Why the stored file cannot be read back.
#[derive(Debug, thiserror::Error)]
#[error("the keys Secret entry `{RETIRED_JWKS}` is not a JWKS of retired keys: {0}")]
pub struct Unreadable(String);

impl RetiredKeys {
    /// The keys the stored entry holds; none when there is no entry.
    pub fn from_entry(bytes: Option<&[u8]>) -> Result<Self, Unreadable> {
        match bytes {
            None => Ok(Self::default()),
            Some(b) => serde_json::from_slice(b).map_err(|e| Unreadable(e.to_string())),
        }
    }

    /// Keeps `old`'s public key valid until `now + grace`. A key already kept, or a window of
    /// zero, changes nothing.
    pub fn retire(&mut self, old: &KeyMaterial, now: Timestamp, grace: SignedDuration) {
        if grace <= SignedDuration::ZERO || self.keys.iter().any(|k| k.kid == old.key_id()) {
            return;
        }
        let exp = now.checked_add(grace).unwrap_or(now).as_second();
        self.keys.push(RetiredKey {
            kty: "RSA".into(),
            use_: "sig".into(),
            alg: "RS256".into(),
            kid: old.key_id().to_owned(),
            n: b64url(minimal(old.modulus())),
            e: b64url(minimal(old.public_exponent())),
            exp,
        });
    }

    /// Drops the keys whose window ended at `now`, and the one that is `current` again (a key
    /// brought back is the server's own); returns the key ids dropped.
    pub fn prune(&mut self, now: Timestamp, current: &KeyMaterial) -> Vec<String> {
        let mut dropped = Vec::new();
        self.keys.retain(|k| {
            let keep = k.exp > now.as_second() && k.kid != current.key_id();
            if !keep {
                dropped.push(k.kid.clone());
            }
            keep
        });
        dropped
    }

    /// The keys, oldest first.
    pub fn keys(&self) -> &[RetiredKey] {
        &self.keys
    }

    /// When the next window ends: the time to look again.
    pub fn next_expiry(&self) -> Option<Timestamp> {
        self.keys
            .iter()
            .map(|k| k.exp)
            .min()
            .and_then(|s| Timestamp::from_second(s).ok())
    }

    /// The entry's bytes: the JWKS the server reads through a `file:` URL (`{"keys":[]}` when
    /// none is retired, so the file is always there).
    pub fn to_entry(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_else(|_| br#"{"keys":[]}"#.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(seconds).unwrap()
    }

    #[test]
    fn a_retired_key_stays_until_its_window_ends_then_leaves() {
        let old = KeyMaterial::generate(None).unwrap();
        let current = KeyMaterial::generate(None).unwrap();
        let mut retired = RetiredKeys::from_entry(None).unwrap();
        assert_eq!(retired.to_entry(), br#"{"keys":[]}"#);
        retired.retire(&old, at(1_000), SignedDuration::from_hours(24));
        retired.retire(&old, at(2_000), SignedDuration::from_hours(24));
        assert_eq!(retired.keys().len(), 1, "a key is retired once");
        assert_eq!(retired.next_expiry(), Some(at(1_000 + 86_400)));
        let stored = RetiredKeys::from_entry(Some(&retired.to_entry())).unwrap();
        assert_eq!(stored, retired, "the entry reads back");
        let mut later = stored.clone();
        assert!(later.prune(at(1_000 + 86_399), &current).is_empty());
        assert_eq!(later.prune(at(1_000 + 86_400), &current), [old.key_id()]);
        assert!(later.keys().is_empty());
    }

    #[test]
    fn the_file_is_a_jwks_with_the_old_public_key() {
        let old = KeyMaterial::generate(None).unwrap();
        let mut retired = RetiredKeys::default();
        retired.retire(&old, at(0), SignedDuration::from_secs(60));
        let doc: serde_json::Value = serde_json::from_slice(&retired.to_entry()).unwrap();
        let ours: serde_json::Value = serde_json::from_str(&old.jwks_json()).unwrap();
        for member in ["kty", "use", "alg", "kid", "n", "e"] {
            assert_eq!(doc["keys"][0][member], ours["keys"][0][member], "{member}");
        }
        assert_eq!(doc["keys"][0]["exp"], 60);
    }

    #[test]
    fn no_window_keeps_nothing_and_a_key_brought_back_leaves_the_file() {
        let old = KeyMaterial::generate(None).unwrap();
        let mut retired = RetiredKeys::default();
        retired.retire(&old, at(0), SignedDuration::ZERO);
        assert!(retired.keys().is_empty());
        retired.retire(&old, at(0), SignedDuration::from_hours(1));
        assert_eq!(retired.prune(at(1), &old), [old.key_id()]);
        assert!(RetiredKeys::from_entry(Some(b"not json")).is_err());
    }
}
