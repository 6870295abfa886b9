//! `render --out-dir`: the key pair is generated once and kept by later runs, replaced only with
//! `--rotate-keys`, never replaced silently when it is unusable; files get a server's modes; and
//! the flags that cannot work together say so.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use crate::offline_cli::{hostile_resource, out_dir_args, render_cli, run_render};

fn args<'a>(cr: &'a Path, out: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    out_dir_args(cr, "dotenv", out, extra)
}

fn private_key(out: &Path) -> Vec<u8> {
    std::fs::read(out.join("keys/private_key.der")).unwrap()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn keys_are_generated_once_kept_by_the_next_run_and_rotated_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let cr = hostile_resource(dir.path());
    let out = dir.path().join("oidc");
    let first = render_cli(&args(&cr, &out, &[]));
    assert!(String::from_utf8_lossy(&first.stdout).contains("generated"));
    let key = private_key(&out);
    let settings = std::fs::read(out.join("openmetadata.env")).unwrap();

    let second = render_cli(&args(&cr, &out, &[]));
    assert!(String::from_utf8_lossy(&second.stdout).contains("kept from the last run"));
    assert!(private_key(&out) == key, "the key pair is kept");
    assert!(std::fs::read(out.join("openmetadata.env")).unwrap() == settings);

    let rotated = render_cli(&args(&cr, &out, &["--rotate-keys"]));
    assert!(String::from_utf8_lossy(&rotated.stdout).contains("rotated"));
    assert!(private_key(&out) != key, "--rotate-keys replaces it");
    assert!(
        std::fs::read(out.join("openmetadata.env")).unwrap() != settings,
        "new JWT_KEY_ID"
    );

    assert_eq!(mode(&out), 0o700);
    assert_eq!(mode(&out.join("keys")), 0o700);
    assert_eq!(mode(&out.join("keys/private_key.der")), 0o600);
    assert_eq!(mode(&out.join("keys/public_key.der")), 0o644);
    assert_eq!(mode(&out.join("openmetadata.env")), 0o600);
    assert_eq!(mode(&out.join("workflowConfig.yaml")), 0o600);
}

#[test]
fn an_unusable_private_key_stops_the_run_and_stays_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let cr = hostile_resource(dir.path());
    let out = dir.path().join("oidc");
    render_cli(&args(&cr, &out, &[]));
    std::fs::write(out.join("keys/private_key.der"), b"edited by hand").unwrap();
    let failed = run_render(&args(&cr, &out, &[]));
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(stderr.contains("--rotate-keys"), "{stderr}");
    assert_eq!(private_key(&out), b"edited by hand");
    render_cli(&args(&cr, &out, &["--rotate-keys"]));
    assert_ne!(private_key(&out), b"edited by hand");
}

#[test]
fn flags_that_cannot_work_together_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let cr = hostile_resource(dir.path());
    let cr = cr.to_str().unwrap();
    let out = dir.path().join("oidc");
    let out = out.to_str().unwrap();
    for (args, why) in [
        (vec!["-f", cr, "--format", "dotenv"], "would be lost"),
        (vec!["-f", cr, "--out-dir", out], "choose --format"),
        (
            vec!["-f", cr, "--format", "shell", "--rotate-keys"],
            "--out-dir",
        ),
        (
            vec!["-f", cr, "--provider-allowed-networks", "127.0.0.0/8"],
            "--verify",
        ),
    ] {
        let failed = run_render(&args);
        assert!(!failed.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&failed.stderr);
        assert!(stderr.contains(why), "{args:?}: {stderr}");
    }
    assert!(!Path::new(out).exists(), "nothing is written");
}

#[test]
fn the_key_directory_the_settings_name_can_be_chosen_and_must_be_absolute() {
    let dir = tempfile::tempdir().unwrap();
    let cr = hostile_resource(dir.path());
    let out = dir.path().join("oidc");
    let printed = render_cli(&args(&cr, &out, &["--key-dir-in-server", "/srv/om/keys"]));
    let settings = std::fs::read_to_string(out.join("openmetadata.env")).unwrap();
    assert!(
        settings.contains("RSA_PRIVATE_KEY_FILE_PATH='\"/srv/om/keys/private_key.der\"'"),
        "the settings name the chosen directory"
    );
    let stdout = String::from_utf8_lossy(&printed.stdout);
    assert!(stdout.contains(":/srv/om/keys:ro"), "{stdout}");

    let failed = run_render(&args(&cr, &out, &["--key-dir-in-server", "relative/keys"]));
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        stderr.contains("relative/keys") && stderr.contains("absolute path"),
        "{stderr}"
    );
}

#[test]
fn settings_go_to_stdout_when_the_spec_brings_its_own_keys() {
    let root = crate::offline_cli::root();
    let cr = root.join("tests/fixtures/confidential.yaml");
    let keys = root.join("tests/fixtures/test-keys.yaml");
    let printed = render_cli(&[
        "-f",
        cr.to_str().unwrap(),
        "--inputs",
        keys.to_str().unwrap(),
        "--format",
        "shell",
    ]);
    let stdout = String::from_utf8(printed.stdout).unwrap();
    assert!(stdout.starts_with("# shellcheck shell=sh\n"));
    assert!(
        stdout.contains(
            "\nexport RSA_PRIVATE_KEY_FILE_PATH='\"/etc/openmetadata/jwtkeys/private_key.der\"'\n"
        ),
        "the spec's keyMountPath without --out-dir"
    );
}
