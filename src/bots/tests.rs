use super::job::{JobError, JobFor, ROLE_RENEW_BOTS, build};
use super::*;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use serde_json::json;

fn facts<'a>(proven: Option<bool>, release: Option<Release>) -> Facts<'a> {
    Facts {
        key_id: "new-kid",
        renewed_for: Some("old-kid"),
        proven,
        release,
        operator_allows: true,
    }
}

const fn release(major: u32, minor: u32, patch: u32) -> Release {
    Release {
        major,
        minor,
        patch,
    }
}

#[test]
fn the_job_runs_once_every_pod_proves_the_new_key_on_a_release_with_the_command() {
    let table = [
        (facts(None, Some(FIRST_RELEASE)), Renewal::ProofOff),
        (
            facts(Some(false), Some(FIRST_RELEASE)),
            Renewal::AwaitingProof,
        ),
        (
            facts(Some(true), None),
            Renewal::CommandMissing { release: None },
        ),
        (
            facts(Some(true), Some(release(1, 9, 4))),
            Renewal::CommandMissing {
                release: Some(release(1, 9, 4)),
            },
        ),
        (facts(Some(true), Some(FIRST_RELEASE)), Renewal::Run),
        (facts(Some(true), Some(release(2, 1, 0))), Renewal::Run),
    ];
    for (facts, want) in table {
        assert_eq!(decide(&facts), want, "{facts:?}");
    }
}

#[test]
fn an_operator_without_the_right_to_create_jobs_never_decides_to_run_one() {
    let mut f = facts(Some(true), Some(FIRST_RELEASE));
    f.operator_allows = false;
    assert_eq!(decide(&f), Renewal::OperatorOff);
}

#[test]
fn a_key_renewed_for_is_never_renewed_again_whatever_else_holds() {
    for proven in [None, Some(false), Some(true)] {
        let mut f = facts(proven, Some(release(2, 1, 0)));
        f.renewed_for = Some("new-kid");
        assert_eq!(decide(&f), Renewal::Renewed);
    }
}

#[test]
fn job_names_are_one_per_key_and_command_and_fit_a_label() {
    let name = |r: &str, k: &str, c| job_name(r, k, c);
    let (regenerate, deploy) = (Command::Regenerate, Command::Deploy);
    assert_eq!(name("om", "k1", regenerate), name("om", "k1", regenerate));
    assert_ne!(name("om", "k1", regenerate), name("om", "k2", regenerate));
    assert_ne!(name("om", "k1", regenerate), name("om2", "k1", regenerate));
    assert_ne!(name("om", "k1", regenerate), name("om", "k1", deploy));
    let long = "a".repeat(63);
    for command in [regenerate, deploy] {
        let n = name(&long, "k1", command);
        assert!(n.len() <= 63 && n.starts_with("aaaa"), "{n}");
    }
    let dotted = format!("{}.-x", "b".repeat(42));
    let n = name(&dotted, "k1", deploy);
    assert!(
        !n.contains(".-pipelines") && !n.contains("--pipelines"),
        "{n}"
    );
}

fn at(second: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_800_000_000 + second).unwrap()
}

#[test]
fn pipelines_are_redeployed_only_after_the_bots_and_the_servers_bot_token_cache() {
    use JobState::{Absent, Complete, Failed, Foreign, Running};
    let wait = i64::try_from(BOT_TOKEN_CACHE_WAIT.as_secs()).unwrap();
    let (regenerate, deploy) = (Command::Regenerate, Command::Deploy);
    let table = [
        (Absent, Absent, 0, Next::Create(regenerate)),
        (Running, Absent, 0, Next::Follow(regenerate)),
        (
            Failed(Some(1)),
            Absent,
            0,
            Next::Failed(regenerate, Some(1)),
        ),
        (Foreign, Absent, 0, Next::Foreign(regenerate)),
        (Complete(at(0)), Absent, 1, Next::WaitUntil(at(wait))),
        (Complete(at(0)), Absent, wait - 1, Next::WaitUntil(at(wait))),
        (Complete(at(0)), Absent, wait, Next::Create(deploy)),
        (Complete(at(0)), Running, 1, Next::Follow(deploy)),
        (
            Complete(at(0)),
            Failed(None),
            wait,
            Next::Failed(deploy, None),
        ),
        (Complete(at(0)), Foreign, wait, Next::Foreign(deploy)),
        (
            Complete(at(0)),
            Complete(at(wait + 9)),
            wait + 10,
            Next::Done,
        ),
    ];
    for (r, d, now, want) in table {
        assert_eq!(next(&r, &d, at(now)), want, "{r:?} {d:?} +{now}s");
    }
}

/// A server template as OpenMetadata's chart makes it, with what must not reach the Job.
fn template() -> PodTemplateSpec {
    serde_json::from_value(json!({
        "metadata": {"labels": {"app": "om"}, "annotations": {"oidcsso.io/config-hash": "sha256:x"}},
        "spec": {
            "serviceAccountName": "om",
            "securityContext": {"runAsUser": 1000},
            "nodeSelector": {"pool": "data"},
            "imagePullSecrets": [{"name": "registry"}],
            "initContainers": [{"name": "migrate", "image": "om:1.13.1"}],
            "containers": [
                {"name": "sidecar", "image": "proxy:1"},
                {
                    "name": "openmetadata", "image": "om:1.13.1", "imagePullPolicy": "IfNotPresent",
                    "command": ["/opt/openmetadata/bin/start.sh"],
                    "env": [{"name": "DB_HOST", "value": "postgres"}],
                    "envFrom": [{"secretRef": {"name": "om-db"}}, {"secretRef": {"name": "om-auth-env"}}],
                    "volumeMounts": [{"name": "jwt-keys", "mountPath": "/etc/openmetadata/jwtkeys"}],
                    "ports": [{"containerPort": 8585}],
                    "livenessProbe": {"httpGet": {"path": "/healthcheck", "port": 8586}},
                    "readinessProbe": {"httpGet": {"path": "/healthcheck", "port": 8586}},
                }
            ],
            "volumes": [{"name": "jwt-keys", "secret": {"secretName": "om-jwt-keys"}}],
        },
    }))
    .unwrap()
}

fn for_om(command: Command) -> JobFor<'static> {
    JobFor {
        name: "om-bots-0123456789",
        command,
        resource: "om",
        namespace: "data",
        settings_secret: "om-auth-env",
        owner: None,
    }
}

#[test]
fn the_job_takes_the_server_containers_image_environment_and_volumes_and_nothing_else() {
    for command in [Command::Regenerate, Command::Deploy] {
        let job = serde_json::to_value(build(&template(), &for_om(command)).unwrap()).unwrap();
        let pod = &job["spec"]["template"]["spec"];
        assert_eq!(job["spec"]["backoffLimit"], 0);
        assert_eq!(pod["restartPolicy"], "Never");
        assert!(
            pod.get("initContainers").is_none(),
            "no migration, no reset"
        );
        assert_eq!(pod["containers"].as_array().unwrap().len(), 1, "no sidecar");
        let c = &pod["containers"][0];
        let subcommand = command.subcommand();
        assert_eq!(c["name"], subcommand);
        assert_eq!(c["image"], "om:1.13.1");
        assert_eq!(c["imagePullPolicy"], "IfNotPresent");
        assert_eq!(c["command"], json!([OPS_SCRIPT]));
        assert_eq!(c["args"], json!([subcommand]));
        assert_eq!(c["env"], json!([{"name": "DB_HOST", "value": "postgres"}]));
        assert_eq!(c["envFrom"][1]["secretRef"]["name"], "om-auth-env");
        assert_eq!(c["volumeMounts"][0]["name"], "jwt-keys");
        for absent in ["ports", "livenessProbe", "readinessProbe"] {
            assert!(c.get(absent).is_none(), "{absent} copied");
        }
        assert_eq!(pod["volumes"][0]["secret"]["secretName"], "om-jwt-keys");
        assert_eq!(pod["serviceAccountName"], "om");
        assert_eq!(pod["securityContext"]["runAsUser"], 1000);
        assert_eq!(pod["nodeSelector"]["pool"], "data");
        assert_eq!(pod["imagePullSecrets"][0]["name"], "registry");
        let labels = &job["spec"]["template"]["metadata"]["labels"];
        assert!(
            labels.get("app").is_none(),
            "the workload's selector must not match"
        );
        assert_eq!(labels["oidcsso.io/role"], ROLE_RENEW_BOTS);
        assert_eq!(labels["oidcsso.io/config"], "om");
        assert!(
            job["spec"]["template"]["metadata"]
                .get("annotations")
                .is_none()
        );
    }
}

#[test]
fn without_a_container_loading_the_settings_no_job_is_built() {
    let mut t = template();
    for c in &mut t.spec.as_mut().unwrap().containers {
        c.env_from = None;
    }
    let refused = build(&t, &for_om(Command::Regenerate)).err();
    assert_eq!(
        refused,
        Some(JobError::NoServerContainer("om-auth-env".into()))
    );
    t.spec = None;
    assert!(build(&t, &for_om(Command::Deploy)).is_err());
}
