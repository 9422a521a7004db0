//! The remediation plan: for each destination that needs it, the identity,
//! vault, key, grant and storage update that make it compliant. A plan is
//! data (`model.rs`); `build.rs` computes it from fresh reads (`gather.rs`)
//! and a pure diff (`diff.rs`) without writing anything; each change's request
//! (`requests.rs`) is what its diff (`attributes.rs`) shows; `file.rs` stores it so apply can carry out exactly what was
//! reviewed; `naming.rs` makes the names of what the tool creates.

pub mod attributes;
pub mod build;
pub mod changed;
pub mod config;
pub mod diff;
pub mod file;
pub mod gather;
pub mod model;
pub mod naming;
pub mod observe;
pub mod ownership;
pub mod requests;

pub use model::*;
