//! The login-redirect check: the authorization endpoint asked for the login the server will start,
//! without a user.
//!
//! RFC 6749 section 4.1.2.1: an authorization endpoint that gets an unknown `client_id` or an
//! unregistered `redirect_uri` must not redirect; it shows an error page. Anything else it
//! refuses goes back to the callback with `error=`. So the answer tells, before any user tries:
//! - a page (2xx), or a redirect to the provider's own login page or to another origin (a
//!   federated login): accepted;
//! - an error page (4xx): the client id or the callback URL is not registered;
//! - a redirect to the callback with `error=`: the provider refused the named parameter;
//! - a redirect to a provider page carrying `error=` (Cognito's `/error?error=redirect_mismatch`):
//!   refused, as an error page would be.
//!
//! A same-origin redirect that hands the request on with its `client_id` and `redirect_uri` (Dex
//! v2.45.1's `/auth` to `/auth/<connector>`, which validates there; Cognito's `/login`) is
//! followed, at most [`MAX_HOPS`] times, because the next page is the one that validates.

use std::sync::Arc;

use openidconnect::AsyncHttpClient as _;
use openidconnect::http::header::LOCATION;
use openidconnect::http::{Method, Request};
use sha2::{Digest, Sha256};
use url::Url;

use super::discovery::ProviderDocs;
use super::error::{CheckError, Endpoint};
use super::outcome::LoginOutcome;
use super::policy::AddressPolicy;
use super::probe::random_token;
use super::request::{CheckRequest, LoginRequest};
use super::stats::Counters;
use super::transport::HttpClient;
use crate::scrub::Scrubber;

/// Same-origin hand-overs followed at most.
const MAX_HOPS: usize = 3;

/// Errors a provider sends back when the login is fine but needs a user (`prompt=none`).
const NEEDS_A_USER: [&str; 4] = [
    "login_required",
    "interaction_required",
    "consent_required",
    "account_selection_required",
];

/// Asks the authorization endpoint of `docs` for `login`.
pub(crate) async fn check(
    req: &CheckRequest,
    docs: &ProviderDocs,
    login: &LoginRequest,
    counters: &Counters,
    policy: &Arc<AddressPolicy>,
) -> LoginOutcome {
    let http = match HttpClient::for_pages(
        &req.trust,
        &req.timeouts,
        counters.http_requests.clone(),
        policy.clone(),
    ) {
        Ok(http) => http,
        Err(e) => return LoginOutcome::Inconclusive(e.into()),
    };
    let mut url = login_url(req, docs, login);
    for _ in 0..=MAX_HOPS {
        let shown = without_query(&url);
        let response = match get(&http, &url, req).await {
            Ok(response) => response,
            Err(e) => return LoginOutcome::Inconclusive(e),
        };
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|l| l.to_str().ok())
            .and_then(|l| url.join(l).ok());
        match (status, location) {
            (200..=299, _) => {
                return LoginOutcome::Accepted {
                    how: format!("{shown} answered HTTP {status} (the login page)"),
                };
            }
            (300..=399, Some(to)) => match redirect(&url, &to, login) {
                Next::Done(outcome) => return outcome,
                Next::Follow => url = to,
            },
            (400..=499, _) => {
                return LoginOutcome::Refused(CheckError::LoginNotRegistered {
                    url: shown,
                    status,
                    client: login.label.clone(),
                    callback: login.redirect_uri.clone(),
                    hint: page_hint(response.body()),
                });
            }
            _ => {
                return LoginOutcome::Inconclusive(CheckError::HttpStatus {
                    endpoint: Endpoint::Authorization,
                    url: shown,
                    status,
                });
            }
        }
    }
    LoginOutcome::Inconclusive(CheckError::Transport {
        endpoint: Endpoint::Authorization,
        url: without_query(&url),
        kind: super::kinds::TransportKind::Redirect,
        detail: format!("more than {MAX_HOPS} hand-overs"),
        timeout: None,
        source: None,
    })
}

/// What a redirect means.
enum Next {
    Done(LoginOutcome),
    Follow,
}

fn redirect(from: &Url, to: &Url, login: &LoginRequest) -> Next {
    let to_callback = Url::parse(&login.redirect_uri)
        .is_ok_and(|cb| cb.origin() == to.origin() && cb.path() == to.path());
    let params: Vec<(String, String)> = to
        .query_pairs()
        .chain(url::form_urlencoded::parse(
            to.fragment().unwrap_or_default().as_bytes(),
        ))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let sent = Scrubber::new().hide(&login.client_id, super::CLIENT_ID_PLACEHOLDER);
    match param("error") {
        Some(error) if to_callback && NEEDS_A_USER.contains(&error.as_str()) => {
            Next::Done(LoginOutcome::Accepted {
                how: format!("the provider sent the login back with {error}: it needs a user"),
            })
        }
        Some(error) if to_callback => Next::Done(LoginOutcome::Refused(CheckError::LoginRefused {
            client: login.label.clone(),
            what: refused_setting(&error).to_owned(),
            description: param("error_description").map(|d| sent.provider_text(&d)),
            error: sent.provider_text(&error),
        })),
        // The provider's own error page, reached by a redirect (Cognito).
        Some(error) => Next::Done(LoginOutcome::Refused(CheckError::LoginNotRegistered {
            url: without_query(to),
            status: 302,
            client: login.label.clone(),
            callback: login.redirect_uri.clone(),
            hint: format!(
                "; it redirected to its error page with error={}",
                sent.provider_text(&error)
            ),
        })),
        None if to_callback => Next::Done(LoginOutcome::Accepted {
            how: "the provider redirected to the callback without an error".into(),
        }),
        None if to.origin() == from.origin()
            && param("client_id").is_some()
            && param("redirect_uri").is_some() =>
        {
            Next::Follow
        }
        None if to.origin() == from.origin() => Next::Done(LoginOutcome::Accepted {
            how: format!("{} redirected to its login page", without_query(from)),
        }),
        None => Next::Done(LoginOutcome::Accepted {
            how: format!(
                "{} redirected to {} (another origin, not followed: a federated login)",
                without_query(from),
                to.origin().ascii_serialization()
            ),
        }),
    }
}

/// The setting an `error=` from the authorization endpoint points at.
fn refused_setting(error: &str) -> &'static str {
    match error {
        "invalid_scope" => "a scope in spec.provider.scopes is not allowed for the client",
        "unsupported_response_type" => {
            "the provider does not offer spec.provider.responseType for this client"
        }
        "unauthorized_client" => {
            "the client may not use this flow (its response type): enable the standard / authorization-code flow for it"
        }
        "access_denied" => "the provider denies this client the login",
        "invalid_request" => {
            "a parameter is missing or wrong (PKCE: spec.provider.usePkce; the nonce; spec.provider.customParams)"
        }
        _ => "the login would fail the same way for users",
    }
}

/// What an error page says it is about, without quoting it (it may echo the request).
fn page_hint(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body).to_ascii_lowercase();
    let about_callback = [
        "redirect_uri",
        "redirect uri",
        "callback url",
        "redirect_mismatch",
        "aadsts50011",
    ]
    .iter()
    .any(|w| text.contains(w));
    let about_client = text.contains("client") || text.contains("application");
    let unknown = ["not found", "unknown", "invalid", "aadsts700016"]
        .iter()
        .any(|w| text.contains(w));
    if about_callback {
        "; the page is about the redirect URI".into()
    } else if about_client && unknown {
        "; the page is about the client id".into()
    } else {
        String::new()
    }
}

/// The authorization URL with the parameters the server's login sends.
fn login_url(req: &CheckRequest, docs: &ProviderDocs, login: &LoginRequest) -> Url {
    let mut url = docs.metadata.authorization_endpoint().url().clone();
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", &req.response_type)
            .append_pair("client_id", &login.client_id)
            .append_pair("redirect_uri", &login.redirect_uri)
            .append_pair("scope", &req.scopes.join(" "))
            .append_pair("state", &random_token());
        if login.nonce || req.response_type.split(' ').any(|t| t == "id_token") {
            q.append_pair("nonce", &random_token());
        }
        if login.pkce {
            let method = pkce_method(docs.extra.code_challenge_methods.as_deref());
            let verifier = random_token();
            let challenge = match method.as_str() {
                "S256" => base64::Engine::encode(
                    &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                    Sha256::digest(verifier.as_bytes()),
                ),
                _ => verifier,
            };
            q.append_pair("code_challenge", &challenge)
                .append_pair("code_challenge_method", &method);
        }
        for (name, value) in &login.extra {
            q.append_pair(name, value);
        }
    }
    url
}

/// The PKCE method the server's OIDC library (pac4j) picks: S256 when the provider lists it or
/// lists none, otherwise the first one listed.
fn pkce_method(listed: Option<&[String]>) -> String {
    match listed {
        Some(methods) if !methods.iter().any(|m| m == "S256") => {
            methods.first().cloned().unwrap_or_else(|| "S256".into())
        }
        _ => "S256".into(),
    }
}

async fn get(
    http: &HttpClient,
    url: &Url,
    req: &CheckRequest,
) -> Result<openidconnect::HttpResponse, CheckError> {
    let request = Request::builder()
        .method(Method::GET)
        .uri(url.as_str())
        .body(Vec::new())
        .map_err(|e| CheckError::InvalidUrl {
            what: "authorization endpoint",
            url: without_query(url),
            problem: e.to_string(),
        })?;
    http.call(request).await.map_err(|e| {
        CheckError::transport(
            Endpoint::Authorization,
            &without_query(url),
            e,
            req.timeouts.request,
        )
    })
}

/// A URL without its query or fragment: the query carries the client id, which may have been
/// read from a Secret.
fn without_query(url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    crate::urls::redacted(shown.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login() -> LoginRequest {
        LoginRequest {
            client_id: "secret-client-id".into(),
            label: "the client id in Secret om/creds".into(),
            redirect_uri: "https://om.example.com/callback".into(),
            pkce: false,
            nonce: true,
            extra: Vec::new(),
        }
    }

    fn judge(to: &str) -> Next {
        let from = Url::parse("https://idp.example.com/authorize?client_id=x").expect("url");
        redirect(&from, &Url::parse(to).expect("url"), &login())
    }

    #[test]
    fn redirects_are_judged_by_where_they_point() {
        let accepted = |n: Next| matches!(n, Next::Done(LoginOutcome::Accepted { .. }));
        let refused = |n: Next, reason: &str| matches!(n, Next::Done(LoginOutcome::Refused(e)) if e.reason() == reason);
        // Auth0's Universal Login, Google's sign-in page: same origin, the request not handed on.
        assert!(accepted(judge("https://idp.example.com/u/login?state=abc")));
        // A federated login (Keycloak with kc_idp_hint): another origin.
        assert!(accepted(judge("https://corp-adfs.example.net/adfs/ls?x=1")));
        // Dex v2.45.1 and Cognito hand the request on: followed.
        assert!(matches!(
            judge("https://idp.example.com/auth/local?client_id=a&redirect_uri=b"),
            Next::Follow
        ));
        // Refused parameters come back to the callback.
        let Next::Done(LoginOutcome::Refused(e)) = judge(
            "https://om.example.com/callback?error=invalid_scope&error_description=Invalid+scopes%3A+groups+secret-client-id",
        ) else {
            panic!("an error= at the callback is a refusal")
        };
        assert_eq!(e.reason(), "LoginRefused");
        let text = e.to_string();
        assert!(
            text.contains("spec.provider.scopes") && text.contains("groups"),
            "{text}"
        );
        assert!(!text.contains("secret-client-id"), "{text}");
        // ... also in the fragment (implicit flow).
        assert!(refused(
            judge("https://om.example.com/callback#error=unauthorized_client"),
            "LoginRefused"
        ));
        assert!(accepted(judge(
            "https://om.example.com/callback?error=login_required"
        )));
        // Cognito's error page by redirect.
        assert!(refused(
            judge("https://idp.example.com/error?error=redirect_mismatch&client_id=x"),
            "NotRegistered"
        ));
    }

    #[test]
    fn error_pages_are_described_without_quoting_them() {
        assert_eq!(
            page_hint(b"<p>Invalid parameter: redirect_uri</p>"),
            "; the page is about the redirect URI"
        );
        assert_eq!(
            page_hint(b"AADSTS700016: Application with identifier 'x' was not found"),
            "; the page is about the client id"
        );
        assert_eq!(
            page_hint(b"<p>Client not found.</p>"),
            "; the page is about the client id"
        );
        assert_eq!(page_hint(b"<p>Oops</p>"), "");
    }

    #[test]
    fn pkce_follows_the_servers_choice() {
        assert_eq!(pkce_method(None), "S256");
        assert_eq!(pkce_method(Some(&["plain".into(), "S256".into()])), "S256");
        assert_eq!(pkce_method(Some(&["plain".into()])), "plain");
    }
}
