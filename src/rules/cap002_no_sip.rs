//! CAP002 no-sip: the capture holds no SIP message at all.

use serde_json::json;

use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Scope, Severity};

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "CAP002",
    slug: "no-sip",
    severity: Severity::Error,
    summary: "No SIP message in the capture",
    doc: RuleDoc {
        what: "Not one SIP request or response was found, on any port, over UDP, TCP, SCTP or WebSocket, and no TLS connection that carries signalling (that is CAP003).",
        why: "Without signalling nothing about the call can be diagnosed: the capture was taken on the wrong interface or host, with a filter that excluded SIP, or the signalling is encrypted.",
        fix: "Capture on the XCC server (or the PBX) on the interface facing the other party, without a port filter (`tcpdump -i any -s 0 -w file.pcap`), while reproducing the call. If the trunk uses TLS (port 5061), switch it to TCP/UDP for the test or capture decrypted traces.",
        example: "capture.pcap: 1200 frames, 0 SIP messages (TLS seen on 5061)",
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
        let total: u64 = cx.captures.iter().map(|c| c.sip_messages).sum();
        // A softphone capture carries its signalling on the softphone port, not SIP.
        if total > 0 || cx.captures.is_empty() || !cx.media.softphone.is_empty() {
            return Vec::new();
        }
        // TLS on a signalling connection: the SIP is there, only encrypted; CAP003 says so
        // as the headline.
        if !super::cap003_signalling_encrypted::signalling_tls(cx).is_empty() {
            return Vec::new();
        }
        // Frames of a link type sipdiag cannot decode: name it and the frames skipped; a
        // port filter has nothing to do with it.
        let undecoded: Vec<Finding> = cx
            .captures
            .iter()
            .flat_map(|c| {
                c.anomalies
                    .iter()
                    .filter(|a| a.kind == "unknown-linktype")
                    .map(move |a| (c, a))
            })
            .map(|(c, a)| {
                Finding::new(
                    &INFO,
                    format!(
                        "No SIP decoded: {}",
                        a.message
                            .strip_suffix(", which sipdiag does not decode")
                            .map_or(a.message.clone(), |m| format!("{m} skipped"))
                    ),
                    format!(
                        "{}: {}, so no SIP could be read from them. This is not a filter problem: open the file in Wireshark; if it shows the SIP, save it as pcapng with an Ethernet or Linux cooked (SLL) link layer, or capture again with `tcpdump -i any -s 0 -w file.pcap`.",
                        c.path, a.message
                    ),
                )
                .capture(&c.path)
                .evidence(json!({"capture": c.path, "anomaly": a.kind, "frames_skipped": a.count, "detail": a.message}))
                .filter("frame")
            })
            .collect();
        if !undecoded.is_empty() {
            return undecoded;
        }
        let frames: u64 = cx.captures.iter().map(|c| c.frames).sum();
        let tls = cx
            .captures
            .iter()
            .flat_map(|c| &c.anomalies)
            .any(|a| a.kind == "tls");
        let mut hints = vec![
            "capture on the XCC server or the PBX, on the interface facing the other party"
                .to_string(),
            "do not filter by port (SIP may use 5060, 5080, 6060 or any other port)".to_string(),
        ];
        if tls {
            hints.insert(
                0,
                "TLS was seen, but not on a signalling port or between SIP hosts (HTTPS?)".into(),
            );
        }
        if frames == 0 {
            hints.insert(0, "the capture holds no packet at all".into());
        }
        vec![
            Finding::new(
                &INFO,
                "No SIP in the capture",
                format!(
                    "{} frame(s) read, but not one SIP message. Hints: {}.",
                    frames,
                    hints.join("; ")
                ),
            )
            .evidence(json!({"frames": frames, "tls_seen": tls, "hints": hints}))
            .filter("sip || tls"),
        ]
    }
}
