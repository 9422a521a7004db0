//! Properties of the plan file (`src/plan/file.rs`): a saved plan loads back
//! identical however it is reformatted; random damage to a saved file never
//! yields a different plan, and nothing makes `load` panic.

use actlog_cmk::plan::file::{self, load, save};
use actlog_cmk::plan::*;
use actlog_cmk::plan::{
    AccessPolicyGrant, Address, IdentityCreate, KeyCreate, PurgeProtection, RoleAssignmentGrant,
    StorageSwitch, VaultCreate,
};
use proptest::prelude::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const SUB: &str = "11111111-1111-1111-1111-111111111111";

/// Any text, escapes and non-ASCII included.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![3 => "[a-zA-Z0-9 ._/-]{0,16}", 1 => "\\PC{0,8}", 1 => any::<String>()]
}

fn tags() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map(text(), text(), 0..3)
}

/// Free-form attribute values (`AttributeChange::before`/`after`).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(text(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn principal() -> impl Strategy<Value = Principal> {
    prop_oneof![
        text().prop_map(|principal_id| Principal::Known { principal_id }),
        text().prop_map(|identity_id| Principal::OfIdentity { identity_id }),
    ]
}

fn desired() -> impl Strategy<Value = Desired> {
    prop_oneof![
        (text(), text(), tags()).prop_map(|(id, location, tags)| Desired::Identity(
            IdentityCreate { id, location, tags }
        )),
        (text(), text(), any::<bool>(), tags()).prop_map(
            |(id, location, rbac_authorization, tags)| Desired::KeyVault(VaultCreate {
                id,
                location,
                tenant_id: SUB.into(),
                rbac_authorization,
                tags,
            })
        ),
        text().prop_map(|id| Desired::EnablePurgeProtection(PurgeProtection { id })),
        (
            text(),
            any::<u32>(),
            any::<Option<u32>>(),
            any::<Option<u32>>(),
            tags()
        )
            .prop_map(|(name, key_size, expiry_days, rotation_days, tags)| {
                Desired::Key(KeyCreate {
                    vault_id: "v".into(),
                    name,
                    key_size,
                    expiry_days,
                    rotation_days,
                    tags,
                })
            }),
        principal().prop_map(|principal| Desired::AccessPolicy(AccessPolicyGrant {
            vault_id: "v".into(),
            tenant_id: SUB.into(),
            principal,
        })),
        (text(), principal(), text()).prop_map(|(id, principal, description)| {
            Desired::RoleAssignment(RoleAssignmentGrant {
                id,
                scope: "s".into(),
                role_definition_id: "r".into(),
                principal,
                description,
            })
        }),
        (
            prop::collection::vec(text(), 0..3),
            prop::collection::vec(text(), 0..2),
            text()
        )
            .prop_map(
                |(user_assigned_identities, dropped_identities, identity_id)| {
                    Desired::StorageEncryption(StorageSwitch {
                        account_id: "a".into(),
                        identity_type: "UserAssigned".into(),
                        user_assigned_identities,
                        dropped_identities,
                        identity_id,
                        key_vault_uri: "https://kv.vault.azure.net/".into(),
                        key_name: "k".into(),
                    })
                }
            ),
    ]
}

fn change() -> impl Strategy<Value = ResourceChange> {
    (
        prop_oneof![Just(Action::Create), Just(Action::Update)],
        prop_oneof![
            Just(Address::Identity),
            Just(Address::KeyVault),
            Just(Address::Key),
            Just(Address::AccessPolicy),
            Just(Address::RoleAssignment),
            Just(Address::StorageAccount),
        ],
        prop::collection::vec((text(), prop::option::of(json_value()), json_value()), 0..3),
        prop::option::of(text()),
        desired(),
    )
        .prop_map(
            |(action, address, attributes, irreversible, desired)| ResourceChange {
                action,
                address,
                id: "/subscriptions/x".into(),
                attributes: attributes
                    .into_iter()
                    .map(|(name, before, after)| AttributeChange {
                        name,
                        // `Some(null)` reads back as `None`: not a plan we make.
                        before: before.filter(|v| !v.is_null()),
                        after,
                    })
                    .collect(),
                irreversible,
                desired,
            },
        )
}

fn observed() -> impl Strategy<Value = Observed> {
    (
        text(),
        prop::option::of(text()),
        prop::collection::vec(text(), 0..3),
        any::<bool>(),
        any::<bool>(),
        prop::option::of((text(), any::<bool>())),
    )
        .prop_map(
            |(location, key_name, user_assigned_identities, key_exists, grant_exists, vault)| {
                Observed {
                    account: ObservedAccount {
                        location,
                        key_source: "Microsoft.Storage".into(),
                        key_name,
                        identity_type: "None".into(),
                        user_assigned_identities,
                        ..Default::default()
                    },
                    identity: None,
                    vault: vault.map(|(id, purge_protection)| ObservedVault {
                        id,
                        vault_uri: "https://kv.vault.azure.net/".into(),
                        rbac_authorization: true,
                        soft_delete: true,
                        purge_protection,
                    }),
                    key_exists,
                    grant_exists,
                }
            },
        )
}

fn account() -> impl Strategy<Value = AccountPlan> {
    (text(), observed(), prop::collection::vec(change(), 0..3)).prop_map(
        |(name, observed, changes)| AccountPlan {
            storage_account_id: format!(
                "/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/{name}"
            ),
            status: PlanStatus::NonCompliant,
            fingerprint: observed.fingerprint(),
            targets: Targets::default(),
            observed,
            changes,
        },
    )
}

fn plan() -> impl Strategy<Value = Plan> {
    (
        prop::collection::vec(account(), 0..3),
        prop::collection::vec((text(), text()), 0..2),
        0i64..4_000_000_000,
        0u32..1_000_000_000,
        tags(),
        prop_oneof![
            Just(PermissionModel::Rbac),
            Just(PermissionModel::AccessPolicy)
        ],
    )
        .prop_map(|(accounts, skipped, secs, nanos, tags, permission_model)| {
            let skipped: Vec<Skipped> = skipped
                .into_iter()
                .map(|(id, reason)| Skipped {
                    storage_account_id: id,
                    status: PlanStatus::Compliant,
                    reason,
                })
                .collect();
            Plan {
                schema_version: SCHEMA_VERSION,
                tool_version: env!("CARGO_PKG_VERSION").into(),
                created_at: chrono::DateTime::from_timestamp(secs, nanos).unwrap_or_default(),
                tenant_id: SUB.into(),
                arm_endpoint: "https://management.azure.com".into(),
                shard: None,
                tenants: Default::default(),
                settings: PlanSettings {
                    key_name: "activity-log-cmk".into(),
                    key_size: 3072,
                    key_expiry_days: None,
                    key_rotation_days: Some(365),
                    permission_model,
                    identity: None,
                    key_vault: None,
                    identity_name_template: "id-{account}-cmk".into(),
                    vault_name_template: "kv-{account}-{hash}".into(),
                    tags,
                },
                summary: PlanSummary::of(&accounts, &skipped),
                accounts,
                skipped,
                unread: vec![],
            }
        })
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(prop::sample::Index, u8),
    Delete(prop::sample::Index),
    Insert(prop::sample::Index, u8),
    Truncate(prop::sample::Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    // Bytes that matter to JSON more often than chance would pick them.
    let byte = prop_oneof![
        any::<u8>(),
        prop::sample::select(b" \n\t{}[]:,\"\\0123456789-.eEtrufalsn".to_vec()),
    ];
    prop_oneof![
        (any::<prop::sample::Index>(), byte.clone()).prop_map(|(i, b)| Mutation::Replace(i, b)),
        any::<prop::sample::Index>().prop_map(Mutation::Delete),
        (any::<prop::sample::Index>(), byte).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<prop::sample::Index>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(bytes: &mut Vec<u8>, m: &Mutation) {
    if bytes.is_empty() {
        return;
    }
    match m {
        Mutation::Replace(i, b) => {
            let i = i.index(bytes.len());
            bytes[i] = *b;
        }
        Mutation::Delete(i) => {
            bytes.remove(i.index(bytes.len()));
        }
        Mutation::Insert(i, b) => bytes.insert(i.index(bytes.len() + 1), *b),
        Mutation::Truncate(i) => bytes.truncate(i.index(bytes.len())),
    }
}

fn saved(plan: &Plan) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("plan.json");
    save(plan, &path).expect("save");
    (dir, path)
}

fn rewrite(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).expect("write");
}

/// The envelope fields `load` checks.
fn envelope(bytes: &[u8]) -> Option<(Value, Value, Value)> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    Some((
        v.get("format")?.clone(),
        v.get("schema_version")?.clone(),
        v.get("checksum")?.clone(),
    ))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn saved_plans_load_back_identical(plan in plan()) {
        let (_dir, path) = saved(&plan);
        prop_assert_eq!(load(&path).expect("load"), plan);
    }

    #[test]
    fn reformatting_a_plan_file_changes_nothing(plan in plan(), pretty in any::<bool>()) {
        let (_dir, path) = saved(&plan);
        let value: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let text = if pretty {
            // Another indentation than the one save uses.
            let mut out = Vec::new();
            let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
            let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
            serde::Serialize::serialize(&value, &mut ser).unwrap();
            out
        } else {
            serde_json::to_vec(&value).unwrap()
        };
        rewrite(&path, &text);
        prop_assert_eq!(load(&path).expect("load"), plan);
    }

    #[test]
    fn damaged_plan_files_never_load_as_another_plan(
        plan in plan(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let (_dir, path) = saved(&plan);
        let original = std::fs::read(&path).unwrap();
        let mut bytes = original.clone();
        for m in &mutations {
            mutate(&mut bytes, m);
        }
        rewrite(&path, &bytes);
        if let Ok(loaded) = load(&path) {
            // Only a change that leaves the plan the same may load:
            // whitespace, another spelling of the same value (`.5` for
            // `.50` seconds), the informational tool version.
            prop_assert_eq!(&loaded, &plan);
            let (now, was) = (envelope(&bytes), envelope(&original));
            prop_assert!(now.is_some());
            prop_assert_eq!(now, was);
        }
    }

    #[test]
    fn random_bytes_never_panic_load(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        rewrite(&path, &bytes);
        prop_assert!(load(&path).is_err());
    }

    #[test]
    fn random_strings_never_panic_load(s in any::<String>()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        rewrite(&path, s.as_bytes());
        prop_assert!(load(&path).is_err());
    }

    /// A well-formed envelope around a random plan body: checked, not trusted.
    #[test]
    fn envelopes_around_random_plans_never_panic_load(
        body in json_value(),
        checksum in prop_oneof![Just(None), text().prop_map(Some)],
        schema_version in prop_oneof![Just(Value::from(1)), json_value()],
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        let mut envelope = serde_json::json!({
            "format": file::FORMAT,
            "schema_version": schema_version,
            "tool_version": "0.1.0",
            "plan": body,
        });
        if let Some(c) = checksum {
            envelope["checksum"] = c.into();
        }
        rewrite(&path, &serde_json::to_vec(&envelope).unwrap());
        prop_assert!(load(&path).is_err());
    }
}
