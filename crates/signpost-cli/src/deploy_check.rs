//! CI check of `deploy/`: every file parses, every `signpost` command it runs parses with
//! this binary's own argument parser, and every port it listens on is one the file
//! declares (and the binary's default ports are exposed by the image).

use std::path::{Path, PathBuf};

use clap::Parser as _;
use yaml_rust2::{Yaml, YamlLoader};

use crate::Cli;

fn deploy() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(deploy().join(rel)).unwrap_or_else(|e| panic!("deploy/{rel}: {e}"))
}

/// Parses a command line with the real parser; returns the port of `--listen`, if any.
fn check_command(file: &str, args: &[String]) -> Option<u16> {
    let mut argv = vec!["signpost".to_owned()];
    argv.extend(args.iter().cloned());
    if let Err(e) = Cli::try_parse_from(&argv) {
        panic!("deploy/{file}: `{}` does not parse: {e}", argv.join(" "));
    }
    let listen = args
        .iter()
        .position(|a| a == "--listen")
        .and_then(|i| args.get(i + 1))?;
    let port = listen.rsplit(':').next().and_then(|p| p.parse().ok());
    assert!(
        port.is_some(),
        "deploy/{file}: --listen {listen} has no port"
    );
    port
}

fn strings(y: &Yaml) -> Vec<String> {
    y.as_vec()
        .map(|v| {
            v.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn ports(y: &Yaml) -> Vec<u16> {
    y.as_vec()
        .map(|v| {
            v.iter()
                .filter_map(|p| match p {
                    Yaml::String(s) => s.rsplit(':').next().and_then(|p| p.parse().ok()),
                    Yaml::Integer(i) => u16::try_from(*i).ok(),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn compose_commands_and_ports_match_the_binary() {
    let docs =
        YamlLoader::load_from_str(&read("compose/compose.yaml")).expect("compose.yaml parses");
    let services = docs[0]["services"].as_hash().expect("services");
    let mut checked = 0;
    for (name, svc) in services {
        let command = strings(&svc["command"]);
        if command.is_empty() {
            continue;
        }
        let declared: Vec<u16> = ports(&svc["expose"])
            .into_iter()
            .chain(ports(&svc["ports"]))
            .collect();
        if let Some(port) = check_command("compose/compose.yaml", &command) {
            assert!(
                declared.contains(&port),
                "service {:?} listens on {port} but declares {declared:?}",
                name.as_str()
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 5, "three nodes, an issuer and an aggregator");
}

#[test]
fn kubernetes_commands_ports_and_probes_match_the_binary() {
    let docs =
        YamlLoader::load_from_str(&read("kubernetes/signpost.yaml")).expect("signpost.yaml parses");
    let mut containers = 0;
    for doc in &docs {
        if doc["kind"].as_str() == Some("ConfigMap") {
            for (key, value) in doc["data"].as_hash().into_iter().flatten() {
                let text = value.as_str().unwrap_or_default();
                let parsed: Result<signpost_aggregator::AggregatorConfig, _> = toml::from_str(text);
                assert!(
                    parsed.is_ok(),
                    "ConfigMap {:?} is not a valid aggregator config: {:?}",
                    key.as_str(),
                    parsed.err()
                );
            }
        }
        for c in doc["spec"]["template"]["spec"]["containers"]
            .as_vec()
            .into_iter()
            .flatten()
        {
            let declared: Vec<u16> = c["ports"]
                .as_vec()
                .into_iter()
                .flatten()
                .filter_map(|p| {
                    p["containerPort"]
                        .as_i64()
                        .and_then(|i| u16::try_from(i).ok())
                })
                .collect();
            let port =
                check_command("kubernetes/signpost.yaml", &strings(&c["args"])).expect("--listen");
            assert!(
                declared.contains(&port),
                "listens on {port}, declares {declared:?}"
            );
            for probe in ["readinessProbe", "livenessProbe"] {
                assert_eq!(c[probe]["httpGet"]["path"].as_str(), Some("/healthz"));
                assert_eq!(
                    c[probe]["httpGet"]["port"].as_i64(),
                    Some(i64::from(port)),
                    "{probe} port"
                );
            }
            containers += 1;
        }
    }
    assert_eq!(containers, 2, "a primary and the mirrors");
}

#[test]
fn dockerfile_and_systemd_units_match_the_binary() {
    let dockerfile = read("Dockerfile");
    let exposed: Vec<u16> = dockerfile
        .lines()
        .filter_map(|l| l.strip_prefix("EXPOSE "))
        .flat_map(|l| l.split_whitespace().filter_map(|p| p.parse().ok()))
        .collect();
    // The binary's default ports: aggregator, node, issuer.
    for (args, default) in [
        (["aggregator", "serve", "--config", "x"], 8080u16),
        (["node", "serve", "--dir", "x"], 8081),
        (["issuer", "serve", "--dir", "x"], 8090),
    ] {
        let cli = Cli::try_parse_from(std::iter::once("signpost").chain(args)).expect("parses");
        assert_eq!(crate::default_listen_port(&cli), Some(default));
        assert!(
            exposed.contains(&default),
            "Dockerfile EXPOSE lacks {default}"
        );
    }
    let cmd = dockerfile
        .lines()
        .find_map(|l| l.strip_prefix("CMD "))
        .expect("CMD");
    let cmd: Vec<String> = serde_json::from_str(cmd).expect("CMD is a JSON array");
    let port = check_command("Dockerfile", &cmd).expect("--listen");
    assert!(exposed.contains(&port));

    for unit in [
        "systemd/signpost-node.service",
        "systemd/signpost-aggregator.service",
    ] {
        let text = read(unit);
        assert!(
            text.contains("[Service]") && text.contains("[Install]"),
            "{unit} sections"
        );
        for required in [
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "CapabilityBoundingSet=",
        ] {
            assert!(text.contains(required), "{unit} lacks {required}");
        }
        let exec = text
            .lines()
            .find_map(|l| l.strip_prefix("ExecStart="))
            .expect("ExecStart");
        let mut words = exec.split_whitespace();
        assert_eq!(words.next(), Some("/usr/local/bin/signpost"));
        check_command(unit, &words.map(str::to_owned).collect::<Vec<_>>());
    }

    let bootstrap = read("compose/bootstrap.sh");
    let mut found = 0;
    for line in bootstrap
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("signpost "))
    {
        let words = shlex::split(&line.replace("$n", "1")).expect("shell words");
        let args: Vec<String> = words.into_iter().skip(1).collect();
        check_command("compose/bootstrap.sh", &args);
        found += 1;
    }
    assert!(found >= 2);
}
