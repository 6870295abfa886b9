//! docs/security.md's promises against a provider that replays what it is sent, an environment
//! with proxies, and a resource the apiserver would refuse, played through `render --verify`,
//! which runs the operator's own verify step (the same checks, scrubbing and messages that reach
//! the resource's status and Events), against the replaying provider of
//! tests/support/replaying_idp.rs.

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::offline_cli::run_render;
use crate::replaying_idp::{CLIENT_ID, ReplayingProvider, SECRET, forbidden};

/// A resource for `issuer` whose client id and secret a Secret holds, checked with `method`
/// and `auth`, in `dir/cr.yaml`.
fn resource(dir: &Path, issuer: &str, method: &str, auth: &str) -> PathBuf {
    let cr = json!({
        "apiVersion": "oidcsso.io/v1alpha1",
        "kind": "OidcSsoConfig",
        "metadata": {"name": "om", "namespace": "data"},
        "spec": {
            "provider": {
                "issuer": issuer,
                "allowInsecureHttp": true,
                "clientType": "Confidential",
                "clientAuthenticationMethod": auth,
                "credentialsSecretRef": {"name": "oidc"},
                "verify": {"credentials": {"method": method}},
            },
            "authorizer": {"adminPrincipals": ["alice"]},
            "server": {"externalUrl": "https://om.example.com"},
        },
    });
    let secret = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "oidc"},
        "stringData": {"clientId": CLIENT_ID, "clientSecret": SECRET},
    });
    let path = dir.join("cr.yaml");
    let text = format!(
        "{}---\n{}",
        serde_saphyr::to_string(&cr).unwrap(),
        serde_saphyr::to_string(&secret).unwrap()
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn verify(cr: &Path, extra: &[&str]) -> String {
    let out = run_render(&[&["-f", cr.to_str().unwrap(), "--verify"][..], extra].concat());
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Promise 2 against a provider that replays every value sent into every field it answers
/// with (token, introspection, revocation, the login redirect's query, its own error page's
/// path), through each credentials method and both client authentications: nothing sent is
/// printed in any encoding; each failed check is named, and what the provider echoed is named
/// by what it is.
#[test]
fn a_provider_that_replays_what_it_is_sent_never_gets_it_printed() {
    let idp = ReplayingProvider::start();
    let dir = tempfile::tempdir().unwrap();
    let forbidden = forbidden();
    let (mut named, mut withheld) = (String::new(), String::new());
    for mode in ["callback-values", "page-values", "callback-raw", "page-raw"] {
        for method in [
            "Introspection",
            "Revocation",
            "AuthorizationCode",
            "ClientCredentials",
        ] {
            for auth in ["client_secret_post", "client_secret_basic"] {
                let cr = resource(dir.path(), &idp.issuer(mode), method, auth);
                let printed = verify(&cr, &["--provider-allowed-networks", "127.0.0.0/8"]);
                for form in &forbidden {
                    assert!(
                        !printed.contains(form.as_str()),
                        "{mode}/{method}/{auth} printed a form of a sent value ({} bytes): {printed}",
                        form.len()
                    );
                }
                assert!(printed.contains("ProviderVerified=True"), "{printed}");
                assert!(printed.contains("CredentialsValid="), "{printed}");
                assert!(printed.contains("LoginAccepted=False"), "{printed}");
                if mode.ends_with("raw") {
                    withheld.push_str(&printed);
                } else {
                    named.push_str(&printed);
                }
            }
        }
    }
    assert!(
        named.contains("<client secret>"),
        "the echoed secret is named: {named}"
    );
    assert!(
        named.contains("<the client id in Secret \"oidc\" (key \"clientId\")>"),
        "the echoed client id is named by its Secret and key: {named}"
    );
    assert!(
        named.contains("CredentialsValid=False InvalidClient"),
        "{named}"
    );
    assert!(
        withheld.contains(oidc_sso_operator::scrub::WITHHELD),
        "an encoding of an encoding is withheld whole: {withheld}"
    );
    assert!(idp.requests() > 0);
}

/// Promise 5 with proxies in the environment: the checks never hand a URL to a proxy (which
/// would resolve the name itself, out of the address policy's sight); a name that resolves to
/// a refused address is refused, and the proxy sees no connection.
#[test]
fn the_checks_never_use_a_proxy_from_the_environment() {
    let proxy = TcpListener::bind("127.0.0.1:0").unwrap();
    proxy.set_nonblocking(true).unwrap();
    let proxy_url = format!("http://127.0.0.1:{}", proxy.local_addr().unwrap().port());
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!(
        "http://localhost:{}/realm",
        closed.local_addr().unwrap().port()
    );
    drop(closed);
    let dir = tempfile::tempdir().unwrap();
    let cr = resource(dir.path(), &issuer, "Auto", "client_secret_post");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_oidc-sso-operator"))
        .args(["render", "-f", cr.to_str().unwrap(), "--verify"])
        .env("HTTP_PROXY", &proxy_url)
        .env("HTTPS_PROXY", &proxy_url)
        .env("ALL_PROXY", &proxy_url)
        .env("http_proxy", &proxy_url)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{printed}");
    assert!(printed.contains("AddressRefused"), "{printed}");
    assert!(
        proxy.accept().is_err(),
        "the proxy from the environment was connected to: {printed}"
    );
}

/// Item 4 of the security issue: the offline render refuses what the apiserver would (the
/// CRD's schema, here a pattern), naming the field, before anything is rendered or written.
#[test]
fn a_resource_the_apiserver_would_refuse_renders_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cr = resource(
        dir.path(),
        "https://idp.example.com",
        "Auto",
        "client_secret_post",
    );
    let text = std::fs::read_to_string(&cr).unwrap();
    let mut docs: Vec<Value> = serde_saphyr::from_str_multiple(&text).unwrap();
    docs[0]["spec"]["ingestion"] =
        json!({"botTokenEnvVar": "X}\"\n    hostPort: \"http://evil.example\"\n#"});
    let text: Vec<String> = docs
        .iter()
        .map(|d| serde_saphyr::to_string(d).unwrap())
        .collect();
    std::fs::write(&cr, text.join("---\n")).unwrap();
    let out_dir = dir.path().join("out");
    let out = run_render(&[
        "-f",
        cr.to_str().unwrap(),
        "--format",
        "dotenv",
        "--out-dir",
        out_dir.to_str().unwrap(),
    ]);
    let printed = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{printed}");
    assert!(
        printed.contains("the apiserver would refuse")
            && printed.contains("spec.ingestion.botTokenEnvVar"),
        "{printed}"
    );
    assert!(!out_dir.exists(), "nothing is written");
}
