//! `signpost aggregator ...`: serve the directory.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum AggregatorCommand {
    /// Crawl the nodes in the trust policy and serve the directory API.
    Serve {
        /// The configuration and trust policy (TOML).
        #[arg(long)]
        config: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
    },
    /// Print the directory's OpenAPI document.
    Openapi,
}

pub async fn run(cmd: AggregatorCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AggregatorCommand::Serve { config, listen } => {
            let server =
                signpost_aggregator::start_from_file(&config, &listen, Default::default()).await?;
            println!(
                "aggregator serving at {} (docs: {}/docs/)",
                server.url(),
                server.url()
            );
            server
                .wait()
                .await
                .context("server stopped with an error")?;
        }
        AggregatorCommand::Openapi => print!("{}", signpost_aggregator::openapi::document_json()),
    }
    Ok(ExitCode::SUCCESS)
}
