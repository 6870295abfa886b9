//! `render`: the offline preview, from files.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use oidc_sso_operator::preview;
use oidc_sso_operator::render::ProviderEndpoints;

use crate::cli::RenderArgs;

/// Prints the preview of what the operator would write for the given files.
pub(crate) fn run(args: &RenderArgs) -> anyhow::Result<()> {
    let mut input = None;
    let mut objects = Vec::new();
    let read = |p: &PathBuf| {
        std::fs::read_to_string(p).with_context(|| format!("failed to read {}", p.display()))
    };
    preview::parse_documents(
        &args.file.display().to_string(),
        &read(&args.file)?,
        &mut input,
        &mut objects,
    )?;
    for extra in &args.inputs {
        preview::parse_documents(
            &extra.display().to_string(),
            &read(extra)?,
            &mut None,
            &mut objects,
        )?;
    }
    let Some(mut input) = input else {
        bail!("{} holds no OidcSsoConfig", args.file.display());
    };
    input.objects = preview::index_objects(&objects);
    if let Some(path) = &args.credentials {
        preview::add_credentials(&mut input, &path.display().to_string(), &read(path)?)?;
    }
    let endpoints = ProviderEndpoints {
        jwks_uri: args.jwks_uri.clone(),
        token_endpoint: None,
    };
    let (rendered, keys, generated) = preview::render_preview(&input, &endpoints)?;
    print!(
        "{}",
        preview::format_preview(
            &input.resource,
            &rendered,
            &keys,
            generated,
            args.show_secrets
        )
    );
    Ok(())
}
