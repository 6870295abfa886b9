//! Does a server pod sign with the key we rendered? Read from its unauthenticated
//! `GET /api/v1/system/config/jwks`. Pure.
//!
//! OpenMetadata answers with exactly one key, built at start-up from the key files the settings
//! point at (`JWTTokenGenerator.getJWKSResponse()`, openmetadata-server-behaviour.md §3.3):
//! `{"keys":[{"kty":"RSA","kid":…,"n":…,"e":…,"alg":"RS256","use":"sig"}]}`, where `n` and `e`
//! are `Base64.getUrlEncoder()` (padded) of `BigInteger.toByteArray()`: two's complement, so a
//! modulus whose top bit is set carries a leading zero byte. Both are normalised here (any
//! base64url or base64 spelling, padded or not, leading zero bytes dropped) before they are
//! compared with the rendered key, which the operator writes the JOSE way (no padding, no sign
//! byte). A server whose key files did not load only logs it and keeps serving a key object with
//! a null `kid` (and null `n`, `e`): that is [`KeyProof::NotLoaded`], not a mismatch.
//!
//! Nothing here copies a value from the response into what it returns: a difference is named by
//! its field.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::Value;

use crate::keys::{KeyMaterial, minimal};

/// What the key endpoint of one pod proves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyProof {
    /// It serves the rendered key under the rendered key id.
    Serves,
    /// Its key files did not load (a null or missing `kid`, `n` or `e`): it signs nothing, and
    /// every token it issued before is rejected by pods that did load theirs.
    NotLoaded,
    /// It serves another key: the fields that differ (`kid`, `n`, `e`), never their values.
    OtherKey {
        /// Which of `kid`, `n`, `e` differ.
        differs: Vec<&'static str>,
    },
    /// The answer is not OpenMetadata's JWKS shape (what is wrong with it, no value).
    Unreadable(&'static str),
}

/// The key a pod must serve: the rendered key id and public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedKey {
    kid: String,
    n: Vec<u8>,
    e: Vec<u8>,
}

impl ExpectedKey {
    /// The key `keys` renders (its key id, modulus and exponent).
    pub fn of(keys: &KeyMaterial) -> Self {
        Self {
            kid: keys.key_id().to_owned(),
            n: minimal(keys.modulus()).to_vec(),
            e: minimal(keys.public_exponent()).to_vec(),
        }
    }
}

/// Judges the body of a pod's `/api/v1/system/config/jwks` answer against `expected`.
pub fn check(body: &[u8], expected: &ExpectedKey) -> KeyProof {
    let Ok(doc) = serde_json::from_slice::<Value>(body) else {
        return KeyProof::Unreadable("the body is not JSON");
    };
    let Some(keys) = doc.get("keys").and_then(Value::as_array) else {
        return KeyProof::Unreadable("no \"keys\" array");
    };
    // OpenMetadata serves exactly one key; a second one is not its shape.
    let [key] = keys.as_slice() else {
        return if keys.is_empty() {
            KeyProof::NotLoaded
        } else {
            KeyProof::Unreadable("more than one key (OpenMetadata serves one)")
        };
    };
    let text = |name: &str| key.get(name).and_then(Value::as_str);
    let (Some(kid), Some(n), Some(e)) = (text("kid"), text("n"), text("e")) else {
        return KeyProof::NotLoaded;
    };
    let (Some(n), Some(e)) = (integer(n), integer(e)) else {
        return KeyProof::Unreadable("n or e is not base64");
    };
    let mut differs = Vec::new();
    if kid != expected.kid {
        differs.push("kid");
    }
    if n != expected.n {
        differs.push("n");
    }
    if e != expected.e {
        differs.push("e");
    }
    if differs.is_empty() {
        KeyProof::Serves
    } else {
        KeyProof::OtherKey { differs }
    }
}

/// An unsigned big-endian integer from any base64 spelling, without leading zero bytes.
fn integer(text: &str) -> Option<Vec<u8>> {
    let bytes = [&URL_SAFE, &URL_SAFE_NO_PAD, &STANDARD, &STANDARD_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())?;
    Some(minimal(&bytes).to_vec())
}

#[cfg(test)]
mod tests;
