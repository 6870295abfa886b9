//! `render --format shell` through real shells: after sourcing the script, dash (`sh`) and bash
//! hand the server exactly the bytes of every value, whatever it contains; and the script the
//! CLI writes into `--out-dir` gives the environment of the operator's settings Secret, with
//! RSA_*_FILE_PATH naming the key files it wrote.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use oidc_sso_operator::offline::{EnvFormat, envfile};

use crate::offline_cli::{
    corpus, differing, hostile_resource, out_dir_args, render_cli, secret_values,
};

/// Shells a bare-metal install may source the script with: dash is Debian's `sh`.
const SHELLS: [&[&str]; 3] = [&["dash"], &["bash"], &["bash", "--posix"]];

/// The environment `shell` passes on after sourcing `script` (read with `env -0`, so any byte
/// but NUL survives), starting from an environment with only PATH and a HOME values must not
/// pick up.
fn sourced(shell: &[&str], script: &Path) -> BTreeMap<String, Vec<u8>> {
    let out = Command::new(shell[0])
        .args(&shell[1..])
        .args(["-c", ". \"$1\" && exec env -0", "sh"])
        .arg(script)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", "/home/from-the-shell")
        .output()
        .unwrap_or_else(|e| panic!("{shell:?} must be installed: {e}"));
    assert!(
        out.status.success(),
        "{shell:?} failed to source the script: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
        .split(|b| *b == 0)
        .filter(|e| !e.is_empty())
        .filter_map(|e| {
            let eq = e.iter().position(|b| *b == b'=')?;
            Some((
                String::from_utf8(e[..eq].to_vec()).ok()?,
                e[eq + 1..].to_vec(),
            ))
        })
        .collect()
}

#[test]
fn every_value_survives_sourcing_in_dash_and_bash() {
    let dir = tempfile::tempdir().unwrap();
    let values = corpus();
    let script = dir.path().join("corpus.sh");
    let text = envfile::encode(EnvFormat::Shell, &["corpus".into()], &values).unwrap();
    std::fs::write(&script, text).unwrap();
    for shell in SHELLS {
        let env = sourced(shell, &script);
        assert_eq!(differing(&values, &env), Vec::<String>::new(), "{shell:?}");
    }
}

#[test]
fn the_out_dir_script_gives_the_settings_secret_and_names_the_written_keys() {
    let dir = tempfile::tempdir().unwrap();
    let cr = hostile_resource(dir.path());
    let out = dir.path().join("om");
    let printed = render_cli(&out_dir_args(&cr, "shell", &out, &[]));
    let keys = out.join("keys").canonicalize().unwrap();
    let expected = secret_values(&cr, &keys, keys.to_str());
    let script = out.join("openmetadata-env.sh");
    for shell in SHELLS {
        let env = sourced(shell, &script);
        assert_eq!(
            differing(&expected, &env),
            Vec::<String>::new(),
            "{shell:?}"
        );
        let private = String::from_utf8(env["RSA_PRIVATE_KEY_FILE_PATH"].clone()).unwrap();
        // A YAML double-quoted scalar, as every rendered value.
        let path = private.trim_matches('"');
        assert_eq!(Path::new(path), keys.join("private_key.der"));
        assert!(Path::new(path).is_file());
    }
    let stdout = String::from_utf8(printed.stdout).unwrap();
    assert!(
        stdout.contains(&format!("point to {}", keys.display())),
        "{stdout}"
    );
    assert!(stdout.contains("where they were written"), "{stdout}");
    assert!(!stdout.contains("s3cr3t"), "no secret is printed");
}
