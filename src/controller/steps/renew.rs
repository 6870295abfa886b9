//! The renewal of bot tokens after a key change (`spec.jwt.rotation.renewBotTokens`): decides with
//! [`crate::bots::decide`], reads the key's two Jobs, and creates the next one from the first
//! target's pod template ([`crate::bots::next`]). Runs after the proof, at every reconcile while
//! the opt-in is on.
//!
//! Each Job is created once: its name derives from the key id, and an existing Job of that name
//! is read, never replaced. Only Jobs the operator labelled as its own, in the resource's namespace,
//! are read or created (the RBAC and admission policies allow no other).

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use kube::api::{ListParams, PostParams};
use kube::{Api, Client, Resource as _};

use jiff::Timestamp;

use super::prove::Proof;
use crate::bots::job::{self, JobFor};
use crate::bots::{Command, Facts, JobState, Next, Renewal};
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
    /// The Job of this command runs (created now or earlier).
    Running {
        /// Its name.
        job: String,
        /// Its command.
        command: Command,
    },
    /// The bots are renewed; `deploy-pipelines` waits for the servers' bot-token cache.
    Waiting {
        /// Until when.
        until: Timestamp,
    },
    /// Both Jobs succeeded: the bots have tokens signed by the current key and the pipelines
    /// were redeployed with them.
    Succeeded,
    /// The Job of this command failed; it stays until deleted (which asks for another run).
    Failed {
        /// Its name.
        job: String,
        /// Its command.
        command: Command,
        /// Its container's exit code, when its pod still says.
        exit_code: Option<i32>,
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
    pub now: Timestamp,
}

/// Runs the renewal step; `None` when nothing new was proven (held): the stored condition stays.
pub(in crate::controller) async fn renew(i: Inputs<'_>) -> Result<Option<Renew>, Error> {
    let Some((proven, release)) = proof_facts(i.proof) else {
        return Ok(None);
    };
    let decision = crate::bots::decide(&Facts {
        key_id: i.key_id,
        renewed_for: i.renewed_for,
        proven,
        release,
        operator_allows: i.operator_allows,
    });
    if decision != Renewal::Run {
        return Ok(Some(Renew::Decided(decision)));
    }
    let name = i.resource.meta().name.clone().unwrap_or_default();
    let job_of = |command| crate::bots::job_name(&name, i.key_id, command);
    let jobs: Api<Job> = Api::namespaced(i.client.clone(), i.namespace);
    let regenerate = read(&jobs, i.client, i.namespace, &job_of(Command::Regenerate)).await?;
    let deploy = read(&jobs, i.client, i.namespace, &job_of(Command::Deploy)).await?;
    let renew = match crate::bots::next(&regenerate, &deploy, i.now) {
        Next::Done => Renew::Succeeded,
        Next::WaitUntil(until) => Renew::Waiting { until },
        Next::Follow(command) => Renew::Running {
            job: job_of(command),
            command,
        },
        Next::Failed(command, exit_code) => Renew::Failed {
            job: job_of(command),
            command,
            exit_code,
        },
        Next::Foreign(command) => Renew::Foreign {
            job: job_of(command),
        },
        Next::Create(command) => create(&i, &jobs, &name, &job_of(command), command).await?,
    };
    Ok(Some(renew))
}

/// Creates the Job of `command` from the first target's pod template.
async fn create(
    i: &Inputs<'_>,
    jobs: &Api<Job>,
    resource: &str,
    job: &str,
    command: Command,
) -> Result<Renew, Error> {
    let Some(target) = i.targets.first() else {
        return Ok(Renew::Decided(Renewal::AwaitingProof));
    };
    let no_job = |why: String| Renew::NoJob {
        target: target.clone(),
        why,
    };
    let template = match pod_template(i.client, i.namespace, target).await {
        Ok(t) => t,
        Err(why) => return Ok(no_job(why)),
    };
    let built = job::build(
        &template,
        &JobFor {
            name: job,
            command,
            resource,
            namespace: i.namespace,
            settings_secret: i.settings_secret,
            owner: i.resource.controller_owner_ref(&()),
        },
    );
    let built = match built {
        Ok(b) => b,
        Err(e) => return Ok(no_job(e.to_string())),
    };
    match jobs.create(&PostParams::default(), &built).await {
        // 409: created by an earlier reconcile whose read raced it; followed from now on.
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 409 => {}
        Err(source) => {
            return Err(Error::Api {
                what: "create",
                job: job.to_string(),
                source,
            });
        }
    }
    Ok(Renew::Running {
        job: job.to_string(),
        command,
    })
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

/// The Job `name` as the renewal reads it.
async fn read(
    jobs: &Api<Job>,
    client: &Client,
    namespace: &str,
    name: &str,
) -> Result<JobState, Error> {
    let existing = jobs.get_opt(name).await.map_err(|source| Error::Api {
        what: "read",
        job: name.to_string(),
        source,
    })?;
    let Some(existing) = existing else {
        return Ok(JobState::Absent);
    };
    let owned = existing
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(labels::MANAGED_BY))
        .is_some_and(|m| m == OPERATOR);
    if !owned {
        return Ok(JobState::Foreign);
    }
    let status = existing.status.as_ref();
    let finished = |type_: &str| {
        status
            .and_then(|s| s.conditions.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.type_ == type_ && c.status == "True"))
    };
    if let Some(done) = finished("Complete") {
        let at = status
            .and_then(|s| s.completion_time.as_ref())
            .or(done.last_transition_time.as_ref())
            .map_or(Timestamp::UNIX_EPOCH, |t| t.0);
        return Ok(JobState::Complete(at));
    }
    if finished("Failed").is_some() {
        return Ok(JobState::Failed(exit_code(client, namespace, name).await));
    }
    Ok(JobState::Running)
}

/// The non-zero exit code of the Job's container, from its pod.
async fn exit_code(client: &Client, namespace: &str, job: &str) -> Option<i32> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let list = pods
        .list(&ListParams::default().labels(&format!("batch.kubernetes.io/job-name={job}")))
        .await
        .ok()?;
    list.items.iter().find_map(|pod| {
        pod.status
            .as_ref()?
            .container_statuses
            .iter()
            .flatten()
            .find_map(|c| {
                let code = c.state.as_ref()?.terminated.as_ref()?.exit_code;
                (code != 0).then_some(code)
            })
    })
}
