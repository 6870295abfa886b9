//! JWT signing keys for OpenMetadata: generation, bring-your-own parsing, file encodings, JWKS.
//!
//! OpenMetadata signs its own tokens (bot tokens, personal access tokens, session JWTs) with
//! RS256 and loads the key pair from two files: the private key as raw bytes into
//! `PKCS8EncodedKeySpec` (so unencrypted PKCS#8 DER) and the public key into
//! `X509EncodedKeySpec` (so DER `SubjectPublicKeyInfo`). A PEM file there does not load, and the
//! server only logs the failure, so this module always produces exactly those two DER files and
//! treats PEM only as a convenience copy for humans and other tools.
//!
//! [`KeyMaterial`] is the one type the rest of the operator handles. It is built from an aws-lc
//! key pair (generated, or parsed from what the user brought) and always re-encodes the private
//! key through aws-lc, so whatever the input format was, the stored bytes are the canonical
//! PKCS#8 v1 DER the server reads and two parses of the same key compare equal.

mod error;
mod jwk;
mod parse;
mod pem;
pub mod retired;
#[cfg(test)]
mod tests;
pub mod token;

pub use error::{KeyError, KeyRole, MAX_RSA_BITS, MIN_RSA_BITS};
pub(crate) use jwk::minimal;
pub use jwk::rfc7638_thumbprint;

use std::collections::BTreeMap;
use std::fmt;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKey, PublicKeyComponents};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use parse::PrivateFormat;

/// Keys Secret entry: the private key as unencrypted PKCS#8 DER (`RSA_PRIVATE_KEY_FILE_PATH`).
pub const PRIVATE_KEY_DER: &str = "private_key.der";
/// Keys Secret entry: the public key as DER `SubjectPublicKeyInfo` (`RSA_PUBLIC_KEY_FILE_PATH`).
pub const PUBLIC_KEY_DER: &str = "public_key.der";
/// Keys Secret entry: PEM copy of the private key (`-----BEGIN PRIVATE KEY-----`), for tools.
pub const PRIVATE_KEY_PEM: &str = "private_key.pem";
/// Keys Secret entry: PEM copy of the public key (`-----BEGIN PUBLIC KEY-----`), for tools.
pub const PUBLIC_KEY_PEM: &str = "public_key.pem";
/// Keys Secret entry: a JWKS with the public key, for token consumers other than the server.
pub const JWKS_JSON: &str = "jwks.json";
/// Keys Secret entry: the key id (`JWT_KEY_ID`, the JWT header `kid`), UTF-8 without newline.
pub const KEY_ID: &str = "key_id";

/// Size of generated keys: what the OpenMetadata docs generate (`openssl genrsa 2048`), and the
/// fastest size RS256 verifiers accept.
pub const GENERATED_RSA_BITS: usize = 2048;
/// An RSA key pair in every encoding the operator writes, plus its key id.
///
/// Immutable once built, so the encodings cannot drift apart. Private bytes live in zeroizing
/// buffers, and `Debug` shows only the key id, fingerprint and size. Equality compares the key
/// id and the key itself, which is how the controller tells "same key" from "new key".
#[derive(Clone, PartialEq, Eq)]
pub struct KeyMaterial {
    key_id: String,
    private_pkcs8_der: Zeroizing<Vec<u8>>,
    private_pem: Zeroizing<String>,
    public_spki_der: Vec<u8>,
    public_pem: String,
    /// Modulus, unsigned big-endian, minimal.
    n: Vec<u8>,
    /// Public exponent, unsigned big-endian, minimal.
    e: Vec<u8>,
}

impl KeyMaterial {
    /// Generates a new RSA-2048 key pair. Without `key_id`, the key id is the RFC 7638 thumbprint,
    /// so it changes exactly when the key does (OpenMetadata needs the two rotated together).
    ///
    /// Costs tens of milliseconds of CPU; run it off the async runtime.
    pub fn generate(key_id: Option<String>) -> Result<Self, KeyError> {
        let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generate {
            bits: GENERATED_RSA_BITS,
        })?;
        Self::from_pair(&pair, key_id)
    }

    /// A user-provided private key in whatever form it comes: PEM or DER, PKCS#8 or PKCS#1.
    /// The public key is derived from it.
    pub fn from_private_key(private_key: &[u8], key_id: Option<String>) -> Result<Self, KeyError> {
        Self::from_bytes(private_key, None, key_id)
    }

    /// Like [`Self::from_private_key`], and when `public_key` is given (PEM or DER, SPKI or
    /// PKCS#1) it must be the private key's public half: a mismatched pair would make the server
    /// publish a key that does not verify its own tokens.
    pub fn from_bytes(
        private_key: &[u8],
        public_key: Option<&[u8]>,
        key_id: Option<String>,
    ) -> Result<Self, KeyError> {
        let keys = Self::from_pair(&parse::private_from_any(private_key)?, key_id)?;
        if let Some(public) = public_key {
            keys.check_public(&parse::public_from_any(public)?)?;
        }
        Ok(keys)
    }

    /// A DER private key (PKCS#8, or PKCS#1 which is converted) and optionally its DER public
    /// key (SPKI or PKCS#1), which must match.
    pub fn from_der(
        private_der: &[u8],
        public_der: Option<&[u8]>,
        key_id: Option<String>,
    ) -> Result<Self, KeyError> {
        let keys = Self::from_pair(
            &parse::private_from_der(private_der, PrivateFormat::Either)?,
            key_id,
        )?;
        if let Some(public) = public_der {
            keys.check_public(&parse::public_from_der(public)?)?;
        }
        Ok(keys)
    }

    /// A PEM private key (`PRIVATE KEY`, or `RSA PRIVATE KEY` which is converted to PKCS#8) and
    /// optionally its PEM public key (`PUBLIC KEY` or `RSA PUBLIC KEY`), which must match.
    pub fn from_pem(
        private_pem: &str,
        public_pem: Option<&str>,
        key_id: Option<String>,
    ) -> Result<Self, KeyError> {
        let keys = Self::from_pair(&parse::private_from_pem(private_pem.as_bytes())?, key_id)?;
        if let Some(public) = public_pem {
            keys.check_public(&parse::public_from_pem(public.as_bytes())?)?;
        }
        Ok(keys)
    }

    /// The entries of the keys Secret, named by the `pub const`s of this module. The DER files
    /// are what the server mounts; the rest are derived copies for people and other consumers.
    pub fn to_secret_data(&self) -> BTreeMap<String, Vec<u8>> {
        BTreeMap::from([
            (PRIVATE_KEY_DER.to_string(), self.private_pkcs8_der.to_vec()),
            (PUBLIC_KEY_DER.to_string(), self.public_spki_der.clone()),
            (
                PRIVATE_KEY_PEM.to_string(),
                self.private_pem.as_bytes().to_vec(),
            ),
            (
                PUBLIC_KEY_PEM.to_string(),
                self.public_pem.as_bytes().to_vec(),
            ),
            (JWKS_JSON.to_string(), self.jwks_json().into_bytes()),
            (KEY_ID.to_string(), self.key_id.as_bytes().to_vec()),
        ])
    }

    /// Reads back what [`Self::to_secret_data`] wrote. The key comes from `private_key.der`
    /// (which must be PKCS#8, since that is what the server reads) and `key_id`; `public_key.der`
    /// must be exactly the matching SPKI, because pods mount that file too. The derived copies
    /// (PEMs, `jwks.json`) are not read: the operator rewrites them from the key.
    pub fn from_secret_data(data: &BTreeMap<String, Vec<u8>>) -> Result<Self, KeyError> {
        let entry = |name: &'static str| {
            data.get(name)
                .map(Vec::as_slice)
                .ok_or(KeyError::MissingEntry { name })
        };
        let invalid = |name: &'static str| {
            move |source: KeyError| KeyError::InvalidEntry {
                name,
                source: Box::new(source),
            }
        };

        let key_id = std::str::from_utf8(entry(KEY_ID)?)
            .map_err(|_| KeyError::InvalidKeyId {
                reason: "it is not UTF-8",
            })
            .and_then(|id| check_key_id(id.to_string()))
            .map_err(invalid(KEY_ID))?;
        let pair = parse::private_from_der(entry(PRIVATE_KEY_DER)?, PrivateFormat::Pkcs8)
            .map_err(invalid(PRIVATE_KEY_DER))?;
        let keys = Self::from_pair(&pair, Some(key_id))?;

        let stored_public = entry(PUBLIC_KEY_DER)?;
        parse::public_from_der(stored_public)
            .and_then(|public| keys.check_public(&public))
            .map_err(invalid(PUBLIC_KEY_DER))?;
        if stored_public != keys.public_spki_der.as_slice() {
            // Same key, but not the SPKI encoding `X509EncodedKeySpec` needs (e.g. PKCS#1).
            return Err(invalid(PUBLIC_KEY_DER)(KeyError::InvalidDer {
                role: KeyRole::Public,
                expected: "an X.509 SubjectPublicKeyInfo",
            }));
        }
        Ok(keys)
    }

    /// The key id: `JWT_KEY_ID` for the server and the `kid` of every token it signs.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Whether the key id is the one a configuration asks for: `configured`, or without one the
    /// RFC 7638 thumbprint (what [`Self::generate`] gives).
    pub fn has_key_id(&self, configured: Option<&str>) -> bool {
        match configured {
            Some(id) => self.key_id == id,
            None => self.key_id == self.thumbprint(),
        }
    }

    /// The private key as unencrypted PKCS#8 DER, the bytes of `private_key.der`.
    pub fn private_pkcs8_der(&self) -> &[u8] {
        &self.private_pkcs8_der
    }

    /// The public key as DER `SubjectPublicKeyInfo`, the bytes of `public_key.der`.
    pub fn public_spki_der(&self) -> &[u8] {
        &self.public_spki_der
    }

    /// The private key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, 64-character lines).
    pub fn private_pem(&self) -> &str {
        &self.private_pem
    }

    /// The public key as SPKI PEM (`-----BEGIN PUBLIC KEY-----`, 64-character lines).
    pub fn public_pem(&self) -> &str {
        &self.public_pem
    }

    /// The modulus `n`, unsigned big-endian without leading zeros.
    pub fn modulus(&self) -> &[u8] {
        &self.n
    }

    /// The public exponent `e`, unsigned big-endian without leading zeros.
    pub fn public_exponent(&self) -> &[u8] {
        &self.e
    }

    /// The modulus size in bits.
    pub fn bits(&self) -> usize {
        match self.n.first() {
            Some(&top) => self.n.len() * 8 - top.leading_zeros() as usize,
            None => 0,
        }
    }

    /// A JWKS with this key (`kty`, `use: sig`, `alg: RS256`, `kid`, `n`, `e`; base64url without
    /// padding or sign byte).
    pub fn jwks_json(&self) -> String {
        jwk::jwks_json(&self.key_id, &self.n, &self.e)
    }

    /// `SHA256:` + lowercase hex of SHA-256 over the SPKI DER, i.e. over `public_key.der`: what
    /// status shows. Chosen over the thumbprint because anyone can check it against the mounted
    /// file with `sha256sum public_key.der`, and it stays distinct from a thumbprint key id.
    pub fn fingerprint(&self) -> String {
        spki_fingerprint(&self.public_spki_der)
    }

    /// The RFC 7638 JWK thumbprint of the public key (the default key id).
    pub fn thumbprint(&self) -> String {
        rfc7638_thumbprint(&self.n, &self.e)
    }

    /// RS256 (RSASSA-PKCS1-v1_5 with SHA-256) signature of `signing_input`, e.g. the
    /// `header.payload` of a JWT. Parses the key each call (about a millisecond), which keeps
    /// `KeyMaterial` plain data; signing is rare (tests, health probes).
    pub fn sign_rs256(&self, signing_input: &[u8]) -> Result<Vec<u8>, KeyError> {
        let pair = KeyPair::from_pkcs8(&self.private_pkcs8_der).map_err(|_| KeyError::Sign)?;
        let mut signature = vec![0u8; pair.public_modulus_len()];
        pair.sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            signing_input,
            &mut signature,
        )
        .map_err(|_| KeyError::Sign)?;
        Ok(signature)
    }

    /// Checks an RS256 signature against the public key, e.g. to confirm that a stored bot token
    /// was signed by the key pods currently use.
    pub fn verify_rs256(&self, signing_input: &[u8], signature: &[u8]) -> Result<(), KeyError> {
        PublicKeyComponents {
            n: self.n.as_slice(),
            e: self.e.as_slice(),
        }
        .verify(&RSA_PKCS1_2048_8192_SHA256, signing_input, signature)
        .map_err(|_| KeyError::BadSignature)
    }

    /// Builds every encoding from an aws-lc key pair; the one constructor all others go through.
    fn from_pair(pair: &KeyPair, key_id: Option<String>) -> Result<Self, KeyError> {
        let pkcs8: Pkcs8V1Der<'static> = pair.as_der().map_err(|_| KeyError::Encode {
            format: "PKCS#8 DER",
        })?;
        let private_pkcs8_der = Zeroizing::new(pkcs8.as_ref().to_vec());
        let public = pair.public_key();
        let spki: PublicKeyX509Der<'static> = public.as_der().map_err(|_| KeyError::Encode {
            format: "SubjectPublicKeyInfo DER",
        })?;
        let public_spki_der = spki.as_ref().to_vec();
        let components = PublicKeyComponents::<Vec<u8>>::from(public);
        let n = jwk::minimal(&components.n).to_vec();
        let e = jwk::minimal(&components.e).to_vec();
        let key_id = match key_id {
            Some(id) => check_key_id(id)?,
            None => rfc7638_thumbprint(&n, &e),
        };
        Ok(Self {
            key_id,
            private_pem: Zeroizing::new(pem::encode(pem::LABEL_PKCS8_PRIVATE, &private_pkcs8_der)),
            public_pem: pem::encode(pem::LABEL_SPKI_PUBLIC, &public_spki_der),
            private_pkcs8_der,
            public_spki_der,
            n,
            e,
        })
    }

    /// Errors unless `public` is this key's public half (compares `n` and `e`, so SPKI and
    /// PKCS#1 encodings of the same key both pass).
    fn check_public(&self, public: &PublicKey) -> Result<(), KeyError> {
        let c = PublicKeyComponents::<Vec<u8>>::from(public);
        if jwk::minimal(&c.n) == self.n.as_slice() && jwk::minimal(&c.e) == self.e.as_slice() {
            return Ok(());
        }
        let supplied = public
            .as_der()
            .map(|spki| spki_fingerprint(spki.as_ref()))
            .unwrap_or_else(|_| "unencodable".to_string());
        Err(KeyError::PublicKeyMismatch {
            private: self.fingerprint(),
            supplied,
        })
    }
}

impl fmt::Debug for KeyMaterial {
    /// Only public identifiers: `Debug` output ends up in logs and error reports.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyMaterial")
            .field("key_id", &self.key_id)
            .field("fingerprint", &self.fingerprint())
            .field("bits", &self.bits())
            .finish_non_exhaustive()
    }
}

fn spki_fingerprint(spki_der: &[u8]) -> String {
    format!("SHA256:{}", hex::encode(Sha256::digest(spki_der)))
}

/// A key id goes into an env var, a file and every JWT header; an empty one or one with control
/// characters or surrounding whitespace would break or silently differ in one of those places.
fn check_key_id(id: String) -> Result<String, KeyError> {
    let reason = if id.is_empty() {
        "it is empty"
    } else if id.chars().any(char::is_control) {
        "it contains control characters"
    } else if id.trim() != id {
        "it has leading or trailing whitespace"
    } else {
        return Ok(id);
    };
    Err(KeyError::InvalidKeyId { reason })
}
