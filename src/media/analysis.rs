//! Views of a [`MediaReport`] that the SP rules share: which side an address is on,
//! ICE sessions built from the STUN checks, RTP between addresses, and the media of a
//! SIP call.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};

use serde::Serialize;

use super::{MediaReport, MediaSettings, RtpStream, StunTransaction, in_range};
use crate::calls::{Call, InviteTx};
use crate::capture::Timestamp;
use crate::sip::sdp::{Direction, Sdp};

/// Which end of the softphone media path an address belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Client,
    Server,
    Peer,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Client => "client",
            Side::Server => "server",
            Side::Peer => "peer",
        })
    }
}

/// One party of an ICE session: the checks it sent.
#[derive(Debug, Clone, Serialize)]
pub struct IceSide {
    /// Its ufrag (the part after the colon of the USERNAME it sends).
    pub ufrag: String,
    /// Addresses it sent checks from, and addresses the other party checked it at.
    pub addrs: Vec<SocketAddr>,
    /// Its checks: indexes into [`MediaReport::stun`].
    pub checks: Vec<usize>,
    /// Checks answered with a success response.
    pub answered: usize,
    /// Checks answered with an error response.
    pub errors: usize,
}

impl IceSide {
    /// Requests and their retransmissions.
    pub fn request_count(&self, report: &MediaReport) -> usize {
        self.checks
            .iter()
            .map(|&i| 1 + report.stun[i].retransmission_frames.len())
            .sum()
    }
}

/// The connectivity checks between two ICE agents (one ufrag pair).
#[derive(Debug, Clone, Serialize)]
pub struct IceSession {
    pub sides: [IceSide; 2],
}

impl IceSession {
    /// RTP packets from side `from` to the other side.
    pub fn rtp_packets(&self, report: &MediaReport, from: usize) -> u64 {
        let (a, b) = (&self.sides[from].addrs, &self.sides[1 - from].addrs);
        report
            .rtp
            .iter()
            .filter(|s| a.contains(&s.src) && b.contains(&s.dst))
            .map(|s| s.packets)
            .sum()
    }

    /// Media flows both ways: ICE evidently succeeded on some pair.
    pub fn rtp_both_ways(&self, report: &MediaReport) -> bool {
        self.rtp_packets(report, 0) > 0 && self.rtp_packets(report, 1) > 0
    }

    /// Every address of the session.
    pub fn addrs(&self) -> impl Iterator<Item = &SocketAddr> {
        self.sides[0].addrs.iter().chain(self.sides[1].addrs.iter())
    }

    /// The SIP call that announced any of the session's addresses.
    pub fn call_id<'a>(&self, report: &'a MediaReport) -> Option<&'a str> {
        report
            .announced
            .iter()
            .find(|a| self.addrs().any(|x| *x == a.addr))
            .map(|a| &*a.call_id)
    }
}

impl MediaReport {
    /// Server side: the IP of a softphone signalling server, or (without signalling) a
    /// port in the server media range; client side likewise; else `Peer`.
    pub fn side(&self, addr: SocketAddr) -> Side {
        let ip = addr.ip();
        let server = self.softphone.iter().any(|f| f.server.ip() == ip);
        let client = self.softphone.iter().any(|f| f.client.ip() == ip);
        match (server, client) {
            (true, false) => return Side::Server,
            (false, true) => return Side::Client,
            _ => {}
        }
        let s = self.settings();
        if in_range(addr.port(), s.server_ports) {
            Side::Server
        } else if in_range(addr.port(), s.client_ports) {
            Side::Client
        } else {
            Side::Peer
        }
    }

    /// IPs of softphone signalling servers / clients.
    pub fn signalling_servers(&self) -> Vec<IpAddr> {
        let mut v: Vec<IpAddr> = self.softphone.iter().map(|f| f.server.ip()).collect();
        v.sort();
        v.dedup();
        v
    }

    pub fn signalling_clients(&self) -> Vec<IpAddr> {
        let mut v: Vec<IpAddr> = self.softphone.iter().map(|f| f.client.ip()).collect();
        v.sort();
        v.dedup();
        v
    }

    /// A multi-homed server: `src`, a softphone signalling client, sends media to `dst`, an
    /// address on the server's side of the media path (a port in the server media range)
    /// that no softphone signalling uses. Returns the server address that client signals
    /// to, the one the server should announce for media.
    pub fn multihomed_server(&self, src: SocketAddr, dst: SocketAddr) -> Option<IpAddr> {
        let (servers, clients) = (self.signalling_servers(), self.signalling_clients());
        if !clients.contains(&src.ip())
            || servers.contains(&dst.ip())
            || clients.contains(&dst.ip())
            || !in_range(dst.port(), self.settings().server_ports)
        {
            return None;
        }
        self.softphone
            .iter()
            .find(|f| f.client.ip() == src.ip())
            .map(|f| f.server.ip())
    }

    /// RTP packets of recognised streams from `src` to `dst`.
    pub fn rtp_packets(&self, src: SocketAddr, dst: SocketAddr) -> u64 {
        self.rtp
            .iter()
            .filter(|s| s.src == src && s.dst == dst)
            .map(|s| s.packets)
            .sum()
    }

    /// Whether any STUN or RTP involves `ip`.
    pub fn has_media_of(&self, ip: IpAddr) -> bool {
        self.stun
            .iter()
            .any(|t| t.src.ip() == ip || t.dst.ip() == ip)
            || self
                .rtp
                .iter()
                .any(|s| s.src.ip() == ip || s.dst.ip() == ip)
    }

    /// ICE checks (Binding requests with a `receiver:sender` USERNAME) grouped by ufrag
    /// pair, in order of the first check.
    pub fn ice_sessions(&self) -> Vec<IceSession> {
        let mut sessions: Vec<IceSession> = Vec::new();
        let mut index: BTreeMap<(String, String), usize> = BTreeMap::new();
        for (i, t) in self.stun.iter().enumerate() {
            if !t.is_ice_check() {
                continue;
            }
            let user = t.username.as_deref().unwrap_or("");
            let (to, from) = user.split_once(':').unwrap_or((user, ""));
            let key = if to <= from {
                (to.to_string(), from.to_string())
            } else {
                (from.to_string(), to.to_string())
            };
            let si = *index.entry(key).or_insert_with(|| {
                sessions.push(IceSession {
                    sides: [new_side(from), new_side(to)],
                });
                sessions.len() - 1
            });
            let s = &mut sessions[si];
            let me = usize::from(s.sides[0].ufrag != from);
            let side = &mut s.sides[me];
            side.checks.push(i);
            if t.answered() {
                side.answered += 1;
            } else if t.response_class.as_deref() == Some("error") {
                side.errors += 1;
            }
            push_unique(&mut side.addrs, t.src);
            push_unique(&mut s.sides[1 - me].addrs, t.dst);
        }
        sessions
    }

    /// ICMP errors about datagrams between `a` and `b` (either direction).
    pub fn icmp_between(&self, a: SocketAddr, b: SocketAddr) -> Vec<&crate::net::IcmpError> {
        self.icmp
            .iter()
            .filter(|e| (e.src == a && e.dst == b) || (e.src == b && e.dst == a))
            .collect()
    }
}

fn new_side(ufrag: &str) -> IceSide {
    IceSide {
        ufrag: ufrag.to_string(),
        addrs: Vec::new(),
        checks: Vec::new(),
        answered: 0,
        errors: 0,
    }
}

fn push_unique<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

/// The active media sections of an SDP (a port, a specified `c=` address), each with its
/// `c=`/`m=` address.
pub fn active_media(sdp: &Sdp) -> impl Iterator<Item = (&crate::sip::sdp::Media, SocketAddr)> {
    sdp.media.iter().filter_map(|m| {
        let ip = m
            .connection
            .filter(|c| m.port != 0 && !c.is_unspecified())?;
        Some((m, SocketAddr::new(ip, m.port)))
    })
}

/// The `c=`/`m=` addresses of the active audio (or, without audio, any) media of an SDP.
pub fn sdp_audio_addrs(sdp: &Sdp) -> Vec<SocketAddr> {
    audio_addrs(sdp).collect()
}

/// The audio (without audio: every) addresses of an SDP's active media, without a list.
fn audio_addrs(sdp: &Sdp) -> impl Iterator<Item = SocketAddr> + '_ {
    let audio = active_media(sdp).any(|(m, _)| m.kind == "audio");
    active_media(sdp)
        .filter(move |(m, _)| !audio || m.kind == "audio")
        .map(|(_, a)| a)
}

/// Every SDP a call's INVITE transactions exchanged, offers and answers (re-INVITEs move
/// media, e.g. a B2BUA handing over to direct media).
pub fn call_sdps(call: &Call) -> impl Iterator<Item = &Sdp> {
    (call.invites.iter()).flat_map(|t| t.offer.iter().chain(t.answer.iter()))
}

/// When the call's BYE was sent, if it was.
fn bye_time(call: &Call) -> Option<Timestamp> {
    (call.bye_frame)
        .and_then(|f| call.messages.iter().find(|m| m.frame == f))
        .map(|m| m.time)
}

/// Streams filed under another call's SDP that run between two addresses of `call`'s
/// SDP (any of its INVITE transactions) while it lasted: the legs of a B2BUA that
/// re-INVITEs them to direct media share one stream, filed under the leg whose SDP named
/// its address last. Looked up by address; nothing is built for a call whose addresses
/// carry only its own streams.
pub fn streams_of_other_sdp<'m>(call: &Call, media: &'m MediaReport) -> Vec<&'m RtpStream> {
    let named = |a: SocketAddr| call_sdps(call).flat_map(audio_addrs).any(|b| b == a);
    let mut out: Vec<&RtpStream> = Vec::new();
    // The call's end: its BYE, else (it may last to the end of the capture) none.
    let end = bye_time(call);
    for a in call_sdps(call).flat_map(audio_addrs) {
        for s in media.rtp_at(a) {
            // Cheapest first: a reused address carries the streams of many other calls.
            if s.src == a
                && s.last_time >= call.first_time
                && end.is_none_or(|e| s.first_time <= e)
                && s.call_id.as_deref() != Some(call.call_id.as_str())
                && named(s.dst)
                && !out.iter().any(|x| std::ptr::eq(*x, s))
            {
                out.push(s);
            }
        }
    }
    out
}

/// Whether the audio sections of an SDP (without audio: every section), those not
/// rejected (port 0), are `sendrecv`: a receive-only video offered beside two-way audio
/// does not make the audio one-way.
pub fn is_sendrecv(sdp: &Sdp) -> bool {
    let live = || sdp.media.iter().filter(|m| m.port != 0);
    let audio = live().any(|m| m.kind == "audio");
    live()
        .filter(|m| !audio || m.kind == "audio")
        .all(|m| m.direction == Direction::SendRecv)
}

/// A SIP call that was set up with media: an INVITE answered 2xx, with SDP both ways.
#[derive(Debug, Clone)]
pub struct EstablishedCall<'a> {
    pub call: &'a Call,
    pub invite: &'a InviteTx,
    pub offer: &'a Sdp,
    pub answer: &'a Sdp,
    /// Media addresses of the offerer (caller) and answerer.
    pub offer_addrs: Vec<SocketAddr>,
    pub answer_addrs: Vec<SocketAddr>,
    /// From the first 2xx to BYE (or the call's last message), seconds.
    pub duration: f64,
    /// From the INVITE of the current session to the BYE (without one, open-ended):
    /// when its media may flow.
    pub start: Timestamp,
    pub end: Timestamp,
}

impl<'a> EstablishedCall<'a> {
    /// The call's current media session: the last INVITE transaction (initial or
    /// re-INVITE) answered 2xx with an offer and an answer.
    pub fn of(call: &'a Call) -> Option<Self> {
        let negotiated = |t: &&InviteTx| {
            t.final_status.is_some_and(|s| (200..300).contains(&s))
                && t.offer.is_some()
                && t.answer.is_some()
        };
        let first = call.invites.iter().find(negotiated)?;
        let invite = call.invites.iter().rev().find(negotiated)?;
        let offer = invite.offer.as_ref()?;
        let answer = invite.answer.as_ref()?;
        let offer_addrs = sdp_audio_addrs(offer);
        let answer_addrs = sdp_audio_addrs(answer);
        if offer_addrs.is_empty() || answer_addrs.is_empty() {
            return None;
        }
        let answered = first.final_time.unwrap_or(first.request_time);
        let bye = bye_time(call);
        let end = bye.unwrap_or(call.last_time);
        Some(EstablishedCall {
            call,
            invite,
            offer,
            answer,
            offer_addrs,
            answer_addrs,
            duration: end.seconds_since(answered).max(0.0),
            start: invite.request_time,
            // Without a BYE the call may last to the end of the capture.
            end: bye.unwrap_or(Timestamp::new(i64::MAX / 2, 0)),
        })
    }

    /// Media addresses of every SDP the call's INVITE transactions exchanged
    /// ([`call_sdps`]).
    pub fn all_addrs(&self) -> Vec<SocketAddr> {
        let mut v: Vec<SocketAddr> = call_sdps(self.call).flat_map(audio_addrs).collect();
        v.sort();
        v.dedup();
        v
    }

    /// Every INVITE of the call kept its audio sendrecv (no hold, no one-way setup).
    pub fn sendrecv(&self) -> bool {
        self.call.invites.iter().all(|t| {
            t.offer.as_ref().is_none_or(is_sendrecv) && t.answer.as_ref().is_none_or(is_sendrecv)
        })
    }

    /// RTP packets of streams towards any of `addrs` that overlap the call in time.
    pub fn rtp_received(&self, media: &MediaReport, addrs: &[SocketAddr]) -> u64 {
        self.streams_to(media, addrs).map(|s| s.packets).sum()
    }

    /// Streams towards any of `addrs` that overlap the call in time.
    pub fn streams_to<'m>(
        &'m self,
        media: &'m MediaReport,
        addrs: &'m [SocketAddr],
    ) -> impl Iterator<Item = &'m RtpStream> + 'm {
        (addrs.iter()).flat_map(move |a| self.streams_at(media, *a).filter(move |s| s.dst == *a))
    }

    /// Streams to or from `addr` that overlap the call in time.
    pub fn streams_at<'m>(
        &'m self,
        media: &'m MediaReport,
        addr: SocketAddr,
    ) -> impl Iterator<Item = &'m RtpStream> + 'm {
        (media.rtp_at(addr)).filter(move |s| s.first_time <= self.end && s.last_time >= self.start)
    }

    /// Frames of the INVITE, its 2xx and the ACK.
    pub fn setup_frames(&self) -> Vec<u64> {
        let mut v = vec![self.invite.request_frame];
        v.extend(self.invite.final_frame);
        v.extend(self.invite.answer_frame);
        v.extend(self.invite.ack_frame);
        v
    }
}

/// `lo-hi` of a port range.
pub fn range_text((lo, hi): (u16, u16)) -> String {
    format!("{lo}-{hi}")
}

/// The UDP ports to open for traffic towards `addr`, by its side.
pub fn ports_for(settings: &MediaSettings, side: Side, addr: SocketAddr) -> String {
    match side {
        Side::Server => format!(
            "UDP {} (server media range; seen: {})",
            range_text(settings.server_ports),
            addr.port()
        ),
        Side::Client => format!(
            "UDP {} (client media range; seen: {})",
            range_text(settings.client_ports),
            addr.port()
        ),
        Side::Peer => format!("UDP {}", addr.port()),
    }
}

/// Port pairs as `a → b, c → d`.
pub fn pair_list(pairs: &[(SocketAddr, SocketAddr)]) -> String {
    pairs
        .iter()
        .map(|(a, b)| format!("{a} → {b}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Firewall advice for unanswered checks towards one address, said once for all the port
/// pairs that failed there: the range to open on its side, the sources, where that
/// firewall usually is, and the pairs seen.
pub fn open_advice(
    settings: &MediaSettings,
    side: Side,
    pairs: &[(SocketAddr, SocketAddr)],
) -> String {
    let Some(&(_, first)) = pairs.first() else {
        return String::new();
    };
    let mut ports: Vec<u16> = pairs.iter().map(|(_, d)| d.port()).collect();
    ports.sort_unstable();
    ports.dedup();
    let mut sources: Vec<IpAddr> = pairs.iter().map(|(s, _)| s.ip()).collect();
    sources.sort();
    sources.dedup();
    let range = match side {
        Side::Server => format!(
            "UDP {} (the server media range)",
            range_text(settings.server_ports)
        ),
        Side::Client => format!(
            "UDP {} (the client media range)",
            range_text(settings.client_ports)
        ),
        Side::Peer => format!(
            "UDP {}",
            ports
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    format!(
        "allow {range} inbound to the {side} {} from {} (port pair{} {}) in {}",
        first.ip(),
        sources
            .iter()
            .map(IpAddr::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        if pairs.len() == 1 { "" } else { "s" },
        pair_list(pairs),
        firewall_hint(side, first)
    )
}

/// Where the firewall to change usually is, by side.
pub fn firewall_hint(side: Side, addr: SocketAddr) -> String {
    match side {
        Side::Server => format!(
            "the firewall in front of the server {} (a hardware firewall in the server network, or the server's own Windows firewall)",
            addr.ip()
        ),
        Side::Client => format!(
            "the firewall of the client {} (Windows Defender Firewall: allow the softphone for inbound UDP, or a personal/endpoint firewall)",
            addr.ip()
        ),
        Side::Peer => format!("the firewall in front of {}", addr.ip()),
    }
}

/// A short description of a transaction for evidence.
pub fn check_evidence(t: &StunTransaction) -> serde_json::Value {
    serde_json::json!({
        "frame": t.request_frame,
        "src": t.src.to_string(),
        "dst": t.dst.to_string(),
        "transaction_id": t.transaction_id,
        "username": t.username,
        "retransmission_frames": t.retransmission_frames,
        "response_frame": t.response_frame,
        "response_class": t.response_class,
    })
}

/// Frames as `1, 2, 3` (at most 12, then `…`).
pub fn frame_list(frames: &[u64]) -> String {
    let mut v: Vec<u64> = frames.to_vec();
    v.sort_unstable();
    v.dedup();
    let mut s = v
        .iter()
        .take(12)
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if v.len() > 12 {
        s.push_str(&format!(", … ({} in all)", v.len()));
    }
    s
}

pub fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// Wireshark display filter for an IP address (`ip.addr` or `ipv6.addr`).
pub fn ip_filter(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v) => format!("ip.addr == {v}"),
        IpAddr::V6(v) => format!("ipv6.addr == {v}"),
    }
}

/// Wireshark display filter for the UDP datagrams from `src` to `dst`: an RTP stream by its
/// addresses, which Wireshark shows without RTP heuristics or SDP (`rtp.ssrc` matches only
/// where Wireshark decodes the datagrams as RTP, which it does not by default on a capture
/// without the SDP that set the stream up).
pub fn flow_filter(src: SocketAddr, dst: SocketAddr) -> String {
    let (s, d) = match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => (format!("ip.src == {s}"), format!("ip.dst == {d}")),
        (s, d) => (format!("ipv6.src == {s}"), format!("ipv6.dst == {d}")),
    };
    format!(
        "({s} && udp.srcport == {} && {d} && udp.dstport == {})",
        src.port(),
        dst.port()
    )
}

/// Wireshark display filter for a UDP address.
pub fn addr_filter(a: SocketAddr) -> String {
    format!("({} && udp.port == {})", ip_filter(a.ip()), a.port())
}
