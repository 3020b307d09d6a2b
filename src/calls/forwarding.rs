//! Forwarding chains (part of stage 4): which Diversion / History-Info entry XCC looks
//! the Follow-Me user up by, the chain as the reports show it, and the numbers of a scan
//! that can be users (for inferring the dialling plan).
//!
//! Input: the INVITE transactions of [`Call`]s. Output: [`Lookup`], [`ForwardingEntry`]
//! lists and number iterators; nothing is stored. Invariant: an entry without a user part
//! is never chosen, and every index read is bounded.

use serde::Serialize;

use super::{Call, InviteTx};

impl InviteTx {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::Timestamp;
    use crate::net::Transport;
    use crate::sip::headers::{parse_diversion, parse_history_info};
    use std::net::SocketAddr;

    fn tx(ruri: &str, diversion: &[&str], history: &[&str]) -> InviteTx {
        let a: SocketAddr = "127.0.0.1:5060".parse().unwrap();
        InviteTx {
            cseq: 1,
            branch: None,
            src: a.into(),
            dst: a.into(),
            transport: Transport::Udp,
            request_frame: 1,
            request_time: Timestamp::default(),
            retransmission_frames: Vec::new(),
            retransmissions: 0,
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
            final_notes: None,
            ack_frame: None,
            cancel_frame: None,
            has_credentials: false,
            content_type: None,
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
