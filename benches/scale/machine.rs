//! The machine and the defaults the report records beside the timings.

use super::*;

pub(crate) fn machine() -> Vec<(String, String)> {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kib| kib.parse::<f64>().ok())
        .map(|kib| format!("{:.1} GiB", kib / 1024.0 / 1024.0))
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "unknown".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| format!("Linux {}", k.trim()))
        .unwrap_or_else(|_| std::env::consts::OS.to_string());
    let rustc = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "unknown".into());
    vec![
        ("CPU".into(), model),
        ("cores (`nproc`)".into(), cores),
        ("memory".into(), memory),
        ("OS".into(), kernel),
        ("compiler".into(), rustc),
        (
            "binary".into(),
            format!(
                "`{}` ({} profile), a fresh process per run",
                BIN.rsplit('/').next().unwrap_or(BIN),
                if cfg!(debug_assertions) {
                    "debug"
                } else {
                    "release"
                }
            ),
        ),
        (
            "emulator".into(),
            "in-process in the harness (same machine, HTTPS on loopback), a fresh one per estate"
                .into(),
        ),
    ]
}

pub(crate) fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// The tool's default `audit --parallelism`, from its command-line definition.
pub(crate) fn audit_default_parallelism() -> usize {
    actlog_cmk::cli::Cli::command()
        .find_subcommand("audit")
        .and_then(|audit| {
            audit
                .get_arguments()
                .find(|a| a.get_id() == "parallelism")
                .and_then(|a| a.get_default_values().first().cloned())
        })
        .and_then(|v| v.to_str().and_then(|v| v.parse().ok()))
        .expect("audit --parallelism has a default")
}

/// The default `apply --parallelism`, from its help text.
pub(crate) fn apply_default_parallelism() -> Option<usize> {
    let help = Command::new(BIN).args(["apply", "--help"]).output().ok()?;
    let text = String::from_utf8_lossy(&help.stdout).into_owned();
    let at = text.find("--parallelism")?;
    let rest = &text[at..];
    let d = rest.find("[default: ")? + "[default: ".len();
    rest[d..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()
}

pub(crate) fn met(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**missed**"
    }
}
