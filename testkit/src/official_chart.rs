//! OpenMetadata's official Helm chart with the values of `examples/openmetadata-chart/values.yaml`
//! (documented in `docs/openmetadata-chart.md`), and the check that the offline test
//! (`helm template`) and the end-to-end test (`helm install`) both run on its pod specs.
//!
//! The chart is OpenMetadata's own, unedited, read from
//! `../shared/fixtures/openmetadata-helm-chart/charts/openmetadata` (its README asks to keep it out
//! of this tree); `OPENMETADATA_CHART` points at another copy. A missing chart fails the test.
//!
//! The check, for every container that runs OpenMetadata (it loads the chart's
//! `<fullname>-config-secret`): the operator's settings Secret is its last `envFrom` source, with
//! `optional: false` and no prefix; no `env` entry names a variable the operator renders (an `env`
//! entry beats every `envFrom` source); no other source supplies an auth setting (the chart's auth
//! Secrets carry `AUTHENTICATION_PROVIDER="basic"`, the shipped key id, ...); the keys Secret is
//! mounted read-only, `optional: false`, exactly where `RSA_*_FILE_PATH` point, with nothing
//! mounted over it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use oidc_sso_operator::preview::{self, PreviewInput};
use oidc_sso_operator::render::ProviderEndpoints;
use serde_json::Value;

/// The chart version the documentation and the values are written for.
pub const CHART_VERSION: &str = "1.13.1";
/// The values file, relative to the repository root.
pub const VALUES: &str = "examples/openmetadata-chart/values.yaml";
/// The chart's full name for any release (its default `fullnameOverride`): the Deployment's name
/// and the prefix of its own Secrets.
pub const FULLNAME: &str = "openmetadata";

fn repo_root() -> PathBuf {
    crate::tools::repo_root()
}

/// The official chart's directory. Panics (failing the test) when it is missing or is not the
/// documented version.
pub fn chart_dir() -> PathBuf {
    let dir = std::env::var_os("OPENMETADATA_CHART")
        .filter(|v| !v.is_empty())
        .map_or_else(
            || repo_root().join("../shared/fixtures/openmetadata-helm-chart/charts/openmetadata"),
            PathBuf::from,
        );
    let chart_yaml = dir.join("Chart.yaml");
    let text = std::fs::read_to_string(&chart_yaml).unwrap_or_else(|e| {
        panic!(
            "OpenMetadata's official chart is not at {} ({e}): the tests read it from \
             ../shared/fixtures/openmetadata-helm-chart/charts/openmetadata; point \
             OPENMETADATA_CHART at a copy of chart {CHART_VERSION}",
            dir.display()
        )
    });
    let chart: Value = serde_saphyr::from_str(&text).expect("Chart.yaml is YAML");
    assert!(
        chart["name"] == "openmetadata" && chart["version"] == CHART_VERSION,
        "{} is {} {}, but docs/openmetadata-chart.md and {VALUES} are written for openmetadata \
         {CHART_VERSION}",
        chart_yaml.display(),
        chart["name"],
        chart["version"]
    );
    dir
}

/// The values file's path.
pub fn values_path() -> PathBuf {
    repo_root().join(VALUES)
}

/// Renders a fixture of `tests/fixtures` (with the throwaway test keys) the way the operator does.
fn render_fixture(file: &str) -> BTreeMap<String, Vec<u8>> {
    let texts: Vec<(&str, String)> = [file, "test-keys.yaml"]
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(repo_root().join("tests/fixtures").join(f))
                .unwrap_or_else(|e| panic!("tests/fixtures/{f}: {e}"));
            (f, text)
        })
        .collect();
    let input = PreviewInput::from_documents(texts.iter().map(|(f, t)| (*f, t.as_str())))
        .expect("fixture parses and holds an OidcSsoConfig");
    preview::render_preview(&input, &ProviderEndpoints::default())
        .expect("fixture renders")
        .0
        .auth_env
        .data
}

/// Every variable the operator renders into the settings Secret, for a confidential and for a
/// public client (the fixtures set every optional field).
pub fn operator_variables() -> BTreeSet<String> {
    ["confidential.yaml", "public.yaml"]
        .iter()
        .flat_map(|f| render_fixture(f).into_keys())
        .collect()
}

/// Every `${VAR}` of OpenMetadata's auth blocks (`configSource`, `authorizerConfiguration`,
/// `authenticationConfiguration`, `jwtTokenConfiguration`: `tests/fixtures/openmetadata`).
pub fn auth_template_variables() -> BTreeSet<String> {
    let path = repo_root().join("tests/fixtures/openmetadata/conf/openmetadata-auth-excerpt.yaml");
    let text = std::fs::read_to_string(&path).expect("the auth template excerpt");
    text.split("${")
        .skip(1)
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect::<String>()
        })
        .filter(|v| !v.is_empty())
        .collect()
}

/// How the operator's Secrets must appear in a pod.
#[derive(Clone, Debug)]
pub struct Wiring {
    /// The settings Secret (`<name>-auth-env`).
    pub settings_secret: String,
    /// The keys Secret (`<name>-jwt-keys`).
    pub keys_secret: String,
    /// Variables the operator renders: no `env` entry may name one.
    pub variables: BTreeSet<String>,
    /// Every auth setting the server reads: no other source may supply one.
    pub auth_settings: BTreeSet<String>,
    /// Where `RSA_PRIVATE_KEY_FILE_PATH` and `RSA_PUBLIC_KEY_FILE_PATH` point.
    pub key_files: Vec<String>,
}

impl Wiring {
    /// The wiring for a rendered settings Secret (`data`), named `settings_secret`, and the keys
    /// Secret `keys_secret`. `variables` is widened by what `data` holds.
    pub fn new(
        settings_secret: &str,
        keys_secret: &str,
        data: &BTreeMap<String, Vec<u8>>,
        mut variables: BTreeSet<String>,
    ) -> Self {
        variables.extend(data.keys().cloned());
        let mut auth_settings = auth_template_variables();
        auth_settings.extend(variables.iter().cloned());
        let key_files = ["RSA_PRIVATE_KEY_FILE_PATH", "RSA_PUBLIC_KEY_FILE_PATH"]
            .iter()
            .map(|k| {
                let raw = data
                    .get(*k)
                    .unwrap_or_else(|| panic!("the settings render no {k}"));
                // A double-quoted YAML scalar, as the server reads it after substitution.
                serde_saphyr::from_str::<String>(std::str::from_utf8(raw).expect("UTF-8"))
                    .unwrap_or_else(|e| panic!("{k} is not a YAML string: {e}"))
            })
            .collect();
        Wiring {
            settings_secret: settings_secret.to_string(),
            keys_secret: keys_secret.to_string(),
            variables,
            auth_settings,
            key_files,
        }
    }
}

/// Keys of the Secrets and ConfigMaps a container may load, by (kind, name).
pub type Sources = BTreeMap<(String, String), BTreeSet<String>>;

/// The keys of every Secret and ConfigMap among `objects`.
pub fn sources(objects: &[Value]) -> Sources {
    let mut out = Sources::new();
    for o in objects {
        let kind = o["kind"].as_str().unwrap_or_default();
        let fields: &[&str] = match kind {
            "Secret" => &["data", "stringData"],
            "ConfigMap" => &["data", "binaryData"],
            _ => continue,
        };
        let name = o["metadata"]["name"].as_str().unwrap_or_default();
        let keys = out.entry((kind.to_string(), name.to_string())).or_default();
        for f in fields {
            if let Some(m) = o[*f].as_object() {
                keys.extend(m.keys().cloned());
            }
        }
    }
    out
}

/// A container of a pod template, with where it comes from.
#[derive(Debug)]
pub struct PodContainer<'a> {
    /// `Kind/name` of the workload.
    pub workload: String,
    /// Whether it is an init container.
    pub init: bool,
    /// The container.
    pub container: &'a Value,
    /// Its pod spec (for the volumes).
    pub pod: &'a Value,
}

impl PodContainer<'_> {
    /// The container's name.
    pub fn name(&self) -> &str {
        self.container["name"].as_str().unwrap_or_default()
    }

    /// `Kind/name container name`, as findings name it.
    pub fn label(&self) -> String {
        let kind = if self.init {
            "init container"
        } else {
            "container"
        };
        format!("{} {kind} {}", self.workload, self.name())
    }
}

/// The pod spec of a workload object, if it has one.
fn pod_spec(o: &Value) -> Option<&Value> {
    let spec = match o["kind"].as_str()? {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            &o["spec"]["template"]["spec"]
        }
        "CronJob" => &o["spec"]["jobTemplate"]["spec"]["template"]["spec"],
        "Pod" => &o["spec"],
        _ => return None,
    };
    spec.is_object().then_some(spec)
}

/// Every container that runs OpenMetadata: it loads the chart's `<fullname>-config-secret`.
pub fn openmetadata_containers(objects: &[Value]) -> Vec<PodContainer<'_>> {
    let marker = format!("{FULLNAME}-config-secret");
    let mut out = Vec::new();
    for o in objects {
        let Some(pod) = pod_spec(o) else { continue };
        let workload = format!(
            "{}/{}",
            o["kind"].as_str().unwrap_or_default(),
            o["metadata"]["name"].as_str().unwrap_or_default()
        );
        for (field, init) in [("initContainers", true), ("containers", false)] {
            for c in pod[field].as_array().into_iter().flatten() {
                let loads_config = c["envFrom"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|s| s["secretRef"]["name"] == marker.as_str());
                if loads_config {
                    out.push(PodContainer {
                        workload: workload.clone(),
                        init,
                        container: c,
                        pod,
                    });
                }
            }
        }
    }
    out
}

/// An `envFrom` source as `(kind, name)`.
fn env_from_source(s: &Value) -> (String, String) {
    for (field, kind) in [("secretRef", "Secret"), ("configMapRef", "ConfigMap")] {
        if let Some(name) = s[field]["name"].as_str() {
            return (kind.to_string(), name.to_string());
        }
    }
    ("?".to_string(), s.to_string())
}

fn join(names: &BTreeSet<String>) -> String {
    names.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// Everything that keeps the server from reading the operator's settings and keys in this
/// container, one finding per line; empty when it is wired as documented.
pub fn check(c: &PodContainer<'_>, sources: &Sources, wiring: &Wiring) -> Vec<String> {
    let label = c.label();
    let mut findings = Vec::new();

    // envFrom: ours exactly once, last, required, unprefixed.
    let env_from: Vec<&Value> = c.container["envFrom"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let ours: Vec<usize> = env_from
        .iter()
        .enumerate()
        .filter(|(_, s)| s["secretRef"]["name"] == wiring.settings_secret.as_str())
        .map(|(i, _)| i)
        .collect();
    let Some(&position) = ours.first() else {
        findings.push(format!(
            "{label}: does not load the settings Secret {} with envFrom",
            wiring.settings_secret
        ));
        return findings;
    };
    if ours.len() > 1 {
        findings.push(format!(
            "{label}: loads the settings Secret {} {} times",
            wiring.settings_secret,
            ours.len()
        ));
    }
    let entry = env_from[position];
    if entry["secretRef"]["optional"] != Value::Bool(false) {
        findings.push(format!(
            "{label}: the settings Secret is loaded without optional: false (found {}), so the \
             container can start on OpenMetadata's defaults before the operator wrote it",
            entry["secretRef"]["optional"]
        ));
    }
    if entry["prefix"].as_str().is_some_and(|p| !p.is_empty()) {
        findings.push(format!(
            "{label}: the settings Secret is loaded with prefix {}, which renames every variable",
            entry["prefix"]
        ));
    }
    for later in &env_from[position + 1..] {
        let (kind, name) = env_from_source(later);
        findings.push(format!(
            "{label}: envFrom source {kind}/{name} comes after the settings Secret and beats it \
             for every key both hold"
        ));
    }

    // Other envFrom sources: they lose to ours for the keys we render, but any auth setting they
    // hold is a default of someone else's (and reaches the server where ours has no such key).
    for earlier in &env_from[..position] {
        let source = env_from_source(earlier);
        let Some(keys) = sources.get(&source) else {
            continue;
        };
        let auth: BTreeSet<String> = keys.intersection(&wiring.auth_settings).cloned().collect();
        let (overridden, reaching): (BTreeSet<String>, BTreeSet<String>) =
            auth.into_iter().partition(|k| wiring.variables.contains(k));
        if !overridden.is_empty() {
            findings.push(format!(
                "{label}: envFrom source {}/{} supplies auth defaults the settings Secret \
                 overrides: {}",
                source.0,
                source.1,
                join(&overridden)
            ));
        }
        if !reaching.is_empty() {
            findings.push(format!(
                "{label}: envFrom source {}/{} supplies auth settings the operator does not \
                 render, which reach the server: {}",
                source.0,
                source.1,
                join(&reaching)
            ));
        }
    }

    // env entries beat every envFrom source.
    for e in c.container["env"].as_array().into_iter().flatten() {
        let name = e["name"].as_str().unwrap_or_default();
        if wiring.variables.contains(name) {
            findings.push(format!(
                "{label}: env entry {name} beats the settings Secret"
            ));
        } else if wiring.auth_settings.contains(name) {
            findings.push(format!(
                "{label}: env entry {name} sets an auth setting beside the operator's"
            ));
        }
    }

    findings.extend(check_key_mount(c, wiring));
    findings
}

/// The keys Secret mounted read-only exactly where `RSA_*_FILE_PATH` point.
fn check_key_mount(c: &PodContainer<'_>, wiring: &Wiring) -> Vec<String> {
    let label = c.label();
    let mut findings = Vec::new();
    let dirs: BTreeSet<String> = wiring
        .key_files
        .iter()
        .map(|f| {
            Path::new(f)
                .parent()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        })
        .collect();
    let mounts: Vec<&Value> = c.container["volumeMounts"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let volumes: Vec<&Value> = c.pod["volumes"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let normalized = |p: &str| p.trim_end_matches('/').to_string();
    for dir in &dirs {
        let at_dir: Vec<&&Value> = mounts
            .iter()
            .filter(|m| m["mountPath"].as_str().map(normalized).as_deref() == Some(dir.as_str()))
            .collect();
        let [mount] = at_dir.as_slice() else {
            findings.push(format!(
                "{label}: {} volume mounts at {dir}, where RSA_*_FILE_PATH point; want exactly one",
                at_dir.len()
            ));
            continue;
        };
        if mount["readOnly"] != Value::Bool(true) {
            findings.push(format!("{label}: the keys mount at {dir} is not readOnly"));
        }
        if !mount["subPath"].is_null() || !mount["subPathExpr"].is_null() {
            findings.push(format!("{label}: the keys mount at {dir} uses a subPath"));
        }
        let volume_name = mount["name"].as_str().unwrap_or_default();
        let volume = volumes.iter().find(|v| v["name"] == volume_name);
        match volume.map(|v| &v["secret"]) {
            Some(secret) if secret["secretName"] == wiring.keys_secret.as_str() => {
                if secret["optional"] != Value::Bool(false) {
                    findings.push(format!(
                        "{label}: the keys Secret volume {volume_name} is not optional: false \
                         (found {}), so the container can start without the keys",
                        secret["optional"]
                    ));
                }
                if !secret["items"].is_null() {
                    findings.push(format!(
                        "{label}: the keys Secret volume {volume_name} remaps its files (items)"
                    ));
                }
            }
            _ => findings.push(format!(
                "{label}: the volume {volume_name} mounted at {dir} is not the keys Secret {}",
                wiring.keys_secret
            )),
        }
        // A mount below the directory would hide a key file.
        for m in &mounts {
            let path = m["mountPath"].as_str().map(normalized).unwrap_or_default();
            if path.starts_with(&format!("{dir}/")) {
                findings.push(format!(
                    "{label}: volume {} is mounted at {path}, inside the keys directory",
                    m["name"]
                ));
            }
        }
    }
    findings
}

/// [`check`] over every container that runs OpenMetadata; also fails when none, or not the
/// server, the `run-db-migrations` init container and both CronJobs, are found.
pub fn check_all(objects: &[Value], sources: &Sources, wiring: &Wiring) -> Vec<String> {
    let containers = openmetadata_containers(objects);
    let found: BTreeSet<String> = containers.iter().map(PodContainer::label).collect();
    let mut findings = Vec::new();
    for want in [
        format!("Deployment/{FULLNAME} container openmetadata"),
        format!("Deployment/{FULLNAME} init container run-db-migrations"),
        "CronJob/cron-deploy-pipelines container cron-deploy-pipelines".to_string(),
        "CronJob/cron-reindex container cron-reindex".to_string(),
    ] {
        if !found.contains(&want) {
            findings.push(format!(
                "no {want} that loads the chart's settings (found: {found:?})"
            ));
        }
    }
    for c in &containers {
        findings.extend(check(c, sources, wiring));
    }
    findings
}
