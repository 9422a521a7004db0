//! The query options of `Resources_List` as ARM reads them: `$filter`
//! (`eq` on `resourceType`, `name`, `resourceGroup`, `location`, joined by
//! `and`), `$expand`, the `$top` limit; and how one indexed resource is
//! matched and rendered as `GenericResourceExpanded`.

use super::errors::invalid_expand;
use crate::emulator::context::format_timestamp;
use crate::emulator::error::ArmError;
use crate::emulator::provider::IndexedResource;
use serde_json::{json, Value};

/// ARM refuses a larger `$top` on this call (azure-sdk-for-js#18535).
pub(super) const MAX_TOP: usize = 1000;

/// A property `$filter` can compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Property {
    ResourceType,
    Name,
    ResourceGroup,
    Location,
}

/// `property eq 'value'`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Condition {
    property: Property,
    value: String,
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum Token {
    Word(String),
    Literal(String),
}

/// Words and single-quoted literals (`''` is a quote inside a literal, as in OData).
fn tokenize(filter: &str) -> Option<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut chars = filter.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '\'' {
            chars.next();
            let mut literal = String::new();
            loop {
                match chars.next()? {
                    '\'' if chars.peek() == Some(&'\'') => {
                        chars.next();
                        literal.push('\'');
                    }
                    '\'' => break,
                    other => literal.push(other),
                }
            }
            tokens.push(Token::Literal(literal));
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '\'' {
                    break;
                }
                word.push(c);
                chars.next();
            }
            tokens.push(Token::Word(word));
        }
    }
    Some(tokens)
}

/// The conditions of a supported filter (none for an empty one), or `None`
/// when the filter is not one the emulator can evaluate.
pub(super) fn parse_filter(filter: &str) -> Option<Vec<Condition>> {
    let tokens = tokenize(filter)?;
    if tokens.is_empty() {
        return Some(Vec::new());
    }
    let mut conditions = Vec::new();
    for clause in tokens.split(|t| matches!(t, Token::Word(w) if w == "and")) {
        let [Token::Word(name), Token::Word(op), Token::Literal(value)] = clause else {
            return None;
        };
        if op != "eq" {
            return None;
        }
        // Property names are read ignoring case: the .NET SDK sends them in lower case.
        let property = match name.to_ascii_lowercase().as_str() {
            "resourcetype" => Property::ResourceType,
            "name" => Property::Name,
            "resourcegroup" => Property::ResourceGroup,
            "location" => Property::Location,
            _ => return None,
        };
        conditions.push(Condition {
            property,
            value: value.clone(),
        });
    }
    Some(conditions)
}

/// Which `$expand` members were asked for.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Expand {
    created_time: bool,
    changed_time: bool,
    provisioning_state: bool,
}

pub(super) fn parse_expand(expand: &str) -> Result<Expand, ArmError> {
    let mut wanted = Expand::default();
    for member in expand.split(',').map(str::trim).filter(|m| !m.is_empty()) {
        match member.to_ascii_lowercase().as_str() {
            "createdtime" => wanted.created_time = true,
            "changedtime" => wanted.changed_time = true,
            "provisioningstate" => wanted.provisioning_state = true,
            _ => return Err(invalid_expand(expand)),
        }
    }
    Ok(wanted)
}

/// What the index does with one resource: match a `$filter` condition and
/// render it as `GenericResourceExpanded`.
pub(super) trait Listed {
    fn matches(&self, condition: &Condition) -> bool;
    fn to_json(&self, expand: Expand) -> Value;
}

impl Listed for IndexedResource {
    fn matches(&self, condition: &Condition) -> bool {
        let field = match condition.property {
            Property::ResourceType => self.resource_type,
            Property::Name => &self.name,
            Property::ResourceGroup => &self.resource_group,
            Property::Location => &self.location,
        };
        field.eq_ignore_ascii_case(&condition.value)
    }

    /// `GenericResourceExpanded`, with only the members the spec defines.
    fn to_json(&self, expand: Expand) -> Value {
        let mut item = json!({
            "id": self.id,
            "name": self.name,
            "type": self.resource_type,
            "location": self.location,
        });
        if !self.tags.is_empty() {
            item["tags"] = Value::Object(self.tags.clone());
        }
        if let Some(kind) = &self.kind {
            item["kind"] = json!(kind);
        }
        if let (true, Some(created)) = (expand.created_time, self.created) {
            item["createdTime"] = json!(format_timestamp(created));
        }
        if let (true, Some(changed)) = (expand.changed_time, self.changed) {
            item["changedTime"] = json!(format_timestamp(changed));
        }
        if expand.provisioning_state {
            item["provisioningState"] = json!(self.provisioning_state);
        }
        item
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eq(property: Property, value: &str) -> Condition {
        Condition {
            property,
            value: value.into(),
        }
    }

    #[test]
    fn filters_az_resource_list_sends_are_read() {
        assert_eq!(parse_filter(""), Some(vec![]));
        assert_eq!(parse_filter("  "), Some(vec![]));
        assert_eq!(
            parse_filter("resourceType eq 'Microsoft.KeyVault/vaults' and name eq 'kv-1'"),
            Some(vec![
                eq(Property::ResourceType, "Microsoft.KeyVault/vaults"),
                eq(Property::Name, "kv-1"),
            ])
        );
        assert_eq!(
            parse_filter("resourceGroup eq 'rg' and location eq 'westeurope' and NAME eq 'it''s'"),
            Some(vec![
                eq(Property::ResourceGroup, "rg"),
                eq(Property::Location, "westeurope"),
                eq(Property::Name, "it's"),
            ])
        );
    }

    #[test]
    fn other_filters_are_refused() {
        for filter in [
            "name ne 'x'",
            "name eq 'x' or name eq 'y'",
            "substringof('kv', name)",
            "tagName eq 'env' and tagValue eq 'prod'",
            "identity eq 'x'",
            "startswith(tagName, 'dep')",
            "name eq 'x",
            "name eq x",
            "name eq 'x' and",
            "and name eq 'x'",
            "name eq 'x' and and name eq 'y'",
            "(name eq 'x')",
            "name EQ 'x'",
            "$filter=name eq 'x'",
        ] {
            assert_eq!(parse_filter(filter), None, "{filter}");
        }
    }

    #[test]
    fn expand_members_are_the_documented_three() {
        let e = parse_expand("createdTime, provisioningstate").unwrap();
        assert!(e.created_time && e.provisioning_state && !e.changed_time);
        assert_eq!(parse_expand("").unwrap(), Expand::default());
        assert_eq!(
            parse_expand("properties").unwrap_err().code,
            "InvalidExpandQueryOptionValue"
        );
    }
}
