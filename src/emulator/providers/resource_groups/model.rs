//! The resource groups of each subscription and ARM's naming rule for them.

use crate::emulator::providers::common::key;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ResourceGroup {
    pub subscription_id: String,
    pub name: String,
    pub location: String,
    pub tags: Option<Map<String, Value>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Model {
    pub(super) by_id: BTreeMap<String, ResourceGroup>,
}

pub(super) fn group_id(subscription: &str, name: &str) -> String {
    format!("/subscriptions/{subscription}/resourceGroups/{name}")
}

impl Model {
    pub fn get(&self, subscription: &str, name: &str) -> Option<&ResourceGroup> {
        self.by_id.get(&key(&group_id(subscription, name)))
    }

    pub fn exists(&self, subscription: &str, name: &str) -> bool {
        self.get(subscription, name).is_some()
    }

    /// A subscription's groups, ordered by name ignoring case (the keys' order).
    pub fn in_subscription(&self, subscription: &str) -> Vec<&ResourceGroup> {
        let prefix = format!(
            "{}/",
            key(&format!("/subscriptions/{subscription}/resourceGroups"))
        );
        self.by_id
            .range(prefix.clone()..)
            .take_while(|(id, _)| id.starts_with(&prefix))
            .map(|(_, group)| group)
            .collect()
    }
}

/// Names: 1-90 characters of letters, digits, `_ - . ( )`, not ending in a period.
pub(super) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 90
        && !name.ends_with('.')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "_-.()".contains(c))
}

#[cfg(test)]
mod tests {
    use super::valid_name;

    #[test]
    fn names_follow_arm_rules() {
        assert!(valid_name("rg-logs_(prod).1"));
        assert!(!valid_name("rg."));
        assert!(!valid_name(""));
        assert!(!valid_name(&"a".repeat(91)));
        assert!(!valid_name("rg/x"));
    }
}
