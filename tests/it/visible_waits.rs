//! Waits are visible (issue 15 item 2): while apply waits for a grant to
//! reach Azure Storage (the emulator's `grantPropagationMs`), the account's
//! progress bar says what it waits for and for how long out of how long;
//! without a terminal a line says so, again at least every interval
//! (`ACTLOG_CMK_WAIT_LINE_SECS`, shortened here from 30 s to 1 s).

use crate::support;

use serde_json::json;
use support::cli::Run;
use support::*;

/// An estate with one account to remediate.
async fn slow_grants() -> (Env, String) {
    let env = Env::start().await;
    env.add_subscription(SUB1, "prod").await;
    let app = env.storage_account(SUB1, "rg-app", "stapp").await;
    env.diagnostic_setting(SUB1, "to-app", &app, true).await;
    (env, app)
}

async fn slow(env: &Env, ms: u64) -> support::cli::Tool {
    let tool = env.tool();
    // The test profile first, then the slow grants on top of it.
    tool.ready().await;
    env.patch_settings(json!({"grantPropagationMs": ms})).await;
    tool
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_terminal_a_wait_is_told_in_lines_while_it_lasts() {
    let (env, app) = slow_grants().await;
    let tool = slow(&env, 4000).await;
    let mut cmd = tool.command(&["apply", "--yes"]);
    cmd.env("ACTLOG_CMK_WAIT_LINE_SECS", "1");
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    let run = Run::from_output(&out);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let waits: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| {
            l.starts_with(&format!(
                "{app}: waiting for the grant to reach Azure Storage ("
            ))
        })
        .collect();
    assert!(
        waits.len() >= 2,
        "a line at least every second: {}",
        run.stderr
    );
    assert!(waits.iter().all(|l| l.ends_with(" / 10m)")), "{waits:?}");
    assert_ne!(waits.first(), waits.last(), "the time goes on: {waits:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_a_wait_line_is_not_repeated_within_30_seconds() {
    let (env, app) = slow_grants().await;
    let tool = slow(&env, 3000).await;
    let run = tool.run(&["apply", "--yes"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let waits = run
        .stderr
        .lines()
        .filter(|l| l.starts_with(&format!("{app}: waiting for the grant")))
        .count();
    assert_eq!(waits, 1, "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal_the_bar_says_what_it_waits_for() {
    let (env, _) = slow_grants().await;
    let tool = slow(&env, 4000).await;
    let run = support::pty::run_on_a_terminal(tool.command(&["apply", "--yes"])).await;
    assert_eq!(run.code, 0, "{}", run.output);
    assert!(
        run.output
            .contains("waiting for the grant to reach Azure Storage ("),
        "{}",
        run.output
    );
    assert!(run.output.contains("s / 10m)"), "{}", run.output);
}

/// Throttling is a wait too: Azure's `Retry-After` is shown while it lasts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_write_is_a_visible_wait() {
    let (env, app) = slow_grants().await;
    let tool = env.tool();
    tool.ready().await;
    // One write, then one every 3 s: apply's writes are throttled.
    env.patch_settings(
        json!({"throttling": {"enabled": true, "writes": {"capacity": 1.0, "refillPerSec": 0.34}}}),
    )
    .await;
    let mut cmd = tool.command(&["apply", "--yes"]);
    cmd.env("ACTLOG_CMK_WAIT_LINE_SECS", "1");
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    let run = Run::from_output(&out);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "{app}: waiting for Azure's throttling (429) to pass ("
        )),
        "{}",
        run.stderr
    );
}

/// A new vault registering its DNS is a visible wait, named after the vault.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vault_registering_its_dns_is_a_visible_wait() {
    let (env, app) = slow_grants().await;
    let tool = env.tool();
    tool.ready().await;
    env.patch_settings(json!({"vaultProvisioningMs": 3000}))
        .await;
    let mut cmd = tool.command(&["apply", "--yes"]);
    cmd.env("ACTLOG_CMK_WAIT_LINE_SECS", "1");
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    let run = Run::from_output(&out);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with(&format!("{app}: waiting for key vault ")))
        .unwrap_or_else(|| panic!("no vault wait: {}", run.stderr));
    assert!(line.contains("to be provisioned (DNS) ("), "{line}");
    assert!(line.ends_with(" / 10m)"), "{line}");
}
