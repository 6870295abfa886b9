//! The `oidc-sso-operator` binary: `run` (the controller), `crd` (print the CRD), `render`
//! (offline preview of what the operator would write), `preview-upgrade` (what this version would
//! roll, against the live resources).

mod cli;
mod preview_upgrade;
mod render;
mod render_files;
mod serve;

use anyhow::Context as _;
use clap::Parser;

fn main() -> anyhow::Result<()> {
    match cli::Cli::parse().command {
        cli::Command::Crd => {
            let yaml = oidc_sso_operator::crd::crd_yaml().context("failed to serialize the CRD")?;
            print!("{yaml}");
            Ok(())
        }
        cli::Command::Reasons => {
            print!("{}", oidc_sso_operator::reasons::reference());
            Ok(())
        }
        cli::Command::Render(args) => render::run(&args),
        cli::Command::Run(args) => serve::run(args),
        cli::Command::PreviewUpgrade(args) => preview_upgrade::run(&args),
    }
}
