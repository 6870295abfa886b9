//! Proof that a server pod runs what the operator rendered, read from the pod's own
//! unauthenticated endpoints (openmetadata-server-behaviour.md §3). Pure but for [`ask`]: the
//! answers come in as bytes, what they prove goes out as typed verdicts that name fields, never
//! values. (The controller step that asks every ready pod of each target is being built.)
//!
//! - [`ask`]: the requests to one pod (its IP, fixed paths, bounded; the only IO here);
//! - [`auth`]: the authentication settings (`/api/v1/system/config/auth`);
//! - [`jwks`]: the signing key (`/api/v1/system/config/jwks`);
//! - [`pods`]: which pods of a target are asked (ready, created from the current rendering);
//! - [`version`]: the release and its family (`/api/v1/system/version`, or the image tag);
//! - [`verdict`]: one pod's proof from its three answers, and a target's sum;
//! - [`reset`]: whether a pod template runs OpenMetadata's `remove-security-config --force`.

pub mod ask;
pub mod auth;
pub mod jwks;
pub mod pods;
pub mod reset;
pub mod verdict;
pub mod version;
