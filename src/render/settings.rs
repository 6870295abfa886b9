//! The server settings: one environment variable per OpenMetadata setting, in the syntax the
//! server parses (see [`super::syntax`]). Names and formats follow `conf/openmetadata.yaml`
//! (openmetadata-auth.md §2).

use std::collections::{BTreeMap, BTreeSet};

use super::syntax::{boolean, list, map, quoted};
use crate::crd::{
    ClientAuthMethod, ClientType, ConfigSource, Prompt, ResponseType, TokenAlgorithm,
};
use crate::keys;
use crate::validate::ValidatedConfig;

/// Path of OpenMetadata's own JWKS endpoint under its base URL.
pub const OWN_JWKS_PATH: &str = "api/v1/system/config/jwks";

/// Variables whose values are secret: redacted in previews.
pub const SENSITIVE_VARIABLES: [&str; 1] = ["OIDC_CLIENT_SECRET"];

/// The rendered variables and which of them are secret.
pub struct ServerSettings {
    /// Value by environment variable name.
    pub variables: BTreeMap<String, String>,
    /// Names of the variables whose values are secret.
    pub sensitive: BTreeSet<String>,
}

/// Renders the server's settings. `provider_jwks_url` is the provider's JWKS URL (configured or
/// discovered); `key_id` is the JWT key id in use.
pub fn server_settings(
    config: &ValidatedConfig,
    provider_jwks_url: &str,
    key_id: &str,
) -> ServerSettings {
    let p = &config.provider;
    let a = &config.authorizer;
    let s = &config.server;
    let mut env = BTreeMap::new();
    let mut set = |k: &str, v: String| {
        env.insert(k.to_string(), v);
    };

    // authenticationConfiguration
    set("AUTHENTICATION_PROVIDER", quoted("custom-oidc"));
    let confidential = p.client_type == ClientType::Confidential;
    set(
        "AUTHENTICATION_CLIENT_TYPE",
        quoted(if confidential {
            "confidential"
        } else {
            "public"
        }),
    );
    if let Some(name) = &p.display_name {
        set("CUSTOM_OIDC_AUTHENTICATION_PROVIDER_NAME", quoted(name));
    }
    set("AUTHENTICATION_AUTHORITY", quoted(&p.issuer));
    set("AUTHENTICATION_CLIENT_ID", quoted(&p.credentials.client_id));
    // The public (browser) client uses the callback; the confidential flow takes it from
    // oidcConfiguration, and the template asks to leave this one blank. The response type is
    // rendered for both because GET /api/v1/system/config/auth reports this field.
    set(
        "AUTHENTICATION_CALLBACK_URL",
        quoted(if confidential { "" } else { &p.callback_url }),
    );
    set(
        "AUTHENTICATION_RESPONSE_TYPE",
        quoted(response_type(p.response_type)),
    );
    // The provider's keys validate user tokens; the server's own JWKS validates bot and session
    // tokens it signed itself (it must be reachable from the pod, hence the internal URL). The
    // retired keys of the grace window (docs/rotating-keys.md) come from the keys Secret the pod
    // mounts, through a `file:` URL jwks-rsa opens like any other: listed from the first
    // rendering on, so that a rotation never changes this list (which 1.10 to 2.0.x keep in
    // their database); first, because a miss in a local file costs nothing.
    let own_jwks = format!("{}/{OWN_JWKS_PATH}", s.internal_url.trim_end_matches('/'));
    let retired = format!("file:{}/{}", s.key_mount_path, keys::retired::RETIRED_JWKS);
    let mut key_urls = vec![retired, provider_jwks_url.to_string(), own_jwks];
    key_urls.extend(p.extra_public_key_urls.iter().cloned());
    let mut seen = BTreeSet::new();
    key_urls.retain(|u| seen.insert(u.clone()));
    set("AUTHENTICATION_PUBLIC_KEYS", list(&key_urls));
    set(
        "AUTHENTICATION_TOKEN_VALIDATION_ALGORITHM",
        quoted(algorithm(p.token_validation_algorithm)),
    );
    set(
        "AUTHENTICATION_JWT_PRINCIPAL_CLAIMS",
        list(&a.jwt_principal_claims),
    );
    let mapping: Vec<String> = a
        .jwt_principal_claims_mapping
        .iter()
        .map(|(k, v)| format!("{k}:{v}"))
        .collect();
    set(
        "AUTHENTICATION_JWT_PRINCIPAL_CLAIMS_MAPPING",
        list(&mapping),
    );
    set(
        "AUTHENTICATION_ENABLE_SELF_SIGNUP",
        boolean(a.enable_self_signup),
    );
    if let Some(seconds) = p.session_expiry_seconds {
        set(
            "AUTHENTICATION_SESSION_EXPIRY",
            quoted(&seconds.to_string()),
        );
    }

    // authenticationConfiguration.oidcConfiguration: the confidential (server-side) client.
    if confidential {
        set("OIDC_CLIENT_ID", quoted(&p.credentials.client_id));
        let secret = p
            .credentials
            .client_secret
            .as_ref()
            .map_or("", |s| s.expose().as_str());
        set("OIDC_CLIENT_SECRET", quoted(secret));
        set("OIDC_TYPE", quoted(&p.oidc_type));
        if let Some(tenant) = &p.tenant {
            set("OIDC_TENANT", quoted(tenant));
        }
        set("OIDC_SCOPE", quoted(&p.scopes.join(" ")));
        set("OIDC_DISCOVERY_URI", quoted(&p.discovery_url));
        set("OIDC_USE_NONCE", boolean(p.use_nonce));
        set(
            "OIDC_PREFERRED_JWS",
            quoted(algorithm(p.token_validation_algorithm)),
        );
        set("OIDC_RESPONSE_TYPE", quoted(response_type(p.response_type)));
        set("OIDC_DISABLE_PKCE", boolean(!p.use_pkce));
        set("OIDC_CALLBACK", quoted(&p.callback_url));
        set(
            "OIDC_SERVER_URL",
            quoted(s.external_url.trim_end_matches('/')),
        );
        set(
            "OIDC_CLIENT_AUTH_METHOD",
            quoted(auth_method(p.client_authentication_method)),
        );
        set(
            "OIDC_CUSTOM_PARAMS",
            map(custom_param_pairs(&p.custom_params)),
        );
        set(
            "OIDC_OM_REFRESH_TOKEN_VALIDITY",
            quoted(&p.token_validity_seconds.to_string()),
        );
        if let Some(v) = p.max_clock_skew_seconds {
            set("OIDC_MAX_CLOCK_SKEW", quoted(&v.to_string()));
        }
        if let Some(v) = p.max_age_seconds {
            set("OIDC_MAX_AGE", quoted(&v.to_string()));
        }
        if let Some(v) = p.prompt {
            set("OIDC_PROMPT_TYPE", quoted(prompt(v)));
        }
        if let Some(v) = p.session_expiry_seconds {
            // Deprecated fallback read by servers before 2.0.
            set("OIDC_SESSION_EXPIRY", quoted(&v.to_string()));
        }
    }

    // authorizerConfiguration
    set(
        "AUTHORIZER_CLASS_NAME",
        quoted("org.openmetadata.service.security.DefaultAuthorizer"),
    );
    set(
        "AUTHORIZER_REQUEST_FILTER",
        quoted("org.openmetadata.service.security.JwtFilter"),
    );
    set("AUTHORIZER_ADMIN_PRINCIPALS", list(&a.admin_principals));
    set("AUTHORIZER_PRINCIPAL_DOMAIN", quoted(&a.principal_domain));
    set(
        "AUTHORIZER_ENFORCE_PRINCIPAL_DOMAIN",
        boolean(a.enforce_principal_domain),
    );
    set("AUTHORIZER_ALLOWED_DOMAINS", list(&a.allowed_domains));
    set(
        "AUTHORIZER_ALLOWED_REGISTRATION_DOMAIN",
        list(&a.allowed_email_registration_domains),
    );
    set(
        "AUTHORIZER_USE_ROLES_FROM_PROVIDER",
        boolean(a.use_roles_from_provider),
    );
    set(
        "AUTHORIZER_ENABLE_SECURE_SOCKET",
        boolean(a.enable_secure_socket_connection),
    );

    // jwtTokenConfiguration: absolute paths under the mount of the keys Secret.
    set(
        "RSA_PUBLIC_KEY_FILE_PATH",
        quoted(&format!("{}/{}", s.key_mount_path, keys::PUBLIC_KEY_DER)),
    );
    set(
        "RSA_PRIVATE_KEY_FILE_PATH",
        quoted(&format!("{}/{}", s.key_mount_path, keys::PRIVATE_KEY_DER)),
    );
    set("JWT_ISSUER", quoted(&config.jwt.issuer));
    set("JWT_KEY_ID", quoted(key_id));

    // configSource (2.1+): without ENV, servers since about 1.10 ignore changed settings once the
    // database holds a copy (openmetadata-auth.md §2.5, §2.6).
    let source = match s.config_source {
        ConfigSource::Env => Some("ENV"),
        ConfigSource::Auto => Some("AUTO"),
        ConfigSource::Db => Some("DB"),
        ConfigSource::Omit => None,
    };
    if let Some(source) = source {
        set("SECURITY_CONFIG_SOURCE", quoted(source));
        set(
            "SECURITY_CONFIG_SOURCE_CONFIRM_PROVIDER_CHANGE",
            boolean(s.confirm_provider_change),
        );
    }

    let sensitive = SENSITIVE_VARIABLES
        .iter()
        .filter(|k| env.contains_key(**k))
        .map(std::string::ToString::to_string)
        .collect();
    ServerSettings {
        variables: env,
        sensitive,
    }
}

fn response_type(r: ResponseType) -> &'static str {
    match r {
        ResponseType::Code => "code",
        ResponseType::IdToken => "id_token",
    }
}

fn algorithm(a: TokenAlgorithm) -> &'static str {
    match a {
        TokenAlgorithm::RS256 => "RS256",
        TokenAlgorithm::RS384 => "RS384",
        TokenAlgorithm::RS512 => "RS512",
    }
}

fn auth_method(m: ClientAuthMethod) -> &'static str {
    match m {
        ClientAuthMethod::ClientSecretBasic => "client_secret_basic",
        ClientAuthMethod::ClientSecretPost => "client_secret_post",
        ClientAuthMethod::ClientSecretJwt => "client_secret_jwt",
        ClientAuthMethod::PrivateKeyJwt => "private_key_jwt",
    }
}

fn prompt(p: Prompt) -> &'static str {
    match p {
        Prompt::None => "none",
        Prompt::Login => "login",
        Prompt::Consent => "consent",
        Prompt::SelectAccount => "select_account",
    }
}

/// The custom login parameters as the server reads them: `customParamKey<N>` holds the name and
/// `customParamValue<N>` the value, N from 1, in name order (a stable rendering). Any other key
/// of the map is ignored by the server (`AuthenticationCodeFlowHandler.buildOidcClient`).
fn custom_param_pairs(params: &BTreeMap<String, String>) -> Vec<(String, String)> {
    params
        .iter()
        .enumerate()
        .flat_map(|(i, (name, value))| {
            let n = i + 1;
            [
                (format!("customParamKey{n}"), name.clone()),
                (format!("customParamValue{n}"), value.clone()),
            ]
        })
        .collect()
}
