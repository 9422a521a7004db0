//! `actlog-cmk rollback`, the real binary against the emulator: apply, then
//! rollback, then audit: the accounts are `non_compliant` again with every
//! identity they had before apply, and the vault and key are still there.
//! `--remove-grants` removes what the tool granted and nothing else; an
//! account the tool never touched is refused unless `--force`; a rerun
//! changes nothing; a rollback interrupted between its two PATCHes finishes;
//! `--dry-run`, a missing terminal and a declined confirmation write nothing.
//! Every claim is checked in the emulator's state and request log.

use crate::support;

use reqwest::Method;
use serde_json::{json, Value};
use support::estate::*;
use support::reports::{account, audit_json};
use support::request_log::writes;
use support::*;

fn count(written: &[&Value], operation: &str) -> usize {
    written
        .iter()
        .filter(|r| r["operation"] == operation)
        .count()
}

async fn get(env: &Env, path: &str, api: &str) -> Value {
    let a = env.arm(Method::GET, &format!("{path}?{api}"), None).await;
    assert!(a.status.is_success(), "GET {path}: {:?}", a.body);
    a.body
}

async fn exists(env: &Env, path: &str, api: &str) -> bool {
    let a = env.arm(Method::GET, &format!("{path}?{api}"), None).await;
    match a.status.as_u16() {
        200 => true,
        404 => false,
        other => panic!("GET {path}: {other} {:?}", a.body),
    }
}

async fn audit_statuses(env: &Env) -> Vec<(String, String)> {
    audit_json(env).await["destinations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["storage_account_id"].as_str().unwrap().to_lowercase(),
                d["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// What apply set up for one account, read back from the account.
struct Remediated {
    identity_id: String,
    principal_id: String,
    vault_id: String,
    key_name: String,
}

async fn remediated(env: &Env, account: &str) -> Remediated {
    let body = get(env, account, STORAGE_API).await;
    let encryption = &body["properties"]["encryption"];
    assert_eq!(encryption["keySource"], "Microsoft.Keyvault", "{body:#}");
    let identity_id = encryption["identity"]["userAssignedIdentity"]
        .as_str()
        .unwrap()
        .to_string();
    let principal_id = get(env, &identity_id, MSI_API).await["properties"]["principalId"]
        .as_str()
        .unwrap()
        .to_string();
    let uri = encryption["keyvaultproperties"]["keyvaulturi"]
        .as_str()
        .unwrap();
    let vault_name = uri
        .trim_start_matches("https://")
        .split('.')
        .next()
        .unwrap();
    // The tool puts its vault in the account's resource group.
    let rg = account.split('/').nth(4).unwrap();
    let sub = account.split('/').nth(2).unwrap();
    Remediated {
        identity_id,
        principal_id,
        vault_id: format!(
            "{}/providers/Microsoft.KeyVault/vaults/{vault_name}",
            rg_id(sub, rg)
        ),
        key_name: encryption["keyvaultproperties"]["keyname"]
            .as_str()
            .unwrap()
            .to_string(),
    }
}

async fn apply(env: &Env, extra: &[&str]) {
    let mut args = vec!["apply", "--yes"];
    args.extend_from_slice(extra);
    let run = env.tool().run(&args).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_restores_microsoft_keys_keeps_identities_vault_and_key_and_a_rerun_changes_nothing(
) {
    let env = Env::start().await;
    let (plain, held, other) = env.plain_and_held_accounts().await;
    let before = env.identities_of(&held).await;
    apply(&env, &[]).await;
    let tool_plain = remediated(&env, &plain).await;
    let tool_held = remediated(&env, &held).await;
    env.clear_requests().await;

    let run = env.tool().run(&["rollback", "--yes", "-o", "json"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["summary"]["done"], 2, "{report:#}");
    // The diff went to standard error, the JSON alone to standard output.
    assert!(run.stderr.contains("~ storage_account "), "{}", run.stderr);

    // Two PATCHes per account (key source, then identity), nothing else:
    // no key, vault, identity or grant is written or deleted.
    let requests = env.arm_requests().await;
    let written = writes(&requests);
    assert_eq!(written.len(), 4, "{written:#?}");
    assert_eq!(count(&written, "StorageAccounts_Update"), 4, "{written:#?}");
    for account in [&plain, &held] {
        let patches: Vec<&&Value> = written
            .iter()
            .filter(|r| r["path"].as_str().unwrap().eq_ignore_ascii_case(account))
            .collect();
        assert_eq!(patches.len(), 2, "{account}: {written:#?}");
    }

    // Audit: both on Microsoft-managed keys again.
    for (id, status) in audit_statuses(&env).await {
        assert_eq!(status, "non_compliant", "{id}");
    }
    // The held account kept its system-assigned identity (same principal)
    // and the other user-assigned identity; the tool's identity is off.
    let after = get(&env, &held, STORAGE_API).await;
    assert_eq!(after["identity"]["type"], "SystemAssigned,UserAssigned");
    assert_eq!(after["identity"]["principalId"], before["principalId"]);
    assert_eq!(
        user_assigned(&after["identity"]),
        vec![other.to_lowercase()]
    );
    let encryption = &after["properties"]["encryption"];
    assert_eq!(encryption["keySource"], "Microsoft.Storage");
    assert!(
        encryption.get("keyvaultproperties").is_none(),
        "{encryption:#}"
    );
    // The plain account had no identity before apply and has none now.
    let plain_after = get(&env, &plain, STORAGE_API).await;
    assert_eq!(plain_after["identity"]["type"], "None", "{plain_after:#}");
    // Vaults, keys (enabled), the tool's identities and grants are all still there.
    for tool in [&tool_plain, &tool_held] {
        let vault = get(&env, &tool.vault_id, VAULT_API).await;
        assert_eq!(vault["properties"]["provisioningState"], "Succeeded");
        let key = get(
            &env,
            &format!("{}/keys/{}", tool.vault_id, tool.key_name),
            VAULT_API,
        )
        .await;
        assert_eq!(key["properties"]["attributes"]["enabled"], true, "{key:#}");
        assert!(exists(&env, &tool.identity_id, MSI_API).await);
        let filter = format!("principalId eq '{}'", tool.principal_id);
        let query = serde_urlencoded::to_string([
            ("$filter", filter.as_str()),
            ("api-version", "2022-04-01"),
        ])
        .unwrap();
        let grants = get_raw(
            &env,
            &format!(
                "{}/providers/Microsoft.Authorization/roleAssignments?{query}",
                tool.vault_id
            ),
        )
        .await;
        assert_eq!(grants["value"].as_array().unwrap().len(), 1, "{grants:#}");
    }

    // A rerun, finding its work by the tags, has nothing to do and writes nothing.
    env.clear_requests().await;
    let again = env.tool().run(&["rollback", "--yes"]).await;
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert!(
        again.stdout.contains("No changes. Nothing to roll back."),
        "{}",
        again.stdout
    );
    // So does one naming the accounts.
    let named = env
        .tool()
        .run(&["rollback", "--yes", "--account", &plain, "--account", &held])
        .await;
    assert_eq!(named.code, 0, "{}\n{}", named.stdout, named.stderr);
    assert!(named.stdout.contains("2 skipped"), "{}", named.stdout);
    assert!(writes(&env.arm_requests().await).is_empty());

    // And apply can put them back on their keys (the same vault, key and identity).
    apply(&env, &[]).await;
    let again_plain = remediated(&env, &plain).await;
    assert_eq!(again_plain.vault_id, tool_plain.vault_id);
    assert_eq!(
        again_plain.identity_id.to_lowercase(),
        tool_plain.identity_id.to_lowercase()
    );
}

async fn get_raw(env: &Env, path_and_query: &str) -> Value {
    let a = env.arm(Method::GET, path_and_query, None).await;
    assert!(a.status.is_success(), "GET {path_and_query}: {:?}", a.body);
    a.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remove_grants_deletes_only_the_role_assignment_the_tool_created() {
    let env = Env::start().await;
    let (plain, held, _) = env.plain_and_held_accounts().await;
    apply(&env, &[]).await;
    let tool = remediated(&env, &plain).await;
    // Someone else's grants on the tool's vault, and another role for the
    // tool's identity: neither is the tool's to remove.
    let (_, stranger) = env.identity(SUB1, "rg-app", "id-stranger").await;
    let theirs = env
        .role_assignment(&tool.vault_id, &stranger, CRYPTO_SERVICE_ENCRYPTION_USER)
        .await;
    let crypto_user = "12338af0-0e69-4776-bea7-57ae8d297424";
    let extra = env
        .role_assignment(&tool.vault_id, &tool.principal_id, crypto_user)
        .await;
    env.clear_requests().await;

    let run = env
        .tool()
        .run(&["rollback", "--yes", "--remove-grants", "--account", &plain])
        .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("  - role_assignment \""),
        "{}",
        run.stdout
    );
    let requests = env.arm_requests().await;
    let written = writes(&requests);
    assert_eq!(count(&written, "RoleAssignments_Delete"), 1, "{written:#?}");
    assert_eq!(count(&written, "StorageAccounts_Update"), 2, "{written:#?}");
    assert_eq!(written.len(), 3, "{written:#?}");
    let deleted = written
        .iter()
        .find(|r| r["operation"] == "RoleAssignments_Delete")
        .unwrap()["path"]
        .as_str()
        .unwrap()
        .to_lowercase();
    assert!(
        deleted.starts_with(&format!("{}/keys/", tool.vault_id.to_lowercase())),
        "{deleted}"
    );
    assert!(exists(&env, &theirs, "api-version=2022-04-01").await);
    assert!(exists(&env, &extra, "api-version=2022-04-01").await);
    assert!(!exists(&env, &deleted, "api-version=2022-04-01").await);
    // The other account was not named: untouched, still compliant.
    assert!(requests
        .iter()
        .filter(|r| r["method"] != "GET")
        .all(|r| !r["path"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("/rg-held/")));
    let statuses = audit_statuses(&env).await;
    let status = |id: &str| {
        statuses
            .iter()
            .find(|(i, _)| i == &id.to_lowercase())
            .unwrap()
            .1
            .clone()
    };
    assert_eq!(status(&plain), "non_compliant");
    assert_eq!(status(&held), "compliant");

    // A rerun with --remove-grants finds nothing left to remove.
    env.clear_requests().await;
    let again = env
        .tool()
        .run(&["rollback", "--yes", "--remove-grants", "--account", &plain])
        .await;
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert!(writes(&env.arm_requests().await).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remove_grants_takes_the_tools_access_policy_entry_and_leaves_the_others() {
    let env = Env::start().await;
    let (plain, held, _) = env.plain_and_held_accounts().await;
    apply(&env, &["--permission-model", "access-policy"]).await;
    let tool = remediated(&env, &plain).await;
    let (_, stranger) = env.identity(SUB1, "rg-app", "id-stranger").await;
    env.access_policy(&tool.vault_id, &stranger, &["get", "wrapKey", "unwrapKey"])
        .await;
    // A grant made first, then rolled back without --remove-grants, is
    // removed by a later run with it.
    let first = env.tool().run(&["rollback", "--yes"]).await;
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    assert!(
        first.stdout.contains("--remove-grants removes it"),
        "{}",
        first.stdout
    );
    env.clear_requests().await;

    let run = env
        .tool()
        .run(&["rollback", "--yes", "--remove-grants", "-o", "json"])
        .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let requests = env.arm_requests().await;
    let written = writes(&requests);
    assert_eq!(written.len(), 2, "{written:#?}");
    assert_eq!(
        count(&written, "Vaults_UpdateAccessPolicy"),
        2,
        "{written:#?}"
    );
    assert!(written.iter().all(|r| r["path"]
        .as_str()
        .unwrap()
        .ends_with("/accessPolicies/remove")));
    let policies =
        get(&env, &tool.vault_id, VAULT_API).await["properties"]["accessPolicies"].clone();
    let objects: Vec<&str> = policies
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["objectId"].as_str().unwrap())
        .collect();
    assert_eq!(objects, vec![stranger.as_str()], "{policies:#}");
    let held_tool = remediated_vault_policies(&env, &held).await;
    assert!(held_tool.is_empty(), "{held_tool:#?}");

    env.clear_requests().await;
    let again = env
        .tool()
        .run(&["rollback", "--yes", "--remove-grants"])
        .await;
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert!(writes(&env.arm_requests().await).is_empty());
}

/// The access policies left in the tool's vault of an account (by tag).
async fn remediated_vault_policies(env: &Env, account: &str) -> Vec<Value> {
    let sub = account.split('/').nth(2).unwrap();
    let rg = account.split('/').nth(4).unwrap();
    let filter = format!("resourceGroup eq '{rg}' and resourceType eq 'Microsoft.KeyVault/vaults'");
    let query =
        serde_urlencoded::to_string([("$filter", filter.as_str()), ("api-version", "2024-03-01")])
            .unwrap();
    let listed = get_raw(env, &format!("/subscriptions/{sub}/resources?{query}")).await;
    let vault = listed["value"].as_array().unwrap()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    get(env, &vault, VAULT_API).await["properties"]["accessPolicies"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_the_tool_never_touched_are_refused_unless_forced() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "prod").await;
    // A CMK set up by someone else, and an account on Microsoft-managed keys.
    let theirs = env
        .cmk_account(SUB1, "rg-theirs", "sttheirs", "kv-theirs", true)
        .await;
    env.diagnostic_setting(SUB1, "to-theirs", &theirs.account_id, true)
        .await;
    let plain = env.storage_account(SUB1, "rg-plain", "stuntouched").await;
    env.diagnostic_setting(SUB1, "to-plain", &plain, true).await;
    env.clear_requests().await;
    let tool = env.tool();

    let refused = tool
        .run(&["rollback", "--yes", "--account", &theirs.account_id])
        .await;
    assert_eq!(refused.code, 3, "{}\n{}", refused.stdout, refused.stderr);
    assert!(
        refused.stdout.contains("was not remediated by actlog-cmk")
            && refused.stdout.contains("does not carry the tags")
            && refused.stdout.contains("--force"),
        "{}",
        refused.stdout
    );
    let untouched = tool
        .run(&["rollback", "--yes", "-o", "json", "--account", &plain])
        .await;
    assert_eq!(
        untouched.code, 3,
        "{}\n{}",
        untouched.stdout, untouched.stderr
    );
    let report = untouched.json();
    assert_eq!(report["accounts"][0]["outcome"], "refused", "{report:#}");
    // Without --account, neither is the tool's: both are skipped, nothing refused.
    let found = tool.run(&["rollback", "--yes"]).await;
    assert_eq!(found.code, 0, "{}\n{}", found.stdout, found.stderr);
    assert!(found.stdout.contains("2 skipped"), "{}", found.stdout);
    // --force needs --account.
    let bulk = tool.run(&["rollback", "--yes", "--force"]).await;
    assert_eq!(bulk.code, 1);
    assert!(bulk.stderr.contains("--account"), "{}", bulk.stderr);
    // A bad id is refused before any call.
    let bad = tool
        .run(&["rollback", "--yes", "--account", "/subscriptions/x"])
        .await;
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("--account"), "{}", bad.stderr);
    assert!(writes(&env.arm_requests().await).is_empty());

    // --force switches the key source back and leaves everything else: the
    // identity (not the tool's) stays on the account, and the grant stays
    // even with --remove-grants.
    let forced = tool
        .run(&[
            "rollback",
            "--yes",
            "--force",
            "--remove-grants",
            "--account",
            &theirs.account_id,
        ])
        .await;
    assert_eq!(forced.code, 0, "{}\n{}", forced.stdout, forced.stderr);
    let written = env.arm_requests().await;
    let written = writes(&written);
    assert_eq!(written.len(), 1, "{written:#?}");
    assert_eq!(written[0]["operation"], "StorageAccounts_Update");
    let account = get(&env, &theirs.account_id, STORAGE_API).await;
    assert_eq!(
        account["properties"]["encryption"]["keySource"],
        "Microsoft.Storage"
    );
    assert_eq!(
        user_assigned(&account["identity"]),
        vec![theirs.identity_id.to_lowercase()]
    );
    assert!(exists(&env, &format!("{}/keys/cmk", theirs.vault_id), VAULT_API).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_stopped_between_its_two_patches_finishes_on_the_rerun() {
    let env = Env::start().await;
    let (plain, held, other) = env.plain_and_held_accounts().await;
    apply(&env, &[]).await;
    let tool = remediated(&env, &held).await;
    // As if a rollback had died right after its first PATCH of the held account.
    let a = env
        .arm(
            Method::PATCH,
            &format!("{held}?{STORAGE_API}"),
            Some(json!({"properties": {"encryption": {"keySource": "Microsoft.Storage"}}})),
        )
        .await;
    assert!(a.status.is_success(), "{:?}", a.body);
    env.clear_requests().await;

    let run = env.tool().run(&["rollback", "--yes", "-o", "json"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let requests = env.arm_requests().await;
    let written = writes(&requests);
    let on = |account: &str| {
        written
            .iter()
            .filter(|r| r["path"].as_str().unwrap().eq_ignore_ascii_case(account))
            .count()
    };
    // The held account still named the tool's identity for encryption: the
    // first PATCH clears it, the second takes the identity off.
    assert_eq!(on(&held), 2, "{written:#?}");
    assert_eq!(on(&plain), 2, "{written:#?}");
    let after = get(&env, &held, STORAGE_API).await;
    assert_eq!(
        user_assigned(&after["identity"]),
        vec![other.to_lowercase()]
    );
    assert!(!user_assigned(&after["identity"]).contains(&tool.identity_id.to_lowercase()));

    // Again, but stopped after the second PATCH of nothing but the identity:
    // the rerun sends only what is left.
    apply(&env, &[]).await;
    let a = env
        .arm(
            Method::PATCH,
            &format!("{held}?{STORAGE_API}"),
            Some(json!({"properties": {"encryption": {"keySource": "Microsoft.Storage", "identity": {"userAssignedIdentity": ""}}}})),
        )
        .await;
    assert!(a.status.is_success(), "{:?}", a.body);
    env.clear_requests().await;
    let run = env
        .tool()
        .run(&["rollback", "--yes", "--account", &held])
        .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let requests = env.arm_requests().await;
    let written = writes(&requests);
    assert_eq!(written.len(), 1, "{written:#?}");
    let body_identity = env.identities_of(&held).await;
    assert_eq!(user_assigned(&body_identity), vec![other.to_lowercase()]);
    assert_eq!(body_identity["type"], "SystemAssigned,UserAssigned");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_runs_declined_confirmations_and_missing_terminals_write_nothing() {
    let env = Env::start().await;
    let (plain, _, _) = env.plain_and_held_accounts().await;
    apply(&env, &[]).await;
    let tool = env.tool();
    env.clear_requests().await;

    let dry = tool
        .run(&["rollback", "--dry-run", "--remove-grants"])
        .await;
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stdout.contains("would make these calls"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout.contains(&format!(
            "PATCH {plain}?api-version=2023-05-01 (keySource: Microsoft.Storage)"
        )),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout.contains("DELETE /subscriptions/"),
        "{}",
        dry.stdout
    );
    let json = tool
        .run(&["rollback", "--dry-run", "-o", "json"])
        .await
        .json();
    assert_eq!(json["dry_run"], true);
    // Issue 15 item 4: what would be rolled back is not called skipped.
    assert_eq!(json["summary"]["would_update"], 2, "{json:#}");
    assert_eq!(json["summary"]["skipped"], 0, "{json:#}");
    assert_eq!(json["accounts"][0]["outcome"], "would_update", "{json:#}");
    assert_eq!(json["accounts"][0]["steps"][0]["status"], "would_call");

    // No terminal, or the operator answers "no": refused.
    tool.assert_confirmation_required("rollback").await;

    assert!(writes(&env.arm_requests().await).is_empty());
    for (id, status) in audit_statuses(&env).await {
        assert_eq!(status, "compliant", "{id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_account_fails_with_the_next_step_and_the_others_are_done() {
    let env = Env::start().await;
    let (plain, held, _) = env.plain_and_held_accounts().await;
    apply(&env, &[]).await;
    let lock = env
        .admin(
            Method::PUT,
            "/locks/freeze",
            Some(json!({"scope": rg_id(SUB2, "rg-held"), "level": "ReadOnly"})),
        )
        .await;
    assert!(lock.status.is_success(), "{:?}", lock.body);

    let run = env.tool().run(&["rollback", "--yes", "-o", "json"]).await;
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    let find = |id: &str| account(&report, id).clone();
    assert_eq!(find(&plain)["outcome"], "done");
    let failed = find(&held);
    assert_eq!(failed["outcome"], "failed", "{failed:#}");
    assert!(
        failed["reason"].as_str().unwrap().contains("ScopeLocked"),
        "{failed:#}"
    );
    assert!(
        failed["next_step"].as_str().unwrap().contains("lock"),
        "{failed:#}"
    );
    // Still on its key, untouched.
    let body = get(&env, &held, STORAGE_API).await;
    assert_eq!(
        body["properties"]["encryption"]["keySource"],
        "Microsoft.Keyvault"
    );

    // Lock gone: the rerun finishes the held account and leaves the plain one alone.
    let unlock = env.admin(Method::DELETE, "/locks/freeze", None).await;
    assert!(unlock.status.is_success());
    env.clear_requests().await;
    let again = env.tool().run(&["rollback", "--yes"]).await;
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    let requests = env.arm_requests().await;
    let written = writes(&requests);
    assert_eq!(written.len(), 2, "{written:#?}");
    assert!(written
        .iter()
        .all(|r| r["path"].as_str().unwrap().eq_ignore_ascii_case(&held)));
    for (id, status) in audit_statuses(&env).await {
        assert_eq!(status, "non_compliant", "{id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_that_cannot_be_read_stops_the_rollback_before_any_write() {
    let env = Env::start().await;
    let (plain, held, _) = env.plain_and_held_accounts().await;
    apply(&env, &[]).await;
    env.deny(&[&rg_id(SUB2, "rg-held")]).await;
    env.clear_requests().await;
    let run = env
        .tool()
        .run(&["rollback", "--yes", "--account", &plain, "--account", &held])
        .await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("cannot plan the rollback of")
            && run.stderr.contains("stheld")
            && run.stderr.contains("nothing was changed"),
        "{}",
        run.stderr
    );
    assert!(writes(&env.arm_requests().await).is_empty());
}

/// The role assignments of `principal` at or below `vault`, as ARM lists them.
async fn assignments_of(env: &Env, vault: &str, principal: &str) -> Vec<Value> {
    let list = get_raw(
        env,
        &format!(
            "{vault}/providers/Microsoft.Authorization/roleAssignments?$filter=principalId%20eq%20'{principal}'&api-version=2022-04-01"
        ),
    )
    .await;
    list["value"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_removes_the_role_assignment_a_repair_added_and_leaves_the_others() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "prod").await;
    // Someone's CMK whose role assignment is gone: cmk_broken, and apply
    // repairs it by granting the account's own identity again.
    let broken = env
        .cmk_account(SUB1, "rg-broken", "stbroken", "kv-broken", true)
        .await;
    let lost = broken.role_assignment_id.clone().expect("an RBAC grant");
    let deleted = env
        .arm(
            Method::DELETE,
            &format!("{lost}?api-version=2022-04-01"),
            None,
        )
        .await;
    assert!(deleted.status.is_success(), "{:?}", deleted.body);
    env.diagnostic_setting(SUB1, "to-broken", &broken.account_id, true)
        .await;
    apply(&env, &[]).await;
    // Grants the tool did not make, given after the repair: another role for
    // the same identity, and the same role for a stranger.
    let crypto_user = "12338af0-0e69-4776-bea7-57ae8d297424";
    let by_hand = env
        .role_assignment(&broken.vault_id, &broken.principal_id, crypto_user)
        .await;
    let (_, stranger) = env.identity(SUB1, "rg-broken", "id-stranger").await;
    let strangers = env
        .role_assignment(&broken.vault_id, &stranger, CRYPTO_SERVICE_ENCRYPTION_USER)
        .await;
    let repaired: Vec<Value> = assignments_of(&env, &broken.vault_id, &broken.principal_id)
        .await
        .into_iter()
        .filter(|a| !a["id"].as_str().unwrap().eq_ignore_ascii_case(&by_hand))
        .collect();
    assert_eq!(repaired.len(), 1, "{repaired:#?}");
    let repair = repaired[0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        repaired[0]["properties"]["description"],
        format!(
            "created by actlog-cmk for {}",
            broken.account_id.to_lowercase()
        )
    );

    // The key is not the tool's: only a named, forced rollback touches the
    // account, and --remove-grants takes the repair's grant with it.
    env.clear_requests().await;
    let run = env
        .tool()
        .run(&[
            "rollback",
            "--yes",
            "--force",
            "--remove-grants",
            "--account",
            &broken.account_id,
        ])
        .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("  - role_assignment \""),
        "{}",
        run.stdout
    );
    let requests = env.arm_requests().await;
    let written = writes(&requests);
    assert_eq!(count(&written, "RoleAssignments_Delete"), 1, "{written:#?}");
    assert_eq!(count(&written, "StorageAccounts_Update"), 1, "{written:#?}");
    assert_eq!(written.len(), 2, "{written:#?}");
    let api = "api-version=2022-04-01";
    assert!(!exists(&env, &repair, api).await);
    assert!(exists(&env, &by_hand, api).await);
    assert!(exists(&env, &strangers, api).await);
    // The identity was the account's before the repair: it stays.
    let account = get(&env, &broken.account_id, STORAGE_API).await;
    assert_eq!(
        user_assigned(&account["identity"]),
        vec![broken.identity_id.to_lowercase()]
    );
}
