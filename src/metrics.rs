//! Prometheus metrics. Labels are bounded: step names and condition reasons, never names of
//! objects.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Label set of one label named by the family.
type Labels = Vec<(&'static str, String)>;

/// The operator's metrics.
pub struct Metrics {
    registry: Registry,
    pub reconciles: Counter,
    pub failures: Family<Labels, Counter>,
    pub duration: Histogram,
    pub rollouts: Counter,
    /// Provider check results by check (`provider`, `credentials`) and result (a CamelCase
    /// reason such as `Verified`, `Unreachable`, `InvalidClient`).
    pub provider_checks: Family<Labels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("oidc_sso");
        let reconciles = Counter::default();
        let failures = Family::<Labels, Counter>::default();
        let duration = Histogram::new(exponential_buckets(0.005, 2.0, 14));
        let rollouts = Counter::default();
        let provider_checks = Family::<Labels, Counter>::default();
        registry.register("reconciles", "Reconciles run", reconciles.clone());
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
        Self {
            registry,
            reconciles,
            failures,
            duration,
            rollouts,
            provider_checks,
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

    /// Counts a failure under a bounded label.
    pub fn failure(&self, reason: &'static str) {
        self.failures
            .get_or_create(&vec![("reason", reason.to_string())])
            .inc();
    }
}
