//! What the management-group hierarchy holds: groups by id with their parent,
//! and which group each subscription sits in. As in Azure, the tenant root
//! group (named after the tenant id) appears with the first group created,
//! and every subscription not moved elsewhere sits directly under it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The root group's display name, as Azure names it.
pub const ROOT_DISPLAY_NAME: &str = "Tenant Root Group";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ManagementGroup {
    /// The group id (its name in ARM), as created.
    pub name: String,
    pub display_name: String,
    /// The parent group's id; `None` only for the tenant root group.
    pub parent: Option<String>,
    pub version: u32,
    pub updated_time: DateTime<Utc>,
    pub updated_by: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Model {
    /// By lower-case group id.
    pub(super) groups: BTreeMap<String, ManagementGroup>,
    /// Lower-case subscription id -> the id of the group it was moved to
    /// (absent: under the root group).
    pub(super) subscription_parents: BTreeMap<String, String>,
}

impl Model {
    pub fn group(&self, id: &str) -> Option<&ManagementGroup> {
        self.groups.get(&id.to_ascii_lowercase())
    }

    /// Every group, in id order.
    pub fn groups(&self) -> impl Iterator<Item = &ManagementGroup> {
        self.groups.values()
    }

    /// The root group (the one without a parent), once the hierarchy exists.
    pub fn root(&self) -> Option<&ManagementGroup> {
        self.groups.values().find(|g| g.parent.is_none())
    }

    /// `id` and every group above it, nearest first; empty for an unknown id.
    pub fn lineage(&self, id: &str) -> Vec<&ManagementGroup> {
        let mut out: Vec<&ManagementGroup> = Vec::new();
        let mut next = self.group(id);
        while let Some(group) = next {
            // A cycle cannot be created through the handlers; stop anyway.
            if out.iter().any(|g| g.name.eq_ignore_ascii_case(&group.name)) {
                break;
            }
            out.push(group);
            next = group.parent.as_deref().and_then(|p| self.group(p));
        }
        out
    }

    /// The group a subscription sits in: where it was moved, else the root.
    pub fn parent_of_subscription(&self, subscription: &str) -> Option<&ManagementGroup> {
        match self
            .subscription_parents
            .get(&subscription.to_ascii_lowercase())
        {
            Some(parent) => self.group(parent),
            None => self.root(),
        }
    }

    /// The groups directly under `id`, in id order.
    pub fn child_groups(&self, id: &str) -> Vec<&ManagementGroup> {
        self.groups
            .values()
            .filter(|g| {
                g.parent
                    .as_deref()
                    .is_some_and(|p| p.eq_ignore_ascii_case(id))
            })
            .collect()
    }

    pub(super) fn insert(&mut self, group: ManagementGroup) {
        self.groups.insert(group.name.to_ascii_lowercase(), group);
    }

    pub(super) fn move_subscription(&mut self, subscription: &str, group: &str) {
        self.subscription_parents
            .insert(subscription.to_ascii_lowercase(), group.to_string());
    }
}

/// Azure's rule for a group id: 1 to 90 letters, digits, `-`, `_`, `(`, `)`
/// and `.`, not ending in a period.
pub fn valid_group_id(id: &str) -> bool {
    (1..=90).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_().".contains(c))
        && !id.ends_with('.')
}

/// `/providers/Microsoft.Management/managementGroups/{id}`.
pub fn group_resource_id(id: &str) -> String {
    format!("/providers/Microsoft.Management/managementGroups/{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(name: &str, parent: Option<&str>) -> ManagementGroup {
        ManagementGroup {
            name: name.into(),
            display_name: name.into(),
            parent: parent.map(str::to_string),
            version: 1,
            updated_time: Utc::now(),
            updated_by: "x".into(),
        }
    }

    #[test]
    fn lineage_walks_up_to_the_root_and_subscriptions_default_to_it() {
        let mut model = Model::default();
        model.insert(group("root", None));
        model.insert(group("Platform", Some("root")));
        model.insert(group("logging", Some("platform")));
        let names: Vec<&str> = model
            .lineage("LOGGING")
            .iter()
            .map(|g| g.name.as_str())
            .collect();
        assert_eq!(names, ["logging", "Platform", "root"]);
        assert!(model.lineage("nope").is_empty());
        assert_eq!(model.parent_of_subscription("s1").unwrap().name, "root");
        model.move_subscription("S1", "logging");
        assert_eq!(model.parent_of_subscription("s1").unwrap().name, "logging");
        assert_eq!(model.child_groups("ROOT").len(), 1);
    }

    #[test]
    fn group_ids_follow_azures_rule() {
        assert!(valid_group_id("contoso-platform_(1).x"));
        assert!(!valid_group_id(""));
        assert!(!valid_group_id("a/b"));
        assert!(!valid_group_id("ends."));
        assert!(!valid_group_id(&"x".repeat(91)));
    }
}
