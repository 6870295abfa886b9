//! Prometheus metrics. Labels are bounded: step names, condition types and reasons, never names
//! of objects. docs/monitoring.md lists them with the alerts and the dashboard the chart ships.

use crate::reasons::Reason;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use kube::runtime::reflector::Store;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use crate::crd::OidcSsoConfig;

/// Label set of one label named by the family.
type Labels = Vec<(&'static str, String)>;

/// The operator's metrics.
pub struct Metrics {
    registry: Registry,
    /// Reconciles run.
    pub reconciles: Counter,
    /// Reconcile requests by what made them (see [`Trigger`]); the controller merges requests
    /// for a resource that is already queued, so these add up to at least `reconciles`.
    triggers: Family<Labels, Counter>,
    /// Failed reconciles by step or reason.
    pub failures: Family<Labels, Counter>,
    /// Reconcile durations.
    pub duration: Histogram,
    /// Pod-template updates that start a rollout.
    pub rollouts: Counter,
    /// Provider check results by check (`provider`, `credentials`, `login`) and result (a CamelCase
    /// reason such as `Verified`, `Unreachable`, `InvalidClient`).
    pub provider_checks: Family<Labels, Counter>,
    /// 1 while this replica may write: it holds the Lease, or runs without leader election.
    pub leader: Gauge,
    /// JWT key creation times, read at scrape time; exported as aggregates only.
    key_ages: Arc<KeyAges>,
    /// The resources' conditions and key schedules, read at scrape time; exported as counts per
    /// condition, status and reason, and the earliest key rotation.
    resource_states: Arc<ResourceStates>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("oidc_sso");
        let reconciles = Counter::default();
        let triggers = Family::<Labels, Counter>::default();
        let failures = Family::<Labels, Counter>::default();
        let duration = Histogram::new(exponential_buckets(0.005, 2.0, 14));
        let rollouts = Counter::default();
        let provider_checks = Family::<Labels, Counter>::default();
        registry.register("reconciles", "Reconciles run", reconciles.clone());
        registry.register(
            "reconcile_triggers",
            "Reconcile requests by what made them",
            triggers.clone(),
        );
        registry.register(
            "reconcile_failures",
            "Reconciles failed, by step or reason",
            failures.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "Reconcile duration",
            duration.clone(),
        );
        registry.register(
            "rollouts_triggered",
            "Pod-template updates that start a rollout",
            rollouts.clone(),
        );
        registry.register(
            "provider_checks",
            "Provider check results by check and result reason",
            provider_checks.clone(),
        );
        let leader = Gauge::default();
        registry.register(
            "leader",
            "1 while this replica reconciles (holds the Lease, or runs without leader election)",
            leader.clone(),
        );
        let key_ages = Arc::new(KeyAges::default());
        registry.register_collector(Box::new(key_ages.clone()));
        let resource_states = Arc::new(ResourceStates::default());
        registry.register_collector(Box::new(resource_states.clone()));
        Self {
            registry,
            reconciles,
            triggers,
            failures,
            duration,
            rollouts,
            provider_checks,
            leader,
            key_ages,
            resource_states,
        }
    }
}

impl Metrics {
    /// Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }

    /// Counts a provider check result (`check` and `result` come from bounded sets).
    pub fn provider_check(&self, check: &'static str, result: &str) {
        self.provider_checks
            .get_or_create(&vec![
                ("check", check.to_string()),
                ("result", result.to_string()),
            ])
            .inc();
    }

    /// Counts `n` reconcile requests made by `source`.
    pub fn triggered(&self, source: Trigger, n: usize) {
        if n > 0 {
            self.triggers
                .get_or_create(&vec![("source", source.label().to_string())])
                .inc_by(n as u64);
        }
    }

    /// Counts a failure under a bounded label.
    pub fn failure(&self, reason: &'static str) {
        self.failures
            .get_or_create(&vec![("reason", reason.to_string())])
            .inc();
    }

    /// Where the key-age gauges read the creation times (Unix seconds) of the JWT keys in use:
    /// called at every scrape, so ages are current between reconciles and a deleted resource's
    /// key stops counting once its Secret is gone. Set once, by the replica that reconciles; a
    /// standby exports no key gauges, so sums over replicas count each key once.
    pub fn key_ages_from(&self, source: impl Fn() -> Vec<i64> + Send + Sync + 'static) {
        self.key_ages.0.set(source);
    }

    /// Where the resource gauges (`oidc_sso_resources`, `oidc_sso_jwt_key_next_rotation_seconds`)
    /// read the resources: the controller's cache, at every scrape, so the counts are those of
    /// the statuses as they are now. Set once, by the replica that reconciles, as
    /// [`Metrics::key_ages_from`]: a standby exports none.
    pub fn resources_from(&self, store: Store<OidcSsoConfig>) {
        self.resource_states
            .0
            .set(move || store.state().iter().map(|r| ResourceState::of(r)).collect());
    }
}

/// What asked for a reconcile: the label of `oidc_sso_reconcile_triggers_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// A change of the resource itself that a reconcile acts on.
    Resource,
    /// A change of one of its own Secrets that the operator did not write itself.
    OwnedSecret,
    /// A change of a Secret it references.
    Secret,
    /// A change of a ConfigMap it references.
    ConfigMap,
    /// Another resource's spec changed, which may end this one's target conflict.
    OtherResource,
    /// A change of a target Deployment that its status reports.
    Deployment,
    /// A change of a target StatefulSet that its status reports.
    StatefulSet,
    /// A background provider check finished with a new answer.
    ProviderCheck,
}

impl Trigger {
    fn label(self) -> &'static str {
        match self {
            Self::Resource => "resource",
            Self::OwnedSecret => "owned_secret",
            Self::Secret => "secret",
            Self::ConfigMap => "configmap",
            Self::OtherResource => "other_resource",
            Self::Deployment => "deployment",
            Self::StatefulSet => "statefulset",
            Self::ProviderCheck => "provider_check",
        }
    }
}

/// What a scrape-time collector reads: set once, by the replica that reconciles, and called at
/// every scrape.
struct Source<T>(OnceLock<Box<dyn Fn() -> T + Send + Sync>>);

impl<T> Default for Source<T> {
    fn default() -> Self {
        Self(OnceLock::new())
    }
}

impl<T> std::fmt::Debug for Source<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "set"
        } else {
            "unset"
        })
    }
}

impl<T> Source<T> {
    /// Sets the reader; a second call changes nothing.
    fn set(&self, read: impl Fn() -> T + Send + Sync + 'static) {
        let _ = self.0.set(Box::new(read));
    }

    /// What the reader reads now; `None` before it is set.
    fn read(&self) -> Option<T> {
        self.0.get().map(|read| read())
    }
}

/// Reads JWT key creation times on demand. Resource names never become labels: a series per
/// resource would grow with the number of resources.
#[derive(Debug, Default)]
struct KeyAges(Source<Vec<i64>>);

impl KeyAges {
    /// (keys in use, age of the oldest in seconds) at `now` (Unix seconds); `None` without a
    /// source.
    fn snapshot(&self, now: i64) -> Option<(i64, Option<i64>)> {
        let created = self.0.read()?;
        let oldest = created.iter().min().map(|c| (now - c).max(0));
        Some((i64::try_from(created.len()).unwrap_or(i64::MAX), oldest))
    }
}

impl Collector for KeyAges {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let Some((count, oldest)) = self.snapshot(jiff::Timestamp::now().as_second()) else {
            return Ok(());
        };
        let keys = ConstGauge::new(count);
        keys.encode(encoder.encode_descriptor(
            "jwt_keys",
            "JWT signing key pairs in use (one per OidcSsoConfig with rendered keys)",
            None,
            keys.metric_type(),
        )?)?;
        // No sample without keys: an age of 0 would read as "just rotated".
        if let Some(age) = oldest {
            let age = ConstGauge::new(age);
            age.encode(encoder.encode_descriptor(
                "jwt_key_oldest_age",
                "Age of the oldest JWT signing key in use; alert when it exceeds the rotation period",
                Some(&Unit::Seconds),
                age.metric_type(),
            )?)?;
        }
        Ok(())
    }
}

/// What the resource gauges read of one `OidcSsoConfig`: its conditions as (type, status, reason)
/// and when its generated key is next replaced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct ResourceState {
    conditions: Vec<(String, String, String)>,
    next_rotation: Option<i64>,
    /// When the first retired key's grace window ends (Unix seconds).
    retired_expiry: Option<i64>,
}

impl ResourceState {
    fn of(resource: &OidcSsoConfig) -> Self {
        let status = resource.status.as_ref();
        Self {
            conditions: status
                .map(|s| {
                    s.conditions
                        .iter()
                        .map(|c| (c.type_.clone(), c.status.clone(), c.reason.clone()))
                        .collect()
                })
                .unwrap_or_default(),
            next_rotation: status
                .and_then(|s| s.keys.as_ref())
                .and_then(|k| k.next_rotation_at.as_ref())
                .map(|t| t.0.as_second()),
            retired_expiry: status
                .and_then(|s| s.keys.as_ref())
                .and_then(|k| k.retired.iter().map(|r| r.expires_at.0.as_second()).min()),
        }
    }
}

/// Reads the resources on demand. Like [`KeyAges`], no series per resource: counts per
/// (condition, status, reason), each label from a bounded set.
#[derive(Debug, Default)]
struct ResourceStates(Source<Vec<ResourceState>>);

/// The most (condition, status, reason) series exported; further reasons count as `Other`. The
/// operator writes a few dozen reasons; the cap holds against a status someone else wrote.
const MAX_STATE_SERIES: usize = 256;
/// The reason of a resource with no `Ready` condition yet (the operator has not reported on it).
const NOT_RECONCILED: Reason = Reason::NotReconciled;

/// A label value from a status written by someone: CamelCase, as the operator writes them, or
/// nothing.
fn camel_case(value: &str) -> Option<&str> {
    let mut chars = value.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && value.len() <= 64
        && chars.all(|c| c.is_ascii_alphanumeric());
    ok.then_some(value)
}

/// A condition's status as a label: `True`, `False` or `Unknown` (anything else).
fn truth(status: &str) -> &'static str {
    match status {
        "True" => "True",
        "False" => "False",
        _ => "Unknown",
    }
}

impl ResourceStates {
    /// Resources per (condition, status, reason), and the seconds from `now` (Unix seconds) to
    /// the earliest scheduled key rotation (negative when overdue) and to the end of the earliest
    /// retired key's grace window; `None` without a source.
    #[allow(clippy::type_complexity)]
    fn snapshot(
        &self,
        now: i64,
    ) -> Option<(
        BTreeMap<(String, &'static str, String), i64>,
        Option<i64>,
        Option<i64>,
    )> {
        let resources = self.0.read()?;
        let mut counts: BTreeMap<(String, &'static str, String), i64> = BTreeMap::new();
        let mut count = |key: (String, &'static str, String)| {
            let key = if counts.len() >= MAX_STATE_SERIES && !counts.contains_key(&key) {
                (key.0, key.1, Reason::Other.into())
            } else {
                key
            };
            *counts.entry(key).or_default() += 1;
        };
        for r in &resources {
            if !r.conditions.iter().any(|(t, _, _)| t == "Ready") {
                count(("Ready".into(), "Unknown", NOT_RECONCILED.into()));
            }
            for (type_, status, reason) in &r.conditions {
                let Some(type_) = camel_case(type_) else {
                    continue;
                };
                let reason = camel_case(reason).unwrap_or(Reason::Other.as_str());
                count((type_.to_string(), truth(status), reason.to_string()));
            }
        }
        let next = resources
            .iter()
            .filter_map(|r| r.next_rotation)
            .min()
            .map(|at| at - now);
        let retired = resources
            .iter()
            .filter_map(|r| r.retired_expiry)
            .min()
            .map(|at| at - now);
        Some((counts, next, retired))
    }
}

impl Collector for ResourceStates {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let Some((counts, next, retired)) = self.snapshot(jiff::Timestamp::now().as_second())
        else {
            return Ok(());
        };
        let mut family = encoder.encode_descriptor(
            "resources",
            "OidcSsoConfig resources by condition, status and reason (a resource the operator has \
             not reported on yet counts as Ready Unknown NotReconciled)",
            None,
            MetricType::Gauge,
        )?;
        for ((condition, status, reason), n) in counts {
            let labels = [
                ("condition", condition),
                ("status", status.to_string()),
                ("reason", reason),
            ];
            ConstGauge::new(n).encode(family.encode_family(&labels)?)?;
        }
        // No sample without a scheduled rotation: provided keys and no rotation.every.
        if let Some(next) = next {
            let next = ConstGauge::new(next);
            next.encode(encoder.encode_descriptor(
                "jwt_key_next_rotation",
                "Seconds until the earliest scheduled JWT key rotation (spec.jwt.rotation.every); \
                 negative when overdue",
                Some(&Unit::Seconds),
                next.metric_type(),
            )?)?;
        }
        // No sample while no retired key is in its grace window.
        if let Some(retired) = retired {
            let retired = ConstGauge::new(retired);
            retired.encode(encoder.encode_descriptor(
                "jwt_retired_key_expiry",
                "Seconds until the earliest retired JWT key's grace window ends \
                 (spec.jwt.rotation.gracePeriod): tokens it signed stop verifying then",
                Some(&Unit::Seconds),
                retired.metric_type(),
            )?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(text: &str, name: &str) -> Option<f64> {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
    }

    #[test]
    fn key_age_is_the_oldest_key_in_use_without_a_label_per_resource() {
        let m = Metrics::default();
        let now = jiff::Timestamp::now().as_second();
        let keys = Arc::new(std::sync::Mutex::new(vec![now - 3600, now - 60]));
        let source = keys.clone();
        m.key_ages_from(move || source.lock().unwrap().clone());
        let text = m.encode();
        assert_eq!(sample(&text, "oidc_sso_jwt_keys"), Some(2.0));
        let age = sample(&text, "oidc_sso_jwt_key_oldest_age_seconds").unwrap();
        assert!((3600.0..3700.0).contains(&age), "{age}");

        // Read at every scrape: a rotation or a deletion shows at once.
        *keys.lock().unwrap() = vec![now];
        let text = m.encode();
        assert_eq!(sample(&text, "oidc_sso_jwt_keys"), Some(1.0));
        assert!(sample(&text, "oidc_sso_jwt_key_oldest_age_seconds").unwrap() < 100.0);
        keys.lock().unwrap().clear();
        let text = m.encode();
        assert_eq!(sample(&text, "oidc_sso_jwt_keys"), Some(0.0));
        assert_eq!(sample(&text, "oidc_sso_jwt_key_oldest_age_seconds"), None);
    }

    #[test]
    fn a_replica_that_does_not_reconcile_exports_no_key_gauges() {
        let text = Metrics::default().encode();
        assert_eq!(sample(&text, "oidc_sso_jwt_keys"), None);
        assert_eq!(sample(&text, "oidc_sso_jwt_key_oldest_age_seconds"), None);
    }

    /// A resource named `name` with `conditions` (type, status, reason) and a key rotation due
    /// at `next_rotation` (Unix seconds); no status at all when both are empty.
    fn resource(
        name: &str,
        conditions: &[(&str, &str, &str)],
        next_rotation: Option<i64>,
    ) -> OidcSsoConfig {
        let mut r = crate::fixtures::Resource::public()
            .named("apps", name)
            .set("/spec/provider/clientId", serde_json::json!("om"))
            .set(
                "/spec/authorizer/principalDomain",
                serde_json::json!("example.com"),
            )
            .rolling(name)
            .build();
        if conditions.is_empty() && next_rotation.is_none() {
            return r;
        }
        r.status = Some(
            serde_json::from_value(serde_json::json!({
                "conditions": conditions.iter().map(|(t, s, reason)| serde_json::json!({
                    "type": t, "status": s, "reason": reason, "message": "m",
                    "lastTransitionTime": "2026-01-01T00:00:00Z",
                })).collect::<Vec<_>>(),
                "keys": next_rotation.map(|at| serde_json::json!({
                    "nextRotationAt": jiff::Timestamp::from_second(at).unwrap().to_string(),
                })),
            }))
            .expect("status"),
        );
        r
    }

    #[test]
    fn the_earliest_retired_key_expiry_is_exported_while_one_is_in_its_window() {
        let now = jiff::Timestamp::now().as_second();
        let with_retired = |name: &str, ends: &[i64]| {
            let mut r = resource(name, &[("Ready", "True", "Reconciled")], None);
            let retired: Vec<_> = ends
                .iter()
                .map(|at| {
                    serde_json::json!({"keyId": format!("k{at}"),
                        "expiresAt": jiff::Timestamp::from_second(*at).unwrap().to_string()})
                })
                .collect();
            r.status.as_mut().unwrap().keys =
                Some(serde_json::from_value(serde_json::json!({"retired": retired})).unwrap());
            r
        };
        let (store, mut writer) = store_of(vec![
            with_retired("a", &[now + 7200, now + 3600]),
            with_retired("b", &[now + 86_400]),
        ]);
        let m = Metrics::default();
        m.resources_from(store);
        let left = sample(&m.encode(), "oidc_sso_jwt_retired_key_expiry_seconds").unwrap();
        assert!((3500.0..=3600.0).contains(&left), "{left}");
        for name in ["a", "b"] {
            writer.apply_watcher_event(&kube::runtime::watcher::Event::Apply(with_retired(
                name,
                &[],
            )));
        }
        assert_eq!(
            sample(&m.encode(), "oidc_sso_jwt_retired_key_expiry_seconds"),
            None
        );
    }

    const READY: &str = r#"condition="Ready",status="True",reason="Reconciled""#;
    const UNREACHABLE: &str = r#"condition="Ready",status="False",reason="Unreachable""#;
    const NOT_RECONCILED_YET: &str = r#"condition="Ready",status="Unknown",reason="NotReconciled""#;

    /// Asserts the `oidc_sso_resources` sample of each label set (`None`: no sample).
    fn assert_resources(text: &str, expected: &[(&str, Option<f64>)]) {
        for (labels, want) in expected {
            let got = sample(text, &format!("oidc_sso_resources{{{labels}}}"));
            assert_eq!(got, *want, "{labels} in\n{text}");
        }
    }

    /// A store holding `resources`, as the controller's cache would, and its writer.
    fn store_of(
        resources: Vec<OidcSsoConfig>,
    ) -> (
        Store<OidcSsoConfig>,
        kube::runtime::reflector::store::Writer<OidcSsoConfig>,
    ) {
        let (store, mut writer) = kube::runtime::reflector::store::<OidcSsoConfig>();
        for r in resources {
            writer.apply_watcher_event(&kube::runtime::watcher::Event::Apply(r));
        }
        (store, writer)
    }

    #[test]
    fn resources_are_counted_per_condition_status_and_reason_without_a_label_per_resource() {
        let now = jiff::Timestamp::now().as_second();
        let (store, mut writer) = store_of(vec![
            resource(
                "good",
                &[
                    ("Ready", "True", "Reconciled"),
                    ("WorkloadsUpdated", "True", "RolledOut"),
                ],
                Some(now + 7200),
            ),
            resource(
                "held",
                &[
                    ("Ready", "False", "Unreachable"),
                    ("ProviderVerified", "False", "Unreachable"),
                    ("WorkloadsUpdated", "False", "RolloutHeld"),
                ],
                None,
            ),
            resource(
                "also-held",
                &[
                    ("Ready", "False", "Unreachable"),
                    ("WorkloadsUpdated", "False", "RolloutHeld"),
                ],
                Some(now + 86_400),
            ),
            resource("new", &[], None),
        ]);
        let m = Metrics::default();
        m.resources_from(store);
        let text = m.encode();
        assert_resources(
            &text,
            &[
                (READY, Some(1.0)),
                (UNREACHABLE, Some(2.0)),
                (
                    r#"condition="WorkloadsUpdated",status="False",reason="RolloutHeld""#,
                    Some(2.0),
                ),
                (
                    r#"condition="ProviderVerified",status="False",reason="Unreachable""#,
                    Some(1.0),
                ),
                // Not reported on yet: counted as not Ready, so the alert sees it.
                (NOT_RECONCILED_YET, Some(1.0)),
            ],
        );
        for name in ["good", "held", "also-held", "new", "apps"] {
            assert!(!text.contains(&format!("\"{name}\"")), "{name} in\n{text}");
        }
        // The earliest scheduled rotation, in seconds from now.
        let next = sample(&text, "oidc_sso_jwt_key_next_rotation_seconds").unwrap();
        assert!((7100.0..=7200.0).contains(&next), "{next}");

        // Read at every scrape: a status change or a deletion shows at once.
        writer.apply_watcher_event(&kube::runtime::watcher::Event::Apply(resource(
            "held",
            &[("Ready", "True", "Reconciled")],
            Some(now - 60),
        )));
        writer.apply_watcher_event(&kube::runtime::watcher::Event::Delete(resource(
            "new",
            &[],
            None,
        )));
        let text = m.encode();
        assert_resources(
            &text,
            &[
                (READY, Some(2.0)),
                (UNREACHABLE, Some(1.0)),
                (NOT_RECONCILED_YET, None),
            ],
        );
        // Overdue: negative.
        let next = sample(&text, "oidc_sso_jwt_key_next_rotation_seconds").unwrap();
        assert!((-100.0..=-60.0).contains(&next), "{next}");
    }

    #[test]
    fn labels_stay_bounded_whatever_a_status_says() {
        let mut resources = vec![resource(
            "odd",
            &[
                ("Ready", "Maybe", "has spaces and / slashes"),
                ("not-camel", "True", "Fine"),
            ],
            None,
        )];
        // More distinct reasons than the cap.
        for i in 0..(MAX_STATE_SERIES + 50) {
            resources.push(resource(
                &format!("r{i}"),
                &[("Ready", "False", &format!("Reason{i}"))],
                None,
            ));
        }
        let m = Metrics::default();
        m.resources_from(store_of(resources).0);
        let text = m.encode();
        // An odd status is Unknown, an odd reason Other; a condition type that is not one the
        // operator could write is left out.
        assert_resources(
            &text,
            &[(
                r#"condition="Ready",status="Unknown",reason="Other""#,
                Some(1.0),
            )],
        );
        assert!(!text.contains("not-camel"), "{text}");
        let series = text
            .lines()
            .filter(|l| l.starts_with("oidc_sso_resources{"))
            .count();
        assert!(series <= MAX_STATE_SERIES + 3, "{series} series");
        let total: f64 = text
            .lines()
            .filter(|l| l.starts_with("oidc_sso_resources{condition=\"Ready\""))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum();
        assert_eq!(
            total,
            (MAX_STATE_SERIES + 51) as f64,
            "every resource counted"
        );
        // No key is scheduled for rotation: no sample.
        assert_eq!(
            sample(&text, "oidc_sso_jwt_key_next_rotation_seconds"),
            None
        );
    }

    #[test]
    fn a_replica_that_does_not_reconcile_exports_no_resource_gauges() {
        let text = Metrics::default().encode();
        assert!(!text.contains("oidc_sso_resources"), "{text}");
        assert!(!text.contains("oidc_sso_jwt_key_next_rotation"), "{text}");
    }

    #[test]
    fn exposes_every_operator_metric() {
        let m = Metrics::default();
        m.reconciles.inc();
        m.triggered(Trigger::OwnedSecret, 2);
        m.triggered(Trigger::Secret, 0);
        m.failure("apply");
        m.duration.observe(0.1);
        m.rollouts.inc();
        m.provider_check("provider", "Verified");
        m.leader.set(1);
        let text = m.encode();
        for name in [
            "oidc_sso_reconciles_total",
            "oidc_sso_reconcile_triggers_total{source=\"owned_secret\"} 2",
            "oidc_sso_reconcile_failures_total{reason=\"apply\"}",
            "oidc_sso_reconcile_duration_seconds_count",
            "oidc_sso_rollouts_triggered_total",
            "oidc_sso_provider_checks_total{check=\"provider\",result=\"Verified\"}",
            "oidc_sso_leader 1",
        ] {
            assert!(text.contains(name), "{name} missing in\n{text}");
        }
    }
}
