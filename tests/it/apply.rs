//! `actlog-cmk apply`, the real binary against the emulator: plan and apply
//! for RBAC and access-policy vaults and accounts with identities (kept);
//! saved plans (stale, damaged, foreign refused); dry runs and declined
//! confirmations write nothing; taken names; slow grants; throttling and
//! server errors; a killed apply rerun to convergence; ARM calls per account;
//! a key someone sets while apply runs is not overridden.

use crate::support;

use reqwest::Method;
use serde_json::{json, Value};
use std::path::Path;
use support::cli::Tool;
use support::estate::*;
use support::reports::{account, assert_all_compliant, audit_json};
use support::request_log::writes;
use support::*;

/// Saves a plan of the estate as it is now to `file`, for a later apply.
async fn save_plan(tool: &Tool, file: &Path) {
    assert_eq!(
        tool.run(&["plan", "--out", file.to_str().unwrap()])
            .await
            .code,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_yes_makes_every_destination_compliant_and_keeps_identities() {
    let env = Env::start().await;
    let (plain, held, other) = env.plain_and_held_accounts().await;
    let before = env.identities_of(&held).await;
    env.clear_requests().await;

    let run = env.tool().run(&["apply", "--yes", "-o", "json"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["summary"]["done"], 2, "{report:#}");

    // Five writes per account: identity, vault, key, role assignment, storage.
    // Under the field profile the grant takes tens of seconds to reach
    // storage: the switch is refused (KeyVaultAuthenticationFailure) until it
    // has, and only those refusals come on top.
    let field = profile::Profile::is_field();
    let requests = env.arm_requests().await;
    let (written, refused): (Vec<_>, Vec<_>) = writes(&requests)
        .into_iter()
        .partition(|r| !field || r["status"].as_u64().is_some_and(|s| s < 300));
    assert!(
        refused
            .iter()
            .all(|r| r["operation"] == "StorageAccounts_Update"
                && r["errorCode"] == "KeyVaultAuthenticationFailure"),
        "{refused:#?}"
    );
    assert_eq!(written.len(), 10, "{written:#?}");
    for op in [
        "UserAssignedIdentities_CreateOrUpdate",
        "Vaults_CreateOrUpdate",
        "Keys_CreateIfNotExist",
        "RoleAssignments_Create",
        "StorageAccounts_Update",
    ] {
        assert_eq!(
            written.iter().filter(|r| r["operation"] == op).count(),
            2,
            "{op}: {written:#?}"
        );
    }

    // Reads per account: the audit's, plan's name check, apply's read before
    // each create, the vault's DNS polls, the account before and after its
    // switch. The verification judges vault, key, identity and grant as the
    // steps' answers showed them; the tenant came with the subscription list;
    // identities are listed once per resource group.
    let reads = |op: &str| {
        requests
            .iter()
            .filter(|r| r["method"] == "GET" && r["operation"] == op)
            .count()
    };
    // Under the field profile ARM's index pages before it filters (a list
    // per resource group may take a few pages) and vaults take seconds to
    // register (more DNS polls).
    assert_eq!(reads("StorageAccounts_GetProperties"), 2 * 3);
    assert_eq!(reads("UserAssignedIdentities_Get"), 2);
    if field {
        assert!(
            (2..=8).contains(&reads("Resources_List")),
            "pages per resource group"
        );
    } else {
        assert_eq!(reads("Resources_List"), 2, "one per resource group");
    }
    // A refused switch is diagnosed (is the vault shut or the key unusable,
    // so that waiting cannot help?) with a vault and a key read, at 0, 5 and
    // 15 s into a wait (apply/diagnose.rs): at most four per account while
    // the field profile's 20 s grants arrive, none without refusals.
    let most_polls = if field { 2 * 8 } else { 2 * 4 };
    let diagnoses = if refused.is_empty() { 0 } else { 2 * 4 };
    assert!(
        (2 * 2..=most_polls + diagnoses).contains(&reads("Vaults_Get")),
        "one read before the create and one to three DNS polls each: {}",
        reads("Vaults_Get")
    );
    assert!(reads("Keys_Get") <= diagnoses, "{}", reads("Keys_Get"));
    for op in ["Subscriptions_Get", "RoleAssignments_ListForScope"] {
        assert_eq!(reads(op), 0, "{op}");
    }
    assert_eq!(
        requests
            .iter()
            .filter(|r| r["operation"] == "Vaults_CheckNameAvailability")
            .count(),
        2
    );

    assert_all_compliant(&audit_json(&env).await);
    // The held account kept its system-assigned identity and its other identity.
    let after = env.identities_of(&held).await;
    assert_eq!(after["type"], "SystemAssigned,UserAssigned");
    assert_eq!(after["principalId"], before["principalId"]);
    let ids = user_assigned(&after);
    assert!(ids.contains(&other.to_lowercase()), "{after:#}");
    assert_eq!(ids.len(), 2);
    assert!(env.identities_of(&plain).await["type"] == "UserAssigned");

    // A rerun finds nothing to do and writes nothing.
    env.clear_requests().await;
    let again = env.tool().run(&["apply", "--yes"]).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(writes(&env.arm_requests().await).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_with_access_policies_is_applied_exactly() {
    let env = Env::start().await;
    let (_, _, _) = env.plain_and_held_accounts().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.json");
    let tool = env.tool();
    let plan = tool
        .run(&[
            "plan",
            "--permission-model",
            "access-policy",
            "--out",
            file.to_str().unwrap(),
        ])
        .await;
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    env.clear_requests().await;
    let run = tool.run(&["apply", file.to_str().unwrap()]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("2 done"), "{}", run.stdout);
    let written = env.arm_requests().await;
    let written = writes(&written);
    assert_eq!(
        written
            .iter()
            .filter(|r| r["operation"] == "Vaults_UpdateAccessPolicy")
            .count(),
        2
    );
    assert_eq!(
        written
            .iter()
            .filter(|r| r["operation"] == "RoleAssignments_Create")
            .count(),
        0
    );
    assert_all_compliant(&audit_json(&env).await);

    // The same file again: every account changed since (it is compliant now).
    let stale = tool.run(&["apply", file.to_str().unwrap()]).await;
    assert_eq!(stale.code, 3, "{}", stale.stdout);
    assert!(
        stale.stdout.contains("changed since the plan was made"),
        "{}",
        stale.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_account_is_refused_and_the_others_applied() {
    let env = Env::start().await;
    let (plain, held, _) = env.plain_and_held_accounts().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.json");
    let tool = env.tool();
    save_plan(&tool, &file).await;
    // Someone changes the plain account after the plan was made.
    let a = env
        .arm(
            Method::PATCH,
            &format!("{plain}?{STORAGE_API}"),
            Some(json!({"identity": {"type": "SystemAssigned"}})),
        )
        .await;
    assert!(a.status.is_success());
    env.clear_requests().await;
    let run = tool
        .run(&["apply", file.to_str().unwrap(), "-o", "json"])
        .await;
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    let outcome = |id: &str| account(&report, id).clone();
    assert_eq!(outcome(&plain)["outcome"], "refused");
    assert!(outcome(&plain)["next_step"]
        .as_str()
        .unwrap()
        .contains("plan again"));
    assert_eq!(outcome(&held)["outcome"], "done");
    let requests = env.arm_requests().await;
    assert!(
        writes(&requests).iter().all(|r| !r["path"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("/rg-app/")),
        "the refused account's resources were touched: {:#?}",
        writes(&requests)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_and_foreign_plan_files_are_refused_as_a_whole() {
    let env = Env::start().await;
    env.plain_and_held_accounts().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.json");
    let tool = env.tool();
    save_plan(&tool, &file).await;
    let text = std::fs::read_to_string(&file).unwrap();
    let plan = actlog_cmk::plan::file::load(&file).unwrap();
    env.clear_requests().await;

    let cases = [
        // Edited by hand: the checksum no longer matches.
        (
            "edited",
            text.replacen("activity-log-cmk", "another-key", 1),
            "changed after it was written",
        ),
        (
            "truncated",
            text[..text.len() / 2].to_string(),
            "is truncated",
        ),
    ];
    for (name, content, wanted) in &cases {
        let path = dir.path().join(format!("{name}.json"));
        std::fs::write(&path, content).unwrap();
        let run = tool.run(&["apply", path.to_str().unwrap(), "--yes"]).await;
        assert_eq!(run.code, 1, "{name}: {}", run.stderr);
        assert!(run.stderr.contains(wanted), "{name}: {}", run.stderr);
        assert!(
            run.stderr.contains(path.to_str().unwrap()),
            "{name}: {}",
            run.stderr
        );
    }
    // Another endpoint, another tenant (well-formed files).
    let mut foreign = plan.clone();
    foreign.arm_endpoint = "https://management.azure.com/".into();
    let path = dir.path().join("endpoint.json");
    actlog_cmk::plan::file::save(&foreign, &path).unwrap();
    let run = tool.run(&["apply", path.to_str().unwrap()]).await;
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("https://management.azure.com"),
        "{}",
        run.stderr
    );
    let mut foreign = plan.clone();
    foreign.tenant_id = "00000000-0000-0000-0000-00000000beef".into();
    let path = dir.path().join("tenant.json");
    actlog_cmk::plan::file::save(&foreign, &path).unwrap();
    let run = tool.run(&["apply", path.to_str().unwrap()]).await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("tenant"), "{}", run.stderr);
    assert!(writes(&env.arm_requests().await).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_runs_declined_confirmations_and_missing_terminals_write_nothing() {
    let env = Env::start().await;
    env.plain_and_held_accounts().await;
    let tool = env.tool();
    env.clear_requests().await;

    let dry = tool.run(&["apply", "--dry-run"]).await;
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stdout.contains("would make these calls"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout.contains("PATCH /subscriptions/"),
        "{}",
        dry.stdout
    );
    // Issue 15 item 4: what would happen, per account and in the summary.
    assert!(
        dry.stdout
            .contains("Apply dry run: 0 done, 0 failed, 0 refused, 0 skipped, 2 would create."),
        "{}",
        dry.stdout
    );
    let json = tool.run(&["apply", "--dry-run", "-o", "json"]).await;
    assert_eq!(json.code, 0, "{}", json.stderr);
    let report = json.json();
    assert_eq!(report["summary"]["would_create"], 2, "{report:#}");
    assert_eq!(report["summary"]["skipped"], 0, "{report:#}");
    for account in report["accounts"].as_array().unwrap() {
        assert_eq!(account["outcome"], "would_create", "{account:#}");
    }

    // --quiet: no diff, no progress; the result only.
    let quiet = tool.run(&["apply", "--dry-run", "--quiet"]).await;
    assert_eq!(quiet.code, 0, "{}", quiet.stderr);
    assert!(!quiet.stdout.contains("Plan:"), "{}", quiet.stdout);
    assert!(
        quiet.stdout.contains("would make these calls"),
        "{}",
        quiet.stdout
    );
    assert!(quiet.stderr.is_empty(), "{}", quiet.stderr);

    // No terminal, or the operator answers "no": refused.
    tool.assert_confirmation_required("apply").await;

    assert!(writes(&env.arm_requests().await).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vault_name_taken_after_the_plan_fails_that_account_with_the_next_step() {
    let env = Env::start().await;
    let (plain, held, _) = env.plain_and_held_accounts().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.json");
    let tool = env.tool();
    save_plan(&tool, &file).await;
    let plan = actlog_cmk::plan::file::load(&file).unwrap();
    let target = plan
        .accounts
        .iter()
        .find(|a| a.storage_account_id.eq_ignore_ascii_case(&plain))
        .unwrap();
    let vault_name = target
        .targets
        .vault_id
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    env.add_subscription(SUB3, "elsewhere").await;
    env.vault(SUB3, "rg-theirs", &vault_name, json!({})).await;

    let run = tool
        .run(&["apply", file.to_str().unwrap(), "-o", "json"])
        .await;
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    let find = |id: &str| account(&report, id).clone();
    let failed = find(&plain);
    assert_eq!(failed["outcome"], "failed", "{failed:#}");
    assert!(
        failed["reason"]
            .as_str()
            .unwrap()
            .contains("VaultAlreadyExists"),
        "{failed:#}"
    );
    assert!(
        failed["next_step"]
            .as_str()
            .unwrap()
            .contains("run plan again"),
        "{failed:#}"
    );
    assert_eq!(find(&held)["outcome"], "done");

    // Planning again picks a free name, and apply finishes the job.
    let fixed = tool.run(&["apply", "--yes"]).await;
    assert_eq!(fixed.code, 0, "{}\n{}", fixed.stdout, fixed.stderr);
    assert_all_compliant(&audit_json(&env).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_grant_is_waited_for() {
    let mut settings = fast_settings();
    settings.grant_propagation_ms = 3000;
    let env = Env::start_with(settings).await;
    env.add_subscription(SUB1, "prod").await;
    let account = env.storage_account(SUB1, "rg-app", "stslow").await;
    env.diagnostic_setting(SUB1, "to-slow", &account, true)
        .await;
    env.clear_requests().await;
    let run = env.tool().run(&["apply", "--yes"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let requests = env.arm_requests().await;
    let attempts: Vec<&Value> = requests
        .iter()
        .filter(|r| r["operation"] == "StorageAccounts_Update")
        .collect();
    assert!(
        attempts.len() >= 3,
        "the grant should outlast several attempts: {attempts:#?}"
    );
    assert!(attempts[..attempts.len() - 1]
        .iter()
        .all(|r| r["errorCode"] == "KeyVaultAuthenticationFailure"));
    assert_eq!(attempts.last().unwrap()["status"], 200);
    assert_all_compliant(&audit_json(&env).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_storms_and_server_error_bursts_are_ridden_out() {
    let env = Env::start().await;
    env.plain_and_held_accounts().await;
    // Small buckets (the real ones are 250 reads and 200 writes per
    // subscription) and one call in seven answered 500/503.
    env.patch_settings(json!({
        "throttling": {"enabled": true,
            "reads": {"capacity": 3.0, "refillPerSec": 10.0},
            "writes": {"capacity": 1.0, "refillPerSec": 1.0}},
        "faults": {"errorRate": 0.15, "seed": 7}
    }))
    .await;
    env.clear_requests().await;
    let run = env
        .tool()
        .run(&["apply", "--yes", "--parallelism", "8"])
        .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let requests = env.arm_requests().await;
    assert!(
        requests.iter().any(|r| r["status"] == 429),
        "no throttling happened"
    );
    assert!(
        requests
            .iter()
            .any(|r| r["status"] == 500 || r["status"] == 503),
        "no server error happened"
    );
    env.patch_settings(json!({"faults": {"errorRate": 0.0}, "throttling": {"enabled": false}}))
        .await;
    assert_all_compliant(&audit_json(&env).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_set_while_apply_runs_is_not_overridden() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "prod").await;
    let target = env.storage_account(SUB1, "rg-app", "stmoved").await;
    env.diagnostic_setting(SUB1, "to-moved", &target, true)
        .await;
    let (theirs, principal) = env.identity(SUB1, "rg-theirs", "id-theirs").await;
    let vault = env
        .vault(
            SUB1,
            "rg-theirs",
            "kv-theirs",
            json!({"enableRbacAuthorization": true}),
        )
        .await;
    env.key(&vault, "cmk", json!({"kty": "RSA", "keySize": 3072}))
        .await;
    env.role_assignment(&vault, &principal, CRYPTO_SERVICE_ENCRYPTION_USER)
        .await;
    // The tool's new vault takes seconds to register its DNS: long enough for
    // someone to put the account on their own key between the plan and the
    // storage update.
    env.patch_settings(json!({"vaultProvisioningMs": 3000}))
        .await;
    env.clear_requests().await;

    let someone = async {
        loop {
            let requests = env.arm_requests().await;
            if requests
                .iter()
                .any(|r| r["operation"] == "Vaults_CreateOrUpdate")
            {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        env.switch_to_cmk(&target, "kv-theirs", "cmk", &theirs, "Microsoft.Keyvault")
            .await;
    };
    let tool = env.tool();
    let (run, ()) = tokio::join!(tool.run(&["apply", "--yes", "-o", "json"]), someone);
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    let result = &report["accounts"][0];
    assert_eq!(result["outcome"], "failed", "{report:#}");
    let reason = result["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("changed since the plan") && reason.contains("kv-theirs"),
        "{reason}"
    );
    assert!(result["next_step"]
        .as_str()
        .unwrap_or_default()
        .contains("run plan again"));
    // Still on their key, with their identity.
    let account = env
        .arm(Method::GET, &format!("{target}?{STORAGE_API}"), None)
        .await
        .body;
    let encryption = &account["properties"]["encryption"];
    assert_eq!(
        encryption["keyvaultproperties"]["keyvaulturi"],
        "https://kv-theirs.vault.azure.net/"
    );
    assert_eq!(encryption["identity"]["userAssignedIdentity"], theirs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_refuses_flags_that_would_change_it() {
    let env = Env::start().await;
    env.plain_and_held_accounts().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.json");
    let file = file.to_str().unwrap();
    let tool = env.tool();
    save_plan(&tool, Path::new(file)).await;
    env.clear_requests().await;
    let vault = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-x";
    let identity = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-x";
    let cases: [(&[&str], &[&str]); 4] = [
        (
            &["--key-size", "4096", "-s", SUB1],
            &["--key-size", "--subscription"],
        ),
        (
            &[
                "--vault-name",
                "kv-{account}",
                "--identity-name",
                "id-{account}",
            ],
            &["--vault-name", "--identity-name"],
        ),
        (
            &["--identity", identity, "--key-vault", vault],
            &["--identity", "--key-vault"],
        ),
        (&["--tag", "owner=me"], &["--tag"]),
    ];
    for (flags, named) in cases {
        let mut args = vec!["apply", file, "--yes"];
        args.extend_from_slice(flags);
        let run = tool.run(&args).await;
        assert_eq!(run.code, 1, "{flags:?}: {}\n{}", run.stdout, run.stderr);
        for flag in named {
            assert!(run.stderr.contains(flag), "{flag}: {}", run.stderr);
        }
        assert!(
            run.stderr.contains("saved plan") && run.stderr.contains("nothing was changed"),
            "{}",
            run.stderr
        );
    }
    // Refused before anything was read.
    assert!(env.arm_requests().await.is_empty());
    // What does not shape the plan is accepted, and the plan is applied as
    // saved, whatever the environment says.
    let mut cmd = tool.command(&["apply", file, "--parallelism", "4", "-o", "json"]);
    cmd.env("ACTLOG_CMK_KEY_SIZE", "4096");
    let run = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // The plan's key: the default name and size, not the environment's size.
    let vaults = env
        .resources_of_type(SUB1, "Microsoft.KeyVault/vaults")
        .await;
    assert_eq!(vaults.len(), 1, "{vaults:?}");
    let key = env
        .arm(
            Method::GET,
            &format!("{}/keys/activity-log-cmk?{VAULT_API}", vaults[0]),
            None,
        )
        .await;
    assert_eq!(key.body["properties"]["keySize"], 3072, "{:?}", key.body);
}

/// Issue 15 item 6: a plan file whose request was edited (and its checksum
/// recomputed) still shows the old diff; apply refuses it before any write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_file_whose_requests_disagree_with_its_diff_is_refused() {
    let env = Env::start().await;
    env.plain_and_held_accounts().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.json");
    let tool = env.tool();
    save_plan(&tool, &file).await;
    let mut plan = actlog_cmk::plan::file::load(&file).unwrap();
    let key = plan.accounts[0]
        .changes
        .iter_mut()
        .find_map(|c| match &mut c.desired {
            actlog_cmk::plan::Desired::Key(key) => Some(&mut key.key_size),
            _ => None,
        })
        .expect("the plan creates a key");
    *key = 2048;
    let edited = dir.path().join("edited.json");
    actlog_cmk::plan::file::save(&plan, &edited).unwrap();
    env.clear_requests().await;

    let run = tool.run(&["apply", edited.to_str().unwrap()]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("key_size = 2048"), "{}", run.stderr);
    assert!(
        run.stderr.contains(edited.to_str().unwrap()),
        "{}",
        run.stderr
    );
    assert!(writes(&env.arm_requests().await).is_empty());
    // The file as plan wrote it is applied.
    let run = tool.run(&["apply", file.to_str().unwrap()]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
}
