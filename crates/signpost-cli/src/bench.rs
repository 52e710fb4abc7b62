//! `signpost bench` (the benchmark program) and `signpost bench-farm` (its node farm).

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use signpost_demo::bench::{self, BenchOptions};

#[derive(Args)]
pub struct BenchArgs {
    /// Nodes to serve.
    #[arg(long, default_value_t = 1000)]
    nodes: usize,
    /// Listings per node.
    #[arg(long, default_value_t = 100)]
    listings_per_node: usize,
    /// Seconds of load per query type.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Concurrent HTTP clients for the query load.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Print one JSON object with every figure instead of the table.
    #[arg(long)]
    json: bool,
    /// Skip the PostgreSQL + PostGIS peer even when it is installed.
    #[arg(long)]
    no_peer: bool,
    /// Measure ingest alone (reference rates, cold crawl, mirror catch-up, restart, memory):
    /// a quick run for comparing two builds of the crawler.
    #[arg(long)]
    ingest_only: bool,
}

#[derive(Args)]
pub struct FarmArgs {
    #[arg(long)]
    nodes: usize,
    #[arg(long)]
    listings_per_node: usize,
}

pub async fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let exe = std::env::current_exe().context("cannot find the signpost binary")?;
    let opts = BenchOptions {
        nodes: args.nodes,
        listings_per_node: args.listings_per_node,
        seconds: args.seconds,
        concurrency: args.concurrency,
        exe,
        peer: !args.no_peer && !args.ingest_only,
        ingest_only: args.ingest_only,
    };
    let report = bench::run(opts, |step| eprintln!("bench: {step}"))
        .await
        .map_err(anyhow::Error::msg)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{}", bench::table(&report));
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn farm(args: FarmArgs) -> anyhow::Result<ExitCode> {
    signpost_demo::farm::serve(args.nodes, args.listings_per_node)
        .await
        .map_err(anyhow::Error::msg)?;
    Ok(ExitCode::SUCCESS)
}
