//! Verify: check the provider the rendered settings point at, through the shared, cached
//! [`ProviderChecker`] (one fetch per provider per TTL however many resources use it), and turn
//! the outcome into conditions, discovered endpoints, and whether a changed configuration may be
//! rolled out.

use crate::crd::{ClientAuthMethod, ClientType, ProviderStatus, ResponseType};
use crate::oidc::{
    CheckError, CheckRequest, ClientCredentials, CredentialsOutcome, ProviderChecker, SkipReason,
    TokenAuthMethod, Trust,
};
use crate::render::ProviderEndpoints;
use crate::validate::ValidatedConfig;

use super::status::conditions::{Cond, ConditionType};

/// What the provider checks found.
#[derive(Clone, Debug)]
pub(super) struct Verification {
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
pub(super) struct Failure {
    /// The condition reason.
    pub reason: &'static str,
    /// What failed.
    pub message: String,
    /// Likely to pass again by itself (the provider is down, a timeout).
    pub transient: bool,
}

/// The request for `config`.
pub(super) fn request(config: &ValidatedConfig) -> CheckRequest {
    let p = &config.provider;
    let mut req = CheckRequest::new(p.issuer.clone())
        .with_scopes(p.scopes.clone())
        .with_response_type(match p.response_type {
            ResponseType::Code => "code",
            ResponseType::IdToken => "id_token",
        })
        .with_discovery_url(p.discovery_url.clone());
    req.jwks_url = p.jwks_url.clone();
    if let Some(pem) = &p.ca_bundle {
        req = req.with_trust(Trust::CaBundle {
            pem: pem.clone(),
            also_system_roots: true,
        });
    }
    if p.verify_client_credentials
        && let Some(secret) = &p.credentials.client_secret
    {
        let method = match p.client_authentication_method {
            ClientAuthMethod::ClientSecretBasic => TokenAuthMethod::ClientSecretBasic,
            // The JWT methods cannot be exercised by the checker; post is what the server's
            // default (client_secret_post) uses and tells a wrong secret apart just as well.
            _ => TokenAuthMethod::ClientSecretPost,
        };
        req = req.with_client_credentials(
            ClientCredentials::new(p.credentials.client_id.clone(), secret.expose().clone())
                .with_label(p.credentials.client_label.clone())
                .with_auth_method(method),
        );
    }
    req
}

/// Runs the checks (or reports them disabled). `previous` provides the last endpoints seen, so
/// an outage does not change what is rendered. A check that takes longer than the checker's wait
/// goes on in the background and `on_done` is called when it ends; meanwhile its last outcome is
/// used, or, for a check never answered, the verification is pending (a failure that holds
/// changes without stalling the resource).
pub(super) async fn verify(
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
                "CheckDisabled",
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
                "Checking",
                message.clone(),
            )],
            endpoints: last_known,
            status: previous.cloned(),
            failure: Some(Failure {
                reason: "Checking",
                message,
                transient: true,
            }),
        };
    };
    let mut conditions = Vec::new();
    let mut failure = None;
    let (endpoints, status) = match &outcome.provider {
        Ok(report) => {
            conditions.push(Cond::new(
                ConditionType::ProviderVerified,
                true,
                "Verified",
                format!(
                    "discovery document and JWKS ({} usable signing key(s)) fetched from {}",
                    report.usable_signing_keys, config.provider.issuer
                ),
            ));
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
    match outcome.credentials {
        CredentialsOutcome::Valid => conditions.push(Cond::new(
            ConditionType::CredentialsValid,
            true,
            "Valid",
            "the provider granted a token to the client credentials",
        )),
        CredentialsOutcome::Failed(e) => {
            conditions.push(Cond::new(
                ConditionType::CredentialsValid,
                false,
                e.reason(),
                e.to_string(),
            ));
            failure = failure.or(Some(failed(&e)));
        }
        CredentialsOutcome::Skipped(SkipReason::ProviderUnavailable) => {
            conditions.push(Cond::unknown(
                ConditionType::CredentialsValid,
                "ProviderUnavailable",
                "not checked: the provider could not be verified",
            ));
        }
        CredentialsOutcome::Skipped(SkipReason::NotRequested) => {
            if config.provider.client_type == ClientType::Confidential {
                conditions.push(Cond::unknown(
                    ConditionType::CredentialsValid,
                    "CheckDisabled",
                    "set spec.provider.verify.clientCredentials to check the client secret at the provider",
                ));
            }
        }
    }
    Verification {
        conditions,
        endpoints,
        status,
        failure,
    }
}

fn failed(e: &CheckError) -> Failure {
    Failure {
        reason: e.reason(),
        message: e.to_string(),
        transient: e.is_transient(),
    }
}
