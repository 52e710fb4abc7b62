//! Languages a charity can pick by name: in English and in their own script, each with its
//! BCP 47 tag. The list covers the languages most spoken by people who arrive in the UK
//! seeking safety or work; any other registered tag can still be typed.

/// One language: tag, English name, own name (endonym).
#[derive(Debug, PartialEq, Eq)]
pub struct Language {
    pub tag: &'static str,
    pub english: &'static str,
    pub own: &'static str,
}

macro_rules! languages {
    ($(($tag:literal, $english:literal, $own:literal)),* $(,)?) => {
        /// The languages offered by name, in English alphabetical order.
        pub const LANGUAGES: &[Language] = &[
            $(Language { tag: $tag, english: $english, own: $own }),*
        ];
    };
}

languages![
    ("sq", "Albanian", "Shqip"),
    ("am", "Amharic", "አማርኛ"),
    ("ar", "Arabic", "العربية"),
    ("bn", "Bengali", "বাংলা"),
    ("bg", "Bulgarian", "Български"),
    ("yue", "Cantonese", "粵語"),
    ("prs", "Dari", "دری"),
    ("en", "English", "English"),
    ("fa", "Farsi (Persian)", "فارسی"),
    ("fr", "French", "Français"),
    ("gu", "Gujarati", "ગુજરાતી"),
    ("hi", "Hindi", "हिन्दी"),
    ("it", "Italian", "Italiano"),
    ("kmr", "Kurdish (Kurmanji)", "Kurmancî"),
    ("ckb", "Kurdish (Sorani)", "کوردی"),
    ("ln", "Lingala", "Lingála"),
    ("lt", "Lithuanian", "Lietuvių"),
    ("cmn", "Mandarin", "普通话"),
    ("ne", "Nepali", "नेपाली"),
    ("om", "Oromo", "Afaan Oromoo"),
    ("ps", "Pashto", "پښتو"),
    ("pl", "Polish", "Polski"),
    ("pt", "Portuguese", "Português"),
    ("pa", "Punjabi", "ਪੰਜਾਬੀ"),
    ("ro", "Romanian", "Română"),
    ("ru", "Russian", "Русский"),
    ("so", "Somali", "Soomaali"),
    ("es", "Spanish", "Español"),
    ("sw", "Swahili", "Kiswahili"),
    ("ta", "Tamil", "தமிழ்"),
    ("ti", "Tigrinya", "ትግርኛ"),
    ("tr", "Turkish", "Türkçe"),
    ("uk", "Ukrainian", "Українська"),
    ("ur", "Urdu", "اردو"),
    ("vi", "Vietnamese", "Tiếng Việt"),
    ("cy", "Welsh", "Cymraeg"),
];

/// The language with this tag, case-insensitively.
pub fn by_tag(tag: &str) -> Option<&'static Language> {
    LANGUAGES.iter().find(|l| l.tag.eq_ignore_ascii_case(tag))
}

/// The language a person typed by name, in English or in its own script
/// ("Arabic", "arabic", "العربية" -> `ar`).
pub fn by_name(name: &str) -> Option<&'static Language> {
    let name = name.trim();
    LANGUAGES.iter().find(|l| {
        l.own == name
            || l.english.eq_ignore_ascii_case(name)
            || l.english
                .split(" (")
                .next()
                .is_some_and(|short| short.eq_ignore_ascii_case(name))
    })
}

/// What keeps a language tag from naming a language, for each surface to word its own way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagProblem {
    /// A language's name, not its code ("Arabic", "english").
    Name(&'static Language),
    /// Not a BCP 47 tag at all.
    NotWellFormed,
    /// Well formed, but not in the IANA registry ("elvish", "ar-UX").
    NotRegistered,
    /// Registered, written in another case than the registry's: the canonical form.
    NotCanonical(String),
}

/// What keeps `tag` from naming a language, if anything (in the order a person would fix
/// it: a name first, then the form, the registry, the case).
pub fn tag_problem(tag: &str) -> Option<TagProblem> {
    if let Some(l) = by_name(tag).filter(|l| !l.tag.eq_ignore_ascii_case(tag)) {
        return Some(TagProblem::Name(l));
    }
    let Ok(parsed) = language_tags::LanguageTag::parse(tag) else {
        return Some(TagProblem::NotWellFormed);
    };
    if !parsed.is_valid() {
        Some(TagProblem::NotRegistered)
    } else if parsed.as_str() != tag {
        Some(TagProblem::NotCanonical(parsed.as_str().to_owned()))
    } else {
        None
    }
}

/// How a tag reads to a person: "Arabic (العربية)", or the tag itself.
pub fn describe(tag: &str) -> String {
    match by_tag(tag) {
        Some(l) if l.english == l.own => l.english.to_owned(),
        Some(l) => format!("{} ({})", l.english, l.own),
        None => tag.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_offered_tag_is_registered_and_canonical() {
        for l in LANGUAGES {
            let parsed = language_tags::LanguageTag::parse(l.tag).expect(l.tag);
            assert!(parsed.is_valid(), "{} is not in the IANA registry", l.tag);
            assert_eq!(parsed.as_str(), l.tag);
        }
        let mut names: Vec<_> = LANGUAGES.iter().map(|l| l.english).collect();
        let sorted = {
            let mut s = names.clone();
            s.sort_unstable();
            s
        };
        assert_eq!(names, sorted, "kept in English alphabetical order");
        names.dedup();
        assert_eq!(names.len(), LANGUAGES.len());
    }

    #[test]
    fn names_in_english_or_their_own_script_find_the_tag() {
        assert_eq!(by_name("Arabic").map(|l| l.tag), Some("ar"));
        assert_eq!(by_name("arabic").map(|l| l.tag), Some("ar"));
        assert_eq!(by_name("العربية").map(|l| l.tag), Some("ar"));
        assert_eq!(by_name("Farsi").map(|l| l.tag), Some("fa"));
        assert_eq!(by_name("Klingon").map(|l| l.tag), None);
        assert_eq!(describe("uk"), "Ukrainian (Українська)");
        assert_eq!(describe("en"), "English");
    }

    #[test]
    fn a_tag_that_names_no_language_says_why() {
        assert_eq!(tag_problem("Arabic"), by_tag("ar").map(TagProblem::Name));
        assert_eq!(tag_problem("!!"), Some(TagProblem::NotWellFormed));
        assert_eq!(tag_problem("elvish"), Some(TagProblem::NotRegistered));
        assert_eq!(
            tag_problem("ar-sy"),
            Some(TagProblem::NotCanonical("ar-SY".into()))
        );
        assert_eq!(tag_problem("ar-SY"), None);
    }
}
