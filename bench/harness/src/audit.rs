//! Counting a tool's API writes from the apiserver's audit log (the local cluster logs every
//! non-read request at Metadata level, with its user agent).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

use jiff::Timestamp;

const WRITE_VERBS: [&str; 5] = ["create", "update", "patch", "delete", "deletecollection"];

/// Writes in `ns` by a user agent starting with `ua_prefix`, received in `[from, to]`:
/// the total and a count per "verb resource[/subresource]".
pub fn writes(
    audit_log: &Path,
    ns: &str,
    ua_prefix: &str,
    from: Timestamp,
    to: Timestamp,
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
            if !WRITE_VERBS.contains(&verb)
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
