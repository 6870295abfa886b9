//! Command-line arguments.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    version,
    about = "Renders and rolls OpenMetadata Custom OIDC SSO settings from OidcSsoConfig resources"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Print the OidcSsoConfig CustomResourceDefinition as YAML.
    Crd,
    /// Print the reference of every condition and Event reason (docs/reasons.md) as Markdown.
    Reasons,
    /// Preview, offline, every Secret the operator would write for an OidcSsoConfig.
    Render(RenderArgs),
    /// Run the controller.
    Run(RunArgs),
    /// Before upgrading the operator: whether this version would roll the servers of the live
    /// OidcSsoConfigs (read with the current kubeconfig, including the Secrets they reference and
    /// own; values are never printed). Exit status 0 when nothing rolls, 3 when something would.
    PreviewUpgrade(PreviewUpgradeArgs),
}

#[derive(clap::Args)]
pub(crate) struct PreviewUpgradeArgs {
    /// Only the OidcSsoConfig of this name.
    pub(crate) name: Option<String>,
    /// The namespace. Default: the kubeconfig context's namespace.
    #[arg(short = 'n', long, conflicts_with = "all_namespaces")]
    pub(crate) namespace: Option<String>,
    /// Every namespace.
    #[arg(short = 'A', long, conflicts_with = "name")]
    pub(crate) all_namespaces: bool,
}

#[derive(clap::Args)]
pub(crate) struct RunArgs {
    /// Watch only this namespace (namespaced mode). Default: all namespaces.
    #[arg(long, env = "WATCH_NAMESPACE")]
    pub(crate) namespace: Option<String>,
    /// Address of the /healthz, /readyz and /metrics endpoints.
    #[arg(long, env = "HTTP_ADDR", default_value = "127.0.0.1:8080")]
    pub(crate) http_addr: std::net::SocketAddr,
    /// Re-check a healthy resource this often (reads only; nothing is written unless it changed).
    #[arg(long, default_value = "30m", value_parser = parse_duration)]
    pub(crate) resync: std::time::Duration,
    /// Reconciles running at once.
    #[arg(long, default_value_t = 16)]
    pub(crate) concurrency: u16,
    /// How long a successful provider check is reused (one fetch per provider per period).
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub(crate) provider_check_ttl: std::time::Duration,
    /// How long a failed provider check is reused before trying again.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub(crate) provider_check_failure_ttl: std::time::Duration,
    /// Networks (CIDR, repeatable or comma-separated) the provider checks may connect to although
    /// they are not public: for example the cluster's service range for an in-cluster provider.
    /// Loopback, private, link-local (cloud metadata) and other non-public addresses are refused
    /// otherwise, whatever a resource's author names.
    #[arg(long, env = "PROVIDER_ALLOWED_NETWORKS", value_delimiter = ',')]
    pub(crate) provider_allowed_networks: Vec<oidc_sso_operator::oidc::Network>,
    /// Ask each server pod whether it runs what was rendered (the `ServerConfirmed` condition;
    /// `Ready` waits for it). `false` turns the proof off for every resource, whatever
    /// `spec.server.proof` says: for an operator that cannot reach the server pods, or a test
    /// cluster whose pods have no process behind them.
    #[arg(long, env = "SERVER_PROOF", default_value_t = true, action = clap::ArgAction::Set)]
    pub(crate) server_proof: bool,
    /// Create the bot-token renewal Jobs resources ask for (`spec.jwt.rotation.renewBotTokens`),
    /// in the namespaces it watches. Off by default: the operator then needs `create` on Jobs,
    /// which the chart grants only with `botTokenRenewal: true`.
    #[arg(long, env = "BOT_TOKEN_RENEWAL", default_value_t = false, action = clap::ArgAction::Set)]
    pub(crate) bot_token_renewal: bool,
    /// Key pairs generated at once. Default: the number of cores.
    #[arg(long)]
    pub(crate) keygen_parallelism: Option<usize>,
    /// Log JSON lines instead of text.
    #[arg(long, env = "LOG_JSON")]
    pub(crate) log_json: bool,
    /// Reconcile only while holding a Lease, so that several replicas run with one active.
    #[arg(long, env = "LEADER_ELECT")]
    pub(crate) leader_elect: bool,
    /// Name of the Lease (one per operator installation).
    #[arg(long, env = "LEASE_NAME", default_value = "oidc-sso-operator")]
    pub(crate) lease_name: String,
    /// Namespace of the Lease. Default: the pod's namespace, else the watched namespace.
    #[arg(long, env = "POD_NAMESPACE")]
    pub(crate) lease_namespace: Option<String>,
    /// How long the Lease holds without renewal: a standby takes over about this long after the
    /// leader died (a leader that shuts down releases it at once). At least 3s.
    #[arg(long, default_value = "15s", value_parser = parse_duration)]
    pub(crate) lease_duration: std::time::Duration,
    /// This replica's name: its identity in the Lease and the instance of its Events. Default:
    /// the pod name (the chart sets POD_NAME), else `<hostname>-<pid>`.
    #[arg(long = "lease-identity", env = "POD_NAME")]
    pub(crate) identity: Option<String>,
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    oidc_sso_operator::validate::parse_duration(s)
}

#[derive(clap::Args)]
pub(crate) struct RenderArgs {
    /// YAML file with the OidcSsoConfig, and optionally the Secrets/ConfigMaps it references.
    #[arg(short = 'f', long = "filename")]
    pub(crate) file: PathBuf,
    /// The client credentials: a Secret manifest, or the provider's JSON credentials document.
    #[arg(long)]
    pub(crate) credentials: Option<PathBuf>,
    /// More YAML files with referenced Secrets or ConfigMaps (bot token, CA bundle, own keys).
    #[arg(long = "inputs")]
    pub(crate) inputs: Vec<PathBuf>,
    /// The provider's JWKS URL, when the spec has none (the operator takes it from discovery).
    #[arg(long)]
    pub(crate) jwks_uri: Option<String>,
    /// Print secret values instead of digests (preview format).
    #[arg(long)]
    pub(crate) show_secrets: bool,
    /// What to write: `preview` (every Secret as YAML, the default), `dotenv` (the settings as a
    /// Docker Compose env file) or `shell` (the settings as `export` lines for a bare-metal server).
    #[arg(long, value_enum, default_value_t = Format::Preview)]
    pub(crate) format: Format,
    /// Write the settings file, the key files (as the keys Secret holds them) and the ingestion
    /// workflowConfig.yaml into this directory. A key pair already there is kept.
    #[arg(long)]
    pub(crate) out_dir: Option<PathBuf>,
    /// The directory RSA_PRIVATE_KEY_FILE_PATH and RSA_PUBLIC_KEY_FILE_PATH name, as the server
    /// sees it. Default: spec.server.keyMountPath for dotenv (where Compose mounts the keys), and
    /// the out-dir's keys/ (absolute) for shell (the server reads them where they are written).
    #[arg(long)]
    pub(crate) key_dir_in_server: Option<String>,
    /// Replace the key pair in --out-dir with a new one (invalidates every token the server issued).
    #[arg(long)]
    pub(crate) rotate_keys: bool,
    /// Check the provider first, as the operator does (discovery, JWKS, client secret, login), print
    /// the conditions it would report, and write nothing if a check fails (exit status 1).
    #[arg(long)]
    pub(crate) verify: bool,
    /// Networks (CIDR, repeatable or comma-separated) the provider checks may connect to although
    /// they are not public, e.g. 127.0.0.0/8 for a provider on this machine. Loopback, private,
    /// link-local and other non-public addresses are refused otherwise.
    #[arg(long, value_delimiter = ',')]
    pub(crate) provider_allowed_networks: Vec<oidc_sso_operator::oidc::Network>,
}

/// Output formats of `render`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// Every Secret the operator would write, as YAML (secret values as digests).
    Preview,
    /// The settings as a Docker Compose env file (`env_file:`, `--env-file`, the project `.env`).
    Dotenv,
    /// The settings as `export` lines to source before `openmetadata-server-start.sh`.
    Shell,
}

impl Format {
    /// The settings file format, for the formats that are one.
    pub(crate) fn env_format(self) -> Option<oidc_sso_operator::offline::EnvFormat> {
        use oidc_sso_operator::offline::EnvFormat;
        match self {
            Format::Preview => None,
            Format::Dotenv => Some(EnvFormat::Dotenv),
            Format::Shell => Some(EnvFormat::Shell),
        }
    }
}
