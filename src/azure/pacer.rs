//! The pacing of `pacing.rs` applied to real requests: one lane per ARM
//! bucket (a subscription's or the tenant's reads, writes or deletes), its
//! requests admitted one after another as the bucket's model allows, on the
//! real clock, updates after the creations waiting with them
//! (`pacing::goes_first`). `transport.rs` asks for a place before each attempt and
//! reports the answer; the decisions themselves are `pacing.rs`'s.

use super::pacing::{goes_first, Admission, Answer, Bucket, Kind, Scope, Ticket};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Every bucket the tool has sent to in this process.
#[derive(Debug)]
pub(super) struct Pacer {
    origin: Instant,
    lanes: Mutex<HashMap<(Scope, Kind), Arc<Lane>>>,
}

impl Default for Pacer {
    fn default() -> Self {
        Pacer {
            origin: Instant::now(),
            lanes: Mutex::default(),
        }
    }
}

#[derive(Debug, Default)]
struct Lane {
    bucket: Mutex<Bucket>,
    /// Held by the request at the head of the lane while it waits, so the
    /// others queue behind it in order (tokio's mutex is fair) instead of
    /// all waking for every token.
    head: tokio::sync::Mutex<()>,
    /// An answer that lifted the model, or a place given back: the head looks again.
    wake: tokio::sync::Notify,
    /// Requests that go first (`goes_first`) waiting for their place; updates
    /// join the queue only when there are none.
    first_waiting: AtomicUsize,
    /// One of those got its place (or gave up waiting).
    first_done: tokio::sync::Notify,
}

/// Counts a request that goes first among the lane's waiting ones, until dropped.
struct GoingFirst<'l>(&'l Lane);

impl Drop for GoingFirst<'_> {
    fn drop(&mut self) {
        self.0.first_waiting.fetch_sub(1, Ordering::SeqCst);
        self.0.first_done.notify_waiters();
    }
}

/// A poisoned lock only means another request panicked; the model is still usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A request's place in its lane until its answer is in; dropped without
/// one (an I/O error, a cancelled call), it is given back.
pub(super) struct Place {
    lane: Arc<Lane>,
    ticket: Ticket,
    header: String,
    answered: bool,
}

impl Place {
    /// The answer header that says what is left in this request's bucket.
    pub(super) fn remaining_header(&self) -> &str {
        &self.header
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        if !self.answered && lock(&self.lane.bucket).abandoned(self.ticket) {
            self.lane.wake.notify_waiters();
        }
    }
}

/// Waits of at least this long are shown as waits (`logging::Wait`); shorter
/// ones are the ordinary spacing of requests.
const VISIBLE_WAIT: Duration = Duration::from_secs(1);
/// How often an update waiting behind creations looks at their count again.
const PROBE_AGAIN: Duration = Duration::from_millis(50);

impl Pacer {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    fn lane(&self, scope: &Scope, kind: Kind) -> Arc<Lane> {
        lock(&self.lanes)
            .entry((scope.clone(), kind))
            .or_default()
            .clone()
    }

    /// Waits until the bucket `method` and `path` are charged to may take
    /// the request.
    pub(super) async fn admit(&self, method: &str, path: &str) -> Place {
        let (scope, kind) = (Scope::of(path), Kind::of(method, path));
        let lane = self.lane(&scope, kind);
        let _first = if goes_first(method) {
            lane.first_waiting.fetch_add(1, Ordering::SeqCst);
            Some(GoingFirst(&lane))
        } else {
            while lane.first_waiting.load(Ordering::SeqCst) > 0 {
                let done = lane.first_done.notified();
                tokio::pin!(done);
                done.as_mut().enable();
                if lane.first_waiting.load(Ordering::SeqCst) == 0 {
                    break;
                }
                // Bounded: a count that changed between the load and `enable` is seen again.
                let _ = tokio::time::timeout(PROBE_AGAIN, done).await;
            }
            None
        };
        let _head = lane.head.lock().await;
        loop {
            let wake = lane.wake.notified();
            tokio::pin!(wake);
            // Registered before the model is read, so no answer is missed.
            wake.as_mut().enable();
            let decision = lock(&lane.bucket).admit(self.now());
            let wait = match decision {
                Admission::Go(ticket) => {
                    return Place {
                        header: scope.remaining_header(kind),
                        lane: lane.clone(),
                        ticket,
                        answered: false,
                    }
                }
                Admission::Wait(wait) => wait,
            };
            tracing::trace!(path, wait_ms = wait.as_millis() as u64, "paced");
            let sleep = async {
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = &mut wake => {}
                }
            };
            if wait >= VISIBLE_WAIT {
                crate::logging::Wait::begin(
                    "Azure's request rate for this subscription",
                    Some(wait),
                )
                .during(sleep)
                .await;
            } else {
                sleep.await;
            }
        }
    }

    /// Takes in what the answer to `place`'s request said about its bucket.
    pub(super) fn answered(&self, mut place: Place, answer: Answer) {
        place.answered = true;
        let lifted = lock(&place.lane.bucket).answered(place.ticket, answer, self.now());
        if lifted {
            place.lane.wake.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_place_given_back_lets_the_next_probe_go() {
        let pacer = Pacer::default();
        let path = "/subscriptions/s/resourceGroups/rg";
        let first = pacer.admit("GET", path).await;
        let _second = pacer.admit("GET", path).await;
        // Both probes are out; the third waits until one is answered or given back.
        let third = tokio::time::timeout(Duration::from_millis(50), pacer.admit("GET", path));
        assert!(third.await.is_err());
        drop(first);
        let third = tokio::time::timeout(Duration::from_secs(5), pacer.admit("GET", path));
        assert!(third.await.is_ok());
        // Another bucket is not held up by this one.
        let other = tokio::time::timeout(Duration::from_secs(5), pacer.admit("PUT", path));
        assert!(other.await.is_ok());
    }

    #[tokio::test]
    async fn an_update_waits_for_the_creations_queued_with_it() {
        let pacer = std::sync::Arc::new(Pacer::default());
        let path =
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a";
        // Two probes out: the lane is full until an answer comes.
        let probe = pacer.admit("PUT", path).await;
        let _other = pacer.admit("PUT", path).await;
        let order = std::sync::Arc::new(Mutex::new(Vec::new()));
        let waiter = |method: &'static str| {
            let (pacer, order) = (pacer.clone(), order.clone());
            tokio::spawn(async move {
                let place = pacer.admit(method, path).await;
                lock(&order).push(method);
                pacer.answered(place, Answer::Remaining(100));
            })
        };
        // A creation at the head of the lane, then an update, then another creation.
        let mut tasks = Vec::new();
        for method in ["PUT", "PATCH", "PUT"] {
            tasks.push(waiter(method));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        pacer.answered(probe, Answer::Remaining(100));
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(*lock(&order), ["PUT", "PUT", "PATCH"]);
    }

    #[tokio::test]
    async fn the_header_of_the_requests_bucket_is_read() {
        let pacer = Pacer::default();
        let place = pacer
            .admit("GET", "/subscriptions?api-version=2022-12-01")
            .await;
        assert_eq!(
            place.remaining_header(),
            "x-ms-ratelimit-remaining-tenant-reads"
        );
        pacer.answered(place, Answer::Remaining(10));
    }
}
