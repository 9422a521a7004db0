//! The emulator as users start it: `actlog-cmk emulator` as its own process,
//! announcing itself with one JSON line, reachable over HTTPS with the CA it wrote.

use crate::support;

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn standalone_emulator_prints_its_connection_and_serves_https() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    let mut child = Command::new(env!("CARGO_BIN_EXE_actlog-cmk"))
        .args(["emulator", "--port", "0", "--ca-out"])
        .arg(&ca)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the emulator");
    let stdout = child.stdout.take().unwrap();
    let guard = Killed(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let ready: Value = serde_json::from_str(&line).expect("one JSON line on stdout");
    for field in [
        "endpoint",
        "ca_file",
        "tenant_id",
        "client_id",
        "client_secret",
        "admin_key",
    ] {
        assert!(ready.get(field).is_some(), "{field} missing from {line}");
    }
    let endpoint = ready["endpoint"].as_str().unwrap();
    assert!(
        endpoint.starts_with("https://127.0.0.1:"),
        "binds to loopback over HTTPS: {endpoint}"
    );
    assert_eq!(ready["ca_file"].as_str().unwrap(), ca.to_str().unwrap());

    let client = support::https_client(&std::fs::read_to_string(&ca).unwrap());
    let token: Value = client
        .post(format!(
            "{endpoint}/{}/oauth2/v2.0/token",
            ready["tenant_id"].as_str().unwrap()
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", ready["client_id"].as_str().unwrap()),
            ("client_secret", ready["client_secret"].as_str().unwrap()),
            ("scope", "https://management.azure.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = token["access_token"].as_str().expect("a token");
    let list = client
        .get(format!("{endpoint}/subscriptions?api-version=2022-12-01"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 200);

    // A client that does not trust the emulator's CA cannot talk to it.
    let untrusting = reqwest::Client::builder().build().unwrap();
    assert!(untrusting
        .get(format!("{endpoint}/metadata/endpoints"))
        .send()
        .await
        .is_err());
    drop(guard);
}

/// Starts `actlog-cmk emulator` with `args` (and `--port 0`), its stdout to read.
fn spawn_emulator(args: &[&str]) -> (Killed, BufReader<std::process::ChildStdout>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_actlog-cmk"))
        .arg("emulator")
        .args(["--port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the emulator");
    let stdout = BufReader::new(child.stdout.take().unwrap());
    (Killed(child), stdout)
}

/// `--bind 0.0.0.0` listens everywhere but reports an address a client can
/// connect to, one the certificate covers; `--hostname` names another.
#[tokio::test]
async fn an_emulator_bound_to_every_address_reports_one_a_client_can_reach() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    let ca_arg = ca.to_str().unwrap();

    let (guard, mut stdout) = spawn_emulator(&["--bind", "0.0.0.0", "--ca-out", ca_arg]);
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let ready: Value = serde_json::from_str(&line).expect("one JSON line on stdout");
    let endpoint = ready["endpoint"].as_str().unwrap();
    assert!(
        endpoint.starts_with("https://127.0.0.1:"),
        "an unspecified bind is reported as loopback: {endpoint}"
    );
    assert_eq!(ready["authority_host"].as_str(), Some(endpoint));
    let client = support::https_client(&std::fs::read_to_string(&ca).unwrap());
    let answer = client
        .get(format!("{endpoint}/metadata/endpoints"))
        .send()
        .await
        .expect("the reported endpoint is reachable and its certificate verifies");
    assert_eq!(answer.status(), 200);
    drop(guard);

    let (guard, mut stdout) = spawn_emulator(&[
        "--bind",
        "0.0.0.0",
        "--hostname",
        "emulator.actlog-cmk.test",
        "--ca-out",
        ca_arg,
    ]);
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let ready: Value = serde_json::from_str(&line).expect("one JSON line on stdout");
    let endpoint = ready["endpoint"].as_str().unwrap();
    let port: u16 = endpoint
        .strip_prefix("https://emulator.actlog-cmk.test:")
        .unwrap_or_else(|| panic!("the endpoint names the host clients use: {endpoint}"))
        .parse()
        .unwrap();
    // The name resolves to loopback for this client only: no DNS, no other host.
    let ca_pem = std::fs::read_to_string(&ca).unwrap();
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap())
        .resolve(
            "emulator.actlog-cmk.test",
            std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        )
        .no_proxy()
        .build()
        .unwrap();
    let answer = client
        .get(format!("{endpoint}/metadata/endpoints"))
        .send()
        .await
        .expect("the certificate covers the name given with --hostname");
    assert_eq!(answer.status(), 200);
    drop(guard);
}

/// `--print-env` prints the shell lines a client needs; with exactly those
/// variables the admin API answers and the tool signs in and audits.
#[tokio::test]
async fn print_env_prints_the_exports_a_client_and_the_admin_api_need() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    let (guard, mut stdout) = spawn_emulator(&[
        "--bind",
        "0.0.0.0",
        "--print-env",
        "--ca-out",
        ca.to_str().unwrap(),
    ]);
    let mut exports = Vec::new();
    while exports.len() < 8 {
        let mut line = String::new();
        assert_ne!(
            stdout.read_line(&mut line).unwrap(),
            0,
            "stdout ended early"
        );
        let (name, value) = line
            .trim_end()
            .strip_prefix("export ")
            .and_then(|rest| rest.split_once('='))
            .unwrap_or_else(|| panic!("an export line: {line}"));
        let value = value
            .strip_prefix('\'')
            .and_then(|v| v.strip_suffix('\''))
            .unwrap_or_else(|| panic!("a single-quoted value: {line}"));
        exports.push((name.to_string(), value.to_string()));
    }
    let var = |name: &str| {
        exports
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{name} missing from {exports:?}"))
    };
    let endpoint = var("ACTLOG_CMK_ARM_ENDPOINT");
    assert!(endpoint.starts_with("https://127.0.0.1:"), "{endpoint}");
    assert_eq!(var("AZURE_AUTHORITY_HOST"), endpoint);
    assert_eq!(var("ACTLOG_CMK_CA_FILE"), ca.to_str().unwrap());
    assert_eq!(var("ACTLOG_CMK_AUTH"), "environment");
    for name in ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"] {
        assert!(!var(name).is_empty(), "{name} is empty");
    }

    // The admin key works: add a subscription for the tool to find.
    let subscription = "5b7e3a1c-1111-4a4a-8b8b-000000000001";
    let client = support::https_client(&std::fs::read_to_string(&ca).unwrap());
    let added = client
        .put(format!("{endpoint}/_emulator/subscriptions/{subscription}"))
        .header("x-emulator-key", var("ACTLOG_CMK_EMULATOR_ADMIN_KEY"))
        .json(&serde_json::json!({"displayName": "print-env", "state": "Enabled"}))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 200);

    // The tool, given only the printed variables, signs in and reads the subscription.
    let mut audit = Command::new(env!("CARGO_BIN_EXE_actlog-cmk"));
    for (name, _) in std::env::vars() {
        if name.starts_with("AZURE_")
            || name.starts_with("ACTLOG_CMK_")
            || name == "IDENTITY_ENDPOINT"
            || name == "MSI_ENDPOINT"
        {
            audit.env_remove(name);
        }
    }
    audit
        .envs(exports.iter().map(|(n, v)| (n, v)))
        .env("NO_COLOR", "1")
        .args(["audit", "-o", "json"]);
    let output = tokio::task::spawn_blocking(move || audit.output())
        .await
        .unwrap()
        .expect("the tool runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "audit with the printed variables: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(subscription), "{stdout}");
    drop(guard);
}
