//! The install path of docs/install.md, from a registry: our image pushed with `skopeo copy` from
//! its OCI archive, our chart with `helm push`, both to a real OCI registry (the CNCF Distribution
//! registry, built by `scripts/node/build.sh registry`) on 127.0.0.1 that asks for credentials, as
//! a private registry does; then `helm install oci://...` with `image.repository` pointing there and
//! the pull credentials in `imagePullSecrets`. The node's kubelet pulls the image through containerd
//! (the chart's default pull policy; the reference is new to the node, so it must pull), and the
//! operator runs from it.
//!
//! The registry speaks plain HTTP: containerd, skopeo and helm are told so for this one loopback
//! address (a user's registry has TLS; the credentials path is the same).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, Result};
use k8s_openapi::api::core::v1::{Event, Pod, Secret};
use kube::api::{ListParams, PostParams};
use kube::{Api, Client};
use serde_json::json;

use crate::node;
use crate::support::chart::Release;
use crate::support::cluster::{self, DEFAULT_TIMEOUT, TestNamespace};
use crate::support::operator;
use crate::support::process_group::{ProcessGroup, installed, on_a_free_port, run_ok, server_log};

/// The one account of the registry.
const USER: &str = "pusher";

/// A registry on 127.0.0.1 with one htpasswd account, its storage in a temporary folder.
struct Registry {
    port: u16,
    password: String,
    dir: tempfile::TempDir,
    _process: ProcessGroup,
}

impl Registry {
    async fn start() -> Result<Self> {
        let binary = installed("node/build.sh", &["registry"])?;
        on_a_free_port(|port| Self::start_on(&binary, port)).await
    }

    async fn start_on(binary: &Path, port: u16) -> Result<Self> {
        let dir = tempfile::Builder::new().prefix("registry-").tempdir()?;
        let password = format!("pw-{}", cluster::unique_name("r"));
        let htpasswd = dir.path().join("htpasswd");
        std::fs::write(&htpasswd, htpasswd_line(USER, &password)?)?;
        let config = json!({
            "version": 0.1,
            "log": {"level": "warn", "accesslog": {"disabled": false}},
            "storage": {"filesystem": {"rootdirectory": dir.path().join("data")}},
            "http": {"addr": format!("127.0.0.1:{port}")},
            "auth": {"htpasswd": {"realm": "oidc-sso-test", "path": htpasswd}},
        });
        // `/` answers 200 without credentials (`/v2/` asks for them).
        let process = ProcessGroup::serve_config(
            binary,
            &config,
            dir.path(),
            &format!("http://127.0.0.1:{port}/"),
            Duration::from_secs(30),
        )
        .await
        .context("registry")?;
        Ok(Self {
            port,
            password,
            dir,
            _process: process,
        })
    }

    /// `127.0.0.1:<port>`, as image references and `oci://` URLs name it.
    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The registry's log: its access log, and warnings.
    fn log(&self) -> String {
        server_log(self.dir.path())
    }

    /// The credentials as a Docker config file (what `docker login`, `helm registry login` and
    /// `skopeo login` write), which skopeo, helm and a pull Secret all take: no command line ever
    /// carries the password, so no failure message prints it.
    fn auth_file(&self) -> Result<PathBuf> {
        let path = self.dir.path().join("auth.json");
        std::fs::write(&path, self.docker_config().to_string())?;
        Ok(path)
    }

    /// `{"auths": {"<host>": {"auth": base64(user:password)}}}`.
    fn docker_config(&self) -> serde_json::Value {
        use base64::Engine as _;
        let auth =
            base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{}", self.password));
        json!({"auths": {self.host(): {"auth": auth}}})
    }

    /// `skopeo copy oci-archive:<archive> docker://<host>/<name>:<tag>` as docs/install.md says;
    /// returns the digest of the manifest pushed.
    fn push_image(&self, archive: &Path, name: &str, tag: &str) -> Result<String> {
        let digest_file = self.dir.path().join("pushed.digest");
        run_ok(Command::new("skopeo").args([
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            "--dest-authfile",
            path_str(&self.auth_file()?)?,
            "--digestfile",
            path_str(&digest_file)?,
            &format!("oci-archive:{}", path_str(archive)?),
            &format!("docker://{}/{name}:{tag}", self.host()),
        ]))?;
        Ok(std::fs::read_to_string(digest_file)?.trim().to_string())
    }

    /// `helm package` of our chart and `helm push` to `oci://<host>/charts` with the credentials
    /// file; returns the chart's `oci://` reference.
    fn push_chart(&self) -> Result<String> {
        let out = self.dir.path().join("chart");
        let chart = crate::support::chart::chart_dir();
        cluster::helm(&["package", path_str(&chart)?, "-d", path_str(&out)?])?;
        let version = env!("CARGO_PKG_VERSION");
        let package = out.join(format!("oidc-sso-operator-{version}.tgz"));
        let config = self.auth_file()?;
        let config = path_str(&config)?;
        cluster::helm(&[
            "push",
            path_str(&package)?,
            &format!("oci://{}/charts", self.host()),
            "--plain-http",
            "--registry-config",
            config,
        ])?;
        Ok(format!("oci://{}/charts/oidc-sso-operator", self.host()))
    }
}

/// An htpasswd line with a bcrypt hash (the only kind the registry takes), of the lowest cost: the
/// registry checks it on every request, and the default cost (12) takes a quarter second each.
fn htpasswd_line(user: &str, password: &str) -> Result<String> {
    Ok(format!("{user}:{}\n", bcrypt::hash(password, 4)?))
}

fn path_str(p: &Path) -> Result<&str> {
    p.to_str().context("a UTF-8 path")
}

/// The operator's image archive: what scripts/test-node.sh built, or the default place of
/// scripts/image/build.sh.
fn operator_archive() -> PathBuf {
    std::env::var_os("OIDCSSO_OPERATOR_ARCHIVE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            cluster::repo_root().join(format!(
                "target/image/oidc-sso-operator-{}.oci.tar",
                env!("CARGO_PKG_VERSION")
            ))
        })
}

/// A `kubernetes.io/dockerconfigjson` Secret for the registry, as `kubectl create secret
/// docker-registry` makes it.
fn pull_secret(registry: &Registry) -> Secret {
    let config = registry.docker_config();
    serde_json::from_value(json!({
        "metadata": {"name": "registry-pull"},
        "type": "kubernetes.io/dockerconfigjson",
        "stringData": {".dockerconfigjson": config.to_string()},
    }))
    .expect("a Secret")
}

/// The Events about `object` (all in `namespace` when `None`), as "reason: message".
async fn events(client: &Client, namespace: &str, object: Option<&str>) -> Result<Vec<String>> {
    let events: Api<Event> = Api::namespaced(client.clone(), namespace);
    let mut params = ListParams::default();
    if let Some(name) = object {
        params = params.fields(&format!("involvedObject.name={name}"));
    }
    let list = events.list(&params).await?;
    Ok(list
        .items
        .into_iter()
        .map(|e| {
            format!(
                "{}: {}",
                e.reason.unwrap_or_default(),
                e.message.unwrap_or_default()
            )
        })
        .collect())
}

#[tokio::test]
async fn the_chart_and_image_pulled_from_a_private_registry_run_on_the_node() {
    let client = cluster::client().await;
    node::require_node(&client).await;
    operator::install_crd(&client).await;
    let registry = Registry::start().await.expect("start the registry");
    let version = env!("CARGO_PKG_VERSION");
    let digest = registry
        .push_image(&operator_archive(), "oidc-sso-operator", version)
        .expect("push the image");
    let chart = registry.push_chart().expect("push the chart");

    let ns = TestNamespace::create(&client, "node-pull").await.unwrap();
    Api::<Secret>::namespaced(client.clone(), ns.name())
        .create(&PostParams::default(), &pull_secret(&registry))
        .await
        .expect("create the pull Secret");
    let repository = format!("{}/oidc-sso-operator", registry.host());
    let mut values = json!({
        "replicaCount": 1,
        "image": {"repository": repository},
        "imagePullSecrets": [{"name": "registry-pull"}],
        "crds": {"install": false},
        "rbac": {"scope": "namespace"},
        "watchNamespace": ns.name(),
        // No OpenMetadata server runs here (tests/node/proof.rs runs the proof).
        "serverProof": false,
    });
    values
        .as_object_mut()
        .unwrap()
        .extend(node::placement().as_object().unwrap().clone());
    let dir = tempfile::tempdir().unwrap();
    let values_path = dir.path().join("values.json");
    std::fs::write(&values_path, values.to_string()).unwrap();
    let auth_file = registry.auth_file().expect("the credentials file");
    let installed = Release::install_from(
        &chart,
        &cluster::unique_name("pull"),
        ns.name(),
        &[
            "--version",
            version,
            "--plain-http",
            "--registry-config",
            auth_file.to_str().unwrap(),
            "--values",
            values_path.to_str().unwrap(),
        ],
    );
    let release = match installed {
        Ok(release) => release,
        Err(e) => panic!(
            "helm install {chart}: {e:#}\nEvents: {:#?}\nregistry log:\n{}",
            events(&client, ns.name(), None).await,
            registry.log()
        ),
    };

    // helm install --wait returned: the operator pod is Ready, running the image from the registry.
    let pods: Vec<Pod> = cluster::list_pods(
        &client,
        ns.name(),
        &format!("app.kubernetes.io/instance={}", release.name),
    )
    .await
    .expect("operator pods");
    assert_eq!(pods.len(), 1);
    let pod = &pods[0];
    assert!(
        cluster::is_pod_ready(pod),
        "{} is not Ready",
        node::name(pod)
    );
    let status = node::first_container_status(pod);
    // The pod asks for the registry's reference. (`status.image` names whichever reference of the
    // same content containerd lists first, e.g. the imported `docker.io/library/...`: not this.)
    let asked = pod.spec.as_ref().unwrap().containers[0].image.as_deref();
    assert_eq!(asked, Some(format!("{repository}:{version}").as_str()));
    assert!(
        status.image_id.ends_with(&digest),
        "runs {} (pushed {digest})",
        status.image_id
    );
    // The kubelet pulled it (an image already on the node would say "already present"). Events are
    // written apart from the pod's status: wait for it.
    let name = node::name(pod);
    let pulled = cluster::wait_for("the kubelet's Pulled Event", DEFAULT_TIMEOUT, || async {
        let events = events(&client, ns.name(), Some(&name)).await?;
        events
            .iter()
            .find(|e| e.starts_with("Pulled: Successfully pulled image"))
            .cloned()
            .with_context(|| format!("image Events so far: {events:?}"))
    })
    .await;
    assert!(pulled.contains(&repository), "{pulled}");
    // The registry served both by name to the clients that pull: containerd for the kubelet, helm.
    let log = registry.log();
    for (path, agent) in [
        (
            format!("/v2/oidc-sso-operator/manifests/{version} "),
            "\"containerd/",
        ),
        (
            format!("/v2/charts/oidc-sso-operator/manifests/{version} "),
            "\"Helm/",
        ),
    ] {
        assert!(
            log.lines()
                .any(|l| l.contains(&path) && l.contains(" 200 ") && l.contains(agent)),
            "no {path:?} answered 200 to {agent} in the registry's log:\n{log}"
        );
    }
}
