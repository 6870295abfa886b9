//! Offline tests of the shipped artefacts: the renderer against OpenMetadata's own template and
//! models and the golden files, the generated CRD against the Rust types, the Argo CD health
//! check (Lua) against status shapes, the values that wire the operator into OpenMetadata's
//! official chart (`helm template`), our chart's alerts and dashboard (promtool), and one version
//! across the release artifacts. No cluster needed; helm and promtool are.
// Helpers are `pub` for the suites of this one test crate.
#![allow(unreachable_pub)]
// A failed unwrap in a helper fails its test, which is what it is there for.
#![allow(clippy::unwrap_used)]

// The shared test kit (testkit/); `cluster` finds helm and promtool exactly as the e2e suites do.
use oidc_sso_testkit::{argocd, monitoring, official_chart, replaying_idp, tools as cluster};

mod argocd_health;
mod compose;
mod crd_drift;
mod hostile_provider;
mod jvm;
mod jwks_file_url;
mod keys_dir;
mod lint_imports;
mod monitoring_chart;
mod offline_cli;
mod om_standin;
mod openmetadata_chart;
mod release;
mod render_openmetadata;
mod shell_env;
mod upgrade_corpus;
