//! Names of what the tool creates, from templates (`--identity-name`,
//! `--vault-name`, or the config file). Names are stable from run to run: the
//! same account always gets the same names, so a rerun finds what an earlier
//! run created. `{hash}` is a short digest of the account id, which keeps
//! vault names (global across Azure) apart for accounts of the same name.

use crate::azure::id::StorageAccountId;
use sha2::{Digest, Sha256};

pub const DEFAULT_IDENTITY_TEMPLATE: &str = "id-{account}-cmk";
pub const DEFAULT_VAULT_TEMPLATE: &str = "kv-{account}-{hash}";
pub const DEFAULT_KEY_NAME: &str = "activity-log-cmk";
/// Fallback vault names tried when a name is taken.
pub const VAULT_NAME_ATTEMPTS: usize = 5;

const VAULT_MAX: usize = 24;
const IDENTITY_MAX: usize = 128;

/// Six hex digits of SHA-256 over the lower-case account id (and the attempt).
pub fn short_hash(account: &StorageAccountId, attempt: usize) -> String {
    let mut input = account.id().key();
    if attempt > 0 {
        input.push_str(&format!("#{attempt}"));
    }
    Sha256::digest(input.as_bytes())
        .iter()
        .take(3)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn render(
    template: &str,
    account: &StorageAccountId,
    location: &str,
    name: &str,
    hash: &str,
) -> String {
    template
        .replace("{account}", name)
        .replace("{resource_group}", account.resource_group())
        .replace("{subscription}", account.subscription_id())
        .replace("{location}", location)
        .replace("{hash}", hash)
}

/// Key Vault names: 3-24 of `[a-z0-9-]`, starting with a letter, ending with
/// a letter or digit, no `--`.
pub fn is_valid_vault_name(name: &str) -> bool {
    (3..=VAULT_MAX).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
        && !name.contains("--")
}

fn tidy(name: &str) -> String {
    let mut out = String::new();
    for c in name.to_ascii_lowercase().chars() {
        let c = if c.is_ascii_alphanumeric() { c } else { '-' };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    out.trim_matches('-').to_string()
}

/// The vault name for `account` on attempt `attempt` (0 is the preferred
/// name; later attempts change `{hash}`, or append `-N` when the template has
/// none). The account part is shortened until the name fits 24 characters.
pub fn vault_name(
    template: &str,
    account: &StorageAccountId,
    location: &str,
    attempt: usize,
) -> Result<String, String> {
    let hash = short_hash(account, attempt);
    let template = if attempt > 0 && !template.contains("{hash}") {
        format!("{template}-{attempt}")
    } else {
        template.to_string()
    };
    let full = account.name();
    for len in (1..=full.len()).rev() {
        let name = tidy(&render(&template, account, location, &full[..len], &hash));
        if is_valid_vault_name(&name) {
            return Ok(name);
        }
        if name.len() <= VAULT_MAX {
            break;
        }
    }
    Err(format!(
        "the vault name template '{template}' gives no valid Key Vault name for {account} (3-24 letters, digits and hyphens, starting with a letter)"
    ))
}

/// The identity name for `account`: 3-128 of letters, digits, `-` and `_`.
pub fn identity_name(
    template: &str,
    account: &StorageAccountId,
    location: &str,
) -> Result<String, String> {
    let name: String = render(
        template,
        account,
        location,
        account.name(),
        &short_hash(account, 0),
    )
    .chars()
    .map(|c| {
        if c.is_ascii_alphanumeric() || c == '_' {
            c
        } else {
            '-'
        }
    })
    .collect();
    let valid = (3..=IDENTITY_MAX).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric());
    valid.then_some(name).ok_or_else(|| {
        format!("the identity name template '{template}' gives no valid name for {account}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(name: &str) -> StorageAccountId {
        StorageAccountId::parse(&format!(
            "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-logs/providers/Microsoft.Storage/storageAccounts/{name}"
        ))
        .unwrap()
    }

    #[test]
    fn names_are_stable_and_fit_azure_rules() {
        let a = account("stcentrallogs");
        let first = vault_name(DEFAULT_VAULT_TEMPLATE, &a, "westeurope", 0).unwrap();
        assert_eq!(
            first,
            vault_name(DEFAULT_VAULT_TEMPLATE, &a, "westeurope", 0).unwrap()
        );
        assert!(first.starts_with("kv-stcentrallogs-"), "{first}");
        assert!(is_valid_vault_name(&first));
        let long = account("averyveryverylongaccount");
        let name = vault_name(DEFAULT_VAULT_TEMPLATE, &long, "westeurope", 0).unwrap();
        assert_eq!(name.len(), 24, "{name}");
        assert!(
            name.starts_with("kv-averyvery") && is_valid_vault_name(&name),
            "{name}"
        );
        assert_eq!(
            identity_name(DEFAULT_IDENTITY_TEMPLATE, &a, "westeurope").unwrap(),
            "id-stcentrallogs-cmk"
        );
    }

    #[test]
    fn fallbacks_differ_from_the_preferred_name_and_each_other() {
        let a = account("stlogs");
        let names: Vec<String> = (0..VAULT_NAME_ATTEMPTS)
            .map(|i| vault_name(DEFAULT_VAULT_TEMPLATE, &a, "westeurope", i).unwrap())
            .collect();
        let unique: std::collections::BTreeSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        let plain = vault_name("kv-{account}", &a, "x", 2).unwrap();
        assert_eq!(plain, "kv-stlogs-2");
    }

    #[test]
    fn accounts_with_the_same_name_in_different_places_get_different_vaults() {
        let a = account("stlogs");
        let b = StorageAccountId::parse("/subscriptions/22222222-2222-2222-2222-222222222222/resourceGroups/rg-logs/providers/Microsoft.Storage/storageAccounts/stlogs").unwrap();
        assert_ne!(
            vault_name(DEFAULT_VAULT_TEMPLATE, &a, "x", 0).unwrap(),
            vault_name(DEFAULT_VAULT_TEMPLATE, &b, "x", 0).unwrap()
        );
    }

    #[test]
    fn vault_name_rules() {
        for good in ["kv1", "kv-a-1", "abcdefghijklmnopqrstuvwx"] {
            assert!(is_valid_vault_name(good), "{good}");
        }
        for bad in [
            "kv",
            "1kv",
            "kv-",
            "kv--a",
            "kv_a",
            "abcdefghijklmnopqrstuvwxy",
        ] {
            assert!(!is_valid_vault_name(bad), "{bad}");
        }
    }
}
