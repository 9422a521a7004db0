//! `actlog-cmk plan`, the real binary against the emulator: what it plans for
//! each kind of account, stable names, fallbacks for taken vault names, the
//! plan file, and that it never writes.

use crate::support;

use reqwest::Method;
use serde_json::{json, Value};
use support::estate::*;
use support::reports::account;
use support::request_log::writes;
use support::schemas::assert_matches_project_schema;
use support::*;

fn change<'a>(account: &'a Value, address: &str) -> Option<&'a Value> {
    account["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == address)
}

fn addresses(account: &Value) -> Vec<String> {
    account["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{}{}",
                if c["action"] == "create" { "+" } else { "~" },
                c["address"].as_str().unwrap()
            )
        })
        .collect()
}

async fn assert_no_writes(env: &Env) {
    let requests = env.arm_requests().await;
    let writes = writes(&requests);
    assert!(writes.is_empty(), "plan wrote: {writes:#?}");
    assert!(!requests.is_empty());
}

/// One subscription sending its activity log to an account on
/// Microsoft-managed keys.
async fn app_account(env: &Env) -> String {
    env.add_subscription(SUB1, "prod").await;
    let app = env.storage_account(SUB1, "rg-app", "stapp").await;
    env.diagnostic_setting(SUB1, "to-app", &app, true).await;
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_covers_several_subscriptions_keeps_identities_and_writes_nothing() {
    let env = Env::start().await;
    for (sub, name) in [(SUB1, "prod"), (SUB2, "dev"), (SUB3, "logging")] {
        env.add_subscription(sub, name).await;
    }
    let central = env.storage_account(SUB3, "rg-logs", "stcentral").await;
    env.diagnostic_setting(SUB1, "to-central", &central, true)
        .await;
    env.diagnostic_setting(SUB2, "to-central", &central, true)
        .await;
    let app = env.storage_account(SUB1, "rg-app", "stapp").await;
    env.diagnostic_setting(SUB1, "to-app", &app, true).await;
    // An account with a system-assigned identity and another user-assigned one.
    let sys = env.storage_account(SUB2, "rg-sys", "stsys").await;
    let (other, _) = env.identity(SUB2, "rg-sys", "id-other").await;
    env.give_system_and_user_identity(&sys, &other).await;
    env.log_profile(SUB2, "default", &sys).await;
    let good = env
        .cmk_account(SUB1, "rg-good", "stgood", "kv-plan-good", false)
        .await;
    env.diagnostic_setting(SUB1, "to-good", &good.account_id, true)
        .await;
    env.clear_requests().await;

    let tool = env.tool();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.json");
    let run = tool
        .run(&[
            "plan",
            "-o",
            "json",
            "--detailed-exitcode",
            "--out",
            file.to_str().unwrap(),
        ])
        .await;
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert_no_writes(&env).await;
    let plan = run.json();
    assert_eq!(plan["accounts"].as_array().unwrap().len(), 3, "{plan:#}");
    assert_eq!(plan["tenant_id"], env.emu.connection.tenant_id);
    for id in [&central, &app, &sys] {
        let a = account(&plan, id);
        assert_eq!(
            addresses(a),
            vec![
                "+identity",
                "+key_vault",
                "+key",
                "+role_assignment",
                "~storage_account"
            ],
            "{a:#}"
        );
        let vault = change(a, "key_vault").unwrap();
        assert!(vault["irreversible"].is_string(), "{vault:#}");
        assert_eq!(vault["desired"]["rbac_authorization"], true);
        let storage = &change(a, "storage_account").unwrap()["desired"];
        assert_eq!(storage["key_name"], "activity-log-cmk");
        assert!(storage.get("key_version").is_none());
    }
    // The account keeps its system-assigned identity and its other identity.
    let storage = &change(account(&plan, &sys), "storage_account").unwrap()["desired"];
    assert_eq!(storage["identity_type"], "SystemAssigned,UserAssigned");
    let kept: Vec<String> = storage["user_assigned_identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap().to_lowercase())
        .collect();
    assert!(kept.contains(&other.to_lowercase()), "{storage:#}");
    assert_eq!(kept.len(), 2);
    // New identities live beside their account; their principal is not known yet.
    let identity = change(account(&plan, &app), "identity").unwrap();
    assert!(
        identity["id"]
            .as_str()
            .unwrap()
            .contains("/resourceGroups/rg-app/"),
        "{identity:#}"
    );
    let grant = change(account(&plan, &app), "role_assignment").unwrap();
    assert_eq!(
        grant["desired"]["principal"]["of_identity"]["identity_id"],
        identity["id"]
    );
    // The compliant account is left alone.
    let skipped = plan["skipped"].as_array().unwrap();
    assert!(
        skipped.iter().any(|s| s["storage_account_id"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case(&good.account_id)
            && s["status"] == "compliant"),
        "{skipped:#?}"
    );

    // The JSON plan and the plan file match their documented schemas, and
    // the file holds the same plan.
    assert_matches_project_schema("plan.schema.json", &plan, "plan -o json");
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_matches_project_schema("planfile.schema.json", &saved, "the plan file");
    assert_matches_project_schema(
        "plan.schema.json",
        &saved["plan"],
        "the plan in the plan file",
    );
    assert_eq!(saved["plan"]["accounts"], plan["accounts"]);

    // Names are stable from run to run.
    let again = tool.run(&["plan", "-o", "json"]).await;
    assert_eq!(again.code, 0, "{}", again.stderr);
    let again = again.json();
    for id in [&central, &app, &sys] {
        assert_eq!(
            account(&again, id)["targets"],
            account(&plan, id)["targets"]
        );
        assert_eq!(
            account(&again, id)["fingerprint"],
            account(&plan, id)["fingerprint"]
        );
    }

    // The text diff.
    let text = tool.run(&["plan"]).await;
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout
            .contains("Plan: 12 to add, 3 to change, 0 to destroy."),
        "{}",
        text.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reused_vaults_get_the_grant_their_permission_model_needs() {
    let env = Env::start().await;
    let app = app_account(&env).await;
    let rbac = env
        .vault(
            SUB1,
            "rg-kv",
            "kv-shared-rbac",
            json!({"enableRbacAuthorization": true}),
        )
        .await;
    let policies = env
        .vault(
            SUB1,
            "rg-kv",
            "kv-shared-ap",
            json!({"enableRbacAuthorization": false}),
        )
        .await;
    // A vault without purge protection (as from before it was required).
    let old = env.vault(SUB1, "rg-kv", "kv-shared-old", json!({})).await;
    env.without_purge_protection("kv-shared-old").await;
    let tool = env.tool();

    let with_rbac = tool
        .run(&["plan", "-o", "json", "--key-vault", &rbac])
        .await;
    assert_eq!(with_rbac.code, 0, "{}", with_rbac.stderr);
    let a = with_rbac.json();
    let a = account(&a, &app);
    assert_eq!(
        addresses(a),
        vec!["+identity", "+key", "+role_assignment", "~storage_account"]
    );
    let grant = change(a, "role_assignment").unwrap();
    assert!(grant["desired"]["role_definition_id"]
        .as_str()
        .unwrap()
        .ends_with("e147488a-f6f5-4113-8e2d-b22465e65bf6"));
    assert!(grant["desired"]["scope"]
        .as_str()
        .unwrap()
        .to_lowercase()
        .starts_with(&rbac.to_lowercase()));

    let with_policies = tool
        .run(&[
            "plan",
            "-o",
            "json",
            "--key-vault",
            &policies,
            "--key-name",
            "logs-key",
        ])
        .await;
    assert_eq!(with_policies.code, 0, "{}", with_policies.stderr);
    let p = with_policies.json();
    let p = account(&p, &app);
    assert_eq!(
        addresses(p),
        vec!["+identity", "+key", "+access_policy", "~storage_account"]
    );
    assert_eq!(change(p, "key").unwrap()["desired"]["name"], "logs-key");

    let with_old = tool.run(&["plan", "-o", "json", "--key-vault", &old]).await;
    assert_eq!(with_old.code, 0, "{}", with_old.stderr);
    let o = with_old.json();
    let o = account(&o, &app);
    let vault = change(o, "key_vault").unwrap();
    assert_eq!(vault["action"], "update");
    assert!(
        vault["irreversible"].as_str().unwrap().contains("never"),
        "{vault:#}"
    );
    assert_eq!(vault["desired"]["kind"], "enable_purge_protection");
    let text = tool.run(&["plan", "--key-vault", &old]).await;
    assert!(text.stdout.contains("irreversible"), "{}", text.stdout);

    // An identity given with --identity that does not exist is an error.
    let missing = tool
        .run(&[
            "plan",
            "--identity",
            &format!(
                "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/nope",
                rg_id(SUB1, "rg-app")
            ),
        ])
        .await;
    assert_eq!(missing.code, 1);
    assert!(
        missing.stderr.contains("does not exist"),
        "{}",
        missing.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_vault_name_gets_a_fallback_also_when_a_deleted_vault_holds_it() {
    let env = Env::start().await;
    let app = app_account(&env).await;
    env.add_subscription(SUB2, "other-team").await;
    let tool = env.tool();
    let vault_name = |plan: &Value| {
        account(plan, &app)["targets"]["vault_id"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_string()
    };
    let first = vault_name(&tool.run(&["plan", "-o", "json"]).await.json());
    // Another team takes that name in another subscription.
    env.vault(SUB2, "rg-theirs", &first, json!({})).await;
    let second = vault_name(&tool.run(&["plan", "-o", "json"]).await.json());
    assert_ne!(first, second);
    // A soft-deleted vault keeps its name taken too.
    let theirs = env.vault(SUB2, "rg-theirs", &second, json!({})).await;
    let deleted = env
        .arm(Method::DELETE, &format!("{theirs}?{VAULT_API}"), None)
        .await;
    assert!(deleted.status.is_success());
    let third = vault_name(&tool.run(&["plan", "-o", "json"]).await.json());
    assert!(
        third != first && third != second,
        "{first} {second} {third}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compliant_estate_has_nothing_to_plan() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "prod").await;
    let good = env
        .cmk_account(SUB1, "rg", "stgood", "kv-plan-none", true)
        .await;
    env.diagnostic_setting(SUB1, "to-good", &good.account_id, true)
        .await;
    let run = env.tool().run(&["plan", "--detailed-exitcode"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("No changes"), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_come_from_flags_then_the_environment_then_the_config_file() {
    let env = Env::start().await;
    let app = app_account(&env).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("actlog-cmk.toml");
    std::fs::write(
        &config,
        "key_name = \"from-file\"\nkey_size = 4096\npermission_model = \"access-policy\"\n\n[names]\nvault = \"kvlogs-{hash}\"\nidentity = \"uami-{account}\"\n\n[tags]\nowner = \"secops\"\n",
    )
    .unwrap();
    let tool = env.tool();
    let config = config.to_str().unwrap();

    let run = tool.run(&["plan", "-o", "json", "--config", config]).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let plan = run.json();
    let a = account(&plan, &app);
    let key = &change(a, "key").unwrap()["desired"];
    assert_eq!(key["name"], "from-file");
    assert_eq!(key["key_size"], 4096);
    assert_eq!(key["tags"]["owner"], "secops");
    assert_eq!(key["tags"]["managed-by"], "actlog-cmk");
    assert!(a["targets"]["vault_id"]
        .as_str()
        .unwrap()
        .contains("/vaults/kvlogs-"));
    assert!(a["targets"]["identity_id"]
        .as_str()
        .unwrap()
        .ends_with("/uami-stapp"));
    assert!(change(a, "access_policy").is_some());

    // The environment beats the file, and a flag beats the environment.
    let mut cmd = tool.command(&["plan", "-o", "json", "--config", config]);
    cmd.env("ACTLOG_CMK_KEY_NAME", "from-env");
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        change(account(&plan, &app), "key").unwrap()["desired"]["name"],
        "from-env"
    );
    let mut cmd = tool.command(&[
        "plan",
        "-o",
        "json",
        "--config",
        config,
        "--key-name",
        "from-flag",
    ]);
    cmd.env("ACTLOG_CMK_KEY_NAME", "from-env");
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        change(account(&plan, &app), "key").unwrap()["desired"]["name"],
        "from-flag"
    );

    // A bad file is named, with its problem, and nothing is read from Azure.
    std::fs::write(dir.path().join("bad.toml"), "key_size = 1024\n").unwrap();
    env.clear_requests().await;
    let bad = tool
        .run(&[
            "plan",
            "--config",
            dir.path().join("bad.toml").to_str().unwrap(),
        ])
        .await;
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr.contains("bad.toml") && bad.stderr.contains("1024"),
        "{}",
        bad.stderr
    );
    assert!(env.arm_requests().await.is_empty());
}

/// A subscription whose diagnostic settings cannot be listed may send its
/// activity log anywhere: "no changes" would be a lie a pipeline gate trusts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incomplete_audit_makes_an_incomplete_plan_that_names_what_was_not_read() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "prod").await;
    env.add_subscription(SUB2, "dev").await;
    let good = env
        .cmk_account(SUB1, "rg", "stgood", "kv-plan-incomplete", true)
        .await;
    env.diagnostic_setting(SUB1, "to-good", &good.account_id, true)
        .await;
    let insights = format!("/subscriptions/{SUB2}/providers/Microsoft.Insights");
    env.deny(&[&insights]).await;
    env.clear_requests().await;
    let tool = env.tool();

    for args in [
        &["plan", "--detailed-exitcode"][..],
        &["plan"][..],
        &["plan", "-s", SUB2, "--detailed-exitcode"][..],
    ] {
        let run = tool.run(args).await;
        assert_eq!(run.code, 3, "{args:?}:\n{}\n{}", run.stdout, run.stderr);
        assert!(!run.stdout.contains("No changes."), "{}", run.stdout);
        assert!(run.stdout.contains("INCOMPLETE"), "{}", run.stdout);
        assert!(
            run.stdout.contains(&format!(
                "Not read (the plan may be missing changes there):\n  - /subscriptions/{SUB2}: "
            )),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout
                .contains("Microsoft.Insights/diagnosticSettings/read"),
            "{}",
            run.stdout
        );
        assert!(
            run.stderr
                .contains(&format!("could not read /subscriptions/{SUB2}")),
            "{}",
            run.stderr
        );
    }

    let json = tool.run(&["plan", "-o", "json"]).await;
    assert_eq!(json.code, 3, "{}", json.stderr);
    let plan = json.json();
    assert_matches_project_schema("plan.schema.json", &plan, "an incomplete plan");
    assert_eq!(plan["summary"]["unread"], 1, "{plan:#}");
    assert_eq!(plan["unread"][0]["id"], format!("/subscriptions/{SUB2}"));
    assert!(plan["unread"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("Microsoft.Insights/diagnosticSettings/read"));

    let markdown = tool.run(&["plan", "-o", "markdown"]).await;
    assert_eq!(markdown.code, 3, "{}", markdown.stderr);
    assert!(
        markdown
            .stdout
            .starts_with("## ⚠️ actlog-cmk plan: incomplete, 1 resource not read"),
        "{}",
        markdown.stdout
    );
    assert!(
        markdown.stdout.contains("### Not read"),
        "{}",
        markdown.stdout
    );
    assert!(
        markdown
            .stdout
            .contains(&format!("`/subscriptions/{SUB2}`")),
        "{}",
        markdown.stdout
    );

    // A complete plan of the same estate (the readable subscription only) is
    // still "no changes": the code above comes from what was not read.
    let complete = tool.run(&["plan", "-s", SUB1, "--detailed-exitcode"]).await;
    assert_eq!(complete.code, 0, "{}\n{}", complete.stdout, complete.stderr);
    assert!(
        complete.stdout.contains("No changes"),
        "{}",
        complete.stdout
    );
    assert_no_writes(&env).await;
}

/// Key Vault's rotation rules and tag limits are checked before anything is
/// read or written, from flags and from the config file alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_lifetimes_and_tag_counts_azure_would_refuse_are_refused_before_any_call() {
    let env = Env::start().await;
    app_account(&env).await;
    env.clear_requests().await;
    let tool = env.tool();
    let many_tags: Vec<String> = (0..14).map(|i| format!("t{i}=v")).collect();
    let mut tag_args = vec!["plan"];
    for tag in &many_tags {
        tag_args.extend(["--tag", tag]);
    }
    for (args, expected) in [
        (
            vec![
                "plan",
                "--key-rotation-days",
                "30",
                "--key-expiry-days",
                "33",
            ],
            "no later than 7 days before expiry, so --key-rotation-days must be at most 26",
        ),
        (
            vec!["apply", "--yes", "--key-rotation-days", "6"],
            "no sooner than 7 days after creation",
        ),
        (vec!["plan", "--key-expiry-days", "27"], "at least 28 days"),
        (
            tag_args.clone(),
            "Key Vault allows at most 15 tags on a key",
        ),
    ] {
        let run = tool.run(&args).await;
        assert_eq!(run.code, 1, "{args:?}: {}\n{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(expected), "{args:?}: {}", run.stderr);
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("actlog-cmk.toml");
    std::fs::write(&config, "key_rotation_days = 3\n").unwrap();
    let run = tool
        .run(&["plan", "--config", config.to_str().unwrap()])
        .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("key_rotation_days"), "{}", run.stderr);
    assert!(
        run.stderr.contains("no sooner than 7 days"),
        "{}",
        run.stderr
    );
    let tags: String = (0..14).map(|i| format!("t{i} = \"v\"\n")).collect();
    std::fs::write(&config, format!("[tags]\n{tags}")).unwrap();
    let run = tool
        .run(&["plan", "--config", config.to_str().unwrap()])
        .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("at most 15 tags on a key"),
        "{}",
        run.stderr
    );
    assert!(
        env.arm_requests().await.is_empty(),
        "refused settings must not cost a call"
    );

    // At the limits, the plan is made.
    let mut at_limits = vec![
        "plan",
        "--key-rotation-days",
        "30",
        "--key-expiry-days",
        "37",
    ];
    for tag in &many_tags[..13] {
        at_limits.extend(["--tag", tag]);
    }
    let run = tool.run(&at_limits).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_plan_records_its_tenant() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "prod").await;
    let tenant = env.emu.connection.tenant_id.clone();
    let tool = env.tool();
    let dir = tempfile::tempdir().unwrap();
    // Every subscription the credential sees, and one named.
    for scope in [vec![], vec!["-s", SUB1]] {
        let file = dir.path().join("empty.json");
        let mut args = vec!["plan", "--out", file.to_str().unwrap()];
        args.extend_from_slice(&scope);
        let run = tool.run(&args).await;
        assert_eq!(run.code, 0, "{scope:?}: {}", run.stderr);
        assert!(
            run.stdout
                .contains(&format!("Plan for tenant {tenant} through")),
            "{scope:?}: {}",
            run.stdout
        );
        let saved: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(saved["plan"]["tenant_id"], tenant.as_str(), "{scope:?}");
        assert_eq!(saved["plan"]["summary"]["accounts"], 0, "{saved:#}");
        // It applies here: its tenant is this one.
        let apply = tool.run(&["apply", file.to_str().unwrap()]).await;
        assert_eq!(apply.code, 0, "{}", apply.stderr);
    }
}
