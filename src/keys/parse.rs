//! Turning user- or Secret-supplied bytes into aws-lc RSA keys, with errors that say what is
//! wrong in OpenMetadata terms instead of aws-lc's one-word rejection reasons.

use aws_lc_rs::error::KeyRejected;
use aws_lc_rs::rsa::{KeyPair, PublicKey};

use super::error::{KeyError, KeyRole};
use super::pem::{self, PemBlock};

/// Which DER structure a private key may be in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PrivateFormat {
    /// PKCS#8 `PrivateKeyInfo` (unencrypted): what OpenMetadata reads.
    Pkcs8,
    /// PKCS#1 `RSAPrivateKey`: accepted from users and converted.
    Pkcs1,
    /// Either; PKCS#8 is tried first.
    Either,
}

/// Parses a DER private key. Size and algorithm rejections are reported as such; anything else
/// is an encoding problem.
pub(crate) fn private_from_der(der: &[u8], format: PrivateFormat) -> Result<KeyPair, KeyError> {
    let role = KeyRole::Private;
    match format {
        PrivateFormat::Pkcs8 => KeyPair::from_pkcs8(der)
            .map_err(|r| rejected(role, &r, "an unencrypted PKCS#8 PrivateKeyInfo")),
        PrivateFormat::Pkcs1 => {
            KeyPair::from_der(der).map_err(|r| rejected(role, &r, "a PKCS#1 RSAPrivateKey"))
        }
        PrivateFormat::Either => match KeyPair::from_pkcs8(der) {
            Ok(pair) => Ok(pair),
            Err(r) if !is_encoding_problem(&r) => Err(rejected(role, &r, "")),
            Err(_) => KeyPair::from_der(der).map_err(|r| {
                rejected(
                    role,
                    &r,
                    "an unencrypted PKCS#8 PrivateKeyInfo or PKCS#1 RSAPrivateKey",
                )
            }),
        },
    }
}

/// Parses a PEM private key: the first block with a private-key label decides the format.
pub(crate) fn private_from_pem(text: &[u8]) -> Result<KeyPair, KeyError> {
    let role = KeyRole::Private;
    let blocks = pem::decode_all(text).map_err(|p| KeyError::MalformedPem {
        role,
        problem: p.as_str(),
    })?;
    let block = blocks
        .iter()
        .find(|b| b.label.ends_with("PRIVATE KEY"))
        .ok_or_else(|| no_usable_block(role, &blocks))?;
    if block.encrypted || block.label == pem::LABEL_ENCRYPTED_PRIVATE {
        return Err(KeyError::Encrypted);
    }
    match block.label.as_str() {
        pem::LABEL_PKCS8_PRIVATE => private_from_der(&block.der, PrivateFormat::Pkcs8),
        pem::LABEL_PKCS1_PRIVATE => private_from_der(&block.der, PrivateFormat::Pkcs1),
        "EC PRIVATE KEY" | "DSA PRIVATE KEY" => Err(KeyError::NotRsa { role }),
        // "OPENSSH PRIVATE KEY", ...
        other => Err(KeyError::UnsupportedPem {
            role,
            label: pem::printable_label(other),
        }),
    }
}

/// Parses a private key that may be PEM or DER, PKCS#8 or PKCS#1.
pub(crate) fn private_from_any(input: &[u8]) -> Result<KeyPair, KeyError> {
    if pem::looks_like_pem(input) {
        private_from_pem(input)
    } else if looks_like_der(input) {
        private_from_der(input, PrivateFormat::Either)
    } else {
        Err(KeyError::UnknownFormat {
            role: KeyRole::Private,
        })
    }
}

/// Parses a DER public key, X.509 `SubjectPublicKeyInfo` or PKCS#1 `RSAPublicKey`.
pub(crate) fn public_from_der(der: &[u8]) -> Result<PublicKey, KeyError> {
    PublicKey::from_der(der).map_err(|r| {
        rejected(
            KeyRole::Public,
            &r,
            "an X.509 SubjectPublicKeyInfo or PKCS#1 RSAPublicKey",
        )
    })
}

/// Parses a PEM public key (`PUBLIC KEY` or `RSA PUBLIC KEY`).
pub(crate) fn public_from_pem(text: &[u8]) -> Result<PublicKey, KeyError> {
    let role = KeyRole::Public;
    let blocks = pem::decode_all(text).map_err(|p| KeyError::MalformedPem {
        role,
        problem: p.as_str(),
    })?;
    let block = blocks
        .iter()
        .find(|b| b.label == pem::LABEL_SPKI_PUBLIC || b.label == pem::LABEL_PKCS1_PUBLIC)
        .ok_or_else(|| no_usable_block(role, &blocks))?;
    public_from_der(&block.der)
}

/// Parses a public key that may be PEM or DER.
pub(crate) fn public_from_any(input: &[u8]) -> Result<PublicKey, KeyError> {
    if pem::looks_like_pem(input) {
        public_from_pem(input)
    } else if looks_like_der(input) {
        public_from_der(input)
    } else {
        Err(KeyError::UnknownFormat {
            role: KeyRole::Public,
        })
    }
}

/// Every key structure accepted here is a DER SEQUENCE, so its first byte is 0x30; anything else
/// is neither PEM nor a key and gets a clearer error than a DER parse failure.
fn looks_like_der(input: &[u8]) -> bool {
    input.first() == Some(&0x30)
}

/// aws-lc reports why it rejected a key only through a static description string; these are the
/// ones that mean "not a parseable key structure" rather than "a key we refuse".
fn is_encoding_problem(r: &KeyRejected) -> bool {
    !matches!(r.description_(), "TooSmall" | "TooLarge" | "WrongAlgorithm")
}

fn rejected(role: KeyRole, r: &KeyRejected, expected: &'static str) -> KeyError {
    match r.description_() {
        "TooSmall" => KeyError::TooSmall { role },
        "TooLarge" => KeyError::TooLarge { role },
        "WrongAlgorithm" => KeyError::NotRsa { role },
        _ => KeyError::InvalidDer { role, expected },
    }
}

fn no_usable_block(role: KeyRole, blocks: &[PemBlock]) -> KeyError {
    let found: Vec<String> = blocks
        .iter()
        .map(|b| pem::printable_label(&b.label))
        .collect();
    KeyError::NoPemKey {
        role,
        found: found.join(", "),
    }
}
