//! actlog-cmk: find every storage account that receives an Azure
//! subscription's activity log and make sure it is encrypted with a
//! customer-managed key; plus the local ARM emulator it is tested against.

pub mod apply;
pub mod audit;
pub mod azure;
pub mod cli;
pub mod commands;
pub mod demo;
pub mod emulator;
pub mod execute;
pub mod exit_status;
pub mod logging;
pub mod permissions;
pub mod plan;
pub mod render;
pub mod report_merge;
pub mod rollback;
pub mod shard;
