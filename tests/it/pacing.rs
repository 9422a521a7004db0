//! Pacing (issue 19): the tool sends at the rate ARM's bucket grants, learned
//! from the remaining counts it answers with, instead of bouncing off it.
//! Forty destination accounts in one subscription whose read bucket holds
//! four tokens: an audit sent as fast as it can read them draws 429s for
//! most of them; paced, at most one answer in twenty is a 429. A count, not a
//! timing.

use crate::support;

use reqwest::Method;
use serde_json::json;
use support::*;

const ACCOUNTS: usize = 40;
/// A subscription has at most five diagnostic settings.
const SETTINGS_PER_SUBSCRIPTION: usize = 5;

fn source_subscription(i: usize) -> String {
    format!("9ace0000-0000-4000-8000-0000000000{i:02}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audit_stays_under_a_small_read_bucket_with_few_429s() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "logging").await;
    let sources = ACCOUNTS.div_ceil(SETTINGS_PER_SUBSCRIPTION);
    for i in 0..sources {
        env.add_subscription(&source_subscription(i), &format!("source-{i}"))
            .await;
    }
    for n in 0..ACCOUNTS {
        let account = env
            .storage_account(SUB1, "rg-logs", &format!("stpaced{n:03}"))
            .await;
        let source = source_subscription(n / SETTINGS_PER_SUBSCRIPTION);
        env.diagnostic_setting(&source, &format!("to-{n}"), &account, true)
            .await;
    }
    // Built without throttling; the audit meets a bucket far smaller than its
    // parallelism (Azure's shape, scaled down: a burst and a steady refill).
    env.patch_settings(json!({"throttling": {
        "enabled": true,
        "reads": {"capacity": 4.0, "refillPerSec": 8.0},
        "writes": {"capacity": 4.0, "refillPerSec": 8.0},
    }}))
    .await;
    env.clear_requests().await;

    let run = env.tool().run(&["audit", "-o", "json"]).await;
    assert_eq!(
        run.code, 2,
        "every account is on Microsoft-managed keys: {}",
        run.stderr
    );
    let report = run.json();
    assert_eq!(report["summary"]["destinations"], ACCOUNTS, "{report}");
    assert_eq!(report["summary"]["incomplete"], false, "{report}");

    let requests = env.arm_requests().await;
    let in_logging = requests
        .iter()
        .filter(|r| {
            r["path"].as_str().is_some_and(|p| {
                p.to_ascii_lowercase()
                    .starts_with(&format!("/subscriptions/{SUB1}/"))
            })
        })
        .filter(|r| r["status"] != 429)
        .count();
    assert!(
        in_logging > 4 * 4,
        "the audit must read far more than the bucket holds there: {in_logging} reads"
    );
    let throttled = requests.iter().filter(|r| r["status"] == 429).count();
    assert!(
        throttled * 20 <= requests.len(),
        "{throttled} of {} ARM answers were 429s: more than 5 %",
        requests.len()
    );
}

#[tokio::test]
async fn tenant_level_calls_say_what_is_left_of_the_tenants_bucket() {
    let env = Env::start_with(Default::default()).await;
    env.add_subscription(SUB1, "one").await;
    let list = env
        .arm(Method::GET, "/subscriptions?api-version=2022-12-01", None)
        .await;
    assert!(list.status.is_success(), "{:?}", list.body);
    assert!(
        list.header("x-ms-ratelimit-remaining-tenant-reads")
            .is_some(),
        "{:?}",
        list.headers
    );
    assert!(list
        .header("x-ms-ratelimit-remaining-subscription-reads")
        .is_none());
    let one = env
        .arm(
            Method::GET,
            &format!("/subscriptions/{SUB1}?api-version=2022-12-01"),
            None,
        )
        .await;
    assert!(one
        .header("x-ms-ratelimit-remaining-subscription-reads")
        .is_some());
}
