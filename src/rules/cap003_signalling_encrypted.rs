//! CAP003 signalling-encrypted: TLS on a signalling flow.
//!
//! Input: the capture stage's `tls` anomalies (one per TCP direction that starts with TLS
//! records) and the calls (which hosts speak SIP in the clear). Output: one finding per
//! TLS connection (both directions together) that carries signalling: a SIP-TLS port
//! (5061, RFC 3261 §26.2 / RFC 5630), the softphone signalling port, or two hosts that
//! also exchange SIP in the clear. Other TLS (HTTPS, …) is not signalling and is left out.
//! When the capture holds no SIP in the clear, the finding is the headline (error): the
//! SIP is there, only encrypted, and CAP002 stays silent.

use std::collections::{BTreeMap, HashSet};
use std::net::{IpAddr, SocketAddr};

use serde_json::json;

use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Scope, Severity};
use crate::capture::Anomaly;

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "CAP003",
    slug: "signalling-encrypted",
    severity: Severity::Warning,
    summary: "Signalling is encrypted (TLS): nothing of it can be analysed",
    doc: RuleDoc {
        what: "A TCP connection that carries TLS records on a SIP-TLS port (5061), on the softphone signalling port, or between addresses that also exchange SIP in the clear; one finding per connection (both directions). HTTPS and other TLS between hosts that do not speak SIP is not reported. When the capture holds no SIP in the clear, this is the headline (error) instead of CAP002.",
        why: "The SIP messages inside are unreadable, so calls on that connection cannot be checked; a Follow-Me failure there stays invisible.",
        fix: "Capture where the signalling is in clear: on the XCC side of the trunk after TLS termination, or switch the SIP trunk between PBX and XCC to TCP or UDP for the test. Or give Wireshark the TLS key log of one endpoint (SSLKEYLOGFILE; Preferences → Protocols → TLS → (Pre)-Master-Secret log filename) to decrypt the capture.",
        example: "TLS on TCP 10.0.0.5:49822 ↔ 10.0.0.9:5061: 10 segments (10.0.0.5:49822 → 10.0.0.9:5061 (frames 4–80, 6 segments); 10.0.0.9:5061 → 10.0.0.5:49822 (frames 5–79, 4 segments))",
    },
};

/// A TLS connection that carries signalling: its two directions' anomalies.
pub(super) struct TlsSignalling<'a> {
    pub capture: &'a str,
    /// (client, server): the server is the end on the signalling port.
    pub ends: (SocketAddr, SocketAddr),
    pub directions: Vec<&'a Anomaly>,
}

/// The TLS connections of the captures that carry signalling, in capture and address order.
pub(super) fn signalling_tls<'a>(cx: &Context<'a>) -> Vec<TlsSignalling<'a>> {
    let softphone = cx
        .media
        .settings
        .as_ref()
        .map_or(2230, |s| s.softphone_port);
    let is_port = |p: u16| p == 5061 || p == softphone;
    // Built only when there is TLS to judge: most captures have none.
    let mut sip_hosts: Option<HashSet<IpAddr>> = None;
    let mut out = Vec::new();
    for c in cx.captures {
        let mut conns: BTreeMap<(SocketAddr, SocketAddr), Vec<&'a Anomaly>> = BTreeMap::new();
        for a in c.anomalies.iter().filter(|a| a.kind == "tls") {
            let Some((src, dst)) = a.flow else { continue };
            // Those of the calls given, and of the calls judged before them (a capture
            // judged as its calls end).
            let hosts = sip_hosts.get_or_insert_with(|| {
                (cx.calls.iter())
                    .flat_map(|c| c.messages.iter().flat_map(|m| [m.src.ip(), m.dst.ip()]))
                    .chain(cx.seen.sip_hosts.iter())
                    .collect()
            });
            if !(is_port(src.port())
                || is_port(dst.port())
                || (hosts.contains(&src.ip()) && hosts.contains(&dst.ip())))
            {
                continue;
            }
            // The server is the end on the signalling port, else the lower port.
            let ends = if is_port(src.port()) && !is_port(dst.port())
                || (!is_port(dst.port()) && src.port() < dst.port())
            {
                (dst, src)
            } else {
                (src, dst)
            };
            conns.entry(ends).or_default().push(a);
        }
        out.extend(conns.into_iter().map(|(ends, directions)| TlsSignalling {
            capture: &c.path,
            ends,
            directions,
        }));
    }
    out
}

/// "A → B (frames 1–8, 4 segments)" from the capture stage's anomaly text.
fn direction(a: &Anomaly) -> &str {
    a.message
        .strip_prefix("TLS on TCP ")
        .and_then(|m| m.strip_suffix(": encrypted, cannot be read"))
        .unwrap_or(&a.message)
}

impl Rule for R {
    fn info(&self) -> &'static RuleInfo {
        &INFO
    }

    fn scope(&self) -> Scope {
        Scope::Capture
    }

    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let clear_sip: u64 = cx.captures.iter().map(|c| c.sip_messages).sum();
        signalling_tls(cx)
            .into_iter()
            .map(|t| {
                let (client, server) = t.ends;
                let segments: u64 = t.directions.iter().map(|a| a.count).sum();
                let dirs: Vec<&str> = t.directions.iter().map(|a| direction(a)).collect();
                let mut f = Finding::new(
                    &INFO,
                    "Encrypted signalling",
                    format!(
                        "TLS on TCP {client} ↔ {server}: {segments} segments ({}), encrypted, cannot be read.{} Calls signalled on this connection cannot be diagnosed: capture on the XCC side of the trunk where the signalling is in clear (or switch the trunk to TCP/UDP for the test), or give Wireshark the endpoint's TLS key log (SSLKEYLOGFILE) to decrypt it.",
                        dirs.join("; "),
                        if clear_sip == 0 {
                            " The capture holds no SIP in the clear: the SIP is there, only encrypted."
                        } else {
                            ""
                        }
                    ),
                )
                .capture(t.capture)
                .frames(t.directions.iter().flat_map(|a| a.frames.iter().copied()))
                .evidence(json!({
                    "src": client.to_string(),
                    "dst": server.to_string(),
                    "client": client.to_string(),
                    "server": server.to_string(),
                    "segments": segments,
                    "directions": dirs,
                    "clear_sip_messages": clear_sip,
                }))
                .filter(format!(
                    "tcp.port == {} && tcp.port == {} && tls",
                    client.port(),
                    server.port()
                ));
                if clear_sip == 0 {
                    f.severity = Severity::Error;
                }
                f
            })
            .collect()
    }
}
