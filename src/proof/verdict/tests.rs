//! One pod's proof per release family, and a target's sum.

use serde_json::{Value, json};

use super::*;
use crate::keys::KeyMaterial;

fn golden() -> BTreeMap<String, Vec<u8>> {
    include_str!("../../../tests/golden/confidential.env")
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.as_bytes().to_vec()))
        .collect()
}

/// A 1.13 pod's auth answer for the golden settings.
fn auth_answer() -> Value {
    json!({
        "provider": "custom-oidc", "providerName": "Keycloak", "clientType": "confidential",
        "enableSelfSignup": false, "jwtPrincipalClaims": ["email", "preferred_username"],
        "jwtPrincipalClaimsMapping": ["email:email", "username:preferred_username"],
        "clientId": "openmetadata", "authority": "https://idp.example.com/realms/data",
        "callbackUrl": "", "enableAutoRedirect": false, "responseType": "id_token",
        "publicKeyUrls": [], "tokenValidationAlgorithm": "RS256",
    })
}

fn version(v: &str) -> Vec<u8> {
    json!({"version": v, "revision": "0dab945", "timestamp": 1_764_000_000_000_u64})
        .to_string()
        .into_bytes()
}

struct Pod {
    version: Vec<u8>,
    jwks: Option<Vec<u8>>,
    auth: Value,
}

fn prove_pod(pod: &Pod, keys: &KeyMaterial, reset: bool) -> (PodProof, Option<Release>) {
    let env = golden();
    let key = ExpectedKey::of(keys);
    let auth = pod.auth.to_string().into_bytes();
    prove(
        Answers {
            version: Some(&pod.version),
            jwks: pod.jwks.as_deref(),
            auth: Some(&auth),
        },
        Expected {
            key: &key,
            auth_env: &env,
            reset_in_template: reset,
        },
    )
}

fn pod(v: &str, keys: &KeyMaterial) -> Pod {
    Pod {
        version: version(v),
        jwks: Some(keys.jwks_json().into_bytes()),
        auth: auth_answer(),
    }
}

#[test]
fn a_confidential_client_on_a_release_that_copies_to_its_database_needs_the_reset() {
    let keys = KeyMaterial::generate(None).unwrap();
    let (p, release) = prove_pod(&pod("1.13.1", &keys), &keys, true);
    assert_eq!(p, PodProof::Proven);
    assert_eq!(release, Release::parse("1.13.1"));
    assert_eq!(
        prove_pod(&pod("1.13.1", &keys), &keys, false).0,
        PodProof::ResetMissing
    );
    assert_eq!(
        prove_pod(&pod("2.1.0", &keys), &keys, false).0,
        PodProof::Proven
    );
    assert_eq!(
        prove_pod(&pod("1.9.4", &keys), &keys, false).0,
        PodProof::Proven
    );
}

#[test]
fn settings_that_differ_say_whether_the_database_copy_is_why() {
    let keys = KeyMaterial::generate(None).unwrap();
    let mut stale = pod("1.13.1", &keys);
    stale.auth["clientType"] = json!("public");
    assert_eq!(
        prove_pod(&stale, &keys, true).0,
        PodProof::SettingsDiffer {
            fields: vec!["clientType"],
            by_database: true
        }
    );
    stale.version = version("1.9.4");
    assert_eq!(
        prove_pod(&stale, &keys, true).0,
        PodProof::SettingsDiffer {
            fields: vec!["clientType"],
            by_database: false
        }
    );
}

#[test]
fn the_key_is_judged_first() {
    let keys = KeyMaterial::generate(None).unwrap();
    let mut failed = pod("1.13.1", &keys);
    failed.jwks = Some(br#"{"keys":[{"kty":"RSA","kid":null,"n":null,"e":null}]}"#.to_vec());
    failed.auth["clientType"] = json!("public");
    assert_eq!(prove_pod(&failed, &keys, true).0, PodProof::KeyNotLoaded);
    let other = KeyMaterial::generate(None).unwrap();
    let mut rotated = pod("1.13.1", &keys);
    rotated.jwks = Some(other.jwks_json().into_bytes());
    assert_eq!(
        prove_pod(&rotated, &keys, true).0,
        PodProof::OtherKey(vec!["kid", "n"])
    );
    let mut silent = pod("1.13.1", &keys);
    silent.jwks = None;
    assert_eq!(prove_pod(&silent, &keys, true).0, PodProof::NoAnswer);
}

#[test]
fn a_target_reports_its_worst_pod_how_many_are_proven_and_the_newest_release() {
    let r = |v| Release::parse(v);
    let sum = sum_up(&[
        (PodProof::Proven, r("1.13.1")),
        (PodProof::ResetMissing, r("1.13.0")),
        (PodProof::Proven, None),
    ]);
    assert_eq!(
        sum,
        TargetProof {
            proven: 2,
            pods: 3,
            worst: PodProof::ResetMissing,
            release: r("1.13.1"),
        }
    );
    assert_eq!(sum_up(&[]).worst, PodProof::NoAnswer);
    assert!(PodProof::KeyNotLoaded.rank() < PodProof::NoAnswer.rank());
}
