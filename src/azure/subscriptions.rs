//! Subscriptions the credential can see (`GET /subscriptions`, every page).
//! Sent through the shared pipeline: azure_mgmt_resources 0.21 fails on the
//! last page, which has no `nextLink` (AZURE_NOTES §4).

use super::{Arm, AzureError};
use serde::Deserialize;

pub const API: &str = "2022-12-01";

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub subscription_id: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub tenant_id: String,
}

/// One subscription (its tenant, for the vaults the tool creates there).
pub async fn get(arm: &Arm, subscription_id: &str) -> Result<Subscription, AzureError> {
    arm.get_json(
        &format!("/subscriptions/{subscription_id}?api-version={API}"),
        &format!("subscription {subscription_id}"),
    )
    .await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    #[serde(default)]
    value: Vec<Subscription>,
    next_link: Option<String>,
}

/// Every subscription, following `nextLink` until the last page. A `nextLink`
/// to another host is refused: the token must not travel there.
pub async fn list(arm: &Arm) -> Result<(Vec<Subscription>, usize), AzureError> {
    let mut next = format!("/subscriptions?api-version={API}");
    let mut all = Vec::new();
    let mut pages = 0;
    loop {
        let page: Page = arm.get_json(&next, "the subscription list").await?;
        pages += 1;
        all.extend(page.value);
        match page.next_link.filter(|l| !l.is_empty()) {
            None => return Ok((all, pages)),
            Some(link) => next = arm.same_host_path(&link, "the subscription list")?,
        }
    }
}
