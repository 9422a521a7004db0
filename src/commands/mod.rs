//! One module per subcommand: each turns arguments into options and calls the library.

pub mod apply;
pub mod audit;
mod azure_args;
pub mod completions;
pub mod demo;
pub mod emulator;
pub mod permissions;
pub mod plan;
mod remediation;
pub mod rollback;

use anyhow::Context;
use std::io::Write;
use std::path::Path;

/// Asks `question`; only `yes` proceeds. Without a terminal there is no one
/// to ask: `no_terminal` says what to do instead. `command` names what was
/// cancelled.
pub fn confirm(question: &str, no_terminal: &str, command: &str) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("{no_terminal}; nothing was changed");
    }
    let answer: String = dialoguer::Input::new()
        .with_prompt(format!("{question} Only 'yes' will be accepted"))
        .allow_empty(true)
        .interact_text()
        .context("cannot read the confirmation")?;
    if answer.trim() != "yes" {
        anyhow::bail!("{command} cancelled; nothing was changed");
    }
    Ok(())
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
