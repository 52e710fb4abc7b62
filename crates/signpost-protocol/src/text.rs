//! Text folding for search: case and accents do not matter ("Café" finds "cafe").

/// Folds text to lowercase ASCII words separated by single spaces: accents removed,
/// punctuation turned into spaces.
pub fn fold(text: &str) -> String {
    // Borrowed when the text is ASCII already (most listings): one allocation, not two.
    let ascii = deunicode::deunicode_with_tofu_cow(text, "[?]");
    let mut out = String::with_capacity(ascii.len());
    let mut space = true;
    for b in ascii.bytes() {
        if b.is_ascii_alphanumeric() {
            out.push(char::from(b.to_ascii_lowercase()));
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// The folded words of `text`.
pub fn words(text: &str) -> Vec<String> {
    fold(text)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_accents_and_punctuation() {
        assert_eq!(fold("Café  Crème, ÉTÉ!"), "cafe creme ete");
        assert_eq!(fold("Women's group"), "women s group");
        assert_eq!(words("  Zoë's   Naïve  "), vec!["zoe", "s", "naive"]);
        assert_eq!(fold(""), "");
    }
}
