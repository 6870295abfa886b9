//! `oidc-sso-operator preview-upgrade` against the live resources of the local control plane, as
//! a user runs it before upgrading: the binary with the admin kubeconfig. A settled resource rolls
//! nothing; a change the running operator has not acted on yet (it is stopped) shows as a rollout
//! naming the entries, never their values, and predicts the hash the operator then writes; a
//! suspended resource cannot be told.

use kube::api::{Patch, PatchParams};
use serde_json::json;

use crate::support::operator;
use crate::support::scenario::{NAME, Scenario, confidential_spec};

/// The line about the usual resource.
fn line<'a>(text: &'a str, ns: &str) -> &'a str {
    let prefix = format!("{ns}/{NAME}: ");
    text.lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no line for {prefix} in\n{text}"))
}

#[tokio::test]
async fn preview_upgrade_reads_the_live_resources_and_predicts_the_rollout() {
    let mut env = Scenario::start("upgrade-preview", &[]).await;
    env.put_credentials("first-secret").await;
    env.create_server(1).await;
    env.create_config(confidential_spec())
        .await
        .expect("create");
    let first = env.wait_ready().await.status.unwrap().config_hash.unwrap();
    env.op().wait_idle().await;

    let (code, text) = operator::preview_upgrade(&env.ns);
    assert_eq!(code, 0, "{text}");
    assert_eq!(
        line(&text, &env.ns),
        format!(
            "{}/{NAME}: rolls nothing ({first}, as the targets run now)",
            env.ns
        )
    );

    // Changes the stopped operator has not seen: a new client secret and one more admin.
    env.op().stop();
    env.put_credentials("second-secret").await;
    let mut spec = confidential_spec();
    spec["authorizer"]["adminPrincipals"] = json!(["alice", "bob"]);
    env.configs()
        .patch(
            NAME,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": spec})),
        )
        .await
        .expect("patch the spec");
    let (code, text) = operator::preview_upgrade(&env.ns);
    assert_eq!(code, 3, "{text}");
    let rolls = line(&text, &env.ns);
    assert!(
        rolls.contains(&format!("ROLLS its targets once ({first} -> sha256:")),
        "{rolls}"
    );
    assert!(
        rolls.ends_with(
            "differs: auth-env/AUTHORIZER_ADMIN_PRINCIPALS, auth-env/OIDC_CLIENT_SECRET"
        ),
        "{rolls}"
    );
    for value in ["first-secret", "second-secret"] {
        assert!(!text.contains(value), "a value is printed:\n{text}");
    }
    let predicted = rolls
        .split(" -> ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .expect("the new hash")
        .to_string();

    // The operator, started again, writes the hash the preview predicted.
    env.op().restart().await;
    assert_eq!(env.wait_new_hash(&first).await, predicted);
    assert_eq!(env.replica_sets().await, 3, "one more rollout");

    // A suspended resource is not reconciled: nothing to predict.
    env.configs()
        .patch(
            NAME,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"suspend": true}})),
        )
        .await
        .expect("suspend");
    let (code, text) = operator::preview_upgrade(&env.ns);
    assert_eq!(code, 0, "{text}");
    assert!(
        line(&text, &env.ns).contains("cannot tell: spec.suspend is true"),
        "{text}"
    );
}
