//! docs/pipelines.md's sharded pipelines (issue 19): every actlog-cmk
//! command line in its YAML parses with the CLI (after the CI system's
//! values are filled in: `${{ matrix.shard }}`, `$(System.JobPositionInPhase)`),
//! through `Cli::try_parse_from`, which contacts nothing; and the shapes the
//! issue asks for are there: N shards with workload identity, one merge into
//! SARIF and Markdown, a signed plan per shard applied after approval.

use actlog_cmk::cli::Cli;
use clap::Parser;

fn pipelines_doc() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/pipelines.md");
    std::fs::read_to_string(path).expect("docs/pipelines.md")
}

/// The ```yaml blocks of one `###` section of "Many subscriptions: shards".
fn yaml_blocks(doc: &str, system: &str) -> Vec<String> {
    let shards = doc
        .split("\n## ")
        .find(|s| s.starts_with("Many subscriptions: shards"))
        .expect("docs/pipelines.md: ## Many subscriptions: shards");
    let section = shards
        .split("\n### ")
        .find(|s| s.starts_with(system))
        .unwrap_or_else(|| panic!("no ### {system} under the shards section"));
    section
        .split("```yaml\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .map(str::to_string)
        .collect()
}

/// Shard 2 of 4, as each CI system would fill it in.
const CI_VALUES: &[(&str, &str)] = &[
    ("${{ matrix.shard }}", "2"),
    ("${{ shard }}", "2"),
    ("$(System.JobPositionInPhase)", "2"),
    ("$(System.TotalJobsInPhase)", "4"),
];

/// The actlog-cmk command lines of a YAML block (a `run: |` or inline
/// script line, continued over backslashes), each split into words up to a
/// redirection, after the CI values are filled in.
fn command_lines(yaml: &str) -> Vec<(String, Vec<String>)> {
    let mut found = Vec::new();
    let mut pending: Option<String> = None;
    for line in yaml.lines() {
        let trimmed = line.trim();
        let text = match pending.take() {
            Some(before) => format!("{before} {trimmed}"),
            None => {
                let start = trimmed.strip_prefix("- run: ").unwrap_or(trimmed);
                if !start.starts_with("actlog-cmk ") {
                    continue;
                }
                start.to_string()
            }
        };
        if let Some(open) = text.strip_suffix('\\') {
            pending = Some(open.trim_end().to_string());
            continue;
        }
        let mut filled = text.clone();
        for (from, to) in CI_VALUES {
            filled = filled.replace(from, to);
        }
        assert!(
            !filled.contains("${{") && !filled.contains("$(System."),
            "a CI value this test does not know: {text}"
        );
        found.push((text, words(&filled)));
    }
    found
}

/// Shell words up to a redirection or a pipe, quotes removed.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    let mut in_word = false;
    for c in line.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => word.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            None if !in_word && "#>|&;".contains(c) => return out,
            None => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(word);
    }
    out
}

fn parsed(system: &str) -> Vec<(String, Vec<String>)> {
    let doc = pipelines_doc();
    let lines: Vec<_> = yaml_blocks(&doc, system)
        .iter()
        .flat_map(|b| command_lines(b))
        .collect();
    let bad: Vec<String> = lines
        .iter()
        .filter_map(|(text, words)| {
            Cli::try_parse_from(words).err().map(|e| {
                format!(
                    "{text}\n  {}",
                    e.to_string().lines().next().unwrap_or_default()
                )
            })
        })
        .collect();
    assert!(
        bad.is_empty(),
        "{system}: command lines that do not parse:\n{}",
        bad.join("\n")
    );
    lines
}

fn has(lines: &[(String, Vec<String>)], wanted: &[&str]) -> bool {
    lines
        .iter()
        .any(|(_, words)| wanted.iter().all(|w| words.iter().any(|x| x == w)))
}

fn assert_sharded_pipeline(system: &str, lines: &[(String, Vec<String>)]) {
    let found = |wanted: &[&str], what: &str| {
        assert!(
            has(lines, wanted),
            "{system}: no command line with {wanted:?} ({what}):\n{lines:#?}"
        )
    };
    found(
        &["audit", "--shard", "2/4", "json"],
        "each shard's audit report",
    );
    found(
        &["plan", "--shard", "2/4", "--out"],
        "each shard's saved plan",
    );
    found(&["report", "merge", "sarif", "--out"], "one SARIF report");
    found(
        &["report", "merge", "markdown", "--out"],
        "one Markdown summary",
    );
    assert!(
        lines
            .iter()
            .any(|(_, w)| w.get(1).map(String::as_str) == Some("apply")
                && w.get(2).is_some_and(|f| f.ends_with(".json"))
                && !w.iter().any(|x| x == "--shard")),
        "{system}: no `apply FILE` of a shard's plan:\n{lines:#?}"
    );
    // The merge names every one of the four shards' reports.
    for (_, words) in lines
        .iter()
        .filter(|(_, w)| w.get(1).map(String::as_str) == Some("report"))
    {
        let reports = words.iter().filter(|w| w.ends_with(".json")).count();
        assert_eq!(reports, 4, "{system}: {words:?}");
    }
}

#[test]
fn the_github_actions_matrix_runs_parses_merges_and_applies_per_shard() {
    let lines = parsed("GitHub Actions");
    assert_sharded_pipeline("GitHub Actions", &lines);
    let yaml = yaml_blocks(&pipelines_doc(), "GitHub Actions").join("\n");
    for needed in [
        "matrix:",
        "shard: [1, 2, 3, 4]",
        "id-token: write",
        "ACTLOG_CMK_AUTH: workload-identity",
        "ACTLOG_CMK_PLAN_KEY: ${{ secrets.ACTLOG_CMK_PLAN_KEY }}",
        "environment: activity-log-cmk ",
        "github/codeql-action/upload-sarif",
        "GITHUB_STEP_SUMMARY",
    ] {
        assert!(yaml.contains(needed), "GitHub Actions: no {needed:?}");
    }
}

#[test]
fn the_azure_devops_parallel_job_parses_merges_and_applies_per_shard() {
    let lines = parsed("Azure DevOps");
    assert_sharded_pipeline("Azure DevOps", &lines);
    assert!(
        lines
            .iter()
            .all(|(_, w)| w.get(1).map(String::as_str) == Some("report")
                || w.iter().any(|x| x == "workload-identity")),
        "every Azure DevOps command signs in with workload identity:\n{lines:#?}"
    );
    let yaml = yaml_blocks(&pipelines_doc(), "Azure DevOps").join("\n");
    for needed in [
        "parallel: ${{ length(parameters.shards) }}",
        "${{ each shard in parameters.shards }}",
        "deployment: apply_${{ shard }}",
        "environment: activity-log-cmk ",
        "ACTLOG_CMK_PLAN_KEY: $(ACTLOG_CMK_PLAN_KEY)",
        "task.uploadsummary",
    ] {
        assert!(yaml.contains(needed), "Azure DevOps: no {needed:?}");
    }
}

#[test]
fn a_command_line_that_does_not_parse_is_caught() {
    let lines = command_lines("run: |\n  actlog-cmk audit --shard ${{ matrix.shard }}/0 -o json\n");
    assert_eq!(lines.len(), 1);
    assert!(Cli::try_parse_from(&lines[0].1).is_err(), "{lines:?}");
    let lines = command_lines("  actlog-cmk report merge a.json \\\n    b.json -o sarif > x\n");
    assert_eq!(
        lines[0].1,
        [
            "actlog-cmk",
            "report",
            "merge",
            "a.json",
            "b.json",
            "-o",
            "sarif"
        ]
    );
}
