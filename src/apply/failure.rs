//! Why an account's steps stopped, and what the operator should do next:
//! shared by apply and rollback, whose steps fail alike.

use crate::azure::AzureError;

pub struct Failure {
    pub step: String,
    pub reason: String,
    pub next_step: String,
}

impl Failure {
    /// Azure refused a call of `step`; `command` is what to run again.
    pub fn azure(command: &str, step: &str, error: AzureError) -> Failure {
        let next_step = match (error.status(), error.code()) {
            (Some(403), _) => format!("grant the tool's identity the permission Azure names above (see docs/permissions.md), then run {command} again"),
            (_, Some("ScopeLocked")) => format!("a lock forbids the change: remove the lock or ask its owner, then run {command} again"),
            (_, Some("VaultAlreadyExists")) => "the vault name was taken since the plan was made: run plan again (it picks a free name) and apply that plan".into(),
            _ => format!("run {command} again: it continues where it stopped"),
        };
        Failure {
            step: step.into(),
            reason: error.to_string(),
            next_step,
        }
    }

    /// The tool stopped `step` itself, for `reason`.
    pub fn stop(step: &str, reason: impl Into<String>, next_step: impl Into<String>) -> Failure {
        Failure {
            step: step.into(),
            reason: reason.into(),
            next_step: next_step.into(),
        }
    }
}
