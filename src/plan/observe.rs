//! Reads everything an account's plan depends on, for plan (to decide the
//! changes) and for apply (to refuse an account that changed since). Both
//! reduce the reads to the same [`Observed`], whose fingerprint they compare
//! ([`unchanged_since`]).

use super::model::{
    AccountPlan, Desired, Observed, ObservedAccount, ObservedIdentity, ObservedVault, Targets,
};
use super::ownership::made_for;
use crate::audit::classify::{policy_gap, rbac_grants};
use crate::azure::id::{ResourceId, StorageAccountId};
use crate::azure::keyvault::{KeyVault, VaultKey};
use crate::azure::msi::Identity;
use crate::azure::storage::StorageAccount;
use crate::azure::{Arm, AzureError, Snapshot};

/// `Targets::identity_id` when the account's system-assigned identity is used.
pub const SYSTEM_ASSIGNED: &str = "SystemAssigned";

#[derive(Debug, Clone)]
pub struct Observation {
    pub account: StorageAccount,
    /// The user-assigned identity, when it exists.
    pub identity: Option<Identity>,
    pub vault: Option<KeyVault>,
    pub key: Option<VaultKey>,
    /// The principal holds get/wrapKey/unwrapKey on the key already.
    pub grant_exists: bool,
}

impl Observation {
    /// The principal that will use the key, when it exists already.
    pub fn principal(&self, targets: &Targets) -> Option<String> {
        if targets.identity_id == SYSTEM_ASSIGNED {
            self.account.system_principal_id.clone()
        } else {
            self.identity.as_ref().and_then(|i| i.principal_id.clone())
        }
    }

    pub fn observed(&self, targets: &Targets) -> Observed {
        Observed {
            account: ObservedAccount::of(&self.account),
            identity: self
                .principal(targets)
                .map(|principal_id| ObservedIdentity {
                    id: targets.identity_id.to_ascii_lowercase(),
                    principal_id,
                }),
            vault: self.vault.as_ref().map(|v| ObservedVault {
                id: v.id.key(),
                vault_uri: v.vault_uri.clone().unwrap_or_default(),
                rbac_authorization: v.rbac_authorization,
                soft_delete: v.soft_delete,
                purge_protection: v.purge_protection,
            }),
            key_exists: self.key.is_some(),
            grant_exists: self.grant_exists,
        }
    }
}

/// Whether the account, as apply reads it now, is as the plan saw it; apply
/// leaves a plan file's account alone otherwise.
///
/// One difference is the plan's own progress, not a change: the plan found
/// no identity and creates it, and apply now finds it, tagged as the tool's
/// for this account. The plan lists identities per resource group rather
/// than reading each account's (reads bind at scale), and ARM's index lags a
/// create by seconds to minutes, so an identity an interrupted apply created
/// just before `plan --out` is missing from the list. The plan's steps hold
/// for it all the same: the identity step reads before it creates and finds
/// it, the grant step reads the principal from it. So the plan is compared
/// without that identity and without the grant (which the plan could not
/// have seen without a principal); anything else that differs still refuses.
/// An identity someone else made under the planned name does not pass.
pub fn unchanged_since(plan: &AccountPlan, seen: &Observation) -> bool {
    let now = as_the_plan_would_see_it(plan, seen);
    now.fingerprint() == plan.fingerprint
}

/// What differs from the plan, attribute by attribute, with the planned
/// value and the value now ([`super::changed::differences`]); the plan's
/// own progress (the tool's identity, its grant) is not named.
pub fn what_changed(plan: &AccountPlan, seen: &Observation) -> Vec<String> {
    let now = as_the_plan_would_see_it(plan, seen);
    super::changed::differences(&plan.observed, &now, &plan.targets.key_name)
}

/// The observation now, without the plan's own progress when that is all
/// there is of it (see [`unchanged_since`]).
fn as_the_plan_would_see_it(plan: &AccountPlan, seen: &Observation) -> Observed {
    let now = seen.observed(&plan.targets);
    if now.fingerprint() == plan.fingerprint {
        return now;
    }
    let plan_creates_identity = plan.observed.identity.is_none()
        && plan.changes.iter().any(|c| {
            matches!(&c.desired, Desired::Identity(d)
                if d.id.eq_ignore_ascii_case(&plan.targets.identity_id))
        });
    let made_by_the_tool = seen
        .identity
        .as_ref()
        .is_some_and(|i| made_for(&i.tags, &seen.account.id));
    if !(plan_creates_identity && made_by_the_tool) {
        return now;
    }
    Observed {
        identity: None,
        grant_exists: false,
        ..now
    }
}

/// Reads what the plan for `account_id` depends on, through the command's
/// snapshot: plan builds on the audit's reads (the account, a vault it
/// found) and on what gathering learnt (an identity its group's list does
/// not name, a vault name that is free); anything else is read.
pub async fn observe(
    arm: &Arm,
    snapshot: &Snapshot,
    account_id: &StorageAccountId,
    targets: &Targets,
) -> Result<Observation, AzureError> {
    let vault_id = ResourceId::parse(&targets.vault_id)?;
    let identity_id = match targets.identity_id.as_str() {
        SYSTEM_ASSIGNED => None,
        id => Some(ResourceId::parse(id)?),
    };
    let (account, identity, vault) = tokio::join!(
        snapshot.account(arm, account_id),
        async {
            match &identity_id {
                None => Ok(None),
                Some(id) => snapshot.identity(arm, id).await,
            }
        },
        snapshot.vault(arm, &vault_id),
    );
    let (account, identity, vault) = (account?, identity?, vault?);
    let key = match &vault {
        Some(v) => snapshot.key(arm, &v.id, &targets.key_name, None).await?,
        None => None,
    };
    let mut observation = Observation {
        account,
        identity,
        vault,
        key,
        grant_exists: false,
    };
    if let (Some(vault), Some(principal)) = (&observation.vault, observation.principal(targets)) {
        observation.grant_exists = if vault.rbac_authorization {
            let roles = crate::audit::health::assigned_roles(
                arm,
                snapshot,
                vault,
                &targets.key_name,
                &principal,
            )
            .await?;
            rbac_grants(vault, &targets.key_name, &principal, &roles)
        } else {
            policy_gap(vault, &principal).is_none()
        };
    }
    Ok(observation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::model::{Action, ResourceChange};
    use crate::plan::model::{IdentityCreate, PlanStatus};
    use crate::plan::ownership::{TAG_ACCOUNT, TAG_MANAGED_BY, TAG_MANAGED_BY_VALUE};
    use std::collections::BTreeMap;

    const ACCOUNT: &str = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1";
    const IDENTITY: &str = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-st1";

    fn targets() -> Targets {
        Targets {
            identity_id: IDENTITY.into(),
            vault_id: "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1".into(),
            key_name: "cmk".into(),
        }
    }

    fn before_apply() -> Observation {
        Observation {
            account: StorageAccount {
                id: StorageAccountId::parse(ACCOUNT).expect("an account id"),
                location: "westeurope".into(),
                key_source: "Microsoft.Storage".into(),
                key_vault_uri: None,
                key_name: None,
                key_version: None,
                encryption_identity: None,
                identity_type: "None".into(),
                system_principal_id: None,
                user_assigned: vec![],
                tags: BTreeMap::new(),
            },
            identity: None,
            vault: None,
            key: None,
            grant_exists: false,
        }
    }

    fn tool_tags() -> BTreeMap<String, String> {
        BTreeMap::from([
            (TAG_MANAGED_BY.to_string(), TAG_MANAGED_BY_VALUE.to_string()),
            (TAG_ACCOUNT.to_string(), ACCOUNT.to_ascii_lowercase()),
        ])
    }

    /// The plan made from `seen`, creating the identity when it found none.
    fn plan_of(seen: &Observation) -> AccountPlan {
        let observed = seen.observed(&targets());
        let changes = seen
            .identity
            .is_none()
            .then(|| ResourceChange {
                action: Action::Create,
                address: crate::plan::Address::Identity,
                id: IDENTITY.into(),
                attributes: vec![],
                irreversible: None,
                desired: Desired::Identity(IdentityCreate {
                    id: IDENTITY.into(),
                    location: "westeurope".into(),
                    tags: tool_tags(),
                }),
            })
            .into_iter()
            .collect();
        AccountPlan {
            storage_account_id: ACCOUNT.into(),
            status: PlanStatus::NonCompliant,
            fingerprint: observed.fingerprint(),
            observed,
            targets: targets(),
            changes,
        }
    }

    fn with_identity(tags: BTreeMap<String, String>, granted: bool) -> Observation {
        Observation {
            identity: Some(Identity {
                id: ResourceId::parse(IDENTITY).expect("an identity id"),
                location: "westeurope".into(),
                principal_id: Some("p1".into()),
                client_id: None,
                tenant_id: None,
                tags,
            }),
            grant_exists: granted,
            ..before_apply()
        }
    }

    #[test]
    fn the_tools_own_identity_and_its_grant_are_the_plans_progress() {
        let plan = plan_of(&before_apply());
        assert!(unchanged_since(&plan, &before_apply()));
        assert!(unchanged_since(&plan, &with_identity(tool_tags(), false)));
        assert!(unchanged_since(&plan, &with_identity(tool_tags(), true)));
    }

    #[test]
    fn someone_elses_identity_or_any_other_difference_is_a_change() {
        let plan = plan_of(&before_apply());
        assert!(!unchanged_since(
            &plan,
            &with_identity(BTreeMap::new(), false)
        ));
        let mut other_account = tool_tags();
        other_account.insert(TAG_ACCOUNT.into(), ACCOUNT.replace("st1", "st2"));
        assert!(!unchanged_since(
            &plan,
            &with_identity(other_account, false)
        ));
        // The tool's identity found, and the account switched since: refused.
        let mut switched = with_identity(tool_tags(), true);
        switched.account.key_source = "Microsoft.Keyvault".into();
        assert!(!unchanged_since(&plan, &switched));
        // A plan that saw the identity is compared as it is.
        let seen = with_identity(tool_tags(), false);
        let plan = plan_of(&seen);
        assert!(unchanged_since(&plan, &seen));
        assert!(!unchanged_since(&plan, &before_apply()));
    }
}
