//! Checks: a quick run fails on any of them; a full run reports them.

#[derive(Default)]
pub(crate) struct Checks {
    pub(crate) failed: Vec<String>,
    pub(crate) passed: usize,
}

impl Checks {
    pub(crate) fn check(&mut self, ok: bool, what: impl Into<String>) -> bool {
        let what = what.into();
        if ok {
            self.passed += 1;
        } else {
            eprintln!("CHECK FAILED: {what}");
            self.failed.push(what);
        }
        ok
    }
}
