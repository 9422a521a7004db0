//! The reads behind key access on an RBAC vault: the principal's role
//! assignments at the vault and the definitions of the roles that apply to
//! the key, each definition read once per run through the snapshot, at the
//! vault's subscription. What they grant is judged by `classify` (pure).

use super::lookup_optional;
use crate::audit::classify::{applies_to_key, AssignedRole, Lookup, ROLE_DEFINITIONS_READ};
use crate::azure::keyvault::KeyVault;
use crate::azure::{Arm, AzureError, Snapshot};

/// Where a role's definition is read: at the vault's subscription, whatever
/// form the assignment's `roleDefinitionId` takes (the tenant root, a
/// management group, another subscription). ARM answers a definition at any
/// scope where it can be assigned, and the vault's subscription is where the
/// audit's Reader role holds; the GUID names the role tenant-wide.
fn definition_path(vault: &KeyVault, role_definition_id: &str) -> String {
    format!(
        "{}/providers/Microsoft.Authorization/roleDefinitions/{}",
        subscription_scope(vault),
        role_guid(role_definition_id)
    )
}

/// `/subscriptions/{id}` of a vault (ids are parsed: the first two segments).
fn subscription_scope(vault: &KeyVault) -> String {
    vault
        .id
        .as_str()
        .split('/')
        .take(3)
        .collect::<Vec<_>>()
        .join("/")
}

fn role_guid(role_definition_id: &str) -> &str {
    role_definition_id
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
}

/// The role assignments of `principal` at the vault, each with the
/// definition of its role when the assignment applies to the key (the
/// others are not read). Definitions come through the snapshot, so a role
/// many accounts share is read once per run. Fails only when the list
/// itself cannot be read; a definition that cannot be read is kept as such.
pub async fn assigned_roles(
    arm: &Arm,
    snapshot: &Snapshot,
    vault: &KeyVault,
    key_name: &str,
    principal: &str,
) -> Result<Vec<AssignedRole>, AzureError> {
    let assignments = snapshot
        .assignments(arm, vault.id.as_str(), principal)
        .await?;
    let roles = assignments.into_iter().map(|assignment| async move {
        if !applies_to_key(vault, key_name, principal, &assignment) {
            return AssignedRole {
                assignment,
                definition: Lookup::NotChecked,
            };
        }
        let id = definition_path(vault, &assignment.role_definition_id);
        let definition = lookup_optional(
            snapshot.role_definition(arm, &id).await,
            &format!(
                "role definition {id} (of role assignment {})",
                assignment.id
            ),
            ROLE_DEFINITIONS_READ,
            &subscription_scope(vault),
        );
        AssignedRole {
            assignment,
            definition,
        }
    });
    Ok(futures::future::join_all(roles).await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure::id::ResourceId;

    #[test]
    fn a_definition_is_read_at_the_vault_subscription_whatever_form_its_id_takes() {
        let vault = KeyVault {
            id: ResourceId::parse("/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv").unwrap(),
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
        };
        let want = "/subscriptions/11111111-1111-1111-1111-111111111111/providers/Microsoft.Authorization/roleDefinitions/g1";
        for id in [
            "/providers/Microsoft.Authorization/roleDefinitions/g1",
            "/subscriptions/s2/providers/Microsoft.Authorization/roleDefinitions/g1",
            "/providers/Microsoft.Management/managementGroups/mg/providers/Microsoft.Authorization/roleDefinitions/g1/",
        ] {
            assert_eq!(definition_path(&vault, id), want);
        }
    }
}
