//! What `demo --keep-running` tells the user: the `export` lines that point
//! actlog-cmk at the emulator (the same variables the demo's own commands
//! get) and the admin key for the emulator's admin API.

use crate::emulator::{Connection, RunningEmulator};
use std::path::Path;

/// The variables that point the tool at the emulator, signed in with the
/// emulator's own throw-away service principal.
pub(super) fn tool_environment(
    connection: &Connection,
    ca_file: &Path,
) -> Vec<(&'static str, String)> {
    vec![
        ("ACTLOG_CMK_ARM_ENDPOINT", connection.endpoint.clone()),
        ("ACTLOG_CMK_CA_FILE", ca_file.display().to_string()),
        ("ACTLOG_CMK_AUTH", "environment".to_string()),
        ("AZURE_AUTHORITY_HOST", connection.authority_host.clone()),
        ("AZURE_TENANT_ID", connection.tenant_id.clone()),
        ("AZURE_CLIENT_ID", connection.client_id.clone()),
        ("AZURE_CLIENT_SECRET", connection.client_secret.clone()),
    ]
}

/// The variable the admin key is exported as: nothing reads it, it is for
/// the user's `curl -H "x-emulator-key: $ACTLOG_CMK_EMULATOR_ADMIN_KEY"`.
const ADMIN_KEY_VARIABLE: &str = "ACTLOG_CMK_EMULATOR_ADMIN_KEY";

/// With `--keep-running`: how to point the tool at the emulator by hand,
/// and how to reach its admin API (request log, faults, settings).
pub(super) fn print_connection(running: &RunningEmulator, ca_file: &Path, before_apply: bool) {
    let connection = &running.connection;
    let estate = if before_apply {
        "the estate as found (before apply)"
    } else {
        "the remediated estate"
    };
    println!(
        "\nThe emulator keeps running at {} with {estate}.",
        connection.endpoint
    );
    println!(
        "Point actlog-cmk at it from another shell with these lines (the client secret is the\n\
         emulator's own throw-away credential; it is good for this emulator only and dies with it):\n"
    );
    for (name, value) in tool_environment(connection, ca_file) {
        println!("{}", export_line(name, &value));
    }
    println!("{}", export_line(ADMIN_KEY_VARIABLE, &connection.admin_key));
    println!(
        "\nThen try any command, e.g. `actlog-cmk audit -o markdown`, `actlog-cmk plan --detailed-exitcode`\n\
         or `actlog-cmk apply` (from the repository: `cargo run -- audit`). The admin key opens the\n\
         emulator's admin API (docs/emulator.md: request log, faults, settings), e.g.\n\
         \x20 curl --cacert \"$ACTLOG_CMK_CA_FILE\" -H \"x-emulator-key: ${ADMIN_KEY_VARIABLE}\" \"$ACTLOG_CMK_ARM_ENDPOINT/_emulator/requests\"\n\
         Press Ctrl-C to stop the emulator."
    );
}

/// One line that sets a variable in the user's shell.
fn export_line(name: &str, value: &str) -> String {
    if cfg!(windows) {
        format!("$env:{name} = '{}'", value.replace('\'', "''"))
    } else {
        format!("export {name}='{}'", value.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_lines_quote_what_a_shell_would_expand() {
        if cfg!(windows) {
            assert_eq!(export_line("A", "it's"), "$env:A = 'it''s'");
        } else {
            assert_eq!(export_line("A", "/tmp/x y"), "export A='/tmp/x y'");
            assert_eq!(export_line("A", "it's"), r"export A='it'\''s'");
            assert_eq!(export_line("A", "$HOME"), "export A='$HOME'");
        }
    }
}
