//! Conformance: every operation the emulator serves, on its success and error
//! paths, is recorded as traffic and checked with Microsoft's OpenAPI
//! validator (`oav validate-traffic`) against the specs in `../shared/azure-specs`
//! (or `ACTLOG_CMK_AZURE_SPECS`). A clone without them skips the test in one
//! loud line; `ACTLOG_CMK_REQUIRE_SPECS=1` (set by .ci/run) makes that a failure.
//!
//! oav passes unknown operations silently, so the test asserts coverage itself:
//! every expected operation id must have been validated, no exchange may be an
//! "Undefined operation", and every violation must be on the short, commented
//! suppression list below (differences between the specs and real Azure).

use crate::support;

use actlog_cmk::emulator::Options;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::*;

/// Every operation id the emulator implements, as the specs name them.
const EXPECTED: &[&str] = &[
    "Subscriptions_List",
    "Subscriptions_Get",
    "ResourceGroups_CreateOrUpdate",
    "ResourceGroups_Get",
    "Resources_List",
    "SubscriptionDiagnosticSettings_List",
    "SubscriptionDiagnosticSettings_Get",
    "SubscriptionDiagnosticSettings_CreateOrUpdate",
    "SubscriptionDiagnosticSettings_Delete",
    "LogProfiles_List",
    "LogProfiles_Get",
    "LogProfiles_CreateOrUpdate",
    "LogProfiles_Delete",
    "StorageAccounts_Create",
    "StorageAccounts_GetProperties",
    "StorageAccounts_Update",
    "StorageAccounts_List",
    "StorageAccounts_ListByResourceGroup",
    "StorageAccounts_CheckNameAvailability",
    "StorageAccounts_Delete",
    "UserAssignedIdentities_CreateOrUpdate",
    "UserAssignedIdentities_Get",
    "UserAssignedIdentities_Delete",
    "Vaults_CreateOrUpdate",
    "Vaults_Get",
    "Vaults_Update",
    "Vaults_Delete",
    "Vaults_CheckNameAvailability",
    "Vaults_UpdateAccessPolicy",
    "Vaults_GetDeleted",
    "Vaults_PurgeDeleted",
    "Keys_CreateIfNotExist",
    "Keys_Get",
    "Keys_List",
    "Keys_ListVersions",
    "Keys_GetVersion",
    "RoleAssignments_Create",
    "RoleAssignments_Get",
    "RoleAssignments_Delete",
    "RoleAssignments_ListForResource",
    // What Azure CLI and the Python SDK ask at start-up (issue 18).
    "Tenants_List",
    "Subscriptions_ListLocations",
    "ResourceGroups_List",
    "RoleDefinitions_Get",
    "RoleDefinitions_List",
    // Custom roles (issue 17 item 2).
    "RoleDefinitions_CreateOrUpdate",
    "RoleDefinitions_Delete",
    // Management groups and their activity-log settings (issue 17 item 1).
    "ManagementGroups_List",
    "ManagementGroups_Get",
    "ManagementGroups_CreateOrUpdate",
    "ManagementGroupSubscriptions_Create",
    "ManagementGroupDiagnosticSettings_CreateOrUpdate",
    "ManagementGroupDiagnosticSettings_Get",
    "ManagementGroupDiagnosticSettings_List",
    "ManagementGroupDiagnosticSettings_Delete",
];

/// Why a reported violation is Azure's real behaviour rather than an emulator bug.
fn suppression(finding: &Finding) -> Option<&'static str> {
    let Finding {
        operation,
        code,
        message,
        status,
        source,
        ..
    } = finding;
    let (operation, code, message) = (operation.as_str(), code.as_str(), message.as_str());
    let error_status = *status >= 400;
    // The scenario sends invalid requests on purpose to check the error answer.
    if source == "request" && (400..500).contains(status) {
        return Some("deliberately invalid request");
    }
    match (operation, code) {
        // Real ARM omits nextLink on the last page; the spec marks it required
        // (for tenants as for subscriptions: both are TenantListResult-like lists).
        ("Subscriptions_List" | "Tenants_List", "OBJECT_MISSING_REQUIRED_PROPERTY")
            if message.contains("nextLink") =>
        {
            Some("ARM omits nextLink on the last page")
        }
        // Real ARM adds `count` to subscription lists (2020-01-01 and later).
        ("Subscriptions_List", "OBJECT_ADDITIONAL_PROPERTIES") if message.contains("count") => {
            Some("ARM adds count")
        }
        // Recordings: diagnostic settings carry "location": "global".
        (op, "OBJECT_ADDITIONAL_PROPERTIES")
            if op.starts_with("SubscriptionDiagnosticSettings_")
                && message.contains("location") =>
        {
            Some("ARM adds location: global to subscription diagnostic settings")
        }
        // Recordings: log profiles carry explicit nulls for kind/identity and location.
        (op, "OBJECT_ADDITIONAL_PROPERTIES")
            if op.starts_with("LogProfiles_")
                && (message.contains("kind") || message.contains("identity")) =>
        {
            Some("ARM returns kind and identity as explicit nulls on log profiles")
        }
        (op, "INVALID_TYPE") if op.starts_with("LogProfiles_") && message.contains("null") => {
            Some("ARM returns location: null on log profiles")
        }
        // The storage 2023-05-01 spec and log-profile list/put/delete define no
        // error responses, yet ARM answers errors (404, 409, 400, 429...) there.
        (op, "INVALID_RESPONSE_CODE")
            if error_status
                && (op.starts_with("StorageAccounts_") || op.starts_with("LogProfiles_")) =>
        {
            Some("the spec defines no error response for this operation")
        }
        _ => None,
    }
}

/// Where Microsoft's specs are: `ACTLOG_CMK_AZURE_SPECS`, else `../shared/azure-specs`.
fn specs_dir() -> PathBuf {
    std::env::var_os("ACTLOG_CMK_AZURE_SPECS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/azure-specs"))
}

/// The specs, or `None` after one loud line when they are missing: a fresh
/// clone outside this workspace has no specs and still passes `cargo test`.
/// With `ACTLOG_CMK_REQUIRE_SPECS=1` (CI) a missing folder fails the test.
fn specs_or_skip() -> Option<PathBuf> {
    let dir = specs_dir();
    if dir.join("specification").is_dir() {
        return Some(dir);
    }
    let missing = format!(
        "Microsoft's specs are not at {} (set ACTLOG_CMK_AZURE_SPECS to the folder that holds `specification/`)",
        dir.display()
    );
    assert!(
        std::env::var_os(REQUIRE_SPECS).is_none_or(|v| v.is_empty() || v == "0"),
        "{missing}; {REQUIRE_SPECS} is set, so the conformance test may not skip"
    );
    // Straight to the process's stderr: libtest captures `eprintln!` of a passing test.
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED conformance::{TEST}: {missing}; set {REQUIRE_SPECS}=1 to make this a failure"
    );
    None
}

/// Turns the skip for missing specs into a failure (.ci/run sets it).
const REQUIRE_SPECS: &str = "ACTLOG_CMK_REQUIRE_SPECS";
/// The test that needs the specs, by name (the skip line and the child runs name it).
const TEST: &str = "emulator_traffic_conforms_to_microsofts_specs";

/// The oav executable, installed on first use by `.ci/install-oav.sh`.
fn oav() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new("bash")
        .arg(root.join(".ci/install-oav.sh"))
        .output()
        .expect("running .ci/install-oav.sh (needs bash, node and npm)");
    assert!(
        output.status.success(),
        "installing oav failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    PathBuf::from(
        stdout
            .lines()
            .last()
            .expect("install-oav prints the oav path")
            .trim(),
    )
}

async fn put(env: &Env, path: &str, body: Value) -> Answer {
    env.arm(Method::PUT, path, Some(body)).await
}

async fn get(env: &Env, path: &str) -> Answer {
    env.arm(Method::GET, path, None).await
}

/// The management-group hierarchy and its groups' diagnostic settings, as
/// the audit and the estate builders call them, with their error paths.
async fn exercise_management_groups(env: &Env) {
    use actlog_cmk::demo::requests as r;
    let send = |request: r::Request| async move {
        env.arm(request.method, &request.path, request.body).await
    };
    let mg = "/providers/Microsoft.Management/managementGroups";
    let api = "api-version=2023-04-01";
    get(env, &format!("{mg}?{api}")).await;
    send(r::management_group("conf-platform", "Platform", None)).await;
    send(r::management_group(
        "conf-logging",
        "Logging",
        Some("conf-platform"),
    ))
    .await;
    send(r::management_group("bad.", "Bad", None)).await;
    send(r::management_group_subscription("conf-logging", SUB1)).await;
    env.patch_settings(json!({"managementGroupPageSize": 2}))
        .await;
    let first = get(env, &format!("{mg}?{api}")).await;
    if let Some(next) = first.body["@nextLink"].as_str() {
        get(env, next).await;
    }
    get(env, &format!("{mg}/conf-logging?{api}")).await;
    get(
        env,
        &format!("{mg}/conf-platform?{api}&$expand=children&$recurse=true"),
    )
    .await;
    get(env, &format!("{mg}/conf-missing?{api}")).await;
    // A destination that exists and is provisioned (the scenario deleted its own).
    env.patch_settings(json!({"storageProvisioningMs": 0}))
        .await;
    let account = r::storage_account_id(SUB1, "rg-conf", "stconfmg01");
    send(r::storage_account(&account, "westeurope", None)).await;
    send(r::management_group_diagnostic_setting(
        "conf-platform",
        "conf-nowhere",
        &r::storage_account_id(SUB1, "rg-conf", "stconfnowhere"),
        &["Administrative"],
        true,
    ))
    .await;
    send(r::management_group_diagnostic_setting(
        "conf-platform",
        "conf-activity",
        &account,
        &["Administrative", "Policy"],
        true,
    ))
    .await;
    send(r::management_group_diagnostic_setting(
        "conf-platform",
        "conf-bad",
        "not-an-id",
        &["Administrative"],
        true,
    ))
    .await;
    let settings = format!("{mg}/conf-platform/providers/Microsoft.Insights/diagnosticSettings");
    let preview = "api-version=2020-01-01-preview";
    get(env, &format!("{settings}?{preview}")).await;
    get(env, &format!("{settings}/conf-activity?{preview}")).await;
    get(env, &format!("{settings}/conf-none?{preview}")).await;
    for _ in 0..2 {
        env.arm(
            Method::DELETE,
            &format!("{settings}/conf-activity?{preview}"),
            None,
        )
        .await;
    }
}

/// Drives every operation through success and typical error paths.
async fn exercise_every_operation(env: &Env) {
    let tenant = env.emu.connection.tenant_id.clone();
    env.add_subscription(SUB1, "conformance one").await;
    env.add_subscription(SUB2, "conformance two").await;
    let s = format!("/subscriptions/{SUB1}");
    let rg = format!("{s}/resourceGroups/rg-conf");

    // Subscriptions and resource groups.
    get(env, "/subscriptions?api-version=2022-12-01").await;
    get(env, &format!("{s}?api-version=2022-12-01")).await;
    get(
        env,
        "/subscriptions/99999999-9999-9999-9999-999999999999?api-version=2022-12-01",
    )
    .await;
    put(
        env,
        &format!("{rg}?api-version=2024-03-01"),
        json!({"location": "westeurope", "tags": {"env": "test"}}),
    )
    .await;
    put(
        env,
        &format!("{rg}?api-version=2024-03-01"),
        json!({"location": "westeurope"}),
    )
    .await;
    put(
        env,
        &format!("{s}/resourceGroups/bad.?api-version=2024-03-01"),
        json!({"location": "westeurope"}),
    )
    .await;
    get(env, &format!("{rg}?api-version=2024-03-01")).await;
    get(
        env,
        &format!("{s}/resourceGroups/missing?api-version=2024-03-01"),
    )
    .await;
    // Start-up calls of Azure CLI and the Python SDK.
    get(env, "/tenants?api-version=2022-12-01").await;
    get(env, &format!("{s}/locations?api-version=2022-12-01")).await;
    get(env, &format!("{s}/resourcegroups?api-version=2024-03-01")).await;
    get(
        env,
        &format!("{s}/resourcegroups?api-version=2024-03-01&$top=1"),
    )
    .await;
    let definitions = format!("{s}/providers/Microsoft.Authorization/roleDefinitions");
    get(
        env,
        &format!("{definitions}/e147488a-f6f5-4113-8e2d-b22465e65bf6?api-version=2022-04-01"),
    )
    .await;
    get(
        env,
        &format!("{definitions}/00000000-0000-0000-0000-000000000000?api-version=2022-04-01"),
    )
    .await;
    get(
        env,
        &format!("{definitions}?$filter=roleName%20eq%20'Key%20Vault%20Crypto%20Service%20Encryption%20User'&api-version=2022-04-01"),
    )
    .await;
    // A custom role: created, refused under a taken name, read, listed, deleted.
    let custom =
        format!("{definitions}/7d0c5a8e-0000-4000-8000-000000000001?api-version=2022-04-01");
    let custom_role = |name: &str| {
        json!({"properties": {"roleName": name, "type": "CustomRole", "description": "wrap keys",
            "permissions": [{"actions": [], "notActions": [],
                "dataActions": ["Microsoft.KeyVault/vaults/keys/*"],
                "notDataActions": ["Microsoft.KeyVault/vaults/keys/delete"]}],
            "assignableScopes": [s.clone()]}})
    };
    put(env, &custom, custom_role("conformance key wrap")).await;
    put(
        env,
        &format!("{definitions}/7d0c5a8e-0000-4000-8000-000000000002?api-version=2022-04-01"),
        custom_role("Conformance Key Wrap"),
    )
    .await;
    put(
        env,
        &format!("{definitions}/not-a-guid?api-version=2022-04-01"),
        custom_role("other"),
    )
    .await;
    get(env, &custom).await;
    get(
        env,
        &format!("{definitions}?$filter=type%20eq%20'CustomRole'&api-version=2022-04-01"),
    )
    .await;
    env.arm(Method::DELETE, &custom, None).await;
    env.arm(Method::DELETE, &custom, None).await;

    // User-assigned identity.
    let uami = format!("{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uami-conf");
    let identity = put(
        env,
        &format!("{uami}?api-version=2023-01-31"),
        json!({"location": "westeurope", "tags": {"tool": "actlog-cmk"}}),
    )
    .await;
    let principal_id = identity.body["properties"]["principalId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    put(
        env,
        &format!("{uami}?api-version=2023-01-31"),
        json!({"location": "westeurope"}),
    )
    .await;
    get(env, &format!("{uami}?api-version=2023-01-31")).await;
    get(env, &format!("{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/nope?api-version=2023-01-31")).await;
    put(env, &format!("{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/x?api-version=2023-01-31"), json!({})).await;

    // Key vault, access policies, keys.
    let vault_name = "kv-conf-0001";
    let vault = format!("{rg}/providers/Microsoft.KeyVault/vaults/{vault_name}");
    let vault_body = json!({"location": "westeurope", "properties": {
        "tenantId": tenant, "sku": {"family": "A", "name": "standard"}, "accessPolicies": [],
        "enableSoftDelete": true, "softDeleteRetentionInDays": 90, "enablePurgeProtection": true}});
    let check =
        format!("{s}/providers/Microsoft.KeyVault/checkNameAvailability?api-version=2023-07-01");
    env.arm(
        Method::POST,
        &check,
        Some(json!({"name": vault_name, "type": "Microsoft.KeyVault/vaults"})),
    )
    .await;
    put(
        env,
        &format!("{vault}?api-version=2023-07-01"),
        vault_body.clone(),
    )
    .await;
    env.arm(
        Method::POST,
        &check,
        Some(json!({"name": vault_name, "type": "Microsoft.KeyVault/vaults"})),
    )
    .await;
    get(env, &format!("{vault}?api-version=2023-07-01")).await;
    let mut no_purge = vault_body.clone();
    no_purge["properties"]["enablePurgeProtection"] = json!(false);
    put(
        env,
        &format!("{rg}/providers/Microsoft.KeyVault/vaults/kv-conf-0002?api-version=2023-07-01"),
        no_purge,
    )
    .await;
    put(
        env,
        &format!("/subscriptions/{SUB2}/resourceGroups/rg-conf?api-version=2024-03-01"),
        json!({"location": "westeurope"}),
    )
    .await;
    put(env, &format!("/subscriptions/{SUB2}/resourceGroups/rg-conf/providers/Microsoft.KeyVault/vaults/{vault_name}?api-version=2023-07-01"), vault_body.clone()).await;
    env.arm(
        Method::PATCH,
        &format!("{vault}?api-version=2023-07-01"),
        Some(json!({"tags": {"tool": "actlog-cmk"}})),
    )
    .await;
    put(env, &format!("{vault}/accessPolicies/add?api-version=2023-07-01"), json!({"properties": {"accessPolicies": [
        {"tenantId": tenant, "objectId": principal_id, "permissions": {"keys": ["get", "wrapKey", "unwrapKey"]}}]}})).await;
    put(
        env,
        &format!("{vault}/accessPolicies/remove?api-version=2023-07-01"),
        json!({"properties": {"accessPolicies": [
        {"tenantId": tenant, "objectId": principal_id, "permissions": {"keys": ["get"]}}]}}),
    )
    .await;
    put(
        env,
        &format!("{vault}/accessPolicies/add?api-version=2023-07-01"),
        json!({"properties": {"accessPolicies": [
        {"tenantId": tenant, "objectId": principal_id, "permissions": {"keys": ["get"]}}]}}),
    )
    .await;
    let key = format!("{vault}/keys/cmk");
    let created = put(
        env,
        &format!("{key}?api-version=2023-07-01"),
        json!({"properties": {"kty": "RSA", "keySize": 3072, "keyOps": ["wrapKey", "unwrapKey"]}}),
    )
    .await;
    put(
        env,
        &format!("{key}?api-version=2023-07-01"),
        json!({"properties": {"kty": "RSA", "keySize": 3072}}),
    )
    .await;
    get(env, &format!("{key}?api-version=2023-07-01")).await;
    get(env, &format!("{vault}/keys/missing?api-version=2023-07-01")).await;
    get(env, &format!("{vault}/keys?api-version=2023-07-01")).await;
    get(env, &format!("{key}/versions?api-version=2023-07-01")).await;
    let version = created.body["properties"]["keyUriWithVersion"]
        .as_str()
        .and_then(|u| u.rsplit('/').next())
        .unwrap_or("0")
        .to_string();
    get(
        env,
        &format!("{key}/versions/{version}?api-version=2023-07-01"),
    )
    .await;

    // Role assignments at the vault scope.
    let ra = format!("{vault}/providers/Microsoft.Authorization/roleAssignments/5f6a1c2e-0000-4000-8000-000000000001");
    let role = format!("{s}/providers/Microsoft.Authorization/roleDefinitions/e147488a-f6f5-4113-8e2d-b22465e65bf6");
    put(env, &format!("{ra}?api-version=2022-04-01"), json!({"properties": {"roleDefinitionId": role, "principalId": principal_id, "principalType": "ServicePrincipal"}})).await;
    get(env, &format!("{ra}?api-version=2022-04-01")).await;
    get(
        env,
        &format!(
            "{vault}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01"
        ),
    )
    .await;
    put(env, &format!("{vault}/providers/Microsoft.Authorization/roleAssignments/5f6a1c2e-0000-4000-8000-000000000002?api-version=2022-04-01"),
        json!({"properties": {"roleDefinitionId": role, "principalId": "00000000-0000-0000-0000-00000000dead"}})).await;
    env.arm(
        Method::DELETE,
        &format!("{ra}?api-version=2022-04-01"),
        None,
    )
    .await;

    // Storage accounts: create (LRO), read, list, CMK switch, errors.
    let account = format!("{rg}/providers/Microsoft.Storage/storageAccounts/stconf0001");
    let storage_check =
        format!("{s}/providers/Microsoft.Storage/checkNameAvailability?api-version=2023-05-01");
    env.arm(
        Method::POST,
        &storage_check,
        Some(json!({"name": "stconf0001", "type": "Microsoft.Storage/storageAccounts"})),
    )
    .await;
    let accepted = put(
        env,
        &format!("{account}?api-version=2023-05-01"),
        json!({"location": "westeurope", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}}),
    )
    .await;
    let mut location = accepted.header("location").map(str::to_string);
    for _ in 0..50 {
        let Some(url) = location.take() else { break };
        let poll = get(env, &url).await;
        if poll.status == reqwest::StatusCode::ACCEPTED {
            location = poll.header("location").map(str::to_string);
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    get(env, &format!("{account}?api-version=2023-05-01")).await;
    get(
        env,
        &format!(
            "{rg}/providers/Microsoft.Storage/storageAccounts/nope0001?api-version=2023-05-01"
        ),
    )
    .await;
    get(
        env,
        &format!("{s}/providers/Microsoft.Storage/storageAccounts?api-version=2023-05-01"),
    )
    .await;
    get(
        env,
        &format!("{rg}/providers/Microsoft.Storage/storageAccounts?api-version=2023-05-01"),
    )
    .await;
    env.arm(
        Method::PATCH,
        &format!("{account}?api-version=2023-05-01"),
        Some(json!({"identity": {"type": "SystemAssigned"}})),
    )
    .await;
    env.arm(Method::PATCH, &format!("{account}?api-version=2023-05-01"), Some(json!({
        "identity": {"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": {uami.clone(): {}}},
        "properties": {"encryption": {"keySource": "Microsoft.Keyvault",
            "keyvaultproperties": {"keyvaulturi": format!("https://{vault_name}.vault.azure.net/"), "keyname": "cmk"},
            "identity": {"userAssignedIdentity": uami}}}}))).await;
    env.arm(Method::PATCH, &format!("{account}?api-version=2023-05-01"), Some(json!({
        "properties": {"encryption": {"keySource": "Microsoft.Keyvault",
            "keyvaultproperties": {"keyvaulturi": "https://kv-missing-0001.vault.azure.net/", "keyname": "cmk"},
            "identity": {"userAssignedIdentity": uami}}}}))).await;
    put(
        env,
        &format!(
            "{rg}/providers/Microsoft.Storage/storageAccounts/Bad_Name?api-version=2023-05-01"
        ),
        json!({"location": "westeurope", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}}),
    )
    .await;

    // ARM's resource index: a vault found by type and name, pages by $top and
    // nextLink, with $expand, and refused filters and page sizes.
    let resources = format!("{s}/resources?api-version=2024-03-01");
    get(
        env,
        &format!("{resources}&$filter=resourceType%20eq%20'Microsoft.KeyVault/vaults'%20and%20name%20eq%20'{vault_name}'"),
    )
    .await;
    let first = get(
        env,
        &format!("{resources}&$top=1&$expand=createdTime,changedTime,provisioningState"),
    )
    .await;
    if let Some(next) = first.body["nextLink"].as_str() {
        get(env, next).await;
    }
    get(
        env,
        &format!("{resources}&$filter=substringof('conf',%20name)"),
    )
    .await;
    get(env, &format!("{resources}&$top=5000")).await;
    get(
        env,
        "/subscriptions/99999999-9999-9999-9999-999999999999/resources?api-version=2024-03-01",
    )
    .await;

    // Subscription diagnostic settings and log profiles pointing at the account.
    let diag = format!("{s}/providers/Microsoft.Insights/diagnosticSettings/send-to-storage");
    put(env, &format!("{diag}?api-version=2021-05-01-preview"), json!({"properties": {"storageAccountId": account, "logs": [
        {"category": "Administrative", "enabled": true}, {"category": "Security", "enabled": true}]}})).await;
    get(
        env,
        &format!(
            "{s}/providers/Microsoft.Insights/diagnosticSettings?api-version=2021-05-01-preview"
        ),
    )
    .await;
    get(env, &format!("{diag}?api-version=2021-05-01-preview")).await;
    get(env, &format!("{s}/providers/Microsoft.Insights/diagnosticSettings/nope?api-version=2021-05-01-preview")).await;
    put(env, &format!("{s}/providers/Microsoft.Insights/diagnosticSettings/empty?api-version=2021-05-01-preview"), json!({"properties": {"logs": []}})).await;
    env.arm(
        Method::DELETE,
        &format!("{diag}?api-version=2021-05-01-preview"),
        None,
    )
    .await;
    let profile = format!("{s}/providers/Microsoft.Insights/logprofiles/default");
    put(env, &format!("{profile}?api-version=2016-03-01"), json!({"location": "", "properties": {
        "storageAccountId": account, "locations": ["global", "westeurope"], "categories": ["Write", "Delete", "Action"],
        "retentionPolicy": {"enabled": false, "days": 0}}})).await;
    get(
        env,
        &format!("{s}/providers/Microsoft.Insights/logprofiles?api-version=2016-03-01"),
    )
    .await;
    get(env, &format!("{profile}?api-version=2016-03-01")).await;
    get(
        env,
        &format!("{s}/providers/Microsoft.Insights/logprofiles/nope?api-version=2016-03-01"),
    )
    .await;
    env.arm(
        Method::DELETE,
        &format!("{profile}?api-version=2016-03-01"),
        None,
    )
    .await;

    // Deletes last: identity (after use), storage account, vault (soft delete), purge refused.
    env.arm(
        Method::DELETE,
        &format!("{account}?api-version=2023-05-01"),
        None,
    )
    .await;
    env.arm(
        Method::DELETE,
        &format!("{vault}?api-version=2023-07-01"),
        None,
    )
    .await;
    let deleted =
        format!("{s}/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/{vault_name}");
    get(env, &format!("{deleted}?api-version=2023-07-01")).await;
    env.arm(
        Method::POST,
        &format!("{deleted}/purge?api-version=2023-07-01"),
        None,
    )
    .await;
    let plain = format!("{rg}/providers/Microsoft.KeyVault/vaults/kv-conf-0003");
    let mut plain_body = vault_body.clone();
    plain_body["properties"]
        .as_object_mut()
        .map(|p| p.remove("enablePurgeProtection"));
    put(env, &format!("{plain}?api-version=2023-07-01"), plain_body).await;
    env.arm(
        Method::DELETE,
        &format!("{plain}?api-version=2023-07-01"),
        None,
    )
    .await;
    env.arm(Method::POST, &format!("{s}/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/kv-conf-0003/purge?api-version=2023-07-01"), None).await;
    env.arm(
        Method::DELETE,
        &format!("{uami}?api-version=2023-01-31"),
        None,
    )
    .await;
}

/// One oav finding on one traffic file.
#[derive(Debug)]
struct Finding {
    file: String,
    operation: String,
    status: u16,
    code: String,
    message: String,
    /// `request` or `response`: which side of the exchange broke the spec.
    source: String,
}

/// oav prints one JSON object per failing file on stdout; collect them.
fn findings(stdout: &str) -> (Vec<Finding>, BTreeSet<String>) {
    let mut found = Vec::new();
    let mut operations = BTreeSet::new();
    let mut rest = stdout;
    while let Some(start) = rest.find("{\"specFilePath\"") {
        let mut stream = serde_json::Deserializer::from_str(&rest[start..]).into_iter::<Value>();
        let Some(Ok(value)) = stream.next() else {
            panic!(
                "could not parse oav output near: {}",
                &rest[start..(start + 200).min(rest.len())]
            );
        };
        rest = &rest[start + stream.byte_offset()..];
        let file = value["payloadFilePath"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let operation = value["operationInfo"]["operationId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        operations.insert(operation.clone());
        let exchange: Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap_or_default())
                .unwrap_or_default();
        let status = exchange["liveResponse"]["statusCode"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let runtime = value["runtimeExceptions"]
            .as_array()
            .map(|a| !a.is_empty())
            .unwrap_or(false);
        assert!(!runtime, "oav hit a runtime exception on {file}: {value}");
        for error in value["errors"].as_array().into_iter().flatten() {
            found.push(Finding {
                file: file.clone(),
                operation: operation.clone(),
                status,
                code: error["code"].as_str().unwrap_or_default().to_string(),
                message: error["message"].as_str().unwrap_or_default().to_string(),
                source: error["issueSource"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            });
        }
    }
    (found, operations)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emulator_traffic_conforms_to_microsofts_specs() {
    let Some(specs) = specs_or_skip() else {
        return;
    };
    let oav = oav();
    let work = tempfile::tempdir().unwrap();
    let traffic = work.path().join("traffic");
    let env = Env::start_with_options(Options {
        settings: fast_settings(),
        traffic_dir: Some(traffic.clone()),
        ..Options::default()
    })
    .await;
    exercise_every_operation(&env).await;
    exercise_management_groups(&env).await;

    // Storage's async-operation polls are not in the specs (oav would call them undefined).
    for entry in std::fs::read_dir(&traffic).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        if text.contains("/asyncoperations/") && text.contains("\"method\": \"GET\"") {
            std::fs::remove_file(&path).unwrap();
        }
    }

    let report = work.path().join("report.json");
    let output = Command::new(&oav)
        .arg("validate-traffic")
        .arg(&traffic)
        .arg(specs.join("specification"))
        .args(["--report", ""])
        .arg("--jsonReport")
        .arg(&report)
        .args(["-l", "error", "-f"])
        .arg(work.path().join("oav.log"))
        .output()
        .expect("running oav");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        !stdout.contains("Undefined operation"),
        "oav could not match some exchanges to the specs:\n{stdout}"
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("oav wrote its report"))
            .unwrap();
    assert!(
        report["coveredOperations"].as_u64().unwrap_or(0) > 0,
        "oav validated nothing: {report}\n{stdout}"
    );

    let (found, failed_operations) = findings(&stdout);
    let mut covered: BTreeSet<String> = failed_operations;
    for spec in report["passedOperationsList"]
        .as_array()
        .into_iter()
        .flatten()
    {
        for op in spec["operationIds"].as_array().into_iter().flatten() {
            covered.insert(op.as_str().unwrap_or_default().to_string());
        }
    }
    let missing: Vec<&&str> = EXPECTED
        .iter()
        .filter(|op| !covered.contains(**op))
        .collect();
    assert!(
        missing.is_empty(),
        "operations never validated by oav: {missing:?}"
    );

    let unexplained: Vec<&Finding> = found.iter().filter(|f| suppression(f).is_none()).collect();
    assert!(
        unexplained.is_empty(),
        "oav found violations that are not on the suppression list:\n{}",
        unexplained
            .iter()
            .map(|f| format!(
                "  {} {} ({}): {} — {}",
                f.operation, f.status, f.code, f.message, f.file
            ))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Without the specs the test skips loudly and passes; with
/// `ACTLOG_CMK_REQUIRE_SPECS=1` the same run fails and says why.
#[test]
fn missing_specs_skip_loudly_unless_required() {
    let nowhere = tempfile::tempdir().unwrap();
    let nowhere = nowhere.path().to_str().unwrap();
    let name = format!("{}::{TEST}", child::in_binary(module_path!()));
    let specs = ("ACTLOG_CMK_AZURE_SPECS", Some(nowhere));

    let skipped = child::run_test(&name, &[specs, (REQUIRE_SPECS, None)]);
    assert!(skipped.passed, "{}", skipped.text);
    let loud: Vec<&str> = skipped
        .text
        .lines()
        .filter(|l| l.starts_with("SKIPPED "))
        .collect();
    assert_eq!(loud.len(), 1, "{}", skipped.text);
    assert!(
        loud[0].contains(nowhere) && loud[0].contains(REQUIRE_SPECS),
        "{}",
        loud[0]
    );

    let required = child::run_test(&name, &[specs, (REQUIRE_SPECS, Some("1"))]);
    assert!(!required.passed, "{}", required.text);
    assert!(
        required.text.contains("may not skip") && required.text.contains(nowhere),
        "{}",
        required.text
    );
    assert!(!required.text.contains("SKIPPED "), "{}", required.text);
}
