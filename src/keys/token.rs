//! Which key signed a token the operator hands to ingestion (`spec.ingestion.botTokenSecretRef`):
//! the server's current key, a retired one still in its grace window, or neither, in which case
//! the server rejects it. Pure; the token is never shown, only the key id that signed it.
//!
//! OpenMetadata's bot tokens are RS256 JWTs its `JWTTokenGenerator` signs with the key pair the
//! operator renders (openmetadata-server-behaviour.md §4-5); the signature is checked here against
//! each candidate's public key, the header's `kid` is not trusted on its own.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::KeyMaterial;

/// Who signed a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Signer {
    /// The candidate at this index.
    Key(usize),
    /// No candidate: the server rejects it.
    Unknown,
    /// Not a three-part RS256 JWT.
    NotAToken,
}

/// Which of `candidates` signed `token`.
pub fn signer(token: &str, candidates: &[&KeyMaterial]) -> Signer {
    let mut parts = token.trim().split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Signer::NotAToken;
    };
    let alg = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|h| serde_json::from_slice::<serde_json::Value>(&h).ok())
        .and_then(|h| h.get("alg").and_then(|a| a.as_str()).map(str::to_owned));
    let (Some("RS256"), Ok(signature)) = (alg.as_deref(), URL_SAFE_NO_PAD.decode(signature)) else {
        return Signer::NotAToken;
    };
    let input = format!("{header}.{payload}");
    candidates
        .iter()
        .position(|k| k.verify_rs256(input.as_bytes(), &signature).is_ok())
        .map_or(Signer::Unknown, Signer::Key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(keys: &KeyMaterial) -> String {
        let header =
            URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"RS256","kid":"{}"}}"#, keys.key_id()));
        let payload = URL_SAFE_NO_PAD.encode(r#"{"sub":"ingestion-bot","isBot":true}"#);
        let input = format!("{header}.{payload}");
        let signature = URL_SAFE_NO_PAD.encode(keys.sign_rs256(input.as_bytes()).unwrap());
        format!("{input}.{signature}")
    }

    #[test]
    fn the_signing_key_is_found_by_its_signature() {
        let current = KeyMaterial::generate(None).unwrap();
        let retired = KeyMaterial::generate(None).unwrap();
        let stranger = KeyMaterial::generate(None).unwrap();
        let keys = [&current, &retired];
        assert_eq!(signer(&token(&current), &keys), Signer::Key(0));
        assert_eq!(signer(&token(&retired), &keys), Signer::Key(1));
        assert_eq!(
            signer(&format!(" {}\n", token(&retired)), &keys),
            Signer::Key(1)
        );
        assert_eq!(signer(&token(&stranger), &keys), Signer::Unknown);
    }

    #[test]
    fn a_forged_kid_or_a_non_token_proves_nothing() {
        let current = KeyMaterial::generate(None).unwrap();
        let stranger = KeyMaterial::generate(None).unwrap();
        // The stranger's token relabelled with our key id: the signature decides.
        let forged = token(&stranger);
        let (_, rest) = forged.split_once('.').unwrap();
        let header =
            URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"RS256","kid":"{}"}}"#, current.key_id()));
        assert_eq!(
            signer(&format!("{header}.{rest}"), &[&current]),
            Signer::Unknown
        );
        for bad in ["", "abc", "a.b", "a.b.c.d", "e30.e30.!!!"] {
            assert_eq!(signer(bad, &[&current]), Signer::NotAToken, "{bad}");
        }
        let hs = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#);
        assert_eq!(
            signer(&format!("{hs}.e30.AAAA"), &[&current]),
            Signer::NotAToken
        );
    }
}
