//! The two tools under test as child processes: started, waited on, measured (VmHWM) and stopped
//! by their own PID only.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Operator,
    Reloader,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Operator => "operator",
            Kind::Reloader => "reloader",
        }
    }
    /// How the tool's requests show up in the apiserver's audit log.
    pub fn user_agent_prefix(self) -> &'static str {
        match self {
            Kind::Operator => "oidc-sso-operator/",
            // client-go's default: "<binary name>/<version> (<os>/<arch>) kubernetes/<commit>".
            Kind::Reloader => "reloader/",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "operator" => Some(Kind::Operator),
            "reloader" => Some(Kind::Reloader),
            _ => None,
        }
    }
}

/// Reloader serves /metrics and /live on this port on all interfaces; it has no flag to change it.
pub const RELOADER_HTTP_PORT: u16 = 9090;

pub struct Paths {
    pub operator: PathBuf,
    pub reloader: PathBuf,
    pub kubeconfig: PathBuf,
    pub logs: PathBuf,
}

pub struct Proc {
    pub kind: Kind,
    child: Child,
    pub pid: u32,
    http: SocketAddr,
    log: PathBuf,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Proc {
    /// Starts `kind` watching only `ns`; output goes to `<logs>/<label>.log`.
    pub fn start(kind: Kind, paths: &Paths, ns: &str, label: &str) -> anyhow::Result<Proc> {
        std::fs::create_dir_all(&paths.logs)?;
        let log = paths.logs.join(format!("{label}.log"));
        let out = std::fs::File::create(&log)?;
        let (mut cmd, http) = match kind {
            Kind::Operator => {
                let port = free_port()?;
                let mut cmd = Command::new(&paths.operator);
                // The proof off: kwok's pods have no server behind their IPs, so with it on no
                // resource would ever be Ready (Reloader proves nothing either; the proof's own
                // cost is measured by the node benchmark in docs/benchmarks.md).
                cmd.args(["run", "--provider-allowed-networks", "127.0.0.1/32"])
                    .args(["--server-proof=false"])
                    .args(["--namespace", ns, "--http-addr"])
                    .arg(format!("127.0.0.1:{port}"));
                (cmd, SocketAddr::from(([127, 0, 0, 1], port)))
            }
            Kind::Reloader => {
                if TcpStream::connect(("127.0.0.1", RELOADER_HTTP_PORT)).is_ok() {
                    bail!(
                        "port {RELOADER_HTTP_PORT} is in use; Reloader listens there and cannot be moved"
                    );
                }
                let mut cmd = Command::new(&paths.reloader);
                cmd.arg("--reload-strategy=annotations")
                    .arg(format!("--namespaces={ns}"))
                    .arg("--log-level=info")
                    // Its meta-info ConfigMap goes to the watched namespace (counted there).
                    .env("RELOADER_NAMESPACE", ns)
                    .env_remove("KUBERNETES_NAMESPACE");
                (cmd, SocketAddr::from(([127, 0, 0, 1], RELOADER_HTTP_PORT)))
            }
        };
        cmd.env("KUBECONFIG", &paths.kubeconfig)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out);
        let child = cmd
            .spawn()
            .with_context(|| format!("start {}", kind.name()))?;
        let pid = child.id();
        Ok(Proc {
            kind,
            child,
            pid,
            http,
            log,
        })
    }

    fn alive(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "{} exited ({status}); see {}",
                self.kind.name(),
                self.log.display()
            );
        }
        Ok(())
    }

    /// Ready to act on changes: the operator's /readyz answers 200 and it has reconciled every one
    /// of `resources` since it started (then its counter stays put for 3 s); Reloader has started
    /// its Secret controller and serves /metrics (then `settle`).
    pub async fn wait_ready(&mut self, resources: usize, settle: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            self.alive()?;
            if Instant::now() > deadline {
                bail!("{} not ready after 600 s", self.kind.name());
            }
            let ok = match self.kind {
                Kind::Operator => http_get(self.http, "/readyz").is_ok_and(|(code, _)| code == 200),
                Kind::Reloader => {
                    let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                    log.contains("resource type: secrets")
                        && http_get(self.http, "/metrics").is_ok_and(|(code, _)| code == 200)
                }
            };
            if ok {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if self.kind == Kind::Operator {
            let mut last = (f64::NAN, Instant::now());
            loop {
                self.alive()?;
                if Instant::now() > deadline {
                    bail!("operator did not reconcile {resources} resources within 600 s");
                }
                let n = self.metric("oidc_sso_reconciles_total").unwrap_or(0.0);
                if n != last.0 {
                    last = (n, Instant::now());
                } else if n >= resources as f64 && last.1.elapsed() >= Duration::from_secs(3) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
        tokio::time::sleep(settle).await;
        self.alive()
    }

    /// A sample of the tool's /metrics (the first series with that name).
    pub fn metric(&self, name: &str) -> Option<f64> {
        let (_, body) = http_get(self.http, "/metrics").ok()?;
        body.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let series_name = series.split('{').next()?;
            (series_name == name).then(|| value.parse().ok())?
        })
    }

    /// Every sample of a counter family by its one label's value (the label-less sample under
    /// the family's name).
    pub fn metric_family(&self, name: &str) -> BTreeMap<String, u64> {
        let Ok((_, body)) = http_get(self.http, "/metrics") else {
            return BTreeMap::new();
        };
        body.lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let (series, value) = l.rsplit_once(' ')?;
                let (series_name, labels) = series.split_once('{').unwrap_or((series, ""));
                if series_name != name {
                    return None;
                }
                let label = labels
                    .split_once('"')
                    .and_then(|(_, rest)| rest.split_once('"'))
                    .map_or(name, |(v, _)| v);
                Some((label.to_string(), value.parse::<f64>().ok()? as u64))
            })
            .collect()
    }

    /// Peak resident set size (VmHWM) and current RSS (VmRSS), KiB.
    pub fn memory_kib(&self) -> anyhow::Result<(u64, u64)> {
        status_kib(self.pid)
    }

    /// SIGTERM to this PID, then SIGKILL after 15 s.
    pub fn stop(mut self) -> anyhow::Result<()> {
        if self.child.try_wait()?.is_none() {
            // SAFETY: kill(2) on the PID of our own child, which has not been reaped yet.
            unsafe {
                libc::kill(self.pid as libc::pid_t, libc::SIGTERM);
            }
            let deadline = Instant::now() + Duration::from_secs(15);
            while self.child.try_wait()?.is_none() {
                if Instant::now() > deadline {
                    self.child.kill()?;
                    self.child.wait()?;
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Ok(())
    }
}

/// CPU time (user + system) a process has used, in seconds.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Some(ticks / hz)
}

/// CPU seconds used so far by the tool, the harness, and each control-plane component whose PID
/// file is in `pid_dir` (the local cluster's `.cluster/pids`).
pub fn cpu_snapshot(pid_dir: Option<&std::path::Path>, tool: u32) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    if let Some(dir) = pid_dir
        && let Ok(entries) = std::fs::read_dir(dir)
    {
        for e in entries.flatten() {
            let name = e
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".pid")
                .to_string();
            let pid = std::fs::read_to_string(e.path())
                .ok()
                .and_then(|p| p.trim().parse().ok());
            if let Some(cpu) = pid.and_then(cpu_seconds) {
                out.insert(name, cpu);
            }
        }
    }
    if let Some(cpu) = cpu_seconds(tool) {
        out.insert("tool".into(), cpu);
    }
    if let Some(cpu) = cpu_seconds(std::process::id()) {
        out.insert("harness".into(), cpu);
    }
    out
}

pub fn status_kib(pid: u32) -> anyhow::Result<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| {
        status.lines().find_map(|l| {
            l.strip_prefix(name)?
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
    };
    match (field("VmHWM:"), field("VmRSS:")) {
        (Some(h), Some(r)) => Ok((h, r)),
        _ => bail!("no VmHWM/VmRSS in /proc/{pid}/status"),
    }
}

/// A plain HTTP/1.0 GET on loopback.
pub fn http_get(addr: SocketAddr, path: &str) -> anyhow::Result<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut buf = String::new();
    s.read_to_string(&mut buf)?;
    let code = buf
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = buf
        .split_once("\r\n\r\n")
        .map(|x| x.1)
        .unwrap_or("")
        .to_string();
    Ok((code, body))
}
