//! SP002 ice-one-way: one party's connectivity checks are answered, the other's are not.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use serde_json::json;

use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Scope, Severity};
use crate::calls::Call;
use crate::media::MediaReport;
use crate::media::Side;
use crate::media::analysis::{
    capitalise, check_evidence, firewall_hint, frame_list, open_advice, pair_list, ports_for,
};

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "SP002",
    slug: "ice-one-way",
    severity: Severity::Error,
    summary: "ICE checks get through in one direction only: one side's STUN requests are answered, the other side's are not (or it sends none)",
    doc: RuleDoc {
        what: "Among the ICE connectivity checks of one ufrag pair, the checks of one party are answered with success responses while the other party's checks (at least two requests, retransmissions included) never are; or only one party sends checks at all while its own checks are answered persistently (three or more transactions) and no RTP flows. Not reported when RTP flows both ways between the two parties. Each unanswered port pair is named with its own requests and frames; the firewall advice is given once per address that does not answer, listing its port pairs.",
        why: "ICE needs a working path in both directions: a check only succeeds for the party whose request came back, and the call's media is nominated only when both ends have a valid pair. A firewall that lets UDP pass one way (or only as a reply to the other side's own packets) leaves the call without audio, typically failing after the ICE timeout.",
        fix: "Open the direction that fails: the unanswered checks name the receiving side and port. For the client, allow the softphone inbound on UDP 49152-65535 in the Windows firewall (checks from the server to the client fail); for the server, let UDP 30000-33000 in from the client networks on the hardware firewall in front of XCC (checks from the client fail). When one party sends no checks at all, its requests are blocked before the capture point: capture on that side, or check its outbound rules. (An ICE-lite server never sends checks; that alone is not an error when RTP then flows both ways.)",
        example: "The client's checks 10.1.2.3:49200 → 10.0.0.5:30010 are answered (frames 10/11), the server's checks 10.0.0.5:30010 → 10.1.2.3:49200 (frames 12, 15, 18, 21, 24) never are: the client's firewall drops inbound UDP",
    },
};

const MIN_REQUESTS: usize = 2;
/// Answered checks of one party that, without any check back or media, count as failure.
const MIN_ANSWERED_ALONE: usize = 3;

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
    let mut out = Vec::new();
    for session in media.ice_sessions() {
        let answered: Vec<usize> = (0..2).filter(|&i| session.sides[i].answered > 0).collect();
        let [ok] = answered[..] else {
            continue;
        };
        let bad = 1 - ok;
        let (good, silent) = (&session.sides[ok], &session.sides[bad]);
        let any_rtp = session.rtp_packets(media, 0) + session.rtp_packets(media, 1) > 0;
        if session.rtp_both_ways(media) {
            continue;
        }
        // An example of the working direction: its first answered check.
        let Some(sample) = good
            .checks
            .iter()
            .map(|&i| &media.stun[i])
            .find(|t| t.answered())
        else {
            continue;
        };
        let mut frames = vec![sample.request_frame];
        frames.extend(sample.response_frame);
        let ok_from = media.side(sample.src);
        let ok_to = media.side(sample.dst);
        let works = format!(
            "the {ok_from}'s checks {} → {} are answered ({} of {}, e.g. frames {} and {})",
            sample.src,
            sample.dst,
            good.answered,
            good.checks.len(),
            sample.request_frame,
            sample.response_frame.unwrap_or(0)
        );
        let (title, message, fix, evidence_checks);
        if silent.checks.is_empty() {
            // A few answered checks (keep-alives, an ICE-lite peer that never checks
            // back, a capture that ends before media) prove nothing; checks answered
            // again and again without any media do.
            if any_rtp || good.answered < MIN_ANSWERED_ALONE {
                continue;
            }
            title = format!(
                "Only {} sends ICE checks; {} never checks back",
                sample.src, sample.dst
            );
            fix = format!(
                "capture on the {ok_to} {} to see whether its checks leave it, and allow {} outbound there and inbound to {} in {}",
                sample.dst.ip(),
                ports_for(&settings, ok_to, sample.dst),
                sample.src,
                firewall_hint(ok_from, sample.src)
            );
            message = format!(
                "{}, but no check ever comes back from the {ok_to} {} and no RTP flows. Either its requests are blocked before they reach the capture point, or it is an ICE-lite agent that never nominated a pair. To fix: {fix}.",
                capitalise(&works),
                sample.dst
            );
            evidence_checks = vec![check_evidence(sample)];
        } else {
            let requests = silent.request_count(media);
            if requests < MIN_REQUESTS || silent.answered > 0 {
                continue;
            }
            let ts: Vec<_> = silent.checks.iter().map(|&i| &media.stun[i]).collect();
            let t0 = ts[0];
            // Each unanswered check on its own port pair: a party may check several.
            let mut pairs: Vec<(SocketAddr, SocketAddr)> = Vec::new();
            for t in &ts {
                if !pairs.contains(&(t.src, t.dst)) {
                    pairs.push((t.src, t.dst));
                }
            }
            let mut failed = Vec::new();
            let mut blocked: BTreeMap<(Side, IpAddr), Vec<(SocketAddr, SocketAddr)>> =
                BTreeMap::new();
            for &(src, dst) in &pairs {
                let of_pair: Vec<_> = ts.iter().filter(|t| t.src == src && t.dst == dst).collect();
                let (from, to) = (media.side(src), media.side(dst));
                let fr: Vec<u64> = of_pair.iter().flat_map(|t| t.request_frames()).collect();
                let errors = of_pair
                    .iter()
                    .filter(|t| t.response_class.is_some())
                    .count();
                failed.push(format!(
                    "{} check(s) from the {from} {src} to the {to} {dst} (frames {}) got {}",
                    fr.len(),
                    frame_list(&fr),
                    if errors > 0 {
                        format!("only error responses ({errors})")
                    } else {
                        "no response".to_string()
                    }
                ));
                blocked.entry((to, dst.ip())).or_default().push((src, dst));
                frames.extend(fr);
                for e in media.icmp_between(src, dst) {
                    frames.push(e.frame);
                }
            }
            // The firewall advice once per address that does not answer, with its pairs.
            fix = blocked
                .iter()
                .map(|(&(side, _), p)| open_advice(&settings, side, p))
                .collect::<Vec<_>>()
                .join("; and ");
            let to = media.side(t0.dst);
            title = if pairs.len() == 1 {
                format!(
                    "ICE checks from {} to {} are never answered, the reverse ones are",
                    t0.src, t0.dst
                )
            } else {
                format!(
                    "ICE checks on {} port pairs ({}) are never answered, the reverse ones are",
                    pairs.len(),
                    pair_list(&pairs)
                )
            };
            message = format!(
                "{}; but {}. UDP reaches the {to} only as a reply, or not at all. To fix: {fix}.",
                capitalise(&works),
                failed.join("; ")
            );
            evidence_checks = std::iter::once(sample)
                .chain(ts.iter().copied())
                .map(check_evidence)
                .collect();
        }
        let mut f = Finding::new(&INFO, title, message)
            .frames(frames)
            .evidence(json!({
                "ufrags": [good.ufrag, silent.ufrag],
                "answered_side": {"ufrag": good.ufrag, "answered": good.answered, "checks": good.checks.len()},
                "unanswered_side": {"ufrag": silent.ufrag, "checks": silent.checks.len()},
                "checks": evidence_checks,
            }))
            .suggestion(json!({ "open": [fix] }));
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

    /// `answered` client checks, each answered; the server never checks.
    fn lonely(answered: u8) -> MediaReport {
        let mut t = MediaTracker::default();
        for i in 0..answered {
            let f = 10 + 2 * u64::from(i);
            answered_check(
                &mut t,
                f,
                100 * u32::from(i),
                "10.1.0.5:50000",
                "10.0.0.5:30010",
                i,
            );
        }
        t.finish()
    }

    #[test]
    fn only_one_side_checking_needs_persistence() {
        assert!(findings(&lonely(1), &[]).is_empty());
        let f = findings(&lonely(3), &[]);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].title
                .starts_with("Only 10.1.0.5:50000 sends ICE checks"),
            "{}",
            f[0].title
        );
        assert_eq!(f[0].frames, vec![10, 11]);
    }

    #[test]
    fn each_unanswered_check_is_named_on_its_own_port_pair() {
        // The client's check is answered; the server checks the client's host and
        // server-reflexive candidates, neither answered.
        let mut t = MediaTracker::default();
        answered_check(&mut t, 1, 0, "10.1.0.5:50000", "10.0.0.5:30010", 1);
        for (i, dst) in ["10.1.0.5:50000", "203.0.113.7:61000"].iter().enumerate() {
            for k in 0..2u64 {
                let frame = 3 + 2 * k + i as u64;
                t.datagram(&dgram(
                    frame,
                    100 * frame as u32,
                    "10.0.0.5:30010",
                    dst,
                    &check(2 + i as u8, "C:S"),
                ));
            }
        }
        let f = findings(&t.finish(), &[]);
        assert_eq!(f.len(), 1);
        let m = &f[0].message;
        assert!(
            m.contains("2 check(s) from the server 10.0.0.5:30010 to the client 10.1.0.5:50000 (frames 3, 5) got no response"),
            "{m}"
        );
        assert!(
            m.contains("2 check(s) from the server 10.0.0.5:30010 to the client 203.0.113.7:61000 (frames 4, 6) got no response"),
            "{m}"
        );
        // One piece of advice per client address that does not answer, each with its pair.
        assert_eq!(m.matches("allow UDP 49152-65535").count(), 2, "{m}");
        assert!(
            m.contains("inbound to the client 203.0.113.7 from 10.0.0.5 (port pair 10.0.0.5:30010 → 203.0.113.7:61000)"),
            "{m}"
        );
        assert!(
            f[0].title.starts_with("ICE checks on 2 port pairs (10.0.0.5:30010 → 10.1.0.5:50000, 10.0.0.5:30010 → 203.0.113.7:61000)"),
            "{}",
            f[0].title
        );
        assert_eq!(f[0].frames, vec![1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn media_both_ways_clears_the_session() {
        // The client's check is answered, the server's three are not; RTP client → server.
        let one_way = || {
            let mut t = MediaTracker::default();
            answered_check(&mut t, 1, 0, "10.1.0.5:50000", "10.0.0.5:30010", 1);
            for i in 0..3 {
                t.datagram(&dgram(
                    3 + i,
                    100 * i as u32,
                    "10.0.0.5:30010",
                    "10.1.0.5:50000",
                    &check(2, "C:S"),
                ));
            }
            rtp_stream(&mut t, "10.1.0.5:50000", "10.0.0.5:30010", 1, 10, 30);
            t
        };
        assert_eq!(
            findings(&one_way().finish(), &[]).len(),
            1,
            "one-way RTP does not clear it"
        );
        let mut t = one_way();
        rtp_stream(&mut t, "10.0.0.5:30010", "10.1.0.5:50000", 2, 100, 30);
        assert!(findings(&t.finish(), &[]).is_empty());
    }
}
