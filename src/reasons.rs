//! Every condition and Event reason the operator writes: one vocabulary, the operator's public
//! API for Argo CD health checks, alerts, dashboards and the docs.
//!
//! Declared through the `reasons!` macro, which takes each reason only together with its doc comment: a
//! reason added without one does not compile. `docs/reasons.md` is generated from this list
//! (`scripts/generate.sh`; `make lint` fails when it is out of date), so the reference cannot
//! drift from what the operator writes. A reason is renamed only with a note in
//! `docs/upgrading.md`: alerts and health checks match on these strings.

/// Declares [`Reason`]: sections of reasons, each with at least one `///` line.
macro_rules! reasons {
    ($( $section:literal { $( $(#[doc = $doc:literal])+ $name:ident, )+ } )+) => {
        /// A condition or Event reason (see the module's header).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Reason {
            $($( $(#[doc = $doc])+ $name, )+)+
        }

        impl Reason {
            /// Every reason, in the order of the reference.
            pub const ALL: &'static [Reason] = &[$($(Reason::$name,)+)+];

            /// The CamelCase string written to the cluster (stable, low-cardinality: usable as
            /// a metric label).
            pub fn as_str(self) -> &'static str {
                match self { $($(Reason::$name => stringify!($name),)+)+ }
            }

            /// What it means, from its doc comment.
            pub fn doc(self) -> &'static str {
                match self { $($(Reason::$name => concat!($($doc),+),)+)+ }
            }

            /// The heading it is listed under (the conditions that report it).
            pub fn section(self) -> &'static str {
                match self { $($(Reason::$name => $section,)+)+ }
            }
        }
    };
}

reasons! {
    "Ready, Reconciling, Stalled" {
        /// Every target runs the current configuration (and, with the proof on, every server pod
        /// proved it).
        Reconciled,
        /// `spec.suspend` is true: nothing is written or rolled.
        Suspended,
        /// The spec is invalid; the message names the field.
        InvalidSpec,
        /// A URL uses `http` where `https` is required (allow it per provider with
        /// `spec.provider.allowInsecureHttp`).
        InsecureUrl,
        /// The client credentials Secret does not exist (yet): Reconciling until it appears.
        CredentialsSecretNotFound,
        /// The credentials Secret lacks a key or holds an unusable value.
        InvalidCredentials,
        /// A referenced Secret or ConfigMap does not exist (yet): Reconciling until it appears.
        ReferenceNotFound,
        /// A referenced Secret or ConfigMap lacks the key or holds an unusable value.
        InvalidReference,
        /// The provided JWT key (`spec.jwt.keySecretRef`) is not a usable RSA key pair.
        InvalidKey,
        /// An output Secret name is taken by a Secret this resource does not own.
        SecretNameConflict,
        /// A target is rolled by an older resource in the namespace.
        TargetConflict,
        /// The object cannot be reconciled as stored (no namespace).
        InvalidObject,
        /// Reading a referenced object or a target failed (the message says which).
        ReadFailed,
        /// Generating, reading or storing the JWT key pair failed.
        KeysFailed,
        /// Writing an owned Secret failed.
        ApplyFailed,
        /// Patching a target's pod template failed.
        RolloutFailed,
        /// Asking the server pods for the proof failed before any answer.
        ProofFailed,
        /// A bot-token renewal Job failed (also a `BotTokensRenewed` reason).
        RenewalFailed,
        /// Writing the status failed.
        StatusWriteFailed,
    }
    "SecretsRendered" {
        /// The owned Secrets hold the current rendering.
        Applied,
        /// A provider check failed, so the new rendering is held back and the targets keep the
        /// last good one.
        Held,
    }
    "KeysReady" {
        /// The operator generated the key pair.
        Generated,
        /// The key pair comes from `spec.jwt.keySecretRef`.
        Provided,
        /// The keys Secret was lost and a new pair was generated: tokens signed by the old one
        /// no longer verify.
        RegeneratedAfterLoss,
    }
    "WorkloadsUpdated" {
        /// Every target runs the current configuration.
        RolledOut,
        /// A target is rolling out the current configuration.
        RollingOut,
        /// A changed configuration is held back while a provider check fails.
        RolloutHeld,
        /// `spec.targets` is empty: nothing to roll.
        NoTargets,
        /// A target does not exist.
        TargetMissing,
    }
    "SettingsLoaded" {
        /// Every target's pods load the settings and mount the keys where the settings point.
        Loaded,
        /// No container loads the settings Secret with `envFrom`.
        SettingsNotLoaded,
        /// An `env` entry or a later `envFrom` source overrides a rendered setting.
        SettingsShadowed,
        /// The keys Secret is not mounted where the settings point.
        KeysNotMounted,
        /// The release reads its settings from its database copy and the pods do not run
        /// `openmetadata-ops.sh remove-security-config --force` first.
        ResetMissing,
    }
    "ServerConfirmed" {
        /// Every Ready pod of every target serves the rendered key and settings.
        Confirmed,
        /// The targets are still rolling out; the proof waits.
        AwaitingRollout,
        /// The pods are Ready but have not answered yet (asked again shortly).
        AwaitingServer,
        /// Pods Ready for over two minutes do not answer on the proof port.
        ServerNotAnswering,
        /// A pod serves a JWKS without key id: its server did not load the key files.
        KeyNotLoaded,
        /// A pod signs with another key than the rendered one.
        ServerKeyDiffers,
        /// The server's database copy of the settings overrides the rendered ones.
        DatabaseOverrides,
        /// A pod runs other authentication settings than the rendered ones.
        ServerSettingsDiffer,
        /// A pod's answer could not be read as OpenMetadata's.
        ServerAnswerUnreadable,
        /// The proof is off (for the resource or the operator); Ready means rolled out (also a
        /// `BotTokensRenewed` reason: renewal needs the proof).
        ProofOff,
    }
    "BotTokenValid" {
        /// The ingestion bot token is signed by the current key.
        SignedByCurrentKey,
        /// The bot token is signed by a retired key, accepted until its grace window ends.
        SignedByRetiredKey,
        /// The bot token is signed by no key the server accepts.
        BotTokenRejected,
        /// The bot token is not a JWT.
        BotTokenNotAJwt,
    }
    "BotTokensRenewed" {
        /// Renewal waits until every server pod proves the new key.
        AwaitingProof,
        /// A renewal Job runs, or deploy-pipelines waits for the servers' bot-token cache.
        Renewing,
        /// The bots have tokens signed by the current key.
        Renewed,
        /// The server release has no `regenerate-bot-tokens` (before 1.13.0).
        CommandMissing,
        /// The operator runs without `--bot-token-renewal`.
        RenewalOff,
        /// A Job of the renewal's name exists and is not the operator's.
        JobNameTaken,
        /// No target's pod template loads the settings, so no Job can be built from it.
        NoJob,
    }
    "ProviderVerified, CredentialsValid, LoginAccepted" {
        /// The discovery document and JWKS were fetched and are as configured.
        Verified,
        /// The provider accepted the client credentials.
        Valid,
        /// The provider accepts the login request.
        Accepted,
        /// The first check is running.
        Checking,
        /// The provider's answer can be read either way; the check says nothing.
        Inconclusive,
        /// The check is not asked for.
        NotRequested,
        /// The discovery document could not be fetched, so there is no endpoint to ask.
        ProviderUnavailable,
        /// The check is turned off in the spec.
        CheckDisabled,
        /// This client cannot be checked without a user (the message says why).
        NotCheckable,
        /// The provider does not advertise a requested scope (a warning; many providers omit
        /// scopes they grant).
        ScopesNotAdvertised,
        /// A URL to check is not a valid URL.
        InvalidUrl,
        /// The check's request could not be built.
        InvalidRequest,
        /// The CA bundle is not valid PEM.
        InvalidCaBundle,
        /// The TLS handshake failed (or the trust store could not be set up).
        TlsError,
        /// The JWKS could not be fetched.
        JwksUnreachable,
        /// The provider could not be reached.
        Unreachable,
        /// The provider did not answer in time.
        Timeout,
        /// The provider answered with a redirect, which the check does not follow.
        RedirectNotFollowed,
        /// The answer exceeded the size limit.
        ResponseTooLarge,
        /// The address is refused by the operator's address policy.
        AddressRefused,
        /// The discovery document answered with an HTTP error status.
        HttpStatus,
        /// The token (or another client) endpoint answered with an error.
        TokenEndpointError,
        /// The discovery document is not a valid OpenID Provider Metadata document.
        InvalidDiscoveryDocument,
        /// The discovery document names another issuer than `spec.provider.issuer`.
        IssuerMismatch,
        /// The JWKS is not a valid JSON Web Key Set.
        InvalidJwks,
        /// The JWKS holds no signing key.
        JwksEmpty,
        /// The provider does not support the configured response type.
        UnsupportedResponseType,
        /// The provider refused the client credentials.
        InvalidClient,
        /// An endpoint the document names uses `http`.
        InsecureEndpoint,
        /// The provider does not know the client or its callback URL.
        NotRegistered,
        /// The provider refused the login request (the message names the setting).
        LoginRefused,
        /// The check's task ended without an outcome.
        CheckInterrupted,
    }
    "Events" {
        /// A key pair was generated (Normal).
        KeysGenerated,
        /// A provided key pair was taken into use (Normal).
        KeysImported,
        /// The keys Secret was lost and a new pair generated (Warning).
        KeysRegenerated,
        /// The key pair was rotated (Normal).
        KeysRotated,
        /// A target's rollout was started (Normal).
        RolloutTriggered,
        /// A retired key's grace window ends soon (Warning).
        RetiredKeyExpiring,
        /// A retired key's grace window ended; tokens signed by it fail (Warning).
        RetiredKeyExpired,
    }
    "The oidc_sso_resources metric only" {
        /// A resource the operator has not reported on yet (no `Ready` condition).
        NotReconciled,
        /// A reason no operator writes (not CamelCase, or past the series cap): a status written
        /// by someone else cannot blow up the series.
        Other,
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<Reason> for String {
    fn from(r: Reason) -> Self {
        r.as_str().to_string()
    }
}

/// A reason equals the string it writes (tests and stored statuses compare with strings).
impl PartialEq<&str> for Reason {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<Reason> for &str {
    fn eq(&self, other: &Reason) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Reason> for String {
    fn eq(&self, other: &Reason) -> bool {
        self == other.as_str()
    }
}

/// The reference page, `docs/reasons.md`.
pub fn reference() -> String {
    let mut out = String::from(
        "# Status reasons\n\n\
         Generated from `src/reasons.rs` by `scripts/generate.sh`; do not edit. Every reason the \
         operator writes to a condition or an Event, under the conditions that report it. Alerts \
         and health checks may match on these strings: a rename is announced in \
         `docs/upgrading.md`. An Event announcing that a condition turned `True` again carries the \
         condition's type as its reason (`Ready`, `ProviderVerified`, ...).\n",
    );
    let mut section = "";
    for reason in Reason::ALL {
        if reason.section() != section {
            section = reason.section();
            out.push_str(&format!(
                "\n## {section}\n\n| Reason | Meaning |\n|---|---|\n"
            ));
        }
        let doc = reason
            .doc()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        out.push_str(&format!("| `{}` | {doc} |\n", reason.as_str()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_is_camel_case_and_listed_once() {
        let mut seen = std::collections::HashSet::new();
        for r in Reason::ALL {
            let s = r.as_str();
            assert!(s.starts_with(|c: char| c.is_ascii_uppercase()), "{s}");
            assert!(s.chars().all(|c| c.is_ascii_alphanumeric()), "{s}");
            assert!(seen.insert(s), "{s} twice");
            assert!(!r.doc().trim().is_empty(), "{s}");
        }
    }

    #[test]
    fn the_reference_lists_every_reason_once_under_its_section() {
        let page = reference();
        for r in Reason::ALL {
            let row = format!("| `{}` |", r.as_str());
            assert_eq!(page.matches(&row).count(), 1, "{row}");
        }
        assert!(page.contains("\n## ServerConfirmed\n"));
    }
}
