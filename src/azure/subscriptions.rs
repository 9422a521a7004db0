//! Subscriptions the credential can see (`GET /subscriptions`, every page),
//! and subscriptions named on the command line by id or display name.
//! Sent through the shared pipeline: azure_mgmt_resources 0.21 fails on the
//! last page, which has no `nextLink` (AZURE_NOTES §4).

use super::id::{parse_subscription_id, InvalidResourceId};
use super::{Arm, AzureError};
use futures::stream::{self, Stream, StreamExt};
use serde::Deserialize;

pub const API: &str = "2022-12-01";

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub subscription_id: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub tenant_id: String,
}

/// One subscription (its tenant, for the vaults the tool creates there).
pub async fn get(arm: &Arm, subscription_id: &str) -> Result<Subscription, AzureError> {
    arm.get_json(
        &format!("/subscriptions/{subscription_id}?api-version={API}"),
        &format!("subscription {subscription_id}"),
    )
    .await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    #[serde(default)]
    value: Vec<Subscription>,
    next_link: Option<String>,
}

/// Every subscription, following `nextLink` until the last page, and how
/// many pages that took.
pub async fn list(arm: &Arm) -> Result<(Vec<Subscription>, usize), AzureError> {
    let mut all = Vec::new();
    let mut count = 0;
    let mut pages = std::pin::pin!(pages(arm.clone()));
    while let Some(page) = pages.next().await {
        all.extend(page?);
        count += 1;
    }
    Ok((all, count))
}

/// The subscription list page by page, as ARM answers them: a caller can
/// start on the first page's subscriptions while the next is still being
/// read (pages can only be read one after another, each naming the next).
/// An error ends the stream; a `nextLink` to another host is one (the token
/// must not travel there). Owns its connection (a clone) so that it can be
/// read on a task of its own.
pub fn pages(arm: Arm) -> impl Stream<Item = Result<Vec<Subscription>, AzureError>> + Send {
    let first = Some(format!("/subscriptions?api-version={API}"));
    stream::unfold((arm, first), |(arm, next)| async move {
        let path = next?;
        let page: Page = match arm.get_json(&path, "the subscription list").await {
            Ok(page) => page,
            Err(e) => return Some((Err(e), (arm, None))),
        };
        let next = match page.next_link.filter(|l| !l.is_empty()) {
            None => None,
            Some(link) => match arm.same_host_path(&link, "the subscription list") {
                Ok(next) => Some(next),
                Err(e) => return Some((Err(e), (arm, None))),
            },
        };
        Some((Ok(page.value), (arm, next)))
    })
}

/// A subscription as the user named it on the command line: by id, or by
/// its display name (`-s contoso-dev`), as the Azure CLI's `--subscription`
/// takes either.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriptionRef {
    /// A valid subscription id, lower case.
    Id(String),
    /// A display name, to be looked up in the subscription list.
    Name(String),
}

impl SubscriptionRef {
    /// An id, a display name, or (for text shaped like an id that is not a
    /// valid one: a resource path, or hex digits and dashes) the malformed-id
    /// error, before any call.
    pub fn parse(text: &str) -> Result<SubscriptionRef, InvalidResourceId> {
        let text = text.trim();
        match parse_subscription_id(text) {
            Ok(id) => Ok(SubscriptionRef::Id(id)),
            Err(e) if looks_like_an_id(text) || text.is_empty() => Err(e),
            Err(_) => Ok(SubscriptionRef::Name(text.to_string())),
        }
    }
}

/// A mistyped GUID or a resource path, not a name someone chose.
fn looks_like_an_id(text: &str) -> bool {
    text.starts_with('/')
        || (text.contains('-') && text.chars().all(|c| c.is_ascii_hexdigit() || c == '-'))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubscriptionNameError {
    #[error("no subscription named '{name}' among the {visible} the credential can see: check the name (`az account list -o table`), or give the subscription's id")]
    Unknown { name: String, visible: usize },
    #[error("the subscription name '{name}' is ambiguous: {} have it ({}); give the id of the one you mean", .matches.len(), describe(.matches))]
    Ambiguous {
        name: String,
        /// (display name, id) of each match.
        matches: Vec<(String, String)>,
    },
}

fn describe(matches: &[(String, String)]) -> String {
    matches
        .iter()
        .map(|(name, id)| format!("'{name}' {id}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The ids of `refs`, in order and without repeats, names looked up in
/// `visible` (the subscription list): an exact match first, else one that
/// differs only in case; more than one match is ambiguous.
pub fn resolve(
    refs: &[SubscriptionRef],
    visible: &[Subscription],
) -> Result<Vec<String>, SubscriptionNameError> {
    let mut ids: Vec<String> = Vec::new();
    for r in refs {
        let id = match r {
            SubscriptionRef::Id(id) => id.clone(),
            SubscriptionRef::Name(name) => {
                let exact: Vec<&Subscription> =
                    visible.iter().filter(|s| s.display_name == *name).collect();
                let matches = if exact.is_empty() {
                    visible
                        .iter()
                        .filter(|s| s.display_name.eq_ignore_ascii_case(name))
                        .collect()
                } else {
                    exact
                };
                match matches.as_slice() {
                    [one] => one.subscription_id.to_ascii_lowercase(),
                    [] => {
                        return Err(SubscriptionNameError::Unknown {
                            name: name.clone(),
                            visible: visible.len(),
                        })
                    }
                    many => {
                        return Err(SubscriptionNameError::Ambiguous {
                            name: name.clone(),
                            matches: many
                                .iter()
                                .map(|s| (s.display_name.clone(), s.subscription_id.clone()))
                                .collect(),
                        })
                    }
                }
            }
        };
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "11111111-1111-1111-1111-111111111111";
    const B: &str = "22222222-2222-2222-2222-222222222222";
    const C: &str = "33333333-3333-3333-3333-333333333333";

    fn sub(id: &str, name: &str) -> Subscription {
        Subscription {
            subscription_id: id.into(),
            display_name: name.into(),
            state: "Enabled".into(),
            tenant_id: String::new(),
        }
    }

    fn name(n: &str) -> SubscriptionRef {
        SubscriptionRef::Name(n.into())
    }

    #[test]
    fn ids_names_and_malformed_ids_are_told_apart() {
        assert_eq!(
            SubscriptionRef::parse(&format!(" {} ", A.to_uppercase())).unwrap(),
            SubscriptionRef::Id(A.into())
        );
        assert_eq!(
            SubscriptionRef::parse("contoso-dev").unwrap(),
            name("contoso-dev")
        );
        assert_eq!(
            SubscriptionRef::parse("not-a-guid").unwrap(),
            name("not-a-guid")
        );
        assert_eq!(
            SubscriptionRef::parse("Pay-As-You-Go").unwrap(),
            name("Pay-As-You-Go")
        );
        for malformed in [
            "1111111-1111-1111-1111-111111111111",
            "11111111-1111-1111-1111-1111111111",
            "/subscriptions/11111111-1111-1111-1111-111111111111",
            "",
        ] {
            let e = SubscriptionRef::parse(malformed).unwrap_err();
            assert!(e.to_string().contains("GUID"), "{malformed}: {e}");
        }
    }

    #[test]
    fn names_resolve_to_ids_in_order_without_repeats() {
        let visible = [
            sub(A, "contoso-prod"),
            sub(B, "contoso-dev"),
            sub(C, "Contoso-Data"),
        ];
        let refs = [
            name("contoso-dev"),
            SubscriptionRef::Id(A.into()),
            name("contoso-data"),
            SubscriptionRef::Id(B.into()),
        ];
        assert_eq!(resolve(&refs, &visible).unwrap(), [B, A, C]);
    }

    #[test]
    fn an_exact_name_wins_over_one_that_differs_in_case() {
        let visible = [sub(A, "dev"), sub(B, "DEV")];
        assert_eq!(resolve(&[name("DEV")], &visible).unwrap(), [B]);
        let e = resolve(&[name("Dev")], &visible).unwrap_err();
        assert!(matches!(e, SubscriptionNameError::Ambiguous { .. }), "{e}");
    }

    #[test]
    fn ambiguous_and_unknown_names_are_refused_naming_them() {
        let visible = [sub(A, "shared"), sub(B, "shared"), sub(C, "other")];
        let e = resolve(&[name("shared")], &visible).unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains("'shared'") && m.contains(A) && m.contains(B),
            "{m}"
        );
        assert!(!m.contains(C), "{m}");
        let e = resolve(&[name("missing")], &visible).unwrap_err();
        assert_eq!(
            e,
            SubscriptionNameError::Unknown {
                name: "missing".into(),
                visible: 3
            }
        );
        assert!(e.to_string().contains("'missing'"), "{e}");
    }
}
