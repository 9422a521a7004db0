//! The subscriptions an audit reads: the ones given, or every visible one
//! as the subscription list's pages arrive, so that the first page's sources
//! are read while ARM is still paging (a tenant of 5,000 subscriptions has
//! 50 pages, which can only be read one after another).

use crate::azure::subscriptions::{self, Subscription};
use crate::azure::{Arm, AzureError, Snapshot};
use crate::shard::Shard;
use futures::channel::mpsc;
use futures::stream::{self, BoxStream, StreamExt};
use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

/// The listed subscriptions' tenants, every one (before a shard is picked),
/// filled in as the list is read: the report's tenant when they agree.
#[derive(Default)]
pub struct ListedTenants(Mutex<BTreeMap<String, String>>);

impl ListedTenants {
    pub fn into_inner(self) -> BTreeMap<String, String> {
        self.0.into_inner().unwrap_or_else(PoisonError::into_inner)
    }

    fn note(&self, snapshot: &Snapshot, subscription: &Subscription) -> String {
        let id = subscription.subscription_id.to_ascii_lowercase();
        if !subscription.tenant_id.is_empty() {
            // Plan needs the tenants and need not ask again.
            snapshot.feed_tenant(&id, &subscription.tenant_id);
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(id.clone(), subscription.tenant_id.clone());
        }
        id
    }
}

/// The subscriptions in scope, lower case, in the list's order, as they are
/// listed: `given`, or (when empty) every visible subscription, each listed
/// one's tenant fed to the snapshot and to `tenants`; then only those of
/// `shard`. The list's first page is read here, so a list that fails at once
/// (sign-in, endpoint, permission) fails before anything else is asked; an
/// error reading a later page is the stream's last item.
pub async fn subscriptions<'a>(
    arm: &Arm,
    snapshot: &'a Snapshot,
    given: &'a [String],
    shard: Option<Shard>,
    tenants: &'a ListedTenants,
) -> Result<BoxStream<'a, Result<String, AzureError>>, AzureError> {
    let in_shard = move |id: &String| shard.is_none_or(|shard| shard.covers(id));
    if !given.is_empty() {
        let ids: Vec<Result<String, AzureError>> = given
            .iter()
            .filter(|id| in_shard(id))
            .cloned()
            .map(Ok)
            .collect();
        return Ok(stream::iter(ids).boxed());
    }
    let mut pages = subscriptions::pages(arm.clone()).boxed();
    let first = match pages.next().await {
        Some(Err(e)) => return Err(e),
        first => first,
    };
    // The rest are read on a task of their own: the next page is asked for
    // as soon as the last one arrives, however busy the caller's task is with
    // the subscriptions already listed. It stops when the caller does.
    let (sender, receiver) = mpsc::unbounded();
    tokio::spawn(async move {
        while let Some(page) = pages.next().await {
            if sender.unbounded_send(page).is_err() {
                return;
            }
        }
    });
    Ok(stream::iter(first)
        .chain(receiver)
        .flat_map(move |page| {
            let ids: Vec<Result<String, AzureError>> = match page {
                Err(e) => vec![Err(e)],
                Ok(subs) => subs
                    .iter()
                    .map(|s| tenants.note(snapshot, s))
                    .filter(in_shard)
                    .map(Ok)
                    .collect(),
            };
            stream::iter(ids)
        })
        .boxed())
}
