//! `Subscriptions_ListLocations` and `Tenants_List`: what Azure CLI and the
//! Python SDK ask at start-up (`az account list-locations`, a scanner's tenant
//! discovery), in the shapes of the 2022-12-01 spec and its examples.

use crate::emulator::context::Ctx;
use crate::emulator::error::ArmError;
use crate::emulator::providers::common::REGIONS;
use crate::emulator::reply::Reply;
use serde_json::{json, Value};

/// Each region the emulator places resources in: its display name and
/// geography group, as Azure's location list shows them.
const DISPLAY: &[(&str, &str, &str)] = &[
    ("australiacentral", "Australia Central", "Asia Pacific"),
    ("australiaeast", "Australia East", "Asia Pacific"),
    ("australiasoutheast", "Australia Southeast", "Asia Pacific"),
    ("brazilsouth", "Brazil South", "South America"),
    ("canadacentral", "Canada Central", "Canada"),
    ("canadaeast", "Canada East", "Canada"),
    ("centralindia", "Central India", "Asia Pacific"),
    ("centralus", "Central US", "US"),
    ("eastasia", "East Asia", "Asia Pacific"),
    ("eastus", "East US", "US"),
    ("eastus2", "East US 2", "US"),
    ("francecentral", "France Central", "Europe"),
    ("germanywestcentral", "Germany West Central", "Europe"),
    ("israelcentral", "Israel Central", "Middle East"),
    ("italynorth", "Italy North", "Europe"),
    ("japaneast", "Japan East", "Asia Pacific"),
    ("japanwest", "Japan West", "Asia Pacific"),
    ("koreacentral", "Korea Central", "Asia Pacific"),
    ("koreasouth", "Korea South", "Asia Pacific"),
    ("mexicocentral", "Mexico Central", "Mexico"),
    ("northcentralus", "North Central US", "US"),
    ("northeurope", "North Europe", "Europe"),
    ("norwayeast", "Norway East", "Europe"),
    ("polandcentral", "Poland Central", "Europe"),
    ("qatarcentral", "Qatar Central", "Middle East"),
    ("southafricanorth", "South Africa North", "Africa"),
    ("southcentralus", "South Central US", "US"),
    ("southeastasia", "Southeast Asia", "Asia Pacific"),
    ("southindia", "South India", "Asia Pacific"),
    ("spaincentral", "Spain Central", "Europe"),
    ("swedencentral", "Sweden Central", "Europe"),
    ("switzerlandnorth", "Switzerland North", "Europe"),
    ("uaenorth", "UAE North", "Middle East"),
    ("uksouth", "UK South", "Europe"),
    ("ukwest", "UK West", "Europe"),
    ("westcentralus", "West Central US", "US"),
    ("westeurope", "West Europe", "Europe"),
    ("westindia", "West India", "Asia Pacific"),
    ("westus", "West US", "US"),
    ("westus2", "West US 2", "US"),
    ("westus3", "West US 3", "US"),
];

/// Every region of `REGIONS`, in its order, for an existing subscription (the
/// pipeline has checked it). Physical regions only: the emulator has no
/// logical ones.
pub(super) fn list_locations(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let subscription = ctx.param("subscriptionId").to_ascii_lowercase();
    let value: Vec<Value> = REGIONS
        .iter()
        .filter_map(|name| DISPLAY.iter().find(|(n, ..)| n == name))
        .map(|(name, display, group)| {
            json!({
                "id": format!("/subscriptions/{subscription}/locations/{name}"),
                "name": name,
                "type": "Region",
                "displayName": display,
                "regionalDisplayName": format!("({group}) {display}"),
                "metadata": {"regionType": "Physical", "geographyGroup": group},
            })
        })
        .collect();
    Ok(Reply::ok(json!({ "value": value })))
}

/// The tenants the caller's principal is in, as ARM lists them whichever
/// tenant the token is of: the emulator's home tenant, then each extra tenant
/// that has the principal (`emulator/tenants.rs`). Domains are under
/// `.invalid` (RFC 2606), so nothing can mistake them for a real directory.
/// One page: no `nextLink`, as ARM omits it on the last page.
pub(super) fn list_tenants(ctx: &mut Ctx) -> Result<Reply, ArmError> {
    let value: Vec<Value> = ctx
        .state
        .tenants_of(&ctx.caller)
        .into_iter()
        .enumerate()
        .map(|(i, (tenant, name))| {
            let domain = match i {
                0 => "actlog-cmk-emulator.invalid".to_string(),
                _ => format!("{tenant}.actlog-cmk-emulator.invalid"),
            };
            json!({
                "id": format!("/tenants/{tenant}"),
                "tenantId": tenant,
                "tenantCategory": "Home",
                "displayName": name,
                "domains": [domain],
                "defaultDomain": domain,
                "tenantType": "AAD",
            })
        })
        .collect();
    Ok(Reply::ok(json!({ "value": value })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_region_has_a_display_name() {
        for region in REGIONS {
            assert!(
                DISPLAY.iter().any(|(name, ..)| name == region),
                "{region} has no display name"
            );
        }
        assert_eq!(DISPLAY.len(), REGIONS.len());
    }
}
