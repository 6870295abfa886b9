//! Which pods of a target the proof asks: the ready pods created from the current rendering.
//! Pure.
//!
//! A pod carries its template's annotations, the operator's `oidcsso.io/config-hash` among them,
//! so the pod itself says which rendering it was created from: no ReplicaSet or controller
//! revision has to be looked up, and Deployments and StatefulSets are treated alike. A pod that
//! is not Ready, is being deleted, or has no IP yet is not asked (it is counted as not proven).

use std::net::IpAddr;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;

use crate::crd::TargetKind;
use crate::names::annotations::CONFIG_HASH;

/// A pod the proof asks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Askable {
    /// Its name.
    pub name: String,
    /// Its IP.
    pub ip: IpAddr,
    /// When it last became Ready (`None`: not said), from which its answer's deadline counts.
    pub ready_since: Option<Timestamp>,
}

/// The pods of `pods` (a target's, by its selector) that its workload created (`kind`, `name`)
/// from the rendering `hash` and that are Ready with an IP, in name order; and how many it
/// created from that rendering at all.
///
/// A pod must be the workload's own: a StatefulSet's pods name it as their controller, a
/// Deployment's a ReplicaSet named after it. A pod someone else made with the same labels and
/// annotation is not asked.
pub fn askable(pods: &[Pod], kind: TargetKind, name: &str, hash: &str) -> (Vec<Askable>, usize) {
    let mut current: Vec<&Pod> = pods
        .iter()
        .filter(|p| {
            p.metadata.deletion_timestamp.is_none()
                && created_by(p, kind, name)
                && p.metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(CONFIG_HASH))
                    .is_some_and(|h| h == hash)
        })
        .collect();
    current.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    let ready = current
        .iter()
        .filter_map(|p| {
            let since = ready_since(p)?;
            Some(Askable {
                name: p.metadata.name.clone()?,
                ip: p.status.as_ref()?.pod_ip.as_deref()?.parse().ok()?,
                ready_since: since,
            })
        })
        .collect();
    (ready, current.len())
}

fn created_by(pod: &Pod, kind: TargetKind, name: &str) -> bool {
    let Some(owner) = pod
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true))
    else {
        return false;
    };
    match kind {
        TargetKind::StatefulSet => owner.kind == "StatefulSet" && owner.name == name,
        // The ReplicaSet is `<deployment>-<template hash>`.
        TargetKind::Deployment => {
            owner.kind == "ReplicaSet"
                && owner
                    .name
                    .strip_prefix(name)
                    .and_then(|rest| rest.strip_prefix('-'))
                    .is_some_and(|hash| !hash.is_empty() && !hash.contains('-'))
        }
    }
}

/// `Some(since)` when the pod is Ready (`since`: the condition's transition time, if given).
fn ready_since(pod: &Pod) -> Option<Option<Timestamp>> {
    let ready = pod
        .status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == "Ready" && c.status == "True")?;
    Some(ready.last_transition_time.as_ref().map(|t| t.0))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pod(name: &str, hash: &str, ready: bool, ip: Option<&str>, deleting: bool) -> Pod {
        let mut p = json!({
            "metadata": {
                "name": name,
                "annotations": {CONFIG_HASH: hash},
                "ownerReferences": [{
                    "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "om-5d8f9c", "uid": "u",
                    "controller": true,
                }],
            },
            "status": {"conditions": [{
                "type": "Ready", "status": if ready { "True" } else { "False" },
                "lastTransitionTime": "2026-12-07T12:00:00Z",
            }]},
        });
        if let Some(ip) = ip {
            p["status"]["podIP"] = json!(ip);
        }
        if deleting {
            p["metadata"]["deletionTimestamp"] = json!("2026-12-07T12:00:00Z");
        }
        serde_json::from_value(p).expect("a pod")
    }

    fn ips(asked: &[Askable]) -> Vec<String> {
        asked.iter().map(|a| a.ip.to_string()).collect()
    }

    #[test]
    fn only_ready_pods_of_the_current_rendering_are_asked() {
        let pods = [
            pod("om-b", "sha256:new", true, Some("10.0.0.2"), false),
            pod("om-a", "sha256:new", true, Some("10.0.0.1"), false),
            pod("om-c", "sha256:new", false, Some("10.0.0.3"), false),
            pod("om-d", "sha256:new", true, None, false),
            pod("om-e", "sha256:old", true, Some("10.0.0.5"), false),
            pod("om-f", "sha256:new", true, Some("10.0.0.6"), true),
        ];
        let (asked, current) = askable(&pods, TargetKind::Deployment, "om", "sha256:new");
        assert_eq!(ips(&asked), ["10.0.0.1", "10.0.0.2"]);
        assert_eq!(asked[0].name, "om-a");
        assert_eq!(
            asked[0].ready_since,
            Some("2026-12-07T12:00:00Z".parse().unwrap())
        );
        assert_eq!(
            current, 4,
            "the not-ready and the IP-less pods of the rendering count"
        );
        assert_eq!(
            askable(&pods, TargetKind::Deployment, "om", "sha256:none"),
            (vec![], 0)
        );
        let v6 = [pod("om", "h", true, Some("fd00::1"), false)];
        assert_eq!(
            ips(&askable(&v6, TargetKind::Deployment, "om", "h").0),
            ["fd00::1"]
        );
    }

    #[test]
    fn only_the_workloads_own_pods_are_asked() {
        let owned_by = |kind: &str, owner: &str, controller: bool| {
            let mut p = pod("om-x", "h", true, Some("10.0.0.9"), false);
            let o = &mut p.metadata.owner_references.as_mut().unwrap()[0];
            o.kind = kind.into();
            o.name = owner.into();
            o.controller = Some(controller);
            [p]
        };
        let asked = |pods: &[Pod], kind, name| askable(pods, kind, name, "h").0.len();
        assert_eq!(
            asked(
                &owned_by("ReplicaSet", "om-5d8f9c", true),
                TargetKind::Deployment,
                "om"
            ),
            1
        );
        // Another Deployment's ReplicaSet whose name starts with ours, a bare pod's owner that is
        // no controller, a StatefulSet of another name.
        assert_eq!(
            asked(
                &owned_by("ReplicaSet", "om-api-5d8f9c", true),
                TargetKind::Deployment,
                "om"
            ),
            0
        );
        assert_eq!(
            asked(
                &owned_by("ReplicaSet", "om-5d8f9c", false),
                TargetKind::Deployment,
                "om"
            ),
            0
        );
        assert_eq!(
            asked(
                &owned_by("StatefulSet", "om", true),
                TargetKind::StatefulSet,
                "om"
            ),
            1
        );
        assert_eq!(
            asked(
                &owned_by("StatefulSet", "db", true),
                TargetKind::StatefulSet,
                "om"
            ),
            0
        );
        assert_eq!(
            asked(
                &owned_by("ReplicaSet", "om-5d8f9c", true),
                TargetKind::StatefulSet,
                "om"
            ),
            0
        );
        let mut bare = pod("om-x", "h", true, Some("10.0.0.9"), false);
        bare.metadata.owner_references = None;
        assert_eq!(asked(&[bare], TargetKind::Deployment, "om"), 0);
    }
}
