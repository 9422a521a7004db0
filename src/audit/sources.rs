//! Where each subscription sends its activity log: subscription diagnostic
//! settings with a `storageAccountId`, and legacy log profiles. Log profiles
//! were retired on 30 Sep 2026, so an error reading them is a warning; an
//! error reading diagnostic settings makes the subscription incomplete.

use super::report::{Source, SourceKind, SubscriptionAudit, Warning};
use crate::azure::id::StorageAccountId;
use crate::azure::{monitor, Arm, AzureError};

/// One subscription's sources, each with the account id it names.
pub struct SubscriptionSources {
    pub audit: SubscriptionAudit,
    pub sources: Vec<(StorageAccountId, Source)>,
    pub warnings: Vec<Warning>,
    /// An error that stops the whole audit (endpoint unreachable, sign-in failed).
    pub fatal: Option<AzureError>,
}

/// What to tell the user when a read fails: the permission for a 403,
/// Azure's own words otherwise.
pub fn explain(error: &AzureError, what: &str, permission: &str, scope: &str) -> String {
    if error.is_forbidden() {
        format!(
            "cannot read {what}: access denied ({}); grant {permission} on {scope} (the Reader role includes it)",
            error.code().unwrap_or("403")
        )
    } else {
        format!("cannot read {what}: {error}")
    }
}

pub async fn read(arm: &Arm, subscription_id: &str) -> SubscriptionSources {
    let scope = format!("/subscriptions/{subscription_id}");
    let (settings, profiles) = tokio::join!(
        monitor::diagnostic_settings(arm, subscription_id),
        monitor::log_profiles(arm, subscription_id)
    );
    let mut out = SubscriptionSources {
        audit: SubscriptionAudit {
            subscription_id: subscription_id.to_string(),
            tenant_id: None,
            complete: true,
            errors: Vec::new(),
        },
        sources: Vec::new(),
        warnings: Vec::new(),
        fatal: None,
    };
    let warn = |message: String| Warning {
        subscription_id: Some(subscription_id.to_string()),
        message,
    };

    match settings {
        Ok(settings) => {
            for setting in settings {
                let Some(target) = setting.storage_account_id else {
                    continue;
                };
                let Some(id) = parse_destination(&target, &setting.name, &mut out.warnings, &warn)
                else {
                    continue;
                };
                if setting.enabled_categories.is_empty() {
                    out.warnings.push(warn(format!(
                        "diagnostic setting '{}' sends no log category to {target}: enable at least the Administrative and Security categories",
                        setting.name
                    )));
                }
                out.sources.push((
                    id,
                    Source {
                        subscription_id: subscription_id.to_string(),
                        management_group_id: None,
                        kind: SourceKind::DiagnosticSetting,
                        name: setting.name,
                        enabled_categories: setting.enabled_categories,
                    },
                ));
            }
        }
        Err(error) if error.is_fatal() => out.fatal = Some(error),
        Err(error) => {
            out.audit.complete = false;
            out.audit.errors.push(explain(
                &error,
                &format!("the diagnostic settings of subscription {subscription_id}"),
                "Microsoft.Insights/diagnosticSettings/read",
                &scope,
            ));
        }
    }

    match profiles {
        Ok(profiles) => {
            for profile in profiles {
                let Some(target) = profile.storage_account_id else {
                    continue;
                };
                let Some(id) = parse_destination(&target, &profile.name, &mut out.warnings, &warn)
                else {
                    continue;
                };
                out.warnings.push(warn(format!(
                    "legacy log profile '{}' sends the activity log to {target}; log profiles are retired: replace it with a subscription diagnostic setting",
                    profile.name
                )));
                out.sources.push((
                    id,
                    Source {
                        subscription_id: subscription_id.to_string(),
                        management_group_id: None,
                        kind: SourceKind::LogProfile,
                        name: profile.name,
                        enabled_categories: Vec::new(),
                    },
                ));
            }
        }
        Err(error) => out.warnings.push(warn(format!(
            "{} (log profiles are retired, so this does not make the audit incomplete)",
            explain(
                &error,
                &format!("the legacy log profiles of subscription {subscription_id}"),
                "Microsoft.Insights/LogProfiles/read",
                &scope,
            )
        ))),
    }
    out
}

pub(super) fn parse_destination(
    target: &str,
    source_name: &str,
    warnings: &mut Vec<Warning>,
    warn: &dyn Fn(String) -> Warning,
) -> Option<StorageAccountId> {
    match StorageAccountId::parse(target) {
        Ok(id) => Some(id),
        Err(e) => {
            warnings.push(warn(format!(
                "'{source_name}' names a destination that is not a storage account id: {e}"
            )));
            None
        }
    }
}
