//! The machine-readable views against their schemas:
//!
//! - `audit_json` against docs/schemas/audit.schema.json, which must describe
//!   exactly what serde writes (every status, reason code and source kind, no
//!   field left out, none too many);
//! - `audit_sarif` against the official OASIS SARIF 2.1.0 schema.
//!
//! Where the SARIF schema comes from: the `serde-sarif` crate (a dev-dependency,
//! pinned in Cargo.toml and checksummed in Cargo.lock) ships the official
//! `sarif-schema-2.1.0.json` as its `src/schema.json`, the file its build script
//! generates its types from. Cargo has therefore already downloaded it to build
//! this test, and `cargo metadata` tells where the crate's sources are, whatever
//! CARGO_HOME, vendoring or registry mirror is in use. No network, no Node, no
//! copy in this repository that could drift or be edited to pass. (npm packages
//! were the alternative: the ones that ship the schema at all ship the
//! pre-release rtm.5 draft, and would need Node and an install step.)
//! `ACTLOG_CMK_SARIF_SCHEMA` may name the file instead.
//!
//! The validators are proven live: broken documents must fail.

use crate::support;

use support::schemas::*;

use crate::support::audit_fixtures::ALL_CODES;
use actlog_cmk::audit::report::{
    AuditReport, Destination, Encryption, ManagementGroupAudit, Reason, ReasonCode, Source,
    SourceKind, Status, SubscriptionAudit, Summary, Warning, SCHEMA_VERSION,
};
use actlog_cmk::render::{audit_json, audit_sarif};
use chrono::Utc;
use serde_json::{json, Value};
use std::path::Path;

const SUB1: &str = "11111111-1111-1111-1111-111111111111";
const SUB2: &str = "22222222-2222-2222-2222-222222222222";
const SUB3: &str = "33333333-3333-3333-3333-333333333333";

const ALL_STATUSES: [Status; 5] = [
    Status::Compliant,
    Status::NonCompliant,
    Status::CmkBroken,
    Status::Unreadable,
    Status::Missing,
];

const ALL_KINDS: [SourceKind; 3] = [
    SourceKind::DiagnosticSetting,
    SourceKind::LogProfile,
    SourceKind::ManagementGroupDiagnosticSetting,
];

/// Fails to compile when a variant is added: list it in the arrays above too
/// (reason codes: `ALL_CODES` and its `position` in `support::audit_fixtures`).
#[allow(dead_code)]
fn every_variant_is_listed(status: Status, kind: SourceKind) {
    match status {
        Status::Compliant
        | Status::NonCompliant
        | Status::CmkBroken
        | Status::Unreadable
        | Status::Missing => {}
    }
    match kind {
        SourceKind::DiagnosticSetting
        | SourceKind::LogProfile
        | SourceKind::ManagementGroupDiagnosticSetting => {}
    }
}

fn account(name: &str) -> String {
    format!("/subscriptions/{SUB1}/resourceGroups/rg-logs/providers/Microsoft.Storage/storageAccounts/{name}")
}

fn reason(code: ReasonCode) -> Reason {
    Reason {
        code,
        message: format!("{} on the account: see docs/output.md", code.as_str()),
    }
}

fn source(subscription: &str, kind: SourceKind, name: &str, categories: &[&str]) -> Source {
    Source {
        subscription_id: subscription.to_string(),
        management_group_id: None,
        kind,
        name: name.to_string(),
        enabled_categories: categories.iter().map(|c| c.to_string()).collect(),
    }
}

fn keyvault(full: bool) -> Encryption {
    Encryption {
        key_source: "Microsoft.Keyvault".to_string(),
        key_vault_uri: Some("https://kv-logs.vault.azure.net/".to_string()),
        key_vault_id: full.then(|| {
            format!("/subscriptions/{SUB1}/resourceGroups/rg-logs/providers/Microsoft.KeyVault/vaults/kv-logs")
        }),
        key_name: Some("cmk|logs".to_string()),
        key_version: full.then(|| "0123456789abcdef0123456789abcdef".to_string()),
        identity: full.then(|| {
            format!("/subscriptions/{SUB1}/resourceGroups/rg-logs/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-logs")
        }),
    }
}

/// Every status, every reason code, every source kind, every optional field
/// both set and absent; `|`, quotes and non-ASCII in names and messages.
fn full_report() -> AuditReport {
    let codes = |range: std::ops::Range<usize>| -> Vec<Reason> {
        ALL_CODES[range].iter().map(|&c| reason(c)).collect()
    };
    let destinations = vec![
        Destination {
            storage_account_id: account("compliant"),
            status: Status::Compliant,
            reasons: vec![],
            sources: vec![
                source(
                    SUB1,
                    SourceKind::DiagnosticSetting,
                    "to-logs",
                    &["Administrative", "Security", "Policy"],
                ),
                source(SUB2, SourceKind::LogProfile, "default", &[]),
            ],
            encryption: Some(keyvault(true)),
        },
        Destination {
            storage_account_id: account("microsoftkeys"),
            status: Status::NonCompliant,
            reasons: codes(0..1),
            sources: vec![source(
                SUB1,
                SourceKind::DiagnosticSetting,
                "no|categories \"quoted\"",
                &[],
            )],
            encryption: Some(Encryption {
                key_source: "Microsoft.Storage".to_string(),
                key_vault_uri: None,
                key_vault_id: None,
                key_name: None,
                key_version: None,
                identity: None,
            }),
        },
        Destination {
            storage_account_id: account("novaultproperties"),
            status: Status::NonCompliant,
            reasons: codes(1..2),
            sources: vec![source(
                SUB1,
                SourceKind::DiagnosticSetting,
                "to-novault",
                &["Administrative"],
            )],
            encryption: Some(Encryption {
                key_source: "Microsoft.Keyvault".to_string(),
                key_vault_uri: None,
                key_vault_id: None,
                key_name: None,
                key_version: None,
                identity: None,
            }),
        },
        Destination {
            storage_account_id: account("broken"),
            status: Status::CmkBroken,
            // Every CMK rule, plus the gaps a broken account may also have.
            reasons: codes(2..15).into_iter().chain(codes(16..17)).collect(),
            sources: vec![
                source(
                    SUB1,
                    SourceKind::DiagnosticSetting,
                    "zu-den-Protokollen-é",
                    &["Administrative"],
                ),
                Source {
                    subscription_id: String::new(),
                    management_group_id: Some("contoso-platform".to_string()),
                    kind: SourceKind::ManagementGroupDiagnosticSetting,
                    name: "mg-activity".to_string(),
                    enabled_categories: vec!["Administrative".to_string()],
                },
            ],
            encryption: Some(keyvault(false)),
        },
        Destination {
            storage_account_id: account("denied"),
            status: Status::Unreadable,
            reasons: codes(14..15),
            sources: vec![source(SUB2, SourceKind::LogProfile, "default", &[])],
            encryption: None,
        },
        Destination {
            storage_account_id: account("failed"),
            status: Status::Unreadable,
            reasons: codes(16..17),
            sources: vec![source(
                SUB2,
                SourceKind::DiagnosticSetting,
                "to-failed",
                &["Security"],
            )],
            encryption: None,
        },
        Destination {
            storage_account_id: account("gone"),
            status: Status::Missing,
            reasons: codes(15..16),
            sources: vec![source(SUB1, SourceKind::LogProfile, "old", &[])],
            encryption: None,
        },
    ];
    let subscriptions = vec![
        SubscriptionAudit {
            subscription_id: SUB1.to_string(),
            tenant_id: None,
            complete: true,
            errors: vec![],
        },
        SubscriptionAudit {
            subscription_id: SUB2.to_string(),
            tenant_id: None,
            complete: false,
            errors: vec!["listing diagnostic settings was denied (403): grant Microsoft.Insights/DiagnosticSettings/Read".to_string()],
        },
        SubscriptionAudit {
            subscription_id: SUB3.to_string(),
            tenant_id: None,
            complete: false,
            errors: vec![],
        },
    ];
    AuditReport {
        schema_version: SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        // Now, with sub-second digits, as a real run writes it.
        generated_at: Utc::now(),
        arm_endpoint: "https://management.azure.com".to_string(),
        coverage: Default::default(),
        summary: Summary::of(&subscriptions, &destinations),
        subscriptions,
        management_groups: vec![ManagementGroupAudit {
            management_group_id: "contoso-platform".to_string(),
            complete: false,
            errors: vec!["cannot read the diagnostic settings of management group contoso-platform: access denied".to_string()],
        }],
        destinations,
        warnings: vec![
            Warning {
                subscription_id: Some(SUB1.to_string()),
                message: "log profile 'old' is retired: move to a diagnostic setting".to_string(),
            },
            Warning {
                subscription_id: None,
                message: "a warning about no subscription in particular".to_string(),
            },
        ],
    }
}

fn empty_report() -> AuditReport {
    let subscriptions = vec![SubscriptionAudit {
        subscription_id: SUB1.to_string(),
        tenant_id: None,
        complete: true,
        errors: vec![],
    }];
    AuditReport {
        schema_version: SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        generated_at: "2024-05-01T10:20:30Z".parse().unwrap(),
        arm_endpoint: "https://management.azure.com".to_string(),
        coverage: Default::default(),
        summary: Summary::of(&subscriptions, &[]),
        subscriptions,
        management_groups: vec![],
        destinations: vec![],
        warnings: vec![],
    }
}

fn audit_schema() -> Value {
    read_json(&Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schemas/audit.schema.json"))
}

fn rendered_json(report: &AuditReport) -> Value {
    serde_json::from_str(&audit_json(report)).expect("audit_json writes JSON")
}

#[test]
fn audit_json_matches_its_schema() {
    let schema = audit_schema();
    assert_eq!(
        schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
        "draft 2020-12"
    );
    let validator = validator(&schema);
    assert_valid(
        &validator,
        &rendered_json(&full_report()),
        "the full report",
    );
    assert_valid(
        &validator,
        &rendered_json(&empty_report()),
        "the empty report",
    );
}

#[test]
fn audit_schema_names_every_value_of_the_model() {
    let schema = audit_schema();
    let names = |values: Vec<Value>| -> Vec<String> {
        values
            .into_iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    let enum_of = |def: &Value| names(def["enum"].as_array().expect("an enum").clone());
    assert_eq!(
        enum_of(&schema["$defs"]["status"]),
        names(ALL_STATUSES.iter().map(|s| json!(s)).collect())
    );
    assert_eq!(
        enum_of(&schema["$defs"]["reason_code"]),
        names(ALL_CODES.iter().map(|c| json!(c)).collect())
    );
    assert_eq!(
        enum_of(&schema["$defs"]["source"]["properties"]["kind"]),
        names(ALL_KINDS.iter().map(|k| json!(k)).collect())
    );
    assert_eq!(
        schema["properties"]["schema_version"]["const"],
        json!(SCHEMA_VERSION)
    );

    // The full report uses them all, so the validation above covers them.
    let report = rendered_json(&full_report());
    let used = |pointer: &str| -> Vec<String> {
        let mut seen: Vec<String> = Vec::new();
        collect(&report, pointer, &mut seen);
        seen.sort();
        seen.dedup();
        seen
    };
    assert_eq!(used("destinations/*/status").len(), ALL_STATUSES.len());
    assert_eq!(used("destinations/*/reasons/*/code").len(), ALL_CODES.len());
    assert_eq!(used("destinations/*/sources/*/kind").len(), ALL_KINDS.len());
}

/// Strings found at `path` (`*` for every element of an array).
fn collect(value: &Value, path: &str, out: &mut Vec<String>) {
    let (head, rest) = path.split_once('/').unwrap_or((path, ""));
    let next: Vec<&Value> = if head == "*" {
        value
            .as_array()
            .map(|a| a.iter().collect())
            .unwrap_or_default()
    } else {
        value.get(head).into_iter().collect()
    };
    for v in next {
        if rest.is_empty() {
            out.push(v.as_str().unwrap_or_default().to_string());
        } else {
            collect(v, rest, out);
        }
    }
}

#[test]
fn audit_schema_rejects_what_serde_never_writes() {
    let validator = validator(&audit_schema());
    let good = rendered_json(&full_report());
    let broken = |what: &str, change: &dyn Fn(&mut Value)| {
        let mut value = good.clone();
        change(&mut value);
        assert_invalid(&validator, &value, what);
    };
    // An unknown field on every kind of object.
    for pointer in [
        "",
        "/summary",
        "/subscriptions/0",
        "/destinations/0",
        "/destinations/0/reasons/0",
        "/destinations/1/reasons/0",
        "/destinations/0/sources/0",
        "/destinations/0/encryption",
        "/warnings/0",
        "/management_groups/0",
    ] {
        if pointer == "/destinations/0/reasons/0" {
            continue; // compliant: no reason to extend
        }
        broken(&format!("an extra field at '{pointer}'"), &|v| {
            v.pointer_mut(pointer).unwrap()["surprise"] = json!(true);
        });
    }
    // Every required field.
    for (pointer, field) in [
        ("", "schema_version"),
        ("", "tool_version"),
        ("", "generated_at"),
        ("", "arm_endpoint"),
        ("", "summary"),
        ("", "subscriptions"),
        ("", "destinations"),
        ("", "warnings"),
        ("/summary", "incomplete"),
        ("/summary", "missing"),
        ("/subscriptions/0", "errors"),
        ("/subscriptions/0", "complete"),
        ("/destinations/0", "storage_account_id"),
        ("/destinations/0", "status"),
        ("/destinations/0", "reasons"),
        ("/destinations/0", "sources"),
        ("/destinations/1/reasons/0", "code"),
        ("/destinations/1/reasons/0", "message"),
        ("/destinations/0/sources/0", "enabled_categories"),
        ("/destinations/0/sources/0", "kind"),
        ("/destinations/0/encryption", "key_source"),
        ("/warnings/0", "message"),
        ("/management_groups/0", "complete"),
        ("/destinations/0/sources/0", "subscription_id"),
        ("/destinations/3/sources/1", "management_group_id"),
    ] {
        broken(&format!("'{pointer}' without '{field}'"), &|v| {
            v.pointer_mut(pointer)
                .unwrap()
                .as_object_mut()
                .unwrap()
                .remove(field)
                .expect("the field is there to remove");
        });
    }
    broken("schema_version 2", &|v| v["schema_version"] = json!(2));
    broken("an unknown status", &|v| {
        v["destinations"][0]["status"] = json!("fine")
    });
    broken("an unknown reason code", &|v| {
        v["destinations"][1]["reasons"][0]["code"] = json!("bad_vibes")
    });
    broken("an unknown source kind", &|v| {
        v["destinations"][0]["sources"][0]["kind"] = json!("activity_log_alert")
    });
    broken("a subscription's setting naming a management group", &|v| {
        v["destinations"][0]["sources"][0]["management_group_id"] = json!("mg")
    });
    broken("a management group's setting naming a subscription", &|v| {
        v["destinations"][3]["sources"][1]["subscription_id"] = json!(SUB1)
    });
    broken("a null for an absent option", &|v| {
        v["destinations"][4]["encryption"] = json!(null)
    });
    broken("a null key version", &|v| {
        v["destinations"][1]["encryption"]["key_version"] = json!(null)
    });
    broken("a negative count", &|v| {
        v["summary"]["compliant"] = json!(-1)
    });
    broken("a time that is no time", &|v| {
        v["generated_at"] = json!("yesterday")
    });
    broken("a finding without a reason", &|v| {
        v["destinations"][1]["reasons"] = json!([])
    });
}

fn rendered_sarif(report: &AuditReport) -> Value {
    serde_json::from_str(&audit_sarif(report)).expect("audit_sarif writes JSON")
}

#[test]
fn sarif_matches_the_official_schema() {
    let validator = sarif_validator();
    let full = rendered_sarif(&full_report());
    assert_valid(&validator, &full, "the full report's SARIF");
    assert_valid(
        &validator,
        &rendered_sarif(&empty_report()),
        "the empty report's SARIF",
    );

    // Every reason code became a rule, every non-compliant (destination, reason) a result.
    let run = &full["runs"][0];
    assert_eq!(
        run["tool"]["driver"]["rules"].as_array().unwrap().len(),
        ALL_CODES.len()
    );
    let expected_results: usize = full_report()
        .destinations
        .iter()
        .filter(|d| d.status != Status::Compliant)
        .map(|d| d.reasons.len())
        .sum();
    assert_eq!(run["results"].as_array().unwrap().len(), expected_results);
}

#[test]
fn sarif_validation_catches_broken_logs() {
    let validator = sarif_validator();
    let good = rendered_sarif(&full_report());
    let broken = |what: &str, change: &dyn Fn(&mut Value)| {
        let mut value = good.clone();
        change(&mut value);
        assert_invalid(&validator, &value, what);
    };
    broken("a result without a message", &|v| {
        v["runs"][0]["results"][0]
            .as_object_mut()
            .unwrap()
            .remove("message");
    });
    broken("an unknown level", &|v| {
        v["runs"][0]["results"][0]["level"] = json!("fatal")
    });
    broken("another SARIF version", &|v| v["version"] = json!("2.0.0"));
    broken("an unknown property on a run", &|v| {
        v["runs"][0]["surprise"] = json!(1)
    });
    broken("a driver without a name", &|v| {
        v["runs"][0]["tool"]["driver"]
            .as_object_mut()
            .unwrap()
            .remove("name");
    });
    broken("a negative rule index", &|v| {
        v["runs"][0]["results"][0]["ruleIndex"] = json!(-2)
    });
    broken("an informationUri that is no URI", &|v| {
        v["runs"][0]["tool"]["driver"]["informationUri"] = json!("not a uri")
    });
}

/// What GitHub code scanning requires of an uploaded SARIF file beyond the
/// OASIS schema, as "SARIF support for code scanning" lists it
/// (https://docs.github.com/en/code-security/reference/code-scanning/sarif-files/sarif-support-for-code-scanning,
/// "Supported properties", "File compatibility" and its limits table) and the
/// Microsoft SARIF validator checks it with its GitHub ingestion rules (GH1001
/// a location with `physicalLocation.artifactLocation.uri`, GH1003
/// `region.startLine`, GH1005 relative or `file:` URIs). Required properties
/// must not be empty strings. Returns every violation, empty when accepted.
pub(crate) fn github_ingestion_violations(log: &Value) -> Vec<String> {
    let mut violations = Vec::new();
    let mut require = |ok: bool, what: String| {
        if !ok {
            violations.push(what);
        }
    };
    let text = |v: &Value| v.as_str().is_some_and(|s| !s.trim().is_empty());
    let positive = |v: &Value| v.as_u64().is_some_and(|n| n >= 1);

    require(text(&log["$schema"]), "$schema is required".into());
    require(log["version"] == "2.1.0", "version must be 2.1.0".into());
    let runs = log["runs"].as_array().cloned().unwrap_or_default();
    require(log["runs"].is_array(), "runs[] is required".into());
    require(
        runs.len() <= 20,
        format!("{} runs: at most 20 per file", runs.len()),
    );
    for (r, run) in runs.iter().enumerate() {
        let driver = &run["tool"]["driver"];
        require(
            text(&driver["name"]),
            format!("runs/{r}: tool.driver.name is required"),
        );
        let rules = driver["rules"].as_array().cloned().unwrap_or_default();
        require(
            driver["rules"].is_array(),
            format!("runs/{r}: tool.driver.rules[] is required"),
        );
        require(
            rules.len() <= 25_000,
            format!("runs/{r}: {} rules: at most 25,000", rules.len()),
        );
        for (i, rule) in rules.iter().enumerate() {
            let at = format!("runs/{r}/rules/{i}");
            require(text(&rule["id"]), format!("{at}: id is required"));
            for field in ["shortDescription", "fullDescription", "help"] {
                require(
                    text(&rule[field]["text"]),
                    format!("{at}: {field}.text is required"),
                );
            }
            for field in ["shortDescription", "fullDescription"] {
                let length = rule[field]["text"]
                    .as_str()
                    .map_or(0, |s| s.chars().count());
                require(
                    length <= 1024,
                    format!("{at}: {field}.text over 1024 characters"),
                );
            }
            let name = rule["name"].as_str().map_or(0, |s| s.chars().count());
            require(name <= 255, format!("{at}: name over 255 characters"));
            let tags = rule["properties"]["tags"].as_array().map_or(0, Vec::len);
            require(tags <= 20, format!("{at}: {tags} tags: at most 20"));
        }
        let results = run["results"].as_array().cloned().unwrap_or_default();
        require(
            run["results"].is_array(),
            format!("runs/{r}: results[] is required"),
        );
        require(
            results.len() <= 25_000,
            format!("runs/{r}: {} results: at most 25,000", results.len()),
        );
        for (i, result) in results.iter().enumerate() {
            let at = format!("runs/{r}/results/{i}");
            require(
                text(&result["message"]["text"]),
                format!("{at}: message.text is required"),
            );
            if let Some(index) = result["ruleIndex"].as_u64() {
                let listed = rules.get(index as usize).map(|rule| &rule["id"]);
                require(
                    listed == Some(&result["ruleId"]),
                    format!("{at}: ruleIndex does not point to ruleId's rule"),
                );
            }
            require(
                text(&result["partialFingerprints"]["primaryLocationLineHash"]),
                format!("{at}: partialFingerprints.primaryLocationLineHash is required"),
            );
            let locations = result["locations"].as_array().cloned().unwrap_or_default();
            require(
                !locations.is_empty(),
                format!("{at}: expected at least one location (GH1001)"),
            );
            require(
                locations.len() <= 1000,
                format!("{at}: {} locations: at most 1,000", locations.len()),
            );
            for (l, location) in locations.iter().enumerate() {
                let physical = &location["physicalLocation"];
                let uri = &physical["artifactLocation"]["uri"];
                require(
                    text(uri),
                    format!("{at}/locations/{l}: physicalLocation.artifactLocation.uri is required (GH1001)"),
                );
                let uri = uri.as_str().unwrap_or_default();
                let absolute = uri.contains("://") || uri.starts_with('/');
                require(
                    !absolute || uri.starts_with("file:"),
                    format!(
                        "{at}/locations/{l}: '{uri}' is neither relative nor a file: URI (GH1005)"
                    ),
                );
                let region = &physical["region"];
                for field in ["startLine", "startColumn", "endLine", "endColumn"] {
                    require(
                        positive(&region[field]),
                        format!("{at}/locations/{l}: region.{field} is required (GH1003)"),
                    );
                }
            }
        }
    }
    violations
}

#[test]
fn sarif_passes_githubs_ingestion_rules() {
    for (what, report) in [("full", full_report()), ("empty", empty_report())] {
        let violations = github_ingestion_violations(&rendered_sarif(&report));
        assert!(
            violations.is_empty(),
            "the {what} report's SARIF: {violations:#?}"
        );
    }
}

#[test]
fn githubs_ingestion_rules_catch_what_github_rejects() {
    let good = rendered_sarif(&full_report());
    let broken = |what: &str, change: &dyn Fn(&mut Value)| {
        let mut value = good.clone();
        change(&mut value);
        assert!(
            !github_ingestion_violations(&value).is_empty(),
            "accepted {what}"
        );
    };
    let first_location = "/runs/0/results/0/locations/0";
    broken("a result with only a logical location", &|v| {
        let location = v
            .pointer_mut(first_location)
            .unwrap()
            .as_object_mut()
            .unwrap();
        location.remove("physicalLocation");
    });
    broken("a result without locations", &|v| {
        v["runs"][0]["results"][0]["locations"] = json!([])
    });
    broken("an empty artifact URI", &|v| {
        v.pointer_mut(first_location).unwrap()["physicalLocation"]["artifactLocation"]["uri"] =
            json!("")
    });
    broken("an https URI", &|v| {
        v.pointer_mut(first_location).unwrap()["physicalLocation"]["artifactLocation"]["uri"] =
            json!("https://management.azure.com/subscriptions/x")
    });
    broken("a region without its start line", &|v| {
        v.pointer_mut(first_location).unwrap()["physicalLocation"]["region"]
            .as_object_mut()
            .unwrap()
            .remove("startLine");
    });
    broken("a result without a line hash", &|v| {
        v["runs"][0]["results"][0]["partialFingerprints"]
            .as_object_mut()
            .unwrap()
            .remove("primaryLocationLineHash");
    });
    broken("a rule without a full description", &|v| {
        v["runs"][0]["tool"]["driver"]["rules"][0]
            .as_object_mut()
            .unwrap()
            .remove("fullDescription");
    });
    broken("an empty message", &|v| {
        v["runs"][0]["results"][0]["message"]["text"] = json!("")
    });
    broken("21 runs", &|v| {
        let run = v["runs"][0].clone();
        v["runs"] = json!(vec![run; 21]);
    });
    broken("a rule index pointing elsewhere", &|v| {
        v["runs"][0]["results"][0]["ruleIndex"] = json!(1)
    });
}

/// Alerts track across runs: the same finding gets the same location and
/// fingerprints in another run (another time, the id in another case), and
/// different findings get different ones.
#[test]
fn sarif_locations_and_fingerprints_are_stable_across_runs() {
    let identity = |log: &Value| -> Vec<(Value, Value)> {
        log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["locations"][0]["physicalLocation"]["artifactLocation"].clone(),
                    r["partialFingerprints"].clone(),
                )
            })
            .collect()
    };
    let first = rendered_sarif(&full_report());
    let mut again = full_report();
    again.generated_at = "2030-01-01T00:00:00Z".parse().unwrap();
    for destination in &mut again.destinations {
        destination.storage_account_id = destination
            .storage_account_id
            .replace("resourceGroups/rg-logs", "resourcegroups/RG-LOGS");
    }
    assert_eq!(identity(&first), identity(&rendered_sarif(&again)));

    let results = first["runs"][0]["results"].as_array().unwrap();
    let hashes: std::collections::BTreeSet<&str> = results
        .iter()
        .map(|r| {
            r["partialFingerprints"]["primaryLocationLineHash"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(
        hashes.len(),
        results.len(),
        "one alert per (account, reason)"
    );
    let broken = results
        .iter()
        .find(|r| r["properties"]["status"] == "cmk_broken")
        .unwrap();
    assert_eq!(
        broken["locations"][0]["physicalLocation"]["artifactLocation"],
        json!({
            "uri": format!("azure/subscriptions/{SUB1}/resourcegroups/rg-logs/providers/microsoft.storage/storageaccounts/broken"),
            "uriBaseId": "%SRCROOT%",
        })
    );
    assert!(first["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["description"]["text"].is_string());
}
