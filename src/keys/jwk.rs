//! JWK encodings of the RSA public key: the RFC 7638 thumbprint and the JWKS document.
//!
//! Both use the JOSE conventions strictly (base64url without padding, integers as unsigned
//! big-endian bytes without a leading zero), unlike OpenMetadata's own JWKS endpoint, which
//! serialises Java `BigInteger`s with a sign byte and padding. Strict output is what every JOSE
//! library accepts; lenient libraries accept it too.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Base64url without padding (RFC 7515 §2), the encoding of every JOSE binary value.
pub(crate) fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Strips leading zero bytes so an integer is in the minimal form JOSE requires (RFC 7518
/// §6.3.1); callers may hold sign-extended or fixed-width encodings.
pub(crate) fn minimal(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// The RFC 7638 JWK thumbprint of an RSA public key: base64url (no padding) of SHA-256 over the
/// canonical JSON `{"e":"…","kty":"RSA","n":"…"}`.
///
/// `n` and `e` are unsigned big-endian integers; leading zero bytes are ignored, so a Java-style
/// sign byte gives the same thumbprint. The canonical JSON is written by hand because RFC 7638
/// fixes member order and forbids whitespace, and base64url values never need JSON escaping.
/// The operator uses it as the default `kid`: it changes exactly when the key changes, which is
/// what OpenMetadata needs from `JWT_KEY_ID` on rotation.
pub fn rfc7638_thumbprint(n: &[u8], e: &[u8]) -> String {
    let canonical = format!(
        r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
        b64url(minimal(e)),
        b64url(minimal(n))
    );
    b64url(&Sha256::digest(canonical.as_bytes()))
}

/// A JWKS document with the one signing key, as OpenMetadata's `/api/v1/system/config/jwks`
/// publishes it (`kty`, `use`, `alg`, `kid`, `n`, `e`), so consumers that are pointed at the
/// operator's copy instead of the server see the same shape.
///
/// Written with a fixed member order (`serde_json` objects sort their keys) so the file is stable
/// and diffs read well; the key id is escaped through `serde_json`, the other values never need it.
pub(crate) fn jwks_json(key_id: &str, n: &[u8], e: &[u8]) -> String {
    format!(
        r#"{{"keys":[{{"kty":"RSA","use":"sig","alg":"RS256","kid":{},"n":"{}","e":"{}"}}]}}"#,
        serde_json::Value::String(key_id.to_string()),
        b64url(minimal(n)),
        b64url(minimal(e)),
    )
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::*;

    /// RFC 7638 §3.1: the example RSA key and its thumbprint.
    const RFC7638_N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
    const RFC7638_E: &str = "AQAB";
    const RFC7638_THUMBPRINT: &str = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

    fn rfc_n_e() -> (Vec<u8>, Vec<u8>) {
        (
            URL_SAFE_NO_PAD.decode(RFC7638_N).unwrap(),
            URL_SAFE_NO_PAD.decode(RFC7638_E).unwrap(),
        )
    }

    #[test]
    fn rfc7638_thumbprint_matches_rfc_example() {
        let (n, e) = rfc_n_e();
        assert_eq!(rfc7638_thumbprint(&n, &e), RFC7638_THUMBPRINT);
    }

    #[test]
    fn rfc7638_thumbprint_ignores_leading_zero_bytes() {
        let (n, e) = rfc_n_e();
        let signed_n = [&[0u8][..], &n].concat();
        let wide_e = [&[0u8, 0][..], &e].concat();
        assert_eq!(rfc7638_thumbprint(&signed_n, &wide_e), RFC7638_THUMBPRINT);
    }

    #[test]
    fn jwks_json_has_one_rs256_signing_key_without_padding_or_sign_byte() {
        let (n, e) = rfc_n_e();
        let signed_n = [&[0u8][..], &n].concat();
        let json = jwks_json("kid-\"1\"", &signed_n, &e);
        assert!(json.starts_with(r#"{"keys":[{"kty":"RSA","use":"sig","alg":"RS256","kid":"#));
        let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
        let keys = doc["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 1);
        let k = &keys[0];
        assert_eq!(k["kty"], "RSA");
        assert_eq!(k["use"], "sig");
        assert_eq!(k["alg"], "RS256");
        assert_eq!(k["kid"], "kid-\"1\"");
        assert_eq!(k["n"], RFC7638_N);
        assert_eq!(k["e"], RFC7638_E);
    }
}
