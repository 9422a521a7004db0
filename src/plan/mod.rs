//! The remediation plan: for each destination that needs it, the identity,
//! vault, key, grant and storage update that make it compliant. A plan is
//! data (`model.rs`); `build.rs` computes it from fresh reads without writing
//! anything; `file.rs` stores it so apply can carry out exactly what was
//! reviewed; `naming.rs` makes the names of what the tool creates.

pub mod build;
pub mod config;
pub mod file;
pub mod model;
pub mod naming;
pub mod observe;

pub use model::*;
