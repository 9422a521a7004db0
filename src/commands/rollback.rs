//! `actlog-cmk rollback`: plan the reverse of a remediation for the named
//! accounts (or every activity-log destination the tool remediated), show it,
//! ask (or `--yes`), carry it out and verify (the flow apply shares:
//! `super::review`). Exit codes as apply's: `crate::exit_status`.

use crate::audit::{self, AuditOptions, Status};
use crate::azure::id::StorageAccountId;
use crate::azure::{subscriptions, Arm, Snapshot};
use crate::cli::{ApplyArgs, ApplyFormat, GlobalArgs, RollbackArgs};
use crate::exit_status::ExitStatus;
use crate::plan;
use crate::render;
use crate::rollback::{self, BuildOptions, RollbackOptions, RollbackPlan};
use anyhow::{anyhow, bail, Context};
use std::path::Path;

pub async fn run(args: RollbackArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let named = accounts(&args)?;
    let subscriptions = super::scope::parse(&args.scope.subscriptions)?;
    let management_groups = super::scope::groups(&args.scope.management_groups, &subscriptions)?;
    if !named.is_empty() && !subscriptions.is_empty() {
        bail!("--account and --subscription do not go together: name the accounts, or let rollback find them in the subscriptions; nothing was changed");
    }
    if !named.is_empty() && !args.scope.management_groups.is_empty() {
        bail!("--account and --management-group do not go together: name the accounts, or let rollback find them through the groups' settings; nothing was changed");
    }
    if args.force && named.is_empty() {
        bail!("--force applies only to accounts named with --account: rollback never switches off a key it did not set up for every account at once; nothing was changed");
    }
    let parallelism = usize::from(
        args.scope
            .parallelism
            .unwrap_or(super::remediation::DEFAULT_PARALLELISM),
    );
    let arm = super::azure_args::connect(&args.azure).await?;
    let targets = if named.is_empty() {
        // The tool's work is found through the activity-log destinations.
        let report = audit::run(
            &arm,
            &Snapshot::new(),
            &AuditOptions {
                subscriptions: super::scope::resolve(&arm, &subscriptions).await?,
                management_groups,
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

    if let Some(path) = &args.out {
        // A bad key fails before the file is written.
        let key = plan::file::PlanKey::from_env()?;
        return save(&arm, plan, path, key.as_ref(), args.output, global).await;
    }
    let options = RollbackOptions {
        parallelism,
        dry_run: args.dry_run,
        check_fingerprints: false,
    };
    let review = review_of(global, args.output, args.yes, args.dry_run);
    execute(&arm, plan, &options, &review, true, args.output).await
}

/// How rollback's plan is shown and confirmed.
fn review_of(
    global: &GlobalArgs,
    output: ApplyFormat,
    yes: bool,
    dry_run: bool,
) -> super::review::Review<'static> {
    super::review::Review {
        quiet: global.quiet,
        json: output == ApplyFormat::Json,
        yes,
        dry_run,
        question: "Do you want to roll back these accounts?",
        no_terminal: "refusing to roll back without confirmation: standard input is not a terminal. Review the plan above (or run with --dry-run), then pass --yes",
        command: "rollback",
    }
}

/// `rollback --out FILE`: the diff shown, the plan saved for `apply FILE`
/// (signed as `plan --out` signs) with the tenant its accounts are in
/// (apply refuses the file in another); nothing changed.
async fn save(
    arm: &Arm,
    mut plan: RollbackPlan,
    path: &Path,
    key: Option<&plan::file::PlanKey>,
    output: ApplyFormat,
    global: &GlobalArgs,
) -> anyhow::Result<ExitStatus> {
    let review = review_of(global, output, false, false);
    if !review.quiet {
        let diff = render::rollback_plan_text(&plan, review.color());
        match output {
            ApplyFormat::Json => eprint!("{diff}"),
            ApplyFormat::Text => print!("{diff}"),
        }
    }
    if let Some(first) = plan.accounts.first() {
        let id = StorageAccountId::parse(&first.storage_account_id)?;
        plan.tenant_id = subscriptions::get(arm, id.subscription_id())
            .await?
            .tenant_id;
    }
    super::plan::save_for_apply(&plan, path, key)?;
    Ok(ExitStatus::Success)
}

/// `apply FILE` of a plan `rollback --out` saved: opened with the saved-plan
/// checks (checksum, recorded fingerprints, signature policy, then endpoint
/// and tenant), or refused whole; an account that changed since is refused,
/// the others are rolled back without asking, as a saved plan is.
pub async fn apply_saved(
    args: &ApplyArgs,
    global: &GlobalArgs,
    path: &Path,
    key: Option<&plan::file::PlanKey>,
) -> anyhow::Result<ExitStatus> {
    let plan: RollbackPlan = plan::file::open_as(path, key)?;
    let arm = super::azure_args::connect(&args.azure).await?;
    let accounts = plan.accounts.iter().map(|a| a.storage_account_id.as_str());
    plan::file::origin::check_made_for(&arm, (&plan.arm_endpoint, &plan.tenant_id), accounts, path)
        .await?;
    let options = RollbackOptions {
        parallelism: usize::from(
            args.scope
                .parallelism
                .unwrap_or(super::remediation::DEFAULT_PARALLELISM),
        ),
        dry_run: args.dry_run,
        check_fingerprints: true,
    };
    let review = review_of(global, args.output, true, args.dry_run);
    execute(&arm, plan, &options, &review, false, args.output).await
}

async fn execute(
    arm: &Arm,
    plan: RollbackPlan,
    options: &RollbackOptions,
    review: &super::review::Review<'_>,
    ask: bool,
    output: ApplyFormat,
) -> anyhow::Result<ExitStatus> {
    let diff = render::rollback_plan_text(&plan, review.color());
    let proposal = super::review::Proposal {
        diff: &diff,
        stdout_suffix: "",
        has_changes: plan.has_changes(),
        ask,
    };
    let report = review
        .run(&proposal, |progress| async move {
            rollback::rollback(arm, &plan, options, progress.as_ref()).await
        })
        .await?;
    let text = match output {
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
