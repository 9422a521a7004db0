//! `actlog-cmk demo`, the real binary: it seeds the sample estate, shows the
//! first audit's findings, a plan, an apply with every account done and a
//! final audit with every destination compliant, isolated from the caller's
//! Azure settings and config file. With `--keep-running` its printed exports
//! reach the emulator (an independent JSON audit finds everything compliant
//! and a new plan nothing to do), and Ctrl-C stops it and removes its files.
//! With `--before-apply` it stops after audit and plan: a plan made by hand
//! finds the accounts to fix, and the exported admin key opens the admin API.

use crate::support::demo::*;
use std::process::Stdio;

const ACCOUNTS_TO_FIX: [&str; 4] = [
    "stcontosoactlogs",
    "stdevaudit",
    "stdatalegacy",
    "stdataarchive",
];

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
    // ... and by the management group's own setting.
    assert!(
        central.contains("management group contoso-platform:")
            && central.contains("platform-export"),
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

#[cfg(unix)]
#[test]
fn keep_running_prints_exports_that_reach_the_remediated_emulator() {
    let kept = KeptDemo::start(&[]);
    assert!(
        kept.out.contains("with the remediated estate"),
        "{}",
        kept.out
    );

    // The exports are all a user needs: an audit of its own sees the
    // remediated estate, and a new plan has nothing to do.
    let audit = kept.tool(&["audit", "-o", "json"]);
    assert_eq!(audit.status.code(), Some(0), "{}", output_text(&audit));
    let report: serde_json::Value = serde_json::from_slice(&audit.stdout).unwrap();
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
    let plan = kept.tool(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", output_text(&plan));
    kept.interrupt();
}

/// `--before-apply` keeps the estate as found: a plan made by hand with the
/// exports finds the accounts to fix, and the exported admin key opens the
/// emulator's admin API (its request log shows that plan's reads).
#[cfg(unix)]
#[test]
fn keep_running_before_apply_keeps_the_estate_to_plan_and_opens_the_admin_api() {
    let kept = KeptDemo::start(&["--before-apply"]);
    let steps: Vec<&str> = kept
        .out
        .lines()
        .filter_map(|l| l.strip_prefix("==> actlog-cmk "))
        .collect();
    assert_eq!(steps, ["audit", "plan"], "{}", kept.out);
    assert!(
        kept.out.contains("Demo stopped before apply")
            && kept.out.contains("with the estate as found (before apply)"),
        "{}",
        kept.out
    );

    let plan = kept.tool(&["plan", "--detailed-exitcode", "-o", "json"]);
    assert_eq!(plan.status.code(), Some(2), "{}", output_text(&plan));
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let mut planned: Vec<String> = plan["accounts"]
        .as_array()
        .unwrap_or_else(|| panic!("no accounts in {plan:#}"))
        .iter()
        .map(|a| {
            let id = a["storage_account_id"].as_str().unwrap_or_default();
            id.rsplit('/').next().unwrap_or_default().to_string()
        })
        .collect();
    planned.sort();
    let mut expected = ACCOUNTS_TO_FIX.map(String::from).to_vec();
    expected.sort();
    assert_eq!(planned, expected, "{plan:#}");

    let admin = |key: Option<String>| {
        let ca = std::fs::read_to_string(kept.value("ACTLOG_CMK_CA_FILE")).unwrap();
        let url = format!(
            "{}/_emulator/requests",
            kept.value("ACTLOG_CMK_ARM_ENDPOINT")
        );
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(async move {
                let mut request = crate::support::https_client(&ca).get(url);
                if let Some(key) = key {
                    request = request.header("x-emulator-key", key);
                }
                let answer = request.send().await.unwrap();
                (answer.status().as_u16(), answer.text().await.unwrap())
            })
    };
    let (status, body) = admin(Some(kept.value("ACTLOG_CMK_EMULATOR_ADMIN_KEY")));
    assert_eq!(status, 200, "{body}");
    let log: serde_json::Value = serde_json::from_str(&body).unwrap();
    let storage_reads = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["method"] == "GET"
                && r["path"]
                    .as_str()
                    .is_some_and(|p| p.contains("/storageAccounts/"))
        })
        .count();
    assert!(storage_reads > 0, "{log:#}");
    let (status, _) = admin(None);
    assert_ne!(status, 200, "the admin API answered without the key");
    kept.interrupt();
}
