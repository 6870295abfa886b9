//! `oidc-sso-operator render --verify`: the operator's provider checks, offline, against the real
//! test provider (panva's oidc-provider on 127.0.0.1). The CLI prints the conditions the
//! operator would write (same types, reasons and messages), renders with the discovered JWKS
//! URL, and writes nothing when a check fails. Loopback is refused unless its network is allowed,
//! as in the cluster. No cluster needed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::json;

use crate::support::oidc::{ProviderOptions, TestClient, TestProvider, random_secret};

const CALLBACK: &str = "https://om.example.com/callback";
const LOOPBACK: &str = "127.0.0.0/8";

/// A provider with one login client, `openmetadata`, whose secret is returned.
fn provider() -> (TestProvider, String) {
    let secret = random_secret();
    let mut client = TestClient::new("openmetadata", &secret).with_redirect_uris([CALLBACK]);
    client.auth_method = Some("client_secret_post".into());
    let idp = TestProvider::start_with(ProviderOptions::http().with_clients([client]))
        .expect("the test provider starts");
    (idp, secret)
}

/// A resource for `idp` and its client Secret holding `secret`, in `dir/cr.yaml`.
fn resource(dir: &Path, idp: &TestProvider, secret: &str) -> PathBuf {
    let cr = json!({
        "apiVersion": "oidcsso.io/v1alpha1",
        "kind": "OidcSsoConfig",
        "metadata": {"name": "om", "namespace": "data"},
        "spec": {
            "provider": {
                "issuer": idp.issuer(),
                "allowInsecureHttp": true,
                "clientType": "Confidential",
                "clientAuthenticationMethod": "client_secret_post",
                "credentialsSecretRef": {"name": "om-oidc-client"},
            },
            "authorizer": {"adminPrincipals": ["alice"]},
            "server": {"externalUrl": "https://om.example.com"},
        },
    });
    let client = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "om-oidc-client"},
        "stringData": {"clientId": "openmetadata", "clientSecret": secret},
    });
    let path = dir.join("cr.yaml");
    let text = format!(
        "{}---\n{}",
        serde_saphyr::to_string(&cr).unwrap(),
        serde_saphyr::to_string(&client).unwrap()
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn render(cr: &Path, out: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oidc-sso-operator"))
        .args([
            "render",
            "-f",
            cr.to_str().unwrap(),
            "--verify",
            "--format",
            "dotenv",
        ])
        .args(["--out-dir", out.to_str().unwrap()])
        .args(extra)
        .output()
        .expect("the CLI runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn verify_prints_the_operators_conditions_and_renders_the_discovered_jwks_url() {
    let (idp, secret) = provider();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("oidc");
    let run = render(
        &resource(dir.path(), &idp, &secret),
        &out,
        &["--provider-allowed-networks", LOOPBACK],
    );
    let lines = stderr(&run);
    assert!(run.status.success(), "{lines}");
    let verified = format!(
        "ProviderVerified=True Verified: discovery document and JWKS (1 usable signing key(s)) fetched from {}",
        idp.issuer()
    );
    assert!(lines.contains(&verified), "{lines}");
    assert!(lines.contains("CredentialsValid=True Valid: "), "{lines}");
    assert!(
        lines.contains(&format!(
            "LoginAccepted=True Accepted: a login with redirect_uri {CALLBACK} is accepted"
        )),
        "{lines}"
    );
    assert!(!lines.contains(&secret), "no secret is printed");
    let settings = std::fs::read_to_string(out.join("openmetadata.env")).unwrap();
    let keys_line = settings
        .lines()
        .find(|l| l.starts_with("AUTHENTICATION_PUBLIC_KEYS="))
        .unwrap();
    assert!(
        keys_line.contains(&idp.jwks_uri()),
        "the discovered JWKS URL is rendered: {keys_line}"
    );
}

#[test]
fn a_wrong_secret_is_invalid_client_exits_non_zero_and_writes_nothing() {
    let (idp, _) = provider();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("oidc");
    let run = render(
        &resource(dir.path(), &idp, "not-the-secret"),
        &out,
        &["--provider-allowed-networks", LOOPBACK],
    );
    let lines = stderr(&run);
    assert!(!run.status.success(), "{lines}");
    assert!(lines.contains("ProviderVerified=True"), "{lines}");
    assert!(
        lines.contains("CredentialsValid=False InvalidClient: "),
        "{lines}"
    );
    assert!(lines.contains("nothing was written"), "{lines}");
    assert!(!out.exists());
}

#[test]
fn loopback_is_refused_unless_its_network_is_allowed() {
    let (idp, secret) = provider();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("oidc");
    let run = render(&resource(dir.path(), &idp, &secret), &out, &[]);
    let lines = stderr(&run);
    assert!(!run.status.success(), "{lines}");
    assert!(lines.contains("ProviderVerified=False "), "{lines}");
    assert!(
        lines.contains("loopback") && lines.contains("--provider-allowed-networks"),
        "{lines}"
    );
    assert!(!out.exists());
}

#[test]
fn a_provider_that_is_down_is_unreachable_and_nothing_is_written() {
    let (mut idp, secret) = provider();
    let dir = tempfile::tempdir().unwrap();
    let cr = resource(dir.path(), &idp, &secret);
    idp.stop().unwrap();
    let out = dir.path().join("oidc");
    let run = render(&cr, &out, &["--provider-allowed-networks", LOOPBACK]);
    let lines = stderr(&run);
    assert!(!run.status.success(), "{lines}");
    assert!(
        lines.contains("ProviderVerified=False Unreachable: "),
        "{lines}"
    );
    assert!(!out.exists());
}
