//! End-to-end: two operator processes with `--leader-elect` on the same Lease (as two replicas of
//! the chart's Deployment would run). One reconciles, the other stands by (ready, not
//! reconciling); when the leader is killed (SIGKILL, no chance to release) the standby takes over
//! within the lease duration and the scenario goes on; a leader that shuts down gracefully
//! releases the Lease, so the standby takes over at once.

use crate::support::cluster;
use crate::support::operator;
use std::time::{Duration, Instant};

use crate::support::cluster::TestNamespace;
use crate::support::operator::Operator;
use crate::support::scenario::Scenario;
use anyhow::{Context as _, ensure};
use k8s_openapi::api::coordination::v1::Lease;
use kube::{Api, Client};

/// Short, so the takeover after a kill is quick to observe; the chart's default is 15s.
const LEASE_DURATION: Duration = Duration::from_secs(6);

struct Pair {
    client: Client,
    ns: TestNamespace,
    lease: String,
    ops: Vec<Operator>,
}

impl Pair {
    /// Two operators for one namespace, competing for one Lease there.
    async fn start(prefix: &str, lease_duration: Duration) -> Pair {
        let client = cluster::client().await;
        operator::install_crd(&client).await;
        let ns = TestNamespace::create(&client, prefix).await.unwrap();
        let lease = "oidc-sso-operator".to_string();
        let duration = format!("{}s", lease_duration.as_secs());
        let args = [
            "--leader-elect",
            "--lease-namespace",
            ns.name(),
            "--lease-name",
            &lease,
            "--lease-duration",
            &duration,
        ];
        let mut ops = Vec::new();
        for _ in 0..2 {
            ops.push(Operator::start(cluster::require_kubeconfig(), ns.name(), &args).await);
        }
        Pair {
            client,
            ns,
            lease,
            ops,
        }
    }

    async fn holder(&self) -> anyhow::Result<Option<String>> {
        Ok(
            Api::<Lease>::namespaced(self.client.clone(), self.ns.name())
                .get_opt(&self.lease)
                .await?
                .and_then(|l| l.spec)
                .and_then(|s| s.holder_identity),
        )
    }

    /// Waits until some replica holds the Lease, and exactly one reports itself leader; returns
    /// (index of the leader in `ops`, its identity).
    async fn wait_leader(&self, timeout: Duration) -> (usize, String) {
        cluster::wait_for("one leader", timeout, || async {
            let holder = self.holder().await?.context("the Lease has no holder")?;
            let mut leaders = Vec::new();
            for (i, op) in self.ops.iter().enumerate() {
                if op.metric("oidc_sso_leader").await == 1.0 {
                    leaders.push(i);
                }
            }
            ensure!(leaders.len() == 1, "leaders by metric: {leaders:?}");
            Ok((leaders[0], holder))
        })
        .await
    }
}

/// The PID in an identity `<hostname>-<pid>` (the default outside a cluster).
fn pid_of(identity: &str) -> u32 {
    identity
        .rsplit('-')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("identity {identity:?} does not end in a PID"))
}

async fn ready(op: &Operator) -> bool {
    reqwest::get(format!("{}/readyz", op.url()))
        .await
        .is_ok_and(|r| r.status().is_success())
}

#[tokio::test]
async fn the_standby_takes_over_within_the_lease_duration_when_the_leader_is_killed() {
    let pair = Pair::start("ha-kill", LEASE_DURATION).await;
    let (leader, identity) = pair.wait_leader(cluster::DEFAULT_TIMEOUT).await;
    let standby = 1 - leader;
    // Both serve probes and become ready (each once it has joined the election): a standby's
    // job is to be able to take over.
    for (who, i) in [("the standby", standby), ("the leader", leader)] {
        cluster::wait_for(
            &format!("{who} to be ready"),
            cluster::DEFAULT_TIMEOUT,
            || async {
                ensure!(ready(&pair.ops[i]).await, "not ready");
                Ok(())
            },
        )
        .await;
    }

    let scenario = Scenario::new(&pair.client, pair.ns.name());
    let first = scenario.run_to_ready().await;
    assert!(pair.ops[leader].metric("oidc_sso_reconciles_total").await > 0.0);
    assert_eq!(
        pair.ops[standby].metric("oidc_sso_reconciles_total").await,
        0.0,
        "the standby never reconciles"
    );
    // The operations metrics, on the replica that works.
    let leader_metrics = pair.ops[leader].metrics().await;
    assert_eq!(
        pair.ops[leader]
            .metric("oidc_sso_rollouts_triggered_total")
            .await,
        1.0
    );
    assert_eq!(pair.ops[leader].metric("oidc_sso_jwt_keys").await, 1.0);
    assert!(
        leader_metrics.contains("oidc_sso_jwt_key_oldest_age_seconds")
            && leader_metrics.contains("oidc_sso_reconcile_duration_seconds_bucket"),
        "{leader_metrics}"
    );
    let standby_metrics = pair.ops[standby].metrics().await;
    assert!(
        !standby_metrics.contains("oidc_sso_jwt_keys"),
        "{standby_metrics}"
    );
    assert_eq!(pair.ops[standby].metric("oidc_sso_leader").await, 0.0);

    // SIGKILL: the Lease is not released, the standby must wait for it to expire.
    let pid = pid_of(&identity);
    let status = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let killed = Instant::now();
    let new_holder = cluster::wait_for(
        "the standby to take over",
        cluster::DEFAULT_TIMEOUT,
        || async {
            let h = pair.holder().await?.unwrap_or_default();
            ensure!(!h.is_empty() && h != identity, "holder is {h:?}");
            Ok(h)
        },
    )
    .await;
    let took = killed.elapsed();
    eprintln!("killed {identity}; {new_holder} took over after {took:?}");
    assert_ne!(new_holder, identity);
    // Expiry plus the standby's release/acquire round (up to a second) and polling slack.
    assert!(
        took <= LEASE_DURATION + Duration::from_secs(5),
        "takeover took {took:?} with a lease of {LEASE_DURATION:?}"
    );
    assert_ne!(pid_of(&new_holder), pid_of(&identity));

    // A change after the kill is reconciled by the new leader: exactly one more rollout.
    scenario.put_credentials("second-secret").await;
    let second = scenario.wait_new_hash(&first).await;
    assert_ne!(second, first);
    assert_eq!(scenario.replica_sets().await, 3, "one rollout per change");
    assert_eq!(scenario.template_hash().await, Some(second));
    assert!(pair.ops[standby].metric("oidc_sso_reconciles_total").await > 0.0);
    assert_eq!(pair.ops[standby].metric("oidc_sso_leader").await, 1.0);
}

#[tokio::test]
async fn a_leader_that_shuts_down_releases_the_lease_so_the_standby_takes_over_at_once() {
    // A long lease: a takeover well before it ends proves the release.
    let lease = Duration::from_secs(60);
    let mut pair = Pair::start("ha-release", lease).await;
    let (leader, identity) = pair.wait_leader(cluster::DEFAULT_TIMEOUT).await;
    let scenario = Scenario::new(&pair.client, pair.ns.name());
    scenario.run_to_ready().await;

    let stopped = Instant::now();
    pair.ops[leader].stop(); // SIGTERM, waits for the exit
    let logs = pair.ops[leader].logs();
    assert!(logs.contains("released the Lease"), "{logs}");
    cluster::wait_for(
        "the standby to take over",
        cluster::DEFAULT_TIMEOUT,
        || async {
            let h = pair.holder().await?.unwrap_or_default();
            ensure!(!h.is_empty() && h != identity, "holder is {h:?}");
            Ok(())
        },
    )
    .await;
    let took = stopped.elapsed();
    eprintln!("{identity} stopped; taken over after {took:?}");
    assert!(
        took < Duration::from_secs(20),
        "takeover took {took:?}: the Lease was not released"
    );
    // The new leader finds nothing to change: no rollout.
    let standby = 1 - leader;
    pair.ops[standby].wait_reconciles_after(0.0, 1.0).await;
    cluster::assert_stays(
        "a leader change never rolls (ReplicaSets)",
        cluster::QUIET_WINDOW,
        2,
        || scenario.replica_sets(),
    )
    .await;
    assert_eq!(
        pair.ops[standby]
            .metric("oidc_sso_rollouts_triggered_total")
            .await,
        0.0
    );
}

#[tokio::test]
async fn a_leader_that_loses_the_lease_stops_at_once() {
    let client = cluster::client().await;
    operator::install_crd(&client).await;
    let ns = TestNamespace::create(&client, "ha-lost").await.unwrap();
    let op = Operator::start(
        cluster::require_kubeconfig(),
        ns.name(),
        &[
            "--leader-elect",
            "--lease-namespace",
            ns.name(),
            "--lease-duration",
            "6s",
        ],
    )
    .await;
    cluster::wait_for("the operator to lead", DEFAULT_TIMEOUT_SHORT, || async {
        ensure!(op.metric("oidc_sso_leader").await == 1.0, "not leading");
        Ok(())
    })
    .await;

    // Another holder takes the Lease over (as after a network partition that outlasted it).
    // MicroTime: the API wants microseconds, exactly.
    let now = serde_json::to_value(k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime(
        jiff::Timestamp::now(),
    ))
    .unwrap();
    let leases: Api<Lease> = Api::namespaced(client.clone(), ns.name());
    leases
        .patch(
            "oidc-sso-operator",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(serde_json::json!({"spec": {
                "holderIdentity": "intruder",
                "acquireTime": now,
                "renewTime": now,
                "leaseDurationSeconds": 60,
            }})),
        )
        .await
        .unwrap();
    cluster::wait_for("the operator to stop", DEFAULT_TIMEOUT_SHORT, || async {
        let alive = reqwest::get(format!("{}/healthz", op.url())).await.is_ok();
        ensure!(!alive, "still serving");
        Ok(())
    })
    .await;
    let logs = op.logs();
    assert!(logs.contains("lost the Lease"), "{logs}");
    let holder = leases
        .get("oidc-sso-operator")
        .await
        .unwrap()
        .spec
        .and_then(|s| s.holder_identity);
    assert_eq!(
        holder.as_deref(),
        Some("intruder"),
        "the lost Lease is left alone"
    );
}

const DEFAULT_TIMEOUT_SHORT: Duration = Duration::from_secs(30);
