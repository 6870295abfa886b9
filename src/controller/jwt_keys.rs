//! The JWT keys step: reuse the key pair stored in the owned keys Secret, or produce a new one.
//!
//! A stored pair is kept while it exists, parses, and matches the spec (same key source and key
//! id rule), unless it is due for rotation (`spec.jwt.rotation.every`) or a new value of the
//! `oidcsso.io/rotate-jwt-keys` annotation asks for one. The key pair and key id always change
//! together. Generation runs on the blocking pool behind a semaphore sized to the cores, so it
//! neither stalls the async runtime nor oversubscribes the CPU when many resources need keys.
//!
//! Bookkeeping lives in annotations of the keys Secret, never in the CR: when the key was made,
//! where it came from, and which rotation request it answers. None of it is secret.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Secret;
use tokio::sync::Semaphore;

use crate::keys::{KeyError, KeyMaterial};
use crate::validate::ValidatedConfig;

use crate::names::annotations::{KEY_CREATED_AT, KEY_SOURCE, ROTATION_REQUEST};

/// Where the key pair came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum KeyOrigin {
    Generated,
    Provided,
}

impl KeyOrigin {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            KeyOrigin::Generated => "Generated",
            KeyOrigin::Provided => "Provided",
        }
    }
}

/// The key pair to render with, and its bookkeeping.
#[derive(Clone, Debug)]
pub(super) struct KeyState {
    pub keys: KeyMaterial,
    pub origin: KeyOrigin,
    pub created_at: Timestamp,
    pub rotation_request: Option<String>,
    /// Why a new pair was made in this reconcile (`None`: the stored one is reused).
    pub changed: Option<&'static str>,
}

impl KeyState {
    /// Annotations to store on the keys Secret.
    pub(super) fn annotations(&self) -> BTreeMap<String, String> {
        let mut a = BTreeMap::from([
            (KEY_CREATED_AT.to_string(), self.created_at.to_string()),
            (KEY_SOURCE.to_string(), self.origin.as_str().to_string()),
        ]);
        if let Some(r) = &self.rotation_request {
            a.insert(ROTATION_REQUEST.to_string(), r.clone());
        }
        a
    }

    /// When `every` replaces a generated pair.
    pub(super) fn next_rotation(&self, config: &ValidatedConfig) -> Option<Timestamp> {
        let every = config.jwt.rotate_every?;
        if self.origin != KeyOrigin::Generated {
            return None;
        }
        let span = jiff::SignedDuration::try_from(every).ok()?;
        self.created_at.checked_add(span).ok()
    }
}

/// Why no key pair could be had.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The key the user provides is unusable: a user error.
    #[error("spec.jwt.keySecretRef holds an unusable key")]
    ProvidedKey(#[source] KeyError),
    /// Generation failed.
    #[error("failed to generate a key pair")]
    Generate(#[source] KeyError),
    /// The blocking task died.
    #[error("key generation task failed")]
    Join(#[source] tokio::task::JoinError),
    /// The stored keys Secret could not be read.
    #[error("failed to read the stored keys Secret")]
    Read(#[source] kube::Error),
}

/// Decides the key pair for `config`, given the stored keys Secret as the cache shows it and the
/// CR's rotate annotation. A cache can lag behind this operator's own last write, and acting on a
/// stale view would rotate twice; so before generating, the Secret is read fresh (`read_fresh`)
/// and the decision is made again. Generation is rare, so the extra read costs nothing in steady
/// state.
pub(super) async fn ensure<F>(
    config: &ValidatedConfig,
    cached: Option<&Secret>,
    read_fresh: F,
    rotate_request: Option<&str>,
    keygen: &Arc<Semaphore>,
    now: Timestamp,
) -> Result<KeyState, Error>
where
    F: std::future::Future<Output = Result<Option<Secret>, kube::Error>>,
{
    let reason = match decide(config, cached, rotate_request, now)? {
        Decision::Keep(state) => return Ok(*state),
        Decision::Generate(_) => {
            let fresh = read_fresh.await.map_err(Error::Read)?;
            match decide(config, fresh.as_ref(), rotate_request, now)? {
                Decision::Keep(state) => return Ok(*state),
                Decision::Generate(reason) => reason,
            }
        }
    };
    let keys = generate(config.jwt.key_id.clone(), keygen).await?;
    Ok(KeyState {
        keys,
        origin: KeyOrigin::Generated,
        created_at: now,
        rotation_request: rotate_request.filter(|r| !r.is_empty()).map(str::to_string),
        changed: Some(reason),
    })
}

/// Keep (or take the provided) key pair, or generate one for the given reason.
pub(super) enum Decision {
    Keep(Box<KeyState>),
    Generate(&'static str),
}

/// The pure decision behind [`ensure`].
pub(super) fn decide(
    config: &ValidatedConfig,
    stored: Option<&Secret>,
    rotate_request: Option<&str>,
    now: Timestamp,
) -> Result<Decision, Error> {
    let stored = stored.and_then(StoredKeys::read);
    if let Some(bytes) = &config.jwt.own_private_key {
        let keys = KeyMaterial::from_private_key(bytes.expose(), config.jwt.key_id.clone())
            .map_err(Error::ProvidedKey)?;
        let same = stored
            .as_ref()
            .filter(|s| s.source == Some(KeyOrigin::Provided) && s.keys == keys);
        return Ok(Decision::Keep(Box::new(KeyState {
            created_at: same.and_then(|s| s.created_at).unwrap_or(now),
            changed: match (&same, &stored) {
                (Some(_), _) => None,
                (None, None) => Some("no stored key pair"),
                (None, Some(s)) if s.source == Some(KeyOrigin::Generated) => {
                    Some("switching from a generated key to a provided one")
                }
                (None, Some(_)) => Some("provided key changed"),
            },
            keys,
            origin: KeyOrigin::Provided,
            rotation_request: None,
        })));
    }
    let rotate_request = rotate_request.filter(|r| !r.is_empty()).map(str::to_string);
    let Some(s) = stored else {
        return Ok(Decision::Generate("no stored key pair"));
    };
    let reason = if s.source != Some(KeyOrigin::Generated) {
        Some("switching from a provided key to a generated one")
    } else if !key_id_matches(&s.keys, config.jwt.key_id.as_deref()) {
        Some("spec.jwt.keyId changed")
    } else if rotate_request.is_some() && rotate_request != s.rotation_request {
        Some("rotation requested by annotation")
    } else {
        match (config.jwt.rotate_every, s.created_at) {
            (Some(every), Some(created)) if due(created, every, now) => {
                Some("rotation period elapsed")
            }
            _ => None,
        }
    };
    Ok(match reason {
        Some(reason) => Decision::Generate(reason),
        None => Decision::Keep(Box::new(KeyState {
            keys: s.keys,
            origin: KeyOrigin::Generated,
            created_at: s.created_at.unwrap_or(now),
            rotation_request: s.rotation_request,
            changed: None,
        })),
    })
}

async fn generate(key_id: Option<String>, keygen: &Arc<Semaphore>) -> Result<KeyMaterial, Error> {
    // The semaphore is never closed, so acquiring only fails if it were; generate anyway then.
    let _permit = keygen.clone().acquire_owned().await.ok();
    tokio::task::spawn_blocking(move || KeyMaterial::generate(key_id))
        .await
        .map_err(Error::Join)?
        .map_err(Error::Generate)
}

fn key_id_matches(keys: &KeyMaterial, configured: Option<&str>) -> bool {
    match configured {
        Some(id) => keys.key_id() == id,
        None => keys.key_id() == keys.thumbprint(),
    }
}

fn due(created: Timestamp, every: std::time::Duration, now: Timestamp) -> bool {
    jiff::SignedDuration::try_from(every)
        .ok()
        .and_then(|span| created.checked_add(span).ok())
        .is_some_and(|at| at <= now)
}

/// What the owned keys Secret holds, when it parses.
struct StoredKeys {
    keys: KeyMaterial,
    source: Option<KeyOrigin>,
    created_at: Option<Timestamp>,
    rotation_request: Option<String>,
}

impl StoredKeys {
    fn read(secret: &Secret) -> Option<Self> {
        let data: BTreeMap<String, Vec<u8>> = secret
            .data
            .clone()?
            .into_iter()
            .map(|(k, v)| (k, v.0))
            .collect();
        // An unreadable stored pair is replaced, never patched up: it cannot be what pods use.
        let keys = KeyMaterial::from_secret_data(&data).ok()?;
        let annotations = secret.metadata.annotations.clone().unwrap_or_default();
        Some(Self {
            keys,
            source: match annotations.get(KEY_SOURCE).map(String::as_str) {
                Some("Generated") => Some(KeyOrigin::Generated),
                Some("Provided") => Some(KeyOrigin::Provided),
                _ => None,
            },
            created_at: annotations.get(KEY_CREATED_AT).and_then(|t| t.parse().ok()),
            rotation_request: annotations.get(ROTATION_REQUEST).cloned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::controller::cache_form::to_cache_form;
    use crate::names::labels::ROLE_JWT_KEYS;
    use crate::objects::owned_secret;
    use crate::render::SecretPayload;
    use crate::validate::tests::{confidential, creds, resource};
    use crate::validate::validate;

    fn config(own_key: Option<&KeyMaterial>) -> ValidatedConfig {
        let mut spec = confidential();
        let mut inputs = creds("id", "secret");
        if let Some(k) = own_key {
            spec["jwt"] = json!({"keySecretRef": {"name": "own"}});
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

    fn state(origin: KeyOrigin) -> KeyState {
        KeyState {
            keys: KeyMaterial::generate(None).expect("key pair"),
            origin,
            created_at: Timestamp::now(),
            rotation_request: None,
            changed: None,
        }
    }

    /// The keys Secret as the operator writes it, in the form the cache keeps it.
    fn cached(state: &KeyState) -> Secret {
        let payload = SecretPayload {
            name: "om-jwt-keys".into(),
            data: state.keys.to_secret_data(),
            sensitive: Default::default(),
        };
        let mut secret = owned_secret(&payload, ROLE_JWT_KEYS, "om", "data", None);
        secret.metadata.annotations = Some(state.annotations());
        to_cache_form(&mut secret);
        secret
    }

    fn kept(decision: Result<Decision, Error>) -> KeyState {
        match decision.expect("a decision") {
            Decision::Keep(state) => *state,
            Decision::Generate(why) => {
                panic!("expected the stored pair kept, got: generate ({why})")
            }
        }
    }

    #[test]
    fn a_generated_pair_is_kept_as_the_cache_holds_it() {
        let stored = state(KeyOrigin::Generated);
        let now = Timestamp::now();
        let decision = kept(decide(&config(None), Some(&cached(&stored)), None, now));
        assert!(decision.keys == stored.keys);
        assert_eq!(decision.changed, None);
        assert_eq!(decision.created_at, stored.created_at);
    }

    #[test]
    fn without_a_stored_pair_one_is_generated() {
        let decision = decide(&config(None), None, None, Timestamp::now()).expect("a decision");
        assert!(matches!(decision, Decision::Generate("no stored key pair")));
    }

    #[test]
    fn a_provided_key_is_imported_once_and_says_why() {
        let own = state(KeyOrigin::Provided);
        let spec = config(Some(&own.keys));
        let now = Timestamp::now();

        let first = kept(decide(&spec, None, None, now));
        assert_eq!(first.origin, KeyOrigin::Provided);
        assert!(first.keys == own.keys);
        assert_eq!(first.changed, Some("no stored key pair"));

        let again = kept(decide(&spec, Some(&cached(&first)), None, now));
        assert_eq!(again.changed, None);

        let from_generated = cached(&state(KeyOrigin::Generated));
        assert_eq!(
            kept(decide(&spec, Some(&from_generated), None, now)).changed,
            Some("switching from a generated key to a provided one")
        );
        let other_provided = cached(&state(KeyOrigin::Provided));
        assert_eq!(
            kept(decide(&spec, Some(&other_provided), None, now)).changed,
            Some("provided key changed")
        );
    }
}
