//! oidc-sso-operator: renders OpenMetadata's Custom OIDC SSO settings, JWT keys and ingestion
//! `workflowConfig` from one `OidcSsoConfig` resource, verifies the OIDC provider, and rolls the
//! target workloads exactly when what they consume changes.
#![deny(rust_2018_idioms)]
#![forbid(unsafe_code)]

pub mod keys;
pub mod oidc;
pub mod crd;
pub mod sensitive;
pub mod validate;
pub mod render;
pub mod objects;
pub mod preview;
pub mod controller;
pub mod http;
pub mod metrics;
pub mod telemetry;
