//! How apply tells the operator where it is: per-account progress, and the
//! end of each account. The command picks bars on a terminal, log lines
//! otherwise.

use super::report::AccountResult;

pub trait Progress: Send + Sync {
    fn started(&self, account: &str, steps: usize);
    fn step(&self, account: &str, step: &str);
    fn finished(&self, account: &str, result: &AccountResult);
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

    fn finished(&self, account: &str, result: &AccountResult) {
        if !self.quiet {
            eprintln!("{account}: {}", result.outcome.as_str());
        }
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

    fn finished(&self, account: &str, result: &AccountResult) {
        if let Some(bar) = self.bar(account) {
            bar.finish_with_message(result.outcome.as_str());
        }
    }
}
