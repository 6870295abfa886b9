//! The mechanism the JWT key rotation's grace window rests on, proven with the libraries
//! OpenMetadata's server verifies tokens with (jwks-rsa 0.22.1 and java-jwt 4.4.0, built by
//! `scripts/jvm/build.sh` from Maven Central; `tests/jvm/src/VerifyWithJwksUrl.java` builds its
//! provider as JwtFilter does): a `file:` URL in `publicKeyUrls` serves the public keys of a JWKS
//! file on disk (the keys Secret's `retired_jwks.json` as `keys::retired::RetiredKeys` writes it,
//! `exp` member included), so a token signed by a previous key stays valid while that key is in the file,
//! and stops being valid once it is taken out; a token whose kid no file holds is refused; and
//! OpenMetadata's own JWKS encoding (padded base64url with a sign byte) is read by jwks-rsa.

use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use jiff::{SignedDuration, Timestamp};
use oidc_sso_operator::keys::KeyMaterial;
use oidc_sso_operator::keys::retired::RetiredKeys;
use serde_json::json;

/// A JWT signed by `keys`, with its key id in the header, as the server's JWTTokenGenerator
/// issues a bot token (no `exp`: bot tokens are issued without expiry).
fn token(keys: &KeyMaterial, subject: &str) -> String {
    let header = URL_SAFE_NO_PAD
        .encode(json!({"alg": "RS256", "typ": "JWT", "kid": keys.key_id()}).to_string());
    let claims = URL_SAFE_NO_PAD.encode(
        json!({"iss": "open-metadata.org", "sub": subject, "isBot": true, "tokenType": "BOT"})
            .to_string(),
    );
    let input = format!("{header}.{claims}");
    let signature = keys.sign_rs256(input.as_bytes()).expect("signs");
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// What the JVM says of each token when its keys come from `url`.
fn verify(url: &str, tokens: &[&str]) -> Vec<String> {
    let out = Command::new("java")
        .args(["-cp", &crate::jvm::classpath(), "VerifyWithJwksUrl", url])
        .args(tokens)
        .output()
        .expect("java runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("UTF-8")
        .lines()
        .map(str::to_owned)
        .collect()
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// `BigInteger.toByteArray()`: a zero byte first when the top bit is set.
fn java_bytes(unsigned: &[u8]) -> Vec<u8> {
    match unsigned.first() {
        Some(b) if b & 0x80 != 0 => [&[0u8][..], unsigned].concat(),
        _ => unsigned.to_vec(),
    }
}

#[test]
fn a_file_url_keeps_a_retired_key_valid_until_it_leaves_the_file() {
    let current = KeyMaterial::generate(None).expect("current key");
    let retired = KeyMaterial::generate(None).expect("retired key");
    let stranger = KeyMaterial::generate(None).expect("a key no file holds");
    let dir = tempfile::tempdir().expect("temp dir");
    let retired_jwks = dir.path().join("retired_jwks.json");
    let mut window = RetiredKeys::default();
    let now = Timestamp::now();
    window.retire(&retired, now, SignedDuration::from_hours(24));
    std::fs::write(&retired_jwks, window.to_entry()).expect("write");
    let old_bot = token(&retired, "ingestion-bot");
    let unknown = token(&stranger, "ingestion-bot");
    assert_eq!(
        verify(&file_url(&retired_jwks), &[&old_bot, &unknown]),
        ["verified", "refused: SigningKeyNotFoundException"],
        "in its window the retired key verifies through the file: URL; an unknown kid does not"
    );
    // The window ends: the key leaves the file (the kubelet updates a mounted Secret in place).
    let ended = now
        .checked_add(SignedDuration::from_hours(24))
        .expect("a time");
    assert_eq!(window.prune(ended, &current), [retired.key_id()]);
    std::fs::write(&retired_jwks, window.to_entry()).expect("write");
    assert_eq!(
        verify(&file_url(&retired_jwks), &[&old_bot]),
        ["refused: SigningKeyNotFoundException"]
    );
    // The current key, served in OpenMetadata's own encoding (/api/v1/system/config/jwks).
    let served = dir.path().join("server_jwks.json");
    let doc = json!({"keys": [{
        "kty": "RSA", "kid": current.key_id(), "alg": "RS256", "use": "sig",
        "n": URL_SAFE.encode(java_bytes(current.modulus())),
        "e": URL_SAFE.encode(java_bytes(current.public_exponent())),
    }]});
    std::fs::write(&served, doc.to_string()).expect("write");
    assert_eq!(
        verify(&file_url(&served), &[&token(&current, "admin"), &old_bot]),
        ["verified", "refused: SigningKeyNotFoundException"]
    );
}
