//! Offline tests of the shipped artefacts: the renderer against OpenMetadata's own template and
//! models and the golden files, the generated CRD against the Rust types, and the Argo CD health
//! check (Lua) against status shapes. No cluster needed.
// Helpers are `pub` for the suites of this one test crate.
#![allow(unreachable_pub)]
// A failed unwrap in a helper fails its test, which is what it is there for.
#![allow(clippy::unwrap_used)]

#[path = "../support/argocd.rs"]
mod argocd;

mod argocd_health;
mod crd_drift;
mod render_openmetadata;
