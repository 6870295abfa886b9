//! `/api/v1/system/config/auth` as OpenMetadata 1.10-2.0.x answers it (variant D of
//! openmetadata-server-behaviour.md §3.1), before and after PR #31516, against the settings the
//! golden confidential rendering holds.

use serde_json::{Value, json};

use super::*;

/// The settings Secret of tests/golden/confidential.env (values as the Secret holds them).
fn golden() -> BTreeMap<String, Vec<u8>> {
    let text = include_str!("../../../tests/golden/confidential.env");
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.as_bytes().to_vec()))
        .collect()
}

/// What a 1.13 pod whose database row holds the golden settings answers (PR #31516 not in it:
/// the three dropped fields serialise as the schema defaults).
fn answer_before_fix() -> Value {
    json!({
        "provider": "custom-oidc",
        "providerName": "Keycloak",
        "clientType": "confidential",
        "enableSelfSignup": false,
        "jwtPrincipalClaims": ["email", "preferred_username"],
        "jwtPrincipalClaimsMapping": ["email:email", "username:preferred_username"],
        "clientId": "openmetadata",
        "authority": "https://idp.example.com/realms/data",
        "callbackUrl": "",
        "enableAutoRedirect": false,
        "responseType": "id_token",
        "publicKeyUrls": [],
        "tokenValidationAlgorithm": "RS256",
    })
}

fn answer_after_fix() -> Value {
    let mut a = answer_before_fix();
    a["responseType"] = json!("code");
    a["publicKeyUrls"] = json!([
        "file:/etc/openmetadata/jwtkeys/retired_jwks.json",
        "https://idp.example.com/realms/data/protocol/openid-connect/certs",
        "http://openmetadata.data.svc:8585/api/v1/system/config/jwks",
        "https://other.example.com/keys"
    ]);
    a
}

fn proof(answer: &Value) -> AuthProof {
    check(answer.to_string().as_bytes(), &golden()).expect("readable")
}

#[test]
fn a_pod_running_the_rendered_settings_proves_every_field_it_shows() {
    let p = proof(&answer_before_fix());
    assert!(p.holds(), "{p:?}");
    assert!(p.differs.is_empty());
    assert_eq!(
        p.not_shown,
        vec!["responseType", "publicKeyUrls", "tokenValidationAlgorithm"],
        "before PR #31516 the endpoint drops them: not compared"
    );
    for field in [
        "provider",
        "providerName",
        "clientType",
        "clientId",
        "authority",
        "callbackUrl",
        "enableSelfSignup",
        "jwtPrincipalClaims",
        "jwtPrincipalClaimsMapping",
    ] {
        assert!(p.equal.contains(&field), "{field}: {p:?}");
    }
    let fixed = proof(&answer_after_fix());
    assert!(fixed.holds(), "{fixed:?}");
    assert!(fixed.not_shown.is_empty(), "{fixed:?}");
    assert!(fixed.equal.contains(&"publicKeyUrls"));
}

/// The database row seeded at the first start (here with the template's defaults, `basic`)
/// wins over the new environment: the fields that differ are named, never their values.
#[test]
fn the_database_copy_winning_is_named_by_field() {
    let mut seeded = answer_before_fix();
    seeded["provider"] = json!("basic");
    seeded["providerName"] = json!("");
    seeded["clientType"] = json!("public");
    seeded["authority"] = json!("https://accounts.google.com");
    let p = proof(&seeded);
    assert!(!p.holds());
    assert_eq!(
        p.differs,
        vec!["provider", "providerName", "clientType", "authority"]
    );
    // A rotated key URL list stays old in the row once the endpoint shows it.
    let mut old_urls = answer_after_fix();
    old_urls["publicKeyUrls"] = json!(["https://old.example.com/keys"]);
    assert_eq!(proof(&old_urls).differs, vec!["publicKeyUrls"]);
}

#[test]
fn what_the_answer_does_not_show_is_not_compared_and_is_listed() {
    let mut partial = answer_before_fix();
    let o = partial.as_object_mut().unwrap();
    o.remove("clientId");
    o.insert("authority".into(), Value::Null);
    let p = proof(&partial);
    assert!(
        p.not_shown.contains(&"clientId") && p.not_shown.contains(&"authority"),
        "{p:?}"
    );
    assert!(p.holds());
    assert_eq!(check(b"[]", &golden()), Err(Unreadable::NotAnObject));
    assert_eq!(check(b"<html>", &golden()), Err(Unreadable::NotAnObject));
}
