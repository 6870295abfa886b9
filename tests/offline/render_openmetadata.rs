//! The renderer against golden files and against OpenMetadata itself: the rendered settings are
//! substituted into the upstream `openmetadata.yaml` auth template the way the server does and
//! validated with OpenMetadata's own generated models (`scripts/om-validate.sh`, which runs
//! `tests/tools/om_validate.py` in a cached virtualenv with the pinned `openmetadata-ingestion`
//! models). Set `UPDATE_GOLDEN=1` to rewrite the golden files after an intended change.

use std::path::{Path, PathBuf};
use std::process::Command;

use oidc_sso_operator::preview::{self, PreviewInput};
use oidc_sso_operator::render::{ProviderEndpoints, Rendered, WORKFLOW_CONFIG_KEY};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load(files: &[&str]) -> PreviewInput {
    let texts: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(root().join("tests/fixtures").join(f)).unwrap())
        .collect();
    PreviewInput::from_documents(files.iter().copied().zip(texts.iter().map(String::as_str)))
        .expect("fixture holds an OidcSsoConfig")
}

fn render(input: &PreviewInput) -> Rendered {
    preview::render_preview(input, &ProviderEndpoints::default())
        .unwrap()
        .0
}

/// The auth Secret as the env file the pods see: `KEY=VALUE` lines (every value is one line).
fn env_file(rendered: &Rendered) -> String {
    rendered
        .auth_env
        .data
        .iter()
        .map(|(k, v)| format!("{k}={}\n", String::from_utf8(v.clone()).unwrap()))
        .collect()
}

fn assert_golden(name: &str, actual: &str) {
    let path = root().join("tests/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing golden file {}; run with UPDATE_GOLDEN=1",
            path.display()
        )
    });
    assert_eq!(
        actual, expected,
        "{name} differs from the golden file; if intended, rerun with UPDATE_GOLDEN=1"
    );
}

/// Runs OpenMetadata's template and models over the settings; returns the tool's output.
fn om_validate(env: &str, workflow: Option<&str>, expect: &[String]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let env_path = dir.path().join("settings.env");
    std::fs::write(&env_path, env).unwrap();
    let mut cmd = Command::new(root().join("scripts/om-validate.sh"));
    cmd.arg("--env").arg(&env_path);
    if let Some(w) = workflow {
        let wf = dir.path().join("workflow.yaml");
        std::fs::write(&wf, w).unwrap();
        cmd.arg("--workflow").arg(&wf);
    }
    if !expect.is_empty() {
        cmd.arg("--expect").args(expect);
    }
    let out = cmd.output().expect("scripts/om-validate.sh runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        out.status.success(),
        "OpenMetadata rejected the settings:\n{stdout}\n{stderr}"
    );
    assert!(
        !stdout.contains("warning:"),
        "a rendered key is unknown to OpenMetadata's models:\n{stdout}"
    );
    stdout
}

fn expect(path: &str, value: &str) -> String {
    format!("{path}={value}")
}

#[test]
fn confidential_example_matches_golden_files() {
    let rendered = render(&load(&["confidential.yaml", "test-keys.yaml"]));
    assert_golden("confidential.env", &env_file(&rendered));
    let ingestion = rendered.ingestion.as_ref().unwrap();
    assert_golden(
        "confidential.workflowConfig.yaml",
        std::str::from_utf8(&ingestion.data[WORKFLOW_CONFIG_KEY]).unwrap(),
    );
    assert_golden(
        "confidential.jwks.json",
        std::str::from_utf8(&rendered.jwt_keys.data["jwks.json"]).unwrap(),
    );
    assert_golden("confidential.hash", &format!("{}\n", rendered.config_hash));
}

#[test]
fn public_example_matches_golden_files() {
    let rendered = render(&load(&["public.yaml", "test-keys.yaml"]));
    assert_golden("public.env", &env_file(&rendered));
    let ingestion = rendered.ingestion.as_ref().unwrap();
    assert_golden(
        "public.workflowConfig.yaml",
        std::str::from_utf8(&ingestion.data[WORKFLOW_CONFIG_KEY]).unwrap(),
    );
}

#[test]
fn legacy_custom_oidc_ingestion_form_matches_golden_file() {
    let mut input = load(&["confidential.yaml", "test-keys.yaml"]);
    let ingestion = input.resource.spec.ingestion.as_mut().unwrap();
    ingestion.auth_provider = Some(oidc_sso_operator::crd::IngestionAuthProvider::CustomOidc);
    let rendered = render(&input);
    let wf = rendered.ingestion.as_ref().unwrap();
    assert_golden(
        "legacy.workflowConfig.yaml",
        std::str::from_utf8(&wf.data[WORKFLOW_CONFIG_KEY]).unwrap(),
    );
}

#[test]
fn confidential_settings_load_in_openmetadata() {
    let rendered = render(&load(&["confidential.yaml", "test-keys.yaml"]));
    let workflow =
        String::from_utf8(rendered.ingestion.as_ref().unwrap().data[WORKFLOW_CONFIG_KEY].clone())
            .unwrap();
    let key_id = String::from_utf8(rendered.jwt_keys.data["key_id"].clone()).unwrap();
    let out = om_validate(
        &env_file(&rendered),
        Some(&workflow),
        &[
            expect("authenticationConfiguration.provider", "custom-oidc"),
            expect("authenticationConfiguration.clientType", "confidential"),
            expect("authenticationConfiguration.providerName", "Keycloak"),
            expect(
                "authenticationConfiguration.authority",
                "https://idp.example.com/realms/data",
            ),
            expect(
                "authenticationConfiguration.publicKeyUrls",
                r#"["file:/etc/openmetadata/jwtkeys/retired_jwks.json", "https://idp.example.com/realms/data/protocol/openid-connect/certs", "http://openmetadata.data.svc:8585/api/v1/system/config/jwks", "https://other.example.com/keys"]"#,
            ),
            expect(
                "authenticationConfiguration.jwtPrincipalClaimsMapping",
                r#"["email:email", "username:preferred_username"]"#,
            ),
            expect("authenticationConfiguration.enableSelfSignup", "false"),
            expect(
                "authenticationConfiguration.oidcConfiguration.id",
                "openmetadata",
            ),
            expect(
                "authenticationConfiguration.oidcConfiguration.secret",
                r#"s3cr3t: with # hostile "chars" ${HOME} and \ a backslash"#,
            ),
            expect(
                "authenticationConfiguration.oidcConfiguration.scope",
                "openid email profile offline_access",
            ),
            expect(
                "authenticationConfiguration.oidcConfiguration.discoveryUri",
                "https://idp.example.com/realms/data/.well-known/openid-configuration",
            ),
            // The server reads only customParamKeyN/customParamValueN; the spec's {kc_idp_hint: corp}.
            expect(
                "authenticationConfiguration.oidcConfiguration.customParams",
                r#"{"customParamKey1": "kc_idp_hint", "customParamValue1": "corp"}"#,
            ),
            expect(
                "authenticationConfiguration.oidcConfiguration.disablePkce",
                "false",
            ),
            expect(
                "authenticationConfiguration.oidcConfiguration.clientAuthenticationMethod",
                "client_secret_basic",
            ),
            expect(
                "authenticationConfiguration.oidcConfiguration.callbackUrl",
                "https://om.example.com/callback",
            ),
            expect(
                "authenticationConfiguration.oidcConfiguration.serverUrl",
                "https://om.example.com",
            ),
            expect(
                "authorizerConfiguration.adminPrincipals",
                r#"["alice", "bob"]"#,
            ),
            expect("authorizerConfiguration.principalDomain", "example.com"),
            expect("authorizerConfiguration.enforcePrincipalDomain", "true"),
            expect(
                "jwtTokenConfiguration.rsaprivateKeyFilePath",
                "/etc/openmetadata/jwtkeys/private_key.der",
            ),
            expect(
                "jwtTokenConfiguration.rsapublicKeyFilePath",
                "/etc/openmetadata/jwtkeys/public_key.der",
            ),
            expect("jwtTokenConfiguration.jwtissuer", "om.example.com"),
            expect("jwtTokenConfiguration.keyId", &key_id),
            expect("configSource.security", "ENV"),
        ],
    );
    assert!(out.contains("workflowConfig validates"), "{out}");
}

#[test]
fn public_settings_load_in_openmetadata() {
    let rendered = render(&load(&["public.yaml", "test-keys.yaml"]));
    let workflow =
        String::from_utf8(rendered.ingestion.as_ref().unwrap().data[WORKFLOW_CONFIG_KEY].clone())
            .unwrap();
    om_validate(
        &env_file(&rendered),
        Some(&workflow),
        &[
            expect("authenticationConfiguration.clientType", "public"),
            expect("authenticationConfiguration.clientId", "openmetadata-ui"),
            expect(
                "authenticationConfiguration.callbackUrl",
                "https://om.example.com/callback",
            ),
            expect("authenticationConfiguration.responseType", "id_token"),
            expect(
                "authenticationConfiguration.publicKeyUrls",
                r#"["file:/etc/openmetadata/jwtkeys/retired_jwks.json", "https://dex.example.com/keys", "http://localhost:8585/api/v1/system/config/jwks"]"#,
            ),
            expect(
                "authenticationConfiguration.jwtPrincipalClaims",
                r#"["email", "preferred_username", "sub"]"#,
            ),
            expect("jwtTokenConfiguration.jwtissuer", "om.example.com"),
        ],
    );
}

/// Values that would break the YAML (or be rewritten by the substitution) if pasted unquoted.
const HOSTILE: &[&str] = &[
    r#"quote " inside"#,
    "'single' quotes",
    "colon: space",
    "hash # comment",
    "{leading brace",
    "[leading bracket",
    "*alias",
    "&anchor",
    "!tag",
    "%directive",
    "@at",
    "`backtick",
    "line one\nline two",
    "tab\there\r\n",
    "${HOME} and $PATH",
    "back\\slash\\",
    "unicode: Grüße ✓ 🔑 \u{2028}",
    "- dash",
    "? question",
    "| pipe",
    "> fold",
    "true",
    "null",
    "0x1F",
    "  leading and trailing spaces  ",
    // Everything at once: substitution syntax, quotes, a newline, a comment sign, a mapping
    // indicator, an emoji, NEL, a line separator and a byte-order mark.
    "${OIDC_CLIENT_ID:-x} \"q\" 'q'\n# not a comment: 🔑 \u{85}\u{2028}\u{feff}end",
];

#[test]
fn hostile_secret_values_survive_the_server_template() {
    let base = load(&["confidential.yaml", "test-keys.yaml"]);
    for value in HOSTILE {
        let mut input = PreviewInput {
            resource: base.resource.clone(),
            objects: base.objects.clone(),
        };
        let creds = input
            .objects
            .get_mut(&("Secret".to_string(), "om-oidc-client".to_string()))
            .unwrap();
        creds.insert("clientSecret".into(), value.as_bytes().to_vec());
        let spec = &mut input.resource.spec;
        spec.provider.display_name = Some(value.to_string());
        spec.authorizer.principal_domain = Some(value.to_string());
        spec.provider.custom_params = Some([("hint".to_string(), value.to_string())].into());
        let rendered = render(&input);
        let env = env_file(&rendered);
        assert_eq!(
            env.lines().count(),
            rendered.auth_env.data.len(),
            "one line per variable for {value:?}"
        );
        // The credentials reader drops one trailing newline, as it does for `--from-file` secrets.
        let secret = value
            .strip_suffix("\r\n")
            .or(value.strip_suffix('\n'))
            .unwrap_or(value);
        om_validate(
            &env,
            None,
            &[
                expect(
                    "authenticationConfiguration.oidcConfiguration.secret",
                    secret,
                ),
                expect("authenticationConfiguration.providerName", value),
                expect("authorizerConfiguration.principalDomain", value),
                expect(
                    "authenticationConfiguration.oidcConfiguration.customParams.customParamKey1",
                    "hint",
                ),
                expect(
                    "authenticationConfiguration.oidcConfiguration.customParams.customParamValue1",
                    value,
                ),
            ],
        );
    }
}

#[test]
fn vendored_fixtures_match_the_shared_originals() {
    // tests/fixtures/openmetadata and tests/tools are copies of ../shared (so a clone that sits
    // elsewhere still tests); where ../shared exists, they must not drift from it.
    let shared = root().join("../shared");
    if !shared.exists() {
        return;
    }
    for (ours, theirs) in [
        (
            "tests/fixtures/openmetadata/conf/openmetadata-auth-excerpt.yaml",
            "fixtures/openmetadata/conf/openmetadata-auth-excerpt.yaml",
        ),
        ("tests/tools/om_validate.py", "tools/om_validate.py"),
    ] {
        let a = std::fs::read(root().join(ours)).unwrap();
        let b = std::fs::read(Path::new(&shared).join(theirs)).unwrap();
        assert!(
            a == b,
            "{ours} differs from ../shared/{theirs}; copy it again"
        );
    }
}
