//! The OpenMetadata stand-in on the real node (scripts/image/omserver: its behaviours transcribed
//! from OpenMetadata's code, its README says what it is not), its real PostgreSQL on this host
//! (scripts/node/postgres.sh, reached by the pods through the node's gateway), and a count of the
//! operator's packets by destination (iptables, by the operator process's user).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail, ensure};
use k8s_openapi::api::apps::v1::Deployment;
use serde_json::{Value, json};

use crate::node::{self, NONROOT};
use crate::support::scenario::NAME;

/// The stand-in's image playing OpenMetadata `release` (`scripts/image/build-om-standin.sh`
/// builds one per release, tagged with it and with `OM_STANDIN_VERSION` in its environment, so
/// the tag says what the pod plays, as OpenMetadata's own image tags do).
pub fn image(release: &str) -> String {
    format!("oidc-sso-om-standin:{release}")
}

/// The releases the suite plays (each built and imported by scripts/test-node.sh).
pub const RELEASES: [&str; 3] = ["1.9.4", "1.13.1", "2.1.0"];

/// OpenMetadata's application port, where the proof asks.
pub const PORT: u16 = 8585;
/// Its admin port, where the readiness probe asks (`/healthcheck`, as OpenMetadata's chart does).
const ADMIN_PORT: u16 = 8586;
/// Where the pods mount the keys: the default `spec.server.keyMountPath`.
const KEY_DIR: &str = "/etc/openmetadata/jwtkeys";
/// The operations script as OpenMetadata's image has it.
const OPS: &str = "/opt/openmetadata/bootstrap/openmetadata-ops.sh";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The PostgreSQL server of the suite: started (or found running) by scripts/node/postgres.sh,
/// its port exposed to the pods. Stopped by scripts/test-node.sh when the suites end.
pub struct Postgres {
    /// `DB_*` and `OM_DATABASE` as the pods must set them (host: the node's gateway).
    pub pod_env: BTreeMap<String, String>,
    host_env: BTreeMap<String, String>,
}

impl Postgres {
    /// Starts it (idempotent) and exposes its port to the pods.
    pub fn start() -> anyhow::Result<Self> {
        let script = repo().join("scripts/node/postgres.sh");
        run(&script, &["start"])?;
        let host_env = parse_env(&run(&script, &["env"])?);
        let port = host_env.get("DB_PORT").context("no DB_PORT")?.clone();
        let exposed = run(&repo().join("scripts/node/expose-host-port.sh"), &[&port])?;
        let gateway = exposed
            .lines()
            .last()
            .and_then(|l| l.rsplit_once(':'))
            .map(|(host, _)| host.to_owned())
            .context("expose-host-port.sh printed no address")?;
        let mut pod_env = host_env.clone();
        pod_env.retain(|k, _| k.starts_with("DB_") || k == "OM_DATABASE");
        pod_env.insert("DB_HOST".into(), gateway);
        Ok(Self { pod_env, host_env })
    }

    /// Drops every table the stand-in creates (settings, bots, users, pipelines), so each test
    /// starts from a database no server has started on: a bot made by an earlier test's server
    /// would otherwise keep that server's token, as OpenMetadata's would.
    pub fn forget_server_state(&self) -> anyhow::Result<()> {
        let get = |k: &str| self.host_env.get(k).cloned().unwrap_or_default();
        let out = Command::new("psql")
            .args([
                "-h",
                &get("DB_HOST"),
                "-p",
                &get("DB_PORT"),
                "-U",
                &get("DB_USER"),
                "-d",
                &get("OM_DATABASE"),
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                "DROP TABLE IF EXISTS openmetadata_settings, user_entity, bot_entity, \
                 entity_relationship, ingestion_pipeline_entity, standin_pipeline_deployment",
            ])
            .env("PGPASSWORD", get("DB_USER_PASSWORD"))
            .output()
            .context("run psql")?;
        ensure!(
            out.status.success(),
            "psql: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(())
    }
}

fn run(script: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(script)
        .args(args)
        .output()
        .with_context(|| format!("run {}", script.display()))?;
    if !out.status.success() {
        bail!(
            "{} {args:?}: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `KEY='value'` lines.
fn parse_env(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().trim_matches('\'').to_owned()))
        .collect()
}

/// How a test's server is built.
pub struct Server<'a> {
    /// The OpenMetadata release it plays (its image's tag).
    pub version: &'a str,
    /// Its pods run `remove-security-config --force` before the server starts.
    pub reset: bool,
    /// Mount the keys readable by root only, so the server (non-root) cannot load them.
    pub unreadable_keys: bool,
    /// The database.
    pub db: &'a Postgres,
}

/// The stand-in's Deployment, wired as docs/openmetadata-chart.md asks of a real server: the
/// settings Secret last in `envFrom`, the keys Secret mounted where `RSA_*_FILE_PATH` point, both
/// `optional: false`; OpenMetadata's migration step as an init container, and the reset after it
/// when asked.
pub fn deployment(server: &Server<'_>, replicas: i32) -> Deployment {
    let env: Vec<Value> = server
        .db
        .pod_env
        .iter()
        .map(|(k, v)| json!({"name": k, "value": v}))
        .collect();
    let env_from = json!([{"secretRef": {"name": format!("{NAME}-auth-env"), "optional": false}}]);
    let mounts = json!([{"name": "jwt-keys", "mountPath": KEY_DIR, "readOnly": true}]);
    let container = |name: &str, args: Option<Value>| {
        let mut c = json!({
            "name": name,
            "image": image(server.version),
            "imagePullPolicy": "Never",
            "env": env,
            "envFrom": env_from,
            "volumeMounts": mounts,
            "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
                                "capabilities": {"drop": ["ALL"]}},
        });
        if let Some(args) = args {
            c["command"] = json!([OPS]);
            c["args"] = args;
        }
        c
    };
    let mut init = vec![container("migrate", Some(json!(["migrate"])))];
    if server.reset {
        init.push(container(
            "reset-security-config",
            Some(json!(["remove-security-config", "--force"])),
        ));
    }
    let mut server_container = container("openmetadata", None);
    server_container["ports"] = json!([
        {"name": "http", "containerPort": PORT},
        {"name": "admin", "containerPort": ADMIN_PORT},
    ]);
    server_container["readinessProbe"] =
        json!({"httpGet": {"path": "/healthcheck", "port": "admin"}, "periodSeconds": 2});
    let mut keys = json!({"secretName": format!("{NAME}-jwt-keys"), "optional": false});
    if server.unreadable_keys {
        // Owned by root (no fsGroup), readable by the owner only.
        keys["defaultMode"] = json!(0o400);
    }
    let pod = json!({
        "enableServiceLinks": false,
        "automountServiceAccountToken": false,
        "terminationGracePeriodSeconds": 5,
        "securityContext": {"runAsNonRoot": true, "runAsUser": NONROOT.0, "runAsGroup": NONROOT.1,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "initContainers": init,
        "containers": [server_container],
        "volumes": [{"name": "jwt-keys", "secret": keys}],
    });
    node::placed_deployment(NAME, pod, replicas)
}

/// The same server as a StatefulSet (its pods are the StatefulSet's own, not a ReplicaSet's).
pub fn stateful_set(server: &Server<'_>, replicas: i32) -> k8s_openapi::api::apps::v1::StatefulSet {
    let d = deployment(server, replicas);
    serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": NAME, "labels": {"app": NAME}},
        "spec": {
            "replicas": replicas,
            "serviceName": NAME,
            "podManagementPolicy": "Parallel",
            "selector": {"matchLabels": {"app": NAME}},
            "template": d.spec.template,
        },
    }))
    .expect("a valid StatefulSet")
}

/// The reset init container the pod template of [`deployment`] gets with `reset: true` (with the
/// database `db`: without it the command fails and, as OpenMetadata's, still exits 0), as a JSON
/// patch that adds it after the migration.
pub fn add_reset_patch(db: &Postgres) -> Value {
    let d = deployment(
        &Server {
            version: "1.13.1",
            reset: true,
            unreadable_keys: false,
            db,
        },
        1,
    );
    let reset = d
        .spec
        .template
        .spec
        .and_then(|s| s.init_containers)
        .and_then(|mut c| c.pop())
        .expect("the reset container");
    json!([{"op": "add", "path": "/spec/template/spec/initContainers/-", "value": reset}])
}

/// Counts the packets a user's processes send, by destination: loopback, each of the given pod
/// IPs, and anything else. An iptables chain of its own, jumped to from `OUTPUT` for that user;
/// removed on drop.
pub struct EgressCount {
    chain: String,
    uid: u32,
    pod_ips: Vec<String>,
}

impl EgressCount {
    /// Starts counting the packets of `uid` to `pod_ips`, loopback and the rest.
    pub fn start(uid: u32, pod_ips: &[String]) -> anyhow::Result<Self> {
        let chain = format!("OIDCSSO-EGRESS-{}", std::process::id());
        let count = Self {
            chain: chain.clone(),
            uid,
            pod_ips: pod_ips.to_vec(),
        };
        iptables(&["-N", &chain])?;
        iptables(&["-A", &chain, "-d", "127.0.0.0/8", "-j", "RETURN"])?;
        for ip in pod_ips {
            iptables(&["-A", &chain, "-d", &format!("{ip}/32"), "-j", "RETURN"])?;
        }
        iptables(&["-A", &chain, "-j", "RETURN"])?;
        iptables(&count.jump("-I"))?;
        Ok(count)
    }

    fn jump(&self, op: &str) -> Vec<String> {
        [op, "OUTPUT", "-m", "owner", "--uid-owner"]
            .into_iter()
            .map(str::to_owned)
            .chain([self.uid.to_string(), "-j".into(), self.chain.clone()])
            .collect()
    }

    /// Packets so far: to loopback, to each pod IP (in the order given), to anything else.
    pub fn read(&self) -> anyhow::Result<(u64, Vec<u64>, u64)> {
        let out = iptables(&["-L", &self.chain, "-v", "-n", "-x"])?;
        // Two header lines, then one line per rule in order: the packet count first.
        let counts: Vec<u64> = out
            .lines()
            .skip(2)
            .filter_map(|l| l.split_whitespace().next()?.parse().ok())
            .collect();
        ensure!(
            counts.len() == self.pod_ips.len() + 2,
            "unexpected rules in {}: {out}",
            self.chain
        );
        let loopback = counts[0];
        let other = counts[counts.len() - 1];
        Ok((loopback, counts[1..counts.len() - 1].to_vec(), other))
    }
}

impl Drop for EgressCount {
    fn drop(&mut self) {
        let _ = iptables(&self.jump("-D"));
        let _ = iptables(&["-F", &self.chain]);
        let _ = iptables(&["-X", &self.chain]);
    }
}

fn iptables<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> anyhow::Result<String> {
    let out = Command::new("iptables")
        .args(args)
        .output()
        .context("run iptables")?;
    ensure!(
        out.status.success(),
        "iptables: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
