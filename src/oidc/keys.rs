//! Which JWKS keys can verify ID token signatures. A JWKS that parses but holds only encryption
//! keys, symmetric keys or keys for other algorithms makes every login fail, so keys are counted
//! only when the token consumer could really use them.

use openidconnect::core::{CoreJsonWebKey, CoreJsonWebKeyType, CoreJwsSigningAlgorithm};
use openidconnect::{JsonWebKey, JsonWebKeyAlgorithm, JsonWebKeyUse, JwsSigningAlgorithm};

/// A key can verify `alg` signatures: use `sig` or absent, the key type `alg` needs, `alg`
/// absent or equal (the same rule openidconnect applies when verifying a token), and the public
/// key material present (openidconnect parses a key with missing members and would only fail
/// when verifying).
pub(crate) fn usable_for_any(key: &CoreJsonWebKey, algorithms: &[CoreJwsSigningAlgorithm]) -> bool {
    if key.key_use().is_some_and(|u| !u.allows_signature()) {
        return false;
    }
    let type_and_alg_match = algorithms.iter().any(|alg| {
        !alg.uses_shared_secret()
            && alg.key_type().as_ref() == Some(key.key_type())
            && match key.signing_alg() {
                JsonWebKeyAlgorithm::Unspecified => true,
                JsonWebKeyAlgorithm::Algorithm(key_alg) => key_alg == alg,
                JsonWebKeyAlgorithm::Unsupported => false,
            }
    });
    type_and_alg_match && has_public_material(key)
}

fn has_public_material(key: &CoreJsonWebKey) -> bool {
    let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(key) else {
        return false;
    };
    let has = |name: &str| {
        fields
            .get(name)
            .is_some_and(|v| v.as_str().is_some_and(|s| !s.is_empty()))
    };
    match fields.get("kty").and_then(|v| v.as_str()) {
        Some("RSA") => has("n") && has("e"),
        Some("EC") => has("crv") && has("x") && has("y"),
        Some("OKP") => has("crv") && has("x"),
        _ => false,
    }
}

/// The JOSE name of an algorithm (`RS256`), from its serde representation.
pub(crate) fn alg_name(alg: &CoreJwsSigningAlgorithm) -> String {
    match serde_json::to_value(alg) {
        Ok(serde_json::Value::String(name)) => name,
        _ => format!("{alg:?}"),
    }
}

pub(crate) fn kty_name(kty: &CoreJsonWebKeyType) -> String {
    match serde_json::to_value(kty) {
        Ok(serde_json::Value::String(name)) => name,
        _ => format!("{kty:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::testutil::{docs_with_keys, rsa_key};

    #[test]
    fn usable_keys_follow_use_type_and_alg() {
        let rs256 = [CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256];
        let docs = docs_with_keys(serde_json::json!([
            rsa_key(serde_json::json!({"use": "sig", "alg": "RS256"})),
            rsa_key(serde_json::json!({"kid": "no-use"})),
            rsa_key(serde_json::json!({"kid": "enc", "use": "enc"})),
            rsa_key(serde_json::json!({"kid": "ps", "alg": "PS256"})),
            {"kty": "RSA", "kid": "no-material", "use": "sig"},
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
        ]));
        let usable: Vec<_> = docs
            .jwks
            .keys()
            .iter()
            .filter(|k| usable_for_any(k, &rs256))
            .filter_map(|k| k.key_id().map(|id| id.to_string()))
            .collect();
        assert_eq!(usable, vec!["k1", "no-use"]);
    }
}
