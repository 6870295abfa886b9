//! `spec.provider`: URLs, scopes, response type, client credentials and CA bundle.

use std::collections::BTreeMap;

use super::credentials::{self, SecretNeed};
use super::urls::{join, provider_url, referenced_key, url, well_known};
use super::*;
use crate::crd::{ClientType, IngestionAuthProvider, OidcSsoConfigSpec, ProviderSpec};

const DEFAULT_SCOPES: [&str; 3] = ["openid", "email", "profile"];

pub(super) fn provider(
    spec: &OidcSsoConfigSpec,
    inputs: &Inputs,
    server: Option<&ValidatedServer>,
    errors: &mut Vec<ValidationError>,
) -> Option<ValidatedProvider> {
    let p: &ProviderSpec = &spec.provider;
    let insecure_ok = p.allow_insecure_http.unwrap_or(false);
    let before = errors.len();
    let issuer = provider_url("spec.provider.issuer", &p.issuer, insecure_ok, errors);
    let discovery_url = match (&p.discovery_url, &issuer) {
        (Some(u), _) => provider_url("spec.provider.discoveryUrl", u, insecure_ok, errors),
        (None, Some(issuer)) => Some(well_known(issuer)),
        (None, None) => None,
    };
    let jwks_url = p
        .jwks_url
        .as_ref()
        .and_then(|u| provider_url("spec.provider.jwksUrl", u, insecure_ok, errors));
    let verify = p.verify.clone().unwrap_or_default();
    let verify_discovery = verify.discovery.unwrap_or(true);
    let verify_credentials = credentials_check(p, &verify, errors);
    let verify_login = verify
        .login_redirect
        .unwrap_or(p.client_type == ClientType::Confidential);
    if p.jwks_url.is_none() && !verify_discovery {
        errors.push(ValidationError::new(
            "spec.provider.jwksUrl",
            ProblemReason::InvalidSpec,
            "is required when spec.provider.verify.discovery is false (the provider's JWKS URL comes from discovery otherwise)",
        ));
    }
    let extra_public_key_urls = p
        .extra_public_key_urls
        .iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, u)| {
            provider_url(
                &format!("spec.provider.extraPublicKeyUrls[{i}]"),
                u,
                insecure_ok,
                errors,
            )
        })
        .collect();
    let callback_url = match (&p.callback_url, server) {
        (Some(u), _) => url("spec.provider.callbackUrl", u, errors),
        (None, Some(server)) => Some(join(&server.external_url, "callback")),
        (None, None) => None,
    };
    let scopes: Vec<String> = match &p.scopes {
        Some(s) => s.clone(),
        None => DEFAULT_SCOPES
            .iter()
            .map(std::string::ToString::to_string)
            .collect(),
    };
    for (i, scope) in scopes.iter().enumerate() {
        if scope.is_empty()
            || scope
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '\\')
        {
            errors.push(ValidationError::new(
                format!("spec.provider.scopes[{i}]"),
                ProblemReason::InvalidSpec,
                "a scope is one non-empty word without spaces, quotes or backslashes",
            ));
        }
    }
    if !scopes.iter().any(|s| s == "openid") {
        errors.push(ValidationError::new(
            "spec.provider.scopes",
            ProblemReason::InvalidSpec,
            "must include openid (OpenMetadata signs users in with OpenID Connect)",
        ));
    }
    custom_params(p.custom_params.as_ref(), errors);
    let oidc_type = oidc_type(p, errors);
    if let (Some(kind), Some(issuer)) = (&oidc_type, &issuer) {
        entra_tenant_agrees(kind, p.tenant.as_deref(), issuer, errors);
    }
    let response_type = p.response_type.unwrap_or(match p.client_type {
        ClientType::Public => crate::crd::ResponseType::IdToken,
        ClientType::Confidential => crate::crd::ResponseType::Code,
    });
    let need_secret: SecretNeed = if p.client_type == ClientType::Confidential {
        Some("a Confidential client")
    } else if verify_credentials.is_some() {
        Some("spec.provider.verify.credentials")
    } else if spec.ingestion.as_ref().and_then(|i| i.auth_provider)
        == Some(IngestionAuthProvider::CustomOidc)
        && spec
            .ingestion
            .as_ref()
            .and_then(|i| i.enabled)
            .unwrap_or(true)
    {
        Some("spec.ingestion.authProvider custom-oidc")
    } else {
        None
    };
    let credentials = credentials::resolve(p, &inputs.credentials, need_secret, errors);
    let ca_bundle = p.ca_bundle.as_ref().and_then(|r| {
        let (field, key_ref, kind) = match (&r.config_map_ref, &r.secret_ref) {
            (Some(k), None) => ("spec.provider.caBundle.configMapRef", k, "ConfigMap"),
            (None, Some(k)) => ("spec.provider.caBundle.secretRef", k, "Secret"),
            _ => {
                errors.push(ValidationError::new(
                    "spec.provider.caBundle",
                    ProblemReason::InvalidSpec,
                    "set exactly one of configMapRef and secretRef",
                ));
                return None;
            }
        };
        let bytes = referenced_key(field, kind, key_ref, &inputs.ca_bundle, errors)?;
        if !String::from_utf8_lossy(&bytes).contains("-----BEGIN CERTIFICATE-----") {
            errors.push(ValidationError::new(
                field,
                ProblemReason::InvalidReference,
                format!(
                    "{kind} {:?} key {:?} holds no PEM certificate",
                    key_ref.name, key_ref.key
                ),
            ));
            return None;
        }
        Some(bytes)
    });
    if errors.len() > before {
        return None;
    }
    Some(ValidatedProvider {
        display_name: p.display_name.clone(),
        oidc_type: oidc_type?,
        tenant: p.tenant.clone(),
        issuer: issuer?,
        discovery_url: discovery_url?,
        jwks_url,
        client_type: p.client_type,
        credentials: credentials?,
        scopes,
        response_type,
        callback_url: callback_url?,
        extra_public_key_urls,
        token_validation_algorithm: p
            .token_validation_algorithm
            .unwrap_or(crate::crd::TokenAlgorithm::RS256),
        client_authentication_method: p
            .client_authentication_method
            .unwrap_or(crate::crd::ClientAuthMethod::ClientSecretPost),
        use_pkce: p.use_pkce.unwrap_or(false),
        use_nonce: p.use_nonce.unwrap_or(true),
        custom_params: p.custom_params.clone().unwrap_or_default(),
        max_clock_skew_seconds: p.max_clock_skew_seconds,
        token_validity_seconds: p.token_validity_seconds.unwrap_or(3600),
        max_age_seconds: p.max_age_seconds,
        prompt: p.prompt,
        session_expiry_seconds: p.session_expiry_seconds,
        ca_bundle,
        allow_insecure_http: insecure_ok,
        verify_discovery,
        verify_credentials,
        verify_login,
    })
}

/// The login parameters the server sets itself after the custom ones (a custom one of that name
/// would be overwritten) or that the provider must get from the server alone.
const RESERVED_PARAMS: [&str; 6] = [
    "client_id",
    "redirect_uri",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
];

/// The server reads at most five custom parameters (`customParamKey1`..`customParamKey5`).
const MAX_CUSTOM_PARAMS: usize = 5;

fn custom_params(params: Option<&BTreeMap<String, String>>, errors: &mut Vec<ValidationError>) {
    let Some(params) = params else { return };
    let field = "spec.provider.customParams";
    if params.len() > MAX_CUSTOM_PARAMS {
        errors.push(ValidationError::new(
            field,
            ProblemReason::InvalidSpec,
            format!(
                "has {} parameters; the server reads at most {MAX_CUSTOM_PARAMS} (customParamKey1..customParamKey5) and would drop the rest",
                params.len()
            ),
        ));
    }
    for name in params.keys() {
        if name.trim().is_empty() {
            errors.push(ValidationError::new(
                field,
                ProblemReason::InvalidSpec,
                "has an empty parameter name",
            ));
        } else if RESERVED_PARAMS.contains(&name.as_str()) {
            errors.push(ValidationError::new(
                format!("{field}.{name}"),
                ProblemReason::InvalidSpec,
                "is set by the server itself after the custom parameters; it cannot be changed here",
            ));
        }
    }
}

/// `OIDC_TYPE`: `azure` and `google` (any case, as the server compares them) in lower case,
/// anything else as written; `azure` needs a tenant.
fn oidc_type(p: &ProviderSpec, errors: &mut Vec<ValidationError>) -> Option<String> {
    let given = p.oidc_type.as_deref().unwrap_or("custom-oidc");
    if given.trim() != given || given.is_empty() {
        // The server does not trim: " azure" would silently build the generic client.
        errors.push(ValidationError::new(
            "spec.provider.oidcType",
            ProblemReason::InvalidSpec,
            "must not be empty or start or end with a space",
        ));
        return None;
    }
    let normal = match given.to_ascii_lowercase().as_str() {
        "azure" => "azure".to_string(),
        "google" => "google".to_string(),
        _ => given.to_string(),
    };
    if normal == "azure" && p.tenant.is_none() {
        errors.push(ValidationError::new(
            "spec.provider.tenant",
            ProblemReason::InvalidSpec,
            "is required with oidcType azure: the server builds the Entra ID discovery URL from it (without it, a multi-tenant authority fails with a {tenantid} parse error)",
        ));
    }
    Some(normal)
}

/// `spec.provider.verify.credentials` (or the deprecated `clientCredentials`) with its defaults:
/// `Auto` for a Confidential client, nothing for a Public one.
fn credentials_check(
    p: &ProviderSpec,
    verify: &crate::crd::VerifySpec,
    errors: &mut Vec<ValidationError>,
) -> Option<CredentialsCheck> {
    use crate::crd::CredentialsMethod as M;
    let spec = verify.credentials.clone().unwrap_or_default();
    let method = spec.method.unwrap_or(match verify.client_credentials {
        Some(true) => M::ClientCredentials,
        None if p.client_type == ClientType::Confidential => M::Auto,
        Some(false) | None => M::Disabled,
    });
    let has_grant_params =
        spec.scopes.is_some() || spec.audience.is_some() || spec.resource.is_some();
    if has_grant_params && !matches!(method, M::Auto | M::ClientCredentials) {
        errors.push(ValidationError::new(
            "spec.provider.verify.credentials",
            ProblemReason::InvalidSpec,
            "scopes, audience and resource are sent only with the client-credentials grant (method Auto or ClientCredentials)",
        ));
    }
    (method != M::Disabled).then(|| CredentialsCheck {
        method,
        scopes: spec.scopes.unwrap_or_default(),
        audience: spec.audience,
        resource: spec.resource,
    })
}

/// Entra ID hosts whose issuer path starts with the tenant (`/<tenant>/v2.0`).
const ENTRA_HOSTS: [&str; 3] = [
    "login.microsoftonline.com",
    "login.microsoftonline.us",
    "login.partner.microsoftonline.cn",
];

/// With `oidcType: azure` the server's login takes its discovery document from
/// `login.microsoftonline.com/<tenant>/v2.0` whatever the issuer says, while token validation and
/// the operator's checks use the issuer: the two must name the same tenant.
fn entra_tenant_agrees(
    oidc_type: &str,
    tenant: Option<&str>,
    issuer: &str,
    errors: &mut Vec<ValidationError>,
) {
    let (Some(tenant), Ok(url)) = (tenant, url::Url::parse(issuer)) else {
        return;
    };
    if oidc_type != "azure" || !url.host_str().is_some_and(|h| ENTRA_HOSTS.contains(&h)) {
        return;
    }
    let segment = url
        .path_segments()
        .and_then(|mut s| s.next())
        .unwrap_or_default();
    if !segment.eq_ignore_ascii_case(tenant) {
        errors.push(ValidationError::new(
            "spec.provider.tenant",
            ProblemReason::InvalidSpec,
            format!(
                "is {tenant:?} but spec.provider.issuer names tenant {segment:?}: with oidcType azure the server's login uses the discovery document of login.microsoftonline.com/{tenant}/v2.0 while tokens are checked against the issuer; make them name the same tenant"
            ),
        ));
    }
}
