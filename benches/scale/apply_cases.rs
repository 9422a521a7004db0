//! The apply measurements: one subscription, spread estates, one account.

use super::*;

pub(crate) struct ApplyResult {
    pub(crate) label: String,
    pub(crate) accounts: usize,
    /// The subscription all accounts are in, for the one-subscription case.
    pub(crate) central: Option<String>,
    pub(crate) par: Run,
    pub(crate) seq: Run,
    pub(crate) par_counts: Counts,
    pub(crate) seq_counts: Counts,
    /// Reads and writes that hit the central subscription's buckets (parallel run).
    pub(crate) central_counts: Option<Counts>,
    /// Where the parallel run's time went.
    pub(crate) breakdown: Breakdown,
    /// The audit of the remediated estate, when measured.
    pub(crate) after: Option<AuditResult>,
}

pub(crate) async fn apply_run(
    bench: &Bench,
    parallelism: Option<usize>,
    label: &str,
    accounts: usize,
    checks: &mut Checks,
) -> (Run, Vec<Value>) {
    bench.clear_requests().await;
    let mut args: Vec<String> = ["apply", "--yes", "--quiet", "-o", "json"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    if let Some(p) = parallelism {
        args.extend(["--parallelism".to_string(), p.to_string()]);
    }
    let run = bench.run(&args).await;
    let requests = bench.requests().await;
    let label = format!(
        "{label}, parallelism {}",
        parallelism.map_or("default".into(), |p| p.to_string())
    );
    checks.check(
        run.code == 0,
        format!(
            "{label}: exit code {}; stderr: {}",
            run.code,
            run.stderr.trim()
        ),
    );
    if !run.stdout.trim().is_empty() {
        let report = run.json();
        let summary = &report["summary"];
        let failed: Vec<String> = report["accounts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| a["outcome"] != "done")
            .map(|a| format!("{}: {}", a["storage_account_id"], a["reason"]))
            .take(5)
            .collect();
        checks.check(
            summary["done"] == accounts && summary["failed"] == 0 && summary["refused"] == 0,
            format!("{label}: summary {summary}; {}", failed.join("; ")),
        );
    }
    let c = counts(&requests);
    trace(&run, &requests);
    checks.check(
        c.ok_writes == WRITES_PER_ACCOUNT * accounts,
        format!(
            "{label}: {} successful writes, expected {} (identity, vault, key, grant, account per account)",
            c.ok_writes,
            WRITES_PER_ACCOUNT * accounts
        ),
    );
    checks.check(
        !run.shows_throttling(),
        format!("{label}: a 429 reached the output"),
    );
    println!(
        "  {label}: {} ({} requests: {} reads, {} writes, {} throttled; peak {})",
        secs(run.wall),
        c.total,
        c.reads,
        c.writes,
        c.throttled,
        mib(run.max_rss_kib)
    );
    (run, requests)
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn measure_apply(
    template: &Template,
    settings: &Settings,
    config: &Config,
    label: &str,
    estate: Estate,
    central: Option<String>,
    audit_after: bool,
    checks: &mut Checks,
) -> ApplyResult {
    let accounts = estate.accounts.len();
    let state = template.state(&estate);
    let subscriptions = estate.subscriptions.len();

    let bench = Bench::start(settings.clone(), state.clone()).await;
    let (par, par_requests) = apply_run(&bench, config.parallelism, label, accounts, checks).await;
    let central_counts = central
        .as_ref()
        .map(|sub| counts(par_requests.iter().filter(|r| in_subscription(r, sub))));
    let after = if audit_after {
        let (a_par, a_par_counts) = audit_run(
            &bench,
            config.parallelism,
            subscriptions,
            accounts,
            accounts,
            checks,
        )
        .await;
        let (a_seq, a_seq_counts) = if config.sequential {
            audit_run(&bench, Some(1), subscriptions, accounts, accounts, checks).await
        } else {
            (a_par.clone(), a_par_counts.clone())
        };
        Some(AuditResult {
            subscriptions,
            accounts,
            cmk: accounts,
            par: a_par,
            seq: a_seq,
            par_counts: a_par_counts,
            seq_counts: a_seq_counts,
        })
    } else {
        None
    };
    bench.stop().await;

    let (seq, seq_requests) = if config.sequential {
        let bench = Bench::start(settings.clone(), state).await;
        let seq = apply_run(&bench, Some(1), label, accounts, checks).await;
        bench.stop().await;
        seq
    } else {
        (par.clone(), par_requests.clone())
    };
    ApplyResult {
        label: label.to_string(),
        accounts,
        breakdown: breakdown(&par, &par_requests, settings),
        central,
        par_counts: counts(&par_requests),
        seq_counts: counts(&seq_requests),
        par,
        seq,
        central_counts,
        after,
    }
}
