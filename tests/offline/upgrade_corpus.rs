//! Upgrades roll nothing unless they must. The config hash covers every byte the server pods
//! consume, so a release that renders one setting differently (a reordered key list, a new
//! default) rolls every server the operator manages the moment it starts. A corpus of resources
//! (every field family, both key modes, both ingestion forms, with and without ingestion) is
//! rendered and compared, entry by entry, with what the last release rendered
//! (`tests/golden/corpus/<case>.json`: the config hash, every settings and ingestion entry as
//! text, every key file as its SHA-256).
//!
//! A difference fails unless CHANGELOG.md's Unreleased section names each changed entry: under a
//! `### Rolls servers` heading when the pods consume it (the settings and keys Secrets), anywhere
//! in the section otherwise (the ingestion Secret). The corpus is renewed when a release is cut
//! (`UPDATE_GOLDEN=1 cargo test --test offline upgrade_corpus`), once its notes say which
//! resources it rolls.

use std::collections::BTreeMap;
use std::path::PathBuf;

use oidc_sso_operator::keys::KeyMaterial;
use oidc_sso_operator::preview::{self, PreviewInput};
use oidc_sso_operator::render::{self, ProviderEndpoints, Rendered};
use oidc_sso_operator::validate;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const ROLLS_SERVERS: &str = "### Rolls servers";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// An edit of the confidential fixture's spec.
type Edit = fn(&mut Value);

/// The corpus: a name and an edit of the confidential fixture's spec.
fn cases() -> Vec<(&'static str, Edit)> {
    vec![
        ("confidential-own-key", |_| {}),
        ("confidential-generated-key", |s| {
            s["jwt"].as_object_mut().map(|j| j.remove("keySecretRef"));
        }),
        ("key-id-and-issuer", |s| {
            s["jwt"]["keyId"] = json!("om-key-2026");
            s["jwt"]["issuer"] = json!("https://om.example.com");
        }),
        ("public-client", |s| {
            let p = &mut s["provider"];
            p["clientType"] = json!("Public");
            p["clientId"] = json!("openmetadata");
            p["responseType"] = json!("id_token");
            for k in [
                "credentialsSecretRef",
                "clientAuthenticationMethod",
                "usePkce",
            ] {
                p.as_object_mut().map(|o| o.remove(k));
            }
            s.as_object_mut().map(|o| o.remove("ingestion"));
        }),
        ("ingestion-bot-token-from-the-environment", |s| {
            s["ingestion"] = json!({"authProvider": "openmetadata", "botTokenEnvVar": "OM_BOT"});
        }),
        ("ingestion-legacy-custom-oidc", |s| {
            s["ingestion"] = json!({"authProvider": "custom-oidc", "legacyTokenEndpoint": true});
        }),
        ("no-ingestion", |s| {
            s.as_object_mut().map(|o| o.remove("ingestion"));
        }),
        ("azure-tenant", |s| {
            s["provider"]["oidcType"] = json!("AZURE");
            s["provider"]["issuer"] = json!("https://login.microsoftonline.com/organizations/v2.0");
            s["provider"]["tenant"] = json!("organizations");
            s["provider"]["jwksUrl"] =
                json!("https://login.microsoftonline.com/organizations/discovery/v2.0/keys");
        }),
        ("google", |s| {
            s["provider"]["oidcType"] = json!("google");
            s["provider"]["issuer"] = json!("https://accounts.google.com");
            s["provider"]["jwksUrl"] = json!("https://www.googleapis.com/oauth2/v3/certs");
        }),
        ("minimal-authorizer-and-server", |s| {
            s["authorizer"] = json!({"adminPrincipals": ["alice"]});
            s["server"] = json!({"externalUrl": "https://om.example.com"});
            let p = s["provider"].as_object_mut().expect("provider");
            for k in [
                "customParams",
                "prompt",
                "maxAgeSeconds",
                "extraPublicKeyUrls",
                "sessionExpirySeconds",
            ] {
                p.remove(k);
            }
        }),
        ("config-source-db", |s| {
            s["server"]["configSource"] = json!("Db");
            s["server"]
                .as_object_mut()
                .map(|o| o.remove("confirmProviderChange"));
        }),
    ]
}

/// The fixture's key pair (tests/fixtures/test-keys.yaml): the same bytes every run.
fn fixture_keys() -> KeyMaterial {
    let text = std::fs::read_to_string(root().join("tests/fixtures/test-keys.yaml")).unwrap();
    let doc: Value = serde_saphyr::from_str(&text).unwrap();
    let pem = doc["stringData"]["private_key.pem"].as_str().unwrap();
    KeyMaterial::from_private_key(pem.as_bytes(), None).unwrap()
}

/// What the operator renders for `case`, with the fixture's keys (in both key modes: a stored,
/// generated pair renders exactly like a provided one) and fixed provider endpoints.
fn render_case(edit: Edit) -> Rendered {
    let text = std::fs::read_to_string(root().join("tests/fixtures/confidential.yaml")).unwrap();
    let mut docs: Vec<Value> = serde_saphyr::from_str_multiple(&text).unwrap();
    let keys_text = std::fs::read_to_string(root().join("tests/fixtures/test-keys.yaml")).unwrap();
    docs.push(serde_saphyr::from_str(&keys_text).unwrap());
    let cr = docs
        .iter_mut()
        .find(|d| d["kind"] == "OidcSsoConfig")
        .unwrap();
    edit(&mut cr["spec"]);
    let yaml: Vec<String> = docs
        .iter()
        .map(|doc| serde_saphyr::to_string(doc).unwrap())
        .collect();
    let input = PreviewInput::from_documents(yaml.iter().map(|y| ("corpus", y.as_str()))).unwrap();
    let objects = &input.objects;
    let config = validate::validate(
        &input.resource,
        &preview::inputs_for(&input.resource, objects),
    )
    .unwrap_or_else(|e| panic!("the corpus case is valid: {e}"));
    let endpoints = ProviderEndpoints {
        jwks_uri: Some("https://idp.example.com/realms/data/protocol/openid-connect/certs".into()),
        token_endpoint: Some(
            "https://idp.example.com/realms/data/protocol/openid-connect/token".into(),
        ),
    };
    render::render(&config, &fixture_keys(), &endpoints).unwrap()
}

/// `secret/entry` → how it is recorded (text, or the SHA-256 of bytes that are not UTF-8).
fn record(rendered: &Rendered) -> BTreeMap<String, String> {
    let mut out = BTreeMap::from([("config-hash".to_owned(), rendered.config_hash.clone())]);
    let mut add = |secret: &str, data: &BTreeMap<String, Vec<u8>>| {
        for (k, v) in data {
            let value = match std::str::from_utf8(v) {
                Ok(text) if secret != "jwt-keys" => text.to_owned(),
                _ => format!("sha256:{}", hex::encode(Sha256::digest(v))),
            };
            out.insert(format!("{secret}/{k}"), value);
        }
    };
    add("auth-env", &rendered.auth_env.data);
    add("jwt-keys", &rendered.jwt_keys.data);
    if let Some(i) = &rendered.ingestion {
        add("ingestion", &i.data);
    }
    out
}

/// The Unreleased section of CHANGELOG.md, and within it the `### Rolls servers` part.
fn unreleased_notes() -> (String, String) {
    let text = std::fs::read_to_string(root().join("CHANGELOG.md")).unwrap();
    let start = text
        .find("## [Unreleased]")
        .expect("CHANGELOG.md has an Unreleased section");
    let rest = &text[start + 3..];
    let section = &rest[..rest.find("\n## ").unwrap_or(rest.len())];
    let rolls = section
        .find(ROLLS_SERVERS)
        .map(|at| {
            let part = &section[at + ROLLS_SERVERS.len()..];
            part[..part.find("\n### ").unwrap_or(part.len())].to_owned()
        })
        .unwrap_or_default();
    (section.to_owned(), rolls)
}

#[test]
fn an_upgrade_renders_what_the_last_release_rendered_or_the_notes_say_what_rolls() {
    let dir = root().join("tests/golden/corpus");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let (section, rolls) = unreleased_notes();
    let mut unnamed = Vec::new();
    for (name, edit) in cases() {
        let now = record(&render_case(edit));
        let path = dir.join(format!("{name}.json"));
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, serde_json::to_string_pretty(&now).unwrap() + "\n").unwrap();
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; record the corpus with UPDATE_GOLDEN=1",
                path.display()
            )
        });
        let before: BTreeMap<String, String> = serde_json::from_str(&text).unwrap();
        let keys: std::collections::BTreeSet<&String> = before.keys().chain(now.keys()).collect();
        for key in keys {
            if key == "config-hash" || before.get(key) == now.get(key) {
                continue;
            }
            let entry = key.rsplit('/').next().unwrap_or(key);
            let consumed = !key.starts_with("ingestion/");
            let named = if consumed {
                rolls.contains(entry)
            } else {
                section.contains(entry)
            };
            if !named {
                unnamed.push(format!("{name}: {key}"));
            }
        }
        // The hash moves with what the pods consume, and with nothing else.
        let consumed_changed = before.iter().chain(now.iter()).any(|(k, _)| {
            !k.starts_with("ingestion/") && k != "config-hash" && before.get(k) != now.get(k)
        });
        assert_eq!(
            before.get("config-hash") != now.get("config-hash"),
            consumed_changed,
            "{name}: the config hash changes exactly when a consumed entry does"
        );
    }
    assert!(
        unnamed.is_empty(),
        "these rendered entries differ from the last release's, which rolls every server that uses \
         them when the operator is upgraded. If intended, name each entry in CHANGELOG.md's Unreleased \
         section (under `{ROLLS_SERVERS}` for the settings and keys Secrets) and say which resources \
         are affected:\n  {}",
        unnamed.join("\n  ")
    );
}

/// Each case renders something of its own: the corpus covers distinct configurations.
#[test]
fn the_corpus_cases_differ_from_each_other() {
    let mut seen = BTreeMap::new();
    for (name, edit) in cases() {
        let hash = render_case(edit).config_hash;
        let ingestion = record(&render_case(edit))
            .into_iter()
            .filter(|(k, _)| k.starts_with("ingestion/"))
            .collect::<Vec<_>>();
        if let Some(other) = seen.insert((hash, ingestion), name) {
            // Both key modes render the same bytes on purpose (same key pair).
            assert!(
                [other, name].contains(&"confidential-generated-key"),
                "{name} renders exactly what {other} renders"
            );
        }
    }
}
