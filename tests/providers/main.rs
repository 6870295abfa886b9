//! The suites against real OpenID provider processes that need no cluster: the provider checks
//! (`oidc_sso_operator::oidc`) against the test provider (panva's oidc-provider on Node) and every
//! provider profile it plays, the profiles against the real servers they stand for (Keycloak,
//! Dex), and `oidc-sso-operator render --verify`. Everything listens on 127.0.0.1.
//!
//! A test binary of its own, so that these run without `make cluster-up`:
//! `cargo test --features providers --test providers` (node, openssl and a JVM; the providers are
//! installed or built on first use and cached). The operator against the same providers on the
//! control plane is in the e2e binary (provider_operator.rs, real_providers.rs, hydra.rs).
// Helpers are `pub` for the suites of this one test crate.
#![allow(unreachable_pub)]
// A failed unwrap in a helper fails its test, which is what it is there for.
#![allow(clippy::unwrap_used)]

/// The shared test kit (testkit/), under the name the suites use.
use oidc_sso_testkit as support;

mod dex;
mod keycloak;
mod oidc_checks;
mod provider_checks;
mod provider_profiles;
mod render_verify;
