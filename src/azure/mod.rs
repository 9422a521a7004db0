//! The only code that talks to Azure Resource Manager: credentials, transport
//! (TLS roots, timeout, retries), resource-id parsing, and one module per
//! provider. Everything above it works with plain typed data.
//!
//! Built on azure_core / azure_identity / azure_mgmt_* 0.21 (the generated
//! management crates). Operations those crates lack or get wrong (AZURE_NOTES
//! §4) go through the same `azure_core::Pipeline` with small typed models.

mod answer;
pub mod authorization;
pub mod connection;
pub mod error;
pub mod id;
pub mod keyvault;
pub mod monitor;
pub mod msi;
pub mod resources;
pub mod storage;
pub mod subscriptions;
pub mod write;

pub use connection::{Arm, AuthKind, ConnectionOptions};
pub use error::AzureError;
