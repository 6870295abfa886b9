//! A wrapper for secret values that cannot be printed by accident.
//!
//! `Debug` shows only `<redacted>`, there is no `Display`, and `expose()` is the one grep-able place
//! where a secret leaves the wrapper (rendering it into an owned Secret, or sending it to the
//! provider's token endpoint).

use sha2::{Digest, Sha256};

/// A secret value (client secret, bot token). Compared by value; printed never.
#[derive(Clone, PartialEq, Eq)]
pub struct Sensitive<T>(T);

impl<T> Sensitive<T> {
    /// Wraps a secret value.
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The secret itself. Call sites are the audit list of where secrets go.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T: AsRef<[u8]>> Sensitive<T> {
    /// A short SHA-256 digest, safe to log and compare (`sha256:` + 12 hex digits).
    pub fn digest(&self) -> String {
        let hash = Sha256::digest(self.0.as_ref());
        format!("sha256:{}", &hex::encode(hash)[..12])
    }
}

impl<T> std::fmt::Debug for Sensitive<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_value() {
        let s = Sensitive::new("hunter2".to_string());
        assert_eq!(format!("{s:?}"), "<redacted>");
        assert!(!format!("{:?}", Some(&s)).contains("hunter2"));
    }

    #[test]
    fn digest_is_stable_and_does_not_contain_the_value() {
        let a = Sensitive::new("hunter2");
        assert_eq!(a.digest(), Sensitive::new("hunter2").digest());
        assert_ne!(a.digest(), Sensitive::new("hunter3").digest());
        assert!(a.digest().starts_with("sha256:"));
        assert_eq!(a.digest().len(), "sha256:".len() + 12);
    }
}
