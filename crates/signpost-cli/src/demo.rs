//! `signpost demo`: the whole federation on one machine.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use signpost_demo::{Demo, DemoOptions};

#[derive(Args)]
pub struct DemoArgs {
    /// The aggregator's address.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// The data folder (rebuilt on each run).
    #[arg(long, default_value = "signpost-demo-data")]
    data: PathBuf,
}

pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let demo = Demo::start(DemoOptions {
        data_dir: args.data,
        listen: args.listen,
        ..DemoOptions::default()
    })
    .await?;
    println!("{}", demo.banner());
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    println!("stopping...");
    demo.stop().await;
    println!("stopped.");
    Ok(ExitCode::SUCCESS)
}
