//! The config file (`actlog-cmk.toml`): settings for `plan` and `apply` that
//! a team keeps in its repository instead of repeating flags. Each setting
//! comes from the first of: a flag, the environment, this file, the default
//! (docs/configuration.md). This module reads and checks the file; the
//! validators are shared with the flags, so a value means the same wherever
//! it is given.

use super::model::PermissionModel;
use crate::azure::id::ResourceId;
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The file used when neither `--config` nor [`CONFIG_ENV`] names one, if it
/// exists in the current directory.
pub const DEFAULT_CONFIG_FILE: &str = "actlog-cmk.toml";

/// The environment variable that names the config file (`--config`'s `env`).
pub const CONFIG_ENV: &str = "ACTLOG_CMK_CONFIG";

/// The placeholders a name template may use.
pub const PLACEHOLDERS: [&str; 5] = [
    "account",
    "resource_group",
    "subscription",
    "location",
    "hash",
];

/// RSA key sizes Azure Storage accepts for a customer-managed key.
pub const KEY_SIZES: [u32; 3] = [2048, 3072, 4096];

/// Requests in flight at once, as `--parallelism` allows.
pub const PARALLELISM: std::ops::RangeInclusive<u16> = 1..=256;

const IDENTITY_TYPE: &str = "Microsoft.ManagedIdentity/userAssignedIdentities";
const VAULT_TYPE: &str = "Microsoft.KeyVault/vaults";

/// Settings from the config file; `None` (or empty) where the file says nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub key_name: Option<String>,
    pub key_size: Option<u32>,
    pub key_expiry_days: Option<u32>,
    pub key_rotation_days: Option<u32>,
    #[serde(default, deserialize_with = "permission_model")]
    pub permission_model: Option<PermissionModel>,
    pub identity: Option<String>,
    pub key_vault: Option<String>,
    #[serde(default)]
    pub names: Names,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub parallelism: Option<u16>,
}

/// `[names]`: templates for the names of what the tool creates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Names {
    pub identity: Option<String>,
    pub vault: Option<String>,
}

/// What a name template names; for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplateKind {
    Identity,
    Vault,
}

impl TemplateKind {
    pub fn describe(self) -> &'static str {
        match self {
            TemplateKind::Identity => "identity name template",
            TemplateKind::Vault => "vault name template",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("the config file {path} does not exist: fix the path given with --config or {CONFIG_ENV}", path = .path.display())]
    NotFound { path: PathBuf },

    #[error("could not read the config file {path}: {source}", path = .path.display())]
    Unreadable { path: PathBuf, source: io::Error },

    #[error("the config file {path} is not valid: {message}\n(see docs/configuration.md for its keys)", path = .path.display())]
    Parse { path: PathBuf, message: String },

    #[error("the config file {path} has a bad `{field}`: {message}", path = .path.display())]
    Invalid {
        path: PathBuf,
        field: String,
        message: String,
    },
}

/// Reads the config file: `explicit` (from `--config` or [`CONFIG_ENV`]),
/// which must exist; without one, `./actlog-cmk.toml` if it exists; else
/// an empty config.
pub fn load_config(explicit: Option<&Path>) -> Result<ConfigFile, ConfigError> {
    load_config_in(explicit, Path::new("."))
}

fn load_config_in(explicit: Option<&Path>, dir: &Path) -> Result<ConfigFile, ConfigError> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let p = dir.join(DEFAULT_CONFIG_FILE);
            if !p.is_file() {
                return Ok(ConfigFile::default());
            }
            p
        }
    };
    let text = fs::read_to_string(&path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => ConfigError::NotFound { path: path.clone() },
        _ => ConfigError::Unreadable {
            path: path.clone(),
            source,
        },
    })?;
    parse_config(&text, &path)
}

/// Parses and checks config text; `path` is for messages.
pub fn parse_config(text: &str, path: &Path) -> Result<ConfigFile, ConfigError> {
    let config: ConfigFile = toml::from_str(text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.to_string().trim_end().to_string(),
    })?;
    config
        .validate()
        .map_err(|(field, message)| ConfigError::Invalid {
            path: path.to_path_buf(),
            field,
            message,
        })?;
    Ok(config)
}

impl ConfigFile {
    /// Checks each value with the validators the flags use; on error, the
    /// key (`names.vault`, `tags.owner`) and why.
    fn validate(&self) -> Result<(), (String, String)> {
        if let Some(n) = &self.key_name {
            validate_key_name(n).map_err(at("key_name"))?;
        }
        if let Some(n) = self.key_size {
            validate_key_size(n).map_err(at("key_size"))?;
        }
        if let Some(n) = self.key_expiry_days {
            validate_days(n).map_err(at("key_expiry_days"))?;
        }
        if let Some(n) = self.key_rotation_days {
            validate_days(n).map_err(at("key_rotation_days"))?;
        }
        validate_key_lifetime(self.key_expiry_days, self.key_rotation_days).map_err(|m| {
            let field = if self.key_rotation_days.is_some() {
                "key_rotation_days"
            } else {
                "key_expiry_days"
            };
            (field.to_string(), m)
        })?;
        if let Some(id) = &self.identity {
            validate_resource_id(id, IDENTITY_TYPE).map_err(at("identity"))?;
        }
        if let Some(id) = &self.key_vault {
            validate_resource_id(id, VAULT_TYPE).map_err(at("key_vault"))?;
        }
        if let Some(t) = &self.names.identity {
            validate_template(t, TemplateKind::Identity).map_err(at("names.identity"))?;
        }
        if let Some(t) = &self.names.vault {
            validate_template(t, TemplateKind::Vault).map_err(at("names.vault"))?;
        }
        for (name, value) in &self.tags {
            validate_tag(name, value).map_err(|m| (format!("tags.{name}"), m))?;
        }
        validate_tag_count(&self.tags).map_err(at("tags"))?;
        if let Some(n) = self.parallelism {
            if !PARALLELISM.contains(&n) {
                return Err(at("parallelism")(format!(
                    "{n} is out of range: give 1 to {}",
                    PARALLELISM.end()
                )));
            }
        }
        Ok(())
    }
}

fn at(field: &'static str) -> impl Fn(String) -> (String, String) {
    move |m| (field.to_string(), m)
}

/// Accepts the spellings of the flag (`access-policy`) and of the plan JSON
/// (`access_policy`).
fn permission_model<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PermissionModel>, D::Error> {
    let s = String::deserialize(d)?;
    parse_permission_model(&s)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// `rbac`, `access-policy` or `access_policy`.
pub fn parse_permission_model(s: &str) -> Result<PermissionModel, String> {
    match s {
        "rbac" => Ok(PermissionModel::Rbac),
        "access-policy" | "access_policy" => Ok(PermissionModel::AccessPolicy),
        _ => Err(format!(
            "'{s}' is not a permission model: use 'rbac' or 'access-policy'"
        )),
    }
}

/// A key size Azure Storage accepts: 2048, 3072 or 4096 bits.
pub fn validate_key_size(n: u32) -> Result<u32, String> {
    if KEY_SIZES.contains(&n) {
        Ok(n)
    } else {
        Err(format!(
            "{n} is not a supported RSA key size: use 2048, 3072 or 4096"
        ))
    }
}

/// A Key Vault key name: 1-127 letters, digits and hyphens.
pub fn validate_key_name(s: &str) -> Result<String, String> {
    if s.is_empty() || s.len() > 127 {
        return Err(format!(
            "'{s}' is not a valid key name: it must be 1-127 characters long"
        ));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return Err(format!(
            "'{s}' is not a valid key name: {c:?} is not allowed (only letters, digits and '-')"
        ));
    }
    Ok(s.to_string())
}

/// A name template: text with placeholders from [`PLACEHOLDERS`] in braces.
/// Characters a name cannot hold are turned into `-` when the name is made
/// (`naming.rs`), so only the placeholders and braces are checked here.
pub fn validate_template(s: &str, kind: TemplateKind) -> Result<String, String> {
    let what = kind.describe();
    if s.trim().is_empty() {
        return Err(format!("the {what} is empty"));
    }
    let mut rest = s;
    while let Some(i) = rest.find(['{', '}']) {
        if rest[i..].starts_with('}') {
            return Err(format!("the {what} '{s}' has a '}}' without a '{{'"));
        }
        let after = &rest[i + 1..];
        let close = match after.find(['{', '}']) {
            None => return Err(format!("the {what} '{s}' has a '{{' without a '}}'")),
            Some(j) if after[j..].starts_with('{') => {
                return Err(format!(
                    "the {what} '{s}' has a '{{' inside '{{...}}': placeholders cannot nest"
                ))
            }
            Some(j) => j,
        };
        let name = &after[..close];
        if !PLACEHOLDERS.contains(&name) {
            return Err(format!(
                "the {what} '{s}' uses {{{name}}}, which is not a placeholder: use {}",
                PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")
            ));
        }
        rest = &after[close + 1..];
    }
    Ok(s.to_string())
}

/// `identity` and `key_vault` are resource ids of existing resources.
fn validate_resource_id(id: &str, resource_type: &str) -> Result<(), String> {
    let parsed = ResourceId::parse(id).map_err(|e| e.to_string())?;
    if parsed.is_type(resource_type) {
        Ok(())
    } else {
        Err(format!(
            "'{id}' is a {} id, not a {resource_type} id",
            parsed.resource_type()
        ))
    }
}

/// A day count for key expiry or rotation: at least one.
pub fn validate_days(n: u32) -> Result<u32, String> {
    if n == 0 {
        Err("0 days: give at least 1, or leave it out".into())
    } else {
        Ok(n)
    }
}

/// Azure's limit of tags on a resource (identity, vault).
/// <https://learn.microsoft.com/azure/azure-resource-manager/management/tag-resources#limitations>
pub const MAX_RESOURCE_TAGS: usize = 50;

/// Key Vault's limit of tags on a key: the tool tags the keys it creates with
/// the same tags as its other resources, so this is the limit that binds.
/// <https://learn.microsoft.com/rest/api/keyvault/keys/create-key> ("maximum 15 tags").
pub const MAX_KEY_TAGS: usize = 15;

/// The tags the tool adds to everything it creates (rollback finds its work
/// by them), on top of `--tag`.
pub const OWN_TAGS: [&str; 2] = [super::build::TAG_MANAGED_BY, super::build::TAG_ACCOUNT];

/// `--tag` values and the file's `[tags]`, counted with the tool's own tags
/// (names compare as Azure compares them, case-insensitively): every created
/// key carries them all, and Key Vault refuses a key with more than
/// [`MAX_KEY_TAGS`] (resources stop at [`MAX_RESOURCE_TAGS`]).
pub fn validate_tag_count(tags: &BTreeMap<String, String>) -> Result<(), String> {
    let mut names: Vec<String> = tags.keys().map(|k| k.to_ascii_lowercase()).collect();
    names.extend(OWN_TAGS.iter().map(|t| t.to_ascii_lowercase()));
    names.sort();
    names.dedup();
    let total = names.len();
    let own = OWN_TAGS.join(", ");
    if total > MAX_RESOURCE_TAGS {
        return Err(format!(
            "{total} tags with the tool's own ({own}): Azure allows at most {MAX_RESOURCE_TAGS} tags on a resource, and Key Vault {MAX_KEY_TAGS} on a key"
        ));
    }
    if total > MAX_KEY_TAGS {
        return Err(format!(
            "{total} tags with the tool's own ({own}): Key Vault allows at most {MAX_KEY_TAGS} tags on a key, and the tool tags the key it creates like its other resources; give at most {} tags",
            MAX_KEY_TAGS - OWN_TAGS.len()
        ));
    }
    Ok(())
}

/// Key Vault's rotation rules (how to configure key rotation:
/// <https://learn.microsoft.com/azure/key-vault/keys/how-to-configure-key-rotation>):
/// a rotation no sooner than 7 days after creation and, with an expiry, no
/// later than 7 days before it; an expiry (the rotation policy's
/// `expiryTime`, which write.rs sets from the same days) of at least 28 days.
pub const MIN_ROTATION_DAYS: u32 = 7;
pub const MIN_DAYS_BEFORE_EXPIRY: u32 = 7;
pub const MIN_EXPIRY_DAYS: u32 = 28;

/// `--key-expiry-days` and `--key-rotation-days` (or the file's) against
/// Key Vault's rules, so that a plan never holds a key Key Vault refuses.
pub fn validate_key_lifetime(expiry: Option<u32>, rotation: Option<u32>) -> Result<(), String> {
    if let Some(expiry) = expiry {
        if expiry < MIN_EXPIRY_DAYS {
            return Err(format!(
                "key expiry of {expiry} days: Key Vault requires at least {MIN_EXPIRY_DAYS} days (--key-expiry-days)"
            ));
        }
    }
    if let Some(rotation) = rotation {
        if rotation < MIN_ROTATION_DAYS {
            return Err(format!(
                "key rotation after {rotation} days: Key Vault rotates no sooner than {MIN_ROTATION_DAYS} days after creation (--key-rotation-days)"
            ));
        }
        if let Some(expiry) = expiry {
            if rotation + MIN_DAYS_BEFORE_EXPIRY > expiry {
                return Err(format!(
                    "key rotation after {rotation} days with expiry after {expiry} days: Key Vault rotates no later than {MIN_DAYS_BEFORE_EXPIRY} days before expiry, so --key-rotation-days must be at most {} (or --key-expiry-days at least {})",
                    expiry - MIN_DAYS_BEFORE_EXPIRY,
                    rotation + MIN_DAYS_BEFORE_EXPIRY
                ));
            }
        }
    }
    Ok(())
}

/// An Azure tag: a name of 1-512 characters without `<>%&\?/`, a value of
/// at most 256 characters.
pub fn validate_tag(name: &str, value: &str) -> Result<(), String> {
    if name.is_empty() || name.chars().count() > 512 {
        return Err(format!(
            "the tag name '{name}' must be 1-512 characters long"
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| "<>%&\\?/".contains(*c) || c.is_control())
    {
        return Err(format!("the tag name '{name}' may not contain {c:?}"));
    }
    if value.chars().count() > 256 {
        return Err(format!(
            "the value of tag '{name}' is longer than 256 characters"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ConfigFile, ConfigError> {
        parse_config(text, Path::new("team.toml"))
    }

    const FULL: &str = r#"
key_name = "activity-log-cmk"
key_size = 4096
key_expiry_days = 730
key_rotation_days = 365
permission_model = "access-policy"
identity = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-cmk"
key_vault = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-central"
parallelism = 8

[names]
identity = "id-{account}-cmk"
vault = "kv-{account}-{hash}"

[tags]
owner = "security"
cost-center = "1234"
"#;

    #[test]
    fn key_lifetimes_follow_key_vaults_rotation_rules() {
        assert_eq!(validate_key_lifetime(None, None), Ok(()));
        assert_eq!(validate_key_lifetime(Some(28), None), Ok(()));
        assert_eq!(validate_key_lifetime(None, Some(7)), Ok(()));
        assert_eq!(validate_key_lifetime(Some(365), Some(30)), Ok(()));
        assert_eq!(validate_key_lifetime(Some(37), Some(30)), Ok(()));
        let short = validate_key_lifetime(Some(27), None).unwrap_err();
        assert!(short.contains("at least 28 days"), "{short}");
        let soon = validate_key_lifetime(None, Some(6)).unwrap_err();
        assert!(
            soon.contains("no sooner than 7 days after creation"),
            "{soon}"
        );
        let late = validate_key_lifetime(Some(36), Some(30)).unwrap_err();
        assert!(
            late.contains("no later than 7 days before expiry"),
            "{late}"
        );
        assert!(late.contains("at most 29"), "{late}");
    }

    #[test]
    fn tag_counts_include_the_tools_own_tags() {
        let tags = |n: usize| -> BTreeMap<String, String> {
            (0..n).map(|i| (format!("t{i}"), "v".to_string())).collect()
        };
        assert_eq!(validate_tag_count(&tags(13)), Ok(()));
        let fourteen = validate_tag_count(&tags(14)).unwrap_err();
        assert!(fourteen.contains("at most 15 tags on a key"), "{fourteen}");
        assert!(fourteen.contains("16 tags"), "{fourteen}");
        // The tool's own names, in any casing, are not counted twice.
        let mut own = tags(13);
        own.insert("Managed-By".into(), "me".into());
        assert_eq!(validate_tag_count(&own), Ok(()));
        let many = validate_tag_count(&tags(49)).unwrap_err();
        assert!(many.contains("at most 50 tags on a resource"), "{many}");
    }

    #[test]
    fn every_key_is_read() {
        let c = parse(FULL).unwrap();
        assert_eq!(c.key_name.as_deref(), Some("activity-log-cmk"));
        assert_eq!(c.key_size, Some(4096));
        assert_eq!(c.key_expiry_days, Some(730));
        assert_eq!(c.key_rotation_days, Some(365));
        assert_eq!(c.permission_model, Some(PermissionModel::AccessPolicy));
        assert!(c.identity.unwrap().ends_with("/id-cmk"));
        assert!(c.key_vault.unwrap().ends_with("/vaults/kv-central"));
        assert_eq!(c.parallelism, Some(8));
        assert_eq!(c.names.identity.as_deref(), Some("id-{account}-cmk"));
        assert_eq!(c.names.vault.as_deref(), Some("kv-{account}-{hash}"));
        assert_eq!(c.tags.len(), 2);
        assert_eq!(c.tags["cost-center"], "1234");
    }

    #[test]
    fn an_empty_file_is_the_default() {
        assert_eq!(parse("").unwrap(), ConfigFile::default());
        assert_eq!(parse("# nothing yet\n").unwrap(), ConfigFile::default());
    }

    #[test]
    fn permission_models_take_either_spelling() {
        for (s, m) in [
            ("rbac", PermissionModel::Rbac),
            ("access-policy", PermissionModel::AccessPolicy),
            ("access_policy", PermissionModel::AccessPolicy),
        ] {
            let c = parse(&format!("permission_model = '{s}'")).unwrap();
            assert_eq!(c.permission_model, Some(m));
        }
        let e = parse("permission_model = 'RBAC'").unwrap_err().to_string();
        assert!(e.contains("'rbac' or 'access-policy'"), "{e}");
    }

    #[test]
    fn unknown_keys_are_refused_with_the_file_line_and_key() {
        let e = parse("key_name = 'k'\nkey_sise = 2048\n").unwrap_err();
        assert!(matches!(e, ConfigError::Parse { .. }), "{e}");
        let m = e.to_string();
        assert!(m.contains("team.toml"), "{m}");
        assert!(m.contains("line 2"), "{m}");
        assert!(m.contains("key_sise"), "{m}");
        let m = parse("[names]\naccount = 'x'\n").unwrap_err().to_string();
        assert!(m.contains("account") && m.contains("line 2"), "{m}");
    }

    #[test]
    fn values_of_the_wrong_type_are_refused_with_the_line() {
        for text in [
            "key_size = '4096'",
            "parallelism = 70000",
            "tags = 'x'",
            "[tags]\na = 1",
        ] {
            let m = parse(text).unwrap_err().to_string();
            assert!(m.contains("line"), "{text}: {m}");
        }
        let m = parse("key_name = ").unwrap_err().to_string();
        assert!(m.contains("team.toml") && m.contains("line 1"), "{m}");
    }

    const VAULT_AS_IDENTITY: &str = "identity = '/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv'";

    #[test]
    fn bad_values_name_the_file_and_key() {
        for (text, field) in [
            ("key_size = 1024", "key_size"),
            ("key_name = 'my_key'", "key_name"),
            ("key_expiry_days = 0", "key_expiry_days"),
            ("key_rotation_days = 0", "key_rotation_days"),
            ("parallelism = 0", "parallelism"),
            ("parallelism = 257", "parallelism"),
            ("key_vault = ''", "key_vault"),
            ("key_vault = 'kv-central'", "key_vault"),
            ("identity = ' '", "identity"),
            (VAULT_AS_IDENTITY, "identity"),
            ("[names]\nvault = 'kv-{acount}'", "names.vault"),
            ("[names]\nidentity = 'id-{account'", "names.identity"),
            ("[tags]\n'a/b' = 'x'", "tags.a/b"),
        ] {
            match parse(text).unwrap_err() {
                ConfigError::Invalid { field: f, path, .. } => {
                    assert_eq!(f, field, "{text}");
                    assert_eq!(path, Path::new("team.toml"));
                }
                e => panic!("{text}: {e}"),
            }
        }
    }

    #[test]
    fn too_many_tags_are_refused() {
        let text: String = std::iter::once("[tags]\n".to_string())
            .chain((0..51).map(|i| format!("t{i} = 'v'\n")))
            .collect();
        let e = parse(&text).unwrap_err();
        assert!(
            matches!(e, ConfigError::Invalid { ref field, .. } if field == "tags"),
            "{e}"
        );
    }

    #[test]
    fn an_explicit_file_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing.toml");
        let e = load_config_in(Some(&path), dir.path()).unwrap_err();
        assert!(matches!(e, ConfigError::NotFound { .. }), "{e}");
        assert!(e.to_string().contains("missing.toml"), "{e}");
        let e = load_config_in(Some(dir.path()), dir.path()).unwrap_err();
        assert!(matches!(e, ConfigError::Unreadable { .. }), "{e}");
    }

    #[test]
    fn an_explicit_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("team.toml");
        fs::write(&path, FULL).unwrap();
        // Another file in the default place is ignored.
        fs::write(dir.path().join(DEFAULT_CONFIG_FILE), "key_size = 2048").unwrap();
        let c = load_config_in(Some(&path), dir.path()).unwrap();
        assert_eq!(c.key_size, Some(4096));
    }

    #[test]
    fn the_default_file_is_read_when_present() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            load_config_in(None, dir.path()).unwrap(),
            ConfigFile::default()
        );
        let path = dir.path().join(DEFAULT_CONFIG_FILE);
        fs::write(&path, "key_size = 2048").unwrap();
        assert_eq!(
            load_config_in(None, dir.path()).unwrap().key_size,
            Some(2048)
        );
        fs::write(&path, "key_size = 1").unwrap();
        let e = load_config_in(None, dir.path()).unwrap_err();
        assert!(e.to_string().contains(DEFAULT_CONFIG_FILE), "{e}");
    }

    #[test]
    fn key_sizes() {
        for n in KEY_SIZES {
            assert_eq!(validate_key_size(n), Ok(n));
        }
        for n in [0, 1024, 2047, 8192] {
            assert!(validate_key_size(n).is_err(), "{n}");
        }
    }

    #[test]
    fn key_names() {
        for ok in ["k", "activity-log-cmk", "Key-2024", &"a".repeat(127)] {
            assert_eq!(validate_key_name(ok).as_deref(), Ok(ok));
        }
        for bad in ["", "my_key", "key.1", "key name", "clé", &"a".repeat(128)] {
            assert!(validate_key_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn templates_use_known_placeholders_in_balanced_braces() {
        for ok in [
            "kv-{account}-{hash}",
            "id-{account}-cmk",
            "{subscription}{resource_group}{location}",
            "constant-name",
        ] {
            assert_eq!(
                validate_template(ok, TemplateKind::Vault).as_deref(),
                Ok(ok)
            );
        }
        for (bad, says) in [
            ("", "empty"),
            ("kv-{acount}", "{acount}"),
            ("kv-{}", "{}"),
            ("kv-{ACCOUNT}", "{ACCOUNT}"),
            ("kv-{account", "without a '}'"),
            ("kv-{{account}}", "cannot nest"),
            ("kv-account}", "without a '{'"),
            ("kv-}{account}", "without a '{'"),
            ("kv-{account{hash}}", "cannot nest"),
        ] {
            let e = validate_template(bad, TemplateKind::Identity).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
            assert!(e.contains("identity name template"), "{e}");
        }
    }

    #[test]
    fn tags() {
        assert!(validate_tag("owner", "security team").is_ok());
        assert!(validate_tag("", "x").is_err());
        assert!(validate_tag("a?b", "x").is_err());
        assert!(validate_tag(&"n".repeat(513), "x").is_err());
        assert!(validate_tag("n", &"v".repeat(257)).is_err());
    }
}
