//! Microsoft Entra ID, as far as a client-credentials login needs it: the
//! token endpoint, OpenID discovery, and validation of the bearer tokens that
//! every ARM call must carry.
//!
//! Tokens are JWT-shaped (`header.payload.signature`, HS256 with a key that
//! never leaves the process) so clients that peek at `exp`/`tid`/`oid` work.
//! Their audience is one of the emulated cloud's management audiences
//! (`cloud.rs`): Entra issues no other, and ARM refuses any other.

use super::context::Caller;
use super::error::ArmError;
use super::state::{Principal, State};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use hyper::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::Sha256;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    aud: String,
    iss: String,
    iat: i64,
    nbf: i64,
    exp: i64,
    tid: String,
    oid: String,
    appid: String,
    sub: String,
    ver: String,
}

pub struct TokenIssuer {
    key: [u8; 32],
}

/// An OAuth2 error response as Entra ID sends it (`{"error","error_description"}`).
pub fn oauth_error(status: StatusCode, error: &str, description: &str) -> (StatusCode, Value) {
    (
        status,
        json!({
            "error": error,
            "error_description": description,
            "error_codes": [description.split(':').next().unwrap_or_default().trim_start_matches("AADSTS").parse::<u64>().unwrap_or(0)],
            "timestamp": Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string(),
        }),
    )
}

/// Entra's words for a tenant it does not hold (a wrong id, or another cloud's).
pub fn tenant_not_found(tenant: &str) -> String {
    format!("AADSTS90002: Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.")
}

impl TokenIssuer {
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    fn sign(&self, data: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(data.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// `POST /{tenant}/oauth2/v2.0/token` with a form body; answers Entra's
    /// JSON (a token, or an `AADSTS` error).
    pub fn token_endpoint(
        &self,
        state: &State,
        tenant: &str,
        form: &str,
        lifetime_secs: u64,
        now: DateTime<Utc>,
    ) -> (StatusCode, Value) {
        if !tenant.eq_ignore_ascii_case(&state.tenant_id) {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                &tenant_not_found(tenant),
            );
        }
        let fields: Vec<(String, String)> = match serde_urlencoded::from_str(form) {
            Ok(fields) => fields,
            Err(_) => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "AADSTS900144: The request body must contain the following parameter: 'grant_type'.",
                )
            }
        };
        let field = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        match field("grant_type") {
            Some("client_credentials") => {}
            Some(other) => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "unsupported_grant_type",
                    &format!("AADSTS70003: The app requested an unsupported grant type '{other}'."),
                )
            }
            None => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "AADSTS900144: The request body must contain the following parameter: 'grant_type'.",
                )
            }
        }
        let Some(client_id) = field("client_id") else {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "AADSTS900144: The request body must contain the following parameter: 'client_id'.",
            );
        };
        let Some(principal) = state
            .principals
            .values()
            .find(|p| p.client_id.eq_ignore_ascii_case(client_id))
        else {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                &format!("AADSTS700016: Application with identifier '{client_id}' was not found in the directory '{tenant}'."),
            );
        };
        if field("client_secret") != Some(principal.client_secret.as_str()) {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                &format!("AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."),
            );
        }
        let scope = field("scope").unwrap_or_default();
        let Some(audience) = scope
            .split(' ')
            .find_map(|s| s.strip_suffix(".default"))
            .map(|a| a.trim_end_matches('/'))
            .filter(|a| state.cloud.accepts_audience(a))
        else {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                &format!("AADSTS1002012: The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."),
            );
        };
        let token = self.issue(state, principal, audience, lifetime_secs, now);
        (
            StatusCode::OK,
            json!({
                "token_type": "Bearer",
                "expires_in": lifetime_secs,
                "ext_expires_in": lifetime_secs,
                "access_token": token,
            }),
        )
    }

    /// A signed management token for `principal` (its `appid` and `oid`),
    /// for `audience` (without a trailing slash).
    pub fn issue(
        &self,
        state: &State,
        principal: &Principal,
        audience: &str,
        lifetime_secs: u64,
        now: DateTime<Utc>,
    ) -> String {
        let iat = now.timestamp();
        let claims = Claims {
            aud: format!("{audience}/"),
            iss: format!("https://sts.windows.net/{}/", state.tenant_id),
            iat,
            nbf: iat,
            exp: iat + lifetime_secs as i64,
            tid: state.tenant_id.clone(),
            oid: principal.object_id.clone(),
            appid: principal.client_id.clone(),
            sub: principal.object_id.clone(),
            ver: "1.0".into(),
        };
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default());
        let unsigned = format!("{header}.{payload}");
        format!("{unsigned}.{}", self.sign(&unsigned))
    }

    /// The `IDENTITY_HEADER` secret of the host `host`: derived from the
    /// signing key, so only this emulator run knows it.
    pub fn identity_header(&self, host: &str) -> String {
        self.sign(&format!("identity-header:{}", host.to_ascii_lowercase()))
    }

    /// Checks the `Authorization` header of an ARM call and names the caller.
    pub fn validate(
        &self,
        state: &State,
        authorization: Option<&str>,
        now: DateTime<Utc>,
        authority: &str,
    ) -> Result<Caller, ArmError> {
        let challenge = |error_description: &str| {
            format!(
                "Bearer authorization_uri=\"{authority}/{}\", error=\"invalid_token\", error_description=\"{error_description}\"",
                state.tenant_id
            )
        };
        let Some(header) = authorization else {
            return Err(ArmError::authentication_failed(
                "Authentication failed. The 'Authorization' header is missing.",
            )
            .with_header(
                "www-authenticate",
                challenge("The authentication failed because of missing 'Authorization' header."),
            ));
        };
        let invalid = |why: &str| {
            ArmError::invalid_authentication_token(why.to_string())
                .with_header("www-authenticate", challenge(why))
        };
        let Some(token) = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
        else {
            return Err(invalid("The access token is invalid."));
        };
        let mut parts = token.trim().rsplitn(2, '.');
        let (Some(signature), Some(unsigned)) = (parts.next(), parts.next()) else {
            return Err(invalid("The access token is invalid."));
        };
        if self.sign(unsigned) != signature {
            return Err(invalid("The access token is invalid."));
        }
        let claims: Claims = unsigned
            .split('.')
            .nth(1)
            .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| invalid("The access token is invalid."))?;
        if claims.exp <= now.timestamp() {
            // ARM's own code for this case, and its message with .NET's
            // en-US times (microsoft/foundry-dev-tools#461 quotes one).
            let expiry = DateTime::from_timestamp(claims.exp, 0).unwrap_or(now);
            let why = format!(
                "The access token expiry UTC time '{}' is earlier than current UTC time '{}'.",
                dotnet_time(expiry),
                dotnet_time(now)
            );
            return Err(ArmError::expired_authentication_token(why.clone())
                .with_header("www-authenticate", challenge(&why)));
        }
        if !state.cloud.accepts_audience(&claims.aud) {
            // ARM's code and message for a token of another resource or cloud
            // (Azure-Samples/active-directory-dotnetcore-daemon-v2#145 quotes one).
            let allowed: Vec<String> = state
                .cloud
                .audiences()
                .iter()
                .flat_map(|a| [format!("'{a}'"), format!("'{}'", a.trim_end_matches('/'))])
                .collect();
            let why = format!(
                "The access token has been obtained for wrong audience or resource '{}'. It should exactly match with one of the allowed audiences {}.",
                claims.aud,
                allowed.join(",")
            );
            return Err(ArmError::new(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationTokenAudience",
                why.clone(),
            )
            .with_header("www-authenticate", challenge(&why)));
        }
        if !claims.tid.eq_ignore_ascii_case(&state.tenant_id) {
            return Err(invalid("The access token is from the wrong issuer. It must match the tenant associated with this subscription."));
        }
        Ok(Caller {
            object_id: claims.oid,
            client_id: claims.appid,
            tenant_id: claims.tid,
        })
    }
}

/// A time as .NET prints it in ARM's messages: `6/15/2026 8:22:51 AM`.
fn dotnet_time(t: DateTime<Utc>) -> String {
    t.format("%-m/%-d/%Y %-I:%M:%S %p").to_string()
}

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`.
pub fn openid_configuration(endpoint: &str, tenant: &str) -> Value {
    json!({
        "token_endpoint": format!("{endpoint}/{tenant}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{endpoint}/{tenant}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{endpoint}/{tenant}/v2.0"),
        "request_uri_parameter_supported": false,
        "authorization_endpoint": format!("{endpoint}/{tenant}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{endpoint}/{tenant}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{endpoint}/{tenant}/oauth2/v2.0/logout"),
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "oid"],
        "tenant_region_scope": "NA",
        "cloud_instance_name": "microsoftonline.com",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::state::Principal;

    fn state() -> State {
        let mut state = State {
            tenant_id: "t1".into(),
            ..State::default()
        };
        state.principals.insert(
            "c1".into(),
            Principal {
                client_id: "c1".into(),
                client_secret: "s3cret".into(),
                object_id: "o1".into(),
                ..Principal::default()
            },
        );
        state
    }

    fn issue(
        issuer: &TokenIssuer,
        state: &State,
        form: &str,
        now: DateTime<Utc>,
    ) -> (StatusCode, Value) {
        issuer.token_endpoint(state, "t1", form, 60, now)
    }

    const FORM: &str = "grant_type=client_credentials&client_id=c1&client_secret=s3cret&scope=https%3A%2F%2Fmanagement.azure.com%2F.default";

    #[test]
    fn issued_token_validates_until_it_expires() {
        let issuer = TokenIssuer::new([7; 32]);
        let state = state();
        let now = Utc::now();
        let (status, body) = issue(&issuer, &state, FORM, now);
        assert_eq!(status, StatusCode::OK);
        let token = body["access_token"].as_str().unwrap();
        let header = format!("Bearer {token}");
        let caller = issuer
            .validate(&state, Some(&header), now, "https://x")
            .unwrap();
        assert_eq!(caller.object_id, "o1");
        let later = now + chrono::Duration::seconds(61);
        let err = issuer
            .validate(&state, Some(&header), later, "https://x")
            .unwrap_err();
        assert_eq!(err.code, "ExpiredAuthenticationToken");
        assert!(err
            .message
            .starts_with("The access token expiry UTC time '"));
        assert!(err.message.ends_with(&format!(
            "' is earlier than current UTC time '{}'.",
            dotnet_time(later)
        )));
        assert!(err.headers.iter().any(|(k, _)| k == "www-authenticate"));
    }

    #[test]
    fn tampered_or_foreign_tokens_are_refused() {
        let issuer = TokenIssuer::new([7; 32]);
        let state = state();
        let now = Utc::now();
        let (_, body) = issue(&issuer, &state, FORM, now);
        let token = body["access_token"].as_str().unwrap();
        let other = TokenIssuer::new([8; 32]);
        assert!(other
            .validate(&state, Some(&format!("Bearer {token}")), now, "x")
            .is_err());
        let tampered = format!("Bearer {}x", token);
        assert!(issuer.validate(&state, Some(&tampered), now, "x").is_err());
        let missing = issuer.validate(&state, None, now, "x").unwrap_err();
        assert_eq!(missing.code, "AuthenticationFailed");
    }

    #[test]
    fn a_token_for_another_clouds_audience_is_neither_issued_nor_accepted() {
        use crate::emulator::cloud::EmulatedCloud;
        let issuer = TokenIssuer::new([7; 32]);
        let mut state = state();
        let now = Utc::now();
        let (_, body) = issue(&issuer, &state, FORM, now);
        let public_token = format!("Bearer {}", body["access_token"].as_str().unwrap());
        state.cloud = EmulatedCloud::Usgovernment;
        let (status, body) = issue(&issuer, &state, FORM, now);
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"], "invalid_scope");
        let err = issuer
            .validate(&state, Some(&public_token), now, "https://x")
            .unwrap_err();
        assert_eq!(err.status, StatusCode::UNAUTHORIZED);
        assert_eq!(err.code, "InvalidAuthenticationTokenAudience");
        assert!(
            err.message.contains("'https://management.azure.com/'")
                && err
                    .message
                    .contains("'https://management.usgovcloudapi.net/'"),
            "{}",
            err.message
        );
        let gov_form = FORM.replace("management.azure.com", "management.usgovcloudapi.net");
        let (status, body) = issue(&issuer, &state, &gov_form, now);
        assert_eq!(status, StatusCode::OK);
        let gov_token = format!("Bearer {}", body["access_token"].as_str().unwrap());
        assert!(issuer
            .validate(&state, Some(&gov_token), now, "https://x")
            .is_ok());
    }

    #[test]
    fn wrong_secret_scope_or_tenant_gets_entra_errors() {
        let issuer = TokenIssuer::new([7; 32]);
        let state = state();
        let now = Utc::now();
        let (status, body) = issue(&issuer, &state, &FORM.replace("s3cret", "nope"), now);
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"], "invalid_client");
        let (status, body) = issue(
            &issuer,
            &state,
            &FORM.replace("management.azure.com", "graph.microsoft.com"),
            now,
        );
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"], "invalid_scope");
        let (_, body) = issuer.token_endpoint(&state, "other", FORM, 60, now);
        assert_eq!(body["error"], "invalid_request");
    }
}
