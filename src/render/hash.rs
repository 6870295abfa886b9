//! The rollout hash: a digest of exactly what the pods consume.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

/// SHA-256 over labelled maps, as `sha256:<hex>`. Every label, key and value is length-prefixed,
/// so no two different inputs share an encoding; the maps are `BTreeMap`s, so the order in which
/// entries were inserted cannot change the result. Secret Names are not included: renaming an
/// output Secret changes nothing the running pods read until their spec is edited, which rolls
/// them anyway.
pub fn content_hash(parts: &[(&str, &BTreeMap<String, Vec<u8>>)]) -> String {
    let mut h = Sha256::new();
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(bytes);
    };
    for (label, data) in parts {
        field(label.as_bytes());
        field(&(data.len() as u64).to_be_bytes());
        for (k, v) in *data {
            field(k.as_bytes());
            field(v);
        }
    }
    format!("sha256:{}", hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(entries: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn same_content_gives_same_hash_whatever_the_insertion_order() {
        let a = map(&[("A", "1"), ("B", "2")]);
        let b = map(&[("B", "2"), ("A", "1")]);
        assert_eq!(content_hash(&[("x", &a)]), content_hash(&[("x", &b)]));
    }

    #[test]
    fn any_changed_key_or_value_changes_the_hash() {
        let base = content_hash(&[("x", &map(&[("A", "1")]))]);
        assert_ne!(base, content_hash(&[("x", &map(&[("A", "2")]))]));
        assert_ne!(base, content_hash(&[("x", &map(&[("B", "1")]))]));
        assert_ne!(base, content_hash(&[("x", &map(&[("A", "1"), ("B", "")]))]));
        assert_ne!(base, content_hash(&[("y", &map(&[("A", "1")]))]));
    }

    #[test]
    fn boundaries_between_keys_and_values_are_unambiguous() {
        assert_ne!(
            content_hash(&[("x", &map(&[("AB", "C")]))]),
            content_hash(&[("x", &map(&[("A", "BC")]))])
        );
        let one = map(&[("A", "1")]);
        let empty = BTreeMap::new();
        assert_ne!(
            content_hash(&[("x", &one), ("y", &empty)]),
            content_hash(&[("x", &empty), ("y", &one)])
        );
    }
}
