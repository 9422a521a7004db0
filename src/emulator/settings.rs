//! Run-time knobs of the emulator: timings that imitate Azure's eventual
//! consistency, Azure's rough edges (each a setting of its own), throttling
//! buckets and injected faults. All of it can be set at start (`--profile`,
//! then `--settings FILE` on top) or changed while running
//! (`PUT`/`PATCH /_emulator/settings`).
//!
//! Two presets: [`Settings::default`] is kind (grants in seconds, a current
//! index, one page per filtered list); [`Settings::field`] turns every rough
//! edge on with Azure's own timings, the sources of which docs/emulator.md lists.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    /// Subscriptions per page of `GET /subscriptions` (pages are linked by `nextLink`).
    pub subscription_page_size: usize,
    /// Groups per page of `GET /providers/Microsoft.Management/managementGroups`
    /// (pages are linked by `@nextLink`).
    pub management_group_page_size: usize,
    /// Resources per page of `GET /subscriptions/{id}/resources` (ARM's 1000;
    /// a smaller `$top` cuts pages shorter).
    pub resource_page_size: usize,
    /// Lifetime of issued access tokens.
    pub token_lifetime_secs: u64,
    /// How long an access policy or role assignment takes to take effect.
    pub grant_propagation_ms: u64,
    /// How long a new identity's principal is unknown to role assignments
    /// created without `principalType` (Azure's directory replication delay).
    pub principal_replication_ms: u64,
    /// How long a new vault stays in `RegisteringDns`.
    pub vault_provisioning_ms: u64,
    /// How long a storage account create stays in progress (polled through `Location`).
    pub storage_provisioning_ms: u64,
    /// Resources_List cuts each page from the unfiltered list and filters it
    /// afterwards, so a filtered page may be short or empty and still carry
    /// `nextLink` (as ARM does).
    pub resource_list_pages_before_filter: bool,
    /// How long a new vault, identity or storage account stays out of
    /// Resources_List (ARM's index lags its resource providers); a GET by id
    /// finds it at once.
    pub resource_index_lag_ms: u64,
    /// How Key Vault answers a rotation policy's `lifetimeActions[].action.type`.
    pub key_rotation_action_casing: RotationActionCasing,
    /// Storage answers carry values the 2023-05-01 spec does not list (an
    /// `accessTier` of `Smart`, newer properties, a `provisioningState` of
    /// `ResolvingDNS` while a create is in progress), as newer Azure does.
    pub storage_unknown_values: bool,
    pub throttling: Throttling,
    pub faults: Faults,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            subscription_page_size: 100,
            management_group_page_size: 100,
            resource_page_size: 1000,
            token_lifetime_secs: 3600,
            grant_propagation_ms: 2000,
            principal_replication_ms: 2000,
            vault_provisioning_ms: 1000,
            storage_provisioning_ms: 1000,
            resource_list_pages_before_filter: false,
            resource_index_lag_ms: 0,
            key_rotation_action_casing: RotationActionCasing::KeyVault,
            storage_unknown_values: false,
            throttling: Throttling::default(),
            faults: Faults::default(),
        }
    }
}

impl Settings {
    /// No propagation or provisioning delays and no throttling: for building
    /// an estate that should simply exist (the demo's seeding, test and
    /// benchmark set-up), not for what the tool is measured against.
    pub fn instant() -> Self {
        let mut settings = Self {
            grant_propagation_ms: 0,
            principal_replication_ms: 0,
            vault_provisioning_ms: 0,
            storage_provisioning_ms: 0,
            ..Self::default()
        };
        settings.throttling.enabled = false;
        settings
    }

    /// Azure as it is met in the field: every rough edge on, with Azure's
    /// timings. Each value's source is in docs/emulator.md ("Profiles").
    pub fn field() -> Self {
        Self {
            // Stands in for a subscription with thousands of resources: with
            // ARM's 1000 a test estate would always fit on one page.
            resource_page_size: 3,
            resource_list_pages_before_filter: true,
            // The index is reported to trail creates by seconds to minutes
            // (Azure/azure-cli#23428, Azure/azure-sdk-for-python#22737).
            resource_index_lag_ms: 30_000,
            // Key Vault's answer; `managedHsm` is the other casing Azure uses.
            key_rotation_action_casing: RotationActionCasing::KeyVault,
            storage_unknown_values: true,
            // Entra's shortest configurable access-token lifetime (10 minutes):
            // a long apply crosses an expiry, as one of 60-90 minutes does in
            // a large tenant.
            token_lifetime_secs: 600,
            // RBAC on Key Vault is reported to take up to 10 minutes
            // (terraform-provider-azurerm#32855); 5 is a common middle.
            grant_propagation_ms: 300_000,
            // Entra replication of a new managed identity: tens of seconds.
            principal_replication_ms: 60_000,
            // A vault's DNS registration and a storage account's create take
            // tens of seconds in the recordings' test runs.
            vault_provisioning_ms: 15_000,
            storage_provisioning_ms: 20_000,
            ..Self::default()
        }
    }

    /// When a resource created at `now` enters ARM's index (Resources_List).
    /// Recorded at create, so a later change of the setting moves nothing
    /// that already exists.
    pub fn indexed_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + Duration::milliseconds(
            i64::try_from(self.resource_index_lag_ms).unwrap_or(i64::MAX / 2),
        )
    }

    /// These settings with a JSON merge patch (RFC 7396) applied: how
    /// `--settings FILE` lands on a profile and `PATCH /_emulator/settings` on
    /// the running ones.
    pub fn merged(&self, patch: &serde_json::Value) -> Result<Self, serde_json::Error> {
        let mut current = serde_json::to_value(self)?;
        super::admin::merge(&mut current, patch);
        serde_json::from_value(current)
    }
}

/// The casing Azure answers a key rotation policy's action types in.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum RotationActionCasing {
    /// Key Vault: `Rotate`, `Notify`, whatever was sent.
    #[default]
    KeyVault,
    /// Managed HSM: `rotate`, `notify` (Azure/azure-rest-api-specs#25714).
    ManagedHsm,
}

impl RotationActionCasing {
    /// The action type as answered, for one read case-insensitively.
    pub fn answer(self, action: &str) -> Option<&'static str> {
        let lower = action.to_ascii_lowercase();
        match (self, lower.as_str()) {
            (Self::KeyVault, "rotate") => Some("Rotate"),
            (Self::KeyVault, "notify") => Some("Notify"),
            (Self::ManagedHsm, "rotate") => Some("rotate"),
            (Self::ManagedHsm, "notify") => Some("notify"),
            _ => None,
        }
    }
}

/// Azure Resource Manager's token buckets, per subscription (and one for
/// tenant-level calls). Defaults are Azure's published sizes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Throttling {
    pub enabled: bool,
    pub reads: Bucket,
    pub writes: Bucket,
}

impl Default for Throttling {
    fn default() -> Self {
        Self {
            enabled: true,
            reads: Bucket {
                capacity: 250.0,
                refill_per_sec: 25.0,
            },
            writes: Bucket {
                capacity: 200.0,
                refill_per_sec: 10.0,
            },
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Bucket {
    pub capacity: f64,
    pub refill_per_sec: f64,
}

/// Faults injected into ARM calls (not into the token endpoint or admin API).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Faults {
    /// Fixed delay added to every ARM call.
    pub latency_ms: u64,
    /// Uniform random delay in `0..=jitter_ms` added on top.
    pub jitter_ms: u64,
    /// Delay per operation id (e.g. `Vaults_CreateOrUpdate`), replacing `latency_ms`.
    pub operation_latency_ms: BTreeMap<String, u64>,
    /// Share of ARM calls (0.0-1.0) answered with a transient 500 or 503 before any change.
    pub error_rate: f64,
    /// Share of ARM calls (0.0-1.0) whose connection is dropped without an answer.
    pub drop_rate: f64,
    /// Seed for the fault dice, so a run can be repeated.
    pub seed: Option<u64>,
}
