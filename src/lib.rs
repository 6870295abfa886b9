//! oidc-sso-operator: renders OpenMetadata's Custom OIDC SSO settings, JWT keys and ingestion
//! `workflowConfig` from one `OidcSsoConfig` resource, verifies the OIDC provider, and rolls the
//! target workloads exactly when what they consume changes.
#![deny(rust_2018_idioms)]
#![forbid(unsafe_code)]

pub mod controller;
pub mod crd;
pub mod http;
pub mod keys;
pub mod leader;
pub mod metrics;
pub mod objects;
pub mod oidc;
pub mod preview;
pub mod render;
pub mod sensitive;
pub mod telemetry;
pub mod validate;
