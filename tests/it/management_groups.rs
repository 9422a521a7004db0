//! Management groups, end to end: the emulator's hierarchy (root group,
//! child groups, subscriptions under them; paged lists; access inherited
//! from the groups above) and its groups' diagnostic settings (checked as
//! subscription settings are); the audit's sources of kind
//! `management_group_diagnostic_setting`, what an unreadable list or group
//! does to it, and plan, apply and rollback of an account that only a
//! management group exports to.

use crate::support;

use actlog_cmk::demo::requests::{self, MANAGEMENT_GROUP_API};
use reqwest::Method;
use serde_json::{json, Value};
use support::estate::*;
use support::reports::{account, destination};
use support::schemas::assert_matches_project_schema;
use support::*;

const MG: &str = "/providers/Microsoft.Management/managementGroups";

fn settings_path(group: &str, name: &str) -> String {
    format!("{MG}/{group}/providers/Microsoft.Insights/diagnosticSettings/{name}?api-version=2020-01-01-preview")
}

async fn send(env: &Env, request: requests::Request) -> Answer {
    env.arm(request.method, &request.path, request.body).await
}

/// platform (under the root) > logging; SUB1 moved under logging, SUB2 left
/// under the root.
async fn hierarchy(env: &Env) {
    env.add_subscription(SUB1, "prod").await;
    env.add_subscription(SUB2, "dev").await;
    env.management_group("platform", None).await;
    env.management_group("logging", Some("platform")).await;
    env.move_subscription("logging", SUB1).await;
}

fn names(list: &Value) -> Vec<String> {
    list["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_emulator_serves_a_hierarchy_with_subscriptions_under_it() {
    let env = Env::start().await;
    let tenant = env.emu.connection.tenant_id.clone();
    // No hierarchy yet: an empty list, as a tenant without groups answers.
    let empty = env
        .arm(Method::GET, &format!("{MG}?{MANAGEMENT_GROUP_API}"), None)
        .await;
    assert_eq!(empty.body, json!({"value": []}));
    // A refused first create brings no root group either.
    let orphan = send(&env, requests::management_group("x", "x", Some("nope"))).await;
    assert_eq!(orphan.code(), "ParentNotFound");
    let still_empty = env
        .arm(Method::GET, &format!("{MG}?{MANAGEMENT_GROUP_API}"), None)
        .await;
    assert_eq!(still_empty.body, json!({"value": []}));
    hierarchy(&env).await;

    // Pages of one, linked by @nextLink (the spec's name) with $skiptoken.
    env.patch_settings(json!({"managementGroupPageSize": 1}))
        .await;
    let mut seen = Vec::new();
    let mut next = Some(format!("{MG}?{MANAGEMENT_GROUP_API}"));
    while let Some(path) = next {
        let page = env.arm(Method::GET, &path, None).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        seen.extend(names(&page.body));
        next = page.body["@nextLink"].as_str().map(str::to_string);
        assert!(page.body.get("nextLink").is_none());
    }
    let mut expected = vec!["logging".to_string(), "platform".into(), tenant.clone()];
    expected.sort();
    seen.sort();
    assert_eq!(seen, expected);

    let root = env
        .arm(
            Method::GET,
            &format!("{MG}/{tenant}?{MANAGEMENT_GROUP_API}&$expand=children&$recurse=true"),
            None,
        )
        .await;
    assert_eq!(root.status, 200, "{:?}", root.body);
    assert_eq!(root.body["properties"]["displayName"], "Tenant Root Group");
    let children = &root.body["properties"]["children"];
    assert_eq!(children[0]["name"], "platform");
    assert_eq!(children[0]["children"][0]["name"], "logging");
    assert_eq!(children[0]["children"][0]["children"][0]["name"], SUB1);
    assert_eq!(
        children[0]["children"][0]["children"][0]["type"],
        "/subscriptions"
    );
    assert_eq!(children[1]["name"], SUB2);

    let logging = env
        .arm(
            Method::GET,
            &format!("{MG}/LOGGING?{MANAGEMENT_GROUP_API}"),
            None,
        )
        .await;
    assert_eq!(
        logging.body["properties"]["details"]["parent"]["name"],
        "platform"
    );
    assert!(logging.body["properties"].get("children").is_none());

    let missing = env
        .arm(
            Method::GET,
            &format!("{MG}/nope?{MANAGEMENT_GROUP_API}"),
            None,
        )
        .await;
    assert_eq!((missing.status.as_u16(), missing.code()), (404, "NotFound"));
    // A group cannot move under its own descendant, nor be named badly.
    let cycle = send(
        &env,
        requests::management_group("platform", "p", Some("logging")),
    )
    .await;
    assert_eq!(
        (cycle.status.as_u16(), cycle.code()),
        (400, "InvalidParent")
    );
    let bad = send(&env, requests::management_group("ends.", "x", None)).await;
    assert_eq!(bad.code(), "InvalidManagementGroupId");
    let orphan = send(&env, requests::management_group("x", "x", Some("nope"))).await;
    assert_eq!(orphan.code(), "ParentNotFound");
}

#[tokio::test]
async fn group_settings_are_checked_as_subscription_settings_are() {
    let env = Env::start().await;
    hierarchy(&env).await;
    let logs = env.storage_account(SUB1, "rg-logs", "stmglogs").await;
    let put = |name: &str, body: Value| {
        let path = settings_path("platform", name);
        let env = &env;
        async move { env.arm(Method::PUT, &path, Some(body)).await }
    };
    let logs_body = |categories: &[&str]| {
        let logs: Vec<Value> = categories
            .iter()
            .map(|c| json!({"category": c, "enabled": true}))
            .collect();
        logs
    };
    let made = put(
        "to-logs",
        json!({"properties": {"storageAccountId": logs, "logs": logs_body(&["Administrative", "Policy"])}}),
    )
    .await;
    assert_eq!(made.status, 200, "{:?}", made.body);
    assert_eq!(made.body["properties"]["storageAccountId"], logs.as_str());
    assert_eq!(
        made.body["id"],
        "providers/Microsoft.Management/managementGroups/platform/providers/microsoft.insights/diagnosticSettings/to-logs"
    );
    for (body, code, text) in [
        (
            json!({"properties": {"storageAccountId": "logs01", "logs": logs_body(&["Administrative"])}}),
            "LinkedInvalidPropertyId",
            "storage account",
        ),
        // A management group's activity log has no Security category.
        (
            json!({"properties": {"storageAccountId": logs, "logs": logs_body(&["Security"])}}),
            "BadRequest",
            "Category 'Security' is not supported.",
        ),
        (
            json!({"properties": {"logs": logs_body(&["Administrative"])}}),
            "BadRequest",
            "At least one",
        ),
        // An account that does not exist is no destination.
        (
            json!({"properties": {"storageAccountId": account_id(SUB1, "rg-logs", "stnowhere"), "logs": logs_body(&["Administrative"])}}),
            "StorageAccountNotAccessible",
            "is not accessible yet",
        ),
        // The same sink for the same category in a second setting.
        (
            json!({"properties": {"storageAccountId": logs, "logs": logs_body(&["Administrative"])}}),
            "BadRequest",
            "already used in diagnostic setting 'to-logs'",
        ),
    ] {
        let refused = put("second", body).await;
        let status = if code == "StorageAccountNotAccessible" {
            409
        } else {
            400
        };
        assert_eq!(refused.status, status, "{:?}", refused.body);
        // Insights answers flat, without ARM's envelope.
        assert_eq!(refused.body["code"], code, "{:?}", refused.body);
        assert!(
            refused.body["message"].as_str().unwrap().contains(text),
            "{:?}",
            refused.body
        );
    }
    let got = env
        .arm(Method::GET, &settings_path("PLATFORM", "to-logs"), None)
        .await;
    assert_eq!(got.body["name"], "to-logs");
    let list_path = format!("{MG}/platform/providers/Microsoft.Insights/diagnosticSettings?api-version=2020-01-01-preview");
    let listed = env.arm(Method::GET, &list_path, None).await;
    assert_eq!(listed.body["value"].as_array().unwrap().len(), 1);
    // Another group's list is its own.
    let other = env
        .arm(Method::GET, &list_path.replace("platform", "logging"), None)
        .await;
    assert_eq!(other.body, json!({"value": []}));
    let unknown = env
        .arm(Method::GET, &list_path.replace("platform", "nope"), None)
        .await;
    assert_eq!((unknown.status.as_u16(), unknown.code()), (404, "NotFound"));
    let wrong_version = env
        .arm(
            Method::GET,
            &list_path.replace("2020-01-01-preview", "2021-05-01-preview"),
            None,
        )
        .await;
    assert_eq!(wrong_version.code(), "NoRegisteredProviderFound");
    let deleted = env
        .arm(Method::DELETE, &settings_path("platform", "to-logs"), None)
        .await;
    assert_eq!(deleted.status, 200);
    let again = env
        .arm(Method::DELETE, &settings_path("platform", "to-logs"), None)
        .await;
    assert_eq!(again.status, 204);
    let gone = env
        .arm(Method::GET, &settings_path("platform", "to-logs"), None)
        .await;
    assert_eq!(
        (gone.status.as_u16(), gone.body["code"].as_str()),
        (404, Some("ResourceNotFound"))
    );
}

#[tokio::test]
async fn reads_need_access_at_the_group_or_above() {
    let env = Env::start().await;
    hierarchy(&env).await;
    let tenant = env.emu.connection.tenant_id.clone();
    env.deny(&[&format!("{MG}/platform")]).await;
    let list = env
        .arm(Method::GET, &format!("{MG}?{MANAGEMENT_GROUP_API}"), None)
        .await;
    assert_eq!(names(&list.body), vec![tenant.clone()]);
    // Denied at platform: logging, below it, is refused too.
    for path in [
        format!("{MG}/logging?{MANAGEMENT_GROUP_API}"),
        format!("{MG}/logging/providers/Microsoft.Insights/diagnosticSettings?api-version=2020-01-01-preview"),
        settings_path("logging", "x"),
    ] {
        let refused = env.arm(Method::GET, &path, None).await;
        assert_eq!(
            (refused.status.as_u16(), refused.code()),
            (403, "AuthorizationFailed"),
            "{path}: {:?}",
            refused.body
        );
    }
    let root = env
        .arm(
            Method::GET,
            &format!("{MG}/{tenant}?{MANAGEMENT_GROUP_API}"),
            None,
        )
        .await;
    assert_eq!(root.status, 200);
    // Subscriptions inherit from their groups: SUB1 (under logging) is
    // refused and left out of the list, SUB2 (under the root) is not.
    let sub1 = env
        .arm(
            Method::GET,
            &format!("/subscriptions/{SUB1}?api-version=2022-12-01"),
            None,
        )
        .await;
    assert_eq!(sub1.code(), "AuthorizationFailed");
    let subscriptions = env
        .arm(Method::GET, "/subscriptions?api-version=2022-12-01", None)
        .await;
    let listed: Vec<&str> = subscriptions.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["subscriptionId"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [SUB2]);
    // Nor may a group be made below a group it is denied at.
    let below = send(
        &env,
        requests::management_group("ops", "ops", Some("logging")),
    )
    .await;
    assert_eq!(below.code(), "AuthorizationFailed");
}

/// `stmgonly` receives only platform's activity log; `stplain` SUB1's.
async fn estate(env: &Env) -> (String, String) {
    hierarchy(env).await;
    let only = env.storage_account(SUB2, "rg-mg", "stmgonly").await;
    env.management_group_setting("platform", "activity-to-mgonly", &only)
        .await;
    let plain = env.storage_account(SUB1, "rg-app", "stplain").await;
    env.diagnostic_setting(SUB1, "to-plain", &plain, true).await;
    (only, plain)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_only_a_management_group_exports_to_is_audited_planned_applied_and_rolled_back()
{
    let env = Env::start().await;
    let (only, plain) = estate(&env).await;
    let tool = env.tool();

    let audit = tool.run(&["audit", "-o", "json"]).await;
    assert_eq!(audit.code, 2, "{}\n{}", audit.stdout, audit.stderr);
    let report = audit.json();
    let found = destination(&report, &only);
    assert_eq!(found["status"], "non_compliant");
    assert_eq!(
        found["sources"],
        json!([{
            "management_group_id": "platform",
            "kind": "management_group_diagnostic_setting",
            "name": "activity-to-mgonly",
            "enabled_categories": ["Administrative", "Policy"],
        }])
    );
    assert_eq!(report["management_groups"].as_array().unwrap().len(), 3);
    assert_matches_project_schema("audit.schema.json", &report, "audit");
    assert_eq!(report["summary"]["incomplete"], false);
    let text = tool.run(&["audit"]).await;
    assert!(
        text.stdout.contains("management group platform:"),
        "{}",
        text.stdout
    );

    let plan = tool.run(&["plan", "-o", "json"]).await;
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    account(&plan.json(), &only);

    let apply = tool.run(&["apply", "--yes", "-o", "json"]).await;
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    assert_eq!(account(&apply.json(), &only)["outcome"], "done");
    let after = tool.run(&["audit", "-o", "json"]).await;
    assert_eq!(after.code, 0, "{}\n{}", after.stdout, after.stderr);
    assert_eq!(destination(&after.json(), &only)["status"], "compliant");
    assert_eq!(destination(&after.json(), &plain)["status"], "compliant");

    // Rollback finds the tool's work through the group's setting too.
    let rollback = tool
        .run(&[
            "rollback",
            "--yes",
            "--management-group",
            "platform",
            "-s",
            SUB2,
        ])
        .await;
    assert_eq!(rollback.code, 0, "{}\n{}", rollback.stdout, rollback.stderr);
    let key_source = env
        .arm(Method::GET, &format!("{only}?{STORAGE_API}"), None)
        .await
        .body["properties"]["encryption"]["keySource"]
        .clone();
    assert_eq!(key_source, "Microsoft.Storage");
    let plain_source = env
        .arm(Method::GET, &format!("{plain}?{STORAGE_API}"), None)
        .await
        .body["properties"]["encryption"]["keySource"]
        .clone();
    assert_eq!(
        plain_source, "Microsoft.Keyvault",
        "SUB1's account was not in scope"
    );
}

#[tokio::test]
async fn no_readable_group_is_not_an_error() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "prod").await;
    let plain = env.storage_account(SUB1, "rg-app", "stplain").await;
    env.diagnostic_setting(SUB1, "to-plain", &plain, true).await;
    let tool = env.tool();
    // No hierarchy: nothing to read, nothing to say.
    let none = tool.run(&["audit", "-o", "json"]).await;
    assert_eq!(none.code, 2, "{}", none.stderr);
    assert!(none.json().get("management_groups").is_none());
    assert_eq!(none.json()["warnings"], json!([]));
    // The list refused: a warning that names the permission, and complete.
    env.management_group("platform", None).await;
    env.deny(&[MG]).await;
    let denied = tool.run(&["audit", "-o", "json"]).await;
    assert_eq!(denied.code, 2, "{}\n{}", denied.stdout, denied.stderr);
    let report = denied.json();
    assert_eq!(report["summary"]["incomplete"], false);
    assert!(
        report["warnings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Microsoft.Management/managementGroups/read"),
        "{report:#}"
    );
}

#[tokio::test]
async fn a_group_whose_settings_are_refused_makes_the_audit_incomplete() {
    let env = Env::start().await;
    let (only, _) = estate(&env).await;
    env.deny(&[&format!(
        "{MG}/platform/providers/Microsoft.Insights/diagnosticSettings"
    )])
    .await;
    let tool = env.tool();
    let run = tool.run(&["audit", "-o", "json"]).await;
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["summary"]["incomplete"], true);
    let platform = report["management_groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["management_group_id"] == "platform")
        .unwrap();
    assert_eq!(platform["complete"], false);
    assert!(
        platform["errors"][0]
            .as_str()
            .unwrap()
            .contains("Microsoft.Insights/diagnosticSettings/read"),
        "{report:#}"
    );
    assert!(report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["message"]
            .as_str()
            .unwrap()
            .contains("management group platform")));
    assert!(
        !run.stdout.contains("stmgonly"),
        "{only} is not known without the settings"
    );
    let text = tool.run(&["audit"]).await;
    assert!(
        text.stdout
            .contains("audit INCOMPLETE: 1 management group not read completely"),
        "{}",
        text.stdout
    );
    // Plan says so too, and exits 3.
    let plan = tool.run(&["plan"]).await;
    assert_eq!(plan.code, 3, "{}\n{}", plan.stdout, plan.stderr);
    assert!(
        plan.stderr.contains("managementGroups/platform"),
        "{}",
        plan.stderr
    );
    let plan_json = tool.run(&["plan", "-o", "json"]).await.json();
    assert_eq!(
        plan_json["unread"][0]["id"],
        "/providers/Microsoft.Management/managementGroups/platform"
    );
    assert_matches_project_schema("plan.schema.json", &plan_json, "plan");
    assert_matches_project_schema("audit.schema.json", &report, "audit");
}

/// Shards split the groups as they split subscriptions: each group is read
/// by exactly one shard, and `report merge` gives one run's groups back.
#[tokio::test]
async fn each_group_is_read_by_one_shard_and_merged_back() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "prod").await;
    let logs = env.storage_account(SUB1, "rg-logs", "stmgshards").await;
    for group in ["mg-a", "mg-b", "mg-c", "mg-d", "mg-e"] {
        env.management_group(group, None).await;
        env.management_group_setting(group, "to-logs", &logs).await;
    }
    env.diagnostic_setting(SUB1, "sub-to-logs", &logs, true)
        .await;
    let tool = env.tool();
    let groups = |report: &Value| -> Vec<String> {
        report["management_groups"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|g| g["management_group_id"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let whole = tool.run(&["audit", "-o", "json"]).await.json();
    let mut all = groups(&whole);
    all.sort();
    assert_eq!(all.len(), 6, "five groups and the root: {whole:#}");
    let dir = tempfile::tempdir().unwrap();
    let mut seen: Vec<String> = Vec::new();
    let mut files = Vec::new();
    for k in 1..=3 {
        let file = dir.path().join(format!("audit-{k}.json"));
        let file = file.to_str().unwrap().to_string();
        let shard = format!("{k}/3");
        let run = tool
            .run(&[
                "audit",
                "-o",
                "json",
                "--shard",
                &shard,
                "--output-file",
                &file,
            ])
            .await;
        assert!(run.code == 0 || run.code == 2, "{}", run.stderr);
        let report: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for group in groups(&report) {
            assert!(!seen.contains(&group), "{group} read by two shards");
            seen.push(group);
        }
        files.push(file);
    }
    seen.sort();
    assert_eq!(seen, all);
    let mut args = vec!["report", "merge"];
    args.extend(files.iter().map(String::as_str));
    args.extend(["-o", "json"]);
    let merged = tool.run(&args).await;
    let merged = merged.json();
    assert_eq!(groups(&merged), all, "merged groups in id order");
    // The subscription's setting first, then the groups', as one run lists them.
    assert_eq!(
        destination(&merged, &logs)["sources"],
        destination(&whole, &logs)["sources"]
    );
    assert_eq!(
        destination(&merged, &logs)["sources"]
            .as_array()
            .unwrap()
            .len(),
        6
    );
}

/// The hierarchy and the groups' settings are part of the emulator's state,
/// so a saved state (`--state FILE`, `PUT /_emulator/state`) seeds them.
#[tokio::test]
async fn a_saved_state_carries_the_hierarchy_and_its_settings() {
    let env = Env::start().await;
    hierarchy(&env).await;
    let logs = env.storage_account(SUB1, "rg-logs", "stmgstate").await;
    env.management_group_setting("logging", "to-logs", &logs)
        .await;
    let saved = env.admin(Method::GET, "/state", None).await;
    assert_eq!(saved.status, 200);

    let other = Env::start().await;
    let mut state = saved.body.clone();
    // The other emulator keeps its own tenant and principal to sign in with.
    let fresh = other.admin(Method::GET, "/state", None).await.body;
    state["tenantId"] = fresh["tenantId"].clone();
    state["principals"] = fresh["principals"].clone();
    let loaded = other.admin(Method::PUT, "/state", Some(state)).await;
    assert!(loaded.status.is_success(), "{:?}", loaded.body);
    let child = other
        .arm(
            Method::GET,
            &format!("{MG}/logging?{MANAGEMENT_GROUP_API}&$expand=children"),
            None,
        )
        .await;
    assert_eq!(child.status, 200, "{:?}", child.body);
    assert_eq!(child.body["properties"]["children"][0]["name"], SUB1);
    let settings = other
        .arm(
            Method::GET,
            &format!("{MG}/logging/providers/Microsoft.Insights/diagnosticSettings?api-version=2020-01-01-preview"),
            None,
        )
        .await;
    assert_eq!(
        settings.body["value"][0]["properties"]["storageAccountId"],
        logs.as_str()
    );
}
