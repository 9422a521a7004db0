//! Which Azure cloud the emulator presents itself as (`emulator --cloud`):
//! the public cloud, US Government or China. The cloud decides what its
//! `GET /metadata/endpoints` answers (as ARM describes its own cloud), which
//! token audiences Entra issues and ARM accepts, where the sign-in endpoint
//! is served, and the DNS suffix of every vault's `vaultUri`. A client that
//! assumes the public cloud anywhere fails against the other two, as it
//! would in Azure.
//!
//! The sign-in host of another cloud is served under a path named after it
//! (`{endpoint}/login.microsoftonline.us/{tenant}/oauth2/v2.0/token`): a
//! client reaches it only through the metadata's `loginEndpoint` (or by
//! being told), never by assuming the emulator's root.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A cloud the emulator can be.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "camelCase")]
pub enum EmulatedCloud {
    /// Azure's public cloud (management.azure.com, login.microsoftonline.com, vault.azure.net).
    #[default]
    Public,
    /// Azure US Government (management.usgovcloudapi.net, login.microsoftonline.us, vault.usgovcloudapi.net).
    Usgovernment,
    /// Azure China (management.chinacloudapi.cn, login.chinacloudapi.cn, vault.azure.cn).
    China,
}

impl EmulatedCloud {
    pub fn is_public(&self) -> bool {
        *self == EmulatedCloud::Public
    }

    /// The name in `--cloud`.
    pub fn flag_value(self) -> &'static str {
        match self {
            EmulatedCloud::Public => "public",
            EmulatedCloud::Usgovernment => "usgovernment",
            EmulatedCloud::China => "china",
        }
    }

    /// Entra ID's host in this cloud.
    pub fn login_host(self) -> &'static str {
        match self {
            EmulatedCloud::Public => "login.microsoftonline.com",
            EmulatedCloud::Usgovernment => "login.microsoftonline.us",
            EmulatedCloud::China => "login.chinacloudapi.cn",
        }
    }

    /// Where the emulator serves this cloud's sign-in endpoint, below its
    /// root: nothing for the public cloud (as it always has), the login
    /// host's name for the others.
    pub fn authority_path(self) -> &'static str {
        match self {
            EmulatedCloud::Public => "",
            EmulatedCloud::Usgovernment => "/login.microsoftonline.us",
            EmulatedCloud::China => "/login.chinacloudapi.cn",
        }
    }

    /// The authority host a client of the emulator at `endpoint` signs in at.
    pub fn authority_host(self, endpoint: &str) -> String {
        format!(
            "{}{}",
            endpoint.trim_end_matches('/'),
            self.authority_path()
        )
    }

    /// The management audiences this cloud's ARM accepts, as its metadata
    /// lists them (the `management.core` one first, as Azure does).
    pub fn audiences(self) -> [&'static str; 2] {
        match self {
            EmulatedCloud::Public => [
                "https://management.core.windows.net/",
                "https://management.azure.com/",
            ],
            EmulatedCloud::Usgovernment => [
                "https://management.core.usgovcloudapi.net/",
                "https://management.usgovcloudapi.net/",
            ],
            EmulatedCloud::China => [
                "https://management.core.chinacloudapi.cn/",
                "https://management.chinacloudapi.cn/",
            ],
        }
    }

    /// Whether `audience` (a resource, or a scope without `/.default`; a
    /// trailing slash or none) is a management audience of this cloud.
    pub fn accepts_audience(self, audience: &str) -> bool {
        let audience = audience.trim_end_matches('/');
        self.audiences()
            .iter()
            .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(audience))
    }

    /// The scope a client asks for to call this cloud's ARM.
    pub fn scope(self) -> String {
        format!("{}.default", self.audiences()[1])
    }

    /// The DNS suffix of this cloud's key vaults, without a leading dot.
    pub fn key_vault_dns(self) -> &'static str {
        match self {
            EmulatedCloud::Public => "vault.azure.net",
            EmulatedCloud::Usgovernment => "vault.usgovcloudapi.net",
            EmulatedCloud::China => "vault.azure.cn",
        }
    }

    fn storage_dns(self) -> &'static str {
        match self {
            EmulatedCloud::Public => "core.windows.net",
            EmulatedCloud::Usgovernment => "core.usgovcloudapi.net",
            EmulatedCloud::China => "core.chinacloudapi.cn",
        }
    }

    fn acr_dns(self) -> &'static str {
        match self {
            EmulatedCloud::Public => "azurecr.io",
            EmulatedCloud::Usgovernment => "azurecr.us",
            EmulatedCloud::China => "azurecr.cn",
        }
    }

    /// The metadata's `name`: the public one keeps the name Azure CLI
    /// clients of the emulator registered it under.
    fn metadata_name(self) -> &'static str {
        match self {
            EmulatedCloud::Public => "ActlogCmkEmulator",
            EmulatedCloud::Usgovernment => "ActlogCmkEmulatorUSGovernment",
            EmulatedCloud::China => "ActlogCmkEmulatorChina",
        }
    }

    /// `GET /metadata/endpoints`: the cloud description `az cloud register`
    /// and the tool read, for the emulator at `endpoint` (2022-09-01's shape:
    /// one object for this cloud).
    pub fn metadata_endpoints(self, endpoint: &str) -> Value {
        let endpoint = endpoint.trim_end_matches('/');
        json!({
            "galleryEndpoint": "",
            "graphEndpoint": "",
            "portalEndpoint": "",
            "graphAudience": "",
            "authentication": {
                "loginEndpoint": format!("{}/", self.authority_host(endpoint)),
                "audiences": self.audiences(),
                "tenant": "common",
                "identityProvider": "AAD"
            },
            "name": self.metadata_name(),
            "suffixes": {
                "keyVaultDns": self.key_vault_dns(),
                "storage": self.storage_dns(),
                "acrLoginServer": self.acr_dns()
            },
            "resourceManager": format!("{endpoint}/"),
            "activeDirectoryDataLake": "",
            "sqlManagement": "",
            "batch": "",
            "microsoftGraphResourceId": "",
            "vmImageAliasDoc": "",
            "media": "",
            "logAnalyticsResourceId": "",
            "sqlServerHostname": "",
            "ossrDbmsResourceId": "",
            "appInsightsResourceId": "",
            "appInsightsTelemetryChannelResourceId": "",
            "synapseAnalyticsResourceId": "",
            "attestationResourceId": "",
            "portal": ""
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cloud_accepts_only_its_own_audiences() {
        let public = EmulatedCloud::Public;
        let gov = EmulatedCloud::Usgovernment;
        assert!(public.accepts_audience("https://management.azure.com"));
        assert!(public.accepts_audience("https://management.core.windows.net/"));
        assert!(!public.accepts_audience("https://management.usgovcloudapi.net/"));
        assert!(gov.accepts_audience("https://management.usgovcloudapi.net"));
        assert!(gov.accepts_audience("https://management.core.usgovcloudapi.net/"));
        assert!(!gov.accepts_audience("https://management.azure.com/"));
        assert!(!EmulatedCloud::China.accepts_audience("https://management.azure.com"));
        assert_eq!(gov.scope(), "https://management.usgovcloudapi.net/.default");
    }

    #[test]
    fn metadata_points_at_the_clouds_sign_in_path_and_suffixes() {
        let answer = EmulatedCloud::China.metadata_endpoints("https://127.0.0.1:8443");
        assert_eq!(
            answer["authentication"]["loginEndpoint"],
            "https://127.0.0.1:8443/login.chinacloudapi.cn/"
        );
        assert_eq!(
            answer["authentication"]["audiences"][0],
            "https://management.core.chinacloudapi.cn/"
        );
        assert_eq!(answer["suffixes"]["keyVaultDns"], "vault.azure.cn");
        assert_eq!(answer["resourceManager"], "https://127.0.0.1:8443/");
        let public = EmulatedCloud::Public.metadata_endpoints("https://127.0.0.1:8443");
        assert_eq!(
            public["authentication"]["loginEndpoint"],
            "https://127.0.0.1:8443/"
        );
        assert_eq!(public["suffixes"]["keyVaultDns"], "vault.azure.net");
    }
}
