//! `actlog-cmk demo`, the real binary: it seeds the sample estate, shows the
//! first audit's findings, a plan, an apply with every account done and a
//! final audit with every destination compliant, isolated from the caller's
//! Azure settings and config file. With `--keep-running` its printed exports
//! reach the emulator (an independent JSON audit finds everything compliant
//! and a new plan nothing to do), and Ctrl-C stops it and removes its files.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A guard against a hang, not a timing assertion: the demo takes seconds.
const HANG_GUARD: Duration = Duration::from_secs(300);

const ACCOUNTS_TO_FIX: [&str; 4] = [
    "stcontosoactlogs",
    "stdevaudit",
    "stdatalegacy",
    "stdataarchive",
];

/// The binary, with Azure settings that would break the demo if it let
/// them through to the commands it runs, and a config file in its working
/// directory that no command may read.
fn demo_command(args: &[&str], workdir: &std::path::Path) -> Command {
    std::fs::write(
        workdir.join("actlog-cmk.toml"),
        "this is not TOML: a command that reads it fails\n",
    )
    .unwrap();
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("actlog-cmk"));
    for (k, _) in std::env::vars() {
        if k.starts_with("AZURE_") || k.starts_with("ACTLOG_CMK_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("ACTLOG_CMK_ARM_ENDPOINT", "https://127.0.0.1:9")
        .env("ACTLOG_CMK_AUTH", "azure-cli")
        .env("ACTLOG_CMK_CONFIG", workdir.join("missing.toml"))
        .env("ACTLOG_CMK_KEY_SIZE", "1024")
        .env("AZURE_CLIENT_SECRET", "not-the-emulators")
        .env("AZURE_AUTHORITY_HOST", "https://127.0.0.1:9")
        .env("NO_COLOR", "1")
        .current_dir(workdir)
        .args(args);
    cmd
}

/// A pipe read to its end on a thread, line by line, into a channel (it
/// keeps reading when nobody listens, so the writer never blocks).
struct Lines {
    receiver: mpsc::Receiver<String>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Lines {
    fn of(pipe: impl Read + Send + 'static) -> Lines {
        let (send, receiver) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                let _ = send.send(line);
            }
        });
        Lines {
            receiver,
            reader: Some(reader),
        }
    }

    /// What is left once the process has ended and its pipe is closed.
    fn rest(&mut self) -> String {
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        self.receiver.try_iter().map(|l| l + "\n").collect()
    }
}

/// A child that is killed if the test fails before it ends.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn wait(child: &mut Child, what: &str) -> ExitStatus {
    let deadline = Instant::now() + HANG_GUARD;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what} did not finish within {HANG_GUARD:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Lines that open a destination block of a text audit (`[STATUS] name (resource group ...)`).
fn destination_headings(audit: &str) -> Vec<&str> {
    audit
        .lines()
        .filter(|l| l.starts_with('[') && l.contains(" (resource group "))
        .collect()
}

fn heading_of<'a>(audit: &'a str, account: &str) -> &'a str {
    destination_headings(audit)
        .into_iter()
        .find(|l| l.split_whitespace().nth(1) == Some(account))
        .unwrap_or_else(|| panic!("no destination {account} in\n{audit}"))
}

#[test]
fn demo_remediates_the_sample_estate_and_ends_all_compliant() {
    let workdir = tempfile::tempdir().unwrap();
    let child = demo_command(&["demo"], workdir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Killed(child);
    let child = &mut child.0;
    let mut stdout = Lines::of(child.stdout.take().unwrap());
    let mut stderr = Lines::of(child.stderr.take().unwrap());
    let status = wait(child, "actlog-cmk demo");
    let out = stdout.rest();
    let err = stderr.rest();
    assert_eq!(status.code(), Some(0), "stdout:\n{out}\nstderr:\n{err}");

    let sections: Vec<&str> = out.split("\n==> actlog-cmk ").collect();
    assert_eq!(sections.len(), 5, "four steps expected:\n{out}");
    let (intro, first, plan, apply, last) = (
        sections[0],
        sections[1],
        sections[2],
        sections[3],
        sections[4],
    );
    assert!(intro.contains("contoso-logging"), "{intro}");
    assert!(first.starts_with("audit\n"), "{first}");
    assert!(plan.starts_with("plan\n"), "{plan}");
    assert!(apply.starts_with("apply --yes\n"), "{apply}");
    assert!(last.starts_with("audit\n"), "{last}");

    // The first audit: the central account and two others on Microsoft's
    // keys, the broken RBAC setup, the compliant one, the log profile.
    for account in ["stcontosoactlogs", "stdevaudit", "stdatalegacy"] {
        assert!(
            heading_of(first, account).starts_with("[NON-COMPLIANT]"),
            "{first}"
        );
    }
    assert!(heading_of(first, "stdataarchive").starts_with("[CMK-BROKEN]"));
    assert!(heading_of(first, "stprodsecurity").starts_with("[COMPLIANT]"));
    assert!(first.contains("- identity_lacks_key_access: "), "{first}");
    assert!(
        first
            .lines()
            .any(|l| l.contains(" log_profile ") && l.contains(" default ")),
        "no log profile source:\n{first}"
    );
    assert!(
        first.contains("5 destinations: 1 compliant, 3 non_compliant, 1 cmk_broken, 0 unreadable, 0 missing (audit complete)"),
        "{first}"
    );
    // The central account is fed by all four subscriptions.
    let central = first
        .split("\n\n")
        .find(|block| block.contains(" stcontosoactlogs (resource group "))
        .unwrap();
    assert_eq!(
        central.matches("activity-to-central").count(),
        4,
        "{central}"
    );

    // The plan: the broken account gets only its missing role assignment;
    // the account with an identity keeps it.
    let archive = plan
        .split("\n# ")
        .find(|block| block.contains("/stdataarchive (cmk_broken)"))
        .unwrap_or_else(|| panic!("no plan for stdataarchive:\n{plan}"));
    assert!(archive.contains("+ role_assignment "), "{archive}");
    assert!(!archive.contains("+ key_vault "), "{archive}");
    assert!(!archive.contains("storage_account "), "{archive}");
    assert!(
        plan.contains(r#"identity.type                     = "SystemAssigned" -> "SystemAssigned,UserAssigned""#),
        "{plan}"
    );
    let summary = plan.lines().last().unwrap_or_default();
    assert!(
        summary.starts_with("Plan: ") && !summary.starts_with("Plan: 0 to add, 0 to change"),
        "{summary}"
    );
    // No key of 1024 bits, although the caller's environment asked for one.
    assert!(plan.contains("key_size = 3072"), "{plan}");

    // Apply: every planned account done.
    assert!(
        apply.contains("Apply complete: 4 done, 0 failed, 0 refused, 0 skipped."),
        "{apply}"
    );
    let table = &apply[apply.find("\nACCOUNT ").expect("a results table")..];
    for account in ACCOUNTS_TO_FIX {
        let row = table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(account))
            .unwrap_or_else(|| panic!("no result for {account}:\n{apply}"));
        assert!(row.trim_end().ends_with(" done"), "{row}");
    }

    // The final audit: every destination compliant.
    let headings = destination_headings(last);
    assert_eq!(headings.len(), 5, "{last}");
    for heading in headings {
        assert!(heading.starts_with("[COMPLIANT]"), "{heading}\n{last}");
    }
    assert!(
        last.contains("5 destinations: 5 compliant, 0 non_compliant, 0 cmk_broken, 0 unreadable, 0 missing (audit complete)"),
        "{last}"
    );
    assert!(last.contains("Demo complete in "), "{last}");
}

/// `export NAME='value'` -> (NAME, value).
fn parse_export(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix("export ")?;
    let (name, value) = rest.split_once('=')?;
    let value = value.strip_prefix('\'')?.strip_suffix('\'')?;
    Some((name.to_string(), value.replace(r"'\''", "'")))
}

#[cfg(unix)]
#[test]
fn keep_running_prints_exports_that_reach_the_remediated_emulator() {
    let workdir = tempfile::tempdir().unwrap();
    let child = demo_command(&["demo", "--keep-running"], workdir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Killed(child);
    let child = &mut child.0;
    let mut stdout = Lines::of(child.stdout.take().unwrap());
    let mut stderr = Lines::of(child.stderr.take().unwrap());

    let deadline = Instant::now() + HANG_GUARD;
    let mut out = String::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match stdout.receiver.recv_timeout(left) {
            Ok(line) => {
                out.push_str(&line);
                out.push('\n');
                if line.contains("Press Ctrl-C to stop the emulator.") {
                    break;
                }
            }
            Err(e) => {
                let _ = child.kill();
                panic!("no exports ({e}):\n{out}\nstderr:\n{}", stderr.rest());
            }
        }
    }
    let exports: Vec<(String, String)> = out.lines().filter_map(parse_export).collect();
    let mut names: Vec<&str> = exports.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "ACTLOG_CMK_ARM_ENDPOINT",
            "ACTLOG_CMK_AUTH",
            "ACTLOG_CMK_CA_FILE",
            "AZURE_AUTHORITY_HOST",
            "AZURE_CLIENT_ID",
            "AZURE_CLIENT_SECRET",
            "AZURE_TENANT_ID",
        ],
        "{out}"
    );
    let value = |name: &str| {
        exports
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert!(value("ACTLOG_CMK_ARM_ENDPOINT").starts_with("https://127.0.0.1:"));
    let secret = value("AZURE_CLIENT_SECRET");
    assert_eq!(
        out.matches(secret.as_str()).count(),
        1,
        "the secret belongs in its export line only:\n{out}"
    );
    assert!(out.contains("throw-away"), "{out}");
    let ca_file = std::path::PathBuf::from(value("ACTLOG_CMK_CA_FILE"));
    assert!(ca_file.exists());

    // The exports are all a user needs: an audit of its own sees the
    // remediated estate, and a new plan has nothing to do.
    let tool = |args: &[&str]| {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("actlog-cmk"));
        for (k, _) in std::env::vars() {
            if k.starts_with("AZURE_") || k.starts_with("ACTLOG_CMK_") {
                cmd.env_remove(k);
            }
        }
        cmd.envs(exports.iter().map(|(k, v)| (k, v)))
            .env("NO_COLOR", "1")
            .current_dir(std::env::temp_dir())
            .args(args)
            .output()
            .unwrap()
    };
    let audit = tool(&["audit", "-o", "json"]);
    let text = String::from_utf8_lossy(&audit.stdout);
    assert_eq!(
        audit.status.code(),
        Some(0),
        "{text}\n{}",
        String::from_utf8_lossy(&audit.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    let destinations = report["destinations"].as_array().unwrap();
    assert_eq!(destinations.len(), 5, "{report:#}");
    for d in destinations {
        assert_eq!(d["status"], "compliant", "{d:#}");
    }
    assert!(
        destinations.iter().any(|d| d["sources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["kind"] == "log_profile")),
        "{report:#}"
    );
    let plan = tool(&["plan", "--detailed-exitcode"]);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&plan.stdout),
        String::from_utf8_lossy(&plan.stderr)
    );

    // Ctrl-C stops the emulator and removes the demo's files.
    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let status = wait(child, "actlog-cmk demo --keep-running after Ctrl-C");
    let rest = stdout.rest();
    assert_eq!(
        status.code(),
        Some(0),
        "{out}{rest}\nstderr:\n{}",
        stderr.rest()
    );
    assert!(rest.contains("Stopping the emulator."), "{rest}");
    assert!(!ca_file.exists(), "{} was left behind", ca_file.display());
}
