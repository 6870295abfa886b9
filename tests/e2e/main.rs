//! End-to-end suites: the operator binary, a real OIDC provider, `helm` and `kubectl` against the
//! local control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok) that
//! `make cluster-up` starts. One test binary; each test has its own namespace and its own
//! operator process. Run with `cargo test --features e2e --test e2e`.
// Helpers are `pub` for the suites of this one test crate.
#![allow(unreachable_pub)]
// A failed unwrap in a helper fails its test, which is what it is there for.
#![allow(clippy::unwrap_used)]

/// The shared test kit (testkit/), under the name the suites use.
use oidc_sso_testkit as support;

mod admission;
mod chart;
mod controller;
mod gitops;
mod ha;
mod hostile;
mod hydra;
mod monitoring;
mod om_chart;
mod provider;
mod provider_operator;
mod real_providers;
mod smoke;
mod stateful_set;
mod upgrade_preview;
