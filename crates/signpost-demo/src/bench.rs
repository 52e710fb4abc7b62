//! `signpost bench`: measures, in one run, signature verification, crawling, querying and
//! memory against the machine's own limits (see the README's Performance section).

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use ed25519_dalek::Signer as _;
use signpost_aggregator::config::{AggregatorConfig, IssuerEntry, Mirror, NodeEntry};
use signpost_aggregator::ServeOptions;

use crate::farm::FarmInfo;
pub use crate::report::{BenchOptions, BenchReport, CpuUse, QueryFigures};

/// Resident set size of a process (Linux), bytes.
pub fn rss(pid: u32) -> u64 {
    status_bytes(pid, "VmRSS:")
}

/// A process's own memory (`RssAnon`): its resident set less the pages of files it maps
/// (mostly its binary's, shared with every process running it and given back under
/// pressure).
pub fn rss_anon(pid: u32) -> u64 {
    status_bytes(pid, "RssAnon:")
}

/// A size from `/proc/{pid}/status`, in bytes (0 when not known).
fn status_bytes(pid: u32, field: &str) -> u64 {
    let path = format!("/proc/{pid}/status");
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// CPU seconds this process has used, user and system, every thread (to the nanosecond).
fn own_cpu_secs() -> f64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

/// CPU seconds another process has used, user and system, every thread (Linux; 0 when not
/// known). `/proc` counts in the kernel's user-visible ticks, a hundredth of a second.
fn cpu_secs(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            // After the command's name, which may hold spaces, in brackets: the state is the
            // first field and utime, stime the 12th and 13th.
            let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
            Some((ticks(11)? + ticks(12)?) as f64 / 100.0)
        })
        .unwrap_or(0.0)
}

/// The machine's CPU time so far, every core, in ticks: (busy, all). Busy is all but idle
/// and waiting on the disk.
fn machine_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(cpu) = stat.lines().find(|l| l.starts_with("cpu ")) else {
        return (0, 0);
    };
    let ticks: Vec<u64> = cpu
        .split_whitespace()
        .skip(1)
        .filter_map(|t| t.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is within user)
    let all: u64 = ticks.iter().take(8).sum();
    let idle = ticks.get(3).copied().unwrap_or(0) + ticks.get(4).copied().unwrap_or(0);
    (all.saturating_sub(idle), all)
}

/// Measures where CPU time goes over one phase: started before it, finished after.
struct CpuClock {
    process: f64,
    signatures: u64,
    farm: Option<(u32, f64)>,
    machine: (u64, u64),
    cores: u64,
}

impl CpuClock {
    fn start(farm: Option<u32>) -> Self {
        Self {
            process: own_cpu_secs(),
            signatures: signpost_protocol::signature_checks(),
            farm: farm.map(|pid| (pid, cpu_secs(pid))),
            machine: machine_ticks(),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get() as u64),
        }
    }

    fn finish(&self, listings: usize) -> CpuUse {
        let process_secs = own_cpu_secs() - self.process;
        let (busy, all) = machine_ticks();
        let (busy, all) = (
            busy.saturating_sub(self.machine.0),
            all.saturating_sub(self.machine.1),
        );
        CpuUse {
            process_secs,
            farm_secs: self.farm.map_or(0.0, |(pid, at)| cpu_secs(pid) - at),
            machine_busy: (all >= self.cores).then(|| busy as f64 / all as f64),
            process_us_per_listing: process_secs * 1e6 / listings.max(1) as f64,
            signature_checks_per_listing: (signpost_protocol::signature_checks() - self.signatures)
                as f64
                / listings.max(1) as f64,
            besides_listing_signature_us: None,
        }
    }
}

/// `verify_strict` calls per second on one thread, 1 KiB messages.
pub fn verify_rate(seconds: f64) -> f64 {
    let key = signpost_protocol::keys::generate();
    let msg = vec![0x5au8; 1024];
    let sig = key.sign(&msg);
    let vk = key.verifying_key();
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < seconds {
        for _ in 0..100 {
            if vk.verify_strict(&msg, &sig).is_ok() {
                n += 1;
            }
        }
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// `verify_strict` calls per second on one thread over the signatures of up to 2,000 of the
/// listings `state` holds, each over its own payload, as ingest checks them (no decoding,
/// no parsing): `None` when it holds none.
fn verify_listings_rate(
    state: &signpost_aggregator::crawl::Aggregator,
    seconds: f64,
) -> Option<f64> {
    let kind = signpost_protocol::model::PayloadKind::Listing.media_type();
    let listings: Vec<_> = state
        .index()
        .segments()
        .flat_map(|s| s.data.listings.values().cloned())
        .take(2000)
        .collect();
    if listings.is_empty() {
        return None;
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < seconds {
        for l in &listings {
            if l.envelope()
                .verify_threshold(kind, &[l.signer()], 1)
                .is_ok()
            {
                n += 1;
            }
        }
    }
    Some(n as f64 / start.elapsed().as_secs_f64())
}

/// `verify_strict` calls per second on every core at once (a thread each, as
/// [`verify_rate`]): the most any ingest could verify on this machine.
pub fn verify_rate_all_cores(seconds: f64) -> (f64, usize) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let rate = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..cores)
            .map(|_| scope.spawn(move || verify_rate(seconds)))
            .collect();
        threads.into_iter().filter_map(|t| t.join().ok()).sum()
    });
    (rate, cores)
}

struct Farm {
    child: Child,
    info: FarmInfo,
}

impl Drop for Farm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_farm(opts: &BenchOptions) -> Result<Farm, String> {
    let mut child = Command::new(&opts.exe)
        .args([
            "bench-farm",
            "--nodes",
            &opts.nodes.to_string(),
            "--listings-per-node",
            &opts.listings_per_node.to_string(),
        ])
        .env("SIGNPOST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start the farm: {e}"))?;
    let stdout = child.stdout.take().ok_or("no farm stdout")?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let info: FarmInfo =
        serde_json::from_str(&line).map_err(|e| format!("farm said {line:?}: {e}"))?;
    Ok(Farm { child, info })
}

/// Turns of a query's load and its same-bytes load (see [`paired_load`]).
const PAIRED_ROUNDS: u32 = 6;

/// Load on `url` for `seconds` with `concurrency` clients: (requests/s, p50 ms, p99 ms, errors).
async fn load(url: &str, seconds: f64, concurrency: usize) -> (f64, f64, f64, u64) {
    let mut tally = Tally::new(concurrency);
    tally.run(url, seconds, concurrency).await;
    tally.figures()
}

/// Loads `a` and `b` in turns, [`PAIRED_ROUNDS`] slices of each, so both are measured
/// across the same stretch of the machine's time: a neighbour's burst, or this machine's
/// drift over seconds, falls on both rather than on one. Figures as [`load`]'s.
async fn paired_load(
    a: &str,
    b: &str,
    seconds: f64,
    concurrency: usize,
) -> ((f64, f64, f64, u64), (f64, f64, f64, u64)) {
    let (mut ta, mut tb) = (Tally::new(concurrency), Tally::new(concurrency));
    let slice = seconds / f64::from(PAIRED_ROUNDS);
    for _ in 0..PAIRED_ROUNDS {
        ta.run(a, slice, concurrency).await;
        tb.run(b, slice, concurrency).await;
    }
    (ta.figures(), tb.figures())
}

/// Requests timed over one or more slices of load, on one client (its connections kept
/// from one slice to the next).
struct Tally {
    client: reqwest::Client,
    latencies_us: Vec<u32>,
    errors: u64,
    seconds: f64,
}

impl Tally {
    fn new(concurrency: usize) -> Self {
        Self {
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(concurrency)
                .build()
                .unwrap_or_default(),
            latencies_us: Vec::new(),
            errors: 0,
            seconds: 0.0,
        }
    }

    /// Adds `seconds` of load on `url` with `concurrency` clients.
    async fn run(&mut self, url: &str, seconds: f64, concurrency: usize) {
        let deadline = Instant::now() + Duration::from_secs_f64(seconds);
        let started = Instant::now();
        let tasks: Vec<_> = (0..concurrency)
            .map(|_| {
                let client = self.client.clone();
                let url = url.to_owned();
                tokio::spawn(async move {
                    let mut lat = Vec::new();
                    let mut errors = 0u64;
                    while Instant::now() < deadline {
                        let t = Instant::now();
                        match client.get(&url).send().await {
                            Ok(r) if r.status().is_success() => {
                                if r.bytes().await.is_err() {
                                    errors += 1;
                                }
                            }
                            _ => errors += 1,
                        }
                        lat.push(t.elapsed().as_micros() as u32);
                    }
                    (lat, errors)
                })
            })
            .collect();
        for t in tasks {
            if let Ok((lat, e)) = t.await {
                self.latencies_us.extend(lat);
                self.errors += e;
            }
        }
        self.seconds += started.elapsed().as_secs_f64();
    }

    /// (requests/s, p50 ms, p99 ms, errors) over every slice.
    fn figures(mut self) -> (f64, f64, f64, u64) {
        let all = &mut self.latencies_us;
        all.sort_unstable();
        let pct = |p: f64| {
            all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0) as f64
                / 1000.0
        };
        let rps = all.len() as f64 / self.seconds.max(1e-9);
        (rps, pct(0.50), pct(0.99), self.errors)
    }
}

/// Microseconds per `/v1/groups` answer body for query string `qs`, on one blocking thread:
/// what a request costs the server beyond HTTP. The fastest of ten rounds filling `seconds`
/// (this machine's neighbours move a single round by a quarter).
async fn engine_time(
    state: &Arc<signpost_aggregator::crawl::Aggregator>,
    qs: &str,
    seconds: f64,
) -> Result<f64, String> {
    let raw = web::Query::<signpost_protocol::query::RawGroupQuery>::from_query(qs)
        .map_err(|e| format!("{qs}: {e}"))?;
    let q = signpost_protocol::query::GroupQuery::parse(&raw).map_err(|e| format!("{qs}: {e}"))?;
    let state = Arc::clone(state);
    tokio::task::spawn_blocking(move || {
        let mut best = f64::INFINITY;
        for _ in 0..10 {
            let start = Instant::now();
            let mut n = 0u64;
            while start.elapsed().as_secs_f64() < seconds / 10.0 {
                for _ in 0..10 {
                    let mut q = q.clone();
                    signpost_aggregator::api::groups_body(&state, &mut q)
                        .map_err(|e| e.to_string())?;
                    n += 1;
                }
            }
            best = best.min(start.elapsed().as_secs_f64() * 1e6 / n as f64);
        }
        Ok(best)
    })
    .await
    .map_err(|e| e.to_string())?
}

/// Serves fixed bytes at `/same/{k}` with the aggregator's HTTP stack and worker count: its
/// access log and HEAD middleware too.
async fn same_bytes_server(
    bodies: Vec<Vec<u8>>,
    workers: usize,
) -> Result<(String, actix_web::dev::ServerHandle), String> {
    let bodies = web::Data::new(bodies.into_iter().map(web::Bytes::from).collect::<Vec<_>>());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(bodies.clone())
            .wrap(signpost_http::access_log())
            .wrap(actix_web::middleware::from_fn(signpost_http::head_as_get))
            .route(
                "/same/{k}",
                web::get().to(
                    |b: web::Data<Vec<web::Bytes>>, k: web::Path<usize>| async move {
                        match b.get(k.into_inner()) {
                            Some(body) => HttpResponse::Ok()
                                .content_type("application/json")
                                .body(body.clone()),
                            None => HttpResponse::NotFound().finish(),
                        }
                    },
                ),
            )
    })
    .workers(workers)
    .backlog(4096)
    .bind("127.0.0.1:0")
    .map_err(|e| e.to_string())?;
    let url = format!("http://{}", server.addrs().first().ok_or("no address")?);
    let server = server.run();
    let handle = server.handle();
    tokio::spawn(server);
    Ok((url, handle))
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    format!("{cores} cores, {cpu}")
}

/// Runs every measurement; `progress` receives a line per step.
pub async fn run(opts: BenchOptions, progress: impl Fn(&str)) -> Result<BenchReport, String> {
    let mut report = BenchReport {
        machine: machine(),
        ingest_only: opts.ingest_only,
        nodes: opts.nodes,
        listings_per_node: opts.listings_per_node,
        ..Default::default()
    };
    progress("verify_strict reference");
    report.verify_strict_per_sec_one_thread = tokio::task::spawn_blocking(|| verify_rate(2.0))
        .await
        .map_err(|e| e.to_string())?;
    (
        report.verify_strict_per_sec_all_cores,
        report.verify_strict_threads,
    ) = tokio::task::spawn_blocking(|| verify_rate_all_cores(2.0))
        .await
        .map_err(|e| e.to_string())?;

    progress("generating and signing the node farm");
    let farm = start_farm(&opts)?;
    let dir = std::env::temp_dir().join(format!("signpost-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut config = AggregatorConfig {
        store_dir: dir.join("store").display().to_string(),
        nodes: farm
            .info
            .nodes
            .iter()
            .map(|n| NodeEntry {
                url: n.url.clone(),
                id: n.id,
            })
            .collect(),
        issuers: vec![IssuerEntry {
            id: farm.info.issuer,
            name: "Bench issuer".into(),
            achievements: vec!["trauma-informed-practice".into()],
            revocations_url: farm.info.revocations_url.clone(),
        }],
        ..AggregatorConfig::default()
    };
    config.crawl.concurrency = 64;
    config.crawl.timeout_secs = 60;
    config.api.workers = 2;
    let server = signpost_aggregator::start(
        config.clone(),
        "127.0.0.1:0",
        ServeOptions { manual_crawl: true },
    )
    .await
    .map_err(|e| e.to_string())?;
    let state = Arc::clone(&server.state);
    state.refresh_revocations().await;

    progress("cold crawl");
    let clock = CpuClock::start(Some(farm.child.id()));
    let t = Instant::now();
    state.crawl_all_once().await;
    report.cold_crawl_passes = 1;
    // A node whose answer failed in transit (the farm's loopback under load) is crawled again,
    // as the scheduler would; the time counts every pass.
    while state.index().listing_count() < opts.nodes * opts.listings_per_node
        && report.cold_crawl_passes < 3
    {
        state.crawl_all_once().await;
        report.cold_crawl_passes += 1;
    }
    report.cold_crawl_secs = t.elapsed().as_secs_f64();
    report.listings = state.index().listing_count();
    report.cold_crawl_cpu = clock.finish(report.listings);
    report.cold_crawl_listings_per_sec = report.listings as f64 / report.cold_crawl_secs;
    report.cold_crawl_ratio_to_verify =
        report.cold_crawl_listings_per_sec / report.verify_strict_per_sec_one_thread;
    if report.listings != opts.nodes * opts.listings_per_node {
        return Err(format!(
            "ingested {} of {} listings",
            report.listings,
            opts.nodes * opts.listings_per_node
        ));
    }

    progress("verify_strict of the crawled listings");
    report.verify_strict_listings_per_sec_one_thread = {
        let state = Arc::clone(&state);
        tokio::task::spawn_blocking(move || verify_listings_rate(&state, 2.0))
            .await
            .map_err(|e| e.to_string())?
    };
    let http = reqwest::Client::new();
    if !opts.ingest_only {
        recrawls(&opts, &state, &farm, &http, &mut report, &progress).await?;
    }
    progress("memory");
    report.aggregator_rss_bytes = rss(std::process::id());
    report.envelope_bytes_held = state
        .index()
        .segments()
        .map(|s| {
            let d = &s.data;
            let envs = d
                .listings
                .values()
                .map(|l| l.envelope())
                .chain(std::iter::once(d.snapshot.envelope()))
                .chain(d.chain.iter().map(|c| c.envelope()));
            envs.map(|e| serde_json::to_vec(&e).map(|v| v.len() as u64).unwrap_or(0))
                .sum::<u64>()
        })
        .sum();
    report.rss_ratio_to_envelopes =
        report.aggregator_rss_bytes as f64 / report.envelope_bytes_held.max(1) as f64;

    let base = server.url();
    if !opts.ingest_only {
        query_load(&opts, &state, &farm, &base, &http, &mut report, &progress).await?;
    }
    progress("mirror replica catch-up");
    let mirror_config = AggregatorConfig {
        store_dir: dir.join("mirror").display().to_string(),
        mirror: Some(Mirror {
            primary: base.clone(),
        }),
        ..config.clone()
    };
    let mirror = signpost_aggregator::start(
        mirror_config,
        "127.0.0.1:0",
        ServeOptions { manual_crawl: true },
    )
    .await
    .map_err(|e| e.to_string())?;
    mirror.state.refresh_revocations().await;
    let clock = CpuClock::start(None);
    let t = Instant::now();
    mirror.state.catch_up().await?;
    report.replica_catch_up_secs = t.elapsed().as_secs_f64();
    report.replica_listings = mirror.state.index().listing_count();
    report.replica_cpu = clock.finish(report.replica_listings);
    report.replica_listings_per_sec =
        report.replica_listings as f64 / report.replica_catch_up_secs.max(1e-9);
    report.replica_ratio_to_verify =
        report.replica_listings_per_sec / report.verify_strict_per_sec_one_thread;
    if let Some(rate) = report.verify_strict_listings_per_sec_one_thread {
        for cpu in [&mut report.cold_crawl_cpu, &mut report.replica_cpu] {
            cpu.besides_listing_signature_us = Some(cpu.process_us_per_listing - 1e6 / rate);
        }
    }
    mirror.stop().await;

    progress("restart from the store");
    server.stop().await;
    drop(state);
    // The store's file lock is let go once the stopped server's last task ends: the clock
    // starts at the attempt that gets it.
    let mut tries = 0;
    let (t, server) = loop {
        let t = Instant::now();
        match signpost_aggregator::start(
            config.clone(),
            "127.0.0.1:0",
            ServeOptions { manual_crawl: true },
        )
        .await
        {
            Ok(s) => break (t, s),
            Err(e) if tries < 100 && e.to_string().contains("lock") => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => return Err(format!("restart: {e}")),
        }
    };
    let first = http
        .get(format!("{}/v1/groups?per_page=1", server.url()))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json::<serde_json::Value>()
        .await
        .map_err(|e| e.to_string())?;
    report.restart_secs = t.elapsed().as_secs_f64();
    report.restart_listings = first["total_items"].as_u64().unwrap_or(0) as usize;
    server.stop().await;
    drop(farm);
    let _ = std::fs::remove_dir_all(&dir);

    if !opts.ingest_only {
        progress("node footprint");
        node_footprint(&opts, &mut report).await?;

        if opts.peer {
            progress("peer: PostgreSQL + PostGIS");
            report.peer = Some(crate::peer::run(&opts, &mut report).await);
        }
    }
    Ok(report)
}

/// Crawls every node once: the seconds it took and how far `counter` moved meanwhile.
async fn crawl_counting(
    state: &Arc<signpost_aggregator::crawl::Aggregator>,
    counter: &std::sync::atomic::AtomicU64,
) -> (f64, u64) {
    let before = counter.load(std::sync::atomic::Ordering::Relaxed);
    let t = Instant::now();
    state.crawl_all_once().await;
    let after = counter.load(std::sync::atomic::Ordering::Relaxed);
    (t.elapsed().as_secs_f64(), after - before)
}

/// The warm re-crawl (nothing changed) and the incremental one (one listing changed on a
/// tenth of the nodes, which must be exactly the nodes updated).
async fn recrawls(
    opts: &BenchOptions,
    state: &Arc<signpost_aggregator::crawl::Aggregator>,
    farm: &Farm,
    http: &reqwest::Client,
    report: &mut BenchReport,
    progress: &impl Fn(&str),
) -> Result<(), String> {
    progress("warm re-crawl");
    (report.warm_recrawl_secs, report.warm_recrawl_not_modified) =
        crawl_counting(state, &state.metrics.unchanged).await;

    progress("incremental re-crawl");
    report.incremental_changed_nodes = (opts.nodes / 10).max(1);
    http.post(format!(
        "{}/control/change/{}",
        farm.info.url, report.incremental_changed_nodes
    ))
    .send()
    .await
    .map_err(|e| e.to_string())?;
    let updated;
    (report.incremental_converge_secs, updated) =
        crawl_counting(state, &state.metrics.updates).await;
    if updated as usize != report.incremental_changed_nodes {
        return Err(format!(
            "incremental crawl updated {updated} nodes, expected {}",
            report.incremental_changed_nodes
        ));
    }
    Ok(())
}

/// Each representative GP query (and lookups by id: Signpost's, Open Referral UK's and
/// FHIR's) under load, beside the same bytes served pre-built by the same HTTP stack, with
/// the engine's own time per answer.
async fn query_load(
    opts: &BenchOptions,
    state: &Arc<signpost_aggregator::crawl::Aggregator>,
    farm: &Farm,
    base: &str,
    http: &reqwest::Client,
    report: &mut BenchReport,
    progress: &impl Fn(&str),
) -> Result<(), String> {
    let first = &farm.info.nodes[0];
    let some_id = state
        .index()
        .segment(&first.id)
        .and_then(|s| s.data.listings.keys().next().copied())
        .ok_or("no listing")?;
    // The same group's id in Open Referral UK and FHIR (derived from its node and listing).
    let service = signpost_aggregator::oruk::vocab::service_id(&first.id.to_string(), &some_id);
    let deep_page = (report.listings / 20 / 2).max(1);
    let queries: Vec<(&str, String)> = vec![
        ("near+radius+category+language+accepting", "/v1/groups?near=53.80,-1.55&radius_km=5&category=conversation-cafe,esol,walking&language=ar&accepting=true".into()),
        ("postcode+radius+category", "/v1/groups?postcode=LS8%205AB&radius_km=5&category=conversation-cafe,esol".into()),
        ("text search, ranked", "/v1/groups?text=conversation%20cafe".into()),
        ("ranked text, one common word", "/v1/groups?text=english".into()),
        ("verified training filter", "/v1/groups?verified_training=trauma-informed-practice&free=true".into()),
        ("deep page", format!("/v1/groups?page={deep_page}&per_page=20")),
        ("lookup by id (provenance)", format!("/v1/groups/{}/{some_id}", first.id)),
        ("Open Referral UK service by id", format!("/oruk/services/{service}")),
        ("FHIR HealthcareService by id", format!("/fhir/R4/HealthcareService/{service}")),
    ];
    let mut bodies = Vec::new();
    let mut first_ms = Vec::new();
    for (_, path) in &queries {
        let started = Instant::now();
        let resp = http
            .get(format!("{base}{path}"))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("{path}: {}", resp.status()));
        }
        bodies.push(resp.bytes().await.map_err(|e| e.to_string())?.to_vec());
        first_ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let (same_url, same_handle) = same_bytes_server(bodies.clone(), 2).await?;
    for (k, (name, path)) in queries.iter().enumerate() {
        progress(&format!("query load: {name}"));
        let engine_us = match path.strip_prefix("/v1/groups?") {
            Some(qs) => Some(engine_time(state, qs, opts.seconds.min(1.0)).await?),
            None => None,
        };
        let ((rps, p50, p99, errors), (same_rps, _, same_p99, _)) = paired_load(
            &format!("{base}{path}"),
            &format!("{same_url}/same/{k}"),
            opts.seconds,
            opts.concurrency,
        )
        .await;
        report.queries.push(QueryFigures {
            name: (*name).into(),
            path: path.clone(),
            response_bytes: bodies[k].len(),
            first_ms: first_ms[k],
            requests_per_sec: rps,
            p50_ms: p50,
            p99_ms: p99,
            errors,
            same_bytes_requests_per_sec: same_rps,
            same_bytes_p99_ms: same_p99,
            ratio_to_same_bytes: rps / same_rps.max(1e-9),
            engine_us,
            peer_requests_per_sec: None,
            ratio_to_peer: None,
        });
    }
    same_handle.stop(false).await;
    Ok(())
}

/// Starts `signpost node serve` on `dir`; returns the child, its URL and the start-up time.
async fn spawn_node(
    exe: &std::path::Path,
    dir: &std::path::Path,
) -> Result<(Child, String, f64), String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let started = Instant::now();
    let mut child = Command::new(exe)
        .args([
            "node",
            "serve",
            "--dir",
            &dir.display().to_string(),
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env("SIGNPOST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    loop {
        if http
            .get(format!("{url}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        if started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            return Err("the node did not start".into());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Ok((child, url, started.elapsed().as_secs_f64() * 1000.0))
}

fn new_node_dir(name: &str) -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("signpost-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    signpost_node::init(&dir, "Bench Node", "http://127.0.0.1").map_err(|e| e.to_string())?;
    // The load below comes from one address: no public rate limit for the measurement.
    let mut config = signpost_node::config::NodeConfig::load(&dir).map_err(|e| e.to_string())?;
    config.limits.rate_limit_per_sec = 0;
    std::fs::write(
        dir.join(signpost_node::config::CONFIG_FILE),
        config.to_toml().map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    Ok(dir)
}

async fn node_footprint(opts: &BenchOptions, report: &mut BenchReport) -> Result<(), String> {
    let empty = new_node_dir("empty-node")?;
    let (mut child, _, _) = spawn_node(&opts.exe, &empty).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    report.node_rss_idle_empty_bytes = rss(child.id());
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&empty);

    let dir = new_node_dir("node")?;
    report.node_listings = opts.listings_per_node.min(1000);
    {
        let config = signpost_node::config::NodeConfig::load(&dir).map_err(|e| e.to_string())?;
        let store = signpost_store::Store::open(&dir.join(signpost_node::config::STORE_DIR))
            .map_err(|e| e.to_string())?;
        let publisher = signpost_node::publisher::Publisher::open(
            &dir,
            store,
            config.publishing.lifetime(),
            config.limits.max_listings,
        )
        .map_err(|e| e.to_string())?;
        let now = chrono::Utc::now();
        for i in 0..report.node_listings {
            publisher
                .create(signpost_protocol::sample::group(i as u64, i, now))
                .map_err(|e| e.to_string())?;
        }
    }
    report.node_binary_bytes = std::fs::metadata(&opts.exe).map(|m| m.len()).unwrap_or(0);
    let (mut child, url, startup_ms) = spawn_node(&opts.exe, &dir).await?;
    report.node_startup_ms = startup_ms;
    tokio::time::sleep(Duration::from_secs(1)).await;
    report.node_rss_idle_bytes = rss(child.id());
    report.node_rss_anon_idle_bytes = rss_anon(child.id());
    let _ = load(&format!("{url}/v1/bundle"), 2.0, 8).await;
    report.node_rss_serving_bytes = rss(child.id());
    report.node_rss_anon_serving_bytes = rss_anon(child.id());
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// One figure of the table: its label, its value and, when not empty, a note in brackets.
fn row(s: &mut String, label: impl std::fmt::Display, value: String, note: &str) {
    let label = label.to_string();
    s.push_str(&format!("{label:<52} {value:>14}"));
    if !note.is_empty() {
        s.push_str(&format!("  ({note})"));
    }
    s.push('\n');
}

/// The table for people.
pub fn table(r: &BenchReport) -> String {
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let mut s = String::new();
    s.push_str(&format!(
        "Signpost benchmark: {} nodes x {} listings = {} listings; {}\n\n",
        r.nodes, r.listings_per_node, r.listings, r.machine
    ));
    let one_thread = r.verify_strict_per_sec_one_thread;
    row(
        &mut s,
        "verify_strict, one thread (1 KiB)",
        format!("{one_thread:.0}/s"),
        "",
    );
    row(
        &mut s,
        format!(
            "verify_strict, {} threads at once (1 KiB)",
            r.verify_strict_threads
        ),
        format!("{:.0}/s", r.verify_strict_per_sec_all_cores),
        &format!(
            "{:.2}x one thread: the ceiling for ingest",
            r.verify_strict_per_sec_all_cores / one_thread.max(1e-9)
        ),
    );
    if let Some(listings) = r.verify_strict_listings_per_sec_one_thread {
        // Scaled to every core as the 1 KiB reference scaled in this run.
        let of_reference = listings / one_thread.max(1e-9);
        row(
            &mut s,
            "verify_strict, one thread, the crawled listings",
            format!("{listings:.0}/s ({:.1} us)", 1e6 / listings.max(1e-9)),
            &format!(
                "{of_reference:.2}x the 1 KiB reference: verification alone on {} threads reaches {:.2}x",
                r.verify_strict_threads,
                of_reference * r.verify_strict_per_sec_all_cores / one_thread.max(1e-9)
            ),
        );
    }
    row(
        &mut s,
        "cold crawl: listings verified and indexed",
        format!("{:.0}/s", r.cold_crawl_listings_per_sec),
        &format!("{:.2}x verify_strict", r.cold_crawl_ratio_to_verify),
    );
    let passes = r.cold_crawl_passes;
    row(
        &mut s,
        "cold crawl: total",
        format!("{:.2} s", r.cold_crawl_secs),
        &format!("{passes} pass{}", if passes == 1 { "" } else { "es" }),
    );
    let verify_us = 1e6 / one_thread.max(1e-9);
    let cpu_row = |s: &mut String, what: &str, cpu: &CpuUse| {
        let besides = cpu
            .besides_listing_signature_us
            .map(|us| format!(" ({us:.1} us besides its signature)"))
            .unwrap_or_default();
        row(
            s,
            format!("{what}: aggregator CPU a listing"),
            format!("{:.1} us{besides}", cpu.process_us_per_listing),
            &match cpu.machine_busy {
                Some(busy) => format!(
                    "verify_strict alone {verify_us:.1} us; cores {:.0}% busy; {:.3} signature checks a listing",
                    busy * 100.0,
                    cpu.signature_checks_per_listing
                ),
                None => format!(
                    "verify_strict alone {verify_us:.1} us; {:.3} signature checks a listing",
                    cpu.signature_checks_per_listing
                ),
            },
        )
    };
    cpu_row(&mut s, "cold crawl", &r.cold_crawl_cpu);
    row(
        &mut s,
        format!("mirror replica catch-up ({} listings)", r.replica_listings),
        format!("{:.0}/s", r.replica_listings_per_sec),
        &format!(
            "{:.2}x verify_strict; target 1.0x",
            r.replica_ratio_to_verify
        ),
    );
    cpu_row(&mut s, "mirror catch-up (with its primary)", &r.replica_cpu);
    row(
        &mut s,
        format!("restart to serving ({} listings)", r.restart_listings),
        format!("{:.2} s", r.restart_secs),
        "target < 3 s",
    );
    row(
        &mut s,
        "aggregator RSS after ingest",
        format!("{:.1} MiB", mib(r.aggregator_rss_bytes)),
        &format!(
            "{:.2}x of {:.1} MiB envelopes held",
            r.rss_ratio_to_envelopes,
            mib(r.envelope_bytes_held)
        ),
    );
    if r.ingest_only {
        s.push_str("\n(--ingest-only: no warm or incremental crawl, node, query load or peer)\n");
        return s;
    }
    row(
        &mut s,
        "warm re-crawl, nothing changed",
        format!("{:.3} s", r.warm_recrawl_secs),
        &format!("{} not modified", r.warm_recrawl_not_modified),
    );
    row(
        &mut s,
        format!(
            "incremental: 1 listing on {} nodes",
            r.incremental_changed_nodes
        ),
        format!("{:.3} s", r.incremental_converge_secs),
        "",
    );
    let node_figures = [
        (
            "node RSS idle (no listings)".to_owned(),
            format!("{:.1} MiB", mib(r.node_rss_idle_empty_bytes)),
        ),
        (
            format!("node RSS idle ({} listings)", r.node_listings),
            format!(
                "{:.1} MiB ({:.1} MiB its own)",
                mib(r.node_rss_idle_bytes),
                mib(r.node_rss_anon_idle_bytes)
            ),
        ),
        (
            "node RSS after serving bundles".to_owned(),
            format!(
                "{:.1} MiB ({:.1} MiB its own)",
                mib(r.node_rss_serving_bytes),
                mib(r.node_rss_anon_serving_bytes)
            ),
        ),
        (
            "node start-up to first answer".to_owned(),
            format!("{:.0} ms", r.node_startup_ms),
        ),
        (
            "binary size".to_owned(),
            format!("{:.1} MiB", mib(r.node_binary_bytes)),
        ),
    ];
    for (label, value) in node_figures {
        row(&mut s, label, value, "");
    }
    s.push('\n');
    s.push_str(&format!(
        "{:<42} {:>9} {:>8} {:>9} {:>8} {:>8} {:>10} {:>7} {:>9} {:>10}\n",
        "query",
        "bytes",
        "1st ms",
        "req/s",
        "p50 ms",
        "p99 ms",
        "same-bytes",
        "ratio",
        "engine us",
        "vs peer"
    ));
    for q in &r.queries {
        s.push_str(&format!(
            "{:<42} {:>9} {:>8.1} {:>9.0} {:>8.2} {:>8.2} {:>10.0} {:>7.2} {:>9} {:>10}\n",
            q.name,
            q.response_bytes,
            q.first_ms,
            q.requests_per_sec,
            q.p50_ms,
            q.p99_ms,
            q.same_bytes_requests_per_sec,
            q.ratio_to_same_bytes,
            q.engine_us
                .map(|us| format!("{us:.1}"))
                .unwrap_or_else(|| "-".into()),
            q.ratio_to_peer
                .map(|r| format!("{r:.1}x"))
                .unwrap_or_else(|| "-".into())
        ));
    }
    if let Some(p) = &r.peer {
        s.push_str(&format!("\npeer: {p}\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A process's own memory is part of its resident set, and grows with what it holds.
    #[test]
    fn own_memory_is_part_of_the_resident_set_and_grows_with_what_is_held() {
        let me = std::process::id();
        let (total, own) = (rss(me), rss_anon(me));
        assert!(own > 0 && own <= total, "RssAnon {own} of VmRSS {total}");
        let held = vec![1u8; 64 << 20];
        let grown = rss_anon(me);
        assert!(
            grown >= own + (48 << 20),
            "{own} then {grown} holding 64 MiB"
        );
        drop(held);
        assert_eq!(rss(0), 0, "no such process: not known");
    }
}
