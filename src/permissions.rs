//! The least-privilege custom roles actlog-cmk runs under, as plain data, in
//! the JSON format `az role definition create --role-definition` reads.
//!
//! - `audit`: reads only. Enough for `audit`, `plan`, `apply --dry-run` and
//!   `rollback --dry-run` (plan only reads, the vault-name check included).
//! - `apply`: the audit reads plus every write `apply` makes (src/azure/write.rs).
//! - `rollback`: the audit reads plus what undoing an apply takes: switching an
//!   account's encryption back, removing the access policy or role assignment
//!   the tool added. Kept apart from `apply` so the role a pipeline applies
//!   with cannot delete anyone's role assignments.
//!
//! tests/permissions.rs runs the binary against the emulator and checks every
//! ARM request it makes against these roles (docs/permissions.md says why each
//! action is there).

pub use crate::azure::role_actions::action_matches;
use serde::{Deserialize, Serialize};

/// Reads behind `audit` and `plan` (and the read-first steps of `apply`).
const READS: &[&str] = &[
    // GET /subscriptions and /subscriptions/{id}: which subscriptions, and their tenant.
    "Microsoft.Resources/subscriptions/read",
    // Resources_List: the vault behind an account's `keyvaulturi`, in any subscription.
    "Microsoft.Resources/subscriptions/resources/read",
    // Subscription diagnostic settings: where the activity log goes.
    "Microsoft.Insights/DiagnosticSettings/Read",
    // Legacy log profiles: the other place the activity log can go.
    "Microsoft.Insights/LogProfiles/Read",
    // The management groups whose diagnostic settings (the read above, at the
    // group) export their activity log too.
    "Microsoft.Management/managementGroups/read",
    // Each destination account: encryption and identities.
    "Microsoft.Storage/storageAccounts/read",
    // The key's vault: soft delete, purge protection, firewall, access policies.
    "Microsoft.KeyVault/vaults/read",
    // The key (management plane): type, size, enabled, dates.
    "Microsoft.KeyVault/vaults/keys/read",
    // A key version an account pins.
    "Microsoft.KeyVault/vaults/keys/versions/read",
    // `plan`: whether a vault name is free (names are global). A POST that Azure counts as a read.
    "Microsoft.KeyVault/checkNameAvailability/read",
    // The identity an account encrypts with: its principal id.
    "Microsoft.ManagedIdentity/userAssignedIdentities/read",
    // Whether that principal holds a key role on an RBAC vault.
    "Microsoft.Authorization/roleAssignments/read",
    // The definitions of those assignments' roles: whether a custom role's
    // dataActions (less its notDataActions) give read, wrap and unwrap on keys.
    "Microsoft.Authorization/roleDefinitions/read",
];

/// Writes `apply` makes, one per function in src/azure/write.rs, plus the
/// linked permission Azure checks when an identity is attached.
const APPLY_WRITES: &[&str] = &[
    // create_identity: PUT the user-assigned identity.
    "Microsoft.ManagedIdentity/userAssignedIdentities/write",
    // switch_storage_to_key attaches that identity to the account: Azure
    // checks this on the identity (linked access), it is no request of its own.
    "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action",
    // create_vault (PUT) and enable_purge_protection (PATCH).
    "Microsoft.KeyVault/vaults/write",
    // add_key_access_policy: PUT .../accessPolicies/add on access-policy vaults.
    "Microsoft.KeyVault/vaults/accessPolicies/write",
    // create_key: PUT .../keys/{name} (management plane; creates only if absent).
    "Microsoft.KeyVault/vaults/keys/write",
    // create_role_assignment: Key Vault Crypto Service Encryption User on RBAC vaults.
    "Microsoft.Authorization/roleAssignments/write",
    // switch_storage_to_key: PATCH the account's identity and encryption.
    "Microsoft.Storage/storageAccounts/write",
];

/// Writes undoing an apply takes. Never a delete of an identity, vault or key.
const ROLLBACK_WRITES: &[&str] = &[
    // Back to Microsoft-managed keys, and the tool's identity off the account
    // (PATCHes that attach no identity, so no `assign/action`).
    "Microsoft.Storage/storageAccounts/write",
    // PUT .../accessPolicies/remove: the policy the tool added.
    "Microsoft.KeyVault/vaults/accessPolicies/write",
    // The role assignment the tool added.
    "Microsoft.Authorization/roleAssignments/delete",
];

/// Used until `--scope` names real ones; `az` refuses it, on purpose.
pub const PLACEHOLDER_SCOPE: &str = "/subscriptions/<subscription-id>";

/// One of the roles actlog-cmk documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Audit,
    Apply,
    Rollback,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Audit, Role::Apply, Role::Rollback];

    /// The role's name in the tenant (custom role names are unique per tenant).
    pub fn name(self) -> &'static str {
        match self {
            Role::Audit => "actlog-cmk Audit",
            Role::Apply => "actlog-cmk Apply",
            Role::Rollback => "actlog-cmk Rollback",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Role::Audit => "actlog-cmk audit and plan, and the dry runs of apply and rollback: reads subscriptions, activity-log diagnostic settings and log profiles, storage accounts, key vaults and keys, user-assigned identities, role assignments and role definitions. No writes.",
            Role::Apply => "actlog-cmk apply: the audit reads, plus creating user-assigned identities, key vaults, keys and key grants (access policies or role assignments), and switching storage accounts to a customer-managed key. Can create role assignments: see docs/permissions.md.",
            Role::Rollback => "actlog-cmk rollback: the audit reads, plus switching storage accounts back and removing the access policies and role assignments the tool added. Deletes no identity, vault or key.",
        }
    }

    /// The control-plane actions, reads first, without duplicates.
    pub fn actions(self) -> Vec<&'static str> {
        let writes: &[&str] = match self {
            Role::Audit => &[],
            Role::Apply => APPLY_WRITES,
            Role::Rollback => ROLLBACK_WRITES,
        };
        let mut actions: Vec<&'static str> = Vec::new();
        for action in READS.iter().chain(writes) {
            if !actions.iter().any(|a| a.eq_ignore_ascii_case(action)) {
                actions.push(action);
            }
        }
        actions
    }

    /// The definition, assignable at `scopes` (the placeholder when empty).
    pub fn definition(self, scopes: &[String]) -> RoleDefinition {
        let assignable_scopes = if scopes.is_empty() {
            vec![PLACEHOLDER_SCOPE.to_string()]
        } else {
            scopes.to_vec()
        };
        RoleDefinition {
            name: self.name().to_string(),
            is_custom: true,
            description: self.description().to_string(),
            actions: self.actions().into_iter().map(String::from).collect(),
            not_actions: Vec::new(),
            data_actions: Vec::new(),
            not_data_actions: Vec::new(),
            assignable_scopes,
        }
    }
}

/// A custom role as `az role definition create --role-definition` takes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoleDefinition {
    pub name: String,
    pub is_custom: bool,
    pub description: String,
    pub actions: Vec<String>,
    pub not_actions: Vec<String>,
    pub data_actions: Vec<String>,
    pub not_data_actions: Vec<String>,
    pub assignable_scopes: Vec<String>,
}

impl RoleDefinition {
    /// Whether the role grants the control-plane `action`: an `Actions` entry
    /// matches it and no `NotActions` entry does (Azure's rule).
    pub fn allows(&self, action: &str) -> bool {
        self.actions.iter().any(|p| action_matches(p, action))
            && !self.not_actions.iter().any(|p| action_matches(p, action))
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ScopeError {
    #[error("'{0}' is not a scope a custom role can be assigned at: use /subscriptions/<subscription-id>, /subscriptions/<subscription-id>/resourceGroups/<name> or /providers/Microsoft.Management/managementGroups/<name>")]
    Unsupported(String),
    #[error("'{0}' does not name a subscription by its id (a GUID such as 11111111-1111-1111-1111-111111111111)")]
    BadSubscription(String),
    #[error("a custom role can name only one management group among its assignable scopes, got {0} and {1}")]
    SecondManagementGroup(String, String),
}

/// Checks `--scope` values and drops repeats (any casing), keeping the first spelling.
pub fn assignable_scopes(raw: &[String]) -> Result<Vec<String>, ScopeError> {
    let mut scopes: Vec<String> = Vec::new();
    let mut management_group: Option<String> = None;
    for given in raw {
        let given = given.trim();
        let scope = given.trim_end_matches('/').to_string();
        let segments: Vec<&str> = scope.split('/').skip(1).collect();
        if !scope.starts_with('/') || segments.iter().any(|s| s.is_empty()) {
            return Err(ScopeError::Unsupported(given.to_string()));
        }
        let is = |segment: &str, name: &str| segment.eq_ignore_ascii_case(name);
        match segments.as_slice() {
            [subs, id] | [subs, id, _, _]
                if is(subs, "subscriptions")
                    && (segments.len() == 2 || is(segments[2], "resourceGroups")) =>
            {
                if id.len() != 36 || uuid::Uuid::try_parse(id).is_err() {
                    return Err(ScopeError::BadSubscription(given.to_string()));
                }
            }
            [providers, namespace, groups, _]
                if is(providers, "providers")
                    && is(namespace, "Microsoft.Management")
                    && is(groups, "managementGroups") =>
            {
                match &management_group {
                    Some(first) if !first.eq_ignore_ascii_case(&scope) => {
                        return Err(ScopeError::SecondManagementGroup(first.clone(), scope));
                    }
                    _ => management_group = Some(scope.clone()),
                }
            }
            _ => return Err(ScopeError::Unsupported(given.to_string())),
        }
        if !scopes.iter().any(|s| s.eq_ignore_ascii_case(&scope)) {
            scopes.push(scope);
        }
    }
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUB: &str = "/subscriptions/11111111-1111-1111-1111-111111111111";

    #[test]
    fn wildcards_and_case_follow_azure() {
        assert!(action_matches(
            "Microsoft.Insights/DiagnosticSettings/Read",
            "microsoft.insights/diagnosticSettings/read"
        ));
        assert!(action_matches(
            "*/read",
            "Microsoft.Storage/storageAccounts/read"
        ));
        assert!(action_matches(
            "Microsoft.KeyVault/*",
            "Microsoft.KeyVault/vaults/accessPolicies/write"
        ));
        assert!(action_matches(
            "Microsoft.KeyVault/vaults/*/read",
            "Microsoft.KeyVault/vaults/keys/versions/read"
        ));
        assert!(action_matches(
            "*",
            "Microsoft.Storage/storageAccounts/write"
        ));
        assert!(!action_matches(
            "Microsoft.KeyVault/vaults/*/read",
            "Microsoft.KeyVault/vaults/read"
        ));
        assert!(!action_matches(
            "*/read",
            "Microsoft.Storage/storageAccounts/write"
        ));
        assert!(!action_matches(
            "Microsoft.Storage/storageAccounts/read",
            "Microsoft.Storage/storageAccounts/readx"
        ));
        assert!(!action_matches(
            "Microsoft.Storage/storageAccounts/read",
            "Microsoft.Storage/storageAccounts/rea"
        ));
    }

    #[test]
    fn not_actions_take_away_what_actions_give() {
        let mut role = Role::Apply.definition(&[]);
        assert!(role.allows("Microsoft.Authorization/roleAssignments/write"));
        role.not_actions = vec!["Microsoft.Authorization/*".into()];
        assert!(!role.allows("Microsoft.Authorization/roleAssignments/write"));
        assert!(role.allows("Microsoft.Storage/storageAccounts/write"));
    }

    #[test]
    fn audit_only_reads_and_the_others_read_what_audit_reads() {
        let audit = Role::Audit.actions();
        for action in &audit {
            assert!(action.to_ascii_lowercase().ends_with("/read"), "{action}");
        }
        for role in [Role::Apply, Role::Rollback] {
            let actions = role.actions();
            assert!(audit.iter().all(|a| actions.contains(a)), "{role:?}");
        }
        assert!(!Role::Apply
            .definition(&[])
            .allows("Microsoft.Authorization/roleAssignments/delete"));
        assert!(Role::Rollback
            .definition(&[])
            .allows("Microsoft.Authorization/roleAssignments/delete"));
        assert!(!Role::Rollback
            .definition(&[])
            .allows("Microsoft.KeyVault/vaults/keys/write"));
    }

    #[test]
    fn the_json_is_what_az_reads() {
        let json = serde_json::to_value(Role::Audit.definition(&[SUB.to_string()])).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for key in [
            "Name",
            "IsCustom",
            "Description",
            "Actions",
            "NotActions",
            "DataActions",
            "NotDataActions",
            "AssignableScopes",
        ] {
            assert!(keys.contains(&key), "{key} in {keys:?}");
        }
        assert_eq!(json["AssignableScopes"], serde_json::json!([SUB]));
        assert_eq!(json["IsCustom"], true);
        assert_eq!(
            Role::Apply.definition(&[]).assignable_scopes,
            vec![PLACEHOLDER_SCOPE.to_string()]
        );
    }

    #[test]
    fn scopes_are_checked_and_repeats_dropped() {
        let rg = format!("{SUB}/resourceGroups/rg-logs");
        let mg = "/providers/Microsoft.Management/managementGroups/platform".to_string();
        assert_eq!(
            assignable_scopes(&[
                format!("{SUB}/"),
                SUB.to_uppercase(),
                rg.clone(),
                mg.clone()
            ]),
            Ok(vec![SUB.to_string(), rg, mg.clone()])
        );
        for bad in [
            "/",
            "subscriptions/x",
            "/subscriptions/<subscription-id>",
            "/subscriptions//x",
        ] {
            assert!(assignable_scopes(&[bad.to_string()]).is_err(), "{bad}");
        }
        assert!(matches!(
            assignable_scopes(&[format!(
                "{SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv"
            )]),
            Err(ScopeError::Unsupported(_))
        ));
        assert!(matches!(
            assignable_scopes(&["/subscriptions/not-a-guid".to_string()]),
            Err(ScopeError::BadSubscription(_))
        ));
        let other = "/providers/Microsoft.Management/managementGroups/other".to_string();
        assert!(matches!(
            assignable_scopes(&[mg, other]),
            Err(ScopeError::SecondManagementGroup(_, _))
        ));
    }
}
