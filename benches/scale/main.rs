//! Audit and apply at scale: the release binary against the in-process
//! emulator with a latency profile (30 ms per ARM call, slower vault
//! creation, grant propagation, Azure's throttling buckets).
//!
//! `cargo bench --bench scale` measures every size in docs/benchmarks.md and
//! rewrites that file; `cargo bench --bench scale -- --quick` (or
//! `ACTLOG_CMK_BENCH=quick`) runs small estates on a shortened profile and
//! fails on a broken request bound, a failed account or a 429 that reached the
//! user, never on a timing. For exploring (no report written): `-- --only
//! audit|apply|spread|one|shard` (or a list: `audit,shard`) measures parts, `--audit-sizes 5000,10000`
//! picks the audit's sizes, `--parallel-only` skips the `--parallelism 1`
//! baselines, `--parallelism N` overrides the tool's default, and
//! `ACTLOG_CMK_BENCH_TRACE=1` prints every ARM call. A partial full-mode run
//! with `--write-report` rewrites docs/benchmarks.md with what it measured,
//! keeping the rest of the page with the date it was measured (`partial`).
//!
//! Estates are loaded as emulator state (what `PUT /_emulator/state` takes),
//! generated from entries the emulator made itself for a one-account estate
//! built through ARM, so thousands of subscriptions cost no ARM calls.
//!
//! One module per concern: `profile` (mode and latency profile), `floors`
//! (lower bounds), `estate`, `harness` (the emulator and the binary),
//! `counts` (request counts), `checks`, `audit_cases` and `apply_cases` (the
//! measurements), `machine`, `report` and `targets` (docs/benchmarks.md).

mod apply_cases;
mod audit_cases;
mod checks;
mod counts;
mod estate;
mod floors;
mod harness;
mod machine;
mod partial;
mod profile;
mod report;
mod shard_cases;
mod targets;

use apply_cases::*;
use audit_cases::*;
use checks::*;
use counts::*;
use estate::*;
use floors::*;
use harness::*;
use machine::*;
use partial::*;
use profile::*;
use report::*;
use shard_cases::*;
use targets::*;

use actlog_cmk::emulator::settings::{Bucket, Settings};
use actlog_cmk::emulator::state::State;
use actlog_cmk::emulator::{self, Options, RunningEmulator};
use clap::CommandFactory;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_actlog-cmk");

/// The launcher's first argument.
const LAUNCH: &str = "--launch-and-measure";

/// `scale --launch-and-measure FILE PROGRAM ARGS...`: runs PROGRAM (inheriting
/// environment, folder and standard streams), waits for it with `wait4`, and
/// writes "exit-code peak-RSS-KiB wall-microseconds" to FILE.
///
/// Why a launcher: Linux starts a new process's `ru_maxrss` at the peak RSS
/// of the process that spawned it (exec records the old address space's high
/// water mark), and the harness itself grows past 100 MiB with the largest
/// estates. This small, freshly started process spawns the binary instead.
fn launch(args: &[String]) -> ! {
    let [file, program, rest @ ..] = args else {
        eprintln!("usage: {LAUNCH} FILE PROGRAM [ARGS...]");
        std::process::exit(2);
    };
    let start = Instant::now();
    let child = match Command::new(program).args(rest).spawn() {
        Ok(child) => child,
        Err(e) => {
            eprintln!("cannot start {program}: {e}");
            std::process::exit(2);
        }
    };
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data that wait4 fills, with the status, for
    // this child alone.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    if waited != pid {
        eprintln!("wait4: {}", std::io::Error::last_os_error());
        std::process::exit(2);
    }
    drop(child);
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    let line = format!("{code} {} {}\n", usage.ru_maxrss, wall.as_micros());
    if let Err(e) = std::fs::write(file, line) {
        eprintln!("cannot write {file}: {e}");
        std::process::exit(2);
    }
    std::process::exit(0);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(LAUNCH) {
        launch(&args[2..]);
    }
    let config = config();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let failed = runtime.block_on(run(config));
    if failed {
        std::process::exit(1);
    }
}

/// A mode's profile and estates: audit sizes S, spread sizes N, accounts in
/// one subscription, and the sharded audit's S with its values of N.
type Sizes = (
    Settings,
    &'static [usize],
    &'static [usize],
    usize,
    (usize, &'static [usize]),
);

/// Returns true when a check failed.
async fn run(config: Config) -> bool {
    let start = Instant::now();
    let load_before = loadavg();
    let (settings, audit_sizes, spread_sizes, one_subscription, shards): Sizes = match config.mode {
        Mode::Quick => (quick_profile(), &[10, 100], &[1, 10], 10, (100, &[1, 2])),
        Mode::Full => (
            full_profile(),
            &[10, 100, 1000, 5000, 10000],
            &[1, 10, 100],
            100,
            (5000, &[1, 2, 4, 8]),
        ),
    };
    let (shard_s, shard_ns) = shards;
    let audit_sizes = config.audit_sizes.as_deref().unwrap_or(audit_sizes);
    println!(
        "scale benchmark, {} mode: {BIN}",
        if config.mode == Mode::Quick {
            "quick"
        } else {
            "full"
        }
    );
    println!(
        "  one account's critical path in this profile: {}",
        ms_secs(critical_path_ms(&settings))
    );
    let template = Template::capture().await;
    let mut checks = Checks::default();

    let mut audits = Vec::new();
    if config.audit {
        for &s in audit_sizes {
            audits.push(measure_audit(&template, &settings, &config, s, &mut checks).await);
        }
    }
    let mut applies = Vec::new();
    if config.spread {
        let largest = spread_sizes.iter().copied().max().unwrap_or(0);
        for &n in spread_sizes {
            let label = format!("{n} over {n} subscriptions");
            applies.push(
                measure_apply(
                    &template,
                    &settings,
                    &config,
                    &label,
                    Estate::spread(n),
                    None,
                    n == largest,
                    &mut checks,
                )
                .await,
            );
        }
    }
    if config.one {
        let n = one_subscription;
        applies.push(
            measure_apply(
                &template,
                &settings,
                &config,
                &format!("{n} in one subscription"),
                Estate::one_subscription(n),
                Some(sub_id(3, 0)),
                false,
                &mut checks,
            )
            .await,
        );
    }

    let shards = if config.shard {
        Some(measure_shards(&template, &settings, shard_s, shard_ns, &mut checks).await)
    } else {
        None
    };

    let report = Report {
        settings: &settings,
        load_before,
        audits: &audits,
        applies: &applies,
        shards: shards.as_ref(),
        sequential: config.sequential,
        checks: &checks,
        total: start.elapsed(),
    };
    let text = report.write();
    if config.write_partial {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/benchmarks.md");
        let before = std::fs::read_to_string(&path).unwrap_or_default();
        std::fs::write(&path, with_earlier_measurements(&text, &before))
            .expect("writing docs/benchmarks.md");
        println!(
            "wrote {} (this run's parts; the rest as measured before)",
            path.display()
        );
        println!("{text}");
    } else if config.report {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/benchmarks.md");
        let kept = std::fs::read_to_string(&path)
            .map(|doc| hand_measured(&doc))
            .unwrap_or_default();
        std::fs::write(&path, format!("{text}{kept}")).expect("writing docs/benchmarks.md");
        println!("wrote {}", path.display());
    } else if config.sequential && config.parallelism.is_none() {
        println!("{text}");
    } else {
        // Exploring: the baseline columns repeat the parallel run.
        println!("(exploration run: the parallelism 1 columns repeat the parallel run)\n{text}");
    }
    println!(
        "{} checks passed, {} failed, in {}",
        checks.passed,
        checks.failed.len(),
        secs(start.elapsed())
    );
    !checks.failed.is_empty()
}

/// The sections measured by hand (from `## Release binary` on: the release
/// build takes minutes, so this harness does not measure it) that a rewrite
/// of docs/benchmarks.md keeps.
fn hand_measured(doc: &str) -> String {
    doc.find("\n## Release binary")
        .map(|at| doc[at..].to_string())
        .unwrap_or_default()
}
