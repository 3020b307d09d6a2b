//! SP001 ice-no-response: ICE connectivity checks that nobody answers.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use serde_json::json;

use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Scope, Severity};
use crate::calls::Call;
use crate::media::analysis::{capitalise, check_evidence, frame_list, open_advice};
use crate::media::{MediaReport, Side};

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "SP001",
    slug: "ice-no-response",
    severity: Severity::Error,
    summary: "STUN connectivity checks between the media ports of client and server get no response at all",
    doc: RuleDoc {
        what: "Groups the ICE connectivity checks (STUN Binding requests with a `receiver:sender` USERNAME) by ufrag pair and reports a session in which checks were sent (at least two requests, retransmissions included) but not one got a success response in either direction, and no RTP flows both ways between the two parties. Each port pair is named with its own checks; the firewall advice is given once per address that does not answer, listing its port pairs. When every unanswered check goes to a server address that no softphone signalling uses (a multi-homed server), SP004 names the cause: this finding then refers to it, at warning level.",
        why: "Before any audio flows, softphone and server (XCC) must reach each other's media ports with STUN. When no check is ever answered, UDP between the two media ranges is blocked (or routed into nowhere), and the call stays silent or is torn down although the signalling on port 2230 worked.",
        fix: "Let UDP through between the media ranges, in both directions: towards the server its RTP/ICE range (default 30000-33000; a hardware firewall in the server network is the usual culprit), towards the client its range (default 49152-65535; the Windows firewall on the client PC must allow the softphone). Checks that go to an address other than the signalling server (see SP004) need a route to that address. ICMP errors cited with the finding show who refused the packets.",
        example: "5 Binding requests from the client 10.1.2.3:49200 to the server 10.0.0.5:30010 (frames 10, 12, 14, 16, 18) and 5 from the server back (frames 11, 13, 15, 17, 19): none answered",
    },
};

/// At least this many requests (retransmissions included) before silence counts.
const MIN_REQUESTS: usize = 2;

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

pub(crate) fn findings(media: &MediaReport, _calls: &[Call]) -> Vec<Finding> {
    let settings = media.settings();
    let servers = media.signalling_servers();
    let clients = media.signalling_clients();
    let mut out = Vec::new();
    for session in media.ice_sessions() {
        let requests: usize = session.sides.iter().map(|s| s.request_count(media)).sum();
        if requests < MIN_REQUESTS
            || session.sides.iter().any(|s| s.answered > 0)
            || session.rtp_both_ways(media)
        {
            continue;
        }
        let mut frames = Vec::new();
        let mut lines = Vec::new();
        let mut checks = Vec::new();
        let mut icmp = Vec::new();
        // Unanswered port pairs by the address that did not answer: one firewall each.
        let mut blocked: BTreeMap<(Side, IpAddr), Vec<(SocketAddr, SocketAddr)>> = BTreeMap::new();
        // Pairs that go to a server address no signalling uses (SP004's cause), with the
        // address the server should announce instead.
        let mut multihomed: Vec<(SocketAddr, IpAddr)> = Vec::new();
        let mut pairs_total = 0;
        for side in session.sides.iter().filter(|s| !s.checks.is_empty()) {
            // Each port pair on its own: a session may check several candidate pairs.
            let mut pairs: Vec<(SocketAddr, SocketAddr)> = Vec::new();
            for &i in &side.checks {
                let p = (media.stun[i].src, media.stun[i].dst);
                if !pairs.contains(&p) {
                    pairs.push(p);
                }
            }
            for (src, dst) in pairs {
                pairs_total += 1;
                let ts: Vec<_> = side
                    .checks
                    .iter()
                    .map(|&i| &media.stun[i])
                    .filter(|t| t.src == src && t.dst == dst)
                    .collect();
                let (from, to) = (media.side(src), media.side(dst));
                let fr: Vec<u64> = ts.iter().flat_map(|t| t.request_frames()).collect();
                let errors = ts.iter().filter(|t| t.response_class.is_some()).count();
                lines.push(format!(
                    "{} Binding request(s) from the {from} {src} to the {to} {dst} (frames {}) got {}",
                    fr.len(),
                    frame_list(&fr),
                    if errors > 0 {
                        format!("only error responses ({errors})")
                    } else {
                        "no response".to_string()
                    }
                ));
                if let Some(server) = media.multihomed_server(src, dst) {
                    if !multihomed.iter().any(|(d, _)| d.ip() == dst.ip()) {
                        lines.push(format!(
                            "{} is a server address the softphone signalling does not use: the client signals to {server} (see SP004, the cause)",
                            dst.ip()
                        ));
                    }
                    multihomed.push((dst, server));
                } else if !servers.is_empty()
                    && !servers.contains(&dst.ip())
                    && !clients.contains(&dst.ip())
                {
                    lines.push(format!(
                        "{} is not an address the softphone signalling uses (see SP004)",
                        dst.ip()
                    ));
                }
                blocked.entry((to, dst.ip())).or_default().push((src, dst));
                for e in media.icmp_between(src, dst) {
                    frames.push(e.frame);
                    icmp.push(json!({
                        "frame": e.frame,
                        "reporter": e.reporter.to_string(),
                        "description": e.description,
                        "src": e.src.to_string(),
                        "dst": e.dst.to_string(),
                    }));
                    lines.push(format!(
                        "{} reported \"{}\" for {} → {} (frame {})",
                        e.reporter, e.description, e.src, e.dst, e.frame
                    ));
                }
                frames.extend(fr);
                checks.extend(ts.iter().map(|t| check_evidence(t)));
            }
        }
        let silent: Vec<&str> = session
            .sides
            .iter()
            .filter(|s| s.checks.is_empty())
            .map(|s| s.ufrag.as_str())
            .collect();
        if !silent.is_empty() {
            lines.push("the other party sent no checks that reached the capture point".to_string());
        }
        // The firewall advice, once per address that did not answer, listing its pairs.
        let fixes: Vec<String> = blocked
            .iter()
            .map(|(&(side, _), pairs)| open_advice(&settings, side, pairs))
            .collect();
        let a = &session.sides[0];
        let first = &media.stun[a
            .checks
            .first()
            .copied()
            .unwrap_or_else(|| session.sides[1].checks[0])];
        // Every unanswered pair goes to a server address the clients cannot reach: the
        // multi-homed server (SP004) is the cause and the headline; this is its symptom.
        let explained = !multihomed.is_empty() && multihomed.len() == pairs_total;
        let (title, message) = if explained {
            let mut announce: Vec<String> = multihomed.iter().map(|(_, s)| s.to_string()).collect();
            announce.dedup();
            let mut wrong: Vec<String> =
                multihomed.iter().map(|(d, _)| d.ip().to_string()).collect();
            wrong.dedup();
            (
                format!(
                    "No answer to ICE connectivity checks between {} and {}: a server address the client does not reach (see SP004)",
                    first.src, first.dst
                ),
                format!(
                    "{}. This follows from SP004: the server announces {} for media while the client reaches it at {}. To fix: make the server announce {} for media (SP004). Only if {} is meant to be reachable from the client: {}.",
                    capitalise(&lines.join("; ")),
                    wrong.join(", "),
                    announce.join(", "),
                    announce.join(", "),
                    wrong.join(", "),
                    fixes.join("; and ")
                ),
            )
        } else {
            (
                format!(
                    "No answer to ICE connectivity checks between {} and {}",
                    first.src, first.dst
                ),
                format!(
                    "{}. Media cannot start while UDP between the media ports is blocked. To fix: {}.",
                    capitalise(&lines.join("; ")),
                    fixes.join("; and ")
                ),
            )
        };
        let mut f = Finding::new(&INFO, title, message)
            .frames(frames)
            .evidence(json!({
                "ufrags": [session.sides[0].ufrag, session.sides[1].ufrag],
                "checks": checks,
                "icmp": icmp,
                "explained_by": if explained { Some("SP004") } else { None },
            }))
            .suggestion(json!({
                "open": fixes,
            }));
        if explained {
            f.severity = Severity::Warning;
        }
        if let Some(id) = session.call_id(media) {
            f = f.call(id);
        }
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::MediaTracker;
    use crate::media::testing::*;

    #[test]
    fn a_failed_pair_is_normal_when_another_pair_succeeds() {
        let mut t = MediaTracker::default();
        // Host candidate pair: two unanswered checks.
        t.datagram(&dgram(
            1,
            0,
            "192.168.1.5:50000",
            "10.0.0.5:30010",
            &check(1, "S:C"),
        ));
        t.datagram(&dgram(
            2,
            100,
            "192.168.1.5:50000",
            "10.0.0.5:30010",
            &check(1, "S:C"),
        ));
        // Server-reflexive pair of the same session: answered.
        answered_check(&mut t, 3, 120, "203.0.113.9:61000", "10.0.0.5:30010", 2);
        assert!(findings(&t.finish(), &[]).is_empty());
    }

    #[test]
    fn unanswered_checks_with_icmp_evidence() {
        let mut t = MediaTracker::default();
        t.datagram(&dgram(
            1,
            0,
            "10.1.0.5:50000",
            "10.0.0.5:30010",
            &check(1, "S:C"),
        ));
        t.datagram(&dgram(
            2,
            100,
            "10.1.0.5:50000",
            "10.0.0.5:30010",
            &check(1, "S:C"),
        ));
        t.icmp(&crate::net::IcmpError {
            frame: 3,
            time: crate::capture::Timestamp::new(1000, 0),
            reporter: "10.0.0.5".parse().unwrap(),
            src: addr("10.1.0.5:50000"),
            dst: addr("10.0.0.5:30010"),
            transport: crate::net::Transport::Udp,
            description: "port unreachable",
        });
        let f = findings(&t.finish(), &[]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].frames, vec![1, 2, 3]);
        assert!(
            f[0].message.contains("port unreachable"),
            "{}",
            f[0].message
        );
        assert!(f[0].message.contains("UDP 30000-33000"), "{}", f[0].message);
        assert_eq!(f[0].evidence["icmp"][0]["frame"], 3);
    }

    #[test]
    fn a_single_unanswered_request_is_not_enough() {
        let mut t = MediaTracker::default();
        t.datagram(&dgram(
            1,
            0,
            "10.1.0.5:50000",
            "10.0.0.5:30010",
            &check(1, "S:C"),
        ));
        assert!(findings(&t.finish(), &[]).is_empty());
    }

    #[test]
    fn plain_stun_without_username_is_not_an_ice_check() {
        let mut t = MediaTracker::default();
        let req = crate::media::testing::stun_msg(0x0001, 1, &[]);
        for i in 0..5 {
            t.datagram(&dgram(
                i,
                100 * i as u32,
                "10.1.0.5:50000",
                "198.51.100.1:3478",
                &req,
            ));
        }
        assert!(findings(&t.finish(), &[]).is_empty());
    }
}
