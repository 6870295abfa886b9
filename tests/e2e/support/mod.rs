//! What the suites share: the cluster ([`cluster`]), the operator process ([`operator`]), the
//! OIDC provider process ([`oidc`]), Helm releases of our chart ([`chart`]), the standard scenario
//! ([`scenario`]) and the Argo CD health check ([`argocd`]).

#[path = "../../support/argocd.rs"]
pub mod argocd;
pub mod chart;
pub mod cluster;
pub mod oidc;
pub mod operator;
pub mod scenario;
