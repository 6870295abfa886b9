//! A Java truststore (JKS) for the server's JVM: the provider's CA bundle plus the public roots,
//! so the JVM trusts a provider behind a private CA (it fetches the discovery document and the
//! JWKS itself) and its other outbound TLS keeps working. Pure and deterministic: the same
//! certificates give the same bytes, so the rollout hash changes only when they change.
//!
//! Why JKS: every JDK from 8 to 25 loads it with `-Djavax.net.ssl.trustStoreType=JKS`, and its
//! format (a list of trusted-certificate entries and a SHA-1 keyed digest) is small enough to
//! write exactly; a PKCS#12 truststore needs Java's own trust attribute on each certificate.
//! The password only protects the file's integrity (a truststore holds public certificates).

use aws_lc_rs::digest;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// Name of the truststore entry in the keys Secret.
pub const TRUSTSTORE_FILE: &str = "truststore.jks";
/// Its password: not a secret (the file holds public certificates; the password only keys the
/// integrity digest, which the JVM checks).
pub const TRUSTSTORE_PASSWORD: &str = "changeit";

/// Why the bundle cannot be made into a truststore.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TruststoreError {
    /// No certificate in the PEM bundle.
    #[error("the CA bundle holds no PEM certificate")]
    Empty,
    /// A block does not decode.
    #[error("the CA bundle has a malformed PEM certificate block")]
    Malformed,
}

/// The JKS truststore with every certificate of `bundle` (PEM) and the public roots.
pub fn truststore(bundle: &[u8]) -> Result<Vec<u8>, TruststoreError> {
    let own: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(bundle)
        .collect::<Result<_, _>>()
        .map_err(|_| TruststoreError::Malformed)?;
    if own.is_empty() {
        return Err(TruststoreError::Empty);
    }
    let entries: Vec<(String, &[u8])> = own
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("provider-ca-{i}"), c.as_ref()))
        .chain(
            webpki_root_certs::TLS_SERVER_ROOT_CERTS
                .iter()
                .enumerate()
                .map(|(i, c)| (format!("public-root-{i}"), c.as_ref())),
        )
        .collect();
    Ok(jks(&entries, TRUSTSTORE_PASSWORD))
}

/// A JKS keystore (version 2) of trusted-certificate entries.
fn jks(entries: &[(String, &[u8])], password: &str) -> Vec<u8> {
    const MAGIC: u32 = 0xFEED_FEED;
    const VERSION: u32 = 2;
    const TRUSTED_CERT: u32 = 2;
    let mut out = Vec::new();
    out.extend_from_slice(&MAGIC.to_be_bytes());
    out.extend_from_slice(&VERSION.to_be_bytes());
    out.extend_from_slice(
        &u32::try_from(entries.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    for (alias, der) in entries {
        out.extend_from_slice(&TRUSTED_CERT.to_be_bytes());
        java_utf(&mut out, alias);
        // Creation date: fixed, so the same certificates give the same file.
        out.extend_from_slice(&0u64.to_be_bytes());
        java_utf(&mut out, "X.509");
        out.extend_from_slice(&u32::try_from(der.len()).unwrap_or(u32::MAX).to_be_bytes());
        out.extend_from_slice(der);
    }
    // SHA-1 over the password (UTF-16BE), the salt "Mighty Aphrodite", and everything before.
    let mut ctx = digest::Context::new(&digest::SHA1_FOR_LEGACY_USE_ONLY);
    for unit in password.encode_utf16() {
        ctx.update(&unit.to_be_bytes());
    }
    ctx.update(b"Mighty Aphrodite");
    ctx.update(&out);
    out.extend_from_slice(ctx.finish().as_ref());
    out
}

/// `DataOutputStream.writeUTF` for ASCII text (aliases and types are ASCII here).
fn java_utf(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&u16::try_from(s.len()).unwrap_or(u16::MAX).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PEM block (the writer stores the bytes; the JVM parses them).
    fn pem(der: &[u8]) -> String {
        use base64::Engine as _;
        let body = base64::engine::general_purpose::STANDARD.encode(der);
        format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n")
    }

    #[test]
    fn the_bundle_comes_first_then_the_public_roots_and_the_digest_closes_the_file() {
        let store = truststore(pem(b"a certificate").as_bytes()).expect("truststore");
        assert_eq!(&store[..4], &[0xfe, 0xed, 0xfe, 0xed]);
        let count = u32::from_be_bytes(store[8..12].try_into().expect("count"));
        assert_eq!(
            count as usize,
            1 + webpki_root_certs::TLS_SERVER_ROOT_CERTS.len()
        );
        assert_eq!(&store[16..18], &[0, 13]);
        assert_eq!(&store[18..31], b"provider-ca-0");
        // The same input, the same bytes.
        assert_eq!(
            store,
            truststore(pem(b"a certificate").as_bytes()).expect("truststore")
        );
        // Any change of content changes the digest.
        let mut tampered = store.clone();
        tampered[40] ^= 1;
        let body = &tampered[..tampered.len() - 20];
        let mut ctx = digest::Context::new(&digest::SHA1_FOR_LEGACY_USE_ONLY);
        for unit in TRUSTSTORE_PASSWORD.encode_utf16() {
            ctx.update(&unit.to_be_bytes());
        }
        ctx.update(b"Mighty Aphrodite");
        ctx.update(body);
        assert_ne!(ctx.finish().as_ref(), &tampered[tampered.len() - 20..]);
    }

    #[test]
    fn a_bundle_without_certificates_is_refused() {
        assert_eq!(truststore(b"hello"), Err(TruststoreError::Empty));
    }
}
