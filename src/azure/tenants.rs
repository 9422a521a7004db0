//! The tenants the credential is in (`GET /tenants`, every page), for
//! `--all-tenants`. ARM lists them whichever tenant the token is of.

use super::{Arm, AzureError};
use serde::Deserialize;

pub const API: &str = "2022-12-01";

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Tenant {
    pub tenant_id: String,
    #[serde(default)]
    pub display_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    #[serde(default)]
    value: Vec<Tenant>,
    next_link: Option<String>,
}

/// Every tenant, following `nextLink` (on the endpoint's host only).
pub async fn list(arm: &Arm) -> Result<Vec<Tenant>, AzureError> {
    let mut next = format!("/tenants?api-version={API}");
    let mut all = Vec::new();
    loop {
        let page: Page = arm.get_json(&next, "the tenant list").await?;
        all.extend(page.value);
        match page.next_link.filter(|l| !l.is_empty()) {
            None => return Ok(all),
            Some(link) => next = arm.same_host_path(&link, "the tenant list")?,
        }
    }
}
