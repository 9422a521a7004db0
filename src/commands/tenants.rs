//! `--tenant ID` (repeatable) and `--all-tenants`: which tenants a command
//! covers, a connection to each with its own token, and the audit across
//! them. `GET /subscriptions` lists only the token tenant's subscriptions and
//! ARM refuses a token of another tenant (401
//! `InvalidAuthenticationTokenTenant`), so each tenant is audited on its own
//! connection and the reports are combined, each subscription naming its
//! tenant. A tenant the credential cannot sign in to is reported (a warning
//! naming it and Entra's `AADSTS` code; the report is incomplete, exit 3),
//! not fatal. Without either flag nothing here runs: the sign-in tenant only.

use crate::audit::report::{AuditReport, Coverage, Summary, Warning, SCHEMA_VERSION};
use crate::audit::{self, AuditOptions, GroupScope};
use crate::azure::id::parse_subscription_id;
use crate::azure::subscriptions::{self, SubscriptionRef};
use crate::azure::{tenants, Arm, Snapshot};
use crate::cli::{AzureArgs, TenantArgs};
use crate::shard::Shard;
use anyhow::{anyhow, bail};

/// A tenant and the connection signed in to it.
pub struct TenantArm {
    pub tenant_id: String,
    pub arm: Arm,
}

/// A tenant the credential could not sign in to, and Entra's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub tenant_id: String,
    /// `AADSTS700016` and the like; empty when the answer had none.
    pub code: String,
    pub message: String,
}

impl Refused {
    /// The report's warning: the tenant, the code, Entra's words.
    pub fn warning(&self) -> Warning {
        let code = match self.code.as_str() {
            "" => String::new(),
            code => format!(" ({code})"),
        };
        Warning {
            subscription_id: None,
            message: format!(
                "tenant {}: the credential could not sign in{code}, so its subscriptions were not read: {}",
                self.tenant_id, self.message
            ),
        }
    }
}

/// The ARM endpoint as a connection names it (`Arm::endpoint`), for a
/// report or plan with no tenant connected to name it.
pub fn endpoint(azure: &AzureArgs) -> String {
    let text = azure.arm_endpoint.trim_end_matches('/');
    azure_core::Url::parse(text).map_or_else(|_| text.to_string(), |url| url.to_string())
}

/// Whether the flags ask for tenants other than the sign-in one.
pub fn requested(args: &TenantArgs) -> bool {
    args.all_tenants || !args.tenants.is_empty()
}

/// The `--tenant` values, validated (GUIDs, lower case, no repeats) before any call.
pub fn parse(args: &TenantArgs) -> anyhow::Result<Vec<String>> {
    let mut ids: Vec<String> = Vec::new();
    for value in &args.tenants {
        let id = parse_subscription_id(value.trim())
            .map_err(|_| anyhow!("--tenant '{value}' is not a tenant id (a GUID)"))?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// `AADSTS` and its digits, where Entra's answer has them.
fn aadsts_code(text: &str) -> String {
    text.find("AADSTS")
        .map(|at| {
            let digits: String = text[at + 6..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            format!("AADSTS{digits}")
        })
        .filter(|code| code.len() > 6)
        .unwrap_or_default()
}

/// A connection to each tenant `ids` names (`all`: every tenant the
/// credential's own tenant lists), each checked by signing in once; the
/// ones that refuse are returned apart.
pub async fn connect(
    azure: &AzureArgs,
    ids: &[String],
    all: bool,
) -> anyhow::Result<(Vec<TenantArm>, Vec<Refused>)> {
    let ids: Vec<String> = if all {
        let home = super::azure_args::connect(azure).await?;
        let mut listed: Vec<String> = Vec::new();
        for tenant in tenants::list(&home).await? {
            let id = tenant.tenant_id.to_ascii_lowercase();
            if !listed.contains(&id) {
                listed.push(id);
            }
        }
        listed
    } else {
        ids.to_vec()
    };
    let mut connected = Vec::new();
    let mut refused = Vec::new();
    for tenant_id in ids {
        let arm = super::azure_args::connect_in(azure, &tenant_id).await?;
        match arm.credential().get_token(&arm.scopes()).await {
            Ok(_) => connected.push(TenantArm { tenant_id, arm }),
            Err(e) => {
                let message = e.to_string();
                tracing::info!(tenant = %tenant_id, "sign-in refused");
                refused.push(Refused {
                    code: aadsts_code(&message),
                    tenant_id,
                    message,
                });
            }
        }
    }
    Ok((connected, refused))
}

/// The ids of `refs` that `tenant` holds (its subscription list), and which
/// refs it matched; all of its subscriptions when `refs` is empty.
pub async fn pick(
    arm: &Arm,
    refs: &[SubscriptionRef],
) -> anyhow::Result<(Vec<String>, Vec<SubscriptionRef>)> {
    let (visible, _) = subscriptions::list(arm).await?;
    let mut ids = Vec::new();
    let mut matched = Vec::new();
    for r in refs {
        let found = match r {
            SubscriptionRef::Id(id) => visible
                .iter()
                .any(|s| s.subscription_id.eq_ignore_ascii_case(id))
                .then(|| id.clone()),
            SubscriptionRef::Name(_) => subscriptions::resolve(std::slice::from_ref(r), &visible)
                .ok()
                .and_then(|ids| ids.into_iter().next()),
        };
        if let Some(id) = found {
            matched.push(r.clone());
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    Ok((ids, matched))
}

/// Every `-s` value must name a subscription of a tenant covered.
pub fn check_found(
    refs: &[SubscriptionRef],
    found: &[SubscriptionRef],
    tenants: usize,
) -> anyhow::Result<()> {
    if let Some(missing) = refs.iter().find(|r| !found.contains(r)) {
        let named = match missing {
            SubscriptionRef::Id(id) | SubscriptionRef::Name(id) => id,
        };
        bail!(
            "no subscription '{named}' in the {tenants} tenant(s) covered: check -s and --tenant"
        );
    }
    Ok(())
}

/// The audit of every connected tenant (of `refs` only, when given: each
/// looked up in each tenant's list; one found in none is an error), each
/// subscription naming its tenant, with a warning per refused tenant.
pub async fn audit(
    arm_endpoint: &str,
    connected: &[TenantArm],
    refused: &[Refused],
    refs: &[SubscriptionRef],
    management_groups: &GroupScope,
    shard: Option<Shard>,
    parallelism: usize,
) -> anyhow::Result<AuditReport> {
    let mut reports = Vec::new();
    let mut found: Vec<SubscriptionRef> = Vec::new();
    // One per tenant, kept: an account judged again in its own tenant
    // reuses that tenant's reads.
    let snapshots: Vec<Snapshot> = connected.iter().map(|_| Snapshot::new()).collect();
    for (index, tenant) in connected.iter().enumerate() {
        let subscriptions = if refs.is_empty() {
            Vec::new()
        } else {
            let (ids, matched) = pick(&tenant.arm, refs).await?;
            found.extend(matched);
            if ids.is_empty() {
                continue;
            }
            ids
        };
        let options = AuditOptions {
            subscriptions,
            management_groups: management_groups.clone(),
            parallelism,
        };
        let mut report = audit::run_shard(&tenant.arm, &snapshots[index], &options, shard).await?;
        for s in &mut report.subscriptions {
            s.tenant_id = Some(tenant.tenant_id.clone());
        }
        reports.push((index, report));
    }
    check_found(refs, &found, connected.len())?;
    super::tenant_destinations::judge_in_own_tenant(
        connected,
        &snapshots,
        &mut reports,
        parallelism,
    )
    .await;
    let reports: Vec<AuditReport> = reports.into_iter().map(|(_, r)| r).collect();
    let tenant_id = match connected {
        [one] => Some(one.tenant_id.clone()),
        _ => None,
    };
    let coverage = Coverage {
        tenant_id,
        shard,
        missing_shards: Vec::new(),
    };
    let mut report = if reports.is_empty() {
        AuditReport {
            schema_version: SCHEMA_VERSION,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            generated_at: chrono::Utc::now(),
            arm_endpoint: arm_endpoint.to_string(),
            coverage,
            summary: Summary::default(),
            subscriptions: Vec::new(),
            management_groups: Vec::new(),
            destinations: Vec::new(),
            warnings: Vec::new(),
        }
    } else {
        crate::report_merge::combine(reports, coverage)
    };
    super::tenant_destinations::point_at_refusals(&mut report, refused);
    report.warnings.extend(refused.iter().map(Refused::warning));
    report.summary.incomplete |= !refused.is_empty();
    Ok(report)
}

/// `--management-group` names groups of one tenant: across tenants each
/// would be missing from the others and make every run incomplete, so the
/// two are not taken together (without it, each tenant's groups are read).
pub fn refuse_named_groups(args: &TenantArgs, groups: &GroupScope) -> anyhow::Result<()> {
    if requested(args) && matches!(groups, GroupScope::Named(_)) {
        bail!("--management-group does not go with --tenant or --all-tenants: a management group belongs to one tenant. Run the command for that tenant alone (without --tenant), or leave out --management-group to read every group of each tenant; nothing was read");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_groups_go_with_one_tenant_only() {
        let all = TenantArgs {
            tenants: Vec::new(),
            all_tenants: true,
        };
        let home = TenantArgs {
            tenants: Vec::new(),
            all_tenants: false,
        };
        let named = GroupScope::Named(vec!["platform".into()]);
        let refused = refuse_named_groups(&all, &named).unwrap_err().to_string();
        assert!(
            refused.contains("--management-group does not go with --tenant or --all-tenants"),
            "{refused}"
        );
        assert!(refuse_named_groups(&all, &GroupScope::Every).is_ok());
        assert!(refuse_named_groups(&home, &named).is_ok());
    }

    #[test]
    fn entra_codes_are_read_from_the_refusal() {
        assert_eq!(
            aadsts_code(
                "Entra ID refused the sign-in (unauthorized_client): AADSTS700016: Application"
            ),
            "AADSTS700016"
        );
        assert_eq!(
            aadsts_code("AADSTS90002: Tenant 'x' not found"),
            "AADSTS90002"
        );
        assert_eq!(aadsts_code("connection refused"), "");
        assert_eq!(aadsts_code("AADSTS: nothing"), "");
    }

    #[test]
    fn tenant_ids_are_guids_without_repeats() {
        let args = |values: &[&str]| TenantArgs {
            tenants: values.iter().map(|v| v.to_string()).collect(),
            all_tenants: false,
        };
        const T: &str = "aaaaaaaa-0000-0000-0000-000000000001";
        assert_eq!(
            parse(&args(&[T, &T.to_uppercase()])).unwrap(),
            vec![T.to_string()]
        );
        let refused = parse(&args(&["contoso.onmicrosoft.com"])).unwrap_err();
        assert!(refused
            .to_string()
            .contains("--tenant 'contoso.onmicrosoft.com'"));
    }
}
