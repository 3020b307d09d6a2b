//! The store's pieces: a row that left the media tracker, where a unit finds it at an
//! address ([`Found`], by [`AddrKey`]), the part of the store a unit reads
//! ([`UnitSpan`]), and the addresses a call not yet judged named ([`Naming`]).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use crate::calls::Call;
use crate::capture::Timestamp;
use crate::media::{Announced, RtpStream};

/// A row in the store: the last frame read when it came, and when it was last looked at
/// (the capture second, and the rows filed before).
#[derive(Debug)]
pub(super) struct Stored {
    pub(super) row: Row,
    pub(super) came: u64,
    pub(super) looked: i64,
    pub(super) looked_after: u64,
}

/// A row that left the tracker.
#[derive(Debug)]
pub(super) enum Row {
    Rtp(Box<RtpStream>),
    Announced(Announced),
}

impl Row {
    pub(super) fn addrs(&self) -> impl Iterator<Item = SocketAddr> {
        let (a, b) = match self {
            Row::Rtp(s) => (s.src, Some(s.dst)),
            Row::Announced(a) => (a.addr, None),
        };
        std::iter::once(a).chain(b)
    }

    /// Where the row is found at each of its addresses ([`Found`]).
    pub(super) fn found(&self) -> Found {
        match self {
            Row::Rtp(s) => Found::Ended(s.last_time),
            Row::Announced(a) => Found::Frame(a.frame),
        }
    }

    pub(super) fn call_id(&self) -> Option<&Arc<str>> {
        match self {
            Row::Rtp(s) => s.call_id.as_ref(),
            Row::Announced(a) => Some(&a.call_id),
        }
    }
}

/// What a unit looks a row up by at an address, besides its own calls' rows, which it
/// reads whenever they were: the rules read another call's announcement made while one
/// of the unit's calls lasted (its frame between the unit's first and last), and another
/// call's stream that ended after one of them began. A shared address (a PBX announcing
/// one port for every call) holds rows by the thousand; a unit reads the few of its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Found {
    Frame(u64),
    Ended(Timestamp),
}

/// An address as the store's sets order it: two integer comparisons, where
/// [`SocketAddr`]'s order compares the family, the address and the port one by one. The
/// order among addresses is of no account (each is looked up alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct AddrKey(u128, u32);

impl From<SocketAddr> for AddrKey {
    fn from(a: SocketAddr) -> Self {
        match a.ip() {
            IpAddr::V4(ip) => AddrKey(u32::from(ip).into(), u32::from(a.port())),
            IpAddr::V6(ip) => AddrKey(u128::from(ip), u32::from(a.port()) | 1 << 16),
        }
    }
}

/// The part of the store a unit of calls reads, beside its own calls' rows ([`Found`]).
pub(super) struct UnitSpan {
    frames: std::ops::RangeInclusive<u64>,
    /// The earliest of its calls' first messages and INVITEs (the rules' starts).
    began: Timestamp,
}

impl UnitSpan {
    pub(super) fn of(calls: &[Call]) -> Self {
        let first = calls.iter().map(|c| c.first_frame).min().unwrap_or(0);
        let last = calls.iter().map(|c| c.last_frame).max().unwrap_or(u64::MAX);
        let began = (calls.iter())
            .flat_map(|c| {
                std::iter::once(c.first_time).chain(c.invites.iter().map(|t| t.request_time))
            })
            .min()
            .unwrap_or(Timestamp {
                secs: i64::MIN,
                nanos: 0,
            });
        UnitSpan {
            frames: first..=last,
            began,
        }
    }

    /// The rows at `a` the unit reads, by [`Found`].
    pub(super) fn at(
        &self,
        a: SocketAddr,
    ) -> [std::ops::RangeInclusive<(AddrKey, Found, usize)>; 2] {
        let a = AddrKey::from(a);
        let end = Timestamp {
            secs: i64::MAX,
            nanos: u32::MAX,
        };
        [
            (a, Found::Frame(*self.frames.start()), 0)
                ..=(a, Found::Frame(*self.frames.end()), usize::MAX),
            (a, Found::Ended(self.began), 0)..=(a, Found::Ended(end), usize::MAX),
        ]
    }
}

/// The addresses a call not yet judged named, from the frame of its first SDP.
#[derive(Debug)]
pub(super) struct Naming {
    pub(super) since: u64,
    /// Its place among the calls that named addresses.
    pub(super) number: u64,
    pub(super) addrs: Vec<SocketAddr>,
}
