//! The emulator's `field` profile: each of Azure's rough edges as a setting
//! of its own, over real HTTPS. Each test turns one edge on (on top of the
//! fast settings) and shows the behaviour, and where it matters that the
//! default leaves it off.

use crate::support;

use actlog_cmk::emulator::settings::{RotationActionCasing, Settings};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use support::estate::*;
use support::*;

const VAULTS: &str = "Microsoft.KeyVault/vaults";

async fn resources(env: &Env, options: &[(&str, &str)]) -> Answer {
    let mut query = vec![("api-version", "2024-03-01")];
    query.extend_from_slice(options);
    let path = format!(
        "/subscriptions/{SUB1}/resources?{}",
        serde_urlencoded::to_string(&query).unwrap()
    );
    env.arm(Method::GET, &path, None).await
}

fn names(a: &Answer) -> Vec<String> {
    a.body["value"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| i["name"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Every page of a list, following `nextLink` to the end: (pages, names).
async fn all_pages(env: &Env, first: Answer) -> (Vec<Vec<String>>, Vec<String>) {
    let mut pages = Vec::new();
    let mut answer = first;
    loop {
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
        pages.push(names(&answer));
        let Some(next) = answer.body["nextLink"].as_str().map(str::to_string) else {
            break;
        };
        answer = env.arm(Method::GET, &next, None).await;
    }
    let all = pages.concat();
    (pages, all)
}

async fn env_with(edit: impl FnOnce(&mut Settings)) -> Env {
    let mut settings = fast_settings();
    edit(&mut settings);
    let env = Env::start_with(settings).await;
    env.add_subscription(SUB1, "one").await;
    env
}

#[tokio::test]
async fn field_preset_turns_every_rough_edge_on_and_default_none() {
    let field = Settings::field();
    let default = Settings::default();
    assert!(field.resource_list_pages_before_filter && !default.resource_list_pages_before_filter);
    assert!(field.resource_index_lag_ms > 0 && default.resource_index_lag_ms == 0);
    assert!(field.storage_unknown_values && !default.storage_unknown_values);
    assert_eq!(
        field.key_rotation_action_casing,
        RotationActionCasing::KeyVault
    );
    // Minutes for grants, a token that expires within a long run.
    assert!(field.grant_propagation_ms >= 60_000);
    assert!(field.token_lifetime_secs < default.token_lifetime_secs);
    assert!(field.principal_replication_ms > default.principal_replication_ms);
    assert!(field.vault_provisioning_ms > default.vault_provisioning_ms);
    assert!(field.storage_provisioning_ms > default.storage_provisioning_ms);
}

#[tokio::test]
async fn filtered_pages_are_cut_before_the_filter_and_may_be_empty() {
    let env = env_with(|s| {
        s.resource_page_size = 2;
        s.resource_list_pages_before_filter = true;
    })
    .await;
    // Sorted by id, the three accounts of 'aa-logs' come before the vault of 'zz-keys'.
    for name in ["stfield0001", "stfield0002", "stfield0003"] {
        env.storage_account(SUB1, "aa-logs", name).await;
    }
    env.vault(SUB1, "zz-keys", "kv-field-one", json!({})).await;
    let filter = format!("resourceType eq '{VAULTS}' and name eq 'kv-field-one'");

    let first = resources(&env, &[("$filter", &filter)]).await;
    assert_eq!(first.body["value"], json!([]), "{:?}", first.body);
    assert!(first.body["nextLink"].is_string(), "{:?}", first.body);
    let (pages, found) = all_pages(&env, first).await;
    assert_eq!(pages.len(), 2);
    assert_eq!(found, ["kv-field-one"]);

    // Without the edge a page holds matches only: the vault on the first, no nextLink.
    env.patch_settings(json!({"resourceListPagesBeforeFilter": false}))
        .await;
    let a = resources(&env, &[("$filter", &filter)]).await;
    assert_eq!(names(&a), ["kv-field-one"]);
    assert!(a.body.get("nextLink").is_none(), "{:?}", a.body);
}

#[tokio::test]
async fn new_resources_reach_the_index_late_while_get_finds_them_at_once() {
    let env = env_with(|s| s.resource_index_lag_ms = 60_000).await;
    let vault = env.vault(SUB1, "rg-new", "kv-lagging", json!({})).await;
    let (identity, _) = env.identity(SUB1, "rg-new", "id-lagging").await;
    let account = env.storage_account(SUB1, "rg-new", "stlagging01").await;
    for id in [&vault, &identity] {
        let api = if id == &vault { VAULT_API } else { MSI_API };
        let a = env.arm(Method::GET, &format!("{id}?{api}"), None).await;
        assert_eq!(a.status, StatusCode::OK, "{id}: {:?}", a.body);
    }
    let a = env
        .arm(Method::GET, &format!("{account}?{STORAGE_API}"), None)
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let (_, listed) = all_pages(&env, resources(&env, &[]).await).await;
    assert!(listed.is_empty(), "{listed:?}");

    // The lag is recorded at create: turning it off later lists only what
    // is created from then on.
    env.patch_settings(json!({"resourceIndexLagMs": 0})).await;
    env.vault(SUB1, "rg-new", "kv-prompt", json!({})).await;
    let (_, listed) = all_pages(&env, resources(&env, &[]).await).await;
    assert_eq!(listed, ["kv-prompt"]);

    // ...and turning it on does not hide what is already indexed.
    env.patch_settings(json!({"resourceIndexLagMs": 60_000}))
        .await;
    let (_, listed) = all_pages(&env, resources(&env, &[]).await).await;
    assert_eq!(listed, ["kv-prompt"]);
}

#[tokio::test]
async fn a_lagging_resource_is_listed_once_the_lag_has_passed() {
    let env = env_with(|s| s.resource_index_lag_ms = 1_500).await;
    env.vault(SUB1, "rg-new", "kv-soon", json!({})).await;
    let filter = format!("resourceType eq '{VAULTS}'");
    assert!(names(&resources(&env, &[("$filter", &filter)]).await).is_empty());
    tokio::time::sleep(std::time::Duration::from_millis(1_700)).await;
    assert_eq!(
        names(&resources(&env, &[("$filter", &filter)]).await),
        ["kv-soon"]
    );
}

struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `actlog-cmk emulator --profile P [--settings FILE]` as its own process:
/// the settings it runs with.
async fn settings_of_process(profile: &str, settings_file: Option<Value>) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    let mut command = Command::new(env!("CARGO_BIN_EXE_actlog-cmk"));
    command
        .args(["emulator", "--port", "0", "--profile", profile, "--ca-out"])
        .arg(&ca);
    if let Some(settings) = settings_file {
        let path = dir.path().join("settings.json");
        std::fs::write(&path, settings.to_string()).unwrap();
        command.arg("--settings").arg(path);
    }
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the emulator");
    let stdout = child.stdout.take().unwrap();
    let _guard = Killed(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let ready: Value = serde_json::from_str(&line).expect("one JSON line on stdout");
    let client = https_client(&std::fs::read_to_string(&ca).unwrap());
    client
        .get(format!(
            "{}/_emulator/settings",
            ready["endpoint"].as_str().unwrap()
        ))
        .header("x-emulator-key", ready["admin_key"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_field_profile_is_chosen_by_flag_and_a_settings_file_lands_on_top() {
    let default = settings_of_process("default", None).await;
    assert_eq!(default, serde_json::to_value(Settings::default()).unwrap());

    let tuned = settings_of_process(
        "field",
        Some(json!({"grantPropagationMs": 20_000, "throttling": {"enabled": false}})),
    )
    .await;
    let mut expected = Settings::field();
    expected.grant_propagation_ms = 20_000;
    expected.throttling.enabled = false;
    assert_eq!(tuned, serde_json::to_value(expected).unwrap());
}

/// A key's rotation policy with these action types (any casing) and triggers.
fn rotation_policy(actions: &[(&str, &str, &str)], expiry: Option<&str>) -> Value {
    let lifetime: Vec<Value> = actions
        .iter()
        .map(|(kind, trigger, duration)| {
            json!({"trigger": {*trigger: duration}, "action": {"type": kind}})
        })
        .collect();
    let mut policy = json!({"lifetimeActions": lifetime});
    if let Some(expiry) = expiry {
        policy["attributes"] = json!({"expiryTime": expiry});
    }
    policy
}

fn action_types(key: &Value) -> Vec<String> {
    key["properties"]["rotationPolicy"]["lifetimeActions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"]["type"].as_str().unwrap().to_string())
        .collect()
}

async fn put_key(env: &Env, vault_id: &str, name: &str, body: Value) -> Answer {
    env.arm(
        Method::PUT,
        &format!("{vault_id}/keys/{name}?{VAULT_API}"),
        Some(body),
    )
    .await
}

#[tokio::test]
async fn rotation_action_types_are_answered_in_key_vaults_or_managed_hsms_casing() {
    let env = env_with(|_| {}).await;
    let vault = env.vault(SUB1, "rg-keys", "kv-casing", json!({})).await;
    let policy = rotation_policy(
        &[
            ("rotate", "timeAfterCreate", "P30D"),
            ("NOTIFY", "timeBeforeExpiry", "P30D"),
        ],
        Some("P365D"),
    );
    let a = put_key(
        &env,
        &vault,
        "cmk",
        json!({"properties": {"kty": "RSA", "rotationPolicy": policy}}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(action_types(&a.body), ["Rotate", "Notify"]);
    let key = format!("{vault}/keys/cmk?{VAULT_API}");
    let a = env.arm(Method::GET, &key, None).await;
    assert_eq!(action_types(&a.body), ["Rotate", "Notify"]);

    env.patch_settings(json!({"keyRotationActionCasing": "managedHsm"}))
        .await;
    let a = env.arm(Method::GET, &key, None).await;
    assert_eq!(action_types(&a.body), ["rotate", "notify"]);
}

#[tokio::test]
async fn storage_answers_values_its_2023_spec_does_not_list() {
    let env = env_with(|s| {
        s.storage_unknown_values = true;
        s.storage_provisioning_ms = 4_000;
    })
    .await;
    env.put_resource_group(SUB1, "rg-logs", "westeurope").await;
    let id = account_id(SUB1, "rg-logs", "stsmart0001");
    let url = format!("{id}?{STORAGE_API}");
    let started = std::time::Instant::now();
    let a = env
        .arm(
            Method::PUT,
            &url,
            Some(json!({"location": "westeurope", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}})),
        )
        .await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{:?}", a.body);
    // Newer api-versions' first provisioning state, then the spec's `Creating`.
    let state = |a: &Answer| a.body["properties"]["provisioningState"].clone();
    let a = env.arm(Method::GET, &url, None).await;
    assert_eq!(state(&a), "ValidateSubscriptionQuotaBegin");
    tokio::time::sleep(std::time::Duration::from_millis(2_200).saturating_sub(started.elapsed()))
        .await;
    let a = env.arm(Method::GET, &url, None).await;
    assert_eq!(state(&a), "Creating");
    tokio::time::sleep(std::time::Duration::from_millis(4_200).saturating_sub(started.elapsed()))
        .await;

    let get = env.arm(Method::GET, &url, None).await;
    let patched = env
        .arm(Method::PATCH, &url, Some(json!({"tags": {"team": "logs"}})))
        .await;
    let listed = env
        .arm(
            Method::GET,
            &format!(
                "/subscriptions/{SUB1}/providers/Microsoft.Storage/storageAccounts?{STORAGE_API}"
            ),
            None,
        )
        .await;
    for (what, account) in [
        ("GET", &get.body),
        ("PATCH", &patched.body),
        ("list", &listed.body["value"][0]),
    ] {
        let props = &account["properties"];
        assert_eq!(props["provisioningState"], "Succeeded", "{what}");
        assert_eq!(props["accessTier"], "Smart", "{what}: {props}");
        assert_eq!(props["allowCrossTenantDelegationSas"], false, "{what}");
        assert_eq!(props["networkAcls"]["ipv6Rules"], json!([]), "{what}");
    }

    // Off (the default), only the spec's values.
    env.patch_settings(json!({"storageUnknownValues": false}))
        .await;
    let props = env.arm(Method::GET, &url, None).await.body["properties"].clone();
    assert_eq!(props["accessTier"], "Hot");
    assert!(props.get("allowCrossTenantDelegationSas").is_none());
    assert!(props["networkAcls"].get("ipv6Rules").is_none());
}

#[tokio::test]
async fn key_vaults_rotation_rules_and_tag_limit_hold_in_every_profile() {
    let env = env_with(|_| {}).await;
    let vault = env.vault(SUB1, "rg-keys", "kv-rules", json!({})).await;
    let refused = [
        // Rotate no sooner than 7 days after creation.
        (
            rotation_policy(&[("Rotate", "timeAfterCreate", "P6D")], None),
            "P7D",
        ),
        // No later than 7 days before expiry, either way it is written.
        (
            rotation_policy(&[("rotate", "timeBeforeExpiry", "P6D")], Some("P90D")),
            "P7D",
        ),
        (
            rotation_policy(&[("rotate", "timeAfterCreate", "P30D")], Some("P35D")),
            "P7D",
        ),
        // An expiry of at least 28 days.
        (
            rotation_policy(&[("rotate", "timeAfterCreate", "P7D")], Some("P27D")),
            "P28D",
        ),
    ];
    for (i, (policy, rule)) in refused.into_iter().enumerate() {
        let a = put_key(
            &env,
            &vault,
            &format!("refused{i}"),
            json!({"properties": {"kty": "RSA", "rotationPolicy": policy}}),
        )
        .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{policy}: {:?}", a.body);
        assert_eq!(a.code(), "BadRequest");
        let message = a.body["error"]["message"].as_str().unwrap();
        assert!(message.contains(rule), "{message}");
        // Nothing was created.
        let get = env
            .arm(
                Method::GET,
                &format!("{vault}/keys/refused{i}?{VAULT_API}"),
                None,
            )
            .await;
        assert_eq!(get.status, StatusCode::NOT_FOUND);
    }
    // The edges themselves are allowed; so is what the tool sends by default.
    for (i, policy) in [
        rotation_policy(&[("rotate", "timeAfterCreate", "P7D")], Some("P28D")),
        rotation_policy(&[("rotate", "timeAfterCreate", "P21D")], Some("P28D")),
        rotation_policy(&[("Rotate", "timeBeforeExpiry", "P7D")], Some("P1Y")),
        rotation_policy(&[("rotate", "timeAfterCreate", "P90D")], None),
    ]
    .into_iter()
    .enumerate()
    {
        let a = put_key(
            &env,
            &vault,
            &format!("allowed{i}"),
            json!({"properties": {"kty": "RSA", "rotationPolicy": policy}}),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{policy}: {:?}", a.body);
    }

    let tags = |n: usize| -> Value {
        (0..n)
            .map(|i| (format!("tag{i}"), json!("v")))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let a = put_key(
        &env,
        &vault,
        "fifteen",
        json!({"tags": tags(15), "properties": {"kty": "RSA"}}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let a = put_key(
        &env,
        &vault,
        "sixteen",
        json!({"tags": tags(16), "properties": {"kty": "RSA"}}),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{:?}", a.body);
    assert!(a.body["error"]["message"].as_str().unwrap().contains("15"));
}

/// PATCH an account onto `vault`'s key `key` through the user-assigned `identity`.
async fn patch_to_cmk(env: &Env, account: &str, vault: &str, key: &str, identity: &str) -> Answer {
    env.arm(
        Method::PATCH,
        &format!("{account}?{STORAGE_API}"),
        Some(json!({
            "identity": {"type": "UserAssigned", "userAssignedIdentities": {identity: {}}},
            "properties": {"encryption": {"keySource": "Microsoft.Keyvault",
                "keyvaultproperties": {"keyvaulturi": format!("https://{vault}.vault.azure.net/"), "keyname": key},
                "identity": {"userAssignedIdentity": identity}}}})),
    )
    .await
}

#[tokio::test]
async fn a_deleted_identity_stays_attached_and_cannot_be_named_or_used() {
    let env = env_with(|_| {}).await;
    let cmk = env
        .cmk_account(SUB1, "rg-cmk", "stgone0001", "kv-gone", false)
        .await;
    let deleted = env
        .arm(
            Method::DELETE,
            &format!("{}?{MSI_API}", cmk.identity_id),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::OK);

    // Still listed, with the principal and client it had (Microsoft Learn:
    // deleting an identity does not remove it from the resources it is assigned to).
    let url = format!("{}?{STORAGE_API}", cmk.account_id);
    let before = env.arm(Method::GET, &url, None).await.body;
    let entry = before["identity"]["userAssignedIdentities"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(id, _)| id.eq_ignore_ascii_case(&cmk.identity_id))
        .map(|(_, v)| v.clone())
        .expect("the deleted identity is still listed");
    assert_eq!(entry["principalId"], cmk.principal_id.as_str());
    assert!(entry["clientId"].is_string());
    assert_eq!(
        before["properties"]["encryption"]["keySource"],
        "Microsoft.Keyvault"
    );

    // Sending it back fails as Azure's identity service does; nothing changes.
    let a = env
        .arm(
            Method::PATCH,
            &url,
            Some(json!({"identity": {"type": "UserAssigned", "userAssignedIdentities": {cmk.identity_id.as_str(): {}}}})),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{:?}", a.body);
    assert_eq!(a.code(), "FailedIdentityOperation");
    let message = a.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("Status: 'BadRequest'")
            && message.contains(&format!(
                "Resource '{}' was not found.",
                cmk.identity_id.to_ascii_lowercase()
            )),
        "{message}"
    );
    assert_eq!(env.arm(Method::GET, &url, None).await.body, before);

    // Using it as the encryption identity for another key fails storage's check,
    // although its old access policy is still on the vault.
    env.key(
        &cmk.vault_id,
        "cmk2",
        json!({"kty": "RSA", "keySize": 2048}),
    )
    .await;
    let a = env
        .arm(
            Method::PATCH,
            &url,
            Some(json!({"properties": {"encryption": {"keySource": "Microsoft.Keyvault",
                "keyvaultproperties": {"keyvaulturi": "https://kv-gone.vault.azure.net/", "keyname": "cmk2"},
                "identity": {"userAssignedIdentity": cmk.identity_id}}}})),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{:?}", a.body);
    assert_eq!(a.code(), "KeyVaultAuthenticationFailure");

    // A PATCH that leaves it out succeeds, and it stays attached.
    let a = env
        .arm(Method::PATCH, &url, Some(json!({"tags": {"team": "logs"}})))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    assert_eq!(
        user_assigned(&a.body["identity"]),
        [cmk.identity_id.to_lowercase()]
    );
    // So does moving to a new identity: the deleted one stays listed beside it.
    let (fresh, principal) = env.identity(SUB1, "rg-cmk", "id-fresh").await;
    env.access_policy(&cmk.vault_id, &principal, &["get", "wrapKey", "unwrapKey"])
        .await;
    let a = patch_to_cmk(&env, &cmk.account_id, "kv-gone", "cmk", &fresh).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let mut attached = user_assigned(&a.body["identity"]);
    attached.sort();
    let mut expected = vec![cmk.identity_id.to_lowercase(), fresh.to_lowercase()];
    expected.sort();
    assert_eq!(attached, expected);
}

#[tokio::test]
async fn a_vault_firewall_fails_storage_exactly_like_a_grant_not_yet_propagated() {
    let env = env_with(|_| {}).await;
    let (identity, principal) = env.identity(SUB1, "rg-cmk", "id-cmk").await;
    // Behind a firewall that does not let trusted services in; the grant is effective.
    let firewalled = env
        .vault(
            SUB1,
            "rg-cmk",
            "kv-walled",
            json!({"networkAcls": {"defaultAction": "Deny", "bypass": "None", "ipRules": [], "virtualNetworkRules": []}}),
        )
        .await;
    env.key(&firewalled, "cmk", json!({"kty": "RSA", "keySize": 2048}))
        .await;
    env.access_policy(&firewalled, &principal, &["get", "wrapKey", "unwrapKey"])
        .await;
    // Open, with a grant that takes a minute to reach storage.
    env.patch_settings(json!({"grantPropagationMs": 60_000}))
        .await;
    let pending = env.vault(SUB1, "rg-cmk", "kv-pending", json!({})).await;
    env.key(&pending, "cmk", json!({"kty": "RSA", "keySize": 2048}))
        .await;
    env.access_policy(&pending, &principal, &["get", "wrapKey", "unwrapKey"])
        .await;

    let one = env.storage_account(SUB1, "rg-cmk", "stwalled001").await;
    let two = env.storage_account(SUB1, "rg-cmk", "stpending01").await;
    let walled = patch_to_cmk(&env, &one, "kv-walled", "cmk", &identity).await;
    let waiting = patch_to_cmk(&env, &two, "kv-pending", "cmk", &identity).await;
    assert_eq!(walled.status, StatusCode::BAD_REQUEST, "{:?}", walled.body);
    assert_eq!(walled.code(), "KeyVaultAuthenticationFailure");
    assert_eq!(walled.status, waiting.status);
    assert_eq!(walled.body["error"], waiting.body["error"]);

    // The firewall was the cause: letting trusted services in fixes it.
    let a = env
        .arm(
            Method::PATCH,
            &format!("{firewalled}?{VAULT_API}"),
            Some(json!({"properties": {"networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices", "ipRules": [], "virtualNetworkRules": []}}})),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    let a = patch_to_cmk(&env, &one, "kv-walled", "cmk", &identity).await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
}
