//! Request counts from the emulator's request log: reads and writes per
//! subscription and per account, and where an apply's time went.

use super::*;

#[derive(Debug, Default, Clone)]
pub(crate) struct Counts {
    pub(crate) total: usize,
    pub(crate) reads: usize,
    pub(crate) writes: usize,
    pub(crate) throttled: usize,
    /// Reads and writes answered with anything but 429: each took a token
    /// from its bucket (the emulator throttles before it looks further).
    pub(crate) taken_reads: usize,
    pub(crate) taken_writes: usize,
    /// Successful (2xx) writes: what the work changed.
    pub(crate) ok_writes: usize,
    /// List pages read: the subscription list's and the management-group
    /// list's (one page, empty, in the bench estates, which have no group).
    pub(crate) pages: usize,
    /// The subscription list's pages alone.
    pub(crate) subscription_pages: usize,
    /// When the first write was answered (the end of audit and plan).
    pub(crate) first_write: Option<chrono::DateTime<chrono::Utc>>,
}

/// The emulator's bucket kind: GET and name checks read, the rest writes.
pub(crate) fn is_read(r: &Value) -> bool {
    r["method"] == "GET"
        || r["path"]
            .as_str()
            .is_some_and(|p| p.to_ascii_lowercase().ends_with("/checknameavailability"))
}

/// The share of a run's ARM answers that were 429s.
pub(crate) fn throttled_share(c: &Counts) -> f64 {
    c.throttled as f64 / c.total.max(1) as f64
}

pub(crate) fn in_subscription(r: &Value, sub: &str) -> bool {
    r["path"]
        .as_str()
        .unwrap_or_default()
        .to_ascii_lowercase()
        .starts_with(&format!("/subscriptions/{sub}/"))
}

pub(crate) fn counts<'a>(requests: impl IntoIterator<Item = &'a Value>) -> Counts {
    let mut c = Counts::default();
    for r in requests {
        let ok = r["status"]
            .as_u64()
            .is_some_and(|s| (200..300).contains(&s));
        let throttled = r["status"] == 429;
        c.total += 1;
        c.throttled += usize::from(throttled);
        if r["operation"] == "Subscriptions_List" {
            c.pages += 1;
            c.subscription_pages += 1;
        }
        if r["operation"] == "ManagementGroups_List" {
            c.pages += 1;
        }
        if is_read(r) {
            c.reads += 1;
            c.taken_reads += usize::from(!throttled);
        } else {
            c.writes += 1;
            c.taken_writes += usize::from(!throttled);
            c.ok_writes += usize::from(ok);
            let time = r["time"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&chrono::Utc));
            if let Some(time) = time {
                c.first_write = Some(c.first_write.map_or(time, |f| f.min(time)));
            }
        }
    }
    c
}

/// `ACTLOG_CMK_BENCH_TRACE=1`: every ARM call of every run, with when it
/// was answered (seconds after the binary started), to see where time goes.
pub(crate) fn trace(run: &Run, requests: &[Value]) {
    if std::env::var_os("ACTLOG_CMK_BENCH_TRACE").is_none() {
        return;
    }
    for r in requests {
        let at = answered_at(r).map_or(f64::NAN, |t| seconds(t - run.started));
        println!(
            "{at:8.3} {} {} {} {}",
            r["method"], r["status"], r["operation"], r["path"]
        );
    }
}

/// Where an apply's time went, from the request log: the emulator logs
/// each call when it answers it (after the profile's latency).
#[derive(Debug, Default, Clone)]
pub(crate) struct Breakdown {
    /// From the start of the binary to the first write: audit and plan.
    pub(crate) audit_and_plan: Option<f64>,
    /// `Subscriptions_Get` calls (plan reads each account's subscription for
    /// its tenant) and the time from the first to the last one's answer.
    pub(crate) tenant_reads: usize,
    pub(crate) tenant_span: Option<f64>,
    /// Mean seconds between a vault's DNS registration ending and the tool
    /// noticing it (its key create), beyond the next call's latency.
    pub(crate) vault_wait_beyond: Option<f64>,
    /// Mean seconds between a grant taking effect and the account switch
    /// succeeding.
    pub(crate) grant_wait_beyond: Option<f64>,
}

pub(crate) fn answered_at(r: &Value) -> Option<chrono::DateTime<chrono::Utc>> {
    r["time"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// The destination account a call is about: `storageAccounts/{name}`, or a
/// vault the tool named `kv-{name}-{hash}` (its default template).
pub(crate) fn account_of(r: &Value) -> Option<String> {
    let path = r["path"].as_str()?.to_ascii_lowercase();
    if let Some(i) = path.find("/storageaccounts/") {
        return path[i + "/storageaccounts/".len()..]
            .split('/')
            .next()
            .map(str::to_string);
    }
    let i = path.find("/vaults/kv-")?;
    let vault = path[i + "/vaults/kv-".len()..].split('/').next()?;
    vault.rsplit_once('-').map(|(name, _)| name.to_string())
}

pub(crate) fn seconds(d: chrono::TimeDelta) -> f64 {
    d.num_microseconds().unwrap_or_default() as f64 / 1e6
}

pub(crate) fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

pub(crate) fn breakdown(run: &Run, requests: &[Value], s: &Settings) -> Breakdown {
    let c = counts(requests);
    let tenant: Vec<_> = requests
        .iter()
        .filter(|r| r["operation"] == "Subscriptions_Get")
        .filter_map(answered_at)
        .collect();
    let tenant_span = match (tenant.iter().min(), tenant.iter().max()) {
        (Some(first), Some(last)) => {
            Some(seconds(*last - *first) + latency(s, "Subscriptions_Get") as f64 / 1000.0)
        }
        _ => None,
    };
    let mut by_account: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for r in requests {
        if let Some(account) = account_of(r) {
            by_account.entry(account).or_default().push(r);
        }
    }
    let ok = |r: &Value| {
        r["status"]
            .as_u64()
            .is_some_and(|s| (200..300).contains(&s))
    };
    // The first answer to `op` (a successful one, unless `any`) at or after `after`.
    let first =
        |calls: &[&Value], op: &str, any: bool, after: Option<chrono::DateTime<chrono::Utc>>| {
            calls
                .iter()
                .filter(|r| r["operation"] == op && (any || ok(r)))
                .filter_map(|r| answered_at(r))
                .filter(|t| after.is_none_or(|a| *t >= a))
                .min()
        };
    let mut vault_waits = Vec::new();
    let mut grant_waits = Vec::new();
    for calls in by_account.values() {
        if let Some(put) = first(calls, "Vaults_CreateOrUpdate", false, None) {
            // The key step's create follows the poll that saw the vault ready.
            if let Some(key) = first(calls, "Keys_CreateIfNotExist", true, Some(put)) {
                let due =
                    (s.vault_provisioning_ms + latency(s, "Keys_CreateIfNotExist")) as f64 / 1000.0;
                vault_waits.push((seconds(key - put) - due).max(0.0));
            }
        }
        if let Some(grant) = first(calls, "RoleAssignments_Create", false, None) {
            if let Some(switch) = first(calls, "StorageAccounts_Update", false, Some(grant)) {
                let due = s.grant_propagation_ms as f64 / 1000.0;
                grant_waits.push((seconds(switch - grant) - due).max(0.0));
            }
        }
    }
    Breakdown {
        audit_and_plan: c.first_write.map(|t| seconds(t - run.started)),
        tenant_reads: tenant.len(),
        tenant_span,
        vault_wait_beyond: mean(&vault_waits),
        grant_wait_beyond: mean(&grant_waits),
    }
}
