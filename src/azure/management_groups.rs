//! Management groups and where they send their activity log: the groups the
//! credential can read (`ManagementGroups_List`, 2023-04-01, every page; the
//! spec names the link `@nextLink`, and `nextLink` is followed as well) and
//! each group's diagnostic settings (2020-01-01-preview, read as
//! subscription settings are, `monitor.rs`).

use super::monitor::{settings_at, DiagnosticSetting};
use super::{Arm, AzureError};
use serde::Deserialize;

pub const API: &str = "2023-04-01";
pub const DIAGNOSTIC_SETTINGS_API: &str = "2020-01-01-preview";

/// A management group as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagementGroup {
    /// The group id (its `name` in ARM), e.g. `contoso-platform`.
    pub id: String,
    pub display_name: String,
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    value: Vec<RawGroup>,
    #[serde(rename = "@nextLink")]
    at_next_link: Option<String>,
    #[serde(rename = "nextLink")]
    next_link: Option<String>,
}

#[derive(Deserialize)]
struct RawGroup {
    name: String,
    #[serde(default)]
    properties: RawProperties,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawProperties {
    display_name: Option<String>,
}

/// Every management group the credential can read, page after page. A
/// tenant without a hierarchy answers an empty list.
pub async fn list(arm: &Arm) -> Result<Vec<ManagementGroup>, AzureError> {
    let resource = "the management groups";
    let mut path = format!("/providers/Microsoft.Management/managementGroups?api-version={API}");
    let mut all = Vec::new();
    loop {
        let page: Page = arm.get_json(&path, resource).await?;
        all.extend(page.value.into_iter().map(|g| ManagementGroup {
            display_name: g.properties.display_name.unwrap_or_else(|| g.name.clone()),
            id: g.name,
        }));
        match page
            .at_next_link
            .or(page.next_link)
            .filter(|l| !l.is_empty())
        {
            Some(next) => path = arm.same_host_path(&next, resource)?,
            None => return Ok(all),
        }
    }
}

/// The diagnostic settings of management group `group_id`.
pub async fn diagnostic_settings(
    arm: &Arm,
    group_id: &str,
) -> Result<Vec<DiagnosticSetting>, AzureError> {
    settings_at(
        arm,
        format!("/providers/Microsoft.Management/managementGroups/{group_id}/providers/Microsoft.Insights/diagnosticSettings?api-version={DIAGNOSTIC_SETTINGS_API}"),
        &format!("the diagnostic settings of management group {group_id}"),
    )
    .await
}

/// Azure's rule for a group id: 1 to 90 letters, digits, `-`, `_`, `(`,
/// `)` and `.`, not ending in a period. Checked before an id goes into a
/// path. A full id (`/providers/Microsoft.Management/managementGroups/x`)
/// gives its last segment.
pub fn parse_group_id(text: &str) -> Result<String, String> {
    let prefix = "/providers/microsoft.management/managementgroups/";
    let id = if text.to_ascii_lowercase().starts_with(prefix) {
        &text[prefix.len()..]
    } else {
        text
    };
    let valid = (1..=90).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_().".contains(c))
        && !id.ends_with('.');
    if valid {
        Ok(id.to_string())
    } else {
        Err(format!("'{text}' is not a management group id: use the group's id (1 to 90 letters, digits, -, _, (, ) and ., not ending in a period), as `az account management-group list` shows it"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure::fake::{CountingCredential, ScriptedArm};
    use std::sync::Arc;

    #[tokio::test]
    async fn groups_are_read_to_the_last_page_by_either_link_name() {
        let http = Arc::new(ScriptedArm::new(vec![
            (200, r#"{"value":[{"name":"root","properties":{"displayName":"Tenant Root Group"}}],"@nextLink":"https://127.0.0.1:1/providers/Microsoft.Management/managementGroups?api-version=2023-04-01&$skiptoken=1"}"#.to_string()),
            (200, r#"{"value":[{"name":"platform"}],"nextLink":"https://127.0.0.1:1/providers/Microsoft.Management/managementGroups?api-version=2023-04-01&$skiptoken=2"}"#.to_string()),
            (200, r#"{"value":[]}"#.to_string()),
        ]));
        let arm = Arm::over(http.clone(), Arc::new(CountingCredential::default()));
        let groups = list(&arm).await.unwrap();
        assert_eq!(
            groups,
            [
                ManagementGroup {
                    id: "root".into(),
                    display_name: "Tenant Root Group".into()
                },
                ManagementGroup {
                    id: "platform".into(),
                    display_name: "platform".into()
                }
            ]
        );
        assert_eq!(http.paths().len(), 3);
        assert!(http.paths()[2].ends_with("$skiptoken=2"));
    }

    #[test]
    fn group_ids_are_checked_before_they_reach_a_path() {
        assert_eq!(
            parse_group_id("contoso-platform").unwrap(),
            "contoso-platform"
        );
        assert_eq!(
            parse_group_id("/providers/Microsoft.Management/managementGroups/mg(1)").unwrap(),
            "mg(1)"
        );
        for bad in ["", "a/b", "x?y", "ends.", "../x"] {
            assert!(parse_group_id(bad).is_err(), "{bad}");
        }
    }
}
