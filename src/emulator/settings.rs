//! Run-time knobs of the emulator: timings that imitate Azure's eventual
//! consistency, throttling buckets and injected faults. All of it can be set
//! at start (`--settings FILE`) or changed while running (`PUT /_emulator/settings`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    /// Subscriptions per page of `GET /subscriptions` (pages are linked by `nextLink`).
    pub subscription_page_size: usize,
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
    pub throttling: Throttling,
    pub faults: Faults,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            subscription_page_size: 100,
            resource_page_size: 1000,
            token_lifetime_secs: 3600,
            grant_propagation_ms: 2000,
            principal_replication_ms: 2000,
            vault_provisioning_ms: 1000,
            storage_provisioning_ms: 1000,
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
