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
