//! The validate driver: walks the spec field by field, applies defaults, and collects every
//! problem instead of stopping at the first, so one edit can fix them all.

use url::Url;

use super::provider::provider;
use super::urls::{join, referenced_key, url};
use super::*;
use crate::crd::{IngestionAuthProvider, OidcSsoConfig, OidcSsoConfigSpec};

const DEFAULT_PRINCIPAL_CLAIMS: [&str; 3] = ["email", "preferred_username", "sub"];
const DEFAULT_INTERNAL_URL: &str = "http://localhost:8585";
const DEFAULT_KEY_MOUNT_PATH: &str = "/etc/openmetadata/jwtkeys";
/// How long a retired public key stays valid by default: a weekend to renew bots and pipelines.
const DEFAULT_GRACE_PERIOD: std::time::Duration = std::time::Duration::from_secs(72 * 3600);
/// OpenMetadata's application port, where its unauthenticated system endpoints answer.
const DEFAULT_PROOF_PORT: u16 = 8585;
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
            ProblemReason::InvalidSpec,
            "is required",
        ));
    }
    super::names::resource_name(&name, &mut errors);
    let namespace = resource
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| "default".into());
    let spec = &resource.spec;
    super::names::referenced(spec, &mut errors);

    let server = server(spec, &mut errors);
    let provider = provider(spec, inputs, server.as_ref(), &mut errors);
    let authorizer = authorizer(spec, &mut errors);
    let jwt = jwt(spec, inputs, server.as_ref(), &mut errors);
    let ingestion = ingestion(spec, inputs, server.as_ref(), &mut errors);
    if server.as_ref().is_some_and(|s| s.trust_provider_ca) && spec.provider.ca_bundle.is_none() {
        errors.push(ValidationError::new(
            "spec.server.trustProviderCa",
            ProblemReason::InvalidSpec,
            "needs spec.provider.caBundle: the CA to trust",
        ));
    }
    let mut targets = spec.targets.clone();
    targets.sort();
    targets.dedup();
    let output = output_names(spec, &name);
    super::names::outputs(spec, &output, &mut errors);

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

fn authorizer(
    spec: &OidcSsoConfigSpec,
    errors: &mut Vec<ValidationError>,
) -> Option<ValidatedAuthorizer> {
    let a = &spec.authorizer;
    let before = errors.len();
    if a.admin_principals.is_empty() {
        errors.push(ValidationError::new(
            "spec.authorizer.adminPrincipals",
            ProblemReason::InvalidSpec,
            "needs at least one user name, or nobody can administer the server",
        ));
    }
    for (i, p) in a.admin_principals.iter().enumerate() {
        if p.trim().is_empty() || p.contains('@') {
            errors.push(ValidationError::new(
                format!("spec.authorizer.adminPrincipals[{i}]"),
                ProblemReason::InvalidSpec,
                "is a user name: the part of the email before @, not empty",
            ));
        }
    }
    let mapping = a.jwt_principal_claims_mapping.clone().unwrap_or_default();
    if !mapping.is_empty() {
        for key in mapping.keys().filter(|k| *k != "username" && *k != "email") {
            errors.push(ValidationError::new(
                format!("spec.authorizer.jwtPrincipalClaimsMapping.{key}"),
                ProblemReason::InvalidSpec,
                "only username and email can be mapped",
            ));
        }
        for key in ["username", "email"]
            .iter()
            .filter(|k| !mapping.contains_key(**k))
        {
            errors.push(ValidationError::new(
                "spec.authorizer.jwtPrincipalClaimsMapping",
                ProblemReason::InvalidSpec,
                format!("needs {key} too (OpenMetadata requires both username and email)"),
            ));
        }
    }
    if errors.len() > before {
        return None;
    }
    let strings = |v: &[&str]| {
        v.iter()
            .map(std::string::ToString::to_string)
            .collect::<Vec<_>>()
    };
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
                    ProblemReason::InvalidSpec,
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
                    ProblemReason::InvalidSpec,
                    e,
                ));
                None
            }
        });
    let grace_period = match j.rotation.as_ref().and_then(|r| r.grace_period.as_deref()) {
        None => DEFAULT_GRACE_PERIOD,
        Some(text) => match parse_duration(text) {
            Ok(d) => d,
            Err(e) => {
                errors.push(ValidationError::new(
                    "spec.jwt.rotation.gracePeriod",
                    ProblemReason::InvalidSpec,
                    e,
                ));
                DEFAULT_GRACE_PERIOD
            }
        },
    };
    if j.rotation.as_ref().and_then(|r| r.every.as_ref()).is_some() && j.key_secret_ref.is_some() {
        errors.push(ValidationError::new(
            "spec.jwt.rotation.every",
            ProblemReason::InvalidSpec,
            "cannot rotate keys you bring through spec.jwt.keySecretRef; rotate them in that Secret",
        ));
    }
    let own_private_key = j.key_secret_ref.as_ref().and_then(|r| {
        let field = "spec.jwt.keySecretRef";
        let Some(data) = &inputs.own_keys else {
            errors.push(ValidationError::new(
                format!("{field}.name"),
                ProblemReason::ReferenceNotFound,
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
                ProblemReason::InvalidReference,
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
        grace_period,
        renew_bot_tokens: j
            .rotation
            .as_ref()
            .and_then(|r| r.renew_bot_tokens)
            .unwrap_or(false),
        retain_keys: j.deletion_policy != Some(crate::crd::KeysDeletionPolicy::Delete),
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
    // No whitespace either: the truststore's path goes into JDK_JAVA_OPTIONS, which the `java`
    // launcher splits at spaces.
    if !key_mount_path.starts_with('/')
        || key_mount_path.contains(char::is_whitespace)
        || key_mount_path.contains('\0')
        || key_mount_path.split('/').any(|p| p == "..")
    {
        errors.push(ValidationError::new(
            "spec.server.keyMountPath",
            ProblemReason::InvalidSpec,
            "must be an absolute path without .. or spaces (the server resolves relative paths against its working directory)",
        ));
        return None;
    }
    Some(ValidatedServer {
        external_url: external_url?,
        internal_url: internal_url?,
        config_source: s.config_source.unwrap_or(crate::crd::ConfigSource::Env),
        confirm_provider_change: s.confirm_provider_change.unwrap_or(false),
        key_mount_path: key_mount_path.trim_end_matches('/').to_string(),
        trust_provider_ca: s.trust_provider_ca.unwrap_or(false),
        proof_port: proof_port(s.proof.as_ref(), errors)?,
    })
}

/// The port the server proof asks (`Some(None)`: the proof is off); `None` when invalid.
fn proof_port(
    proof: Option<&crate::crd::ProofSpec>,
    errors: &mut Vec<ValidationError>,
) -> Option<Option<u16>> {
    let proof = proof.cloned().unwrap_or_default();
    if !proof.enabled.unwrap_or(true) {
        return Some(None);
    }
    match proof.port.map(u16::try_from) {
        None => Some(Some(DEFAULT_PROOF_PORT)),
        Some(Ok(port)) if port > 0 => Some(Some(port)),
        Some(_) => {
            errors.push(ValidationError::new(
                "spec.server.proof.port",
                ProblemReason::InvalidSpec,
                "must be a TCP port (1 to 65535)",
            ));
            None
        }
    }
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
                    ProblemReason::InvalidReference,
                    format!(
                        "Secret {:?} key {:?} does not hold a token (one line of text)",
                        r.name, r.key
                    ),
                ));
                return None;
            };
            BotToken::Value(Sensitive::new(token.to_string()))
        }
        None => {
            let name = i
                .bot_token_env_var
                .clone()
                .unwrap_or_else(|| DEFAULT_BOT_TOKEN_ENV.into());
            if !is_env_name(&name) {
                errors.push(ValidationError::new(
                    "spec.ingestion.botTokenEnvVar",
                    ProblemReason::InvalidSpec,
                    "must be an environment variable name: letters, digits and _, not starting with a digit",
                ));
                return None;
            }
            BotToken::EnvVar(name)
        }
    };
    Some(Some(ValidatedIngestion {
        host_port,
        auth_provider: i
            .auth_provider
            .unwrap_or(IngestionAuthProvider::OpenMetadata),
        bot_token,
        legacy_token_endpoint: i.legacy_token_endpoint.unwrap_or(false),
    }))
}

/// `[A-Za-z_][A-Za-z0-9_]*`, as the schema's pattern says.
fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
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
