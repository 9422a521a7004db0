//! Sign-in errors say what to fix (issue 15 item 3), the real binary against
//! the emulator's token endpoint, which answers as Entra ID does: a wrong
//! secret, client id or tenant shows Entra's `AADSTS` code and description
//! and the variable to check; missing variables are named; `--auth
//! azure-cli` without `az` says so; `--auth managed-identity` off Azure says
//! no managed identity endpoint answered. Nothing leaves this machine: the
//! instance metadata address is reached only through a loopback proxy, or a
//! proxy on a closed loopback port.

use crate::support;
use crate::support::loopback_proxy;

use support::cli::Run;
use support::*;

const SUB: &[&str] = &["audit", "-s", SUB1];

async fn audit_with(env: &Env, args: &[&str], vars: &[(&str, Option<&str>)]) -> Run {
    let tool = env.tool();
    tool.ready().await;
    let mut cmd = tool.command(args);
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
    let run = Run::from_output(&out);
    run.assert_no_secrets(&env.emu.connection.client_secret, args);
    run
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_refusals_show_the_aadsts_code_and_the_variable_to_check() {
    let env = Env::start().await;
    env.add_subscription(SUB1, "one").await;
    let other = "00000000-0000-0000-0000-0000000000ff";
    for (variable, value, code, check) in [
        (
            "AZURE_CLIENT_SECRET",
            "not-the-secret",
            "AADSTS7000215",
            "Check AZURE_CLIENT_SECRET",
        ),
        (
            "AZURE_CLIENT_ID",
            other,
            "AADSTS700016",
            "Check AZURE_CLIENT_ID",
        ),
        (
            "AZURE_TENANT_ID",
            other,
            "AADSTS90002",
            "Check AZURE_TENANT_ID",
        ),
    ] {
        let run = audit_with(&env, SUB, &[(variable, Some(value))]).await;
        assert_eq!(run.code, 1, "{variable}: {}", run.stderr);
        assert!(
            run.stderr.contains("Entra ID refused the sign-in"),
            "{variable}: {}",
            run.stderr
        );
        assert!(run.stderr.contains(code), "{variable}: {}", run.stderr);
        assert!(run.stderr.contains(check), "{variable}: {}", run.stderr);
        assert!(
            !run.stderr.contains("Server returned error response"),
            "{}",
            run.stderr
        );
    }
    assert!(
        env.arm_requests().await.is_empty(),
        "ARM reached without a token"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_variables_are_named() {
    let env = Env::start().await;
    for unset in ["AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_CLIENT_ID"] {
        let run = audit_with(&env, SUB, &[(unset, None)]).await;
        assert_eq!(run.code, 1, "{unset}: {}", run.stderr);
        assert!(
            run.stderr.contains(&format!("not set: {unset}")),
            "{unset}: {}",
            run.stderr
        );
        assert!(
            !run.stderr.contains("no valid environment credential"),
            "{}",
            run.stderr
        );
    }
    let workload = audit_with(
        &env,
        &["audit", "--auth", "workload-identity"],
        &[
            ("AZURE_FEDERATED_TOKEN_FILE", None),
            ("AZURE_FEDERATED_TOKEN", None),
        ],
    )
    .await;
    assert!(
        workload
            .stderr
            .contains("the workload identity credential needs")
            && workload
                .stderr
                .contains("not set: AZURE_FEDERATED_TOKEN_FILE"),
        "{}",
        workload.stderr
    );
    assert!(
        !workload.stderr.contains("working identity"),
        "{}",
        workload.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_cli_without_az_says_it_is_not_installed() {
    let env = Env::start().await;
    let empty = tempfile::tempdir().unwrap();
    let path = empty.path().display().to_string();
    let run = audit_with(
        &env,
        &["audit", "--auth", "azure-cli"],
        &[("PATH", Some(&path))],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot sign in to Azure"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("no `az` command on the PATH"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("unexpected answer"), "{}", run.stderr);
}

/// Off Azure the instance metadata address either does not answer or a
/// proxy answers for it (403); either way: no managed identity endpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managed_identity_off_azure_says_no_endpoint_answered() {
    let env = Env::start().await;
    let forbidden = loopback_proxy::LoopbackProxy::start("403 Forbidden", "{}");
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    for proxy in [forbidden.url.as_str(), closed.as_str()] {
        let run = audit_with(
            &env,
            &["audit", "--auth", "managed-identity"],
            &[
                ("HTTP_PROXY", Some(proxy)),
                ("http_proxy", Some(proxy)),
                ("ALL_PROXY", Some(proxy)),
                ("NO_PROXY", None),
                ("no_proxy", None),
            ],
        )
        .await;
        assert_eq!(run.code, 1, "{proxy}: {}", run.stderr);
        assert!(
            run.stderr.contains("no managed identity endpoint answered"),
            "{proxy}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("HttpResponse("), "{}", run.stderr);
    }
    assert!(
        forbidden
            .requests()
            .iter()
            .any(|l| l.contains("169.254.169.254/metadata/identity")),
        "the request did not go through the loopback proxy"
    );
}
