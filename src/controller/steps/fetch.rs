//! Fetch: the objects an `OidcSsoConfig` references ([`References`]), read on demand (the
//! operator caches no Secret it does not own), and its targets.
//!
//! IO only; a missing object is `None`, not an error, so validate can name the field.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::{Api, Client};

use crate::controller::steps::rollout::workloads::{Target, deployment_state, stateful_set_state};
use crate::controller::watch::memory::WatchMemory;
use crate::crd::{TargetKind, TargetRef};
use crate::references::{DataKind, DataRef, References};
use crate::validate::{Inputs, ObjectData};

/// Why fetching failed (anything but "not found").
#[derive(Debug, thiserror::Error)]
#[error("failed to read {kind} {name}")]
pub struct Error {
    /// Kind of the object.
    pub kind: &'static str,
    /// Its name.
    pub name: String,
    /// The API error.
    #[source]
    pub source: kube::Error,
}

/// Reads every object `references` names, all at once (one round trip however many there are).
pub(in crate::controller) async fn inputs(
    client: &Client,
    namespace: &str,
    references: &References,
) -> Result<Inputs, Error> {
    let reads = references.data.iter().map(|r| async move {
        let data = match r.kind {
            DataKind::Secret => secret_data(client, namespace, &r.name).await?,
            DataKind::ConfigMap => config_map_data(client, namespace, &r.name).await?,
        };
        Ok::<_, Error>((r.clone(), data))
    });
    let found: BTreeMap<DataRef, ObjectData> = futures::future::try_join_all(reads)
        .await?
        .into_iter()
        .collect();
    Ok(Inputs::gather(references, |r| {
        found.get(r).cloned().flatten()
    }))
}

async fn secret_data(client: &Client, namespace: &str, name: &str) -> Result<ObjectData, Error> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    // A Secret read back has only `data` (`stringData` is write-only).
    let found = get(&api, "Secret", name).await?;
    Ok(found.map(|s| merged(s.data, None)))
}

async fn config_map_data(
    client: &Client,
    namespace: &str,
    name: &str,
) -> Result<ObjectData, Error> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let found = get(&api, "ConfigMap", name).await?;
    Ok(found.map(|c| merged(c.binary_data, c.data)))
}

async fn get<K>(api: &Api<K>, kind: &'static str, name: &str) -> Result<Option<K>, Error>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.get_opt(name).await.map_err(|source| Error {
        kind,
        name: name.to_string(),
        source,
    })
}

/// Binary entries, then text entries, as bytes by key.
fn merged(
    binary: Option<BTreeMap<String, k8s_openapi::ByteString>>,
    text: Option<BTreeMap<String, String>>,
) -> BTreeMap<String, Vec<u8>> {
    let mut data: BTreeMap<String, Vec<u8>> = binary
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect();
    data.extend(
        text.unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.into_bytes())),
    );
    data
}

/// Every target: as the watch last delivered it when that is kept (`memory`), else read, all at
/// once (one round trip on the rollout path, however many targets).
pub(in crate::controller) async fn targets(
    client: &Client,
    namespace: &str,
    refs: &[TargetRef],
    memory: &WatchMemory,
) -> Result<Vec<Target>, Error> {
    futures::future::try_join_all(refs.iter().map(|reference| async move {
        if let Some(state) = memory.seen_target(reference.kind, namespace, &reference.name) {
            return Ok(Target {
                reference: reference.clone(),
                state: Some(state),
            });
        }
        let state = match reference.kind {
            TargetKind::Deployment => {
                let api: Api<Deployment> = Api::namespaced(client.clone(), namespace);
                get(&api, "Deployment", &reference.name)
                    .await?
                    .and_then(|d| deployment_state(&d))
            }
            TargetKind::StatefulSet => {
                let api: Api<StatefulSet> = Api::namespaced(client.clone(), namespace);
                get(&api, "StatefulSet", &reference.name)
                    .await?
                    .and_then(|s| stateful_set_state(&s))
            }
        };
        Ok(Target {
            reference: reference.clone(),
            state,
        })
    }))
    .await
}
