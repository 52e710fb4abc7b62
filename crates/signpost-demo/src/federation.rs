//! Builds and starts the demo federation.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Utc;
use signpost_aggregator::config::{AggregatorConfig, IssuerEntry, NodeEntry};
use signpost_aggregator::AggregatorServer;
use signpost_issuer::{Issuer, IssuerServer};
use signpost_node::config::NodeConfig;
use signpost_node::publisher::Publisher;
use signpost_node::NodeServer;
use signpost_protocol::sample;
use signpost_protocol::DidKey;
use signpost_store::Store;

const MARKER: &str = ".signpost-demo";

/// One fictional organisation: its name, home place (index into `sample::PLACES`) and the
/// kinds of group it runs.
pub struct OrgSpec {
    pub name: &'static str,
    pub home: usize,
    pub groups: &'static [&'static str],
    /// Achievements a training provider attests for it.
    pub trained: &'static [&'static str],
}

pub const ORGANISATIONS: &[OrgSpec] = &[
    OrgSpec {
        name: "Harehills Welcome Project",
        home: 1,
        groups: &[
            "Conversation Café",
            "ESOL Entry Level",
            "Women's Circle",
            "Lunch Club",
            "Digital Drop-in",
            "Football for All",
        ],
        trained: &["trauma-informed-practice", "safeguarding-adults"],
    },
    OrgSpec {
        name: "Bradford Sanctuary Circle",
        home: 6,
        groups: &[
            "Refugee Peer Support",
            "ESOL Entry Level",
            "Community Garden",
            "Women's Circle",
            "Cook and Share",
            "Conversation Café",
        ],
        trained: &["trauma-informed-practice"],
    },
    OrgSpec {
        name: "Calder Valley Walkers and Growers",
        home: 13,
        groups: &[
            "Walking Group",
            "Community Garden",
            "Men's Shed",
            "Wellbeing Group",
            "Walking Group",
        ],
        trained: &[],
    },
    OrgSpec {
        name: "Kirklees Conversation Network",
        home: 9,
        groups: &[
            "Conversation Café",
            "Conversation Café",
            "ESOL Entry Level",
            "Community Choir",
            "Family Stay and Play",
        ],
        // Attested, then revoked: the directory shows it as not verified.
        trained: &["trauma-informed-practice"],
    },
    OrgSpec {
        name: "Wakefield Together",
        home: 11,
        groups: &[
            "Lunch Club",
            "Family Stay and Play",
            "Wellbeing Group",
            "Digital Drop-in",
            "Refugee Peer Support",
        ],
        trained: &["safeguarding-adults"],
    },
    OrgSpec {
        name: "Chapeltown Women's Kitchen",
        home: 2,
        groups: &[
            "Women's Circle",
            "Cook and Share",
            "Wellbeing Group",
            "Community Choir",
        ],
        trained: &["trauma-informed-practice"],
    },
];

/// The organisation whose attestation the demo revokes.
const REVOKED_ORG: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("{0} exists and was not made by the demo; choose another --data folder")]
    NotDemoFolder(PathBuf),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("node: {0}")]
    Node(#[from] signpost_node::StartError),
    #[error("node: {0}")]
    Publish(#[from] signpost_node::NodeError),
    #[error("issuer: {0}")]
    Issuer(#[from] signpost_issuer::IssuerError),
    #[error("aggregator: {0}")]
    Aggregator(#[from] signpost_aggregator::StartError),
    #[error("store: {0}")]
    Store(#[from] signpost_store::StoreError),
}

pub struct DemoOptions {
    pub data_dir: PathBuf,
    /// The aggregator's address (`127.0.0.1:8080` by default).
    pub listen: String,
    /// Seconds between polls (push makes updates faster).
    pub crawl_interval_secs: u64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("signpost-demo-data"),
            listen: "127.0.0.1:8080".into(),
            crawl_interval_secs: 60,
        }
    }
}

/// A running organisation.
pub struct Org {
    pub name: String,
    pub id: DidKey,
    pub dir: PathBuf,
    pub server: NodeServer,
}

impl Org {
    pub fn url(&self) -> String {
        self.server.url()
    }
    pub fn admin_token(&self) -> String {
        std::fs::read_to_string(self.dir.join(signpost_node::config::ADMIN_TOKEN_FILE))
            .unwrap_or_default()
            .trim()
            .to_owned()
    }
}

/// The running demo federation.
pub struct Demo {
    pub data_dir: PathBuf,
    pub orgs: Vec<Org>,
    pub issuer: IssuerServer,
    pub issuer_id: DidKey,
    pub aggregator: AggregatorServer,
}

/// A free port, held by the returned listener until the server that will use it is about
/// to listen: a port given up at once could be taken meanwhile (an outgoing connection's
/// local port comes from the same range), and the nodes' signed documents name theirs.
fn reserve_port() -> std::io::Result<(u16, TcpListener)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok((listener.local_addr()?.port(), listener))
}

fn prepare(dir: &Path) -> Result<(), DemoError> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir)?.next().is_none();
        if !empty && !dir.join(MARKER).exists() {
            return Err(DemoError::NotDemoFolder(dir.to_owned()));
        }
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join(MARKER),
        "made by `signpost demo`; removed and rebuilt on each run\n",
    )?;
    Ok(())
}

impl Demo {
    /// Builds the federation from scratch in `options.data_dir` and starts it.
    pub async fn start(options: DemoOptions) -> Result<Self, DemoError> {
        let data = options.data_dir.clone();
        prepare(&data)?;
        let (agg_listen, agg_reserved) = if options.listen.ends_with(":0") {
            let (port, held) = reserve_port()?;
            (format!("127.0.0.1:{port}"), Some(held))
        } else {
            (options.listen.clone(), None)
        };
        let now = Utc::now();

        // The training provider.
        let issuer_dir = data.join("issuer");
        let mut issuer = Issuer::init(
            &issuer_dir,
            "Yorkshire Trauma-Informed Training Partnership",
        )?;
        let issuer_id = issuer.id();
        // `signpost issuer revoke` pushes the new list to the demo's directory at once.
        issuer.subscribe(&format!("http://{agg_listen}"))?;

        // The organisations: init, publish groups, import attestations, all before serving.
        let mut specs = Vec::new();
        for (i, spec) in ORGANISATIONS.iter().enumerate() {
            let dir = data.join(format!("node-{}", i + 1));
            let (port, held) = reserve_port()?;
            let report = signpost_node::init(&dir, spec.name, &format!("http://127.0.0.1:{port}"))?;
            let mut config = NodeConfig::load(&dir).map_err(signpost_node::StartError::from)?;
            config.push.subscribers = vec![format!("http://{agg_listen}/v1/ping")];
            std::fs::write(
                dir.join(signpost_node::config::CONFIG_FILE),
                config.to_toml().map_err(std::io::Error::other)?,
            )?;
            {
                let store = Store::open(&dir.join(signpost_node::config::STORE_DIR))?;
                let publisher = Publisher::open(
                    &dir,
                    store,
                    config.publishing.lifetime(),
                    config.limits.max_listings,
                )?;
                let mut names = std::collections::HashSet::new();
                for (j, kind) in spec.groups.iter().enumerate() {
                    let kind_index = sample::kinds().position(|k| k == *kind).unwrap_or(0);
                    let seed = (i as u64 + 1) * 1000 + j as u64;
                    let mut group = sample::group_of_kind(seed, kind_index, spec.home, now);
                    highlight(i, j, &mut group, now);
                    if !names.insert(group.name.clone()) {
                        let day = group
                            .schedule
                            .first()
                            .map(|s| s.day.as_str())
                            .unwrap_or("weekly");
                        group.name = format!("{} ({} group)", group.name, day_name(day));
                    }
                    publisher.import(group)?;
                }
                for achievement in spec.trained {
                    let att = issuer.attest(
                        report.id,
                        achievement,
                        Some("level 2".into()),
                        now - chrono::Duration::days(30),
                        now + chrono::Duration::days(365),
                    )?;
                    publisher.import_attestation(att.envelope().to_envelope())?;
                    if i == REVOKED_ORG {
                        issuer.revoke(&att.serial)?;
                    }
                }
            }
            specs.push((spec.name, report.id, dir, port, held));
        }

        let issuer_server = signpost_issuer::serve(&issuer_dir, "127.0.0.1:0").await?;
        let mut orgs = Vec::new();
        for (name, id, dir, port, held) in specs {
            drop(held);
            let server =
                signpost_node::start(&dir, &format!("127.0.0.1:{port}"), Default::default())
                    .await?;
            orgs.push(Org {
                name: name.to_owned(),
                id,
                dir,
                server,
            });
        }

        let mut config = AggregatorConfig {
            store_dir: data.join("aggregator").display().to_string(),
            nodes: orgs
                .iter()
                .map(|o| NodeEntry {
                    url: o.url(),
                    id: o.id,
                })
                .collect(),
            issuers: vec![IssuerEntry {
                id: issuer_id,
                name: "Yorkshire Trauma-Informed Training Partnership".into(),
                achievements: vec![
                    "trauma-informed-practice".into(),
                    "safeguarding-adults".into(),
                ],
                revocations_url: issuer_server.revocations_url(),
            }],
            ..AggregatorConfig::default()
        };
        config.crawl.interval_secs = options.crawl_interval_secs;
        config.api.public_url = format!("http://{agg_listen}");
        config.enrolment.admin_token_file =
            Some(data.join("aggregator-admin-token").display().to_string());
        // On disk, its paths are relative to the file (as a configuration's are read), so
        // `aggregator serve` and `aggregator enrolments` work with it from any folder.
        let on_disk = AggregatorConfig {
            store_dir: "aggregator".into(),
            enrolment: signpost_aggregator::config::Enrolment {
                admin_token_file: Some("aggregator-admin-token".into()),
                ..config.enrolment.clone()
            },
            ..config.clone()
        };
        std::fs::write(
            data.join("aggregator.toml"),
            on_disk.to_toml().map_err(std::io::Error::other)?,
        )?;
        drop(agg_reserved);
        let aggregator =
            signpost_aggregator::start(config, &agg_listen, Default::default()).await?;

        // Wait for the first crawl of every node (bounded).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while tokio::time::Instant::now() < deadline {
            if aggregator
                .state
                .health()
                .iter()
                .all(|h| h.status == signpost_protocol::wire::CrawlStatus::Healthy)
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(Self {
            data_dir: data,
            orgs,
            issuer: issuer_server,
            issuer_id,
            aggregator,
        })
    }

    pub fn listing_count(&self) -> usize {
        self.aggregator.state.index().listing_count()
    }

    /// What to print for a person trying the demo.
    pub fn banner(&self) -> String {
        let base = self.aggregator.url();
        let first = &self.orgs[0];
        let mut s = String::new();
        s.push_str(&format!(
            "Signpost demo federation: {} organisations, {} groups, 1 training provider, 1 aggregator.\n",
            self.orgs.len(),
            self.listing_count()
        ));
        s.push_str(&format!("Data folder: {}\n\n", self.data_dir.display()));
        s.push_str("For people:\n");
        s.push_str(&format!(
            "  Find a group:        {base}/find   (in Arabic: {base}/find?lang=ar)\n"
        ));
        s.push_str(&format!(
            "  Try it:              {base}/find?postcode=LS8+5AB&need=free&language=ar\n"
        ));
        s.push_str(&format!(
            "  A Link Worker's:     {base}/find?postcode=LS8&radius=25&safeguarding=torture-survivors&need=accepting\n"
        ));
        s.push_str(&format!("  Regulator's audit:   {base}/audit\n\n"));
        s.push_str("For charities (the node's own pages; works on a phone):\n");
        s.push_str(&format!("  {}:  {}/manage\n", first.name, first.url()));
        match signpost_node::pages::session::new_one_time_link(&first.dir) {
            Ok(link) => s.push_str(&format!(
                "  Sign in once with:   {}/manage/sign-in/once/{link}\n",
                first.url()
            )),
            Err(e) => s.push_str(&format!("  (no sign-in link: {e})\n")),
        }
        s.push_str(&format!(
            "  or with the admin token: {}\n\n",
            first.admin_token()
        ));
        s.push_str("For developers:\n");
        s.push_str(&format!("Directory API docs:  {base}/docs/\n"));
        s.push_str(&format!("OpenAPI document:    {base}/openapi.json\n"));
        s.push_str(&format!("Crawl health:        {base}/v1/nodes\n"));
        s.push_str(&format!("FHIR R4:             {base}/fhir/R4/metadata\n\n"));
        s.push_str("Try:\n");
        for (what, q) in [
            ("ESOL or conversation groups within 5 km of Harehills, accepting referrals, Arabic spoken, free", "/v1/groups?category=esol,conversation-cafe&near=53.8144,-1.5150&radius_km=5&accepting=true&language=ar&free=true"),
            ("groups whose organisation has verified trauma-informed training", "/v1/groups?verified_training=trauma-informed-practice"),
            ("women's groups with childcare that can hold survivors of gender-based violence", "/v1/groups?category=womens-group&childcare=true&safeguarding=gender-based-violence"),
            ("evening groups near Bradford that accept self-referral and never ask about status", "/v1/groups?near=53.7938,-1.7520&radius_km=10&evening=true&self_referral=true&no_status_check=true"),
            ("text search, accents and case folded", "/v1/groups?text=cafe"),
            ("the regulator's audit of the training provider", &format!("/v1/issuers/{}/attestations", self.issuer_id)),
        ] {
            s.push_str(&format!("  # {what}\n  curl -s '{base}{q}'\n"));
        }
        s.push_str(&format!(
            "\nChange capacity at a node (pushed to the aggregator within a second):\n  curl -s -X PATCH -H 'Authorization: Bearer {}' -H 'Content-Type: application/json' \\\n    -d '{{\"accepting_referrals\": false}}' {}/admin/listings/<id>/capacity\n",
            first.admin_token(),
            first.url()
        ));
        s.push_str(&format!(
            "  (ids: curl -s -H 'Authorization: Bearer {}' {}/admin/listings)\n",
            first.admin_token(),
            first.url()
        ));
        s.push_str("\nNodes:\n");
        for o in &self.orgs {
            s.push_str(&format!("  {:<36} {}  {}\n", o.name, o.url(), o.id));
        }
        s.push_str(&format!(
            "Issuer revocation list: {}\n\nCtrl-C stops everything.\n",
            self.issuer.revocations_url()
        ));
        s
    }

    /// Stops every server.
    pub async fn stop(self) {
        self.aggregator.stop().await;
        for o in self.orgs {
            o.server.stop().await;
        }
        self.issuer.stop().await;
    }
}

/// Makes a few groups match the example queries the banner prints, whatever the generator
/// drew for them.
fn highlight(
    org: usize,
    group: usize,
    g: &mut signpost_protocol::model::Group,
    now: chrono::DateTime<Utc>,
) {
    use signpost_protocol::model::{Interpreting, Session, TimeOfDay, Weekday};
    if org == 0 && group <= 1 {
        // Harehills Conversation Café and ESOL: free, Arabic spoken, taking referrals, and
        // people can refer themselves (the FHIR example search finds them).
        g.languages = vec!["en".into(), "ar".into(), "ku".into(), "ti".into()];
        g.access.self_referral = true;
        g.capacity.accepting_referrals = true;
        g.capacity.places_available = Some(6 - group as u32 * 3);
        g.capacity.updated_at = now - chrono::Duration::days(1);
        g.access.cost.free = true;
        g.access.cost.amount_pence = None;
        g.access.cost.details = None;
        g.access.interpreting = Interpreting::Volunteer;
        g.safeguarding.designated_lead = true;
        g.safeguarding.capabilities =
            vec!["torture-survivors".into(), "trafficking-survivors".into()];
        g.schedule = vec![Session {
            day: Weekday::Tue,
            opens: TimeOfDay::clamped(18 * 60),
            closes: TimeOfDay::clamped(20 * 60),
            frequency: Default::default(),
        }];
    }
    if org == 1 && group == 0 {
        // Bradford refugee peer support: evening, self-referral, never asks about status.
        g.access.self_referral = true;
        g.access.immigration_status_asked = false;
        g.capacity.accepting_referrals = true;
        g.capacity.places_available = Some(4);
        g.capacity.updated_at = now - chrono::Duration::days(2);
        g.schedule = vec![Session {
            day: Weekday::Thu,
            opens: TimeOfDay::clamped(18 * 60 + 30),
            closes: TimeOfDay::clamped(20 * 60 + 30),
            frequency: Default::default(),
        }];
    }
    if org == 4 && group == 3 {
        // Wakefield's digital drop-in runs online only: a listing without a location.
        g.location = None;
        g.online = true;
        g.name = "Wakefield Digital Drop-in (online)".into();
    }
    if org == 5 && group == 0 {
        // Chapeltown Women's Circle: childcare, holds survivors of gender-based violence.
        g.access.childcare = true;
        g.safeguarding.designated_lead = true;
        g.safeguarding.capabilities = vec!["gender-based-violence".into(), "domestic-abuse".into()];
    }
}

fn day_name(d: &str) -> &'static str {
    match d {
        "mon" => "Monday",
        "tue" => "Tuesday",
        "wed" => "Wednesday",
        "thu" => "Thursday",
        "fri" => "Friday",
        "sat" => "Saturday",
        _ => "Sunday",
    }
}
