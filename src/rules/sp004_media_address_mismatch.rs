//! SP004 media-address-mismatch: media goes to (or comes from) an address the softphone
//! signalling never used, and nothing answers it.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::json;

use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Scope, Severity};
use crate::calls::Call;
use crate::media::MediaReport;
use crate::media::analysis::{frame_list, range_text};

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "SP004",
    slug: "media-address-mismatch",
    severity: Severity::Warning,
    summary: "Unanswered media between addresses the softphone signalling does not use (multi-homed server, VPN without UDP, unrouted softphone-to-softphone path)",
    doc: RuleDoc {
        what: "Compares the addresses of failed media with those of the softphone signalling (TCP port 2230). Reported when STUN checks or RTP from a signalling client go to an address that is neither the signalling server nor another signalling client, when the server checks the client at an address the client does not signal from, or when checks reach the server from such an address — and they stay unanswered (no success response, no RTP back, no successful check in the same ICE session). When a signalling client's media goes to an address in the server media range that no signalling uses, the server is multi-homed and announces an address its clients do not reach: the finding is then an error, the headline ahead of the unanswered checks (SP001) it explains, and names the address the server should announce.",
        why: "The softphone reaches the server on the address it signals to; media, however, goes wherever the candidates point. A server with several IP addresses may announce one that the client's network has no route to; a VPN may carry the signalling (TCP) but not the UDP media, or the client may announce its LAN address instead of its VPN address; softphone-to-softphone media needs a route between client networks. The call is signalled fine and stays silent.",
        fix: "Make the media address reachable: on a multi-homed XCC server, bind media to (or announce) the address the clients use for signalling, or add the routes between the networks; for VPN clients, let the VPN carry UDP to the server media range (30000-33000) and make the client announce its VPN address (VPN-less operation is not supported); for softphone-to-softphone calls, route the client networks to each other (UDP 49152-65535).",
        example: "Client 10.1.2.3:49200 sends 5 checks to 10.0.9.9:30010 (frames 10-14) while its signalling goes to 10.0.0.5:2230 (frame 4); 10.0.9.9 never answers",
    },
};

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

/// Which mismatch was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// A signalling client sends media to an address that is not a signalling server.
    ClientToOther,
    /// A signalling server checks the client at a non-signalling address.
    ServerToOther,
    /// Media reaches a signalling server from a non-signalling address.
    OtherToServer,
}

#[derive(Default)]
struct Seen {
    frames: Vec<u64>,
    pairs: Vec<(String, String)>,
    checks: usize,
    rtp_packets: u64,
    /// A multi-homed server: the media address is on the server side (server media
    /// port range); the address the client signals to, which the server should announce.
    announce: Option<IpAddr>,
}

pub(crate) fn findings(media: &MediaReport, _calls: &[Call]) -> Vec<Finding> {
    let servers = media.signalling_servers();
    let clients = media.signalling_clients();
    if servers.is_empty() {
        return Vec::new();
    }
    let known = |ip: IpAddr| servers.contains(&ip) || clients.contains(&ip);
    let classify = |src: IpAddr, dst: IpAddr| -> Option<(Kind, IpAddr, IpAddr)> {
        if clients.contains(&src) && !known(dst) {
            Some((Kind::ClientToOther, src, dst))
        } else if servers.contains(&src) && !known(dst) {
            Some((Kind::ServerToOther, src, dst))
        } else if servers.contains(&dst) && !known(src) {
            Some((Kind::OtherToServer, dst, src))
        } else {
            None
        }
    };
    let mut seen: BTreeMap<(Kind, IpAddr, IpAddr), Seen> = BTreeMap::new();
    for session in media.ice_sessions() {
        if session.sides.iter().any(|s| s.answered > 0) || session.rtp_both_ways(media) {
            continue;
        }
        for side in &session.sides {
            for &i in &side.checks {
                let t = &media.stun[i];
                let Some(key) = classify(t.src.ip(), t.dst.ip()) else {
                    continue;
                };
                let s = seen.entry(key).or_default();
                s.announce = s.announce.or(media.multihomed_server(t.src, t.dst));
                s.frames.extend(t.request_frames());
                s.checks += 1 + t.retransmission_frames.len();
                let pair = (t.src.to_string(), t.dst.to_string());
                if !s.pairs.contains(&pair) {
                    s.pairs.push(pair);
                }
            }
        }
    }
    // RTP that gets nothing back.
    for r in media.judged_rtp() {
        if media.rtp_packets(r.dst, r.src) > 0 {
            continue;
        }
        let Some(key) = classify(r.src.ip(), r.dst.ip()) else {
            continue;
        };
        let s = seen.entry(key).or_default();
        s.announce = s.announce.or(media.multihomed_server(r.src, r.dst));
        s.frames.extend([r.first_frame, r.last_frame]);
        s.rtp_packets += r.packets;
        let pair = (r.src.to_string(), r.dst.to_string());
        if !s.pairs.contains(&pair) {
            s.pairs.push(pair);
        }
    }
    let mut out = Vec::new();
    for ((kind, ours, other), s) in seen {
        // The signalling flow that names the expected address.
        let Some(sig) = media
            .softphone
            .iter()
            .find(|f| f.client.ip() == ours || f.server.ip() == ours)
        else {
            continue;
        };
        let what = match (s.checks, s.rtp_packets) {
            (0, n) => format!("{n} RTP packet(s)"),
            (c, 0) => format!("{c} STUN check(s)"),
            (c, n) => format!("{c} STUN check(s) and {n} RTP packet(s)"),
        };
        let pairs = s
            .pairs
            .iter()
            .map(|(a, b)| format!("{a} → {b}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sig_text = format!(
            "the softphone signalling runs between {} and {} (from frame {})",
            sig.client, sig.server, sig.first_frame
        );
        let (title, message) = match kind {
            Kind::ClientToOther if let Some(server) = s.announce => (
                format!(
                    "Multi-homed server: client media goes to {other}, not to the signalling server {server}"
                ),
                format!(
                    "The client {ours} sends {what} to {other} ({pairs}; frames {}), on a port in the server media range {}, but {sig_text}, and {other} never answers. The server has several addresses and announces {other} for media, which the client's network does not reach; the unanswered checks (SP001) follow from this. To fix: make XCC announce {server}, the address the clients signal to, for media (bind its RTP/ICE range to {server}), or route {other} from the client networks.",
                    frame_list(&s.frames),
                    range_text(media.settings().server_ports)
                ),
            ),
            Kind::ClientToOther => (
                format!(
                    "Client media goes to {other}, not to the signalling server {}",
                    sig.server.ip()
                ),
                format!(
                    "The client {ours} sends {what} to {other} ({pairs}; frames {}), but {sig_text}, and {other} never answers. Either the server has several addresses and announces one the client's network has no route to (route between the networks, or make XCC announce {} for media), or this is softphone-to-softphone media and the two client networks are not routed to each other.",
                    frame_list(&s.frames),
                    sig.server.ip()
                ),
            ),
            Kind::ServerToOther => (
                format!(
                    "Server checks the client at {other}, an address the client does not signal from"
                ),
                format!(
                    "The server {ours} sends {what} to {other} ({pairs}; frames {}), but {sig_text}: the client's media address lies in a network the server does not reach, and nothing answers. Typically the client announces its LAN address while only its VPN carries the signalling, or the VPN carries TCP but not UDP. Let the VPN carry UDP to the server's media range and make the softphone use its VPN address {}.",
                    frame_list(&s.frames),
                    sig.client.ip()
                ),
            ),
            Kind::OtherToServer => (
                format!(
                    "Media reaches the server from {other}, an address the client does not signal from"
                ),
                format!(
                    "The server {ours} receives {what} from {other} ({pairs}; frames {}) and none is answered, while {sig_text}. The client sends media from a network not seen in signalling (VPN split tunnelling, a second interface): route its UDP over the same path as the signalling.",
                    frame_list(&s.frames)
                ),
            ),
        };
        let mut frames = s.frames.clone();
        frames.push(sig.first_frame);
        let mut f = Finding::new(&INFO, title, message);
        if let Some(server) = s.announce {
            // The cause of the silence, and of SP001 on the same checks: the headline.
            f.severity = Severity::Error;
            f = f.suggestion(json!({
                "announce": server.to_string(),
                "instead_of": other.to_string(),
            }));
        }
        out.push(
            f
                .frames(frames)
                .evidence(json!({
                    "kind": format!("{kind:?}"),
                    "signalling": {"client": sig.client.to_string(), "server": sig.server.to_string(), "first_frame": sig.first_frame},
                    "media_address": other.to_string(),
                    "pairs": s.pairs.iter().map(|(a, b)| json!({"src": a, "dst": b})).collect::<Vec<_>>(),
                    "stun_checks": s.checks,
                    "rtp_packets": s.rtp_packets,
                    "multihomed_server": s.announce.map(|a| a.to_string()),
                })),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::MediaTracker;
    use crate::media::testing::*;

    #[test]
    fn server_checks_a_client_address_not_used_for_signalling() {
        // Signalling over the VPN address 10.8.0.5, the server checks the LAN address.
        let mut t = MediaTracker::default();
        signalling(&mut t, "10.8.0.5:41000", "10.0.0.5:2230", 4);
        for i in 0..3 {
            t.datagram(&dgram(
                10 + i,
                100 * i as u32,
                "10.0.0.5:30010",
                "192.168.1.20:50000",
                &check(1, "C:S"),
            ));
        }
        let f = findings(&t.finish(), &[]);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].title.contains("192.168.1.20"), "{}", f[0].title);
        assert!(f[0].message.contains("VPN"), "{}", f[0].message);
        assert_eq!(f[0].frames, vec![4, 10, 11, 12]);
        assert_eq!(f[0].evidence["kind"], "ServerToOther");
    }

    #[test]
    fn answered_media_to_another_address_is_fine() {
        let mut t = MediaTracker::default();
        signalling(&mut t, "10.8.0.5:41000", "10.0.0.5:2230", 4);
        answered_check(&mut t, 10, 0, "10.8.0.5:50000", "10.0.0.9:30010", 1);
        assert!(findings(&t.finish(), &[]).is_empty());
    }

    #[test]
    fn nothing_without_softphone_signalling() {
        let mut t = MediaTracker::default();
        for i in 0..3 {
            t.datagram(&dgram(
                10 + i,
                100 * i as u32,
                "10.0.0.5:30010",
                "192.168.1.20:50000",
                &check(1, "C:S"),
            ));
        }
        assert!(findings(&t.finish(), &[]).is_empty());
    }
}
