//! oidc-sso-operator: renders OpenMetadata's Custom OIDC SSO settings, JWT keys and ingestion
//! `workflowConfig` from one `OidcSsoConfig` resource, verifies the OIDC provider, and rolls the
//! target workloads exactly when what they consume changes.
//!
//! Layers, each depending only on those above it:
//! - [`crd`] (the resource's types), [`names`] (every name written to the cluster),
//!   [`sensitive`] (secret values that cannot be printed);
//! - the pure core: [`references`] (what a spec references), [`validate`] (spec + inputs →
//!   validated config), [`keys`] (JWT key material), [`render`] (validated config + keys → owned
//!   Secrets and the rollout hash), [`objects`] (the Kubernetes objects built from them);
//! - [`oidc`]: the provider checks, with their own HTTP client and cache;
//! - [`controller`]: the reconcile steps that do IO, the watches, the status;
//! - process parts: [`endpoints`] (HTTP probes and metrics), [`metrics`], [`leader`] (Lease),
//!   [`telemetry`] (logs), [`scrub`] (what a person may be shown of provider text), [`preview`] (the offline `render` command), [`offline`] (its files for
//!   Docker Compose and bare metal, and its provider checks), [`errors`].
#![forbid(unsafe_code)]
// The library logs through `tracing`; only the binary prints (its command output).
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod bots;
pub(crate) mod conditions;
pub mod controller;
pub mod crd;
pub mod endpoints;
pub mod errors;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod keys;
pub mod leader;
pub mod metrics;
pub mod names;
pub mod objects;
pub mod offline;
pub mod oidc;
pub mod preview;
pub mod problem;
pub mod proof;
pub mod reasons;
pub mod references;
pub mod render;
pub mod scrub;
pub mod sensitive;
pub mod telemetry;
pub mod upgrade_preview;
pub mod urls;
pub mod validate;
pub(crate) mod verification;
