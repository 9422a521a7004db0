//! `actlog-cmk emulator`: start the local ARM, print how to reach it, serve until stopped.

use crate::cli::{EmulatorArgs, EmulatorProfile};
use crate::emulator::{self, connection, settings::Settings, state::State, Options};
use anyhow::Context;

pub async fn run(args: EmulatorArgs) -> anyhow::Result<()> {
    let profile = match args.profile {
        EmulatorProfile::Default => Settings::default(),
        EmulatorProfile::Field => Settings::field(),
    };
    let settings = match &args.settings {
        Some(path) => {
            let patch: serde_json::Value = read_json(path, "settings")?;
            profile.merged(&patch).with_context(|| {
                format!(
                    "the settings file {} is not valid: fix it or leave the flag out",
                    path.display()
                )
            })?
        }
        None => profile,
    };
    let initial_state: Option<State> = match &args.state {
        Some(path) => Some(read_json(path, "state")?),
        None => None,
    };
    let ca_out = args.ca_out.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("actlog-cmk-emulator-{}-ca.pem", std::process::id()))
    });
    if !args.bind.is_loopback() {
        tracing::warn!(
            "the emulator listens on {}, which is not a loopback address",
            args.bind
        );
    }
    let running = emulator::start(Options {
        bind: args.bind,
        port: args.port,
        insecure_http: args.insecure_http,
        ca_out: (!args.insecure_http).then_some(ca_out),
        settings,
        initial_state,
        tenant_id: args.tenant_id,
        client_id: args.client_id,
        client_secret: args.client_secret,
        traffic_dir: args.traffic_dir,
        hostname: args.hostname,
        cloud: args.cloud,
    })
    .await?;
    // What a script reads to find the emulator: one JSON line, or the shell
    // lines for a client. Both carry the emulator's own throw-away
    // credentials and admin key, which are meant to be used.
    if args.print_env {
        for line in connection::export_lines(&running.connection) {
            println!("{line}");
        }
    } else {
        println!("{}", serde_json::to_string(&running.connection)?);
    }
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate() => {}
    }
    running.stop().await;
    Ok(())
}

#[cfg(unix)]
async fn terminate() {
    if let Ok(mut signal) =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    {
        signal.recv().await;
    }
}

#[cfg(not(unix))]
async fn terminate() {
    std::future::pending::<()>().await
}

fn read_json<T: serde::de::DeserializeOwned>(
    path: &std::path::Path,
    what: &str,
) -> anyhow::Result<T> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the {what} file {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "the {what} file {} is not valid: fix it or leave the flag out",
            path.display()
        )
    })
}
