//! Prometheus metrics. Labels are bounded: step names and condition reasons, never names of
//! objects.

use std::sync::{Arc, OnceLock};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

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
        let _ = self.key_ages.0.set(Box::new(source));
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

/// Reads JWT key creation times on demand. Resource names never become labels: a series per
/// resource would grow with the number of resources.
#[derive(Default)]
struct KeyAges(OnceLock<KeySource>);

type KeySource = Box<dyn Fn() -> Vec<i64> + Send + Sync>;

impl std::fmt::Debug for KeyAges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyAges")
            .field("source", &self.0.get().map(|_| "set"))
            .finish()
    }
}

impl KeyAges {
    /// (keys in use, age of the oldest in seconds) at `now` (Unix seconds); `None` without a
    /// source.
    fn snapshot(&self, now: i64) -> Option<(i64, Option<i64>)> {
        let created = (self.0.get()?)();
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
