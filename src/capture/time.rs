//! Packet timestamps: seconds and nanoseconds since the Unix epoch, UTC.

use std::fmt;

/// A capture timestamp with nanosecond precision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    pub secs: i64,
    pub nanos: u32,
}

impl Timestamp {
    pub fn new(secs: i64, nanos: u32) -> Self {
        Timestamp {
            secs: secs + i64::from(nanos / 1_000_000_000),
            nanos: nanos % 1_000_000_000,
        }
    }

    /// From a pcapng timestamp in `resolution` units per second plus the interface's
    /// `if_tsoffset` in seconds.
    pub fn from_units(units: u64, resolution: u64, offset: i64) -> Self {
        let resolution = resolution.max(1);
        let secs = (units / resolution) as i64;
        let frac = units % resolution;
        let nanos = (u128::from(frac) * 1_000_000_000 / u128::from(resolution)) as u32;
        Timestamp::new(secs.saturating_add(offset), nanos)
    }

    /// Seconds as a float, for durations and jitter.
    pub fn as_f64(&self) -> f64 {
        self.secs as f64 + f64::from(self.nanos) / 1e9
    }

    /// `self - earlier` in seconds (negative when `earlier` is later).
    pub fn seconds_since(&self, earlier: Timestamp) -> f64 {
        (self.secs - earlier.secs) as f64 + (f64::from(self.nanos) - f64::from(earlier.nanos)) / 1e9
    }
}

/// Serialised as its RFC 3339 text, written without an intermediate String.
impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// RFC 3339 in UTC with microseconds, e.g. `2024-05-01T10:20:30.123456Z`.
/// Written digit by digit: it is printed for every message of a listing.
impl Timestamp {
    /// The RFC 3339 text in a fixed buffer (years 0–9999), for writers that print one per
    /// row and skip the formatting machinery.
    pub fn rfc3339(&self) -> Option<[u8; 27]> {
        let days = self.secs.div_euclid(86_400);
        let rem = self.secs.rem_euclid(86_400) as u32;
        let (y, m, d) = civil_from_days(days);
        if !(0..=9999).contains(&y) {
            return None;
        }
        let mut b = *b"0000-00-00T00:00:00.000000Z";
        let mut put = |at: usize, width: usize, mut v: u32| {
            for i in (0..width).rev() {
                b[at + i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, 4, y as u32);
        put(5, 2, m);
        put(8, 2, d);
        put(11, 2, rem / 3600);
        put(14, 2, rem % 3600 / 60);
        put(17, 2, rem % 60);
        put(20, 6, self.nanos / 1000);
        Some(b)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(b) = self.rfc3339() {
            // The buffer holds ASCII digits and punctuation only.
            return f.write_str(std::str::from_utf8(&b).map_err(|_| fmt::Error)?);
        }
        let days = self.secs.div_euclid(86_400);
        let rem = self.secs.rem_euclid(86_400) as u32;
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60,
            self.nanos / 1000
        )
    }
}

/// (year, month, day) → days since 1970-01-01; H. Hinnant's `days_from_civil`.
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from(if m > 2 { m - 3 } else { m + 9 });
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A point in time given on the command line: an RFC 3339 timestamp, or a wall-clock time
/// `HH:MM[:SS]` (UTC, as sipdiag prints times) on a day that is known only later (the
/// capture's first day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeSpec {
    At(Timestamp),
    /// Seconds since midnight UTC.
    TimeOfDay(u32),
}

impl fmt::Display for TimeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeSpec::At(t) => t.fmt(f),
            TimeSpec::TimeOfDay(s) => {
                write!(f, "{:02}:{:02}:{:02}", s / 3600, s % 3600 / 60, s % 60)
            }
        }
    }
}

impl TimeSpec {
    /// Parses `2026-11-23T10:32:00Z`, `2026-11-23T10:32:00.5+01:00`, `2026-11-23 10:32`,
    /// `10:32` or `10:32:15`.
    pub fn parse(s: &str) -> Result<TimeSpec, String> {
        let bad = || {
            format!("{s:?} is not a time: give RFC 3339 (2026-11-23T10:32:00Z) or HH:MM[:SS] (UTC)")
        };
        let s = s.trim();
        let clock = |t: &str| -> Option<(u32, u32)> {
            // HH:MM[:SS[.frac]] → (seconds, nanoseconds)
            let mut it = t.splitn(3, ':');
            let h: u32 = num(it.next()?, 2)?;
            let m: u32 = num(it.next()?, 2)?;
            let (sec, nanos) = match it.next() {
                None => (0, 0),
                Some(x) => {
                    let (whole, frac) = x.split_once('.').unwrap_or((x, ""));
                    let sec: u32 = num(whole, 2)?;
                    if !frac.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 9 {
                        return None;
                    }
                    let nanos = if frac.is_empty() {
                        0
                    } else {
                        frac.parse::<u32>().ok()? * 10u32.pow(9 - frac.len() as u32)
                    };
                    (sec, nanos)
                }
            };
            (h < 24 && m < 60 && sec < 61).then_some((h * 3600 + m * 60 + sec, nanos))
        };
        if s.len() <= 12 && !s.contains('-') {
            return clock(s)
                .map(|(secs, _)| TimeSpec::TimeOfDay(secs))
                .ok_or_else(bad);
        }
        let (date, rest) = s.split_at_checked(10).ok_or_else(bad)?;
        let mut d = date.split('-');
        let (y, mo, da) = (
            num::<i64>(d.next().ok_or_else(bad)?, 4).ok_or_else(bad)?,
            num::<u32>(d.next().ok_or_else(bad)?, 2).ok_or_else(bad)?,
            num::<u32>(d.next().ok_or_else(bad)?, 2).ok_or_else(bad)?,
        );
        if !(1..=12).contains(&mo) || !(1..=31).contains(&da) {
            return Err(bad());
        }
        let rest = rest.strip_prefix(['T', 't', ' ']).ok_or_else(bad)?;
        // The offset: Z, +HH:MM or -HH:MM at the end (none: UTC).
        let (clock_part, offset) = if let Some(c) = rest.strip_suffix(['Z', 'z']) {
            (c, 0i64)
        } else if let Some(at) = rest.rfind(['+', '-']).filter(|&i| rest.len() - i == 6) {
            let sign = if rest.as_bytes()[at] == b'-' { -1 } else { 1 };
            let (h, m) = rest[at + 1..].split_once(':').ok_or_else(bad)?;
            let (h, m): (i64, i64) = (num(h, 2).ok_or_else(bad)?, num(m, 2).ok_or_else(bad)?);
            (&rest[..at], sign * (h * 3600 + m * 60))
        } else {
            (rest, 0)
        };
        let (secs, nanos) = clock(clock_part).ok_or_else(bad)?;
        let day = days_from_civil(y, mo, da);
        Ok(TimeSpec::At(Timestamp::new(
            day * 86_400 + i64::from(secs) - offset,
            nanos,
        )))
    }

    /// The instant, with a wall-clock time placed on the day of `day`.
    pub fn resolve(&self, day: Timestamp) -> Timestamp {
        match *self {
            TimeSpec::At(t) => t,
            TimeSpec::TimeOfDay(secs) => {
                Timestamp::new(day.secs.div_euclid(86_400) * 86_400 + i64::from(secs), 0)
            }
        }
    }
}

/// Exactly `width` ASCII digits (or, for a width of 2, one or two).
fn num<T: std::str::FromStr>(s: &str, width: usize) -> Option<T> {
    let ok =
        s.bytes().all(|b| b.is_ascii_digit()) && (s.len() == width || (width == 2 && s.len() == 1));
    if ok { s.parse().ok() } else { None }
}

/// Days since 1970-01-01 → (year, month, day); H. Hinnant's `civil_from_days`.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339() {
        assert_eq!(
            Timestamp::new(0, 0).to_string(),
            "1970-01-01T00:00:00.000000Z"
        );
        assert_eq!(
            Timestamp::new(1_700_000_000, 123_456_789).to_string(),
            "2023-11-14T22:13:20.123456Z"
        );
        assert_eq!(
            Timestamp::new(951_782_400, 0).to_string(),
            "2000-02-29T00:00:00.000000Z"
        );
    }

    #[test]
    fn parses_times_given_on_the_command_line() {
        let at = |s: &str| match TimeSpec::parse(s).unwrap() {
            TimeSpec::At(t) => t.to_string(),
            other => panic!("{s}: {other:?}"),
        };
        assert_eq!(at("2023-11-14T22:13:20Z"), "2023-11-14T22:13:20.000000Z");
        assert_eq!(
            at("2023-11-14T23:13:20.123456+01:00"),
            "2023-11-14T22:13:20.123456Z"
        );
        assert_eq!(at("2000-02-29 00:00"), "2000-02-29T00:00:00.000000Z");
        assert_eq!(
            at("2023-11-14T20:13:20-02:00"),
            "2023-11-14T22:13:20.000000Z"
        );
        assert_eq!(TimeSpec::parse("10:32"), Ok(TimeSpec::TimeOfDay(37_920)));
        assert_eq!(TimeSpec::parse("9:05:07"), Ok(TimeSpec::TimeOfDay(32_707)));
        for bad in [
            "",
            "25:00",
            "10:60",
            "2023-13-01T00:00Z",
            "yesterday",
            "2023-11-14X10:00",
        ] {
            assert!(TimeSpec::parse(bad).is_err(), "{bad:?} accepted");
        }
        let day = Timestamp::new(1_700_000_000, 5);
        assert_eq!(
            TimeSpec::TimeOfDay(3600).resolve(day).to_string(),
            "2023-11-14T01:00:00.000000Z"
        );
    }

    #[test]
    fn days_and_civil_dates_agree() {
        for d in (-800_000..800_000).step_by(997) {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    #[test]
    fn converts_units() {
        let t = Timestamp::from_units(1_500_000_001, 1_000_000_000, 0);
        assert_eq!((t.secs, t.nanos), (1, 500_000_001));
        let t = Timestamp::from_units(3_000_001, 1_000_000, 10);
        assert_eq!((t.secs, t.nanos), (13, 1_000));
    }
}
