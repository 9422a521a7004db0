//! Turns the shared `AzureArgs` into a connection.

use crate::azure::{Arm, ConnectionOptions};
use crate::cli::AzureArgs;
use std::time::Duration;

pub async fn connect(args: &AzureArgs) -> anyhow::Result<Arm> {
    let options = ConnectionOptions {
        arm_endpoint: args.arm_endpoint.clone(),
        authority_host: None,
        ca_file: args.ca_file.clone(),
        auth: args.auth,
        scopes: (!args.token_scopes.is_empty()).then(|| args.token_scopes.clone()),
        timeout: Duration::from_secs(args.timeout.max(1)),
        max_retries: args.max_retries,
    };
    Ok(Arm::connect(&options).await?)
}
