//! Issue #26 item 4 on the real node: after a key rotation, the operator renews the bots the
//! server's own way. The OpenMetadata stand-in (1.13.1, with its database, its `ingestion-bot` and
//! two pipelines) runs as two pods; the resource asks for the renewal and a rotation at once.
//! Measured: every pod proves the new key, then one Job regenerates the bot tokens, and only
//! 150 s after it, another redeploys the pipelines; the bot's stored token is then signed by the
//! new key and accepted by every pod, the previous one is refused (a bot token must equal the
//! stored one, even while its key is still in the grace window), every pipeline pins the new key;
//! two Jobs in all, none more after a quiet window or an operator restart. Tokens are compared by
//! digest and key id, never printed.

use std::time::Duration;

use anyhow::{Context as _, ensure};
use k8s_openapi::api::batch::v1::Job;
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams};
use serde_json::{Value, json};

use crate::node;
use crate::proof::{
    World, assert_proven, condition, key_id, login_status, offline, rolled_once_more,
};
use crate::standin;
use crate::support::cluster::{self, DEFAULT_TIMEOUT};
use crate::support::scenario::{NAME, confidential_spec};

/// Long enough for the rollout, both Jobs and the 150 s between them.
const RENEWAL_TIMEOUT: Duration = Duration::from_secs(8 * 60);

/// `GET` a stand-in JSON document from the pod at `ip`.
async fn get_json(ip: &str, path: &str) -> anyhow::Result<Value> {
    Ok(serde_json::from_slice(
        &node::get(ip, standin::PORT, path).await?,
    )?)
}

/// The ingestion-bot's stored token, as the server holds it (the stand-in's view of
/// `GET /api/v1/users/token/{botUserId}`).
async fn stored_bot_token(ip: &str) -> anyhow::Result<String> {
    let bot = get_json(ip, "/api/v1/bots/name/ingestion-bot").await?;
    let user = bot["botUser"]["id"].as_str().context("the bot's user id")?;
    let token = get_json(ip, &format!("/api/v1/users/token/{user}")).await?;
    token["JWTToken"]
        .as_str()
        .map(str::to_string)
        .context("a JWT token")
}

/// The `kid` in a JWT's header.
fn kid(token: &str) -> String {
    use base64::Engine as _;
    let header = token.split('.').next().unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .expect("a base64url header");
    let header: Value = serde_json::from_slice(&bytes).expect("a JSON header");
    header["kid"].as_str().unwrap_or_default().to_string()
}

/// The renewal Jobs in the namespace, by name, with whether each completed.
async fn renewal_jobs(jobs: &Api<Job>) -> Vec<(String, bool)> {
    let list = jobs
        .list(&ListParams::default().labels("oidcsso.io/role=renew-bot-tokens"))
        .await
        .expect("list Jobs");
    let mut out: Vec<(String, bool)> = list
        .items
        .iter()
        .map(|j| {
            let done = j.status.as_ref().and_then(|s| s.succeeded).unwrap_or(0) == 1;
            (j.metadata.name.clone().unwrap_or_default(), done)
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn after_a_rotation_the_bots_are_renewed_once_the_old_bot_token_refused_the_pipelines_redeployed()
 {
    let mut w = World::start_with("node-renew", None, &["--bot-token-renewal=true"]).await;
    w.create_server("1.13.1", true, false).await;
    w.s.put_credentials("first-secret").await;
    w.s.create_config(offline(confidential_spec()))
        .await
        .expect("create the resource");
    let cr = w.s.wait_ready().await;
    assert_proven(&cr, "1.13.1");
    let before = w.settled().await;
    let ips: Vec<String> = before
        .pods
        .iter()
        .map(|p| node::pod_ip(p).unwrap())
        .collect();
    let old_token = stored_bot_token(&ips[0]).await.expect("the bot's token");
    let old_kid = key_id(&cr);
    assert_eq!(kid(&old_token), old_kid, "the server made it with its key");
    for ip in &ips {
        assert_eq!(login_status(ip, &old_token).await, 200);
    }

    // Renewal asked for together with a rotation: one reconcile sees both.
    let mut spec = offline(confidential_spec());
    spec["jwt"] = json!({"rotation": {"renewBotTokens": true}});
    w.s.configs()
        .patch(
            NAME,
            &PatchParams::default(),
            &Patch::Merge(json!({
                "metadata": {"annotations": {
                    oidc_sso_operator::names::annotations::ROTATE_JWT_KEYS: "renew-1",
                }},
                "spec": spec,
            })),
        )
        .await
        .expect("ask for the renewal and a rotation");
    w.s.wait_hash_change(&before.hash).await;
    let after = rolled_once_more(&w, &before).await;
    let jobs: Api<Job> = w.s.api();
    let started = std::time::Instant::now();
    let configs = w.s.configs();
    let renewed = cluster::wait_for("BotTokensRenewed=True", RENEWAL_TIMEOUT, || async {
        let cr = configs.get(NAME).await?;
        let c = cr
            .status
            .as_ref()
            .and_then(|s| s.conditions.iter().find(|c| c.type_ == "BotTokensRenewed"))
            .context("no BotTokensRenewed yet")?;
        ensure!(c.status == "True", "{}: {}", c.reason, c.message);
        Ok(cr)
    })
    .await;
    let new_kid = key_id(&renewed);
    assert_ne!(new_kid, old_kid);
    assert_proven(&renewed, "1.13.1");
    assert_eq!(
        renewed
            .status
            .as_ref()
            .and_then(|s| s.keys.as_ref())
            .and_then(|k| k.bot_tokens_renewed_for.clone()),
        Some(new_kid.clone())
    );
    eprintln!(
        "renewed {:?} after the rollout: {}",
        started.elapsed(),
        condition(&renewed, "BotTokensRenewed").message
    );

    // Two Jobs, both done, the pipelines' one at least 150 s after the bots' one.
    let done = renewal_jobs(&jobs).await;
    assert_eq!(done.len(), 2, "{done:?}");
    assert!(done.iter().all(|(_, ok)| *ok), "{done:?}");
    let finished = |name: &str| {
        let name = name.to_string();
        let jobs = jobs.clone();
        async move {
            let j = jobs.get(&name).await.expect("the Job");
            let status = j.status.expect("a status");
            (
                status.start_time.expect("started").0,
                status.completion_time.expect("completed").0,
            )
        }
    };
    let bots = done.iter().find(|(n, _)| n.contains("-bots-")).unwrap();
    let pipelines = done
        .iter()
        .find(|(n, _)| n.contains("-pipelines-"))
        .unwrap();
    let (_, regenerated) = finished(&bots.0).await;
    let (deploy_started, _) = finished(&pipelines.0).await;
    let gap = regenerated.duration_until(deploy_started);
    eprintln!("deploy-pipelines started {gap:#} after regenerate-bot-tokens completed");
    assert!(gap >= jiff::SignedDuration::from_secs(149), "{gap:#}");

    // The bot's stored token is the new key's; every pod takes it and refuses the old one.
    let after_ips: Vec<String> = after
        .pods
        .iter()
        .map(|p| node::pod_ip(p).unwrap())
        .collect();
    let new_token = stored_bot_token(&after_ips[0])
        .await
        .expect("the bot's token");
    assert_eq!(kid(&new_token), new_kid);
    for ip in &after_ips {
        assert_eq!(
            login_status(ip, &new_token).await,
            200,
            "{ip}: the new token"
        );
        assert_eq!(
            login_status(ip, &old_token).await,
            401,
            "{ip}: the old token, whose key is still in its grace window, no longer equals the stored one"
        );
    }
    let pipelines = get_json(&after_ips[0], "/api/v1/services/ingestionPipelines")
        .await
        .expect("the pipelines");
    let list = pipelines["data"].as_array().expect("a list");
    assert!(!list.is_empty());
    for p in list {
        assert_eq!(p["standinDeployment"]["botTokenKid"], json!(new_kid), "{p}");
        assert_eq!(
            p["standinDeployment"]["botTokenIsCurrent"],
            json!(true),
            "{p}"
        );
    }

    // Once per key: no third Job, also after an operator restart.
    let names: Vec<String> = done.iter().map(|(n, _)| n.clone()).collect();
    let job_names = || async {
        renewal_jobs(&jobs)
            .await
            .into_iter()
            .map(|(n, _)| n)
            .collect::<Vec<_>>()
    };
    cluster::assert_stays(
        "two renewal Jobs",
        Duration::from_secs(15),
        names.clone(),
        job_names,
    )
    .await;
    w.s.op().restart().await;
    w.s.op().wait_reconciles_after(0.0, 1.0).await;
    cluster::assert_stays(
        "two renewal Jobs after a restart",
        Duration::from_secs(15),
        names,
        job_names,
    )
    .await;
    cluster::wait_for("Renewed after the restart", DEFAULT_TIMEOUT, || async {
        let cr = configs.get(NAME).await?;
        let c = condition(&cr, "BotTokensRenewed");
        ensure!(c.status == "True", "{}", c.message);
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn on_a_release_without_the_command_no_job_runs_and_the_status_says_how_to_renew() {
    let w = World::start_with("node-renew-old", None, &["--bot-token-renewal=true"]).await;
    w.create_server("1.9.4", false, false).await;
    w.s.put_credentials("first-secret").await;
    let mut spec = offline(confidential_spec());
    spec["jwt"] = json!({"rotation": {"renewBotTokens": true}});
    w.s.create_config(spec).await.expect("create the resource");
    let cr =
        w.s.wait_condition("BotTokensRenewed", "False", Some("CommandMissing"))
            .await;
    assert_proven(&cr, "1.9.4");
    let message = &condition(&cr, "BotTokensRenewed").message;
    assert!(
        message.contains("1.9.4") && message.contains("Settings > Bots"),
        "{message}"
    );
    let jobs: Api<Job> = w.s.api();
    cluster::assert_stays("no renewal Job", Duration::from_secs(5), Vec::new(), || {
        renewal_jobs(&jobs)
    })
    .await;
}
