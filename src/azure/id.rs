//! Azure resource ids, parsed and compared the way ARM does: literal segments
//! and names case-insensitively (ARM itself answers `resourcegroups` in one
//! place and `resourceGroups` in another).

use std::fmt;
use std::hash::{Hash, Hasher};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{id}' is not a valid {expected} resource id: {why}")]
pub struct InvalidResourceId {
    pub id: String,
    pub expected: &'static str,
    pub why: String,
}

/// `/subscriptions/{s}/resourceGroups/{rg}/providers/{namespace}/{type}/{name}[/{type}/{name}...]`.
#[derive(Debug, Clone)]
pub struct ResourceId {
    text: String,
    pub subscription_id: String,
    pub resource_group: String,
    pub namespace: String,
    /// Type segments, e.g. `["storageAccounts"]` or `["vaults", "keys"]`.
    pub types: Vec<String>,
    pub names: Vec<String>,
}

impl ResourceId {
    pub fn parse(id: &str) -> Result<Self, InvalidResourceId> {
        let fail = |why: &str| InvalidResourceId {
            id: id.to_string(),
            expected: "Azure",
            why: why.to_string(),
        };
        if !id.starts_with('/') {
            return Err(fail("it must start with '/subscriptions/'"));
        }
        let segments: Vec<&str> = id.trim_end_matches('/').split('/').skip(1).collect();
        if segments.iter().any(|s| s.is_empty()) {
            return Err(fail("it has an empty segment"));
        }
        let expect = |i: usize, word: &str| -> Result<(), InvalidResourceId> {
            match segments.get(i) {
                Some(s) if s.eq_ignore_ascii_case(word) => Ok(()),
                _ => Err(fail(&format!("segment {} must be '{word}'", i + 1))),
            }
        };
        expect(0, "subscriptions")?;
        let subscription_id = segments
            .get(1)
            .ok_or_else(|| fail("the subscription id is missing"))?;
        if uuid::Uuid::try_parse(subscription_id).is_err() || subscription_id.len() != 36 {
            return Err(fail("the subscription id is not a GUID"));
        }
        expect(2, "resourceGroups")?;
        let resource_group = segments
            .get(3)
            .ok_or_else(|| fail("the resource group is missing"))?;
        expect(4, "providers")?;
        let namespace = segments
            .get(5)
            .ok_or_else(|| fail("the provider namespace is missing"))?;
        let rest = &segments[6.min(segments.len())..];
        if rest.is_empty() || rest.len() % 2 != 0 {
            return Err(fail("it must end with a resource type and name"));
        }
        Ok(Self {
            text: id.trim_end_matches('/').to_string(),
            subscription_id: subscription_id.to_ascii_lowercase(),
            resource_group: resource_group.to_string(),
            namespace: namespace.to_string(),
            types: rest.iter().step_by(2).map(|s| s.to_string()).collect(),
            names: rest
                .iter()
                .skip(1)
                .step_by(2)
                .map(|s| s.to_string())
                .collect(),
        })
    }

    /// The last name in the id (the resource's own name).
    pub fn name(&self) -> &str {
        self.names.last().map(String::as_str).unwrap_or_default()
    }

    /// `Microsoft.Storage/storageAccounts`.
    pub fn resource_type(&self) -> String {
        format!("{}/{}", self.namespace, self.types.join("/"))
    }

    pub fn is_type(&self, resource_type: &str) -> bool {
        self.resource_type().eq_ignore_ascii_case(resource_type)
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The id in lower case: what two spellings of one resource share.
    pub fn key(&self) -> String {
        self.text.to_ascii_lowercase()
    }
}

impl PartialEq for ResourceId {
    fn eq(&self, other: &Self) -> bool {
        self.text.eq_ignore_ascii_case(&other.text)
    }
}

impl Eq for ResourceId {}

impl Hash for ResourceId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key().hash(state)
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A storage account id, the destination of an activity log.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StorageAccountId(ResourceId);

impl StorageAccountId {
    pub fn parse(id: &str) -> Result<Self, InvalidResourceId> {
        let parsed = ResourceId::parse(id).map_err(|e| InvalidResourceId {
            expected: "storage account",
            ..e
        })?;
        if !parsed.is_type("Microsoft.Storage/storageAccounts") {
            return Err(InvalidResourceId {
                id: id.to_string(),
                expected: "storage account",
                why: format!(
                    "it names a '{}', not a Microsoft.Storage/storageAccounts",
                    parsed.resource_type()
                ),
            });
        }
        Ok(Self(parsed))
    }

    pub fn id(&self) -> &ResourceId {
        &self.0
    }

    pub fn subscription_id(&self) -> &str {
        &self.0.subscription_id
    }

    pub fn resource_group(&self) -> &str {
        &self.0.resource_group
    }

    pub fn name(&self) -> &str {
        self.0.name()
    }
}

impl fmt::Display for StorageAccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A subscription id as given on the command line: a GUID, lower-cased.
pub fn parse_subscription_id(id: &str) -> Result<String, InvalidResourceId> {
    if uuid::Uuid::try_parse(id).is_ok() && id.len() == 36 {
        Ok(id.to_ascii_lowercase())
    } else {
        Err(InvalidResourceId {
            id: id.to_string(),
            expected: "subscription",
            why: "a subscription id is a GUID such as 00000000-0000-0000-0000-000000000000".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-logs/providers/Microsoft.Storage/storageAccounts/stlogs";

    #[test]
    fn storage_account_ids_parse_and_compare_case_insensitively() {
        let a = StorageAccountId::parse(ACCOUNT).unwrap();
        let b = StorageAccountId::parse(
            &ACCOUNT
                .replace("resourceGroups", "resourcegroups")
                .replace("Microsoft.Storage", "microsoft.storage"),
        )
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.name(), "stlogs");
        assert_eq!(a.resource_group(), "rg-logs");
        assert_eq!(a.subscription_id(), "11111111-1111-1111-1111-111111111111");
        let mut set = std::collections::HashSet::new();
        set.insert(a);
        assert!(set.contains(&b));
    }

    #[test]
    fn malformed_ids_are_refused_with_the_reason() {
        for bad in [
            "",
            "subscriptions/x",
            "/subscriptions/not-a-guid/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a",
            "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts",
            "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups//providers/Microsoft.Storage/storageAccounts/a",
            "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v",
        ] {
            let err = StorageAccountId::parse(bad).unwrap_err();
            assert_eq!(err.expected, "storage account", "{bad}");
        }
    }

    #[test]
    fn nested_ids_keep_types_and_names() {
        let id = ResourceId::parse("/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv/keys/k1").unwrap();
        assert_eq!(id.resource_type(), "Microsoft.KeyVault/vaults/keys");
        assert_eq!(id.name(), "k1");
        assert_eq!(id.names, vec!["kv", "k1"]);
    }

    #[test]
    fn subscription_ids_must_be_guids() {
        assert!(parse_subscription_id("11111111-1111-1111-1111-111111111111").is_ok());
        assert!(parse_subscription_id("prod").is_err());
    }
}
