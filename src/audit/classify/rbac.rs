//! Key access on an RBAC vault, pure: from the principal's role assignments
//! and the definitions of their roles as read, whether storage can read,
//! wrap and unwrap the key. Judged from each definition's `dataActions` and
//! `notDataActions` (`azure::role_actions`), so a custom role counts as much
//! as a built-in one, and the grants of several assignments add up, as
//! Azure RBAC adds them.

use super::{reason, Lookup};
use crate::audit::report::{Reason, ReasonCode};
use crate::azure::authorization::{RoleAssignment, RoleDefinition};
use crate::azure::keyvault::KeyVault;
use crate::azure::role_actions::{key_actions_granted, KEY_DATA_ACTIONS};

/// The permission that reads a role's definition; a 403 on it is named with it.
pub const ROLE_DEFINITIONS_READ: &str = "Microsoft.Authorization/roleDefinitions/read";

/// One role assignment of the principal, and its role's definition as read.
#[derive(Debug, Clone)]
pub struct AssignedRole {
    pub assignment: RoleAssignment,
    /// `NotChecked` when the assignment does not apply to the key (no read made).
    pub definition: Lookup<RoleDefinition>,
}

/// What the principal's roles give on the key.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyAccess {
    /// Read, wrap and unwrap, from one role or several together.
    Granted,
    /// Not all three: these are what the roles do give.
    Lacks { granted: Vec<&'static str> },
    /// Not all three from what could be read, and some definitions could not
    /// be read: the reasons say which, so access is neither claimed nor denied.
    Unknown(Vec<Reason>),
}

/// `child` is `scope` or lies below it (ids compare case-insensitively).
pub(super) fn is_within(child: &str, scope: &str) -> bool {
    let child = child.trim_end_matches('/').to_ascii_lowercase();
    let scope = scope.trim_end_matches('/').to_ascii_lowercase();
    scope.is_empty()
        || child == scope
        || (child.starts_with(&scope) && child.as_bytes().get(scope.len()) == Some(&b'/'))
}

/// The assignment is the principal's and its scope covers the key: the key
/// itself, the vault, its group, its subscription, or a management group
/// (ARM lists those only when they are above the scope asked about).
pub fn applies_to_key(vault: &KeyVault, key: &str, principal: &str, a: &RoleAssignment) -> bool {
    let key_id = format!("{}/keys/{key}", vault.id.as_str());
    a.principal_id.eq_ignore_ascii_case(principal)
        && (is_within(&key_id, &a.scope)
            || a.scope
                .to_ascii_lowercase()
                .starts_with("/providers/microsoft.management/"))
}

/// What the roles of `principal` that apply to the key give on it.
pub fn key_access(
    vault: &KeyVault,
    key: &str,
    principal: &str,
    roles: &[AssignedRole],
) -> KeyAccess {
    let mut granted: Vec<&'static str> = Vec::new();
    let mut unreadable = Vec::new();
    for role in roles
        .iter()
        .filter(|r| applies_to_key(vault, key, principal, &r.assignment))
    {
        match &role.definition {
            Lookup::Found(definition) => {
                granted.extend(key_actions_granted(&definition.permissions))
            }
            // A role deleted under its assignment grants nothing (Azure shows it as unknown).
            Lookup::NotFound | Lookup::NotChecked => {}
            other => unreadable.extend(other.failure()),
        }
    }
    let granted: Vec<&'static str> = KEY_DATA_ACTIONS
        .into_iter()
        .filter(|a| granted.contains(a))
        .collect();
    if granted.len() == KEY_DATA_ACTIONS.len() {
        KeyAccess::Granted
    } else if !unreadable.is_empty() {
        KeyAccess::Unknown(unreadable)
    } else {
        KeyAccess::Lacks { granted }
    }
}

/// Whether the principal's roles give read, wrap and unwrap on the key.
pub fn rbac_grants(vault: &KeyVault, key: &str, principal: &str, roles: &[AssignedRole]) -> bool {
    key_access(vault, key, principal, roles) == KeyAccess::Granted
}

/// The finding for roles that do not give all three key actions.
pub fn lacks_reason(principal: &str, key: &str, vault_id: &str, granted: &[&str]) -> Reason {
    if granted.is_empty() {
        return reason(
            ReasonCode::IdentityLacksKeyAccess,
            format!("principal {principal} has no role giving get/wrapKey/unwrapKey on key '{key}' in RBAC key vault {vault_id}: assign Key Vault Crypto Service Encryption User at the vault or the key"),
        );
    }
    let missing: Vec<&str> = KEY_DATA_ACTIONS
        .into_iter()
        .filter(|a| !granted.contains(a))
        .collect();
    reason(
        ReasonCode::IdentityLacksKeyAccess,
        format!(
            "the roles of principal {principal} give {} but not {} on key '{key}' in RBAC key vault {vault_id} (a role's dataActions do not cover it, or its notDataActions take it away): assign Key Vault Crypto Service Encryption User at the vault or the key",
            granted.join(", "),
            missing.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure::id::ResourceId;
    use crate::azure::role_actions::Permission;

    const VAULT: &str = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1";
    const PRINCIPAL: &str = "aaaaaaaa-0000-0000-0000-000000000001";

    fn vault() -> KeyVault {
        KeyVault {
            id: ResourceId::parse(VAULT).unwrap(),
            tenant_id: "t".into(),
            vault_uri: None,
            soft_delete: true,
            purge_protection: true,
            rbac_authorization: true,
            network_restricted: false,
            bypass_azure_services: true,
            access_policies: Vec::new(),
            provisioned: true,
            location: "westeurope".into(),
            tags: Default::default(),
        }
    }

    fn role(scope: &str, data: &[&str], not_data: &[&str]) -> AssignedRole {
        AssignedRole {
            assignment: RoleAssignment {
                id: format!("{scope}/providers/Microsoft.Authorization/roleAssignments/x"),
                scope: scope.into(),
                role_definition_id: "/providers/Microsoft.Authorization/roleDefinitions/r".into(),
                principal_id: PRINCIPAL.into(),
                description: None,
            },
            definition: Lookup::Found(RoleDefinition {
                id: "/providers/Microsoft.Authorization/roleDefinitions/r".into(),
                role_name: "custom".into(),
                role_type: "CustomRole".into(),
                permissions: vec![Permission {
                    data_actions: data.iter().map(|s| s.to_string()).collect(),
                    not_data_actions: not_data.iter().map(|s| s.to_string()).collect(),
                    ..Permission::default()
                }],
            }),
        }
    }

    fn access(roles: &[AssignedRole]) -> KeyAccess {
        key_access(&vault(), "cmk", PRINCIPAL, roles)
    }

    #[test]
    fn a_custom_role_with_the_three_actions_or_a_wildcard_grants() {
        assert_eq!(
            access(&[role(VAULT, &KEY_DATA_ACTIONS, &[])]),
            KeyAccess::Granted
        );
        assert_eq!(
            access(&[role(VAULT, &["microsoft.keyvault/vaults/KEYS/*"], &[])]),
            KeyAccess::Granted
        );
        assert_eq!(
            access(&[role(
                "/subscriptions/11111111-1111-1111-1111-111111111111",
                &["*"],
                &[]
            )]),
            KeyAccess::Granted
        );
    }

    #[test]
    fn not_data_actions_take_unwrap_away() {
        let r = role(
            VAULT,
            &["Microsoft.KeyVault/*"],
            &["Microsoft.KeyVault/vaults/keys/unwrap/action"],
        );
        assert_eq!(
            access(&[r]),
            KeyAccess::Lacks {
                granted: vec![KEY_DATA_ACTIONS[0], KEY_DATA_ACTIONS[1]]
            }
        );
        let reason = lacks_reason(PRINCIPAL, "cmk", VAULT, &KEY_DATA_ACTIONS[..2]);
        assert!(
            reason
                .message
                .contains("but not Microsoft.KeyVault/vaults/keys/unwrap/action"),
            "{}",
            reason.message
        );
    }

    #[test]
    fn grants_of_several_assignments_add_up() {
        let read_wrap = role(VAULT, &KEY_DATA_ACTIONS[..2], &[]);
        let unwrap = role(&format!("{VAULT}/keys/CMK"), &KEY_DATA_ACTIONS[2..], &[]);
        assert_eq!(access(&[read_wrap.clone(), unwrap]), KeyAccess::Granted);
        // On another key, the second assignment does not apply.
        let elsewhere = role(&format!("{VAULT}/keys/other"), &KEY_DATA_ACTIONS[2..], &[]);
        assert!(matches!(
            access(&[read_wrap, elsewhere]),
            KeyAccess::Lacks { .. }
        ));
    }

    #[test]
    fn an_unreadable_definition_is_no_grant_and_no_denial() {
        let mut denied = role(VAULT, &[], &[]);
        denied.definition = Lookup::Denied("cannot read role definition r".into());
        let KeyAccess::Unknown(reasons) = access(&[denied.clone()]) else {
            panic!("not unknown");
        };
        assert_eq!(reasons[0].code, ReasonCode::AccessDenied);
        // Another role that grants everything settles it.
        assert_eq!(
            access(&[denied, role(VAULT, &["*"], &[])]),
            KeyAccess::Granted
        );
        // A definition deleted under its assignment grants nothing.
        let mut gone = role(VAULT, &["*"], &[]);
        gone.definition = Lookup::NotFound;
        assert_eq!(access(&[gone]), KeyAccess::Lacks { granted: vec![] });
    }

    #[test]
    fn another_principal_or_a_sibling_vault_grants_nothing() {
        let mut other = role(VAULT, &["*"], &[]);
        other.assignment.principal_id = "bbbbbbbb-0000-0000-0000-000000000001".into();
        assert_eq!(access(&[other]), KeyAccess::Lacks { granted: vec![] });
        assert_eq!(
            access(&[role(&format!("{VAULT}2"), &["*"], &[])]),
            KeyAccess::Lacks { granted: vec![] }
        );
        let mg = role(
            "/providers/Microsoft.Management/managementGroups/root",
            &["*"],
            &[],
        );
        assert_eq!(access(&[mg]), KeyAccess::Granted);
    }
}
