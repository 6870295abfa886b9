//! Configured URLs: the well-known discovery URL of an issuer, and the rules every provider URL
//! must follow before anything is fetched from it.

use url::Url;

use super::error::CheckError;

/// `<issuer>/.well-known/openid-configuration` as a URL (see [`crate::urls::well_known`]); an
/// issuer has no query or fragment.
pub(crate) fn well_known_url(issuer: &str) -> Result<Url, CheckError> {
    let parsed = parse_http_url("issuer URL", issuer)?;
    if parsed.query().is_some() {
        return Err(CheckError::InvalidUrl {
            what: "issuer URL",
            url: issuer.to_owned(),
            problem: "an issuer has no query or fragment".into(),
        });
    }
    parse_http_url("issuer URL", &crate::urls::well_known(issuer))
}

/// An http(s) URL the checks may fetch, or why not; the URL is echoed without credentials.
pub(crate) fn parse_http_url(what: &'static str, url: &str) -> Result<Url, CheckError> {
    crate::urls::http_url(url).map_err(|problem| CheckError::InvalidUrl {
        what,
        url: crate::urls::redacted(url),
        problem: problem.to_string(),
    })
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
