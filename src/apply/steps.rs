//! One account's steps. Each writes only what is missing, so running it
//! again after any failure or crash converges without a second identity,
//! vault, key or grant: identity and vault are read before they are created,
//! the key is created only if it does not exist, the role assignment's name
//! is derived from the grant (writing it again changes nothing), and the
//! account is read just before its update. Nothing here deletes, disables or
//! removes anything. What Azure answered is kept for the verification.

use super::diagnose;
use super::failure::Failure;
use super::report::{AccountResult, Outcome, StepResult, StepStatus};
use super::wait::{self, Propagation, Waited};
use super::{verify, ApplyOptions, Progress};
use crate::audit::classify::{key_reasons, policy_gap};
use crate::azure::authorization::RoleAssignment;
use crate::azure::connection::KEYVAULT_API;
use crate::azure::id::{ResourceId, StorageAccountId};
use crate::azure::keyvault::{KeyVault, VaultKey};
use crate::azure::msi::Identity;
use crate::azure::storage::StorageAccount;
use crate::azure::{keyvault, msi, storage, write, Arm, AzureError};
use crate::plan::build::{with_user_assigned, TAG_ACCOUNT};
use crate::plan::{AccountPlan, Desired, ObservedAccount, Principal};
use std::time::{Duration, Instant};

fn fail(step: &str, error: AzureError) -> Failure {
    Failure::azure("apply", step, error)
}

fn stop(step: &str, reason: impl Into<String>, next_step: impl Into<String>) -> Failure {
    Failure::stop(step, reason, next_step)
}

fn record(address: &str, id: &str, status: StepStatus, call: Option<String>) -> StepResult {
    StepResult {
        address: address.into(),
        id: id.into(),
        status,
        call,
    }
}

/// The call a desired state turns into (what `--dry-run` shows).
pub fn call_for(desired: &Desired) -> String {
    match desired {
        Desired::Identity { id, .. } => format!("PUT {id}?api-version={}", write::MSI_API),
        Desired::KeyVault { id, .. } => {
            format!("PUT {id}?api-version={KEYVAULT_API}, then GET until provisioned")
        }
        Desired::EnablePurgeProtection { id } => {
            format!("PATCH {id}?api-version={KEYVAULT_API} (enablePurgeProtection: true)")
        }
        Desired::Key { vault_id, name, .. } => {
            format!("PUT {vault_id}/keys/{name}?api-version={KEYVAULT_API}")
        }
        Desired::AccessPolicy { vault_id, .. } => {
            format!("PUT {vault_id}/accessPolicies/add?api-version={KEYVAULT_API}")
        }
        Desired::RoleAssignment { id, .. } => {
            format!("PUT {id}?api-version={}", write::ROLE_ASSIGNMENTS_API)
        }
        Desired::StorageEncryption { account_id, .. } => {
            format!("PATCH {account_id}?api-version={}", write::STORAGE_API)
        }
    }
}

pub fn dry_run(account: &AccountPlan) -> AccountResult {
    AccountResult {
        storage_account_id: account.storage_account_id.clone(),
        outcome: Outcome::Skipped,
        reason: Some("dry run: nothing was written".into()),
        next_step: None,
        steps: account
            .changes
            .iter()
            .map(|c| {
                record(
                    &c.address,
                    &c.id,
                    StepStatus::WouldCall,
                    Some(call_for(&c.desired)),
                )
            })
            .collect(),
    }
}

/// How the account's encryption differs from what the plan saw, in words;
/// `None` when it is as the plan saw it. The storage update takes over how
/// the data is encrypted, so it must not overwrite a key that someone set
/// between the plan and this step.
fn encryption_changed(planned: &ObservedAccount, now: &StorageAccount) -> Option<String> {
    let same = |a: &Option<String>, b: &Option<String>| match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a
            .trim_end_matches('/')
            .eq_ignore_ascii_case(b.trim_end_matches('/')),
        _ => false,
    };
    let unchanged = planned.key_source.eq_ignore_ascii_case(&now.key_source)
        && same(&planned.key_vault_uri, &now.key_vault_uri)
        && same(&planned.key_name, &now.key_name)
        && same(&planned.key_version, &now.key_version)
        && same(&planned.encryption_identity, &now.encryption_identity);
    let shown = |v: &Option<String>| v.as_deref().unwrap_or("none").to_string();
    (!unchanged).then(|| {
        format!(
            "the account's encryption changed since the plan: it is now keySource {} with key vault {}, key {}, identity {} (the plan saw keySource {})",
            now.key_source,
            shown(&now.key_vault_uri),
            shown(&now.key_name),
            shown(&now.encryption_identity),
            planned.key_source,
        )
    })
}

pub struct Runner<'a> {
    arm: &'a Arm,
    account: &'a AccountPlan,
    options: &'a ApplyOptions,
    progress: &'a dyn Progress,
    propagation: &'a Propagation,
    steps: Vec<StepResult>,
    /// What Azure answered the steps, for the verification.
    seen: Seen,
}

/// The resources as the steps left them.
#[derive(Default)]
struct Seen {
    identity: Option<Identity>,
    vault: Option<KeyVault>,
    key: Option<VaultKey>,
    role_assignment: Option<RoleAssignment>,
    /// When this run created the grant.
    granted: Option<Instant>,
}

impl<'a> Runner<'a> {
    pub fn new(
        arm: &'a Arm,
        account: &'a AccountPlan,
        options: &'a ApplyOptions,
        progress: &'a dyn Progress,
        propagation: &'a Propagation,
    ) -> Self {
        Runner {
            arm,
            account,
            options,
            progress,
            propagation,
            steps: Vec::new(),
            seen: Seen::default(),
        }
    }

    pub async fn run(mut self) -> AccountResult {
        let result = crate::logging::watched(
            self.progress.watcher(&self.account.storage_account_id),
            self.execute(),
        )
        .await;
        let (outcome, reason, next_step) = match result {
            Ok(()) => (Outcome::Done, None, None),
            Err(f) => {
                self.steps
                    .push(record(&f.step, "", StepStatus::Failed, None));
                (
                    Outcome::Failed,
                    Some(format!("{}: {}", f.step, f.reason)),
                    Some(f.next_step),
                )
            }
        };
        AccountResult {
            storage_account_id: self.account.storage_account_id.clone(),
            outcome,
            reason,
            next_step,
            steps: self.steps,
        }
    }

    fn find(&self, pick: impl Fn(&Desired) -> bool) -> Option<&'a Desired> {
        self.account
            .changes
            .iter()
            .map(|c| &c.desired)
            .find(|d| pick(d))
    }

    async fn execute(&mut self) -> Result<(), Failure> {
        let id = self.account.storage_account_id.clone();
        let identity = self.find(|d| matches!(d, Desired::Identity { .. }));
        let vault = self.find(|d| {
            matches!(
                d,
                Desired::KeyVault { .. } | Desired::EnablePurgeProtection { .. }
            )
        });
        self.progress.step(&id, "identity and key vault");
        let (identity, vault) = tokio::join!(
            async {
                match identity {
                    Some(d) => self.ensure_identity(d).await.map(Some),
                    None => Ok(None),
                }
            },
            async {
                match vault {
                    Some(d) => self.ensure_vault(d).await.map(Some),
                    None => Ok(None),
                }
            }
        );
        if let Some((step, identity)) = identity? {
            self.steps.push(step);
            self.seen.identity = identity;
        }
        if let Some((step, vault)) = vault? {
            self.steps.push(step);
            self.seen.vault = vault;
        }

        if let Some(d) = self.find(|d| matches!(d, Desired::Key { .. })) {
            self.progress.step(&id, "key");
            let (step, key) = self.ensure_key(d).await?;
            self.steps.push(step);
            self.seen.key = Some(key);
        }
        if let Some(d) = self.find(|d| {
            matches!(
                d,
                Desired::AccessPolicy { .. } | Desired::RoleAssignment { .. }
            )
        }) {
            self.progress.step(&id, "grant");
            let step = self.ensure_grant(d).await?;
            self.steps.push(step);
        }
        let mut key_vault_uri = None;
        if let Some(d) = self.find(|d| matches!(d, Desired::StorageEncryption { .. })) {
            self.progress.step(&id, "storage account");
            if let Desired::StorageEncryption {
                key_vault_uri: uri, ..
            } = d
            {
                key_vault_uri = Some(uri.as_str());
            }
            let step = self.ensure_storage(d).await?;
            self.steps.push(step);
        }
        self.progress.step(&id, "verify");
        let account_id = StorageAccountId::parse(&id)
            .map_err(|e| stop("verify", e.to_string(), "run plan again"))?;
        let seen = std::mem::take(&mut self.seen);
        let known = verify::Known {
            vault: seen.vault,
            key: seen.key,
            identity: seen.identity,
            role_assignment: seen.role_assignment,
        };
        verify::verify(
            self.arm,
            &account_id,
            &self.account.targets,
            key_vault_uri,
            known,
        )
        .await
        .map_err(|problem| {
            stop(
                "verify",
                format!("the account does not show a working customer-managed key: {problem}"),
                "run audit to see the account's state, then run apply again",
            )
        })?;
        self.steps
            .push(record("verify", &id, StepStatus::Verified, None));
        Ok(())
    }

    /// Whether this run saw the account's vault provisioned (its vault step
    /// waited for it, or a read found it so).
    fn vault_seen_provisioned(&self) -> bool {
        self.seen.vault.as_ref().is_some_and(|v| v.provisioned)
    }

    fn propagation_timeout(&self) -> Duration {
        self.options.propagation_timeout
    }

    /// The identity, read first and created only if missing.
    async fn ensure_identity(
        &self,
        desired: &Desired,
    ) -> Result<(StepResult, Option<Identity>), Failure> {
        let Desired::Identity { id, location, tags } = desired else {
            unreachable!("called for identities only")
        };
        let rid =
            ResourceId::parse(id).map_err(|e| stop("identity", e.to_string(), "run plan again"))?;
        match msi::get_identity(self.arm, &rid).await {
            Ok(identity) => Ok((
                record("identity", id, StepStatus::AlreadyDone, None),
                Some(identity),
            )),
            Err(e) if e.is_not_found() => {
                let answer = write::create_identity(self.arm, id, location, tags)
                    .await
                    .map_err(|e| fail("identity", e))?;
                // It carries the principal id; an answer that does not read
                // as an identity only means the grant step reads it.
                let created = msi::identity_from_json(&rid, answer).ok();
                let step = record("identity", id, StepStatus::Created, Some(call_for(desired)));
                Ok((step, created))
            }
            Err(e) => Err(fail("identity", e)),
        }
    }

    /// The vault (read first, created only if missing, then waited for), or
    /// purge protection turned on. With the vault as last seen, when that
    /// still holds after the step.
    async fn ensure_vault(
        &self,
        desired: &Desired,
    ) -> Result<(StepResult, Option<KeyVault>), Failure> {
        match desired {
            Desired::KeyVault {
                id,
                location,
                tenant_id,
                rbac_authorization,
                tags,
            } => {
                let rid = ResourceId::parse(id)
                    .map_err(|e| stop("key_vault", e.to_string(), "run plan again"))?;
                let (status, seen) = match keyvault::get_vault(self.arm, &rid).await {
                    Ok(existing) => {
                        let ours = existing.tags.get(TAG_ACCOUNT).is_some_and(|a| {
                            tags.get(TAG_ACCOUNT)
                                .is_some_and(|t| t.eq_ignore_ascii_case(a))
                        });
                        if !ours {
                            return Err(stop(
                                "key_vault",
                                format!("{id} exists and was not created for this account"),
                                "run plan again (it picks a free name)",
                            ));
                        }
                        (StepStatus::AlreadyDone, Some(existing))
                    }
                    Err(e) if e.is_not_found() => {
                        let answer = write::create_vault(
                            self.arm,
                            id,
                            location,
                            tenant_id,
                            *rbac_authorization,
                            tags,
                        )
                        .await
                        .map_err(|e| fail("key_vault", e))?;
                        // Unreadable as a vault: the wait reads it instead.
                        (
                            StepStatus::Created,
                            keyvault::vault_from_json(&rid, answer).ok(),
                        )
                    }
                    Err(e) => return Err(fail("key_vault", e)),
                };
                let vault =
                    wait::vault_provisioned(self.arm, &rid, seen, self.propagation_timeout())
                        .await
                        .map_err(|e| fail("key_vault", e))?;
                if !vault.provisioned {
                    return Err(stop(
                        "key_vault",
                        format!("{id} is still provisioning"),
                        "run apply again in a few minutes",
                    ));
                }
                let call = (status == StepStatus::Created).then(|| call_for(desired));
                Ok((record("key_vault", id, status, call), Some(vault)))
            }
            Desired::EnablePurgeProtection { id } => {
                let rid = ResourceId::parse(id)
                    .map_err(|e| stop("key_vault", e.to_string(), "run plan again"))?;
                let vault = keyvault::get_vault(self.arm, &rid)
                    .await
                    .map_err(|e| fail("key_vault", e))?;
                if vault.purge_protection && vault.soft_delete {
                    let step = record("key_vault", id, StepStatus::AlreadyDone, None);
                    return Ok((step, Some(vault)));
                }
                write::enable_purge_protection(self.arm, id)
                    .await
                    .map_err(|e| fail("key_vault", e))?;
                let step = record(
                    "key_vault",
                    id,
                    StepStatus::Updated,
                    Some(call_for(desired)),
                );
                Ok((step, None))
            }
            _ => unreachable!("called for vaults only"),
        }
    }

    /// The key: created if it does not exist. Azure answers an existing key
    /// unchanged instead, so the answer is checked like a key found.
    ///
    /// A vault this run did not create or wait for (the plan found it: an
    /// earlier run, killed while the vault was still `RegisteringDns`,
    /// created it) may still be provisioning, and Key Vault refuses keys
    /// until it is (409): then it is waited for like a new vault and the key
    /// written again. Only a refused write costs the reads.
    async fn ensure_key(&mut self, desired: &Desired) -> Result<(StepResult, VaultKey), Failure> {
        let Desired::Key {
            vault_id,
            name,
            key_size,
            expiry_days,
            rotation_days,
            tags,
        } = desired
        else {
            unreachable!("called for keys only")
        };
        let id = format!("{vault_id}/keys/{name}");
        let create = || {
            write::create_key(
                self.arm,
                vault_id,
                name,
                *key_size,
                *expiry_days,
                *rotation_days,
                tags,
            )
        };
        let answer = match create().await {
            Ok(answer) => answer,
            Err(e) if e.status() == Some(409) && !self.vault_seen_provisioned() => {
                let rid = ResourceId::parse(vault_id)
                    .map_err(|e| stop("key", e.to_string(), "run plan again"))?;
                let vault = keyvault::get_vault(self.arm, &rid)
                    .await
                    .map_err(|e| fail("key", e))?;
                if vault.provisioned {
                    // Not the vault's provisioning: Azure's refusal stands.
                    self.seen.vault = Some(vault);
                    return Err(fail("key", e));
                }
                tracing::info!(vault = %vault_id, "waiting for the vault to finish provisioning before its key");
                let vault = wait::vault_provisioned(
                    self.arm,
                    &rid,
                    Some(vault),
                    self.propagation_timeout(),
                )
                .await
                .map_err(|e| fail("key", e))?;
                if !vault.provisioned {
                    return Err(stop(
                        "key",
                        format!("{vault_id} is still provisioning"),
                        "run apply again in a few minutes",
                    ));
                }
                self.seen.vault = Some(vault);
                create().await.map_err(|e| fail("key", e))?
            }
            Err(e) => return Err(fail("key", e)),
        };
        let key = match keyvault::key_from_json(name, answer) {
            Ok(key) => key,
            // An answer that does not read as a key: read it.
            Err(_) => {
                let vault = ResourceId::parse(vault_id)
                    .map_err(|e| stop("key", e.to_string(), "run plan again"))?;
                keyvault::get_key(self.arm, &vault, name, None)
                    .await
                    .map_err(|e| fail("key", e))?
            }
        };
        match key_reasons(&key, vault_id, chrono::Utc::now().timestamp()).first() {
            None => Ok((record("key", &id, StepStatus::Created, Some(call_for(desired))), key)),
            Some(problem) => Err(stop(
                "key",
                problem.message.clone(),
                "the tool never changes an existing key: choose another --key-name and run plan again",
            )),
        }
    }

    /// The principal id of a grant: known in the plan, or of the identity
    /// the identity step saw (read only when that step did not run).
    async fn principal_id(&self, principal: &Principal, step: &str) -> Result<String, Failure> {
        match principal {
            Principal::Known { principal_id } => Ok(principal_id.clone()),
            Principal::OfIdentity { identity_id } => {
                if let Some(principal_id) = self
                    .seen
                    .identity
                    .as_ref()
                    .filter(|i| i.id.as_str().eq_ignore_ascii_case(identity_id))
                    .and_then(|i| i.principal_id.clone())
                {
                    return Ok(principal_id);
                }
                let rid = ResourceId::parse(identity_id)
                    .map_err(|e| stop(step, e.to_string(), "run plan again"))?;
                let identity = msi::get_identity(self.arm, &rid)
                    .await
                    .map_err(|e| fail(step, e))?;
                identity.principal_id.ok_or_else(|| {
                    stop(
                        step,
                        format!("{identity_id} has no principal id yet"),
                        "run apply again in a minute",
                    )
                })
            }
        }
    }

    /// The grant. A role assignment is written without reading it first:
    /// the plan found none, and writing it again under its name changes
    /// nothing (ARM answers 200 instead of 201).
    async fn ensure_grant(&mut self, desired: &Desired) -> Result<StepResult, Failure> {
        match desired {
            Desired::AccessPolicy {
                vault_id,
                tenant_id,
                principal,
            } => {
                let step = "access_policy";
                let principal = self.principal_id(principal, step).await?;
                let id = format!("{vault_id}/accessPolicies/{principal}");
                let rid = ResourceId::parse(vault_id)
                    .map_err(|e| stop(step, e.to_string(), "run plan again"))?;
                let vault = keyvault::get_vault(self.arm, &rid)
                    .await
                    .map_err(|e| fail(step, e))?;
                // The verification reads the vault again, with the policy.
                self.seen.vault = None;
                if policy_gap(&vault, &principal).is_none() {
                    return Ok(record(step, &id, StepStatus::AlreadyDone, None));
                }
                write::add_key_access_policy(self.arm, vault_id, tenant_id, &principal)
                    .await
                    .map_err(|e| fail(step, e))?;
                self.seen.granted = Some(Instant::now());
                Ok(record(
                    step,
                    &id,
                    StepStatus::Created,
                    Some(call_for(desired)),
                ))
            }
            Desired::RoleAssignment {
                id,
                role_definition_id,
                principal,
                ..
            } => {
                let step = "role_assignment";
                let principal = self.principal_id(principal, step).await?;
                let scope = id
                    .split("/providers/Microsoft.Authorization/")
                    .next()
                    .unwrap_or_default();
                let assignment = RoleAssignment {
                    id: id.clone(),
                    scope: scope.to_string(),
                    role_definition_id: role_definition_id.clone(),
                    principal_id: principal.clone(),
                };
                // A just-created identity may not be in the directory yet: PrincipalNotFound.
                let created = wait::retry_propagation(self.propagation_timeout(), || {
                    write::create_role_assignment(self.arm, id, role_definition_id, &principal)
                })
                .await;
                match created {
                    Waited::Done(true) => {
                        self.seen.granted = Some(Instant::now());
                        self.seen.role_assignment = Some(assignment);
                        Ok(record(step, id, StepStatus::Created, Some(call_for(desired))))
                    }
                    Waited::Done(false) => {
                        self.seen.role_assignment = Some(assignment);
                        Ok(record(step, id, StepStatus::AlreadyDone, None))
                    }
                    // The same grant under another name: already there.
                    Waited::Failed(e) if e.code() == Some("RoleAssignmentExists") => {
                        Ok(record(step, id, StepStatus::AlreadyDone, None))
                    }
                    Waited::Failed(e) => Err(fail(step, e)),
                    Waited::TimedOut(e) => Err(stop(
                        step,
                        format!("the identity did not reach the directory within the propagation timeout: {e}"),
                        "run apply again in a few minutes, or raise --propagation-timeout",
                    )),
                }
            }
            _ => unreachable!("called for grants only"),
        }
    }

    async fn ensure_storage(&self, desired: &Desired) -> Result<StepResult, Failure> {
        let Desired::StorageEncryption {
            account_id,
            user_assigned_identities,
            dropped_identities,
            identity_id,
            key_vault_uri,
            key_name,
            ..
        } = desired
        else {
            unreachable!("called for storage only")
        };
        let step = "storage_account";
        let sid = StorageAccountId::parse(account_id)
            .map_err(|e| stop(step, e.to_string(), "run plan again"))?;
        // A grant made a moment ago: an attempt before grants in this run
        // have been seen to take effect would only spend a write. (Waiting
        // before the read keeps the read close to the write.)
        let granted = self.seen.granted;
        let propagation = self.propagation;
        if let Some(granted) = granted {
            propagation.wait_for(granted).await;
        }
        let current = storage::get(self.arm, &sid)
            .await
            .map_err(|e| fail(step, e))?;
        let same = |a: &Option<String>, b: &str| {
            a.as_deref().is_some_and(|a| {
                a.trim_end_matches('/')
                    .eq_ignore_ascii_case(b.trim_end_matches('/'))
            })
        };
        if current.uses_key_vault()
            && same(&current.key_vault_uri, key_vault_uri)
            && same(&current.key_name, key_name)
            && same(&current.encryption_identity, identity_id)
            && current.key_version.is_none()
        {
            return Ok(record(step, account_id, StepStatus::AlreadyDone, None));
        }
        if let Some(change) = encryption_changed(&self.account.observed.account, &current) {
            return Err(stop(
                step,
                format!("{change}; the tool does not override a key someone set"),
                "run plan again, review it, and apply the new plan",
            ));
        }
        // Keep every identity the account has now (even one added since the
        // plan), plus the planned ones; not those the plan found deleted
        // (Azure refuses an update naming one, and leaves them listed).
        let dropped = |id: &str| {
            dropped_identities
                .iter()
                .any(|d| d.eq_ignore_ascii_case(id))
        };
        let mut identities: Vec<String> = current
            .user_assigned
            .iter()
            .map(|u| u.id.clone())
            .filter(|id| !dropped(id))
            .collect();
        for id in user_assigned_identities
            .iter()
            .chain(std::iter::once(identity_id))
        {
            if !identities.iter().any(|i| i.eq_ignore_ascii_case(id)) {
                identities.push(id.clone());
            }
        }
        let identity_type = with_user_assigned(&current.identity_type);
        let vault_id = &self.account.targets.vault_id;
        let diagnoses = diagnose::Diagnoses::default();
        // `Ok(Err(cause))`: refused for a cause waiting cannot cure.
        let switched = wait::retry_propagation(self.propagation_timeout(), || {
            let diagnoses = &diagnoses;
            let identities = &identities;
            let identity_type = &identity_type;
            async move {
                if let Some(granted) = granted {
                    propagation.wait_for(granted).await;
                }
                let result = write::switch_storage_to_key(
                    self.arm,
                    account_id,
                    identity_type,
                    identities,
                    identity_id,
                    key_vault_uri,
                    key_name,
                )
                .await;
                if let Err(e) = &result {
                    if e.code() == Some("KeyVaultAuthenticationFailure")
                        && diagnoses.due(Instant::now())
                    {
                        if let Some(cause) =
                            diagnose::refusal_cause(self.arm, vault_id, key_name).await
                        {
                            return Ok(Err((e.to_string(), cause)));
                        }
                    }
                }
                if let Some(granted) = granted {
                    match &result {
                        Ok(_) => propagation.usable(granted),
                        Err(e) if wait::is_propagation(e) => propagation.refused(granted),
                        Err(_) => {}
                    }
                }
                result.map(Ok)
            }
        })
        .await;
        match switched {
            Waited::Done(Ok(_)) => Ok(record(step, account_id, StepStatus::Updated, Some(call_for(desired)))),
            Waited::Done(Err((refusal, cause))) => Err(stop(
                step,
                format!("Azure Storage cannot use the key: {cause} ({refusal})"),
                "fix that, then run apply again: waiting would not help",
            )),
            Waited::Failed(e) => Err(fail(step, e)),
            Waited::TimedOut(e) => Err(stop(
                step,
                format!("Azure Storage still cannot use the key after the propagation timeout: {e}"),
                "the grant may still be propagating: run apply again in a few minutes, or raise --propagation-timeout",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(key_source: &str, uri: Option<&str>, key: Option<&str>) -> StorageAccount {
        StorageAccount {
            id: StorageAccountId::parse(
                "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1",
            )
            .expect("a valid id"),
            location: "westeurope".into(),
            key_source: key_source.into(),
            key_vault_uri: uri.map(str::to_string),
            key_name: key.map(str::to_string),
            key_version: None,
            encryption_identity: None,
            identity_type: "None".into(),
            system_principal_id: None,
            user_assigned: vec![],
            tags: Default::default(),
        }
    }

    fn planned(key_source: &str, uri: Option<&str>, key: Option<&str>) -> ObservedAccount {
        ObservedAccount {
            location: "westeurope".into(),
            key_source: key_source.to_ascii_lowercase(),
            key_vault_uri: uri.map(str::to_string),
            key_name: key.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn an_account_as_the_plan_saw_it_is_unchanged_in_any_casing() {
        assert_eq!(
            encryption_changed(
                &planned("Microsoft.Storage", None, None),
                &account("Microsoft.Storage", None, None)
            ),
            None
        );
        assert_eq!(
            encryption_changed(
                &planned(
                    "Microsoft.Keyvault",
                    Some("https://kv1.vault.azure.net/"),
                    Some("k")
                ),
                &account(
                    "microsoft.keyvault",
                    Some("https://KV1.vault.azure.net"),
                    Some("K")
                )
            ),
            None
        );
    }

    #[test]
    fn a_key_set_since_the_plan_is_named_and_not_overridden() {
        let change = encryption_changed(
            &planned("Microsoft.Storage", None, None),
            &account(
                "Microsoft.Keyvault",
                Some("https://theirs.vault.azure.net/"),
                Some("their-key"),
            ),
        )
        .expect("a change");
        assert!(
            change.contains("https://theirs.vault.azure.net/"),
            "{change}"
        );
        assert!(change.contains("their-key"), "{change}");
        let other_key = encryption_changed(
            &planned(
                "Microsoft.Keyvault",
                Some("https://kv1.vault.azure.net/"),
                Some("k"),
            ),
            &account(
                "Microsoft.Keyvault",
                Some("https://kv1.vault.azure.net/"),
                Some("k2"),
            ),
        );
        assert!(other_key.is_some());
    }
}
