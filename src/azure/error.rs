//! Errors from talking to Azure, each naming the resource and carrying ARM's
//! error code so callers can tell "not found" from "forbidden" from "broken".

use super::id::InvalidResourceId;

#[derive(Debug, thiserror::Error)]
pub enum AzureError {
    /// ARM answered with an error.
    #[error("{resource}: Azure answered {status} {code}: {message}")]
    Arm {
        status: u16,
        code: String,
        message: String,
        resource: String,
    },
    /// No answer at all (DNS, connection, TLS, timeout).
    #[error("cannot reach {endpoint}: {detail}. Check --arm-endpoint and --ca-file, and that the endpoint is up")]
    Unreachable { endpoint: String, detail: String },
    /// No answer, for a reason no retry can fix (refused, DNS, TLS, http
    /// to an HTTPS port): `reason` says what and what to do.
    #[error("cannot reach {endpoint}: {reason}")]
    Unusable { endpoint: String, reason: String },
    #[error("cannot sign in to Azure: {0}")]
    Credential(String),
    #[error("{resource}: unexpected answer from Azure: {detail}")]
    Unexpected { resource: String, detail: String },
    #[error(transparent)]
    InvalidId(#[from] InvalidResourceId),
    #[error("{0}")]
    Config(String),
}

/// What to do when the sign-in endpoint's certificate was refused, told
/// apart by rustls' words: only an unknown issuer is fixed with --ca-file.
fn certificate_hint(detail: &str) -> Option<&'static str> {
    let lower = detail.to_ascii_lowercase();
    if !lower.contains("certificate") && !lower.contains("unknownissuer") {
        None
    } else if lower.contains("unknownissuer") || lower.contains("unknown issuer") {
        Some(". The sign-in endpoint's certificate is not trusted: pass its CA with --ca-file (or ACTLOG_CMK_CA_FILE)")
    } else if lower.contains("expired") {
        Some(". The sign-in endpoint's certificate has expired (or this machine's clock is wrong): renew the certificate")
    } else if lower.contains("not valid for name") {
        Some(". The sign-in endpoint's certificate is for another host: check AZURE_AUTHORITY_HOST")
    } else {
        Some(". The sign-in endpoint's certificate could not be verified: check AZURE_AUTHORITY_HOST and --ca-file")
    }
}

impl AzureError {
    pub fn status(&self) -> Option<u16> {
        match self {
            AzureError::Arm { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn code(&self) -> Option<&str> {
        match self {
            AzureError::Arm { code, .. } => Some(code),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    pub fn is_forbidden(&self) -> bool {
        self.status() == Some(403)
    }

    /// Nothing further can work: the endpoint, TLS or sign-in is wrong.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            AzureError::Unreachable { .. }
                | AzureError::Unusable { .. }
                | AzureError::Credential(_)
                | AzureError::Config(_)
        )
    }

    /// Turns an azure_core error into ours, naming `resource`.
    pub fn from_core(error: azure_core::Error, resource: &str, endpoint: &str) -> Self {
        if let Some(http) = error.as_http_error() {
            return AzureError::Arm {
                status: u16::from(http.status()),
                code: http.error_code().unwrap_or("Unknown").to_string(),
                message: http.error_message().unwrap_or("(no message)").to_string(),
                resource: resource.to_string(),
            };
        }
        if let Some(why) = super::retry::find_unfixable(&error) {
            return AzureError::Unusable {
                endpoint: endpoint.to_string(),
                reason: why.to_string(),
            };
        }
        match error.kind() {
            azure_core::error::ErrorKind::Credential => {
                let mut detail = chain(&error);
                if let Some(hint) = certificate_hint(&detail) {
                    detail.push_str(hint);
                }
                AzureError::Credential(detail)
            }
            azure_core::error::ErrorKind::Io => AzureError::Unreachable {
                endpoint: endpoint.to_string(),
                detail: chain(&error),
            },
            _ => AzureError::Unexpected {
                resource: resource.to_string(),
                detail: chain(&error),
            },
        }
    }
}

/// An error and its causes on one line.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let next = cause.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::certificate_hint;

    #[test]
    fn only_an_unknown_issuer_is_sent_to_ca_file() {
        let unknown = certificate_hint("invalid peer certificate: UnknownIssuer").unwrap();
        assert!(unknown.contains("--ca-file"), "{unknown}");
        let expired = certificate_hint("invalid peer certificate: certificate expired").unwrap();
        assert!(
            expired.contains("expired") && !expired.contains("not trusted"),
            "{expired}"
        );
        let name = certificate_hint(
            "invalid peer certificate: certificate not valid for name \"127.0.0.1\"",
        )
        .unwrap();
        assert!(
            name.contains("AZURE_AUTHORITY_HOST") && !name.contains("not trusted"),
            "{name}"
        );
        assert_eq!(
            certificate_hint("AADSTS7000215: Invalid client secret"),
            None
        );
    }
}
