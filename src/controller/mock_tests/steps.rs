//! The API call sequence of the write steps, against a mocked apiserver (tower-test): which
//! requests go out, with which field manager, and that a steady state sends none. Behaviour
//! against a real apiserver is covered by the e2e suites.

use http::{Method, Request, Response};
use k8s_openapi::api::core::v1::Secret;
use kube::client::Body;
use kube::{Api, Client};
use serde_json::{Value, json};

use crate::controller::steps::apply::{Existing, Owner, apply_secret};
use crate::controller::steps::rollout::roll;
use crate::controller::steps::rollout::workloads::{Target, TargetState};
use crate::controller::watch::memory::WatchMemory;
use crate::crd::{TargetKind, TargetRef};
use crate::names::field_managers::{ROLLOUT as ROLLOUT_MANAGER, SECRETS as SECRETS_MANAGER};

type Handle = tower_test::mock::Handle<Request<Body>, Response<Body>>;

fn mock() -> (Client, Handle) {
    let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    (Client::new(service, "data"), handle)
}

const OWNER: Owner<'static> = Owner {
    uid: "uid-1",
    name: "om",
};

fn secret(value: &str, owner_uid: &str) -> Secret {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "om-auth-env", "namespace": "data",
            "labels": {"app.kubernetes.io/managed-by": "oidc-sso-operator"},
            "ownerReferences": [{"apiVersion": "oidcsso.io/v1alpha1", "kind": "OidcSsoConfig", "name": "om",
                "uid": owner_uid, "controller": true}]},
        "data": {"K": value},
    }))
    .unwrap()
}

/// Answers the next request with `reply` and returns what was asked.
async fn expect(handle: &mut Handle, reply: Value) -> (Method, String, Value) {
    let (request, send) = handle.next_request().await.expect("a request");
    let method = request.method().clone();
    let uri = request.uri().to_string();
    let body = request.into_body().collect_bytes().await.unwrap();
    let body: Value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).unwrap()
    };
    send.send_response(
        Response::builder()
            .body(Body::from(serde_json::to_vec(&reply).unwrap()))
            .unwrap(),
    );
    (method, uri, body)
}

/// Applies `desired` over a stored copy holding `dg==`.
async fn apply_over_stored(
    api: Api<Secret>,
    desired: Secret,
) -> Result<bool, crate::controller::steps::apply::Error> {
    let stored = secret("dg==", "uid-1");
    let memory = WatchMemory::default();
    apply_secret(
        &api,
        &desired,
        Existing::Known(Some(&stored)),
        OWNER,
        &memory,
    )
    .await
}

#[tokio::test]
async fn an_up_to_date_secret_is_not_written() {
    let (client, mut handle) = mock();
    let api: Api<Secret> = Api::namespaced(client, "data");
    let wrote = tokio::spawn(apply_over_stored(api, secret("dg==", "uid-1")));
    // A request would never be answered here, so a write would show up as this timeout.
    let wrote = tokio::time::timeout(std::time::Duration::from_secs(5), wrote)
        .await
        .expect("apply_secret made an API call in a steady state");
    assert!(!wrote.unwrap().unwrap());
    // The client is gone with the task; a request it had sent would still be queued here.
    assert!(
        handle.next_request().await.is_none(),
        "no API call in a steady state"
    );
}

#[tokio::test]
async fn a_changed_secret_is_server_side_applied_with_our_field_manager() {
    let (client, mut handle) = mock();
    let api: Api<Secret> = Api::namespaced(client, "data");
    let task = tokio::spawn(apply_over_stored(api, secret("dw==", "uid-1")));
    let (method, uri, body) = expect(
        &mut handle,
        serde_json::to_value(secret("dw==", "uid-1")).unwrap(),
    )
    .await;
    assert_eq!(method, Method::PATCH);
    assert!(
        uri.starts_with("/api/v1/namespaces/data/secrets/om-auth-env?"),
        "{uri}"
    );
    assert!(
        uri.contains(&format!(
            "fieldManager={}",
            SECRETS_MANAGER.replace('/', "%2F")
        )),
        "{uri}"
    );
    assert!(uri.contains("force=true"), "{uri}");
    assert_eq!(body["data"]["K"], "dw==");
    assert!(task.await.unwrap().unwrap());
}

#[tokio::test]
async fn a_foreign_secret_of_the_same_name_is_never_overwritten() {
    let (client, mut handle) = mock();
    let api: Api<Secret> = Api::namespaced(client, "data");
    let desired = secret("dw==", "uid-1");
    let task = tokio::spawn(async move {
        apply_secret(
            &api,
            &desired,
            Existing::Unknown,
            OWNER,
            &WatchMemory::default(),
        )
        .await
    });
    // Not in the cache: the operator reads it first, finds someone else's Secret, and stops.
    let (method, uri, _) = expect(
        &mut handle,
        serde_json::to_value(secret("eA==", "someone-else")).unwrap(),
    )
    .await;
    assert_eq!(method, Method::GET);
    assert_eq!(uri, "/api/v1/namespaces/data/secrets/om-auth-env");
    let err = task.await.unwrap().expect_err("refused");
    assert!(
        err.to_string().contains("not owned by this OidcSsoConfig"),
        "{err}"
    );
}

fn target(hash: Option<&str>) -> Target {
    Target {
        reference: TargetRef {
            kind: TargetKind::Deployment,
            name: "openmetadata".into(),
        },
        state: Some(TargetState::rolled_out_one("dep-uid", hash)),
    }
}

#[tokio::test]
async fn rolling_patches_only_the_pod_template_annotation_with_a_uid_precondition() {
    let (client, mut handle) = mock();
    let targets = vec![target(Some("sha256:old")), target(Some("sha256:new"))];
    let task = tokio::spawn(async move { roll(&client, "data", &targets, "sha256:new").await });
    let (method, uri, body) = expect(&mut handle, json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "openmetadata"}})).await;
    assert_eq!(method, Method::PATCH);
    assert!(
        uri.starts_with("/apis/apps/v1/namespaces/data/deployments/openmetadata?"),
        "{uri}"
    );
    assert!(
        uri.contains(&format!(
            "fieldManager={}",
            ROLLOUT_MANAGER.replace('/', "%2F")
        )) && uri.contains("force=true"),
        "{uri}"
    );
    assert_eq!(
        body,
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "openmetadata", "namespace": "data", "uid": "dep-uid"},
               "spec": {"template": {"metadata": {"annotations": {"oidcsso.io/config-hash": "sha256:new"}}}}})
    );
    // The second target already carries the hash: exactly one patch.
    assert_eq!(task.await.unwrap().unwrap().len(), 1);
}
