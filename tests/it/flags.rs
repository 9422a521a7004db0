//! Every flag and environment variable of `audit`, `plan`, `apply` and
//! `rollback` (the global ones included), run end to end: the real binary
//! against the in-process emulator, each row asserting what the flag or
//! variable changes (output, exit code, emulator state or request log).
//!
//! The table is checked against the program itself: every argument clap
//! defines for those four subcommands (and the globals) must have a row for
//! each subcommand it belongs to, every environment variable clap reads or
//! README.md, docs/usage.md and docs/configuration.md document must have a
//! row, and so must every flag docs/usage.md and docs/configuration.md name
//! for these commands. Adding a flag without a row fails
//! `the_table_names_every_flag_of_audit_plan_apply_and_rollback`.
//!
//! Read-only rows share one estate; each signs in as its own service
//! principal, so its requests can be told apart in the request log while rows
//! run concurrently. Rows that write get an estate of their own. Credentials
//! the emulator cannot give (managed identity, Azure CLI, workload identity)
//! are driven to their failure without leaving loopback. `FLAGS_ROW=<name>`
//! runs only the rows whose name contains it.

use crate::support;
use crate::support::loopback_proxy;

use clap::CommandFactory;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use support::cli::Run;
use support::estate::*;
use support::reports::{account, destination};
use support::request_log::writes;
use support::*;

// ---------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------

type Case = fn(Arc<Shared>) -> Pin<Box<dyn Future<Output = ()> + Send>>;

/// One flag (`--long`, or the value name of a positional) or environment
/// variable, the subcommands its case runs it on, and the case.
struct Row {
    name: &'static str,
    commands: &'static [&'static str],
    case: Case,
}

const ALL: &[&str] = &["audit", "plan", "apply", "rollback"];
const REMEDIATION: &[&str] = &["plan", "apply"];
/// `demo`'s own flags (its rows run the demo, see tests/it/demo.rs).
const DEMO: &[&str] = &["demo"];
/// Environment variables are checked against the docs, not per subcommand.
const ENV: &[&str] = &[];

fn rows() -> Vec<Row> {
    macro_rules! row {
        ($name:expr, $commands:expr, $case:ident) => {
            Row {
                name: $name,
                commands: $commands,
                case: |s| Box::pin($case(s)),
            }
        };
    }
    vec![
        // Global flags.
        row!("--verbose", ALL, verbose),
        row!("--quiet", ALL, quiet),
        // How to reach ARM (every command that talks to Azure).
        row!("--arm-endpoint", ALL, arm_endpoint),
        row!("--ca-file", ALL, ca_file),
        row!("--auth", ALL, auth),
        row!("--token-scope", ALL, token_scope),
        row!("--timeout", ALL, timeout),
        row!("--max-retries", ALL, max_retries),
        // Scope.
        row!("--subscription", ALL, subscription),
        row!("--management-group", ALL, management_group),
        row!("--parallelism", ALL, parallelism),
        row!("--shard", &["audit", "plan", "apply"], shard),
        row!("--tenant", &["audit", "plan", "apply"], tenant),
        row!("--all-tenants", &["audit", "plan", "apply"], all_tenants),
        row!("--output", ALL, output),
        // audit
        row!("--output-file", &["audit"], output_file),
        row!("--soft-fail", &["audit"], soft_fail),
        // plan
        row!("--out", &["plan"], out),
        row!("--detailed-exitcode", &["plan"], detailed_exitcode),
        // Remediation settings (plan and apply).
        row!("--config", REMEDIATION, config),
        row!("--key-name", REMEDIATION, key_name),
        row!("--key-size", REMEDIATION, key_size),
        row!("--key-expiry-days", REMEDIATION, key_expiry_days),
        row!("--key-rotation-days", REMEDIATION, key_rotation_days),
        row!("--permission-model", REMEDIATION, permission_model),
        row!("--identity", REMEDIATION, identity),
        row!("--key-vault", REMEDIATION, key_vault),
        row!("--identity-name", REMEDIATION, identity_name),
        row!("--vault-name", REMEDIATION, vault_name),
        row!("--tag", REMEDIATION, tag),
        // apply
        row!("PLANFILE", &["apply"], plan_file),
        row!("--yes", &["apply", "rollback"], yes),
        row!("--dry-run", &["apply", "rollback"], dry_run),
        row!("--propagation-timeout", &["apply"], propagation_timeout),
        // rollback
        row!("--account", &["rollback"], rollback_account),
        row!("--remove-grants", &["rollback"], remove_grants),
        row!("--force", &["rollback"], force),
        row!("--out", &["rollback"], rollback_out),
        // demo
        row!("--keep-running", DEMO, demo_keep_running),
        row!("--before-apply", DEMO, demo_before_apply),
        row!("--cloud", DEMO, demo_cloud),
        // Environment.
        row!("ACTLOG_CMK_ARM_ENDPOINT", ENV, env_arm_endpoint),
        row!("ACTLOG_CMK_CA_FILE", ENV, env_ca_file),
        row!("ACTLOG_CMK_AUTH", ENV, env_auth),
        row!("ACTLOG_CMK_CONFIG", ENV, env_config),
        row!("ACTLOG_CMK_KEY_NAME", ENV, env_key_name),
        row!("ACTLOG_CMK_KEY_SIZE", ENV, env_key_size),
        row!("ACTLOG_CMK_PERMISSION_MODEL", ENV, env_permission_model),
        row!("ACTLOG_CMK_LOG", ENV, env_log),
        row!("ACTLOG_CMK_PLAN_KEY", ENV, env_plan_key),
        row!(
            "ACTLOG_CMK_EMULATOR_CLIENT_SECRET",
            ENV,
            env_emulator_secret
        ),
        row!("ACTLOG_CMK_EMULATOR_ADMIN_KEY", ENV, env_emulator_admin_key),
        row!("AZURE_TENANT_ID", ENV, env_tenant_id),
        row!("AZURE_CLIENT_ID", ENV, env_client_id),
        row!("AZURE_CLIENT_SECRET", ENV, env_client_secret),
        row!("AZURE_AUTHORITY_HOST", ENV, env_authority_host),
        row!("AZURE_FEDERATED_TOKEN_FILE", ENV, env_federated_token_file),
        row!("AZURE_FEDERATED_TOKEN", ENV, env_federated_token),
        row!("IDENTITY_ENDPOINT", ENV, env_identity_endpoint),
        row!("IDENTITY_HEADER", ENV, env_identity_header),
        row!("NO_COLOR", ENV, env_no_color),
    ]
}

// ---------------------------------------------------------------------------
// The table against clap and the docs
// ---------------------------------------------------------------------------

/// How a row names a clap argument: `--long`, or a positional's value name,
/// as the binary names them in its own messages.
use actlog_cmk::commands::flag_name;

/// (subcommand, flag) for every argument of the four subcommands, globals
/// included, and `demo`'s own flags.
fn clap_flags() -> BTreeSet<(String, String)> {
    let root = actlog_cmk::cli::Cli::command();
    let globals: Vec<String> = root.get_arguments().map(flag_name).collect();
    let mut flags = BTreeSet::new();
    for command in DEMO {
        let sub = root.find_subcommand(command).unwrap();
        for arg in sub.get_arguments() {
            flags.insert((command.to_string(), flag_name(arg)));
        }
    }
    for command in ALL {
        let sub = root
            .find_subcommand(command)
            .unwrap_or_else(|| panic!("no subcommand {command}"));
        for arg in sub.get_arguments() {
            flags.insert((command.to_string(), flag_name(arg)));
        }
        for global in &globals {
            flags.insert((command.to_string(), global.clone()));
        }
    }
    flags
}

/// Every `ACTLOG_CMK_*`, `AZURE_*`, `IDENTITY_*` and `NO_COLOR` the user docs name.
fn documented_env_vars() -> BTreeSet<String> {
    let mut vars = BTreeSet::new();
    for doc in ["README.md", "docs/usage.md", "docs/configuration.md"] {
        let text = std::fs::read_to_string(format!("{}/{doc}", env!("CARGO_MANIFEST_DIR")))
            .unwrap_or_else(|e| panic!("{doc}: {e}"));
        for prefix in ["ACTLOG_CMK_", "AZURE_", "IDENTITY_", "NO_COLOR"] {
            for (at, _) in text.match_indices(prefix) {
                let before = text[..at].chars().next_back();
                if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                    continue;
                }
                let name: String = text[at..]
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                vars.insert(name.trim_end_matches('_').to_string());
            }
        }
    }
    vars
}

#[test]
fn the_table_names_every_flag_of_audit_plan_apply_and_rollback() {
    let covered: BTreeSet<(String, String)> = rows()
        .iter()
        .flat_map(|r| {
            r.commands
                .iter()
                .map(|c| (c.to_string(), r.name.to_string()))
        })
        .collect();
    let defined = clap_flags();
    let missing: Vec<_> = defined.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "flags without a row in tests/it/flags.rs (subcommand, flag): {missing:?}"
    );
    let stale: Vec<_> = covered.difference(&defined).collect();
    assert!(
        stale.is_empty(),
        "rows for flags the CLI does not have: {stale:?}"
    );
    assert!(defined.len() > 40, "clap introspection found {defined:?}");
}

#[test]
fn the_table_names_every_documented_environment_variable() {
    let names: BTreeSet<&str> = rows().iter().map(|r| r.name).collect();
    let mut expected = documented_env_vars();
    // Variables clap reads for the four subcommands, documented or not.
    let root = actlog_cmk::cli::Cli::command();
    for command in ALL {
        for arg in root.find_subcommand(command).unwrap().get_arguments() {
            if let Some(var) = arg.get_env() {
                expected.insert(var.to_string_lossy().to_string());
            }
        }
    }
    assert!(
        expected.contains("ACTLOG_CMK_ARM_ENDPOINT") && expected.contains("NO_COLOR"),
        "the docs scan found {expected:?}"
    );
    let missing: Vec<_> = expected
        .iter()
        .filter(|v| !names.contains(v.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "documented environment variables without a row in tests/it/flags.rs: {missing:?}"
    );
    for row in rows().iter().filter(|r| r.commands.is_empty()) {
        assert!(
            expected.contains(row.name),
            "row {} is neither a flag of its commands nor a documented variable",
            row.name
        );
    }
}

/// The `--flags` docs/usage.md (from "Signing in" to the emulator's section)
/// and docs/configuration.md name: the flags of the four commands, plus the
/// emulator's own in the rehearsal snippet.
fn documented_flags() -> BTreeSet<String> {
    let read = |doc: &str| {
        std::fs::read_to_string(format!("{}/{doc}", env!("CARGO_MANIFEST_DIR")))
            .unwrap_or_else(|e| panic!("{doc}: {e}"))
    };
    let usage = read("docs/usage.md");
    let start = usage
        .find("## Signing in")
        .expect("usage.md: ## Signing in");
    let end = usage.find("### emulator").expect("usage.md: ### emulator");
    let mut flags = BTreeSet::new();
    for text in [&usage[start..end], read("docs/configuration.md").as_str()] {
        for (at, _) in text.match_indices("--") {
            let name: String = text[at + 2..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '-')
                .collect();
            if name.starts_with(|c: char| c.is_ascii_lowercase()) {
                flags.insert(format!("--{}", name.trim_end_matches('-')));
            }
        }
    }
    flags
}

#[test]
fn the_table_names_every_flag_the_docs_document() {
    let names: BTreeSet<&str> = rows().iter().map(|r| r.name).collect();
    let root = actlog_cmk::cli::Cli::command();
    let others: BTreeSet<String> = root
        .get_subcommands()
        .filter(|c| !ALL.contains(&c.get_name()))
        .flat_map(|c| c.get_arguments().map(flag_name).collect::<Vec<_>>())
        .collect();
    let documented = documented_flags();
    assert!(documented.contains("--key-vault"), "{documented:?}");
    let missing: Vec<_> = documented
        .iter()
        .filter(|f| !names.contains(f.as_str()) && !others.contains(*f))
        .collect();
    assert!(
        missing.is_empty(),
        "flags docs/usage.md or docs/configuration.md document for audit, plan, apply or rollback without a row: {missing:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_row_runs_end_to_end_against_the_emulator() {
    let shared = Arc::new(Shared::start().await);
    let only = std::env::var("FLAGS_ROW").ok();
    // Two cores are shared: a few rows at a time.
    let slots = Arc::new(tokio::sync::Semaphore::new(5));
    let mut running = Vec::new();
    for row in rows() {
        if only.as_deref().is_some_and(|o| !row.name.contains(o)) {
            continue;
        }
        let slot = slots.clone().acquire_owned().await.unwrap();
        let case = (row.case)(shared.clone());
        let name = row.name;
        running.push((
            row.name,
            tokio::spawn(async move {
                let _slot = slot;
                let start = std::time::Instant::now();
                case.await;
                eprintln!("row {name}: {:.1} s", start.elapsed().as_secs_f64());
            }),
        ));
    }
    let mut failed = Vec::new();
    for (name, task) in running {
        if let Err(e) = task.await {
            let message = e
                .try_into_panic()
                .ok()
                .and_then(|p| {
                    p.downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                })
                .unwrap_or_default();
            // Keep the report readable: a row's message can carry whole outputs.
            let short: String = message.chars().take(1500).collect();
            failed.push(format!("{name}: {short}"));
        }
    }
    assert!(
        failed.is_empty(),
        "{} row(s) failed:\n\n{}",
        failed.len(),
        failed.join("\n\n")
    );
}

// ---------------------------------------------------------------------------
// Estates and callers
// ---------------------------------------------------------------------------

/// The read-only estate: `stplain` (Microsoft-managed keys) receives SUB1's
/// activity log, `stgood` (a working CMK on an RBAC vault) SUB2's.
struct Shared {
    env: Env,
    plain: String,
    good: CmkAccount,
}

impl Shared {
    async fn start() -> Shared {
        let env = Env::start().await;
        env.add_subscription(SUB1, "prod").await;
        env.add_subscription(SUB2, "dev").await;
        let plain = env.storage_account(SUB1, "rg-app", "stplain").await;
        env.diagnostic_setting(SUB1, "to-plain", &plain, true).await;
        let good = env
            .cmk_account(SUB2, "rg-good", "stgood", "kv-good", true)
            .await;
        env.diagnostic_setting(SUB2, "to-good", &good.account_id, true)
            .await;
        Shared { env, plain, good }
    }

    /// A caller signed in as a service principal of its own.
    async fn caller(&self) -> Caller<'_> {
        principal(&self.env).await
    }
}

/// A new service principal in `env`, and a caller signed in as it: its
/// requests are told apart from everyone else's in the request log.
async fn principal(env: &Env) -> Caller<'_> {
    let client_id = uuid::Uuid::new_v4().to_string();
    let secret = format!("row-secret-{}", uuid::Uuid::new_v4().simple());
    let a = env
        .admin(
            Method::PUT,
            &format!("/principals/{client_id}"),
            Some(json!({"clientSecret": secret, "objectId": uuid::Uuid::new_v4().to_string()})),
        )
        .await;
    assert!(a.status.is_success(), "{:?}", a.body);
    Caller {
        env,
        tool: env.tool(),
        client_id,
        secret,
    }
}

/// An estate of its own, for rows that write: `stplain` in SUB1.
async fn fresh() -> (Env, String) {
    let env = Env::start().await;
    env.add_subscription(SUB1, "prod").await;
    let plain = env.storage_account(SUB1, "rg-app", "stplain").await;
    env.diagnostic_setting(SUB1, "to-plain", &plain, true).await;
    (env, plain)
}

/// Runs the binary as one principal, with variables set (`Some`) or removed (`None`).
struct Caller<'a> {
    env: &'a Env,
    tool: support::cli::Tool,
    client_id: String,
    secret: String,
}

type Vars<'v> = &'v [(&'v str, Option<&'v str>)];

impl Caller<'_> {
    /// The emulator's own principal, for an estate of its own.
    fn main(env: &Env) -> Caller<'_> {
        Caller {
            env,
            tool: env.tool(),
            client_id: env.emu.connection.client_id.clone(),
            secret: env.emu.connection.client_secret.clone(),
        }
    }

    fn command(&self, args: &[&str], vars: Vars<'_>) -> std::process::Command {
        let mut cmd = self.tool.command(args);
        cmd.env("AZURE_CLIENT_ID", &self.client_id);
        cmd.env("AZURE_CLIENT_SECRET", &self.secret);
        for (k, v) in vars {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        cmd
    }

    async fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, &[]).await
    }

    async fn run_with(&self, args: &[&str], vars: Vars<'_>) -> Run {
        let mut cmd = self.command(args, vars);
        let output = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .unwrap()
            .expect("the binary runs");
        let run = Run::from_output(&output);
        run.assert_no_secrets(&self.secret, args);
        run.assert_no_secrets(&self.env.emu.connection.client_secret, args);
        run
    }

    /// Runs and expects `code`, showing both streams otherwise.
    async fn expect(&self, code: i32, args: &[&str], vars: Vars<'_>) -> Run {
        let run = self.run_with(args, vars).await;
        assert_eq!(
            run.code,
            code,
            "`{}`\nstdout:\n{}\nstderr:\n{}",
            args.join(" "),
            run.stdout,
            run.stderr
        );
        run
    }

    /// The ARM requests this principal made (token and admin calls excluded).
    async fn requests(&self) -> Vec<Value> {
        self.env
            .arm_requests()
            .await
            .into_iter()
            .filter(|r| r["clientId"].as_str() == Some(self.client_id.as_str()))
            .collect()
    }

    async fn writes(&self) -> Vec<Value> {
        let requests = self.requests().await;
        writes(&requests).into_iter().cloned().collect()
    }
}

/// The read-only form of each command: apply and rollback as dry runs.
fn read_only(command: &str) -> Vec<&'static str> {
    match command {
        "audit" => vec!["audit"],
        "plan" => vec!["plan"],
        "apply" => vec!["apply", "--dry-run"],
        "rollback" => vec!["rollback", "--dry-run"],
        other => panic!("{other}"),
    }
}

/// The exit code of each read-only form on the shared estate: audit finds
/// `stplain`; plan and the dry runs succeed.
fn shared_code(command: &str) -> i32 {
    if command == "audit" {
        2
    } else {
        0
    }
}

fn args<'a>(base: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
    base.iter().chain(extra).copied().collect()
}

async fn get(env: &Env, path: &str, api: &str) -> Value {
    let a = env.arm(Method::GET, &format!("{path}?{api}"), None).await;
    assert!(a.status.is_success(), "GET {path}: {:?}", a.body);
    a.body
}

/// What the account's encryption points at after apply: (vault id, key name, identity id).
async fn cmk_of(env: &Env, account_id: &str) -> (String, String, String) {
    let body = get(env, account_id, STORAGE_API).await;
    let encryption = &body["properties"]["encryption"];
    assert_eq!(encryption["keySource"], "Microsoft.Keyvault", "{body:#}");
    let uri = encryption["keyvaultproperties"]["keyvaulturi"]
        .as_str()
        .unwrap();
    let vault = uri
        .trim_start_matches("https://")
        .split('.')
        .next()
        .unwrap();
    // The tool's vault is in the account's resource group, unless --key-vault
    // named another: find it by name through Resources_List.
    let sub = account_id.split('/').nth(2).unwrap();
    let vault_id = env
        .resources_of_type(sub, "Microsoft.KeyVault/vaults")
        .await
        .into_iter()
        .find(|id| id.ends_with(&format!("/vaults/{}", vault.to_lowercase())))
        .unwrap_or_else(|| panic!("no vault {vault}"));
    (
        vault_id,
        encryption["keyvaultproperties"]["keyname"]
            .as_str()
            .unwrap()
            .to_string(),
        encryption["identity"]["userAssignedIdentity"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

async fn key_of(env: &Env, account_id: &str) -> Value {
    let (vault_id, key, _) = cmk_of(env, account_id).await;
    get(env, &format!("{vault_id}/keys/{key}"), VAULT_API).await
}

async fn key_source(env: &Env, account_id: &str) -> String {
    get(env, account_id, STORAGE_API).await["properties"]["encryption"]["keySource"]
        .as_str()
        .unwrap()
        .to_string()
}

/// `apply --yes` on an estate of its own, which must end with every account done.
async fn apply_yes(caller: &Caller<'_>, extra: &[&str]) -> Run {
    caller
        .expect(0, &args(&["apply", "--yes", "-o", "json"], extra), &[])
        .await
}

/// `plan -o json` on the shared estate.
async fn plan_json(caller: &Caller<'_>, extra: &[&str], vars: Vars<'_>) -> Value {
    caller
        .expect(0, &args(&["plan", "-o", "json"], extra), vars)
        .await
        .json()
}

fn change<'a>(account: &'a Value, address: &str) -> Option<&'a Value> {
    account["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == address)
}

fn write_file(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// A loopback https address nothing listens on.
fn dead_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("https://127.0.0.1:{port}")
}

// ---------------------------------------------------------------------------
// Global flags
// ---------------------------------------------------------------------------

async fn verbose(s: Arc<Shared>) {
    let c = s.caller().await;
    // -v: info lines on every command.
    for command in ALL {
        let v = c
            .expect(
                shared_code(command),
                &args(&read_only(command), &["-v"]),
                &[],
            )
            .await;
        assert!(
            v.stderr.contains(" INFO actlog_cmk"),
            "{command} -v: {}",
            v.stderr
        );
        assert!(!v.stderr.contains("DEBUG"), "{command} -v: {}", v.stderr);
    }
    // Without it, none; with -vv, each ARM request (never its token).
    let plain = c.expect(2, &["audit"], &[]).await;
    assert!(!plain.stderr.contains(" INFO "), "{}", plain.stderr);
    let vv = c.expect(2, &["audit", "--verbose", "--verbose"], &[]).await;
    assert!(
        vv.stderr
            .contains("DEBUG actlog_cmk::azure::connection: ARM request"),
        "-vv: {}",
        vv.stderr
    );
}

async fn quiet(s: Arc<Shared>) {
    let c = s.caller().await;
    // audit and plan: the report is not log output; it stays, and stderr is silent.
    for (command, needle) in [("audit", "stplain"), ("plan", "will perform")] {
        let run = c
            .expect(shared_code(command), &[command, "--quiet"], &[])
            .await;
        assert!(run.stdout.contains(needle), "{command} -q: {}", run.stdout);
        assert!(run.stderr.is_empty(), "{command} -q: {}", run.stderr);
    }
    // apply and rollback: no diff and no progress.
    let good = s.good.account_id.as_str();
    for base in [
        vec!["apply", "--dry-run"],
        vec!["rollback", "--dry-run", "--force", "--account", good],
    ] {
        let loud = c.expect(0, &base, &[]).await;
        assert!(
            loud.stdout.contains("will perform"),
            "{base:?}: {}",
            loud.stdout
        );
        let q = c.expect(0, &args(&base, &["-q"]), &[]).await;
        assert!(
            !q.stdout.contains("will perform"),
            "{base:?} -q: {}",
            q.stdout
        );
        assert!(!q.stderr.contains("starting"), "{base:?} -q: {}", q.stderr);
        assert!(loud.stderr.len() > q.stderr.len(), "{base:?}: {}", q.stderr);
    }
    // Errors only, which -v contradicts.
    let both = c.expect(1, &["audit", "-q", "-v"], &[]).await;
    assert!(
        both.stderr.contains("cannot be used with"),
        "{}",
        both.stderr
    );
}

// ---------------------------------------------------------------------------
// Reaching ARM
// ---------------------------------------------------------------------------

async fn arm_endpoint(s: Arc<Shared>) {
    let c = s.caller().await;
    let endpoint = s.env.endpoint().to_string();
    let dead = dead_endpoint();
    // The flag beats an environment variable pointing elsewhere.
    let vars: Vars = &[("ACTLOG_CMK_ARM_ENDPOINT", Some(&dead))];
    for command in ALL {
        let base = args(&read_only(command), &["--arm-endpoint", &endpoint]);
        c.expect(shared_code(command), &base, vars).await;
    }
    let plan = plan_json(&c, &["--arm-endpoint", &endpoint], vars).await;
    assert_eq!(
        plan["arm_endpoint"].as_str().unwrap().trim_end_matches('/'),
        endpoint
    );
    // Tokens never travel over plain http to another host.
    let before = c.requests().await.len();
    let run = c
        .expect(
            1,
            &["audit", "--arm-endpoint", "http://management.example.com"],
            &[],
        )
        .await;
    assert!(
        run.stderr
            .contains("refusing to send credentials over plain http"),
        "{}",
        run.stderr
    );
    assert_eq!(c.requests().await.len(), before);
}

async fn ca_file(s: Arc<Shared>) {
    let c = s.caller().await;
    let ca = c.tool.ca_file.display().to_string();
    let no_env: Vars = &[("ACTLOG_CMK_CA_FILE", None)];
    for command in ALL {
        let base = read_only(command);
        let trusted = args(&base, &["--ca-file", &ca]);
        c.expect(shared_code(command), &trusted, no_env).await;
        // Without the emulator's CA its certificate is not trusted.
        let untrusted = c
            .expect(1, &args(&base, &["--max-retries", "0"]), no_env)
            .await;
        assert!(
            untrusted.stderr.to_lowercase().contains("certificate"),
            "{command}: {}",
            untrusted.stderr
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.pem").display().to_string();
    let run = c.expect(1, &["audit", "--ca-file", &missing], &[]).await;
    assert!(
        run.stderr.contains("cannot read the CA file") && run.stderr.contains("nope.pem"),
        "{}",
        run.stderr
    );
}

async fn auth(s: Arc<Shared>) {
    let c = s.caller().await;
    // environment signs in on every command, and default (only the
    // environment credential against loopback) too; the flag beats
    // ACTLOG_CMK_AUTH, which names a credential that cannot sign in here.
    let vars: Vars = &[("ACTLOG_CMK_AUTH", Some("azure-cli"))];
    for command in ALL {
        let run = args(&read_only(command), &["--auth", "environment"]);
        c.expect(shared_code(command), &run, vars).await;
    }
    c.expect(2, &["audit", "--auth", "default"], vars).await;
    assert!(!c.requests().await.is_empty());

    // workload-identity without its variables: the documented failure.
    let run = c
        .expect(
            1,
            &["audit", "--auth", "workload-identity"],
            &[
                ("AZURE_FEDERATED_TOKEN_FILE", None),
                ("AZURE_FEDERATED_TOKEN", None),
            ],
        )
        .await;
    assert!(
        run.stderr.contains("AZURE_FEDERATED_TOKEN_FILE"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("set the variables the --auth kind needs"),
        "{}",
        run.stderr
    );

    // azure-cli: no `az` on the PATH, so nothing can sign in and nothing leaves the machine.
    let empty = tempfile::tempdir().unwrap();
    let path = empty.path().display().to_string();
    let before = c.requests().await.len();
    let cli = c
        .expect(
            1,
            &["audit", "--auth", "azure-cli", "--max-retries", "0"],
            &[("PATH", Some(&path))],
        )
        .await;
    assert!(
        cli.stderr.contains("Azure CLI not installed"),
        "{}",
        cli.stderr
    );
    assert_eq!(
        c.requests().await.len(),
        before,
        "azure-cli reached ARM without a token"
    );

    // managed-identity asks the instance metadata endpoint; a loopback proxy
    // stands in for it and answers as IMDS does without an identity.
    let proxy = loopback_proxy::LoopbackProxy::start(
        "400 Bad Request",
        r#"{"error":"invalid_request","error_description":"Identity not found"}"#,
    );
    let mi = c
        .expect(
            1,
            &["audit", "--auth", "managed-identity", "--max-retries", "0"],
            &[
                ("HTTP_PROXY", Some(&proxy.url)),
                ("http_proxy", Some(&proxy.url)),
                ("ALL_PROXY", Some(&proxy.url)),
                ("NO_PROXY", None),
                ("no_proxy", None),
            ],
        )
        .await;
    assert!(
        mi.stderr
            .contains("the requested identity has not been assigned to this resource"),
        "{}",
        mi.stderr
    );
    let seen = proxy.requests();
    assert!(
        seen.iter()
            .any(|l| l.contains("169.254.169.254/metadata/identity/oauth2/token")),
        "the managed-identity request did not go through the loopback proxy: {seen:?}\n{}",
        mi.stderr
    );
    assert_eq!(
        c.requests().await.len(),
        before,
        "managed-identity reached ARM without a token"
    );

    let bad = c.expect(1, &["audit", "--auth", "kerberos"], &[]).await;
    assert!(
        bad.stderr.contains("invalid value 'kerberos'"),
        "{}",
        bad.stderr
    );
}

async fn token_scope(s: Arc<Shared>) {
    let c = s.caller().await;
    // Another management audience Entra accepts works...
    c.expect(
        2,
        &[
            "audit",
            "--token-scope",
            "https://management.core.windows.net//.default",
        ],
        &[],
    )
    .await;
    // ...and the scope asked for is the one sent: a Key Vault scope is refused by the token endpoint.
    for command in ALL {
        let run = c
            .expect(
                1,
                &args(
                    &read_only(command),
                    &["--token-scope", "https://vault.azure.net/.default"],
                ),
                &[],
            )
            .await;
        assert!(
            run.stderr.contains("cannot sign in to Azure"),
            "{command}: {}",
            run.stderr
        );
    }
}

async fn timeout(_: Arc<Shared>) {
    let (env, _) = fresh().await;
    let c = Caller::main(&env);
    let slow = 4000;
    env.patch_settings(json!({"faults": {"operationLatencyMs": {"Subscriptions_List": slow}}}))
        .await;
    let abandon = |command: &'static str| {
        let c = &c;
        async move {
            let start = std::time::Instant::now();
            let run = args(
                &read_only(command),
                &["--timeout", "1", "--max-retries", "0"],
            );
            let run = c.expect(1, &run, &[]).await;
            let elapsed = start.elapsed().as_millis() as u64;
            assert!(
                run.stderr.to_lowercase().contains("timed out"),
                "{command}: {}",
                run.stderr
            );
            // Process start and sign-in included, well before the answer.
            assert!(
                elapsed < slow - 200,
                "{command} waited {elapsed} ms for the answer"
            );
        }
    };
    futures::future::join_all(ALL.iter().map(|command| abandon(command))).await;
    // A longer timeout waits for the slow answer.
    c.expect(2, &["audit", "--timeout", "10"], &[]).await;
}

async fn max_retries(_: Arc<Shared>) {
    let (env, _) = fresh().await;
    let c = Caller::main(&env);
    env.patch_settings(json!({"faults": {"errorRate": 1.0}}))
        .await;
    for (command, retries, attempts) in [
        ("audit", "0", 1),
        ("plan", "1", 2),
        ("apply", "0", 1),
        ("rollback", "2", 3),
    ] {
        env.clear_requests().await;
        c.expect(
            1,
            &args(&read_only(command), &["--max-retries", retries]),
            &[],
        )
        .await;
        let listed = c
            .requests()
            .await
            .into_iter()
            .filter(|r| r["operation"] == "Subscriptions_List")
            .count();
        assert_eq!(listed, attempts, "{command} --max-retries {retries}");
    }
}

// ---------------------------------------------------------------------------
// Scope and output
// ---------------------------------------------------------------------------

async fn subscription(s: Arc<Shared>) {
    for command in ALL {
        // A principal per command: its requests are this command's alone.
        let c = s.caller().await;
        let code = shared_code(command);
        c.expect(code, &args(&read_only(command), &["-s", SUB1]), &[])
            .await;
        let requests = c.requests().await;
        assert!(!requests.is_empty(), "{command}");
        for r in &requests {
            assert!(
                !r["path"].as_str().unwrap().contains(SUB2),
                "{command} -s {SUB1} read {r}"
            );
        }
    }
    let c = s.caller().await;
    let audit = c
        .expect(0, &["audit", "-o", "json", "--subscription", SUB2], &[])
        .await
        .json();
    assert_eq!(
        audit["destinations"].as_array().unwrap().len(),
        1,
        "{audit:#}"
    );
    destination(&audit, &s.good.account_id);
    let plan = c
        .expect(0, &["plan", "--detailed-exitcode", "-s", SUB2], &[])
        .await;
    assert!(plan.stdout.contains("No changes"), "{}", plan.stdout);
    let bad = c.expect(1, &["audit", "-s", "not-a-guid"], &[]).await;
    assert!(bad.stderr.contains("not-a-guid"), "{}", bad.stderr);
    // A display name, as well as an id (tests/audit.rs has the rest).
    let by_name = c
        .expect(0, &["audit", "-o", "json", "-s", "dev"], &[])
        .await
        .json();
    assert_eq!(by_name["subscriptions"][0]["subscription_id"], SUB2);
}

/// `--management-group` reads only the named groups' settings (no list of
/// groups), its destinations join the subscriptions'; without it every
/// group is read, with `-s` none; a bad id fails before any call; a saved
/// plan refuses it.
async fn management_group(_: Arc<Shared>) {
    let env = Env::start().await;
    env.add_subscription(SUB1, "prod").await;
    let plain = env.storage_account(SUB1, "rg-app", "stplain").await;
    env.diagnostic_setting(SUB1, "to-plain", &plain, true).await;
    let platform = env.storage_account(SUB1, "rg-mg", "stmgplatform").await;
    let other = env.storage_account(SUB1, "rg-mg", "stmgother").await;
    env.management_group("platform", None).await;
    env.management_group("other", None).await;
    env.management_group_setting("platform", "to-platform", &platform)
        .await;
    env.management_group_setting("other", "to-other", &other)
        .await;
    let is_list = |r: &Value| {
        r["path"]
            .as_str()
            .unwrap()
            .to_ascii_lowercase()
            .ends_with("/microsoft.management/managementgroups")
    };
    let names = |r: &Value, group: &str| {
        r["path"]
            .as_str()
            .unwrap()
            .to_ascii_lowercase()
            .contains(&format!("/managementgroups/{group}/"))
    };
    for command in ALL {
        let c = principal(&env).await;
        let code = shared_code(command);
        c.expect(
            code,
            &args(&read_only(command), &["--management-group", "platform"]),
            &[],
        )
        .await;
        let requests = c.requests().await;
        assert!(requests.iter().any(|r| names(r, "platform")), "{command}");
        assert!(
            !requests.iter().any(|r| names(r, "other") || is_list(r)),
            "{command} --management-group platform read {requests:#?}"
        );
    }
    let c = principal(&env).await;
    let audit = c
        .expect(
            2,
            &["audit", "-o", "json", "--management-group", "platform"],
            &[],
        )
        .await
        .json();
    let source = &destination(&audit, &platform)["sources"][0];
    assert_eq!(source["kind"], "management_group_diagnostic_setting");
    assert_eq!(source["management_group_id"], "platform");
    destination(&audit, &plain);
    assert!(!audit.to_string().contains("stmgother"), "{audit:#}");
    assert_eq!(
        audit["management_groups"],
        json!([{"management_group_id": "platform", "complete": true, "errors": []}])
    );
    // Without the flag: every group (and the root) is read.
    let every = c.expect(2, &["audit", "-o", "json"], &[]).await.json();
    destination(&every, &other);
    assert_eq!(every["management_groups"].as_array().unwrap().len(), 3);
    // Named subscriptions alone: no group is read.
    let s1 = principal(&env).await;
    let subs_only = s1
        .expect(2, &["audit", "-o", "json", "-s", SUB1], &[])
        .await
        .json();
    assert!(
        subs_only.get("management_groups").is_none(),
        "{subs_only:#}"
    );
    assert!(!s1
        .requests()
        .await
        .iter()
        .any(|r| r["path"].as_str().unwrap().contains("anagementGroups")));
    let bad = c
        .expect(1, &["audit", "--management-group", "a/b"], &[])
        .await;
    assert!(bad.stderr.contains("--management-group"), "{}", bad.stderr);
    // Rollback of named accounts takes no scope.
    let both = c
        .expect(
            1,
            &[
                "rollback",
                "--dry-run",
                "--account",
                &platform,
                "--management-group",
                "platform",
            ],
            &[],
        )
        .await;
    assert!(
        both.stderr.contains("--management-group"),
        "{}",
        both.stderr
    );
    // A group that does not exist cannot be read: the audit is incomplete.
    let unknown = c
        .expect(3, &["audit", "--management-group", "nope"], &[])
        .await;
    assert!(
        unknown.stdout.contains("management group nope"),
        "{}",
        unknown.stdout
    );
    // A saved plan is applied as saved: the flag is refused with it.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.json");
    let file = file.to_str().unwrap();
    c.expect(
        0,
        &["plan", "--management-group", "platform", "--out", file],
        &[],
    )
    .await;
    let refused = c
        .expect(
            1,
            &["apply", file, "--dry-run", "--management-group", "other"],
            &[],
        )
        .await;
    assert!(
        refused.stderr.contains("--management-group"),
        "{}",
        refused.stderr
    );
}

/// Milliseconds from the first answer to the last: with every answer
/// delayed by the emulator, requests that wait for each other take a delay
/// each, requests in flight together share one.
fn span_ms(requests: &[Value]) -> i64 {
    let times: Vec<i64> = requests
        .iter()
        .map(|r| {
            chrono::DateTime::parse_from_rfc3339(r["time"].as_str().unwrap())
                .unwrap()
                .timestamp_millis()
        })
        .collect();
    times.iter().max().unwrap() - times.iter().min().unwrap()
}

async fn parallelism(_: Arc<Shared>) {
    let env = Env::start().await;
    let subs = [
        (SUB1, "prod"),
        (SUB2, "dev"),
        (SUB3, "data"),
        ("44444444-4444-4444-4444-444444444444", "ops"),
    ];
    for (sub, name) in subs {
        env.add_subscription(sub, name).await;
        let rg = format!("rg-{name}");
        let st = env.storage_account(sub, &rg, &format!("st{name}")).await;
        env.diagnostic_setting(sub, "to-st", &st, true).await;
    }
    let latency = 150;
    env.patch_settings(json!({"faults": {"latencyMs": latency}}))
        .await;
    // The commands run side by side, each run as its own principal.
    let span = |command: &'static str, parallelism: &'static str| {
        let env = &env;
        async move {
            let c = principal(env).await;
            let run = args(&read_only(command), &["--parallelism", parallelism]);
            c.expect(shared_code(command), &run, &[]).await;
            span_ms(&c.requests().await)
        }
    };
    let compare = |command: &'static str| async move {
        let serial = span(command, "1").await;
        let parallel = span(command, "16").await;
        // One at a time: four subscriptions in a row, each account read
        // alongside the next subscription, the last one after the last (six
        // delays from the page to the last answer). At once: the page, the
        // subscriptions, the accounts (three). Three delays apart in theory;
        // at least two in the request log's answer times.
        assert!(
            serial >= parallel + 2 * latency,
            "{command}: --parallelism 1 took {serial} ms, --parallelism 16 {parallel} ms"
        );
    };
    futures::future::join_all(ALL.iter().map(|command| compare(command))).await;
    let c = Caller::main(&env);
    let run = c.expect(1, &["plan", "--parallelism", "0"], &[]).await;
    assert!(run.stderr.contains("--parallelism"), "{}", run.stderr);
}

async fn output(s: Arc<Shared>) {
    let c = s.caller().await;
    let good = s.good.account_id.as_str();
    // audit: four formats of the same findings.
    let text = c.expect(2, &["audit", "-o", "text"], &[]).await.stdout;
    assert!(
        text.contains("[NON-COMPLIANT]") && text.contains("stplain"),
        "{text}"
    );
    let json = c.expect(2, &["audit", "-o", "json"], &[]).await.json();
    assert_eq!(destination(&json, &s.plain)["status"], "non_compliant");
    let md = c
        .expect(2, &["audit", "--output", "markdown"], &[])
        .await
        .stdout;
    assert!(
        md.contains("| ") && md.contains("stplain") && !md.contains("[NON-COMPLIANT]"),
        "{md}"
    );
    let sarif: Value =
        serde_json::from_str(&c.expect(2, &["audit", "-o", "sarif"], &[]).await.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert!(!sarif["runs"][0]["results"].as_array().unwrap().is_empty());
    // plan: text, json, markdown.
    let text = c.expect(0, &["plan", "-o", "text"], &[]).await.stdout;
    assert!(
        text.contains("will perform the following actions"),
        "{text}"
    );
    let json = plan_json(&c, &[], &[]).await;
    assert!(
        change(account(&json, &s.plain), "key").is_some(),
        "{json:#}"
    );
    let md = c.expect(0, &["plan", "-o", "markdown"], &[]).await.stdout;
    assert!(md.starts_with('#') || md.contains("\n#"), "{md}");
    assert!(serde_json::from_str::<Value>(&md).is_err());
    // apply and rollback: text or json; with json the diff goes to stderr.
    for base in [
        vec!["apply", "--dry-run"],
        vec!["rollback", "--dry-run", "--force", "--account", good],
    ] {
        let json = c.expect(0, &args(&base, &["-o", "json"]), &[]).await;
        assert_eq!(json.json()["dry_run"], true, "{base:?}");
        assert!(
            json.stderr.contains("will perform"),
            "{base:?}: {}",
            json.stderr
        );
        let text = c.expect(0, &args(&base, &["--output", "text"]), &[]).await;
        assert!(
            serde_json::from_str::<Value>(&text.stdout).is_err(),
            "{base:?}"
        );
        assert!(
            text.stdout.contains("will perform") && text.stdout.contains("dry run"),
            "{base:?}: {}",
            text.stdout
        );
    }
    assert!(c.writes().await.is_empty());
}

async fn output_file(s: Arc<Shared>) {
    let c = s.caller().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("audit.sarif");
    let run = c
        .expect(
            2,
            &[
                "audit",
                "-o",
                "sarif",
                "--output-file",
                file.to_str().unwrap(),
            ],
            &[],
        )
        .await;
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let sarif: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
}

async fn soft_fail(s: Arc<Shared>) {
    let c = s.caller().await;
    // The shared estate has a finding: 2, or 0 with --soft-fail; the report is the same.
    let hard = c.expect(2, &["audit", "-o", "json"], &[]).await.json();
    let soft = c
        .expect(0, &["audit", "-o", "json", "--soft-fail"], &[])
        .await
        .json();
    assert_eq!(hard["summary"], soft["summary"]);
    // An error is still an error.
    c.expect(
        1,
        &[
            "audit",
            "--soft-fail",
            "--arm-endpoint",
            &dead_endpoint(),
            "--max-retries",
            "0",
        ],
        &[],
    )
    .await;
}

/// A tenant of its own (no subscriptions) with the caller's principal in
/// it, so that rows running at once do not see each other's tenants.
async fn tenant_with(c: &Caller<'_>) -> String {
    let tenant = uuid::Uuid::new_v4().to_string();
    let a = c
        .env
        .admin(
            Method::PUT,
            &format!("/tenants/{tenant}"),
            Some(json!({"principals": [c.client_id]})),
        )
        .await;
    assert!(a.status.is_success(), "{:?}", a.body);
    tenant
}

/// The tenant each subscription of a JSON audit names ("" when none).
fn subscription_tenants(audit: &Value) -> Vec<(String, String)> {
    audit["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["subscription_id"].as_str().unwrap().to_string(),
                s["tenant_id"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

async fn tenant(s: Arc<Shared>) {
    let c = s.caller().await;
    let home = s.env.emu.connection.tenant_id.to_ascii_lowercase();
    let other = tenant_with(&c).await;
    // The other tenant has no subscriptions: nothing to audit there.
    let there = c
        .expect(0, &["audit", "-o", "json", "--tenant", &other], &[])
        .await
        .json();
    assert_eq!(subscription_tenants(&there), []);
    assert_eq!(there["tenant_id"], other.as_str());
    let both = c
        .expect(
            2,
            &["audit", "-o", "json", "--tenant", &other, "--tenant", &home],
            &[],
        )
        .await
        .json();
    assert_eq!(
        subscription_tenants(&both),
        [
            (SUB1.to_string(), home.clone()),
            (SUB2.to_string(), home.clone())
        ]
    );
    destination(&both, &s.plain);
    // Each tenant signed in to with its own token: a sign-in per tenant.
    let sign_ins = s.env.admin(Method::GET, "/sign-ins", None).await.body;
    let token_paths: Vec<String> = sign_ins["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.to_string())
        .filter(|r| r.contains(&other))
        .collect();
    assert!(!token_paths.is_empty(), "{sign_ins}");
    for command in ["audit", "plan", "apply"] {
        let bad = c
            .expect(
                1,
                &args(&read_only(command), &["--tenant", "contoso.example"]),
                &[],
            )
            .await;
        assert!(
            bad.stderr.contains("--tenant 'contoso.example'"),
            "{}",
            bad.stderr
        );
    }
    // plan and apply read the tenants named: the other tenant's plan is empty.
    for command in ["plan", "apply"] {
        c.expect(0, &args(&read_only(command), &["--tenant", &other]), &[])
            .await;
    }
    let plan = c
        .expect(
            0,
            &["plan", "-o", "json", "--tenant", &other, "--tenant", &home],
            &[],
        )
        .await
        .json();
    let account = s.plain.to_ascii_lowercase();
    assert_eq!(
        plan["accounts"][0]["storage_account_id"]
            .as_str()
            .map(str::to_ascii_lowercase),
        Some(account),
        "{plan:#}"
    );
    assert_eq!(plan["tenants"][SUB1], home.as_str(), "{plan:#}");
    // A tenant the principal is not in: reported, incomplete.
    let foreign = uuid::Uuid::new_v4().to_string();
    let refused = c
        .expect(3, &["audit", "-o", "json", "--tenant", &foreign], &[])
        .await
        .json();
    assert!(
        refused["warnings"].to_string().contains(&foreign),
        "{refused}"
    );
}

async fn all_tenants(s: Arc<Shared>) {
    let c = s.caller().await;
    let home = s.env.emu.connection.tenant_id.to_ascii_lowercase();
    tenant_with(&c).await;
    let all = c
        .expect(2, &["audit", "-o", "json", "--all-tenants"], &[])
        .await
        .json();
    assert_eq!(
        subscription_tenants(&all),
        [(SUB1.to_string(), home.clone()), (SUB2.to_string(), home)]
    );
    // Across tenants the report names no single tenant.
    assert!(all.get("tenant_id").is_none(), "{all}");
    let requests = c.requests().await;
    assert!(
        requests
            .iter()
            .any(|r| r["path"].as_str().unwrap().starts_with("/tenants")),
        "{requests:?}"
    );
    for command in ["audit", "plan", "apply"] {
        let conflict = c
            .expect(
                1,
                &args(&read_only(command), &["--all-tenants", "--tenant", SUB1]),
                &[],
            )
            .await;
        assert!(conflict.stderr.contains("--tenant"), "{}", conflict.stderr);
    }
    for command in ["plan", "apply"] {
        let c = s.caller().await;
        tenant_with(&c).await;
        c.expect(0, &args(&read_only(command), &["--all-tenants"]), &[])
            .await;
        let requests = c.requests().await;
        assert!(
            requests
                .iter()
                .any(|r| r["path"].as_str().unwrap().starts_with("/tenants")),
            "{command}: {requests:?}"
        );
    }
}

async fn shard(s: Arc<Shared>) {
    // Fixed by the hash (src/shard.rs): SUB1 is in shard 1/2, SUB2 in 2/2.
    for command in ["audit", "plan", "apply"] {
        let c = s.caller().await;
        // Shard 2/2 is SUB2 alone, whose one destination is compliant.
        c.expect(0, &args(&read_only(command), &["--shard", "2/2"]), &[])
            .await;
        let requests = c.requests().await;
        assert!(!requests.is_empty(), "{command}");
        for r in &requests {
            assert!(
                !r["path"].as_str().unwrap().contains(SUB1),
                "{command} --shard 2/2 read {r}"
            );
        }
        let bad = c
            .expect(1, &args(&read_only(command), &["--shard", "3/2"]), &[])
            .await;
        assert!(bad.stderr.contains("K/N"), "{}", bad.stderr);
    }
    let c = s.caller().await;
    let audit = c
        .expect(2, &["audit", "-o", "json", "--shard", "1/2"], &[])
        .await
        .json();
    assert_eq!(audit["shard"], json!({"index": 1, "count": 2}));
    assert_eq!(audit["subscriptions"].as_array().unwrap().len(), 1);
    assert_eq!(audit["subscriptions"][0]["subscription_id"], SUB1);
    destination(&audit, &s.plain);
    // An explicit -s list is sharded too.
    let none = c
        .expect(
            0,
            &["audit", "-o", "json", "-s", SUB1, "--shard", "2/2"],
            &[],
        )
        .await
        .json();
    assert_eq!(none["subscriptions"], json!([]));
    // A saved plan keeps its shard; apply of it refuses another.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.json");
    let file = file.to_str().unwrap();
    let plan = c
        .expect(
            0,
            &["plan", "-o", "json", "--shard", "1/2", "--out", file],
            &[],
        )
        .await
        .json();
    assert_eq!(plan["shard"], json!({"index": 1, "count": 2}));
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    assert_eq!(saved["plan"]["shard"], json!({"index": 1, "count": 2}));
    let refused = c
        .expect(1, &["apply", file, "--dry-run", "--shard", "2/2"], &[])
        .await;
    assert!(refused.stderr.contains("--shard"), "{}", refused.stderr);
    c.expect(0, &["apply", file, "--dry-run"], &[]).await;
}

// ---------------------------------------------------------------------------
// plan
// ---------------------------------------------------------------------------

async fn out(s: Arc<Shared>) {
    let c = s.caller().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.json");
    let run = c
        .expect(0, &["plan", "--out", file.to_str().unwrap()], &[])
        .await;
    assert!(run.stderr.contains("Saved the plan to"), "{}", run.stderr);
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert!(
        change(account(&saved["plan"], &s.plain), "storage_account").is_some(),
        "{saved:#}"
    );
    assert!(c.writes().await.is_empty());
}

async fn detailed_exitcode(s: Arc<Shared>) {
    let c = s.caller().await;
    c.expect(0, &["plan"], &[]).await;
    c.expect(2, &["plan", "--detailed-exitcode"], &[]).await;
    c.expect(0, &["plan", "--detailed-exitcode", "-s", SUB2], &[])
        .await;
}

// ---------------------------------------------------------------------------
// Remediation settings
// ---------------------------------------------------------------------------

async fn config(s: Arc<Shared>) {
    let c = s.caller().await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        &dir,
        "actlog-cmk.toml",
        "key_name = \"from-file\"\nkey_size = 4096\n\n[tags]\nowner = \"secops\"\n",
    );
    let plan = plan_json(&c, &["--config", &file], &[]).await;
    assert_eq!(plan["settings"]["key_name"], "from-file");
    assert_eq!(plan["settings"]["key_size"], 4096);
    assert_eq!(plan["settings"]["tags"]["owner"], "secops");
    let missing = dir.path().join("missing.toml").display().to_string();
    let run = c.expect(1, &["plan", "--config", &missing], &[]).await;
    assert!(run.stderr.contains("missing.toml"), "{}", run.stderr);

    let (env, plain) = fresh().await;
    apply_yes(&Caller::main(&env), &["--config", &file]).await;
    let key = key_of(&env, &plain).await;
    assert_eq!(key["name"], "from-file", "{key:#}");
    assert_eq!(key["properties"]["keySize"], 4096, "{key:#}");
}

async fn key_name(s: Arc<Shared>) {
    let c = s.caller().await;
    let plan = plan_json(
        &c,
        &["--key-name", "from-flag"],
        &[("ACTLOG_CMK_KEY_NAME", Some("from-env"))],
    )
    .await;
    assert_eq!(plan["settings"]["key_name"], "from-flag");
    let run = c
        .expect(1, &["plan", "--key-name", "not_valid!"], &[])
        .await;
    assert!(run.stderr.contains("--key-name"), "{}", run.stderr);

    let (env, plain) = fresh().await;
    apply_yes(&Caller::main(&env), &["--key-name", "from-flag"]).await;
    assert_eq!(cmk_of(&env, &plain).await.1, "from-flag");
}

async fn key_size(s: Arc<Shared>) {
    let c = s.caller().await;
    let plan = plan_json(
        &c,
        &["--key-size", "2048"],
        &[("ACTLOG_CMK_KEY_SIZE", Some("4096"))],
    )
    .await;
    assert_eq!(plan["settings"]["key_size"], 2048);
    let before = c.requests().await.len();
    let run = c.expect(1, &["plan", "--key-size", "1024"], &[]).await;
    assert!(
        run.stderr.contains("--key-size") && run.stderr.contains("1024"),
        "{}",
        run.stderr
    );
    assert_eq!(
        c.requests().await.len(),
        before,
        "a bad key size was refused after reading Azure"
    );

    let (env, plain) = fresh().await;
    apply_yes(&Caller::main(&env), &["--key-size", "2048"]).await;
    assert_eq!(key_of(&env, &plain).await["properties"]["keySize"], 2048);
}

async fn key_expiry_days(s: Arc<Shared>) {
    let c = s.caller().await;
    let plan = plan_json(&c, &["--key-expiry-days", "365"], &[]).await;
    assert_eq!(plan["settings"]["key_expiry_days"], 365);
    let run = c.expect(1, &["plan", "--key-expiry-days", "0"], &[]).await;
    assert!(run.stderr.contains("--key-expiry-days"), "{}", run.stderr);

    let (env, plain) = fresh().await;
    let now = chrono::Utc::now().timestamp();
    apply_yes(&Caller::main(&env), &["--key-expiry-days", "365"]).await;
    let key = key_of(&env, &plain).await;
    let exp = key["properties"]["attributes"]["exp"]
        .as_i64()
        .unwrap_or_else(|| panic!("no expiry: {key:#}"));
    let days = (exp - now) as f64 / 86_400.0;
    assert!(
        (364.9..=365.1).contains(&days),
        "the key expires in {days} days: {key:#}"
    );
}

async fn key_rotation_days(s: Arc<Shared>) {
    let c = s.caller().await;
    let plan = plan_json(
        &c,
        &["--key-rotation-days", "30", "--key-expiry-days", "365"],
        &[],
    )
    .await;
    assert_eq!(plan["settings"]["key_rotation_days"], 30);
    let run = c
        .expect(
            1,
            &[
                "plan",
                "--key-rotation-days",
                "400",
                "--key-expiry-days",
                "365",
            ],
            &[],
        )
        .await;
    assert!(run.stderr.contains("--key-rotation-days"), "{}", run.stderr);

    // The issue's reproduction: both flags on a fresh estate.
    let (env, plain) = fresh().await;
    apply_yes(
        &Caller::main(&env),
        &["--key-rotation-days", "30", "--key-expiry-days", "365"],
    )
    .await;
    let key = key_of(&env, &plain).await;
    let policy = &key["properties"]["rotationPolicy"];
    let action = &policy["lifetimeActions"][0];
    assert_eq!(action["trigger"]["timeAfterCreate"], "P30D", "{key:#}");
    assert!(
        action["action"]["type"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("rotate")),
        "{key:#}"
    );
    assert_eq!(policy["attributes"]["expiryTime"], "P365D", "{key:#}");
    let audit = Caller::main(&env)
        .expect(0, &["audit", "-o", "json"], &[])
        .await
        .json();
    assert_eq!(destination(&audit, &plain)["status"], "compliant");
}

async fn permission_model(s: Arc<Shared>) {
    let c = s.caller().await;
    let plan = plan_json(
        &c,
        &["--permission-model", "access-policy"],
        &[("ACTLOG_CMK_PERMISSION_MODEL", Some("rbac"))],
    )
    .await;
    assert_eq!(plan["settings"]["permission_model"], "access_policy");
    let a = account(&plan, &s.plain);
    assert!(
        change(a, "access_policy").is_some() && change(a, "role_assignment").is_none(),
        "{a:#}"
    );

    let (env, plain) = fresh().await;
    apply_yes(
        &Caller::main(&env),
        &["--permission-model", "access-policy"],
    )
    .await;
    let (vault_id, _, identity_id) = cmk_of(&env, &plain).await;
    let vault = get(&env, &vault_id, VAULT_API).await;
    assert_ne!(
        vault["properties"]["enableRbacAuthorization"], true,
        "{vault:#}"
    );
    let principal = get(&env, &identity_id, MSI_API).await["properties"]["principalId"].clone();
    assert!(
        vault["properties"]["accessPolicies"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["objectId"] == principal),
        "{vault:#}"
    );
}

async fn identity(s: Arc<Shared>) {
    let c = s.caller().await;
    let plan = plan_json(&c, &["--identity", &s.good.identity_id], &[]).await;
    let a = account(&plan, &s.plain);
    assert!(
        a["targets"]["identity_id"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case(&s.good.identity_id),
        "{a:#}"
    );
    assert!(change(a, "identity").is_none(), "{a:#}");
    let run = c
        .expect(1, &["plan", "--identity", &s.good.vault_id], &[])
        .await;
    assert!(run.stderr.contains("--identity"), "{}", run.stderr);

    let (env, plain) = fresh().await;
    let (mine, _) = env.identity(SUB1, "rg-sec", "id-mine").await;
    env.clear_requests().await;
    apply_yes(&Caller::main(&env), &["--identity", &mine]).await;
    assert!(cmk_of(&env, &plain).await.2.eq_ignore_ascii_case(&mine));
    let created: Vec<_> = Caller::main(&env)
        .writes()
        .await
        .into_iter()
        .filter(|w| {
            w["method"] == "PUT"
                && w["path"]
                    .as_str()
                    .unwrap()
                    .contains("/userAssignedIdentities/")
        })
        .collect();
    assert!(created.is_empty(), "an identity was created: {created:#?}");
}

async fn key_vault(s: Arc<Shared>) {
    let c = s.caller().await;
    let plan = plan_json(&c, &["--key-vault", &s.good.vault_id], &[]).await;
    let a = account(&plan, &s.plain);
    assert!(
        a["targets"]["vault_id"]
            .as_str()
            .unwrap()
            .eq_ignore_ascii_case(&s.good.vault_id),
        "{a:#}"
    );
    assert!(change(a, "key_vault").is_none(), "{a:#}");

    let (env, plain) = fresh().await;
    let mine = env
        .vault(
            SUB1,
            "rg-sec",
            "kv-mine",
            json!({"enableRbacAuthorization": true}),
        )
        .await;
    env.clear_requests().await;
    apply_yes(&Caller::main(&env), &["--key-vault", &mine]).await;
    assert!(cmk_of(&env, &plain).await.0.eq_ignore_ascii_case(&mine));
    for w in Caller::main(&env).writes().await {
        let path = w["path"].as_str().unwrap();
        assert!(
            !path.contains("/vaults/") || path.contains("/vaults/kv-mine"),
            "another vault was written: {w}"
        );
    }
}

async fn identity_name(s: Arc<Shared>) {
    let c = s.caller().await;
    let plan = plan_json(&c, &["--identity-name", "uami-{account}"], &[]).await;
    assert!(account(&plan, &s.plain)["targets"]["identity_id"]
        .as_str()
        .unwrap()
        .ends_with("/uami-stplain"));
    let run = c
        .expect(1, &["plan", "--identity-name", "uami-{acount}"], &[])
        .await;
    assert!(run.stderr.contains("--identity-name"), "{}", run.stderr);

    let (env, plain) = fresh().await;
    apply_yes(&Caller::main(&env), &["--identity-name", "uami-{account}"]).await;
    assert!(cmk_of(&env, &plain).await.2.ends_with("/uami-stplain"));
}

async fn vault_name(s: Arc<Shared>) {
    let c = s.caller().await;
    let plan = plan_json(&c, &["--vault-name", "kvlogs-{hash}"], &[]).await;
    assert!(account(&plan, &s.plain)["targets"]["vault_id"]
        .as_str()
        .unwrap()
        .contains("/vaults/kvlogs-"));
    let run = c
        .expect(1, &["plan", "--vault-name", "kv-{account"], &[])
        .await;
    assert!(run.stderr.contains("--vault-name"), "{}", run.stderr);

    let (env, plain) = fresh().await;
    apply_yes(&Caller::main(&env), &["--vault-name", "kvlogs-{hash}"]).await;
    assert!(cmk_of(&env, &plain).await.0.contains("/vaults/kvlogs-"));
}

async fn tag(s: Arc<Shared>) {
    let c = s.caller().await;
    let plan = plan_json(
        &c,
        &["--tag", "owner=secops", "--tag", "cost-center=1234"],
        &[],
    )
    .await;
    assert_eq!(
        plan["settings"]["tags"],
        json!({"owner": "secops", "cost-center": "1234"})
    );
    let run = c.expect(1, &["plan", "--tag", "no-equals-sign"], &[]).await;
    assert!(run.stderr.contains("--tag"), "{}", run.stderr);

    let (env, plain) = fresh().await;
    apply_yes(&Caller::main(&env), &["--tag", "owner=secops"]).await;
    let (vault_id, key, identity_id) = cmk_of(&env, &plain).await;
    for (path, api) in [
        (identity_id, MSI_API),
        (vault_id.clone(), VAULT_API),
        (format!("{vault_id}/keys/{key}"), VAULT_API),
    ] {
        let tags = get(&env, &path, api).await["tags"].clone();
        assert_eq!(tags["owner"], "secops", "{path}: {tags}");
        assert_eq!(tags["managed-by"], "actlog-cmk", "{path}: {tags}");
    }
}

// ---------------------------------------------------------------------------
// apply
// ---------------------------------------------------------------------------

async fn plan_file(_: Arc<Shared>) {
    let (env, plain) = fresh().await;
    let c = Caller::main(&env);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.json").display().to_string();
    c.expect(0, &["plan", "--out", &file, "--key-name", "from-plan"], &[])
        .await;
    // Carried out exactly, without asking (standard input is not a terminal),
    // with the plan's settings, not the flags' or the environment's.
    c.expect(
        0,
        &["apply", &file],
        &[("ACTLOG_CMK_KEY_NAME", Some("from-env"))],
    )
    .await;
    assert_eq!(cmk_of(&env, &plain).await.1, "from-plan");
    let damaged = write_file(&dir, "damaged.json", "{\"schema_version\": 1");
    env.clear_requests().await;
    c.expect(1, &["apply", &damaged], &[]).await;
    assert!(c.writes().await.is_empty());
}

async fn yes(_: Arc<Shared>) {
    let (env, plain) = fresh().await;
    let c = Caller::main(&env);
    for command in ["apply", "rollback"] {
        env.clear_requests().await;
        let refused = c.expect(1, &[command], &[]).await;
        assert!(
            refused.stderr.contains("--yes"),
            "{command}: {}",
            refused.stderr
        );
        assert!(c.writes().await.is_empty(), "{command} without --yes wrote");
        c.expect(0, &[command, "--yes"], &[]).await;
        let expected = if command == "apply" {
            "Microsoft.Keyvault"
        } else {
            "Microsoft.Storage"
        };
        assert_eq!(key_source(&env, &plain).await, expected, "{command} --yes");
    }
}

async fn dry_run(s: Arc<Shared>) {
    let c = s.caller().await;
    let good = s.good.account_id.as_str();
    let apply = c.expect(0, &["apply", "--dry-run"], &[]).await;
    assert!(
        apply.stdout.contains("would make these calls") && apply.stdout.contains("PATCH"),
        "{}",
        apply.stdout
    );
    let rollback = c
        .expect(
            0,
            &[
                "rollback",
                "--dry-run",
                "--yes",
                "--force",
                "--account",
                good,
                "-o",
                "json",
            ],
            &[],
        )
        .await
        .json();
    assert_eq!(rollback["dry_run"], true);
    assert_eq!(
        account(&rollback["plan"], good)["changes"][0]["address"],
        "storage_account"
    );
    assert!(c.writes().await.is_empty(), "a dry run wrote");
    assert_eq!(key_source(&s.env, &s.plain).await, "Microsoft.Storage");
    assert_eq!(key_source(&s.env, good).await, "Microsoft.Keyvault");
}

async fn propagation_timeout(_: Arc<Shared>) {
    let (env, plain) = fresh().await;
    let c = Caller::main(&env);
    env.patch_settings(json!({"grantPropagationMs": 4000}))
        .await;
    let impatient = c
        .expect(
            3,
            &["apply", "--yes", "-o", "json", "--propagation-timeout", "1"],
            &[],
        )
        .await;
    assert_eq!(
        impatient.json()["summary"]["failed"],
        1,
        "{}",
        impatient.stdout
    );
    assert_eq!(key_source(&env, &plain).await, "Microsoft.Storage");
    // Long enough: the rerun waits the grant out.
    c.expect(0, &["apply", "--yes", "--propagation-timeout", "60"], &[])
        .await;
    assert_eq!(key_source(&env, &plain).await, "Microsoft.Keyvault");
}

// ---------------------------------------------------------------------------
// rollback
// ---------------------------------------------------------------------------

async fn rollback_account(_: Arc<Shared>) {
    let env = Env::start().await;
    let (plain, held, _) = env.plain_and_held_accounts().await;
    let c = Caller::main(&env);
    apply_yes(&c, &[]).await;
    let report = c
        .expect(
            0,
            &["rollback", "--yes", "-o", "json", "--account", &plain],
            &[],
        )
        .await
        .json();
    assert_eq!(
        report["plan"]["accounts"].as_array().unwrap().len(),
        1,
        "{report:#}"
    );
    assert_eq!(key_source(&env, &plain).await, "Microsoft.Storage");
    assert_eq!(key_source(&env, &held).await, "Microsoft.Keyvault");
}

async fn rollback_out(_: Arc<Shared>) {
    let (env, plain) = fresh().await;
    let c = Caller::main(&env);
    apply_yes(&c, &[]).await;
    env.clear_requests().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("undo.json");
    let run = c
        .expect(0, &["rollback", "--out", file.to_str().unwrap()], &[])
        .await;
    assert!(run.stderr.contains("Saved the plan to"), "{}", run.stderr);
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(saved["plan"]["mode"], "rollback", "{saved:#}");
    assert!(
        saved["plan"]["accounts"][0]["storage_account_id"]
            .as_str()
            .is_some_and(|id| id.eq_ignore_ascii_case(&plain)),
        "{saved:#}"
    );
    assert!(c.writes().await.is_empty());

    // Signed as plan --out signs: apply without the key refuses it, with it
    // carries it out.
    const KEY: &str = "pipeline-plan-key-0123456789abcdef0123456789";
    let signed = dir.path().join("signed.json").display().to_string();
    let with: Vars = &[("ACTLOG_CMK_PLAN_KEY", Some(KEY))];
    let without: Vars = &[("ACTLOG_CMK_PLAN_KEY", None)];
    c.expect(0, &["rollback", "--out", &signed], with).await;
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&signed).unwrap()).unwrap();
    assert!(file["signature"]
        .as_str()
        .is_some_and(|s| s.starts_with("hmac-sha256:")));
    let refused = c.expect(1, &["apply", &signed], without).await;
    assert!(
        refused
            .stderr
            .contains("is signed, but ACTLOG_CMK_PLAN_KEY is not set"),
        "{}",
        refused.stderr
    );
    assert!(c.writes().await.is_empty());
    c.expect(0, &["apply", &signed], with).await;
    assert!(!c.writes().await.is_empty());
}

async fn remove_grants(_: Arc<Shared>) {
    let (env, plain) = fresh().await;
    let c = Caller::main(&env);
    apply_yes(&c, &[]).await;
    let (vault_id, key, identity_id) = cmk_of(&env, &plain).await;
    let principal = get(&env, &identity_id, MSI_API).await["properties"]["principalId"]
        .as_str()
        .unwrap()
        .to_string();
    let grants = || async {
        let filter = serde_urlencoded::to_string([
            ("$filter", format!("principalId eq '{principal}'")),
            ("api-version", "2022-04-01".to_string()),
        ])
        .unwrap();
        get(
            &env,
            &format!("{vault_id}/keys/{key}/providers/Microsoft.Authorization/roleAssignments"),
            &filter,
        )
        .await["value"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(grants().await, 1);
    let report = c
        .expect(
            0,
            &["rollback", "--yes", "--remove-grants", "-o", "json"],
            &[],
        )
        .await
        .json();
    assert_eq!(report["plan"]["remove_grants"], true);
    assert_eq!(
        grants().await,
        0,
        "the tool's role assignment is still there"
    );
    assert_eq!(key_source(&env, &plain).await, "Microsoft.Storage");
}

async fn demo_keep_running(_: Arc<Shared>) {
    tokio::task::spawn_blocking(|| {
        let kept = crate::support::demo::KeptDemo::start(&[]);
        assert!(
            kept.out.contains("with the remediated estate"),
            "{}",
            kept.out
        );
        kept.interrupt();
    })
    .await
    .unwrap();
}

async fn demo_before_apply(s: Arc<Shared>) {
    // Only with --keep-running: alone it would stop a demo nobody can use.
    let c = s.caller().await;
    let refused = c.expect(1, &["demo", "--before-apply"], &[]).await;
    assert!(
        refused.stderr.contains("--keep-running"),
        "{}",
        refused.stderr
    );
    tokio::task::spawn_blocking(|| {
        let kept = crate::support::demo::KeptDemo::start(&["--before-apply"]);
        assert!(
            kept.out.contains("Demo stopped before apply"),
            "{}",
            kept.out
        );
        let plan = kept.tool(&["plan", "--detailed-exitcode"]);
        assert_eq!(
            plan.status.code(),
            Some(2),
            "{}",
            crate::support::demo::output_text(&plan)
        );
        kept.interrupt();
    })
    .await
    .unwrap();
}

async fn demo_cloud(_: Arc<Shared>) {
    // The sample estate in a US Government emulator: seeded, remediated and
    // audited there, every vault URI in that cloud's suffix.
    tokio::task::spawn_blocking(|| {
        use crate::support::demo::{demo_command, wait, Killed, Lines};
        let workdir = tempfile::tempdir().unwrap();
        let child = demo_command(&["demo", "--cloud", "usgovernment"], workdir.path())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut child = Killed(child);
        let child = &mut child.0;
        let mut stdout = Lines::of(child.stdout.take().unwrap());
        let mut stderr = Lines::of(child.stderr.take().unwrap());
        let status = wait(child, "actlog-cmk demo --cloud usgovernment");
        let (out, err) = (stdout.rest(), stderr.rest());
        assert_eq!(status.code(), Some(0), "stdout:\n{out}\nstderr:\n{err}");
        assert!(
            out.contains(".vault.usgovcloudapi.net") && !out.contains(".vault.azure.net"),
            "{out}"
        );
    })
    .await
    .unwrap();
}

async fn force(s: Arc<Shared>) {
    let c = s.caller().await;
    let good = s.good.account_id.as_str();
    let refused = c
        .run(&["rollback", "--dry-run", "--account", good, "-o", "json"])
        .await;
    assert_ne!(refused.code, 0, "{}", refused.stdout);
    assert!(
        refused.stderr.contains("--force") || refused.stdout.contains("--force"),
        "{}\n{}",
        refused.stdout,
        refused.stderr
    );
    let forced = c
        .expect(
            0,
            &[
                "rollback",
                "--dry-run",
                "--force",
                "--account",
                good,
                "-o",
                "json",
            ],
            &[],
        )
        .await
        .json();
    let planned = account(&forced["plan"], good);
    assert_eq!(planned["remediated_by_tool"], false, "{planned:#}");
    assert!(
        !planned["changes"].as_array().unwrap().is_empty(),
        "{planned:#}"
    );
    assert!(c.writes().await.is_empty());
}

// ---------------------------------------------------------------------------
// Environment variables
// ---------------------------------------------------------------------------

async fn env_arm_endpoint(s: Arc<Shared>) {
    let c = s.caller().await;
    // The harness points the tool at the emulator through this variable alone.
    let plan = plan_json(&c, &[], &[]).await;
    assert_eq!(
        plan["arm_endpoint"].as_str().unwrap().trim_end_matches('/'),
        s.env.endpoint()
    );
    let dead = dead_endpoint();
    let run = c
        .expect(
            1,
            &["audit", "--max-retries", "0"],
            &[("ACTLOG_CMK_ARM_ENDPOINT", Some(&dead))],
        )
        .await;
    assert!(
        run.stderr.contains(dead.trim_start_matches("https://")),
        "{}",
        run.stderr
    );
}

async fn env_ca_file(s: Arc<Shared>) {
    let c = s.caller().await;
    c.expect(2, &["audit"], &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("gone.pem").display().to_string();
    let run = c
        .expect(1, &["audit"], &[("ACTLOG_CMK_CA_FILE", Some(&missing))])
        .await;
    assert!(
        run.stderr.contains("cannot read the CA file") && run.stderr.contains("gone.pem"),
        "{}",
        run.stderr
    );
    let not_pem = write_file(&dir, "not.pem", "this is not a certificate");
    let run = c
        .expect(
            1,
            &["audit", "--max-retries", "0"],
            &[("ACTLOG_CMK_CA_FILE", Some(&not_pem))],
        )
        .await;
    assert!(
        run.stderr.contains("not.pem") || run.stderr.to_lowercase().contains("certificate"),
        "{}",
        run.stderr
    );
}

async fn env_auth(s: Arc<Shared>) {
    let c = s.caller().await;
    c.expect(2, &["audit"], &[("ACTLOG_CMK_AUTH", Some("environment"))])
        .await;
    let run = c
        .expect(
            1,
            &["audit"],
            &[
                ("ACTLOG_CMK_AUTH", Some("workload-identity")),
                ("AZURE_FEDERATED_TOKEN_FILE", None),
            ],
        )
        .await;
    assert!(
        run.stderr.contains("AZURE_FEDERATED_TOKEN_FILE"),
        "{}",
        run.stderr
    );
    let run = c
        .expect(1, &["audit"], &[("ACTLOG_CMK_AUTH", Some("kerberos"))])
        .await;
    assert!(run.stderr.contains("kerberos"), "{}", run.stderr);
}

async fn env_config(s: Arc<Shared>) {
    let c = s.caller().await;
    let dir = tempfile::tempdir().unwrap();
    let from_env = write_file(&dir, "env.toml", "key_name = \"from-env-file\"\n");
    let from_flag = write_file(&dir, "flag.toml", "key_name = \"from-flag-file\"\n");
    let vars: Vars = &[("ACTLOG_CMK_CONFIG", Some(&from_env))];
    assert_eq!(
        plan_json(&c, &[], vars).await["settings"]["key_name"],
        "from-env-file"
    );
    assert_eq!(
        plan_json(&c, &["--config", &from_flag], vars).await["settings"]["key_name"],
        "from-flag-file"
    );
    let missing = dir.path().join("absent.toml").display().to_string();
    let run = c
        .expect(1, &["plan"], &[("ACTLOG_CMK_CONFIG", Some(&missing))])
        .await;
    assert!(run.stderr.contains("absent.toml"), "{}", run.stderr);
}

async fn env_key_name(s: Arc<Shared>) {
    let c = s.caller().await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(&dir, "c.toml", "key_name = \"from-file\"\n");
    let plan = plan_json(
        &c,
        &["--config", &file],
        &[("ACTLOG_CMK_KEY_NAME", Some("from-env"))],
    )
    .await;
    assert_eq!(plan["settings"]["key_name"], "from-env");
    assert_eq!(
        change(account(&plan, &s.plain), "key").unwrap()["desired"]["name"],
        "from-env"
    );
}

async fn env_key_size(s: Arc<Shared>) {
    let c = s.caller().await;
    let plan = plan_json(&c, &[], &[("ACTLOG_CMK_KEY_SIZE", Some("4096"))]).await;
    assert_eq!(plan["settings"]["key_size"], 4096);
    assert_eq!(
        change(account(&plan, &s.plain), "key").unwrap()["desired"]["key_size"],
        4096
    );
    let run = c
        .expect(1, &["plan"], &[("ACTLOG_CMK_KEY_SIZE", Some("1024"))])
        .await;
    assert!(run.stderr.contains("1024"), "{}", run.stderr);
}

async fn env_permission_model(s: Arc<Shared>) {
    let c = s.caller().await;
    let plan = plan_json(
        &c,
        &[],
        &[("ACTLOG_CMK_PERMISSION_MODEL", Some("access-policy"))],
    )
    .await;
    assert_eq!(plan["settings"]["permission_model"], "access_policy");
    assert!(change(account(&plan, &s.plain), "access_policy").is_some());
}

async fn env_log(s: Arc<Shared>) {
    let c = s.caller().await;
    let debug = c
        .expect(
            2,
            &["audit"],
            &[("ACTLOG_CMK_LOG", Some("actlog_cmk=debug"))],
        )
        .await;
    assert!(
        debug
            .stderr
            .contains("DEBUG actlog_cmk::azure::connection: ARM request"),
        "{}",
        debug.stderr
    );
    // Any filter, but the HTTP and SDK crates stay at info: their debug output carries headers.
    let trace = c
        .expect(2, &["audit"], &[("ACTLOG_CMK_LOG", Some("trace"))])
        .await;
    assert!(
        trace.stderr.contains("TRACE") || trace.stderr.contains("DEBUG"),
        "{}",
        trace.stderr
    );
    for line in trace.stderr.lines() {
        let capped = [
            "azure_core",
            "azure_identity",
            "reqwest",
            "hyper",
            "h2",
            "rustls",
        ]
        .iter()
        .any(|krate| line.contains(&format!(" {krate}")));
        assert!(
            !(capped && (line.contains("DEBUG") || line.contains("TRACE"))),
            "a capped crate logged below info: {line}"
        );
        assert!(
            !line.to_lowercase().contains("authorization: bearer"),
            "{line}"
        );
    }
}

/// Plans signed at `plan --out` and checked at `apply`; the key never shows.
async fn env_plan_key(_: Arc<Shared>) {
    const KEY: &str = "pipeline-plan-key-0123456789abcdef0123456789";
    const OTHER: &str = "someone-elses-key-0123456789abcdef0123456789";
    let (env, plain) = fresh().await;
    let c = Caller::main(&env);
    let dir = tempfile::tempdir().unwrap();
    let signed = dir.path().join("signed.json").display().to_string();
    let unsigned = dir.path().join("unsigned.json").display().to_string();
    let with = |key: &'static str| -> Vec<(&'static str, Option<&'static str>)> {
        vec![("ACTLOG_CMK_PLAN_KEY", Some(key))]
    };
    let without: Vars = &[("ACTLOG_CMK_PLAN_KEY", None)];
    let saved = c.expect(0, &["plan", "--out", &signed], &with(KEY)).await;
    assert!(
        saved
            .stderr
            .contains("signed with the key in ACTLOG_CMK_PLAN_KEY"),
        "{}",
        saved.stderr
    );
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&signed).unwrap()).unwrap();
    assert!(file["signature"]
        .as_str()
        .unwrap()
        .starts_with("hmac-sha256:"));
    c.expect(0, &["plan", "--out", &unsigned], without).await;
    env.clear_requests().await;
    type Refusal<'a> = (&'a str, Vec<(&'a str, Option<&'a str>)>, &'a str);
    let refusals: [Refusal; 4] = [
        (
            &signed,
            vec![("ACTLOG_CMK_PLAN_KEY", None)],
            "is signed, but ACTLOG_CMK_PLAN_KEY is not set",
        ),
        (
            &signed,
            with(OTHER),
            "is not signed with the key in ACTLOG_CMK_PLAN_KEY",
        ),
        (
            &unsigned,
            with(KEY),
            "ACTLOG_CMK_PLAN_KEY is set, but the plan file",
        ),
        (&signed, with("short"), "fewer than the 32"),
    ];
    for (file, vars, wanted) in &refusals {
        let run = c.expect(1, &["apply", file], vars).await;
        assert!(run.stderr.contains(wanted), "{wanted}: {}", run.stderr);
        for key in [KEY, OTHER] {
            assert!(
                !run.stderr.contains(key) && !run.stdout.contains(key),
                "the key was printed"
            );
        }
    }
    assert!(c.writes().await.is_empty(), "a refused plan wrote");
    assert_eq!(key_source(&env, &plain).await, "Microsoft.Storage");
    // The right key: applied as saved.
    let run = c.expect(0, &["apply", &signed], &with(KEY)).await;
    assert!(!run.stderr.contains(KEY) && !run.stdout.contains(KEY));
    assert_eq!(key_source(&env, &plain).await, "Microsoft.Keyvault");
}

async fn env_emulator_secret(_: Arc<Shared>) {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    let secret = format!("flags-{}", uuid::Uuid::new_v4().simple());
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("actlog-cmk"))
        .args(["emulator", "--ca-out", ca.to_str().unwrap()])
        .env("ACTLOG_CMK_EMULATOR_CLIENT_SECRET", &secret)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap();
        line
    })
    .await
    .unwrap();
    let start: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    let matches = start["client_secret"] == secret.as_str();
    // The emulator's principal signs in with the secret from the variable.
    let client = https_client(&std::fs::read_to_string(&ca).unwrap());
    let answer = client
        .post(format!(
            "{}/{}/oauth2/v2.0/token",
            start["endpoint"].as_str().unwrap(),
            start["tenant_id"].as_str().unwrap()
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", start["client_id"].as_str().unwrap()),
            ("client_secret", secret.as_str()),
            ("scope", "https://management.azure.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .status();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        matches,
        "the emulator did not take its secret from the variable"
    );
    assert!(
        answer.is_success(),
        "token with the variable's secret: {answer}"
    );
}

/// `emulator --print-env` exports the admin key under this name; the admin
/// API accepts it (and refuses a wrong key).
async fn env_emulator_admin_key(_: Arc<Shared>) {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("actlog-cmk"))
        .args(["emulator", "--print-env", "--ca-out", ca.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let lines = tokio::task::spawn_blocking(move || {
        let mut reader = std::io::BufReader::new(stdout);
        let mut lines = Vec::new();
        while !lines
            .iter()
            .any(|l: &String| l.contains("ACTLOG_CMK_EMULATOR_ADMIN_KEY="))
        {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap() == 0 {
                break;
            }
            lines.push(line);
        }
        lines
    })
    .await
    .unwrap();
    let value = |name: &str| {
        lines
            .iter()
            .find_map(|l| l.trim().strip_prefix(&format!("export {name}='")))
            .and_then(|v| v.strip_suffix('\''))
            .unwrap_or_else(|| panic!("{name} missing from {lines:?}"))
            .to_string()
    };
    let endpoint = value("ACTLOG_CMK_ARM_ENDPOINT");
    let client = https_client(&std::fs::read_to_string(&ca).unwrap());
    let status = |key: String| {
        let request = client
            .get(format!("{endpoint}/_emulator/settings"))
            .header("x-emulator-key", key)
            .send();
        async move { request.await.unwrap().status() }
    };
    let with_key = status(value("ACTLOG_CMK_EMULATOR_ADMIN_KEY")).await;
    let with_other = status("not-the-key".to_string()).await;
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        with_key.is_success(),
        "admin API with the exported key: {with_key}"
    );
    assert_eq!(with_other.as_u16(), 401, "admin API with another key");
}

async fn env_tenant_id(s: Arc<Shared>) {
    let c = s.caller().await;
    let other = uuid::Uuid::new_v4().to_string();
    let run = c
        .expect(1, &["audit"], &[("AZURE_TENANT_ID", Some(&other))])
        .await;
    assert!(
        run.stderr.contains("cannot sign in to Azure"),
        "{}",
        run.stderr
    );
    let run = c.expect(1, &["audit"], &[("AZURE_TENANT_ID", None)]).await;
    assert!(
        run.stderr
            .contains("set the variables the --auth kind needs"),
        "{}",
        run.stderr
    );
    assert!(
        c.requests().await.is_empty(),
        "ARM was called without a token"
    );
}

async fn env_client_id(s: Arc<Shared>) {
    let c = s.caller().await;
    c.expect(2, &["audit"], &[]).await;
    // Every request carried a token for the principal the variable named.
    assert!(!c.requests().await.is_empty());
    let unknown = uuid::Uuid::new_v4().to_string();
    let run = c
        .expect(1, &["audit"], &[("AZURE_CLIENT_ID", Some(&unknown))])
        .await;
    assert!(
        run.stderr.contains("cannot sign in to Azure"),
        "{}",
        run.stderr
    );
}

async fn env_client_secret(s: Arc<Shared>) {
    let c = s.caller().await;
    let wrong = format!("wrong-{}", uuid::Uuid::new_v4().simple());
    let run = c
        .expect(1, &["audit"], &[("AZURE_CLIENT_SECRET", Some(&wrong))])
        .await;
    assert!(
        run.stderr.contains("cannot sign in to Azure"),
        "{}",
        run.stderr
    );
    run.assert_no_secrets(&wrong, &["audit"]);
    let run = c
        .expect(1, &["audit"], &[("AZURE_CLIENT_SECRET", None)])
        .await;
    assert!(
        run.stderr
            .contains("set the variables the --auth kind needs"),
        "{}",
        run.stderr
    );
    assert!(
        c.requests().await.is_empty(),
        "ARM was called without a token"
    );
    c.expect(2, &["audit"], &[]).await;
}

async fn env_authority_host(s: Arc<Shared>) {
    let c = s.caller().await;
    let run = c
        .expect(
            1,
            &["audit"],
            &[("AZURE_AUTHORITY_HOST", Some("http://login.example.com"))],
        )
        .await;
    assert!(
        run.stderr
            .contains("refusing to send credentials over plain http to the authority host"),
        "{}",
        run.stderr
    );
    let dead = dead_endpoint();
    c.expect(
        1,
        &["audit", "--max-retries", "0"],
        &[("AZURE_AUTHORITY_HOST", Some(&dead))],
    )
    .await;
    assert!(
        c.requests().await.is_empty(),
        "ARM was called without a token"
    );
    // The emulator as authority: signed in.
    c.expect(2, &["audit"], &[]).await;
    // Unset: the sign-in host comes from the endpoint's /metadata/endpoints
    // (the emulator's own), and the tool still signs in.
    c.expect(2, &["audit"], &[("AZURE_AUTHORITY_HOST", None)])
        .await;
}

/// Workload identity sends the federated token to the authority (the
/// emulator), which only does client secrets and refuses it: a token request
/// was made (not the missing-variable error), and ARM never saw a call.
async fn workload_identity_reaches_the_authority(c: &Caller<'_>, vars: Vars<'_>) {
    let mut all: Vec<(&str, Option<&str>)> = vec![
        ("AZURE_CLIENT_SECRET", None),
        ("AZURE_FEDERATED_TOKEN", None),
        ("AZURE_FEDERATED_TOKEN_FILE", None),
    ];
    all.extend_from_slice(vars);
    for kind in ["workload-identity", "environment"] {
        let run = c.expect(1, &["audit", "--auth", kind], &all).await;
        assert!(
            run.stderr
                .contains("cannot sign in to Azure: request token error"),
            "--auth {kind}: {}",
            run.stderr
        );
        assert!(
            !run.stderr.contains("AZURE_FEDERATED_TOKEN"),
            "--auth {kind}: {}",
            run.stderr
        );
    }
    assert!(
        c.requests().await.is_empty(),
        "ARM was called without a token"
    );
}

async fn env_federated_token_file(s: Arc<Shared>) {
    let c = s.caller().await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(&dir, "federated-token", "federated-assertion-for-tests");
    workload_identity_reaches_the_authority(&c, &[("AZURE_FEDERATED_TOKEN_FILE", Some(&file))])
        .await;
    let missing = dir.path().join("no-token").display().to_string();
    let run = c
        .expect(
            1,
            &["audit", "--auth", "workload-identity"],
            &[("AZURE_FEDERATED_TOKEN_FILE", Some(&missing))],
        )
        .await;
    assert!(run.stderr.contains("no-token"), "{}", run.stderr);
}

async fn env_federated_token(s: Arc<Shared>) {
    let c = s.caller().await;
    workload_identity_reaches_the_authority(
        &c,
        &[(
            "AZURE_FEDERATED_TOKEN",
            Some("federated-assertion-for-tests"),
        )],
    )
    .await;
}

/// `--auth managed-identity` on an App Service-like host the emulator plays,
/// whose system-assigned identity is the caller's principal; plain-HTTP
/// requests (IMDS's) go to a closed loopback port, so nothing leaves.
async fn on_host(c: &Caller<'_>, code: i32, vars: Vars<'_>) -> Run {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let mut all: Vec<(&str, Option<&str>)> = vec![
        ("AZURE_CLIENT_ID", None),
        ("AZURE_CLIENT_SECRET", None),
        ("HTTP_PROXY", Some(&closed)),
        ("http_proxy", Some(&closed)),
        ("ALL_PROXY", None),
        ("all_proxy", None),
    ];
    all.extend_from_slice(vars);
    c.expect(code, &["audit", "--auth", "managed-identity"], &all)
        .await
}

async fn env_identity_endpoint(s: Arc<Shared>) {
    let c = s.caller().await;
    let host = actlog_cmk::emulator::managed_identity::host(s.env.emu.emulator(), &c.client_id);
    let both: Vars = &[
        ("IDENTITY_ENDPOINT", Some(&host.endpoint)),
        ("IDENTITY_HEADER", Some(&host.header)),
    ];
    on_host(&c, 2, both).await;
    // The host's identity made the ARM calls.
    assert!(!c.requests().await.is_empty());
    // Without the endpoint the instance metadata service is asked instead.
    let run = on_host(&c, 1, &[("IDENTITY_HEADER", Some(&host.header))]).await;
    assert!(
        run.stderr.contains("the instance metadata service"),
        "{}",
        run.stderr
    );
}

async fn env_identity_header(s: Arc<Shared>) {
    let c = s.caller().await;
    let host = actlog_cmk::emulator::managed_identity::host(s.env.emu.emulator(), &c.client_id);
    let run = on_host(
        &c,
        1,
        &[
            ("IDENTITY_ENDPOINT", Some(&host.endpoint)),
            ("IDENTITY_HEADER", Some("not-the-hosts-secret")),
        ],
    )
    .await;
    assert!(
        run.stderr.contains("IDENTITY_ENDPOINT") && run.stderr.contains("HTTP 401"),
        "{}",
        run.stderr
    );
    assert!(c.requests().await.is_empty());
}

/// Whether `text` holds a colour or style escape (SGR, `ESC [ ... m`);
/// a progress bar's cursor and line-clearing escapes are not colour.
fn has_colour(text: &str) -> bool {
    text.match_indices("\u{1b}[").any(|(at, esc)| {
        text[at + esc.len()..]
            .chars()
            .find(|c| !(c.is_ascii_digit() || *c == ';'))
            == Some('m')
    })
}

async fn env_no_color(s: Arc<Shared>) {
    let c = s.caller().await;
    for base in [vec!["audit"], vec!["plan"], vec!["apply", "--dry-run"]] {
        let on = support::pty::run_on_a_terminal(c.command(&base, &[("NO_COLOR", None)])).await;
        assert!(
            has_colour(&on.output),
            "{base:?} on a terminal without NO_COLOR: {}",
            on.output
        );
        // An empty NO_COLOR does not count (https://no-color.org).
        let empty =
            support::pty::run_on_a_terminal(c.command(&base, &[("NO_COLOR", Some(""))])).await;
        assert!(
            has_colour(&empty.output),
            "{base:?} with NO_COLOR='': {}",
            empty.output
        );
        let off =
            support::pty::run_on_a_terminal(c.command(&base, &[("NO_COLOR", Some("1"))])).await;
        assert!(
            !has_colour(&off.output),
            "{base:?} with NO_COLOR=1: {}",
            off.output
        );
        assert_eq!(on.code, off.code);
    }
}
