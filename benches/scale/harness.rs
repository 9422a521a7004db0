//! The emulator under test and the binary: starting a bench, loading an
//! estate, launching the tool and reading back its request log.

use super::*;

pub(crate) struct Bench {
    pub(crate) emu: RunningEmulator,
    pub(crate) client: reqwest::Client,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) ca_file: PathBuf,
}

/// One run of the binary.
#[derive(Clone)]
pub(crate) struct Run {
    pub(crate) wall: Duration,
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    /// Peak resident set size of the process, in KiB (`ru_maxrss`).
    pub(crate) max_rss_kib: i64,
    pub(crate) started: chrono::DateTime<chrono::Utc>,
}

impl Run {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "exit {}: stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.code,
                &self.stdout[..self.stdout.len().min(2000)],
                &self.stderr[..self.stderr.len().min(4000)]
            )
        })
    }

    /// Throttling reached the user: a 429 in anything the tool printed.
    pub(crate) fn shows_throttling(&self) -> bool {
        // AzureError renders as "… Azure answered 429 SubscriptionRequestsThrottled: …".
        [&self.stdout, &self.stderr].iter().any(|t| {
            t.contains("answered 429")
                || t.contains("RequestsThrottled")
                || t.contains("TooManyRequests")
        })
    }
}

impl Bench {
    pub(crate) async fn start(settings: Settings, state: State) -> Bench {
        let emu = emulator::start(Options {
            settings,
            initial_state: Some(state),
            ..Options::default()
        })
        .await
        .expect("the emulator starts");
        let dir = tempfile::tempdir().expect("temp dir");
        let ca_file = dir.path().join("emulator-ca.pem");
        std::fs::write(&ca_file, &emu.ca_pem).expect("CA file");
        let client = reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(
                reqwest::Certificate::from_pem(emu.ca_pem.as_bytes()).expect("CA pem"),
            )
            .build()
            .expect("HTTPS client");
        Bench {
            emu,
            client,
            dir,
            ca_file,
        }
    }

    pub(crate) fn endpoint(&self) -> &str {
        &self.emu.connection.endpoint
    }

    pub(crate) async fn token(&self) -> String {
        let c = &self.emu.connection;
        let body: Value = self
            .client
            .post(format!("{}/{}/oauth2/v2.0/token", c.endpoint, c.tenant_id))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", c.client_id.as_str()),
                ("client_secret", c.client_secret.as_str()),
                ("scope", "https://management.azure.com/.default"),
            ])
            .send()
            .await
            .expect("token request")
            .json()
            .await
            .expect("token JSON");
        body["access_token"].as_str().expect("a token").to_string()
    }

    pub(crate) async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let mut request = self
            .client
            .request(
                method.clone(),
                format!("{}/_emulator{path}", self.endpoint()),
            )
            .header("x-emulator-key", &self.emu.connection.admin_key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("admin request");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(
            status.is_success(),
            "{method} /_emulator{path}: {status} {text}"
        );
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// ARM requests the emulator saw (`GET /_emulator/requests`), without
    /// token or admin calls.
    pub(crate) async fn requests(&self) -> Vec<Value> {
        let log = self.admin(reqwest::Method::GET, "/requests", None).await;
        log["requests"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|r| {
                let path = r["path"].as_str().unwrap_or_default();
                !path.starts_with("/_emulator") && !path.contains("/oauth2/")
            })
            .collect()
    }

    pub(crate) async fn clear_requests(&self) {
        self.admin(reqwest::Method::DELETE, "/requests", None).await;
    }

    /// The binary, signed in through the emulator's token endpoint, in an
    /// empty folder (no config file), with nothing from this environment
    /// that could point it elsewhere.
    pub(crate) fn command(&self, program: &std::path::Path, args: &[String]) -> Command {
        let mut cmd = Command::new(program);
        for (k, _) in std::env::vars() {
            if k.starts_with("AZURE_")
                || k.starts_with("ACTLOG_CMK_")
                || k == "IDENTITY_ENDPOINT"
                || k == "MSI_ENDPOINT"
            {
                cmd.env_remove(k);
            }
        }
        let c = &self.emu.connection;
        cmd.env("ACTLOG_CMK_ARM_ENDPOINT", &c.endpoint)
            .env("ACTLOG_CMK_CA_FILE", &self.ca_file)
            .env("ACTLOG_CMK_AUTH", "environment")
            .env("AZURE_AUTHORITY_HOST", &c.endpoint)
            .env("AZURE_TENANT_ID", &c.tenant_id)
            .env("AZURE_CLIENT_ID", &c.client_id)
            .env("AZURE_CLIENT_SECRET", &c.client_secret)
            .env("NO_COLOR", "1")
            .current_dir(self.dir.path())
            .args(args);
        cmd
    }

    /// Runs the binary to the end, through this harness started again as
    /// a launcher (see [`launch`]) so that the peak memory is the binary's own.
    pub(crate) async fn run(&self, args: &[String]) -> Run {
        self.run_as("", args).await
    }

    /// [`Bench::run`] with its own output files, so runs tagged apart can
    /// run at the same time (the sharded audit's processes).
    pub(crate) async fn run_as(&self, tag: &str, args: &[String]) -> Run {
        let out = self.dir.path().join(format!("stdout{tag}"));
        let err = self.dir.path().join(format!("stderr{tag}"));
        let measured = self.dir.path().join(format!("measured{tag}"));
        let _ = std::fs::remove_file(&measured);
        let mut launcher_args = vec![
            LAUNCH.to_string(),
            measured.display().to_string(),
            BIN.to_string(),
        ];
        launcher_args.extend(args.iter().cloned());
        let me = std::env::current_exe().expect("the harness's own path");
        let mut cmd = self.command(&me, &launcher_args);
        cmd.stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).expect("stdout file"))
            .stderr(std::fs::File::create(&err).expect("stderr file"));
        let started = chrono::Utc::now();
        let status = tokio::task::spawn_blocking(move || cmd.status())
            .await
            .expect("waiting for the launcher")
            .expect("the launcher starts");
        let stderr = std::fs::read_to_string(&err).unwrap_or_default();
        let text = std::fs::read_to_string(&measured)
            .unwrap_or_else(|e| panic!("the launcher measured nothing ({e}; {status}): {stderr}"));
        let numbers: Vec<i64> = text
            .split_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect();
        let [code, max_rss_kib, wall_us] = numbers[..] else {
            panic!("the launcher wrote {text:?}")
        };
        Run {
            wall: Duration::from_micros(wall_us.max(0) as u64),
            code: code as i32,
            stdout: std::fs::read_to_string(&out).unwrap_or_default(),
            stderr,
            max_rss_kib,
            started,
        }
    }

    pub(crate) async fn stop(self) {
        self.emu.stop().await;
    }
}
