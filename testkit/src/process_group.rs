//! A provider process (and whatever it starts) in a process group of its own, behind a small
//! shell that ends the group once its stdin closes: when the handle is dropped, and also when the
//! test process dies, so an aborted run leaves nothing behind.

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use std::os::unix::process::CommandExt;

use anyhow::{Context, Result, bail, ensure};

/// Starts the program (`$0 $@`) in the background and a watcher that terminates the whole group
/// once stdin reaches end of file; exits with the program's status when the program ends first.
/// Stdin is kept on fd 3 for the watcher: POSIX gives an asynchronous list /dev/null as stdin
/// before its own redirections.
const WRAPPER: &str = r#"exec 3<&0
"$0" "$@" </dev/null 3<&- & program=$!
( while read -r _; do :; done; kill -TERM 0 ) <&3 & watcher=$!
exec 3<&-
wait "$program"; status=$?
kill "$watcher" 2>/dev/null
exit "$status""#;

/// A running group; dropping it stops the group (TERM, then KILL after 20 s).
pub struct ProcessGroup {
    child: Option<Child>,
    stdin: Option<ChildStdin>,
}

impl ProcessGroup {
    /// Starts `program args` with `envs` added, its output appended to `log`.
    pub fn spawn(
        program: &Path,
        args: &[String],
        envs: &[(&str, &str)],
        log: File,
    ) -> Result<Self> {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(WRAPPER)
            .arg(program)
            .args(args)
            .envs(envs.iter().copied())
            .stdin(Stdio::piped())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0)
            .spawn()
            .with_context(|| format!("spawning {}", program.display()))?;
        let stdin = child.stdin.take();
        Ok(Self {
            child: Some(child),
            stdin,
        })
    }

    /// Starts `program args` with `envs` added, its output in a new file `log_path`, and waits
    /// until `ready_url` answers 2xx (see [`ProcessGroup::wait_serving`]).
    pub async fn start_serving(
        program: &Path,
        args: &[String],
        envs: &[(&str, &str)],
        log_path: &Path,
        ready_url: &str,
        timeout: Duration,
    ) -> Result<Self> {
        let log = File::create(log_path)?;
        let mut process = Self::spawn(program, args, envs, log)?;
        let read_log = || std::fs::read_to_string(log_path).unwrap_or_default();
        process.wait_serving(ready_url, timeout, read_log).await?;
        Ok(process)
    }

    /// `program serve <dir>/config.yaml` (a Go server's usual command line) with `config` written
    /// there as JSON, which YAML readers take; output in `<dir>/server.log` ([`server_log`]);
    /// waits until `ready_url` answers 2xx.
    pub async fn serve_config(
        program: &Path,
        config: &serde_json::Value,
        dir: &Path,
        ready_url: &str,
        timeout: Duration,
    ) -> Result<Self> {
        let config_path = dir.join("config.yaml");
        std::fs::write(&config_path, config.to_string())?;
        let args = ["serve".to_string(), config_path.display().to_string()];
        Self::start_serving(
            program,
            &args,
            &[],
            &dir.join(SERVER_LOG),
            ready_url,
            timeout,
        )
        .await
    }

    /// The exit status of the shell, once the program has ended.
    pub fn try_wait(&mut self) -> Result<Option<ExitStatus>> {
        match self.child.as_mut() {
            Some(child) => Ok(child.try_wait()?),
            None => Ok(None),
        }
    }

    /// Waits until `url` answers 2xx; fails with `log()` when the program ends first or
    /// `timeout` passes.
    pub async fn wait_serving(
        &mut self,
        url: &str,
        timeout: Duration,
        log: impl Fn() -> String,
    ) -> Result<()> {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(r) = http.get(url).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            if let Some(status) = self.try_wait()? {
                bail!("exited with {status} before serving {url}:\n{}", log());
            }
            if Instant::now() > deadline {
                bail!("not serving {url} after {timeout:?}:\n{}", log());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// The log file of a [`ProcessGroup::serve_config`] server in its folder.
pub const SERVER_LOG: &str = "server.log";

/// The log so far of the [`ProcessGroup::serve_config`] server in `dir` (for failure messages).
pub fn server_log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join(SERVER_LOG)).unwrap_or_default()
}

/// A port free on 127.0.0.1 right now (the program binds it a moment later).
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Runs `start` on a port free on 127.0.0.1; when something else took that port before the
/// program bound it (its start fails with "address already in use"), tries another, three times
/// in all.
pub async fn on_a_free_port<T, F, Fut>(mut start: F) -> Result<T>
where
    F: FnMut(u16) -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut attempt = 1;
    loop {
        match start(free_port()?).await {
            Err(e) if attempt < 3 && format!("{e:#}").contains("ddress already in use") => {
                attempt += 1;
            }
            other => return other,
        }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        // Closing stdin makes the shell terminate its group; wait for the rest to go, and kill
        // what is left after 20 s (the group's id is the shell's PID, recorded at spawn).
        self.stdin = None;
        if let Some(mut child) = self.child.take() {
            let group = format!("-{}", child.id());
            let _ = child.wait();
            let alive = || signal_group("0", &group);
            let deadline = Instant::now() + Duration::from_secs(20);
            while alive() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(200));
            }
            if alive() {
                signal_group("KILL", &group);
            }
        }
    }
}

/// `kill -s <signal> -- -<pgid>`; true when the group exists (signal "0" only checks).
fn signal_group(signal: &str, group: &str) -> bool {
    Command::new("kill")
        .args(["-s", signal, "--", group])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `scripts/<script> args...` of this checkout (one that installs or builds a program once and
/// prints where it is) and returns the path it printed.
pub fn installed(script: &str, args: &[&str]) -> Result<PathBuf> {
    let script = crate::tools::repo_root().join("scripts").join(script);
    let output = run_ok(Command::new("bash").arg(&script).args(args))?;
    Ok(PathBuf::from(
        String::from_utf8(output.stdout)?.trim().to_string(),
    ))
}

/// Runs `cmd` to its end; its output, or an error with its stderr when it fails.
pub fn run_ok(cmd: &mut Command) -> Result<Output> {
    let output = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    ensure!(
        output.status.success(),
        "{cmd:?} failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(output)
}
