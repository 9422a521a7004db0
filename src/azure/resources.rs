//! Finding a resource by type and name in a subscription (`Resources_List`,
//! Microsoft.Resources 2024-03-01), e.g. the vault behind a `keyvaulturi`.
//!
//! Every list reads every page: ARM's index may page before it filters, so a
//! filtered page can be empty or short and still carry a `nextLink`
//! (projectkudu/AzureResourceExplorer#254 and #255: empty `value` arrays with
//! a `nextLink` when ARM filters late). A `nextLink` to another host is refused
//! (`Arm::same_host_path`). The index also lags creates by seconds to minutes:
//! callers that must not miss a resource they know the id of read it by id.

use super::id::ResourceId;
use super::{Arm, AzureError};
use serde::Deserialize;
use std::collections::BTreeMap;

pub const API: &str = "2024-03-01";

/// The id of the resource of `resource_type` named `name` in the subscription,
/// if there is one. Names in the filter are compared case-insensitively by ARM.
pub async fn find_by_name(
    arm: &Arm,
    subscription_id: &str,
    resource_type: &str,
    name: &str,
) -> Result<Option<ResourceId>, AzureError> {
    let filter = format!(
        "resourceType eq '{resource_type}' and name eq '{}'",
        name.replace('\'', "''")
    );
    let resource = format!("the {resource_type} named {name} in subscription {subscription_id}");
    let listed = list(arm, subscription_id, &filter, &resource).await?;
    listed
        .into_iter()
        .map(|item| ResourceId::parse(&item.id).map_err(AzureError::from))
        .find(|id| {
            id.as_ref().map_or(true, |id| {
                id.is_type(resource_type) && id.name().eq_ignore_ascii_case(name)
            })
        })
        .transpose()
}

/// A resource as ARM's index lists it: its id and tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedResource {
    pub id: String,
    pub tags: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TaggedPage {
    #[serde(default)]
    value: Vec<TaggedItem>,
    next_link: Option<String>,
}

#[derive(Deserialize)]
struct TaggedItem {
    id: String,
    #[serde(default)]
    tags: Option<serde_json::Value>,
}

/// Every resource in a resource group, with its tags (all pages).
pub async fn list_in_resource_group(
    arm: &Arm,
    subscription_id: &str,
    resource_group: &str,
) -> Result<Vec<TaggedResource>, AzureError> {
    let filter = format!("resourceGroup eq '{}'", resource_group.replace('\'', "''"));
    let resource = format!(
        "the resources of resource group {resource_group} in subscription {subscription_id}"
    );
    list(arm, subscription_id, &filter, &resource).await
}

/// The resources of one type in a resource group, with their tags (all pages).
pub async fn list_of_type_in_resource_group(
    arm: &Arm,
    subscription_id: &str,
    resource_group: &str,
    resource_type: &str,
) -> Result<Vec<TaggedResource>, AzureError> {
    let filter = format!(
        "resourceType eq '{resource_type}' and resourceGroup eq '{}'",
        resource_group.replace('\'', "''")
    );
    let resource = format!(
        "the {resource_type} of resource group {resource_group} in subscription {subscription_id}"
    );
    list(arm, subscription_id, &filter, &resource).await
}

async fn list(
    arm: &Arm,
    subscription_id: &str,
    filter: &str,
    resource: &str,
) -> Result<Vec<TaggedResource>, AzureError> {
    let query = serde_urlencoded::to_string([("$filter", filter), ("api-version", API)])
        .unwrap_or_default();
    let mut path = format!("/subscriptions/{subscription_id}/resources?{query}");
    let mut found = Vec::new();
    loop {
        let page: TaggedPage = arm.get_json(&path, resource).await?;
        found.extend(page.value.into_iter().map(|item| TaggedResource {
            id: item.id,
            tags: super::answer::tags(item.tags.as_ref()),
        }));
        match page.next_link.filter(|l| !l.is_empty()) {
            Some(next) => path = arm.same_host_path(&next, resource)?,
            None => return Ok(found),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure::fake::{CountingCredential, ScriptedArm};
    use std::sync::Arc;

    const SUB: &str = "11111111-1111-1111-1111-111111111111";

    #[tokio::test]
    async fn a_name_is_found_after_empty_filtered_pages() {
        let link = |n: u8| {
            format!(
                r#"{{"value":[],"nextLink":"https://127.0.0.1:1/subscriptions/{SUB}/resources?api-version={API}&$skiptoken={n}"}}"#
            )
        };
        let vault = format!("/subscriptions/{SUB}/resourceGroups/rg-keys/providers/Microsoft.KeyVault/vaults/kv-central");
        let http = Arc::new(ScriptedArm::new(vec![
            (200, link(1)),
            (200, link(2)),
            (
                200,
                format!(
                    r#"{{"value":[{{"id":"{vault}","name":"kv-central","type":"Microsoft.KeyVault/vaults"}}]}}"#
                ),
            ),
        ]));
        let arm = Arm::over(http.clone(), Arc::new(CountingCredential::default()));
        let found = find_by_name(&arm, SUB, "Microsoft.KeyVault/vaults", "KV-Central")
            .await
            .unwrap();
        assert_eq!(found.map(|id| id.to_string()), Some(vault));
        assert_eq!(http.paths().len(), 3);
        assert!(http.paths()[0].contains("%24filter=resourceType+eq"));
    }
}
