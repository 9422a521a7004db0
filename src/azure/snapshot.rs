//! One read-through snapshot of what a command has seen of Azure, keyed by
//! resource id as ARM compares ids (case-insensitively). Created by the
//! command and passed down, so the audit, the plan, apply's steps and the
//! verification share what each read or wrote instead of keeping a cache
//! per layer: reads are what limits a run at scale (docs/benchmarks.md).
//!
//! It is fed by reads and by write answers (the body Azure returns from a
//! PUT/PATCH is the resource as it now is). A write that changes a resource
//! without answering with it (an access policy added to a vault) forgets
//! it, so the next use reads it again. A read that was in flight while the
//! resource was written or forgotten is not kept: it may predate the write.
//!
//! Freshness is the caller's choice: `get`-style calls use what is held,
//! `read_*` always ask Azure (apply reads the account just before its
//! update, and before it creates anything), and [`Snapshot::since`] gives a
//! view that ignores what was held before a [`Mark`] (apply's verification
//! judges only what this apply saw).

use super::authorization::{self, RoleAssignment, RoleDefinition};
use super::id::{ResourceId, StorageAccountId};
use super::keyvault::{self, KeyVault, VaultKey};
use super::msi::{self, Identity};
use super::storage::{self, StorageAccount};
use super::{Arm, AzureError};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

/// A point in the snapshot's history: [`Snapshot::since`] ignores what was
/// held before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Mark(u64);

/// What one id holds. `None` inside: the resource is known not to exist.
#[derive(Debug, Clone)]
enum Entry {
    Account(StorageAccount),
    Identity(Option<Identity>),
    Vault(Option<KeyVault>),
    Key(Option<VaultKey>),
    Assignments(Vec<RoleAssignment>),
    Definition(Option<RoleDefinition>),
    Tenant(String),
}

/// A value the snapshot can hold.
trait Held: Sized + Clone {
    fn into_entry(self) -> Entry;
    fn from_entry(entry: &Entry) -> Option<Self>;
}

macro_rules! held {
    ($type:ty, $variant:ident) => {
        impl Held for $type {
            fn into_entry(self) -> Entry {
                Entry::$variant(self)
            }
            fn from_entry(entry: &Entry) -> Option<Self> {
                match entry {
                    Entry::$variant(value) => Some(value.clone()),
                    _ => None,
                }
            }
        }
    };
}

held!(StorageAccount, Account);
held!(Option<Identity>, Identity);
held!(Option<KeyVault>, Vault);
held!(Option<VaultKey>, Key);
held!(Vec<RoleAssignment>, Assignments);
held!(Option<RoleDefinition>, Definition);
held!(String, Tenant);

#[derive(Debug)]
struct Slot {
    /// `None`: forgotten (written without an answer that shows it).
    entry: Option<Entry>,
    /// When it was last fed or forgotten.
    at: u64,
}

#[derive(Debug, Default)]
struct State {
    clock: u64,
    slots: HashMap<String, Slot>,
}

/// The command's view of Azure. Cloning shares it.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    state: Arc<Mutex<State>>,
    /// Entries fed before this are ignored by this view.
    floor: u64,
    /// One read at a time per role definition id: many accounts name the
    /// same role, and each should not read it while another already does.
    definition_reads: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

/// `Ok(None)` for 404.
async fn optional<T>(
    read: impl Future<Output = Result<T, AzureError>>,
) -> Result<Option<T>, AzureError> {
    match read.await {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

fn key_id(vault: &ResourceId, name: &str, version: Option<&str>) -> String {
    match version {
        Some(v) => format!("{vault}/keys/{name}/versions/{v}"),
        None => format!("{vault}/keys/{name}"),
    }
}

/// The role assignments of a principal at a scope are a list, not a
/// resource: held under the list's path with the principal as its filter.
fn assignments_id(scope: &str, principal: &str) -> String {
    format!(
        "{}/providers/Microsoft.Authorization/roleAssignments?principalId={principal}",
        scope.trim_end_matches('/')
    )
}

fn subscription_id(subscription: &str) -> String {
    format!("/subscriptions/{subscription}")
}

impl Snapshot {
    pub fn new() -> Snapshot {
        Snapshot::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere leaves the map whole: every change is one insert.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Now: what is fed from here on is newer than this.
    pub fn mark(&self) -> Mark {
        Mark(self.lock().clock)
    }

    /// A view of the same snapshot that ignores what was held before `mark`.
    pub fn since(&self, mark: Mark) -> Snapshot {
        Snapshot {
            state: self.state.clone(),
            floor: mark.0,
            definition_reads: self.definition_reads.clone(),
        }
    }

    fn held<T: Held>(&self, id: &str) -> Option<T> {
        let state = self.lock();
        let slot = state.slots.get(&id.to_ascii_lowercase())?;
        if slot.at <= self.floor {
            return None;
        }
        slot.entry.as_ref().and_then(T::from_entry)
    }

    /// Feeds `value` unless the resource was fed or forgotten after `started`
    /// (`None`: a write answer, the newest there is).
    fn feed<T: Held>(&self, id: &str, value: T, started: Option<u64>) {
        let mut state = self.lock();
        let key = id.to_ascii_lowercase();
        if let (Some(started), Some(slot)) = (started, state.slots.get(&key)) {
            if slot.at > started {
                return;
            }
        }
        state.clock += 1;
        let at = state.clock;
        state.slots.insert(
            key,
            Slot {
                entry: Some(value.into_entry()),
                at,
            },
        );
    }

    /// The resource was written without an answer that shows it: read it
    /// again next time.
    pub fn forget(&self, id: &str) {
        let mut state = self.lock();
        state.clock += 1;
        let at = state.clock;
        state
            .slots
            .insert(id.to_ascii_lowercase(), Slot { entry: None, at });
    }

    /// Reads with `read` and feeds the answer.
    async fn read<T: Held>(
        &self,
        id: &str,
        read: impl Future<Output = Result<T, AzureError>>,
    ) -> Result<T, AzureError> {
        let started = self.lock().clock;
        let value = read.await?;
        self.feed(id, value.clone(), Some(started));
        Ok(value)
    }

    /// What is held, or read.
    async fn through<T: Held>(
        &self,
        id: &str,
        read: impl Future<Output = Result<T, AzureError>>,
    ) -> Result<T, AzureError> {
        match self.held(id) {
            Some(value) => Ok(value),
            None => self.read(id, read).await,
        }
    }

    pub async fn account(
        &self,
        arm: &Arm,
        id: &StorageAccountId,
    ) -> Result<StorageAccount, AzureError> {
        self.through(id.id().as_str(), storage::get(arm, id)).await
    }

    /// The account as it is now, never as held.
    pub async fn read_account(
        &self,
        arm: &Arm,
        id: &StorageAccountId,
    ) -> Result<StorageAccount, AzureError> {
        self.read(id.id().as_str(), storage::get(arm, id)).await
    }

    pub fn feed_account(&self, account: StorageAccount) {
        self.feed(&account.id.to_string(), account, None)
    }

    /// `None`: it does not exist.
    pub async fn identity(
        &self,
        arm: &Arm,
        id: &ResourceId,
    ) -> Result<Option<Identity>, AzureError> {
        self.through(id.as_str(), optional(msi::get_identity(arm, id)))
            .await
    }

    pub async fn read_identity(
        &self,
        arm: &Arm,
        id: &ResourceId,
    ) -> Result<Option<Identity>, AzureError> {
        self.read(id.as_str(), optional(msi::get_identity(arm, id)))
            .await
    }

    /// `None`: known not to exist (a list that does not name it).
    pub fn feed_identity(&self, id: &ResourceId, identity: Option<Identity>) {
        self.feed(id.as_str(), identity, None)
    }

    pub async fn vault(&self, arm: &Arm, id: &ResourceId) -> Result<Option<KeyVault>, AzureError> {
        self.through(id.as_str(), optional(keyvault::get_vault(arm, id)))
            .await
    }

    pub async fn read_vault(
        &self,
        arm: &Arm,
        id: &ResourceId,
    ) -> Result<Option<KeyVault>, AzureError> {
        self.read(id.as_str(), optional(keyvault::get_vault(arm, id)))
            .await
    }

    /// The vault as held, without reading.
    pub fn held_vault(&self, id: &ResourceId) -> Option<Option<KeyVault>> {
        self.held(id.as_str())
    }

    pub fn feed_vault(&self, id: &ResourceId, vault: Option<KeyVault>) {
        self.feed(id.as_str(), vault, None)
    }

    /// The key's current version, or `version`.
    pub async fn key(
        &self,
        arm: &Arm,
        vault: &ResourceId,
        name: &str,
        version: Option<&str>,
    ) -> Result<Option<VaultKey>, AzureError> {
        self.through(
            &key_id(vault, name, version),
            optional(keyvault::get_key(arm, vault, name, version)),
        )
        .await
    }

    /// The key's current version, as a write or a read answered it.
    pub fn feed_key(&self, vault: &ResourceId, key: VaultKey) {
        let id = key_id(vault, &key.name, None);
        self.feed(&id, Some(key), None)
    }

    /// The role assignments of `principal` that apply at `scope`.
    pub async fn assignments(
        &self,
        arm: &Arm,
        scope: &str,
        principal: &str,
    ) -> Result<Vec<RoleAssignment>, AzureError> {
        self.through(
            &assignments_id(scope, principal),
            authorization::assignments_for_principal(arm, scope, principal),
        )
        .await
    }

    /// A role assignment written for `principal` at `scope` (or below it):
    /// added to the list when it is held, else the list known so far.
    pub fn feed_assignment(&self, scope: &str, assignment: RoleAssignment) {
        let id = assignments_id(scope, &assignment.principal_id);
        let mut list: Vec<RoleAssignment> = self.held(&id).unwrap_or_default();
        list.retain(|a| !a.id.eq_ignore_ascii_case(&assignment.id));
        list.push(assignment);
        self.feed(&id, list, None)
    }

    /// The role definition with this id (`None`: it does not exist), read
    /// once per command: the tool never writes definitions, so what was read
    /// stands for the whole run, also in a view [`Snapshot::since`] a mark.
    pub async fn role_definition(
        &self,
        arm: &Arm,
        id: &str,
    ) -> Result<Option<RoleDefinition>, AzureError> {
        let key = id.to_ascii_lowercase();
        let gate = {
            let mut reads = self
                .definition_reads
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            reads.entry(key.clone()).or_default().clone()
        };
        let _reading = gate.lock().await;
        let held = {
            let state = self.lock();
            state
                .slots
                .get(&key)
                .and_then(|slot| slot.entry.as_ref())
                .and_then(<Option<RoleDefinition>>::from_entry)
        };
        match held {
            Some(definition) => Ok(definition),
            None => {
                self.read(&key, optional(authorization::get_role_definition(arm, id)))
                    .await
            }
        }
    }

    /// A subscription's tenant, as the subscription list gave it.
    pub fn tenant(&self, subscription: &str) -> Option<String> {
        self.held(&subscription_id(subscription))
    }

    pub fn feed_tenant(&self, subscription: &str, tenant: &str) {
        self.feed(&subscription_id(subscription), tenant.to_string(), None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::azure::fake::{CountingCredential, ScriptedArm};

    const IDENTITY: &str = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-st1";

    fn arm_answering(answers: Vec<(u16, String)>) -> (Arm, Arc<ScriptedArm>) {
        let http = Arc::new(ScriptedArm::new(answers));
        let arm = Arm::over(http.clone(), Arc::new(CountingCredential::default()));
        (arm, http)
    }

    fn identity_answer(principal: &str) -> serde_json::Value {
        serde_json::json!({"location": "westeurope", "properties": {"principalId": principal}})
    }

    #[tokio::test]
    async fn a_write_answer_feeds_a_later_read_in_any_casing() {
        let (arm, http) = arm_answering(vec![]);
        let snapshot = Snapshot::new();
        let id = ResourceId::parse(IDENTITY).unwrap();
        let created = msi::identity_from_json(&id, identity_answer("p-created")).unwrap();
        snapshot.feed_identity(&id, Some(created));

        let upper = ResourceId::parse(&IDENTITY.to_ascii_uppercase()).unwrap();
        let read = snapshot.identity(&arm, &upper).await.unwrap();
        assert_eq!(
            read.and_then(|i| i.principal_id).as_deref(),
            Some("p-created")
        );
        assert!(http.paths().is_empty(), "no GET: {:?}", http.paths());
    }

    #[tokio::test]
    async fn a_read_is_held_and_read_star_asks_again() {
        let answer = identity_answer("p1").to_string();
        let (arm, http) = arm_answering(vec![(200, answer.clone()), (200, answer)]);
        let snapshot = Snapshot::new();
        let id = ResourceId::parse(IDENTITY).unwrap();
        snapshot.identity(&arm, &id).await.unwrap();
        snapshot.identity(&arm, &id).await.unwrap();
        assert_eq!(http.paths().len(), 1);
        snapshot.read_identity(&arm, &id).await.unwrap();
        assert_eq!(http.paths().len(), 2);
    }

    #[tokio::test]
    async fn a_forgotten_resource_and_one_held_before_a_mark_are_read_again() {
        let answer = identity_answer("p1").to_string();
        let (arm, http) = arm_answering(vec![(200, answer.clone()), (200, answer)]);
        let snapshot = Snapshot::new();
        let id = ResourceId::parse(IDENTITY).unwrap();
        snapshot.feed_identity(&id, None);
        let mark = snapshot.mark();
        assert!(snapshot.identity(&arm, &id).await.unwrap().is_none());
        assert!(snapshot
            .since(mark)
            .identity(&arm, &id)
            .await
            .unwrap()
            .is_some());
        assert_eq!(http.paths().len(), 1);
        snapshot.forget(&IDENTITY.to_ascii_lowercase());
        snapshot.identity(&arm, &id).await.unwrap();
        assert_eq!(http.paths().len(), 2);
    }

    #[tokio::test]
    async fn a_role_definition_is_read_once_per_run_even_across_a_mark() {
        let definition = serde_json::json!({"properties": {"roleName": "r", "permissions": [
            {"dataActions": ["Microsoft.KeyVault/vaults/keys/*"]}]}});
        let (arm, http) = arm_answering(vec![(200, definition.to_string())]);
        let snapshot = Snapshot::new();
        let id = "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/r";
        let reads = (0..4).map(|_| snapshot.role_definition(&arm, id));
        for read in futures::future::join_all(reads).await {
            assert_eq!(read.unwrap().unwrap().role_name, "r");
        }
        let later = snapshot.since(snapshot.mark());
        let again = later.role_definition(&arm, &id.to_ascii_uppercase()).await;
        assert_eq!(again.unwrap().unwrap().permissions.len(), 1);
        assert_eq!(http.paths().len(), 1, "{:?}", http.paths());
    }

    #[test]
    fn a_read_that_predates_a_write_is_not_kept() {
        let snapshot = Snapshot::new();
        let id = ResourceId::parse(IDENTITY).unwrap();
        let started = snapshot.lock().clock;
        let written = msi::identity_from_json(&id, identity_answer("new")).unwrap();
        snapshot.feed_identity(&id, Some(written));
        let stale = msi::identity_from_json(&id, identity_answer("old")).unwrap();
        snapshot.feed(IDENTITY, Some(stale), Some(started));
        let held: Option<Option<Identity>> = snapshot.held(IDENTITY);
        assert_eq!(
            held.flatten().and_then(|i| i.principal_id).as_deref(),
            Some("new")
        );
    }
}
