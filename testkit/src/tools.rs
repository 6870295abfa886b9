//! Where the local cluster and the tools the tests run are: the repository, the cluster's state
//! folder, the versions pinned in `scripts/cluster/versions.env`, helm, promtool and kubectl.
//! Shared by the offline and the e2e test binaries.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The repository root (the test kit lives in its `testkit/` folder).
pub fn repo_root() -> PathBuf {
    let kit = Path::new(env!("CARGO_MANIFEST_DIR"));
    kit.parent().unwrap_or(kit).to_path_buf()
}

/// The profile folder of cargo's target directory the running test binary was built into
/// (`<target>/<profile>`; a test binary is `<target>/<profile>/deps/<name>-<hash>`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.ancestors()
        .nth(2)
        .expect("a test binary below <target>/<profile>/deps")
        .to_path_buf()
}

/// The operator's binary of this checkout, which cargo builds for every integration test binary
/// (what `CARGO_BIN_EXE_oidc-sso-operator` names inside the operator's own crate).
pub fn operator_binary() -> PathBuf {
    profile_dir().join("oidc-sso-operator")
}

/// Cargo's scratch folder for tests, `<target>/tmp` (what `CARGO_TARGET_TMPDIR` names inside the
/// operator's own crate).
pub fn target_tmpdir() -> PathBuf {
    let dir = profile_dir()
        .parent()
        .expect("a target directory above the profile")
        .join("tmp");
    std::fs::create_dir_all(&dir).expect("target/tmp");
    dir
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
/// scripts/lib/versions.sh).
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
