//! Trust policy for attestations: when "this organisation completed trauma-informed
//! training" counts as verified. Pure: the caller supplies the time and the revocation
//! lists it holds.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::did::DidKey;
use crate::model::{Attestation, RevocationList};
use crate::verified::Verified;

/// An issuer the verifier trusts, for named achievements only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedIssuer {
    pub id: DidKey,
    pub name: String,
    pub achievements: Vec<String>,
}

/// What the verifier knows of an issuer's revocation list.
#[derive(Debug, Clone, Default)]
pub struct RevocationView {
    /// The newest list that verified under the issuer's key.
    pub list: Option<Verified<RevocationList>>,
    /// When a list was last fetched and verified.
    pub last_success: Option<DateTime<Utc>>,
    /// When each revoked serial was first seen revoked by this verifier.
    pub revoked_since: std::collections::BTreeMap<String, DateTime<Utc>>,
    revoked: std::collections::HashSet<String>,
}

impl RevocationView {
    pub fn new(
        list: Option<Verified<RevocationList>>,
        last_success: Option<DateTime<Utc>>,
    ) -> Self {
        let revoked = list
            .as_ref()
            .map(|l| l.revoked.iter().cloned().collect())
            .unwrap_or_default();
        Self {
            list,
            last_success,
            revoked_since: Default::default(),
            revoked,
        }
    }

    pub fn is_revoked(&self, serial: &str) -> bool {
        self.revoked.contains(serial)
    }
}

/// The outcome of checking one attestation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttestationStatus {
    Verified,
    UntrustedIssuer,
    NotTrustedForAchievement,
    SubjectMismatch,
    NotYetValid,
    Expired,
    Revoked,
    /// No revocation list that is verified, unexpired and fetched within the grace period.
    RevocationStatusUnknown,
}

impl AttestationStatus {
    /// Every status, as the API names them.
    pub const ALL: &'static [AttestationStatus] = &[
        Self::Verified,
        Self::UntrustedIssuer,
        Self::NotTrustedForAchievement,
        Self::SubjectMismatch,
        Self::NotYetValid,
        Self::Expired,
        Self::Revoked,
        Self::RevocationStatusUnknown,
    ];

    /// Its name on the wire (`verified`, `not_yet_valid`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verified => "verified",
            Self::UntrustedIssuer => "untrusted_issuer",
            Self::NotTrustedForAchievement => "not_trusted_for_achievement",
            Self::SubjectMismatch => "subject_mismatch",
            Self::NotYetValid => "not_yet_valid",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::RevocationStatusUnknown => "revocation_status_unknown",
        }
    }

    /// The status a wire name names.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| s.as_str() == name)
    }
}

/// One named check and its result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Check {
    /// `signature`, `issuer_trusted`, `trusted_for_achievement`, `subject`, `validity`, `revocation`.
    #[schema(value_type = String)]
    pub check: std::borrow::Cow<'static, str>,
    pub ok: bool,
    /// Why it failed (absent when it passed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

fn check(name: &'static str, ok: bool, reason: impl FnOnce() -> String) -> Check {
    Check {
        check: std::borrow::Cow::Borrowed(name),
        ok,
        reason: (!ok).then(reason),
    }
}

/// Checks an attestation whose signature already verified under its `issuer` key, as
/// presented by `presenter`. Returns every check (all are run, for provenance) and the
/// status: the first failure in the order listed, or `Verified`.
pub fn check_attestation(
    att: &Attestation,
    presenter: &DidKey,
    issuers: &[TrustedIssuer],
    revocation: Option<&RevocationView>,
    grace: Duration,
    now: DateTime<Utc>,
) -> (AttestationStatus, Vec<Check>) {
    let issuer = issuers.iter().find(|i| i.id == att.issuer);
    let trusted_for = issuer.is_some_and(|i| i.achievements.contains(&att.achievement));
    let empty = RevocationView::default();
    let view = revocation.unwrap_or(&empty);
    let list_usable = view
        .list
        .as_ref()
        .filter(|l| l.expires_at > now && view.last_success.is_some_and(|t| now - t <= grace));
    let revoked = list_usable.is_some() && view.is_revoked(&att.serial);

    let checks = vec![
        check("signature", true, String::new),
        check("issuer_trusted", issuer.is_some(), || {
            format!("{} is not a trusted issuer", att.issuer)
        }),
        check("trusted_for_achievement", trusted_for, || {
            format!("the issuer is not trusted for {:?}", att.achievement)
        }),
        check("subject", att.subject == *presenter, || {
            format!(
                "the attestation is about {}, not the organisation presenting it",
                att.subject
            )
        }),
        check(
            "validity",
            att.valid_from <= now && now < att.valid_until,
            || {
                if now < att.valid_from {
                    format!("not valid until {}", att.valid_from.to_rfc3339())
                } else {
                    format!("expired at {}", att.valid_until.to_rfc3339())
                }
            },
        ),
        check("revocation", list_usable.is_some() && !revoked, || {
            if revoked {
                format!("serial {} is revoked", att.serial)
            } else if view.list.as_ref().is_some_and(|l| l.expires_at <= now) {
                "the issuer's revocation list has expired".into()
            } else if view.list.is_some() {
                "the issuer's revocation list could not be refreshed within the grace period".into()
            } else {
                "no verified revocation list from this issuer".into()
            }
        }),
    ];
    let status = if issuer.is_none() {
        AttestationStatus::UntrustedIssuer
    } else if !trusted_for {
        AttestationStatus::NotTrustedForAchievement
    } else if att.subject != *presenter {
        AttestationStatus::SubjectMismatch
    } else if now < att.valid_from {
        AttestationStatus::NotYetValid
    } else if now >= att.valid_until {
        AttestationStatus::Expired
    } else if revoked {
        AttestationStatus::Revoked
    } else if list_usable.is_none() {
        AttestationStatus::RevocationStatusUnknown
    } else {
        AttestationStatus::Verified
    };
    (status, checks)
}

/// The first instant after `now` at which [`check_attestation`]'s status for `att` can
/// differ from its status at `now`, or `None` when it never can: each time the check
/// compares `now` with (the attestation's validity bounds, the revocation list's expiry,
/// the end of its grace period). A caller may keep the status until then.
pub fn attestation_status_until(
    att: &Attestation,
    revocation: Option<&RevocationView>,
    grace: Duration,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let list_expires = revocation
        .and_then(|v| v.list.as_ref())
        .map(|l| l.expires_at);
    // The list is usable while `now - last_success <= grace`: it stops just after.
    let grace_ends = revocation
        .and_then(|v| v.last_success)
        .and_then(|t| t.checked_add_signed(grace))
        .and_then(|t| t.checked_add_signed(Duration::nanoseconds(1)));
    [
        Some(att.valid_from),
        Some(att.valid_until),
        list_expires,
        grace_ends,
    ]
    .into_iter()
    .flatten()
    .filter(|t| *t > now)
    .min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::generate;

    #[test]
    fn each_status_has_its_wire_name() {
        for status in AttestationStatus::ALL {
            let wire = serde_json::to_value(status).unwrap_or_default();
            assert_eq!(wire.as_str(), Some(status.as_str()));
            assert_eq!(AttestationStatus::from_name(status.as_str()), Some(*status));
        }
        assert_eq!(AttestationStatus::from_name("bogus"), None);
    }

    struct Fixture {
        issuer_key: ed25519_dalek::SigningKey,
        org: DidKey,
        now: DateTime<Utc>,
    }

    impl Fixture {
        fn new() -> Self {
            Self {
                issuer_key: generate(),
                org: DidKey::new(generate().verifying_key()),
                now: Utc::now(),
            }
        }
        fn issuer(&self) -> DidKey {
            DidKey::new(self.issuer_key.verifying_key())
        }
        fn att(&self) -> Attestation {
            Attestation {
                issuer: self.issuer(),
                subject: self.org,
                achievement: "trauma-informed-practice".into(),
                level: None,
                valid_from: self.now - Duration::days(10),
                valid_until: self.now + Duration::days(10),
                serial: "S-1".into(),
            }
        }
        fn policy(&self, achievements: &[&str]) -> Vec<TrustedIssuer> {
            vec![TrustedIssuer {
                id: self.issuer(),
                name: "Trainer".into(),
                achievements: achievements.iter().map(|s| s.to_string()).collect(),
            }]
        }
        fn list(&self, revoked: &[&str], expires_in: Duration) -> RevocationView {
            let list = RevocationList {
                issuer: self.issuer(),
                version: 1,
                issued_at: self.now - Duration::hours(1),
                expires_at: self.now + expires_in,
                revoked: revoked.iter().map(|s| s.to_string()).collect(),
            };
            let list = if expires_in <= Duration::zero() {
                RevocationList {
                    issued_at: self.now - Duration::days(30),
                    ..list
                }
            } else {
                list
            };
            RevocationView::new(
                Some(Verified::sign(list, &self.issuer_key).unwrap()),
                Some(self.now),
            )
        }
    }

    #[test]
    fn every_way_to_fail_and_the_way_to_pass() {
        let f = Fixture::new();
        let grace = Duration::hours(24);
        let ok_list = f.list(&[], Duration::days(7));
        let run = |att: &Attestation, policy: &[TrustedIssuer], view: Option<RevocationView>| {
            check_attestation(att, &f.org, policy, view.as_ref(), grace, f.now).0
        };
        let trusted = f.policy(&["trauma-informed-practice"]);
        assert_eq!(
            run(&f.att(), &trusted, Some(ok_list.clone())),
            AttestationStatus::Verified
        );
        assert_eq!(
            run(&f.att(), &[], Some(ok_list.clone())),
            AttestationStatus::UntrustedIssuer
        );
        assert_eq!(
            run(
                &f.att(),
                &f.policy(&["safeguarding-adults"]),
                Some(ok_list.clone())
            ),
            AttestationStatus::NotTrustedForAchievement
        );
        let other = Attestation {
            subject: DidKey::new(generate().verifying_key()),
            ..f.att()
        };
        assert_eq!(
            run(&other, &trusted, Some(ok_list.clone())),
            AttestationStatus::SubjectMismatch
        );
        let early = Attestation {
            valid_from: f.now + Duration::days(1),
            ..f.att()
        };
        assert_eq!(
            run(&early, &trusted, Some(ok_list.clone())),
            AttestationStatus::NotYetValid
        );
        let late = Attestation {
            valid_until: f.now - Duration::days(1),
            valid_from: f.now - Duration::days(9),
            ..f.att()
        };
        assert_eq!(
            run(&late, &trusted, Some(ok_list.clone())),
            AttestationStatus::Expired
        );
        assert_eq!(
            run(
                &f.att(),
                &trusted,
                Some(f.list(&["S-1"], Duration::days(7)))
            ),
            AttestationStatus::Revoked
        );
        assert_eq!(
            run(&f.att(), &trusted, None),
            AttestationStatus::RevocationStatusUnknown
        );
        assert_eq!(
            run(&f.att(), &trusted, Some(f.list(&[], -Duration::days(1)))),
            AttestationStatus::RevocationStatusUnknown
        );
        let stale = RevocationView::new(ok_list.list.clone(), Some(f.now - Duration::hours(25)));
        let (status, checks) =
            check_attestation(&f.att(), &f.org, &trusted, Some(&stale), grace, f.now);
        assert_eq!(status, AttestationStatus::RevocationStatusUnknown);
        let revocation = checks.iter().find(|c| c.check == "revocation").unwrap();
        assert!(revocation.reason.as_deref().unwrap().contains("grace"));
    }

    /// Until the instant [`attestation_status_until`] names, the status stays as it was;
    /// at that instant it may change. Checked from moments before, between and after the
    /// bounds of attestations and lists whose bounds fall in several orders (leaving any one
    /// bound out of the function fails it).
    #[test]
    fn the_status_holds_until_the_next_bound() {
        let f = Fixture::new();
        let grace = Duration::hours(24);
        let trusted = f.policy(&["trauma-informed-practice"]);
        let h = Duration::hours;
        let atts = [
            f.att(),
            Attestation {
                valid_from: f.now + h(2),
                valid_until: f.now + h(30),
                ..f.att()
            },
            Attestation {
                valid_from: f.now - h(50),
                valid_until: f.now + h(5),
                ..f.att()
            },
        ];
        let views = [
            None,
            Some(f.list(&[], h(3))),
            Some(f.list(&[], Duration::days(7))),
            Some(f.list(&["S-1"], h(40))),
            Some(RevocationView::new(
                f.list(&[], Duration::days(7)).list,
                Some(f.now - h(20)),
            )),
        ];
        let status = |att: &Attestation, view: Option<&RevocationView>, at: DateTime<Utc>| {
            check_attestation(att, &f.org, &trusted, view, grace, at).0
        };
        let mut changes_seen = 0;
        for att in &atts {
            for view in &views {
                for start in (-60..60).step_by(7) {
                    let now = f.now + h(start);
                    let before = status(att, view.as_ref(), now);
                    let Some(until) = attestation_status_until(att, view.as_ref(), grace, now)
                    else {
                        for later in [h(1), Duration::days(400)] {
                            assert_eq!(status(att, view.as_ref(), now + later), before);
                        }
                        continue;
                    };
                    assert!(until > now);
                    let span = until - now;
                    for at in [now + span / 2, until - Duration::nanoseconds(1)] {
                        assert_eq!(
                            status(att, view.as_ref(), at),
                            before,
                            "from {start} h, the status held until {until}"
                        );
                    }
                    changes_seen += usize::from(status(att, view.as_ref(), until) != before);
                }
            }
        }
        // The bounds named are where the status changes, not only times it holds across.
        assert!(
            changes_seen > 20,
            "only {changes_seen} changes at the bounds"
        );
    }
}
