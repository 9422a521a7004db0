//! Thin entry point: parse the command line, run the command, turn an error
//! into a message and an exit code.

use actlog_cmk::cli::{Cli, Command};
use actlog_cmk::commands;
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = match cli.verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ACTLOG_CMK_LOG").unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new(format!("actlog_cmk={filter},warn"))
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Audit(args) => commands::audit::run(args).await,
            Command::Plan(args) => commands::plan::run(args).await,
            Command::Apply(args) => commands::apply::run(args).await,
            Command::Emulator(args) => commands::emulator::run(args).await.map(|()| 0),
        }
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
