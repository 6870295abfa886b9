//! The chart's alerts (docs/monitoring.md) on the series a real operator exported: one resource
//! Ready (with a scheduled key rotation), one whose provider does not answer (its checks fail and
//! its rollout is held). The operator's `/metrics` is scraped twice, turned into promtool
//! `input_series` with the labels a ServiceMonitor scrape adds (gauges constant, counters growing
//! as they grew between the two scrapes), and `promtool test rules` checks which alerts fire 30
//! minutes on: exactly the four these two resources call for. The synthetic cases of each alert are
//! in tests/offline/monitoring_chart.rs.

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::support::cluster;
use crate::support::monitoring::{RULES_FILE, alerts, promtool, render, rule_file, write_json};
use crate::support::operator::wait_condition;
use crate::support::scenario::{CREDENTIALS, Scenario, confidential_spec, spec_with_provider};

/// The resource whose provider does not answer.
const BROKEN: &str = "broken";
/// The release name of the render: its metrics Service is the ServiceMonitor's job.
const RELEASE: &str = "oidc-sso-operator";
/// Minutes of the promtool timeline, one sample a minute.
const MINUTES: u32 = 60;

/// One sample of the exposition: the metric name, its label pairs as written, its value.
fn samples(text: &str) -> Vec<(String, String, f64)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').expect("a sample line");
            let (name, labels) = match series.split_once('{') {
                Some((n, rest)) => (n, rest.strip_suffix('}').expect("labels end")),
                None => (series, ""),
            };
            let value = value.parse().unwrap_or_else(|_| panic!("value of {l}"));
            (name.to_string(), labels.to_string(), value)
        })
        .collect()
}

/// The `TYPE` of each metric family of the exposition.
fn families(text: &str) -> Map<String, Value> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' '))
        .map(|(name, kind)| (name.to_string(), json!(kind)))
        .collect()
}

/// promtool `input_series` from two scrapes `seconds` apart, each sample with `extra` labels
/// added: a gauge keeps its last value over the timeline; a counter (or a histogram's samples)
/// starts at its first value and grows each minute by what it grew per minute between the scrapes.
fn input_series(first: &str, second: &str, seconds: f64, extra: &str) -> Vec<Value> {
    let kinds = families(second);
    let before: std::collections::BTreeMap<(String, String), f64> = samples(first)
        .into_iter()
        .map(|(n, l, v)| ((n, l), v))
        .collect();
    samples(second)
        .into_iter()
        .map(|(name, labels, value)| {
            let family = kinds
                .keys()
                .filter(|f| name.starts_with(f.as_str()))
                .max_by_key(|f| f.len())
                .map_or("gauge", |f| kinds[f].as_str().unwrap_or("gauge"));
            let sep = if labels.is_empty() { "" } else { "," };
            let series = format!("{name}{{{labels}{sep}{extra}}}");
            let values = if family == "gauge" {
                format!("{value}x{MINUTES}")
            } else {
                let start = before.get(&(name, labels)).copied().unwrap_or(0.0);
                let per_minute = (value - start).max(0.0) / seconds * 60.0;
                format!("{start}+{per_minute}x{MINUTES}")
            };
            json!({"series": series, "values": values})
        })
        .collect()
}

/// A `promtool test rules` case: exactly the alerts `firing` (each one's labels, its name under
/// `alertname`) fire at `eval_time`, as `ALERTS` reports them.
fn firing_alerts(eval_time: &str, firing: &[Value]) -> Value {
    let samples: Vec<Value> = firing
        .iter()
        .map(|labels| {
            let mut all = labels.as_object().expect("labels").clone();
            all.insert("alertstate".into(), json!("firing"));
            let text: Vec<String> = all.iter().map(|(k, v)| format!("{k}={v}")).collect();
            json!({"labels": format!("ALERTS{{{}}}", text.join(",")), "value": 1})
        })
        .collect();
    json!({
        "expr": r#"ALERTS{alertstate="firing"}"#,
        "eval_time": eval_time,
        "exp_samples": samples,
    })
}

#[tokio::test]
async fn alerts_fire_on_the_series_of_a_failing_and_a_healthy_resource() {
    let mut env = Scenario::start(
        "mon-alerts",
        &[
            "--provider-check-ttl",
            "2s",
            "--provider-check-failure-ttl",
            "2s",
        ],
    )
    .await;

    // Healthy: Ready, rolled out, its generated key replaced every 24 hours.
    env.put_credentials("first-secret").await;
    env.create_server(1).await;
    let mut spec = confidential_spec();
    spec["jwt"] = json!({"rotation": {"every": "24h"}});
    env.create_config(spec)
        .await
        .expect("create the healthy resource");
    env.wait_ready().await;

    // Failing: its provider is a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut broken = spec_with_provider(json!({
        "issuer": format!("http://127.0.0.1:{port}"),
        "allowInsecureHttp": true,
        "clientType": "Confidential",
        "credentialsSecretRef": {"name": CREDENTIALS},
    }));
    broken["targets"] = json!([{"kind": "Deployment", "name": "not-rolled"}]);
    env.create_named(BROKEN, broken)
        .await
        .expect("create the failing resource");
    let configs = env.configs();
    wait_condition(
        &configs,
        BROKEN,
        "ProviderVerified",
        "False",
        Some("Unreachable"),
    )
    .await;
    wait_condition(
        &configs,
        BROKEN,
        "WorkloadsUpdated",
        "False",
        Some("RolloutHeld"),
    )
    .await;
    wait_condition(&configs, BROKEN, "Ready", "False", None).await;

    // Two scrapes: the counters' growth in between becomes their rate on the timeline.
    let op = env.op();
    let started = Instant::now();
    let first = op.metrics().await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    let second = op.metrics().await;
    let seconds = started.elapsed().as_secs_f64();
    for wanted in [
        r#"oidc_sso_resources{condition="Ready",status="True",reason="Reconciled"} 1"#,
        r#"oidc_sso_resources{condition="ProviderVerified",status="False",reason="Unreachable"} 1"#,
        r#"oidc_sso_resources{condition="WorkloadsUpdated",status="False",reason="RolloutHeld"} 1"#,
        "oidc_sso_leader 1",
        "oidc_sso_jwt_key_next_rotation_seconds ",
    ] {
        assert!(second.contains(wanted), "{wanted} missing in\n{second}");
    }
    assert!(
        !second.contains(BROKEN) && !second.contains(&env.ns),
        "{second}"
    );

    // The rules as the chart renders them for a release in this namespace, the series as its
    // ServiceMonitor would store them.
    let helm = cluster::ClusterEnv::load().helm;
    let docs = render(&helm, &env.ns, &["prometheusRule.enabled=true"]).expect("helm template");
    let rules = rule_file(&docs);
    let names: Vec<String> = alerts(&rules).into_iter().map(|(n, _)| n).collect();
    let instance = env.op().url().trim_start_matches("http://").to_string();
    let extra = format!(
        r#"namespace="{}",job="{RELEASE}-metrics",pod="{RELEASE}-0",instance="{instance}""#,
        env.ns
    );
    let series = input_series(&first, &second, seconds, &extra);
    let ns = json!(env.ns);
    let expected = [
        json!({"alertname": "OidcSsoConfigNotReady", "namespace": ns, "severity": "warning"}),
        json!({"alertname": "OidcSsoProviderCheckFailing", "namespace": ns, "severity": "warning",
               "condition": "ProviderVerified", "reason": "Unreachable"}),
        json!({"alertname": "OidcSsoRolloutHeld", "namespace": ns, "severity": "warning"}),
        json!({"alertname": "OidcSsoJwtKeyExpiring", "namespace": ns, "severity": "warning"}),
    ];
    // The others stay quiet: no key is retired, no API call failed, the operator leads.
    let quiet: Vec<&String> = names
        .iter()
        .filter(|n| !expected.iter().any(|e| e["alertname"] == n.as_str()))
        .collect();
    assert_eq!(
        quiet,
        [
            "OidcSsoRetiredKeyExpiring",
            "OidcSsoBotTokenRenewalFailed",
            "OidcSsoReconcileErrors",
            "OidcSsoOperatorLeaderMissing"
        ]
    );
    let test = json!({
        "rule_files": [RULES_FILE],
        "evaluation_interval": "1m",
        "tests": [{
            "name": "the series of a failing and a healthy resource",
            "interval": "1m",
            "input_series": series,
            "promql_expr_test": [
                // Nothing yet: every alert waits its `for:`.
                firing_alerts("1m", &[]),
                firing_alerts("30m", &expected),
            ],
        }],
    });
    let dir = tempfile::tempdir().expect("temp dir");
    write_json(dir.path(), RULES_FILE, &rules);
    write_json(dir.path(), "scraped.test.json", &test);
    let (ok, out) = promtool(dir.path(), &["test", "rules", "scraped.test.json"], None);
    assert!(
        ok,
        "promtool test rules on the scraped series:\n{out}\n{}",
        serde_json::to_string_pretty(&test).unwrap()
    );
}
