//! CAP005 sip-fragmented: SIP over UDP that arrived in several IP fragments.
//!
//! Input: each capture's [`FragmentedSip`](crate::sip::extract::FragmentedSip) flows, found
//! while framing (a UDP datagram rebuilt from more than one frame). Output: one warning per
//! flow with the message count, the largest message's size, kind and fragment frames
//! (its message quotes them as the capture it names numbers them; its `frames` are the
//! numbers of the read, merged when several files are).
//!
//! Severity warning, not info: RFC 3261 §18.1.1 says a request within 200 bytes of the path
//! MTU (or above 1300 bytes when the MTU is unknown) MUST go over a congestion-controlled
//! transport such as TCP, and fragments are what firewalls, NAT and SBCs drop first; the
//! capture point saw them arrive, the far end may not.

use serde_json::json;

use super::followme::cite;
use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Scope, Severity};

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "CAP005",
    slug: "sip-fragmented",
    severity: Severity::Warning,
    summary: "SIP messages over UDP arrived in several IP fragments",
    doc: RuleDoc {
        what: "A SIP message sent over UDP was larger than the path MTU, so IP split it into fragments; sipdiag rebuilt it from several frames. Reported per flow with the number of such messages and the largest one's size and fragments.",
        why: "Only the first fragment carries the UDP ports: firewalls, NAT routers and SBCs often drop fragments (or the whole datagram when one is lost), so exactly the large messages (an INVITE with many codecs or ICE candidates, a REGISTER with long headers) vanish while small ones pass. RFC 3261 §18.1.1 requires TCP for requests within 200 bytes of the path MTU.",
        fix: "Make the messages smaller (offer fewer codecs, drop unneeded headers, ICE candidates or body parts) or switch this trunk or device to SIP over TCP (or TLS); check that every firewall/SBC on the path reassembles or passes IP fragments.",
        example: "1 SIP message over UDP 192.0.2.10:5060 → 192.0.2.20:5060 arrived in IP fragments; the largest, INVITE of 1972 bytes, in 2 fragments (frames 1, 2)",
    },
};

impl Rule for R {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn scope(&self) -> Scope {
        Scope::Capture
    }

    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        for c in cx.captures {
            for f in &c.sip_fragmented {
                let mut frames = f.largest_frames.clone();
                frames.extend(&f.frames);
                out.push(
                    Finding::new(
                        &INFO,
                        format!("SIP over UDP fragmented ({} → {})", f.src, f.dst),
                        format!(
                            "{}: {} SIP message(s) over UDP from {} to {} were larger than the path MTU and arrived in several IP fragments; the largest, {} of {} bytes, came in {} fragments ({}). Firewalls, NAT routers and SBCs often drop IP fragments, so such messages can be lost on the way while small ones pass. Make the messages smaller (fewer codecs, fewer headers or body parts) or use SIP over TCP for this connection (RFC 3261 §18.1.1).",
                            c.path,
                            f.messages,
                            f.src,
                            f.dst,
                            f.largest_kind,
                            f.largest_bytes,
                            f.largest_frames.len(),
                            cite(&f.largest_shown),
                        ),
                    )
                    .capture(&c.path)
                    .frames(frames)
                    .evidence(json!({
                        "capture": c.path,
                        "src": f.src.to_string(),
                        "dst": f.dst.to_string(),
                        "messages": f.messages,
                        "largest_bytes": f.largest_bytes,
                        "largest_kind": f.largest_kind,
                        "fragments": f.largest_frames.len(),
                        "fragment_frames": f.largest_frames,
                        "message_frames": f.frames,
                    })),
                );
            }
        }
        out
    }
}
