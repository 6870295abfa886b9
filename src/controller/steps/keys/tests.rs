//! The key decision: kept whenever possible, replaced when asked, and a loss never silent.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Secret;
use serde_json::json;

use std::sync::Arc;

use tokio::sync::Semaphore;

use super::*;
use crate::controller::watch::cache_form::to_cache_form;
use crate::names::labels::ROLE_JWT_KEYS;
use crate::objects::owned_secret;
use crate::render::SecretPayload;
use crate::validate::tests::{confidential, creds, resource};
use crate::validate::validate;

fn config_with(jwt: serde_json::Value, own_key: Option<&KeyMaterial>) -> ValidatedConfig {
    let mut spec = confidential();
    let mut inputs = creds("id", "secret");
    spec["jwt"] = jwt;
    if let Some(k) = own_key {
        spec["jwt"]["keySecretRef"] = json!({"name": "own"});
        inputs.own_keys = Some(
            [(
                "private_key.pem".to_string(),
                k.private_pem().as_bytes().to_vec(),
            )]
            .into(),
        );
    }
    validate(&resource(spec), &inputs).expect("valid spec")
}

fn config(own_key: Option<&KeyMaterial>) -> ValidatedConfig {
    config_with(json!({}), own_key)
}

fn state(origin: KeyOrigin) -> KeyState {
    KeyState {
        keys: KeyMaterial::generate(None).expect("key pair"),
        origin,
        created_at: Timestamp::now(),
        rotation_request: None,
        replaced_lost_at: None,
        changed: None,
        moved_from: None,
        read_fresh: None,
        retired: RetiredKeys::default(),
    }
}

/// The keys Secret as the operator writes it, in the form the cache keeps it.
fn cached(state: &KeyState) -> Secret {
    let mut data = state.keys.to_secret_data();
    data.insert(RETIRED_JWKS.into(), state.retired.to_entry());
    let payload = SecretPayload {
        name: "om-jwt-keys".into(),
        data,
        sensitive: Default::default(),
    };
    let mut secret = owned_secret(&payload, ROLE_JWT_KEYS, "om", "data", None);
    secret.metadata.annotations = Some(state.annotations());
    to_cache_form(&mut secret);
    secret
}

fn inputs<'a>(config: &'a ValidatedConfig, stored: Option<&'a Secret>) -> KeyInputs<'a> {
    KeyInputs {
        config,
        stored,
        previous_secret: None,
        in_use: None,
        rotate_request: None,
        now: Timestamp::now(),
    }
}

fn kept(decision: Result<Decision, Error>) -> KeyState {
    match decision.expect("a decision") {
        Decision::Keep(state) => *state,
        Decision::Generate(change) => {
            panic!("expected the stored pair kept, got: generate ({change:?})")
        }
    }
}

fn generated(decision: Result<Decision, Error>) -> KeyChange {
    match decision.expect("a decision") {
        Decision::Generate(change) => change,
        Decision::Keep(state) => panic!("expected a new pair, kept {:?}", state.changed),
    }
}

#[test]
fn a_generated_pair_is_kept_as_the_cache_holds_it() {
    let stored = state(KeyOrigin::Generated);
    let config = config(None);
    let secret = cached(&stored);
    let decision = kept(decide(&inputs(&config, Some(&secret))));
    assert!(decision.keys == stored.keys);
    assert_eq!(decision.changed, None);
    assert_eq!(decision.created_at, stored.created_at);
}

#[test]
fn without_a_stored_pair_one_is_generated_as_asked() {
    let config = config(None);
    let change = generated(decide(&inputs(&config, None)));
    assert!(change.requested);
    assert_eq!(change.why, "no stored key pair");
}

#[test]
fn a_pair_that_was_in_use_and_is_gone_is_replaced_as_a_loss() {
    let config = config(None);
    let in_use = KeyStatus {
        fingerprint: Some("sha256:abc".into()),
        ..KeyStatus::default()
    };
    let change = generated(decide(&KeyInputs {
        in_use: Some(&in_use),
        ..inputs(&config, None)
    }));
    assert!(!change.requested, "{change:?}");
    assert!(change.why.contains("deleted"), "{change:?}");
}

#[test]
fn an_unreadable_stored_pair_is_replaced_as_a_loss() {
    let config = config(None);
    let mut secret = cached(&state(KeyOrigin::Generated));
    secret.data = Some(Default::default());
    let change = generated(decide(&inputs(&config, Some(&secret))));
    assert!(!change.requested);
    assert!(change.why.contains("unreadable"), "{change:?}");
}

#[test]
fn a_new_key_id_relabels_the_same_pair() {
    let stored = state(KeyOrigin::Generated);
    let secret = cached(&stored);
    let config = config_with(json!({"keyId": "om-key-2"}), None);
    let kept = kept(decide(&inputs(&config, Some(&secret))));
    assert_eq!(kept.keys.key_id(), "om-key-2");
    assert_eq!(kept.keys.fingerprint(), stored.keys.fingerprint());
    assert!(kept.changed.is_some_and(|c| c.requested));
}

#[test]
fn a_pair_under_the_previous_output_name_is_carried_over() {
    let stored = state(KeyOrigin::Generated);
    let old = cached(&stored);
    let config = config(None);
    let kept = kept(decide(&KeyInputs {
        previous_secret: Some(("old-keys", &old)),
        ..inputs(&config, None)
    }));
    assert_eq!(kept.keys.fingerprint(), stored.keys.fingerprint());
    assert_eq!(kept.moved_from.as_deref(), Some("old-keys"));
}

#[test]
fn a_new_rotation_request_replaces_the_pair_and_a_seen_one_does_not() {
    let mut stored = state(KeyOrigin::Generated);
    stored.rotation_request = Some("1".into());
    let secret = cached(&stored);
    let config = config(None);
    let seen = KeyInputs {
        rotate_request: Some("1"),
        ..inputs(&config, Some(&secret))
    };
    assert!(kept(decide(&seen)).changed.is_none());
    let new = KeyInputs {
        rotate_request: Some("2"),
        ..inputs(&config, Some(&secret))
    };
    assert!(generated(decide(&new)).requested);
}

#[test]
fn the_mark_of_a_lost_pair_stays_until_a_requested_change() {
    let mut stored = state(KeyOrigin::Generated);
    let at: Timestamp = "2026-11-30T10:00:00Z".parse().expect("time");
    stored.replaced_lost_at = Some(at);
    let secret = cached(&stored);
    let config = config(None);
    assert_eq!(
        kept(decide(&inputs(&config, Some(&secret)))).replaced_lost_at,
        Some(at)
    );
}

#[test]
fn a_provided_key_is_imported_once_and_says_why() {
    let own = state(KeyOrigin::Provided);
    let spec = config(Some(&own.keys));

    let first = kept(decide(&inputs(&spec, None)));
    assert_eq!(first.origin, KeyOrigin::Provided);
    assert!(first.keys == own.keys);
    assert_eq!(first.changed.map(|c| c.why), Some("no stored key pair"));

    let secret = cached(&first);
    let again = kept(decide(&inputs(&spec, Some(&secret))));
    assert_eq!(again.changed, None);

    let from_generated = cached(&state(KeyOrigin::Generated));
    assert_eq!(
        kept(decide(&inputs(&spec, Some(&from_generated))))
            .changed
            .map(|c| c.why),
        Some("switching from a generated key to a provided one")
    );
    let other_provided = cached(&state(KeyOrigin::Provided));
    assert_eq!(
        kept(decide(&inputs(&spec, Some(&other_provided))))
            .changed
            .map(|c| c.why),
        Some("provided key changed")
    );
}

/// Reads the keys Secret as the API holds it: the one given.
struct Stored(Option<Secret>);

impl ReadSecret for Stored {
    async fn read(&self, _name: &str) -> Result<Option<Secret>, kube::Error> {
        Ok(self.0.clone())
    }
}

fn at(text: &str) -> Timestamp {
    text.parse().expect("a timestamp")
}

fn retired_ids(state: &KeyState) -> Vec<(String, i64)> {
    state
        .retired
        .keys()
        .iter()
        .map(|k| (k.kid.clone(), k.exp))
        .collect()
}

#[tokio::test]
async fn a_rotation_keeps_the_previous_public_key_for_the_grace_period() {
    let stored = state(KeyOrigin::Generated);
    let secret = cached(&stored);
    let config = config_with(json!({"rotation": {"gracePeriod": "2h"}}), None);
    let now = at("2026-12-07T12:00:00Z");
    let rotate = KeyInputs {
        rotate_request: Some("1"),
        now,
        ..inputs(&config, Some(&secret))
    };
    let keygen = Arc::new(Semaphore::new(1));
    let rotated = ensure(rotate, None, &Stored(Some(secret.clone())), &keygen)
        .await
        .expect("rotated");
    assert!(rotated.keys != stored.keys);
    let window_end = at("2026-12-07T14:00:00Z").as_second();
    assert_eq!(
        retired_ids(&rotated),
        [(stored.keys.key_id().to_owned(), window_end)]
    );

    // Stored and read back: kept while the window lasts, dropped once it ended.
    let written = cached(&rotated);
    let during = KeyInputs {
        rotate_request: Some("1"),
        now: at("2026-12-07T13:59:59Z"),
        ..inputs(&config, Some(&written))
    };
    assert_eq!(retired_ids(&kept(decide(&during))).len(), 1);
    let after = KeyInputs {
        rotate_request: Some("1"),
        now: at("2026-12-07T14:00:00Z"),
        ..inputs(&config, Some(&written))
    };
    let pruned = kept(decide(&after));
    assert!(pruned.retired.keys().is_empty());
    assert_eq!(
        pruned.changed, None,
        "a key leaving the file is no key change"
    );

    // The notice starts half the window before its end (1 h, shorter than a day).
    assert_eq!(
        rotated.next_retired_change(&config, now),
        Some(at("2026-12-07T13:00:00Z"))
    );
    assert_eq!(
        rotated.next_retired_change(&config, at("2026-12-07T13:00:00Z")),
        Some(at("2026-12-07T14:00:00Z"))
    );
}

#[tokio::test]
async fn a_zero_grace_period_or_a_lost_pair_keeps_no_previous_key() {
    let stored = state(KeyOrigin::Generated);
    let secret = cached(&stored);
    let none = config_with(json!({"rotation": {"gracePeriod": "0s"}}), None);
    let rotate = KeyInputs {
        rotate_request: Some("1"),
        ..inputs(&none, Some(&secret))
    };
    let keygen = Arc::new(Semaphore::new(1));
    let rotated = ensure(rotate, None, &Stored(Some(secret.clone())), &keygen)
        .await
        .expect("rotated");
    assert!(rotated.retired.keys().is_empty());

    let config = config(None);
    let in_use = KeyStatus {
        fingerprint: Some("sha256:abc".into()),
        ..KeyStatus::default()
    };
    let lost = KeyInputs {
        in_use: Some(&in_use),
        ..inputs(&config, None)
    };
    let replaced = ensure(lost, None, &Stored(None), &keygen)
        .await
        .expect("replaced");
    assert!(
        replaced.retired.keys().is_empty(),
        "nothing to keep: it is gone"
    );
}

#[test]
fn a_replaced_provided_key_stays_valid_for_the_grace_period() {
    let first = state(KeyOrigin::Provided);
    let secret = cached(&first);
    let next = state(KeyOrigin::Provided);
    let config = config(Some(&next.keys));
    let now = at("2026-12-07T12:00:00Z");
    let taken = kept(decide(&KeyInputs {
        now,
        ..inputs(&config, Some(&secret))
    }));
    assert_eq!(taken.changed.map(|c| c.why), Some("provided key changed"));
    assert_eq!(
        retired_ids(&taken),
        [(
            first.keys.key_id().to_owned(),
            at("2026-12-10T12:00:00Z").as_second()
        )],
        "72h by default"
    );
}
