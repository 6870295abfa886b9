//! The JWT key pair of an output directory: generated once, read back and reused by every later
//! run, replaced only when asked (`--rotate-keys`). A private key already there is never
//! replaced silently: one that does not parse, or that differs from the key the spec brings,
//! stops the run until the user says what to do.
//!
//! Reading uses [`KeyMaterial::from_secret_data`], the same check the operator applies to its
//! keys Secret: `private_key.der` must be PKCS#8, `public_key.der` its exact SPKI, `key_id` valid.
//! When only the files derived from the private key are wrong (a run cut short), the private key
//! alone is taken and the rest rewritten from it.

use std::collections::BTreeMap;
use std::path::Path;

use crate::keys::{self, KeyError, KeyMaterial};
use crate::validate::ValidatedConfig;

use super::{OfflineError, files};

/// What happened to the key pair in this run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyEvent {
    /// The pair in the directory is used as it is.
    Kept,
    /// The private key is kept; the files derived from it did not match it and are rewritten.
    Repaired,
    /// The same pair gets the key id the spec now asks for.
    Relabelled {
        /// The key id before.
        previous_key_id: String,
    },
    /// There was no pair: a new one was generated.
    Generated,
    /// The key the spec brings (`spec.jwt.keySecretRef`) is used.
    Provided,
    /// `--rotate-keys` replaced the pair.
    Rotated {
        /// The key id of the replaced pair, when it could be read.
        previous_key_id: Option<String>,
    },
}

/// What a key directory holds.
enum Stored {
    /// A usable pair; `stale` when the files derived from the private key do not match it (a
    /// run cut short after writing it): the private key is what the server signs with, so it is
    /// the pair's truth, and the rest is rewritten from it.
    Pair { keys: KeyMaterial, stale: bool },
    /// A private key that does not parse.
    Unusable(KeyError),
}

impl Stored {
    fn keys(self) -> Option<KeyMaterial> {
        match self {
            Stored::Pair { keys, .. } => Some(keys),
            Stored::Unusable(_) => None,
        }
    }
}

/// The pair stored in `dir`, `None` when there is no private key.
fn read_stored(dir: &Path) -> Result<Option<Stored>, OfflineError> {
    // A planted link must not hand another key to the run (nor make it write beside one).
    for folder in [dir.parent(), Some(dir)].into_iter().flatten() {
        files::no_link(folder).map_err(|e| OfflineError::read(folder, e))?;
    }
    let mut data = BTreeMap::new();
    for name in [keys::PRIVATE_KEY_DER, keys::PUBLIC_KEY_DER, keys::KEY_ID] {
        let path = dir.join(name);
        if let Some(bytes) = files::read(&path).map_err(|e| OfflineError::read(&path, e))? {
            data.insert(name.to_string(), bytes);
        }
    }
    if !data.contains_key(keys::PRIVATE_KEY_DER) {
        return Ok(None);
    }
    let whole = match KeyMaterial::from_secret_data(&data) {
        Ok(keys) => return Ok(Some(Stored::Pair { keys, stale: false })),
        Err(e) => e,
    };
    let der = data.remove(keys::PRIVATE_KEY_DER).unwrap_or_default();
    // Only a private key already in the form the server reads is taken alone.
    Ok(Some(match KeyMaterial::from_der(&der, None, None) {
        Ok(keys) if keys.private_pkcs8_der() == der.as_slice() => {
            Stored::Pair { keys, stale: true }
        }
        _ => Stored::Unusable(whole),
    }))
}

/// The key pair to render with, from the key directory `dir` (nothing is written here).
pub fn decide(
    dir: &Path,
    config: &ValidatedConfig,
    rotate: bool,
) -> Result<(KeyMaterial, KeyEvent), OfflineError> {
    let stored = read_stored(dir)?;
    let key_id = config.jwt.key_id.clone();
    if let Some(own) = &config.jwt.own_private_key {
        let provided = KeyMaterial::from_private_key(own.expose(), key_id)?;
        return take_provided(dir, stored, provided, rotate);
    }
    match stored {
        Some(Stored::Pair { keys: s, stale }) if !rotate => {
            if s.has_key_id(key_id.as_deref()) && !stale {
                return Ok((s, KeyEvent::Kept));
            }
            let previous_key_id = s.key_id().to_string();
            let keys = KeyMaterial::from_private_key(s.private_pkcs8_der(), key_id)?;
            let event = if stale {
                KeyEvent::Repaired
            } else {
                KeyEvent::Relabelled { previous_key_id }
            };
            Ok((keys, event))
        }
        Some(Stored::Unusable(source)) if !rotate => Err(OfflineError::StoredKeys {
            path: dir.to_path_buf(),
            source,
        }),
        Some(s) => Ok((KeyMaterial::generate(key_id)?, rotated(s.keys()))),
        None => Ok((KeyMaterial::generate(key_id)?, KeyEvent::Generated)),
    }
}

/// The key the spec brings, unless another private key is stored and no rotation is asked for.
fn take_provided(
    dir: &Path,
    stored: Option<Stored>,
    provided: KeyMaterial,
    rotate: bool,
) -> Result<(KeyMaterial, KeyEvent), OfflineError> {
    match stored {
        Some(Stored::Pair { keys, .. })
            if keys.private_pkcs8_der() == provided.private_pkcs8_der() =>
        {
            Ok((provided, KeyEvent::Provided))
        }
        Some(_) if !rotate => Err(OfflineError::KeyWouldBeReplaced {
            path: dir.join(keys::PRIVATE_KEY_DER),
        }),
        Some(s) => Ok((provided, rotated(s.keys()))),
        None => Ok((provided, KeyEvent::Provided)),
    }
}

fn rotated(previous: Option<KeyMaterial>) -> KeyEvent {
    KeyEvent::Rotated {
        previous_key_id: previous.map(|k| k.key_id().to_string()),
    }
}
