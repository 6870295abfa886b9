//! `render --format dotenv` through compose-go, the library Docker Compose reads compose files
//! and env files with (tests/compose, built by scripts/compose/build.sh from the Go module
//! proxy): every value reaches the service's environment byte for byte, through `env_file:`,
//! through `--env-file` and the project `.env` (as project variables and as `${VAR}` in the
//! compose file), whatever it contains; and examples/docker-compose/compose.oidc.yaml gives the
//! server exactly the operator's settings Secret and mounts the keys read-only.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use oidc_sso_operator::offline::{EnvFormat, envfile};
use serde_json::Value;

use crate::offline_cli::{
    built, corpus, differing, hostile_resource, out_dir_args, render_cli, root, secret_values,
};

/// The compose-check binary; fails (never skips) when it cannot be built.
fn compose_check() -> PathBuf {
    PathBuf::from(built(
        "scripts/compose/build.sh",
        "go and the Go module proxy",
    ))
}

/// Loads the project in `dir` as `docker compose` run there would, with only PATH in the process
/// environment (and a HOME that values must not pick up).
fn load(dir: &Path, files: &[&str], env_files: &[&str]) -> Value {
    let mut cmd = Command::new(compose_check());
    // Run where a user runs `docker compose`: --env-file and -f are relative to it.
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", "/home/from-the-shell")
        .args([
            "-dir",
            dir.to_str().unwrap(),
            "-service",
            "openmetadata-server",
        ]);
    for f in files {
        cmd.args(["-f", f]);
    }
    for f in env_files {
        cmd.args(["-env-file", f]);
    }
    let out = cmd.output().expect("compose-check runs");
    assert!(
        out.status.success(),
        "compose-check failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn map(value: &Value, prefix: &str) -> BTreeMap<String, Vec<u8>> {
    value
        .as_object()
        .unwrap()
        .iter()
        .filter_map(|(k, v)| {
            Some((
                k.strip_prefix(prefix)?.to_string(),
                v.as_str()?.as_bytes().to_vec(),
            ))
        })
        .collect()
}

#[test]
fn every_value_survives_env_file_env_file_flag_and_the_project_dotenv() {
    let dir = tempfile::tempdir().unwrap();
    let values = corpus();
    let text = envfile::encode(EnvFormat::Dotenv, &["corpus".into()], &values).unwrap();
    std::fs::write(dir.path().join("corpus.env"), &text).unwrap();
    std::fs::write(dir.path().join(".env"), &text).unwrap();
    let mut compose = String::from(
        "services:\n  openmetadata-server:\n    image: x\n    env_file: [./corpus.env]\n    environment:\n",
    );
    for name in values.keys() {
        compose.push_str(&format!("      FROM_PROJECT_{name}: ${{{name}}}\n"));
    }
    std::fs::write(dir.path().join("compose.yaml"), compose).unwrap();

    for env_files in [&["corpus.env"][..], &[]] {
        let loaded = load(dir.path(), &["compose.yaml"], env_files);
        let service = &loaded["environment"];
        let how = if env_files.is_empty() {
            "the project .env"
        } else {
            "--env-file"
        };
        let via_env_file: BTreeMap<_, _> = map(service, "")
            .into_iter()
            .filter(|(k, _)| values.contains_key(k))
            .collect();
        assert_eq!(
            differing(&values, &via_env_file),
            Vec::<String>::new(),
            "env_file:"
        );
        let project = map(&loaded["project_environment"], "");
        assert_eq!(differing(&values, &project), Vec::<String>::new(), "{how}");
        let interpolated = map(service, "FROM_PROJECT_");
        assert_eq!(
            differing(&values, &interpolated),
            Vec::<String>::new(),
            "${{VAR}} from {how}"
        );
    }
}

#[test]
fn the_compose_example_gives_the_server_the_settings_secret_and_mounts_the_keys() {
    let dir = tempfile::tempdir().unwrap();
    let cr = hostile_resource(dir.path());
    let out = dir.path().join("oidc");
    render_cli(&out_dir_args(&cr, "dotenv", &out, &[]));
    for (name, from) in [
        (
            "docker-compose.yml",
            root().join("tests/fixtures/compose/docker-compose.yml"),
        ),
        (
            "compose.oidc.yaml",
            root().join("examples/docker-compose/compose.oidc.yaml"),
        ),
    ] {
        std::fs::copy(from, dir.path().join(name)).unwrap();
    }
    let expected = secret_values(&cr, &out.join("keys"), None);
    let files = ["docker-compose.yml", "compose.oidc.yaml"];

    let loaded = load(dir.path(), &files, &["oidc/openmetadata.env"]);
    let environment = map(&loaded["environment"], "");
    assert_eq!(differing(&expected, &environment), Vec::<String>::new());
    assert_eq!(
        environment["DB_HOST"], b"mysql",
        "the compose file's own settings stay"
    );
    let volumes = loaded["volumes"].as_array().unwrap();
    assert_eq!(volumes.len(), 1, "{volumes:?}");
    assert_eq!(volumes[0]["target"], "/etc/openmetadata/jwtkeys");
    assert_eq!(volumes[0]["read_only"], true);
    assert_eq!(
        Path::new(volumes[0]["source"].as_str().unwrap()),
        out.join("keys").canonicalize().unwrap()
    );

    // Without --env-file, the compose file's `environment:` defaults win over env_file:, which
    // is why the example and the doc pass it.
    let loaded = load(dir.path(), &files, &[]);
    assert_eq!(loaded["environment"]["AUTHENTICATION_PROVIDER"], "basic");
}
