//! The audit measurements (and the number formatting the report shares).

use super::*;

pub(crate) fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

pub(crate) fn ms_secs(ms: u64) -> String {
    format!("{:.2} s", ms as f64 / 1000.0)
}

pub(crate) fn opt_secs(s: Option<f64>) -> String {
    s.map_or_else(|| "-".into(), |s| format!("{s:.2} s"))
}

pub(crate) fn mib(kib: i64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

pub(crate) fn ratio(slow: Duration, fast: Duration) -> String {
    format!("{:.1}x", slow.as_secs_f64() / fast.as_secs_f64().max(1e-9))
}

pub(crate) struct AuditResult {
    pub(crate) subscriptions: usize,
    pub(crate) accounts: usize,
    /// CMK destinations, whose health the audit checks.
    pub(crate) cmk: usize,
    pub(crate) par: Run,
    pub(crate) seq: Run,
    pub(crate) par_counts: Counts,
    pub(crate) seq_counts: Counts,
}

impl AuditResult {
    pub(crate) fn bound(&self, pages: usize) -> usize {
        2 * self.subscriptions + self.accounts + pages + HEALTH_READS_PER_CMK_ACCOUNT * self.cmk
    }
}

pub(crate) async fn audit_run(
    bench: &Bench,
    parallelism: Option<usize>,
    subscriptions: usize,
    accounts: usize,
    cmk: usize,
    checks: &mut Checks,
) -> (Run, Counts) {
    bench.clear_requests().await;
    let mut args = vec!["audit".to_string(), "-o".into(), "json".into()];
    if let Some(p) = parallelism {
        args.extend(["--parallelism".to_string(), p.to_string()]);
    }
    let run = bench.run(&args).await;
    let requests = bench.requests().await;
    trace(&run, &requests);
    let c = counts(&requests);
    let label = format!(
        "audit S={subscriptions} A={accounts} parallelism {}",
        parallelism.map_or("default".into(), |p| p.to_string())
    );
    let expected_code = if cmk == accounts { 0 } else { 2 };
    checks.check(
        run.code == expected_code,
        format!(
            "{label}: exit code {} (expected {expected_code}); stderr: {}",
            run.code,
            run.stderr.trim()
        ),
    );
    if run.code == expected_code {
        let report = run.json();
        let summary = &report["summary"];
        checks.check(
            summary["subscriptions"] == subscriptions
                && summary["destinations"] == accounts
                && summary["compliant"] == cmk
                && summary["non_compliant"] == accounts - cmk
                && summary["incomplete"] == false,
            format!("{label}: summary {summary}"),
        );
    }
    let bound = 2 * subscriptions + accounts + c.pages + HEALTH_READS_PER_CMK_ACCOUNT * cmk;
    checks.check(
        c.total <= bound,
        format!(
            "{label}: {} ARM requests, more than 2S + A + pages{} = {bound}",
            c.total,
            if cmk > 0 {
                " + 6 per CMK destination"
            } else {
                ""
            }
        ),
    );
    checks.check(
        c.subscription_pages == subscriptions.div_ceil(bench_page_size(bench)),
        format!("{label}: {} subscription pages", c.subscription_pages),
    );
    checks.check(
        !run.shows_throttling(),
        format!("{label}: a 429 reached the output"),
    );
    println!(
        "  {label}: {} ({} requests, {} throttled, peak {})",
        secs(run.wall),
        c.total,
        c.throttled,
        mib(run.max_rss_kib)
    );
    (run, c)
}

pub(crate) fn bench_page_size(bench: &Bench) -> usize {
    bench.emu.emulator().settings().subscription_page_size
}

pub(crate) async fn measure_audit(
    template: &Template,
    settings: &Settings,
    config: &Config,
    s: usize,
    checks: &mut Checks,
) -> AuditResult {
    let estate = Estate::audit(s);
    let accounts = estate.accounts.len();
    let state = template.state(&estate);
    let bench = Bench::start(settings.clone(), state).await;
    let (par, par_counts) = audit_run(&bench, config.parallelism, s, accounts, 0, checks).await;
    let (seq, seq_counts) = if config.sequential {
        audit_run(&bench, Some(1), s, accounts, 0, checks).await
    } else {
        (par.clone(), par_counts.clone())
    };
    bench.stop().await;
    AuditResult {
        subscriptions: s,
        accounts,
        cmk: 0,
        par,
        seq,
        par_counts,
        seq_counts,
    }
}
