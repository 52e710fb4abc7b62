//! The published taxonomy: stable ids with human labels.
//!
//! Ids never change meaning once published; new entries may be added. Listings may only use
//! ids from here, so a referrer's filter means the same thing on every node.

use serde::Serialize;

/// One entry of a vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Term {
    /// Stable id, lowercase with hyphens.
    pub id: &'static str,
    /// Human label, British English.
    pub label: &'static str,
    /// What the term covers.
    pub description: &'static str,
}

const fn t(id: &'static str, label: &'static str, description: &'static str) -> Term {
    Term {
        id,
        label,
        description,
    }
}

/// Kinds of group (a listing has one or more).
pub const CATEGORIES: &[Term] = &[
    t(
        "conversation-cafe",
        "Conversation café",
        "Informal sessions to practise English and meet people",
    ),
    t(
        "esol",
        "ESOL class",
        "English for Speakers of Other Languages, structured teaching",
    ),
    t(
        "befriending",
        "Befriending",
        "One-to-one or small-group befriending",
    ),
    t("walking", "Walking group", "Led walks at an easy pace"),
    t(
        "gardening",
        "Gardening",
        "Community gardens and allotment groups",
    ),
    t(
        "arts-crafts",
        "Arts and crafts",
        "Art, craft, sewing, making",
    ),
    t("music-singing", "Music and singing", "Choirs, music-making"),
    t("lunch-club", "Lunch club", "Shared meals"),
    t("cooking", "Cooking", "Cooking together, food skills"),
    t(
        "peer-support",
        "Peer support",
        "Groups led by people with shared experience",
    ),
    t(
        "refugee-support",
        "Refugee and asylum support",
        "Groups for refugees and people seeking asylum",
    ),
    t("womens-group", "Women's group", "Groups for women"),
    t("mens-group", "Men's group", "Groups for men"),
    t(
        "parents-children",
        "Parents and children",
        "Stay-and-play, family groups",
    ),
    t("youth", "Young people", "Groups for young people"),
    t("older-people", "Older people", "Groups for older people"),
    t(
        "sport-exercise",
        "Sport and exercise",
        "Football, yoga, swimming, gentle exercise",
    ),
    t(
        "mental-wellbeing",
        "Mental wellbeing",
        "Wellbeing, stress and emotional support groups",
    ),
    t(
        "advice",
        "Advice",
        "Advice sessions: housing, benefits, legal signposting",
    ),
    t(
        "digital-skills",
        "Digital skills",
        "Help with phones, computers, the internet",
    ),
    t(
        "employment-skills",
        "Employment and skills",
        "CVs, job clubs, training",
    ),
    t(
        "faith-community",
        "Faith and community",
        "Community groups hosted by faith organisations",
    ),
    t("volunteering", "Volunteering", "Opportunities to volunteer"),
];

/// Complex needs a group is equipped to hold safely.
pub const SAFEGUARDING_CAPABILITIES: &[Term] = &[
    t(
        "trafficking-survivors",
        "Survivors of trafficking and modern slavery",
        "Can safely support survivors of trafficking and modern slavery",
    ),
    t(
        "torture-survivors",
        "Survivors of torture",
        "Can safely support survivors of torture",
    ),
    t(
        "gender-based-violence",
        "Survivors of gender-based violence",
        "Can safely support survivors of gender-based and sexual violence",
    ),
    t(
        "domestic-abuse",
        "Domestic abuse",
        "Can safely support people experiencing domestic abuse",
    ),
    t(
        "unaccompanied-minors",
        "Unaccompanied minors",
        "Can safely support unaccompanied children and young people",
    ),
    t(
        "children",
        "Children",
        "Safeguarding arrangements for children",
    ),
    t(
        "adults-at-risk",
        "Adults at risk",
        "Safeguarding arrangements for adults at risk",
    ),
    t(
        "mental-health-crisis",
        "Mental health crisis",
        "Can respond to a mental health crisis",
    ),
    t(
        "substance-use",
        "Substance use",
        "Can support people with drug or alcohol use",
    ),
];

/// Checks carried out on staff and volunteers.
pub const STAFF_CHECKS: &[Term] = &[
    t(
        "enhanced-dbs",
        "Enhanced DBS check",
        "Enhanced Disclosure and Barring Service check",
    ),
    t(
        "enhanced-dbs-barred-list",
        "Enhanced DBS with barred list",
        "Enhanced DBS check including the barred lists",
    ),
    t(
        "basic-dbs",
        "Basic DBS check",
        "Basic Disclosure and Barring Service check",
    ),
    t(
        "references",
        "References",
        "Two references taken up before starting",
    ),
    t(
        "supervision",
        "Regular supervision",
        "Staff and volunteers receive regular supervision",
    ),
];

/// Achievements a training provider or regulator can attest.
pub const ACHIEVEMENTS: &[Term] = &[
    t(
        "trauma-informed-practice",
        "Trauma-informed practice",
        "Staff and volunteers completed trauma-informed practice training",
    ),
    t(
        "safeguarding-adults",
        "Safeguarding adults",
        "Safeguarding adults training (level 2 or above)",
    ),
    t(
        "safeguarding-children",
        "Safeguarding children",
        "Safeguarding children training (level 2 or above)",
    ),
    t(
        "mental-health-first-aid",
        "Mental health first aid",
        "Mental health first aid certification",
    ),
    t(
        "modern-slavery-awareness",
        "Modern slavery awareness",
        "Recognising and responding to modern slavery",
    ),
    t(
        "interpreting-in-services",
        "Working with interpreters",
        "Training in working well with interpreters",
    ),
];

/// The vocabularies, for publication (`GET /v1/taxonomy`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Taxonomy {
    pub categories: &'static [Term],
    pub safeguarding_capabilities: &'static [Term],
    pub staff_checks: &'static [Term],
    pub achievements: &'static [Term],
}

pub const TAXONOMY: Taxonomy = Taxonomy {
    categories: CATEGORIES,
    safeguarding_capabilities: SAFEGUARDING_CAPABILITIES,
    staff_checks: STAFF_CHECKS,
    achievements: ACHIEVEMENTS,
};

/// Looks an id up in a vocabulary.
pub fn find(vocabulary: &'static [Term], id: &str) -> Option<&'static Term> {
    vocabulary.iter().find(|t| t.id == id)
}

/// Whether `id` is in `vocabulary`.
pub fn contains(vocabulary: &[Term], id: &str) -> bool {
    vocabulary.iter().any(|t| t.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_unique_and_well_formed() {
        for vocab in [
            CATEGORIES,
            SAFEGUARDING_CAPABILITIES,
            STAFF_CHECKS,
            ACHIEVEMENTS,
        ] {
            let mut seen = HashSet::new();
            for term in vocab {
                assert!(seen.insert(term.id), "duplicate id {}", term.id);
                assert!(
                    term.id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                    "{}",
                    term.id
                );
                assert!(!term.label.is_empty() && !term.description.is_empty());
            }
        }
        assert!(find(ACHIEVEMENTS, "trauma-informed-practice").is_some());
        assert!(!contains(CATEGORIES, "not-a-category"));
    }
}

macro_rules! vocabulary_schema {
    ($(#[$doc:meta])* $name:ident, $vocab:expr) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some($vocab.iter().map(|t| t.id)))
                    .into()
            }
        }
        impl utoipa::ToSchema for $name {}
    };
}

vocabulary_schema!(
    /// A category id (schema only).
    CategoryId,
    CATEGORIES
);
vocabulary_schema!(
    /// A staff check id (schema only).
    StaffCheckId,
    STAFF_CHECKS
);
vocabulary_schema!(
    /// A safeguarding capability id (schema only).
    CapabilityId,
    SAFEGUARDING_CAPABILITIES
);
vocabulary_schema!(
    /// An achievement id (schema only).
    AchievementId,
    ACHIEVEMENTS
);
