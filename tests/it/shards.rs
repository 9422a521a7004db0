//! `audit --shard K/N` and `report merge`, the real binary against one
//! emulator estate of twelve subscriptions: the shards cover every
//! subscription exactly once, their merge is the unsharded run's report, and
//! reports that do not belong together are refused.

use crate::support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use support::estate::*;
use support::schemas::assert_matches_project_schema;
use support::*;

/// Twelve subscriptions; the test checks that each shard of three gets some.
fn subscription_ids() -> Vec<String> {
    (1..=12)
        .map(|i| format!("5ad00000-0000-4000-8000-0000000000{i:02}"))
        .collect()
}

/// A central account fed from every subscription (one destination that every
/// shard sees), a CMK account, an account of its own per third subscription,
/// a legacy log profile and a setting to an account that does not exist.
async fn estate(env: &Env) -> Vec<String> {
    let subs = subscription_ids();
    for (i, sub) in subs.iter().enumerate() {
        env.add_subscription(sub, &format!("shard-test-{i}")).await;
    }
    let central = env.storage_account(&subs[0], "rg-logs", "stcentral").await;
    let good = env
        .cmk_account(&subs[1], "rg-app", "stgood", "kv-shard-good", false)
        .await;
    for (i, sub) in subs.iter().enumerate() {
        env.diagnostic_setting(sub, "to-central", &central, true)
            .await;
        if i % 3 == 0 {
            let own = env
                .storage_account(sub, "rg-own", &format!("stown{i:02}"))
                .await;
            env.diagnostic_setting(sub, "to-own", &own, true).await;
        }
    }
    env.diagnostic_setting(&subs[5], "to-good", &good.account_id, true)
        .await;
    env.diagnostic_setting(&subs[8], "to-good", &good.account_id, true)
        .await;
    let legacy = env.storage_account(&subs[4], "rg-legacy", "stlegacy").await;
    env.log_profile(&subs[4], "default", &legacy).await;
    env.diagnostic_setting(
        &subs[7],
        "to-gone",
        &account_id(&subs[7], "rg-gone", "stgone"),
        true,
    )
    .await;
    subs
}

fn subscriptions_of(report: &Value) -> Vec<String> {
    report["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["subscription_id"].as_str().unwrap().to_string())
        .collect()
}

/// The fields that differ between two runs over the same estate: when the
/// report was made. Nothing else may.
fn without_run_specific_fields(mut report: Value) -> Value {
    report.as_object_mut().unwrap().remove("generated_at");
    report
}

fn path_in(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_cover_every_subscription_once_and_merge_into_the_unsharded_report() {
    let env = Env::start().await;
    let subs = estate(&env).await;
    let tool = env.tool();
    let dir = tempfile::tempdir().unwrap();

    let whole = tool.run(&["audit", "-o", "json"]).await;
    assert_eq!(whole.code, 2, "{}", whole.stderr);
    let whole = whole.json();
    assert_eq!(
        subscriptions_of(&whole)
            .into_iter()
            .collect::<BTreeSet<_>>(),
        subs.iter().cloned().collect::<BTreeSet<_>>()
    );
    assert!(whole.get("shard").is_none(), "{whole}");

    let mut files = Vec::new();
    let mut covered: Vec<String> = Vec::new();
    for k in 1..=3 {
        let file = path_in(dir.path(), &format!("audit-{k}.json"));
        let shard = format!("{k}/3");
        let run = tool
            .run(&[
                "audit",
                "--shard",
                &shard,
                "-o",
                "json",
                "--output-file",
                file.to_str().unwrap(),
            ])
            .await;
        assert!([0, 2].contains(&run.code), "{shard}: {}", run.stderr);
        let report = read(&file);
        assert_matches_project_schema("audit.schema.json", &report, &shard);
        assert_eq!(report["shard"], serde_json::json!({"index": k, "count": 3}));
        assert_eq!(report["tenant_id"], whole["tenant_id"]);
        let mine = subscriptions_of(&report);
        assert!(!mine.is_empty(), "shard {shard} is empty: pick other ids");
        covered.extend(mine);
        files.push(file);
    }
    // Pairwise disjoint, and together every subscription of the whole run.
    let unique: BTreeSet<&String> = covered.iter().collect();
    assert_eq!(
        unique.len(),
        covered.len(),
        "a subscription is in two shards"
    );
    assert_eq!(
        unique.into_iter().cloned().collect::<BTreeSet<_>>(),
        subscriptions_of(&whole).into_iter().collect()
    );

    let mut args = vec!["report", "merge"];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    args.extend(["-o", "json"]);
    let merged = tool.run(&args).await;
    assert_eq!(merged.code, 2, "as the unsharded run: {}", merged.stderr);
    let merged = merged.json();
    assert_matches_project_schema("audit.schema.json", &merged, "merged");
    assert_eq!(
        without_run_specific_fields(merged),
        without_run_specific_fields(whole)
    );

    // Every renderer takes the merged report; the headers of a partial one say so.
    let mut partial = vec!["report", "merge"];
    partial.extend(files[..2].iter().map(|f| f.to_str().unwrap()));
    for format in ["text", "markdown", "sarif"] {
        let mut args = partial.clone();
        args.extend(["-o", format]);
        let run = tool.run(&args).await;
        assert_eq!(run.code, 3, "{format}: a partial merge is incomplete");
        assert!(run.stderr.contains("3/3"), "{}", run.stderr);
        if format != "sarif" {
            assert!(
                run.stdout.contains("partial: shard 3/3 missing"),
                "{format}: {}",
                run.stdout
            );
        }
    }
    let mut args = partial.clone();
    args.extend(["-o", "json"]);
    let json = tool.run(&args).await.json();
    assert_eq!(
        json["missing_shards"],
        serde_json::json!([{"index": 3, "count": 3}])
    );
    assert_eq!(json["summary"]["incomplete"], true);
    // A shard's own text report names its shard.
    let text = tool.run(&["audit", "--shard", "2/3"]).await;
    assert!(text.stdout.contains("(shard 2/3)"), "{}", text.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_that_do_not_belong_together_are_refused() {
    let env = Env::start().await;
    let subs = subscription_ids();
    for sub in &subs {
        env.add_subscription(sub, sub).await;
    }
    let tool = env.tool();
    let dir = tempfile::tempdir().unwrap();
    let shard = |k: &'static str| {
        let file = path_in(dir.path(), &format!("{}.json", k.replace('/', "-of-")));
        let tool = &tool;
        async move {
            let run = tool
                .run(&[
                    "audit",
                    "--shard",
                    k,
                    "-o",
                    "json",
                    "--output-file",
                    file.to_str().unwrap(),
                ])
                .await;
            assert_eq!(run.code, 0, "{}", run.stderr);
            file
        }
    };
    let one = shard("1/3").await;
    let two = shard("2/3").await;
    let half = shard("1/2").await;
    let merge = |files: Vec<String>| {
        let tool = &tool;
        async move {
            let mut args = vec!["report".to_string(), "merge".to_string()];
            args.extend(files);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let run = tool.run(&args).await;
            assert_eq!(run.code, 1, "{args:?} must be refused: {}", run.stdout);
            assert!(run.stdout.is_empty(), "{}", run.stdout);
            run.stderr
        }
    };
    let s = |p: &PathBuf| p.to_str().unwrap().to_string();

    // The same shard twice, and shards of different N, overlap.
    let twice = path_in(dir.path(), "copy.json");
    std::fs::copy(&one, &twice).unwrap();
    let e = merge(vec![s(&one), s(&twice)]).await;
    assert!(e.contains("both shard 1/3"), "{e}");
    let e = merge(vec![s(&one), s(&half)]).await;
    assert!(e.contains("shards overlap"), "{e}");

    // Another tenant's shard.
    let mut other = read(&two);
    other["tenant_id"] = Value::String("99999999-9999-9999-9999-999999999999".into());
    let foreign = path_in(dir.path(), "foreign.json");
    std::fs::write(&foreign, other.to_string()).unwrap();
    let e = merge(vec![s(&one), s(&foreign)]).await;
    assert!(e.contains("merge reports of one tenant"), "{e}");

    // Another tool version.
    let mut old = read(&two);
    old["tool_version"] = Value::String("0.0.1".into());
    let older = path_in(dir.path(), "older.json");
    std::fs::write(&older, old.to_string()).unwrap();
    let e = merge(vec![s(&one), s(&older)]).await;
    assert!(e.contains("merge reports of one version"), "{e}");

    // Not audit JSON: a text report, a SARIF log, an unsharded report.
    let text = path_in(dir.path(), "audit.txt");
    std::fs::write(&text, tool.run(&["audit"]).await.stdout).unwrap();
    let e = merge(vec![s(&one), s(&text)]).await;
    assert!(e.contains("is not an audit JSON report"), "{e}");
    let sarif = path_in(dir.path(), "audit.sarif");
    std::fs::write(&sarif, tool.run(&["audit", "-o", "sarif"]).await.stdout).unwrap();
    let e = merge(vec![s(&sarif)]).await;
    assert!(e.contains("is not an audit JSON report"), "{e}");
    let whole = path_in(dir.path(), "whole.json");
    std::fs::write(&whole, tool.run(&["audit", "-o", "json"]).await.stdout).unwrap();
    let e = merge(vec![s(&one), s(&whole)]).await;
    assert!(e.contains("is not a shard report"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_shards_are_refused_before_any_call() {
    let env = Env::start().await;
    let tool = env.tool();
    for bad in ["0/3", "4/3", "1/0", "x"] {
        let run = tool.run(&["audit", "--shard", bad]).await;
        assert_eq!(run.code, 1, "{bad}");
        assert!(run.stderr.contains("K/N"), "{bad}: {}", run.stderr);
    }
    assert!(env.arm_requests().await.is_empty());
}
