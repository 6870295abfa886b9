//! OpenMetadata's official Helm chart (1.13.1) rendered by the real `helm template` with exactly
//! `examples/openmetadata-chart/values.yaml`: every container that runs OpenMetadata (the server,
//! the `run-db-migrations` init container, both CronJobs) loads the operator's settings Secret last
//! and unshadowed and mounts its keys where `RSA_*_FILE_PATH` point
//! ([`official_chart::check_all`]). Then the same check on renders with the mistakes
//! `docs/openmetadata-chart.md` warns about, each of which it must report, and the doc against
//! the files it shows.
//!
//! helm is found as the e2e suites find it ([`cluster::helm`]: `$HELM`, the cluster's env
//! file, the build cache); a missing helm fails the tests with the command that builds it.

use std::collections::BTreeSet;
use std::path::PathBuf;

use oidc_sso_operator::crd::{OidcSsoConfig, TargetKind};
use oidc_sso_operator::preview::{self, PreviewInput};
use oidc_sso_operator::render::{ProviderEndpoints, Rendered};
use serde_json::{Value, json};

use crate::cluster;
use crate::official_chart::{self, FULLNAME, Wiring};

/// Namespace of the renders and of the doc's `OidcSsoConfig`.
const NAMESPACE: &str = "openmetadata";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `helm template openmetadata <chart> -f values.yaml <extra>`, every document parsed.
fn template(extra: &[&str]) -> Vec<Value> {
    let chart = official_chart::chart_dir();
    let values = official_chart::values_path();
    let helm = cluster::helm();
    let out = std::process::Command::new(&helm)
        .args(["template", "openmetadata"])
        .arg(&chart)
        .args(["--namespace", NAMESPACE, "-f"])
        .arg(&values)
        .args(extra)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run helm at {} ({e}): build it with `scripts/cluster/build.sh helm` (or \
                 set HELM)",
                helm.display()
            )
        });
    assert!(
        out.status.success(),
        "helm template {extra:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let docs: Vec<Value> = serde_saphyr::from_str_multiple(&text).expect("rendered YAML");
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

/// The fenced YAML block that follows `marker` in docs/openmetadata-chart.md.
fn doc_block(marker: &str) -> String {
    let doc = std::fs::read_to_string(root().join("docs/openmetadata-chart.md")).unwrap();
    let after = doc
        .split_once(marker)
        .unwrap_or_else(|| panic!("docs/openmetadata-chart.md has no {marker:?}"))
        .1;
    let body = after
        .split_once("```yaml\n")
        .expect("a ```yaml block after the marker")
        .1;
    body.split_once("```\n")
        .expect("the block ends")
        .0
        .to_string()
}

/// The doc's `OidcSsoConfig`, rendered with a credentials Secret and a discovered JWKS URL.
fn doc_config() -> (OidcSsoConfig, Rendered) {
    let text = doc_block("<!-- oidcssoconfig");
    let credentials = serde_saphyr::to_string(&json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "om-oidc-client", "namespace": NAMESPACE},
        "stringData": {"clientId": "openmetadata", "clientSecret": "from-your-provider"},
    }))
    .expect("YAML");
    let input = PreviewInput::from_documents([
        ("credentials", credentials.as_str()),
        ("the doc's OidcSsoConfig", text.as_str()),
    ])
    .expect("the doc's OidcSsoConfig parses");
    let endpoints = ProviderEndpoints {
        jwks_uri: Some("https://idp.example.com/realms/data/protocol/openid-connect/certs".into()),
        token_endpoint: None,
    };
    let rendered = preview::render_preview(&input, &endpoints)
        .expect("the doc's OidcSsoConfig validates and renders")
        .0;
    (input.resource, rendered)
}

/// How the doc's `OidcSsoConfig` must appear in the chart's pods.
fn wiring() -> Wiring {
    let (_, rendered) = doc_config();
    Wiring::new(
        &rendered.auth_env.name,
        &rendered.jwt_keys.name,
        &rendered.auth_env.data,
        official_chart::operator_variables(),
    )
}

/// The check's findings on a render with `extra` helm arguments on top of the values.
fn findings(extra: &[&str]) -> Vec<String> {
    let docs = template(extra);
    official_chart::check_all(&docs, &official_chart::sources(&docs), &wiring())
}

#[test]
fn the_official_chart_with_the_documented_values_loads_our_secrets_last_and_unshadowed() {
    let docs = template(&[]);
    let wiring = wiring();
    let findings = official_chart::check_all(&docs, &official_chart::sources(&docs), &wiring);
    assert!(
        findings.is_empty(),
        "the documented values do not wire the operator's Secrets into the chart:\n{}",
        findings.join("\n")
    );

    // What the check covered: the four containers, every variable, both key files.
    let labels: BTreeSet<String> = official_chart::openmetadata_containers(&docs)
        .iter()
        .map(official_chart::PodContainer::label)
        .collect();
    assert_eq!(labels.len(), 4, "{labels:?}");
    for v in [
        "OIDC_CLIENT_ID",
        "OIDC_CLIENT_SECRET",
        "AUTHENTICATION_PROVIDER",
        "JWT_KEY_ID",
    ] {
        assert!(
            wiring.variables.contains(v),
            "{v} missing from {:?}",
            wiring.variables
        );
    }
    assert_eq!(
        wiring.key_files,
        [
            "/etc/openmetadata/jwtkeys/private_key.der",
            "/etc/openmetadata/jwtkeys/public_key.der"
        ]
    );

    // None of the chart's auth defaults is rendered at all.
    for d in &docs {
        let name = d["metadata"]["name"].as_str().unwrap_or_default();
        for gone in ["authentication-secret", "authorizer-secret", "jwt-secret"] {
            assert_ne!(
                name,
                format!("{FULLNAME}-{gone}"),
                "the chart still renders {name}"
            );
        }
    }
}

/// Asserts that every container running OpenMetadata has a finding containing `needle`.
fn assert_reported(findings: &[String], needle: &str) {
    let containers = [
        "container openmetadata:",
        "init container run-db-migrations:",
        "container cron-deploy-pipelines:",
        "container cron-reindex:",
    ];
    for c in containers {
        assert!(
            findings.iter().any(|f| f.contains(c) && f.contains(needle)),
            "the check did not report {needle:?} for {c}; it found:\n{}",
            findings.join("\n")
        );
    }
}

#[test]
fn the_check_reports_the_env_entries_a_confidential_chart_client_adds() {
    // The chart's own confidential client: env entries OIDC_CLIENT_ID / OIDC_CLIENT_SECRET, which
    // beat every envFrom source, even with authentication.enabled=false.
    let findings = findings(&[
        "--set",
        "openmetadata.config.authentication.clientType=confidential",
        "--set",
        "openmetadata.config.authentication.oidcConfiguration.enabled=true",
    ]);
    assert_reported(
        &findings,
        "env entry OIDC_CLIENT_ID beats the settings Secret",
    );
    assert_reported(
        &findings,
        "env entry OIDC_CLIENT_SECRET beats the settings Secret",
    );
}

#[test]
fn the_check_reports_extra_envs_later_sources_and_optional_secrets() {
    // extraEnvs naming a rendered variable.
    let f = findings(&[
        "--set-json",
        r#"extraEnvs=[{"name":"AUTHENTICATION_PROVIDER","value":"basic"}]"#,
    ]);
    assert_reported(
        &f,
        "env entry AUTHENTICATION_PROVIDER beats the settings Secret",
    );

    // A source after ours.
    let f = findings(&[
        "--set-json",
        r#"envFrom=[{"secretRef":{"name":"openmetadata-auth-env","optional":false}},{"secretRef":{"name":"my-overrides"}}]"#,
    ]);
    assert_reported(
        &f,
        "envFrom source Secret/my-overrides comes after the settings Secret",
    );

    // Ours optional, or missing altogether.
    let f = findings(&[
        "--set-json",
        r#"envFrom=[{"secretRef":{"name":"openmetadata-auth-env","optional":true}}]"#,
    ]);
    assert_reported(&f, "without optional: false");
    let f = findings(&["--set-json", "envFrom=[]"]);
    assert_reported(
        &f,
        "does not load the settings Secret openmetadata-auth-env",
    );
}

#[test]
fn the_check_reports_the_chart_auth_defaults_when_its_sections_stay_enabled() {
    let f = findings(&[
        "--set",
        "openmetadata.config.authentication.enabled=true",
        "--set",
        "openmetadata.config.authorizer.enabled=true",
        "--set",
        "openmetadata.config.jwtTokenConfiguration.enabled=true",
    ]);
    assert_reported(
        &f,
        "envFrom source Secret/openmetadata-authentication-secret supplies auth defaults",
    );
    assert_reported(&f, "AUTHENTICATION_PROVIDER");
    assert_reported(
        &f,
        "Secret/openmetadata-authorizer-secret supplies auth defaults",
    );
    assert_reported(&f, "Secret/openmetadata-jwt-secret supplies auth defaults");
    assert_reported(&f, "JWT_KEY_ID");
    // Every key of those three Secrets is one the operator renders, so ours still wins: the check
    // says so rather than claiming the chart's values reach the server.
    assert!(
        !f.iter().any(|x| x.contains("reach the server")),
        "{}",
        f.join("\n")
    );
}

#[test]
fn the_check_reports_a_keys_mount_that_is_writable_optional_or_elsewhere() {
    let volume = r#"extraVolumes=[{"name":"oidc-sso-jwt-keys","secret":{"secretName":"openmetadata-jwt-keys","optional":true}}]"#;
    assert_reported(
        &findings(&["--set-json", volume]),
        "the keys Secret volume oidc-sso-jwt-keys is not optional: false",
    );
    let writable = r#"extraVolumeMounts=[{"name":"oidc-sso-jwt-keys","mountPath":"/etc/openmetadata/jwtkeys"}]"#;
    assert_reported(
        &findings(&["--set-json", writable]),
        "the keys mount at /etc/openmetadata/jwtkeys is not readOnly",
    );
    let elsewhere = r#"extraVolumeMounts=[{"name":"oidc-sso-jwt-keys","mountPath":"/opt/openmetadata/conf/keys","readOnly":true}]"#;
    assert_reported(
        &findings(&["--set-json", elsewhere]),
        "0 volume mounts at /etc/openmetadata/jwtkeys",
    );
}

#[test]
fn the_doc_shows_the_values_file_verbatim_and_an_oidcssoconfig_that_fits_the_chart() {
    let file = std::fs::read_to_string(official_chart::values_path()).unwrap();
    assert_eq!(
        doc_block("<!-- values: examples/openmetadata-chart/values.yaml"),
        file,
        "docs/openmetadata-chart.md and {} differ",
        official_chart::VALUES
    );

    // The doc's OidcSsoConfig targets the Deployment the chart renders, and its Secrets are the
    // ones the values load and mount.
    let (resource, rendered) = doc_config();
    let docs = template(&[]);
    assert_eq!(resource.metadata.namespace.as_deref(), Some(NAMESPACE));
    let deployments: Vec<&str> = docs
        .iter()
        .filter(|d| d["kind"] == "Deployment")
        .filter_map(|d| d["metadata"]["name"].as_str())
        .collect();
    assert_eq!(deployments, [FULLNAME]);
    let targets: Vec<(TargetKind, &str)> = resource
        .spec
        .targets
        .iter()
        .map(|t| (t.kind, t.name.as_str()))
        .collect();
    assert_eq!(targets, [(TargetKind::Deployment, FULLNAME)]);
    let values: Value = serde_saphyr::from_str(&file).unwrap();
    assert_eq!(
        values["envFrom"][0]["secretRef"]["name"],
        rendered.auth_env.name.as_str()
    );
    assert_eq!(
        values["extraVolumes"][0]["secret"]["secretName"],
        rendered.jwt_keys.name.as_str()
    );
    // Its internal URL is the chart's Service.
    let service = docs
        .iter()
        .find(|d| d["kind"] == "Service")
        .expect("the chart's Service");
    let own_jwks = format!(
        "http://{}.{NAMESPACE}.svc:{}/api/v1/system/config/jwks",
        service["metadata"]["name"].as_str().unwrap(),
        service["spec"]["ports"][0]["port"]
    );
    let keys =
        String::from_utf8(rendered.auth_env.data["AUTHENTICATION_PUBLIC_KEYS"].clone()).unwrap();
    assert!(keys.contains(&own_jwks), "{own_jwks} not in {keys}");
}

/// The documented values reset the server's database copy of its auth settings in every new pod
/// (OpenMetadata 1.10-2.0.x read only that copy): the chart's run-db-migrations init container
/// runs the reset right after the migration, with the server's environment, and the operator's
/// template check finds it.
#[test]
fn the_documented_values_reset_the_database_copy_after_the_migration() {
    let docs = template(&[]);
    let deployment = docs
        .iter()
        .find(|d| d["kind"] == "Deployment")
        .expect("the chart's Deployment");
    let pod: k8s_openapi::api::core::v1::PodSpec =
        serde_json::from_value(deployment["spec"]["template"]["spec"].clone()).expect("a pod spec");
    let migration = pod
        .init_containers
        .iter()
        .flatten()
        .find(|c| c.name == "run-db-migrations")
        .expect("the chart's migration init container");
    assert_eq!(
        migration.command.as_deref().unwrap_or_default(),
        [
            "/bin/bash",
            "-c",
            "/opt/openmetadata/bootstrap/openmetadata-ops.sh migrate && \
             /opt/openmetadata/bootstrap/openmetadata-ops.sh remove-security-config --force"
        ]
    );
    let loads_ours = migration.env_from.iter().flatten().any(|s| {
        s.secret_ref
            .as_ref()
            .is_some_and(|r| r.name == "openmetadata-auth-env")
    });
    assert!(
        loads_ours,
        "the reset runs with the operator's settings in its environment"
    );
    assert!(oidc_sso_operator::proof::reset::in_template(&pod));
    let without = template(&[
        "--set",
        "openmetadata.config.upgradeMigrationConfigs.additionalArgs=",
    ]);
    let deployment = without.iter().find(|d| d["kind"] == "Deployment").unwrap();
    let pod: k8s_openapi::api::core::v1::PodSpec =
        serde_json::from_value(deployment["spec"]["template"]["spec"].clone()).unwrap();
    assert!(!oidc_sso_operator::proof::reset::in_template(&pod));
}
