//! `actlog-cmk demo`: the whole tool on a sample estate, offline. Starts the
//! built-in emulator in-process (loopback, HTTPS, its CA in a private temporary
//! folder), seeds a realistic estate through its ARM API (`estate`, `seed`),
//! then runs the real binary as child processes, `audit`, `plan`,
//! `apply --yes` and `audit` again, with the user's terminal as theirs: what
//! appears is exactly what a user of the tool would see. `--keep-running`
//! leaves the emulator up and prints the exports (admin key included);
//! `--before-apply` stops after `plan`, so the estate stays as found.
//!
//! The children get only the environment variables that point them at the
//! emulator (any other `AZURE_*` or `ACTLOG_CMK_*` setting is removed, so no
//! credential chain or config file can reach a real tenant) and run in the
//! temporary folder, so a `./actlog-cmk.toml` cannot change the plan.

pub mod estate;
mod exports;
pub mod requests;
pub mod seed;

use crate::emulator::{self, settings::Settings, Options, RunningEmulator};
use anyhow::{anyhow, bail, Context};
use exports::{print_connection, tool_environment};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tokio::sync::watch;

#[derive(Debug, Clone, Default)]
pub struct DemoOptions {
    /// Leave the emulator up after the demo and print how to reach it.
    pub keep_running: bool,
    /// Stop before `apply` (with `keep_running`): the estate stays as found,
    /// for the user to plan and apply by hand.
    pub before_apply: bool,
    /// The Azure cloud the emulator presents itself as (`demo --cloud`).
    pub cloud: emulator::cloud::EmulatedCloud,
}

/// The tool's commands, in the order a user would run them.
const STEPS: [&[&str]; 4] = [&["audit"], &["plan"], &["apply", "--yes"], &["audit"]];
/// The steps before `apply`, which change nothing.
const STEPS_BEFORE_APPLY: usize = 2;

/// Variables a child may keep although they start with a prefix it loses:
/// the log filter changes what is logged, never where the tool connects.
const KEPT_VARIABLES: [&str; 1] = ["ACTLOG_CMK_LOG"];

/// Runs the demo; `Ok(0)` when the final audit finds every destination
/// compliant, an error (exit 1) otherwise.
pub async fn run(options: &DemoOptions) -> anyhow::Result<u8> {
    let started = Instant::now();
    let interrupt = watch_interrupts();
    let workdir = WorkDir::create()?;
    let ca_file = workdir.path().join("emulator-ca.pem");
    let running = emulator::start(Options {
        ca_out: Some(ca_file.clone()),
        // Seeding runs without delays or throttling: the estate exists
        // before the user's first command, as it would in Azure.
        settings: Settings::instant(),
        cloud: options.cloud,
        ..Options::default()
    })
    .await
    .context("starting the built-in emulator")?;
    let outcome = tokio::select! {
        outcome = demo(&running, workdir.path(), steps(options)) => outcome,
        () = interrupted(interrupt.clone()) => Err(anyhow!("interrupted; the emulator was stopped")),
    };
    let verdict = match outcome {
        Ok(last) if options.before_apply => {
            // The plan's exit code: 0 when it was made (it has no --detailed-exitcode).
            let verdict = plan_verdict(last);
            match &verdict {
                Ok(_) => println!(
                    "\nDemo stopped before apply: the estate is as the audit found it and the plan shows."
                ),
                Err(e) => println!("\nDemo failed: {e:#}"),
            }
            keep_running(&running, options, interrupt).await;
            verdict
        }
        Ok(final_audit) => {
            let verdict = verdict(final_audit);
            match &verdict {
                Ok(_) => println!(
                    "\nDemo complete in {:.1} s: every activity-log destination is on a working customer-managed key.",
                    started.elapsed().as_secs_f64()
                ),
                // Without --keep-running, main reports the error right away.
                Err(e) if options.keep_running => println!("\nDemo failed: {e:#}"),
                Err(_) => {}
            }
            keep_running(&running, options, interrupt).await;
            verdict
        }
        Err(e) => Err(e),
    };
    running.stop().await;
    drop(workdir);
    verdict
}

/// The steps this demo runs: all of them, or those before `apply`.
fn steps(options: &DemoOptions) -> &'static [&'static [&'static str]] {
    if options.before_apply {
        &STEPS[..STEPS_BEFORE_APPLY]
    } else {
        &STEPS
    }
}

/// With `--keep-running`: prints how to reach the emulator and waits for Ctrl-C.
async fn keep_running(
    running: &RunningEmulator,
    options: &DemoOptions,
    interrupt: watch::Receiver<bool>,
) {
    if options.keep_running {
        print_connection(running, options.before_apply);
        interrupted(interrupt).await;
        println!("Stopping the emulator.");
    }
}

/// Seeds the estate, switches the emulator to demo timings and runs `steps`.
/// Returns the exit code of the last step, or `None` when a step failed
/// before it.
async fn demo(
    running: &RunningEmulator,
    workdir: &Path,
    steps: &[&[&str]],
) -> anyhow::Result<Option<i32>> {
    let connection = &running.connection;
    println!(
        "Starting the built-in ARM emulator at {} and seeding a sample estate...",
        connection.endpoint
    );
    let arm = seed::Seeder::connect(connection, &running.ca_pem).await?;
    estate::seed(&arm)
        .await
        .context("seeding the demo estate in the emulator")?;
    arm.settings(&demo_settings()).await?;
    print_estate();

    let environment = tool_environment(connection);
    let mut last = None;
    for &args in steps {
        println!("\n==> actlog-cmk {}\n", args.join(" "));
        let code = run_tool(args, &environment, workdir).await?;
        match code {
            Some(1) | None => {
                println!(
                    "\n`actlog-cmk {}` {}; the demo stops here (see its message above).",
                    args.join(" "),
                    code.map_or("was killed by a signal".to_string(), |c| format!(
                        "exited with {c}"
                    ))
                );
                return Ok(None);
            }
            Some(code) => last = Some(code),
        }
    }
    Ok(last)
}

/// With `--before-apply` the last step is the plan: it must have been made.
fn plan_verdict(plan: Option<i32>) -> anyhow::Result<u8> {
    match plan {
        Some(0) => Ok(0),
        Some(code) => bail!("the plan exited with {code}, not 0 (see its message above)"),
        None => bail!("a step of the demo failed before the plan (see above)"),
    }
}

fn verdict(final_audit: Option<i32>) -> anyhow::Result<u8> {
    match final_audit {
        Some(0) => Ok(0),
        Some(code) => bail!(
            "the final audit exited with {code}, not 0: not every activity-log destination is compliant after apply (see its report above)"
        ),
        None => bail!("a step of the demo failed before the final audit (see above)"),
    }
}

/// What the tool meets during the demo: Azure's eventual consistency, short
/// enough for a demo but long enough that apply has to wait for it, and
/// Azure's throttling buckets.
fn demo_settings() -> Settings {
    Settings {
        grant_propagation_ms: 800,
        principal_replication_ms: 500,
        vault_provisioning_ms: 400,
        storage_provisioning_ms: 400,
        ..Settings::default()
    }
}

fn print_estate() {
    println!(
        "\nSample estate: {} subscriptions, {} storage accounts receiving activity logs.\n",
        estate::SUBSCRIPTIONS.len(),
        estate::DESTINATIONS.len()
    );
    let name_width = estate::SUBSCRIPTIONS
        .iter()
        .map(|(_, name)| name.len())
        .max()
        .unwrap_or(0);
    for (id, name) in estate::SUBSCRIPTIONS {
        println!("  {name:<name_width$}  {id}");
    }
    println!();
    let account_width = estate::DESTINATIONS
        .iter()
        .map(|d| d.account.len())
        .max()
        .unwrap_or(0);
    for d in &estate::DESTINATIONS {
        println!(
            "  {:<account_width$}  {:<name_width$}  {}",
            d.account, d.subscription, d.story
        );
    }
}

/// Runs this very binary with `args`, sharing the terminal; its exit code
/// (`None` when a signal ended it).
async fn run_tool(
    args: &[&str],
    environment: &[(&'static str, String)],
    workdir: &Path,
) -> anyhow::Result<Option<i32>> {
    let exe = own_binary()?;
    let mut command = tokio::process::Command::new(&exe);
    #[cfg(unix)]
    command.arg0("actlog-cmk");
    command.args(args).current_dir(workdir).kill_on_drop(true);
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        let foreign = name.starts_with("AZURE_")
            || name.starts_with("ACTLOG_CMK_")
            || name == "IDENTITY_ENDPOINT"
            || name == "MSI_ENDPOINT";
        if foreign && !KEPT_VARIABLES.contains(&name) {
            command.env_remove(name);
        }
    }
    command.envs(environment.iter().map(|(k, v)| (*k, v)));
    // The emulator is on loopback: never send the children's calls through a proxy.
    for name in ["NO_PROXY", "no_proxy"] {
        let current = std::env::var(name).unwrap_or_default();
        let loopback = "127.0.0.1,localhost,::1";
        let value = if current.is_empty() {
            loopback.to_string()
        } else {
            format!("{current},{loopback}")
        };
        command.env(name, value);
    }
    let status = command
        .status()
        .await
        .with_context(|| format!("running actlog-cmk {} ({})", args.join(" "), exe.display()))?;
    Ok(status.code())
}

/// The binary that is running now. On Linux through `/proc/self/exe`, which
/// still runs this very build when the file on disk was replaced meanwhile
/// (e.g. by a `cargo build` during the demo).
fn own_binary() -> anyhow::Result<PathBuf> {
    let proc_exe = Path::new("/proc/self/exe");
    if cfg!(target_os = "linux") && proc_exe.exists() {
        return Ok(proc_exe.to_path_buf());
    }
    std::env::current_exe().context("finding the actlog-cmk binary to run")
}

/// Becomes true at Ctrl-C (or SIGTERM), from the start of the demo on: once
/// the handler is installed, the signal no longer ends the process, and the
/// demo stops its children and the emulator and removes its files instead.
fn watch_interrupts() -> watch::Receiver<bool> {
    let (sender, receiver) = watch::channel(false);
    tokio::spawn(async move {
        let ctrl_c = async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            () = ctrl_c => {}
            () = terminate() => {}
        }
        let _ = sender.send(true);
        // Keep the sender, so that receivers never see it closed.
        std::future::pending::<()>().await;
    });
    receiver
}

async fn interrupted(mut receiver: watch::Receiver<bool>) {
    if receiver.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

#[cfg(unix)]
async fn terminate() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut signal) => {
            signal.recv().await;
        }
        Err(_) => std::future::pending::<()>().await,
    }
}

#[cfg(not(unix))]
async fn terminate() {
    std::future::pending::<()>().await
}

/// A private temporary folder for the CA certificate and the children's
/// working directory, removed when the demo ends.
struct WorkDir(PathBuf);

impl WorkDir {
    fn create() -> anyhow::Result<WorkDir> {
        let base = std::env::temp_dir();
        for _ in 0..16 {
            let path = base.join(format!(
                "actlog-cmk-demo-{}-{:08x}",
                std::process::id(),
                rand::random::<u32>()
            ));
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(WorkDir(path)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!("creating a temporary folder in {}", base.display())
                    })
                }
            }
        }
        bail!(
            "could not create a fresh temporary folder in {}: clean up old actlog-cmk-demo-* folders there",
            base.display()
        )
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_or_missing_final_audit_is_an_error() {
        assert_eq!(verdict(Some(0)).unwrap(), 0);
        for code in [Some(2), Some(3), None] {
            assert!(verdict(code).is_err(), "{code:?}");
        }
    }

    #[test]
    fn before_apply_runs_audit_and_plan_only_and_needs_a_made_plan() {
        let options = DemoOptions {
            keep_running: true,
            before_apply: true,
            ..DemoOptions::default()
        };
        assert_eq!(steps(&options), [&["audit"][..], &["plan"][..]]);
        assert_eq!(steps(&DemoOptions::default()), STEPS);
        assert_eq!(plan_verdict(Some(0)).unwrap(), 0);
        for code in [Some(2), Some(3), None] {
            assert!(plan_verdict(code).is_err(), "{code:?}");
        }
    }
}
