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

/// Days since 1970-01-01 → (year, month, day); H. Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
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
    fn converts_units() {
        let t = Timestamp::from_units(1_500_000_001, 1_000_000_000, 0);
        assert_eq!((t.secs, t.nanos), (1, 500_000_001));
        let t = Timestamp::from_units(3_000_001, 1_000_000, 10);
        assert_eq!((t.secs, t.nanos), (13, 1_000));
    }
}
