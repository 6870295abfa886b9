//! One test per validation rule and per default, on specs written as JSON.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::*;
use crate::crd::{ClientType, OidcSsoConfig, ResponseType};

pub(crate) fn resource(spec: Value) -> OidcSsoConfig {
    crate::fixtures::Resource::with_spec(spec).build()
}

/// A minimal confidential-client spec (credentials in Secret `creds`).
pub(crate) fn confidential() -> Value {
    json!({
        "provider": {
            "issuer": "https://idp.example.com/realms/data",
            "clientType": "Confidential",
            "credentialsSecretRef": {"name": "creds"},
        },
        "authorizer": {"adminPrincipals": ["alice"]},
        "server": {"externalUrl": "https://om.example.com"},
    })
}

fn public() -> Value {
    json!({
        "provider": {"issuer": "https://dex.example.com", "clientType": "Public", "clientId": "ui"},
        "authorizer": {"adminPrincipals": ["alice"]},
        "server": {"externalUrl": "https://om.example.com/"},
    })
}

fn data(entries: &[(&str, &str)]) -> ObjectData {
    Some(
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect(),
    )
}

pub(crate) fn creds(id: &str, secret: &str) -> Inputs {
    Inputs {
        credentials: data(&[("clientId", id), ("clientSecret", secret)]),
        ..Inputs::default()
    }
}

fn ok(spec: Value, inputs: &Inputs) -> ValidatedConfig {
    validate(&resource(spec), inputs).unwrap_or_else(|e| panic!("expected valid, got: {e}"))
}

fn errors(spec: Value, inputs: &Inputs) -> Vec<ValidationError> {
    match validate(&resource(spec), inputs) {
        Ok(_) => panic!("expected validation errors"),
        Err(e) => e.0,
    }
}

/// Asserts one error names `field`, has `reason` and mentions `text`.
fn assert_error(errs: &[ValidationError], field: &str, reason: ProblemReason, text: &str) {
    assert!(
        errs.iter()
            .any(|e| e.field == field && e.reason == reason && e.message.contains(text)),
        "no error {field} / {reason:?} / {text:?} in {errs:#?}"
    );
}

fn set(mut spec: Value, pointer: &str, value: Value) -> Value {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let target = if parent.is_empty() {
        &mut spec
    } else {
        spec.pointer_mut(parent).unwrap()
    };
    if target.is_null() {
        *target = json!({});
    }
    target[key] = value;
    spec
}

#[test]
fn a_full_confidential_spec_resolves_with_defaults() {
    let c = ok(confidential(), &creds("om", "s3cret"));
    assert_eq!(c.name, "om");
    assert_eq!(c.namespace, "data");
    assert_eq!(c.provider.client_type, ClientType::Confidential);
    assert_eq!(c.provider.credentials.client_id, "om");
    assert_eq!(
        c.provider
            .credentials
            .client_secret
            .as_ref()
            .unwrap()
            .expose(),
        "s3cret"
    );
    assert_eq!(c.provider.scopes, ["openid", "email", "profile"]);
    assert_eq!(c.provider.response_type, ResponseType::Code);
    assert_eq!(
        c.provider.discovery_url,
        "https://idp.example.com/realms/data/.well-known/openid-configuration"
    );
    assert_eq!(c.provider.callback_url, "https://om.example.com/callback");
    assert_eq!(c.provider.token_validity_seconds, 3600);
    assert!(!c.provider.use_pkce);
    assert!(c.provider.use_nonce);
    assert!(c.provider.verify_discovery);
    assert_eq!(
        c.provider.verify_credentials.as_ref().map(|v| v.method),
        Some(crate::crd::CredentialsMethod::Auto),
        "a Confidential client's secret is checked by default"
    );
    assert!(c.provider.verify_login, "and its login redirect");
    assert_eq!(c.authorizer.principal_domain, "open-metadata.org");
    assert_eq!(
        c.authorizer.jwt_principal_claims,
        ["email", "preferred_username", "sub"]
    );
    assert_eq!(c.authorizer.allowed_email_registration_domains, ["all"]);
    assert!(c.authorizer.enable_self_signup);
    assert_eq!(
        c.jwt.issuer, "om.example.com",
        "JWT issuer defaults to the external host"
    );
    assert_eq!(c.server.internal_url, "http://localhost:8585");
    assert_eq!(c.server.key_mount_path, "/etc/openmetadata/jwtkeys");
    let ingestion = c.ingestion.expect("ingestion is on by default");
    assert_eq!(ingestion.host_port, "http://localhost:8585/api");
    assert_eq!(
        ingestion.bot_token,
        BotToken::EnvVar("OPENMETADATA_JWT_TOKEN".into())
    );
    assert_eq!(c.output.auth_env, "om-auth-env");
    assert_eq!(c.output.jwt_keys, "om-jwt-keys");
    assert_eq!(c.output.ingestion, "om-ingestion");
}

#[test]
fn a_public_client_needs_no_secret_and_defaults_to_id_token() {
    let c = ok(public(), &Inputs::default());
    assert_eq!(c.provider.credentials.client_id, "ui");
    assert!(c.provider.credentials.client_secret.is_none());
    assert_eq!(c.provider.response_type, ResponseType::IdToken);
    assert_eq!(
        c.provider.callback_url, "https://om.example.com/callback",
        "no double slash"
    );
}

#[test]
fn a_public_client_is_not_checked_unless_asked() {
    let c = ok(public(), &Inputs::default());
    assert_eq!(c.provider.verify_credentials, None);
    assert!(!c.provider.verify_login);
    let c = ok(
        set(public(), "/provider/verify", json!({"loginRedirect": true})),
        &Inputs::default(),
    );
    assert!(c.provider.verify_login);
}

#[test]
fn the_deprecated_client_credentials_flag_still_decides_the_method() {
    use crate::crd::CredentialsMethod as M;
    let method = |verify: Value| {
        ok(
            set(confidential(), "/provider/verify", verify),
            &creds("om", "s"),
        )
        .provider
        .verify_credentials
        .map(|v| v.method)
    };
    assert_eq!(
        method(json!({"clientCredentials": true})),
        Some(M::ClientCredentials)
    );
    assert_eq!(method(json!({"clientCredentials": false})), None);
    assert_eq!(method(json!({"credentials": {"method": "Disabled"}})), None);
    assert_eq!(
        method(json!({"credentials": {"audience": "https://api.example.com"}})),
        Some(M::Auto)
    );
    let errs = errors(
        set(
            confidential(),
            "/provider/verify",
            json!({"credentials": {"method": "Introspection", "scopes": ["api://x/.default"]}}),
        ),
        &creds("om", "s"),
    );
    assert_error(
        &errs,
        "spec.provider.verify.credentials",
        ProblemReason::InvalidSpec,
        "only with the client-credentials grant",
    );
}

#[test]
fn an_azure_tenant_must_agree_with_the_issuer() {
    let entra = |issuer: &str, tenant: &str| {
        let spec = set(confidential(), "/provider/issuer", json!(issuer));
        let spec = set(spec, "/provider/oidcType", json!("azure"));
        set(spec, "/provider/tenant", json!(tenant))
    };
    let c = ok(
        entra(
            "https://login.microsoftonline.com/organizations/v2.0",
            "organizations",
        ),
        &creds("om", "s"),
    );
    assert_eq!(c.provider.tenant.as_deref(), Some("organizations"));
    let errs = errors(
        entra("https://login.microsoftonline.com/8eaef023/v2.0", "common"),
        &creds("om", "s"),
    );
    assert_error(
        &errs,
        "spec.provider.tenant",
        ProblemReason::InvalidSpec,
        "names tenant \"8eaef023\"",
    );
    // Another host (a proxy, a test provider) is not second-guessed.
    ok(
        entra("https://sso.example.com/8eaef023/v2.0", "common"),
        &creds("om", "s"),
    );
}

#[test]
fn extra_public_key_urls_must_be_https_unless_allowed() {
    let spec = set(
        confidential(),
        "/provider/extraPublicKeyUrls",
        json!(["http://keys.example.com/jwks"]),
    );
    let errs = errors(spec.clone(), &creds("om", "s"));
    assert_error(
        &errs,
        "spec.provider.extraPublicKeyUrls[0]",
        ProblemReason::InsecureUrl,
        "not https",
    );
    ok(
        set(spec, "/provider/allowInsecureHttp", json!(true)),
        &creds("om", "s"),
    );
}

#[test]
fn issuer_urls_are_kept_exactly_as_written() {
    let spec = set(
        public(),
        "/provider/issuer",
        json!("https://accounts.example.com"),
    );
    let c = ok(spec, &Inputs::default());
    assert_eq!(
        c.provider.issuer, "https://accounts.example.com",
        "no trailing slash added"
    );
    assert_eq!(
        c.provider.discovery_url,
        "https://accounts.example.com/.well-known/openid-configuration"
    );
    let spec = set(
        public(),
        "/provider/issuer",
        json!("https://idp.example.com/realms/data/"),
    );
    let c = ok(spec, &Inputs::default());
    assert_eq!(
        c.provider.discovery_url,
        "https://idp.example.com/realms/data/.well-known/openid-configuration"
    );
}

#[test]
fn a_malformed_url_names_its_field() {
    let errs = errors(
        set(public(), "/provider/issuer", json!("not a url")),
        &Inputs::default(),
    );
    assert_error(
        &errs,
        "spec.provider.issuer",
        ProblemReason::InvalidSpec,
        "is not a URL",
    );
    let errs = errors(
        set(
            public(),
            "/server/externalUrl",
            json!("ftp://om.example.com"),
        ),
        &Inputs::default(),
    );
    assert_error(
        &errs,
        "spec.server.externalUrl",
        ProblemReason::InvalidSpec,
        "must use http or https",
    );
    let errs = errors(
        set(
            public(),
            "/provider/callbackUrl",
            json!("https://u:p@om.example.com/cb"),
        ),
        &Inputs::default(),
    );
    assert_error(
        &errs,
        "spec.provider.callbackUrl",
        ProblemReason::InvalidSpec,
        "credentials",
    );
    let errs = errors(
        set(
            public(),
            "/provider/jwksUrl",
            json!("https://idp.example.com/keys#x"),
        ),
        &Inputs::default(),
    );
    assert_error(
        &errs,
        "spec.provider.jwksUrl",
        ProblemReason::InvalidSpec,
        "fragment",
    );
}

#[test]
fn an_http_issuer_needs_allow_insecure_http() {
    let spec = set(public(), "/provider/issuer", json!("http://127.0.0.1:8080"));
    let errs = errors(spec.clone(), &Inputs::default());
    assert_error(
        &errs,
        "spec.provider.issuer",
        ProblemReason::InsecureUrl,
        "allowInsecureHttp",
    );
    ok(
        set(spec, "/provider/allowInsecureHttp", json!(true)),
        &Inputs::default(),
    );
}

#[test]
fn without_discovery_the_jwks_url_is_required() {
    let spec = set(public(), "/provider/verify", json!({"discovery": false}));
    let errs = errors(spec.clone(), &Inputs::default());
    assert_error(
        &errs,
        "spec.provider.jwksUrl",
        ProblemReason::InvalidSpec,
        "verify.discovery is false",
    );
    ok(
        set(
            spec,
            "/provider/jwksUrl",
            json!("https://dex.example.com/keys"),
        ),
        &Inputs::default(),
    );
}

#[test]
fn a_missing_credentials_secret_is_named() {
    let errs = errors(confidential(), &Inputs::default());
    assert_error(
        &errs,
        "spec.provider.credentialsSecretRef.name",
        ProblemReason::CredentialsSecretNotFound,
        "\"creds\"",
    );
}

#[test]
fn a_confidential_client_needs_the_secret_key() {
    let inputs = Inputs {
        credentials: data(&[("clientId", "om")]),
        ..Inputs::default()
    };
    let errs = errors(confidential(), &inputs);
    assert_error(
        &errs,
        "spec.provider.credentialsSecretRef",
        ProblemReason::InvalidCredentials,
        "no client secret (key \"clientSecret\")",
    );
}

#[test]
fn an_explicitly_named_key_must_exist() {
    let spec = set(
        confidential(),
        "/provider/credentialsSecretRef/clientSecretKey",
        json!("password"),
    );
    let errs = errors(spec, &creds("om", "s"));
    assert_error(
        &errs,
        "spec.provider.credentialsSecretRef.clientSecretKey",
        ProblemReason::InvalidCredentials,
        "no key \"password\"",
    );
}

#[test]
fn the_client_id_may_come_from_the_spec_and_must_agree_with_the_secret() {
    let spec = set(confidential(), "/provider/clientId", json!("om"));
    let inputs = Inputs {
        credentials: data(&[("clientSecret", "s")]),
        ..Inputs::default()
    };
    assert_eq!(
        ok(spec.clone(), &inputs).provider.credentials.client_id,
        "om"
    );
    let errs = errors(spec, &creds("other", "s"));
    assert_error(
        &errs,
        "spec.provider.clientId",
        ProblemReason::InvalidCredentials,
        "differs",
    );
}

#[test]
fn a_missing_client_id_is_reported() {
    let inputs = Inputs {
        credentials: data(&[("clientSecret", "s")]),
        ..Inputs::default()
    };
    let errs = errors(confidential(), &inputs);
    assert_error(
        &errs,
        "spec.provider.credentialsSecretRef",
        ProblemReason::InvalidCredentials,
        "spec.provider.clientId is not set",
    );
}

#[test]
fn a_trailing_newline_is_dropped_but_other_whitespace_kept() {
    let c = ok(confidential(), &creds("om\n", " s3cret \r\n"));
    assert_eq!(c.provider.credentials.client_id, "om");
    assert_eq!(
        c.provider.credentials.client_secret.unwrap().expose(),
        " s3cret "
    );
}

#[test]
fn empty_and_non_utf8_values_are_rejected() {
    let errs = errors(confidential(), &creds("om", ""));
    assert_error(
        &errs,
        "spec.provider.credentialsSecretRef",
        ProblemReason::InvalidCredentials,
        "is empty",
    );
    let inputs = Inputs {
        credentials: Some(BTreeMap::from([
            ("clientId".into(), b"om".to_vec()),
            ("clientSecret".into(), vec![0xff, 0xfe]),
        ])),
        ..Inputs::default()
    };
    let errs = errors(confidential(), &inputs);
    assert_error(
        &errs,
        "spec.provider.credentialsSecretRef",
        ProblemReason::InvalidCredentials,
        "not UTF-8",
    );
}

#[test]
fn json_credentials_documents_in_the_common_shapes_are_accepted() {
    let spec = set(
        confidential(),
        "/provider/credentialsSecretRef",
        json!({"name": "creds", "jsonKey": "client.json"}),
    );
    for doc in [
        r#"{"client_id": "om", "client_secret": "s"}"#,
        r#"{"clientId": "om", "clientSecret": "s"}"#,
        r#"{"web": {"client_id": "om", "client_secret": "s", "auth_uri": "x"}}"#,
        r#"{"installed": {"client_id": "om", "client_secret": "s"}}"#,
    ] {
        let inputs = Inputs {
            credentials: data(&[("client.json", doc)]),
            ..Inputs::default()
        };
        let c = ok(spec.clone(), &inputs);
        assert_eq!(c.provider.credentials.client_id, "om", "{doc}");
        assert_eq!(
            c.provider.credentials.client_secret.unwrap().expose(),
            "s",
            "{doc}"
        );
    }
}

#[test]
fn a_malformed_json_document_is_reported_without_quoting_it() {
    let spec = set(
        confidential(),
        "/provider/credentialsSecretRef",
        json!({"name": "creds", "jsonKey": "client.json"}),
    );
    let inputs = Inputs {
        credentials: data(&[("client.json", r#"{"client_secret": SUPERSECRET}"#)]),
        ..Inputs::default()
    };
    let errs = errors(spec.clone(), &inputs);
    assert_error(
        &errs,
        "spec.provider.credentialsSecretRef.jsonKey",
        ProblemReason::InvalidCredentials,
        "is not valid JSON (line 1, column",
    );
    assert!(!format!("{errs:?}").contains("SUPERSECRET"));
    let inputs = Inputs {
        credentials: data(&[("client.json", r#"{"client_secret": 42}"#)]),
        ..Inputs::default()
    };
    let errs = errors(spec.clone(), &inputs);
    assert_error(
        &errs,
        "spec.provider.credentialsSecretRef.jsonKey",
        ProblemReason::InvalidCredentials,
        "not a string",
    );
    let inputs = Inputs {
        credentials: data(&[("client.json", r#"{"other": {"k": "v"}}"#)]),
        ..Inputs::default()
    };
    let errs = errors(spec.clone(), &inputs);
    assert_error(
        &errs,
        "spec.provider.credentialsSecretRef.jsonKey",
        ProblemReason::InvalidCredentials,
        "neither client_id nor client_secret",
    );
    let inputs = Inputs {
        credentials: data(&[("client.json", "[1]")]),
        ..Inputs::default()
    };
    assert_error(
        &errors(spec, &inputs),
        "spec.provider.credentialsSecretRef.jsonKey",
        ProblemReason::InvalidCredentials,
        "not a JSON object",
    );
}

#[test]
fn admin_principals_must_be_user_names() {
    let errs = errors(
        set(public(), "/authorizer/adminPrincipals", json!([])),
        &Inputs::default(),
    );
    assert_error(
        &errs,
        "spec.authorizer.adminPrincipals",
        ProblemReason::InvalidSpec,
        "at least one",
    );
    let errs = errors(
        set(
            public(),
            "/authorizer/adminPrincipals",
            json!(["alice@example.com", " "]),
        ),
        &Inputs::default(),
    );
    assert_error(
        &errs,
        "spec.authorizer.adminPrincipals[0]",
        ProblemReason::InvalidSpec,
        "before @",
    );
    assert_error(
        &errs,
        "spec.authorizer.adminPrincipals[1]",
        ProblemReason::InvalidSpec,
        "not empty",
    );
}

#[test]
fn the_claims_mapping_needs_username_and_email_only() {
    let errs = errors(
        set(
            public(),
            "/authorizer/jwtPrincipalClaimsMapping",
            json!({"username": "sub"}),
        ),
        &Inputs::default(),
    );
    assert_error(
        &errs,
        "spec.authorizer.jwtPrincipalClaimsMapping",
        ProblemReason::InvalidSpec,
        "needs email",
    );
    let errs = errors(
        set(
            public(),
            "/authorizer/jwtPrincipalClaimsMapping",
            json!({"username": "sub", "email": "email", "team": "g"}),
        ),
        &Inputs::default(),
    );
    assert_error(
        &errs,
        "spec.authorizer.jwtPrincipalClaimsMapping.team",
        ProblemReason::InvalidSpec,
        "only username and email",
    );
}

#[test]
fn scopes_must_include_openid_and_be_single_words() {
    let errs = errors(
        set(public(), "/provider/scopes", json!(["email"])),
        &Inputs::default(),
    );
    assert_error(
        &errs,
        "spec.provider.scopes",
        ProblemReason::InvalidSpec,
        "must include openid",
    );
    let errs = errors(
        set(public(), "/provider/scopes", json!(["openid", "a b"])),
        &Inputs::default(),
    );
    assert_error(
        &errs,
        "spec.provider.scopes[1]",
        ProblemReason::InvalidSpec,
        "without spaces",
    );
}

#[test]
fn rotation_periods_are_parsed_and_bounded() {
    let c = ok(
        set(public(), "/jwt", json!({"rotation": {"every": "90d"}})),
        &Inputs::default(),
    );
    assert_eq!(
        c.jwt.rotate_every,
        Some(std::time::Duration::from_secs(90 * 86400))
    );
    let errs = errors(
        set(public(), "/jwt", json!({"rotation": {"every": "30m"}})),
        &Inputs::default(),
    );
    assert_error(
        &errs,
        "spec.jwt.rotation.every",
        ProblemReason::InvalidSpec,
        "shorter than 1h",
    );
    let errs = errors(
        set(public(), "/jwt", json!({"rotation": {"every": "10w"}})),
        &Inputs::default(),
    );
    assert_error(
        &errs,
        "spec.jwt.rotation.every",
        ProblemReason::InvalidSpec,
        "unknown unit",
    );
    let spec = set(
        public(),
        "/jwt",
        json!({"rotation": {"every": "90d"}, "keySecretRef": {"name": "k"}}),
    );
    let inputs = Inputs {
        own_keys: data(&[("private_key.pem", "x")]),
        ..Inputs::default()
    };
    assert_error(
        &errors(spec, &inputs),
        "spec.jwt.rotation.every",
        ProblemReason::InvalidSpec,
        "cannot rotate keys you bring",
    );
}

#[test]
fn own_keys_must_exist_with_a_private_key() {
    let spec = set(public(), "/jwt", json!({"keySecretRef": {"name": "k"}}));
    let errs = errors(spec.clone(), &Inputs::default());
    assert_error(
        &errs,
        "spec.jwt.keySecretRef.name",
        ProblemReason::ReferenceNotFound,
        "\"k\"",
    );
    let inputs = Inputs {
        own_keys: data(&[("other", "x")]),
        ..Inputs::default()
    };
    assert_error(
        &errors(spec.clone(), &inputs),
        "spec.jwt.keySecretRef.privateKeyKey",
        ProblemReason::InvalidReference,
        "none of the keys",
    );
    let inputs = Inputs {
        own_keys: data(&[("tls.key", "PEM")]),
        ..Inputs::default()
    };
    assert_eq!(
        ok(spec, &inputs).jwt.own_private_key.unwrap().expose(),
        b"PEM"
    );
}

#[test]
fn the_key_mount_path_must_be_absolute() {
    let errs = errors(
        set(public(), "/server/keyMountPath", json!("conf/keys")),
        &Inputs::default(),
    );
    assert_error(
        &errs,
        "spec.server.keyMountPath",
        ProblemReason::InvalidSpec,
        "absolute path",
    );
    let errs = errors(
        set(public(), "/server/keyMountPath", json!("/etc/../keys")),
        &Inputs::default(),
    );
    assert_error(
        &errs,
        "spec.server.keyMountPath",
        ProblemReason::InvalidSpec,
        "without ..",
    );
    let c = ok(
        set(public(), "/server/keyMountPath", json!("/keys/")),
        &Inputs::default(),
    );
    assert_eq!(c.server.key_mount_path, "/keys");
}

#[test]
fn a_bot_token_secret_must_exist_and_hold_one_token() {
    let spec = set(
        public(),
        "/ingestion",
        json!({"botTokenSecretRef": {"name": "bot", "key": "token"}}),
    );
    assert_error(
        &errors(spec.clone(), &Inputs::default()),
        "spec.ingestion.botTokenSecretRef.name",
        ProblemReason::ReferenceNotFound,
        "\"bot\"",
    );
    let inputs = Inputs {
        bot_token: data(&[("jwt", "x")]),
        ..Inputs::default()
    };
    assert_error(
        &errors(spec.clone(), &inputs),
        "spec.ingestion.botTokenSecretRef.key",
        ProblemReason::InvalidReference,
        "no key \"token\"",
    );
    let inputs = Inputs {
        bot_token: data(&[("token", "two words")]),
        ..Inputs::default()
    };
    assert_error(
        &errors(spec.clone(), &inputs),
        "spec.ingestion.botTokenSecretRef",
        ProblemReason::InvalidReference,
        "does not hold a token",
    );
    let inputs = Inputs {
        bot_token: data(&[("token", "eyJ.x.y\n")]),
        ..Inputs::default()
    };
    let c = ok(spec, &inputs);
    assert_eq!(
        c.ingestion.unwrap().bot_token,
        BotToken::Value(crate::sensitive::Sensitive::new("eyJ.x.y".into()))
    );
}

#[test]
fn the_legacy_ingestion_form_needs_the_client_secret() {
    let mut spec = public();
    spec["provider"]["credentialsSecretRef"] = json!({"name": "creds"});
    spec["provider"].as_object_mut().unwrap().remove("clientId");
    spec["ingestion"] = json!({"authProvider": "custom-oidc"});
    let inputs = Inputs {
        credentials: data(&[("clientId", "ui")]),
        ..Inputs::default()
    };
    assert_error(
        &errors(spec, &inputs),
        "spec.provider.credentialsSecretRef",
        ProblemReason::InvalidCredentials,
        "custom-oidc",
    );
}

#[test]
fn a_ca_bundle_must_hold_a_pem_certificate() {
    let spec = set(
        public(),
        "/provider/caBundle",
        json!({"configMapRef": {"name": "ca", "key": "ca.crt"}}),
    );
    assert_error(
        &errors(spec.clone(), &Inputs::default()),
        "spec.provider.caBundle.configMapRef.name",
        ProblemReason::ReferenceNotFound,
        "ConfigMap \"ca\"",
    );
    let inputs = Inputs {
        ca_bundle: data(&[("ca.crt", "junk")]),
        ..Inputs::default()
    };
    assert_error(
        &errors(spec.clone(), &inputs),
        "spec.provider.caBundle.configMapRef",
        ProblemReason::InvalidReference,
        "no PEM certificate",
    );
    let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    let inputs = Inputs {
        ca_bundle: data(&[("ca.crt", pem)]),
        ..Inputs::default()
    };
    assert_eq!(
        ok(spec, &inputs).provider.ca_bundle.unwrap(),
        pem.as_bytes()
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let mut spec = set(confidential(), "/provider/scopes", json!(["email"]));
    spec["authorizer"]["adminPrincipals"] = json!([]);
    let errs = errors(spec, &Inputs::default());
    assert!(errs.len() >= 3, "{errs:#?}");
    let summary = ValidationErrors(errs).summary();
    assert!(
        summary.contains("spec.provider.scopes")
            && summary.contains("spec.authorizer.adminPrincipals"),
        "{summary}"
    );
}

#[test]
fn no_error_message_contains_a_secret_value() {
    let errs = errors(
        set(confidential(), "/provider/clientId", json!("other")),
        &creds("om", "TOPSECRET"),
    );
    assert!(!format!("{errs:?}").contains("TOPSECRET"));
}

#[test]
fn the_owned_secrets_need_three_names_of_their_own() {
    let mut spec = confidential();
    spec["output"] = json!({"authEnvSecretName": "om-jwt-keys"});
    let errs = errors(spec, &creds("id", "s"));
    assert_error(
        &errs,
        "spec.output.jwtKeysSecretName",
        ProblemReason::InvalidSpec,
        "also spec.output.authEnvSecretName",
    );
    let mut spec = confidential();
    spec["output"] = json!({"ingestionSecretName": "creds"});
    let errs = errors(spec, &creds("id", "s"));
    assert_error(
        &errs,
        "spec.output.ingestionSecretName",
        ProblemReason::InvalidSpec,
        "a Secret this resource reads",
    );
}

#[test]
fn names_that_could_address_another_object_are_refused() {
    let mut spec = confidential();
    spec["provider"]["credentialsSecretRef"]["name"] = json!("?");
    spec["targets"] = json!([{"kind": "Deployment", "name": "om/status"}]);
    let errs = errors(spec, &Inputs::default());
    assert_error(
        &errs,
        "spec.provider.credentialsSecretRef.name",
        ProblemReason::InvalidSpec,
        "not a Kubernetes object name",
    );
    assert_error(
        &errs,
        "spec.targets[0].name",
        ProblemReason::InvalidSpec,
        "not a Kubernetes object name",
    );
}

#[test]
fn a_resource_name_must_fit_in_a_label_value() {
    let mut r = resource(confidential());
    r.metadata.name = Some("a".repeat(64));
    let errs = validate(&r, &creds("id", "s")).expect_err("too long").0;
    assert_error(
        &errs,
        "metadata.name",
        ProblemReason::InvalidSpec,
        "at most 63",
    );
}

#[test]
fn a_client_id_read_from_a_secret_is_named_by_where_it_is_read_never_by_its_value() {
    let config = ok(confidential(), &creds("value-from-a-secret", "s"));
    let label = &config.provider.credentials.client_label;
    assert!(!label.contains("value-from-a-secret"), "{label}");
    assert!(
        label.contains("Secret \"creds\"") && label.contains("clientId"),
        "{label}"
    );
    let mut spec = confidential();
    spec["provider"]["clientId"] = json!("ui");
    let config = ok(spec, &creds("ui", "s"));
    assert_eq!(config.provider.credentials.client_label, "client \"ui\"");
}

#[test]
fn custom_params_are_at_most_five_and_never_what_the_server_sets_itself() {
    let mut spec = confidential();
    spec["provider"]["customParams"] =
        json!({"a": "1", "b": "2", "c": "3", "d": "4", "e": "5", "f": "6"});
    assert_error(
        &errors(spec, &creds("id", "s")),
        "spec.provider.customParams",
        ProblemReason::InvalidSpec,
        "at most 5",
    );
    let mut spec = confidential();
    spec["provider"]["customParams"] = json!({"redirect_uri": "https://evil.example.com"});
    assert_error(
        &errors(spec, &creds("id", "s")),
        "spec.provider.customParams.redirect_uri",
        ProblemReason::InvalidSpec,
        "set by the server itself",
    );
}

#[test]
fn the_provider_type_is_matched_as_the_server_matches_it_and_azure_needs_a_tenant() {
    let mut spec = confidential();
    spec["provider"]["oidcType"] = json!("Azure");
    assert_error(
        &errors(spec.clone(), &creds("id", "s")),
        "spec.provider.tenant",
        ProblemReason::InvalidSpec,
        "required with oidcType azure",
    );
    spec["provider"]["tenant"] = json!("contoso.onmicrosoft.com");
    let config = ok(spec, &creds("id", "s"));
    assert_eq!(config.provider.oidc_type, "azure");
    let mut spec = confidential();
    spec["provider"]["oidcType"] = json!("GOOGLE");
    assert_eq!(ok(spec, &creds("id", "s")).provider.oidc_type, "google");
    let mut spec = confidential();
    spec["provider"]["oidcType"] = json!("Keycloak");
    assert_eq!(ok(spec, &creds("id", "s")).provider.oidc_type, "Keycloak");
    let mut spec = confidential();
    spec["provider"]["oidcType"] = json!(" azure");
    assert_error(
        &errors(spec, &creds("id", "s")),
        "spec.provider.oidcType",
        ProblemReason::InvalidSpec,
        "start or end with a space",
    );
}

#[test]
fn a_bot_token_variable_name_that_is_no_shell_name_is_named() {
    for name in ["A\nhostPort: x", "1A", "A-B", "A\"B", ""] {
        let spec = set(
            confidential(),
            "/ingestion",
            json!({"botTokenEnvVar": name}),
        );
        let errs = errors(spec, &creds("om", "s"));
        assert_error(
            &errs,
            "spec.ingestion.botTokenEnvVar",
            ProblemReason::InvalidSpec,
            "environment variable name",
        );
    }
}
