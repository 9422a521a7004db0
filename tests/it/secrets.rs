//! No output at any verbosity, error chains and debug logs included, carries
//! the client secret, a token, or anything shaped like one.

use crate::support;

use reqwest::Method;
use serde_json::json;
use support::*;

/// A JWT starts with the base64 of `{"` (`eyJ`), whatever it holds.
const JWT_PREFIX: &str = "eyJ";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_command_prints_a_secret_or_a_token_at_any_verbosity() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "prod").await;
    let app = env.storage_account(SUB1, "rg-app", "stapp").await;
    env.diagnostic_setting(SUB1, "to-app", &app, true).await;
    let hidden = env.storage_account(SUB1, "rg-hidden", "sthidden").await;
    env.diagnostic_setting(SUB1, "to-hidden", &hidden, true)
        .await;
    let tool = env.tool();
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let plan = plan.to_str().unwrap();

    let mut outputs = Vec::new();
    for verbosity in ["-v", "-vv", "-vvv"] {
        for args in [
            vec!["audit", verbosity],
            vec!["audit", verbosity, "-o", "json"],
            vec!["plan", verbosity, "--out", plan],
            vec!["apply", verbosity, "--dry-run"],
            // Failures: a bad endpoint, a wrong secret, a bad plan file.
            vec![
                "audit",
                verbosity,
                "--arm-endpoint",
                "https://127.0.0.1:1",
                "--max-retries",
                "0",
            ],
            vec!["apply", verbosity, "/nonexistent/plan.json"],
        ] {
            outputs.push((args.join(" "), tool.run(&args).await));
        }
        let mut wrong = tool.command(&["audit", verbosity]);
        wrong.env("AZURE_CLIENT_SECRET", "not-the-secret");
        let out = tokio::task::spawn_blocking(move || wrong.output())
            .await
            .unwrap()
            .unwrap();
        assert_ne!(out.status.code(), Some(0));
        outputs.push((
            format!("audit {verbosity} with a wrong secret"),
            support::cli::Run {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            },
        ));
    }
    // Every crate's trace logs, the HTTP and Azure SDK crates included.
    for args in [vec!["audit"], vec!["apply", "--dry-run"]] {
        let mut all = tool.command(&args);
        all.env("ACTLOG_CMK_LOG", "trace");
        let out = tokio::task::spawn_blocking(move || all.output())
            .await
            .unwrap()
            .unwrap();
        outputs.push((
            format!("ACTLOG_CMK_LOG=trace {}", args.join(" ")),
            support::cli::Run {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            },
        ));
    }
    // A 403 in the middle of an apply, at the highest verbosity.
    env.deny(&[&hidden]).await;
    outputs.push((
        "apply -vvv --yes with a 403".into(),
        tool.run(&["apply", "-vvv", "--yes"]).await,
    ));
    env.admin(
        Method::PUT,
        &format!("/principals/{}", env.emu.connection.client_id),
        Some(json!({"clientSecret": env.emu.connection.client_secret, "objectId": env.emu.connection.object_id})),
    )
    .await;

    let secret = &env.emu.connection.client_secret;
    let token = env.token.clone();
    let mut debug_lines = 0;
    for (what, run) in &outputs {
        for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            assert!(
                !text.contains(secret.as_str()),
                "{what}: the client secret is in {stream}"
            );
            assert!(!text.contains(&token), "{what}: a token is in {stream}");
            assert!(
                !text.contains(JWT_PREFIX),
                "{what}: something shaped like a JWT is in {stream}:\n{text}"
            );
            assert!(
                !text.to_lowercase().contains("bearer "),
                "{what}: an authorization header is in {stream}"
            );
        }
        debug_lines += run
            .stderr
            .lines()
            .filter(|l| l.contains("DEBUG") || l.contains("TRACE"))
            .count();
    }
    // The check means something only if the debug logs were really there.
    assert!(debug_lines > 0, "no debug output was produced at -vv/-vvv");
}
