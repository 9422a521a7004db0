//! Runs one test of this binary again in a child process. The tests are
//! threads of one process, so a test that must set process-wide state
//! (environment variables) or must be seen failing (a skip turned into a
//! failure) does that in a child, where nothing else runs.

use std::process::{Command, Output};

/// What the child printed and how it ended.
pub struct ChildRun {
    pub passed: bool,
    /// stdout and stderr together, for assertions and failure messages.
    pub text: String,
}

/// Runs the test named `path` (its module path inside this binary, e.g.
/// `sdk_login::some_test`) alone in a child process, with `env` set (`None`
/// removes a variable). A run that passed but matched no test counts as failed.
pub fn run_test(path: &str, env: &[(&str, Option<&str>)]) -> ChildRun {
    let mut command = Command::new(std::env::current_exe().expect("the test binary"));
    command.args(["--exact", path, "--nocapture", "--test-threads", "1"]);
    for (name, value) in env {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("running the test binary again");
    let stdout = String::from_utf8_lossy(&stdout);
    let text = format!("{stdout}{}", String::from_utf8_lossy(&stderr));
    ChildRun {
        passed: status.success() && stdout.contains("test result: ok. 1 passed"),
        text,
    }
}

/// `module_path!()` of a test module, without the crate (`it::`), as test names use it.
pub fn in_binary(module_path: &str) -> &str {
    module_path
        .split_once("::")
        .map_or(module_path, |(_, rest)| rest)
}
