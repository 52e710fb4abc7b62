//! Open Referral UK over the verified index: the same groups, stable ids, verification
//! carried along. (Schema validation against the UK profile runs in `.ci/oruk`.)

use serde_json::Value;
use signpost_demo::{Demo, DemoOptions};
use signpost_tests::client;

use signpost_tests::get_json as get;

#[tokio::test]
async fn oruk_lists_the_same_verified_groups_with_stable_ids_and_provenance() {
    let dir = tempfile::tempdir().unwrap();
    let demo = Demo::start(DemoOptions {
        data_dir: dir.path().join("d"),
        listen: "127.0.0.1:0".into(),
        crawl_interval_secs: 300,
    })
    .await
    .unwrap();
    let base = demo.aggregator.url();
    let groups = get(&format!("{base}/v1/groups")).await;
    let services = get(&format!("{base}/oruk/services?per_page=1000")).await;
    assert_eq!(services["total_items"], groups["total_items"]);
    let again = get(&format!("{base}/oruk/services?per_page=1000")).await;
    let ids = |v: &Value| {
        v["contents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&services), ids(&again), "ids are stable");

    // A full service carries its signed envelope and the provenance link.
    let first = &services["contents"][0];
    let full = get(&format!(
        "{base}/oruk/services/{}",
        first["id"].as_str().unwrap()
    ))
    .await;
    assert_eq!(full["name"], first["name"]);
    let prov = full["signpost"]["provenance_url"].as_str().unwrap();
    let prov = get(&format!("{base}{}", prov.trim_start_matches(&base))).await;
    assert_eq!(prov["group"]["listing"]["group"]["name"], full["name"]);
    assert_eq!(full["signpost"]["envelope"], prov["listing"]);

    // Verified training is an attribute, and filtering by its term finds the same organisations.
    let terms = get(&format!("{base}/oruk/taxonomy_terms?per_page=1000")).await;
    let tip = terms["contents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["term"] == "trauma-informed-practice")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let trained = get(&format!(
        "{base}/oruk/services?taxonomy_term_id={tip}&per_page=1000"
    ))
    .await;
    let verified = get(&format!(
        "{base}/v1/groups?verified_training=trauma-informed-practice&per_page=100"
    ))
    .await;
    assert_eq!(trained["total_items"], verified["total_items"]);

    // Pagination as the profile says, and clear errors.
    let page = get(&format!("{base}/oruk/services?per_page=7&page=2")).await;
    assert_eq!(page["page_number"], 2);
    assert_eq!(page["size"], 7);
    assert_eq!(page["first_page"], false);
    let resp = client()
        .get(format!("{base}/oruk/services?page=0"))
        .send()
        .await
        .unwrap();
    signpost_tests::assert_problem(resp, 400, "invalid_page").await;
    // A page number that would overflow the offset arithmetic is a clear 400, not a panic.
    let resp = client()
        .get(format!(
            "{base}/oruk/services?page=18446744073709551615&per_page=1000"
        ))
        .send()
        .await
        .unwrap();
    signpost_tests::assert_problem(resp, 400, "invalid_page").await;
    let resp = client()
        .get(format!("{base}/oruk/services?per_page=1001"))
        .send()
        .await
        .unwrap();
    let body = signpost_tests::assert_problem(resp, 400, "per_page_too_large").await;
    assert_eq!(body["detail"], "per_page: must be between 1 and 1000");
    // Parameters the OpenAPI types are refused, naming the parameter, when they are not of
    // that type (`minimal=yes` was a full page, as if `false`; `NaN` an age).
    for (query, parameter) in [
        ("minimal=yes", "minimal"),
        ("minimum_age=NaN", "minimum_age"),
        ("maximum_age=inf", "maximum_age"),
        ("postcode=LS8&proximity=infinity", "proximity"),
        ("day=tues", "day"),
        ("start_time=24:00", "start_time"),
        // Text with nothing to search by, named as the request named it.
        ("search=%21%21", "search"),
        ("text=%21%21", "text"),
    ] {
        let resp = client()
            .get(format!("{base}/oruk/services?{query}"))
            .send()
            .await
            .unwrap();
        let body = signpost_tests::assert_problem(resp, 400, "invalid_parameter").await;
        assert!(
            body["detail"]
                .as_str()
                .is_some_and(|d| d.starts_with(&format!("{parameter}: "))),
            "{query}: {body}"
        );
    }
    // A distance with nothing to measure it from says what it needs, once.
    let resp = client()
        .get(format!("{base}/oruk/services?proximity=500"))
        .send()
        .await
        .unwrap();
    let body = signpost_tests::assert_problem(resp, 400, "radius_without_near").await;
    assert_eq!(body["detail"], "proximity: needs a postcode too", "{body}");
    // Several at once: each named, the list's own mistakes and the search's alike.
    let resp = client()
        .get(format!(
            "{base}/oruk/services?minimal=yes&day=tues&postcode=LS8&proximity=-5&per_page=0&colour=blue"
        ))
        .send()
        .await
        .unwrap();
    let body = signpost_tests::assert_problem(resp, 400, "invalid_query").await;
    assert_eq!(
        signpost_tests::listed(&body, "field"),
        ["colour", "per_page", "minimal", "day", "proximity"],
        "{body}"
    );
    let minimal = get(&format!("{base}/oruk/services?minimal=true&per_page=1")).await;
    let mut fields: Vec<&String> = minimal["contents"][0].as_object().unwrap().keys().collect();
    fields.sort();
    assert_eq!(
        fields,
        ["id", "last_modified", "name", "status"],
        "{minimal}"
    );
    let full = get(&format!("{base}/oruk/services?minimal=false&per_page=1")).await;
    assert_eq!(full["contents"][0]["id"], minimal["contents"][0]["id"]);
    assert!(full["contents"][0]["description"].is_string(), "{full}");
    let resp = client()
        .get(format!("{base}/oruk/services/not-a-uuid"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    demo.stop().await;
}
