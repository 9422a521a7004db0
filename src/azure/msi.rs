//! User-assigned managed identities (2023-01-31), sent by azure_mgmt_msi and
//! read tolerantly
//! (`answer.rs`): an `isolationScope` or property no spec lists yet never
//! makes an identity unreadable.

use super::answer::{tags, text};
use super::id::ResourceId;
use super::{Arm, AzureError};
use serde_json::Value;
use std::collections::BTreeMap;

pub const API: &str = "2023-01-31";
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub id: ResourceId,
    pub location: String,
    pub principal_id: Option<String>,
    pub client_id: Option<String>,
    pub tenant_id: Option<String>,
    /// Read by rollback to recognise the tool's own identity by id when
    /// ARM's resource index does not list it yet.
    pub tags: BTreeMap<String, String>,
}

pub async fn get_identity(arm: &Arm, id: &ResourceId) -> Result<Identity, AzureError> {
    let client = arm.msi()?;
    let sent = client
        .user_assigned_identities_client()
        .get(&id.subscription_id, &id.resource_group, id.name())
        .send()
        .await
        .map(|r| r.into_raw_response());
    let answer = arm
        .generated_answer(sent, &format!("managed identity {id}"))
        .await?;
    identity_from_json(id, answer)
}

/// An identity as a read or a write answered it.
pub fn identity_from_json(id: &ResourceId, answer: Value) -> Result<Identity, AzureError> {
    if !answer.is_object() {
        return Err(AzureError::Unexpected {
            resource: format!("managed identity {id}"),
            detail: "the answer does not read as one: it is not a JSON object".to_string(),
        });
    }
    Ok(Identity {
        id: id.clone(),
        location: text(&answer, "/location").unwrap_or_default(),
        principal_id: text(&answer, "/properties/principalId"),
        client_id: text(&answer, "/properties/clientId"),
        tenant_id: text(&answer, "/properties/tenantId"),
        tags: tags(answer.get("tags")),
    })
}

/// PUT a user-assigned identity (200/201 with its principal id).
pub fn create_identity(
    id: &str,
    location: &str,
    tags: &BTreeMap<String, String>,
) -> super::request::Request {
    super::request::Request::new(
        super::request::Method::Put,
        format!("{id}?api-version={API}"),
        Some(serde_json::json!({"location": location, "tags": tags})),
        format!("managed identity {id}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn identities_read_with_values_no_spec_lists() {
        let id = ResourceId::parse("/subscriptions/11111111-1111-1111-1111-111111111111/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id1").unwrap();
        let identity = identity_from_json(
            &id,
            json!({"location": "westeurope", "properties": {"principalId": "p", "clientId": "c",
                "tenantId": "t", "isolationScope": "Galactic", "somethingNew": [1]},
                "tags": {"managed-by": "actlog-cmk"}}),
        )
        .unwrap();
        assert_eq!(identity.principal_id.as_deref(), Some("p"));
        assert_eq!(identity.client_id.as_deref(), Some("c"));
        assert_eq!(identity.tags["managed-by"], "actlog-cmk");
    }
}
