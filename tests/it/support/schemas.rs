//! JSON Schema validation for tests: the project's documented schemas
//! (docs/schemas/) and the official OASIS SARIF 2.1.0 schema.
//!
//! Where the SARIF schema comes from: the `serde-sarif` crate (a dev-dependency,
//! pinned in Cargo.toml and checksummed in Cargo.lock) ships the official
//! `sarif-schema-2.1.0.json` as its `src/schema.json`, the file its build script
//! generates its types from. Cargo has therefore already downloaded it to build
//! the tests, and `cargo metadata` tells where the crate's sources are, whatever
//! CARGO_HOME, vendoring or registry mirror is in use. No network, no Node, no
//! copy in this repository that could drift or be edited to pass.
//! `ACTLOG_CMK_SARIF_SCHEMA` may name the file instead.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A schema of docs/schemas/, e.g. `audit.schema.json`.
pub fn project_schema(name: &str) -> Value {
    read_json(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("docs/schemas")
            .join(name),
    )
}

/// Validates `instance` against the project schema `name`, resolving its
/// references to sibling schemas.
pub fn assert_matches_project_schema(name: &str, instance: &Value, what: &str) {
    assert_valid(&validator(&project_schema(name)), instance, what);
}

pub fn read_json(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

/// A validator for `schema` that also checks `format`s.
pub fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .unwrap_or_else(|e| panic!("cannot build a validator: {e}"))
}

pub fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

pub fn assert_valid(validator: &jsonschema::Validator, instance: &Value, what: &str) {
    let errors = errors(validator, instance);
    assert!(
        errors.is_empty(),
        "{what} does not match its schema:\n{}\n\n{}",
        errors.join("\n"),
        serde_json::to_string_pretty(instance).unwrap()
    );
}

pub fn assert_invalid(validator: &jsonschema::Validator, instance: &Value, what: &str) {
    assert!(
        !errors(validator, instance).is_empty(),
        "the schema accepts {what}"
    );
}

/// The official SARIF 2.1.0 schema shipped by the `serde-sarif` crate.
pub fn official_sarif_schema() -> Value {
    if let Some(path) = std::env::var_os("ACTLOG_CMK_SARIF_SCHEMA") {
        return read_json(Path::new(&path));
    }
    read_json(&serde_sarif_dir().join("src/schema.json"))
}

/// Where Cargo unpacked the `serde-sarif` crate, as `cargo metadata` says.
pub fn serde_sarif_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(&manifest);
    // Only this platform's packages: those are downloaded already (the build
    // needed them), so no network is used; without the filter Cargo would fetch
    // every platform's crates.
    if let Some(host) = host_triple() {
        command.args(["--filter-platform", &host]);
    }
    let output = command.output().expect("running cargo metadata");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("cargo metadata's JSON");
    let package = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["name"] == "serde-sarif")
        .expect("serde-sarif is a dev-dependency (it ships the SARIF schema)");
    let manifest_path = PathBuf::from(package["manifest_path"].as_str().expect("manifest_path"));
    manifest_path
        .parent()
        .expect("the crate's directory")
        .to_path_buf()
}

pub fn host_triple() -> Option<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(rustc).arg("-vV").output().ok()?;
    String::from_utf8(output.stdout)
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(|h| h.trim().to_string())
}

/// The `language` pattern of the official schema (on `run` and
/// `toolComponent`) has an unescaped `]`: a literal `]` under ECMA-262's
/// legacy Annex B grammar, a syntax error in a strict regex, so the validator
/// refuses the whole schema. Escaping it keeps the meaning exactly; nothing
/// else is touched, and an upstream change to the pattern fails here.
const LANGUAGE_PATTERN: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";
const LANGUAGE_PATTERN_ESCAPED: &str = r"^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\]?$";

pub fn escape_language_pattern(value: &mut Value) -> usize {
    match value {
        Value::Object(map) => {
            let mut count = 0;
            for (key, v) in map.iter_mut() {
                if key == "pattern" && v == LANGUAGE_PATTERN {
                    *v = json!(LANGUAGE_PATTERN_ESCAPED);
                    count += 1;
                } else {
                    count += escape_language_pattern(v);
                }
            }
            count
        }
        Value::Array(items) => items.iter_mut().map(escape_language_pattern).sum(),
        _ => 0,
    }
}

pub fn sarif_validator() -> jsonschema::Validator {
    let mut schema = official_sarif_schema();
    assert_eq!(
        escape_language_pattern(&mut schema),
        2,
        "the official schema's two `language` patterns"
    );
    // The OASIS schema itself, not a look-alike.
    assert_eq!(
        schema["$id"],
        "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json"
    );
    assert_eq!(
        schema["title"],
        "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    );
    assert_eq!(schema["properties"]["version"]["enum"], json!(["2.1.0"]));
    validator(&schema)
}
