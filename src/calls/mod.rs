//! Stage 4: [`SipMessage`] → [`Call`].
//!
//! Input: SIP messages in capture order. Output: one [`Call`] per Call-ID with its
//! messages (as compact references, never the raw bytes), its INVITE transactions
//! (RFC 3261 §17: keyed by top Via branch and CSeq; retransmissions counted, not doubled)
//! and the identity headers of its initial INVITE. Messages without a Call-ID header are
//! not dropped: they form calls of their own under a made-up key ([`NoCallIdKey`]).
//!
//! Memory grows with the number of calls and their messages, not with the capture.

pub mod focus;
pub mod forwarding;
pub mod legs;
mod no_call_id;
pub mod retire;

pub use no_call_id::{NO_CALL_ID_PREFIX, NoCallIdKey};

use std::net::SocketAddr;

use serde::Serialize;

use crate::capture::Timestamp;
use crate::net::Transport;
use crate::sip::SipMessage;
use crate::sip::headers::{Diversion, HistoryInfo, NameAddr};

use crate::sip::sdp::Sdp;
pub use forwarding::{ForwardingEntry, Lookup, USER_NUMBER_SOURCES, chain_text, user_numbers};

/// A SIP method name; the common ones are shared, not allocated per message.
pub type Method = std::borrow::Cow<'static, str>;

/// Interns the methods of RFC 3261 and its extensions.
pub fn method(name: &str) -> Method {
    const KNOWN: &[&str] = &[
        "INVITE",
        "ACK",
        "BYE",
        "CANCEL",
        "OPTIONS",
        "REGISTER",
        "PRACK",
        "UPDATE",
        "INFO",
        "REFER",
        "NOTIFY",
        "SUBSCRIBE",
        "MESSAGE",
        "PUBLISH",
    ];
    crate::sip::intern(name, KNOWN)
}

/// A message of a call, without its bytes.
#[derive(Debug, Clone, Serialize)]
pub struct MessageRef {
    pub frame: u64,
    #[serde(skip)]
    pub time: Timestamp,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub transport: Transport,
    pub method: Option<Method>,
    pub status: Option<u16>,
    pub cseq: Option<u32>,
    /// Same transaction and content as an earlier message.
    pub retransmission: bool,
}

/// One INVITE client/server transaction as seen on the wire.
#[derive(Debug, Clone, Serialize)]
pub struct InviteTx {
    pub cseq: u32,
    pub branch: Option<String>,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub transport: Transport,
    pub request_frame: u64,
    #[serde(skip)]
    pub request_time: Timestamp,
    /// Frames of retransmitted copies of the request.
    pub retransmission_frames: Vec<u64>,
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
    /// Provisional responses: (status, frame).
    pub provisional: Vec<(u16, u64)>,
    pub final_status: Option<u16>,
    pub final_reason: Option<String>,
    pub final_frame: Option<u64>,
    #[serde(skip)]
    pub final_time: Option<Timestamp>,
    /// SDP of the first response that carried one.
    pub answer: Option<Sdp>,
    pub answer_frame: Option<u64>,
    pub server: Option<String>,
    pub warning: Option<String>,
    pub reason_header: Option<String>,
    /// The final response's Accept header: the body types the far end takes (RFC 3261
    /// §21.4.13: a 415 lists them there).
    pub final_accept: Option<String>,
    pub ack_frame: Option<u64>,
    pub cancel_frame: Option<u64>,
    /// Whether this INVITE carried credentials (a retry after 401/407).
    pub has_credentials: bool,
}

impl InviteTx {
    pub fn is_failure(&self) -> bool {
        self.final_status.is_some_and(|s| s >= 300)
    }
}

/// Everything seen under one Call-ID.
#[derive(Debug, Clone, Serialize)]
pub struct Call {
    pub call_id: String,
    pub first_frame: u64,
    pub last_frame: u64,
    #[serde(skip)]
    pub first_time: Timestamp,
    #[serde(skip)]
    pub last_time: Timestamp,
    pub messages: Vec<MessageRef>,
    pub invites: Vec<InviteTx>,
    /// Methods in order of first appearance.
    pub methods: Vec<Method>,
    pub bye_frame: Option<u64>,
    /// User-Agent/Server strings by sender (at most a few per call), for role hints.
    pub agents: Vec<(SocketAddr, String)>,
    /// Which input files (indexes into the command's capture list) carried the call:
    /// frame numbers are per file.
    pub captures: Vec<usize>,
    /// Set when the messages carry no Call-ID header: how they were grouped instead
    /// (`call_id` then holds [`NoCallIdKey::call_key`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_call_id: Option<NoCallIdKey>,
}

impl Call {
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

/// All calls of a scan, in order of their first message.
///
/// Calls that have not ended are capped (`--max-calls`, [`crate::limits`]): beyond the
/// cap the least recently active of them is dropped in O(1) (an INVITE flood answered
/// only by 100 Trying would otherwise hold every INVITE), and counted. [`CallSet::finish`]
/// must run once the scan is over: it takes the dropped calls' places out of `calls` and
/// reports the drops on the capture.
#[derive(Debug, Default)]
pub struct CallSet {
    pub calls: Vec<Call>,
    /// Call-IDs are chosen by whoever sent the packets: a randomly seeded hasher.
    index: foldhash::HashMap<String, usize>,
    /// Messages without a Call-ID header (filed under made-up keys, see [`NoCallIdKey`]).
    pub without_call_id: u64,
    /// Index of the input file being read, recorded on the calls it carries.
    pub capture: usize,
    /// Positions in `calls` of the calls that have not ended, least recently active last.
    open: crate::lru::Recency,
    /// Calls dropped at the cap (their places in `calls` are empty until half of all
    /// places are, or `finish`).
    pub let_go: LetGo,
    /// Places in `calls` of dropped calls.
    holes: usize,
    /// Calls dropped since [`CallSet::take_garbage`] was last called, for another thread
    /// to free (at most [`GARBAGE_HELD`]: beyond, they are freed here).
    garbage: Vec<Call>,
    /// How many of `garbage` [`CallSet::let_go_since`] has named.
    named: usize,
}

/// Dropped calls held for [`CallSet::take_garbage`]: a two-thread scan takes them after
/// every batch of at most 1,024 messages.
const GARBAGE_HELD: usize = 4096;

impl CallSet {
    /// Files a message under its call. Takes the message: its SDP moves into the call.
    pub fn add(&mut self, mut m: SipMessage) {
        let (key, no_call_id) = call_key(&m, &mut self.without_call_id);
        let idx = match self.index.get(key.as_ref()) {
            Some(&i) => i,
            None => {
                self.calls.push(new_call(&key, no_call_id, &m));
                self.index.insert(key.to_string(), self.calls.len() - 1);
                self.calls.len() - 1
            }
        };
        let call = &mut self.calls[idx];
        if !call.captures.contains(&self.capture) {
            call.captures.push(self.capture);
        }
        add_to_call(call, &mut m);
        let slot = idx as u32;
        if state(call) == CallState::Ended {
            self.open.remove(slot);
            return;
        }
        self.open.touch_or_push(slot);
        if self.open.len() > self.let_go.cap
            && let Some(oldest) = self.open.oldest()
        {
            self.open.remove(oldest);
            let gone = std::mem::replace(&mut self.calls[oldest as usize], placeholder());
            self.index.remove(&gone.call_id);
            self.let_go.record(&gone, self.capture);
            if self.garbage.len() >= GARBAGE_HELD {
                self.garbage.clear();
                self.named = 0;
            }
            self.garbage.push(gone);
            self.holes += 1;
            // The places of dropped calls go once they are half of all (amortised O(1)):
            // a flood's calls would otherwise leave a place each.
            if self.holes >= 1024 && self.holes * 2 >= self.calls.len() {
                self.compact();
            }
        }
    }

    /// The calls dropped since the last call, to be freed elsewhere.
    pub fn take_garbage(&mut self) -> Option<Box<dyn std::any::Any + Send>> {
        if self.garbage.is_empty() {
            return None;
        }
        self.named = 0;
        Some(Box::new(std::mem::take(&mut self.garbage)))
    }

    /// Names (to `gone`) each call dropped at the cap since the last time it was asked,
    /// so that what is kept about it elsewhere (its SDP announcements) can go too. Asked
    /// after every message: a message drops at most one call.
    pub fn let_go_since(&mut self, gone: &mut dyn FnMut(&str)) {
        for c in self.garbage.get(self.named..).unwrap_or_default() {
            gone(&c.call_id);
        }
        self.named = self.garbage.len();
    }

    /// Takes the places of dropped calls out of `calls`, keeping the order of the rest
    /// and the recency of those not ended.
    fn compact(&mut self) {
        let mut new_pos = vec![u32::MAX; self.calls.len()];
        let mut next = 0u32;
        for (i, c) in self.calls.iter().enumerate() {
            // A dropped call's place holds a call without messages; every filed call has one.
            if !c.messages.is_empty() {
                new_pos[i] = next;
                next += 1;
            }
        }
        let order = self.open.oldest_first();
        self.calls.retain(|c| !c.messages.is_empty());
        self.open = crate::lru::Recency::default();
        for slot in order {
            if let Some(&p) = new_pos.get(slot as usize).filter(|p| **p != u32::MAX) {
                self.open.push(p);
            }
        }
        for i in self.index.values_mut() {
            *i = new_pos[*i] as usize;
        }
        self.holes = 0;
    }

    /// The end of the scan of `paths`: the places of dropped calls are taken out of
    /// `calls`, and the drops reported on the capture that carried the first (among
    /// `reports`, those of the files that could be read). The set takes no more messages:
    /// its index of Call-IDs and the order of the calls not ended are freed (a tenth of
    /// the memory of a large capture's calls, no longer needed while they are judged).
    pub fn finish(&mut self, reports: &mut [crate::sip::CaptureReport], paths: &[String]) {
        self.finish_numbered(reports, paths, &|n| n);
    }

    /// [`CallSet::finish`], the frame number in the drops' message shown as `shown` says
    /// (files read merged: in its own file's numbers); their `frames` stay as counted.
    pub fn finish_numbered(
        &mut self,
        reports: &mut [crate::sip::CaptureReport],
        paths: &[String],
        shown: &dyn Fn(u64) -> u64,
    ) {
        if self.holes > 0 {
            self.compact();
        }
        self.index = Default::default();
        self.open = Default::default();
        self.garbage = Vec::new();
        let path = self.let_go.path(paths);
        (self.let_go).report_on(reports, path.as_deref(), "dropped from the analysis", shown);
    }
}

/// The `--max-calls` cap of a set of calls, and the calls let go at it before they
/// ended: how many, and the first.
#[derive(Debug, Clone)]
pub struct LetGo {
    /// Calls not ended held at once: the cap in force when the set was made
    /// ([`crate::limits`]), read once rather than per message.
    pub cap: usize,
    pub count: u64,
    /// The first one's first frame, and the input file that carried it.
    pub first_frame: Option<u64>,
    pub capture: usize,
}

impl Default for LetGo {
    fn default() -> Self {
        LetGo {
            cap: crate::limits::current().calls,
            count: 0,
            first_frame: None,
            capture: 0,
        }
    }
}

impl LetGo {
    /// The anomaly kind that reports it (rule CAP006).
    pub const KIND: &str = "call-limit";

    /// Reports the calls let go (nothing when none was), `what` saying what became of
    /// them: on the report of the file that carried the first (`paths`: the files as
    /// given; `reports`: those of the files that could be read), else on the last report.
    pub fn report(&self, reports: &mut [crate::sip::CaptureReport], paths: &[String], what: &str) {
        self.report_on(reports, self.path(paths).as_deref(), what, &|n| n);
    }

    /// The file that carried the first call let go, as reports name it (`paths`: the
    /// files as given).
    fn path(&self, paths: &[String]) -> Option<String> {
        paths
            .get(self.capture)
            .map(|p| crate::redact::shown_path(p))
    }

    /// Reports the calls let go (nothing when none was) on the report named `path` (as
    /// reports name their file), else on the last report; the frame number in the message
    /// shown as `shown` says (files read merged: in that file's own numbers), its `frames`
    /// as counted.
    pub fn report_on(
        &self,
        reports: &mut [crate::sip::CaptureReport],
        path: Option<&str>,
        what: &str,
        shown: &dyn Fn(u64) -> u64,
    ) {
        if self.count == 0 {
            return;
        }
        let at = (reports.iter())
            .position(|r| Some(r.path.as_str()) == path)
            .unwrap_or(reports.len().saturating_sub(1));
        if let Some(r) = reports.get_mut(at) {
            r.anomalies.push(self.anomaly(what, shown));
        }
    }

    fn record(&mut self, c: &Call, capture: usize) {
        self.count += 1;
        if self.first_frame.is_none() {
            self.first_frame = Some(c.first_frame);
            self.capture = c.captures.first().copied().unwrap_or(capture);
        }
    }

    /// The anomaly naming the cap, the count and the first call.
    fn anomaly(&self, what: &str, shown: &dyn Fn(u64) -> u64) -> crate::capture::Anomaly {
        let cap = self.cap;
        let first = self.first_frame.unwrap_or(0);
        crate::capture::Anomaly {
            kind: Self::KIND,
            message: format!(
                "calls not ended over the cap ({} {cap}): {} call(s) {what}, the first beginning in frame {}",
                crate::limits::Limits::CALLS,
                self.count,
                shown(first),
            ),
            frames: vec![first],
            count: self.count,
            flow: None,
        }
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
        methods: Vec::new(),
        bye_frame: None,
        agents: Vec::new(),
        captures: Vec::new(),
        no_call_id,
    }
}

fn add_to_call(call: &mut Call, m: &mut SipMessage) {
    if let Some(a) = m.agent()
        && call.agents.len() < 8
        && !call.agents.iter().any(|(s, x)| *s == m.src && x == a)
    {
        call.agents.push((m.src, a.to_string()));
    }
    call.last_frame = call.last_frame.max(m.frame);
    call.last_time = call.last_time.max(m.time);
    let cseq = m.cseq();
    let branch = m.branch();
    let mut r = MessageRef {
        frame: m.frame,
        time: m.time,
        src: m.src,
        dst: m.dst,
        transport: m.transport,
        method: m.method().map(method),
        status: m.status(),
        cseq: cseq.as_ref().map(|c| c.seq),
        retransmission: false,
    };
    if let Some(name) = m.method()
        && !call.methods.iter().any(|x| x == name)
    {
        call.methods.push(method(name));
    }
    let seq = cseq.as_ref().map(|c| c.seq);
    match (m.method(), m.status()) {
        (Some("INVITE"), _) => {
            let existing = call
                .invites
                .iter_mut()
                .find(|t| Some(t.cseq) == seq && t.branch == branch && t.src == m.src);
            if let Some(t) = existing {
                t.retransmission_frames.push(m.frame);
                r.retransmission = true;
            } else {
                call.invites.push(InviteTx {
                    cseq: seq.unwrap_or(0),
                    branch,
                    src: m.src,
                    dst: m.dst,
                    transport: m.transport,
                    request_frame: m.frame,
                    request_time: m.time,
                    retransmission_frames: Vec::new(),
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
                    warning: None,
                    reason_header: None,
                    final_accept: None,
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
                .find(|t| Some(t.cseq) == seq && (branch.is_none() || t.branch == branch))
                .or(None);
            if let Some(t) = tx {
                if status < 200 {
                    if t.provisional.iter().any(|(s, _)| *s == status) && status != 100 {
                        r.retransmission = true;
                    }
                    t.provisional.push((status, m.frame));
                } else if t.final_status.is_some() {
                    r.retransmission = true;
                } else {
                    t.final_status = Some(status);
                    t.final_reason = m.reason_phrase().map(str::to_string);
                    t.final_frame = Some(m.frame);
                    t.final_time = Some(m.time);
                    t.server = m.agent().map(str::to_string);
                    t.warning = m.warning().map(str::to_string);
                    t.reason_header = m.reason().map(str::to_string);
                    t.final_accept = m.header("accept").map(str::to_string);
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
    call.messages.push(r);
}

/// Whether a call can still change (see [`retire`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallState {
    /// Nothing but retransmissions can follow.
    Ended,
    /// More may follow; given up after a silence.
    Open,
    /// May go on for hours without a message: an established dialog, a registration.
    Lasting,
}

pub(crate) fn state(c: &Call) -> CallState {
    if c.methods
        .iter()
        .any(|m| matches!(m.as_ref(), "REGISTER" | "SUBSCRIBE" | "PUBLISH"))
    {
        return CallState::Lasting;
    }
    if c.bye_frame.is_some() {
        return CallState::Ended;
    }
    if !c.invites.is_empty() {
        if c.invites
            .iter()
            .any(|t| t.final_status.is_some_and(|s| (200..300).contains(&s)))
        {
            return CallState::Lasting;
        }
        // A challenge (401/407) is answered when the user has typed a password: maybe
        // minutes later, under the same Call-ID (RFC 3261 §22.2).
        let challenged = c
            .final_invite_status()
            .is_some_and(|(s, _)| s == 401 || s == 407);
        if c.invites.iter().all(|t| t.final_status.is_some()) && !challenged {
            return CallState::Ended;
        }
        return CallState::Open;
    }
    match c.messages.last() {
        Some(r) if r.status.is_some_and(|s| s >= 200) => CallState::Ended,
        _ => CallState::Open,
    }
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
        methods: Vec::new(),
        bye_frame: None,
        agents: Vec::new(),
        captures: Vec::new(),
        no_call_id: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::Transport;
    use crate::sip::message::{Provenance, parse_message};

    fn invite(set: &mut CallSet, n: u64) {
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
        set.add(parse_message(text.as_bytes(), p, true).unwrap());
    }

    fn ids(g: Box<dyn std::any::Any + Send>) -> Vec<String> {
        let calls = g.downcast::<Vec<Call>>().expect("calls");
        calls.iter().map(|c| c.call_id.clone()).collect()
    }

    /// The calls let go at the cap are handed over for freeing, oldest first, once each;
    /// when nobody takes them, at most `GARBAGE_HELD` wait.
    #[test]
    fn dropped_calls_are_handed_over_once() {
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
        assert_eq!(set.let_go.count, GARBAGE_HELD as u64 + 100 - 2);
    }
}
