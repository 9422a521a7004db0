//! Microsoft's own clients drive the emulator unmodified (issue 18): the
//! Python SDK (azure-identity and the management packages at their default
//! api-versions) and Azure CLI, each pinned in a venv under target/clients/
//! that `.ci/install-clients.sh` builds (and keeps while its pins match).
//!
//! A machine that cannot build the venvs (no python3-venv, no PyPI) skips
//! each test in one loud line, unless `ACTLOG_CMK_REQUIRE_CLIENTS=1` (.ci/run
//! sets it after installing them), which makes that a failure.
//!
//! Loopback only: each client runs with `HTTPS_PROXY`/`HTTP_PROXY` set to a
//! closed loopback port and `NO_PROXY` naming loopback alone, so a request to
//! any other host (Entra's instance discovery, telemetry, IMDS at
//! 169.254.169.254) fails on the machine instead of leaving it.

use crate::support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::*;

/// Turns a skip into a failure (.ci/run sets it).
const REQUIRE_CLIENTS: &str = "ACTLOG_CMK_REQUIRE_CLIENTS";

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The venv's python for `client` (`sdk` or `az`), installed on first use, or
/// `None` after one loud line when it cannot be built here.
fn client_python(client: &str, test: &str) -> Option<PathBuf> {
    let output = Command::new("bash")
        .arg(repo().join(".ci/install-clients.sh"))
        .arg(client)
        .output();
    let failure = match &output {
        Ok(out) if out.status.success() => {
            let stdout = String::from_utf8_lossy(&out.stdout);
            let python = PathBuf::from(stdout.lines().last().unwrap_or_default().trim());
            if python.is_file() {
                return Some(python);
            }
            format!("install-clients.sh printed no python ({stdout})")
        }
        Ok(out) => String::from_utf8_lossy(&out.stderr).into_owned(),
        Err(e) => format!("bash did not run: {e}"),
    };
    let required = std::env::var_os(REQUIRE_CLIENTS).is_some_and(|v| !v.is_empty() && v != "0");
    assert!(
        !required,
        "the {client} client could not be installed and {REQUIRE_CLIENTS} is set: {failure}"
    );
    // Straight to the process's stderr: libtest captures `eprintln!` of a passing test.
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED clients::{test}: the {client} client could not be installed ({}); set {REQUIRE_CLIENTS}=1 to make this a failure",
        failure.lines().last().unwrap_or_default()
    );
    None
}

/// A client process: nothing of the test's own environment that could point
/// it elsewhere, the emulator's CA, and every non-loopback host unreachable.
pub(crate) fn client_command(program: &Path, ca_file: &Path, home: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("REQUESTS_CA_BUNDLE", ca_file)
        .env("SSL_CERT_FILE", ca_file)
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    cmd
}

/// Runs `cmd` without blocking the emulator's runtime.
pub(crate) async fn output_of(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .expect("the client runs")
}

/// The demo-like estate the clients read: an account exporting the activity
/// log (both sources), an identity, a purge-protected vault with a key.
pub(crate) struct Estate {
    pub account: String,
    pub principal: String,
}

pub(crate) const GROUP: &str = "rg-clients";
pub(crate) const ACCOUNT: &str = "stclientlogs";
pub(crate) const VAULT: &str = "kv-clients";
pub(crate) const IDENTITY: &str = "id-clients";

pub(crate) async fn estate(env: &Env) -> Estate {
    env.add_subscription(SUB1, "clients").await;
    let account = env.storage_account(SUB1, GROUP, ACCOUNT).await;
    env.diagnostic_setting(SUB1, "export", &account, true).await;
    env.log_profile(SUB1, "default", &account).await;
    let (_, principal) = env.identity(SUB1, GROUP, IDENTITY).await;
    let vault = env.vault(SUB1, GROUP, VAULT, serde_json::json!({})).await;
    env.key(
        &vault,
        "cmk",
        serde_json::json!({"kty": "RSA", "keySize": 3072}),
    )
    .await;
    Estate { account, principal }
}

/// The versions each package sends by default (its operations' own), which
/// the emulator must serve: checked against its request log, so a package
/// upgrade that moves a default shows up here.
const SDK_VERSIONS: &[&str] = &[
    "2022-12-01",         // azure-mgmt-resource-subscriptions 1.0
    "2025-04-01",         // azure-mgmt-resource 26
    "2026-09-01",         // azure-mgmt-storage 25.3
    "2026-05-15",         // azure-mgmt-keyvault 14.1
    "2015-11-01",         // its vaults.list (Resources_List)
    "2024-11-30",         // azure-mgmt-msi 7.1
    "2016-03-01",         // azure-mgmt-monitor 7.0 (log profiles)
    "2021-05-01-preview", // diagnostic settings through the client's pipeline
];

#[tokio::test]
async fn the_python_sdk_reads_the_estate_at_its_default_versions() {
    let Some(python) = client_python(
        "sdk",
        "the_python_sdk_reads_the_estate_at_its_default_versions",
    ) else {
        return;
    };
    let env = Env::start_with(fast_settings()).await;
    let estate = estate(&env).await;
    env.clear_requests().await;
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("emulator-ca.pem");
    std::fs::write(&ca_file, &env.emu.ca_pem).unwrap();
    let c = &env.emu.connection;
    let mut cmd = client_command(&python, &ca_file, dir.path());
    cmd.arg(repo().join("tests/clients/sdk_estate.py"))
        .env("EMULATOR_ENDPOINT", &c.endpoint)
        .env("EMULATOR_SUBSCRIPTION", SUB1)
        .env("EMULATOR_RESOURCE_GROUP", GROUP)
        .env("EMULATOR_VAULT", VAULT)
        .env("EMULATOR_IDENTITY", IDENTITY)
        .env("AZURE_TENANT_ID", &c.tenant_id)
        .env("AZURE_CLIENT_ID", &c.client_id)
        .env("AZURE_CLIENT_SECRET", &c.client_secret);
    let output = output_of(cmd).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "sdk_estate.py failed:\n{stderr}");
    assert!(!stdout.contains(&c.client_secret) && !stderr.contains(&c.client_secret));
    let read: Value = serde_json::from_str(&stdout).expect("one JSON object");

    assert_eq!(read["tenants"], serde_json::json!([c.tenant_id]));
    assert_eq!(read["subscriptions"], serde_json::json!([SUB1]));
    assert!(read["locations"]
        .as_array()
        .unwrap()
        .contains(&"westeurope".into()));
    assert_eq!(read["resource_groups"], serde_json::json!([GROUP]));
    assert_eq!(
        read["resources"],
        serde_json::json!([IDENTITY, VAULT, ACCOUNT])
    );
    assert_eq!(read["accounts"][ACCOUNT], "Microsoft.Storage");
    assert_eq!(read["vaults_listed"], serde_json::json!([VAULT]));
    assert_eq!(read["vault_purge_protection"], true);
    assert_eq!(read["keys"], serde_json::json!(["cmk"]));
    assert_eq!(read["identity_principal"], estate.principal.as_str());
    let by_id = |list: &Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_ascii_lowercase())
            .collect()
    };
    let account = estate.account.to_ascii_lowercase();
    assert_eq!(by_id(&read["log_profiles"]), std::slice::from_ref(&account));
    assert_eq!(by_id(&read["diagnostic_settings"]), [account]);

    // Every call answered, each at a version the packages send by default.
    let requests = env.arm_requests().await;
    assert!(!requests.is_empty());
    for r in &requests {
        let status = r["status"].as_u64().unwrap();
        assert!(status < 400, "{r}");
        let version = r["apiVersion"].as_str().unwrap_or_default();
        assert!(SDK_VERSIONS.contains(&version), "unexpected version: {r}");
    }
    for version in SDK_VERSIONS {
        assert!(
            requests.iter().any(|r| r["apiVersion"] == *version),
            "no request at {version}"
        );
    }
}

/// Azure CLI 2.91, signed in by the documented recipe, runs the rule's audit
/// commands and its ARM remediation; then the tool's audit finds the account
/// compliant. The key is created through ARM (`az rest`): Key Vault's data
/// plane and Microsoft Graph are not emulated.
#[tokio::test]
async fn azure_cli_audits_and_remediates_then_the_audit_agrees() {
    let Some(python) = client_python(
        "az",
        "azure_cli_audits_and_remediates_then_the_audit_agrees",
    ) else {
        return;
    };
    let az = python.with_file_name("az");
    let env = Env::start_with(fast_settings()).await;
    env.add_subscription(SUB1, "clients").await;
    let account = env.storage_account(SUB1, GROUP, ACCOUNT).await;
    env.diagnostic_setting(SUB1, "export", &account, true).await;
    env.log_profile(SUB1, "default", &account).await;
    let tool = env.tool();
    let before = tool.run(&["audit", "-o", "json"]).await;
    assert_eq!(before.code, 2, "{}", before.stderr);
    env.clear_requests().await;

    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("emulator-ca.pem");
    std::fs::write(&ca_file, &env.emu.ca_pem).unwrap();
    let config = dir.path().join("azure-config");
    std::fs::create_dir(&config).unwrap();
    let c = &env.emu.connection;
    let mut cmd = client_command(Path::new("bash"), &ca_file, dir.path());
    cmd.arg(repo().join("tests/clients/az_rule.sh"))
        .env("AZ", &az)
        .env("AZURE_CONFIG_DIR", &config)
        .env("EMULATOR_ENDPOINT", &c.endpoint)
        .env("AZURE_TENANT_ID", &c.tenant_id)
        .env("AZURE_CLIENT_ID", &c.client_id)
        .env("AZURE_CLIENT_SECRET", &c.client_secret)
        .env("SUB", SUB1)
        .env("GROUP", GROUP)
        .env("ACCOUNT", ACCOUNT)
        .env("VAULT", VAULT)
        .env("IDENTITY", IDENTITY);
    let output = output_of(cmd).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "az_rule.sh failed:\n{stderr}\n{stdout}"
    );
    assert!(!stdout.contains(&c.client_secret) && !stderr.contains(&c.client_secret));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "West Europe",
            GROUP,
            account.as_str(),
            account.as_str(),
            "Microsoft.Storage",
            "Microsoft.Keyvault",
        ],
        "{stderr}"
    );

    // az asked only for what it would ask Azure, at its own versions, and
    // nothing was refused for its version.
    let requests = env.arm_requests().await;
    for r in &requests {
        assert_ne!(r["errorCode"], "NoRegisteredProviderFound", "{r}");
        assert_ne!(r["errorCode"], "InvalidApiVersionParameter", "{r}");
    }
    for version in [
        "2017-05-01-preview",
        "2025-08-01",
        "2026-02-01",
        "2025-05-31-preview",
    ] {
        assert!(
            requests.iter().any(|r| r["apiVersion"] == version),
            "az sent nothing at {version}"
        );
    }

    let after = tool.run(&["audit", "-o", "json"]).await;
    assert_eq!(after.code, 0, "{}\n{}", after.stdout, after.stderr);
    let report = after.json();
    let destinations = report["destinations"].as_array().unwrap();
    assert_eq!(destinations.len(), 1, "{report}");
    assert_eq!(destinations[0]["status"], "compliant", "{report}");
    assert_eq!(destinations[0]["encryption"]["key_name"], "cmk", "{report}");
}

/// docs/emulator.md's "Drive it with Azure CLI" shows what the test runs:
/// every az command it names is one tests/clients/az_rule.sh runs.
#[test]
fn the_documented_az_commands_are_the_tested_ones() {
    let docs = std::fs::read_to_string(repo().join("docs/emulator.md")).unwrap();
    let script = std::fs::read_to_string(repo().join("tests/clients/az_rule.sh")).unwrap();
    let section = docs
        .split("## Drive it with Azure CLI")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("the section");
    let commands: Vec<String> = section
        .lines()
        .filter(|l| l.starts_with("az "))
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .collect();
    assert!(commands.len() >= 10, "{commands:?}");
    for command in commands {
        assert!(
            script.contains(&command),
            "`{command}` is documented but not tested"
        );
    }
}
