//! Where a subscription sends its activity log: subscription diagnostic
//! settings (2021-05-01-preview) and legacy log profiles (2016-03-01).
//! azure_mgmt_monitor 0.21 has these only in a tag that does not compile
//! (AZURE_NOTES §4), so they go through the shared pipeline with small models.
//! Both lists are one page today, but a `nextLink` is followed when Azure
//! sends one, as for every list the tool reads.

use super::{Arm, AzureError};
use serde::Deserialize;

pub const DIAGNOSTIC_SETTINGS_API: &str = "2021-05-01-preview";
pub const LOG_PROFILES_API: &str = "2016-03-01";

#[derive(Debug, Clone, PartialEq)]
pub struct DiagnosticSetting {
    pub name: String,
    pub storage_account_id: Option<String>,
    /// Categories (or category groups) with `enabled: true`.
    pub enabled_categories: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogProfile {
    pub name: String,
    pub storage_account_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
#[serde(rename_all = "camelCase")]
struct List<T> {
    #[serde(default = "Vec::new")]
    value: Vec<T>,
    next_link: Option<String>,
}

/// Every item of a list, page after page.
async fn every_page<T: serde::de::DeserializeOwned>(
    arm: &Arm,
    first: String,
    resource: &str,
) -> Result<Vec<T>, AzureError> {
    let mut path = first;
    let mut all = Vec::new();
    loop {
        let page: List<T> = arm.get_json(&path, resource).await?;
        all.extend(page.value);
        match page.next_link.filter(|l| !l.is_empty()) {
            Some(next) => path = arm.same_host_path(&next, resource)?,
            None => return Ok(all),
        }
    }
}

#[derive(Deserialize)]
struct RawSetting {
    name: String,
    #[serde(default)]
    properties: RawSettingProperties,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawSettingProperties {
    storage_account_id: Option<String>,
    #[serde(default)]
    logs: Vec<RawLog>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLog {
    category: Option<String>,
    category_group: Option<String>,
    #[serde(default)]
    enabled: bool,
}

#[derive(Deserialize)]
struct RawProfile {
    name: String,
    #[serde(default)]
    properties: RawProfileProperties,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawProfileProperties {
    storage_account_id: Option<String>,
}

pub async fn diagnostic_settings(
    arm: &Arm,
    subscription_id: &str,
) -> Result<Vec<DiagnosticSetting>, AzureError> {
    let path = format!(
        "/subscriptions/{subscription_id}/providers/Microsoft.Insights/diagnosticSettings?api-version={DIAGNOSTIC_SETTINGS_API}"
    );
    settings_at(
        arm,
        path,
        &format!("the diagnostic settings of subscription {subscription_id}"),
    )
    .await
}

/// The diagnostic settings listed at `path` (any scope's list), every page.
pub(super) async fn settings_at(
    arm: &Arm,
    path: String,
    resource: &str,
) -> Result<Vec<DiagnosticSetting>, AzureError> {
    let settings: Vec<RawSetting> = every_page(arm, path, resource).await?;
    Ok(settings
        .into_iter()
        .map(|s| DiagnosticSetting {
            name: s.name,
            storage_account_id: s.properties.storage_account_id.filter(|id| !id.is_empty()),
            enabled_categories: s
                .properties
                .logs
                .into_iter()
                .filter(|l| l.enabled)
                .filter_map(|l| l.category.or(l.category_group))
                .collect(),
        })
        .collect())
}

pub async fn log_profiles(arm: &Arm, subscription_id: &str) -> Result<Vec<LogProfile>, AzureError> {
    let path = format!("/subscriptions/{subscription_id}/providers/Microsoft.Insights/logprofiles?api-version={LOG_PROFILES_API}");
    let profiles: Vec<RawProfile> = every_page(
        arm,
        path,
        &format!("the log profiles of subscription {subscription_id}"),
    )
    .await?;
    Ok(profiles
        .into_iter()
        .map(|p| LogProfile {
            name: p.name,
            storage_account_id: p.properties.storage_account_id.filter(|id| !id.is_empty()),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure::fake::{CountingCredential, ScriptedArm};
    use std::sync::Arc;

    const SUB: &str = "11111111-1111-1111-1111-111111111111";

    #[tokio::test]
    async fn settings_and_profiles_are_read_to_the_last_page() {
        let next = |n: u8| {
            format!(
                r#""nextLink":"https://127.0.0.1:1/subscriptions/{SUB}/providers/Microsoft.Insights/x?api-version=1&$skiptoken={n}""#
            )
        };
        let http = Arc::new(ScriptedArm::new(vec![
            (200, format!(r#"{{"value":[{{"name":"a","properties":{{"storageAccountId":"/s/a","logs":[{{"category":"Administrative","enabled":true}}]}}}}],{}}}"#, next(1))),
            (200, format!(r#"{{"value":[],{}}}"#, next(2))),
            (200, r#"{"value":[{"name":"b","properties":{"storageAccountId":"/s/b"}}]}"#.to_string()),
            (200, format!(r#"{{"value":[],{}}}"#, next(3))),
            (200, r#"{"value":[{"name":"default","properties":{"storageAccountId":"/s/p"}}],"nextLink":null}"#.to_string()),
        ]));
        let arm = Arm::over(http.clone(), Arc::new(CountingCredential::default()));
        let settings = diagnostic_settings(&arm, SUB).await.unwrap();
        let names: Vec<_> = settings.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        let profiles = log_profiles(&arm, SUB).await.unwrap();
        assert_eq!(profiles[0].storage_account_id.as_deref(), Some("/s/p"));
        assert_eq!(http.paths().len(), 5);
        assert!(http.paths()[2].ends_with("$skiptoken=2"));
    }

    #[tokio::test]
    async fn a_next_link_to_another_host_is_not_followed() {
        let http = Arc::new(ScriptedArm::new(vec![(
            200,
            r#"{"value":[],"nextLink":"https://collector.example.com/steal?x=1"}"#,
        )]));
        let arm = Arm::over(http.clone(), Arc::new(CountingCredential::default()));
        let refused = diagnostic_settings(&arm, SUB).await.unwrap_err();
        assert!(refused.to_string().contains("another host"), "{refused}");
        assert_eq!(http.paths().len(), 1);
    }
}
