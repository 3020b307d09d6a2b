//! The part of FM002 that reads the whole capture: one XccDiversionPattern suggestion,
//! proven on every number XCC looks a Follow-Me user up by, and each finding's fix told
//! with the rewrites it brings. Not a rule itself.
//!
//! FM002 finds each bad number on its own call; what it suggests depends on every number
//! the capture shows (a rewrite must fix the bad ones and leave the good ones alone). So
//! its findings carry what the suggestion needs ([`Pending`]), and [`complete`] writes the
//! suggestion and the fix from the numbers observed ([`Diversions`]): those of the calls at
//! hand when all are held at once, or those added up over every unit of calls when they
//! are judged a few at a time (`analyze` reading a capture as a stream completes its
//! findings again at the end, with the whole capture's numbers).
//!
//! Input: findings and the observed numbers. Output: the findings' suggestion and message.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::numbers::{Classified, Site, pattern};

use super::followme::{diverting, first_leg_invites};
use super::{Context, Finding};

// Distinct numbers kept: `--max-diverting-numbers` ([`crate::limits::Limits`]), far above
// a site's users. Past it, the proof covers the first ones in capture order (the same
// ones whatever order the calls are judged in), the suggestion says so
// (`observed_truncated`) and rule CAP006 reports it ([`Diversions::limit_finding`]).

/// Where a number was seen: its call's first frame, then its INVITE's frame.
pub type Place = (u64, u64);

/// Which FM002 finding it is: the number of a forwarded INVITE XCC answered 503, or of
/// one whose answer a damaged capture lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Answered503,
    ResponseMissing,
}

/// What an FM002 finding's suggestion and fix still need; see the module docs.
#[derive(Debug, Clone)]
pub struct Pending {
    pub kind: Kind,
    pub place: Place,
    pub number: Classified,
    /// The message around the fix.
    pub before: String,
    pub after: String,
}

/// The numbers forwarded first legs name XCC's user by (each distinct number at its
/// first place), classified with the site's facts: the first `--max-diverting-numbers` of them in
/// capture order, however they were added.
#[derive(Debug, Clone)]
pub struct Diversions {
    numbers: BTreeMap<String, (Place, Classified)>,
    /// The same numbers by place, the latest last: the one to let go past the cap.
    by_place: BTreeSet<(Place, String)>,
    cap: usize,
    /// Numbers let go (at most [`Diversions::left_out_cap`] of them: past that, their
    /// count is a lower bound), and the earliest place of one.
    left_out: BTreeSet<String>,
    first_left_out: Option<Place>,
}

impl Default for Diversions {
    fn default() -> Self {
        Diversions::with_cap(crate::limits::current().diverting_numbers)
    }
}

impl Diversions {
    fn with_cap(cap: usize) -> Self {
        Diversions {
            numbers: BTreeMap::new(),
            by_place: BTreeSet::new(),
            cap,
            left_out: BTreeSet::new(),
            first_left_out: None,
        }
    }

    /// The numbers of the calls of `cx`.
    pub fn of(cx: &Context<'_>) -> Self {
        let mut d = Diversions::default();
        for (c, t) in first_leg_invites(cx) {
            if let Some((n, _)) = diverting(t, cx) {
                d.note((c.first_frame, t.request_frame), n);
            }
        }
        d
    }

    /// Notes `n` at `at`: its first place is kept; past the cap, the number seen latest
    /// (in capture order) goes, so that the numbers kept are the first ones whatever
    /// order they came in.
    fn note(&mut self, at: Place, n: Classified) {
        if let Some(e) = self.numbers.get_mut(&n.raw) {
            if at < e.0 {
                self.by_place.remove(&(e.0, n.raw.clone()));
                e.0 = at;
                self.by_place.insert((at, n.raw));
            }
            return;
        }
        if self.numbers.len() >= self.cap {
            match self.by_place.last() {
                Some(last) if (at, &n.raw) < (last.0, &last.1) => {
                    if let Some((gone, raw)) = self.by_place.pop_last() {
                        self.numbers.remove(&raw);
                        self.note_left_out(gone, raw);
                    }
                }
                _ => {
                    self.note_left_out(at, n.raw);
                    return;
                }
            }
        }
        self.by_place.insert((at, n.raw.clone()));
        self.numbers.insert(n.raw.clone(), (at, n));
    }

    /// Number `raw`, first seen at `at`, was let go.
    fn note_left_out(&mut self, at: Place, raw: String) {
        self.first_left_out = Some(self.first_left_out.map_or(at, |f| f.min(at)));
        if self.left_out.len() < self.left_out_cap() {
            self.left_out.insert(raw);
        }
    }

    /// The numbers let go that are counted: as many as are kept, and at least the
    /// default cap's number (a cap lowered to test a suggestion still counts exactly).
    fn left_out_cap(&self) -> usize {
        self.cap
            .max(crate::limits::Limits::DEFAULT.diverting_numbers)
    }

    /// More distinct numbers than the cap came: the latest were let go.
    fn truncated(&self) -> bool {
        self.first_left_out.is_some()
    }

    /// Adds `other`.
    pub fn add(&mut self, other: &Diversions) {
        if let Some(at) = other.first_left_out {
            for raw in &other.left_out {
                self.note_left_out(at, raw.clone());
            }
        }
        for (at, n) in other.numbers.values() {
            self.note(*at, n.clone());
        }
    }

    /// The CAP006 finding of the numbers let go at the cap (none when none was).
    pub fn limit_finding(&self) -> Option<Finding> {
        let (_, frame) = self.first_left_out?;
        // A number let go may have been kept since (it came at an earlier place).
        let left_out = (self.left_out.iter())
            .filter(|raw| !self.numbers.contains_key(*raw))
            .count();
        Some(super::cap006_limit_reached::diverting_numbers(
            self.cap,
            left_out as u64,
            self.left_out.len() >= self.left_out_cap(),
            frame,
        ))
    }

    /// In capture order.
    fn in_order(&self) -> Vec<&(Place, Classified)> {
        let mut v: Vec<_> = self.numbers.values().collect();
        v.sort_by_key(|(at, _)| *at);
        v
    }
}

/// Writes the suggestion and fix of every pending FM002 finding from the numbers
/// `observed`; see the module docs.
pub fn complete(findings: &mut [Finding], observed: &Diversions, site: &Site) {
    for kind in [Kind::Answered503, Kind::ResponseMissing] {
        let mut bad: Vec<(usize, &Pending)> = (findings.iter().enumerate())
            .filter_map(|(i, f)| Some((i, f.pending.as_deref()?)))
            .filter(|(_, p)| p.kind == kind)
            .collect();
        if bad.is_empty() {
            continue;
        }
        bad.sort_by_key(|(_, p)| p.place);
        // Each distinct number once: the bad ones first, then (for XCC's 503) every other
        // number forwarded to XCC, the ones it understands included.
        let mut seen = std::collections::HashSet::new();
        let mut numbers: Vec<Classified> = (bad.iter().map(|(_, p)| &p.number))
            .filter(|n| seen.insert(n.raw.clone()))
            .cloned()
            .collect();
        if kind == Kind::Answered503 {
            numbers.extend(
                (observed.in_order().into_iter().map(|(_, n)| n))
                    .filter(|n| seen.insert(n.raw.clone()))
                    .cloned(),
            );
        }
        let (mut suggestion, normalized) = suggestion(&numbers, site);
        if kind == Kind::Answered503 && observed.truncated() {
            suggestion["observed_truncated"] = serde_json::Value::Bool(true);
        }
        let suggestion = Arc::new(suggestion);
        let texts: Vec<(usize, String)> = bad
            .iter()
            .map(|(i, p)| {
                let after = normalized.get(&p.number.raw).cloned().flatten();
                (
                    *i,
                    format!("{}{}{}", p.before, fix(p, after, site), p.after),
                )
            })
            .collect();
        for (i, message) in texts {
            findings[i].message = message;
            findings[i].suggestion = Some(Arc::clone(&suggestion));
        }
    }
}

/// What to change, for one bad number (`after`: what the suggested rewrites make of it).
fn fix(p: &Pending, after: Option<String>, site: &Site) -> String {
    let n = &p.number;
    if p.kind == Kind::ResponseMissing {
        return match after {
            Some(a) => format!(
                "Make the PBX send {a} instead, or extend XccDiversionPattern as the suggestion shows (syntax unverified)."
            ),
            None => "Make the PBX send the number as E.164 (+49…) or as the internal number."
                .to_string(),
        };
    }
    // The number's own rewrite when it has one; another number's rewrite may also reach
    // it (the first that matches applies).
    match (&after, pattern::rewrite_for(n, site)) {
        (Some(a), Some(rw)) => format!(
            "Make the PBX send {a} instead, or extend XccDiversionPattern with the rewrite {} → {} (turns {} into {a}; candidate value in the suggestion, syntax unverified).",
            rw.pattern, rw.replace, n.raw
        ),
        (Some(a), None) => format!(
            "Make the PBX send {a} instead, or extend XccDiversionPattern with the suggested rewrites, which turn {} into {a} (candidate value in the suggestion, syntax unverified).",
            n.raw
        ),
        _ => match crate::numbers::unresolved_reason(n, site) {
            Some(why) => format!(
                "Make the PBX send the number as E.164 (+49…) or as the internal number; sipdiag could not derive a rewrite: {why}."
            ),
            None => "Make the PBX send the number as E.164 (+49…) or as the internal number; sipdiag could not derive a rewrite with the site facts it has (give --country-code / --internal-length / --outside-prefix).".to_string(),
        },
    }
}

/// Numbers listed in a suggestion's `observed`, `normalized` and `proof` arrays; the proof
/// covers every distinct number, the arrays show the first ones (`observed_count` says
/// how many there are), so that a capture with thousands of forwarded numbers does not
/// repeat thousands of entries in every FM002 finding.
const LISTED: usize = 20;

/// The FM002 suggestion object (see the JSON contract in the README), and every distinct
/// observed number's normalised form (`None` when the rewrites do not make it one XCC
/// understands).
pub(super) fn suggestion(
    observed: &[Classified],
    site: &Site,
) -> (
    serde_json::Value,
    std::collections::HashMap<String, Option<String>>,
) {
    let mut rewrites: Vec<pattern::Rewrite> = Vec::new();
    for o in observed {
        if let Some(rw) = pattern::rewrite_for(o, site)
            && !rewrites.contains(&rw)
        {
            rewrites.push(rw);
        }
    }
    let raws: Vec<String> = observed.iter().map(|o| o.raw.clone()).collect();
    let proof = pattern::prove(&rewrites, &raws, site);
    let normalized: Vec<Option<String>> = proof
        .iter()
        .map(|p| p.understood_by_xcc.then(|| p.rewritten.clone()))
        .collect();
    let understood = normalized.iter().filter(|n| n.is_some()).count();
    let listed = raws.len().min(LISTED);
    let value = serde_json::json!({
        "kind": "xcc_diversion_pattern",
        "observed": raws[..listed],
        "normalized": normalized[..listed],
        "observed_count": raws.len(),
        "understood_count": understood,
        "rewrite": rewrites.first(),
        "rewrites": rewrites,
        "proof": proof[..listed],
        "xcc_diversion_pattern": (!rewrites.is_empty()).then(|| pattern::xcc_diversion_pattern(site.current_pattern.as_deref(), &rewrites)),
        "current_pattern": site.current_pattern,
        "syntax_verified": false,
        "syntax_note": pattern::SYNTAX_CAVEAT,
    });
    (value, raws.into_iter().zip(normalized).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::numbers::classify;

    /// Thousands of distinct forwarded numbers: the proof covers all of them, the arrays
    /// list the first few, and every number still gets its normalised form.
    #[test]
    fn suggestion_proves_every_number_and_lists_a_few() {
        let site = Site {
            country_code: Some("49".into()),
            ..Site::default()
        };
        let observed: Vec<Classified> = (0..3000)
            .map(|n| classify(&format!("0049301{n:05}"), &site))
            .collect();
        let (s, normalized) = suggestion(&observed, &site);
        assert_eq!(s["observed_count"], 3000);
        assert_eq!(s["understood_count"], 3000);
        assert_eq!(s["observed"].as_array().unwrap().len(), LISTED);
        assert_eq!(s["normalized"].as_array().unwrap().len(), LISTED);
        assert_eq!(s["proof"].as_array().unwrap().len(), LISTED);
        assert_eq!(s["observed"][0], "004930100000");
        assert_eq!(s["normalized"][0], "+4930100000");
        assert_eq!(normalized.len(), 3000);
        assert_eq!(
            normalized.get("004930102999").cloned().flatten().as_deref(),
            Some("+4930102999")
        );
    }

    /// Numbers added unit by unit, in any order, are listed in capture order, each at its
    /// first place; past the cap, the first ones in capture order are kept whatever the
    /// order, and the cap is said to have cut.
    #[test]
    fn numbers_add_up_in_capture_order() {
        let site = Site::default();
        let n = |raw: &str| classify(raw, &site);
        let (mut a, mut b) = (Diversions::default(), Diversions::default());
        a.note((9, 9), n("0301"));
        a.note((3, 4), n("0302"));
        b.note((1, 2), n("0301"));
        b.note((5, 5), n("0303"));
        let mut sum = Diversions::default();
        sum.add(&a);
        sum.add(&b);
        let raws = |d: &Diversions| -> Vec<String> {
            d.in_order().iter().map(|(_, n)| n.raw.clone()).collect()
        };
        assert_eq!(raws(&sum), ["0301", "0302", "0303"]);
        assert!(!sum.truncated());
        // Twelve numbers at places 0..12 (one seen again earlier), in units of three, in
        // every rotation of the units, under a cap of five.
        let seen: Vec<(u64, String)> = (0..12u64)
            .map(|i| (i, format!("0301{i:02}")))
            .chain([(1, "030111".to_string())])
            .collect();
        let units: Vec<&[(u64, String)]> = seen.chunks(3).collect();
        for r in 0..units.len() {
            let mut sum = Diversions::with_cap(5);
            for u in units.iter().cycle().skip(r).take(units.len()) {
                let mut d = Diversions::with_cap(5);
                for (at, raw) in u.iter() {
                    d.note((*at, 0), n(raw));
                }
                sum.add(&d);
            }
            assert_eq!(
                raws(&sum),
                ["030100", "030101", "030111", "030102", "030103"],
                "rotation {r}"
            );
            assert!(sum.truncated());
            // Seven distinct numbers left out, each counted once (030111, left out at
            // place 11 in some orders, is kept at its place 1), the first at place 4.
            assert_eq!(sum.first_left_out, Some((4, 0)), "rotation {r}");
            let f = sum.limit_finding().expect("a CAP006 finding");
            assert_eq!(f.id, "CAP006");
            assert_eq!(f.evidence["count"], 7, "rotation {r}: {}", f.evidence);
            assert_eq!(f.evidence["cap"], 5);
            assert_eq!(f.evidence["count_is_lower_bound"], false);
        }
        assert!(Diversions::default().limit_finding().is_none());
    }

    /// The suggestion says when the cap cut the numbers it proves, and only then.
    #[test]
    fn a_suggestion_says_when_the_numbers_were_cut() {
        let site = Site::default();
        let finding = || {
            let rule = crate::rules::lookup("FM002").expect("FM002").info();
            let mut f = Finding::new(rule, "t", "");
            f.pending = Some(Box::new(Pending {
                kind: Kind::Answered503,
                place: (1, 1),
                number: classify("0301", &site),
                before: String::new(),
                after: String::new(),
            }));
            f
        };
        for (cap, cut) in [(2, false), (1, true)] {
            let mut d = Diversions::with_cap(cap);
            d.note((1, 1), classify("0301", &site));
            d.note((2, 2), classify("0302", &site));
            let mut f = [finding()];
            complete(&mut f, &d, &site);
            let s = f[0].suggestion.as_deref().expect("a suggestion");
            assert_eq!(s.get("observed_truncated").is_some(), cut, "{s}");
            assert_eq!(s["observed_count"], cap, "{s}");
        }
    }
}
