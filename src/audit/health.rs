//! The reads behind a CMK health check: the vault named by `keyvaulturi`
//! (found by name, since the URI carries no resource id), the key, the
//! encryption identity and, on RBAC vaults, the identity's role assignments
//! and the definitions of their roles (each definition read once per run,
//! through the snapshot). Each vault is found and read once, however many
//! accounts use it.
//!
//! Vaults are found through ARM's index (`Resources_List`), which lags a
//! create by seconds to minutes while a GET by id finds the vault at once.
//! A vault the index does not list is therefore also read by id in the
//! resource group of each account that uses it: that is where apply creates
//! vaults (`plan/build.rs`), so `audit` right after `apply` never calls a
//! vault it just made missing. Key Vault's own list (`Vaults_ListBySubscription`)
//! was the alternative, but it reads every vault of the subscription where
//! this costs one GET per group, and no public source says whether ARM
//! answers it from the same lagging cache. A vault someone else created a
//! moment ago in another group can still be missed until the index catches up.

mod rbac;

pub use rbac::assigned_roles;

use super::classify::{encryption_principal, CmkObservation, Lookup};
use super::sources::explain;
use crate::azure::connection::KEYVAULT_API;
use crate::azure::id::{ResourceId, StorageAccountId};
use crate::azure::keyvault::{self, KeyVault};
use crate::azure::storage::StorageAccount;
use crate::azure::{resources, subscriptions, Arm, AzureError, Snapshot};
use futures::stream::{self, StreamExt};
use std::collections::{BTreeMap, BTreeSet};

const VAULT_TYPE: &str = "Microsoft.KeyVault/vaults";

/// A read's result as the classification sees it.
pub fn lookup<T>(
    result: Result<T, AzureError>,
    what: &str,
    permission: &str,
    scope: &str,
) -> Lookup<T> {
    match result {
        Ok(value) => Lookup::Found(value),
        Err(e) if e.is_not_found() => Lookup::NotFound,
        Err(e) if e.is_forbidden() => Lookup::Denied(explain(&e, what, permission, scope)),
        Err(e) => Lookup::Failed(explain(&e, what, permission, scope)),
    }
}

/// [`lookup`] of a read that answers `None` for 404.
pub fn lookup_optional<T>(
    result: Result<Option<T>, AzureError>,
    what: &str,
    permission: &str,
    scope: &str,
) -> Lookup<T> {
    match result {
        Ok(Some(value)) => Lookup::Found(value),
        Ok(None) => Lookup::NotFound,
        Err(e) => lookup(Err(e), what, permission, scope),
    }
}

/// Key vaults by lower-case name.
pub type VaultIndex = BTreeMap<String, Lookup<KeyVault>>;

/// Where to look for a vault: the subscriptions to search by name, and the
/// resource groups (subscription, group) to read it from by id when the
/// index does not list it.
#[derive(Debug, Clone, Default)]
struct Places {
    subscriptions: Vec<String>,
    groups: Vec<(String, String)>,
}

/// Finds and reads every vault in `names`, each named by the accounts that
/// use it. Each is searched first in those accounts' subscriptions, then in
/// `scope`, then (only if still missing and `scope` was given explicitly) in
/// every visible subscription; a vault the index does not list yet is also
/// read by id in each account's resource group.
pub async fn read_vaults(
    arm: &Arm,
    snapshot: &Snapshot,
    names: BTreeMap<String, Vec<StorageAccountId>>,
    scope: &[String],
    scope_is_everything: bool,
    parallelism: usize,
) -> VaultIndex {
    let names = names
        .into_iter()
        .map(|(name, accounts)| {
            let mut places = Places::default();
            for account in accounts {
                let group = (
                    account.subscription_id().to_ascii_lowercase(),
                    account.resource_group().to_ascii_lowercase(),
                );
                if !places.groups.contains(&group) {
                    places.groups.push(group);
                }
                places
                    .subscriptions
                    .push(account.subscription_id().to_string());
            }
            (name, places)
        })
        .collect();
    read(
        arm,
        snapshot,
        names,
        scope,
        scope_is_everything,
        parallelism,
    )
    .await
}

async fn read(
    arm: &Arm,
    snapshot: &Snapshot,
    names: BTreeMap<String, Places>,
    scope: &[String],
    scope_is_everything: bool,
    parallelism: usize,
) -> VaultIndex {
    let mut searched_everywhere = scope_is_everything;
    let mut index = VaultIndex::new();
    let mut pending: Vec<(String, Places)> = names
        .into_iter()
        .map(|(name, places)| {
            let subscriptions = candidates(&places.subscriptions, scope);
            (
                name,
                Places {
                    subscriptions,
                    groups: places.groups,
                },
            )
        })
        .collect();
    loop {
        let found: Vec<(String, Vec<String>, Lookup<ResourceId>)> = stream::iter(pending)
            .map(|(name, places)| async move {
                let found = search(arm, &name, &places).await;
                (name, places.subscriptions, found)
            })
            .buffer_unordered(parallelism)
            .collect()
            .await;
        let mut retry = Vec::new();
        let mut ids = Vec::new();
        for (name, searched, result) in found {
            match result {
                Lookup::Found(id) => ids.push((name, id)),
                Lookup::NotFound if !searched_everywhere => retry.push((name, searched)),
                other => {
                    index.insert(name, convert(other));
                }
            }
        }
        let vaults: Vec<(String, Lookup<KeyVault>)> = stream::iter(ids)
            .map(|(name, id)| async move {
                let what = format!("key vault {id}");
                let vault = snapshot.vault(arm, &id).await;
                (
                    name,
                    lookup_optional(vault, &what, "Microsoft.KeyVault/vaults/read", id.as_str()),
                )
            })
            .buffer_unordered(parallelism)
            .collect()
            .await;
        index.extend(vaults);
        if retry.is_empty() {
            return index;
        }
        let visible: Vec<String> = match subscriptions::list(arm).await {
            Ok((subs, _)) => subs
                .into_iter()
                .map(|s| s.subscription_id.to_ascii_lowercase())
                .collect(),
            Err(_) => Vec::new(),
        };
        pending = retry
            .into_iter()
            .map(|(name, searched)| {
                let rest = visible
                    .iter()
                    .filter(|s| !searched.iter().any(|d| d.eq_ignore_ascii_case(s)))
                    .cloned()
                    .collect();
                // The groups were read in the first round.
                (
                    name,
                    Places {
                        subscriptions: rest,
                        groups: Vec::new(),
                    },
                )
            })
            .collect();
        searched_everywhere = true;
    }
}

fn convert<A, B>(lookup: Lookup<A>) -> Lookup<B> {
    match lookup {
        Lookup::Found(_) | Lookup::NotChecked => Lookup::NotChecked,
        Lookup::NotFound => Lookup::NotFound,
        Lookup::Denied(m) => Lookup::Denied(m),
        Lookup::Failed(m) => Lookup::Failed(m),
    }
}

fn candidates(hints: &[String], scope: &[String]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    hints
        .iter()
        .chain(scope)
        .filter(|s| seen.insert(s.to_ascii_lowercase()))
        .cloned()
        .collect()
}

/// The first subscription holding a vault of that name, by the index; else
/// the vault read by id in one of `places.groups` (the index lags creates).
/// When it is found nowhere but a subscription could not be searched, say so
/// rather than "missing".
async fn search(arm: &Arm, name: &str, places: &Places) -> Lookup<ResourceId> {
    let mut gap = None;
    for subscription in &places.subscriptions {
        match resources::find_by_name(arm, subscription, VAULT_TYPE, name).await {
            Ok(Some(id)) => return Lookup::Found(id),
            Ok(None) => {}
            Err(e) => {
                gap.get_or_insert(lookup::<()>(
                    Err(e),
                    &format!("the key vaults of subscription {subscription} (looking for {name})"),
                    "Microsoft.KeyVault/vaults/read",
                    &format!("/subscriptions/{subscription}"),
                ));
            }
        }
    }
    for (subscription, group) in &places.groups {
        if let Some(id) = read_by_id(arm, subscription, group, name).await {
            return Lookup::Found(id);
        }
    }
    gap.map(convert).unwrap_or(Lookup::NotFound)
}

/// The vault's id if a GET by id finds it in that group. Any failure is
/// "not here": this read only backs up the index, whose answer stands.
async fn read_by_id(arm: &Arm, subscription: &str, group: &str, name: &str) -> Option<ResourceId> {
    let id = ResourceId::parse(&format!(
        "/subscriptions/{subscription}/resourceGroups/{group}/providers/{VAULT_TYPE}/{name}"
    ))
    .ok()?;
    let path = format!("{id}?api-version={KEYVAULT_API}");
    match arm
        .get_json::<serde_json::Value>(&path, &format!("key vault {id}"))
        .await
    {
        Ok(_) => {
            tracing::debug!(vault = %id, "not in ARM's index yet, found by id");
            Some(id)
        }
        Err(_) => None,
    }
}

/// Reads the key, the encryption identity and (RBAC vaults) the role
/// assignments an account on Key Vault depends on, through the snapshot:
/// apply's verification finds there what the steps' writes answered.
pub async fn observe(
    arm: &Arm,
    snapshot: &Snapshot,
    account: &StorageAccount,
    vaults: &VaultIndex,
) -> CmkObservation {
    let vault = account
        .key_vault_uri
        .as_deref()
        .and_then(keyvault::vault_name_from_uri)
        .and_then(|name| vaults.get(&name).cloned())
        .unwrap_or(Lookup::NotFound);

    let key = async {
        let (Some(v), Some(key_name)) = (vault.found(), &account.key_name) else {
            return Lookup::NotChecked;
        };
        let result = snapshot
            .key(arm, &v.id, key_name, account.key_version.as_deref())
            .await;
        lookup_optional(
            result,
            &format!("key '{key_name}' in key vault {}", v.id),
            "Microsoft.KeyVault/vaults/keys/read",
            v.id.as_str(),
        )
    };
    let identity = async {
        let Some(wanted) = &account.encryption_identity else {
            return Lookup::NotChecked;
        };
        if !account
            .user_assigned
            .iter()
            .any(|u| u.id.eq_ignore_ascii_case(wanted))
        {
            return Lookup::NotChecked;
        }
        match ResourceId::parse(wanted) {
            Ok(id) => lookup_optional(
                snapshot.identity(arm, &id).await,
                &format!("managed identity {id}"),
                "Microsoft.ManagedIdentity/userAssignedIdentities/read",
                id.as_str(),
            ),
            Err(e) => Lookup::Failed(e.to_string()),
        }
    };
    let (key, identity) = tokio::join!(key, identity);

    let role_assignments = match (
        vault.found(),
        encryption_principal(account, &identity),
        &account.key_name,
    ) {
        (Some(v), Ok(principal), Some(key_name)) if v.rbac_authorization => lookup(
            assigned_roles(arm, snapshot, v, key_name, &principal).await,
            &format!(
                "the role assignments of principal {principal} at key vault {}",
                v.id
            ),
            "Microsoft.Authorization/roleAssignments/read",
            v.id.as_str(),
        ),
        _ => Lookup::NotChecked,
    };
    CmkObservation {
        vault,
        key,
        identity,
        role_assignments,
    }
}
