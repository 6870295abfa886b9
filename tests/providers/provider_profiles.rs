//! The test provider's profiles (tests/oidc-provider/profiles.mjs) answer like the providers they
//! stand for. These tests prove the test provider, not the operator: plain HTTP requests, the
//! answers each profile documents (provider.mjs lists them with their sources), and key sets that
//! verify the RS256 tokens the profiles issue.
//!
//! Needs only node (npm on first run) and openssl (HTTPS); no cluster.

use std::collections::BTreeSet;

use base64::Engine as _;
use openidconnect::core::{CoreJsonWebKeySet, CoreJwsSigningAlgorithm};
use openidconnect::{JsonWebKey as _, JsonWebKeyUse};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::http::{Answer, Auth, answer, post};
use crate::support::oidc::{
    COGNITO_USER_POOL, ENTRA_TENANT, KEYCLOAK_REALM, Profile, ProviderOptions, TestClient,
    TestProvider, random_secret,
};

/// The callback every test client registers.
use crate::support::oidc::CALLBACK;

// ------------------------------------------------------------------------------------------------
// Helpers

/// The assertions of these tests on an [`Answer`] (the kit's type, so a trait of this module).
trait Assertions {
    fn json(&self) -> Value;
    fn assert_error(&self, status: u16, error: &str, desc: Option<&str>);
    fn assert_page(&self, status: u16, words: &str);
    fn assert_redirect(&self, base: &str) -> url::Url;
    fn assert_error_redirect(&self, error: &str) -> Vec<(String, String)>;
}

impl Assertions for Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.text))
    }

    /// Asserts an RFC 6749 5.2 error body: `error`, and `error_description` containing `desc`
    /// (`None`: no description at all).
    #[track_caller]
    fn assert_error(&self, status: u16, error: &str, desc: Option<&str>) {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        let body = self.json();
        assert_eq!(body["error"], error, "{}", self.text);
        match desc {
            Some(d) => {
                let got = body["error_description"].as_str().unwrap_or_default();
                assert!(got.contains(d), "{got:?} should contain {d:?}");
            }
            None => assert!(body.get("error_description").is_none(), "{}", self.text),
        }
    }

    /// Asserts an HTML page with this status that says `words`.
    #[track_caller]
    fn assert_page(&self, status: u16, words: &str) {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        assert!(self.text.contains("<html"), "{}", self.text);
        assert!(
            self.text.contains(words),
            "{:?} should say {words:?}",
            self.text
        );
    }

    /// Asserts a 302 and returns its Location, resolved against `base`.
    #[track_caller]
    fn assert_redirect(&self, base: &str) -> url::Url {
        // 302, or 303 (Dex's error redirects).
        assert!(
            [StatusCode::FOUND, StatusCode::SEE_OTHER].contains(&self.status),
            "{} {}",
            self.status,
            self.text
        );
        let location = self.location.as_deref().expect("a Location header");
        url::Url::parse(base).unwrap().join(location).unwrap()
    }

    /// Asserts a redirect (302 or 303) to the callback carrying `error` and the state, and returns the parameters.
    #[track_caller]
    fn assert_error_redirect(&self, error: &str) -> Vec<(String, String)> {
        let to = self.assert_redirect(CALLBACK);
        assert!(to.as_str().starts_with(CALLBACK), "{to}");
        let params: Vec<(String, String)> = to
            .query_pairs()
            .chain(
                to.fragment()
                    .map(|f| url::form_urlencoded::parse(f.as_bytes()))
                    .into_iter()
                    .flatten(),
            )
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("error"), Some(error), "{to}");
        assert_eq!(get("state"), Some("st-1"), "{to}");
        params
    }
}

/// A client that follows no redirect and trusts the provider's test CA.
fn http(idp: &TestProvider) -> reqwest::Client {
    let mut b = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
    if let Some(pem) = idp.ca_pem() {
        b = b.tls_certs_only(reqwest::Certificate::from_pem_bundle(&pem).unwrap());
    }
    b.build().unwrap()
}

async fn get(c: &reqwest::Client, url: &str) -> Answer {
    answer(c.get(url).send().await.unwrap()).await
}

async fn get_json(c: &reqwest::Client, url: &str) -> Value {
    let a = get(c, url).await;
    assert_eq!(a.status, StatusCode::OK, "{url}: {}", a.text);
    a.json()
}

/// `GET <authorization_endpoint>` as a relying party without a user would send it.
async fn authorize(
    c: &reqwest::Client,
    idp: &TestProvider,
    client_id: &str,
    redirect_uri: &str,
    extra: &[(&str, &str)],
) -> Answer {
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("scope", "openid"),
        ("state", "st-1"),
        ("nonce", "n-1"),
    ];
    for (k, v) in extra {
        params.retain(|(n, _)| n != k);
        params.push((k, v));
    }
    let url = url::Url::parse_with_params(&idp.authorization_endpoint(), params).unwrap();
    get(c, url.as_str()).await
}

fn start(options: ProviderOptions) -> TestProvider {
    TestProvider::start_with(options).unwrap()
}

fn strings(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

/// Checks the discovery document against the harness's accessors and returns it.
async fn discovery(c: &reqwest::Client, idp: &TestProvider) -> Value {
    let doc = get_json(c, &idp.discovery_url()).await;
    assert_eq!(doc["issuer"], idp.issuer(), "{doc}");
    assert_eq!(doc["authorization_endpoint"], idp.authorization_endpoint());
    assert_eq!(doc["token_endpoint"], idp.token_endpoint());
    assert_eq!(doc["jwks_uri"], idp.jwks_uri());
    assert_eq!(
        doc.get("introspection_endpoint").and_then(Value::as_str),
        idp.introspection_endpoint().as_deref()
    );
    assert_eq!(
        doc.get("revocation_endpoint").and_then(Value::as_str),
        idp.revocation_endpoint().as_deref()
    );
    doc
}

/// Every `sig` key of the key set can verify RS256 signatures with the operator's own JOSE
/// library: a wrong signature fails as a signature mismatch, not as an unusable key.
async fn assert_keys_usable(c: &reqwest::Client, idp: &TestProvider) -> Value {
    let raw = get_json(c, &idp.jwks_uri()).await;
    let jwks: CoreJsonWebKeySet = serde_json::from_value(raw.clone()).unwrap();
    let mut signing = 0;
    for key in jwks.keys() {
        if !key.key_use().is_none_or(JsonWebKeyUse::allows_signature) {
            continue;
        }
        signing += 1;
        let err = key
            .verify_signature(
                &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                b"message",
                &[0u8; 256],
            )
            .unwrap_err();
        assert!(
            matches!(
                err,
                openidconnect::SignatureVerificationError::CryptoError(_)
            ),
            "{key:?}: {err}"
        );
    }
    assert!(signing > 0, "no signing key in {raw}");
    raw
}

/// A successful client-credentials answer: its access token is an RS256 JWT whose signature the
/// published key set verifies, issued by `iss`. Returns the token's claims.
async fn assert_token_verifies(
    c: &reqwest::Client,
    idp: &TestProvider,
    a: &Answer,
    iss: &str,
) -> Value {
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let body = a.json();
    assert_eq!(body["token_type"], "Bearer");
    let token = body["access_token"].as_str().unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWT: {token}");
    let header: Value = serde_json::from_slice(&b64(parts[0])).unwrap();
    let claims: Value = serde_json::from_slice(&b64(parts[1])).unwrap();
    assert_eq!(header["alg"], "RS256");
    assert_eq!(claims["iss"], iss);
    let jwks: CoreJsonWebKeySet =
        serde_json::from_value(get_json(c, &idp.jwks_uri()).await).unwrap();
    let kid = header["kid"].as_str().unwrap();
    let key = jwks
        .keys()
        .iter()
        .find(|k| k.key_id().map(|id| id.as_str()) == Some(kid))
        .unwrap_or_else(|| panic!("no key {kid} in the published key set"));
    let signing_input = format!("{}.{}", parts[0], parts[1]);
    key.verify_signature(
        &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        signing_input.as_bytes(),
        &b64(parts[2]),
    )
    .unwrap();
    claims
}

/// The same-origin login page: either the authorization endpoint's own 200 page, or a 302 on the
/// same origin to a page that answers 200.
async fn assert_login_page(c: &reqwest::Client, idp: &TestProvider, a: &Answer, direct: bool) {
    if direct {
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        assert!(a.text.contains("<html"), "{}", a.text);
        return;
    }
    let to = a.assert_redirect(&idp.authorization_endpoint());
    let base = url::Url::parse(idp.base_url()).unwrap();
    assert_eq!(to.origin(), base.origin(), "{to}");
    let page = get(c, to.as_str()).await;
    assert_eq!(page.status, StatusCode::OK, "{to}: {}", page.text);
    assert!(page.text.contains("<html"), "{}", page.text);
}

fn web_client(id: &str, secret: &str) -> TestClient {
    TestClient::new(id, secret)
        .with_redirect_uris([CALLBACK])
        .with_grants(["authorization_code", "refresh_token"])
}

// ------------------------------------------------------------------------------------------------
// Every profile

#[tokio::test]
async fn every_profile_serves_its_discovery_and_keys_over_https_and_http() {
    for https in [true, false] {
        for profile in Profile::ALL {
            let base = if https {
                ProviderOptions::https()
            } else {
                ProviderOptions::http()
            };
            let idp = start(base.with_profile(profile));
            assert_eq!(idp.profile(), Some(profile));
            let c = http(&idp);
            let scheme = if https { "https://" } else { "http://" };
            assert!(idp.issuer().starts_with(scheme), "{}", idp.issuer());
            let doc = discovery(&c, &idp).await;
            for (k, v) in doc.as_object().unwrap() {
                if let Some(url) = v.as_str().filter(|v| v.contains("://")) {
                    assert!(url.starts_with(scheme), "{profile:?} {k}: {url}");
                }
            }
            assert_keys_usable(&c, &idp).await;
        }
    }
}

#[tokio::test]
async fn http_endpoints_downgrade_the_endpoints_but_not_the_issuer() {
    let mut options = ProviderOptions::https();
    options.http_endpoints = true;
    let defaults = start(options.clone());
    let c = http(&defaults);
    let doc = get_json(&c, &defaults.discovery_url()).await;
    assert_eq!(doc["issuer"], defaults.issuer());
    assert!(defaults.issuer().starts_with("https://"));
    for (k, url) in [
        ("authorization_endpoint", defaults.authorization_endpoint()),
        ("token_endpoint", defaults.token_endpoint()),
        ("jwks_uri", defaults.jwks_uri()),
    ] {
        assert_eq!(doc[k], url.replacen("https://", "http://", 1), "{k}");
    }

    for profile in Profile::ALL {
        let idp = start(options.clone().with_profile(profile));
        let c = http(&idp);
        let doc = get_json(&c, &idp.discovery_url()).await;
        assert_eq!(doc["issuer"], idp.issuer(), "{profile:?}");
        assert!(idp.issuer().starts_with("https://"));
        assert_eq!(
            doc["token_endpoint"],
            idp.token_endpoint().replacen("https://", "http://", 1)
        );
        assert_eq!(
            doc["authorization_endpoint"],
            idp.authorization_endpoint()
                .replacen("https://", "http://", 1)
        );
        assert_eq!(
            doc["jwks_uri"],
            idp.jwks_uri().replacen("https://", "http://", 1)
        );
    }
}

#[tokio::test]
async fn the_default_behaviour_is_unchanged() {
    let idp = start(ProviderOptions::http());
    let c = http(&idp);
    let doc = get_json(&c, &idp.discovery_url()).await;
    assert_eq!(doc["issuer"], idp.base_url());
    assert_eq!(doc["token_endpoint"], format!("{}/token", idp.base_url()));
    assert_eq!(doc["jwks_uri"], format!("{}/jwks", idp.base_url()));
    assert!(doc.get("introspection_endpoint").is_none());
    let ok = post(
        &c,
        &idp.token_endpoint(),
        Auth::Basic(idp.client_id(), idp.client_secret()),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    post(
        &c,
        &idp.token_endpoint(),
        Auth::Basic(idp.client_id(), "wrong"),
        &[("grant_type", "client_credentials")],
    )
    .await
    .assert_error(401, "invalid_client", Some("client authentication failed"));
}

// ------------------------------------------------------------------------------------------------
// One test per profile

#[tokio::test]
async fn keycloak_profile() {
    let secret = random_secret();
    let web_secret = random_secret();
    let idp = start(
        ProviderOptions::https()
            .with_profile(Profile::Keycloak)
            .with_clients([
                TestClient::new("om", &secret)
                    .with_redirect_uris([CALLBACK])
                    .with_scopes(["om-api"]),
                web_client("web", &web_secret),
            ]),
    );
    let c = http(&idp);
    assert_eq!(
        idp.issuer(),
        format!("{}/realms/{KEYCLOAK_REALM}", idp.base_url())
    );

    let doc = discovery(&c, &idp).await;
    assert!(strings(&doc["grant_types_supported"]).contains("client_credentials"));
    assert_eq!(
        strings(&doc["code_challenge_methods_supported"]),
        set(&["plain", "S256"])
    );
    let scopes = strings(&doc["scopes_supported"]);
    assert!(scopes.is_superset(&set(&["openid", "profile", "email", "roles", "om-api"])));
    assert!(
        strings(&doc["token_endpoint_auth_methods_supported"])
            .is_superset(&set(&["client_secret_basic", "client_secret_post"]))
    );
    assert!(strings(&doc["response_types_supported"]).contains("id_token"));
    let keys = assert_keys_usable(&c, &idp).await;
    let enc: Vec<&Value> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["use"] == "enc")
        .collect();
    assert_eq!(enc.len(), 1, "{keys}");
    assert_eq!(enc[0]["alg"], "RSA-OAEP");

    let token = idp.token_endpoint();
    let cc = [("grant_type", "client_credentials")];
    let ok = post(&c, &token, Auth::Basic("om", &secret), &cc).await;
    assert_token_verifies(&c, &idp, &ok, &idp.issuer()).await;
    let ok = post(
        &c,
        &token,
        Auth::Post("om", &secret),
        &[
            ("grant_type", "client_credentials"),
            ("scope", "om-api profile"),
        ],
    )
    .await;
    assert_token_verifies(&c, &idp, &ok, &idp.issuer()).await;
    // Measured on Keycloak 26.7: a wrong secret is unauthorized_client, not invalid_client.
    for auth in [
        Auth::Basic("om", "wrong"),
        Auth::Post("om", "wrong"),
        Auth::Post("om", ""),
    ] {
        post(&c, &token, auth, &cc).await.assert_error(
            401,
            "unauthorized_client",
            Some("Invalid client or Invalid client credentials"),
        );
    }
    post(&c, &token, Auth::Basic("nobody", "x"), &cc)
        .await
        .assert_error(
            401,
            "invalid_client",
            Some("Invalid client or Invalid client credentials"),
        );
    post(&c, &token, Auth::Basic("web", &web_secret), &cc)
        .await
        .assert_error(
            401,
            "unauthorized_client",
            Some("Client not enabled to retrieve service account"),
        );
    post(
        &c,
        &token,
        Auth::Basic("om", &secret),
        &[("grant_type", "client_credentials"), ("scope", "other-api")],
    )
    .await
    .assert_error(400, "invalid_scope", Some("Invalid scopes: other-api"));

    let introspect = idp.introspection_endpoint().unwrap();
    let a = post(
        &c,
        &introspect,
        Auth::Basic("om", &secret),
        &[("token", "garbage")],
    )
    .await;
    assert_eq!(
        (a.status.as_u16(), a.json()),
        (200, json!({"active": false}))
    );
    post(
        &c,
        &introspect,
        Auth::Basic("om", "wrong"),
        &[("token", "garbage")],
    )
    .await
    .assert_error(401, "invalid_client", Some("Client authentication failed."));
    let revoke = idp.revocation_endpoint().unwrap();
    let a = post(
        &c,
        &revoke,
        Auth::Post("om", &secret),
        &[("token", "garbage")],
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let a = post(
        &c,
        &revoke,
        Auth::Post("om", "wrong"),
        &[("token", "garbage")],
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.text);

    let a = authorize(&c, &idp, "om", CALLBACK, &[]).await;
    assert_login_page(&c, &idp, &a, true).await;
    let a = authorize(
        &c,
        &idp,
        "om",
        CALLBACK,
        &[
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    assert_login_page(&c, &idp, &a, true).await;
    authorize(&c, &idp, "om", "https://om.example.com/other", &[])
        .await
        .assert_page(400, "Invalid parameter: redirect_uri");
    authorize(&c, &idp, "nobody", CALLBACK, &[])
        .await
        .assert_page(400, "Client not found.");
    authorize(&c, &idp, "om", CALLBACK, &[("scope", "openid bogus")])
        .await
        .assert_error_redirect("invalid_scope");
    // The client may not use the implicit grant an id_token response needs.
    authorize(
        &c,
        &idp,
        "om",
        CALLBACK,
        &[("response_type", "code id_token")],
    )
    .await
    .assert_error_redirect("unauthorized_client");
}

#[tokio::test]
async fn entra_profile() {
    let secret = random_secret();
    let web_secret = random_secret();
    let idp = start(
        ProviderOptions::https()
            .with_profile(Profile::Entra)
            .with_clients([
                TestClient::new("om", &secret)
                    .with_redirect_uris([CALLBACK])
                    .with_scopes(["api://om/.default"]),
                web_client("web", &web_secret).with_scopes(["api://om/.default"]),
            ]),
    );
    let c = http(&idp);
    assert_eq!(
        idp.issuer(),
        format!("{}/{ENTRA_TENANT}/v2.0", idp.base_url())
    );

    let doc = discovery(&c, &idp).await;
    for absent in [
        "grant_types_supported",
        "code_challenge_methods_supported",
        "introspection_endpoint",
        "revocation_endpoint",
    ] {
        assert!(doc.get(absent).is_none(), "{absent}: {doc}");
    }
    assert_eq!(
        strings(&doc["scopes_supported"]),
        set(&["openid", "profile", "email", "offline_access"])
    );
    let keys = assert_keys_usable(&c, &idp).await;
    for key in keys["keys"].as_array().unwrap() {
        assert!(key.get("alg").is_none(), "{key}");
        assert_eq!(key["issuer"], idp.issuer());
    }

    let token = idp.token_endpoint();
    let with_scope = |s: &'static str| [("grant_type", "client_credentials"), ("scope", s)];
    let ok = post(
        &c,
        &token,
        Auth::Post("om", &secret),
        &with_scope("api://om/.default"),
    )
    .await;
    let claims = assert_token_verifies(&c, &idp, &ok, &idp.issuer()).await;
    assert_eq!(claims["aud"], "api://om");
    let wrong = post(
        &c,
        &token,
        Auth::Post("om", "wrong"),
        &with_scope("api://om/.default"),
    )
    .await;
    wrong.assert_error(401, "invalid_client", Some("AADSTS7000215"));
    assert_eq!(wrong.json()["error_codes"], json!([7000215]));
    assert!(wrong.json()["trace_id"].is_string());
    post(
        &c,
        &token,
        Auth::Basic("nobody", "x"),
        &with_scope("api://om/.default"),
    )
    .await
    .assert_error(400, "unauthorized_client", Some("AADSTS700016"));
    post(
        &c,
        &token,
        Auth::Post("om", &secret),
        &[("grant_type", "client_credentials")],
    )
    .await
    .assert_error(400, "invalid_request", Some("AADSTS900144"));
    for scope in ["openid", "api://om/read"] {
        post(&c, &token, Auth::Post("om", &secret), &with_scope(scope))
            .await
            .assert_error(400, "invalid_scope", Some("AADSTS1002012"));
    }
    post(
        &c,
        &token,
        Auth::Post("om", &secret),
        &with_scope("api://unknown/.default"),
    )
    .await
    .assert_error(400, "invalid_resource", Some("AADSTS500011"));
    // No per-application client-credentials switch: the web client gets a token too.
    let ok = post(
        &c,
        &token,
        Auth::Basic("web", &web_secret),
        &with_scope("api://om/.default"),
    )
    .await;
    assert_token_verifies(&c, &idp, &ok, &idp.issuer()).await;

    let a = authorize(&c, &idp, "om", CALLBACK, &[]).await;
    assert_login_page(&c, &idp, &a, true).await;
    authorize(&c, &idp, "om", "https://om.example.com/other", &[])
        .await
        .assert_page(400, "AADSTS50011");
    authorize(&c, &idp, "nobody", CALLBACK, &[])
        .await
        .assert_page(400, "AADSTS700016");
    authorize(&c, &idp, "om", CALLBACK, &[("scope", "openid bogus")])
        .await
        .assert_error_redirect("invalid_scope");
}

#[tokio::test]
async fn entra_common_profile() {
    let secret = random_secret();
    let idp = start(
        ProviderOptions::https()
            .with_profile(Profile::EntraCommon)
            .with_clients([TestClient::new("om", &secret)
                .with_redirect_uris([CALLBACK])
                .with_scopes(["api://om/.default"])]),
    );
    let c = http(&idp);
    // The literal template, never equal to the authority it was fetched from.
    assert_eq!(
        idp.issuer(),
        format!("{}/{{tenantid}}/v2.0", idp.base_url())
    );
    assert_eq!(idp.authority(), format!("{}/common/v2.0", idp.base_url()));
    assert_eq!(
        idp.discovery_url(),
        format!(
            "{}/common/v2.0/.well-known/openid-configuration",
            idp.base_url()
        )
    );
    let doc = discovery(&c, &idp).await;
    assert_eq!(
        doc["issuer"],
        format!("{}/{{tenantid}}/v2.0", idp.base_url())
    );
    let tenant_doc = get_json(
        &c,
        &format!(
            "{}/{ENTRA_TENANT}/v2.0/.well-known/openid-configuration",
            idp.base_url()
        ),
    )
    .await;
    assert_eq!(tenant_doc["issuer"], idp.tenant_issuer());
    assert_keys_usable(&c, &idp).await;

    let scope = [
        ("grant_type", "client_credentials"),
        ("scope", "api://om/.default"),
    ];
    post(&c, &idp.token_endpoint(), Auth::Post("om", &secret), &scope)
        .await
        .assert_error(400, "unsupported_grant_type", Some("AADSTS9001023"));
    let tenant_token = tenant_doc["token_endpoint"].as_str().unwrap();
    let ok = post(&c, tenant_token, Auth::Post("om", &secret), &scope).await;
    // Tokens carry the tenant's issuer.
    assert_token_verifies(&c, &idp, &ok, &idp.tenant_issuer()).await;

    let a = authorize(&c, &idp, "om", CALLBACK, &[]).await;
    assert_login_page(&c, &idp, &a, true).await;
    authorize(&c, &idp, "om", "https://om.example.com/other", &[])
        .await
        .assert_page(400, "AADSTS50011");
}

#[tokio::test]
async fn okta_profile() {
    let secret = random_secret();
    let web_secret = random_secret();
    let idp = start(
        ProviderOptions::https()
            .with_profile(Profile::Okta)
            .with_clients([
                TestClient::new("om", &secret)
                    .with_redirect_uris([CALLBACK])
                    .with_scopes(["om.read"]),
                web_client("web", &web_secret),
            ]),
    );
    let c = http(&idp);
    assert_eq!(idp.issuer(), format!("{}/oauth2/default", idp.base_url()));

    let doc = discovery(&c, &idp).await;
    let scopes = strings(&doc["scopes_supported"]);
    assert!(
        scopes.contains("openid") && !scopes.contains("om.read"),
        "{scopes:?}"
    );
    assert!(!strings(&doc["grant_types_supported"]).contains("client_credentials"));
    assert_eq!(
        strings(&doc["code_challenge_methods_supported"]),
        set(&["S256"])
    );
    let as_doc = get_json(
        &c,
        &format!("{}/.well-known/oauth-authorization-server", idp.issuer()),
    )
    .await;
    assert!(strings(&as_doc["grant_types_supported"]).contains("client_credentials"));
    assert_keys_usable(&c, &idp).await;

    let token = idp.token_endpoint();
    let with_scope = |s: &'static str| [("grant_type", "client_credentials"), ("scope", s)];
    let ok = post(
        &c,
        &token,
        Auth::Basic("om", &secret),
        &with_scope("om.read"),
    )
    .await;
    assert_token_verifies(&c, &idp, &ok, &idp.issuer()).await;
    post(
        &c,
        &token,
        Auth::Basic("om", "wrong"),
        &with_scope("om.read"),
    )
    .await
    .assert_error(
        401,
        "invalid_client",
        Some("The client secret supplied for a confidential client is invalid."),
    );
    // Unknown client: Okta's own error shape, without an RFC `error` member.
    let a = post(
        &c,
        &token,
        Auth::Basic("nobody", "x"),
        &with_scope("om.read"),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(a.json()["errorCode"], "invalid_client");
    assert!(a.json().get("error").is_none());
    post(&c, &token, Auth::None, &with_scope("om.read"))
        .await
        .assert_error(401, "invalid_client", Some("No client credentials found."));
    post(
        &c,
        &token,
        Auth::Basic("web", &web_secret),
        &with_scope("om.read"),
    )
    .await
    .assert_error(
        400,
        "unauthorized_client",
        Some("Configured grant types: [authorization_code, refresh_token]"),
    );
    post(
        &c,
        &token,
        Auth::Basic("om", &secret),
        &[("grant_type", "client_credentials")],
    )
    .await
    .assert_error(400, "invalid_scope", Some("'scope' must be provided"));
    post(
        &c,
        &token,
        Auth::Basic("om", &secret),
        &with_scope("openid"),
    )
    .await
    .assert_error(400, "invalid_scope", Some("Cannot request 'openid' scopes"));
    post(
        &c,
        &token,
        Auth::Basic("om", &secret),
        &with_scope("other.scope"),
    )
    .await
    .assert_error(
        400,
        "invalid_scope",
        Some("not configured for the authorization server"),
    );

    let introspect = idp.introspection_endpoint().unwrap();
    let a = post(
        &c,
        &introspect,
        Auth::Basic("om", &secret),
        &[("token", "garbage")],
    )
    .await;
    assert_eq!(
        (a.status.as_u16(), a.json()),
        (200, json!({"active": false}))
    );
    post(
        &c,
        &introspect,
        Auth::Basic("om", "wrong"),
        &[("token", "garbage")],
    )
    .await
    .assert_error(401, "invalid_client", Some("invalid"));
    let revoke = idp.revocation_endpoint().unwrap();
    let a = post(
        &c,
        &revoke,
        Auth::Basic("om", &secret),
        &[("token", "garbage")],
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    post(
        &c,
        &revoke,
        Auth::Basic("om", "wrong"),
        &[("token", "garbage")],
    )
    .await
    .assert_error(401, "invalid_client", Some("invalid"));

    let a = authorize(&c, &idp, "om", CALLBACK, &[]).await;
    assert_login_page(&c, &idp, &a, true).await;
    authorize(&c, &idp, "om", "https://om.example.com/other", &[])
        .await
        .assert_page(400, "must be a Login redirect URI");
    authorize(&c, &idp, "nobody", CALLBACK, &[])
        .await
        .assert_page(400, "client_id");
    authorize(&c, &idp, "om", CALLBACK, &[("scope", "openid bogus")])
        .await
        .assert_error_redirect("invalid_scope");
    authorize(
        &c,
        &idp,
        "om",
        CALLBACK,
        &[
            ("code_challenge", "abc"),
            ("code_challenge_method", "plain"),
        ],
    )
    .await
    .assert_error_redirect("invalid_request");
}

#[tokio::test]
async fn auth0_profile() {
    let secret = random_secret();
    let web_secret = random_secret();
    let idp = start(
        ProviderOptions::https()
            .with_profile(Profile::Auth0)
            .with_clients([
                TestClient::new("om", &secret)
                    .with_redirect_uris([CALLBACK])
                    .with_audiences(["https://om.example.com/api"]),
                web_client("web", &web_secret).with_audiences(["https://other.example.com/api"]),
            ]),
    );
    let c = http(&idp);
    assert_eq!(idp.issuer(), format!("{}/", idp.base_url()));
    assert_eq!(
        idp.discovery_url(),
        format!("{}/.well-known/openid-configuration", idp.base_url())
    );
    // The issuer plus "/.well-known/…" doubles the slash: a 404.
    let doubled = get(
        &c,
        &format!("{}/.well-known/openid-configuration", idp.issuer()),
    )
    .await;
    assert_eq!(doubled.status, StatusCode::NOT_FOUND);

    let doc = discovery(&c, &idp).await;
    assert!(doc.get("grant_types_supported").is_none());
    assert!(strings(&doc["id_token_signing_alg_values_supported"]).contains("HS256"));
    assert_keys_usable(&c, &idp).await;

    let token = idp.token_endpoint();
    let with_aud = |a: &'static str| [("grant_type", "client_credentials"), ("audience", a)];
    let ok = post(
        &c,
        &token,
        Auth::Post("om", &secret),
        &with_aud("https://om.example.com/api"),
    )
    .await;
    let claims = assert_token_verifies(&c, &idp, &ok, &idp.issuer()).await;
    assert_eq!(claims["aud"], "https://om.example.com/api");
    for auth in [Auth::Post("om", "wrong"), Auth::Basic("nobody", "x")] {
        post(&c, &token, auth, &with_aud("https://om.example.com/api"))
            .await
            .assert_error(401, "access_denied", Some("Unauthorized"));
    }
    post(
        &c,
        &token,
        Auth::Post("web", &web_secret),
        &with_aud("https://other.example.com/api"),
    )
    .await
    .assert_error(
        403,
        "unauthorized_client",
        Some("Grant type 'client_credentials' not allowed"),
    );
    post(
        &c,
        &token,
        Auth::Post("om", &secret),
        &[("grant_type", "client_credentials")],
    )
    .await
    .assert_error(
        403,
        "access_denied",
        Some("No audience parameter was provided"),
    );
    post(
        &c,
        &token,
        Auth::Post("om", &secret),
        &with_aud("https://nowhere.example.com"),
    )
    .await
    .assert_error(
        403,
        "access_denied",
        Some("Service not enabled within domain"),
    );
    post(
        &c,
        &token,
        Auth::Post("om", &secret),
        &with_aud("https://other.example.com/api"),
    )
    .await
    .assert_error(403, "access_denied", Some("client-grant"));

    assert!(idp.introspection_endpoint().is_none());
    let revoke = idp.revocation_endpoint().unwrap();
    let a = post(
        &c,
        &revoke,
        Auth::Post("om", &secret),
        &[("token", "garbage")],
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    post(
        &c,
        &revoke,
        Auth::Post("om", "wrong"),
        &[("token", "garbage")],
    )
    .await
    .assert_error(401, "invalid_client", Some("Client authentication failed."));

    let a = authorize(&c, &idp, "om", CALLBACK, &[]).await;
    assert_login_page(&c, &idp, &a, false).await;
    assert!(a.location.as_deref().unwrap().contains("/u/login?state="));
    authorize(&c, &idp, "om", "https://om.example.com/other", &[])
        .await
        .assert_page(400, "Callback URL mismatch");
    authorize(&c, &idp, "nobody", CALLBACK, &[])
        .await
        .assert_page(400, "Unknown client");
    authorize(&c, &idp, "om", CALLBACK, &[("response_type", "bogus")])
        .await
        .assert_error_redirect("unsupported_response_type");
}

#[tokio::test]
async fn google_profile() {
    let secret = random_secret();
    let idp = start(
        ProviderOptions::https()
            .with_profile(Profile::Google)
            .with_clients([web_client("om", &secret)]),
    );
    let c = http(&idp);
    assert_eq!(idp.issuer(), idp.base_url());

    let doc = discovery(&c, &idp).await;
    assert!(!strings(&doc["grant_types_supported"]).contains("client_credentials"));
    assert_eq!(
        strings(&doc["scopes_supported"]),
        set(&["openid", "email", "profile"])
    );
    assert_keys_usable(&c, &idp).await;

    let token = idp.token_endpoint();
    let cc = [("grant_type", "client_credentials")];
    post(&c, &token, Auth::Post("om", &secret), &cc)
        .await
        .assert_error(
            400,
            "unsupported_grant_type",
            Some("Invalid grant_type: client_credentials"),
        );
    // The client is authenticated before the grant is looked at.
    post(&c, &token, Auth::Post("om", "wrong"), &cc)
        .await
        .assert_error(401, "invalid_client", Some("Unauthorized"));
    post(&c, &token, Auth::Post("nobody", "x"), &cc)
        .await
        .assert_error(
            401,
            "invalid_client",
            Some("The OAuth client was not found."),
        );
    let code = [
        ("grant_type", "authorization_code"),
        ("code", "garbage"),
        ("redirect_uri", CALLBACK),
    ];
    post(&c, &token, Auth::Post("om", &secret), &code)
        .await
        .assert_error(400, "invalid_grant", Some("Malformed auth code."));
    post(&c, &token, Auth::Post("om", "wrong"), &code)
        .await
        .assert_error(401, "invalid_client", Some("Unauthorized"));

    // Revocation needs no client authentication and cannot tell a right secret from a wrong one.
    let revoke = idp.revocation_endpoint().unwrap();
    for auth in [
        Auth::Post("om", &secret),
        Auth::Post("om", "wrong"),
        Auth::None,
    ] {
        post(&c, &revoke, auth, &[("token", "garbage")])
            .await
            .assert_error(400, "invalid_token", Some("Token expired or revoked"));
    }
    assert_eq!(get(&c, &revoke).await.status, StatusCode::NOT_FOUND);

    let a = authorize(&c, &idp, "om", CALLBACK, &[]).await;
    assert_login_page(&c, &idp, &a, false).await;
    authorize(&c, &idp, "om", "https://om.example.com/other", &[])
        .await
        .assert_page(400, "redirect_uri_mismatch");
    authorize(&c, &idp, "nobody", CALLBACK, &[])
        .await
        .assert_page(401, "invalid_client");
    authorize(
        &c,
        &idp,
        "om",
        CALLBACK,
        &[("scope", "openid https://www.googleapis.com/auth/nothing")],
    )
    .await
    .assert_error_redirect("invalid_scope");
}

#[tokio::test]
async fn cognito_profile() {
    let secret = random_secret();
    let web_secret = random_secret();
    let idp = start(
        ProviderOptions::https()
            .with_profile(Profile::Cognito)
            .with_clients([
                TestClient::new("om", &secret)
                    .with_redirect_uris([CALLBACK])
                    .with_scopes(["om-api/read", "om-api/write"]),
                web_client("web", &web_secret),
            ]),
    );
    let c = http(&idp);
    assert_eq!(
        idp.issuer(),
        format!("{}/{COGNITO_USER_POOL}", idp.base_url())
    );

    let doc = discovery(&c, &idp).await;
    assert_eq!(
        strings(&doc["response_types_supported"]),
        set(&["code", "token"])
    );
    for absent in [
        "grant_types_supported",
        "code_challenge_methods_supported",
        "introspection_endpoint",
    ] {
        assert!(doc.get(absent).is_none(), "{absent}: {doc}");
    }
    assert!(!strings(&doc["scopes_supported"]).contains("om-api/read"));
    assert_keys_usable(&c, &idp).await;

    let token = idp.token_endpoint();
    let cc = [("grant_type", "client_credentials")];
    // Without scope, all the client's custom scopes are granted.
    let ok = post(&c, &token, Auth::Basic("om", &secret), &cc).await;
    assert_token_verifies(&c, &idp, &ok, &idp.issuer()).await;
    let ok = post(
        &c,
        &token,
        Auth::Basic("om", &secret),
        &[
            ("grant_type", "client_credentials"),
            ("scope", "om-api/read"),
        ],
    )
    .await;
    assert_token_verifies(&c, &idp, &ok, &idp.issuer()).await;
    // A wrong secret and an unknown client look the same: 400 invalid_client, no description.
    for auth in [Auth::Basic("om", "wrong"), Auth::Basic("nobody", "x")] {
        post(&c, &token, auth, &cc)
            .await
            .assert_error(400, "invalid_client", None);
    }
    post(&c, &token, Auth::Basic("web", &web_secret), &cc)
        .await
        .assert_error(400, "unauthorized_client", None);
    post(
        &c,
        &token,
        Auth::Basic("om", &secret),
        &[("grant_type", "client_credentials"), ("scope", "openid")],
    )
    .await
    .assert_error(400, "invalid_scope", None);

    let revoke = idp.revocation_endpoint().unwrap();
    let a = post(
        &c,
        &revoke,
        Auth::Basic("om", &secret),
        &[("token", "garbage")],
    )
    .await;
    assert_eq!((a.status, a.text.as_str()), (StatusCode::OK, ""));
    post(
        &c,
        &revoke,
        Auth::Basic("om", "wrong"),
        &[("token", "garbage")],
    )
    .await
    .assert_error(401, "invalid_client", None);

    let a = authorize(&c, &idp, "om", CALLBACK, &[]).await;
    assert_login_page(&c, &idp, &a, false).await;
    let login = a.assert_redirect(&idp.authorization_endpoint());
    assert_eq!(login.path(), "/login");
    assert!(
        login
            .query_pairs()
            .any(|(k, v)| k == "redirect_uri" && v == CALLBACK)
    );
    // An unregistered callback: a 302 to the domain's own error page, which answers 400.
    let a = authorize(&c, &idp, "om", "https://om.example.com/other", &[]).await;
    let to = a.assert_redirect(&idp.authorization_endpoint());
    assert_eq!(to.path(), "/error");
    assert!(
        to.query_pairs()
            .any(|(k, v)| k == "error" && v == "redirect_mismatch")
    );
    get(&c, to.as_str())
        .await
        .assert_page(400, "redirect_mismatch");
    let a = authorize(&c, &idp, "nobody", CALLBACK, &[]).await;
    assert_eq!(
        a.assert_redirect(&idp.authorization_endpoint()).path(),
        "/error"
    );
    authorize(&c, &idp, "om", CALLBACK, &[("response_type", "id_token")])
        .await
        .assert_error_redirect("unsupported_response_type");
    authorize(
        &c,
        &idp,
        "om",
        CALLBACK,
        &[
            ("code_challenge", "abc"),
            ("code_challenge_method", "plain"),
        ],
    )
    .await
    .assert_error_redirect("invalid_request");
}

#[tokio::test]
async fn dex_profile() {
    let secret = random_secret();
    let idp = start(
        ProviderOptions::http()
            .with_profile(Profile::Dex)
            .with_clients([web_client("om", &secret)]),
    );
    let c = http(&idp);
    assert_eq!(idp.issuer(), format!("{}/dex", idp.base_url()));

    let doc = discovery(&c, &idp).await;
    assert_eq!(strings(&doc["response_types_supported"]), set(&["code"]));
    assert!(!strings(&doc["grant_types_supported"]).contains("client_credentials"));
    assert!(doc.get("revocation_endpoint").is_none());
    assert_keys_usable(&c, &idp).await;

    let token = idp.token_endpoint();
    // The grant is checked before the client: the same answer whatever the secret.
    for auth in [
        Auth::Basic("om", &secret),
        Auth::Basic("om", "wrong"),
        Auth::Basic("nobody", "x"),
    ] {
        post(&c, &token, auth, &[("grant_type", "client_credentials")])
            .await
            .assert_error(400, "unsupported_grant_type", None);
    }
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", "garbage"),
    ];
    post(&c, &token, Auth::Basic("om", &secret), &refresh)
        .await
        .assert_error(400, "invalid_request", Some("Refresh token is invalid"));
    for auth in [Auth::Basic("om", "wrong"), Auth::Basic("nobody", "x")] {
        post(&c, &token, auth, &refresh).await.assert_error(
            401,
            "invalid_client",
            Some("Invalid client credentials."),
        );
    }

    // Introspection does not authenticate the client.
    let introspect = idp.introspection_endpoint().unwrap();
    for auth in [Auth::Basic("om", &secret), Auth::Basic("om", "wrong")] {
        let a = post(&c, &introspect, auth, &[("token", "garbage")]).await;
        assert_eq!(
            (a.status.as_u16(), a.json()),
            (200, json!({"active": false}))
        );
    }

    // /dex/auth redirects every request (relative Location) to /dex/auth/local, which validates.
    for (client, callback, status, words) in [
        ("om", CALLBACK, 200, "<form"),
        (
            "om",
            "https://om.example.com/other",
            400,
            "Unregistered redirect_uri.",
        ),
        ("nobody", CALLBACK, 404, "Invalid client_id."),
    ] {
        let a = authorize(&c, &idp, client, callback, &[]).await;
        assert!(
            a.location
                .as_deref()
                .unwrap()
                .starts_with("/dex/auth/local?"),
            "{a:?}"
        );
        let to = a.assert_redirect(&idp.authorization_endpoint());
        let mut page = get(&c, to.as_str()).await;
        if status == 200 {
            // A valid request is handed on once more, to the connector's login form.
            let form = page.assert_redirect(&idp.authorization_endpoint());
            assert_eq!(form.path(), "/dex/auth/local/login", "{page:?}");
            page = get(&c, form.as_str()).await;
        }
        assert_eq!(page.status.as_u16(), status, "{}", page.text);
        assert!(page.text.contains(words), "{}", page.text);
    }
    let a = authorize(&c, &idp, "om", CALLBACK, &[("scope", "email")]).await;
    let to = a.assert_redirect(&idp.authorization_endpoint());
    get(&c, to.as_str())
        .await
        .assert_error_redirect("invalid_scope");
}
