use super::*;

/// Wherever a query can look (the UK's latitudes, every radius allowed, every bearing,
/// out past the radius), the equirectangular distance is within the band of the
/// great-circle one, so the band's great-circle check decides every point it could get
/// wrong.
#[test]
fn the_band_bounds_the_approximations_error() {
    const R: f64 = 6371.0088;
    let mut worst: f64 = 0.0;
    for lat in [49.9, 51.5, 53.8, 57.1, 60.9] {
        for r in [0.1, 1.0, 5.0, 20.0, 50.0, 100.0] {
            let p = Point { lat, lon: -1.5 };
            let flat = Flat::new(&p, r);
            for i in 0..720 {
                let bearing = (f64::from(i) * 0.5).to_radians();
                for f in [0.3, 0.9, 0.97, 1.0, 1.03, 1.1] {
                    let delta = r * f / R;
                    let (la1, lo1) = (lat.to_radians(), p.lon.to_radians());
                    let la2 =
                        (la1.sin() * delta.cos() + la1.cos() * delta.sin() * bearing.cos()).asin();
                    let lo2 = lo1
                        + (bearing.sin() * delta.sin() * la1.cos())
                            .atan2(delta.cos() - la1.sin() * la2.sin());
                    let q = Point {
                        lat: la2.to_degrees(),
                        lon: lo2.to_degrees(),
                    };
                    let exact = p.distance_km(&q);
                    let approx = flat.distance(q.lat, q.lon);
                    worst = worst.max((approx - exact).abs() / flat.band);
                    assert!(
                        (approx - exact).abs() < flat.band,
                        "at {lat}, {r} km, bearing {i}: {approx} km against {exact} km"
                    );
                }
            }
        }
    }
    // Not so wide that many points are measured twice (it is about ten times the worst
    // error seen here).
    assert!(
        worst > 0.05,
        "the worst error is only {worst:.3} of the band"
    );
}

/// A node's verified state with one listing per (name, description).
fn node(seed: u8, groups: &[(&str, &str)]) -> NodeData {
    use signpost_protocol::model::NodeDocument;
    use signpost_protocol::{sample, SigningKey, Verified};
    let now = Utc::now();
    let root = SigningKey::from_bytes(&[seed; 32]);
    let id = DidKey::new(root.verifying_key());
    let doc = NodeDocument::first(
        id,
        id,
        format!("Organisation {seed}"),
        "https://signpost.example.org",
        now,
        now + Duration::days(365),
    );
    let listings: Vec<Verified<Listing>> = groups
        .iter()
        .zip(1u128..)
        .map(|(&(name, description), n)| {
            let mut group = sample::group(n as u64, 0, now);
            group.name = name.into();
            group.description = description.into();
            let listing = Uuid::from_u128(u128::from(seed) << 64 | n);
            Verified::sign(sample::listing(id, listing, group, now), &root).expect("signs")
        })
        .collect();
    let snapshot = sample::first_snapshot(id, &listings, vec![], now);
    NodeData {
        id,
        chain: vec![Verified::sign(doc, &root).expect("signs")],
        snapshot: Verified::sign(snapshot, &root).expect("signs"),
        listings: listings.into_iter().map(|l| (l.id, l)).collect(),
        attestations: vec![],
        verified_at: now,
    }
}

/// Verified training is known from the moment an attestation's status changes, not
/// up to a second later: the cache of who holds what is kept only until the first
/// moment any status could change.
#[test]
fn verified_training_ends_when_the_attestation_does() {
    use signpost_protocol::model::{Attestation, RevocationList};
    use signpost_protocol::{SigningKey, Verified};
    let issuer_key = SigningKey::from_bytes(&[9; 32]);
    let issuer = DidKey::new(issuer_key.verifying_key());
    let now = Utc::now();
    let ends = now + Duration::hours(1);
    let mut data = node(1, &[("Tea club", "Tea and talk")]);
    let attestation = Attestation {
        issuer,
        subject: data.id,
        achievement: "trauma-informed-practice".into(),
        level: None,
        valid_from: now - Duration::days(30),
        valid_until: ends,
        serial: "S-1".into(),
    };
    data.attestations = vec![Verified::sign(attestation, &issuer_key).expect("signs")];
    let mut index = Index::default();
    index.install(Prepared::new(Arc::new(data)));
    let list = RevocationList {
        issuer,
        version: 1,
        issued_at: now - Duration::hours(1),
        expires_at: now + Duration::days(7),
        revoked: vec![],
    };
    let revocations = HashMap::from([(
        issuer,
        RevocationView::new(
            Some(Verified::sign(list, &issuer_key).expect("signs")),
            Some(now),
        ),
    )]);
    let issuers = [TrustedIssuer {
        id: issuer,
        name: "Trainer".into(),
        achievements: vec!["trauma-informed-practice".into()],
    }];
    let q = GroupQuery::parse(&signpost_protocol::query::RawGroupQuery {
        verified_training: Some("trauma-informed-practice".into()),
        ..Default::default()
    })
    .expect("a valid query");
    let found = |at: DateTime<Utc>| {
        let ctx = QueryContext {
            now: at,
            capacity_max_age: Duration::days(30),
            skew: Duration::minutes(5),
            issuers: &issuers,
            revocations: &revocations,
            grace: Duration::days(1),
        };
        let page = index.search(&q, &ctx);
        let training = page.contents.first().map(|g| g.verified_training.to_vec());
        (page.contents.len(), training)
    };
    let held = (1, Some(vec!["trauma-informed-practice".to_string()]));
    assert_eq!(found(ends - Duration::minutes(30)), held);
    assert_eq!(found(ends - Duration::milliseconds(1)), held);
    assert_eq!(found(ends), (0, None), "expired at its end");
    // Back before it (a clock set back): the cache made at the end is not used.
    assert_eq!(found(ends - Duration::milliseconds(1)), held);
}

/// The names of the groups a text search finds, in order.
fn found(index: &Index, text: &str) -> Vec<String> {
    let q = GroupQuery::parse(&signpost_protocol::query::RawGroupQuery {
        text: Some(text.into()),
        ..Default::default()
    })
    .expect("a valid query");
    let revocations = HashMap::new();
    let ctx = QueryContext {
        now: Utc::now(),
        capacity_max_age: Duration::days(30),
        skew: Duration::minutes(5),
        issuers: &[],
        revocations: &revocations,
        grace: Duration::zero(),
    };
    index
        .search(&q, &ctx)
        .contents
        .iter()
        .map(|g| {
            serde_json::from_slice::<Listing>(g.listing.0)
                .expect("a listing")
                .group
                .name
        })
        .collect()
}

#[test]
fn a_slot_is_added_past_the_end_given_again_or_into_a_dense_bitmap() {
    let mut sparse = RoaringBitmap::new();
    for slot in [5, 9, 70_000] {
        add(&mut sparse, slot);
    }
    // A slot given again (below the largest held), and one already held.
    add(&mut sparse, 7);
    add(&mut sparse, 9);
    assert_eq!(sparse.iter().collect::<Vec<_>>(), [5, 7, 9, 70_000]);
    let mut dense: RoaringBitmap = (0..10_000).step_by(2).collect();
    for slot in [20_001, 10_001, 3, 4] {
        add(&mut dense, slot);
    }
    assert_eq!(dense.len(), 5_000 + 3);
    assert!([20_001, 10_001, 3, 4].iter().all(|&s| dense.contains(s)));
}

/// Words are held by number: a word a node stops using is forgotten, its number given to
/// the next new word, and no search finds the old word's listings under the new one.
#[test]
fn a_word_no_longer_used_is_forgotten_and_its_number_reused_cleanly() {
    let mut index = Index::default();
    index.install(Prepared::new(Arc::new(node(
        1,
        &[
            ("Zebra walk", "A striped zebra stroll"),
            ("Tea club", "Tea and talk"),
        ],
    ))));
    assert_eq!(found(&index, "zebra"), ["Zebra walk"]);
    assert_eq!(found(&index, "zeb"), ["Zebra walk"]);
    let words = index.word_ids.len();
    // The node now publishes other words.
    index.install(Prepared::new(Arc::new(node(
        1,
        &[("Yak club", "Yak herding"), ("Tea club", "Tea and talk")],
    ))));
    assert!(found(&index, "zebra").is_empty());
    assert!(found(&index, "striped").is_empty());
    assert_eq!(found(&index, "yak"), ["Yak club"]);
    assert!(!index.word_ids.contains_key("zebra") && !index.words.contains_key("zebra"));
    assert!(
        !index.free_word_ids.is_empty(),
        "the old words' numbers are free"
    );
    // New words take the freed numbers; the old words' listings do not come back.
    index.install(Prepared::new(Arc::new(node(
        2,
        &[("Quagga walk", "Quagga and okapi rambles")],
    ))));
    assert_eq!(found(&index, "quagga"), ["Quagga walk"]);
    assert_eq!(found(&index, "okapi"), ["Quagga walk"]);
    assert_eq!(found(&index, "walk"), ["Quagga walk"]);
    assert_eq!(found(&index, "yak"), ["Yak club"]);
    assert_eq!(found(&index, "tea"), ["Tea club"]);
    assert!(found(&index, "zebra").is_empty());
    assert!(index.word_ids.len() <= words + 2);
    // Every number held is one word's, and every word listed has one.
    let mut ids: Vec<u32> = index.word_ids.values().copied().collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), index.word_ids.len());
    for (w, (id, fields)) in &index.words {
        assert_eq!(index.word_ids.get(w), Some(id), "{w}");
        assert_ne!(*fields, 0, "{w} has a bitmap");
    }
}
