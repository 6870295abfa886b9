//! `preview-upgrade`: whether this version of the operator would roll a resource's servers,
//! decided against the live resource before the operator is upgraded.
//!
//! The new version renders the live resource with the live inputs: the Secrets and ConfigMaps it
//! references, the key pair in its keys Secret (or the provided key), and the provider endpoints
//! the running operator discovered (`status.provider`). The targets roll when the config hash of
//! that rendering differs from the one the targets run (`status.configHash`); the entries that
//! differ from the live owned Secrets are named, never shown. Pure: the caller reads the cluster.

use std::collections::BTreeMap;

use crate::crd::OidcSsoConfig;
use crate::keys::KeyMaterial;
use crate::preview::{PreviewError, PreviewInput, inputs_for};
use crate::render::{ProviderEndpoints, SecretPayload};
use crate::validate;

/// Data of one Secret or ConfigMap, by key.
pub type Data = BTreeMap<String, Vec<u8>>;

/// A resource as it is in the cluster, with everything the operator would read for it.
pub struct LiveResource {
    /// The resource and the objects it references, by (kind, name).
    pub input: PreviewInput,
    /// The data of its settings Secret (`status.secrets.authEnv`), if it exists.
    pub auth_env: Option<Data>,
    /// The data of its keys Secret (`status.secrets.jwtKeys`), if it exists.
    pub jwt_keys: Option<Data>,
}

/// What an upgrade to this version would do to a resource's targets.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The rendering is the one the targets run: nothing rolls.
    Unchanged {
        /// The config hash, as now.
        hash: String,
    },
    /// The targets would roll once, at the new operator's first reconcile.
    Rolls {
        /// The hash the targets run now (none when the operator has not rendered yet).
        live: Option<String>,
        /// The hash this version renders.
        new: String,
        /// The entries that differ from the live owned Secrets (`<role>/<key>`).
        entries: Vec<String>,
    },
    /// Not decidable from the live state; the operator would not roll it either way, or would
    /// roll it whatever the version.
    CannotTell {
        /// Why, naming the field or object.
        why: String,
    },
}

/// Decides what an upgrade to this version would do to `live`'s targets.
pub fn verdict(live: &LiveResource) -> Verdict {
    let resource = &live.input.resource;
    if resource.spec.suspend == Some(true) {
        return Verdict::CannotTell {
            why: "spec.suspend is true: nothing is reconciled until it is unset".into(),
        };
    }
    let Some(status) = resource.status.as_ref() else {
        return Verdict::CannotTell {
            why: "no status: the operator has not reconciled it yet".into(),
        };
    };
    let endpoints = ProviderEndpoints {
        jwks_uri: status.provider.as_ref().and_then(|p| p.jwks_uri.clone()),
        token_endpoint: status
            .provider
            .as_ref()
            .and_then(|p| p.token_endpoint.clone()),
    };
    match render_live(live, &endpoints) {
        Ok((auth_env, jwt_keys, new)) => {
            let live_hash = status.config_hash.clone();
            if live_hash.as_deref() == Some(new.as_str()) {
                return Verdict::Unchanged { hash: new };
            }
            let mut entries = differing("auth-env", &auth_env, live.auth_env.as_ref());
            entries.extend(differing("jwt-keys", &jwt_keys, live.jwt_keys.as_ref()));
            Verdict::Rolls {
                live: live_hash,
                new,
                entries,
            }
        }
        Err(why) => Verdict::CannotTell { why },
    }
}

/// The settings and key entries this version renders, and their config hash.
fn render_live(
    live: &LiveResource,
    endpoints: &ProviderEndpoints,
) -> Result<(SecretPayload, SecretPayload, String), String> {
    let resource: &OidcSsoConfig = &live.input.resource;
    let inputs = inputs_for(resource, &live.input.objects);
    let config =
        validate::validate(resource, &inputs).map_err(|e| PreviewError::from(e).to_string())?;
    let key_id = config.jwt.key_id.clone();
    let keys = match &config.jwt.own_private_key {
        Some(bytes) => KeyMaterial::from_private_key(bytes.expose(), key_id),
        None => {
            let Some(data) = live.jwt_keys.as_ref() else {
                return Err(
                    "its keys Secret is missing: the operator generates a new pair, \
                            whatever the version"
                        .into(),
                );
            };
            KeyMaterial::from_secret_data(data).and_then(|k| {
                if k.has_key_id(key_id.as_deref()) {
                    Ok(k)
                } else {
                    KeyMaterial::from_private_key(k.private_pkcs8_der(), key_id)
                }
            })
        }
    }
    .map_err(|e| format!("the key pair: {e}"))?;
    let rendered = crate::render::render(&config, &keys, endpoints)
        .map_err(|e| PreviewError::from(e).to_string())?;
    Ok((rendered.auth_env, rendered.jwt_keys, rendered.config_hash))
}

/// `<role>/<key>` of each rendered entry that is not in `live` with the same bytes, and of each
/// live entry this version no longer writes. The keys Secret's retired keys are the operator's
/// state, not the rendering: left out.
fn differing(role: &str, rendered: &SecretPayload, live: Option<&Data>) -> Vec<String> {
    let empty = Data::new();
    let live = live.unwrap_or(&empty);
    let mut keys: Vec<&String> = rendered.data.keys().chain(live.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| k.as_str() != crate::keys::retired::RETIRED_JWKS)
        .filter(|k| rendered.data.get(*k) != live.get(*k))
        .map(|k| format!("{role}/{k}"))
        .collect()
}

#[cfg(test)]
mod tests;
