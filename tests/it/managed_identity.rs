//! `--auth managed-identity` on App Service, Functions and Container Apps
//! (issue 17 item 4): the real binary reads `IDENTITY_ENDPOINT` and
//! `IDENTITY_HEADER`, pointing at the managed-identity endpoint the emulator
//! serves on loopback, and audits with the token it gets; `AZURE_CLIENT_ID`
//! selects a user-assigned identity, and the request log shows which
//! identity made the ARM calls. A wrong header or an identity the host does
//! not have is refused, as App Service refuses them. No test here asks the
//! instance metadata service (sign_in_errors.rs does, through a loopback proxy).

use crate::support;
use actlog_cmk::emulator::managed_identity;
use reqwest::Method;
use serde_json::Value;
use support::cli::Run;
use support::*;

async fn audit_on_host(env: &Env, vars: &[(&str, Option<&str>)]) -> Run {
    let tool = env.tool();
    tool.ready().await;
    let mut cmd = tool.command(&["audit", "-s", SUB1, "--auth", "managed-identity"]);
    cmd.env_remove("AZURE_CLIENT_SECRET");
    cmd.env_remove("AZURE_CLIENT_ID");
    // Plain-HTTP requests (the instance metadata service's) go to a closed
    // loopback port, so a credential that fell back to IMDS fails here
    // instead of leaving the machine; the emulator is HTTPS, not proxied.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    for name in ["HTTP_PROXY", "http_proxy"] {
        cmd.env(name, &closed);
    }
    for name in ["ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"] {
        cmd.env_remove(name);
    }
    for (k, v) in vars {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    Run::from_output(&out)
}

/// The client ids the ARM calls since the log was cleared were made with.
async fn callers(env: &Env) -> Vec<String> {
    let mut ids: Vec<String> = env
        .requests()
        .await
        .iter()
        .filter_map(|r| r["clientId"].as_str().map(str::to_lowercase))
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_signs_in_with_the_hosts_system_and_user_assigned_identities() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "one").await;
    let (identity_id, _) = env.identity(SUB1, "rg-host", "id-app").await;
    let identity = env
        .arm(
            Method::GET,
            &format!("{identity_id}?api-version=2023-01-31"),
            None,
        )
        .await;
    let user_client_id = identity.body["properties"]["clientId"]
        .as_str()
        .unwrap()
        .to_lowercase();
    let host = managed_identity::host(env.emu.emulator(), &env.emu.connection.client_id);
    let vars = [
        ("IDENTITY_ENDPOINT", Some(host.endpoint.as_str())),
        ("IDENTITY_HEADER", Some(host.header.as_str())),
    ];

    env.admin(Method::DELETE, "/requests", None).await;
    let run = audit_on_host(&env, &vars).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains(&host.header) && !run.stderr.contains(&host.header));
    assert_eq!(
        callers(&env).await,
        [env.emu.connection.client_id.to_lowercase()]
    );

    env.admin(Method::DELETE, "/requests", None).await;
    let mut with_user = vars.to_vec();
    with_user.push(("AZURE_CLIENT_ID", Some(user_client_id.as_str())));
    let run = audit_on_host(&env, &with_user).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(callers(&env).await, [user_client_id]);

    // An identity the host does not have: App Service's 400, told as such.
    let unknown = "00000000-0000-0000-0000-00000000beef";
    let mut with_unknown = vars.to_vec();
    with_unknown.push(("AZURE_CLIENT_ID", Some(unknown)));
    let run = audit_on_host(&env, &with_unknown).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("has not been assigned"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_identity_header_is_refused_and_says_no_endpoint_answered() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "one").await;
    let host = managed_identity::host(env.emu.emulator(), &env.emu.connection.client_id);
    let token_url = format!(
        "{}?resource=https://management.azure.com&api-version=2019-08-01",
        host.endpoint
    );
    for (header, status) in [
        (None, 400),
        (Some("wrong"), 401),
        (Some(host.header.as_str()), 200),
    ] {
        let mut request = env.client.get(&token_url);
        if let Some(h) = header {
            request = request.header("X-IDENTITY-HEADER", h);
        }
        let answer = request.send().await.unwrap();
        assert_eq!(answer.status().as_u16(), status, "{header:?}");
        let body: Value = answer.json().await.unwrap();
        if status == 200 {
            for field in [
                "access_token",
                "expires_on",
                "resource",
                "token_type",
                "client_id",
            ] {
                assert!(body[field].is_string(), "{field}: {body}");
            }
        }
    }

    let run = audit_on_host(
        &env,
        &[
            ("IDENTITY_ENDPOINT", Some(host.endpoint.as_str())),
            ("IDENTITY_HEADER", Some("wrong")),
        ],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("no managed identity endpoint answered")
            && run.stderr.contains("IDENTITY_ENDPOINT")
            && run.stderr.contains("HTTP 401"),
        "{}",
        run.stderr
    );
}
