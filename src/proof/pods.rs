//! Which pods of a target the proof asks: the ready pods created from the current rendering.
//! Pure.
//!
//! A pod carries its template's annotations, the operator's `oidcsso.io/config-hash` among them,
//! so the pod itself says which rendering it was created from: no ReplicaSet or controller
//! revision has to be looked up, and Deployments and StatefulSets are treated alike. A pod that
//! is not Ready, is being deleted, or has no IP yet is not asked (it is counted as not proven).

use std::net::IpAddr;

use k8s_openapi::api::core::v1::Pod;

use crate::names::annotations::CONFIG_HASH;

/// The IPs of the `pods` (a target's, by its selector) that run the rendering `hash` and are
/// Ready, in name order; and how many run it at all.
pub fn current_ready_ips(pods: &[Pod], hash: &str) -> (Vec<IpAddr>, usize) {
    let mut current: Vec<&Pod> = pods
        .iter()
        .filter(|p| {
            p.metadata.deletion_timestamp.is_none()
                && p.metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(CONFIG_HASH))
                    .is_some_and(|h| h == hash)
        })
        .collect();
    current.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    let ips = current
        .iter()
        .filter(|p| is_ready(p))
        .filter_map(|p| p.status.as_ref()?.pod_ip.as_deref()?.parse().ok())
        .collect();
    (ips, current.len())
}

fn is_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pod(name: &str, hash: &str, ready: bool, ip: Option<&str>, deleting: bool) -> Pod {
        let mut p = json!({
            "metadata": {"name": name, "annotations": {CONFIG_HASH: hash}},
            "status": {"conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]},
        });
        if let Some(ip) = ip {
            p["status"]["podIP"] = json!(ip);
        }
        if deleting {
            p["metadata"]["deletionTimestamp"] = json!("2026-12-07T12:00:00Z");
        }
        serde_json::from_value(p).expect("a pod")
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
        let (ips, current) = current_ready_ips(&pods, "sha256:new");
        assert_eq!(
            ips,
            [
                "10.0.0.1".parse::<IpAddr>().unwrap(),
                "10.0.0.2".parse().unwrap()
            ]
        );
        assert_eq!(
            current, 4,
            "the not-ready and the IP-less pods of the rendering count"
        );
        assert_eq!(current_ready_ips(&pods, "sha256:none"), (vec![], 0));
        let v6 = [pod("om", "h", true, Some("fd00::1"), false)];
        assert_eq!(
            current_ready_ips(&v6, "h").0,
            ["fd00::1".parse::<IpAddr>().unwrap()]
        );
    }
}
