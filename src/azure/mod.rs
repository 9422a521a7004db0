//! The only code that talks to Azure Resource Manager: credentials, transport
//! (TLS roots, timeout, retries), resource-id parsing, and one module per
//! provider. Everything above it works with plain typed data.
//!
//! Built on azure_core / azure_identity 0.21 and the shared
//! `azure_core::Pipeline`. Reads decode only what the tool judges from the
//! raw answer (`answer.rs`): the generated azure_mgmt_* models reject enum
//! values and casings they do not know, which Azure sends (AZURE_NOTES §4,
//! issue 14). The generated key vault client remains for the name check.

mod answer;
pub mod authorization;
pub mod cloud;
pub mod connection;
pub mod error;
#[cfg(test)]
mod fake;
pub mod id;
pub mod keyvault;
mod managed_identity;
pub mod management_groups;
pub mod monitor;
pub mod msi;
mod pacer;
mod pacing;
pub mod request;
pub mod resources;
pub mod retry;
pub mod role_actions;
mod sign_in;
mod snapshot;
pub mod storage;
pub mod subscriptions;
pub mod tenants;
mod transport;

pub use connection::{Arm, AuthKind, ConnectionOptions};
pub use error::AzureError;
pub use snapshot::{Mark, Snapshot};
