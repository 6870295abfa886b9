//! `render --format dotenv|shell [--out-dir DIR] [--verify]`: the settings, keys and
//! `workflowConfig.yaml` for a server the operator does not run (Docker Compose, bare metal),
//! and the provider checks, offline. Diagnostics (conditions, what was written) go to stderr
//! when stdout carries a file, to stdout otherwise.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use oidc_sso_operator::keys::{self, KeyMaterial};
use oidc_sso_operator::offline::keydir::{self, KeyEvent};
use oidc_sso_operator::offline::{EnvFormat, envfile, outdir, verify};
use oidc_sso_operator::oidc::AddressPolicy;
use oidc_sso_operator::preview::{self, PreviewInput};
use oidc_sso_operator::render::{self, ProviderEndpoints, Rendered};
use oidc_sso_operator::validate::{self, ValidatedConfig};

use crate::cli::RenderArgs;

/// Runs `render` with `--format dotenv|shell`, `--out-dir` or `--verify`.
pub(crate) fn run(args: &RenderArgs, mut input: PreviewInput) -> anyhow::Result<()> {
    let format = args.format.env_format();
    let key_dir = key_dir_in_server(args, format)?;
    if let Some(dir) = &key_dir {
        input.resource.spec.server.key_mount_path = Some(dir.clone());
    }
    let config = validated(&input).map_err(|e| match &key_dir {
        Some(dir) => e.context(format!("the key directory the settings name is {dir}")),
        None => e,
    })?;
    let mut endpoints = crate::render::endpoints(args);
    if args.verify {
        verified(args, &config, &mut endpoints)?;
    }
    match (format, &args.out_dir) {
        (None, _) => crate::render::print_preview(args, &input, &endpoints),
        (Some(format), None) => print_settings(format, &input, &config, &endpoints),
        (Some(format), Some(out)) => write_dir(args, format, out, &input, &config, &endpoints),
    }
}

/// Refuses flags that cannot work together, before anything is read.
pub(crate) fn check_flags(args: &RenderArgs) -> anyhow::Result<()> {
    if args.out_dir.is_some() && args.format.env_format().is_none() {
        bail!("--out-dir writes a settings file: choose --format dotenv or --format shell");
    }
    if args.rotate_keys && args.out_dir.is_none() {
        bail!("--rotate-keys replaces the key pair of an --out-dir: name the directory");
    }
    if !args.provider_allowed_networks.is_empty() && !args.verify {
        bail!("--provider-allowed-networks is for the provider checks: add --verify");
    }
    Ok(())
}

/// The directory `RSA_*_FILE_PATH` name, when it is not the spec's `server.keyMountPath`.
fn key_dir_in_server(
    args: &RenderArgs,
    format: Option<EnvFormat>,
) -> anyhow::Result<Option<String>> {
    if let Some(dir) = &args.key_dir_in_server {
        return Ok(Some(dir.clone()));
    }
    let (Some(EnvFormat::Shell), Some(out)) = (format, &args.out_dir) else {
        return Ok(None);
    };
    // A bare-metal server reads the keys where they are written.
    let keys = std::path::absolute(out)
        .with_context(|| format!("failed to resolve {}", out.display()))?
        .join(outdir::KEYS_DIR);
    let text = keys
        .to_str()
        .with_context(|| format!("{} is not UTF-8: pass --key-dir-in-server", keys.display()))?;
    Ok(Some(text.to_string()))
}

fn validated(input: &PreviewInput) -> anyhow::Result<ValidatedConfig> {
    let inputs = preview::inputs_for(&input.resource, &input.objects);
    Ok(validate::validate(&input.resource, &inputs)?)
}

/// Runs the operator's provider checks and prints its conditions; fails when one fails.
fn verified(
    args: &RenderArgs,
    config: &ValidatedConfig,
    endpoints: &mut ProviderEndpoints,
) -> anyhow::Result<()> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    let policy = AddressPolicy {
        allowed: args.provider_allowed_networks.clone(),
    };
    let found = runtime.block_on(verify::verify(config, policy));
    for condition in &found.conditions {
        eprintln!("{condition}");
    }
    if let Some(reason) = found.failed {
        bail!("the provider checks failed ({reason}); nothing was written");
    }
    if endpoints.jwks_uri.is_none() {
        endpoints.jwks_uri = found.endpoints.jwks_uri;
    }
    endpoints.token_endpoint = found.endpoints.token_endpoint;
    Ok(())
}

/// The settings file on stdout: only with the spec's own keys, since generated ones would be
/// lost while the settings name them.
fn print_settings(
    format: EnvFormat,
    input: &PreviewInput,
    config: &ValidatedConfig,
    endpoints: &ProviderEndpoints,
) -> anyhow::Result<()> {
    if config.jwt.own_private_key.is_none() {
        bail!(
            "the settings name the JWT key pair, and one generated now would be lost: pass \
             --out-dir DIR to keep the keys with the settings (or bring your own keys with \
             spec.jwt.keySecretRef)"
        );
    }
    let (rendered, _, _) = preview::render_preview(input, endpoints)?;
    let header = header(format, input, &rendered, config);
    print!(
        "{}",
        envfile::encode(format, &header, &rendered.auth_env.data)?
    );
    Ok(())
}

/// Writes the output directory and says where things are.
fn write_dir(
    args: &RenderArgs,
    format: EnvFormat,
    out: &Path,
    input: &PreviewInput,
    config: &ValidatedConfig,
    endpoints: &ProviderEndpoints,
) -> anyhow::Result<()> {
    let key_dir = out.join(outdir::KEYS_DIR);
    let (keys, event) = keydir::decide(&key_dir, config, args.rotate_keys)?;
    let rendered = render::render(config, &keys, endpoints)?;
    let header = header(format, input, &rendered, config);
    let report = outdir::write(out, format, &header, &rendered)?;
    println!("wrote {}", report.settings.display());
    println!("wrote {} (the keys Secret's files)", report.keys.display());
    if let Some(workflow) = &report.workflow {
        println!("wrote {} (for `metadata ingest -c`)", workflow.display());
    }
    println!("{}", key_line(&keys, &event));
    println!("{}", where_keys_go(format, config, &report.keys));
    Ok(())
}

fn key_line(keys: &KeyMaterial, event: &KeyEvent) -> String {
    let what = match event {
        KeyEvent::Kept => "kept from the last run".to_string(),
        KeyEvent::Repaired => {
            "kept; its derived files did not match it and were rewritten".to_string()
        }
        KeyEvent::Relabelled { previous_key_id } => {
            format!("same key pair, new key id (was {previous_key_id})")
        }
        KeyEvent::Generated => "generated (kept by later runs)".to_string(),
        KeyEvent::Provided => "spec.jwt.keySecretRef".to_string(),
        KeyEvent::Rotated { previous_key_id } => format!(
            "rotated, replacing {}: tokens the server issued no longer verify, regenerate bot tokens",
            previous_key_id.as_deref().unwrap_or("an unreadable key")
        ),
    };
    format!(
        "JWT key id {} (fingerprint {}): {what}",
        keys.key_id(),
        keys.fingerprint()
    )
}

fn where_keys_go(format: EnvFormat, config: &ValidatedConfig, written: &Path) -> String {
    let named = PathBuf::from(&config.server.key_mount_path);
    let written = std::path::absolute(written).unwrap_or_else(|_| written.to_path_buf());
    let files = format!(
        "RSA_PRIVATE_KEY_FILE_PATH and RSA_PUBLIC_KEY_FILE_PATH point to {}/{{{},{}}}",
        named.display(),
        keys::PRIVATE_KEY_DER,
        keys::PUBLIC_KEY_DER
    );
    match format {
        _ if named == written => format!("{files}, where they were written"),
        EnvFormat::Dotenv => format!(
            "{files}: mount {} there read-only (`- {}:{}:ro` under the service's volumes)",
            written.display(),
            written.display(),
            named.display()
        ),
        EnvFormat::Shell => format!(
            "{files}: copy {} there, keeping the modes",
            written.display()
        ),
    }
}

/// The comment lines at the top of a settings file.
fn header(
    format: EnvFormat,
    input: &PreviewInput,
    rendered: &Rendered,
    config: &ValidatedConfig,
) -> Vec<String> {
    let meta = &input.resource.metadata;
    let how = match format {
        EnvFormat::Dotenv => {
            "Docker Compose: load with `env_file:` (and `--env-file` when the compose file names \
             these variables under `environment:`); not `docker run --env-file`, which keeps quotes"
        }
        EnvFormat::Shell => {
            "bare metal: `. ./openmetadata-env.sh` before openmetadata-server-start.sh"
        }
    };
    vec![
        format!(
            "OpenMetadata Custom OIDC settings of OidcSsoConfig {}/{}, by `oidc-sso-operator render`",
            meta.namespace.as_deref().unwrap_or("default"),
            meta.name.as_deref().unwrap_or_default()
        ),
        how.to_string(),
        format!(
            "JWT keys in {}; config hash {}",
            config.server.key_mount_path, rendered.config_hash
        ),
        "holds the client secret: keep this file private (mode 0600)".to_string(),
        "see docs/docker-and-bare-metal.md".to_string(),
    ]
}
