//! One account's steps. Each writes only what is missing, so running it
//! again after any failure or crash converges without a second identity,
//! vault, key or grant: identity and vault are read before they are created,
//! the key is created only if it does not exist, the role assignment's name
//! is derived from the grant (writing it again changes nothing), and the
//! account is read just before its update. Nothing here deletes, disables or
//! removes anything. What Azure answered is kept for the verification.

use super::failure::Failure;
use super::report::{AccountResult, Outcome, StepResult, StepStatus};
use super::wait::{self, Propagation};
use super::{verify, ApplyOptions, Progress};
use crate::audit::classify::key_reasons;
use crate::azure::id::{ResourceId, StorageAccountId};
use crate::azure::{keyvault, msi, Arm, AzureError, Snapshot};
use crate::plan::ownership;
use crate::plan::{
    AccessPolicyGrant, AccountPlan, Action, Desired, IdentityCreate, KeyCreate, PurgeProtection,
    ResourceChange, RoleAssignmentGrant, StorageSwitch, VaultCreate,
};
use std::time::{Duration, Instant};

mod grant;
mod switch;

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

/// What apply would do for the account, written nowhere: `would create`
/// when it creates any resource, else `would update`.
pub fn dry_run(account: &AccountPlan) -> AccountResult {
    let creates = account.changes.iter().any(|c| c.action == Action::Create);
    let outcome = match (account.changes.is_empty(), creates) {
        (true, _) => Outcome::Skipped,
        (false, true) => Outcome::WouldCreate,
        (false, false) => Outcome::WouldUpdate,
    };
    AccountResult {
        storage_account_id: account.storage_account_id.clone(),
        outcome,
        reason: Some("dry run: nothing was written".into()),
        next_step: None,
        steps: account
            .changes
            .iter()
            .map(|c| {
                record(
                    c.address.as_str(),
                    &c.id,
                    StepStatus::WouldCall,
                    Some(c.desired.call()),
                )
            })
            .collect(),
    }
}

/// An account's changes by the step that carries each out: the one place
/// a desired state's kind is told apart.
#[derive(Default)]
struct Steps<'a> {
    identity: Option<&'a IdentityCreate>,
    vault: Option<VaultStep<'a>>,
    key: Option<&'a KeyCreate>,
    grant: Option<GrantStep<'a>>,
    storage: Option<&'a StorageSwitch>,
}

enum VaultStep<'a> {
    Create(&'a VaultCreate),
    Protect(&'a PurgeProtection),
}

enum GrantStep<'a> {
    Policy(&'a AccessPolicyGrant),
    Role(&'a RoleAssignmentGrant),
}

impl<'a> Steps<'a> {
    fn of(changes: &'a [ResourceChange]) -> Self {
        let mut steps = Steps::default();
        for change in changes {
            match &change.desired {
                Desired::Identity(d) => steps.identity = Some(d),
                Desired::KeyVault(d) => steps.vault = Some(VaultStep::Create(d)),
                Desired::EnablePurgeProtection(d) => steps.vault = Some(VaultStep::Protect(d)),
                Desired::Key(d) => steps.key = Some(d),
                Desired::AccessPolicy(d) => steps.grant = Some(GrantStep::Policy(d)),
                Desired::RoleAssignment(d) => steps.grant = Some(GrantStep::Role(d)),
                Desired::StorageEncryption(d) => steps.storage = Some(d),
            }
        }
        steps
    }
}

pub struct Runner<'a> {
    arm: &'a Arm,
    account: &'a AccountPlan,
    options: &'a ApplyOptions,
    progress: &'a dyn Progress,
    propagation: &'a Propagation,
    steps: Vec<StepResult>,
    /// The command's snapshot as this account's apply sees it: only what
    /// was read or written since it began (the steps' reads and their
    /// writes' answers), which the verification builds on.
    snapshot: Snapshot,
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
        snapshot: Snapshot,
    ) -> Self {
        Runner {
            arm,
            account,
            options,
            progress,
            propagation,
            steps: Vec::new(),
            snapshot,
            granted: None,
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

    async fn execute(&mut self) -> Result<(), Failure> {
        let id = self.account.storage_account_id.clone();
        let steps = Steps::of(&self.account.changes);
        self.progress.step(&id, "identity and key vault");
        let (identity, vault) = tokio::join!(
            async {
                match steps.identity {
                    Some(d) => self.ensure_identity(d).await.map(Some),
                    None => Ok(None),
                }
            },
            async {
                match steps.vault {
                    Some(VaultStep::Create(d)) => self.create_vault(d).await.map(Some),
                    Some(VaultStep::Protect(d)) => self.protect_vault(d).await.map(Some),
                    None => Ok(None),
                }
            }
        );
        if let Some(step) = identity? {
            self.steps.push(step);
        }
        if let Some(step) = vault? {
            self.steps.push(step);
        }
        if let Some(d) = steps.key {
            self.progress.step(&id, "key");
            let step = self.ensure_key(d).await?;
            self.steps.push(step);
        }
        if let Some(grant) = steps.grant {
            self.progress.step(&id, "grant");
            let step = match grant {
                GrantStep::Policy(d) => self.grant_access_policy(d).await?,
                GrantStep::Role(d) => self.assign_role(d).await?,
            };
            self.steps.push(step);
        }
        let key_vault_uri = steps.storage.map(|d| d.key_vault_uri.as_str());
        if let Some(d) = steps.storage {
            self.progress.step(&id, "storage account");
            let step = self.ensure_storage(d).await?;
            self.steps.push(step);
        }
        self.progress.step(&id, "verify");
        let account_id = StorageAccountId::parse(&id)
            .map_err(|e| stop("verify", e.to_string(), "run plan again"))?;
        verify::verify(
            self.arm,
            &account_id,
            &self.account.targets,
            key_vault_uri,
            &self.snapshot,
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
    fn vault_seen_provisioned(&self, vault: &ResourceId) -> bool {
        self.snapshot
            .held_vault(vault)
            .flatten()
            .is_some_and(|v| v.provisioned)
    }

    fn propagation_timeout(&self) -> Duration {
        self.options.propagation_timeout
    }

    /// The identity, read first and created only if missing.
    async fn ensure_identity(&self, desired: &IdentityCreate) -> Result<StepResult, Failure> {
        let id = &desired.id;
        let rid =
            ResourceId::parse(id).map_err(|e| stop("identity", e.to_string(), "run plan again"))?;
        match self.snapshot.read_identity(self.arm, &rid).await {
            Ok(Some(_)) => Ok(record("identity", id, StepStatus::AlreadyDone, None)),
            Ok(None) => {
                let request = desired.request();
                let answer = request
                    .send(self.arm)
                    .await
                    .map_err(|e| fail("identity", e))?
                    .body;
                // It carries the principal id; an answer that does not read
                // as an identity only means the grant step reads it.
                match msi::identity_from_json(&rid, answer) {
                    Ok(created) => self.snapshot.feed_identity(&rid, Some(created)),
                    Err(_) => self.snapshot.forget(rid.as_str()),
                }
                Ok(record(
                    "identity",
                    id,
                    StepStatus::Created,
                    Some(request.line()),
                ))
            }
            Err(e) => Err(fail("identity", e)),
        }
    }

    /// The vault: read first, created only if missing, then waited for.
    /// With the vault as last seen.
    async fn create_vault(&self, desired: &VaultCreate) -> Result<StepResult, Failure> {
        let id = &desired.id;
        let rid = ResourceId::parse(id)
            .map_err(|e| stop("key_vault", e.to_string(), "run plan again"))?;
        let (status, seen) = match self.snapshot.read_vault(self.arm, &rid).await {
            Ok(Some(existing)) => {
                if !ownership::same_account(&existing.tags, &desired.tags) {
                    return Err(stop(
                        "key_vault",
                        format!("{id} exists and was not created for this account"),
                        "run plan again (it picks a free name)",
                    ));
                }
                (StepStatus::AlreadyDone, Some(existing))
            }
            Ok(None) => {
                let answer = desired
                    .request()
                    .send(self.arm)
                    .await
                    .map_err(|e| fail("key_vault", e))?
                    .body;
                // Unreadable as a vault: the wait reads it instead.
                (
                    StepStatus::Created,
                    keyvault::vault_from_json(&rid, answer).ok(),
                )
            }
            Err(e) => return Err(fail("key_vault", e)),
        };
        let vault = wait::vault_provisioned(self.arm, &rid, seen, self.propagation_timeout())
            .await
            .map_err(|e| fail("key_vault", e))?;
        let provisioned = vault.provisioned;
        self.snapshot.feed_vault(&rid, Some(vault));
        if !provisioned {
            return Err(stop(
                "key_vault",
                format!("{id} is still provisioning"),
                "run apply again in a few minutes",
            ));
        }
        let call = (status == StepStatus::Created).then(|| desired.call());
        Ok(record("key_vault", id, status, call))
    }

    /// Purge protection (and soft delete) turned on, unless it is already.
    async fn protect_vault(&self, desired: &PurgeProtection) -> Result<StepResult, Failure> {
        let id = &desired.id;
        let rid = ResourceId::parse(id)
            .map_err(|e| stop("key_vault", e.to_string(), "run plan again"))?;
        let vault = self
            .snapshot
            .read_vault(self.arm, &rid)
            .await
            .map_err(|e| fail("key_vault", e))?
            .ok_or_else(|| {
                stop(
                    "key_vault",
                    format!("{id} does not exist"),
                    "run plan again",
                )
            })?;
        if vault.purge_protection && vault.soft_delete {
            return Ok(record("key_vault", id, StepStatus::AlreadyDone, None));
        }
        desired
            .request()
            .send(self.arm)
            .await
            .map_err(|e| fail("key_vault", e))?;
        // Its answer is not read as the vault: the verification reads it.
        self.snapshot.forget(rid.as_str());
        Ok(record(
            "key_vault",
            id,
            StepStatus::Updated,
            Some(desired.call()),
        ))
    }

    /// The key: created if it does not exist. Azure answers an existing key
    /// unchanged instead, so the answer is checked like a key found.
    ///
    /// A vault this run did not create or wait for (the plan found it: an
    /// earlier run, killed while the vault was still `RegisteringDns`,
    /// created it) may still be provisioning, and Key Vault refuses keys
    /// until it is (409): then it is waited for like a new vault and the key
    /// written again. Only a refused write costs the reads.
    async fn ensure_key(&mut self, desired: &KeyCreate) -> Result<StepResult, Failure> {
        let (vault_id, name) = (&desired.vault_id, &desired.name);
        let id = format!("{vault_id}/keys/{name}");
        let rid = ResourceId::parse(vault_id)
            .map_err(|e| stop("key", e.to_string(), "run plan again"))?;
        // Sent when it is sent: the key's expiry counts from then.
        let create = || async {
            desired
                .request(chrono::Utc::now())
                .send(self.arm)
                .await
                .map(|answer| answer.body)
        };
        let answer = match create().await {
            Ok(answer) => answer,
            Err(e) if e.status() == Some(409) && !self.vault_seen_provisioned(&rid) => {
                let vault = keyvault::get_vault(self.arm, &rid)
                    .await
                    .map_err(|e| fail("key", e))?;
                if vault.provisioned {
                    // Not the vault's provisioning: Azure's refusal stands.
                    self.snapshot.feed_vault(&rid, Some(vault));
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
                self.snapshot.feed_vault(&rid, Some(vault));
                create().await.map_err(|e| fail("key", e))?
            }
            Err(e) => return Err(fail("key", e)),
        };
        let key = match keyvault::key_from_json(name, answer) {
            Ok(key) => key,
            // An answer that does not read as a key: read it.
            Err(_) => keyvault::get_key(self.arm, &rid, name, None)
                .await
                .map_err(|e| fail("key", e))?,
        };
        let problem = key_reasons(&key, vault_id, chrono::Utc::now().timestamp())
            .first()
            .map(|r| r.message.clone());
        self.snapshot.feed_key(&rid, key);
        match problem {
            None => Ok(record("key", &id, StepStatus::Created, Some(desired.call()))),
            Some(problem) => Err(stop(
                "key",
                problem,
                "the tool never changes an existing key: choose another --key-name and run plan again",
            )),
        }
    }
}
