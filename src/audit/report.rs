//! The audit's result as plain data: what every view (`render/`) shows and
//! what `--output json` serialises. The JSON form is versioned
//! ([`SCHEMA_VERSION`]) and documented in docs/output.md and
//! docs/schemas/audit.schema.json; change both together.

use crate::exit_status::ExitStatus;
use crate::shard::Shard;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Bump when a field is removed or changes meaning (adding one is compatible).
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditReport {
    pub schema_version: u32,
    pub tool_version: String,
    pub generated_at: DateTime<Utc>,
    pub arm_endpoint: String,
    /// Which tenant, and which shard of it, the report covers.
    #[serde(flatten)]
    pub coverage: Coverage,
    pub summary: Summary,
    /// One entry per subscription in scope, in the order they were given or listed.
    pub subscriptions: Vec<SubscriptionAudit>,
    /// One entry per management group read (left out when none was).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub management_groups: Vec<ManagementGroupAudit>,
    /// One entry per unique destination account, sorted by id.
    pub destinations: Vec<Destination>,
    /// Things worth knowing that are not findings (retired log profiles,
    /// settings with no log category enabled, ...).
    pub warnings: Vec<Warning>,
}

/// Which part of a tenant a report covers: what `report merge` checks before
/// it combines shard reports (docs/output.md). Every field is left out of the
/// JSON when unknown or unsharded, so an unsharded report reads as before.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// The tenant of the subscriptions in scope, when the subscription list
    /// (or, for a shard, the first subscription) named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// `--shard K/N`: this report covers only shard K of N.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<Shard>,
    /// A merged report made without these shards: partial, and incomplete.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_shards: Vec<Shard>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub subscriptions: usize,
    pub destinations: usize,
    pub compliant: usize,
    pub non_compliant: usize,
    pub cmk_broken: usize,
    pub unreadable: usize,
    pub missing: usize,
    /// True when a subscription's sources or an account could not be read:
    /// the findings may not be all there are.
    pub incomplete: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubscriptionAudit {
    pub subscription_id: String,
    /// The subscription's tenant, in a report across tenants (`--tenant`,
    /// `--all-tenants`); absent from the JSON otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// The subscription could be read completely (diagnostic settings listed).
    pub complete: bool,
    /// Why not, naming the permission or the next step.
    pub errors: Vec<String>,
}

/// A management group whose diagnostic settings were read, as
/// [`SubscriptionAudit`] is for a subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagementGroupAudit {
    pub management_group_id: String,
    /// Its diagnostic settings could be listed.
    pub complete: bool,
    /// Why not, naming the permission or the next step.
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Destination {
    /// As the account's own id reads when it could be read, else as the first
    /// source names it.
    pub storage_account_id: String,
    pub status: Status,
    /// Why the status is what it is; empty only for `compliant`.
    pub reasons: Vec<Reason>,
    /// Every setting and profile that sends an activity log here.
    pub sources: Vec<Source>,
    /// The account's encryption as read; absent when it could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Encryption>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Compliant,
    NonCompliant,
    CmkBroken,
    Unreadable,
    Missing,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Compliant => "compliant",
            Status::NonCompliant => "non_compliant",
            Status::CmkBroken => "cmk_broken",
            Status::Unreadable => "unreadable",
            Status::Missing => "missing",
        }
    }

    /// A finding is something to fix; `unreadable` is a gap in the audit instead.
    pub fn is_finding(self) -> bool {
        matches!(
            self,
            Status::NonCompliant | Status::CmkBroken | Status::Missing
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub code: ReasonCode,
    /// One sentence for a person: what is wrong, on which resource, what to do.
    pub message: String,
}

/// Machine-readable reasons; SARIF rule ids are these in kebab-case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// `keySource` is `Microsoft.Storage`: Microsoft-managed keys.
    MicrosoftManagedKeys,
    /// `Microsoft.Keyvault` without a vault URI or key name.
    KeyVaultPropertiesMissing,
    VaultNotFound,
    VaultSoftDeleteDisabled,
    VaultPurgeProtectionDisabled,
    VaultFirewallBlocksTrustedServices,
    KeyNotFound,
    KeyDisabled,
    KeyExpired,
    KeyNotYetValid,
    KeyNotRsa,
    KeyTooSmall,
    /// The account has no identity that the encryption can use.
    IdentityMissing,
    /// The identity lacks get, wrapKey or unwrapKey on the key.
    IdentityLacksKeyAccess,
    /// 403 on the account or on what its CMK depends on.
    AccessDenied,
    /// 404: the setting points to an account that no longer exists.
    AccountNotFound,
    /// Another error prevented the check (named in the message).
    ReadFailed,
}

impl ReasonCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::MicrosoftManagedKeys => "microsoft_managed_keys",
            ReasonCode::KeyVaultPropertiesMissing => "key_vault_properties_missing",
            ReasonCode::VaultNotFound => "vault_not_found",
            ReasonCode::VaultSoftDeleteDisabled => "vault_soft_delete_disabled",
            ReasonCode::VaultPurgeProtectionDisabled => "vault_purge_protection_disabled",
            ReasonCode::VaultFirewallBlocksTrustedServices => {
                "vault_firewall_blocks_trusted_services"
            }
            ReasonCode::KeyNotFound => "key_not_found",
            ReasonCode::KeyDisabled => "key_disabled",
            ReasonCode::KeyExpired => "key_expired",
            ReasonCode::KeyNotYetValid => "key_not_yet_valid",
            ReasonCode::KeyNotRsa => "key_not_rsa",
            ReasonCode::KeyTooSmall => "key_too_small",
            ReasonCode::IdentityMissing => "identity_missing",
            ReasonCode::IdentityLacksKeyAccess => "identity_lacks_key_access",
            ReasonCode::AccessDenied => "access_denied",
            ReasonCode::AccountNotFound => "account_not_found",
            ReasonCode::ReadFailed => "read_failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// The subscription whose setting or profile this is; empty (and left
    /// out of the JSON) for a management group's setting.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub subscription_id: String,
    /// The management group whose setting this is (kind
    /// `management_group_diagnostic_setting` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub management_group_id: Option<String>,
    pub kind: SourceKind,
    /// The diagnostic setting's or log profile's name.
    pub name: String,
    /// Enabled log categories (diagnostic settings only; empty for profiles).
    pub enabled_categories: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    DiagnosticSetting,
    LogProfile,
    ManagementGroupDiagnosticSetting,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::DiagnosticSetting => "diagnostic_setting",
            SourceKind::LogProfile => "log_profile",
            SourceKind::ManagementGroupDiagnosticSetting => "management_group_diagnostic_setting",
        }
    }
}

impl Source {
    /// Where the source lives, for the views: `("subscription", id)` or
    /// `("management group", id)`.
    pub fn origin(&self) -> (&'static str, &str) {
        match &self.management_group_id {
            Some(group) => ("management group", group.as_str()),
            None => ("subscription", self.subscription_id.as_str()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encryption {
    /// As Azure returned it (`Microsoft.Storage`, `Microsoft.Keyvault`, ...).
    pub key_source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_vault_uri: Option<String>,
    /// The vault's resource id, when the audit found it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_vault_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_name: Option<String>,
    /// Set when the account pins a key version (rotation is then not followed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_version: Option<String>,
    /// The user-assigned identity the encryption uses; absent for system-assigned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<String>,
    pub message: String,
}

impl Coverage {
    /// For the headers of the text and Markdown reports: `shard 2/3`, or
    /// `partial: shards 3/3 missing` on a merged report; `None` for a whole run.
    pub fn label(&self) -> Option<String> {
        if !self.missing_shards.is_empty() {
            let missing: Vec<String> = self.missing_shards.iter().map(|s| s.to_string()).collect();
            let noun = if missing.len() == 1 {
                "shard"
            } else {
                "shards"
            };
            return Some(format!("partial: {noun} {} missing", missing.join(", ")));
        }
        self.shard.map(|shard| format!("shard {shard}"))
    }
}

impl AuditReport {
    /// Incomplete wins over findings: a pipeline must not read a partial
    /// audit as the whole truth. Findings are non_compliant, cmk_broken and
    /// missing (docs/output.md).
    pub fn exit_code(&self) -> ExitStatus {
        if self.summary.incomplete {
            ExitStatus::Incomplete
        } else if self.destinations.iter().any(|d| d.status.is_finding()) {
            ExitStatus::Findings
        } else {
            ExitStatus::Success
        }
    }
}

impl Summary {
    /// [`Summary::of`], incomplete also when a management group's settings
    /// could not be read.
    pub fn with_groups(
        subscriptions: &[SubscriptionAudit],
        groups: &[ManagementGroupAudit],
        destinations: &[Destination],
    ) -> Self {
        let mut summary = Summary::of(subscriptions, destinations);
        summary.incomplete |= groups.iter().any(|g| !g.complete);
        summary
    }

    pub fn of(subscriptions: &[SubscriptionAudit], destinations: &[Destination]) -> Self {
        let count = |s: Status| destinations.iter().filter(|d| d.status == s).count();
        Summary {
            subscriptions: subscriptions.len(),
            destinations: destinations.len(),
            compliant: count(Status::Compliant),
            non_compliant: count(Status::NonCompliant),
            cmk_broken: count(Status::CmkBroken),
            unreadable: count(Status::Unreadable),
            missing: count(Status::Missing),
            incomplete: subscriptions.iter().any(|s| !s.complete)
                || destinations.iter().any(|d| d.status == Status::Unreadable),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(statuses: &[Status], complete: bool) -> AuditReport {
        let subscriptions = vec![SubscriptionAudit {
            subscription_id: "s".into(),
            tenant_id: None,
            complete,
            errors: vec![],
        }];
        let destinations: Vec<Destination> = statuses
            .iter()
            .map(|&status| Destination {
                storage_account_id: "a".into(),
                status,
                reasons: vec![],
                sources: vec![],
                encryption: None,
            })
            .collect();
        AuditReport {
            schema_version: SCHEMA_VERSION,
            tool_version: "0".into(),
            generated_at: Utc::now(),
            arm_endpoint: "e".into(),
            coverage: Coverage::default(),
            summary: Summary::of(&subscriptions, &destinations),
            subscriptions,
            management_groups: vec![],
            destinations,
            warnings: vec![],
        }
    }

    #[test]
    fn exit_codes_rank_incomplete_over_findings_over_compliant() {
        assert_eq!(report(&[], true).exit_code().code(), 0);
        assert_eq!(report(&[Status::Compliant], true).exit_code().code(), 0);
        assert_eq!(
            report(&[Status::Compliant, Status::CmkBroken], true)
                .exit_code()
                .code(),
            2
        );
        assert_eq!(report(&[Status::Missing], true).exit_code().code(), 2);
        assert_eq!(report(&[Status::Unreadable], true).exit_code().code(), 3);
        assert_eq!(report(&[Status::NonCompliant], false).exit_code().code(), 3);
    }

    #[test]
    fn an_unread_management_group_makes_the_summary_incomplete() {
        let group = |complete| ManagementGroupAudit {
            management_group_id: "mg".into(),
            complete,
            errors: vec![],
        };
        let subscriptions = report(&[], true).subscriptions;
        assert!(!Summary::with_groups(&subscriptions, &[group(true)], &[]).incomplete);
        assert!(Summary::with_groups(&subscriptions, &[group(true), group(false)], &[]).incomplete);
    }

    #[test]
    fn a_source_names_its_subscription_or_its_management_group() {
        let mut source = Source {
            subscription_id: "s1".into(),
            management_group_id: None,
            kind: SourceKind::DiagnosticSetting,
            name: "x".into(),
            enabled_categories: vec![],
        };
        assert_eq!(source.origin(), ("subscription", "s1"));
        let json = serde_json::to_value(&source).unwrap();
        assert!(json.get("management_group_id").is_none());
        source.subscription_id.clear();
        source.management_group_id = Some("mg".into());
        source.kind = SourceKind::ManagementGroupDiagnosticSetting;
        assert_eq!(source.origin(), ("management group", "mg"));
        let json = serde_json::to_value(&source).unwrap();
        assert!(json.get("subscription_id").is_none());
        assert_eq!(json["kind"], "management_group_diagnostic_setting");
        let back: Source = serde_json::from_value(json).unwrap();
        assert_eq!(back, source);
    }

    #[test]
    fn coverage_labels_name_the_shard_or_the_missing_ones() {
        let mut c = Coverage::default();
        assert_eq!(c.label(), None);
        c.shard = Some(Shard { index: 2, count: 3 });
        assert_eq!(c.label().as_deref(), Some("shard 2/3"));
        c.shard = None;
        c.missing_shards = vec![Shard { index: 3, count: 3 }];
        assert_eq!(c.label().as_deref(), Some("partial: shard 3/3 missing"));
        c.missing_shards.insert(0, Shard { index: 1, count: 3 });
        assert_eq!(
            c.label().as_deref(),
            Some("partial: shards 1/3, 3/3 missing")
        );
    }

    #[test]
    fn names_match_the_serialised_form() {
        for status in [
            Status::Compliant,
            Status::NonCompliant,
            Status::CmkBroken,
            Status::Unreadable,
            Status::Missing,
        ] {
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(status.as_str())
            );
        }
        assert_eq!(
            serde_json::to_value(ReasonCode::VaultFirewallBlocksTrustedServices).unwrap(),
            serde_json::json!(ReasonCode::VaultFirewallBlocksTrustedServices.as_str())
        );
    }
}
