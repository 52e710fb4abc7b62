//! `signpost issuer ...` and `signpost verify-attestation`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Subcommand};
use signpost_issuer::Issuer;
use signpost_protocol::policy::{
    check_attestation, AttestationStatus, RevocationView, TrustedIssuer,
};
use signpost_protocol::{Attestation, DidKey, Envelope, RevocationList, Verified};

#[derive(Subcommand)]
pub enum IssuerCommand {
    /// Create an issuer: its key, public document and an empty signed revocation list.
    Init {
        /// Where the issuer's key and files are kept (created; an existing issuer is never
        /// overwritten).
        #[arg(long)]
        dir: PathBuf,
        /// The training provider's or regulator's name, as regulators will see it.
        #[arg(long)]
        name: String,
    },
    /// Sign an attestation about an organisation; print the envelope (JSON).
    Attest {
        /// The issuer's folder (made by `issuer init`).
        #[arg(long)]
        dir: PathBuf,
        /// The organisation's node id (did:key).
        #[arg(long)]
        subject: String,
        /// Achievement id, e.g. trauma-informed-practice (an unknown one is answered with
        /// the ids there are).
        #[arg(long)]
        achievement: String,
        /// The level or course completed, as the certificate words it (e.g. "level 2").
        #[arg(long)]
        level: Option<String>,
        /// Valid from (YYYY-MM-DD or RFC 3339; default now).
        #[arg(long)]
        valid_from: Option<String>,
        /// Valid until (YYYY-MM-DD or RFC 3339).
        #[arg(long)]
        valid_until: String,
    },
    /// Revoke an attestation by serial: publishes a new revocation list version.
    Revoke {
        /// The issuer's folder (made by `issuer init`).
        #[arg(long)]
        dir: PathBuf,
        /// The attestation's serial, as `attest` printed it.
        serial: String,
    },
    /// Tell a directory of each new revocation list at once (its base URL); `revoke` and
    /// `publish` push to every subscriber.
    Subscribe {
        /// The issuer's folder (made by `issuer init`).
        #[arg(long)]
        dir: PathBuf,
        /// The directory's base URL, e.g. https://directory.example.org.
        url: String,
    },
    /// Re-sign the revocation list (renews its expiry; for static hosting, run daily).
    Publish {
        /// The issuer's folder (made by `issuer init`).
        #[arg(long)]
        dir: PathBuf,
    },
    /// Serve the issuer's public document and revocation list.
    Serve {
        /// The issuer's folder (made by `issuer init`).
        #[arg(long)]
        dir: PathBuf,
        /// The address and port to listen on.
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: String,
    },
}

fn parse_time(s: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        anyhow::anyhow!(
            "{s:?} is not a date: give one like 2027-03-31 (YYYY-MM-DD), or a time in RFC 3339 \
             like 2027-03-31T17:00:00Z"
        )
    })?;
    Ok(d.and_hms_opt(0, 0, 0).context("invalid date")?.and_utc())
}

pub async fn run(cmd: IssuerCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        IssuerCommand::Init { dir, name } => {
            let issuer = Issuer::init(&dir, &name)?;
            println!("issuer created in {}", dir.display());
            println!("id:          {}", issuer.id());
            println!(
                "revocations: {}",
                dir.join(signpost_issuer::REVOCATIONS_FILE).display()
            );
        }
        IssuerCommand::Attest {
            dir,
            subject,
            achievement,
            level,
            valid_from,
            valid_until,
        } => {
            let mut issuer = Issuer::open(&dir)?;
            let subject: DidKey = subject.parse().context("--subject")?;
            let from = valid_from
                .as_deref()
                .map(parse_time)
                .transpose()?
                .unwrap_or_else(Utc::now);
            let until = parse_time(&valid_until)?;
            let att = issuer.attest(subject, &achievement, level, from, until)?;
            eprintln!("serial {}", att.serial);
            println!("{}", serde_json::to_string_pretty(&att.envelope())?);
        }
        IssuerCommand::Revoke { dir, serial } => {
            let mut issuer = Issuer::open(&dir)?;
            let list = issuer.revoke(&serial)?;
            println!(
                "revocation list version {} revokes {} serial(s)",
                list.version,
                list.revoked.len()
            );
            report_pushes(&issuer, &list.envelope().to_envelope()).await;
        }
        IssuerCommand::Subscribe { dir, url } => {
            let issuer = Issuer::open(&dir)?;
            issuer.subscribe(&url)?;
            println!(
                "{} directories told of each new revocation list",
                issuer.subscribers().len()
            );
        }
        IssuerCommand::Publish { dir } => {
            let mut issuer = Issuer::open(&dir)?;
            let list = issuer.publish()?;
            println!(
                "revocation list version {} valid until {}",
                list.version,
                list.expires_at.to_rfc3339()
            );
            report_pushes(&issuer, &list.envelope().to_envelope()).await;
        }
        IssuerCommand::Serve { dir, listen } => {
            let server = signpost_issuer::serve(&dir, &listen).await?;
            println!(
                "issuer serving at {} (revocations: {})",
                server.url(),
                server.revocations_url()
            );
            server.wait().await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct VerifyAttestationArgs {
    /// The trust policy: an aggregator configuration whose [[issuers]] are trusted.
    #[arg(long)]
    trust: PathBuf,
    /// The issuer's revocation list envelope (a file); without it the revocation check fails.
    #[arg(long)]
    revocations: Option<PathBuf>,
    /// The organisation presenting the attestation (default: its subject).
    #[arg(long)]
    presenter: Option<String>,
    /// The attestation envelope (JSON).
    envelope: PathBuf,
}

/// Checks one attestation offline; prints each check; exits 0 only when it is verified.
pub fn verify_attestation(args: VerifyAttestationArgs) -> anyhow::Result<ExitCode> {
    let config = signpost_aggregator::AggregatorConfig::load(&args.trust)?;
    let issuers: Vec<TrustedIssuer> = config.issuers.iter().map(|i| i.trusted()).collect();
    let env: Envelope = crate::saved::read_json(&args.envelope, "a DSSE envelope")?;
    let att = match Verified::<Attestation>::verify_self_issued(env) {
        Ok(a) => a,
        Err(e) => {
            println!("signature: FAIL ({e})");
            println!("status: bad_signature");
            return Ok(ExitCode::from(1));
        }
    };
    let now = Utc::now();
    let view = match &args.revocations {
        None => None,
        Some(path) => {
            let env: Envelope = crate::saved::read_json(path, "a revocation list's DSSE envelope")?;
            match Verified::<RevocationList>::verify(env, &[*att.issuer.key()]) {
                Ok(list) if list.issuer == att.issuer => {
                    Some(RevocationView::new(Some(list), Some(now)))
                }
                Ok(_) => bail!("the revocation list names another issuer"),
                Err(e) => {
                    bail!("the revocation list does not verify under the attestation's issuer: {e}")
                }
            }
        }
    };
    let presenter = match &args.presenter {
        Some(p) => p.parse().context("--presenter")?,
        None => att.subject,
    };
    let grace = chrono::Duration::seconds(config.revocations.grace_secs as i64);
    let (status, checks) = check_attestation(&att, &presenter, &issuers, view.as_ref(), grace, now);
    for c in &checks {
        match &c.reason {
            None => println!("{}: ok", c.check),
            Some(r) => println!("{}: FAIL ({r})", c.check),
        }
    }
    println!(
        "status: {}",
        serde_json::to_value(status)?.as_str().unwrap_or("?")
    );
    Ok(if status == AttestationStatus::Verified {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Pushes a new list to the issuer's subscribers and says how each answered.
async fn report_pushes(issuer: &Issuer, list: &signpost_protocol::Envelope) {
    for (url, result) in signpost_issuer::push(list, &issuer.subscribers()).await {
        match result {
            Ok(()) => println!("pushed to {url}: in use there now"),
            Err(e) => {
                println!("pushed to {url}: not taken ({e}); it will fetch the list on its schedule")
            }
        }
    }
}
