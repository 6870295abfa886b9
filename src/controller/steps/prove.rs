//! Prove: once every target is rolled out, ask each ready pod of each target's current revision
//! whether it runs the rendering (`crate::proof`), and sum up what the pods prove per target.
//!
//! IO: one pod list per target (by its selector, in the resource's namespace) and three GETs per
//! pod at its own IP ([`crate::proof::ask`]). A pod that does not answer is asked again with
//! backoff until [`DEADLINE`] after it became Ready; after that it counts as not answering.

use std::time::Duration;

use futures::StreamExt;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use kube::api::ListParams;
use kube::{Api, Client};

use crate::controller::steps::rollout::workloads::Target;
use crate::crd::TargetRef;
use crate::proof::ask::{self, PodAsker};
use crate::proof::jwks::ExpectedKey;
use crate::proof::pods::{self, Askable};
use crate::proof::verdict::{self, Expected, PodProof, TargetProof};
use crate::render::Rendered;

/// How long a Ready pod may take to answer before it counts as not answering. OpenMetadata's
/// pods turn Ready when its health check passes, after the server started, so a Ready pod
/// answers at once; two minutes covers a slow first request of the JVM and a busy node.
pub(crate) const DEADLINE: Duration = Duration::from_secs(120);
/// Each request to a pod ends within this.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Pods asked at once, over all targets of one resource.
const PODS_AT_ONCE: usize = 16;

/// Why the proof could not ask.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Listing a target's pods failed.
    #[error("failed to list the pods of {kind:?} {name}")]
    List {
        /// Kind of the target.
        kind: crate::crd::TargetKind,
        /// Its name.
        name: String,
        /// The API error.
        #[source]
        source: kube::Error,
    },
    /// The HTTP client that asks the pods could not be built when the operator started.
    #[error("the server proof's HTTP client could not be built (see the operator's log)")]
    NoClient,
}

/// What the proof found this reconcile.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Proof {
    /// Off: by `spec.server.proof.enabled: false`, or (`by_operator`) by the operator's
    /// `--server-proof=false`.
    Off {
        /// The operator's setting turned it off.
        by_operator: bool,
    },
    /// Nothing new was rendered (held): what the stored status says stays.
    NotRun,
    /// A target is still rolling; its pods are asked once all are rolled out.
    AwaitingRollout,
    /// What each target's pods proved.
    Asked(Vec<TargetResult>),
}

/// What one target's pods proved.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TargetResult {
    /// Which target.
    pub reference: TargetRef,
    /// The sum of its pods' proofs.
    pub proof: TargetProof,
    /// Desired replicas (0: nothing to prove).
    pub replicas: i32,
    /// Pods that have not answered within [`DEADLINE`] of becoming Ready.
    pub overdue: usize,
    /// When to ask again a pod that has not answered yet (within its deadline).
    pub retry_in: Option<Duration>,
}

impl TargetResult {
    /// Every pod proves the rendering (a target scaled to zero has none to prove).
    pub(crate) fn confirmed(&self) -> bool {
        let all = usize::try_from(self.replicas).unwrap_or(0);
        all == 0 || (self.proof.proven >= all && self.proof.worst == PodProof::Proven)
    }
}

/// What the pods are asked and how.
pub(in crate::controller) struct Ask<'a> {
    /// The HTTP client.
    pub asker: &'a PodAsker,
    /// The server's port in each pod.
    pub port: u16,
    /// The rendering every target is rolled out onto.
    pub rendered: &'a Rendered,
    /// Its signing key.
    pub key: &'a ExpectedKey,
    /// The reconcile's time, from which each pod's deadline is judged.
    pub now: Timestamp,
}

/// Asks the pods of every target.
pub(in crate::controller) async fn prove(
    client: &Client,
    namespace: &str,
    targets: &[Target],
    ask: Ask<'_>,
) -> Result<Vec<TargetResult>, Error> {
    let Ask {
        asker,
        port,
        rendered,
        key,
        now,
    } = ask;
    let listed = futures::future::try_join_all(
        targets
            .iter()
            .map(|t| target_pods(client, namespace, t, &rendered.config_hash)),
    )
    .await?;
    let mut results = Vec::with_capacity(targets.len());
    for (target, (asked, replicas)) in targets.iter().zip(listed) {
        let reset = target
            .state
            .as_ref()
            .is_some_and(|s| s.wiring.iter().any(|c| c.resets_settings));
        let expected = Expected {
            key,
            auth_env: &rendered.auth_env.data,
            reset_in_template: reset,
        };
        let answers: Vec<(Askable, ask::PodAnswers)> = futures::stream::iter(asked)
            .map(|pod| async move {
                let answers = asker.ask(pod.ip, port).await;
                (pod, answers)
            })
            .buffered(PODS_AT_ONCE)
            .collect()
            .await;
        results.push(sum(
            target.reference.clone(),
            replicas,
            &answers,
            expected,
            now,
        ));
    }
    Ok(results)
}

/// A target's pods: the askable ones and its desired replicas.
async fn target_pods(
    client: &Client,
    namespace: &str,
    target: &Target,
    hash: &str,
) -> Result<(Vec<Askable>, i32), Error> {
    let Some(state) = &target.state else {
        return Ok((Vec::new(), 0));
    };
    // An empty selector would select every pod of the namespace: ask none.
    let Some(selector) = state.pod_selector.as_deref().filter(|s| !s.is_empty()) else {
        return Ok((Vec::new(), state.replicas));
    };
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let listed = api
        .list(&ListParams::default().labels(selector))
        .await
        .map_err(|source| Error::List {
            kind: target.reference.kind,
            name: target.reference.name.clone(),
            source,
        })?;
    let (asked, _current) = pods::askable(
        &listed.items,
        target.reference.kind,
        &target.reference.name,
        hash,
    );
    Ok((asked, state.replicas))
}

/// What a target's pods' answers prove. Pure.
pub(crate) fn sum(
    reference: TargetRef,
    replicas: i32,
    answers: &[(Askable, ask::PodAnswers)],
    expected: Expected<'_>,
    now: Timestamp,
) -> TargetResult {
    let mut overdue = 0;
    let mut retry_in: Option<Duration> = None;
    let proofs: Vec<_> = answers
        .iter()
        .map(|(pod, a)| {
            let judged = ask::judge(a, expected);
            if judged.0 == PodProof::NoAnswer {
                let waited = pod.ready_since.map_or(Duration::ZERO, |t| elapsed(t, now));
                if waited >= DEADLINE {
                    overdue += 1;
                } else {
                    let next = backoff(waited);
                    retry_in = Some(retry_in.map_or(next, |r| r.min(next)));
                }
            }
            judged
        })
        .collect();
    if answers.is_empty() && replicas > 0 {
        // Rolled out, so its pods are Ready; the list may not show them yet.
        retry_in = Some(backoff(Duration::MAX));
    }
    TargetResult {
        reference,
        proof: verdict::sum_up(&proofs),
        replicas,
        overdue,
        retry_in,
    }
}

/// Asks again after a quarter of the time waited so far: 2 s at first, at most 20 s.
pub(crate) fn backoff(waited: Duration) -> Duration {
    (waited / 4).clamp(Duration::from_secs(2), Duration::from_secs(20))
}

fn elapsed(since: Timestamp, now: Timestamp) -> Duration {
    Duration::try_from(now.duration_since(since)).unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests;
