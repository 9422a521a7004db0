//! How rollback recognises the tool's work: by the tags on everything apply
//! creates (`managed-by: actlog-cmk`, `actlog-cmk-account: <account id>`).
//! The identity and the vault apply creates live in the account's resource
//! group, so ARM's resource index of that group (`Resources_List`, which
//! carries tags) finds them even after a rollback took the identity off;
//! the key's tags come from the key itself.

use crate::azure::id::{ResourceId, StorageAccountId};
use crate::azure::{keyvault, resources, Arm, AzureError};
use crate::plan::build::{TAG_ACCOUNT, TAG_MANAGED_BY, TAG_MANAGED_BY_VALUE};
use std::collections::BTreeMap;

pub const IDENTITY_TYPE: &str = "Microsoft.ManagedIdentity/userAssignedIdentities";
pub const VAULT_TYPE: &str = "Microsoft.KeyVault/vaults";

/// True when `tags` say the tool created the resource for `account`.
pub fn made_for(tags: &BTreeMap<String, String>, account: &StorageAccountId) -> bool {
    let tag = |name: &str| {
        tags.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    tag(TAG_MANAGED_BY).is_some_and(|v| v.eq_ignore_ascii_case(TAG_MANAGED_BY_VALUE))
        && tag(TAG_ACCOUNT).is_some_and(|v| v.eq_ignore_ascii_case(&account.id().key()))
}

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

/// The tool's identities and vaults in the account's resource group.
pub async fn tool_resources(
    arm: &Arm,
    account: &StorageAccountId,
) -> Result<ToolResources, AzureError> {
    let mut found = ToolResources::default();
    let listed =
        resources::list_in_resource_group(arm, account.subscription_id(), account.resource_group())
            .await?;
    for item in listed {
        if !made_for(&item.tags, account) {
            continue;
        }
        let Ok(id) = ResourceId::parse(&item.id) else {
            continue;
        };
        if id.is_type(IDENTITY_TYPE) {
            found.identities.push(id.to_string());
        } else if id.is_type(VAULT_TYPE) {
            found.vaults.push(id.to_string());
        }
    }
    found.identities.sort();
    found.vaults.sort();
    Ok(found)
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
