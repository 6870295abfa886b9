//! Configured URLs: the well-known discovery URL of an issuer, and the rules every provider URL
//! must follow before anything is fetched from it.

use openidconnect::IssuerUrl;
use url::Url;

use super::error::CheckError;

/// The path every OpenID provider serves its discovery document under, relative to the issuer.
pub const WELL_KNOWN_SUFFIX: &str = ".well-known/openid-configuration";

/// `<issuer>/.well-known/openid-configuration`, by string concatenation and not `Url::join`:
/// `join` would replace the issuer's last path segment when it has no trailing slash
/// (`https://idp/realms/data` + `.well-known/...` gives `https://idp/realms/.well-known/...`).
/// openidconnect's `IssuerUrl::join` does exactly this concatenation.
pub fn well_known_url(issuer: &str) -> Result<Url, CheckError> {
    let parsed = parse_http_url("issuer URL", issuer)?;
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(CheckError::InvalidUrl {
            what: "issuer URL",
            url: issuer.to_owned(),
            problem: "an issuer has no query or fragment".into(),
        });
    }
    let issuer_url =
        IssuerUrl::new(issuer.to_owned()).map_err(|e| invalid("issuer URL", issuer, e))?;
    issuer_url
        .join(WELL_KNOWN_SUFFIX)
        .map_err(|e| invalid("issuer URL", issuer, e))
}

/// Parses a URL that must be absolute `http` or `https` with a host.
pub(crate) fn parse_http_url(what: &'static str, url: &str) -> Result<Url, CheckError> {
    let parsed = Url::parse(url).map_err(|e| invalid(what, url, e))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(CheckError::InvalidUrl {
            what,
            url: url.to_owned(),
            problem: format!("scheme {:?} is not http or https", parsed.scheme()),
        });
    }
    if parsed.host().is_none() {
        return Err(CheckError::InvalidUrl {
            what,
            url: url.to_owned(),
            problem: "no host".into(),
        });
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        // Credentials in a URL would end up in status messages and logs.
        return Err(CheckError::InvalidUrl {
            what,
            url: "<url with credentials>".into(),
            problem: "URLs must not embed a user name or password".into(),
        });
    }
    Ok(parsed)
}

fn invalid(what: &'static str, url: &str, e: impl std::fmt::Display) -> CheckError {
    CheckError::InvalidUrl {
        what,
        url: url.to_owned(),
        problem: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_url_keeps_the_last_path_segment_without_trailing_slash() {
        let url = well_known_url("https://idp.example.com/realms/data").unwrap();
        assert_eq!(
            url.as_str(),
            "https://idp.example.com/realms/data/.well-known/openid-configuration"
        );
    }

    #[test]
    fn well_known_url_with_trailing_slash_has_no_double_slash() {
        let url = well_known_url("https://idp.example.com/realms/data/").unwrap();
        assert_eq!(
            url.as_str(),
            "https://idp.example.com/realms/data/.well-known/openid-configuration"
        );
    }

    #[test]
    fn well_known_url_of_a_bare_host() {
        assert_eq!(
            well_known_url("https://idp.example.com").unwrap().as_str(),
            "https://idp.example.com/.well-known/openid-configuration"
        );
        assert_eq!(
            well_known_url("http://127.0.0.1:8080/").unwrap().as_str(),
            "http://127.0.0.1:8080/.well-known/openid-configuration"
        );
    }

    #[test]
    fn url_join_pitfall_is_real() {
        // Documents why well_known_url does not use Url::join.
        let joined = Url::parse("https://idp/realms/data")
            .unwrap()
            .join(WELL_KNOWN_SUFFIX)
            .unwrap();
        assert_eq!(
            joined.as_str(),
            "https://idp/realms/.well-known/openid-configuration"
        );
    }

    #[test]
    fn bad_issuers_are_invalid_url() {
        for issuer in [
            "idp.example.com",
            "ftp://idp.example.com",
            "https://idp.example.com/?x=1",
            "https://idp.example.com/#f",
            "https://user:pw@idp.example.com",
        ] {
            let err = well_known_url(issuer).unwrap_err();
            assert_eq!(err.reason(), "InvalidUrl", "{issuer}");
            assert!(!err.to_string().contains("pw@"), "{err}");
        }
    }
}
