//! Which credential `--auth` names, and sign-in errors that say what to fix.
//! azure_identity 0.21 reports a refused token request as "request token
//! error: Server returned error response" (Entra's `AADSTS` answer is in the
//! error, but not in its text), an Azure CLI that is not installed as an
//! "unexpected answer", and missing variables as "no valid environment credential
//! providers" (or the typo "working identity credential"). Here the missing
//! variables are named before a credential is built, and [`Explained`] turns
//! each of the others into one line naming the cause and the fix. Managed
//! identity is `managed_identity.rs`'s credential, whose errors say so already.

use super::connection::AuthKind;
use super::error::AzureError;
use super::managed_identity::ManagedIdentity;
use azure_core::auth::{AccessToken, TokenCredential};
use azure_core::error::ErrorKind;
use azure_identity::{
    AzureCliCredential, DefaultAzureCredentialBuilder, EnvironmentCredential,
    TokenCredentialOptions, WorkloadIdentityCredential,
};
use std::sync::Arc;

const FIX_VARIABLES: &str = "set the variables the --auth kind needs (see docs/usage.md)";

/// The credential `kind` names, explaining its errors. Against a loopback
/// endpoint (the emulator) `default` is the environment credential alone, so
/// the chain never falls through to the managed-identity probe or the CLI.
pub fn credential(
    kind: AuthKind,
    options: TokenCredentialOptions,
    loopback: bool,
) -> Result<Arc<dyn TokenCredential>, AzureError> {
    let kind = match kind {
        AuthKind::Default if loopback => AuthKind::Environment,
        other => other,
    };
    if let Some(missing) = missing_variables(kind, &|name| std::env::var(name).ok()) {
        return Err(AzureError::Credential(format!(
            "{missing}; {FIX_VARIABLES}"
        )));
    }
    let fail = |e: azure_core::Error| AzureError::Credential(format!("{e}: {FIX_VARIABLES}"));
    let inner: Arc<dyn TokenCredential> = match kind {
        AuthKind::Environment => Arc::new(EnvironmentCredential::create(options).map_err(fail)?),
        AuthKind::Default => Arc::new(
            DefaultAzureCredentialBuilder::default()
                .with_options(options)
                .build()
                .map_err(fail)?,
        ),
        AuthKind::AzureCli => Arc::new(AzureCliCredential::create().map_err(fail)?),
        AuthKind::ManagedIdentity => {
            Arc::new(ManagedIdentity::from_env(options.http_client(), &|name| {
                std::env::var(name).ok()
            }))
        }
        AuthKind::WorkloadIdentity => {
            Arc::new(WorkloadIdentityCredential::create(options).map_err(fail)?)
        }
    };
    Ok(Arc::new(Explained { inner, kind }))
}

/// The variables `kind` needs that `var` does not have (unset or empty), as
/// a sentence; `None` when all are there.
fn missing_variables(kind: AuthKind, var: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let set = |name: &str| var(name).is_some_and(|v| !v.trim().is_empty());
    let (credential, secrets): (&str, &[&str]) = match kind {
        AuthKind::Environment => (
            "the environment credential",
            &[
                "AZURE_CLIENT_SECRET",
                "AZURE_FEDERATED_TOKEN_FILE",
                "AZURE_FEDERATED_TOKEN",
            ],
        ),
        AuthKind::WorkloadIdentity => (
            "the workload identity credential",
            &["AZURE_FEDERATED_TOKEN_FILE", "AZURE_FEDERATED_TOKEN"],
        ),
        _ => return None,
    };
    let mut missing: Vec<&str> = ["AZURE_TENANT_ID", "AZURE_CLIENT_ID"]
        .into_iter()
        .filter(|name| !set(name))
        .collect();
    if !secrets.iter().any(|name| set(name)) {
        missing.push(secrets[0]);
    }
    if missing.is_empty() {
        return None;
    }
    let alternatives = match &secrets[1..] {
        [] => String::new(),
        others => format!(" (or {})", others.join(" or ")),
    };
    Some(format!(
        "{credential} needs AZURE_TENANT_ID, AZURE_CLIENT_ID and {}{alternatives}; not set: {}",
        secrets[0],
        missing.join(", ")
    ))
}

/// A credential whose sign-in errors name their cause and fix.
#[derive(Debug)]
struct Explained {
    inner: Arc<dyn TokenCredential>,
    kind: AuthKind,
}

#[async_trait::async_trait]
impl TokenCredential for Explained {
    async fn get_token(&self, scopes: &[&str]) -> azure_core::Result<AccessToken> {
        self.inner
            .get_token(scopes)
            .await
            .map_err(|e| explain(self.kind, e))
    }

    async fn clear_cache(&self) -> azure_core::Result<()> {
        self.inner.clear_cache().await
    }
}

/// Entra's refusal of a token request (client secret flow), if that is what failed.
type TokenRefusal = oauth2::RequestTokenError<azure_core::Error, oauth2::basic::BasicErrorResponse>;

fn entra_refusal(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut next = Some(error);
    while let Some(e) = next {
        let refusal = e.downcast_ref::<TokenRefusal>().or_else(|| {
            e.downcast_ref::<azure_core::Error>()
                .and_then(|core| core.downcast_ref::<TokenRefusal>())
        });
        if let Some(oauth2::RequestTokenError::ServerResponse(answer)) = refusal {
            // Entra's descriptions carry trace and correlation ids on lines of their own.
            let description = answer
                .error_description()
                .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "))
                .map(|d| d.trim_end_matches('.').to_string())
                .unwrap_or_else(|| "(no description)".into());
            let code = answer.error().to_string();
            let hint = aadsts_hint(&description)
                .map(|h| format!(". {h}"))
                .unwrap_or_default();
            return Some(format!(
                "Entra ID refused the sign-in ({code}): {description}{hint}"
            ));
        }
        next = e.source();
    }
    None
}

/// What to check for the `AADSTS` codes a wrong variable gets.
fn aadsts_hint(description: &str) -> Option<&'static str> {
    let code = description.split(':').next().unwrap_or_default().trim();
    Some(match code {
        "AADSTS7000215" => "Check AZURE_CLIENT_SECRET: the secret's value (not its id), of the app AZURE_CLIENT_ID names",
        "AADSTS7000222" => "The client secret has expired: create a new one and set AZURE_CLIENT_SECRET",
        "AADSTS700016" => "Check AZURE_CLIENT_ID, and that the app is registered in the tenant AZURE_TENANT_ID names",
        "AADSTS90002" | "AADSTS900023" => "Check AZURE_TENANT_ID, and that --arm-endpoint (and AZURE_AUTHORITY_HOST, if set) are the tenant's cloud's",
        "AADSTS1002012" | "AADSTS500011" | "AADSTS70011" => "Check --token-scope",
        _ => return None,
    })
}

/// `error` from `kind`'s sign-in, told in words that say what to fix; an
/// error none of the cases covers is returned as it is.
fn explain(kind: AuthKind, error: azure_core::Error) -> azure_core::Error {
    let text = error.to_string();
    let explained = if let Some(refusal) = entra_refusal(&error) {
        refusal
    } else if kind == AuthKind::AzureCli && text.contains("Azure CLI not installed") {
        "Azure CLI not installed: there is no `az` command on the PATH. Install the Azure CLI and run `az login`, or choose another --auth".to_string()
    } else {
        return error;
    };
    azure_core::Error::message(ErrorKind::Credential, explained)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn missing(kind: AuthKind, vars: &[(&str, &str)]) -> Option<String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        missing_variables(kind, &|name| vars.get(name).cloned())
    }

    #[test]
    fn missing_variables_are_named() {
        let all = [
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_CLIENT_SECRET", "s"),
        ];
        assert_eq!(missing(AuthKind::Environment, &all), None);
        let no_secret = missing(AuthKind::Environment, &all[..2]).unwrap();
        assert!(
            no_secret.ends_with("not set: AZURE_CLIENT_SECRET"),
            "{no_secret}"
        );
        let empty_id = missing(
            AuthKind::Environment,
            &[
                ("AZURE_CLIENT_ID", " "),
                ("AZURE_FEDERATED_TOKEN_FILE", "/f"),
            ],
        )
        .unwrap();
        assert!(
            empty_id.ends_with("not set: AZURE_TENANT_ID, AZURE_CLIENT_ID"),
            "{empty_id}"
        );
        let workload = missing(AuthKind::WorkloadIdentity, &all).unwrap();
        assert!(
            workload.starts_with("the workload identity credential")
                && workload.ends_with("not set: AZURE_FEDERATED_TOKEN_FILE"),
            "{workload}"
        );
        assert_eq!(missing(AuthKind::AzureCli, &[]), None);
    }

    #[test]
    fn aadsts_codes_point_at_the_variable() {
        let hint = |d: &str| aadsts_hint(d).unwrap_or_default();
        assert!(
            hint("AADSTS7000215: Invalid client secret provided.").contains("AZURE_CLIENT_SECRET")
        );
        assert!(hint("AADSTS700016: Application with identifier 'x'").contains("AZURE_CLIENT_ID"));
        assert!(hint("AADSTS90002: Tenant 'x' not found.").contains("AZURE_TENANT_ID"));
        assert_eq!(aadsts_hint("AADSTS50000: something else"), None);
    }
}
