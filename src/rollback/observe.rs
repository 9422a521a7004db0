//! How rollback recognises the tool's work: by the tags on everything apply
//! creates (`managed-by: actlog-cmk`, `actlog-cmk-account: <account id>`).
//! The identity and the vault apply creates live in the account's resource
//! group, so ARM's resource index of that group (`Resources_List`, which
//! carries tags) finds them even after a rollback took the identity off;
//! the key's tags come from the key itself.
//!
//! ARM's index lags a create by seconds to minutes, so right after `apply`
//! the identity it attached may not be listed yet: an identity attached to
//! the account, in its resource group and missing from the list, is read by
//! id and judged by its own tags. That read happens only under lag (or for
//! an identity deleted while attached); a listed identity costs nothing.

use crate::azure::authorization::{self, RoleAssignment};
use crate::azure::id::{ResourceId, StorageAccountId};
use crate::azure::storage::StorageAccount;
use crate::azure::{keyvault, msi, resources, Arm, AzureError};
use crate::plan::ownership::grant_made_for;
pub use crate::plan::ownership::made_for;
use std::collections::BTreeMap;

pub const IDENTITY_TYPE: &str = "Microsoft.ManagedIdentity/userAssignedIdentities";
pub const VAULT_TYPE: &str = "Microsoft.KeyVault/vaults";

/// The identities and vaults the tool created for an account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolResources {
    pub identities: Vec<String>,
    pub vaults: Vec<String>,
}

impl ToolResources {
    pub fn is_empty(&self) -> bool {
        self.identities.is_empty() && self.vaults.is_empty()
    }

    pub fn has_identity(&self, id: &str) -> bool {
        self.identities.iter().any(|i| i.eq_ignore_ascii_case(id))
    }
}

/// The tool's identities and vaults in the account's resource group,
/// including identities attached to `account` that the index does not list
/// yet.
pub async fn tool_resources(
    arm: &Arm,
    account: &StorageAccount,
) -> Result<ToolResources, AzureError> {
    let id = &account.id;
    let mut found = ToolResources::default();
    let listed =
        resources::list_in_resource_group(arm, id.subscription_id(), id.resource_group()).await?;
    let mut seen = Vec::new();
    for item in listed {
        let Ok(rid) = ResourceId::parse(&item.id) else {
            continue;
        };
        seen.push(rid.key());
        if !made_for(&item.tags, id) {
            continue;
        }
        if rid.is_type(IDENTITY_TYPE) {
            found.identities.push(rid.to_string());
        } else if rid.is_type(VAULT_TYPE) {
            found.vaults.push(rid.to_string());
        }
    }
    for unlisted in unlisted_attached(account, &seen) {
        if let Some(identity) = tool_identity_by_id(arm, &unlisted, id).await {
            found.identities.push(identity);
        }
    }
    found.identities.sort();
    found.vaults.sort();
    Ok(found)
}

/// The account's user-assigned identities in its own resource group (where
/// apply creates the tool's) that the group's list does not show.
fn unlisted_attached(account: &StorageAccount, listed: &[String]) -> Vec<ResourceId> {
    account
        .user_assigned
        .iter()
        .filter_map(|u| ResourceId::parse(&u.id).ok())
        .filter(|rid| rid.is_type(IDENTITY_TYPE))
        .filter(|rid| {
            rid.subscription_id
                .eq_ignore_ascii_case(account.id.subscription_id())
                && rid
                    .resource_group
                    .eq_ignore_ascii_case(account.id.resource_group())
        })
        .filter(|rid| !listed.contains(&rid.key()))
        .collect()
}

/// The identity's id when a read by id finds it tagged as the tool's for
/// `account`; `None` when it is someone else's, no longer exists, or cannot
/// be read: an identity not known to be the tool's stays on the account.
async fn tool_identity_by_id(
    arm: &Arm,
    rid: &ResourceId,
    account: &StorageAccountId,
) -> Option<String> {
    match msi::get_identity(arm, rid).await {
        Ok(identity) => made_for(&identity.tags, account).then(|| rid.to_string()),
        Err(e) => {
            if !e.is_not_found() {
                tracing::debug!(error = %e, "an attached identity not listed is kept unread");
            }
            None
        }
    }
}

/// The role assignments at or below `vaults` that the tool created for the
/// account (marked by their description), held by any identity the account
/// has now: a repair grants the account's own identity, which carries no
/// tag of the tool's, so only the description tells its grant apart.
pub async fn marked_role_assignments(
    arm: &Arm,
    account: &StorageAccount,
    vaults: &[String],
) -> Result<Vec<RoleAssignment>, AzureError> {
    let mut principals: Vec<&str> = account
        .user_assigned
        .iter()
        .filter_map(|u| u.principal_id.as_deref())
        .chain(account.system_principal_id.as_deref())
        .collect();
    principals.sort_unstable();
    principals.dedup();
    let mut found: Vec<RoleAssignment> = Vec::new();
    for vault in vaults {
        for principal in &principals {
            for a in authorization::assignments_for_principal(arm, vault, principal).await? {
                let new = !found.iter().any(|f| f.id.eq_ignore_ascii_case(&a.id));
                if new
                    && is_within(&a.scope, vault)
                    && grant_made_for(a.description.as_deref(), &account.id)
                {
                    found.push(a);
                }
            }
        }
    }
    Ok(found)
}

/// True when `child` is `scope` or below it.
pub fn is_within(child: &str, scope: &str) -> bool {
    let child = child.trim_end_matches('/').to_ascii_lowercase();
    let scope = scope.trim_end_matches('/').to_ascii_lowercase();
    child == scope
        || (child.starts_with(&scope) && child.as_bytes().get(scope.len()) == Some(&b'/'))
}

/// What rollback needs to know about a key: who made it, and whether it works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFacts {
    pub tags: BTreeMap<String, String>,
    pub enabled: bool,
}

/// The key's tags and whether it is enabled; `None` when it does not exist.
pub async fn key_facts(
    arm: &Arm,
    vault_id: &str,
    name: &str,
) -> Result<Option<KeyFacts>, AzureError> {
    let vault = ResourceId::parse(vault_id)?;
    match keyvault::get_key(arm, &vault, name, None).await {
        Ok(key) => Ok(Some(KeyFacts {
            tags: key.tags,
            enabled: key.enabled,
        })),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/RG-App/providers/Microsoft.Storage/storageAccounts/stlogs";

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn only_attached_identities_of_the_accounts_group_missing_from_the_list_are_read() {
        let identity = |rg: &str, name: &str| {
            format!("/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}")
        };
        let attached = [
            identity("RG-App", "id-listed"),
            identity("rg-app", "id-new"),
            identity("rg-shared", "id-elsewhere"),
        ];
        let account = StorageAccount {
            id: StorageAccountId::parse(ACCOUNT).unwrap(),
            location: "westeurope".into(),
            key_source: "Microsoft.Keyvault".into(),
            key_vault_uri: None,
            key_name: None,
            key_version: None,
            encryption_identity: None,
            identity_type: "UserAssigned".into(),
            system_principal_id: None,
            user_assigned: attached
                .iter()
                .map(|id| crate::azure::storage::UserAssignedIdentity {
                    id: id.clone(),
                    principal_id: None,
                })
                .collect(),
            tags: BTreeMap::new(),
        };
        let listed = vec![attached[0].to_ascii_lowercase()];
        let read: Vec<String> = unlisted_attached(&account, &listed)
            .iter()
            .map(|r| r.to_string())
            .collect();
        assert_eq!(read, vec![attached[1].clone()]);
    }

    #[test]
    fn only_both_tags_for_this_account_count() {
        let account = StorageAccountId::parse(ACCOUNT).unwrap();
        let key = account.id().key();
        assert!(made_for(
            &tags(&[("managed-by", "actlog-cmk"), ("actlog-cmk-account", &key)]),
            &account
        ));
        // Ids are compared without case, as Azure does.
        assert!(made_for(
            &tags(&[
                ("managed-by", "actlog-cmk"),
                ("actlog-cmk-account", &ACCOUNT.to_uppercase())
            ]),
            &account
        ));
        assert!(!made_for(&tags(&[("managed-by", "actlog-cmk")]), &account));
        assert!(!made_for(&tags(&[("actlog-cmk-account", &key)]), &account));
        assert!(!made_for(
            &tags(&[
                ("managed-by", "actlog-cmk"),
                ("actlog-cmk-account", &key.replace("stlogs", "stother"))
            ]),
            &account
        ));
        assert!(!made_for(
            &tags(&[("managed-by", "terraform"), ("actlog-cmk-account", &key)]),
            &account
        ));
        assert!(!made_for(&BTreeMap::new(), &account));
    }
}
