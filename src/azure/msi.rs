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
    let properties = identity.properties.unwrap_or_default();
    Ok(Identity {
        id: id.clone(),
        location: identity.tracked_resource.location,
        principal_id: properties.principal_id,
        client_id: properties.client_id,
        tenant_id: properties.tenant_id,
    })
}
