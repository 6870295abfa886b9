//! What the suites share: the cluster ([`cluster`]), the operator process ([`operator`]), the
//! OIDC provider process ([`oidc`]), Helm releases of our chart ([`chart`]), the standard scenario
//! ([`scenario`]), the Argo CD health check ([`argocd`]) and the check of OpenMetadata's official
//! chart ([`official_chart`]).

#[path = "../../support/argocd.rs"]
pub mod argocd;
pub mod chart;
pub mod cluster;
#[path = "../../support/official_chart.rs"]
pub mod official_chart;
pub mod oidc;
pub mod operator;
pub mod scenario;
