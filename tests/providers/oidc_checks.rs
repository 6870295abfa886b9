//! End-to-end checks of `oidc_sso_operator::oidc` against a real OpenID provider process
//! (oidc-provider 8.8.1 on Node, see tests/oidc-provider), plus a tiny raw HTTP server for the
//! misbehaviours a certified provider will not produce (redirects, slow and huge responses).
//!
//! Run: `cargo test --features providers --test providers` (needs node, npm on first run, openssl).

use std::time::Duration;

use crate::support::oidc::{ProviderOptions, TestClient, TestProvider, random_secret};
use oidc_sso_operator::oidc::{
    AddressPolicy, CheckError, CheckOutcome, CheckRequest, CheckerConfig, ClientCredentials,
    CredentialsOutcome, ProviderChecker, ScopeSupport, SkipReason, Timeouts, TokenAuthMethod,
    TransportKind, Trust,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const FAILURE_TTL: Duration = Duration::from_millis(500);

/// The test providers listen on loopback, which the address policy refuses unless listed.
fn loopback() -> AddressPolicy {
    AddressPolicy {
        allowed: vec!["127.0.0.1".parse().unwrap()],
    }
}

pub(crate) fn checker() -> ProviderChecker {
    ProviderChecker::new(CheckerConfig {
        ttl: Duration::from_secs(60),
        failure_ttl: FAILURE_TTL,
        addresses: loopback(),
        ..CheckerConfig::default()
    })
}

pub(crate) fn quick() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(2),
        request: Duration::from_secs(5),
    }
}

fn provider_err(outcome: &CheckOutcome) -> &CheckError {
    match &outcome.provider {
        Ok(report) => panic!("expected a provider failure, got {report:?}"),
        Err(e) => e,
    }
}

fn credentials_err(outcome: &CheckOutcome) -> &CheckError {
    match &outcome.credentials {
        CredentialsOutcome::Failed(e) => e,
        other => panic!("expected a credentials failure, got {other:?}"),
    }
}

#[tokio::test]
async fn http_provider_is_verified_with_its_endpoints_and_keys() {
    let idp = TestProvider::http().unwrap();
    let checker = checker();
    let req = CheckRequest::new(idp.issuer())
        .with_scopes(["openid", "email", "profile"])
        .with_timeouts(quick());

    let outcome = checker.check(&req).await;
    let report = outcome
        .provider
        .as_ref()
        .unwrap_or_else(|e| panic!("{e}\n{}", idp.log()));
    let base = idp.base_url();
    assert_eq!(report.issuer, idp.issuer());
    assert_eq!(
        report.discovery_url,
        format!("{base}/.well-known/openid-configuration")
    );
    assert_eq!(report.authorization_endpoint, format!("{base}/auth"));
    assert_eq!(
        report.token_endpoint.as_deref(),
        Some(format!("{base}/token").as_str())
    );
    assert_eq!(
        report.userinfo_endpoint.as_deref(),
        Some(format!("{base}/me").as_str())
    );
    assert_eq!(report.jwks_uri, format!("{base}/jwks"));
    assert_eq!(report.jwks_keys, 1);
    assert_eq!(report.usable_signing_keys, 1);
    assert!(
        report.usable_key_ids[0].starts_with("test-"),
        "{:?}",
        report.usable_key_ids
    );
    assert_eq!(report.scopes, ScopeSupport::AllAdvertised);
    assert!(report.id_token_signing_algs.contains(&"RS256".to_string()));
    assert!(
        report
            .grant_types_supported
            .as_ref()
            .is_some_and(|g| g.iter().any(|g| g == "client_credentials"))
    );
    assert!(matches!(
        outcome.credentials,
        CredentialsOutcome::Skipped(SkipReason::NotRequested)
    ));
    assert!(!outcome.cached);

    // Other response types are evaluated on the cached documents: no new fetch.
    for rt in ["id_token", "id_token code"] {
        let outcome = checker.check(&req.clone().with_response_type(rt)).await;
        assert!(outcome.provider.is_ok(), "{rt}: {:?}", outcome.provider);
        assert!(outcome.cached);
    }
    let stats = checker.stats();
    assert_eq!(
        (
            stats.discovery_fetches,
            stats.jwks_fetches,
            stats.http_requests
        ),
        (1, 1, 2)
    );
    assert_eq!(stats.provider_results.get("Verified"), Some(&3));
}

#[tokio::test]
async fn https_provider_is_verified_with_the_test_ca_and_is_a_tls_error_without_it() {
    let idp = TestProvider::https().unwrap();
    let ca = idp.ca_pem().unwrap();
    let checker = checker();
    let base = CheckRequest::new(idp.issuer()).with_timeouts(quick());
    assert!(idp.issuer().starts_with("https://127.0.0.1:"));

    for also_system_roots in [false, true] {
        let req = base.clone().with_trust(Trust::CaBundle {
            pem: ca.clone(),
            also_system_roots,
        });
        let outcome = checker.check(&req).await;
        let report = outcome
            .provider
            .as_ref()
            .unwrap_or_else(|e| panic!("system roots {also_system_roots}: {e}"));
        assert_eq!(report.jwks_uri, format!("{}/jwks", idp.base_url()));
        assert_eq!(report.usable_signing_keys, 1);
    }

    let outcome = checker.check(&base).await;
    let err = provider_err(&outcome);
    assert_eq!(err.reason(), "TlsError", "{err}");
    assert!(matches!(
        err,
        CheckError::Transport {
            kind: TransportKind::Tls,
            ..
        }
    ));
    let message = err.to_string();
    eprintln!("without the CA: {}: {message}", err.reason());
    assert!(
        message.contains("UnknownIssuer") && message.contains("CA bundle"),
        "{message}"
    );
    assert!(message.contains(&idp.discovery_url()), "{message}");

    let garbage = base.clone().with_trust(Trust::CaBundle {
        pem: b"not a certificate".to_vec(),
        also_system_roots: false,
    });
    let outcome = checker.check(&garbage).await;
    assert_eq!(
        provider_err(&outcome).reason(),
        "InvalidCaBundle",
        "{}",
        provider_err(&outcome)
    );

    // Plain HTTP to the HTTPS port is a connection-level failure, not a verified provider.
    let plain =
        CheckRequest::new(idp.base_url().replace("https://", "http://")).with_timeouts(quick());
    let outcome = checker.check(&plain).await;
    eprintln!(
        "http to the https port: {}: {}",
        provider_err(&outcome).reason(),
        provider_err(&outcome)
    );
    assert!(outcome.provider.is_err());
}

#[tokio::test]
async fn client_credentials_valid_and_invalid() {
    let post_client = TestClient {
        auth_method: Some("client_secret_post".into()),
        ..TestClient::new("poster", &random_secret())
    };
    let idp = TestProvider::start_with(ProviderOptions {
        clients: vec![
            TestClient::new("operator", &random_secret()),
            post_client.clone(),
            TestClient {
                grant_types: Some(vec!["authorization_code".into()]),
                ..TestClient::new("web-app", &random_secret())
            },
        ],
        ..ProviderOptions::http()
    })
    .unwrap();
    let checker = checker();
    let req = |id: &str, secret: &str, method| {
        CheckRequest::new(idp.issuer())
            .with_timeouts(quick())
            .with_client_credentials(ClientCredentials::new(id, secret).with_auth_method(method))
    };

    let right = checker
        .check(&req(
            idp.client_id(),
            idp.client_secret(),
            TokenAuthMethod::ClientSecretBasic,
        ))
        .await;
    assert!(right.provider.is_ok());
    assert!(
        matches!(right.credentials, CredentialsOutcome::Valid { .. }),
        "{:?}\n{}",
        right.credentials,
        idp.log()
    );

    let post = checker
        .check(&req(
            &post_client.id,
            &post_client.secret,
            TokenAuthMethod::ClientSecretPost,
        ))
        .await;
    assert!(
        matches!(post.credentials, CredentialsOutcome::Valid { .. }),
        "{:?}",
        post.credentials
    );

    let wrong_secret = random_secret();
    let wrong = checker
        .check(&req(
            idp.client_id(),
            &wrong_secret,
            TokenAuthMethod::ClientSecretBasic,
        ))
        .await;
    let err = credentials_err(&wrong);
    eprintln!("wrong secret: {}: {err}", err.reason());
    assert_eq!(err.reason(), "InvalidClient", "{err}");
    assert!(err.to_string().contains("\"operator\""), "{err}");
    assert!(
        wrong.provider.is_ok(),
        "a wrong secret does not make the provider unverified"
    );

    // Right secret, but the client is not registered for this grant: not a wrong secret.
    // oidc-provider 8 answers `invalid_request` here (after authenticating the client), and a
    // wrong secret 401 invalid_client: the difference proves the secret.
    let web_app = &idp.clients()[2];
    let not_allowed = checker
        .check(&req(
            &web_app.id,
            &web_app.secret,
            TokenAuthMethod::ClientSecretBasic,
        ))
        .await;
    let CredentialsOutcome::Valid { proof } = &not_allowed.credentials else {
        panic!("the secret is right: {:?}", not_allowed.credentials)
    };
    eprintln!("grant not allowed: {proof}");
    assert!(
        proof.contains("HTTP 400 invalid_request") && proof.contains("rejected a wrong one"),
        "{proof}"
    );
    assert!(!proof.contains(&web_app.secret), "{proof}");

    let unknown = checker
        .check(&req(
            "nobody",
            &wrong_secret,
            TokenAuthMethod::ClientSecretPost,
        ))
        .await;
    assert_eq!(credentials_err(&unknown).reason(), "InvalidClient");

    let stats = checker.stats();
    assert_eq!(
        stats.discovery_fetches, 1,
        "one provider fetch for all five credential checks"
    );
    // One request each, and one more with a wrong secret for the refused grant.
    assert_eq!(stats.token_requests, 6);
    assert_eq!(stats.credentials_results.get("Valid"), Some(&3));
    assert_eq!(stats.credentials_results.get("InvalidClient"), Some(&2));
}

#[tokio::test]
async fn outage_is_seen_after_the_ttl_and_recovery_after_the_failure_ttl() {
    let mut idp = TestProvider::http().unwrap();
    let ttl = Duration::from_secs(1);
    let checker = ProviderChecker::new(CheckerConfig {
        ttl,
        failure_ttl: FAILURE_TTL,
        addresses: loopback(),
        ..CheckerConfig::default()
    });
    let req = CheckRequest::new(idp.issuer())
        .with_timeouts(quick())
        .with_client_credentials(ClientCredentials::new(idp.client_id(), idp.client_secret()));
    let port = idp.port();

    let up = checker.check(&req).await;
    let up_at = tokio::time::Instant::now();
    assert!(up.provider.is_ok() && matches!(up.credentials, CredentialsOutcome::Valid { .. }));

    idp.stop().unwrap();
    // Within the TTL the good result is reused: an outage shorter than the TTL goes unnoticed.
    let cached = checker.check(&req).await;
    assert!(cached.cached && cached.provider.is_ok());

    tokio::time::sleep_until(up_at + ttl + Duration::from_millis(100)).await;
    let down_at = tokio::time::Instant::now();
    let down = checker.check(&req).await;
    assert!(!down.cached);
    let err = provider_err(&down);
    eprintln!("provider stopped: {}: {err}", err.reason());
    assert_eq!(err.reason(), "Unreachable", "{err}");
    assert!(
        err.to_string()
            .to_lowercase()
            .contains("connection refused"),
        "{err}"
    );
    assert!(err.is_transient());
    assert!(matches!(
        down.credentials,
        CredentialsOutcome::Skipped(SkipReason::ProviderUnavailable)
    ));
    // The failure is cached, for the shorter failure TTL.
    let still_down = checker.check(&req).await;
    assert!(still_down.cached && still_down.provider.is_err());

    idp.start().unwrap();
    assert_eq!(idp.port(), port, "restarted on the same port");
    tokio::time::sleep_until(down_at + FAILURE_TTL + Duration::from_millis(50)).await;
    let back = checker.check(&req).await;
    assert!(!back.cached);
    assert!(back.provider.is_ok(), "{:?}", back.provider);
    assert!(matches!(back.credentials, CredentialsOutcome::Valid { .. }));
}

#[tokio::test]
async fn unreachable_token_endpoint_is_not_an_invalid_client() {
    let mut idp = TestProvider::http().unwrap();
    let checker = checker();
    let base = CheckRequest::new(idp.issuer()).with_timeouts(quick());
    assert!(checker.check(&base).await.provider.is_ok());
    idp.stop().unwrap();
    // The provider documents are cached; the grant (new credentials, so not cached) is not.
    let req =
        base.with_client_credentials(ClientCredentials::new(idp.client_id(), idp.client_secret()));
    let outcome = checker.check(&req).await;
    assert!(outcome.provider.is_ok());
    let err = credentials_err(&outcome);
    eprintln!("token endpoint down: {}: {err}", err.reason());
    assert_eq!(err.reason(), "Unreachable", "{err}");
    assert!(err.to_string().contains("token endpoint"), "{err}");
}

#[tokio::test]
async fn issuer_mismatch_is_reported_with_both_values() {
    let idp = TestProvider::start_with(ProviderOptions {
        issuer: Some("{listen}/realms/other".into()),
        ..ProviderOptions::http()
    })
    .unwrap();
    let checker = checker();

    let outcome = checker
        .check(&CheckRequest::new(idp.base_url()).with_timeouts(quick()))
        .await;
    let err = provider_err(&outcome);
    assert_eq!(err.reason(), "IssuerMismatch");
    let message = err.to_string();
    eprintln!("issuer mismatch: {message}");
    assert!(
        message.contains(&format!("{:?}", idp.issuer())),
        "{message}"
    );
    assert!(
        message.contains(&format!("{:?}", idp.base_url())),
        "{message}"
    );

    // The same provider verifies when the configuration names its real issuer and points the
    // discovery URL at where it is served.
    let req = CheckRequest::new(idp.issuer())
        .with_discovery_url(idp.discovery_url())
        .with_timeouts(quick());
    assert!(checker.check(&req).await.provider.is_ok());
}

#[tokio::test]
async fn trailing_slash_issuer_is_a_mismatch_with_a_hint() {
    let idp = TestProvider::http().unwrap();
    let outcome = checker()
        .check(&CheckRequest::new(format!("{}/", idp.issuer())).with_timeouts(quick()))
        .await;
    let err = provider_err(&outcome);
    assert_eq!(err.reason(), "IssuerMismatch");
    eprintln!("trailing slash: {err}");
    assert!(err.to_string().contains("trailing slash"), "{err}");
}

#[tokio::test]
async fn unadvertised_scopes_are_named_and_unsupported_response_types_fail() {
    let idp = TestProvider::start_with(ProviderOptions {
        response_types: Some(vec!["code".into()]),
        ..ProviderOptions::http()
    })
    .unwrap();
    let checker = checker();
    let req = CheckRequest::new(idp.issuer()).with_timeouts(quick());

    // scopes_supported may be partial: a scope it lacks is named, not failed.
    let outcome = checker
        .check(&req.clone().with_scopes(["openid", "groups", "email"]))
        .await;
    let report = outcome.provider.as_ref().expect("not a failure");
    assert_eq!(
        report.scopes,
        ScopeSupport::SomeNotAdvertised(vec!["groups".into()])
    );

    let outcome = checker
        .check(&req.clone().with_response_type("id_token"))
        .await;
    let err = provider_err(&outcome);
    assert_eq!(err.reason(), "UnsupportedResponseType");
    eprintln!("unsupported response type: {err}");
    assert!(
        err.to_string().contains("\"id_token\"") && err.to_string().contains("[\"code\"]"),
        "{err}"
    );

    assert!(checker.check(&req).await.provider.is_ok());
    assert_eq!(checker.stats().discovery_fetches, 1);
}

#[tokio::test]
async fn unusable_jwks_is_reported() {
    let empty = TestProvider::start_with(ProviderOptions {
        jwks_override: Some(serde_json::json!({"keys": []})),
        ..ProviderOptions::http()
    })
    .unwrap();
    let encryption_only = TestProvider::start_with(ProviderOptions {
        jwks_override: Some(serde_json::json!({"keys": [
            {"kty": "RSA", "use": "enc", "kid": "e", "e": "AQAB", "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw"}
        ]})),
        ..ProviderOptions::http()
    })
    .unwrap();
    let not_a_jwks = TestProvider::start_with(ProviderOptions {
        jwks_override: Some(serde_json::json!("nope")),
        ..ProviderOptions::http()
    })
    .unwrap();
    let checker = checker();
    for (idp, reason, words) in [
        (&empty, "JwksEmpty", "0 key(s)"),
        (&encryption_only, "JwksEmpty", "1 key(s)"),
        (&not_a_jwks, "InvalidJwks", "/jwks"),
    ] {
        let outcome = checker
            .check(&CheckRequest::new(idp.issuer()).with_timeouts(quick()))
            .await;
        let err = provider_err(&outcome);
        eprintln!("{reason}: {err}");
        assert_eq!(err.reason(), reason, "{err}");
        assert!(err.to_string().contains(words), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_checks_cause_one_fetch() {
    let idp = TestProvider::http().unwrap();
    let checker = checker();
    let req = CheckRequest::new(idp.issuer())
        .with_timeouts(quick())
        .with_client_credentials(ClientCredentials::new(idp.client_id(), idp.client_secret()));
    // Clones of the checker share its cache, as the reconciles share the operator's.
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let verifier = checker.clone();
            // Different scopes per resource still share the provider fetch.
            let req = if i % 2 == 0 {
                req.clone()
            } else {
                req.clone().with_scopes(["openid", "email"])
            };
            tokio::spawn(async move { verifier.check(&req).await })
        })
        .collect();
    for task in tasks {
        let outcome = task.await.unwrap();
        assert!(outcome.provider.is_ok(), "{:?}", outcome.provider);
        assert!(matches!(
            outcome.credentials,
            CredentialsOutcome::Valid { .. }
        ));
    }
    let stats = checker.stats();
    assert_eq!(stats.discovery_fetches, 1, "{stats:?}");
    assert_eq!(stats.jwks_fetches, 1, "{stats:?}");
    assert_eq!(stats.token_requests, 1, "{stats:?}");
    assert_eq!(stats.http_requests, 3, "{stats:?}");
    assert_eq!(stats.cache_hits, 19, "{stats:?}");
}

#[tokio::test]
async fn secrets_never_appear_in_messages_or_debug_output() {
    let mut idp = TestProvider::http().unwrap();
    let checker = checker();
    let real = idp.client_secret().to_owned();
    let wrong = random_secret();
    let mut texts = Vec::new();
    for (secret, method) in [
        (&real, TokenAuthMethod::ClientSecretBasic),
        (&wrong, TokenAuthMethod::ClientSecretBasic),
        (&wrong, TokenAuthMethod::ClientSecretPost),
    ] {
        let req = CheckRequest::new(idp.issuer())
            .with_timeouts(quick())
            .with_client_credentials(
                ClientCredentials::new(idp.client_id(), secret.as_str()).with_auth_method(method),
            );
        let outcome = checker.check(&req).await;
        texts.push(format!("{req:?}"));
        texts.push(format!("{outcome:?}"));
        if let CredentialsOutcome::Failed(e) = &outcome.credentials {
            texts.push(e.to_string());
        }
    }
    idp.stop().unwrap();
    let req = CheckRequest::new(idp.issuer())
        .with_timeouts(quick())
        .with_client_credentials(ClientCredentials::new(idp.client_id(), wrong.as_str()));
    let outcome = self::checker().check(&req).await;
    texts.push(format!("{outcome:?}"));
    texts.push(provider_err(&outcome).to_string());
    texts.push(format!("{checker:?} {:?}", checker.stats()));

    assert!(
        texts.iter().any(|t| t.contains("InvalidClient")),
        "the wrong secret was rejected"
    );
    for text in &texts {
        assert!(
            !text.contains(&real) && !text.contains(&wrong),
            "secret leaked: {text}"
        );
    }
}

/// A raw HTTP/1.1 server for behaviours a real provider will not show: it answers by path.
async fn misbehaving_server(jwks: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let origin = base.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let base = origin.clone();
            let jwks = jwks.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let n = socket.read(&mut buf).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let doc = serde_json::json!({
                    "issuer": base,
                    "authorization_endpoint": format!("{base}/auth"),
                    "token_endpoint": format!("{base}/token"),
                    "jwks_uri": format!("{base}/jwks"),
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                })
                .to_string();
                let (status, headers, body) = match path.as_str() {
                    "/moved/.well-known/openid-configuration" => (
                        "302 Found",
                        "Location: /.well-known/openid-configuration\r\n".to_string(),
                        String::new(),
                    ),
                    "/.well-known/openid-configuration" => {
                        ("200 OK", "Content-Type: application/json\r\n".into(), doc)
                    }
                    "/jwks" => ("200 OK", "Content-Type: application/json\r\n".into(), jwks),
                    // A gateway in front of the token endpoint failing with an HTML page.
                    "/token" => (
                        "503 Service Unavailable",
                        "Content-Type: text/html\r\n".into(),
                        "<html>upstream down</html>".into(),
                    ),
                    "/elsewhere" => (
                        "302 Found",
                        "Location: http://127.0.0.2:9/.well-known/openid-configuration\r\n".into(),
                        String::new(),
                    ),
                    "/slow" => {
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        ("200 OK", String::new(), String::new())
                    }
                    "/huge" => (
                        "200 OK",
                        "Content-Type: application/json\r\n".into(),
                        " ".repeat(2 * 1024 * 1024),
                    ),
                    _ => ("404 Not Found", String::new(), String::new()),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(body.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    base
}

#[tokio::test]
async fn redirects_timeouts_sizes_and_statuses() {
    // Borrow real keys from a real provider so the raw server's JWKS is usable.
    let idp = TestProvider::http().unwrap();
    let jwks = reqwest::get(format!("{}/jwks", idp.base_url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let base = misbehaving_server(jwks).await;
    let checker = checker();
    let req = |discovery: &str| {
        CheckRequest::new(base.clone())
            .with_discovery_url(format!("{base}{discovery}"))
            .with_timeouts(Timeouts {
                connect: Duration::from_secs(1),
                request: Duration::from_secs(1),
            })
    };

    let same_origin = checker
        .check(&req("/moved/.well-known/openid-configuration"))
        .await;
    assert!(
        same_origin.provider.is_ok(),
        "same-origin redirect followed: {:?}",
        same_origin.provider
    );

    // A token endpoint answering with a non-OAuth error page: not InvalidClient, and the HTTP
    // status (which oauth2 drops) is in the message.
    let secret = random_secret();
    let outcome = checker
        .check(
            &req("/.well-known/openid-configuration")
                .with_client_credentials(ClientCredentials::new("operator", secret.as_str())),
        )
        .await;
    assert!(outcome.provider.is_ok(), "{:?}", outcome.provider);
    let err = credentials_err(&outcome);
    eprintln!("token endpoint 503: {}: {err}", err.reason());
    assert_eq!(err.reason(), "TokenEndpointError", "{err}");
    assert!(err.to_string().contains("HTTP 503"), "{err}");
    assert!(!format!("{err} {err:?}").contains(&secret));

    for (path, reason, words) in [
        ("/elsewhere", "RedirectNotFollowed", "http://127.0.0.2:9"),
        ("/slow", "Timeout", "did not answer within 1s"),
        ("/huge", "ResponseTooLarge", "too large"),
        ("/missing", "HttpStatus", "HTTP 404"),
    ] {
        let outcome = checker.check(&req(path)).await;
        let err = provider_err(&outcome);
        eprintln!("{path}: {reason}: {err}");
        assert_eq!(err.reason(), reason, "{path}: {err}");
        assert!(err.to_string().contains(words), "{path}: {err}");
    }
}
