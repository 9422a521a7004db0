//! How a client reaches a running emulator: the [`Connection`] it announces
//! at start, the address it reports (one a client can connect to, never the
//! `0.0.0.0` it may listen on), and the shell lines that point a client at it
//! (`actlog-cmk emulator --print-env`, `demo --keep-running`).

use serde::Serialize;
use std::net::IpAddr;
use std::path::PathBuf;

/// What a client needs to talk to a running emulator; printed as one JSON line at start.
#[derive(Debug, Clone, Serialize)]
pub struct Connection {
    pub endpoint: String,
    /// Where to sign in: the endpoint itself, or below it the emulated
    /// cloud's sign-in path (`emulator::cloud`).
    pub authority_host: String,
    /// The scope of a management token in the emulated cloud.
    pub token_scope: String,
    /// The Azure cloud it presents itself as.
    pub cloud: super::cloud::EmulatedCloud,
    pub ca_file: Option<PathBuf>,
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
    pub object_id: String,
    pub admin_key: String,
}

/// The variable that carries the admin key in the lines below. The tool never
/// reads it; it is for the admin API by hand:
/// `curl -H "x-emulator-key: $ACTLOG_CMK_EMULATOR_ADMIN_KEY" ...`.
pub const ADMIN_KEY_VARIABLE: &str = "ACTLOG_CMK_EMULATOR_ADMIN_KEY";

/// The host a client should use for an emulator listening on `bound`: the
/// name it was told clients use (`--hostname`), else the address itself, and
/// for an unspecified address (`0.0.0.0`, `::`), which no client can connect
/// to, the loopback address of the same family. IPv6 literals are bracketed.
pub fn reachable_host(bound: IpAddr, hostname: Option<&str>) -> String {
    let ip = match hostname.map(str::trim).filter(|h| !h.is_empty()) {
        Some(name) => match name.parse::<IpAddr>() {
            Ok(ip) => ip,
            Err(_) => return name.to_string(),
        },
        None if bound.is_unspecified() => match bound {
            IpAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        },
        None => bound,
    };
    match ip {
        IpAddr::V6(ip) => format!("[{ip}]"),
        IpAddr::V4(ip) => ip.to_string(),
    }
}

/// The variables that point actlog-cmk (and any Azure SDK's environment
/// credential) at the emulator, signed in as its own throw-away service
/// principal, plus the admin key ([`ADMIN_KEY_VARIABLE`]). The CA file is
/// left out for an emulator that speaks plain http.
pub fn client_environment(connection: &Connection) -> Vec<(&'static str, String)> {
    let mut variables = vec![("ACTLOG_CMK_ARM_ENDPOINT", connection.endpoint.clone())];
    if let Some(ca_file) = &connection.ca_file {
        variables.push(("ACTLOG_CMK_CA_FILE", ca_file.display().to_string()));
    }
    variables.extend([
        ("ACTLOG_CMK_AUTH", "environment".to_string()),
        ("AZURE_AUTHORITY_HOST", connection.authority_host.clone()),
        ("AZURE_TENANT_ID", connection.tenant_id.clone()),
        ("AZURE_CLIENT_ID", connection.client_id.clone()),
        ("AZURE_CLIENT_SECRET", connection.client_secret.clone()),
        (ADMIN_KEY_VARIABLE, connection.admin_key.clone()),
    ]);
    variables
}

/// One line that sets a variable in the user's shell (PowerShell on Windows),
/// quoted so that nothing in the value is expanded.
pub fn export_line(name: &str, value: &str) -> String {
    if cfg!(windows) {
        format!("$env:{name} = '{}'", value.replace('\'', "''"))
    } else {
        format!("export {name}='{}'", value.replace('\'', r"'\''"))
    }
}

/// [`client_environment`] as shell lines, one per variable.
pub fn export_lines(connection: &Connection) -> Vec<String> {
    client_environment(connection)
        .iter()
        .map(|(name, value)| export_line(name, value))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unspecified_bind_is_reported_as_loopback() {
        assert_eq!(
            reachable_host("0.0.0.0".parse().unwrap(), None),
            "127.0.0.1"
        );
        assert_eq!(reachable_host("::".parse().unwrap(), None), "[::1]");
        assert_eq!(
            reachable_host("10.1.2.3".parse().unwrap(), None),
            "10.1.2.3"
        );
        assert_eq!(
            reachable_host("fe80::1".parse().unwrap(), None),
            "[fe80::1]"
        );
        assert_eq!(
            reachable_host("0.0.0.0".parse().unwrap(), Some("emu.internal")),
            "emu.internal"
        );
        assert_eq!(
            reachable_host("0.0.0.0".parse().unwrap(), Some("::1")),
            "[::1]"
        );
    }

    fn connection(ca_file: Option<&str>) -> Connection {
        Connection {
            endpoint: "https://127.0.0.1:8443".into(),
            authority_host: "https://127.0.0.1:8443".into(),
            token_scope: "https://management.azure.com/.default".into(),
            cloud: crate::emulator::cloud::EmulatedCloud::Public,
            ca_file: ca_file.map(PathBuf::from),
            tenant_id: "t".into(),
            client_id: "c".into(),
            client_secret: "s".into(),
            object_id: "o".into(),
            admin_key: "k".into(),
        }
    }

    #[test]
    fn the_environment_names_every_variable_a_client_needs() {
        let names: Vec<&str> = client_environment(&connection(Some("/tmp/ca.pem")))
            .iter()
            .map(|(name, _)| *name)
            .collect();
        assert_eq!(
            names,
            [
                "ACTLOG_CMK_ARM_ENDPOINT",
                "ACTLOG_CMK_CA_FILE",
                "ACTLOG_CMK_AUTH",
                "AZURE_AUTHORITY_HOST",
                "AZURE_TENANT_ID",
                "AZURE_CLIENT_ID",
                "AZURE_CLIENT_SECRET",
                ADMIN_KEY_VARIABLE,
            ]
        );
        let plain_http = client_environment(&connection(None));
        assert!(plain_http
            .iter()
            .all(|(name, _)| *name != "ACTLOG_CMK_CA_FILE"));
    }

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
