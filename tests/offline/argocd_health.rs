//! The Argo CD health check (`charts/oidc-sso-operator/gitops/argocd-health.lua`) run by a real
//! Lua 5.1 interpreter (Argo CD embeds gopher-lua, a Lua 5.1) against sample OidcSsoConfigs shaped
//! like what the operator writes. `e2e_gitops` also runs it against a live resource.

use crate::argocd::{HealthStatus, SCRIPT, health};
use serde_json::{Value, json};

fn config(generation: i64, status: Value) -> Value {
    json!({
        "apiVersion": "oidcsso.io/v1alpha1",
        "kind": "OidcSsoConfig",
        "metadata": {"name": "openmetadata", "namespace": "om", "generation": generation},
        "spec": {"targets": [{"kind": "Deployment", "name": "openmetadata"}]},
        "status": status,
    })
}

fn condition(type_: &str, status: &str, reason: &str, message: &str, generation: i64) -> Value {
    json!({
        "type": type_, "status": status, "reason": reason, "message": message,
        "observedGeneration": generation,
        "lastTransitionTime": "2026-01-01T00:00:00Z",
    })
}

/// Ready/Reconciling/Stalled the way the operator writes them (with_kstatus / success_status).
fn kstatus(generation: i64, ready: bool, reconciling: bool, stalled: bool, reason: &str) -> Value {
    let flag = |b: bool| if b { "True" } else { "False" };
    json!({
        "observedGeneration": generation,
        "conditions": [
            condition("Ready", flag(ready), reason, &format!("{reason} message"), generation),
            condition("Reconciling", flag(reconciling), reason, "", generation),
            condition("Stalled", flag(stalled), reason, if stalled { "spec.provider.issuer: must be https" } else { "" }, generation),
            condition("SecretsRendered", "True", "Rendered", "", generation),
        ],
    })
}

#[test]
fn a_resource_the_operator_has_not_seen_is_progressing() {
    let mut obj = config(1, Value::Null);
    obj.as_object_mut().unwrap().remove("status");
    let h = health(&obj);
    assert_eq!(h.status, HealthStatus::Progressing);
    assert!(h.message.contains("Waiting for the operator"), "{h:?}");
    assert_eq!(
        health(&config(1, json!({}))).status,
        HealthStatus::Progressing
    );
}

#[test]
fn ready_for_the_current_generation_is_healthy() {
    let h = health(&config(3, kstatus(3, true, false, false, "RolledOut")));
    assert_eq!(h.status, HealthStatus::Healthy);
    assert_eq!(h.message, "RolledOut: RolledOut message");
}

#[test]
fn a_status_for_an_older_generation_is_progressing_even_when_it_said_ready() {
    let h = health(&config(4, kstatus(3, true, false, false, "RolledOut")));
    assert_eq!(h.status, HealthStatus::Progressing);
    assert!(h.message.contains("generation 4"), "{h:?}");

    // Top-level observedGeneration current, but the Ready condition itself is stale.
    let mut status = kstatus(4, true, false, false, "RolledOut");
    status["conditions"][0]["observedGeneration"] = json!(3);
    let h = health(&config(4, status));
    assert_eq!(h.status, HealthStatus::Progressing);
}

#[test]
fn stalled_is_degraded_with_the_operators_message() {
    let h = health(&config(2, kstatus(2, false, false, true, "InsecureUrl")));
    assert_eq!(h.status, HealthStatus::Degraded);
    assert_eq!(
        h.message,
        "InsecureUrl: spec.provider.issuer: must be https"
    );
}

#[test]
fn rolling_out_or_waiting_on_the_provider_is_progressing() {
    let h = health(&config(2, kstatus(2, false, true, false, "RollingOut")));
    assert_eq!(h.status, HealthStatus::Progressing);
    assert_eq!(h.message, "RollingOut");

    // A provider outage: Ready=False, neither Reconciling nor Stalled; the operator retries.
    let h = health(&config(
        2,
        kstatus(2, false, false, false, "ProviderUnreachable"),
    ));
    assert_eq!(h.status, HealthStatus::Progressing);
    assert_eq!(
        h.message,
        "ProviderUnreachable: ProviderUnreachable message"
    );
}

#[test]
fn a_suspended_resource_is_suspended() {
    let h = health(&config(5, kstatus(5, false, false, false, "Suspended")));
    assert_eq!(h.status, HealthStatus::Suspended);
}

#[test]
fn conditions_without_reason_message_or_generations_do_not_break_the_script() {
    let obj = json!({
        "metadata": {"name": "x"},
        "status": {"conditions": [{"type": "Ready", "status": "True"}, {"type": "Other"}]},
    });
    assert_eq!(health(&obj).status, HealthStatus::Healthy);
    let obj = json!({"metadata": {}, "status": {"conditions": []}});
    assert_eq!(health(&obj).status, HealthStatus::Progressing);
}

#[test]
fn the_argocd_cm_snippet_embeds_the_script_verbatim() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("charts/oidc-sso-operator/gitops/argocd-cm.yaml");
    let text = std::fs::read_to_string(&path).expect("argocd-cm.yaml");
    let cm: Value = serde_saphyr::from_str(&text).expect("argocd-cm.yaml is YAML");
    let embedded = cm["data"]["resource.customizations.health.oidcsso.io_OidcSsoConfig"]
        .as_str()
        .expect("the health key for group oidcsso.io, kind OidcSsoConfig");
    assert_eq!(
        embedded, SCRIPT,
        "argocd-cm.yaml drifted from argocd-health.lua"
    );
}
