//! `actlog-cmk apply [PLANFILE]`: carry out a saved plan (refused as a whole
//! when it belongs to another tenant or endpoint, `plan::file::origin`; an
//! account that changed since is refused by apply itself), or plan now,
//! show the diff and ask. Exit codes: `crate::exit_status`.

use crate::apply::{self, ApplyOptions, ApplyReport};
use crate::azure::Snapshot;
use crate::cli::{ApplyArgs, ApplyFormat, Cli, GlobalArgs, RemediationArgs};
use crate::exit_status::ExitStatus;
use crate::plan::{self, Plan};
use crate::render;
use clap::{Args, CommandFactory};
use std::collections::BTreeSet;
use std::time::Duration;

/// `given`: the flags written on the command line.
pub async fn run(
    args: ApplyArgs,
    global: &GlobalArgs,
    given: &BTreeSet<String>,
) -> anyhow::Result<ExitStatus> {
    if let Some(path) = &args.plan_file {
        refuse_plan_flags(given, path)?;
        let key = plan::file::PlanKey::from_env()?;
        let plan = match plan::file::open(path, key.as_ref()) {
            // `rollback --out` saved it: the same checks, rollback's executor.
            Err(plan::file::PlanFileError::OtherMode {
                found: plan::PlanMode::Rollback,
                ..
            }) => return super::rollback::apply_saved(&args, global, path, key.as_ref()).await,
            opened => opened?,
        };
        // The diff shown is the one reviewed only if it is what apply sends.
        if let Err(why) = plan::attributes::check_plan(&plan) {
            anyhow::bail!("the plan {} shows a diff that is not what it would send ({why}): it was edited after plan made it; run plan again and review it; nothing was changed", path.display());
        }
        let parallelism = usize::from(
            args.scope
                .parallelism
                .unwrap_or(super::remediation::DEFAULT_PARALLELISM),
        );
        let target = if plan.tenants.is_empty() {
            let arm = super::azure_args::connect(&args.azure).await?;
            plan::file::origin::check(&arm, &plan, path).await?;
            Target::One(Box::new((arm, Snapshot::new())))
        } else {
            // Made across tenants: each tenant's accounts on its own connection.
            Target::Tenants(super::tenant_plans::open_saved(&args.azure, &plan, path).await?)
        };
        return execute(&args, global, &target, plan, true, parallelism).await;
    }
    let subscriptions = super::scope::parse(&args.scope.subscriptions)?;
    let management_groups = super::scope::groups(&args.scope.management_groups, &subscriptions)?;
    super::tenants::refuse_named_groups(&args.tenants, &management_groups)?;
    let tenant_ids = super::tenants::parse(&args.tenants)?;
    let (settings, parallelism) = super::remediation::settings(&args.remediation, &args.scope)?;
    let (plan, target) = if super::tenants::requested(&args.tenants) {
        let (plan, parts) = super::tenant_plans::connect_and_plan(
            &args.azure,
            &tenant_ids,
            args.tenants.all_tenants,
            super::tenant_plans::Reach {
                subscriptions: &subscriptions,
                management_groups: &management_groups,
                shard: args.shard,
            },
            &settings,
            parallelism,
        )
        .await?;
        (plan, Target::Tenants(parts))
    } else {
        let arm = super::azure_args::connect(&args.azure).await?;
        // The command's reads, shared by the audit, the plan and apply.
        let snapshot = Snapshot::new();
        let plan = super::remediation::plan_now(
            &arm,
            &snapshot,
            &subscriptions,
            &management_groups,
            args.shard,
            &settings,
            parallelism,
        )
        .await?;
        (plan, Target::One(Box::new((arm, snapshot))))
    };
    if let Some(failed) = plan
        .skipped
        .iter()
        .find(|s| s.status == plan::PlanStatus::Error)
    {
        anyhow::bail!(
            "cannot plan {}: {}; nothing was changed",
            failed.storage_account_id,
            failed.reason
        );
    }
    execute(&args, global, &target, plan, false, parallelism).await
}

/// Where apply runs: one connection (the sign-in tenant), or one per
/// tenant (`--tenant`, `--all-tenants`, a plan made across tenants).
enum Target {
    One(Box<(crate::azure::Arm, Snapshot)>),
    Tenants(Vec<super::tenant_plans::Part>),
}

/// A saved plan is applied as it was saved, as Terraform refuses variables
/// for a saved plan: the flags that would shape a plan (its subscriptions
/// and every remediation setting) are refused when given on the command
/// line, before anything is read. The environment and the config file are
/// not: they hold defaults for planning, which the saved plan has already
/// settled.
fn refuse_plan_flags(given: &BTreeSet<String>, path: &std::path::Path) -> anyhow::Result<()> {
    let shaping = plan_shaping_flags();
    let refused: Vec<&String> = given.iter().filter(|f| shaping.contains(*f)).collect();
    if refused.is_empty() {
        return Ok(());
    }
    let names = refused
        .iter()
        .map(|f| f.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    anyhow::bail!(
        "{names} cannot be used with the saved plan {path}: a saved plan is applied exactly as it was reviewed, with the subscriptions and settings it was made with; to change them, run `actlog-cmk plan --out {path}` again with these flags, review it and apply that; nothing was changed",
        path = path.display()
    )
}

/// `--subscription`, `--shard`, `--tenant`, `--all-tenants` and every flag
/// of `RemediationArgs`, as the user writes them.
fn plan_shaping_flags() -> BTreeSet<String> {
    let root = Cli::command();
    let Some(apply) = root.find_subcommand("apply") else {
        return BTreeSet::new();
    };
    let remediation: BTreeSet<&str> = apply
        .get_groups()
        .filter(|g| Some(g.get_id()) == RemediationArgs::group_id().as_ref())
        .flat_map(|g| g.get_args().map(|id| id.as_str()))
        .collect();
    apply
        .get_arguments()
        .filter(|a| {
            remediation.contains(a.get_id().as_str())
                || [
                    "subscriptions",
                    "management_groups",
                    "shard",
                    "tenants",
                    "all_tenants",
                ]
                .contains(&a.get_id().as_str())
        })
        .map(super::flag_name)
        .collect()
}

async fn execute(
    args: &ApplyArgs,
    global: &GlobalArgs,
    target: &Target,
    plan: Plan,
    from_file: bool,
    parallelism: usize,
) -> anyhow::Result<ExitStatus> {
    let review = super::review::Review {
        quiet: global.quiet,
        json: args.output == ApplyFormat::Json,
        yes: args.yes,
        dry_run: args.dry_run,
        question: "Do you want to make these changes?",
        no_terminal: "refusing to apply without confirmation: standard input is not a terminal. Pass --yes, or save a plan with `plan --out FILE` and apply that file",
        command: "apply",
    };
    let diff = render::plan_text(&plan, review.color());
    let proposal = super::review::Proposal {
        diff: &diff,
        stdout_suffix: "\n",
        has_changes: plan.has_changes(),
        ask: !from_file,
    };
    let options = ApplyOptions {
        parallelism,
        propagation_timeout: Duration::from_secs(args.propagation_timeout),
        dry_run: args.dry_run,
        check_fingerprints: from_file,
    };
    let report = review
        .run(&proposal, |progress| async move {
            match target {
                Target::One(one) => {
                    let (arm, snapshot) = &**one;
                    apply::apply(arm, snapshot, &plan, &options, progress.as_ref()).await
                }
                Target::Tenants(parts) => {
                    super::tenant_plans::apply_each(
                        parts,
                        &plan.unread,
                        &options,
                        progress.as_ref(),
                    )
                    .await
                }
            }
        })
        .await?;
    finish(args, &report)?;
    // Not Success when something could not be read: the summary counts it.
    Ok(report.exit_code())
}

fn finish(args: &ApplyArgs, report: &ApplyReport) -> anyhow::Result<()> {
    let text = match args.output {
        ApplyFormat::Text => render::apply_text(report),
        ApplyFormat::Json => render::apply_json(report),
    };
    super::write_output(None, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flags_that_shape_a_plan_are_the_scope_and_every_remediation_setting() {
        let flags = plan_shaping_flags();
        for flag in [
            "--subscription",
            "--management-group",
            "--shard",
            "--config",
            "--key-name",
            "--key-size",
            "--key-expiry-days",
            "--key-rotation-days",
            "--permission-model",
            "--identity",
            "--key-vault",
            "--identity-name",
            "--vault-name",
            "--tag",
            "--tenant",
            "--all-tenants",
        ] {
            assert!(flags.contains(flag), "{flag} in {flags:?}");
        }
        for flag in [
            "--yes",
            "--dry-run",
            "--parallelism",
            "--output",
            "PLANFILE",
            "--arm-endpoint",
        ] {
            assert!(!flags.contains(flag), "{flag} in {flags:?}");
        }
        assert_eq!(flags.len(), 16, "{flags:?}");
    }
}
