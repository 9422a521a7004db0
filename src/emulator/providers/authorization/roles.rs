//! The built-in Azure role definitions role assignments may name, and which
//! of them grant the key data actions a customer-managed key needs.

/// A built-in role: its well-known GUID, name, and whether it includes the
/// `Microsoft.KeyVault/vaults/keys/read`, `wrap/action` and `unwrap/action`
/// data actions (get / wrapKey / unwrapKey in access-policy terms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltInRole {
    pub id: &'static str,
    pub name: &'static str,
    pub key_wrap_unwrap: bool,
}

/// Owner, Contributor and Reader are control-plane roles: on an RBAC vault
/// they grant no key operation at all, which is a classic CMK pitfall.
pub const BUILT_IN_ROLES: &[BuiltInRole] = &[
    BuiltInRole {
        id: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        name: "Owner",
        key_wrap_unwrap: false,
    },
    BuiltInRole {
        id: "b24988ac-6180-42a0-ab88-20f7382dd24c",
        name: "Contributor",
        key_wrap_unwrap: false,
    },
    BuiltInRole {
        id: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
        name: "Reader",
        key_wrap_unwrap: false,
    },
    BuiltInRole {
        id: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        name: "User Access Administrator",
        key_wrap_unwrap: false,
    },
    BuiltInRole {
        id: "17d1049b-9a84-46fb-8f53-869881c3d3ab",
        name: "Storage Account Contributor",
        key_wrap_unwrap: false,
    },
    BuiltInRole {
        id: "21090545-7ca7-4776-b22c-e363652d74d2",
        name: "Key Vault Reader",
        key_wrap_unwrap: false,
    },
    BuiltInRole {
        id: "00482a5a-887f-4fb3-b363-3b7fe8e74483",
        name: "Key Vault Administrator",
        key_wrap_unwrap: true,
    },
    BuiltInRole {
        id: "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
        name: "Key Vault Crypto Officer",
        key_wrap_unwrap: true,
    },
    BuiltInRole {
        id: "12338af0-0e69-4776-bea7-57ae8d297424",
        name: "Key Vault Crypto User",
        key_wrap_unwrap: true,
    },
    BuiltInRole {
        id: "e147488a-f6f5-4113-8e2d-b22465e65bf6",
        name: "Key Vault Crypto Service Encryption User",
        key_wrap_unwrap: true,
    },
];

/// The built-in role a role definition id names. Accepted forms, as ARM takes them:
/// `/subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/{guid}` and
/// `/providers/Microsoft.Authorization/roleDefinitions/{guid}` (literals in any case).
pub fn built_in_role(role_definition_id: &str) -> Option<&'static BuiltInRole> {
    let segments: Vec<&str> = role_definition_id.split('/').collect();
    let tail = match segments.as_slice() {
        ["", subs, _sub, rest @ ..] if subs.eq_ignore_ascii_case("subscriptions") => rest,
        ["", rest @ ..] => rest,
        _ => return None,
    };
    match tail {
        [providers, namespace, kind, guid]
            if providers.eq_ignore_ascii_case("providers")
                && namespace.eq_ignore_ascii_case("Microsoft.Authorization")
                && kind.eq_ignore_ascii_case("roleDefinitions") =>
        {
            BUILT_IN_ROLES
                .iter()
                .find(|role| role.id.eq_ignore_ascii_case(guid))
        }
        _ => None,
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
        assert!(built_in_role(sub).unwrap().key_wrap_unwrap);
        let tenant = "/providers/microsoft.authorization/roledefinitions/ACDD72A7-3385-48EF-BD42-F606FBA81AE7";
        assert_eq!(built_in_role(tenant).unwrap().name, "Reader");
    }

    #[test]
    fn unknown_or_malformed_ids_name_nothing() {
        assert!(built_in_role("/providers/Microsoft.Authorization/roleDefinitions/00000000-0000-0000-0000-000000000000").is_none());
        assert!(built_in_role("e147488a-f6f5-4113-8e2d-b22465e65bf6").is_none());
        assert!(built_in_role("/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/e147488a-f6f5-4113-8e2d-b22465e65bf6").is_none());
        assert!(built_in_role("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Authorization/roleDefinitions/e147488a-f6f5-4113-8e2d-b22465e65bf6").is_none());
    }

    #[test]
    fn only_key_vault_data_roles_wrap_keys() {
        let wrapping: Vec<&str> = BUILT_IN_ROLES
            .iter()
            .filter(|r| r.key_wrap_unwrap)
            .map(|r| r.name)
            .collect();
        assert_eq!(wrapping.len(), 4);
        assert!(!wrapping.contains(&"Owner"));
        assert!(!wrapping.contains(&"Contributor"));
    }
}
