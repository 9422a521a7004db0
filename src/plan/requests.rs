//! The request each desired state sends, built by the provider modules in
//! `azure/`: the one place a desired change becomes method, path and body.
//! The diff (`attributes.rs`), `--dry-run` and apply all start from here.

use super::model::{
    AccessPolicyGrant, Desired, IdentityCreate, KeyCreate, Principal, PurgeProtection,
    RoleAssignmentGrant, StorageSwitch, VaultCreate, KNOWN_AFTER_APPLY,
};
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
        match self {
            Desired::Identity(d) => d.request(),
            Desired::KeyVault(d) => d.request(),
            Desired::EnablePurgeProtection(d) => d.request(),
            Desired::Key(d) => d.request(resolved.now),
            Desired::AccessPolicy(d) => d.request(resolved.principal_id),
            Desired::RoleAssignment(d) => d.request(resolved.principal_id),
            Desired::StorageEncryption(d) => d.request(),
        }
    }

    /// What `--dry-run` and apply's results show for this change: the request
    /// line, and for a vault what apply does besides.
    pub fn call(&self) -> String {
        match self {
            Desired::Identity(d) => d.call(),
            Desired::KeyVault(d) => d.call(),
            Desired::EnablePurgeProtection(d) => d.call(),
            Desired::Key(d) => d.call(),
            Desired::AccessPolicy(d) => d.call(),
            Desired::RoleAssignment(d) => d.call(),
            Desired::StorageEncryption(d) => d.call(),
        }
    }
}

/// The principal id a grant sends: known to the plan, or the one apply
/// resolved for an identity it created ([`KNOWN_AFTER_APPLY`] until then).
fn principal_id(principal: &Principal, resolved: Option<&str>) -> String {
    match principal {
        Principal::Known { principal_id } => principal_id.clone(),
        Principal::OfIdentity { .. } => resolved.unwrap_or(KNOWN_AFTER_APPLY).to_string(),
    }
}

impl IdentityCreate {
    pub fn request(&self) -> Request {
        msi::create_identity(&self.id, &self.location, &self.tags)
    }

    pub fn call(&self) -> String {
        self.request().line()
    }
}

impl VaultCreate {
    pub fn request(&self) -> Request {
        vault_requests::create_vault(
            &self.id,
            &self.location,
            &self.tenant_id,
            self.rbac_authorization,
            &self.tags,
        )
    }

    /// Apply waits for the new vault's DNS.
    pub fn call(&self) -> String {
        format!("{}, then GET until provisioned", self.request().line())
    }
}

impl PurgeProtection {
    pub fn request(&self) -> Request {
        vault_requests::enable_purge_protection(&self.id)
    }

    pub fn call(&self) -> String {
        format!("{} (enablePurgeProtection: true)", self.request().line())
    }
}

impl KeyCreate {
    /// Sent at `now`: the key's expiry counts from then.
    pub fn request(&self, now: DateTime<Utc>) -> Request {
        vault_requests::create_key(
            &NewKey {
                vault_id: &self.vault_id,
                name: &self.name,
                key_size: self.key_size,
                expiry_days: self.expiry_days,
                rotation_days: self.rotation_days,
                tags: &self.tags,
            },
            now,
        )
    }

    pub fn call(&self) -> String {
        self.request(DateTime::UNIX_EPOCH).line()
    }
}

impl AccessPolicyGrant {
    pub fn request(&self, principal: Option<&str>) -> Request {
        vault_requests::add_key_access_policy(
            &self.vault_id,
            &self.tenant_id,
            &principal_id(&self.principal, principal),
        )
    }

    pub fn call(&self) -> String {
        self.request(None).line()
    }
}

impl RoleAssignmentGrant {
    pub fn request(&self, principal: Option<&str>) -> Request {
        authorization::create_role_assignment(
            &self.id,
            &self.role_definition_id,
            &principal_id(&self.principal, principal),
            &self.description,
        )
    }

    pub fn call(&self) -> String {
        self.request(None).line()
    }
}

impl StorageSwitch {
    /// The update as planned; apply sends [`StorageSwitch::request_keeping`].
    pub fn request(&self) -> Request {
        self.request_keeping(&self.user_assigned_identities, &self.identity_type)
    }

    pub fn call(&self) -> String {
        self.request().line()
    }

    /// The update with the identities and type the account needs when it is
    /// sent (every identity it has then, plus the planned ones).
    pub fn request_keeping(&self, identities: &[String], identity_type: &str) -> Request {
        storage::switch_to_key(
            &self.account_id,
            &storage::KeySwitch {
                identity_type,
                user_assigned: identities,
                identity_id: &self.identity_id,
                key_vault_uri: &self.key_vault_uri,
                key_name: &self.key_name,
            },
        )
    }
}
