//! Client-side pacing for ARM's token buckets, as pure decisions on a clock
//! the caller passes in (`pacer.rs` runs them; the unit tests below use a
//! fake one).
//!
//! Why: ARM keeps a bucket per subscription (and per tenant) and kind of
//! request (reads, writes, deletes): 250 reads refilled at 25 per second,
//! 200 writes at 10 (request-limits-and-throttling, AZURE_NOTES.md §3).
//! Sent as fast as the tool can, a hundred accounts in one subscription drew
//! 1,688 429s for 1,250 answered calls (issue 19): each a wasted round trip
//! and a warning in the caller's logs. Azure says how much is left in every
//! answer (`x-ms-ratelimit-remaining-subscription-reads`, `-writes`, and
//! `-tenant-*` for tenant-level calls), so the tool keeps a model of each
//! bucket and sends only when the model holds a token:
//!
//! - the model's level is what the last fresh answer said was left, less the
//!   requests still out (they may not have been counted yet), refilled at
//!   the rate the answers show between them. An answer is fresh when its
//!   request went after the answer the model stands on came in, so ARM
//!   surely counted it later; an answer to a request that was out at the
//!   same time may have been counted earlier, and only ever lowers the level;
//! - until the first answer, only [`PROBES`] requests go out, so a bucket
//!   smaller than the tool's parallelism is not overrun before it is known;
//! - a bucket whose answers carry no such header is not paced (as before);
//! - a 429 empties the model, holds the bucket for its `Retry-After`, and
//!   slows the measured rate when the model had expected a token;
//! - when the model would wait long with nothing out to correct it (its rate
//!   too low, or not yet measured), one request goes after [`IDLE_PROBE`] to
//!   ask the bucket itself.

use std::collections::BTreeMap;
use std::time::Duration;

/// What a bucket counts: ARM keeps one bucket per kind of request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Reads,
    Writes,
    Deletes,
}

impl Kind {
    /// The kind ARM charges a request to: GET and HEAD read, and so do name
    /// checks (POST `.../checkNameAvailability`, an action ARM authorises
    /// as `.../read`); DELETE deletes; everything else writes.
    pub fn of(method: &str, path: &str) -> Kind {
        let path = path.split('?').next().unwrap_or_default();
        if method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD") {
            Kind::Reads
        } else if method.eq_ignore_ascii_case("DELETE") {
            Kind::Deletes
        } else if path
            .to_ascii_lowercase()
            .trim_end_matches('/')
            .ends_with("/checknameavailability")
        {
            Kind::Reads
        } else {
            Kind::Writes
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Kind::Reads => "reads",
            Kind::Writes => "writes",
            Kind::Deletes => "deletes",
        }
    }
}

/// Whether a request goes before the updates waiting in its lane. Creations
/// (PUT) and actions (POST) start what Azure takes time to settle after
/// them (a vault's DNS registration, a grant's propagation), which a later
/// update (PATCH) often waits for: sent first, that settling overlaps the
/// bucket's refill instead of following it. With a hundred accounts in one
/// subscription the last switches otherwise waited out the last grants'
/// propagation after the write bucket's floor (docs/benchmarks.md).
pub fn goes_first(method: &str) -> bool {
    !method.eq_ignore_ascii_case("PATCH")
}

/// Whose bucket: a subscription's (the request names it) or the tenant's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// The subscription id, lower-cased (ARM compares ids case-insensitively).
    Subscription(String),
    Tenant,
}

impl Scope {
    /// `/subscriptions/{id}/...` (or the subscription itself) is the
    /// subscription's; the subscription list, `/tenants` and `/providers/...`
    /// are tenant-level calls.
    pub fn of(path: &str) -> Scope {
        let path = path.split('?').next().unwrap_or_default();
        let mut segments = path.split('/').filter(|s| !s.is_empty());
        match (segments.next(), segments.next()) {
            (Some(first), Some(id)) if first.eq_ignore_ascii_case("subscriptions") => {
                Scope::Subscription(id.to_ascii_lowercase())
            }
            _ => Scope::Tenant,
        }
    }

    /// The answer header that says what is left in this scope's `kind` bucket.
    pub fn remaining_header(&self, kind: Kind) -> String {
        let level = match self {
            Scope::Subscription(_) => "subscription",
            Scope::Tenant => "tenant",
        };
        format!("x-ms-ratelimit-remaining-{level}-{}", kind.as_str())
    }
}

/// Requests out at once on a bucket no answer has described yet: enough for
/// the audit's two reads per subscription (diagnostic settings and log
/// profiles) to go together, few enough for any bucket Azure has.
pub const PROBES: usize = 2;
/// The refill rate assumed before one is measured: a twentieth of the
/// bucket per second. That is Azure's write bucket (200, 10 per s) exactly
/// and half its read bucket's (250, 25 per s); too low costs only speed for
/// a couple of seconds, as each answer's remaining count lifts the model.
const PRIOR_REFILL_SHARE: f64 = 0.05;
/// The shortest span the refill rate is measured over: long enough that a
/// whole token of rounding in the header is a small error.
const RATE_WINDOW: Duration = Duration::from_secs(2);
/// By how much a 429 the model did not expect cuts the measured rate.
const RATE_CUT: f64 = 0.75;
/// The slowest refill the model assumes, so a wait is never unbounded.
const MIN_RATE: f64 = 0.1;
/// How often a request waiting for a probe's answer looks again (an answer
/// wakes it sooner).
const PROBE_POLL: Duration = Duration::from_millis(100);
/// How long a bucket the model thinks empty may go without a request out
/// before one goes to ask it. Longer than a token of Azure's buckets takes
/// (40 ms for reads, 100 ms for writes), so a measured rate is never
/// second-guessed; short enough that a rate guessed far too low costs little.
pub const IDLE_PROBE: Duration = Duration::from_millis(500);

/// A request's place in its bucket: handed out when it may go, given back
/// with its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket(u64);

/// Whether a request may go now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Admission {
    Go(Ticket),
    /// Ask again after this long (or when an answer arrives).
    Wait(Duration),
}

/// What ARM's answer said about the bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Answer {
    /// Allowed, with this many whole tokens left.
    Remaining(u64),
    /// 429, with the `Retry-After` it asked for.
    Throttled(Duration),
    /// Nothing about this bucket (no header, or no answer at all).
    Silent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Knowledge {
    /// No answer yet: probing.
    Unknown,
    /// Answers carry the remaining count: paced on the model.
    Paced,
    /// Answers carry no remaining count: sent as they come.
    Open,
}

/// Where a measurement of the refill rate started.
#[derive(Debug, Clone, Copy)]
struct Window {
    at: Duration,
    remaining: f64,
    /// Tokens taken since (answers that were not 429).
    taken: u64,
}

/// The model of one ARM bucket. Times are offsets from the caller's origin.
#[derive(Debug)]
pub struct Bucket {
    knowledge: Knowledge,
    level: f64,
    at: Duration,
    /// The largest count an answer showed, plus the token that answer took.
    capacity: f64,
    rate: Option<f64>,
    not_before: Duration,
    /// When the last request went.
    sent_at: Duration,
    next: u64,
    /// The requests out, and when each went.
    out: BTreeMap<u64, Duration>,
    /// When the answer the level stands on came in.
    basis: Duration,
    window: Option<Window>,
}

impl Default for Bucket {
    fn default() -> Self {
        Bucket {
            knowledge: Knowledge::Unknown,
            level: 0.0,
            at: Duration::ZERO,
            capacity: 1.0,
            rate: None,
            not_before: Duration::ZERO,
            sent_at: Duration::ZERO,
            next: 0,
            out: BTreeMap::new(),
            basis: Duration::ZERO,
            window: None,
        }
    }
}

impl Bucket {
    /// Tokens per second the model refills at.
    pub fn rate(&self) -> f64 {
        self.rate
            .unwrap_or(self.capacity * PRIOR_REFILL_SHARE)
            .max(MIN_RATE)
    }

    /// Whether the next request may go at `now`; a `Go` takes a token.
    pub fn admit(&mut self, now: Duration) -> Admission {
        if now < self.not_before {
            return Admission::Wait(self.not_before - now);
        }
        match self.knowledge {
            Knowledge::Open => {}
            Knowledge::Unknown if self.out.len() < PROBES => {}
            Knowledge::Unknown => return Admission::Wait(PROBE_POLL),
            Knowledge::Paced => {
                self.refill(now);
                if self.level < 1.0 {
                    let wait = Duration::from_secs_f64((1.0 - self.level) / self.rate());
                    // With requests out, their answers will correct the model;
                    // look again at least as often as an idle bucket is asked.
                    if !self.out.is_empty() {
                        return Admission::Wait(wait.min(IDLE_PROBE));
                    }
                    let probe_in = (self.sent_at + IDLE_PROBE).saturating_sub(now);
                    if !probe_in.is_zero() {
                        return Admission::Wait(wait.min(probe_in));
                    }
                }
                self.level -= 1.0;
            }
        }
        self.sent_at = now;
        let ticket = Ticket(self.next);
        self.next += 1;
        self.out.insert(ticket.0, now);
        Admission::Go(ticket)
    }

    /// Takes in what the answer to `ticket`'s request said. True when the
    /// model has more tokens than before, so waiting requests may look again.
    pub fn answered(&mut self, ticket: Ticket, answer: Answer, now: Duration) -> bool {
        let sent = self.out.remove(&ticket.0);
        let lifted = self.take_in(sent, answer, now);
        // The last answer in: an idle bucket may now be asked.
        lifted || self.out.is_empty()
    }

    fn take_in(&mut self, sent: Option<Duration>, answer: Answer, now: Duration) -> bool {
        match answer {
            Answer::Silent => {
                if self.knowledge == Knowledge::Unknown {
                    self.knowledge = Knowledge::Open;
                }
                true
            }
            Answer::Throttled(retry_after) => {
                if self.knowledge == Knowledge::Paced {
                    self.refill(now);
                    if self.level >= 1.0 {
                        // The model thought the bucket had tokens: it refills too fast.
                        self.rate = Some((self.rate() * RATE_CUT).max(MIN_RATE));
                    }
                    self.level = self.level.min(0.0) - self.out.len() as f64;
                    self.window = None;
                }
                self.not_before = self.not_before.max(now + retry_after);
                false
            }
            Answer::Remaining(left) => self.remaining(sent, left as f64, now),
        }
    }

    /// A request that never got an answer (a dropped connection, a
    /// cancelled call): it no longer holds a place.
    pub fn abandoned(&mut self, ticket: Ticket) -> bool {
        self.out.remove(&ticket.0).is_some()
    }

    fn remaining(&mut self, sent: Option<Duration>, left: f64, now: Duration) -> bool {
        self.capacity = self.capacity.max(left + 1.0);
        if let Some(w) = &mut self.window {
            w.taken += 1;
        }
        let first = self.knowledge != Knowledge::Paced;
        if first {
            self.knowledge = Knowledge::Paced;
            self.at = now;
        }
        self.refill(now);
        let before = self.level;
        // Requests still out may not have been counted yet: assume they were not.
        let level = left - self.out.len() as f64;
        let fresh = first || sent.is_some_and(|sent| sent >= self.basis);
        if fresh {
            self.learn_rate(left, now);
            self.level = level;
            self.basis = now;
        } else {
            self.level = self.level.min(level);
        }
        self.level > before
    }

    /// The refill rate between two answers: what was left then and now, and
    /// the tokens taken in between. Only while the bucket is below its
    /// capacity (a full bucket does not show its refill); another client on
    /// the same bucket makes it look slower, which paces this one politely.
    fn learn_rate(&mut self, left: f64, now: Duration) {
        let full = left + 1.0 >= self.capacity;
        match self.window {
            _ if full => self.window = None,
            None => {
                self.window = Some(Window {
                    at: now,
                    remaining: left,
                    taken: 0,
                })
            }
            Some(w) if now.saturating_sub(w.at) >= RATE_WINDOW => {
                let span = (now - w.at).as_secs_f64();
                let measured = ((left - w.remaining + w.taken as f64) / span).max(MIN_RATE);
                self.rate = Some(match self.rate {
                    Some(old) => (old + measured) / 2.0,
                    None => measured,
                });
                self.window = Some(Window {
                    at: now,
                    remaining: left,
                    taken: 0,
                });
            }
            Some(_) => {}
        }
    }

    fn refill(&mut self, now: Duration) {
        let elapsed = now.saturating_sub(self.at).as_secs_f64();
        self.level = (self.level + elapsed * self.rate()).min(self.capacity);
        self.at = self.at.max(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn go(bucket: &mut Bucket, now: Duration) -> Ticket {
        match bucket.admit(now) {
            Admission::Go(t) => t,
            Admission::Wait(w) => panic!("expected to go at {now:?}, told to wait {w:?}"),
        }
    }

    fn waits(bucket: &mut Bucket, now: Duration) -> Duration {
        match bucket.admit(now) {
            Admission::Wait(w) => w,
            Admission::Go(t) => panic!("expected to wait at {now:?}, got {t:?}"),
        }
    }

    #[test]
    fn requests_are_charged_to_the_bucket_arm_charges() {
        let sub =
            "/subscriptions/AbC/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a";
        assert_eq!(Scope::of(sub), Scope::Subscription("abc".into()));
        assert_eq!(
            Scope::of("/subscriptions/abc?api-version=1"),
            Scope::of(sub)
        );
        assert_eq!(
            Scope::of("/subscriptions?api-version=2022-12-01"),
            Scope::Tenant
        );
        assert_eq!(Scope::of("/tenants"), Scope::Tenant);
        assert_eq!(Kind::of("GET", sub), Kind::Reads);
        assert_eq!(Kind::of("PATCH", sub), Kind::Writes);
        assert_eq!(Kind::of("DELETE", sub), Kind::Deletes);
        let check = "/subscriptions/s/providers/Microsoft.KeyVault/checkNameAvailability?api-version=2023-07-01";
        assert_eq!(Kind::of("POST", check), Kind::Reads);
        assert_eq!(
            Scope::of(sub).remaining_header(Kind::Writes),
            "x-ms-ratelimit-remaining-subscription-writes"
        );
        assert_eq!(
            Scope::Tenant.remaining_header(Kind::Reads),
            "x-ms-ratelimit-remaining-tenant-reads"
        );
    }

    #[test]
    fn updates_wait_behind_creations() {
        assert!(goes_first("PUT") && goes_first("POST") && goes_first("GET"));
        assert!(!goes_first("PATCH") && !goes_first("patch"));
    }

    #[test]
    fn an_unknown_bucket_is_probed_before_it_is_used() {
        let mut b = Bucket::default();
        let first = go(&mut b, ms(0));
        go(&mut b, ms(0));
        assert_eq!(
            waits(&mut b, ms(0)),
            PROBE_POLL,
            "only {PROBES} before an answer"
        );
        // The answer: 7 left, and one of ours still out.
        assert!(b.answered(first, Answer::Remaining(7), ms(30)));
        for _ in 0..6 {
            go(&mut b, ms(30));
        }
        assert!(matches!(b.admit(ms(30)), Admission::Wait(_)));
    }

    #[test]
    fn a_bucket_without_the_header_is_not_paced() {
        let mut b = Bucket::default();
        let first = go(&mut b, ms(0));
        b.answered(first, Answer::Silent, ms(10));
        for _ in 0..1000 {
            go(&mut b, ms(10));
        }
    }

    #[test]
    fn an_empty_bucket_waits_for_its_refill_at_the_measured_rate() {
        let mut b = Bucket::default();
        // A 200-token bucket: before a measurement, 10 tokens per second.
        let t = go(&mut b, ms(0));
        b.answered(t, Answer::Remaining(0), ms(0));
        b.capacity = 200.0;
        let close = |d: Duration, to: u64| d.abs_diff(ms(to)) < Duration::from_micros(10);
        assert!(close(waits(&mut b, ms(0)), 100));
        go(&mut b, ms(101));
        assert!(
            close(waits(&mut b, ms(101)), 99),
            "what is left of the token refills"
        );
    }

    #[test]
    fn answers_between_them_measure_the_refill_rate() {
        // The server: 20 tokens, refilled at 4 per second; this client would
        // send one request every 10 ms, and the server answers at once.
        let (capacity, refill) = (20.0, 4.0);
        let mut server = capacity;
        let mut server_at = 0.0;
        let mut b = Bucket::default();
        let mut throttled = 0;
        let mut sent = 0;
        for step in 0..2000u64 {
            let now = ms(step * 10);
            let Admission::Go(t) = b.admit(now) else {
                continue;
            };
            sent += 1;
            let secs = now.as_secs_f64();
            server = (server + (secs - server_at) * refill).min(capacity);
            server_at = secs;
            let answer = if server >= 1.0 {
                server -= 1.0;
                Answer::Remaining(server.floor() as u64)
            } else {
                throttled += 1;
                Answer::Throttled(Duration::from_secs(1))
            };
            b.answered(t, answer, now);
        }
        let rate = b.rate();
        assert!(
            (3.0..=4.5).contains(&rate),
            "measured {rate} tokens per second"
        );
        // 20 s at 4 per second after a burst of 20: about 100 requests.
        assert!(sent >= 90, "sent {sent}");
        assert!(throttled * 20 <= sent, "{throttled} of {sent} throttled");
    }

    #[test]
    fn requests_still_out_count_against_the_level() {
        let mut b = Bucket::default();
        let t = go(&mut b, ms(0));
        b.answered(t, Answer::Remaining(3), ms(0));
        let a = go(&mut b, ms(0));
        go(&mut b, ms(0));
        go(&mut b, ms(0));
        // `a`'s answer says 2 left, but two of ours are still out.
        b.answered(a, Answer::Remaining(2), ms(0));
        assert!(matches!(b.admit(ms(0)), Admission::Wait(_)));
    }

    #[test]
    fn an_answer_counted_perhaps_before_the_model_s_only_lowers_it() {
        let mut b = Bucket::default();
        let t = go(&mut b, ms(0));
        b.answered(t, Answer::Remaining(10), ms(5));
        // Out at the same time: ARM counted `late` first, then `early`.
        let early = go(&mut b, ms(6));
        let late = go(&mut b, ms(6));
        assert!(!b.answered(early, Answer::Remaining(0), ms(10)));
        assert!(
            b.answered(late, Answer::Remaining(1), ms(11)),
            "the last one in"
        );
        assert!(matches!(b.admit(ms(11)), Admission::Wait(_)));
        // A request sent after that answer came in is counted after it.
        let probe = go(&mut b, IDLE_PROBE + ms(20));
        assert!(b.answered(probe, Answer::Remaining(3), IDLE_PROBE + ms(25)));
        go(&mut b, IDLE_PROBE + ms(25));
    }

    #[test]
    fn a_429_holds_the_bucket_for_its_retry_after_and_slows_the_rate() {
        let mut b = Bucket::default();
        let t = go(&mut b, ms(0));
        b.answered(t, Answer::Remaining(5), ms(0));
        b.rate = Some(8.0);
        let t = go(&mut b, ms(0));
        let _still_out = go(&mut b, ms(0));
        assert!(!b.answered(t, Answer::Throttled(Duration::from_secs(2)), ms(10)));
        assert_eq!(waits(&mut b, ms(10)), ms(2000));
        assert_eq!(
            b.rate(),
            6.0,
            "the model expected tokens: the rate was too high"
        );
        // After the hold the refill since the 429 is there to use.
        go(&mut b, ms(2011));
    }

    #[test]
    fn an_idle_bucket_the_model_thinks_empty_is_asked_after_a_while() {
        let mut b = Bucket::default();
        let t = go(&mut b, ms(0));
        // Four tokens: before a measurement the model refills 0.2 per second.
        b.answered(t, Answer::Remaining(3), ms(10));
        let out: Vec<Ticket> = (0..3).map(|_| go(&mut b, ms(10))).collect();
        // With requests out, their answers will correct the model: wait for them.
        assert_eq!(waits(&mut b, ms(10)), IDLE_PROBE);
        for t in out {
            b.answered(t, Answer::Remaining(0), ms(20));
        }
        // Nothing out: one request asks the bucket half a second after the last.
        assert_eq!(waits(&mut b, ms(20)), IDLE_PROBE - ms(10));
        let probe = go(&mut b, IDLE_PROBE + ms(10));
        assert!(matches!(b.admit(IDLE_PROBE + ms(10)), Admission::Wait(_)));
        // It finds the bucket refilled: the requests behind it go at once.
        assert!(b.answered(probe, Answer::Remaining(3), IDLE_PROBE + ms(20)));
        for _ in 0..3 {
            go(&mut b, IDLE_PROBE + ms(20));
        }
    }

    #[test]
    fn an_abandoned_request_frees_its_probe() {
        let mut b = Bucket::default();
        let first = go(&mut b, ms(0));
        go(&mut b, ms(0));
        assert!(b.abandoned(first));
        go(&mut b, ms(0));
    }
}
