//! Stage 4: [`SipMessage`] → [`Call`].
//!
//! Input: SIP messages in capture order. Output: one [`Call`] per Call-ID with its
//! messages (as compact references, never the raw bytes), its INVITE transactions
//! (RFC 3261 §17: keyed by top Via branch and CSeq; retransmissions counted, not doubled)
//! and the identity headers of its initial INVITE. Messages without a Call-ID header are
//! not dropped: they form calls of their own under a made-up key ([`NoCallIdKey`]).
//!
//! Memory grows with the number of calls and their messages, not with the capture.

pub mod ending;
pub mod focus;
pub mod forwarding;
pub mod legs;
mod methods;
mod no_call_id;
pub mod retire;
mod set;

pub use methods::{MAX_OTHER_METHODS, MORE_METHODS, Method, MethodAt, Methods, method};
pub use no_call_id::{NO_CALL_ID_PREFIX, NoCallIdKey};
pub use set::{CallSet, GARBAGE_HELD, LetGo, MessageCap, Past};

use crate::capture::Timestamp;
use crate::net::{PackedAddr, Transport};
use crate::sip::SipMessage;
use crate::sip::headers::{Diversion, HistoryInfo, NameAddr};

use crate::sip::sdp::Sdp;
pub use ending::{CallState, state};
pub use forwarding::{ForwardingEntry, Lookup, USER_NUMBER_SOURCES, chain_text, user_numbers};

/// Frames an INVITE transaction lists of its request's retransmissions, and of its
/// provisional responses beyond the first of each status: a UA that never stops
/// retransmitting, or a flood of 180s, would otherwise grow the transaction with every
/// message. Counts stay whole ([`InviteTx::retransmissions`]); a real transaction has a
/// few (Timer B ends an unanswered INVITE over UDP after 6 retransmissions).
pub const MAX_TX_FRAMES: usize = 64;

/// A message of a call, without its bytes.
#[derive(Debug, Clone)]
pub struct MessageRef {
    pub frame: u64,
    pub time: Timestamp,
    pub src: PackedAddr,
    pub dst: PackedAddr,
    pub transport: Transport,
    /// Which of its call's methods the message is, a request ([`Call::method_of`]).
    pub method: MethodAt,
    pub status: Option<u16>,
    pub cseq: Option<u32>,
    /// Same transaction and content as an earlier message.
    pub retransmission: bool,
    /// A response whose CSeq names INVITE, ACK, BYE, CANCEL or PRACK: it stays listed
    /// ([`ending::fold_repeats`]).
    pub answers_kept: bool,
}

/// One INVITE client/server transaction as seen on the wire.
#[derive(Debug, Clone)]
pub struct InviteTx {
    pub cseq: u32,
    pub branch: Option<String>,
    pub src: PackedAddr,
    pub dst: PackedAddr,
    pub transport: Transport,
    pub request_frame: u64,
    pub request_time: Timestamp,
    /// Frames of retransmitted copies of the request: the first [`MAX_TX_FRAMES`].
    pub retransmission_frames: Vec<u64>,
    /// Retransmitted copies of the request seen, all of them.
    pub retransmissions: u32,
    pub request_uri: String,
    pub from: Option<NameAddr>,
    pub to: Option<NameAddr>,
    pub diversion: Vec<Diversion>,
    pub history_info: Vec<HistoryInfo>,
    pub p_asserted_identity: Vec<NameAddr>,
    pub user_agent: Option<String>,
    pub offer: Option<Sdp>,
    /// The request's Content-Type: the body type offered (RFC 3261 §20.15), e.g.
    /// `application/sdp` or `multipart/mixed;boundary=…`.
    pub content_type: Option<String>,
    /// Provisional responses: (status, frame); the first of each status, and the first
    /// [`MAX_TX_FRAMES`] in all.
    pub provisional: Vec<(u16, u64)>,
    pub final_status: Option<u16>,
    pub final_reason: Option<String>,
    pub final_frame: Option<u64>,
    pub final_time: Option<Timestamp>,
    /// SDP of the first response that carried one.
    pub answer: Option<Sdp>,
    pub answer_frame: Option<u64>,
    pub server: Option<String>,
    /// The final response's Warning, Reason and Accept headers, when it has any (most
    /// responses have none: a transaction without them keeps 8 bytes, not 72).
    pub final_notes: Option<Box<FinalNotes>>,
    pub ack_frame: Option<u64>,
    pub cancel_frame: Option<u64>,
    /// Whether this INVITE carried credentials (a retry after 401/407).
    pub has_credentials: bool,
}

/// The headers of a final response that say why, beyond its status line.
#[derive(Debug, Clone, Default)]
pub struct FinalNotes {
    pub warning: Option<String>,
    pub reason_header: Option<String>,
    /// The body types the far end takes (RFC 3261 §21.4.13: a 415 lists them here).
    pub accept: Option<String>,
}

impl InviteTx {
    pub fn is_failure(&self) -> bool {
        self.final_status.is_some_and(|s| s >= 300)
    }

    /// The final response's Warning header.
    pub fn warning(&self) -> Option<&str> {
        self.final_notes.as_ref()?.warning.as_deref()
    }

    /// The final response's Reason header (RFC 3326).
    pub fn reason_header(&self) -> Option<&str> {
        self.final_notes.as_ref()?.reason_header.as_deref()
    }

    /// The final response's Accept header.
    pub fn final_accept(&self) -> Option<&str> {
        self.final_notes.as_ref()?.accept.as_deref()
    }
}

/// Everything seen under one Call-ID.
#[derive(Debug, Clone)]
pub struct Call {
    pub call_id: String,
    pub first_frame: u64,
    pub last_frame: u64,
    pub first_time: Timestamp,
    pub last_time: Timestamp,
    pub messages: Vec<MessageRef>,
    pub invites: Vec<InviteTx>,
    /// Methods in order of first appearance: every one of RFC 3261 and its extensions,
    /// and the first [`MAX_OTHER_METHODS`] others, then [`MORE_METHODS`] when more came.
    pub methods: Methods,
    pub bye_frame: Option<u64>,
    /// User-Agent/Server strings by sender (at most a few per call), for role hints.
    pub agents: Vec<(PackedAddr, String)>,
    /// The first input file (an index into the command's capture list) that carried the
    /// call, [`NO_CAPTURE`] before a message was added ([`Call::captures`]).
    first_capture: u32,
    /// What few calls have ([`Rare`]), boxed: a call without it keeps 8 bytes for it. A
    /// call is held once per call in progress; 8 bytes more per call took `watch`'s peak
    /// at 1,000,000 calls from 62 to 67–70 MiB (see `benches/README.md`).
    pub rare: Option<Box<Rare>>,
}

/// [`Call::first_capture`] of a call no message was added to yet.
const NO_CAPTURE: u32 = u32::MAX;

/// What few calls have.
#[derive(Debug, Clone, Default)]
pub struct Rare {
    /// Set when the messages carry no Call-ID header: how they were grouped instead
    /// (`call_id` then holds [`NoCallIdKey::call_key`]).
    pub no_call_id: Option<NoCallIdKey>,
    /// Repeats of a registration or subscription, or of a dialog's requests other than
    /// INVITE, ACK, BYE, CANCEL and PRACK, left out of `messages` as the calls are filed
    /// ([`ending::fold_repeats`]): counted, not listed.
    pub folded: Folded,
    /// The input files that carried the call after its first ([`Call::captures`]): a call
    /// whose messages span files read one after the other.
    more_captures: Vec<usize>,
}

/// The messages of a call left out of its list as repeats ([`ending::fold_repeats`]): how
/// many went between each pair of addresses. Each repeats one the list keeps (same
/// addresses, transport, method or status), so every pair here is also in the list.
///
/// The first two pairs (a dialog's requests one way and their responses the other) are
/// counted in place, in the call's [`Rare`]: a call folds a message at most every time
/// one comes, and the count is then found without a further read from memory.
#[derive(Debug, Clone, Default)]
pub struct Folded {
    first: [Option<(PackedAddr, PackedAddr, u64)>; 2],
    more: Vec<(PackedAddr, PackedAddr, u64)>,
    /// Which of the first messages the last message folded repeated.
    repeated: u8,
}

impl Folded {
    /// Messages left out in all.
    pub fn count(&self) -> u64 {
        self.pairs().map(|p| p.2).sum()
    }

    /// Each pair of addresses (source, destination) with the messages left out between
    /// them, in the order of the first of each.
    pub fn pairs(&self) -> impl Iterator<Item = (PackedAddr, PackedAddr, u64)> + '_ {
        self.first.iter().flatten().chain(&self.more).copied()
    }

    /// Counts a message left out, sent from `src` to `dst`.
    pub fn add(&mut self, src: PackedAddr, dst: PackedAddr) {
        let same = |p: &&mut (PackedAddr, PackedAddr, u64)| p.0 == src && p.1 == dst;
        if let Some(p) = self.first.iter_mut().flatten().find(same) {
            p.2 += 1;
        } else if let Some(free) = self.first.iter_mut().find(|p| p.is_none()) {
            *free = Some((src, dst, 1));
        } else if let Some(p) = self.more.iter_mut().find(same) {
            p.2 += 1;
        } else {
            self.more.push((src, dst, 1));
        }
    }
}

impl Call {
    /// The method of `m`, one of this call's messages (`None`: a response).
    pub fn method_of(&self, m: &MessageRef) -> Option<&str> {
        self.methods.name(m.method)
    }

    /// Which input files (indexes into the command's capture list) carried the call, in
    /// the order their messages came: frame numbers are per file.
    pub fn captures(&self) -> impl Iterator<Item = usize> + '_ {
        let more = self.rare.as_ref().map_or(&[][..], |r| &r.more_captures);
        self.first_capture().into_iter().chain(more.iter().copied())
    }

    /// The first input file that carried the call.
    pub fn first_capture(&self) -> Option<usize> {
        (self.first_capture != NO_CAPTURE).then_some(self.first_capture as usize)
    }

    /// The input file that carried all of the call, if one did.
    pub fn only_capture(&self) -> Option<usize> {
        let more = self
            .rare
            .as_ref()
            .is_some_and(|r| !r.more_captures.is_empty());
        self.first_capture().filter(|_| !more)
    }

    /// Notes that input file `capture` carried a message of the call.
    pub(crate) fn add_capture(&mut self, capture: usize) {
        if self.first_capture == NO_CAPTURE {
            self.first_capture = capture as u32;
        } else if self.first_capture as usize != capture {
            let more = &mut self.rare.get_or_insert_with(Default::default).more_captures;
            if !more.contains(&capture) {
                more.push(capture);
            }
        }
    }

    /// How the messages were grouped when they carry no Call-ID header.
    pub fn no_call_id(&self) -> Option<&NoCallIdKey> {
        self.rare.as_ref()?.no_call_id.as_ref()
    }

    /// The call's messages: those listed and those left out as repeats.
    pub fn message_count(&self) -> u64 {
        self.messages.len() as u64 + self.rare.as_ref().map_or(0, |r| r.folded.count())
    }

    /// Messages left out of `messages` as repeats, between each pair of addresses.
    pub fn folded_pairs(&self) -> impl Iterator<Item = (PackedAddr, PackedAddr, u64)> + '_ {
        self.rare.iter().flat_map(|r| r.folded.pairs())
    }

    /// The first INVITE transaction (the one that set the call up).
    pub fn initial_invite(&self) -> Option<&InviteTx> {
        self.invites.first()
    }

    /// The final status of the call's INVITE: that of the last INVITE transaction
    /// that has one (a retry after 401/407 replaces the challenge).
    pub fn final_invite_status(&self) -> Option<(u16, u64)> {
        self.invites
            .iter()
            .rev()
            .find_map(|t| Some((t.final_status?, t.final_frame?)))
    }

    /// The forwarding user's number from the first INVITE (see
    /// [`InviteTx::diverting_number`]).
    pub fn diverted_number(&self) -> Option<String> {
        self.initial_invite()?.diverting_number().map(|(n, _)| n)
    }
}

/// The key a message is filed under: its Call-ID, or for messages without one a made-up
/// key (counted in `without`) built from what they still share (see `no_call_id`), which
/// no real Call-ID can equal.
fn call_key<'m>(
    m: &'m SipMessage,
    without: &mut u64,
) -> (std::borrow::Cow<'m, str>, Option<NoCallIdKey>) {
    match m.call_id() {
        Some(id) => (std::borrow::Cow::Borrowed(id), None),
        None => {
            *without += 1;
            let k = NoCallIdKey::of(m);
            (std::borrow::Cow::Owned(k.call_key()), Some(k))
        }
    }
}

/// A call whose first message is `m` (not yet added to it).
fn new_call(key: &str, no_call_id: Option<NoCallIdKey>, m: &SipMessage) -> Call {
    Call {
        call_id: key.to_string(),
        first_frame: m.frame,
        last_frame: m.frame,
        first_time: m.time,
        last_time: m.time,
        messages: Vec::new(),
        // Most calls have one INVITE; InviteTx is large, so do not reserve four.
        invites: Vec::with_capacity(1),
        methods: Methods::default(),
        bye_frame: None,
        agents: Vec::new(),
        first_capture: NO_CAPTURE,
        rare: no_call_id.map(|k| {
            Box::new(Rare {
                no_call_id: Some(k),
                ..Rare::default()
            })
        }),
    }
}

fn add_to_call(call: &mut Call, m: &mut SipMessage) {
    if let Some(a) = m.agent()
        && call.agents.len() < 8
        && !call.agents.iter().any(|(s, x)| *s == m.src && x == a)
    {
        // Most calls show two agents (the caller's User-Agent, the callee's Server).
        if call.agents.is_empty() {
            call.agents.reserve_exact(2);
        }
        call.agents.push((m.src.into(), a.to_string()));
    }
    call.last_frame = call.last_frame.max(m.frame);
    call.last_time = call.last_time.max(m.time);
    let cseq = m.cseq();
    let branch = m.branch();
    let mut r = MessageRef {
        frame: m.frame,
        time: m.time,
        src: m.src.into(),
        dst: m.dst.into(),
        transport: m.transport,
        method: m
            .method()
            .map_or(MethodAt::RESPONSE, |name| call.methods.place(name)),
        status: m.status(),
        cseq: cseq.as_ref().map(|c| c.seq),
        retransmission: false,
        answers_kept: m.status().is_some()
            && cseq
                .as_ref()
                .is_some_and(|c| ending::stays_listed(c.method)),
    };
    let seq = cseq.as_ref().map(|c| c.seq);
    match (m.method(), m.status()) {
        (Some("INVITE"), _) => {
            let existing = call
                .invites
                .iter_mut()
                .find(|t| Some(t.cseq) == seq && t.branch.as_deref() == branch && t.src == m.src);
            if let Some(t) = existing {
                t.retransmissions = t.retransmissions.saturating_add(1);
                if t.retransmission_frames.len() < MAX_TX_FRAMES {
                    t.retransmission_frames.push(m.frame);
                }
                r.retransmission = true;
            } else {
                call.invites.push(InviteTx {
                    cseq: seq.unwrap_or(0),
                    branch: branch.map(str::to_string),
                    src: m.src.into(),
                    dst: m.dst.into(),
                    transport: m.transport,
                    request_frame: m.frame,
                    request_time: m.time,
                    retransmission_frames: Vec::new(),
                    retransmissions: 0,
                    request_uri: m.request_uri().unwrap_or("").to_string(),
                    from: m.from(),
                    to: m.to(),
                    diversion: m.diversion(),
                    history_info: m.history_info(),
                    p_asserted_identity: m.p_asserted_identity(),
                    user_agent: m.agent().map(str::to_string),
                    content_type: m.header("content-type").map(str::to_string),
                    offer: m.take_sdp(),
                    provisional: Vec::new(),
                    final_status: None,
                    final_reason: None,
                    final_frame: None,
                    final_time: None,
                    answer: None,
                    answer_frame: None,
                    server: None,
                    final_notes: None,
                    ack_frame: None,
                    cancel_frame: None,
                    has_credentials: m.header("authorization").is_some()
                        || m.header("proxy-authorization").is_some(),
                });
            }
        }
        (Some("ACK"), _) => {
            if let Some(t) = call
                .invites
                .iter_mut()
                .rev()
                .find(|t| Some(t.cseq) == seq && t.final_status.is_some())
            {
                if t.ack_frame.is_some() {
                    r.retransmission = true;
                } else {
                    t.ack_frame = Some(m.frame);
                }
            }
        }
        (Some("CANCEL"), _) => {
            if let Some(t) = call.invites.iter_mut().rev().find(|t| Some(t.cseq) == seq) {
                if t.cancel_frame.is_some() {
                    r.retransmission = true;
                } else {
                    t.cancel_frame = Some(m.frame);
                }
            }
        }
        (Some("BYE"), _) if call.bye_frame.is_none() => {
            call.bye_frame = Some(m.frame);
        }
        (None, Some(status)) if cseq.as_ref().is_some_and(|c| c.method == "INVITE") => {
            // Responses travel back along the request's path: match on branch, else cseq.
            let tx = call
                .invites
                .iter_mut()
                .rev()
                .find(|t| {
                    Some(t.cseq) == seq && (branch.is_none() || t.branch.as_deref() == branch)
                })
                .or(None);
            if let Some(t) = tx {
                if status < 200 {
                    let repeated = t.provisional.iter().any(|(s, _)| *s == status);
                    if repeated && status != 100 {
                        r.retransmission = true;
                    }
                    if !repeated || t.provisional.len() < MAX_TX_FRAMES {
                        t.provisional.push((status, m.frame));
                    }
                } else if t.final_status.is_some() {
                    r.retransmission = true;
                } else {
                    t.final_status = Some(status);
                    t.final_reason = m.reason_phrase().map(str::to_string);
                    t.final_frame = Some(m.frame);
                    t.final_time = Some(m.time);
                    t.server = m.agent().map(str::to_string);
                    let notes = FinalNotes {
                        warning: m.warning().map(str::to_string),
                        reason_header: m.reason().map(str::to_string),
                        accept: m.header("accept").map(str::to_string),
                    };
                    t.final_notes = (notes.warning.is_some()
                        || notes.reason_header.is_some()
                        || notes.accept.is_some())
                    .then(|| Box::new(notes));
                }
                if t.answer.is_none()
                    && let Some(sdp) = m.take_sdp()
                {
                    t.answer = Some(sdp);
                    t.answer_frame = Some(m.frame);
                }
            }
        }
        _ => {}
    }
    // A list that outgrows `FOLD_HEAD` grows to the `FOLD_HEAD` + `FOLD_TAIL` + 1 that
    // folding holds a lasting call's list at, not to twice `FOLD_HEAD`: a call held for
    // hours keeps no room it never fills (16 places of a `MessageRef` each).
    let keep = ending::FOLD_HEAD + ending::FOLD_TAIL + 1;
    if call.messages.len() == call.messages.capacity()
        && (ending::FOLD_HEAD..keep).contains(&call.messages.len())
    {
        call.messages.reserve_exact(keep - call.messages.len());
    }
    call.messages.push(r);
}

/// What a retired or dropped call's place holds: a call without messages.
fn placeholder() -> Call {
    Call {
        call_id: String::new(),
        first_frame: 0,
        last_frame: 0,
        first_time: Timestamp::default(),
        last_time: Timestamp::default(),
        messages: Vec::new(),
        invites: Vec::new(),
        methods: Methods::default(),
        bye_frame: None,
        agents: Vec::new(),
        first_capture: NO_CAPTURE,
        rare: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Transport;
    use crate::sip::message::{Provenance, parse_message};

    /// A call is held once per call in progress (12,000 at once in the 1,000,000-call
    /// hour of `cargo bench --bench scale`): 8 bytes more took `watch`'s peak there from
    /// 62 to 67–70 MiB, past the 64 MiB target. What few calls have goes in [`Rare`].
    #[test]
    fn a_call_stays_within_216_bytes() {
        assert!(
            std::mem::size_of::<Call>() <= 216,
            "Call is {} bytes",
            std::mem::size_of::<Call>()
        );
    }

    /// The files that carried a call: the first in the call, any other in [`Rare`], each
    /// once and in the order their messages came.
    #[test]
    fn a_call_names_the_files_that_carried_it() {
        let mut c = placeholder();
        assert_eq!((c.first_capture(), c.only_capture()), (None, None));
        assert_eq!(c.captures().count(), 0);
        c.add_capture(2);
        c.add_capture(2);
        assert_eq!((c.first_capture(), c.only_capture()), (Some(2), Some(2)));
        assert!(c.rare.is_none(), "one file needs no Rare");
        for i in [0, 2, 5, 0] {
            c.add_capture(i);
        }
        assert_eq!(c.captures().collect::<Vec<_>>(), [2, 0, 5]);
        assert_eq!((c.first_capture(), c.only_capture()), (Some(2), None));
    }

    /// Repeats are counted by pair in the order each pair first folded, the first two in
    /// place and the others after them.
    #[test]
    fn folded_repeats_count_by_pair_in_order() {
        let a = |p: u16| PackedAddr::from(std::net::SocketAddr::from(([10, 0, 0, 1], p)));
        let mut f = Folded::default();
        for (s, d) in [
            (1, 2),
            (2, 1),
            (1, 2),
            (3, 1),
            (1, 3),
            (3, 1),
            (2, 1),
            (3, 1),
        ] {
            f.add(a(s), a(d));
        }
        let pairs: Vec<_> = f.pairs().collect();
        assert_eq!(
            pairs,
            [
                (a(1), a(2), 2),
                (a(2), a(1), 2),
                (a(3), a(1), 3),
                (a(1), a(3), 1)
            ]
        );
        assert_eq!(f.count(), 8);
    }

    fn invite(set: &mut CallSet, n: u64) {
        set.add(invite_message(n));
    }

    /// An INVITE of call `flood-N` in frame N + 1, N seconds in.
    fn invite_message(n: u64) -> SipMessage {
        let text = format!(
            "INVITE sip:200@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK{n}\r\n\
             From: <sip:100@10.0.0.1>;tag=a\r\nTo: <sip:200@10.0.0.2>\r\nCall-ID: flood-{n}\r\n\
             CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
        );
        let p = Provenance {
            frame: n + 1,
            frames: Vec::new(),
            time: Timestamp::new(1_700_000_000 + n as i64, 0),
            src: "10.0.0.1:5060".parse().unwrap(),
            dst: "10.0.0.2:5060".parse().unwrap(),
            transport: Transport::Udp,
        };
        parse_message(text.as_bytes(), p, true).unwrap()
    }

    fn ids(g: Box<dyn std::any::Any + Send>) -> Vec<String> {
        let calls = g.downcast::<Vec<Call>>().expect("calls");
        calls.iter().map(|c| c.call_id.clone()).collect()
    }

    /// The calls let go at the cap are handed over for freeing, oldest first, once each;
    /// when nobody takes them, at most `GARBAGE_HELD` wait.
    #[test]
    fn dropped_calls_are_handed_over_once() {
        use set::GARBAGE_HELD;
        let mut set = CallSet::default();
        set.let_go.cap = 2;
        for n in 0..5 {
            invite(&mut set, n);
        }
        let g = set.take_garbage().expect("three calls dropped");
        assert_eq!(ids(g), ["flood-0", "flood-1", "flood-2"]);
        assert!(set.take_garbage().is_none(), "handed over once");
        invite(&mut set, 5);
        assert_eq!(ids(set.take_garbage().unwrap()), ["flood-3"]);
        for n in 6..(GARBAGE_HELD as u64 + 100) {
            invite(&mut set, n);
        }
        assert!(set.garbage.len() <= GARBAGE_HELD);
        assert_eq!(set.let_go.past.count, GARBAGE_HELD as u64 + 100 - 2);
    }

    /// Each call let go is named once, right after the message that let it go, whether
    /// or not its place was handed over for freeing meanwhile.
    #[test]
    fn calls_let_go_are_named_once() {
        let mut set = CallSet::default();
        set.let_go.cap = 2;
        let mut named = Vec::new();
        for n in 0..6 {
            invite(&mut set, n);
            set.let_go_since(&mut |id| named.push(id.to_string()));
            if n == 3 {
                set.take_garbage();
            }
        }
        assert_eq!(named, ["flood-0", "flood-1", "flood-2", "flood-3"]);
        set.let_go_since(&mut |id| named.push(id.to_string()));
        assert_eq!(named.len(), 4, "nothing new");
    }

    /// Calls kept for `calls` and `media` carry no SDP; for `watch` (the rules) they do.
    #[test]
    fn retiring_without_sdp_keeps_none() {
        let body = "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 8\r\n";
        let text = format!(
            "INVITE sip:200@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n\
             From: <sip:100@10.0.0.1>;tag=a\r\nTo: <sip:200@10.0.0.2>\r\nCall-ID: sdp-1\r\n\
             CSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let invite = || {
            let p = Provenance {
                frame: 1,
                frames: Vec::new(),
                time: Timestamp::new(1_700_000_000, 0),
                src: "10.0.0.1:5060".parse().unwrap(),
                dst: "10.0.0.2:5060".parse().unwrap(),
                transport: Transport::Udp,
            };
            parse_message(text.as_bytes(), p, true).unwrap()
        };
        let offer_port = |without: bool| {
            let mut r = retire::Retiring::<Call>::default();
            if without {
                r.without_sdp();
            }
            r.add(invite());
            let (_, call) = r.finish().next().expect("the call");
            let tx = &call.invites[0];
            assert_eq!(tx.content_type.as_deref(), Some("application/sdp"));
            tx.offer.as_ref().map(|sdp| sdp.media[0].port)
        };
        assert_eq!(offer_port(false), Some(4000));
        assert_eq!(offer_port(true), None);
    }

    /// Retiring names the calls it lets go at the cap only when asked to, each once.
    #[test]
    fn retiring_names_the_calls_let_go_when_asked() {
        let mut r = retire::Retiring::<Call>::default();
        r.let_go.cap = 2;
        let mut named = Vec::new();
        for n in 0..3 {
            r.add(invite_message(n));
        }
        r.take_let_go(&mut |id| named.push(id.to_string()));
        assert!(named.is_empty(), "not asked: {named:?}");
        r.name_let_go();
        for n in 3..6 {
            r.add(invite_message(n));
            r.take_let_go(&mut |id| named.push(id.to_string()));
        }
        assert_eq!(named, ["flood-1", "flood-2", "flood-3"]);
        assert_eq!(r.let_go.past.count, 4);
    }
}
