use super::*;
use crate::crd::{OidcSsoConfigStatus, ProviderStatus};
use crate::preview::tests::{CR, parse};

const CREDENTIALS: &str = "---\napiVersion: v1\nkind: Secret\nmetadata: {name: creds}\nstringData: {clientId: om, clientSecret: hunter2}\n";

/// The resource as the running operator left it: its owned Secrets and status written from a
/// rendering with `keys`.
fn as_the_operator_left_it(cr: &str, keys: &KeyMaterial) -> LiveResource {
    let mut input = parse(&format!("{cr}{CREDENTIALS}")).unwrap();
    let inputs = inputs_for(&input.resource, &input.objects);
    let config = validate::validate(&input.resource, &inputs).unwrap();
    let rendered = crate::render::render(&config, keys, &ProviderEndpoints::default()).unwrap();
    input.resource.status = Some(OidcSsoConfigStatus {
        config_hash: Some(rendered.config_hash.clone()),
        provider: Some(ProviderStatus::default()),
        ..Default::default()
    });
    let mut jwt_keys = rendered.jwt_keys.data;
    jwt_keys.insert(
        crate::keys::retired::RETIRED_JWKS.into(),
        br#"{"keys":[]}"#.to_vec(),
    );
    LiveResource {
        input,
        auth_env: Some(rendered.auth_env.data),
        jwt_keys: Some(jwt_keys),
    }
}

fn keys() -> KeyMaterial {
    KeyMaterial::generate(None).unwrap()
}

#[test]
fn the_same_rendering_rolls_nothing_whatever_the_retired_keys() {
    let mut live = as_the_operator_left_it(CR, &keys());
    let hash = live
        .input
        .resource
        .status
        .as_ref()
        .unwrap()
        .config_hash
        .clone()
        .unwrap();
    assert_eq!(verdict(&live), Verdict::Unchanged { hash: hash.clone() });
    // A key leaving the grace window changes the keys Secret, never the rollout.
    live.jwt_keys.as_mut().unwrap().insert(
        crate::keys::retired::RETIRED_JWKS.into(),
        br#"{"keys":[{"kid":"old"}]}"#.to_vec(),
    );
    assert_eq!(verdict(&live), Verdict::Unchanged { hash });
}

#[test]
fn a_different_rendering_rolls_and_names_the_entries_without_their_values() {
    let mut live = as_the_operator_left_it(CR, &keys());
    // What an older version wrote: another list of public keys and another hash.
    live.auth_env.as_mut().unwrap().insert(
        "AUTHENTICATION_PUBLIC_KEYS".into(),
        br#"["https://idp.example.com/keys"]"#.to_vec(),
    );
    let status = live.input.resource.status.as_mut().unwrap();
    status.config_hash = Some("sha256:older".into());
    let Verdict::Rolls {
        live: was,
        new,
        entries,
    } = verdict(&live)
    else {
        panic!("expected Rolls");
    };
    assert_eq!(was.as_deref(), Some("sha256:older"));
    assert!(new.starts_with("sha256:"), "{new}");
    assert_eq!(
        entries,
        vec!["auth-env/AUTHENTICATION_PUBLIC_KEYS".to_string()]
    );
}

#[test]
fn a_changed_client_secret_is_named_never_shown() {
    let mut live = as_the_operator_left_it(CR, &keys());
    live.auth_env
        .as_mut()
        .unwrap()
        .insert("OIDC_CLIENT_SECRET".into(), b"\"older-secret\"".to_vec());
    live.input.resource.status.as_mut().unwrap().config_hash = Some("sha256:older".into());
    let shown = format!("{:?}", verdict(&live));
    assert!(shown.contains("auth-env/OIDC_CLIENT_SECRET"), "{shown}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("older-secret"),
        "{shown}"
    );
}

#[test]
fn the_live_key_pair_is_used_not_a_new_one() {
    let live = as_the_operator_left_it(CR, &keys());
    assert!(matches!(verdict(&live), Verdict::Unchanged { .. }));
    // Rendered with another pair, the same resource would roll: the verdict read the live one.
    let other = as_the_operator_left_it(CR, &keys());
    let mixed = LiveResource {
        input: parse(&format!("{CR}{CREDENTIALS}"))
            .map(|mut i| {
                i.resource.status = live.input.resource.status.clone();
                i
            })
            .unwrap(),
        auth_env: live.auth_env.clone(),
        jwt_keys: other.jwt_keys.clone(),
    };
    let Verdict::Rolls { entries, .. } = verdict(&mixed) else {
        panic!("expected Rolls");
    };
    assert!(
        entries.iter().any(|e| e == "auth-env/JWT_KEY_ID"),
        "{entries:?}"
    );
}

#[test]
fn what_cannot_be_decided_says_why() {
    let mut suspended = as_the_operator_left_it(CR, &keys());
    suspended.input.resource.spec.suspend = Some(true);
    let mut unreconciled = as_the_operator_left_it(CR, &keys());
    unreconciled.input.resource.status = None;
    let mut no_keys = as_the_operator_left_it(CR, &keys());
    no_keys.jwt_keys = None;
    let mut invalid = as_the_operator_left_it(CR, &keys());
    invalid.input.objects.clear();
    for (live, says) in [
        (suspended, "spec.suspend"),
        (unreconciled, "no status"),
        (no_keys, "keys Secret is missing"),
        (invalid, "spec.provider.credentialsSecretRef.name"),
    ] {
        let Verdict::CannotTell { why } = verdict(&live) else {
            panic!("expected CannotTell for {says}");
        };
        assert!(why.contains(says), "{why}");
    }
}
