//! Renewing what a retired key signed, the server's own way (`spec.jwt.rotation.renewBotTokens`):
//! once every server pod proves the new key, one Job runs OpenMetadata's
//! `openmetadata-ops.sh regenerate-bot-tokens` (an init container: every JWT bot gets a token
//! signed by the new key, written to the database) and then `deploy-pipelines` (the ingestion
//! pipelines are redeployed with the regenerated ingestion-bot token, which they pin). Pure: what
//! to do ([`decide`]) and the Job ([`job::build`]); the controller's `renew` step does the IO.
//!
//! Once per key: the Job's name derives from the key id, and `status.keys.botTokensRenewedFor`
//! records the key it succeeded for, so a lost status write or a deleted Job never runs it twice
//! after a success. A failed Job stays (its pod's exit codes say which command failed); deleting
//! it asks for another run.

pub mod job;

use crate::proof::version::Release;

/// Where OpenMetadata's image has its operations CLI (the official chart runs it there:
/// `charts/openmetadata/templates/_helpers.tpl`, `OpenMetadata.buildDeployPipelinesCommand`).
pub const OPS_SCRIPT: &str = "/opt/openmetadata/bootstrap/openmetadata-ops.sh";

/// The first release whose operations CLI has `regenerate-bot-tokens` (OpenMetadata PR #26477).
pub const FIRST_RELEASE: Release = Release {
    major: 1,
    minor: 13,
    patch: 0,
};

/// What the renewal of one key's bot tokens is waiting for, or how it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Renewal {
    /// Done for this key (a Job succeeded): nothing to run.
    Renewed,
    /// The operator runs without `--bot-token-renewal`: it creates no Jobs.
    OperatorOff,
    /// The proof is off (for the resource or the operator): nothing says the pods run the new
    /// key, so the Job never starts.
    ProofOff,
    /// Not every pod proves the new key yet.
    AwaitingProof,
    /// The servers run a release without `regenerate-bot-tokens`, or did not say which.
    CommandMissing {
        /// The newest release a target's pods reported.
        release: Option<Release>,
    },
    /// Run (or follow) the Job of this name.
    Run {
        /// The Job's name.
        job: String,
    },
}

/// What the renew step knows when it decides.
#[derive(Clone, Debug)]
pub struct Facts<'a> {
    /// The resource's name (the Job's name starts with it).
    pub resource: &'a str,
    /// The key the servers sign with now.
    pub key_id: &'a str,
    /// `status.keys.botTokensRenewedFor`: the key the last successful renewal was for.
    pub renewed_for: Option<&'a str>,
    /// The proof: `None` when it is off; else whether every pod of every target proves the
    /// rendering (the new key included).
    pub proven: Option<bool>,
    /// The newest release the target pods reported.
    pub release: Option<Release>,
    /// The operator may create Jobs (`--bot-token-renewal`).
    pub operator_allows: bool,
}

/// What to do for the current key.
pub fn decide(facts: &Facts<'_>) -> Renewal {
    if facts.renewed_for == Some(facts.key_id) {
        return Renewal::Renewed;
    }
    if !facts.operator_allows {
        return Renewal::OperatorOff;
    }
    match facts.proven {
        None => return Renewal::ProofOff,
        Some(false) => return Renewal::AwaitingProof,
        Some(true) => {}
    }
    match facts.release {
        Some(r) if r >= FIRST_RELEASE => Renewal::Run {
            job: job_name(facts.resource, facts.key_id),
        },
        release => Renewal::CommandMissing { release },
    }
}

/// `<resource>-bots-<10 hex digits of the key id's SHA-256>`: one per key, at most 63 characters
/// (the Job controller puts it in a label), whatever the key id holds.
pub fn job_name(resource: &str, key_id: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(key_id.as_bytes());
    let hex: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    // The schema keeps resource names short enough for a label value (63); leave room.
    let prefix: String = resource
        .chars()
        .take(63 - "-bots-".len() - hex.len())
        .collect();
    format!("{}-bots-{hex}", prefix.trim_end_matches(['-', '.']))
}

#[cfg(test)]
mod tests;
