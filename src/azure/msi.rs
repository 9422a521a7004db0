//! User-assigned managed identities, with azure_mgmt_msi (2023-01-31).

use super::id::ResourceId;
use super::{Arm, AzureError};

#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub id: ResourceId,
    pub location: String,
    pub principal_id: Option<String>,
    pub client_id: Option<String>,
    pub tenant_id: Option<String>,
}

pub async fn get_identity(arm: &Arm, id: &ResourceId) -> Result<Identity, AzureError> {
    let resource = format!("managed identity {id}");
    let identity = arm
        .msi()?
        .user_assigned_identities_client()
        .get(&id.subscription_id, &id.resource_group, id.name())
        .await
        .map_err(|e| AzureError::from_core(e, &resource, arm.endpoint().as_str()))?;
    Ok(from_model(id, identity))
}

/// An identity as a write answered it (the same shape as a read's).
pub fn identity_from_json(
    id: &ResourceId,
    body: serde_json::Value,
) -> Result<Identity, AzureError> {
    let identity: azure_mgmt_msi::models::Identity =
        serde_json::from_value(body).map_err(|e| AzureError::Unexpected {
            resource: format!("managed identity {id}"),
            detail: format!("the answer does not read as one: {e}"),
        })?;
    Ok(from_model(id, identity))
}

fn from_model(id: &ResourceId, identity: azure_mgmt_msi::models::Identity) -> Identity {
    let properties = identity.properties.unwrap_or_default();
    Identity {
        id: id.clone(),
        location: identity.tracked_resource.location,
        principal_id: properties.principal_id,
        client_id: properties.client_id,
        tenant_id: properties.tenant_id,
    }
}
