//! Apply under field conditions, the real binary against the emulator: an
//! incomplete audit beneath it, a storage switch refused for a reason that
//! waiting cannot fix (a vault firewall, a disabled key), and an attached
//! identity that no longer exists.

mod support;

use support::*;

/// Apply carries out what it could plan, but an audit that could not read a
/// subscription is not "all done": the summary counts it and apply exits 3,
/// also from a saved plan.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_counts_what_could_not_be_read_and_exits_3() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "prod").await;
    env.add_subscription(SUB2, "dev").await;
    let app = env.storage_account(SUB1, "rg-app", "stapp").await;
    env.diagnostic_setting(SUB1, "to-app", &app, true).await;
    env.deny(&[&format!(
        "/subscriptions/{SUB2}/providers/Microsoft.Insights"
    )])
    .await;
    let tool = env.tool();

    let run = tool.run(&["apply", "--yes"]).await;
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("1 done, 0 failed, 0 refused, 0 skipped, 1 NOT READ."),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!("  - /subscriptions/{SUB2}: ")),
        "{}",
        run.stdout
    );

    // Nothing left to change, and still not all done.
    let again = tool.run(&["apply", "--yes", "-o", "json"]).await;
    assert_eq!(again.code, 3, "{}\n{}", again.stdout, again.stderr);
    let report = again.json();
    assert_eq!(report["summary"]["unread"], 1, "{report:#}");
    assert_eq!(report["unread"][0]["id"], format!("/subscriptions/{SUB2}"));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.json");
    let file = file.to_str().unwrap();
    let plan = tool.run(&["plan", "--out", file]).await;
    assert_eq!(plan.code, 3, "{}", plan.stderr);
    let saved = tool.run(&["apply", file]).await;
    assert_eq!(saved.code, 3, "{}\n{}", saved.stdout, saved.stderr);
    assert!(saved.stdout.contains("1 NOT READ"), "{}", saved.stdout);

    // With the subscription readable again, the same estate is all done.
    let done = tool.run(&["apply", "--yes", "-s", SUB1]).await;
    assert_eq!(done.code, 0, "{}\n{}", done.stdout, done.stderr);
}
