//! CAP001 capture-damaged: the file is truncated or packets are cut by snaplen where SIP was.

use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Scope, Severity};

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "CAP001",
    slug: "capture-damaged",
    severity: Severity::Warning,
    summary: "The capture file is truncated or corrupt, or SIP packets were cut by the snaplen",
    doc: RuleDoc {
        what: "Reading the file stopped early (the last record is incomplete, a record header is corrupt), SIP messages were captured shorter than they were sent (snaplen), or frames of a link type sipdiag does not decode were skipped beside frames that held SIP.",
        why: "Everything after the damage, and the cut-off part of each SIP message (late headers, SDP), is missing, so other findings may be incomplete or missing.",
        fix: "Capture again with `tcpdump -s 0 -w file.pcap` (full packets) and stop it with Ctrl-C so the file is closed cleanly; do not copy the file while it is being written.",
        example: "truncated: the file ends in the middle of a record after frame 5",
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
        let damaged = |kind: &str| {
            matches!(kind, "truncated" | "corrupt-record" | "read-error")
                .then_some("Capture file damaged")
        };
        let cut =
            |kind: &str| (kind == "sip-cut").then_some("SIP messages cut short by the snaplen");
        let mut out = super::followme::anomaly_findings(
            cx,
            &INFO,
            damaged,
            " Messages up to there were analysed; what follows is missing, so findings may be incomplete. Capture again with `tcpdump -s 0` and stop it cleanly.",
        );
        // Every frame was read, each only up to the snapshot length (pcap's snaplen): the
        // file is whole, the packets are not, so the advice is about the capture's settings.
        out.extend(super::followme::anomaly_findings(
            cx,
            &INFO,
            cut,
            " The capture was taken with a snapshot length shorter than these packets: every frame is in the file, only cut, so findings about these messages may be incomplete. Capture again with `tcpdump -s 0` (snapshot length 0 = whole packets; in Wireshark's capture options, no snaplen limit).",
        ));
        // Frames of a link type sipdiag does not decode, in a capture whose other frames
        // held SIP (several interfaces): say what was skipped. Without any SIP, CAP002
        // says it.
        out.extend(super::followme::anomaly_findings(
            cx,
            &INFO,
            |kind| {
                (kind == "unknown-linktype"
                    && cx.captures.iter().any(|c| c.sip_messages > 0))
                .then_some("Frames skipped: link type not decoded")
            },
            " Those frames were skipped, so calls on that interface may be missing; open the file in Wireshark to see whether they hold SIP.",
        ));
        out
    }
}
