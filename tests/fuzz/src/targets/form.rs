//! What a volunteer may type into a node's group form, as the browser sends it
//! (`application/x-www-form-urlencoded`). The form either names what is wrong, each problem
//! on a field, or gives a group that (1) the protocol accepts when it is signed and (2)
//! comes back the same when the form is opened on it and saved unchanged: a listing edited
//! and saved without changes loses nothing. Fails on a panic or a broken promise.
use chrono::Utc;
use signpost_node::pages::form::GroupForm;
use signpost_protocol::{sample, DidKey, SigningKey, Verified};

/// One input of this target: the fuzzer's, or a seed's.
pub fn run(input: &[u8]) {
    // What actix's form extractor would refuse never reaches the form.
    let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(input) else {
        return;
    };
    let typed = GroupForm::from_pairs(&pairs);
    let (group, _) = match typed.to_group() {
        Ok(ok) => ok,
        Err(problems) => {
            if crate::debug() {
                eprintln!("refused: {problems:?}");
            }
            assert!(!problems.is_empty(), "refused without a reason");
            for p in &problems {
                assert!(!p.field.is_empty(), "a problem on no field: {p:?}");
                assert!(
                    !p.message.trim().is_empty(),
                    "a problem without words: {p:?}"
                );
            }
            return;
        }
    };
    if crate::debug() {
        eprintln!("accepted: {}", group.name);
    }
    let key = SigningKey::from_bytes(&[3; 32]);
    let node = DidKey::new(key.verifying_key());
    let now = Utc::now();
    let listing = sample::listing(node, uuid::Uuid::from_u128(1), group.clone(), now);
    if let Err(e) = Verified::sign(listing, &key) {
        panic!("the form accepted a group the protocol refuses: {e}\n{group:#?}");
    }
    let (again, _) = GroupForm::from_group(&group)
        .to_group()
        .unwrap_or_else(|p| panic!("a saved group reopened does not save: {p:?}\n{group:#?}"));
    let mut again = again;
    again.capacity.updated_at = group.capacity.updated_at;
    if let (Some(a), Some(b)) = (&mut again.location, &group.location) {
        // The form shows coordinates as text; what it reads back is the same place.
        assert!((a.lat - b.lat).abs() < 1e-9 && (a.lon - b.lon).abs() < 1e-9);
        (a.lat, a.lon) = (b.lat, b.lon);
    }
    // Languages ticked by name come first, then those typed: the set is what is kept.
    let (mut x, mut y) = (again.clone(), group.clone());
    x.languages.sort();
    y.languages.sort();
    assert_eq!(x, y, "saving the form unchanged changed the group");
}
