//! What the test binaries share: the repository's tools ([`tools`]), the cluster ([`cluster`]),
//! the operator process ([`operator`]), the OIDC provider process ([`oidc`]), Helm releases of our
//! chart ([`chart`]), the standard scenario ([`scenario`]), hostile providers ([`hostile_idp`],
//! [`replaying_idp`]), plain HTTP requests ([`http`]), a real Keycloak ([`keycloak`]), Dex
//! ([`dex`]) and Hydra ([`hydra`]) in process groups ([`process_group`]) and real providers
//! compared with their profiles ([`side_by_side`]), the Argo CD health check ([`argocd`]), the
//! check of OpenMetadata's official chart ([`official_chart`]) and promtool with the chart's alert
//! rules ([`monitoring`]).
//!
//! A crate of its own (a dev-dependency of the operator), so each test binary uses what it needs
//! of it without mounting source files and without dead code.
// A failed unwrap in a helper fails its test, which is what it is there for.
#![allow(clippy::unwrap_used)]

pub mod argocd;
pub mod chart;
pub mod cluster;
pub mod dex;
pub mod hostile_idp;
pub mod http;
pub mod hydra;
pub mod keycloak;
pub mod monitoring;
pub mod official_chart;
pub mod oidc;
pub mod operator;
pub mod process_group;
pub mod replaying_idp;
pub mod scenario;
pub mod side_by_side;
pub mod tools;
