//! Find every storage account that receives a subscription's activity log
//! and judge its encryption. Data flows one way: ARM -> sources
//! (`sources.rs`) -> unique destinations -> observed encryption and CMK
//! health (`health.rs`) -> status and reasons (`classify.rs`) -> [`AuditReport`].

pub mod report;

pub use report::{AuditReport, Destination, Reason, ReasonCode, Source, SourceKind, Status};
