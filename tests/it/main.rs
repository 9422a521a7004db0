//! Every integration test in one binary, so CI compiles and links the suite
//! once instead of once per file. Each module is one former `tests/<name>.rs`;
//! `cargo test --test it <module>::` runs one of them (scripts/test does so for
//! the field profile). They share `support` (the emulator, the CLI runner, the
//! estate builders) and run as threads of one process: a test must not change
//! process-wide state (environment variables, the working directory) that the
//! others read; sdk_login runs its environment-setting body in a child process.

mod support;

mod apply;
mod apply_concurrent;
mod apply_crash;
mod apply_field;
mod audit;
mod clients;
mod completions;
mod conformance;
mod custom_roles;
mod demo;
mod emulator_api_versions;
mod emulator_authorization;
mod emulator_cmk_rules;
mod emulator_core;
mod emulator_field;
mod emulator_insights;
mod emulator_keyvault;
mod emulator_msi;
mod emulator_process;
mod emulator_resources;
mod emulator_startup;
mod emulator_storage;
mod failing_fast;
mod field_followups;
mod field_reads;
mod flags;
mod managed_identity;
mod management_groups;
mod pacing;
mod permissions;
mod pipelines_doc;
mod plan;
mod plan_file_props;
mod reliability;
mod render;
mod render_schemas;
mod resource_id_props;
mod rollback;
mod rollback_saved;
mod sdk_login;
mod secrets;
mod shards;
mod sign_in_errors;
mod sovereign_cloud;
mod tenants;
mod tls;
mod visible_waits;
