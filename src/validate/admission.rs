//! What the apiserver checks before it stores an `OidcSsoConfig`, applied to a resource the
//! offline `render` reads from a file: the CRD's OpenAPI schema (types, patterns, lengths, enums,
//! required fields, list uniqueness) and its CEL rules (`x-kubernetes-validations`). Without it a
//! value the cluster would refuse (a newline in `spec.ingestion.botTokenEnvVar`) reaches the
//! rendered files. Pure.
//!
//! The schema is the one `crds/` is generated from ([`OidcSsoConfig::crd`]), read at run time, so
//! there is no copy to drift. OpenAPI's `nullable` becomes a `null` type for the JSON Schema
//! validator; `x-kubernetes-list-type: set` becomes `uniqueItems`, and `map` lists are checked for
//! duplicate keys here. A CEL rule the interpreter cannot evaluate refuses the resource (fail
//! closed), naming the rule; transition rules (`oldSelf`) have no old object offline and are
//! skipped, as the apiserver skips them on create.

use kube::CustomResourceExt as _;
use serde_json::{Map, Value};

use crate::crd::OidcSsoConfig;

/// Every reason the apiserver would refuse `doc` (an `OidcSsoConfig` as JSON), each naming the
/// field (`spec.ingestion.botTokenEnvVar: ...`); empty when it would store it.
pub fn refusals(doc: &Value) -> Vec<String> {
    let Some(openapi) = schema() else {
        return vec!["the CRD has no schema for v1alpha1 (a build error)".to_owned()];
    };
    let mut out = Vec::new();
    let json_schema = to_json_schema(&openapi);
    match jsonschema::validator_for(&json_schema) {
        Ok(validator) => {
            for error in validator.iter_errors(doc) {
                out.push(format!(
                    "{}: {}",
                    field_path(error.instance_path().as_str()),
                    printable(&error.to_string())
                ));
            }
        }
        Err(e) => out.push(format!("the CRD's schema does not compile ({e})")),
    }
    walk(&openapi, doc, "", &mut out);
    out
}

/// The `v1alpha1` `openAPIV3Schema` of the CRD, as JSON.
fn schema() -> Option<Value> {
    let crd = serde_json::to_value(OidcSsoConfig::crd()).ok()?;
    crd.pointer("/spec/versions")?
        .as_array()?
        .iter()
        .find(|v| v.get("name").and_then(Value::as_str) == Some("v1alpha1"))?
        .pointer("/schema/openAPIV3Schema")
        .cloned()
}

/// OpenAPI v3 as JSON Schema: `nullable: true` adds `null` to the type (and to an enum).
fn to_json_schema(node: &Value) -> Value {
    match node {
        Value::Object(map) => {
            let mut out: Map<String, Value> = map
                .iter()
                .map(|(k, v)| (k.clone(), to_json_schema(v)))
                .collect();
            if map.get("nullable") == Some(&Value::Bool(true)) {
                if let Some(Value::String(t)) = map.get("type") {
                    out.insert("type".into(), Value::from(vec![t.clone(), "null".into()]));
                }
                if let Some(Value::Array(values)) = out.get_mut("enum") {
                    values.push(Value::Null);
                }
            }
            if map.get("x-kubernetes-list-type").and_then(Value::as_str) == Some("set") {
                out.insert("uniqueItems".into(), Value::Bool(true));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(to_json_schema).collect()),
        other => other.clone(),
    }
}

/// Applies the CEL rules and the map-list keys of `schema` to `value`, at `path`, and below.
fn walk(schema: &Value, value: &Value, path: &str, out: &mut Vec<String>) {
    if value.is_null() {
        return;
    }
    for rule in schema
        .get("x-kubernetes-validations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        check_rule(rule, value, path, out);
    }
    match value {
        Value::Object(fields) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties").filter(|a| a.is_object());
            for (name, field) in fields {
                if let Some(child) = properties.and_then(|p| p.get(name)).or(additional) {
                    walk(child, field, &join(path, name), out);
                }
            }
        }
        Value::Array(items) => {
            duplicate_keys(schema, items, path, out);
            if let Some(child) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    walk(child, item, &format!("{path}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

fn check_rule(rule: &Value, value: &Value, path: &str, out: &mut Vec<String>) {
    let Some(expression) = rule.get("rule").and_then(Value::as_str) else {
        return;
    };
    if expression.contains("oldSelf") {
        return;
    }
    let at = match rule.get("fieldPath").and_then(Value::as_str) {
        Some(field) => format!("{}{field}", if path.is_empty() { "" } else { path }),
        None => path.to_owned(),
    };
    let at = if at.is_empty() {
        "<root>".to_owned()
    } else {
        at.trim_start_matches('.').to_owned()
    };
    match evaluate(expression, value) {
        Ok(true) => {}
        Ok(false) => {
            let message = rule
                .get("message")
                .and_then(Value::as_str)
                .map_or_else(|| format!("failed rule: {expression}"), str::to_owned);
            out.push(format!("{at}: {}", printable(&message)));
        }
        Err(why) => out.push(format!(
            "{at}: the rule {expression:?} could not be evaluated offline ({why}); the apiserver decides"
        )),
    }
}

fn evaluate(expression: &str, value: &Value) -> Result<bool, String> {
    let program = cel::Program::compile(expression).map_err(|e| e.to_string())?;
    let mut context = cel::Context::default();
    context
        .add_variable("self", value.clone())
        .map_err(|e| e.to_string())?;
    match program.execute(&context).map_err(|e| e.to_string())? {
        cel::Value::Bool(b) => Ok(b),
        other => Err(format!("it gave {other:?}, not a boolean")),
    }
}

/// A `x-kubernetes-list-type: map` list holds each key tuple once.
fn duplicate_keys(schema: &Value, items: &[Value], path: &str, out: &mut Vec<String>) {
    if schema.get("x-kubernetes-list-type").and_then(Value::as_str) != Some("map") {
        return;
    }
    let keys: Vec<&str> = schema
        .get("x-kubernetes-list-map-keys")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut seen = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let tuple: Vec<&Value> = keys
            .iter()
            .map(|k| item.get(*k).unwrap_or(&Value::Null))
            .collect();
        if seen.contains(&tuple) {
            let named: Vec<String> = keys
                .iter()
                .zip(&tuple)
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            out.push(format!(
                "{path}[{i}]: duplicate entry ({})",
                named.join(", ")
            ));
        } else {
            seen.push(tuple);
        }
    }
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// `/spec/targets/0/name` as `spec.targets[0].name`.
fn field_path(pointer: &str) -> String {
    let mut out = String::new();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if segment.chars().all(|c| c.is_ascii_digit()) && !segment.is_empty() {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment);
        }
    }
    if out.is_empty() {
        "<root>".to_owned()
    } else {
        out
    }
}

/// A message on one line: a value with a line break in it is shown escaped.
fn printable(message: &str) -> String {
    message
        .chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
