//! Files a person saved and hands to a command: read as JSON, with what is wrong said in words.

use std::path::Path;

use anyhow::Context as _;
use serde::de::DeserializeOwned;
use signpost_protocol::wire;

/// What is wrong with a saved file's JSON, in words ([`wire::json_words`]): where it stops
/// being JSON, or what its shape lacks.
pub fn json_problem(e: &serde_json::Error) -> String {
    let words = wire::json_words(e);
    if e.classify() == serde_json::error::Category::Data {
        format!("its JSON is not of that shape: {words}")
    } else {
        words
    }
}

/// Reads `path` as `what` (e.g. "a DSSE envelope").
pub fn read_json<T: DeserializeOwned>(path: &Path, what: &str) -> anyhow::Result<T> {
    let bytes = std::fs::read(path).with_context(|| path.display().to_string())?;
    serde_json::from_slice(&bytes)
        .map_err(|e| anyhow::anyhow!("{} is not {what}: {}", path.display(), json_problem(&e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_mistake_is_said_in_words() {
        let said = |text: &str| {
            json_problem(&serde_json::from_str::<signpost_protocol::Envelope>(text).unwrap_err())
        };
        assert_eq!(said(""), "it is empty");
        assert_eq!(
            said("hello"),
            "it is not JSON (the first mistake is at line 1, column 1)"
        );
        assert_eq!(
            said("{\"payload\": "),
            "its JSON ends early (line 1, column 12)"
        );
        assert_eq!(
            said("{}"),
            "its JSON is not of that shape: \"payload\" is required"
        );
    }
}
