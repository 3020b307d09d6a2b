//! Retirement in the media tracker, for a listing written as the capture is read (`media`
//! without a focus): what has ended becomes a row and leaves the tables, so that memory
//! follows the media in progress, not the media seen.
//!
//! - A flow quiet for [`QUIET_SECS`](super::flows::QUIET_SECS) of capture time has ended (RTP flows every 20 ms,
//!   comfort noise at least every few seconds), unless a call whose SDP it matches is in
//!   progress (a call on hold may send nothing for minutes): such a flow is parked, out
//!   of the quiet check, until a datagram comes or the call ends, so that calls held
//!   for hours are not looked at every minute. Once all those calls have ended, a flow
//!   quiet for [`ENDED_QUIET_SECS`] has. Its counts go to its
//!   announcements, its confirmed streams become rows, and its slot and its streams'
//!   slots are reused.
//! - A stream that goes on under another call's SDP, or whose flow is forgotten at the
//!   cap, becomes a row at once.
//! - An announcement becomes a row [`ENDED_ANNOUNCEMENT_SECS`] after its call ended (or
//!   was let go by the calls stage), once no flow or stream refers to it; then its slot
//!   is reused. Packets to its address after that are no longer matched to it (where the
//!   whole report, as `analyze` keeps it, still would).
//!
//! Rows are handed out as they are finished, not in the report's order, each with its
//! key (an RTP stream's first frame, an announcement's creation number) and the bounds
//! below which no row is still to come: the smallest first frame of the streams followed
//! (or the frame being read) and the smallest creation number of the announcements held.
//! The bounds only move up, so a reader can put the rows in order as they come
//! (`report::ordered`).
//!
//! Stage: media. Input: capture time and frame (each datagram's) and the calls that
//! ended. Output: rows taken with [`MediaTracker::take_rows`], the last ones with
//! [`MediaTracker::finish_rows`].

use std::collections::BTreeSet;

use super::MediaTracker;
use crate::media::{Announced, FlowLimit, ItemLimit, RtpStream};

mod sweep;

/// No creation number: the announcement's slot is free.
const FREE: u64 = u64::MAX;

/// Announcements are looked at, and rows released, this often (capture seconds).
const RELEASE_SECS: i64 = 5;

/// A flow whose calls have all ended (and retired, [`crate::calls::retire::LINGER_SECS`]
/// or [`crate::calls::retire::SETTLED_LINGER_SECS`] after their last message) has ended
/// when quiet this long (capture seconds).
const ENDED_QUIET_SECS: i64 = 2;

/// An announcement of an ended call is kept this long (capture seconds), as the calls
/// stage keeps a call that has not settled: packets may still come to its address
/// (media set up by an OPTIONS answer, RTP after the BYE).
const ENDED_ANNOUNCEMENT_SECS: i64 = crate::calls::retire::LINGER_SECS;

/// Announcements of calls that ended after an ended call's announcement that end its
/// keeping as [`ENDED_ANNOUNCEMENT_SECS`] do: a capture whose clock stands still (every
/// packet stamped alike, a SIP log turned into a capture) never ends it in capture time.
/// A busy trunk ends about 20,000 in 32 s.
const ENDED_ANNOUNCEMENTS: u64 = 65_536;

/// Announcements that end between two releases at most (the clock may not move).
const RELEASE_ANNOUNCEMENTS: u64 = 4096;

/// What retirement keeps besides the tracker's tables.
#[derive(Debug, Default)]
pub(super) struct Retire {
    /// The capture second of the last sweep.
    swept: i64,
    /// The frame of the datagram being read.
    frame: u64,
    /// Per announcement slot: its creation number (its place in the report), or [`FREE`].
    seq: Vec<u64>,
    next_seq: u64,
    /// Creation numbers of the announcements held, the smallest first.
    held: BTreeSet<u64>,
    /// Per announcement slot: its call has ended.
    call_over: Vec<bool>,
    /// The capture second rows were last released.
    released: i64,
    /// Announcements of ended calls (slot, creation number, the capture second the call
    /// ended, how many had ended before), until nothing refers to them and
    /// [`ENDED_ANNOUNCEMENT_SECS`] have passed (or [`ENDED_ANNOUNCEMENTS`] more ended).
    ended: Vec<(u32, u64, i64, u64)>,
    /// Announcements of ended calls so far.
    ended_count: u64,
    /// [`RELEASE_ANNOUNCEMENTS`] ended since the last release: the next datagram or
    /// message releases, whether the clock moved or not.
    release_due: bool,
    /// Slots of retired flows, to reuse.
    pub(super) free_flows: Vec<u32>,
    /// Rows finished, to be taken, and the keys below which no row is still to come.
    ready: Rows,
    /// The bounds last taken.
    taken_below: (u64, u64),
    /// Flows that may retire at the next release, once quiet: those at the address of an
    /// announcement whose call ended, and those whose announcements changed (each looked
    /// at again until quiet, or left until another of its calls ends).
    candidates: Vec<u32>,
    /// Per flow slot: in `candidates` (each flow once, so the list stays within the flow
    /// table however many calls end between two releases).
    candidate: Vec<bool>,
    /// Scratch for the flows at an address.
    near: Vec<u32>,
    /// The lowest first frame of a stream held (or the frame read) when the flows were
    /// last gone over for it, at frame `first_held_at`.
    first_held: u64,
    first_held_at: u64,
    /// The flows held, by address ([`MediaTracker::end_calls`] looks at those of the
    /// ended calls' addresses only).
    flows_at: super::flows::FlowsAt,
}

impl Retire {
    /// Flow `slot` may retire at the next release.
    fn note_candidate(&mut self, slot: u32) {
        let i = slot as usize;
        if self.candidate.len() <= i {
            self.candidate.resize(i + 1, false);
        }
        if !std::mem::replace(&mut self.candidate[i], true) {
            self.candidates.push(slot);
        }
    }

    /// The flows at `addr` may retire at the next release.
    fn note_candidates_at(&mut self, addr: std::net::SocketAddr) {
        let mut near = std::mem::take(&mut self.near);
        near.clear();
        self.flows_at.slots_at(addr, &mut near);
        for &slot in &near {
            self.note_candidate(slot);
        }
        self.near = near;
    }

    /// Flow `f` in `slot` is no longer found by its addresses.
    fn unindex(&mut self, slot: u32, f: &super::flows::FlowState) {
        for a in [f.src, f.dst] {
            self.flows_at.remove(a, slot);
        }
    }
}

/// What [`MediaTracker::end_calls`] returns: the media of the ended calls that still
/// serves a call in progress, as it stands.
#[derive(Debug, Default)]
pub struct EndedMedia {
    /// Confirmed streams of flows that stay.
    pub rtp: Vec<RtpStream>,
    /// The ended calls' announcements that a flow still refers to.
    pub announced: Vec<Announced>,
}

/// Rows of a retiring tracker as they are finished, not in report order: each with its
/// key (an RTP stream's first frame; an announcement's creation number, in `announced`),
/// and the keys below which no row is still to come (the report's order is the keys').
#[derive(Debug, Default)]
pub struct Rows {
    pub rtp: Vec<RtpStream>,
    pub announced: Vec<(u64, Announced)>,
    /// No RTP row with a first frame below this, nor announcement with a creation number
    /// below `announced_below`, is still to come.
    pub rtp_below: u64,
    pub announced_below: u64,
}

impl MediaTracker {
    /// From now on, what has ended becomes a row, taken with [`MediaTracker::take_rows`]
    /// (call before the first packet).
    pub fn retiring(&mut self) {
        self.retire = Some(Box::default());
    }

    /// The rows finished since the last call, and how far the report's order is settled.
    pub fn take_rows(&mut self) -> Rows {
        match &mut self.retire {
            Some(r) => {
                r.taken_below = (r.ready.rtp_below, r.ready.announced_below);
                Rows {
                    rtp: std::mem::take(&mut r.ready.rtp),
                    announced: std::mem::take(&mut r.ready.announced),
                    ..r.ready
                }
            }
            None => Rows::default(),
        }
    }

    /// The end of the capture when retiring: every row left (announcements settled with
    /// the datagrams counted for them), with nothing more to come. The report of
    /// [`MediaTracker::finish`] then holds none.
    pub fn finish_rows(&mut self) -> Rows {
        for f in &mut self.flows {
            f.settle(&mut self.report.announced);
        }
        let Some(r) = &mut self.retire else {
            return Rows::default();
        };
        let mut rows = std::mem::take(&mut r.ready);
        for si in 0..self.streams.len() as u32 {
            if self.streams[si as usize].confirmed {
                rows.rtp.push(self.stream_row(si));
                self.streams[si as usize].confirmed = false;
            }
        }
        let Some(r) = &mut self.retire else {
            return rows;
        };
        for (i, seq) in r.seq.iter_mut().enumerate() {
            if *seq != FREE {
                rows.announced
                    .push((*seq, self.report.announced[i].clone()));
                *seq = FREE;
            }
        }
        r.held.clear();
        r.ended.clear();
        rows.rtp_below = u64::MAX;
        rows.announced_below = u64::MAX;
        r.ready.rtp_below = u64::MAX;
        r.ready.announced_below = u64::MAX;
        rows
    }

    /// Flows held now (in progress, or quiet and not yet retired).
    pub fn flows_held(&self) -> usize {
        self.flow_order.len() + self.parked.len()
    }

    /// Announcements of ended calls waiting to be released (or forgotten, when already
    /// freed): released every 5 s of capture time, SIP's or datagrams'.
    pub fn ended_held(&self) -> usize {
        self.retire.as_ref().map_or(0, |r| r.ended.len())
    }

    /// Whether rows are waiting to be taken.
    pub fn has_rows(&self) -> bool {
        self.retire.as_ref().is_some_and(|r| {
            !r.ready.rtp.is_empty()
                || !r.ready.announced.is_empty()
                || r.taken_below != (r.ready.rtp_below, r.ready.announced_below)
        })
    }

    /// The calls stage says `call_id` has ended (or retired without ending): its
    /// announcements become rows in time (nothing without [`MediaTracker::retiring`]).
    pub fn call_ended(&mut self, call_id: &str) {
        if self.retire.is_none() {
            return;
        }
        for i in self.take_chain(call_id) {
            self.announcement_ended(i);
        }
    }

    /// The calls `ids` are judged now (`watch` judges a unit of calls once they have
    /// retired): their announcements end and, without the quiet waits of retirement,
    /// every flow that refers only to ended calls' announcements retires and the calls'
    /// announcements that nothing refers to any more become rows (taken with
    /// [`MediaTracker::take_rows`]). What still serves a call in progress (a flow between
    /// two calls' addresses, a B2BUA's bridged legs) stays, and is returned as it stands.
    pub fn end_calls<'a>(&mut self, ids: impl IntoIterator<Item = &'a str>) -> EndedMedia {
        let mut slots = Vec::new();
        for id in ids {
            for i in self.take_chain(id) {
                self.announcement_ended(i);
                slots.push(i);
            }
        }
        self.end_slots(&slots)
    }

    /// The flows and rows of announcements `slots`, whose calls have ended.
    pub(super) fn end_slots(&mut self, slots: &[u32]) -> EndedMedia {
        let mut out = EndedMedia::default();
        let Some(mut r) = self.retire.take() else {
            return out;
        };
        if !slots.is_empty() {
            self.end_announcements(slots, &mut r, &mut out);
        }
        self.retire = Some(r);
        out
    }

    /// [`MediaTracker::end_calls`] for the announcement slots `slots`: only the flows at
    /// their addresses can refer to them (a flow's announcements are those of its
    /// addresses).
    fn end_announcements(&mut self, slots: &[u32], r: &mut Retire, out: &mut EndedMedia) {
        let mine: foldhash::HashSet<u32> = slots.iter().copied().collect();
        let mut near: Vec<u32> = Vec::new();
        for &i in slots {
            r.flows_at
                .slots_at(self.report.announced[i as usize].addr, &mut near);
        }
        near.sort_unstable();
        near.dedup();
        let mut referred: foldhash::HashSet<u32> = Default::default();
        for &slot in &near {
            let f = &self.flows[slot as usize];
            if f.retired || !self.flow_anns(f).any(|a| mine.contains(&a)) {
                continue;
            }
            if self.flow_anns(f).all(|a| r.call_over[a as usize]) {
                self.retire_flow(slot, r);
                continue;
            }
            let f = &mut self.flows[slot as usize];
            f.settle(&mut self.report.announced);
            for &si in &self.flows[slot as usize].streams {
                let s = &self.streams[si as usize];
                if s.confirmed {
                    out.rtp.push(self.describe_stream(si, s.gap_frames.clone()));
                }
            }
            let f = &self.flows[slot as usize];
            referred.extend(self.flow_anns(f).filter(|a| mine.contains(a)));
        }
        for &i in slots {
            let Some(&seq) = r.seq.get(i as usize).filter(|&&seq| seq != FREE) else {
                continue;
            };
            let row = self.report.announced[i as usize].clone();
            if referred.contains(&i) {
                out.announced.push(row);
                continue;
            }
            // Its entry among the ended announcements is dropped at the next release
            // (its slot no longer holds this creation number).
            self.free_announcement(i);
            r.seq[i as usize] = FREE;
            r.held.remove(&seq);
            r.ready.announced.push((seq, row));
        }
    }

    /// The announcements flow `f` and its streams refer to (a flow's are looked up again
    /// after new SDP, a stream's are those of its start).
    fn flow_anns<'t>(&'t self, f: &'t super::flows::FlowState) -> impl Iterator<Item = u32> + 't {
        let streams = (f.streams.iter()).flat_map(|&si| {
            let s = &self.streams[si as usize];
            [s.dst_ann, s.src_ann]
        });
        ([f.dst_ann, f.src_ann].into_iter().chain(streams)).flatten()
    }

    /// Flow `slot` refers to an announcement: found by its addresses from now on (when
    /// retiring), so that the end of the announcement's call finds it. A flow that never
    /// refers to one (most of a flood of flows) is not indexed: no call's end looks for it.
    pub(super) fn index_flow(&mut self, slot: u32) {
        if let Some(r) = &mut self.retire {
            let f = &mut self.flows[slot as usize];
            if !f.indexed {
                f.indexed = true;
                for a in [f.src, f.dst] {
                    r.flows_at.insert(a, slot);
                }
            }
        }
    }

    /// Flow `slot` leaves the table (retired, forgotten): no longer found by its
    /// addresses.
    pub(super) fn unindex_flow(&mut self, slot: u32) {
        if let Some(r) = &mut self.retire {
            let f = &mut self.flows[slot as usize];
            if std::mem::take(&mut f.indexed) {
                r.unindex(slot, f);
            }
        }
    }

    /// The STUN transactions so far, in the order they began.
    pub fn stun_so_far(&self) -> &[crate::media::StunTransaction] {
        &self.report.stun
    }

    /// Non-SIP UDP datagrams examined so far.
    pub fn udp_datagrams(&self) -> u64 {
        self.report.udp_datagrams
    }

    /// The report's parts that hold while the capture is read: the flows forgotten at the
    /// cap (with the calls they leave not judged) and the other tables that were full.
    pub fn limits_so_far(&self) -> (Option<&FlowLimit>, &[ItemLimit]) {
        (self.report.flow_limit.as_ref(), &self.report.item_limits)
    }

    /// An announcement was filed in slot `i`.
    pub(super) fn note_announced(&mut self, i: u32) {
        if let Some(r) = &mut self.retire {
            let i = i as usize;
            if r.seq.len() <= i {
                r.seq.resize(i + 1, FREE);
            }
            r.seq[i] = r.next_seq;
            if r.call_over.len() <= i {
                r.call_over.resize(i + 1, false);
            }
            r.call_over[i] = false;
            r.held.insert(r.next_seq);
            r.next_seq += 1;
        }
    }

    /// The announcement in slot `i` was forgotten (its call let go, no flow looked it up).
    pub(super) fn note_forgotten(&mut self, i: u32) {
        if let Some(r) = &mut self.retire
            && let Some(seq) = r.seq.get_mut(i as usize)
        {
            r.held.remove(seq);
            *seq = FREE;
        }
    }

    /// The call of the announcement in slot `i` has ended (or was let go while a flow
    /// refers to it).
    pub(super) fn announcement_ended(&mut self, i: u32) {
        if let Some(r) = &mut self.retire
            && let Some(&seq) = r.seq.get(i as usize)
            && seq != FREE
        {
            r.ended.push((i, seq, r.swept, r.ended_count));
            r.ended_count += 1;
            r.release_due |= r.ended_count.is_multiple_of(RELEASE_ANNOUNCEMENTS);
            // Entries of announcements freed since (a unit judged at once) are dropped
            // at the next release, which a capture whose clock stands still never
            // reaches: past twice the announcements' places, they are dropped here.
            if r.ended.len() > 2 * r.seq.len() + 64 {
                let seqs = &r.seq;
                r.ended
                    .retain(|&(i, seq, _, _)| seqs.get(i as usize) == Some(&seq));
            }
            r.call_over[i as usize] = true;
            // The flows that may now retire are at its address.
            r.note_candidates_at(self.report.announced[i as usize].addr);
        }
    }

    /// The announcements of flow `slot` changed: it may retire at the next release.
    pub(super) fn flow_announcements_changed(&mut self, slot: u32) {
        if let Some(r) = &mut self.retire {
            r.note_candidate(slot);
        }
    }

    /// Stream `si` will have no more packets: an unconfirmed one frees its slot; when
    /// retiring, so does a confirmed one, which becomes a row.
    pub(super) fn stream_ended(&mut self, si: u32) {
        if let Some(row) = self.stream_ended_row(si, self.retire.is_some())
            && let Some(r) = &mut self.retire
        {
            r.ready.rtp.push(row);
        }
    }

    /// [`MediaTracker::stream_ended`], the row returned (`retiring`: whether a confirmed
    /// stream becomes one).
    fn stream_ended_row(&mut self, si: u32, retiring: bool) -> Option<RtpStream> {
        let s = &self.streams[si as usize];
        if s.confirmed && !retiring {
            return None;
        }
        let row = s.confirmed.then(|| self.stream_row(si));
        self.streams[si as usize].confirmed = false;
        self.free_streams.push(si);
        row
    }

    /// The report's end when retiring: the rows have all been taken
    /// ([`MediaTracker::finish_rows`]).
    pub(super) fn finish_retiring(&mut self) {
        self.report.rtp = Vec::new();
        self.report.announced = Vec::new();
        self.streams = Vec::new();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::testing::{dgram, rtp_pkt, rtp_stream};
    use crate::media::{MediaReport, MediaTracker};

    /// What the scenarios do, in capture order.
    enum Step {
        /// Call, SDP address (`10.0.0.2:port`), frame.
        Announce(&'static str, u16, u64),
        /// `n` RTP packets of SSRC `ssrc` to `10.0.0.2:port` from frame `frame`, second `secs`.
        Rtp {
            port: u16,
            ssrc: u32,
            frame: u64,
            secs: u32,
            n: u16,
            seq: u16,
        },
        /// The calls stage retired the call.
        Ended(&'static str),
    }

    /// The report, and after each step the rows taken so far and the RTP bound.
    fn run(steps: &[Step], retiring: bool) -> (MediaReport, Vec<(usize, u64)>) {
        let mut t = MediaTracker::default();
        if retiring {
            t.retiring();
        }
        let mut taken = Rows::default();
        // The rows taken after each step.
        let mut counts = Vec::new();
        // Each row comes at or above the bounds given before it.
        let take = |t: &mut MediaTracker, taken: &mut Rows| {
            let rows = if retiring {
                t.take_rows()
            } else {
                Rows::default()
            };
            let rtp = rows.rtp.iter().map(|s| s.first_frame);
            assert!(
                rtp.clone().all(|f| f >= taken.rtp_below),
                "a stream came below the bound"
            );
            let ann = rows.announced.iter().map(|(n, _)| *n);
            assert!(ann.clone().all(|n| n >= taken.announced_below));
            assert!(
                rows.rtp_below >= taken.rtp_below && rows.announced_below >= taken.announced_below
            );
            (taken.rtp_below, taken.announced_below) = (rows.rtp_below, rows.announced_below);
            taken.rtp.extend(rows.rtp);
            taken.announced.extend(rows.announced);
        };
        for step in steps {
            match *step {
                Step::Announce(call, port, frame) => {
                    let body = format!("v=0\r\nc=IN IP4 10.0.0.2\r\nm=audio {port} RTP/AVP 8\r\n");
                    t.announce(call, &crate::sip::sdp::parse(body.as_bytes()), frame);
                }
                Step::Rtp {
                    port,
                    ssrc,
                    frame,
                    secs,
                    n,
                    seq,
                } => {
                    for i in 0..n {
                        let p = rtp_pkt(seq + i, 160 * u32::from(seq + i), ssrc, 8);
                        let dst = format!("10.0.0.2:{port}");
                        let ms = secs * 1000 + 20 * u32::from(i);
                        t.datagram(&dgram(frame + u64::from(i), ms, "10.0.0.1:4000", &dst, &p));
                    }
                }
                Step::Ended(call) => t.call_ended(call),
            }
            take(&mut t, &mut taken);
            counts.push((taken.rtp.len() + taken.announced.len(), taken.rtp_below));
        }
        let rest = t.finish_rows();
        if retiring {
            assert_eq!((rest.rtp_below, rest.announced_below), (u64::MAX, u64::MAX));
        }
        taken.rtp.extend(rest.rtp);
        taken.announced.extend(rest.announced);
        let mut r = t.finish();
        if retiring {
            assert!(r.rtp.is_empty() && r.announced.is_empty(), "all rows taken");
            // The report's order: by first frame, and as the announcements were made.
            taken
                .rtp
                .sort_by_key(|s| (s.first_frame, s.src, s.dst, s.ssrc));
            taken.announced.sort_by_key(|(n, _)| *n);
            r.rtp = taken.rtp;
            r.announced = taken.announced.into_iter().map(|(_, a)| a).collect();
        }
        (r, counts)
    }

    fn json(r: &MediaReport) -> String {
        let mut r = r.clone();
        r.flow_limit = None;
        serde_json::to_string_pretty(&r).unwrap()
    }

    /// Three calls, one of them long: each stream and announcement becomes a row once it
    /// has ended, the bound keeps the short call's rows waiting for the long call's,
    /// which began first, and in the bounds' order the rows are the whole report's.
    #[test]
    fn rows_come_out_as_they_end_in_the_order_of_the_whole_report() {
        use Step::*;
        let rtp = |port, ssrc, frame, secs, n| Rtp {
            port,
            ssrc,
            frame,
            secs,
            n,
            seq: 1,
        };
        let steps = [
            Announce("long", 5000, 1),
            rtp(5000, 1, 10, 0, 5),
            Announce("short", 6000, 20),
            rtp(6000, 2, 30, 1, 5),
            Ended("short"),
            // 70 s later: the short call's flow and announcement have ended, but they
            // began after the long call's, which goes on.
            Rtp {
                port: 5000,
                ssrc: 1,
                frame: 100,
                secs: 71,
                n: 5,
                seq: 6,
            },
            Ended("long"),
            // Much later: the long call's rows are finished.
            Announce("third", 7000, 200),
            rtp(7000, 3, 210, 200, 5),
            rtp(7000, 3, 300, 400, 1),
            Ended("third"),
        ];
        let (whole, _) = run(&steps, false);
        let (retired, counts) = run(&steps, true);
        assert_eq!(json(&retired), json(&whole));
        let calls: Vec<_> = retired.rtp.iter().map(|s| s.call_id.as_deref()).collect();
        assert_eq!(calls, [Some("long"), Some("short"), Some("third")]);
        assert_eq!(whole.rtp[0].packets, 10, "one stream over the 70 s");
        // The short call's stream and announcement are finished 70 s on, but wait below
        // the bound of the long call's stream (frame 10), which began first; then the
        // long call's (4 rows), and the bound passes them both.
        let rows: Vec<usize> = counts.iter().map(|(n, _)| *n).collect();
        assert_eq!(rows, [0, 0, 0, 0, 0, 2, 2, 2, 4, 4, 4], "{counts:?}");
        assert!(counts[5].1 <= 10, "{counts:?}");
        assert!(counts[8].1 > 30, "{counts:?}");
    }

    /// A call on hold sends nothing for minutes: while the call goes on its flow stays,
    /// and the stream resumes as one.
    #[test]
    fn a_quiet_flow_of_a_call_in_progress_stays() {
        use Step::*;
        let steps = [
            Announce("held", 5000, 1),
            Rtp {
                port: 5000,
                ssrc: 1,
                frame: 10,
                secs: 0,
                n: 5,
                seq: 1,
            },
            Announce("other", 6000, 20),
            Rtp {
                port: 6000,
                ssrc: 2,
                frame: 30,
                secs: 300,
                n: 3,
                seq: 1,
            },
            Rtp {
                port: 5000,
                ssrc: 1,
                frame: 40,
                secs: 301,
                n: 5,
                seq: 6,
            },
        ];
        let (whole, _) = run(&steps, false);
        let (retired, _) = run(&steps, true);
        assert_eq!(json(&retired), json(&whole));
        assert_eq!(retired.rtp.len(), 2);
        assert_eq!((retired.rtp[0].packets, retired.rtp[0].lost), (10, 0));
    }

    /// Calls one after the other: the tables hold the calls in progress, not the calls
    /// seen (slots of flows, streams and announcements are reused).
    #[test]
    fn the_tables_hold_what_is_in_progress() {
        let mut t = MediaTracker::default();
        t.retiring();
        let mut rows = 0;
        for n in 0..200u16 {
            let call = format!("call-{n}");
            let port = 5000 + 2 * n;
            let frame = u64::from(n) * 100;
            let body = format!("v=0\r\nc=IN IP4 10.0.0.2\r\nm=audio {port} RTP/AVP 8\r\n");
            t.announce(&call, &crate::sip::sdp::parse(body.as_bytes()), frame);
            for i in 0..5 {
                let p = rtp_pkt(i, 160 * u32::from(i), u32::from(n), 8);
                let dst = format!("10.0.0.2:{port}");
                let ms = u32::from(n) * 30_000 + 20 * u32::from(i);
                t.datagram(&dgram(
                    frame + 1 + u64::from(i),
                    ms,
                    "10.0.0.1:4000",
                    &dst,
                    &p,
                ));
            }
            t.call_ended(&call);
            let r = t.take_rows();
            rows += r.rtp.len() + r.announced.len();
        }
        // A call every 30 s; flows and announcements go 60 s after their last packet.
        assert!(t.flows.len() <= 6, "{} flow slots", t.flows.len());
        assert!(t.streams.len() <= 6, "{} stream slots", t.streams.len());
        assert!(
            t.report.announced.len() <= 8,
            "{} announcement slots",
            t.report.announced.len()
        );
        assert!(rows >= 2 * 190, "{rows} rows out before the end");
        let r = t.finish_rows();
        assert_eq!(rows + r.rtp.len() + r.announced.len(), 400);
    }

    /// SDP offering PCMU audio at `host:port`.
    fn sdp(host: &str, port: u16) -> crate::sip::sdp::Sdp {
        let body = format!("v=0\r\nc=IN IP4 {host}\r\nm=audio {port} RTP/AVP 0\r\n");
        crate::sip::sdp::parse(body.as_bytes())
    }

    /// A call let go before it was judged: what it announced and no media reached is
    /// forgotten, as when every call is held (no row, its place free again); what media
    /// reached ends as for a call judged.
    #[test]
    fn a_call_dropped_forgets_what_no_media_reached() {
        let mut t = MediaTracker::default();
        t.retiring();
        // Call a: never reached. Call b: RTP to its address.
        t.announce("a", &sdp("10.0.0.2", 6000), 1);
        t.announce("b", &sdp("10.0.0.2", 7000), 2);
        rtp_stream(&mut t, "10.0.0.1:4000", "10.0.0.2:7000", 7, 10, 10);
        let ended = t.drop_call("a");
        assert!(
            ended.rtp.is_empty() && ended.announced.is_empty(),
            "{ended:?}"
        );
        let rows = t.take_rows();
        assert!(rows.rtp.is_empty() && rows.announced.is_empty(), "{rows:?}");
        // a's place is free: the next announcement takes it, and no more are held.
        let held = t.report.announced.len();
        t.announce("c", &sdp("10.0.0.2", 8000), 30);
        assert_eq!(t.report.announced.len(), held);
        // b's media was reached: dropped, it ends as end_calls ends it.
        let ended = t.drop_call("b");
        assert!(
            ended.rtp.is_empty() && ended.announced.is_empty(),
            "{ended:?}"
        );
        assert_eq!(t.flows_held(), 0);
        let rows = t.take_rows();
        assert_eq!(rows.rtp.len(), 1);
        assert_eq!(rows.rtp[0].packets, 10);
        let calls: Vec<&str> = rows.announced.iter().map(|(_, a)| &*a.call_id).collect();
        assert_eq!(calls, ["b"]);
    }

    /// Only flows that refer to an announcement are found by address: a flood of flows to
    /// no announced address adds nothing to the index, and a flow that gains an
    /// announcement after new SDP is found by its call's end.
    #[test]
    fn only_flows_of_announced_addresses_are_indexed() {
        let mut t = MediaTracker::default();
        t.retiring();
        for i in 0..50u16 {
            let src = format!("10.9.0.{}:{}", i % 250, 40000 + i);
            rtp_stream(&mut t, &src, "10.8.0.1:50000", u32::from(i), 1, 1);
        }
        let indexed = |t: &MediaTracker| {
            let mut v = Vec::new();
            let r = t.retire.as_ref().expect("retiring");
            for a in ["10.8.0.1:50000", "10.0.0.1:4000"] {
                r.flows_at.slots_at(a.parse().unwrap(), &mut v);
            }
            v.len()
        };
        assert_eq!(indexed(&t), 0);
        // RTP first, its SDP after: the flow is indexed at its next packet.
        rtp_stream(&mut t, "10.0.0.1:4000", "10.8.0.1:50000", 99, 100, 5);
        assert_eq!(indexed(&t), 0);
        t.announce("late", &sdp("10.8.0.1", 50000), 200);
        rtp_stream(&mut t, "10.0.0.1:4000", "10.8.0.1:50000", 99, 201, 5);
        assert_eq!(
            indexed(&t),
            2,
            "the flow under its source and its destination"
        );
        let ended = t.end_calls(["late"]);
        assert!(ended.rtp.is_empty(), "{ended:?}");
        assert_eq!(indexed(&t), 0);
    }

    /// Calls ended at once: their media becomes rows without waiting for quiet, except
    /// what a call still in progress shares, which is described as it stands.
    #[test]
    fn ended_calls_leave_at_once_and_a_shared_flow_stays() {
        let mut t = MediaTracker::default();
        t.retiring();
        // Call a: 10.0.0.1:4000 → 10.0.0.2:6000. Call b names 10.0.0.1:4000 too (a
        // B2BUA's other leg), with its own far end 10.0.0.2:7000 (no media).
        t.announce("a", &sdp("10.0.0.2", 6000), 1);
        t.announce("b", &sdp("10.0.0.1", 4000), 2);
        t.announce("b", &sdp("10.0.0.2", 7000), 3);
        rtp_stream(&mut t, "10.0.0.1:4000", "10.0.0.2:6000", 7, 10, 10);
        let ended = t.end_calls(["a"]);
        // The flow also refers to b's announcement of its source: it stays, and its
        // stream is described as it stands; a's announcement is still referred to.
        assert_eq!(ended.rtp.len(), 1, "{ended:?}");
        assert_eq!(ended.rtp[0].packets, 10);
        assert_eq!(ended.rtp[0].call_id.as_deref(), Some("a"));
        assert_eq!(ended.announced.len(), 1);
        assert_eq!(ended.announced[0].received, 10);
        assert_eq!(t.flows_held(), 1);
        let rows = t.take_rows();
        assert!(rows.rtp.is_empty() && rows.announced.is_empty(), "{rows:?}");
        // Once b ends too, the flow retires and everything is a row, with no time passing.
        let ended = t.end_calls(["b"]);
        assert!(
            ended.rtp.is_empty() && ended.announced.is_empty(),
            "{ended:?}"
        );
        assert_eq!(t.flows_held(), 0);
        let rows = t.take_rows();
        assert_eq!(rows.rtp.len(), 1);
        assert_eq!(rows.rtp[0].packets, 10);
        let mut calls: Vec<(&str, u64)> = (rows.announced.iter())
            .map(|(_, a)| (&*a.call_id, a.received + a.sent))
            .collect();
        calls.sort();
        assert_eq!(calls, [("b", 0), ("b", 10)]);
    }

    /// A packet of 20 ms PCMU from `src` to `dst` in frame `frame`, at capture second `secs`.
    fn rtp_at(t: &mut MediaTracker, src: &str, dst: &str, frame: u64, secs: u32) {
        let p = rtp_pkt(frame as u16, 160 * frame as u32, 7, 0);
        t.datagram(&dgram(frame, secs * 1000, src, dst, &p));
    }

    /// A call on hold for hours: its quiet flow is parked once, not looked at again every
    /// minute while other media moves the clock; a packet takes it back among the flows
    /// in progress (the stream goes on), and the call's end retires it.
    #[test]
    fn a_quiet_flow_of_a_call_in_progress_is_parked_until_a_packet_or_its_end() {
        let mut t = MediaTracker::default();
        t.retiring();
        t.announce("held", &sdp("10.0.0.2", 5000), 1);
        let held = "10.0.0.1:4000";
        rtp_at(&mut t, held, "10.0.0.2:5000", 2, 0);
        let parked = |t: &MediaTracker| (t.parked.len(), t.flow_order.len());
        // A flow of no call ticks every 5 s for three hours.
        let mut frame = 10;
        for secs in (5..3 * 3600).step_by(5) {
            rtp_at(&mut t, "10.9.0.1:7000", "10.9.0.2:7002", frame, secs);
            frame += 1;
            if secs == 55 {
                assert_eq!(parked(&t), (0, 2), "not quiet for a minute yet");
            }
            if secs == 60 {
                assert_eq!(parked(&t), (1, 1), "parked once quiet for a minute");
            }
        }
        assert_eq!(parked(&t), (1, 1));
        assert_eq!(t.flows_held(), 2);
        let slot = t.parked.oldest().unwrap();
        assert_eq!(
            t.flows[slot as usize].last_secs, 1000,
            "its last packet's second"
        );
        // The call resumes: the flow is in progress again, the stream goes on.
        rtp_at(&mut t, held, "10.0.0.2:5000", frame, 3 * 3600);
        assert_eq!(parked(&t), (0, 2));
        assert_eq!(
            t.streams[t.flows[slot as usize].streams[0] as usize].packets,
            2
        );
        // Quiet again, then the call ends: the flow retires at the next release.
        for secs in (3 * 3600 + 5..3 * 3600 + 100).step_by(5) {
            frame += 1;
            rtp_at(&mut t, "10.9.0.1:7000", "10.9.0.2:7002", frame, secs);
        }
        assert_eq!(parked(&t), (1, 1));
        t.call_ended("held");
        for secs in (3 * 3600 + 100..3 * 3600 + 110).step_by(5) {
            frame += 1;
            rtp_at(&mut t, "10.9.0.1:7000", "10.9.0.2:7002", frame, secs);
        }
        assert_eq!((parked(&t), t.flows_held()), ((0, 1), 1));
        let rows = t.take_rows();
        assert_eq!(rows.rtp.len(), 1, "{rows:?}");
        assert_eq!((rows.rtp[0].packets, rows.rtp[0].first_frame), (2, 2));
    }

    /// At the flow cap a parked flow (of a call in progress) is forgotten only when no
    /// other flow is left, and then its call is marked as not judged, as for a flow in
    /// progress.
    #[test]
    fn a_parked_flow_is_forgotten_last_and_leaves_its_call_not_judged() {
        for cap in [2, 1] {
            let limits = crate::limits::Limits {
                media_flows: cap,
                ..crate::limits::Limits::DEFAULT
            };
            let mut t = MediaTracker::with_limits(Default::default(), limits);
            t.retiring();
            t.announce("held", &sdp("10.0.0.2", 5000), 1);
            rtp_at(&mut t, "10.0.0.1:4000", "10.0.0.2:5000", 2, 0);
            // Cap 2: a flow of no call, then the quiet check parks the call's flow.
            if cap == 2 {
                rtp_at(&mut t, "10.9.0.1:7000", "10.9.0.2:7002", 3, 30);
            }
            t.clock(1070, 4);
            assert_eq!(t.parked.len(), 1, "cap {cap}");
            // A new flow: the flow of no call goes first, though its last packet is newer.
            rtp_at(&mut t, "10.9.0.3:7000", "10.9.0.4:7002", 5, 71);
            let limit = t.report.flow_limit.clone().expect("a flow forgotten");
            let calls: Vec<&str> = limit.calls.iter().map(|c| &**c).collect();
            if cap == 2 {
                assert_eq!((t.parked.len(), limit.evicted), (1, 1));
                assert!(calls.is_empty(), "{calls:?}");
            } else {
                // Nothing but the parked flow: it goes, and its call is not judged.
                assert_eq!((t.parked.len(), limit.evicted), (0, 1));
                assert_eq!(calls, ["held"]);
            }
        }
    }

    /// Calls judged one by one in a capture whose clock stands still: the announcements
    /// freed at once leave no entry behind for a release that never comes.
    #[test]
    fn ended_announcements_do_not_pile_up_while_the_clock_stands_still() {
        let mut t = MediaTracker::default();
        t.retiring();
        for n in 0..10_000u32 {
            let call = format!("call-{n}");
            t.announce(&call, &sdp("10.0.0.2", 5000 + 2 * (n % 100) as u16), 1);
            let ended = t.end_calls([call.as_str()]);
            assert_eq!(ended.announced.len(), 0);
        }
        let r = t.retire.as_ref().expect("retiring");
        assert!(
            r.ended.len() <= 2 * r.seq.len() + 64,
            "{} entries",
            r.ended.len()
        );
        assert_eq!(t.take_rows().announced.len(), 10_000);
    }

    /// Calls that end (the listing's `call_ended`) in a capture whose clock stands still
    /// (a SIP log turned into a capture): their announcements are kept while
    /// [`ENDED_ANNOUNCEMENTS`] more end, then listed, as 32 s of capture time would let
    /// them go. Before, none was released: the table filled at
    /// `--max-sdp-announcements` and the media of every later call was not judged.
    #[test]
    fn ended_announcements_are_released_while_the_clock_stands_still() {
        let mut t = MediaTracker::default();
        t.retiring();
        let calls = 2 * ENDED_ANNOUNCEMENTS as u32;
        let mut listed = 0;
        let mut most = 0;
        for n in 0..calls {
            let call = format!("call-{n}");
            let frame = u64::from(n) + 1;
            t.announce(&call, &sdp("10.0.0.2", 5000 + 2 * (n % 100) as u16), frame);
            t.call_ended(&call);
            t.clock(1000, frame);
            listed += t.take_rows().announced.len();
            most = most.max(t.report.announced.len() - t.by_call.free.len());
        }
        let kept = (ENDED_ANNOUNCEMENTS + RELEASE_ANNOUNCEMENTS) as usize;
        assert!(most <= kept, "{most} announcements held at most");
        assert!(listed >= calls as usize - kept, "{listed} listed");
        assert!(
            t.report.item_limits.is_empty(),
            "{:?}",
            t.report.item_limits
        );
    }

    proptest::proptest! {
        /// Calls announced, their RTP with gaps of up to minutes (flows go quiet, are
        /// parked, resume) and their ends, in any order: retiring as the capture is read
        /// gives the same report as holding it whole (a call does not come back after its
        /// end, so nothing is matched to an announcement already released).
        #[test]
        fn retiring_gives_the_whole_report_whatever_the_gaps(
            ops in proptest::collection::vec((0u8..4, 0usize..4, 0u32..150, 1u16..4), 1..40)
        ) {
            const CALLS: [&str; 4] = ["a", "b", "c", "d"];
            let mut steps = Vec::new();
            let (mut frame, mut secs) = (1u64, 0u32);
            let mut state = [0u8; 4]; // 0 not announced, 1 announced, 2 ended
            let mut seq = [1u16; 4];
            for (op, call, gap, n) in ops {
                secs += gap;
                match (op, state[call]) {
                    (0, 0) => {
                        steps.push(Step::Announce(CALLS[call], 5000 + 2 * call as u16, frame));
                        state[call] = 1;
                    }
                    (1 | 2, 1) => {
                        steps.push(Step::Rtp {
                            port: 5000 + 2 * call as u16,
                            ssrc: call as u32 + 1,
                            frame,
                            secs,
                            n,
                            seq: seq[call],
                        });
                        seq[call] += n;
                        frame += u64::from(n);
                    }
                    (3, 1) => {
                        steps.push(Step::Ended(CALLS[call]));
                        state[call] = 2;
                    }
                    _ => {}
                }
                frame += 1;
            }
            let (whole, _) = run(&steps, false);
            let (retired, _) = run(&steps, true);
            proptest::prop_assert_eq!(json(&retired), json(&whole));
        }
    }
}
