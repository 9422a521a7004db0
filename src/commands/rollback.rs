//! `actlog-cmk rollback`: plan the reverse of a remediation for the named
//! accounts (or every activity-log destination the tool remediated), show it,
//! ask (or `--yes`), carry it out and verify (the flow apply shares:
//! `super::review`). Exit codes as apply's: `crate::exit_status`.

use crate::audit::{self, AuditOptions, Status};
use crate::azure::id::StorageAccountId;
use crate::azure::Snapshot;
use crate::cli::{ApplyFormat, GlobalArgs, RollbackArgs};
use crate::exit_status::ExitStatus;
use crate::render;
use crate::rollback::{self, BuildOptions, RollbackOptions};
use anyhow::{anyhow, bail, Context};

pub async fn run(args: RollbackArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let named = accounts(&args)?;
    let subscriptions = super::scope::parse(&args.scope.subscriptions)?;
    if !named.is_empty() && !subscriptions.is_empty() {
        bail!("--account and --subscription do not go together: name the accounts, or let rollback find them in the subscriptions; nothing was changed");
    }
    if args.force && named.is_empty() {
        bail!("--force applies only to accounts named with --account: rollback never switches off a key it did not set up for every account at once; nothing was changed");
    }
    let parallelism = usize::from(
        args.scope
            .parallelism
            .unwrap_or(super::remediation::DEFAULT_PARALLELISM),
    );
    let arm = super::azure_args::connect(&args.azure)?;
    let targets = if named.is_empty() {
        // The tool's work is found through the activity-log destinations.
        let report = audit::run(
            &arm,
            &Snapshot::new(),
            &AuditOptions {
                subscriptions: super::scope::resolve(&arm, &subscriptions).await?,
                parallelism,
            },
        )
        .await?;
        report
            .destinations
            .iter()
            .filter(|d| !matches!(d.status, Status::Missing | Status::Unreadable))
            .map(|d| StorageAccountId::parse(&d.storage_account_id))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        named.clone()
    };
    let plan = rollback::build(
        &arm,
        &targets,
        &BuildOptions {
            named: !named.is_empty(),
            force: args.force,
            remove_grants: args.remove_grants,
            parallelism,
        },
    )
    .await
    .map_err(|e| {
        if named.is_empty() {
            anyhow!("{e}; nothing was changed (to roll back other accounts without this one, name them with --account)")
        } else {
            anyhow!("{e}; nothing was changed")
        }
    })?;

    let review = super::review::Review {
        quiet: global.quiet,
        json: args.output == ApplyFormat::Json,
        yes: args.yes,
        dry_run: args.dry_run,
        question: "Do you want to roll back these accounts?",
        no_terminal: "refusing to roll back without confirmation: standard input is not a terminal. Review the plan above (or run with --dry-run), then pass --yes",
        command: "rollback",
    };
    let diff = render::rollback_plan_text(&plan, review.color());
    let proposal = super::review::Proposal {
        diff: &diff,
        stdout_suffix: "",
        has_changes: plan.has_changes(),
        ask: true,
    };
    let options = RollbackOptions {
        parallelism,
        dry_run: args.dry_run,
    };
    let report = review
        .run(&proposal, |progress| async move {
            rollback::rollback(&arm, &plan, &options, progress.as_ref()).await
        })
        .await?;
    let text = match args.output {
        ApplyFormat::Text => render::rollback_text(&report),
        ApplyFormat::Json => render::rollback_json(&report),
    };
    super::write_output(None, &text)?;
    Ok(report.exit_code())
}

/// `--account` ids, validated before any call.
fn accounts(args: &RollbackArgs) -> anyhow::Result<Vec<StorageAccountId>> {
    args.accounts
        .iter()
        .map(|a| {
            StorageAccountId::parse(a.trim())
                .with_context(|| "--account takes a storage account's resource id".to_string())
        })
        .collect()
}
