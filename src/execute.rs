//! The one executor, as Terraform has one apply walk for a plan and a destroy
//! plan: a remediation plan (`crate::apply`) and a rollback plan
//! (`crate::rollback`) are carried out by the same loop. It takes the
//! accounts in parallel, refuses a saved plan's account that changed since
//! the plan was made, runs or only describes (`--dry-run`) the rest, tells
//! the progress view, and returns the results sorted by account. What a mode
//! brings is only how one account's changes are sent ([`Mode`]).

use crate::apply::{AccountResult, Outcome, Progress};
use futures::stream::{self, StreamExt};

/// How one kind of plan carries out one account.
// The walk polls its futures in place (no spawn), so they need not be Send.
#[allow(async_fn_in_trait)]
pub trait Mode: Sync {
    /// The plan's account.
    type Account: Sync;
    /// What the account's result lists per step.
    type Step;
    /// What an account's refusal check and its run share (apply: the reads
    /// made since the account began).
    type Context;

    fn account_id(account: &Self::Account) -> &str;
    /// How many steps the progress view counts for the account.
    fn step_count(account: &Self::Account) -> usize;
    /// Called as the account begins.
    fn begin(&self, account: &Self::Account) -> Self::Context;
    /// Why a saved plan's account may not be carried out any more (it
    /// changed since the plan was made, or cannot be read to tell), if so.
    async fn refusal(&self, context: &Self::Context, account: &Self::Account) -> Option<Refusal>;
    /// What a dry run reports: the calls it would make, none made.
    fn dry_run(&self, account: &Self::Account) -> AccountResult<Self::Step>;
    async fn run(
        &self,
        context: Self::Context,
        account: &Self::Account,
        progress: &dyn Progress,
    ) -> AccountResult<Self::Step>;
}

/// A saved plan's account left alone, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub reason: String,
    pub next_step: String,
}

impl Refusal {
    pub fn new(reason: impl Into<String>, next_step: impl Into<String>) -> Self {
        Refusal {
            reason: reason.into(),
            next_step: next_step.into(),
        }
    }
}

/// How the walk goes.
#[derive(Debug, Clone, Copy)]
pub struct Walk {
    pub parallelism: usize,
    /// Show the calls, write nothing.
    pub dry_run: bool,
    /// The plan comes from a file: check each account before it is touched.
    pub check_fingerprints: bool,
}

/// Carries out every account of a plan; the results sorted by account id.
pub async fn execute<M: Mode>(
    mode: &M,
    accounts: &[M::Account],
    walk: Walk,
    progress: &dyn Progress,
) -> Vec<AccountResult<M::Step>> {
    let mut results: Vec<AccountResult<M::Step>> = stream::iter(accounts)
        .map(|account| execute_account(mode, account, walk, progress))
        .buffer_unordered(walk.parallelism.max(1))
        .collect()
        .await;
    results.sort_by(|a, b| a.storage_account_id.cmp(&b.storage_account_id));
    results
}

async fn execute_account<M: Mode>(
    mode: &M,
    account: &M::Account,
    walk: Walk,
    progress: &dyn Progress,
) -> AccountResult<M::Step> {
    let id = M::account_id(account);
    progress.started(id, M::step_count(account));
    let context = mode.begin(account);
    let refusal = match walk.check_fingerprints {
        true => mode.refusal(&context, account).await,
        false => None,
    };
    let result = match refusal {
        Some(refusal) => refused(id, refusal),
        None if walk.dry_run => mode.dry_run(account),
        None => mode.run(context, account, progress).await,
    };
    progress.finished(id, result.outcome);
    result
}

/// The result of an account left alone, with no step taken.
pub fn refused<Step>(account_id: &str, refusal: Refusal) -> AccountResult<Step> {
    AccountResult {
        storage_account_id: account_id.to_string(),
        outcome: Outcome::Refused,
        reason: Some(refusal.reason),
        next_step: Some(refusal.next_step),
        steps: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Accounts named by id; an id starting with `changed` is refused when
    /// checked.
    struct Fake;

    impl Mode for Fake {
        type Account = String;
        type Step = &'static str;
        type Context = usize;

        fn account_id(account: &String) -> &str {
            account
        }
        fn step_count(_: &String) -> usize {
            2
        }
        fn begin(&self, account: &String) -> usize {
            account.len()
        }
        async fn refusal(&self, _: &usize, account: &String) -> Option<Refusal> {
            account
                .starts_with("changed")
                .then(|| Refusal::new("changed since", "plan again"))
        }
        fn dry_run(&self, account: &String) -> AccountResult<&'static str> {
            result(account, Outcome::WouldUpdate, vec!["would call"])
        }
        async fn run(
            &self,
            length: usize,
            account: &String,
            _: &dyn Progress,
        ) -> AccountResult<&'static str> {
            assert_eq!(
                length,
                account.len(),
                "the run gets the context begun for its account"
            );
            result(account, Outcome::Done, vec!["called"])
        }
    }

    fn result(
        account: &str,
        outcome: Outcome,
        steps: Vec<&'static str>,
    ) -> AccountResult<&'static str> {
        AccountResult {
            storage_account_id: account.to_string(),
            outcome,
            reason: None,
            next_step: None,
            steps,
        }
    }

    #[derive(Default)]
    struct Seen(Mutex<Vec<String>>);

    impl Progress for Seen {
        fn started(&self, account: &str, steps: usize) {
            self.0
                .lock()
                .unwrap()
                .push(format!("{account} started {steps}"));
        }
        fn step(&self, _: &str, _: &str) {}
        fn finished(&self, account: &str, outcome: Outcome) {
            self.0
                .lock()
                .unwrap()
                .push(format!("{account} {}", outcome.as_str()));
        }
    }

    fn accounts() -> Vec<String> {
        vec!["zeta".into(), "changed-b".into(), "alpha".into()]
    }

    async fn walk(
        dry_run: bool,
        check_fingerprints: bool,
    ) -> (Vec<(String, Outcome)>, Vec<String>) {
        let progress = Seen::default();
        let walk = Walk {
            parallelism: 2,
            dry_run,
            check_fingerprints,
        };
        let results = execute(&Fake, &accounts(), walk, &progress).await;
        let outcomes = results
            .into_iter()
            .map(|r| (r.storage_account_id, r.outcome))
            .collect();
        let mut told = progress.0.into_inner().unwrap();
        told.sort();
        (outcomes, told)
    }

    #[tokio::test]
    async fn a_saved_plans_changed_account_is_refused_and_the_others_run_in_order_of_id() {
        let (outcomes, told) = walk(false, true).await;
        assert_eq!(
            outcomes,
            vec![
                ("alpha".to_string(), Outcome::Done),
                ("changed-b".to_string(), Outcome::Refused),
                ("zeta".to_string(), Outcome::Done),
            ]
        );
        assert_eq!(told.len(), 6, "{told:?}");
        assert!(
            told.contains(&"changed-b started 2".to_string()),
            "{told:?}"
        );
        assert!(
            told.contains(&format!("changed-b {}", Outcome::Refused.as_str())),
            "{told:?}"
        );
    }

    #[tokio::test]
    async fn a_fresh_plan_is_not_checked_and_a_dry_run_calls_nothing() {
        let (outcomes, _) = walk(false, false).await;
        assert!(
            outcomes.iter().all(|(_, o)| *o == Outcome::Done),
            "{outcomes:?}"
        );
        let (outcomes, _) = walk(true, true).await;
        let refused: Vec<&str> = outcomes
            .iter()
            .filter(|(_, o)| *o == Outcome::Refused)
            .map(|(a, _)| a.as_str())
            .collect();
        assert_eq!(refused, ["changed-b"]);
        assert!(outcomes
            .iter()
            .filter(|(a, _)| a != "changed-b")
            .all(|(_, o)| *o == Outcome::WouldUpdate));
    }
}
