//! The request each desired state sends, built by the provider modules in
//! `azure/`: the one place a desired change becomes method, path and body.
//! The diff (`attributes.rs`), `--dry-run` and apply all start from here.

use super::model::{Desired, Principal, KNOWN_AFTER_APPLY};
use crate::azure::keyvault::requests::{self as vault_requests, NewKey};
use crate::azure::request::Request;
use crate::azure::{authorization, msi, storage};
use chrono::{DateTime, Utc};

/// What only apply knows when it sends a request: the time (a key's expiry
/// counts from it) and the principal of an identity the plan creates.
#[derive(Debug, Clone, Copy)]
pub struct Resolved<'a> {
    pub now: DateTime<Utc>,
    /// The principal of `Principal::OfIdentity`; `None` before apply made it.
    pub principal_id: Option<&'a str>,
}

impl Resolved<'_> {
    /// As apply sends it now, before any principal is known.
    pub fn now() -> Resolved<'static> {
        Resolved {
            now: Utc::now(),
            principal_id: None,
        }
    }

    /// As the plan shows it: unknown principals, times counted from the epoch
    /// (a key's `exp` then reads as its lifetime in seconds).
    pub fn at_plan() -> Resolved<'static> {
        Resolved {
            now: DateTime::UNIX_EPOCH,
            principal_id: None,
        }
    }
}

impl Desired {
    /// The request that brings this state about.
    pub fn request(&self, resolved: Resolved) -> Request {
        let principal = |p: &Principal| match p {
            Principal::Known { principal_id } => principal_id.clone(),
            Principal::OfIdentity { .. } => resolved
                .principal_id
                .unwrap_or(KNOWN_AFTER_APPLY)
                .to_string(),
        };
        match self {
            Desired::Identity { id, location, tags } => msi::create_identity(id, location, tags),
            Desired::KeyVault {
                id,
                location,
                tenant_id,
                rbac_authorization,
                tags,
            } => vault_requests::create_vault(id, location, tenant_id, *rbac_authorization, tags),
            Desired::EnablePurgeProtection { id } => vault_requests::enable_purge_protection(id),
            Desired::Key {
                vault_id,
                name,
                key_size,
                expiry_days,
                rotation_days,
                tags,
            } => vault_requests::create_key(
                &NewKey {
                    vault_id,
                    name,
                    key_size: *key_size,
                    expiry_days: *expiry_days,
                    rotation_days: *rotation_days,
                    tags,
                },
                resolved.now,
            ),
            Desired::AccessPolicy {
                vault_id,
                tenant_id,
                principal: p,
            } => vault_requests::add_key_access_policy(vault_id, tenant_id, &principal(p)),
            Desired::RoleAssignment {
                id,
                role_definition_id,
                principal: p,
                ..
            } => authorization::create_role_assignment(id, role_definition_id, &principal(p)),
            Desired::StorageEncryption {
                account_id,
                identity_type,
                user_assigned_identities,
                identity_id,
                key_vault_uri,
                key_name,
                ..
            } => storage::switch_to_key(
                account_id,
                &storage::KeySwitch {
                    identity_type,
                    user_assigned: user_assigned_identities,
                    identity_id,
                    key_vault_uri,
                    key_name,
                },
            ),
        }
    }

    /// What `--dry-run` and apply's results show for this change: the request
    /// line, and for a vault that apply then waits for it.
    pub fn call(&self) -> String {
        let line = self.request(Resolved::at_plan()).line();
        match self {
            Desired::KeyVault { .. } => format!("{line}, then GET until provisioned"),
            Desired::EnablePurgeProtection { .. } => {
                format!("{line} (enablePurgeProtection: true)")
            }
            _ => line,
        }
    }
}
