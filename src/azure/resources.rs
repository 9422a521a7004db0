//! Finding a resource by type and name in a subscription (`Resources_List`,
//! Microsoft.Resources 2024-03-01), e.g. the vault behind a `keyvaulturi`.

use super::id::ResourceId;
use super::{Arm, AzureError};
use serde::Deserialize;

pub const API: &str = "2024-03-01";

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    value: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    id: String,
}

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
    let query = serde_urlencoded::to_string([("$filter", filter.as_str()), ("api-version", API)])
        .unwrap_or_default();
    let resource = format!("the {resource_type} named {name} in subscription {subscription_id}");
    let page: Page = arm
        .get_json(
            &format!("/subscriptions/{subscription_id}/resources?{query}"),
            &resource,
        )
        .await?;
    page.value
        .into_iter()
        .map(|item| ResourceId::parse(&item.id).map_err(AzureError::from))
        .find(|id| {
            id.as_ref().map_or(true, |id| {
                id.is_type(resource_type) && id.name().eq_ignore_ascii_case(name)
            })
        })
        .transpose()
}
