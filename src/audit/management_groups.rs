//! Where management groups send their activity log: each readable group's
//! diagnostic settings with a `storageAccountId`, as sources of kind
//! `management_group_diagnostic_setting`. Which groups are read is a
//! [`GroupScope`]: every group the credential can list (an audit of
//! everything), the groups `--management-group` names, or none (an audit of
//! named subscriptions only, whose scope no group's log belongs to). No
//! readable group at all is not an error; a group whose settings cannot be
//! read makes the audit incomplete, as a subscription's do (`sources.rs`).

use super::report::{ManagementGroupAudit, Source, SourceKind, Warning};
use super::sources::{explain, parse_destination};
use crate::azure::id::StorageAccountId;
use crate::azure::{management_groups, Arm, AzureError};
use crate::shard::Shard;
use futures::stream::{self, StreamExt};

/// Which management groups an audit reads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum GroupScope {
    /// None: the audit covers named subscriptions only.
    #[default]
    None,
    /// Every group the credential can list.
    Every,
    /// These group ids (`--management-group`, validated).
    Named(Vec<String>),
}

impl GroupScope {
    /// From the command line: named groups win; without any, every group
    /// when no subscription was named either, else none.
    pub fn from_flags(groups: Vec<String>, subscriptions_named: bool) -> GroupScope {
        if !groups.is_empty() {
            GroupScope::Named(groups)
        } else if subscriptions_named {
            GroupScope::None
        } else {
            GroupScope::Every
        }
    }
}

/// The groups' sources, as [`super::sources::SubscriptionSources`] for subscriptions.
#[derive(Default)]
pub struct GroupSources {
    pub audits: Vec<ManagementGroupAudit>,
    pub sources: Vec<(StorageAccountId, Source)>,
    pub warnings: Vec<Warning>,
    /// An error that stops the whole audit (endpoint unreachable, sign-in failed).
    pub fatal: Option<AzureError>,
}

fn warning(message: String) -> Warning {
    Warning {
        subscription_id: None,
        message,
    }
}

/// Reads the groups of `scope` (of those, only `shard`'s, by the same
/// stable hash as subscriptions, so each group is read by one shard).
pub async fn read(
    arm: &Arm,
    scope: &GroupScope,
    shard: Option<Shard>,
    parallelism: usize,
) -> GroupSources {
    let mut out = GroupSources::default();
    let ids: Vec<String> = match scope {
        GroupScope::None => return out,
        GroupScope::Named(ids) => ids.clone(),
        GroupScope::Every => match management_groups::list(arm).await {
            Ok(groups) => groups.into_iter().map(|g| g.id).collect(),
            Err(error) if error.is_fatal() => {
                out.fatal = Some(error);
                return out;
            }
            // No readable group is not an error; say why none was read.
            Err(error) if error.is_forbidden() || error.is_not_found() => {
                tracing::info!("no management group read: {error}");
                out.warnings.push(warning(format!(
                    "{} (no management group's activity-log settings were read)",
                    explain(
                        &error,
                        "the management groups",
                        "Microsoft.Management/managementGroups/read",
                        "the management groups to audit",
                    )
                )));
                return out;
            }
            Err(error) => {
                out.fatal = Some(error);
                return out;
            }
        },
    };
    let ids = match shard {
        Some(shard) => shard.select(ids),
        None => ids,
    };
    let read: Vec<(String, Result<_, AzureError>)> = stream::iter(ids)
        .map(|id| async move {
            let settings = management_groups::diagnostic_settings(arm, &id).await;
            (id, settings)
        })
        .buffered(parallelism.max(1))
        .collect()
        .await;
    for (group, settings) in read {
        let mut audit = ManagementGroupAudit {
            management_group_id: group.clone(),
            complete: true,
            errors: Vec::new(),
        };
        match settings {
            Ok(settings) => {
                for setting in settings {
                    let Some(target) = setting.storage_account_id else {
                        continue;
                    };
                    let Some(id) =
                        parse_destination(&target, &setting.name, &mut out.warnings, &warning)
                    else {
                        continue;
                    };
                    if setting.enabled_categories.is_empty() {
                        out.warnings.push(warning(format!(
                            "diagnostic setting '{}' of management group {group} sends no log category to {target}: enable at least the Administrative category",
                            setting.name
                        )));
                    }
                    out.sources.push((
                        id,
                        Source {
                            subscription_id: String::new(),
                            management_group_id: Some(group.clone()),
                            kind: SourceKind::ManagementGroupDiagnosticSetting,
                            name: setting.name,
                            enabled_categories: setting.enabled_categories,
                        },
                    ));
                }
            }
            Err(error) if error.is_fatal() => {
                out.fatal = Some(error);
                return out;
            }
            Err(error) => {
                let message = explain(
                    &error,
                    &format!("the diagnostic settings of management group {group}"),
                    "Microsoft.Insights/diagnosticSettings/read",
                    &format!("/providers/Microsoft.Management/managementGroups/{group}"),
                );
                out.warnings.push(warning(message.clone()));
                audit.complete = false;
                audit.errors.push(message);
            }
        }
        out.audits.push(audit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_groups_win_and_named_subscriptions_leave_groups_out() {
        assert_eq!(
            GroupScope::from_flags(vec!["mg".into()], true),
            GroupScope::Named(vec!["mg".into()])
        );
        assert_eq!(GroupScope::from_flags(vec![], true), GroupScope::None);
        assert_eq!(GroupScope::from_flags(vec![], false), GroupScope::Every);
    }
}
