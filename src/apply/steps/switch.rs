//! The storage step: the account read just before its update, every
//! identity it has kept, and the switch to the key retried while the grant
//! propagates (diagnosed when waiting cannot help). A key someone set
//! since the plan is never overridden.

use super::{fail, record, stop, Runner};
use crate::apply::diagnose;
use crate::apply::failure::Failure;
use crate::apply::report::{StepResult, StepStatus};
use crate::apply::wait::{self, Waited};
use crate::azure::id::StorageAccountId;
use crate::azure::storage::StorageAccount;
use crate::plan::diff::with_user_assigned;
use crate::plan::{ObservedAccount, StorageSwitch};
use std::time::Instant;

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

impl Runner<'_> {
    pub(super) async fn ensure_storage(
        &self,
        desired: &StorageSwitch,
    ) -> Result<StepResult, Failure> {
        let StorageSwitch {
            account_id,
            user_assigned_identities,
            dropped_identities,
            identity_id,
            key_vault_uri,
            key_name,
            ..
        } = desired;
        let step = "storage_account";
        let sid = StorageAccountId::parse(account_id)
            .map_err(|e| stop(step, e.to_string(), "run plan again"))?;
        // A grant made a moment ago: an attempt before grants in this run
        // have been seen to take effect would only spend a write. (Waiting
        // before the read keeps the read close to the write.)
        let granted = self.granted;
        let propagation = self.propagation;
        if let Some(granted) = granted {
            propagation.wait_for(granted).await;
        }
        // Never as held: a key set since must be seen (and not overridden).
        let current = self
            .snapshot
            .read_account(self.arm, &sid)
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
                let result = desired
                    .request_keeping(identities, identity_type)
                    .send(self.arm)
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
            Waited::Done(Ok(_)) => Ok(record(step, account_id, StepStatus::Updated, Some(desired.call()))),
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
