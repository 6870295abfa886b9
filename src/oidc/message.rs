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
    if found.contains(super::discovery::TENANT_PLACEHOLDER) {
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

/// Makes provider-supplied text safe for a status message: drops control characters, caps the
/// length, and replaces every occurrence of the values sent (should a provider echo the request
/// back: Entra quotes an unknown client id, for one), since they may have been read from a Secret.
pub(crate) fn sanitize_provider_text(text: &str, sent: &[&str]) -> String {
    const MAX: usize = 200;
    let mut clean: String = text.chars().filter(|c| !c.is_control()).collect();
    for value in sent.iter().filter(|s| !s.is_empty()) {
        clean = clean.replace(value, "<redacted>");
    }
    if clean.chars().count() > MAX {
        clean = clean.chars().take(MAX).collect::<String>() + "…";
    }
    clean
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

    #[test]
    fn provider_text_is_sanitized() {
        let text = "bad secret s3cr3t\nsent";
        let clean = sanitize_provider_text(text, &["s3cr3t"]);
        assert_eq!(clean, "bad secret <redacted>sent");
        assert_eq!(
            sanitize_provider_text(
                "Application with identifier 'my-id' was not found",
                &["s3cr3t", "my-id"]
            ),
            "Application with identifier '<redacted>' was not found"
        );
        assert!(
            sanitize_provider_text(&"x".repeat(500), &[])
                .chars()
                .count()
                <= 201
        );
    }
}
