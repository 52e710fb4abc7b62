//! `signpost`: keys, signing and verification, and (from their own modules) the node,
//! aggregator, issuer, demo and benchmark commands.

mod aggregator;
mod bench;
mod demo;
#[cfg(test)]
mod deploy_check;
mod issuer;
mod node;
mod saved;
mod sign;
mod verify_group;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "signpost",
    version,
    about = "Signed, verifiable listings of community groups for social prescribing"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Manage Ed25519 key files.
    #[command(subcommand)]
    Keys(sign::KeysCommand),
    /// Sign a file's exact bytes; print the DSSE envelope (JSON) on stdout.
    Sign(sign::SignArgs),
    /// Verify a DSSE envelope against a did:key; print the payload when it verifies.
    Verify(sign::VerifyArgs),
    /// An organisation's node: set up, serve, sign-in links, backups, attestations and keys.
    #[command(subcommand)]
    Node(node::NodeCommand),
    /// The aggregator: crawl, verify, index and serve the directory.
    #[command(subcommand)]
    Aggregator(aggregator::AggregatorCommand),
    /// A training provider's or regulator's issuer: attest, revoke, serve.
    #[command(subcommand)]
    Issuer(issuer::IssuerCommand),
    /// Check one directory result end to end (a /v1/groups/{node}/{id} URL or a saved copy):
    /// the node's own key chain, the snapshot, the listing and its attestations.
    VerifyGroup(verify_group::VerifyGroupArgs),
    /// Check one attestation offline against a trust policy.
    VerifyAttestation(issuer::VerifyAttestationArgs),
    /// Run a local demo federation: several nodes, an issuer and an aggregator.
    Demo(demo::DemoArgs),
    /// Benchmark crawl, query and memory figures in one run.
    Bench(bench::BenchArgs),
    /// Print a realistic, fictional example group (JSON) to start a listing from.
    ExampleGroup {
        /// Which example (any number gives a different group).
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// The benchmark's node farm (started by `signpost bench`).
    #[command(hide = true)]
    BenchFarm(bench::FarmArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = |default: &str| {
        tracing_subscriber::EnvFilter::try_from_env("SIGNPOST_LOG")
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default))
    };
    match &cli.command {
        // The demo's first screen is its banner: warnings and above go to a file in its data
        // folder (its path printed), unless SIGNPOST_LOG asks for more on stderr.
        Command::Demo(args) if std::env::var_os("SIGNPOST_LOG").is_none() => {
            match demo::log_file(args) {
                Ok(file) => tracing_subscriber::fmt()
                    .with_env_filter(filter("warn"))
                    .with_ansi(false)
                    .with_writer(std::sync::Mutex::new(file))
                    .init(),
                Err(_) => tracing_subscriber::fmt()
                    .with_env_filter(filter("warn"))
                    .with_writer(std::io::stderr)
                    .init(),
            }
        }
        // The benchmark's servers log as its child processes do (warnings only): an access
        // log line on stderr for every query would be measured as the engine's.
        command => tracing_subscriber::fmt()
            .with_env_filter(filter(if matches!(command, Command::Bench(_)) {
                "warn"
            } else {
                "info"
            }))
            .with_writer(std::io::stderr)
            .init(),
    }
    let result = match cli.command {
        Command::Keys(cmd) => sign::keys(cmd),
        Command::Sign(args) => sign::sign(args),
        Command::Verify(args) => sign::verify(args),
        Command::Node(cmd) => runtime().and_then(|rt| rt.block_on(node::run(cmd))),
        Command::Aggregator(cmd) => runtime().and_then(|rt| rt.block_on(aggregator::run(cmd))),
        Command::Issuer(cmd) => runtime().and_then(|rt| rt.block_on(issuer::run(cmd))),
        Command::VerifyAttestation(args) => issuer::verify_attestation(args),
        Command::VerifyGroup(args) => runtime().and_then(|rt| rt.block_on(verify_group::run(args))),
        Command::Demo(args) => runtime().and_then(|rt| rt.block_on(demo::run(args))),
        Command::Bench(args) => runtime().and_then(|rt| rt.block_on(bench::run(args))),
        Command::BenchFarm(args) => runtime().and_then(|rt| rt.block_on(bench::farm(args))),
        Command::ExampleGroup { seed } => {
            let group = signpost_protocol::sample::group(seed, seed as usize, chrono::Utc::now());
            serde_json::to_string_pretty(&group)
                .map(|json| {
                    println!("{json}");
                    ExitCode::SUCCESS
                })
                .map_err(anyhow::Error::from)
        }
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("signpost: {}", said_once(&err));
            ExitCode::from(2)
        }
    }
}

/// An error and its causes, each said once: an error whose words already hold its
/// cause's (thiserror's `"{path}: {source}"`) is not followed by that cause again.
fn said_once(err: &anyhow::Error) -> String {
    let mut said = err.to_string();
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        if !said.contains(&text) {
            said.push_str(": ");
            said.push_str(&text);
        }
    }
    said
}

/// The port a serving command listens on by default (checked against deploy/).
#[cfg(test)]
fn default_listen_port(cli: &Cli) -> Option<u16> {
    let listen = match &cli.command {
        Command::Aggregator(aggregator::AggregatorCommand::Serve { listen, .. }) => listen.clone(),
        Command::Node(node::NodeCommand::Serve(args)) => args.listen.clone(),
        Command::Issuer(issuer::IssuerCommand::Serve { listen, .. }) => listen.clone(),
        _ => return None,
    };
    listen.rsplit(':').next()?.parse().ok()
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("key.pem: {0}")]
    struct Outer(#[source] std::io::Error);

    /// A cause already in its error's words is not said again; one that is not, is.
    #[test]
    fn each_cause_is_said_once() {
        let io = || std::io::Error::other("disk full");
        assert_eq!(
            said_once(&anyhow::Error::new(Outer(io()))),
            "key.pem: disk full"
        );
        let err = anyhow::Error::new(io()).context("writing the backup");
        assert_eq!(said_once(&err), "writing the backup: disk full");
    }
}
