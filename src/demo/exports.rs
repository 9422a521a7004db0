//! What the demo hands on: the variables its own commands run with, and
//! what `demo --keep-running` tells the user (the `export` lines that point
//! actlog-cmk at the emulator, admin key included). Both come from the
//! emulator's own [`client_environment`] and [`export_lines`], the lines
//! `actlog-cmk emulator --print-env` prints, so the two cannot drift apart.

use crate::emulator::connection::{
    client_environment, export_lines, Connection, ADMIN_KEY_VARIABLE,
};
use crate::emulator::RunningEmulator;

/// The variables the demo's commands run with: the emulator's client
/// environment without the admin key, which the tool never reads and so
/// need not see.
pub(super) fn tool_environment(connection: &Connection) -> Vec<(&'static str, String)> {
    client_environment(connection)
        .into_iter()
        .filter(|(name, _)| *name != ADMIN_KEY_VARIABLE)
        .collect()
}

/// With `--keep-running`: how to point the tool at the emulator by hand,
/// and how to reach its admin API (request log, faults, settings).
pub(super) fn print_connection(running: &RunningEmulator, before_apply: bool) {
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
    for line in export_lines(connection) {
        println!("{line}");
    }
    println!(
        "\nThen try any command, e.g. `actlog-cmk audit -o markdown`, `actlog-cmk plan --detailed-exitcode`\n\
         or `actlog-cmk apply` (from the repository: `cargo run -- audit`). The admin key opens the\n\
         emulator's admin API (docs/emulator.md: request log, faults, settings), e.g.\n\
         \x20 curl --cacert \"$ACTLOG_CMK_CA_FILE\" -H \"x-emulator-key: ${ADMIN_KEY_VARIABLE}\" \"$ACTLOG_CMK_ARM_ENDPOINT/_emulator/requests\"\n\
         Press Ctrl-C to stop the emulator."
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tools_children_get_every_client_variable_but_the_admin_key() {
        let connection = Connection {
            endpoint: "https://127.0.0.1:8443".into(),
            authority_host: "https://127.0.0.1:8443".into(),
            token_scope: "https://management.azure.com/.default".into(),
            cloud: crate::emulator::cloud::EmulatedCloud::Public,
            ca_file: Some("/tmp/ca.pem".into()),
            tenant_id: "t".into(),
            client_id: "c".into(),
            client_secret: "s".into(),
            object_id: "o".into(),
            admin_key: "admin".into(),
        };
        let environment = tool_environment(&connection);
        assert!(environment.iter().all(|(_, value)| value != "admin"));
        assert_eq!(environment.len(), client_environment(&connection).len() - 1);
        assert!(environment
            .iter()
            .any(|(name, value)| *name == "ACTLOG_CMK_CA_FILE" && value == "/tmp/ca.pem"));
    }
}
