//! The offline `render` refuses exactly what the apiserver refuses: each document below goes to
//! the real apiserver (a server-side dry run of a create, the CRD installed) and to
//! `validate::admission::refusals`, and both must decide alike; a refusal offline names the field
//! the apiserver names.

use kube::api::{Api, DynamicObject, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::{Value, json};

use oidc_sso_operator::validate::admission::refusals;

use crate::support::cluster::{self, TestNamespace};
use crate::support::operator::install_crd;

fn spec() -> Value {
    json!({
        "provider": {
            "issuer": "https://idp.example.com/realms/data",
            "clientType": "Confidential",
            "credentialsSecretRef": {"name": "creds"},
        },
        "authorizer": {"adminPrincipals": ["alice"]},
        "server": {"externalUrl": "https://om.example.com"},
    })
}

/// (what, field the refusal names or None when admitted, the spec change).
fn cases() -> Vec<(&'static str, Option<&'static str>, Value)> {
    let mut cases = vec![("valid", None, spec())];
    let mut add = |what, field, pointer: &str, value: Value| {
        let mut s = spec();
        let (parent, key) = pointer.rsplit_once('/').unwrap_or(("", pointer));
        let target = if parent.is_empty() {
            &mut s
        } else {
            s.pointer_mut(parent).unwrap()
        };
        target[key] = value;
        cases.push((what, field, s));
    };
    add(
        "newline in botTokenEnvVar",
        Some("spec.ingestion.botTokenEnvVar"),
        "/ingestion",
        json!({"botTokenEnvVar": "A\nhostPort: x"}),
    );
    add(
        "quote in botTokenEnvVar",
        Some("spec.ingestion.botTokenEnvVar"),
        "/ingestion",
        json!({"botTokenEnvVar": "A\"B"}),
    );
    add(
        "a good botTokenEnvVar",
        None,
        "/ingestion",
        json!({"botTokenEnvVar": "OM_BOT"}),
    );
    add(
        "unknown clientType",
        Some("spec.provider.clientType"),
        "/provider/clientType",
        json!("Secret"),
    );
    add(
        "http issuer without allowInsecureHttp",
        Some("spec.provider.issuer"),
        "/provider/issuer",
        json!("http://idp.example.com"),
    );
    add(
        "jsonKey with clientIdKey",
        Some("spec.provider.credentialsSecretRef.jsonKey"),
        "/provider/credentialsSecretRef",
        json!({"name": "creds", "jsonKey": "c.json", "clientIdKey": "id"}),
    );
    add(
        "duplicate targets",
        Some("spec.targets[1]"),
        "/targets",
        json!([{"kind": "Deployment", "name": "om"}, {"kind": "Deployment", "name": "om"}]),
    );
    add(
        "two targets",
        None,
        "/targets",
        json!([{"kind": "Deployment", "name": "om"}, {"kind": "StatefulSet", "name": "om"}]),
    );
    add(
        "scopes without openid",
        Some("spec.provider.scopes"),
        "/provider/scopes",
        json!(["email"]),
    );
    add("null ingestion", None, "/ingestion", Value::Null);
    cases
}

#[tokio::test]
async fn offline_admission_decides_as_the_apiserver() -> anyhow::Result<()> {
    let client = cluster::client().await;
    install_crd(&client).await;
    let ns = TestNamespace::create(&client, "admission").await?;
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("oidcsso.io", "v1alpha1", "OidcSsoConfig"),
        "oidcssoconfigs",
    );
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns.name(), &resource);
    let dry_run = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    for (i, (what, field, spec)) in cases().into_iter().enumerate() {
        let doc = json!({
            "apiVersion": "oidcsso.io/v1alpha1",
            "kind": "OidcSsoConfig",
            "metadata": {"name": format!("case-{i}"), "namespace": ns.name()},
            "spec": spec,
        });
        let object: DynamicObject = serde_json::from_value(doc.clone())?;
        let apiserver = api.create(&dry_run, &object).await;
        let offline = refusals(&doc);
        match (field, apiserver) {
            (None, Ok(_)) => assert!(
                offline.is_empty(),
                "{what}: admitted by the apiserver, refused offline: {offline:?}"
            ),
            (Some(field), Err(kube::Error::Api(status))) => {
                assert!(
                    status.message.contains(field),
                    "{what}: the apiserver names {field}: {}",
                    status.message
                );
                assert!(
                    offline.iter().any(|r| r.starts_with(field)),
                    "{what}: refused by the apiserver ({}), offline: {offline:?}",
                    status.message
                );
            }
            (expected, got) => {
                panic!("{what}: expected the apiserver to refuse at {expected:?}, got {got:?}")
            }
        }
    }
    Ok(())
}
