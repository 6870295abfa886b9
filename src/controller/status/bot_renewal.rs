//! `BotTokensRenewed` (only with `spec.jwt.rotation.renewBotTokens`): whether the bots have tokens
//! signed by the current key, renewed by the Job the `renew` step runs. Pure. Reported, not
//! blocking `Ready`: the server runs either way, and the retired key keeps the old tokens working
//! until its grace window ends (the message says until when).

use super::conditions::{Cond, ConditionType};
use crate::bots::{Command, FIRST_RELEASE, Renewal};
use crate::controller::steps::renew::Renew;
use crate::reasons::Reason;

/// The condition for `renew`; `until` is when the previous key's grace window ends, if one is
/// kept.
pub(crate) fn condition(renew: &Renew, key_id: &str, until: Option<&str>) -> Cond {
    let cond = |truth: Option<bool>, reason: Reason, message: String| match truth {
        Some(t) => Cond::new(ConditionType::BotTokensRenewed, t, reason, message),
        None => Cond::unknown(ConditionType::BotTokensRenewed, reason, message),
    };
    let meanwhile = match until {
        Some(t) => format!("the previous key's tokens keep working until {t}"),
        None => "no previous key is kept (gracePeriod 0s): bot tokens signed by it fail now".into(),
    };
    let first = format!("{}.{}", FIRST_RELEASE.major, FIRST_RELEASE.minor);
    match renew {
        Renew::Decided(Renewal::Renewed) => cond(
            Some(true),
            Reason::Renewed,
            format!("the bots have tokens signed by key {key_id}"),
        ),
        Renew::Decided(Renewal::OperatorOff) => cond(
            Some(false),
            Reason::RenewalOff,
            format!(
                "the operator creates no renewal Jobs (it runs without --bot-token-renewal; chart \
                 value botTokenRenewal: true grants it); {meanwhile}"
            ),
        ),
        Renew::Decided(Renewal::ProofOff) => cond(
            Some(false),
            Reason::ProofOff,
            format!(
                "renewing the bot tokens waits for every server pod to prove key {key_id}, and the \
                 server proof is off; {meanwhile}"
            ),
        ),
        Renew::Decided(Renewal::AwaitingProof) => cond(
            None,
            Reason::AwaitingProof,
            format!("waiting for every server pod to prove key {key_id}; {meanwhile}"),
        ),
        Renew::Decided(Renewal::CommandMissing { release }) => cond(
            Some(false),
            Reason::CommandMissing,
            format!(
                "the servers run {}, whose openmetadata-ops.sh has no regenerate-bot-tokens (first \
                 in OpenMetadata {first}, PR #26477): regenerate each bot's token in Settings > \
                 Bots, then redeploy the pipelines (docs/rotating-keys.md); {meanwhile}",
                release.map_or_else(
                    || "a release they did not name".to_string(),
                    |r| r.to_string()
                )
            ),
        ),
        Renew::Decided(Renewal::Run) => cond(
            None,
            Reason::Renewing,
            format!("the renewal Jobs for key {key_id} start; {meanwhile}"),
        ),
        Renew::Running { job, command } => cond(
            None,
            Reason::Renewing,
            format!(
                "Job {job} runs {} for key {key_id}{}; {meanwhile}",
                command.subcommand(),
                match command {
                    Command::Regenerate => ", then deploy-pipelines",
                    Command::Deploy => " (the bots are renewed)",
                }
            ),
        ),
        Renew::Waiting { until } => cond(
            None,
            Reason::Renewing,
            format!(
                "the bots have tokens signed by key {key_id}; deploy-pipelines starts at {until}, once \
                 the servers' bot-token cache (2 minutes) holds the new ones; {meanwhile}"
            ),
        ),
        Renew::Succeeded => cond(
            Some(true),
            Reason::Renewed,
            format!(
                "the bots have tokens signed by key {key_id} and the pipelines were redeployed with them"
            ),
        ),
        Renew::Failed {
            job,
            command,
            exit_code,
        } => cond(
            Some(false),
            Reason::RenewalFailed,
            format!(
                "Job {job} ({}) failed{}: see its pod's log, then delete the Job to run it again; \
                 {meanwhile}",
                command.subcommand(),
                exit_code.map_or_else(String::new, |code| format!(" with exit code {code}"))
            ),
        ),
        Renew::Foreign { job } => cond(
            Some(false),
            Reason::JobNameTaken,
            format!(
                "a Job named {job} exists that the operator did not create; it is left alone and \
                 the bot tokens are not renewed until it is gone; {meanwhile}"
            ),
        ),
        Renew::NoJob { target, why } => cond(
            Some(false),
            Reason::NoJob,
            format!("no renewal Job can be built from {target}: {why}; {meanwhile}"),
        ),
    }
}

/// The key `status.keys.botTokensRenewedFor` names after this reconcile.
pub(crate) fn renewed_for(
    renew: Option<&Renew>,
    key_id: &str,
    before: Option<&str>,
) -> Option<String> {
    match renew {
        Some(Renew::Succeeded) => Some(key_id.to_string()),
        _ => before.map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::status::conditions::Truth;
    use crate::proof::version::Release;

    fn job() -> String {
        "om-bots-0123456789".into()
    }

    #[test]
    fn each_outcome_has_its_reason_and_says_until_when_the_old_tokens_work() {
        let until = Some("2026-12-10T00:00:00Z");
        let table: Vec<(Renew, Truth, &str)> = vec![
            (Renew::Decided(Renewal::Renewed), Truth::True, "Renewed"),
            (Renew::Decided(Renewal::ProofOff), Truth::False, "ProofOff"),
            (
                Renew::Decided(Renewal::OperatorOff),
                Truth::False,
                "RenewalOff",
            ),
            (
                Renew::Decided(Renewal::AwaitingProof),
                Truth::Unknown,
                "AwaitingProof",
            ),
            (
                Renew::Decided(Renewal::CommandMissing {
                    release: Release::parse("1.9.4"),
                }),
                Truth::False,
                "CommandMissing",
            ),
            (
                Renew::Running {
                    job: job(),
                    command: Command::Regenerate,
                },
                Truth::Unknown,
                "Renewing",
            ),
            (
                Renew::Waiting {
                    until: jiff::Timestamp::UNIX_EPOCH,
                },
                Truth::Unknown,
                "Renewing",
            ),
            (Renew::Succeeded, Truth::True, "Renewed"),
            (
                Renew::Failed {
                    job: job(),
                    command: Command::Deploy,
                    exit_code: Some(1),
                },
                Truth::False,
                "RenewalFailed",
            ),
            (Renew::Foreign { job: job() }, Truth::False, "JobNameTaken"),
        ];
        for (renew, truth, reason) in table {
            let c = condition(&renew, "kid-2", until);
            assert_eq!((c.truth, c.reason.as_ref()), (truth, reason), "{renew:?}");
            assert_eq!(c.type_, ConditionType::BotTokensRenewed);
            if truth != Truth::True {
                assert!(
                    c.message.contains("until 2026-12-10T00:00:00Z"),
                    "{}",
                    c.message
                );
            }
        }
        let missing = condition(
            &Renew::Decided(Renewal::CommandMissing {
                release: Release::parse("1.9.4"),
            }),
            "kid-2",
            None,
        );
        assert!(missing.message.contains("1.9.4") && missing.message.contains("1.13"));
        assert!(
            missing.message.contains("gracePeriod 0s"),
            "{}",
            missing.message
        );
        let failed = condition(
            &Renew::Failed {
                job: job(),
                command: Command::Regenerate,
                exit_code: Some(3),
            },
            "kid-2",
            until,
        );
        assert!(
            failed
                .message
                .contains("(regenerate-bot-tokens) failed with exit code 3"),
            "{}",
            failed.message
        );
        assert!(failed.message.contains("delete the Job"));
    }

    #[test]
    fn only_a_succeeded_job_moves_the_renewed_key() {
        let succeeded = Renew::Succeeded;
        assert_eq!(
            renewed_for(Some(&succeeded), "k2", Some("k1")).as_deref(),
            Some("k2")
        );
        for other in [
            Renew::Running {
                job: job(),
                command: Command::Deploy,
            },
            Renew::Failed {
                job: job(),
                command: Command::Deploy,
                exit_code: None,
            },
            Renew::Decided(Renewal::AwaitingProof),
        ] {
            assert_eq!(
                renewed_for(Some(&other), "k2", Some("k1")).as_deref(),
                Some("k1")
            );
        }
        assert_eq!(renewed_for(None, "k2", None), None);
    }
}
