//! `signpost`: keys, signing and verification, and (from their own modules) the node,
//! aggregator, issuer, demo and benchmark commands.

mod sign;

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Keys(cmd) => sign::keys(cmd),
        Command::Sign(args) => sign::sign(args),
        Command::Verify(args) => sign::verify(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("signpost: {err:#}");
            ExitCode::from(2)
        }
    }
}
