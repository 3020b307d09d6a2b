//! SP005 rtp-one-way: an established call's RTP flows in one direction only.

use std::net::SocketAddr;

use serde_json::json;

use super::followme::call_filter;
use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Scope, Severity};
use super::{any_of, udp_between};
use crate::calls::Call;
use crate::media::analysis::{EstablishedCall, flow_filter};
use crate::media::{MediaReport, RtpStream};

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "SP005",
    slug: "rtp-one-way",
    severity: Severity::Error,
    summary: "An established call's RTP flows in one direction only (one-way audio)",
    doc: RuleDoc {
        what: "For every SIP call whose INVITE was answered 2xx with SDP on both sides and kept `sendrecv` media, counts the RTP received at the caller's and at the callee's SDP addresses while the call lasted; reported when one side receives at least 25 packets (half a second of 20 ms audio) and the other none. For softphone media validated by STUN (no SIP call): an RTP stream of at least 25 packets with no RTP at all from its destination's IP address back to its source's IP address (media may come back from another port).",
        why: "One-way audio: one party hears the other, not vice versa. The silent direction's packets are either never sent (the device sends to a wrong address, e.g. a private SDP address across NAT) or dropped on the way (a firewall that allows UDP only one way, an ALG rewriting SDP).",
        fix: "Look at the silent direction's sender: it must send to the address the other side announced in its SDP (or, for ICE, the nominated pair). Across NAT, announce the public address (STUN/ICE, SBC, or the PBX's NAT settings) and disable SIP ALGs; open the receiving side's firewall for the announced UDP port (server range 30000-33000, client range 49152-65535 for the softphone).",
        example: "Call abc@10.0.0.1: 100 RTP packets 10.0.0.1:20000 → 10.0.0.2:40000 (frames 6-105), none from 10.0.0.2:40000 back to 10.0.0.1:20000 (announced in the INVITE, frame 1)",
    },
};

/// Packets one way before the silence of the other way counts.
const MIN_PACKETS: u64 = 25;

/// Streams a finding lists (text, frames, evidence) at most: a call without a BYE may
/// last to the end of the capture, and an address every call announces (a PBX's one
/// media port) then carries the streams of thousands of later calls. The count and the
/// packets are of all of them.
pub const LISTED_STREAMS: usize = 8;

impl Rule for R {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn scope(&self) -> Scope {
        Scope::Media
    }

    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        findings(cx.media, cx.calls)
    }
}

pub(crate) fn findings(media: &MediaReport, calls: &[Call]) -> Vec<Finding> {
    let mut out = Vec::new();
    // The stream pairs a call's finding covers, each once: an address every call
    // announces may carry the streams of thousands of calls, each covered by many.
    let mut covered: std::collections::HashSet<(SocketAddr, SocketAddr)> = Default::default();
    // A call whose media was not tracked (a table limit, CAP006) is not judged.
    for call in media.judged_calls(calls) {
        let Some(e) = EstablishedCall::of(call) else {
            continue;
        };
        if !e.sendrecv() {
            continue;
        }
        // RTP packets received at each side's SDP addresses while the call lasted.
        let to_caller = e.rtp_received(media, &e.offer_addrs);
        let to_callee = e.rtp_received(media, &e.answer_addrs);
        let (flowing, silent_addrs, silent_role, heard_addrs, announce_frame) =
            if to_callee >= MIN_PACKETS && to_caller == 0 {
                (
                    to_callee,
                    &e.offer_addrs,
                    "caller",
                    &e.answer_addrs,
                    e.invite.request_frame,
                )
            } else if to_caller >= MIN_PACKETS && to_callee == 0 {
                (
                    to_caller,
                    &e.answer_addrs,
                    "callee",
                    &e.offer_addrs,
                    e.invite.answer_frame.unwrap_or(e.invite.request_frame),
                )
            } else {
                continue;
            };
        let streams: Vec<&RtpStream> = e.streams_to(media, heard_addrs).collect();
        for s in &streams {
            covered.insert((s.src, s.dst));
        }
        let listed = &streams[..streams.len().min(LISTED_STREAMS)];
        let mut frames = e.setup_frames();
        frames.extend(listed.iter().flat_map(|s| [s.first_frame, s.last_frame]));
        let mut flows = listed
            .iter()
            .map(|s| {
                format!(
                    "{} → {} ({} packets, frames {}-{})",
                    s.src, s.dst, s.packets, s.first_frame, s.last_frame
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        if streams.len() > listed.len() {
            flows += &format!(" and {} more streams", streams.len() - listed.len());
        }
        let silent = join(silent_addrs);
        // What the silent side sent elsewhere while the call lasted (its address reused
        // by another call, earlier or later, says nothing of this one).
        let sent_elsewhere: u64 = (silent_addrs.iter())
            .flat_map(|a| e.streams_at(media, *a).filter(move |s| s.src == *a))
            .filter(|s| !heard_addrs.contains(&s.dst))
            .map(|s| s.packets)
            .sum();
        let message = format!(
            "Call {}: RTP flows only towards the {} ({flowing} packets: {flows}); nothing arrives at the {silent_role}'s address {silent} announced in frame {announce_frame}.{} The {silent_role} hears nothing. Check that the other side sends to {silent} (NAT: a private SDP address is unreachable; SIP ALG rewriting), and that the firewall in front of the {silent_role} lets UDP to port(s) {} in.",
            call.call_id,
            if silent_role == "caller" {
                "callee"
            } else {
                "caller"
            },
            if sent_elsewhere > 0 {
                format!(
                    " The {silent_role} itself sends {sent_elsewhere} RTP packet(s) to other addresses."
                )
            } else {
                String::new()
            },
            silent_addrs
                .iter()
                .map(|a| a.port().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        out.push(
            Finding::new(
                &INFO,
                format!(
                    "One-way audio in call {}: nothing reaches the {silent_role} at {silent}",
                    call.call_id
                ),
                message,
            )
            .call(&call.call_id)
            .frames(frames)
            .evidence(json!({
                "silent_side": silent_role,
                "silent_addresses": silent_addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
                "rtp_to_caller": to_caller,
                "rtp_to_callee": to_callee,
                "stream_count": streams.len(),
                "streams": listed.iter().map(|s| json!({
                    "src": s.src.to_string(), "dst": s.dst.to_string(), "ssrc": s.ssrc_hex(),
                    "packets": s.packets, "first_frame": s.first_frame, "last_frame": s.last_frame,
                })).collect::<Vec<_>>(),
            }))
            // The call's signalling (the cited SDP) and the media addresses while it and
            // the streams listed lasted.
            .filter(any_of(&[
                call_filter(&[&call.call_id]),
                udp_between(
                    &[&silent_addrs[..], &heard_addrs[..]].concat(),
                    (
                        (streams.iter().map(|s| s.first_frame)).fold(call.first_frame, u64::min),
                        (streams.iter().map(|s| s.last_frame)).fold(call.last_frame, u64::max),
                    ),
                ),
            ])),
        );
    }
    // Softphone media validated by STUN, outside SIP calls. A stream still going on when
    // RTP streams stopped being tracked (a table limit, CAP006) is not judged: its reverse
    // stream may be one that was left out.
    let cut = media.media_cut_from();
    for s in media.judged_rtp() {
        if s.call_id.is_some()
            || s.recognised_by != "stun"
            || s.packets < MIN_PACKETS
            || cut.is_some_and(|cut| s.last_frame >= cut)
            || covered.contains(&(s.src, s.dst))
            || media
                .rtp
                .iter()
                .any(|r| r.src.ip() == s.dst.ip() && r.dst.ip() == s.src.ip())
        {
            continue;
        }
        let (from, to) = (media.side(s.src), media.side(s.dst));
        let message = format!(
            "RTP flows from the {from} {} to the {to} {} ({} packets, frames {}-{}) on a pair STUN validated, but no RTP comes back from {}. The {from} hears nothing: the {to} does not send (check its audio device and media settings) or its packets are dropped on the way back (a firewall in front of the {from} that lets UDP only out).",
            s.src, s.dst, s.packets, s.first_frame, s.last_frame, s.dst
        );
        out.push(
            Finding::new(
                &INFO,
                format!(
                    "One-way audio: RTP {} → {} without a reverse stream",
                    s.src, s.dst
                ),
                message,
            )
            .frames([s.first_frame, s.last_frame])
            .evidence(json!({
                "src": s.src.to_string(), "dst": s.dst.to_string(), "ssrc": s.ssrc_hex(),
                "packets": s.packets, "first_frame": s.first_frame, "last_frame": s.last_frame,
            }))
            .filter(flow_filter(s.src, s.dst)),
        );
    }
    out
}

fn join(addrs: &[SocketAddr]) -> String {
    addrs
        .iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::MediaTracker;
    use crate::media::testing::*;

    #[test]
    fn stun_validated_pair_with_rtp_one_way() {
        let mut t = MediaTracker::default();
        answered_check(&mut t, 1, 0, "10.1.0.5:50000", "10.0.0.5:30010", 1);
        rtp_stream(&mut t, "10.1.0.5:50000", "10.0.0.5:30010", 7, 10, 30);
        let f = findings(&t.finish(), &[]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].frames, vec![10, 39]);
        assert_eq!(
            f[0].wireshark_filter,
            "(ip.src == 10.1.0.5 && udp.srcport == 50000 && ip.dst == 10.0.0.5 && udp.dstport == 30010)"
        );
        assert!(
            f[0].message
                .contains("from the client 10.1.0.5:50000 to the server 10.0.0.5:30010"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn reverse_rtp_from_another_port_counts() {
        let mut t = MediaTracker::default();
        answered_check(&mut t, 1, 0, "10.1.0.5:50000", "10.0.0.5:30010", 1);
        t.datagram(&dgram(
            3,
            2,
            "10.0.0.5:30012",
            "10.1.0.5:50000",
            &check(2, "C:S"),
        ));
        rtp_stream(&mut t, "10.1.0.5:50000", "10.0.0.5:30010", 7, 10, 30);
        rtp_stream(&mut t, "10.0.0.5:30012", "10.1.0.5:50000", 8, 100, 30);
        assert!(findings(&t.finish(), &[]).is_empty());
    }

    #[test]
    fn short_streams_are_not_judged() {
        let mut t = MediaTracker::default();
        t.datagram(&dgram(
            1,
            0,
            "10.1.0.5:50000",
            "10.0.0.5:30010",
            &check(1, "S:C"),
        ));
        rtp_stream(&mut t, "10.1.0.5:50000", "10.0.0.5:30010", 7, 10, 10);
        assert!(findings(&t.finish(), &[]).is_empty());
    }
}
