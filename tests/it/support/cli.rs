//! Runs the real `actlog-cmk` binary against the in-process emulator, signed
//! in with the environment credential through the emulator's token endpoint.

use super::profile::{self, Profile};
use super::Env;
use std::path::PathBuf;
use std::process::Output;
use std::sync::Arc;

pub struct Tool {
    pub ca_file: PathBuf,
    _dir: tempfile::TempDir,
    vars: Vec<(String, String)>,
    secret: String,
    profile: ProfileSwitch,
}

/// What the tool needs to switch the emulator to the test profile before
/// its first run (see `support::profile`).
struct ProfileSwitch {
    client: reqwest::Client,
    settings_url: String,
    admin_key: String,
    applied: Arc<tokio::sync::OnceCell<()>>,
}

impl ProfileSwitch {
    async fn apply(&self) {
        if !Profile::is_field() {
            return;
        }
        self.applied
            .get_or_init(|| async {
                let current: serde_json::Value = self
                    .client
                    .get(&self.settings_url)
                    .header("x-emulator-key", &self.admin_key)
                    .send()
                    .await
                    .expect("settings")
                    .json()
                    .await
                    .expect("settings json");
                let patch = profile::patch_towards(&current, &profile::field_for_tests());
                let answer = self
                    .client
                    .patch(&self.settings_url)
                    .header("x-emulator-key", &self.admin_key)
                    .json(&patch)
                    .send()
                    .await
                    .expect("settings patch");
                assert!(answer.status().is_success(), "field profile: {patch}");
            })
            .await;
    }
}

impl Env {
    pub fn tool(&self) -> Tool {
        let dir = tempfile::tempdir().unwrap();
        let ca_file = dir.path().join("emulator-ca.pem");
        std::fs::write(&ca_file, &self.emu.ca_pem).unwrap();
        let c = &self.emu.connection;
        let vars = [
            ("ACTLOG_CMK_ARM_ENDPOINT", c.endpoint.clone()),
            ("ACTLOG_CMK_CA_FILE", ca_file.display().to_string()),
            ("ACTLOG_CMK_AUTH", "environment".to_string()),
            ("AZURE_AUTHORITY_HOST", c.authority_host.clone()),
            ("AZURE_TENANT_ID", c.tenant_id.clone()),
            ("AZURE_CLIENT_ID", c.client_id.clone()),
            ("AZURE_CLIENT_SECRET", c.client_secret.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        Tool {
            ca_file,
            _dir: dir,
            vars,
            secret: c.client_secret.clone(),
            profile: ProfileSwitch {
                client: self.client.clone(),
                settings_url: format!("{}/_emulator/settings", c.endpoint),
                admin_key: c.admin_key.clone(),
                applied: self.profile_applied.clone(),
            },
        }
    }
}

/// What a run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from_output(output: &Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Every run in the suite passes through here: no output may carry the
    /// client secret or anything shaped like a token (a JWT starts `eyJ`).
    pub fn assert_no_secrets(&self, secret: &str, args: &[&str]) {
        for (stream, text) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            assert!(
                !text.contains(secret),
                "`{}`: the client secret is in {stream}",
                args.join(" ")
            );
            assert!(
                !text.contains("eyJ"),
                "`{}`: something shaped like a token is in {stream}",
                args.join(" ")
            );
        }
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

impl Tool {
    /// Switches the emulator to the test profile (once per emulator) before
    /// the tool first talks to it; `run` does this itself, a test that
    /// starts the binary through `command` calls it first.
    pub async fn ready(&self) {
        self.profile.apply().await;
    }

    pub fn command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("actlog-cmk"));
        for (k, _) in std::env::vars() {
            if k.starts_with("AZURE_")
                || k.starts_with("ACTLOG_CMK_")
                || k == "IDENTITY_ENDPOINT"
                || k == "MSI_ENDPOINT"
            {
                cmd.env_remove(k);
            }
        }
        cmd.envs(self.vars.iter().map(|(k, v)| (k, v)));
        cmd.env("NO_COLOR", "1");
        cmd.args(args);
        cmd
    }

    /// Runs the binary without blocking the emulator's runtime.
    pub async fn run(&self, args: &[&str]) -> Run {
        self.ready().await;
        let mut cmd = self.command(args);
        let output: Output = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .unwrap()
            .expect("the binary runs");
        let run = Run::from_output(&output);
        run.assert_no_secrets(&self.secret, args);
        run
    }
}

impl Tool {
    /// `command` changes Azure only once confirmed: without `--yes` it is
    /// refused where there is no terminal to ask on, and cancelled when the
    /// operator answers "no".
    pub async fn assert_confirmation_required(&self, command: &str) {
        self.ready().await;
        let no_tty = self.run(&[command]).await;
        assert_eq!(no_tty.code, 1);
        assert!(no_tty.stderr.contains("--yes"), "{}", no_tty.stderr);

        let declined = on_a_terminal(self.command(&[command]), "no\n").await;
        assert_eq!(declined.code, 1, "{}", declined.stdout);
        assert!(
            declined.stdout.contains("Only 'yes' will be accepted"),
            "{}",
            declined.stdout
        );
        assert!(declined.stdout.contains("cancelled"), "{}", declined.stdout);
    }
}

/// Runs `cmd` under a pseudo-terminal (util-linux `script`), typing `input`:
/// how a test answers a confirmation prompt, which needs a terminal.
async fn on_a_terminal(cmd: std::process::Command, input: &str) -> Run {
    let mut script = super::pty::under_a_terminal(&cmd);
    let input = input.to_string();
    let output = tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = script
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("script(1) runs");
        // Give the prompt time to appear before typing.
        std::thread::sleep(std::time::Duration::from_millis(1500));
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    Run::from_output(&output)
}
