//! The steps of a reconcile, in the order the driver (`reconcile.rs`) runs them: read what the
//! resource references ([`fetch`]), check the provider ([`verify`]), keep the JWT key pair
//! ([`keys`]), write the owned Secrets ([`apply`]), roll the targets ([`rollout`], with how a
//! workload is read and how it consumes the Secrets), ask the rolled-out pods whether they run
//! the rendering ([`prove`]), renew the bot tokens after a key change ([`renew`]), and decide who owns a target ([`ownership`]). Each does its own IO; the decisions they share live in the driver.

pub(in crate::controller) mod apply;
pub(in crate::controller) mod fetch;
pub(in crate::controller) mod keys;
pub(in crate::controller) mod ownership;
pub(crate) mod prove;
pub(crate) mod renew;
pub(in crate::controller) mod rollout;
pub(crate) use crate::verification as verify;
