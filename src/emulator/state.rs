//! Everything the emulator knows, as one serialisable value: the tenant (and
//! any extra tenants), its principals and directory, every resource, and configured locks. It is what
//! `GET/PUT /_emulator/state` saves and loads.

use super::providers::{
    authorization, insights, keyvault, management_groups, msi, resource_groups, storage,
    subscriptions,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct State {
    pub tenant_id: String,
    /// Tenants beside the home one, each with its subscriptions and the
    /// principals present in it (`tenants.rs`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<super::tenants::Tenant>,
    /// The cloud the emulator presents itself as (`--cloud`; left out of a
    /// saved public-cloud state, as before there was a choice).
    #[serde(skip_serializing_if = "super::cloud::EmulatedCloud::is_public")]
    pub cloud: super::cloud::EmulatedCloud,
    /// Service principals that may log in with the client-credentials grant, by client id.
    pub principals: BTreeMap<String, Principal>,
    /// Every principal Azure AD knows (service principals and managed
    /// identities), by lower-case object id, with when it was created.
    pub directory: BTreeMap<String, DirectoryObject>,
    pub locks: Vec<Lock>,
    pub subscriptions: subscriptions::Model,
    pub resource_groups: resource_groups::Model,
    pub insights: insights::Model,
    pub storage: storage::Model,
    pub msi: msi::Model,
    pub keyvault: keyvault::Model,
    pub authorization: authorization::Model,
    pub management_groups: management_groups::Model,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Principal {
    pub client_id: String,
    pub client_secret: String,
    pub object_id: String,
    /// Writes answer 403 `AuthorizationFailed`.
    pub read_only: bool,
    /// Any call at or below one of these scopes (a subscription, resource
    /// group or resource id) answers 403 `AuthorizationFailed`; denied
    /// subscriptions are also left out of `GET /subscriptions`. A management
    /// group's scope covers the groups and subscriptions below it too (`rules::scope`).
    pub denied_scopes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryObject {
    pub kind: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum LockLevel {
    ReadOnly,
    CanNotDelete,
}

/// A management lock on a scope, as configured through the admin API.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Lock {
    pub scope: String,
    pub name: String,
    pub level: LockLevel,
}

/// True when `id` is `scope` or lies below it, ignoring case as ARM does.
pub fn is_within(id: &str, scope: &str) -> bool {
    let id = id.trim_end_matches('/').to_ascii_lowercase();
    let scope = scope.trim_end_matches('/').to_ascii_lowercase();
    id == scope || id.starts_with(&format!("{scope}/"))
}

impl State {
    /// The service principal (of `principals`) with this object id, if any.
    pub fn principal(&self, object_id: &str) -> Option<&Principal> {
        self.principals
            .values()
            .find(|p| p.object_id.eq_ignore_ascii_case(object_id))
    }

    /// The principal with this object id (a service principal or an identity),
    /// if the directory knows it.
    pub fn directory_object(&self, object_id: &str) -> Option<&DirectoryObject> {
        self.directory.get(&object_id.to_ascii_lowercase())
    }

    pub fn add_directory_object(&mut self, object_id: &str, kind: &str, created_at: DateTime<Utc>) {
        self.directory.insert(
            object_id.to_ascii_lowercase(),
            DirectoryObject {
                kind: kind.to_string(),
                created_at,
            },
        );
    }

    /// Locks that forbid `write` (or, when `delete`, a delete) at `id`.
    pub fn blocking_locks(&self, id: &str, delete: bool) -> Vec<&Lock> {
        self.locks
            .iter()
            .filter(|lock| is_within(id, &lock.scope))
            .filter(|lock| lock.level == LockLevel::ReadOnly || delete)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_is_case_insensitive_and_segment_aligned() {
        assert!(is_within(
            "/subscriptions/A/resourceGroups/rg",
            "/subscriptions/a"
        ));
        assert!(is_within("/subscriptions/a", "/SUBSCRIPTIONS/A/"));
        assert!(!is_within("/subscriptions/ab", "/subscriptions/a"));
    }
}
