//! The validate driver: walks the spec field by field, applies defaults, and collects every
//! problem instead of stopping at the first, so one edit can fix them all.

use url::Url;

use super::credentials::{self, SecretNeed};
use super::*;
use crate::crd::{
    ClientType, IngestionAuthProvider, OidcSsoConfig, OidcSsoConfigSpec, ProviderSpec,
};

const DEFAULT_SCOPES: [&str; 3] = ["openid", "email", "profile"];
const DEFAULT_PRINCIPAL_CLAIMS: [&str; 3] = ["email", "preferred_username", "sub"];
const DEFAULT_INTERNAL_URL: &str = "http://localhost:8585";
const DEFAULT_KEY_MOUNT_PATH: &str = "/etc/openmetadata/jwtkeys";
const DEFAULT_BOT_TOKEN_ENV: &str = "OPENMETADATA_JWT_TOKEN";
const MIN_ROTATION: std::time::Duration = std::time::Duration::from_secs(3600);

/// Validates `resource` against the inputs it references.
pub fn validate(
    resource: &OidcSsoConfig,
    inputs: &Inputs,
) -> Result<ValidatedConfig, ValidationErrors> {
    let mut errors = Vec::new();
    let name = resource.metadata.name.clone().unwrap_or_default();
    if name.is_empty() {
        errors.push(ValidationError::new(
            "metadata.name",
            Reason::InvalidSpec,
            "is required",
        ));
    }
    let namespace = resource
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| "default".into());
    let spec = &resource.spec;

    let server = server(spec, &mut errors);
    let provider = provider(spec, inputs, server.as_ref(), &mut errors);
    let authorizer = authorizer(spec, &mut errors);
    let jwt = jwt(spec, inputs, server.as_ref(), &mut errors);
    let ingestion = ingestion(spec, inputs, server.as_ref(), &mut errors);
    let mut targets = spec.targets.clone();
    targets.sort();
    targets.dedup();
    let output = output_names(spec, &name);

    match (server, provider, authorizer, jwt, ingestion) {
        (Some(server), Some(provider), Some(authorizer), Some(jwt), Some(ingestion))
            if errors.is_empty() =>
        {
            Ok(ValidatedConfig {
                name,
                namespace,
                provider,
                authorizer,
                jwt,
                server,
                ingestion,
                targets,
                output,
                suspend: spec.suspend.unwrap_or(false),
            })
        }
        _ => Err(ValidationErrors(errors)),
    }
}

fn provider(
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
    let verify_client_credentials = verify.client_credentials.unwrap_or(false);
    if p.jwks_url.is_none() && !verify_discovery {
        errors.push(ValidationError::new(
            "spec.provider.jwksUrl",
            Reason::InvalidSpec,
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
                true,
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
        None => DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
    };
    for (i, scope) in scopes.iter().enumerate() {
        if scope.is_empty()
            || scope
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '\\')
        {
            errors.push(ValidationError::new(
                format!("spec.provider.scopes[{i}]"),
                Reason::InvalidSpec,
                "a scope is one non-empty word without spaces, quotes or backslashes",
            ));
        }
    }
    if !scopes.iter().any(|s| s == "openid") {
        errors.push(ValidationError::new(
            "spec.provider.scopes",
            Reason::InvalidSpec,
            "must include openid (OpenMetadata signs users in with OpenID Connect)",
        ));
    }
    if let Some(params) = &p.custom_params
        && params.keys().any(|k| k.is_empty())
    {
        errors.push(ValidationError::new(
            "spec.provider.customParams",
            Reason::InvalidSpec,
            "has an empty parameter name",
        ));
    }
    let response_type = p.response_type.unwrap_or(match p.client_type {
        ClientType::Public => crate::crd::ResponseType::IdToken,
        ClientType::Confidential => crate::crd::ResponseType::Code,
    });
    let need_secret: SecretNeed = if p.client_type == ClientType::Confidential {
        Some("a Confidential client")
    } else if verify_client_credentials {
        Some("spec.provider.verify.clientCredentials")
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
                    Reason::InvalidSpec,
                    "set exactly one of configMapRef and secretRef",
                ));
                return None;
            }
        };
        let bytes = referenced_key(field, kind, key_ref, &inputs.ca_bundle, errors)?;
        if !String::from_utf8_lossy(&bytes).contains("-----BEGIN CERTIFICATE-----") {
            errors.push(ValidationError::new(
                field,
                Reason::InvalidReference,
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
        oidc_type: p.oidc_type.clone().unwrap_or_else(|| "custom-oidc".into()),
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
        verify_discovery,
        verify_client_credentials,
    })
}

fn authorizer(
    spec: &OidcSsoConfigSpec,
    errors: &mut Vec<ValidationError>,
) -> Option<ValidatedAuthorizer> {
    let a = &spec.authorizer;
    let before = errors.len();
    if a.admin_principals.is_empty() {
        errors.push(ValidationError::new(
            "spec.authorizer.adminPrincipals",
            Reason::InvalidSpec,
            "needs at least one user name, or nobody can administer the server",
        ));
    }
    for (i, p) in a.admin_principals.iter().enumerate() {
        if p.trim().is_empty() || p.contains('@') {
            errors.push(ValidationError::new(
                format!("spec.authorizer.adminPrincipals[{i}]"),
                Reason::InvalidSpec,
                "is a user name: the part of the email before @, not empty",
            ));
        }
    }
    let mapping = a.jwt_principal_claims_mapping.clone().unwrap_or_default();
    if !mapping.is_empty() {
        for key in mapping.keys().filter(|k| *k != "username" && *k != "email") {
            errors.push(ValidationError::new(
                format!("spec.authorizer.jwtPrincipalClaimsMapping.{key}"),
                Reason::InvalidSpec,
                "only username and email can be mapped",
            ));
        }
        for key in ["username", "email"]
            .iter()
            .filter(|k| !mapping.contains_key(**k))
        {
            errors.push(ValidationError::new(
                "spec.authorizer.jwtPrincipalClaimsMapping",
                Reason::InvalidSpec,
                format!("needs {key} too (OpenMetadata requires both username and email)"),
            ));
        }
    }
    if errors.len() > before {
        return None;
    }
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    Some(ValidatedAuthorizer {
        admin_principals: a.admin_principals.clone(),
        principal_domain: a
            .principal_domain
            .clone()
            .unwrap_or_else(|| "open-metadata.org".into()),
        enforce_principal_domain: a.enforce_principal_domain.unwrap_or(false),
        allowed_domains: a.allowed_domains.clone().unwrap_or_default(),
        allowed_email_registration_domains: a
            .allowed_email_registration_domains
            .clone()
            .unwrap_or_else(|| strings(&["all"])),
        enable_self_signup: a.enable_self_signup.unwrap_or(true),
        jwt_principal_claims: a
            .jwt_principal_claims
            .clone()
            .unwrap_or_else(|| strings(&DEFAULT_PRINCIPAL_CLAIMS)),
        jwt_principal_claims_mapping: mapping,
        use_roles_from_provider: a.use_roles_from_provider.unwrap_or(false),
        enable_secure_socket_connection: a.enable_secure_socket_connection.unwrap_or(false),
    })
}

fn jwt(
    spec: &OidcSsoConfigSpec,
    inputs: &Inputs,
    server: Option<&ValidatedServer>,
    errors: &mut Vec<ValidationError>,
) -> Option<ValidatedJwt> {
    let j = spec.jwt.clone().unwrap_or_default();
    let before = errors.len();
    let issuer = j.issuer.clone().or_else(|| {
        server.and_then(|s| {
            Url::parse(&s.external_url)
                .ok()?
                .host_str()
                .map(str::to_string)
        })
    });
    let rotate_every = j
        .rotation
        .as_ref()
        .and_then(|r| r.every.as_deref())
        .and_then(|every| match parse_duration(every) {
            Ok(d) if d < MIN_ROTATION => {
                errors.push(ValidationError::new(
                    "spec.jwt.rotation.every",
                    Reason::InvalidSpec,
                    format!(
                        "{every:?} is shorter than 1h; every rotation invalidates all issued tokens"
                    ),
                ));
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                errors.push(ValidationError::new(
                    "spec.jwt.rotation.every",
                    Reason::InvalidSpec,
                    e,
                ));
                None
            }
        });
    if j.rotation.as_ref().and_then(|r| r.every.as_ref()).is_some() && j.key_secret_ref.is_some() {
        errors.push(ValidationError::new(
            "spec.jwt.rotation.every",
            Reason::InvalidSpec,
            "cannot rotate keys you bring through spec.jwt.keySecretRef; rotate them in that Secret",
        ));
    }
    let own_private_key = j.key_secret_ref.as_ref().and_then(|r| {
        let field = "spec.jwt.keySecretRef";
        let Some(data) = &inputs.own_keys else {
            errors.push(ValidationError::new(
                format!("{field}.name"),
                Reason::ReferenceNotFound,
                format!("Secret {:?} was not found in this namespace", r.name),
            ));
            return None;
        };
        let candidates: Vec<&str> = match &r.private_key_key {
            Some(k) => vec![k.as_str()],
            None => vec!["private_key.der", "private_key.pem", "tls.key"],
        };
        let found = candidates.iter().find_map(|k| data.get(*k));
        if found.is_none() {
            errors.push(ValidationError::new(
                format!("{field}.privateKeyKey"),
                Reason::InvalidReference,
                format!("Secret {:?} has none of the keys {candidates:?}", r.name),
            ));
        }
        found.map(|b| Sensitive::new(b.clone()))
    });
    if errors.len() > before {
        return None;
    }
    Some(ValidatedJwt {
        issuer: issuer?,
        key_id: j.key_id.clone(),
        own_private_key,
        rotate_every,
    })
}

fn server(spec: &OidcSsoConfigSpec, errors: &mut Vec<ValidationError>) -> Option<ValidatedServer> {
    let s = &spec.server;
    let external_url = url("spec.server.externalUrl", &s.external_url, errors);
    let internal_url = url(
        "spec.server.internalUrl",
        s.internal_url.as_deref().unwrap_or(DEFAULT_INTERNAL_URL),
        errors,
    );
    let key_mount_path = s
        .key_mount_path
        .clone()
        .unwrap_or_else(|| DEFAULT_KEY_MOUNT_PATH.into());
    if !key_mount_path.starts_with('/')
        || key_mount_path.contains(['\0', '\n'])
        || key_mount_path.split('/').any(|p| p == "..")
    {
        errors.push(ValidationError::new(
            "spec.server.keyMountPath",
            Reason::InvalidSpec,
            "must be an absolute path without .. (the server resolves relative paths against its working directory)",
        ));
        return None;
    }
    Some(ValidatedServer {
        external_url: external_url?,
        internal_url: internal_url?,
        config_source: s.config_source.unwrap_or(crate::crd::ConfigSource::Env),
        confirm_provider_change: s.confirm_provider_change.unwrap_or(false),
        key_mount_path: key_mount_path.trim_end_matches('/').to_string(),
    })
}

/// `Some(None)` when ingestion is disabled; `None` when it is invalid.
fn ingestion(
    spec: &OidcSsoConfigSpec,
    inputs: &Inputs,
    server: Option<&ValidatedServer>,
    errors: &mut Vec<ValidationError>,
) -> Option<Option<ValidatedIngestion>> {
    let i = spec.ingestion.clone().unwrap_or_default();
    if !i.enabled.unwrap_or(true) {
        return Some(None);
    }
    let host_port = match (&i.host_port, server) {
        (Some(u), _) => url("spec.ingestion.hostPort", u, errors)?,
        (None, Some(s)) => join(&s.internal_url, "api"),
        (None, None) => return None,
    };
    let bot_token = match &i.bot_token_secret_ref {
        Some(r) => {
            let bytes = referenced_key(
                "spec.ingestion.botTokenSecretRef",
                "Secret",
                r,
                &inputs.bot_token,
                errors,
            )?;
            let token = std::str::from_utf8(&bytes)
                .ok()
                .map(str::trim)
                .filter(|t| !t.is_empty() && !t.contains(char::is_whitespace));
            let Some(token) = token else {
                errors.push(ValidationError::new(
                    "spec.ingestion.botTokenSecretRef",
                    Reason::InvalidReference,
                    format!(
                        "Secret {:?} key {:?} does not hold a token (one line of text)",
                        r.name, r.key
                    ),
                ));
                return None;
            };
            BotToken::Value(Sensitive::new(token.to_string()))
        }
        None => BotToken::EnvVar(
            i.bot_token_env_var
                .clone()
                .unwrap_or_else(|| DEFAULT_BOT_TOKEN_ENV.into()),
        ),
    };
    Some(Some(ValidatedIngestion {
        host_port,
        auth_provider: i
            .auth_provider
            .unwrap_or(IngestionAuthProvider::OpenMetadata),
        bot_token,
    }))
}

fn output_names(spec: &OidcSsoConfigSpec, name: &str) -> OutputNames {
    let o = spec.output.clone().unwrap_or_default();
    OutputNames {
        auth_env: o
            .auth_env_secret_name
            .unwrap_or_else(|| format!("{name}-auth-env")),
        jwt_keys: o
            .jwt_keys_secret_name
            .unwrap_or_else(|| format!("{name}-jwt-keys")),
        ingestion: o
            .ingestion_secret_name
            .unwrap_or_else(|| format!("{name}-ingestion")),
    }
}

fn referenced_key(
    field: &str,
    kind: &str,
    key_ref: &crate::crd::KeyRef,
    data: &ObjectData,
    errors: &mut Vec<ValidationError>,
) -> Option<Vec<u8>> {
    let Some(data) = data else {
        errors.push(ValidationError::new(
            format!("{field}.name"),
            Reason::ReferenceNotFound,
            format!("{kind} {:?} was not found in this namespace", key_ref.name),
        ));
        return None;
    };
    let value = data.get(&key_ref.key).cloned();
    if value.is_none() {
        errors.push(ValidationError::new(
            format!("{field}.key"),
            Reason::InvalidReference,
            format!("{kind} {:?} has no key {:?}", key_ref.name, key_ref.key),
        ));
    }
    value
}

/// An absolute http(s) URL without credentials or fragment, returned as written.
fn url(field: &str, text: &str, errors: &mut Vec<ValidationError>) -> Option<String> {
    let parsed = match Url::parse(text) {
        Ok(u) => u,
        Err(e) => {
            errors.push(ValidationError::new(
                field,
                Reason::InvalidSpec,
                format!("{text:?} is not a URL ({e})"),
            ));
            return None;
        }
    };
    let problem = if !matches!(parsed.scheme(), "http" | "https") {
        Some("must use http or https")
    } else if parsed.host_str().is_none_or(str::is_empty) {
        Some("has no host")
    } else if !parsed.username().is_empty() || parsed.password().is_some() {
        Some("must not carry credentials")
    } else if parsed.fragment().is_some() {
        Some("must not have a #fragment")
    } else {
        None
    };
    if let Some(problem) = problem {
        errors.push(ValidationError::new(
            field,
            Reason::InvalidSpec,
            format!("{text:?} {problem}"),
        ));
        return None;
    }
    Some(text.to_string())
}

/// A URL the server or the operator fetches keys or metadata from: https unless allowed.
fn provider_url(
    field: &str,
    text: &str,
    insecure_ok: bool,
    errors: &mut Vec<ValidationError>,
) -> Option<String> {
    let u = url(field, text, errors)?;
    if !u.starts_with("https://") && !insecure_ok {
        errors.push(ValidationError::new(
            field,
            Reason::InsecureUrl,
            format!("{text:?} is not https; set spec.provider.allowInsecureHttp: true only for a test provider"),
        ));
        return None;
    }
    Some(u)
}

/// `<issuer>/.well-known/openid-configuration`: the issuer with any trailing slash removed, then
/// the well-known path (OpenID Connect Discovery §4). `Url::join` would instead drop the issuer's
/// last path segment when it has no trailing slash (`/realms/data` → `/realms/.well-known/...`).
pub fn well_known(issuer: &str) -> String {
    join(issuer, ".well-known/openid-configuration")
}

fn join(base: &str, tail: &str) -> String {
    format!("{}/{tail}", base.trim_end_matches('/'))
}
