//! Status: conditions and observed facts, written with server-side apply only when they changed.
//!
//! A condition keeps its `lastTransitionTime` while its status stays the same, and nothing in the
//! status changes with time alone, so a resync of an unchanged resource writes nothing.

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::api::{Patch, PatchParams};
use kube::{Api, ResourceExt};
use serde_json::json;

use crate::crd::{OidcSsoConfig, OidcSsoConfigStatus};

/// Field manager for the status subresource.
pub const STATUS_MANAGER: &str = "oidc-sso-operator/status";

/// Condition types.
pub mod types {
    pub const READY: &str = "Ready";
    pub const RECONCILING: &str = "Reconciling";
    pub const STALLED: &str = "Stalled";
    pub const SECRETS_RENDERED: &str = "SecretsRendered";
    pub const KEYS_READY: &str = "KeysReady";
    pub const WORKLOADS_UPDATED: &str = "WorkloadsUpdated";
    pub const PROVIDER_VERIFIED: &str = "ProviderVerified";
    pub const CREDENTIALS_VALID: &str = "CredentialsValid";
}

/// One condition as the reconciler decides it; times and generations are filled in later.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cond {
    pub type_: &'static str,
    /// `True`, `False` or `Unknown`.
    pub status: &'static str,
    pub reason: String,
    pub message: String,
}

impl Cond {
    pub fn new(
        type_: &'static str,
        status: bool,
        reason: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            type_,
            status: if status { "True" } else { "False" },
            reason: reason.into(),
            message: message.into(),
        }
    }

    /// A condition whose truth is not known (a check that did not run).
    pub fn unknown(
        type_: &'static str,
        reason: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            type_,
            status: "Unknown",
            reason: reason.into(),
            message: message.into(),
        }
    }
}

/// Builds the condition list, keeping transition times of conditions whose status is unchanged.
pub fn conditions(
    previous: &[Condition],
    decided: &[Cond],
    generation: Option<i64>,
    now: Timestamp,
) -> Vec<Condition> {
    decided
        .iter()
        .map(|c| {
            let status = c.status;
            let since = previous
                .iter()
                .find(|p| p.type_ == c.type_ && p.status == status)
                .map(|p| p.last_transition_time.clone())
                .unwrap_or(Time(now));
            Condition {
                type_: c.type_.to_string(),
                status: status.to_string(),
                reason: c.reason.clone(),
                // The apiserver caps messages at 32768 bytes; stay well below on a char boundary.
                message: truncate(&c.message, 4096),
                observed_generation: generation,
                last_transition_time: since,
            }
        })
        .collect()
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Writes `status` unless it equals the current one. Returns whether it wrote.
pub async fn write(
    api: &Api<OidcSsoConfig>,
    resource: &OidcSsoConfig,
    status: OidcSsoConfigStatus,
) -> Result<bool, kube::Error> {
    if resource.status.as_ref() == Some(&status) {
        return Ok(false);
    }
    let body = json!({
        "apiVersion": "oidcsso.io/v1alpha1",
        "kind": "OidcSsoConfig",
        "status": status,
    });
    api.patch_status(
        &resource.name_any(),
        &PatchParams::apply(STATUS_MANAGER).force(),
        &Patch::Apply(&body),
    )
    .await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unchanged_condition_keeps_its_transition_time() {
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let t1: Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
        let first = conditions(
            &[],
            &[Cond::new(types::READY, true, "Reconciled", "ok")],
            Some(1),
            t0,
        );
        let second = conditions(
            &first,
            &[Cond::new(types::READY, true, "Reconciled", "ok")],
            Some(1),
            t1,
        );
        assert_eq!(first, second);
        let third = conditions(
            &second,
            &[Cond::new(types::READY, false, "Broken", "no")],
            Some(2),
            t1,
        );
        assert_eq!(third[0].last_transition_time, Time(t1));
    }

    #[test]
    fn long_messages_are_truncated_on_a_char_boundary() {
        let m = "é".repeat(5000);
        let c = conditions(
            &[],
            &[Cond::new(types::READY, false, "X", m)],
            None,
            Timestamp::UNIX_EPOCH,
        );
        assert!(c[0].message.len() <= 4096 + "…".len());
    }
}
