//! Rewrites (regular expression → replacement) that turn observed numbers into what XCC
//! understands, and the candidate `XccDiversionPattern` built from them.
//!
//! The XccDiversionPattern dialect is **unverified**: the vendor only says that `]||[`
//! separates alternatives, that the last `[` must not be closed, and that the
//! AdaptCSTAAddress syntax is used. [`xcc_diversion_pattern`] is the one place that writes
//! it; correct it here and every report follows.

use regex::Regex;
use serde::Serialize;

use super::{Classified, NumberFormat, Site, classify};

/// The vendor's caveat, quoted in every suggestion.
pub const SYNTAX_CAVEAT: &str = "XccDiversionPattern syntax unverified: the vendor documents only that `]||[` separates alternatives, that the last `[` must not be closed again, and that the AdaptCSTAAddress syntax is used. Confirm against the current value in Advanced Settings before applying.";

/// Separator between alternatives in an XccDiversionPattern value.
pub const SEPARATOR: &str = "]||[";

/// A rewrite: replace `match` (a regular expression) with `replace` (`$1` = group 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rewrite {
    #[serde(rename = "match")]
    pub pattern: String,
    pub replace: String,
}

impl Rewrite {
    /// Parses `REGEX=>REPLACEMENT`.
    pub fn parse(spec: &str) -> Result<Rewrite, String> {
        let (p, r) = spec
            .split_once("=>")
            .ok_or_else(|| format!("rewrite {spec:?} is not of the form 'REGEX=>REPLACEMENT'"))?;
        Regex::new(p).map_err(|e| format!("rewrite {spec:?}: bad regular expression: {e}"))?;
        Ok(Rewrite {
            pattern: p.to_string(),
            replace: r.to_string(),
        })
    }

    /// Applies the rewrite; `None` when it does not match.
    pub fn apply(&self, number: &str) -> Option<String> {
        let re = Regex::new(&self.pattern).ok()?;
        re.is_match(number)
            .then(|| re.replace(number, self.replace.as_str()).into_owned())
    }
}

/// The most general rewrite for one classified number, or `None` when it needs none or
/// sipdiag cannot tell the normalised form.
pub fn rewrite_for(c: &Classified, site: &Site) -> Option<Rewrite> {
    let rw = |p: String, r: &str| {
        Some(Rewrite {
            pattern: p,
            replace: r.to_string(),
        })
    };
    let cc = site.country_code.as_deref();
    match &c.format {
        NumberFormat::International00 => rw(r"^00(\d+)$".into(), "+$1"),
        NumberFormat::National0 => rw(r"^0([1-9]\d+)$".into(), &format!("+{}$1", cc?)),
        // Bounded by E.164's length so that the rewrite leaves internal numbers that
        // happen to start with the country code's digits alone.
        NumberFormat::InternationalNoPlus => {
            let cc = cc?;
            rw(
                format!(
                    r"^{}(\d{{{},{}}})$",
                    regex::escape(cc),
                    super::NO_PLUS_MIN_NATIONAL,
                    super::E164_MAX_DIGITS.checked_sub(cc.len())?
                ),
                &format!("+{cc}$1"),
            )
        }
        NumberFormat::OutsidePrefix { prefix } => {
            let digits = super::clean(&c.raw);
            let normalized = c.normalized.as_deref()?;
            if digits == format!("{prefix}00{}", &normalized[1..]) {
                rw(format!(r"^{}00(\d+)$", regex::escape(prefix)), "+$1")
            } else {
                rw(
                    format!(r"^{}0([1-9]\d+)$", regex::escape(prefix)),
                    &format!("+{}$1", cc?),
                )
            }
        }
        NumberFormat::PrefixedInternal { prefix } => rw(
            format!(
                r"^{}(\d{{{}}})$",
                regex::escape(prefix),
                site.internal_length?
            ),
            "$1",
        ),
        NumberFormat::SuperfluousCharacter => {
            let len = c.normalized.as_ref()?.len();
            rw(format!(r"^\+(\d{{{len}}})$"), "$1")
        }
        _ => None,
    }
}

/// One observed number with the effect of the suggested rewrites on it.
#[derive(Debug, Clone, Serialize)]
pub struct Proof {
    pub observed: String,
    pub rewritten: String,
    /// The number's format after the rewrites, by the name JSON uses everywhere for number
    /// formats (`e164`, `internal`, `international00`, …: [`NumberFormat`]'s `kind`).
    pub format_after: &'static str,
    /// The same, for people: `E.164`, `international with 00`, …
    pub format_after_label: String,
    pub understood_by_xcc: bool,
    /// Why the number is still not understood, and which site flag would settle it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unresolved: Option<String>,
}

/// Shows what the rewrites do to each observed number.
pub fn prove(rewrites: &[Rewrite], observed: &[String], site: &Site) -> Vec<Proof> {
    // Each rewrite compiled once, not once per number; the first that matches applies
    // (XCC tries alternatives in order).
    let compiled: Vec<(Regex, &str)> = rewrites
        .iter()
        .filter_map(|r| Some((Regex::new(&r.pattern).ok()?, r.replace.as_str())))
        .collect();
    observed
        .iter()
        .map(|o| {
            let n = super::clean(o);
            let after = compiled
                .iter()
                .find(|(re, _)| re.is_match(&n))
                .map(|(re, rep)| re.replace(&n, *rep).into_owned())
                .unwrap_or(n);
            let c = classify(&after, site);
            let understood = c.format.understood_by_xcc();
            let unresolved = (!understood).then(|| {
                super::unresolved_reason(&c, site).unwrap_or_else(|| match &c.normalized {
                    Some(n) => format!("no rewrite turns {after} into {n}"),
                    None => format!("no rewrite turns {after} into E.164 or an internal number"),
                })
            });
            Proof {
                observed: o.clone(),
                format_after: c.format.kind(),
                format_after_label: c.format.label(),
                understood_by_xcc: understood,
                unresolved,
                rewritten: after,
            }
        })
        .collect()
}

/// The candidate XccDiversionPattern: the current value (if known) with one alternative
/// per rewrite appended after the `]||[` separator, the last bracket left open. Each
/// alternative is written as `REGEX=>REPLACEMENT`, the notation of `sipdiag pattern test`.
pub fn xcc_diversion_pattern(current: Option<&str>, rewrites: &[Rewrite]) -> String {
    let mut out = match current {
        Some(c) if !c.is_empty() => c.trim_end_matches(']').to_string(),
        _ => String::new(),
    };
    for r in rewrites {
        if out.is_empty() {
            out.push('[');
        } else {
            out.push_str(SEPARATOR);
        }
        out.push_str(&format!("{}=>{}", r.pattern, r.replace));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> Site {
        Site {
            country_code: Some("49".into()),
            internal_length: Some(3),
            outside_prefix: Some("0".into()),
            ..Site::default()
        }
    }

    #[test]
    fn rewrites_fix_each_format() {
        for (raw, want) in [
            ("004930123456", "+4930123456"),
            ("030123456", "+4930123456"),
            ("99123", "123"),
            ("+123", "123"),
            ("0004930123456", "+4930123456"),
            ("0030123456", "+4930123456"),
            ("49301234175", "+49301234175"),
        ] {
            let c = classify(raw, &site());
            let rw = rewrite_for(&c, &site()).unwrap_or_else(|| panic!("no rewrite for {raw}"));
            assert_eq!(rw.apply(raw).as_deref(), Some(want), "{raw} with {rw:?}");
        }
    }

    #[test]
    fn builds_pattern_after_current_value() {
        let rw = vec![Rewrite::parse(r"^00(\d+)$=>+$1").unwrap()];
        assert_eq!(xcc_diversion_pattern(None, &rw), r"[^00(\d+)$=>+$1");
        assert_eq!(
            xcc_diversion_pattern(Some("[^\\+49(\\d+)"), &rw),
            r"[^\+49(\d+)]||[^00(\d+)$=>+$1"
        );
        assert!(Rewrite::parse("nope").is_err());
        assert!(Rewrite::parse("(=>x").is_err());
    }

    /// The rewrites of every format together turn every format into one XCC understands,
    /// and leave E.164 and internal numbers (also one that starts with `49`) alone.
    #[test]
    fn rewrites_of_all_formats_together_understand_every_number() {
        let observed: Vec<String> = [
            "+4930123456",
            "201",
            "493",
            "004930123457",
            "030123458",
            "99202",
            "+203",
            "49301234175",
        ]
        .map(String::from)
        .to_vec();
        let mut rewrites = Vec::new();
        for o in &observed {
            if let Some(rw) = rewrite_for(&classify(o, &site()), &site())
                && !rewrites.contains(&rw)
            {
                rewrites.push(rw);
            }
        }
        assert_eq!(rewrites.len(), 5, "{rewrites:?}");
        assert!(
            rewrites
                .iter()
                .any(|r| r.pattern == r"^49(\d{6,13})$" && r.replace == "+49$1")
        );
        let proof = prove(&rewrites, &observed, &site());
        let after: Vec<&str> = proof.iter().map(|p| p.rewritten.as_str()).collect();
        assert_eq!(
            after,
            [
                "+4930123456",
                "201",
                "493",
                "+4930123457",
                "+4930123458",
                "202",
                "203",
                "+49301234175"
            ]
        );
        assert!(proof.iter().all(|p| p.understood_by_xcc), "{proof:?}");
    }
}
