//! The chart's alerts and Grafana dashboard (docs/monitoring.md) with the real helm and the real
//! promtool (`scripts/cluster/build.sh promtool`, from the Go module proxy, cached): the rendered
//! PrometheusRule passes `promtool check rules`; each alert fires on its failure and stays quiet on
//! a healthy operator (`promtool test rules` with tests/fixtures/monitoring/alerts.test.yaml);
//! every query of the dashboard parses as PromQL; the rules and the dashboard read only metrics
//! the operator exports; the values schema refuses typos. The e2e suite runs the same rules on the
//! series a real operator exported (tests/e2e/monitoring.rs).

use std::collections::BTreeSet;

use oidc_sso_operator::crd::OidcSsoConfig;
use oidc_sso_operator::metrics::{Metrics, Trigger};
use serde_json::{Value, json};

use crate::cluster;
use crate::monitoring::{RULES_FILE, alerts, only, promtool, render, rule_file, write_json};

/// The release namespace of the renders (the alert tests' series carry it).
const NAMESPACE: &str = "monitoring";
/// Every alert the chart ships.
const ALERTS: [&str; 8] = [
    "OidcSsoConfigNotReady",
    "OidcSsoProviderCheckFailing",
    "OidcSsoRolloutHeld",
    "OidcSsoJwtKeyExpiring",
    "OidcSsoRetiredKeyExpiring",
    "OidcSsoBotTokenRenewalFailed",
    "OidcSsoReconcileErrors",
    "OidcSsoOperatorLeaderMissing",
];

fn monitoring_render(sets: &[&str]) -> Vec<Value> {
    let mut all = vec![
        "prometheusRule.enabled=true",
        "grafanaDashboard.enabled=true",
    ];
    all.extend_from_slice(sets);
    render(&cluster::helm(), NAMESPACE, &all)
        .unwrap_or_else(|e| panic!("helm template {all:?}: {e}"))
}

/// `promtool check rules` on `rules`, written to a fresh folder; its output.
fn check_rules(rules: &Value) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    write_json(dir.path(), RULES_FILE, rules);
    let (ok, out) = promtool(dir.path(), &["check", "rules", RULES_FILE], None);
    assert!(ok, "promtool check rules:\n{out}\n{rules:#}");
    out
}

/// `promtool test rules` of the committed alert tests against `rules`: (success, output).
fn test_rules(rules: &Value) -> (bool, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    write_json(dir.path(), RULES_FILE, rules);
    std::fs::copy(
        cluster::repo_root().join("tests/fixtures/monitoring/alerts.test.yaml"),
        dir.path().join("alerts.test.yaml"),
    )
    .expect("copy the alert tests");
    promtool(dir.path(), &["test", "rules", "alerts.test.yaml"], None)
}

#[test]
fn the_rules_pass_promtool_check_with_and_without_a_series_selector() {
    assert!(
        !monitoring_render(&["prometheusRule.enabled=false"])
            .iter()
            .any(|d| d["kind"] == "PrometheusRule"),
        "off unless asked"
    );
    for sets in [
        &["prometheusRule.alertLabels.team=sso"][..],
        // No selector: every series of the metrics, the matchers end in a bare comma.
        &["prometheusRule.selector="][..],
    ] {
        let docs = monitoring_render(sets);
        let rule = only(&docs, "PrometheusRule");
        assert_eq!(rule["metadata"]["namespace"], NAMESPACE);
        let rules = rule_file(&docs);
        let out = check_rules(&rules);
        assert!(out.contains("SUCCESS: 8 rules found"), "{out}");
        let names: Vec<String> = alerts(&rules).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ALERTS, "{sets:?}");
    }
    // Labels for the Prometheus that selects rules, and for Alertmanager's routes.
    let docs = monitoring_render(&[
        "prometheusRule.additionalLabels.release=kube-prometheus-stack",
        "prometheusRule.alertLabels.team=sso",
    ]);
    let rule = only(&docs, "PrometheusRule");
    assert_eq!(
        rule["metadata"]["labels"]["release"],
        "kube-prometheus-stack"
    );
    for r in rule["spec"]["groups"][0]["rules"].as_array().unwrap() {
        assert_eq!(r["labels"]["team"], "sso", "{r}");
    }
    // One alert turned off, a threshold changed.
    let docs = monitoring_render(&[
        "prometheusRule.alerts.jwtKeyExpiring.enabled=false",
        "prometheusRule.alerts.reconcileErrors.threshold=3",
    ]);
    let rules = alerts(&rule_file(&docs));
    assert!(!rules.iter().any(|(n, _)| n == "OidcSsoJwtKeyExpiring"));
    let (_, errors) = rules
        .iter()
        .find(|(n, _)| n == "OidcSsoReconcileErrors")
        .unwrap();
    assert!(errors.ends_with("> 3"), "{errors}");
}

#[test]
fn each_alert_fires_on_its_failure_and_not_on_a_healthy_operator() {
    let rules = rule_file(&monitoring_render(&["prometheusRule.runbookUrl="]));
    let (ok, out) = test_rules(&rules);
    assert!(ok && out.contains("SUCCESS"), "promtool test rules:\n{out}");
    // The tests bite: a longer `for:` or a narrower window fails them.
    for changed in [
        "prometheusRule.alerts.notReady.for=20m",
        "prometheusRule.alerts.jwtKeyExpiring.within=24h",
    ] {
        let rules = rule_file(&monitoring_render(&["prometheusRule.runbookUrl=", changed]));
        let (ok, out) = test_rules(&rules);
        assert!(!ok && out.contains("FAILED"), "{changed}:\n{out}");
    }
}

#[test]
fn each_alert_links_its_section_of_docs_monitoring_md() {
    let doc = std::fs::read_to_string(cluster::repo_root().join("docs/monitoring.md")).unwrap();
    // GitHub's anchor of a `### Name` heading is the name in lower case.
    let anchors: BTreeSet<String> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("### "))
        .map(|h| h.trim().to_lowercase())
        .collect();
    let docs = monitoring_render(&[]);
    for r in rule_file(&docs)["groups"][0]["rules"].as_array().unwrap() {
        let name = r["alert"].as_str().unwrap();
        let url = r["annotations"]["runbook_url"].as_str().unwrap();
        let anchor = url.rsplit_once('#').unwrap().1;
        assert_eq!(anchor, name.to_lowercase());
        assert!(
            anchors.contains(anchor),
            "docs/monitoring.md has no section ### {name}"
        );
    }
}

/// The dashboard's queries, with Grafana's variables given values PromQL can parse.
fn dashboard_queries(dashboard: &Value) -> Vec<String> {
    fn collect(panels: &Value, out: &mut Vec<String>) {
        for p in panels.as_array().into_iter().flatten() {
            for t in p["targets"].as_array().into_iter().flatten() {
                if let Some(e) = t["expr"].as_str() {
                    out.push(e.to_string());
                }
            }
            collect(&p["panels"], out);
        }
    }
    let mut exprs = Vec::new();
    collect(&dashboard["panels"], &mut exprs);
    exprs
        .into_iter()
        .map(|e| {
            e.replace("$__rate_interval", "5m")
                .replace("$__interval", "1m")
                .replace("$__range", "1h")
                .replace("$namespace", ".*")
        })
        .collect()
}

#[test]
fn the_dashboard_ships_in_a_configmap_and_every_query_parses_as_promql() {
    let file =
        cluster::repo_root().join("charts/oidc-sso-operator/dashboards/oidc-sso-operator.json");
    let text = std::fs::read_to_string(&file).unwrap();
    let dashboard: Value = serde_json::from_str(&text).expect("dashboard JSON");

    // In a ConfigMap the Grafana sidecar picks up by its label, byte for byte the file.
    assert!(
        !render(&cluster::helm(), NAMESPACE, &[])
            .unwrap()
            .iter()
            .any(|d| d["kind"] == "ConfigMap"),
        "off unless asked"
    );
    let docs = monitoring_render(&[]);
    let cm = only(&docs, "ConfigMap");
    assert_eq!(cm["metadata"]["labels"]["grafana_dashboard"], "1");
    assert_eq!(cm["metadata"]["namespace"], NAMESPACE);
    assert_eq!(
        cm["data"]["oidc-sso-operator.json"].as_str(),
        Some(text.trim_end())
    );
    let docs = monitoring_render(&[
        "grafanaDashboard.label=dashboards",
        "grafanaDashboard.labelValue=oidc",
        "grafanaDashboard.namespace=grafana",
        "grafanaDashboard.annotations.grafana_folder=Operators",
    ]);
    let cm = only(&docs, "ConfigMap");
    assert_eq!(cm["metadata"]["labels"]["dashboards"], "oidc");
    assert_eq!(cm["metadata"]["namespace"], "grafana");
    assert_eq!(cm["metadata"]["annotations"]["grafana_folder"], "Operators");

    // Every panel reads the data source the user picks.
    let ds = json!({"type": "prometheus", "uid": "${datasource}"});
    let mut panels = 0;
    for p in dashboard["panels"].as_array().unwrap() {
        if p["type"] == "row" {
            continue;
        }
        panels += 1;
        assert_eq!(p["datasource"], ds, "{}", p["title"]);
        for t in p["targets"].as_array().unwrap() {
            assert_eq!(t["datasource"], ds, "{}", p["title"]);
        }
    }
    assert!(panels >= 10, "{panels} panels");

    // Each query as a recording rule: promtool parses and checks every one.
    let exprs = dashboard_queries(&dashboard);
    assert!(exprs.len() >= panels, "{} queries", exprs.len());
    let rules: Vec<Value> = exprs
        .iter()
        .enumerate()
        .map(|(i, e)| json!({"record": format!("dashboard:query_{i}"), "expr": e}))
        .collect();
    let out = check_rules(&json!({"groups": [{"name": "dashboard", "rules": rules}]}));
    assert!(
        out.contains(&format!("SUCCESS: {} rules found", exprs.len())),
        "{out}"
    );
    // A query that is not PromQL is refused: the check is real.
    let dir = tempfile::tempdir().unwrap();
    write_json(
        dir.path(),
        RULES_FILE,
        &json!({"groups": [{"name": "dashboard", "rules": [
            {"record": "dashboard:broken", "expr": "sum(rate(oidc_sso_reconciles_total[$__rate_interval]))"}
        ]}]}),
    );
    let (ok, out) = promtool(dir.path(), &["check", "rules", RULES_FILE], None);
    assert!(!ok, "{out}");
}

/// What the operator exports, with every metric touched once and every scrape-time source set.
fn exposition() -> String {
    let m = Metrics::default();
    m.reconciles.inc();
    m.triggered(Trigger::Resource, 1);
    m.failure("apply");
    m.duration.observe(0.1);
    m.rollouts.inc();
    m.provider_check("provider", "Verified");
    m.leader.set(1);
    m.key_ages_from(|| vec![0]);
    let resource: OidcSsoConfig = serde_json::from_value(json!({
        "apiVersion": "oidcsso.io/v1alpha1", "kind": "OidcSsoConfig",
        "metadata": {"name": "r", "namespace": "apps"},
        "spec": {
            "provider": {"issuer": "https://idp.example.com", "clientType": "Public", "clientId": "om"},
            "authorizer": {"adminPrincipals": ["alice"], "principalDomain": "example.com"},
            "server": {"externalUrl": "https://om.example.com"},
            "targets": [{"kind": "Deployment", "name": "om"}],
        },
        "status": {"keys": {
            "nextRotationAt": "2030-01-01T00:00:00Z",
            "retired": [{"keyId": "old", "expiresAt": "2030-01-01T00:00:00Z"}],
        }},
    }))
    .unwrap();
    let (store, mut writer) = kube::runtime::reflector::store::<OidcSsoConfig>();
    writer.apply_watcher_event(&kube::runtime::watcher::Event::Apply(resource));
    m.resources_from(store);
    m.encode()
}

/// The `oidc_sso_*` names a query reads.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = expr;
    while let Some(i) = rest.find("oidc_sso_") {
        let name: String = rest[i..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        rest = &rest[i + name.len()..];
        names.insert(name);
    }
    names
}

#[test]
fn the_rules_and_the_dashboard_read_only_metrics_the_operator_exports() {
    let text = exposition();
    let exported: BTreeSet<String> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.split(['{', ' ']).next().unwrap().to_string())
        .collect();
    let docs = monitoring_render(&[]);
    let dashboard: Value = serde_json::from_str(
        only(&docs, "ConfigMap")["data"]["oidc-sso-operator.json"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let mut read = BTreeSet::new();
    for (_, expr) in alerts(&rule_file(&docs)) {
        read.extend(metric_names(&expr));
    }
    for expr in dashboard_queries(&dashboard) {
        read.extend(metric_names(&expr));
    }
    let unknown: Vec<&String> = read.difference(&exported).collect();
    assert!(
        unknown.is_empty(),
        "not exported by the operator: {unknown:?}; exported: {exported:?}"
    );
    // And the dashboard shows every metric there is.
    let shown: BTreeSet<String> = dashboard_queries(&dashboard)
        .iter()
        .flat_map(|e| metric_names(e))
        .map(|n| {
            n.trim_end_matches("_bucket")
                .trim_end_matches("_total")
                .to_string()
        })
        .collect();
    let families: BTreeSet<String> = exported
        .iter()
        .map(|n| {
            n.trim_end_matches("_bucket")
                .trim_end_matches("_count")
                .trim_end_matches("_sum")
                .trim_end_matches("_total")
                .to_string()
        })
        .collect();
    let missing: Vec<&String> = families.difference(&shown).collect();
    assert!(missing.is_empty(), "not on the dashboard: {missing:?}");
    // The exposition passes promtool's own lint. It reads the classic text format, where a
    // counter's HELP names the sample (`x_total`); ours is OpenMetrics (what /metrics serves), whose
    // HELP names the family (`x`): that one finding is the format's, every other one fails.
    let (_, out) = promtool(
        std::path::Path::new("."),
        &["check", "metrics"],
        Some(&text),
    );
    let findings: Vec<&str> = out
        .lines()
        .filter(|l| {
            let family = l
                .strip_suffix("_total no help text")
                .filter(|f| text.contains(&format!("# TYPE {f} counter\n")));
            !l.trim().is_empty() && family.is_none()
        })
        .collect();
    assert!(findings.is_empty(), "promtool check metrics:\n{out}");
}

/// The quoted CamelCase words after `reason` and a comparison in `text` (PromQL `reason="X"`,
/// Lua `reason == "X"`).
fn reasons_named(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in text.match_indices("reason") {
        let rest = text[at + "reason".len()..].trim_start();
        let Some(rest) = ["==", "=~", "!=", "~=", "="]
            .iter()
            .find_map(|op| rest.strip_prefix(op))
        else {
            continue;
        };
        let Some(quoted) = rest.trim_start().strip_prefix('"') else {
            continue;
        };
        let word: String = quoted
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        if word.starts_with(|c: char| c.is_ascii_uppercase())
            && quoted[word.len()..].starts_with('"')
        {
            found.insert(word);
        }
    }
    found
}

#[test]
fn the_alerts_and_the_argocd_health_check_name_only_reasons_the_operator_writes() {
    use oidc_sso_operator::reasons::Reason;

    let docs = monitoring_render(&[]);
    let mut named = BTreeSet::new();
    for (_, expr) in alerts(&rule_file(&docs)) {
        named.extend(reasons_named(&expr));
    }
    let lua = std::fs::read_to_string(
        cluster::repo_root().join("charts/oidc-sso-operator/gitops/argocd-health.lua"),
    )
    .unwrap();
    named.extend(reasons_named(&lua));
    assert!(
        named.contains("RolloutHeld") && named.contains("Suspended"),
        "the scan finds the reasons it should: {named:?}"
    );
    let vocabulary: BTreeSet<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
    let unknown: Vec<&String> = named
        .iter()
        .filter(|r| !vocabulary.contains(r.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "no such reason (src/reasons.rs): {unknown:?}"
    );
}

#[test]
fn the_values_schema_refuses_typos_in_the_monitoring_values() {
    for (bad, why) in [
        ("prometheusRule.enable=true", "enable"),
        ("prometheusRule.alerts.notready.for=5m", "notready"),
        ("prometheusRule.alerts.notReady.for=soon", "for"),
        (
            "prometheusRule.alerts.jwtKeyExpiring.within=3 days",
            "within",
        ),
        (
            "prometheusRule.alerts.reconcileErrors.threshold=-1",
            "threshold",
        ),
        ("grafanaDashboard.lable=x", "lable"),
    ] {
        let err = render(&cluster::helm(), NAMESPACE, &[bad]).expect_err(bad);
        assert!(
            err.contains("values don't meet the specifications of the schema") && err.contains(why),
            "{bad}: {err}"
        );
    }
}
