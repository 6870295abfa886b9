//! The real node as the suites see it: its name and the opt-in placement of pods, our images on it,
//! pods reached at their IPs from this host (the node's bridge network; no port-forward, no proxy),
//! and container processes read in `/proc` (the node runs on this host).

use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use k8s_openapi::api::core::v1::{ContainerStatus, Node, Pod};
use kube::{Api, Client};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::support::cluster;

/// The node `scripts/node/up.sh` registers.
pub const NODE_NAME: &str = "real-node-0";
/// Its label and the key of its `NoSchedule` taint: pods opt in, everything else stays on kwok.
pub const NODE_LABEL: &str = "oidcsso.io/real-node";
/// The non-root user and group of both images (and of the chart's pod security context).
pub const NONROOT: (u32, u32) = (65532, 65532);

/// The operator's image as the chart names it by default (`<repository>:<appVersion>`), which
/// `scripts/image/build.sh` tags with the crate's version.
pub fn operator_image() -> String {
    format!("oidc-sso-operator:{}", env!("CARGO_PKG_VERSION"))
}

/// The test app's image (`scripts/image/build-testapp.sh`).
pub fn testapp_image() -> String {
    format!("oidc-sso-testapp:{}", env!("CARGO_PKG_VERSION"))
}

/// `nodeSelector` and `tolerations` that put a pod on the real node.
pub fn placement() -> Value {
    json!({
        "nodeSelector": {NODE_LABEL: "true"},
        "tolerations": [{"key": NODE_LABEL, "operator": "Exists", "effect": "NoSchedule"}],
    })
}

/// A Deployment `name` of `replicas` pods with the pod spec `pod`, placed on the real node (its
/// pods labelled `app: <name>`, which its selector matches).
pub fn placed_deployment(
    name: &str,
    mut pod: Value,
    replicas: i32,
) -> k8s_openapi::api::apps::v1::Deployment {
    pod.as_object_mut()
        .expect("a pod spec object")
        .extend(placement().as_object().expect("placement").clone());
    serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": pod},
        },
    }))
    .expect("a valid Deployment")
}

/// Where the kubelet of the real node (on this host) keeps `file` of the Secret volume `volume` of
/// `pod`: what the pod's containers read.
pub fn secret_volume_file(pod: &Pod, volume: &str, file: &str) -> std::path::PathBuf {
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    cluster::cluster_dir()
        .join("node/kubelet/root/pods")
        .join(uid)
        .join("volumes/kubernetes.io~secret")
        .join(volume)
        .join(file)
}

/// Fails the test unless the node's kubelet and containerd run (their PID files, which
/// scripts/node/down.sh removes), the Node is Ready and reports both images (imported by up.sh): a
/// pod with `imagePullPolicy: Never` would otherwise wait in `ErrImageNeverPull`. The processes
/// are checked first because a stopped kubelet leaves its Node `Ready` until the node
/// controller's grace period ends.
pub async fn require_node(client: &Client) {
    for process in ["kubelet", "containerd"] {
        let pid_file = cluster::cluster_dir().join(format!("pids/{process}.pid"));
        let pid = std::fs::read_to_string(&pid_file).unwrap_or_default();
        assert!(
            !pid.trim().is_empty()
                && std::path::Path::new(&format!("/proc/{}", pid.trim())).exists(),
            "the real node's {process} is not running (no live PID in {}): run `make test-node`, \
             or `make image image-testapp node-up`",
            pid_file.display()
        );
    }
    let nodes: Api<Node> = Api::all(client.clone());
    cluster::wait_for(
        &format!("Node {NODE_NAME} Ready with our images"),
        Duration::from_secs(60),
        || async {
            let node = nodes
                .get_opt(NODE_NAME)
                .await?
                .with_context(|| format!("no Node {NODE_NAME}"))?;
            let status = node.status.unwrap_or_default();
            let ready = status
                .conditions
                .iter()
                .flatten()
                .any(|c| c.type_ == "Ready" && c.status == "True");
            ensure!(ready, "{NODE_NAME} is not Ready");
            let names: Vec<String> = status
                .images
                .iter()
                .flatten()
                .flat_map(|i| i.names.clone().unwrap_or_default())
                .collect();
            let standins = crate::standin::RELEASES.map(crate::standin::image);
            for image in [operator_image(), testapp_image()].iter().chain(&standins) {
                ensure!(
                    names.iter().any(|n| n.ends_with(&format!("/{image}"))),
                    "{NODE_NAME} has no image {image} (scripts/node/up.sh target/image/*.oci.tar imports it); it has {names:?}"
                );
            }
            Ok(())
        },
    )
    .await;
}

/// SHA-256 of `bytes`, hex: how served values are compared, so that no secret is ever printed.
pub fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The pod's IP on the node's bridge network.
pub fn pod_ip(pod: &Pod) -> anyhow::Result<String> {
    pod.status
        .as_ref()
        .and_then(|s| s.pod_ip.clone())
        .with_context(|| format!("pod {} has no IP yet", name(pod)))
}

/// The status of the pod's first container (panics when it has none yet: call on a Ready pod).
pub fn first_container_status(pod: &Pod) -> &ContainerStatus {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|c| c.first())
        .unwrap_or_else(|| panic!("pod {} has no container status", name(pod)))
}

/// The pod's name.
pub fn name(pod: &Pod) -> String {
    pod.metadata.name.clone().unwrap_or_default()
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        // Pod IPs are on this host's bridge: never through a proxy from the environment.
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("HTTP client")
}

/// `GET http://<ip>:<port><path>`; the body. Errors never carry the body (it may be a secret).
pub async fn get(ip: &str, port: u16, path: &str) -> anyhow::Result<Vec<u8>> {
    let url = format!("http://{ip}:{port}{path}");
    let response = http()
        .get(&url)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    ensure!(
        response.status().is_success(),
        "GET {url}: {}",
        response.status()
    );
    Ok(response.bytes().await?.to_vec())
}

/// A counter or gauge from the operator's `/metrics` at `ip` (summed over labels; 0 when absent).
pub async fn metric(ip: &str, port: u16, metric: &str) -> anyhow::Result<f64> {
    let text = String::from_utf8(get(ip, port, "/metrics").await?)?;
    Ok(text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.strip_prefix(metric))
        .filter(|rest| rest.starts_with(' ') || rest.starts_with('{'))
        .filter_map(|rest| rest.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()))
        .fold(0.0, |sum, v| sum + v))
}

/// A container's main process on this host, found in `/proc`: the process that is PID 1 of its
/// own PID namespace and whose cgroup is named after the container's id (containerd names each
/// container's cgroup so).
pub struct ContainerProcess {
    pid: u32,
}

impl ContainerProcess {
    /// The process of container `name` of `pod` (its `containerd://<id>` in the pod's status).
    pub fn of(pod: &Pod, container: &str) -> anyhow::Result<Self> {
        let id = pod
            .status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.name == container))
            .and_then(|c| c.container_id.clone())
            .with_context(|| format!("{}: container {container} has no id", name(pod)))?;
        let id = id
            .strip_prefix("containerd://")
            .with_context(|| format!("{id}: not a containerd container"))?;
        let mut found = Vec::new();
        for entry in std::fs::read_dir("/proc")? {
            let Some(pid) = entry?
                .file_name()
                .to_str()
                .and_then(|p| p.parse::<u32>().ok())
            else {
                continue;
            };
            // Processes come and go while we read: skip the ones gone.
            let (Ok(cgroup), Ok(status)) = (
                std::fs::read_to_string(format!("/proc/{pid}/cgroup")),
                std::fs::read_to_string(format!("/proc/{pid}/status")),
            ) else {
                continue;
            };
            let init_of_its_namespace = status
                .lines()
                .find_map(|l| l.strip_prefix("NSpid:"))
                .is_some_and(|ids| ids.split_whitespace().last() == Some("1"));
            if init_of_its_namespace && cgroup.contains(id) {
                found.push(pid);
            }
        }
        match found.as_slice() {
            [pid] => Ok(Self { pid: *pid }),
            [] => bail!("no process of container {id} in /proc"),
            many => bail!("several processes claim container {id}: {many:?}"),
        }
    }

    fn read(&self, file: &str) -> anyhow::Result<String> {
        std::fs::read_to_string(format!("/proc/{}/{file}", self.pid))
            .with_context(|| format!("reading /proc/{}/{file}", self.pid))
    }

    /// Effective uid and gid.
    pub fn uid_gid(&self) -> anyhow::Result<(u32, u32)> {
        let status = self.read("status")?;
        let field = |key: &str| -> anyhow::Result<u32> {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|ids| ids.split_whitespace().nth(1))
                .and_then(|id| id.parse().ok())
                .with_context(|| format!("no {key} in /proc/{}/status", self.pid))
        };
        Ok((field("Uid:")?, field("Gid:")?))
    }

    /// The mounts the process sees: (mount point, per-mount options), in mount order.
    pub fn mounts(&self) -> anyhow::Result<Vec<(String, String)>> {
        // <id> <parent> <major:minor> <root> <mount point> <options> ...
        Ok(self
            .read("mountinfo")?
            .lines()
            .filter_map(|l| {
                let fields: Vec<&str> = l.split(' ').collect();
                Some((fields.get(4)?.to_string(), fields.get(5)?.to_string()))
            })
            .collect())
    }

    /// Whether the root filesystem the process sees (the last mount on `/`) is read-only.
    pub fn root_is_read_only(&self) -> anyhow::Result<bool> {
        let mounts = self.mounts()?;
        let (_, options) = mounts
            .iter()
            .rfind(|(point, _)| point == "/")
            .context("no mount on /")?;
        Ok(options.split(',').any(|o| o == "ro"))
    }

    /// The names of the process's environment variables (never their values).
    pub fn env_names(&self) -> anyhow::Result<Vec<String>> {
        let raw = std::fs::read(format!("/proc/{}/environ", self.pid))?;
        Ok(raw
            .split(|b| *b == 0)
            .filter_map(|kv| kv.split(|b| *b == b'=').next())
            .filter(|k| !k.is_empty())
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .collect())
    }

    /// The value of one environment variable that is not a secret.
    pub fn env_value(&self, key: &str) -> anyhow::Result<Option<String>> {
        let raw = std::fs::read(format!("/proc/{}/environ", self.pid))?;
        let prefix = format!("{key}=");
        Ok(raw
            .split(|b| *b == 0)
            .find_map(|kv| kv.strip_prefix(prefix.as_bytes()))
            .map(|v| String::from_utf8_lossy(v).into_owned()))
    }
}

/// `spec` with every provider check off (its JWKS URL configured): nothing a node test runs
/// contacts a provider.
pub fn without_provider_checks(mut spec: Value) -> Value {
    spec["provider"]["verify"] = json!({
        "discovery": false,
        "credentials": {"method": "Disabled"},
        "loginRedirect": false,
    });
    spec
}

/// Who holds the Lease of the chart's `release` (its full name, in its namespace).
pub async fn lease_holder(
    client: &kube::Client,
    release: &crate::support::chart::Release,
) -> anyhow::Result<String> {
    let leases: kube::Api<k8s_openapi::api::coordination::v1::Lease> =
        kube::Api::namespaced(client.clone(), &release.namespace);
    leases
        .get_opt(&release.fullname())
        .await?
        .and_then(|l| l.spec?.holder_identity)
        .context("the Lease has no holder")
}
