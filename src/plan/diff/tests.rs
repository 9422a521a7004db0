//! Table tests of the pure diff: each state an account can be in, and
//! the changes (and their attributes) planned for it. No emulator.

use super::*;
use crate::azure::id::ResourceId;
use crate::azure::keyvault::{KeyVault, VaultKey};
use crate::azure::msi::Identity;
use crate::azure::storage::{StorageAccount, UserAssignedIdentity};
use serde_json::json;
use std::collections::BTreeMap;

const SUB: &str = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers";
const NOW: i64 = 1_800_000_000;

pub(super) fn account_id() -> StorageAccountId {
    StorageAccountId::parse(&format!("{SUB}/Microsoft.Storage/storageAccounts/st1"))
        .expect("an account id")
}

pub(super) fn identity_id() -> String {
    format!("{SUB}/Microsoft.ManagedIdentity/userAssignedIdentities/id-st1")
}

pub(super) fn vault_id() -> String {
    format!("{SUB}/Microsoft.KeyVault/vaults/kv-st1")
}

pub(super) fn settings(model: PermissionModel) -> PlanSettings {
    PlanSettings {
        key_name: "cmk".into(),
        key_size: 3072,
        key_expiry_days: Some(365),
        key_rotation_days: None,
        permission_model: model,
        identity: None,
        key_vault: None,
        identity_name_template: "id-{account}".into(),
        vault_name_template: "kv-{account}".into(),
        tags: BTreeMap::new(),
    }
}

pub(super) fn account() -> StorageAccount {
    StorageAccount {
        id: account_id(),
        location: "westeurope".into(),
        key_source: "Microsoft.Storage".into(),
        key_vault_uri: None,
        key_name: None,
        key_version: None,
        encryption_identity: None,
        identity_type: "SystemAssigned".into(),
        system_principal_id: Some("sys".into()),
        user_assigned: vec![],
        tags: BTreeMap::new(),
    }
}

fn vault(rbac: bool, purge_protection: bool) -> KeyVault {
    KeyVault {
        id: ResourceId::parse(&vault_id()).expect("a vault id"),
        tenant_id: "t".into(),
        vault_uri: Some("https://kv-st1.vault.azure.net/".into()),
        soft_delete: true,
        purge_protection,
        rbac_authorization: rbac,
        network_restricted: false,
        bypass_azure_services: true,
        access_policies: vec![],
        provisioned: true,
        location: "westeurope".into(),
        tags: BTreeMap::new(),
    }
}

fn key(enabled: bool) -> VaultKey {
    VaultKey {
        name: "cmk".into(),
        key_type: "RSA".into(),
        key_size: Some(3072),
        enabled,
        not_before: None,
        expires: None,
        tags: BTreeMap::new(),
    }
}

fn identity() -> Identity {
    Identity {
        id: ResourceId::parse(&identity_id()).expect("an identity id"),
        location: "westeurope".into(),
        principal_id: Some("p1".into()),
        client_id: None,
        tenant_id: None,
        tags: BTreeMap::new(),
    }
}

pub(super) fn inputs(purpose: Purpose, seen: Observation) -> AccountInputs {
    AccountInputs {
        account_id: account_id(),
        purpose,
        targets: Targets {
            identity_id: identity_id(),
            vault_id: vault_id(),
            key_name: "cmk".into(),
        },
        seen,
        tenant_id: "t".into(),
        vault_uri: "https://kv-st1.vault.azure.net/".into(),
        gone_identities: vec![],
        now: NOW,
    }
}

pub(super) fn nothing_yet() -> Observation {
    Observation {
        account: account(),
        identity: None,
        vault: None,
        key: None,
        grant_exists: false,
    }
}

pub(super) fn with_everything_but_the_grant() -> Observation {
    Observation {
        identity: Some(identity()),
        vault: Some(vault(true, true)),
        key: Some(key(true)),
        ..nothing_yet()
    }
}

fn addresses(changes: &[ResourceChange]) -> Vec<(Action, &str)> {
    changes
        .iter()
        .map(|c| (c.action, c.address.as_str()))
        .collect()
}

fn attribute<'a>(change: &'a ResourceChange, name: &str) -> &'a AttributeChange {
    change
        .attributes
        .iter()
        .find(|a| a.name == name)
        .unwrap_or_else(|| panic!("no {name} in {change:?}"))
}

/// A table row: what is there, and the changes expected.
type Case = (
    &'static str,
    Purpose,
    PermissionModel,
    Observation,
    Vec<(Action, &'static str)>,
);

#[test]
fn each_state_of_an_account_plans_the_changes_it_lacks() {
    use Action::{Create, Update};
    let all_there = Observation {
        identity: Some(identity()),
        vault: Some(vault(true, true)),
        key: Some(key(true)),
        ..nothing_yet()
    };
    let cases: Vec<Case> = vec![
        (
            "nothing exists (RBAC)",
            Purpose::Remediation,
            PermissionModel::Rbac,
            nothing_yet(),
            vec![
                (Create, "identity"),
                (Create, "key_vault"),
                (Create, "key"),
                (Create, "role_assignment"),
                (Update, "storage_account"),
            ],
        ),
        (
            "nothing exists (access policies)",
            Purpose::Remediation,
            PermissionModel::AccessPolicy,
            nothing_yet(),
            vec![
                (Create, "identity"),
                (Create, "key_vault"),
                (Create, "key"),
                (Create, "access_policy"),
                (Update, "storage_account"),
            ],
        ),
        (
            "an earlier run made identity, vault and key; the vault's model wins",
            Purpose::Remediation,
            PermissionModel::AccessPolicy,
            all_there.clone(),
            vec![(Create, "role_assignment"), (Update, "storage_account")],
        ),
        (
            "everything but the switch",
            Purpose::Remediation,
            PermissionModel::Rbac,
            Observation {
                grant_exists: true,
                ..all_there.clone()
            },
            vec![(Update, "storage_account")],
        ),
        (
            "a repair of a vault without purge protection and a missing grant",
            Purpose::Repair,
            PermissionModel::Rbac,
            Observation {
                vault: Some(vault(false, false)),
                ..all_there.clone()
            },
            vec![(Update, "key_vault"), (Create, "access_policy")],
        ),
        (
            "a repair whose principal does not exist yet grants nothing",
            Purpose::Repair,
            PermissionModel::Rbac,
            Observation {
                identity: None,
                vault: Some(vault(true, false)),
                ..all_there
            },
            vec![(Update, "key_vault")],
        ),
    ];
    for (case, purpose, model, seen, expected) in cases {
        let changes = changes(&inputs(purpose, seen), &settings(model)).expect(case);
        assert_eq!(addresses(&changes), expected, "{case}");
    }
}

#[test]
fn an_existing_key_that_does_not_work_is_refused_not_changed() {
    let seen = Observation {
        vault: Some(vault(true, true)),
        key: Some(key(false)),
        ..nothing_yet()
    };
    let refusal = changes(
        &inputs(Purpose::Remediation, seen),
        &settings(PermissionModel::Rbac),
    )
    .expect_err("a disabled key");
    assert!(refusal.0.contains("disabled"), "{refusal}");
    assert!(refusal.0.contains("--key-name"), "{refusal}");
}

#[test]
fn the_diff_shows_what_each_request_sends() {
    let changes = changes(
        &inputs(Purpose::Remediation, nothing_yet()),
        &settings(PermissionModel::Rbac),
    )
    .expect("a plan");
    let vault = &changes[1];
    let sent = vault
        .desired
        .request(crate::plan::requests::Resolved::at_plan());
    assert_eq!(
        attribute(vault, "soft_delete_retention_in_days").after,
        sent.field("/properties/softDeleteRetentionInDays")
            .cloned()
            .expect("a retention")
    );
    assert_eq!(
        attribute(vault, "enable_rbac_authorization").after,
        json!(true)
    );
    let key = &changes[2];
    assert_eq!(attribute(key, "key_size").after, json!(3072));
    assert_eq!(attribute(key, "expires_in_days").after, json!(365));
    assert!(key.attributes.iter().all(|a| a.name != "rotate_after_days"));
    let grant = &changes[3];
    assert_eq!(
        attribute(grant, "principal_id").after,
        json!(KNOWN_AFTER_APPLY)
    );
    assert_eq!(
        attribute(grant, "role").after,
        json!("Key Vault Crypto Service Encryption User")
    );
    let storage = &changes[4];
    let identities = attribute(storage, "identity.user_assigned_identities");
    assert_eq!(identities.before, Some(json!([])));
    assert_eq!(identities.after, json!([identity_id()]));
    assert_eq!(
        attribute(storage, "identity.type").after,
        json!("SystemAssigned,UserAssigned")
    );
    assert_eq!(
        attribute(storage, "encryption.key_source").before,
        Some(json!("Microsoft.Storage"))
    );
    // Unchanged values are not shown.
    assert!(storage
        .attributes
        .iter()
        .all(|a| a.name != "encryption.key_version"));
}

#[test]
fn an_identity_deleted_while_attached_is_dropped_and_every_other_kept() {
    let theirs = format!("{SUB}/Microsoft.ManagedIdentity/userAssignedIdentities/theirs");
    let gone = format!("{SUB}/Microsoft.ManagedIdentity/userAssignedIdentities/gone");
    let mut seen = nothing_yet();
    seen.account.identity_type = "UserAssigned".into();
    seen.account.user_assigned = [&theirs, &gone]
        .into_iter()
        .map(|id| UserAssignedIdentity {
            id: id.clone(),
            principal_id: None,
        })
        .collect();
    let mut inputs = inputs(Purpose::Remediation, seen);
    inputs.gone_identities = vec![gone.clone()];
    let changes = changes(&inputs, &settings(PermissionModel::Rbac)).expect("a plan");
    let storage = changes.last().expect("a storage change");
    let Desired::StorageEncryption(StorageSwitch {
        user_assigned_identities,
        dropped_identities,
        identity_type,
        ..
    }) = &storage.desired
    else {
        panic!("a storage change: {storage:?}")
    };
    assert_eq!(user_assigned_identities, &vec![theirs, identity_id()]);
    assert_eq!(dropped_identities, &vec![gone.clone()]);
    assert_eq!(identity_type, "UserAssigned");
    let dropped = attribute(storage, "identity.dropped_identity");
    assert_eq!(dropped.before, Some(json!(gone)));
    assert_eq!(
        dropped.after,
        json!(crate::plan::attributes::DROPPED_IDENTITY)
    );
}

#[test]
fn adding_a_user_assigned_identity_keeps_the_system_assigned_one() {
    assert_eq!(with_user_assigned("None"), "UserAssigned");
    assert_eq!(with_user_assigned(""), "UserAssigned");
    assert_eq!(
        with_user_assigned("SystemAssigned"),
        "SystemAssigned,UserAssigned"
    );
    assert_eq!(with_user_assigned("UserAssigned"), "UserAssigned");
    assert_eq!(
        with_user_assigned("SystemAssigned,UserAssigned"),
        "SystemAssigned,UserAssigned"
    );
}
