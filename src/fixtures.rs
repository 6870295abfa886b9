//! Resources for the unit and mock tests, built in one place instead of a JSON resource per
//! module: a valid public client by default, and each test sets only what it is about.

use serde_json::{Value, json};

use crate::crd::OidcSsoConfig;

/// An `OidcSsoConfig` under construction.
#[derive(Clone, Debug)]
pub(crate) struct Resource {
    value: Value,
}

impl Resource {
    /// `om` in `data`: a public client `ui` of `https://idp.example.com` for the server at
    /// `https://om.example.com`, admin `alice`, no targets.
    pub(crate) fn public() -> Self {
        Self::with_spec(json!({
            "provider": {"issuer": "https://idp.example.com", "clientType": "Public",
                         "clientId": "ui"},
            "authorizer": {"adminPrincipals": ["alice"]},
            "server": {"externalUrl": "https://om.example.com"},
        }))
    }

    /// `om` in `data` with `spec` as its whole spec.
    pub(crate) fn with_spec(spec: Value) -> Self {
        Self {
            value: json!({
                "apiVersion": "oidcsso.io/v1alpha1", "kind": "OidcSsoConfig",
                "metadata": {"name": "om", "namespace": "data"},
                "spec": spec,
            }),
        }
    }

    /// Sets the value at `pointer` (a JSON pointer into the whole resource, e.g.
    /// `/spec/targets`), creating the last key.
    pub(crate) fn set(mut self, pointer: &str, value: Value) -> Self {
        let (parent, key) = pointer.rsplit_once('/').expect("a JSON pointer");
        let Some(Value::Object(map)) = self.value.pointer_mut(parent) else {
            panic!("{parent} is not an object in the fixture");
        };
        map.insert(key.to_string(), value);
        self
    }

    /// In namespace `namespace`, named `name`.
    pub(crate) fn named(self, namespace: &str, name: &str) -> Self {
        self.set("/metadata/namespace", json!(namespace))
            .set("/metadata/name", json!(name))
    }

    /// With this uid.
    pub(crate) fn uid(self, uid: &str) -> Self {
        self.set("/metadata/uid", json!(uid))
    }

    /// At this resourceVersion.
    pub(crate) fn version(self, version: &str) -> Self {
        self.set("/metadata/resourceVersion", json!(version))
    }

    /// At this generation.
    pub(crate) fn generation(self, generation: i64) -> Self {
        self.set("/metadata/generation", json!(generation))
    }

    /// Rolling one Deployment named `name`.
    pub(crate) fn rolling(self, name: &str) -> Self {
        self.set(
            "/spec/targets",
            json!([{"kind": "Deployment", "name": name}]),
        )
    }

    /// As JSON (what a fake apiserver serves).
    pub(crate) fn json(self) -> Value {
        self.value
    }

    /// The resource; panics (failing the test) when the fixture is not one.
    pub(crate) fn build(self) -> OidcSsoConfig {
        serde_json::from_value(self.value).expect("the fixture is an OidcSsoConfig")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_a_valid_public_client_and_setters_change_only_their_field() {
        let r = Resource::public()
            .named("ns", "c")
            .uid("u1")
            .version("7")
            .generation(2)
            .rolling("app")
            .set("/spec/provider/clientId", json!("om"))
            .build();
        assert_eq!(
            (r.metadata.namespace.as_deref(), r.metadata.name.as_deref()),
            (Some("ns"), Some("c"))
        );
        assert_eq!(r.metadata.uid.as_deref(), Some("u1"));
        assert_eq!(r.metadata.resource_version.as_deref(), Some("7"));
        assert_eq!(r.metadata.generation, Some(2));
        assert_eq!(r.spec.targets.len(), 1);
        assert_eq!(r.spec.provider.client_id.as_deref(), Some("om"));
        assert_eq!(r.spec.server.external_url, "https://om.example.com");
    }
}
