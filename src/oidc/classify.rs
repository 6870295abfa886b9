//! Telling transport failures apart: refused connection, TLS handshake, timeout, refused redirect
//! or oversized body. The reason a status condition shows (`Unreachable` vs `TlsError`) depends
//! on it, and reqwest reports all of them as one opaque error, so the source chain is walked.

use std::error::Error as StdError;

use super::kinds::TransportKind;
use super::policy::Refusal;
use super::transport::HttpError;

/// Classifies a transport failure by walking its source chain, and returns the most specific
/// message found.
///
/// `std::io::Error::source()` skips the error it wraps (it returns the *inner error's* source),
/// and hyper-rustls reports handshake failures as an `io::Error` wrapping a `rustls::Error`, so
/// the walk looks inside `io::Error`s explicitly; otherwise a TLS failure would look like a
/// generic connection error.
pub(crate) fn classify(err: &(dyn StdError + 'static)) -> (TransportKind, String) {
    let mut kind = None;
    let mut innermost = err.to_string();
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        innermost = e.to_string();
        if let Some(http) = e.downcast_ref::<HttpError>() {
            match http {
                HttpError::Redirect { .. } => {
                    return (TransportKind::Redirect, http.to_string());
                }
                HttpError::TooLarge { .. } => {
                    return (TransportKind::TooLarge, http.to_string());
                }
                HttpError::Refused(r) => return (TransportKind::Refused, r.to_string()),
                _ => {}
            }
        }
        // From the resolver, inside hyper's and reqwest's connect errors.
        if let Some(refusal) = e.downcast_ref::<Refusal>() {
            return (TransportKind::Refused, refusal.to_string());
        }
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return (TransportKind::Tls, tls.to_string());
        }
        if let Some(req) = e.downcast_ref::<reqwest::Error>()
            && req.is_timeout()
        {
            kind = Some(TransportKind::Timeout);
        }
        let mut next = e.source();
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if let Some(inner) = io.get_ref() {
                if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
                    return (TransportKind::Tls, tls.to_string());
                }
                let inner: &(dyn StdError + 'static) = inner;
                next = Some(inner);
            }
            use std::io::ErrorKind as K;
            match io.kind() {
                K::TimedOut => kind = Some(TransportKind::Timeout),
                K::ConnectionRefused
                | K::ConnectionReset
                | K::ConnectionAborted
                | K::NotConnected
                | K::AddrNotAvailable
                | K::HostUnreachable
                | K::NetworkUnreachable
                | K::UnexpectedEof => {
                    kind.get_or_insert(TransportKind::Connect);
                }
                _ => {}
            }
        }
        current = next;
    }
    if kind.is_none()
        && let Some(req) = err.downcast_ref::<reqwest::Error>()
        && req.is_connect()
    {
        kind = Some(TransportKind::Connect);
    }
    if kind.is_none() && chain_mentions(err, &["connection closed", "dns error", "connect"]) {
        kind = Some(TransportKind::Connect);
    }
    (kind.unwrap_or(TransportKind::Other), innermost)
}

fn chain_mentions(err: &(dyn StdError + 'static), needles: &[&str]) -> bool {
    let mut current: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = current {
        let text = e.to_string().to_lowercase();
        if needles.iter().any(|n| text.contains(n)) {
            return true;
        }
        current = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn tls_error_inside_io_error_is_found() {
        let rustls_err = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, rustls_err);
        let (kind, detail) = classify(&Outer(io));
        assert_eq!(kind, TransportKind::Tls);
        assert!(detail.contains("UnknownIssuer"), "{detail}");
    }

    #[test]
    fn refused_connection_is_connect() {
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let (kind, _) = classify(&Outer(io));
        assert_eq!(kind, TransportKind::Connect);
    }

    #[test]
    fn timed_out_io_is_timeout() {
        let io = std::io::Error::from(std::io::ErrorKind::TimedOut);
        assert_eq!(classify(&Outer(io)).0, TransportKind::Timeout);
    }

    #[test]
    fn redirect_and_size_errors_keep_their_kind() {
        let redirect = HttpError::Redirect {
            status: 302,
            location: "https://elsewhere".into(),
        };
        assert_eq!(classify(&redirect).0, TransportKind::Redirect);
        let big = HttpError::TooLarge { limit: 1 };
        assert_eq!(classify(&big).0, TransportKind::TooLarge);
    }
}
