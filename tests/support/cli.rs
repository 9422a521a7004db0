//! Runs the real `actlog-cmk` binary against the in-process emulator, signed
//! in with the environment credential through the emulator's token endpoint.

use super::Env;
use std::path::PathBuf;
use std::process::Output;

pub struct Tool {
    pub ca_file: PathBuf,
    _dir: tempfile::TempDir,
    vars: Vec<(String, String)>,
    secret: String,
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
            ("AZURE_AUTHORITY_HOST", c.endpoint.clone()),
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
        let mut cmd = self.command(args);
        let output: Output = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .unwrap()
            .expect("the binary runs");
        let run = Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        run.assert_no_secrets(&self.secret, args);
        run
    }
}
