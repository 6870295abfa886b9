//! One pod's proof from its three answers, and what a target's pods prove together: the input
//! of the `ServerConfirmed` condition. Pure.
//!
//! A pod is proven when it serves the rendered signing key and every authentication field its
//! release shows equals the rendering. On 1.10 to 2.0.x the confidential client (`OIDC_*`: its
//! id, secret, discovery URI) is in no unauthenticated answer, and the server ignores a change
//! of it unless `remove-security-config --force` ran before it started: a confidential client
//! there counts as proven only when that reset is in the pod template (and the shown fields
//! match, which shows the reset took effect).

use std::collections::BTreeMap;

use super::auth::{self, AuthProof};
use super::jwks::{self, ExpectedKey, KeyProof};
use super::version::{Family, Release};

/// The bodies one pod answered with (`None`: that request got no usable answer).
#[derive(Clone, Copy, Debug, Default)]
pub struct Answers<'a> {
    /// `GET /api/v1/system/version`.
    pub version: Option<&'a [u8]>,
    /// `GET /api/v1/system/config/jwks`.
    pub jwks: Option<&'a [u8]>,
    /// `GET /api/v1/system/config/auth`.
    pub auth: Option<&'a [u8]>,
}

/// What the pod must run.
#[derive(Clone, Copy, Debug)]
pub struct Expected<'a> {
    /// The rendered signing key.
    pub key: &'a ExpectedKey,
    /// The rendered settings (the settings Secret's entries).
    pub auth_env: &'a BTreeMap<String, Vec<u8>>,
    /// The pod template runs `remove-security-config --force` before the server starts.
    pub reset_in_template: bool,
}

/// What one pod proves, worst first in [`PodProof::rank`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PodProof {
    /// It did not answer (yet): retried until the proof's deadline.
    NoAnswer,
    /// Its key files did not load: it signs nothing.
    KeyNotLoaded,
    /// It signs with another key (the fields that differ: `kid`, `n`, `e`).
    OtherKey(Vec<&'static str>),
    /// It runs other authentication settings (the fields that differ); `by_database`: its
    /// release reads the database copy, which wins over the environment.
    SettingsDiffer {
        /// The fields.
        fields: Vec<&'static str>,
        /// 1.10 to 2.0.x: the copy in the database is what it runs.
        by_database: bool,
    },
    /// 1.10 to 2.0.x with a confidential client and no reset in the pod template: whether it
    /// runs the rendered client cannot be seen, and a change of it would be ignored.
    ResetMissing,
    /// An answer is not OpenMetadata's shape (what is wrong, never a value).
    Unreadable(&'static str),
    /// It runs what was rendered.
    Proven,
}

impl PodProof {
    /// Lower is worse: the one a target reports when its pods disagree.
    pub fn rank(&self) -> u8 {
        match self {
            PodProof::KeyNotLoaded => 0,
            PodProof::OtherKey(_) => 1,
            PodProof::SettingsDiffer { .. } => 2,
            PodProof::ResetMissing => 3,
            PodProof::Unreadable(_) => 4,
            PodProof::NoAnswer => 5,
            PodProof::Proven => 6,
        }
    }
}

/// One pod's proof, and the release it said it runs.
pub fn prove(answers: Answers<'_>, expected: Expected<'_>) -> (PodProof, Option<Release>) {
    let release = answers.version.and_then(Release::from_version_body);
    let (Some(jwks_body), Some(auth_body)) = (answers.jwks, answers.auth) else {
        return (PodProof::NoAnswer, release);
    };
    let proof = match jwks::check(jwks_body, expected.key) {
        KeyProof::NotLoaded => PodProof::KeyNotLoaded,
        KeyProof::OtherKey { differs } => PodProof::OtherKey(differs),
        KeyProof::Unreadable(why) => PodProof::Unreadable(why),
        KeyProof::Serves => match auth::check(auth_body, expected.auth_env) {
            Err(_) => PodProof::Unreadable("the auth answer is not a JSON object"),
            Ok(auth) => settings(&auth, release, expected),
        },
    };
    (proof, release)
}

fn settings(auth: &AuthProof, release: Option<Release>, expected: Expected<'_>) -> PodProof {
    let copies = release.map(Release::family) == Some(Family::CopiesToDatabase);
    if !auth.differs.is_empty() {
        return PodProof::SettingsDiffer {
            fields: auth.differs.clone(),
            by_database: copies,
        };
    }
    if !auth.holds() {
        return PodProof::Unreadable("the auth answer shows none of the rendered fields");
    }
    let confidential = expected
        .auth_env
        .get("AUTHENTICATION_CLIENT_TYPE")
        .is_some_and(|v| String::from_utf8_lossy(v).contains("confidential"));
    if copies && confidential && !expected.reset_in_template {
        return PodProof::ResetMissing;
    }
    PodProof::Proven
}

/// What a target's pods prove together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetProof {
    /// Pods proven.
    pub proven: usize,
    /// Ready pods of the current revision asked.
    pub pods: usize,
    /// The worst proof among them (`Proven` when all are).
    pub worst: PodProof,
    /// The release the pods said they run (the newest seen).
    pub release: Option<Release>,
}

/// Sums up the proofs of a target's pods; no pod at all is [`PodProof::NoAnswer`].
pub fn sum_up(pods: &[(PodProof, Option<Release>)]) -> TargetProof {
    let worst = pods
        .iter()
        .map(|(p, _)| p)
        .min_by_key(|p| p.rank())
        .cloned()
        .unwrap_or(PodProof::NoAnswer);
    TargetProof {
        proven: pods.iter().filter(|(p, _)| *p == PodProof::Proven).count(),
        pods: pods.len(),
        worst,
        release: pods.iter().filter_map(|(_, r)| *r).max(),
    }
}

#[cfg(test)]
mod tests;
