//! Apply: write the owned Secrets with server-side apply, in a fixed order, and only when they
//! differ from what the cache shows, so a steady state makes no API writes at all.
//!
//! Order: the keys Secret first, so no rendered setting ever names a key id that is not stored
//! (a crash between the writes leaves an unused key, never a dangling reference); then the
//! settings and the ingestion config, concurrently (neither refers to the other). Workloads are
//! rolled after all of them (see `rollout`).

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::Api;
use kube::api::{Patch, PatchParams};
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};

use crate::controller::watch::cache_form::{data_in_cache_form, to_cache_form};
use crate::controller::watch::memory::WatchMemory;
use crate::controller::{Context, steps::keys as jwt_keys};
use crate::crd::OidcSsoConfig;
use crate::names::labels::{self, ROLE_AUTH_ENV, ROLE_INGESTION, ROLE_JWT_KEYS};
use crate::names::{OPERATOR, field_managers};
use crate::objects::owned_secret;
use crate::render::Rendered;
use crate::validate::ValidatedConfig;

/// Why an owned Secret could not be written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API call failed.
    #[error("failed to apply Secret {name}")]
    Apply {
        /// The Secret.
        name: String,
        /// The API error.
        #[source]
        source: kube::Error,
    },
    /// A Secret of that name exists and belongs to someone else: never overwrite user data.
    #[error(
        "Secret {name} already exists and is not owned by this OidcSsoConfig; choose another name in spec.output"
    )]
    NotOwned {
        /// The Secret.
        name: String,
    },
}

/// The resource the owned Secrets belong to.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Owner<'a> {
    /// Its uid: Secrets with an owner reference to it are its own.
    pub(crate) uid: &'a str,
    /// Its name: a retained keys Secret of a resource of this name (deleted and re-created) is
    /// taken up again.
    pub(crate) name: &'a str,
}

/// What a reconcile knows of the Secret it is about to write.
#[derive(Clone, Copy, Debug)]
pub(in crate::controller) enum Existing<'a> {
    /// Its current copy (from the cache or read in this reconcile), or `None`: it does not exist.
    Known(Option<&'a Secret>),
    /// Not in the cache, which holds only Secrets with our label: it may be someone else's.
    Unknown,
}

/// Applies `desired` unless the existing copy already matches (compared in cache form, see
/// `cache_form`). Returns whether it wrote.
pub(in crate::controller) async fn apply_secret(
    api: &Api<Secret>,
    desired: &Secret,
    existing: Existing<'_>,
    owner: Owner<'_>,
    memory: &WatchMemory,
) -> Result<bool, Error> {
    let name = desired.metadata.name.clone().unwrap_or_default();
    let mut existing = match existing {
        Existing::Known(copy) => copy.cloned(),
        // Check for a foreign Secret before creating.
        Existing::Unknown => api.get_opt(&name).await.map_err(|source| Error::Apply {
            name: name.clone(),
            source,
        })?,
    };
    let mut want = desired.clone();
    to_cache_form(&mut want);
    if let Some(existing) = existing.as_mut() {
        if !ours(existing, owner) {
            return Err(Error::NotOwned { name });
        }
        to_cache_form(existing);
        if up_to_date(existing, &want) {
            return Ok(false);
        }
    }
    // Before the write: its watch event can arrive before its answer.
    memory.expect_secret(&want);
    // Forced: the operator is the only rightful writer of these fields, and a conflict (someone
    // edited the Secret) must be repaired, not reported forever.
    api.patch(
        &name,
        &PatchParams::apply(field_managers::SECRETS).force(),
        &Patch::Apply(desired),
    )
    .await
    .map_err(|source| Error::Apply { name, source })?;
    Ok(true)
}

/// Deletes an owned Secret that is no longer rendered. A Secret owned by anyone else is left alone.
pub(in crate::controller) async fn delete_owned(
    api: &Api<Secret>,
    secret: &Secret,
    owner: Owner<'_>,
) -> Result<(), Error> {
    if !ours(secret, owner) {
        return Ok(());
    }
    let name = secret.metadata.name.clone().unwrap_or_default();
    match api.delete(&name, &Default::default()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(source) => Err(Error::Apply { name, source }),
    }
}

/// Whether `secret` belongs to `owner`: an owner reference to it, or a keys Secret the operator
/// wrote for a resource of the same name and kept (no owner reference, or one to an earlier
/// resource of that name that was deleted). Anything else is someone else's and never written.
fn ours(secret: &Secret, owner: Owner<'_>) -> bool {
    let refs = secret
        .metadata
        .owner_references
        .as_deref()
        .unwrap_or_default();
    if refs.iter().any(|o: &OwnerReference| o.uid == owner.uid) {
        return true;
    }
    let labels = secret.metadata.labels.clone().unwrap_or_default();
    let label = |k: &str| labels.get(k).map(String::as_str);
    label(labels::MANAGED_BY) == Some(OPERATOR)
        && label(labels::ROLE) == Some(ROLE_JWT_KEYS)
        && label(labels::CONFIG) == Some(owner.name)
        && refs
            .iter()
            .all(|o| o.kind == "OidcSsoConfig" && o.name == owner.name)
}

/// Every field we apply already has the desired value (other managers' additions are fine).
fn up_to_date(existing: &Secret, desired: &Secret) -> bool {
    let contains = |have: &Option<BTreeMap<String, String>>,
                    want: &Option<BTreeMap<String, String>>| {
        want.iter()
            .flatten()
            .all(|(k, v)| have.as_ref().and_then(|h| h.get(k)) == Some(v))
    };
    existing.data == desired.data
        && contains(&existing.metadata.labels, &desired.metadata.labels)
        && contains(
            &existing.metadata.annotations,
            &desired.metadata.annotations,
        )
        // Only the operator sets owner references on its Secrets: they must be exactly the
        // desired ones (a keys Secret loses its reference when the policy becomes Retain).
        && existing.metadata.owner_references.as_deref().unwrap_or_default()
            == desired.metadata.owner_references.as_deref().unwrap_or_default()
}

/// Whether what would be rendered differs from the owned Secrets in the cache (a missing Secret
/// counts as different).
pub(in crate::controller) fn differs_from_cache(
    ctx: &Context,
    config: &ValidatedConfig,
    rendered: &Rendered,
) -> bool {
    [
        (&config.output.auth_env, ROLE_AUTH_ENV, &rendered.auth_env),
        (&config.output.jwt_keys, ROLE_JWT_KEYS, &rendered.jwt_keys),
    ]
    .into_iter()
    .any(|(name, role, payload)| {
        let Some(secret) = cached(ctx, &config.namespace, name) else {
            return true;
        };
        secret.data.as_ref() != Some(&data_in_cache_form(role, &payload.data))
    })
}

pub(in crate::controller) fn cached(
    ctx: &Context,
    namespace: &str,
    name: &str,
) -> Option<Arc<Secret>> {
    ctx.owned_secrets
        .get(&ObjectRef::new(name).within(namespace))
}

pub(in crate::controller) async fn apply_all(
    ctx: &Context,
    secrets: &Api<Secret>,
    resource: &OidcSsoConfig,
    config: &ValidatedConfig,
    rendered: &Rendered,
    keys: &jwt_keys::KeyState,
    write_ingestion: bool,
) -> Result<(), Error> {
    let reference = resource.controller_owner_ref(&());
    let uid = resource.uid().unwrap_or_default();
    let name = resource.name_any();
    let owner = Owner {
        uid: &uid,
        name: &name,
    };
    let secret = |payload, role, owned: bool| {
        owned_secret(
            payload,
            role,
            &name,
            &config.namespace,
            reference.clone().filter(|_| owned),
        )
    };
    // Retained keys carry no owner reference: garbage collection would delete the only copy.
    let mut keys_secret = secret(&rendered.jwt_keys, ROLE_JWT_KEYS, !config.jwt.retain_keys);
    keys_secret.metadata.annotations = Some(keys.annotations());
    let mut rest = vec![secret(&rendered.auth_env, ROLE_AUTH_ENV, true)];
    // A bot token the server rejects is not written: the ingestion Secret keeps what it held
    // (BotTokenValid says why).
    if let Some(ingestion) = rendered.ingestion.as_ref().filter(|_| write_ingestion) {
        rest.push(secret(ingestion, ROLE_INGESTION, true));
    }
    let apply = |secret: Secret, fresh: Option<Option<Secret>>| async move {
        let secret_name = secret.metadata.name.clone().unwrap_or_default();
        let cached = cached(ctx, &config.namespace, &secret_name);
        let existing = match (&fresh, cached.as_deref()) {
            // Read in this reconcile: newer than the cache, and no need to read it again.
            (Some(fresh), _) => Existing::Known(fresh.as_ref()),
            (None, Some(copy)) => Existing::Known(Some(copy)),
            (None, None) => Existing::Unknown,
        };
        apply_secret(secrets, &secret, existing, owner, &ctx.memory).await
    };
    // Keys first: nothing may refer to a key id before the key is stored.
    apply(keys_secret, keys.read_fresh.clone()).await?;
    // The rest refer to the stored key and not to each other: written at once, one round trip.
    futures::future::try_join_all(rest.into_iter().map(|s| apply(s, None))).await?;
    if let Some(old) = &keys.moved_from
        && let Some(stale) = secrets.get_opt(old).await.map_err(|source| Error::Apply {
            name: old.clone(),
            source,
        })?
    {
        // The key pair now lives under the new output name.
        delete_owned(secrets, &stale, owner).await?;
    }
    if rendered.ingestion.is_none()
        && let Some(stale) = cached(ctx, &config.namespace, &config.output.ingestion)
    {
        // Ingestion was turned off: remove the config this resource rendered before (only ours).
        delete_owned(secrets, &stale, owner).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use k8s_openapi::ByteString;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    use super::*;

    fn secret(value: &str, label: &str) -> Secret {
        Secret {
            metadata: ObjectMeta {
                name: Some("x".into()),
                labels: Some([("a".to_string(), label.to_string())].into()),
                ..ObjectMeta::default()
            },
            data: Some([("k".to_string(), ByteString(value.as_bytes().to_vec()))].into()),
            ..Secret::default()
        }
    }

    #[test]
    fn identical_content_needs_no_write() {
        assert!(up_to_date(&secret("v", "1"), &secret("v", "1")));
    }

    #[test]
    fn changed_data_or_label_needs_a_write() {
        assert!(!up_to_date(&secret("v", "1"), &secret("w", "1")));
        assert!(!up_to_date(&secret("v", "1"), &secret("v", "2")));
    }

    #[test]
    fn labels_added_by_others_do_not_force_a_write() {
        let mut existing = secret("v", "1");
        existing
            .metadata
            .labels
            .as_mut()
            .unwrap()
            .insert("other".into(), "x".into());
        assert!(up_to_date(&existing, &secret("v", "1")));
    }
}
