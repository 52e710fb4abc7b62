//! The people's pages in their own language: Fluent catalogues (`locales/*.ftl`, editable
//! without reading Rust) embedded in the binary, the language negotiated from a visible
//! picker (`lang=`) or `Accept-Language`, and a message missing from a catalogue shown in
//! English, never as its key.

use std::collections::HashMap;
use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

/// A language the pages are offered in.
#[derive(Debug)]
pub struct Lang {
    /// BCP 47 tag.
    pub code: &'static str,
    /// Its name in itself.
    pub endonym: &'static str,
    /// Its name in English.
    pub english: &'static str,
    /// Written right to left.
    pub rtl: bool,
    catalogue: &'static str,
}

/// Every language of the pages; the first is the fallback.
pub const LANGS: &[Lang] = &[
    lang(
        "en",
        "English",
        "English",
        false,
        include_str!("../../locales/en.ftl"),
    ),
    lang(
        "ar",
        "العربية",
        "Arabic",
        true,
        include_str!("../../locales/ar.ftl"),
    ),
    lang(
        "fa",
        "فارسی",
        "Farsi",
        true,
        include_str!("../../locales/fa.ftl"),
    ),
    lang(
        "ur",
        "اردو",
        "Urdu",
        true,
        include_str!("../../locales/ur.ftl"),
    ),
    lang(
        "ps",
        "پښتو",
        "Pashto",
        true,
        include_str!("../../locales/ps.ftl"),
    ),
    lang(
        "ckb",
        "کوردی (سۆرانی)",
        "Kurdish (Sorani)",
        true,
        include_str!("../../locales/ckb.ftl"),
    ),
    lang(
        "ti",
        "ትግርኛ",
        "Tigrinya",
        false,
        include_str!("../../locales/ti.ftl"),
    ),
    lang(
        "sq",
        "Shqip",
        "Albanian",
        false,
        include_str!("../../locales/sq.ftl"),
    ),
    lang(
        "uk",
        "Українська",
        "Ukrainian",
        false,
        include_str!("../../locales/uk.ftl"),
    ),
    lang(
        "pl",
        "Polski",
        "Polish",
        false,
        include_str!("../../locales/pl.ftl"),
    ),
];

const fn lang(
    code: &'static str,
    endonym: &'static str,
    english: &'static str,
    rtl: bool,
    catalogue: &'static str,
) -> Lang {
    Lang {
        code,
        endonym,
        english,
        rtl,
        catalogue,
    }
}

/// Names of languages groups often speak, in themselves and in English (for showing a
/// group's languages); other tags are shown as they are.
pub const SPOKEN: &[(&str, &str, &str)] = &[
    ("en", "English", "English"),
    ("ar", "العربية", "Arabic"),
    ("fa", "فارسی", "Farsi"),
    ("prs", "دری", "Dari"),
    ("ur", "اردو", "Urdu"),
    ("ps", "پښتو", "Pashto"),
    ("ckb", "کوردی", "Kurdish (Sorani)"),
    ("ku", "Kurdî", "Kurdish"),
    ("kmr", "Kurmancî", "Kurdish (Kurmanji)"),
    ("ti", "ትግርኛ", "Tigrinya"),
    ("am", "አማርኛ", "Amharic"),
    ("so", "Soomaali", "Somali"),
    ("sq", "Shqip", "Albanian"),
    ("uk", "Українська", "Ukrainian"),
    ("ru", "Русский", "Russian"),
    ("pl", "Polski", "Polish"),
    ("ro", "Română", "Romanian"),
    ("pa", "ਪੰਜਾਬੀ", "Punjabi"),
    ("bn", "বাংলা", "Bengali"),
    ("gu", "ગુજરાતી", "Gujarati"),
    ("hi", "हिन्दी", "Hindi"),
    ("zh", "中文", "Chinese"),
    ("es", "Español", "Spanish"),
    ("fr", "Français", "French"),
    ("pt", "Português", "Portuguese"),
    ("tr", "Türkçe", "Turkish"),
    ("vi", "Tiếng Việt", "Vietnamese"),
    ("sw", "Kiswahili", "Swahili"),
    ("ne", "नेपाली", "Nepali"),
];

/// A spoken language's name: in itself, then in English (`العربية (Arabic)`).
pub fn spoken_name(tag: &str) -> String {
    let primary = tag.split('-').next().unwrap_or(tag).to_ascii_lowercase();
    match SPOKEN.iter().find(|(t, _, _)| *t == primary) {
        Some((_, own, english)) if own == english => (*own).to_owned(),
        Some((_, own, english)) => format!("{own} ({english})"),
        None => tag.to_owned(),
    }
}

type Bundles = HashMap<&'static str, FluentBundle<FluentResource>>;

fn bundles() -> &'static Bundles {
    static BUNDLES: OnceLock<Bundles> = OnceLock::new();
    BUNDLES.get_or_init(|| {
        LANGS
            .iter()
            .filter_map(|l| {
                let id = l.code.parse().ok()?;
                let mut bundle = FluentBundle::new_concurrent(vec![id]);
                // Variables are set in markup by the templates; no invisible isolation marks.
                bundle.set_use_isolating(false);
                // A catalogue with a broken entry still gives every other message.
                let resource = FluentResource::try_new(l.catalogue.to_owned()).unwrap_or_else(
                    |(partial, errors)| {
                        tracing::warn!(
                            lang = l.code,
                            errors = errors.len(),
                            "catalogue has entries that do not parse"
                        );
                        partial
                    },
                );
                let _ = bundle.add_resource(resource);
                Some((l.code, bundle))
            })
            .collect()
    })
}

/// Picks the language: `lang=` when it names one we have, else the first of
/// `Accept-Language` we have (by primary subtag), else English.
pub fn negotiate(requested: Option<&str>, accept_language: Option<&str>) -> &'static Lang {
    let find = |tag: &str| {
        let primary = tag
            .trim()
            .split(['-', ';'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        LANGS.iter().find(|l| l.code == primary)
    };
    if let Some(l) = requested.and_then(find) {
        return l;
    }
    if let Some(header) = accept_language {
        let mut ranges: Vec<(f32, &str)> = header
            .split(',')
            .map(|part| {
                let mut it = part.split(';');
                let tag = it.next().unwrap_or("").trim();
                let q = it
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0);
                (q, tag)
            })
            .collect();
        ranges.sort_by(|a, b| b.0.total_cmp(&a.0));
        if let Some(l) = ranges
            .iter()
            .filter(|(q, _)| *q > 0.0)
            .find_map(|(_, t)| find(t))
        {
            return l;
        }
    }
    &LANGS[0]
}

/// Translates for one page in one language.
#[derive(Clone, Copy)]
pub struct Tr {
    pub lang: &'static Lang,
}

impl Tr {
    pub fn new(lang: &'static Lang) -> Self {
        Self { lang }
    }

    /// English, for the second column of a referral card.
    pub fn english() -> Self {
        Self { lang: &LANGS[0] }
    }

    fn format(&self, code: &str, id: &str, args: Option<&FluentArgs<'_>>) -> Option<String> {
        let bundle = bundles().get(code)?;
        let pattern = bundle.get_message(id)?.value()?;
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, args, &mut errors);
        errors.is_empty().then(|| text.into_owned())
    }

    fn lookup(&self, id: &str, args: Option<&FluentArgs<'_>>) -> String {
        self.format(self.lang.code, id, args)
            .or_else(|| self.format("en", id, args))
            .unwrap_or_default()
    }

    /// A message.
    pub fn t(&self, id: &str) -> String {
        self.lookup(id, None)
    }

    /// A message with one variable.
    pub fn t1(&self, id: &str, name: &str, value: impl Into<FluentValue<'static>>) -> String {
        let mut args = FluentArgs::new();
        args.set(name.to_owned(), value.into());
        self.lookup(id, Some(&args))
    }

    /// A message with two variables.
    pub fn t2(
        &self,
        id: &str,
        (n1, v1): (&str, FluentValue<'static>),
        (n2, v2): (&str, FluentValue<'static>),
    ) -> String {
        let mut args = FluentArgs::new();
        args.set(n1.to_owned(), v1);
        args.set(n2.to_owned(), v2);
        self.lookup(id, Some(&args))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_parses_and_english_has_every_message_used() {
        for l in LANGS {
            assert!(
                FluentResource::try_new(l.catalogue.to_owned()).is_ok(),
                "{} does not parse",
                l.code
            );
        }
        let en = Tr::english();
        for id in [
            "finder-title",
            "exit",
            "privacy",
            "category-esol",
            "day-mon",
        ] {
            assert!(!en.t(id).is_empty(), "{id}");
        }
    }

    /// The ids of a catalogue's messages (each begins a line: `id = ...`).
    fn ids(catalogue: &str) -> std::collections::BTreeSet<&str> {
        (catalogue.lines())
            .filter(|l| l.starts_with(|c: char| c.is_ascii_lowercase()))
            .filter_map(|l| l.split_once('=').map(|(id, _)| id.trim()))
            .collect()
    }

    #[test]
    fn every_term_the_pages_name_has_an_english_message() {
        // The taxonomy's own labels are only a last resort: each term the pages show has a
        // message, which the test below then finds in every catalogue.
        let en = Tr::english();
        for (prefix, vocabulary) in [
            ("category", signpost_protocol::taxonomy::CATEGORIES),
            (
                "support",
                signpost_protocol::taxonomy::SAFEGUARDING_CAPABILITIES,
            ),
            ("achievement", signpost_protocol::taxonomy::ACHIEVEMENTS),
        ] {
            for term in vocabulary {
                let id = format!("{prefix}-{}", term.id);
                assert!(!en.t(&id).is_empty(), "locales/en.ftl has no {id}");
            }
        }
    }

    #[test]
    fn every_catalogue_says_every_english_message_in_its_own_language() {
        // The postcode data's attribution is the licence's own wording, and the foot's links
        // lead to pages for professionals in English only: a catalogue may leave them to
        // English (the foot marks them as English). Everything else a person reads is in
        // their language.
        const MAY_STAY_ENGLISH: &[&str] = &["attribution", "for-regulators", "for-developers"];
        let english = ids(LANGS[0].catalogue);
        for l in &LANGS[1..] {
            let own = ids(l.catalogue);
            let missing: Vec<&&str> = (english.iter())
                .filter(|id| !own.contains(*id) && !MAY_STAY_ENGLISH.contains(id))
                .collect();
            assert!(missing.is_empty(), "{} lacks {missing:?}", l.code);
            let extra: Vec<&&str> = own.difference(&english).collect();
            assert!(
                extra.is_empty(),
                "{} has messages English lacks: {extra:?}",
                l.code
            );
        }
    }

    #[test]
    fn languages_are_negotiated_and_missing_messages_fall_back_to_english() {
        assert_eq!(negotiate(Some("ar"), None).code, "ar");
        assert_eq!(negotiate(Some("zz"), Some("fa-IR, en;q=0.5")).code, "fa");
        assert_eq!(negotiate(None, Some("de, pl;q=0.8, uk;q=0.9")).code, "uk");
        assert_eq!(negotiate(None, None).code, "en");
        let ar = Tr::new(negotiate(Some("ar"), None));
        assert_eq!(ar.t("exit"), "اخرج من هذه الصفحة");
        assert!(ar.lang.rtl);
        // Not in the Farsi catalogue: English, never the key.
        let fa = Tr::new(negotiate(Some("fa"), None));
        assert!(fa.t("attribution").starts_with("Postcode locations"));
        assert_eq!(fa.t("no-such-message"), "");
        assert_eq!(
            Tr::english().t1("results-count", "count", 3),
            "3 groups found"
        );
        assert_eq!(spoken_name("ar-SY"), "العربية (Arabic)");
        assert_eq!(spoken_name("en"), "English");
    }
}
