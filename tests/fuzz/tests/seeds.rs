//! Every seed of every target (`seeds/<target>/`) run once through its target, as the
//! workspace's tests: a realistic listing, query, form, crawl, management request or
//! federation exchange that panics, or that any surface answers with a 5xx, fails here,
//! not only under the fuzzer.

use std::path::PathBuf;

/// Runs each of the target's seeds, naming the seed a failure came from.
fn seeds(target: &str, run: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("seeds")
        .join(target);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    paths.sort();
    assert!(
        !paths.is_empty(),
        "{target} has no seeds in {}",
        dir.display()
    );
    for path in paths {
        let input = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // The failing seed is the last one named in the test's output.
        println!("{target}: {}", path.display());
        run(&input);
    }
}

#[test]
fn listing() {
    seeds("listing", signpost_fuzz::targets::listing::run);
}

#[test]
fn query() {
    seeds("query", signpost_fuzz::targets::query::run);
}

#[test]
fn form() {
    seeds("form", signpost_fuzz::targets::form::run);
}

#[test]
fn crawl() {
    seeds("crawl", signpost_fuzz::targets::crawl::run);
}

#[test]
fn manage() {
    seeds("manage", signpost_fuzz::targets::manage::run);
}

#[test]
fn federation() {
    seeds("federation", signpost_fuzz::targets::federation::run);
}
