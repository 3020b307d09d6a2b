//! Stage 4: when a call has ended ([`CallState`]), decided by [`state`] on a whole
//! [`Call`], or on a [`CallEnd`]: [`SipMessage`]s → the few facts that decide it.
//!
//! `media` follows the calls only to learn when each has ended (its media then retire
//! with it): a whole `Call` would hold every message, every INVITE's headers and its
//! User-Agent for nothing, about 2.5 KB a call against about 100 bytes here.
//! [`Retiring`](super::retire::Retiring) files either ([`Filed`]): a `CallEnd` changes
//! state after the same message as the whole call (`call_ends_retire_exactly_as_whole_calls`
//! in `tests/retire.rs`, on every fixture and corpus capture).

use super::{Call, NoCallIdKey};
use crate::capture::Timestamp;
use crate::net::PackedAddr;
use crate::sip::SipMessage;

/// Whether a call can still change (see [`super::retire`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallState {
    /// Nothing but retransmissions can follow.
    Ended,
    /// More may follow; given up after a silence.
    Open,
    /// May go on for hours without a message: an established dialog, a registration.
    Lasting,
}

/// Whether the whole call `c` can still change.
pub fn state(c: &Call) -> CallState {
    decide_state(
        has_lasting_method(c),
        IN_DIALOG_METHODS.iter().any(|m| c.methods.lists(m)),
        c.bye_frame.is_some(),
        || Finals::of(c.invites.iter().map(|t| t.final_status)),
        c.messages.last().and_then(|r| r.status),
    )
}

/// Messages [`settled`] looks back through for the request the last message answers: a
/// real call's is among its last few; a flood of responses under one ended Call-ID would
/// otherwise have each look through the whole list. Not found: not settled (the call
/// lingers the longer time).
const SETTLE_LOOK_BACK: usize = 64;

/// Whether the ended call `c` has nothing left that a peer would send again: every final
/// response to an INVITE acknowledged, and the last message closes the call (an ACK, in
/// a call without BYE; the final response to the last non-INVITE request, a BYE's
/// among them, sent back between the same two addresses).
///
/// A retransmission only follows a message lost on the way to its peer; once the
/// capture shows the answer that stops it, what may still come (the lost answer's
/// request or response again) repeats at most T2 = 4 s apart (RFC 3261 §17.1.2.2,
/// §17.2.1), within [`SETTLED_LINGER_SECS`](super::retire::SETTLED_LINGER_SECS) of the
/// message before.
pub fn settled(c: &Call) -> bool {
    let Some((last, before)) = c.messages.split_last() else {
        return false;
    };
    let request =
        |q: &&super::MessageRef| c.method_of(q).is_some_and(|m| m != "INVITE" && m != "ACK");
    // What looks through the INVITE transactions last, and only when needed: a Call-ID
    // may keep `--max-invites-per-call` of them, and this is asked at every message.
    closes(
        c.method_of(last),
        last.status,
        c.bye_frame.is_some(),
        || {
            c.invites
                .iter()
                .any(|t| Some(t.cseq) == last.cseq && t.src == last.dst)
        },
        || {
            before
                .iter()
                .rev()
                .take(SETTLE_LOOK_BACK)
                .find(request)
                .is_some_and(|q| q.cseq == last.cseq && q.src == last.dst && q.dst == last.src)
        },
    ) && (c.invites.iter()).all(|t| t.final_status.is_none() || t.ack_frame.is_some())
}

/// Whether a message closes its call (see [`settled`]), from its method or status,
/// whether the call saw a BYE, whether the message answers one of the call's INVITEs
/// (same CSeq number, sent back to its sender), and whether it answers the call's last
/// request other than INVITE and ACK (the last two asked only when they decide).
fn closes(
    method: Option<&str>,
    status: Option<u16>,
    bye: bool,
    answers_invite: impl FnOnce() -> bool,
    answers_last_request: impl FnOnce() -> bool,
) -> bool {
    match (method, status) {
        (Some("ACK"), _) => !bye,
        (None, Some(s)) => s >= 200 && answers_last_request() && !answers_invite(),
        _ => false,
    }
}

/// Methods whose Call-ID lives for hours (RFC 3261 §10.2 asks a UA to keep it): a
/// registration, a subscription, a publication.
fn lasting_method(m: &str) -> bool {
    LASTING_METHODS.contains(&m)
}

/// [`lasting_method`]s.
const LASTING_METHODS: [&str; 3] = ["REGISTER", "SUBSCRIBE", "PUBLISH"];

/// Methods sent only within a dialog (RFC 3311, RFC 6086): under a Call-ID without an
/// INVITE, the capture began after the dialog was set up, and it goes on until its BYE.
fn in_dialog_method(m: &str) -> bool {
    IN_DIALOG_METHODS.contains(&m)
}

/// [`in_dialog_method`]s.
const IN_DIALOG_METHODS: [&str; 2] = ["UPDATE", "INFO"];

/// Whether the whole call `c` saw a [`lasting_method`].
fn has_lasting_method(c: &Call) -> bool {
    LASTING_METHODS.iter().any(|m| c.methods.lists(m))
}

/// The final statuses of a call's INVITE transactions, folded into what [`decide_state`]
/// reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Finals {
    /// There is an INVITE transaction.
    any: bool,
    /// One was answered 2xx.
    answered: bool,
    /// Every one has its final response.
    all_final: bool,
    /// The final status of the last one that has one.
    last: Option<u16>,
}

impl Finals {
    fn of(statuses: impl Iterator<Item = Option<u16>>) -> Self {
        let mut f = Finals {
            any: false,
            answered: false,
            all_final: true,
            last: None,
        };
        for s in statuses {
            f.any = true;
            f.answered |= s.is_some_and(|s| (200..300).contains(&s));
            f.all_final &= s.is_some();
            f.last = s.or(f.last);
        }
        f
    }
}

/// Whether a call can still change, from what a whole [`Call`] or an
/// [`CallEnd`] keeps: whether a REGISTER, SUBSCRIBE or PUBLISH (`lasting`), an UPDATE
/// or INFO (`in_dialog`) or a BYE was seen, its INVITE transactions' final statuses
/// (folded only when they decide: a call keeps up to `--max-invites-per-call`), and the
/// status of its last message (`None`: a request).
fn decide_state(
    lasting: bool,
    in_dialog: bool,
    bye: bool,
    finals: impl FnOnce() -> Finals,
    last_status: Option<u16>,
) -> CallState {
    if lasting {
        return CallState::Lasting;
    }
    if bye {
        return CallState::Ended;
    }
    let finals = finals();
    if finals.any {
        if finals.answered {
            return CallState::Lasting;
        }
        // A challenge (401/407) is answered when the user has typed a password: maybe
        // minutes later, under the same Call-ID (RFC 3261 §22.2).
        let challenged = finals.last.is_some_and(|s| s == 401 || s == 407);
        if finals.all_final && !challenged {
            return CallState::Ended;
        }
        return CallState::Open;
    }
    // Part of a dialog whose INVITE came before the capture: established.
    if in_dialog {
        return CallState::Lasting;
    }
    match last_status {
        Some(s) if s >= 200 => CallState::Ended,
        _ => CallState::Open,
    }
}

/// What decides whether a call has ended (see [`state`]), and its key.
#[derive(Debug)]
pub struct CallEnd {
    key: Box<str>,
    first_frame: u64,
    last_time: Timestamp,
    /// A REGISTER, SUBSCRIBE or PUBLISH was seen.
    lasting: bool,
    /// An UPDATE or INFO was seen.
    in_dialog: bool,
    /// A BYE was seen.
    bye: bool,
    /// The status of the last message (`None`: a request).
    last_status: Option<u16>,
    /// The INVITE transactions, told apart as [`super::add_to_call`] does.
    invites: Vec<InviteEnd>,
    /// The last request other than INVITE and ACK: its CSeq number and addresses.
    last_request: Option<(Option<u32>, PackedAddr, PackedAddr)>,
    /// Messages since `last_request` (it is looked back for as far as [`settled`] does).
    since_request: u16,
    /// The last message closes the call (see [`settled`]).
    closes: bool,
}

/// An INVITE transaction as far as its end is concerned.
#[derive(Debug)]
struct InviteEnd {
    /// The request's frame.
    frame: u64,
    cseq: u32,
    branch: Option<Box<str>>,
    src: PackedAddr,
    final_status: Option<u16>,
    /// An ACK of its final response was seen.
    acked: bool,
}

/// What [`Retiring`](super::retire::Retiring) needs of what it files: a whole call, or
/// only its end.
pub trait Filed: Sized {
    /// Whether the keys of retired calls are remembered, to count the messages that come
    /// for one after it retired ([`Retiring::reopened`](super::retire::Retiring::reopened)).
    const COUNTS_REOPENED: bool = true;
    /// A call under `key` (and, for messages without Call-ID, the key's parts) whose first
    /// message is `m`, not yet added.
    fn open(key: &str, no_call_id: Option<NoCallIdKey>, m: &SipMessage) -> Self;
    /// Adds a message (a whole call takes its SDP).
    fn add(&mut self, m: &mut SipMessage);
    /// Notes that input file `capture` (an index into the files read together) carried
    /// the message about to be added (nothing does but a whole call).
    fn note_capture(&mut self, _capture: usize) {}
    /// Keeps what grows with every message within `cap` (nothing does but a whole call's
    /// message list).
    fn trim(&mut self, _cap: &mut super::MessageCap) {}
    fn state(&self) -> CallState;
    /// Whether an ended call has nothing left a peer would send again ([`settled`]).
    fn settled(&self) -> bool;
    fn key(&self) -> &str;
    fn first_frame(&self) -> u64;
    fn last_time(&self) -> Timestamp;
}

impl Filed for Call {
    fn open(key: &str, no_call_id: Option<NoCallIdKey>, m: &SipMessage) -> Self {
        super::new_call(key, no_call_id, m)
    }
    fn add(&mut self, m: &mut SipMessage) {
        super::add_to_call(self, m);
    }
    fn note_capture(&mut self, capture: usize) {
        self.add_capture(capture);
    }
    fn trim(&mut self, cap: &mut super::MessageCap) {
        fold_repeats(self);
        cap.trim(self, 0);
    }
    fn state(&self) -> CallState {
        state(self)
    }
    fn settled(&self) -> bool {
        settled(self)
    }
    fn key(&self) -> &str {
        &self.call_id
    }
    fn first_frame(&self) -> u64 {
        self.first_frame
    }
    fn last_time(&self) -> Timestamp {
        self.last_time
    }
}

/// Messages a lasting call without INVITE always lists from its start: its first
/// registration or subscription, challenge included, and more than the 20 frames a
/// finding cites.
pub const FOLD_HEAD: usize = 32;
/// Messages it always lists at its end: the refresh in progress (the call's state reads
/// the last).
pub const FOLD_TAIL: usize = 16;

/// Keeps the message list of a call that lasts without an INVITE — a registration
/// refreshed under one Call-ID for days, a subscription's NOTIFYs — within about
/// [`FOLD_HEAD`] + [`FOLD_TAIL`] messages, in every set of calls (those that retire as
/// in `calls` and `watch`, and the whole set `analyze` keeps): the
/// message that leaves the last [`FOLD_TAIL`] is left out, and counted by its pair of
/// addresses ([`super::Folded`], in [`Call::rare`]), when it repeats one of the first [`FOLD_HEAD`] (same
/// addresses, transport, method or status, retransmission or not). Every address, pair,
/// method and status of the call stays listed, so what rules read of it does not change;
/// a message that repeats none stays (`--max-messages-per-call` bounds those). Without
/// this, each such call grew by about 100 bytes a message for as long as the capture.
///
/// A call with INVITEs folds the same way the requests of its dialog other than INVITE,
/// ACK, BYE, CANCEL and PRACK, and their responses (`folds_in_dialog`): in-dialog OPTIONS
/// keep-alives, INFO, UPDATE session refreshes, NOTIFY. An established call then holds
/// about as much after hours as after minutes, while its INVITE transactions and its end
/// stay listed.
pub fn fold_repeats(c: &mut Call) {
    let len = c.messages.len();
    if len <= FOLD_HEAD + FOLD_TAIL {
        return;
    }
    let at = len - FOLD_TAIL - 1;
    let folds = if c.invites.is_empty() {
        has_lasting_method(c)
    } else {
        folds_in_dialog(c, at)
    };
    if !folds {
        return;
    }
    let m = &c.messages[at];
    let repeats = |k: &super::MessageRef| {
        k.src == m.src
            && k.dst == m.dst
            && k.transport == m.transport
            && k.method == m.method
            && k.status == m.status
            && k.retransmission == m.retransmission
    };
    // The first messages lie cold in memory by the time a message leaves the last ones:
    // the one the call's last fold repeated is looked at first (a dialog's keep-alives
    // repeat the same one), then, if it is not repeated, all of them.
    let head = &c.messages[..FOLD_HEAD];
    let last = c
        .rare
        .as_ref()
        .map_or(0, |r| usize::from(r.folded.repeated));
    let found = match head.get(last) {
        Some(k) if repeats(k) => Some(last),
        _ => head.iter().position(repeats),
    };
    let Some(found) = found else {
        return;
    };
    let gone = c.messages.remove(at);
    let folded = &mut c.rare.get_or_insert_with(Default::default).folded;
    folded.add(gone.src, gone.dst);
    folded.repeated = found as u8;
}

/// Methods whose requests, and the responses to them, a call always lists: its INVITE
/// transactions, their ACKs and PRACKs, its BYE and CANCEL.
pub fn stays_listed(method: &str) -> bool {
    matches!(method, "INVITE" | "ACK" | "BYE" | "CANCEL" | "PRACK")
}

/// Whether message `at` of call `c` (a call with INVITEs) may fold: a request other than
/// INVITE, ACK, BYE, CANCEL and PRACK ([`stays_listed`]), or a response whose CSeq names
/// none of those methods and whose CSeq number is none of the INVITE transactions'. Each
/// is decided from the message itself (and the transactions kept, at most
/// `--max-invites-per-call`): a dialog whose list holds thousands of BYEs or PRACKs (a
/// flood under one Call-ID) would otherwise look through all of them for each response.
fn folds_in_dialog(c: &Call, at: usize) -> bool {
    let m = &c.messages[at];
    if let Some(method) = c.method_of(m) {
        return !stays_listed(method);
    }
    let Some(cseq) = m.cseq else {
        return false;
    };
    !m.answers_kept && !c.invites.iter().any(|t| t.cseq == cseq)
}

impl Filed for CallEnd {
    /// A message after a call retired opens a new end under its key, whose end is named
    /// again: nothing is split that a reader of call ends keeps, so the 4.7 MB of
    /// remembered keys are not kept.
    const COUNTS_REOPENED: bool = false;

    fn open(key: &str, _: Option<NoCallIdKey>, m: &SipMessage) -> Self {
        CallEnd {
            key: key.into(),
            first_frame: m.frame,
            last_time: m.time,
            lasting: false,
            in_dialog: false,
            bye: false,
            last_status: None,
            invites: Vec::new(),
            last_request: None,
            since_request: 0,
            closes: false,
        }
    }

    /// Adds a message of the call: an INVITE that is no retransmission opens a
    /// transaction, the first final response to one closes it.
    fn add(&mut self, m: &mut SipMessage) {
        self.last_time = self.last_time.max(m.time);
        self.last_status = m.status();
        self.since_request = self.since_request.saturating_add(1);
        let cseq = m.cseq();
        let seq = cseq.as_ref().map(|c| c.seq);
        let (src, dst) = (PackedAddr::from(m.src), PackedAddr::from(m.dst));
        match (m.method(), m.status()) {
            (Some("INVITE"), _) => {
                let branch = m.branch();
                let known = self
                    .invites
                    .iter()
                    .any(|t| Some(t.cseq) == seq && t.branch.as_deref() == branch && t.src == src);
                if !known {
                    self.invites.push(InviteEnd {
                        frame: m.frame,
                        cseq: seq.unwrap_or(0),
                        branch: branch.map(Into::into),
                        src,
                        final_status: None,
                        acked: false,
                    });
                }
            }
            (Some("ACK"), _) => {
                let tx = (self.invites.iter_mut().rev())
                    .find(|t| Some(t.cseq) == seq && t.final_status.is_some());
                if let Some(t) = tx {
                    t.acked = true;
                }
            }
            (Some(method), _) => {
                self.bye |= method == "BYE";
                self.lasting |= lasting_method(method);
                self.in_dialog |= in_dialog_method(method);
                self.last_request = Some((seq, src, dst));
                self.since_request = 0;
            }
            (None, Some(status))
                if status >= 200 && cseq.as_ref().is_some_and(|c| c.method == "INVITE") =>
            {
                let branch = m.branch();
                let tx = self.invites.iter_mut().rev().find(|t| {
                    Some(t.cseq) == seq && (branch.is_none() || t.branch.as_deref() == branch)
                });
                if let Some(t) = tx
                    && t.final_status.is_none()
                {
                    t.final_status = Some(status);
                }
            }
            _ => {}
        }
        self.closes = closes(
            m.method(),
            m.status(),
            self.bye,
            || (self.invites.iter()).any(|t| Some(t.cseq) == seq && t.src == dst),
            || {
                (self.last_request).is_some_and(|(q, qs, qd)| q == seq && qs == dst && qd == src)
                    && usize::from(self.since_request) <= SETTLE_LOOK_BACK
            },
        );
    }

    /// Whether the call can still change (as [`state`] of the whole call).
    fn state(&self) -> CallState {
        decide_state(
            self.lasting,
            self.in_dialog,
            self.bye,
            || Finals::of(self.invites.iter().map(|t| t.final_status)),
            self.last_status,
        )
    }

    /// As [`settled`] of the whole call.
    fn settled(&self) -> bool {
        self.closes && (self.invites.iter()).all(|t| t.final_status.is_none() || t.acked)
    }

    /// Keeps its INVITE transactions within `--max-invites-per-call`, as a whole call's.
    fn trim(&mut self, cap: &mut super::MessageCap) {
        cap.trim_invites(&mut self.invites, |t| t.frame, 0);
    }

    fn key(&self) -> &str {
        &self.key
    }

    fn first_frame(&self) -> u64 {
        self.first_frame
    }

    fn last_time(&self) -> Timestamp {
        self.last_time
    }
}

#[cfg(test)]
mod tests {
    use super::{CallEnd, Filed};
    use crate::calls::Call;
    use crate::calls::retire::Retiring;
    use crate::sip::SipMessage;
    use crate::sip::message::udp_message;

    const SDP: &str = "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 8\r\n";

    /// Message `frame`, `frame` seconds in, from the caller (requests) or the callee.
    fn message(frame: u64, start: &str, cseq: &str, sdp: bool) -> SipMessage {
        let request = !start.starts_with("SIP/2.0");
        let body = if sdp { SDP } else { "" };
        let text = format!(
            "{start}\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-{cseq}\r\n\
             From: <sip:100@10.0.0.1>;tag=a\r\nTo: <sip:200@10.0.0.2>;tag=b\r\n\
             Call-ID: linger-1\r\nCSeq: {cseq}\r\n{}Content-Length: {}\r\n\r\n{body}",
            if sdp {
                "Content-Type: application/sdp\r\n"
            } else {
                ""
            },
            body.len()
        );
        let (a, b) = ("10.0.0.1:5060", "10.0.0.2:5060");
        let (src, dst) = if request { (a, b) } else { (b, a) };
        udp_message(&text, src, dst, frame)
    }

    /// A call's messages filed one after another, each in the next frame.
    struct Dialog {
        r: Retiring<Call>,
        frame: u64,
    }

    impl Dialog {
        /// An INVITE answered 200 and acknowledged (frames 1–3).
        fn established() -> Dialog {
            let mut d = Dialog {
                r: Retiring::default(),
                frame: 0,
            };
            d.add("INVITE sip:200@10.0.0.2 SIP/2.0", "1 INVITE");
            d.add("SIP/2.0 200 OK", "1 INVITE");
            d.add("ACK sip:200@10.0.0.2 SIP/2.0", "1 ACK");
            d
        }

        /// Files the message starting `start` with CSeq `cseq`; returns its frame.
        fn add(&mut self, start: &str, cseq: impl AsRef<str>) -> u64 {
            self.frame += 1;
            self.r.add(message(self.frame, start, cseq.as_ref(), false));
            self.frame
        }

        fn finish(mut self) -> Call {
            self.r.finish().next().unwrap().1
        }
    }

    /// After which message the call is named as ended.
    fn named_after<C: Filed>() -> Vec<u64> {
        let mut r = Retiring::<C>::default();
        r.name_ended();
        let call = [
            message(1, "INVITE sip:200@10.0.0.2 SIP/2.0", "1 INVITE", true),
            message(2, "SIP/2.0 200 OK", "1 INVITE", true),
            message(3, "ACK sip:200@10.0.0.2 SIP/2.0", "1 ACK", false),
            message(4, "BYE sip:200@10.0.0.2 SIP/2.0", "2 BYE", false),
            message(5, "SIP/2.0 200 OK", "2 BYE", false),
            // The 200 to the INVITE again, with its SDP, while the call lingers.
            message(6, "SIP/2.0 200 OK", "1 INVITE", true),
            message(7, "BYE sip:200@10.0.0.2 SIP/2.0", "2 BYE", false),
        ];
        let mut named = Vec::new();
        for m in call {
            let frame = m.frame;
            r.add(m);
            r.take_ended(&mut |id| {
                assert_eq!(id, "linger-1");
                named.push(frame);
            });
        }
        named
    }

    /// After each message of `call`, whether the call has settled (`None` while it has
    /// not ended), as a whole call and as a call end: both must agree.
    fn settled_after(call: &[SipMessage]) -> Vec<Option<bool>> {
        fn of<C: Filed>(call: &[SipMessage]) -> Vec<Option<bool>> {
            let mut c = C::open("linger-1", None, &call[0]);
            (call.iter().cloned())
                .map(|mut m| {
                    c.add(&mut m);
                    (c.state() == super::CallState::Ended).then(|| c.settled())
                })
                .collect()
        }
        let whole = of::<Call>(call);
        assert_eq!(
            whole,
            of::<CallEnd>(call),
            "whole call (left), call end (right)"
        );
        whole
    }

    /// A call settles when the capture shows the message that stops every
    /// retransmission: the ACK of a failure, the answer to a BYE, CANCEL or OPTIONS; not
    /// while a final response waits for its ACK, nor after a final response that comes
    /// again.
    #[test]
    fn a_call_settles_once_nothing_is_left_to_send_again() {
        let invite = |f| message(f, "INVITE sip:200@10.0.0.2 SIP/2.0", "1 INVITE", false);
        let ack = |f| message(f, "ACK sip:200@10.0.0.2 SIP/2.0", "1 ACK", false);
        let ok = |f, cseq| message(f, "SIP/2.0 200 OK", cseq, false);
        let bye = |f| message(f, "BYE sip:200@10.0.0.2 SIP/2.0", "2 BYE", false);
        let answered = [
            invite(1),
            ok(2, "1 INVITE"),
            ack(3),
            bye(4),
            ok(5, "2 BYE"),
            ok(6, "1 INVITE"),
            bye(7),
            ok(8, "2 BYE"),
        ];
        let (n, y) = (Some(false), Some(true));
        assert_eq!(settled_after(&answered), [None, None, None, n, y, n, n, y]);
        let failed = [
            invite(1),
            message(2, "SIP/2.0 503 Service Unavailable", "1 INVITE", false),
            ack(3),
        ];
        assert_eq!(settled_after(&failed), [None, n, y]);
        let cancelled = [
            invite(1),
            message(2, "SIP/2.0 100 Trying", "1 INVITE", false),
            message(3, "CANCEL sip:200@10.0.0.2 SIP/2.0", "1 CANCEL", false),
            ok(4, "1 CANCEL"),
            message(5, "SIP/2.0 487 Request Terminated", "1 INVITE", false),
            ack(6),
        ];
        assert_eq!(settled_after(&cancelled), [None, None, None, None, n, y]);
        let options = [
            message(1, "OPTIONS sip:200@10.0.0.2 SIP/2.0", "7 OPTIONS", false),
            ok(2, "7 OPTIONS"),
            // An answer to a request the capture does not show closes nothing.
            ok(3, "8 OPTIONS"),
        ];
        assert_eq!(settled_after(&options), [None, y, n]);
    }

    /// A call is named as ended once, after its BYE, and again for SDP that comes while
    /// it lingers (a reader that filed that SDP again can then end it too); whole calls
    /// and call ends alike.
    #[test]
    fn a_call_is_named_ended_again_for_sdp_while_it_lingers() {
        assert_eq!(named_after::<Call>(), [4, 6]);
        assert_eq!(named_after::<CallEnd>(), [4, 6]);
    }

    /// Message `frame` of registration `reg-1`, `frame` seconds in: REGISTER from the
    /// phone (`from`) or its 200 back.
    fn register(frame: u64, from: &str, cseq: u64) -> SipMessage {
        let registrar = "10.0.0.2:5060";
        let head = format!(
            "Via: SIP/2.0/UDP {from};branch=z9hG4bK-{cseq}\r\nFrom: <sip:100@10.0.0.2>;tag=a\r\n\
             To: <sip:100@10.0.0.2>\r\nCall-ID: reg-1\r\nCSeq: {cseq} REGISTER\r\n\
             Content-Length: 0\r\n\r\n"
        );
        if frame % 2 == 1 {
            udp_message(
                &format!("REGISTER sip:10.0.0.2 SIP/2.0\r\n{head}"),
                from,
                registrar,
                frame,
            )
        } else {
            udp_message(&format!("SIP/2.0 200 OK\r\n{head}"), registrar, from, frame)
        }
    }

    /// A lasting call without INVITE lists its first and latest messages; the repeats in
    /// between are counted by pair. A message that repeats none of the first stays.
    #[test]
    fn a_registration_lists_its_first_and_latest_messages_and_counts_the_repeats() {
        let phone = "10.0.0.1:5060";
        let mut r = Retiring::<Call>::default();
        for frame in 1..=1_000u64 {
            // The phone moves to another port (a NAT rebinding) for one refresh.
            let from = if (501..=502).contains(&frame) {
                "10.0.0.1:5070"
            } else {
                phone
            };
            r.add(register(frame, from, frame.div_ceil(2)));
        }
        let calls: Vec<Call> = r.finish().map(|(_, c)| c).collect();
        let c = &calls[0];
        assert_eq!(c.message_count(), 1_000);
        let frames: Vec<u64> = c.messages.iter().map(|m| m.frame).collect();
        let first: Vec<u64> = (1..=super::FOLD_HEAD as u64).collect();
        let latest: Vec<u64> = (1_000 - super::FOLD_TAIL as u64 + 1..=1_000).collect();
        assert_eq!(frames[..super::FOLD_HEAD], first[..]);
        assert_eq!(frames[frames.len() - super::FOLD_TAIL..], latest[..]);
        // The two messages from the other port repeat none of the first: kept.
        assert_eq!(
            frames[super::FOLD_HEAD..frames.len() - super::FOLD_TAIL],
            [501, 502]
        );
        let addr =
            |s: &str| crate::net::PackedAddr::from(s.parse::<std::net::SocketAddr>().unwrap());
        let (a, b) = (addr(phone), addr("10.0.0.2:5060"));
        let folded = 1_000 - super::FOLD_HEAD - super::FOLD_TAIL - 2;
        assert_eq!(
            c.folded_pairs().collect::<Vec<_>>(),
            [(a, b, folded as u64 / 2), (b, a, folded as u64 / 2)]
        );

        // A call with an INVITE folds the repeats of its dialog's other requests and
        // their responses (INFO every few frames for hours), and keeps its INVITE
        // transactions (a re-INVITE among the INFOs), ACKs and its BYE.
        let mut d = Dialog::established();
        let mut stay = Vec::new();
        for n in 2..300 {
            if n == 150 {
                for start in ["INVITE sip:200@10.0.0.2 SIP/2.0", "SIP/2.0 200 OK"] {
                    stay.push(d.add(start, format!("{n} INVITE")));
                }
                stay.push(d.add("ACK sip:200@10.0.0.2 SIP/2.0", format!("{n} ACK")));
                continue;
            }
            d.add("INFO sip:200@10.0.0.2 SIP/2.0", format!("{n} INFO"));
            d.add("SIP/2.0 200 OK", format!("{n} INFO"));
        }
        stay.push(d.add("BYE sip:200@10.0.0.2 SIP/2.0", "300 BYE"));
        stay.push(d.add("SIP/2.0 200 OK", "300 BYE"));
        let frame = d.frame;
        let c = d.finish();
        assert_eq!(c.message_count(), frame);
        assert_eq!(c.invites.len(), 2);
        let frames: Vec<u64> = c.messages.iter().map(|m| m.frame).collect();
        assert!(
            frames.len() <= super::FOLD_HEAD + super::FOLD_TAIL + stay.len(),
            "{} of {frame} listed",
            frames.len()
        );
        for f in stay {
            assert!(frames.contains(&f), "frame {f} left out: {frames:?}");
        }
    }

    /// A dialog held for hours with INFO every few seconds keeps its list within the room
    /// folding holds it at: 16 places fewer than doubling from 32 would leave each such
    /// call (about 1.6 KB; 30 MiB of 19,000 held calls).
    #[test]
    fn a_held_dialogs_list_keeps_no_room_it_never_fills() {
        let mut d = Dialog::established();
        for n in 2..500 {
            d.add("INFO sip:200@10.0.0.2 SIP/2.0", format!("{n} INFO"));
            d.add("SIP/2.0 200 OK", format!("{n} INFO"));
        }
        let c = d.finish();
        let keep = super::FOLD_HEAD + super::FOLD_TAIL + 1;
        assert!(c.messages.len() <= keep, "{} listed", c.messages.len());
        assert_eq!(c.messages.capacity(), keep);
    }

    /// A flood of 180s lists the first 64 provisional responses and the first of every
    /// status after them.
    #[test]
    fn a_transaction_lists_64_provisional_responses_and_the_first_of_each_status() {
        let mut r = Retiring::<Call>::default();
        r.add(message(
            1,
            "INVITE sip:200@10.0.0.2 SIP/2.0",
            "1 INVITE",
            false,
        ));
        for frame in 2..=301 {
            r.add(message(frame, "SIP/2.0 180 Ringing", "1 INVITE", false));
        }
        r.add(message(
            302,
            "SIP/2.0 183 Session Progress",
            "1 INVITE",
            false,
        ));
        r.add(message(303, "SIP/2.0 486 Busy Here", "1 INVITE", false));
        let c = r.finish().next().unwrap().1;
        let p = &c.invites[0].provisional;
        assert_eq!(p.len(), super::super::MAX_TX_FRAMES + 1);
        assert_eq!(p[..2], [(180, 2), (180, 3)]);
        assert_eq!(p.last(), Some(&(183, 302)));
        assert_eq!(c.invites[0].final_status, Some(486));
    }

    /// A call settles on the answer to its last request only when that request is among
    /// the 64 messages before it ([`super::SETTLE_LOOK_BACK`]): a flood of responses under
    /// an ended Call-ID had each look back through the whole list. Whole calls and call
    /// ends alike.
    #[test]
    fn a_call_looks_back_64_messages_for_the_request_its_last_answers() {
        let settles_after = |between: u64| {
            let mut call = vec![
                message(1, "INVITE sip:200@10.0.0.2 SIP/2.0", "1 INVITE", false),
                message(2, "SIP/2.0 200 OK", "1 INVITE", false),
                message(3, "ACK sip:200@10.0.0.2 SIP/2.0", "1 ACK", false),
                message(4, "BYE sip:200@10.0.0.2 SIP/2.0", "2 BYE", false),
            ];
            // The 200 to the INVITE again and again, then the BYE's.
            call.extend((5..5 + between).map(|f| message(f, "SIP/2.0 200 OK", "1 INVITE", false)));
            call.push(message(5 + between, "SIP/2.0 200 OK", "2 BYE", false));
            *settled_after(&call).last().unwrap()
        };
        assert_eq!(settles_after(0), Some(true));
        assert_eq!(settles_after(63), Some(true));
        assert_eq!(settles_after(64), Some(false));
    }

    /// Whether a dialog's response folds is told from its own CSeq method: the answer to
    /// a BYE the capture does not show stays listed, among INFO keep-alives folded.
    #[test]
    fn a_response_to_a_bye_stays_listed_though_its_bye_is_not_in_the_capture() {
        let mut d = Dialog::established();
        let mut lone = 0;
        for n in 2..200 {
            d.add("INFO sip:200@10.0.0.2 SIP/2.0", format!("{n} INFO"));
            d.add("SIP/2.0 200 OK", format!("{n} INFO"));
            if n == 100 {
                lone = d.add("SIP/2.0 200 OK", "7 BYE");
            }
        }
        let c = d.finish();
        let frames: Vec<u64> = c.messages.iter().map(|m| m.frame).collect();
        assert!(frames.len() < 60, "{} listed", frames.len());
        assert!(frames.contains(&lone), "frame {lone} folded: {frames:?}");
    }

    /// A message of a call stays within 80 bytes: a call held for hours lists about 48
    /// of them, and 19,000 such calls are the held-calls flood's peak.
    #[test]
    fn a_message_ref_stays_within_80_bytes() {
        let size = std::mem::size_of::<super::super::MessageRef>();
        assert!(size <= 80, "MessageRef is {size} bytes");
    }

    proptest::proptest! {
        /// Whatever comes under one Call-ID (INVITE transactions new and retransmitted,
        /// requests of any method, made-up ones among them, responses of any status to
        /// any of them), what the call keeps stays within its bounds: its INVITE
        /// transactions, its methods, each transaction's retransmissions and provisional
        /// responses, its message list; and every message counts.
        #[test]
        fn a_call_keeps_within_its_bounds_whatever_comes_under_its_call_id(
            ops in proptest::collection::vec((0u8..8, 0u32..400, 0u16..6), 1..1500)
        ) {
            const METHODS: [&str; 6] = ["INVITE", "ACK", "BYE", "CANCEL", "PRACK", "INFO"];
            const STATUSES: [&str; 6] =
                ["100 Trying", "180 Ringing", "183 Progress", "200 OK", "486 Busy", "503 Down"];
            let mut r = Retiring::<Call>::default();
            r.message_cap.invite_cap = 16;
            r.message_cap.cap = 300;
            let total = ops.len() as u64;
            for (frame, (kind, cseq, pick)) in (1u64..).zip(ops) {
                // The first INVITE again and again (kind 4), and answered again and again
                // (responses with `pick` under 3), beside all the rest.
                let (cseq, method) = match kind {
                    0..=2 => (cseq, METHODS[usize::from(pick)].to_string()),
                    3 => (cseq, format!("X-{}", cseq % 60)),
                    4 => (1, "INVITE".to_string()),
                    _ if pick < 3 => (1, String::new()),
                    _ => (cseq, String::new()),
                };
                let m = if method.is_empty() {
                    let of = if cseq == 1 { "INVITE" } else { METHODS[usize::from(pick)] };
                    let status = STATUSES[(frame as usize) % STATUSES.len()];
                    message(frame, &format!("SIP/2.0 {status}"), &format!("{cseq} {of}"), false)
                } else {
                    let start = format!("{method} sip:200@10.0.0.2 SIP/2.0");
                    message(frame, &start, &format!("{cseq} {method}"), false)
                };
                r.add(m);
            }
            let calls: Vec<Call> = r.finish().map(|(_, c)| c).collect();
            let mut counted = 0;
            for c in &calls {
                counted += c.message_count();
                proptest::prop_assert!(c.invites.len() <= 16, "{} transactions", c.invites.len());
                proptest::prop_assert!(c.methods.len() <= 14 + super::super::MAX_OTHER_METHODS + 1);
                proptest::prop_assert!(c.messages.len() <= 300);
                for t in &c.invites {
                    proptest::prop_assert!(t.retransmission_frames.len() <= super::super::MAX_TX_FRAMES);
                    proptest::prop_assert!(t.provisional.len() <= super::super::MAX_TX_FRAMES + 3);
                }
                for m in &c.messages {
                    proptest::prop_assert_eq!(c.method_of(m).is_some(), m.method.is_request());
                }
            }
            // Messages left out at the cap are counted there, not in the call.
            proptest::prop_assert_eq!(counted + r.message_cap.past.count, total);
        }
    }
}
