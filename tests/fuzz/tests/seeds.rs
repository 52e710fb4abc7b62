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

/// A test for each target, by its module's name.
macro_rules! targets {
    ($($target:ident),*) => {$(
        #[test]
        fn $target() {
            seeds(stringify!($target), signpost_fuzz::targets::$target::run);
        }
    )*};
}

targets!(listing, query, form, crawl, manage, federation);
