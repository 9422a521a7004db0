//! The pure half of planning: from what was read about one account (its
//! [`AccountInputs`], gathered by `gather.rs`) and the plan's settings, the
//! identity, vault, key, grant and storage changes. No reads, no clock but
//! the one passed in; each change's attributes come from its request
//! (`attributes.rs`), so the diff shows what apply sends.

use super::attributes::{attributes, Before};
use super::model::*;
use super::observe::{Observation, SYSTEM_ASSIGNED};
use super::ownership::{self, tags_for};
use crate::audit::classify::key_reasons;
use crate::azure::authorization::CRYPTO_SERVICE_ENCRYPTION_USER;
use crate::azure::id::StorageAccountId;

/// Why an account cannot be planned without a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

/// What a plan for one account is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A `non_compliant` account: identity, vault, key, grant, storage update.
    Remediation,
    /// A `cmk_broken` account: only the missing grant and vault recovery.
    Repair,
}

/// Everything the diff of one account needs, read beforehand.
#[derive(Debug, Clone)]
pub struct AccountInputs {
    pub account_id: StorageAccountId,
    pub purpose: Purpose,
    pub targets: Targets,
    pub seen: Observation,
    /// The tenant of the account's subscription (a new vault names it).
    pub tenant_id: String,
    /// The vault's URI: as read, or the one a new vault will have.
    pub vault_uri: String,
    /// Attached identities that no longer exist (not sent back).
    pub gone_identities: Vec<String>,
    /// Unix seconds, to judge an existing key's expiry.
    pub now: i64,
}

/// The changes that bring the account where the plan wants it, in the order
/// apply carries them out.
pub fn changes(
    inputs: &AccountInputs,
    settings: &PlanSettings,
) -> Result<Vec<ResourceChange>, Refusal> {
    let diff = Diff { inputs, settings };
    let mut changes = Vec::new();
    match inputs.purpose {
        Purpose::Remediation => {
            changes.extend(diff.identity());
            changes.extend(diff.vault());
            changes.extend(diff.key()?);
            changes.extend(diff.grant());
            changes.push(diff.storage());
        }
        Purpose::Repair => {
            changes.extend(diff.vault());
            if inputs.seen.principal(&inputs.targets).is_some() {
                changes.extend(diff.grant());
            }
        }
    }
    Ok(changes)
}

struct Diff<'a> {
    inputs: &'a AccountInputs,
    settings: &'a PlanSettings,
}

const PURGE: &str = "purge protection can never be turned off again; deleted keys and the vault stay recoverable (and their names taken) for the retention period";

impl Diff<'_> {
    fn targets(&self) -> &Targets {
        &self.inputs.targets
    }

    fn seen(&self) -> &Observation {
        &self.inputs.seen
    }

    fn tags(&self) -> std::collections::BTreeMap<String, String> {
        tags_for(&self.inputs.account_id, &self.settings.tags)
    }

    /// A change whose attributes are read from its request.
    fn change(
        &self,
        action: Action,
        address: Address,
        id: String,
        irreversible: Option<&str>,
        desired: Desired,
    ) -> ResourceChange {
        let before = Before::read(&self.seen().account, self.seen().vault.as_ref());
        ResourceChange {
            action,
            address,
            id,
            attributes: attributes(&desired, &before),
            irreversible: irreversible.map(str::to_string),
            desired,
        }
    }

    pub(super) fn identity(&self) -> Option<ResourceChange> {
        let targets = self.targets();
        if self.seen().identity.is_some() || targets.identity_id == SYSTEM_ASSIGNED {
            return None;
        }
        Some(self.change(
            Action::Create,
            Address::Identity,
            targets.identity_id.clone(),
            None,
            Desired::Identity(IdentityCreate {
                id: targets.identity_id.clone(),
                location: self.seen().account.location.clone(),
                tags: self.tags(),
            }),
        ))
    }

    pub(super) fn vault(&self) -> Option<ResourceChange> {
        let vault_id = self.targets().vault_id.clone();
        match &self.seen().vault {
            Some(v) if v.purge_protection && v.soft_delete => None,
            Some(_) => Some(self.change(
                Action::Update,
                Address::KeyVault,
                vault_id.clone(),
                Some(PURGE),
                Desired::EnablePurgeProtection(PurgeProtection { id: vault_id }),
            )),
            None => Some(self.change(
                Action::Create,
                Address::KeyVault,
                vault_id.clone(),
                Some(PURGE),
                Desired::KeyVault(VaultCreate {
                    id: vault_id,
                    location: self.seen().account.location.clone(),
                    tenant_id: self.inputs.tenant_id.clone(),
                    rbac_authorization: self.settings.permission_model == PermissionModel::Rbac,
                    tags: self.tags(),
                }),
            )),
        }
    }

    pub(super) fn key(&self) -> Result<Option<ResourceChange>, Refusal> {
        let targets = self.targets();
        if let Some(key) = &self.seen().key {
            let problems = key_reasons(key, &targets.vault_id, self.inputs.now);
            if let Some(problem) = problems.first() {
                return Err(Refusal(format!(
                    "{}; the tool never changes an existing key: choose another --key-name",
                    problem.message
                )));
            }
            return Ok(None);
        }
        let s = self.settings;
        Ok(Some(self.change(
            Action::Create,
            Address::Key,
            format!("{}/keys/{}", targets.vault_id, targets.key_name),
            None,
            Desired::Key(KeyCreate {
                vault_id: targets.vault_id.clone(),
                name: targets.key_name.clone(),
                key_size: s.key_size,
                expiry_days: s.key_expiry_days,
                rotation_days: s.key_rotation_days,
                tags: self.tags(),
            }),
        )))
    }

    fn grant(&self) -> Option<ResourceChange> {
        let (targets, seen) = (self.targets(), self.seen());
        if seen.grant_exists {
            return None;
        }
        let principal = match seen.principal(targets) {
            Some(principal_id) => Principal::Known { principal_id },
            None => Principal::OfIdentity {
                identity_id: targets.identity_id.clone(),
            },
        };
        let rbac = seen.vault.as_ref().map_or(
            self.settings.permission_model == PermissionModel::Rbac,
            |v| v.rbac_authorization,
        );
        if rbac {
            let scope = format!("{}/keys/{}", targets.vault_id, targets.key_name);
            // Named after what it grants: writing it again changes nothing.
            let name = uuid::Uuid::new_v5(
                &uuid::Uuid::NAMESPACE_URL,
                format!(
                    "{}|{}|{CRYPTO_SERVICE_ENCRYPTION_USER}",
                    scope.to_ascii_lowercase(),
                    targets.identity_id.to_ascii_lowercase()
                )
                .as_bytes(),
            );
            let role = format!(
                "/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{CRYPTO_SERVICE_ENCRYPTION_USER}",
                self.inputs.account_id.subscription_id()
            );
            let id = format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}");
            Some(self.change(
                Action::Create,
                Address::RoleAssignment,
                id.clone(),
                None,
                Desired::RoleAssignment(RoleAssignmentGrant {
                    id,
                    scope,
                    role_definition_id: role,
                    principal,
                    description: ownership::grant_description(&self.inputs.account_id),
                }),
            ))
        } else {
            let entry = match &principal {
                Principal::Known { principal_id } => principal_id.clone(),
                Principal::OfIdentity { identity_id } => last_segment(identity_id).to_string(),
            };
            Some(self.change(
                Action::Create,
                Address::AccessPolicy,
                format!("{}/accessPolicies/{entry}", targets.vault_id),
                None,
                Desired::AccessPolicy(AccessPolicyGrant {
                    vault_id: targets.vault_id.clone(),
                    tenant_id: self.inputs.tenant_id.clone(),
                    principal,
                }),
            ))
        }
    }

    /// The account switched to the key, keeping every identity it has
    /// (except those gone) and adding the tool's.
    fn storage(&self) -> ResourceChange {
        let (targets, a) = (self.targets(), &self.seen().account);
        let gone = &self.inputs.gone_identities;
        let is_gone = |id: &str| gone.iter().any(|g| g.eq_ignore_ascii_case(id));
        let mut identities: Vec<String> = a
            .user_assigned
            .iter()
            .map(|u| u.id.clone())
            .filter(|id| !is_gone(id))
            .collect();
        if !identities
            .iter()
            .any(|i| i.eq_ignore_ascii_case(&targets.identity_id))
        {
            identities.push(targets.identity_id.clone());
        }
        let account_id = self.inputs.account_id.to_string();
        self.change(
            Action::Update,
            Address::StorageAccount,
            account_id.clone(),
            None,
            Desired::StorageEncryption(StorageSwitch {
                account_id,
                identity_type: with_user_assigned(&a.identity_type),
                user_assigned_identities: identities,
                dropped_identities: gone.clone(),
                identity_id: targets.identity_id.clone(),
                key_vault_uri: self.inputs.vault_uri.clone(),
                key_name: targets.key_name.clone(),
            }),
        )
    }
}

/// The identity type once a user-assigned identity is added to `current`.
pub fn with_user_assigned(current: &str) -> String {
    let lower = current.to_ascii_lowercase();
    if lower.contains("userassigned") {
        current.to_string()
    } else if lower.contains("systemassigned") {
        "SystemAssigned,UserAssigned".to_string()
    } else {
        "UserAssigned".to_string()
    }
}

pub(super) fn last_segment(id: &str) -> &str {
    id.trim_end_matches('/').rsplit('/').next().unwrap_or(id)
}

#[cfg(test)]
mod request_tests;
#[cfg(test)]
mod tests;
