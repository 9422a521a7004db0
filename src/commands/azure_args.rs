//! Turns the shared `AzureArgs` into a connection: to the sign-in tenant, or
//! (`--tenant`, `--all-tenants`) to another tenant with its own token.

use crate::azure::{Arm, ConnectionOptions};
use crate::cli::AzureArgs;
use std::time::Duration;

fn options(args: &AzureArgs, tenant_id: Option<&str>) -> ConnectionOptions {
    ConnectionOptions {
        arm_endpoint: args.arm_endpoint.clone(),
        authority_host: None,
        ca_file: args.ca_file.clone(),
        auth: args.auth,
        tenant_id: tenant_id.map(str::to_string),
        scopes: (!args.token_scopes.is_empty()).then(|| args.token_scopes.clone()),
        timeout: Duration::from_secs(args.timeout.max(1)),
        max_retries: args.max_retries,
    }
}

/// The connection of the credential's own tenant.
pub async fn connect(args: &AzureArgs) -> anyhow::Result<Arm> {
    Ok(Arm::connect(&options(args, None)).await?)
}

/// A connection to the same endpoint (CA, cloud) whose tokens are `tenant`'s.
pub async fn connect_in(args: &AzureArgs, tenant: &str) -> anyhow::Result<Arm> {
    Ok(Arm::connect(&options(args, Some(tenant))).await?)
}
