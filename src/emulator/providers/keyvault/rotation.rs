//! A key's rotation policy: its shape, Key Vault's rules for it, and how it
//! is answered.
//!
//! Key Vault's rules (Microsoft Learn, "Configure cryptographic key
//! auto-rotation in Azure Key Vault"; the .NET SDK's `KeyRotationPolicy.ExpiresIn`
//! "should be at least 28 days"; nagyesta/lowkey-vault#181 lists the same
//! three), enforced in every profile because Azure always does:
//! - a rotation no sooner than 7 days after creation (`timeAfterCreate >= P7D`);
//! - a rotation no later than 7 days before expiry (`timeBeforeExpiry >= P7D`,
//!   and `timeAfterCreate <= expiryTime - P7D`);
//! - an `expiryTime` of at least 28 days.
//!
//! No public trace shows the management plane's words for these refusals:
//! the code is the provider's usual 400 `BadRequest` and the messages are
//! *(chosen)* after the documentation's. Action types are read in any
//! casing and answered in `keyRotationActionCasing`'s.

use super::errors::{invalid_value, rule_broken};
use crate::emulator::error::ArmError;
use crate::emulator::settings::RotationActionCasing;
use serde_json::{json, Map, Value};

/// Key Vault's shortest distance of a rotation from creation and from expiry.
const MIN_ROTATION_DAYS: f64 = 7.0;
/// Key Vault's shortest `expiryTime`.
const MIN_EXPIRY_DAYS: f64 = 28.0;

/// An ISO 8601 duration (`P1Y2M10D`, `P4W`, `PT36H`) in days, counting a year
/// as 365 days and a month as 30, as the comparisons need; `None` when malformed.
pub fn duration_days(text: &str) -> Option<f64> {
    let rest = text.strip_prefix('P')?;
    if rest.is_empty() {
        return None;
    }
    let (mut days, mut in_time, mut number) = (0.0, false, String::new());
    // Components read, and those after `T` (a `T` needs at least one).
    let (mut parts, mut time_parts) = (0, 0);
    for c in rest.chars() {
        match c {
            '0'..='9' | '.' => number.push(c),
            'T' if !in_time && number.is_empty() => in_time = true,
            unit => {
                let n: f64 = number.parse().ok()?;
                number.clear();
                parts += 1;
                time_parts += usize::from(in_time);
                days += n * match (in_time, unit) {
                    (false, 'Y') => 365.0,
                    (false, 'M') => 30.0,
                    (false, 'W') => 7.0,
                    (false, 'D') => 1.0,
                    (true, 'H') => 1.0 / 24.0,
                    (true, 'M') => 1.0 / 1440.0,
                    (true, 'S') => 1.0 / 86_400.0,
                    _ => return None,
                };
            }
        }
    }
    (parts > 0 && number.is_empty() && (!in_time || time_parts > 0)).then_some(days)
}

/// A duration member of the policy, in days.
fn days_of(value: Option<&Value>, name: &str) -> Result<Option<f64>, ArmError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_str()
            .and_then(duration_days)
            .map(Some)
            .ok_or_else(|| invalid_value(name)),
    }
}

/// Checks a `rotationPolicy` against its shape and Key Vault's rules; stores
/// it as sent, with `attributes.created`/`updated` added as the answer shows them.
pub fn parse_rotation_policy(policy: Option<&Value>, now: i64) -> Result<Option<Value>, ArmError> {
    let Some(policy) = policy.filter(|p| !p.is_null()) else {
        return Ok(None);
    };
    let bad = || invalid_value("rotationPolicy");
    let mut policy = policy.as_object().ok_or_else(bad)?.clone();
    let mut attributes = match policy.get("attributes") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(a)) => a.clone(),
        Some(_) => return Err(bad()),
    };
    let expiry = days_of(
        attributes.get("expiryTime"),
        "rotationPolicy.attributes.expiryTime",
    )?;
    if let (Some(days), Some(text)) = (expiry, attributes.get("expiryTime")) {
        if days < MIN_EXPIRY_DAYS {
            return Err(rule_broken(format!(
                "The rotation policy's expiryTime '{}' is too short: a key must live at least 28 days (P28D).",
                text.as_str().unwrap_or_default()
            )));
        }
    }
    if let Some(actions) = policy.get("lifetimeActions").filter(|a| !a.is_null()) {
        for action in actions.as_array().ok_or_else(bad)? {
            check_action(action, expiry)?;
        }
    }
    attributes.insert("created".into(), json!(now));
    attributes.insert("updated".into(), json!(now));
    policy.insert("attributes".into(), Value::Object(attributes));
    Ok(Some(Value::Object(policy)))
}

/// One lifetime action: a known type (any casing) and one trigger, and for a
/// rotation, Key Vault's distances from creation and expiry.
fn check_action(action: &Value, expiry_days: Option<f64>) -> Result<(), ArmError> {
    let bad = || invalid_value("rotationPolicy");
    let kind = action.pointer("/action/type").and_then(Value::as_str);
    let rotate = match kind.map(str::to_ascii_lowercase).as_deref() {
        Some("rotate") => true,
        Some("notify") => false,
        _ => return Err(bad()),
    };
    let trigger = action
        .get("trigger")
        .and_then(Value::as_object)
        .ok_or_else(bad)?;
    let after_create = days_of(trigger.get("timeAfterCreate"), "timeAfterCreate")?;
    let before_expiry = days_of(trigger.get("timeBeforeExpiry"), "timeBeforeExpiry")?;
    if after_create.is_none() && before_expiry.is_none() {
        return Err(bad());
    }
    if !rotate {
        return Ok(());
    }
    let text = |name: &str| {
        trigger
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    if after_create.is_some_and(|d| d < MIN_ROTATION_DAYS) {
        return Err(rule_broken(format!(
            "The rotation policy's timeAfterCreate '{}' is too soon: a key can be rotated no sooner than 7 days (P7D) after it was created.",
            text("timeAfterCreate")
        )));
    }
    if before_expiry.is_some_and(|d| d < MIN_ROTATION_DAYS) {
        return Err(rule_broken(format!(
            "The rotation policy's timeBeforeExpiry '{}' is too late: a key must be rotated at least 7 days (P7D) before it expires.",
            text("timeBeforeExpiry")
        )));
    }
    if let (Some(after), Some(expiry)) = (after_create, expiry_days) {
        if after > expiry - MIN_ROTATION_DAYS {
            return Err(rule_broken(format!(
                "The rotation policy's timeAfterCreate '{}' is too late: a key must be rotated at least 7 days (P7D) before its expiryTime.",
                text("timeAfterCreate")
            )));
        }
    }
    Ok(())
}

/// The stored policy as Key Vault answers it: each action type in the
/// casing of `keyRotationActionCasing` (Key Vault `Rotate`/`Notify`, Managed
/// HSM `rotate`/`notify`, Azure/azure-rest-api-specs#25714), whatever was sent.
pub fn answered_policy(policy: &Value, casing: RotationActionCasing) -> Value {
    let mut policy = policy.clone();
    if let Some(actions) = policy
        .get_mut("lifetimeActions")
        .and_then(Value::as_array_mut)
    {
        for action in actions {
            if let Some(kind) = action.pointer_mut("/action/type") {
                if let Some(answer) = kind.as_str().and_then(|k| casing.answer(k)) {
                    *kind = json!(answer);
                }
            }
        }
    }
    policy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_durations_are_read_in_days() {
        assert_eq!(duration_days("P7D"), Some(7.0));
        assert_eq!(duration_days("P1Y"), Some(365.0));
        assert_eq!(duration_days("P1Y2M10D"), Some(435.0));
        assert_eq!(duration_days("P4W"), Some(28.0));
        assert_eq!(duration_days("PT36H"), Some(1.5));
        for bad in ["", "P", "7D", "P7", "PD", "P7X", "PT", "P1DT"] {
            assert_eq!(duration_days(bad), None, "{bad}");
        }
    }

    fn policy(actions: Value, expiry: Option<&str>) -> Value {
        let mut p = json!({"lifetimeActions": actions});
        if let Some(e) = expiry {
            p["attributes"] = json!({"expiryTime": e});
        }
        p
    }

    fn rotate_after(d: &str) -> Value {
        json!([{"trigger": {"timeAfterCreate": d}, "action": {"type": "Rotate"}}])
    }

    #[test]
    fn key_vaults_rotation_rules_hold() {
        let ok = |p: Value| parse_rotation_policy(Some(&p), 0).is_ok();
        assert!(ok(policy(rotate_after("P7D"), Some("P28D"))));
        assert!(!ok(policy(rotate_after("P7D"), Some("P14D"))));
        assert!(ok(policy(rotate_after("P21D"), Some("P28D"))));
        assert!(!ok(policy(rotate_after("P22D"), Some("P28D"))));
        assert!(!ok(policy(rotate_after("P6D"), None)));
        assert!(ok(policy(rotate_after("P7D"), None)));
        assert!(!ok(policy(json!([]), Some("P27D"))));
        let before =
            |d: &str| json!([{"trigger": {"timeBeforeExpiry": d}, "action": {"type": "rotate"}}]);
        assert!(!ok(policy(before("P6D"), Some("P90D"))));
        assert!(ok(policy(before("P7D"), Some("P90D"))));
        // Notifications are not rotations.
        let notify =
            json!([{"trigger": {"timeBeforeExpiry": "P1D"}, "action": {"type": "Notify"}}]);
        assert!(ok(policy(notify, Some("P90D"))));
    }
}
