//! The operator against real providers' servers, as a platform team configures it: a correct
//! client ends `Ready` with the secret proved and the login accepted and rolls once; a wrong
//! secret and an unregistered callback URL are named and hold the rollout (Hydra: hydra.rs).
//! That each server answers the checks as its profile does: tests/providers/{keycloak,dex}.rs.

use crate::provider_operator::expect_proved_and_held;
use crate::support::dex::{Dex, DexClient};
use crate::support::keycloak::{Keycloak, login_client};
use crate::support::oidc::{CALLBACK, CLIENT, random_secret};

#[tokio::test]
async fn the_operator_proves_a_real_keycloak_client_and_holds_a_wrong_secret_or_callback() {
    let keycloak = Keycloak::start().await.expect("Keycloak");
    let secret = random_secret();
    keycloak
        .create_realm(vec![login_client(CLIENT, &secret, CALLBACK)])
        .await
        .unwrap_or_else(|e| panic!("{e:#}\n{}", keycloak.log()));
    expect_proved_and_held("keycloak-real", &keycloak.issuer(), None, &secret).await;
}

#[tokio::test]
async fn the_operator_proves_a_real_dex_client_and_holds_a_wrong_secret_or_callback() {
    let secret = random_secret();
    let dex = Dex::start(&[DexClient {
        id: CLIENT,
        secret: &secret,
        redirect_uris: &[CALLBACK],
    }])
    .await
    .expect("Dex");
    expect_proved_and_held("dex-real", &dex.issuer(), None, &secret).await;
}
