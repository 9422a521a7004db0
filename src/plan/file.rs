//! The plan file (`plan --out FILE`, `apply FILE`), after Terraform's
//! planfile: apply must carry out exactly the plan that was reviewed, so the
//! file says what it is (`format`, `schema_version`), who wrote it
//! (`tool_version`) and carries a checksum of the plan. Loading refuses,
//! with its own error each, anything that is not such a file, a schema this
//! build does not read, and a plan changed after it was written.
//!
//! The checksum is SHA-256 over the canonical serialization of the *typed*
//! plan (compact `serde_json` of [`Plan`]), so reformatting the file changes
//! nothing while any change of a value does. Fields the model does not know
//! are refused too: serde would drop them silently, and apply would then run
//! a plan without a part of it.
//!
//! A pipeline can also sign the plan (`ACTLOG_CMK_PLAN_KEY`, `signature`):
//! [`open`] is what apply reads a plan file with, and enforces the signature
//! policy; [`load`] checks everything else. Whether the plan belongs where it
//! is applied (its endpoint and tenant) is `origin::check`, which reads ARM.

pub mod origin;
pub mod signature;

use super::model::{Plan, PlanMode, SCHEMA_VERSION};
use crate::azure::id::InvalidResourceId;
use crate::azure::AzureError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
pub use signature::{PlanKey, PlanKeyError};
use std::fmt::Write as _;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// The `format` of every plan file.
pub const FORMAT: &str = "actlog-cmk-plan";

/// Files larger than this are refused without being read: a plan of
/// thousands of accounts is a few MiB.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

const CHECKSUM_PREFIX: &str = "sha256:";
const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    #[error("could not write the plan file {path}: {source}; check that the directory exists and is writable")]
    Write { path: PathBuf, source: io::Error },

    #[error("refusing to save a plan of schema {found}: this actlog-cmk ({ours}) writes schema {SCHEMA_VERSION}", ours = TOOL_VERSION)]
    UnsupportedPlan { found: u32 },

    #[error("could not read the plan file {path}: {source}; check the path, or run `actlog-cmk plan --out {path}` again", path = .path.display())]
    Unreadable { path: PathBuf, source: io::Error },

    #[error("the plan file {path} is {size} bytes, more than the {MAX_FILE_BYTES} a plan file can be: it is not a plan file; run `actlog-cmk plan --out {path}` again", path = .path.display())]
    TooLarge { path: PathBuf, size: u64 },

    #[error("the plan file {path} is not JSON ({source}): run `actlog-cmk plan --out {path}` again", path = .path.display())]
    NotJson {
        path: PathBuf,
        source: serde_json::Error,
    },

    #[error("the plan file {path} is empty: run `actlog-cmk plan --out {path}` again", path = .path.display())]
    Empty { path: PathBuf },

    #[error("the plan file {path} is truncated (it ends at line {line}, column {column}, in the middle of the JSON): run `actlog-cmk plan --out {path}` again", path = .path.display())]
    Truncated {
        path: PathBuf,
        line: usize,
        column: usize,
    },

    #[error("{path} is not an actlog-cmk plan file ({}): give the file `actlog-cmk plan --out FILE` wrote, or run `actlog-cmk plan --out {path}` again", describe_format(.found.as_deref()), path = .path.display())]
    WrongFormat {
        path: PathBuf,
        /// The `format` found, if it was a string.
        found: Option<String>,
    },

    #[error("the plan file {path} has no valid `{field}` ({why}): run `actlog-cmk plan --out {path}` again", path = .path.display())]
    BadEnvelope {
        path: PathBuf,
        field: &'static str,
        why: &'static str,
    },

    #[error("the plan file {path} was made by a newer actlog-cmk ({made_by}, plan schema {found}); this actlog-cmk ({ours}) reads schema {SCHEMA_VERSION}: upgrade actlog-cmk, or run `actlog-cmk plan --out {path}` again with this one", path = .path.display(), ours = TOOL_VERSION)]
    NewerSchema {
        path: PathBuf,
        found: u64,
        made_by: String,
    },

    #[error("the plan file {path} has plan schema {found} (made by actlog-cmk {made_by}), which this actlog-cmk ({ours}) no longer reads: run `actlog-cmk plan --out {path}` again", path = .path.display(), ours = TOOL_VERSION)]
    OlderSchema {
        path: PathBuf,
        found: u64,
        made_by: String,
    },

    #[error("the plan file {path} has no checksum, so it cannot be shown to be the plan that was written: run `actlog-cmk plan --out {path}` again", path = .path.display())]
    ChecksumMissing { path: PathBuf },

    #[error("the plan file {path} was changed after it was written (edited by hand or damaged): its checksum does not match its plan; review a new plan: run `actlog-cmk plan --out {path}` again", path = .path.display())]
    ChecksumMismatch { path: PathBuf },

    #[error("the plan in {path} does not match the plan model of actlog-cmk {ours}{}: at `{field}`: {message}; run `actlog-cmk plan --out {path}` again", made_by_other(.made_by), path = .path.display(), ours = TOOL_VERSION)]
    Invalid {
        path: PathBuf,
        /// Where in the file, e.g. `plan.accounts[0].changes[1].desired.kind`.
        field: String,
        message: String,
        made_by: String,
    },

    #[error("the plan file {path} says schema {outer} but its plan says schema {inner}: the plan file was changed after it was written; run `actlog-cmk plan --out {path}` again", path = .path.display())]
    SchemaMismatch {
        path: PathBuf,
        outer: u32,
        inner: u32,
    },

    #[error("the plan file {path} holds a {found} plan, not a {wanted} plan: {hint}", path = .path.display(), found = mode_name(*.found), wanted = mode_name(*.wanted), hint = other_mode_hint(*.found))]
    OtherMode {
        path: PathBuf,
        found: PlanMode,
        wanted: PlanMode,
    },

    #[error("the plan file {path} was tampered with: the fingerprint recorded for {account} does not match what the plan says was observed there; run `actlog-cmk plan --out {path}` again", path = .path.display())]
    FingerprintMismatch { path: PathBuf, account: String },

    #[error("the plan {path} was made against {planned}, not {here}: apply it against the endpoint it was made for, or run plan again here; nothing was changed", path = .path.display())]
    OtherEndpoint {
        path: PathBuf,
        planned: String,
        here: String,
    },

    #[error("the plan {path} names an invalid account", path = .path.display())]
    InvalidAccount {
        path: PathBuf,
        source: InvalidResourceId,
    },

    #[error("the plan {path} was made for tenant {planned}, but subscription {subscription} is in tenant {actual}: run plan again with credentials for this tenant; nothing was changed", path = .path.display())]
    OtherTenant {
        path: PathBuf,
        planned: String,
        subscription: String,
        actual: String,
    },

    #[error("the plan file {path} is signed, but {env} is not set: set it to the key the plan was signed with (the pipeline's plan key); nothing was changed", path = .path.display(), env = signature::ENV)]
    SignedWithoutKey { path: PathBuf },

    #[error("{env} is set, but the plan file {path} is not signed: only a plan signed with that key is applied; run `actlog-cmk plan --out {path}` again with {env} set, review it and apply that; nothing was changed", path = .path.display(), env = signature::ENV)]
    Unsigned { path: PathBuf },

    #[error("the plan file {path} is not signed with the key in {env}: it was signed with another key, or changed by someone without the key; do not apply it: run `actlog-cmk plan --out {path}` again with the right key and review it; nothing was changed", path = .path.display(), env = signature::ENV)]
    WrongSignature { path: PathBuf },

    /// Reading a subscription's tenant failed.
    #[error(transparent)]
    Azure(#[from] AzureError),
}

fn describe_format(found: Option<&str>) -> String {
    match found {
        Some(f) => format!("its `format` is '{f}', not '{FORMAT}'"),
        None => format!("it has no `format` '{FORMAT}'"),
    }
}

fn mode_name(mode: PlanMode) -> &'static str {
    match mode {
        PlanMode::Remediation => "remediation",
        PlanMode::Rollback => "rollback",
    }
}

fn other_mode_hint(found: PlanMode) -> &'static str {
    match found {
        PlanMode::Remediation => "it was saved by `actlog-cmk plan --out`",
        PlanMode::Rollback => "it was saved by `actlog-cmk rollback --out`",
    }
}

/// A plan a file can hold: a remediation, or the undo of one (`rollback
/// --out`). Both are saved, signed and checked alike; `mode` in the plan
/// tells them apart (absent for a remediation, as before rollback plans).
pub trait SavedPlan: Serialize + DeserializeOwned {
    const MODE: PlanMode;
    fn schema_version(&self) -> u32;
    /// The first account whose recorded fingerprint is not that of what the
    /// plan says was observed there (the file was edited).
    fn tampered_account(&self) -> Option<String>;
}

impl SavedPlan for Plan {
    const MODE: PlanMode = PlanMode::Remediation;

    fn schema_version(&self) -> u32 {
        self.schema_version
    }

    fn tampered_account(&self) -> Option<String> {
        let accounts = self.accounts.iter();
        first_tampered(accounts.map(|a| {
            (
                &a.storage_account_id,
                &a.fingerprint,
                a.observed.fingerprint(),
            )
        }))
    }
}

/// Of `(account id, recorded fingerprint, fingerprint of what the plan says
/// was observed)`, the first account whose two fingerprints differ: either
/// mode's [`SavedPlan::tampered_account`].
pub fn first_tampered<'a>(
    accounts: impl IntoIterator<Item = (&'a String, &'a String, String)>,
) -> Option<String> {
    accounts
        .into_iter()
        .find(|(_, recorded, observed)| **recorded != *observed)
        .map(|(id, _, _)| id.clone())
}

/// The mode of the plan in a plan file's JSON.
fn mode_in(file: &Value) -> Option<PlanMode> {
    match file.get("plan")?.get("mode") {
        None => Some(PlanMode::Remediation),
        Some(mode) => serde_json::from_value(mode.clone()).ok(),
    }
}

fn made_by_other(made_by: &str) -> String {
    if made_by == TOOL_VERSION {
        String::new()
    } else {
        format!(" (it was made by actlog-cmk {made_by}: if that is newer, upgrade)")
    }
}

/// The canonical serialization of `plan` that the checksum and the
/// signature cover: compact `serde_json` of the typed plan.
pub(crate) fn canonical_bytes<T: Serialize>(plan: &T) -> Vec<u8> {
    // Serializing a Plan cannot fail: every map has string keys.
    serde_json::to_vec(plan).unwrap_or_default()
}

/// `sha256:<hex>` over the canonical serialization of `plan`.
pub fn checksum<T: Serialize>(plan: &T) -> String {
    let mut out = String::from(CHECKSUM_PREFIX);
    for b in Sha256::digest(canonical_bytes(plan)) {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[derive(Serialize)]
struct EnvelopeOut<'a, T> {
    format: &'static str,
    schema_version: u32,
    tool_version: &'static str,
    checksum: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    signature: Option<String>,
    plan: &'a T,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, bound = "T: DeserializeOwned")]
struct EnvelopeIn<T> {
    #[allow(dead_code)]
    format: String,
    schema_version: u32,
    #[allow(dead_code)]
    tool_version: String,
    checksum: String,
    #[serde(default)]
    signature: Option<String>,
    plan: T,
}

/// Writes `plan` to `path` unsigned; see [`save_with`].
pub fn save<T: SavedPlan>(plan: &T, path: &Path) -> Result<(), PlanFileError> {
    save_with(plan, path, None)
}

/// Writes `plan` to `path` atomically (a temporary file in the same
/// directory, then a rename), readable by its owner only on unix; signed
/// when there is a `key`.
pub fn save_with<T: SavedPlan>(
    plan: &T,
    path: &Path,
    key: Option<&PlanKey>,
) -> Result<(), PlanFileError> {
    if plan.schema_version() != SCHEMA_VERSION {
        return Err(PlanFileError::UnsupportedPlan {
            found: plan.schema_version(),
        });
    }
    let envelope = EnvelopeOut {
        format: FORMAT,
        schema_version: SCHEMA_VERSION,
        tool_version: TOOL_VERSION,
        checksum: checksum(plan),
        signature: key.map(|k| k.sign(plan)),
        plan,
    };
    let write_err = |source| PlanFileError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut bytes = serde_json::to_vec_pretty(&envelope).map_err(|e| write_err(e.into()))?;
    bytes.push(b'\n');
    write_atomically(path, &bytes).map_err(write_err)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let file_name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "the path does not name a file")
    })?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(file_name);
    temp_name.push(format!(".{}.tmp", uuid::Uuid::new_v4().simple()));
    let temp = dir.join(temp_name);

    let result = (|| {
        let mut file = create_private(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
        return result;
    }
    // Make the rename itself durable; not every platform can open a directory.
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(unix)]
fn create_private(path: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    // The umask can only take bits away, but say exactly what we mean.
    file.set_permissions(fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> io::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

/// Reads a plan file for apply: [`load`]'s checks, then the signature
/// policy. With a `key` (`ACTLOG_CMK_PLAN_KEY` set) only a plan signed with
/// it is accepted; without one, a signed plan is refused, since a key the
/// pipeline meant to check was not there to check it.
pub fn open(path: &Path, key: Option<&PlanKey>) -> Result<Plan, PlanFileError> {
    open_as(path, key)
}

/// [`open`] for a plan of either mode; a file holding the other mode is
/// refused ([`PlanFileError::OtherMode`]) before its plan is parsed.
pub fn open_as<T: SavedPlan>(path: &Path, key: Option<&PlanKey>) -> Result<T, PlanFileError> {
    let (plan, signature) = read(path)?;
    let p = || path.to_path_buf();
    match (key, signature) {
        (None, None) => Ok(plan),
        (None, Some(_)) => Err(PlanFileError::SignedWithoutKey { path: p() }),
        (Some(_), None) => Err(PlanFileError::Unsigned { path: p() }),
        (Some(key), Some(signature)) if key.verifies(&plan, &signature) => Ok(plan),
        (Some(_), Some(_)) => Err(PlanFileError::WrongSignature { path: p() }),
    }
}

/// Reads a plan file and checks it, in this order: size; JSON (empty,
/// truncated, other); `format`; `schema_version`; checksum present; plan
/// matches the model (no unknown fields); signature well formed, if there
/// is one; checksum matches; inner schema version; account fingerprints.
/// Whether the signature verifies is [`open`]'s check.
pub fn load(path: &Path) -> Result<Plan, PlanFileError> {
    read(path).map(|(plan, _)| plan)
}

/// [`load`], and the plan's signature if it has one.
fn read<T: SavedPlan>(path: &Path) -> Result<(T, Option<String>), PlanFileError> {
    let p = || path.to_path_buf();
    let bytes = read_capped(path)?;

    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(PlanFileError::Empty { path: p() });
    }
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
        if e.is_eof() {
            PlanFileError::Truncated {
                path: p(),
                line: e.line(),
                column: e.column(),
            }
        } else {
            PlanFileError::NotJson {
                path: p(),
                source: e,
            }
        }
    })?;

    let format = value.get("format");
    if format.and_then(Value::as_str) != Some(FORMAT) {
        return Err(PlanFileError::WrongFormat {
            path: p(),
            found: format.and_then(Value::as_str).map(str::to_string),
        });
    }
    let made_by = match value.get("tool_version") {
        Some(Value::String(v)) => v.clone(),
        Some(_) => return Err(bad_envelope(path, "tool_version", "not a string")),
        None => return Err(bad_envelope(path, "tool_version", "it is missing")),
    };
    let found = match value.get("schema_version") {
        Some(v) => v
            .as_u64()
            .ok_or_else(|| bad_envelope(path, "schema_version", "not a whole number"))?,
        None => return Err(bad_envelope(path, "schema_version", "it is missing")),
    };
    if found > u64::from(SCHEMA_VERSION) {
        return Err(PlanFileError::NewerSchema {
            path: p(),
            found,
            made_by,
        });
    }
    if found < u64::from(SCHEMA_VERSION) {
        return Err(PlanFileError::OlderSchema {
            path: p(),
            found,
            made_by,
        });
    }
    if !value.get("checksum").is_some_and(Value::is_string) {
        return Err(PlanFileError::ChecksumMissing { path: p() });
    }

    if let Some(found) = mode_in(&value).filter(|m| *m != T::MODE) {
        return Err(PlanFileError::OtherMode {
            path: p(),
            found,
            wanted: T::MODE,
        });
    }

    // From the bytes, not the Value: serde refuses duplicate fields there,
    // where a Value would have kept the last one silently.
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let envelope: EnvelopeIn<T> =
        serde_path_to_error::deserialize(&mut de).map_err(|e| PlanFileError::Invalid {
            path: p(),
            field: e.path().to_string(),
            message: e.inner().to_string(),
            made_by: made_by.clone(),
        })?;
    let plan = envelope.plan;
    if let Some(signature) = &envelope.signature {
        if !signature::well_formed(signature) {
            return Err(bad_envelope(
                path,
                "signature",
                "not an hmac-sha256 signature",
            ));
        }
    }

    if let Some(file_plan) = value.get("plan") {
        let typed = serde_json::to_value(&plan).unwrap_or(Value::Null);
        if let Some(field) = unknown_field(file_plan, &typed, "plan") {
            return Err(PlanFileError::Invalid {
                path: p(),
                field,
                message: "this field is not part of the plan model".into(),
                made_by,
            });
        }
    }

    if envelope.checksum != checksum(&plan) {
        return Err(PlanFileError::ChecksumMismatch { path: p() });
    }
    if plan.schema_version() != envelope.schema_version {
        return Err(PlanFileError::SchemaMismatch {
            path: p(),
            outer: envelope.schema_version,
            inner: plan.schema_version(),
        });
    }
    if let Some(account) = plan.tampered_account() {
        return Err(PlanFileError::FingerprintMismatch { path: p(), account });
    }
    Ok((plan, envelope.signature))
}

fn bad_envelope(path: &Path, field: &'static str, why: &'static str) -> PlanFileError {
    PlanFileError::BadEnvelope {
        path: path.to_path_buf(),
        field,
        why,
    }
}

fn read_capped(path: &Path) -> Result<Vec<u8>, PlanFileError> {
    let unreadable = |source| PlanFileError::Unreadable {
        path: path.to_path_buf(),
        source,
    };
    let too_large = |size| PlanFileError::TooLarge {
        path: path.to_path_buf(),
        size,
    };
    let file = fs::File::open(path).map_err(unreadable)?;
    let meta = file.metadata().map_err(unreadable)?;
    if meta.is_dir() {
        return Err(unreadable(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it is a directory",
        )));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large(meta.len()));
    }
    // The size can change between the check and the read (or lie, for a
    // pipe): never read more than the cap plus one byte.
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

/// The path of the first key in `file` that the typed re-serialization
/// `typed` lacks: a field the model does not know.
fn unknown_field(file: &Value, typed: &Value, at: &str) -> Option<String> {
    match (file, typed) {
        (Value::Object(f), Value::Object(t)) => f.iter().find_map(|(k, v)| match t.get(k) {
            None => Some(format!("{at}.{k}")),
            Some(tv) => unknown_field(v, tv, &format!("{at}.{k}")),
        }),
        (Value::Array(f), Value::Array(t)) => f
            .iter()
            .zip(t)
            .enumerate()
            .find_map(|(i, (fv, tv))| unknown_field(fv, tv, &format!("{at}[{i}]"))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::model::KeyCreate;
    use crate::plan::model::*;
    use std::collections::BTreeMap;

    const ACCOUNT: &str = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-logs/providers/Microsoft.Storage/storageAccounts/stlogs";

    fn plan() -> Plan {
        let observed = Observed {
            account: ObservedAccount {
                location: "westeurope".into(),
                key_source: "Microsoft.Storage".into(),
                identity_type: "None".into(),
                ..Default::default()
            },
            ..Default::default()
        };
        let account = AccountPlan {
            storage_account_id: ACCOUNT.into(),
            status: PlanStatus::NonCompliant,
            fingerprint: observed.fingerprint(),
            targets: Targets::default(),
            observed,
            changes: vec![ResourceChange {
                action: Action::Create,
                address: crate::plan::Address::Key,
                id: "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-logs/providers/Microsoft.KeyVault/vaults/kv/keys/k".into(),
                attributes: vec![AttributeChange {
                    name: "key_size".into(),
                    before: None,
                    after: serde_json::json!({"b": 2, "a": [1, "x", null]}),
                }],
                irreversible: None,
                desired: Desired::Key(KeyCreate {
                    vault_id: "v".into(),
                    name: "k".into(),
                    key_size: 3072,
                    expiry_days: None,
                    rotation_days: Some(365),
                    tags: BTreeMap::from([("owner".into(), "sec".into())]),
                }),
            }],
        };
        let skipped = vec![Skipped {
            storage_account_id: ACCOUNT.replace("stlogs", "stok"),
            status: PlanStatus::Compliant,
            reason: "already uses a customer-managed key".into(),
        }];
        Plan {
            schema_version: SCHEMA_VERSION,
            tool_version: TOOL_VERSION.into(),
            created_at: "2024-05-01T12:00:00Z".parse().unwrap(),
            tenant_id: "22222222-2222-2222-2222-222222222222".into(),
            arm_endpoint: "https://management.azure.com".into(),
            shard: None,
            tenants: Default::default(),
            settings: PlanSettings {
                key_name: "activity-log-cmk".into(),
                key_size: 3072,
                key_expiry_days: None,
                key_rotation_days: Some(365),
                permission_model: PermissionModel::Rbac,
                identity: None,
                key_vault: None,
                identity_name_template: "id-{account}-cmk".into(),
                vault_name_template: "kv-{account}-{hash}".into(),
                tags: BTreeMap::new(),
            },
            summary: PlanSummary::of(std::slice::from_ref(&account), &skipped),
            accounts: vec![account],
            skipped,
            unread: vec![],
        }
    }

    fn saved() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        save(&plan(), &path).unwrap();
        (dir, path)
    }

    fn read_json(path: &Path) -> Value {
        serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
    }

    fn write_json(path: &Path, v: &Value) {
        fs::write(path, serde_json::to_vec_pretty(v).unwrap()).unwrap();
    }

    /// Applies `edit` to the file's plan and writes it back with a correct
    /// checksum, as a forger who knows the algorithm would.
    fn forge(path: &Path, edit: impl FnOnce(&mut Plan)) {
        let mut v = read_json(path);
        let mut p: Plan = serde_json::from_value(v["plan"].clone()).unwrap();
        edit(&mut p);
        v["checksum"] = checksum(&p).into();
        v["plan"] = serde_json::to_value(&p).unwrap();
        write_json(path, &v);
    }

    fn message(e: &PlanFileError, path: &Path) -> String {
        let m = e.to_string();
        assert!(m.contains(&path.display().to_string()), "{m}");
        m
    }

    #[test]
    fn a_saved_plan_loads_back_identical() {
        let (_dir, path) = saved();
        assert_eq!(load(&path).unwrap(), plan());
        let v = read_json(&path);
        assert_eq!(v["format"], FORMAT);
        assert_eq!(v["schema_version"], SCHEMA_VERSION);
        assert_eq!(v["tool_version"], TOOL_VERSION);
        let sum = v["checksum"].as_str().unwrap();
        assert_eq!(sum, checksum(&plan()));
        assert_eq!(sum.len(), "sha256:".len() + 64);
    }

    #[test]
    fn saving_replaces_an_existing_file_and_leaves_no_temporary_file() {
        let (dir, path) = saved();
        let mut other = plan();
        other.tenant_id = "33333333-3333-3333-3333-333333333333".into();
        save(&other, &path).unwrap();
        assert_eq!(load(&path).unwrap(), other);
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[cfg(unix)]
    #[test]
    fn saved_plans_are_readable_by_their_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let (_dir, path) = saved();
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn saving_into_a_missing_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nope").join("plan.json");
        let e = save(&plan(), &path).unwrap_err();
        assert!(matches!(e, PlanFileError::Write { .. }), "{e}");
    }

    #[test]
    fn plans_of_another_schema_are_not_saved() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = plan();
        p.schema_version = 7;
        let e = save(&p, &dir.path().join("plan.json")).unwrap_err();
        assert!(
            matches!(e, PlanFileError::UnsupportedPlan { found: 7 }),
            "{e}"
        );
    }

    #[test]
    fn whitespace_and_key_order_do_not_matter() {
        let (_dir, path) = saved();
        let v = read_json(&path);
        // Compact, and the envelope's keys in another order.
        let text = format!(
            r#"{{"plan":{},"checksum":{},"tool_version":{},"schema_version":1,"format":"{FORMAT}"}}"#,
            v["plan"], v["checksum"], v["tool_version"]
        );
        fs::write(&path, text).unwrap();
        assert_eq!(load(&path).unwrap(), plan());
    }

    #[test]
    fn a_missing_file_is_unreadable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing.json");
        let e = load(&path).unwrap_err();
        assert!(matches!(e, PlanFileError::Unreadable { .. }), "{e}");
        assert!(message(&e, &path).contains("actlog-cmk plan --out"));
        let e = load(dir.path()).unwrap_err();
        assert!(matches!(e, PlanFileError::Unreadable { .. }), "{e}");
    }

    #[test]
    fn a_file_over_the_cap_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.json");
        let file = fs::File::create(&path).unwrap();
        file.set_len(MAX_FILE_BYTES + 1).unwrap();
        let e = load(&path).unwrap_err();
        assert!(matches!(e, PlanFileError::TooLarge { .. }), "{e}");
    }

    #[test]
    fn text_that_is_not_json_is_refused() {
        let (_dir, path) = saved();
        fs::write(&path, "format = 'actlog-cmk-plan'").unwrap();
        let e = load(&path).unwrap_err();
        assert!(matches!(e, PlanFileError::NotJson { .. }), "{e}");
        assert!(message(&e, &path).contains("run `actlog-cmk plan --out"));
    }

    #[test]
    fn a_truncated_file_is_refused_as_truncated() {
        let (_dir, path) = saved();
        let bytes = fs::read(&path).unwrap();
        fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let e = load(&path).unwrap_err();
        assert!(matches!(e, PlanFileError::Truncated { .. }), "{e}");
        for empty in ["", "\n  \n"] {
            fs::write(&path, empty).unwrap();
            let e = load(&path).unwrap_err();
            assert!(matches!(e, PlanFileError::Empty { .. }), "{e}");
        }
    }

    #[test]
    fn other_json_is_not_a_plan_file() {
        let (_dir, path) = saved();
        for (text, found) in [
            (r#"{"format": "terraform-plan"}"#, Some("terraform-plan")),
            (r#"{"schema_version": 1}"#, None),
            ("[1, 2]", None),
            ("null", None),
        ] {
            fs::write(&path, text).unwrap();
            match load(&path).unwrap_err() {
                PlanFileError::WrongFormat { found: f, .. } => assert_eq!(f.as_deref(), found),
                e => panic!("{text}: {e}"),
            }
        }
        // A saved audit report is the usual mistake.
        let e = load(&path).unwrap_err();
        assert!(message(&e, &path).contains("not an actlog-cmk plan file"));
    }

    #[test]
    fn a_newer_schema_asks_for_an_upgrade() {
        let (_dir, path) = saved();
        let mut v = read_json(&path);
        v["schema_version"] = 2.into();
        v["tool_version"] = "9.9.9".into();
        write_json(&path, &v);
        let e = load(&path).unwrap_err();
        assert!(
            matches!(e, PlanFileError::NewerSchema { found: 2, .. }),
            "{e}"
        );
        let m = message(&e, &path);
        assert!(m.contains("made by a newer actlog-cmk (9.9.9"), "{m}");
        assert!(m.contains("upgrade"), "{m}");
    }

    #[test]
    fn an_older_schema_asks_for_a_new_plan() {
        let (_dir, path) = saved();
        let mut v = read_json(&path);
        v["schema_version"] = 0.into();
        write_json(&path, &v);
        let e = load(&path).unwrap_err();
        assert!(
            matches!(e, PlanFileError::OlderSchema { found: 0, .. }),
            "{e}"
        );
        assert!(message(&e, &path).contains("no longer reads"));
    }

    #[test]
    fn envelope_fields_of_the_wrong_kind_are_refused() {
        let (_dir, path) = saved();
        let original = read_json(&path);
        for (field, bad) in [
            ("schema_version", Value::from("1")),
            ("schema_version", Value::from(-1)),
            ("schema_version", Value::Null),
            ("tool_version", Value::from(1)),
        ] {
            let mut v = original.clone();
            v[field] = bad.clone();
            write_json(&path, &v);
            match load(&path).unwrap_err() {
                PlanFileError::BadEnvelope { field: f, .. } => assert_eq!(f, field),
                e => panic!("{field} = {bad}: {e}"),
            }
        }
        let mut v = original;
        v.as_object_mut().unwrap().remove("schema_version");
        write_json(&path, &v);
        let e = load(&path).unwrap_err();
        assert!(
            matches!(
                e,
                PlanFileError::BadEnvelope {
                    field: "schema_version",
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn a_missing_checksum_is_refused() {
        let (_dir, path) = saved();
        let original = read_json(&path);
        let mut v = original.clone();
        v.as_object_mut().unwrap().remove("checksum");
        write_json(&path, &v);
        let e = load(&path).unwrap_err();
        assert!(matches!(e, PlanFileError::ChecksumMissing { .. }), "{e}");
        let mut v = original;
        v["checksum"] = Value::Null;
        write_json(&path, &v);
        let e = load(&path).unwrap_err();
        assert!(matches!(e, PlanFileError::ChecksumMissing { .. }), "{e}");
    }

    #[test]
    fn any_change_of_a_value_breaks_the_checksum() {
        let (_dir, path) = saved();
        let original = read_json(&path);
        type Edit = fn(&mut Value);
        let edits: [(&str, Edit); 4] = [
            ("key size", |v| {
                v["plan"]["settings"]["key_size"] = 4096.into();
            }),
            ("tag", |v| {
                v["plan"]["accounts"][0]["changes"][0]["desired"]["tags"]["owner"] = "me".into();
            }),
            ("free-form value", |v| {
                v["plan"]["accounts"][0]["changes"][0]["attributes"][0]["after"]["b"] = 3.into();
            }),
            ("checksum", |v| {
                v["checksum"] = format!("sha256:{}", "0".repeat(64)).into();
            }),
        ];
        for (what, edit) in edits {
            let mut v = original.clone();
            edit(&mut v);
            write_json(&path, &v);
            let e = load(&path).unwrap_err();
            assert!(
                matches!(e, PlanFileError::ChecksumMismatch { .. }),
                "{what}: {e}"
            );
            assert!(message(&e, &path).contains("changed after it was written"));
        }
    }

    #[test]
    fn a_plan_that_does_not_match_the_model_names_the_field() {
        let (_dir, path) = saved();
        let mut v = read_json(&path);
        v["plan"]["accounts"][0]["changes"][0]["desired"]["key_size"] = "big".into();
        write_json(&path, &v);
        match load(&path).unwrap_err() {
            // `desired` is an internally tagged enum, which serde buffers:
            // the path stops there.
            PlanFileError::Invalid { field, message, .. } => {
                assert_eq!(field, "plan.accounts[0].changes[0].desired");
                assert!(message.contains("expected u32"), "{message}");
            }
            e => panic!("{e}"),
        }
    }

    #[test]
    fn fields_the_model_does_not_know_are_refused() {
        let (_dir, path) = saved();
        let original = read_json(&path);
        let mut v = original.clone();
        v["plan"]["accounts"][0]["observed"]["account"]["firewall"] = true.into();
        write_json(&path, &v);
        match load(&path).unwrap_err() {
            PlanFileError::Invalid { field, .. } => {
                assert_eq!(field, "plan.accounts[0].observed.account.firewall")
            }
            e => panic!("{e}"),
        }
        let mut v = original;
        v["signed_by"] = "x".into();
        write_json(&path, &v);
        match load(&path).unwrap_err() {
            PlanFileError::Invalid { field, message, .. } => {
                assert_eq!(field, "signed_by", "{message}");
                assert!(message.contains("signed_by"), "{message}");
            }
            e => panic!("{e}"),
        }
    }

    #[test]
    fn a_newer_tools_fields_point_at_an_upgrade() {
        let (_dir, path) = saved();
        let mut v = read_json(&path);
        v["tool_version"] = "9.9.9".into();
        v["plan"]["new_thing"] = 1.into();
        write_json(&path, &v);
        let e = load(&path).unwrap_err();
        assert!(matches!(e, PlanFileError::Invalid { .. }), "{e}");
        assert!(message(&e, &path).contains("made by actlog-cmk 9.9.9"));
    }

    #[test]
    fn duplicate_fields_are_refused() {
        let (_dir, path) = saved();
        let text = fs::read_to_string(&path).unwrap();
        let text = text.replacen(
            r#""tenant_id": "#,
            r#""tenant_id": "44444444-4444-4444-4444-444444444444", "tenant_id": "#,
            1,
        );
        fs::write(&path, text).unwrap();
        let e = load(&path).unwrap_err();
        assert!(matches!(e, PlanFileError::Invalid { .. }), "{e}");
    }

    #[test]
    fn an_inner_schema_version_that_differs_is_refused() {
        let (_dir, path) = saved();
        forge(&path, |p| p.schema_version = 2);
        let e = load(&path).unwrap_err();
        assert!(
            matches!(
                e,
                PlanFileError::SchemaMismatch {
                    outer: 1,
                    inner: 2,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn an_observed_state_that_does_not_match_its_fingerprint_is_refused() {
        let (_dir, path) = saved();
        forge(&path, |p| {
            p.accounts[0].observed.account.key_source = "Microsoft.Keyvault".into()
        });
        match load(&path).unwrap_err() {
            PlanFileError::FingerprintMismatch { account, .. } => assert_eq!(account, ACCOUNT),
            e => panic!("{e}"),
        }
    }

    #[test]
    fn a_consistent_forgery_still_loads() {
        // The checksum detects damage and careless edits, not a forger who
        // recomputes it; apply's fresh reads are the defence there.
        let (_dir, path) = saved();
        forge(&path, |p| p.settings.key_size = 4096);
        assert_eq!(load(&path).unwrap().settings.key_size, 4096);
    }

    const KEY: &str = "0123456789abcdef0123456789abcdef-pipeline";

    fn key(text: &str) -> PlanKey {
        PlanKey::new(text).unwrap()
    }

    #[test]
    fn a_signed_plan_opens_with_its_key_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        save_with(&plan(), &path, Some(&key(KEY))).unwrap();
        let sig = read_json(&path)["signature"].as_str().unwrap().to_string();
        assert!(sig.starts_with("hmac-sha256:"), "{sig}");
        assert!(!fs::read_to_string(&path).unwrap().contains(KEY));
        assert_eq!(open(&path, Some(&key(KEY))).unwrap(), plan());
        // load does not judge the signature; open does.
        assert_eq!(load(&path).unwrap(), plan());
        let e = open(&path, None).unwrap_err();
        assert!(matches!(e, PlanFileError::SignedWithoutKey { .. }), "{e}");
        assert!(message(&e, &path).contains("ACTLOG_CMK_PLAN_KEY is not set"));
        let other = "another-key-of-enough-length-0123456789";
        let e = open(&path, Some(&key(other))).unwrap_err();
        assert!(matches!(e, PlanFileError::WrongSignature { .. }), "{e}");
        assert!(!e.to_string().contains(other) && !e.to_string().contains(KEY));
    }

    #[test]
    fn an_unsigned_plan_is_refused_while_a_key_is_set() {
        let (_dir, path) = saved();
        assert_eq!(open(&path, None).unwrap(), plan());
        let e = open(&path, Some(&key(KEY))).unwrap_err();
        assert!(matches!(e, PlanFileError::Unsigned { .. }), "{e}");
        assert!(message(&e, &path).contains("is not signed"));
    }

    #[test]
    fn a_forger_without_the_key_cannot_re_sign() {
        // The checksum can be recomputed (a_consistent_forgery_still_loads);
        // the signature cannot without the key.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        save_with(&plan(), &path, Some(&key(KEY))).unwrap();
        forge(&path, |p| p.settings.key_size = 4096);
        assert_eq!(load(&path).unwrap().settings.key_size, 4096);
        let e = open(&path, Some(&key(KEY))).unwrap_err();
        assert!(matches!(e, PlanFileError::WrongSignature { .. }), "{e}");
        // Dropping the signature does not help either.
        let mut v = read_json(&path);
        v.as_object_mut().unwrap().remove("signature");
        write_json(&path, &v);
        let e = open(&path, Some(&key(KEY))).unwrap_err();
        assert!(matches!(e, PlanFileError::Unsigned { .. }), "{e}");
    }

    #[test]
    fn a_malformed_signature_is_refused() {
        let (_dir, path) = saved();
        let mut v = read_json(&path);
        v["signature"] = "hmac-sha256:nothex".into();
        write_json(&path, &v);
        match load(&path).unwrap_err() {
            PlanFileError::BadEnvelope { field, .. } => assert_eq!(field, "signature"),
            e => panic!("{e}"),
        }
    }
}
