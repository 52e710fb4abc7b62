//! `signpost verify-group`: checks one directory result end to end without trusting the
//! aggregator that served it. From a `/v1/groups/{node}/{id}` URL (or a saved provenance
//! document, offline), it walks the node-document chain from the pinned id inside it,
//! verifies the snapshot and the listing under the keys that chain names, checks the listing
//! is the one the snapshot's manifest names and the one shown, and checks each attestation's
//! signature and subject; it prints every check and exits 1 if any fails.

use std::process::ExitCode;

use anyhow::Context as _;
use chrono::Utc;
use clap::Args;
use signpost_client::node::extend_chain;
use signpost_client::Fetcher;
use signpost_protocol::wire::Provenance;
use signpost_protocol::{Attestation, DidKey, Listing, Snapshot, Verified};

#[derive(Args)]
pub struct VerifyGroupArgs {
    /// A result's provenance: its `/v1/groups/{node}/{id}` URL, or a saved copy (a file).
    target: String,
}

type Check = (String, Result<String, String>);

/// Every check of a provenance document, computed here.
pub fn checks(prov: &Provenance) -> Vec<Check> {
    let now = Utc::now();
    let mut out: Vec<Check> = Vec::new();
    let pinned: DidKey = match prov.group.node.parse() {
        Ok(id) => id,
        Err(e) => {
            out.push(("node id".into(), Err(format!("{:?}: {e}", prov.group.node))));
            return out;
        }
    };
    let chain = match extend_chain(&pinned, &[], prov.node_documents.clone(), now) {
        Ok(chain) => chain,
        Err(e) => {
            out.push(("node document chain".into(), Err(e.to_string())));
            return out;
        }
    };
    let Some(doc) = chain.last() else {
        out.push(("node document chain".into(), Err("empty".into())));
        return out;
    };
    out.push((
        "node document chain".into(),
        Ok(format!(
            "{} version(s) from the pinned id {pinned}; {} ({}), valid until {}",
            chain.len(),
            doc.name,
            doc.base_url,
            doc.expires.to_rfc3339()
        )),
    ));
    let keys = doc.signing_verifying_keys();
    let snapshot = Verified::<Snapshot>::verify(prov.snapshot.clone(), &keys);
    out.push((
        "snapshot signature".into(),
        match &snapshot {
            Ok(s) if s.node != pinned => Err(format!("the snapshot is about {}", s.node)),
            Ok(s) if s.expires_at <= now => Err(format!("expired at {}", s.expires_at)),
            Ok(s) => Ok(format!(
                "seq {}, signed by {}",
                s.seq,
                DidKey::new(s.signer())
            )),
            Err(e) => Err(e.to_string()),
        },
    ));
    let listing = Verified::<Listing>::verify(prov.listing.clone(), &keys);
    out.push((
        "listing signature".into(),
        match &listing {
            Ok(l) if l.node != pinned => Err(format!("the listing is about {}", l.node)),
            Ok(l) if l.expires_at <= now => Err(format!("expired at {}", l.expires_at)),
            Ok(l) => Ok(format!(
                "{} version {}, signed by {}",
                l.id,
                l.version,
                DidKey::new(l.signer())
            )),
            Err(e) => Err(e.to_string()),
        },
    ));
    if let (Ok(s), Ok(l)) = (&snapshot, &listing) {
        out.push((
            "listing in the snapshot".into(),
            match s.listings.iter().find(|e| e.id == l.id) {
                Some(e) if e.sha256 == l.digest() && e.version == l.version => {
                    Ok("named by the snapshot's manifest with this digest".into())
                }
                Some(_) => Err("the snapshot names another version".into()),
                None => Err("the snapshot does not name it".into()),
            },
        ));
        out.push((
            "the listing shown is the one signed".into(),
            if prov.group.listing == *l.payload() {
                Ok(l.group.name.clone())
            } else {
                Err("the aggregator shows facts the organisation did not sign".into())
            },
        ));
    }
    for report in &prov.attestations {
        let what = format!("attestation {}", report.attestation.serial);
        out.push((
            what,
            match Verified::<Attestation>::verify_self_issued(report.envelope.clone()) {
                Ok(a) if a.subject != pinned => Err(format!("about {}, not this organisation", a.subject)),
                Ok(a) => Ok(format!(
                    "{} signed by {}; the aggregator reports it {:?} (trust and revocation follow its policy)",
                    a.achievement, a.issuer, report.status
                )),
                Err(e) => Err(e.to_string()),
            },
        ));
    }
    out
}

pub async fn run(args: VerifyGroupArgs) -> anyhow::Result<ExitCode> {
    let prov: Provenance =
        if args.target.starts_with("http://") || args.target.starts_with("https://") {
            let fetcher = Fetcher::generous().map_err(anyhow::Error::msg)?;
            // `call`, not `get_json`: a refusal is shown with the directory's own words.
            fetcher
                .call(reqwest::Method::GET, &args.target, None, None::<&()>)
                .await
                .with_context(|| format!("fetching {}", args.target))?
        } else {
            crate::saved::read_json(
                std::path::Path::new(&args.target),
                "a saved provenance document (the JSON of GET /v1/groups/{node}/{id})",
            )?
        };
    let mut ok = true;
    for (check, result) in checks(&prov) {
        match result {
            Ok(detail) => println!("ok    {check}: {detail}"),
            Err(reason) => {
                ok = false;
                println!("FAIL  {check}: {reason}");
            }
        }
    }
    if ok {
        println!("verified: every check passed, with keys from the organisation's own chain");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("NOT verified");
        Ok(ExitCode::from(1))
    }
}
