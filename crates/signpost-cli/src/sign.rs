//! `signpost keys`, `signpost sign` and `signpost verify`.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use signpost_protocol::{keys, DidKey, Envelope};
use signpost_store::keyfile;

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Write a new Ed25519 key (PKCS#8 PEM, mode 0600) and print its did:key.
    Generate {
        /// Where to write the key; an existing file is never overwritten.
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the did:key of an existing key file.
    Show {
        /// The key file (PKCS#8 PEM).
        #[arg(long)]
        key: PathBuf,
    },
}

#[derive(Args)]
pub struct SignArgs {
    /// The signing key (PKCS#8 PEM).
    #[arg(long)]
    key: PathBuf,
    /// The DSSE payloadType, e.g. application/vnd.signpost.listing.v1+json.
    #[arg(long = "type")]
    payload_type: String,
    /// The file whose exact bytes become the payload.
    file: PathBuf,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// The key expected to have signed, as a did:key.
    #[arg(long)]
    key: String,
    /// The payloadType the envelope must carry.
    #[arg(long = "type")]
    payload_type: String,
    /// The envelope file (JSON).
    envelope: PathBuf,
}

pub fn keys(cmd: KeysCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        KeysCommand::Generate { out } => {
            let key = keys::generate();
            keyfile::write_key(&out, &key)?;
            println!("{}", DidKey::new(key.verifying_key()));
        }
        KeysCommand::Show { key } => {
            let key = keyfile::read_key(&key)?;
            println!("{}", DidKey::new(key.verifying_key()));
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn sign(args: SignArgs) -> anyhow::Result<ExitCode> {
    let key = keyfile::read_key(&args.key)?;
    let payload = std::fs::read(&args.file).with_context(|| format!("{}", args.file.display()))?;
    let envelope = Envelope::sign(&args.payload_type, &payload, &key);
    println!("{}", serde_json::to_string_pretty(&envelope)?);
    Ok(ExitCode::SUCCESS)
}

pub fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let refuse = |why: String| {
        eprintln!("refused: {why}");
        Ok(ExitCode::from(1))
    };
    let did: DidKey = match args.key.parse() {
        Ok(did) => did,
        Err(e) => return refuse(format!("--key: {e}")),
    };
    let bytes =
        std::fs::read(&args.envelope).with_context(|| format!("{}", args.envelope.display()))?;
    let envelope: Envelope = match serde_json::from_slice(&bytes) {
        Ok(env) => env,
        Err(e) => {
            return refuse(format!(
                "{} is not a DSSE envelope: {}",
                args.envelope.display(),
                crate::saved::json_problem(&e)
            ))
        }
    };
    match envelope.verify(&args.payload_type, &[*did.key()]) {
        Ok((payload, _)) => {
            std::io::stdout().write_all(&payload)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => refuse(e.to_string()),
    }
}
