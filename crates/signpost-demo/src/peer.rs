//! The peer measurement: the same listings in PostgreSQL with PostGIS and full-text indexes,
//! queried the way classic service directories (Ohana API and its kind) answer these
//! queries, timed with pgbench at the same concurrency. Skips cleanly when PostgreSQL or
//! PostGIS is not installed.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use chrono::Utc;
use signpost_protocol::sample;

use crate::report::{BenchOptions, BenchReport};

fn find_bin() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .map(|e| e.path().join("bin"))
        .collect();
    dirs.sort();
    dirs.into_iter().rev().find(|d| {
        ["initdb", "pg_ctl", "pgbench", "psql"]
            .iter()
            .all(|b| d.join(b).exists())
    })
}

fn postgis_installed() -> bool {
    std::fs::read_dir("/usr/share/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| e.path().join("extension/postgis.control").exists())
}

/// Runs a PostgreSQL tool, as the `postgres` user when we are root (initdb refuses root).
fn pg(bin: &Path, tool: &str, args: &[&str]) -> Result<String, String> {
    let is_root = std::env::var("USER").is_ok_and(|u| u == "root")
        || Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0"));
    let mut cmd = if is_root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(tool));
        c
    } else {
        Command::new(bin.join(tool))
    };
    let out = cmd
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{tool}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{tool} failed: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn csv_field(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn pg_array(items: &[String]) -> String {
    format!(
        "{{{}}}",
        items
            .iter()
            .map(|i| format!("\"{i}\""))
            .collect::<Vec<_>>()
            .join(",")
    )
}

/// Returns a one-line summary and fills each query's `peer_requests_per_sec` and ratio.
pub async fn run(opts: &BenchOptions, report: &mut BenchReport) -> String {
    let Some(bin) = find_bin() else {
        return "skipped: PostgreSQL is not installed (apt-get install postgresql postgis)".into();
    };
    if !postgis_installed() {
        return "skipped: PostGIS is not installed (apt-get install postgis)".into();
    }
    let nodes = opts.nodes;
    let per = opts.listings_per_node;
    let seconds = opts.seconds;
    let concurrency = opts.concurrency;
    let shown = bin.display().to_string();
    match tokio::task::spawn_blocking(move || measure(&bin, nodes, per, seconds, concurrency)).await
    {
        // The peer times the benchmark's first queries, in order; the lookups by Open
        // Referral UK's and FHIR's ids after them are the same primary-key read to it.
        Ok(Ok(rates)) if rates.len() > report.queries.len() => format!(
            "skipped: the peer timed {} queries and the benchmark {}; they are paired by position",
            rates.len(),
            report.queries.len()
        ),
        Ok(Ok(rates)) => {
            for (q, rate) in report.queries.iter_mut().zip(rates.iter()) {
                q.peer_requests_per_sec = Some(*rate);
                q.ratio_to_peer = Some(q.requests_per_sec / rate.max(1e-9));
            }
            format!(
                "PostgreSQL + PostGIS ({shown}), pgbench with {concurrency} clients: {}",
                rates
                    .iter()
                    .map(|r| format!("{r:.0}/s"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        Ok(Err(e)) => format!("skipped: {e}"),
        Err(e) => format!("skipped: {e}"),
    }
}

fn measure(
    bin: &Path,
    nodes: usize,
    per: usize,
    seconds: f64,
    concurrency: usize,
) -> Result<Vec<f64>, String> {
    let dir = std::env::temp_dir().join(format!("signpost-peer-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let _ = Command::new("chown")
        .args(["-R", "postgres", &dir.display().to_string()])
        .status();
    let data = dir.join("data");
    let sock = dir.display().to_string();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port()
        .to_string();
    pg(
        bin,
        "initdb",
        &[
            "-D",
            &data.display().to_string(),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
        ],
    )?;
    let opts = format!("-p {port} -k {sock} -c listen_addresses='' -c shared_buffers=256MB -c fsync=off -c max_connections=64");
    pg(
        bin,
        "pg_ctl",
        &[
            "-D",
            &data.display().to_string(),
            "-o",
            &opts,
            "-l",
            &dir.join("log").display().to_string(),
            "-w",
            "start",
        ],
    )?;
    let result = (|| {
        let psql = |sql: &str| {
            pg(
                bin,
                "psql",
                &[
                    "-h",
                    &sock,
                    "-p",
                    &port,
                    "-U",
                    "postgres",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-qAt",
                    "-c",
                    sql,
                ],
            )
        };
        psql("CREATE EXTENSION postgis")?;
        psql("CREATE TABLE listings (id uuid PRIMARY KEY, node text, name text, categories text[], languages text[], accepting boolean, capacity_updated timestamptz, free boolean, verified_training boolean, geog geography(Point, 4326), tsv tsvector, body jsonb)")?;
        // The same listings as the benchmark's farm.
        let now = Utc::now();
        let mut csv = String::new();
        for i in 0..nodes {
            for j in 0..per {
                let seed = (i * 100_003 + j) as u64;
                let g = sample::group(seed, i, now);
                let id = uuid::Uuid::from_u64_pair(i as u64 + 1, j as u64 + 1);
                let (lat, lon) = g
                    .location
                    .as_ref()
                    .map(|l| (l.lat, l.lon))
                    .unwrap_or((0.0, 0.0));
                let body = serde_json::to_string(&g).map_err(|e| e.to_string())?;
                let _ = writeln!(
                    csv,
                    "{id},node-{i},{},{},{},{},{},{},{},SRID=4326;POINT({lon} {lat}),{}",
                    csv_field(&g.name),
                    csv_field(&pg_array(&g.categories)),
                    csv_field(&pg_array(&g.languages)),
                    g.capacity.accepting_referrals,
                    g.capacity.updated_at.to_rfc3339(),
                    g.access.cost.free,
                    i % 3 == 0,
                    csv_field(&body)
                );
            }
        }
        let file = dir.join("listings.csv");
        std::fs::write(&file, csv).map_err(|e| e.to_string())?;
        let _ = Command::new("chown")
            .args(["postgres", &file.display().to_string()])
            .status();
        psql(&format!("\\copy listings (id, node, name, categories, languages, accepting, capacity_updated, free, verified_training, geog, body) FROM '{}' WITH (FORMAT csv)", file.display()))?;
        // Weighted as Signpost ranks: name (A) over the categories (B) over the description (C).
        psql("UPDATE listings SET tsv = setweight(to_tsvector('simple', name), 'A') || setweight(to_tsvector('simple', array_to_string(categories, ' ')), 'B') || setweight(to_tsvector('simple', body->>'description'), 'C')")?;
        psql("CREATE INDEX ON listings USING gist (geog); CREATE INDEX ON listings USING gin (tsv); CREATE INDEX ON listings USING gin (categories); CREATE INDEX ON listings USING gin (languages); CREATE INDEX ON listings (node, name); ANALYZE listings")?;
        let deep = (nodes * per / 20 / 2).max(1) * 20;
        // In the order of the benchmark's queries (the report pairs them by position).
        let queries = [
            "SELECT body, ST_Distance(geog, ST_MakePoint(-1.55, 53.80)::geography) AS d, count(*) OVER () FROM listings WHERE ST_DWithin(geog, ST_MakePoint(-1.55, 53.80)::geography, 5000) AND categories && ARRAY['conversation-cafe','esol','walking'] AND languages @> ARRAY['ar'] AND accepting AND capacity_updated > now() - interval '14 days' ORDER BY d LIMIT 20;".to_owned(),
            // The postcode's centre given directly (a postcode table lookup would add to it).
            "SELECT body, ST_Distance(geog, ST_MakePoint(-1.5092, 53.8229)::geography) AS d, count(*) OVER () FROM listings WHERE ST_DWithin(geog, ST_MakePoint(-1.5092, 53.8229)::geography, 5000) AND categories && ARRAY['conversation-cafe','esol'] ORDER BY d LIMIT 20;".to_owned(),
            "SELECT body, count(*) OVER () FROM listings, plainto_tsquery('simple', 'conversation cafe') q WHERE tsv @@ q ORDER BY ts_rank(tsv, q) DESC, node, name LIMIT 20;".to_owned(),
            "SELECT body, count(*) OVER () FROM listings, plainto_tsquery('simple', 'english') q WHERE tsv @@ q ORDER BY ts_rank(tsv, q) DESC, node, name LIMIT 20;".to_owned(),
            "SELECT body, count(*) OVER () FROM listings WHERE verified_training AND free ORDER BY node, name LIMIT 20;".to_owned(),
            format!("SELECT body, count(*) OVER () FROM listings ORDER BY node, name OFFSET {deep} LIMIT 20;"),
            "SELECT body FROM listings WHERE id = '00000000-0000-0001-0000-000000000001';".to_owned(),
        ];
        let mut rates = Vec::new();
        for (k, q) in queries.iter().enumerate() {
            let script = dir.join(format!("q{k}.sql"));
            std::fs::write(&script, q).map_err(|e| e.to_string())?;
            let _ = Command::new("chown")
                .args(["postgres", &script.display().to_string()])
                .status();
            let out = pg(
                bin,
                "pgbench",
                &[
                    "-h",
                    &sock,
                    "-p",
                    &port,
                    "-U",
                    "postgres",
                    "-n",
                    "-f",
                    &script.display().to_string(),
                    "-c",
                    &concurrency.to_string(),
                    "-j",
                    "2",
                    "-T",
                    &format!("{}", seconds.ceil() as u64),
                    "postgres",
                ],
            )?;
            let tps = out
                .lines()
                .find(|l| l.starts_with("tps"))
                .and_then(|l| l.split('=').nth(1))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<f64>().ok())
                .ok_or_else(|| format!("pgbench said: {out}"))?;
            rates.push(tps);
        }
        Ok(rates)
    })();
    let _ = pg(
        bin,
        "pg_ctl",
        &["-D", &data.display().to_string(), "-m", "immediate", "stop"],
    );
    let _ = std::fs::remove_dir_all(&dir);
    result
}
