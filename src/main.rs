//! Thin entry point: parse the command line, run the command, turn an error
//! into a message and an exit code.

use actlog_cmk::cli::{Cli, Command};
use actlog_cmk::commands;
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Bad flags exit 1 like every other error (clap's own default is 2, which
    // would read as "findings" to a pipeline); --help and --version exit 0.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 1 } else { 0 });
        }
    };
    actlog_cmk::logging::init(cli.verbose, cli.quiet);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Audit(mut args) => {
                args.verbose = cli.verbose;
                commands::audit::run(args).await
            }
            Command::Plan(args) => commands::plan::run(args).await,
            Command::Apply(mut args) => {
                args.quiet = cli.quiet;
                commands::apply::run(args).await
            }
            Command::Rollback(mut args) => {
                args.quiet = cli.quiet;
                commands::rollback::run(args).await
            }
            Command::Emulator(args) => commands::emulator::run(args).await.map(|()| 0),
            Command::Demo(args) => commands::demo::run(args).await,
            Command::Permissions(args) => commands::permissions::run(args),
            Command::Completions(args) => commands::completions::completions(args),
            Command::Man(args) => commands::completions::man(args),
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
