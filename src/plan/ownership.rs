//! The tags that mark what actlog-cmk created, and for which account: every
//! identity, vault and key the tool makes carries them, apply recognises its
//! own vault and identity by them, and rollback finds its work by them.

use crate::azure::id::StorageAccountId;
use std::collections::BTreeMap;

/// Tags on everything the tool creates: rollback finds its work by them.
pub const TAG_MANAGED_BY: &str = "managed-by";
pub const TAG_MANAGED_BY_VALUE: &str = "actlog-cmk";
pub const TAG_ACCOUNT: &str = "actlog-cmk-account";

/// The tags for a resource made for `account`: the user's extra tags, then
/// the tool's own (which win over a user tag of the same name).
pub fn tags_for(
    account: &StorageAccountId,
    extra: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut tags = extra.clone();
    tags.insert(TAG_MANAGED_BY.into(), TAG_MANAGED_BY_VALUE.into());
    tags.insert(TAG_ACCOUNT.into(), account.id().key());
    tags
}

/// True when `tags` say the tool created the resource for `account`.
pub fn made_for(tags: &BTreeMap<String, String>, account: &StorageAccountId) -> bool {
    tag(tags, TAG_MANAGED_BY).is_some_and(|v| v.eq_ignore_ascii_case(TAG_MANAGED_BY_VALUE))
        && tag(tags, TAG_ACCOUNT).is_some_and(|v| v.eq_ignore_ascii_case(&account.id().key()))
}

/// True when `tags` name `account` (`TAG_ACCOUNT`): a vault found under a
/// name the plan would give is this account's from an earlier run.
pub fn names_account(tags: &BTreeMap<String, String>, account: &StorageAccountId) -> bool {
    tag(tags, TAG_ACCOUNT).is_some_and(|v| v.eq_ignore_ascii_case(&account.id().key()))
}

/// True when both tag sets name the same account (`TAG_ACCOUNT`), as apply
/// checks a vault it finds under the planned name.
pub fn same_account(found: &BTreeMap<String, String>, planned: &BTreeMap<String, String>) -> bool {
    match (tag(found, TAG_ACCOUNT), tag(planned, TAG_ACCOUNT)) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    }
}

/// The description on a role assignment the tool creates for `account`
/// (role assignments take no tags): rollback finds a repair's grant by it.
pub fn grant_description(account: &StorageAccountId) -> String {
    format!("{GRANT_DESCRIPTION_PREFIX}{}", account.id().key())
}

const GRANT_DESCRIPTION_PREFIX: &str = "created by actlog-cmk for ";

/// True when a role assignment's description says the tool created it for
/// `account` (ids compared without case, as Azure does).
pub fn grant_made_for(description: Option<&str>, account: &StorageAccountId) -> bool {
    description.is_some_and(|d| d.trim().eq_ignore_ascii_case(&grant_description(account)))
}

/// A tag's value; Azure keeps tag names as written but compares them ignoring case.
fn tag<'a>(tags: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    tags.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(name: &str) -> StorageAccountId {
        StorageAccountId::parse(&format!(
            "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/{name}"
        ))
        .expect("an account id")
    }

    #[test]
    fn the_tools_tags_mark_the_account_they_were_made_for() {
        let extra = BTreeMap::from([("team".to_string(), "ops".to_string())]);
        let tags = tags_for(&account("st1"), &extra);
        assert_eq!(tags["team"], "ops");
        assert!(made_for(&tags, &account("st1")));
        assert!(!made_for(&tags, &account("st2")));
        assert!(!made_for(&extra, &account("st1")));
        let shouted: BTreeMap<String, String> = tags
            .iter()
            .map(|(k, v)| (k.to_ascii_uppercase(), v.to_ascii_uppercase()))
            .collect();
        assert!(made_for(&shouted, &account("st1")));
        assert!(same_account(&shouted, &tags));
        assert!(!same_account(&extra, &tags));
    }

    #[test]
    fn a_grants_description_marks_the_account_it_was_made_for() {
        let made = grant_description(&account("st1"));
        assert!(made.starts_with("created by actlog-cmk for /subscriptions/"));
        assert!(grant_made_for(Some(&made), &account("st1")));
        assert!(grant_made_for(Some(&made.to_uppercase()), &account("st1")));
        assert!(!grant_made_for(Some(&made), &account("st2")));
        assert!(!grant_made_for(Some("granted by hand"), &account("st1")));
        assert!(!grant_made_for(None, &account("st1")));
    }
}
