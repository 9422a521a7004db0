//! Computing the plan from an audit: for each destination that needs it, the
//! resources to create or update. Only reads; never writes to Azure.
//!
//! - `non_compliant` accounts get the full remediation: identity, vault, key,
//!   grant, storage update. What exists already (from an earlier, interrupted
//!   apply, or given with `--identity` / `--key-vault`) is reused, not created.
//! - `cmk_broken` accounts get a repair when the fix is clear: the missing
//!   grant, or purge protection on the vault. Other breakage needs a person.

use super::model::*;
use super::naming;
use super::observe::{observe, observe_with, Known, Observation, SYSTEM_ASSIGNED};
use crate::audit::classify::key_reasons;
use crate::audit::{AuditReport, Destination, ReasonCode, Status};
use crate::azure::authorization::CRYPTO_SERVICE_ENCRYPTION_USER;
use crate::azure::id::{ResourceId, StorageAccountId};
use crate::azure::keyvault::{self, KeyVault};
use crate::azure::{msi, resources, storage, subscriptions, Arm, AzureError};
use futures::stream::{self, StreamExt};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Tags on everything the tool creates: rollback finds its work by them.
pub const TAG_MANAGED_BY: &str = "managed-by";
pub const TAG_MANAGED_BY_VALUE: &str = "actlog-cmk";
pub const TAG_ACCOUNT: &str = "actlog-cmk-account";

/// True when `tags` say the tool created the resource for `account`.
pub fn made_for(tags: &BTreeMap<String, String>, account: &StorageAccountId) -> bool {
    let tag = |name: &str| {
        tags.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    tag(TAG_MANAGED_BY).is_some_and(|v| v.eq_ignore_ascii_case(TAG_MANAGED_BY_VALUE))
        && tag(TAG_ACCOUNT).is_some_and(|v| v.eq_ignore_ascii_case(&account.id().key()))
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Azure(#[from] AzureError),
    #[error("{0}")]
    Invalid(String),
}

/// The outcome for one destination.
enum Outcome {
    Planned(Box<AccountPlan>),
    Skipped(Skipped),
}

fn skipped(d: &Destination, status: &str, reason: impl Into<String>) -> Outcome {
    Outcome::Skipped(Skipped {
        storage_account_id: d.storage_account_id.clone(),
        status: status.to_string(),
        reason: reason.into(),
    })
}

pub struct Builder<'a> {
    arm: &'a Arm,
    settings: &'a PlanSettings,
    /// Tenant per subscription id (lower case).
    tenants: BTreeMap<String, String>,
    /// The user-assigned identities (lower-case ids) of each resource group
    /// that will hold new ones, by `group_key`: one list per group instead of
    /// a read per account. A group missing here is read account by account.
    identities: BTreeMap<String, BTreeSet<String>>,
}

const IDENTITY_TYPE: &str = "Microsoft.ManagedIdentity/userAssignedIdentities";

fn group_key(account: &StorageAccountId) -> String {
    format!("{}/{}", account.subscription_id(), account.resource_group()).to_ascii_lowercase()
}

pub async fn build(
    arm: &Arm,
    report: &AuditReport,
    settings: &PlanSettings,
    parallelism: usize,
) -> Result<Plan, PlanError> {
    let tenants = tenants(arm, report, parallelism).await?;
    let identities = match settings.identity {
        Some(_) => BTreeMap::new(),
        None => identities_by_group(arm, report, parallelism).await,
    };
    let builder = Builder {
        arm,
        settings,
        tenants,
        identities,
    };
    let outcomes: Vec<Outcome> = stream::iter(&report.destinations)
        .map(|d| builder.plan_destination(d))
        .buffered(parallelism.max(1))
        .collect()
        .await;
    let mut accounts = Vec::new();
    let mut skipped = Vec::new();
    for outcome in outcomes {
        match outcome {
            Outcome::Planned(p) if p.changes.is_empty() => skipped.push(Skipped {
                storage_account_id: p.storage_account_id,
                status: p.status,
                reason: "nothing to change".into(),
            }),
            Outcome::Planned(p) => accounts.push(*p),
            Outcome::Skipped(s) => skipped.push(s),
        }
    }
    let tenant_id = builder.tenants.values().next().cloned().unwrap_or_default();
    let unread = unread(report);
    let mut summary = PlanSummary::of(&accounts, &skipped);
    summary.unread = unread.len();
    Ok(Plan {
        schema_version: SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: chrono::Utc::now(),
        tenant_id,
        arm_endpoint: arm.endpoint().to_string(),
        settings: settings.clone(),
        summary,
        accounts,
        skipped,
        unread,
    })
}

/// What the audit could not read: subscriptions whose sources were not
/// listed completely (they may send the activity log to accounts nobody saw)
/// and destination accounts that could not be read.
fn unread(report: &AuditReport) -> Vec<Unread> {
    let subscriptions = report
        .subscriptions
        .iter()
        .filter(|s| !s.complete)
        .map(|s| Unread {
            id: format!("/subscriptions/{}", s.subscription_id),
            reason: if s.errors.is_empty() {
                "its activity-log sources could not be read completely".to_string()
            } else {
                s.errors.join("; ")
            },
        });
    let accounts = report
        .destinations
        .iter()
        .filter(|d| d.status == Status::Unreadable)
        .map(|d| Unread {
            id: d.storage_account_id.clone(),
            reason: d
                .reasons
                .iter()
                .map(|r| r.message.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        });
    subscriptions.chain(accounts).collect()
}

/// The tenant of every subscription that holds an account to plan for (the
/// vaults created there name it): from the audit's subscription list where it
/// gave them, else read, all at once.
async fn tenants(
    arm: &Arm,
    report: &AuditReport,
    parallelism: usize,
) -> Result<BTreeMap<String, String>, PlanError> {
    let mut tenants = BTreeMap::new();
    let mut unknown = BTreeSet::new();
    for d in report.destinations.iter().filter(|d| needs_plan(d.status)) {
        let sub = StorageAccountId::parse(&d.storage_account_id)
            .map_err(AzureError::from)?
            .subscription_id()
            .to_ascii_lowercase();
        match report.tenants.get(&sub) {
            Some(tenant) => {
                tenants.insert(sub, tenant.clone());
            }
            None => {
                unknown.insert(sub);
            }
        }
    }
    let read: Vec<Result<(String, String), AzureError>> = stream::iter(unknown)
        .map(|sub| async move {
            let tenant = subscriptions::get(arm, &sub).await?.tenant_id;
            Ok((sub, tenant))
        })
        .buffer_unordered(parallelism.max(1))
        .collect()
        .await;
    for entry in read {
        let (sub, tenant) = entry?;
        tenants.insert(sub, tenant);
    }
    Ok(tenants)
}

/// The identities of every resource group where an identity may be created
/// (the groups of the non-compliant accounts). ARM's resource list can lag a
/// create by seconds to minutes: an identity it misses is planned as new, and
/// apply, which reads before it writes, finds it and creates nothing (from a
/// plan file too: `observe::unchanged_since` takes the tool's own identity
/// found there as the plan's progress). No read per account. A group that
/// cannot be listed is left out (its accounts read their identity one by one).
async fn identities_by_group(
    arm: &Arm,
    report: &AuditReport,
    parallelism: usize,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut groups = BTreeMap::new();
    for d in report
        .destinations
        .iter()
        .filter(|d| d.status == Status::NonCompliant)
    {
        if let Ok(id) = StorageAccountId::parse(&d.storage_account_id) {
            groups.entry(group_key(&id)).or_insert(id);
        }
    }
    stream::iter(groups)
        .map(|(key, account)| async move {
            let listed = resources::list_of_type_in_resource_group(
                arm,
                account.subscription_id(),
                account.resource_group(),
                IDENTITY_TYPE,
            )
            .await;
            match listed {
                Ok(found) => Some((
                    key,
                    found
                        .into_iter()
                        .map(|r| r.id.to_ascii_lowercase())
                        .collect(),
                )),
                Err(e) => {
                    tracing::debug!(error = %e, "identities read one by one");
                    None
                }
            }
        })
        .buffer_unordered(parallelism.max(1))
        .filter_map(|listed| async move { listed })
        .collect()
        .await
}

fn needs_plan(status: Status) -> bool {
    matches!(status, Status::NonCompliant | Status::CmkBroken)
}

/// Reasons a repair can fix without a person's judgement.
fn repairable(code: ReasonCode) -> bool {
    matches!(
        code,
        ReasonCode::IdentityLacksKeyAccess
            | ReasonCode::VaultPurgeProtectionDisabled
            | ReasonCode::VaultSoftDeleteDisabled
    )
}

impl Builder<'_> {
    async fn plan_destination(&self, d: &Destination) -> Outcome {
        let result = match d.status {
            Status::Compliant => {
                return skipped(d, "compliant", "already on a healthy customer-managed key")
            }
            Status::Unreadable | Status::Missing => {
                let why: Vec<&str> = d.reasons.iter().map(|r| r.message.as_str()).collect();
                return skipped(d, d.status.as_str(), why.join("; "));
            }
            Status::CmkBroken => {
                if let Some(r) = d.reasons.iter().find(|r| !repairable(r.code)) {
                    return skipped(
                        d,
                        "cmk_broken",
                        format!("needs a person: {} (the tool does not change keys or identities an account already uses)", r.message),
                    );
                }
                self.plan_repair(d).await
            }
            Status::NonCompliant => self.plan_remediation(d).await,
        };
        match result {
            Ok(plan) => Outcome::Planned(Box::new(plan)),
            Err(e) => skipped(d, "error", format!("could not plan: {e}")),
        }
    }

    fn tags(&self, account: &StorageAccountId) -> BTreeMap<String, String> {
        let mut tags = self.settings.tags.clone();
        tags.insert(TAG_MANAGED_BY.into(), TAG_MANAGED_BY_VALUE.into());
        tags.insert(TAG_ACCOUNT.into(), account.id().key());
        tags
    }

    fn tenant(&self, account: &StorageAccountId) -> String {
        self.tenants
            .get(&account.subscription_id().to_ascii_lowercase())
            .cloned()
            .unwrap_or_default()
    }

    /// The vault the tool will create for `account`: the first candidate name
    /// that is either our own vault from an earlier run or free everywhere
    /// (vault names are global, and soft-deleted vaults keep theirs). With
    /// the vault when it exists already; a free name needs no read of it.
    async fn choose_vault(
        &self,
        account: &StorageAccountId,
        location: &str,
    ) -> Result<(ResourceId, Option<KeyVault>), PlanError> {
        let mut taken = Vec::new();
        for attempt in 0..naming::VAULT_NAME_ATTEMPTS {
            let name = naming::vault_name(
                &self.settings.vault_name_template,
                account,
                location,
                attempt,
            )
            .map_err(PlanError::Invalid)?;
            let id = ResourceId::parse(&format!(
                "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.KeyVault/vaults/{name}",
                account.subscription_id(),
                account.resource_group()
            ))
            .map_err(AzureError::from)?;
            let check = keyvault::check_name(self.arm, account.subscription_id(), &name).await?;
            if check.available {
                return Ok((id, None));
            }
            // Taken: by this account's vault from an earlier run, or by another.
            match keyvault::get_vault(self.arm, &id).await {
                Ok(vault)
                    if vault
                        .tags
                        .get(TAG_ACCOUNT)
                        .is_some_and(|a| a.eq_ignore_ascii_case(&account.id().key())) =>
                {
                    return Ok((id, Some(vault)));
                }
                Ok(_) => taken.push(format!(
                    "{name} (an existing vault that is not this account's)"
                )),
                Err(e) if e.is_not_found() => taken.push(format!("{name} ({})", check.reason)),
                Err(e) => return Err(e.into()),
            }
        }
        Err(PlanError::Invalid(format!(
            "every vault name tried is taken: {}; set another --vault-name template or use --key-vault",
            taken.join(", ")
        )))
    }

    async fn plan_remediation(&self, d: &Destination) -> Result<AccountPlan, PlanError> {
        let account_id =
            StorageAccountId::parse(&d.storage_account_id).map_err(AzureError::from)?;
        // The audit read the account a moment ago.
        let account = match &d.account {
            Some(account) => account.clone(),
            None => storage::get(self.arm, &account_id).await?,
        };
        let location = account.location.clone();
        let identity_id = match &self.settings.identity {
            Some(id) => id.clone(),
            None => format!(
                "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{}",
                account_id.subscription_id(),
                account_id.resource_group(),
                naming::identity_name(&self.settings.identity_name_template, &account_id, &location)
                    .map_err(PlanError::Invalid)?
            ),
        };
        let (vault_id, vault) = match &self.settings.key_vault {
            Some(id) => (ResourceId::parse(id).map_err(AzureError::from)?, None),
            None => {
                let (id, vault) = self.choose_vault(&account_id, &location).await?;
                (id, Some(vault))
            }
        };
        let targets = Targets {
            identity_id,
            vault_id: vault_id.to_string(),
            key_name: self.settings.key_name.clone(),
        };
        // An identity missing from its group's list is not read (it does not exist).
        let identity = self
            .identities
            .get(&group_key(&account_id))
            .filter(|listed| !listed.contains(&targets.identity_id.to_ascii_lowercase()))
            .map(|_| None);
        let known = Known {
            account: Some(account),
            identity,
            vault,
        };
        let seen = observe_with(self.arm, &account_id, &targets, known).await?;
        if self.settings.identity.is_some() && seen.identity.is_none() {
            return Err(PlanError::Invalid(format!(
                "the identity {} given with --identity does not exist",
                targets.identity_id
            )));
        }
        if self.settings.key_vault.is_some() && seen.vault.is_none() {
            return Err(PlanError::Invalid(format!(
                "the key vault {} given with --key-vault does not exist",
                targets.vault_id
            )));
        }
        let mut changes = Vec::new();
        changes.extend(self.identity_change(&account_id, &targets, &seen));
        changes.extend(self.vault_change(&account_id, &targets, &seen));
        changes.extend(self.key_change(&account_id, &targets, &seen)?);
        changes.extend(self.grant_change(&account_id, &targets, &seen));
        let gone = self.gone_identities(&account_id, &targets, &seen).await;
        changes.push(storage_change(
            &account_id,
            &targets,
            &seen,
            &vault_uri(self.arm, &targets, &seen),
            &gone,
        ));
        Ok(AccountPlan {
            storage_account_id: d.storage_account_id.clone(),
            status: d.status.as_str().to_string(),
            fingerprint: seen.observed(&targets).fingerprint(),
            observed: seen.observed(&targets),
            targets,
            changes,
        })
    }

    /// A `cmk_broken` account whose breakage is a missing grant or a vault
    /// that is not recoverable: fix those, change nothing else.
    async fn plan_repair(&self, d: &Destination) -> Result<AccountPlan, PlanError> {
        let account_id =
            StorageAccountId::parse(&d.storage_account_id).map_err(AzureError::from)?;
        let encryption = d.encryption.as_ref();
        let vault_id = encryption
            .and_then(|e| e.key_vault_id.clone())
            .ok_or_else(|| {
                PlanError::Invalid("the audit did not find the account's key vault".into())
            })?;
        let key_name = encryption
            .and_then(|e| e.key_name.clone())
            .ok_or_else(|| PlanError::Invalid("the account names no key".into()))?;
        let targets = Targets {
            identity_id: encryption
                .and_then(|e| e.identity.clone())
                .unwrap_or_else(|| SYSTEM_ASSIGNED.to_string()),
            vault_id,
            key_name,
        };
        let seen = observe(self.arm, &account_id, &targets).await?;
        let mut changes = Vec::new();
        changes.extend(self.vault_change(&account_id, &targets, &seen));
        if seen.principal(&targets).is_some() {
            changes.extend(self.grant_change(&account_id, &targets, &seen));
        }
        Ok(AccountPlan {
            storage_account_id: d.storage_account_id.clone(),
            status: d.status.as_str().to_string(),
            fingerprint: seen.observed(&targets).fingerprint(),
            observed: seen.observed(&targets),
            targets,
            changes,
        })
    }

    /// The user-assigned identities attached to the account that no longer
    /// exist (deleted while attached: Azure keeps listing them on the account
    /// and refuses an update that names one). An identity in its group's list
    /// exists without a read; any other is read, and only a 404 counts as
    /// gone: one that cannot be read is kept, since dropping an identity that
    /// exists would cut off whatever uses it.
    async fn gone_identities(
        &self,
        account: &StorageAccountId,
        targets: &Targets,
        seen: &Observation,
    ) -> Vec<String> {
        let listed = self.identities.get(&group_key(account));
        let mut gone = Vec::new();
        for attached in &seen.account.user_assigned {
            let lower = attached.id.to_ascii_lowercase();
            if attached.id.eq_ignore_ascii_case(&targets.identity_id)
                || listed.is_some_and(|l| l.contains(&lower))
            {
                continue;
            }
            let Ok(id) = ResourceId::parse(&attached.id) else {
                continue;
            };
            match msi::get_identity(self.arm, &id).await {
                Err(e) if e.is_not_found() => gone.push(attached.id.clone()),
                Err(e) => tracing::debug!(error = %e, "an attached identity is kept unread"),
                Ok(_) => {}
            }
        }
        gone
    }

    fn identity_change(
        &self,
        account: &StorageAccountId,
        targets: &Targets,
        seen: &Observation,
    ) -> Option<ResourceChange> {
        if seen.identity.is_some() || targets.identity_id == SYSTEM_ASSIGNED {
            return None;
        }
        let tags = self.tags(account);
        Some(ResourceChange {
            action: Action::Create,
            address: "identity".into(),
            id: targets.identity_id.clone(),
            attributes: vec![
                created("name", json!(last_segment(&targets.identity_id))),
                created("location", json!(seen.account.location)),
                created("principal_id", json!(KNOWN_AFTER_APPLY)),
                created("tags", json!(tags)),
            ],
            irreversible: None,
            desired: Desired::Identity {
                id: targets.identity_id.clone(),
                location: seen.account.location.clone(),
                tags,
            },
        })
    }

    fn vault_change(
        &self,
        account: &StorageAccountId,
        targets: &Targets,
        seen: &Observation,
    ) -> Option<ResourceChange> {
        const PURGE: &str = "purge protection can never be turned off again; deleted keys and the vault stay recoverable (and their names taken) for the retention period";
        match &seen.vault {
            Some(v) if v.purge_protection && v.soft_delete => None,
            Some(v) => {
                let mut attributes = Vec::new();
                if !v.soft_delete {
                    attributes.push(updated("enable_soft_delete", json!(false), json!(true)));
                }
                if !v.purge_protection {
                    attributes.push(updated(
                        "enable_purge_protection",
                        json!(false),
                        json!(true),
                    ));
                }
                Some(ResourceChange {
                    action: Action::Update,
                    address: "key_vault".into(),
                    id: targets.vault_id.clone(),
                    attributes,
                    irreversible: Some(PURGE.into()),
                    desired: Desired::EnablePurgeProtection {
                        id: targets.vault_id.clone(),
                    },
                })
            }
            None => {
                let tags = self.tags(account);
                let rbac = self.settings.permission_model == PermissionModel::Rbac;
                Some(ResourceChange {
                    action: Action::Create,
                    address: "key_vault".into(),
                    id: targets.vault_id.clone(),
                    attributes: vec![
                        created("name", json!(last_segment(&targets.vault_id))),
                        created("location", json!(seen.account.location)),
                        created("sku", json!("standard")),
                        created("enable_soft_delete", json!(true)),
                        created("soft_delete_retention_in_days", json!(90)),
                        created("enable_purge_protection", json!(true)),
                        created("enable_rbac_authorization", json!(rbac)),
                        created("tags", json!(tags)),
                    ],
                    irreversible: Some(PURGE.into()),
                    desired: Desired::KeyVault {
                        id: targets.vault_id.clone(),
                        location: seen.account.location.clone(),
                        tenant_id: self.tenant(account),
                        rbac_authorization: rbac,
                        tags,
                    },
                })
            }
        }
    }

    fn key_change(
        &self,
        account: &StorageAccountId,
        targets: &Targets,
        seen: &Observation,
    ) -> Result<Option<ResourceChange>, PlanError> {
        if let Some(key) = &seen.key {
            let problems = key_reasons(key, &targets.vault_id, chrono::Utc::now().timestamp());
            if let Some(problem) = problems.first() {
                return Err(PlanError::Invalid(format!(
                    "{}; the tool never changes an existing key: choose another --key-name",
                    problem.message
                )));
            }
            return Ok(None);
        }
        let s = self.settings;
        let tags = self.tags(account);
        let mut attributes = vec![
            created("name", json!(targets.key_name)),
            created("kty", json!("RSA")),
            created("key_size", json!(s.key_size)),
            created("key_ops", json!(["wrapKey", "unwrapKey"])),
        ];
        if let Some(days) = s.key_expiry_days {
            attributes.push(created("expires_in_days", json!(days)));
        }
        if let Some(days) = s.key_rotation_days {
            attributes.push(created("rotate_after_days", json!(days)));
        }
        Ok(Some(ResourceChange {
            action: Action::Create,
            address: "key".into(),
            id: format!("{}/keys/{}", targets.vault_id, targets.key_name),
            attributes,
            irreversible: None,
            desired: Desired::Key {
                vault_id: targets.vault_id.clone(),
                name: targets.key_name.clone(),
                key_size: s.key_size,
                expiry_days: s.key_expiry_days,
                rotation_days: s.key_rotation_days,
                tags,
            },
        }))
    }

    fn grant_change(
        &self,
        account: &StorageAccountId,
        targets: &Targets,
        seen: &Observation,
    ) -> Option<ResourceChange> {
        if seen.grant_exists {
            return None;
        }
        let principal = match seen.principal(targets) {
            Some(principal_id) => Principal::Known { principal_id },
            None => Principal::OfIdentity {
                identity_id: targets.identity_id.clone(),
            },
        };
        let principal_text = match &principal {
            Principal::Known { principal_id } => json!(principal_id),
            Principal::OfIdentity { .. } => json!(KNOWN_AFTER_APPLY),
        };
        let rbac = seen.vault.as_ref().map_or(
            self.settings.permission_model == PermissionModel::Rbac,
            |v| v.rbac_authorization,
        );
        if rbac {
            let scope = format!("{}/keys/{}", targets.vault_id, targets.key_name);
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
                account.subscription_id()
            );
            let id = format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}");
            Some(ResourceChange {
                action: Action::Create,
                address: "role_assignment".into(),
                id: id.clone(),
                attributes: vec![
                    created("scope", json!(scope)),
                    created("role", json!("Key Vault Crypto Service Encryption User")),
                    created("principal_id", principal_text),
                    created("principal_type", json!("ServicePrincipal")),
                ],
                irreversible: None,
                desired: Desired::RoleAssignment {
                    id,
                    scope,
                    role_definition_id: role,
                    principal,
                },
            })
        } else {
            Some(ResourceChange {
                action: Action::Create,
                address: "access_policy".into(),
                id: format!(
                    "{}/accessPolicies/{}",
                    targets.vault_id,
                    match &principal {
                        Principal::Known { principal_id } => principal_id.clone(),
                        Principal::OfIdentity { identity_id } =>
                            last_segment(identity_id).to_string(),
                    }
                ),
                attributes: vec![
                    created("object_id", principal_text),
                    created("key_permissions", json!(["get", "wrapKey", "unwrapKey"])),
                ],
                irreversible: None,
                desired: Desired::AccessPolicy {
                    vault_id: targets.vault_id.clone(),
                    tenant_id: self.tenant(account),
                    principal,
                },
            })
        }
    }
}

fn vault_uri(arm: &Arm, targets: &Targets, seen: &Observation) -> String {
    seen.vault
        .as_ref()
        .and_then(|v| v.vault_uri.clone())
        .unwrap_or_else(|| {
            format!(
                "https://{}.{}/",
                last_segment(&targets.vault_id).to_ascii_lowercase(),
                keyvault::vault_dns_suffix(arm.endpoint())
            )
        })
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

fn storage_change(
    account: &StorageAccountId,
    targets: &Targets,
    seen: &Observation,
    vault_uri: &str,
    gone: &[String],
) -> ResourceChange {
    let a = &seen.account;
    let identity_type = with_user_assigned(&a.identity_type);
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
    let before_ids: Vec<&str> = a.user_assigned.iter().map(|u| u.id.as_str()).collect();
    let mut attributes = Vec::new();
    let mut diff = |name: &str, before: Value, after: Value| {
        if before != after {
            attributes.push(updated(name, before, after));
        }
    };
    diff(
        "identity.type",
        json!(a.identity_type),
        json!(identity_type),
    );
    diff(
        "identity.user_assigned_identities",
        json!(before_ids),
        json!(identities),
    );
    for id in gone {
        diff(
            "identity.dropped_identity",
            json!(id),
            json!(DROPPED_IDENTITY),
        );
    }
    diff(
        "encryption.key_source",
        json!(a.key_source),
        json!("Microsoft.Keyvault"),
    );
    diff(
        "encryption.key_vault_uri",
        json!(a.key_vault_uri),
        json!(vault_uri),
    );
    diff(
        "encryption.key_name",
        json!(a.key_name),
        json!(targets.key_name),
    );
    diff("encryption.key_version", json!(a.key_version), Value::Null);
    diff(
        "encryption.identity",
        json!(a.encryption_identity),
        json!(targets.identity_id),
    );
    ResourceChange {
        action: Action::Update,
        address: "storage_account".into(),
        id: account.to_string(),
        attributes,
        irreversible: None,
        desired: Desired::StorageEncryption {
            account_id: account.to_string(),
            identity_type,
            user_assigned_identities: identities,
            dropped_identities: gone.to_vec(),
            identity_id: targets.identity_id.clone(),
            key_vault_uri: vault_uri.to_string(),
            key_name: targets.key_name.clone(),
        },
    }
}

/// What the plan shows for an attached identity that is not sent back.
pub const DROPPED_IDENTITY: &str = "(dropped: it no longer exists)";

fn created(name: &str, after: Value) -> AttributeChange {
    AttributeChange {
        name: name.into(),
        before: None,
        after,
    }
}

fn updated(name: &str, before: Value, after: Value) -> AttributeChange {
    AttributeChange {
        name: name.into(),
        before: Some(before),
        after,
    }
}

fn last_segment(id: &str) -> &str {
    id.trim_end_matches('/').rsplit('/').next().unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_a_user_assigned_identity_keeps_the_system_assigned_one() {
        assert_eq!(with_user_assigned("None"), "UserAssigned");
        assert_eq!(with_user_assigned(""), "UserAssigned");
        assert_eq!(
            with_user_assigned("SystemAssigned"),
            "SystemAssigned,UserAssigned"
        );
        assert_eq!(with_user_assigned("UserAssigned"), "UserAssigned");
        assert_eq!(
            with_user_assigned("SystemAssigned,UserAssigned"),
            "SystemAssigned,UserAssigned"
        );
    }
}
