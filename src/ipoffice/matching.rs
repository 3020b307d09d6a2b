//! The comparisons incoming call routing makes: Incoming Number patterns, Incoming CLI
//! patterns, and time profiles against a moment.
//!
//! Input: pattern text from the configuration and values from an INVITE. Output: whether
//! they match and how precisely. Invariants: pure, total on any text, no allocation
//! beyond the inputs' size. Sources are cited in the `ipoffice` module doc.

use crate::capture::time::{civil_from_days, days_from_civil};
use std::net::IpAddr;

use super::config::{Day, Interval, TimeProfile};

/// How an Incoming Number pattern matched the received number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NumberMatch {
    /// The pattern is blank: it matches any number, least precisely of all.
    pub blank: bool,
    /// Exact (non-`X`) pattern characters that met a received character.
    pub exact: usize,
    /// The received number is shorter than the pattern (a "potential" match): among
    /// these the shorter pattern wins.
    pub potential_len: Option<usize>,
    /// The received characters that met `X`s, in order (what a `#` destination means).
    pub wild: String,
}

/// Matches an Incoming Number pattern.
///
/// Blank matches anything. A leading `-` asks for a left-to-right match of exactly the
/// pattern's length. Otherwise the pattern is aligned on the right with the received
/// number and every overlapping character must agree (`X` agrees with any); a received
/// number shorter than the pattern is a potential match, a longer one matches on its last
/// digits.
pub(crate) fn match_number(pattern: &str, received: &str) -> Option<NumberMatch> {
    let p = pattern.trim();
    if p.is_empty() {
        return Some(NumberMatch {
            blank: true,
            exact: 0,
            potential_len: None,
            wild: String::new(),
        });
    }
    let agree = |pc: char, rc: char| pc == 'X' || pc == 'x' || pc.eq_ignore_ascii_case(&rc);
    let is_wild = |pc: char| pc == 'X' || pc == 'x';
    if let Some(p) = p.strip_prefix('-') {
        if p.chars().count() != received.chars().count() {
            return None;
        }
        let mut m = NumberMatch {
            blank: false,
            exact: 0,
            potential_len: None,
            wild: String::new(),
        };
        for (pc, rc) in p.chars().zip(received.chars()) {
            if !agree(pc, rc) {
                return None;
            }
            if is_wild(pc) {
                m.wild.push(rc);
            } else {
                m.exact += 1;
            }
        }
        return Some(m);
    }
    let pl = p.chars().count();
    let rl = received.chars().count();
    let mut exact = 0;
    let mut wild = Vec::new();
    for (pc, rc) in p.chars().rev().zip(received.chars().rev()) {
        if !agree(pc, rc) {
            return None;
        }
        if is_wild(pc) {
            wild.push(rc);
        } else {
            exact += 1;
        }
    }
    Some(NumberMatch {
        blank: false,
        exact,
        potential_len: (rl < pl).then_some(pl),
        wild: wild.into_iter().rev().collect(),
    })
}

/// How an Incoming CLI pattern matched the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CliMatch {
    pub blank: bool,
    /// Characters of the pattern that matched.
    pub len: usize,
}

/// Matches an Incoming CLI pattern against the caller (From user and host).
///
/// Blank matches anything; `!` a withheld caller (`anonymous`); `?` a caller without a
/// number; an IP address only that exact address in the From host; anything else the
/// start of the From user (or of `user@host` when the pattern holds `@`).
pub(crate) fn match_cli(pattern: &str, user: &str, host: Option<&str>) -> Option<CliMatch> {
    let p = pattern.trim();
    let hit = |len| Some(CliMatch { blank: false, len });
    if p.is_empty() {
        return Some(CliMatch {
            blank: true,
            len: 0,
        });
    }
    if p == "!" {
        let withheld = user.eq_ignore_ascii_case("anonymous")
            || host.is_some_and(|h| h.eq_ignore_ascii_case("anonymous.invalid"));
        return if withheld { hit(1) } else { None };
    }
    if p == "?" {
        return if user.is_empty() { hit(1) } else { None };
    }
    if let Ok(ip) = p.parse::<IpAddr>() {
        let same = host
            .and_then(|h| h.trim_matches(['[', ']']).parse::<IpAddr>().ok())
            .is_some_and(|h| h == ip);
        return if same { hit(p.len()) } else { None };
    }
    let p = ["sip:", "sips:", "tel:"]
        .iter()
        .find_map(|s| p.strip_prefix(s))
        .unwrap_or(p);
    let subject = if p.contains('@') {
        format!("{user}@{}", host.unwrap_or(""))
    } else {
        user.to_string()
    };
    let starts = subject.len() >= p.len()
        && subject.is_char_boundary(p.len())
        && subject[..p.len()].eq_ignore_ascii_case(p);
    if starts { hit(p.len()) } else { None }
}

/// A moment in the IP Office's local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    pub day: Day,
    /// Minutes after local midnight.
    pub minute: u16,
    /// The local wall clock, for the trace: `YYYY-MM-DDTHH:MM`.
    pub date: (i64, u32, u32),
}

impl LocalTime {
    /// Local time of a UTC instant (seconds since 1970) at `offset` minutes east of UTC.
    pub fn from_unix(secs: i64, offset: i32) -> LocalTime {
        // Saturating: a damaged capture's timestamp must not overflow.
        let local = secs.saturating_add(i64::from(offset) * 60);
        let days = local.div_euclid(86_400);
        let minute = (local.rem_euclid(86_400) / 60) as u16;
        // 1970-01-01 was a Thursday (Monday = 0 → 3).
        let day = Day::ALL[(days + 3).rem_euclid(7) as usize];
        LocalTime {
            day,
            minute,
            date: civil_from_days(days),
        }
    }
}

impl std::fmt::Display for LocalTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (y, m, d) = self.date;
        write!(
            f,
            "{y:04}-{m:02}-{d:02} {:02}:{:02} ({})",
            self.minute / 60,
            self.minute % 60,
            self.day
        )
    }
}

/// Parses an RFC 3339 date-time (`2026-12-03T09:30:00+01:00`, fraction allowed) into
/// seconds since 1970 (UTC).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(r) = rest.strip_prefix('.') {
        let n = r.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        rest = &r[n..];
    }
    let off = super::config::parse_offset(rest)?;
    let days = days_from_civil(y, mo as u32, d as u32);
    Some(days * 86_400 + h * 3600 + mi * 60 + se - i64::from(off) * 60)
}

/// Whether a time profile is true at `t`.
pub(crate) fn profile_active(p: &TimeProfile, t: LocalTime) -> bool {
    p.intervals.iter().any(|i| interval_active(i, t))
}

fn interval_active(i: &Interval, t: LocalTime) -> bool {
    let on = |d: Day| i.days.contains(&d);
    if i.start < i.end {
        on(t.day) && (i.start..i.end).contains(&t.minute)
    } else if i.start == i.end {
        on(t.day)
    } else {
        // Past midnight: the evening of a listed day, or the morning after it.
        let yesterday = Day::ALL[(t.day as usize + 6) % 7];
        (on(t.day) && t.minute >= i.start) || (on(yesterday) && t.minute < i.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incoming_number_is_matched_from_the_right() {
        // Avaya's examples 3 and 4: 677 matches 77 on two digits; 777 is not 677.
        let m = match_number("677", "77").unwrap();
        assert_eq!((m.exact, m.potential_len), (2, Some(3)));
        assert!(match_number("677", "777").is_none());
        assert_eq!(match_number("7", "777").unwrap().exact, 1);
        // A DID longer than the pattern matches on its last digits.
        assert_eq!(match_number("201", "4930123201").unwrap().exact, 3);
        assert!(match_number("201", "4930123202").is_none());
    }

    #[test]
    fn x_is_a_single_digit_wildcard_and_hash_takes_its_digits() {
        let m = match_number("91XXX", "91234").unwrap();
        assert_eq!((m.exact, m.wild.as_str()), (2, "234"));
        assert!(match_number("91XXX", "92234").is_none());
    }

    #[test]
    fn dash_is_left_to_right_exact_length() {
        assert!(match_number("-96XXX", "96000").is_some());
        assert!(match_number("-96XXX", "9600").is_none());
        assert!(match_number("-96XXX", "960000").is_none());
        assert!(match_number("96XXX", "1196000").is_some());
    }

    #[test]
    fn cli_partial_from_the_left_but_ip_exact() {
        assert_eq!(match_cli("+4930", "+4930123", None).unwrap().len, 5);
        assert!(match_cli("+4940", "+4930123", None).is_none());
        assert!(match_cli("192.0.2.5", "", Some("192.0.2.5")).is_some());
        assert!(match_cli("192.0.2.5", "", Some("192.0.2.50")).is_none());
        assert!(match_cli("192.0.2", "", Some("192.0.2.5")).is_none());
        assert!(match_cli("!", "anonymous", Some("anonymous.invalid")).is_some());
        assert!(match_cli("!", "123", None).is_none());
        assert!(match_cli("", "x", None).unwrap().blank);
        assert!(match_cli("ÄÖ", "Ä", None).is_none());
    }

    #[test]
    fn rfc3339_and_local_time() {
        let t = parse_rfc3339("2026-12-03T09:30:00+01:00").unwrap();
        assert_eq!(t, parse_rfc3339("2026-12-03T08:30:00.5Z").unwrap());
        let l = LocalTime::from_unix(t, 60);
        assert_eq!((l.day, l.minute, l.date), (Day::Thu, 570, (2026, 12, 3)));
        let l = LocalTime::from_unix(t, -600);
        assert_eq!((l.day, l.date), (Day::Wed, (2026, 12, 2)));
        assert!(parse_rfc3339("2026-13-03T09:30:00Z").is_none());
        assert!(parse_rfc3339("2026-12-03T09:30:00").is_none());
        assert!(parse_rfc3339("2026-12-03T09:30:00+1").is_none());
        assert!(parse_rfc3339("2026-12-03T09:30:0é+01:00").is_none());
        assert!(parse_rfc3339("2026-12-03T09:30:00.").is_none());
        let far = LocalTime::from_unix(i64::MAX, 60);
        assert!(far.minute < 1440);
        let _ = LocalTime::from_unix(i64::MIN, -60);
    }

    #[test]
    fn intervals_past_midnight() {
        let p = TimeProfile {
            name: "night".into(),
            intervals: vec![Interval {
                days: vec![Day::Fri],
                start: 22 * 60,
                end: 6 * 60,
            }],
        };
        let at = |day, minute| LocalTime {
            day,
            minute,
            date: (2026, 1, 1),
        };
        assert!(profile_active(&p, at(Day::Fri, 23 * 60)));
        assert!(profile_active(&p, at(Day::Sat, 5 * 60)));
        assert!(!profile_active(&p, at(Day::Sat, 23 * 60)));
        assert!(!profile_active(&p, at(Day::Thu, 5 * 60)));
    }
}
