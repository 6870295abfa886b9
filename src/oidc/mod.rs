//! OIDC provider verification (owned by the oidc work).
