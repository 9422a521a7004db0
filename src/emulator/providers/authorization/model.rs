//! The role assignments and custom roles the emulator holds, and the
//! question the CMK rule asks of them: does this principal have key access
//! at a scope yet? Answered from the roles' data actions (built-in or
//! custom) by Azure's rules, shared with the tool (`azure::role_actions`).

use super::custom_roles::CustomRole;
use super::roles::{built_in_role, definition_guid};
use crate::azure::role_actions::{key_actions_granted, Permission, KEY_DATA_ACTIONS};
use crate::emulator::state::{is_within, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One role assignment, as stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RoleAssignment {
    /// `{scope}/providers/Microsoft.Authorization/roleAssignments/{name}`.
    pub id: String,
    pub name: String,
    /// The scope as the caller wrote it (`/subscriptions/...`).
    pub scope: String,
    pub role_definition_id: String,
    pub principal_id: String,
    /// As sent, or resolved from the directory when the caller left it out.
    pub principal_type: String,
    pub description: Option<String>,
    pub condition: Option<String>,
    pub condition_version: Option<String>,
    pub delegated_managed_identity_resource_id: Option<String>,
    pub created_on: DateTime<Utc>,
    pub updated_on: DateTime<Utc>,
    /// Object id of the caller that created it.
    pub created_by: String,
    pub updated_by: String,
    /// When the grant takes effect for data-plane checks: creation time plus
    /// the propagation delay configured at that moment.
    pub effective_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Model {
    /// By lower-case id.
    pub(super) by_id: BTreeMap<String, RoleAssignment>,
    /// Custom role definitions by lower-case GUID (tenant-wide, as in Azure).
    #[serde(default)]
    custom_roles: BTreeMap<String, CustomRole>,
}

impl Model {
    /// The assignment with this id (any casing).
    pub fn get(&self, id: &str) -> Option<&RoleAssignment> {
        self.by_id.get(&crate::emulator::providers::common::key(id))
    }

    /// Every assignment, in id order.
    pub fn all(&self) -> impl Iterator<Item = &RoleAssignment> {
        self.by_id.values()
    }

    /// Every custom role, in GUID order.
    pub fn custom_roles(&self) -> impl Iterator<Item = &CustomRole> {
        self.custom_roles.values()
    }

    pub fn custom_role(&self, guid: &str) -> Option<&CustomRole> {
        self.custom_roles.get(&guid.to_ascii_lowercase())
    }

    pub(super) fn insert_custom_role(&mut self, role: CustomRole) {
        self.custom_roles
            .insert(role.name.to_ascii_lowercase(), role);
    }

    pub(super) fn remove_custom_role(&mut self, guid: &str) -> Option<CustomRole> {
        self.custom_roles.remove(&guid.to_ascii_lowercase())
    }

    /// The permissions of the role a role definition id names, built-in or
    /// custom; `None` when no such role exists.
    pub fn permissions_of(&self, role_definition_id: &str) -> Option<Vec<Permission>> {
        if let Some(role) = built_in_role(role_definition_id) {
            return Some(vec![role.permission()]);
        }
        let guid = definition_guid(role_definition_id)?;
        self.custom_role(guid).map(|r| r.permissions.clone())
    }
}

/// True when the effective (propagated) role assignments at or above
/// `resource_id` give `principal_id` keys read, wrap and unwrap, together:
/// RBAC adds up the grants of every assignment, each role's data actions
/// less its not-data actions.
pub fn grants_key_access(
    state: &State,
    principal_id: &str,
    resource_id: &str,
    now: DateTime<Utc>,
) -> bool {
    let model = &state.authorization;
    let granted: Vec<&str> = model
        .all()
        .filter(|assignment| {
            assignment.principal_id.eq_ignore_ascii_case(principal_id)
                && is_within(resource_id, &assignment.scope)
                && assignment.effective_at <= now
        })
        .filter_map(|assignment| model.permissions_of(&assignment.role_definition_id))
        .flat_map(|permissions| key_actions_granted(&permissions))
        .collect();
    KEY_DATA_ACTIONS
        .iter()
        .all(|action| granted.contains(action))
}

#[cfg(test)]
mod tests {
    use super::super::TYPE;
    use super::*;
    use chrono::Duration;

    const VAULT: &str =
        "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1";
    const PRINCIPAL: &str = "aaaaaaaa-0000-0000-0000-000000000001";
    const CRYPTO_SERVICE: &str =
        "/providers/Microsoft.Authorization/roleDefinitions/e147488a-f6f5-4113-8e2d-b22465e65bf6";
    const OWNER: &str = "/subscriptions/11111111-1111-1111-1111-111111111111/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635";

    fn assign(state: &mut State, scope: &str, role: &str, effective_at: DateTime<Utc>) {
        let name = uuid::Uuid::new_v4().to_string();
        let id = format!("{scope}/providers/{TYPE}/{name}");
        let created = effective_at - Duration::seconds(1);
        state.authorization.by_id.insert(
            crate::emulator::providers::common::key(&id),
            RoleAssignment {
                id,
                name,
                scope: scope.to_string(),
                role_definition_id: role.to_string(),
                principal_id: PRINCIPAL.to_string(),
                principal_type: "ServicePrincipal".into(),
                description: None,
                condition: None,
                condition_version: None,
                delegated_managed_identity_resource_id: None,
                created_on: created,
                updated_on: created,
                created_by: "caller".into(),
                updated_by: "caller".into(),
                effective_at,
            },
        );
    }

    #[test]
    fn a_crypto_role_on_the_vault_or_above_grants_access_once_propagated() {
        let now = Utc::now();
        let mut state = State::default();
        assert!(!grants_key_access(&state, PRINCIPAL, VAULT, now));
        assign(
            &mut state,
            "/subscriptions/11111111-1111-1111-1111-111111111111/resourcegroups/RG",
            CRYPTO_SERVICE,
            now,
        );
        assert!(grants_key_access(&state, PRINCIPAL, VAULT, now));
        assert!(grants_key_access(
            &state,
            &PRINCIPAL.to_uppercase(),
            &VAULT.to_uppercase(),
            now
        ));
        // Not yet propagated a moment earlier; another principal gets nothing.
        assert!(!grants_key_access(
            &state,
            PRINCIPAL,
            VAULT,
            now - Duration::milliseconds(1)
        ));
        assert!(!grants_key_access(
            &state,
            "bbbbbbbb-0000-0000-0000-000000000001",
            VAULT,
            now
        ));
    }

    #[test]
    fn control_plane_roles_and_sibling_scopes_grant_nothing() {
        let now = Utc::now();
        let mut state = State::default();
        assign(
            &mut state,
            "/subscriptions/11111111-1111-1111-1111-111111111111",
            OWNER,
            now,
        );
        assert!(!grants_key_access(&state, PRINCIPAL, VAULT, now));
        // A vault whose name merely starts with the assigned one is another scope.
        assign(
            &mut state,
            "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv",
            CRYPTO_SERVICE,
            now,
        );
        assert!(!grants_key_access(&state, PRINCIPAL, VAULT, now));
        // A grant below the vault (on one key) does not cover the vault.
        assign(&mut state, &format!("{VAULT}/keys/k1"), CRYPTO_SERVICE, now);
        assert!(!grants_key_access(&state, PRINCIPAL, VAULT, now));
        assert!(grants_key_access(
            &state,
            PRINCIPAL,
            &format!("{VAULT}/keys/k1"),
            now
        ));
    }

    fn custom(state: &mut State, guid: &str, data: &[&str], not_data: &[&str]) -> String {
        let now = Utc::now();
        state.authorization.insert_custom_role(CustomRole {
            name: guid.into(),
            role_name: guid.into(),
            description: None,
            permissions: vec![Permission {
                data_actions: data.iter().map(|s| s.to_string()).collect(),
                not_data_actions: not_data.iter().map(|s| s.to_string()).collect(),
                ..Permission::default()
            }],
            assignable_scopes: vec!["/subscriptions/11111111-1111-1111-1111-111111111111".into()],
            created_on: now,
            updated_on: now,
            created_by: "c".into(),
            updated_by: "c".into(),
        });
        format!("/subscriptions/11111111-1111-1111-1111-111111111111/providers/Microsoft.Authorization/roleDefinitions/{guid}")
    }

    #[test]
    fn custom_roles_grant_by_their_data_actions_and_grants_add_up() {
        let now = Utc::now();
        let mut state = State::default();
        let no_unwrap = custom(
            &mut state,
            "00000000-0000-4000-8000-000000000001",
            &["Microsoft.KeyVault/vaults/keys/*"],
            &["Microsoft.KeyVault/vaults/keys/unwrap/action"],
        );
        assign(&mut state, VAULT, &no_unwrap, now);
        assert!(!grants_key_access(&state, PRINCIPAL, VAULT, now));
        let unwrap = custom(
            &mut state,
            "00000000-0000-4000-8000-000000000002",
            &["microsoft.keyvault/vaults/keys/UNWRAP/action"],
            &[],
        );
        assign(&mut state, VAULT, &unwrap, now);
        assert!(grants_key_access(&state, PRINCIPAL, VAULT, now));
        // A role deleted under its assignment grants nothing.
        state
            .authorization
            .remove_custom_role("00000000-0000-4000-8000-000000000002");
        assert!(!grants_key_access(&state, PRINCIPAL, VAULT, now));
    }
}
