//! `actlog-cmk completions SHELL` and `actlog-cmk man`: generated from the
//! clap definitions, so they name every subcommand the binary has.

use assert_cmd::Command;
use clap::{CommandFactory, Parser};

fn subcommands() -> Vec<String> {
    let names: Vec<String> = actlog_cmk::cli::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    for expected in [
        "audit",
        "plan",
        "apply",
        "permissions",
        "completions",
        "man",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    names
}

fn run(args: &[&str]) -> String {
    let out = Command::cargo_bin("actlog-cmk")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn bash_completion_offers_every_subcommand_and_their_flags() {
    let script = run(&["completions", "bash"]);
    assert!(script.contains("complete -F _actlog__cmk "), "{script}");
    // The first `opts` line is the top level's: its words are what `actlog-cmk <TAB>` offers.
    let top: Vec<&str> = script
        .lines()
        .filter_map(|l| l.trim().strip_prefix("opts=\""))
        .find(|words| !words.trim_end_matches('"').is_empty())
        .unwrap()
        .trim_end_matches('"')
        .split_whitespace()
        .collect();
    for name in subcommands() {
        assert!(
            top.contains(&name.as_str()),
            "{name} is not offered: {top:?}"
        );
        let case = format!("cmd=\"actlog__cmk__subcmd__{}\"", name.replace('-', "__"));
        assert!(script.contains(&case), "no completion case for {name}");
    }
    for flag in [
        "--detailed-exitcode",
        "--key-vault",
        "--scope",
        "--permission-model",
    ] {
        assert!(script.contains(flag), "{flag} is not offered");
    }
}

#[test]
fn every_shell_gets_a_script_and_unknown_shells_are_refused() {
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let script = run(&["completions", shell]);
        assert!(script.contains("actlog-cmk"), "{shell}: {script}");
        assert!(script.contains("permissions"), "{shell}");
    }
    let out = Command::cargo_bin("actlog-cmk")
        .unwrap()
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tcsh"));
    assert!(out.stdout.is_empty());
}

#[test]
fn the_man_page_is_roff_with_a_title_and_every_subcommand() {
    let page = run(&["man"]);
    // clap_mangen opens with a string definition for quotes, then the title.
    let first_macro = page
        .lines()
        .find(|l| l.starts_with(".TH") || l.starts_with(".SH"))
        .unwrap();
    assert!(first_macro.starts_with(".TH actlog-cmk 1"), "{page}");
    assert!(page.contains(".SH NAME"));
    assert!(page.contains(".SH SUBCOMMANDS"));
    for name in subcommands().iter().filter(|n| *n != "help") {
        let reference = format!("actlog\\-cmk\\-{}(1)", name.replace('-', "\\-"));
        assert!(page.contains(&reference), "{reference} missing:\n{page}");
    }
}

#[test]
fn man_out_dir_writes_one_page_per_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    run(&["man", "--out-dir", out.to_str().unwrap()]);
    let main = std::fs::read_to_string(out.join("actlog-cmk.1")).unwrap();
    assert!(main.contains(".TH actlog-cmk 1"));
    for name in subcommands().iter().filter(|n| *n != "help") {
        let file = out.join(format!("actlog-cmk-{name}.1"));
        let page =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(page.contains(&format!(".TH actlog-cmk-{name} 1")), "{page}");
    }
    let plan = std::fs::read_to_string(out.join("actlog-cmk-plan.1")).unwrap();
    assert!(plan.contains("detailed\\-exitcode"), "{plan}");
}

/// The command lines in code blocks of README.md and docs/*.md: a line (or
/// a `run:` step) that starts with `actlog-cmk`, continued over trailing
/// backslashes, up to a comment, a redirection or a pipe.
fn documented_command_lines() -> Vec<(String, Vec<String>)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let mut in_code = false;
        let mut pending: Option<String> = None;
        for line in text.lines() {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
                continue;
            }
            if !in_code {
                continue;
            }
            let trimmed = line.trim();
            let text = match pending.take() {
                Some(before) => format!("{before} {trimmed}"),
                None => {
                    let start = trimmed
                        .strip_prefix("- run: ")
                        .or_else(|| trimmed.strip_prefix("run: "))
                        .unwrap_or(trimmed);
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
            // Synopses (`[--flag]...`, `<COMMAND>`) describe, they are not run.
            if text.contains("[-") || text.contains("<COMMAND>") {
                continue;
            }
            // A CI system fills these in (`--shard ${{ matrix.shard }}/4`):
            // pipelines_doc.rs parses them with its values.
            if text.contains("${{") || text.contains("$(System.") {
                continue;
            }
            found.push((
                format!("{name}: {text}"),
                shell_words(&without_placeholders(&text)),
            ));
        }
    }
    found
}

/// `<subscription-id>` and the like stand for a value.
fn without_placeholders(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        match after.find('>') {
            Some(close)
                if close > 0
                    && after[..close]
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
            {
                out.push_str(&rest[..open]);
                out.push_str("VALUE");
                rest = &after[close + 1..];
            }
            _ => {
                out.push_str(&rest[..=open]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Splits like a shell (quotes kept together), stopping at `#`, `>`, `|`, `&`, `;`.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
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
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            None if !in_word && "#>|&;".contains(c) => return words,
            None if "|;".contains(c)
                || (c == '>' && !word.is_empty() && !word.starts_with('-')) =>
            {
                // `2>` or `x|y` glued to a word: stop there too.
                return words;
            }
            None => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

#[test]
fn every_documented_command_line_parses() {
    let lines = documented_command_lines();
    assert!(lines.len() > 20, "{lines:#?}");
    let mut bad = Vec::new();
    for (at, words) in &lines {
        if let Err(e) = actlog_cmk::cli::Cli::try_parse_from(words) {
            if e.use_stderr() {
                bad.push(format!(
                    "{at}\n  {}",
                    e.to_string().lines().next().unwrap_or_default()
                ));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "documented command lines that do not parse:\n{}",
        bad.join("\n")
    );
}

/// The codes an `Exit codes:` section lists, in order.
fn listed_codes(text: &str, what: &str) -> Vec<u8> {
    let section = text
        .split("Exit codes:")
        .nth(1)
        .unwrap_or_else(|| panic!("{what} has no exit codes:\n{text}"));
    section
        .lines()
        .map_while(|l| {
            let l = l.trim().trim_start_matches(".br").trim();
            if l.is_empty() {
                return Some(None);
            }
            l.split_whitespace()
                .next()
                .and_then(|w| w.parse::<u8>().ok())
                .map(Some)
        })
        .flatten()
        .collect()
}

#[test]
fn every_commands_help_and_man_page_list_exactly_its_documented_exit_codes() {
    use actlog_cmk::exit_status::{meanings, MEANINGS};
    let names = subcommands();
    for (command, _) in MEANINGS {
        assert!(
            names.iter().any(|n| n == command),
            "exit_status::MEANINGS documents {command}, which is not a subcommand"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    run(&["man", "--out-dir", dir.path().to_str().unwrap()]);
    // The top level names every code, and so does the main page.
    let every: Vec<u8> = actlog_cmk::exit_status::OVERVIEW
        .iter()
        .map(|(s, _)| s.code())
        .collect();
    assert_eq!(every, [0, 1, 2, 3]);
    assert_eq!(listed_codes(&run(&["--help"]), "actlog-cmk"), every);
    let main_page = std::fs::read_to_string(dir.path().join("actlog-cmk.1")).unwrap();
    assert_eq!(listed_codes(&main_page, "actlog-cmk.1"), every);
    for name in &names {
        let documented: Vec<u8> = meanings(name).iter().map(|(s, _)| s.code()).collect();
        assert!(
            documented.len() >= 2,
            "{name}: exit_status::MEANINGS has no row for it"
        );
        let help = run(&[name, "--help"]);
        assert_eq!(
            listed_codes(&help, name),
            documented,
            "{name} --help:\n{help}"
        );
        for (status, meaning) in meanings(name) {
            assert!(
                help.contains(&format!("{}  {meaning}", status.code())),
                "{name} --help lacks '{meaning}':\n{help}"
            );
        }
        let page =
            std::fs::read_to_string(dir.path().join(format!("actlog-cmk-{name}.1"))).unwrap();
        assert_eq!(
            listed_codes(&page, name),
            documented,
            "{name}'s man page:\n{page}"
        );
    }
}

#[test]
fn readmes_exit_code_table_is_the_one_exit_status_documents() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let table = actlog_cmk::exit_status::markdown_table();
    assert!(
        readme.contains(&table),
        "README.md's exit-code table differs from exit_status::markdown_table(); it should read:\n{table}"
    );
}
