//! Why key material could not be generated, read, or used, and the size limits those messages
//! name: what the parsers and the pair report (a leaf: it depends on nothing else in `keys`).

use std::fmt;

/// Smallest accepted RSA modulus: RS256 (RFC 7518 §3.3) requires 2048 bits, and aws-lc refuses
/// smaller keys anyway.
pub const MIN_RSA_BITS: usize = 2048;
/// Largest accepted RSA modulus: the largest aws-lc signs with.
pub const MAX_RSA_BITS: usize = 8192;

/// Which half of the key pair an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyRole {
    /// The private key.
    Private,
    /// The public key.
    Public,
}

impl fmt::Display for KeyRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyRole::Private => "private key",
            KeyRole::Public => "public key",
        })
    }
}

/// Why key material could not be generated, read, or used.
///
/// Messages name the problem and, where it helps, the fix; they never contain key bytes or the
/// text of the input (only PEM labels and public-key fingerprints, which are not secret).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
#[allow(missing_docs)] // each variant is documented by its message
pub enum KeyError {
    #[error("generating an RSA-{bits} key pair failed")]
    Generate { bits: usize },
    #[error("encoding the key as {format} failed")]
    Encode { format: &'static str },
    #[error("the {role} is neither PEM text nor DER (DER keys start with the byte 0x30)")]
    UnknownFormat { role: KeyRole },
    #[error("the {role} PEM is malformed: {problem}")]
    MalformedPem {
        role: KeyRole,
        problem: &'static str,
    },
    #[error("the {role} PEM has no {role} block (blocks found: {found})")]
    NoPemKey { role: KeyRole, found: String },
    #[error(
        "the {role} PEM block `{label}` is not supported; use `PRIVATE KEY` (PKCS#8) or `RSA PRIVATE KEY` (PKCS#1)"
    )]
    UnsupportedPem { role: KeyRole, label: String },
    #[error(
        "the private key is encrypted; OpenMetadata reads only unencrypted PKCS#8, so provide it decrypted (openssl pkcs8 -topk8 -nocrypt)"
    )]
    Encrypted,
    #[error(
        "the {role} is not an RSA key; OpenMetadata signs its JWTs with RS256, which needs RSA"
    )]
    NotRsa { role: KeyRole },
    #[error("the RSA {role} is smaller than {min} bits; RS256 keys must have at least {min} bits", min = MIN_RSA_BITS)]
    TooSmall { role: KeyRole },
    #[error("the RSA {role} is larger than {max} bits, the largest supported", max = MAX_RSA_BITS)]
    TooLarge { role: KeyRole },
    #[error("the {role} is not {expected} in DER")]
    InvalidDer {
        role: KeyRole,
        expected: &'static str,
    },
    #[error(
        "the public key ({supplied}) does not belong to the private key (whose public key is {private})"
    )]
    PublicKeyMismatch { private: String, supplied: String },
    #[error("the key id is invalid: {reason}")]
    InvalidKeyId { reason: &'static str },
    #[error("the keys Secret has no `{name}` entry")]
    MissingEntry { name: &'static str },
    #[error("the keys Secret entry `{name}` is invalid")]
    InvalidEntry {
        name: &'static str,
        #[source]
        source: Box<KeyError>,
    },
    #[error("RS256 signing failed")]
    Sign,
    #[error("the RS256 signature does not verify against this key")]
    BadSignature,
}
