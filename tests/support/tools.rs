//! Where the local cluster and the tools the tests run are: the repository, the cluster's state
//! folder, the versions pinned in `scripts/cluster/versions.env`, helm, promtool and kubectl.
//! Shared by the offline and the e2e test binaries.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The repository root (the crate's manifest directory).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The cluster state folder: `$CLUSTER_DIR` when set, else `<repo>/.cluster` (same rule as up.sh).
pub fn cluster_dir() -> PathBuf {
    match std::env::var_os("CLUSTER_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => repo_root().join(".cluster"),
    }
}

/// Reads a `KEY=value` / `KEY='value'` file (comments and blank lines ignored).
fn read_key_values(path: &Path) -> std::io::Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path)?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            let v = v.trim();
            let v = v
                .strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .or_else(|| v.strip_prefix('"').and_then(|v| v.strip_suffix('"')))
                .unwrap_or(v);
            (k.trim().to_string(), v.to_string())
        })
        .collect())
}

/// A pinned version from `scripts/cluster/versions.env` (e.g. `K8S_VERSION` -> `v1.37.2`).
pub fn pinned_version(key: &str) -> String {
    let path = repo_root().join("scripts/cluster/versions.env");
    let vars =
        read_key_values(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    vars.get(key)
        .cloned()
        .unwrap_or_else(|| panic!("{key} is not set in {}", path.display()))
}

/// A tool's path: `$<VAR>` when set, else what `scripts/cluster/up.sh` recorded in
/// `<cluster dir>/env`, else `default`.
pub fn tool(var: &str, default: impl FnOnce() -> PathBuf) -> PathBuf {
    let recorded = || {
        read_key_values(&cluster_dir().join("env"))
            .ok()?
            .remove(var)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    std::env::var_os(var)
        .map(PathBuf::from)
        .or_else(recorded)
        .unwrap_or_else(default)
}

/// The helm binary: `$HELM`, the cluster's record, or where scripts/cluster/build.sh caches it.
pub fn helm() -> PathBuf {
    tool("HELM", || cached_bin("helm", "HELM_VERSION"))
}

/// The promtool binary: `$PROMTOOL`, or where `scripts/cluster/build.sh promtool` caches it.
pub fn promtool() -> PathBuf {
    std::env::var_os("PROMTOOL")
        .map(PathBuf::from)
        .unwrap_or_else(|| cached_bin("promtool", "PROMETHEUS_VERSION"))
}

/// Where scripts/cluster/build.sh caches `name` at the version pinned as `version_key`
/// (mirrors `CACHE_ROOT` in scripts/lib/cache.sh and the `*_bin_dir` functions of
/// scripts/cluster/lib.sh).
fn cached_bin(name: &str, version_key: &str) -> PathBuf {
    let cache_root = std::env::var_os("OIDC_SSO_CACHE")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("oidc-sso-operator"))
        })
        .or_else(|| {
            std::env::var_os("HOME").map(|d| PathBuf::from(d).join(".cache/oidc-sso-operator"))
        })
        .unwrap_or_else(|| PathBuf::from(".cache/oidc-sso-operator"));
    let version = pinned_version(version_key);
    cache_root.join(format!("bin/{name}-{version}/{name}"))
}
