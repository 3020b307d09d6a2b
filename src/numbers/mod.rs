//! Phone numbers: the site profile, classification of Diversion/History-Info numbers,
//! normalisation to what XCC understands (E.164 `+49…` or an internal number), and the
//! smallest rewrite that fixes what the PBX sends.
//!
//! XCC recognises a forwarded user's number only as E.164 or as an internal number of the
//! configured length (DOMAIN.md, Follow-Me checklist item 2). The candidate
//! `XccDiversionPattern` syntax lives in [`pattern`] alone, because it is unverified.

pub mod pattern;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Facts about the customer's dialling plan, from flags, a `--site` file or inference.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Site {
    /// Country calling code without `+`, e.g. `49`.
    pub country_code: Option<String>,
    /// Area code without the national `0`, e.g. `30`.
    pub area_code: Option<String>,
    /// Length of internal (extension) numbers, e.g. 3.
    pub internal_length: Option<usize>,
    /// Digit(s) to seize an outside line, e.g. `0`.
    pub outside_prefix: Option<String>,
    /// Numbers of XPhone users, E.164 or internal.
    pub known_users: Vec<String>,
    /// The XccDiversionPattern configured today.
    pub current_pattern: Option<String>,
    /// What sipdiag inferred from the capture rather than being told. Rules read only
    /// which facts were inferred (each note up to " inferred from"): a streamed `analyze`
    /// judges calls with the notes as they stood, and checks only that.
    #[serde(skip_deserializing)]
    pub inferred: Vec<String>,
}

/// How a number is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum NumberFormat {
    /// `+4930123456`: understood by XCC.
    E164,
    /// `123` with the site's internal length: understood by XCC.
    Internal,
    /// `004930123456`.
    International00,
    /// `030123456`.
    National0,
    /// Country code and national number with neither `+` nor `00`, e.g. `4930123456`, as
    /// some PBXs send international numbers.
    InternationalNoPlus,
    /// Outside-line prefix before an international or national number, e.g. `0004930…`.
    OutsidePrefix { prefix: String },
    /// Prefix or node digits before an internal number, e.g. `99123`.
    PrefixedInternal { prefix: String },
    /// A superfluous character before an internal number, e.g. `+123`.
    SuperfluousCharacter,
    /// Letters or other characters: a SIP name, not a number.
    NonNumeric,
    /// Digits sipdiag cannot place with the site facts it has.
    Unknown,
}

impl NumberFormat {
    /// XCC finds users by numbers in these formats.
    pub fn understood_by_xcc(&self) -> bool {
        matches!(self, NumberFormat::E164 | NumberFormat::Internal)
    }

    /// The variant's name as JSON writes it (`kind`, snake_case).
    pub fn kind(&self) -> &'static str {
        match self {
            NumberFormat::E164 => "e164",
            NumberFormat::Internal => "internal",
            NumberFormat::International00 => "international00",
            NumberFormat::National0 => "national0",
            NumberFormat::InternationalNoPlus => "international_no_plus",
            NumberFormat::OutsidePrefix { .. } => "outside_prefix",
            NumberFormat::PrefixedInternal { .. } => "prefixed_internal",
            NumberFormat::SuperfluousCharacter => "superfluous_character",
            NumberFormat::NonNumeric => "non_numeric",
            NumberFormat::Unknown => "unknown",
        }
    }

    pub fn label(&self) -> String {
        match self {
            NumberFormat::E164 => "E.164".into(),
            NumberFormat::Internal => "internal".into(),
            NumberFormat::International00 => "international with 00".into(),
            NumberFormat::National0 => "national with 0".into(),
            NumberFormat::InternationalNoPlus => "international without + or 00".into(),
            NumberFormat::OutsidePrefix { prefix } => {
                format!("outside-line prefix {prefix} + number")
            }
            NumberFormat::PrefixedInternal { prefix } => {
                format!("prefix {prefix} + internal number")
            }
            NumberFormat::SuperfluousCharacter => {
                "an internal number with a superfluous character before it".into()
            }
            NumberFormat::NonNumeric => "non-numeric".into(),
            NumberFormat::Unknown => "unrecognised digits".into(),
        }
    }
}

/// A number as observed, classified and normalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Classified {
    pub raw: String,
    pub format: NumberFormat,
    /// What XCC would understand, when sipdiag can tell.
    pub normalized: Option<String>,
}

/// Removes visual separators (RFC 3966 §5.1.1) and URI parameters.
pub fn clean(raw: &str) -> String {
    let mut out = String::new();
    clean_into(raw, &mut out);
    out
}

/// [`clean`] into a buffer the caller reuses (emptied first).
fn clean_into(raw: &str, out: &mut String) {
    out.clear();
    out.extend(
        raw.split(';')
            .next()
            .unwrap_or("")
            .chars()
            .filter(|c| !matches!(c, '-' | '.' | '(' | ')' | ' ')),
    );
}

/// ITU-T E.164 country codes are prefix-free: 1, 7, a two-digit set, else three digits.
pub fn country_code_of(e164_digits: &str) -> Option<&str> {
    const TWO: &[&str] = &[
        "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46",
        "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
        "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
    ];
    let d = e164_digits;
    if d.starts_with('1') || d.starts_with('7') {
        return d.get(..1);
    }
    let two = d.get(..2)?;
    if TWO.contains(&two) {
        return Some(two);
    }
    d.get(..3)
}

/// Classifies one number against the site facts.
pub fn classify(raw: &str, site: &Site) -> Classified {
    let n = clean(raw);
    let result = |format, normalized: Option<String>| Classified {
        raw: raw.to_string(),
        format,
        normalized,
    };
    let (plus, digits) = match n.strip_prefix('+') {
        Some(d) => (true, d),
        None => (false, n.as_str()),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return result(NumberFormat::NonNumeric, None);
    }
    let internal = site.internal_length;
    let is_internal_len = |len: usize| internal.map_or(len <= 4, |l| l == len);
    if plus {
        if is_internal_len(digits.len()) {
            return result(NumberFormat::SuperfluousCharacter, Some(digits.to_string()));
        }
        return result(NumberFormat::E164, Some(n.clone()));
    }
    if internal == Some(digits.len())
        || (internal.is_none() && digits.len() <= 4 && !digits.starts_with('0'))
    {
        return result(NumberFormat::Internal, Some(digits.to_string()));
    }
    let cc = site.country_code.as_deref();
    let national = |rest: &str| cc.map(|c| format!("+{c}{rest}"));
    if let Some(op) = site.outside_prefix.as_deref().filter(|p| !p.is_empty())
        && let Some(rest) = digits.strip_prefix(op)
    {
        // Outside prefix + international (00…) or + national (0…).
        let intl = rest.strip_prefix("00");
        let own_country = intl.is_some_and(|r| cc.is_some_and(|c| r.starts_with(c)));
        if (!digits.starts_with("00") || own_country || digits.starts_with(&format!("{op}00")))
            && let Some(r) = rest.strip_prefix("00").filter(|r| r.len() > 4)
        {
            return result(
                NumberFormat::OutsidePrefix {
                    prefix: op.to_string(),
                },
                Some(format!("+{r}")),
            );
        }
        if let Some(r) = rest
            .strip_prefix('0')
            .filter(|r| r.len() > 4 && !r.starts_with('0'))
        {
            let intl_own = digits
                .strip_prefix("00")
                .is_some_and(|r| cc.is_some_and(|c| r.starts_with(c)));
            if !intl_own {
                return result(
                    NumberFormat::OutsidePrefix {
                        prefix: op.to_string(),
                    },
                    national(r),
                );
            }
        }
    }
    if let Some(r) = digits.strip_prefix("00").filter(|r| r.len() > 4) {
        return result(NumberFormat::International00, Some(format!("+{r}")));
    }
    if let Some(r) = digits.strip_prefix('0').filter(|r| r.len() > 4) {
        return result(NumberFormat::National0, national(r));
    }
    if let Some(c) = cc
        && no_plus_fits(digits, c)
    {
        return result(
            NumberFormat::InternationalNoPlus,
            Some(format!("+{digits}")),
        );
    }
    if let Some(l) = internal
        && digits.len() > l
        && digits.len() <= l + 3
    {
        let (prefix, ext) = digits.split_at(digits.len() - l);
        return result(
            NumberFormat::PrefixedInternal {
                prefix: prefix.to_string(),
            },
            Some(ext.to_string()),
        );
    }
    result(NumberFormat::Unknown, None)
}

/// Shortest national number (after the country code) taken for an international number
/// written without `+`/`00`: shorter digit strings that start with the country code are
/// more likely prefixed internal numbers.
pub const NO_PLUS_MIN_NATIONAL: usize = 6;

/// E.164 numbers have at most 15 digits, country code included (ITU-T E.164 §6.1).
pub const E164_MAX_DIGITS: usize = 15;

/// Whether `digits` reads as country code `cc` followed by a national number of a length
/// an E.164 number can have.
fn no_plus_fits(digits: &str, cc: &str) -> bool {
    !cc.is_empty()
        && digits.starts_with(cc)
        && (cc.len() + NO_PLUS_MIN_NATIONAL..=E164_MAX_DIGITS).contains(&digits.len())
}

/// Why sipdiag cannot turn a number XCC does not understand into one it does, and which
/// site flag would settle it; `None` when it can (or the number is fine).
pub fn unresolved_reason(c: &Classified, site: &Site) -> Option<String> {
    if c.format.understood_by_xcc() || c.normalized.is_some() {
        return None;
    }
    let digits = clean(&c.raw);
    Some(
        match (
            &c.format,
            site.country_code.as_deref(),
            site.internal_length,
        ) {
            (NumberFormat::NonNumeric, _, _) => format!(
                "{} is a name, not a number: only the PBX can send the user's number instead",
                c.raw
            ),
            (NumberFormat::National0, None, _) => format!(
                "{} is a national number, but the country code is unknown: give --country-code (e.g. 49) so that sipdiag can write it as E.164",
                c.raw
            ),
            (_, None, _) => format!(
                "sipdiag cannot place the {} digits of {} without the country code: give --country-code (e.g. 49); if it is an international number without + or 00, it then becomes one",
                digits.len(),
                c.raw
            ),
            (_, Some(cc), None) => format!(
                "{} neither starts with the country code {cc} nor has an internal number's length, which is unknown: give --internal-length (the dialling parameter), or --outside-prefix if the PBX puts an outside-line digit before numbers",
                c.raw
            ),
            (_, Some(cc), Some(l)) => format!(
                "{} ({} digits) neither starts with the country code {cc} nor has the internal length {l}, and is too long for a prefix before an internal number: check --country-code, --internal-length and --outside-prefix",
                c.raw,
                digits.len()
            ),
        },
    )
}

/// How many of the numbers an inference rests on its note lists.
const INFERRED_EXAMPLES: usize = 4;

/// Fills what the site profile lacks from numbers seen in the capture: the country code
/// from E.164 numbers, the internal length from short numeric ones. Says what it did and
/// from which numbers (`source` names where they were taken from).
///
/// The caller passes only numbers that can be users (Diversion/History-Info entries,
/// From/To of second legs), not the central AnyDevice number the first leg is sent to:
/// that number's length is a setting of its own (FM012), and counting it would pass a
/// too long AnyDevice number off as the internal length.
pub fn infer_site<S: AsRef<str>>(
    site: &mut Site,
    observed_users: impl IntoIterator<Item = S>,
    source: &str,
) {
    if site.country_code.is_some() && site.internal_length.is_some() {
        return;
    }
    let mut tally = SiteTally::default();
    for u in observed_users {
        tally.add(u.as_ref());
    }
    tally.apply(site, source);
}

/// Count, the first distinct numbers, and whether there were more.
type Tally = (usize, Vec<String>, bool);

/// What [`infer_site`] counts of the numbers seen, kept between calls: `sipdiag watch`
/// adds each call's numbers as the call ends and infers from the counts so far. Small:
/// a count and a few examples per country code and per length.
#[derive(Debug, Clone, Default)]
pub struct SiteTally {
    cc: BTreeMap<String, Tally>,
    len: BTreeMap<usize, Tally>,
    /// A reused buffer.
    clean: String,
}

impl SiteTally {
    /// Counts one number that can be a user's (see [`infer_site`]).
    pub fn add(&mut self, u: &str) {
        fn count(t: &mut Tally, n: &str) {
            t.0 += 1;
            if !t.1.iter().any(|x| x == n) {
                if t.1.len() < INFERRED_EXAMPLES {
                    t.1.push(n.to_string());
                } else {
                    t.2 = true;
                }
            }
        }
        let c = &mut self.clean;
        clean_into(u, c);
        if let Some(d) = c.strip_prefix('+')
            && d.len() > 6
            && d.bytes().all(|b| b.is_ascii_digit())
            && let Some(cc) = country_code_of(d)
        {
            match self.cc.get_mut(cc) {
                Some(t) => count(t, c),
                None => {
                    let mut t = (0, Vec::new(), false);
                    count(&mut t, c);
                    self.cc.insert(cc.to_string(), t);
                }
            }
        }
        // A short number, also with a superfluous `+` (no E.164 number is that short).
        let short = c.strip_prefix('+').unwrap_or(c);
        if (2..=5).contains(&short.len())
            && short.bytes().all(|b| b.is_ascii_digit())
            && !short.starts_with('0')
        {
            count(self.len.entry(short.len()).or_default(), c);
        }
    }

    /// Sets what `site` does not say (country code, internal length) from the counts,
    /// with a note naming `source` and examples.
    pub fn apply(&self, site: &mut Site, source: &str) {
        let from = |(n, examples, more): &Tally| {
            let more = if *more { ", …" } else { "" };
            format!("{n} {source}: {}{more}", examples.join(", "))
        };
        if site.country_code.is_none()
            && let Some((cc, t)) = self.cc.iter().max_by_key(|(_, t)| t.0)
        {
            site.inferred
                .push(format!("country code {cc} inferred from {}", from(t)));
            site.country_code = Some(cc.clone());
        }
        // On a tie the shorter length: prefix digits make numbers longer, never shorter.
        if site.internal_length.is_none()
            && let Some((len, t)) = self
                .len
                .iter()
                .max_by_key(|(len, t)| (t.0, std::cmp::Reverse(**len)))
        {
            site.inferred.push(format!(
                "internal number length {len} inferred from {}",
                from(t)
            ));
            site.internal_length = Some(*len);
        }
    }
}

#[cfg(test)]
mod kind_tests {
    use super::NumberFormat;

    /// `kind()` names each format exactly as serde writes its tag.
    #[test]
    fn kind_is_the_serialised_tag() {
        for f in [
            NumberFormat::E164,
            NumberFormat::Internal,
            NumberFormat::International00,
            NumberFormat::National0,
            NumberFormat::InternationalNoPlus,
            NumberFormat::OutsidePrefix { prefix: "0".into() },
            NumberFormat::PrefixedInternal {
                prefix: "99".into(),
            },
            NumberFormat::SuperfluousCharacter,
            NumberFormat::NonNumeric,
            NumberFormat::Unknown,
        ] {
            let v = serde_json::to_value(&f).unwrap();
            assert_eq!(v["kind"], f.kind(), "{f:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> Site {
        Site {
            country_code: Some("49".into()),
            area_code: Some("30".into()),
            internal_length: Some(3),
            outside_prefix: Some("0".into()),
            ..Site::default()
        }
    }

    fn c(raw: &str) -> (NumberFormat, Option<String>) {
        let x = classify(raw, &site());
        (x.format, x.normalized)
    }

    #[test]
    fn classifies_each_format() {
        assert_eq!(
            c("+4930123456"),
            (NumberFormat::E164, Some("+4930123456".into()))
        );
        assert_eq!(c("123"), (NumberFormat::Internal, Some("123".into())));
        assert_eq!(
            c("004930123456"),
            (NumberFormat::International00, Some("+4930123456".into()))
        );
        assert_eq!(
            c("030123456"),
            (NumberFormat::National0, Some("+4930123456".into()))
        );
        assert_eq!(
            c("0004930123456"),
            (
                NumberFormat::OutsidePrefix { prefix: "0".into() },
                Some("+4930123456".into())
            )
        );
        assert_eq!(
            c("0030123456"),
            (
                NumberFormat::OutsidePrefix { prefix: "0".into() },
                Some("+4930123456".into())
            )
        );
        assert_eq!(
            c("99123"),
            (
                NumberFormat::PrefixedInternal {
                    prefix: "99".into()
                },
                Some("123".into())
            )
        );
        assert_eq!(
            c("+123"),
            (NumberFormat::SuperfluousCharacter, Some("123".into()))
        );
        assert_eq!(c("alice"), (NumberFormat::NonNumeric, None));
        assert_eq!(
            c("+49-30-123456"),
            (NumberFormat::E164, Some("+4930123456".into()))
        );
        assert_eq!(
            c("49301234175"),
            (
                NumberFormat::InternationalNoPlus,
                Some("+49301234175".into())
            )
        );
        // Too short for a national number after 49: a prefix before an internal number.
        assert_eq!(
            c("49301"),
            (
                NumberFormat::PrefixedInternal {
                    prefix: "49".into()
                },
                Some("301".into())
            )
        );
        // Longer than E.164 allows.
        assert_eq!(c("4930123456789012"), (NumberFormat::Unknown, None));
    }

    #[test]
    fn says_which_flag_settles_a_number_it_cannot_place() {
        let reason = |raw: &str, site: &Site| unresolved_reason(&classify(raw, site), site);
        assert_eq!(reason("49301234175", &site()), None);
        assert_eq!(reason("+4930123456", &site()), None);
        let no_cc = Site {
            internal_length: Some(3),
            ..Site::default()
        };
        assert!(
            reason("49301234175", &no_cc)
                .unwrap()
                .contains("--country-code")
        );
        assert!(
            reason("030123456", &no_cc)
                .unwrap()
                .contains("--country-code")
        );
        let no_len = Site {
            country_code: Some("49".into()),
            ..Site::default()
        };
        assert!(
            reason("3312345678", &no_len)
                .unwrap()
                .contains("--internal-length")
        );
        let text = reason("3312345678", &site()).unwrap();
        assert!(text.contains("country code 49") && text.contains("internal length 3"));
        assert!(reason("alice", &site()).unwrap().contains("not a number"));
    }

    #[test]
    fn infers_country_and_internal_length() {
        let mut s = Site::default();
        infer_site(
            &mut s,
            [
                "+4930123456",
                "+49301111",
                "201",
                "202",
                "202",
                "99201",
                "+203",
                "99202",
            ],
            "numbers",
        );
        assert_eq!(s.country_code.as_deref(), Some("49"));
        assert_eq!(s.internal_length, Some(3));
        assert_eq!(
            s.inferred,
            [
                "country code 49 inferred from 2 numbers: +4930123456, +49301111",
                "internal number length 3 inferred from 4 numbers: 201, 202, +203"
            ]
        );
    }
}
