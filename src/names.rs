//! Every name the operator writes to the cluster, in one place: labels, annotations, field
//! managers, the Event reporter and the HTTP User-Agent. Changing one of these changes what existing
//! installations see, so each says who reads it.

/// API group of the `OidcSsoConfig` resource and of every label and annotation the operator sets.
pub const GROUP: &str = "oidcsso.io";

/// Name of the operator as a controller: Event reporter, `app.kubernetes.io/managed-by` value,
/// field-manager prefix.
pub const OPERATOR: &str = "oidc-sso-operator";

/// User-Agent of the operator's requests (to the apiserver and to OIDC providers), so audit logs
/// and provider logs attribute them.
pub const USER_AGENT: &str = concat!("oidc-sso-operator/", env!("CARGO_PKG_VERSION"));

/// Labels on every Secret the operator owns. The operator caches only Secrets that carry
/// [`labels::MANAGED_BY`]`=`[`OPERATOR`].
pub mod labels {
    /// `app.kubernetes.io/managed-by`.
    pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
    /// Name of the `OidcSsoConfig` an owned Secret belongs to (the schema keeps names short
    /// enough for a label value).
    pub const CONFIG: &str = "oidcsso.io/config";
    /// Which output an owned Secret is: one of the `ROLE_*` values.
    pub const ROLE: &str = "oidcsso.io/role";
    /// [`ROLE`] of the settings Secret.
    pub const ROLE_AUTH_ENV: &str = "auth-env";
    /// [`ROLE`] of the keys Secret.
    pub const ROLE_JWT_KEYS: &str = "jwt-keys";
    /// [`ROLE`] of the ingestion `workflowConfig` Secret.
    pub const ROLE_INGESTION: &str = "ingestion";
}

/// Annotations the operator reads or writes.
pub mod annotations {
    /// On each target's pod template: the digest of what its pods consume. Rolls the workload
    /// when it changes; the only field of a workload the operator writes.
    pub const CONFIG_HASH: &str = "oidcsso.io/config-hash";
    /// On an `OidcSsoConfig`, set by users: a new value rotates the generated keys once.
    pub const ROTATE_JWT_KEYS: &str = "oidcsso.io/rotate-jwt-keys";
    /// On the keys Secret: when the key pair was generated or first seen (RFC 3339).
    pub const KEY_CREATED_AT: &str = "oidcsso.io/key-created-at";
    /// On the keys Secret: `Generated` or `Provided`.
    pub const KEY_SOURCE: &str = "oidcsso.io/key-source";
    /// On the keys Secret: the value of [`ROTATE_JWT_KEYS`] the key pair answers.
    pub const ROTATION_REQUEST: &str = "oidcsso.io/rotation-request";
    /// On the keys Secret: when this pair replaced a stored pair that was lost (its Secret
    /// deleted or made unreadable) rather than one asked to be replaced.
    pub const KEY_REPLACED_LOST: &str = "oidcsso.io/key-replaced-lost-at";
    /// Copy of the whole object that client-side `kubectl apply` leaves; dropped from caches.
    pub const KUBECTL_LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
}

/// Server-side-apply field managers, one per kind of write, so `managedFields` tells who wrote
/// what.
pub mod field_managers {
    /// The owned Secrets.
    pub const SECRETS: &str = "oidc-sso-operator/secrets";
    /// The config-hash annotation on targets.
    pub const ROLLOUT: &str = "oidc-sso-operator/rollout";
    /// The `OidcSsoConfig` status subresource.
    pub const STATUS: &str = "oidc-sso-operator/status";

    /// The leader-election Lease, per replica.
    pub fn lease(identity: &str) -> String {
        format!("oidc-sso-operator/lease/{identity}")
    }
}
