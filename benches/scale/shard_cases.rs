//! The sharded audit: N processes of `audit --shard K/N` at once against one
//! emulator, their reports combined with `report merge`, against one process
//! on the same estate. Reads inside the subscriptions do not compete (each
//! subscription has its own bucket), but every process lists the
//! subscriptions through the tenant's bucket, which binds as N grows; on
//! this machine the processes also share its two cores with the emulator.

use super::*;

pub(crate) struct ShardRun {
    pub(crate) n: usize,
    /// From the first process's start to the last one's exit.
    pub(crate) wall: Duration,
    pub(crate) slowest: Duration,
    pub(crate) counts: Counts,
    /// Tenant-level reads: the subscription list's pages, in every process.
    pub(crate) tenant_reads: usize,
    pub(crate) peak_kib: i64,
}

pub(crate) struct ShardResult {
    pub(crate) subscriptions: usize,
    pub(crate) accounts: usize,
    pub(crate) runs: Vec<ShardRun>,
}

/// N = 1 is the plain `audit`; larger N run `--shard K/N` for every K at once.
pub(crate) async fn measure_shards(
    template: &Template,
    settings: &Settings,
    s: usize,
    ns: &[usize],
    checks: &mut Checks,
) -> ShardResult {
    let estate = Estate::audit(s);
    let accounts = estate.accounts.len();
    let bench = Bench::start(settings.clone(), template.state(&estate)).await;
    // Long enough for an emptied read bucket to fill again between runs.
    let refill = Duration::from_secs_f64(
        settings.throttling.reads.capacity / settings.throttling.reads.refill_per_sec + 0.5,
    );
    let mut runs = Vec::new();
    for &n in ns {
        tokio::time::sleep(refill).await;
        bench.clear_requests().await;
        let files: Vec<PathBuf> = (1..=n)
            .map(|k| bench.dir.path().join(format!("audit-{n}-{k}.json")))
            .collect();
        let started = Instant::now();
        let bench = &bench;
        let processes = files.iter().enumerate().map(|(i, file)| {
            let mut args: Vec<String> = ["audit", "-o", "json", "--output-file"]
                .iter()
                .map(|a| a.to_string())
                .collect();
            args.push(file.display().to_string());
            if n > 1 {
                args.extend(["--shard".to_string(), format!("{}/{n}", i + 1)]);
            }
            let tag = format!("-{n}-{}", i + 1);
            async move { bench.run_as(&tag, &args).await }
        });
        let done = futures::future::join_all(processes).await;
        let wall = started.elapsed();
        let label = format!("sharded audit S={s} N={n}");
        for (k, run) in done.iter().enumerate() {
            checks.check(
                run.code == 2,
                format!(
                    "{label}, shard {}: exit code {} (expected 2, findings); stderr: {}",
                    k + 1,
                    run.code,
                    run.stderr.trim()
                ),
            );
            checks.check(
                !run.shows_throttling(),
                format!("{label}: a 429 reached the output"),
            );
        }
        let mut merge: Vec<String> = ["report", "merge", "-o", "json"]
            .iter()
            .map(|a| a.to_string())
            .collect();
        merge.extend(files.iter().map(|f| f.display().to_string()));
        if n > 1 {
            let merged = bench.run_as(&format!("-{n}-merge"), &merge).await;
            let summary = &merged.json()["summary"];
            checks.check(
                merged.code == 2
                    && summary["subscriptions"] == s
                    && summary["destinations"] == accounts
                    && summary["incomplete"] == false,
                format!(
                    "{label}: merged report exit {}, summary {summary}",
                    merged.code
                ),
            );
        }
        let requests = bench.requests().await;
        let counts = counts(&requests);
        let tenant_reads = requests
            .iter()
            .filter(|r| r["operation"] == "Subscriptions_List")
            .count();
        println!(
            "  {label}: {} ({} requests, {tenant_reads} tenant reads, {} throttled)",
            secs(wall),
            counts.total,
            counts.throttled
        );
        runs.push(ShardRun {
            n,
            wall,
            slowest: done.iter().map(|r| r.wall).max().unwrap_or_default(),
            tenant_reads,
            peak_kib: done.iter().map(|r| r.max_rss_kib).max().unwrap_or_default(),
            counts,
        });
    }
    bench.stop().await;
    ShardResult {
        subscriptions: s,
        accounts,
        runs,
    }
}

impl ShardResult {
    /// The report's section.
    pub(crate) fn section(&self, s: &Settings) -> String {
        let mut md = String::new();
        let reads = s.throttling.reads;
        let _ = writeln!(
            md,
            "## Shards\n\n`actlog-cmk audit --shard K/N` in N processes at once against one emulator (the estate of \
             the audit above, S = {}, A = {}), then `report merge` of their JSON reports (checked: the merged \
             summary is the whole estate's); N = 1 is one plain `audit`. Each process lists every subscription \
             page through the tenant's read bucket ({} burst, {} per s), so the tenant floor is \
             `(N·pages − {}) / {}` s; the reads inside the subscriptions fall on their own buckets. The \
             processes share this machine's two cores with each other and with the emulator.\n",
            self.subscriptions, self.accounts, reads.capacity, reads.refill_per_sec, reads.capacity, reads.refill_per_sec
        );
        let _ = writeln!(
            md,
            "| N | wall (first start to last exit) | speed-up | slowest process | ARM requests | tenant reads | tenant floor | 429 answers | peak memory per process |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        let one = self.runs.iter().find(|r| r.n == 1).map(|r| r.wall);
        for r in &self.runs {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {:.2} s | {} | {} |",
                r.n,
                secs(r.wall),
                one.map_or("-".into(), |one| ratio(one, r.wall)),
                secs(r.slowest),
                r.counts.total,
                r.tenant_reads,
                bucket_floor(r.tenant_reads, reads),
                r.counts.throttled,
                mib(r.peak_kib),
            );
        }
        if let (Some(one), Some(most)) = (self.runs.first(), self.runs.last()) {
            let floor = audit_floor_ms(
                s,
                self.subscriptions,
                self.accounts,
                audit_default_parallelism(),
            );
            let _ = writeln!(
                md,
                "\nOne process took {} against its latency floor of {}: what N processes can split is the rest, \
                 the CPU of the HTTPS calls, and here the processes and the emulator share two cores: the best \
                 speed-up was {:.1}x. ARM requests grow with N: every process lists all \
                 {} subscription pages, and a destination fed from subscriptions in two shards is read by both. \
                 At N = {} the {} tenant reads exceed the tenant bucket's burst (floor {:.2} s){}. On machines of \
                 their own (a pipeline's jobs), shards divide the per-subscription work until that tenant floor \
                 binds.\n",
                secs(one.wall),
                ms_secs(floor),
                self.runs
                    .iter()
                    .map(|r| one.wall.as_secs_f64() / r.wall.as_secs_f64().max(1e-9))
                    .fold(0.0, f64::max),
                one.tenant_reads,
                most.n,
                most.tenant_reads,
                bucket_floor(most.tenant_reads, s.throttling.reads),
                if most.counts.throttled > 0 {
                    format!(
                        "; each process paces itself by the remaining counts it sees, but not by the others' \
                         requests still in flight, so {} of their {} answers were 429s, waited out",
                        most.counts.throttled, most.counts.total
                    )
                } else {
                    String::new()
                },
            );
        }
        md
    }
}
