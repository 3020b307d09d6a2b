//! The media of `watch`: each unit of calls is judged with its RTP and SDP counts, as
//! `analyze` judges it (SP003 no media, SP005 one-way audio, SP006 loss and jitter), and
//! memory follows the media in progress.
//!
//! - The media tracker retires what has ended as the capture is read
//!   ([`MediaTracker::retiring`]). A flow that matches the SDP of a call in progress stays
//!   until that call is judged, so a unit's streams are whole when it is.
//! - Rows that have retired (streams, announcements) are kept in a small store, by
//!   address, while a call waiting to be judged named one of their addresses in its SDP
//!   before they ended, in the capture's order (a call that named it later began after
//!   them: a PBX reusing its RTP ports says nothing of the earlier call), and
//!   [`LINGER_SECS`] more (or [`LINGER_ROWS`] rows: a capture whose clock stands still).
//!   The store is looked at every [`super::HOLD_SECS`] of capture time, and after every
//!   [`SWEEP_ROWS`] rows (a flood ends many calls in one capture second). A unit reads
//!   the rows at its calls' addresses: its own streams, a B2BUA leg's bridged stream
//!   filed under the other leg's SDP, what the silent side of a one-way call sent
//!   elsewhere.
//! - When a unit is judged, its calls end in the tracker at once
//!   ([`MediaTracker::end_calls`]): their flows retire and their rows join the store.
//! - SP006 judges a stream with its call's unit; a stream of no call when it leaves the
//!   store. The softphone rules (SP001, SP002, SP004, SP003 on softphone signalling, SP005
//!   on softphone RTP) read
//!   the capture's STUN and the streams of softphone addresses and of the address pairs
//!   that exchanged STUN, at the end.
//! - SP003 says "no media in the capture at all" only of a capture without any UDP. Until
//!   the first datagram other than SIP, its findings wait ([`Deferred`]): printed as soon
//!   as one comes, or made the one finding of a capture without UDP at the end.
//!
//! Stage: app (watch). Input: the messages' SDP, datagrams, TCP stream events, the units
//! judged. Output: a [`MediaReport`] per unit and the findings on media of no call.

use std::collections::{BTreeSet, VecDeque};
use std::hash::BuildHasher;
use std::net::{IpAddr, SocketAddr};

use foldhash::{HashMap, HashSet};

use crate::calls::Call;
use crate::media::{
    FlowLimit, MediaReport, MediaSettings, MediaTracker, RtpStream, UdpPayload, announced_addrs,
};
use crate::net::{Datagram, IcmpError, StreamEvent};
use crate::sip::SipMessage;

use super::deferred::Deferred;

mod judge;
mod rows;

use rows::{AddrKey, Found, Naming, Row, Stored, UnitSpan};

/// Capture seconds a retired row stays in the store at least (a call may name its
/// address just after the media began).
pub const LINGER_SECS: i64 = 1;

/// Rows filed between two looks at the store, at most.
pub const SWEEP_ROWS: usize = 4096;

/// Rows filed after a row was last looked at that end its linger as [`LINGER_SECS`]
/// do: a capture whose clock stands still (every packet stamped alike) never ends it in
/// capture time. A second of the busiest trunk files a few thousand.
pub const LINGER_ROWS: u64 = 4 * SWEEP_ROWS as u64;

/// The SP rules judged with each unit of calls.
pub const UNIT_RULES: &[&str] = &["SP003", "SP005", "SP006"];

/// The SP rules judged at the end, on the capture's STUN and softphone streams (SP003 on
/// softphone signalling without media, SP005 on softphone RTP without a reverse stream).
pub const END_RULES: &[&str] = &["SP001", "SP002", "SP003", "SP004", "SP005"];

/// The calls whose SDP named addresses ([`WatchMedia::calls_named`]).
#[cfg(test)]
#[derive(Debug)]
pub(super) struct CallsNamed {
    pub(super) held: usize,
    pub(super) total: u64,
}

/// What the watch keeps of the media; see the module docs.
pub(super) struct WatchMedia {
    tracker: MediaTracker,
    settings: MediaSettings,
    /// Retired rows (`None`: a free slot, [`Stored`]); by address and by call, and in the
    /// order they are looked at.
    rows: Vec<Option<Stored>>,
    free: Vec<usize>,
    by_addr: BTreeSet<(AddrKey, Found, usize)>,
    /// By a hash of the Call-ID (two calls may share one: the rows found are those of
    /// the call).
    by_call: BTreeSet<(u64, usize)>,
    call_hasher: foldhash::fast::FixedState,
    /// Tests: every Call-ID hashed alike ([`ONE_CALL_KEY`]).
    #[cfg(test)]
    one_call_key: bool,
    order: VecDeque<usize>,
    /// Addresses named by the SDP of calls not yet judged, each with the frame of the
    /// call's first SDP and the call's number.
    named: BTreeSet<(AddrKey, u64, u64)>,
    /// Those addresses by call (Call-ID, or the made-up key of messages without one),
    /// with the frame of its first SDP and its number.
    named_by: HashMap<String, Naming>,
    /// Addresses named at most (`--max-sdp-announcements`, the tracker's cap too).
    named_cap: usize,
    /// Calls that named addresses so far.
    namings: u64,
    /// Rows filed since the store was last looked at.
    filed: usize,
    /// Rows filed in all.
    rows_filed: u64,
    /// The last frame read (of a SIP message or a datagram).
    frame: u64,
    /// Streams of softphone addresses or between addresses that exchanged STUN, for the
    /// rules judged at the end (ICE sessions, softphone media), up to the RTP stream
    /// table's cap (`--max-rtp-streams`); past it, how many were left out and the first
    /// one's frame.
    end_rtp: Vec<RtpStream>,
    end_rtp_cap: usize,
    end_left_out: Option<(u64, u64)>,
    softphone_ips: HashSet<IpAddr>,
    /// Address pairs (both ways) of the STUN transactions so far, and how many of the
    /// tracker's transactions they hold.
    stun_pairs: HashSet<(SocketAddr, SocketAddr)>,
    stun_seen: usize,
    pub(super) deferred: Deferred,
    /// The capture second of the last look at the store.
    now: i64,
    /// RTP streams the tracker has finished.
    rtp_streams: u64,
    /// Datagrams are only counted from now on ([`WatchMedia::count_only`]).
    counts_only: bool,
}

#[cfg(test)]
thread_local! {
    /// Tests: the stores made on this thread file every Call-ID under one key, as if
    /// all their hashes collided.
    pub(super) static ONE_CALL_KEY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

impl WatchMedia {
    /// The key a row of Call-ID `id` is filed under in `by_call`.
    fn call_key(&self, id: &str) -> u64 {
        #[cfg(test)]
        if self.one_call_key {
            return 0;
        }
        self.call_hasher.hash_one(id)
    }

    pub(super) fn new(settings: MediaSettings) -> Self {
        let mut tracker = MediaTracker::new(settings.clone());
        tracker.retiring();
        WatchMedia {
            tracker,
            settings,
            rows: Vec::new(),
            free: Vec::new(),
            by_addr: BTreeSet::new(),
            by_call: BTreeSet::new(),
            call_hasher: foldhash::fast::FixedState::with_seed(0x5d1a9),
            #[cfg(test)]
            one_call_key: ONE_CALL_KEY.get(),
            order: VecDeque::new(),
            named: BTreeSet::new(),
            named_by: HashMap::default(),
            named_cap: crate::limits::current().sdp_announcements,
            namings: 0,
            filed: 0,
            rows_filed: 0,
            frame: 0,
            end_rtp: Vec::new(),
            end_rtp_cap: crate::limits::current().rtp_streams,
            end_left_out: None,
            softphone_ips: HashSet::default(),
            stun_pairs: HashSet::default(),
            stun_seen: 0,
            deferred: Deferred::default(),
            now: i64::MIN,
            rtp_streams: 0,
            counts_only: false,
        }
    }

    /// From now on the media is not followed, only the UDP datagrams counted: for a first
    /// reading of `analyze` that no longer judges (the file is read again, with the UDP
    /// count this one gives). What is followed so far still ends with its calls.
    pub(super) fn count_only(&mut self) {
        self.counts_only = true;
    }

    /// Whether the media is only counted ([`WatchMedia::count_only`]).
    pub(super) fn counts_only(&self) -> bool {
        self.counts_only
    }

    /// A SIP message: its SDP is announced, and its addresses named by its call.
    pub(super) fn message(&mut self, m: &SipMessage) {
        if self.counts_only() {
            return;
        }
        // Its SDP announced, and the tracker's clock moved on (signalling moves it too).
        self.frame = self.frame.max(m.frame);
        crate::app::PacketSink::message(&mut self.tracker, m);
        self.take_rows(m.time.secs);
        let Some(sdp) = m.sdp() else {
            return;
        };
        let key = match m.call_id() {
            Some(id) => id.to_string(),
            None => crate::calls::NoCallIdKey::of(m).call_key(),
        };
        let n = &mut self.namings;
        let naming = self.named_by.entry(key).or_insert_with(|| {
            *n += 1;
            Naming {
                since: m.frame,
                number: *n,
                addrs: Vec::new(),
            }
        });
        for a in announced_addrs(sdp) {
            let key = (AddrKey::from(a), naming.since, naming.number);
            // A call naming addresses by the thousand (a re-INVITE or a 183 with a new
            // address each, under one Call-ID) is looked up in the set, not its list.
            let known = if naming.addrs.len() <= 16 {
                naming.addrs.contains(&a)
            } else {
                self.named.contains(&key)
            };
            // Past `--max-sdp-announcements` named in all, the tracker keeps no more
            // either (and says so, CAP006): nothing of them to find.
            if !known && self.named.len() < self.named_cap {
                naming.addrs.push(a);
                self.named.insert(key);
            }
        }
    }

    /// A datagram that is not SIP, with what was read of its payload where it was decoded
    /// (UDP that is not STUN, [`UdpPayload::read`]: `d.payload` is then empty).
    pub(super) fn datagram(&mut self, d: &Datagram<'_>, read: Option<UdpPayload>) {
        if self.counts_only {
            self.tracker.count_datagram(d);
            return;
        }
        self.frame = self.frame.max(d.frame);
        match read {
            Some(p) => self.tracker.read_datagram(d, p),
            None => self.tracker.datagram(d),
        }
        self.take_rows(d.time.secs);
    }

    pub(super) fn icmp(&mut self, e: &IcmpError) {
        if !self.counts_only() {
            self.tracker.icmp(e);
        }
    }

    pub(super) fn stream(&mut self, e: &StreamEvent<'_>) {
        if self.counts_only() {
            return;
        }
        self.tracker.stream(e);
        if let StreamEvent::Data { flow, .. } = e {
            let port = self.settings.softphone_port;
            if flow.dst.port() == port || flow.src.port() == port {
                self.softphone_ips.insert(flow.src.ip());
                self.softphone_ips.insert(flow.dst.ip());
            }
        }
    }

    /// Whether many rows came since the store was last looked at ([`SWEEP_ROWS`]): a
    /// flood of calls or streams ends more in a capture second than a look every
    /// [`super::HOLD_SECS`] lets go of.
    pub(super) fn wants_sweep(&self) -> bool {
        self.filed >= SWEEP_ROWS
    }

    /// Non-SIP UDP datagrams so far.
    pub(super) fn udp_datagrams(&self) -> u64 {
        self.tracker.udp_datagrams()
    }

    /// The rows the tracker has finished, into the store.
    fn take_rows(&mut self, now: i64) {
        if !self.tracker.has_rows() {
            return;
        }
        let rows = self.tracker.take_rows();
        self.file_rows(rows, now);
    }

    /// Rows the tracker finished, into the store; the STUN transactions begun since the
    /// last rows first, so that a stream on a pair that exchanged STUN is kept for the end.
    fn file_rows(&mut self, rows: crate::media::Rows, now: i64) {
        let stun = self.tracker.stun_so_far();
        for t in &stun[self.stun_seen.min(stun.len())..] {
            self.stun_pairs.insert((t.src, t.dst));
            self.stun_pairs.insert((t.dst, t.src));
        }
        self.stun_seen = stun.len();
        self.rtp_streams += rows.rtp.len() as u64;
        for s in rows.rtp {
            self.file(Row::Rtp(Box::new(s)), now);
        }
        for (_, a) in rows.announced {
            self.file(Row::Announced(a), now);
        }
    }

    fn file(&mut self, row: Row, now: i64) {
        if let Row::Rtp(s) = &row
            && (self.softphone_ips.contains(&s.src.ip())
                || self.softphone_ips.contains(&s.dst.ip())
                || self.stun_pairs.contains(&(s.src, s.dst)))
        {
            if self.end_rtp.len() < self.end_rtp_cap {
                self.end_rtp.push(RtpStream::clone(s));
            } else {
                let (count, _) = self.end_left_out.get_or_insert((0, s.first_frame));
                *count += 1;
            }
        }
        let slot = match self.free.pop() {
            Some(i) => i,
            None => {
                self.rows.push(None);
                self.rows.len() - 1
            }
        };
        let found = row.found();
        for a in row.addrs() {
            self.by_addr.insert((a.into(), found, slot));
        }
        if let Some(id) = row.call_id() {
            self.by_call.insert((self.call_key(id), slot));
        }
        self.filed += 1;
        self.rows[slot] = Some(Stored {
            row,
            came: self.frame,
            looked: now,
            looked_after: self.rows_filed,
        });
        self.rows_filed += 1;
        self.order.push_back(slot);
    }

    /// Lets go of the rows no call waiting to be judged can read any more (capture second
    /// `now`), returning the streams of no call among them (SP006 judges them then).
    pub(super) fn sweep(&mut self, now: i64) -> Vec<RtpStream> {
        self.now = self.now.max(now);
        self.filed = 0;
        let mut loose = Vec::new();
        let mut kept = Vec::new();
        while let Some(&slot) = self.order.front() {
            let Some(Stored {
                row,
                came,
                looked,
                looked_after,
            }) = &self.rows[slot]
            else {
                self.order.pop_front();
                continue;
            };
            // A capture whose clock stands still never ends a linger in capture time:
            // [`LINGER_ROWS`] rows filed since end it too.
            if now.saturating_sub(*looked) < LINGER_SECS
                && self.rows_filed - looked_after < LINGER_ROWS
            {
                break;
            }
            self.order.pop_front();
            // A call waiting to be judged that named one of its addresses before the row
            // ended may read it (one that named it later began after it: an address
            // reused by the next call says nothing of this one). Before in the capture's
            // order: its clock may stand still.
            let ended = match row {
                Row::Rtp(s) => s.last_frame,
                Row::Announced(_) => *came,
            };
            let named = |a: SocketAddr| {
                let a = AddrKey::from(a);
                (self.named.range((a, 0, 0)..=(a, ended, u64::MAX)))
                    .next()
                    .is_some()
            };
            if row.addrs().any(named) {
                kept.push(slot);
                continue;
            }
            if let Some(Row::Rtp(s)) = self.remove(slot)
                && s.call_id.is_none()
            {
                loose.push(*s);
            }
        }
        for slot in kept {
            if let Some(stored) = &mut self.rows[slot] {
                stored.looked = now;
                stored.looked_after = self.rows_filed;
            }
            self.order.push_back(slot);
        }
        loose
    }

    fn remove(&mut self, slot: usize) -> Option<Row> {
        let row = self.rows[slot].take()?.row;
        let found = row.found();
        for a in row.addrs() {
            self.by_addr.remove(&(a.into(), found, slot));
        }
        if let Some(id) = row.call_id() {
            self.by_call.remove(&(self.call_key(id), slot));
        }
        self.free.push(slot);
        Some(row)
    }

    /// The calls about to be judged (the units of one look, together: the tracker goes
    /// over its flows once) end in the tracker, and what they leave becomes rows in the
    /// store; so does what they share with calls in progress, as it stands.
    pub(super) fn end_calls(&mut self, calls: &[&Call], now: i64) {
        let mut ids: Vec<&str> = Vec::new();
        for c in calls {
            let Some(naming) = self.named_by.get(&c.call_id) else {
                continue;
            };
            ids.push(&c.call_id);
            for &a in &naming.addrs {
                self.named.remove(&(a.into(), naming.since, naming.number));
            }
        }
        if ids.is_empty() {
            return;
        }
        let ended = self.tracker.end_calls(ids);
        self.file_ended(ended, now);
    }

    /// What calls that ended leave, and the rows the tracker has ready, into the store.
    fn file_ended(&mut self, ended: crate::media::EndedMedia, now: i64) {
        self.take_rows(now);
        for s in ended.rtp {
            self.file(Row::Rtp(Box::new(s)), now);
        }
        for a in ended.announced {
            self.file(Row::Announced(a), now);
        }
    }

    /// A call dropped without being judged (let go at `--max-calls`): what it announced
    /// and no media reached is forgotten, as when every call is held; the rest ends, and
    /// nothing waits for it.
    pub(super) fn drop_call(&mut self, call: &Call, now: i64) {
        let Some(naming) = self.named_by.remove(&call.call_id) else {
            return;
        };
        for &a in &naming.addrs {
            self.named.remove(&(a.into(), naming.since, naming.number));
        }
        let ended = self.tracker.drop_call(&call.call_id);
        self.file_ended(ended, now);
    }

    /// The calls whose SDP named addresses: held now (not yet judged) and in all.
    #[cfg(test)]
    pub(super) fn calls_named(&self) -> CallsNamed {
        CallsNamed {
            held: self.named_by.len(),
            total: self.namings,
        }
    }

    /// The media report of a unit of `calls` ended by [`WatchMedia::end_calls`]: their
    /// rows, the rows at an address they named that the rules read ([`Found`]), and the
    /// counts and limits so far.
    pub(super) fn unit_report(&mut self, calls: &[Call]) -> MediaReport {
        let ids: Vec<&str> = calls.iter().map(|c| c.call_id.as_str()).collect();
        let mut addrs: Vec<SocketAddr> = Vec::new();
        for id in &ids {
            addrs.extend((self.named_by.remove(*id)).map_or_else(Vec::new, |n| n.addrs));
        }
        addrs.sort_unstable();
        addrs.dedup();
        let mut report = MediaReport {
            settings: Some(self.settings.clone()),
            udp_datagrams: self.udp_datagrams(),
            ..Default::default()
        };
        let (flow_limit, item_limits) = self.tracker.limits_so_far();
        report.item_limits = item_limits.to_vec();
        report.flow_limit = flow_limit.map(|l| FlowLimit {
            calls: (ids.iter())
                .filter(|id| l.calls.contains(**id))
                .map(|id| id.to_string())
                .collect(),
            frames: l.frames.clone(),
            ..*l
        });
        let span = UnitSpan::of(calls);
        let mut slots: Vec<usize> = (addrs.iter())
            .flat_map(|&a| span.at(a))
            .flat_map(|r| self.by_addr.range(r))
            .map(|&(_, _, slot)| slot)
            .collect();
        for id in &ids {
            let h = self.call_key(id);
            slots.extend(
                (self.by_call.range((h, 0)..=(h, usize::MAX)))
                    .map(|&(_, slot)| slot)
                    .filter(|&slot| {
                        (self.rows[slot].as_ref())
                            .and_then(|s| s.row.call_id())
                            .is_some_and(|c| **c == **id)
                    }),
            );
        }
        slots.sort_unstable();
        slots.dedup();
        for slot in slots {
            match self.rows[slot].as_ref().map(|s| &s.row) {
                Some(Row::Rtp(s)) => report.rtp.push(RtpStream::clone(s)),
                Some(Row::Announced(a)) => report.announced.push(a.clone()),
                None => {}
            }
        }
        // A stream or announcement shared with a call then in progress may be held as it
        // stood then and as it ended: the latest.
        report
            .rtp
            .sort_by_key(|s| (s.first_frame, s.src, s.dst, s.ssrc, u64::MAX - s.packets));
        report
            .rtp
            .dedup_by_key(|s| (s.first_frame, s.src, s.dst, s.ssrc));
        report
            .announced
            .sort_by(|a, b| (a.frame, a.addr, &a.call_id).cmp(&(b.frame, b.addr, &b.call_id)));
        report
            .announced
            .dedup_by(|a, b| (a.frame, a.addr, &a.call_id) == (b.frame, b.addr, &b.call_id));
        report
    }

    /// The end of the input: the report the end rules read (the capture's STUN, softphone
    /// signalling and the streams of softphone addresses), the streams of no call still
    /// held, and how many RTP streams the capture had.
    pub(super) fn finish(mut self) -> (MediaReport, Vec<RtpStream>, u64) {
        let rest = self.tracker.finish_rows();
        self.file_rows(rest, self.now);
        let mut loose = Vec::new();
        for slot in 0..self.rows.len() {
            if let Some(Stored {
                row: Row::Rtp(s), ..
            }) = self.rows[slot].take()
                && s.call_id.is_none()
            {
                loose.push(*s);
            }
        }
        let mut report = self.tracker.finish();
        report.rtp = std::mem::take(&mut self.end_rtp);
        // Streams left out at the cap: the capture rules report it (CAP006), and the
        // media after the first one is not judged.
        if let Some((count, first)) = self.end_left_out {
            let table = crate::limits::MediaTable::RtpStreams;
            report.drop_item(table, self.end_rtp_cap, first);
            report.dropped += count - 1;
            if let Some(l) = (report.item_limits.iter_mut()).find(|l| l.table == table.name()) {
                l.count += count - 1;
            }
        }
        report
            .rtp
            .sort_by_key(|s| (s.first_frame, s.src, s.dst, s.ssrc));
        (report, loose, self.rtp_streams)
    }
}

#[cfg(test)]
mod tests;
