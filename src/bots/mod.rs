//! Renewing what a retired key signed, the server's own way (`spec.jwt.rotation.renewBotTokens`):
//! once every server pod proves the new key, a Job runs OpenMetadata's `openmetadata-ops.sh
//! regenerate-bot-tokens` (every JWT bot gets a token signed by the new key, written to the
//! database), and, once the servers' bot-token cache has let go of the old tokens, a second Job
//! runs `deploy-pipelines` (the ingestion pipelines are redeployed with the regenerated
//! ingestion-bot token, which they pin). Pure: what to do ([`decide`], [`next`]) and the Jobs
//! ([`job::build`]); the controller's `renew` step does the IO.
//!
//! Once per key: the Jobs' names derive from the key id, and `status.keys.botTokensRenewedFor`
//! records the key they succeeded for, so a lost status write or a deleted Job never runs them
//! twice after a success. A failed Job stays (its pod's exit code says why); deleting it asks for
//! another run.

pub mod job;

use crate::proof::version::Release;

/// Where OpenMetadata's image has its operations CLI (the official chart runs it there:
/// `charts/openmetadata/templates/_helpers.tpl`, `OpenMetadata.buildDeployPipelinesCommand`).
pub const OPS_SCRIPT: &str = "/opt/openmetadata/bootstrap/openmetadata-ops.sh";

/// The first release whose operations CLI has `regenerate-bot-tokens`: OpenMetadata PR #26477
/// (merged 2026-03-16), listed under "What's New" in the 1.13.0 release notes
/// (`snippets/releases/1.13.0.mdx` @ a845d4e3 of OpenMetadata's docs) and in none of 1.12.3 to
/// 1.12.11's. Older releases' picocli refuses the unknown subcommand with exit code 2.
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
    /// Run (or follow) the renewal's Jobs.
    Run,
}

/// What the renew step knows when it decides.
#[derive(Clone, Debug)]
pub struct Facts<'a> {
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
        Some(r) if r >= FIRST_RELEASE => Renewal::Run,
        release => Renewal::CommandMissing { release },
    }
}

/// The two commands, in the order they run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// `regenerate-bot-tokens`: every JWT bot's token, signed by the current key.
    Regenerate,
    /// `deploy-pipelines`: every ingestion pipeline, redeployed with the stored ingestion-bot
    /// token (which it authenticates with, so after [`Command::Regenerate`]).
    Deploy,
}

impl Command {
    /// The `openmetadata-ops.sh` subcommand.
    pub fn subcommand(self) -> &'static str {
        match self {
            Command::Regenerate => "regenerate-bot-tokens",
            Command::Deploy => "deploy-pipelines",
        }
    }

    /// What its Job's name says after the resource's name.
    fn infix(self) -> &'static str {
        match self {
            Command::Regenerate => "bots",
            Command::Deploy => "pipelines",
        }
    }
}

/// How long after `regenerate-bot-tokens` the pipelines are redeployed: a server keeps each bot's
/// stored token in its `BotTokenCache` for two minutes after loading it (`expireAfterWrite(2,
/// MINUTES)`, `openmetadata-service/.../security/auth/BotTokenCache.java` @ 4d497f44), and
/// rejects a bearer that differs from the cached one, so `deploy-pipelines` authenticating with
/// the new ingestion-bot token earlier would get 401 from a server that had checked the old one
/// (as bots do through the grace window). Thirty seconds more for clock skew between nodes.
pub const BOT_TOKEN_CACHE_WAIT: std::time::Duration = std::time::Duration::from_secs(150);

/// A renewal Job as the renew step finds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobState {
    /// No Job of that name.
    Absent,
    /// A Job of that name the operator did not create.
    Foreign,
    /// Created, not finished.
    Running,
    /// Failed; the exit code of its container, when its pod still says.
    Failed(Option<i32>),
    /// Succeeded, at this time.
    Complete(jiff::Timestamp),
}

/// The renewal's next move, from its two Jobs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// Create the Job of this command.
    Create(Command),
    /// The Job of this command runs: look again soon.
    Follow(Command),
    /// Regenerated; `deploy-pipelines` waits until then (the servers' bot-token cache).
    WaitUntil(jiff::Timestamp),
    /// Both succeeded.
    Done,
    /// The Job of this command failed (its container's exit code, if known).
    Failed(Command, Option<i32>),
    /// A Job of this command's name is not the operator's.
    Foreign(Command),
}

/// What to do next, from the two Jobs of the current key at `now`.
pub fn next(regenerate: &JobState, deploy: &JobState, now: jiff::Timestamp) -> Next {
    let follow = |state: &JobState, command| match state {
        JobState::Absent => Next::Create(command),
        JobState::Foreign => Next::Foreign(command),
        JobState::Running => Next::Follow(command),
        JobState::Failed(code) => Next::Failed(command, *code),
        JobState::Complete(_) => Next::Done,
    };
    let JobState::Complete(regenerated) = regenerate else {
        return follow(regenerate, Command::Regenerate);
    };
    if *deploy == JobState::Absent {
        let wait = jiff::SignedDuration::try_from(BOT_TOKEN_CACHE_WAIT).unwrap_or_default();
        let until = regenerated.checked_add(wait).unwrap_or(*regenerated);
        if now < until {
            return Next::WaitUntil(until);
        }
    }
    follow(deploy, Command::Deploy)
}

/// `<resource>-<bots|pipelines>-<10 hex digits of the key id's SHA-256>`: one per key and
/// command, at most 63 characters (the Job controller puts it in a label), whatever the key id
/// holds.
pub fn job_name(resource: &str, key_id: &str, command: Command) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(key_id.as_bytes());
    let hex: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    let infix = command.infix();
    let room = 63 - infix.len() - hex.len() - 2;
    let prefix: String = resource.chars().take(room).collect();
    format!("{}-{infix}-{hex}", prefix.trim_end_matches(['-', '.']))
}

#[cfg(test)]
mod tests;
