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

/// Where the demo writes its log: `demo.log` beside its data folder (the folder itself is
/// rebuilt on each run).
pub fn log_path(args: &DemoArgs) -> PathBuf {
    let mut name = args.data.file_name().unwrap_or_default().to_os_string();
    name.push(".log");
    args.data.with_file_name(name)
}

/// Opens (truncating) the demo's log file.
pub fn log_file(args: &DemoArgs) -> std::io::Result<std::fs::File> {
    let path = log_path(args);
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::File::create(path)
}

pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let log = log_path(&args);
    let demo = Demo::start(DemoOptions {
        data_dir: args.data,
        listen: args.listen,
        ..DemoOptions::default()
    })
    .await?;
    say(&demo.banner());
    if std::env::var_os("SIGNPOST_LOG").is_none() {
        say(&format!("Log (warnings and errors): {}", log.display()));
    }
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    say("stopping...");
    demo.stop().await;
    say("stopped.");
    Ok(ExitCode::SUCCESS)
}

/// Prints a line for whoever started the demo; one who has stopped reading (a closed pipe)
/// does not stop the federation (`println!` would panic).
fn say(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stdout(), "{line}");
}
