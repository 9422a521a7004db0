//! Rules every resource provider shares: regions, tags, resource ids.

use crate::emulator::error::ArmError;
use serde_json::{Map, Value};

/// Azure public-cloud regions a resource may be placed in (lower case, no spaces).
pub const REGIONS: &[&str] = &[
    "australiacentral",
    "australiaeast",
    "australiasoutheast",
    "brazilsouth",
    "canadacentral",
    "canadaeast",
    "centralindia",
    "centralus",
    "eastasia",
    "eastus",
    "eastus2",
    "francecentral",
    "germanywestcentral",
    "israelcentral",
    "italynorth",
    "japaneast",
    "japanwest",
    "koreacentral",
    "koreasouth",
    "mexicocentral",
    "northcentralus",
    "northeurope",
    "norwayeast",
    "polandcentral",
    "qatarcentral",
    "southafricanorth",
    "southcentralus",
    "southeastasia",
    "southindia",
    "spaincentral",
    "swedencentral",
    "switzerlandnorth",
    "uaenorth",
    "uksouth",
    "ukwest",
    "westcentralus",
    "westeurope",
    "westindia",
    "westus",
    "westus2",
    "westus3",
];

/// `"East US"` -> `"eastus"`, as ARM normalises locations in responses.
pub fn normalize_location(location: &str) -> String {
    location
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// The body's `location`, required and a known region; normalised.
pub fn required_location(
    body: &Map<String, Value>,
    resource_type: &str,
) -> Result<String, ArmError> {
    let Some(location) = body
        .get("location")
        .and_then(Value::as_str)
        .filter(|l| !l.is_empty())
    else {
        return Err(ArmError::bad_request(
            "LocationRequired",
            "The location property is required for this definition.",
        ));
    };
    let normalized = normalize_location(location);
    if !REGIONS.contains(&normalized.as_str()) {
        return Err(ArmError::bad_request(
            "LocationNotAvailableForResourceType",
            format!(
                "The provided location '{location}' is not available for resource type '{resource_type}'. List of available regions for the resource type is '{}'.",
                REGIONS.join(",")
            ),
        ));
    }
    Ok(normalized)
}

/// The body's `tags`, validated as ARM does (at most 50; names <= 512, values <= 256 characters).
pub fn tags(body: &Map<String, Value>) -> Result<Option<Map<String, Value>>, ArmError> {
    let Some(value) = body.get("tags") else {
        return Ok(None);
    };
    let tags = match value {
        Value::Null => return Ok(None),
        Value::Object(map) => map,
        _ => return Err(ArmError::invalid_request_content("tags must be an object")),
    };
    if tags.len() > 50 {
        return Err(ArmError::bad_request(
            "InvalidTag",
            "The tags count '51' exceeds the maximum tags limit of '50'.",
        ));
    }
    for (name, value) in tags {
        let Some(text) = value.as_str() else {
            return Err(ArmError::bad_request(
                "InvalidTagValue",
                format!("The value of tag '{name}' must be a string."),
            ));
        };
        if name.is_empty()
            || name.len() > 512
            || name.contains(['<', '>', '%', '&', '\\', '?', '/'])
        {
            return Err(ArmError::bad_request(
                "InvalidTagNameCharacters",
                format!("The tag name '{name}' is invalid."),
            ));
        }
        if text.len() > 256 {
            return Err(ArmError::bad_request(
                "InvalidTagValueLength",
                format!("The tag value '{text}' exceeds the maximum length of '256'."),
            ));
        }
    }
    Ok(Some(tags.clone()))
}

/// A resource id in ARM's canonical casing:
/// `/subscriptions/{s}/resourceGroups/{rg}/providers/{namespace}/{type}/{name}`.
pub fn resource_id(
    subscription: &str,
    resource_group: &str,
    provider_type: &str,
    name: &str,
) -> String {
    format!("/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/{provider_type}/{name}")
}

/// The key a resource is stored under: ids are case-insensitive in ARM.
pub fn key(id: &str) -> String {
    id.trim_end_matches('/').to_ascii_lowercase()
}

/// True for a GUID in its 8-4-4-4-12 form.
pub fn is_guid(s: &str) -> bool {
    uuid::Uuid::try_parse(s).is_ok() && s.len() == 36
}

/// `/subscriptions/{s}/resourcegroups/{rg}/...` -> `(s, rg)`, in any casing.
pub fn subscription_and_group(id: &str) -> Option<(String, String)> {
    let segments: Vec<&str> = id.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        [subs, sub, groups, group, ..]
            if subs.eq_ignore_ascii_case("subscriptions")
                && groups.eq_ignore_ascii_case("resourceGroups") =>
        {
            Some(((*sub).to_string(), (*group).to_string()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn locations_are_required_known_and_normalised() {
        let body = json!({"location": "West Europe"});
        assert_eq!(
            required_location(body.as_object().unwrap(), "t").unwrap(),
            "westeurope"
        );
        let err =
            required_location(json!({"location": "moon"}).as_object().unwrap(), "t").unwrap_err();
        assert_eq!(err.code, "LocationNotAvailableForResourceType");
        let err = required_location(json!({}).as_object().unwrap(), "t").unwrap_err();
        assert_eq!(err.code, "LocationRequired");
    }

    #[test]
    fn tags_are_bounded() {
        let many: Map<String, Value> = (0..51).map(|i| (format!("k{i}"), json!("v"))).collect();
        let body = json!({"tags": many});
        assert_eq!(
            tags(body.as_object().unwrap()).unwrap_err().code,
            "InvalidTag"
        );
        let body = json!({"tags": {"a": 1}});
        assert!(tags(body.as_object().unwrap()).is_err());
        let body = json!({"tags": {"tool": "actlog-cmk"}});
        assert_eq!(tags(body.as_object().unwrap()).unwrap().unwrap().len(), 1);
    }

    #[test]
    fn resource_group_is_read_from_any_id_casing() {
        assert_eq!(
            subscription_and_group("/subscriptions/s/resourcegroups/RG/providers/x/y/z"),
            Some(("s".into(), "RG".into()))
        );
        assert_eq!(subscription_and_group("/subscriptions/s"), None);
    }
}
