//! The chart's alerts and dashboard as files the real promtool reads, and promtool itself: shared
//! by the offline tests (synthetic series) and the e2e test (the series the operator really
//! exported). promtool is built by `scripts/cluster/build.sh promtool` (from the Go module proxy,
//! cached); `$PROMTOOL` overrides it.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::cluster;

/// The name of the rule file the tests write (JSON, which promtool reads as YAML).
pub const RULES_FILE: &str = "rules.json";

/// `<helm> template oidc-sso-operator <chart> -n <namespace> --set <sets>...`, every document
/// parsed; `Err` with helm's message when it refuses (a values schema error).
pub fn render(helm: &Path, namespace: &str, sets: &[&str]) -> Result<Vec<Value>, String> {
    let chart = cluster::repo_root().join("charts/oidc-sso-operator");
    let out = Command::new(helm)
        .args(["template", "oidc-sso-operator"])
        .arg(&chart)
        .args(["--namespace", namespace])
        .args(sets.iter().flat_map(|s| ["--set", s]))
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run helm at {} ({e}): build it with `scripts/cluster/build.sh helm`",
                helm.display()
            )
        });
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let docs: Vec<Value> = serde_saphyr::from_str_multiple(&text).expect("rendered YAML");
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

/// The one document of `kind` among `docs`.
pub fn only<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    let found: Vec<&Value> = docs.iter().filter(|d| d["kind"] == kind).collect();
    assert_eq!(found.len(), 1, "one {kind} expected");
    found[0]
}

/// The rendered PrometheusRule as a Prometheus rule file (its `spec`: the groups).
pub fn rule_file(docs: &[Value]) -> Value {
    only(docs, "PrometheusRule")["spec"].clone()
}

/// The alerting rules of a rule file: (name, expression).
pub fn alerts(rules: &Value) -> Vec<(String, String)> {
    rules["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_array().into_iter().flatten())
        .filter_map(|r| Some((r["alert"].as_str()?.into(), r["expr"].as_str()?.into())))
        .collect()
}

/// Writes `value` as JSON to `dir/name`.
pub fn write_json(dir: &Path, name: &str, value: &Value) {
    std::fs::write(
        dir.join(name),
        serde_json::to_vec_pretty(value).expect("JSON"),
    )
    .expect("write");
}

/// `promtool args...` in `dir`, with `stdin` on its standard input: (success, stdout + stderr).
pub fn promtool(dir: &Path, args: &[&str], stdin: Option<&str>) -> (bool, String) {
    use std::io::Write as _;
    let bin = cluster::promtool();
    let mut child = Command::new(&bin)
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run promtool at {} ({e}): build it with `scripts/cluster/build.sh \
                 promtool` (or set PROMTOOL)",
                bin.display()
            )
        });
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.unwrap_or_default().as_bytes())
        .expect("write stdin");
    drop(input);
    let out = child.wait_with_output().expect("promtool");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}
