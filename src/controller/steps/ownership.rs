//! One owner per target. Two resources rolling the same workload would each see the other's hash
//! on it and put theirs back, an endless rollout loop; so a target belongs to the oldest resource
//! that names it (creation time, then name), and a younger one reports the conflict and writes
//! nothing. Pure: decided from the controller's store of resources, the same on every replica.

use crate::crd::{OidcSsoConfig, TargetRef};

/// A target another resource owns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Conflict {
    /// The target.
    pub(crate) target: TargetRef,
    /// The resource that owns it.
    pub(crate) owner: String,
}

/// The targets of `resource` that an older resource in its namespace also names.
pub(crate) fn conflicts<'a>(
    resource: &OidcSsoConfig,
    targets: &[TargetRef],
    others: impl IntoIterator<Item = &'a OidcSsoConfig>,
) -> Vec<Conflict> {
    let namespace = resource.metadata.namespace.as_deref();
    let mine = precedence(resource);
    let older: Vec<&OidcSsoConfig> = others
        .into_iter()
        .filter(|o| o.metadata.namespace.as_deref() == namespace)
        .filter(|o| o.metadata.uid != resource.metadata.uid)
        .filter(|o| o.metadata.deletion_timestamp.is_none())
        .filter(|o| precedence(o) < mine)
        .collect();
    targets
        .iter()
        .filter_map(|t| {
            let owner = older
                .iter()
                .filter(|o| o.spec.targets.contains(t))
                .min_by_key(|o| precedence(o))?;
            Some(Conflict {
                target: t.clone(),
                owner: owner.metadata.name.clone().unwrap_or_default(),
            })
        })
        .collect()
}

/// Older first; the name breaks ties within a second.
fn precedence(r: &OidcSsoConfig) -> (Option<jiff::Timestamp>, Option<&str>) {
    (
        r.metadata.creation_timestamp.as_ref().map(|t| t.0),
        r.metadata.name.as_deref(),
    )
}

/// The message of a conflict problem.
pub(crate) fn message(conflicts: &[Conflict]) -> String {
    let named: Vec<String> = conflicts
        .iter()
        .map(|c| {
            format!(
                "{:?} {:?} is rolled by OidcSsoConfig {:?}",
                c.target.kind, c.target.name, c.owner
            )
        })
        .collect();
    format!(
        "{}: a target belongs to the oldest resource naming it, and this one writes nothing while \
         it shares one; remove the target from spec.targets here or there",
        named.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use serde_json::json;

    use super::*;
    use crate::crd::TargetKind;

    fn resource(name: &str, created: &str, targets: &[&str]) -> OidcSsoConfig {
        let targets: Vec<_> = targets
            .iter()
            .map(|t| json!({"kind": "Deployment", "name": t}))
            .collect();
        let mut r = crate::fixtures::Resource::public()
            .named("data", name)
            .uid(&format!("uid-{name}"))
            .set("/spec/targets", json!(targets))
            .build();
        r.metadata.creation_timestamp = Some(Time(created.parse().expect("time")));
        r
    }

    fn target(name: &str) -> TargetRef {
        TargetRef {
            kind: TargetKind::Deployment,
            name: name.into(),
        }
    }

    #[test]
    fn the_older_resource_owns_a_shared_target() {
        let first = resource("first", "2026-11-01T00:00:00Z", &["om"]);
        let second = resource("second", "2026-11-02T00:00:00Z", &["om", "other"]);
        let all = [first.clone(), second.clone()];
        assert!(conflicts(&first, &first.spec.targets, &all).is_empty());
        assert_eq!(
            conflicts(&second, &second.spec.targets, &all),
            [Conflict {
                target: target("om"),
                owner: "first".into()
            }]
        );
    }

    #[test]
    fn the_name_breaks_a_tie_and_a_resource_being_deleted_owns_nothing() {
        let a = resource("a", "2026-11-01T00:00:00Z", &["om"]);
        let b = resource("b", "2026-11-01T00:00:00Z", &["om"]);
        assert!(conflicts(&a, &a.spec.targets, [&a, &b]).is_empty());
        assert_eq!(conflicts(&b, &b.spec.targets, [&a, &b]).len(), 1);
        let mut deleted = a.clone();
        deleted.metadata.deletion_timestamp = Some(Time(jiff::Timestamp::now()));
        assert!(conflicts(&b, &b.spec.targets, [&deleted, &b]).is_empty());
    }

    #[test]
    fn other_namespaces_never_conflict() {
        let mut elsewhere = resource("first", "2026-11-01T00:00:00Z", &["om"]);
        elsewhere.metadata.namespace = Some("other".into());
        let second = resource("second", "2026-11-02T00:00:00Z", &["om"]);
        assert!(conflicts(&second, &second.spec.targets, [&elsewhere]).is_empty());
    }
}
