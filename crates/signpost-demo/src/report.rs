//! What the benchmark is asked to do and what it reports: shared by [`crate::bench`] (which
//! fills the report) and [`crate::peer`] (which adds the PostgreSQL figures), so neither
//! imports the other.

use std::path::PathBuf;

use serde::Serialize;

/// How the benchmark is run.
pub struct BenchOptions {
    pub nodes: usize,
    pub listings_per_node: usize,
    /// Seconds of load per query type (and per same-bytes endpoint).
    pub seconds: f64,
    /// Concurrent HTTP clients.
    pub concurrency: usize,
    /// The `signpost` binary (for the farm and the node processes).
    pub exe: PathBuf,
    /// Also time the same queries on PostgreSQL + PostGIS, when installed.
    pub peer: bool,
    /// Only what ingest costs: the reference rates, the cold crawl, the mirror's catch-up,
    /// the restart and memory (no warm or incremental crawl, no query load, no node, no peer).
    pub ingest_only: bool,
}

#[derive(Debug, Default, Serialize)]
pub struct QueryFigures {
    pub name: String,
    pub path: String,
    pub response_bytes: usize,
    /// Milliseconds for its first answer over HTTP, before the load: what the first such
    /// query after a crawl pays for what the index makes when first asked (a near query's
    /// spatial order, a searched word's places, the UUIDs Open Referral UK and FHIR name
    /// groups by).
    pub first_ms: f64,
    pub requests_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
    /// The same bytes served pre-built by the same HTTP stack.
    pub same_bytes_requests_per_sec: f64,
    pub same_bytes_p99_ms: f64,
    pub ratio_to_same_bytes: f64,
    /// Microseconds for the answer's body alone, one thread, no HTTP: parsing what the query
    /// names, the engine and the page writer (`/v1/groups` queries).
    pub engine_us: Option<f64>,
    /// PostgreSQL + PostGIS doing the same query (when measured).
    pub peer_requests_per_sec: Option<f64>,
    pub ratio_to_peer: Option<f64>,
}

/// Where the CPU time went while one ingest phase ran, to tell work per listing from idle
/// cores: with `machine_busy` at 1.0, the phase's rate over the one-thread `verify_strict` rate
/// is the cores' count over `process_us_per_listing` times that rate.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct CpuUse {
    /// CPU seconds of the bench's own process, user and system, every thread: the
    /// aggregator (and, while a mirror catches up, its primary too).
    pub process_secs: f64,
    /// CPU seconds of the node farm's process (serving bundles during a crawl).
    pub farm_secs: f64,
    /// The share of every core's time that was busy, whatever ran (from `/proc/stat`, in
    /// hundredths of a second: absent for a phase shorter than that on each core).
    pub machine_busy: Option<f64>,
    /// `process_secs` over the listings ingested, in microseconds.
    pub process_us_per_listing: f64,
    /// Signatures the process checked, over the listings ingested: each listing's, plus
    /// each node's document, snapshot and attestations (so a little over 1.0; a signature
    /// checked twice would show here).
    pub signature_checks_per_listing: f64,
    /// `process_us_per_listing` less the time a listing's own signature takes alone
    /// (from `verify_strict_listings_per_sec_one_thread`): what everything else costs.
    pub besides_listing_signature_us: Option<f64>,
}

#[derive(Debug, Default, Serialize)]
pub struct BenchReport {
    pub machine: String,
    /// Only ingest was measured (`--ingest-only`): the other figures are absent, not zero.
    pub ingest_only: bool,
    pub nodes: usize,
    pub listings_per_node: usize,
    pub listings: usize,
    pub verify_strict_per_sec_one_thread: f64,
    /// `verify_strict` on every core at once, a thread each: what ingest could reach at most.
    pub verify_strict_per_sec_all_cores: f64,
    pub verify_strict_threads: usize,
    /// `verify_strict` of the listings the cold crawl took, one thread: each one's signature
    /// over its own payload, as ingest checks it (the reference's messages are 1 KiB; a
    /// listing's is larger, so this is what verification alone lets ingest reach).
    pub verify_strict_listings_per_sec_one_thread: Option<f64>,
    pub cold_crawl_secs: f64,
    /// Crawls of every node needed to hold every listing (a failed fetch is tried again).
    pub cold_crawl_passes: u32,
    pub cold_crawl_listings_per_sec: f64,
    pub cold_crawl_ratio_to_verify: f64,
    pub cold_crawl_cpu: CpuUse,
    pub warm_recrawl_secs: f64,
    pub warm_recrawl_not_modified: u64,
    pub incremental_changed_nodes: usize,
    pub incremental_converge_secs: f64,
    pub queries: Vec<QueryFigures>,
    /// Aggregator start-up on a store holding every listing, to its first full answer.
    pub restart_secs: f64,
    pub restart_listings: usize,
    /// A new mirror replica following the primary's feed until it holds every listing.
    pub replica_catch_up_secs: f64,
    pub replica_listings: usize,
    pub replica_listings_per_sec: f64,
    pub replica_ratio_to_verify: f64,
    pub replica_cpu: CpuUse,
    pub aggregator_rss_bytes: u64,
    pub envelope_bytes_held: u64,
    pub rss_ratio_to_envelopes: f64,
    pub node_binary_bytes: u64,
    pub node_startup_ms: f64,
    pub node_rss_idle_empty_bytes: u64,
    pub node_rss_idle_bytes: u64,
    pub node_rss_serving_bytes: u64,
    /// `RssAnon` beside the two figures before it: the node's own memory, without the pages
    /// of its binary (shared, and given back under pressure).
    pub node_rss_anon_idle_bytes: u64,
    pub node_rss_anon_serving_bytes: u64,
    pub node_listings: usize,
    pub peer: Option<String>,
}
