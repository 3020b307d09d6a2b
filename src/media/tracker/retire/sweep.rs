//! The retirement clock: once a capture second, the quiet flows are retired or parked,
//! and every few seconds the flows of ended calls and the announcements nothing refers
//! to any more are released as rows, with the bounds below which no row is still to come.
//!
//! Stage: media. Input: capture time and frame. Output: rows in the tracker's
//! retirement state (`Retire::ready`).

use super::super::MediaTracker;
use super::super::flows::{FlowKey, QUIET_SECS};
use super::{
    ENDED_ANNOUNCEMENT_SECS, ENDED_ANNOUNCEMENTS, ENDED_QUIET_SECS, FREE, RELEASE_SECS, Retire,
};

impl MediaTracker {
    /// A datagram or a SIP message of frame `frame`, at capture second `now`: sweeps once
    /// a second. Signalling moves the clock too (the tracker's `PacketSink::message`), so
    /// the announcements of ended calls are released in a capture filtered to SIP, which
    /// has no datagram to move it.
    pub fn clock(&mut self, now: i64, frame: u64) {
        if let Some(r) = &mut self.retire {
            r.frame = frame;
            if now > r.swept || r.release_due {
                r.swept = r.swept.max(now);
                self.sweep(now);
            }
        }
    }

    /// Retires the flows quiet since `now - QUIET_SECS` (a flow of a call in progress
    /// stays: a call on hold may send nothing for minutes) and, every [`RELEASE_SECS`],
    /// the announcements nothing refers to any more, and releases the rows no earlier
    /// one waits for.
    fn sweep(&mut self, now: i64) {
        let Some(mut r) = self.retire.take() else {
            return;
        };
        while let Some(slot) = self.flow_order.oldest() {
            let f = &mut self.flows[slot as usize];
            if now.saturating_sub(f.last_secs) < QUIET_SECS {
                break;
            }
            let over = |a: Option<u32>| a.is_none_or(|a| r.call_over[a as usize]);
            if over(f.dst_ann) && over(f.src_ann) {
                self.retire_flow(slot, &mut r);
            } else {
                // Its call goes on: parked until a datagram comes or the call ends (then
                // the flow is a release candidate, `announcement_ended`), and counted as
                // active meanwhile (at the cap, forgetting it leaves its call not judged).
                f.parked = true;
                self.flow_order.remove(slot);
                self.parked.push(slot);
            }
        }
        if now >= r.released.saturating_add(RELEASE_SECS) || r.release_due {
            r.released = now;
            r.release_due = false;
            self.release(&mut r, now);
        }
        self.retire = Some(r);
    }

    /// Retires the flows of ended calls quiet for [`ENDED_QUIET_SECS`] and the
    /// announcements nothing refers to any more, and moves the bounds of what is still
    /// to come up.
    fn release(&mut self, r: &mut Retire, now: i64) {
        let over = |r: &Retire, a: Option<u32>| a.is_none_or(|a| r.call_over[a as usize]);
        // Only a flow whose calls have all ended can retire here, and it became one when
        // the last of them ended or its announcements changed: the candidates, in slot
        // order.
        // Those not quiet yet stay candidates.
        let mut candidates = std::mem::take(&mut r.candidates);
        candidates.sort_unstable();
        candidates.retain(|&slot| {
            let (calls_over, quiet) = self.flows.get(slot as usize).map_or((false, true), |f| {
                let ended = !f.retired
                    && (f.dst_ann.is_some() || f.src_ann.is_some())
                    && over(r, f.dst_ann)
                    && over(r, f.src_ann);
                (ended, now.saturating_sub(f.last_secs) >= ENDED_QUIET_SECS)
            });
            if calls_over && !quiet {
                return true;
            }
            r.candidate[slot as usize] = false;
            if calls_over {
                self.retire_flow(slot, r);
            }
            false
        });
        r.candidates = candidates;
        // The first frame of a stream held: the flows are gone over once at least as many
        // frames as there are flows have been read since the last time (every release on a
        // capture with media; a capture that holds many calls in progress and moves its
        // clock with every packet does not walk every flow with every packet). Between,
        // the bound found then serves: it is lower (streams begun since start later), so
        // rows are released later, never out of order.
        if r.frame >= r.first_held_at.saturating_add(self.flows.len() as u64) {
            let mut first_held = r.frame;
            for f in self.flows.iter().filter(|f| !f.retired) {
                for &si in &f.streams {
                    first_held = first_held.min(self.streams[si as usize].first_frame);
                }
            }
            r.first_held = first_held;
            r.first_held_at = r.frame;
        }
        let first_held = r.first_held;
        let mut near = std::mem::take(&mut r.near);
        let mut ended = std::mem::take(&mut r.ended);
        let ended_count = r.ended_count;
        ended.retain(|&(i, seq, at, before)| {
            if r.seq.get(i as usize) != Some(&seq) {
                return false;
            }
            if now.saturating_sub(at) < ENDED_ANNOUNCEMENT_SECS
                && ended_count - before < ENDED_ANNOUNCEMENTS
            {
                return true;
            }
            // Referred to by a flow or a stream of one: those are at its address.
            near.clear();
            r.flows_at
                .slots_at(self.report.announced[i as usize].addr, &mut near);
            let referred = near.iter().any(|&slot| {
                let f = &self.flows[slot as usize];
                !f.retired && self.flow_anns(f).any(|a| a == i)
            });
            if referred {
                return true;
            }
            let row = self.report.announced[i as usize].clone();
            self.free_announcement(i);
            r.seq[i as usize] = FREE;
            r.held.remove(&seq);
            r.ready.announced.push((seq, row));
            false
        });
        r.ended = ended;
        r.near = near;
        // Streams begin at later frames, announcements get higher numbers: the bounds
        // only move up.
        r.ready.announced_below = r.held.first().copied().unwrap_or(r.next_seq);
        // The packet being read may begin a stream.
        r.ready.rtp_below = first_held.min(r.frame);
    }

    /// Retires flow `slot`: counts settled, confirmed streams made rows, slots freed.
    pub(super) fn retire_flow(&mut self, slot: u32, r: &mut Retire) {
        self.flow_order.remove(slot);
        self.parked.remove(slot);
        let f = &mut self.flows[slot as usize];
        f.parked = false;
        if std::mem::take(&mut f.indexed) {
            r.unindex(slot, f);
        }
        f.settle(&mut self.report.announced);
        self.flow_index.remove(FlowKey::new(f.src, f.dst));
        f.retired = true;
        f.dst_ann = None;
        f.src_ann = None;
        for si in std::mem::take(&mut f.streams) {
            if let Some(row) = self.stream_ended_row(si, true) {
                r.ready.rtp.push(row);
            }
        }
        r.free_flows.push(slot);
    }
}
