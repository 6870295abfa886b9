//! What an `OidcSsoConfig` references: the one answer used by the watches (which objects trigger a
//! resource), the fetch step (which objects to read) and the offline preview (which documents to
//! look up). Pure.
//!
//! Adding a reference to the spec means adding it here, and only here; [`Inputs::gather`] turns
//! the looked-up objects into what validation reads.

use crate::crd::{OidcSsoConfigSpec, TargetKind};
use crate::validate::{Inputs, ObjectData};

/// Kind of a referenced object that holds data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DataKind {
    /// A core/v1 Secret.
    Secret,
    /// A core/v1 ConfigMap.
    ConfigMap,
}

impl DataKind {
    /// The API kind.
    pub fn as_str(self) -> &'static str {
        match self {
            DataKind::Secret => "Secret",
            DataKind::ConfigMap => "ConfigMap",
        }
    }
}

/// What a referenced object is used for; decides where its data goes in [`Inputs`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Purpose {
    /// `spec.provider.credentialsSecretRef`.
    Credentials,
    /// `spec.provider.caBundle`.
    CaBundle,
    /// `spec.ingestion.botTokenSecretRef`.
    BotToken,
    /// `spec.jwt.keySecretRef`.
    OwnKeys,
}

/// One referenced object, in the resource's namespace.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DataRef {
    /// What it is used for.
    pub purpose: Purpose,
    /// Secret or ConfigMap.
    pub kind: DataKind,
    /// Its name.
    pub name: String,
}

/// Every object a spec references, in the resource's namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct References {
    /// Secrets and ConfigMaps whose data the operator reads.
    pub data: Vec<DataRef>,
    /// Workloads it rolls.
    pub targets: Vec<(TargetKind, String)>,
}

impl References {
    /// The references of `spec`.
    pub fn of(spec: &OidcSsoConfigSpec) -> Self {
        let data = data_refs(spec)
            .map(|(purpose, kind, name)| DataRef {
                purpose,
                kind,
                name: name.to_string(),
            })
            .collect();
        let targets = spec
            .targets
            .iter()
            .map(|t| (t.kind, t.name.clone()))
            .collect();
        Self { data, targets }
    }

    /// Whether `spec` reads the object `kind`/`name`. Allocates nothing: the watch mappers ask
    /// this of every resource in the namespace for every event.
    pub fn spec_reads(spec: &OidcSsoConfigSpec, kind: DataKind, name: &str) -> bool {
        data_refs(spec).any(|(_, k, n)| k == kind && n == name)
    }

    /// Whether `spec` rolls the workload `kind`/`name`. Allocates nothing (see [`Self::spec_reads`]).
    pub fn spec_rolls(spec: &OidcSsoConfigSpec, kind: TargetKind, name: &str) -> bool {
        spec.targets
            .iter()
            .any(|t| t.kind == kind && t.name == name)
    }

    /// Whether the spec reads the object `kind`/`name`.
    pub fn reads(&self, kind: DataKind, name: &str) -> bool {
        self.data.iter().any(|r| r.kind == kind && r.name == name)
    }

    /// Whether the spec rolls the workload `kind`/`name`.
    pub fn rolls(&self, kind: TargetKind, name: &str) -> bool {
        self.targets.iter().any(|(k, n)| *k == kind && n == name)
    }
}

/// The data objects `spec` references, borrowed, in a fixed order.
fn data_refs(spec: &OidcSsoConfigSpec) -> impl Iterator<Item = (Purpose, DataKind, &str)> {
    fn name(r: Option<&String>) -> Option<&str> {
        r.map(String::as_str)
    }
    let ca = spec.provider.ca_bundle.as_ref();
    [
        (
            Purpose::Credentials,
            DataKind::Secret,
            name(
                spec.provider
                    .credentials_secret_ref
                    .as_ref()
                    .map(|r| &r.name),
            ),
        ),
        (
            Purpose::CaBundle,
            DataKind::ConfigMap,
            name(ca.and_then(|c| c.config_map_ref.as_ref()).map(|r| &r.name)),
        ),
        (
            Purpose::CaBundle,
            DataKind::Secret,
            name(ca.and_then(|c| c.secret_ref.as_ref()).map(|r| &r.name)),
        ),
        (
            Purpose::BotToken,
            DataKind::Secret,
            name(
                spec.ingestion
                    .as_ref()
                    .and_then(|i| i.bot_token_secret_ref.as_ref())
                    .map(|r| &r.name),
            ),
        ),
        (
            Purpose::OwnKeys,
            DataKind::Secret,
            name(
                spec.jwt
                    .as_ref()
                    .and_then(|j| j.key_secret_ref.as_ref())
                    .map(|r| &r.name),
            ),
        ),
    ]
    .into_iter()
    .filter_map(|(purpose, kind, name)| Some((purpose, kind, name?)))
}

impl Inputs {
    /// The inputs of `references`, with each object's data from `lookup` (`None`: not found).
    pub fn gather(references: &References, mut lookup: impl FnMut(&DataRef) -> ObjectData) -> Self {
        let mut inputs = Inputs::default();
        for r in &references.data {
            let data = lookup(r);
            let slot = match r.purpose {
                Purpose::Credentials => &mut inputs.credentials,
                Purpose::CaBundle => &mut inputs.ca_bundle,
                Purpose::BotToken => &mut inputs.bot_token,
                Purpose::OwnKeys => &mut inputs.own_keys,
            };
            *slot = data;
        }
        inputs
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec(extra: serde_json::Value) -> OidcSsoConfigSpec {
        let mut spec = json!({
            "provider": {"issuer": "https://idp.example.com", "clientType": "Confidential",
                         "credentialsSecretRef": {"name": "creds"},
                         "caBundle": {"configMapRef": {"name": "ca", "key": "ca.crt"}}},
            "authorizer": {"adminPrincipals": ["alice"]},
            "server": {"externalUrl": "https://om.example.com"},
            "targets": [{"kind": "Deployment", "name": "om"}],
        });
        if let (Some(base), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
            base.extend(extra.clone());
        }
        crate::fixtures::Resource::with_spec(spec).build().spec
    }

    #[test]
    fn every_reference_of_the_spec_is_listed_with_its_purpose() {
        let refs = References::of(&spec(json!({
            "jwt": {"keySecretRef": {"name": "own-keys"}},
            "ingestion": {"botTokenSecretRef": {"name": "bot", "key": "token"}},
        })));
        let listed: Vec<(Purpose, DataKind, &str)> = refs
            .data
            .iter()
            .map(|r| (r.purpose, r.kind, r.name.as_str()))
            .collect();
        assert_eq!(
            listed,
            [
                (Purpose::Credentials, DataKind::Secret, "creds"),
                (Purpose::CaBundle, DataKind::ConfigMap, "ca"),
                (Purpose::BotToken, DataKind::Secret, "bot"),
                (Purpose::OwnKeys, DataKind::Secret, "own-keys"),
            ]
        );
        assert!(refs.reads(DataKind::ConfigMap, "ca"));
        assert!(!refs.reads(DataKind::Secret, "ca"));
        assert!(refs.rolls(TargetKind::Deployment, "om"));
        assert!(!refs.rolls(TargetKind::StatefulSet, "om"));
    }

    #[test]
    fn the_mappers_questions_get_the_answers_of_the_listed_references() {
        let s = spec(json!({
            "jwt": {"keySecretRef": {"name": "own-keys"}},
            "provider": {"issuer": "https://idp.example.com", "clientType": "Confidential",
                         "credentialsSecretRef": {"name": "creds"},
                         "caBundle": {"secretRef": {"name": "ca", "key": "ca.crt"}}},
        }));
        let refs = References::of(&s);
        for kind in [DataKind::Secret, DataKind::ConfigMap] {
            for name in ["creds", "ca", "own-keys", "om", "other"] {
                assert_eq!(
                    References::spec_reads(&s, kind, name),
                    refs.reads(kind, name),
                    "{kind:?} {name}"
                );
            }
        }
        for kind in [TargetKind::Deployment, TargetKind::StatefulSet] {
            for name in ["om", "creds"] {
                assert_eq!(
                    References::spec_rolls(&s, kind, name),
                    refs.rolls(kind, name)
                );
            }
        }
        assert!(References::spec_reads(&s, DataKind::Secret, "ca"));
        assert!(References::spec_rolls(&s, TargetKind::Deployment, "om"));
    }

    #[test]
    fn gathered_inputs_land_where_validation_reads_them() {
        let refs = References::of(&spec(json!({})));
        let inputs = Inputs::gather(&refs, |r| {
            Some([("name".to_string(), r.name.as_bytes().to_vec())].into())
        });
        let name = |d: &ObjectData| d.as_ref().map(|d| d["name"].clone());
        assert_eq!(name(&inputs.credentials), Some(b"creds".to_vec()));
        assert_eq!(name(&inputs.ca_bundle), Some(b"ca".to_vec()));
        assert_eq!(inputs.bot_token, None);
        assert_eq!(inputs.own_keys, None);
    }
}
