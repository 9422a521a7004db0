//! Azure RBAC role assignments and the role definitions they name
//! (Microsoft.Authorization 2022-04-01), through the shared pipeline (no
//! generated crate is among the named dependencies). What a definition
//! grants is judged by `role_actions`, from its data actions, so a custom
//! role counts as much as a built-in one.

use super::answer;
use super::role_actions::Permission;
use super::{Arm, AzureError};
use serde::Deserialize;

pub const ROLE_ASSIGNMENTS_API: &str = "2022-04-01";
pub const ROLE_DEFINITIONS_API: &str = "2022-04-01";

/// The built-in roles whose data actions include keys read, wrap and unwrap
/// (get / wrapKey / unwrapKey), by GUID and name: the names the rollback
/// diff shows. Whether a role grants key access is read from its definition
/// (`role_definition`), never from this list. Owner and Contributor are
/// control-plane roles and grant none of them on an RBAC vault.
pub const KEY_WRAP_ROLES: &[(&str, &str)] = &[
    (
        "e147488a-f6f5-4113-8e2d-b22465e65bf6",
        "Key Vault Crypto Service Encryption User",
    ),
    (
        "12338af0-0e69-4776-bea7-57ae8d297424",
        "Key Vault Crypto User",
    ),
    (
        "14b46e9e-c2b7-41b4-b07b-48a6ebf60603",
        "Key Vault Crypto Officer",
    ),
    (
        "00482a5a-887f-4fb3-b363-3b7fe8e74483",
        "Key Vault Administrator",
    ),
];

/// The least-privilege role for storage encryption.
pub const CRYPTO_SERVICE_ENCRYPTION_USER: &str = "e147488a-f6f5-4113-8e2d-b22465e65bf6";

#[derive(Debug, Clone, PartialEq)]
pub struct RoleAssignment {
    pub id: String,
    pub scope: String,
    /// Full role definition id (`.../roleDefinitions/{guid}`).
    pub role_definition_id: String,
    pub principal_id: String,
    /// Free text Azure keeps with the assignment: the tool marks the ones it
    /// creates here (`plan::ownership::grant_description`), since role
    /// assignments carry no tags.
    pub description: Option<String>,
}

impl RoleAssignment {
    /// The role definition's GUID (the last segment of its id), lower case.
    pub fn role_guid(&self) -> String {
        self.role_definition_id
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase()
    }
}

/// A role definition, reduced to what is judged: its permissions.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleDefinition {
    /// The id it was read by (an assignment's `roleDefinitionId`).
    pub id: String,
    pub role_name: String,
    /// `BuiltInRole` or `CustomRole`.
    pub role_type: String,
    pub permissions: Vec<Permission>,
}

/// Reads a definition tolerantly: absent lists are empty, other fields and
/// values Azure adds are ignored.
pub fn role_definition_from_json(id: &str, answer: &serde_json::Value) -> RoleDefinition {
    let permissions = answer
        .pointer("/properties/permissions")
        .and_then(serde_json::Value::as_array)
        .map(|entries| {
            entries
                .iter()
                .map(|p| Permission {
                    actions: answer::texts(p, "/actions"),
                    not_actions: answer::texts(p, "/notActions"),
                    data_actions: answer::texts(p, "/dataActions"),
                    not_data_actions: answer::texts(p, "/notDataActions"),
                })
                .collect()
        })
        .unwrap_or_default();
    RoleDefinition {
        id: id.to_string(),
        role_name: answer::text(answer, "/properties/roleName").unwrap_or_default(),
        role_type: answer::text(answer, "/properties/type").unwrap_or_default(),
        permissions,
    }
}

/// The role definition an assignment names, by its id
/// (`/subscriptions/{s}/providers/Microsoft.Authorization/roleDefinitions/{guid}`,
/// or the tenant-level and management-group forms): ARM answers it at that path.
pub async fn get_role_definition(arm: &Arm, id: &str) -> Result<RoleDefinition, AzureError> {
    let path = format!(
        "{}?api-version={ROLE_DEFINITIONS_API}",
        id.trim_end_matches('/')
    );
    let answer: serde_json::Value = arm
        .get_json(&path, &format!("role definition {id}"))
        .await?;
    Ok(role_definition_from_json(id, &answer))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    #[serde(default)]
    value: Vec<Raw>,
    next_link: Option<String>,
}

#[derive(Deserialize)]
struct Raw {
    id: String,
    properties: RawProperties,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProperties {
    scope: String,
    role_definition_id: String,
    principal_id: String,
    #[serde(default)]
    description: Option<String>,
}

/// Role assignments of `principal_id` that apply at `scope`: at it, above it
/// (resource group, subscription, management group) and below it (e.g. a key).
pub async fn assignments_for_principal(
    arm: &Arm,
    scope: &str,
    principal_id: &str,
) -> Result<Vec<RoleAssignment>, AzureError> {
    let filter = format!("principalId eq '{principal_id}'");
    let query = serde_urlencoded::to_string([
        ("$filter", filter.as_str()),
        ("api-version", ROLE_ASSIGNMENTS_API),
    ])
    .unwrap_or_default();
    let resource = format!("the role assignments at {scope}");
    let mut path = format!(
        "{}/providers/Microsoft.Authorization/roleAssignments?{query}",
        scope.trim_end_matches('/')
    );
    let mut found = Vec::new();
    loop {
        let page: Page = arm.get_json(&path, &resource).await?;
        found.extend(page.value.into_iter().map(|r| RoleAssignment {
            id: r.id,
            scope: r.properties.scope,
            role_definition_id: r.properties.role_definition_id,
            principal_id: r.properties.principal_id,
            description: r.properties.description,
        }));
        match page.next_link.filter(|l| !l.is_empty()) {
            Some(next) => path = arm.same_host_path(&next, &resource)?,
            None => return Ok(found),
        }
    }
}

/// Whether the role assignment with this id exists.
pub async fn assignment_exists(arm: &Arm, id: &str) -> Result<bool, AzureError> {
    let path = format!("{id}?api-version={ROLE_ASSIGNMENTS_API}");
    match arm
        .get_json::<serde_json::Value>(&path, &format!("role assignment {id}"))
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if e.is_not_found() => Ok(false),
        Err(e) => Err(e),
    }
}

/// PUT a role assignment for a service principal (`principalType` skips the
/// directory lookup that fails for a just-created identity). ARM answers 201
/// when it created it and 200 when it was there under this name (it writes
/// the same assignment again, as a redeployed template does). `description`
/// marks who made it, so the maker can find it again.
pub fn create_role_assignment(
    id: &str,
    role_definition_id: &str,
    principal_id: &str,
    description: &str,
) -> super::request::Request {
    super::request::Request::new(
        super::request::Method::Put,
        format!("{id}?api-version={ROLE_ASSIGNMENTS_API}"),
        Some(serde_json::json!({"properties": {
            "roleDefinitionId": role_definition_id,
            "principalId": principal_id,
            "principalType": "ServicePrincipal",
            "description": description
        }})),
        format!("role assignment {id}"),
    )
}

/// DELETE one role assignment (200 with it, or 204 when it was already gone).
pub fn delete_role_assignment(id: &str) -> super::request::Request {
    super::request::Request::new(
        super::request::Method::Delete,
        format!("{id}?api-version={ROLE_ASSIGNMENTS_API}"),
        None,
        format!("role assignment {id}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_definition_is_read_tolerantly() {
        let answer = serde_json::json!({"properties": {
        "roleName": "kv wrap", "type": "CustomRole", "assignableScopes": ["/subscriptions/s"],
        "permissions": [
            {"actions": [], "dataActions": ["Microsoft.KeyVault/vaults/keys/*"],
             "notDataActions": ["Microsoft.KeyVault/vaults/keys/unwrap/action"], "condition": null},
            {"dataActions": ["Microsoft.KeyVault/vaults/keys/unwrap/action", 7]}
        ]}});
        let d = role_definition_from_json("/providers/x/roleDefinitions/g", &answer);
        assert_eq!(
            (d.role_name.as_str(), d.role_type.as_str()),
            ("kv wrap", "CustomRole")
        );
        assert_eq!(d.permissions.len(), 2);
        assert_eq!(d.permissions[0].not_data_actions.len(), 1);
        assert!(d.permissions[1].not_actions.is_empty());
        assert_eq!(d.permissions[1].data_actions.len(), 1);
        let empty = role_definition_from_json("i", &serde_json::json!({}));
        assert!(empty.permissions.is_empty());
    }
}
