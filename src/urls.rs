//! URL rules shared by validation (which names the field) and the provider checks (which name the
//! endpoint): what an http(s) URL the operator fetches or renders may look like, the well-known
//! discovery URL of an issuer, and how a URL is echoed in a message. Pure.

use url::Url;

/// The path every OpenID provider serves its discovery document under, relative to the issuer.
pub const WELL_KNOWN_SUFFIX: &str = ".well-known/openid-configuration";

/// Why text is not a usable http(s) URL.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UrlProblem {
    /// It does not parse.
    #[error("is not a URL ({0})")]
    Unparsable(String),
    /// Another scheme than http or https.
    #[error("must use http or https")]
    Scheme,
    /// No host.
    #[error("has no host")]
    NoHost,
    /// A user name or password in the URL.
    #[error("must not carry credentials")]
    Credentials,
    /// A `#fragment`.
    #[error("must not have a #fragment")]
    Fragment,
}

/// Parses an absolute http(s) URL without credentials or fragment.
pub fn http_url(text: &str) -> Result<Url, UrlProblem> {
    let parsed = Url::parse(text).map_err(|e| UrlProblem::Unparsable(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(UrlProblem::Scheme);
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(UrlProblem::NoHost);
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(UrlProblem::Credentials);
    }
    if parsed.fragment().is_some() {
        return Err(UrlProblem::Fragment);
    }
    Ok(parsed)
}

/// `base` and `tail` joined by exactly one `/`, by string concatenation: `Url::join` would drop
/// the base's last path segment when it has no trailing slash (`/realms/data` + `x` →
/// `/realms/x`), and the base must keep the spelling the user gave it.
pub fn join(base: &str, tail: &str) -> String {
    format!("{}/{tail}", base.trim_end_matches('/'))
}

/// `<issuer>/.well-known/openid-configuration` (OpenID Connect Discovery §4).
pub fn well_known(issuer: &str) -> String {
    join(issuer, WELL_KNOWN_SUFFIX)
}

/// `text` as it may appear in a message, status or log: a URL's user name and password are
/// replaced, so a credential written into a URL is never echoed.
pub fn redacted(text: &str) -> String {
    let Some(scheme_end) = text.find("://") else {
        return text.to_string();
    };
    let rest = &text[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!(
            "{}://<credentials>@{}",
            &text[..scheme_end],
            &rest[at + 1..]
        ),
        None => text.to_string(),
    }
}

/// `text` (a message, a provider's answer) with the user name and password of every URL in it
/// replaced, wherever the URL stands: a URL a provider's discovery document or redirect named is
/// echoed as carefully as one the author wrote.
pub fn redacted_in(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(found) = rest.find("://") {
        let (before, after) = rest.split_at(found + 3);
        out.push_str(before);
        let end = after
            .find(|c: char| c.is_whitespace() || "/?#\"'<>`".contains(c))
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rfind('@') {
            Some(at) => {
                out.push_str("<credentials>@");
                out.push_str(&authority[at + 1..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_well_known_url_keeps_the_issuer_path() {
        assert_eq!(
            well_known("https://idp.example.com/realms/data"),
            "https://idp.example.com/realms/data/.well-known/openid-configuration"
        );
        assert_eq!(
            well_known("https://idp.example.com/realms/data/"),
            "https://idp.example.com/realms/data/.well-known/openid-configuration"
        );
        assert_eq!(
            well_known("https://idp.example.com"),
            "https://idp.example.com/.well-known/openid-configuration"
        );
    }

    #[test]
    fn url_join_would_drop_the_last_segment() {
        let joined = Url::parse("https://idp/realms/data")
            .and_then(|u| u.join(WELL_KNOWN_SUFFIX))
            .map(|u| u.to_string());
        assert_eq!(
            joined.as_deref(),
            Ok("https://idp/realms/.well-known/openid-configuration")
        );
    }

    #[test]
    fn only_plain_http_urls_pass() {
        assert!(http_url("https://idp.example.com/x?y=1").is_ok());
        assert_eq!(http_url("ftp://idp"), Err(UrlProblem::Scheme));
        assert_eq!(
            http_url("https://user:pw@idp"),
            Err(UrlProblem::Credentials)
        );
        assert_eq!(http_url("https://idp/#f"), Err(UrlProblem::Fragment));
        assert!(matches!(
            http_url("idp.example.com"),
            Err(UrlProblem::Unparsable(_))
        ));
    }

    #[test]
    fn credentials_in_urls_are_never_echoed() {
        assert_eq!(
            redacted("https://user:s3cret@idp.example.com/realms/a?x=@y"),
            "https://<credentials>@idp.example.com/realms/a?x=@y"
        );
        assert_eq!(
            redacted("https://idp.example.com/a@b"),
            "https://idp.example.com/a@b"
        );
        assert_eq!(redacted("not a url"), "not a url");
    }

    #[test]
    fn credentials_in_urls_inside_text_are_never_echoed() {
        assert_eq!(
            redacted_in(
                "cannot reach the token endpoint https://svc:pa%40ss@idp.example.com/token: refused; \
                 jwks \"http://u@idp/keys\" and https://idp/a@b"
            ),
            "cannot reach the token endpoint https://<credentials>@idp.example.com/token: refused; \
             jwks \"http://<credentials>@idp/keys\" and https://idp/a@b"
        );
        assert_eq!(redacted_in("no url here: a@b"), "no url here: a@b");
        assert_eq!(redacted_in("https://a:b@c"), "https://<credentials>@c");
    }
}
