//! What a run measured (saved as JSON after every phase), and the report built from it: the
//! side-by-side table printed at the end and docs/benchmarks.md. Nothing here is estimated: a
//! missing measurement is shown as "not measured".

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Results {
    pub mode: String,
    pub command: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub machine: Machine,
    pub versions: BTreeMap<String, String>,
    pub params: Params,
    #[serde(default)]
    pub latency: Vec<Latency>,
    #[serde(default)]
    pub tools: BTreeMap<String, ToolResult>,
    #[serde(default)]
    pub cold: Vec<Cold>,
    pub keygen: Option<Keygen>,
    #[serde(default)]
    pub notes: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory_gib: f64,
    pub kernel: String,
    pub os: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Params {
    pub sizes: Vec<usize>,
    pub updates: usize,
    pub warmup_updates: usize,
    pub noise_updates: usize,
    pub idle_seconds: u64,
    pub restart_settle_seconds: u64,
    pub noise_secrets: usize,
    pub noise_bytes: usize,
    pub cold_resources: usize,
    pub keygen_keys: usize,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Latency {
    pub tool: String,
    pub targets: usize,
    /// "plain" or "with N unrelated Secrets".
    pub variant: String,
    pub samples: usize,
    pub timeouts: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub floor_p50_ms: f64,
    pub floor_p95_ms: f64,
    pub floor_p99_ms: f64,
    /// The round trip of the harness's credential PATCH: one Secret write on this cluster.
    #[serde(default = "nan")]
    pub write_p50_ms: f64,
    #[serde(default = "nan")]
    pub write_p99_ms: f64,
}

fn nan() -> f64 {
    f64::NAN
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ToolResult {
    pub targets: usize,
    /// VmHWM of a process started on the existing targets, after the latency run.
    pub rss_kib: Option<u64>,
    /// Same, with the unrelated Secrets in its namespace.
    pub rss_noise_kib: Option<u64>,
    pub idle_seconds: Option<u64>,
    pub idle_writes: Option<u64>,
    #[serde(default)]
    pub idle_detail: BTreeMap<String, u64>,
    pub restart_rollouts: Option<u64>,
    pub restart_writes: Option<u64>,
    #[serde(default)]
    pub restart_detail: BTreeMap<String, u64>,
}

/// `Cold::keys` of the row measuring the control plane alone (no tool running).
pub const ROLLOUT_FLOOR: &str = "rollout floor";

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Cold {
    /// "bring-your-own" or "generated".
    pub keys: String,
    pub resources: usize,
    pub create_s: f64,
    /// Every target carries the config hash.
    pub patched_s: f64,
    /// Every resource Ready (targets rolled out).
    pub ready_s: f64,
    pub rss_kib: u64,
    pub keygen_parallelism: usize,
    /// CPU seconds used from the first create to the last `Ready`, by process.
    #[serde(default)]
    pub cpu_s: BTreeMap<String, f64>,
    /// The tool's requests in the cold start, by "verb resource[/subresource]", from the audit
    /// log (writes and gets; lists and watches are not logged).
    #[serde(default)]
    pub requests: BTreeMap<String, u64>,
    /// The operator's reconciles in the cold start (key `reconciles`) and the reconcile requests
    /// that asked for them by source (`oidc_sso_reconcile_triggers_total`), from its /metrics.
    #[serde(default)]
    pub reconciles: BTreeMap<String, u64>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Keygen {
    pub keys: usize,
    pub threads: usize,
    pub total_s: f64,
    pub single_core_ms_per_key: f64,
    pub single_core_sample: usize,
}

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("not measured".into(), |k| {
        format!("{:.1} MiB", k as f64 / 1024.0)
    })
}

fn ms(v: f64) -> String {
    if v.is_nan() {
        "–".into()
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or("not measured".into(), |v| v.to_string())
}

/// One verdict per target (issue #17, which restated issue #7's; memory, idle writes and
/// restarts are kept as regression checks).
pub struct Verdict {
    pub target: String,
    pub measured: String,
    pub met: Option<bool>,
}

pub fn verdicts(r: &Results) -> Vec<Verdict> {
    let mut out = Vec::new();
    let find = |tool: &str, n: usize, variant: &str| {
        r.latency
            .iter()
            .find(|l| l.tool == tool && l.targets == n && l.variant == variant)
    };
    for &n in &r.params.sizes {
        let op = find("operator", n, "plain");
        let rl = find("reloader", n, "plain");
        let Some(op) = op else { continue };
        // Issue #17: the settings Secret is written before the template (new pods never start
        // on old settings) and user Secrets are read on demand, not cached: one write more than
        // Reloader's single template update is inherent below 1000 targets.
        let with_write = n < 1000;
        let (measured, met) = match rl {
            Some(rl) if with_write => (
                format!(
                    "operator {} ms vs Reloader {} ms + one Secret write {} ms = {} ms",
                    ms(op.p99_ms),
                    ms(rl.p99_ms),
                    ms(op.write_p99_ms),
                    ms(rl.p99_ms + op.write_p99_ms)
                ),
                Some(op.p99_ms <= rl.p99_ms + op.write_p99_ms && op.timeouts == 0),
            ),
            Some(rl) => (
                format!(
                    "operator {} ms vs Reloader {} ms",
                    ms(op.p99_ms),
                    ms(rl.p99_ms)
                ),
                Some(op.p99_ms <= rl.p99_ms && op.timeouts == 0),
            ),
            None => ("Reloader not measured".into(), None),
        };
        out.push(Verdict {
            target: if with_write {
                format!("p99 latency ≤ Reloader's p99 + one Secret write's p99, {n} targets")
            } else {
                format!("p99 latency ≤ Reloader's p99, {n} targets")
            },
            measured,
            met: met.filter(|_| !op.write_p99_ms.is_nan() || !with_write),
        });
    }
    if let Some(t) = r.tools.get("operator") {
        if let Some(rss) = t.rss_kib {
            out.push(Verdict {
                target: format!("RSS ≤ 40 MiB, {} resources", t.targets),
                measured: mib(Some(rss)),
                met: Some(rss <= 40 * 1024),
            });
            if let Some(noise) = t.rss_noise_kib {
                let change = (noise as f64 - rss as f64) / rss as f64 * 100.0;
                out.push(Verdict {
                    target: format!(
                        "RSS within ±10% with {} unrelated Secrets",
                        r.params.noise_secrets
                    ),
                    measured: format!("{} ({change:+.1}%)", mib(Some(noise))),
                    met: Some(change.abs() <= 10.0),
                });
            }
        }
        if let Some(w) = t.idle_writes {
            out.push(Verdict {
                target: format!("zero API writes in {} idle s", t.idle_seconds.unwrap_or(0)),
                measured: w.to_string(),
                met: Some(w == 0),
            });
        }
        if let Some(n) = t.restart_rollouts {
            out.push(Verdict {
                target: "zero rollouts on restart".into(),
                measured: n.to_string(),
                met: Some(n == 0),
            });
        }
    }
    let rollout_floor = r.cold.iter().find(|c| c.keys == ROLLOUT_FLOOR);
    for c in r.cold.iter().filter(|c| c.keys != ROLLOUT_FLOOR) {
        let (target, bound) = match (c.keys.as_str(), rollout_floor, &r.keygen) {
            ("bring-your-own", Some(f), _) => (
                format!(
                    "{} new resources Ready (own keys) ≤ 1.5× the rollout floor ({:.1} s)",
                    c.resources, f.ready_s
                ),
                Some(1.5 * f.ready_s),
            ),
            ("generated", Some(f), Some(k)) if k.keys == c.resources => (
                format!(
                    "{} new resources Ready (generated keys) ≤ 1.2× (rollout floor {:.1} s + key-generation floor {:.1} s)",
                    c.resources, f.ready_s, k.total_s
                ),
                Some(1.2 * (f.ready_s + k.total_s)),
            ),
            _ => (
                format!(
                    "{} new resources Ready ({} keys): floor not measured in this run",
                    c.resources, c.keys
                ),
                None,
            ),
        };
        out.push(Verdict {
            target,
            measured: match bound {
                Some(b) => format!("{:.1} s (bound {b:.1} s)", c.ready_s),
                None => format!("{:.1} s", c.ready_s),
            },
            met: bound.map(|b| c.ready_s <= b),
        });
        if !c.requests.is_empty() {
            let per =
                |key: &str| c.requests.get(key).copied().unwrap_or(0) as f64 / c.resources as f64;
            let status = per("patch oidcssoconfigs/status");
            out.push(Verdict {
                target: format!(
                    "status patches ≤ 2 per resource, cold start ({} keys)",
                    c.keys
                ),
                measured: format!("{status:.2}"),
                met: Some(status <= 2.0),
            });
        }
    }
    out
}

/// The side-by-side tables (Markdown, also readable in a terminal).
pub fn tables(r: &Results) -> String {
    let mut s = String::new();
    latency_table(&mut s, r);
    tools_table(&mut s, r);
    cold_table(&mut s, r);
    requests_table(&mut s, r);
    verdict_table(&mut s, r);
    s
}

fn latency_table(s: &mut String, r: &Results) {
    let _ = writeln!(
        s,
        "### Latency: credential Secret update → target's pod template changed (ms)\n"
    );
    let _ = writeln!(
        s,
        "| targets | variant | updates | operator p50 / p95 / p99 | Reloader p50 / p95 / p99 | one Secret write p50 / p99 (operator run) | floor p50 / p95 / p99 (operator run) | floor p50 / p95 / p99 (Reloader run) |"
    );
    let _ = writeln!(s, "|---:|---|---:|---|---|---|---|---|");
    let mut keys: Vec<(usize, String)> = r
        .latency
        .iter()
        .map(|l| (l.targets, l.variant.clone()))
        .collect();
    keys.sort();
    keys.dedup();
    for (n, variant) in keys {
        let get = |tool: &str| {
            r.latency
                .iter()
                .find(|l| l.tool == tool && l.targets == n && l.variant == variant)
        };
        let cell = |l: Option<&Latency>| {
            l.map_or("not measured".to_string(), |l| {
                let mut c = format!("{} / {} / {}", ms(l.p50_ms), ms(l.p95_ms), ms(l.p99_ms));
                if l.timeouts > 0 {
                    let _ = write!(c, " ({} timed out)", l.timeouts);
                }
                c
            })
        };
        let floor = |l: Option<&Latency>| {
            l.map_or("–".to_string(), |l| {
                format!(
                    "{} / {} / {}",
                    ms(l.floor_p50_ms),
                    ms(l.floor_p95_ms),
                    ms(l.floor_p99_ms)
                )
            })
        };
        let (op, rl) = (get("operator"), get("reloader"));
        let updates = op.or(rl).map_or(0, |l| l.samples + l.timeouts);
        let write = op
            .filter(|l| !l.write_p99_ms.is_nan())
            .map_or("–".to_string(), |l| {
                format!("{} / {}", ms(l.write_p50_ms), ms(l.write_p99_ms))
            });
        let _ = writeln!(
            s,
            "| {n} | {variant} | {updates} | {} | {} | {write} | {} | {} |",
            cell(op),
            cell(rl),
            floor(op),
            floor(rl)
        );
    }
}

fn tools_table(s: &mut String, r: &Results) {
    let _ = writeln!(s, "\n### Memory, idle writes, restarts\n");
    let _ = writeln!(s, "| measure | operator | Reloader |");
    let _ = writeln!(s, "|---|---|---|");
    let tool = |name: &str| r.tools.get(name).cloned().unwrap_or_default();
    let (op, rl) = (tool("operator"), tool("reloader"));
    let n = op.targets.max(rl.targets);
    let _ = writeln!(
        s,
        "| peak RSS (VmHWM), {n} targets | {} | {} |",
        mib(op.rss_kib),
        mib(rl.rss_kib)
    );
    let change = |t: &ToolResult| match (t.rss_kib, t.rss_noise_kib) {
        (Some(a), Some(b)) => format!(
            "{} ({:+.1}%)",
            mib(Some(b)),
            (b as f64 - a as f64) / a as f64 * 100.0
        ),
        _ => mib(t.rss_noise_kib),
    };
    let _ = writeln!(
        s,
        "| peak RSS, {n} targets + {} unrelated {} KiB Secrets | {} | {} |",
        r.params.noise_secrets,
        r.params.noise_bytes / 1024,
        change(&op),
        change(&rl)
    );
    let detail = |d: &BTreeMap<String, u64>| {
        if d.is_empty() {
            String::new()
        } else {
            format!(
                " ({})",
                d.iter()
                    .map(|(k, v)| format!("{v}× {k}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    };
    let _ = writeln!(
        s,
        "| API writes in {} idle s | {}{} | {}{} |",
        op.idle_seconds.or(rl.idle_seconds).unwrap_or(0),
        opt(op.idle_writes),
        detail(&op.idle_detail),
        opt(rl.idle_writes),
        detail(&rl.idle_detail)
    );
    let _ = writeln!(
        s,
        "| rollouts caused by a restart (nothing changed) | {} | {} |",
        opt(op.restart_rollouts),
        opt(rl.restart_rollouts)
    );
    let _ = writeln!(
        s,
        "| API writes in the {} s after that restart | {}{} | {}{} |",
        r.params.restart_settle_seconds,
        opt(op.restart_writes),
        detail(&op.restart_detail),
        opt(rl.restart_writes),
        detail(&rl.restart_detail)
    );
}

fn cold_table(s: &mut String, r: &Results) {
    if !r.cold.is_empty() || r.keygen.is_some() {
        let mut cold_cpu = Vec::new();
        let _ = writeln!(s, "\n### Cold start (operator only)\n");
        let _ = writeln!(
            s,
            "| case | resources | all created | all targets patched | all `Ready` | peak RSS |"
        );
        let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|");
        for c in r.cold.iter().filter(|c| c.keys == ROLLOUT_FLOOR) {
            let _ = writeln!(
                s,
                "| rollout floor: no tool, the harness changes the {} templates itself | {} | – | {:.1} s | {:.1} s (rolled out) | – |",
                c.resources, c.resources, c.patched_s, c.ready_s
            );
        }
        for c in r.cold.iter().filter(|c| c.keys != ROLLOUT_FLOOR) {
            let _ = writeln!(
                s,
                "| {} keys (keygen parallelism {}) | {} | {:.1} s | {:.1} s | {:.1} s | {} |",
                c.keys,
                c.keygen_parallelism,
                c.resources,
                c.create_s,
                c.patched_s,
                c.ready_s,
                mib(Some(c.rss_kib))
            );
        }
        for c in &r.cold {
            if !c.cpu_s.is_empty() {
                let total: f64 = c.cpu_s.values().sum();
                let parts = c
                    .cpu_s
                    .iter()
                    .map(|(k, v)| format!("{k} {v:.1}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let what = if c.keys == ROLLOUT_FLOOR {
                    "the rollout floor".to_string()
                } else {
                    format!("the {} keys cold start", c.keys)
                };
                cold_cpu.push(format!(
                    "CPU seconds used during {what}: {total:.1} in all ({parts})."
                ));
            }
        }
        if let Some(k) = &r.keygen {
            let _ = writeln!(
                s,
                "| key-generation floor: {} RSA-2048 pairs, `KeyMaterial::generate` (aws-lc-rs) on {} threads, nothing else | {} | – | – | {:.1} s | – |",
                k.keys, k.threads, k.keys, k.total_s
            );
            let _ = writeln!(
                s,
                "\nOne core, same function: {:.1} ms per key (mean of {}).",
                k.single_core_ms_per_key, k.single_core_sample
            );
        }
        for line in cold_cpu {
            let _ = writeln!(s, "\n{line}");
        }
    }
}

/// Requests per resource in each cold start, by verb and resource, from the audit log.
fn requests_table(s: &mut String, r: &Results) {
    let cases: Vec<&Cold> = r.cold.iter().filter(|c| !c.requests.is_empty()).collect();
    if cases.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "\n### The operator's API requests per resource in the cold start (audit log)\n"
    );
    per_resource_rows(
        s,
        "verb resource",
        &cases,
        |c| format!("{} keys ({} resources)", c.keys, c.resources),
        |c| &c.requests,
        None,
        str::to_string,
    );
    let totals: String = cases
        .iter()
        .map(|c| {
            let all: u64 = c.requests.values().sum();
            format!(" **{:.2}** |", all as f64 / c.resources.max(1) as f64)
        })
        .collect();
    let _ = writeln!(s, "| all |{totals}");
    let _ = writeln!(
        s,
        "\nLists and watches are not counted (the audit policy logs reads by `get` only); leases excluded."
    );
    reconciles_table(s, &cases);
}

/// Reconciles per resource in each cold start and what asked for them (the operator's metrics;
/// requests for a resource already queued are merged, so triggers add up to at least reconciles).
fn reconciles_table(s: &mut String, cases: &[&Cold]) {
    let cases: Vec<&Cold> = cases
        .iter()
        .copied()
        .filter(|c| !c.reconciles.is_empty())
        .collect();
    if cases.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "\n### Reconciles per resource in the cold start, and what asked for them (/metrics)\n"
    );
    per_resource_rows(
        s,
        "count",
        &cases,
        |c| format!("{} keys", c.keys),
        |c| &c.reconciles,
        Some("reconciles"),
        |key| match key {
            "reconciles" => key.to_string(),
            _ => format!("trigger: {key}"),
        },
    );
}

/// A table with a column per cold start (`column` names it) and a row per key of `counts` (`first`
/// on top, the others sorted; `label` names them), each count divided by the case's resources.
fn per_resource_rows<'a>(
    s: &mut String,
    first_column: &str,
    cases: &[&'a Cold],
    column: impl Fn(&Cold) -> String,
    counts: impl Fn(&'a Cold) -> &'a BTreeMap<String, u64>,
    first: Option<&str>,
    label: impl Fn(&str) -> String,
) {
    let mut header = format!("| {first_column} |");
    let mut rule = "|---|".to_string();
    for c in cases {
        let _ = write!(header, " {} |", column(c));
        rule.push_str("---:|");
    }
    let _ = writeln!(s, "{header}\n{rule}");
    let mut rows: Vec<&String> = cases.iter().flat_map(|c| counts(c).keys()).collect();
    rows.sort_by_key(|k| (Some(k.as_str()) != first, k.as_str()));
    rows.dedup();
    for key in rows {
        let cells: String = cases
            .iter()
            .map(|c| {
                let n = counts(c).get(key).copied().unwrap_or(0);
                format!(" {:.2} |", n as f64 / c.resources.max(1) as f64)
            })
            .collect();
        let _ = writeln!(s, "| {} |{cells}", label(key));
    }
}

fn verdict_table(s: &mut String, r: &Results) {
    let v = verdicts(r);
    if !v.is_empty() {
        let _ = writeln!(s, "\n### Targets (issue #17)\n");
        let _ = writeln!(s, "| target | measured | verdict |");
        let _ = writeln!(s, "|---|---|---|");
        for v in v {
            let verdict = match v.met {
                Some(true) => "met",
                Some(false) => "**MISSED**",
                None => "not evaluated",
            };
            let _ = writeln!(s, "| {} | {} | {verdict} |", v.target, v.measured);
        }
    }
}
