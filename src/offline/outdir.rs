//! The output directory of `render --out-dir DIR`:
//!
//! ```text
//! DIR/                        0700
//!   keys/                     0700  what the keys Secret holds: mount or point RSA_*_FILE_PATH here
//!     private_key.der         0600  (and private_key.pem)
//!     public_key.der          0644  (and public_key.pem, jwks.json, key_id, truststore.jks:
//!                                   removed when server.trustProviderCa is turned off)
//!   openmetadata.env          0600  --format dotenv: the settings Secret as a Compose env file
//!   openmetadata-env.sh       0600  --format shell: the same as `export` lines
//!   workflowConfig.yaml       0600  the ingestion Secret, when ingestion is enabled (removed when not)
//! ```
//!
//! The private key is written first: every other file is derived from the pair, so a run cut
//! short leaves at worst derived files a later run rewrites, never settings naming a key that
//! was not stored.

use std::path::{Path, PathBuf};

use super::OfflineError;
use super::envfile::{self, EnvFormat};
use super::files::{self, PRIVATE_DIR, PRIVATE_FILE, PUBLIC_FILE, Written};
use crate::render::truststore::TRUSTSTORE_FILE;
use crate::render::{Rendered, SecretPayload, WORKFLOW_CONFIG_KEY};

/// The key directory under the output directory.
pub const KEYS_DIR: &str = "keys";

/// The settings file's name for `format`.
pub fn settings_file(format: EnvFormat) -> &'static str {
    match format {
        EnvFormat::Dotenv => "openmetadata.env",
        EnvFormat::Shell => "openmetadata-env.sh",
    }
}

/// What was written where.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// The settings file.
    pub settings: PathBuf,
    /// The key directory.
    pub keys: PathBuf,
    /// `workflowConfig.yaml`, when ingestion is enabled.
    pub workflow: Option<PathBuf>,
    /// Files created or replaced in this run (the others already held the right content).
    pub replaced: Vec<PathBuf>,
}

/// Writes the key files, the settings file (with `header` comment lines) and the workflow file.
/// The settings are encoded before anything is written, so a value the format cannot hold
/// leaves the directory as it was.
pub fn write(
    out: &Path,
    format: EnvFormat,
    header: &[String],
    rendered: &Rendered,
) -> Result<Report, OfflineError> {
    let settings = envfile::encode(format, header, &rendered.auth_env.data)?;
    let keys = out.join(KEYS_DIR);
    for dir in [out, keys.as_path()] {
        files::directory(dir, PRIVATE_DIR).map_err(|source| OfflineError::write(dir, source))?;
    }
    let mut report = Report {
        settings: out.join(settings_file(format)),
        keys: keys.clone(),
        ..Report::default()
    };
    write_keys(&keys, &rendered.jwt_keys, &mut report)?;
    put(
        &report.settings.clone(),
        settings.as_bytes(),
        PRIVATE_FILE,
        &mut report,
    )?;
    let workflow = out.join(WORKFLOW_CONFIG_KEY);
    match rendered
        .ingestion
        .as_ref()
        .and_then(|i| i.data.get(WORKFLOW_CONFIG_KEY))
    {
        Some(bytes) => {
            put(&workflow, bytes, PRIVATE_FILE, &mut report)?;
            report.workflow = Some(workflow);
        }
        None => remove_stale(&workflow)?,
    }
    Ok(report)
}

/// Removes a file an earlier run wrote that the configuration no longer has.
fn remove_stale(path: &Path) -> Result<(), OfflineError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(OfflineError::write(path, e)),
        _ => Ok(()),
    }
}

fn write_keys(
    dir: &Path,
    payload: &SecretPayload,
    report: &mut Report,
) -> Result<(), OfflineError> {
    let private_first = payload
        .data
        .iter()
        .filter(|(name, _)| name.as_str() == crate::keys::PRIVATE_KEY_DER)
        .chain(
            payload
                .data
                .iter()
                .filter(|(name, _)| name.as_str() != crate::keys::PRIVATE_KEY_DER),
        );
    for (name, bytes) in private_first {
        let mode = if payload.sensitive.contains(name) {
            PRIVATE_FILE
        } else {
            PUBLIC_FILE
        };
        put(&dir.join(name), bytes, mode, report)?;
    }
    // Written only with server.trustProviderCa: a stale one would outlive the setting.
    if !payload.data.contains_key(TRUSTSTORE_FILE) {
        remove_stale(&dir.join(TRUSTSTORE_FILE))?;
    }
    Ok(())
}

fn put(path: &Path, bytes: &[u8], mode: u32, report: &mut Report) -> Result<(), OfflineError> {
    let written =
        files::write(path, bytes, mode).map_err(|source| OfflineError::write(path, source))?;
    if written == Written::Replaced {
        report.replaced.push(path.to_path_buf());
    }
    Ok(())
}
