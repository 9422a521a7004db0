//! `actlog-cmk audit`: validate the arguments, run the audit, render the
//! report; `--soft-fail` turns findings (only) into success.

use crate::audit::{self, AuditOptions};
use crate::azure::{subscriptions, Snapshot};
use crate::cli::{AuditArgs, AuditFormat, GlobalArgs};
use crate::exit_status::ExitStatus;
use crate::render;
use std::io::IsTerminal;

/// Returns the exit status the report calls for.
pub async fn run(args: AuditArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    // Validate every id before any call.
    let subscriptions = super::scope::parse(&args.subscriptions)?;
    let management_groups = super::scope::groups(&args.management_groups, &subscriptions)?;
    super::tenants::refuse_named_groups(&args.tenants, &management_groups)?;
    let tenant_ids = super::tenants::parse(&args.tenants)?;
    let report = if super::tenants::requested(&args.tenants) {
        let (connected, refused) =
            super::tenants::connect(&args.azure, &tenant_ids, args.tenants.all_tenants).await?;
        super::tenants::audit(
            &super::tenants::endpoint(&args.azure),
            &connected,
            &refused,
            &subscriptions,
            &management_groups,
            args.shard,
            usize::from(args.parallelism),
        )
        .await?
    } else {
        home_tenant(&args, &subscriptions, management_groups).await?
    };
    let to_terminal = args.output_file.is_none() && std::io::stdout().is_terminal();
    // Full ids at -v; names by default, so that the text fits a terminal.
    let ids = if global.verbose > 0 {
        render::Ids::Full
    } else {
        render::Ids::Names
    };
    let text = match args.output {
        AuditFormat::Text => {
            render::audit_text(&report, to_terminal && super::color_allowed(), ids)
        }
        AuditFormat::Json => render::audit_json(&report),
        AuditFormat::Markdown => render::audit_markdown(&report),
        AuditFormat::Sarif => render::audit_sarif(&report),
    };
    super::write_output(args.output_file.as_deref(), &text)?;
    Ok(match report.exit_code() {
        // For `set -e` scripts: findings are a result, not a failure; an
        // error or an incomplete audit still is.
        ExitStatus::Findings if args.soft_fail => ExitStatus::Success,
        status => status,
    })
}

/// The audit of the sign-in tenant's subscriptions (no `--tenant`), as before there was a choice.
async fn home_tenant(
    args: &AuditArgs,
    subscriptions: &[crate::azure::subscriptions::SubscriptionRef],
    management_groups: audit::GroupScope,
) -> anyhow::Result<audit::AuditReport> {
    let arm = super::azure_args::connect(&args.azure).await?;
    let mut report = audit::run_shard(
        &arm,
        &Snapshot::new(),
        &AuditOptions {
            subscriptions: super::scope::resolve(&arm, subscriptions).await?,
            management_groups,
            parallelism: usize::from(args.parallelism),
        },
        args.shard,
    )
    .await?;
    if args.shard.is_some() && report.coverage.tenant_id.is_none() {
        // `report merge` refuses shards of different tenants: a shard of an
        // explicit -s list asks its first subscription which tenant it is.
        if let Some(first) = report.subscriptions.first() {
            let tenant = subscriptions::get(&arm, &first.subscription_id)
                .await?
                .tenant_id;
            report.coverage.tenant_id = (!tenant.is_empty()).then(|| tenant.to_ascii_lowercase());
        }
    }
    Ok(report)
}
