//! CAP006 limit-reached: a cap on what sipdiag keeps in memory was reached, so part of the
//! capture was not analysed.
//!
//! Input: the `*-limit` anomalies of each capture (TCP connections, IP datagrams under
//! reassembly, SCTP messages under reassembly and their size, SIP header and message size,
//! calls not ended, calls waiting for their legs), the media report's [`FlowLimit`](crate::media::FlowLimit), the
//! roles' [`PairLimit`] and the diverting
//! numbers left out of an XccDiversionPattern's proof
//! ([`Diversions::limit_finding`](super::diversions::Diversions::limit_finding), which
//! makes its finding with [`diverting_numbers`]). Output: one warning per limit reached, naming
//! the limit, its flag, the count and the first frame; for media flows, the calls whose
//! media is therefore not judged (the SP rules skip them, see `rules::run_rules`).

use serde_json::json;

use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Scope, Severity};
use crate::calls::legs::PairLimit;
use crate::limits::Limits;

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "CAP006",
    slug: "limit-reached",
    severity: Severity::Warning,
    summary: "A memory limit was reached: part of the capture was not analysed",
    doc: RuleDoc {
        what: "sipdiag keeps bounded tables so that no capture can exhaust memory: TCP connections followed at once, IP datagrams and SCTP messages under reassembly, UDP media flows, calls that have not ended (and, reading a capture as a stream, calls waiting for the Follow-Me legs they may be linked with: a capture whose clock stands still never ends the wait), the messages listed and the INVITE transactions kept per call, the size of a SIP header block and message on TCP (and of a message on SCTP), and the 64 MiB read buffer for one pcapng block (a larger block is skipped). This rule reports each cap that was reached, how often, from which frame, and the flag that raises it; for media flows, it names the calls whose media is not judged.",
        why: "What a cap leaves out is missing from the analysis: a SIP message on a connection closed to make room, a datagram whose fragments were dropped, RTP counts of a forgotten flow, a call never answered among a flood of INVITEs. A capture can then look healthier (or worse) than it was. Floods of connections, fragments or flows (scans, attacks, a very busy trunk) are what reach the caps.",
        fix: "Run again with the named flag raised (for example `--max-media-flows 500000`), or filter the capture to the calls of interest first (`tshark -r in.pcap -Y 'sip || rtp' -w out.pcap`). If the caps were reached by a flood, the flood itself is worth a look.",
        example: "media flow table full (--max-media-flows 100000): 250000 flow(s) forgotten to follow newer ones, first in frame 100001; media of 1 call not judged",
    },
};

/// The limit an anomaly kind reports: its name in evidence and its flag.
fn limit_of(kind: &str) -> Option<(&'static str, &'static str, &'static str)> {
    Some(match kind {
        "tcp-connection-limit" => (
            "tcp-connections",
            Limits::TCP_CONNECTIONS,
            "TCP connection table full",
        ),
        "sip-connection-limit" => (
            "tcp-connections",
            Limits::TCP_CONNECTIONS,
            "SIP lost on connections closed at the TCP connection cap",
        ),
        "ip-fragment-limit" => ("fragments", Limits::FRAGMENTS, "IP reassembly table full"),
        "sctp-reassembly-limit" => ("fragments", Limits::FRAGMENTS, "SCTP reassembly table full"),
        "sip-header-limit" => (
            "sip-header",
            Limits::SIP_HEADER,
            "SIP header block over the cap",
        ),
        "sip-body-limit" => (
            "sip-message",
            Limits::SIP_MESSAGE,
            "SIP body over the cap, skipped",
        ),
        "sctp-message-limit" => (
            "sip-message",
            Limits::SIP_MESSAGE,
            "SCTP message over the cap, dropped",
        ),
        "call-limit" => ("calls", Limits::CALLS, "calls not ended over the cap"),
        "call-wait-limit" => (
            "calls",
            Limits::CALLS,
            "calls waiting for their Follow-Me legs over the cap, judged without them",
        ),
        "call-message-limit" => (
            "messages-per-call",
            Limits::MESSAGES_PER_CALL,
            "messages of a call over the cap, left out of its message list",
        ),
        "call-invite-limit" => (
            "invites-per-call",
            Limits::INVITES_PER_CALL,
            "INVITE transactions of a call over the cap, left out",
        ),
        // A fixed cap: the read buffer (64 MiB) is no flag.
        "block-too-large" => (
            "pcapng-block",
            "",
            "pcapng block over the read buffer, skipped",
        ),
        _ => return None,
    })
}

impl Rule for R {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn scope(&self) -> Scope {
        Scope::Capture
    }

    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        // The anomaly's finding, with the limit it reached and the flag that raises it.
        let mut out =
            super::followme::anomaly_findings(cx, &INFO, |kind| Some(limit_of(kind)?.2), "");
        for f in &mut out {
            let kind = f.evidence["anomaly"].as_str().unwrap_or_default();
            if let Some((limit, flag, _)) = limit_of(kind) {
                f.evidence["limit"] = json!(limit);
                f.evidence["flag"] = json!((!flag.is_empty()).then_some(flag));
                f.evidence["first_frame"] = json!(f.frames.first());
            }
        }
        if let Some(l) = &cx.media.flow_limit {
            let first = l.frames.first().copied().unwrap_or(0);
            let calls: Vec<&String> = l.calls.iter().collect();
            let judged = match calls.len() {
                0 => "no call's media judged short (none of them carried a call's announced \
                       media while it may still have been going on: each had been quiet a \
                       minute or more)"
                    .to_string(),
                1 => format!("media of call {} not judged", calls[0]),
                n => format!("media of {n} calls not judged"),
            };
            out.push(
                Finding::new(
                    &INFO,
                    "media flow table full",
                    format!(
                        "media flow table full ({} {}): {} flow(s) forgotten to follow newer ones, first in frame {first}; {judged}.",
                        Limits::MEDIA_FLOWS,
                        l.limit,
                        l.evicted
                    ),
                )
                .frames(l.frames.iter().copied())
                .evidence(json!({
                    "limit": "media-flows",
                    "flag": Limits::MEDIA_FLOWS,
                    "cap": l.limit,
                    "count": l.evicted,
                    "first_frame": first,
                    "calls_not_judged": calls,
                })),
            );
        }
        out.extend(cx.roles.pair_limit.as_ref().map(address_pairs));
        for l in &cx.media.item_limits {
            let what = l.table.replace('-', " ");
            let effect = if l.cuts_calls() {
                let calls = (cx.calls.iter())
                    .filter(|c| cx.media.not_judged(&c.call_id, c.last_frame))
                    .count();
                format!("media of the {calls} call(s) still going on from then not judged")
            } else {
                "those beyond it are not listed".to_string()
            };
            out.push(
                Finding::new(
                    &INFO,
                    format!("media table full: {what}"),
                    format!(
                        "media table full: {what} ({} {}): {} not tracked, the first in frame {}; {effect}.",
                        l.flag, l.cap, l.count, l.first_frame
                    ),
                )
                .frames([l.first_frame])
                .evidence(json!({
                    "limit": l.table,
                    "flag": l.flag,
                    "cap": l.cap,
                    "count": l.count,
                    "first_frame": l.first_frame,
                })),
            );
        }
        out
    }
}

/// The finding of the INVITEs not counted to name the PBXs at the `--max-address-pairs`
/// cap (`analyze` reading a capture as a stream knows them only once it has been read,
/// after the capture rules ran, and adds it then).
pub fn address_pairs(l: &PairLimit) -> Finding {
    Finding::new(
        &INFO,
        "address pairs full",
        format!(
            "address pairs counted to name the PBXs full ({} {}): {} INVITE(s) between further pairs not counted, the first in frame {}; the PBXs named may be incomplete.",
            Limits::ADDRESS_PAIRS,
            l.cap,
            l.count,
            l.first_frame
        ),
    )
    .frames([l.first_frame])
    .evidence(json!({
        "limit": "address-pairs",
        "flag": Limits::ADDRESS_PAIRS,
        "cap": l.cap,
        "count": l.count,
        "first_frame": l.first_frame,
    }))
}

/// The finding of the distinct diverting numbers left out of an XccDiversionPattern's
/// proof at the `--max-diverting-numbers` cap `cap`: `count` of them (`at_least`: more may
/// have come, past `cap` left out they are not counted), the first's INVITE in
/// `first_frame`.
pub fn diverting_numbers(cap: usize, count: u64, at_least: bool, first_frame: u64) -> Finding {
    let more = if at_least { "at least " } else { "" };
    Finding::new(
        &INFO,
        "diverting numbers full",
        format!(
            "diverting numbers full ({} {cap}): the XccDiversionPattern suggestion is proven on the first {cap} in capture order; {more}{count} more left out, the first in frame {first_frame}.",
            Limits::DIVERTING_NUMBERS,
        ),
    )
    .frames([first_frame])
    .evidence(json!({
        "limit": "diverting-numbers",
        "flag": Limits::DIVERTING_NUMBERS,
        "cap": cap,
        "count": count,
        "count_is_lower_bound": at_least,
        "first_frame": first_frame,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calls::legs::{Legs, Roles};
    use crate::media::{ItemLimit, MediaReport};
    use crate::numbers::Site;

    /// A full media table is a finding naming it, its cap, the count and the first
    /// frame; one that cuts calls' media says how many calls went on past it.
    #[test]
    fn full_media_tables_are_findings() {
        let (roles, legs, site) = (Roles::default(), Legs::default(), Site::default());
        let media = MediaReport {
            item_limits: vec![
                ItemLimit {
                    table: "rtp-streams",
                    flag: "--max-rtp-streams",
                    cap: 200_000,
                    count: 7,
                    first_frame: 500,
                },
                ItemLimit {
                    table: "stun-transactions",
                    flag: "--max-stun-transactions",
                    cap: 100_000,
                    count: 2,
                    first_frame: 900,
                },
            ],
            ..MediaReport::default()
        };
        let cx = Context {
            captures: &[],
            calls: &[],
            roles: &roles,
            legs: &legs,
            site: &site,
            media: &media,
            ipo: &crate::rules::ipo::NO_IPO,
            seen: &Default::default(),
        };
        let found = RULE.check(&cx);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].title, "media table full: rtp streams");
        assert_eq!(
            found[0].message,
            "media table full: rtp streams (--max-rtp-streams 200000): 7 not tracked, the first in frame 500; media of the 0 call(s) still going on from then not judged."
        );
        assert_eq!(found[0].frames, [500]);
        assert_eq!(found[0].evidence["limit"], "rtp-streams");
        assert_eq!(found[0].evidence["count"], 7);
        assert_eq!(found[0].evidence["flag"], "--max-rtp-streams");
        assert!(
            found[1]
                .message
                .ends_with("those beyond it are not listed.")
        );
        assert_eq!(media.media_cut_from(), Some(500), "STUN does not cut calls");
    }
}
