//! Shared by the tests of `render --format dotenv|shell --out-dir`: the CLI, a resource with
//! hostile values, what the operator's settings Secret would hold for it, a corpus of values no
//! quoting may change, and comparisons that name variables, never values (they are secrets).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use oidc_sso_operator::keys::KeyMaterial;
use oidc_sso_operator::preview::{self, PreviewInput};
use oidc_sso_operator::render::{self, ProviderEndpoints};
use oidc_sso_operator::validate;
use serde_json::Value;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `oidc-sso-operator render` with `args`.
pub fn run_render(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oidc-sso-operator"))
        .arg("render")
        .args(args)
        .output()
        .expect("the CLI runs")
}

/// Runs `oidc-sso-operator render` with `args`; fails the test with its stderr if it fails.
pub fn render_cli(args: &[&str]) -> Output {
    let out = run_render(args);
    assert!(
        out.status.success(),
        "render {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The arguments that write `cr`'s files in `format` to `out`, then `extra`.
pub fn out_dir_args<'a>(
    cr: &'a Path,
    format: &'a str,
    out: &'a Path,
    extra: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec!["-f", cr.to_str().unwrap(), "--format", format];
    args.extend(["--out-dir", out.to_str().unwrap()]);
    args.extend_from_slice(extra);
    args
}

/// Runs a build script of the repository (`scripts/...`) and returns what it prints; fails,
/// never skips, when it fails (`needs`: what it needs, for the message).
pub fn built(script: &str, needs: &str) -> String {
    let out = Command::new(root().join(script))
        .output()
        .unwrap_or_else(|e| panic!("{script} does not run: {e}"));
    assert!(
        out.status.success(),
        "{script} failed (it needs {needs}): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The confidential fixture with hostile text in rendered settings, without its own keys (the
/// CLI generates them), written to `dir/cr.yaml`.
pub fn hostile_resource(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(root().join("tests/fixtures/confidential.yaml")).unwrap();
    let mut docs: Vec<Value> = serde_saphyr::from_str_multiple(&text).unwrap();
    let hostile = "Corp's \\ IdP ${HOME} $$ `id` # 🔑\nGrüße \"q\"";
    for doc in &mut docs {
        if doc["kind"] == "OidcSsoConfig" {
            let spec = &mut doc["spec"];
            spec["provider"]["displayName"] = hostile.into();
            spec["authorizer"]["principalDomain"] = hostile.into();
            spec["jwt"].as_object_mut().unwrap().remove("keySecretRef");
        }
    }
    let path = dir.join("cr.yaml");
    let yaml: Vec<String> = docs
        .iter()
        .map(|d| serde_saphyr::to_string(d).unwrap())
        .collect();
    std::fs::write(&path, yaml.join("---\n")).unwrap();
    path
}

/// What the operator's settings Secret holds for the resource in `cr` with the key pair stored
/// in `key_dir`, the keys named at `key_mount` (the spec's default when `None`).
pub fn secret_values(
    cr: &Path,
    key_dir: &Path,
    key_mount: Option<&str>,
) -> BTreeMap<String, Vec<u8>> {
    let text = std::fs::read_to_string(cr).unwrap();
    let mut input = PreviewInput::from_documents([("cr.yaml", text.as_str())]).unwrap();
    if let Some(dir) = key_mount {
        input.resource.spec.server.key_mount_path = Some(dir.to_string());
    }
    let config = validate::validate(
        &input.resource,
        &preview::inputs_for(&input.resource, &input.objects),
    )
    .unwrap();
    let stored: BTreeMap<String, Vec<u8>> = ["private_key.der", "public_key.der", "key_id"]
        .iter()
        .map(|n| (n.to_string(), std::fs::read(key_dir.join(n)).unwrap()))
        .collect();
    let keys = KeyMaterial::from_secret_data(&stored).expect("the out-dir's keys read back");
    render::render(&config, &keys, &ProviderEndpoints::default())
        .unwrap()
        .auth_env
        .data
}

/// Values no quoting may change: every character a dotenv or shell parser treats specially.
pub fn corpus() -> BTreeMap<String, Vec<u8>> {
    let values = [
        "plain",
        "",
        " spaced  out ",
        "$HOME",
        "${HOME}",
        "$${HOME}",
        "${HOME:-x}",
        "${!}",
        "$",
        "$$",
        "a$",
        "'",
        "it's",
        "''",
        "\"",
        "\"quoted\"",
        "'single'",
        "\\",
        "ends with \\",
        "\\'",
        "\\\"",
        "\\\\",
        "\\n not a newline",
        "\\$HOME",
        "\\x24",
        "#",
        "a #comment",
        "a#b",
        "line1\nline2",
        "crlf\r\n",
        "trailing\n",
        "\ttab\t",
        "Grüße 🔑 日本語",
        "\u{85}\u{a0}\u{2028}\u{feff}",
        "=",
        "a=b",
        "\u{1}\u{1b}[0m",
        "`id` $(id)",
        "!event",
        "export X=1",
        "\"${HOME}'$x'\\\"",
    ];
    values
        .iter()
        .enumerate()
        .map(|(i, v)| (format!("V{i:02}"), v.as_bytes().to_vec()))
        .collect()
}

/// The names whose values differ between `expected` and `actual` (values are never shown).
pub fn differing(
    expected: &BTreeMap<String, Vec<u8>>,
    actual: &BTreeMap<String, Vec<u8>>,
) -> Vec<String> {
    expected
        .iter()
        .filter(|(k, v)| actual.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect()
}
