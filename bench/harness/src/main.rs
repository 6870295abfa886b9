//! Benchmark harness: oidc-sso-operator side by side with Stakater Reloader on the local control
//! plane. Started by scripts/bench/run.sh (`make bench`), which builds everything and passes paths
//! and parameters through the environment (see `Settings::from_env`).
//!
//! `oidc-sso-bench run`: measure, saving results.json after every phase, then print the tables.
//! `oidc-sso-bench report RESULTS DOC`: print the tables and write the benchmarks document.

mod audit;
mod k8s;
mod results;
mod tools;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client};
use oidc_sso_operator::keys::KeyMaterial;

use k8s::{Rng, Watches, app, cred};
use results::{Cold, Keygen, Latency, ROLLOUT_FLOOR, Results, ToolResult, percentile};
use tools::{Kind, Paths, Proc};

struct Settings {
    paths: Paths,
    audit_log: PathBuf,
    out: PathBuf,
    keys_cache: PathBuf,
    quick: bool,
    sizes: Vec<usize>,
    updates: usize,
    warmup: usize,
    noise_updates: usize,
    idle: Duration,
    restart_settle: Duration,
    noise_secrets: usize,
    noise_bytes: usize,
    cold: usize,
    keygen: usize,
    tools: Vec<Kind>,
    phases: Vec<String>,
    update_timeout: Duration,
    command: String,
    versions: BTreeMap<String, String>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn env_num<T: std::str::FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match env(name) {
        Some(v) => v
            .parse()
            .map_err(|_| anyhow::anyhow!("{name}={v} is not a number")),
        None => Ok(default),
    }
}

impl Settings {
    fn from_env() -> anyhow::Result<Self> {
        let quick = env("BENCH_QUICK").is_some_and(|v| v != "0");
        let need =
            |n: &str| env(n).with_context(|| format!("{n} is not set (run scripts/bench/run.sh)"));
        let list = |name: &str, default: &str| -> Vec<String> {
            env(name)
                .unwrap_or_else(|| default.to_string())
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let sizes = list("BENCH_SIZES", if quick { "10,100" } else { "10,100,1000" })
            .iter()
            .map(|s| s.parse().with_context(|| format!("BENCH_SIZES: {s}")))
            .collect::<anyhow::Result<Vec<usize>>>()?;
        let tools = list("BENCH_TOOLS", "operator,reloader")
            .iter()
            .map(|t| Kind::parse(t).with_context(|| format!("BENCH_TOOLS: unknown tool {t}")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let versions = env("BENCH_VERSIONS")
            .unwrap_or_default()
            .split(';')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Ok(Settings {
            paths: Paths {
                operator: need("BENCH_OPERATOR_BIN")?.into(),
                reloader: need("BENCH_RELOADER_BIN")?.into(),
                kubeconfig: need("KUBECONFIG")?.into(),
                logs: PathBuf::from(need("BENCH_OUT")?).join("logs"),
            },
            audit_log: need("BENCH_AUDIT_LOG")?.into(),
            out: need("BENCH_OUT")?.into(),
            keys_cache: need("BENCH_KEYS_CACHE")?.into(),
            sizes,
            updates: env_num("BENCH_UPDATES", if quick { 30 } else { 100 })?,
            warmup: env_num("BENCH_WARMUP", 3)?,
            noise_updates: env_num("BENCH_NOISE_UPDATES", if quick { 20 } else { 100 })?,
            idle: Duration::from_secs(env_num("BENCH_IDLE_SECONDS", if quick { 20 } else { 300 })?),
            restart_settle: Duration::from_secs(env_num(
                "BENCH_RESTART_SETTLE_SECONDS",
                if quick { 10 } else { 30 },
            )?),
            noise_secrets: env_num("BENCH_NOISE_SECRETS", if quick { 1000 } else { 10_000 })?,
            noise_bytes: env_num("BENCH_NOISE_BYTES", 8192)?,
            cold: env_num("BENCH_COLD", if quick { 100 } else { 1000 })?,
            keygen: env_num("BENCH_KEYGEN", if quick { 100 } else { 1000 })?,
            tools,
            phases: list("BENCH_PHASES", "keygen,latency,cold"),
            update_timeout: Duration::from_secs(env_num("BENCH_UPDATE_TIMEOUT_SECONDS", 60)?),
            command: env("BENCH_COMMAND").unwrap_or_else(|| "make bench".into()),
            versions,
            quick,
        })
    }

    fn phase(&self, p: &str) -> bool {
        self.phases.iter().any(|x| x == p)
    }
}

fn log(msg: impl AsRef<str>) {
    eprintln!(
        "[bench {}] {}",
        jiff::Zoned::now().strftime("%H:%M:%S"),
        msg.as_ref()
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("run") => run().await,
        Some("report") if args.len() >= 4 => {
            let r: Results = serde_json::from_str(&std::fs::read_to_string(&args[2])?)?;
            let history = args.get(4).map(PathBuf::from);
            write_docs(&r, Path::new(&args[3]), history.as_deref())?;
            println!("{}", results::tables(&r));
            Ok(())
        }
        _ => bail!("usage: oidc-sso-bench run | report RESULTS.json DOC.md [HISTORY.md]"),
    }
}

async fn run() -> anyhow::Result<()> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let s = Settings::from_env()?;
    std::fs::create_dir_all(&s.out)?;
    let client = Client::try_default()
        .await
        .context("kube client from KUBECONFIG")?;
    for ns in k8s::leftover_namespaces(&client).await? {
        log(format!("deleting {ns}, left by an earlier run"));
        k8s::delete_namespace(&client, &ns).await?;
    }
    let mut r = Results {
        mode: if s.quick { "quick" } else { "full" }.into(),
        command: s.command.clone(),
        started_at: jiff::Timestamp::now().to_string(),
        machine: machine(),
        versions: s.versions.clone(),
        params: results::Params {
            sizes: s.sizes.clone(),
            updates: s.updates,
            warmup_updates: s.warmup,
            noise_updates: s.noise_updates,
            idle_seconds: s.idle.as_secs(),
            restart_settle_seconds: s.restart_settle.as_secs(),
            noise_secrets: s.noise_secrets,
            noise_bytes: s.noise_bytes,
            cold_resources: s.cold,
            keygen_keys: s.keygen,
        },
        ..Default::default()
    };
    let save = |r: &Results| -> anyhow::Result<()> {
        std::fs::write(s.out.join("results.json"), serde_json::to_string_pretty(r)?)?;
        Ok(())
    };
    save(&r)?;
    let seed = jiff::Timestamp::now().as_nanosecond() as u64;
    let mut rng = Rng::new(seed);

    if s.phase("keygen") {
        log(format!("key-generation floor: {} keys", s.keygen));
        match keygen_floor(&s).await {
            Ok(k) => r.keygen = Some(k),
            Err(e) => r.notes.push(format!("key-generation floor failed: {e:#}")),
        }
        save(&r)?;
    }
    if s.phase("latency") {
        let big = s.sizes.iter().copied().max().unwrap_or(0);
        for &tool in &s.tools {
            for &n in &s.sizes {
                let ns = format!("ob-{}-{n}-{}", tool.name(), rng.next() % 100_000);
                log(format!("scenario {} with {n} targets in {ns}", tool.name()));
                let outcome = scenario(&s, &client, &mut r, &mut rng, tool, n, n == big, &ns).await;
                if let Err(e) = outcome {
                    log(format!("scenario failed: {e:#}"));
                    r.notes
                        .push(format!("{} with {n} targets failed: {e:#}", tool.name()));
                }
                save(&r)?;
                log(format!("deleting {ns}"));
                k8s::delete_namespace(&client, &ns).await?;
            }
        }
    }
    if s.phase("cold") {
        // The rollout floor first, then the operator with its own keys, then with generated ones;
        // each in a namespace of its own, deleted afterwards.
        for case in [None, Some(true), Some(false)] {
            let (tag, what) = match case {
                None => (
                    "floor",
                    "rollout floor (no tool, the harness rolls the Deployments)",
                ),
                Some(true) => ("byo", "cold start, own keys"),
                Some(false) => ("gen", "cold start, generated keys"),
            };
            let ns = format!("ob-cold-{tag}-{}", rng.next() % 100_000);
            log(format!("{what}, {} resources, in {ns}", s.cold));
            let outcome = match case {
                None => rollout_floor(&s, &client, &mut rng, &ns).await,
                Some(byo) => cold_start(&s, &client, &mut rng, byo, &ns).await,
            };
            match outcome {
                Ok(c) => r.cold.push(c),
                Err(e) => {
                    log(format!("{what} failed: {e:#}"));
                    r.notes.push(format!("{what} failed: {e:#}"));
                }
            }
            save(&r)?;
            log(format!("deleting {ns}"));
            k8s::delete_namespace(&client, &ns).await?;
        }
    }
    r.finished_at = Some(jiff::Timestamp::now().to_string());
    save(&r)?;
    println!("\n{}", results::tables(&r));
    Ok(())
}

/// One tool on `n` targets: latency; at the largest size also restart, memory, idle writes, and
/// memory again with unrelated Secrets added.
#[allow(clippy::too_many_arguments)]
async fn scenario(
    s: &Settings,
    client: &Client,
    r: &mut Results,
    rng: &mut Rng,
    tool: Kind,
    n: usize,
    big: bool,
    ns: &str,
) -> anyhow::Result<()> {
    let mut proc: Option<Proc> = None;
    let result = scenario_inner(s, client, r, rng, tool, n, big, ns, &mut proc).await;
    if let Some(p) = proc.take() {
        p.stop()?;
    }
    result
}

#[allow(clippy::too_many_arguments)]
async fn scenario_inner(
    s: &Settings,
    client: &Client,
    r: &mut Results,
    rng: &mut Rng,
    tool: Kind,
    n: usize,
    big: bool,
    ns: &str,
    proc: &mut Option<Proc>,
) -> anyhow::Result<()> {
    let rollout_timeout = Duration::from_secs(1200);
    k8s::create_namespace(client, ns).await?;
    k8s::create_workload(client, ns, n, rng.next()).await?;
    let took = k8s::wait_rolled_out(client, ns, n, rollout_timeout).await?;
    log(format!(
        "{n} Deployments rolled out ({:.0} s)",
        took.as_secs_f64()
    ));
    let label = |what: &str| format!("{}-{n}-{what}", tool.name());
    let resources = if tool == Kind::Operator { n } else { 0 };
    *proc = Some(Proc::start(tool, &s.paths, ns, &label("setup"))?);
    if tool == Kind::Operator {
        k8s::create_configs(client, ns, n, false).await?;
        let took = k8s::wait_configs_ready(client, ns, n, rollout_timeout).await?;
        log(format!(
            "{n} OidcSsoConfigs Ready ({:.0} s)",
            took.as_secs_f64()
        ));
    }
    proc.as_mut()
        .unwrap()
        .wait_ready(resources, Duration::from_secs(3))
        .await?;
    k8s::wait_rolled_out(client, ns, n, rollout_timeout).await?;

    let mut result = ToolResult {
        targets: n,
        ..Default::default()
    };
    if big {
        // Restart with nothing changed: count template changes and writes until it settled.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let before = k8s::generations(client, ns).await?;
        let from = jiff::Timestamp::now();
        proc.take().unwrap().stop()?;
        log(format!("restarting {}", tool.name()));
        *proc = Some(Proc::start(tool, &s.paths, ns, &label("restart"))?);
        proc.as_mut()
            .unwrap()
            .wait_ready(resources, s.restart_settle)
            .await?;
        let to = jiff::Timestamp::now();
        let after = k8s::generations(client, ns).await?;
        let rolled = after
            .iter()
            .filter(|(name, g)| before.get(*name).is_some_and(|b| b != *g))
            .count();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (writes, detail) = audit::writes(&s.audit_log, ns, tool.user_agent_prefix(), from, to)?;
        log(format!("restart: {rolled} rollouts, {writes} writes"));
        result.restart_rollouts = Some(rolled as u64);
        result.restart_writes = Some(writes);
        result.restart_detail = detail;
    }

    let l = latency_run(s, client, rng, tool, ns, n, s.updates, "plain").await?;
    r.latency.push(l);

    if big {
        let p = proc.as_ref().unwrap();
        let (hwm, rss) = p.memory_kib()?;
        log(format!("{}: VmHWM {hwm} KiB, VmRSS {rss} KiB", tool.name()));
        result.rss_kib = Some(hwm);
        r.tools.insert(tool.name().into(), result.clone());

        // Idle: let the rollouts of the latency run finish, then count writes.
        k8s::wait_rolled_out(client, ns, n, rollout_timeout).await?;
        if tool == Kind::Operator {
            k8s::wait_configs_ready(client, ns, n, rollout_timeout).await?;
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
        log(format!("idle for {} s", s.idle.as_secs()));
        let from = jiff::Timestamp::now();
        tokio::time::sleep(s.idle).await;
        let to = jiff::Timestamp::now();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (writes, detail) = audit::writes(&s.audit_log, ns, tool.user_agent_prefix(), from, to)?;
        log(format!("idle: {writes} writes"));
        result.idle_seconds = Some(s.idle.as_secs());
        result.idle_writes = Some(writes);
        result.idle_detail = detail;
        r.tools.insert(tool.name().into(), result.clone());

        // Unrelated Secrets in the watched namespace; a fresh process then lists them.
        log(format!(
            "creating {} unrelated {} B Secrets",
            s.noise_secrets, s.noise_bytes
        ));
        let t = Instant::now();
        k8s::create_noise(client, ns, s.noise_secrets, s.noise_bytes, rng.next()).await?;
        log(format!("created in {:.0} s", t.elapsed().as_secs_f64()));
        proc.take().unwrap().stop()?;
        *proc = Some(Proc::start(tool, &s.paths, ns, &label("noise"))?);
        proc.as_mut()
            .unwrap()
            .wait_ready(resources, Duration::from_secs(3))
            .await?;
        let variant = format!("+{} Secrets", s.noise_secrets);
        let l = latency_run(s, client, rng, tool, ns, n, s.noise_updates, &variant).await?;
        r.latency.push(l);
        let (hwm, rss) = proc.as_ref().unwrap().memory_kib()?;
        log(format!(
            "{} with noise: VmHWM {hwm} KiB, VmRSS {rss} KiB",
            tool.name()
        ));
        result.rss_noise_kib = Some(hwm);
        r.tools.insert(tool.name().into(), result);
    }
    Ok(())
}

/// `updates` credential changes, one at a time, each on a target of its own while there are
/// enough targets (else round robin); after `s.warmup` unrecorded ones.
#[allow(clippy::too_many_arguments)]
async fn latency_run(
    s: &Settings,
    client: &Client,
    rng: &mut Rng,
    tool: Kind,
    ns: &str,
    n: usize,
    updates: usize,
    variant: &str,
) -> anyhow::Result<Latency> {
    let mut w = Watches::start(client, ns, false);
    w.wait_synced().await?;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), ns);
    let total = updates + s.warmup;
    let order: Vec<usize> = if n >= total {
        let mut all: Vec<usize> = (0..n).collect();
        for i in 0..total {
            let j = i + rng.below(n - i);
            all.swap(i, j);
        }
        all.truncate(total);
        all
    } else {
        let start = rng.below(n);
        (0..total).map(|k| (start + k) % n).collect()
    };
    log(format!(
        "{}: {updates} updates ({} warm-up) over {n} targets, {variant}",
        tool.name(),
        s.warmup
    ));
    let (mut lat, mut floor, mut timeouts) = (Vec::new(), Vec::new(), 0usize);
    // The round trip of the harness's own Secret PATCH: what one Secret write costs here.
    let mut write = Vec::new();
    for (k, &i) in order.iter().enumerate() {
        let g0 = w
            .seen
            .lock()
            .unwrap()
            .deployments
            .get(&app(i))
            .map(|d| d.0)
            .with_context(|| format!("{} not seen by the watch", app(i)))?;
        let value = format!("secret-{:016x}", rng.next());
        let t0 = Instant::now();
        let rv = k8s::update_credentials(&secrets, i, &value).await?;
        let written_ms = t0.elapsed().as_secs_f64() * 1000.0;
        let (da, ca) = (app(i), cred(i));
        let ok = w
            .wait_for(s.update_timeout, |seen| {
                seen.deployments.get(&da).is_some_and(|d| d.0 > g0)
                    && seen.secrets.get(&ca).is_some_and(|c| c.0 >= rv)
            })
            .await;
        let (f, d) = {
            let seen = w.seen.lock().unwrap();
            let f = seen
                .secrets
                .get(&ca)
                .filter(|c| c.0 >= rv)
                .map(|c| c.1.duration_since(t0).as_secs_f64() * 1000.0);
            let d = seen
                .deployments
                .get(&da)
                .filter(|d| d.0 > g0)
                .map(|d| d.1.duration_since(t0).as_secs_f64() * 1000.0);
            (f, d)
        };
        let measured = k >= s.warmup;
        if measured {
            write.push(written_ms);
            if let Some(f) = f {
                floor.push(f);
            }
            match (ok, d) {
                (true, Some(d)) => lat.push(d),
                _ => timeouts += 1,
            }
        }
        if measured && (k + 1 - s.warmup).is_multiple_of(25) {
            log(format!("  {}/{updates}", k + 1 - s.warmup));
        }
        // Each update is measured on its own: the next one starts once this target has rolled out
        // (and the tool has had time to record that), so no update queues behind another's work.
        w.wait_for(s.update_timeout, |seen| {
            seen.deployments.get(&da).is_some_and(|d| d.0 > g0 && d.2)
        })
        .await;
        tokio::time::sleep(Duration::from_millis(300 + rng.below(100) as u64)).await;
    }
    lat.sort_by(f64::total_cmp);
    floor.sort_by(f64::total_cmp);
    write.sort_by(f64::total_cmp);
    let l = Latency {
        write_p50_ms: percentile(&write, 50.0),
        write_p99_ms: percentile(&write, 99.0),
        tool: tool.name().into(),
        targets: n,
        variant: variant.into(),
        samples: lat.len(),
        timeouts,
        p50_ms: percentile(&lat, 50.0),
        p95_ms: percentile(&lat, 95.0),
        p99_ms: percentile(&lat, 99.0),
        max_ms: lat.last().copied().unwrap_or(f64::NAN),
        floor_p50_ms: percentile(&floor, 50.0),
        floor_p95_ms: percentile(&floor, 95.0),
        floor_p99_ms: percentile(&floor, 99.0),
    };
    log(format!(
        "  {} p50 {:.1} p95 {:.1} p99 {:.1} ms (floor p50 {:.1} p99 {:.1}), {} timed out",
        tool.name(),
        l.p50_ms,
        l.p95_ms,
        l.p99_ms,
        l.floor_p50_ms,
        l.floor_p99_ms,
        timeouts
    ));
    Ok(l)
}

/// What the cold start cannot beat on this machine: the control plane rolling the same `s.cold`
/// Deployments when the harness changes their templates itself (no tool running, no other write).
async fn rollout_floor(
    s: &Settings,
    client: &Client,
    rng: &mut Rng,
    ns: &str,
) -> anyhow::Result<Cold> {
    let n = s.cold;
    k8s::create_namespace(client, ns).await?;
    k8s::create_workload(client, ns, n, rng.next()).await?;
    k8s::wait_rolled_out(client, ns, n, Duration::from_secs(1200)).await?;
    let mut w = Watches::start(client, ns, false);
    w.wait_synced().await?;
    let pid_dir = env("BENCH_CLUSTER_PIDS").map(PathBuf::from);
    let cpu0 = tools::cpu_snapshot(pid_dir.as_deref(), std::process::id());
    let t0 = Instant::now();
    k8s::patch_templates(client, ns, n, &format!("{:x}", rng.next())).await?;
    let create_s = t0.elapsed().as_secs_f64();
    let all_rolled = |seen: &k8s::Seen| {
        seen.deployments.len() >= n && seen.deployments.values().all(|d| d.0 >= 2 && d.2)
    };
    if !w.wait_for(Duration::from_secs(1800), all_rolled).await {
        bail!("not all {n} Deployments rolled out within 30 min");
    }
    let ready_s = t0.elapsed().as_secs_f64();
    let cpu1 = tools::cpu_snapshot(pid_dir.as_deref(), std::process::id());
    let cpu_s: BTreeMap<String, f64> = cpu1
        .iter()
        .filter(|(k, _)| k.as_str() != "tool")
        .filter_map(|(k, v)| Some((k.clone(), v - cpu0.get(k)?)))
        .collect();
    log(format!(
        "rollout floor: all patched {create_s:.1} s, all rolled out {ready_s:.1} s; CPU {cpu_s:?}"
    ));
    Ok(Cold {
        keys: ROLLOUT_FLOOR.into(),
        resources: n,
        create_s,
        patched_s: create_s,
        ready_s,
        rss_kib: 0,
        cpu_s,
        keygen_parallelism: 0,
        requests: BTreeMap::new(),
        reconciles: BTreeMap::new(),
    })
}

/// The operator alone: `s.cold` new resources on existing, rolled-out targets, until all `Ready`.
async fn cold_start(
    s: &Settings,
    client: &Client,
    rng: &mut Rng,
    byo: bool,
    ns: &str,
) -> anyhow::Result<Cold> {
    let n = s.cold;
    k8s::create_namespace(client, ns).await?;
    k8s::create_workload(client, ns, n, rng.next()).await?;
    if byo {
        let pems = byo_keys(s, n).await?;
        k8s::create_key_secrets(client, ns, &pems[..n]).await?;
    }
    k8s::wait_rolled_out(client, ns, n, Duration::from_secs(1200)).await?;
    let mut proc = Proc::start(
        Kind::Operator,
        &s.paths,
        ns,
        &format!("operator-cold-{}", if byo { "byo" } else { "generated" }),
    )?;
    let result = async {
        proc.wait_ready(0, Duration::from_secs(2)).await?;
        let mut w = Watches::start(client, ns, true);
        w.wait_synced().await?;
        let pid_dir = env("BENCH_CLUSTER_PIDS").map(PathBuf::from);
        let cpu0 = tools::cpu_snapshot(pid_dir.as_deref(), proc.pid);
        let started_at = jiff::Timestamp::now();
        let t0 = Instant::now();
        k8s::create_configs(client, ns, n, byo).await?;
        let create_s = t0.elapsed().as_secs_f64();
        log(format!("{n} created in {create_s:.1} s"));
        if !w
            .wait_for(Duration::from_secs(1800), |seen| seen.ready.len() >= n)
            .await
        {
            bail!("not all {n} resources Ready within 30 min");
        }
        let cpu1 = tools::cpu_snapshot(pid_dir.as_deref(), proc.pid);
        let cpu_s: BTreeMap<String, f64> = cpu1
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v - cpu0.get(k)?)))
            .collect();
        log(format!("CPU seconds during the cold start: {cpu_s:?}"));
        let last = |it: &mut dyn Iterator<Item = Instant>| {
            it.max()
                .map_or(f64::NAN, |t| t.duration_since(t0).as_secs_f64())
        };
        let (ready_s, patched_s) = {
            let seen = w.seen.lock().unwrap();
            (
                last(&mut seen.ready.values().copied()),
                last(&mut seen.deployments.values().filter(|d| d.0 >= 2).map(|d| d.1)),
            )
        };
        let (hwm, _) = proc.memory_kib()?;
        log(format!(
            "cold start: patched {patched_s:.1} s, Ready {ready_s:.1} s, VmHWM {hwm} KiB"
        ));
        // The tool's requests from the first create to now, from the audit log (which the
        // apiserver writes a moment after answering: give it that moment).
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (total, requests) = audit::count(
            &s.audit_log,
            ns,
            Kind::Operator.user_agent_prefix(),
            started_at,
            jiff::Timestamp::now(),
            audit::WRITES_AND_GETS,
        )?;
        log(format!(
            "cold start: {total} requests ({:.2} per resource): {requests:?}",
            total as f64 / n as f64
        ));
        let mut reconciles = proc.metric_family("oidc_sso_reconcile_triggers_total");
        if let Some(count) = proc.metric("oidc_sso_reconciles_total") {
            reconciles.insert("reconciles".into(), count as u64);
        }
        log(format!(
            "cold start: reconciles and triggers: {reconciles:?}"
        ));
        Ok(Cold {
            keys: if byo { "bring-your-own" } else { "generated" }.into(),
            resources: n,
            create_s,
            patched_s,
            ready_s,
            rss_kib: hwm,
            cpu_s,
            keygen_parallelism: std::thread::available_parallelism().map_or(1, |p| p.get()),
            requests,
            reconciles,
        })
    }
    .await;
    proc.stop()?;
    result
}

fn generate_keys(count: usize, threads: usize) -> anyhow::Result<Vec<String>> {
    let next = AtomicUsize::new(0);
    let out = std::sync::Mutex::new(Vec::with_capacity(count));
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| -> anyhow::Result<()> {
                    while next.fetch_add(1, Ordering::Relaxed) < count {
                        let k = KeyMaterial::generate(None)?;
                        out.lock().unwrap().push(k.private_pem().to_string());
                    }
                    Ok(())
                })
            })
            .collect();
        for w in workers {
            w.join().expect("keygen thread")?;
        }
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(out.into_inner().unwrap())
}

/// `s.keygen` key pairs with the operator's own `KeyMaterial::generate` on every core, nothing
/// else running in this process; and a one-core sample.
async fn keygen_floor(s: &Settings) -> anyhow::Result<Keygen> {
    let count = s.keygen;
    let threads = std::thread::available_parallelism().map_or(1, |p| p.get());
    let sample = if s.quick { 5 } else { 20 };
    tokio::task::spawn_blocking(move || -> anyhow::Result<(Keygen, Vec<String>)> {
        let t = Instant::now();
        generate_keys(sample, 1)?;
        let single = t.elapsed().as_secs_f64() * 1000.0 / sample as f64;
        let t = Instant::now();
        let pems = generate_keys(count, threads)?;
        let total_s = t.elapsed().as_secs_f64();
        log(format!(
            "{count} keys on {threads} threads: {total_s:.1} s; one core: {single:.1} ms per key"
        ));
        Ok((
            Keygen {
                keys: count,
                threads,
                total_s,
                single_core_ms_per_key: single,
                single_core_sample: sample,
            },
            pems,
        ))
    })
    .await?
    .and_then(|(k, pems)| {
        save_keys(&s.keys_cache, pems)?;
        Ok(k)
    })
}

fn save_keys(path: &Path, pems: Vec<String>) -> anyhow::Result<()> {
    let mut existing = load_keys(path);
    if pems.len() > existing.len() {
        existing = pems;
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, serde_json::to_string(&existing)?)?;
    Ok(())
}

fn load_keys(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// `n` private keys for the bring-your-own case (cached between runs; made when missing).
async fn byo_keys(s: &Settings, n: usize) -> anyhow::Result<Vec<String>> {
    let mut pems = load_keys(&s.keys_cache);
    if pems.len() < n {
        let missing = n - pems.len();
        log(format!(
            "generating {missing} keys for the bring-your-own case"
        ));
        let threads = std::thread::available_parallelism().map_or(1, |p| p.get());
        let more = tokio::task::spawn_blocking(move || generate_keys(missing, threads)).await??;
        pems.extend(more);
        save_keys(&s.keys_cache, pems.clone())?;
    }
    Ok(pems)
}

fn machine() -> results::Machine {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    let mem_kib: f64 = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    let os = read("/etc/os-release")
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_string())
        .unwrap_or_default();
    results::Machine {
        cpu,
        cores: std::thread::available_parallelism().map_or(1, |p| p.get()),
        memory_gib: (mem_kib / 1024.0 / 1024.0 * 10.0).round() / 10.0,
        kernel: read("/proc/sys/kernel/osrelease").trim().to_string(),
        os,
    }
}

fn write_docs(r: &Results, doc: &Path, history: Option<&Path>) -> anyhow::Result<()> {
    let template = include_str!("../doc-template.md");
    let m = &r.machine;
    let versions = r
        .versions
        .iter()
        .map(|(k, v)| format!("- {k}: {v}"))
        .collect::<Vec<_>>()
        .join("\n");
    let notes = if r.notes.is_empty() {
        "None.".to_string()
    } else {
        r.notes
            .iter()
            .map(|n| format!("- {n}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let history = history
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default();
    let p = &r.params;
    let text = template
        .replace("{{TABLES}}", results::tables(r).trim_end())
        .replace("{{COMMAND}}", &r.command)
        .replace("{{MODE}}", &r.mode)
        .replace("{{STARTED}}", &r.started_at)
        .replace(
            "{{FINISHED}}",
            r.finished_at.as_deref().unwrap_or("(unfinished)"),
        )
        .replace(
            "{{MACHINE}}",
            &format!(
                "{} cores ({}), {} GiB memory, {}, Linux {}",
                m.cores, m.cpu, m.memory_gib, m.os, m.kernel
            ),
        )
        .replace("{{VERSIONS}}", &versions)
        .replace("{{UPDATES}}", &p.updates.to_string())
        .replace("{{WARMUP}}", &p.warmup_updates.to_string())
        .replace("{{NOISE_UPDATES}}", &p.noise_updates.to_string())
        .replace("{{IDLE}}", &p.idle_seconds.to_string())
        .replace("{{SETTLE}}", &p.restart_settle_seconds.to_string())
        .replace("{{NOISE}}", &p.noise_secrets.to_string())
        .replace("{{NOISE_KIB}}", &(p.noise_bytes / 1024).to_string())
        .replace("{{NOTES}}", &notes)
        .replace("{{HISTORY}}", history.trim_end());
    std::fs::write(doc, text)?;
    Ok(())
}
