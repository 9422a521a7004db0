//! How apply tells the operator where it is: per-account progress, the
//! waits (a vault's DNS, a grant on its way, throttling: what, for how long,
//! out of how long), and the end of each account. The command picks bars on
//! a terminal, log lines otherwise; without a terminal a wait is told in a
//! line at least every 30 s (`ACTLOG_CMK_WAIT_LINE_SECS`, for tests only,
//! shortens that).

use super::report::Outcome;
use crate::logging::{elapsed_of, WaitWatcher};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

pub trait Progress: Send + Sync {
    fn started(&self, account: &str, steps: usize);
    fn step(&self, account: &str, step: &str);
    fn finished(&self, account: &str, outcome: Outcome);
    /// Who shows `account`'s waits (see `crate::logging::watched`); none by default.
    fn watcher(&self, _account: &str) -> Option<Arc<dyn WaitWatcher>> {
        None
    }
}

/// How often a wait is told again without a terminal.
fn line_interval() -> Duration {
    std::env::var("ACTLOG_CMK_WAIT_LINE_SECS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|s| *s > 0)
        .map_or(Duration::from_secs(30), Duration::from_secs)
}

/// One account's waits as lines on standard error: when a wait (or what is
/// awaited) is new, then at least every interval while it lasts.
struct WaitLines {
    account: String,
    interval: Duration,
    /// When the last line was printed, and about what.
    last: Mutex<Option<(Instant, String)>>,
}

impl WaitWatcher for WaitLines {
    fn waiting(&self, what: &str, elapsed: Duration, timeout: Option<Duration>) {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        let due = match &*last {
            None => true,
            Some((at, about)) => about != what || at.elapsed() >= self.interval,
        };
        if due {
            eprintln!(
                "{}: waiting for {what} ({})",
                self.account,
                elapsed_of(elapsed, timeout)
            );
            *last = Some((Instant::now(), what.to_string()));
        }
    }

    fn done(&self) {
        // The next wait, whatever it awaits, gets its own first line.
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// One account's waits on its bar: the step, what it waits for and for how long.
struct WaitOnBar {
    bar: indicatif::ProgressBar,
    /// The step's message while a wait is shown, to put back when it ends.
    step: Mutex<Option<String>>,
}

impl WaitWatcher for WaitOnBar {
    fn waiting(&self, what: &str, elapsed: Duration, timeout: Option<Duration>) {
        let mut step = self.step.lock().unwrap_or_else(PoisonError::into_inner);
        let step = step.get_or_insert_with(|| self.bar.message());
        self.bar.set_message(format!(
            "{step}: waiting for {what} ({})",
            elapsed_of(elapsed, timeout)
        ));
    }

    fn done(&self) {
        if let Some(step) = self
            .step
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            self.bar.set_message(step);
        }
    }
}

/// Plain lines on standard error (no terminal, or `--quiet` off a terminal).
pub struct Lines {
    pub quiet: bool,
}

impl Progress for Lines {
    fn started(&self, account: &str, _steps: usize) {
        if !self.quiet {
            eprintln!("{account}: starting");
        }
    }

    fn step(&self, account: &str, step: &str) {
        if !self.quiet {
            eprintln!("{account}: {step}");
        }
    }

    fn finished(&self, account: &str, outcome: Outcome) {
        if !self.quiet {
            eprintln!("{account}: {}", outcome.as_str());
        }
    }

    fn watcher(&self, account: &str) -> Option<Arc<dyn WaitWatcher>> {
        if self.quiet {
            return None;
        }
        Some(Arc::new(WaitLines {
            account: account.to_string(),
            interval: line_interval(),
            last: Mutex::new(None),
        }))
    }
}

/// One indicatif bar per account, showing its current step (on a terminal).
pub struct Bars {
    multi: indicatif::MultiProgress,
    bars: std::sync::Mutex<std::collections::HashMap<String, indicatif::ProgressBar>>,
}

impl Bars {
    pub fn new() -> Self {
        Bars {
            multi: indicatif::MultiProgress::new(),
            bars: Default::default(),
        }
    }

    fn bar(&self, account: &str) -> Option<indicatif::ProgressBar> {
        self.bars.lock().ok()?.get(account).cloned()
    }
}

impl Default for Bars {
    fn default() -> Self {
        Self::new()
    }
}

fn short(account: &str) -> &str {
    account.rsplit('/').next().unwrap_or(account)
}

impl Progress for Bars {
    fn started(&self, account: &str, steps: usize) {
        let bar = self.multi.add(indicatif::ProgressBar::new(steps as u64));
        bar.set_style(
            indicatif::ProgressStyle::with_template("{prefix:>24} [{bar:20}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(short(account).to_string());
        if let Ok(mut bars) = self.bars.lock() {
            bars.insert(account.to_string(), bar);
        }
    }

    fn step(&self, account: &str, step: &str) {
        if let Some(bar) = self.bar(account) {
            bar.inc(1);
            bar.set_message(step.to_string());
        }
    }

    fn finished(&self, account: &str, outcome: Outcome) {
        if let Some(bar) = self.bar(account) {
            bar.finish_with_message(outcome.as_str());
        }
    }

    fn watcher(&self, account: &str) -> Option<Arc<dyn WaitWatcher>> {
        let bar = self.bar(account)?;
        Some(Arc::new(WaitOnBar {
            bar,
            step: Mutex::new(None),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_shows_on_the_bar_and_the_step_comes_back_after_it() {
        let bar = indicatif::ProgressBar::hidden();
        bar.set_message("storage account");
        let watcher = WaitOnBar {
            bar: bar.clone(),
            step: Mutex::new(None),
        };
        let ten_minutes = Duration::from_secs(600);
        watcher.waiting("the grant", Duration::from_secs(3), Some(ten_minutes));
        watcher.waiting("the grant", Duration::from_secs(72), Some(ten_minutes));
        assert_eq!(
            bar.message(),
            "storage account: waiting for the grant (1m12s / 10m)"
        );
        watcher.done();
        assert_eq!(bar.message(), "storage account");
    }

    #[test]
    fn quiet_lines_show_no_waits() {
        assert!(Lines { quiet: true }.watcher("a").is_none());
        assert!(Lines { quiet: false }.watcher("a").is_some());
    }
}
