//! `signpost verify-group`: checks one directory result end to end without trusting the
//! aggregator that served it. From a `/v1/groups/{node}/{id}` URL (or a saved provenance
//! document, offline), it walks the node-document chain from the pinned id inside it,
//! verifies the snapshot and the listing under the keys that chain names, checks the listing
//! is the one the snapshot's manifest names and the one shown, and checks each attestation's
//! signature and subject; it prints every check and exits 1 if any fails.

use std::process::ExitCode;

use chrono::Utc;
use clap::Args;
use signpost_client::node::extend_chain;
use signpost_client::Fetcher;
use signpost_protocol::wire::Provenance;
use signpost_protocol::{Attestation, DidKey, Listing, Snapshot, Verified};

#[derive(Args)]
pub struct VerifyGroupArgs {
    /// A result's provenance: its `/v1/groups/{node}/{id}` URL (or the finder's page or
    /// referral card for the group), or a saved copy (a file).
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

/// The directory record (`/v1/groups/{node}/{id}`) of a group whose finder page
/// (`/find/group/...`) or referral card (`/find/card/...`) address was given, as a Link
/// Worker copies it from the browser; any other address as it is.
fn api_address(given: &str) -> String {
    let Ok(mut url) = url::Url::parse(given) else {
        return given.to_owned();
    };
    let path = url.path().to_owned();
    let Some(rest) = path
        .strip_prefix("/find/group/")
        .or_else(|| path.strip_prefix("/find/card/"))
    else {
        return given.to_owned();
    };
    url.set_path(&format!("/v1/groups/{rest}"));
    // The finder's own parameters (its language) are not the record's.
    url.set_query(None);
    url.set_fragment(None);
    url.to_string()
}

pub async fn run(args: VerifyGroupArgs) -> anyhow::Result<ExitCode> {
    let prov: Provenance =
        if args.target.starts_with("http://") || args.target.starts_with("https://") {
            let url = api_address(&args.target);
            if url != args.target {
                eprintln!("(the finder's page for a group: checking its directory record, {url})");
            }
            let fetcher = Fetcher::generous().map_err(anyhow::Error::msg)?;
            // `call`, not `get_json`: a refusal is shown with the directory's own words.
            match fetcher
                .call(reqwest::Method::GET, &url, None, None::<&()>)
                .await
            {
                Ok(prov) => prov,
                Err(signpost_client::ClientError::Fetch(
                    signpost_client::FetchError::ContentType(ct),
                )) if ct.starts_with("text/html") => anyhow::bail!(
                    "{url} is a web page, not a group's directory record: give the group's \
                     /v1/groups/{{node}}/{{id}} address (each search result carries it as \
                     `provenance`), or its page in the finder"
                ),
                Err(e) => return Err(anyhow::Error::new(e).context(format!("fetching {url}"))),
            }
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
