//! `sipdiag extract`: the selected call, its linked Follow-Me leg and their media, cut out
//! of the captures as pcapng.
//!
//! Input: capture files and the focus flags (`--call-id`, `--number`, …, the selection of
//! `analyze --call-id X`: calls, roles, legs and [`crate::calls::focus`] as there).
//! Output: one pcapng file, a section per input that contributes a frame, with the
//! frames as stored (same timestamps, interfaces and options; [`super::pcapng_out`]).
//!
//! Three reads of each file keep memory flat: the first builds the calls and records
//! which frames carried each SIP message (the IP fragments and TCP segments too); the
//! second decodes every UDP datagram and keeps those to or from an address the selected
//! calls' SDP announced (`c=`/`m=` with the RTCP port after it, and ICE candidates)
//! within the call's time span and [`MARGIN`] either side, with all their fragments; the
//! third copies the frames kept. The first read builds the selected calls only, found
//! before it by `analyze` of the files read as a stream (several merged by time;
//! [`selected_streamed`]), so that what is held is the calls in progress and the selected
//! ones; `--in-memory` (and a file among several that cannot be read) holds every call
//! of the first read, then selects. Standard input cannot be read more than once and is
//! refused.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};

use crate::calls::focus::CallIds;
use crate::calls::legs::{infer_roles, link_legs};
use crate::calls::{Call, CallSet, NoCallIdKey};
use crate::capture::Timestamp;
use crate::capture::rewrite::NoComments;
use crate::cli::ExtractArgs;
use crate::net::{Decoder, Packet, Transport};
use crate::sip::SipMessage;
use crate::sip::sdp::Sdp;

use super::pcapng_out::{Input, Output, write_pcapng};
use super::{Sink, flow, scan_all};

/// Media is taken from this long before the call's first SIP message (ICE checks may
/// start as the offer leaves) to this long after its last one (RTP still in flight when
/// the BYE crosses it), in seconds.
pub(crate) const MARGIN: i64 = 2;

/// The calls, and which frames (per input file) carried each call's SIP messages.
#[derive(Default)]
struct Recorder {
    set: CallSet,
    /// By call key (Call-ID, or the made-up key of a message without one): (input file,
    /// frame) of every frame of its messages.
    frames: foldhash::HashMap<String, Vec<(usize, u64)>>,
    /// Only the calls with these keys, when given (the others are not looked at).
    only: Option<CallIds>,
}

impl Sink for Recorder {
    fn capture_start(&mut self, index: usize) {
        self.set.capture = index;
    }
    fn message(&mut self, m: SipMessage) {
        let key = match m.call_id() {
            Some(id) => id.to_string(),
            None => NoCallIdKey::of(&m).call_key(),
        };
        if self.only.as_ref().is_some_and(|only| !only.contains(&key)) {
            return;
        }
        let capture = self.set.capture;
        self.frames
            .entry(key)
            .or_default()
            .extend(m.frames().iter().map(|&f| (capture, f)));
        self.set.add(m);
    }
    fn garbage(&mut self) -> Option<super::Garbage> {
        self.set.take_garbage()
    }
    fn let_go(&mut self, gone: &mut dyn FnMut(&str)) {
        self.set.let_go_since(gone);
    }
}

/// An address the SDP of a selected call announced, and when its media may flow.
#[derive(Debug, Clone, Copy)]
struct MediaWindow {
    addr: SocketAddr,
    from: Timestamp,
    /// `None`: the call had not ended when the capture did.
    until: Option<Timestamp>,
}

impl MediaWindow {
    fn covers(&self, t: Timestamp) -> bool {
        t >= self.from && self.until.is_none_or(|u| t <= u)
    }
}

/// The media addresses of one SDP: each `m=` section's address and port, the RTCP port
/// after it (RFC 3550 §11) unless RTCP is multiplexed, and its ICE candidates. A port of
/// 0 (a refused stream) is no address.
fn sdp_addresses(sdp: &Sdp, out: &mut Vec<SocketAddr>) {
    for m in &sdp.media {
        if let Some(ip) = m.connection.or(sdp.connection)
            && m.port != 0
            && !ip.is_unspecified()
        {
            out.push(SocketAddr::new(ip, m.port));
            if !m.rtcp_mux {
                out.push(SocketAddr::new(ip, m.port.wrapping_add(1)));
            }
        }
        for c in &m.candidates {
            // Host names (mDNS `….local`) cannot be matched against packets.
            if let Ok(ip) = c.addr.parse::<IpAddr>()
                && c.port != 0
                && c.transport.eq_ignore_ascii_case("udp")
            {
                out.push(SocketAddr::new(ip, c.port));
            }
        }
    }
}

/// The media windows of a call: every offer and answer of its INVITE transactions.
fn media_windows(call: &Call, out: &mut Vec<MediaWindow>) {
    let margin = Timestamp::new(MARGIN, 0);
    let from = Timestamp::new(call.first_time.secs - margin.secs, call.first_time.nanos);
    let ended =
        call.bye_frame.is_some() || call.final_invite_status().is_some_and(|(s, _)| s >= 300);
    let until =
        ended.then(|| Timestamp::new(call.last_time.secs + margin.secs, call.last_time.nanos));
    let mut addrs = Vec::new();
    for t in &call.invites {
        for sdp in t.offer.iter().chain(&t.answer) {
            sdp_addresses(sdp, &mut addrs);
        }
    }
    addrs.sort();
    addrs.dedup();
    out.extend(
        addrs
            .into_iter()
            .map(|addr| MediaWindow { addr, from, until }),
    );
}

/// The UDP frames of one file that carry media of the windows (all fragments of each
/// datagram).
fn media_frames(path: &str, windows: &[MediaWindow]) -> anyhow::Result<Vec<u64>> {
    let mut by_addr: foldhash::HashMap<SocketAddr, Vec<MediaWindow>> = Default::default();
    for w in windows {
        by_addr.entry(w.addr).or_default().push(*w);
    }
    let mut frames = Vec::new();
    let mut on_packet = |p: Packet<'_>| {
        if let Packet::Datagram(d) = p
            && d.transport == Transport::Udp
        {
            let hit = |a: &SocketAddr| {
                by_addr
                    .get(a)
                    .is_some_and(|ws| ws.iter().any(|w| w.covers(d.time)))
            };
            if hit(&d.src) || hit(&d.dst) {
                frames.extend_from_slice(d.frames);
            }
        }
    };
    let mut decoder = Decoder::default();
    crate::capture::read_capture(path, |f| decoder.decode(f, &mut on_packet))?;
    decoder.finish(&mut on_packet);
    Ok(frames)
}

/// The keys of the calls the focus selects in the files given, found as `analyze` finds
/// them, as a stream ([`super::watch::focused_calls`]); `None` when the calls are to be
/// held instead.
fn selected_streamed(args: &ExtractArgs) -> anyhow::Result<Option<CallIds>> {
    let judge = crate::cli::JudgeArgs {
        xcc: args.xcc.clone(),
        pbx: args.pbx.clone(),
        ..Default::default()
    };
    super::watch::focused_calls(&judge, &args.focus, &args.captures)
}

pub(super) fn extract(args: &ExtractArgs) -> anyhow::Result<u8> {
    let focus = flow::focus(&args.focus)?;
    anyhow::ensure!(
        !focus.is_empty(),
        "extract needs a selection: --call-id ID or --number DIGITS (or --ip, --since, --until)"
    );
    // The calls first, then their frames.
    super::read_again(&args.captures, "extract")?;
    for c in &args.captures {
        anyhow::ensure!(
            !super::annotate::same_file(c, &args.output),
            "-o {}: that is one of the captures; write the extract to another file",
            args.output
        );
    }
    // Under --redact, as the capture's addresses: their tokens.
    let endpoints = super::analyze::endpoints;
    let (xcc, pbx) = (endpoints(&args.xcc)?, endpoints(&args.pbx)?);

    // The calls selected, found as `analyze` of the files finds them, as a stream.
    let selected = if args.in_memory {
        None
    } else {
        selected_streamed(args)?
    };
    // The files in the order of their first frames: a rotated set given in any order is
    // read, and written, as it was recorded (as given when a file's first frame cannot be
    // looked at: standard input).
    let captures = in_time_order(&args.captures);
    // First read: the calls (the selected ones, when known), and the frames of their
    // messages.
    let mut rec = Recorder {
        only: selected.clone(),
        ..Default::default()
    };
    let (mut reports, errors) = scan_all(&captures, &mut rec);
    rec.set.finish(&mut reports, &captures);
    if let Some(e) = errors.into_iter().next() {
        return Err(e.into());
    }
    let calls = &rec.set.calls;
    let keep = if selected.is_some() {
        vec![true; calls.len()]
    } else {
        let roles = infer_roles(calls, &xcc, &pbx);
        let legs = link_legs(calls, &roles);
        let keep = focus.select(calls, &legs);
        flow::check_selection(&focus, &keep)?;
        keep
    };
    let selected: Vec<&Call> = calls
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(c, _)| c)
        .collect();
    let mut per_file: Vec<BTreeSet<u64>> = vec![BTreeSet::new(); captures.len()];
    let mut windows = Vec::new();
    for c in &selected {
        for &(file, frame) in rec
            .frames
            .get(&c.call_id)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            per_file[file].insert(frame);
        }
        media_windows(c, &mut windows);
    }
    let sip_frames: usize = per_file.iter().map(BTreeSet::len).sum();

    // Second read: the media frames.
    if !windows.is_empty() {
        for (path, kept) in captures.iter().zip(&mut per_file) {
            kept.extend(media_frames(path, &windows)?);
        }
    }
    let total: usize = per_file.iter().map(BTreeSet::len).sum();

    // Third read: the copy, a section per file that has frames to give.
    let mut wanted: Vec<_> = per_file
        .iter()
        .map(|kept| move |n: u64| kept.contains(&n))
        .collect();
    let inputs = captures
        .iter()
        .zip(&mut wanted)
        .zip(&per_file)
        .filter(|(_, kept)| !kept.is_empty())
        .map(|((path, keep), _)| Input {
            path,
            keep,
            comments: Box::new(NoComments),
        })
        .collect();
    write_pcapng(&args.output, "-o", inputs, Output::default())?;
    let ids: Vec<&str> = selected.iter().map(|c| c.call_id.as_str()).collect();
    super::write_out(&format!(
        "{}: {total} frames ({sip_frames} SIP, {} media) of {} call(s): {}\n",
        args.output,
        total - sip_frames,
        ids.len(),
        ids.join(", ")
    ))?;
    Ok(0)
}

/// `paths` in the order of their first frames; as given when one's cannot be looked at.
fn in_time_order(paths: &[String]) -> Vec<String> {
    let firsts: Option<Vec<_>> = (paths.iter())
        .map(|p| crate::capture::first_frame_time(p))
        .collect();
    let mut paths = paths.to_vec();
    if let Some(firsts) = firsts {
        let mut order: Vec<_> = firsts.into_iter().zip(paths).collect();
        order.sort_by_key(|(first, _)| *first);
        paths = order.into_iter().map(|(_, p)| p).collect();
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// Of one file, the selected calls are found as `analyze` finds them, read as a
    /// stream: a Follow-Me second leg brings its first leg; a selection that meets no call
    /// fails as when every call is held.
    #[test]
    fn the_calls_of_one_file_are_selected_as_a_stream() {
        let path = format!(
            "{}/testdata/followme/many-calls.pcap",
            env!("CARGO_MANIFEST_DIR")
        );
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("x.pcapng").to_string_lossy().to_string();
        let args = |id: &str| {
            let argv = ["sipdiag", "extract", "-o", &out, "--call-id", id, &path];
            match crate::cli::Cli::try_parse_from(argv).unwrap().command {
                crate::cli::Command::Extract(args) => args,
                _ => unreachable!("parsed as extract"),
            }
        };
        let second = "516dfc03bb884876380ae5d8@127.0.0.20";
        super::super::watch::READINGS.with(|r| r.set(0));
        assert_eq!(extract(&args(second)).unwrap(), 0);
        assert!(super::super::watch::READINGS.with(|r| r.get()) >= 1);
        assert!(std::fs::metadata(&out).unwrap().len() > 1000);
        let selected = selected_streamed(&args(second)).unwrap().unwrap();
        assert_eq!(selected.len(), 2);
        assert!(selected.contains("516dfc03bb884876380ae5d8@127.0.0.20"));
        assert!(selected.contains("7a8703aba1c89160667956f2@127.0.0.10"));
        let err = selected_streamed(&args("no-such-call")).unwrap_err();
        assert!(
            err.to_string().contains("no call in the capture matches"),
            "{err}"
        );
    }

    fn addrs(sdp: &str) -> Vec<String> {
        let mut v = Vec::new();
        sdp_addresses(&crate::sip::sdp::parse(sdp.as_bytes()), &mut v);
        v.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn sdp_gives_media_rtcp_and_candidate_addresses() {
        let offer = "v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\n\
            m=audio 40000 RTP/AVP 8\r\n\
            m=video 0 RTP/AVP 96\r\n\
            m=audio 41000 RTP/SAVPF 111\r\nc=IN IP4 192.0.2.7\r\na=rtcp-mux\r\n\
            a=candidate:1 1 udp 2130706431 192.168.1.20 50000 typ host\r\n\
            a=candidate:2 1 udp 1694498815 203.0.113.9 61000 typ srflx raddr 192.168.1.20 rport 50000\r\n\
            a=candidate:3 1 tcp 1518280447 192.168.1.20 9 typ host tcptype active\r\n\
            a=candidate:4 1 udp 2130706431 3c1f0e2b-1d.local 50002 typ host\r\n";
        assert_eq!(
            addrs(offer),
            [
                // m= and the RTCP port after it (RFC 3550 §11); the refused video has none.
                "10.0.0.5:40000",
                "10.0.0.5:40001",
                // rtcp-mux: one port; UDP candidates with an address, not TCP or mDNS ones.
                "192.0.2.7:41000",
                "192.168.1.20:50000",
                "203.0.113.9:61000",
            ]
        );
        assert!(addrs("v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 4000 RTP/AVP 0\r\n").is_empty());
    }
}
