//! SP003 media-missing: a call was signalled, but no STUN or RTP appears at all.

use std::net::SocketAddr;

use serde_json::json;

use super::followme::call_filter;
use super::{Context, Finding, Rule, RuleDoc, RuleInfo, Scope, Severity};
use super::{any_of, udp_between};
use crate::calls::Call;
use crate::media::MediaReport;
use crate::media::analysis::{
    EstablishedCall, active_media, call_sdps, frame_list, ip_filter, range_text,
};

pub struct R;
pub static RULE: R = R;

static INFO: RuleInfo = RuleInfo {
    id: "SP003",
    slug: "media-missing",
    severity: Severity::Error,
    summary: "A call was signalled (softphone port, or SIP INVITE/200 with SDP) but no STUN or RTP appears on its media ports",
    doc: RuleDoc {
        what: "Two cases. Softphone: a signalling connection on the softphone TCP port (2230) carried data both ways, but the capture holds no STUN and no RTP to or from the client's or the server's address. SIP: an INVITE was answered 2xx with SDP on both sides, but not a single datagram reached or left any audio address the SDP announced (any media address when it announced no audio); when the call's other media (video) did flow, the finding says so and is about the missing audio. Severity error; warning for a SIP call shorter than 1 s (it may have ended before media started). When the capture holds no UDP besides SIP at all, the silent SIP calls of at least 1 s are reported together in one warning (the capture may have been filtered to signalling), shorter ones not at all.",
        why: "Signalling and media take different paths: the call can be set up over port 2230 or 5060 while every media packet is dropped, so the user hears nothing. When not even the ICE checks appear, the media path is blocked before the first packet (firewall on the sending host, or a route that sends UDP elsewhere) — or the capture does not see the media interface.",
        fix: "First make sure the capture includes UDP (no `port 2230`/`port 5060` capture filter; capture on the interface that carries media). Then check the sending side: the client's Windows firewall must let the softphone send and receive UDP 49152-65535, the server side must accept UDP 30000-33000, and a VPN must carry UDP, not only TCP. For SIP calls, the SDP addresses must be reachable from the other party (no private address across NAT without an SBC).",
        example: "Softphone signalling 10.1.2.3:41230 ↔ 10.0.0.5:2230 (frames 4-14), but no STUN or RTP from 10.1.2.3 or 10.0.0.5",
    },
};

/// SIP calls shorter than this (2xx to BYE) may end before media starts.
pub(crate) const SHORT_CALL_SECS: f64 = 1.0;

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

/// The key of a finding's evidence that quotes the capture's UDP datagrams (besides SIP):
/// a call judged before the capture was read to its end quotes the count so far, and the
/// report gives the final one ([`set_udp_in_capture`]).
pub const UDP_IN_CAPTURE: &str = "udp_datagrams_in_capture";

/// Sets the capture's UDP count in a finding's evidence, where it quotes one.
pub fn set_udp_in_capture(evidence: &mut serde_json::Value, udp: u64) {
    if let Some(e) = evidence.get_mut(UDP_IN_CAPTURE) {
        *e = udp.into();
    }
}

pub(crate) fn findings(media: &MediaReport, calls: &[Call]) -> Vec<Finding> {
    let settings = media.settings();
    let mut out = Vec::new();
    let no_udp = media.udp_datagrams == 0;
    for s in &media.softphone {
        if s.client_bytes == 0 || s.server_bytes == 0 {
            continue;
        }
        if media.has_media_of(s.client.ip()) || media.has_media_of(s.server.ip()) {
            continue;
        }
        let title = format!(
            "Softphone signalling {} ↔ {} without any media",
            s.client, s.server
        );
        let message = format!(
            "The softphone connection {} ↔ {} carried data both ways (frames {}), but the capture holds no STUN check and no RTP from or to the client {} or the server {}{}. The media path never started: a firewall drops the client's UDP (Windows firewall: UDP {} for the softphone), the server side does not accept UDP {} (hardware firewall in the server network), or a VPN carries only TCP. If the capture was filtered to port {} or taken on an interface without media, capture again with UDP.",
            s.client,
            s.server,
            frame_list(&s.frames),
            s.client.ip(),
            s.server.ip(),
            if no_udp {
                " (it holds no non-SIP UDP at all)"
            } else {
                ""
            },
            range_text(settings.client_ports),
            range_text(settings.server_ports),
            settings.softphone_port,
        );
        out.push(
            Finding::new(&INFO, title, message)
                .frames(s.frames.iter().copied())
                .evidence(json!({
                    "signalling": {
                        "client": s.client.to_string(),
                        "server": s.server.to_string(),
                        "first_frame": s.first_frame,
                        "last_frame": s.last_frame,
                        "client_bytes": s.client_bytes,
                        "server_bytes": s.server_bytes,
                    },
                    "stun_transactions": media.stun.len(),
                    "rtp_streams": media.rtp.len(),
                    "udp_datagrams": media.udp_datagrams,
                }))
                .filter(format!(
                    "tcp.port == {} || {} || {}",
                    settings.softphone_port,
                    ip_filter(s.client.ip()),
                    ip_filter(s.server.ip())
                )),
        );
    }
    let silent = silent_sip_calls(media, calls);
    if no_udp && !silent.is_empty() {
        // Nothing but signalling in the whole capture: one finding, not one per call.
        let mut calls: Vec<SilentCall<'_>> = (silent.iter())
            .map(|(e, _)| SilentCall {
                call_id: &e.call.call_id,
                invite_frame: e.invite.request_frame,
                setup_frames: e.setup_frames(),
            })
            .collect();
        calls.sort_by_key(|c| c.invite_frame);
        let total = calls.len();
        calls.truncate(LISTED_SILENT_CALLS);
        out.push(no_media_in_capture(&calls, total));
        return out;
    }
    for (e, addrs) in silent {
        let call = e.call;
        // The call's other media (video beside silent audio) may have flowed: then it is
        // the audio that is missing, not all media.
        let others = other_media(media, &e, &addrs);
        let flowing: u64 = others.iter().map(|o| o.1).sum();
        let title = if flowing > 0 {
            format!("Call {} answered, but no audio", call.call_id)
        } else {
            format!("Call {} answered, but no media at all", call.call_id)
        };
        let mut f = Finding::new(&INFO, title, String::new());
        let short = e.duration < SHORT_CALL_SECS;
        if short {
            f.severity = Severity::Warning;
        }
        let besides = if flowing > 0 {
            format!(
                " Its other media did flow: {}.",
                (others.iter().filter(|o| o.1 > 0))
                    .map(|(kind, packets, addr)| format!(
                        "{packets} {kind} RTP packet(s) at {addr}"
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            String::new()
        };
        f.message = format!(
            "The INVITE (frame {}) was answered {} (frame {}) with SDP on both sides — {} at {} (offer) and {} (answer) — but no datagram reached or left these addresses {}, although the capture holds other UDP.{besides} {}Check that the announced addresses are reachable from the other party (private address behind NAT, missing SBC/ALG), and that firewalls on both sides let this UDP through.",
            e.invite.request_frame,
            e.invite.final_status.unwrap_or(200),
            e.invite.final_frame.unwrap_or(0),
            if flowing > 0 { "audio" } else { "media" },
            join(&e.offer_addrs),
            join(&e.answer_addrs),
            match call.bye_frame {
                Some(_) => format!("during the {:.1} s of the call", e.duration),
                None => format!(
                    "in the {:.1} s from the answer to the call's last message (the capture holds no BYE)",
                    e.duration
                ),
            },
            if short && flowing == 0 {
                "The call was shorter than 1 s and may have ended before media started. "
            } else {
                ""
            }
        );
        // The call's signalling (the cited INVITE, answer and ACK) and the media addresses
        // while it lasted (an empty view of them is the proof).
        let filter = any_of(&[
            call_filter(&[&call.call_id]),
            udp_between(&addrs, (call.first_frame, call.last_frame)),
        ]);
        f = f
            .call(&call.call_id)
            .frames(e.setup_frames())
            .evidence(json!({
                "offer": e.offer_addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
                "answer": e.answer_addrs.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
                "duration_s": duration_s(&e),
                UDP_IN_CAPTURE: media.udp_datagrams,
                "other_media": others.iter().map(|(kind, packets, addr)| json!({
                    "kind": kind, "addr": addr.to_string(), "rtp_packets": packets,
                })).collect::<Vec<_>>(),
            }))
            .filter(filter);
        out.push(f);
    }
    out
}

/// The SIP calls of `calls` set up with SDP both ways whose audio addresses (any media
/// address when they announced no audio) saw nothing at all, each with those addresses;
/// in a capture without UDP besides SIP, only those that lasted [`SHORT_CALL_SECS`].
pub(crate) fn silent_sip_calls<'c>(
    media: &MediaReport,
    calls: &'c [Call],
) -> Vec<(EstablishedCall<'c>, Vec<SocketAddr>)> {
    let no_udp = media.udp_datagrams == 0;
    let mut silent: Vec<(EstablishedCall<'c>, Vec<SocketAddr>)> = Vec::new();
    // A call whose media was not tracked (a table limit, CAP006) is not judged: skipped
    // here rather than judged and dropped (at 1,000,000 calls, most of them).
    for call in media.judged_calls(calls) {
        let Some(e) = EstablishedCall::of(call) else {
            continue;
        };
        let addrs = e.all_addrs();
        // Traffic at these addresses while the call lasted: RTP whose stream overlaps the
        // call, or datagrams counted under the announcements made while it lasted (its
        // own, and a linked leg's announcing the same address; a datagram counts for the
        // latest announcement of its address). The same address announced by an earlier
        // or a later call (a PBX reusing its RTP ports) says nothing of this one.
        let during = call.first_frame..=call.last_frame;
        let traffic = addrs.iter().any(|a| {
            media
                .announced_at(*a)
                .any(|x| during.contains(&x.frame) && x.received + x.sent > 0)
                || e.streams_at(media, *a).next().is_some()
        });
        // In a capture without any UDP media, a call that lasted under a second says
        // nothing (it may have been torn down at once, e.g. for want of a codec).
        if !traffic && (!no_udp || e.duration >= SHORT_CALL_SECS) {
            silent.push((e, addrs));
        }
    }
    silent
}

/// The call's duration as a finding's evidence gives it (`duration_s`), to the ms.
pub(crate) fn duration_s(e: &EstablishedCall<'_>) -> f64 {
    (e.duration * 1000.0).round() / 1000.0
}

/// The call's media sections other than those judged (`judged`: its audio): each one's
/// kind, the RTP packets that reached or left its address while the call lasted, and the
/// address; in the order of the call's SDPs, each address once.
fn other_media(
    media: &MediaReport,
    e: &EstablishedCall<'_>,
    judged: &[SocketAddr],
) -> Vec<(String, u64, SocketAddr)> {
    let mut out: Vec<(String, u64, SocketAddr)> = Vec::new();
    for (m, addr) in call_sdps(e.call).flat_map(active_media) {
        if judged.contains(&addr) || out.iter().any(|o| o.2 == addr) {
            continue;
        }
        let packets = e.streams_at(media, addr).map(|s| s.packets).sum();
        out.push((m.kind.to_string(), packets, addr));
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

/// An answered call that saw no media, as the finding on a capture without any UDP
/// names it.
pub(crate) struct SilentCall<'a> {
    pub(crate) call_id: &'a str,
    pub(crate) invite_frame: u64,
    /// The INVITE's, its answer's and the ACK's.
    pub(crate) setup_frames: Vec<u64>,
}

/// Calls the finding on a capture without media lists in its evidence: the first in
/// capture order. Past them the calls are counted, not listed (`calls_truncated`), so
/// that a capture filtered to signalling holds a bounded list whatever its size.
pub(crate) const LISTED_SILENT_CALLS: usize = 1000;

/// The one finding on `total` answered calls in a capture that holds no UDP besides SIP;
/// `silent` lists the first of them in capture order (at least one, at most
/// [`LISTED_SILENT_CALLS`]).
pub(crate) fn no_media_in_capture(silent: &[SilentCall<'_>], total: usize) -> Finding {
    let mut f = Finding::new(
        &INFO,
        format!("{total} answered call(s) and no media in the capture at all"),
        format!(
            "{} call(s) were answered with SDP on both sides ({}), but the capture holds no UDP besides SIP: no RTP, no STUN. Most likely it was filtered to signalling (e.g. `port 5060`) or taken where media does not pass; capture again including UDP to judge the media. If it was taken on the media path, the media is blocked before it: check the firewalls for the SDP addresses.",
            total,
            silent
                .iter()
                .take(5)
                .map(|c| format!("{} (INVITE frame {})", c.call_id, c.invite_frame))
                .chain((total > 5).then(|| "…".to_string()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    f.severity = Severity::Warning;
    let frames: Vec<u64> = (silent.iter().take(20))
        .flat_map(|c| c.setup_frames.iter().copied())
        .collect();
    f = f.frames(frames).evidence(json!({
        "calls": silent.iter().map(|c| c.call_id).collect::<Vec<_>>(),
        UDP_IN_CAPTURE: 0,
    }));
    if total > silent.len() {
        f.evidence["calls_truncated"] = true.into();
    }
    if let ([only], 1) = (silent, total) {
        f = f.call(only.call_id);
    }
    f
}
