//! The flow apply and rollback share between "here is what will change" and
//! "it changed": show the diff (standard error when standard output carries
//! JSON, nothing with `--quiet`), ask unless `--yes`, `--dry-run` or there is
//! nothing to do (refusing where there is no terminal to ask on), then run
//! with progress bars on a terminal and lines otherwise.

use crate::apply::{progress, Progress};
use anyhow::Context;
use std::future::Future;
use std::io::IsTerminal;

/// What the user asked for, and the words of the question.
pub struct Review<'a> {
    pub quiet: bool,
    /// Standard output carries JSON: the diff goes to standard error.
    pub json: bool,
    pub yes: bool,
    pub dry_run: bool,
    /// E.g. "Do you want to make these changes?"
    pub question: &'a str,
    /// What to do instead when standard input is not a terminal.
    pub no_terminal: &'a str,
    /// Names what was cancelled: "apply", "rollback".
    pub command: &'a str,
}

/// What is about to run.
pub struct Proposal<'a> {
    /// The diff as it is printed on standard output (standard error gets it
    /// as it is, standard output with `stdout_suffix` after it).
    pub diff: &'a str,
    pub stdout_suffix: &'a str,
    pub has_changes: bool,
    /// False for a saved plan: it was reviewed when it was saved.
    pub ask: bool,
}

impl Review<'_> {
    /// Shows `proposal`, asks if it must, and runs `work` with the progress
    /// display it should have.
    pub async fn run<F, Fut, T>(&self, proposal: &Proposal<'_>, work: F) -> anyhow::Result<T>
    where
        F: FnOnce(Box<dyn Progress>) -> Fut,
        Fut: Future<Output = T>,
    {
        if !self.quiet {
            if self.json {
                eprint!("{}", proposal.diff);
            } else {
                print!("{}{}", proposal.diff, proposal.stdout_suffix);
            }
        }
        if proposal.has_changes && proposal.ask && !self.yes && !self.dry_run {
            confirm(self.question, self.no_terminal, self.command)?;
        }
        let progress: Box<dyn Progress> =
            if proposal.has_changes && std::io::stderr().is_terminal() && !self.quiet {
                Box::new(progress::Bars::new())
            } else {
                // With nothing to change there is nothing to show progress of.
                Box::new(progress::Lines {
                    quiet: self.quiet || !proposal.has_changes,
                })
            };
        Ok(work(progress).await)
    }

    /// Colour for the diff: only where it is shown on a terminal.
    pub fn color(&self) -> bool {
        std::io::stderr().is_terminal() && super::color_allowed()
    }
}

/// Asks `question`; only `yes` proceeds. Without a terminal there is no one
/// to ask: `no_terminal` says what to do instead. `command` names what was
/// cancelled.
fn confirm(question: &str, no_terminal: &str, command: &str) -> anyhow::Result<()> {
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
