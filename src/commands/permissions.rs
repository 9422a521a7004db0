//! `actlog-cmk permissions`: print the custom role definitions of
//! `crate::permissions` as JSON for `az role definition create`.

use crate::cli::{PermissionsArgs, RoleChoice};
use crate::exit_status::ExitStatus;
use crate::permissions::{assignable_scopes, Role, PLACEHOLDER_SCOPE};

pub fn run(args: PermissionsArgs) -> anyhow::Result<ExitStatus> {
    let scopes = assignable_scopes(&args.scopes)?;
    let roles: &[Role] = match args.role {
        RoleChoice::Audit => &[Role::Audit],
        RoleChoice::Apply => &[Role::Apply],
        RoleChoice::Rollback => &[Role::Rollback],
        RoleChoice::All => &Role::ALL,
    };
    let definitions: Vec<_> = roles.iter().map(|r| r.definition(&scopes)).collect();
    let mut text = match definitions.as_slice() {
        [one] => serde_json::to_string_pretty(one)?,
        all => serde_json::to_string_pretty(all)?,
    };
    text.push('\n');
    if scopes.is_empty() {
        eprintln!(
            "note: AssignableScopes is the placeholder {PLACEHOLDER_SCOPE}; pass --scope /subscriptions/<id> (repeatable) for definitions az accepts as they are"
        );
    }
    super::write_output(None, &text)?;
    Ok(ExitStatus::Success)
}
