//! Automatic HTTPS against Pebble, the ACME test server (Debian package `pebble`), on
//! loopback: the node obtains a certificate itself (TLS-ALPN-01 on its own port), serves it to
//! a client that trusts Pebble's root, renews it near expiry while it keeps serving, and
//! when the ACME server fails keeps the certificate it has and says why.
//!
//! Needs `/usr/bin/pebble`: run by `.ci/acme`, which installs it
//! (`cargo test -p signpost-tests --test e2e acme -- --ignored`).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Pebble {
    child: Child,
    directory: String,
    management: String,
}

impl Drop for Pebble {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Pebble on loopback with its own HTTPS certificate (from a CA made here), validating
/// TLS-ALPN-01 challenges on `tls_port`, issuing certificates valid for `validity` seconds.
fn pebble(dir: &std::path::Path, tls_port: u16, validity: u64) -> (Pebble, rcgen::Certificate) {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let params =
        rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
    let cert = params.signed_by(&key, &issuer).unwrap();
    std::fs::write(dir.join("pebble-cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("pebble-key.pem"), key.serialize_pem()).unwrap();
    let (listen, manage) = (free_port(), free_port());
    let config = serde_json::json!({"pebble": {
        "listenAddress": format!("127.0.0.1:{listen}"),
        "managementListenAddress": format!("127.0.0.1:{manage}"),
        "certificate": dir.join("pebble-cert.pem"),
        "privateKey": dir.join("pebble-key.pem"),
        "httpPort": free_port(),
        "tlsPort": tls_port,
        "ocspResponderURL": "",
        "externalAccountBindingRequired": false,
        "certificateValidityPeriod": validity,
    }});
    std::fs::write(dir.join("pebble.json"), config.to_string()).unwrap();
    let child = Command::new("pebble")
        .args(["-config", dir.join("pebble.json").to_str().unwrap()])
        .env("PEBBLE_VA_NOSLEEP", "1")
        .env("PEBBLE_WFE_NONCEREJECT", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("pebble is installed (apt-get install pebble)");
    let pebble = Pebble {
        child,
        directory: format!("https://127.0.0.1:{listen}/dir"),
        management: format!("https://127.0.0.1:{manage}"),
    };
    (pebble, ca)
}

async fn wait_up(client: &reqwest::Client, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while client.get(url).send().await.is_err() {
        assert!(Instant::now() < deadline, "{url} never answered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
#[ignore = "needs Debian's pebble: run by .ci/acme"]
async fn acme_certificates_are_obtained_served_renewed_and_kept_when_the_server_fails() {
    let work = tempfile::tempdir().unwrap();
    let port = free_port();
    let (pebble, pebble_ca) = pebble(work.path(), port, 20);
    std::fs::write(work.path().join("pebble-ca.pem"), pebble_ca.pem()).unwrap();
    let ca_client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pebble_ca.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    wait_up(&ca_client, &pebble.directory).await;

    let node_dir = work.path().join("node");
    let base = format!("https://localhost:{port}");
    let report = signpost_node::init(&node_dir, "Automatic HTTPS Charity", &base).unwrap();
    let token = std::fs::read_to_string(&report.admin_token_path).unwrap();
    signpost_tests::edit_config(&node_dir, |c| {
        let mut tls =
            signpost_node::config::Tls::acme("localhost", "ops@example.org", &pebble.directory);
        if let Some(a) = &mut tls.acme {
            a.directory_ca_file = Some(work.path().join("pebble-ca.pem"));
        }
        c.tls = Some(tls);
    });
    let server = signpost_node::start(&node_dir, &format!("127.0.0.1:{port}"), Default::default())
        .await
        .unwrap();
    let status = server.acme.clone().unwrap();

    // A client that trusts Pebble's issuing root (from its management interface).
    let root = ca_client
        .get(format!("{}/roots/0", pebble.management))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(root.as_bytes()).unwrap())
        .resolve("localhost", format!("127.0.0.1:{port}").parse().unwrap())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let health = format!("{base}/healthz");
    wait_up(&client, &health).await;
    assert_eq!(client.get(&health).send().await.unwrap().status(), 200);
    let first = status.snapshot();
    assert!(
        first.deployed_at.is_some() && first.issued >= 1,
        "{first:?}"
    );
    // Kept with the node's secrets, 0600.
    use std::os::unix::fs::PermissionsExt as _;
    for e in std::fs::read_dir(node_dir.join("acme")).unwrap() {
        let mode = e.unwrap().metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    // Renewed at two thirds of its 20 s life, while requests keep being answered.
    let deadline = Instant::now() + Duration::from_secs(30);
    while status.snapshot().issued < first.issued + 1 {
        assert!(
            Instant::now() < deadline,
            "renewed: {:?}",
            status.snapshot()
        );
        let resp = client.get(&health).send().await;
        assert!(
            resp.is_ok_and(|r| r.status() == 200),
            "served through renewal"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // An aggregator that trusts that root crawls the node over HTTPS.
    std::fs::write(work.path().join("pebble-root.pem"), &root).unwrap();
    server
        .publisher
        .create(signpost_tests::sample_group(41))
        .unwrap();
    let agg = signpost_tests::aggregator::TestAggregator::manual(
        &[(base.clone(), server.publisher.node_id())],
        |c| {
            c.crawl.extra_roots_file =
                Some(work.path().join("pebble-root.pem").display().to_string())
        },
    )
    .await;
    agg.crawl().await;
    assert_eq!(
        agg.names("").await.len(),
        1,
        "{:?}",
        agg.node_health(&server.publisher.node_id()).await
    );

    // The ACME server fails: the next renewal fails, the certificate in use stays, and the
    // node says why.
    drop(pebble);
    let deadline = Instant::now() + Duration::from_secs(30);
    while status.snapshot().last_error.is_none() {
        assert!(
            Instant::now() < deadline,
            "the failure is recorded: {:?}",
            status.snapshot()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        client.get(&health).send().await.unwrap().status(),
        200,
        "the old certificate is still served"
    );
    // The volunteer's status page says so, in words, and so does the log.
    let pages = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(root.as_bytes()).unwrap())
        .resolve("localhost", format!("127.0.0.1:{port}").parse().unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let page = signpost_tests::signed_in_page(&pages, &base, token.trim(), "/manage/status").await;
    let problem = page
        .split("The last attempt to get or renew it failed")
        .nth(1)
        .unwrap_or_else(|| panic!("the status page names the certificate problem: {page}"));
    let problem = &problem[..problem.find("</").unwrap_or(problem.len())];
    eprintln!("status page: the last attempt failed{problem}");
    assert!(
        problem.contains("current certificate stays in use"),
        "{problem}"
    );
    assert!(
        problem.contains("could not reach the certificate authority")
            && problem.contains("internet connection"),
        "the reason in words: {problem}"
    );
    server.stop().await;
}
