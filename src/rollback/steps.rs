//! One account's rollback. Each step reads the current state first and
//! writes only what is still to undo, so a rerun after a failure or a crash
//! (even between the key-source PATCH and the identity PATCH) converges, and
//! a rerun of a finished rollback writes nothing. The key source goes back
//! first: the identity comes off only once no customer-managed key depends
//! on it (Azure would accept it earlier and leave the data unreadable).
//! Nothing here deletes or disables a key or a vault.

use super::build::{granted_permissions, identity_type_after};
use super::model::{AccountRollback, RollbackChange, Undo};
use super::report::{AccountResult, StepResult, StepStatus};
use super::verify;
use crate::apply::failure::Failure;
use crate::apply::{Outcome, Progress};
use crate::azure::authorization;
use crate::azure::id::{ResourceId, StorageAccountId};
use crate::azure::keyvault::requests as vault_requests;
use crate::azure::request::Request;
use crate::azure::{keyvault, storage, Arm, AzureError};

fn fail(step: &str, error: AzureError) -> Failure {
    Failure::azure("rollback", step, error)
}

fn stop(step: &str, reason: impl Into<String>, next_step: impl Into<String>) -> Failure {
    Failure::stop(step, reason, next_step)
}

fn record(change: &RollbackChange, status: StepStatus, call: Option<String>) -> StepResult {
    StepResult {
        address: change.address.to_string(),
        id: change.id.clone(),
        status,
        call,
    }
}

/// The request a change sends, built by the provider module that sends it
/// (the identities' type is the one the account keeps: read again when the
/// step runs).
pub fn request_for(undo: &Undo, identity_type_after: &str) -> Request {
    match undo {
        Undo::MicrosoftManagedKeys { account_id } => storage::switch_to_microsoft_keys(account_id),
        Undo::DetachIdentities {
            account_id,
            identity_ids,
        } => {
            storage::detach_user_assigned_identities(account_id, identity_type_after, identity_ids)
        }
        Undo::RemoveAccessPolicy {
            vault_id,
            tenant_id,
            principal_id,
        } => vault_requests::remove_key_access_policy(vault_id, tenant_id, principal_id),
        Undo::DeleteRoleAssignment { id } => authorization::delete_role_assignment(id),
    }
}

/// The call a change turns into (what `--dry-run` shows): its request's line,
/// with what it changes where the line does not say.
pub fn call_for(undo: &Undo) -> String {
    let line = request_for(undo, "UserAssigned").line();
    match undo {
        Undo::MicrosoftManagedKeys { .. } => format!("{line} (keySource: Microsoft.Storage)"),
        Undo::DetachIdentities { identity_ids, .. } => {
            format!("{line} (identity without {})", identity_ids.join(", "))
        }
        _ => line,
    }
}

/// What rollback would do for the account, written nowhere: it would update
/// the account (and remove grants), never create; accounts it leaves alone
/// stay `skipped` or `refused`, so the two no longer read alike.
pub fn dry_run(account: &AccountRollback) -> AccountResult {
    AccountResult {
        storage_account_id: account.storage_account_id.clone(),
        outcome: Outcome::WouldUpdate,
        reason: Some("dry run: nothing was written".into()),
        next_step: None,
        steps: account
            .changes
            .iter()
            .map(|c| record(c, StepStatus::WouldCall, Some(call_for(&c.undo))))
            .collect(),
    }
}

pub async fn run(arm: &Arm, account: &AccountRollback, progress: &dyn Progress) -> AccountResult {
    let mut steps = Vec::new();
    let result = execute(arm, account, progress, &mut steps).await;
    let (outcome, reason, next_step) = match result {
        Ok(()) => (Outcome::Done, None, None),
        Err(f) => {
            steps.push(StepResult {
                address: f.step.clone(),
                id: String::new(),
                status: StepStatus::Failed,
                call: None,
            });
            (
                Outcome::Failed,
                Some(format!("{}: {}", f.step, f.reason)),
                Some(f.next_step),
            )
        }
    };
    AccountResult {
        storage_account_id: account.storage_account_id.clone(),
        outcome,
        reason,
        next_step,
        steps,
    }
}

async fn execute(
    arm: &Arm,
    account: &AccountRollback,
    progress: &dyn Progress,
    steps: &mut Vec<StepResult>,
) -> Result<(), Failure> {
    let id = &account.storage_account_id;
    for change in &account.changes {
        progress.step(id, change.address.as_str());
        let status = match &change.undo {
            Undo::MicrosoftManagedKeys { account_id } => {
                microsoft_managed_keys(arm, change.address.as_str(), account_id).await?
            }
            Undo::DetachIdentities {
                account_id,
                identity_ids,
            } => detach(arm, change.address.as_str(), account_id, identity_ids).await?,
            Undo::RemoveAccessPolicy {
                vault_id,
                tenant_id,
                principal_id,
            } => {
                remove_access_policy(
                    arm,
                    change.address.as_str(),
                    vault_id,
                    tenant_id,
                    principal_id,
                )
                .await?
            }
            Undo::DeleteRoleAssignment { id } => {
                delete_role_assignment(arm, change.address.as_str(), id).await?
            }
        };
        let call = (status != StepStatus::AlreadyDone).then(|| call_for(&change.undo));
        steps.push(record(change, status, call));
    }
    progress.step(id, "verify");
    verify::verify(arm, account).await.map_err(|problem| {
        stop(
            "verify",
            format!("the account does not read back as rolled back: {problem}"),
            "run audit to see the account's state, then run rollback again",
        )
    })?;
    steps.push(StepResult {
        address: "verify".into(),
        id: id.clone(),
        status: StepStatus::Verified,
        call: None,
    });
    Ok(())
}

fn account_id(step: &str, id: &str) -> Result<StorageAccountId, Failure> {
    StorageAccountId::parse(id).map_err(|e| stop(step, e.to_string(), "check the account id"))
}

async fn microsoft_managed_keys(arm: &Arm, step: &str, id: &str) -> Result<StepStatus, Failure> {
    let current = storage::get(arm, &account_id(step, id)?)
        .await
        .map_err(|e| fail(step, e))?;
    if !current.uses_key_vault() && current.encryption_identity.is_none() {
        return Ok(StepStatus::AlreadyDone);
    }
    request_for(
        &Undo::MicrosoftManagedKeys {
            account_id: id.to_string(),
        },
        "",
    )
    .send(arm)
    .await
    .map_err(|e| fail(step, e))?;
    Ok(StepStatus::Updated)
}

async fn detach(
    arm: &Arm,
    step: &str,
    id: &str,
    identity_ids: &[String],
) -> Result<StepStatus, Failure> {
    let current = storage::get(arm, &account_id(step, id)?)
        .await
        .map_err(|e| fail(step, e))?;
    let ours = |u: &str| identity_ids.iter().any(|i| i.eq_ignore_ascii_case(u));
    let (present, remaining): (Vec<String>, Vec<String>) = current
        .user_assigned
        .iter()
        .map(|u| u.id.clone())
        .partition(|u| ours(u));
    if present.is_empty() {
        return Ok(StepStatus::AlreadyDone);
    }
    // Never take off an identity a customer-managed key uses: the data would
    // become unreadable (and Azure would not stop it).
    if let Some(used) = current
        .encryption_identity
        .as_deref()
        .filter(|e| current.uses_key_vault() && ours(e))
    {
        return Err(stop(
            step,
            format!("{id} is on a customer-managed key through {used} again"),
            "run rollback again: it plans afresh from what the account looks like now",
        ));
    }
    let identity_type = identity_type_after(&current.identity_type, !remaining.is_empty());
    let undo = Undo::DetachIdentities {
        account_id: id.to_string(),
        identity_ids: present,
    };
    request_for(&undo, &identity_type)
        .send(arm)
        .await
        .map_err(|e| fail(step, e))?;
    Ok(StepStatus::Updated)
}

async fn remove_access_policy(
    arm: &Arm,
    step: &str,
    vault_id: &str,
    tenant_id: &str,
    principal_id: &str,
) -> Result<StepStatus, Failure> {
    let rid =
        ResourceId::parse(vault_id).map_err(|e| stop(step, e.to_string(), "run rollback again"))?;
    let vault = keyvault::get_vault(arm, &rid)
        .await
        .map_err(|e| fail(step, e))?;
    let held = vault
        .access_policies
        .iter()
        .filter(|p| p.object_id.eq_ignore_ascii_case(principal_id))
        .any(|p| !granted_permissions(&p.key_permissions).is_empty());
    if !held {
        return Ok(StepStatus::AlreadyDone);
    }
    let undo = Undo::RemoveAccessPolicy {
        vault_id: vault_id.to_string(),
        tenant_id: tenant_id.to_string(),
        principal_id: principal_id.to_string(),
    };
    request_for(&undo, "")
        .send(arm)
        .await
        .map_err(|e| fail(step, e))?;
    Ok(StepStatus::Removed)
}

async fn delete_role_assignment(arm: &Arm, step: &str, id: &str) -> Result<StepStatus, Failure> {
    match authorization::assignment_exists(arm, id).await {
        Ok(true) => {}
        Ok(false) => return Ok(StepStatus::AlreadyDone),
        Err(e) => return Err(fail(step, e)),
    }
    request_for(&Undo::DeleteRoleAssignment { id: id.to_string() }, "")
        .send(arm)
        .await
        .map_err(|e| fail(step, e))?;
    Ok(StepStatus::Removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dry_run_shows_the_line_of_the_request_the_step_sends() {
        let account =
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1";
        let undos = [
            Undo::MicrosoftManagedKeys {
                account_id: account.into(),
            },
            Undo::DetachIdentities {
                account_id: account.into(),
                identity_ids: vec!["/i1".into()],
            },
            Undo::RemoveAccessPolicy {
                vault_id: "/v".into(),
                tenant_id: "t".into(),
                principal_id: "p".into(),
            },
            Undo::DeleteRoleAssignment { id: "/ra".into() },
        ];
        for undo in &undos {
            let sent = request_for(undo, "SystemAssigned");
            assert!(
                call_for(undo).starts_with(&sent.line()),
                "{undo:?}: {}",
                call_for(undo)
            );
        }
        assert_eq!(
            call_for(&undos[0]),
            format!("PATCH {account}?api-version=2023-05-01 (keySource: Microsoft.Storage)")
        );
        assert_eq!(
            call_for(&undos[2]),
            "PUT /v/accessPolicies/remove?api-version=2023-07-01"
        );
        assert_eq!(call_for(&undos[3]), "DELETE /ra?api-version=2022-04-01");
        let detach = request_for(&undos[1], "SystemAssigned");
        assert_eq!(
            detach.field("/identity"),
            Some(&serde_json::json!({"type": "SystemAssigned"}))
        );
    }
}
