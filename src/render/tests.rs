//! One test per rendered setting family, the hash rules and the workflowConfig forms.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::{Value, json};

use super::*;
use crate::keys::KeyMaterial;
use crate::validate::{Inputs, ObjectData, ValidatedConfig, validate};

/// One key pair for all tests (generation is slow in debug builds).
fn keys() -> &'static KeyMaterial {
    static KEYS: OnceLock<KeyMaterial> = OnceLock::new();
    KEYS.get_or_init(|| KeyMaterial::generate(None).expect("key generation"))
}

fn config(spec: Value, secret: &str) -> ValidatedConfig {
    let resource = crate::fixtures::Resource::with_spec(spec).build();
    let credentials: ObjectData = Some(BTreeMap::from([
        ("clientId".to_string(), b"om-client".to_vec()),
        ("clientSecret".to_string(), secret.as_bytes().to_vec()),
    ]));
    validate(
        &resource,
        &Inputs {
            credentials,
            ..Inputs::default()
        },
    )
    .expect("valid spec")
}

fn confidential() -> Value {
    json!({
        "provider": {
            "displayName": "Keycloak",
            "issuer": "https://idp.example.com/realms/data",
            "jwksUrl": "https://idp.example.com/realms/data/certs",
            "clientType": "Confidential",
            "credentialsSecretRef": {"name": "creds"},
        },
        "authorizer": {"adminPrincipals": ["alice", "bob"], "principalDomain": "example.com"},
        "server": {"externalUrl": "https://om.example.com", "internalUrl": "http://om.data.svc:8585/"},
    })
}

fn public() -> Value {
    json!({
        "provider": {"issuer": "https://dex.example.com", "jwksUrl": "https://dex.example.com/keys",
                     "clientType": "Public", "clientId": "ui"},
        "authorizer": {"adminPrincipals": ["alice"]},
        "server": {"externalUrl": "https://om.example.com"},
    })
}

fn env(spec: Value) -> BTreeMap<String, String> {
    let rendered = render(
        &config(spec, "s3cret"),
        keys(),
        &ProviderEndpoints::default(),
    )
    .unwrap();
    rendered
        .auth_env
        .data
        .into_iter()
        .map(|(k, v)| (k, String::from_utf8(v).unwrap()))
        .collect()
}

#[test]
fn authentication_settings_for_a_confidential_client() {
    let e = env(confidential());
    assert_eq!(e["AUTHENTICATION_PROVIDER"], r#""custom-oidc""#);
    assert_eq!(e["AUTHENTICATION_CLIENT_TYPE"], r#""confidential""#);
    assert_eq!(
        e["CUSTOM_OIDC_AUTHENTICATION_PROVIDER_NAME"],
        r#""Keycloak""#
    );
    assert_eq!(
        e["AUTHENTICATION_AUTHORITY"],
        r#""https://idp.example.com/realms/data""#
    );
    assert_eq!(e["AUTHENTICATION_CLIENT_ID"], r#""om-client""#);
    assert_eq!(
        e["AUTHENTICATION_CALLBACK_URL"], r#""""#,
        "confidential clients leave it blank"
    );
    assert_eq!(e["AUTHENTICATION_RESPONSE_TYPE"], r#""code""#);
    assert_eq!(e["AUTHENTICATION_TOKEN_VALIDATION_ALGORITHM"], r#""RS256""#);
    assert_eq!(
        e["AUTHENTICATION_JWT_PRINCIPAL_CLAIMS"],
        r#"["email","preferred_username","sub"]"#
    );
    assert_eq!(e["AUTHENTICATION_JWT_PRINCIPAL_CLAIMS_MAPPING"], "[]");
    assert_eq!(e["AUTHENTICATION_ENABLE_SELF_SIGNUP"], "true");
    assert!(
        !e.contains_key("AUTHENTICATION_SESSION_EXPIRY"),
        "only when set"
    );
}

#[test]
fn public_key_urls_list_the_retired_keys_the_provider_the_server_itself_then_extras_once() {
    let mut spec = confidential();
    spec["provider"]["extraPublicKeyUrls"] = json!([
        "https://other.example.com/keys",
        "https://idp.example.com/realms/data/certs"
    ]);
    assert_eq!(
        env(spec)["AUTHENTICATION_PUBLIC_KEYS"],
        r#"["file:/etc/openmetadata/jwtkeys/retired_jwks.json","https://idp.example.com/realms/data/certs","http://om.data.svc:8585/api/v1/system/config/jwks","https://other.example.com/keys"]"#
    );
}

#[test]
fn the_discovered_jwks_uri_is_used_unless_one_is_configured() {
    let mut spec = confidential();
    spec["provider"].as_object_mut().unwrap().remove("jwksUrl");
    let c = config(spec, "s");
    assert_eq!(
        render(&c, keys(), &ProviderEndpoints::default()),
        Err(RenderError::MissingJwksUrl)
    );
    let found = ProviderEndpoints {
        jwks_uri: Some("https://idp.example.com/found".into()),
        token_endpoint: None,
    };
    let r = render(&c, keys(), &found).unwrap();
    assert!(
        String::from_utf8_lossy(&r.auth_env.data["AUTHENTICATION_PUBLIC_KEYS"]).starts_with(
            r#"["file:/etc/openmetadata/jwtkeys/retired_jwks.json","https://idp.example.com/found""#
        )
    );
    let configured = config(confidential(), "s");
    let r = render(&configured, keys(), &found).unwrap();
    assert!(
        String::from_utf8_lossy(&r.auth_env.data["AUTHENTICATION_PUBLIC_KEYS"])
            .starts_with(r#"["file:/etc/openmetadata/jwtkeys/retired_jwks.json","https://idp.example.com/realms/data/certs""#)
    );
}

#[test]
fn oidc_settings_for_a_confidential_client() {
    let mut spec = confidential();
    let p = &mut spec["provider"];
    p["scopes"] = json!(["openid", "email", "offline_access"]);
    p["usePkce"] = json!(true);
    p["useNonce"] = json!(false);
    p["clientAuthenticationMethod"] = json!("client_secret_basic");
    p["customParams"] = json!({"kc_idp_hint": "corp", "a": "b"});
    p["maxClockSkewSeconds"] = json!(30);
    p["tokenValiditySeconds"] = json!(7200);
    p["maxAgeSeconds"] = json!(0);
    p["prompt"] = json!("select_account");
    p["sessionExpirySeconds"] = json!(86400);
    p["oidcType"] = json!("Keycloak");
    let e = env(spec);
    assert_eq!(e["OIDC_CLIENT_ID"], r#""om-client""#);
    assert_eq!(e["OIDC_CLIENT_SECRET"], r#""s3cret""#);
    assert_eq!(e["OIDC_TYPE"], r#""Keycloak""#);
    assert_eq!(e["OIDC_SCOPE"], r#""openid email offline_access""#);
    assert_eq!(
        e["OIDC_DISCOVERY_URI"],
        r#""https://idp.example.com/realms/data/.well-known/openid-configuration""#
    );
    assert_eq!(e["OIDC_USE_NONCE"], "false");
    assert_eq!(e["OIDC_PREFERRED_JWS"], r#""RS256""#);
    assert_eq!(e["OIDC_RESPONSE_TYPE"], r#""code""#);
    assert_eq!(e["OIDC_DISABLE_PKCE"], "false");
    assert_eq!(e["OIDC_CALLBACK"], r#""https://om.example.com/callback""#);
    assert_eq!(e["OIDC_SERVER_URL"], r#""https://om.example.com""#);
    assert_eq!(e["OIDC_CLIENT_AUTH_METHOD"], r#""client_secret_basic""#);
    assert_eq!(
        e["OIDC_CUSTOM_PARAMS"],
        r#"{"customParamKey1": "a","customParamValue1": "b","customParamKey2": "kc_idp_hint","customParamValue2": "corp"}"#
    );
    assert_eq!(e["OIDC_MAX_CLOCK_SKEW"], r#""30""#);
    assert_eq!(e["OIDC_OM_REFRESH_TOKEN_VALIDITY"], r#""7200""#);
    assert_eq!(e["OIDC_MAX_AGE"], r#""0""#);
    assert_eq!(e["OIDC_PROMPT_TYPE"], r#""select_account""#);
    assert_eq!(e["OIDC_SESSION_EXPIRY"], r#""86400""#);
    assert_eq!(e["AUTHENTICATION_SESSION_EXPIRY"], r#""86400""#);
}

#[test]
fn custom_params_are_an_empty_map_not_an_empty_string() {
    assert_eq!(env(confidential())["OIDC_CUSTOM_PARAMS"], "{}");
}

#[test]
fn a_public_client_renders_no_oidc_configuration() {
    let e = env(public());
    assert_eq!(e["AUTHENTICATION_CLIENT_TYPE"], r#""public""#);
    assert_eq!(
        e["AUTHENTICATION_CALLBACK_URL"],
        r#""https://om.example.com/callback""#
    );
    assert_eq!(e["AUTHENTICATION_RESPONSE_TYPE"], r#""id_token""#);
    assert!(e.keys().all(|k| !k.starts_with("OIDC_")), "{e:?}");
}

#[test]
fn authorizer_settings() {
    let mut spec = confidential();
    spec["authorizer"] = json!({
        "adminPrincipals": ["alice", "bob"], "principalDomain": "example.com", "enforcePrincipalDomain": true,
        "allowedDomains": ["example.org"], "allowedEmailRegistrationDomains": ["example.com"],
        "enableSelfSignup": false, "jwtPrincipalClaims": ["email"],
        "jwtPrincipalClaimsMapping": {"username": "preferred_username", "email": "mail"},
        "useRolesFromProvider": true, "enableSecureSocketConnection": true,
    });
    let e = env(spec);
    assert_eq!(
        e["AUTHORIZER_CLASS_NAME"],
        r#""org.openmetadata.service.security.DefaultAuthorizer""#
    );
    assert_eq!(
        e["AUTHORIZER_REQUEST_FILTER"],
        r#""org.openmetadata.service.security.JwtFilter""#
    );
    assert_eq!(e["AUTHORIZER_ADMIN_PRINCIPALS"], r#"["alice","bob"]"#);
    assert_eq!(e["AUTHORIZER_PRINCIPAL_DOMAIN"], r#""example.com""#);
    assert_eq!(e["AUTHORIZER_ENFORCE_PRINCIPAL_DOMAIN"], "true");
    assert_eq!(e["AUTHORIZER_ALLOWED_DOMAINS"], r#"["example.org"]"#);
    assert_eq!(
        e["AUTHORIZER_ALLOWED_REGISTRATION_DOMAIN"],
        r#"["example.com"]"#
    );
    assert_eq!(e["AUTHORIZER_USE_ROLES_FROM_PROVIDER"], "true");
    assert_eq!(e["AUTHORIZER_ENABLE_SECURE_SOCKET"], "true");
    assert_eq!(e["AUTHENTICATION_ENABLE_SELF_SIGNUP"], "false");
    assert_eq!(e["AUTHENTICATION_JWT_PRINCIPAL_CLAIMS"], r#"["email"]"#);
    assert_eq!(
        e["AUTHENTICATION_JWT_PRINCIPAL_CLAIMS_MAPPING"],
        r#"["email:mail","username:preferred_username"]"#
    );
}

#[test]
fn jwt_settings_point_into_the_key_mount() {
    let mut spec = confidential();
    spec["server"]["keyMountPath"] = json!("/var/run/keys/");
    spec["jwt"] = json!({"issuer": "om.internal"});
    let e = env(spec);
    assert_eq!(
        e["RSA_PRIVATE_KEY_FILE_PATH"],
        r#""/var/run/keys/private_key.der""#
    );
    assert_eq!(
        e["RSA_PUBLIC_KEY_FILE_PATH"],
        r#""/var/run/keys/public_key.der""#
    );
    assert_eq!(e["JWT_ISSUER"], r#""om.internal""#);
    assert_eq!(e["JWT_KEY_ID"], format!("\"{}\"", keys().key_id()));
}

#[test]
fn config_source_is_env_by_default_and_can_be_omitted() {
    let e = env(confidential());
    assert_eq!(e["SECURITY_CONFIG_SOURCE"], r#""ENV""#);
    assert_eq!(e["SECURITY_CONFIG_SOURCE_CONFIRM_PROVIDER_CHANGE"], "false");
    let mut spec = confidential();
    spec["server"]["configSource"] = json!("Omit");
    let e = env(spec);
    assert!(
        !e.contains_key("SECURITY_CONFIG_SOURCE")
            && !e.contains_key("SECURITY_CONFIG_SOURCE_CONFIRM_PROVIDER_CHANGE")
    );
    let mut spec = confidential();
    spec["server"]["configSource"] = json!("Db");
    assert_eq!(env(spec)["SECURITY_CONFIG_SOURCE"], r#""DB""#);
}

#[test]
fn only_the_client_secret_and_private_keys_are_marked_sensitive() {
    let r = render(
        &config(confidential(), "s"),
        keys(),
        &ProviderEndpoints::default(),
    )
    .unwrap();
    assert_eq!(
        r.auth_env.sensitive.iter().collect::<Vec<_>>(),
        ["OIDC_CLIENT_SECRET"]
    );
    assert!(
        r.jwt_keys.sensitive.contains("private_key.der")
            && r.jwt_keys.sensitive.contains("private_key.pem")
    );
    assert!(!r.jwt_keys.sensitive.contains("public_key.der"));
    assert_eq!(
        r.jwt_keys.data.keys().collect::<Vec<_>>(),
        [
            "jwks.json",
            "key_id",
            "private_key.der",
            "private_key.pem",
            "public_key.der",
            "public_key.pem",
            "retired_jwks.json"
        ]
    );
}

#[test]
fn retired_keys_enter_the_keys_secret_without_rolling_the_servers() {
    let c = config(confidential(), "s");
    let r = render(&c, keys(), &ProviderEndpoints::default()).unwrap();
    assert_eq!(r.jwt_keys.data["retired_jwks.json"], br#"{"keys":[]}"#);
    let mut retired = crate::keys::retired::RetiredKeys::default();
    let old = crate::keys::KeyMaterial::generate(None).unwrap();
    retired.retire(
        &old,
        jiff::Timestamp::UNIX_EPOCH,
        jiff::SignedDuration::from_hours(72),
    );
    let hash = r.config_hash.clone();
    let with = r.with_retired(&retired);
    assert!(
        String::from_utf8_lossy(&with.jwt_keys.data["retired_jwks.json"]).contains(old.key_id())
    );
    assert_eq!(
        with.config_hash, hash,
        "a key leaving or entering the file rolls nothing"
    );
}

#[test]
fn the_hash_changes_exactly_when_what_the_pods_consume_changes() {
    let h = |spec: Value, secret: &str, k: &KeyMaterial| {
        render(&config(spec, secret), k, &ProviderEndpoints::default())
            .unwrap()
            .config_hash
    };
    let base = h(confidential(), "s1", keys());
    assert_eq!(
        base,
        h(confidential(), "s1", keys()),
        "same inputs, same hash"
    );
    assert_ne!(
        base,
        h(confidential(), "s2", keys()),
        "a rotated client secret"
    );
    let other = KeyMaterial::generate(None).unwrap();
    assert_ne!(base, h(confidential(), "s1", &other), "a rotated key pair");
    let mut spec = confidential();
    spec["authorizer"]["adminPrincipals"] = json!(["alice", "carol"]);
    assert_ne!(base, h(spec, "s1", keys()), "a changed setting");
    // What the server pods do not consume does not change their hash.
    let mut spec = confidential();
    spec["ingestion"] = json!({"botTokenEnvVar": "OTHER_TOKEN"});
    assert_eq!(
        base,
        h(spec, "s1", keys()),
        "the ingestion config is not mounted by the server"
    );
    let mut spec = confidential();
    spec["output"] = json!({"authEnvSecretName": "renamed"});
    assert_eq!(base, h(spec, "s1", keys()));
}

#[test]
fn the_bot_jwt_workflow_reads_the_token_from_the_environment_by_default() {
    let c = config(confidential(), "s");
    let wf = workflow_config(&c, c.ingestion.as_ref().unwrap(), None);
    assert_eq!(
        wf,
        "workflowConfig:\n  openMetadataServerConfig:\n    hostPort: \"http://om.data.svc:8585/api\"\n    authProvider: openmetadata\n    securityConfig:\n      jwtToken: \"${OPENMETADATA_JWT_TOKEN}\"\n"
    );
}

#[test]
fn the_legacy_workflow_carries_client_id_secret_and_domain_escaped() {
    let mut spec = confidential();
    spec["ingestion"] =
        json!({"authProvider": "custom-oidc", "hostPort": "http://localhost:8585/api"});
    let c = config(spec, "p@ss: $HOME \"x\"");
    let wf = workflow_config(&c, c.ingestion.as_ref().unwrap(), None);
    assert_eq!(
        wf,
        "workflowConfig:\n  openMetadataServerConfig:\n    hostPort: \"http://localhost:8585/api\"\n    authProvider: custom-oidc\n    securityConfig:\n      clientId: \"om-client\"\n      secretKey: \"p@ss: \\x24HOME \\\"x\\\"\"\n      domain: \"https://idp.example.com/realms/data\"\n"
    );
}

#[test]
fn the_workflow_is_sensitive_only_when_it_carries_a_secret() {
    let r = render(
        &config(confidential(), "s"),
        keys(),
        &ProviderEndpoints::default(),
    )
    .unwrap();
    assert!(
        r.ingestion.unwrap().sensitive.is_empty(),
        "an env-var reference is not a secret"
    );
    let mut spec = confidential();
    spec["ingestion"] = json!({"authProvider": "custom-oidc"});
    let r = render(&config(spec, "s"), keys(), &ProviderEndpoints::default()).unwrap();
    assert!(r.ingestion.unwrap().sensitive.contains(WORKFLOW_CONFIG_KEY));
}

#[test]
fn the_legacy_workflow_adds_the_discovered_token_endpoint_when_asked() {
    let mut spec = confidential();
    spec["ingestion"] = json!({"authProvider": "custom-oidc", "legacyTokenEndpoint": true});
    let c = config(spec, "s");
    assert_eq!(
        render(&c, keys(), &ProviderEndpoints::default()),
        Err(RenderError::MissingTokenEndpoint)
    );
    let found = ProviderEndpoints {
        jwks_uri: None,
        token_endpoint: Some("https://idp.example.com/token".into()),
    };
    let r = render(&c, keys(), &found).unwrap();
    let wf = String::from_utf8(r.ingestion.unwrap().data[WORKFLOW_CONFIG_KEY].clone()).unwrap();
    assert!(wf.ends_with("      domain: \"https://idp.example.com/realms/data\"\n      tokenEndpoint: \"https://idp.example.com/token\"\n"), "{wf}");
    // Without the switch, the guide's three fields only.
    let r = render(&config(confidential_legacy(), "s"), keys(), &found).unwrap();
    let wf = String::from_utf8(r.ingestion.unwrap().data[WORKFLOW_CONFIG_KEY].clone()).unwrap();
    assert!(!wf.contains("tokenEndpoint"), "{wf}");
}

fn confidential_legacy() -> Value {
    let mut spec = confidential();
    spec["ingestion"] = json!({"authProvider": "custom-oidc"});
    spec
}

#[test]
fn a_disabled_ingestion_renders_no_ingestion_secret() {
    let mut spec = confidential();
    spec["ingestion"] = json!({"enabled": false});
    let r = render(&config(spec, "s"), keys(), &ProviderEndpoints::default()).unwrap();
    assert!(r.ingestion.is_none());
}

#[test]
fn an_azure_client_renders_its_tenant_and_the_type_in_the_servers_spelling() {
    let mut spec = confidential();
    spec["provider"]["oidcType"] = json!("AZURE");
    spec["provider"]["tenant"] = json!("organizations");
    let e = env(spec);
    assert_eq!(e["OIDC_TYPE"], r#""azure""#);
    assert_eq!(e["OIDC_TENANT"], r#""organizations""#);
    assert!(!env(confidential()).contains_key("OIDC_TENANT"));
}

#[test]
fn every_rendered_value_is_printable_ascii_whatever_the_input() {
    let mut spec = confidential();
    spec["provider"]["displayName"] = json!("Анмеldung 🔑 über \u{2028}");
    spec["provider"]["customParams"] = json!({"ui_locales": "日本語"});
    for (name, value) in env(spec) {
        assert!(
            value.bytes().all(|b| (0x20..0x7f).contains(&b)),
            "{name}={value}"
        );
    }
}

/// Even a variable name validation would refuse (a newline and a second `hostPort`) stays inside
/// its quoted scalar: the document keeps one `hostPort`, the rendered one.
#[test]
fn no_bot_token_variable_name_can_add_a_line_to_the_workflow() {
    let c = config(confidential(), "s");
    let mut ingestion = c.ingestion.clone().unwrap();
    ingestion.bot_token =
        crate::validate::BotToken::EnvVar("X}\"\n    hostPort: \"http://evil.example\"\n#".into());
    let wf = workflow_config(&c, &ingestion, None);
    assert_eq!(wf.lines().count(), 6, "{wf}");
    let doc: serde_json::Value = serde_saphyr::from_str(&wf).expect("the workflow still parses");
    let server = &doc["workflowConfig"]["openMetadataServerConfig"];
    assert_eq!(server["hostPort"], "http://om.data.svc:8585/api");
    assert_eq!(
        server["securityConfig"]["jwtToken"],
        "${X}\"\n    hostPort: \"http://evil.example\"\n#}"
    );
}
