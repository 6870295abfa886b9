//! The apiserver's checks as the offline `render` applies them, one per kind of rule; the same
//! documents go to the real apiserver in tests/e2e/admission.rs, which must decide alike.

use serde_json::{Value, json};

use super::*;
use crate::validate::tests::confidential;

fn doc(spec: Value) -> Value {
    crate::fixtures::Resource::with_spec(spec).json()
}

fn with(pointer: &str, value: Value) -> Value {
    let mut d = doc(confidential());
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let target = d.pointer_mut(parent).unwrap();
    if target.is_null() {
        *target = json!({});
    }
    target[key] = value;
    d
}

fn refused_at(d: &Value, field: &str) -> String {
    let found = refusals(d);
    found
        .iter()
        .find(|r| r.starts_with(&format!("{field}: ")))
        .cloned()
        .unwrap_or_else(|| panic!("no refusal at {field} in {found:#?}"))
}

#[test]
fn a_valid_resource_is_admitted() {
    assert_eq!(refusals(&doc(confidential())), Vec::<String>::new());
    let mut spec = confidential();
    spec["ingestion"] = json!({"botTokenEnvVar": "OM_BOT", "authProvider": "openmetadata"});
    spec["targets"] =
        json!([{"kind": "Deployment", "name": "om"}, {"kind": "StatefulSet", "name": "om"}]);
    assert_eq!(refusals(&doc(spec)), Vec::<String>::new());
}

#[test]
fn a_pattern_names_the_field_and_shows_the_value_on_one_line() {
    let refusal = refused_at(
        &with(
            "/spec/ingestion",
            json!({"botTokenEnvVar": "A\n    hostPort: x"}),
        ),
        "spec.ingestion.botTokenEnvVar",
    );
    assert!(!refusal.contains('\n'), "{refusal}");
    assert!(refusal.contains("does not match"), "{refusal}");
}

#[test]
fn types_enums_lengths_and_required_fields_are_checked() {
    refused_at(
        &with("/spec/provider/clientType", json!("Secret")),
        "spec.provider.clientType",
    );
    refused_at(
        &with("/spec/provider/issuer", json!(42)),
        "spec.provider.issuer",
    );
    let mut d = doc(confidential());
    d["spec"].as_object_mut().unwrap().remove("server");
    refused_at(&d, "spec");
}

#[test]
fn cel_rules_are_applied_where_they_stand() {
    let d = with(
        "/spec/provider/credentialsSecretRef",
        json!({"name": "creds", "jsonKey": "client.json", "clientIdKey": "id"}),
    );
    let refusal = refused_at(&d, "spec.provider.credentialsSecretRef.jsonKey");
    assert!(
        refusal.contains("jsonKey excludes clientIdKey"),
        "{refusal}"
    );
    let long = with("/metadata/name", json!("n".repeat(64)));
    assert!(
        refusals(&long).iter().any(|r| r.starts_with("<root>: ")),
        "{:#?}",
        refusals(&long)
    );
}

#[test]
fn a_map_list_holds_each_key_once() {
    let d = with(
        "/spec/targets",
        json!([{"kind": "Deployment", "name": "om"}, {"kind": "Deployment", "name": "om"}]),
    );
    let refusal = refused_at(&d, "spec.targets[1]");
    assert!(refusal.contains("duplicate entry"), "{refusal}");
}

#[test]
fn null_is_accepted_where_the_schema_says_nullable() {
    assert_eq!(
        refusals(&with("/spec/ingestion", Value::Null)),
        Vec::<String>::new()
    );
}

/// Every CEL rule of the generated CRD evaluates (true or false) offline, on a resource that
/// sets every field a rule reads: a new rule the interpreter cannot read fails here first.
#[test]
fn every_rule_of_the_crd_is_understood_offline() {
    let openapi = schema().expect("the CRD has a schema");
    let mut rules = Vec::new();
    collect_rules(&openapi, &mut rules);
    assert!(rules.len() >= 4, "{rules:?}");
    let sample = json!({
        "metadata": {"name": "om"},
        "spec": {"output": {"authEnvSecretName": "a"}},
        "clientType": "Confidential", "clientId": "x", "scopes": ["openid"],
        "issuer": "https://idp", "allowInsecureHttp": false,
        "jsonKey": "a", "clientIdKey": "b", "clientSecretKey": "c",
        "configMapRef": {"name": "a"}, "secretRef": {"name": "a"},
        "clientCredentials": {}, "credentials": {},
        "ingestion": {"authProvider": "custom-oidc"},
        "provider": {"credentialsSecretRef": {"name": "a"}, "caBundle": {}},
        "server": {"trustProviderCa": true},
    });
    for rule in rules {
        assert!(
            evaluate(&rule, &sample).is_ok(),
            "{rule}: {:?}",
            evaluate(&rule, &sample)
        );
    }
}

fn collect_rules(node: &Value, out: &mut Vec<String>) {
    match node {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "x-kubernetes-validations" {
                    out.extend(
                        v.as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|r| r.get("rule").and_then(Value::as_str))
                            .map(str::to_owned),
                    );
                } else {
                    collect_rules(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_rules(i, out)),
        _ => {}
    }
}
