//! Every tenant (issue 17 item 3): the emulator holds a second tenant with a
//! subscription of its own and the tool's principal present in it, and a
//! third tenant the principal is not in. ARM serves a subscription only to
//! its tenant's tokens; `--tenant` and `--all-tenants` cover each tenant with
//! its own token, record each subscription's tenant, and report a tenant
//! that refuses the sign-in without failing the rest.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::*;

const TENANT_B: &str = "b0000000-0000-4000-8000-00000000000b";
const TENANT_C: &str = "c0000000-0000-4000-8000-00000000000c";

/// SUB1 in the home tenant and SUB2 in tenant B, each sending its activity
/// log to an account of its own on Microsoft-managed keys; tenant C exists
/// but the principal is not in it. Returns the two accounts' ids.
async fn two_tenants(env: &Env) -> (String, String) {
    env.add_subscription(SUB1, "home-sub").await;
    env.add_subscription(SUB2, "tenant-b-sub").await;
    let home = env.storage_account(SUB1, "rg-logs", "sthomelogs").await;
    env.diagnostic_setting(SUB1, "to-home", &home, true).await;
    let other = env.storage_account(SUB2, "rg-logs", "stblogs").await;
    env.diagnostic_setting(SUB2, "to-b", &other, true).await;
    // Built with the home tenant's token; now SUB2 moves to tenant B.
    let client_id = env.emu.connection.client_id.clone();
    let a = env
        .admin(
            Method::PUT,
            &format!("/tenants/{TENANT_B}"),
            Some(json!({"displayName": "Tenant B", "principals": [client_id], "subscriptions": [SUB2]})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let a = env
        .admin(
            Method::PUT,
            &format!("/tenants/{TENANT_C}"),
            Some(json!({"displayName": "Tenant C"})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    (home, other)
}

fn home_tenant(env: &Env) -> String {
    env.emu.connection.tenant_id.to_ascii_lowercase()
}

/// (subscription id, tenant id or "") of each subscription in the report.
fn tenants_of(report: &Value) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = report["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["subscription_id"].as_str().unwrap().to_string(),
                s["tenant_id"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    all.sort();
    all
}

fn destinations(report: &Value) -> Vec<String> {
    report["destinations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            d["storage_account_id"]
                .as_str()
                .unwrap()
                .to_ascii_lowercase()
        })
        .collect()
}

#[tokio::test]
async fn arm_serves_a_subscription_only_to_its_tenants_tokens() {
    let env = Env::start().await;
    two_tenants(&env).await;
    let c = &env.emu.connection;
    let path = format!("/subscriptions/{SUB2}?api-version=2022-12-01");
    let refused = env.arm(Method::GET, &path, None).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.code(), "InvalidAuthenticationTokenTenant");
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!(
            "It must match the tenant 'https://sts.windows.net/{TENANT_B}/'"
        )),
        "{message}"
    );

    let b_token = env.token_in(TENANT_B, &c.client_id, &c.client_secret).await;
    let got = env.arm_as(&b_token, Method::GET, &path, None).await;
    assert_eq!(got.status, StatusCode::OK, "{:?}", got.body);
    assert_eq!(got.body["tenantId"], TENANT_B);
    let list = |token: String| {
        let env = &env;
        async move {
            let a = env
                .arm_as(
                    &token,
                    Method::GET,
                    "/subscriptions?api-version=2022-12-01",
                    None,
                )
                .await;
            a.body["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["subscriptionId"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list(b_token.clone()).await, [SUB2]);
    assert_eq!(list(env.token.clone()).await, [SUB1]);

    // Both tokens list the same tenants: the principal's, not tenant C.
    for token in [&env.token, &b_token] {
        let a = env
            .arm_as(token, Method::GET, "/tenants?api-version=2022-12-01", None)
            .await;
        let ids: Vec<&str> = a.body["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["tenantId"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [c.tenant_id.as_str(), TENANT_B]);
    }

    // Tenant C does not have the principal: Entra refuses the sign-in.
    let url = format!("{}/{TENANT_C}/oauth2/v2.0/token", c.authority_host);
    let answer: Value = env
        .client
        .post(url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", c.client_id.as_str()),
            ("client_secret", c.client_secret.as_str()),
            ("scope", c.token_scope.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        answer["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS700016:"),
        "{answer}"
    );

    // The tenants are part of the saved state.
    let state = env.admin(Method::GET, "/state", None).await.body;
    assert_eq!(state["tenants"][0]["tenantId"], TENANT_B);
    assert_eq!(state["tenants"][0]["subscriptions"], json!([SUB2]));
}

#[tokio::test]
async fn audit_covers_every_tenant_each_with_its_own_token() {
    let env = Env::start().await;
    let (home_account, b_account) = two_tenants(&env).await;
    let tool = env.tool();
    let home = home_tenant(&env);

    // Without the flags: the sign-in tenant only, as before.
    let run = tool.run(&["audit", "-o", "json"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    let report = run.json();
    assert_eq!(tenants_of(&report), [(SUB1.to_string(), String::new())]);
    assert_eq!(destinations(&report), [home_account.to_ascii_lowercase()]);

    let run = tool.run(&["audit", "--all-tenants", "-o", "json"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    let report = run.json();
    support::schemas::assert_matches_project_schema(
        "audit.schema.json",
        &report,
        "audit --all-tenants",
    );
    assert_eq!(
        tenants_of(&report),
        [
            (SUB1.to_string(), home.clone()),
            (SUB2.to_string(), TENANT_B.to_string())
        ]
    );
    let mut both = vec![
        home_account.to_ascii_lowercase(),
        b_account.to_ascii_lowercase(),
    ];
    both.sort();
    assert_eq!(destinations(&report), both);
    assert!(report.get("tenant_id").is_none(), "{report}");
    assert_eq!(report["summary"]["incomplete"], false);

    // --tenant narrows to the tenants named.
    let run = tool
        .run(&["audit", "--tenant", TENANT_B, "-o", "json"])
        .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    let report = run.json();
    assert_eq!(
        tenants_of(&report),
        [(SUB2.to_string(), TENANT_B.to_string())]
    );
    assert_eq!(destinations(&report), [b_account.to_ascii_lowercase()]);
    assert_eq!(report["tenant_id"], TENANT_B);

    // -s picks among the tenants' subscriptions, by id or by name.
    let run = tool
        .run(&["audit", "--all-tenants", "-s", "tenant-b-sub", "-o", "json"])
        .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        tenants_of(&run.json()),
        [(SUB2.to_string(), TENANT_B.to_string())]
    );
}

#[tokio::test]
async fn a_tenant_that_refuses_the_sign_in_is_reported_and_the_others_audited() {
    let env = Env::start().await;
    two_tenants(&env).await;
    let tool = env.tool();
    let home = home_tenant(&env);
    let run = tool
        .run(&[
            "audit", "--tenant", &home, "--tenant", TENANT_C, "--tenant", TENANT_B, "-o", "json",
        ])
        .await;
    assert_eq!(run.code, 3, "incomplete: {}", run.stderr);
    let report = run.json();
    assert_eq!(
        tenants_of(&report),
        [
            (SUB1.to_string(), home),
            (SUB2.to_string(), TENANT_B.to_string())
        ]
    );
    assert_eq!(report["summary"]["incomplete"], true);
    let warnings: Vec<&str> = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["message"].as_str().unwrap())
        .collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with(&format!("tenant {TENANT_C}:")) && w.contains("AADSTS700016")),
        "{warnings:?}"
    );

    // Every tenant refused: still a report of this endpoint, incomplete.
    let home_only = tool.run(&["audit", "-o", "json"]).await.json();
    let run = tool
        .run(&["audit", "--tenant", TENANT_C, "-o", "json"])
        .await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(run.json()["arm_endpoint"], home_only["arm_endpoint"]);
    let run = tool
        .run(&["plan", "--tenant", TENANT_C, "-o", "json"])
        .await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert_eq!(run.json()["arm_endpoint"], home_only["arm_endpoint"]);

    // A shard report that is incomplete for a refused tenant stays so merged.
    let dir = tempfile::tempdir().unwrap();
    let shard = dir.path().join("shard.json");
    let shard = shard.to_str().unwrap();
    let run = tool
        .run(&[
            "audit",
            "--tenant",
            TENANT_B,
            "--tenant",
            TENANT_C,
            "--shard",
            "1/1",
            "-o",
            "json",
            "--output-file",
            shard,
        ])
        .await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    let merged = tool.run(&["report", "merge", shard, "-o", "json"]).await;
    assert_eq!(merged.code, 3, "{}\n{}", merged.stdout, merged.stderr);
    assert_eq!(merged.json()["summary"]["incomplete"], true);

    // The text report says it too.
    let run = tool.run(&["audit", "--tenant", TENANT_C]).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stdout.contains(TENANT_C) && run.stdout.contains("AADSTS700016"),
        "{}",
        run.stdout
    );
}

/// The encryption key source of an account, read with `token`.
async fn key_source(env: &Env, token: &str, account_id: &str) -> String {
    let a = env
        .arm_as(
            token,
            Method::GET,
            &format!("{account_id}?api-version=2023-05-01"),
            None,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    a.body["properties"]["encryption"]["keySource"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_saved_plan_across_two_tenants_is_applied_in_each() {
    let env = Env::start().await;
    let (home_account, b_account) = two_tenants(&env).await;
    let tool = env.tool();
    let home = home_tenant(&env);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.json");
    let file = file.to_str().unwrap();

    let run = tool
        .run(&[
            "plan",
            "--all-tenants",
            "--out",
            file,
            "--detailed-exitcode",
        ])
        .await;
    assert_eq!(run.code, 2, "changes: {}", run.stderr);
    let mut both = [home.clone(), TENANT_B.to_string()];
    both.sort();
    assert!(
        run.stdout.starts_with(&format!(
            "Plan for tenants {}, {} through",
            both[0], both[1]
        )),
        "{}",
        run.stdout
    );
    let markdown = tool.run(&["plan", "--all-tenants", "-o", "markdown"]).await;
    assert!(
        markdown.stdout.contains(&format!(
            "Planned in tenants `{}`, `{}` through",
            both[0], both[1]
        )),
        "{}",
        markdown.stdout
    );
    let file_json: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let saved = &file_json["plan"];
    support::schemas::assert_matches_project_schema(
        "plan.schema.json",
        saved,
        "plan --all-tenants",
    );
    assert_eq!(
        saved["tenants"],
        json!({ SUB1: home, SUB2: TENANT_B }),
        "{saved:#}"
    );
    assert_eq!(saved["tenant_id"], "", "two tenants: no single one");
    assert_eq!(saved["accounts"].as_array().unwrap().len(), 2);

    // A saved plan is applied as saved: tenant flags are refused with it.
    let refused = tool
        .run(&["apply", file, "--yes", "--tenant", TENANT_B])
        .await;
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(refused.stderr.contains("--tenant"), "{}", refused.stderr);

    let run = tool.run(&["apply", file, "--yes", "-o", "json"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["summary"]["done"], 2, "{report:#}");

    let c = &env.emu.connection;
    let b_token = env.token_in(TENANT_B, &c.client_id, &c.client_secret).await;
    assert_eq!(
        key_source(&env, &env.token, &home_account).await,
        "Microsoft.Keyvault"
    );
    assert_eq!(
        key_source(&env, &b_token, &b_account).await,
        "Microsoft.Keyvault"
    );
    // Each tenant's resources were written with that tenant's token: the
    // home token cannot even read tenant B's account.
    let a = env
        .arm(
            Method::GET,
            &format!("{b_account}?api-version=2023-05-01"),
            None,
        )
        .await;
    assert_eq!(a.code(), "InvalidAuthenticationTokenTenant");

    let run = tool.run(&["audit", "--all-tenants", "-o", "json"]).await;
    assert_eq!(run.code, 0, "all compliant: {}", run.stdout);
}

#[tokio::test]
async fn apply_with_tenant_fixes_only_that_tenant() {
    let env = Env::start().await;
    let (home_account, b_account) = two_tenants(&env).await;
    let tool = env.tool();
    let run = tool.run(&["apply", "--tenant", TENANT_B, "--yes"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let c = &env.emu.connection;
    let b_token = env.token_in(TENANT_B, &c.client_id, &c.client_secret).await;
    assert_eq!(
        key_source(&env, &b_token, &b_account).await,
        "Microsoft.Keyvault"
    );
    assert_eq!(
        key_source(&env, &env.token, &home_account).await,
        "Microsoft.Storage"
    );
    // The home tenant still has its finding; tenant B has none.
    assert_eq!(tool.run(&["audit"]).await.code, 2);
    assert_eq!(tool.run(&["audit", "--tenant", TENANT_B]).await.code, 0);

    // A tenant that refuses the sign-in leaves the plan incomplete.
    let run = tool
        .run(&[
            "plan", "--tenant", TENANT_B, "--tenant", TENANT_C, "-o", "json",
        ])
        .await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    let plan = run.json();
    assert_eq!(plan["unread"][0]["id"], format!("/tenants/{TENANT_C}"));
    assert!(
        plan["unread"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("AADSTS700016"),
        "{plan:#}"
    );
}

#[tokio::test]
async fn a_saved_plan_whose_subscription_moved_tenant_is_refused_before_any_change() {
    let env = Env::start().await;
    let (_, b_account) = two_tenants(&env).await;
    let tool = env.tool();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.json");
    let file = file.to_str().unwrap();
    let run = tool
        .run(&["plan", "--tenant", TENANT_B, "--out", file])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    // SUB2 moves to tenant D (the principal is there too) after the plan.
    const TENANT_D: &str = "d0000000-0000-4000-8000-00000000000d";
    let client_id = env.emu.connection.client_id.clone();
    let a = env
        .admin(
            Method::PUT,
            &format!("/tenants/{TENANT_D}"),
            Some(json!({"principals": [client_id], "subscriptions": [SUB2]})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    env.clear_requests().await;
    let run = tool.run(&["apply", file, "--yes"]).await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("InvalidAuthenticationTokenTenant"),
        "{}",
        run.stderr
    );
    assert!(
        support::request_log::writes(&env.arm_requests().await).is_empty(),
        "nothing may be written"
    );
    let c = &env.emu.connection;
    let d_token = env.token_in(TENANT_D, &c.client_id, &c.client_secret).await;
    assert_eq!(
        key_source(&env, &d_token, &b_account).await,
        "Microsoft.Storage"
    );
}

/// SUB1 (home tenant) sends its activity log to an account in SUB2, which
/// moves to tenant B, and to one in SUB3, which moves to tenant C (the
/// principal is not in it); both accounts on Microsoft-managed keys. SUB1
/// and SUB2 both send to a third account, in SUB2. Returns the three
/// accounts' ids.
async fn destinations_in_other_tenants(env: &Env) -> (String, String, String) {
    env.add_subscription(SUB1, "home-sub").await;
    env.add_subscription(SUB2, "tenant-b-sub").await;
    env.add_subscription(SUB3, "tenant-c-sub").await;
    let in_b = env.storage_account(SUB2, "rg-logs", "stcrossb").await;
    let in_c = env.storage_account(SUB3, "rg-logs", "stcrossc").await;
    env.diagnostic_setting(SUB1, "to-b", &in_b, true).await;
    env.log_profile(SUB1, "default", &in_c).await;
    let shared = env.storage_account(SUB2, "rg-logs", "stshared").await;
    env.diagnostic_setting(SUB1, "to-shared", &shared, true)
        .await;
    env.diagnostic_setting(SUB2, "to-shared", &shared, true)
        .await;
    let client_id = env.emu.connection.client_id.clone();
    for (tenant, body) in [
        (
            TENANT_B,
            json!({"displayName": "Tenant B", "principals": [client_id], "subscriptions": [SUB2]}),
        ),
        (
            TENANT_C,
            json!({"displayName": "Tenant C", "subscriptions": [SUB3]}),
        ),
    ] {
        let a = env
            .admin(Method::PUT, &format!("/tenants/{tenant}"), Some(body))
            .await;
        assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    }
    (in_b, in_c, shared)
}

/// The destination `id` of an audit report.
fn destination<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["destinations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| {
            d["storage_account_id"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case(id)
        })
        .unwrap_or_else(|| panic!("no destination {id} in {report:#}"))
}

fn first_reason(destination: &Value) -> String {
    destination["reasons"][0]["message"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn an_account_in_another_covered_tenant_is_judged_with_that_tenants_token() {
    let env = Env::start().await;
    let (in_b, in_c, shared) = destinations_in_other_tenants(&env).await;
    let tool = env.tool();
    let home = home_tenant(&env);

    // Both tenants covered: B's account is read with B's token.
    let run = tool
        .run(&[
            "audit", "--tenant", &home, "--tenant", TENANT_B, "-o", "json",
        ])
        .await;
    let report = run.json();
    let b = destination(&report, &in_b);
    assert_eq!(b["status"], "non_compliant", "{b:#}");
    assert_eq!(b["encryption"]["key_source"], "Microsoft.Storage", "{b:#}");
    assert_eq!(b["sources"].as_array().unwrap().len(), 1, "{b:#}");
    assert_eq!(b["sources"][0]["subscription_id"], SUB1);
    // C's is not covered: unreadable, naming the flag that covers it.
    let c = destination(&report, &in_c);
    assert_eq!(c["status"], "unreadable", "{c:#}");
    assert!(
        first_reason(c).contains(&format!("add `--tenant {TENANT_C}`")),
        "{c:#}"
    );
    assert_eq!(run.code, 3, "incomplete (C's account): {}", run.stderr);

    // Only the home tenant covered: B's account is unreadable too, and
    // the message says which tenant to add.
    let run = tool.run(&["audit", "--tenant", &home, "-o", "json"]).await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    let b = destination(&run.json(), &in_b).clone();
    assert_eq!(b["status"], "unreadable", "{b:#}");
    let message = first_reason(&b);
    assert!(
        message.contains("InvalidAuthenticationTokenTenant"),
        "{message}"
    );
    assert!(
        message.contains(&format!(
            "the account is in tenant {TENANT_B}, which this run does not cover: add `--tenant {TENANT_B}`"
        )),
        "{message}"
    );
    // The sign-in tenant alone (no flag) says the same.
    let run = tool.run(&["audit", "-o", "json"]).await;
    assert!(
        first_reason(destination(&run.json(), &in_b))
            .contains(&format!("add `--tenant {TENANT_B}`")),
        "{}",
        run.stdout
    );

    // C covered but refusing the sign-in: the next step is that sign-in.
    let run = tool
        .run(&[
            "audit", "--tenant", &home, "--tenant", TENANT_C, "-o", "json",
        ])
        .await;
    assert_eq!(run.code, 3, "{}", run.stderr);
    let message = first_reason(destination(&run.json(), &in_c));
    assert!(
        message.contains(&format!(
            "the account is in tenant {TENANT_C}, which refused the sign-in (AADSTS700016)"
        )),
        "{message}"
    );
    assert!(!message.contains("does not cover"), "{message}");

    // SUB1 and SUB2 both send to B's shared account: listed once, judged
    // once, with both sources.
    let run = tool
        .run(&[
            "audit", "--tenant", &home, "--tenant", TENANT_B, "-o", "json",
        ])
        .await;
    let report = run.json();
    let d = destination(&report, &shared);
    assert_eq!(d["status"], "non_compliant", "{d:#}");
    let mut subs: Vec<&str> = d["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["subscription_id"].as_str().unwrap())
        .collect();
    subs.sort();
    assert_eq!(subs, [SUB1, SUB2], "{d:#}");
    assert_eq!(
        destinations(&report)
            .iter()
            .filter(|d| d.eq_ignore_ascii_case(&shared))
            .count(),
        1
    );
}

#[tokio::test]
async fn plan_and_apply_fix_an_account_in_another_covered_tenant_on_its_connection() {
    let env = Env::start().await;
    let (in_b, in_c, shared) = destinations_in_other_tenants(&env).await;
    let tool = env.tool();
    let home = home_tenant(&env);
    let tenants = ["--tenant", home.as_str(), "--tenant", TENANT_B];

    let run = tool
        .run(&[&["plan", "-o", "json"][..], &tenants].concat())
        .await;
    assert_eq!(
        run.code, 3,
        "changes, and C's account unread: {}",
        run.stderr
    );
    let plan = run.json();
    let mut planned: Vec<String> = plan["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            a["storage_account_id"]
                .as_str()
                .unwrap()
                .to_ascii_lowercase()
        })
        .collect();
    planned.sort();
    let mut expected = vec![in_b.to_ascii_lowercase(), shared.to_ascii_lowercase()];
    expected.sort();
    assert_eq!(planned, expected, "{plan:#}");
    assert_eq!(plan["tenants"], json!({ SUB2: TENANT_B }), "{plan:#}");
    let unread: Vec<&str> = plan["unread"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(unread.len(), 1, "{plan:#}");
    assert!(unread[0].eq_ignore_ascii_case(&in_c), "{plan:#}");

    let run = tool
        .run(&[&["apply", "--yes", "-o", "json"][..], &tenants].concat())
        .await;
    let report = run.json();
    assert_eq!(report["summary"]["done"], 2, "{report:#}\n{}", run.stderr);
    let c = &env.emu.connection;
    let b_token = env.token_in(TENANT_B, &c.client_id, &c.client_secret).await;
    for account in [&in_b, &shared] {
        assert_eq!(
            key_source(&env, &b_token, account).await,
            "Microsoft.Keyvault",
            "{account}"
        );
    }
}

#[tokio::test]
async fn a_named_management_group_is_refused_with_tenant_flags_before_any_read() {
    let env = Env::start().await;
    two_tenants(&env).await;
    let tool = env.tool();
    let home = home_tenant(&env);
    env.clear_requests().await;
    for command in ["audit", "plan", "apply"] {
        for tenants in [&["--tenant", home.as_str()][..], &["--all-tenants"][..]] {
            let args = [&[command, "--management-group", "platform"][..], tenants].concat();
            let run = tool.run(&args).await;
            assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
            assert!(
                run.stderr
                    .contains("--management-group does not go with --tenant or --all-tenants"),
                "{args:?}: {}",
                run.stderr
            );
            assert!(run.stderr.contains("nothing was read"), "{}", run.stderr);
        }
    }
    let requests = env.requests().await;
    assert!(
        requests.is_empty(),
        "refused before any call: {requests:#?}"
    );
}
