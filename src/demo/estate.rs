//! The demo's sample estate: four subscriptions of a fictitious company and
//! the five storage accounts their activity logs go to, one of each kind the
//! tool meets in the field:
//!
//! - a central log account in the logging subscription, fed by diagnostic
//!   settings of every subscription and of the management group
//!   `contoso-platform` (which holds the logging subscription), on
//!   Microsoft-managed keys;
//! - a security copy that is already compliant (CMK in an access-policy vault);
//! - an account with a system-assigned identity of its own (the tool keeps it);
//! - an account fed by a legacy log profile;
//! - a broken CMK setup on an RBAC vault whose identity lost its role
//!   assignment (the tool plans the missing grant, nothing else).
//!
//! Apply is expected to leave every one of them compliant.

use super::seed::Seeder;
use serde_json::json;

const LOCATION: &str = "westeurope";

pub const PROD: &str = "5f0e6c1a-7b2d-4c3e-9a41-6d2b8e0f1a01";
pub const DEV: &str = "5f0e6c1a-7b2d-4c3e-9a41-6d2b8e0f1a02";
pub const DATA: &str = "5f0e6c1a-7b2d-4c3e-9a41-6d2b8e0f1a03";
pub const LOGGING: &str = "5f0e6c1a-7b2d-4c3e-9a41-6d2b8e0f1a04";

/// The management group the demo's platform team exports from.
pub const PLATFORM_GROUP: &str = "contoso-platform";

/// (id, display name) of every subscription in the estate.
pub const SUBSCRIPTIONS: [(&str, &str); 4] = [
    (PROD, "contoso-prod"),
    (DEV, "contoso-dev"),
    (DATA, "contoso-data"),
    (LOGGING, "contoso-logging"),
];

/// One activity-log destination as seeded, for the demo's introduction.
#[derive(Debug, Clone)]
pub struct SeededDestination {
    pub account: &'static str,
    pub subscription: &'static str,
    pub story: &'static str,
}

pub const DESTINATIONS: [SeededDestination; 5] = [
    SeededDestination {
        account: "stcontosoactlogs",
        subscription: "contoso-logging",
        story: "central log account, fed by diagnostic settings of all four subscriptions and of management group contoso-platform; Microsoft-managed keys",
    },
    SeededDestination {
        account: "stprodsecurity",
        subscription: "contoso-prod",
        story: "security team's copy; already on a customer-managed key in access-policy vault kv-contoso-prod-sec",
    },
    SeededDestination {
        account: "stdevaudit",
        subscription: "contoso-dev",
        story: "dev's audit copy; has a system-assigned identity of its own (kept); Microsoft-managed keys",
    },
    SeededDestination {
        account: "stdatalegacy",
        subscription: "contoso-data",
        story: "target of a legacy log profile; Microsoft-managed keys",
    },
    SeededDestination {
        account: "stdataarchive",
        subscription: "contoso-data",
        story: "customer-managed key in RBAC vault kv-contoso-data-arc, but its identity lost its role assignment",
    },
];

/// Builds the estate through the emulator's ARM API.
pub async fn seed(arm: &Seeder) -> anyhow::Result<()> {
    for (id, name) in SUBSCRIPTIONS {
        arm.subscription(id, name).await?;
    }

    // The central account, in its own subscription, receiving everyone's log.
    let central = arm
        .storage_account(
            LOGGING,
            "rg-logging",
            "stcontosoactlogs",
            LOCATION,
            json!({"team": "platform", "purpose": "activity-log"}),
        )
        .await?;
    for (subscription, _) in SUBSCRIPTIONS {
        arm.diagnostic_setting(subscription, "activity-to-central", &central)
            .await?;
    }
    // The platform team's management group exports its own activity log
    // (changes to the hierarchy, policy) to the same account.
    arm.management_group(PLATFORM_GROUP, "Contoso platform", &[LOGGING])
        .await?;
    arm.management_group_setting(PLATFORM_GROUP, "platform-export", &central)
        .await?;

    // prod: a second copy for the security team, already done right.
    let security = arm
        .cmk_account(
            PROD,
            "rg-security",
            "stprodsecurity",
            "kv-contoso-prod-sec",
            "activity-log-key",
            LOCATION,
            false,
            json!({"team": "security"}),
        )
        .await?;
    arm.diagnostic_setting(PROD, "activity-to-security", &security.account_id)
        .await?;

    // dev: an account with a system-assigned identity it uses for something else.
    let dev_audit = arm
        .storage_account(
            DEV,
            "rg-dev-audit",
            "stdevaudit",
            LOCATION,
            json!({"team": "dev"}),
        )
        .await?;
    arm.system_identity(&dev_audit).await?;
    arm.diagnostic_setting(DEV, "activity-to-devaudit", &dev_audit)
        .await?;

    // data: a legacy log profile to an account of its own ...
    let legacy = arm
        .storage_account(
            DATA,
            "rg-data-logs",
            "stdatalegacy",
            LOCATION,
            json!({"team": "data"}),
        )
        .await?;
    arm.log_profile(DATA, "default", &legacy).await?;

    // ... and an archive on a CMK whose identity lost its key role in a
    // clean-up of role assignments.
    let archive = arm
        .cmk_account(
            DATA,
            "rg-data-archive",
            "stdataarchive",
            "kv-contoso-data-arc",
            "archive-key",
            LOCATION,
            true,
            json!({"team": "data"}),
        )
        .await?;
    if let Some(assignment) = &archive.role_assignment_id {
        arm.delete_role_assignment(assignment).await?;
    }
    arm.diagnostic_setting(DATA, "activity-to-archive", &archive.account_id)
        .await?;
    Ok(())
}
