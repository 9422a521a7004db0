//! Command-line definitions only (clap); the work lives in `commands/` and below.

use crate::azure::AuthKind;
use crate::exit_status;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::IpAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "actlog-cmk",
    version,
    after_help = exit_status::overview(),
    about = "Find every storage account receiving an Azure subscription's activity log and make sure it is encrypted with a customer-managed key."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// The flags every subcommand takes; they reach the commands as this one value.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct GlobalArgs {
    /// More log output on stderr (-v info, -vv debug, -vvv trace). Secrets are never logged.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Less output: no progress, no diff before apply or rollback, errors only in the log.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read-only: find every activity-log destination account and judge its encryption.
    #[command(after_help = exit_status::help("audit"))]
    Audit(AuditArgs),
    /// Read-only: show the changes that would put every finding on a customer-managed key.
    #[command(after_help = exit_status::help("plan"))]
    Plan(PlanArgs),
    /// Make the changes: from a saved plan file, or plan now and ask for confirmation.
    #[command(after_help = exit_status::help("apply"))]
    Apply(ApplyArgs),
    /// Undo a remediation: back to Microsoft-managed keys, the tool's identity taken off; keys and vaults stay.
    #[command(after_help = exit_status::help("rollback"))]
    Rollback(RollbackArgs),
    /// Run the local ARM emulator (HTTPS on loopback) for tests and offline rehearsals.
    #[command(after_help = exit_status::help("emulator"))]
    Emulator(EmulatorArgs),
    /// Run audit, plan, apply and audit again on a sample estate in the built-in emulator (offline).
    #[command(after_help = exit_status::help("demo"))]
    Demo(DemoArgs),
    /// Combine shard reports: `report merge A.json B.json ...`.
    #[command(subcommand, after_help = exit_status::help("report"))]
    Report(ReportCommand),
    /// Print least-privilege custom role definitions (JSON for `az role definition create`).
    #[command(after_help = exit_status::help("permissions"))]
    Permissions(PermissionsArgs),
    /// Print a shell completion script.
    #[command(after_help = exit_status::help("completions"))]
    Completions(CompletionsArgs),
    /// Print the man page (roff), or write one page per subcommand with --out-dir.
    #[command(after_help = exit_status::help("man"))]
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Leave the emulator running afterwards and print the environment
    /// variables that point actlog-cmk at it; Ctrl-C stops it.
    #[arg(long)]
    pub keep_running: bool,
    /// With --keep-running: stop after `audit` and `plan`, so the emulator
    /// keeps the estate as found and `plan`/`apply` can be tried by hand.
    #[arg(long, requires = "keep_running")]
    pub before_apply: bool,
    /// The Azure cloud the built-in emulator presents itself as (its sign-in
    /// host, token audience and vault DNS suffix; docs/emulator.md#clouds).
    #[arg(long, value_enum, default_value_t = crate::emulator::cloud::EmulatedCloud::Public)]
    pub cloud: crate::emulator::cloud::EmulatedCloud,
}

#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Address to listen on. Keep the loopback default unless you know why not.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Port to listen on; 0 picks any free port.
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Where to write the PEM certificate of the CA that signs the emulator's
    /// certificate [default: a file in the temporary directory].
    #[arg(long, value_name = "FILE")]
    pub ca_out: Option<PathBuf>,
    /// Serve plain http instead of HTTPS (only for clients that cannot use TLS).
    #[arg(long)]
    pub insecure_http: bool,
    /// Preset settings: `default` (kind timings) or `field` (Azure's rough
    /// edges and timings); see docs/emulator.md.
    #[arg(long, value_enum, default_value_t = EmulatorProfile::Default)]
    pub profile: EmulatorProfile,
    /// JSON settings (timings, throttling, faults), merged on top of the
    /// profile; see docs/emulator.md.
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// Start from a state saved with `GET /_emulator/state`.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// The Azure cloud to present itself as: its /metadata/endpoints, token
    /// audiences, sign-in path and vault DNS suffix (docs/emulator.md#clouds).
    #[arg(long, value_enum, default_value_t = crate::emulator::cloud::EmulatedCloud::Public)]
    pub cloud: crate::emulator::cloud::EmulatedCloud,
    /// Tenant id to use [default: random].
    #[arg(long)]
    pub tenant_id: Option<String>,
    /// Client id of the service principal the emulator creates [default: random].
    #[arg(long)]
    pub client_id: Option<String>,
    /// Its client secret [default: random].
    #[arg(
        long,
        env = "ACTLOG_CMK_EMULATOR_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub client_secret: Option<String>,
    /// Write every ARM exchange into this folder as an `oav validate-traffic` file.
    #[arg(long, value_name = "DIR")]
    pub traffic_dir: Option<PathBuf>,
    /// The name clients use to reach the emulator (e.g. this machine's DNS
    /// name): the reported endpoint uses it and the TLS certificate covers it
    /// [default: the bind address; loopback when binding to 0.0.0.0 or ::].
    #[arg(long, value_name = "NAME")]
    pub hostname: Option<String>,
    /// When ready, print shell `export` lines for a client (endpoint, CA
    /// file, sign-in variables, admin key) instead of the JSON line.
    #[arg(long)]
    pub print_env: bool,
}

/// The emulator's settings presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EmulatorProfile {
    /// Today's kind emulator: grants in seconds, a current index.
    Default,
    /// Azure's rough edges, each on, with Azure's timings.
    Field,
}

/// How to reach ARM; shared by every command that talks to Azure.
#[derive(Debug, Args)]
pub struct AzureArgs {
    /// ARM endpoint, e.g. a sovereign cloud or the local emulator.
    #[arg(long, env = "ACTLOG_CMK_ARM_ENDPOINT", default_value = crate::azure::connection::PUBLIC_CLOUD)]
    pub arm_endpoint: String,
    /// An extra root certificate (PEM) to trust, e.g. the emulator's or a TLS-inspecting proxy's.
    #[arg(long, env = "ACTLOG_CMK_CA_FILE", value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Which credential signs in.
    #[arg(long, env = "ACTLOG_CMK_AUTH", value_enum, default_value_t = AuthKind::Default)]
    pub auth: AuthKind,
    /// Token scope (repeatable) [default: derived from the endpoint; the public cloud's for others].
    #[arg(long = "token-scope", value_name = "SCOPE")]
    pub token_scopes: Vec<String>,
    /// Seconds before one HTTP request is abandoned (then retried).
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    pub timeout: u64,
    /// Retries of a throttled (429), failed (5xx) or dropped request; `Retry-After` is honoured.
    #[arg(long, default_value_t = 8)]
    pub max_retries: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    /// A table per destination account.
    Text,
    /// Versioned JSON (docs/output.md, docs/schemas/audit.schema.json).
    Json,
    /// For a pull-request comment.
    Markdown,
    /// SARIF 2.1.0, one result per finding.
    Sarif,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub azure: AzureArgs,
    /// Subscription to audit, by id or display name (repeatable) [default: every subscription the credential can see].
    #[arg(long = "subscription", short = 's', value_name = "ID|NAME")]
    pub subscriptions: Vec<String>,
    #[command(flatten)]
    pub tenants: TenantArgs,
    /// Management group whose activity-log settings to audit, by id (repeatable) [default: every readable group, none when -s names subscriptions].
    #[arg(long = "management-group", value_name = "ID")]
    pub management_groups: Vec<String>,
    /// Audit only shard K of N of the subscriptions (by a stable hash of each id; docs/usage.md#shards).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<crate::shard::Shard>,
    /// Subscriptions read at once, and destination accounts at once (each up to N); ARM allows a burst of 250 reads per subscription.
    // 128 (as plan and apply), not 16: at 16 the (then staged) audit's waves
    // of 30 ms reads took 3.7 s for 1,000 subscriptions, 1.5 s at 128 (the
    // November 2026 benchmark).
    #[arg(long, default_value_t = 128, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub parallelism: u16,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = AuditFormat::Text)]
    pub output: AuditFormat,
    /// Write the report to this file instead of standard output.
    #[arg(long = "output-file", value_name = "FILE")]
    pub output_file: Option<PathBuf>,
    /// Exit 0 when the audit finds something (for `set -e` scripts); errors
    /// still exit 1 and an incomplete audit 3.
    #[arg(long)]
    pub soft_fail: bool,
}

/// Which tenants: the sign-in tenant (`AZURE_TENANT_ID`) by default; each
/// other one is signed in to with its own token (docs/usage.md#tenants).
#[derive(Debug, Args)]
pub struct TenantArgs {
    /// Cover this tenant's subscriptions, signed in to it (repeatable) [default: the sign-in tenant].
    #[arg(
        long = "tenant",
        value_name = "TENANT_ID",
        conflicts_with = "all_tenants"
    )]
    pub tenants: Vec<String>,
    /// Cover every tenant the credential is in (`GET /tenants`), each signed in to.
    #[arg(long)]
    pub all_tenants: bool,
}

/// Which subscriptions, and how many reads at once.
#[derive(Debug, Args)]
pub struct ScopeArgs {
    /// Subscription to cover, by id or display name (repeatable) [default: every subscription the credential can see].
    #[arg(long = "subscription", short = 's', value_name = "ID|NAME")]
    pub subscriptions: Vec<String>,
    /// Management group whose activity-log destinations to cover, by id (repeatable) [default: every readable group, none when -s names subscriptions].
    #[arg(long = "management-group", value_name = "ID")]
    pub management_groups: Vec<String>,
    /// Requests in flight at once [default: 128, or `parallelism` in the config file].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub parallelism: Option<u16>,
}

/// How the remediation is shaped: flags, then environment, then the config
/// file (docs/configuration.md), then defaults.
#[derive(Debug, Args)]
pub struct RemediationArgs {
    /// TOML config file [default: ./actlog-cmk.toml when it exists].
    #[arg(long, env = "ACTLOG_CMK_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Name of the key to create in each vault [default: activity-log-cmk].
    #[arg(long, env = "ACTLOG_CMK_KEY_NAME")]
    pub key_name: Option<String>,
    /// RSA key size: 2048, 3072 or 4096 [default: 3072].
    #[arg(long, env = "ACTLOG_CMK_KEY_SIZE")]
    pub key_size: Option<u32>,
    /// New keys expire this many days after creation [default: no expiry].
    #[arg(long, value_name = "DAYS")]
    pub key_expiry_days: Option<u32>,
    /// New keys rotate automatically this many days after creation [default: no rotation policy].
    #[arg(long, value_name = "DAYS")]
    pub key_rotation_days: Option<u32>,
    /// Permission model of vaults the tool creates [default: rbac].
    #[arg(long, env = "ACTLOG_CMK_PERMISSION_MODEL", value_enum)]
    pub permission_model: Option<crate::plan::PermissionModel>,
    /// Use this existing user-assigned identity (resource id) for every account.
    #[arg(long, value_name = "ID")]
    pub identity: Option<String>,
    /// Use this existing key vault (resource id) for every account.
    #[arg(long, value_name = "ID")]
    pub key_vault: Option<String>,
    /// Template for identity names: {account}, {resource_group}, {subscription}, {location}, {hash} [default: id-{account}-cmk].
    #[arg(long, value_name = "TEMPLATE")]
    pub identity_name: Option<String>,
    /// Template for vault names (3-24 characters, global) [default: kv-{account}-{hash}].
    #[arg(long, value_name = "TEMPLATE")]
    pub vault_name: Option<String>,
    /// Extra tag for every resource the tool creates (repeatable).
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// A Terraform-style diff.
    Text,
    /// Versioned JSON (docs/output.md, docs/schemas/plan.schema.json).
    Json,
    /// For a pull-request comment.
    Markdown,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub azure: AzureArgs,
    #[command(flatten)]
    pub scope: ScopeArgs,
    #[command(flatten)]
    pub tenants: TenantArgs,
    #[command(flatten)]
    pub remediation: RemediationArgs,
    /// Cover only shard K of N of the subscriptions (by a stable hash of each id; docs/usage.md#shards).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<crate::shard::Shard>,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = PlanFormat::Text)]
    pub output: PlanFormat,
    /// Save the plan to this file, for `actlog-cmk apply FILE`; signed when
    /// ACTLOG_CMK_PLAN_KEY is set (docs/pipelines.md).
    #[arg(long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit 0 when there is nothing to change, 2 when there are changes, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ApplyFormat {
    /// Progress, then a summary table.
    Text,
    /// Versioned JSON (docs/output.md).
    Json,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved with `plan --out`: carried out exactly, after checking
    /// that no account changed since (flags that would change the plan are
    /// refused; with ACTLOG_CMK_PLAN_KEY set it must be signed with it).
    /// Without it, apply plans now and asks.
    #[arg(value_name = "PLANFILE")]
    pub plan_file: Option<PathBuf>,
    #[command(flatten)]
    pub azure: AzureArgs,
    #[command(flatten)]
    pub scope: ScopeArgs,
    #[command(flatten)]
    pub tenants: TenantArgs,
    #[command(flatten)]
    pub remediation: RemediationArgs,
    /// Cover only shard K of N of the subscriptions (by a stable hash of each id; docs/usage.md#shards).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<crate::shard::Shard>,
    /// Do not ask for confirmation (for scripts).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Show the calls apply would make; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format of the result.
    #[arg(long, short = 'o', value_enum, default_value_t = ApplyFormat::Text)]
    pub output: ApplyFormat,
    /// Seconds to keep retrying while a new grant or identity propagates.
    #[arg(long, default_value_t = 600, value_name = "SECONDS")]
    pub propagation_timeout: u64,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Combine the JSON reports of `audit --shard K/N -o json` into one
    /// report, as one unsharded run would have written it.
    #[command(after_help = exit_status::help("report"))]
    Merge(MergeArgs),
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shard reports (`audit --shard K/N -o json`), one per shard.
    #[arg(value_name = "REPORT", required = true)]
    pub reports: Vec<PathBuf>,
    /// Output format of the merged report.
    #[arg(long, short = 'o', value_enum, default_value_t = AuditFormat::Text)]
    pub output: AuditFormat,
    /// Write the merged report to this file instead of standard output.
    #[arg(long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit 0 when the merged report has findings; an incomplete or partial one still exits 3.
    #[arg(long)]
    pub soft_fail: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleChoice {
    /// Reads only: audit, plan, and the dry runs of apply and rollback.
    Audit,
    /// The reads and the writes of apply.
    Apply,
    /// The reads and what undoing an apply takes.
    Rollback,
    /// All three, as a JSON array.
    All,
}

#[derive(Debug, Args)]
pub struct PermissionsArgs {
    /// Which role; one role prints one object, ready for `az role definition create --role-definition`.
    #[arg(long, value_enum, default_value_t = RoleChoice::All)]
    pub role: RoleChoice,
    /// Assignable scope (repeatable): /subscriptions/<id>, a resource group, or one
    /// management group [default: the placeholder /subscriptions/<subscription-id>].
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write actlog-cmk.1 and one page per subcommand (actlog-cmk-audit.1, ...) into this folder
    /// instead of printing the main page.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    pub azure: AzureArgs,
    #[command(flatten)]
    pub scope: ScopeArgs,
    /// Storage account to roll back (resource id; repeatable) [default: every
    /// activity-log destination in scope that actlog-cmk remediated, found by its tags].
    #[arg(long = "account", value_name = "ID")]
    pub accounts: Vec<String>,
    /// Also remove the access policy permissions or role assignments actlog-cmk
    /// gave its identity on the key.
    #[arg(long)]
    pub remove_grants: bool,
    /// Roll back an account named with --account even though actlog-cmk did not
    /// remediate it: only its key source changes; identities and grants the
    /// tool did not create are never touched.
    #[arg(long)]
    pub force: bool,
    /// Do not ask for confirmation (for scripts).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Show the calls rollback would make; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Save the rollback plan to this file and change nothing: review it,
    /// then carry out exactly that with `actlog-cmk apply FILE`.
    #[arg(long = "out", value_name = "FILE", conflicts_with = "dry_run")]
    pub out: Option<PathBuf>,
    /// Output format of the result.
    #[arg(long, short = 'o', value_enum, default_value_t = ApplyFormat::Text)]
    pub output: ApplyFormat,
}
