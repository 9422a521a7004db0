//! Thin entry point: parse the command line, run the command, turn an error
//! into a message and the one exit status (`actlog_cmk::exit_status`).

use actlog_cmk::commands::{self, Invocation};
use actlog_cmk::exit_status::ExitStatus;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Bad flags exit 1 like every other error (clap's own default is 2, which
    // would read as "findings" to a pipeline); --help and --version exit 0.
    let invocation = match Invocation::from_env() {
        Ok(invocation) => invocation,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitStatus::Error
            } else {
                ExitStatus::Success
            }
            .into();
        }
    };
    let global = invocation.global;
    actlog_cmk::logging::init(global.verbose, global.quiet);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitStatus::Error.into();
        }
    };
    match runtime.block_on(commands::run(invocation)) {
        Ok(status) => status.into(),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitStatus::Error.into()
        }
    }
}
