//! Log lines on standard error: `-q` (errors only), `-v` (info), `-vv`
//! (debug), `-vvv` (trace) for actlog-cmk itself, or any filter in
//! `ACTLOG_CMK_LOG`. Whatever the filter,
//! the HTTP and Azure SDK crates never log below `info`: their debug output
//! prints whole requests, `Authorization` header included.
//!
//! Waits (a vault's DNS, a grant on its way, throttling) are told to the
//! [`WaitWatcher`] of the account whose work waits, found through a task
//! local so the code that waits (apply's `wait.rs`, the transport's
//! throttling) needs no handle to the progress display.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
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

/// Shows the operator one account's waits as they go (apply's progress bar
/// or its log lines): what is awaited, for how long so far, and the limit.
pub trait WaitWatcher: Send + Sync {
    fn waiting(&self, what: &str, elapsed: Duration, timeout: Option<Duration>);
    /// The wait is over (the bar shows the step again).
    fn done(&self);
}

tokio::task_local! {
    /// The watcher of the account whose work runs in this task, if any.
    static WATCHER: Arc<dyn WaitWatcher>;
}

/// Runs `work` with its waits shown to `watcher` (none: waits stay silent).
pub async fn watched<F: Future>(watcher: Option<Arc<dyn WaitWatcher>>, work: F) -> F::Output {
    match watcher {
        Some(watcher) => WATCHER.scope(watcher, work).await,
        None => work.await,
    }
}

/// How often a wait is told again while it lasts.
const TICK: Duration = Duration::from_secs(1);

/// A wait that began at `started`: each [`Wait::during`] reports the time
/// since then, about once a second across calls, so a wait made of many short
/// sleeps and retries reads as one.
pub struct Wait {
    what: String,
    started: Instant,
    timeout: Option<Duration>,
    /// When the watcher was last told.
    told: std::sync::Mutex<Option<Instant>>,
}

impl Wait {
    pub fn begin(what: impl Into<String>, timeout: Option<Duration>) -> Wait {
        Wait {
            what: what.into(),
            started: Instant::now(),
            timeout,
            told: std::sync::Mutex::new(None),
        }
    }

    fn next_report(&self) -> Instant {
        let told = *self
            .told
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        told.unwrap_or(self.started) + TICK
    }

    /// Awaits `work`, telling the watcher (if any) about the wait as it goes.
    pub async fn during<F: Future>(&self, work: F) -> F::Output {
        let Ok(watcher) = WATCHER.try_with(Arc::clone) else {
            return work.await;
        };
        let mut work = std::pin::pin!(work);
        let output = loop {
            tokio::select! {
                output = &mut work => break output,
                () = tokio::time::sleep_until(self.next_report().into()) => {
                    watcher.waiting(&self.what, self.started.elapsed(), self.timeout);
                    *self.told.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Instant::now());
                }
            }
        };
        output
    }
}

impl Drop for Wait {
    fn drop(&mut self) {
        // Told at least once: the display goes back to the step.
        let told = self.told.get_mut().map(|t| t.is_some()).unwrap_or(true);
        if told {
            if let Ok(watcher) = WATCHER.try_with(Arc::clone) {
                watcher.done();
            }
        }
    }
}

/// Waits `wait` as Azure asked (429), visibly.
pub async fn throttled(wait: Duration) {
    Wait::begin("Azure's throttling (429) to pass", Some(wait))
        .during(tokio::time::sleep(wait))
        .await;
}

/// `95 s` as `1m35s`, `40 s` as `40s`.
pub fn short_duration(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0..=59 => format!("{secs}s"),
        _ if secs % 60 == 0 => format!("{}m", secs / 60),
        _ => format!("{}m{:02}s", secs / 60, secs % 60),
    }
}

/// "12s / 10m", or "12s" without a limit.
pub fn elapsed_of(elapsed: Duration, timeout: Option<Duration>) -> String {
    match timeout {
        Some(t) => format!("{} / {}", short_duration(elapsed), short_duration(t)),
        None => short_duration(elapsed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_read_as_elapsed_out_of_the_limit() {
        assert_eq!(
            elapsed_of(Duration::from_secs(12), Some(Duration::from_secs(600))),
            "12s / 10m"
        );
        assert_eq!(elapsed_of(Duration::from_secs(95), None), "1m35s");
        assert_eq!(short_duration(Duration::from_millis(999)), "0s");
    }

    #[tokio::test]
    async fn without_a_watcher_a_wait_is_just_the_work() {
        let wait = Wait::begin("nothing", None);
        assert_eq!(wait.during(async { 7 }).await, 7);
    }
}
