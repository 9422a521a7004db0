//! The reading half of planning: everything the diff (`diff.rs`) needs about
//! each account, read at once where ARM allows (tenants per subscription,
//! identities per resource group) and per account otherwise (the vault name
//! that is free, the identity, vault, key and grant, identities that are
//! gone). Only reads; never writes.

use super::build::PlanError;
use super::diff::{AccountInputs, Purpose};
use super::model::*;
use super::naming;
use super::observe::{observe, Observation, SYSTEM_ASSIGNED};
use super::ownership::names_account;
use crate::audit::{AuditReport, Destination, Status};
use crate::azure::id::{ResourceId, StorageAccountId};
use crate::azure::keyvault;
use crate::azure::{resources, subscriptions, Arm, AzureError, Snapshot};
use futures::stream::{self, StreamExt};
use std::collections::{BTreeMap, BTreeSet};

const IDENTITY_TYPE: &str = "Microsoft.ManagedIdentity/userAssignedIdentities";

/// What is read once for all accounts.
pub struct Gatherer<'a> {
    arm: &'a Arm,
    /// The command's reads so far (the audit's), and what gathering learns.
    snapshot: &'a Snapshot,
    settings: &'a PlanSettings,
    /// Tenant per subscription id (lower case).
    pub tenants: BTreeMap<String, String>,
    /// The user-assigned identities (lower-case ids) of each resource group
    /// that will hold new ones, by `group_key`: one list per group instead of
    /// a read per account. A group missing here is read account by account.
    identities: BTreeMap<String, BTreeSet<String>>,
}

fn group_key(account: &StorageAccountId) -> String {
    format!("{}/{}", account.subscription_id(), account.resource_group()).to_ascii_lowercase()
}

pub fn needs_plan(status: Status) -> bool {
    matches!(status, Status::NonCompliant | Status::CmkBroken)
}

impl<'a> Gatherer<'a> {
    /// The reads every account shares.
    pub async fn new(
        arm: &'a Arm,
        snapshot: &'a Snapshot,
        report: &AuditReport,
        settings: &'a PlanSettings,
        parallelism: usize,
    ) -> Result<Gatherer<'a>, PlanError> {
        let tenants = tenants(arm, snapshot, report, parallelism).await?;
        let identities = match settings.identity {
            Some(_) => BTreeMap::new(),
            None => identities_by_group(arm, report, parallelism).await,
        };
        Ok(Gatherer {
            arm,
            snapshot,
            settings,
            tenants,
            identities,
        })
    }

    fn tenant(&self, account: &StorageAccountId) -> String {
        self.tenants
            .get(&account.subscription_id().to_ascii_lowercase())
            .cloned()
            .unwrap_or_default()
    }

    fn inputs(
        &self,
        account_id: StorageAccountId,
        purpose: Purpose,
        targets: Targets,
        seen: Observation,
        gone_identities: Vec<String>,
    ) -> AccountInputs {
        AccountInputs {
            tenant_id: self.tenant(&account_id),
            vault_uri: vault_uri(self.arm, &targets, &seen),
            account_id,
            purpose,
            targets,
            seen,
            gone_identities,
            now: chrono::Utc::now().timestamp(),
        }
    }

    /// A `non_compliant` account: the identity and vault it will use (given,
    /// or named from the templates) and what exists of them.
    pub async fn remediation(&self, d: &Destination) -> Result<AccountInputs, PlanError> {
        let account_id =
            StorageAccountId::parse(&d.storage_account_id).map_err(AzureError::from)?;
        // The audit read the account a moment ago.
        let account = self.snapshot.account(self.arm, &account_id).await?;
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
        let vault_id = match &self.settings.key_vault {
            Some(id) => ResourceId::parse(id).map_err(AzureError::from)?,
            None => self.choose_vault(&account_id, &location).await?,
        };
        let targets = Targets {
            identity_id,
            vault_id: vault_id.to_string(),
            key_name: self.settings.key_name.clone(),
        };
        // An identity missing from its group's list is not read (it does not exist).
        if self
            .identities
            .get(&group_key(&account_id))
            .is_some_and(|listed| !listed.contains(&targets.identity_id.to_ascii_lowercase()))
        {
            if let Ok(id) = ResourceId::parse(&targets.identity_id) {
                self.snapshot.feed_identity(&id, None);
            }
        }
        let seen = observe(self.arm, self.snapshot, &account_id, &targets).await?;
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
        let gone = self.gone_identities(&account_id, &targets, &seen).await;
        Ok(self.inputs(account_id, Purpose::Remediation, targets, seen, gone))
    }

    /// A `cmk_broken` account: the vault, key and identity it uses already.
    pub async fn repair(&self, d: &Destination) -> Result<AccountInputs, PlanError> {
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
        let seen = observe(self.arm, self.snapshot, &account_id, &targets).await?;
        Ok(self.inputs(account_id, Purpose::Repair, targets, seen, Vec::new()))
    }

    /// The vault the tool will create for `account`: the first candidate name
    /// that is either our own vault from an earlier run or free everywhere
    /// (vault names are global, and soft-deleted vaults keep theirs). The
    /// snapshot learns whether it exists: a free name needs no read of it.
    async fn choose_vault(
        &self,
        account: &StorageAccountId,
        location: &str,
    ) -> Result<ResourceId, PlanError> {
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
                self.snapshot.feed_vault(&id, None);
                return Ok(id);
            }
            // Taken: by this account's vault from an earlier run, or by another.
            match self.snapshot.vault(self.arm, &id).await? {
                Some(vault) if names_account(&vault.tags, account) => return Ok(id),
                Some(_) => taken.push(format!(
                    "{name} (an existing vault that is not this account's)"
                )),
                None => taken.push(format!("{name} ({})", check.reason)),
            }
        }
        Err(PlanError::Invalid(format!(
            "every vault name tried is taken: {}; set another --vault-name template or use --key-vault",
            taken.join(", ")
        )))
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
            match self.snapshot.identity(self.arm, &id).await {
                Ok(None) => gone.push(attached.id.clone()),
                Err(e) => tracing::debug!(error = %e, "an attached identity is kept unread"),
                Ok(Some(_)) => {}
            }
        }
        gone
    }
}

fn vault_uri(arm: &Arm, targets: &Targets, seen: &Observation) -> String {
    seen.vault
        .as_ref()
        .and_then(|v| v.vault_uri.clone())
        .unwrap_or_else(|| {
            format!(
                "https://{}.{}/",
                super::diff::last_segment(&targets.vault_id).to_ascii_lowercase(),
                arm.cloud().key_vault_dns
            )
        })
}

/// The tenant of every subscription that holds an account to plan for (the
/// vaults created there name it): from the audit's subscription list where it
/// gave them, else read, all at once.
async fn tenants(
    arm: &Arm,
    snapshot: &Snapshot,
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
        match snapshot.tenant(&sub) {
            Some(tenant) => {
                tenants.insert(sub, tenant);
            }
            None => {
                unknown.insert(sub);
            }
        }
    }
    let read: Vec<Result<(String, String), AzureError>> = stream::iter(unknown)
        .map(|sub| async move {
            let tenant = subscriptions::get(arm, &sub).await?.tenant_id;
            snapshot.feed_tenant(&sub, &tenant);
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
