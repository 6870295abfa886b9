//! The client-credentials grant with the real secret, through openidconnect's `CoreClient`.
//!
//! It is the only check that proves the secret: a provider answers discovery and JWKS to anyone.
//! Its failures are split so that a wrong secret (`InvalidClient`, fix the Secret) never looks
//! like an outage (`Unreachable`, wait), and a client that authenticates but may not use the
//! grant (`UnauthorizedClient`) is not reported as a wrong secret.
//!
//! Nothing from the token response is kept: an issued token is dropped unread, and a response
//! that does not parse is described by its shape (field path, error class), never by its text,
//! which could hold the token.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::{Mutex, PoisonError};

use openidconnect::core::{CoreClient, CoreErrorResponseType};
use openidconnect::{
    AsyncHttpClient, AuthType, ClientId, ClientSecret, HttpRequest, HttpResponse,
    RequestTokenError, Scope,
};

use super::discovery::ProviderDocs;
use super::error::{CheckError, Endpoint};
use super::message::sanitize_provider_text;
use super::policy::AddressPolicy;
use super::request::{CheckRequest, ClientCredentials, TokenAuthMethod};
use super::stats::Counters;
use super::transport::{HttpClient, HttpError};

/// Runs a client-credentials grant for `creds` at the token endpoint of `docs`.
pub(crate) async fn grant(
    req: &CheckRequest,
    docs: &ProviderDocs,
    creds: &ClientCredentials,
    counters: &Counters,
    policy: &Arc<AddressPolicy>,
) -> Result<(), CheckError> {
    let no_token_endpoint = || CheckError::NoTokenEndpoint {
        url: docs.discovery_url.to_string(),
    };
    let token_url = docs
        .metadata
        .token_endpoint()
        .map(std::string::ToString::to_string)
        .ok_or_else(no_token_endpoint)?;
    let http = StatusRecorder {
        client: HttpClient::new(
            &req.trust,
            &req.timeouts,
            counters.http_requests.clone(),
            policy.clone(),
        )?,
        status: Mutex::new(None),
    };
    let auth_type = match creds.auth_method {
        TokenAuthMethod::ClientSecretBasic => AuthType::BasicAuth,
        TokenAuthMethod::ClientSecretPost => AuthType::RequestBody,
    };
    let secret = creds.client_secret.expose();
    let client = CoreClient::from_provider_metadata(
        docs.metadata.clone(),
        ClientId::new(creds.client_id.clone()),
        Some(ClientSecret::new(secret.clone())),
    )
    .set_auth_type(auth_type);
    let mut request = client
        .exchange_client_credentials()
        .map_err(|_| no_token_endpoint())?;
    for scope in &creds.scopes {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    counters.token_requests.fetch_add(1, Ordering::Relaxed);
    let result = request.request_async(&http).await;
    let status = *http.status.lock().unwrap_or_else(PoisonError::into_inner);
    let status_text = status.map_or_else(String::new, |s| format!("HTTP {s}: "));
    match result {
        Ok(_token) => Ok(()),
        Err(RequestTokenError::ServerResponse(response)) => {
            let description = response
                .error_description()
                .map(|d| sanitize_provider_text(d, &[secret, &creds.client_id]));
            match response.error() {
                CoreErrorResponseType::InvalidClient => Err(CheckError::InvalidClient {
                    url: token_url,
                    client: creds.label.clone(),
                    auth_method: creds.auth_method.as_str(),
                    description,
                }),
                CoreErrorResponseType::UnauthorizedClient
                | CoreErrorResponseType::UnsupportedGrantType => {
                    Err(CheckError::UnauthorizedClient {
                        url: token_url,
                        client: creds.label.clone(),
                        error: response.error().as_ref().to_owned(),
                        description,
                    })
                }
                other => Err(CheckError::TokenEndpointError {
                    url: token_url,
                    problem: match description {
                        Some(d) => format!("{status_text}{}: {d}", other.as_ref()),
                        None => format!("{status_text}{}", other.as_ref()),
                    },
                }),
            }
        }
        Err(RequestTokenError::Request(e)) => Err(CheckError::transport(
            Endpoint::Token,
            &token_url,
            e,
            req.timeouts.request,
        )),
        Err(RequestTokenError::Parse(e, _body)) => Err(CheckError::TokenEndpointError {
            url: token_url,
            problem: format!(
                "{status_text}the response is neither a token nor an OAuth error response ({})",
                shape_problem(&e)
            ),
        }),
        Err(RequestTokenError::Other(message)) => Err(CheckError::TokenEndpointError {
            url: token_url,
            problem: format!(
                "{status_text}{}",
                sanitize_provider_text(&message, &[secret, &creds.client_id])
            ),
        }),
    }
}

/// The HTTP client plus the status of the last response: oauth2 drops the status when an error
/// response does not parse, and "HTTP 401" or "HTTP 502" is most of what a user needs then.
struct StatusRecorder {
    client: HttpClient,
    status: Mutex<Option<u16>>,
}

impl<'c> AsyncHttpClient<'c> for StatusRecorder {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let response = self.client.call(request).await?;
            *self.status.lock().unwrap_or_else(PoisonError::into_inner) =
                Some(response.status().as_u16());
            Ok(response)
        })
    }
}

/// Describes why a token endpoint response did not parse without quoting it: serde_json's
/// messages quote the offending value (`invalid type: string "eyJ…"`), and in a token response
/// that value can be the access token. A missing field's message quotes only the field name.
fn shape_problem(e: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let inner = e.inner();
    let message = inner.to_string();
    let what = if message.starts_with("missing field") {
        message
            .split(" at line")
            .next()
            .unwrap_or("missing field")
            .to_owned()
    } else {
        match inner.classify() {
            serde_json::error::Category::Syntax => "the body is not JSON".into(),
            serde_json::error::Category::Eof => "the body is truncated or empty".into(),
            serde_json::error::Category::Data => "a value has the wrong type".into(),
            serde_json::error::Category::Io => "the body could not be read".into(),
        }
    };
    let path = e.path().to_string();
    if path == "." {
        what
    } else {
        format!("field `{path}`: {what}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_error(body: &str) -> serde_path_to_error::Error<serde_json::Error> {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Token {
            access_token: String,
            expires_in: Option<u64>,
        }
        serde_path_to_error::deserialize::<_, Token>(&mut serde_json::Deserializer::from_str(body))
            .unwrap_err()
    }

    #[test]
    fn parse_problems_never_quote_values() {
        let err = parse_error(r#"{"access_token": "tok", "expires_in": "eyJsecret-token"}"#);
        let text = shape_problem(&err);
        assert_eq!(text, "field `expires_in`: a value has the wrong type");
        assert!(err.inner().to_string().contains("eyJsecret-token"));
    }

    #[test]
    fn parse_problems_name_missing_fields_and_syntax() {
        assert_eq!(
            shape_problem(&parse_error(r#"{"token_type": "bearer"}"#)),
            "missing field `access_token`"
        );
        assert_eq!(
            shape_problem(&parse_error("<html>")),
            "the body is not JSON"
        );
    }
}
