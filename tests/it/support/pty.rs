//! Runs a prepared command under a pseudo-terminal (util-linux `script`), so
//! the tool sees a terminal on standard output and standard error: how a test
//! observes what only happens on a terminal, such as colour and `NO_COLOR`.

use std::process::Command;

/// What a run under a terminal printed (both streams arrive merged) and how it ended.
pub struct TerminalRun {
    pub code: i32,
    pub output: String,
}

/// `cmd` (program, arguments and environment as prepared) wrapped in
/// `script(1)`, which gives it a pseudo-terminal.
pub fn under_a_terminal(cmd: &Command) -> Command {
    let program = cmd.get_program().to_string_lossy().to_string();
    // `script -c` takes one shell line: quote every argument.
    let line: Vec<String> = std::iter::once(program)
        .chain(cmd.get_args().map(|a| a.to_string_lossy().to_string()))
        .map(|a| format!("'{}'", a.replace('\'', r"'\''")))
        .collect();
    let mut script = Command::new("script");
    script.args(["-qec", &line.join(" "), "/dev/null"]);
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => script.env(k, v),
            None => script.env_remove(k),
        };
    }
    script
}

/// Runs `cmd` under a pseudo-terminal, with nothing typed on its standard input.
pub async fn run_on_a_terminal(cmd: Command) -> TerminalRun {
    let mut script = under_a_terminal(&cmd);
    script.stdin(std::process::Stdio::null());
    let output = tokio::task::spawn_blocking(move || script.output())
        .await
        .unwrap()
        .expect("script(1) runs");
    TerminalRun {
        code: output.status.code().unwrap_or(-1),
        output: String::from_utf8_lossy(&output.stdout).into_owned(),
    }
}
