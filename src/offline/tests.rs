use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use super::keydir::{KeyEvent, decide};
use super::outdir::{self, KEYS_DIR};
use super::{EnvFormat, OfflineError};
use crate::keys::{self, KeyMaterial};
use crate::preview::{self, PreviewInput};
use crate::render::ProviderEndpoints;
use crate::validate::{self, ValidatedConfig};

/// The preview tests' resource, with ingestion and its Secrets.
fn input() -> PreviewInput {
    let extra = "  ingestion: {botTokenSecretRef: {name: bot, key: token}}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {clientId: om, clientSecret: \"s3cret'$x\"}
---
apiVersion: v1
kind: Secret
metadata: {name: bot}
stringData: {token: bot-token}
";
    preview::tests::parse(&format!("{}{extra}", preview::tests::CR)).unwrap()
}

fn config(input: &PreviewInput) -> ValidatedConfig {
    validate::validate(
        &input.resource,
        &preview::inputs_for(&input.resource, &input.objects),
    )
    .unwrap()
}

fn store(dir: &Path, keys: &KeyMaterial) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, bytes) in keys.to_secret_data() {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

#[test]
fn a_stored_pair_is_kept_and_a_missing_one_generated() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(&input());
    let (first, event) = decide(dir.path(), &config, false).unwrap();
    assert_eq!(event, KeyEvent::Generated);
    store(dir.path(), &first);
    let (again, event) = decide(dir.path(), &config, false).unwrap();
    assert_eq!(event, KeyEvent::Kept);
    assert_eq!(again, first);
}

#[test]
fn rotation_replaces_the_pair_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(&input());
    let old = KeyMaterial::generate(None).unwrap();
    store(dir.path(), &old);
    let (new, event) = decide(dir.path(), &config, true).unwrap();
    assert_ne!(new, old);
    assert_eq!(
        event,
        KeyEvent::Rotated {
            previous_key_id: Some(old.key_id().to_string())
        }
    );
}

#[test]
fn an_unusable_private_key_is_never_replaced_silently() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(&input());
    std::fs::write(dir.path().join(keys::PRIVATE_KEY_DER), b"not a key").unwrap();
    let err = decide(dir.path(), &config, false).expect_err("refused");
    assert!(matches!(err, OfflineError::StoredKeys { .. }), "{err}");
    assert!(err.to_string().contains("--rotate-keys"), "{err}");
    let (_, event) = decide(dir.path(), &config, true).unwrap();
    assert_eq!(
        event,
        KeyEvent::Rotated {
            previous_key_id: None
        }
    );
}

#[test]
fn stale_derived_files_are_rewritten_from_the_private_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(&input());
    let kept = KeyMaterial::generate(None).unwrap();
    store(dir.path(), &KeyMaterial::generate(None).unwrap());
    std::fs::write(
        dir.path().join(keys::PRIVATE_KEY_DER),
        kept.private_pkcs8_der(),
    )
    .unwrap();
    let (keys, event) = decide(dir.path(), &config, false).unwrap();
    assert_eq!(event, KeyEvent::Repaired);
    assert_eq!(keys, kept);
}

#[test]
fn a_new_key_id_relabels_the_same_pair() {
    let dir = tempfile::tempdir().unwrap();
    let old = KeyMaterial::generate(None).unwrap();
    store(dir.path(), &old);
    let mut input = input();
    input.resource.spec.jwt.get_or_insert_default().key_id = Some("om-1".into());
    let (keys, event) = decide(dir.path(), &config(&input), false).unwrap();
    assert_eq!(keys.key_id(), "om-1");
    assert_eq!(keys.private_pkcs8_der(), old.private_pkcs8_der());
    assert_eq!(
        event,
        KeyEvent::Relabelled {
            previous_key_id: old.key_id().to_string()
        }
    );
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn the_output_directory_holds_the_secrets_contents_with_private_modes() {
    let out = tempfile::tempdir().unwrap();
    let input = input();
    let config = config(&input);
    let (keys, _) = decide(&out.path().join(KEYS_DIR), &config, false).unwrap();
    let rendered = crate::render::render(&config, &keys, &ProviderEndpoints::default()).unwrap();
    let report = outdir::write(out.path(), EnvFormat::Shell, &[], &rendered).unwrap();
    let on_disk: BTreeMap<String, Vec<u8>> = std::fs::read_dir(&report.keys)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().into_string().unwrap(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    assert!(
        on_disk == rendered.jwt_keys.data,
        "the key files are the keys Secret's entries"
    );
    assert_eq!(mode(out.path()), 0o700);
    assert_eq!(mode(&report.keys), 0o700);
    assert_eq!(mode(&report.keys.join(keys::PRIVATE_KEY_DER)), 0o600);
    assert_eq!(mode(&report.keys.join(keys::PRIVATE_KEY_PEM)), 0o600);
    assert_eq!(mode(&report.keys.join(keys::PUBLIC_KEY_DER)), 0o644);
    assert_eq!(mode(&report.settings), 0o600);
    let workflow = report.workflow.clone().expect("ingestion is enabled");
    assert_eq!(mode(&workflow), 0o600);
    assert!(!report.replaced.is_empty());
    let again = outdir::write(out.path(), EnvFormat::Shell, &[], &rendered).unwrap();
    assert!(again.replaced.is_empty(), "a second run rewrites nothing");
    let stale = report.keys.join("truststore.jks");
    std::fs::write(&stale, b"from when trustProviderCa was on").unwrap();
    outdir::write(out.path(), EnvFormat::Shell, &[], &rendered).unwrap();
    assert!(
        !stale.exists(),
        "a truststore the settings no longer use is removed"
    );
}

#[test]
fn a_stored_key_other_than_the_specs_own_is_replaced_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let keys_yaml = include_str!("../../tests/fixtures/test-keys.yaml");
    let mut input = input();
    let mut objects = Vec::new();
    preview::parse_documents("test-keys.yaml", keys_yaml, &mut None, &mut objects).unwrap();
    input.objects.extend(preview::index_objects(&objects));
    let jwt = input.resource.spec.jwt.get_or_insert_default();
    jwt.key_secret_ref =
        serde_json::from_value(serde_json::json!({"name": "om-test-keys"})).unwrap();
    let config = config(&input);

    let (own, event) = decide(dir.path(), &config, false).unwrap();
    assert_eq!(event, KeyEvent::Provided);
    store(dir.path(), &own);
    assert_eq!(
        decide(dir.path(), &config, false).unwrap().1,
        KeyEvent::Provided
    );

    let other = KeyMaterial::generate(None).unwrap();
    store(dir.path(), &other);
    let err = decide(dir.path(), &config, false).expect_err("refused");
    assert!(
        matches!(err, OfflineError::KeyWouldBeReplaced { .. }),
        "{err}"
    );
    let (keys, event) = decide(dir.path(), &config, true).unwrap();
    assert_eq!(keys, own);
    assert_eq!(
        event,
        KeyEvent::Rotated {
            previous_key_id: Some(other.key_id().to_string())
        }
    );
}

/// A run of `decide` and `write` into `out`, as `render --out-dir` does.
fn render_into(out: &Path) -> Result<outdir::Report, OfflineError> {
    let input = input();
    let config = config(&input);
    let (keys, _) = decide(&out.join(KEYS_DIR), &config, false)?;
    let rendered = crate::render::render(&config, &keys, &ProviderEndpoints::default()).unwrap();
    outdir::write(out, EnvFormat::Shell, &[], &rendered)
}

/// Every file in `dir` (recursively) with its bytes and mode: what must not change.
fn snapshot(dir: &Path) -> BTreeMap<String, (Vec<u8>, u32)> {
    let mut out = BTreeMap::new();
    out.insert(".".into(), (Vec::new(), mode(dir)));
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap_or_default();
        out.insert(path.display().to_string(), (bytes, mode(&path)));
    }
    out
}

/// A link to another folder at `DIR/keys` or at `DIR` is refused, naming the link; nothing is
/// written there and the folder keeps its mode.
#[test]
fn a_link_where_a_folder_goes_is_refused_and_its_target_is_untouched() {
    let base = tempfile::tempdir().unwrap();
    let elsewhere = base.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(elsewhere.join("private_key.der"), b"someone else's").unwrap();
    let before = snapshot(&elsewhere);

    let out = base.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::os::unix::fs::symlink(&elsewhere, out.join(KEYS_DIR)).unwrap();
    let err = render_into(&out).expect_err("a link at DIR/keys is refused");
    assert!(
        matches!(&err, OfflineError::Link { path } if path == &out.join(KEYS_DIR)),
        "{err}"
    );
    assert!(err.to_string().contains("symbolic link"), "{err}");
    assert_eq!(snapshot(&elsewhere), before);

    let linked_out = base.path().join("linked-out");
    std::os::unix::fs::symlink(&elsewhere, &linked_out).unwrap();
    let err = render_into(&linked_out).expect_err("a link at DIR is refused");
    assert!(matches!(err, OfflineError::Link { .. }), "{err}");
    assert_eq!(snapshot(&elsewhere), before);
}

/// A link at a key file's place is not read (its target would become our key); a link at a
/// written file's place is replaced by the file, and its target keeps its content and mode.
#[test]
fn a_link_where_a_file_goes_is_never_followed() {
    let base = tempfile::tempdir().unwrap();
    let victim = base.path().join("victim");
    std::fs::write(&victim, b"not ours").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = base.path().join("out");
    let report = render_into(&out).unwrap();

    // The files the key pair is read back from.
    for name in [keys::PRIVATE_KEY_DER, keys::PUBLIC_KEY_DER, keys::KEY_ID] {
        let read = report.keys.join(name);
        let kept = std::fs::read(&read).unwrap();
        std::fs::remove_file(&read).unwrap();
        std::os::unix::fs::symlink(&victim, &read).unwrap();
        let err = render_into(&out).expect_err("a link at a key file is not read");
        assert!(
            matches!(&err, OfflineError::Link { path } if path == &read),
            "{err}"
        );
        std::fs::remove_file(&read).unwrap();
        std::fs::write(&read, kept).unwrap();
    }
    assert_eq!(std::fs::read(&victim).unwrap(), b"not ours");

    // The files only written.
    let written = [
        report.keys.join(keys::PRIVATE_KEY_PEM),
        report.keys.join(keys::JWKS_JSON),
        report.settings.clone(),
        report.workflow.clone().expect("ingestion is enabled"),
    ];
    for path in written {
        std::fs::remove_file(&path).unwrap();
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        render_into(&out).unwrap();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        assert!(meta.is_file(), "{} is a file again", path.display());
        assert_eq!(std::fs::read(&victim).unwrap(), b"not ours");
        assert_eq!(mode(&victim), 0o644, "{}", path.display());
    }
}
