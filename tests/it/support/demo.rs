//! `actlog-cmk demo` as a child process, for tests/it/demo.rs and the demo
//! rows of tests/it/flags.rs: the command isolated from the caller's Azure
//! settings, its output read line by line, and a `demo --keep-running` kept
//! up to its exports (`KeptDemo`), which the tests then drive.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A guard against a hang, not a timing assertion: the demo takes seconds.
pub const HANG_GUARD: Duration = Duration::from_secs(300);

/// The binary, with Azure settings that would break the demo if it let
/// them through to the commands it runs, and a config file in its working
/// directory that no command may read.
pub fn demo_command(args: &[&str], workdir: &std::path::Path) -> Command {
    std::fs::write(
        workdir.join("actlog-cmk.toml"),
        "this is not TOML: a command that reads it fails\n",
    )
    .unwrap();
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("actlog-cmk"));
    for (k, _) in std::env::vars() {
        if k.starts_with("AZURE_") || k.starts_with("ACTLOG_CMK_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("ACTLOG_CMK_ARM_ENDPOINT", "https://127.0.0.1:9")
        .env("ACTLOG_CMK_AUTH", "azure-cli")
        .env("ACTLOG_CMK_CONFIG", workdir.join("missing.toml"))
        .env("ACTLOG_CMK_KEY_SIZE", "1024")
        .env("AZURE_CLIENT_SECRET", "not-the-emulators")
        .env("AZURE_AUTHORITY_HOST", "https://127.0.0.1:9")
        .env("NO_COLOR", "1")
        .current_dir(workdir)
        .args(args);
    cmd
}

/// A pipe read to its end on a thread, line by line, into a channel (it
/// keeps reading when nobody listens, so the writer never blocks).
pub struct Lines {
    pub receiver: mpsc::Receiver<String>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Lines {
    pub fn of(pipe: impl Read + Send + 'static) -> Lines {
        let (send, receiver) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                let _ = send.send(line);
            }
        });
        Lines {
            receiver,
            reader: Some(reader),
        }
    }

    /// What is left once the process has ended and its pipe is closed.
    pub fn rest(&mut self) -> String {
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        self.receiver.try_iter().map(|l| l + "\n").collect()
    }
}

/// A child that is killed if the test fails before it ends.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

pub fn wait(child: &mut Child, what: &str) -> ExitStatus {
    let deadline = Instant::now() + HANG_GUARD;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{what} did not finish within {HANG_GUARD:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `export NAME='value'` -> (NAME, value).
pub fn parse_export(line: &str) -> Option<(String, String)> {
    let rest = line.strip_prefix("export ")?;
    let (name, value) = rest.split_once('=')?;
    let value = value.strip_prefix('\'')?.strip_suffix('\'')?;
    Some((name.to_string(), value.replace(r"'\''", "'")))
}

/// Every variable the kept demo exports: the tool's connection and the admin key.
pub const EXPORTED: [&str; 8] = [
    "ACTLOG_CMK_ARM_ENDPOINT",
    "ACTLOG_CMK_AUTH",
    "ACTLOG_CMK_CA_FILE",
    "ACTLOG_CMK_EMULATOR_ADMIN_KEY",
    "AZURE_AUTHORITY_HOST",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_TENANT_ID",
];

/// `demo --keep-running` (and `extra` flags) up to the lines it prints for
/// the user: the child, its output so far and the variables it exports.
pub struct KeptDemo {
    child: Killed,
    stdout: Lines,
    stderr: Lines,
    pub out: String,
    exports: Vec<(String, String)>,
    _workdir: tempfile::TempDir,
}

impl KeptDemo {
    pub fn start(extra: &[&str]) -> KeptDemo {
        let workdir = tempfile::tempdir().unwrap();
        let args: Vec<&str> = ["demo", "--keep-running"]
            .iter()
            .chain(extra)
            .copied()
            .collect();
        let child = demo_command(&args, workdir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut child = Killed(child);
        let stdout = Lines::of(child.0.stdout.take().unwrap());
        let mut stderr = Lines::of(child.0.stderr.take().unwrap());
        let deadline = Instant::now() + HANG_GUARD;
        let mut out = String::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match stdout.receiver.recv_timeout(left) {
                Ok(line) => {
                    out.push_str(&line);
                    out.push('\n');
                    if line.contains("Press Ctrl-C to stop the emulator.") {
                        break;
                    }
                }
                Err(e) => {
                    let _ = child.0.kill();
                    panic!("no exports ({e}):\n{out}\nstderr:\n{}", stderr.rest());
                }
            }
        }
        let exports: Vec<(String, String)> = out.lines().filter_map(parse_export).collect();
        let mut names: Vec<&str> = exports.iter().map(|(n, _)| n.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, EXPORTED, "{out}");
        let kept = KeptDemo {
            child,
            stdout,
            stderr,
            out,
            exports,
            _workdir: workdir,
        };
        assert!(kept
            .value("ACTLOG_CMK_ARM_ENDPOINT")
            .starts_with("https://127.0.0.1:"));
        for secret in ["AZURE_CLIENT_SECRET", "ACTLOG_CMK_EMULATOR_ADMIN_KEY"] {
            let value = kept.value(secret);
            assert_eq!(
                kept.out.matches(value.as_str()).count(),
                1,
                "{secret} belongs in its export line only:\n{}",
                kept.out
            );
        }
        assert!(kept.out.contains("throw-away"), "{}", kept.out);
        assert!(std::path::Path::new(&kept.value("ACTLOG_CMK_CA_FILE")).exists());
        kept
    }

    pub fn value(&self, name: &str) -> String {
        self.exports
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no export of {name}:\n{}", self.out))
    }

    /// The tool run with the exports and nothing else of the caller's Azure settings.
    pub fn tool(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("actlog-cmk"));
        for (k, _) in std::env::vars() {
            if k.starts_with("AZURE_") || k.starts_with("ACTLOG_CMK_") {
                cmd.env_remove(k);
            }
        }
        cmd.envs(self.exports.iter().map(|(k, v)| (k, v)))
            .env("NO_COLOR", "1")
            .current_dir(std::env::temp_dir())
            .args(args)
            .output()
            .unwrap()
    }

    /// Ctrl-C stops the emulator and removes the demo's files.
    pub fn interrupt(mut self) {
        let ca_file = std::path::PathBuf::from(self.value("ACTLOG_CMK_CA_FILE"));
        let child = &mut self.child.0;
        let interrupted = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(interrupted.success());
        let status = wait(child, "actlog-cmk demo --keep-running after Ctrl-C");
        let rest = self.stdout.rest();
        assert_eq!(
            status.code(),
            Some(0),
            "{}{rest}\nstderr:\n{}",
            self.out,
            self.stderr.rest()
        );
        assert!(rest.contains("Stopping the emulator."), "{rest}");
        assert!(!ca_file.exists(), "{} was left behind", ca_file.display());
    }
}

pub fn output_text(output: &std::process::Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
