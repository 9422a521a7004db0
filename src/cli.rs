//! Command-line definitions only (clap); the work lives in `commands/` and below.

use clap::{Args, Parser, Subcommand};
use std::net::IpAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "actlog-cmk",
    version,
    about = "Find every storage account receiving an Azure subscription's activity log and make sure it is encrypted with a customer-managed key."
)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace). Secrets are never logged.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the local ARM emulator (HTTPS on loopback) for tests and offline rehearsals.
    Emulator(EmulatorArgs),
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
    /// JSON settings (timings, throttling, faults); see docs/emulator.md.
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// Start from a state saved with `GET /_emulator/state`.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
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
}
