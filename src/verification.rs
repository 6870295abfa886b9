//! Verify: check the provider the rendered settings point at, through the shared, cached
//! [`ProviderChecker`] (one fetch per provider per TTL however many resources use it), and turn
//! the outcome into conditions, discovered endpoints, and whether a changed configuration may be
//! rolled out. The translation both ways (the validated config into the checker's requests, its
//! outcomes into conditions) is pure; the only IO is the checker's. Used by the controller's
//! verify step (`controller::steps::verify` is this module) and by the offline `render --verify`,
//! which therefore does not depend on the controller.

use crate::reasons::Reason;
use openidconnect::core::CoreJwsSigningAlgorithm;

use crate::crd::{
    ClientAuthMethod, ClientType, CredentialsMethod, Prompt, ProviderStatus, ResponseType,
    TokenAlgorithm,
};
use crate::oidc::{
    CLIENT_ID_PLACEHOLDER, CheckError, CheckOutcome, CheckRequest, ClientCredentials,
    CredentialsOutcome, GrantParams, LoginOutcome, LoginRequest, ProviderChecker,
    SECRET_PLACEHOLDER, ScopeSupport, SkipReason, TokenAuthMethod, Trust,
};
use crate::render::ProviderEndpoints;
use crate::scrub::Scrubber;
use crate::validate::ValidatedConfig;

use crate::conditions::{Cond, ConditionType};

/// What the provider checks found.
#[derive(Clone, Debug)]
pub(crate) struct Verification {
    /// `ProviderVerified` and, when the grant is checked, `CredentialsValid`.
    pub conditions: Vec<Cond>,
    /// Endpoints to render with (discovered, or the last ones seen when the provider is down).
    pub endpoints: ProviderEndpoints,
    /// Provider facts for the status.
    pub status: Option<ProviderStatus>,
    /// The failed check, when one failed: a changed configuration is then not rolled out.
    pub failure: Option<Failure>,
}

/// A failed check.
#[derive(Clone, Debug)]
pub(crate) struct Failure {
    /// The condition reason.
    pub reason: Reason,
    /// What failed.
    pub message: String,
    /// Likely to pass again by itself (the provider is down, a timeout).
    pub transient: bool,
}

/// The request for `config`.
pub(crate) fn request(config: &ValidatedConfig) -> CheckRequest {
    let p = &config.provider;
    let mut req = CheckRequest::new(p.issuer.clone())
        .with_scopes(p.scopes.clone())
        .with_response_type(match p.response_type {
            ResponseType::Code => "code",
            ResponseType::IdToken => "id_token",
        })
        .with_discovery_url(p.discovery_url.clone())
        .with_insecure_http(p.allow_insecure_http);
    // The keys must verify what the server accepts, not always RS256.
    req.signing_algorithms = vec![match p.token_validation_algorithm {
        TokenAlgorithm::RS256 => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        TokenAlgorithm::RS384 => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
        TokenAlgorithm::RS512 => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    }];
    req.jwks_url = p.jwks_url.clone();
    req.tenant = p.tenant.clone();
    if let Some(pem) = &p.ca_bundle {
        req = req.with_trust(Trust::CaBundle {
            pem: pem.clone(),
            also_system_roots: true,
        });
    }
    if let Some(creds) = credentials(config) {
        req = req.with_client_credentials(creds);
    }
    if p.verify_login {
        req = req.with_login(login(config));
    }
    req
}

/// The secret check `config` asks for, if the checker can make it.
fn credentials(config: &ValidatedConfig) -> Option<ClientCredentials> {
    let p = &config.provider;
    let check = p.verify_credentials.as_ref()?;
    let secret = p.credentials.client_secret.as_ref()?;
    let auth_method = match p.client_authentication_method {
        ClientAuthMethod::ClientSecretBasic => TokenAuthMethod::ClientSecretBasic,
        ClientAuthMethod::ClientSecretPost => TokenAuthMethod::ClientSecretPost,
        ClientAuthMethod::ClientSecretJwt => TokenAuthMethod::ClientSecretJwt,
        // Signing needs the client's private key, which the operator does not hold.
        ClientAuthMethod::PrivateKeyJwt => return None,
    };
    let method = match check.method {
        CredentialsMethod::Auto | CredentialsMethod::Disabled => {
            crate::oidc::CredentialsMethod::Auto
        }
        CredentialsMethod::Introspection => crate::oidc::CredentialsMethod::Introspection,
        CredentialsMethod::Revocation => crate::oidc::CredentialsMethod::Revocation,
        CredentialsMethod::AuthorizationCode => crate::oidc::CredentialsMethod::AuthorizationCode,
        CredentialsMethod::ClientCredentials => crate::oidc::CredentialsMethod::ClientCredentials,
    };
    Some(
        ClientCredentials::new(p.credentials.client_id.clone(), secret.expose().clone())
            .with_label(p.credentials.client_label.clone())
            .with_auth_method(auth_method)
            .with_method(method)
            .with_grant(GrantParams {
                scopes: check.scopes.clone(),
                audience: check.audience.clone(),
                resource: check.resource.clone(),
            })
            .with_redirect_uri(p.callback_url.clone()),
    )
}

/// The login the server starts, as far as the provider sees it.
fn login(config: &ValidatedConfig) -> LoginRequest {
    let p = &config.provider;
    let mut extra: Vec<(String, String)> = p
        .custom_params
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(prompt) = p.prompt {
        let value = match prompt {
            Prompt::None => "none",
            Prompt::Login => "login",
            Prompt::Consent => "consent",
            Prompt::SelectAccount => "select_account",
        };
        extra.push(("prompt".into(), value.into()));
    }
    if let Some(max_age) = p.max_age_seconds {
        extra.push(("max_age".into(), max_age.to_string()));
    }
    // The server's Google client adds it (pac4j GoogleOidcClient).
    if p.oidc_type == "google" {
        extra.push(("access_type".into(), "offline".into()));
    }
    LoginRequest {
        client_id: p.credentials.client_id.clone(),
        label: p.credentials.client_label.clone(),
        redirect_uri: p.callback_url.clone(),
        pkce: p.use_pkce && p.client_type == ClientType::Confidential,
        nonce: p.use_nonce,
        extra,
    }
}

/// Runs the checks (or reports them disabled). `previous` provides the last endpoints seen, so
/// an outage does not change what is rendered. A check that takes longer than the checker's wait
/// goes on in the background and `on_done` is called when it ends; meanwhile its last outcome is
/// used, or, for a check never answered, the verification is pending (a failure that holds
/// changes without stalling the resource).
pub(crate) async fn verify(
    checker: &ProviderChecker,
    config: &ValidatedConfig,
    previous: Option<&ProviderStatus>,
    on_done: impl FnOnce() + Send + 'static,
) -> Verification {
    let found = check(checker, config, previous, on_done).await;
    shown(config, found)
}

/// What a person may be told of the values this resource sent: its client secret (and the Basic
/// credentials built with it) and, when a Secret holds it, its client id, each named instead of
/// shown, in every encoding a provider could echo them in (docs/security.md, promise 2).
pub(crate) fn scrubber(config: &ValidatedConfig) -> Scrubber {
    let c = &config.provider.credentials;
    let mut scrubber = Scrubber::new();
    if let Some(secret) = &c.client_secret {
        scrubber = scrubber
            .hide(secret.expose(), SECRET_PLACEHOLDER)
            .hide_basic(&c.client_id, secret.expose(), "<client credentials>");
    }
    // The id as a word only: these messages are mostly the operator's own wording, where a short
    // id (`om`) would otherwise cut words apart; provider text was scrubbed of it in full already.
    if let Some(source) = &c.client_id_source {
        scrubber = scrubber.hide_word(&c.client_id, &client_id_place(source));
    }
    scrubber
}

fn client_id_place(source: &str) -> String {
    format!("<the client id in {source}>")
}

/// `found` as the status, Events and logs may show it: every message and every URL the provider
/// named scrubbed by `scrubber`; where the checks cut out an echoed client id that a Secret holds,
/// the Secret and key named. The endpoints rendered into the server's settings are left as found.
fn shown(config: &ValidatedConfig, mut found: Verification) -> Verification {
    let scrubber = scrubber(config);
    let source = config.provider.credentials.client_id_source.as_deref();
    let clean = |text: &str| {
        let text = scrubber.scrub(text);
        match source {
            Some(source) => text.replace(CLIENT_ID_PLACEHOLDER, &client_id_place(source)),
            None => text,
        }
    };
    for c in &mut found.conditions {
        c.message = clean(&c.message);
    }
    if let Some(f) = &mut found.failure {
        f.message = clean(&f.message);
    }
    if let Some(s) = &mut found.status {
        for url in [
            &mut s.issuer,
            &mut s.jwks_uri,
            &mut s.token_endpoint,
            &mut s.authorization_endpoint,
        ]
        .into_iter()
        .flatten()
        {
            *url = clean(url);
        }
    }
    found
}

async fn check(
    checker: &ProviderChecker,
    config: &ValidatedConfig,
    previous: Option<&ProviderStatus>,
    on_done: impl FnOnce() + Send + 'static,
) -> Verification {
    let last_known = ProviderEndpoints {
        jwks_uri: previous.and_then(|p| p.jwks_uri.clone()),
        token_endpoint: previous.and_then(|p| p.token_endpoint.clone()),
    };
    if !config.provider.verify_discovery {
        return Verification {
            conditions: vec![Cond::unknown(
                ConditionType::ProviderVerified,
                Reason::CheckDisabled,
                "spec.provider.verify.discovery is false",
            )],
            endpoints: ProviderEndpoints::default(),
            status: Some(ProviderStatus {
                issuer: Some(config.provider.issuer.clone()),
                jwks_uri: config.provider.jwks_url.clone(),
                ..ProviderStatus::default()
            }),
            failure: None,
        };
    }
    let Some(outcome) = checker.check_within(&request(config), on_done).await else {
        let message = format!(
            "checking the provider at {} (it has not answered yet; the result is applied when it does)",
            crate::urls::redacted(&config.provider.issuer)
        );
        return Verification {
            conditions: vec![Cond::unknown(
                ConditionType::ProviderVerified,
                Reason::Checking,
                message.clone(),
            )],
            endpoints: last_known,
            status: previous.cloned(),
            failure: Some(Failure {
                reason: Reason::Checking,
                message,
                transient: true,
            }),
        };
    };
    let mut conditions = Vec::new();
    let mut failure = None;
    let (endpoints, status) = match &outcome.provider {
        Ok(report) => {
            conditions.push(provider_verified(config, report));
            let jwks = report.jwks_uri.clone();
            let token = report.token_endpoint.clone();
            (
                ProviderEndpoints {
                    jwks_uri: Some(jwks.clone()),
                    token_endpoint: token.clone(),
                },
                Some(ProviderStatus {
                    issuer: Some(report.issuer.clone()),
                    jwks_uri: Some(jwks),
                    token_endpoint: token,
                    authorization_endpoint: Some(report.authorization_endpoint.clone()),
                    signing_keys: i64::try_from(report.usable_signing_keys).ok(),
                }),
            )
        }
        Err(e) => {
            conditions.push(Cond::new(
                ConditionType::ProviderVerified,
                false,
                e.reason(),
                e.to_string(),
            ));
            failure = Some(failed(e));
            (last_known, previous.cloned())
        }
    };
    let (credentials, credentials_failure) = credentials_valid(config, &outcome);
    let (login, login_failure) = login_accepted(config, &outcome);
    conditions.extend(credentials);
    conditions.extend(login);
    Verification {
        conditions,
        endpoints,
        status,
        failure: failure.or(credentials_failure).or(login_failure),
    }
}

/// `ProviderVerified=True`, noting scopes the provider does not list.
fn provider_verified(config: &ValidatedConfig, report: &crate::oidc::ProviderReport) -> Cond {
    let found = format!(
        "discovery document and JWKS ({} usable signing key(s)) fetched from {}",
        report.usable_signing_keys, config.provider.issuer
    );
    match &report.scopes {
        ScopeSupport::SomeNotAdvertised(missing) => Cond::new(
            ConditionType::ProviderVerified,
            true,
            Reason::ScopesNotAdvertised,
            format!(
                "{found}; scope(s) {missing:?} of spec.provider.scopes are not in its scopes_supported, \
                 which may be partial (custom scopes often are not listed): if logins fail with \
                 invalid_scope, these are why"
            ),
        ),
        _ => Cond::new(
            ConditionType::ProviderVerified,
            true,
            Reason::Verified,
            found,
        ),
    }
}

/// `CredentialsValid`, and the failure that holds a rollout.
fn credentials_valid(
    config: &ValidatedConfig,
    outcome: &CheckOutcome,
) -> (Option<Cond>, Option<Failure>) {
    let p = &config.provider;
    let t = ConditionType::CredentialsValid;
    let cond = match &outcome.credentials {
        CredentialsOutcome::Valid { proof } => Cond::new(t, true, Reason::Valid, proof.clone()),
        CredentialsOutcome::Failed(e) => {
            return (
                Some(Cond::new(t, false, e.reason(), e.to_string())),
                Some(failed(e)),
            );
        }
        CredentialsOutcome::Inconclusive { message } => {
            Cond::unknown(t, Reason::Inconclusive, message.clone())
        }
        CredentialsOutcome::Skipped(SkipReason::ProviderUnavailable) => Cond::unknown(
            t,
            Reason::ProviderUnavailable,
            "not checked: the provider could not be verified",
        ),
        CredentialsOutcome::Skipped(SkipReason::NotRequested) => {
            if p.client_type != ClientType::Confidential {
                return (None, None);
            }
            if p.verify_credentials.is_none() {
                Cond::unknown(
                    t,
                    Reason::CheckDisabled,
                    "spec.provider.verify.credentials.method is Disabled",
                )
            } else {
                Cond::unknown(
                    t,
                    Reason::NotCheckable,
                    "private_key_jwt: the operator does not hold the client's private key, so it cannot authenticate as the client",
                )
            }
        }
    };
    (Some(cond), None)
}

/// `LoginAccepted`, and the failure that holds a rollout.
fn login_accepted(
    config: &ValidatedConfig,
    outcome: &CheckOutcome,
) -> (Option<Cond>, Option<Failure>) {
    let p = &config.provider;
    let t = ConditionType::LoginAccepted;
    let cond = match &outcome.login {
        LoginOutcome::Accepted { how } => Cond::new(
            t,
            true,
            Reason::Accepted,
            format!(
                "a login with redirect_uri {} is accepted: {how}",
                p.callback_url
            ),
        ),
        LoginOutcome::Refused(e) => {
            return (
                Some(Cond::new(t, false, e.reason(), e.to_string())),
                Some(failed(e)),
            );
        }
        LoginOutcome::Inconclusive(e) => Cond::unknown(
            t,
            e.reason(),
            format!("the login could not be checked, so the rollout is not held for it: {e}"),
        ),
        LoginOutcome::Skipped(SkipReason::ProviderUnavailable) => Cond::unknown(
            t,
            Reason::ProviderUnavailable,
            "not checked: the provider could not be verified",
        ),
        LoginOutcome::Skipped(SkipReason::NotRequested) => {
            if p.client_type != ClientType::Confidential {
                return (None, None);
            }
            Cond::unknown(
                t,
                Reason::CheckDisabled,
                "spec.provider.verify.loginRedirect is false",
            )
        }
    };
    (Some(cond), None)
}

fn failed(e: &CheckError) -> Failure {
    Failure {
        reason: e.reason(),
        message: e.to_string(),
        transient: e.is_transient(),
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::*;
    use crate::validate::tests::{confidential, creds, resource};

    const SECRET: &str = "pa ss/wörd+&";
    const ID: &str = "client-from-a-secret";

    fn config() -> ValidatedConfig {
        crate::validate::validate(&resource(confidential()), &creds(ID, SECRET)).expect("valid")
    }

    /// Every message and status URL of a verification reaches the status only scrubbed: the
    /// secret and the Basic pair in their encodings, the Secret-held client id (named by its
    /// Secret and key, also where the checks cut it out), URL credentials.
    #[test]
    fn what_the_status_shows_of_a_check_names_sent_values_and_never_shows_them() {
        let form: String = url::form_urlencoded::byte_serialize(SECRET.as_bytes()).collect();
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{ID}:{form}"));
        let found = Verification {
            conditions: vec![Cond::new(
                ConditionType::CredentialsValid,
                false,
                Reason::InvalidClient,
                format!(
                    "HTTP 401 invalid_client: got client_secret={form} for {ID} (Basic {basic}); {CLIENT_ID_PLACEHOLDER} unknown"
                ),
            )],
            endpoints: ProviderEndpoints::default(),
            status: Some(ProviderStatus {
                token_endpoint: Some(format!("https://svc:{form}@idp.example.com/{ID}/token")),
                ..ProviderStatus::default()
            }),
            failure: Some(Failure {
                reason: Reason::InvalidClient,
                message: format!("echo {SECRET}"),
                transient: false,
            }),
        };
        let shown = shown(&config(), found);
        let place = "<the client id in Secret \"creds\" (key \"clientId\")>";
        let message = &shown.conditions[0].message;
        assert_eq!(
            message,
            &format!(
                "HTTP 401 invalid_client: got client_secret=<client secret> for {place} (Basic <client credentials>); {place} unknown"
            )
        );
        assert_eq!(
            shown.status.and_then(|s| s.token_endpoint).as_deref(),
            Some(format!("https://<credentials>@idp.example.com/{place}/token").as_str())
        );
        assert_eq!(
            shown.failure.map(|f| f.message).as_deref(),
            Some("echo <client secret>")
        );
    }

    /// A short client id read from a Secret is cut out where it stands as a word, and leaves the
    /// operator's own words whole.
    #[test]
    fn a_short_client_id_does_not_cut_the_operators_words_apart() {
        let config = crate::validate::validate(&resource(confidential()), &creds("om", SECRET))
            .expect("valid");
        let found = Verification {
            conditions: vec![Cond::new(
                ConditionType::ProviderVerified,
                true,
                Reason::Verified,
                "discovery document and JWKS fetched from https://idp.example.com/custom; client om echoed",
            )],
            endpoints: ProviderEndpoints::default(),
            status: None,
            failure: None,
        };
        assert_eq!(
            shown(&config, found).conditions[0].message,
            "discovery document and JWKS fetched from https://idp.example.com/custom; client \
             <the client id in Secret \"creds\" (key \"clientId\")> echoed"
        );
    }
}
