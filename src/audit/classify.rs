//! From what was read to a status with reasons. Pure: every rule here is a
//! unit test away from proof. The CMK rules are the ones Azure Storage itself
//! applies when it uses the key (AZURE_NOTES §1, §3).

mod rbac;

use super::report::{Reason, ReasonCode, Status};
use crate::azure::keyvault::{KeyVault, VaultKey};
use crate::azure::msi::Identity;
use crate::azure::storage::StorageAccount;
pub use rbac::{
    applies_to_key, key_access, rbac_grants, AssignedRole, KeyAccess, ROLE_DEFINITIONS_READ,
};

/// The outcome of one read the classification depends on.
#[derive(Debug, Clone)]
pub enum Lookup<T> {
    Found(T),
    NotFound,
    /// 403, with the message naming the missing permission.
    Denied(String),
    /// Any other failure, explained.
    Failed(String),
    /// Not read, because an earlier read made it moot.
    NotChecked,
}

impl<T> Lookup<T> {
    pub fn found(&self) -> Option<&T> {
        match self {
            Lookup::Found(t) => Some(t),
            _ => None,
        }
    }

    /// The reason to report when the read itself failed.
    fn failure(&self) -> Option<Reason> {
        match self {
            Lookup::Denied(m) => Some(reason(ReasonCode::AccessDenied, m.clone())),
            Lookup::Failed(m) => Some(reason(ReasonCode::ReadFailed, m.clone())),
            _ => None,
        }
    }
}

/// Everything read about an account on Key Vault encryption.
#[derive(Debug, Clone)]
pub struct CmkObservation {
    pub vault: Lookup<KeyVault>,
    pub key: Lookup<VaultKey>,
    /// The user-assigned encryption identity, read on its own (it may have
    /// been deleted while the account still lists it).
    pub identity: Lookup<Identity>,
    /// The principal's role assignments at the vault, each with its role's
    /// definition (RBAC vaults only).
    pub role_assignments: Lookup<Vec<AssignedRole>>,
}

pub fn reason(code: ReasonCode, message: impl Into<String>) -> Reason {
    Reason {
        code,
        message: message.into(),
    }
}

/// Key permissions storage needs: get, wrapKey, unwrapKey.
const KEY_PERMISSIONS: [&str; 3] = ["get", "wrapKey", "unwrapKey"];

/// The principal the account encrypts with: the user-assigned identity named
/// in `encryption.identity`, or else the system-assigned one.
pub fn encryption_principal(
    account: &StorageAccount,
    identity: &Lookup<Identity>,
) -> Result<String, Reason> {
    match &account.encryption_identity {
        Some(wanted) => {
            let assigned = account
                .user_assigned
                .iter()
                .find(|u| u.id.eq_ignore_ascii_case(wanted));
            let Some(assigned) = assigned else {
                return Err(reason(
                    ReasonCode::IdentityMissing,
                    format!("the encryption identity {wanted} is not assigned to the account: assign it again (identity.userAssignedIdentities)"),
                ));
            };
            match identity {
                Lookup::NotFound => Err(reason(
                    ReasonCode::IdentityMissing,
                    format!("the encryption identity {wanted} no longer exists: create an identity, grant it the key and point encryption.identity at it"),
                )),
                Lookup::Found(found) => found
                    .principal_id
                    .clone()
                    .or_else(|| assigned.principal_id.clone())
                    .ok_or_else(|| {
                        reason(
                            ReasonCode::IdentityMissing,
                            format!("the encryption identity {wanted} has no principal id"),
                        )
                    }),
                other => other.failure().map_or_else(
                    || {
                        assigned.principal_id.clone().ok_or_else(|| {
                            reason(
                                ReasonCode::IdentityMissing,
                                format!("the encryption identity {wanted} has no principal id"),
                            )
                        })
                    },
                    Err,
                ),
            }
        }
        None => {
            let system = account
                .identity_type
                .to_ascii_lowercase()
                .contains("systemassigned");
            match (&account.system_principal_id, system) {
                (Some(principal), true) => Ok(principal.clone()),
                _ => Err(reason(
                    ReasonCode::IdentityMissing,
                    format!(
                        "the account has no identity to reach its key (identity type '{}', no encryption.identity): Azure cannot use the key; assign a user-assigned identity with key access and set encryption.identity",
                        account.identity_type
                    ),
                )),
            }
        }
    }
}

pub fn policy_gap(vault: &KeyVault, principal: &str) -> Option<Vec<&'static str>> {
    let granted: Vec<String> = vault
        .access_policies
        .iter()
        .filter(|p| p.object_id.eq_ignore_ascii_case(principal))
        .flat_map(|p| p.key_permissions.iter().map(|k| k.to_ascii_lowercase()))
        .collect();
    let missing: Vec<&str> = KEY_PERMISSIONS
        .into_iter()
        .filter(|p| {
            !granted
                .iter()
                .any(|g| g == "all" || g == &p.to_ascii_lowercase())
        })
        .collect();
    (!missing.is_empty()).then_some(missing)
}

/// The reasons a Key Vault setup cannot work; empty when it is healthy.
pub fn cmk_reasons(
    account: &StorageAccount,
    observed: &CmkObservation,
    now_unix: i64,
) -> Vec<Reason> {
    let mut reasons = Vec::new();
    let (Some(uri), Some(key_name)) = (&account.key_vault_uri, &account.key_name) else {
        reasons.push(reason(
            ReasonCode::KeyVaultPropertiesMissing,
            "keySource is Microsoft.Keyvault but keyvaulturi or keyname is not set: set encryption.keyvaultproperties",
        ));
        return reasons;
    };
    let principal = encryption_principal(account, &observed.identity);
    if let Err(r) = &principal {
        reasons.push(r.clone());
    }
    let vault = match &observed.vault {
        Lookup::Found(vault) => vault,
        Lookup::NotFound => {
            reasons.push(reason(
                ReasonCode::VaultNotFound,
                format!("no key vault for {uri} exists in any subscription this credential can see: the vault was deleted, or grant Microsoft.KeyVault/vaults/read on it"),
            ));
            return reasons;
        }
        other => {
            reasons.extend(other.failure());
            return reasons;
        }
    };
    let vault_id = vault.id.as_str();
    if !vault.soft_delete {
        reasons.push(reason(
            ReasonCode::VaultSoftDeleteDisabled,
            format!("key vault {vault_id} has soft delete off: Azure Storage refuses a vault that is not recoverable"),
        ));
    }
    if !vault.purge_protection {
        reasons.push(reason(
            ReasonCode::VaultPurgeProtectionDisabled,
            format!("key vault {vault_id} has purge protection off: turn it on (it cannot be turned off again)"),
        ));
    }
    if vault.firewall_blocks_trusted_services() {
        reasons.push(reason(
            ReasonCode::VaultFirewallBlocksTrustedServices,
            format!("the firewall of key vault {vault_id} shuts out trusted Microsoft services: set networkAcls.bypass to AzureServices"),
        ));
    }
    match &observed.key {
        Lookup::Found(key) => reasons.extend(key_reasons(key, vault_id, now_unix)),
        Lookup::NotFound => reasons.push(reason(
            ReasonCode::KeyNotFound,
            format!(
                "key '{key_name}'{} does not exist in key vault {vault_id}",
                account
                    .key_version
                    .as_ref()
                    .map(|v| format!(" (version {v})"))
                    .unwrap_or_default()
            ),
        )),
        other => reasons.extend(other.failure()),
    }
    if let Ok(principal) = &principal {
        if vault.rbac_authorization {
            match &observed.role_assignments {
                Lookup::Found(roles) => match key_access(vault, key_name, principal, roles) {
                    KeyAccess::Granted => {}
                    KeyAccess::Lacks { granted } => {
                        reasons.push(rbac::lacks_reason(principal, key_name, vault_id, &granted))
                    }
                    KeyAccess::Unknown(unreadable) => reasons.extend(unreadable),
                },
                other => reasons.extend(other.failure()),
            }
        } else if let Some(missing) = policy_gap(vault, principal) {
            reasons.push(reason(
                ReasonCode::IdentityLacksKeyAccess,
                format!(
                    "principal {principal} lacks key permissions {} in the access policies of key vault {vault_id}: add an access policy with get, wrapKey and unwrapKey",
                    missing.join(", ")
                ),
            ));
        }
    }
    reasons
}

pub fn key_reasons(key: &VaultKey, vault_id: &str, now: i64) -> Vec<Reason> {
    let mut reasons = Vec::new();
    let name = &key.name;
    if !key.enabled {
        reasons.push(reason(
            ReasonCode::KeyDisabled,
            format!("key '{name}' in key vault {vault_id} is disabled: enable it (data stays unreadable until then)"),
        ));
    }
    if key.expires.is_some_and(|exp| exp <= now) {
        reasons.push(reason(
            ReasonCode::KeyExpired,
            format!(
                "key '{name}' in key vault {vault_id} has expired: rotate it or extend its expiry"
            ),
        ));
    }
    if key.not_before.is_some_and(|nbf| nbf > now) {
        reasons.push(reason(
            ReasonCode::KeyNotYetValid,
            format!("key '{name}' in key vault {vault_id} is not valid yet (not-before is in the future)"),
        ));
    }
    let rsa =
        key.key_type.eq_ignore_ascii_case("RSA") || key.key_type.eq_ignore_ascii_case("RSA-HSM");
    if !rsa {
        reasons.push(reason(
            ReasonCode::KeyNotRsa,
            format!("key '{name}' in key vault {vault_id} is of type '{}': Azure Storage needs an RSA key", key.key_type),
        ));
    } else if key.key_size.unwrap_or(0) < 2048 {
        reasons.push(reason(
            ReasonCode::KeyTooSmall,
            format!(
                "key '{name}' in key vault {vault_id} has {} bits: Azure Storage needs RSA 2048 or larger",
                key.key_size.map_or("an unknown number of".to_string(), |s| s.to_string())
            ),
        ));
    }
    reasons
}

/// Definite breakage wins over gaps in what could be read.
pub fn cmk_status(reasons: &[Reason]) -> Status {
    let gap = |r: &&Reason| matches!(r.code, ReasonCode::AccessDenied | ReasonCode::ReadFailed);
    if reasons.is_empty() {
        Status::Compliant
    } else if reasons.iter().all(|r| gap(&r)) {
        Status::Unreadable
    } else {
        Status::CmkBroken
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure::authorization::{RoleAssignment, RoleDefinition};
    use crate::azure::id::{ResourceId, StorageAccountId};
    use crate::azure::keyvault::AccessPolicy;
    use crate::azure::role_actions::Permission;
    use crate::azure::storage::UserAssignedIdentity;

    const SUB: &str = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg";
    const PRINCIPAL: &str = "aaaaaaaa-0000-0000-0000-000000000001";
    const NOW: i64 = 1_800_000_000;

    fn uami() -> String {
        format!("{SUB}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-cmk")
    }

    fn account() -> StorageAccount {
        StorageAccount {
            id: StorageAccountId::parse(&format!(
                "{SUB}/providers/Microsoft.Storage/storageAccounts/stlogs"
            ))
            .unwrap(),
            location: "westeurope".into(),
            key_source: "Microsoft.Keyvault".into(),
            key_vault_uri: Some("https://kv1.vault.azure.net/".into()),
            key_name: Some("cmk".into()),
            key_version: None,
            encryption_identity: Some(uami()),
            identity_type: "UserAssigned".into(),
            system_principal_id: None,
            user_assigned: vec![UserAssignedIdentity {
                id: uami(),
                principal_id: Some(PRINCIPAL.into()),
            }],
            tags: Default::default(),
        }
    }

    fn vault(rbac: bool) -> KeyVault {
        KeyVault {
            id: ResourceId::parse(&format!("{SUB}/providers/Microsoft.KeyVault/vaults/kv1"))
                .unwrap(),
            tenant_id: "t".into(),
            vault_uri: Some("https://kv1.vault.azure.net/".into()),
            soft_delete: true,
            purge_protection: true,
            rbac_authorization: rbac,
            network_restricted: false,
            bypass_azure_services: true,
            access_policies: vec![AccessPolicy {
                tenant_id: "t".into(),
                object_id: PRINCIPAL.to_uppercase(),
                key_permissions: vec!["Get".into(), "WrapKey".into(), "unwrapKey".into()],
            }],
            provisioned: true,
            location: "westeurope".into(),
            tags: Default::default(),
        }
    }

    fn key() -> VaultKey {
        VaultKey {
            name: "cmk".into(),
            key_type: "RSA".into(),
            key_size: Some(3072),
            enabled: true,
            not_before: None,
            expires: Some(NOW + 3600),
            tags: Default::default(),
        }
    }

    fn identity() -> Identity {
        Identity {
            id: ResourceId::parse(&uami()).unwrap(),
            location: "westeurope".into(),
            principal_id: Some(PRINCIPAL.into()),
            client_id: None,
            tenant_id: None,
            tags: Default::default(),
        }
    }

    fn healthy() -> CmkObservation {
        CmkObservation {
            vault: Lookup::Found(vault(false)),
            key: Lookup::Found(key()),
            identity: Lookup::Found(identity()),
            role_assignments: Lookup::NotChecked,
        }
    }

    fn codes(account: &StorageAccount, observed: &CmkObservation) -> Vec<ReasonCode> {
        cmk_reasons(account, observed, NOW)
            .into_iter()
            .map(|r| r.code)
            .collect()
    }

    /// An assignment of a built-in role, with the definition Azure answers
    /// for it: the crypto role's three key data actions, Owner's `*` actions.
    fn assignment(scope: &str, role: &str) -> AssignedRole {
        let role_definition_id = format!(
            "/subscriptions/11111111-1111-1111-1111-111111111111/providers/Microsoft.Authorization/roleDefinitions/{role}"
        );
        let permission = if role == "e147488a-f6f5-4113-8e2d-b22465e65bf6" {
            Permission {
                data_actions: crate::azure::role_actions::KEY_DATA_ACTIONS
                    .map(String::from)
                    .to_vec(),
                ..Permission::default()
            }
        } else {
            Permission {
                actions: vec!["*".into()],
                ..Permission::default()
            }
        };
        AssignedRole {
            assignment: RoleAssignment {
                id: format!("{scope}/providers/Microsoft.Authorization/roleAssignments/x"),
                scope: scope.into(),
                role_definition_id: role_definition_id.clone(),
                principal_id: PRINCIPAL.into(),
                description: None,
            },
            definition: Lookup::Found(RoleDefinition {
                id: role_definition_id,
                role_name: role.into(),
                role_type: "BuiltInRole".into(),
                permissions: vec![permission],
            }),
        }
    }

    #[test]
    fn a_working_access_policy_setup_is_compliant() {
        let reasons = cmk_reasons(&account(), &healthy(), NOW);
        assert!(reasons.is_empty(), "{reasons:?}");
        assert_eq!(cmk_status(&reasons), Status::Compliant);
    }

    #[test]
    fn each_key_defect_is_named() {
        let mut o = healthy();
        o.key = Lookup::NotFound;
        assert_eq!(codes(&account(), &o), vec![ReasonCode::KeyNotFound]);
        let with = |f: &dyn Fn(&mut VaultKey)| {
            let mut k = key();
            f(&mut k);
            let mut o = healthy();
            o.key = Lookup::Found(k);
            codes(&account(), &o)
        };
        assert_eq!(with(&|k| k.enabled = false), vec![ReasonCode::KeyDisabled]);
        assert_eq!(
            with(&|k| k.expires = Some(NOW)),
            vec![ReasonCode::KeyExpired]
        );
        assert_eq!(
            with(&|k| k.not_before = Some(NOW + 1)),
            vec![ReasonCode::KeyNotYetValid]
        );
        assert_eq!(
            with(&|k| k.key_type = "EC".into()),
            vec![ReasonCode::KeyNotRsa]
        );
        assert_eq!(
            with(&|k| k.key_size = Some(1024)),
            vec![ReasonCode::KeyTooSmall]
        );
        assert!(with(&|k| k.key_type = "RSA-HSM".into()).is_empty());
        assert!(with(&|k| k.expires = None).is_empty());
    }

    #[test]
    fn each_vault_defect_is_named() {
        let with = |f: &dyn Fn(&mut KeyVault)| {
            let mut v = vault(false);
            f(&mut v);
            let mut o = healthy();
            o.vault = Lookup::Found(v);
            codes(&account(), &o)
        };
        assert_eq!(
            with(&|v| v.soft_delete = false),
            vec![ReasonCode::VaultSoftDeleteDisabled]
        );
        assert_eq!(
            with(&|v| v.purge_protection = false),
            vec![ReasonCode::VaultPurgeProtectionDisabled]
        );
        assert_eq!(
            with(&|v| {
                v.network_restricted = true;
                v.bypass_azure_services = false;
            }),
            vec![ReasonCode::VaultFirewallBlocksTrustedServices]
        );
        assert!(with(&|v| v.network_restricted = true).is_empty());
        let mut o = healthy();
        o.vault = Lookup::NotFound;
        assert_eq!(codes(&account(), &o), vec![ReasonCode::VaultNotFound]);
    }

    #[test]
    fn access_policies_must_give_all_three_key_permissions() {
        let with = |perms: &[&str]| {
            let mut v = vault(false);
            v.access_policies[0].key_permissions = perms.iter().map(|p| p.to_string()).collect();
            let mut o = healthy();
            o.vault = Lookup::Found(v);
            cmk_reasons(&account(), &o, NOW)
        };
        let r = with(&["get", "wrapKey"]);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].code, ReasonCode::IdentityLacksKeyAccess);
        assert!(r[0].message.contains("unwrapKey"), "{}", r[0].message);
        assert!(with(&["all"]).is_empty());
        // A policy for someone else does not count.
        let mut v = vault(false);
        v.access_policies[0].object_id = "someone-else".into();
        let mut o = healthy();
        o.vault = Lookup::Found(v);
        assert_eq!(
            codes(&account(), &o),
            vec![ReasonCode::IdentityLacksKeyAccess]
        );
    }

    #[test]
    fn rbac_vaults_need_a_crypto_role_at_or_above_the_key_and_ignore_policies() {
        let vault_id = format!("{SUB}/providers/Microsoft.KeyVault/vaults/kv1");
        let with = |assignments: Vec<AssignedRole>| {
            let mut o = healthy();
            o.vault = Lookup::Found(vault(true));
            o.role_assignments = Lookup::Found(assignments);
            codes(&account(), &o)
        };
        let crypto = "e147488a-f6f5-4113-8e2d-b22465e65bf6";
        let owner = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
        assert!(with(vec![assignment(&vault_id, crypto)]).is_empty());
        assert!(with(vec![assignment(&format!("{vault_id}/keys/CMK"), crypto)]).is_empty());
        assert!(with(vec![assignment(SUB, crypto)]).is_empty());
        // Access policies (present in vault()) count for nothing on an RBAC vault.
        assert_eq!(with(vec![]), vec![ReasonCode::IdentityLacksKeyAccess]);
        assert_eq!(
            with(vec![assignment(&vault_id, owner)]),
            vec![ReasonCode::IdentityLacksKeyAccess]
        );
        assert_eq!(
            with(vec![assignment(&format!("{vault_id}/keys/other"), crypto)]),
            vec![ReasonCode::IdentityLacksKeyAccess]
        );
        assert_eq!(
            with(vec![assignment(&format!("{vault_id}2"), crypto)]),
            vec![ReasonCode::IdentityLacksKeyAccess]
        );
    }

    #[test]
    fn the_encryption_identity_must_exist_and_be_on_the_account() {
        let mut o = healthy();
        o.identity = Lookup::NotFound;
        assert_eq!(codes(&account(), &o), vec![ReasonCode::IdentityMissing]);
        let mut a = account();
        a.user_assigned.clear();
        a.identity_type = "None".into();
        assert_eq!(codes(&a, &healthy()), vec![ReasonCode::IdentityMissing]);
        // The recorded orphan: keySource Keyvault, identity None, no encryption.identity.
        let mut a = account();
        a.encryption_identity = None;
        a.user_assigned.clear();
        a.identity_type = "None".into();
        assert_eq!(codes(&a, &healthy()), vec![ReasonCode::IdentityMissing]);
        // A system-assigned identity with the access policy works.
        a.identity_type = "SystemAssigned".into();
        a.system_principal_id = Some(PRINCIPAL.into());
        assert!(codes(&a, &healthy()).is_empty());
    }

    #[test]
    fn unreadable_dependencies_make_the_account_unreadable_unless_something_is_broken() {
        let mut o = healthy();
        o.key = Lookup::Denied("grant Microsoft.KeyVault/vaults/keys/read".into());
        let reasons = cmk_reasons(&account(), &o, NOW);
        assert_eq!(cmk_status(&reasons), Status::Unreadable);
        let mut v = vault(false);
        v.purge_protection = false;
        o.vault = Lookup::Found(v);
        let reasons = cmk_reasons(&account(), &o, NOW);
        assert_eq!(cmk_status(&reasons), Status::CmkBroken);
    }

    #[test]
    fn missing_vault_properties_are_broken() {
        let mut a = account();
        a.key_name = None;
        assert_eq!(
            codes(&a, &healthy()),
            vec![ReasonCode::KeyVaultPropertiesMissing]
        );
    }

    #[test]
    fn scopes_nest_by_whole_segments() {
        assert!(rbac::is_within("/a/b/c", "/a/b"));
        assert!(rbac::is_within("/A/B", "/a/b"));
        assert!(!rbac::is_within("/a/bc", "/a/b"));
        assert!(rbac::is_within("/a", "/"));
    }
}
