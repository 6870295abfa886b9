//! The renewal of bot tokens after a key change (`spec.jwt.rotation.renewBotTokens`): decides with
//! [`crate::bots::decide`], then creates the Job from the first target's pod template, or reads
//! how the Job it created went. Runs after the proof, at every reconcile while the opt-in is on.
//!
//! The Job is created once: its name derives from the key id, and an existing Job of that name is
//! read, never replaced. Only Jobs the operator labelled as its own, in the resource's namespace,
//! are read or created (the RBAC and admission policies allow no other).

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use kube::api::{ListParams, PostParams};
use kube::{Api, Client, Resource as _};

use super::prove::Proof;
use crate::bots::job::{self, DEPLOY, JobFor, REGENERATE};
use crate::bots::{Facts, Renewal};
use crate::crd::{OidcSsoConfig, TargetKind, TargetRef};
use crate::names::{OPERATOR, labels};

/// Why the renew step could not read or create the Job.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The API refused a read or the create.
    #[error("failed to {what} the bot-token renewal Job {job}")]
    Api {
        /// What was tried.
        what: &'static str,
        /// The Job.
        job: String,
        /// The API error.
        #[source]
        source: kube::Error,
    },
}

/// What became of the renewal this reconcile.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Renew {
    /// Nothing to run (renewed, waiting, or not possible), as decided.
    Decided(Renewal),
    /// The Job runs (created now or earlier).
    Running {
        /// Its name.
        job: String,
    },
    /// The Job succeeded: the bots have tokens signed by the current key.
    Succeeded {
        /// Its name.
        job: String,
    },
    /// The Job failed; it stays until deleted (which asks for another run).
    Failed {
        /// Its name.
        job: String,
        /// The command that failed and its exit code, when its pod still says.
        failed: Option<(&'static str, i32)>,
    },
    /// A Job of that name exists that the operator did not create: it is left alone.
    Foreign {
        /// Its name.
        job: String,
    },
    /// No Job can be built from the target's pod template.
    NoJob {
        /// The target.
        target: TargetRef,
        /// Why.
        why: String,
    },
}

/// The facts the decision needs from this reconcile's proof: whether every pod proves the
/// rendering (`None`: the proof is off) and the newest release the pods reported.
fn proof_facts(proof: &Proof) -> Option<(Option<bool>, Option<crate::proof::version::Release>)> {
    match proof {
        Proof::Off { .. } => Some((None, None)),
        Proof::NotRun => None,
        Proof::AwaitingRollout => Some((Some(false), None)),
        Proof::Asked(results) => Some((
            Some(results.iter().all(super::prove::TargetResult::confirmed)),
            results.iter().filter_map(|r| r.proof.release).max(),
        )),
    }
}

/// What the renew step reads.
pub(in crate::controller) struct Inputs<'a> {
    pub client: &'a Client,
    pub resource: &'a OidcSsoConfig,
    pub namespace: &'a str,
    pub key_id: &'a str,
    pub renewed_for: Option<&'a str>,
    pub settings_secret: &'a str,
    pub targets: &'a [TargetRef],
    pub proof: &'a Proof,
    pub operator_allows: bool,
}

/// Runs the renewal step; `None` when nothing new was proven (held): the stored condition stays.
pub(in crate::controller) async fn renew(i: Inputs<'_>) -> Result<Option<Renew>, Error> {
    let Some((proven, release)) = proof_facts(i.proof) else {
        return Ok(None);
    };
    let name = i.resource.meta().name.clone().unwrap_or_default();
    let decision = crate::bots::decide(&Facts {
        resource: &name,
        key_id: i.key_id,
        renewed_for: i.renewed_for,
        proven,
        release,
        operator_allows: i.operator_allows,
    });
    let Renewal::Run { job } = decision else {
        return Ok(Some(Renew::Decided(decision)));
    };
    let jobs: Api<Job> = Api::namespaced(i.client.clone(), i.namespace);
    let api_error = |what| {
        let job = job.clone();
        move |source| Error::Api { what, job, source }
    };
    if let Some(existing) = jobs.get_opt(&job).await.map_err(api_error("read"))? {
        return Ok(Some(follow(i.client, i.namespace, &existing, &job).await));
    }
    let Some(target) = i.targets.first() else {
        return Ok(Some(Renew::Decided(Renewal::AwaitingProof)));
    };
    let template = match pod_template(i.client, i.namespace, target).await {
        Ok(t) => t,
        Err(why) => {
            return Ok(Some(Renew::NoJob {
                target: target.clone(),
                why,
            }));
        }
    };
    let built = job::build(
        &template,
        &JobFor {
            name: &job,
            resource: &name,
            namespace: i.namespace,
            settings_secret: i.settings_secret,
            owner: i.resource.controller_owner_ref(&()),
        },
    );
    let built = match built {
        Ok(b) => b,
        Err(e) => {
            return Ok(Some(Renew::NoJob {
                target: target.clone(),
                why: e.to_string(),
            }));
        }
    };
    match jobs.create(&PostParams::default(), &built).await {
        Ok(_) => {}
        // Created by an earlier reconcile whose read raced it: follow that one.
        Err(kube::Error::Api(e)) if e.code == 409 => {}
        Err(e) => return Err(api_error("create")(e)),
    }
    Ok(Some(Renew::Running { job }))
}

/// The target's pod template, or why it cannot be read.
async fn pod_template(
    client: &Client,
    namespace: &str,
    target: &TargetRef,
) -> Result<PodTemplateSpec, String> {
    let read = match target.kind {
        TargetKind::Deployment => Api::<Deployment>::namespaced(client.clone(), namespace)
            .get_opt(&target.name)
            .await
            .map(|d| d.map(|d| d.spec.template)),
        TargetKind::StatefulSet => Api::<StatefulSet>::namespaced(client.clone(), namespace)
            .get_opt(&target.name)
            .await
            .map(|s| s.map(|s| s.spec.template)),
    };
    match read {
        Ok(Some(t)) => Ok(t),
        Ok(None) => Err("it does not exist".into()),
        Err(e) => Err(format!("reading it failed: {}", crate::errors::chain(&e))),
    }
}

/// How the Job went, and which command failed (from its pod's container states).
async fn follow(client: &Client, namespace: &str, existing: &Job, job: &str) -> Renew {
    let owned = existing
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(labels::MANAGED_BY))
        .is_some_and(|m| m == OPERATOR);
    if !owned {
        return Renew::Foreign { job: job.into() };
    }
    let status = existing.status.as_ref();
    let finished = |type_: &str| {
        status
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == type_ && c.status == "True"))
    };
    if finished("Complete") {
        return Renew::Succeeded { job: job.into() };
    }
    if finished("Failed") {
        return Renew::Failed {
            job: job.into(),
            failed: failed_command(client, namespace, job).await,
        };
    }
    Renew::Running { job: job.into() }
}

/// The command whose container ended with a non-zero exit code in the Job's pod.
async fn failed_command(
    client: &Client,
    namespace: &str,
    job: &str,
) -> Option<(&'static str, i32)> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let list = pods
        .list(&ListParams::default().labels(&format!("batch.kubernetes.io/job-name={job}")))
        .await
        .ok()?;
    list.items.iter().find_map(|pod| {
        let status = pod.status.as_ref()?;
        let exits = |statuses: &Option<Vec<k8s_openapi::api::core::v1::ContainerStatus>>| {
            statuses.iter().flatten().find_map(|c| {
                let code = c.state.as_ref()?.terminated.as_ref()?.exit_code;
                (code != 0).then_some((c.name.clone(), code))
            })
        };
        let (name, code) =
            exits(&status.init_container_statuses).or_else(|| exits(&status.container_statuses))?;
        Some((
            if name == REGENERATE {
                REGENERATE
            } else {
                DEPLOY
            },
            code,
        ))
    })
}
