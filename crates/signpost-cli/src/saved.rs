//! Files a person saved and hands to a command: read as JSON, with what is wrong said in words.

use std::path::Path;

use anyhow::Context as _;
use serde::de::DeserializeOwned;

/// What is wrong with a saved file's JSON, in words: where it stops being JSON, or what
/// its shape lacks (serde's "expected value at line 1 column 1" is not for people).
pub fn json_problem(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let (line, column) = (e.line(), e.column());
    match e.classify() {
        Category::Io => "it could not be read".into(),
        Category::Eof if line <= 1 && column == 0 => "it is empty".into(),
        Category::Eof => format!("its JSON ends early (line {line}, column {column})"),
        Category::Syntax => {
            format!("it is not JSON (the first mistake is at line {line}, column {column})")
        }
        Category::Data => {
            let text = e.to_string();
            let what = text.split(" at line ").next().unwrap_or(&text);
            format!("its JSON is not of that shape: {what}")
        }
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
            "its JSON is not of that shape: missing field `payload`"
        );
    }
}
