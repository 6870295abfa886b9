//! Counting a tool's API requests from the apiserver's audit log (the local cluster logs writes
//! and `get`s at Metadata level, with their user agent; not lists, watches or Leases).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

use jiff::Timestamp;

/// API writes.
pub const WRITES: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];
/// API writes and single-object reads (the cluster's audit policy leaves out only `list` and
/// `watch`, and Leases).
pub const WRITES_AND_GETS: &[&str] = &[
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "get",
];

/// The writes in `ns` by a user agent starting with `ua_prefix`, received in `[from, to]`.
pub fn writes(
    audit_log: &Path,
    ns: &str,
    ua_prefix: &str,
    from: Timestamp,
    to: Timestamp,
) -> anyhow::Result<(u64, BTreeMap<String, u64>)> {
    count(audit_log, ns, ua_prefix, from, to, WRITES)
}

/// Requests with one of `verbs` in `ns` by a user agent starting with `ua_prefix`, received in
/// `[from, to]`: the total and a count per "verb resource[/subresource]".
pub fn count(
    audit_log: &Path,
    ns: &str,
    ua_prefix: &str,
    from: Timestamp,
    to: Timestamp,
    verbs: &[&str],
) -> anyhow::Result<(u64, BTreeMap<String, u64>)> {
    let dir = audit_log.parent().unwrap_or(Path::new("."));
    let stem = audit_log
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("audit")
        .to_string();
    let needle = format!("\"namespace\":\"{ns}\"");
    let mut total = 0;
    let mut detail = BTreeMap::new();
    // The current file and any rotated backups (audit-<time>.log) written to since `from`.
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().to_string();
        if !name.starts_with(&stem) {
            continue;
        }
        let modified: Timestamp = entry.metadata()?.modified()?.try_into()?;
        if modified < from {
            continue;
        }
        let f = std::fs::File::open(entry.path())?;
        for line in BufReader::new(f).lines() {
            let line = line?;
            if !line.contains(&needle) || !line.contains(ua_prefix) {
                continue;
            }
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            let verb = v["verb"].as_str().unwrap_or_default();
            let ua = v["userAgent"].as_str().unwrap_or_default();
            let obj = &v["objectRef"];
            if !verbs.contains(&verb)
                || !ua.starts_with(ua_prefix)
                || obj["namespace"].as_str() != Some(ns)
            {
                continue;
            }
            let Some(at) = v["requestReceivedTimestamp"]
                .as_str()
                .and_then(|t| t.parse::<Timestamp>().ok())
            else {
                continue;
            };
            if at < from || at > to {
                continue;
            }
            total += 1;
            let mut what = format!("{verb} {}", obj["resource"].as_str().unwrap_or("?"));
            if let Some(sub) = obj["subresource"].as_str() {
                what.push('/');
                what.push_str(sub);
            }
            *detail.entry(what).or_insert(0) += 1;
        }
    }
    Ok((total, detail))
}
