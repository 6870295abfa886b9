//! Proving the client secret at the provider.
//!
//! A provider answers discovery and JWKS to anyone; only an endpoint that authenticates the client
//! can tell a right secret from a wrong one. Which endpoint does, and how it answers, differs by
//! provider (docs/providers.md): Keycloak and Okta authenticate introspection; Auth0 and Cognito
//! revocation; Google's revocation and Dex's introspection authenticate nobody; Google and Dex
//! never offer the client-credentials grant, Entra ID and Okta need a scope for it and Auth0 an
//! audience; every login client may use the authorization-code grant, and a code the provider
//! never issued is refused after the client is authenticated (on most providers).
//!
//! So each attempt sends the real secret and, when the answer is not itself a rejection of the
//! client or a token, the same request with a deliberately wrong secret: only an endpoint that
//! answers the two differently, rejecting the wrong one, proves the secret. A client rejected
//! outright is a wrong secret (the rollout is held); everything else, a refused grant, an endpoint
//! that authenticates no one, is "cannot tell", reported as such and not held.

use std::sync::Arc;

use super::discovery::ProviderDocs;
use super::error::{CheckError, Endpoint};
use super::outcome::CredentialsOutcome;
use super::policy::AddressPolicy;
use super::probe::{self, Answer, ClientAuth, Verdict, verdict};
use super::request::{CheckRequest, ClientCredentials, CredentialsMethod};
use super::stats::Counters;
use super::transport::HttpClient;
use super::{CLIENT_ID_PLACEHOLDER, SECRET_PLACEHOLDER};
use crate::scrub::Scrubber;

/// One way of proving the secret, at one URL.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Attempt {
    method: CredentialsMethod,
    endpoint: Endpoint,
    url: String,
}

/// What one attempt established.
enum Step {
    /// The outcome (valid, wrong, or the provider could not answer).
    Done(CredentialsOutcome),
    /// Nothing: why, for the "cannot tell" message.
    Note(String),
}

/// Proves `creds` at the provider described by `docs`.
pub(crate) async fn check(
    req: &CheckRequest,
    docs: &ProviderDocs,
    creds: &ClientCredentials,
    counters: &Counters,
    policy: &Arc<AddressPolicy>,
) -> CredentialsOutcome {
    let http = match HttpClient::new(
        &req.trust,
        &req.timeouts,
        counters.http_requests.clone(),
        policy.clone(),
    ) {
        Ok(http) => http,
        Err(e) => return CredentialsOutcome::Failed(e.into()),
    };
    let (attempts, mut notes) = plan(creds, docs);
    for attempt in &attempts {
        match try_one(&http, attempt, req, creds, counters).await {
            Step::Done(outcome) => return outcome,
            Step::Note(note) => notes.push(note),
        }
    }
    CredentialsOutcome::Inconclusive {
        message: format!(
            "cannot tell whether the secret of {} is right, so the rollout is not held for it: {}. \
             docs/providers.md says what each provider needs",
            creds.label,
            notes.join("; ")
        ),
    }
}

/// The attempts `creds.method` asks for, in order, and notes on those discovery gives no URL for.
fn plan(creds: &ClientCredentials, docs: &ProviderDocs) -> (Vec<Attempt>, Vec<String>) {
    use CredentialsMethod as M;
    let token_method = if creds.grant.is_empty() {
        M::AuthorizationCode
    } else {
        M::ClientCredentials
    };
    let wanted: Vec<M> = match creds.method {
        M::Auto => vec![M::Introspection, M::Revocation, token_method],
        one => vec![one],
    };
    let mut attempts = Vec::new();
    let mut notes = Vec::new();
    for method in wanted {
        let (endpoint, field, url) = match method {
            M::Introspection => (
                Endpoint::Introspection,
                "introspection_endpoint",
                docs.extra.introspection_endpoint.clone(),
            ),
            M::Revocation => (
                Endpoint::Revocation,
                "revocation_endpoint",
                docs.extra.revocation_endpoint.clone(),
            ),
            M::AuthorizationCode | M::ClientCredentials | M::Auto => (
                Endpoint::Token,
                "token_endpoint",
                docs.metadata.token_endpoint().map(ToString::to_string),
            ),
        };
        match url {
            Some(url) => attempts.push(Attempt {
                method,
                endpoint,
                url,
            }),
            // Auto skips a missing introspection or revocation endpoint silently: most
            // providers lack one of them.
            None if creds.method == M::Auto && endpoint != Endpoint::Token => {}
            None => notes.push(format!("the discovery document names no {field}")),
        }
    }
    (attempts, notes)
}

/// The form parameters of `attempt` (besides the client's authentication).
fn params<'a>(
    attempt: &Attempt,
    creds: &'a ClientCredentials,
    made_up: &'a str,
    scope: &'a str,
) -> Vec<(&'a str, &'a str)> {
    match attempt.method {
        CredentialsMethod::Introspection | CredentialsMethod::Revocation => {
            vec![("token", made_up)]
        }
        CredentialsMethod::ClientCredentials | CredentialsMethod::Auto => {
            let mut p = vec![("grant_type", "client_credentials")];
            if !scope.is_empty() {
                p.push(("scope", scope));
            }
            if let Some(audience) = &creds.grant.audience {
                p.push(("audience", audience));
            }
            if let Some(resource) = &creds.grant.resource {
                p.push(("resource", resource));
            }
            p
        }
        CredentialsMethod::AuthorizationCode => {
            let mut p = vec![("grant_type", "authorization_code"), ("code", made_up)];
            if let Some(uri) = &creds.redirect_uri {
                p.push(("redirect_uri", uri));
            }
            p
        }
    }
}

async fn try_one(
    http: &HttpClient,
    attempt: &Attempt,
    req: &CheckRequest,
    creds: &ClientCredentials,
    counters: &Counters,
) -> Step {
    let made_up = probe::random_token();
    let wrong_secret = format!("not-the-secret-{}", probe::random_token());
    let scope = creds.grant.scopes.join(" ");
    let params = params(attempt, creds, &made_up, &scope);
    let secret = creds.client_secret.expose();
    let sent = sent_values(creds, &wrong_secret);
    let send = |secret| Send {
        http,
        attempt,
        auth: ClientAuth {
            id: &creds.client_id,
            secret,
            method: creds.auth_method,
        },
        params: &params,
        counters,
        timeout: req.timeouts.request,
    };
    let ours = match send(secret).go().await {
        Ok(answer) => answer,
        Err(e) => return Step::Done(CredentialsOutcome::Failed(e)),
    };
    let what = what(attempt.method);
    let place = format!("the {} {}", attempt.endpoint, attempt.url);
    match verdict(&ours) {
        Verdict::Unavailable => {
            Step::Done(CredentialsOutcome::Failed(CheckError::TokenEndpointError {
                endpoint: attempt.endpoint,
                url: attempt.url.clone(),
                problem: ours.describe(&sent),
            }))
        }
        Verdict::ClientRejected => {
            Step::Done(CredentialsOutcome::Failed(CheckError::InvalidClient {
                endpoint: attempt.endpoint,
                url: attempt.url.clone(),
                client: creds.label.clone(),
                auth_method: creds.auth_method.as_str(),
                answer: ours.describe(&sent),
            }))
        }
        Verdict::Accepted if attempt.method == CredentialsMethod::ClientCredentials => {
            Step::Done(CredentialsOutcome::Valid {
                proof: format!("{place} issued a token to the client credentials"),
            })
        }
        Verdict::GrantRefused => Step::Note(format!(
            "{place} refused {what} ({}){}",
            ours.describe(&sent),
            refusal_hint(attempt.method, &ours)
        )),
        Verdict::Unexpected => Step::Note(format!(
            "{place} answered {what} with {}, which is not an OAuth answer",
            ours.describe(&sent)
        )),
        Verdict::Accepted | Verdict::RequestJudged => {
            let wrong = match send(&wrong_secret).go().await {
                Ok(answer) => answer,
                Err(e) => {
                    return Step::Note(format!(
                        "{place} could not be asked again with a wrong secret to compare ({})",
                        e.reason()
                    ));
                }
            };
            compare(&place, &ours, &wrong, &sent)
        }
    }
}

/// What the requests of an attempt send that a provider could echo: the secret, the made-up
/// wrong one, the client id (cut out everywhere: the checks' outcomes are cached and shared, and
/// the id may have been read from a Secret), and the Basic credentials built of them.
fn sent_values(creds: &ClientCredentials, wrong_secret: &str) -> Scrubber {
    let secret = creds.client_secret.expose();
    Scrubber::new()
        .hide(secret, SECRET_PLACEHOLDER)
        .hide(wrong_secret, "<a wrong secret>")
        .hide(&creds.client_id, CLIENT_ID_PLACEHOLDER)
        .hide_basic(&creds.client_id, secret, "<client credentials>")
        .hide_basic(
            &creds.client_id,
            wrong_secret,
            "<client credentials with a wrong secret>",
        )
}

/// One request of an attempt, with one secret.
struct Send<'a> {
    http: &'a HttpClient,
    attempt: &'a Attempt,
    auth: ClientAuth<'a>,
    params: &'a [(&'a str, &'a str)],
    counters: &'a Counters,
    timeout: std::time::Duration,
}

impl Send<'_> {
    async fn go(&self) -> Result<Answer, CheckError> {
        probe::post(
            self.http,
            self.attempt.endpoint,
            &self.attempt.url,
            &self.auth,
            self.params,
            self.counters,
            self.timeout,
        )
        .await
    }
}

/// The answers to the real and to a wrong secret: the secret is proved only when the wrong one is
/// rejected as a client authentication failure and the real one is not.
fn compare(place: &str, ours: &Answer, wrong: &Answer, sent: &Scrubber) -> Step {
    if verdict(wrong) == Verdict::ClientRejected {
        Step::Done(CredentialsOutcome::Valid {
            proof: format!(
                "{place} accepted the client's secret ({}) and rejected a wrong one ({})",
                ours.describe(sent),
                wrong.describe(sent)
            ),
        })
    } else {
        Step::Note(format!(
            "{place} answers a wrong secret like the right one ({}): it does not authenticate the client first",
            wrong.describe(sent)
        ))
    }
}

fn what(method: CredentialsMethod) -> &'static str {
    match method {
        CredentialsMethod::Introspection => "the introspection of a made-up token",
        CredentialsMethod::Revocation => "the revocation of a made-up token",
        CredentialsMethod::AuthorizationCode => "the authorization_code grant",
        CredentialsMethod::ClientCredentials | CredentialsMethod::Auto => {
            "the client_credentials grant"
        }
    }
}

/// What to change when a grant is refused.
fn refusal_hint(method: CredentialsMethod, answer: &Answer) -> &'static str {
    let error = answer.error.as_deref().unwrap_or_default();
    match (method, error) {
        (CredentialsMethod::ClientCredentials, "invalid_scope" | "invalid_resource") => {
            " — set spec.provider.verify.credentials.scopes to a scope the client may get a token for \
             (Entra ID: api://<application>/.default; Okta: a custom scope of the authorization server; \
             Cognito: a resource-server scope)"
        }
        (CredentialsMethod::ClientCredentials, "access_denied") => {
            " — set spec.provider.verify.credentials.audience to an API the client is granted (Auth0)"
        }
        (CredentialsMethod::ClientCredentials, _) => {
            " — the client may not use the client_credentials grant: allow it, or leave \
             spec.provider.verify.credentials to method Auto without grant parameters"
        }
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::request::GrantParams;
    use crate::oidc::testutil::{docs_with_keys, rsa_key};

    fn docs(introspection: bool, revocation: bool) -> ProviderDocs {
        let mut docs = docs_with_keys(serde_json::json!([rsa_key(serde_json::json!({}))]));
        docs.extra.introspection_endpoint = introspection.then(|| "https://idp/introspect".into());
        docs.extra.revocation_endpoint = revocation.then(|| "https://idp/revoke".into());
        docs
    }

    fn methods(attempts: &[Attempt]) -> Vec<CredentialsMethod> {
        attempts.iter().map(|a| a.method).collect()
    }

    #[test]
    fn auto_tries_what_discovery_names_then_the_token_endpoint() {
        use CredentialsMethod as M;
        let auto = ClientCredentials::new("c", "s").with_method(M::Auto);
        let (all, notes) = plan(&auto, &docs(true, true));
        assert_eq!(
            methods(&all),
            [M::Introspection, M::Revocation, M::AuthorizationCode]
        );
        assert!(notes.is_empty());
        let (token_only, notes) = plan(&auto, &docs(false, false));
        assert_eq!(methods(&token_only), [M::AuthorizationCode]);
        assert!(notes.is_empty(), "{notes:?}");
        let with_audience = auto.clone().with_grant(GrantParams {
            audience: Some("https://api".into()),
            ..GrantParams::default()
        });
        assert_eq!(
            methods(&plan(&with_audience, &docs(false, true)).0),
            [M::Revocation, M::ClientCredentials]
        );
    }

    #[test]
    fn a_chosen_method_without_its_endpoint_is_a_note() {
        let only = ClientCredentials::new("c", "s").with_method(CredentialsMethod::Introspection);
        let (attempts, notes) = plan(&only, &docs(false, true));
        assert!(attempts.is_empty());
        assert_eq!(
            notes,
            ["the discovery document names no introspection_endpoint"]
        );
    }

    #[test]
    fn only_a_rejected_wrong_secret_proves_the_right_one() {
        let answer = |status, error: &str| Answer {
            status,
            error: Some(error.into()).filter(|e: &String| !e.is_empty()),
            description: None,
        };
        let proved = compare(
            "the token endpoint x",
            &answer(400, "invalid_grant"),
            &answer(401, "invalid_client"),
            &Scrubber::new(),
        );
        assert!(matches!(
            proved,
            Step::Done(CredentialsOutcome::Valid { .. })
        ));
        // Dex's introspection: 200 {"active":false} whatever the secret.
        let dex = compare("x", &answer(200, ""), &answer(200, ""), &Scrubber::new());
        let Step::Note(note) = dex else {
            panic!("an endpoint that authenticates no one proves nothing")
        };
        assert!(note.contains("does not authenticate the client"), "{note}");
        // Google's revocation: 400 invalid_token whatever the secret.
        assert!(matches!(
            compare(
                "x",
                &answer(400, "invalid_token"),
                &answer(400, "invalid_token"),
                &Scrubber::new()
            ),
            Step::Note(_)
        ));
    }
}
