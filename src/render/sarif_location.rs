//! Where a SARIF result points, and how it is recognised again next run.
//!
//! GitHub code scanning rejects a whole SARIF file when any result lacks
//! `physicalLocation.artifactLocation.uri` (`locationFromSarifResult: expected
//! at least one location`), and it tells alerts apart across runs by the
//! `primaryLocationLineHash` partial fingerprint. A storage account is no
//! file, so each gets a stable virtual path instead (docs/output.md, "SARIF"):
//!
//! - `uri`: `azure/` followed by the account's resource id in lower case, without
//!   its leading slash, each segment percent-encoded (ARM compares ids
//!   case-insensitively and answers them in varying case; lower case keeps
//!   the path, and with it the alert, the same from run to run). Relative, so
//!   that GitHub takes it as a path in the repository, under `azure/` where no
//!   source file is expected; `uriBaseId` is `%SRCROOT%`, that root.
//! - `region`: line 1, columns 1 to 2: GitHub requires a region, and there is
//!   no text in a resource to point into.
//! - `primaryLocationLineHash`: 16 hex digits of SHA-256 over the lower-cased
//!   account id and the rule id, then `:<n>`, the occurrence of that pair in
//!   the account's reasons (as CodeQL numbers equal line hashes), so that two
//!   reasons with the same code stay two alerts.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The base the artifact URIs are relative to: the repository's root, as
/// GitHub reads every relative path.
pub(super) const URI_BASE_ID: &str = "%SRCROOT%";

/// The run's `originalUriBaseIds`: the base is described, not given, since
/// the checkout's path is not known to the tool (SARIF allows an entry
/// without `uri` when no `uriBaseId` is given either).
pub(super) fn original_uri_base_ids() -> Value {
    json!({
        URI_BASE_ID: {
            "description": {
                "text": "The root of the repository the log is uploaded to. actlog-cmk's results \
                         lie under azure/, one virtual path per storage account (its resource id \
                         in lower case): they are Azure resources, not files."
            }
        }
    })
}

/// The virtual path of a storage account: `azure/subscriptions/<sub>/resourcegroups/...`.
pub(super) fn artifact_uri(account_id: &str) -> String {
    let lower = account_id.to_lowercase();
    let segments: Vec<String> = lower
        .trim_start_matches('/')
        .split('/')
        .map(percent_encode_segment)
        .collect();
    format!("azure/{}", segments.join("/"))
}

/// A result's location: the physical one GitHub needs, and the logical one
/// (the account by its id) that says what it really is.
pub(super) fn account_location(account_id: &str, account_name: &str) -> Value {
    json!({
        "physicalLocation": {
            "artifactLocation": {
                "uri": artifact_uri(account_id),
                "uriBaseId": URI_BASE_ID,
            },
            "region": {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 2},
        },
        "logicalLocations": [{
            "name": account_name,
            "fullyQualifiedName": account_id,
            "kind": "resource",
        }]
    })
}

/// SHA-256, in hex, of the lower-cased account id and the rule id: the same
/// finding on the same account hashes alike in every run.
pub(super) fn finding_hash(account_id: &str, rule_id: &str) -> String {
    let digest = Sha256::digest(format!("{}\n{rule_id}", account_id.to_lowercase()).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The result's `partialFingerprints`; `occurrence` counts from 1.
pub(super) fn partial_fingerprints(account_id: &str, rule_id: &str, occurrence: usize) -> Value {
    let hash = finding_hash(account_id, rule_id);
    json!({
        "primaryLocationLineHash": format!("{}:{occurrence}", &hash[..16]),
        "actlogCmkFinding/v1": hash,
    })
}

/// RFC 3986 path segment: unreserved characters, sub-delimiters, `:` and `@`
/// stay; every other byte of the UTF-8 (a space, `%`, `#`, `?`, non-ASCII
/// letters Azure allows in resource group names) is percent-encoded.
fn percent_encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        let keep = byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&byte);
        if keep {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/RG-Logs/providers/Microsoft.Storage/storageAccounts/stlogs";

    #[test]
    fn the_uri_is_the_lower_case_id_under_azure() {
        assert_eq!(
            artifact_uri(ID),
            "azure/subscriptions/11111111-1111-1111-1111-111111111111/resourcegroups/rg-logs/providers/microsoft.storage/storageaccounts/stlogs"
        );
        assert_eq!(artifact_uri(ID), artifact_uri(&ID.to_uppercase()));
    }

    #[test]
    fn unusual_characters_are_percent_encoded() {
        let id = "/subscriptions/s/resourceGroups/Protokolle (é) #1?/providers/Microsoft.Storage/storageAccounts/a%b";
        assert_eq!(
            artifact_uri(id),
            "azure/subscriptions/s/resourcegroups/protokolle%20(%C3%A9)%20%231%3F/providers/microsoft.storage/storageaccounts/a%25b"
        );
    }

    #[test]
    fn fingerprints_are_stable_and_tell_findings_apart() {
        let first = partial_fingerprints(ID, "key-disabled", 1);
        assert_eq!(
            first,
            partial_fingerprints(&ID.to_lowercase(), "key-disabled", 1)
        );
        let line_hash = first["primaryLocationLineHash"].as_str().unwrap();
        assert_eq!(line_hash.len(), 18);
        assert!(line_hash.ends_with(":1"));
        assert_eq!(first["actlogCmkFinding/v1"].as_str().unwrap().len(), 64);
        for other in [
            partial_fingerprints(ID, "key-expired", 1),
            partial_fingerprints(&ID.replace("stlogs", "stother"), "key-disabled", 1),
            partial_fingerprints(ID, "key-disabled", 2),
        ] {
            assert_ne!(
                other["primaryLocationLineHash"],
                first["primaryLocationLineHash"]
            );
        }
    }
}
