//! `actlog-cmk audit`, the real binary against the emulator over HTTPS:
//! sources in several subscriptions, destinations resolved by id across
//! subscriptions and read once, every status and CMK reason, exit codes, and
//! the number of ARM requests it takes.

use crate::support;

use reqwest::Method;
use serde_json::{json, Value};
use support::estate::*;
use support::reports::destination;
use support::schemas::{assert_matches_project_schema, assert_valid, sarif_validator};
use support::*;

const SUB4: &str = "44444444-4444-4444-4444-444444444444";

fn codes(d: &Value) -> Vec<String> {
    d["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_string())
        .collect()
}

fn count(requests: &[Value], operation: &str) -> usize {
    requests
        .iter()
        .filter(|r| r["operation"].as_str() == Some(operation))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_estate_across_subscriptions_is_audited_and_each_account_is_read_once() {
    let mut settings = fast_settings();
    settings.subscription_page_size = 2;
    let env = Env::start_with(settings).await;
    for (sub, name) in [
        (SUB1, "prod"),
        (SUB2, "dev"),
        (SUB3, "data"),
        (SUB4, "logging"),
    ] {
        env.add_subscription(sub, name).await;
    }
    // One central account in the logging subscription, fed by three others,
    // each spelling the id its own way.
    let central = env.storage_account(SUB4, "rg-logs", "stcentral").await;
    env.diagnostic_setting(SUB1, "to-central", &central, true)
        .await;
    env.diagnostic_setting(
        SUB2,
        "to-central",
        &central.replace("resourceGroups", "resourcegroups"),
        true,
    )
    .await;
    env.diagnostic_setting(
        SUB3,
        "central-audit",
        &central
            .replace("rg-logs", "RG-Logs")
            .replace("Microsoft.Storage", "microsoft.storage"),
        false,
    )
    .await;
    // A legacy log profile in SUB2 to an account of its own.
    let legacy = env.storage_account(SUB2, "rg-legacy", "stlegacy").await;
    env.log_profile(SUB2, "default", &legacy).await;
    // Compliant: access-policy vault in SUB1, RBAC vault in SUB3 switched
    // with the key source spelled `Microsoft.KeyVault`.
    let good = env
        .cmk_account(SUB1, "rg-app", "stgood", "kv-good-1", false)
        .await;
    env.diagnostic_setting(SUB1, "to-good", &good.account_id, true)
        .await;
    let rbac_account = env
        .cmk_account_with(&CmkSetup {
            sub: SUB3,
            rg: "rg-rbac",
            account: "strbac",
            identity: "id-rbac",
            vault: "kv-rbac-1",
            rbac: true,
            key_size: 2048,
            key_source: "Microsoft.KeyVault",
        })
        .await
        .account_id;
    env.diagnostic_setting(SUB3, "to-rbac", &rbac_account, true)
        .await;
    env.clear_requests().await;

    let tool = env.tool();
    let run = tool.run(&["audit", "--output", "json"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    let report = run.json();
    assert_matches_project_schema("audit.schema.json", &report, "audit -o json");
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["summary"]["subscriptions"], 4);
    assert_eq!(report["summary"]["destinations"], 4);
    assert_eq!(report["summary"]["incomplete"], false);

    let c = destination(&report, &central);
    assert_eq!(c["status"], "non_compliant");
    assert_eq!(codes(c), vec!["microsoft_managed_keys"]);
    let mut senders: Vec<(String, String)> = c["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert_eq!(s["kind"], "diagnostic_setting");
            (
                s["subscription_id"].as_str().unwrap().to_string(),
                s["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    senders.sort();
    assert_eq!(
        senders,
        vec![
            (SUB1.to_string(), "to-central".to_string()),
            (SUB2.to_string(), "to-central".to_string()),
            (SUB3.to_string(), "central-audit".to_string())
        ]
    );
    let l = destination(&report, &legacy);
    assert_eq!(l["status"], "non_compliant");
    assert_eq!(l["sources"][0]["kind"], "log_profile");
    assert_eq!(l["sources"][0]["name"], "default");
    assert_eq!(
        destination(&report, &good.account_id)["status"],
        "compliant"
    );
    let r = destination(&report, &rbac_account);
    assert_eq!(r["status"], "compliant", "{r:#}");
    assert!(codes(r).is_empty());
    // The setting with no category enabled is flagged.
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("central-audit") && warnings.contains("no log category"),
        "{warnings}"
    );

    // Each destination read once, however many subscriptions send to it.
    let requests = env.arm_requests().await;
    let central_reads = requests
        .iter()
        .filter(|r| r["operation"] == "StorageAccounts_GetProperties")
        .filter(|r| {
            r["path"]
                .as_str()
                .unwrap()
                .to_lowercase()
                .ends_with("/stcentral")
        })
        .count();
    assert_eq!(central_reads, 1, "{requests:#?}");
    let (s, a, pages) = (4, 4, 2);
    assert_eq!(count(&requests, "Subscriptions_List"), pages);
    assert_eq!(count(&requests, "SubscriptionDiagnosticSettings_List"), s);
    assert_eq!(count(&requests, "LogProfiles_List"), s);
    assert_eq!(count(&requests, "StorageAccounts_GetProperties"), a);
    // One list of management groups (the estate has none, so no group's settings).
    let groups = 1;
    assert_eq!(count(&requests, "ManagementGroups_List"), groups);
    // Health reads only for the two accounts on Key Vault: find and read the
    // vault, read the key and the identity, and (RBAC) the role assignments
    // and the definition of the assigned role.
    let health: usize = [
        "Resources_List",
        "Vaults_Get",
        "Keys_Get",
        "UserAssignedIdentities_Get",
        "RoleAssignments_ListForScope",
        "RoleDefinitions_Get",
    ]
    .iter()
    .map(|op| count(&requests, op))
    .sum();
    // Under the field profile ARM's index pages before it filters: the vault
    // lookup follows every page, empty ones included (a few more reads).
    let index_pages = count(&requests, "Resources_List");
    let extra_pages = if profile::Profile::is_field() {
        index_pages.saturating_sub(1)
    } else {
        0
    };
    assert!(extra_pages <= 8, "{index_pages} index pages");
    assert!(
        health <= 2 * 4 + 2 + extra_pages,
        "{health} health reads: {requests:#?}"
    );
    assert!(
        requests.len() <= 2 * s + a + pages + groups + health,
        "{} requests: {requests:#?}",
        requests.len()
    );
    assert!(
        requests.iter().all(|r| r["method"] == "GET"),
        "audit wrote: {requests:#?}"
    );

    // The same audit as a table, as Markdown and as SARIF.
    let text = tool.run(&["audit"]).await;
    assert_eq!(text.code, 2);
    for expected in [
        "stcentral",
        "to-central",
        "central-audit",
        "stlegacy",
        "default",
        "stgood",
        SUB4,
    ] {
        assert!(
            text.stdout.contains(expected),
            "{expected} missing from:\n{}",
            text.stdout
        );
    }
    let markdown = tool.run(&["audit", "-o", "markdown"]).await;
    assert_eq!(markdown.code, 2);
    assert!(markdown.stdout.contains("stcentral"));
    let sarif = tool
        .run(&["audit", "-o", "sarif", "-s", SUB1, "-s", SUB2])
        .await;
    assert_eq!(sarif.code, 2, "{}", sarif.stderr);
    let sarif = sarif.json();
    assert_valid(&sarif_validator(), &sarif, "audit -o sarif");
    assert_eq!(sarif["version"], "2.1.0");
    // SUB1 and SUB2 send to stcentral and stlegacy (findings) and stgood (not).
    assert_eq!(
        sarif["runs"][0]["results"].as_array().unwrap().len(),
        2,
        "{sarif:#}"
    );
}

/// A healthy CMK account sending to it from the next subscription with room
/// (Azure allows five diagnostic settings per subscription); the test then
/// breaks it in one way, as another team might.
async fn broken(env: &Env, name: &str, rbac: bool) -> CmkAccount {
    let account = env
        .cmk_account(
            SUB1,
            &format!("rg-{name}"),
            name,
            &format!("kv-{name}"),
            rbac,
        )
        .await;
    for sub in [SUB1, SUB2, SUB3] {
        let list = env
            .arm(Method::GET, &format!("/subscriptions/{sub}/providers/Microsoft.Insights/diagnosticSettings?api-version=2021-05-01-preview"), None)
            .await;
        if list.body["value"].as_array().unwrap().len() < 5 {
            env.diagnostic_setting(sub, &format!("to-{name}"), &account.account_id, true)
                .await;
            return account;
        }
    }
    panic!("no subscription has room for another diagnostic setting");
}

async fn admin_key(env: &Env, vault: &str, method: Method, body: Option<Value>) {
    let a = env
        .admin(method, &format!("/keyvault/vaults/{vault}/keys/cmk"), body)
        .await;
    assert!(a.status.is_success(), "{:?}", a.body);
}

fn vault_in_state<'a>(state: &'a mut Value, name: &str) -> &'a mut Value {
    state["keyvault"]["vaults"]
        .as_object_mut()
        .unwrap()
        .values_mut()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("vault {name} not in state"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_way_a_cmk_setup_breaks_is_reported_with_its_reason() {
    let env = Env::start().await;
    for (sub, name) in [(SUB1, "prod"), (SUB2, "dev"), (SUB3, "data")] {
        env.add_subscription(sub, name).await;
    }
    let healthy = broken(&env, "sthealthy", false).await;

    let key_deleted = broken(&env, "stkeydel", false).await;
    admin_key(&env, &key_deleted.vault_name, Method::DELETE, None).await;
    let key_disabled = broken(&env, "stkeyoff", false).await;
    admin_key(
        &env,
        &key_disabled.vault_name,
        Method::PATCH,
        Some(json!({"enabled": false})),
    )
    .await;
    let key_expired = broken(&env, "stkeyexp", false).await;
    admin_key(
        &env,
        &key_expired.vault_name,
        Method::PATCH,
        Some(json!({"exp": 1_000_000_000})),
    )
    .await;
    let key_ec = broken(&env, "stkeyec", false).await;
    let key_small = broken(&env, "stkeysmall", false).await;
    let no_soft_delete = broken(&env, "stnosoft", false).await;
    let no_purge = broken(&env, "stnopurge", false).await;
    env.edit_state(|state| {
        let key = &mut vault_in_state(state, &key_ec.vault_name)["keys"]["cmk"];
        key["kty"] = json!("EC");
        key["keySize"] = Value::Null;
        key["curveName"] = json!("P-256");
        vault_in_state(state, &key_small.vault_name)["keys"]["cmk"]["keySize"] = json!(1024);
        vault_in_state(state, &no_soft_delete.vault_name)["enableSoftDelete"] = json!(false);
        vault_in_state(state, &no_purge.vault_name)["enablePurgeProtection"] = json!(false);
    })
    .await;
    let identity_deleted = broken(&env, "stiddel", false).await;
    env.arm(
        Method::DELETE,
        &format!("{}?{MSI_API}", identity_deleted.identity_id),
        None,
    )
    .await;
    let identity_removed = broken(&env, "stidnone", false).await;
    let a = env
        .arm(
            Method::PATCH,
            &format!("{}?{STORAGE_API}", identity_removed.account_id),
            Some(json!({"identity": {"type": "None"}})),
        )
        .await;
    assert!(a.status.is_success(), "{:?}", a.body);
    let policy_removed = broken(&env, "stnopolicy", false).await;
    env.arm(
        Method::PUT,
        &format!(
            "{}/accessPolicies/replace?{VAULT_API}",
            policy_removed.vault_id
        ),
        Some(json!({"properties": {"accessPolicies": [{
            "tenantId": env.emu.connection.tenant_id, "objectId": policy_removed.principal_id,
            "permissions": {"keys": ["get", "wrapKey"]}}]}})),
    )
    .await;
    let rbac_no_role = broken(&env, "stnorole", true).await;
    let assignments = env
        .arm(
            Method::GET,
            &format!(
                "{}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01",
                rbac_no_role.vault_id
            ),
            None,
        )
        .await;
    for a in assignments.body["value"].as_array().unwrap() {
        env.arm(
            Method::DELETE,
            &format!("{}?api-version=2022-04-01", a["id"].as_str().unwrap()),
            None,
        )
        .await;
    }
    let firewalled = broken(&env, "stfirewall", false).await;
    let a = env
        .arm(
            Method::PATCH,
            &format!("{}?{VAULT_API}", firewalled.vault_id),
            Some(
                json!({"properties": {"networkAcls": {"defaultAction": "Deny", "bypass": "None"}}}),
            ),
        )
        .await;
    assert!(a.status.is_success(), "{:?}", a.body);

    let run = env.tool().run(&["audit", "-o", "json"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    let report = run.json();
    assert_eq!(
        destination(&report, &healthy.account_id)["status"],
        "compliant"
    );
    for (account, code) in [
        (&key_deleted, "key_not_found"),
        (&key_disabled, "key_disabled"),
        (&key_expired, "key_expired"),
        (&key_ec, "key_not_rsa"),
        (&key_small, "key_too_small"),
        (&no_soft_delete, "vault_soft_delete_disabled"),
        (&no_purge, "vault_purge_protection_disabled"),
        (&identity_deleted, "identity_missing"),
        (&identity_removed, "identity_missing"),
        (&policy_removed, "identity_lacks_key_access"),
        (&rbac_no_role, "identity_lacks_key_access"),
        (&firewalled, "vault_firewall_blocks_trusted_services"),
    ] {
        let d = destination(&report, &account.account_id);
        assert_eq!(d["status"], "cmk_broken", "{d:#}");
        assert_eq!(codes(d), vec![code.to_string()], "{d:#}");
        let message = d["reasons"][0]["message"].as_str().unwrap();
        assert!(!message.is_empty());
    }
    assert_eq!(report["summary"]["cmk_broken"], 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_and_missing_accounts_and_unlistable_subscriptions_are_reported_and_the_rest_audited(
) {
    let env = Env::start().await;
    for (sub, name) in [(SUB1, "prod"), (SUB2, "dev"), (SUB3, "data")] {
        env.add_subscription(sub, name).await;
    }
    let hidden = env.storage_account(SUB1, "rg-secret", "sthidden").await;
    env.diagnostic_setting(SUB1, "to-hidden", &hidden, true)
        .await;
    let gone = env.storage_account(SUB1, "rg-old", "stgone").await;
    env.diagnostic_setting(SUB1, "to-gone", &gone, true).await;
    env.arm(Method::DELETE, &format!("{gone}?{STORAGE_API}"), None)
        .await;
    let plain = env.storage_account(SUB3, "rg-logs", "stplain").await;
    env.diagnostic_setting(SUB3, "to-plain", &plain, true).await;
    env.diagnostic_setting(SUB2, "to-plain", &plain, true).await;
    env.deny(&[
        &hidden,
        &format!("/subscriptions/{SUB2}/providers/Microsoft.Insights"),
    ])
    .await;

    let run = env.tool().run(&["audit", "-o", "json"]).await;
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_matches_project_schema("audit.schema.json", &report, "an incomplete audit");
    assert_eq!(report["summary"]["incomplete"], true);
    let h = destination(&report, &hidden);
    assert_eq!(h["status"], "unreadable");
    assert_eq!(codes(h), vec!["access_denied"]);
    assert!(
        h["reasons"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Microsoft.Storage/storageAccounts/read"),
        "{h:#}"
    );
    let g = destination(&report, &gone);
    assert_eq!(g["status"], "missing");
    assert_eq!(codes(g), vec!["account_not_found"]);
    assert_eq!(g["sources"][0]["name"], "to-gone");
    let p = destination(&report, &plain);
    assert_eq!(p["status"], "non_compliant");
    let sub2 = report["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["subscription_id"] == SUB2)
        .unwrap();
    assert_eq!(sub2["complete"], false);
    assert!(
        sub2["errors"][0]
            .as_str()
            .unwrap()
            .contains("Microsoft.Insights/diagnosticSettings/read"),
        "{sub2:#}"
    );
    // Log profiles could not be read either: a warning, not a failure.
    assert!(
        report["warnings"].to_string().contains("log profiles"),
        "{:#}",
        report["warnings"]
    );

    let text = env.tool().run(&["audit"]).await;
    assert_eq!(text.code, 3);
    assert!(text.stdout.contains("INCOMPLETE"), "{}", text.stdout);
}

/// The audit does not wait for the subscription list's last page: the
/// first page's sources, and the destination they name, are read while ARM
/// is still paging (a tenant of 5,000 subscriptions has 50 pages).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_and_destinations_are_read_while_the_list_is_still_paging() {
    let mut settings = fast_settings();
    settings.subscription_page_size = 1;
    let env = Env::start_with(settings).await;
    for (sub, name) in [(SUB1, "prod"), (SUB2, "dev"), (SUB3, "data")] {
        env.add_subscription(sub, name).await;
    }
    let central = env.storage_account(SUB1, "rg-logs", "stcentral").await;
    env.diagnostic_setting(SUB1, "to-central", &central, true)
        .await;
    env.patch_settings(json!({"faults": {"operationLatencyMs": {"Subscriptions_List": 400}}}))
        .await;
    env.clear_requests().await;

    let run = env.tool().run(&["audit", "-o", "json"]).await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.json()["summary"]["subscriptions"], 3);
    let requests = env.arm_requests().await;
    let answered = |operation: &str| -> Vec<usize> {
        requests
            .iter()
            .enumerate()
            .filter(|(_, r)| r["operation"].as_str() == Some(operation))
            .map(|(i, _)| i)
            .collect()
    };
    let pages = answered("Subscriptions_List");
    assert_eq!(pages.len(), 3, "{requests:?}");
    let last_page = *pages.last().unwrap();
    let first_sources = answered("SubscriptionDiagnosticSettings_List")[0];
    let account = answered("StorageAccounts_GetProperties")[0];
    assert!(first_sources < last_page, "{requests:?}");
    assert!(account < last_page, "{requests:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_estate_exits_zero() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "prod").await;
    env.add_subscription(SUB2, "empty").await;
    let good = env
        .cmk_account(SUB1, "rg", "stgood", "kv-clean-1", true)
        .await;
    env.diagnostic_setting(SUB1, "to-good", &good.account_id, true)
        .await;
    let run = env.tool().run(&["audit", "-o", "json"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json()["summary"]["compliant"], 1);
    let empty = env.tool().run(&["audit", "-s", SUB2]).await;
    assert_eq!(empty.code, 0, "{}", empty.stderr);
    assert!(
        empty.stdout.contains("No subscription in scope sends"),
        "{}",
        empty.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_and_wrong_endpoints_fail_with_a_clear_message_and_no_call() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "prod").await;
    env.clear_requests().await;
    let tool = env.tool();

    // "prod" is a display name now (tests subscriptions_can_be_named_...):
    // a mistyped id is the bad input.
    let bad = tool
        .run(&[
            "audit",
            "--subscription",
            "1111111-1111-1111-1111-111111111111",
        ])
        .await;
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr.contains("'1111111-1111-1111-1111-111111111111'") && bad.stderr.contains("GUID"),
        "{}",
        bad.stderr
    );
    assert!(env.arm_requests().await.is_empty());

    let closed = tool
        .run(&[
            "audit",
            "--arm-endpoint",
            "https://127.0.0.1:1",
            "-s",
            SUB1,
            "--max-retries",
            "0",
        ])
        .await;
    assert_eq!(closed.code, 1, "{}", closed.stdout);
    assert!(closed.stderr.contains("cannot reach"), "{}", closed.stderr);

    let plain = tool
        .run(&["audit", "--arm-endpoint", "http://management.example.com"])
        .await;
    assert_eq!(plain.code, 1);
    assert!(plain.stderr.contains("plain http"), "{}", plain.stderr);

    // The emulator without its CA: the certificate is not trusted.
    let mut untrusted = tool.command(&["audit", "-s", SUB1]);
    untrusted.env_remove("ACTLOG_CMK_CA_FILE");
    let out = tokio::task::spawn_blocking(move || untrusted.output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--ca-file"), "{stderr}");
    assert!(env.arm_requests().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soft_fail_exits_0_on_findings_but_not_on_an_incomplete_audit() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "prod").await;
    let plain = env.storage_account(SUB1, "rg-app", "stplain").await;
    env.diagnostic_setting(SUB1, "to-plain", &plain, true).await;
    let tool = env.tool();
    assert_eq!(tool.run(&["audit"]).await.code, 2);
    let soft = tool.run(&["audit", "--soft-fail", "-o", "json"]).await;
    assert_eq!(soft.code, 0, "{}", soft.stderr);
    // The report still says what was found.
    assert_eq!(soft.json()["summary"]["non_compliant"], 1);
    // Errors stay errors.
    let bad = tool.run(&["audit", "--soft-fail", "-s", "1111-2222"]).await;
    assert_eq!(bad.code, 1, "{}", bad.stderr);
    // An incomplete audit may miss findings: still 3.
    let hidden = env.storage_account(SUB1, "rg-secret", "sthidden").await;
    env.diagnostic_setting(SUB1, "to-hidden", &hidden, true)
        .await;
    env.deny(&[&hidden]).await;
    let incomplete = tool.run(&["audit", "--soft-fail"]).await;
    assert_eq!(incomplete.code, 3, "{}", incomplete.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_can_be_named_by_display_name() {
    let env = Env::start().await;
    for (sub, name) in [
        (SUB1, "contoso-prod"),
        (SUB2, "contoso-dev"),
        (SUB3, "contoso-dev"),
    ] {
        env.add_subscription(sub, name).await;
    }
    let plain = env.storage_account(SUB1, "rg-app", "stplain").await;
    env.diagnostic_setting(SUB1, "to-plain", &plain, true).await;
    let tool = env.tool();

    // A unique name (in any case) covers that subscription alone.
    for name in ["contoso-prod", "CONTOSO-PROD"] {
        env.clear_requests().await;
        let run = tool.run(&["audit", "-s", name, "-o", "json"]).await;
        assert_eq!(run.code, 2, "{}", run.stderr);
        let report = run.json();
        let subs: Vec<&str> = report["subscriptions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["subscription_id"].as_str().unwrap())
            .collect();
        assert_eq!(subs, [SUB1], "{report:#}");
        for r in env.arm_requests().await {
            let path = r["path"].as_str().unwrap();
            assert!(!path.contains(SUB2) && !path.contains(SUB3), "{path}");
        }
    }
    // Names work on plan, apply and rollback as well.
    let plan = tool
        .run(&["plan", "-s", "contoso-prod", "-o", "json"])
        .await;
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert_eq!(plan.json()["accounts"].as_array().unwrap().len(), 1);
    let dry = tool
        .run(&["apply", "--dry-run", "-s", "contoso-prod", "-o", "json"])
        .await;
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let rollback = tool
        .run(&["rollback", "--dry-run", "-s", "contoso-prod"])
        .await;
    assert_eq!(rollback.code, 0, "{}", rollback.stderr);

    // An ambiguous name is refused, listing the matches.
    for command in [
        &["audit"][..],
        &["plan"],
        &["apply", "--dry-run"],
        &["rollback", "--dry-run"],
    ] {
        let mut args = command.to_vec();
        args.extend(["-s", "contoso-dev"]);
        let run = tool.run(&args).await;
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("ambiguous")
                && run.stderr.contains(SUB2)
                && run.stderr.contains(SUB3),
            "{args:?}: {}",
            run.stderr
        );
    }
    // An unknown one, naming it; a malformed id before any call.
    let unknown = tool.run(&["audit", "-s", "contoso-test"]).await;
    assert_eq!(unknown.code, 1);
    assert!(
        unknown.stderr.contains("'contoso-test'"),
        "{}",
        unknown.stderr
    );
    env.clear_requests().await;
    let malformed = tool
        .run(&["audit", "-s", "1111111-1111-1111-1111-111111111111"])
        .await;
    assert_eq!(malformed.code, 1);
    assert!(malformed.stderr.contains("GUID"), "{}", malformed.stderr);
    assert!(env.arm_requests().await.is_empty());
}

/// Text without its ANSI colour codes, as a terminal shows it.
fn without_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI: ESC [ parameters, then a final letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Issue 15, item 10: the demo's estate (the central log account fed by four
/// subscriptions, a broken RBAC setup, a legacy log profile) audited as text
/// fits 100 columns, naming accounts rather than giving 140-character ids;
/// `-v` shows every full id, as the JSON has them. Its SARIF passes GitHub.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_estate_reads_at_100_columns_and_its_sarif_passes_github() {
    let env = Env::start().await;
    let seeder = actlog_cmk::demo::seed::Seeder::connect(&env.emu.connection, &env.emu.ca_pem)
        .await
        .expect("signs in to the emulator");
    actlog_cmk::demo::estate::seed(&seeder)
        .await
        .expect("seeds the demo estate");
    let tool = env.tool();

    let text = tool.run(&["audit"]).await;
    assert_eq!(text.code, 2, "{}", text.stderr);
    let shown = without_ansi(&text.stdout);
    for line in shown.lines() {
        assert!(
            line.chars().count() <= 100,
            "{} columns: {line:?}\n{shown}",
            line.chars().count()
        );
    }
    assert!(!shown.contains("/subscriptions/"), "{shown}");
    assert!(
        shown.contains("\n[NON-COMPLIANT] stcontosoactlogs (resource group rg-logging)\n"),
        "{shown}"
    );
    assert!(
        shown.contains("in RBAC key vault kv-contoso-data-arc: assign"),
        "{shown}"
    );

    let report = tool.run(&["audit", "-o", "json"]).await.json();
    let verbose = tool.run(&["audit", "-v"]).await;
    assert_eq!(verbose.code, 2, "{}", verbose.stderr);
    let destinations = report["destinations"].as_array().unwrap();
    assert_eq!(destinations.len(), 5);
    for destination in destinations {
        let id = destination["storage_account_id"].as_str().unwrap();
        assert!(id.starts_with("/subscriptions/"), "{id}");
        let heading = verbose
            .stdout
            .lines()
            .find(|l| l.starts_with('[') && l.ends_with(&format!(" {id}")));
        assert!(
            heading.is_some(),
            "no heading for {id} in\n{}",
            verbose.stdout
        );
    }
    assert!(
        verbose.stdout.contains(
            "/resourceGroups/rg-data-archive/providers/Microsoft.KeyVault/vaults/kv-contoso-data-arc: assign"
        ),
        "{}",
        verbose.stdout
    );

    // Issue 15, item 9: the binary's SARIF for the same estate passes GitHub's
    // ingestion rules, each result at its account's virtual path, and a second
    // run gives the same locations and fingerprints.
    let sarif_of = |run: support::cli::Run| {
        assert_eq!(run.code, 2, "{}", run.stderr);
        run.json()
    };
    let sarif = sarif_of(tool.run(&["audit", "-o", "sarif"]).await);
    let violations = crate::render_schemas::github_ingestion_violations(&sarif);
    assert!(violations.is_empty(), "{violations:#?}");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 4, "{sarif:#}");
    let tracked = |log: &Value| -> Vec<(Value, Value)> {
        log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["locations"].clone(), r["partialFingerprints"].clone()))
            .collect()
    };
    for result in results {
        let id = result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
            .as_str()
            .unwrap();
        let uri = &result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
        assert_eq!(
            uri,
            &json!(format!("azure{}", id.to_lowercase())),
            "{result:#}"
        );
    }
    let again = sarif_of(tool.run(&["audit", "-o", "sarif"]).await);
    assert_eq!(tracked(&sarif), tracked(&again));
}
