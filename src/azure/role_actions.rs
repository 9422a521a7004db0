//! Azure RBAC's evaluation of a role definition's permissions, pure: which
//! actions a role grants, by Azure's wildcard rules. The audit judges a
//! custom role's key access with it, `permissions` checks its own roles
//! with it, and the emulator's storage asks it the same question, so the
//! tool and its test double cannot disagree on what a role grants.
//!
//! Azure's rules (Microsoft Learn, "Understand Azure role definitions"):
//! matching is case-insensitive; `*` stands for any run of characters
//! (`*`, `*/read`, `Microsoft.KeyVault/*`, `Microsoft.KeyVault/vaults/*/read`);
//! an action is granted by a permission when one of its `dataActions` (or
//! `actions`) matches and none of *that same permission's* `notDataActions`
//! (`notActions`) do. `notDataActions` are no deny: another permission or
//! another role assignment can still grant what one permission leaves out.

use serde::{Deserialize, Serialize};

/// The key data actions Azure Storage needs on a customer-managed key: get
/// (read), wrapKey and unwrapKey in access-policy terms.
pub const KEY_DATA_ACTIONS: [&str; 3] = [
    "Microsoft.KeyVault/vaults/keys/read",
    "Microsoft.KeyVault/vaults/keys/wrap/action",
    "Microsoft.KeyVault/vaults/keys/unwrap/action",
];

/// One entry of a role definition's `permissions`, as ARM answers it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Permission {
    #[serde(default)]
    pub actions: Vec<String>,
    #[serde(default)]
    pub not_actions: Vec<String>,
    #[serde(default)]
    pub data_actions: Vec<String>,
    #[serde(default)]
    pub not_data_actions: Vec<String>,
}

impl Permission {
    /// Grants the data-plane `action`: a `dataActions` entry matches it and
    /// no `notDataActions` entry of this permission does.
    pub fn grants_data_action(&self, action: &str) -> bool {
        self.data_actions.iter().any(|p| action_matches(p, action))
            && !self
                .not_data_actions
                .iter()
                .any(|p| action_matches(p, action))
    }
}

/// Whether any of a role's permissions grants the data-plane `action`.
pub fn grants_data_action(permissions: &[Permission], action: &str) -> bool {
    permissions.iter().any(|p| p.grants_data_action(action))
}

/// The key data actions (of [`KEY_DATA_ACTIONS`]) these permissions grant.
pub fn key_actions_granted(permissions: &[Permission]) -> Vec<&'static str> {
    KEY_DATA_ACTIONS
        .into_iter()
        .filter(|action| grants_data_action(permissions, action))
        .collect()
}

/// Azure's matching of a permission against an operation: case-insensitive,
/// `*` stands for any run of characters (`*/read`, `Microsoft.KeyVault/*`,
/// `Microsoft.KeyVault/vaults/*/read`).
pub fn action_matches(pattern: &str, action: &str) -> bool {
    let pattern: Vec<char> = pattern.to_lowercase().chars().collect();
    let action: Vec<char> = action.to_lowercase().chars().collect();
    // Classic glob matching with backtracking to the last `*`.
    let (mut p, mut a) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while a < action.len() {
        if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, a));
            p += 1;
        } else if p < pattern.len() && pattern[p] == action[a] {
            p += 1;
            a += 1;
        } else if let Some((sp, sa)) = star {
            p = sp + 1;
            a = sa + 1;
            star = Some((sp, sa + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const READ: &str = KEY_DATA_ACTIONS[0];
    const WRAP: &str = KEY_DATA_ACTIONS[1];
    const UNWRAP: &str = KEY_DATA_ACTIONS[2];

    fn permission(data_actions: &[&str], not_data_actions: &[&str]) -> Permission {
        Permission {
            data_actions: data_actions.iter().map(|s| s.to_string()).collect(),
            not_data_actions: not_data_actions.iter().map(|s| s.to_string()).collect(),
            ..Permission::default()
        }
    }

    #[test]
    fn wildcards_and_case_follow_azure() {
        for (pattern, action, matches) in [
            ("Microsoft.KeyVault/vaults/keys/wrap/action", WRAP, true),
            ("microsoft.keyvault/VAULTS/keys/Wrap/Action", WRAP, true),
            ("Microsoft.KeyVault/vaults/keys/*", UNWRAP, true),
            ("Microsoft.KeyVault/vaults/*", READ, true),
            ("Microsoft.KeyVault/*", WRAP, true),
            ("*", UNWRAP, true),
            ("Microsoft.KeyVault/vaults/*/read", READ, true),
            ("*/read", "Microsoft.Storage/storageAccounts/read", true),
            ("Microsoft.KeyVault/vaults/*/read", WRAP, false),
            (
                "Microsoft.KeyVault/vaults/*/read",
                "Microsoft.KeyVault/vaults/read",
                false,
            ),
            ("Microsoft.KeyVault/vaults/secrets/*", READ, false),
            ("Microsoft.KeyVault/vaults/keys/wrap/action", UNWRAP, false),
            (
                "Microsoft.KeyVault/vaults/keys/read",
                "Microsoft.KeyVault/vaults/keys/readx",
                false,
            ),
            (
                "Microsoft.KeyVault/vaults/keys/read",
                "Microsoft.KeyVault/vaults/keys/rea",
                false,
            ),
            ("Microsoft.Storage/*", READ, false),
            ("", READ, false),
        ] {
            assert_eq!(
                action_matches(pattern, action),
                matches,
                "{pattern} vs {action}"
            );
        }
    }

    #[test]
    fn not_data_actions_take_away_only_within_their_permission() {
        let without_unwrap = permission(
            &["Microsoft.KeyVault/vaults/keys/*"],
            &["Microsoft.KeyVault/vaults/keys/unwrap/action"],
        );
        assert_eq!(
            key_actions_granted(std::slice::from_ref(&without_unwrap)),
            [READ, WRAP]
        );
        // A wildcard in notDataActions, in another casing, takes all of them.
        let nothing = permission(&["*"], &["MICROSOFT.KEYVAULT/*"]);
        assert!(key_actions_granted(&[nothing]).is_empty());
        // notDataActions are no deny: another permission of the role still grants.
        let both = [without_unwrap, permission(&[UNWRAP], &[])];
        assert_eq!(key_actions_granted(&both), KEY_DATA_ACTIONS);
    }

    #[test]
    fn control_plane_actions_grant_no_data_action() {
        // Owner: every action, no data action: no key access on an RBAC vault.
        let owner = Permission {
            actions: vec!["*".into()],
            ..Permission::default()
        };
        assert!(key_actions_granted(&[owner]).is_empty());
        assert!(key_actions_granted(&[]).is_empty());
    }

    #[test]
    fn a_role_with_exactly_the_three_actions_grants_them() {
        let custom = permission(&[READ, WRAP, UNWRAP], &[]);
        assert_eq!(key_actions_granted(&[custom]), KEY_DATA_ACTIONS);
        let two = permission(&[READ, WRAP], &[]);
        assert_eq!(key_actions_granted(&[two]), [READ, WRAP]);
    }
}
