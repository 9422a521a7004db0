//! Rules that span providers. In Azure one service sometimes asks others
//! before it answers (storage asks Key Vault, Entra ID and RBAC whether a
//! customer-managed key can be used); those questions live here, so that
//! providers import only `providers::common` and `rules`, never each other.

pub mod cmk_key;
pub mod destination;
pub mod identity;
pub mod scope;

pub use cmk_key::{authentication_failure, check_cmk_key, ResolvedKey};
pub use destination::check_storage_destination;
pub use identity::{check_attached_identity, user_assigned_principal, IdentityPrincipal};
pub use scope::{
    check_management_group_access, management_group_exists, management_group_not_found,
    resource_group_exists,
};
