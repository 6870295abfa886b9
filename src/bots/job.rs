//! The renewal Job, built from a target's own pod template: the server container's image,
//! environment (`env`, `envFrom`), volume mounts and security context, with the template's
//! volumes, service account, pull secrets, pod security context and placement. Nothing else of
//! the template is copied:
//! - no labels or annotations: the Job's pod must match neither the workload's selector nor a
//!   Service's (it serves nothing), nor carry the config hash the proof looks for;
//! - no init containers (migrations, the security-config reset) and no other containers: the
//!   commands need only the server's configuration;
//! - no probes, ports or lifecycle hooks: the commands serve nothing and a liveness probe would
//!   kill them.
//!
//! The pod runs one `openmetadata-ops.sh` command (`regenerate-bot-tokens`, or later
//! `deploy-pipelines`: [`super::next`]); it is never restarted and the Job never retried
//! (`backoffLimit: 0`): a renewal runs once per key.

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use super::{Command, OPS_SCRIPT};
use crate::names::{OPERATOR, labels};

/// `oidcsso.io/role` of the renewal Jobs and their pods.
pub const ROLE_RENEW_BOTS: &str = "renew-bot-tokens";
/// How long the Job may run before Kubernetes stops it.
const DEADLINE_SECONDS: i64 = 30 * 60;

/// Why no Job can be built from a template.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JobError {
    /// No container of the template loads the settings Secret through `envFrom`: which one is
    /// the server is not known (a sidecar's image would run the commands).
    #[error("no container of its pod template loads the settings Secret {0} through envFrom")]
    NoServerContainer(String),
}

/// Who the Job is for, and what it runs.
pub struct JobFor<'a> {
    /// The Job's name ([`super::job_name`]).
    pub name: &'a str,
    /// The command.
    pub command: Command,
    /// The resource's name (its `oidcsso.io/config` label).
    pub resource: &'a str,
    /// Its namespace.
    pub namespace: &'a str,
    /// The settings Secret: the container loading it is the server's.
    pub settings_secret: &'a str,
    /// The resource, as the Job's owner (deleted with it).
    pub owner: Option<OwnerReference>,
}

/// The Job for `target`'s pod template.
pub fn build(template: &PodTemplateSpec, for_: &JobFor<'_>) -> Result<Job, JobError> {
    let missing = || JobError::NoServerContainer(for_.settings_secret.to_string());
    let spec = template.spec.as_ref().ok_or_else(missing)?;
    let server = server_container(&spec.containers, for_.settings_secret).ok_or_else(missing)?;
    let labels: std::collections::BTreeMap<String, String> = [
        (labels::MANAGED_BY.to_string(), OPERATOR.to_string()),
        (labels::CONFIG.to_string(), for_.resource.to_string()),
        (labels::ROLE.to_string(), ROLE_RENEW_BOTS.to_string()),
    ]
    .into();
    let pod = PodSpec {
        containers: vec![ops_container(server, for_.command.subcommand())],
        restart_policy: Some("Never".into()),
        volumes: spec.volumes.clone(),
        service_account_name: spec.service_account_name.clone(),
        automount_service_account_token: spec.automount_service_account_token,
        image_pull_secrets: spec.image_pull_secrets.clone(),
        security_context: spec.security_context.clone(),
        node_selector: spec.node_selector.clone(),
        tolerations: spec.tolerations.clone(),
        affinity: spec.affinity.clone(),
        priority_class_name: spec.priority_class_name.clone(),
        enable_service_links: spec.enable_service_links,
        host_aliases: spec.host_aliases.clone(),
        dns_config: spec.dns_config.clone(),
        dns_policy: spec.dns_policy.clone(),
        ..PodSpec::default()
    };
    Ok(Job {
        metadata: ObjectMeta {
            name: Some(for_.name.to_string()),
            namespace: Some(for_.namespace.to_string()),
            labels: Some(labels.clone()),
            owner_references: for_.owner.clone().map(|o| vec![o]),
            ..ObjectMeta::default()
        },
        spec: Some(JobSpec {
            backoff_limit: Some(0),
            active_deadline_seconds: Some(DEADLINE_SECONDS),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    ..ObjectMeta::default()
                }),
                spec: Some(pod),
            },
            ..JobSpec::default()
        }),
        status: None,
    })
}

/// The container that loads the settings Secret through `envFrom`.
fn server_container<'a>(
    containers: &'a [Container],
    settings_secret: &str,
) -> Option<&'a Container> {
    containers.iter().find(|c| {
        c.env_from.iter().flatten().any(|e| {
            e.secret_ref
                .as_ref()
                .is_some_and(|s| s.name == settings_secret)
        })
    })
}

/// `server` running `openmetadata-ops.sh <command>` instead of the server.
fn ops_container(server: &Container, command: &str) -> Container {
    Container {
        name: command.to_string(),
        image: server.image.clone(),
        image_pull_policy: server.image_pull_policy.clone(),
        command: Some(vec![OPS_SCRIPT.to_string()]),
        args: Some(vec![command.to_string()]),
        working_dir: server.working_dir.clone(),
        env: server.env.clone(),
        env_from: server.env_from.clone(),
        volume_mounts: server.volume_mounts.clone(),
        resources: server.resources.clone(),
        security_context: server.security_context.clone(),
        ..Container::default()
    }
}
