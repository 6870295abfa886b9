//! The key endpoint as OpenMetadata answers it: Java's padded base64url of
//! `BigInteger.toByteArray()` (a sign byte before a modulus whose top bit is set), a null `kid`
//! when the key files did not load.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE;
use serde_json::json;

use super::*;

/// `BigInteger.toByteArray()` of an unsigned big-endian integer: a zero byte first when the top
/// bit is set (two's complement).
fn to_byte_array(unsigned: &[u8]) -> Vec<u8> {
    let minimal = minimal(unsigned);
    match minimal.first() {
        Some(b) if b & 0x80 != 0 => [&[0u8][..], minimal].concat(),
        _ => minimal.to_vec(),
    }
}

/// `/api/v1/system/config/jwks` as `JWTTokenGenerator.getJWKSResponse()` serialises it.
fn served_by_openmetadata(keys: &KeyMaterial) -> Vec<u8> {
    json!({"keys": [{
        "kty": "RSA",
        "kid": keys.key_id(),
        "n": URL_SAFE.encode(to_byte_array(keys.modulus())),
        "e": URL_SAFE.encode(to_byte_array(keys.public_exponent())),
        "alg": "RS256",
        "use": "sig",
    }]})
    .to_string()
    .into_bytes()
}

fn keys() -> KeyMaterial {
    KeyMaterial::generate(None).expect("a key pair")
}

#[test]
fn the_rendered_key_served_with_a_sign_byte_and_padding_is_proven() {
    let k = keys();
    let body = served_by_openmetadata(&k);
    let n = serde_json::from_slice::<Value>(&body).unwrap()["keys"][0]["n"].clone();
    let n = n.as_str().unwrap();
    assert!(
        URL_SAFE.decode(n).unwrap()[0] == 0 && n.ends_with('='),
        "a 2048-bit modulus has its top bit set: a sign byte, and padding"
    );
    assert_eq!(check(&body, &ExpectedKey::of(&k)), KeyProof::Serves);
    // The JOSE spelling the operator writes proves the same key.
    assert_eq!(
        check(k.jwks_json().as_bytes(), &ExpectedKey::of(&k)),
        KeyProof::Serves
    );
}

#[test]
fn a_key_that_did_not_load_is_named_as_such() {
    let k = keys();
    let failed = json!({"keys": [{"kty": "RSA", "kid": null, "n": null, "e": null, "alg": "RS256", "use": "sig"}]});
    assert_eq!(
        check(failed.to_string().as_bytes(), &ExpectedKey::of(&k)),
        KeyProof::NotLoaded
    );
    let without = json!({"keys": [{"kty": "RSA", "alg": "RS256", "use": "sig"}]});
    assert_eq!(
        check(without.to_string().as_bytes(), &ExpectedKey::of(&k)),
        KeyProof::NotLoaded
    );
    assert_eq!(
        check(br#"{"keys":[]}"#, &ExpectedKey::of(&k)),
        KeyProof::NotLoaded
    );
}

#[test]
fn another_key_is_named_by_the_fields_that_differ() {
    let ours = keys();
    let theirs = keys();
    let mut body: Value = serde_json::from_slice(&served_by_openmetadata(&theirs)).unwrap();
    body["keys"][0]["kid"] = json!(ours.key_id());
    assert_eq!(
        check(body.to_string().as_bytes(), &ExpectedKey::of(&ours)),
        KeyProof::OtherKey { differs: vec!["n"] },
        "the same key id over another key (a rotation without a new kid)"
    );
    let old_kid = served_by_openmetadata(&theirs);
    assert_eq!(
        check(&old_kid, &ExpectedKey::of(&ours)),
        KeyProof::OtherKey {
            differs: vec!["kid", "n"]
        }
    );
}

#[test]
fn what_is_not_the_endpoints_shape_is_unreadable_and_never_quoted() {
    let k = keys();
    let e = ExpectedKey::of(&k);
    assert_eq!(
        check(b"<html>", &e),
        KeyProof::Unreadable("the body is not JSON")
    );
    assert_eq!(
        check(br#"{"k":1}"#, &e),
        KeyProof::Unreadable("no \"keys\" array")
    );
    let bad = json!({"keys": [{"kid": "x", "n": "%%%", "e": "AQAB"}]});
    assert_eq!(
        check(bad.to_string().as_bytes(), &e),
        KeyProof::Unreadable("n or e is not base64")
    );
    let two = json!({"keys": [{"kid": "a"}, {"kid": "b"}]});
    assert!(matches!(
        check(two.to_string().as_bytes(), &e),
        KeyProof::Unreadable(_)
    ));
}
