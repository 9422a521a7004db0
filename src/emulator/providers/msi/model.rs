//! The user-assigned identities (each with its service principal) and
//! Azure's naming rule for them; what ARM's index lists of them.

use super::TYPE;
use crate::emulator::provider::IndexedResource;
use crate::emulator::providers::common::{resource_id, subscription_and_group};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A user-assigned managed identity.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    /// Canonical id as ARM returns it.
    pub id: String,
    pub name: String,
    pub location: String,
    pub tags: Option<serde_json::Map<String, serde_json::Value>>,
    pub principal_id: String,
    pub client_id: String,
    pub tenant_id: String,
    /// When ARM's index (Resources_List) shows it; `None` means at once.
    #[serde(default)]
    pub indexed_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Model {
    pub(super) by_id: BTreeMap<String, Identity>,
}

impl Model {
    /// The identity with this resource id (any casing).
    pub fn get(&self, id: &str) -> Option<&Identity> {
        self.by_id.get(&crate::emulator::providers::common::key(id))
    }

    /// Every identity as ARM's index lists it: ids spell `resourceGroups`
    /// canonically there, whatever this provider answers on a GET.
    pub fn indexed_resources(&self) -> Vec<IndexedResource> {
        self.by_id
            .values()
            .filter_map(|identity| {
                let (subscription, group) = subscription_and_group(&identity.id)?;
                Some(IndexedResource {
                    id: resource_id(&subscription, &group, TYPE, &identity.name),
                    subscription_id: subscription,
                    resource_group: group,
                    name: identity.name.clone(),
                    resource_type: TYPE,
                    location: identity.location.clone(),
                    tags: identity.tags.clone().unwrap_or_default(),
                    kind: None,
                    provisioning_state: "Succeeded",
                    created: None,
                    changed: None,
                    indexed_at: identity.indexed_at,
                })
            })
            .collect()
    }

    /// The identity with this client id (any casing), if any.
    pub fn by_client_id(&self, client_id: &str) -> Option<&Identity> {
        self.by_id
            .values()
            .find(|i| i.client_id.eq_ignore_ascii_case(client_id))
    }

    /// The identity whose service principal has this object id, if any.
    pub fn by_principal(&self, principal_id: &str) -> Option<&Identity> {
        self.by_id
            .values()
            .find(|i| i.principal_id.eq_ignore_ascii_case(principal_id))
    }
}

/// The id as ARM returns it for identities: `resourcegroups` in lower case
/// (recorded: the response differs from the request path's casing).
pub fn identity_id(subscription: &str, resource_group: &str, name: &str) -> String {
    format!("/subscriptions/{subscription}/resourcegroups/{resource_group}/providers/{TYPE}/{name}")
}

/// Azure's rule: 3-128 characters of letters, digits, hyphens and
/// underscores, starting with a letter or digit.
pub(super) fn valid_name(name: &str) -> bool {
    (3..=128).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::valid_name;

    #[test]
    fn names_follow_azure_rules() {
        assert!(valid_name("id-cmk_01"));
        assert!(valid_name("9ab"));
        assert!(valid_name(&"a".repeat(128)));
        assert!(!valid_name("ab"));
        assert!(!valid_name(&"a".repeat(129)));
        assert!(!valid_name("-abc"));
        assert!(!valid_name("_abc"));
        assert!(!valid_name("a.bc"));
        assert!(!valid_name("a bc"));
    }
}
