//! The wording of [`CheckError`](super::CheckError) messages. They end up in status conditions,
//! read by whoever configured the resource, so each names the URL fetched, what was found and
//! what was expected, and where a common mistake is recognisable, how to fix it.

use std::time::Duration;

use super::kinds::{Endpoint, TransportKind};

pub(super) fn transport_message(
    endpoint: Endpoint,
    url: &str,
    kind: TransportKind,
    detail: &str,
    timeout: Option<Duration>,
) -> String {
    match kind {
        TransportKind::Connect | TransportKind::Other => {
            format!("cannot reach the {endpoint} {url}: {detail}")
        }
        TransportKind::Tls => {
            let hint = if detail.contains("UnknownIssuer") {
                " (the certificate's issuer is not in the trusted roots: set the provider's CA bundle)"
            } else if detail.contains("NotValidForName") {
                " (the certificate does not name this host)"
            } else {
                ""
            };
            format!("TLS handshake with the {endpoint} {url} failed: {detail}{hint}")
        }
        TransportKind::Timeout => match timeout {
            Some(t) => format!(
                "the {endpoint} {url} did not answer within {}s: {detail}",
                t.as_secs_f32()
            ),
            None => format!("the {endpoint} {url} did not answer in time: {detail}"),
        },
        TransportKind::Redirect => format!(
            "the {endpoint} {url} redirected ({detail}), which was not followed: only a few redirects within \
             the same scheme, host and port are; configure the final URL instead"
        ),
        TransportKind::Refused => format!("not fetching the {endpoint} {url}: {detail}"),
        TransportKind::TooLarge => {
            format!("the response from the {endpoint} {url} is too large: {detail}")
        }
    }
}

pub(super) fn expected_body(endpoint: Endpoint) -> &'static str {
    match endpoint {
        Endpoint::Discovery => "the discovery document",
        Endpoint::Jwks => "the JSON Web Key Set",
        Endpoint::Token => "a token response",
        Endpoint::Introspection | Endpoint::Revocation => "an answer about the made-up token",
        Endpoint::Authorization => "the login page",
    }
}

pub(super) fn issuer_hint(expected: &str, found: &str) -> &'static str {
    if found.contains(super::kinds::TENANT_PLACEHOLDER) {
        " (a multi-tenant Entra ID document: with the issuer ending in /organizations/v2.0 or /common/v2.0, set \
         spec.provider.tenant to that segment to accept it; or use your tenant id in the issuer)"
    } else if expected.trim_end_matches('/') == found.trim_end_matches('/') {
        " (they differ only by a trailing slash; the issuer must match exactly, as in the tokens' iss claim)"
    } else {
        ""
    }
}

pub(super) fn describe(description: &Option<String>) -> String {
    match description {
        Some(d) if !d.is_empty() => format!(": {d}"),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::CheckError;

    #[test]
    fn issuer_mismatch_names_both_values_and_hints_at_trailing_slash() {
        let err = CheckError::IssuerMismatch {
            url: "https://idp/.well-known/openid-configuration".into(),
            expected: "https://idp/realms/a".into(),
            found: "https://idp/realms/a/".into(),
        };
        let msg = err.to_string();
        assert!(
            msg.contains("\"https://idp/realms/a\"") && msg.contains("\"https://idp/realms/a/\""),
            "{msg}"
        );
        assert!(msg.contains("trailing slash"), "{msg}");
        assert_eq!(err.reason(), "IssuerMismatch");
    }

    #[test]
    fn unknown_ca_message_points_at_the_ca_bundle() {
        let msg = transport_message(
            Endpoint::Discovery,
            "https://idp/.well-known/openid-configuration",
            TransportKind::Tls,
            "invalid peer certificate: UnknownIssuer",
            None,
        );
        assert!(
            msg.contains("CA bundle") && msg.contains("https://idp/"),
            "{msg}"
        );
        let timeout = transport_message(
            Endpoint::Jwks,
            "https://idp/jwks",
            TransportKind::Timeout,
            "operation timed out",
            Some(Duration::from_millis(1500)),
        );
        assert!(timeout.contains("within 1.5s"), "{timeout}");
    }
}
