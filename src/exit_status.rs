//! The one exit status every command ends with, and what each code means for
//! each command. `--help`, the man pages and README's exit-code table are all
//! generated from [`MEANINGS`], so what a pipeline reads in one place is what
//! the binary does (tests/completions.rs holds the three together).

use serde::{Serialize, Serializer};

/// How a command ended. The numbers are a contract with pipelines: `set -e`
/// scripts and gates branch on them (docs/output.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExitStatus {
    /// 0: the command did what it was asked, and the answer is "all good"
    /// (audit: every destination compliant; plan: a complete plan).
    Success,
    /// 1: no result: bad input, no credentials, ARM unreachable, a refused
    /// plan file, a declined confirmation. Nothing was changed.
    Error,
    /// 2: the audit found something (or, with `plan --detailed-exitcode`,
    /// the plan has changes): a result, not a failure.
    Findings,
    /// 3: a result that may miss something: an account or subscription could
    /// not be read, or (apply, rollback) some accounts failed or were refused.
    Incomplete,
}

impl ExitStatus {
    /// `plan --detailed-exitcode`'s "there are changes", as Terraform's 2.
    pub const CHANGES: ExitStatus = ExitStatus::Findings;
    /// apply's and rollback's "some accounts failed or were refused".
    pub const PARTIAL: ExitStatus = ExitStatus::Incomplete;

    /// The process exit code.
    pub const fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Error => 1,
            ExitStatus::Findings => 2,
            ExitStatus::Incomplete => 3,
        }
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> Self {
        std::process::ExitCode::from(status.code())
    }
}

/// As its number: reports that carry the exit code (SARIF's
/// `invocations[].exitCode`) show what the process returns.
impl Serialize for ExitStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(self.code())
    }
}

/// One command's exit codes, in order, each with what it means there.
pub type Meanings = &'static [(ExitStatus, &'static str)];

/// Every subcommand and what its exit codes mean; the commands that are
/// not listed here do not exist (a test checks both directions).
pub const MEANINGS: &[(&str, Meanings)] = &[
    (
        "audit",
        &[
            (ExitStatus::Success, "all compliant"),
            (ExitStatus::Error, "error"),
            (ExitStatus::Findings, "findings (0 with --soft-fail)"),
            (
                ExitStatus::Incomplete,
                "incomplete (something unreadable), even with --soft-fail",
            ),
        ],
    ),
    (
        "plan",
        &[
            (
                ExitStatus::Success,
                "no changes (without --detailed-exitcode: a complete plan)",
            ),
            (ExitStatus::Error, "error"),
            (ExitStatus::CHANGES, "changes (with --detailed-exitcode)"),
            (ExitStatus::Incomplete, "incomplete (something unreadable)"),
        ],
    ),
    (
        "apply",
        &[
            (ExitStatus::Success, "all done"),
            (ExitStatus::Error, "error, nothing changed"),
            (
                ExitStatus::PARTIAL,
                "some accounts failed or refused, or something unreadable",
            ),
        ],
    ),
    (
        "rollback",
        &[
            (ExitStatus::Success, "all done (or nothing to roll back)"),
            (ExitStatus::Error, "error, nothing changed"),
            (ExitStatus::PARTIAL, "some accounts failed or refused"),
        ],
    ),
    (
        "emulator",
        &[
            (ExitStatus::Success, "stopped by Ctrl-C or SIGTERM"),
            (ExitStatus::Error, "could not start"),
        ],
    ),
    (
        "demo",
        &[
            (
                ExitStatus::Success,
                "every destination ends compliant (the final audit exits 0)",
            ),
            (
                ExitStatus::Error,
                "a step failed, or the final audit did not exit 0",
            ),
        ],
    ),
    (
        // `report merge`, its one subcommand: the merged report's code, as
        // one unsharded audit would have exited.
        "report",
        &[
            (ExitStatus::Success, "all compliant"),
            (
                ExitStatus::Error,
                "error: a file that is no audit JSON report, or reports that do not belong together",
            ),
            (ExitStatus::Findings, "findings (0 with --soft-fail)"),
            (
                ExitStatus::Incomplete,
                "incomplete: something unreadable, or shards missing",
            ),
        ],
    ),
    (
        "permissions",
        &[
            (ExitStatus::Success, "printed"),
            (ExitStatus::Error, "error (a scope that is not one)"),
        ],
    ),
    (
        "completions",
        &[
            (ExitStatus::Success, "printed"),
            (ExitStatus::Error, "error"),
        ],
    ),
    (
        "man",
        &[
            (ExitStatus::Success, "printed or written"),
            (ExitStatus::Error, "error (the folder cannot be written)"),
        ],
    ),
];

/// The commands README's exit-code table shows: the ones pipelines gate on.
pub const README_COMMANDS: [&str; 4] = ["audit", "plan", "apply", "rollback"];

/// What `command`'s exit codes mean (empty for a command not in [`MEANINGS`]).
pub fn meanings(command: &str) -> Meanings {
    MEANINGS
        .iter()
        .find(|(name, _)| *name == command)
        .map_or(&[], |(_, m)| *m)
}

/// The `Exit codes:` section of `command`'s `--help` and man page.
pub fn help(command: &str) -> String {
    let mut text = String::from("Exit codes:");
    for (status, meaning) in meanings(command) {
        text.push_str(&format!("\n  {}  {meaning}", status.code()));
    }
    text
}

/// What each code means across commands, for `actlog-cmk --help` and the
/// main man page.
pub const OVERVIEW: Meanings = &[
    (ExitStatus::Success, "success"),
    (ExitStatus::Error, "error; nothing was changed"),
    (
        ExitStatus::Findings,
        "audit: findings; plan --detailed-exitcode: changes",
    ),
    (
        ExitStatus::Incomplete,
        "something could not be read, or (apply, rollback) some accounts failed",
    ),
];

/// The `Exit codes:` section of `actlog-cmk --help`.
pub fn overview() -> String {
    let mut text = String::from("Exit codes:");
    for (status, meaning) in OVERVIEW {
        text.push_str(&format!("\n  {}  {meaning}", status.code()));
    }
    text.push_str("\nEach command's --help says what they mean for it.");
    text
}

/// README's exit-code table (Markdown), one row per [`README_COMMANDS`].
pub fn markdown_table() -> String {
    let all = [
        ExitStatus::Success,
        ExitStatus::Error,
        ExitStatus::Findings,
        ExitStatus::Incomplete,
    ];
    let mut table = String::from("| command |");
    for status in all {
        table.push_str(&format!(" {} |", status.code()));
    }
    table.push_str("\n| --- |");
    table.push_str(&" --- |".repeat(all.len()));
    for command in README_COMMANDS {
        table.push_str(&format!("\n| {command} |"));
        for status in all {
            let cell = meanings(command)
                .iter()
                .find(|(s, _)| *s == status)
                .map_or("", |(_, m)| m);
            if cell.is_empty() {
                table.push_str(" |");
            } else {
                table.push_str(&format!(" {cell} |"));
            }
        }
    }
    table.push('\n');
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_codes_are_the_documented_numbers() {
        assert_eq!(ExitStatus::Success.code(), 0);
        assert_eq!(ExitStatus::Error.code(), 1);
        assert_eq!(ExitStatus::Findings.code(), 2);
        assert_eq!(ExitStatus::Incomplete.code(), 3);
        assert_eq!(ExitStatus::CHANGES.code(), 2);
        assert_eq!(ExitStatus::PARTIAL.code(), 3);
        assert_eq!(serde_json::to_value(ExitStatus::Findings).unwrap(), 2);
    }

    #[test]
    fn every_command_lists_success_and_error_in_order() {
        for (command, meanings) in MEANINGS {
            assert_eq!(meanings[0].0, ExitStatus::Success, "{command}");
            assert_eq!(meanings[1].0, ExitStatus::Error, "{command}");
            assert!(
                meanings.windows(2).all(|w| w[0].0 < w[1].0),
                "{command}: codes out of order"
            );
        }
    }

    #[test]
    fn help_lists_each_code_on_its_own_line() {
        assert_eq!(
            help("apply"),
            "Exit codes:\n  0  all done\n  1  error, nothing changed\n  3  some accounts failed or refused, or something unreadable"
        );
        assert_eq!(help("nonesuch"), "Exit codes:");
        assert!(overview().contains(
            "\n  3  something could not be read, or (apply, rollback) some accounts failed\n"
        ));
    }

    #[test]
    fn the_table_leaves_codes_a_command_never_returns_empty() {
        let table = markdown_table();
        assert!(table.starts_with("| command | 0 | 1 | 2 | 3 |\n| --- | --- | --- | --- | --- |\n"));
        assert!(
            table.contains("\n| apply | all done | error, nothing changed | | some accounts"),
            "{table}"
        );
    }
}
