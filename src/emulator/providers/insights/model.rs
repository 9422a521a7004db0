//! What Azure Monitor holds per subscription (diagnostic settings and log
//! profiles, keyed by subscription and name) and per management group
//! (diagnostic settings, keyed by group and name), and the rules they share:
//! names, optional ids, and the storage account id a destination must be.

use super::diagnostic_settings::DiagnosticSetting;
use super::log_profiles::LogProfile;
use super::management_group_settings::ManagementGroupSetting;
use crate::emulator::error::ArmError;
use crate::emulator::providers::common::is_guid;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Model {
    /// By `{subscription}/{name}`, lower case.
    pub(super) diagnostic_settings: BTreeMap<String, DiagnosticSetting>,
    /// By `{subscription}/{name}`, lower case.
    pub(super) log_profiles: BTreeMap<String, LogProfile>,
    /// By `{management group}/{name}`, lower case.
    pub(super) management_group_settings: BTreeMap<String, ManagementGroupSetting>,
}

pub(super) fn entry_key(subscription: &str, name: &str) -> String {
    format!("{subscription}/{name}").to_ascii_lowercase()
}

/// The entries of one subscription (or management group): keys start with its id.
fn in_subscription<'a, T>(
    map: &'a BTreeMap<String, T>,
    subscription: &str,
) -> impl Iterator<Item = &'a T> {
    let prefix = format!("{}/", subscription.to_ascii_lowercase());
    map.range(prefix.clone()..)
        .take_while(move |(k, _)| k.starts_with(&prefix))
        .map(|(_, v)| v)
}

impl Model {
    /// The subscription's diagnostic settings, in name order.
    pub fn diagnostic_settings(&self, subscription: &str) -> Vec<&DiagnosticSetting> {
        in_subscription(&self.diagnostic_settings, subscription).collect()
    }

    /// The management group's diagnostic settings, in name order.
    pub fn management_group_settings(&self, group: &str) -> Vec<&ManagementGroupSetting> {
        in_subscription(&self.management_group_settings, group).collect()
    }

    /// The subscription's log profiles (at most one, as in Azure).
    pub fn log_profiles(&self, subscription: &str) -> Vec<&LogProfile> {
        in_subscription(&self.log_profiles, subscription).collect()
    }
}

/// ARM's check of a linked resource id in a request property: it must be a
/// well-formed storage account id.
pub(super) fn check_storage_account_id(id: &str, path: &str) -> Result<(), ArmError> {
    let segments: Vec<&str> = id.split('/').collect();
    let well_formed = match segments.as_slice() {
        ["", subs, sub, groups, rg, providers, namespace, kind, name] => {
            subs.eq_ignore_ascii_case("subscriptions")
                && is_guid(sub)
                && groups.eq_ignore_ascii_case("resourceGroups")
                && !rg.is_empty()
                && providers.eq_ignore_ascii_case("providers")
                && namespace.eq_ignore_ascii_case("Microsoft.Storage")
                && kind.eq_ignore_ascii_case("storageAccounts")
                && (3..=24).contains(&name.len())
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        }
        _ => false,
    };
    if well_formed {
        return Ok(());
    }
    Err(ArmError::bad_request(
        "LinkedInvalidPropertyId",
        format!("Property id '{id}' at path '{path}' is invalid. Expect fully qualified resource Id that start with '/subscriptions/{{subscriptionId}}' or '/providers/{{resourceProviderNamespace}}/'. Expected a storage account resource id."),
    ))
}

/// Names Azure refuses: empty, over 260 characters, or with URL-reserved characters.
pub(super) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 260
        && !name.contains(['/', '\\', '?', '#', '%', '&', '<', '>', '*', ':', '+'])
}

/// An optional resource id property: an empty string counts as absent (as spec examples send it).
pub(super) fn optional_id(
    props: &Map<String, Value>,
    name: &str,
) -> Result<Option<String>, ArmError> {
    match props.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ArmError::invalid_request_content(format!(
            "properties.{name} must be a string"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_account_ids_must_be_well_formed() {
        let ok = "/subscriptions/11111111-1111-1111-1111-111111111111/resourcegroups/rg/providers/microsoft.storage/storageAccounts/logs01";
        assert!(check_storage_account_id(ok, "p").is_ok());
        for bad in [
            "logs01",
            "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/logs01",
            "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/logs01",
            "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/Logs_01",
            "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/logs01/blobServices/default",
        ] {
            assert_eq!(
                check_storage_account_id(bad, "p").unwrap_err().code,
                "LinkedInvalidPropertyId",
                "{bad}"
            );
        }
    }

    #[test]
    fn listing_is_per_subscription() {
        let mut model = Model::default();
        for (sub, name) in [("a", "x"), ("ab", "y"), ("a", "z")] {
            model.log_profiles.insert(
                entry_key(sub, name),
                LogProfile {
                    subscription_id: sub.into(),
                    name: name.into(),
                    location: None,
                    tags: None,
                    storage_account_id: None,
                    service_bus_rule_id: None,
                    locations: vec![],
                    categories: vec![],
                    retention_enabled: false,
                    retention_days: 0,
                },
            );
        }
        let names: Vec<&str> = model
            .log_profiles("A")
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        assert_eq!(names, ["x", "z"]);
    }
}
