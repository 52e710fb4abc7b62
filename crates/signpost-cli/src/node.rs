//! `signpost node ...`: create, serve and administer an organisation's node.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};

#[derive(Subcommand)]
pub enum NodeCommand {
    /// Create a node: keys, node document v1, store, config and admin token.
    Init {
        /// The node's folder, created (an existing node is never overwritten).
        #[arg(long)]
        dir: PathBuf,
        /// The organisation's name, as referrers will see it.
        #[arg(long)]
        name: String,
        /// The public URL the node will be reached at.
        #[arg(long)]
        base_url: String,
        /// Read a passphrase for the node's pages from standard input (at least 12
        /// characters). Without it, sign in first with the printed one-time link.
        #[arg(long)]
        passphrase_stdin: bool,
    },
    /// Write an encrypted backup of the node (keys, configuration, store) to a file. The
    /// passphrase comes from SIGNPOST_BACKUP_PASSPHRASE or the first line of standard input.
    /// While the node runs, give its address with --url (or use its Status page).
    Backup {
        /// The node's folder (made by `node init` or `node setup`).
        #[arg(long)]
        dir: PathBuf,
        /// The backup file to write (age-encrypted).
        #[arg(long)]
        out: PathBuf,
        /// The running node's address, e.g. http://127.0.0.1:8081.
        #[arg(long)]
        url: Option<String>,
    },
    /// Bring a node back from a backup into an empty directory, ready to carry on publishing
    /// (directories accept it: see "Restoring a node" in openapi/PROTOCOL.md).
    Restore {
        /// The backup file.
        file: PathBuf,
        /// An empty folder to bring the node back into.
        #[arg(long)]
        dir: PathBuf,
    },
    /// Guided first run: asks the organisation's name and the domain (or takes them as
    /// flags), creates the node, and prints the page's one-time sign-in link.
    Setup(SetupArgs),
    /// Print a new one-time link to sign in to the node's pages (valid 72 hours).
    SignInLink {
        /// The node's folder (made by `node init` or `node setup`).
        #[arg(long)]
        dir: PathBuf,
    },
    /// Serve the node's signed feed and admin API.
    Serve(ServeArgs),
    /// Root key operations (run with the node stopped; the root key can live offline).
    #[command(subcommand)]
    Root(RootCommand),
    /// Attestations about this organisation.
    #[command(subcommand)]
    Attest(AttestCommand),
    /// The admin token.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Print the node's OpenAPI document.
    Openapi,
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Write a new admin token (the old one stops working when the node restarts).
    Rotate {
        /// The node's folder (made by `node init` or `node setup`).
        #[arg(long)]
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum AttestCommand {
    /// Import an attestation envelope: through the admin API of the running node at --url,
    /// or straight into the store when the node is stopped.
    Import {
        /// The node's folder (made by `node init` or `node setup`).
        #[arg(long)]
        dir: PathBuf,
        /// The running node (uses DIR/admin-token).
        #[arg(long)]
        url: Option<String>,
        /// The attestation envelope (JSON).
        envelope: PathBuf,
    },
}

#[derive(Args)]
pub struct ServeArgs {
    /// The node's folder (made by `node init` or `node setup`).
    #[arg(long)]
    dir: PathBuf,
    /// The address and port to listen on (behind a reverse proxy, keep it on 127.0.0.1).
    #[arg(long, default_value = "127.0.0.1:8081")]
    pub listen: String,
}

#[derive(Subcommand)]
pub enum RootCommand {
    /// Replace the root key: node document version + 1, signed by the old and the new root key.
    Rotate {
        /// The node's folder (made by `node init` or `node setup`).
        #[arg(long)]
        dir: PathBuf,
        /// The current root key (default: DIR/root-key.pem).
        #[arg(long)]
        root_key: Option<PathBuf>,
        /// The new root key (create one with `signpost keys generate`).
        #[arg(long)]
        new_root_key: PathBuf,
    },
}

pub async fn run(cmd: NodeCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        NodeCommand::Init {
            dir,
            name,
            base_url,
            passphrase_stdin,
        } => {
            let passphrase = if passphrase_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line)?;
                let line = line.trim_end_matches(['\r', '\n']).to_owned();
                if let Some(problem) = signpost_node::pages::session::passphrase_problem(&line) {
                    anyhow::bail!("{problem}");
                }
                Some(line)
            } else {
                None
            };
            let report = signpost_node::init(&dir, &name, &base_url)?;
            if let Some(p) = passphrase {
                signpost_node::pages::session::set_passphrase(&dir, &p)
                    .map_err(anyhow::Error::msg)?;
            }
            let link = signpost_node::pages::session::new_one_time_link(&dir)
                .map_err(anyhow::Error::msg)?;
            println!("node created in {}", dir.display());
            println!("id:          {}", report.id);
            println!(
                "admin token: {} (mode 0600)",
                report.admin_token_path.display()
            );
            println!(
                "root key:    {} (move it offline once the node is set up)",
                dir.join(signpost_node::config::ROOT_KEY_FILE).display()
            );
            println!(
                "serve it:    signpost node serve --dir {} --listen 127.0.0.1:8081",
                dir.display()
            );
            let base = base_url.trim_end_matches('/');
            println!("pages:       {base}/manage");
            println!(
                "sign in:     {base}/manage/sign-in/once/{link} (one-time link, valid 72 hours)"
            );
        }
        NodeCommand::SignInLink { dir } => {
            let config = signpost_node::config::NodeConfig::load(&dir)?;
            let link = signpost_node::pages::session::new_one_time_link(&dir)
                .map_err(anyhow::Error::msg)?;
            println!(
                "{}/manage/sign-in/once/{link}",
                config.base_url.trim_end_matches('/')
            );
            println!("(works once, for 72 hours)");
        }
        NodeCommand::Serve(args) => {
            let server = signpost_node::start(&args.dir, &args.listen, Default::default()).await?;
            // One write, and no panic if whoever started us stopped reading (a supervisor
            // that reads only the first line): the node must keep serving.
            {
                use std::io::Write as _;
                let _ = writeln!(
                    std::io::stdout(),
                    "node {} serving at {}\npages: {}/manage",
                    server.publisher.node_id(),
                    server.url(),
                    server.url()
                );
            }
            server
                .wait()
                .await
                .context("server stopped with an error")?;
        }
        NodeCommand::Root(RootCommand::Rotate {
            dir,
            root_key,
            new_root_key,
        }) => {
            let old = root_key.unwrap_or_else(|| dir.join(signpost_node::config::ROOT_KEY_FILE));
            let doc = signpost_node::rotate_root(&dir, &old, &new_root_key)?;
            println!(
                "node document version {} now names root key {}",
                doc.version, doc.root_keys[0]
            );
        }
        NodeCommand::Attest(AttestCommand::Import { dir, url, envelope }) => {
            let env: signpost_protocol::Envelope =
                crate::saved::read_json(&envelope, "an attestation's DSSE envelope")?;
            match url {
                Some(url) => {
                    let token = signpost_store::keyfile::read_secret(
                        &dir.join(signpost_node::config::ADMIN_TOKEN_FILE),
                    )?;
                    let fetcher =
                        signpost_client::Fetcher::generous().map_err(anyhow::Error::msg)?;
                    signpost_client::NodeClient::new(fetcher, &url)
                        .admin(token.trim())
                        .import_attestation(&env)
                        .await
                        .map_err(|e| anyhow::anyhow!("the node refused the attestation: {e}"))?;
                }
                None => signpost_node::import_attestation(&dir, env)?,
            }
            println!("attestation imported; the node's next snapshot names it");
        }
        NodeCommand::Token(TokenCommand::Rotate { dir }) => {
            let path = signpost_node::rotate_admin_token(&dir)?;
            println!(
                "new admin token in {} (mode 0600); restart the node to apply it",
                path.display()
            );
        }
        NodeCommand::Openapi => print!("{}", signpost_node::openapi::document_json()),
        NodeCommand::Setup(args) => setup(args)?,
        NodeCommand::Backup { dir, out, url } => {
            let passphrase = backup_passphrase()?;
            let bytes = match url {
                Some(url) => {
                    let token =
                        std::fs::read_to_string(dir.join(signpost_node::config::ADMIN_TOKEN_FILE))
                            .context("reading the admin token")?;
                    let resp = reqwest::Client::new()
                        .post(format!("{}/admin/backup", url.trim_end_matches('/')))
                        .bearer_auth(token.trim())
                        .json(&serde_json::json!({"passphrase": passphrase}))
                        .send()
                        .await
                        .context("asking the running node for a backup")?;
                    if !resp.status().is_success() {
                        anyhow::bail!(
                            "the node refused: {}",
                            resp.text().await.unwrap_or_default()
                        );
                    }
                    resp.bytes().await?.to_vec()
                }
                None => signpost_node::backup_stopped(&dir, &passphrase)
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
            };
            std::fs::write(&out, &bytes).with_context(|| format!("writing {}", out.display()))?;
            println!(
                "backup written to {} ({} bytes, encrypted)",
                out.display(),
                bytes.len()
            );
            println!(
                "keep it somewhere other than this machine, with its passphrase apart from it"
            );
        }
        NodeCommand::Restore { file, dir } => {
            let passphrase = backup_passphrase()?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let (manifest, seq) = signpost_node::backup::restore(&bytes, &passphrase, &dir)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "restored {} ({}) from a backup made {} into {}",
                manifest.name,
                manifest.node,
                manifest.created_at.format("%Y-%m-%d %H:%M UTC"),
                dir.display()
            );
            println!("re-signed everything as snapshot {seq}: directories take it as newer than anything published since the backup");
            println!(
                "serve it:    signpost node serve --dir {} --listen 127.0.0.1:8081",
                dir.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The backup passphrase: SIGNPOST_BACKUP_PASSPHRASE, or the first line of standard input.
fn backup_passphrase() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("SIGNPOST_BACKUP_PASSPHRASE") {
        return Ok(p);
    }
    eprintln!("backup passphrase (at least 12 characters):");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

#[derive(clap::Args)]
pub struct SetupArgs {
    /// Where the node lives (the package's systemd unit serves this one).
    #[arg(long, default_value = "/var/lib/signpost/node")]
    dir: PathBuf,
    /// The organisation's name, as referrers will see it (asked when not given).
    #[arg(long)]
    name: Option<String>,
    /// The domain people and directories reach the node at, e.g. signpost.example.org.uk
    /// (asked when not given; empty: this machine only, behind a reverse proxy).
    #[arg(long)]
    domain: Option<String>,
    /// An email address for the certificate authority (with --domain: automatic HTTPS on
    /// port 443; without it, run behind a reverse proxy that serves HTTPS).
    #[arg(long)]
    acme_contact: Option<String>,
    /// The ACME directory (default Let's Encrypt).
    #[arg(long, default_value = "https://acme-v02.api.letsencrypt.org/directory")]
    acme_directory: String,
    /// A root certificate (PEM) to trust for the ACME server (a private or test CA).
    #[arg(long)]
    acme_ca_file: Option<PathBuf>,
    /// Where the node listens behind a proxy.
    #[arg(long, default_value = "127.0.0.1:8081")]
    listen: String,
    /// Where the node listens when it serves HTTPS itself.
    #[arg(long, default_value = "0.0.0.0:443")]
    https_listen: String,
}

fn ask(question: &str) -> anyhow::Result<String> {
    use std::io::Write as _;
    print!("{question} ");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim().to_owned())
}

/// The domain a person typed for `setup`, as a host name: a scheme or a trailing `/` they
/// added is dropped; anything else that is not a host name (a space, a path, a port) is
/// refused in words before anything is written.
fn domain_name(typed: &str) -> anyhow::Result<String> {
    let trimmed = typed.trim();
    let lower = trimmed.to_ascii_lowercase();
    let bare = ["https://", "http://"]
        .iter()
        .find_map(|scheme| lower.starts_with(scheme).then(|| &trimmed[scheme.len()..]))
        .unwrap_or(trimmed)
        .trim_end_matches('/');
    if bare.is_empty() {
        return Ok(String::new());
    }
    let refuse = || {
        anyhow::anyhow!(
            "domain: {typed:?} is not a domain name: give one like signpost.example.org.uk \
             (without https:// or a path)"
        )
    };
    if bare.contains(|c: char| c.is_whitespace() || "/?#@:\\".contains(c)) {
        return Err(refuse());
    }
    match url::Host::parse(bare) {
        Ok(url::Host::Domain(d)) => Ok(d),
        Err(_) => Err(refuse()),
        // An address: reachable, though no certificate authority will certify it.
        Ok(ip) => Ok(ip.to_string()),
    }
}

/// `signpost node setup`.
pub fn setup(args: SetupArgs) -> anyhow::Result<()> {
    let name = match args.name {
        Some(n) => n,
        None => ask("The organisation's name, as people will see it:")?,
    };
    let domain = match args.domain {
        Some(d) => d,
        None => ask("The domain this node will be reached at (e.g. signpost.example.org.uk; empty if a reverse proxy on this machine serves it):")?,
    };
    let domain = domain_name(&domain)?;
    let (base_url, listen) = if domain.is_empty() {
        (format!("http://{}", args.listen), args.listen.clone())
    } else if args.acme_contact.is_some() {
        let port = args
            .https_listen
            .rsplit(':')
            .next()
            .filter(|p| *p != "443")
            .map(|p| format!(":{p}"))
            .unwrap_or_default();
        (format!("https://{domain}{port}"), args.https_listen.clone())
    } else {
        (format!("https://{domain}"), args.listen.clone())
    };
    // Automatic HTTPS, checked before the node is made: a mistake in it must not leave a
    // node behind that the next attempt would refuse to overwrite.
    let tls = match (&args.acme_contact, domain.is_empty()) {
        (Some(contact), false) => {
            let mut tls = signpost_node::config::Tls::acme(&domain, contact, &args.acme_directory);
            if let Some(a) = &mut tls.acme {
                a.directory_ca_file = args.acme_ca_file.clone();
            }
            tls.check().map_err(anyhow::Error::msg)?;
            Some(tls)
        }
        _ => None,
    };
    let report = signpost_node::init(&args.dir, &name, &base_url)?;
    if let Some(tls) = tls {
        let mut config = signpost_node::config::NodeConfig::load(&args.dir)?;
        config.tls = Some(tls);
        config.check().map_err(anyhow::Error::msg)?;
        std::fs::write(
            args.dir.join(signpost_node::config::CONFIG_FILE),
            config.to_toml()?,
        )?;
    }
    std::fs::write(
        args.dir.join("service.env"),
        format!("SIGNPOST_LISTEN={listen}\n"),
    )?;
    let link =
        signpost_node::pages::session::new_one_time_link(&args.dir).map_err(anyhow::Error::msg)?;
    println!();
    println!("{name}'s node is ready in {}.", args.dir.display());
    println!("  id:       {}", report.id);
    println!("  address:  {base_url}");
    println!("  listens:  {listen}");
    if args.acme_contact.is_some() && !domain.is_empty() {
        println!("  HTTPS:    a certificate for {domain} is obtained automatically (ACME) when it starts");
    } else if !domain.is_empty() {
        println!("  HTTPS:    point your reverse proxy for {domain} at http://{listen}");
    }
    println!();
    println!("Start it:   sudo systemctl enable --now signpost-node");
    println!("Then sign in once with this link (valid 72 hours) and set a passphrase:");
    println!("  {base_url}/manage/sign-in/once/{link}");
    println!();
    println!("Make a backup from the Status page once you have published your groups.");
    Ok(())
}
