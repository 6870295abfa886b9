//! Minimal PEM (RFC 7468) reading and writing.
//!
//! Hand-written rather than pulled in as a dependency because the operator needs very little of
//! PEM: write two labels with 64-character lines, and read the handful of key labels that users
//! paste into Secrets (`openssl genrsa`, `openssl pkcs8`, cert-manager `tls.key`). Reading keeps
//! the decoded bytes in [`Zeroizing`] buffers and never echoes input text in errors, because the
//! input is private key material.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

/// Label of an unencrypted PKCS#8 private key: the format OpenMetadata reads (as DER).
pub(crate) const LABEL_PKCS8_PRIVATE: &str = "PRIVATE KEY";
/// Label of a PKCS#1 `RSAPrivateKey` (`openssl genrsa` before OpenSSL 3, many tools still).
pub(crate) const LABEL_PKCS1_PRIVATE: &str = "RSA PRIVATE KEY";
/// Label of an encrypted PKCS#8 private key, which the operator refuses (no passphrase to use).
pub(crate) const LABEL_ENCRYPTED_PRIVATE: &str = "ENCRYPTED PRIVATE KEY";
/// Label of an X.509 `SubjectPublicKeyInfo`: the public key format OpenMetadata reads (as DER).
pub(crate) const LABEL_SPKI_PUBLIC: &str = "PUBLIC KEY";
/// Label of a PKCS#1 `RSAPublicKey`.
pub(crate) const LABEL_PKCS1_PUBLIC: &str = "RSA PUBLIC KEY";

/// One decoded PEM block.
pub(crate) struct PemBlock {
    /// The label between `BEGIN ` and `-----`, e.g. `PRIVATE KEY`.
    pub(crate) label: String,
    /// The decoded body. Zeroized on drop because it is usually a private key.
    pub(crate) der: Zeroizing<Vec<u8>>,
    /// True when RFC 1421 headers mark the block encrypted (`Proc-Type: 4,ENCRYPTED`), which is
    /// how OpenSSL writes passphrase-protected PKCS#1 keys.
    pub(crate) encrypted: bool,
}

/// What is wrong with a PEM text. Static strings only: the input is never quoted back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PemProblem {
    NotUtf8,
    NoBlock,
    MissingEnd,
    MismatchedEnd,
    BadBase64,
}

impl PemProblem {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            PemProblem::NotUtf8 => "it is not UTF-8 text",
            PemProblem::NoBlock => "it has no -----BEGIN ...----- line",
            PemProblem::MissingEnd => "a -----BEGIN----- line has no matching -----END----- line",
            PemProblem::MismatchedEnd => {
                "an -----END----- label differs from its -----BEGIN----- label"
            }
            PemProblem::BadBase64 => "a block body is not valid base64",
        }
    }
}

/// True when `input` looks like PEM text rather than DER, so callers can accept either.
pub(crate) fn looks_like_pem(input: &[u8]) -> bool {
    input
        .windows(b"-----BEGIN ".len())
        .any(|w| w == b"-----BEGIN ")
}

/// Encodes `der` as one PEM block with 64-character lines and a trailing newline, the layout
/// OpenSSL writes and every PEM reader accepts.
pub(crate) fn encode(label: &str, der: &[u8]) -> String {
    let body = Zeroizing::new(STANDARD.encode(der));
    let mut out = String::with_capacity(body.len() + body.len() / 64 + 2 * label.len() + 40);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    for (i, c) in body.chars().enumerate() {
        if i > 0 && i % 64 == 0 {
            out.push('\n');
        }
        out.push(c);
    }
    if !body.is_empty() {
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

/// Decodes every PEM block in `input`. Text outside blocks (OpenSSL's `Bag Attributes`,
/// comments) is ignored, CRLF line ends are accepted, and RFC 1421 header lines are skipped
/// (only their encryption marker is kept).
pub(crate) fn decode_all(input: &[u8]) -> Result<Vec<PemBlock>, PemProblem> {
    let text = std::str::from_utf8(input).map_err(|_| PemProblem::NotUtf8)?;
    let mut blocks = Vec::new();
    let mut current: Option<(String, Zeroizing<String>, bool)> = None;
    for line in text.lines() {
        let line = line.trim();
        match current.as_mut() {
            None => {
                if let Some(label) = delimited(line, "-----BEGIN ") {
                    current = Some((label.to_string(), Zeroizing::new(String::new()), false));
                }
            }
            Some((label, body, encrypted)) => {
                if let Some(end) = delimited(line, "-----END ") {
                    if end != label.as_str() {
                        return Err(PemProblem::MismatchedEnd);
                    }
                    let der = STANDARD
                        .decode(body.as_bytes())
                        .map_err(|_| PemProblem::BadBase64)?;
                    blocks.push(PemBlock {
                        label: std::mem::take(label),
                        der: Zeroizing::new(der),
                        encrypted: *encrypted,
                    });
                    current = None;
                } else if line.contains(':') {
                    if line.starts_with("Proc-Type:") && line.contains("ENCRYPTED") {
                        *encrypted = true;
                    }
                } else {
                    body.push_str(line);
                }
            }
        }
    }
    if current.is_some() {
        return Err(PemProblem::MissingEnd);
    }
    if blocks.is_empty() {
        return Err(PemProblem::NoBlock);
    }
    Ok(blocks)
}

/// The label of a `-----BEGIN X-----` / `-----END X-----` line.
fn delimited<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    line.strip_prefix(prefix)?.strip_suffix("-----")
}

/// A label fit to appear in an error message: labels are not secret, but a malformed input could
/// put anything between the dashes, so only short upper-case ASCII labels are echoed.
pub(crate) fn printable_label(label: &str) -> String {
    let ok = label.len() <= 40
        && label
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == ' ');
    if ok {
        label.to_string()
    } else {
        "<unrecognised label>".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_encode_uses_64_char_lines_and_round_trips() {
        let der: Vec<u8> = (0..=255u8).cycle().take(300).collect();
        let pem = encode("PUBLIC KEY", &der);
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert!(pem.ends_with("-----END PUBLIC KEY-----\n"));
        let body: Vec<&str> = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        assert!(body[..body.len() - 1].iter().all(|l| l.len() == 64));
        assert!(body[body.len() - 1].len() <= 64);
        let blocks = decode_all(pem.as_bytes()).unwrap();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].label, "PUBLIC KEY");
        assert_eq!(blocks[0].der.as_slice(), der.as_slice());
        assert!(!blocks[0].encrypted);
    }

    #[test]
    fn pem_decode_accepts_crlf_surrounding_text_and_several_blocks() {
        let a = encode("EC PARAMETERS", b"abc").replace('\n', "\r\n");
        let b = encode("PRIVATE KEY", b"defgh");
        let text = format!("Bag Attributes\r\n    localKeyID: 01\r\n{a}subject=/CN=x\n{b}\n");
        let blocks = decode_all(text.as_bytes()).unwrap();
        let labels: Vec<&str> = blocks.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, ["EC PARAMETERS", "PRIVATE KEY"]);
        assert_eq!(blocks[1].der.as_slice(), b"defgh");
    }

    #[test]
    fn pem_decode_marks_rfc1421_encrypted_blocks() {
        let text = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        let blocks = decode_all(text.as_bytes()).unwrap();
        assert!(blocks[0].encrypted);
    }

    #[test]
    fn pem_decode_names_each_structural_problem() {
        assert_eq!(decode_all(b"no pem here").err(), Some(PemProblem::NoBlock));
        assert_eq!(decode_all(&[0xff, 0xfe]).err(), Some(PemProblem::NotUtf8));
        assert_eq!(
            decode_all(b"-----BEGIN PRIVATE KEY-----\nAAAA\n").err(),
            Some(PemProblem::MissingEnd)
        );
        assert_eq!(
            decode_all(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").err(),
            Some(PemProblem::MismatchedEnd)
        );
        assert_eq!(
            decode_all(b"-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n").err(),
            Some(PemProblem::BadBase64)
        );
    }

    #[test]
    fn printable_label_hides_odd_labels() {
        assert_eq!(printable_label("EC PRIVATE KEY"), "EC PRIVATE KEY");
        assert_eq!(printable_label("secret=hunter2"), "<unrecognised label>");
    }
}
