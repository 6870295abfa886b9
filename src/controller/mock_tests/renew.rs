//! The bot-token renewal step against the fake apiserver: which Job it creates, when it only
//! reads, and that nothing is created twice or while the servers' bot-token cache may still hold
//! the old tokens.

use http::Method;
use jiff::Timestamp;
use serde_json::{Value, json};

use super::fake::{Call, Fake};
use crate::bots::{BOT_TOKEN_CACHE_WAIT, Command, Renewal, job_name};
use crate::controller::steps::prove::{Proof, TargetResult};
use crate::controller::steps::renew::{Inputs, Renew, renew};
use crate::crd::{OidcSsoConfig, TargetKind, TargetRef};
use crate::proof::verdict::{PodProof, TargetProof};
use crate::proof::version::Release;

const JOBS: &str = "/apis/batch/v1/namespaces/data/jobs";
const SERVER: &str = "/apis/apps/v1/namespaces/data/deployments/openmetadata";
const KEY: &str = "kid-2";

fn resource() -> OidcSsoConfig {
    crate::fixtures::Resource::public()
        .uid("uid-om")
        .set("/spec/provider/clientId", json!("om"))
        .rolling("openmetadata")
        .build()
}

fn target() -> TargetRef {
    TargetRef {
        kind: TargetKind::Deployment,
        name: "openmetadata".into(),
    }
}

/// Every pod of the target proves the rendering on `release`.
fn proven(release: &str) -> Proof {
    Proof::Asked(vec![TargetResult {
        reference: target(),
        proof: TargetProof {
            proven: 2,
            pods: 2,
            worst: PodProof::Proven,
            release: Release::parse(release),
        },
        replicas: 2,
        overdue: 0,
        retry_in: None,
    }])
}

fn now() -> Timestamp {
    Timestamp::from_second(1_800_000_000).expect("a time")
}

fn job_path(command: Command) -> String {
    format!("{JOBS}/{}", job_name("om", KEY, command))
}

/// A Job of ours that completed `ago` seconds before [`now`].
fn completed(ago: i64) -> Value {
    let at = Timestamp::from_second(1_800_000_000 - ago).expect("a time");
    json!({
        "metadata": {"labels": {"app.kubernetes.io/managed-by": "oidc-sso-operator"}},
        "status": {"conditions": [{"type": "Complete", "status": "True"}],
                   "completionTime": at.to_string()},
    })
}

fn world() -> Fake {
    let fake = Fake::default();
    fake.put(
        SERVER,
        json!({"metadata": {"name": "openmetadata"}, "spec": {
            "selector": {"matchLabels": {"app": "om"}},
            "template": {"metadata": {"labels": {"app": "om"}}, "spec": {"containers": [{
                "name": "openmetadata", "image": "openmetadata/server:1.13.1",
                "envFrom": [{"secretRef": {"name": "om-auth-env"}}],
            }]}},
        }}),
    );
    fake
}

async fn run(fake: &Fake, proof: &Proof, renewed_for: Option<&str>, allows: bool) -> Option<Renew> {
    let resource = resource();
    let targets = [target()];
    renew(Inputs {
        client: &fake.client(),
        resource: &resource,
        namespace: "data",
        key_id: KEY,
        renewed_for,
        settings_secret: "om-auth-env",
        targets: &targets,
        proof,
        operator_allows: allows,
        now: now(),
    })
    .await
    .expect("the renew step")
}

fn writes(calls: &[Call]) -> Vec<(Method, String)> {
    calls
        .iter()
        .filter(|c| c.is_write())
        .map(|c| (c.method.clone(), c.path.clone()))
        .collect()
}

/// The body of the one write since the last look, which must be a Job's create.
fn the_one_create(fake: &Fake) -> Value {
    let calls = fake.take_calls();
    assert_eq!(writes(&calls), vec![(Method::POST, JOBS.to_string())]);
    calls
        .into_iter()
        .find(Call::is_write)
        .expect("the create")
        .body
}

#[tokio::test]
async fn the_first_run_creates_the_bots_job_from_the_servers_template() {
    let fake = world();
    let got = run(&fake, &proven("1.13.1"), Some("kid-1"), true).await;
    let name = job_name("om", KEY, Command::Regenerate);
    assert_eq!(
        got,
        Some(Renew::Running {
            job: name.clone(),
            command: Command::Regenerate
        })
    );
    let job = &the_one_create(&fake);
    assert_eq!(job["metadata"]["name"], json!(name));
    assert_eq!(job["metadata"]["ownerReferences"][0]["uid"], "uid-om");
    let c = &job["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["image"], "openmetadata/server:1.13.1");
    assert_eq!(c["args"], json!(["regenerate-bot-tokens"]));
}

#[tokio::test]
async fn deploy_pipelines_waits_for_the_bot_token_cache_then_starts_once() {
    let wait = i64::try_from(BOT_TOKEN_CACHE_WAIT.as_secs()).expect("seconds");
    let fake = world();
    fake.put(&job_path(Command::Regenerate), completed(10));
    let got = run(&fake, &proven("1.13.1"), Some("kid-1"), true).await;
    let until = Timestamp::from_second(1_800_000_000 - 10 + wait).expect("a time");
    assert_eq!(got, Some(Renew::Waiting { until }));
    assert!(
        writes(&fake.take_calls()).is_empty(),
        "nothing before the wait"
    );

    fake.put(&job_path(Command::Regenerate), completed(wait));
    let got = run(&fake, &proven("1.13.1"), Some("kid-1"), true).await;
    assert!(
        matches!(
            got,
            Some(Renew::Running {
                command: Command::Deploy,
                ..
            })
        ),
        "{got:?}"
    );
    let job = &the_one_create(&fake);
    assert_eq!(
        job["spec"]["template"]["spec"]["containers"][0]["args"],
        json!(["deploy-pipelines"])
    );

    // Both done: succeeded, nothing written.
    fake.put(&job_path(Command::Deploy), completed(1));
    let got = run(&fake, &proven("1.13.1"), Some("kid-1"), true).await;
    assert_eq!(got, Some(Renew::Succeeded));
    assert!(writes(&fake.take_calls()).is_empty());
}

#[tokio::test]
async fn a_failed_or_foreign_job_is_reported_and_never_replaced() {
    let fake = world();
    fake.put(
        &job_path(Command::Regenerate),
        json!({"metadata": {"labels": {"app.kubernetes.io/managed-by": "oidc-sso-operator"}},
               "status": {"conditions": [{"type": "Failed", "status": "True"}]}}),
    );
    fake.put(
        "/api/v1/namespaces/data/pods",
        json!({"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": [{
            "metadata": {"name": "om-bots-x"},
            "status": {"containerStatuses": [{
                "name": "regenerate-bot-tokens", "image": "x", "imageID": "", "ready": false,
                "restartCount": 0, "state": {"terminated": {"exitCode": 1}},
            }]},
        }]}),
    );
    let got = run(&fake, &proven("1.13.1"), Some("kid-1"), true).await;
    assert_eq!(
        got,
        Some(Renew::Failed {
            job: job_name("om", KEY, Command::Regenerate),
            command: Command::Regenerate,
            exit_code: Some(1),
        })
    );
    assert!(writes(&fake.take_calls()).is_empty());

    let fake = world();
    fake.put(
        &job_path(Command::Regenerate),
        json!({"metadata": {"labels": {"app": "x"}}}),
    );
    let got = run(&fake, &proven("1.13.1"), Some("kid-1"), true).await;
    assert!(matches!(got, Some(Renew::Foreign { .. })), "{got:?}");
    assert!(writes(&fake.take_calls()).is_empty());
}

#[tokio::test]
async fn nothing_is_asked_of_the_api_when_there_is_nothing_to_run() {
    for (proof, renewed_for, allows, want) in [
        (proven("2.1.0"), Some(KEY), true, Renewal::Renewed),
        (proven("2.1.0"), Some("kid-1"), false, Renewal::OperatorOff),
        (
            Proof::Off { by_operator: true },
            Some("kid-1"),
            true,
            Renewal::ProofOff,
        ),
        (Proof::AwaitingRollout, None, true, Renewal::AwaitingProof),
        (
            proven("1.12.9"),
            None,
            true,
            Renewal::CommandMissing {
                release: Release::parse("1.12.9"),
            },
        ),
    ] {
        let fake = world();
        let got = run(&fake, &proof, renewed_for, allows).await;
        assert_eq!(got, Some(Renew::Decided(want)));
        assert!(fake.take_calls().is_empty(), "no API call");
    }
    // Nothing new proven (a held rendering): the step says nothing, the stored condition stays.
    let fake = world();
    assert_eq!(run(&fake, &Proof::NotRun, None, true).await, None);
}
