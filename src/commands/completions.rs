//! `actlog-cmk completions SHELL` (clap_complete) and `actlog-cmk man`
//! (clap_mangen): both generated from the clap definitions in `cli.rs`, so
//! they always list the commands and flags the binary has.

use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::exit_status::ExitStatus;
use anyhow::Context;
use clap::CommandFactory;

pub fn completions(args: CompletionsArgs) -> anyhow::Result<ExitStatus> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "actlog-cmk", &mut script);
    super::write_output(None, &String::from_utf8_lossy(&script))?;
    Ok(ExitStatus::Success)
}

pub fn man(args: ManArgs) -> anyhow::Result<ExitStatus> {
    let command = Cli::command();
    match args.out_dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create the folder {}", dir.display()))?;
            clap_mangen::generate_to(command, &dir)
                .with_context(|| format!("cannot write the man pages into {}", dir.display()))?;
        }
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(command)
                .render(&mut page)
                .context("cannot render the man page")?;
            super::write_output(None, &String::from_utf8_lossy(&page))?;
        }
    }
    Ok(ExitStatus::Success)
}
