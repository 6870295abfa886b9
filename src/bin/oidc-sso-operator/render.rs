//! `render`: the offline preview, from files; with `--format`/`--out-dir`/`--verify`, the
//! settings and keys for Docker Compose and bare-metal servers (`render_files.rs`).

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use oidc_sso_operator::preview::{self, PreviewInput};
use oidc_sso_operator::render::ProviderEndpoints;

use crate::cli::{Format, RenderArgs};

/// Prints the preview of what the operator would write for the given files, or writes the
/// settings and key files.
pub(crate) fn run(args: &RenderArgs) -> anyhow::Result<()> {
    crate::render_files::check_flags(args)?;
    let input = load(args)?;
    if args.format == Format::Preview && args.out_dir.is_none() && !args.verify {
        return print_preview(args, &input, &endpoints(args));
    }
    crate::render_files::run(args, input)
}

/// The `--jwks-uri` given (the operator takes it from discovery).
pub(crate) fn endpoints(args: &RenderArgs) -> ProviderEndpoints {
    ProviderEndpoints {
        jwks_uri: args.jwks_uri.clone(),
        token_endpoint: None,
    }
}

/// The resource and the objects it references, from the files named on the command line.
fn load(args: &RenderArgs) -> anyhow::Result<PreviewInput> {
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
    Ok(input)
}

/// Prints every Secret the operator would write (secret values as digests unless asked).
pub(crate) fn print_preview(
    args: &RenderArgs,
    input: &PreviewInput,
    endpoints: &ProviderEndpoints,
) -> anyhow::Result<()> {
    let (rendered, keys, generated) = preview::render_preview(input, endpoints)?;
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
