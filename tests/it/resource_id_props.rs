//! Properties of resource-id parsing (`src/azure/id.rs`): it never panics;
//! what it accepts round-trips and has the documented shape; well-formed
//! ids in any casing are accepted.

use actlog_cmk::azure::id::{ResourceId, StorageAccountId};
use proptest::prelude::*;

/// A GUID, sometimes upper-case.
fn guid() -> impl Strategy<Value = String> {
    (any::<u128>(), any::<bool>()).prop_map(|(n, upper)| {
        let g = uuid::Uuid::from_u128(n).hyphenated().to_string();
        if upper {
            g.to_ascii_uppercase()
        } else {
            g
        }
    })
}

/// `word` in a random ASCII casing.
fn casing(word: &'static str) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<bool>(), word.len()).prop_map(move |upper| {
        word.chars()
            .zip(upper)
            .map(|(c, u)| if u { c.to_ascii_uppercase() } else { c })
            .collect()
    })
}

/// A name as ARM allows in a segment: anything but `/`, not empty.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-zA-Z0-9._()-]{1,24}",
        1 => "[^/]{1,12}",
    ]
}

fn well_formed_storage_id() -> impl Strategy<Value = String> {
    (
        casing("subscriptions"),
        guid(),
        casing("resourceGroups"),
        name(),
        casing("providers"),
        casing("Microsoft.Storage"),
        casing("storageAccounts"),
        name(),
    )
        .prop_map(|(s, sub, g, rg, p, ns, t, n)| format!("/{s}/{sub}/{g}/{rg}/{p}/{ns}/{t}/{n}"))
}

/// Segments that are often right, sometimes wrong: close to the shape, so
/// the parser's later checks are reached too.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        casing("subscriptions"),
        casing("resourceGroups"),
        casing("providers"),
        casing("Microsoft.Storage"),
        casing("storageAccounts"),
        casing("Microsoft.KeyVault"),
        casing("vaults"),
        guid(),
        name(),
        Just(String::new()),
        Just("{11111111-1111-1111-1111-111111111111}".to_string()),
        Just("11111111111111111111111111111111".to_string()),
    ]
}

fn id_like() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(segment(), 0..12),
        any::<bool>(),
        0usize..3,
    )
        .prop_map(|(segments, leading, trailing)| {
            let mut s = String::new();
            if leading {
                s.push('/');
            }
            s.push_str(&segments.join("/"));
            s.push_str(&"/".repeat(trailing));
            s
        })
}

fn any_id() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => any::<String>(),
        3 => id_like(),
        2 => well_formed_storage_id(),
    ]
}

fn is_guid(s: &str) -> bool {
    s.len() == 36 && uuid::Uuid::try_parse(s).is_ok()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn accepted_ids_round_trip(x in any_id()) {
        if let Ok(id) = ResourceId::parse(&x) {
            prop_assert_eq!(id.as_str(), x.trim_end_matches('/'));
            prop_assert_eq!(id.to_string(), id.as_str());
            prop_assert_eq!(id.key(), id.as_str().to_ascii_lowercase());
            prop_assert!(is_guid(&id.subscription_id));
            prop_assert_eq!(&id.subscription_id, &id.subscription_id.to_ascii_lowercase());
            prop_assert!(!id.types.is_empty());
            prop_assert_eq!(id.types.len(), id.names.len());
            prop_assert!(!id.name().is_empty());
            let again = ResourceId::parse(id.as_str()).expect("an accepted id parses again");
            prop_assert_eq!(&again, &id);
            prop_assert_eq!(again.as_str(), id.as_str());
        }
    }

    #[test]
    fn accepted_storage_ids_have_a_guid_and_end_with_the_account(x in any_id()) {
        if let Ok(account) = StorageAccountId::parse(&x) {
            let text = account.id().as_str();
            prop_assert_eq!(text, x.trim_end_matches('/'));
            prop_assert!(is_guid(account.subscription_id()));
            let suffix = format!("/storageAccounts/{}", account.name());
            let tail = &text[text.len() - suffix.len()..];
            prop_assert!(tail.eq_ignore_ascii_case(&suffix), "{} does not end with {}", text, suffix);
            prop_assert!(!account.name().is_empty() && !account.name().contains('/'));
            prop_assert!(account.id().is_type("Microsoft.Storage/storageAccounts"));
            prop_assert!(ResourceId::parse(&x).is_ok());
        }
    }

    #[test]
    fn well_formed_storage_ids_are_accepted(x in well_formed_storage_id(), trailing in any::<bool>()) {
        let x = if trailing { format!("{x}/") } else { x };
        let account = StorageAccountId::parse(&x);
        prop_assert!(account.is_ok(), "{:?}", account);
        let account = account.unwrap();
        let segments: Vec<&str> = x.trim_end_matches('/').split('/').collect();
        prop_assert_eq!(account.name(), segments[8]);
        prop_assert_eq!(account.resource_group(), segments[4]);
        prop_assert_eq!(account.subscription_id(), segments[2].to_ascii_lowercase());
    }

    #[test]
    fn parse_never_panics(x in any::<String>()) {
        let _ = ResourceId::parse(&x);
        let _ = StorageAccountId::parse(&x);
    }

    #[test]
    fn errors_name_the_id(x in id_like()) {
        if let Err(e) = StorageAccountId::parse(&x) {
            prop_assert_eq!(&e.id, &x);
            prop_assert_eq!(e.expected, "storage account");
            prop_assert!(!e.why.is_empty());
        }
    }
}
