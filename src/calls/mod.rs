//! Stage 4: [`SipMessage`] → [`Call`].
//!
//! Input: SIP messages in capture order. Output: one [`Call`] per Call-ID with its
//! messages (as compact references, never the raw bytes), its INVITE transactions
//! (RFC 3261 §17: keyed by top Via branch and CSeq; retransmissions counted, not doubled)
//! and the identity headers of its initial INVITE.
//!
//! Memory grows with the number of calls and their messages, not with the capture.

pub mod legs;

use std::net::SocketAddr;

use serde::Serialize;

use crate::capture::Timestamp;
use crate::net::Transport;
use crate::sip::SipMessage;
use crate::sip::headers::{Diversion, HistoryInfo, NameAddr};
use crate::sip::sdp::Sdp;

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
    pub cseq_method: Option<Method>,
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
    pub ack_frame: Option<u64>,
    pub cancel_frame: Option<u64>,
    /// Whether this INVITE carried credentials (a retry after 401/407).
    pub has_credentials: bool,
}

impl InviteTx {
    pub fn is_failure(&self) -> bool {
        self.final_status.is_some_and(|s| s >= 300)
    }

    /// The entry XCC looks the Follow-Me user up by: the user "for whom the call was
    /// originally intended" (DOMAIN.md, checklist item 2). Diversion lists the most recent
    /// diversion first (RFC 5806 §4), so the original called party is its **last** entry,
    /// over every header line in order; History-Info is chronological (RFC 7044 §9.2), so
    /// it is the entry with the lowest index (`1`), not counting the request's own target.
    /// Entries without a user part cannot name a user and are passed over.
    pub fn lookup(&self) -> Option<Lookup> {
        if !self.diversion.is_empty() {
            let (position, d) = self
                .diversion
                .iter()
                .enumerate()
                .rev()
                .find(|(_, d)| d.addr.user.is_some())?;
            return Some(Lookup {
                number: d.addr.user.clone()?,
                header: "Diversion",
                position,
                entries: self.diversion.len(),
            });
        }
        let target = crate::sip::headers::uri_parts(&self.request_uri).0;
        let candidates = || {
            self.history_info
                .iter()
                .enumerate()
                .filter(|(_, h)| h.addr.user.is_some())
        };
        // Earliest first: by index (RFC 7044 §10.3, dot-separated integers), entries
        // without a readable index after those with one, ties in header order.
        let earliest = |skip_target: bool| {
            candidates()
                .filter(|(_, h)| !skip_target || h.addr.user != target)
                .min_by_key(|(i, h)| (history_index(h.index.as_deref()), *i))
        };
        let (position, h) = earliest(true).or_else(|| earliest(false))?;
        Some(Lookup {
            number: h.addr.user.clone()?,
            header: "History-Info",
            position,
            entries: self.history_info.len(),
        })
    }

    /// The number XCC looks the Follow-Me user up by, and the header it is taken from
    /// (see [`InviteTx::lookup`]).
    pub fn diverting_number(&self) -> Option<(String, &'static str)> {
        self.lookup().map(|l| (l.number, l.header))
    }

    /// The forwarding chain as the reports show it: every Diversion entry (all header
    /// lines, in order) or, without Diversion, every History-Info entry, the one XCC looks
    /// up marked.
    pub fn forwarding(&self) -> Vec<ForwardingEntry> {
        let used = self.lookup().map(|l| l.position);
        if !self.diversion.is_empty() {
            return self
                .diversion
                .iter()
                .enumerate()
                .map(|(i, d)| ForwardingEntry {
                    header: "Diversion".into(),
                    number: d.addr.user.clone(),
                    index: None,
                    reason: d.reason.clone(),
                    used: used == Some(i),
                })
                .collect();
        }
        self.history_info
            .iter()
            .enumerate()
            .map(|(i, h)| ForwardingEntry {
                header: "History-Info".into(),
                number: h.addr.user.clone(),
                index: h.index.clone(),
                reason: h.cause.map(|c| c.to_string()),
                used: used == Some(i),
            })
            .collect()
    }
}

/// A History-Info index as numbers (`1.1.2` → `[1, 1, 2]`) for ordering; `None` (sorted
/// last) when absent or unreadable. At most 8 levels are read: enough to order entries.
fn history_index(index: Option<&str>) -> (bool, Vec<u32>) {
    let parsed: Option<Vec<u32>> = index.and_then(|i| {
        i.trim()
            .split('.')
            .take(8)
            .map(|p| p.trim().parse().ok())
            .collect()
    });
    match parsed {
        Some(v) => (false, v),
        None => (true, Vec::new()),
    }
}

/// The forwarding entry XCC looks the user up by ([`InviteTx::lookup`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    /// The user part of the entry's URI, as written.
    pub number: String,
    /// `Diversion` or `History-Info`.
    pub header: &'static str,
    /// Position of the entry among all entries of that header (0-based, header order).
    pub position: usize,
    /// How many entries that header has (all header lines).
    pub entries: usize,
}

impl Lookup {
    /// "the Diversion header has 2 entries; XCC looks up the original called party, the
    /// last one: " — empty for a single entry.
    pub fn chain_note(&self) -> String {
        if self.entries < 2 {
            return String::new();
        }
        let which = match self.header {
            "Diversion" if self.position + 1 == self.entries => "the last one".to_string(),
            "History-Info" if self.position == 0 => "the first one (index 1)".to_string(),
            _ => format!("entry {} of {}", self.position + 1, self.entries),
        };
        format!(
            "The {} header has {} entries; XCC looks up the original called party, {which}: {}. ",
            self.header, self.entries, self.number
        )
    }
}

/// One entry of a forwarding chain, for the reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ForwardingEntry {
    /// `Diversion` or `History-Info`.
    pub header: String,
    /// The URI's user part (the number), when it has one.
    pub number: Option<String>,
    /// The History-Info index (RFC 7044), e.g. `1.1`.
    pub index: Option<String>,
    /// The Diversion reason, or the History-Info cause code.
    pub reason: Option<String>,
    /// XCC looks the Follow-Me user up by this entry.
    pub used: bool,
}

/// The chain on one line, the used entry marked when there is a choice:
/// `+4930123456, 0049301234789 (used)`.
pub fn chain_text(chain: &[ForwardingEntry]) -> String {
    chain
        .iter()
        .map(|e| {
            let n = e.number.as_deref().unwrap_or("?");
            if e.used && chain.len() > 1 {
                format!("{n} (used)")
            } else {
                n.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
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
    pub methods: Vec<String>,
    pub bye_frame: Option<u64>,
    /// User-Agent/Server strings by sender (at most a few per call), for role hints.
    pub agents: Vec<(SocketAddr, String)>,
    /// Which input files (indexes into the command's capture list) carried the call:
    /// frame numbers are per file.
    pub captures: Vec<usize>,
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

/// Numbers that can be XPhone users, for inferring the dialling plan: every Diversion
/// entry, every History-Info entry except the request's own target, and From/To of the
/// calls `is_second_leg` names (XCC's calls back to the PBX). Not the first leg's
/// Request-URI/To: that is the central AnyDevice number, not a user's.
pub fn user_numbers<'a>(
    calls: &'a [Call],
    is_second_leg: impl Fn(&Call) -> bool + 'a,
) -> impl Iterator<Item = &'a str> + 'a {
    calls.iter().flat_map(move |c| {
        let second = is_second_leg(c);
        c.invites.iter().flat_map(move |t| {
            let target = crate::sip::headers::uri_parts(&t.request_uri).0;
            let forwarded = t
                .diversion
                .iter()
                .filter_map(|d| d.addr.user.as_deref())
                .chain(
                    t.history_info
                        .iter()
                        .filter_map(|h| h.addr.user.as_deref())
                        .filter(move |u| target.as_deref() != Some(*u)),
                );
            let ends = t
                .from
                .iter()
                .chain(t.to.iter())
                .filter(move |_| second)
                .filter_map(|n| n.user.as_deref());
            forwarded.chain(ends)
        })
    })
}

/// What [`user_numbers`] takes numbers from, for the site notes.
pub const USER_NUMBER_SOURCES: &str =
    "number(s) that can be users (Diversion/History-Info entries, From/To of second legs)";

/// All calls of a scan, in order of their first message.
#[derive(Debug, Default)]
pub struct CallSet {
    pub calls: Vec<Call>,
    /// Call-IDs are chosen by whoever sent the packets: a randomly seeded hasher.
    index: foldhash::HashMap<String, usize>,
    /// Messages without a Call-ID.
    pub without_call_id: u64,
    /// Index of the input file being read, recorded on the calls it carries.
    pub capture: usize,
}

impl CallSet {
    /// Adds one message to its call.
    /// Files a message under its call. Takes the message: its SDP moves into the call.
    pub fn add(&mut self, mut m: SipMessage) {
        let Some(call_id) = m.call_id() else {
            self.without_call_id += 1;
            return;
        };
        let idx = match self.index.get(call_id) {
            Some(&i) => i,
            None => {
                self.calls.push(Call {
                    call_id: call_id.to_string(),
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
                });
                self.index.insert(call_id.to_string(), self.calls.len() - 1);
                self.calls.len() - 1
            }
        };
        let call = &mut self.calls[idx];
        if !call.captures.contains(&self.capture) {
            call.captures.push(self.capture);
        }
        add_to_call(call, &mut m);
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
        cseq_method: cseq.as_ref().map(|c| method(c.method)),
        retransmission: false,
    };
    if let Some(name) = m.method()
        && !call.methods.iter().any(|x| x == name)
    {
        call.methods.push(name.to_string());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::headers::{parse_diversion, parse_history_info};

    fn tx(ruri: &str, diversion: &[&str], history: &[&str]) -> InviteTx {
        let a: SocketAddr = "127.0.0.1:5060".parse().unwrap();
        InviteTx {
            cseq: 1,
            branch: None,
            src: a,
            dst: a,
            transport: Transport::Udp,
            request_frame: 1,
            request_time: Timestamp::default(),
            retransmission_frames: Vec::new(),
            request_uri: ruri.into(),
            from: None,
            to: None,
            diversion: diversion.iter().map(|d| parse_diversion(d)).collect(),
            history_info: history.iter().map(|h| parse_history_info(h)).collect(),
            p_asserted_identity: Vec::new(),
            user_agent: None,
            offer: None,
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
            ack_frame: None,
            cancel_frame: None,
            has_credentials: false,
        }
    }

    fn used(t: &InviteTx) -> (String, &'static str, usize, usize) {
        let l = t.lookup().expect("a lookup entry");
        (l.number, l.header, l.position, l.entries)
    }

    #[test]
    fn diversion_uses_the_last_entry_with_a_user() {
        let t = tx(
            "sip:799@x",
            &["<sip:+4930123456@p>;counter=1", "<tel:0049301234789>"],
            &["<sip:111@p>;index=1"],
        );
        assert_eq!(used(&t), ("0049301234789".into(), "Diversion", 1, 2));
        let chain = t.forwarding();
        assert_eq!(
            chain_text(&chain),
            "+4930123456, 0049301234789 (used)",
            "{chain:?}"
        );
        // An entry without a user cannot name anybody: the one before it is used.
        let t = tx("sip:799@x", &["<sip:201@p>", "<sip:pbx.example>"], &[]);
        assert_eq!(used(&t), ("201".into(), "Diversion", 0, 2));
        assert_eq!(chain_text(&t.forwarding()), "201 (used), ?");
        // One entry: no mark, no chain note.
        let t = tx("sip:799@x", &["<sip:201@p>"], &[]);
        assert_eq!(chain_text(&t.forwarding()), "201");
        assert_eq!(t.lookup().unwrap().chain_note(), "");
    }

    #[test]
    fn history_info_uses_the_lowest_index_that_is_not_the_target() {
        // Out of header order; the target 799 has the lowest index but is skipped.
        let t = tx(
            "sip:799@x",
            &[],
            &[
                "<sip:+4930222@p>;index=1.1",
                "<sip:799@x>;index=0",
                "<sip:+4930111@p>;index=1",
                "<sip:+4930333@p>;index=1.1.1",
            ],
        );
        assert_eq!(used(&t), ("+4930111".into(), "History-Info", 2, 4));
        assert!(
            t.lookup()
                .unwrap()
                .chain_note()
                .contains("entry 3 of 4: +4930111")
        );
        // Entries without an index come after those with one; only the target left:
        // the target is used.
        let t = tx(
            "sip:799@x",
            &[],
            &["<sip:+4930444@p>", "<sip:+4930555@p>;index=1.2"],
        );
        assert_eq!(used(&t), ("+4930555".into(), "History-Info", 1, 2));
        let t = tx("sip:799@x", &[], &["<sip:799@x>;index=1"]);
        assert_eq!(used(&t), ("799".into(), "History-Info", 0, 1));
        assert_eq!(history_index(Some("1.x")), (true, Vec::new()));
        assert_eq!(history_index(Some(" 1.2 ")), (false, vec![1, 2]));
    }
}
