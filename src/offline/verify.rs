//! The provider checks of the offline CLI: the operator's own verification step (the same
//! request, the same checks, the same condition types, reasons and messages), run once and
//! waited for, with the address policy given on the command line.

use std::fmt;
use std::time::Duration;

use crate::oidc::{AddressPolicy, CheckerConfig, ProviderChecker};
use crate::render::ProviderEndpoints;
use crate::validate::ValidatedConfig;

/// How long a check may take in all: the checks have their own connect and request timeouts,
/// so this only bounds a provider that trickles its answers.
const WAIT: Duration = Duration::from_secs(300);

/// One condition as the operator would write it in the resource's status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConditionLine {
    /// `type`, e.g. `ProviderVerified`.
    pub type_: &'static str,
    /// `status`: `True`, `False` or `Unknown`.
    pub status: &'static str,
    /// `reason`, CamelCase.
    pub reason: String,
    /// `message`; never a secret value.
    pub message: String,
}

impl fmt::Display for ConditionLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}={} {}: {}",
            self.type_, self.status, self.reason, self.message
        )
    }
}

/// What the checks found.
#[derive(Clone, Debug)]
pub struct OfflineVerification {
    /// The conditions, in the order the operator decides them.
    pub conditions: Vec<ConditionLine>,
    /// What discovery found, to render with.
    pub endpoints: ProviderEndpoints,
    /// The reason of the check that failed, when one did: the operator would not roll this
    /// configuration out.
    pub failed: Option<&'static str>,
}

/// Runs the checks `config` asks for, connecting only where `addresses` allows.
pub async fn verify(config: &ValidatedConfig, addresses: AddressPolicy) -> OfflineVerification {
    let checker = ProviderChecker::new(CheckerConfig {
        wait: WAIT,
        addresses,
        ..CheckerConfig::default()
    });
    let v = crate::verification::verify(&checker, config, None, || ()).await;
    OfflineVerification {
        conditions: v
            .conditions
            .iter()
            .map(|c| ConditionLine {
                type_: c.type_.as_str(),
                status: c.truth.as_str(),
                reason: c.reason.to_string(),
                message: c.message.clone(),
            })
            .collect(),
        endpoints: v.endpoints,
        failed: v.failure.map(|f| f.reason.as_str()),
    }
}
