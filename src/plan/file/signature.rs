//! Signed plan files, for pipelines (`ACTLOG_CMK_PLAN_KEY`). The checksum
//! shows a plan file was not damaged or carelessly edited, but anyone who
//! can write the file can recompute it. A signature is an HMAC-SHA256 over
//! the same canonical bytes of the plan under a key only the pipeline holds:
//! a plan changed or replaced by someone without the key fails to verify
//! (docs/pipelines.md, "Signed plans", has the threat model).
//!
//! The key never leaves this type: it is not printed, logged or
//! formatted with `Debug`.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt::Write as _;

/// The environment variable that holds the key.
pub const ENV: &str = "ACTLOG_CMK_PLAN_KEY";

/// Shorter keys are refused: an HMAC-SHA256 key should carry 256 bits, and
/// 32 characters of `openssl rand -hex 32`'s 64 carry 128 at least.
pub const MIN_KEY_CHARS: usize = 32;

const PREFIX: &str = "hmac-sha256:";

type HmacSha256 = Hmac<Sha256>;

/// A plan-signing key.
pub struct PlanKey(Vec<u8>);

impl std::fmt::Debug for PlanKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PlanKey(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlanKeyError {
    #[error("{ENV} is set but empty (a pipeline secret that did not reach this step?): set it to the plan key, or unset it to use unsigned plans")]
    Empty,
    #[error("{ENV} is {chars} characters long, fewer than the {MIN_KEY_CHARS} a plan key needs: make one with `openssl rand -hex 32`")]
    TooShort { chars: usize },
    #[error("{ENV} is not valid UTF-8: make the key with `openssl rand -hex 32`")]
    NotUnicode,
}

impl PlanKey {
    pub fn new(key: &str) -> Result<PlanKey, PlanKeyError> {
        let chars = key.chars().count();
        if chars == 0 {
            Err(PlanKeyError::Empty)
        } else if chars < MIN_KEY_CHARS {
            Err(PlanKeyError::TooShort { chars })
        } else {
            Ok(PlanKey(key.as_bytes().to_vec()))
        }
    }

    /// The key in [`ENV`], if it is set.
    pub fn from_env() -> Result<Option<PlanKey>, PlanKeyError> {
        match std::env::var(ENV) {
            Ok(key) => PlanKey::new(&key).map(Some),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(PlanKeyError::NotUnicode),
        }
    }

    fn mac<T: serde::Serialize>(&self, plan: &T) -> HmacSha256 {
        // Any key length is valid for HMAC; `new_from_slice` cannot fail.
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(&super::canonical_bytes(plan));
        mac
    }

    /// `hmac-sha256:<hex>` over the canonical bytes of `plan`.
    pub fn sign<T: serde::Serialize>(&self, plan: &T) -> String {
        let mut out = String::from(PREFIX);
        for b in self.mac(plan).finalize().into_bytes() {
            let _ = write!(out, "{b:02x}");
        }
        out
    }

    /// Whether `signature` is this key's over `plan` (compared in constant time).
    pub fn verifies<T: serde::Serialize>(&self, plan: &T, signature: &str) -> bool {
        match decode(signature) {
            Some(bytes) => self.mac(plan).verify_slice(&bytes).is_ok(),
            None => false,
        }
    }
}

/// Whether `signature` has the form `sign` writes.
pub fn well_formed(signature: &str) -> bool {
    decode(signature).is_some()
}

fn decode(signature: &str) -> Option<Vec<u8>> {
    let hex = signature.strip_prefix(PREFIX)?;
    if hex.len() != 64 {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn short_empty_keys_are_refused_and_the_key_is_never_shown() {
        assert_eq!(PlanKey::new("").unwrap_err(), PlanKeyError::Empty);
        let secret = "s3cret-but-short";
        let e = PlanKey::new(secret).unwrap_err();
        assert_eq!(e, PlanKeyError::TooShort { chars: 16 });
        assert!(!e.to_string().contains(secret), "{e}");
        let key = PlanKey::new(KEY).unwrap();
        assert!(!format!("{key:?}").contains(KEY));
    }

    #[test]
    fn signatures_are_well_formed_hex_of_the_hmac() {
        assert!(well_formed(&format!("hmac-sha256:{}", "ab".repeat(32))));
        for bad in [
            "",
            "hmac-sha256:",
            "sha256:00",
            &format!("hmac-sha256:{}", "zz".repeat(32)),
            &format!("hmac-sha256:{}", "ab".repeat(31)),
            &format!("hmac-sha256:{}é", "ab".repeat(31)),
        ] {
            assert!(!well_formed(bad), "{bad}");
        }
    }
}
