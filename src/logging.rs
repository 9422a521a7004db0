//! Log lines on standard error: `-q` (errors only), `-v` (info), `-vv`
//! (debug), `-vvv` (trace) for actlog-cmk itself, or any filter in
//! `ACTLOG_CMK_LOG`. Whatever the filter,
//! the HTTP and Azure SDK crates never log below `info`: their debug output
//! prints whole requests, `Authorization` header included.

use tracing::{Level, Metadata};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{filter, EnvFilter, Layer};

/// Crates whose debug and trace logs may carry credentials.
const CAPPED: &[&str] = &[
    "azure_core",
    "azure_identity",
    "azure_mgmt",
    "reqwest",
    "hyper",
    "h2",
    "rustls",
];

/// True unless the event comes from a capped crate below `info`.
pub fn allowed(metadata: &Metadata<'_>) -> bool {
    let capped = CAPPED.iter().any(|c| metadata.target().starts_with(c));
    !(capped && *metadata.level() > Level::INFO)
}

pub fn init(verbose: u8, quiet: bool) {
    let level = match verbose {
        _ if quiet => "error",
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let env_filter = EnvFilter::try_from_env("ACTLOG_CMK_LOG")
        .unwrap_or_else(|_| EnvFilter::new(format!("actlog_cmk={level},warn")));
    let color = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .with_filter(env_filter)
        .with_filter(filter::filter_fn(allowed));
    // A second init (tests calling twice) is not an error worth stopping for.
    let _ = tracing_subscriber::registry().with(layer).try_init();
}
