//! The bench's mode (quick or full, from the command line) and the emulator's
//! latency profile for each.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Quick,
    Full,
}

pub(crate) struct Config {
    pub(crate) mode: Mode,
    pub(crate) audit: bool,
    /// Apply to accounts spread over as many subscriptions.
    pub(crate) spread: bool,
    /// Apply to many accounts in one subscription.
    pub(crate) one: bool,
    /// The sharded audit: N processes against one emulator.
    pub(crate) shard: bool,
    /// `--audit-sizes 5000,10000`: the audit's S values instead of the mode's.
    pub(crate) audit_sizes: Option<Vec<usize>>,
    /// Run the `--parallelism 1` baselines.
    pub(crate) sequential: bool,
    /// `--parallelism` for the parallel runs; `None` is the tool's default.
    pub(crate) parallelism: Option<usize>,
    /// Write docs/benchmarks.md (full mode, everything measured, defaults).
    pub(crate) report: bool,
    /// `--write-report` on a partial run: rewrite docs/benchmarks.md with what
    /// this run measured, keeping (and dating) the rest from the page as it was.
    pub(crate) write_partial: bool,
}

pub(crate) fn config() -> Config {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick")
        || std::env::var("ACTLOG_CMK_BENCH").is_ok_and(|v| v.eq_ignore_ascii_case("quick"));
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .cloned();
    // A comma-separated list: `--only audit,one,shard`.
    let parts: Option<Vec<String>> = only
        .as_ref()
        .map(|o| o.split(',').map(|p| p.trim().to_string()).collect());
    for part in parts.iter().flatten() {
        assert!(
            ["audit", "apply", "spread", "one", "shard"].contains(&part.as_str()),
            "--only takes audit, apply, spread, one or shard (or a list of them), not {part}"
        );
    }
    let wants = |part: &str| parts.as_ref().is_none_or(|ps| ps.iter().any(|p| p == part));
    // For exploring: `--parallel-only` skips the baselines, `--parallelism N`
    // overrides the tool's default; neither writes the report.
    let sequential = !args.iter().any(|a| a == "--parallel-only");
    let parallelism = args
        .iter()
        .position(|a| a == "--parallelism")
        .and_then(|i| args.get(i + 1))
        .map(|p| p.parse().expect("--parallelism takes a number"));
    let audit_sizes = args
        .iter()
        .position(|a| a == "--audit-sizes")
        .and_then(|i| args.get(i + 1))
        .map(|list| {
            list.split(',')
                .map(|n| {
                    n.trim()
                        .parse()
                        .expect("--audit-sizes takes numbers: 5000,10000")
                })
                .collect()
        });
    let mode = if quick { Mode::Quick } else { Mode::Full };
    let report = mode == Mode::Full
        && only.is_none()
        && sequential
        && parallelism.is_none()
        && audit_sizes.is_none();
    Config {
        mode,
        audit: wants("audit"),
        spread: wants("apply") || wants("spread"),
        one: wants("apply") || wants("one"),
        shard: wants("shard"),
        audit_sizes,
        sequential,
        parallelism,
        report,
        write_partial: !report
            && mode == Mode::Full
            && parallelism.is_none()
            && args.iter().any(|a| a == "--write-report"),
    }
}

/// The emulator's defaults (Azure's buckets, 2 s grant propagation and
/// principal replication, 1 s vault DNS registration) plus 30 ms on every ARM
/// call and 1 s on a vault create.
pub(crate) fn full_profile() -> Settings {
    let mut settings = Settings::default();
    settings.faults.latency_ms = 30;
    settings
        .faults
        .operation_latency_ms
        .insert("Vaults_CreateOrUpdate".into(), 1000);
    settings
}

/// Quick mode: the same shape, shorter, with small buckets so that ten
/// accounts in one subscription are throttled as a hundred are in Azure.
pub(crate) fn quick_profile() -> Settings {
    let mut settings = Settings {
        grant_propagation_ms: 300,
        principal_replication_ms: 300,
        vault_provisioning_ms: 100,
        storage_provisioning_ms: 100,
        ..Settings::default()
    };
    settings.faults.latency_ms = 5;
    settings
        .faults
        .operation_latency_ms
        .insert("Vaults_CreateOrUpdate".into(), 100);
    settings.throttling.reads = Bucket {
        capacity: 40.0,
        refill_per_sec: 40.0,
    };
    settings.throttling.writes = Bucket {
        capacity: 15.0,
        refill_per_sec: 15.0,
    };
    settings
}

/// Milliseconds one call of `operation` takes in this profile.
pub(crate) fn latency(settings: &Settings, operation: &str) -> u64 {
    settings
        .faults
        .operation_latency_ms
        .get(operation)
        .copied()
        .unwrap_or(settings.faults.latency_ms)
}
