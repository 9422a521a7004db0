//! The built-in Azure role definitions role assignments may name (with the
//! description and permissions `RoleDefinitions_Get`/`_List` answer), and
//! which of them grant the key data actions a customer-managed key needs.

use crate::azure::role_actions::Permission;

/// A built-in role: its well-known GUID, name and permissions. Whether it
/// gives key access is read from its data actions (`azure::role_actions`),
/// as for any custom role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltInRole {
    pub id: &'static str,
    pub name: &'static str,
    /// Azure's description of the role, as `az role definition list` shows it.
    pub description: &'static str,
    pub actions: &'static [&'static str],
    pub not_actions: &'static [&'static str],
    pub data_actions: &'static [&'static str],
}

/// The management reads every Key Vault data role carries besides its data actions.
const KEY_VAULT_READS: &[&str] = &[
    "Microsoft.Authorization/*/read",
    "Microsoft.Insights/alertRules/*",
    "Microsoft.Resources/deployments/*",
    "Microsoft.Resources/subscriptions/resourceGroups/read",
    "Microsoft.Support/*",
    "Microsoft.KeyVault/checkNameAvailability/read",
    "Microsoft.KeyVault/deletedVaults/read",
    "Microsoft.KeyVault/locations/*/read",
    "Microsoft.KeyVault/vaults/*/read",
    "Microsoft.KeyVault/operations/read",
];

/// Owner, Contributor and Reader are control-plane roles: on an RBAC vault
/// they grant no key operation at all, which is a classic CMK pitfall.
pub const BUILT_IN_ROLES: &[BuiltInRole] = &[
    BuiltInRole {
        id: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        name: "Owner",
        description: "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
        actions: &["*"],
        not_actions: &[],
        data_actions: &[],
    },
    BuiltInRole {
        id: "b24988ac-6180-42a0-ab88-20f7382dd24c",
        name: "Contributor",
        description: "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.",
        actions: &["*"],
        not_actions: &[
            "Microsoft.Authorization/*/Delete",
            "Microsoft.Authorization/*/Write",
            "Microsoft.Authorization/elevateAccess/Action",
            "Microsoft.Blueprint/blueprintAssignments/write",
            "Microsoft.Blueprint/blueprintAssignments/delete",
            "Microsoft.Compute/galleries/share/action",
        ],
        data_actions: &[],
    },
    BuiltInRole {
        id: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
        name: "Reader",
        description: "View all resources, but does not allow you to make any changes.",
        actions: &["*/read"],
        not_actions: &[],
        data_actions: &[],
    },
    BuiltInRole {
        id: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        name: "User Access Administrator",
        description: "Lets you manage user access to Azure resources.",
        actions: &["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"],
        not_actions: &[],
        data_actions: &[],
    },
    BuiltInRole {
        id: "17d1049b-9a84-46fb-8f53-869881c3d3ab",
        name: "Storage Account Contributor",
        description: "Lets you manage storage accounts, including accessing storage account keys which provide full access to storage account data.",
        actions: &[
            "Microsoft.Authorization/*/read",
            "Microsoft.Insights/alertRules/*",
            "Microsoft.Insights/diagnosticSettings/*",
            "Microsoft.Network/virtualNetworks/subnets/joinViaServiceEndpoint/action",
            "Microsoft.ResourceHealth/availabilityStatuses/read",
            "Microsoft.Resources/deployments/*",
            "Microsoft.Resources/subscriptions/resourceGroups/read",
            "Microsoft.Storage/storageAccounts/*",
            "Microsoft.Support/*",
        ],
        not_actions: &[],
        data_actions: &[],
    },
    BuiltInRole {
        id: "21090545-7ca7-4776-b22c-e363652d74d2",
        name: "Key Vault Reader",
        description: "Read metadata of key vaults and its certificates, keys, and secrets. Cannot read sensitive values such as secret contents or key material. Only works for key vaults that use the 'Azure role-based access control' permission model.",
        actions: KEY_VAULT_READS,
        not_actions: &[],
        data_actions: &[
            "Microsoft.KeyVault/vaults/*/read",
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
        ],
    },
    BuiltInRole {
        id: "00482a5a-887f-4fb3-b363-3b7fe8e74483",
        name: "Key Vault Administrator",
        description: "Perform all data plane operations on a key vault and all objects in it, including certificates, keys, and secrets. Cannot manage key vault resources or manage role assignments. Only works for key vaults that use the 'Azure role-based access control' permission model.",
        actions: KEY_VAULT_READS,
        not_actions: &[],
        data_actions: &["Microsoft.KeyVault/vaults/*"],
    },
    BuiltInRole {
        id: "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
        name: "Key Vault Crypto Officer",
        description: "Perform any action on the keys of a key vault, except manage permissions. Only works for key vaults that use the 'Azure role-based access control' permission model.",
        actions: KEY_VAULT_READS,
        not_actions: &[],
        data_actions: &[
            "Microsoft.KeyVault/vaults/keys/*",
            "Microsoft.KeyVault/vaults/keyrotationpolicies/*",
        ],
    },
    BuiltInRole {
        id: "12338af0-0e69-4776-bea7-57ae8d297424",
        name: "Key Vault Crypto User",
        description: "Perform cryptographic operations using keys. Only works for key vaults that use the 'Azure role-based access control' permission model.",
        actions: KEY_VAULT_READS,
        not_actions: &[],
        data_actions: &[
            "Microsoft.KeyVault/vaults/keys/read",
            "Microsoft.KeyVault/vaults/keys/update/action",
            "Microsoft.KeyVault/vaults/keys/backup/action",
            "Microsoft.KeyVault/vaults/keys/encrypt/action",
            "Microsoft.KeyVault/vaults/keys/decrypt/action",
            "Microsoft.KeyVault/vaults/keys/wrap/action",
            "Microsoft.KeyVault/vaults/keys/unwrap/action",
            "Microsoft.KeyVault/vaults/keys/sign/action",
            "Microsoft.KeyVault/vaults/keys/verify/action",
        ],
    },
    BuiltInRole {
        id: "e147488a-f6f5-4113-8e2d-b22465e65bf6",
        name: "Key Vault Crypto Service Encryption User",
        description: "Read metadata of keys and perform wrap/unwrap operations. Only works for key vaults that use the 'Azure role-based access control' permission model.",
        actions: &[
            "Microsoft.EventGrid/eventSubscriptions/write",
            "Microsoft.EventGrid/eventSubscriptions/read",
            "Microsoft.EventGrid/eventSubscriptions/delete",
        ],
        not_actions: &[],
        data_actions: &[
            "Microsoft.KeyVault/vaults/keys/read",
            "Microsoft.KeyVault/vaults/keys/wrap/action",
            "Microsoft.KeyVault/vaults/keys/unwrap/action",
        ],
    },
];

/// The GUID a role definition id names. Accepted forms, as ARM takes them:
/// `/subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/{guid}`,
/// `/providers/Microsoft.Authorization/roleDefinitions/{guid}` and
/// `/providers/Microsoft.Management/managementGroups/{g}/providers/...` (literals in any case).
pub fn definition_guid(role_definition_id: &str) -> Option<&str> {
    let segments: Vec<&str> = role_definition_id.split('/').collect();
    let is = |segment: &str, literal: &str| segment.eq_ignore_ascii_case(literal);
    let tail = match segments.as_slice() {
        ["", subs, _sub, rest @ ..] if is(subs, "subscriptions") => rest,
        ["", providers, management, groups, _group, rest @ ..]
            if is(providers, "providers")
                && is(management, "Microsoft.Management")
                && is(groups, "managementGroups") =>
        {
            rest
        }
        ["", rest @ ..] => rest,
        _ => return None,
    };
    match tail {
        [providers, namespace, kind, guid]
            if is(providers, "providers")
                && is(namespace, "Microsoft.Authorization")
                && is(kind, "roleDefinitions") =>
        {
            Some(guid)
        }
        _ => None,
    }
}

/// The built-in role a role definition id names (forms as [`definition_guid`]).
pub fn built_in_role(role_definition_id: &str) -> Option<&'static BuiltInRole> {
    let guid = definition_guid(role_definition_id)?;
    built_in_by_guid(guid)
}

/// The built-in role with this GUID (any casing).
pub fn built_in_by_guid(guid: &str) -> Option<&'static BuiltInRole> {
    BUILT_IN_ROLES
        .iter()
        .find(|role| role.id.eq_ignore_ascii_case(guid))
}

impl BuiltInRole {
    /// The role's one permission, as role definitions answer and RBAC evaluates it.
    pub fn permission(&self) -> Permission {
        let owned = |list: &[&str]| list.iter().map(|s| s.to_string()).collect();
        Permission {
            actions: owned(self.actions),
            not_actions: owned(self.not_actions),
            data_actions: owned(self.data_actions),
            not_data_actions: Vec::new(),
        }
    }
}

/// The GUID at the end of a role definition id (for error messages).
pub fn role_guid(role_definition_id: &str) -> &str {
    role_definition_id
        .rsplit('/')
        .next()
        .unwrap_or(role_definition_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_id_forms_name_a_built_in_role() {
        let sub = "/subscriptions/11111111-1111-1111-1111-111111111111/providers/Microsoft.Authorization/roleDefinitions/e147488a-f6f5-4113-8e2d-b22465e65bf6";
        assert_eq!(
            built_in_role(sub).unwrap().name,
            "Key Vault Crypto Service Encryption User"
        );
        let tenant = "/providers/microsoft.authorization/roledefinitions/ACDD72A7-3385-48EF-BD42-F606FBA81AE7";
        assert_eq!(built_in_role(tenant).unwrap().name, "Reader");
    }

    #[test]
    fn unknown_or_malformed_ids_name_nothing() {
        assert!(built_in_role("/providers/Microsoft.Authorization/roleDefinitions/00000000-0000-0000-0000-000000000000").is_none());
        assert!(built_in_role("e147488a-f6f5-4113-8e2d-b22465e65bf6").is_none());
        assert!(built_in_role("/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/e147488a-f6f5-4113-8e2d-b22465e65bf6").is_none());
        assert!(built_in_role("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Authorization/roleDefinitions/e147488a-f6f5-4113-8e2d-b22465e65bf6").is_none());
        let mg = "/providers/Microsoft.Management/managementGroups/root/providers/Microsoft.Authorization/roleDefinitions/ACDD72A7-3385-48EF-BD42-F606FBA81AE7";
        assert_eq!(built_in_role(mg).unwrap().name, "Reader");
    }

    /// The four Key Vault data roles give keys read, wrap and unwrap by their
    /// data actions; Owner, Contributor and the other control-plane roles none.
    #[test]
    fn only_key_vault_data_roles_wrap_keys() {
        use crate::azure::role_actions::{key_actions_granted, KEY_DATA_ACTIONS};
        let wrapping: Vec<&str> = BUILT_IN_ROLES
            .iter()
            .filter(|r| key_actions_granted(&[r.permission()]) == KEY_DATA_ACTIONS)
            .map(|r| r.name)
            .collect();
        assert_eq!(
            wrapping,
            [
                "Key Vault Administrator",
                "Key Vault Crypto Officer",
                "Key Vault Crypto User",
                "Key Vault Crypto Service Encryption User"
            ]
        );
    }
}
