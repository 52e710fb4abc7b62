//! `/fhir/R4` as a FHIR client meets it: a search for Arabic-speaking groups near a postcode
//! in one request, a 304 the second time, HEAD, 405, unknown parameters refused unless
//! lenient, OperationOutcome errors, and a Provenance whose signature verifies with the
//! organisation's own keys. (Every response's validity against the R4 definitions is checked
//! by `tests/fhir/validate.js` in CI.)

use base64::Engine as _;
use serde_json::Value;
use signpost_aggregator::oruk::vocab::service_id;
use signpost_protocol::{Envelope, Listing, Verified};
use signpost_tests::aggregator::TestAggregator;
use signpost_tests::{sample_group, Forge, MockNode, TestNode};

async fn setup() -> (TestNode, TestAggregator, uuid::Uuid, uuid::Uuid) {
    let node = TestNode::start().await;
    let mut arabic = sample_group(21);
    arabic.name = "Leeds Arabic Conversation".into();
    arabic.languages = vec!["ar-SY".into(), "en".into()];
    arabic.location = Some(signpost_protocol::model::Location {
        lat: 53.8229,
        lon: -1.5092,
        address: Some("Community Hall".into()),
        postcode: Some("LS8 5AB".into()),
    });
    let arabic = node.create(&arabic).await;
    let mut other = sample_group(22);
    other.name = "Leeds Polish Club".into();
    other.languages = vec!["pl".into()];
    let other = node.create(&other).await;
    let agg = TestAggregator::manual(&[node.entry()], |_| {}).await;
    agg.crawl().await;
    (node, agg, arabic, other)
}

fn fhir_url(agg: &TestAggregator, path: &str) -> String {
    format!("{}/fhir/R4{path}", agg.url)
}

#[tokio::test]
async fn a_fhir_client_searches_caches_and_gets_operation_outcomes() {
    let (node, agg, arabic, _) = setup().await;
    let http = signpost_tests::client();
    let url = fhir_url(
        &agg,
        "/HealthcareService?language=ar&postcode=LS8%205AB&distance=5&_include=HealthcareService:location",
    );
    let resp = http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/fhir+json"));
    let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    assert!(resp.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("stale-if-error"));
    let bundle: Value = resp.json().await.unwrap();
    assert_eq!(bundle["type"], "searchset");
    assert_eq!(
        bundle["total"], 1,
        "ar finds the ar-SY speakers only: {bundle}"
    );
    let entries = bundle["entry"].as_array().unwrap();
    let service = service_id(&node.id.to_string(), &arabic);
    assert_eq!(entries[0]["resource"]["id"], service.to_string());
    assert_eq!(
        entries[0]["resource"]["identifier"][0]["value"],
        format!("{}/{arabic}", node.id),
        "the listing's own node and id stay an identifier"
    );
    assert_eq!(entries[1]["resource"]["resourceType"], "Location");
    assert_eq!(entries[1]["search"]["mode"], "include");

    // The same request again: 304.
    let again = http
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    // Venues near a point, the distance in metres, however small.
    for (distance, venues) in [("300", 1), ("5e-324", 1)] {
        let url = fhir_url(
            &agg,
            &format!("/Location?near=53.8229|-1.5092|{distance}|m"),
        );
        let found: Value = http.get(url).send().await.unwrap().json().await.unwrap();
        assert_eq!(found["resourceType"], "Bundle", "{distance} m: {found}");
        assert_eq!(found["total"], venues, "{distance} m: {found}");
    }
    // A distance as a FHIR quantity, in miles too (3.2 miles is 5.15 km).
    for distance in [
        "5|km",
        "5||km",
        "5000|http://unitsofmeasure.org|m",
        "3.2|http://unitsofmeasure.org|%5Bmi_i%5D",
    ] {
        let url = fhir_url(
            &agg,
            &format!("/HealthcareService?language=ar&postcode=LS8%205AB&distance={distance}"),
        );
        let found: Value = http.get(url).send().await.unwrap().json().await.unwrap();
        assert_eq!(found["total"], 1, "{distance}: {found}");
    }
    for (distance, says) in [
        (
            "5|http://unitsofmeasure.org|furlong",
            "distance units must be km, m or [mi_i] (miles), not \"furlong\"",
        ),
        ("5|http://example.org|km", "units must be UCUM's"),
        ("five|km", "\"five\" is not a number"),
    ] {
        let url = fhir_url(
            &agg,
            &format!("/HealthcareService?postcode=LS8%205AB&distance={distance}"),
        );
        let outcome = refused(http.get(url).send().await.unwrap()).await;
        let found = issues(&outcome, |i| &i["diagnostics"]);
        assert_eq!(found.len(), 1, "{outcome}");
        assert_eq!(found[0].0, "distance", "{outcome}");
        assert!(found[0].1.contains(says), "{distance}: {outcome}");
    }
    // A distance with nothing to measure it from is told what FHIR's search takes, not the
    // directory API's own parameters.
    for resource in ["HealthcareService", "Location"] {
        let url = fhir_url(&agg, &format!("/{resource}?distance=5"));
        let outcome = refused(http.get(url).send().await.unwrap()).await;
        let found = issues(&outcome, |i| &i["diagnostics"]);
        assert_eq!(found.len(), 1, "{outcome}");
        assert_eq!(found[0].0, "distance", "{outcome}");
        assert_eq!(found[0].1, "distance: needs a postcode too", "{outcome}");
        assert!(!found[0].1.contains("radius_km"), "{outcome}");
    }
    // HEAD answers, a wrong method is a 405 with Allow.
    assert_eq!(http.head(&url).send().await.unwrap().status(), 200);
    let post = http.post(&url).send().await.unwrap();
    assert_eq!(post.status(), 405);
    assert!(post.headers()["allow"].to_str().unwrap().contains("GET"));

    // Unknown parameters: an OperationOutcome naming it, unless the client is lenient.
    let bad = http
        .get(fhir_url(&agg, "/HealthcareService?colour=blue"))
        .send()
        .await
        .unwrap();
    let outcome = refused(bad).await;
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    assert_eq!(outcome["issue"][0]["code"], "not-supported");
    assert_eq!(
        outcome["issue"][0]["details"]["coding"][0]["code"],
        "unknown_parameter"
    );
    assert!(outcome["issue"][0]["diagnostics"]
        .as_str()
        .unwrap()
        .contains("colour"));
    // Several wrong parameters: an issue for each, with its own code.
    let bad = http
        .get(fhir_url(
            &agg,
            "/HealthcareService?_count=abc&active=maybe&characteristic=nope&language=!!&distance=500&postcode=LS8&text=tea",
        ))
        .send()
        .await
        .unwrap();
    let outcome = refused(bad).await;
    let found = issues(&outcome, |i| &i["details"]["coding"][0]["code"]);
    assert_eq!(
        found,
        [
            ("text", "unknown_parameter"),
            ("_count", "invalid_parameter"),
            ("active", "invalid_parameter"),
            ("characteristic", "invalid_parameter"),
            ("language", "invalid_language"),
            ("distance", "invalid_radius"),
        ],
        "{outcome}"
    );
    // Includes the search does not serve: each named, with what is served instead.
    let bad = http
        .get(fhir_url(
            &agg,
            "/HealthcareService?_include=HealthcareService:endpoint&_revinclude=Provenance:nothing",
        ))
        .send()
        .await
        .unwrap();
    let outcome = refused(bad).await;
    let found = issues(&outcome, |i| &i["diagnostics"]);
    assert_eq!(found.len(), 2, "{outcome}");
    assert_eq!(found[0].0, "_include");
    assert!(
        found[0]
            .1
            .contains("HealthcareService:endpoint is not supported")
            && found[0].1.contains("HealthcareService:location"),
        "{outcome}"
    );
    assert_eq!(found[1].0, "_revinclude");
    assert!(found[1].1.contains("Provenance:nothing"), "{outcome}");
    let lenient = http
        .get(fhir_url(&agg, "/HealthcareService?colour=blue"))
        .header("prefer", "handling=lenient")
        .send()
        .await
        .unwrap();
    assert_eq!(lenient.status(), 200);
    let missing = http
        .get(fhir_url(&agg, "/HealthcareService/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    // Paging: next and previous links that work.
    let page1: Value = http
        .get(fhir_url(&agg, "/HealthcareService?_count=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page1["total"], 2);
    let next = page1["link"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["relation"] == "next")
        .unwrap()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let page2: Value = http.get(&next).send().await.unwrap().json().await.unwrap();
    assert_ne!(
        page1["entry"][0]["resource"]["id"],
        page2["entry"][0]["resource"]["id"]
    );
    assert!(page2["link"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["relation"] == "previous"));
}

#[tokio::test]
async fn a_provenance_carries_the_signed_envelope_a_client_can_verify() {
    let (node, agg, arabic, _) = setup().await;
    let http = signpost_tests::client();
    let prov: Value = http
        .get(fhir_url(
            &agg,
            &format!(
                "/Provenance?target=HealthcareService/{}",
                service_id(&node.id.to_string(), &arabic)
            ),
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sig = &prov["entry"][0]["resource"]["signature"][0];
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(sig["data"].as_str().unwrap())
        .unwrap();
    let envelope: Envelope = serde_json::from_slice(&bytes).unwrap();
    // Keys from the organisation's own chain, not from the directory.
    let doc = node.node_document().await;
    let listing = Verified::<Listing>::verify(envelope, &doc.signing_verifying_keys()).unwrap();
    assert_eq!(listing.id, arabic);
    let service: Value = http
        .get(fhir_url(
            &agg,
            &format!(
                "/HealthcareService/{}",
                service_id(&node.id.to_string(), &arabic)
            ),
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(service["name"], listing.group.name.as_str());
    assert_eq!(
        service["providedBy"]["reference"],
        format!(
            "Organization/{}",
            node.id.to_string().trim_start_matches("did:key:")
        )
    );
}

#[tokio::test]
async fn an_organisation_that_takes_anothers_listing_id_is_never_read_as_it() {
    let (node, _, arabic, _) = setup().await;
    // Another organisation signs a listing of its own under the same listing id.
    let mut forge = Forge::new("Copycat Org");
    let mut copy = sample_group(23);
    copy.name = "Copycat Conversation".into();
    forge.put(forge.listing(arabic, 1, copy));
    let mock = MockNode::start().await;
    let snapshot = forge.snapshot();
    mock.publish(&forge, &snapshot);
    let agg = TestAggregator::manual(&[node.entry(), forge.entry(&mock.url)], |_| {}).await;
    agg.crawl().await;
    let http = signpost_tests::client();
    let get = |path: String| {
        let http = http.clone();
        let url = format!("{}{path}", agg.url);
        async move {
            let resp = http.get(&url).send().await.unwrap();
            assert_eq!(resp.status(), 200, "{url}");
            resp.json::<Value>().await.unwrap()
        }
    };
    let real = service_id(&node.id.to_string(), &arabic);
    let copied = service_id(&forge.id.to_string(), &arabic);
    assert_ne!(real, copied);
    // Each id reads its own organisation's group, in FHIR and in Open Referral UK.
    for (id, name) in [
        (real, "Leeds Arabic Conversation"),
        (copied, "Copycat Conversation"),
    ] {
        let service = get(format!("/fhir/R4/HealthcareService/{id}")).await;
        assert_eq!(service["name"], name);
        let service = get(format!("/oruk/services/{id}")).await;
        assert_eq!(service["name"], name);
        let provenance = get(format!("/fhir/R4/Provenance/prov-{id}")).await;
        assert_eq!(
            provenance["target"][0]["reference"],
            format!("HealthcareService/{id}")
        );
    }
    // `_id` finds the one named, not every listing that took its listing id.
    let found = get(format!("/fhir/R4/HealthcareService?_id={real}")).await;
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(
        found["entry"][0]["resource"]["name"],
        "Leeds Arabic Conversation"
    );
    let found = get(format!("/fhir/R4/Location?_id=loc-{real}")).await;
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(found["entry"][0]["resource"]["id"], format!("loc-{real}"));
    // A service's id does not name its service_at_location, nor the other way round.
    let at_location =
        signpost_aggregator::oruk::vocab::service_at_location_id(&node.id.to_string(), &arabic);
    for path in [
        format!("/oruk/service_at_locations/{real}"),
        format!("/fhir/R4/HealthcareService/{at_location}"),
    ] {
        let resp = http.get(format!("{}{path}", agg.url)).send().await.unwrap();
        assert_eq!(resp.status(), 404, "{path}");
    }
    let found = get(format!("/oruk/service_at_locations/{at_location}")).await;
    assert_eq!(found["name"], "Leeds Arabic Conversation");
    // An id this directory never gave: not found, said in words.
    let resp = http
        .get(format!(
            "{}/oruk/services/{}",
            agg.url,
            uuid::Uuid::new_v4()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let problem: Value = resp.json().await.unwrap();
    assert_eq!(problem["code"], "group_not_found");
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .ends_with("in this directory"));
    mock.stop().await;
}

/// A refused search's OperationOutcome (400).
async fn refused(resp: reqwest::Response) -> Value {
    assert_eq!(resp.status(), 400);
    resp.json().await.unwrap()
}

/// Each issue of an OperationOutcome as (its expression, what `part` picks of it).
fn issues<'a>(
    outcome: &'a Value,
    part: impl Fn(&'a Value) -> &'a Value,
) -> Vec<(&'a str, &'a str)> {
    outcome["issue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["expression"][0].as_str().unwrap(),
                part(i).as_str().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn lookups_by_id_follow_what_organisations_publish_and_withdraw() {
    let (node, agg, arabic, polish) = setup().await;
    let http = signpost_tests::client();
    let status = |path: String| {
        let http = http.clone();
        let url = format!("{}{path}", agg.url);
        async move { http.get(&url).send().await.unwrap().status().as_u16() }
    };
    let id = |listing| service_id(&node.id.to_string(), &listing);
    // Looked up once (which maps every id the directory gives)...
    assert_eq!(status(format!("/oruk/services/{}", id(arabic))).await, 200);
    assert_eq!(
        status(format!("/fhir/R4/HealthcareService/{}", id(polish))).await,
        200
    );
    // ...then a group is published and another withdrawn.
    let mut new = sample_group(24);
    new.name = "Leeds Tigrinya Women".into();
    let new = node.create(&new).await;
    node.admin_client().delete(polish).await.unwrap();
    agg.crawl().await;
    for (listing, expected) in [(new, 200), (polish, 404), (arabic, 200)] {
        for path in [
            format!("/oruk/services/{}", id(listing)),
            format!("/fhir/R4/HealthcareService/{}", id(listing)),
        ] {
            assert_eq!(status(path.clone()).await, expected, "{path}");
        }
    }
    let found = signpost_tests::get_json(&format!(
        "{}/fhir/R4/HealthcareService?_id={},{}",
        agg.url,
        id(new),
        id(polish)
    ))
    .await;
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(
        found["entry"][0]["resource"]["name"],
        "Leeds Tigrinya Women"
    );
}

/// A GP system asks for services that can safely support a survivor of torture, or whose
/// staff have enhanced DBS checks, as `characteristic` codes of the directory's own
/// CodeSystems: the same groups as the directory API's `safeguarding=`, each saying so.
#[tokio::test]
async fn a_gp_system_finds_services_by_whom_they_can_safely_support() {
    let node = TestNode::start().await;
    let mut both = sample_group(31);
    both.name = "Survivors' Walking Group".into();
    both.safeguarding.capabilities =
        vec!["torture-survivors".into(), "trafficking-survivors".into()];
    both.safeguarding.staff_checks = vec!["enhanced-dbs".into()];
    let mut gbv = sample_group(32);
    gbv.name = "Women's Circle".into();
    gbv.safeguarding.capabilities = vec!["gender-based-violence".into()];
    gbv.safeguarding.staff_checks = Vec::new();
    let mut neither = sample_group(33);
    neither.name = "Open Allotment".into();
    neither.safeguarding.capabilities = Vec::new();
    neither.safeguarding.staff_checks = Vec::new();
    for g in [&both, &gbv, &neither] {
        node.create(g).await;
    }
    let agg = TestAggregator::manual(&[node.entry()], |_| {}).await;
    agg.crawl().await;
    let http = signpost_tests::client();
    let names = |query: &str| {
        let url = fhir_url(&agg, &format!("/HealthcareService?{query}"));
        let http = http.clone();
        async move {
            let bundle: Value = http.get(&url).send().await.unwrap().json().await.unwrap();
            let mut names: Vec<String> = bundle["entry"]
                .as_array()
                .unwrap_or(&Vec::new())
                .iter()
                .map(|e| {
                    e["resource"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect();
            names.sort();
            (names, bundle)
        }
    };
    let system = fhir_url(&agg, "/CodeSystem/signpost-safeguarding");
    let (found, bundle) = names("characteristic=torture-survivors").await;
    assert_eq!(found, ["Survivors' Walking Group"], "{bundle}");
    let api = agg.groups("safeguarding=torture-survivors").await;
    assert_eq!(api.contents.len(), 1);
    // The coding says whom it can support, from which CodeSystem, in words.
    let codings: Vec<&Value> = bundle["entry"][0]["resource"]["characteristic"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["coding"][0])
        .collect();
    let torture = codings
        .iter()
        .find(|c| c["code"] == "torture-survivors")
        .expect("a torture-survivors characteristic");
    assert_eq!(torture["system"], system.as_str());
    assert_eq!(torture["display"], "Survivors of torture");
    assert!(codings.iter().any(|c| c["code"] == "enhanced-dbs"
        && c["system"]
            .as_str()
            .unwrap_or("")
            .ends_with("/CodeSystem/signpost-staff-checks")));
    // As system|code, any of two (comma), and all of two (repeated).
    assert_eq!(
        names(&format!("characteristic={system}|torture-survivors"))
            .await
            .0,
        ["Survivors' Walking Group"]
    );
    assert_eq!(
        names("characteristic=torture-survivors,gender-based-violence")
            .await
            .0,
        ["Survivors' Walking Group", "Women's Circle"]
    );
    assert_eq!(
        names("characteristic=trafficking-survivors&characteristic=enhanced-dbs")
            .await
            .0,
        ["Survivors' Walking Group"]
    );
    assert!(
        names("characteristic=gender-based-violence&characteristic=enhanced-dbs")
            .await
            .0
            .is_empty()
    );
    // A code of another system, or another system's URL, is named in the outcome.
    for (query, says) in [
        (
            "characteristic=torture",
            "\"torture\" is not a code of the signpost-access, signpost-safeguarding, signpost-staff-checks CodeSystems",
        ),
        (
            "characteristic=http://example.org/cs|torture-survivors",
            "\"http://example.org/cs\" is not one of the CodeSystems characteristic takes",
        ),
        (
            "characteristic=http://x/CodeSystem/signpost-access|torture-survivors",
            "\"torture-survivors\" is not a code of the signpost-access CodeSystem",
        ),
    ] {
        let outcome = refused(http.get(fhir_url(&agg, &format!("/HealthcareService?{query}"))).send().await.unwrap()).await;
        let found = issues(&outcome, |i| &i["diagnostics"]);
        assert_eq!(found.len(), 1, "{outcome}");
        assert!(found[0].1.contains(says), "{query}: {outcome}");
    }
}
