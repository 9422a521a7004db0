//! The reliability suite (issue 8): the whole audit -> plan -> apply flow
//! under each fault, then invariants checked on the emulator's state; and bad
//! input, each refused with a clear message and no write. It writes
//! docs/reliability.md, the table of what was tried and what happened.

use crate::support;

use futures::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use support::cli::Run;
use support::estate::*;
use support::request_log::succeeded;
use support::*;

#[derive(Debug, Clone, Copy)]
enum Fault {
    None,
    LatencyJitter,
    ThrottleStorm,
    ServerErrors,
    DroppedConnections,
    ShortLivedTokens,
    SlowPropagation,
    VaultNameTakenAfterPlan,
    LockedResourceGroup,
    ReadOnlyPrincipal,
    KilledWhileVaultsRegister,
    KilledWhileGrantsPropagate,
    KilledBetweenSwitchAndVerification,
    VaultFirewallClosedWhileWaiting,
    KeyDisabledWhileWaiting,
    AttachedIdentityDeleted,
}

impl Fault {
    fn describe(self) -> &'static str {
        match self {
            Fault::None => "no fault (baseline)",
            Fault::LatencyJitter => "20 ms latency + up to 40 ms jitter on every ARM call",
            Fault::ThrottleStorm => "429 storm: read bucket 6 (+20/s), write bucket 2 (+4/s)",
            Fault::ServerErrors => "5xx burst: 20 % of ARM calls answer 500/503",
            Fault::DroppedConnections => "10 % of ARM connections dropped without an answer",
            Fault::ShortLivedTokens => "tokens that expire after 5 s, during the run",
            Fault::SlowPropagation => "grants take 3 s and new identities 2 s to propagate",
            Fault::VaultNameTakenAfterPlan => {
                "the planned vault name of one account taken between plan and apply"
            }
            Fault::LockedResourceGroup => "a ReadOnly lock on one account's resource group",
            Fault::ReadOnlyPrincipal => "the tool's principal may read but not write",
            Fault::KilledWhileVaultsRegister => {
                "apply SIGKILLed while every new vault is still RegisteringDns (3 s), then run again"
            }
            Fault::KilledWhileGrantsPropagate => {
                "apply SIGKILLed while storage still refuses the key because grants (8 s) propagate, then run again"
            }
            Fault::KilledBetweenSwitchAndVerification => {
                "apply SIGKILLed after an account was switched to its key, before it was verified, then run again"
            }
            Fault::VaultFirewallClosedWhileWaiting => {
                "one account's vault firewall closed to trusted services (no AzureServices bypass) while apply waits for its grant (8 s)"
            }
            Fault::KeyDisabledWhileWaiting => {
                "one account's new key disabled while apply waits for its grant (8 s)"
            }
            Fault::AttachedIdentityDeleted => {
                "a user-assigned identity attached to an account deleted before apply"
            }
        }
    }

    /// Faults that kill the first apply: the row is about the rerun.
    fn kills(self) -> bool {
        matches!(
            self,
            Fault::KilledWhileVaultsRegister
                | Fault::KilledWhileGrantsPropagate
                | Fault::KilledBetweenSwitchAndVerification
        )
    }
}

/// Storage refused the first account's key (its grant is on its way).
fn first_account_refused(requests: &[Value]) -> bool {
    requests.iter().any(|r| {
        r["operation"] == "StorageAccounts_Update"
            && r["errorCode"] == "KeyVaultAuthenticationFailure"
            && r["path"].as_str().is_some_and(|p| p.contains("/strela"))
    })
}

/// The vault apply created for the first account, from the request log.
fn first_account_vault(requests: &[Value]) -> String {
    requests
        .iter()
        .filter(|r| r["operation"] == "Vaults_CreateOrUpdate")
        .filter_map(|r| r["path"].as_str())
        .find(|p| p.contains("/rg-rel-a/"))
        .expect("the first account's vault was created")
        .to_string()
}

/// Starts `apply --yes -o json` and, once the request log shows `ready`,
/// either SIGKILLs it (and returns `None`) or does `meanwhile` and returns
/// what apply printed when it ended.
async fn apply_until(
    env: &Env,
    tool: &support::cli::Tool,
    ready: impl Fn(&[Value]) -> bool,
    kill: bool,
) -> Option<std::process::Child> {
    env.clear_requests().await;
    let mut child = tool
        .command(&["apply", "--yes", "-o", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !ready(&env.arm_requests().await) {
        assert!(child.try_wait().unwrap().is_none(), "apply ended too early");
        assert!(started.elapsed() < std::time::Duration::from_secs(60));
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    if kill {
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        return None;
    }
    Some(child)
}

async fn finish(child: std::process::Child) -> Run {
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The network rules of a vault, through ARM as its owner would set them.
async fn vault_firewall(env: &Env, vault: &str, bypass: &str) {
    let a = env
        .arm(
            Method::PATCH,
            &format!("{vault}?{VAULT_API}"),
            Some(
                json!({"properties": {"networkAcls": {"defaultAction": "Deny", "bypass": bypass}}}),
            ),
        )
        .await;
    assert!(a.status.is_success(), "{:?}", a.body);
}

async fn key_enabled(env: &Env, vault: &str, enabled: bool) {
    let name = vault.rsplit('/').next().unwrap();
    let a = env
        .admin(
            Method::PATCH,
            &format!("/keyvault/vaults/{name}/keys/activity-log-cmk"),
            Some(json!({"enabled": enabled})),
        )
        .await;
    assert!(a.status.is_success(), "{:?}", a.body);
}

const ACCOUNTS: [(&str, &str, &str); 3] = [
    (SUB1, "rg-rel-a", "strela"),
    (SUB1, "rg-rel-b", "strelb"),
    (SUB2, "rg-rel-c", "strelc"),
];

struct Estate {
    ids: Vec<String>,
    /// Each account's identity before apply: type, principal, user-assigned ids.
    before: Vec<Value>,
}

async fn estate(env: &Env) -> Estate {
    env.add_subscription(SUB1, "prod").await;
    env.add_subscription(SUB2, "dev").await;
    env.add_subscription(SUB3, "other-team").await;
    let mut ids = Vec::new();
    for (sub, rg, name) in ACCOUNTS {
        let id = env.storage_account(sub, rg, name).await;
        env.diagnostic_setting(sub, &format!("to-{name}"), &id, true)
            .await;
        ids.push(id);
    }
    // The second account already has a system-assigned and a user-assigned identity.
    let (other, _) = env.identity(SUB1, "rg-rel-b", "id-existing").await;
    let a = env
        .arm(
            Method::PATCH,
            &format!("{}?{STORAGE_API}", ids[1]),
            Some(json!({"identity": {"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": {other: {}}}})),
        )
        .await;
    assert!(a.status.is_success(), "{:?}", a.body);
    let mut before = Vec::new();
    for id in &ids {
        before.push(identity_of(env, id).await);
    }
    Estate { ids, before }
}

async fn identity_of(env: &Env, account: &str) -> Value {
    env.arm(Method::GET, &format!("{account}?{STORAGE_API}"), None)
        .await
        .body["identity"]
        .clone()
}

fn user_assigned(identity: &Value) -> BTreeSet<String> {
    identity["userAssignedIdentities"]
        .as_object()
        .map(|m| m.keys().map(|k| k.to_lowercase()).collect())
        .unwrap_or_default()
}

/// Turns the fault on (after the estate is built, so only the tool meets it).
async fn inject(env: &Env, fault: Fault) {
    let patch = match fault {
        Fault::None
        | Fault::VaultNameTakenAfterPlan
        | Fault::LockedResourceGroup
        | Fault::ReadOnlyPrincipal => return,
        Fault::LatencyJitter => json!({"faults": {"latencyMs": 20, "jitterMs": 40, "seed": 1}}),
        Fault::ThrottleStorm => json!({"throttling": {"enabled": true,
            "reads": {"capacity": 6.0, "refillPerSec": 20.0}, "writes": {"capacity": 2.0, "refillPerSec": 4.0}}}),
        Fault::ServerErrors => json!({"faults": {"errorRate": 0.2, "seed": 2}}),
        Fault::DroppedConnections => json!({"faults": {"dropRate": 0.1, "seed": 3}}),
        Fault::ShortLivedTokens => json!({"tokenLifetimeSecs": 5, "faults": {"latencyMs": 30}}),
        Fault::SlowPropagation => {
            json!({"grantPropagationMs": 3000, "principalReplicationMs": 2000})
        }
        Fault::KilledWhileVaultsRegister => json!({"vaultProvisioningMs": 3000}),
        Fault::KilledWhileGrantsPropagate
        | Fault::VaultFirewallClosedWhileWaiting
        | Fault::KeyDisabledWhileWaiting => json!({"grantPropagationMs": 8000}),
        // Slow account reads, so the kill lands between a switch and its check.
        Fault::KilledBetweenSwitchAndVerification => {
            json!({"faults": {"operationLatencyMs": {"StorageAccounts_GetProperties": 1500}}})
        }
        Fault::AttachedIdentityDeleted => return,
    };
    env.patch_settings(patch).await;
}

/// Back to a quiet emulator, so the checks read the real state.
async fn calm(env: &Env) {
    env.patch_settings(json!({
        "throttling": {"enabled": false},
        "faults": {"latencyMs": 0, "jitterMs": 0, "errorRate": 0.0, "dropRate": 0.0},
        "tokenLifetimeSecs": 3600
    }))
    .await;
    let c = &env.emu.connection;
    env.admin(
        Method::PUT,
        &format!("/principals/{}", c.client_id),
        Some(json!({"clientSecret": c.client_secret, "objectId": c.object_id})),
    )
    .await;
}

struct Row {
    what: String,
    outcome: String,
    invariants: String,
}

async fn run_scenario(fault: Fault) -> Row {
    let env = Env::start().await;
    let estate = estate(&env).await;
    let tool = env.tool();
    let dir = tempfile::tempdir().unwrap();
    let plan_file = dir.path().join("plan.json");
    let run: Run = match fault {
        Fault::VaultNameTakenAfterPlan => {
            let plan = tool
                .run(&["plan", "--out", plan_file.to_str().unwrap()])
                .await;
            assert_eq!(plan.code, 0, "{}", plan.stderr);
            let saved = actlog_cmk::plan::file::load(&plan_file).unwrap();
            let name = saved.accounts[0]
                .targets
                .vault_id
                .rsplit('/')
                .next()
                .unwrap()
                .to_string();
            env.vault(SUB3, "rg-theirs", &name, json!({})).await;
            tool.run(&["apply", plan_file.to_str().unwrap(), "-o", "json"])
                .await
        }
        Fault::LockedResourceGroup => {
            let a = env
                .admin(
                    Method::PUT,
                    "/locks/freeze",
                    Some(json!({"scope": rg_id(SUB1, "rg-rel-b"), "level": "ReadOnly"})),
                )
                .await;
            assert!(a.status.is_success(), "{:?}", a.body);
            tool.run(&["apply", "--yes", "-o", "json"]).await
        }
        Fault::ReadOnlyPrincipal => {
            let c = &env.emu.connection;
            env.admin(
                Method::PUT,
                &format!("/principals/{}", c.client_id),
                Some(json!({"clientSecret": c.client_secret, "objectId": c.object_id, "readOnly": true})),
            )
            .await;
            tool.run(&["apply", "--yes", "-o", "json"]).await
        }
        Fault::KilledWhileVaultsRegister => {
            inject(&env, fault).await;
            let vaults = |r: &[Value]| succeeded(r, "Vaults_CreateOrUpdate") == ACCOUNTS.len();
            apply_until(&env, &tool, vaults, true).await;
            tool.run(&["apply", "--yes", "-o", "json"]).await
        }
        Fault::KilledWhileGrantsPropagate => {
            inject(&env, fault).await;
            apply_until(&env, &tool, first_account_refused, true).await;
            tool.run(&["apply", "--yes", "-o", "json"]).await
        }
        Fault::KilledBetweenSwitchAndVerification => {
            inject(&env, fault).await;
            let switched = |r: &[Value]| succeeded(r, "StorageAccounts_Update") >= 1;
            apply_until(&env, &tool, switched, true).await;
            env.patch_settings(json!({"faults": {"operationLatencyMs": {}}}))
                .await;
            tool.run(&["apply", "--yes", "-o", "json"]).await
        }
        Fault::VaultFirewallClosedWhileWaiting | Fault::KeyDisabledWhileWaiting => {
            inject(&env, fault).await;
            let child = apply_until(&env, &tool, first_account_refused, false)
                .await
                .unwrap();
            let vault = first_account_vault(&env.arm_requests().await);
            if matches!(fault, Fault::VaultFirewallClosedWhileWaiting) {
                vault_firewall(&env, &vault, "None").await;
            } else {
                key_enabled(&env, &vault, false).await;
            }
            finish(child).await
        }
        Fault::AttachedIdentityDeleted => {
            // The second account's own identity, attached since before apply.
            let identity = estate.before[1]["userAssignedIdentities"]
                .as_object()
                .unwrap()
                .keys()
                .next()
                .unwrap()
                .clone();
            let a = env
                .arm(Method::DELETE, &format!("{identity}?{MSI_API}"), None)
                .await;
            assert!(a.status.is_success(), "{:?}", a.body);
            tool.run(&["apply", "--yes", "-o", "json"]).await
        }
        _ => {
            inject(&env, fault).await;
            tool.run(&["apply", "--yes", "-o", "json"]).await
        }
    };
    calm(&env).await;
    let writes_failed_everywhere = matches!(fault, Fault::ReadOnlyPrincipal);
    assert!(
        run.code == 0 || run.code == 3,
        "{fault:?}: apply exited {}:\n{}\n{}",
        run.code,
        run.stdout,
        run.stderr
    );
    let report = run.json();
    let audit = tool.run(&["audit", "-o", "json"]).await.json();

    // Invariant 1: every account is compliant and healthy, or reported failed
    // (or refused) with a reason and a next step.
    let mut done = 0;
    let mut failed = Vec::new();
    for id in &estate.ids {
        let result = report["accounts"].as_array().unwrap().iter().find(|a| {
            a["storage_account_id"]
                .as_str()
                .unwrap()
                .eq_ignore_ascii_case(id)
        });
        // After a kill, an account the killed run finished is no longer in
        // the rerun's plan: it must audit compliant.
        let finished_before = json!({"outcome": "done"});
        let result = match result {
            Some(result) => result,
            None if fault.kills() => &finished_before,
            None => panic!("{fault:?}: no result for {id}: {report:#}"),
        };
        let status = audit["destinations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| {
                d["storage_account_id"]
                    .as_str()
                    .unwrap()
                    .eq_ignore_ascii_case(id)
            })
            .map(|d| d["status"].as_str().unwrap().to_string())
            .unwrap();
        match result["outcome"].as_str().unwrap() {
            "done" => {
                assert_eq!(
                    status, "compliant",
                    "{fault:?}: {id} reported done but audits {status}"
                );
                done += 1;
            }
            "failed" | "refused" => {
                assert!(
                    result["reason"].as_str().is_some_and(|r| !r.is_empty()),
                    "{fault:?}: {result:#}"
                );
                assert!(
                    result["next_step"].as_str().is_some_and(|r| !r.is_empty()),
                    "{fault:?}: {result:#}"
                );
                assert!(
                    status == "non_compliant" || status == "compliant",
                    "{fault:?}: {id} left {status}"
                );
                failed.push(result["reason"].as_str().unwrap().to_string());
            }
            other => panic!("{fault:?}: unexpected outcome {other}"),
        }
    }
    // Invariant 2: no account lost an identity it had.
    for (id, before) in estate.ids.iter().zip(&estate.before) {
        let after = identity_of(&env, id).await;
        assert!(
            user_assigned(before).is_subset(&user_assigned(&after)),
            "{fault:?}: {id} lost an identity: {before} -> {after}"
        );
        if before["type"]
            .as_str()
            .unwrap_or_default()
            .contains("SystemAssigned")
        {
            assert!(
                after["type"].as_str().unwrap().contains("SystemAssigned"),
                "{fault:?}: {id} lost its system-assigned identity"
            );
            assert_eq!(after["principalId"], before["principalId"]);
        }
    }
    // Invariant 3: no account points at a missing, disabled or expired key.
    for d in audit["destinations"].as_array().unwrap() {
        assert_ne!(d["status"], "cmk_broken", "{fault:?}: {d:#}");
    }
    // Invariant 4: nothing twice.
    const IDENTITY: &str = "Microsoft.ManagedIdentity/userAssignedIdentities";
    let identities = env.resources_of_type(SUB1, IDENTITY).await.len()
        + env.resources_of_type(SUB2, IDENTITY).await.len();
    assert!(
        identities <= ACCOUNTS.len() + 1,
        "{fault:?}: {identities} identities"
    );
    for sub in [SUB1, SUB2] {
        let vaults = env
            .resources_of_type(sub, "Microsoft.KeyVault/vaults")
            .await;
        let accounts_here = ACCOUNTS.iter().filter(|(s, _, _)| *s == sub).count();
        assert!(vaults.len() <= accounts_here, "{fault:?}: {vaults:?}");
        for vault in vaults {
            let grants = env.arm(Method::GET, &format!("{vault}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01"), None).await;
            assert!(
                grants.body["value"].as_array().unwrap().len() <= 1,
                "{fault:?}: {vault}: {:#}",
                grants.body
            );
        }
    }
    // The faults that only slow things down must not fail anything.
    let must_finish = matches!(
        fault,
        Fault::None
            | Fault::LatencyJitter
            | Fault::ThrottleStorm
            | Fault::ServerErrors
            | Fault::DroppedConnections
            | Fault::ShortLivedTokens
            | Fault::SlowPropagation
            | Fault::AttachedIdentityDeleted
    ) || fault.kills();
    if must_finish {
        assert_eq!(done, ACCOUNTS.len(), "{fault:?}: {failed:?}");
    } else if writes_failed_everywhere {
        assert_eq!(done, 0);
    } else {
        assert_eq!(
            failed.len(),
            1,
            "{fault:?}: exactly the affected account fails: {failed:?}"
        );
    }
    // The rerun after the fault is gone converges (except where a person must act).
    let rerun_note = if matches!(fault, Fault::LockedResourceGroup) {
        env.admin(Method::DELETE, "/locks/freeze", None).await;
        let rerun = tool.run(&["apply", "--yes"]).await;
        assert_eq!(
            rerun.code, 0,
            "{fault:?}: rerun after removing the lock: {}",
            rerun.stdout
        );
        "; after the lock is removed a rerun finishes"
    } else if matches!(
        fault,
        Fault::VaultFirewallClosedWhileWaiting | Fault::KeyDisabledWhileWaiting
    ) {
        let vault = first_account_vault(&env.arm_requests().await);
        let note = if matches!(fault, Fault::VaultFirewallClosedWhileWaiting) {
            vault_firewall(&env, &vault, "AzureServices").await;
            "; once trusted services may bypass the firewall, a rerun finishes"
        } else {
            key_enabled(&env, &vault, true).await;
            "; once the key is enabled again, a rerun finishes"
        };
        let rerun = tool.run(&["apply", "--yes"]).await;
        assert_eq!(
            rerun.code, 0,
            "{fault:?}: rerun: {}\n{}",
            rerun.stdout, rerun.stderr
        );
        note
    } else if !must_finish {
        let rerun = tool.run(&["apply", "--yes"]).await;
        assert_eq!(
            rerun.code, 0,
            "{fault:?}: rerun: {}\n{}",
            rerun.stdout, rerun.stderr
        );
        "; a rerun (planning again) finishes"
    } else {
        ""
    };
    // The step and Azure's answer, which say more than the resource id.
    let first_reason = failed
        .first()
        .map(|r| {
            let step = r.split(':').next().unwrap_or_default();
            // A cause the tool named says more than Azure's answer.
            let answer = match r.find("cannot use the key: ") {
                Some(i) => &r[i..],
                None => r.find("Azure answered").map_or(r.as_str(), |i| &r[i..]),
            };
            format!(": {step}: {}", shorten(&sanitize(answer, &env, &[])))
        })
        .unwrap_or_default();
    let killed = if fault.kills() {
        "killed; the rerun: "
    } else {
        ""
    };
    Row {
        what: fault.describe().to_string(),
        outcome: format!(
            "{killed}exit {}, {done} done, {} failed{first_reason}{rerun_note}",
            run.code,
            failed.len()
        ),
        invariants: "hold".into(),
    }
}

/// Run-specific values (random ids, ports, temporary paths) out of the table,
/// so the document only changes when behaviour does.
fn sanitize(text: &str, env: &Env, extra: &[(&str, &str)]) -> String {
    let c = &env.emu.connection;
    let mut text = text
        .replace(&c.client_id, "<client-id>")
        .replace(&c.object_id, "<object-id>")
        .replace(&c.tenant_id, "<tenant-id>")
        .replace(
            env.endpoint().trim_end_matches('/'),
            "https://127.0.0.1:<port>",
        );
    for (from, to) in extra {
        text = text.replace(from, to);
    }
    text
}

fn shorten(text: &str) -> String {
    let first = text.lines().next().unwrap_or_default();
    let cut: String = first.chars().take(140).collect();
    let cut = cut.replace('|', "\\|");
    if first.chars().count() > 140 {
        format!("{cut}…")
    } else {
        cut
    }
}

/// Bad input: (what, args, needs a plan file variant). Each must exit non-zero,
/// say what is wrong, and write nothing.
async fn bad_inputs(env: &Env) -> Vec<Row> {
    let tool = env.tool();
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    assert_eq!(
        tool.run(&["plan", "--out", good.to_str().unwrap()])
            .await
            .code,
        0
    );
    let text = std::fs::read_to_string(&good).unwrap();
    let mut value: Value = serde_json::from_str(&text).unwrap();
    let files: Vec<(&str, String)> = vec![
        ("an empty plan file", String::new()),
        ("a truncated plan file", text[..text.len() / 3].to_string()),
        (
            "a plan file edited by hand",
            text.replacen("activity-log-cmk", "my-key", 1),
        ),
        ("a plan file of an unknown schema version", {
            value["schema_version"] = json!(99);
            serde_json::to_string(&value).unwrap()
        }),
        (
            "random bytes as a plan file",
            "\u{1}\u{2}garbage{".to_string(),
        ),
        (
            "a JSON file that is not a plan",
            "{\"hello\": 1}".to_string(),
        ),
    ];
    let mut cases: Vec<(String, Vec<String>)> = Vec::new();
    for (i, (what, content)) in files.iter().enumerate() {
        let path = dir.path().join(format!("bad{i}.json"));
        std::fs::write(&path, content).unwrap();
        cases.push((
            what.to_string(),
            vec!["apply".into(), path.display().to_string(), "--yes".into()],
        ));
    }
    let other = Env::start().await;
    let other_ca = dir.path().join("other-ca.pem");
    std::fs::write(&other_ca, &other.emu.ca_pem).unwrap();
    let port = env
        .endpoint()
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    let flags: Vec<(&str, Vec<&str>)> = vec![
        ("a subscription id that is not a GUID", vec!["apply", "--yes", "-s", "11111111-1111-1111-1111"]),
        ("an identity id that is not an identity", vec!["apply", "--yes", "--identity", "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/x"]),
        ("a malformed key vault id", vec!["apply", "--yes", "--key-vault", "kv-logs"]),
        ("an RSA key size Azure Storage refuses", vec!["apply", "--yes", "--key-size", "1024"]),
        ("a parallelism of 0", vec!["apply", "--yes", "--parallelism", "0"]),
        ("a name template with an unknown placeholder", vec!["apply", "--yes", "--vault-name", "kv-{team}"]),
        ("an unreachable endpoint", vec!["apply", "--yes", "--arm-endpoint", "https://127.0.0.1:1", "--max-retries", "0"]),
        ("a non-TLS endpoint on another host", vec!["apply", "--yes", "--arm-endpoint", "http://management.example.com"]),
    ];
    for (what, args) in flags {
        cases.push((
            what.to_string(),
            args.iter().map(|s| s.to_string()).collect(),
        ));
    }
    let plain = format!("http://127.0.0.1:{port}");
    cases.push((
        "plain http to the HTTPS emulator".into(),
        vec![
            "apply".into(),
            "--yes".into(),
            "--arm-endpoint".into(),
            plain,
            "--max-retries".into(),
            "0".into(),
        ],
    ));
    cases.push((
        "a CA that did not sign the endpoint's certificate".into(),
        vec![
            "apply".into(),
            "--yes".into(),
            "--ca-file".into(),
            other_ca.display().to_string(),
        ],
    ));

    let mut rows = Vec::new();
    for (what, args) in cases {
        env.clear_requests().await;
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = tool.run(&args).await;
        assert_ne!(run.code, 0, "{what}: {}", run.stdout);
        assert!(run.stderr.contains("error"), "{what}: {}", run.stderr);
        let writes: Vec<Value> = env
            .arm_requests()
            .await
            .into_iter()
            .filter(|r| r["method"] != "GET" && r["operation"] != "Vaults_CheckNameAvailability")
            .collect();
        assert!(writes.is_empty(), "{what}: wrote {writes:#?}");
        let message = run
            .stderr
            .lines()
            .find(|l| l.starts_with("error"))
            .unwrap_or_default();
        let port_text = format!("127.0.0.1:{port}");
        let dir_text = dir.path().display().to_string();
        let message = sanitize(
            message,
            env,
            &[(&dir_text, "<dir>"), (&port_text, "127.0.0.1:<port>")],
        );
        rows.push(Row {
            what,
            outcome: format!("exit {}: {}", run.code, shorten(&message)),
            invariants: "no write".into(),
        });
    }
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_flow_survives_every_fault_and_refuses_bad_input_and_the_table_is_written() {
    let faults = [
        Fault::None,
        Fault::LatencyJitter,
        Fault::ThrottleStorm,
        Fault::ServerErrors,
        Fault::DroppedConnections,
        Fault::ShortLivedTokens,
        Fault::SlowPropagation,
        Fault::VaultNameTakenAfterPlan,
        Fault::LockedResourceGroup,
        Fault::ReadOnlyPrincipal,
        Fault::KilledWhileVaultsRegister,
        Fault::KilledWhileGrantsPropagate,
        Fault::KilledBetweenSwitchAndVerification,
        Fault::VaultFirewallClosedWhileWaiting,
        Fault::KeyDisabledWhileWaiting,
        Fault::AttachedIdentityDeleted,
    ];
    // Each scenario has an emulator of its own: run a few at once (most of
    // their time is waiting for Azure's delays), rows kept in order.
    let fault_rows: Vec<Row> = futures::stream::iter(faults.map(run_scenario))
        .buffered(4)
        .collect()
        .await;
    if profile::Profile::is_field() {
        write_field_section(&fault_rows);
        return;
    }
    let env = Env::start().await;
    estate(&env).await;
    let input_rows = bad_inputs(&env).await;

    let mut doc = String::from(
        "# Reliability\n\n\
         Generated by `tests/it/reliability.rs` on every test run (do not edit by hand).\n\n\
         ## Faults\n\n\
         Each row: a fresh emulator with three accounts in two subscriptions (one with a\n\
         system-assigned and a user-assigned identity already), the fault switched on, then\n\
         `actlog-cmk apply --yes` (which audits and plans first; for a crash, killed with\n\
         SIGKILL at that point and run again, the row showing the rerun). Afterwards, with the fault\n\
         off, the suite checks on the emulator's state that: every account is compliant and\n\
         healthy or reported failed with a reason and a next step; no account lost an\n\
         identity it had; no account points at a missing, disabled or expired key; nothing\n\
         (identity, vault, role assignment) exists twice.\n\n\
         | Fault | What happened | Invariants |\n| --- | --- | --- |\n",
    );
    for row in &fault_rows {
        doc.push_str(&format!(
            "| {} | {} | {} |\n",
            row.what, row.outcome, row.invariants
        ));
    }
    doc.push_str(&field_section(
        &std::fs::read_to_string(doc_path()).unwrap_or_default(),
    ));
    doc.push_str(
        "\nCrash tests (SIGKILL during apply at several points, then a rerun) are in\n\
         `tests/it/apply_crash.rs`; property-based tests of the plan-file reader and the\n\
         resource-id parser in `tests/it/plan_file_props.rs` and `tests/it/resource_id_props.rs`.\n\n\
         ## Bad input\n\n\
         Each must exit non-zero with a message and make no write (checked in the request log).\n\n\
         | Input | Result | Writes |\n| --- | --- | --- |\n",
    );
    for row in &input_rows {
        doc.push_str(&format!(
            "| {} | {} | {} |\n",
            row.what, row.outcome, row.invariants
        ));
    }
    std::fs::write(doc_path(), doc).unwrap();
}

fn doc_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/reliability.md")
}

const FIELD_BEGIN: &str = "<!-- field profile: begin -->";
const FIELD_END: &str = "<!-- field profile: end -->";

/// The field profile's table as the document holds it now (markers
/// included), or a note that it has not been run: the default run rewrites
/// the document around it, the field run (`scripts/test`) rewrites only it.
fn field_section(doc: &str) -> String {
    match (doc.find(FIELD_BEGIN), doc.find(FIELD_END)) {
        (Some(begin), Some(end)) if begin < end => {
            format!("\n{}\n", &doc[begin..end + FIELD_END.len()])
        }
        _ => format!(
            "\n{FIELD_BEGIN}\n### Against the field profile\n\n             Not run yet: `scripts/test` runs this suite again against the emulator's \
             field profile and fills this table.\n{FIELD_END}\n"
        ),
    }
}

/// Rewrites the field profile's table in docs/reliability.md.
fn write_field_section(rows: &[Row]) {
    let doc = std::fs::read_to_string(doc_path()).unwrap_or_default();
    let mut table = format!(
        "{FIELD_BEGIN}\n### Against the field profile\n\n\
         The same faults with Azure's rough edges on (`ACTLOG_CMK_TEST_PROFILE=field`, \
         tests/it/support/profile.rs): ARM's index lagging creates by 10 s and paging before it \
         filters, storage answering values its spec does not list, grants taking 20 s to \
         reach storage, tokens expiring after 20 s. A fault's own settings win over the profile's.\n\n\
         | Fault | What happened | Invariants |\n| --- | --- | --- |\n"
    );
    for row in rows {
        table.push_str(&format!(
            "| {} | {} | {} |\n",
            row.what, row.outcome, row.invariants
        ));
    }
    table.push_str(FIELD_END);
    let updated = match (doc.find(FIELD_BEGIN), doc.find(FIELD_END)) {
        (Some(begin), Some(end)) if begin < end => {
            format!("{}{table}{}", &doc[..begin], &doc[end + FIELD_END.len()..])
        }
        _ => format!("{}\n{table}\n", doc.trim_end()),
    };
    std::fs::write(doc_path(), updated).unwrap();
}
