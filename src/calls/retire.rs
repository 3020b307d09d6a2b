//! Stage 4, streaming: [`SipMessage`] → [`Call`]s that leave memory once they have ended.
//!
//! Input: SIP messages of one capture, in capture order. Output: each [`Call`], whole and
//! final, handed out ([`Retiring::take_retired`]) once no later message can change it,
//! with its position among all calls in order of their first message; the rest at
//! [`Retiring::finish`]. Memory follows the calls in progress, not the calls seen.
//!
//! A call is retired
//! - when it has ended — a BYE, or every INVITE transaction answered with a failure, or
//!   (without INVITE) a final response — and `LINGER_SECS` of capture time have passed
//!   since its last message: 32 s, 64×T1, the longest a retransmission of the last request
//!   or response may follow (RFC 3261 §17.1.1.2 Timer B, §17.2.1 Timer H, §13.3.1.4 for a
//!   2xx), which also covers the 5 s in which a Follow-Me second leg may follow its first;
//!   `SETTLED_LINGER_SECS` (8 s) once it has settled: its last message is the one that
//!   stops the retransmissions (the ACK of every final response to an INVITE, the answer
//!   to its BYE; [`settled`](super::ending::settled)). What can still come then is a
//!   retransmission because that message was lost after the capture point: of a final
//!   response (Timer G) or of a BYE (Timer E), which repeat at most T2 = 4 s apart
//!   (§17.2.1, §17.1.2.2), each one moving the call's last message on. Most calls end so,
//!   and a quarter of the lingering makes a quarter of the calls held on a busy trunk (at
//!   1,000,000 calls an hour, 12,000 held at once become about 5,600);
//! - when it has not ended, is not an established dialog (2xx, no BYE: calls last hours
//!   without a SIP message) and has been silent for `IDLE_SECS`;
//! - when `--max-calls` calls are held ([`crate::limits`]) and a new one begins: the
//!   least recently active retires as it stands, in O(1) (a flood of INVITEs answered only
//!   by 100 Trying would otherwise be held for `IDLE_SECS`), counted in
//!   [`Retiring::let_go`] for the caller to report.
//!
//! Calls that refresh under one Call-ID for hours (REGISTER, SUBSCRIBE, PUBLISH: RFC 3261
//! §10.2 asks a UA to keep its Call-ID) and established dialogs stay until they have been
//! silent for `LASTING_IDLE_SECS`, a day: a message arriving after its call was retired
//! would otherwise start a second call under the same Call-ID. A day is longer than any
//! registration period and than the silence of a call in progress, and bounds what a
//! watch running for days holds of registrations that stopped (the phone is gone) and of
//! dialogs whose BYE was never captured. Such a call lists only its first and latest
//! messages while it is held, and counts the refreshes in between (a registration's, or
//! a dialog's keep-alives and INFO: [`fold_repeats`](super::ending::fold_repeats)), so
//! that it does not grow with the days.
//! Capture time is the latest timestamp seen, so a capture whose clock steps back only
//! delays retirement.
//!
//! Capture time can also jump (edited or anonymised captures put years between two
//! messages), and a user may answer a 401/407 challenge minutes later under the same
//! Call-ID. So the Call-IDs of the last 229,376 or more calls retired are remembered (a
//! 64-bit hash each, 8 bytes per call instead of a call; older ones are forgotten, so that
//! memory stays flat over days) and a message for one of them is counted
//! ([`Retiring::reopened`]): the caller then knows a call was split, and reads a seekable
//! capture a second time without retiring.
//!
//! What is filed per call is the whole [`Call`] (`calls`, `watch`), or only what tells
//! when it ends ([`CallEnd`](super::ending::CallEnd), for `media`, which follows the calls
//! only to retire their media with them): both retire after the same message.
//!
//! Several input files are not retired from: the same call may be in each of them, with
//! frame numbers of its own in each (the caller keeps the [`CallSet`](super::CallSet)).

use std::hash::BuildHasher;

use hashbrown::HashTable;

use super::ending::Filed;
use super::{Call, CallState, NoCallIdKey, call_key};
use crate::capture::Timestamp;
use crate::sip::SipMessage;

/// Seconds an ended call lingers for retransmissions and leg linking.
pub const LINGER_SECS: i64 = 32;
/// Seconds a settled call lingers: ended, and its last message answered what a peer
/// would otherwise send again ([`settled`](super::ending::settled)). Twice T2 (4 s), the
/// longest a retransmission of a response or of a request other than INVITE waits.
pub const SETTLED_LINGER_SECS: i64 = 8;
/// Seconds of silence after which a call that has not ended (and is no established
/// dialog) is given up: an INVITE never answered, a request never answered.
pub const IDLE_SECS: i64 = 300;
/// Seconds of silence after which a call that lasts (a registration, a subscription, an
/// established dialog) is given up: a day.
pub const LASTING_IDLE_SECS: i64 = 86_400;

struct Live<C> {
    /// Position among all calls, in order of their first message.
    order: u64,
    call: C,
    /// The call has been named as ended ([`Retiring::name_ended`]).
    named_ended: bool,
}

/// Calls in progress; ended ones retire (see the module docs). What is filed per call
/// is the whole [`Call`], or only its end ([`super::ending::CallEnd`]).
pub struct Retiring<C = Call> {
    /// Each call's place in `slots`, found by the hash of its key (`hasher`) and told
    /// apart by `keys`.
    ///
    /// The index holds 4 bytes a call, and the keys lie apart in the order of the places
    /// (16 bytes a call, the bytes themselves elsewhere): a message of a call held for
    /// hours reads them with the cache lines of its neighbours still warm, where the
    /// 32-byte entries of a map of owned keys had left the processor's caches since the
    /// call's last message (thousands of calls held, each looked at in turn).
    index: HashTable<u32>,
    keys: Vec<Box<str>>,
    hasher: foldhash::fast::RandomState,
    slots: Vec<Option<Live<C>>>,
    /// Beside each place, the capture second from which its call retires as of its last
    /// message ([`NEVER`]: a free place): worked out per message and kept apart from
    /// the calls, so that the queue reads 8 bytes per place instead of the place itself.
    due: Vec<i64>,
    /// The due seconds to look at, soonest first (see [`DueQueue`]), so that a sweep
    /// looks at the calls due, not at every call held (a trunk holding thousands of
    /// calls for hours, its clock moving every second).
    queue: DueQueue,
    free: Vec<u32>,
    /// The places in use, least recently active last: at the `--max-calls` cap the last
    /// retires early, in O(1).
    recency: crate::lru::Recency,
    next_order: u64,
    /// Latest capture time seen, and the second of the last sweep.
    now: Option<Timestamp>,
    swept: i64,
    retired: Vec<(u64, C)>,
    /// Messages without a Call-ID header (filed under made-up keys, see [`NoCallIdKey`]).
    pub without_call_id: u64,
    peak_live: usize,
    /// Hashes of the keys of retired calls (see the module docs).
    gone: Gone,
    reopened: u64,
    /// Calls retired before they had ended, at the `--max-calls` cap.
    pub let_go: super::LetGo,
    /// Messages left out of their call's list at `--max-messages-per-call`.
    pub message_cap: super::MessageCap,
    /// Their Call-IDs, when asked for ([`Retiring::name_let_go`]), until taken.
    let_go_names: Option<Vec<String>>,
    /// The Call-IDs of the calls that have ended or retired, when asked for
    /// ([`Retiring::name_ended`]), until taken.
    ended_names: Option<Vec<String>>,
    /// The calls keep no SDP ([`Retiring::without_sdp`]).
    without_sdp: bool,
    /// Retired keys are not remembered ([`Retiring::forget_retired`]).
    forget_retired: bool,
    /// Calls let go at the cap before they ended, kept apart from `retired`, when asked
    /// for ([`Retiring::drop_let_go`]), until taken.
    dropped: Option<Vec<C>>,
    /// The input file the messages come from (an index into the files read together,
    /// [`Retiring::capture_starts`]): each call notes the files that carried it.
    capture: usize,
    /// The place of the call the last message was filed under.
    last: Option<u32>,
}

impl<C> Default for Retiring<C> {
    fn default() -> Self {
        Retiring {
            index: HashTable::new(),
            keys: Vec::new(),
            hasher: Default::default(),
            slots: Vec::new(),
            due: Vec::new(),
            queue: DueQueue::default(),
            free: Vec::new(),
            recency: crate::lru::Recency::default(),
            next_order: 0,
            now: None,
            swept: 0,
            retired: Vec::new(),
            without_call_id: 0,
            peak_live: 0,
            gone: Gone::default(),
            reopened: 0,
            let_go: super::LetGo::default(),
            message_cap: super::MessageCap::default(),
            let_go_names: None,
            ended_names: None,
            without_sdp: false,
            dropped: None,
            capture: 0,
            forget_retired: false,
            last: None,
        }
    }
}

impl<C: Filed> Retiring<C> {
    /// Files a message under its call (its SDP moves into the call); calls that have
    /// ended before its time are retired.
    pub fn add(&mut self, mut m: SipMessage) {
        if self.without_sdp {
            m.skip_sdp();
        }
        let now = match self.now {
            Some(t) if t >= m.time => t,
            _ => m.time,
        };
        self.now = Some(now);
        if now.secs > self.swept {
            self.swept = now.secs;
            self.sweep(now);
        }
        let (key, no_call_id): (_, Option<NoCallIdKey>) = call_key(&m, &mut self.without_call_id);
        let hash = self.hash(&key);
        let keys = &self.keys;
        let slot = match self.index.find(hash, |&s| *keys[s as usize] == *key) {
            Some(&slot) => slot,
            None => {
                if self.index.len() >= self.let_go.cap {
                    self.let_go_oldest();
                }
                if !self.gone.is_empty() && self.gone.contains(hash) {
                    self.reopened += 1;
                }
                let live = Live {
                    order: self.next_order,
                    call: C::open(&key, no_call_id, &m),
                    named_ended: false,
                };
                self.next_order += 1;
                let slot = match self.free.pop() {
                    Some(s) => {
                        self.slots[s as usize] = Some(live);
                        self.keys[s as usize] = key.as_ref().into();
                        s
                    }
                    None => {
                        self.slots.push(Some(live));
                        self.keys.push(key.as_ref().into());
                        self.due.push(NEVER);
                        self.queue.queued.push(NEVER);
                        (self.slots.len() - 1) as u32
                    }
                };
                let (keys, hasher) = (&self.keys, &self.hasher);
                (self.index).insert_unique(hash, slot, |&s| hasher.hash_one(&*keys[s as usize]));
                slot
            }
        };
        self.recency.touch_or_push(slot);
        self.last = Some(slot);
        let Some(live) = self.slots[slot as usize].as_mut() else {
            return;
        };
        // SDP after the call was named as ended (a 200 retransmitted after the BYE)
        // announces its addresses again: the call is named again, so that what the reader
        // keeps of that SDP ends as well (the SDP is parsed once, for both readers).
        let again = self.ended_names.is_some() && live.named_ended && m.sdp().is_some();
        live.call.note_capture(self.capture);
        live.call.add(&mut m);
        live.call.trim(&mut self.message_cap);
        let call_state = live.call.state();
        let settled = call_state == CallState::Ended && live.call.settled();
        let due = retires_at(live.call.last_time(), call_state, settled);
        self.due[slot as usize] = due;
        self.queue.note(slot, due, &self.due);
        if call_state == CallState::Ended
            && (!live.named_ended || again)
            && let Some(names) = self.ended_names.as_mut()
        {
            live.named_ended = true;
            names.push(live.call.key().to_string());
        }
        self.peak_live = self.peak_live.max(self.index.len());
    }

    /// The call the last message was filed under (until it retires).
    pub fn last_filed(&self) -> Option<&C> {
        let slot = self.slots.get(self.last? as usize)?;
        slot.as_ref().map(|live| &live.call)
    }

    /// The cap is reached: the least recently active call retires now, whole or not.
    fn let_go_oldest(&mut self) {
        let Some(slot) = self.recency.oldest() else {
            return;
        };
        if let Some(live) = self.retire(slot) {
            // An ended call lingering for retransmissions loses nothing by going now.
            if live.call.state() != CallState::Ended {
                self.let_go.record(live.call.first_frame(), 0);
                if let Some(names) = self.let_go_names.as_mut() {
                    names.push(live.call.key().to_string());
                }
                if let Some(dropped) = self.dropped.as_mut() {
                    dropped.push(live.call);
                    return;
                }
            }
            self.retired.push((live.order, live.call));
        }
    }

    /// Takes the call in `slot` out of the tables, remembering its key as gone.
    fn retire(&mut self, slot: u32) -> Option<Live<C>> {
        let live = self.slots.get_mut(slot as usize)?.take()?;
        if self.last == Some(slot) {
            self.last = None;
        }
        self.due[slot as usize] = NEVER;
        self.queue.queued[slot as usize] = NEVER;
        if !live.named_ended
            && let Some(names) = self.ended_names.as_mut()
        {
            names.push(live.call.key().to_string());
        }
        let hash = self.hash(live.call.key());
        if let Ok(entry) = self.index.find_entry(hash, |&s| s == slot) {
            entry.remove();
        }
        self.keys[slot as usize] = Box::default();
        if C::COUNTS_REOPENED && !self.forget_retired {
            self.gone.insert(hash);
        }
        self.recency.remove(slot);
        self.free.push(slot);
        Some(live)
    }

    /// The messages from here on come from input file `capture` (an index into the files
    /// read together; 0 when one is read).
    pub fn capture_starts(&mut self, capture: usize) {
        self.capture = capture;
    }

    /// The calls keep no SDP (`offer` and `answer` stay `None`), for a reader that does
    /// not judge them (`calls` lists them). An SDP body is then never parsed for the
    /// calls, nor kept while they last.
    pub fn without_sdp(&mut self) {
        self.without_sdp = true;
    }

    /// The keys of retired calls are not remembered, so a call that comes back is not
    /// counted ([`Retiring::reopened`] stays 0): for a reading of a file an earlier
    /// reading found none in (up to 4.7 MB less).
    pub fn forget_retired(&mut self) {
        self.forget_retired = true;
    }

    /// From now on, the Call-IDs of the calls let go at the cap are kept for
    /// [`Retiring::take_let_go`] (which must then be called after every message).
    pub fn name_let_go(&mut self) {
        self.let_go_names.get_or_insert_with(Vec::new);
    }

    /// From now on, the calls let go at the cap before they ended are not handed out
    /// with the retired ones but kept apart ([`Retiring::take_dropped`]): the caller
    /// drops them from its analysis.
    pub fn drop_let_go(&mut self) {
        self.dropped.get_or_insert_with(Vec::new);
    }

    /// Whether the calls let go at the cap are kept apart ([`Retiring::drop_let_go`]).
    pub fn drops_let_go(&self) -> bool {
        self.dropped.is_some()
    }

    /// The calls let go before they ended since the last time it was asked (nothing
    /// unless [`Retiring::drop_let_go`] was called).
    pub fn take_dropped(&mut self) -> Vec<C> {
        self.dropped
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Names (to `gone`) each call let go at the cap since the last time it was asked
    /// (nothing unless [`Retiring::name_let_go`] was called).
    pub fn take_let_go(&mut self, gone: &mut dyn FnMut(&str)) {
        for id in self.let_go_names.iter_mut().flat_map(|v| v.drain(..)) {
            gone(&id);
        }
    }

    /// From now on, the Call-IDs of the calls that end (a BYE, every INVITE failed, a
    /// final response without INVITE) are kept for [`Retiring::take_ended`] as each ends,
    /// and those of the calls that retire without having ended (silent, or let go at the
    /// cap) as each retires: each call once, while it lingers or as it goes — and again
    /// for each message with SDP that comes while it lingers.
    pub fn name_ended(&mut self) {
        self.ended_names.get_or_insert_with(Vec::new);
    }

    /// Names (to `gone`) each call that ended since the last time it was asked (nothing
    /// unless [`Retiring::name_ended`] was called).
    pub fn take_ended(&mut self, gone: &mut dyn FnMut(&str)) {
        for id in self.ended_names.iter_mut().flat_map(|v| v.drain(..)) {
            gone(&id);
        }
    }

    /// Moves capture time on to `now` without a message (a live capture that has gone
    /// quiet: its clock is the wall clock), retiring what has ended by then.
    pub fn advance(&mut self, now: Timestamp) {
        if self.now.is_some_and(|t| t >= now) {
            return;
        }
        self.now = Some(now);
        if now.secs > self.swept {
            self.swept = now.secs;
            self.sweep(now);
        }
    }

    /// The latest capture time seen (or moved on to).
    pub fn now(&self) -> Option<Timestamp> {
        self.now
    }

    fn sweep(&mut self, now: Timestamp) {
        let before = self.retired.len();
        let mut due_now = std::mem::take(&mut self.queue.scratch);
        self.queue.due_by(now.secs, &self.due, &mut due_now);
        // In the places' order, as a walk over them would (the free places are reused
        // in that order).
        due_now.sort_unstable();
        for &slot in &due_now {
            if let Some(live) = self.retire(slot) {
                self.retired.push((live.order, live.call));
            }
        }
        due_now.clear();
        self.queue.scratch = due_now;
        // Retired together: in the order the calls began (the places' order is not that).
        self.retired[before..].sort_unstable_by_key(|(o, _)| *o);
    }

    /// The calls retired since the last call, each with its position among all calls in
    /// order of their first message.
    pub fn take_retired(&mut self) -> std::vec::Drain<'_, (u64, C)> {
        self.retired.drain(..)
    }

    /// The end of the input: every call still in progress retires, in order.
    pub fn finish(&mut self) -> std::vec::Drain<'_, (u64, C)> {
        self.index.clear();
        self.keys.clear();
        self.free.clear();
        self.due.clear();
        self.queue = DueQueue::default();
        self.recency = crate::lru::Recency::default();
        let mut rest: Vec<(u64, C)> = (self.slots.drain(..).flatten())
            .map(|l| (l.order, l.call))
            .collect();
        rest.sort_unstable_by_key(|(o, _)| *o);
        self.retired.extend(rest);
        self.retired.drain(..)
    }

    fn hash(&self, key: &str) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Messages that came for a call already retired: each split a call in two. Zero
    /// means every call handed out is whole.
    pub fn reopened(&self) -> u64 {
        self.reopened
    }

    /// Calls held now (in progress or lingering).
    pub fn live(&self) -> usize {
        self.index.len()
    }

    /// The most calls held at once.
    pub fn peak_live(&self) -> usize {
        self.peak_live
    }

    /// Calls seen so far.
    pub fn seen(&self) -> u64 {
        self.next_order
    }
}

/// The capture second from which `c` retires if no message comes: more than
/// [`LINGER_SECS`] after its last message once it has ended ([`SETTLED_LINGER_SECS`] once
/// it has settled), more than [`IDLE_SECS`] while it is open, more than
/// [`LASTING_IDLE_SECS`] while it lasts.
fn retires_at(last: Timestamp, state: CallState, settled: bool) -> i64 {
    let silence = match state {
        CallState::Ended if settled => SETTLED_LINGER_SECS,
        CallState::Ended => LINGER_SECS,
        CallState::Open => IDLE_SECS,
        CallState::Lasting => LASTING_IDLE_SECS,
    };
    last.secs.saturating_add(silence + 1)
}

/// The due second of a free place.
const NEVER: i64 = i64::MAX;

/// The places by due second, soonest first: a binary heap with one entry per place in
/// use at or before its due second (its `queued` second). A due second that moves later
/// (a message came) leaves the entry as it is: met, it is put back at the new second. One
/// that moves earlier (the call ended) is pushed anew, and the entry it leaves behind,
/// like one of a call retired before its time, is skipped when met; when such entries
/// outnumber the places the heap is built again from the places in use, so it holds at
/// most about twice as many entries as places.
#[derive(Default)]
struct DueQueue {
    heap: std::collections::BinaryHeap<std::cmp::Reverse<(i64, u32)>>,
    /// Per place: the second of its entry in the heap ([`NEVER`]: none).
    queued: Vec<i64>,
    /// Scratch for the places due.
    scratch: Vec<u32>,
}

impl DueQueue {
    /// Place `slot` (of `due`) is now due at `at`.
    fn note(&mut self, slot: u32, at: i64, due: &[i64]) {
        let queued = &mut self.queued[slot as usize];
        if at < *queued {
            *queued = at;
            self.heap.push(std::cmp::Reverse((at, slot)));
            if self.heap.len() > 2 * self.queued.len() + 64 {
                self.rebuild(due);
            }
        }
    }

    /// The places due by second `now` (by `due`), out of the queue, to `out`.
    fn due_by(&mut self, now: i64, due: &[i64], out: &mut Vec<u32>) {
        while let Some(&std::cmp::Reverse((at, slot))) = self.heap.peek()
            && at <= now
        {
            self.heap.pop();
            let s = slot as usize;
            if self.queued[s] != at {
                continue;
            }
            if due[s] <= now {
                self.queued[s] = NEVER;
                out.push(slot);
            } else {
                self.queued[s] = due[s];
                self.heap.push(std::cmp::Reverse((due[s], slot)));
            }
        }
    }

    /// The heap again, one entry per place in use, at its due second.
    fn rebuild(&mut self, due: &[i64]) {
        let entries: Vec<_> = (due.iter().enumerate())
            .filter(|&(_, &at)| at != NEVER)
            .map(|(slot, &at)| std::cmp::Reverse((at, slot as u32)))
            .collect();
        for (queued, &at) in self.queued.iter_mut().zip(due) {
            *queued = at;
        }
        self.heap = entries.into();
    }
}

/// Retired keys remembered: two generations of at most this many each. A hash set fills
/// at most 7/8 of its table, whose size is a power of two: 7/8 of 2^18 fill a table of
/// 2^18 places (2.3 MB), where 2^18 hashes would take one of 2^19 (4.7 MB).
const GONE_GENERATION: usize = (1 << 18) / 8 * 7;

/// The hashes of the keys of retired calls, in two generations: when the newer one is
/// full the older is dropped, so a watch that runs for days holds at most
/// 2 × [`GONE_GENERATION`] hashes (about 4.7 MB), and a message for any of the last
/// 229,376 calls retired is still recognised.
#[derive(Default)]
struct Gone {
    new: foldhash::HashSet<u64>,
    old: foldhash::HashSet<u64>,
}

impl Gone {
    fn insert(&mut self, h: u64) {
        if self.new.len() >= GONE_GENERATION {
            // The oldest generation's table, emptied, takes the next one: sized for a
            // whole generation, it never grows (growing holds two tables at once).
            let mut next = std::mem::take(&mut self.old);
            next.clear();
            next.reserve(GONE_GENERATION);
            self.old = std::mem::replace(&mut self.new, next);
        }
        self.new.insert(h);
    }

    fn contains(&self, h: u64) -> bool {
        self.new.contains(&h) || self.old.contains(&h)
    }

    fn is_empty(&self) -> bool {
        self.new.is_empty() && self.old.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::{
        DueQueue, GONE_GENERATION, Gone, LASTING_IDLE_SECS, LINGER_SECS, NEVER, Retiring,
        SETTLED_LINGER_SECS,
    };
    use crate::calls::Call;
    use crate::sip::message::udp_message;

    /// Message `frame` of call `id`, `frame` seconds in.
    fn message(frame: u64, start: &str, id: &str, cseq: &str) -> crate::sip::SipMessage {
        let text = format!(
            "{start}\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-{id}-{cseq}\r\n\
             From: <sip:100@10.0.0.1>;tag=a\r\nTo: <sip:200@10.0.0.2>;tag=b\r\n\
             Call-ID: {id}\r\nCSeq: {cseq}\r\nContent-Length: 0\r\n\r\n"
        );
        let (a, b) = ("10.0.0.1:5060", "10.0.0.2:5060");
        if start.starts_with("SIP/2.0") {
            udp_message(&text, b, a, frame)
        } else {
            udp_message(&text, a, b, frame)
        }
    }

    /// A registration and an established dialog stay while they are silent for up to a
    /// day, and retire once the silence is longer (a phone gone, a BYE never captured).
    #[test]
    fn calls_that_last_are_given_up_after_a_day_of_silence() {
        let mut r = Retiring::<Call>::default();
        r.add(message(
            1,
            "REGISTER sip:10.0.0.2 SIP/2.0",
            "reg",
            "1 REGISTER",
        ));
        r.add(message(2, "SIP/2.0 200 OK", "reg", "1 REGISTER"));
        r.add(message(
            3,
            "INVITE sip:200@10.0.0.2 SIP/2.0",
            "call",
            "1 INVITE",
        ));
        r.add(message(4, "SIP/2.0 200 OK", "call", "1 INVITE"));
        r.add(message(5, "ACK sip:200@10.0.0.2 SIP/2.0", "call", "1 ACK"));
        let day = LASTING_IDLE_SECS as u64;
        // Other traffic: each call stays through a day of silence and retires the second
        // after.
        let mut retired_at = |frame: u64, id: &str| {
            r.add(message(
                frame,
                "OPTIONS sip:10.0.0.2 SIP/2.0",
                id,
                "1 OPTIONS",
            ));
            r.take_retired().map(|(_, c)| c.call_id).collect::<Vec<_>>()
        };
        assert!(retired_at(2 + day, "o1").is_empty());
        assert_eq!(retired_at(3 + day, "o2"), ["reg"]);
        assert!(retired_at(5 + day, "o3").is_empty());
        assert_eq!(retired_at(6 + day, "o4"), ["call"]);
    }

    /// An ended call whose last message stopped every retransmission (the ACK of a
    /// failure) retires `SETTLED_LINGER_SECS` after it; one whose failure the capture
    /// shows unacknowledged lingers the full `LINGER_SECS`.
    #[test]
    fn a_settled_call_retires_sooner_than_one_still_waiting_for_its_ack() {
        let mut r = Retiring::<Call>::default();
        let invite = |f, id| message(f, "INVITE sip:200@10.0.0.2 SIP/2.0", id, "1 INVITE");
        let failed = |f, id| message(f, "SIP/2.0 503 Service Unavailable", id, "1 INVITE");
        r.add(invite(1, "acked"));
        r.add(failed(1, "acked"));
        r.add(message(1, "ACK sip:200@10.0.0.2 SIP/2.0", "acked", "1 ACK"));
        r.add(invite(1, "unacked"));
        r.add(failed(1, "unacked"));
        let mut retired_at = |secs: u64| {
            r.add(message(
                secs,
                "OPTIONS sip:10.0.0.2 SIP/2.0",
                "o",
                "1 OPTIONS",
            ));
            (r.take_retired())
                .map(|(_, c)| c.call_id)
                .filter(|id| id != "o")
                .collect::<Vec<_>>()
        };
        let (settled, ended) = (SETTLED_LINGER_SECS as u64, LINGER_SECS as u64);
        assert!(retired_at(1 + settled).is_empty());
        assert_eq!(retired_at(2 + settled), ["acked"]);
        assert!(retired_at(1 + ended).is_empty());
        assert_eq!(retired_at(2 + ended), ["unacked"]);
    }

    #[test]
    fn retired_keys_are_remembered_for_two_generations_only() {
        let mut g = Gone::default();
        assert!(g.is_empty());
        let n = GONE_GENERATION as u64;
        for h in 0..2 * n {
            g.insert(h);
        }
        // Two full generations: every one remembered.
        assert!((0..2 * n).all(|h| g.contains(h)));
        // The next starts a third: the first is forgotten, the memory stays the same.
        g.insert(2 * n);
        assert!(!g.contains(0) && !g.contains(n - 1));
        assert!(g.contains(n) && g.contains(2 * n));
        assert!(g.new.len() + g.old.len() <= 2 * GONE_GENERATION);
        // Each generation fills its table without growing it past 2^18 places, and the
        // third reuses the first's.
        assert_eq!(g.new.capacity(), GONE_GENERATION);
        assert_eq!(g.old.capacity(), GONE_GENERATION);
    }

    proptest::proptest! {
        /// Whatever the order of calls filed, moved, retired early and swept, the queue
        /// hands out exactly the places due (as a walk over every place would), and holds
        /// at most about two entries per place.
        #[test]
        fn the_due_queue_hands_out_exactly_the_places_due(
            ops in proptest::collection::vec((0u8..3, 0u32..8, 0i64..400), 1..2000)
        ) {
            let mut q = DueQueue::default();
            let mut due = vec![NEVER; 8];
            q.queued = vec![NEVER; 8];
            let mut now = 0;
            for (op, slot, at) in ops {
                match op {
                    // A message: the place's call is due at `at` seconds from now.
                    0 => {
                        due[slot as usize] = now + at;
                        q.note(slot, now + at, &due);
                    }
                    // Let go at the cap: the place is free.
                    1 => {
                        due[slot as usize] = NEVER;
                        q.queued[slot as usize] = NEVER;
                    }
                    // The clock moves on: a sweep.
                    _ => {
                        now += at % 50;
                        let mut out = Vec::new();
                        q.due_by(now, &due, &mut out);
                        out.sort_unstable();
                        let walk: Vec<u32> = (0..8u32).filter(|&s| due[s as usize] <= now).collect();
                        proptest::prop_assert_eq!(&out, &walk);
                        for s in out {
                            due[s as usize] = NEVER;
                        }
                    }
                }
                proptest::prop_assert!(q.heap.len() <= 2 * 8 + 64 + 1, "{} entries", q.heap.len());
            }
        }
    }

    proptest::proptest! {
        /// Whatever the order of messages over a few Call-IDs, with calls retiring, let go
        /// at a small cap and their places taken again by others, every message lands in
        /// the call of its own Call-ID, once, and a message opens a call only when none of
        /// its Call-ID is held: the index and the keys kept beside the places stay in step.
        #[test]
        fn every_message_lands_in_the_call_of_its_call_id(
            ops in proptest::collection::vec((0u8..12, 0u8..6), 1..600),
            cap in 1usize..6,
        ) {
            let mut r = Retiring::<Call>::default();
            r.let_go.cap = cap;
            let mut id_of = std::collections::HashMap::new();
            let mut out: Vec<Call> = Vec::new();
            // The calls each Call-ID should have opened, and those held now.
            let mut opened: std::collections::BTreeMap<String, usize> = Default::default();
            let mut held = std::collections::BTreeSet::new();
            for (i, &(n, kind)) in ops.iter().enumerate() {
                let frame = i as u64 + 1;
                // Some Call-IDs share a prefix and a length, so that keys differ late.
                let id = format!("call-{n:02}@10.0.0.1");
                let (start, cseq) = match kind {
                    0 => ("INVITE sip:200@10.0.0.2 SIP/2.0", "1 INVITE"),
                    1 => ("SIP/2.0 200 OK", "1 INVITE"),
                    2 => ("ACK sip:200@10.0.0.2 SIP/2.0", "1 ACK"),
                    3 => ("BYE sip:200@10.0.0.2 SIP/2.0", "2 BYE"),
                    4 => ("SIP/2.0 200 OK", "2 BYE"),
                    _ => ("INFO sip:200@10.0.0.2 SIP/2.0", "3 INFO"),
                };
                r.add(message(frame, start, &id, cseq));
                let before = out.len();
                out.extend(r.take_retired().map(|(_, c)| c));
                // A call retired by this message's sweep makes way for a new one.
                let retired: Vec<&str> = out[before..].iter().map(|c| c.call_id.as_str()).collect();
                if !held.contains(&id) || retired.contains(&id.as_str()) {
                    *opened.entry(id.clone()).or_default() += 1;
                }
                for gone in retired {
                    held.remove(gone);
                }
                held.insert(id.clone());
                proptest::prop_assert_eq!(r.live(), held.len());
                proptest::prop_assert!(held.len() <= cap);
                id_of.insert(frame, id);
            }
            out.extend(r.finish().map(|(_, c)| c));
            let mut calls: std::collections::BTreeMap<String, usize> = Default::default();
            for c in &out {
                *calls.entry(c.call_id.clone()).or_default() += 1;
            }
            proptest::prop_assert_eq!(calls, opened);
            let mut listed = 0;
            for c in &out {
                for m in &c.messages {
                    proptest::prop_assert_eq!(&id_of[&m.frame], &c.call_id, "frame {}", m.frame);
                }
                listed += c.message_count();
            }
            proptest::prop_assert_eq!(listed, ops.len() as u64);
        }
    }

    /// A call whose due second keeps moving earlier leaves an entry behind each time: the
    /// heap is built again before they outnumber the places, and the call still retires
    /// at its last due second.
    #[test]
    fn entries_left_behind_do_not_pile_up() {
        let mut q = DueQueue::default();
        let mut due = vec![NEVER; 2];
        q.queued = vec![NEVER; 2];
        for at in (100..10_000).rev() {
            due[0] = at;
            q.note(0, at, &due);
            assert!(q.heap.len() <= 2 * 2 + 64 + 1);
        }
        let mut out = Vec::new();
        q.due_by(99, &due, &mut out);
        assert!(out.is_empty());
        q.due_by(100, &due, &mut out);
        assert_eq!(out, [0]);
    }
}
