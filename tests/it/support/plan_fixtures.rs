//! Plans built by hand for the plan views' tests (`tests/it/render/`). [`two_accounts`] is
//! also the plan behind the golden files (tests/golden/plan.txt and plan.md,
//! checked in `render/plan_golden.rs`): change it and the golden files change too.

use actlog_cmk::plan::{
    AccessPolicyGrant, Address, IdentityCreate, KeyCreate, PurgeProtection, RoleAssignmentGrant,
    StorageSwitch, VaultCreate,
};
use actlog_cmk::plan::{
    AccountPlan, Action, AttributeChange, Desired, Observed, ObservedAccount, ObservedVault,
    PermissionModel, Plan, PlanSettings, PlanStatus, PlanSummary, Principal, ResourceChange,
    Skipped, Targets, KNOWN_AFTER_APPLY, SCHEMA_VERSION,
};
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub use crate::support::{SUB1, SUB2};
pub const TENANT: &str = "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa";
/// Key Vault Crypto Service Encryption User.
const CRYPTO_USER_ROLE: &str = "e147488a-f6f5-4113-8e2d-b22465e65bf6";

pub fn account_id(sub: &str, group: &str, name: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.Storage/storageAccounts/{name}")
}

pub fn identity_id(sub: &str, group: &str, name: &str) -> String {
    format!("/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}")
}

pub fn vault_id(sub: &str, group: &str, name: &str) -> String {
    format!(
        "/subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.KeyVault/vaults/{name}"
    )
}

fn tags() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("managed-by".to_string(), "actlog-cmk".to_string()),
        ("owner".to_string(), "platform-team".to_string()),
    ])
}

/// An attribute of a created resource.
fn set(name: &str, after: Value) -> AttributeChange {
    AttributeChange {
        name: name.to_string(),
        before: None,
        after,
    }
}

/// An attribute of an updated resource.
fn change(name: &str, before: Value, after: Value) -> AttributeChange {
    AttributeChange {
        name: name.to_string(),
        before: Some(before),
        after,
    }
}

fn resource(
    action: Action,
    address: Address,
    id: &str,
    attributes: Vec<AttributeChange>,
    desired: Desired,
) -> ResourceChange {
    ResourceChange {
        action,
        address,
        id: id.to_string(),
        attributes,
        irreversible: None,
        desired,
    }
}

fn create_identity(sub: &str, group: &str, name: &str, location: &str) -> ResourceChange {
    let id = identity_id(sub, group, name);
    resource(
        Action::Create,
        Address::Identity,
        &id,
        vec![
            set("name", json!(name)),
            set("location", json!(location)),
            set("principal_id", json!(KNOWN_AFTER_APPLY)),
            set("tags", json!(tags())),
        ],
        Desired::Identity(IdentityCreate {
            id: id.clone(),
            location: location.to_string(),
            tags: tags(),
        }),
    )
}

fn create_key(vault: &str) -> ResourceChange {
    resource(
        Action::Create,
        Address::Key,
        &format!("{vault}/keys/cmk-actlog"),
        vec![
            set("name", json!("cmk-actlog")),
            set("key_type", json!("RSA")),
            set("key_size", json!(3072)),
            set("expiry_days", json!(730)),
            set("rotation_days", json!(365)),
            set("version", json!(KNOWN_AFTER_APPLY)),
        ],
        Desired::Key(KeyCreate {
            vault_id: vault.to_string(),
            name: "cmk-actlog".to_string(),
            key_size: 3072,
            expiry_days: Some(730),
            rotation_days: Some(365),
            tags: tags(),
        }),
    )
}

/// Microsoft-managed keys, a system-assigned identity to keep: a new
/// identity, vault (access policies), key and policy, then the account.
fn new_vault_account() -> AccountPlan {
    let account = account_id(SUB1, "rg-logs", "logs1");
    let identity = identity_id(SUB1, "rg-logs", "id-actlog-logs1");
    let vault = vault_id(SUB1, "rg-logs", "kv-actlog-logs1");
    let uri = "https://kv-actlog-logs1.vault.azure.net/";
    let observed = Observed {
        account: ObservedAccount {
            location: "westeurope".to_string(),
            key_source: "Microsoft.Storage".to_string(),
            identity_type: "SystemAssigned".to_string(),
            system_principal_id: Some("99999999-0000-0000-0000-000000000001".to_string()),
            ..ObservedAccount::default()
        },
        ..Observed::default()
    };
    AccountPlan {
        storage_account_id: account.clone(),
        status: PlanStatus::NonCompliant,
        fingerprint: observed.fingerprint(),
        targets: Targets {
            identity_id: identity.clone(),
            vault_id: vault.clone(),
            key_name: "cmk-actlog".to_string(),
        },
        observed,
        changes: vec![
            create_identity(SUB1, "rg-logs", "id-actlog-logs1", "westeurope"),
            resource(
                Action::Create,
                Address::KeyVault,
                &vault,
                vec![
                    set("name", json!("kv-actlog-logs1")),
                    set("location", json!("westeurope")),
                    set("vault_uri", json!(uri)),
                    set("enable_rbac_authorization", json!(false)),
                    set("enable_soft_delete", json!(true)),
                    set("enable_purge_protection", json!(true)),
                    set("tags", json!(tags())),
                ],
                Desired::KeyVault(VaultCreate {
                    id: vault.clone(),
                    location: "westeurope".to_string(),
                    tenant_id: TENANT.to_string(),
                    rbac_authorization: false,
                    tags: tags(),
                }),
            ),
            create_key(&vault),
            resource(
                Action::Create,
                Address::AccessPolicy,
                &format!("{vault}/accessPolicies/id-actlog-logs1"),
                vec![
                    set("tenant_id", json!(TENANT)),
                    set("object_id", json!(KNOWN_AFTER_APPLY)),
                    set("key_permissions", json!(["get", "unwrapKey", "wrapKey"])),
                ],
                Desired::AccessPolicy(AccessPolicyGrant {
                    vault_id: vault.clone(),
                    tenant_id: TENANT.to_string(),
                    principal: Principal::OfIdentity {
                        identity_id: identity.clone(),
                    },
                }),
            ),
            resource(
                Action::Update,
                Address::StorageAccount,
                &account,
                vec![
                    change(
                        "identity_type",
                        json!("SystemAssigned"),
                        json!("SystemAssigned,UserAssigned"),
                    ),
                    change(
                        "user_assigned_identities",
                        json!([]),
                        json!([identity.to_lowercase()]),
                    ),
                    change(
                        "key_source",
                        json!("Microsoft.Storage"),
                        json!("Microsoft.Keyvault"),
                    ),
                    change("key_vault_uri", Value::Null, json!(uri)),
                    change("key_name", Value::Null, json!("cmk-actlog")),
                    change("encryption_identity", Value::Null, json!(identity)),
                ],
                Desired::StorageEncryption(StorageSwitch {
                    account_id: account.clone(),
                    identity_type: "SystemAssigned,UserAssigned".to_string(),
                    user_assigned_identities: vec![identity.to_lowercase()],
                    dropped_identities: vec![],
                    identity_id: identity.clone(),
                    key_vault_uri: uri.to_string(),
                    key_name: "cmk-actlog".to_string(),
                }),
            ),
        ],
    }
}

/// A broken customer-managed key in an existing RBAC vault without purge
/// protection: a new identity, purge protection (irreversible), a new key,
/// a role assignment for an identity that does not exist yet, the account.
fn reused_vault_account() -> AccountPlan {
    let account = account_id(SUB2, "rg-audit", "logs2");
    let identity = identity_id(SUB2, "rg-audit", "id-actlog-logs2");
    let vault = vault_id(SUB2, "rg-security", "kv-shared");
    let uri = "https://kv-shared.vault.azure.net/";
    let observed = Observed {
        account: ObservedAccount {
            location: "northeurope".to_string(),
            key_source: "Microsoft.Keyvault".to_string(),
            key_vault_uri: Some(uri.to_string()),
            key_name: Some("cmk-old".to_string()),
            key_version: Some("0123456789abcdef0123456789abcdef".to_string()),
            identity_type: "None".to_string(),
            ..ObservedAccount::default()
        },
        vault: Some(ObservedVault {
            id: vault.clone(),
            vault_uri: uri.to_string(),
            rbac_authorization: true,
            soft_delete: true,
            purge_protection: false,
        }),
        ..Observed::default()
    };
    let role_definition =
        format!("/subscriptions/{SUB2}/providers/Microsoft.Authorization/roleDefinitions/{CRYPTO_USER_ROLE}");
    let assignment = format!(
        "{vault}/providers/Microsoft.Authorization/roleAssignments/6f1c3b2a-8d4e-4f60-9a7b-0c1d2e3f4a5b"
    );
    let mut purge_protection = resource(
        Action::Update,
        Address::KeyVault,
        &vault,
        vec![change("enable_purge_protection", json!(false), json!(true))],
        Desired::EnablePurgeProtection(PurgeProtection { id: vault.clone() }),
    );
    purge_protection.irreversible = Some(
        "purge protection cannot be turned off again; deleted keys stay until their retention period ends"
            .to_string(),
    );
    AccountPlan {
        storage_account_id: account.clone(),
        status: PlanStatus::CmkBroken,
        fingerprint: observed.fingerprint(),
        targets: Targets {
            identity_id: identity.clone(),
            vault_id: vault.clone(),
            key_name: "cmk-actlog".to_string(),
        },
        observed,
        changes: vec![
            create_identity(SUB2, "rg-audit", "id-actlog-logs2", "northeurope"),
            purge_protection,
            create_key(&vault),
            resource(
                Action::Create,
                Address::RoleAssignment,
                &assignment,
                vec![
                    set("scope", json!(vault)),
                    set("role_definition_id", json!(role_definition)),
                    set("principal_id", json!(KNOWN_AFTER_APPLY)),
                    set("principal_type", json!("ServicePrincipal")),
                    set(
                        "description",
                        json!(format!(
                            "created by actlog-cmk for {}",
                            account.to_lowercase()
                        )),
                    ),
                ],
                Desired::RoleAssignment(RoleAssignmentGrant {
                    id: assignment.clone(),
                    scope: vault.clone(),
                    role_definition_id: role_definition.clone(),
                    principal: Principal::OfIdentity {
                        identity_id: identity.clone(),
                    },
                    description: format!("created by actlog-cmk for {}", account.to_lowercase()),
                }),
            ),
            resource(
                Action::Update,
                Address::StorageAccount,
                &account,
                vec![
                    change("identity_type", json!("None"), json!("UserAssigned")),
                    change(
                        "user_assigned_identities",
                        json!([]),
                        json!([identity.to_lowercase()]),
                    ),
                    change("key_name", json!("cmk-old"), json!("cmk-actlog")),
                    change(
                        "key_version",
                        json!("0123456789abcdef0123456789abcdef"),
                        Value::Null,
                    ),
                    change("encryption_identity", Value::Null, json!(identity)),
                ],
                Desired::StorageEncryption(StorageSwitch {
                    account_id: account.clone(),
                    identity_type: "UserAssigned".to_string(),
                    user_assigned_identities: vec![identity.to_lowercase()],
                    dropped_identities: vec![],
                    identity_id: identity.clone(),
                    key_vault_uri: uri.to_string(),
                    key_name: "cmk-actlog".to_string(),
                }),
            ),
        ],
    }
}

fn compliant_skip() -> Skipped {
    Skipped {
        storage_account_id: account_id(SUB1, "rg-logs", "good"),
        status: PlanStatus::Compliant,
        reason: "already encrypted with key 'cmk-logs' in https://kv-logs.vault.azure.net/"
            .to_string(),
    }
}

fn unreadable_skip() -> Skipped {
    Skipped {
        storage_account_id: account_id(SUB2, "rg-audit", "secret"),
        status: PlanStatus::Unreadable,
        reason: "reading the account was denied (403): grant Reader on it".to_string(),
    }
}

pub fn plan(accounts: Vec<AccountPlan>, skipped: Vec<Skipped>) -> Plan {
    Plan {
        schema_version: SCHEMA_VERSION,
        // Fixed, not the crate's version: the golden files outlive releases.
        tool_version: "0.1.0".to_string(),
        created_at: "2024-05-01T10:20:30Z".parse().expect("a fixed time"),
        tenant_id: TENANT.to_string(),
        arm_endpoint: "https://management.azure.com".to_string(),
        shard: None,
        tenants: Default::default(),
        settings: PlanSettings {
            key_name: "cmk-actlog".to_string(),
            key_size: 3072,
            key_expiry_days: Some(730),
            key_rotation_days: Some(365),
            permission_model: PermissionModel::AccessPolicy,
            identity: None,
            key_vault: None,
            identity_name_template: "id-actlog-{account}".to_string(),
            vault_name_template: "kv-actlog-{account}".to_string(),
            tags: BTreeMap::from([("owner".to_string(), "platform-team".to_string())]),
        },
        summary: PlanSummary::of(&accounts, &skipped),
        accounts,
        skipped,
        unread: vec![],
    }
}

/// Two accounts in two subscriptions (a new vault; a reused RBAC vault with
/// an irreversible change), one compliant and one unreadable destination.
pub fn two_accounts() -> Plan {
    plan(
        vec![new_vault_account(), reused_vault_account()],
        vec![compliant_skip(), unreadable_skip()],
    )
}

/// Nothing to do: the only destination is compliant.
pub fn all_compliant() -> Plan {
    plan(vec![], vec![compliant_skip()])
}

/// Nothing can be done: one compliant, one unreadable destination.
pub fn nothing_plannable() -> Plan {
    plan(vec![], vec![compliant_skip(), unreadable_skip()])
}
