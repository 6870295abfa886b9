//! A real Ory Hydra (v2.3.0, see `support::hydra`), a Custom OIDC provider for OpenMetadata, against
//! the operator:
//! - the operator proves a correct Hydra client, and names and holds a wrong secret and an
//!   unregistered callback URL;
//! - Hydra accepts a client's secret only by the authentication method the client is registered
//!   for (`client_secret_basic` unless told otherwise), while OpenMetadata's server sends it as
//!   `spec.provider.clientAuthenticationMethod` says (`client_secret_post` by default): a client
//!   registered for Basic with the spec left at post would fail every login, so the operator names
//!   it and holds; with the spec saying `client_secret_basic` the same client is proved.

use serde_json::json;

use crate::provider_operator::{
    CALLBACK, CLIENT, condition, expect_condition, expect_proved_and_held, provider_spec,
    server_with_client,
};
use crate::support::hydra::{Hydra, HydraClient};
use crate::support::oidc::random_secret;

async fn hydra(secret: &str, auth_method: &str) -> Hydra {
    let hydra = Hydra::start().await.expect("Hydra");
    hydra
        .register(&HydraClient {
            id: CLIENT,
            secret,
            redirect_uris: &[CALLBACK],
            auth_method,
        })
        .await
        .unwrap_or_else(|e| panic!("{e:#}\n{}", hydra.log()));
    hydra
}

#[tokio::test]
async fn the_operator_proves_a_real_hydra_client_and_holds_a_wrong_secret_or_callback() {
    let secret = random_secret();
    let real = hydra(&secret, "client_secret_post").await;
    expect_proved_and_held("hydra-real", &real.issuer(), None, &secret).await;
}

#[tokio::test]
async fn a_client_registered_for_basic_auth_is_held_until_the_spec_says_so() {
    let secret = random_secret();
    let real = hydra(&secret, "client_secret_basic").await;
    let env = server_with_client("hydra-basic", &secret).await;

    // The spec left at OpenMetadata's default (client_secret_post): named, held, nothing rolls.
    env.apply_config(provider_spec(&real.issuer(), None, json!({})))
        .await;
    let cr = env
        .wait_condition("CredentialsValid", "False", Some("InvalidClient"))
        .await;
    let creds = condition(&cr, "CredentialsValid");
    assert!(
        creds
            .message
            .contains("not registered for client_secret_post"),
        "{}",
        creds.message
    );
    assert_eq!(condition(&cr, "Ready").status, "False");
    assert_eq!(env.replica_sets().await, 1, "no rollout");

    // The spec saying what the client is registered for: proved, rolled once.
    env.apply_config(provider_spec(
        &real.issuer(),
        None,
        json!({"clientAuthenticationMethod": "client_secret_basic"}),
    ))
    .await;
    let cr = env.wait_ready().await;
    expect_condition(&cr, "CredentialsValid", ("True", "Valid"), "hydra");
    assert_eq!(env.replica_sets().await, 2, "one rollout");
}
