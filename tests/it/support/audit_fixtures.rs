//! Small reports built by hand for the views' tests (`tests/it/render/`).

use actlog_cmk::audit::report::{
    AuditReport, Destination, Encryption, Reason, ReasonCode, Source, SourceKind, Status,
    SubscriptionAudit, Summary, Warning, SCHEMA_VERSION,
};
use chrono::{DateTime, Utc};

pub use crate::support::{SUB1, SUB2};

/// Every reason code, in declaration order.
pub const ALL_CODES: [ReasonCode; 17] = [
    ReasonCode::MicrosoftManagedKeys,
    ReasonCode::KeyVaultPropertiesMissing,
    ReasonCode::VaultNotFound,
    ReasonCode::VaultSoftDeleteDisabled,
    ReasonCode::VaultPurgeProtectionDisabled,
    ReasonCode::VaultFirewallBlocksTrustedServices,
    ReasonCode::KeyNotFound,
    ReasonCode::KeyDisabled,
    ReasonCode::KeyExpired,
    ReasonCode::KeyNotYetValid,
    ReasonCode::KeyNotRsa,
    ReasonCode::KeyTooSmall,
    ReasonCode::IdentityMissing,
    ReasonCode::IdentityLacksKeyAccess,
    ReasonCode::AccessDenied,
    ReasonCode::AccountNotFound,
    ReasonCode::ReadFailed,
];

/// Position of a code in [`ALL_CODES`]. A new variant fails to compile here:
/// give it the next index and add it to `ALL_CODES` (and to the schema's enum,
/// docs/output.md and `reasons.rs`).
fn position(code: ReasonCode) -> usize {
    match code {
        ReasonCode::MicrosoftManagedKeys => 0,
        ReasonCode::KeyVaultPropertiesMissing => 1,
        ReasonCode::VaultNotFound => 2,
        ReasonCode::VaultSoftDeleteDisabled => 3,
        ReasonCode::VaultPurgeProtectionDisabled => 4,
        ReasonCode::VaultFirewallBlocksTrustedServices => 5,
        ReasonCode::KeyNotFound => 6,
        ReasonCode::KeyDisabled => 7,
        ReasonCode::KeyExpired => 8,
        ReasonCode::KeyNotYetValid => 9,
        ReasonCode::KeyNotRsa => 10,
        ReasonCode::KeyTooSmall => 11,
        ReasonCode::IdentityMissing => 12,
        ReasonCode::IdentityLacksKeyAccess => 13,
        ReasonCode::AccessDenied => 14,
        ReasonCode::AccountNotFound => 15,
        ReasonCode::ReadFailed => 16,
    }
}

pub fn account_id(sub: &str, name: &str) -> String {
    format!(
        "/subscriptions/{sub}/resourceGroups/rg-logs/providers/Microsoft.Storage/storageAccounts/{name}"
    )
}

pub fn reason(code: ReasonCode, message: &str) -> Reason {
    Reason {
        code,
        message: message.to_string(),
    }
}

pub fn setting(sub: &str, name: &str, categories: &[&str]) -> Source {
    Source {
        subscription_id: sub.to_string(),
        management_group_id: None,
        kind: SourceKind::DiagnosticSetting,
        name: name.to_string(),
        enabled_categories: categories.iter().map(|c| c.to_string()).collect(),
    }
}

pub fn profile(sub: &str, name: &str) -> Source {
    Source {
        subscription_id: sub.to_string(),
        management_group_id: None,
        kind: SourceKind::LogProfile,
        name: name.to_string(),
        enabled_categories: vec![],
    }
}

pub fn microsoft_keys() -> Encryption {
    Encryption {
        key_source: "Microsoft.Storage".to_string(),
        key_vault_uri: None,
        key_vault_id: None,
        key_name: None,
        key_version: None,
        identity: None,
    }
}

pub fn vault_key(identity: Option<&str>, version: Option<&str>) -> Encryption {
    Encryption {
        key_source: "Microsoft.Keyvault".to_string(),
        key_vault_uri: Some("https://kv-logs.vault.azure.net/".to_string()),
        key_vault_id: None,
        key_name: Some("cmk-logs".to_string()),
        key_version: version.map(str::to_string),
        identity: identity.map(str::to_string),
    }
}

pub fn destination(
    name: &str,
    status: Status,
    reasons: Vec<Reason>,
    sources: Vec<Source>,
    encryption: Option<Encryption>,
) -> Destination {
    Destination {
        storage_account_id: account_id(SUB1, name),
        status,
        reasons,
        sources,
        encryption,
    }
}

pub fn report(
    subscriptions: Vec<SubscriptionAudit>,
    destinations: Vec<Destination>,
    warnings: Vec<Warning>,
) -> AuditReport {
    let generated_at: DateTime<Utc> = "2024-05-01T10:20:30Z".parse().expect("a fixed time");
    AuditReport {
        schema_version: SCHEMA_VERSION,
        tool_version: "0.1.0".to_string(),
        generated_at,
        arm_endpoint: "https://management.azure.com".to_string(),
        coverage: Default::default(),
        summary: Summary::of(&subscriptions, &destinations),
        subscriptions,
        management_groups: vec![],
        destinations,
        warnings,
    }
}

pub fn subscription(id: &str, errors: &[&str]) -> SubscriptionAudit {
    SubscriptionAudit {
        subscription_id: id.to_string(),
        tenant_id: None,
        complete: errors.is_empty(),
        errors: errors.iter().map(|e| e.to_string()).collect(),
    }
}

/// One destination per status, two subscriptions (one not read completely),
/// two warnings (one without a subscription).
pub fn every_status() -> AuditReport {
    let identity = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-logs/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-logs";
    report(
        vec![
            subscription(SUB1, &[]),
            subscription(
                SUB2,
                &["listing diagnostic settings was denied (403): grant Microsoft.Insights/DiagnosticSettings/Read"],
            ),
        ],
        vec![
            destination(
                "good",
                Status::Compliant,
                vec![],
                vec![setting(SUB1, "to-good", &["Administrative", "Security"])],
                Some(vault_key(Some(identity), None)),
            ),
            destination(
                "mmk",
                Status::NonCompliant,
                vec![reason(
                    ReasonCode::MicrosoftManagedKeys,
                    "the account uses Microsoft-managed keys: switch to a customer-managed key",
                )],
                vec![
                    setting(SUB1, "to-mmk", &[]),
                    profile(SUB2, "default"),
                ],
                Some(microsoft_keys()),
            ),
            destination(
                "broken",
                Status::CmkBroken,
                vec![
                    reason(ReasonCode::KeyDisabled, "key 'cmk-logs' is disabled: enable it"),
                    reason(ReasonCode::AccessDenied, "reading role assignments was denied"),
                ],
                vec![setting(SUB1, "to-broken", &["Administrative"])],
                Some(vault_key(None, Some("0123456789abcdef"))),
            ),
            destination(
                "secret",
                Status::Unreadable,
                vec![reason(
                    ReasonCode::AccessDenied,
                    "reading the account was denied (403): grant Reader on it",
                )],
                vec![setting(SUB1, "to-secret", &["Security"])],
                None,
            ),
            destination(
                "gone",
                Status::Missing,
                vec![reason(
                    ReasonCode::AccountNotFound,
                    "the account no longer exists: point the setting elsewhere",
                )],
                vec![profile(SUB1, "old-profile")],
                None,
            ),
        ],
        vec![
            Warning {
                subscription_id: Some(SUB1.to_string()),
                message: "log profile 'old-profile' is retired: use a diagnostic setting".to_string(),
            },
            Warning {
                subscription_id: None,
                message: "no credentials for one tenant were found".to_string(),
            },
        ],
    )
}

/// Every subscription read, no destination at all.
pub fn empty() -> AuditReport {
    report(vec![subscription(SUB1, &[])], vec![], vec![])
}

/// Names, messages and categories with `|`, backticks and `<`.
pub fn awkward_names() -> AuditReport {
    let mut dest = destination(
        "pipe|acct",
        Status::NonCompliant,
        vec![reason(
            ReasonCode::MicrosoftManagedKeys,
            "setting a|b sends to `pipe|acct` <b>unencrypted</b>",
        )],
        vec![setting(SUB1, "a|b", &["Cat|One", "Two"])],
        Some(microsoft_keys()),
    );
    dest.storage_account_id = account_id(SUB1, "pipe|acct");
    report(
        vec![subscription(SUB1, &[])],
        vec![dest],
        vec![Warning {
            subscription_id: Some(SUB1.to_string()),
            message: "setting x|y has no category | enabled".to_string(),
        }],
    )
}

#[test]
fn all_codes_lists_every_code_once() {
    for (i, code) in ALL_CODES.iter().enumerate() {
        assert_eq!(position(*code), i);
    }
    let max = ALL_CODES.iter().map(|c| position(*c)).max().unwrap();
    assert_eq!(max + 1, ALL_CODES.len());
}
