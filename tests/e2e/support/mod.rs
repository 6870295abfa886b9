//! What the suites share: the cluster ([`cluster`]), the operator process ([`operator`]), the
//! OIDC provider process ([`oidc`]), Helm releases of our chart ([`chart`]), the standard scenario
//! ([`scenario`]), hostile providers ([`hostile_idp`], [`replaying_idp`]), plain HTTP requests ([`http`]), a real Keycloak ([`keycloak`]), Dex ([`dex`]) and Hydra ([`hydra`]) in process groups ([`process_group`]) and real providers compared with their profiles ([`side_by_side`]), the Argo CD health check ([`argocd`]), the check of OpenMetadata's official
//! chart ([`official_chart`]) and promtool with the chart's alert rules ([`monitoring`]).

#[path = "../../support/argocd.rs"]
pub mod argocd;
pub mod chart;
pub mod cluster;
pub mod dex;
pub mod hostile_idp;
pub mod http;
pub mod hydra;
pub mod keycloak;
#[path = "../../support/monitoring.rs"]
pub mod monitoring;
#[path = "../../support/official_chart.rs"]
pub mod official_chart;
pub mod oidc;
pub mod operator;
pub mod process_group;
#[path = "../../support/replaying_idp.rs"]
pub mod replaying_idp;
pub mod scenario;
pub mod side_by_side;
