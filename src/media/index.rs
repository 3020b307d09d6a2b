//! The media report's lookups by address and by call: the RTP streams from or to an
//! address, the announcements of an address, the streams of a call. Built once, the
//! first time a rule asks, from the report's streams and announcements.
//!
//! Stage: media. Input: a finished [`MediaReport`]. Output: its streams and
//! announcements found without a scan of every row.

use std::net::SocketAddr;

use foldhash::HashMap;

use super::{Announced, MediaReport, RtpStream};

/// The lookups of one report ([`MediaReport::index`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct MediaIndex {
    /// Streams from or to each address.
    rtp_by_addr: Chains,
    /// Announcements of each address.
    announced_by_addr: Chains,
    /// Streams of each call (by the Call-ID their SDP announced), in report order: a
    /// report line per call must not scan every stream.
    rtp_by_call: HashMap<std::sync::Arc<str>, Vec<u32>>,
}

/// Positions filed under addresses, as chains through one array: two allocations for any
/// number of positions, one hash insert per entry.
#[derive(Debug, Clone, Default)]
struct Chains {
    /// The first entry of each address.
    head: HashMap<SocketAddr, u32>,
    /// (position, next entry under the same address or `u32::MAX`).
    entries: Vec<(u32, u32)>,
}

impl Chains {
    /// Files `entries` (address, position), given in increasing position, so that each
    /// address's positions come out in that order.
    fn build(entries: Vec<(SocketAddr, u32)>) -> Self {
        let mut c = Chains {
            head: HashMap::default(),
            entries: Vec::with_capacity(entries.len()),
        };
        c.head.reserve(entries.len());
        // Backwards: each entry is chained in front of the later ones of its address.
        for (addr, pos) in entries.into_iter().rev() {
            let at = c.entries.len() as u32;
            let next = c.head.insert(addr, at).unwrap_or(u32::MAX);
            c.entries.push((pos, next));
        }
        c
    }

    fn positions(&self, addr: SocketAddr) -> impl Iterator<Item = usize> + '_ {
        let mut at = self.head.get(&addr).copied().unwrap_or(u32::MAX);
        std::iter::from_fn(move || {
            let &(pos, next) = self.entries.get(at as usize)?;
            at = next;
            Some(pos as usize)
        })
    }
}

impl MediaReport {
    /// The index, built on first use.
    pub(super) fn index(&self) -> &MediaIndex {
        self.index.get_or_init(|| {
            let mut rtp = Vec::with_capacity(self.rtp.len() * 2);
            for (i, s) in self.rtp.iter().enumerate() {
                rtp.push((s.dst, i as u32));
                if s.src != s.dst {
                    rtp.push((s.src, i as u32));
                }
            }
            let announced = self
                .announced
                .iter()
                .enumerate()
                .map(|(i, a)| (a.addr, i as u32))
                .collect();
            let mut rtp_by_call: HashMap<std::sync::Arc<str>, Vec<u32>> = HashMap::default();
            for (i, s) in self.rtp.iter().enumerate() {
                if let Some(id) = &s.call_id {
                    rtp_by_call.entry(id.clone()).or_default().push(i as u32);
                }
            }
            MediaIndex {
                rtp_by_addr: Chains::build(rtp),
                announced_by_addr: Chains::build(announced),
                rtp_by_call,
            }
        })
    }

    /// RTP streams from or to `addr`.
    pub fn rtp_at(&self, addr: SocketAddr) -> impl Iterator<Item = &RtpStream> {
        self.index()
            .rtp_by_addr
            .positions(addr)
            .map(|i| &self.rtp[i])
    }

    /// RTP streams of call `call_id` (announced in its SDP), in report order.
    pub fn rtp_of_call(&self, call_id: &str) -> impl Iterator<Item = &RtpStream> {
        self.index()
            .rtp_by_call
            .get(call_id)
            .into_iter()
            .flatten()
            .map(|&i| &self.rtp[i as usize])
    }

    /// SDP announcements of `addr`.
    pub fn announced_at(&self, addr: SocketAddr) -> impl Iterator<Item = &Announced> {
        self.index()
            .announced_by_addr
            .positions(addr)
            .map(|i| &self.announced[i])
    }
}
