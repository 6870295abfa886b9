//! `preview-upgrade`: reads the live resources and what they reference or own, asks the library
//! for a verdict per resource (`oidc_sso_operator::upgrade_preview`) and prints one line each.
//! Only names, hashes and reasons are printed: never a value read from a Secret.

use std::collections::BTreeMap;

use anyhow::Context as _;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::ListParams;
use kube::{Api, Client, ResourceExt as _};
use oidc_sso_operator::crd::OidcSsoConfig;
use oidc_sso_operator::preview::PreviewInput;
use oidc_sso_operator::references::{DataKind, References};
use oidc_sso_operator::upgrade_preview::{Data, LiveResource, Verdict, verdict};

use crate::cli::PreviewUpgradeArgs;

/// The exit status when at least one resource's servers would roll.
const ROLLS: i32 = 3;

pub(crate) fn run(args: &PreviewUpgradeArgs) -> anyhow::Result<()> {
    let rolls = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?
        .block_on(preview(args))?;
    if rolls > 0 {
        std::process::exit(ROLLS);
    }
    Ok(())
}

/// Prints a line per resource; the number whose servers would roll.
async fn preview(args: &PreviewUpgradeArgs) -> anyhow::Result<usize> {
    let client = Client::try_default()
        .await
        .context("failed to read the kubeconfig")?;
    let configs: Api<OidcSsoConfig> = if args.all_namespaces {
        Api::all(client.clone())
    } else if let Some(ns) = &args.namespace {
        Api::namespaced(client.clone(), ns)
    } else {
        Api::default_namespaced(client.clone())
    };
    let resources = match &args.name {
        Some(name) => vec![
            configs
                .get(name)
                .await
                .with_context(|| format!("OidcSsoConfig {name}"))?,
        ],
        None => {
            configs
                .list(&ListParams::default())
                .await
                .context("list OidcSsoConfigs")?
                .items
        }
    };
    println!(
        "# oidc-sso-operator {}: what an upgrade to this version does to each resource's servers",
        env!("CARGO_PKG_VERSION")
    );
    let mut rolls = 0;
    for resource in resources {
        let ns = resource.namespace().unwrap_or_default();
        let name = resource.name_any();
        let live = read_live(&client, &ns, resource).await?;
        let line = match verdict(&live) {
            Verdict::Unchanged { hash } => {
                format!("rolls nothing ({hash}, as the targets run now)")
            }
            Verdict::Rolls { live, new, entries } => {
                rolls += 1;
                let was = live.unwrap_or_else(|| "none".into());
                let what = if entries.is_empty() {
                    "no entry of the live Secrets (the rendering was never written)".to_string()
                } else {
                    entries.join(", ")
                };
                format!("ROLLS its targets once ({was} -> {new}); differs: {what}")
            }
            Verdict::CannotTell { why } => format!("cannot tell: {why}"),
        };
        println!("{ns}/{name}: {line}");
    }
    Ok(rolls)
}

/// The resource with the objects it references and its two owned Secrets, as they are now.
async fn read_live(
    client: &Client,
    ns: &str,
    resource: OidcSsoConfig,
) -> anyhow::Result<LiveResource> {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), ns);
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    let mut objects = BTreeMap::new();
    for r in References::of(&resource.spec).data {
        let data = match r.kind {
            DataKind::Secret => secrets.get_opt(&r.name).await?.map(secret_data),
            DataKind::ConfigMap => maps.get_opt(&r.name).await?.map(config_map_data),
        };
        // A missing object is left out: validation names the field that references it.
        if let Some(data) = data {
            objects.insert((r.kind.as_str().to_string(), r.name.clone()), data);
        }
    }
    let owned = resource
        .status
        .as_ref()
        .and_then(|s| s.secrets.clone())
        .unwrap_or_default();
    let auth_env = match &owned.auth_env {
        Some(n) => secrets.get_opt(n).await?.map(secret_data),
        None => None,
    };
    let jwt_keys = match &owned.jwt_keys {
        Some(n) => secrets.get_opt(n).await?.map(secret_data),
        None => None,
    };
    Ok(LiveResource {
        input: PreviewInput { resource, objects },
        auth_env,
        jwt_keys,
    })
}

fn secret_data(s: Secret) -> Data {
    s.data
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect()
}

fn config_map_data(c: ConfigMap) -> Data {
    let mut data: Data = c
        .binary_data
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect();
    data.extend(
        c.data
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.into_bytes())),
    );
    data
}
