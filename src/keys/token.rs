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
use super::retired::{RetiredKey, RetiredKeys};

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

/// A public key to check a signature with: modulus and exponent, unsigned big-endian.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicParts {
    /// Modulus.
    pub n: Vec<u8>,
    /// Exponent.
    pub e: Vec<u8>,
}

impl PublicParts {
    /// The public half of `keys`.
    pub fn of(keys: &KeyMaterial) -> Self {
        Self {
            n: keys.modulus().to_vec(),
            e: keys.public_exponent().to_vec(),
        }
    }

    fn verify(&self, input: &[u8], signature: &[u8]) -> bool {
        aws_lc_rs::signature::RsaPublicKeyComponents {
            n: self.n.as_slice(),
            e: self.e.as_slice(),
        }
        .verify(
            &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
            input,
            signature,
        )
        .is_ok()
    }
}

/// Which of `candidates` signed `token`.
pub fn signer(token: &str, candidates: &[PublicParts]) -> Signer {
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
        .position(|k| k.verify(input.as_bytes(), &signature))
        .map_or(Signer::Unknown, Signer::Key)
}

/// A retired key's modulus and exponent (`None` when the stored base64url is not).
fn retired_parts(key: &RetiredKey) -> Option<PublicParts> {
    let decode = |s: &str| URL_SAFE_NO_PAD.decode(s).ok();
    Some(PublicParts {
        n: decode(&key.n)?,
        e: decode(&key.e)?,
    })
}

/// What the server will make of the bot token the ingestion config carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BotTokenCheck {
    /// Signed by the key the server signs with.
    Current,
    /// Signed by a retired key: accepted until `until` (seconds since the epoch).
    Retired {
        /// The retired key's id.
        kid: String,
        /// When its grace window ends.
        until: i64,
    },
    /// Signed by neither: the server rejects it.
    Rejected,
    /// Not an RS256 JWT at all.
    NotAToken,
}

/// Checks `token` against the current key and the retired keys still in their window.
pub fn check_bot_token(token: &str, current: &KeyMaterial, retired: &RetiredKeys) -> BotTokenCheck {
    let mut candidates = vec![PublicParts::of(current)];
    let kept: Vec<_> = retired
        .keys()
        .iter()
        .filter_map(|k| Some((k, retired_parts(k)?)))
        .collect();
    candidates.extend(kept.iter().map(|(_, p)| p.clone()));
    match signer(token, &candidates) {
        Signer::Key(0) => BotTokenCheck::Current,
        Signer::Key(i) => {
            kept.get(i - 1)
                .map_or(BotTokenCheck::Rejected, |(k, _)| BotTokenCheck::Retired {
                    kid: k.kid.clone(),
                    until: k.exp,
                })
        }
        Signer::Unknown => BotTokenCheck::Rejected,
        Signer::NotAToken => BotTokenCheck::NotAToken,
    }
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
        let keys = [PublicParts::of(&current), PublicParts::of(&retired)];
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
            signer(&format!("{header}.{rest}"), &[PublicParts::of(&current)]),
            Signer::Unknown
        );
        for bad in ["", "abc", "a.b", "a.b.c.d", "e30.e30.!!!"] {
            assert_eq!(
                signer(bad, &[PublicParts::of(&current)]),
                Signer::NotAToken,
                "{bad}"
            );
        }
        let hs = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#);
        assert_eq!(
            signer(&format!("{hs}.e30.AAAA"), &[PublicParts::of(&current)]),
            Signer::NotAToken
        );
    }

    #[test]
    fn a_bot_token_is_judged_by_the_current_and_the_retired_keys() {
        let current = KeyMaterial::generate(None).unwrap();
        let old = KeyMaterial::generate(None).unwrap();
        let stranger = KeyMaterial::generate(None).unwrap();
        let mut retired = RetiredKeys::default();
        retired.retire(
            &old,
            jiff::Timestamp::UNIX_EPOCH,
            jiff::SignedDuration::from_hours(1),
        );
        assert_eq!(
            check_bot_token(&token(&current), &current, &retired),
            BotTokenCheck::Current
        );
        assert_eq!(
            check_bot_token(&token(&old), &current, &retired),
            BotTokenCheck::Retired {
                kid: old.key_id().to_owned(),
                until: 3600
            }
        );
        assert_eq!(
            check_bot_token(&token(&stranger), &current, &retired),
            BotTokenCheck::Rejected
        );
        assert_eq!(
            check_bot_token(&token(&old), &current, &RetiredKeys::default()),
            BotTokenCheck::Rejected,
            "once its window ended"
        );
        assert_eq!(
            check_bot_token("not-a-token", &current, &retired),
            BotTokenCheck::NotAToken
        );
    }
}
