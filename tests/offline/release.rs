//! One version for every release artifact: the chart `helm package` writes carries Cargo's version
//! as its version and appVersion, so its default image is exactly the tag `make image` gives the
//! image (`oidc-sso-operator:<Cargo version>`), and CHANGELOG.md has a section for it.
//! `make release` (scripts/release/build.sh) refuses to package otherwise; this test catches a
//! bump of one file without the others in `cargo test`.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::cluster;

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn helm(args: &[&str]) -> String {
    let helm = cluster::helm();
    let out = Command::new(&helm).args(args).output().unwrap_or_else(|e| {
        panic!(
            "cannot run helm at {} ({e}): build it with `scripts/cluster/build.sh helm` (or set HELM)",
            helm.display()
        )
    });
    assert!(
        out.status.success(),
        "helm {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn the_packaged_chart_runs_the_image_tagged_with_cargos_version() {
    let dir = tempfile::tempdir().unwrap();
    let chart = root().join("charts/oidc-sso-operator");
    helm(&[
        "package",
        chart.to_str().unwrap(),
        "--destination",
        dir.path().to_str().unwrap(),
    ]);
    let packaged = dir.path().join(format!("oidc-sso-operator-{VERSION}.tgz"));
    assert!(
        packaged.exists(),
        "helm package did not write {}: Chart.yaml's version differs from Cargo.toml's {VERSION}",
        packaged.display()
    );
    let packaged = packaged.to_str().unwrap();

    let meta: Value = serde_saphyr::from_str(&helm(&["show", "chart", packaged])).unwrap();
    assert_eq!(meta["version"], VERSION, "Chart.yaml version");
    assert_eq!(meta["appVersion"], VERSION, "Chart.yaml appVersion");

    let text = helm(&["template", "release-check", packaged, "-n", "ops"]);
    let docs: Vec<Value> = serde_saphyr::from_str_multiple(&text).unwrap();
    let images: Vec<&str> = docs
        .iter()
        .filter(|d| d["kind"] == "Deployment")
        .flat_map(|d| {
            d["spec"]["template"]["spec"]["containers"]
                .as_array()
                .unwrap()
        })
        .map(|c| c["image"].as_str().unwrap())
        .collect();
    assert_eq!(images, [format!("oidc-sso-operator:{VERSION}")]);
}

#[test]
fn the_changelog_has_a_section_for_cargos_version() {
    let changelog = std::fs::read_to_string(root().join("CHANGELOG.md")).unwrap();
    assert!(
        changelog
            .lines()
            .any(|l| l.starts_with(&format!("## [{VERSION}]"))),
        "CHANGELOG.md has no '## [{VERSION}]' section"
    );
    assert!(
        changelog.contains(&format!("\n[{VERSION}]: ")),
        "CHANGELOG.md has no link for [{VERSION}]"
    );
}
