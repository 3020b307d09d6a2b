//! SDP announcements in the media tracker: the addresses each call's SDP announced, filed
//! by call so that a call let go at `--max-calls` (an INVITE flood's) takes its
//! announcements with it instead of filling the table for the calls that follow. An
//! announcement is kept until the report is written, so it shares what it can: its call's
//! Call-ID with the call's other announcements, its `m=` description with every address
//! announced with the same one.
//!
//! Stage: media. Input: SDP of the calls' messages; the Call-IDs the calls stage let go.
//! Output: `MediaReport::announced`, without the announcements forgotten.

use std::hash::BuildHasher;
use std::net::SocketAddr;
use std::sync::Arc;

use super::MediaTracker;
use crate::limits::MediaTable;
use crate::media::{Announced, AnnouncedFormat};
use crate::sip::sdp::{Media, Name, Sdp};

/// Distinct `m=` descriptions shared by announcements (beyond, each has its own): a site
/// has a handful; a capture crafted with a new one per call cannot grow the set.
const MAX_FORMATS: usize = 4096;

/// Announcements left out at the cap remembered, so that one announced again (a
/// retransmitted 200, a re-INVITE) is not counted again; past this many, the set starts
/// over (8 bytes each).
const MAX_LEFT_OUT_REMEMBERED: usize = 65_536;

/// Candidate types of RFC 8445 §5.1.1, shared rather than copied per announcement.
const CANDIDATE_TYPES: &[&str] = &["host", "srflx", "prflx", "relay"];

/// No announcement.
const NONE: u32 = u32::MAX;

/// The announcements of each call, as chains through the announcement table: one hash
/// entry per call and one link per announcement; and what announcements share or the cap
/// left out.
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
    /// The `m=` descriptions announced so far, each kept once, by a hash of what makes
    /// one (its kind, direction and payload types: the codecs follow from them), so that
    /// an `m=` line already known is found without building its description.
    formats: hashbrown::HashTable<Arc<AnnouncedFormat>>,
    /// Hashes of the (Call-ID, address) announcements left out at the cap.
    left_out: foldhash::HashSet<u64>,
}

#[derive(Debug, Clone, Copy)]
struct Link {
    previous: u32,
    looked_up: bool,
}

impl ByCall {
    /// Files `a` in `table` (in a forgotten one's place if there is one); its index.
    fn file(&mut self, table: &mut Vec<Announced>, a: Announced) -> u32 {
        let key = self.hasher.hash_one(&*a.call_id);
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

    /// The Call-ID of `call_id`'s announcements so far, to share rather than copy.
    fn call_id(&self, table: &[Announced], call_id: &str) -> Arc<str> {
        let key = self.hasher.hash_one(call_id);
        let mut i = self.last.get(&key).copied().unwrap_or(NONE);
        while let Some(a) = table.get(i as usize) {
            if &*a.call_id == call_id {
                return a.call_id.clone();
            }
            i = self.links[i as usize].previous;
        }
        Arc::from(call_id)
    }

    /// `m`'s description, shared with earlier announcements of the same one.
    fn format(&mut self, m: &Media) -> Arc<AnnouncedFormat> {
        let hash = |kind: &str, direction, payloads: &[crate::sip::sdp::Payload]| {
            self.hasher.hash_one((kind, direction, payloads))
        };
        let h = hash(&m.kind, m.direction, &m.payloads);
        let same = |f: &Arc<AnnouncedFormat>| {
            f.kind == m.kind && f.direction == m.direction && f.payloads == m.payloads
        };
        if let Some(known) = self.formats.find(h, same) {
            return known.clone();
        }
        let f = Arc::new(AnnouncedFormat {
            kind: m.kind.clone(),
            codecs: m.codecs(),
            direction: m.direction,
            payloads: m.payloads.clone(),
        });
        if self.formats.len() < MAX_FORMATS {
            self.formats
                .insert_unique(h, f.clone(), |f| hash(&f.kind, f.direction, &f.payloads));
        }
        f
    }

    /// Whether the announcement of `addr` by `call_id`, left out at the cap, is left out
    /// for the first time (and to be counted).
    fn first_left_out(&mut self, call_id: &str, addr: SocketAddr) -> bool {
        if self.left_out.len() >= MAX_LEFT_OUT_REMEMBERED {
            self.left_out.clear();
        }
        self.left_out.insert(self.hasher.hash_one((call_id, addr)))
    }

    /// A flow refers to announcement `i` from now on.
    pub(super) fn looked_up(&mut self, i: u32) {
        if let Some(l) = self.links.get_mut(i as usize) {
            l.looked_up = true;
        }
    }
}

/// The addresses a media section announces: its `c=`/`m=` address and its UDP ICE
/// candidates of component 1, each once, candidates with their type (none when the
/// section is disabled, port 0).
fn media_addrs(m: &crate::sip::sdp::Media) -> Vec<(SocketAddr, Option<Name>)> {
    let mut addrs: Vec<(SocketAddr, Option<Name>)> = Vec::new();
    if m.port == 0 {
        return addrs;
    }
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
                addrs.push((a, Some(crate::sip::intern(&c.typ, CANDIDATE_TYPES))));
            }
        }
    }
    addrs
}

/// Every address an SDP announces to the media tracker ([`MediaTracker::announce`]).
pub fn announced_addrs(sdp: &Sdp) -> impl Iterator<Item = SocketAddr> + '_ {
    (sdp.media.iter()).flat_map(|m| media_addrs(m).into_iter().map(|(a, _)| a))
}

impl MediaTracker {
    /// SDP seen in a SIP message of `call_id` (frame `frame`): its media addresses (the
    /// `c=`/`m=` address and UDP ICE candidates of component 1) become announced.
    pub fn announce(&mut self, call_id: &str, sdp: &Sdp, frame: u64) {
        for m in &sdp.media {
            let mut format = None;
            for (addr, candidate) in media_addrs(m) {
                if let Some(&i) = self.announced_index.get(&addr)
                    && &*self.report.announced[i as usize].call_id == call_id
                {
                    continue;
                }
                if self.report.announced.len() - self.by_call.free.len()
                    >= self.limits.sdp_announcements
                {
                    if self.by_call.first_left_out(call_id, addr) {
                        self.report.drop_item(
                            MediaTable::SdpAnnouncements,
                            self.limits.sdp_announcements,
                            frame,
                        );
                    }
                    continue;
                }
                let format = format.get_or_insert_with(|| self.by_call.format(m)).clone();
                let new = Announced {
                    call_id: self.by_call.call_id(&self.report.announced, call_id),
                    addr,
                    frame,
                    format,
                    candidate,
                    received: 0,
                    sent: 0,
                    rtp_received: 0,
                    rtp_sent: 0,
                };
                let i = self.by_call.file(&mut self.report.announced, new);
                self.note_announced(i);
                self.announced_index.insert(addr, i);
                self.announce_gen = self.announce_gen.wrapping_add(1);
            }
        }
    }

    /// The calls stage let `call_id` go: its announcements no flow has looked up are
    /// forgotten (and their places reused); those a flow did look up stay, with the
    /// streams and counts that refer to them.
    pub fn forget_call(&mut self, call_id: &str) {
        self.let_go(call_id);
    }

    /// A call let go at `--max-calls` before it was judged, as [`MediaTracker::forget_call`]
    /// lets it go when every call is held: its announcements no flow looked up are
    /// forgotten (no row, as if never made); those a flow did look up end as
    /// [`MediaTracker::end_calls`] ends them. An INVITE flood's calls leave nothing behind.
    pub fn drop_call(&mut self, call_id: &str) -> super::EndedMedia {
        let looked_up = self.let_go(call_id);
        self.end_slots(&looked_up)
    }

    /// Forgets `call_id`'s announcements no flow has looked up; ends the others, whose
    /// places it returns.
    fn let_go(&mut self, call_id: &str) -> Vec<u32> {
        let mut looked_up = Vec::new();
        for i in self.take_chain(call_id) {
            if self.by_call.links[i as usize].looked_up {
                self.announcement_ended(i);
                looked_up.push(i);
            } else {
                self.free_announcement(i);
                self.note_forgotten(i);
            }
        }
        looked_up
    }

    /// Frees the place of announcement `i`, which nothing refers to: no longer found by
    /// its address, what it owns goes now; the rest is overwritten when the place is
    /// filled again, or taken out at the end.
    pub(super) fn free_announcement(&mut self, i: u32) {
        let a = &mut self.report.announced[i as usize];
        if self.announced_index.get(&a.addr) == Some(&i) {
            self.announced_index.remove(&a.addr);
        }
        a.call_id = Arc::from("");
        a.candidate = None;
        self.by_call.free.push(i);
    }

    /// Takes `call_id`'s announcements out of their chain (the other calls' links with
    /// the same hash stay, in order): their places, the latest first.
    pub(super) fn take_chain(&mut self, call_id: &str) -> Vec<u32> {
        let by = &mut self.by_call;
        let key = by.hasher.hash_one(call_id);
        let Some(mut i) = by.last.remove(&key) else {
            return Vec::new();
        };
        let (mut own, mut others) = (Vec::new(), Vec::new());
        while i != NONE {
            if &*self.report.announced[i as usize].call_id == call_id {
                own.push(i);
            } else {
                others.push(i);
            }
            i = by.links[i as usize].previous;
        }
        for &o in others.iter().rev() {
            let previous = by.last.insert(key, o).unwrap_or(NONE);
            by.links[o as usize].previous = previous;
        }
        own
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
