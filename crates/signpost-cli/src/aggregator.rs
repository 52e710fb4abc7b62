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
        /// The address and port to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
    },
    /// Print the directory's OpenAPI document.
    Openapi,
    /// Nodes asking to be listed: list them, approve (trusted and crawled at once) or
    /// decline. Talks to the running aggregator with the operator's admin token.
    Enrolments {
        #[command(subcommand)]
        action: EnrolmentAction,
        /// The aggregator's configuration (for `enrolment.admin_token_file`).
        #[arg(long, global = true)]
        config: Option<PathBuf>,
        /// Where the aggregator serves.
        #[arg(long, global = true, default_value = "http://127.0.0.1:8080")]
        url: String,
    },
}

#[derive(Subcommand)]
pub enum EnrolmentAction {
    /// Every request, oldest first.
    List,
    /// Approve a node's request: it is trusted and crawled at once.
    Approve {
        /// The node's id (did:key), as `list` shows it.
        node: String,
    },
    /// Decline a node's request, or withdraw its approval: it is no longer crawled or
    /// served, at once.
    Decline {
        /// The node's id (did:key), as `list` shows it.
        node: String,
    },
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
        AggregatorCommand::Enrolments {
            action,
            config,
            url,
        } => enrolments(action, config, &url).await?,
    }
    Ok(ExitCode::SUCCESS)
}

async fn enrolments(
    action: EnrolmentAction,
    config: Option<PathBuf>,
    url: &str,
) -> anyhow::Result<()> {
    let config = config.context("give --config, the aggregator's configuration file")?;
    let config = signpost_aggregator::config::AggregatorConfig::load(&config)?;
    let token_file = config
        .enrolment
        .admin_token_file
        .context("enrolment is not enabled: set enrolment.admin_token_file in the configuration")?;
    let token = std::fs::read_to_string(&token_file)
        .with_context(|| format!("reading the admin token from {token_file}"))?;
    let token = token.trim();
    let fetcher = signpost_client::Fetcher::new(std::time::Duration::from_secs(20), 8 << 20, 1)
        .map_err(anyhow::Error::msg)?;
    let directory = signpost_client::DirectoryClient::new(fetcher, url);
    let show = |e: &signpost_protocol::wire::Enrolment| {
        let status = match e.status {
            signpost_protocol::wire::EnrolmentStatus::Pending => "pending",
            signpost_protocol::wire::EnrolmentStatus::Approved => "approved",
            signpost_protocol::wire::EnrolmentStatus::Declined => "declined",
        };
        println!(
            "{status:<9} {}  {}  {}  asked {}{}",
            e.id,
            e.name,
            e.url,
            e.requested_at.format("%Y-%m-%d %H:%M"),
            e.contact
                .as_deref()
                .map(|c| format!("  contact: {c}"))
                .unwrap_or_default()
        );
    };
    match action {
        EnrolmentAction::List => {
            let all = directory.enrolments(token).await?;
            if all.is_empty() {
                println!("no enrolment requests");
            }
            all.iter().for_each(show);
        }
        EnrolmentAction::Approve { node } => {
            let id = node.parse().map_err(|e| anyhow::anyhow!("{node}: {e}"))?;
            show(&directory.decide_enrolment(token, &id, true).await?);
        }
        EnrolmentAction::Decline { node } => {
            let id = node.parse().map_err(|e| anyhow::anyhow!("{node}: {e}"))?;
            show(&directory.decide_enrolment(token, &id, false).await?);
        }
    }
    Ok(())
}
