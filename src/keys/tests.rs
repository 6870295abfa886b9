//! `KeyMaterial` checked against independent implementations: the `rsa` crate (RustCrypto)
//! parses what aws-lc-rs wrote, and signatures are verified from nothing but the JWKS.

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use rsa::signature::Verifier as _;
use rsa::traits::PublicKeyParts as _;
use rsa::{BigUint, RsaPrivateKey, RsaPublicKey};

use super::*;

/// One generated key shared by the read-only tests: generation is the slow part.
fn shared() -> &'static KeyMaterial {
    static KEYS: OnceLock<KeyMaterial> = OnceLock::new();
    KEYS.get_or_init(|| KeyMaterial::generate(None).unwrap())
}

fn rsa_private(keys: &KeyMaterial) -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs8_der(keys.private_pkcs8_der()).unwrap()
}

fn pem_body(pem: &str) -> String {
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

fn b64url_json(value: &serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

#[test]
fn generated_der_parses_with_independent_implementation() {
    let keys = shared();
    let private = rsa_private(keys);
    let public = RsaPublicKey::from_public_key_der(keys.public_spki_der()).unwrap();
    assert_eq!(private.size() * 8, 2048);
    assert_eq!(keys.bits(), 2048);
    assert_eq!(private.to_public_key(), public);
    assert_eq!(public.e(), &BigUint::from(65537u32));
    // Unencrypted PKCS#8 v1 and SPKI, byte for byte what another encoder writes.
    assert_eq!(
        private.to_pkcs8_der().unwrap().as_bytes(),
        keys.private_pkcs8_der()
    );
    assert_eq!(
        public.to_public_key_der().unwrap().as_bytes(),
        keys.public_spki_der()
    );
}

#[test]
fn pems_decode_to_the_same_der() {
    let keys = shared();
    let (private_pem, public_pem) = (keys.private_pem(), keys.public_pem());
    assert!(private_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    assert!(private_pem.ends_with("-----END PRIVATE KEY-----\n"));
    assert!(public_pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    assert!(public_pem.ends_with("-----END PUBLIC KEY-----\n"));
    for pem in [private_pem, public_pem] {
        let body: Vec<&str> = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        assert!(body[..body.len() - 1].iter().all(|l| l.len() == 64));
        assert!(!body[body.len() - 1].is_empty() && body[body.len() - 1].len() <= 64);
    }
    assert_eq!(
        STANDARD.decode(pem_body(private_pem)).unwrap(),
        keys.private_pkcs8_der()
    );
    assert_eq!(
        STANDARD.decode(pem_body(public_pem)).unwrap(),
        keys.public_spki_der()
    );
    // An independent PEM reader agrees.
    let private = RsaPrivateKey::from_pkcs8_pem(private_pem).unwrap();
    assert_eq!(
        private.to_pkcs8_der().unwrap().as_bytes(),
        keys.private_pkcs8_der()
    );
    assert_eq!(
        RsaPublicKey::from_public_key_pem(public_pem).unwrap(),
        private.to_public_key()
    );
}

#[test]
fn jwks_n_e_match_modulus_and_exponent() {
    let keys = shared();
    let jwks: serde_json::Value = serde_json::from_str(&keys.jwks_json()).unwrap();
    let all = jwks["keys"].as_array().unwrap();
    assert_eq!(all.len(), 1);
    let jwk = all[0].as_object().unwrap();
    assert_eq!(jwk.len(), 6);
    assert_eq!(jwk["kty"], "RSA");
    assert_eq!(jwk["use"], "sig");
    assert_eq!(jwk["alg"], "RS256");
    assert_eq!(jwk["kid"], keys.key_id());
    let (n, e) = (jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap());
    assert!(
        !n.contains(['=', '+', '/']),
        "standard base64url without padding"
    );
    assert_eq!(e, "AQAB");
    let private = rsa_private(keys);
    let n_bytes = URL_SAFE_NO_PAD.decode(n).unwrap();
    assert_eq!(n_bytes.len(), 256, "no leading zero byte");
    assert_eq!(n_bytes, private.n().to_bytes_be());
    assert_eq!(
        URL_SAFE_NO_PAD.decode(e).unwrap(),
        private.e().to_bytes_be()
    );
    assert_eq!(keys.modulus(), n_bytes.as_slice());
    assert_eq!(keys.public_exponent(), private.e().to_bytes_be().as_slice());
}

#[test]
fn jwt_signed_with_private_key_verifies_against_jwks() {
    let keys = KeyMaterial::generate(Some("om-key-1".into())).unwrap();
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": keys.key_id()});
    let claims = serde_json::json!({
        "iss": "open-metadata.org", "sub": "ingestion-bot", "email": "ingestion-bot@example.com",
        "isBot": true, "tokenType": "BOT", "iat": 1_760_000_000,
    });
    let signing_input = format!("{}.{}", b64url_json(&header), b64url_json(&claims));
    let signature = keys.sign_rs256(signing_input.as_bytes()).unwrap();
    let token = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(&signature));

    // A verifier that knows only the JWKS: find the key by the token's kid, rebuild it from n/e.
    let jwks: serde_json::Value = serde_json::from_str(&keys.jwks_json()).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let token_header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == token_header["kid"])
        .unwrap();
    let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
    let e = URL_SAFE_NO_PAD.decode(jwk["e"].as_str().unwrap()).unwrap();
    let message = format!("{}.{}", parts[0], parts[1]);
    let sig_bytes = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();

    // RustCrypto's PKCS#1 v1.5 verifier.
    let public = RsaPublicKey::new(BigUint::from_bytes_be(&n), BigUint::from_bytes_be(&e)).unwrap();
    let verifier = rsa::pkcs1v15::VerifyingKey::<rsa::sha2::Sha256>::new(public);
    let sig = rsa::pkcs1v15::Signature::try_from(sig_bytes.as_slice()).unwrap();
    verifier.verify(message.as_bytes(), &sig).unwrap();
    assert!(
        verifier
            .verify(format!("{message}x").as_bytes(), &sig)
            .is_err()
    );

    // aws-lc-rs from the JWKS components, and from the SPKI file the server loads.
    let params = &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256;
    aws_lc_rs::signature::RsaPublicKeyComponents { n: &n, e: &e }
        .verify(params, message.as_bytes(), &sig_bytes)
        .unwrap();
    aws_lc_rs::signature::UnparsedPublicKey::new(params, keys.public_spki_der())
        .verify(message.as_bytes(), &sig_bytes)
        .unwrap();
    keys.verify_rs256(message.as_bytes(), &sig_bytes).unwrap();
    assert!(matches!(
        keys.verify_rs256(b"other", &sig_bytes),
        Err(KeyError::BadSignature)
    ));
}

#[test]
fn key_id_defaults_to_thumbprint_and_configured_id_is_kept() {
    let keys = shared();
    assert_eq!(keys.key_id(), keys.thumbprint());
    let private = rsa_private(keys);
    assert_eq!(
        keys.thumbprint(),
        rfc7638_thumbprint(&private.n().to_bytes_be(), &private.e().to_bytes_be())
    );
    let configured =
        KeyMaterial::from_private_key(keys.private_pkcs8_der(), Some("my-kid".into())).unwrap();
    assert_eq!(configured.key_id(), "my-kid");
    assert_eq!(configured.thumbprint(), keys.thumbprint());
    assert_ne!(
        &configured, keys,
        "the same key under another id is another KeyMaterial"
    );
    let generated = KeyMaterial::generate(Some("fixed".into())).unwrap();
    assert_eq!(generated.key_id(), "fixed");
    for bad in ["", " x", "a\nb"] {
        let err =
            KeyMaterial::from_private_key(keys.private_pkcs8_der(), Some(bad.into())).unwrap_err();
        assert!(
            matches!(err, KeyError::InvalidKeyId { .. }),
            "{bad:?}: {err}"
        );
    }
}

#[test]
fn fingerprint_is_sha256_of_spki() {
    let keys = shared();
    let fp = keys.fingerprint();
    assert_eq!(
        fp,
        format!(
            "SHA256:{}",
            hex::encode(Sha256::digest(keys.public_spki_der()))
        )
    );
    let hex_part = fp.strip_prefix("SHA256:").unwrap();
    assert_eq!(hex_part.len(), 64);
    assert!(
        hex_part
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
    );
}

#[test]
fn two_generations_give_different_keys_and_ids() {
    let a = KeyMaterial::generate(None).unwrap();
    let b = KeyMaterial::generate(None).unwrap();
    assert_ne!(a, b);
    assert_ne!(a.key_id(), b.key_id());
    assert_ne!(a.fingerprint(), b.fingerprint());
    assert_ne!(a.private_pkcs8_der(), b.private_pkcs8_der());
}

#[test]
fn byo_pkcs8_pem_and_der_accepted() {
    let keys = shared();
    assert_eq!(
        &KeyMaterial::from_private_key(keys.private_pkcs8_der(), None).unwrap(),
        keys
    );
    assert_eq!(
        &KeyMaterial::from_private_key(keys.private_pem().as_bytes(), None).unwrap(),
        keys
    );
    // CRLF and text around the block, as pasted by hand or exported by OpenSSL.
    let messy = format!(
        "Bag Attributes\n  localKeyID: 01\n\n{}\n",
        keys.private_pem().replace('\n', "\r\n")
    );
    assert_eq!(
        &KeyMaterial::from_private_key(messy.as_bytes(), None).unwrap(),
        keys
    );
    // PKCS#8 PEM written by another implementation.
    let other = rsa_private(keys).to_pkcs8_pem(LineEnding::CRLF).unwrap();
    assert_eq!(
        &KeyMaterial::from_private_key(other.as_bytes(), None).unwrap(),
        keys
    );
}

#[test]
fn byo_pkcs1_pem_and_der_accepted() {
    let keys = shared();
    let private = rsa_private(keys);
    let pem = private.to_pkcs1_pem(LineEnding::LF).unwrap();
    assert!(pem.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    let from_pem = KeyMaterial::from_private_key(pem.as_bytes(), None).unwrap();
    let from_der =
        KeyMaterial::from_private_key(private.to_pkcs1_der().unwrap().as_bytes(), None).unwrap();
    // Converted to PKCS#8 DER, identical to the original.
    assert_eq!(&from_pem, keys);
    assert_eq!(&from_der, keys);
    assert_eq!(from_der.private_pkcs8_der(), keys.private_pkcs8_der());
}

#[test]
fn byo_matching_public_key_accepted() {
    let keys = shared();
    let private = keys.private_pem().as_bytes();
    let pkcs1_public = rsa_private(keys)
        .to_public_key()
        .to_pkcs1_pem(LineEnding::LF)
        .unwrap();
    for public in [
        keys.public_pem().as_bytes(),
        keys.public_spki_der(),
        pkcs1_public.as_bytes(),
    ] {
        assert_eq!(
            &KeyMaterial::from_bytes(private, Some(public), None).unwrap(),
            keys
        );
    }
    assert_eq!(&KeyMaterial::from_bytes(private, None, None).unwrap(), keys);
}

#[test]
fn byo_mismatched_public_key_rejected() {
    let keys = shared();
    let other = KeyMaterial::generate(None).unwrap();
    let err = KeyMaterial::from_bytes(
        keys.private_pkcs8_der(),
        Some(other.public_pem().as_bytes()),
        None,
    )
    .unwrap_err();
    match &err {
        KeyError::PublicKeyMismatch { private, supplied } => {
            assert_eq!(private, &keys.fingerprint());
            assert_eq!(supplied, &other.fingerprint());
        }
        _ => panic!("unexpected error: {err}"),
    }
    assert!(
        err.to_string()
            .contains("does not belong to the private key"),
        "{err}"
    );
    let err =
        KeyMaterial::from_bytes(keys.private_pkcs8_der(), Some(b"not a key"), None).unwrap_err();
    assert!(
        matches!(
            err,
            KeyError::UnknownFormat {
                role: KeyRole::Public
            }
        ),
        "{err}"
    );
    let err = KeyMaterial::from_bytes(
        keys.private_pkcs8_der(),
        Some(keys.private_pem().as_bytes()),
        None,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            KeyError::NoPemKey {
                role: KeyRole::Public,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn byo_1024_bit_key_rejected() {
    let small = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).unwrap();
    let inputs = [
        small.to_pkcs8_der().unwrap().as_bytes().to_vec(),
        small
            .to_pkcs8_pem(LineEnding::LF)
            .unwrap()
            .as_bytes()
            .to_vec(),
        small.to_pkcs1_der().unwrap().as_bytes().to_vec(),
        small
            .to_pkcs1_pem(LineEnding::LF)
            .unwrap()
            .as_bytes()
            .to_vec(),
    ];
    for input in inputs {
        let err = KeyMaterial::from_private_key(&input, None).unwrap_err();
        assert!(
            matches!(
                err,
                KeyError::TooSmall {
                    role: KeyRole::Private
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("smaller than 2048 bits"), "{err}");
    }
}

#[test]
fn byo_garbage_rejected_with_named_problem() {
    let keys = shared();
    let truncated = keys.private_pkcs8_der()[..keys.private_pkcs8_der().len() / 2].to_vec();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"".to_vec(), "neither PEM text nor DER"),
        (b" \n\t".to_vec(), "neither PEM text nor DER"),
        (b"hello world".to_vec(), "neither PEM text nor DER"),
        (vec![0xff, 0xfe, 0x00], "neither PEM text nor DER"),
        (
            vec![0x30, 0x03, 0x02, 0x01, 0x00],
            "not an unencrypted PKCS#8 PrivateKeyInfo or PKCS#1",
        ),
        (
            truncated,
            "not an unencrypted PKCS#8 PrivateKeyInfo or PKCS#1",
        ),
        (
            b"-----BEGIN PRIVATE KEY-----\n!!!notbase64\n-----END PRIVATE KEY-----\n".to_vec(),
            "not valid base64",
        ),
        (
            b"-----BEGIN PRIVATE KEY-----\nMIIB\n".to_vec(),
            "no matching -----END",
        ),
        (
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".to_vec(),
            "PKCS#8 PrivateKeyInfo in DER",
        ),
        (
            keys.public_pem().as_bytes().to_vec(),
            "no private key block (blocks found: PUBLIC KEY)",
        ),
        (
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_vec(),
            "blocks found: CERTIFICATE",
        ),
        (
            b"-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n"
                .to_vec(),
            "`OPENSSH PRIVATE KEY` is not supported",
        ),
    ];
    for (input, expected) in cases {
        let message = KeyMaterial::from_private_key(&input, None)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains(expected),
            "expected {expected:?} in {message:?}"
        );
    }
}

#[test]
fn byo_encrypted_key_rejected() {
    let legacy = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
    let pkcs8_pem =
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n";
    for input in [legacy, pkcs8_pem] {
        let err = KeyMaterial::from_private_key(input.as_bytes(), None).unwrap_err();
        assert!(matches!(err, KeyError::Encrypted), "{err}");
        assert!(
            err.to_string().contains("the private key is encrypted"),
            "{err}"
        );
    }
    // DER EncryptedPrivateKeyInfo: SEQUENCE { AlgorithmIdentifier { PBES2 }, OCTET STRING }.
    let der = [
        0x30, 0x11, 0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d,
        0x04, 0x02, 0, 0,
    ];
    let err = KeyMaterial::from_private_key(&der, None).unwrap_err();
    assert!(
        err.to_string().contains("not an unencrypted PKCS#8"),
        "{err}"
    );
}

#[test]
fn byo_non_rsa_key_rejected() {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, Ed25519KeyPair};
    let ec = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING)
        .unwrap()
        .to_pkcs8v1()
        .unwrap();
    let ed = Ed25519KeyPair::generate().unwrap().to_pkcs8v1().unwrap();
    let ec_pem = pem::encode("PRIVATE KEY", ec.as_ref());
    let sec1 = "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n";
    for input in [ec.as_ref(), ed.as_ref(), ec_pem.as_bytes(), sec1.as_bytes()] {
        let err = KeyMaterial::from_private_key(input, None).unwrap_err();
        assert!(
            matches!(
                err,
                KeyError::NotRsa {
                    role: KeyRole::Private
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("not an RSA key"), "{err}");
    }
}

#[test]
fn debug_output_contains_no_key_bytes() {
    let keys = shared();
    for debug in [
        format!("{keys:?}"),
        format!("{keys:#?}"),
        format!("{:?}", Some(keys.clone())),
    ] {
        assert!(debug.contains(keys.key_id()));
        assert!(debug.contains(&keys.fingerprint()));
        assert!(!debug.contains(&STANDARD.encode(keys.private_pkcs8_der())));
        assert!(!debug.contains(&hex::encode(keys.private_pkcs8_der())));
        for line in keys
            .private_pem()
            .lines()
            .filter(|l| !l.starts_with("-----"))
        {
            assert!(!debug.contains(line), "a pem line leaked into {debug}");
        }
        assert!(!debug.contains(&pem_body(keys.public_pem())[..40]));
        assert!(debug.len() < 300, "{debug}");
    }
}

#[test]
fn secret_data_round_trip() {
    let keys = KeyMaterial::generate(Some("kid-7".into())).unwrap();
    let data = keys.to_secret_data();
    let names: Vec<&str> = data.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            JWKS_JSON,
            KEY_ID,
            PRIVATE_KEY_DER,
            PRIVATE_KEY_PEM,
            PUBLIC_KEY_DER,
            PUBLIC_KEY_PEM
        ]
    );
    assert_eq!(data[KEY_ID], b"kid-7");
    assert_eq!(data[PRIVATE_KEY_DER], keys.private_pkcs8_der());
    assert_eq!(data[PUBLIC_KEY_DER], keys.public_spki_der());
    assert_eq!(data[PRIVATE_KEY_PEM], keys.private_pem().as_bytes());
    assert_eq!(data[PUBLIC_KEY_PEM], keys.public_pem().as_bytes());
    assert_eq!(data[JWKS_JSON], keys.jwks_json().as_bytes());
    let back = KeyMaterial::from_secret_data(&data).unwrap();
    assert_eq!(back, keys);
    assert_eq!(back.to_secret_data(), data);
    // A token signed after the round trip verifies with the stored public key file.
    let sig = back.sign_rs256(b"a.b").unwrap();
    aws_lc_rs::signature::UnparsedPublicKey::new(
        &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
        &data[PUBLIC_KEY_DER],
    )
    .verify(b"a.b", &sig)
    .unwrap();
}

#[test]
fn secret_data_with_tampered_public_key_fails() {
    let keys = shared();
    let other = KeyMaterial::generate(None).unwrap();
    let mut data = keys.to_secret_data();
    data.insert(PUBLIC_KEY_DER.into(), other.public_spki_der().to_vec());
    let err = KeyMaterial::from_secret_data(&data).unwrap_err();
    assert!(
        matches!(
            &err,
            KeyError::InvalidEntry {
                name: PUBLIC_KEY_DER,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("`public_key.der`"), "{err}");
    let mut flipped = keys.public_spki_der().to_vec();
    let at = flipped.len() - 10;
    flipped[at] ^= 1;
    data.insert(PUBLIC_KEY_DER.into(), flipped);
    assert!(matches!(
        KeyMaterial::from_secret_data(&data),
        Err(KeyError::InvalidEntry {
            name: PUBLIC_KEY_DER,
            ..
        })
    ));
}

#[test]
fn secret_data_errors_name_the_entry() {
    let keys = shared();
    for missing in [KEY_ID, PRIVATE_KEY_DER, PUBLIC_KEY_DER] {
        let mut data = keys.to_secret_data();
        data.remove(missing);
        let err = KeyMaterial::from_secret_data(&data).unwrap_err();
        assert!(
            matches!(err, KeyError::MissingEntry { name } if name == missing),
            "{err}"
        );
        assert!(err.to_string().contains(&format!("`{missing}`")), "{err}");
    }
    // The PEMs and JWKS are derived copies: missing ones do not invalidate the pair.
    let mut data = keys.to_secret_data();
    data.retain(|k, _| [KEY_ID, PRIVATE_KEY_DER, PUBLIC_KEY_DER].contains(&k.as_str()));
    assert_eq!(&KeyMaterial::from_secret_data(&data).unwrap(), keys);
    // The stored private key must be PKCS#8 DER (what the server reads), not PEM.
    let mut data = keys.to_secret_data();
    data.insert(
        PRIVATE_KEY_DER.into(),
        keys.private_pem().as_bytes().to_vec(),
    );
    let err = KeyMaterial::from_secret_data(&data).unwrap_err();
    assert!(
        matches!(
            err,
            KeyError::InvalidEntry {
                name: PRIVATE_KEY_DER,
                ..
            }
        ),
        "{err}"
    );
    let mut data = keys.to_secret_data();
    data.insert(KEY_ID.into(), vec![0xff]);
    let err = KeyMaterial::from_secret_data(&data).unwrap_err();
    assert!(
        matches!(err, KeyError::InvalidEntry { name: KEY_ID, .. }),
        "{err}"
    );
}

#[test]
fn errors_do_not_echo_key_bytes() {
    let keys = shared();
    let secret_fragments = [
        pem_body(keys.private_pem())[100..140].to_string(),
        hex::encode(&keys.private_pkcs8_der()[40..60]),
    ];
    let mut data = keys.to_secret_data();
    data.insert(PUBLIC_KEY_DER.into(), b"junk".to_vec());
    let mut corrupted = keys.private_pem().to_string();
    corrupted.insert(200, '!');
    let errors = [
        KeyMaterial::from_secret_data(&data).unwrap_err(),
        KeyMaterial::from_private_key(corrupted.as_bytes(), None).unwrap_err(),
        KeyMaterial::from_private_key(&keys.private_pkcs8_der()[..300], None).unwrap_err(),
    ];
    for err in errors {
        let mut texts = vec![err.to_string(), format!("{err:?}")];
        let mut source = std::error::Error::source(&err);
        while let Some(s) = source {
            texts.push(s.to_string());
            source = s.source();
        }
        for text in texts {
            for fragment in &secret_fragments {
                assert!(!text.contains(fragment.as_str()), "{text}");
            }
        }
    }
}

/// Generation cost, for sizing the key-generation semaphore. Run with
/// `cargo test --release --lib keys::tests::generation_time -- --ignored --nocapture`.
#[test]
#[ignore = "timing, not a check"]
#[allow(clippy::print_stdout)] // prints its measurement
fn generation_time() {
    let rounds = 20;
    let start = std::time::Instant::now();
    for _ in 0..rounds {
        KeyMaterial::generate(None).unwrap();
    }
    println!(
        "rsa-2048 generation: {:?} per key",
        start.elapsed() / rounds
    );
}
