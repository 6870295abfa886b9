//! What a target's pods' answers sum up to, and when a silent pod is asked again.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use super::*;
use crate::crd::TargetKind;
use crate::keys::KeyMaterial;
use crate::proof::ask::PodAnswers;

fn at(text: &str) -> Timestamp {
    text.parse().expect("a timestamp")
}

fn pod(n: u8, ready_since: &str) -> Askable {
    Askable {
        name: format!("om-{n}"),
        ip: IpAddr::V4(Ipv4Addr::new(10, 0, 0, n)),
        ready_since: Some(at(ready_since)),
    }
}

fn reference() -> TargetRef {
    TargetRef {
        kind: TargetKind::Deployment,
        name: "om".into(),
    }
}

struct Fixture {
    keys: KeyMaterial,
    key: ExpectedKey,
    env: BTreeMap<String, Vec<u8>>,
}

impl Fixture {
    fn new() -> Self {
        let keys = KeyMaterial::generate(None).expect("keys");
        let key = ExpectedKey::of(&keys);
        let env = [("AUTHENTICATION_PROVIDER", "\"custom-oidc\"")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.as_bytes().to_vec()))
            .collect();
        Self { keys, key, env }
    }

    fn expected(&self) -> Expected<'_> {
        Expected {
            key: &self.key,
            auth_env: &self.env,
            reset_in_template: false,
        }
    }

    fn proven(&self) -> PodAnswers {
        PodAnswers {
            version: Some(br#"{"version":"1.9.4"}"#.to_vec()),
            jwks: Some(self.keys.jwks_json().into_bytes()),
            auth: Some(br#"{"provider":"custom-oidc"}"#.to_vec()),
        }
    }
}

const NOW: &str = "2026-12-07T12:10:00Z";

#[test]
fn every_pod_proven_confirms_the_target_and_asks_nothing_again() {
    let f = Fixture::new();
    let answers = [
        (pod(1, "2026-12-07T12:00:00Z"), f.proven()),
        (pod(2, "2026-12-07T12:00:00Z"), f.proven()),
    ];
    let r = sum(reference(), 2, &answers, f.expected(), at(NOW));
    assert!(r.confirmed());
    assert_eq!((r.proof.proven, r.proof.pods, r.overdue), (2, 2, 0));
    assert_eq!(r.retry_in, None);
    assert_eq!(
        r.proof.release.map(|v| v.to_string()).as_deref(),
        Some("1.9.4")
    );
}

#[test]
fn a_silent_pod_is_asked_again_until_its_deadline_then_counts_as_overdue() {
    let f = Fixture::new();
    // Ready 8 s ago: asked again in 2 s.
    let fresh = [
        (pod(1, "2026-12-07T12:00:00Z"), f.proven()),
        (pod(2, "2026-12-07T12:09:52Z"), PodAnswers::default()),
    ];
    let r = sum(reference(), 2, &fresh, f.expected(), at(NOW));
    assert!(!r.confirmed());
    assert_eq!(r.proof.worst, PodProof::NoAnswer);
    assert_eq!((r.overdue, r.retry_in), (0, Some(Duration::from_secs(2))));
    // Ready 100 s ago: asked again in 20 s (the most); 3 minutes ago: past the deadline.
    let waiting = [(pod(2, "2026-12-07T12:08:20Z"), PodAnswers::default())];
    let r = sum(reference(), 1, &waiting, f.expected(), at(NOW));
    assert_eq!((r.overdue, r.retry_in), (0, Some(Duration::from_secs(20))));
    let late = [(pod(2, "2026-12-07T12:07:00Z"), PodAnswers::default())];
    let r = sum(reference(), 1, &late, f.expected(), at(NOW));
    assert_eq!((r.overdue, r.retry_in), (1, None));
}

#[test]
fn a_target_without_pods_is_confirmed_only_when_scaled_to_zero() {
    let f = Fixture::new();
    let none = sum(reference(), 0, &[], f.expected(), at(NOW));
    assert!(none.confirmed());
    let listed_late = sum(reference(), 2, &[], f.expected(), at(NOW));
    assert!(!listed_late.confirmed());
    assert_eq!(listed_late.retry_in, Some(Duration::from_secs(20)));
    // Fewer pods proven than the replicas it should have is not confirmed either.
    let one_of_two = sum(
        reference(),
        2,
        &[(pod(1, "2026-12-07T12:00:00Z"), f.proven())],
        f.expected(),
        at(NOW),
    );
    assert_eq!(one_of_two.proof.worst, PodProof::Proven);
    assert!(!one_of_two.confirmed());
}

#[test]
fn backoff_grows_with_the_wait_between_two_and_twenty_seconds() {
    let secs = |s| backoff(Duration::from_secs(s)).as_secs();
    assert_eq!(
        [secs(0), secs(8), secs(12), secs(40), secs(80), secs(119)],
        [2, 2, 3, 10, 20, 20]
    );
    assert_eq!(backoff(Duration::MAX), Duration::from_secs(20));
}
