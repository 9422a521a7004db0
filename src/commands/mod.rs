//! One module per subcommand: each turns arguments into options and calls
//! the library. `run` dispatches; the glue several commands share lives
//! beside them (the connection, the scope, remediation settings, the
//! review-and-confirm flow of apply and rollback).

pub mod apply;
pub mod audit;
mod azure_args;
pub mod completions;
pub mod demo;
pub mod emulator;
pub mod permissions;
pub mod plan;
mod remediation;
pub mod report;
mod review;
pub mod rollback;
mod scope;
mod tenant_destinations;
mod tenant_plans;
mod tenants;

use crate::cli::{Cli, Command, GlobalArgs};
use crate::exit_status::ExitStatus;
use anyhow::Context;
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

/// A parsed command line: the global flags (one value every command gets),
/// the subcommand's arguments, and which flags were written on the command
/// line rather than taken from the environment or a default (a saved plan
/// refuses the ones that would change it).
#[derive(Debug)]
pub struct Invocation {
    pub global: GlobalArgs,
    pub command: Command,
    pub given: BTreeSet<String>,
}

impl Invocation {
    /// Parses the process's arguments.
    pub fn from_env() -> Result<Invocation, clap::Error> {
        Self::parse(std::env::args_os())
    }

    /// Parses `args` (the program name first).
    pub fn parse<I, T>(args: I) -> Result<Invocation, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let root = Cli::command();
        let mut matches = root.clone().try_get_matches_from(args)?;
        let mut given = BTreeSet::new();
        if let Some((name, sub)) = matches.subcommand() {
            if let Some(definition) = root.find_subcommand(name) {
                for arg in definition.get_arguments() {
                    if sub.value_source(arg.get_id().as_str()) == Some(ValueSource::CommandLine) {
                        given.insert(flag_name(arg));
                    }
                }
            }
        }
        let cli = Cli::from_arg_matches_mut(&mut matches)?;
        Ok(Invocation {
            global: cli.global,
            command: cli.command,
            given,
        })
    }
}

/// How the user writes an argument: `--long`, or a positional's value name.
pub fn flag_name(arg: &clap::Arg) -> String {
    match arg.get_long() {
        Some(long) => format!("--{long}"),
        None => arg
            .get_value_names()
            .and_then(|v| v.first())
            .map(|v| v.to_string())
            .unwrap_or_else(|| arg.get_id().to_string()),
    }
}

/// Runs the subcommand.
pub async fn run(invocation: Invocation) -> anyhow::Result<ExitStatus> {
    let Invocation {
        global,
        command,
        given,
    } = invocation;
    match command {
        Command::Audit(args) => audit::run(args, &global).await,
        Command::Plan(args) => plan::run(args).await,
        Command::Apply(args) => apply::run(args, &global, &given).await,
        Command::Rollback(args) => rollback::run(args, &global).await,
        Command::Emulator(args) => emulator::run(args).await.map(|()| ExitStatus::Success),
        // The demo reports a failure as an error; anything else it returns
        // is the final audit's code, which it requires to be 0.
        Command::Demo(args) => match demo::run(args).await? {
            0 => Ok(ExitStatus::Success),
            code => anyhow::bail!("the demo ended with code {code}"),
        },
        Command::Report(command) => report::run(command),
        Command::Permissions(args) => permissions::run(args),
        Command::Completions(args) => completions::completions(args),
        Command::Man(args) => completions::man(args),
    }
}

/// Color only when the user has not asked for none (https://no-color.org).
pub fn color_allowed() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Writes a command's report to the file, or to standard output.
pub fn write_output(file: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match file {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write the report to {}", path.display())),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|_| out.flush())
                .context("cannot write to standard output")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_flags_reach_every_subcommand_as_one_value() {
        let i = Invocation::parse(["actlog-cmk", "apply", "-q", "--yes"]).unwrap();
        assert!(i.global.quiet);
        let i = Invocation::parse(["actlog-cmk", "-vv", "rollback"]).unwrap();
        assert_eq!(i.global.verbose, 2);
        assert!(!i.global.quiet);
    }

    #[test]
    fn only_flags_written_on_the_command_line_count_as_given() {
        let i = Invocation::parse([
            "actlog-cmk",
            "apply",
            "p.json",
            "--key-size",
            "4096",
            "-s",
            "11111111-1111-1111-1111-111111111111",
            "--yes",
        ])
        .unwrap();
        let given: Vec<&str> = i.given.iter().map(String::as_str).collect();
        assert_eq!(given, ["--key-size", "--subscription", "--yes", "PLANFILE"]);
        // Defaults (--output, --propagation-timeout) are not given.
        let i = Invocation::parse(["actlog-cmk", "apply"]).unwrap();
        assert!(i.given.is_empty(), "{:?}", i.given);
    }
}
