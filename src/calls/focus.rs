//! Focus: which calls a report is about (`--call-id`, `--number`, `--ip`, `--since`,
//! `--until`).
//!
//! Input: the calls of a scan and their Follow-Me links. Output: one flag per call. A call
//! is selected when it meets every criterion given (each criterion accepts any of its
//! values); a selected Follow-Me leg always brings the leg linked to it, so that a ticket
//! about "the call from +49891234 at 10:32" shows both the forwarded call and XCC's call to
//! the mobile.

use std::hash::BuildHasher;
use std::net::IpAddr;

use crate::capture::Timestamp;
use crate::capture::time::TimeSpec;

use super::Call;
use super::legs::Legs;

/// What the user asked to see. Empty: everything.
#[derive(Debug, Clone, Default)]
pub struct Focus {
    /// Exact Call-IDs.
    pub call_ids: Vec<String>,
    /// Numbers, matched as [`number_matches`] says.
    pub numbers: Vec<String>,
    /// Addresses that sent or received a message of the call.
    pub ips: Vec<IpAddr>,
    pub since: Option<TimeSpec>,
    pub until: Option<TimeSpec>,
}

impl Focus {
    /// Whether no criterion is given.
    pub fn is_empty(&self) -> bool {
        self.call_ids.is_empty()
            && self.numbers.is_empty()
            && self.ips.is_empty()
            && self.since.is_none()
            && self.until.is_none()
    }

    /// The criteria as flags, for messages: `--call-id X --number Y`.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        parts.extend(self.call_ids.iter().map(|c| format!("--call-id {c}")));
        parts.extend(self.numbers.iter().map(|n| format!("--number {n}")));
        parts.extend(self.ips.iter().map(|i| format!("--ip {i}")));
        if let Some(s) = self.since {
            parts.push(format!("--since {s}"));
        }
        if let Some(u) = self.until {
            parts.push(format!("--until {u}"));
        }
        parts.join(" ")
    }

    /// One flag per call of `calls` (in that order): selected, or linked to a selected
    /// Follow-Me leg. Wall-clock times are placed on the day of the first call.
    pub fn select(&self, calls: &[Call], legs: &Legs) -> Vec<bool> {
        self.select_on(calls, legs, calls.iter().map(|c| c.first_time).min())
    }

    /// [`Focus::select`], wall-clock times placed on the day of `day` (the capture's
    /// first call, when `calls` are some of its calls).
    pub fn select_on(&self, calls: &[Call], legs: &Legs, day: Option<Timestamp>) -> Vec<bool> {
        if self.is_empty() {
            return vec![true; calls.len()];
        }
        let since = day.and_then(|d| self.since.map(|s| s.resolve(d)));
        let until = day.and_then(|d| self.until.map(|s| s.resolve(d)));
        let mut keep: Vec<bool> = calls
            .iter()
            .map(|c| self.matches(c, since, until))
            .collect();
        let direct: Vec<usize> = (0..calls.len()).filter(|&i| keep[i]).collect();
        for i in direct {
            for other in legs.linked(&calls[i].call_id) {
                if let Some(p) = legs.position(&other).filter(|&p| p < keep.len()) {
                    keep[p] = true;
                }
            }
        }
        keep
    }

    fn matches(&self, c: &Call, since: Option<Timestamp>, until: Option<Timestamp>) -> bool {
        if !self.call_ids.is_empty() && !self.call_ids.contains(&c.call_id) {
            return false;
        }
        if !self.ips.is_empty()
            && !c
                .messages
                .iter()
                .any(|m| self.ips.contains(&m.src.ip()) || self.ips.contains(&m.dst.ip()))
        {
            return false;
        }
        // The call's span overlaps [since, until].
        if since.is_some_and(|s| c.last_time < s) || until.is_some_and(|u| c.first_time > u) {
            return false;
        }
        if !self.numbers.is_empty() {
            let users = call_numbers(c);
            if !self
                .numbers
                .iter()
                .any(|n| users.iter().any(|u| number_matches(n, u)))
            {
                return false;
            }
        }
        true
    }
}

/// A set of Call-IDs (or of the keys of calls without one), kept as 64-bit hashes: a
/// focus that selects a million calls of a capture keeps 8 bytes for each, not the
/// strings. Two of a capture's Call-IDs share a hash with a chance of about one in 10^7
/// for a million calls; a call not selected would then be taken for one that is.
///
/// The hashes are kept in one sorted array, found by binary search, and those added
/// since it was last merged in a small hash set (at most a sixteenth of the array's
/// size): about 8 bytes a call, where a hash set of them all takes 10 to 19, and 28
/// while it grows (the set is asked whether it holds a call far less often than it is
/// given one).
///
/// Every set of a run hashes alike (one seed, random, for the process), so that two sets
/// can be joined ([`CallIds::absorb`]).
#[derive(Debug, Clone, Default)]
pub struct CallIds {
    sorted: Vec<u64>,
    recent: foldhash::HashSet<u64>,
}

/// The hasher of every [`CallIds`] of the process.
fn call_id_hasher() -> &'static foldhash::quality::RandomState {
    static HASHER: std::sync::OnceLock<foldhash::quality::RandomState> = std::sync::OnceLock::new();
    HASHER.get_or_init(Default::default)
}

/// Hashes [`CallIds::recent`] holds at least before they are merged into the array.
const RECENT_AT_LEAST: usize = 4096;

impl CallIds {
    /// The key `id` is kept under (its hash): the same in every set of the process.
    pub fn key(&self, id: &str) -> u64 {
        call_id_hasher().hash_one(id)
    }

    /// Adds `id`; whether it was not in the set yet.
    pub fn insert(&mut self, id: &str) -> bool {
        self.insert_key(self.key(id))
    }

    /// Adds the calls of `other` (the larger set's memory is kept, the smaller one's
    /// hashes are added to it).
    pub fn absorb(&mut self, mut other: CallIds) {
        if other.len() > self.len() {
            std::mem::swap(self, &mut other);
        }
        for k in other.sorted.into_iter().chain(other.recent) {
            self.insert_key(k);
        }
    }

    fn insert_key(&mut self, k: u64) -> bool {
        if self.sorted.binary_search(&k).is_ok() || !self.recent.insert(k) {
            return false;
        }
        if self.recent.len() > RECENT_AT_LEAST.max(self.sorted.len() / 16) {
            self.merge();
        }
        true
    }

    pub fn contains(&self, id: &str) -> bool {
        let k = self.key(id);
        self.recent.contains(&k) || self.sorted.binary_search(&k).is_ok()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn len(&self) -> usize {
        self.sorted.len() + self.recent.len()
    }

    /// Moves the recent hashes into the sorted array, merged from its end in place.
    fn merge(&mut self) {
        let mut add: Vec<u64> = self.recent.drain().collect();
        add.sort_unstable();
        let old = self.sorted.len();
        self.sorted.reserve_exact(add.len());
        self.sorted.resize(old + add.len(), 0);
        let (mut i, mut j) = (old, add.len());
        for w in (0..old + add.len()).rev() {
            if j == 0 {
                break;
            }
            if i > 0 && self.sorted[i - 1] > add[j - 1] {
                self.sorted[w] = self.sorted[i - 1];
                i -= 1;
            } else {
                self.sorted[w] = add[j - 1];
                j -= 1;
            }
        }
    }
}

impl<S: AsRef<str>> Extend<S> for CallIds {
    fn extend<I: IntoIterator<Item = S>>(&mut self, ids: I) {
        for id in ids {
            self.insert(id.as_ref());
        }
    }
}

impl<S: AsRef<str>> FromIterator<S> for CallIds {
    fn from_iter<I: IntoIterator<Item = S>>(ids: I) -> Self {
        let mut set = CallIds::default();
        set.extend(ids);
        set
    }
}

/// The user parts a call's INVITEs name: Request-URI, From, To, P-Asserted-Identity, every
/// Diversion and History-Info entry.
fn call_numbers(c: &Call) -> Vec<String> {
    let mut out = Vec::new();
    for t in &c.invites {
        out.extend(crate::sip::headers::uri_parts(&t.request_uri).0);
        let named = t
            .from
            .iter()
            .chain(t.to.iter())
            .chain(&t.p_asserted_identity)
            .chain(t.diversion.iter().map(|d| &d.addr))
            .chain(t.history_info.iter().map(|h| &h.addr));
        out.extend(named.filter_map(|n| n.user.clone()));
    }
    out
}

/// The digits that identify a number, whatever its dialling format: visual separators and
/// `+` dropped, then a leading `00` (international) or `0` (national) prefix.
fn significant_digits(n: &str) -> String {
    let digits: String = n.chars().filter(char::is_ascii_digit).collect();
    let digits = digits
        .strip_prefix("00")
        .or_else(|| digits.strip_prefix('0'))
        .unwrap_or(&digits);
    digits.to_string()
}

/// Whether the number a user typed names the number `seen` in a header. Both are reduced to
/// their significant digits; numbers of six digits or more match when one ends with the
/// other (`+49 30 123456`, `004930123456`, `030123456` and `30123456` are one number; the
/// country and area codes a national or local form leaves out are the missing head), shorter
/// ones (internal numbers) only exactly, so that `123` does not select every number ending
/// in 123. A user part that is not a number matches only itself.
pub fn number_matches(wanted: &str, seen: &str) -> bool {
    if !seen.chars().any(|c| c.is_ascii_digit()) || !wanted.chars().any(|c| c.is_ascii_digit()) {
        return wanted.eq_ignore_ascii_case(seen);
    }
    // A user part with letters besides a number (`anna`, `+49301;ext=2`) is compared by its
    // number part up to the first parameter.
    let seen = seen.split(';').next().unwrap_or(seen);
    let (w, s) = (significant_digits(wanted), significant_digits(seen));
    if w.is_empty() || s.is_empty() {
        return false;
    }
    if w.len() >= 6 && s.len() >= 6 {
        w.ends_with(&s) || s.ends_with(&w)
    } else {
        w == s
    }
}

#[cfg(test)]
mod tests {
    use super::CallIds;
    use super::number_matches as m;

    #[test]
    fn a_set_of_call_ids_holds_the_ids_put_in() {
        let ids: Vec<String> = (0..10_000).map(|i| format!("{i}@10.0.0.1")).collect();
        let mut set: CallIds = ids.iter().step_by(2).collect();
        assert_eq!(set.len(), 5_000);
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(set.contains(id), i % 2 == 0, "{id}");
        }
        assert!(!set.insert("0@10.0.0.1"), "already in");
        assert!(set.insert("1@10.0.0.1"));
        assert!(set.contains("1@10.0.0.1") && !set.contains("1@10.0.0.1 "));
        assert!(!CallIds::default().contains("") && CallIds::default().is_empty());
    }

    /// Across many merges of the recent hashes into the sorted array, in any order and
    /// with repeats, the set holds what a set of the strings holds.
    #[test]
    fn a_set_of_call_ids_merged_many_times_holds_what_a_set_of_strings_holds() {
        const N: u64 = 150_000;
        let mut set = CallIds::default();
        let mut strings = std::collections::HashSet::new();
        // Every id twice, in an order of its own (7919 is prime to N).
        for step in 0..2 * N {
            let id = format!("{}@10.0.0.1", (step * 7919) % N);
            assert_eq!(set.insert(&id), strings.insert(id.clone()), "{id}");
            if step % 1_000 == 0 {
                for probe in (0..N).step_by(997) {
                    let probe = format!("{probe}@10.0.0.1");
                    assert_eq!(set.contains(&probe), strings.contains(&probe), "{probe}");
                }
                assert_eq!(set.len(), strings.len());
            }
        }
        assert!(
            set.recent.len() <= set.sorted.len() / 16 + 1,
            "merged along the way"
        );
        assert!(
            set.sorted.windows(2).all(|w| w[0] < w[1]),
            "sorted, no repeat"
        );
        assert_eq!(set.len(), N as usize);
    }

    /// Two sets joined hold every id of either, once, whichever is the larger.
    #[test]
    fn two_sets_of_call_ids_joined_hold_the_ids_of_both() {
        let id = |i: u32| format!("{i}@10.0.0.2");
        for (a, b) in [(0..30_000, 20_000..25_000), (0..100, 50..20_000)] {
            let (mut x, y): (CallIds, CallIds) =
                (a.clone().map(id).collect(), b.clone().map(id).collect());
            x.absorb(y);
            let both = a.start.min(b.start)..a.end.max(b.end);
            assert_eq!(x.len(), both.len(), "{a:?} {b:?}");
            for i in both.start.saturating_sub(10)..both.end + 10 {
                assert_eq!(x.contains(&id(i)), both.contains(&i), "{i}");
            }
        }
    }

    #[test]
    fn numbers_match_across_dialling_formats() {
        for seen in [
            "+4930123456",
            "004930123456",
            "030123456",
            "4930123456",
            "+49 (30) 123-456",
        ] {
            assert!(m("+4930123456", seen), "{seen}");
            assert!(m("030 123456", seen), "{seen}");
        }
        assert!(m("123", "123"));
        assert!(m("+123", "123"));
        assert!(!m("123", "+4930123456"), "short numbers match exactly");
        assert!(!m("+4930123456", "+4930123457"));
        assert!(m("anna", "Anna"));
        assert!(!m("anna", "201"));
        assert!(m("+4930123456", "+4930123456;ext=1"));
    }
}
