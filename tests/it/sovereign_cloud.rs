//! Sovereign clouds (issue 17, item 5): the emulator presents itself as US
//! Government or China (`emulator --cloud`), and the tool, told only the ARM
//! endpoint (no `AZURE_AUTHORITY_HOST`), learns the sign-in host, the token
//! audience and the vault DNS suffix from the endpoint's
//! `/metadata/endpoints`: audit, plan and apply work end to end there, the
//! sign-in log shows where it signed in, and a token of another cloud's
//! audience is refused. Where the endpoint has no metadata and is no known
//! cloud, the tool stops and names the variable to set.

use crate::support;

use actlog_cmk::emulator::cloud::EmulatedCloud;
use actlog_cmk::emulator::Options;
use reqwest::Method;
use serde_json::{json, Value};
use support::cli::{Run, Tool};
use support::estate::*;
use support::reports::destination;
use support::*;

async fn emulate(cloud: EmulatedCloud) -> Env {
    Env::start_with_options(Options {
        settings: fast_settings(),
        cloud,
        ..Options::default()
    })
    .await
}

/// Runs the tool with the harness's variables but no `AZURE_AUTHORITY_HOST`
/// (and `extra` on top), so where it signs in is its own finding.
async fn run_unguided(env: &Env, tool: &Tool, args: &[&str], extra: &[(&str, &str)]) -> Run {
    tool.ready().await;
    let mut cmd = tool.command(args);
    cmd.env_remove("AZURE_AUTHORITY_HOST");
    cmd.envs(extra.iter().copied());
    let output = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .expect("the binary runs");
    let run = Run::from_output(&output);
    run.assert_no_secrets(&env.emu.connection.client_secret, args);
    run
}

async fn sign_ins(env: &Env) -> Vec<Value> {
    let answer = env.admin(Method::GET, "/sign-ins", None).await;
    answer.body["requests"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The tool asked the endpoint's metadata, then signed in (as the harness's
/// principal) at the cloud's sign-in path, and nowhere else.
async fn assert_signed_in_at(env: &Env, login_host: &str) {
    let seen = sign_ins(env).await;
    let c = &env.emu.connection;
    assert!(
        seen.iter().any(|r| r["method"] == "GET"
            && r["path"] == "/metadata/endpoints"
            && r["status"] == 200),
        "{seen:#?}"
    );
    let tokens: Vec<&Value> = seen
        .iter()
        .filter(|r| r["path"].as_str().unwrap_or_default().ends_with("/token"))
        .filter(|r| r["clientId"] == c.client_id.as_str())
        .collect();
    assert!(!tokens.is_empty(), "the tool never signed in: {seen:#?}");
    let expected = format!("/{login_host}/{}/oauth2/v2.0/token", c.tenant_id);
    for token in tokens {
        assert_eq!(token["path"], expected.as_str(), "{seen:#?}");
        assert_eq!(token["status"], 200, "{seen:#?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn us_government_audit_plan_and_apply_find_their_cloud_by_themselves() {
    let env = emulate(EmulatedCloud::Usgovernment).await;
    let (plain, held, _) = env.plain_and_held_accounts().await;
    let tool = env.tool();

    let audit = run_unguided(&env, &tool, &["audit", "-o", "json"], &[]).await;
    assert_eq!(audit.code, 2, "{}\n{}", audit.stdout, audit.stderr);
    let report = audit.json();
    for account in [&plain, &held] {
        assert_eq!(destination(&report, account)["status"], "non_compliant");
    }
    assert_signed_in_at(&env, "login.microsoftonline.us").await;

    let plan = run_unguided(&env, &tool, &["plan"], &[]).await;
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains(".vault.usgovcloudapi.net/")
            && !plan.stdout.contains("vault.azure.net"),
        "the plan's vault URIs are the public cloud's:\n{}",
        plan.stdout
    );

    let apply = run_unguided(&env, &tool, &["apply", "--yes", "-o", "json"], &[]).await;
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    for account in [&plain, &held] {
        let read = env
            .arm(Method::GET, &format!("{account}?{STORAGE_API}"), None)
            .await;
        let uri = read.body["properties"]["encryption"]["keyvaultproperties"]["keyvaulturi"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            uri.ends_with(".vault.usgovcloudapi.net/"),
            "{account}: {:#}",
            read.body
        );
    }
    let again = run_unguided(&env, &tool, &["audit", "-o", "json"], &[]).await;
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert_signed_in_at(&env, "login.microsoftonline.us").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn china_is_found_the_same_way() {
    let env = emulate(EmulatedCloud::China).await;
    env.add_subscription(SUB1, "prod").await;
    let account = env.storage_account(SUB1, "rg-app", "stplain").await;
    env.diagnostic_setting(SUB1, "to-plain", &account, true)
        .await;
    let tool = env.tool();
    let plan = run_unguided(&env, &tool, &["plan"], &[]).await;
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    assert!(plan.stdout.contains(".vault.azure.cn/"), "{}", plan.stdout);
    assert_signed_in_at(&env, "login.chinacloudapi.cn").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_for_another_clouds_audience_is_refused() {
    // A token the public cloud's Entra issued, then the same emulator as US
    // Government: its ARM refuses the token as Azure's does.
    let env = Env::start().await;
    env.add_subscription(SUB1, "prod").await;
    let public_token = env.token.clone();
    let mut state = env.admin(Method::GET, "/state", None).await.body;
    state["cloud"] = json!("usgovernment");
    let put = env.admin(Method::PUT, "/state", Some(state)).await;
    assert!(put.status.is_success(), "{:?}", put.body);
    let refused = env
        .client
        .get(format!(
            "{}/subscriptions?api-version=2022-12-01",
            env.endpoint()
        ))
        .bearer_auth(&public_token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(
        body["error"]["code"], "InvalidAuthenticationTokenAudience",
        "{body}"
    );

    // The tool asking for the public cloud's audience there cannot sign in,
    // and ARM never sees a call.
    env.clear_requests().await;
    let tool = env.tool();
    let run = run_unguided(
        &env,
        &tool,
        &[
            "audit",
            "--token-scope",
            "https://management.azure.com/.default",
            "--max-retries",
            "0",
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot sign in to Azure"),
        "{}",
        run.stderr
    );
    assert!(env.requests().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_explicit_authority_host_wins_over_the_metadata() {
    let env = emulate(EmulatedCloud::Usgovernment).await;
    env.add_subscription(SUB1, "prod").await;
    let tool = env.tool();
    // The emulator's root stands for another cloud's sign-in host: told to
    // sign in there, the tool does, and that Entra does not know the tenant.
    let root = env.endpoint().to_string();
    let before = sign_ins(&env).await.len();
    let run = run_unguided(
        &env,
        &tool,
        &["audit", "--max-retries", "0"],
        &[("AZURE_AUTHORITY_HOST", root.as_str())],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("AADSTS90002") && run.stderr.contains("--arm-endpoint"),
        "{}",
        run.stderr
    );
    assert!(
        env.requests().await.is_empty(),
        "ARM was called without a token"
    );
    let seen = sign_ins(&env).await.split_off(before);
    let root_token = format!("/{}/oauth2/v2.0/token", env.emu.connection.tenant_id);
    assert!(
        seen.iter()
            .any(|r| r["path"] == root_token.as_str() && r["status"] == 400),
        "{seen:#?}"
    );
    assert!(
        !seen.iter().any(|r| r["path"]
            .as_str()
            .unwrap_or_default()
            .contains("login.microsoftonline.us")),
        "the tool signed in at the metadata's host despite AZURE_AUTHORITY_HOST: {seen:#?}"
    );
    // Its own sign-in path, named: signed in.
    let authority = env.emu.connection.authority_host.clone();
    let run = run_unguided(
        &env,
        &tool,
        &["audit"],
        &[("AZURE_AUTHORITY_HOST", authority.as_str())],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_without_metadata_or_a_known_cloud_names_the_variable() {
    let env = Env::start().await;
    let tool = env.tool();
    // A loopback ARM that answers every request 404.
    let arm = support::loopback_proxy::LoopbackProxy::start(
        "404 Not Found",
        r#"{"error":{"code":"NotFound","message":"no such path"}}"#,
    );
    let run = run_unguided(
        &env,
        &tool,
        &["audit", "--arm-endpoint", &arm.url, "--max-retries", "0"],
        &[],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(&arm.url)
            && run.stderr.contains("AZURE_AUTHORITY_HOST")
            && run.stderr.contains("404"),
        "{}",
        run.stderr
    );
    let seen = arm.requests();
    assert!(
        seen.iter()
            .all(|l| l.starts_with("GET /metadata/endpoints?api-version=2022-09-01 ")),
        "only the metadata was asked for: {seen:?}"
    );
    assert!(!seen.is_empty());
}

#[tokio::test]
async fn the_emulator_process_presents_the_cloud_it_is_told() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_actlog-cmk"))
        .args(["emulator", "--port", "0", "--cloud", "china", "--ca-out"])
        .arg(&ca)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the emulator");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
    let ready: Value = serde_json::from_str(&line).expect("one JSON line");
    let endpoint = ready["endpoint"].as_str().unwrap().to_string();
    assert_eq!(
        ready["authority_host"].as_str(),
        Some(format!("{endpoint}/login.chinacloudapi.cn").as_str())
    );
    assert_eq!(
        ready["token_scope"],
        "https://management.chinacloudapi.cn/.default"
    );
    let client = support::https_client(&std::fs::read_to_string(&ca).unwrap());
    let metadata: Value = client
        .get(format!(
            "{endpoint}/metadata/endpoints?api-version=2022-09-01"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(metadata["suffixes"]["keyVaultDns"], "vault.azure.cn");
    assert_eq!(
        metadata["authentication"]["loginEndpoint"],
        format!("{endpoint}/login.chinacloudapi.cn/")
    );
}
