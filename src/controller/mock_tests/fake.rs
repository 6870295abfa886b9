//! A fake apiserver for whole reconciles: it answers every request from an in-memory object map
//! (GET → the object or 404, server-side apply PATCH → stores and echoes the body, Event POST →
//! accepted) and records each request, so a test asserts on what the reconcile asked for.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use http::{Method, Request, Response, StatusCode};
use kube::Client;
use kube::client::Body;
use serde_json::{Value, json};

/// One request as the fake saw it.
#[derive(Clone, Debug)]
pub(super) struct Call {
    pub(super) method: Method,
    /// Path without the query.
    pub(super) path: String,
    pub(super) query: String,
    pub(super) body: Value,
}

impl Call {
    pub(super) fn is_write(&self) -> bool {
        self.method != Method::GET
    }
}

/// Objects by API path, and the calls made.
#[derive(Clone, Default)]
pub(super) struct Fake {
    objects: Arc<Mutex<BTreeMap<String, Value>>>,
    calls: Arc<Mutex<Vec<Call>>>,
    /// Paths answered with a refusal (HTTP 403) instead.
    forbidden: Arc<Mutex<Vec<String>>>,
}

impl Fake {
    /// A client whose requests this fake answers, until the client is dropped.
    pub(super) fn client(&self) -> Client {
        let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
        let fake = self.clone();
        tokio::spawn(async move {
            while let Some((request, send)) = handle.next_request().await {
                let response = fake.answer(request).await;
                send.send_response(response);
            }
        });
        Client::new(service, "data")
    }

    /// Stores `object` at `path` (as the apiserver would return it).
    pub(super) fn put(&self, path: &str, object: Value) {
        self.objects
            .lock()
            .expect("lock")
            .insert(path.to_string(), object);
    }

    pub(super) fn get(&self, path: &str) -> Option<Value> {
        self.objects.lock().expect("lock").get(path).cloned()
    }

    pub(super) fn remove(&self, path: &str) {
        self.objects.lock().expect("lock").remove(path);
    }

    /// Answers every request for `path` with 403 Forbidden from now on.
    pub(super) fn forbid(&self, path: &str) {
        self.forbidden.lock().expect("lock").push(path.to_string());
    }

    /// The calls made since the last `take_calls`.
    pub(super) fn take_calls(&self) -> Vec<Call> {
        std::mem::take(&mut *self.calls.lock().expect("lock"))
    }

    async fn answer(&self, request: Request<Body>) -> Response<Body> {
        let method = request.method().clone();
        let path = request.uri().path().to_string();
        let query = request.uri().query().unwrap_or_default().to_string();
        let bytes = request
            .into_body()
            .collect_bytes()
            .await
            .expect("request body");
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        self.calls.lock().expect("lock").push(Call {
            method: method.clone(),
            path: path.clone(),
            query,
            body: body.clone(),
        });
        let forbidden = self.forbidden.lock().expect("lock").contains(&path);
        let (status, reply) = match method {
            _ if forbidden => (StatusCode::FORBIDDEN, refusal(&path)),
            Method::GET => match self.get(&path) {
                Some(object) => (StatusCode::OK, object),
                None => (StatusCode::NOT_FOUND, not_found(&path)),
            },
            Method::PATCH => {
                let stored = self.apply(&path, body);
                (StatusCode::OK, stored)
            }
            Method::POST => (StatusCode::CREATED, body),
            Method::DELETE => {
                self.remove(&path);
                (
                    StatusCode::OK,
                    json!({"kind": "Status", "status": "Success"}),
                )
            }
            _ => (StatusCode::METHOD_NOT_ALLOWED, Value::Null),
        };
        Response::builder()
            .status(status)
            .body(Body::from(serde_json::to_vec(&reply).expect("json")))
            .expect("response")
    }

    /// A server-side apply: merges the body into what is stored (status patches into `status`).
    fn apply(&self, path: &str, body: Value) -> Value {
        let (object_path, status_only) = match path.strip_suffix("/status") {
            Some(p) => (p.to_string(), true),
            None => (path.to_string(), false),
        };
        let mut objects = self.objects.lock().expect("lock");
        let stored = objects.entry(object_path).or_insert_with(|| json!({}));
        if status_only {
            stored["status"] = body["status"].clone();
        } else {
            merge(stored, &body);
        }
        stored.clone()
    }
}

fn merge(into: &mut Value, from: &Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (a, b) => *a = b.clone(),
    }
}

fn refusal(path: &str) -> Value {
    json!({
        "kind": "Status", "apiVersion": "v1", "status": "Failure",
        "message": format!("{path} is forbidden: User \"system:serviceaccount:x:y\" cannot get it"),
        "reason": "Forbidden", "code": 403,
    })
}

fn not_found(path: &str) -> Value {
    json!({
        "kind": "Status", "apiVersion": "v1", "status": "Failure",
        "message": format!("{path} not found"), "reason": "NotFound", "code": 404,
    })
}
