//! The committed CRD must be exactly what the Rust types generate (`make generate` rewrites it).

#[test]
fn committed_crd_matches_the_rust_types() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crds/oidcssoconfig.yaml");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = oidc_sso_operator::crd::crd_yaml().unwrap();
    assert!(
        committed == generated,
        "crds/oidcssoconfig.yaml is stale or missing: run `make generate` and commit the result"
    );
}
