//! Which Azure cloud an ARM endpoint belongs to, and what follows from it:
//! where to sign in (Entra ID's host), the audience a management token is
//! asked for, and the DNS suffix of key vaults. Azure's sovereign clouds
//! differ in all three, so none of them may be the public cloud's by default.
//!
//! Learned as Azure CLI and Terraform learn it: from the endpoint's own
//! `GET {arm}/metadata/endpoints?api-version=2022-09-01` (its
//! `authentication.loginEndpoint`, `authentication.audiences[0]` and
//! `suffixes.keyVaultDns`), and, when the endpoint does not answer that, from
//! a table of the clouds whose ARM host is known. The request carries no
//! token and goes only to the ARM endpoint the user named.

use super::connection::AuthKind;
use super::error::AzureError;
use serde_json::Value;
use std::time::Duration;
use url::Url;

/// The api-version of `/metadata/endpoints` that answers one cloud's object
/// (earlier versions answered a list of every cloud; both are read).
pub const METADATA_API: &str = "2022-09-01";

/// How long the metadata request may take at most (a shorter `--timeout`
/// shortens it): it runs before anything else, so an endpoint that never
/// answers must not hold the command for the request timeout's full minute
/// before the table or the error takes over.
const METADATA_PATIENCE: Duration = Duration::from_secs(10);

/// One cloud's sign-in host, token audience and key vault DNS suffix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cloud {
    /// As the metadata names it (`AzureCloud`, `AzureUSGovernment`, `AzureChinaCloud`).
    pub name: String,
    /// Entra ID's sign-in host (`https://login.microsoftonline.us`), without a trailing slash.
    pub login_endpoint: String,
    /// The resource a management token is issued for, without a trailing slash.
    pub audience: String,
    /// The DNS suffix of key vaults (`vault.usgovcloudapi.net`), without a leading dot.
    pub key_vault_dns: String,
}

/// A cloud whose ARM host the tool knows, for when its metadata does not answer.
struct Known {
    arm_host: &'static str,
    name: &'static str,
    login_endpoint: &'static str,
    audience: &'static str,
    key_vault_dns: &'static str,
}

/// The three clouds Microsoft runs (azure-cli's `AZURE_*_CLOUD` in
/// `azure/cli/core/cloud.py`). The audience is the ARM host itself, which
/// Entra accepts as the management resource in each of them.
const KNOWN: &[Known] = &[
    Known {
        arm_host: "management.azure.com",
        name: "AzureCloud",
        login_endpoint: "https://login.microsoftonline.com",
        audience: "https://management.azure.com",
        key_vault_dns: "vault.azure.net",
    },
    Known {
        arm_host: "management.usgovcloudapi.net",
        name: "AzureUSGovernment",
        login_endpoint: "https://login.microsoftonline.us",
        audience: "https://management.usgovcloudapi.net",
        key_vault_dns: "vault.usgovcloudapi.net",
    },
    Known {
        arm_host: "management.chinacloudapi.cn",
        name: "AzureChinaCloud",
        login_endpoint: "https://login.chinacloudapi.cn",
        audience: "https://management.chinacloudapi.cn",
        key_vault_dns: "vault.azure.cn",
    },
];

impl Cloud {
    /// The public cloud, as the table has it.
    pub fn public() -> Cloud {
        Cloud::from_known(&KNOWN[0])
    }

    fn from_known(known: &Known) -> Cloud {
        Cloud {
            name: known.name.into(),
            login_endpoint: known.login_endpoint.into(),
            audience: known.audience.into(),
            key_vault_dns: known.key_vault_dns.into(),
        }
    }

    /// The cloud of a known ARM host (the built-in table); `None` for any
    /// other endpoint (a proxy, Azure Stack, an emulator).
    pub fn known(endpoint: &Url) -> Option<Cloud> {
        let host = endpoint.host_str()?;
        KNOWN
            .iter()
            .find(|k| k.arm_host.eq_ignore_ascii_case(host))
            .map(Cloud::from_known)
    }

    /// The token scope for ARM in this cloud (`{audience}/.default`).
    pub fn scope(&self) -> String {
        format!("{}/.default", self.audience)
    }

    /// The cloud a `/metadata/endpoints` answer describes for `endpoint`:
    /// the object itself, or, in a list of clouds, the one whose
    /// `resourceManager` is this endpoint's host. The error names what is missing.
    pub fn from_metadata(endpoint: &Url, answer: &Value) -> Result<Cloud, String> {
        let entry = match answer {
            Value::Array(clouds) => clouds
                .iter()
                .find(|c| same_host(c.get("resourceManager"), endpoint))
                .ok_or_else(|| {
                    format!(
                        "its list of clouds has none whose resourceManager is {}",
                        endpoint.host_str().unwrap_or_default()
                    )
                })?,
            other => other,
        };
        let text = |pointer: &str| {
            entry
                .pointer(pointer)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| format!("the answer has no {}", pointer[1..].replace('/', ".")))
        };
        let login_endpoint = text("/authentication/loginEndpoint")?;
        Url::parse(login_endpoint)
            .map_err(|e| format!("its loginEndpoint '{login_endpoint}' is not a URL ({e})"))?;
        Ok(Cloud {
            name: text("/name").unwrap_or("(unnamed)").to_string(),
            login_endpoint: login_endpoint.trim_end_matches('/').to_string(),
            audience: text("/authentication/audiences/0")?
                .trim_end_matches('/')
                .to_string(),
            key_vault_dns: text("/suffixes/keyVaultDns")?
                .trim_start_matches('.')
                .to_ascii_lowercase(),
        })
    }
}

fn same_host(value: Option<&Value>, endpoint: &Url) -> bool {
    value
        .and_then(Value::as_str)
        .and_then(|s| Url::parse(s).ok())
        .is_some_and(|url| {
            url.host_str().map(str::to_ascii_lowercase)
                == endpoint.host_str().map(str::to_ascii_lowercase)
                && url.port_or_known_default() == endpoint.port_or_known_default()
        })
}

/// `GET {endpoint}/metadata/endpoints`, read into a [`Cloud`]; the error says
/// why the endpoint gave none (no answer, a status, a body without the fields).
pub async fn from_endpoint(
    http: &reqwest::Client,
    endpoint: &Url,
    timeout: Duration,
) -> Result<Cloud, String> {
    let mut url = endpoint.clone();
    url.set_path("/metadata/endpoints");
    url.set_query(Some(&format!("api-version={METADATA_API}")));
    let answer = http
        .get(url.clone())
        .timeout(timeout.min(METADATA_PATIENCE))
        .send()
        .await
        .map_err(|e| format!("GET {url} failed: {}", error_chain(&e)))?;
    let status = answer.status();
    if !status.is_success() {
        return Err(format!("GET {url} answered {status}"));
    }
    let body: Value = answer
        .json()
        .await
        .map_err(|e| format!("GET {url} answered something other than JSON ({e})"))?;
    Cloud::from_metadata(endpoint, &body).map_err(|why| format!("GET {url}: {why}"))
}

/// The variable that names the sign-in host, which wins over the cloud's.
pub const AUTHORITY_VARIABLE: &str = "AZURE_AUTHORITY_HOST";

/// The cloud of `endpoint`: its metadata, else the table of known clouds.
/// With neither, an explicit sign-in host (`authority`) or a credential that
/// signs in without one (Azure CLI, managed identity) keeps today's public
/// audience and vault suffix; anything else cannot know where to sign in,
/// and says which endpoint and variable to look at.
pub async fn resolve(
    http: &reqwest::Client,
    endpoint: &Url,
    timeout: Duration,
    authority: Option<&str>,
    auth: AuthKind,
) -> Result<Cloud, AzureError> {
    let metadata = from_endpoint(http, endpoint, timeout).await;
    let cloud = decide(metadata, endpoint, authority, auth)?;
    tracing::debug!(
        cloud = %cloud.name,
        sign_in = %authority.unwrap_or(&cloud.login_endpoint),
        audience = %cloud.audience,
        "the ARM endpoint's cloud"
    );
    Ok(cloud)
}

/// [`resolve`]'s decision, given what the metadata request gave.
fn decide(
    metadata: Result<Cloud, String>,
    endpoint: &Url,
    authority: Option<&str>,
    auth: AuthKind,
) -> Result<Cloud, AzureError> {
    let why = match metadata {
        Ok(cloud) => return Ok(cloud),
        Err(why) => why,
    };
    if let Some(cloud) = Cloud::known(endpoint) {
        tracing::debug!(reason = %why, "no metadata: the cloud from the built-in table");
        return Ok(cloud);
    }
    let signs_in_elsewhere = matches!(auth, AuthKind::AzureCli | AuthKind::ManagedIdentity);
    if authority.is_some() || signs_in_elsewhere {
        tracing::debug!(reason = %why, "unknown cloud: the public cloud's audience and vault suffix");
        return Ok(Cloud::public());
    }
    Err(AzureError::Config(format!(
        "cannot tell which Azure cloud the ARM endpoint {endpoint} belongs to, so not where to sign in: {why}. \
         Set {AUTHORITY_VARIABLE} to the cloud's sign-in host (e.g. https://login.microsoftonline.us), \
         and --token-scope if its management audience is not the public cloud's"
    )))
}

/// An error with its causes, so a refused certificate says so.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut next = error.source();
    while let Some(cause) = next {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        next = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn url(u: &str) -> Url {
        Url::parse(u).unwrap()
    }

    #[test]
    fn the_table_knows_the_three_clouds_and_nothing_else() {
        let gov = Cloud::known(&url("https://management.usgovcloudapi.net")).unwrap();
        assert_eq!(gov.login_endpoint, "https://login.microsoftonline.us");
        assert_eq!(gov.key_vault_dns, "vault.usgovcloudapi.net");
        assert_eq!(gov.scope(), "https://management.usgovcloudapi.net/.default");
        let china = Cloud::known(&url("https://MANAGEMENT.chinacloudapi.cn/")).unwrap();
        assert_eq!(china.login_endpoint, "https://login.chinacloudapi.cn");
        assert_eq!(china.key_vault_dns, "vault.azure.cn");
        let public = Cloud::known(&url("https://management.azure.com")).unwrap();
        assert_eq!(public, Cloud::public());
        assert_eq!(public.scope(), "https://management.azure.com/.default");
        assert_eq!(Cloud::known(&url("https://127.0.0.1:8443")), None);
        assert_eq!(Cloud::known(&url("https://arm.contoso.example")), None);
    }

    fn usgov_metadata(arm: &str) -> Value {
        json!({
            "name": "AzureUSGovernment",
            "resourceManager": arm,
            "authentication": {
                "loginEndpoint": "https://login.microsoftonline.us/",
                "audiences": ["https://management.core.usgovcloudapi.net/", "https://management.usgovcloudapi.net/"],
                "tenant": "common",
                "identityProvider": "AAD"
            },
            "suffixes": {"keyVaultDns": "vault.usgovcloudapi.net", "storage": "core.usgovcloudapi.net"}
        })
    }

    #[test]
    fn metadata_gives_the_first_audience_and_the_login_host_as_az_reads_them() {
        let endpoint = url("https://arm.contoso.example");
        let cloud =
            Cloud::from_metadata(&endpoint, &usgov_metadata("https://arm.contoso.example/"))
                .unwrap();
        assert_eq!(
            cloud,
            Cloud {
                name: "AzureUSGovernment".into(),
                login_endpoint: "https://login.microsoftonline.us".into(),
                audience: "https://management.core.usgovcloudapi.net".into(),
                key_vault_dns: "vault.usgovcloudapi.net".into(),
            }
        );
        assert_eq!(
            cloud.scope(),
            "https://management.core.usgovcloudapi.net/.default"
        );
    }

    #[test]
    fn a_list_of_clouds_is_read_for_this_endpoints_entry() {
        let endpoint = url("https://management.usgovcloudapi.net");
        let mut public = usgov_metadata("https://management.azure.com/");
        public["name"] = json!("AzureCloud");
        let list = json!([
            public,
            usgov_metadata("https://management.usgovcloudapi.net/")
        ]);
        let cloud = Cloud::from_metadata(&endpoint, &list).unwrap();
        assert_eq!(cloud.name, "AzureUSGovernment");
        let missing = Cloud::from_metadata(&url("https://arm.contoso.example"), &list).unwrap_err();
        assert!(missing.contains("arm.contoso.example"), "{missing}");
    }

    #[test]
    fn metadata_without_a_field_the_tool_needs_is_named() {
        let endpoint = url("https://arm.contoso.example");
        for (pointer, named) in [
            (
                "/authentication/loginEndpoint",
                "authentication.loginEndpoint",
            ),
            ("/authentication/audiences", "authentication.audiences.0"),
            ("/suffixes/keyVaultDns", "suffixes.keyVaultDns"),
        ] {
            let mut answer = usgov_metadata("https://arm.contoso.example/");
            let (parent, field) = pointer.rsplit_once('/').unwrap();
            answer
                .pointer_mut(parent)
                .unwrap()
                .as_object_mut()
                .unwrap()
                .remove(field);
            let why = Cloud::from_metadata(&endpoint, &answer).unwrap_err();
            assert!(why.contains(named), "{pointer}: {why}");
        }
        let mut bad = usgov_metadata("https://arm.contoso.example/");
        bad["authentication"]["loginEndpoint"] = json!("not a url");
        assert!(Cloud::from_metadata(&endpoint, &bad)
            .unwrap_err()
            .contains("not a URL"));
    }

    const PATIENCE: Duration = Duration::from_secs(5);

    /// An endpoint nothing listens on: its metadata never answers.
    fn silent(host: &str) -> Url {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Url::parse(&format!("https://{host}:{port}")).unwrap()
    }

    #[test]
    fn a_known_cloud_without_metadata_comes_from_the_table_and_metadata_wins_over_it() {
        let gov = url("https://management.usgovcloudapi.net");
        let no_answer = || Err("GET … failed: connection refused".to_string());
        let cloud = decide(no_answer(), &gov, None, AuthKind::Environment).unwrap();
        assert_eq!(cloud.login_endpoint, "https://login.microsoftonline.us");
        assert_eq!(cloud.key_vault_dns, "vault.usgovcloudapi.net");
        let answered = Cloud::from_metadata(
            &gov,
            &usgov_metadata("https://management.usgovcloudapi.net/"),
        );
        let cloud = decide(answered, &gov, None, AuthKind::Environment).unwrap();
        assert_eq!(cloud.audience, "https://management.core.usgovcloudapi.net");
    }

    #[tokio::test]
    async fn without_metadata_an_unknown_endpoint_needs_the_sign_in_host_named() {
        let http = reqwest::Client::new();
        let endpoint = silent("127.0.0.1");
        let refused = resolve(&http, &endpoint, PATIENCE, None, AuthKind::Environment)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains(endpoint.as_str())
                && refused.contains("AZURE_AUTHORITY_HOST")
                && refused.contains("/metadata/endpoints"),
            "{refused}"
        );
        // A sign-in host named, or a credential that needs none: as before,
        // the public cloud's audience and vault suffix.
        for (authority, auth) in [
            (Some("https://127.0.0.1:1"), AuthKind::Environment),
            (None, AuthKind::ManagedIdentity),
            (None, AuthKind::AzureCli),
        ] {
            let cloud = resolve(&http, &endpoint, PATIENCE, authority, auth)
                .await
                .unwrap();
            assert_eq!(cloud, Cloud::public(), "{auth:?}");
        }
    }
}
