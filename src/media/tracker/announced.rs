//! SDP announcements in the media tracker: the addresses each call's SDP announced, filed
//! by call so that a call let go at `--max-calls` (an INVITE flood's) takes its
//! announcements with it instead of filling the table for the calls that follow.
//!
//! Stage: media. Input: SDP of the calls' messages; the Call-IDs the calls stage let go.
//! Output: `MediaReport::announced`, without the announcements forgotten.

use std::hash::BuildHasher;
use std::net::SocketAddr;

use super::MediaTracker;
use crate::limits::MediaTable;
use crate::media::Announced;
use crate::sip::sdp::Sdp;

/// No announcement.
const NONE: u32 = u32::MAX;

/// The announcements of each call, as chains through the announcement table: one hash
/// entry per call and one link per announcement.
#[derive(Debug, Default)]
pub(super) struct ByCall {
    /// The last announcement of each call, by a hash of its Call-ID (calls whose hashes
    /// collide share a chain; each link's own Call-ID tells them apart).
    last: foldhash::HashMap<u64, u32>,
    hasher: foldhash::fast::RandomState,
    /// Per announcement: the call's previous one, and whether a flow has looked it up
    /// (then streams and flows refer to it, and it stays).
    links: Vec<Link>,
    /// Places of forgotten announcements, to be filled again.
    pub(super) free: Vec<u32>,
}

#[derive(Debug, Clone, Copy)]
struct Link {
    previous: u32,
    looked_up: bool,
}

impl ByCall {
    /// Files `a` in `table` (in a forgotten one's place if there is one); its index.
    fn file(&mut self, table: &mut Vec<Announced>, a: Announced) -> u32 {
        let key = self.hasher.hash_one(a.call_id.as_str());
        let i = match self.free.pop() {
            Some(i) => {
                table[i as usize] = a;
                i
            }
            None => {
                table.push(a);
                self.links.push(Link {
                    previous: NONE,
                    looked_up: false,
                });
                (table.len() - 1) as u32
            }
        };
        let previous = self.last.insert(key, i).unwrap_or(NONE);
        self.links[i as usize] = Link {
            previous,
            looked_up: false,
        };
        i
    }

    /// A flow refers to announcement `i` from now on.
    pub(super) fn looked_up(&mut self, i: u32) {
        if let Some(l) = self.links.get_mut(i as usize) {
            l.looked_up = true;
        }
    }
}

impl MediaTracker {
    /// SDP seen in a SIP message of `call_id` (frame `frame`): its media addresses (the
    /// `c=`/`m=` address and UDP ICE candidates of component 1) become announced.
    pub fn announce(&mut self, call_id: &str, sdp: &Sdp, frame: u64) {
        for m in &sdp.media {
            if m.port == 0 {
                continue;
            }
            let mut addrs: Vec<(SocketAddr, Option<String>)> = Vec::new();
            if let Some(ip) = m.connection
                && !ip.is_unspecified()
            {
                addrs.push((SocketAddr::new(ip, m.port), None));
            }
            for c in &m.candidates {
                if c.component == 1
                    && c.transport.eq_ignore_ascii_case("udp")
                    && let Ok(ip) = c.addr.parse::<std::net::IpAddr>()
                {
                    let a = SocketAddr::new(ip, c.port);
                    if !addrs.iter().any(|(x, _)| *x == a) {
                        addrs.push((a, Some(c.typ.clone())));
                    }
                }
            }
            for (addr, candidate) in addrs {
                if let Some(&i) = self.announced_index.get(&addr)
                    && self.report.announced[i as usize].call_id == call_id
                {
                    continue;
                }
                if self.report.announced.len() - self.by_call.free.len()
                    >= self.limits.sdp_announcements
                {
                    self.report.drop_item(
                        MediaTable::SdpAnnouncements,
                        self.limits.sdp_announcements,
                        frame,
                    );
                    continue;
                }
                let new = Announced {
                    call_id: call_id.to_string(),
                    addr,
                    frame,
                    codecs: m.codecs(),
                    kind: m.kind.clone(),
                    direction: m.direction,
                    candidate,
                    payloads: m.payloads.clone(),
                    received: 0,
                    sent: 0,
                    rtp_received: 0,
                    rtp_sent: 0,
                };
                let i = self.by_call.file(&mut self.report.announced, new);
                self.announced_index.insert(addr, i);
                self.announce_gen = self.announce_gen.wrapping_add(1);
            }
        }
    }

    /// The calls stage let `call_id` go: its announcements no flow has looked up are
    /// forgotten (and their places reused); those a flow did look up stay, with the
    /// streams and counts that refer to them.
    pub fn forget_call(&mut self, call_id: &str) {
        let by = &mut self.by_call;
        let key = by.hasher.hash_one(call_id);
        let Some(mut i) = by.last.remove(&key) else {
            return;
        };
        // Links of other calls with the same hash, kept in order.
        let mut others = Vec::new();
        while i != NONE {
            let link = by.links[i as usize];
            let a = &mut self.report.announced[i as usize];
            if a.call_id != call_id {
                others.push(i);
            } else if !link.looked_up {
                if self.announced_index.get(&a.addr) == Some(&i) {
                    self.announced_index.remove(&a.addr);
                }
                // Its place is free: what it owns goes now; the rest is overwritten when
                // the place is filled again, or taken out at the end.
                a.call_id = String::new();
                a.codecs = Vec::new();
                a.payloads = Vec::new();
                a.kind = Default::default();
                a.candidate = None;
                by.free.push(i);
            }
            i = link.previous;
        }
        for &o in others.iter().rev() {
            let previous = by.last.insert(key, o).unwrap_or(NONE);
            by.links[o as usize].previous = previous;
        }
    }

    /// Takes the forgotten announcements' places out of the table, renumbering what
    /// refers to the others (streams; flows are settled before and not read after).
    pub(super) fn drop_forgotten_announcements(&mut self) {
        let free = std::mem::take(&mut self.by_call.free);
        if free.is_empty() {
            return;
        }
        let table = &mut self.report.announced;
        let mut new_index = vec![0u32; table.len()];
        for &i in &free {
            new_index[i as usize] = NONE;
        }
        let mut next = 0u32;
        for n in &mut new_index {
            if *n != NONE {
                *n = next;
                next += 1;
            }
        }
        let mut i = 0;
        table.retain(|_| {
            i += 1;
            new_index[i - 1] != NONE
        });
        let renumber = |a: &mut Option<u32>| {
            if let Some(x) = a {
                *x = new_index[*x as usize];
            }
        };
        for s in &mut self.streams {
            renumber(&mut s.dst_ann);
            renumber(&mut s.src_ann);
        }
        self.announced_index.clear();
    }
}
