//! The JWT keys step: reuse the key pair stored in the owned keys Secret, or produce a new one.
//!
//! A new pair invalidates every token the server issued, so the stored pair is kept whenever it
//! can be: while it exists and parses, when the output name changes (it is carried over from the
//! Secret the status names), and when only `spec.jwt.keyId` changes (the same pair gets the new
//! id). It is replaced when asked (`spec.jwt.rotation.every`, a new value of the
//! `oidcsso.io/rotate-jwt-keys` annotation, switching between generated and provided keys), and
//! when it is gone: then the replacement is announced as a Warning and recorded on the new Secret,
//! never silent. Generation runs on the blocking pool behind a semaphore sized to the cores.
//!
//! Bookkeeping lives in annotations of the keys Secret, never in the CR: when the key was made,
//! where it came from, which rotation request it answers, and whether it replaced a lost pair.
//! None of it is secret.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Secret;
use tokio::sync::Semaphore;

use crate::crd::KeyStatus;
use crate::keys::retired::{RETIRED_JWKS, RetiredKeys};
use crate::keys::{KeyError, KeyMaterial};
use crate::names::annotations::{KEY_CREATED_AT, KEY_REPLACED_LOST, KEY_SOURCE, ROTATION_REQUEST};
use crate::validate::ValidatedConfig;

/// Where the key pair came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyOrigin {
    /// The operator generated it.
    Generated,
    /// `spec.jwt.keySecretRef`.
    Provided,
}

impl KeyOrigin {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            KeyOrigin::Generated => "Generated",
            KeyOrigin::Provided => "Provided",
        }
    }

    /// The `KeysReady` reason it gives.
    pub(crate) fn reason(self) -> crate::reasons::Reason {
        match self {
            KeyOrigin::Generated => crate::reasons::Reason::Generated,
            KeyOrigin::Provided => crate::reasons::Reason::Provided,
        }
    }
}

/// Why the key pair in use changed in this reconcile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KeyChange {
    /// For the Event and the log.
    pub(crate) why: &'static str,
    /// Asked for by the spec or an annotation; `false` when the stored pair was lost.
    pub(crate) requested: bool,
}

impl KeyChange {
    const fn requested(why: &'static str) -> Self {
        Self {
            why,
            requested: true,
        }
    }

    const fn lost(why: &'static str) -> Self {
        Self {
            why,
            requested: false,
        }
    }
}

/// The key pair to render with, and its bookkeeping.
#[derive(Clone, Debug)]
pub(crate) struct KeyState {
    pub(crate) keys: KeyMaterial,
    pub(crate) origin: KeyOrigin,
    pub(crate) created_at: Timestamp,
    pub(crate) rotation_request: Option<String>,
    /// When this pair replaced one that was lost (not asked for); cleared by the next requested
    /// change.
    pub(crate) replaced_lost_at: Option<Timestamp>,
    /// What changed in this reconcile (`None`: the stored pair is used as it is).
    pub(crate) changed: Option<KeyChange>,
    /// The pair was carried over from this Secret (an old output name), to be deleted once the
    /// new one is written.
    pub(crate) moved_from: Option<String>,
    /// The keys Secret as this reconcile read it from the API (`Some(None)`: it does not exist),
    /// when the cache was not trusted; the apply step writes against it instead of reading again.
    pub(crate) read_fresh: Option<Option<Secret>>,
    /// Public keys of earlier pairs still in their grace window (`retired_jwks.json`).
    pub(crate) retired: RetiredKeys,
}

impl KeyState {
    /// Annotations to store on the keys Secret.
    pub(crate) fn annotations(&self) -> BTreeMap<String, String> {
        let mut a = BTreeMap::from([
            (KEY_CREATED_AT.to_string(), self.created_at.to_string()),
            (KEY_SOURCE.to_string(), self.origin.as_str().to_string()),
        ]);
        if let Some(r) = &self.rotation_request {
            a.insert(ROTATION_REQUEST.to_string(), r.clone());
        }
        if let Some(at) = self.replaced_lost_at {
            a.insert(KEY_REPLACED_LOST.to_string(), at.to_string());
        }
        a
    }

    /// When each retired key's last notice starts: a day before its window ends, or half the
    /// grace period before when that is shorter.
    pub(crate) fn expiry_notice(config: &ValidatedConfig) -> jiff::SignedDuration {
        let half = jiff::SignedDuration::try_from(config.jwt.grace_period / 2)
            .unwrap_or(jiff::SignedDuration::ZERO);
        half.min(jiff::SignedDuration::from_hours(24))
    }

    /// The next time a retired key's notice starts or its window ends, after `now`.
    pub(crate) fn next_retired_change(
        &self,
        config: &ValidatedConfig,
        now: Timestamp,
    ) -> Option<Timestamp> {
        let notice = Self::expiry_notice(config);
        self.retired
            .keys()
            .iter()
            .filter_map(|k| Timestamp::from_second(k.exp).ok())
            .flat_map(|end| [end.checked_sub(notice).ok(), Some(end)])
            .flatten()
            .filter(|t| *t > now)
            .min()
    }

    /// When `every` replaces a generated pair.
    pub(crate) fn next_rotation(&self, config: &ValidatedConfig) -> Option<Timestamp> {
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
    /// A stored keys Secret could not be read.
    #[error("failed to read the stored keys Secret")]
    Read(#[source] kube::Error),
}

/// What the decision looks at.
pub(crate) struct KeyInputs<'a> {
    pub(crate) config: &'a ValidatedConfig,
    /// The keys Secret under the current output name (cache or fresh read).
    pub(crate) stored: Option<&'a Secret>,
    /// The keys Secret under the name the status records (name, Secret), when the output name
    /// changed and nothing is stored under the new one.
    pub(crate) previous_secret: Option<(&'a str, &'a Secret)>,
    /// The key the status says is in use.
    pub(crate) in_use: Option<&'a KeyStatus>,
    pub(crate) rotate_request: Option<&'a str>,
    pub(crate) now: Timestamp,
}

/// Reads a keys Secret by name, fresh from the API.
pub(crate) trait ReadSecret {
    /// The Secret `name`, if it exists.
    async fn read(&self, name: &str) -> Result<Option<Secret>, kube::Error>;
}

impl ReadSecret for kube::Api<Secret> {
    async fn read(&self, name: &str) -> Result<Option<Secret>, kube::Error> {
        self.get_opt(name).await
    }
}

/// Decides the key pair for `config`. The cache can lag behind this operator's own last write,
/// and acting on a stale view would rotate twice; so before generating, the Secret is read fresh
/// (and, when the output name changed, the Secret under the previous name) and the decision is
/// made again. Generation is rare, so the extra reads cost nothing in steady state.
pub(crate) async fn ensure(
    inputs: KeyInputs<'_>,
    previous_name: Option<&str>,
    api: &impl ReadSecret,
    keygen: &Arc<Semaphore>,
) -> Result<KeyState, Error> {
    let (change, fresh) = match decide(&inputs)? {
        Decision::Keep(state) => return Ok(*state),
        Decision::Generate(_) => {
            let name = &inputs.config.output.jwt_keys;
            let fresh = api.read(name).await.map_err(Error::Read)?;
            let moved = match previous_name.filter(|p| *p != name && fresh.is_none()) {
                Some(p) => api.read(p).await.map_err(Error::Read)?,
                None => None,
            };
            let again = KeyInputs {
                stored: fresh.as_ref(),
                previous_secret: previous_name.zip(moved.as_ref()),
                ..inputs
            };
            match decide(&again)? {
                Decision::Keep(state) => {
                    return Ok(KeyState {
                        read_fresh: Some(fresh),
                        ..*state
                    });
                }
                Decision::Generate(change) => (change, fresh),
            }
        }
    };
    let keys = generate(inputs.config.jwt.key_id.clone(), keygen).await?;
    // The pair replaced (a rotation; nothing when it was lost) stays valid for the grace period.
    let replaced = fresh.as_ref().and_then(|s| StoredKeys::read(s).ok());
    let retired = retire(
        replaced.map(|r| (r.retired, r.keys)),
        &keys,
        inputs.config,
        inputs.now,
    );
    Ok(KeyState {
        retired,
        keys,
        origin: KeyOrigin::Generated,
        created_at: inputs.now,
        rotation_request: inputs
            .rotate_request
            .filter(|r| !r.is_empty())
            .map(str::to_string),
        replaced_lost_at: (!change.requested).then_some(inputs.now),
        changed: Some(change),
        moved_from: None,
        read_fresh: Some(fresh),
    })
}

/// Keep (or take the provided, or relabel) the key pair, or generate one.
#[derive(Debug)]
pub(crate) enum Decision {
    Keep(Box<KeyState>),
    Generate(KeyChange),
}

/// The pure decision behind [`ensure`].
pub(crate) fn decide(inputs: &KeyInputs<'_>) -> Result<Decision, Error> {
    let config = inputs.config;
    let current = inputs.stored.map(StoredKeys::read);
    if let Some(bytes) = &config.jwt.own_private_key {
        return provided(
            config,
            bytes.expose(),
            current.and_then(Result::ok),
            inputs.now,
        );
    }
    let rotate_request = inputs
        .rotate_request
        .filter(|r| !r.is_empty())
        .map(str::to_string);
    let previous = inputs
        .previous_secret
        .map(|(name, secret)| (name, StoredKeys::read(secret)));
    let (stored, moved_from) = match (current, previous) {
        (Some(Ok(s)), _) => (s, None),
        (None, Some((name, Ok(s)))) => (s, Some(name.to_string())),
        (Some(Err(())), _) => {
            return Ok(Decision::Generate(KeyChange::lost(
                "the stored key pair is unreadable (its Secret was edited)",
            )));
        }
        (None, _) if inputs.in_use.and_then(|k| k.fingerprint.as_ref()).is_some() => {
            return Ok(Decision::Generate(KeyChange::lost(
                "the stored key pair is gone (its Secret was deleted)",
            )));
        }
        (None, _) => {
            return Ok(Decision::Generate(KeyChange::requested(
                "no stored key pair",
            )));
        }
    };
    let change = if stored.source != Some(KeyOrigin::Generated) {
        Some("switching from a provided key to a generated one")
    } else if rotate_request.is_some() && rotate_request != stored.rotation_request {
        Some("rotation requested by annotation")
    } else {
        match (config.jwt.rotate_every, stored.created_at) {
            (Some(every), Some(created)) if due(created, every, inputs.now) => {
                Some("rotation period elapsed")
            }
            _ => None,
        }
    };
    if let Some(why) = change {
        return Ok(Decision::Generate(KeyChange::requested(why)));
    }
    let mut changed = moved_from
        .as_ref()
        .map(|_| KeyChange::requested("carried over from the Secret of the previous output name"));
    let mut keys = stored.keys;
    let mut retired = stored.retired;
    retired.prune(inputs.now, &keys);
    if !keys.has_key_id(config.jwt.key_id.as_deref()) {
        keys = KeyMaterial::from_private_key(keys.private_pkcs8_der(), config.jwt.key_id.clone())
            .map_err(Error::Generate)?;
        changed = Some(KeyChange::requested(
            "spec.jwt.keyId changed: same key pair, new key id",
        ));
    }
    Ok(Decision::Keep(Box::new(KeyState {
        keys,
        origin: KeyOrigin::Generated,
        created_at: stored.created_at.unwrap_or(inputs.now),
        rotation_request: stored.rotation_request,
        replaced_lost_at: stored.replaced_lost_at,
        changed,
        moved_from,
        read_fresh: None,
        retired,
    })))
}

/// The key from `spec.jwt.keySecretRef`, taken in or kept.
fn provided(
    config: &ValidatedConfig,
    bytes: &[u8],
    stored: Option<StoredKeys>,
    now: Timestamp,
) -> Result<Decision, Error> {
    let keys = KeyMaterial::from_private_key(bytes, config.jwt.key_id.clone())
        .map_err(Error::ProvidedKey)?;
    let same = stored
        .as_ref()
        .filter(|s| s.source == Some(KeyOrigin::Provided) && s.keys == keys);
    let changed = match (&same, &stored) {
        (Some(_), _) => None,
        (None, None) => Some("no stored key pair"),
        (None, Some(s)) if s.source == Some(KeyOrigin::Generated) => {
            Some("switching from a generated key to a provided one")
        }
        (None, Some(_)) => Some("provided key changed"),
    };
    let created_at = same.and_then(|s| s.created_at);
    let retired = match stored {
        // The same key: its retired keys as stored, those past their window dropped.
        Some(s) if changed.is_none() => {
            let mut retired = s.retired;
            retired.prune(now, &keys);
            retired
        }
        // A replaced key stays valid for the grace period, as a rotated one does.
        replaced => retire(replaced.map(|r| (r.retired, r.keys)), &keys, config, now),
    };
    Ok(Decision::Keep(Box::new(KeyState {
        retired,
        created_at: created_at.unwrap_or(now),
        changed: changed.map(KeyChange::requested),
        keys,
        origin: KeyOrigin::Provided,
        rotation_request: None,
        replaced_lost_at: None,
        moved_from: None,
        read_fresh: None,
    })))
}

/// The retired keys once `current` replaces the pair of `replaced` (with the keys it had
/// retired): that pair kept for the grace period, those past their window dropped.
fn retire(
    replaced: Option<(RetiredKeys, KeyMaterial)>,
    current: &KeyMaterial,
    config: &ValidatedConfig,
    now: Timestamp,
) -> RetiredKeys {
    let Some((mut retired, old)) = replaced else {
        return RetiredKeys::default();
    };
    let grace = jiff::SignedDuration::try_from(config.jwt.grace_period)
        .unwrap_or(jiff::SignedDuration::ZERO);
    if old != *current {
        retired.retire(&old, now, grace);
    }
    retired.prune(now, current);
    retired
}

async fn generate(key_id: Option<String>, keygen: &Arc<Semaphore>) -> Result<KeyMaterial, Error> {
    // The semaphore is never closed, so acquiring only fails if it were; generate anyway then.
    let _permit = keygen.clone().acquire_owned().await.ok();
    tokio::task::spawn_blocking(move || KeyMaterial::generate(key_id))
        .await
        .map_err(Error::Join)?
        .map_err(Error::Generate)
}

fn due(created: Timestamp, every: std::time::Duration, now: Timestamp) -> bool {
    jiff::SignedDuration::try_from(every)
        .ok()
        .and_then(|span| created.checked_add(span).ok())
        .is_some_and(|at| at <= now)
}

/// What a keys Secret holds, when it parses.
struct StoredKeys {
    keys: KeyMaterial,
    /// Its retired keys (none when the entry is missing or unreadable: the operator wrote it, so
    /// an unreadable one was edited, and what the server reads from it is unknown anyway).
    retired: RetiredKeys,
    source: Option<KeyOrigin>,
    created_at: Option<Timestamp>,
    rotation_request: Option<String>,
    replaced_lost_at: Option<Timestamp>,
}

impl StoredKeys {
    /// `Err` for a Secret whose key pair does not parse: it cannot be what pods use, and it is
    /// replaced, never patched up.
    fn read(secret: &Secret) -> Result<Self, ()> {
        let data: BTreeMap<String, Vec<u8>> = secret
            .data
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.0))
            .collect();
        let keys = KeyMaterial::from_secret_data(&data).map_err(|_| ())?;
        let retired =
            RetiredKeys::from_entry(data.get(RETIRED_JWKS).map(Vec::as_slice)).unwrap_or_default();
        let annotations = secret.metadata.annotations.clone().unwrap_or_default();
        let time = |key: &str| annotations.get(key).and_then(|t| t.parse().ok());
        Ok(Self {
            keys,
            retired,
            source: match annotations.get(KEY_SOURCE).map(String::as_str) {
                Some("Generated") => Some(KeyOrigin::Generated),
                Some("Provided") => Some(KeyOrigin::Provided),
                _ => None,
            },
            created_at: time(KEY_CREATED_AT),
            rotation_request: annotations.get(ROTATION_REQUEST).cloned(),
            replaced_lost_at: time(KEY_REPLACED_LOST),
        })
    }
}

#[cfg(test)]
mod tests;
