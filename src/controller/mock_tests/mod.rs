//! The controller against a mocked apiserver (tower-test): the API calls of single write steps
//! ([`steps`]: field managers, uid preconditions, nothing in a steady state) and of whole
//! reconciles ([`reconciles`]: first apply, steady state, credential change, missing Secret,
//! provider down), and of the bot-token renewal step ([`renew`]: which Job, when, never twice).
//! Behaviour against a real apiserver is covered by the e2e suites.

mod fake;
mod reconciles;
mod renew;
mod steps;
