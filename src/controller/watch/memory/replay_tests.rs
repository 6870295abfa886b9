//! The cold-start orderings replayed across the whole memory: each test is one sequence of
//! writes and watch deliveries, in an order the apiserver and the watch can produce, and states
//! what may and may not wake a reconcile or be read from memory at each point.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use kube::ResourceExt;
use kube::runtime::watcher;

use super::{MAX_ENTRIES, WatchMemory};
use crate::controller::steps::rollout::workloads::TargetState;
use crate::controller::watch::cache_form::to_cache_form;
use crate::crd::{OidcSsoConfig, OidcSsoConfigStatus, TargetKind, TargetPhase, TargetStatus};
use crate::fixtures::Resource;

const DEPLOYMENT: TargetKind = TargetKind::Deployment;

fn resource(version: &str) -> OidcSsoConfig {
    Resource::public()
        .named("ns", "c")
        .uid("u1")
        .version(version)
        .build()
}

fn status(hash: &str) -> OidcSsoConfigStatus {
    OidcSsoConfigStatus {
        config_hash: Some(hash.into()),
        targets: vec![entry(TargetPhase::RolledOut)],
        ..OidcSsoConfigStatus::default()
    }
}

fn entry(phase: TargetPhase) -> TargetStatus {
    TargetStatus {
        kind: DEPLOYMENT,
        name: "om".into(),
        phase,
        hash: Some("h".into()),
        updated: Some("0/1".into()),
        proven: None,
        server_version: None,
    }
}

/// An owned Secret in cache form, as the watch delivers it.
fn secret(name: &str, value: &str) -> Secret {
    let mut s = Secret {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("ns".into()),
            labels: Some(BTreeMap::from([("role".into(), "auth-env".into())])),
            owner_references: Some(vec![OwnerReference {
                uid: "u1".into(),
                controller: Some(true),
                ..OwnerReference::default()
            }]),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([("V".into(), ByteString(value.into()))])),
        ..Secret::default()
    };
    to_cache_form(&mut s);
    s
}

fn state(uid: &str) -> TargetState {
    TargetState::rolled_out_one(uid, None)
}

#[test]
fn a_first_reconcile_whose_events_come_before_its_answers_wakes_nothing() {
    let memory = WatchMemory::default();
    let seen_at_v1 = resource("1");
    // The apply step remembers each Secret before writing it; its event beats the answer.
    memory.expect_secret(&secret("auth-env", "x"));
    let mut event = secret("auth-env", "x");
    event.metadata.resource_version = Some("7".into());
    assert!(memory.is_echo(&event), "the own write's event");
    // The roll remembers the entries before patching; the target's event beats the status write.
    memory.expect_targets(&seen_at_v1, vec![entry(TargetPhase::Rolling)]);
    assert_eq!(
        memory.written_targets(&seen_at_v1),
        Some(vec![entry(TargetPhase::Rolling)]),
        "the mapper compares the event with what the run is about to report"
    );
    assert_eq!(memory.previous_status(&seen_at_v1), None, "no status yet");
    // The status write lands; the entries it reports replace the expected ones.
    memory.remember_status(&seen_at_v1, &status("h"));
    assert_eq!(memory.previous_status(&seen_at_v1), Some(status("h")));
    assert_eq!(
        memory.written_targets(&seen_at_v1),
        Some(vec![entry(TargetPhase::RolledOut)])
    );
    // The status write's own event reaches the store: the entry has done its job.
    memory.resource_stored(&resource("2"));
    assert_eq!(memory.previous_status(&resource("2")), None);
    assert_eq!(memory.sizes().0, 0);
}

#[test]
fn while_the_store_lags_the_next_reconcile_builds_on_the_write_in_flight() {
    let memory = WatchMemory::default();
    memory.remember_status(&resource("1"), &status("h"));
    // An owned Secret's event triggered the next run before the store saw the status write.
    memory.resource_stored(&resource("1"));
    assert_eq!(memory.sizes().0, 1, "the same version is no news");
    assert_eq!(memory.previous_status(&resource("1")), Some(status("h")));
    // A copy the store has moved past is never answered from memory.
    memory.resource_stored(&resource("2"));
    assert_eq!(memory.previous_status(&resource("1")), None);
    assert_eq!(memory.written_targets(&resource("1")), None);
}

#[test]
fn a_newer_copy_in_hand_wins_over_the_entry_even_before_the_store_says_so() {
    let memory = WatchMemory::default();
    memory.remember_status(&resource("1"), &status("h"));
    assert_eq!(
        memory.written_targets(&resource("2")),
        None,
        "someone edited it"
    );
    assert_eq!(memory.sizes().0, 0, "and the entry went");
}

#[test]
fn a_target_the_watch_delivered_is_read_from_memory_until_deleted_or_let_go() {
    let memory = WatchMemory::default();
    assert_eq!(memory.seen_target(DEPLOYMENT, "ns", "om"), None);
    memory.record_target(DEPLOYMENT, "ns", "om", Some(state("a")));
    memory.record_target(DEPLOYMENT, "ns", "other", Some(state("b")));
    assert_eq!(memory.seen_target(DEPLOYMENT, "ns", "om"), Some(state("a")));
    assert_eq!(memory.seen_target(DEPLOYMENT, "elsewhere", "om"), None);
    assert_eq!(
        memory.seen_target(TargetKind::StatefulSet, "ns", "om"),
        None,
        "kinds are apart"
    );
    memory.record_target(DEPLOYMENT, "ns", "om", None);
    assert_eq!(memory.seen_target(DEPLOYMENT, "ns", "om"), None, "deleted");
    memory.forget_target(DEPLOYMENT, "ns", "other");
    assert_eq!(
        memory.seen_target(DEPLOYMENT, "ns", "other"),
        None,
        "let go"
    );
    assert_eq!(memory.sizes().2, 0);
}

#[test]
fn a_relist_gap_forgets_deleted_targets_and_lets_edited_secrets_through() {
    let memory = Arc::new(WatchMemory::default());
    memory.record_target(DEPLOYMENT, "ns", "kept", Some(state("a")));
    memory.record_target(DEPLOYMENT, "ns", "deleted-in-the-gap", Some(state("b")));
    memory.expect_secret(&secret("kept", "x"));
    memory.expect_secret(&secret("edited-in-the-gap", "x"));
    // The watches start over: each object comes back as it is now.
    let relists = memory.relists_of::<()>(DEPLOYMENT);
    relists(&watcher::Event::Init);
    memory.record_target(DEPLOYMENT, "ns", "kept", Some(state("a2")));
    assert_eq!(
        memory.seen_target(DEPLOYMENT, "ns", "deleted-in-the-gap"),
        Some(state("b")),
        "nothing is forgotten before the list is complete"
    );
    relists(&watcher::Event::InitDone);
    assert_eq!(
        memory.seen_target(DEPLOYMENT, "ns", "kept"),
        Some(state("a2"))
    );
    assert_eq!(
        memory.seen_target(DEPLOYMENT, "ns", "deleted-in-the-gap"),
        None
    );
    assert_eq!(memory.sizes().2, 1);
    assert!(
        memory.is_echo(&secret("kept", "x")),
        "unchanged: no reconcile"
    );
    assert!(
        !memory.is_echo(&secret("edited-in-the-gap", "y")),
        "changed in the gap: a reconcile"
    );
    // After the list, recording goes on as before.
    memory.record_target(DEPLOYMENT, "ns", "new", Some(state("c")));
    assert_eq!(
        memory.seen_target(DEPLOYMENT, "ns", "new"),
        Some(state("c"))
    );
}

#[test]
fn someone_elses_change_to_an_owned_secret_is_never_an_echo() {
    let memory = WatchMemory::default();
    memory.expect_secret(&secret("a", "x"));
    assert!(!memory.is_echo(&secret("a", "y")), "other data");
    assert!(!memory.is_echo(&secret("b", "x")), "another Secret");
    let mut labelled = secret("a", "x");
    labelled
        .labels_mut()
        .insert("team".into(), "payroll".into());
    assert!(!memory.is_echo(&labelled), "another label");
    let mut annotated = secret("a", "x");
    annotated
        .annotations_mut()
        .insert("note".into(), "edited".into());
    assert!(!memory.is_echo(&annotated), "another annotation");
    let mut orphaned = secret("a", "x");
    orphaned.metadata.owner_references = None;
    assert!(!memory.is_echo(&orphaned), "owner reference removed");
    assert!(
        !WatchMemory::default().is_echo(&secret("a", "x")),
        "never written"
    );
    assert!(memory.is_echo(&secret("a", "x")), "still the own write");
}

#[test]
fn a_deletion_is_never_an_echo_and_forgets_the_write() {
    let memory = WatchMemory::default();
    memory.expect_secret(&secret("a", "x"));
    let mut deleted = secret("a", "x");
    deleted.metadata.deletion_timestamp = Some(Time(jiff::Timestamp::now()));
    assert!(!memory.is_echo(&deleted));
    assert!(!memory.is_echo(&secret("a", "x")), "the entry went with it");
    assert_eq!(memory.sizes().1, 0);
}

#[test]
fn every_table_is_bounded_and_starting_over_only_costs_a_read() {
    let memory = WatchMemory::default();
    for i in 0..=MAX_ENTRIES {
        let name = i.to_string();
        memory.expect_secret(&secret(&name, "x"));
        memory.record_target(DEPLOYMENT, "ns", &name, Some(state(&name)));
        let mut r = resource("1");
        r.metadata.uid = Some(name);
        memory.remember_status(&r, &status("h"));
    }
    let (statuses, secrets, targets) = memory.sizes();
    assert!(statuses <= MAX_ENTRIES, "{statuses}");
    assert!(secrets <= MAX_ENTRIES, "{secrets}");
    assert!(targets <= MAX_ENTRIES, "{targets}");
    // What was dropped is simply not known: a forgotten Secret write wakes a reconcile (never
    // the reverse), a forgotten target is read from the API.
    assert!(!memory.is_echo(&secret("0", "x")));
    assert_eq!(memory.seen_target(DEPLOYMENT, "ns", "0"), None);
    assert!(memory.is_echo(&secret(&MAX_ENTRIES.to_string(), "x")));
}

#[test]
fn the_tables_answer_for_one_object_only() {
    let memory = WatchMemory::default();
    memory.remember_status(&resource("1"), &status("h"));
    let mut other = resource("1");
    other.metadata.uid = Some("u2".into());
    assert_eq!(memory.previous_status(&other), None, "another resource");
    assert_eq!(
        other.name_any(),
        "c",
        "same name, other uid: a re-created resource"
    );
}
