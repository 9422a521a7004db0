//! Lower bounds derived from the latency profile: the critical path of one
//! account's apply and the request floors the results are held against.

use super::*;

pub(crate) struct Hop {
    pub(crate) what: &'static str,
    pub(crate) ms: u64,
}

/// The calls one account's `apply --yes` must make one after another (calls
/// the tool makes at the same time count once, as the longest), and the waits
/// Azure imposes between them. No tool can be faster than their sum.
pub(crate) fn critical_path(s: &Settings) -> Vec<Hop> {
    let l = |op: &str| latency(s, op);
    let max = |a: u64, b: u64| a.max(b);
    vec![
        Hop {
            what: "audit: list subscriptions (one page)",
            ms: l("Subscriptions_List"),
        },
        Hop {
            what: "audit: diagnostic settings ‖ log profiles",
            ms: max(
                l("SubscriptionDiagnosticSettings_List"),
                l("LogProfiles_List"),
            ),
        },
        Hop {
            what: "audit: read the destination account",
            ms: l("StorageAccounts_GetProperties"),
        },
        Hop {
            what: "plan: identities of the account's resource group (one list per group)",
            ms: l("Resources_List"),
        },
        Hop {
            what: "plan: vault name (checkNameAvailability; the tenant came with the subscription list)",
            ms: l("Vaults_CheckNameAvailability"),
        },
        Hop {
            what: "apply: identity (GET, PUT) ‖ vault (GET, PUT, DNS registration, GET)",
            ms: max(
                l("UserAssignedIdentities_Get") + l("UserAssignedIdentities_CreateOrUpdate"),
                l("Vaults_Get")
                    + l("Vaults_CreateOrUpdate")
                    + s.vault_provisioning_ms
                    + l("Vaults_Get"),
            ),
        },
        Hop {
            what: "apply: key (PUT, create if not exist)",
            ms: l("Keys_CreateIfNotExist"),
        },
        Hop {
            what: "apply: grant (role assignment PUT)",
            ms: l("RoleAssignments_Create"),
        },
        Hop {
            what: "apply: account (GET, PATCH once the grant has propagated)",
            ms: max(
                l("StorageAccounts_GetProperties") + l("StorageAccounts_Update"),
                s.grant_propagation_ms + l("StorageAccounts_Update"),
            ),
        },
        Hop {
            what: "verify: read the account (vault, key, identity and grant as the steps' answers showed them)",
            ms: l("StorageAccounts_GetProperties"),
        },
    ]
}

pub(crate) fn critical_path_ms(s: &Settings) -> u64 {
    critical_path(s).iter().map(|h| h.ms).sum()
}

/// The writes one account needs: identity, vault, key, role assignment, account.
pub(crate) const WRITES_PER_ACCOUNT: usize = 5;
/// Reads the audit makes per CMK destination to check its health: the vault
/// found by name, the vault, the key, the identity, its role assignments,
/// and the definition of the role they grant (read once per run at each
/// vault's subscription, so at most once per account: issue 17's custom roles).
pub(crate) const HEALTH_READS_PER_CMK_ACCOUNT: usize = 6;

/// Seconds until `requests` calls fit through a bucket: the burst is free,
/// the rest arrives at the refill rate.
pub(crate) fn bucket_floor(requests: usize, bucket: Bucket) -> f64 {
    (requests as f64 - bucket.capacity).max(0.0) / bucket.refill_per_sec
}

/// The audit's fastest possible run at `parallelism` p. It reads a
/// subscription's sources (two lists at once) as soon as the subscription
/// list names it, and a destination as soon as a source first names it, up
/// to p subscriptions and p destinations at once; so no run is faster than
/// the longest of three chains: the pages one after another, then the last
/// page's sources, then a destination they name; the first page, then the
/// sources in waves of p, then the last wave's destinations; a page and a
/// source, then the destinations in waves of p.
pub(crate) fn audit_floor_ms(
    s: &Settings,
    subscriptions: usize,
    accounts: usize,
    parallelism: usize,
) -> u64 {
    let pages = subscriptions.div_ceil(s.subscription_page_size) as u64;
    let page = latency(s, "Subscriptions_List");
    let sources =
        latency(s, "SubscriptionDiagnosticSettings_List").max(latency(s, "LogProfiles_List"));
    let account = latency(s, "StorageAccounts_GetProperties");
    let waves = |n: usize| n.div_ceil(parallelism) as u64;
    (pages * page + sources + account)
        .max(page + waves(subscriptions) * sources + account)
        .max(page + sources + waves(accounts) * account)
}
